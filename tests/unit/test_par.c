/* test_par.c - the engine's thread pool (nn_par) and what rests on it:
 * every task runs exactly once whatever the threads, nested calls run
 * serially, and the split ops give the same bits at 1, 2 and 3 threads
 * (GEMM tiles and K chunks, convolutions, depthwise, batch norm), close
 * to a double-precision product; nn_copy copies and zeroes everything. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "nn.h"
#include "unit.h"

static struct nn_rng rng;

static float *
rnd(long n)
{
	float *p = malloc(n * sizeof(*p));
	long i;

	for (i = 0; i < n; i++)
		p[i] = nn_rng_normal(&rng);
	return p;
}

static int hits[100000];
static int nested_ok;

static void
count(void *ctx, long i)
{
	(void)ctx;
	__atomic_fetch_add(&hits[i], 1, __ATOMIC_RELAXED);
}

static void
nested(void *ctx, long i)
{
	long j;
	int *h = ctx;

	(void)i;
	/* inside a task: serial, so plain increments are safe */
	for (j = 0; j < 4; j++)
		nn_par(4, 1L << 30, count, NULL);
	__atomic_fetch_add(h, 1, __ATOMIC_RELAXED);
}

/* A job whose context lives on the caller's stack for its call only. */
struct job {
	int id, n;
	int *seen;                      /* (jobs, 4): runs of task i of job id */
};

static void
mark(void *ctx, long i)
{
	const struct job *j = ctx;
	volatile int spin;

	for (spin = 0; spin < 200; spin++)
		;
	if (i < j->n)
		__atomic_fetch_add(&j->seen[j->id * 4 + i], 1, __ATOMIC_RELAXED);
}

/* Back-to-back jobs of 2-4 tasks, each context on the stack: a helper
 * claiming past the end of one job while the next is being set up once
 * ran a task of the new job under the old claim (twice, or with the old
 * job's context after it was gone). */
static void
test_back_to_back(void)
{
	enum { JOBS = 1000000 };
	int *seen = calloc((size_t)JOBS * 4, sizeof(int));
	long bad = 0, k;

	/* more threads than this machine's cores: helpers are preempted
	 * anywhere, between a claim's load and its exchange too; every job
	 * with them, though it would run faster without */
	nn_threads(4);
	nn_par_adapt(0);
	for (k = 0; k < JOBS; k++) {
		struct job j = { .id = (int)k, .n = 2 + (int)(k % 3), .seen = seen };

		nn_par(j.n, 1L << 30, mark, &j);
	}
	for (k = 0; k < (long)JOBS * 4; k++)
		bad += seen[k] != (k % 4 < 2 + (k / 4) % 3);
	if (bad)
		fprintf(stderr, "test_par: %ld task counts wrong\n", bad);
	unit_report(bad == 0, __FILE__, __LINE__, "back-to-back jobs: every task once");
	nn_par_adapt(1);
	nn_threads(1);
	free(seen);
}

static void
test_tasks(void)
{
	int t, r, ok, nested_runs;
	long i, n;

	for (t = 1; t <= 4; t++) {
		nn_threads(t);
		for (r = 0; r < 50; r++) {
			n = r % 5 == 0 ? 100000 : 1 + r * 37;
			memset(hits, 0, sizeof(hits));
			nn_par(n, 1L << 30, count, NULL);
			for (ok = 1, i = 0; i < n; i++)
				ok &= hits[i] == 1;
			for (i = n; i < 100000; i++)
				ok &= hits[i] == 0;
			unit_report(ok, __FILE__, __LINE__, "every task once");
		}
		memset(hits, 0, sizeof(hits));
		nested_runs = 0;
		nn_par(64, 1L << 30, nested, &nested_runs);
		CHECK(nested_runs == 64 && hits[0] == 4 * 64 && hits[3] == 4 * 64 && hits[4] == 0);
	}
	(void)nested_ok;
	nn_threads(1);
	CHECK(nn_nthreads() == 1);
}

static pthread_t caller;

static void
nap(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

/* Tasks that take 2 ms on a helper and 50 us on the caller (long enough
 * that a helper claims one): helpers lose. */
static void
slow_helper(void *ctx, long i)
{
	double t0 = cli_now();

	(void)i;
	if (!pthread_equal(pthread_self(), caller)) {
		__atomic_store_n((int *)ctx, 1, __ATOMIC_RELAXED);
		nap(2000);
	} else
		while (cli_now() - t0 < 50e-6)
			;
}

/* Tasks that wait 300 us wherever they run: helpers win. */
static void
waiting(void *ctx, long i)
{
	(void)i;
	if (!pthread_equal(pthread_self(), caller))
		__atomic_store_n((int *)ctx, 1, __ATOMIC_RELAXED);
	nap(300);
}

/* The share of fn's jobs that helpers took part in, over half-second
 * windows from `from` seconds of running them on: the first window's
 * share that reaches `until`, else the last window's at `seconds`. */
static double
helped_share(void (*fn)(void *, long), double from, double until, double seconds)
{
	double t0 = cli_now(), w = t0 + from, t;
	long jobs = 0, helped = 0;

	while ((t = cli_now()) - t0 < seconds) {
		int h = 0;

		nn_par(4, 1L << 30, fn, &h);
		if (t < w)
			continue;
		if (t - w >= 0.5) {
			if ((double)helped / jobs >= until)
				break;
			w = t, jobs = helped = 0;
		}
		jobs++, helped += h;
	}
	return jobs ? (double)helped / jobs : -1;
}

/* The pool's choice of way (nn_par.c): alone while helpers slow jobs down,
 * back to them once they pay (a try of them comes within GAP_MAX, 4 s),
 * and with them from the start while they pay. */
static void
test_adapt(void)
{
	double s;

	caller = pthread_self();
	nn_threads(4);
	nn_par_adapt(1);
	s = helped_share(slow_helper, 1.5, 0, 2.0);
	if (s < 0 || s > 0.2)
		fprintf(stderr, "test_par: helpers in %.0f%% of jobs they slow\n", 100 * s);
	unit_report(s >= 0 && s <= 0.2, __FILE__, __LINE__,
	    "slow helpers: the caller works alone");
	s = helped_share(waiting, 0, 0.8, 6.0);
	if (s < 0.8)
		fprintf(stderr, "test_par: helpers in %.0f%% of jobs they speed\n", 100 * s);
	unit_report(s >= 0.8, __FILE__, __LINE__, "helpers that pay again: back to them");
	nn_par_adapt(1);
	s = helped_share(waiting, 1.0, 1, 1.5);
	if (s < 0.8)
		fprintf(stderr, "test_par: helpers in %.0f%% of jobs they speed\n", 100 * s);
	unit_report(s >= 0.8, __FILE__, __LINE__, "helpers that pay: they keep working");
	nn_threads(1);
}

/* C (M, N) = op(A) op(B) in double, the reference */
static void
gemm_ref(float *C, int ta, int tb, int M, int N, int K, const float *A, const float *B)
{
	int i, j, k;

	for (i = 0; i < M; i++)
		for (j = 0; j < N; j++) {
			double acc = 0;
			for (k = 0; k < K; k++)
				acc += (double)(ta ? A[(long)k * M + i] : A[(long)i * K + k]) *
				    (tb ? B[(long)j * K + k] : B[(long)k * N + j]);
			C[(long)i * N + j] = acc;
		}
}

static void
test_gemm(void)
{
	/* tiles along N, along M, K chunks (weight gradients), one call */
	static const int sz[][3] = { { 64, 2048, 96 }, { 600, 100, 200 }, { 96, 24, 32768 },
		{ 24, 40, 20000 }, { 30, 30, 30 } };
	int s, ta, tb, t;

	for (s = 0; s < 5; s++) {
		int M = sz[s][0], N = sz[s][1], K = sz[s][2];
		float *A = rnd((long)M * K), *B = rnd((long)K * N), *R = malloc(sizeof(float) * M * N);
		float *C[3];

		for (t = 0; t < 3; t++)
			C[t] = malloc(sizeof(float) * M * N);
		for (ta = 0; ta < 2; ta++)
			for (tb = 0; tb < 2; tb++) {
				for (t = 0; t < 3; t++) {
					long i;
					/* beta = 1: accumulation onto C */
					for (i = 0; i < (long)M * N; i++)
						C[t][i] = 1;
					nn_threads(t + 1);
					nn_gemm(ta, tb, M, N, K, 0.5f, A, ta ? M : K, B, tb ? K : N, 1,
					    C[t], N);
				}
				unit_report(!memcmp(C[0], C[1], sizeof(float) * M * N) &&
				    !memcmp(C[0], C[2], sizeof(float) * M * N), __FILE__, __LINE__,
				    "gemm: the same bits at 1, 2, 3 threads");
				gemm_ref(R, ta, tb, M, N, K, A, B);
				{
					long i;
					for (i = 0; i < (long)M * N; i++)
						R[i] = 1 + 0.5f * R[i];
				}
				CHECK_CLOSE(C[1], R, (long)M * N, 1e-3 * (1 + K / 1000), 1e-4);
			}
		free(A), free(B), free(R);
		for (t = 0; t < 3; t++)
			free(C[t]);
	}
	nn_threads(1);
}

static void
test_ops(void)
{
	int N = 64, Ci = 24, H = 16, Co = 40, k = 3, C = 48, K = 5, t;
	long nin = (long)Ci * N * H * H, nout = (long)Co * N * (H / 2) * (H / 2);
	float *in = rnd(nin), *w = rnd(Co * Ci * 9), *g = rnd(nout);
	float *col = malloc(nn_conv_col_size(N, Ci, H, H, k, 2, 1) * sizeof(float));
	float *x = rnd((long)C * N * H * H), *wd = rnd(C * K * K);
	float *o[3], *dw[3], *di[3], *bo[3], *mean = malloc(C * 4), *rstd = malloc(C * 4);
	float *rm = calloc(C, 4), *rv = calloc(C, 4), *ga = rnd(C), *be = rnd(C);
	float *dg[3], *db[3];

	for (t = 0; t < 3; t++) {
		nn_threads(t + 1);
		o[t] = calloc(nout, 4), dw[t] = calloc(Co * Ci * 9, 4), di[t] = calloc(nin, 4);
		nn_conv_fwd(o[t], in, w, NULL, col, N, Ci, H, H, Co, k, 2, 1);
		nn_conv_bwd(di[t], dw[t], NULL, g, in, w, col, N, Ci, H, H, Co, k, 2, 1);
		if (t) {
			CHECK(!memcmp(o[0], o[t], nout * 4));
			CHECK(!memcmp(dw[0], dw[t], Co * Ci * 9 * 4));
			CHECK(!memcmp(di[0], di[t], nin * 4));
		}
	}
	for (t = 0; t < 3; t++) {
		long n = (long)C * N * H * H;
		nn_threads(t + 1);
		free(o[t]), free(dw[t]), free(di[t]);
		o[t] = calloc(n, 4), dw[t] = calloc(C * K * K, 4), di[t] = calloc(n, 4);
		nn_dw_fwd(o[t], x, wd, N, C, H, H, K, 1);
		nn_dw_bwd(di[t], dw[t], o[t], x, wd, N, C, H, H, K, 1);
		/* batch 3: the lanes path, channels grouped */
		nn_dw_fwd(di[t] + n / 2, x, wd, 3, C, H, H, K, 2);
		bo[t] = calloc(n, 4), dg[t] = calloc(C, 4), db[t] = calloc(C, 4);
		nn_bn_act_fwd_train(bo[t], mean, rstd, rm, rv, x, ga, be, C, (long)N * H * H,
		    0.1f, 1e-5f, NN_HSWISH);
		nn_bn_act_bwd(di[t], dg[t], db[t], o[t], x, mean, rstd, ga, be, C,
		    (long)N * H * H, NN_HSWISH);
		if (t) {
			CHECK(!memcmp(o[0], o[t], n * 4));
			CHECK(!memcmp(dw[0], dw[t], C * K * K * 4));
			CHECK(!memcmp(di[0], di[t], n * 4));
			CHECK(!memcmp(bo[0], bo[t], n * 4));
			CHECK(!memcmp(dg[0], dg[t], C * 4) && !memcmp(db[0], db[t], C * 4));
		}
	}
	nn_threads(1);
	for (t = 0; t < 3; t++)
		free(o[t]), free(dw[t]), free(di[t]), free(bo[t]), free(dg[t]), free(db[t]);
	free(in), free(w), free(g), free(col), free(x), free(wd), free(mean), free(rstd);
	free(rm), free(rv), free(ga), free(be);
}

/* nn_copy over chunks at 2 threads: every element copied, or zeroed. */
static void
test_copy(void)
{
	long n = 100003, i, bad = 0;
	float *x = rnd(n), *y = rnd(n);

	nn_threads(2);
	nn_par_adapt(0);
	nn_copy(y, x, n);
	bad += memcmp(x, y, n * sizeof(float)) != 0;
	nn_copy(y, NULL, n);
	for (i = 0; i < n; i++)
		bad += y[i] != 0;
	CHECK(bad == 0);
	nn_par_adapt(1);
	nn_threads(1);
	free(x), free(y);
}

int
main(void)
{
	nn_rng_seed(&rng, 7);
	test_tasks();
	test_back_to_back();
	test_adapt();
	test_gemm();
	test_ops();
	test_copy();
	return unit_done("test_par");
}
