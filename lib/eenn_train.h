/*
 * eenn_train.h - training one EENN (nachos-method(7) §4, Algorithm 2), or
 * its backbone alone, as eenn-train runs it.
 *
 * Training runs as a list of phases over one model (eenn_plan); a phase
 * names its loss (eenn_phase_loss) and its epochs, gets its own optimiser
 * and schedule, and may restrict the trained tensors (freeze, and phase 1
 * leaves the idle exit heads alone). Phases of one group share model
 * selection: the weights of the group's lowest validation loss are put back
 * when its last phase ends (eenn_train_phases).
 */
#ifndef EENN_TRAIN_H
#define EENN_TRAIN_H

#include <stdint.h>

#include "arch.h"
#include "data.h"
#include "model.h"
#include "lat.h"
#include "nn.h"
#include "rec.h"
#include "super.h"
#include "train.h"

enum eenn_method { EENN_NACHOS, EENN_JOINT, EENN_BACKBONE, EENN_AUTO /* by record type */ };
extern const char *const eenn_method_names[];   /* NULL-terminated, without auto */

/* Phase kinds: the loss a phase trains with. */
enum eenn_phase_kind {
	EENN_PH_BACKBONE,            /* cross-entropy of the final exit alone */
	EENN_PH_EENN,                /* w1 L_acc + w2 L_cost + L_conf (§4 phase 2) */
	EENN_PH_PEAK,                /* phase 2's loss + w3 L_peak (phase 3) */
	EENN_PH_JOINT,               /* sum of every exit's cross-entropy (EDANAS, AEBNAS) */
};
extern const char *const eenn_phase_names[];

struct eenn_phase { int kind, epochs, group; };

/* eenn-train's options (eenn-train(1)). */
struct eenn_cfg {
	struct train_opts train;     /* the options both trainers take */
	const char *out, *init, *supernet, *exo;
	/* crop -1: DATA_CROP_DEFAULT of the record's resolution */
	int mu[3], nesterov, sched, crop, flip, method, bench, freeze;
	int shared;                  /* --eval shared: heads over cached features */
	long cache;                  /* training samples cached for them */
	int nocost, nopeak;
	double step_every, gamma;
	double w[3], macs_max, acc_min, support_frac; /* macs_max, acc_min: NAN if not given */
	struct lat_cost cost;        /* --cost latency: spent_i in ms, Mbar --lat-max */
	int nmean, nstd;
	double mean[DATA_MAX_CH], std[DATA_MAX_CH];
};

/* Per-phase figures for the result record. */
struct eenn_phase_stats {
	double loss, acc;            /* last epoch's training loss and final-exit accuracy */
	double best_vloss;           /* lowest validation loss (NAN: none) */
	int best_epoch;              /* its epoch within the phase, 1-based; 0: none */
};

/* Per-record training state. */
struct eenn_trainer {
	const struct eenn_cfg *cfg;
	struct train_ds *ds;
	struct model m;
	int C, R, K, B;              /* input channels, resolution, classes, exits */
	float *x;                    /* (C, batch, R, R) */
	int *y;                      /* (batch) */
	float *probs;                /* (batch, K) */
	float *dlog[MODEL_MAX_EXITS];/* (batch, nout[i]) */
	double spent[MODEL_MAX_EXITS];/* spent_i MACs (nachos-method(7) §2), or ms (--cost latency) */
	float *S;                    /* (K, B-1) support matrix of the current epoch */
	int32_t *sidx;               /* (ntr) support samples */
	struct nn_rng rng;           /* epoch order and augmentation */
	struct nn_rng srng;          /* support sets */
	struct train_best best;
	long steps;                  /* optimiser steps over all phases */
	/* Curves, one entry per epoch over all phases. */
	int nep;
	double *c_loss, *c_acc, *c_vloss, *c_vacc;
};

/* The phases of c->method (section "Phases" of eenn-train(1)) into ph
 * (room for 4); returns their count. Under --eval shared there is no
 * backbone phase: NACHOS's phases 2 and 3, or joint's, on the heads. */
int eenn_plan(struct eenn_phase *ph, const struct eenn_cfg *c);

/* A trainer for net (model_build flags) on ds with room for epochs_total
 * epochs of curves; weights are not initialised (eenn_init_weights). */
void eenn_trainer_init(struct eenn_trainer *t, const struct eenn_cfg *c, struct train_ds *ds,
    const struct arch_net *net, int flags, int epochs_total);
void eenn_trainer_free(struct eenn_trainer *t);

/* Weights from c->seed, then those of c->init or, with sn, of the
 * supernet with BN recalibrated on c->calib training samples (the exit
 * heads too under c->shared; fine-tuning keeps their initialisation);
 * returns the calibration samples used (0: none). */
int eenn_init_weights(struct eenn_trainer *t, const struct super *sn);

/* Loss of one batch of N for phase kind k after a forward: with dl (B
 * caller-zeroed buffers) its gradient, NULL entries where none; counts each
 * exit's correct predictions into correct (B); *macs (may be NULL) gets the
 * batch mean of C^ = sum_i w_i spent_i in NACHOS phases. */
double eenn_phase_loss(struct eenn_trainer *t, int k, int N, long *correct /* (B) */,
    float **dl, double *macs);

/* Phase loss, each exit's accuracy (B) and the mean C^ (NACHOS kinds, may
 * be NULL) over the n samples idx of d, evaluation mode; NAN when n = 0. */
double eenn_evaluate(struct eenn_trainer *t, int k, const struct data_set *d,
    const int32_t *idx /* (n) */, long n, double *acc /* (B) */, double *macs);

/* The np phases in turn, model selection per group; st (np) gets each
 * phase's figures. recno labels progress and errors. */
void eenn_train_phases(struct eenn_trainer *t, const struct eenn_phase *ph,
    struct eenn_phase_stats *st, int np, long recno);

/* --eval shared's training (the weights come from the supernet): the
 * backbone's features at every exit of c->cache training samples (drawn
 * from t->rng, no augmentation), computed once in eval mode, then the np
 * phases on the heads alone (eenn_plan's shared phases, TRAIN_HEADS) over
 * those cached features, each batch's gathered from the cache; phase 3's
 * support matrix from the cached samples through the heads. No model
 * selection (the validation split is not run per epoch): the last epoch's
 * weights stay. Returns the samples cached (0 when there was nothing to
 * train). */
long eenn_train_cached(struct eenn_trainer *t, const struct eenn_phase *ph,
    struct eenn_phase_stats *st, int np, long recno);

/* The EENN keys an EENN method needs: exit_spent from eec-place, equal to
 * the spent MACs of net; fails via rec_fail naming the key. */
void eenn_check_record(const struct rec_in *r, const msgpack_object *m,
    const struct arch_net *net, int method);

/* The exit-outputs file at path: the validation and test splits through
 * the trained model, with the EENN's id (record m of r) and the weights'
 * path wpath (or NULL). Exits EX_USAGE without a validation split. fig
 * (NULL for none) gets the figures the outputs hold, so the splits need not
 * run twice: each exit's accuracy on both splits and, with confidences, the
 * mean expected MACs sum_i w_i spent_i on validation (NAN without). */
struct eenn_exo_figs {
	double vacc[MODEL_MAX_EXITS], tacc[MODEL_MAX_EXITS], emacs;
};
void eenn_write_exo(struct eenn_trainer *t, const char *path, const struct rec_in *r,
    const msgpack_object *m, const char *wpath, struct eenn_exo_figs *fig);

/* The result key "phases": kind, epochs and figures of each phase. */
void eenn_put_phases(struct rec_out *o, const struct eenn_phase *ph,
    const struct eenn_phase_stats *st, int np);

/* --bench figures: steps timed training steps, inference batches and
 * batch-1 forwards (one thread) of net's backbone on random data. */
struct eenn_bench {
	double train_ips, infer_ips; /* samples per second */
	double latency_ms;           /* batch 1, one thread */
	double train_gflops;         /* 6 MACs per sample and step */
};
void eenn_bench(struct eenn_bench *b, const struct eenn_cfg *c, const struct arch_net *net);

#endif
