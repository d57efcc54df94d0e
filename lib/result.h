/*
 * result.h - what a result record says about running its network again:
 * the dataset split and normalisation it was trained with, the exit rule
 * and thresholds thresh-tune chose, whether its weights are the record's
 * network, whether its confidence outputs were trained. eenn-infer and
 * eenn-export read records through these, options overriding keys.
 */
#ifndef RESULT_H
#define RESULT_H

#include "arch.h"
#include "data.h"
#include "exo.h"
#include "rec.h"
#include "thr.h"
#include "train.h"

/* eenn-train's defaults, so a result record without these keys gets the
 * split it was trained with */
#define RESULT_DEF_DATA "/usr/share/datasets/fashion-mnist"
#define RESULT_DEF_VAL_FRAC 0.1
#define RESULT_DEF_SPLIT_SEED 1

/* Options over the record's keys: NULL, -1, NAN or a count of 0 for none. */
struct result_opts {
	const char *data;
	long subset, split_seed;
	double val_frac;
	int nmean, nstd;
	double mean[DATA_MAX_CH], std[DATA_MAX_CH];
	int skip_bad;                 /* --skip-bad */
	int rule;                     /* enum thr_rule, -1: the record's */
	int neps;
	double eps[EXO_MAX_EXITS];
};
/* All unset. */
void result_opts_init(struct result_opts *o);

/* Their command-line options, the same in every tool: RESULT_LONGOPTS goes
 * into a getopt_long table (<getopt.h>), result_opt parses one; it
 * returns 0 for a code that is not one of them, exits EX_USAGE on a bad
 * value. */
enum { RESULT_O_THR = 1000, RESULT_O_RULE, RESULT_O_DATA, RESULT_O_VAL, RESULT_O_SUBSET,
	RESULT_O_SSEED, RESULT_O_MEAN, RESULT_O_STD };
#define RESULT_LONGOPTS \
	{ "thresholds", required_argument, NULL, RESULT_O_THR }, \
	{ "rule", required_argument, NULL, RESULT_O_RULE }, \
	{ "data", required_argument, NULL, RESULT_O_DATA }, \
	{ "val-frac", required_argument, NULL, RESULT_O_VAL }, \
	{ "subset", required_argument, NULL, RESULT_O_SUBSET }, \
	{ "split-seed", required_argument, NULL, RESULT_O_SSEED }, \
	{ "mean", required_argument, NULL, RESULT_O_MEAN }, \
	{ "std", required_argument, NULL, RESULT_O_STD }
int result_opt(struct result_opts *o, int code, const char *arg);

/* The dataset of the last record, kept while the next asks for the same
 * (an image folder: at the same resolution and input channels). */
struct result_data {
	char dir[4096];
	long subset, split_seed;
	double val_frac;
	int loaded;
	struct train_ds ds;           /* the trainer's split; ds.nm is set per record */
	struct data_norm fit;         /* the normalisation fitted on its train part */
};

void result_data_free(struct result_data *s);
/* The dataset and split settings: options, else the record's keys (as
 * eenn-train names its options), else eenn-train's defaults; the record's
 * split sizes, when present, must be the ones found here, and the net must
 * fit the dataset. The normalisation: the options', else the record's
 * norm_mean/norm_std (what eenn-train used), else refitted on the train
 * split as it did. */
void result_load_data(struct result_data *s, const struct result_opts *op,
    const struct rec_in *r, const msgpack_object *m, const struct arch_net *net);

/* The record, when it describes a network, must describe the checkpoint's
 * (a, read from wpath), as arch_genome_mismatch allows. */
void result_check_arch(const struct rec_in *r, const msgpack_object *m, const struct arch *a,
    const char *wpath);
/* Joint training (eenn-train --method joint) leaves a NACHOS head's
 * confidence output untrained: its exits use c = 0 instead. */
int result_joint(const msgpack_object *m);
/* Rule and thresholds (nint = B-1): options, else the record's
 * (thresh-tune's keys); missing thresholds fail. */
enum thr_rule result_rule(const struct result_opts *op, const struct rec_in *r,
    const msgpack_object *m);
void result_eps(double *eps, const struct result_opts *op, const struct rec_in *r,
    const msgpack_object *m, int nint);

#endif
