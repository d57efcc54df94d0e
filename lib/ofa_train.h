/*
 * ofa_train.h - training the elastic OFA MobileNetV3 supernet (super.h) as
 * ofa-train runs it: the sandwich rule with in-place knowledge
 * distillation, progressive shrinking's phases, an epoch with its BN
 * recalibration and checkpoint, and resuming from that checkpoint.
 *
 * A step draws one batch and trains on it, one after the other, the
 * largest subnet (cross-entropy), the smallest and cfg->random uniformly
 * drawn subnets (cross-entropy plus kd times the cross-entropy against the
 * largest subnet's softmax); each is extracted from the supernet, run
 * forward and backward, and its gradients are added into the supernet's
 * (super_backprop); then one SGD step updates the supernet. After every
 * epoch the largest subnet's BN statistics are recalibrated and stored, its
 * validation accuracy measured, and the supernet written with the
 * optimiser state, so a resumed run continues at the next epoch.
 *
 * With exit heads (super.h; not under --no-exits), every subnet trained
 * also has exits, all four for the largest and the smallest, a uniformly
 * drawn nonempty set for the random ones, placed by Algorithm 1, and its
 * loss adds eel.h's L_ce + L_conf of the intermediate exits (each head's
 * cross-entropy and its confidence's class-balanced BCE) to the final
 * exit's; the gradients reach the heads of the windows placed and the
 * backbone alike.
 *
 * ps (f, k, d epochs) puts progressive shrinking's phases first: the full
 * network alone, then elastic kernel, then kernel and depth, each elastic
 * phase by the same sandwich over its own choices; the middle channels are
 * sorted by importance before expand becomes elastic.
 */
#ifndef OFA_TRAIN_H
#define OFA_TRAIN_H

#include <stdint.h>

#include "arch.h"
#include "ckpt.h"
#include "cli.h"
#include "model.h"
#include "opt.h"
#include "rng.h"
#include "super.h"
#include "train.h"

/* ofa-train's settings (ofa-train(1)). */
struct ofa_cfg {
	struct train_opts train;     /* the options both trainers take */
	const char *out, *extract;
	int preset, epochs, random, res, in_ch, resume, eval, noexits;
	int ps[3];                   /* progressive shrinking: full, kernel, depth epochs */
	double kd, width;
};

/* Elastic dimensions by level (progressive shrinking's phases): none (the
 * full network), kernel, kernel and depth, every one. */
enum ofa_level { OFA_LV_FULL, OFA_LV_KERNEL, OFA_LV_DEPTH, OFA_LV_ALL };

/* The level of epoch e under c->ps. */
int ofa_level(const struct ofa_cfg *c, int e);

/* A uniformly drawn subnet of s among the dimensions elastic at level lv
 * (OFA's sampler: each gene independently, rng_below; with s's exit heads
 * also each exit bit, at least one on), or with r NULL the smallest at that
 * level (every exit on). */
void ofa_sample(struct arch *a, const struct super *s, int lv, struct nn_rng *r);

/* The three subnets the result reports: 0 all-min, 1 mid (k5 e4 d3), 2
 * all-max. */
extern const char *const ofa_probe_names[];
void ofa_probe_arch(struct arch *a, const struct super *s, int which);

/* A model of arch a for batch B extracted from s, BN recalibrated on the nc
 * training samples cidx of ds: with its exits when s has heads and a is not
 * an AEBNAS arch, else the backbone alone. */
void ofa_subnet(struct model *m, const struct super *s, const struct arch *a, int B,
    const struct train_ds *ds, const int32_t *cidx /* (nc) */, long nc);

struct ofa_trainer {
	const struct ofa_cfg *c;
	struct train_ds *ds;
	struct super s;
	struct opt_sgd om, ok, oh;   /* the weights', the matrices' and the heads' optimisers */
	struct opt_seg *seg, kseg, *hseg;
	int nseg, nhseg;
	struct model mmax, mmin;     /* built once; random subnets per step */
	float *x;                    /* (C, batch, R, R) */
	float *soft, *probs, *dlog;  /* (batch, K) each */
	float *dlx[MODEL_MAX_EXITS]; /* (batch, K + 1): intermediate exits' gradients */
	int *y;                      /* (batch) */
	int C, R, K, epoch;          /* epochs done */
	double wall;                 /* training seconds over every run */
	double *c_loss, *c_vacc;     /* (epochs + 1) */
};

/* Optimisers and buffers for t->s (built or opened by the caller) on ds. */
void ofa_trainer_init(struct ofa_trainer *t, const struct ofa_cfg *c, struct train_ds *ds);
void ofa_trainer_free(struct ofa_trainer *t);

/* One epoch of spe steps under the schedule sc, progress into p, then the
 * BN recalibration, validation and checkpoint (ofa_save). */
void ofa_run_epoch(struct ofa_trainer *t, struct cli_progress *p, const struct opt_sched *sc,
    long spe);

/* The supernet, the optimiser state and the training state into c->out. */
void ofa_save(struct ofa_trainer *t);

/* The split, seed, resolution and input channels of the run that wrote
 * checkpoint ck (--extract calibrates on the same training samples and
 * reports on the same validation split, an image folder decoded alike);
 * every setting of that run (--resume: they must not
 * change in the middle of a run); and its optimiser and training state. */
void ofa_split_cfg(struct ofa_cfg *c, struct ckpt *ck);
void ofa_resume_cfg(struct ofa_cfg *c, struct ckpt *ck);
void ofa_resume_state(struct ofa_trainer *t, struct ckpt *ck);

#endif
