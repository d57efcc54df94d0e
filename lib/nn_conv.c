/*
 * nn_conv.c - convolutions: dense (im2col over the whole batch + one GEMM;
 * 1x1 stride 1 is the GEMM alone), depthwise (direct kernels over a
 * batch-minor transpose, see below) and the elastic-kernel transform.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "nachos.h"
#include "nn.h"
#include "nn_impl.h"


static int
is_1x1(int k, int s, int p)
{
	return k == 1 && s == 1 && p == 0;
}

/* Images per im2col chunk: a chunk's columns (about 1 MB) stay in cache
 * between im2col and the GEMM that reads them. */
static int
conv_chunk(int N, int Kc, long HWo)
{
	long nb = (1L << 18) / ((long)Kc * HWo);

	return nb < 1 ? 1 : nb > N ? N : nb;
}

long
nn_conv_col_size(int N, int Ci, int H, int W, int k, int s, int p)
{
	long Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1;

	return is_1x1(k, s, p) ? 0 : (long)Ci * k * k * conv_chunk(N, Ci * k * k, Ho * Wo) *
	    Ho * Wo;
}

/* im2col and col2im's arguments, for their tasks. */
struct col_job {
	float *col, *din;
	const float *in, *ccol;   /* ccol: col2im's input */
	int n0, n1, N, Ci, H, W, k, s, p;
};

/* col (Ci*k*k, (n1-n0)*Ho*Wo): row (ci, ky, kx) holds the input pixel each
 * output pixel of images n0 .. n1 sees through that tap, 0 in the padding. */
static void
im2col_row(void *arg, long r)
{
	const struct col_job *j = arg;
	const float *in = j->in;
	int N = j->N, H = j->H, W = j->W, k = j->k, s = j->s, p = j->p;
	int Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1;
	int ci = r / (k * k), ky = r / k % k, kx = r % k, n, oy, ox;
	long L = (long)(j->n1 - j->n0) * Ho * Wo;
	float *c = j->col + r * L;

	for (n = j->n0; n < j->n1; n++) {
		const float *x = in + ((long)ci * N + n) * H * W;
		for (oy = 0; oy < Ho; oy++, c += Wo) {
			int iy = oy * s - p + ky;
			if (iy < 0 || iy >= H) {
				memset(c, 0, Wo * sizeof *c);
				continue;
			}
			for (ox = 0; ox < Wo; ox++) {
				int ix = ox * s - p + kx;
				c[ox] = ix >= 0 && ix < W ? x[iy * W + ix] : 0;
			}
		}
	}
}

static void
im2col(float *col, const float *in /* (Ci, N, H, W) */, int n0, int n1,
    int N, int Ci, int H, int W, int k, int s, int p)
{
	struct col_job j = { col, NULL, in, NULL, n0, n1, N, Ci, H, W, k, s, p };
	int Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1;

	nn_par((long)Ci * k * k, (long)Ci * k * k * (n1 - n0) * Ho * Wo, im2col_row, &j);
}

/* din (images n0 .. n1) += col2im(col): every channel's taps only touch
 * that channel, so channels are tasks without atomics. */
static void
col2im_chan(void *arg, long ci)
{
	const struct col_job *j = arg;
	const float *col = j->ccol;
	float *din = j->din;
	int N = j->N, H = j->H, W = j->W, k = j->k, s = j->s, p = j->p;
	int Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1;
	long L = (long)(j->n1 - j->n0) * Ho * Wo;
	int ky, kx, n, oy, ox;

	for (ky = 0; ky < k; ky++)
		for (kx = 0; kx < k; kx++) {
			const float *c = col + ((long)ci * k * k + ky * k + kx) * L;
			for (n = j->n0; n < j->n1; n++) {
				float *x = din + ((long)ci * N + n) * H * W;
				for (oy = 0; oy < Ho; oy++, c += Wo) {
					int iy = oy * s - p + ky;
					if (iy < 0 || iy >= H)
						continue;
					for (ox = 0; ox < Wo; ox++) {
						int ix = ox * s - p + kx;
						if (ix >= 0 && ix < W)
							x[iy * W + ix] += c[ox];
					}
				}
			}
		}
}

static void
col2im(float *din /* (Ci, N, H, W) */, const float *col, int n0, int n1,
    int N, int Ci, int H, int W, int k, int s, int p)
{
	struct col_job j = { NULL, din, NULL, col, n0, n1, N, Ci, H, W, k, s, p };
	int Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1;

	nn_par(Ci, (long)Ci * k * k * (n1 - n0) * Ho * Wo, col2im_chan, &j);
}

void
nn_conv_fwd(float *out /* (Co, N, Ho, Wo) */, const float *in /* (Ci, N, H, W) */,
    const float *w /* (Co, Ci*k*k) */, const float *b /* (Co) or NULL */,
    float *col /* (nn_conv_col_size) */, int N, int Ci, int H, int W, int Co,
    int k, int s, int p)
{
	int Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1, Kc = Ci * k * k, co;
	int nb = conv_chunk(N, Kc, (long)Ho * Wo), n0;
	long L = (long)N * Ho * Wo, HWo = (long)Ho * Wo, i;

	if (b)
		for (co = 0; co < Co; co++)
			for (i = 0; i < L; i++)
				out[co * L + i] = b[co];
	if (is_1x1(k, s, p)) {
		nn_gemm(0, 0, Co, L, Kc, 1, w, Kc, in, L, b ? 1 : 0, out, L);
		return;
	}
	for (n0 = 0; n0 < N; n0 += nb) {
		int n1 = n0 + nb < N ? n0 + nb : N;
		long cl = (n1 - n0) * HWo;
		im2col(col, in, n0, n1, N, Ci, H, W, k, s, p);
		nn_gemm(0, 0, Co, cl, Kc, 1, w, Kc, col, cl, b ? 1 : 0, out + n0 * HWo, L);
	}
}

void
nn_conv_bwd(float *din /* (Ci, N, H, W) or NULL */, float *dw /* (Co, Ci*k*k) or NULL */,
    float *db /* (Co) or NULL */, const float *dout /* (Co, N, Ho, Wo) */,
    const float *in /* (Ci, N, H, W) */, const float *w /* (Co, Ci*k*k) */,
    float *col /* (nn_conv_col_size) */, int N, int Ci, int H, int W, int Co,
    int k, int s, int p)
{
	int Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1, Kc = Ci * k * k, co;
	int nb = conv_chunk(N, Kc, (long)Ho * Wo), n0;
	long L = (long)N * Ho * Wo, HWo = (long)Ho * Wo, i;

	if (db)
		for (co = 0; co < Co; co++) {
			float acc = 0;
#pragma omp simd reduction(+:acc)
			for (i = 0; i < L; i++)
				acc += dout[co * L + i];
			db[co] += acc;
		}
	if (is_1x1(k, s, p)) {
		if (dw)
			nn_gemm(0, 1, Co, Kc, L, 1, dout, L, in, L, 1, dw, Kc);
		if (din)
			nn_gemm(1, 0, Ci, L, Co, 1, w, Ci, dout, L, 1, din, L);
		return;
	}
	for (n0 = 0; n0 < N && (dw || din); n0 += nb) {
		int n1 = n0 + nb < N ? n0 + nb : N;
		long cl = (n1 - n0) * HWo;
		if (dw) {
			/* col is scratch: the forward's copy may be gone, so rebuild it */
			im2col(col, in, n0, n1, N, Ci, H, W, k, s, p);
			nn_gemm(0, 1, Co, Kc, cl, 1, dout + n0 * HWo, L, col, cl, 1, dw, Kc);
		}
		if (din) {
			nn_gemm(1, 0, Kc, cl, Co, 1, w, Kc, dout + n0 * HWo, L, 0, col, cl);
			col2im(din, col, n0, n1, N, Ci, H, W, k, s, p);
		}
	}
}

/* ---- depthwise ---------------------------------------------------------- */

/*
 * Maps of a 32x32 network are small (16x16 down to 1x1) and k is up to 7,
 * so rows are too short to vectorise and most taps of a padded kernel hit
 * padding. Instead each channel's (N, H, W) block is transposed to
 * (H, W, N): a tap is then one axpy over the batch, vectorised in chunks
 * of DW_V images held in registers, and only the taps that land inside
 * the image are visited. Below DW_V images the lanes are (channel, image)
 * pairs instead, each with its channel's weight (batch-1 latency).
 */
#define DW_V 16
typedef float dwv __attribute__((vector_size(DW_V * sizeof(float))));

/* unaligned vector load (memcpy: no aliasing or alignment assumptions) */
#define DW_LD(v, p) memcpy(&(v), (p), sizeof(dwv))

typedef float v8f __attribute__((vector_size(8 * sizeof(float))));
typedef int v8i __attribute__((vector_size(8 * sizeof(int))));

/* t (8 x 8, row stride ts) = (or +=) x (8 x 8, row stride xs)^T by three
 * rounds of interleaving shuffles (32-, 64-, 128-bit). */
static inline __attribute__((always_inline)) void
tr8(float *t, long ts, const float *x, long xs, int acc)
{
	const v8i lo32 = { 0, 8, 1, 9, 4, 12, 5, 13 }, hi32 = { 2, 10, 3, 11, 6, 14, 7, 15 };
	const v8i lo64 = { 0, 1, 8, 9, 4, 5, 12, 13 }, hi64 = { 2, 3, 10, 11, 6, 7, 14, 15 };
	const v8i lo128 = { 0, 1, 2, 3, 8, 9, 10, 11 }, hi128 = { 4, 5, 6, 7, 12, 13, 14, 15 };
	v8f r[8], u[8], o[8];
	int i;

	for (i = 0; i < 8; i++)
		memcpy(&r[i], x + i * xs, sizeof r[i]);
	for (i = 0; i < 8; i += 2) {
		u[i] = __builtin_shuffle(r[i], r[i + 1], lo32);
		u[i + 1] = __builtin_shuffle(r[i], r[i + 1], hi32);
	}
	/* u: t0 t1 (rows 0,1), t2 t3 (rows 2,3), ... */
	r[0] = __builtin_shuffle(u[0], u[2], lo64);
	r[1] = __builtin_shuffle(u[0], u[2], hi64);
	r[2] = __builtin_shuffle(u[1], u[3], lo64);
	r[3] = __builtin_shuffle(u[1], u[3], hi64);
	r[4] = __builtin_shuffle(u[4], u[6], lo64);
	r[5] = __builtin_shuffle(u[4], u[6], hi64);
	r[6] = __builtin_shuffle(u[5], u[7], lo64);
	r[7] = __builtin_shuffle(u[5], u[7], hi64);
	for (i = 0; i < 4; i++) {
		o[i] = __builtin_shuffle(r[i], r[i + 4], lo128);
		o[i + 4] = __builtin_shuffle(r[i], r[i + 4], hi128);
	}
	for (i = 0; i < 8; i++) {
		if (acc) {
			v8f d;
			memcpy(&d, t + i * ts, sizeof d);
			o[i] += d;
		}
		memcpy(t + i * ts, &o[i], sizeof o[i]);
	}
}

/* t (cols, rows) = (or +=) x (rows, cols)^T: 8 x 8 blocks, scalar edges. */
static inline __attribute__((always_inline)) void
dw_tr(float *t, const float *x, int rows, int cols, int acc)
{
	int r, c, r8 = rows & ~7, c8 = cols & ~7;

	for (r = 0; r < r8; r += 8)
		for (c = 0; c < c8; c += 8)
			tr8(t + (long)c * rows + r, rows, x + (long)r * cols + c, cols, acc);
	for (r = 0; r < rows; r++)
		for (c = r < r8 ? c8 : 0; c < cols; c++) {
			float v = x[(long)r * cols + c];
			t[(long)c * rows + r] = acc ? t[(long)c * rows + r] + v : v;
		}
}

/* Taps of kernel k, stride s, pad k/2 that output (oy, ox) of an H x W
 * input sees inside the image: tap index and offset of the input pixel's
 * lane vector in the (H, W, lanes) transpose. */
static inline __attribute__((always_inline)) int
dw_taps(int *tap, long *off, int oy, int ox, int H, int W, int lanes, int k, int s)
{
	int p = k / 2, ky, kx, m = 0;

	for (ky = 0; ky < k; ky++) {
		int iy = oy * s - p + ky;
		if (iy < 0 || iy >= H)
			continue;
		for (kx = 0; kx < k; kx++) {
			int ix = ox * s - p + kx;
			if (ix < 0 || ix >= W)
				continue;
			tap[m] = ky * k + kx;
			off[m++] = (long)(iy * W + ix) * lanes;
		}
	}
	return m;
}

/* The transpose: outputs whose tap reaches input (iy, ix), with the tap
 * index and the offset of the output's lane vector. */
static inline __attribute__((always_inline)) int
dw_rtaps(int *tap, long *off, int iy, int ix, int Ho, int Wo, int lanes, int k, int s)
{
	int p = k / 2, ky, kx, m = 0;

	for (ky = 0; ky < k; ky++) {
		int ty = iy + p - ky;
		if (ty < 0 || ty % s || ty / s >= Ho)
			continue;
		for (kx = 0; kx < k; kx++) {
			int tx = ix + p - kx;
			if (tx < 0 || tx % s || tx / s >= Wo)
				continue;
			tap[m] = ky * k + kx;
			off[m++] = (long)(ty / s * Wo + tx / s) * lanes;
		}
	}
	return m;
}

/* First and one-past-last output index whose tap t (stride s, pad p)
 * lands inside [0, n) of an input of n pixels, for no outputs. */
static inline __attribute__((always_inline)) void
dw_range(int *lo, int *hi, int t, int n, int no, int s, int p)
{
	int a = p - t, b = n - 1 + p - t;	/* o*s must lie in [a, b] */

	*lo = a <= 0 ? 0 : (a + s - 1) / s;
	*hi = b < 0 ? 0 : b / s + 1;
	if (*hi > no)
		*hi = no;
}

/* o (N) = sum_j w[tap[j]] * x[off[j] ...] (N) over m taps. Four vectors of
 * images at a time, so each tap's weight and offset are loaded once per
 * 4*DW_V images and the accumulators stay in registers. */
static inline __attribute__((always_inline)) void
dw_gather(float *o, const float *x, const float *w, const int *tap, const long *off,
    int m, int N)
{
	int n = 0, j;

	for (; n + 4 * DW_V <= N; n += 4 * DW_V) {
		dwv a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 }, v0, v1, v2, v3;
		for (j = 0; j < m; j++) {
			const float *q = x + off[j] + n;
			float wv = w[tap[j]];
			DW_LD(v0, q);
			DW_LD(v1, q + DW_V);
			DW_LD(v2, q + 2 * DW_V);
			DW_LD(v3, q + 3 * DW_V);
			a0 += wv * v0;
			a1 += wv * v1;
			a2 += wv * v2;
			a3 += wv * v3;
		}
		memcpy(o + n, &a0, sizeof a0);
		memcpy(o + n + DW_V, &a1, sizeof a1);
		memcpy(o + n + 2 * DW_V, &a2, sizeof a2);
		memcpy(o + n + 3 * DW_V, &a3, sizeof a3);
	}
	for (; n + DW_V <= N; n += DW_V) {
		dwv acc = { 0 }, v;
		for (j = 0; j < m; j++) {
			DW_LD(v, x + off[j] + n);
			acc += w[tap[j]] * v;
		}
		memcpy(o + n, &acc, sizeof acc);
	}
	for (; n < N; n++) {
		float acc = 0;
		for (j = 0; j < m; j++)
			acc += w[tap[j]] * x[off[j] + n];
		o[n] = acc;
	}
}

/* o (L) = sum_j wl[tap[j]*L ...] * x[off[j] ...] (L): per-lane weights;
 * four vectors at a time as in dw_gather (one accumulator would wait on
 * the FMA latency). Without AVX-512 those vectors are 8 floats: four of
 * DW_V with their loads need more than AVX2's 16 registers (measured 2x
 * at batch 1 on 4x4 maps). Each lane sums its taps in the same order
 * either way: the same bits. */
static inline __attribute__((always_inline)) void
dw_gather_lanes(float *o, const float *x, const float *wl, const int *tap, const long *off,
    int m, int L)
{
	int l = 0, j;

	if (!__builtin_cpu_supports("avx512f"))
		for (; l + 32 <= L; l += 32) {
			v8f a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 }, v, w;
			for (j = 0; j < m; j++) {
				const float *q = x + off[j] + l, *wq = wl + (long)tap[j] * L + l;
				memcpy(&v, q, sizeof v), memcpy(&w, wq, sizeof w), a0 += w * v;
				memcpy(&v, q + 8, sizeof v), memcpy(&w, wq + 8, sizeof w), a1 += w * v;
				memcpy(&v, q + 16, sizeof v), memcpy(&w, wq + 16, sizeof w), a2 += w * v;
				memcpy(&v, q + 24, sizeof v), memcpy(&w, wq + 24, sizeof w), a3 += w * v;
			}
			memcpy(o + l, &a0, sizeof a0);
			memcpy(o + l + 8, &a1, sizeof a1);
			memcpy(o + l + 16, &a2, sizeof a2);
			memcpy(o + l + 24, &a3, sizeof a3);
		}

	for (; l + 4 * DW_V <= L; l += 4 * DW_V) {
		dwv a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 }, v0, v1, v2, v3, w0, w1, w2, w3;
		for (j = 0; j < m; j++) {
			const float *q = x + off[j] + l, *wq = wl + (long)tap[j] * L + l;
			DW_LD(v0, q);
			DW_LD(v1, q + DW_V);
			DW_LD(v2, q + 2 * DW_V);
			DW_LD(v3, q + 3 * DW_V);
			DW_LD(w0, wq);
			DW_LD(w1, wq + DW_V);
			DW_LD(w2, wq + 2 * DW_V);
			DW_LD(w3, wq + 3 * DW_V);
			a0 += w0 * v0;
			a1 += w1 * v1;
			a2 += w2 * v2;
			a3 += w3 * v3;
		}
		memcpy(o + l, &a0, sizeof a0);
		memcpy(o + l + DW_V, &a1, sizeof a1);
		memcpy(o + l + 2 * DW_V, &a2, sizeof a2);
		memcpy(o + l + 3 * DW_V, &a3, sizeof a3);
	}
	for (; l + DW_V <= L; l += DW_V) {
		dwv acc = { 0 }, v, wv;
		for (j = 0; j < m; j++) {
			DW_LD(v, x + off[j] + l);
			DW_LD(wv, wl + (long)tap[j] * L + l);
			acc += wv * v;
		}
		memcpy(o + l, &acc, sizeof acc);
	}
	for (; l < L; l++) {
		float acc = 0;
		for (j = 0; j < m; j++)
			acc += wl[(long)tap[j] * L + l] * x[off[j] + l];
		o[l] = acc;
	}
}

/* Scratch of one thread: floats, then k*k tap indices and offsets. It is
 * kept per thread and only grows: allocating it per call cost page faults
 * comparable to the work at batch 1. */
struct dw_scr {
	float *f;
	int *tap;
	long *off;
};

static __thread struct dw_scr dw_keep;
static __thread long dw_keep_nf, dw_keep_nk;

static void
dw_scr_get(struct dw_scr *sc, long nf, int k)
{
	if (nf > dw_keep_nf) {
		free(dw_keep.f);
		if (!(dw_keep.f = malloc(nf * sizeof *dw_keep.f)))
			err(EX_SOFTWARE, "depthwise scratch");
		dw_keep_nf = nf;
	}
	if (k * k > dw_keep_nk) {
		free(dw_keep.tap);
		free(dw_keep.off);
		dw_keep.tap = malloc(k * k * sizeof *dw_keep.tap);
		dw_keep.off = malloc(k * k * sizeof *dw_keep.off);
		if (!dw_keep.tap || !dw_keep.off)
			err(EX_SOFTWARE, "depthwise scratch");
		dw_keep_nk = k * k;
	}
	*sc = dw_keep;
}

/* Large batch, one channel: lanes are the N images, the weight of a tap is
 * a scalar. out (N, HWo) from in (N, HW); sc->f holds (HW + HWo) * N. */
static NN_CLONES void
dw_chan_fwd(float *out, const float *in, const float *w /* (k*k) */, struct dw_scr *sc,
    int N, int H, int W, int k, int s)
{
	int p = k / 2, Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1, oy, ox;
	float *xt = sc->f, *ot = xt + (long)H * W * N;

	dw_tr(xt, in, N, H * W, 0);
	for (oy = 0; oy < Ho; oy++)
		for (ox = 0; ox < Wo; ox++) {
			int m = dw_taps(sc->tap, sc->off, oy, ox, H, W, N, k, s);
			dw_gather(ot + (oy * Wo + ox) * (long)N, xt, w, sc->tap, sc->off, m, N);
		}
	dw_tr(out, ot, Ho * Wo, N, 0);
}

/* Weight gradient of one kernel row ky for images n .. n + 2*DW_V: the K
 * taps of the row share each output's dout vectors, held in registers
 * with the row's 2K accumulators (K is a literal at each call). */
static inline __attribute__((always_inline)) void
dw_grad_row(float *dwrow /* (K) */, const float *gt /* (HWo, N) */,
    const float *xt /* (HW, N) */, int N, int n, int W, int Wo, int y0, int y1, int ky,
    const int K, int s)
{
	int p = K / 2, oy, ox, kx, i;
	dwv acc[K][2];

	memset(acc, 0, sizeof acc);
	for (oy = y0; oy < y1; oy++) {
		const float *xr = xt + (long)(oy * s - p + ky) * W * N + n;
		const float *gr = gt + (long)oy * Wo * N + n;
		for (ox = 0; ox < Wo; ox++) {
			dwv g0, g1, x0, x1;
			int ix0 = ox * s - p;
			DW_LD(g0, gr + (long)ox * N);
			DW_LD(g1, gr + (long)ox * N + DW_V);
#pragma GCC unroll 8
			for (kx = 0; kx < K; kx++) {
				int ix = ix0 + kx;
				if (ix < 0 || ix >= W)
					continue;
				DW_LD(x0, xr + (long)ix * N);
				DW_LD(x1, xr + (long)ix * N + DW_V);
				acc[kx][0] += g0 * x0;
				acc[kx][1] += g1 * x1;
			}
		}
	}
	for (kx = 0; kx < K; kx++) {
		dwv a = acc[kx][0] + acc[kx][1];
		float sum = 0;
		for (i = 0; i < DW_V; i++)
			sum += a[i];
		dwrow[kx] += sum;
	}
}

/* Weight gradient of tap (ky, kx) over images n0 .. N, outputs rows
 * y0 .. y1 (the general case behind dw_grad_row). */
static inline __attribute__((always_inline)) float
dw_grad_tap(const float *gt /* (HWo, N) */, const float *xt /* (HW, N) */, int N, int n0,
    int y0, int y1, int ky, int kx, int W, int Wo, int k, int s)
{
	int p = k / 2, x0, x1, oy, ox, n, i;
	float sum = 0;

	dw_range(&x0, &x1, kx, W, Wo, s, p);
	for (n = n0; n + DW_V <= N; n += DW_V) {
		dwv acc = { 0 }, g, x;
		for (oy = y0; oy < y1; oy++)
			for (ox = x0; ox < x1; ox++) {
				long ip = (long)(oy * s - p + ky) * W + ox * s - p + kx;
				DW_LD(g, gt + (long)(oy * Wo + ox) * N + n);
				DW_LD(x, xt + ip * N + n);
				acc += g * x;
			}
		for (i = 0; i < DW_V; i++)
			sum += acc[i];
	}
	for (; n < N; n++)
		for (oy = y0; oy < y1; oy++)
			for (ox = x0; ox < x1; ox++)
				sum += gt[(long)(oy * Wo + ox) * N + n] *
				    xt[(long)((oy * s - p + ky) * W + ox * s - p + kx) * N + n];
	return sum;
}

/* One channel's gradients: din (N, HW) += ..., dw (k*k) += ...;
 * sc->f holds (2 * HW + HWo) * N. */
static NN_CLONES void
dw_chan_bwd(float *din, float *dw, const float *dout, const float *in, const float *w,
    struct dw_scr *sc, int N, int H, int W, int k, int s)
{
	int p = k / 2, Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1;
	int iy, ix, ky, kx;
	float *xt = sc->f, *gt = xt + (long)H * W * N, *dt = gt + (long)Ho * Wo * N;

	dw_tr(gt, dout, N, Ho * Wo, 0);
	if (dw) {
		dw_tr(xt, in, N, H * W, 0);
		for (ky = 0; ky < k; ky++) {
			int y0, y1, n0 = 0;
			dw_range(&y0, &y1, ky, H, Ho, s, p);
			/* k 3/5/7: whole rows in registers, 2*DW_V images at a time */
#define ROWS(K) for (; n0 + 2 * DW_V <= N; n0 += 2 * DW_V) \
	dw_grad_row(dw + ky * k, gt, xt, N, n0, W, Wo, y0, y1, ky, K, s)
			if (k == 3)
				ROWS(3);
			else if (k == 5)
				ROWS(5);
			else if (k == 7)
				ROWS(7);
#undef ROWS
			/* other k and the remaining images: per tap */
			for (kx = 0; kx < k; kx++)
				dw[ky * k + kx] += dw_grad_tap(gt, xt, N, n0, y0, y1, ky, kx, W, Wo,
				    k, s);
		}
	}
	if (!din)
		return;
	for (iy = 0; iy < H; iy++)
		for (ix = 0; ix < W; ix++) {
			int m = dw_rtaps(sc->tap, sc->off, iy, ix, Ho, Wo, N, k, s);
			dw_gather(dt + (iy * W + ix) * (long)N, gt, w, sc->tap, sc->off, m, N);
		}
	dw_tr(din, dt, H * W, N, 1);
}

/* wl (k*k, nc*N): the weight of every lane (channel c0 + c, image n), for
 * the taps that can land inside an H x W map (the others are never read:
 * on the smallest maps, most of a 7x7 kernel). */
static inline __attribute__((always_inline)) void
dw_lane_weights(float *wl, const float *w /* (C, k*k) */, int c0, int nc, int N, int k,
    int H, int W)
{
	int c, n, L = nc * N, p = k / 2;
	int y0 = p - H + 1 > 0 ? p - H + 1 : 0, y1 = p + H < k ? p + H : k;
	int x0 = p - W + 1 > 0 ? p - W + 1 : 0, x1 = p + W < k ? p + W : k;

	if (N == 1 && y0 == 0 && x0 == 0) {	/* batch-1 latency: a plain transpose */
		dw_tr(wl, w + (long)c0 * k * k, nc, k * k, 0);
		return;
	}
	/* channel by channel: each one's taps are read in order (tap by tap,
	 * every read was a cache miss on weights not in cache) */
	for (c = 0; c < nc; c++) {
		const float *wc = w + (long)(c0 + c) * k * k;
		int ky, kx;
		for (ky = y0; ky < y1; ky++)
			for (kx = x0; kx < x1; kx++)
				for (n = 0; n < N; n++)
					wl[(long)(ky * k + kx) * L + c * N + n] = wc[ky * k + kx];
	}
}

/* Small batch (latency): lanes are all (channel, image) pairs of channels
 * c0 .. c0 + nc, each with its channel's weights, so a single image still
 * fills the vectors. out (L, HWo) from in (L, HW), L = nc * N;
 * sc->f holds (HW + HWo + k*k) * L. */
static NN_CLONES void
dw_lanes_fwd(float *out, const float *in, const float *w /* (C, k*k) */, struct dw_scr *sc,
    int c0, int nc, int N, int H, int W, int k, int s)
{
	int p = k / 2, Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1, oy, ox;
	int L = nc * N;
	float *xt = sc->f, *ot = xt + (long)H * W * L, *wl = ot + (long)Ho * Wo * L;

	dw_lane_weights(wl, w, c0, nc, N, k, H, W);
	dw_tr(xt, in, L, H * W, 0);
	for (oy = 0; oy < Ho; oy++)
		for (ox = 0; ox < Wo; ox++) {
			int m = dw_taps(sc->tap, sc->off, oy, ox, H, W, L, k, s);
			dw_gather_lanes(ot + (oy * Wo + ox) * (long)L, xt, wl, sc->tap, sc->off, m,
			    L);
		}
	dw_tr(out, ot, Ho * Wo, L, 0);
}

/* d (L): the weight gradient of tap (ky, kx) of every lane, from the
 * transposes gt (HWo, L) and xt (HW, L). */
static inline __attribute__((always_inline)) void
dw_grad_lanes(float *d, const float *gt, const float *xt, int L, int ky, int kx, int H, int W,
    int Ho, int Wo, int k, int s)
{
	int p = k / 2, y0, y1, x0, x1, oy, ox, l = 0;

	dw_range(&y0, &y1, ky, H, Ho, s, p);
	dw_range(&x0, &x1, kx, W, Wo, s, p);
	for (; l + DW_V <= L; l += DW_V) {
		dwv acc = { 0 }, g, x;
		for (oy = y0; oy < y1; oy++)
			for (ox = x0; ox < x1; ox++) {
				long ip = (long)(oy * s - p + ky) * W + ox * s - p + kx;
				DW_LD(g, gt + (long)(oy * Wo + ox) * L + l);
				DW_LD(x, xt + ip * L + l);
				acc += g * x;
			}
		memcpy(d + l, &acc, sizeof acc);
	}
	for (; l < L; l++) {
		d[l] = 0;
		for (oy = y0; oy < y1; oy++)
			for (ox = x0; ox < x1; ox++)
				d[l] += gt[(long)(oy * Wo + ox) * L + l] *
				    xt[(long)((oy * s - p + ky) * W + ox * s - p + kx) * L + l];
	}
}

/* Gradients of the lanes of dw_lanes_fwd: din (L, HW) += ..., dw (C, k*k)
 * += ... for channels c0 .. c0 + nc; sc->f holds (2 * HW + HWo + k*k + 1) * L. */
static NN_CLONES void
dw_lanes_bwd(float *din, float *dw, const float *dout, const float *in, const float *w,
    struct dw_scr *sc, int c0, int nc, int N, int H, int W, int k, int s)
{
	int p = k / 2, Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1;
	int iy, ix, ky, kx, c, n, L = nc * N;
	float *xt = sc->f, *gt = xt + (long)H * W * L, *dt = gt + (long)Ho * Wo * L;
	float *wl = dt + (long)H * W * L, *dl = wl + (long)k * k * L;	/* dl (L) */

	dw_tr(gt, dout, L, Ho * Wo, 0);
	if (dw) {
		dw_tr(xt, in, L, H * W, 0);
		for (ky = 0; ky < k; ky++)
			for (kx = 0; kx < k; kx++) {
				dw_grad_lanes(dl, gt, xt, L, ky, kx, H, W, Ho, Wo, k, s);
				for (c = 0; c < nc; c++) {
					float *d = dw + (long)(c0 + c) * k * k + ky * k + kx;
					for (n = 0; n < N; n++)
						*d += dl[c * N + n];
				}
			}
	}
	if (!din)
		return;
	dw_lane_weights(wl, w, c0, nc, N, k, H, W);
	for (iy = 0; iy < H; iy++)
		for (ix = 0; ix < W; ix++) {
			int m = dw_rtaps(sc->tap, sc->off, iy, ix, Ho, Wo, L, k, s);
			dw_gather_lanes(dt + (iy * W + ix) * (long)L, gt, wl, sc->tap, sc->off, m,
			    L);
		}
	dw_tr(din, dt, H * W, L, 1);
}

/*
 * Maps 8 or 16 wide: rows are one or two 8-float vectors, so each channel
 * is convolved plane by plane in place, over a zero-padded copy, with no
 * transposes. Stride 2 computes the even rows at full width and keeps the
 * even columns. The input gradient is the stride-1 convolution, with the
 * flipped kernel, of dout spread over the input grid (zeros between its
 * values for stride 2), and the weight gradient correlates that spread
 * dout with the input. All k*k taps are computed, padding too, so a 7x7
 * kernel on 8x8 maps (40% padding taps) stays with the transposes
 * (measured, stride 1: 2-3x faster for k 3, 1.3-2x for k 5 on 8x8 and for
 * k 7 on 16x16; stride 2: see dw_rows_ok).
 */
static int
dw_rows_ok(int W, int k, int s, int bwd)
{
	if (s == 1)
		return (W == 8 && (k == 3 || k == 5)) || (W == 16 && (k == 3 || k == 5 || k == 7));
	/* stride 2 wastes half the forward's columns and 3/4 of the spread
	 * dout: a win on 16-wide maps for k 3, and for the forward of k 5 */
	return W == 16 && (k == 3 || (k == 5 && !bwd));
}

/* Output rows oy .. oy + R of dw_rows_plane: R rows at once, so R * NV
 * accumulators hide the FMA latency (one row's NV chains of K*K FMAs each
 * waited on it: 2-3x slower); each output still sums its taps in order. */
static inline __attribute__((always_inline)) void
dw_rows_band(float *o, const float *w, const float *pad, int oy, int acc, const int K,
    const int NV, const int S, const int R)
{
	const int p = K / 2, W = NV * 8, PW = W + 2 * p, Wo = W / S;
	const v8i even = { 0, 2, 4, 6, 8, 10, 12, 14 };
	v8f a[4][2] = { { { 0 } } }, t;
	int ky, kx, v, r, y;

	for (ky = 0; ky < K; ky++)
#pragma GCC unroll 8
		for (kx = 0; kx < K; kx++) {
			float wt = w[ky * K + kx];
#pragma GCC unroll 4
			for (r = 0; r < R; r++)
#pragma GCC unroll 2
				for (v = 0; v < NV; v++) {
					memcpy(&t, pad + (long)((oy + r) * S + ky) * PW + kx + 8 * v,
					    sizeof t);
					a[r][v] += wt * t;
				}
		}
#pragma GCC unroll 4
	for (r = 0; r < R; r++) {
		if (S == 2)	/* keep the even columns */
			a[r][0] = __builtin_shuffle(a[r][0], a[r][NV - 1], even);
		for (v = 0; v * 8 < Wo; v++) {
			int nw = Wo - 8 * v < 8 ? Wo - 8 * v : 8;
			float *q = o + (long)(oy + r) * Wo + 8 * v;
			if (acc)
				for (y = 0; y < nw; y++)
					q[y] += a[r][v][y];
			else
				memcpy(q, &a[r][v], nw * sizeof *q);
		}
	}
}

/* o (Ho, Wo) (+)= x (H, NV*8) * w (K*K), stride S, over padded copy pad. */
static inline __attribute__((always_inline)) void
dw_rows_plane(float *o, const float *x, const float *w, float *pad, int H, int acc,
    const int K, const int NV, const int S)
{
	const int p = K / 2, W = NV * 8, PW = W + 2 * p, R = NV == 1 ? 4 : 1;
	int y, oy, Ho = (H - 1) / S + 1;

	for (y = 0; y < H; y++)
		memcpy(pad + (long)(y + p) * PW + p, x + (long)y * W, W * sizeof *x);
	for (oy = 0; oy + R <= Ho; oy += R)
		dw_rows_band(o, w, pad, oy, acc, K, NV, S, R);
	for (; oy < Ho; oy++)
		dw_rows_band(o, w, pad, oy, acc, K, NV, S, 1);
}

/* dw (K*K) += sum over the plane of g (H, W) times the taps of x's padded
 * copy pad. */
static inline __attribute__((always_inline)) void
dw_rows_grad(float *dw, const float *g, const float *x, float *pad, int H, const int K,
    const int NV)
{
	const int p = K / 2, W = NV * 8, PW = W + 2 * p;
	int y, oy, ky, kx, v, i;

	for (y = 0; y < H; y++)
		memcpy(pad + (long)(y + p) * PW + p, x + (long)y * W, W * sizeof *x);
	for (ky = 0; ky < K; ky++) {
		v8f a[7] = { { 0 } }, gv, t;
		for (oy = 0; oy < H; oy++)
			for (v = 0; v < NV; v++) {
				const float *r = pad + (long)(oy + ky) * PW + 8 * v;
				memcpy(&gv, g + (long)oy * W + 8 * v, sizeof gv);
#pragma GCC unroll 8
				for (kx = 0; kx < K; kx++) {
					memcpy(&t, r + kx, sizeof t);
					a[kx] += gv * t;
				}
			}
		for (kx = 0; kx < K; kx++)
			for (i = 0; i < 8; i++)
				dw[ky * K + kx] += a[kx][i];
	}
}

/* One channel, all N images: out (N, Ho, Wo) from in (N, H, W); or, when
 * backward, din (N, H, W) and dw from dout (N, Ho, Wo). pad: (H + 6) * (W + 6)
 * floats, u: H * W. */
static inline __attribute__((always_inline)) void
dw_rows_chan(float *out, const float *in, const float *w, float *din, float *dw,
    const float *dout, float *pad, float *u, int N, int H, const int K, const int NV,
    const int S)
{
	const int W = NV * 8, p = K / 2, Wo = W / S;
	float wf[49];
	long HW = (long)H * W, HWo = (long)((H - 1) / S + 1) * Wo;
	int n, t, y, x;

	memset(pad, 0, (long)(H + 2 * p) * (W + 2 * p) * sizeof *pad);
	if (dout && S == 2)	/* the forward (batch-1 latency) needs neither */
		memset(u, 0, HW * sizeof *u);
	if (din)
		for (t = 0; t < K * K; t++)
			wf[t] = w[K * K - 1 - t];
	for (n = 0; n < N; n++) {
		const float *g = dout ? dout + n * HWo : NULL;
		if (out)
			dw_rows_plane(out + n * HWo, in + n * HW, w, pad, H, 0, K, NV, S);
		if (g && S == 2) {	/* spread dout over the input grid */
			for (y = 0; y < H; y += 2)
				for (x = 0; x < W; x += 2)
					u[y * W + x] = g[y / 2 * Wo + x / 2];
			g = u;
		}
		if (dw)
			dw_rows_grad(dw, g, in + n * HW, pad, H, K, NV);
		if (din)
			dw_rows_plane(din + n * HW, g, wf, pad, H, 1, K, NV, 1);
	}
}

static NN_CLONES void
dw_rows(float *out, const float *in, const float *w, float *din, float *dw,
    const float *dout, float *pad, float *u, int N, int H, int W, int k, int s)
{
#define ROWS(K, NV, S) dw_rows_chan(out, in, w, din, dw, dout, pad, u, N, H, K, NV, S)
#define ROWS_K(NV, S) do { if (k == 3) ROWS(3, NV, S); \
	else if (k == 5) ROWS(5, NV, S); else ROWS(7, NV, S); } while (0)
	if (W == 8 && s == 1)
		ROWS_K(1, 1);
	else if (W == 8)
		ROWS_K(1, 2);
	else if (s == 1)
		ROWS_K(2, 1);
	else
		ROWS_K(2, 2);
#undef ROWS_K
#undef ROWS
}

/*
 * 2x2 and 1x1 maps below DW_SMALL_N images (the last stages at batch 1):
 * every tap of a 3x3 or larger kernel centred on such a map lands on it,
 * so each output is a fixed sum of the 4 (or 1) pixels, computed straight
 * from each channel's weights read in order. The lanes path spent most of
 * its time gathering those few taps out of each channel's k*k weights and
 * transposing maps of 1-4 pixels (2x2, k 7, 672 channels: 28 us). Each
 * output sums its taps in dw_taps' order (pixels in raster order), so the
 * sums are the lanes path's, bit for bit.
 */
static int
dw_tiny_ok(int N, int H, int W, int k)
{
	return N < DW_V && k >= 3 && ((H == 2 && W == 2) || (H == 1 && W == 1));
}

static NN_CLONES void
dw_tiny_fwd(float *out /* (nc, N, Ho, Wo) */, const float *in /* (nc, N, H, H) */,
    const float *w /* (nc, k*k) */, int nc, int N, int H, int k, int s)
{
	int p = k / 2, c, n, oy, ox, Ho = (H - 1) / s + 1;
	long kk = (long)k * k;

	if (H == 1) {
		for (c = 0; c < nc; c++)
			for (n = 0; n < N; n++)
				out[(long)c * N + n] = w[c * kk + p * k + p] * in[(long)c * N + n];
		return;
	}
	for (c = 0; c < nc; c++)
		for (n = 0; n < N; n++) {
			const float *x = in + ((long)c * N + n) * 4, *wc = w + c * kk;
			float *o = out + ((long)c * N + n) * Ho * Ho;
			for (oy = 0; oy < Ho; oy++)
				for (ox = 0; ox < Ho; ox++) {
					/* tap of pixel (iy, ix): (iy - oy*s + p, ix - ox*s + p) */
					const float *t = wc + (p - oy * s) * k + p - ox * s;
					float acc = 0;
					acc += t[0] * x[0];
					acc += t[1] * x[1];
					acc += t[k] * x[2];
					acc += t[k + 1] * x[3];
					o[oy * Ho + ox] = acc;
				}
		}
}

/* Below this batch the lanes path runs (vectors of images would be short),
 * but for the forward of every map dw_rows can take (8 or 16 wide, k 3, 5
 * or 7, stride 1 or 2): plane by plane, with no transposes, is faster there
 * at batch 1 whatever the padding (measured, 96-480 channels: 1.3-7x). */
#define DW_SMALL_N DW_V
/* Lanes per task of the lanes path: channels are grouped to about this. */
#define DW_LANES 256

/* The depthwise ops' arguments, for their per-channel (or channel group)
 * tasks. */
struct dw_job {
	float *out, *din, *dw;
	const float *in, *w, *dout;
	int N, C, H, W, k, s, group;  /* group: channels per lanes task */
	int rows;                     /* forward plane by plane (dw_rows) */
	int tiny;                     /* forward of 2x2 / 1x1 maps (dw_tiny_fwd) */
};

static void
dw_fwd_task(void *arg, long t)
{
	const struct dw_job *j = arg;
	int N = j->N, H = j->H, W = j->W, k = j->k, s = j->s, p = k / 2;
	int Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1;
	long HW = (long)H * W, HWo = (long)Ho * Wo;
	struct dw_scr sc;

	if (j->tiny) {
		int c0 = t * j->group, c1 = c0 + j->group < j->C ? c0 + j->group : j->C;
		dw_tiny_fwd(j->out + c0 * N * HWo, j->in + c0 * N * HW, j->w + (long)c0 * k * k,
		    c1 - c0, N, H, k, s);
	} else if (N < DW_SMALL_N && !j->rows) {
		int c0 = t * j->group, c1 = c0 + j->group < j->C ? c0 + j->group : j->C;
		dw_scr_get(&sc, (HW + HWo + k * k) * (long)(c1 - c0) * N, k);
		dw_lanes_fwd(j->out + c0 * N * HWo, j->in + c0 * N * HW, j->w, &sc, c0, c1 - c0,
		    N, H, W, k, s);
	} else if (j->rows || dw_rows_ok(W, k, s, 0)) {
		dw_scr_get(&sc, (long)(H + 6) * (W + 6) + HW, k);
		dw_rows(j->out + t * N * HWo, j->in + t * N * HW, j->w + t * k * k, NULL, NULL,
		    NULL, sc.f, sc.f + (H + 6) * (W + 6), N, H, W, k, s);
	} else {
		dw_scr_get(&sc, (HW + HWo) * N, k);
		dw_chan_fwd(j->out + t * N * HWo, j->in + t * N * HW, j->w + t * k * k, &sc, N,
		    H, W, k, s);
	}
}

static void
dw_bwd_task(void *arg, long t)
{
	const struct dw_job *j = arg;
	int N = j->N, H = j->H, W = j->W, k = j->k, s = j->s, p = k / 2;
	int Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1;
	long HW = (long)H * W, HWo = (long)Ho * Wo;
	float *din = j->din, *dw = j->dw;
	struct dw_scr sc;

	if (N < DW_SMALL_N) {
		int c0 = t * j->group, c1 = c0 + j->group < j->C ? c0 + j->group : j->C;
		dw_scr_get(&sc, (2 * HW + HWo + k * k + 1) * (long)(c1 - c0) * N, k);
		dw_lanes_bwd(din ? din + c0 * N * HW : NULL, dw, j->dout + c0 * N * HWo,
		    j->in + c0 * N * HW, j->w, &sc, c0, c1 - c0, N, H, W, k, s);
	} else if (dw_rows_ok(W, k, s, 1)) {
		dw_scr_get(&sc, (long)(H + 6) * (W + 6) + HW, k);
		dw_rows(NULL, j->in + t * N * HW, j->w + t * k * k, din ? din + t * N * HW : NULL,
		    dw ? dw + t * k * k : NULL, j->dout + t * N * HWo, sc.f,
		    sc.f + (H + 6) * (W + 6), N, H, W, k, s);
	} else {
		dw_scr_get(&sc, (2 * HW + HWo) * N, k);
		dw_chan_bwd(din ? din + t * N * HW : NULL, dw ? dw + t * k * k : NULL,
		    j->dout + t * N * HWo, j->in + t * N * HW, j->w + t * k * k, &sc, N, H, W,
		    k, s);
	}
}

/* Tasks: channels, or groups of channels for the lanes path (fixed by
 * the shape, so the lanes and their results do not depend on threads). */
static long
dw_tasks(struct dw_job *j)
{
	if ((j->N >= DW_SMALL_N || j->rows) && !j->tiny)
		return j->C;
	j->group = (DW_LANES + j->N - 1) / j->N;
	return (j->C + j->group - 1) / j->group;
}

void
nn_dw_fwd(float *out /* (C, N, Ho, Wo) */, const float *in /* (C, N, H, W) */,
    const float *w /* (C, k*k) */, int N, int C, int H, int W, int k, int s)
{
	struct dw_job j = { .out = out, .in = in, .w = w, .N = N, .C = C, .H = H, .W = W,
		.k = k, .s = s, .rows = N < DW_SMALL_N && (W == 8 || W == 16) && (k == 3 || k == 5 || k == 7) &&
		(s == 1 || s == 2), .tiny = dw_tiny_ok(N, H, W, k) };
	long Ho = (H - 1) / s + 1, Wo = (W - 1) / s + 1;

	nn_par(dw_tasks(&j), (long)C * N * Ho * Wo * k * k, dw_fwd_task, &j);
}

void
nn_dw_bwd(float *din /* (C, N, H, W) or NULL */, float *dw /* (C, k*k) or NULL */,
    const float *dout /* (C, N, Ho, Wo) */, const float *in /* (C, N, H, W) */,
    const float *w /* (C, k*k) */, int N, int C, int H, int W, int k, int s)
{
	struct dw_job j = { .din = din, .dw = dw, .in = in, .w = w, .dout = dout, .N = N,
		.C = C, .H = H, .W = W, .k = k, .s = s };
	long Ho = (H - 1) / s + 1, Wo = (W - 1) / s + 1;

	nn_par(dw_tasks(&j), (long)C * N * Ho * Wo * k * k, dw_bwd_task, &j);
}

/* ---- elastic kernel ----------------------------------------------------- */

/* Index in the ki x ki kernel of tap j of its centre ko x ko crop. */
static int
crop_idx(int j, int ki, int ko)
{
	int off = (ki - ko) / 2;

	return (off + j / ko) * ki + off + j % ko;
}

void
nn_ktrans_fwd(float *out /* (C, ko*ko) */, const float *in /* (C, ki*ki) */,
    const float *M /* (ko*ko, ko*ko) */, int C, int ki, int ko)
{
	int c, i, j, kk = ko * ko;

	for (c = 0; c < C; c++)
		for (i = 0; i < kk; i++) {
			float acc = 0;
			for (j = 0; j < kk; j++)
				acc += M[i * kk + j] * in[(long)c * ki * ki + crop_idx(j, ki, ko)];
			out[(long)c * kk + i] = acc;
		}
}

void
nn_ktrans_bwd(float *din /* (C, ki*ki) or NULL */, float *dM /* (ko*ko, ko*ko) or NULL */,
    const float *dout /* (C, ko*ko) */, const float *in /* (C, ki*ki) */,
    const float *M /* (ko*ko, ko*ko) */, int C, int ki, int ko)
{
	int c, i, j, kk = ko * ko;

	for (c = 0; c < C; c++)
		for (i = 0; i < kk; i++) {
			float g = dout[(long)c * kk + i];
			for (j = 0; j < kk; j++) {
				long x = (long)c * ki * ki + crop_idx(j, ki, ko);
				if (dM)
					dM[i * kk + j] += g * in[x];
				if (din)
					din[x] += g * M[i * kk + j];
			}
		}
}
