/*
 * nn.c - the engine's elementwise, normalisation, pooling, dense and loss
 * operations (convolutions are in nn_conv.c, reference twins in nn_ref.c).
 *
 * Threads: nn_par tasks over channels or fixed chunks of elements, only
 * when the work is large enough to pay for waking the pool (NN_PAR), since
 * most tensors of a 32x32 network are small.
 */
#include <cblas.h>
#ifdef __SSE2__
#include <immintrin.h>
#endif
#include <err.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nachos.h"

#include "nn.h"
#include "nn_impl.h"

/* Float compares may trap by default, which stops GCC from if-converting
 * (and so vectorising) the activation and mask loops at -O2; the engine
 * never inspects floating-point exception flags. */
#pragma GCC optimize("no-trapping-math")

/*
 * GEMMs are split the same way whatever the threads (so the results are
 * too): along the longer side of C into tiles of at least GEMM_TILE, or,
 * when K is much the longest (weight gradients: K is the batch's pixels),
 * into fixed K chunks whose partial products are summed in a fixed order;
 * each tile packs its own copy of the operand it shares with the others,
 * so tiles must not be thin, and K chunks pack nothing twice.
 */
#define GEMM_SERIAL (1L << 20)   /* M*N*K below this: one call */
#define GEMM_TILE 128            /* least rows or columns of C per task */
#define GEMM_TASKS 16            /* most tasks per GEMM */
#define GEMM_KCHUNK 4096         /* least K per chunk */

struct gemm_job {
	enum CBLAS_TRANSPOSE TA, TB;
	int M, N, K, lda, ldb, ldc, along_n, step;
	float alpha, beta;
	const float *A, *B;
	float *C, *part;             /* part: (ntask, M, N) K-chunk products */
};

static void
gemm_tile(void *p, long t)
{
	const struct gemm_job *j = p;
	int ta = j->TA == CblasTrans, tb = j->TB == CblasTrans;
	int len = j->along_n ? j->N : j->M, lo = t * j->step;
	int hi = lo + j->step < len ? lo + j->step : len;

	if (j->along_n)
		cblas_sgemm(CblasRowMajor, j->TA, j->TB, j->M, hi - lo, j->K, j->alpha, j->A,
		    j->lda, tb ? j->B + (long)lo * j->ldb : j->B + lo, j->ldb, j->beta,
		    j->C + lo, j->ldc);
	else
		cblas_sgemm(CblasRowMajor, j->TA, j->TB, hi - lo, j->N, j->K, j->alpha,
		    ta ? j->A + lo : j->A + (long)lo * j->lda, j->lda, j->B, j->ldb, j->beta,
		    j->C + (long)lo * j->ldc, j->ldc);
}

static void
gemm_kchunk(void *p, long t)
{
	const struct gemm_job *j = p;
	int ta = j->TA == CblasTrans, tb = j->TB == CblasTrans;
	int lo = t * j->step, hi = lo + j->step < j->K ? lo + j->step : j->K;

	cblas_sgemm(CblasRowMajor, j->TA, j->TB, j->M, j->N, hi - lo, 1,
	    ta ? j->A + (long)lo * j->lda : j->A + lo, j->lda,
	    tb ? j->B + lo : j->B + (long)lo * j->ldb, j->ldb, 0,
	    j->part + t * (long)j->M * j->N, j->N);
}

/* C = beta*C + alpha*(part[0] + part[1] + ...), rows of C as tasks */
static void
gemm_ksum(void *p, long r)
{
	const struct gemm_job *j = p;
	int nt = (j->K + j->step - 1) / j->step, t, c;
	float *cr = j->C + r * j->ldc;

	for (c = 0; c < j->N; c++) {
		float acc = j->part[r * j->N + c];
		for (t = 1; t < nt; t++)
			acc += j->part[(t * (long)j->M + r) * j->N + c];
		cr[c] = j->beta == 0 ? j->alpha * acc : j->beta * cr[c] + j->alpha * acc;
	}
}

/*
 * Skinny products (N at most GEMM_SKINNY: 1x1 convolutions and linear
 * layers at batch 1, exit heads on 2x2 maps): OpenBLAS packs a copy of the
 * whole of A (the weights) before computing, which costs more than the
 * product itself when N is this small; this kernel streams A once instead,
 * four rows at a time against two columns of B^T held in cache, so each
 * load of A feeds two FMAs. Rows are split in fixed blocks, so results do
 * not depend on the threads.
 */
#define GEMM_SKINNY 8            /* most columns of C for the skinny kernel */
#define SK_ROWS 64               /* rows of C per task */

typedef float v8f __attribute__((vector_size(8 * sizeof(float))));

struct skinny_job {
	int M, N, K, lda, ldc;
	float alpha, beta;
	const float *A, *Bt;         /* A (M, K) row stride lda, Bt (N, K) row stride ldbt */
	long ldbt;
	float *C;
};

static inline __attribute__((always_inline)) float
hsum8(const v8f *v)
{
	return (((*v)[0] + (*v)[4]) + ((*v)[1] + (*v)[5])) +
	    (((*v)[2] + (*v)[6]) + ((*v)[3] + (*v)[7]));
}

static inline __attribute__((always_inline)) void
skinny_put(const struct skinny_job *j, int r, int n, float s)
{
	float *c = j->C + (long)r * j->ldc + n;

	*c = j->beta == 0 ? j->alpha * s : j->beta * *c + j->alpha * s;
}

/* C rows r0 .. r0 + R (R 4 or 1), columns n0 .. n0 + P (P 2 or 1): the
 * 4 x 2 accumulators are named variables, so they stay in registers. */
static inline __attribute__((always_inline)) void
skinny_block(const struct skinny_job *j, int r0, int n0, const int R, const int P)
{
	const float *A = j->A + (long)r0 * j->lda, *B0 = j->Bt + n0 * j->ldbt;
	const float *B1 = P > 1 ? B0 + j->ldbt : B0;
	const float *A1 = A + (R > 1 ? j->lda : 0), *A2 = A1 + (R > 1 ? j->lda : 0);
	const float *A3 = A2 + (R > 1 ? j->lda : 0);
	int K = j->K, k;
	v8f a00 = { 0 }, a01 = { 0 }, a10 = { 0 }, a11 = { 0 }, a20 = { 0 }, a21 = { 0 };
	v8f a30 = { 0 }, a31 = { 0 }, x, b0, b1 = { 0 };
	float s00, s01, s10, s11, s20, s21, s30, s31;

#define SK_ROW(Ar, a0, a1) do { memcpy(&x, (Ar) + k, sizeof x); a0 += x * b0; \
	if (P > 1) a1 += x * b1; } while (0)
	for (k = 0; k + 8 <= K; k += 8) {
		memcpy(&b0, B0 + k, sizeof b0);
		if (P > 1)
			memcpy(&b1, B1 + k, sizeof b1);
		SK_ROW(A, a00, a01);
		if (R > 1) {
			SK_ROW(A1, a10, a11);
			SK_ROW(A2, a20, a21);
			SK_ROW(A3, a30, a31);
		}
	}
#undef SK_ROW
	s00 = hsum8(&a00), s01 = hsum8(&a01), s10 = hsum8(&a10), s11 = hsum8(&a11);
	s20 = hsum8(&a20), s21 = hsum8(&a21), s30 = hsum8(&a30), s31 = hsum8(&a31);
	for (; k < K; k++) {
		s00 += A[k] * B0[k], s01 += A[k] * B1[k];
		if (R > 1) {
			s10 += A1[k] * B0[k], s11 += A1[k] * B1[k];
			s20 += A2[k] * B0[k], s21 += A2[k] * B1[k];
			s30 += A3[k] * B0[k], s31 += A3[k] * B1[k];
		}
	}
	skinny_put(j, r0, n0, s00);
	if (P > 1)
		skinny_put(j, r0, n0 + 1, s01);
	if (R > 1) {
		skinny_put(j, r0 + 1, n0, s10);
		skinny_put(j, r0 + 2, n0, s20);
		skinny_put(j, r0 + 3, n0, s30);
		if (P > 1) {
			skinny_put(j, r0 + 1, n0 + 1, s11);
			skinny_put(j, r0 + 2, n0 + 1, s21);
			skinny_put(j, r0 + 3, n0 + 1, s31);
		}
	}
}

/* One column (gemv): row by row, each a single sequential stream with
 * four accumulators (measured 1.5x the four-row kernel's bandwidth on
 * weights from L3). */
static inline __attribute__((always_inline)) void
skinny_col(const struct skinny_job *j, int m0, int m1)
{
	const float *x = j->Bt;
	int K = j->K, m, k;

	for (m = m0; m < m1; m++) {
		const float *a = j->A + (long)m * j->lda;
		v8f a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 }, v, w;
		float s;

		for (k = 0; k + 32 <= K; k += 32) {
			memcpy(&v, a + k, sizeof v), memcpy(&w, x + k, sizeof w), a0 += v * w;
			memcpy(&v, a + k + 8, sizeof v), memcpy(&w, x + k + 8, sizeof w), a1 += v * w;
			memcpy(&v, a + k + 16, sizeof v), memcpy(&w, x + k + 16, sizeof w), a2 += v * w;
			memcpy(&v, a + k + 24, sizeof v), memcpy(&w, x + k + 24, sizeof w), a3 += v * w;
		}
		for (; k + 8 <= K; k += 8)
			memcpy(&v, a + k, sizeof v), memcpy(&w, x + k, sizeof w), a0 += v * w;
		a0 = (a0 + a1) + (a2 + a3);
		s = hsum8(&a0);
		for (; k < K; k++)
			s += a[k] * x[k];
		skinny_put(j, m, 0, s);
	}
}

static NN_CLONES void
skinny_rows(const struct skinny_job *j, int m0, int m1)
{
	int m = m0, n;

	if (j->N == 1) {
		skinny_col(j, m0, m1);
		return;
	}

	for (; m + 4 <= m1; m += 4) {
		for (n = 0; n + 2 <= j->N; n += 2)
			skinny_block(j, m, n, 4, 2);
		if (n < j->N)
			skinny_block(j, m, n, 4, 1);
	}
	for (; m < m1; m++) {
		for (n = 0; n + 2 <= j->N; n += 2)
			skinny_block(j, m, n, 1, 2);
		if (n < j->N)
			skinny_block(j, m, n, 1, 1);
	}
}

static void
skinny_task(void *p, long t)
{
	const struct skinny_job *j = p;
	int m1 = (t + 1) * SK_ROWS;

	skinny_rows(j, t * SK_ROWS, m1 < j->M ? m1 : j->M);
}

/* B^T of the caller's thread: kept and only grown (batch-1 inference
 * calls this for every layer). */
static __thread float *sk_keep;
static __thread long sk_keep_n;

/* C (M, N) = alpha * A (M, K) op(B) + beta * C, A not transposed,
 * N <= GEMM_SKINNY. */
static void
gemm_skinny(int tb, int M, int N, int K, float alpha, const float *A, int lda,
    const float *B, int ldb, float beta, float *C, int ldc)
{
	struct skinny_job j = { M, N, K, lda, ldc, alpha, beta, A, B, tb ? ldb : K, C };
	int n, k;

	if (!(tb ? ldb == K || N == 1 : N == 1 && ldb == 1)) {
		/* rows 64-byte aligned, as the weights in the model's arena: a
		 * vector load across two cache lines costs two (measured 2x on 2x2
		 * maps at batch 1) */
		long kp = (K + 15) / 16 * 16;
		float *bt;
		if (N * kp > sk_keep_n) {
			free(sk_keep);
			if (posix_memalign((void **)&sk_keep, 64, (size_t)N * kp * sizeof *sk_keep))
				errx(EX_SOFTWARE, "nn_gemm: out of memory");
			sk_keep_n = N * kp;
		}
		bt = sk_keep;
		for (n = 0; n < N; n++)
			for (k = 0; k < K; k++)
				bt[n * kp + k] = tb ? B[(long)n * ldb + k] : B[(long)k * ldb + n];
		j.Bt = bt;
		j.ldbt = kp;
	}
	nn_par((M + SK_ROWS - 1) / SK_ROWS, (long)M * N * K, skinny_task, &j);
}

void
nn_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
    const float *B, int ldb, float beta, float *C, int ldc)
{
	enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans;
	enum CBLAS_TRANSPOSE TB = tb ? CblasTrans : CblasNoTrans;
	struct gemm_job j = { TA, TB, M, N, K, lda, ldb, ldc, N >= M, 0, alpha, beta, A, B,
		C, NULL };
	int len = j.along_n ? N : M, nt;

	if (!ta && N <= GEMM_SKINNY) {
		gemm_skinny(tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
		return;
	}
	/* one row, C^T = B A^T: a linear layer at batch 1 */
	if (M == 1 && !ta && tb) {
		gemm_skinny(0, N, 1, K, alpha, B, ldb, A, 1, beta, C, 1);
		return;
	}
	/* one column or row: gemv, which streams A instead of packing a copy
	 * of it first */
	if (N == 1) {
		cblas_sgemv(CblasRowMajor, TA, ta ? K : M, ta ? M : K, alpha, A, lda, B,
		    tb ? 1 : ldb, beta, C, ldc);
		return;
	}
	if (M == 1) {
		cblas_sgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, tb ? N : K, tb ? K : N,
		    alpha, B, ldb, A, ta ? lda : 1, beta, C, 1);
		return;
	}
	if ((double)M * N * K < GEMM_SERIAL) {
		cblas_sgemm(CblasRowMajor, TA, TB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
		return;
	}
	if (K >= 8 * len && K >= 2 * GEMM_KCHUNK) {
		nt = K / GEMM_KCHUNK < GEMM_TASKS ? K / GEMM_KCHUNK : GEMM_TASKS;
		j.step = (K + nt - 1) / nt;
		nt = (K + j.step - 1) / j.step;
		if ((j.part = malloc((size_t)nt * M * N * sizeof(float))) == NULL)
			errx(EX_SOFTWARE, "nn_gemm: out of memory");
		nn_par(nt, (long)M * N * K, gemm_kchunk, &j);
		nn_par(M, (long)M * N * nt, gemm_ksum, &j);
		free(j.part);
		return;
	}
	/* tiles: a multiple of 16 wide, at least GEMM_TILE, at most GEMM_TASKS */
	j.step = (len + GEMM_TASKS - 1) / GEMM_TASKS;
	j.step = j.step < GEMM_TILE ? GEMM_TILE : (j.step + 15) / 16 * 16;
	nn_par((len + j.step - 1) / j.step, (long)M * N * K, gemm_tile, &j);
}

/*
 * Packed products for batch-1 inference of 1x1 convolutions on 2x2 and
 * 4x4 maps (C (M, N) = A (M, K) B (K, N), 2 <= N <= NN_PACK_N; wider, on
 * 8x8 and 16x16 maps with few k, storing C lane by lane cost more than
 * OpenBLAS's packing: measured): A is packed once
 * into panels of 8 rows, k-major (nn_pack_a), so a vector of A holds one
 * k of 8 rows and each B element is broadcast: no horizontal sums (the
 * row-major skinny kernel spent a third of its time in them at K of
 * 100-500) and one aligned stream of A. Two panels by four columns a
 * step: eight accumulators, six loads per eight FMAs (measured 49 against
 * 29 GMAC/s for M 448, N 4, K 112). Each output sums over k in order.
 */
#define PK_ROWS 8                /* rows of a panel */
#define PK_TASK 64               /* rows of C per task */

long
nn_pack_size(int M, int K)
{
	return (long)(M + 2 * PK_ROWS - 1) / (2 * PK_ROWS) * 2 * PK_ROWS * K;
}

void
nn_pack_a(float *Ap /* (nn_pack_size) */, const float *A /* (M, K) */, int M, int K)
{
	long m, k, rows = nn_pack_size(M, K) / (K ? K : 1);

	for (m = 0; m < rows; m++)
		for (k = 0; k < K; k++)
			Ap[(m / PK_ROWS * K + k) * PK_ROWS + m % PK_ROWS] =
			    m < M ? A[m * K + k] : 0;
}

struct pk_job {
	int M, N, K, ldb, ldc;
	const float *Ap, *B;
	float *C;
};

/* C rows of panels p, p + 1 (P of them), columns n0 .. n0 + NB */
static inline __attribute__((always_inline)) void
pk_block(const struct pk_job *j, int p, int n0, const int P, const int NB)
{
	const float *a0 = j->Ap + (long)p * PK_ROWS * j->K, *a1 = a0 + PK_ROWS * j->K;
	const float *b = j->B + n0;
	v8f c[2][4] = { { { 0 } } }, x0, x1 = { 0 };
	int k, i, n, r;

	for (k = 0; k < j->K; k++, b += j->ldb) {
		memcpy(&x0, a0 + (long)k * PK_ROWS, sizeof x0);
		if (P > 1)
			memcpy(&x1, a1 + (long)k * PK_ROWS, sizeof x1);
#pragma GCC unroll 4
		for (n = 0; n < NB; n++) {
			c[0][n] += x0 * b[n];
			if (P > 1)
				c[1][n] += x1 * b[n];
		}
	}
	for (r = 0; r < P; r++)
		for (i = 0; i < PK_ROWS && (p + r) * PK_ROWS + i < j->M; i++)
			for (n = 0; n < NB; n++)
				j->C[(long)((p + r) * PK_ROWS + i) * j->ldc + n0 + n] = c[r][n][i];
}

static NN_CLONES void
pk_rows(const struct pk_job *j, int p0, int p1)
{
	int p, n;

	for (p = p0; p < p1; p += 2)
		for (n = 0; n < j->N; n += 4) {
			int nb = j->N - n < 4 ? j->N - n : 4;
#define PK(P) do { if (nb == 4) pk_block(j, p, n, P, 4); \
	else if (nb == 3) pk_block(j, p, n, P, 3); \
	else if (nb == 2) pk_block(j, p, n, P, 2); \
	else pk_block(j, p, n, P, 1); } while (0)
			if (p + 1 < p1)
				PK(2);
			else
				PK(1);
#undef PK
		}
}

static void
pk_task(void *q, long t)
{
	const struct pk_job *j = q;
	int np = (j->M + PK_ROWS - 1) / PK_ROWS, p0 = t * (PK_TASK / PK_ROWS);
	int p1 = p0 + PK_TASK / PK_ROWS < np ? p0 + PK_TASK / PK_ROWS : np;

	pk_rows(j, p0, p1);
}

void
nn_gemm_packed(float *C /* (M, N) row stride ldc */, const float *Ap /* nn_pack_a of (M, K) */,
    const float *B /* (K, N) row stride ldb */, int M, int N, int K, int ldb, int ldc)
{
	struct pk_job j = { M, N, K, ldb, ldc, Ap, B, C };

	nn_par((M + PK_TASK - 1) / PK_TASK, (long)M * N * K, pk_task, &j);
}

/* Activations: value and derivative. Called with a literal act, so the
 * switch folds and the loops around them if-convert and vectorise
 * (sequential selects). Derivatives are those PyTorch's autograd gives
 * OFA's formulas relu6(x+3)/6 and x*relu6(x+3)/6: zero at the kinks'
 * outer side. */
static inline __attribute__((always_inline)) float
clampf(float x, float lo, float hi)
{
	x = x < lo ? lo : x;
	return x > hi ? hi : x;
}

static inline __attribute__((always_inline)) float
act_f(float x, const int act)
{
	switch (act) {
	case NN_RELU: return clampf(x, 0, INFINITY);
	case NN_RELU6: return clampf(x, 0, 6);
	case NN_HSWISH: return x * clampf(x + 3, 0, 6) * (1.f / 6);
	case NN_HSIGMOID: return clampf(x + 3, 0, 6) * (1.f / 6);
	}
	return x;
}

static inline __attribute__((always_inline)) float
act_d(float x, const int act)
{
	float d;

	switch (act) {
	case NN_RELU: return x > 0 ? 1.f : 0.f;
	case NN_RELU6: return x > 0 && x < 6 ? 1.f : 0.f;
	case NN_HSWISH:
		d = (2 * x + 3) * (1.f / 6);
		d = x <= -3 ? 0 : d;
		return x >= 3 ? 1 : d;
	case NN_HSIGMOID: return x > -3 && x < 3 ? 1.f / 6 : 0.f;
	}
	return 1;
}

/* CALL(A) with A the literal value of act. */
#define ACT_DISPATCH(act, CALL) switch (act) { \
	case NN_RELU: CALL(NN_RELU); break; \
	case NN_RELU6: CALL(NN_RELU6); break; \
	case NN_HSWISH: CALL(NN_HSWISH); break; \
	case NN_HSIGMOID: CALL(NN_HSIGMOID); break; \
	default: CALL(NN_ID); break; \
	}

/* Batch norm statistics in one pass over x (BN is memory-bound): sums of
 * x - K and (x - K)^2 with the shift K = x[0], a sample of the channel, so
 * var = E[(x-K)^2] - E[x-K]^2 does not cancel badly; vectorised float sums
 * over blocks of 1024 are accumulated in double. */
static inline __attribute__((always_inline)) void
bn_stats(double *mu, double *sq, const float *x /* (M) */, long M)
{
	double s1 = 0, s2 = 0;
	float K = x[0];
	long i, j;

	for (i = 0; i < M; i += 1024) {
		float a1 = 0, a2 = 0;
		long e = i + 1024 < M ? i + 1024 : M;
#pragma omp simd reduction(+:a1, a2)
		for (j = i; j < e; j++) {
			a1 += x[j] - K;
			a2 += (x[j] - K) * (x[j] - K);
		}
		s1 += a1;
		s2 += a2;
	}
	*mu = K + s1 / M;
	*sq = s2 - s1 * s1 / M;
	if (*sq < 0)
		*sq = 0;
}

/* y = act(x * a + b) over one channel */
static inline __attribute__((always_inline)) void
affine_act(float *y, const float *x, long M, float a, float b, const int act)
{
	long i;

#pragma omp simd
	for (i = 0; i < M; i++)
		y[i] = act_f(x[i] * a + b, act);
}

static inline __attribute__((always_inline)) void
bn_chan_fwd(float *y /* (M) */, const float *x /* (M) */, long M, float a, float b, int act)
{
#define FWD(A) affine_act(y, x, M, a, b, A)
	ACT_DISPATCH(act, FWD)
#undef FWD
}

/* The batch-norm ops' arguments, for their tasks: groups of `per`
 * channels, about BN_GROUP elements (small maps: many channels a task, one
 * call of the vectorised clone for all of them). */
#define BN_GROUP 16384L
#define BN_COEF 64               /* channels whose affine is computed at once */
#define BN_SMALL_M 16            /* most elements a channel of the per-element path */

struct bn_job {
	float *out, *mean, *rstd, *run_mean, *run_var, *din, *dgamma, *dbeta;
	const float *in, *gamma, *beta, *dout, *m, *r;
	const float *ca, *cb;        /* eval: the affine, precomputed (or NULL) */
	long M, C, per;
	float momentum, eps;
	int act;
};

static long
bn_tasks(struct bn_job *j)
{
	j->per = BN_GROUP / (j->M > 0 ? j->M : 1);
	if (j->per < 1)
		j->per = 1;
	return (j->C + j->per - 1) / j->per;
}

/* beta - mu * a, rounded twice as the baseline build computes it (the clones
 * would fuse it into one FMA): the same bits as before channels were
 * grouped, and on every CPU. */
static __attribute__((noinline)) float
bn_shift(float beta, float mu, float a)
{
	return beta - mu * a;
}

/* for c over the channels of task t */
#define FOR_CHANNELS(j, t, c) for (c = (t) * (j)->per; \
	c < (j)->C && c < ((t) + 1) * (j)->per; c++)

static NN_CLONES void
bn_fwd_train_task(void *p, long t)
{
	const struct bn_job *j = p;
	long M = j->M, c;

	FOR_CHANNELS(j, t, c) {
		double mu, sq;
		float a;

		bn_stats(&mu, &sq, j->in + c * M, M);
		j->mean[c] = mu;
		j->rstd[c] = 1 / sqrt(sq / M + j->eps);
		a = j->rstd[c] * j->gamma[c];
		bn_chan_fwd(j->out + c * M, j->in + c * M, M, a, bn_shift(j->beta[c], mu, a),
		    j->act);
		j->run_mean[c] = (1 - j->momentum) * j->run_mean[c] + j->momentum * mu;
		j->run_var[c] = (1 - j->momentum) * j->run_var[c] +
		    j->momentum * (M > 1 ? sq / (M - 1) : sq / M);
	}
}

void
nn_bn_act_fwd_train(float *out /* (C, M) */, float *mean /* (C) */, float *rstd /* (C) */,
    float *run_mean /* (C) */, float *run_var /* (C) */, const float *in /* (C, M) */,
    const float *gamma /* (C) */, const float *beta /* (C) */,
    int C, long M, float momentum, float eps, int act)
{
	struct bn_job j = { .out = out, .mean = mean, .rstd = rstd, .run_mean = run_mean,
		.run_var = run_var, .in = in, .gamma = gamma, .beta = beta, .M = M,
		.C = C, .momentum = momentum, .eps = eps, .act = act };

	nn_par(bn_tasks(&j), C * M, bn_fwd_train_task, &j);
}

void
nn_bn_fwd_train(float *out /* (C, M) */, float *mean /* (C) */, float *rstd /* (C) */,
    float *run_mean /* (C) */, float *run_var /* (C) */, const float *in /* (C, M) */,
    const float *gamma /* (C) */, const float *beta /* (C) */,
    int C, long M, float momentum, float eps)
{
	nn_bn_act_fwd_train(out, mean, rstd, run_mean, run_var, in, gamma, beta, C, M,
	    momentum, eps, NN_ID);
}

/* The eval affine of channels c0 .. c0 + n: a = gamma / sqrt(var + eps),
 * b = beta - mean * a, over channels (small maps have many); outside the
 * clones, so b is rounded twice on every CPU as bn_shift. SSE's square
 * root and division are correctly rounded as sqrtf and /, so the same
 * bits, four channels an instruction (sqrtf's errno keeps GCC from
 * vectorising it: scalar, this was a third of BN's time at batch 1). */
static void
bn_eval_coef(float *a /* (n) */, float *b /* (n) */, const struct bn_job *j, long c0, int n)
{
	const float *g = j->gamma + c0, *be = j->beta + c0, *mu = j->m + c0, *r = j->r + c0;
	int i = 0;

#ifdef __SSE2__
	for (; i + 4 <= n; i += 4) {
		__m128 ai = _mm_div_ps(_mm_loadu_ps(g + i),
		    _mm_sqrt_ps(_mm_add_ps(_mm_loadu_ps(r + i), _mm_set1_ps(j->eps))));
		_mm_storeu_ps(a + i, ai);
		_mm_storeu_ps(b + i, _mm_sub_ps(_mm_loadu_ps(be + i),
		    _mm_mul_ps(_mm_loadu_ps(mu + i), ai)));
	}
#endif
	for (; i < n; i++) {
		float t;
		a[i] = g[i] / sqrtf(r[i] + j->eps);
		t = mu[i] * a[i];
		b[i] = be[i] - t;
	}
}

/* y (n) = act(x * a + b), one element per channel (1 x 1 maps at batch 1) */
static inline __attribute__((always_inline)) void
affine_act_chans(float *y, const float *x, const float *a, const float *b, int n,
    const int act)
{
	int i;

#pragma omp simd
	for (i = 0; i < n; i++)
		y[i] = act_f(x[i] * a[i] + b[i], act);
}

static NN_CLONES void
bn_fwd_eval_task(void *p, long t)
{
	const struct bn_job *j = p;
	long c0 = t * j->per, c1 = c0 + j->per < j->C ? c0 + j->per : j->C, c, M = j->M;
	float ca[BN_COEF], cb[BN_COEF];
	const float *a, *b;
	int i, n;

	for (c = c0; c < c1; c += n) {
		n = c1 - c < BN_COEF ? c1 - c : BN_COEF;
		if (j->ca) {	/* nn_affine_act_fwd: computed before */
			a = j->ca + c, b = j->cb + c;
		} else {
			bn_eval_coef(ca, cb, j, c, n);
			a = ca, b = cb;
		}
		if (M == 1) {
#define FWD(A) affine_act_chans(j->out + c, j->in + c, a, b, n, A)
			ACT_DISPATCH(j->act, FWD)
#undef FWD
			continue;
		}
		if (M <= BN_SMALL_M) {	/* 2x2 .. 4x4 maps at batch 1: one loop */
			float ae[BN_COEF * BN_SMALL_M], be[BN_COEF * BN_SMALL_M];
			int e, q = 0;
			for (i = 0; i < n; i++)
				for (e = 0; e < M; e++, q++)
					ae[q] = a[i], be[q] = b[i];
#define FWD(A) affine_act_chans(j->out + c * M, j->in + c * M, ae, be, n * M, A)
			ACT_DISPATCH(j->act, FWD)
#undef FWD
			continue;
		}
		for (i = 0; i < n; i++)
			bn_chan_fwd(j->out + (c + i) * M, j->in + (c + i) * M, M, a[i], b[i],
			    j->act);
	}
}

void
nn_bn_act_fwd_eval(float *out /* (C, M) */, const float *in /* (C, M) */,
    const float *gamma /* (C) */, const float *beta /* (C) */,
    const float *run_mean /* (C) */, const float *run_var /* (C) */,
    int C, long M, float eps, int act)
{
	struct bn_job j = { .out = out, .in = in, .gamma = gamma, .beta = beta, .m = run_mean,
		.r = run_var, .M = M, .C = C, .eps = eps, .act = act };

	nn_par(bn_tasks(&j), C * M, bn_fwd_eval_task, &j);
}

void
nn_bn_eval_coef(float *a /* (C) */, float *b /* (C) */, const float *gamma /* (C) */,
    const float *beta /* (C) */, const float *run_mean /* (C) */,
    const float *run_var /* (C) */, int C, float eps)
{
	struct bn_job j = { .gamma = gamma, .beta = beta, .m = run_mean, .r = run_var,
		.C = C, .eps = eps };
	int c, n;

	for (c = 0; c < C; c += n) {
		n = C - c < BN_COEF ? C - c : BN_COEF;
		bn_eval_coef(a + c, b + c, &j, c, n);
	}
}

void
nn_affine_act_fwd(float *out /* (C, M) */, const float *in /* (C, M) */,
    const float *a /* (C) */, const float *b /* (C) */, int C, long M, int act)
{
	struct bn_job j = { .out = out, .in = in, .ca = a, .cb = b, .M = M, .C = C,
		.act = act };

	nn_par(bn_tasks(&j), C * M, bn_fwd_eval_task, &j);
}

void
nn_bn_fwd_eval(float *out /* (C, M) */, const float *in /* (C, M) */,
    const float *gamma /* (C) */, const float *beta /* (C) */,
    const float *run_mean /* (C) */, const float *run_var /* (C) */,
    int C, long M, float eps)
{
	nn_bn_act_fwd_eval(out, in, gamma, beta, run_mean, run_var, C, M, eps, NN_ID);
}

/* One channel of the fused backward: the gradient at the BN output is
 * g = dout * act'(z), z = gamma*xhat + beta recomputed from x; then
 * din += gamma*r*(g - mean(g) - xhat*mean(g*xhat)), xhat = (x-m)*r. */
static inline __attribute__((always_inline)) void
bn_act_chan_bwd(float *din, float *dgamma, float *dbeta, const float *g0, const float *x,
    long M, float m, float r, float ga, float be, const int act)
{
	double sg = 0, sgx = 0;
	float k1, k2, k3;
	long i, j;

	for (i = 0; i < M; i += 1024) {
		float a1 = 0, a2 = 0;
		long e = i + 1024 < M ? i + 1024 : M;
#pragma omp simd reduction(+:a1, a2)
		for (j = i; j < e; j++) {
			float xh = (x[j] - m) * r, g = g0[j] * act_d(ga * xh + be, act);
			a1 += g;
			a2 += g * xh;
		}
		sg += a1;
		sgx += a2;
	}
	if (dgamma)
		*dgamma += sgx;
	if (dbeta)
		*dbeta += sg;
	if (!din)
		return;
	k1 = ga * r;
	k2 = k1 * sg / M;
	k3 = k1 * r * sgx / M;
#pragma omp simd
	for (i = 0; i < M; i++) {
		float g = g0[i] * act_d(ga * (x[i] - m) * r + be, act);
		din[i] += k1 * g - k2 - (x[i] - m) * k3;
	}
}

static inline __attribute__((always_inline)) void
bn_chan_bwd(float *din, float *dgamma, float *dbeta, const float *g0, const float *x,
    long M, float m, float r, float ga, float be, int act)
{
#define BWD(A) bn_act_chan_bwd(din, dgamma, dbeta, g0, x, M, m, r, ga, be, A)
	ACT_DISPATCH(act, BWD)
#undef BWD
}

static NN_CLONES void
bn_bwd_task(void *p, long t)
{
	const struct bn_job *j = p;
	long M = j->M, c;

	FOR_CHANNELS(j, t, c)
		bn_chan_bwd(j->din ? j->din + c * M : NULL, j->dgamma ? j->dgamma + c : NULL,
		    j->dbeta ? j->dbeta + c : NULL, j->dout + c * M, j->in + c * M, M, j->m[c],
		    j->r[c], j->gamma[c], j->act == NN_ID ? 0 : j->beta[c], j->act);
}

void
nn_bn_act_bwd(float *din /* (C, M) or NULL */, float *dgamma /* (C) or NULL */,
    float *dbeta /* (C) or NULL */, const float *dout /* (C, M) */,
    const float *in /* (C, M) */, const float *mean /* (C) */, const float *rstd /* (C) */,
    const float *gamma /* (C) */, const float *beta /* (C) */, int C, long M, int act)
{
	struct bn_job j = { .din = din, .dgamma = dgamma, .dbeta = dbeta, .dout = dout,
		.in = in, .m = mean, .r = rstd, .gamma = gamma, .beta = beta, .M = M, .C = C,
		.act = act };

	nn_par(bn_tasks(&j), C * M, bn_bwd_task, &j);
}

void
nn_bn_bwd(float *din /* (C, M) or NULL */, float *dgamma /* (C) or NULL */,
    float *dbeta /* (C) or NULL */, const float *dout /* (C, M) */,
    const float *in /* (C, M) */, const float *mean /* (C) */, const float *rstd /* (C) */,
    const float *gamma /* (C) */, int C, long M)
{
	nn_bn_act_bwd(din, dgamma, dbeta, dout, in, mean, rstd, gamma, NULL, C, M,
	    NN_ID);
}

static NN_CLONES void
act_range_fwd(float *out, const float *in, long n, int act)
{
	long i;

#define FWD(A) _Pragma("omp simd") for (i = 0; i < n; i++) out[i] = act_f(in[i], A)
	ACT_DISPATCH(act, FWD)
#undef FWD
}

static NN_CLONES void
act_range_bwd(float *din, const float *dout, const float *in, long n, int act)
{
	long i;

#define BWD(A) _Pragma("omp simd") for (i = 0; i < n; i++) din[i] += dout[i] * act_d(in[i], A)
	ACT_DISPATCH(act, BWD)
#undef BWD
}

/* Elementwise ops: tasks of EW_CHUNK elements (64 KiB of floats). */
#define EW_CHUNK 16384L
#define EW_TASKS(n) (((n) + EW_CHUNK - 1) / EW_CHUNK)

struct ew_job {
	float *out;
	const float *a, *b;
	long n;
	int act;
};

/* [*lo, *hi) of task t */
static long
ew_range(const struct ew_job *j, long t, long *hi)
{
	*hi = (t + 1) * EW_CHUNK < j->n ? (t + 1) * EW_CHUNK : j->n;
	return t * EW_CHUNK;
}

static void
act_fwd_task(void *p, long t)
{
	const struct ew_job *j = p;
	long hi, lo = ew_range(j, t, &hi);

	act_range_fwd(j->out + lo, j->a + lo, hi - lo, j->act);
}

static void
act_bwd_task(void *p, long t)
{
	const struct ew_job *j = p;
	long hi, lo = ew_range(j, t, &hi);

	act_range_bwd(j->out + lo, j->a + lo, j->b + lo, hi - lo, j->act);
}

void
nn_act_fwd(float *out /* (n) */, const float *in /* (n) */, long n, int act)
{
	struct ew_job j = { out, in, NULL, n, act };

	if (act == NN_ID) {
		if (out != in)
			memcpy(out, in, n * sizeof *out);
		return;
	}
	nn_par(EW_TASKS(n), n, act_fwd_task, &j);
}

void
nn_act_bwd(float *din /* (n) */, const float *dout /* (n) */, const float *in /* (n) */,
    long n, int act)
{
	struct ew_job j = { din, dout, in, n, act };

	nn_par(EW_TASKS(n), n, act_bwd_task, &j);
}

/* Ops over (channel, image) planes: tasks of `per` planes, about EW_CHUNK
 * elements. */
struct plane_job {
	float *out, *din, *ds;
	const float *in, *dout, *s;
	int32_t *argmax;
	const int32_t *cargmax;
	int C, N, H, W, HW, k;
	long per, total;             /* planes per task, planes */
};

static struct plane_job
planes(int C, int N, int HW, long total)
{
	struct plane_job j = { .C = C, .N = N, .HW = HW, .total = total };

	j.per = EW_CHUNK / (HW > 0 ? HW : 1);
	if (j.per < 1)
		j.per = 1;
	return j;
}

#define PLANE_TASKS(j) (((j).total + (j).per - 1) / (j).per)
/* for cn over the planes of task t */
#define FOR_PLANES(j, t, cn) for (cn = (t) * (j)->per; \
	cn < (j)->total && cn < ((t) + 1) * (j)->per; cn++)

static void
gap_fwd_task(void *p, long t)
{
	const struct plane_job *j = p;
	long cn;

	FOR_PLANES(j, t, cn) {
		float acc = 0;
		int i;

		for (i = 0; i < j->HW; i++)
			acc += j->in[cn * j->HW + i];
		j->out[cn] = acc / j->HW;
	}
}

void
nn_gap_fwd(float *out /* (C, N) */, const float *in /* (C, N, HW) */, int C, int N, int HW)
{
	struct plane_job j = planes(C, N, HW, (long)C * N);

	j.out = out, j.in = in;
	nn_par(PLANE_TASKS(j), (long)C * N * HW, gap_fwd_task, &j);
}

static void
gap_bwd_task(void *p, long t)
{
	const struct plane_job *j = p;
	long cn;

	FOR_PLANES(j, t, cn) {
		float g = j->dout[cn] / j->HW;
		int i;

		for (i = 0; i < j->HW; i++)
			j->din[cn * j->HW + i] += g;
	}
}

void
nn_gap_bwd(float *din /* (C, N, HW) */, const float *dout /* (C, N) */, int C, int N, int HW)
{
	struct plane_job j = planes(C, N, HW, (long)C * N);

	j.din = din, j.dout = dout;
	nn_par(PLANE_TASKS(j), (long)C * N * HW, gap_bwd_task, &j);
}

static void
scale_fwd_task(void *p, long t)
{
	const struct plane_job *j = p;
	long cn;

	FOR_PLANES(j, t, cn) {
		float v = j->s[cn];
		int i;

		for (i = 0; i < j->HW; i++)
			j->out[cn * j->HW + i] = j->in[cn * j->HW + i] * v;
	}
}

void
nn_scale_fwd(float *out /* (C, N, HW) */, const float *in /* (C, N, HW) */,
    const float *s /* (C, N) */, int C, int N, int HW)
{
	struct plane_job j = planes(C, N, HW, (long)C * N);

	j.out = out, j.in = in, j.s = s;
	nn_par(PLANE_TASKS(j), (long)C * N * HW, scale_fwd_task, &j);
}

static void
scale_bwd_task(void *p, long t)
{
	const struct plane_job *j = p;
	long cn, HW = j->HW;

	FOR_PLANES(j, t, cn) {
		float v = j->s[cn], acc = 0;
		int i;

		for (i = 0; i < HW; i++)
			acc += j->dout[cn * HW + i] * j->in[cn * HW + i];
		if (j->ds)
			j->ds[cn] += acc;
		if (j->din)
			for (i = 0; i < HW; i++)
				j->din[cn * HW + i] += j->dout[cn * HW + i] * v;
	}
}

void
nn_scale_bwd(float *din /* (C, N, HW) or NULL */, float *ds /* (C, N) or NULL */,
    const float *dout /* (C, N, HW) */, const float *in /* (C, N, HW) */,
    const float *s /* (C, N) */, int C, int N, int HW)
{
	struct plane_job j = planes(C, N, HW, (long)C * N);

	j.din = din, j.ds = ds, j.dout = dout, j.in = in, j.s = s;
	nn_par(PLANE_TASKS(j), (long)C * N * HW, scale_bwd_task, &j);
}

static void
add_task(void *p, long t)
{
	const struct ew_job *j = p;
	long hi, lo = ew_range(j, t, &hi), i;

#pragma omp simd
	for (i = lo; i < hi; i++)
		j->out[i] = j->a[i] + j->b[i];
}

void
nn_add_fwd(float *out /* (n) */, const float *a /* (n) */, const float *b /* (n) */, long n)
{
	struct ew_job j = { out, a, b, n, 0 };

	nn_par(EW_TASKS(n), n, add_task, &j);
}

void
nn_acc(float *acc /* (n) */, const float *x /* (n) */, long n)
{
	nn_add_fwd(acc, acc, x, n);
}

static void
copy_task(void *p, long t)
{
	const struct ew_job *j = p;
	long hi, lo = ew_range(j, t, &hi);

	if (j->a)
		memcpy(j->out + lo, j->a + lo, (hi - lo) * sizeof(float));
	else
		memset(j->out + lo, 0, (hi - lo) * sizeof(float));
}

void
nn_copy(float *out /* (n) */, const float *x /* (n) or NULL */, long n)
{
	struct ew_job j = { out, x, NULL, n, 0 };

	nn_par(EW_TASKS(n), n, copy_task, &j);
}

static void
maxpool_fwd_task(void *p, long t)
{
	const struct plane_job *j = p;
	int H = j->H, W = j->W, k = j->k, Ho = H / k, Wo = W / k;
	long cn;

	FOR_PLANES(j, t, cn) {
		const float *x = j->in + cn * H * W;
		int oy, ox, ky, kx;

		for (oy = 0; oy < Ho; oy++)
			for (ox = 0; ox < Wo; ox++) {
				int best = oy * k * W + ox * k;
				for (ky = 0; ky < k; ky++)
					for (kx = 0; kx < k; kx++) {
						int i = (oy * k + ky) * W + ox * k + kx;
						if (x[i] > x[best])
							best = i;
					}
				j->out[(cn * Ho + oy) * Wo + ox] = x[best];
				j->argmax[(cn * Ho + oy) * Wo + ox] = best;
			}
	}
}

void
nn_maxpool_fwd(float *out /* (C, N, H/k, W/k) */, int32_t *argmax /* (C, N, H/k, W/k) */,
    const float *in /* (C, N, H, W) */, int C, int N, int H, int W, int k)
{
	struct plane_job j = planes(C, N, H * W, (long)C * N);

	j.out = out, j.argmax = argmax, j.in = in, j.H = H, j.W = W, j.k = k;
	nn_par(PLANE_TASKS(j), (long)C * N * H * W, maxpool_fwd_task, &j);
}

static void
maxpool_bwd_task(void *p, long t)
{
	const struct plane_job *j = p;
	long cn, i, HW = (long)j->H * j->W, HWo = (long)(j->H / j->k) * (j->W / j->k);

	FOR_PLANES(j, t, cn)
		for (i = 0; i < HWo; i++)
			j->din[cn * HW + j->cargmax[cn * HWo + i]] += j->dout[cn * HWo + i];
}

void
nn_maxpool_bwd(float *din /* (C, N, H, W) */, const float *dout /* (C, N, H/k, W/k) */,
    const int32_t *argmax /* (C, N, H/k, W/k) */, int C, int N, int H, int W, int k)
{
	struct plane_job j = planes(C, N, H * W, (long)C * N);

	j.din = din, j.dout = dout, j.cargmax = argmax, j.H = H, j.W = W, j.k = k;
	nn_par(PLANE_TASKS(j), (long)C * N * H * W, maxpool_bwd_task, &j);
}

/* flatten: tasks over images */
static void
flatten_fwd_task(void *p, long t)
{
	const struct plane_job *j = p;
	long n;
	int c;

	FOR_PLANES(j, t, n)
		for (c = 0; c < j->C; c++)
			memcpy(j->out + (n * j->C + c) * j->HW, j->in + ((long)c * j->N + n) * j->HW,
			    j->HW * sizeof *j->out);
}

void
nn_flatten_fwd(float *out /* (N, C*HW) */, const float *in /* (C, N, HW) */,
    int C, int N, int HW)
{
	struct plane_job j = planes(C, N, C * HW, N);

	j.HW = HW, j.out = out, j.in = in;
	nn_par(PLANE_TASKS(j), (long)C * N * HW, flatten_fwd_task, &j);
}

static void
flatten_bwd_task(void *p, long t)
{
	const struct plane_job *j = p;
	long n;
	int c, i;

	FOR_PLANES(j, t, n)
		for (c = 0; c < j->C; c++)
			for (i = 0; i < j->HW; i++)
				j->din[((long)c * j->N + n) * j->HW + i] +=
				    j->dout[(n * j->C + c) * j->HW + i];
}

void
nn_flatten_bwd(float *din /* (C, N, HW) */, const float *dout /* (N, C*HW) */,
    int C, int N, int HW)
{
	struct plane_job j = planes(C, N, C * HW, N);

	j.HW = HW, j.din = din, j.dout = dout;
	nn_par(PLANE_TASKS(j), (long)C * N * HW, flatten_bwd_task, &j);
}

void
nn_linear_fwd(float *out /* (N, O) */, const float *in /* (N, D) */,
    const float *w /* (O, D) */, const float *b /* (O) or NULL */, int N, int D, int O)
{
	int n;

	if (b)
		for (n = 0; n < N; n++)
			memcpy(out + (long)n * O, b, O * sizeof *out);
	nn_gemm(0, 1, N, O, D, 1, in, D, w, D, b ? 1 : 0, out, O);
}

void
nn_linear_bwd(float *din /* (N, D) or NULL */, float *dw /* (O, D) or NULL */,
    float *db /* (O) or NULL */, const float *dout /* (N, O) */,
    const float *in /* (N, D) */, const float *w /* (O, D) */, int N, int D, int O)
{
	int n, o;

	if (din)
		nn_gemm(0, 0, N, D, O, 1, dout, O, w, D, 1, din, D);
	if (dw)
		nn_gemm(1, 0, O, D, N, 1, dout, O, in, D, 1, dw, D);
	if (db)
		for (n = 0; n < N; n++)
			for (o = 0; o < O; o++)
				db[o] += dout[(long)n * O + o];
}

void
nn_dropout_fwd(float *out /* (n) */, uint8_t *mask /* (n) */, const float *in /* (n) */,
    long n, float p, struct nn_rng *rng)
{
	float keep = p < 1 ? 1 / (1 - p) : 0;
	long i;

	/* Sequential: the mask must depend on the seed only, not on threads. */
	for (i = 0; i < n; i++) {
		mask[i] = p <= 0 || nn_rng_uniform(rng) >= p;
		out[i] = mask[i] ? in[i] * keep : 0;
	}
}

void
nn_dropout_bwd(float *din /* (n) */, const float *dout /* (n) */,
    const uint8_t *mask /* (n) */, long n, float p)
{
	float keep = p < 1 ? 1 / (1 - p) : 0;
	long i;

	for (i = 0; i < n; i++)
		din[i] += mask[i] ? dout[i] * keep : 0;
}

double
nn_softmax_ce_fwd(float *probs /* (N, K) or NULL */, const float *logits /* (N, K) */,
    const int *y /* (N) */, int N, int K)
{
	double loss = 0;
	int n, k;

	for (n = 0; n < N; n++) {
		const float *z = logits + (long)n * K;
		double mx = z[0], sum = 0;
		for (k = 1; k < K; k++)
			if (z[k] > mx)
				mx = z[k];
		for (k = 0; k < K; k++)
			sum += exp(z[k] - mx);
		loss += log(sum) - (z[y[n]] - mx);
		if (probs)
			for (k = 0; k < K; k++)
				probs[(long)n * K + k] = exp(z[k] - mx) / sum;
	}
	return N > 0 ? loss / N : 0;
}

void
nn_softmax_ce_bwd(float *dlogits /* (N, K) */, const float *probs /* (N, K) */,
    const int *y /* (N) */, int N, int K, float scale)
{
	int n, k;

	for (n = 0; n < N; n++)
		for (k = 0; k < K; k++)
			dlogits[(long)n * K + k] += scale *
			    (probs[(long)n * K + k] - (k == y[n]));
}

double
nn_bce_fwd(const float *z /* (N) */, const float *t /* (N) */, const float *wt /* (N) or NULL */,
    int N)
{
	double loss = 0;
	int i;

	/* BCE(sigmoid(z), t) = max(z,0) - z*t + log(1 + exp(-|z|)) */
	for (i = 0; i < N; i++)
		loss += (wt ? wt[i] : 1) *
		    (fmax(z[i], 0) - (double)z[i] * t[i] + log1p(exp(-fabs(z[i]))));
	return loss;
}

void
nn_bce_bwd(float *dz /* (N) */, const float *z /* (N) */, const float *t /* (N) */,
    const float *wt /* (N) or NULL */, int N, float scale)
{
	int i;

	for (i = 0; i < N; i++) {
		/* sigmoid without overflow for large |z| */
		float e = expf(-fabsf(z[i])), sg = z[i] >= 0 ? 1 / (1 + e) : e / (1 + e);
		dz[i] += scale * (wt ? wt[i] : 1) * (sg - t[i]);
	}
}
