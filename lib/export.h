/*
 * export.h - an EENN made ready to leave the project (eenn-export(1),
 * formats/export.md): the schedule of schedule.h with BN folded into the
 * float weights, the int8 form quantised after calibration (quant.h), an
 * interpreter that runs either form with the kernels of export_kern.inc,
 * and the writer of the standalone C99 code that runs the same kernels in
 * the same order.
 *
 *	struct xnet *x = xnet_new(model, img_ch, img_h, img_w, norm, rule, eps, conf);
 *	xnet_calibrate(x, images, n);      (int8: ranges from float runs)
 *	xnet_quantise(x);
 *	xnet_predict(x, SCHED_INT8, img, &cls, &exit);
 *	xnet_write_c(x, SCHED_F32, dir, name);
 *	xnet_free(x);
 */
#ifndef EXPORT_H
#define EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "data.h"
#include "model.h"
#include "quant.h"
#include "rec.h"
#include "result.h"
#include "schedule.h"

/* calibration ranges of an op */
enum { XR_OUT, XR_PRE, XR_POOL, XR_RED, XR_EXP, XR_SIG, XR_N };

struct xop {
	/* f32, BN folded: conv (co, ci, k, k), dw (c, k, k), linear (co, ci);
	 * SK_SE: w, b the reduce (mid, c), w2, b2 the expand (c, mid) */
	float *w, *b, *w2, *b2;
	/* w, w2 packed for the kernels (nn_b1_pack) */
	float *wp, *w2p;
	/* int8 (TFLite convention, quant.h) */
	int8_t *qw, *qw2;
	int32_t *qb, *qb2, *mul, *mul2, *sh, *sh2;   /* per output channel */
	struct qparam q_out;     /* the output as later ops read it */
	struct qparam q_pre;     /* a table activation's input (conv output) */
	struct qparam q_pool, q_red, q_exp, q_sig;   /* SK_SE vectors */
	int8_t lut[256];         /* the activation table (SK_SE: h-sigmoid) */
	int8_t clut[256];        /* the confidence's sigmoid (conf linear) */
	int32_t m[3], s[3];      /* scalar requantisations: SK_GAP m0; SK_SE gap m0,
	                          * scale m1; SK_ADD input m0, residual m1, output m2 */
	double lo[XR_N], hi[XR_N];
};

/* The sigmoid table's output: TFLite's int8 logistic, s = 1/256, z = -128. */
#define XNET_CONF_SCALE (1.0 / 256)
#define XNET_CONF_ZP (-128)

struct xnet {
	struct sched s;
	struct xop op[SCHED_MAX_OPS];
	int img_ch, img_h, img_w;        /* the raw image (c, h, w) */
	float tab[DATA_MAX_CH * 256];    /* pixel -> normalised value, per channel */
	int8_t qtab[DATA_MAX_CH * 256];  /* the same quantised (op 0's q_out) */
	int rule;                        /* enum thr_rule */
	double eps[ARCH_EXITS];          /* B-1 thresholds */
	int conf;                        /* exits use their confidence output */
	int calibrated, quantised;
	long ncalib;
};

/* The network of m (weights loaded) for raw images (img_ch, img_h, img_w)
 * normalised by nm, deciding exits by rule (enum thr_rule) and eps (B-1);
 * conf 0: confidences are 0 (untrained, or no confidence output). */
struct xnet *xnet_new(const struct model *m, int img_ch, int img_h, int img_w,
    const struct data_norm *nm, int rule, const double *eps, int conf);
void xnet_free(struct xnet *x);

/* Float runs of every segment over n images (n, c, h, w) record each
 * tensor's range; then xnet_quantise sets the int8 form from them. */
void xnet_calibrate(struct xnet *x, const uint8_t *img, long n);
void xnet_quantise(struct xnet *x);

/* One image with early exit; returns the class, *exit the exit (0-based).
 * logits (or NULL) gets the firing exit's outputs (nout floats; int8:
 * dequantised). arena: sched_arena_bytes of the dtype, caller's. */
int xnet_predict(const struct xnet *x, enum sched_dtype dt, void *arena,
    const uint8_t *img, int *exit, float *logits);
/* Segment e alone (segments before it already run on this arena; e = 0
 * starts from img): its logits (nout floats, dequantised for int8) and
 * the confidence (0 without one). */
void xnet_segment(const struct xnet *x, enum sched_dtype dt, void *arena,
    const uint8_t *img, int e, float *logits, float *conf);

/* The int8 parameters of buffer b as op i reads it: those of the last op
 * before i that wrote it (in-place ops change them). */
const struct qparam *xnet_qof(const struct xnet *x, int i, int b);

/* Write dir/name.h, dir/name.c and dir/name_main.c (the harness) for dt;
 * errors (EX_CANTCREAT, EX_IOERR) name the file. */
void xnet_write_c(const struct xnet *x, enum sched_dtype dt, const char *dir,
    const char *name);

/* eenn-export's options (export_rec.c). */
struct export_opts {
	const char *out;              /* -o: the directory holding one per record */
	const char *name;             /* NAME of the generated files and API */
	int dtypes;                   /* 1 << enum sched_dtype of each to write */
	long calib;                   /* int8 calibration images */
	long calib_seed;
	long eval;                    /* test images the interpreter runs (0: none) */
	int onnx;                     /* also onnx/seg*.onnx (onnx_export.h) */
	const char *cc;               /* --cc: compiler command sizing NAME.c (or NULL) */
	struct result_opts ro;        /* data, split, normalisation, rule, thresholds */
};
/* Export the EENN of result record m (record recno of r) into
 * op->out/<id>/<dtype>/ (and onnx/) and write the record back with the figures
 * (formats/result.md). Bad records fail via rec_fail before anything is
 * written; the directory appears whole or not at all. s: the dataset of
 * the previous record, reused when the next asks for the same. */
void export_record(struct rec_out *o, const struct export_opts *op, struct result_data *s,
    const struct rec_in *r, const msgpack_object *m, long recno);

/* The kernels' source text (export_kern.inc, export_kern_vec.inc), copied
 * into every NAME.c. */
extern const char export_kern_src[], export_kern_vec_src[];

#endif
