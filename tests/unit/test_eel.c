/* test_eel.c - the NACHOS losses (lib/eel): hand-computed cases, finite
 * differences, L_cost's gradient, the class balance of L_conf, the support
 * matrix and sampler, and parity with PyTorch (tests/data/eel/ref.txt from
 * examples/torch/gen_eel_ref.py). */
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eel.h"
#include "unit.h"

#define LN3 1.0986122886681098

/* Fresh zeroed gradient buffers shaped like an EENN's logits. */
static void
grads_alloc(float **g, int N, int K, int B)
{
	int i;

	for (i = 0; i < B; i++)
		g[i] = calloc((size_t)N * (K + (i < B - 1)), sizeof(float));
}

static void
grads_free(float **g, int B)
{
	int i;

	for (i = 0; i < B; i++)
		free(g[i]);
}

/*
 * N = 2, K = 2, B = 2 (one intermediate exit), spent = (10, 30).
 * Exit 0 (class logits, s):      final exit:
 *   sample 0, y = 0: (0, 0, 0)      (ln3, 0)
 *   sample 1, y = 1: (ln3, 0, ln3)  (0, ln3)
 * Sample 0: p_0 = (1/2, 1/2), c = 1/2, w = (1/2, 1/2), exit 0 right (first
 *   maximum is class 0), p_final = (3/4, 1/4).
 * Sample 1: p_0 = (3/4, 1/4), c = 3/4, w = (3/4, 1/4), exit 0 wrong,
 *   p_final = (1/4, 3/4).
 * L_acc: mixture p_y = 1/2 * 1/2 = 1/4 and 3/4 * 1/4 = 3/16, so
 *   L_acc = -ln(3/4) - (ln(1/4) + ln(3/16))/2 = 1.8178174699.
 * L_cost, Mbar = 15: C^ = 20 and 15, mean 17.5, (17.5 - 15)/(30 - 15) = 1/6.
 *   C^ = 30 - 20c, so d/ds = 1/(N*15) * -20 * c(1-c): -1/6 and -1/8.
 * L_conf: t = (1, 0), one of each, weights 1/2: (ln2 + ln4)/2 = 1.0397207709;
 *   d/ds = 1/2 (c - t): -1/4 and 3/8.
 * L_peak, S = (1/2; 1/4): (1/2 - 1/2)^2 = 0, (3/4 - 1/4)^2 = 1/4, mean 1/8;
 *   d/ds = 2(c - S)/2 * c(1-c): 0 and 1/2 * 3/16 = 3/32.
 * L_acc gradients: final exit 1/2 (p - onehot) = (-1/8, 1/8), (1/8, -1/8).
 *   Mixture m = c p_y: dm/ds = p_y c(1-c), d(-ln m)/ds / N = -1/4 and -1/8;
 *   class logits -1/(2m) w p_y ([k=y] - p): (-1/4, 1/4) and (3/8, -3/8).
 */
static float hand_e0[] = { 0, 0, 0, LN3, 0, LN3 };
static float hand_fin[] = { LN3, 0, 0, LN3 };
static const int hand_y[] = { 0, 1 };
static const double hand_spent[] = { 10, 30 };
static const float hand_S[] = { 0.5f, 0.25f };
/* The values are exact for ln3; the inputs hold ln3 rounded to float. */
#define HT 2e-7

static void
hand_loss(struct eel_terms *t, float **g, double wa, double wc, double wf,
    double wp, double mbar)
{
	float *lg[2] = { hand_e0, hand_fin };
	struct eel_opts o = { wa, wc, wf, wp, mbar, hand_spent, hand_S, 0 };

	grads_alloc(g, 2, 2, 2);
	eel_loss(t, g, lg, hand_y, &o, 2, 2, 2);
}

static void
test_hand(void)
{
	struct eel_terms t;
	float *g[2];
	const float acc_e0[] = { -0.25f, 0.25f, -0.25f, 0.375f, -0.375f, -0.125f };
	const float acc_fin[] = { -0.125f, 0.125f, 0.125f, -0.125f };

	hand_loss(&t, g, 1, 1, 1, 1, 15);
	CHECK_NEAR(t.acc, 1.8178174699, HT);
	CHECK_NEAR(t.cost, 1.0 / 6, HT);
	CHECK_NEAR(t.conf, 1.0397207709, HT);
	CHECK_NEAR(t.peak, 0.125, HT);
	CHECK_NEAR(t.total, 1.8178174699 + 1.0 / 6 + 1.0397207709 + 0.125, HT);
	CHECK_NEAR(t.macs, 17.5, 1e-6);
	CHECK_EQ_L(t.correct[0], 1);
	CHECK_EQ_L(t.correct[1], 2);
	/* Confidence logits, every term: -1/4 - 1/6 - 1/4 + 0 and
	 * -1/8 - 1/8 + 3/8 + 3/32. */
	CHECK_NEAR(g[0][2], -0.25 - 1.0 / 6 - 0.25, 1e-6);
	CHECK_NEAR(g[0][5], -0.125 - 0.125 + 0.375 + 3.0 / 32, 1e-6);
	grads_free(g, 2);

	/* One term at a time. */
	hand_loss(&t, g, 1, 0, 0, 0, 15);
	CHECK_NEAR(t.total, 1.8178174699, HT);
	CHECK_CLOSE(g[0], acc_e0, 6, 1e-6, 1e-6);
	CHECK_CLOSE(g[1], acc_fin, 4, 1e-6, 1e-6);
	grads_free(g, 2);
	hand_loss(&t, g, 0, 1, 0, 0, 15);
	CHECK_NEAR(g[0][2], -1.0 / 6, 1e-7);
	CHECK_NEAR(g[0][5], -0.125, 1e-7);
	CHECK(g[0][0] == 0 && g[0][4] == 0 && g[1][0] == 0 && g[1][3] == 0);
	grads_free(g, 2);
	hand_loss(&t, g, 0, 0, 1, 0, 15);
	CHECK_NEAR(t.total, 1.0397207709, HT);
	CHECK_NEAR(g[0][2], -0.25, 1e-7);
	CHECK_NEAR(g[0][5], 0.375, 1e-7);
	grads_free(g, 2);
	hand_loss(&t, g, 0, 0, 0, 1, 15);
	CHECK_NEAR(t.total, 0.125, HT);
	CHECK_NEAR(g[0][2], 0, HT);
	CHECK_NEAR(g[0][5], 3.0 / 32, 1e-7);
	grads_free(g, 2);

	/* Forward only gives the same values. */
	{
		float *lg[2] = { hand_e0, hand_fin };
		struct eel_opts o = { 1, 1, 1, 1, 15, hand_spent, hand_S, 0 };
		struct eel_terms f;

		CHECK_NEAR(eel_loss(&f, NULL, lg, hand_y, &o, 2, 2, 2),
		    1.8178174699 + 1.0 / 6 + 1.0397207709 + 0.125, HT);
	}
}

/* L_cost's gradient reaches the confidences when the constraint is
 * violated, and is exactly zero when it holds (mean C^ = 17.5 in the hand
 * case) or when even the final exit is within it. */
static void
test_cost_grad(void)
{
	struct eel_terms t;
	float *g[2];
	int k;
	double mbars[] = { 20, 29 }, nz;

	hand_loss(&t, g, 0, 1, 0, 0, 15);
	CHECK(t.cost > 0);
	CHECK(fabsf(g[0][2]) > 0.1f && fabsf(g[0][5]) > 0.1f);
	grads_free(g, 2);
	for (k = 0; k < 2; k++) {
		int i;

		hand_loss(&t, g, 0, 1, 0, 0, mbars[k]);
		CHECK_NEAR(t.cost, 0, 0);
		for (i = 0, nz = 0; i < 6; i++)
			nz += fabsf(g[0][i]);
		for (i = 0; i < 4; i++)
			nz += fabsf(g[1][i]);
		CHECK_NEAR(nz, 0, 0);
		grads_free(g, 2);
	}
	hand_loss(&t, g, 0, 1, 0, 0, 30); /* spent_B <= Mbar: no L_cost */
	CHECK_NEAR(t.cost, 0, 0);
	CHECK_NEAR(g[0][2], 0, 0);
	grads_free(g, 2);
}

/*
 * Class balance of L_conf, N = 4, K = 2, B = 2, exit 0 right on samples
 * 0-2 (c = 1/2: BCE ln2 each) and wrong on sample 3 (c = 3/4, t = 0: BCE
 * ln4). Weights 1/(2*3) and 1/(2*1): L_conf = (3 ln2)/6 + ln4/2 = 1.5 ln2
 * (the plain mean would be 1.25 ln2). d/ds = wt (c - t): -1/12 and 3/8.
 * With sample 3 right too (no negatives) every weight is 1/4: sample 3
 * now has BCE(3/4, 1) = ln(4/3), L_conf = (3 ln2 + ln(4/3))/4, and
 * d/ds = (c - 1)/4: -1/8 for c = 1/2, -1/16 for c = 3/4.
 */
static void
test_conf_balance(void)
{
	float e0[] = { 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, LN3 };
	float fin[8] = { 0 };
	float *lg[2] = { e0, fin }, *g[2];
	int y[] = { 0, 1, 0, 1 };
	struct eel_opts o = { 0, 0, 1, 0, 0, NULL, NULL, 0 };
	struct eel_terms t;

	grads_alloc(g, 4, 2, 2);
	eel_loss(&t, g, lg, y, &o, 4, 2, 2);
	CHECK_NEAR(t.conf, 1.5 * log(2), 1e-7);
	CHECK_NEAR(g[0][2], -1.0 / 12, 1e-7);
	CHECK_NEAR(g[0][8], -1.0 / 12, 1e-7);
	CHECK_NEAR(g[0][11], 0.375, 1e-7);
	CHECK_EQ_L(t.correct[0], 3);
	grads_free(g, 2);

	y[3] = 0;
	grads_alloc(g, 4, 2, 2);
	eel_loss(&t, g, lg, y, &o, 4, 2, 2);
	CHECK_NEAR(t.conf, (3 * log(2) + log(4.0 / 3)) / 4, 1e-7);
	CHECK_NEAR(g[0][2], -0.125, 1e-7);
	CHECK_NEAR(g[0][11], -0.0625, 1e-7);
	grads_free(g, 2);
}

/* A random EENN batch. */
struct rcase {
	int N, K, B;
	float *lg[EEL_MAX_EXITS];
	int *y;
	double spent[EEL_MAX_EXITS];
	float *S;
};

static void
rcase_make(struct rcase *c, int N, int K, int B, double scale, uint64_t seed)
{
	struct nn_rng r;
	int i, n, k;

	nn_rng_seed(&r, seed);
	c->N = N, c->K = K, c->B = B;
	c->y = malloc(N * sizeof(int));
	for (n = 0; n < N; n++)
		c->y[n] = nn_rng_u32(&r) % K;
	for (i = 0; i < B; i++) {
		int nc = K + (i < B - 1);

		c->lg[i] = malloc((size_t)N * nc * sizeof(float));
		for (k = 0; k < N * nc; k++)
			c->lg[i][k] = scale * nn_rng_normal(&r);
		c->spent[i] = 10 * (i + 1) + i * i;
	}
	c->S = malloc((size_t)K * (B - 1) * sizeof(float));
	for (k = 0; k < K * (B - 1); k++)
		c->S[k] = nn_rng_uniform(&r);
}

static void
rcase_free(struct rcase *c)
{
	int i;

	for (i = 0; i < c->B; i++)
		free(c->lg[i]);
	free(c->y);
	free(c->S);
}

/* Smallest gap between the two largest class logits: a finite-difference
 * step must not change any exit's prediction (t of L_conf). */
static double
min_gap(const struct rcase *c)
{
	double gap = INFINITY;
	int i, n, k;

	for (i = 0; i < c->B; i++) {
		int nc = c->K + (i < c->B - 1);

		for (n = 0; n < c->N; n++) {
			const float *z = c->lg[i] + (long)n * nc;
			double a = -INFINITY, b = -INFINITY;

			for (k = 0; k < c->K; k++)
				if (z[k] > a)
					b = a, a = z[k];
				else if (z[k] > b)
					b = z[k];
			if (a - b < gap)
				gap = a - b;
		}
	}
	return gap;
}

/* Central differences in double of the total under o against its analytic
 * gradient, over every logit of every exit (confidences included). */
static void
fd_check(struct rcase *c, const struct eel_opts *o, const char *what)
{
	float *g[EEL_MAX_EXITS];
	struct eel_terms t;
	const double h = 1e-3;
	int i, k;

	grads_alloc(g, c->N, c->K, c->B);
	eel_loss(&t, g, c->lg, c->y, o, c->N, c->K, c->B);
	for (i = 0; i < c->B; i++) {
		long n = (long)c->N * (c->K + (i < c->B - 1));
		float *fd = malloc(n * sizeof(float));

		for (k = 0; k < n; k++) {
			float x = c->lg[i][k], xp = x + h, xm = x - h;
			double fp, fm;

			c->lg[i][k] = xp;
			fp = eel_loss(&t, NULL, c->lg, c->y, o, c->N, c->K, c->B);
			c->lg[i][k] = xm;
			fm = eel_loss(&t, NULL, c->lg, c->y, o, c->N, c->K, c->B);
			c->lg[i][k] = x;
			fd[k] = (fp - fm) / ((double)xp - xm);
		}
		if (!CHECK_CLOSE(g[i], fd, n, 2e-6, 1e-4))
			fprintf(stderr, "    %s, exit %d\n", what, i);
		free(fd);
	}
	grads_free(g, c->B);
}

static void
test_fd(void)
{
	static const struct { int N, K, B; double mbar; } cs[] = {
		{ 5, 3, 4, 15 }, { 6, 4, 2, 12 }, { 7, 5, 5, 20 },
	};
	unsigned ci;

	for (ci = 0; ci < sizeof(cs) / sizeof(cs[0]); ci++) {
		struct rcase c;
		struct eel_terms t;
		struct eel_opts o = { 0, 0, 0, 0, cs[ci].mbar, NULL, NULL, 0 };

		rcase_make(&c, cs[ci].N, cs[ci].K, cs[ci].B, 2, 100 + ci);
		o.spent = c.spent;
		o.support = c.S;
		CHECK(min_gap(&c) > 0.01);
		/* The case must exercise L_cost (constraint violated). */
		eel_loss(&t, NULL, c.lg, c.y, &o, c.N, c.K, c.B);
		CHECK(t.cost > 0.02);
		o.w_acc = 1;
		fd_check(&c, &o, "L_acc");
		o.w_acc = 0, o.w_cost = 1;
		fd_check(&c, &o, "L_cost");
		o.w_cost = 0, o.w_conf = 1;
		fd_check(&c, &o, "L_conf");
		o.w_conf = 0, o.w_peak = 1;
		fd_check(&c, &o, "L_peak");
		o.w_peak = 0, o.w_ce = 1;
		fd_check(&c, &o, "L_ce");
		o.w_acc = 0.7, o.w_cost = 2, o.w_conf = 1, o.w_peak = 0.5, o.w_ce = 0.3;
		fd_check(&c, &o, "total");
		rcase_free(&c);
	}
}

/* Saturated confidences and huge class logits stay finite: 1 - c comes
 * from sigmoid(-s), and the mixture has its 1e-12 floor. */
static void
test_stable(void)
{
	struct rcase c;
	struct eel_opts o = { 1, 1, 1, 1, 15, NULL, NULL, 0 };
	struct eel_terms t;
	float *g[EEL_MAX_EXITS];
	int i, k, ok = 1;

	rcase_make(&c, 8, 4, 4, 60, 7);
	o.spent = c.spent;
	o.support = c.S;
	grads_alloc(g, c.N, c.K, c.B);
	eel_loss(&t, g, c.lg, c.y, &o, c.N, c.K, c.B);
	CHECK(isfinite(t.total) && t.acc > 0 && t.conf > 0);
	CHECK(t.acc <= 2 * -log(1e-12) + 1e-9);
	for (i = 0; i < c.B; i++)
		for (k = 0; k < c.N * (c.K + (i < c.B - 1)); k++)
			ok &= isfinite(g[i][k]);
	CHECK(ok);
	grads_free(g, c.B);
	rcase_free(&c);
}

/*
 * Support matrix, K = 4, B = 3, six samples of classes 0, 0, 1, 1, 1, 2
 * (none of class 3):
 *   exit 0 predicts 0 1 1 1 0 2: class 0 1/2, class 1 2/3, class 2 1, all 4/6
 *   exit 1 predicts 0 0 1 0 0 0: class 0 1,   class 1 1/3, class 2 0, all 3/6
 * Class 3 gets the accuracies over all samples.
 */
static void
test_support_matrix(void)
{
	const int y[] = { 0, 0, 1, 1, 1, 2 };
	const int pred[] = { 0, 1, 1, 1, 0, 2, 0, 0, 1, 0, 0, 0 };
	const float want[] = { 0.5f, 1, 2.0f / 3, 1.0f / 3, 1, 0, 4.0f / 6, 0.5f };
	float S[8];

	eel_support_matrix(S, pred, y, 6, 4, 3);
	CHECK_CLOSE(S, want, 8, 1e-7, 0);
}

static int
cmp_int(const void *a, const void *b)
{
	return *(const int32_t *)a - *(const int32_t *)b;
}

/* Equal count per class, drawn from the pool only, no repeats, ascending,
 * same seed same set, another seed another set, capped by the smallest class. */
static void
test_sampler(void)
{
	enum { NP = 900, K = 4 };
	int32_t lab[2 * NP], pool[NP], a[K * 60], b[K * 60], seen[K * 60];
	long cnt[K] = { 0 }, m, i, same = 1, sorted = 1, inpool = 1, uniq = 1;
	struct nn_rng r;

	/* Classes 0..3 in the ratio 4:3:2:1 (360, 270, 180, 90 in the pool
	 * of odd indices). */
	for (i = 0; i < 2 * NP; i++) {
		int r = (i / 2) % 10;

		lab[i] = r < 4 ? 0 : r < 7 ? 1 : r < 9 ? 2 : 3;
	}
	for (i = 0; i < NP; i++)
		pool[i] = 2 * i + 1;
	nn_rng_seed(&r, 42);
	m = eel_support_sample(a, pool, NP, lab, K, 60, &r);
	CHECK_EQ_L(m, 60);
	for (i = 0; i < K * m; i++) {
		cnt[lab[a[i]]]++;
		inpool &= a[i] % 2 == 1;
		if (i)
			sorted &= a[i - 1] < a[i];
	}
	for (i = 0; i < K; i++)
		CHECK_EQ_L(cnt[i], 60);
	CHECK(inpool);
	CHECK(sorted);  /* strictly: no index twice */
	memcpy(seen, a, sizeof(seen));
	qsort(seen, K * m, sizeof(int32_t), cmp_int);
	for (i = 1; i < K * m; i++)
		uniq &= seen[i] != seen[i - 1];
	CHECK(uniq);

	nn_rng_seed(&r, 42);
	eel_support_sample(b, pool, NP, lab, K, 60, &r);
	for (i = 0; i < K * m; i++)
		same &= a[i] == b[i];
	CHECK(same);
	nn_rng_seed(&r, 43);
	eel_support_sample(b, pool, NP, lab, K, 60, &r);
	for (i = 0, same = 1; i < K * m; i++)
		same &= a[i] == b[i];
	CHECK(!same);

	/* More than the smallest class holds: every class gets that many. */
	{
		long smallest = NP, c2[K] = { 0 }, c3[K] = { 0 };
		int32_t *big = malloc(NP * sizeof(int32_t));

		for (i = 0; i < NP; i++)
			c2[lab[pool[i]]]++;
		for (i = 0; i < K; i++)
			if (c2[i] < smallest)
				smallest = c2[i];
		CHECK_EQ_L(smallest, 90);
		m = eel_support_sample(big, pool, NP, lab, K, 200, &r);
		CHECK_EQ_L(m, smallest);
		for (i = 0; i < K * m; i++)
			c3[lab[big[i]]]++;
		for (i = 0; i < K; i++)
			CHECK_EQ_L(c3[i], smallest);
		free(big);
	}
	/* No pool: the indices 0 .. n-1. */
	nn_rng_seed(&r, 1);
	m = eel_support_sample(a, NULL, 40, lab, K, 3, &r);
	CHECK_EQ_L(m, 3);
	for (i = 0; i < K * m; i++)
		CHECK(a[i] >= 0 && a[i] < 40);
}

/* ---- PyTorch parity ---- */

static FILE *
ref_open(const char *argv0)
{
	static const char *rel = "tests/data/eel/ref.txt";
	char buf[4096], path[4200];
	FILE *f = fopen(rel, "r");

	if (f)
		return f;
	/* Run from elsewhere: the binary is tests/unit/bin/test_eel. */
	snprintf(buf, sizeof(buf), "%s", argv0);
	snprintf(path, sizeof(path), "%s/../../data/eel/ref.txt", dirname(buf));
	return fopen(path, "r");
}

/* Next number, skipping '#' comment lines. */
static double
ref_num(FILE *f)
{
	double v;
	int ch;

	for (;;) {
		while ((ch = getc(f)) == ' ' || ch == '\n' || ch == '\t')
			;
		if (ch == '#') {
			while ((ch = getc(f)) != '\n' && ch != EOF)
				;
			continue;
		}
		ungetc(ch, f);
		if (fscanf(f, "%lf", &v) != 1) {
			fprintf(stderr, "test_eel: ref.txt: short or malformed\n");
			exit(1);
		}
		return v;
	}
}

static void
ref_vec(float *v, long n, FILE *f)
{
	long i;

	for (i = 0; i < n; i++)
		v[i] = (float)ref_num(f);
}

static void
test_torch(const char *argv0)
{
	FILE *f = ref_open(argv0);
	int ncase, ci;

	CHECK(f != NULL);
	if (f == NULL) {
		fprintf(stderr, "    tests/data/eel/ref.txt not found\n");
		return;
	}
	ncase = (int)ref_num(f);
	CHECK(ncase >= 3);
	for (ci = 0; ci < ncase; ci++) {
		struct rcase c;
		struct eel_opts o;
		struct eel_terms t;
		double want[6];
		float *g[EEL_MAX_EXITS], *ref;
		int i, n, term;

		c.N = ref_num(f), c.K = ref_num(f), c.B = ref_num(f);
		c.y = malloc(c.N * sizeof(int));
		for (n = 0; n < c.N; n++)
			c.y[n] = ref_num(f);
		for (i = 0; i < c.B; i++)
			c.spent[i] = ref_num(f);
		o.mbar = ref_num(f);
		o.w_acc = ref_num(f), o.w_cost = ref_num(f);
		o.w_conf = ref_num(f), o.w_peak = ref_num(f);
		c.S = malloc((size_t)c.K * (c.B - 1) * sizeof(float));
		ref_vec(c.S, (long)c.K * (c.B - 1), f);
		for (i = 0; i < c.B; i++) {
			long m = (long)c.N * (c.K + (i < c.B - 1));

			c.lg[i] = malloc(m * sizeof(float));
			ref_vec(c.lg[i], m, f);
		}
		for (i = 0; i < 6; i++)
			want[i] = ref_num(f);
		o.spent = c.spent;
		o.support = c.S;

		/* The total's gradient, then each term's with only its weight. */
		for (term = 0; term < 5; term++) {
			struct eel_opts ot = o;

			if (term > 0) {
				ot.w_acc = term == 1, ot.w_cost = term == 2;
				ot.w_conf = term == 3, ot.w_peak = term == 4;
			}
			grads_alloc(g, c.N, c.K, c.B);
			eel_loss(&t, g, c.lg, c.y, &ot, c.N, c.K, c.B);
			if (term == 0) {
				CHECK_NEAR(t.acc, want[0], 1e-9 + 1e-6 * want[0]);
				CHECK_NEAR(t.cost, want[1], 1e-9 + 1e-6 * want[1]);
				CHECK_NEAR(t.conf, want[2], 1e-9 + 1e-6 * want[2]);
				CHECK_NEAR(t.peak, want[3], 1e-9 + 1e-6 * want[3]);
				CHECK_NEAR(t.total, want[4], 1e-9 + 1e-6 * want[4]);
				CHECK_NEAR(t.macs, want[5], 1e-9 + 1e-6 * want[5]);
			}
			for (i = 0; i < c.B; i++) {
				long m = (long)c.N * (c.K + (i < c.B - 1));

				ref = malloc(m * sizeof(float));
				ref_vec(ref, m, f);
				if (!CHECK_CLOSE(g[i], ref, m, 1e-7, 1e-5))
					fprintf(stderr, "    case %d, term %d, exit %d\n",
					    ci, term, i);
				free(ref);
			}
			grads_free(g, c.B);
		}
		rcase_free(&c);
	}
	fclose(f);
}

int
main(int argc, char **argv)
{
	(void)argc;
	test_hand();
	test_cost_grad();
	test_conf_balance();
	test_fd();
	test_stable();
	test_support_matrix();
	test_sampler();
	test_torch(argv[0]);
	return unit_done("test_eel");
}
