/*
 * train.h - what the trainers (eenn-train, ofa-train) share: the dataset
 * loaded and split once (train / validation from the training files,
 * stratified and seeded; the test files whole), the final-exit evaluation
 * loop, the list of trainable tensors for the optimiser, the calibration
 * set for BN recalibration, numbered output paths and curve keys, and the
 * best-validation snapshot that model selection keeps.
 */
#ifndef TRAIN_H
#define TRAIN_H

#include <stdint.h>

#include "data.h"
#include "model.h"
#include "opt.h"
#include "rec.h"

struct train_ds {
	struct data_set tr, te;
	int32_t *itr, *iva, *ite;    /* (ntr), (nva) into tr; (nte) into te */
	long ntr, nva, nte;
	struct data_norm nm;         /* fitted on the train split */
};

/*
 * The options both trainers take (eenn-train(1), ofa-train(1)), with the
 * same names, ranges and meaning. TRAIN_LONGOPTS goes into a getopt_long
 * table (which needs <getopt.h>); train_opt takes what getopt_long returns.
 */
struct train_opts {
	const char *data;            /* --data: the dataset directory */
	int batch, calib, threads;
	long subset, seed, split_seed;
	double lr, wd, momentum, warmup, clip, val_frac;
	unsigned given;              /* bit (o - TRAIN_O_DATA) set for each option o given */
};
enum { TRAIN_O_DATA = 0x2000, TRAIN_O_BATCH, TRAIN_O_CALIB, TRAIN_O_THREADS, TRAIN_O_SUBSET,
    TRAIN_O_SEED, TRAIN_O_SPLIT_SEED, TRAIN_O_LR, TRAIN_O_WD, TRAIN_O_MOMENTUM,
    TRAIN_O_WARMUP, TRAIN_O_CLIP, TRAIN_O_VAL_FRAC };
#define TRAIN_GIVEN(o, opt) ((o)->given >> ((opt) - TRAIN_O_DATA) & 1)
#define TRAIN_LONGOPTS \
	{ "data", required_argument, NULL, TRAIN_O_DATA }, \
	{ "batch", required_argument, NULL, TRAIN_O_BATCH }, \
	{ "calib", required_argument, NULL, TRAIN_O_CALIB }, \
	{ "threads", required_argument, NULL, TRAIN_O_THREADS }, \
	{ "subset", required_argument, NULL, TRAIN_O_SUBSET }, \
	{ "seed", required_argument, NULL, TRAIN_O_SEED }, \
	{ "split-seed", required_argument, NULL, TRAIN_O_SPLIT_SEED }, \
	{ "lr", required_argument, NULL, TRAIN_O_LR }, \
	{ "wd", required_argument, NULL, TRAIN_O_WD }, \
	{ "momentum", required_argument, NULL, TRAIN_O_MOMENTUM }, \
	{ "warmup", required_argument, NULL, TRAIN_O_WARMUP }, \
	{ "clip", required_argument, NULL, TRAIN_O_CLIP }, \
	{ "val-frac", required_argument, NULL, TRAIN_O_VAL_FRAC }
/* Returns 1 when c is one of these options (arg parsed into o; a bad value
 * exits EX_USAGE naming the option), 0 when it is not. */
int train_opt(struct train_opts *o, int c, const char *arg);

/* Load the dataset in dir, split it (data_split with subset, val_frac,
 * seed) and fit the normalisation on the train split; exits EX_USAGE when
 * no training sample is left. */
void train_load_data(struct train_ds *ds, const char *dir, long subset, double val_frac,
    uint64_t split_seed);
void train_free_data(struct train_ds *ds);
/* Replace the fitted normalisation by given per-channel values (n = 0:
 * keep); exits EX_USAGE naming opt when n is not the dataset's channels. */
void train_set_norm(struct train_ds *ds, const char *opt, const double *mean, int nmean,
    const double *std, int nstd);
/* The normalisation used, as the result keys norm_mean and norm_std, so
 * eenn-infer can use the very same. */
void train_put_norm(struct rec_out *o, const struct train_ds *ds);

/* Can a network of in_ch input channels and classes outputs run on the
 * dataset (loaded from dir)? NULL if so, else the record key at fault with
 * the reason in why. Grey images feed a 3-channel network too. */
const char *train_fits(char *why, size_t len, const struct train_ds *ds, const char *dir,
    int in_ch, int classes);

/* Index of the largest of r[0..K-1], the first on ties. */
int train_argmax(const float *r /* (K) */, int K);

/* Mean cross-entropy and accuracy of m's final exit over the samples idx
 * of d, evaluation mode, batches of m->max_batch; NAN when n = 0. */
void train_evaluate(struct model *m, const struct train_ds *ds, const struct data_set *d,
    const int32_t *idx /* (n) */, long n, double *loss, double *acc);

/* Which trainable tensors train_segments lists. */
enum train_which {
	TRAIN_ALL,                   /* every one */
	TRAIN_HEADS,                 /* the exit heads and the final head: every tensor
	                              * outside first_conv and blocks, what
	                              * model_backward_heads reaches */
	TRAIN_NO_EXITS,              /* the backbone and the final head (a single-exit
	                              * phase: idle exit heads must not decay) */
};
/* The optimiser segments of m's trainable tensors of kind which. seg has
 * room for m->ntensor entries; returns the count. */
int train_segments(struct opt_seg *seg, const struct model *m, enum train_which which);

/* Phase 3's support set and matrix (nachos-method(7) §4): draw a class-balanced set of
 * round(frac * ntr / K) training samples per class (eel_support_sample with
 * rng; fewer when a class has fewer), run m on it in evaluation mode and
 * fill S[j][i], the accuracy of intermediate exit i on the support samples
 * of class j (eel_support_matrix). m has B = m->nexit >= 2 exits. idx
 * (room for ntr) receives the samples drawn; returns their count. */
long train_support(float *S /* (K, B-1) */, int32_t *idx /* (ntr) */, struct model *m,
    const struct train_ds *ds, double frac, struct nn_rng *rng);

/* BN calibration set: the first min(n, ntr) training samples of a shuffle
 * seeded by seed; *idx is malloc'd (ntr). Returns the count. */
long train_calib_set(int32_t **idx, const struct train_ds *ds, long n, uint64_t seed);

/* Output path from a template: with %d the record number in its place;
 * without, one record only (a second exits EX_USAGE naming opt). */
char *train_weights_path(const char *opt, const char *tmpl, long recno);

/* key: an array of n numbers, nil where not finite. */
void train_put_curve(struct rec_out *o, const char *key, const double *v, int n);

/* Model selection: the weights (m->param, BN statistics included) of the
 * lowest validation loss seen since train_best_reset. */
struct train_best {
	double loss;                 /* INFINITY before the first update */
	int epoch;                   /* the epoch count given with it, -1 none */
	long n;
	float *param;                /* (n) */
};
void train_best_init(struct train_best *b, const struct model *m);
void train_best_free(struct train_best *b);
void train_best_reset(struct train_best *b);
/* Keep m's weights when loss is lower than the best so far (a NAN loss
 * never is); returns 1 when kept. */
int train_best_update(struct train_best *b, const struct model *m, double loss, int epoch);
/* Put the kept weights back into m; returns 0 (nothing done) if none. */
int train_best_restore(const struct train_best *b, struct model *m);

#endif
