/*
 * infer.h - running a trained EENN on a dataset split: every exit on every
 * sample into an exit-outputs file (what eenn-train and eenn-infer
 * --write-exo write, thresh-tune reads), and the real early-exit run
 * (nachos-method(7) §5), where a sample stops at the first exit whose rule
 * fires and nothing after that exit is computed.
 */
#ifndef INFER_H
#define INFER_H

#include <stdint.h>

#include "data.h"
#include "exo.h"
#include "model.h"
#include "thr.h"

/* One split to run: the n samples idx of d, normalised by nm. */
struct infer_split {
	const char *name;             /* "val" or "test" */
	const struct data_set *d;
	const int32_t *idx;           /* (n) */
	long n;
	const struct data_norm *nm;
};

/* Allocate e for n samples of split and fill the header from m's network:
 * genome, exits, spent_i and cost_i MACs, stages. id and weights are the
 * caller's. */
void infer_exo_init(struct exo *e, const char *split, long n, const struct model *m);

/* Every exit of m on every sample of sp, evaluation mode, batches of
 * m->max_batch, into e (infer_exo_init'ed for sp->n samples). conf: use the
 * NACHOS heads' confidence output (0 when training left it untrained).
 * what (or NULL: quiet) labels the progress on stderr. */
void infer_all_exits(struct exo *e, struct model *m, const struct infer_split *sp, int conf,
    const char *what);

struct infer_res {
	long n, correct, count[MODEL_MAX_EXITS], mismatch;
	long exit_macs[MODEL_MAX_EXITS];  /* engine's per-sample count, -1: none left */
	double macs_run;                  /* over every sample */
	double secs;                      /* inference only */
	double lat_mean, lat_p50, lat_p99;/* per sample, batches of one only */
	double lat_min;               /* the fastest sample: a shared machine's preemptions only add */
};

/*
 * The early-exit run over the first n samples of sp: batches of up to
 * m->max_batch samples; at each exit every sample still in the batch gets
 * its scores (exo_fill_exit, so they equal the stored exit outputs' bit for
 * bit at the same batch) and leaves when rule fires with threshold eps[i];
 * the rest are compacted (model_step_keep) and go on to the next exit. chk
 * (or NULL): exit outputs to compare with sample by sample; res->mismatch
 * counts the samples that leave elsewhere or predict otherwise. what labels
 * the progress on stderr.
 */
void infer_early_exit(struct infer_res *res, struct model *m, const struct infer_split *sp,
    long n, int conf, enum thr_rule rule, const double *eps /* (B-1) */,
    const struct exo *chk, const char *what);

#endif
