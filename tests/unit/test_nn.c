/* test_nn.c - fast kernels against their reference twins on random data,
 * the accumulate convention, and known values of the simple ops. */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "unit.h"

static struct nn_rng rng;

static float *
randv(long n)
{
	float *v = malloc((n > 0 ? n : 1) * sizeof *v);
	long i;

	for (i = 0; i < n; i++)
		v[i] = nn_rng_normal(&rng);
	return v;
}

static float *
dupv(const float *v, long n)
{
	float *d = malloc((n > 0 ? n : 1) * sizeof *d);

	memcpy(d, v, n * sizeof *d);
	return d;
}

/* Gradients start from random values, not zero, so accumulation is tested. */
static void
conv_case(int N, int Ci, int H, int W, int Co, int k, int s, int p, int bias)
{
	int Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1;
	long nin = (long)Ci * N * H * W, nout = (long)Co * N * Ho * Wo, nw = (long)Co * Ci * k * k;
	float *in = randv(nin), *w = randv(nw), *b = bias ? randv(Co) : NULL;
	float *col = randv(nn_conv_col_size(N, Ci, H, W, k, s, p));
	float *o1 = randv(nout), *o2 = randv(nout), *g = randv(nout);
	float *di1 = randv(nin), *di2 = dupv(di1, nin), *dw1 = randv(nw), *dw2 = dupv(dw1, nw);
	float *db1 = randv(Co), *db2 = dupv(db1, Co);

	nn_conv_fwd(o1, in, w, b, col, N, Ci, H, W, Co, k, s, p);
	nn_ref_conv_fwd(o2, in, w, b, NULL, N, Ci, H, W, Co, k, s, p);
	CHECK_CLOSE(o1, o2, nout, 1e-4, 1e-4);
	nn_conv_bwd(di1, dw1, bias ? db1 : NULL, g, in, w, col, N, Ci, H, W, Co, k, s, p);
	nn_ref_conv_bwd(di2, dw2, bias ? db2 : NULL, g, in, w, NULL, N, Ci, H, W, Co, k, s, p);
	CHECK_CLOSE(di1, di2, nin, 1e-4, 1e-4);
	CHECK_CLOSE(dw1, dw2, nw, 1e-3, 1e-4);
	CHECK_CLOSE(db1, db2, Co, 1e-3, 1e-4);
	/* NULL gradients are skipped */
	memcpy(dw2, dw1, nw * sizeof *dw1);
	nn_conv_bwd(NULL, dw1, NULL, g, in, w, col, N, Ci, H, W, Co, k, s, p);
	nn_ref_conv_bwd(NULL, dw2, NULL, g, in, w, NULL, N, Ci, H, W, Co, k, s, p);
	CHECK_CLOSE(dw1, dw2, nw, 1e-3, 1e-4);
	free(in), free(w), free(b), free(col), free(o1), free(o2), free(g);
	free(di1), free(di2), free(dw1), free(dw2), free(db1), free(db2);
}

static void
test_conv(void)
{
	conv_case(3, 4, 5, 5, 6, 1, 1, 0, 0);	/* one GEMM */
	conv_case(3, 4, 5, 5, 6, 1, 1, 0, 1);
	conv_case(2, 3, 8, 8, 5, 3, 2, 1, 0);	/* first conv */
	conv_case(2, 3, 7, 6, 4, 3, 1, 1, 1);
	conv_case(2, 2, 9, 9, 3, 5, 2, 2, 1);
	conv_case(2, 5, 4, 4, 3, 1, 2, 0, 0);	/* strided 1x1 via im2col */
	conv_case(1, 2, 6, 6, 2, 3, 3, 0, 1);
	conv_case(16, 32, 16, 16, 48, 1, 1, 0, 1);	/* GEMMs split over threads */
	conv_case(8, 8, 16, 16, 24, 3, 2, 1, 0);
	conv_case(40, 3, 32, 32, 4, 3, 2, 1, 1);	/* im2col in two chunks of images */
}

static void
dw_case(int N, int C, int H, int W, int k, int s)
{
	int p = k / 2, Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1;
	long nin = (long)C * N * H * W, nout = (long)C * N * Ho * Wo, nw = (long)C * k * k;
	float *in = randv(nin), *w = randv(nw), *o1 = randv(nout), *o2 = randv(nout);
	float *g = randv(nout), *di1 = randv(nin), *di2 = dupv(di1, nin);
	float *dw1 = randv(nw), *dw2 = dupv(dw1, nw);

	nn_dw_fwd(o1, in, w, N, C, H, W, k, s);
	nn_ref_dw_fwd(o2, in, w, N, C, H, W, k, s);
	CHECK_CLOSE(o1, o2, nout, 1e-4, 1e-4);
	nn_dw_bwd(di1, dw1, g, in, w, N, C, H, W, k, s);
	nn_ref_dw_bwd(di2, dw2, g, in, w, N, C, H, W, k, s);
	CHECK_CLOSE(di1, di2, nin, 1e-4, 1e-4);
	CHECK_CLOSE(dw1, dw2, nw, 1e-3, 1e-4);
	nn_dw_bwd(NULL, dw1, g, in, w, N, C, H, W, k, s);
	nn_ref_dw_bwd(NULL, dw2, g, in, w, N, C, H, W, k, s);
	CHECK_CLOSE(dw1, dw2, nw, 1e-3, 1e-4);
	nn_dw_bwd(di1, NULL, g, in, w, N, C, H, W, k, s);
	nn_ref_dw_bwd(di2, NULL, g, in, w, N, C, H, W, k, s);
	CHECK_CLOSE(di1, di2, nin, 1e-4, 1e-4);
	free(in), free(w), free(o1), free(o2), free(g), free(di1), free(di2), free(dw1), free(dw2);
}

/* Maps of 1 or 2 pixels a side at batch 1 (dw_tiny_fwd) sum each output's
 * taps in the order the batch path does: the same bits as an image of a
 * larger batch. */
static void
test_dw_tiny(void)
{
	int k, s, H, C = 70, N = 17, c, same;

	for (k = 3; k <= 7; k += 2)
		for (s = 1; s <= 2; s++)
			for (H = 1; H <= 2; H++) {
				int Ho = (H - 1) / s + 1;
				long hw = H * H, hwo = Ho * Ho;
				float *in = randv(C * N * hw), *w = randv((long)C * k * k);
				float *one = randv(C * hw), *o1 = randv(C * hwo);
				float *oN = randv(C * N * hwo);

				for (c = 0; c < C; c++)
					memcpy(one + c * hw, in + c * N * hw, hw * sizeof *in);
				nn_dw_fwd(o1, one, w, 1, C, H, H, k, s);
				nn_dw_fwd(oN, in, w, N, C, H, H, k, s);
				for (same = 1, c = 0; c < C; c++)
					same &= !memcmp(o1 + c * hwo, oN + c * N * hwo,
					    hwo * sizeof *o1);
				CHECK(same);
				free(in), free(w), free(one), free(o1), free(oN);
			}
}

static void
test_dw(void)
{
	int k, s;

	for (k = 3; k <= 7; k += 2)
		for (s = 1; s <= 2; s++) {
			dw_case(3, 5, 8, 8, k, s);
			dw_case(2, 3, 7, 5, k, s);	/* odd, non-square */
			dw_case(2, 2, 2, 2, k, s);	/* smaller than the kernel */
			dw_case(2, 2, 1, 1, k, s);
			dw_case(2, 9, 6, 5, k, s);	/* small batch: 18 lanes */
			dw_case(1, 4, 16, 16, k, s);	/* batch 1: plane by plane */
			dw_case(1, 3, 5, 16, k, s);
			dw_case(1, 3, 8, 8, k, s);
			dw_case(1, 3, 7, 8, k, s);	/* bands of 4 rows and a tail */
			/* batch 1, small maps: lanes of channels */
			dw_case(1, 40, 4, 4, k, s);
			dw_case(1, 300, 2, 2, k, s);
			dw_case(1, 40, 1, 1, k, s);
		}
	dw_case(2, 3, 9, 9, 9, 1);	/* generic path */
	/* batch-vectorised path with a tail; large enough to run threaded */
	dw_case(20, 3, 5, 5, 7, 2);
	dw_case(17, 2, 4, 4, 3, 1);
	dw_case(70, 2, 5, 5, 5, 2);	/* four vectors of images at a time */
	dw_case(133, 2, 3, 3, 3, 1);
	dw_case(40, 3, 6, 6, 7, 1);	/* kernel rows in registers, and a tail */
	dw_case(33, 2, 5, 5, 7, 2);
	/* maps 8 or 16 wide: plane by plane, no transposes */
	dw_case(16, 3, 16, 16, 3, 2);
	dw_case(17, 2, 8, 8, 5, 2);
	dw_case(16, 2, 7, 16, 7, 2);
	dw_case(18, 2, 8, 8, 3, 2);
	dw_case(16, 2, 6, 16, 5, 2);
	dw_case(16, 3, 16, 16, 3, 1);
	dw_case(20, 2, 8, 8, 7, 1);
	dw_case(17, 3, 5, 16, 7, 1);
	dw_case(18, 2, 9, 8, 3, 1);
	dw_case(16, 2, 3, 8, 5, 1);
	dw_case(16, 64, 8, 8, 5, 1);
	dw_case(3, 64, 8, 8, 5, 1);	/* small batch, threaded */
	dw_case(1, 33, 4, 4, 7, 2);
	dw_case(1, 70, 4, 4, 7, 1);	/* lanes: 32 at a time, then 16, then one */
	dw_case(2, 41, 3, 3, 3, 1);
}

/* nn_gemm against a naive product, large enough to be split over threads
 * along N (wide) and along M (tall), as gemv (one column or row), and
 * skinny (N <= 8: odd N, K not a multiple of 8, rows not a multiple of 4,
 * several row blocks), every transpose combination. */
static void
test_gemm(void)
{
	int shapes[][3] = { { 40, 300, 100 }, { 301, 40, 100 }, { 37, 1, 20 }, { 1, 23, 19 },
		{ 67, 5, 21 }, { 130, 8, 40 }, { 3, 2, 5 }, { 1, 300, 77 }, { 259, 1, 130 } };
	int sh, ta, tb, ns = sizeof shapes / sizeof shapes[0];

	for (sh = 0; sh < ns * 4; sh++) {
		int M = shapes[sh / 4][0], N = shapes[sh / 4][1], K = shapes[sh / 4][2], i, j, l;
		float *A = randv((long)M * K), *B = randv((long)K * N);
		float *C = randv((long)M * N), *R = dupv(C, (long)M * N);
		ta = sh % 2;
		tb = sh / 2 % 2;
		for (i = 0; i < M; i++)
			for (j = 0; j < N; j++) {
				double acc = 0;
				for (l = 0; l < K; l++)
					acc += (double)(ta ? A[l * M + i] : A[i * K + l]) *
					    (tb ? B[j * K + l] : B[l * N + j]);
				R[i * N + j] = 0.5 * R[i * N + j] + 2 * acc;
			}
		nn_gemm(ta, tb, M, N, K, 2, A, ta ? M : K, B, tb ? K : N, 0.5f, C, N);
		CHECK_CLOSE(C, R, (long)M * N, 1e-4, 1e-4);
		free(A), free(B), free(C), free(R);
	}
}

/* nn_gemm_packed against a naive product: rows not a multiple of the
 * panels (8) nor of their pairs, columns 2 to NN_PACK_N (the four-column
 * steps and every tail), strided B and C, several tasks. */
static void
test_gemm_packed(void)
{
	int Ms[] = { 1, 7, 16, 37, 130 }, Ks[] = { 1, 9, 112 }, mi, ki, ni;
	int Ns[] = { 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, NN_PACK_N - 1, NN_PACK_N };

	for (mi = 0; mi < 5; mi++)
		for (ki = 0; ki < 3; ki++)
			for (ni = 0; ni < 14; ni++) {
				int M = Ms[mi], K = Ks[ki], N = Ns[ni], ldb = N + 3, ldc = N + 1, i, j, l;
				float *A = randv((long)M * K), *B = randv((long)K * ldb);
				float *C = randv((long)M * ldc), *R = dupv(C, (long)M * ldc), *Ap;

				if (posix_memalign((void **)&Ap, 64, nn_pack_size(M, K) * sizeof *Ap))
					abort();
				for (i = 0; i < M; i++)
					for (j = 0; j < N; j++) {
						double acc = 0;
						for (l = 0; l < K; l++)
							acc += (double)A[i * K + l] * B[l * ldb + j];
						R[i * ldc + j] = acc;
					}
				nn_pack_a(Ap, A, M, K);
				nn_gemm_packed(C, Ap, B, M, N, K, ldb, ldc);
				CHECK_CLOSE(C, R, (long)M * ldc, 1e-5, 1e-5);
				free(A), free(B), free(C), free(R), free(Ap);
			}
}

static void
test_linear(void)
{
	int N = 7, D = 13, O = 5;
	float *in = randv(N * D), *w = randv(O * D), *b = randv(O), *o1 = randv(N * O);
	float *o2 = randv(N * O), *g = randv(N * O), *di1 = randv(N * D), *di2 = dupv(di1, N * D);
	float *dw1 = randv(O * D), *dw2 = dupv(dw1, O * D), *db1 = randv(O), *db2 = dupv(db1, O);

	nn_linear_fwd(o1, in, w, b, N, D, O);
	nn_ref_linear_fwd(o2, in, w, b, N, D, O);
	CHECK_CLOSE(o1, o2, N * O, 1e-5, 1e-5);
	nn_linear_fwd(o1, in, w, NULL, N, D, O);
	nn_ref_linear_fwd(o2, in, w, NULL, N, D, O);
	CHECK_CLOSE(o1, o2, N * O, 1e-5, 1e-5);
	nn_linear_bwd(di1, dw1, db1, g, in, w, N, D, O);
	nn_ref_linear_bwd(di2, dw2, db2, g, in, w, N, D, O);
	CHECK_CLOSE(di1, di2, N * D, 1e-5, 1e-5);
	CHECK_CLOSE(dw1, dw2, O * D, 1e-5, 1e-5);
	CHECK_CLOSE(db1, db2, O, 1e-5, 1e-5);
	free(in), free(w), free(b), free(o1), free(o2), free(g);
	free(di1), free(di2), free(dw1), free(dw2), free(db1), free(db2);
}

static void
bn_case(int C, long M)
{
	float *in = randv(C * M), *ga = randv(C), *be = randv(C), *o1 = randv(C * M);
	float *o2 = randv(C * M), *m1 = randv(C), *m2 = randv(C), *r1 = randv(C), *r2 = randv(C);
	float *rm1 = randv(C), *rm2 = dupv(rm1, C), *rv1 = randv(C), *rv2, *g = randv(C * M);
	float *di1 = randv(C * M), *di2 = dupv(di1, C * M);
	float *dg1 = randv(C), *dg2 = dupv(dg1, C), *db1 = randv(C), *db2 = dupv(db1, C);
	long i;
	int c;

	for (c = 0; c < C; c++)
		rv1[c] = 1 + rv1[c] * rv1[c];
	rv2 = dupv(rv1, C);
	for (i = 0; i < C * M; i++)
		in[i] = 3 + 2 * in[i];	/* offset mean, to test centring */
	nn_bn_fwd_train(o1, m1, r1, rm1, rv1, in, ga, be, C, M, 0.1f, 1e-5f);
	nn_ref_bn_fwd_train(o2, m2, r2, rm2, rv2, in, ga, be, C, M, 0.1f, 1e-5f);
	CHECK_CLOSE(o1, o2, C * M, 1e-5, 1e-5);
	/* The batch statistics are sums of M floats, in another order in the
	 * kernel than in the reference (and another again at -O1, where no
	 * loop is vectorised): recursive summation's error bound, M u (u the
	 * unit roundoff, FLT_EPSILON / 2), is the tolerance. */
	CHECK_CLOSE(m1, m2, C, 1e-6, M * FLT_EPSILON / 2);
	CHECK_CLOSE(r1, r2, C, 1e-6, M * FLT_EPSILON / 2);
	CHECK_CLOSE(rm1, rm2, C, 1e-6, M * FLT_EPSILON / 2);
	CHECK_CLOSE(rv1, rv2, C, 1e-6, M * FLT_EPSILON / 2);
	nn_bn_bwd(di1, dg1, db1, g, in, m1, r1, ga, C, M);
	nn_ref_bn_bwd(di2, dg2, db2, g, in, m2, r2, ga, C, M);
	CHECK_CLOSE(di1, di2, C * M, 1e-5, 1e-4);
	CHECK_CLOSE(dg1, dg2, C, 1e-4, 1e-5);
	CHECK_CLOSE(db1, db2, C, 1e-4, 1e-5);
	/* eval with running stats equal to the batch stats = training output */
	for (c = 0; c < C; c++) {
		rm1[c] = m1[c];
		rv1[c] = 1 / (r1[c] * r1[c]) - 1e-5f;
	}
	nn_bn_fwd_eval(o2, in, ga, be, rm1, rv1, C, M, 1e-5f);
	CHECK_CLOSE(o2, o1, C * M, 1e-4, 1e-4);
	free(in), free(ga), free(be), free(o1), free(o2), free(m1), free(m2), free(r1), free(r2);
	free(rm1), free(rm2), free(rv1), free(rv2), free(g), free(di1), free(di2);
	free(dg1), free(dg2), free(db1), free(db2);
}

static void
test_bn(void)
{
	float in[4] = { 1, 2, 3, 4 }, out[4], mean, rstd, rm = 0, rv = 1, ga = 1, be = 0;

	bn_case(3, 50);
	bn_case(40, 1000);	/* threaded */
	/* known values: mean 2.5, biased var 1.25, unbiased 5/3 */
	nn_bn_fwd_train(out, &mean, &rstd, &rm, &rv, in, &ga, &be, 1, 4, 0.1f, 0);
	CHECK_NEAR(mean, 2.5, 1e-6);
	CHECK_NEAR(rstd, 1 / sqrt(1.25), 1e-6);
	CHECK_NEAR(rm, 0.25, 1e-6);
	CHECK_NEAR(rv, 0.9 + 0.1 * 5 / 3.0, 1e-6);
	CHECK_NEAR(out[0], -1.5 / sqrt(1.25), 1e-6);
}

/* The fused BN + activation against BN then the activation, every act. */
static void
test_bn_act(void)
{
	int C = 5, act, c;
	long M = 300, n = C * M, i;
	float *in = randv(n), *ga = randv(C), *be = randv(C), *g = randv(n);
	float *o1 = randv(n), *o2 = randv(n), *z = randv(n), *st1 = randv(4 * C), *st2;
	float *di1 = randv(n), *di2, *dz = calloc(n, sizeof *dz), *dg1 = randv(C), *dg2;
	float *db1 = randv(C), *db2;

	for (c = 0; c < C; c++)
		st1[3 * C + c] = 1 + st1[3 * C + c] * st1[3 * C + c];
	for (i = 0; i < n; i++)
		in[i] = 2 * in[i] + 1;
	st2 = dupv(st1, 4 * C);
	di2 = dupv(di1, n);
	dg2 = dupv(dg1, C);
	db2 = dupv(db1, C);
	for (act = NN_ID; act <= NN_HSIGMOID; act++) {
		nn_bn_act_fwd_train(o1, st1, st1 + C, st1 + 2 * C, st1 + 3 * C, in, ga, be, C, M,
		    0.1f, 1e-5f, act);
		nn_bn_fwd_train(z, st2, st2 + C, st2 + 2 * C, st2 + 3 * C, in, ga, be, C, M,
		    0.1f, 1e-5f);
		nn_act_fwd(o2, z, n, act);
		CHECK_CLOSE(o1, o2, n, 1e-5, 1e-5);
		CHECK_CLOSE(st1, st2, 4 * C, 1e-6, 1e-6);
		nn_bn_act_bwd(di1, dg1, db1, g, in, st1, st1 + C, ga, be, C, M, act);
		memset(dz, 0, n * sizeof *dz);
		nn_act_bwd(dz, g, z, n, act);
		nn_bn_bwd(di2, dg2, db2, dz, in, st2, st2 + C, ga, C, M);
		CHECK_CLOSE(di1, di2, n, 1e-4, 1e-4);
		CHECK_CLOSE(dg1, dg2, C, 1e-3, 1e-4);
		CHECK_CLOSE(db1, db2, C, 1e-3, 1e-4);
		nn_bn_act_fwd_eval(o1, in, ga, be, st1 + 2 * C, st1 + 3 * C, C, M, 1e-5f, act);
		nn_bn_fwd_eval(z, in, ga, be, st1 + 2 * C, st1 + 3 * C, C, M, 1e-5f);
		nn_act_fwd(o2, z, n, act);
		CHECK_CLOSE(o1, o2, n, 1e-5, 1e-5);
	}
	free(in), free(ga), free(be), free(g), free(o1), free(o2), free(z), free(st1), free(st2);
	free(di1), free(di2), free(dz), free(dg1), free(dg2), free(db1), free(db2);
}

/* Eval BN + act against its formula, on maps of one pixel (batch-1
 * inference: vectorised over channels), of a few (up to 16: one loop over
 * the elements of many channels) and more, channels in several blocks of
 * the coefficients. */
static void
test_bn_eval(void)
{
	int C = 150, act, c, Ms[5] = { 1, 3, 4, 16, 17 }, mi;

	for (mi = 0; mi < 5; mi++) {
		long M = Ms[mi], n = C * M, i;
		float *in = randv(n), *ga = randv(C), *be = randv(C), *rm = randv(C);
		float *rv = randv(C), *o1 = randv(n), *z = randv(n), *o2 = randv(n);
		float *ca = randv(C), *cb = randv(C);

		for (c = 0; c < C; c++)
			rv[c] = 0.5f + rv[c] * rv[c];
		for (i = 0; i < n; i++)
			z[i] = ga[i / M] * (in[i] - rm[i / M]) / sqrt(rv[i / M] + 1e-5) + be[i / M];
		nn_bn_eval_coef(ca, cb, ga, be, rm, rv, C, 1e-5f);
		for (act = NN_ID; act <= NN_HSIGMOID; act++) {
			nn_bn_act_fwd_eval(o1, in, ga, be, rm, rv, C, M, 1e-5f, act);
			nn_act_fwd(o2, z, n, act);
			CHECK_CLOSE(o1, o2, n, 1e-5, 1e-5);
			/* the affine computed once (model_pack): the same bits */
			nn_affine_act_fwd(o2, in, ca, cb, C, M, act);
			CHECK(memcmp(o1, o2, n * sizeof *o1) == 0);
		}
		free(in), free(ga), free(be), free(rm), free(rv), free(o1), free(z), free(o2);
		free(ca), free(cb);
	}
}

static void
test_simple(void)
{
	float x[6] = { -4, -1, 0.5f, 2, 3.5f, 7 }, y[6], d[6], one[6] = { 1, 1, 1, 1, 1, 1 };
	float hs[6] = { 0, -1 / 3.f, 0.5f * 3.5f / 6, 2 * 5 / 6.f, 3.5f, 7 };
	float hsd[6] = { 0, 1 / 6.f, 4 / 6.f, 7 / 6.f, 1, 1 };
	float r6[6] = { 0, 0, 0.5f, 2, 3.5f, 6 };
	float in[2 * 2 * 4] = { 1, 5, 2, 0, 3, 3, 3, 3, -1, -2, -3, -4, 9, 8, 7, 6 };
	float g[4], s[4] = { 2, 3, 4, 5 }, o[16], dz[2] = { 0, 0 };
	float flat[16], back[16];
	int32_t am[4];
	int i, lab[2] = { 1, 0 };
	float lg[4] = { 0, 0, 1, 2 }, pr[4], dl[4] = { 0, 0, 0, 0 };
	float z[2] = { 0, 40 }, t[2] = { 1, 0 };

	nn_act_fwd(y, x, 6, NN_HSWISH);
	CHECK_CLOSE(y, hs, 6, 1e-6, 1e-6);
	memset(d, 0, sizeof d);
	nn_act_bwd(d, one, x, 6, NN_HSWISH);
	CHECK_CLOSE(d, hsd, 6, 1e-6, 1e-6);
	nn_act_fwd(y, x, 6, NN_RELU6);
	CHECK_CLOSE(y, r6, 6, 0, 0);
	memcpy(y, x, sizeof y);
	nn_act_fwd(y, y, 6, NN_RELU);	/* in place */
	CHECK(y[0] == 0 && y[1] == 0 && y[5] == 7);
	nn_act_fwd(y, x, 6, NN_HSIGMOID);
	CHECK(y[0] == 0 && y[5] == 1 && fabsf(y[2] - 3.5f / 6) < 1e-7);
	/* gap / scale over (C=2, N=2, HW=4) */
	nn_gap_fwd(g, in, 2, 2, 4);
	CHECK(g[0] == 2 && g[1] == 3 && g[2] == -2.5f && g[3] == 7.5f);
	nn_scale_fwd(o, in, s, 2, 2, 4);
	CHECK(o[1] == 10 && o[4] == 9 && o[15] == 30);
	/* max pool 2x2 of each 2x2 plane */
	nn_maxpool_fwd(g, am, in, 2, 2, 2, 2, 2);
	CHECK(g[0] == 5 && am[0] == 1 && g[1] == 3 && g[2] == -1 && g[3] == 9 && am[3] == 0);
	memset(o, 0, sizeof o);
	nn_maxpool_bwd(o, s, am, 2, 2, 2, 2, 2);
	CHECK(o[1] == 2 && o[4] == 3 && o[8] == 4 && o[12] == 5 && o[0] == 0);
	/* flatten (C=2, N=2, HW=4) -> (N=2, 8): sample 1 is channel 0 then 1 */
	nn_flatten_fwd(flat, in, 2, 2, 4);
	CHECK(flat[0] == 1 && flat[4] == -1 && flat[8] == 3 && flat[12] == 9);
	memset(back, 0, sizeof back);
	nn_flatten_bwd(back, flat, 2, 2, 4);
	CHECK_CLOSE(back, in, 16, 0, 0);
	/* softmax CE: sample 0 uniform over 2 -> log 2; sample 1 label 0 */
	CHECK_NEAR(nn_softmax_ce_fwd(pr, lg, lab, 2, 2),
	    (log(2) + log(1 + exp(1))) / 2, 1e-6);
	nn_softmax_ce_bwd(dl, pr, lab, 2, 2, 0.5f);
	CHECK_NEAR(dl[0], 0.25, 1e-6);
	CHECK_NEAR(dl[1], -0.25, 1e-6);
	CHECK_NEAR(dl[2], 0.5 * (1 / (1 + exp(1)) - 1), 1e-6);
	CHECK_NEAR(nn_softmax_ce_fwd(NULL, lg, lab, 2, 2),
	    (log(2) + log(1 + exp(1))) / 2, 1e-6);
	/* BCE: z=0,t=1 -> log 2; z=40,t=0 -> 40 (stable) */
	CHECK_NEAR(nn_bce_fwd(z, t, NULL, 2), log(2) + 40, 1e-5);
	CHECK_NEAR(nn_bce_fwd(z, t, s, 2), 2 * log(2) + 3 * 40, 1e-4);
	nn_bce_bwd(dz, z, t, s, 2, 0.5f);
	CHECK_NEAR(dz[0], 0.5 * 2 * -0.5, 1e-6);
	CHECK_NEAR(dz[1], 0.5 * 3, 1e-6);
	/* add / acc */
	nn_add_fwd(y, x, one, 6);
	nn_acc(y, x, 6);
	for (i = 0; i < 6; i++)
		CHECK(y[i] == 2 * x[i] + 1);
}

static void
test_dropout(void)
{
	enum { n = 10000 };
	float *in = randv(n), *out = malloc(n * sizeof *out), *d = calloc(n, sizeof *d);
	float *one = malloc(n * sizeof *one);
	uint8_t *mask = malloc(n), *mask2 = malloc(n);
	struct nn_rng r;
	long i, kept = 0, ok = 1;

	for (i = 0; i < n; i++)
		one[i] = 1;
	nn_rng_seed(&r, 7);
	nn_dropout_fwd(out, mask, in, n, 0.2f, &r);
	for (i = 0; i < n; i++) {
		kept += mask[i];
		ok &= mask[i] ? fabsf(out[i] - in[i] / 0.8f) < 1e-6f : out[i] == 0;
	}
	CHECK(ok);
	CHECK(kept > 7700 && kept < 8300);
	nn_dropout_bwd(d, one, mask, n, 0.2f);
	for (i = 0, ok = 1; i < n; i++)
		ok &= d[i] == (mask[i] ? 1.25f : 0);
	CHECK(ok);
	nn_rng_seed(&r, 7);
	nn_dropout_fwd(out, mask2, in, n, 0.2f, &r);
	CHECK(memcmp(mask, mask2, n) == 0);	/* seeded */
	nn_dropout_fwd(out, mask, in, n, 0, &r);
	CHECK_CLOSE(out, in, n, 0, 0);
	free(in), free(out), free(d), free(one), free(mask), free(mask2);
}

static void
test_ktrans(void)
{
	/* identity M gives the centre crop */
	float in[2 * 49], M[25 * 25], out[2 * 25], M9[81], o3[2 * 9];
	int i;

	for (i = 0; i < 2 * 49; i++)
		in[i] = i;
	memset(M, 0, sizeof M);
	for (i = 0; i < 25; i++)
		M[i * 25 + i] = 1;
	nn_ktrans_fwd(out, in, M, 2, 7, 5);
	CHECK(out[0] == 8 && out[4] == 12 && out[5] == 15 && out[24] == 40 && out[25] == 57);
	memset(M9, 0, sizeof M9);
	for (i = 0; i < 9; i++)
		M9[i * 9 + 8 - i] = 1;	/* reversal */
	nn_ktrans_fwd(o3, out, M9, 2, 5, 3);
	CHECK(o3[0] == 32 && o3[8] == 16 && o3[9] == 32 + 49);
}

int
main(void)
{
	nn_rng_seed(&rng, 1);
	nn_threads(2);
	test_gemm();
	test_gemm_packed();
	test_conv();
	test_dw();
	test_linear();
	test_bn_eval();
	test_dw_tiny();
	test_bn();
	test_bn_act();
	test_simple();
	test_dropout();
	test_ktrans();
	return unit_done("test_nn");
}
