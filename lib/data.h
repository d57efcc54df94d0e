/*
 * data.h - image classification datasets: loading (IDX, CIFAR-10/100
 * binary, SVHN's MATLAB files, folders of PNG and JPEG images, the raw
 * packed format of formats/dataset.md), the seeded
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
	char format[16];     /* "idx", "cifar10", "cifar100", "svhn", "folder", "raw" */
	long n;
	int c, h, w, classes;
	uint8_t *x;          /* (n, c, h, w) */
	int32_t *y;          /* (n), in [0, classes) */
	char **class_names;  /* (classes) when the dataset names them, else NULL */
	int resized;         /* 1: images were resized to data_opts.res */
};

/* What loading may depend on. Image folders are resized to res and read
 * as grey when in_ch is 1 (as grey too when every image is grey); a
 * folder's image that cannot be decoded fails the load unless skip_bad,
 * which leaves it out and counts it on stderr. Other formats ignore all
 * three. */
struct data_opts {
	int res;             /* the network resolution */
	int in_ch;           /* the network's input channels */
	int skip_bad;
};
#define DATA_OPTS_DEFAULT { .res = 32, .in_ch = 3, .skip_bad = 0 }

/* Load the train and test splits of the dataset in dir, detecting its
 * format from the file names (see formats/dataset.md); o NULL means
 * DATA_OPTS_DEFAULT (what data_load uses). Exits EX_NOINPUT when no
 * dataset is found, EX_DATAERR on a malformed file. */
void data_load_opts(struct data_set *train, struct data_set *test, const char *dir,
    const struct data_opts *o);
void data_load(struct data_set *train, struct data_set *test, const char *dir);
void data_free(struct data_set *d);

/* The formats data_load tries after IDX, CIFAR and raw: each returns 0
 * when dir does not hold its files, else loads them (exiting as data_load
 * does on bad ones). SVHN: train_32x32.mat and test_32x32.mat (libmatio).
 * Folder: dir/train/CLASS/IMAGE and dir/test (or val, valid)/CLASS/IMAGE,
 * decoded once into a cache (dir/.nachos-cache, else the user's cache
 * directory) reused while the folders' names, sizes and mtimes stay. */
int data_load_svhn(struct data_set *train, struct data_set *test, const char *dir);
int data_load_folder(struct data_set *train, struct data_set *test, const char *dir,
    const struct data_opts *o);
/* SVHN's X (h, w, c, n) column-major uint8 and y (n) with 10 for the digit
 * 0, from path; exits EX_DATAERR naming the file and variable. */
void data_load_mat(struct data_set *d, const char *path);

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
/* The trainers' pad at resolution R: an eighth of the side (CIFAR's 4 at
 * 32), so a shift moves the same share of a larger image. */
#define DATA_CROP_DEFAULT(R) ((R) / 8)

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
