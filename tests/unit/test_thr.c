/* test_thr.c - exit rules on hand-made exit outputs, the grid against
 * sample-by-sample evaluation, the NACHOS repair, AEBNAS, Pareto, ECE. */
#include <stdlib.h>
#include <string.h>

#include "thr.h"
#include "unit.h"

/* Five samples, three exits (two intermediate), K = 3. Values are binary
 * fractions so float scores compare exactly with the thresholds. */
static void
hand_exo(struct exo *e)
{
	static const int label[5] = { 0, 1, 2, 0, 1 };
	static const int pred[3][5] = { { 0, 2, 2, 1, 1 }, { 0, 1, 0, 1, 2 }, { 0, 1, 2, 0, 2 } };
	static const float conf[2][5] = { { .875, .25, .625, .125, .0625 },
					  { .5, .75, .25, .125, .75 } };
	static const float maxp[2][5] = { { .5, .75, .25, .875, .375 },
					  { .625, .5, .875, .25, .5 } };
	static const float margin[2][5] = { { .25, .5, .75, .0625, .125 },
					    { .5, .375, .125, .25, .625 } };
	static const float entropy[2][5] = { { 1, 0, .5, .25, .75 }, { 0, 1, .5, .5, .25 } };
	int i, j;

	exo_alloc(e, "val", 5, 3, 3);
	e->spent[0] = 100, e->spent[1] = 250, e->spent[2] = 400;
	e->cost[0] = 90, e->cost[1] = 220, e->cost[2] = 350;
	for (j = 0; j < 5; j++) {
		e->label[j] = label[j];
		for (i = 0; i < 3; i++)
			e->pred[i * 5 + j] = pred[i][j];
		for (i = 0; i < 2; i++) {
			e->conf[i * 5 + j] = conf[i][j];
			e->maxp[i * 5 + j] = maxp[i][j];
			e->margin[i * 5 + j] = margin[i][j];
			e->entropy[i * 5 + j] = entropy[i][j];
		}
		/* W_0 = c_0, W_1 = 1 - (1 - c_0)(1 - c_1), exact in float here */
		e->cumw[j] = conf[0][j];
		e->cumw[5 + j] = 1 - (1 - conf[0][j]) * (1 - conf[1][j]);
		e->conf[10 + j] = e->cumw[10 + j] = 1;
	}
}

static void
check_exits(const struct exo *e, enum thr_rule rule, const double *eps, const int *want)
{
	int j;

	for (j = 0; j < 5; j++)
		CHECK_EQ_L(thr_exit(e, rule, eps, j), want[j]);
}

static void
test_rules(void)
{
	struct exo e;
	struct thr_metrics m;

	hand_exo(&e);
	{
		/* cumulative: W_0 = .875 .25 .625 .125 .0625,
		 * W_1 = .9375 .8125 .71875 .234375 .765625 */
		double eps[2] = { .5, .75 };
		int want[5] = { 0, 1, 0, 2, 1 };

		check_exits(&e, THR_CUMULATIVE, eps, want);
		thr_eval(&m, &e, THR_CUMULATIVE, eps);
		CHECK_EQ_L(m.count[0], 2);
		CHECK_EQ_L(m.count[1], 2);
		CHECK_EQ_L(m.count[2], 1);
		CHECK_NEAR(m.top1, 4.0 / 5, 1e-12);       /* sample 4 wrong at exit 1 */
		CHECK_NEAR(m.avg_spent, (2 * 100 + 2 * 250 + 400) / 5.0, 1e-9);
		CHECK_NEAR(m.avg_cost, (2 * 90 + 2 * 220 + 350) / 5.0, 1e-9);
		CHECK_NEAR(m.util[1], 0.4, 1e-12);
		CHECK_NEAR(m.acc_leave[0], 1, 1e-12);
		CHECK_NEAR(m.acc_leave[1], 0.5, 1e-12);
		CHECK_NEAR(m.acc_leave[2], 1, 1e-12);
		CHECK_NEAR(m.acc_all[0], 3.0 / 5, 1e-12); /* samples 0, 2, 4 */
		CHECK_NEAR(m.acc_all[1], 2.0 / 5, 1e-12); /* samples 0, 1 */
		CHECK_NEAR(m.acc_all[2], 4.0 / 5, 1e-12);
	}
	{
		/* cumulative at (.5, .6): same exits (W_1 of 1 and 4 >= .6) */
		double eps[2] = { .5, .6 };
		int want[5] = { 0, 1, 0, 2, 1 };

		check_exits(&e, THR_CUMULATIVE, eps, want);
	}
	{
		/* weight: w_1 = c_1 (1 - c_0) = .0625 .5625 .09375 .109375 .703125;
		 * sample 1 (.5625 < .6) now reaches the final exit */
		double eps[2] = { .5, .6 };
		int want[5] = { 0, 2, 0, 2, 1 };

		check_exits(&e, THR_WEIGHT, eps, want);
		CHECK_NEAR(thr_score(&e, THR_WEIGHT, 1, 4), .703125, 0);
		thr_eval(&m, &e, THR_WEIGHT, eps);
		CHECK_NEAR(m.top1, 4.0 / 5, 1e-12);
		CHECK_NEAR(m.avg_spent, (2 * 100 + 250 + 2 * 400) / 5.0, 1e-9);
		thr_eval(&m, &e, THR_WEIGHT, (double[]){ .9375, .9375 });
		CHECK(isnan(m.acc_leave[0]));    /* nobody leaves at exit 1 */
	}
	{
		double eps[2] = { .7, .6 };
		int want[5] = { 1, 0, 1, 0, 2 };

		check_exits(&e, THR_MAX_SOFTMAX, eps, want);
		thr_eval(&m, &e, THR_MAX_SOFTMAX, eps);
		CHECK_NEAR(m.top1, 1.0 / 5, 1e-12);       /* only sample 0 */
		CHECK_NEAR(m.avg_spent, (2 * 100 + 2 * 250 + 400) / 5.0, 1e-9);
	}
	{
		double eps[2] = { .5, .5 };
		int want[5] = { 1, 0, 0, 2, 1 };

		check_exits(&e, THR_MARGIN, eps, want);
		thr_eval(&m, &e, THR_MARGIN, eps);
		CHECK_NEAR(m.top1, 3.0 / 5, 1e-12);       /* samples 0, 2, 3 */
	}
	{
		double eps[2] = { .75, .5 };
		int want[5] = { 0, 1, 1, 1, 0 };

		check_exits(&e, THR_ENTROPY, eps, want);
		thr_eval(&m, &e, THR_ENTROPY, eps);
		CHECK_NEAR(m.top1, 3.0 / 5, 1e-12);       /* samples 0, 1, 4 */
		CHECK_NEAR(m.avg_spent, (2 * 100 + 3 * 250) / 5.0, 1e-9);
		CHECK_EQ_L(m.count[2], 0);
		CHECK(isnan(m.acc_leave[2]));
	}
	{
		/* a threshold of 1 switches the exit off, even for a score of 1 */
		double eps[2] = { 1, .5 };

		CHECK_EQ_L(thr_exit(&e, THR_ENTROPY, eps, 0), 2);
		CHECK(thr_fires(0.5, 0.5f) && !thr_fires(1, 1.0f) && !thr_fires(.5, .49f));
		/* ... and its head is not run under a rule scoring exits alone:
		 * head 1 = (250 - 100) - (220 - 90) = 20 */
		thr_eval(&m, &e, THR_MARGIN, eps);
		CHECK_EQ_L(m.spent[0], 100);
		CHECK_EQ_L(m.spent[1], 230);
		CHECK_EQ_L(m.spent[2], 380);
		CHECK_NEAR(m.avg_spent, (2 * 230 + 3 * 380) / 5.0, 1e-9);  /* exits 2 3 2 3 3 */
		/* the cumulative rule reads exit 1's confidence: it runs */
		thr_eval(&m, &e, THR_CUMULATIVE, eps);
		CHECK_EQ_L(m.spent[2], 400);
	}
	exo_free(&e);
}

/* Four samples, exits cost 10 / 20 / 40, the final exit always right.
 * Exit 0 right on samples 0, 1; exit 1 right on 0, 1, 2. Grid .25 .5 .75;
 * (t0, t1): accuracy, avg MACs worked out by hand:
 *   (.75,.75) 1 27.5   (.75,.5) 1 22.5   (.75,.25) .75 17.5
 *   (.5,.75)  1 25     (.5,.5)  1 20     (.5,.25)  .75 15
 *   (.25,.75) .75 17.5 (.25,.5) .75 17.5 (.25,.25) .5 12.5 */
static void
repair_exo(struct exo *e)
{
	static const float w0[4] = { .875, .625, .375, .125 }, w1[4] = { .9375, .875, .625, .375 };
	static const int p0[4] = { 0, 0, 1, 1 }, p1[4] = { 0, 0, 0, 1 };
	int j;

	exo_alloc(e, "val", 4, 3, 2);
	e->spent[0] = 10, e->spent[1] = 20, e->spent[2] = 40;
	e->cost[0] = 10, e->cost[1] = 15, e->cost[2] = 30;
	for (j = 0; j < 4; j++) {
		e->cumw[j] = w0[j];
		e->cumw[4 + j] = w1[j];
		e->pred[j] = p0[j];
		e->pred[4 + j] = p1[j];
	}
}

struct grid_run {
	struct thr_grid t;
	long correct[64];
	int64_t spent[64];
};

static void
grid_run(struct grid_run *g, const struct exo *e)
{
	static const double grid[] = { .75, .25, .5, .5 };   /* sorted and deduplicated */

	CHECK(thr_grid_build(&g->t, e, THR_CUMULATIVE, grid, 4) == 0);
	CHECK_EQ_L(g->t.g, 3);
	CHECK_EQ_L(g->t.ncomb, 9);
	thr_grid_all(&g->t, g->correct, g->spent);
}

static void
check_pick(const struct grid_run *g, long c, double t0, double t1)
{
	int idx[2];

	thr_grid_idx(&g->t, c, idx);
	CHECK_NEAR(g->t.grid[idx[0]], t0, 0);
	CHECK_NEAR(g->t.grid[idx[1]], t1, 0);
}

static void
test_nachos_repair(void)
{
	struct exo e;
	struct grid_run g;
	long c, pts[9];
	int feas;

	repair_exo(&e);
	grid_run(&g, &e);
	/* the hand table, combination by combination */
	{
		static const long cor[9] = { 2, 3, 3, 3, 4, 4, 3, 4, 4 };
		static const long sp[9] = { 50, 70, 70, 60, 80, 100, 70, 90, 110 };

		for (c = 0; c < 9; c++) {
			CHECK_EQ_L(g.correct[c], cor[c]);
			CHECK_EQ_L(g.spent[c], sp[c]);
		}
	}
	/* unconstrained: the most accurate, cheapest among equals */
	c = thr_pick_nachos(&g.t, g.correct, g.spent, 0, INFINITY, &feas);
	check_pick(&g, c, .5, .5);
	CHECK(feas);
	/* M = 16: (.5,.5) costs 20; lowering exit 2 gives (.5,.25), 15 MACs at .75 */
	c = thr_pick_nachos(&g.t, g.correct, g.spent, .7, 16, &feas);
	check_pick(&g, c, .5, .25);
	CHECK(feas);
	CHECK(g.correct[c] / 4.0 >= .7 && g.spent[c] / 4.0 <= 16);
	CHECK(g.spent[thr_grid_comb(&g.t, (int[]){ 1, 1 })] / 4.0 > 16);
	/* M = 14: the next step (.25,.25) would drop accuracy to .5 < .7 */
	c = thr_pick_nachos(&g.t, g.correct, g.spent, .7, 14, &feas);
	check_pick(&g, c, .5, .25);
	CHECK(!feas);
	/* without an accuracy floor the walk goes on to (.25,.25) */
	c = thr_pick_nachos(&g.t, g.correct, g.spent, 0, 14, &feas);
	check_pick(&g, c, .25, .25);
	CHECK(feas);
	/* best feasible is the exhaustive answer */
	c = thr_pick_best(&g.t, g.correct, g.spent, .7, 16, &feas);
	check_pick(&g, c, .5, .25);
	CHECK(feas);
	c = thr_pick_best(&g.t, g.correct, g.spent, .7, 14, &feas);
	check_pick(&g, c, .25, .25);
	CHECK(!feas);
	/* AEBNAS, T = 15: 100 - .1 * 5/15 * 100 for (.5,.5) beats 75 for
	 * (.5,.25); with lambda 10 the MAPE term wins */
	c = thr_pick_aebnas(&g.t, g.correct, g.spent, 0, INFINITY, 15, .1, &feas);
	check_pick(&g, c, .5, .5);
	c = thr_pick_aebnas(&g.t, g.correct, g.spent, 0, INFINITY, 15, 10, &feas);
	check_pick(&g, c, .5, .25);
	/* Pareto: (12.5, .5), (15, .75), (20, 1) */
	CHECK_EQ_L(thr_pareto(&g.t, g.correct, g.spent, pts), 3);
	check_pick(&g, pts[0], .25, .25);
	check_pick(&g, pts[1], .5, .25);
	check_pick(&g, pts[2], .5, .5);
	thr_grid_free(&g.t);
	exo_free(&e);
}

static unsigned long rng = 88172645463325252UL;

static double
urand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (rng >> 11) * (1.0 / 9007199254740992.0);
}

/* Random outputs through exo_fill: later exits more often right. */
static void
random_exo(struct exo *e, long n, int B, int K)
{
	float lg[EXO_MAX_EXITS * 16], cl[EXO_MAX_EXITS];
	long j;
	int i, k;

	exo_alloc(e, "val", n, B, K);
	for (i = 0; i < B; i++) {
		/* as a network's: exit 0 spends its cost; head k is 100 + 37(2k + 1) */
		e->spent[i] = 1000 * (i + 1) + 37 * i * i;
		e->cost[i] = 900 * i + 1000;
	}
	for (j = 0; j < n; j++) {
		int y = (int)(urand() * K);

		for (i = 0; i < B; i++) {
			for (k = 0; k < K; k++)
				lg[i * K + k] = (float)(2 * urand() + (k == y ? 0.8 * i * urand() : 0));
			cl[i] = (float)(6 * urand() - 3);
		}
		exo_fill(e, j, y, lg, cl);
	}
}

/* The spent MACs of every sample, summed the plain way: the backbone and
 * every head up to its exit (spent), less the heads of exits it passed
 * whose threshold of 1 the rule never reads. */
static int64_t
spent_by_sample(const struct exo *e, enum thr_rule rule, const double *eps)
{
	int64_t sum = 0;
	long j;
	int k;

	for (j = 0; j < e->n; j++) {
		int x = thr_exit(e, rule, eps, j);

		sum += e->spent[x];
		for (k = 0; k < x; k++)
			if (eps[k] >= 1 && rule != THR_CUMULATIVE && rule != THR_WEIGHT)
				sum -= (e->spent[k + 1] - e->spent[k]) - (e->cost[k + 1] - e->cost[k]);
	}
	return sum;
}

/* AEBNAS's pick keeps an intermediate exit on: with the margin rule all
 * thresholds at 1 would be the backbone alone, the cheapest network here
 * (no sample reaches .5, the heads of switched-off exits are not run). */
static void
test_aebnas_keeps_an_exit(void)
{
	static const double grid[] = { .5, 1 };
	struct exo e;
	struct thr_grid t;
	long cor[4];
	int64_t sp[4];
	int idx[2], feas, j;
	long c;

	exo_alloc(&e, "val", 4, 3, 2);
	e.spent[0] = e.cost[0] = 100;
	e.spent[1] = 250, e.cost[1] = 220;      /* head 1: 150 - 120 = 30 */
	e.spent[2] = 400, e.cost[2] = 350;      /* head 2: 150 - 130 = 20 */
	for (j = 0; j < 4; j++) {
		e.label[j] = 0;
		e.pred[j] = e.pred[4 + j] = 1;
		e.margin[j] = e.margin[4 + j] = .25f;
	}
	CHECK(thr_grid_build(&t, &e, THR_MARGIN, grid, 2) == 0);
	thr_grid_all(&t, cor, sp);
	CHECK_EQ_L(sp[3], 4 * 350);             /* (1, 1): 400 - 30 - 20 */
	CHECK_EQ_L(sp[1], 4 * 380);             /* (.5, 1) */
	CHECK_EQ_L(sp[2], 4 * 370);             /* (1, .5) */
	c = thr_pick_aebnas(&t, cor, sp, 0, INFINITY, 1, 1, &feas);
	thr_grid_idx(&t, c, idx);
	CHECK_EQ_L(c, 2);                       /* the cheapest with an exit on */
	CHECK(t.grid[idx[0]] == 1 && t.grid[idx[1]] == .5);
	thr_grid_free(&t);
	exo_free(&e);
}

static void
test_grid_vs_direct(void)
{
	static const double grid[] = { .1, .2, .3, .4, .5, .6, .7, .8, .9, 1, .5 };
	struct exo e;
	int r;

	random_exo(&e, 300, 4, 10);
	for (r = 0; r < 5; r++) {
		struct thr_grid t;
		long *cor, c, bad = 0;
		int64_t *sp;

		CHECK(thr_grid_build(&t, &e, r, grid, 11) == 0);
		CHECK_EQ_L(t.ncomb, 1000);
		cor = malloc(t.ncomb * sizeof(*cor));
		sp = malloc(t.ncomb * sizeof(*sp));
		thr_grid_all(&t, cor, sp);
		for (c = 0; c < t.ncomb; c += 7) {
			struct thr_metrics m;
			double eps[3];
			int idx[3], i;

			thr_grid_idx(&t, c, idx);
			for (i = 0; i < 3; i++)
				eps[i] = t.grid[idx[i]];
			thr_eval(&m, &e, r, eps);
			bad += m.correct != cor[c] || spent_by_sample(&e, r, eps) != sp[c];
		}
		CHECK_EQ_L(bad, 0);
		/* a grid value of 1 switches the exit off: nobody leaves early,
		 * and no head runs when the rule scores exits alone */
		CHECK_EQ_L(sp[t.ncomb - 1], 300L * (thr_exit_silent(r, 1) ? e.cost[3] : e.spent[3]));
		free(cor);
		free(sp);
		thr_grid_free(&t);
	}
	exo_free(&e);
}

static void
test_pareto_brute(void)
{
	static const double grid[] = { .1, .3, .5, .7, .9 };
	struct exo e;
	struct thr_grid t;
	long *cor, *pts, np, c, d, nfront = 0, hit = 0;
	int64_t *sp;

	random_exo(&e, 200, 4, 5);
	CHECK(thr_grid_build(&t, &e, THR_MARGIN, grid, 5) == 0);
	cor = malloc(t.ncomb * sizeof(*cor));
	sp = malloc(t.ncomb * sizeof(*sp));
	pts = malloc(t.ncomb * sizeof(*pts));
	thr_grid_all(&t, cor, sp);
	np = thr_pareto(&t, cor, sp, pts);
	/* brute force: c is on the front when nothing dominates it; count each
	 * distinct front point once (its lowest index) */
	for (c = 0; c < t.ncomb; c++) {
		int dom = 0, first = 1;

		for (d = 0; d < t.ncomb; d++) {
			if (cor[d] >= cor[c] && sp[d] <= sp[c] && (cor[d] > cor[c] || sp[d] < sp[c]))
				dom = 1;
			if (d < c && cor[d] == cor[c] && sp[d] == sp[c])
				first = 0;
		}
		if (dom || !first)
			continue;
		nfront++;
		for (d = 0; d < np; d++)
			hit += pts[d] == c;
	}
	CHECK(np > 2);
	CHECK_EQ_L(np, nfront);
	CHECK_EQ_L(hit, nfront);
	for (d = 1; d < np; d++)
		CHECK(sp[pts[d]] > sp[pts[d - 1]] && cor[pts[d]] > cor[pts[d - 1]]);
	free(cor);
	free(sp);
	free(pts);
	thr_grid_free(&t);
	exo_free(&e);
}

static void
test_ece(void)
{
	/* bins (b/15, (b+1)/15]: .95 -> 14 (two samples, one right),
	 * .5 -> 7 (right), .1 -> 1 (wrong), 0 -> 0 (right):
	 * (|1 - 1.9| + |1 - .5| + |0 - .1| + |1 - 0|) / 5 */
	const int32_t pred[5] = { 1, 1, 2, 0, 3 }, label[5] = { 1, 0, 2, 1, 3 };
	const float conf[5] = { .95f, .95f, .5f, .1f, 0 };

	CHECK_NEAR(thr_ece(pred, conf, label, 5, 15), (.9 + .5 + .1 + 1) / 5, 1e-6);
	/* perfectly calibrated: all right at confidence 1 */
	CHECK_NEAR(thr_ece(pred + 4, (const float[]){ 1 }, label + 4, 1, 15), 0, 0);
}

static void
test_single_exit(void)
{
	struct exo e;
	struct thr_grid t;
	long cor;
	int64_t sp;
	int feas;

	random_exo(&e, 50, 1, 4);
	CHECK(thr_grid_build(&t, &e, THR_CUMULATIVE, (double[]){ .5 }, 1) == 0);
	CHECK_EQ_L(t.ncomb, 1);
	thr_grid_all(&t, &cor, &sp);
	CHECK_EQ_L(sp, 50 * e.spent[0]);
	CHECK_EQ_L(thr_pick_nachos(&t, &cor, &sp, 0, INFINITY, &feas), 0);
	thr_grid_free(&t);
	/* too many cells for the tables */
	exo_free(&e);
	random_exo(&e, 10, 8, 4);
	{
		double big[200];
		int i;

		for (i = 0; i < 200; i++)
			big[i] = i / 200.0;
		CHECK(thr_grid_build(&t, &e, THR_CUMULATIVE, big, 200) < 0);
		thr_grid_free(&t);
	}
	exo_free(&e);
}

int
main(void)
{
	test_rules();
	test_nachos_repair();
	test_aebnas_keeps_an_exit();
	test_grid_vs_direct();
	test_pareto_brute();
	test_ece();
	test_single_exit();
	return unit_done("test_thr");
}
