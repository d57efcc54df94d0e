/*
 * plan.c - a search sized to a wall-clock budget: the rule of budget-plan(1).
 *
 * Costs are lines in the training-set size, fitted through two probes, so
 * the fixed part of a run (loading the data, BN calibration, evaluation on
 * the test split, threshold tuning) is told from the part that grows with
 * the images trained on. The rule, in order:
 *   1. The reserve (report, plots, export) comes off the budget.
 *   2. The supernet gets whole epochs over the training set within
 *      sup_share of what is left (at most epochs_max); when not even one
 *      fits, one epoch over as many images as fit (at least sup_subset_min).
 *   3. The rest (the supernet's whole share off, whatever whole epochs
 *      used of it) trains candidates in rounds of JOBS at a time; a round costs
 *      an expected candidate (cand_mix of the way from the all-min to the
 *      all-max network: the constrained search proposes small ones) and
 *      half an iteration's overhead (an iteration is about two rounds).
 *      The training subset is the largest (multiple of 100, within
 *      subset_min..subset_max) that still trains c_min candidates; past
 *      subset_max, more budget buys more candidates, proportionally.
 *   4. Half the candidates (in whole rounds, at least n_min) form the
 *      initial archive; iterations of K = JOBS x ceil(sqrt(C / JOBS) / 2)
 *      take the rest (at most one per two rounds), so both the archive and
 *      the iterations grow with C.
 * Candidates, subset, supernet images and K never decrease as the budget
 * grows (tests/unit/test_plan.c).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plan.h"

/* The expected candidate's place between all-min (0) and all-max (1): the
 * quick preset's 16 candidates took 17 min two at a time, 127 s each on
 * average, against 79 s and 236 s for the extremes (examples/quick.conf). */
#define PLAN_CAND_MIX 0.3

void
plan_limits_default(struct plan_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->reserve = -1;          /* 5% of the budget, at least a minute */
	l->iter_overhead = 30;
	l->sup_share = 0.4;
	l->epochs_max = 120;
	l->sup_subset_min = 1000;
	l->subset_min = 1000;
	l->subset_max = 60000;
	l->c_min = 8;
	l->n_min = 2;
	l->k_max = 0;
}

int
plan_fit(double *fixed, double *per, const struct plan_probe *p)
{
	int cpu = p[0].cpu > 0 && p[1].cpu > 0;
	double t[2] = { cpu ? p[0].cpu : p[0].s, cpu ? p[1].cpu : p[1].s };
	double f = cpu ? fmax(p[0].s / p[0].cpu, p[1].s / p[1].cpu) : 1, a, b;

	if (p[0].n == p[1].n || p[0].n <= 0 || p[1].n <= 0)
		return -1;
	b = (t[1] - t[0]) / (double)(p[1].n - p[0].n);
	if (!(b > 0))
		b = 0;
	a = t[0] - b * (double)p[0].n;
	if (!(a > 0)) {
		/* all cost is per image: the steeper of the two through 0 */
		a = 0;
		b = fmax(t[0] / (double)p[0].n, t[1] / (double)p[1].n);
	}
	*fixed = f * a;
	*per = f * b;
	return 0;
}

long
plan_duration(const char *s)
{
	static const char units[] = "hms";
	static const long mult[] = { 3600, 60, 1 };
	long total = 0;
	int next = 0, any = 0;

	if (!s || !*s)
		return -1;
	while (*s) {
		long v = 0;
		const char *u;
		int digits = 0;

		while (*s >= '0' && *s <= '9') {
			if (v > 100000000)
				return -1;
			v = v * 10 + (*s++ - '0');
			digits++;
		}
		if (!digits || !*s || !(u = strchr(units + next, *s)))
			return -1;
		next = (int)(u - units) + 1;
		total += v * mult[u - units];
		if (total > 366L * 86400)
			return -1;
		s++;
		any = 1;
	}
	return any && total > 0 ? total : -1;
}

int
plan_make(struct plan *p, const struct plan_rates *r, const struct plan_limits *l,
    char *why, size_t n)
{
	double avail, a, b, tc, sstar, sb, ep, round;
	long rounds, rmin, s, c, base, nsplit, j;

	memset(p, 0, sizeof(*p));
	if (r->jobs < 1)
		return snprintf(why, n, "jobs must be at least 1"), -1;
	if (plan_fit(&p->cmin_fixed, &p->cmin_per_img, r->cmin) ||
	    (r->ncmax == 2 && plan_fit(&p->cmax_fixed, &p->cmax_per_img, r->cmax)))
		return snprintf(why, n, "the candidate probes need two different positive sizes"), -1;
	if (r->ncmax == 1) {
		double rho;

		if (r->cmax[0].n != r->cmin[0].n || !(r->cmin[0].s > 0))
			return snprintf(why, n, "one all-max probe goes beside the first all-min "
			    "one, at its size"), -1;
		/* by CPU time where known, as the lines are */
		rho = r->cmax[0].cpu > 0 && r->cmin[0].cpu > 0 ?
		    r->cmax[0].cpu / r->cmin[0].cpu : r->cmax[0].s / r->cmin[0].s;
		p->cmax_fixed = rho * p->cmin_fixed;
		p->cmax_per_img = rho * p->cmin_per_img;
	} else if (r->ncmax != 2) {
		return snprintf(why, n, "one or two all-max probes"), -1;
	}
	if (r->has_sup && (plan_fit(&p->sup_fixed, &p->sup_per_img, r->sup) ||
	    r->sup_images <= 0))
		return snprintf(why, n, "the supernet probes need two different positive sizes "
		    "and the training set's size"), -1;
	if (l->subset_min < 1 || l->subset_max < l->subset_min || l->c_min < 1 ||
	    l->n_min < 2 || l->epochs_max < 1 || !(l->sup_share > 0 && l->sup_share <= 1))
		return snprintf(why, n, "limits out of range"), -1;
	j = r->jobs;
	p->reserve_s = l->reserve >= 0 ? l->reserve : fmax(60, 0.05 * l->budget);
	avail = l->budget - p->reserve_s;

	/* 2. the supernet */
	if (r->has_sup) {
		ep = p->sup_per_img * (double)r->sup_images;
		sb = l->sup_share * avail - p->sup_fixed;
		if (sb >= ep) {
			p->sup_epochs = sb / ep > l->epochs_max ? l->epochs_max : (int)(sb / ep);
			p->sup_subset = 0;
			p->sup_s = p->sup_fixed + ep * p->sup_epochs;
		} else {
			p->sup_epochs = 1;
			s = p->sup_per_img > 0 ? (long)(sb / p->sup_per_img / 100) * 100 : 0;
			p->sup_subset = s < l->sup_subset_min ? l->sup_subset_min : s;
			if (p->sup_subset >= r->sup_images)
				p->sup_subset = 0;
			p->sup_s = p->sup_fixed + p->sup_per_img *
			    (double)(p->sup_subset ? p->sup_subset : r->sup_images);
		}
	}

	/* 3. the candidates */
	a = p->cmin_fixed + PLAN_CAND_MIX * (p->cmax_fixed - p->cmin_fixed) + l->iter_overhead / 2;
	b = p->cmin_per_img + PLAN_CAND_MIX * (p->cmax_per_img - p->cmin_per_img);
	/* The supernet's whole share, even when whole epochs leave some of it
	 * idle: a budget that buys one more epoch must not buy fewer
	 * candidates (the idle part is slack for a slower machine). */
	tc = avail - (r->has_sup ? fmax(p->sup_s, l->sup_share * avail) : 0);
	rmin = (l->c_min + j - 1) / j;
	sstar = b > 0 ? (tc / (double)rmin - a) / b : (double)l->subset_max;
	if (sstar < (double)l->subset_min) {
		s = l->subset_min;
		round = a + b * (double)s;
		rounds = tc > 0 ? (long)(tc / round) : 0;
	} else if (sstar >= (double)l->subset_max) {
		s = l->subset_max;
		round = a + b * (double)s;
		rounds = (long)(tc / round);
	} else {
		s = (long)(sstar / 100) * 100;
		if (s < l->subset_min)
			s = l->subset_min;
		rounds = rmin;
	}
	if (rounds > 1000000)
		rounds = 1000000;
	p->subset = s;
	c = rounds * j;
	p->feasible = c >= 2 && avail > 0;
	if (c < 2)
		c = 2, rounds = (2 + j - 1) / j;
	p->candidates = (int)c;
	p->cand_min_s = p->cmin_fixed + p->cmin_per_img * (double)s;
	p->cand_max_s = p->cmax_fixed + p->cmax_per_img * (double)s;
	p->cand_s = a - l->iter_overhead / 2 + b * (double)s;

	/* 4. the initial archive and the iterations */
	p->k = (int)(j * (long)ceil(sqrt((double)c / (double)j) / 2));
	if (l->k_max > 0 && p->k > l->k_max)
		p->k = l->k_max;
	if (p->k < 1)
		p->k = 1;
	nsplit = j * (c / (2 * j));
	base = nsplit > l->n_min ? nsplit : l->n_min;
	p->iterations = c > base ? (int)((c - base) / p->k) : 0;
	/* at most one iteration per two rounds, the overhead step 3 counted */
	if (p->iterations > rounds / 2)
		p->iterations = (int)(rounds / 2);
	p->n_start = (int)(c - (long)p->iterations * p->k);
	p->round_s = p->cand_s;
	p->total_s = p->sup_s + (double)rounds * p->cand_s + p->iterations * l->iter_overhead;
	if (p->sup_s + p->cand_s * (double)((2 + j - 1) / j) > avail)
		p->feasible = 0;
	return 0;
}
