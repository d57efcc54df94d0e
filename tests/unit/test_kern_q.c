/* test_kern_q.c - the int8 convolution and linear kernels of
 * export_kern.inc (tiled) against their plain twins below, bit for bit:
 * pointwise, depthwise and full convolutions of every kernel size,
 * stride and padding the exports use, maps from 1x1 up (windows all in
 * the padding, all inside, and between), channel counts off the tiles'
 * multiples, linear layers, an input clamped at its zero point (a ReLU
 * as read) or not, and zero points, weights and inputs at the int8
 * extremes; and the requantisation's fixed-point steps against
 * gemmlowp's formulation, on 3M arguments at and around the int32
 * extremes and powers of two. Plain C99 over rng.c and unit.c, so
 * tests/eenn-export.bats also builds it for the emulated Cortex-M7,
 * where the pointwise tiles take their DSP path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "unit.h"

#include "export_kern.inc"
#ifdef K_DISPATCH
#define K_AVX2_PASS
#include "export_kern_vec.inc"
#undef K_AVX2_PASS
#endif
#include "export_kern_vec.inc"

/* The twins of k_srdhm, k_rdpot and k_mbqm: gemmlowp's own formulation. */
static int32_t
ref_srdhm(int32_t a, int32_t b)
{
	int64_t ab = (int64_t)a * b, nudge = ab >= 0 ? (1 << 30) : 1 - (1 << 30);

	if (a == b && a == INT32_MIN)
		return INT32_MAX;
	return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

static int32_t
ref_rdpot(int32_t x, int e)
{
	int32_t mask = (int32_t)(((int64_t)1 << e) - 1), rem = x & mask;
	int32_t thr = (mask >> 1) + (x < 0);

	return (x >> e) + (rem > thr);
}

static int32_t
ref_mbqm(int32_t x, int32_t mult, int32_t shift)
{
	int64_t v = (int64_t)x * ((int64_t)1 << (shift > 0 ? shift : 0));

	v = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v;
	return ref_rdpot(ref_srdhm((int32_t)v, mult), shift > 0 ? 0 : -shift);
}

/* The twin of k_conv_q: one output at a time, every tap checked; padding is real zero (x - zin = 0, so padded taps are
 * skipped); in_min: the input clamped below (zin for a ReLU on the input,
 * else -128). */
static inline void
ref_conv_q(int8_t *out, const int8_t *in, const int8_t *w, const int32_t *b,
    const int32_t *mult, const int32_t *shift, int ci, int h, int wd, int co, int k,
    int s, int p, int dw, int32_t zin, int32_t in_min, int32_t zout, int32_t lo,
    int32_t hi)
{
	int ho = (h + 2 * p - k) / s + 1, wo = (wd + 2 * p - k) / s + 1, o, oy, ox;

	for (o = 0; o < co; o++)
		for (oy = 0; oy < ho; oy++)
			for (ox = 0; ox < wo; ox++) {
				int32_t acc = b[o];
				int c0 = dw ? o : 0, c1 = dw ? o + 1 : ci, c, ky, kx;

				for (c = c0; c < c1; c++) {
					const int8_t *wk = w + ((long)o * (c1 - c0) + (c - c0)) * k * k;

					for (ky = 0; ky < k; ky++) {
						int iy = oy * s - p + ky;

						if (iy < 0 || iy >= h)
							continue;
						for (kx = 0; kx < k; kx++) {
							int ix = ox * s - p + kx;
							int32_t v;

							if (ix < 0 || ix >= wd)
								continue;
							v = in[((long)c * h + iy) * wd + ix];
							v = v < in_min ? in_min : v;
							acc += wk[ky * k + kx] * (v - zin);
						}
					}
				}
				out[((long)o * ho + oy) * wo + ox] =
				    k_clamp8(zout + ref_mbqm(acc, mult[o], shift[o]), lo, hi);
			}
}

static inline void
ref_linear_q(int8_t *out, const int8_t *in, const int8_t *w, const int32_t *b,
    const int32_t *mult, const int32_t *shift, int ci, int co, int32_t zin,
    int32_t zout, int32_t lo, int32_t hi)
{
	int o, i;

	for (o = 0; o < co; o++) {
		int32_t acc = b[o];

		for (i = 0; i < ci; i++)
			acc += w[(long)o * ci + i] * (in[i] - zin);
		out[o] = k_clamp8(zout + ref_mbqm(acc, mult[o], shift[o]), lo, hi);
	}
}


static int8_t
rand8(struct nn_rng *r, int extreme)
{
	uint32_t u = nn_rng_u32(r);

	/* a quarter of the values at -128 or 127 when extreme */
	if (extreme && u % 4 == 0)
		return u & 4 ? 127 : -128;
	return (int8_t)(u >> 24);
}

static void
fill(int8_t *p, long n, struct nn_rng *r, int extreme)
{
	long i;

	for (i = 0; i < n; i++)
		p[i] = rand8(r, extreme);
}

static long pw_vec, dw_vec;   /* cases the vector paths ran */

/* The vector path of k_pw_q (export_kern_vec.inc) into y, where this
 * build and CPU have one: returns 1, else copies nothing and returns 0
 * (y keeps k_pw_q's outputs). */
static int
vec_pw(int8_t *y, const int8_t *in, const int8_t *w, const int32_t *b, const int32_t *mult,
    const int32_t *shift, int ci, int hw, int co, int32_t zin, int32_t zout, int32_t lo)
{
#ifdef K_DISPATCH
	if (__builtin_cpu_supports("avx2")) {
		memset(y, 0x55, (size_t)co * hw);
		k_pw_qv_avx2(y, in, w, b, mult, shift, ci, hw, co, zin, zout, lo, 127);
		return 1;
	}
#endif
#ifdef K_QV
	memset(y, 0x55, (size_t)co * hw);
	k_pw_qv(y, in, w, b, mult, shift, ci, hw, co, zin, zout, lo, 127);
	return 1;
#else
	(void)y, (void)in, (void)w, (void)b, (void)mult, (void)shift, (void)ci, (void)hw;
	(void)co, (void)zin, (void)zout, (void)lo;
	return 0;
#endif
}

/* The vector path of k_dw_q into y, where this build, CPU and shape have
 * one: returns 1, else 0 (y untouched). */
static int
vec_dw(int8_t *y, const int8_t *in, const int8_t *w, const int32_t *b, const int32_t *mult,
    const int32_t *shift, int c, int h, int wd, int k, int s, int p, int32_t zin,
    int32_t in_min, int32_t zout, int32_t lo)
{
#ifdef K_DISPATCH
	if (__builtin_cpu_supports("avx2"))
		return k_dw_qv_avx2(y, in, w, b, mult, shift, c, h, wd, k, s, p, zin, in_min, zout,
		    lo, 127);
#endif
#ifdef K_QV
	return k_dw_qv(y, in, w, b, mult, shift, c, h, wd, k, s, p, zin, in_min, zout, lo, 127);
#else
	(void)y, (void)in, (void)w, (void)b, (void)mult, (void)shift, (void)c, (void)h;
	(void)wd, (void)k, (void)s, (void)p, (void)zin, (void)in_min, (void)zout, (void)lo;
	return 0;
#endif
}

/* one case: returns the outputs that differ */
static long
conv_case(struct nn_rng *r, int ci, int h, int wd, int co, int k, int s, int p, int dw,
    int relu, int extreme)
{
	int ho = (h + 2 * p - k) / s + 1, wo = (wd + 2 * p - k) / s + 1, o;
	long nin = (long)ci * h * wd, nw = (long)co * (dw ? 1 : ci) * k * k;
	long nout = (long)co * ho * wo, i, bad = 0;
	int8_t *in = malloc(nin), *w = malloc(nw), *y = malloc(nout), *yr = malloc(nout);
	int32_t *b = malloc(co * sizeof *b), *mult = malloc(co * sizeof *mult);
	int32_t *shift = malloc(co * sizeof *shift);
	int32_t zin = extreme ? (nn_rng_u32(r) & 1 ? 127 : -128) : rand8(r, 0);
	int32_t zout = rand8(r, extreme), lo = relu ? zout : -128;

	if (nout < 1)	/* callers give maps the kernel fits */
		abort();
	fill(in, nin, r, extreme);
	fill(w, nw, r, extreme);
	for (o = 0; o < co; o++) {
		b[o] = (int32_t)(nn_rng_u32(r) % 200001) - 100000;
		mult[o] = (int32_t)((1u << 30) + (nn_rng_u32(r) >> 2));
		shift[o] = (int32_t)(nn_rng_u32(r) % 20) - 16;
	}
	memset(y, 0x55, nout);
	memset(yr, 0x2a, nout);
	k_conv_q(y, in, w, b, mult, shift, ci, h, wd, co, k, s, p, dw, zin,
	    relu ? zin : -128, zout, lo, 127);
	ref_conv_q(yr, in, w, b, mult, shift, ci, h, wd, co, k, s, p, dw, zin,
	    relu ? zin : -128, zout, lo, 127);
	for (i = 0; i < nout; i++)
		bad += y[i] != yr[i];
	if (dw) {
		/* the plain loops, whichever way k_conv_q took */
		memset(y, 0x55, nout);
		k_dw_q(y, in, w, b, mult, shift, ci, h, wd, k, s, p, zin, relu ? zin : -128, zout,
		    lo, 127);
		for (i = 0; i < nout; i++)
			bad += y[i] != yr[i];
		memset(y, 0x55, nout);
		if (vec_dw(y, in, w, b, mult, shift, ci, h, wd, k, s, p, zin, relu ? zin : -128,
		    zout, lo)) {
			dw_vec++;
			for (i = 0; i < nout; i++)
				bad += y[i] != yr[i];
		}
	}
	if (k == 1 && s == 1 && p == 0 && !dw && !relu) {
		/* the pointwise tiles, whichever way k_conv_q took */
		memset(y, 0x55, nout);
		k_pw_q(y, in, w, b, mult, shift, ci, h * wd, co, zin, zout, lo, 127);
		for (i = 0; i < nout; i++)
			bad += y[i] != yr[i];
		pw_vec += vec_pw(y, in, w, b, mult, shift, ci, h * wd, co, zin, zout, lo);
		for (i = 0; i < nout; i++)
			bad += y[i] != yr[i];
	}
	if (k == 1 && s == 1 && p == 0 && !dw && h == 1 && wd == 1 && !relu) {
		k_linear_q(y, in, w, b, mult, shift, ci, co, zin, zout, lo, 127);
		ref_linear_q(yr, in, w, b, mult, shift, ci, co, zin, zout, lo, 127);
		for (i = 0; i < nout; i++)
			bad += y[i] != yr[i];
	}
	free(in), free(w), free(y), free(yr), free(b), free(mult), free(shift);
	return bad;
}

/* x near 0, at and around powers of two and the int32 extremes */
static int32_t
rand32(struct nn_rng *r)
{
	uint32_t u = nn_rng_u32(r), v = nn_rng_u32(r);
	int e = (int)(v % 32);

	switch (u % 4) {
	case 0: return (int32_t)v;
	case 1: return (int32_t)(v % 4096) - 2048;
	case 2: return (int32_t)((u & 8 ? -1 : 1) * (int64_t)((int64_t)1 << e) +
	    (int32_t)(v % 5) - 2);
	default: return u & 8 ? INT32_MIN + (int32_t)(v % 3) : INT32_MAX - (int32_t)(v % 3);
	}
}

static void
test_requant_twins(void)
{
	struct nn_rng r;
	long it, bad_s = 0, bad_r = 0, bad_m = 0;

	nn_rng_seed(&r, 9);
	for (it = 0; it < 3000000; it++) {
		int32_t a = rand32(&r), b = rand32(&r), e = (int32_t)(nn_rng_u32(&r) % 32);
		int32_t mult = (int32_t)((1u << 30) + (nn_rng_u32(&r) >> 2));
		int32_t shift = (int32_t)(nn_rng_u32(&r) % 40) - 31;

		bad_s += k_srdhm(a, b) != ref_srdhm(a, b);
		bad_r += k_rdpot(a, e) != ref_rdpot(a, e);
		bad_m += k_mbqm(a, mult, shift) != ref_mbqm(a, mult, shift);
	}
	bad_s += k_srdhm(INT32_MIN, INT32_MIN) != ref_srdhm(INT32_MIN, INT32_MIN);
	CHECK_EQ_L(bad_s, 0);
	CHECK_EQ_L(bad_r, 0);
	CHECK_EQ_L(bad_m, 0);
}

/* The vector requantisation (k_put8_qv) against k_put_q, where this build
 * and CPU have it: sums at and around the int32 extremes, every shift
 * from -31 to 31. Returns the outputs that differ, or -1 without one. */
static long
vec_put_diff(struct nn_rng *r)
{
	void (*put8)(int8_t *, const int32_t *, int32_t, int32_t, int32_t, int32_t, int32_t,
	    int32_t) = NULL;
	int32_t a[8];
	int8_t y[8];
	long it, bad = 0;
	int j;

#ifdef K_QV
	put8 = k_put8_qv;
#endif
#ifdef K_DISPATCH
	if (__builtin_cpu_supports("avx2"))
		put8 = k_put8_qv_avx2;
#endif
	if (put8 == NULL)
		return -1;
	for (it = 0; it < 200000; it++) {
		int32_t b = rand32(r) / 2, mult = (int32_t)((1u << 30) + (nn_rng_u32(r) >> 2));
		int32_t shift = (int32_t)(it % 63) - 31, zout = rand8(r, 1);
		int32_t lo = it & 1 ? zout : -128, hi = it & 2 || lo > 100 ? 127 : 100;

		for (j = 0; j < 8; j++)
			a[j] = rand32(r) / 2;
		put8(y, a, b, mult, shift, zout, lo, hi);
		for (j = 0; j < 8; j++) {
			int8_t want;

			k_put_q(&want, a[j], b, mult, shift, zout, lo, hi);
			bad += y[j] != want;
		}
	}
	return bad;
}

static void
test_vec_put(void)
{
	struct nn_rng r;
	long bad;

	nn_rng_seed(&r, 11);
	bad = vec_put_diff(&r);
	if (bad < 0) {
		fprintf(stderr, "    vector requantisation: none in this build\n");
		return;
	}
	fprintf(stderr, "    vector requantisation: 1.6M outputs, %ld differ\n", bad);
	CHECK_EQ_L(bad, 0);
}

/* The SE multiply on vectors (k_scale_qv) against k_scale_q, where this
 * build and CPU have it: maps of 1 to 64 pixels, channel counts off the
 * multiples of 8, values and zero points at the int8 extremes. */
static void
test_vec_scale(void)
{
	static const int side[] = { 1, 2, 3, 4, 8 };
	struct nn_rng r;
	long bad = 0, runs = 0, i, n;
	int it;

	nn_rng_seed(&r, 13);
	for (it = 0; it < 400; it++) {
		int c = 1 + (int)(nn_rng_u32(&r) % 70), hw = side[it % 5] * side[it % 5];
		int32_t zx = rand8(&r, 1), zs = rand8(&r, 1), zout = rand8(&r, 1);
		int32_t mult = (int32_t)((1u << 30) + (nn_rng_u32(&r) >> 2));
		int32_t shift = (int32_t)(nn_rng_u32(&r) % 24) - 20;
		int8_t *x, *y, *sc = malloc((size_t)c);

		n = (long)c * hw;
		x = malloc((size_t)n), y = malloc((size_t)n);
		fill(x, n, &r, it & 1);
		fill(sc, c, &r, it & 2);
		memcpy(y, x, (size_t)n);
		k_scale_q(x, sc, c, hw, zx, zs, mult, shift, zout);
#ifdef K_DISPATCH
		if (__builtin_cpu_supports("avx2")) {
			k_scale_qv_avx2(y, sc, c, hw, zx, zs, mult, shift, zout);
			runs++;
		}
#elif defined(K_QV)
		k_scale_qv(y, sc, c, hw, zx, zs, mult, shift, zout);
		runs++;
#endif
		for (i = 0; runs && i < n; i++)
			bad += x[i] != y[i];
		free(x), free(y), free(sc);
	}
	fprintf(stderr, "    SE multiply: %ld runs on vectors, %ld outputs differ\n", runs, bad);
	CHECK_EQ_L(bad, 0);
}

static void
test_twins(void)
{
	/* kernel, stride, padding, depthwise: as the schedules use them */
	static const int shape[][4] = {
		{ 1, 1, 0, 0 }, { 3, 1, 1, 1 }, { 3, 2, 1, 1 }, { 5, 1, 2, 1 }, { 5, 2, 2, 1 },
		{ 7, 1, 3, 1 }, { 7, 2, 3, 1 }, { 3, 2, 1, 0 }, { 3, 1, 0, 0 }, { 3, 1, 1, 0 },
		{ 1, 1, 1, 0 }, { 2, 2, 0, 1 },
	};
	static const int maps[] = { 1, 2, 3, 4, 5, 7, 8, 9, 16 };
	struct nn_rng r;
	long bad = 0, cases = 0;
	int sh, m, m2, it;

	nn_rng_seed(&r, 3);
	for (sh = 0; sh < (int)(sizeof(shape) / sizeof(shape[0])); sh++)
		for (m = 0; m < (int)(sizeof(maps) / sizeof(maps[0])); m++)
			for (it = 0; it < 6; it++) {
				int k = shape[sh][0], s = shape[sh][1], p = shape[sh][2];
				int dw = shape[sh][3], h = maps[m], wd;
				int ci = 1 + (int)(nn_rng_u32(&r) % 13), co;

				m2 = (int)(nn_rng_u32(&r) % (sizeof(maps) / sizeof(maps[0])));
				wd = it < 3 ? h : maps[m2];
				co = dw ? ci : 1 + (int)(nn_rng_u32(&r) % 11);
				if (h + 2 * p < k || wd + 2 * p < k)
					continue;
				bad += conv_case(&r, ci, h, wd, co, k, s, p, dw, it & 1, it >= 4);
				cases++;
			}
	/* linear layers (1x1 maps) of the heads' and the classifiers' sizes */
	for (it = 0; it < 40; it++) {
		int ci = 1 + (int)(nn_rng_u32(&r) % 300), co = 1 + (int)(nn_rng_u32(&r) % 40);

		bad += conv_case(&r, ci, 1, 1, co, 1, 1, 0, 0, 0, it & 1);
		cases++;
	}
	/* pointwise layers wide enough for the vector path's runs of 16
	 * channels or pixels, on maps of 1, 4, 16, 25, 64 and 256 pixels */
	for (it = 0; it < 120; it++) {
		static const int side[] = { 1, 2, 4, 5, 8, 16 };
		int ci = 1 + (int)(nn_rng_u32(&r) % 200), co = 1 + (int)(nn_rng_u32(&r) % 20);

		m = (int)(nn_rng_u32(&r) % (sizeof(side) / sizeof(side[0])));
		bad += conv_case(&r, ci, side[m], side[m], co, 1, 1, 0, 0, it & 1, it % 3 == 0);
		cases++;
	}
	/* 3x3 convolutions on 2x2 and 4x4 maps (an exit's first, its input
	 * clamped at zin or not): k_conv_q takes k_cv22_qv and k_cv44_qv where
	 * there are vectors */
	for (it = 0; it < 80; it++) {
		int ci = 1 + (int)(nn_rng_u32(&r) % 100), co = 1 + (int)(nn_rng_u32(&r) % 20);

		bad += conv_case(&r, ci, 2 + (it & 2), 2 + (it & 2), co, 3, 1, 1, 0, it & 1,
		    it % 3 == 0);
		cases++;
	}
	fprintf(stderr, "    int8 twins: %ld cases (%ld pointwise and %ld depthwise on vectors), "
	    "%ld outputs differ\n", cases, pw_vec, dw_vec, bad);
	CHECK(cases > 800);
	CHECK_EQ_L(bad, 0);
}

int
main(void)
{
	test_requant_twins();
	test_vec_put();
	test_vec_scale();
	test_twins();
	return unit_done("kern_q");
}
