/* test_stats.c - ranks, correlations, incomplete gamma, chi-square tail and
 * the Friedman test against published values. */
#include <math.h>

#include "stats.h"
#include "unit.h"

static void
test_mean_std(void)
{
	double x[] = { 2, 4, 4, 4, 5, 5, 7, 9 };

	CHECK_NEAR(stats_mean(x, 8), 5.0, 1e-15);
	CHECK_NEAR(stats_std(x, 8, 0), 2.0, 1e-15);
	CHECK_NEAR(stats_std(x, 8, 1), sqrt(32.0 / 7), 1e-15);
	CHECK(isnan(stats_std(x, 1, 1)));
	CHECK(isnan(stats_mean(x, 0)));
}

/* The finite values only, scaled: {0.02, 0.04, NaN, 0.06, inf} x 100 is
 * {2, 4, 6}, mean 4, sample std 2; equal to stats_mean and stats_std of
 * the same values to the last bit. */
static void
test_finite_mean_std(void)
{
	double v[] = { 0.02, 0.04, NAN, 0.06, INFINITY }, f[] = { 0.02 * 100, 0.04 * 100,
		0.06 * 100 }, mean, std;

	CHECK_EQ_L(stats_finite_mean_std(&mean, &std, v, 5, 100), 3);
	CHECK_NEAR(mean, 4, 1e-12);
	CHECK_NEAR(std, 2, 1e-12);
	CHECK(mean == stats_mean(f, 3));
	CHECK(std == stats_std(f, 3, 1));
	CHECK_EQ_L(stats_finite_mean_std(&mean, &std, v + 1, 2, 1), 1);
	CHECK(mean == 0.04);
	CHECK(isnan(std));
	CHECK_EQ_L(stats_finite_mean_std(&mean, &std, v + 2, 1, 1), 0);
	CHECK(isnan(mean) && isnan(std));
}

static void
test_rank(void)
{
	double x[] = { 7, 5, 7, 1, 7, 5 }, r[6];
	double want[] = { 5, 2.5, 5, 1, 5, 2.5 };
	double ties = stats_rank(r, x, 6);
	int i;

	for (i = 0; i < 6; i++)
		CHECK_NEAR(r[i], want[i], 0);
	/* groups of 3 and 2: (27 - 3) + (8 - 2) */
	CHECK_NEAR(ties, 30, 0);
}

static void
test_argsort(void)
{
	double x[] = { 3, -1, 3, 2, -1, INFINITY, -INFINITY };
	int want[] = { 6, 1, 4, 3, 0, 2, 5 }, o[7], i;

	/* stable: equal values keep their index order */
	stats_argsort(o, x, 7);
	for (i = 0; i < 7; i++)
		CHECK_EQ_L(o[i], want[i]);
}

static void
test_median(void)
{
	double odd[] = { 5, -1, 3 }, even[] = { 4, 1, 3, 2 }, one[] = { 7 };

	CHECK_NEAR(stats_median(odd, 3), 3, 0);
	CHECK_NEAR(odd[0], -1, 0);	/* sorted in place */
	CHECK_NEAR(stats_median(even, 4), 2.5, 0);
	CHECK_NEAR(stats_median(one, 1), 7, 0);
}

static void
test_correlations(void)
{
	/* tau-b with ties in both: C = 2, D = 6, 2 pairs tied in x, 1 in y:
	 * -4 / sqrt(8 * 9) (scipy.stats.kendalltau's documented example) */
	double x1[] = { 12, 2, 1, 12, 2 }, x2[] = { 1, 4, 7, 1, 0 };
	double a[] = { 1, 2, 3, 4, 5 }, b[] = { 5, 6, 7, 8, 7 };
	double c[] = { 3, 3, 3, 3, 3 }, d[] = { 5, 4, 3, 2, 1 };

	CHECK_NEAR(stats_kendall(x1, x2, 5), -4 / sqrt(72.0), 1e-15);
	CHECK_NEAR(stats_kendall(x1, x2, 5), -0.47140452079103173, 1e-15);
	CHECK_NEAR(stats_kendall(a, a, 5), 1, 1e-15);
	CHECK_NEAR(stats_kendall(a, d, 5), -1, 1e-15);
	CHECK(isnan(stats_kendall(a, c, 5)));
	/* ranks of b: 1 2 3.5 5 3.5 -> 8 / sqrt(10 * 9.5) */
	CHECK_NEAR(stats_spearman(a, b, 5), 8 / sqrt(95.0), 1e-15);
	CHECK_NEAR(stats_spearman(a, b, 5), 0.8207826816681233, 1e-14);
	CHECK_NEAR(stats_spearman(a, d, 5), -1, 1e-15);
	CHECK(isnan(stats_spearman(a, c, 5)));
	CHECK_NEAR(stats_pearson(a, d, 5), -1, 1e-15);
}

static void
test_gamma(void)
{
	double xs[] = { 0.01, 0.5, 1, 2.5, 7, 30, 80 };
	int i;

	for (i = 0; i < 7; i++) {
		double x = xs[i];

		/* closed forms: P(1, x) = 1 - e^-x, P(1/2, x) = erf(sqrt x),
		 * Q(3, x) = e^-x (1 + x + x^2/2) */
		CHECK_NEAR(stats_gamma_p(1, x), -expm1(-x), 1e-14);
		CHECK_NEAR(stats_gamma_p(0.5, x), erf(sqrt(x)), 1e-14);
		CHECK_NEAR(stats_gamma_q(0.5, x) / erfc(sqrt(x)), 1, 1e-12);
		CHECK_NEAR(stats_gamma_q(3, x) / (exp(-x) * (1 + x + x * x / 2)), 1, 1e-12);
		CHECK_NEAR(stats_gamma_p(3, x) + stats_gamma_q(3, x), 1, 1e-14);
	}
	CHECK_NEAR(stats_gamma_p(2, 0), 0, 0);
	CHECK(isnan(stats_gamma_p(0, 1)));
	/* chi-square 5% critical values (standard tables) */
	CHECK_NEAR(stats_chi2_sf(3.841458820694124, 1), 0.05, 1e-12);
	CHECK_NEAR(stats_chi2_sf(5.991464547107979, 2), 0.05, 1e-12);
	CHECK_NEAR(stats_chi2_sf(18.307038053275146, 10), 0.05, 1e-12);
	CHECK_NEAR(stats_chi2_sf(6.634896601021214, 1), 0.01, 1e-12);
	CHECK_NEAR(stats_chi2_sf(0, 3), 1, 0);
}

static void
test_friedman(void)
{
	/* Hollander & Wolfe (1973), rounding first base: 22 players x 3
	 * methods. R's friedman.test(RoundingTimes) gives chi-squared =
	 * 11.143, df = 2, p-value = 0.003805 (with the tie correction). */
	static const double rt[22 * 3] = {
		5.40, 5.50, 5.55,  5.85, 5.70, 5.75,  5.20, 5.60, 5.50,
		5.55, 5.50, 5.40,  5.90, 5.85, 5.70,  5.45, 5.55, 5.60,
		5.40, 5.40, 5.35,  5.45, 5.50, 5.35,  5.25, 5.15, 5.00,
		5.85, 5.80, 5.70,  5.25, 5.20, 5.10,  5.65, 5.55, 5.45,
		5.60, 5.35, 5.45,  5.05, 5.00, 4.95,  5.50, 5.50, 5.40,
		5.45, 5.55, 5.50,  5.55, 5.55, 5.35,  5.45, 5.50, 5.55,
		5.50, 5.45, 5.25,  5.65, 5.60, 5.40,  5.70, 5.65, 5.55,
		6.30, 6.30, 6.25,
	};
	/* no ties, same order in every block: R = 4, 8, 12, chi2 =
	 * 12/48 * 224 - 48 = 8, p = e^-4 (df 2) */
	static const double easy[4 * 3] = {
		1, 2, 3,  10, 20, 30,  -5, 0, 5,  0.1, 0.2, 0.3,
	};
	static const double flat[2 * 3] = { 1, 1, 1, 2, 2, 2 };
	struct stats_friedman f;
	double mr[3];

	CHECK(stats_friedman(&f, mr, rt, 22, 3) == 0);
	CHECK_NEAR(f.chi2, 11.143, 5e-4);
	CHECK_EQ_L(f.df, 2);
	CHECK_NEAR(f.p, 0.003805, 5e-7);
	/* rank sums 53, 47, 32 over 22 blocks */
	CHECK_NEAR(mr[0] * 22, 53, 1e-12);
	CHECK_NEAR(mr[1] * 22, 47, 1e-12);
	CHECK_NEAR(mr[2] * 22, 32, 1e-12);
	CHECK(stats_friedman(&f, mr, easy, 4, 3) == 0);
	CHECK_NEAR(f.chi2, 8, 1e-12);
	CHECK_NEAR(f.p, exp(-4), 1e-14);
	CHECK_NEAR(mr[2], 3, 0);
	CHECK(stats_friedman(&f, NULL, flat, 2, 3) == -1);
	CHECK(stats_friedman(&f, NULL, easy, 4, 1) == -1);
}

static void
test_wilcoxon(void)
{
	/* Darwin's plant heights, paired differences (scipy.stats.wilcoxon's
	 * documented example): W- = 24, exact two-sided p = 0.041259765625 */
	static const double dar[15] = { 6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67,
		75 };
	static const double zero[15];
	/* 5 pairs all one way: 2 / 2^5; a zero difference is dropped */
	static const double a[6] = { 3, 4, 5, 6, 7, 1 }, b[6] = { 1, 1, 1, 1, 1, 1 };
	/* ties: |d| = 1, 1, 2, 2 have ranks 1.5, 1.5, 3.5, 3.5; W+ = 1.5 + 3.5
	 * = 5 is the middle of 16 patterns' distribution: p = 1 */
	static const double tx[4] = { 1, -1, 2, -2 }, ty[4];
	double w, p;

	CHECK_EQ_L(stats_wilcoxon(&w, &p, dar, zero, 15), 15);
	CHECK_NEAR(w, 120 - 24, 0);
	CHECK_NEAR(p, 0.041259765625, 1e-15);
	CHECK_EQ_L(stats_wilcoxon(&w, &p, a, b, 6), 5);
	CHECK_NEAR(w, 15, 0);
	CHECK_NEAR(p, 0.0625, 1e-15);
	CHECK_EQ_L(stats_wilcoxon(&w, &p, b, a, 6), 5);
	CHECK_NEAR(w, 0, 0);
	CHECK_NEAR(p, 0.0625, 1e-15);
	CHECK_EQ_L(stats_wilcoxon(&w, &p, tx, ty, 4), 4);
	CHECK_NEAR(w, 5, 0);
	CHECK_NEAR(p, 1, 0);
	CHECK_EQ_L(stats_wilcoxon(&w, &p, b, b, 6), 0);
	CHECK(isnan(p));
	{
		/* beyond 50 pairs the normal approximation: 60 pairs, d = i
		 * for i = 1..60 with the signs of i % 3 == 0 flipped */
		double x[60], y[60] = { 0 }, wp = 0, mu = 60 * 61 / 4.0;
		double sd = sqrt(60 * 61 * 121 / 24.0);
		int i;

		for (i = 0; i < 60; i++) {
			x[i] = (i + 1) * (i % 3 == 2 ? -1 : 1);
			wp += x[i] > 0 ? i + 1 : 0;
		}
		CHECK_EQ_L(stats_wilcoxon(&w, &p, x, y, 60), 60);
		CHECK_NEAR(w, wp, 0);
		CHECK_NEAR(p, erfc(fabs(wp - mu) / sd / sqrt(2)), 1e-15);
	}
}

static void
test_holm(void)
{
	static const double p[4] = { 0.04, 0.01, NAN, 0.03 };
	double adj[4];

	/* sorted 0.01, 0.03, 0.04 of m = 3: 0.03, 0.06, max(0.06, 0.04) */
	stats_holm(adj, p, 4);
	CHECK_NEAR(adj[1], 0.03, 1e-15);
	CHECK_NEAR(adj[3], 0.06, 1e-15);
	CHECK_NEAR(adj[0], 0.06, 1e-15);
	CHECK(isnan(adj[2]));
	{
		static const double big[2] = { 0.7, 0.9 };

		stats_holm(adj, big, 2);
		CHECK_NEAR(adj[0], 1, 0);
		CHECK_NEAR(adj[1], 1, 0);
	}
}

static void
test_range(void)
{
	/* studentized range, infinite df, 95% points (standard tables) */
	static const double q95[] = { 0, 0, 2.772, 3.314, 3.633, 3.858, 4.030, 4.170, 4.286,
		4.387, 4.474 };
	int k;

	for (k = 2; k <= 10; k++)
		CHECK_NEAR(stats_range_cdf(q95[k], k), 0.95, 2e-4);
	/* two normals: the range is |N(0, 2)| */
	CHECK_NEAR(stats_range_cdf(1.5, 2), erf(1.5 / 2), 1e-10);
	CHECK_NEAR(stats_range_cdf(0, 4), 0, 0);
	CHECK_NEAR(stats_range_cdf(40, 4), 1, 1e-12);
	/* Demšar (2006): critical difference for k = 6, n = 5 at alpha
	 * 0.05 is 2.850 sqrt(6 * 7 / 30) */
	CHECK_NEAR(stats_nemenyi_p(2.850 * sqrt(42.0 / 30), 6, 5), 0.05, 2e-4);
	CHECK_NEAR(stats_nemenyi_p(0, 6, 5), 1, 1e-12);
}

int
main(void)
{
	test_mean_std();
	test_finite_mean_std();
	test_rank();
	test_argsort();
	test_median();
	test_correlations();
	test_gamma();
	test_friedman();
	test_wilcoxon();
	test_holm();
	test_range();
	return unit_done("test_stats");
}
