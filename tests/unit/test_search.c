/* test_search - lib/search: F_CM (Eq. 19) and AEBNAS's MAPE by hand; an
 * evaluation's alpha is the share of the set within the MACs limit, its
 * violation the error over the floor; the initial population starts with
 * the archive's front and adds only valid genomes new to the archive; the
 * choice takes admissible candidates first; the subset selection is exact
 * (against brute force). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pareto.h"
#include "search.h"
#include "unit.h"

#define NA 64

static void
test_f2(void)
{
	struct search s = { .fcm = 1, .macs_max = 100, .penalty = 10 };

	CHECK_NEAR(search_f2(&s, 150, 0.25), 0.25 * 150 + 0.75 * 10 * 50, 1e-9);
	CHECK_NEAR(search_f2(&s, 80, 0.5), 40, 1e-9);
	CHECK_NEAR(search_f2(&s, 80, 1), 80, 1e-9);
	s.fcm = 0;
	CHECK_NEAR(search_f2(&s, 150, 0.25), 150, 0);
	s.obj = SEARCH_AEBNAS, s.target = 200;
	CHECK_NEAR(search_f2(&s, 150, 0.25), 25, 1e-9);
}

/* NA distinct canonical genomes of the NACHOS space, drawn with rng. */
static void
genomes(int *g /* (NA, nv) */, const struct search *s, struct nn_rng *r)
{
	int lo[ARCH_MAX_GENOME], hi[ARCH_MAX_GENOME], n = 0, i;

	arch_genome_bounds(s->base.space, lo, hi);
	while (n < NA) {
		double x[ARCH_MAX_GENOME];

		for (i = 0; i < s->nv; i++)
			x[i] = lo[i] + rng_below(r, hi[i] - lo[i] + 1);
		search_canon(g + n * s->nv, s, x);
		if (!search_in_rows(g + n * s->nv, g, n, s->nv))
			n++;
	}
}

static void
test_search(void)
{
	struct search s;
	struct search_archive ar;
	struct sur_model em, mm;
	struct sur_opts so;
	struct nn_rng r;
	double x[NA * ARCH_MAX_GENOME], ye[NA], ym[NA], f[2 * NA], cv[NA], med;
	double lo[ARCH_MAX_GENOME], hi[ARCH_MAX_GENOME], *x0;
	int g[NA * ARCH_MAX_GENOME], ilo[ARCH_MAX_GENOME], ihi[ARCH_MAX_GENOME], front[NA];
	int i, j, nv, within = 0, n0, nf, ok;
	char msg[256];

	memset(&s, 0, sizeof(s));
	arch_extreme(&s.base, ARCH_NACHOS, 0);
	s.nv = nv = arch_genome_len(ARCH_NACHOS);
	nn_rng_seed(&r, 11);
	genomes(g, &s, &r);
	for (i = 0; i < NA; i++) {
		double sum = 0;

		for (j = 0; j < nv; j++)
			sum += x[i * nv + j] = g[i * nv + j];
		ym[i] = 1000 * sum;
		ye[i] = 0.1 + 0.02 * g[i * nv] + 0.001 * i;
	}
	sur_opts_default(&so);
	so.kind = SUR_RBF;
	so.folds = 0;
	CHECK(sur_fit(&em, x, ye, NA, nv, &so, msg, sizeof(msg)) == 0);
	CHECK(sur_fit(&mm, x, ym, NA, nv, &so, msg, sizeof(msg)) == 0);
	s.em = &em, s.mm = &mm;
	/* the MACs limit at the median: half the set within it */
	memcpy(f, ym, sizeof(ym));
	for (i = 0; i < NA; i++)
		for (j = i + 1; j < NA; j++)
			if (f[j] < f[i]) {
				double t = f[i];

				f[i] = f[j], f[j] = t;
			}
	med = f[NA / 2 - 1];
	/* the predictions decide, not the targets they interpolate */
	for (i = 0; i < NA; i++) {
		double pe, pm;

		search_predict(&pe, &pm, &s, g + i * nv);
		within += pm <= med;
	}
	CHECK(within > 0 && within < NA);
	s.fcm = 1, s.macs_max = med, s.penalty = 10, s.err_max = 0.15, s.alpha = 1;
	search_eval(&s, f, cv, x, NA);
	CHECK_NEAR(s.alpha, (double)within / NA, 1e-12);
	for (i = 0; i < NA; i++) {
		double pe, pm;

		search_predict(&pe, &pm, &s, g + i * nv);
		CHECK_NEAR(pm, ym[i], 1e-6 * ym[i]);     /* RBF interpolates its centres */
		CHECK_NEAR(f[2 * i], pe, 0);
		CHECK_NEAR(f[2 * i + 1], search_f2(&s, pm, s.alpha), 0);
		CHECK_NEAR(cv[i], fmax(0, pe - 0.15), 0);
	}

	/* the archive: the first NA - 2 genomes with metrics */
	memset(&ar, 0, sizeof(ar));
	ar.cap = NA;
	ar.g = malloc(sizeof(int) * NA * nv);
	ar.err = malloc(sizeof(double) * NA);
	ar.macs = malloc(sizeof(double) * NA);
	ar.gi = malloc(sizeof(int) * NA);
	for (i = 0; i < NA - 2; i++) {
		memcpy(ar.g + i * nv, g + i * nv, sizeof(int) * nv);
		ar.err[i] = ye[i], ar.macs[i] = ym[i], ar.gi[i] = i;
	}
	ar.n = ar.nm = NA - 2;
	arch_genome_bounds(ARCH_NACHOS, ilo, ihi);
	for (i = 0; i < nv; i++)
		lo[i] = ilo[i], hi[i] = ihi[i];
	x0 = malloc(sizeof(double) * 20 * nv);
	n0 = search_initial(x0, &ar, &s, lo, hi, 20, 1.0, 5);
	CHECK_EQ_L(n0, 20);
	nf = pareto_front(front, ar.err, ar.macs, NULL, NULL, ar.nm);
	for (i = 0; i < n0; i++) {
		int gi[ARCH_MAX_GENOME], gc[ARCH_MAX_GENOME];

		for (j = 0; j < nv; j++)
			gi[j] = (int)x0[i * nv + j];
		search_canon(gc, &s, x0 + i * nv);
		CHECK(memcmp(gi, gc, sizeof(int) * nv) == 0);      /* canonical */
		if (i < nf)
			CHECK(memcmp(gi, ar.g + front[i] * nv, sizeof(int) * nv) == 0);
		else
			CHECK(!search_in_rows(gi, ar.g, ar.n, nv));
		for (j = 0, ok = 1; j < i; j++)
			ok &= memcmp(x0 + i * nv, x0 + j * nv, sizeof(double) * nv) != 0;
		CHECK(ok);
	}
	free(x0);
	/* the choice: admissible candidates first */
	{
		struct search_cand c[6];
		int out[3], np;

		memset(c, 0, sizeof(c));
		for (i = 0; i < 6; i++) {
			c[i].f2 = 1000 * (i + 1);
			c[i].adm = i % 2;
		}
		np = search_choose(out, c, 6, &s, &ar, 3);
		CHECK_EQ_L(np, 3);
		for (i = 0; i < np; i++)
			CHECK(c[out[i]].adm);
		c[1].adm = c[3].adm = 0;
		np = search_choose(out, c, 6, &s, &ar, 3);
		CHECK_EQ_L(np, 3);
		CHECK(c[out[0]].adm);
		CHECK(!c[out[1]].adm && !c[out[2]].adm);
	}
	search_archive_free(&ar);
	search_free(&s);
	sur_free(&em);
	sur_free(&mm);
}

/* Smallest gap std over all k-subsets of nc <= 16 candidates, by brute force. */
static double
subset_brute(const double *cand, int nc, const double *front, int nf, int k)
{
	double best = INFINITY;
	int m, q[16];

	for (m = 0; m < 1 << nc; m++) {
		int n = 0, b;

		if (__builtin_popcount(m) != k)
			continue;
		for (b = 0; b < nc; b++)
			if (m >> b & 1)
				q[n++] = b;
		best = fmin(best, search_gap_std(cand, q, k, front, nf));
	}
	return best;
}

static void
test_subset(void)
{
	/* archive front at 0 and 10, candidates 0.25 .. 9.75 in steps of
	 * 0.25: the integers 1..9 make every gap 1 (std 0) */
	double front[4] = { 0, 10 }, cand[39];
	int pick[9], all[40], i, t, n, ok = 1;
	struct nn_rng rng;

	for (i = 0; i < 39; i++)
		cand[i] = 0.25 * (i + 1);
	n = search_subset(pick, cand, 39, front, 2, 9);
	CHECK_EQ_L(n, 9);
	for (i = 0; i < 9; i++)
		CHECK_NEAR(cand[pick[i]], i + 1, 0);
	CHECK_NEAR(search_gap_std(cand, pick, 9, front, 2), 0, 1e-12);
	/* front {0, 6, 8}: 3.1 and 9.9 give gaps 3.1 2.9 2 1.9 (std 0.531),
	 * the best pair (brute force over all 21) */
	{
		double c[7] = { 3.1, 0.2, 7.7, 5.0, 9.9, 4.4, 1.3 }, fr[3] = { 0, 6, 8 };

		CHECK_EQ_L(search_subset(pick, c, 7, fr, 3, 2), 2);
		CHECK_EQ_L(pick[0], 0);
		CHECK_EQ_L(pick[1], 4);
	}
	/* exact: equal to brute force on random cases, candidates inside and
	 * outside the front's range, with and without a front */
	nn_rng_seed(&rng, 5);
	for (t = 0; t < 60; t++) {
		int nc = 4 + t % 9, nf = t % 4, k = 1 + t % 4;
		double got;

		for (i = 0; i < nc; i++)
			cand[i] = rint(100 * rng_double(&rng)) / 10;   /* ties happen */
		for (i = 0; i < nf; i++)
			front[i] = 2 + 6 * rng_double(&rng);
		n = search_subset(pick, cand, nc, front, nf, k);
		if (nf + k < 2)
			continue;
		got = search_gap_std(cand, pick, n, front, nf);
		if (n != k || fabs(got - subset_brute(cand, nc, front, nf, k)) > 1e-9)
			ok = 0;
		for (i = 1; i < n; i++)
			if (pick[i] <= pick[i - 1])
				ok = 0;
	}
	CHECK(ok);
	/* fewer candidates than k: all of them */
	CHECK_EQ_L(search_subset(all, cand, 4, front, 2, 9), 4);
	CHECK_EQ_L(all[3], 3);
}

int
main(void)
{
	test_f2();
	test_search();
	test_subset();
	return unit_done("test_search");
}
