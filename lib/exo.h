/*
 * exo.h - the exit-outputs file (formats/exo.md): every sample's label and,
 * per exit of an EENN, its prediction and the scores every exit rule of
 * nachos-method(7) §5 needs, for one split. eenn-train writes it once; thresh-tune
 * tunes thresholds on it without running the network again.
 *
 * A file is a record stream of "exo" records, one per split ("val" and
 * "test"). Per-sample arrays are msgpack bin of little-endian int32 or
 * float32 (the writer's form); the reader also accepts plain arrays of
 * numbers, so small fixtures can be written as JSON and fed to json2rec.
 *
 * Writing from a trainer:
 *	struct exo val, test;
 *	exo_alloc(&val, "val", n_val, B, K);   (and the header fields)
 *	for each sample j: exo_fill(&val, j, label, logits, conf_logits);
 *	exo_write(path, &val, &test);          (temp file + rename)
 *	exo_free(&val); ...
 */
#ifndef EXO_H
#define EXO_H

#include <stdint.h>
#include <stdio.h>

#include "rec.h"

#define EXO_VERSION 1
#define EXO_MAX_EXITS 8
#define EXO_MAX_GENOME 128
#define EXO_MAX_SAMPLES 100000000L

struct exo {
	/* header */
	char split[8];                  /* "val" or "test" */
	char id[128];                   /* the EENN's "id" key, "" if none */
	char weights[512];              /* path of the weights, "" if none */
	int ngenome;
	int genome[EXO_MAX_GENOME];     /* the EENN record's "genome" */
	long n;                         /* N samples */
	int nexit;                      /* B, the final exit included */
	int classes;                    /* K >= 2 */
	long spent[EXO_MAX_EXITS];      /* spent_i MACs (nachos-method(7) §2) */
	long cost[EXO_MAX_EXITS];       /* cost_i MACs (Eq. 13) */
	int stage[EXO_MAX_EXITS];       /* backbone stage exit i follows, 5 = final */
	/* arrays; exit i of sample j at [i * n + j] */
	int32_t *label;                 /* (N) */
	int32_t *pred;                  /* (B, N) argmax of exit i's logits */
	float *conf;                    /* (B, N) c_i = sigmoid(s_i); c_B = 1 */
	float *cumw;                    /* (B, N) W_i = sum_{k<=i} w_k; W_B = 1 */
	float *maxp;                    /* (B, N) max softmax */
	float *margin;                  /* (B, N) top1 - top2 softmax */
	float *entropy;                 /* (B, N) 1 - H(p)/log K */
};

/* Allocate the arrays (zeroed) and set split, n, nexit, classes; the
 * caller fills the other header fields. Exits EX_SOFTWARE when out of
 * memory, EX_USAGE-free: bad sizes are an internal error. */
void exo_alloc(struct exo *e, const char *split, long n, int nexit, int classes);
void exo_free(struct exo *e);

/* Exit i of sample j from that exit's K class logits and its confidence
 * logit s_i (NULL: no confidence head, c_i = 0; ignored for the final exit,
 * c_B = 1). Exits must be filled in order 0..B-1 for a sample, since W_i
 * uses c_0..c_i. eenn-infer calls this as it runs, so its scores equal
 * the stored ones bit for bit. */
void exo_fill_exit(struct exo *e, long j, int i, const float *logits /* (K) */,
    const float *conf_logit);
/* Sample j at every exit: label and logits of all exits. */
void exo_fill(struct exo *e, long j, int label, const float *logits /* (B, K) */,
    const float *conf_logits /* (B-1), or NULL */);

/* Write both splits to path through cli_out_open/cli_out_commit. */
void exo_write(const char *path, const struct exo *val, const struct exo *test);

/* Parse record m of r (an exo record) into e (allocating its arrays);
 * any fault fails via rec_fail naming the file, record and key. */
void exo_parse(struct exo *e, const struct rec_in *r, const msgpack_object *m);
/* Read the records of both splits from path and check that they describe
 * the same EENN; exits EX_NOINPUT / EX_DATAERR naming the file. */
void exo_load(struct exo *val, struct exo *test, const char *path);
/* Read only the record of one split. */
void exo_read(struct exo *e, const char *path, const char *split);

#endif
