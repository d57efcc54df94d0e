/*
 * nnbench.c - per-operation profile of one training step (forward +
 * backward) of an OFA MobileNetV3 subnet, built from the nn.h ops at the
 * network's real shapes: milliseconds per step for each kind of op, the
 * step's GFLOP/s, and the engine's GEMM rate (OpenBLAS split over the same
 * threads by nn_gemm) on the same machine.
 *
 *   cc -O2 -fopenmp -Ilib examples/bench/nnbench.c build/libnachos.a \
 *       -lopenblas -ljansson -lmsgpackc -lz -lm -o nnbench
 *   ./nnbench [-f] [-t threads] [-n batch] [-r reps] [-m min|mid|max]
 * -f: batch norm and activation through the fused nn_bn_act_* ops.
 */
#include <getopt.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "nn.h"

#define MAXK 32
#define BUF (4L << 20)	/* floats per scratch tensor: the largest map is 3.1M */

static struct kind {
	char name[24];
	double fwd, bwd;	/* ms in the current step */
	double bfwd, bbwd;	/* best over the timed steps (the machine is shared) */
} kinds[MAXK];
static int nkind, timing, fused;
static struct nn_rng rng;

static struct kind *
kind(const char *fmt, int a, int b)
{
	char name[24];
	int i;

	snprintf(name, sizeof name, fmt, a, b);
	for (i = 0; i < nkind; i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	snprintf(kinds[nkind].name, sizeof kinds[nkind].name, "%s", name);
	return &kinds[nkind++];
}

/* Run stmt once, adding its wall time (ms) to field f of kind k when timing. */
#define T(k, f, stmt) do { double t0_ = omp_get_wtime(); stmt; \
	if (timing) (k)->f += (omp_get_wtime() - t0_) * 1e3; } while (0)

static float *
buf(long n)
{
	float *p = malloc(n * sizeof *p);
	long i;

	for (i = 0; i < n; i++)
		p[i] = 0.1f * nn_rng_normal(&rng);
	return p;
}

/* Scratch shared by every layer: contents do not matter for timing. */
static float *X, *Y, *G, *D, *col, *Wt, *dW, *st, *se1, *se2, *dse1, *dse2;

static void
conv1x1(struct kind *k, int N, long HW, int ci, int co, int bias)
{
	T(k, fwd, nn_conv_fwd(Y, X, Wt, bias ? st : NULL, NULL, N, ci, 1, HW, co, 1, 1, 0));
	T(k, bwd, nn_conv_bwd(D, dW, bias ? st + 2048 : NULL, G, X, Wt, NULL, N, ci, 1, HW,
	    co, 1, 1, 0));
}

static void
bn_act(int N, long HW, int C, int act)
{
	struct kind *kb = kind("bn", 0, 0), *ka = kind("act", 0, 0);
	long M = (long)N * HW;
	int a = act == ACT_NONE ? NN_ID : act == ACT_RELU ? NN_RELU : NN_HSWISH;

	if (fused) {
		kb = kind("bn + act (fused)", 0, 0);
		T(kb, fwd, nn_bn_act_fwd_train(Y, st, st + 1024, st + 2048, st + 3072, X,
		    st + 4096, st + 5120, C, M, 0.1f, 1e-5f, a));
		T(kb, bwd, nn_bn_act_bwd(D, dW, dW + 1024, G, X, st, st + 1024, st + 4096,
		    st + 5120, C, M, a));
		return;
	}

	T(kb, fwd, nn_bn_fwd_train(Y, st, st + 1024, st + 2048, st + 3072, X, st + 4096,
	    st + 5120, C, M, 0.1f, 1e-5f));
	if (act != ACT_NONE)
		T(ka, fwd, nn_act_fwd(Y, Y, C * M, a));
	if (act != ACT_NONE)
		T(ka, bwd, nn_act_bwd(D, G, Y, C * M, a));
	T(kb, bwd, nn_bn_bwd(D, dW, dW + 1024, G, X, st, st + 1024, st + 4096, C, M));
}

static void
block(const struct arch_block *b, int N)
{
	long hw = (long)b->hin * b->win, hwo = (long)b->hout * b->wout;
	struct kind *kd = kind("dw k%d s%d", b->k, b->stride);

	if (b->stage > 0) {
		conv1x1(kind("conv 1x1", 0, 0), N, hw, b->cin, b->mid, 0);
		bn_act(N, hw, b->mid, b->act);
	}
	T(kd, fwd, nn_dw_fwd(Y, X, Wt, N, b->mid, b->hin, b->win, b->k, b->stride));
	T(kd, bwd, nn_dw_bwd(D, dW, G, X, Wt, N, b->mid, b->hin, b->win, b->k, b->stride));
	bn_act(N, hwo, b->mid, b->act);
	if (b->se) {
		struct kind *ks = kind("se", 0, 0);
		int m = b->mid, sm = b->se_mid;
		T(ks, fwd, nn_gap_fwd(se1, X, m, N, hwo));
		T(ks, fwd, nn_conv_fwd(se2, se1, Wt, st, NULL, N, m, 1, 1, sm, 1, 1, 0));
		T(ks, fwd, nn_act_fwd(se2, se2, (long)sm * N, NN_RELU));
		T(ks, fwd, nn_conv_fwd(se1, se2, Wt, st, NULL, N, sm, 1, 1, m, 1, 1, 0));
		T(ks, fwd, nn_act_fwd(se1, se1, (long)m * N, NN_HSIGMOID));
		T(ks, fwd, nn_scale_fwd(Y, X, se1, m, N, hwo));
		T(ks, bwd, nn_scale_bwd(D, dse1, G, X, se1, m, N, hwo));
		T(ks, bwd, nn_act_bwd(dse2, dse1, se1, (long)m * N, NN_HSIGMOID));
		T(ks, bwd, nn_conv_bwd(dse1, dW, dW + 2048, dse2, se2, Wt, NULL, N, sm, 1, 1, m,
		    1, 1, 0));
		T(ks, bwd, nn_act_bwd(dse2, dse1, se2, (long)sm * N, NN_RELU));
		T(ks, bwd, nn_conv_bwd(dse1, dW, dW + 2048, dse2, se1, Wt, NULL, N, m, 1, 1, sm,
		    1, 1, 0));
		T(ks, bwd, nn_gap_bwd(D, dse1, m, N, hwo));
	}
	conv1x1(kind("conv 1x1", 0, 0), N, hwo, b->mid, b->cout, 0);
	bn_act(N, hwo, b->cout, ACT_NONE);
	if (b->residual) {
		struct kind *kr = kind("add", 0, 0);
		long n = (long)b->cout * N * hwo;
		T(kr, fwd, nn_add_fwd(Y, X, Y, n));
		T(kr, bwd, nn_acc(D, G, n));
	}
}

static void
step(const struct arch_net *net, int N)
{
	int i, h = net->first_h, H = net->res, c, fe = net->final_expand, fm = net->feature_mix;
	const struct arch_block *last = &net->blk[net->nblk - 1];
	struct kind *kf = kind("conv first 3x3 s2", 0, 0), *kh = kind("head misc", 0, 0);
	int *y = calloc(N, sizeof *y);
	uint8_t *mask = malloc((long)N * fm);

	T(kf, fwd, nn_conv_fwd(Y, X, Wt, NULL, col, N, net->in_ch, H, H, net->first_ch, 3, 2, 1));
	T(kf, bwd, nn_conv_bwd(NULL, dW, NULL, G, X, Wt, col, N, net->in_ch, H, H,
	    net->first_ch, 3, 2, 1));
	bn_act(N, (long)h * h, net->first_ch, ACT_HSWISH);
	for (i = 0; i < net->nblk; i++)
		block(&net->blk[i], N);
	c = last->cout;
	h = last->hout;
	conv1x1(kind("conv 1x1", 0, 0), N, (long)h * h, c, fe, 0);
	bn_act(N, (long)h * h, fe, ACT_HSWISH);
	T(kh, fwd, nn_gap_fwd(se1, X, fe, N, h * h));
	T(kh, bwd, nn_gap_bwd(D, se1, fe, N, h * h));
	conv1x1(kind("conv 1x1 head", 0, 0), N, 1, fe, fm, 0);
	T(kh, fwd, nn_act_fwd(se1, se1, (long)fm * N, NN_HSWISH));
	T(kh, bwd, nn_act_bwd(dse1, se2, se1, (long)fm * N, NN_HSWISH));
	T(kh, fwd, nn_dropout_fwd(se2, mask, se1, (long)fm * N, 0.1f, &rng));
	T(kh, bwd, nn_dropout_bwd(dse1, dse2, mask, (long)fm * N, 0.1f));
	T(kh, fwd, nn_flatten_fwd(se2, se1, fm, N, 1));
	T(kh, bwd, nn_flatten_bwd(dse1, dse2, fm, N, 1));
	{
		struct kind *kl = kind("linear + ce", 0, 0);
		double l;
		T(kl, fwd, nn_linear_fwd(Y, se2, Wt, st, N, fm, net->classes));
		T(kl, fwd, l = nn_softmax_ce_fwd(G, Y, y, N, net->classes));
		T(kl, bwd, nn_softmax_ce_bwd(D, G, y, N, net->classes, 1.f / N));
		T(kl, bwd, nn_linear_bwd(dse1, dW, dW + 2048, D, se2, Wt, N, fm, net->classes));
		(void)l;
	}
	free(y);
	free(mask);
}

static double
sgemm_gflops(void)
{
	int n = 1024, r, reps = 5;
	float *a = buf((long)n * n), *b = buf((long)n * n), *c = buf((long)n * n);
	double t0;

	nn_gemm(0, 0, n, n, n, 1, a, n, b, n, 0, c, n);
	t0 = omp_get_wtime();
	for (r = 0; r < reps; r++)
		nn_gemm(0, 0, n, n, n, 1, a, n, b, n, 0, c, n);
	t0 = omp_get_wtime() - t0;
	free(a), free(b), free(c);
	return 2.0 * n * n * n * reps / t0 * 1e-9;
}

int
main(int argc, char **argv)
{
	int threads = 2, N = 128, reps = 3, max = 1, mid = 0, o, i, r;
	struct arch a;
	struct arch_net net;
	double fsum = 0, bsum = 0, ms, best = 0;

	while ((o = getopt(argc, argv, "ft:n:r:m:")) != -1)
		switch (o) {
		case 'f': fused = 1; break;
		case 't': threads = atoi(optarg); break;
		case 'n': N = atoi(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case 'm':
			max = !strcmp(optarg, "max");
			mid = !strcmp(optarg, "mid");
			break;
		default:
			fprintf(stderr, "usage: nnbench [-f] [-t threads] [-n batch] [-r reps] "
			    "[-m min|mid|max]\n");
			return 64;
		}
	if (N < 1 || N > 128 || reps < 1) {
		fprintf(stderr, "nnbench: batch must be 1..128, reps >= 1\n");
		return 64;
	}
	nn_threads(threads);
	nn_rng_seed(&rng, 1);
	arch_extreme(&a, ARCH_NACHOS, max);
	if (mid) {
		for (i = 0; i < ARCH_SLOTS; i++) {
			a.ks[i] = 5;
			a.e[i] = 4;
		}
		for (i = 0; i < ARCH_STAGES; i++)
			a.d[i] = 3;
	}
	a.width = 1.0;
	a.resolution = 32;
	a.in_ch = 3;
	a.classes = 10;
	arch_canonical(&a);
	arch_net_build(&net, &a);
	X = buf(BUF), Y = buf(BUF), G = buf(BUF), D = buf(BUF), col = buf(BUF);
	Wt = buf(2L << 20), dW = buf(2L << 20), st = buf(8192);
	se1 = buf(1L << 20), se2 = buf(1L << 20), dse1 = buf(1L << 20), dse2 = buf(1L << 20);
	for (i = 0; i < 8192; i++)
		st[i] = 1 + st[i] * st[i];	/* rstd, variances: positive */

	step(&net, N);	/* warm-up: page faults, thread start */
	timing = 1;
	for (r = 0; r < reps; r++) {
		double t0 = omp_get_wtime();
		for (i = 0; i < nkind; i++)
			kinds[i].fwd = kinds[i].bwd = 0;
		step(&net, N);
		t0 = (omp_get_wtime() - t0) * 1e3;
		best = r == 0 || t0 < best ? t0 : best;
		for (i = 0; i < nkind; i++) {
			struct kind *q = &kinds[i];
			q->bfwd = r == 0 || q->fwd < q->bfwd ? q->fwd : q->bfwd;
			q->bbwd = r == 0 || q->bwd < q->bbwd ? q->bwd : q->bbwd;
		}
	}
	printf("%-20s %9s %9s   (best of %d steps)\n", "op (per step)", "fwd ms", "bwd ms", reps);
	for (i = 0; i < nkind; i++) {
		printf("%-20s %9.2f %9.2f\n", kinds[i].name, kinds[i].bfwd, kinds[i].bbwd);
		fsum += kinds[i].bfwd;
		bsum += kinds[i].bbwd;
	}
	printf("%-20s %9.2f %9.2f\n", "sum", fsum, bsum);
	ms = best;
	printf("subnet %s, batch %d, %d threads: best step %.1f ms, %.0f images/s, "
	    "%.1f GFLOP/s (2 x %.2f MMAC x 3); nn_gemm 1024^3: %.1f GFLOP/s\n",
	    max ? "all-max" : mid ? "mid" : "all-min", N, threads, ms, N / ms * 1e3,
	    6.0 * net.macs_backbone * N / ms * 1e-6, net.macs_backbone * 1e-6, sgemm_gflops());
	return 0;
}
