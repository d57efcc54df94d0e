/*
 * data.h - image classification datasets: loading (IDX, CIFAR-10/100
 * binary, the raw packed format of formats/dataset.md), the seeded
 * stratified train/validation split and subset, per-channel normalisation,
 * and batches made straight into the engine's channel-major layout with
 * zero padding to the network resolution, random crop and flip.
 *
 * Images stay uint8 in memory, (n, c, h, w); a batch is converted to float
 * on the fly, so a whole dataset costs one byte per pixel.
 */
#ifndef DATA_H
#define DATA_H

#include <stdint.h>

#include "rng.h"

#define DATA_MAX_CH 16

struct data_set {
	char format[16];     /* "idx", "cifar10", "cifar100", "raw" */
	long n;
	int c, h, w, classes;
	uint8_t *x;          /* (n, c, h, w) */
	int32_t *y;          /* (n), in [0, classes) */
};

/* Load the train and test splits of the dataset in dir, detecting its
 * format from the file names (see formats/dataset.md). Exits EX_NOINPUT
 * when no dataset is found, EX_DATAERR on a malformed file. */
void data_load(struct data_set *train, struct data_set *test, const char *dir);
void data_free(struct data_set *d);

/* Read one file of a format (plain or gzip); exit as data_load does.
 * data_load_idx reads an images file (idx3) and a labels file (idx1). */
void data_load_idx(struct data_set *d, const char *images, const char *labels);
void data_load_raw(struct data_set *d, const char *path);

/* Split largest-remainder quotas: q[k] for each class k so that
 * sum q = total and q[k] is proportional to count[k] (ties go to the
 * lower class). total <= sum count. */
void data_quota(long *q /* (K) */, const long *count /* (K) */, int K, long total);

/* Seeded stratified split of d: when subset > 0, first keep a stratified
 * subset of that many samples; then put round(val_frac * n) of them,
 * stratified, into the validation set. *tr and *va are malloc'd index
 * lists, each sorted ascending; the two are disjoint. Training images
 * come from the head of each class's seeded order and validation images
 * from its tail, so two splits with the same seed (a supernet's on 10000
 * images, a candidate's on 12000) keep each other's validation images out
 * of training whenever one's training and the other's validation quota
 * fit in the class together. */
void data_split(int32_t **tr, long *ntr, int32_t **va, long *nva,
    const struct data_set *d, long subset, double val_frac, uint64_t seed);

/* Per-channel normalisation: x' = (x/255 - mean) / std. */
struct data_norm { int c; float mean[DATA_MAX_CH], std[DATA_MAX_CH]; };
/* Mean and (population) standard deviation over the samples idx of d. */
void data_norm_fit(struct data_norm *nm, const struct data_set *d,
    const int32_t *idx /* (n) */, long n);

/* Augmentation: random crop of the padded image, pad pixels each side
 * (0 = none), and a horizontal flip with probability 1/2. */
struct data_aug { int pad; int flip; };

/*
 * Make a batch of the N samples idx of d: x (C, N, R, R) normalised, the
 * image centred in the R x R frame with zero (after normalisation) around
 * it; aug (NULL for none) draws each sample's crop offset and flip from rng
 * in sample order, so a batch depends only on the seed. C may be the
 * dataset's channel count, or 3 for a one-channel dataset (the grey
 * channel repeated, normalised alike). y (N) gets the labels.
 */
void data_batch(float *x /* (C, N, R, R) */, int *y /* (N) */,
    const struct data_set *d, const int32_t *idx /* (N) */, int N, int C, int R,
    const struct data_norm *nm, const struct data_aug *aug, struct nn_rng *rng);

#endif
