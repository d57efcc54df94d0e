/*
 * stats.h - small statistics shared by the search and the reports:
 * mean/std, ranks with ties averaged, Kendall tau-b, Spearman rho, the
 * regularised incomplete gamma function, the chi-square tail, the
 * Friedman test and the post-hoc tests after it.
 *
 * Undefined results (empty input, a constant vector for a correlation)
 * are NaN, never a made-up number, so callers can tell them apart.
 */
#ifndef STATS_H
#define STATS_H

double stats_mean(const double *x /* (n) */, int n);
/* Standard deviation with ddof degrees of freedom removed: 0 for the
 * population std (numpy's default), 1 for the sample std. NaN if n <= ddof. */
double stats_std(const double *x /* (n) */, int n, int ddof);
/* Mean and sample std (ddof 1) of the finite values of v times scale;
 * returns how many there are. NaN mean for none, NaN std for fewer than 2. */
int stats_finite_mean_std(double *mean, double *std, const double *v /* (n) */, int n,
    double scale);

/* Median of v (n >= 1), sorting v in place: the mean of the middle two for
 * an even n. */
double stats_median(double *v /* (n) */, int n);

/* Stable ascending argsort: idx receives 0..n-1 ordered by x, equal values
 * in index order. */
void stats_argsort(int *idx /* (n) */, const double *x /* (n) */, int n);

/* 1-based ranks, ascending (smallest value rank 1); tied values get the mean
 * of the ranks they span. Returns sum over tie groups of (t^3 - t), the
 * term tie corrections use. */
double stats_rank(double *rank /* (n) */, const double *x /* (n) */, int n);

/* Pearson correlation; NaN if either vector is constant or n < 2. */
double stats_pearson(const double *x /* (n) */, const double *y /* (n) */, int n);
/* Spearman rho: Pearson correlation of the average ranks. */
double stats_spearman(const double *x /* (n) */, const double *y /* (n) */, int n);
/* Kendall tau-b (ties in x or y handled): (C - D) / sqrt((n0 - n1)(n0 - n2)),
 * n0 = n(n-1)/2, n1/n2 = pairs tied in x/y. O(n^2). */
double stats_kendall(const double *x /* (n) */, const double *y /* (n) */, int n);

/* Regularised lower incomplete gamma P(a, x) = gamma(a, x) / Gamma(a), and
 * its complement Q = 1 - P computed without cancellation; a > 0, x >= 0. */
double stats_gamma_p(double a, double x);
double stats_gamma_q(double a, double x);
/* Upper tail of the chi-square distribution with df degrees of freedom:
 * P(X >= x). */
double stats_chi2_sf(double x, double df);

/*
 * Friedman test: x holds n blocks (rows: seeds, data sets) of k treatments
 * (columns: methods). Within each block the treatments are ranked ascending
 * (rank 1 = smallest value, so pass errors or costs, or negate scores), ties
 * averaged. chi2 = 12 / (n k (k+1)) sum_j R_j^2 - 3 n (k+1), divided by the
 * tie correction 1 - sum(t^3 - t) / (n k (k^2 - 1)) as R's friedman.test and
 * scipy do; df = k - 1; p from the chi-square tail. mean_rank (k) may be
 * NULL. Returns 0, or -1 when n < 1 or k < 2 or every block is all ties.
 */
struct stats_friedman {
	double chi2, p;
	int df;
};
int stats_friedman(struct stats_friedman *res, double *mean_rank /* (k) */,
    const double *x /* (n, k) */, int n, int k);

/*
 * Wilcoxon signed-rank test of the pairs (x[i], y[i]): the differences
 * x - y, zeros dropped (Wilcoxon's rule, scipy's default), |d| ranked with
 * ties averaged; *w_plus receives the rank sum of the positive ones. The
 * two-sided p is 2 min(P(W+ <= w), P(W+ >= w)), capped at 1: exact (W+
 * over the 2^m equally likely sign patterns of these ranks, counted by
 * dynamic programming) for m <= 50 nonzero differences, else the normal
 * approximation with the tie correction. With m pairs the smallest exact
 * p is 2^(1-m): 0.0625 for 5. Returns m; *p is NaN when m is 0.
 */
int stats_wilcoxon(double *w_plus, double *p, const double *x /* (n) */,
    const double *y /* (n) */, int n);

/* Holm's step-down adjustment of m p-values for a family of m tests:
 * sorted ascending, adj_(j) = max over i <= j of min(1, (m - i + 1) p_(i)),
 * each written back at its own index. NaN p-values stay NaN and do not
 * count in m. */
void stats_holm(double *adj /* (m) */, const double *p /* (m) */, int m);

/* P(R <= w) for R the range of k independent standard normals (the
 * studentized range with infinite degrees of freedom):
 * k * integral phi(z) (Phi(z + w) - Phi(z))^(k - 1) dz. */
double stats_range_cdf(double w, int k);

/* Nemenyi's post-hoc test after Friedman's, k treatments over n blocks:
 * the two-sided p of a difference d of mean ranks,
 * P(R >= sqrt(2) |d| / sqrt(k (k + 1) / (6 n))), R as in stats_range_cdf
 * (Demšar 2006's critical difference is the d where p = alpha). */
double stats_nemenyi_p(double d, int k, int n);

#endif
