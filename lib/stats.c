/* stats.c - see stats.h. */
#include <math.h>
#include <stdlib.h>

#include "stats.h"

double
stats_mean(const double *x, int n)
{
	double s = 0;
	int i;

	if (n < 1)
		return NAN;
	for (i = 0; i < n; i++)
		s += x[i];
	return s / n;
}

double
stats_std(const double *x, int n, int ddof)
{
	double m, s = 0;
	int i;

	if (n <= ddof || n < 1)
		return NAN;
	m = stats_mean(x, n);
	for (i = 0; i < n; i++)
		s += (x[i] - m) * (x[i] - m);
	return sqrt(s / (n - ddof));
}

int
stats_finite_mean_std(double *mean, double *std, const double *v, int n, double scale)
{
	double s = 0, s2 = 0;
	int m = 0, i;

	/* the sums of stats_mean and stats_std, in their order, over the
	 * finite values: the same numbers to the last bit */
	for (i = 0; i < n; i++)
		if (isfinite(v[i])) {
			s += v[i] * scale;
			m++;
		}
	*mean = m > 0 ? s / m : NAN;
	for (i = 0; i < n; i++)
		if (isfinite(v[i]))
			s2 += (v[i] * scale - *mean) * (v[i] * scale - *mean);
	*std = m > 1 ? sqrt(s2 / (m - 1)) : NAN;
	return m;
}

struct vi { double v; int i; };

static int
vi_cmp(const void *a, const void *b)
{
	const struct vi *p = a, *q = b;

	if (p->v < q->v)
		return -1;
	if (p->v > q->v)
		return 1;
	return p->i - q->i;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
stats_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void
stats_argsort(int *idx, const double *x, int n)
{
	struct vi *s;
	int i;

	if (n < 1)
		return;
	s = malloc(n * sizeof *s);
	if (!s)
		abort();
	for (i = 0; i < n; i++) {
		s[i].v = x[i];
		s[i].i = i;
	}
	qsort(s, n, sizeof *s, vi_cmp);
	for (i = 0; i < n; i++)
		idx[i] = s[i].i;
	free(s);
}

double
stats_rank(double *rank, const double *x, int n)
{
	int *o, i, j, k;
	double ties = 0;

	if (n < 1)
		return 0;
	o = malloc(n * sizeof *o);
	if (!o)
		abort();
	stats_argsort(o, x, n);
	for (i = 0; i < n; i = j) {
		double t;

		for (j = i + 1; j < n && x[o[j]] == x[o[i]]; j++)
			;
		/* positions i..j-1 hold ranks i+1..j: their mean */
		for (k = i; k < j; k++)
			rank[o[k]] = 0.5 * (i + 1 + j);
		t = j - i;
		ties += t * t * t - t;
	}
	free(o);
	return ties;
}

double
stats_pearson(const double *x, const double *y, int n)
{
	double mx, my, sxy = 0, sxx = 0, syy = 0;
	int i;

	if (n < 2)
		return NAN;
	mx = stats_mean(x, n);
	my = stats_mean(y, n);
	for (i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	if (sxx <= 0 || syy <= 0)
		return NAN;
	return sxy / sqrt(sxx * syy);
}

double
stats_spearman(const double *x, const double *y, int n)
{
	double *rx, *ry, r;

	if (n < 2)
		return NAN;
	rx = malloc(2 * n * sizeof *rx);
	if (!rx)
		abort();
	ry = rx + n;
	stats_rank(rx, x, n);
	stats_rank(ry, y, n);
	r = stats_pearson(rx, ry, n);
	free(rx);
	return r;
}

double
stats_kendall(const double *x, const double *y, int n)
{
	double c = 0, d = 0, tx = 0, ty = 0, n0;
	int i, j;

	if (n < 2)
		return NAN;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			double dx = x[i] - x[j], dy = y[i] - y[j];

			if (dx == 0)
				tx++;
			if (dy == 0)
				ty++;
			if (dx == 0 || dy == 0)
				continue;
			if ((dx > 0) == (dy > 0))
				c++;
			else
				d++;
		}
	n0 = 0.5 * n * (n - 1.0);
	if (tx >= n0 || ty >= n0)
		return NAN;
	return (c - d) / sqrt((n0 - tx) * (n0 - ty));
}

#define GAMMA_EPS 1e-15
#define GAMMA_TINY 1e-300
#define GAMMA_ITER 1000

/* P(a, x) by its power series; converges fast for x < a + 1. */
static double
gamma_p_series(double a, double x)
{
	double term = 1 / a, sum = term;
	int n;

	for (n = 1; n < GAMMA_ITER; n++) {
		term *= x / (a + n);
		sum += term;
		if (fabs(term) < fabs(sum) * GAMMA_EPS)
			break;
	}
	return sum * exp(-x + a * log(x) - lgamma(a));
}

/* Q(a, x) by Legendre's continued fraction (modified Lentz evaluation);
 * converges fast for x >= a + 1. */
static double
gamma_q_fraction(double a, double x)
{
	double b = x + 1 - a, c = 1 / GAMMA_TINY, d = 1 / b, h = d;
	int i;

	for (i = 1; i < GAMMA_ITER; i++) {
		double an = -i * (i - a), del;

		b += 2;
		d = an * d + b;
		if (fabs(d) < GAMMA_TINY)
			d = GAMMA_TINY;
		c = b + an / c;
		if (fabs(c) < GAMMA_TINY)
			c = GAMMA_TINY;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < GAMMA_EPS)
			break;
	}
	return h * exp(-x + a * log(x) - lgamma(a));
}

double
stats_gamma_p(double a, double x)
{
	if (!(a > 0) || !(x >= 0))
		return NAN;
	if (x == 0)
		return 0;
	if (x < a + 1)
		return gamma_p_series(a, x);
	return 1 - gamma_q_fraction(a, x);
}

double
stats_gamma_q(double a, double x)
{
	if (!(a > 0) || !(x >= 0))
		return NAN;
	if (x == 0)
		return 1;
	if (x < a + 1)
		return 1 - gamma_p_series(a, x);
	return gamma_q_fraction(a, x);
}

double
stats_chi2_sf(double x, double df)
{
	if (x <= 0)
		return 1;
	return stats_gamma_q(0.5 * df, 0.5 * x);
}

int
stats_friedman(struct stats_friedman *res, double *mean_rank, const double *x,
    int n, int k)
{
	double *r, *sum, ties = 0, ss = 0, corr;
	int i, j;

	if (n < 1 || k < 2)
		return -1;
	r = malloc(2 * k * sizeof *r);
	if (!r)
		abort();
	sum = r + k;
	for (j = 0; j < k; j++)
		sum[j] = 0;
	for (i = 0; i < n; i++) {
		ties += stats_rank(r, x + (long)i * k, k);
		for (j = 0; j < k; j++)
			sum[j] += r[j];
	}
	for (j = 0; j < k; j++) {
		ss += sum[j] * sum[j];
		if (mean_rank)
			mean_rank[j] = sum[j] / n;
	}
	free(r);
	corr = 1 - ties / ((double)n * k * ((double)k * k - 1));
	if (corr <= 0)
		return -1;
	res->chi2 = (12.0 / ((double)n * k * (k + 1)) * ss - 3.0 * n * (k + 1)) / corr;
	res->df = k - 1;
	res->p = stats_chi2_sf(res->chi2, res->df);
	return 0;
}

int
stats_wilcoxon(double *w_plus, double *p, const double *x, const double *y, int n)
{
	size_t sz = (size_t)(n > 0 ? n : 1);
	double *d = malloc(3 * sz * sizeof *d), *a, *r, ties, wp = 0;
	int m = 0, i;

	if (!d)
		abort();
	a = d + sz;
	r = a + sz;
	for (i = 0; i < n; i++)
		if (x[i] != y[i])
			d[m++] = x[i] - y[i];
	for (i = 0; i < m; i++)
		a[i] = fabs(d[i]);
	ties = stats_rank(r, a, m);
	for (i = 0; i < m; i++)
		if (d[i] > 0)
			wp += r[i];
	*w_plus = wp;
	if (m == 0) {
		*p = NAN;
	} else if (m <= 50) {
		/* average ranks are multiples of 1/2: count sign patterns by the
		 * doubled sum, at most m (m + 1) */
		int top = m * (m + 1), s, w2 = (int)lround(2 * wp);
		double *c = calloc(top + 1, sizeof *c), lo = 0, hi = 0, all = 0;

		if (!c)
			abort();
		c[0] = 1;
		for (i = 0; i < m; i++) {
			int ri = (int)lround(2 * r[i]);

			for (s = top; s >= ri; s--)
				c[s] += c[s - ri];
		}
		for (s = 0; s <= top; s++) {
			all += c[s];
			if (s <= w2)
				lo += c[s];
			if (s >= w2)
				hi += c[s];
		}
		free(c);
		*p = fmin(1, 2 * fmin(lo, hi) / all);
	} else {
		double mu = m * (m + 1) / 4.0;
		double var = m * (m + 1) * (2.0 * m + 1) / 24 - ties / 48;

		*p = var > 0 ? fmin(1, erfc(fabs(wp - mu) / sqrt(2 * var))) : 1;
	}
	free(d);
	return m;
}

void
stats_holm(double *adj, const double *p, int m)
{
	size_t sz = (size_t)(m > 0 ? m : 1);
	int *idx = malloc(sz * sizeof *idx), n = 0, i;
	double *key = malloc(sz * sizeof *key), run = 0;

	if (!idx || !key)
		abort();
	/* NaN sorts last (qsort needs a total order) and is left out of m */
	for (i = 0; i < m; i++) {
		key[i] = isnan(p[i]) ? INFINITY : p[i];
		n += !isnan(p[i]);
	}
	stats_argsort(idx, key, m);
	for (i = 0; i < m; i++) {
		int j = idx[i];

		if (i >= n) {
			adj[j] = NAN;
			continue;
		}
		run = fmax(run, fmin(1, (n - i) * p[j]));
		adj[j] = run;
	}
	free(idx);
	free(key);
}

static double
norm_cdf(double z)
{
	return 0.5 * erfc(-z / sqrt(2));
}

double
stats_range_cdf(double w, int k)
{
	/* Simpson's rule on [-9, 9]: phi is below 1e-17 outside */
	const int steps = 3600;
	const double a = -9, h = 18.0 / steps;
	double sum = 0;
	int i;

	if (k < 2 || !(w > 0))
		return k >= 1 && w > 0 ? 1 : 0;
	for (i = 0; i <= steps; i++) {
		double z = a + i * h, f;

		f = exp(-0.5 * z * z) * 0.3989422804014327 /* 1/sqrt(2 pi) */ * pow(norm_cdf(z + w) - norm_cdf(z), k - 1);
		sum += f * (i == 0 || i == steps ? 1 : i % 2 ? 4 : 2);
	}
	return fmin(1, k * sum * h / 3);
}

double
stats_nemenyi_p(double d, int k, int n)
{
	return 1 - stats_range_cdf(sqrt(2) * fabs(d) / sqrt(k * (k + 1) / (6.0 * n)), k);
}
