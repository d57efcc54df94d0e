/*
 * nn_b1.c - batch-1 inference of a convolution and its BN: the float
 * kernels of the exported C (export_kern.inc, export_kern_vec.inc: the
 * one text eenn-export pastes into NAME.c) on weights with BN folded in,
 * packed as those kernels read them. The engine's own kernels are built
 * for batches (im2col and one GEMM over the batch, depthwise over a
 * batch-minor transpose); at batch 1 these are the faster ones (the
 * export figures of examples/bench/export.sh, formats/export.md).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "nn.h"

#include "export_kern.inc"
#ifdef K_DISPATCH
#define K_AVX2_PASS
#include "export_kern_vec.inc"
#undef K_AVX2_PASS
#endif
#include "export_kern_vec.inc"

void
nn_b1_pack(float *dst, const float *w, int co, long per)
{
	int o;
	long t;

	for (o = 0; o < co; o++) {
		int o0 = o / K_L * K_L, nb = co - o0 < K_L ? co - o0 : K_L;

		for (t = 0; t < per; t++)
			dst[(long)o0 * per + t * nb + o - o0] = w[(long)o * per + t];
	}
}

void
nn_b1_conv_fwd(float *out, const float *in, const float *wp, const float *b, int ci, int h,
    int wd, int co, int k, int s, int p, int dw, int act)
{
	k_conv_f32(out, in, wp, b, ci, h, wd, co, k, s, p, dw, act, 0);
}

void
nn_b1_fold(float *w, float *b, const float *g, const float *be, const float *mu,
    const float *var, int co, long per, float eps)
{
	long i;
	int c;

	for (c = 0; c < co; c++) {
		float a = g[c] / sqrtf(var[c] + eps);

		for (i = 0; i < per; i++)
			w[c * per + i] *= a;
		b[c] = be[c] - mu[c] * a;
	}
}
