/*
 * stats.h - small statistics shared by the search and the reports:
 * mean/std, ranks with ties averaged, Kendall tau-b, Spearman rho, the
 * regularised incomplete gamma function, the chi-square tail and the
 * Friedman test.
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

#endif
