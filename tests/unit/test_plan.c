/* test_plan.c - the budget plan: durations, the probe fit, a plan that fits
 * its budget, and a plan monotone in the budget (a longer budget never
 * buys fewer candidates, a smaller subset or a shorter supernet). */
#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "unit.h"

static void
test_duration(void)
{
	CHECK_EQ_L(plan_duration("25m"), 1500);
	CHECK_EQ_L(plan_duration("2h"), 7200);
	CHECK_EQ_L(plan_duration("90s"), 90);
	CHECK_EQ_L(plan_duration("1h30m"), 5400);
	CHECK_EQ_L(plan_duration("1h0m5s"), 3605);
	CHECK_EQ_L(plan_duration(""), -1);
	CHECK_EQ_L(plan_duration("25"), -1);
	CHECK_EQ_L(plan_duration("m"), -1);
	CHECK_EQ_L(plan_duration("0m"), -1);
	CHECK_EQ_L(plan_duration("-5m"), -1);
	CHECK_EQ_L(plan_duration("1.5h"), -1);
	CHECK_EQ_L(plan_duration("30s1m"), -1);
	CHECK_EQ_L(plan_duration("1m1m"), -1);
	CHECK_EQ_L(plan_duration("5 m"), -1);
	CHECK_EQ_L(plan_duration("5mx"), -1);
	CHECK_EQ_L(plan_duration("99999999999999999999h"), -1);
	CHECK_EQ_L(plan_duration("9000h"), -1);
}

static void
test_fit(void)
{
	struct plan_probe p[2] = { { 1000, 12, 0 }, { 3000, 16, 0 } },
	    q[2] = { { 1000, 9, 0 }, { 2000, 8, 0 } };
	double a, b;

	CHECK(plan_fit(&a, &b, p) == 0);
	CHECK_NEAR(a, 10, 1e-12);
	CHECK_NEAR(b, 0.002, 1e-15);
	/* noise: the larger probe faster; no negative cost per image */
	CHECK(plan_fit(&a, &b, q) == 0);
	CHECK_NEAR(b, 0, 0);
	CHECK_NEAR(a, 9, 1e-12);
	/* CPU times: the line through them, times the larger wall / CPU. The
	 * make demo probes under load: walls 32.4 and 30.0 s (slope 0 by
	 * them), CPU 10 and 17.4 s */
	{
		struct plan_probe c[2] = { { 500, 32.4, 10 }, { 1500, 30.0, 17.4 } };

		CHECK(plan_fit(&a, &b, c) == 0);
		CHECK_NEAR(b, 3.24 * 0.0074, 1e-12);
		CHECK_NEAR(a, 3.24 * 6.3, 1e-9);
		/* one CPU time unknown: the walls alone */
		c[1].cpu = 0;
		CHECK(plan_fit(&a, &b, c) == 0);
		CHECK_NEAR(b, 0, 0);
		CHECK_NEAR(a, 32.4, 1e-12);
	}
	p[1].n = 1000;
	CHECK(plan_fit(&a, &b, p) == -1);
}

static struct plan_rates
rates(void)
{
	struct plan_rates r = { .has_sup = 1, .sup = { { 320, 6, 0 }, { 960, 8, 0 } }, .sup_images = 60000,
		.cmin = { { 500, 11.6, 0 }, { 1500, 14.8, 0 } },
		.cmax = { { 500, 19, 0 }, { 1500, 28.5, 0 } },
		.ncmax = 2, .jobs = 2 };
	return r;
}

static void
test_fits_budget(void)
{
	struct plan_rates r = rates();
	struct plan_limits l;
	struct plan p;
	char why[160];

	plan_limits_default(&l);
	l.subset_max = 24000;
	l.budget = 1500;
	CHECK(plan_make(&p, &r, &l, why, sizeof(why)) == 0);
	CHECK(p.feasible);
	CHECK_NEAR(p.reserve_s, 75, 1e-12);
	CHECK(p.total_s <= 1500 - 75);
	CHECK_EQ_L(p.n_start + (long)p.iterations * p.k, p.candidates);
	CHECK(p.n_start >= 2);
	CHECK_EQ_L(p.candidates % 2, 0);
	CHECK(p.sup_epochs >= 1 && p.sup_s <= 0.4 * (1500 - 75));
	CHECK_EQ_L(p.subset, 24000);
	/* no supernet to train: its share goes to candidates */
	r.has_sup = 0;
	{
		struct plan q;

		CHECK(plan_make(&q, &r, &l, why, sizeof(why)) == 0);
		CHECK(q.candidates > p.candidates);
		CHECK_EQ_L(q.sup_epochs, 0);
	}
	/* too short for the two extremes: the smallest search, not feasible */
	r.has_sup = 1;
	l.budget = 90;
	CHECK(plan_make(&p, &r, &l, why, sizeof(why)) == 0);
	CHECK(!p.feasible);
	CHECK_EQ_L(p.candidates, 2);
	CHECK_EQ_L(p.n_start, 2);
	CHECK_EQ_L(p.iterations, 0);
	/* unusable rates */
	r.jobs = 0;
	CHECK(plan_make(&p, &r, &l, why, sizeof(why)) == -1);
	r = rates();
	r.cmin[1].n = 500;
	CHECK(plan_make(&p, &r, &l, why, sizeof(why)) == -1);
	CHECK(strstr(why, "candidate") != NULL);
	r = rates();
	r.ncmax = 3;
	CHECK(plan_make(&p, &r, &l, why, sizeof(why)) == -1);
}

/* One all-max probe beside the first all-min one: the all-max line is the
 * all-min line times their ratio. */
static void
test_one_max_probe(void)
{
	struct plan_rates r = rates();
	struct plan_limits l;
	struct plan p;
	char why[160];

	plan_limits_default(&l);
	l.budget = 1500;
	r.ncmax = 1;
	r.cmin[0].s = 10;
	r.cmin[1].s = 12;        /* 9 s + 2 ms per image */
	r.cmax[0].s = 30;        /* 3 times the all-min at 500 */
	CHECK(plan_make(&p, &r, &l, why, sizeof(why)) == 0);
	CHECK_NEAR(p.cmin_fixed, 9, 1e-12);
	CHECK_NEAR(p.cmin_per_img, 0.002, 1e-15);
	CHECK_NEAR(p.cmax_fixed, 27, 1e-12);
	CHECK_NEAR(p.cmax_per_img, 0.006, 1e-15);
	r.cmax[0].n = 1500;      /* not at the all-min probe's size */
	CHECK(plan_make(&p, &r, &l, why, sizeof(why)) == -1);
	CHECK(strstr(why, "all-max") != NULL);
}

static void
test_monotone(void)
{
	struct plan_rates r = rates();
	struct plan_limits l;
	struct plan p, prev;
	char why[160];
	double b;
	int first = 1, jobs;

	for (jobs = 1; jobs <= 3; jobs++) {
		r.jobs = jobs;
		first = 1;
		plan_limits_default(&l);
		l.subset_max = 24000;
		for (b = 60; b <= 36000; b += 7) {
			l.budget = b;
			CHECK(plan_make(&p, &r, &l, why, sizeof(why)) == 0);
			if (p.feasible && p.total_s > b - p.reserve_s + 1e-9) {
				CHECK(p.total_s <= b - p.reserve_s);
				fprintf(stderr, "    budget %g jobs %d: %d candidates, %d iterations of %d, total %g\n", b, jobs, p.candidates, p.iterations, p.k, p.total_s);
				break;
			}
			if (!first && (p.candidates < prev.candidates || p.subset < prev.subset ||
			    p.k < prev.k || p.sup_epochs * (p.sup_subset ? p.sup_subset : 60000) <
			    prev.sup_epochs * (prev.sup_subset ? prev.sup_subset : 60000) ||
			    p.feasible < prev.feasible)) {
				CHECK(!"plan monotone in the budget");
				break;
			}
			prev = p;
			first = 0;
		}
		/* 25 min against 2 h: the longer buys proportionally more */
		l.budget = 1500;
		plan_make(&prev, &r, &l, why, sizeof(why));
		l.budget = 7200;
		plan_make(&p, &r, &l, why, sizeof(why));
		CHECK(p.candidates >= 3 * prev.candidates);
		CHECK(p.candidates * (double)p.subset >= 4 * prev.candidates * (double)prev.subset);
		CHECK(p.sup_epochs > prev.sup_epochs);
	}
}

int
main(void)
{
	test_duration();
	test_fits_budget();
	test_fit();
	test_one_max_probe();
	test_monotone();
	return unit_done("test_plan");
}
