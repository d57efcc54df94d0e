/* test_search - lib/search: F_CM (Eq. 19) and AEBNAS's MAPE by hand; an
 * evaluation's alpha is the share of the set within the MACs limit, its
 * violation the error over the floor; the initial population starts with
 * the archive's front and adds only valid genomes new to the archive; the
 * choice takes admissible candidates first. */
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

int
main(void)
{
	test_f2();
	test_search();
	return unit_done("test_search");
}
