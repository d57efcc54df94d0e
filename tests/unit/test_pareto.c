/* test_pareto.c - constrained fronts, the 2-D hypervolume by hand and
 * against cell counting, and the knee definitions. */
#include <stdlib.h>
#include <string.h>

#include "nsga.h"
#include "pareto.h"
#include "unit.h"

static void
test_rank(void)
{
	/* 0-2 admissible front, 3 admissible dominated; 4 inadmissible by
	 * violation 0.2 (would dominate all), 5 and 6 at 0.1 (6 dominated by
	 * 5), 7 marked not ok with no violation */
	double x[] = { 1, 2, 3, 3, 0, 5, 6, 0.5 }, y[] = { 3, 2, 1, 3, 0, 5, 6, 0.5 };
	double cv[] = { 0, 0, 0, 0, 0.2, 0.1, 0.1, 0 };
	int ok[] = { 1, 1, 1, 1, 1, 1, 1, 0 };
	int want[] = { 0, 0, 0, 1, 5, 3, 4, 2 }, fr[8], idx[8], i, n;

	CHECK_EQ_L(pareto_rank(fr, x, y, cv, ok, 8), 6);
	for (i = 0; i < 8; i++)
		CHECK_EQ_L(fr[i], want[i]);
	n = pareto_front(idx, x, y, cv, ok, 8);
	CHECK_EQ_L(n, 3);
	CHECK_EQ_L(idx[0], 0);
	CHECK_EQ_L(idx[2], 2);
	/* nothing admissible: the least violating group is the front */
	for (i = 0; i < 8; i++)
		ok[i] = 0;
	n = pareto_front(idx, x, y, cv, ok, 8);
	/* the cv 0 group is 0-3 and 7, and 7 dominates the rest of it */
	CHECK_EQ_L(n, 1);
	CHECK_EQ_L(idx[0], 7);
	/* without constraints every point is admissible: 4, 7, 0-2, 3, 5, 6 */
	CHECK_EQ_L(pareto_rank(fr, x, y, NULL, NULL, 8), 6);
	CHECK_EQ_L(fr[4], 0);
	CHECK_EQ_L(fr[7], 1);
	/* equal points share a front */
	{
		double a[] = { 1, 1, 2 }, b[] = { 2, 2, 1 };

		CHECK_EQ_L(pareto_rank(fr, a, b, NULL, NULL, 3), 1);
		CHECK_EQ_L(pareto_front(idx, a, b, NULL, NULL, 3), 3);
		CHECK_EQ_L(idx[0], 0);
		CHECK_EQ_L(idx[1], 1);
		CHECK_EQ_L(idx[2], 2);
	}
}

static void
test_hv(void)
{
	double x[] = { 1, 2, 3, 3, 5, 0.5 }, y[] = { 3, 2, 1, 3, 0.5, 4 };
	struct nn_rng rng;
	int t, ok = 1;

	/* staircase: 3 + 2 + 1 */
	CHECK_NEAR(pareto_hv(x, y, 3, 4, 4), 6, 1e-15);
	/* a dominated point, one past rx, one on ry: nothing more */
	CHECK_NEAR(pareto_hv(x, y, 6, 4, 4), 6, 1e-15);
	CHECK_NEAR(pareto_hv(x, y, 0, 4, 4), 0, 0);
	CHECK_NEAR(pareto_hv(x + 1, y + 1, 1, 4, 4), 4, 1e-15);
	/* random integer sets against counting the unit cells dominated */
	nn_rng_seed(&rng, 9);
	for (t = 0; t < 50; t++) {
		double px[12], py[12];
		int n = 1 + t % 12, cells = 0, i, cx, cy;

		for (i = 0; i < n; i++) {
			px[i] = floor(rng_double(&rng) * 22);   /* some beyond 20 */
			py[i] = floor(rng_double(&rng) * 22);
		}
		for (cx = 0; cx < 20; cx++)
			for (cy = 0; cy < 20; cy++)
				for (i = 0; i < n; i++)
					if (px[i] <= cx && py[i] <= cy) {
						cells++;
						break;
					}
		if (pareto_hv(px, py, n, 20, 20) != cells)
			ok = 0;
	}
	CHECK(ok);
}

static void
test_knee(void)
{
	double x[] = { 0, 0.2, 0.5, 1 }, y[] = { 1, 0.3, 0.15, 0 }, ys[4];
	double x2[] = { 3, 1 }, y2[] = { 1, 3 };
	int i;

	/* farthest below the line x + y = 1: 0.2 + 0.3 leaves 0.5 */
	CHECK_EQ_L(pareto_knee(x, y, 4, PARETO_KNEE_LINE), 1);
	/* trade-off mu: point 1 min(0.7/0.2, 0.3/0.15, 0.8/0.3) = 2, the others
	 * below 0.51 */
	CHECK_EQ_L(pareto_knee(x, y, 4, PARETO_KNEE_TRADEOFF), 1);
	/* scale-free: MACs in millions or in units */
	for (i = 0; i < 4; i++)
		ys[i] = y[i] * 2.7e6 + 1e6;
	CHECK_EQ_L(pareto_knee(x, ys, 4, PARETO_KNEE_LINE), 1);
	CHECK_EQ_L(pareto_knee(x, ys, 4, PARETO_KNEE_TRADEOFF), 1);
	/* a point at 0.5, 0.15 moved to 0.3, 0.1: now the farthest (0.6) */
	x[2] = 0.3;
	y[2] = 0.1;
	CHECK_EQ_L(pareto_knee(x, y, 4, PARETO_KNEE_LINE), 2);
	/* one point: it; two: the smaller x; none: -1 */
	CHECK_EQ_L(pareto_knee(x + 3, y + 3, 1, PARETO_KNEE_LINE), 0);
	CHECK_EQ_L(pareto_knee(x2, y2, 2, PARETO_KNEE_LINE), 1);
	CHECK_EQ_L(pareto_knee(x2, y2, 2, PARETO_KNEE_TRADEOFF), 1);
	CHECK_EQ_L(pareto_knee(x, y, 0, PARETO_KNEE_LINE), -1);
	CHECK(!strcmp(pareto_knee_names[PARETO_KNEE_TRADEOFF], "tradeoff"));
	/* seven points, scaled x/20 and (y-1)/99: the line knee is (6,42)
	 * (1 - .3 - .414 = .286 against .249 for (13,11)); for the trade-off,
	 * (13,11) has one neighbour within .125, so its 4 nearest count, all to
	 * its right: min(.1/.0505, .2/.0808, .25/.0909, .35/.101) = 1.98, while
	 * (6,42) loses .35 for .313 towards (13,11): mu <= 1.12 */
	{
		double sx[] = { 0, 6, 13, 15, 17, 18, 20 }, sy[] = { 100, 42, 11, 6, 3, 2, 1 };

		CHECK_EQ_L(pareto_knee(sx, sy, 7, PARETO_KNEE_LINE), 1);
		CHECK_EQ_L(pareto_knee(sx, sy, 7, PARETO_KNEE_TRADEOFF), 2);
	}
}

/* The best trade-off: the knee of the admissible front; a point not ok
 * (feasible false) or violating is left out, unless nothing is admissible. */
static void
test_best(void)
{
	/* a .10/3000, b .20/1000, c .30/900, d .25/2000 (dominated by b) */
	double x[] = { .10, .20, .30, .25 }, y[] = { 3000, 1000, 900, 2000 };
	double cv[] = { 0, 0, 0, 0 }, cv2[] = { .3, .2, .1, .05 };
	int ok[] = { 1, 0, 1, 1 }, all[] = { 1, 1, 1, 1 }, k;

	CHECK_EQ_L(pareto_best(x, y, NULL, NULL, 0, PARETO_KNEE_LINE), -1);
	k = pareto_best(x, y, cv, all, 4, PARETO_KNEE_LINE);
	CHECK_EQ_L(k, 1);
	CHECK_EQ_L(pareto_best(x, y, NULL, NULL, 4, PARETO_KNEE_LINE), k);
	/* b not feasible: the front is a, d and c; d lies above the line
	 * through a and c, so the most accurate, a, wins */
	CHECK_EQ_L(pareto_best(x, y, cv, ok, 4, PARETO_KNEE_LINE), 0);
	/* nothing admissible: the least violating, d */
	CHECK_EQ_L(pareto_best(x, y, cv2, all, 4, PARETO_KNEE_LINE), 3);
}

/* What a MACs budget buys: the most accurate record at most that dear,
 * the cheaper on a tie, only ok ones. */
static void
test_best_under(void)
{
	double acc[] = { .80, .86, .90, .86, .95 }, macs[] = { 1e6, 2e6, 3e6, 1.5e6, 2.5e6 };
	int ok[] = { 1, 1, 1, 1, 0 };

	CHECK_EQ_L(pareto_best_under(acc, macs, ok, 5, 0.9e6), -1);
	CHECK_EQ_L(pareto_best_under(acc, macs, ok, 5, 1e6), 0);
	CHECK_EQ_L(pareto_best_under(acc, macs, ok, 5, 2e6), 3);    /* tie: the cheaper */
	CHECK_EQ_L(pareto_best_under(acc, macs, ok, 5, 2.9e6), 3);  /* 4 is not ok */
	CHECK_EQ_L(pareto_best_under(acc, macs, NULL, 5, 2.9e6), 4);
	CHECK_EQ_L(pareto_best_under(acc, macs, ok, 5, INFINITY), 2);
	CHECK_EQ_L(pareto_best_under(acc, macs, ok, 0, INFINITY), -1);
}

/* A run's analysis: best, admissibility, share over the limit and the
 * hypervolume rows of its admissible records; pareto_hv_at steps. */
static void
test_run(void)
{
	/* r0 .80/3M (over), r1 .86/2M (iter 0), r2 .90/2.5M (iter 1) */
	double acc[] = { .80, .86, .90 }, macs[] = { 3e6, 2e6, 2.5e6 }, ref[2] = { 1, 4e6 };
	double x[3], hv0, hv1;
	long iter[] = { 0, 0, 1 };
	int ok[] = { 1, 1, 1 }, i;
	struct pareto_run pr;

	pareto_run(&pr, acc, macs, ok, iter, 3, 0.85, 2.7e6, PARETO_KNEE_LINE, ref);
	CHECK_EQ_L(pr.best, 2);             /* two points: the more accurate */
	CHECK(pr.adm);
	CHECK_NEAR(pr.over, 1.0 / 3, 1e-15);
	CHECK_EQ_L(pr.nhv, 2);
	for (i = 0; i < 3; i++)
		x[i] = 1 - acc[i];
	hv0 = pareto_hv(x + 1, macs + 1, 1, 1, 4e6) / 4e6;
	hv1 = pareto_hv(x + 1, macs + 1, 2, 1, 4e6) / 4e6;
	CHECK_NEAR(pr.hv[0].hv, hv0, 1e-15);
	CHECK_NEAR(pr.hv[1].hv, hv1, 1e-15);
	CHECK(isnan(pareto_hv_at(pr.hv, pr.nhv, -1)));
	CHECK_NEAR(pareto_hv_at(pr.hv, pr.nhv, 0), hv0, 0);
	CHECK_NEAR(pareto_hv_at(pr.hv, pr.nhv, 7), hv1, 0);
	/* against wall time: iteration 0 done at 40 s (its later record),
	 * iteration 1 at 95 s */
	{
		double t[] = { 40, 12, 95 };

		CHECK(isnan(pr.hv[0].t));
		CHECK(isnan(pareto_hv_by(pr.hv, pr.nhv, 1e9)));
		pareto_hv_times(pr.hv, pr.nhv, iter, t, 3);
		CHECK_NEAR(pr.hv[0].t, 40, 0);
		CHECK_NEAR(pr.hv[1].t, 95, 0);
		CHECK_NEAR(pareto_hv_by(pr.hv, pr.nhv, 39.9), 0, 0);
		CHECK_NEAR(pareto_hv_by(pr.hv, pr.nhv, 40), hv0, 0);
		CHECK_NEAR(pareto_hv_by(pr.hv, pr.nhv, 94), hv0, 0);
		CHECK_NEAR(pareto_hv_by(pr.hv, pr.nhv, 1e9), hv1, 0);
		t[1] = NAN;                 /* a record of iteration 0 without one */
		pareto_hv_times(pr.hv, pr.nhv, iter, t, 3);
		CHECK(isnan(pr.hv[0].t));
		CHECK_NEAR(pr.hv[1].t, 95, 0);
		CHECK(isnan(pareto_hv_by(pr.hv, pr.nhv, 1e9)));
	}
	free(pr.hv);
	/* r2 not feasible: r1 is the best, and r2 adds no hypervolume */
	ok[2] = 0;
	pareto_run(&pr, acc, macs, ok, iter, 3, 0.85, 2.7e6, PARETO_KNEE_LINE, ref);
	CHECK_EQ_L(pr.best, 1);
	CHECK_NEAR(pr.hv[pr.nhv - 1].hv, hv0, 1e-15);
	free(pr.hv);
}

static void
test_violation(void)
{
	CHECK_NEAR(pareto_violation(0.9, 100, 0.8, 200), 0, 0);
	CHECK_NEAR(pareto_violation(0.6, 100, 0.8, 200), 0.25, 1e-15);
	CHECK_NEAR(pareto_violation(0.9, 300, 0.8, 200), 0.5, 1e-15);
	CHECK_NEAR(pareto_violation(0.6, 300, 0.8, 200), 0.75, 1e-15);
	/* no floor, no limit */
	CHECK_NEAR(pareto_violation(0, 1e12, 0, INFINITY), 0, 0);
}

/* Iterations 2, 0, 1 out of order; the reference from iteration 0. */
static void
test_hv_iters(void)
{
	/* iteration 0: (1,3) (3,1); 1: (2,2) and an inadmissible (0,0); 2:
	 * (0.5,3.5) */
	double x[] = { 0.5, 1, 3, 2, 0 }, y[] = { 3.5, 3, 1, 2, 0 }, ref[2];
	long it[] = { 2, 0, 0, 1, 1 }, first;
	int adm[] = { 1, 1, 1, 1, 0 }, n;
	struct pareto_hv_row r[5];

	CHECK_EQ_L(pareto_ref(ref, &first, x, y, it, 5), 0);
	CHECK_EQ_L(first, 0);
	CHECK_NEAR(ref[0], 3.03, 1e-12);
	CHECK_NEAR(ref[1], 3.03, 1e-12);
	n = pareto_hv_iters(r, x, y, it, adm, 5, 4, 4);
	CHECK_EQ_L(n, 3);
	/* 0: 3 x 1 + 1 x 2 = 5; 1: (2,2) adds 1 x 1 = 6; 2: (0.5, 3.5) adds
	 * 0.5 x 0.5 = 6.25 */
	CHECK_EQ_L(r[0].iter, 0);
	CHECK_EQ_L(r[0].n, 2);
	CHECK_EQ_L(r[0].nfront, 2);
	CHECK_NEAR(r[0].hv_abs, 5, 1e-15);
	CHECK_EQ_L(r[1].iter, 1);
	CHECK_EQ_L(r[1].n, 4);
	CHECK_EQ_L(r[1].nfront, 3);
	CHECK_NEAR(r[1].hv_abs, 6, 1e-15);
	CHECK_EQ_L(r[2].n, 5);
	CHECK_NEAR(r[2].hv_abs, 6.25, 1e-15);
	CHECK_NEAR(r[2].hv, 6.25 / 16, 1e-15);
	/* without adm the inadmissible (0,0) takes the whole box from 1 on */
	n = pareto_hv_iters(r, x, y, it, NULL, 5, 4, 4);
	CHECK_NEAR(r[1].hv_abs, 16, 1e-15);
	/* a zero first iteration cannot make a reference */
	{
		double z[] = { 0, 1 };
		long iz[] = { 0, 1 };

		CHECK_EQ_L(pareto_ref(ref, &first, z, y, iz, 2), -1);
		CHECK_EQ_L(pareto_ref(ref, &first, z, y, iz, 0), -1);
	}
}

int
main(void)
{
	test_rank();
	test_hv();
	test_knee();
	test_best();
	test_run();
	test_best_under();
	test_violation();
	test_hv_iters();
	return unit_done("test_pareto");
}
