/* pareto.c - see pareto.h. */
#include <err.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "nachos.h"

#include "nsga.h"
#include "pareto.h"
#include "stats.h"

const char *const pareto_knee_names[] = { "line", "tradeoff", NULL };

int
pareto_opt(struct pareto_opts *po, int c, const char *arg)
{
	switch (c) {
	case PARETO_O_ACC_MIN:
		po->acc_min = cli_double("--acc-min", arg, 0, 1);
		return 1;
	case PARETO_O_MACS_MAX:
		po->macs_max = cli_double("--macs-max", arg, 1e-300, INFINITY);
		return 1;
	case PARETO_O_KNEE:
		po->knee = cli_choice("--knee", arg, pareto_knee_names);
		return 1;
	case PARETO_O_REF:
		if (cli_doubles("--ref", arg, po->ref, 2, 1e-300, INFINITY) != 2)
			errx(EX_USAGE, "--ref: \"%s\" is not two numbers err,macs", arg);
		po->have_ref = 1;
		return 1;
	}
	return 0;
}

/* Scores closer than this count as a tie (float noise of the scaling). */
#define KNEE_TIE 1e-12
/* pymoo's HighTradeoffPoints neighbourhood: radius 0.125 in the scaled
 * space, at least 2 x (objectives) = 4 neighbours */
#define KNEE_RADIUS 0.125
#define KNEE_MIN_NB 4

static void *
xalloc(size_t n)
{
	void *p = calloc(n ? n : 1, 1);

	if (!p)
		abort();
	return p;
}

/* Sort the points of sel (ns) by dominance; their fronts, from base on,
 * go to front[]. Returns the number of fronts used. */
static int
rank_group(int *front, const double *x, const double *y, const int *sel, int ns, int base)
{
	double *f = xalloc(2 * (size_t)ns * sizeof *f);
	int *r = xalloc((size_t)ns * sizeof *r), nf, i;

	for (i = 0; i < ns; i++) {
		f[2 * i] = x[sel[i]];
		f[2 * i + 1] = y[sel[i]];
	}
	nf = nsga_sort(r, f, ns, 2, 0);
	for (i = 0; i < ns; i++)
		front[sel[i]] = base + r[i];
	free(f);
	free(r);
	return nf;
}

static double
key_of(const double *cv, int i)
{
	return cv ? fmax(cv[i], 0) : 0;
}

int
pareto_rank(int *front, const double *x, const double *y, const double *cv, const int *ok,
    int n)
{
	int *adm = xalloc(3 * (size_t)n * sizeof *adm), *bad = adm + n, *o = bad + n;
	double *key = xalloc((size_t)n * sizeof *key);
	int na = 0, nb = 0, fronts, i, j;

	for (i = 0; i < n; i++) {
		if ((!ok || ok[i]) && (!cv || cv[i] <= 0))
			adm[na++] = i;
		else
			bad[nb++] = i;
	}
	fronts = rank_group(front, x, y, adm, na, 0);
	for (i = 0; i < nb; i++)
		key[i] = key_of(cv, bad[i]);
	stats_argsort(o, key, nb);
	for (i = 0; i < nb; i++)
		o[i] = bad[o[i]];
	/* o[i..j) is one violation level */
	for (i = 0; i < nb; i = j) {
		for (j = i + 1; j < nb && key_of(cv, o[j]) == key_of(cv, o[i]); j++)
			;
		fronts += rank_group(front, x, y, o + i, j - i, fronts);
	}
	free(adm);
	free(key);
	return fronts;
}

/* Reorder idx (n) to ascending x, ties by y, then by position. */
static void
sort_xy(int *idx, const double *x, const double *y, int n)
{
	int *o = xalloc(3 * (size_t)n * sizeof *o), *o2 = o + n, *t = o2 + n, i;
	double *k = xalloc((size_t)n * sizeof *k);

	/* two stable passes: by y, then by x */
	for (i = 0; i < n; i++)
		k[i] = y[idx[i]];
	stats_argsort(o, k, n);
	for (i = 0; i < n; i++)
		k[i] = x[idx[o[i]]];
	stats_argsort(o2, k, n);
	for (i = 0; i < n; i++)
		t[i] = idx[o[o2[i]]];
	memcpy(idx, t, n * sizeof *idx);
	free(o);
	free(k);
}

int
pareto_front(int *idx, const double *x, const double *y, const double *cv, const int *ok,
    int n)
{
	int *fr, m = 0, i;

	if (n < 1)
		return 0;
	fr = xalloc((size_t)n * sizeof *fr);
	pareto_rank(fr, x, y, cv, ok, n);
	for (i = 0; i < n; i++)
		if (fr[i] == 0)
			idx[m++] = i;
	free(fr);
	sort_xy(idx, x, y, m);
	return m;
}

double
pareto_hv(const double *x, const double *y, int n, double rx, double ry)
{
	int *idx = xalloc((size_t)n * sizeof *idx), i;
	double hv = 0, top = ry;

	for (i = 0; i < n; i++)
		idx[i] = i;
	sort_xy(idx, x, y, n);
	/* sweep in ascending x: each point that lowers the staircase adds the
	 * slab between its y and the staircase so far, out to rx */
	for (i = 0; i < n; i++) {
		int p = idx[i];

		if (x[p] < rx && y[p] < top) {
			hv += (rx - x[p]) * (top - y[p]);
			top = y[p];
		}
	}
	free(idx);
	return hv;
}

double
pareto_violation(double acc, double macs, double acc_min, double macs_max)
{
	double cv = 0;

	if (acc_min > 0 && acc < acc_min)
		cv += (acc_min - acc) / acc_min;
	if (macs > macs_max)
		cv += (macs - macs_max) / macs_max;
	return cv;
}

int
pareto_hv_iters(struct pareto_hv_row *rows, const double *x, const double *y, const long *iter,
    const int *adm, int n, double rx, double ry)
{
	double *px = xalloc(3 * (size_t)n * sizeof *px), *py = px + n, *it = py + n;
	int *o = xalloc(2 * (size_t)n * sizeof *o), *idx = o + n, nr = 0, i, j;

	for (i = 0; i < n; i++)
		it[i] = (double)iter[i];
	stats_argsort(o, it, n);
	/* o[i..j) is one iteration; o[0..j) everything up to it */
	for (i = 0; i < n; i = j) {
		int m = 0, k;

		for (j = i + 1; j < n && iter[o[j]] == iter[o[i]]; j++)
			;
		for (k = 0; k < j; k++)
			if (!adm || adm[o[k]]) {
				px[m] = x[o[k]];
				py[m] = y[o[k]];
				m++;
			}
		rows[nr].iter = iter[o[i]];
		rows[nr].n = j;
		rows[nr].nfront = pareto_front(idx, px, py, NULL, NULL, m);
		rows[nr].hv_abs = pareto_hv(px, py, m, rx, ry);
		rows[nr].hv = rows[nr].hv_abs / (rx * ry);
		rows[nr].t = NAN;
		nr++;
	}
	free(px);
	free(o);
	return nr;
}

int
pareto_ref(double *ref, long *first, const double *x, const double *y, const long *iter, int n)
{
	int i;

	ref[0] = ref[1] = 0;
	*first = 0;
	if (n < 1)
		return -1;
	*first = iter[0];
	for (i = 1; i < n; i++)
		if (iter[i] < *first)
			*first = iter[i];
	for (i = 0; i < n; i++)
		if (iter[i] == *first) {
			ref[0] = fmax(ref[0], x[i]);
			ref[1] = fmax(ref[1], y[i]);
		}
	ref[0] *= 1.01;
	ref[1] *= 1.01;
	return ref[0] > 0 && ref[1] > 0 ? 0 : -1;
}

int
pareto_knee(const double *x, const double *y, int n, enum pareto_knee method)
{
	double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY, sx, sy;
	double *sc, *dist, best = -INFINITY;
	int *o, a = 0, b = 0, bi = -1, i, j;

	if (n < 1)
		return -1;
	for (i = 0; i < n; i++) {
		x0 = fmin(x0, x[i]);
		x1 = fmax(x1, x[i]);
		y0 = fmin(y0, y[i]);
		y1 = fmax(y1, y[i]);
		if (x[i] < x[a] || (x[i] == x[a] && y[i] < y[a]))
			a = i;
		if (x[i] > x[b] || (x[i] == x[b] && y[i] < y[b]))
			b = i;
	}
	sx = x1 > x0 ? x1 - x0 : 1;
	sy = y1 > y0 ? y1 - y0 : 1;
	sc = xalloc(2 * (size_t)n * sizeof *sc);
	dist = sc + n;
	o = xalloc((size_t)n * sizeof *o);
	for (i = 0; i < n; i++) {
		double xi = (x[i] - x0) / sx, yi = (y[i] - y0) / sy;

		if (method == PARETO_KNEE_LINE) {
			/* how far below the line a -> b: minus the cross product of
			 * (b - a) and (i - a), all scaled */
			double ax = (x[a] - x0) / sx, ay = (y[a] - y0) / sy;
			double bx = (x[b] - x0) / sx, by = (y[b] - y0) / sy;

			sc[i] = -((bx - ax) * (yi - ay) - (by - ay) * (xi - ax));
			continue;
		}
		/* neighbours: within KNEE_RADIUS, or else the KNEE_MIN_NB nearest */
		{
			int nb = 0, r;

			for (j = 0; j < n; j++)
				dist[j] = j == i ? INFINITY : hypot((x[j] - x[i]) / sx, (y[j] - y[i]) / sy);
			stats_argsort(o, dist, n);
			for (r = 0; r < n - 1 && dist[o[r]] < KNEE_RADIUS; r++)
				;
			nb = r < KNEE_MIN_NB ? (n - 1 < KNEE_MIN_NB ? n - 1 : KNEE_MIN_NB) : r;
			sc[i] = INFINITY;
			for (r = 0; r < nb; r++) {
				double dx = (x[o[r]] - x[i]) / sx, dy = (y[o[r]] - y[i]) / sy;
				double loss = fmax(0, dx) + fmax(0, dy), gain = fmax(0, -dx) + fmax(0, -dy);

				if (gain > 0)
					sc[i] = fmin(sc[i], loss / gain);
			}
		}
		if (sc[i] == INFINITY)
			sc[i] = -INFINITY;   /* nothing to trade it for */
	}
	for (i = 0; i < n; i++)
		best = fmax(best, sc[i]);
	/* among the best scores (up to float noise), the most accurate */
	for (i = 0; i < n; i++)
		if (sc[i] >= best - KNEE_TIE &&
		    (bi < 0 || x[i] < x[bi] || (x[i] == x[bi] && y[i] < y[bi])))
			bi = i;
	free(sc);
	free(o);
	return bi;
}

int
pareto_best(const double *x, const double *y, const double *cv, const int *ok, int n,
    enum pareto_knee method)
{
	double *fx, *fy;
	int *idx, nf, i, best;

	if (n < 1)
		return -1;
	fx = cli_calloc(2 * (size_t)n, sizeof *fx);
	fy = fx + n;
	idx = cli_calloc(n, sizeof *idx);
	nf = pareto_front(idx, x, y, cv, ok, n);
	for (i = 0; i < nf; i++) {
		fx[i] = x[idx[i]];
		fy[i] = y[idx[i]];
	}
	best = idx[pareto_knee(fx, fy, nf, method)];
	free(fx);
	free(idx);
	return best;
}

void
pareto_run(struct pareto_run *out, const double *acc, const double *macs, const int *ok,
    const long *iter, int n, double acc_min, double macs_max, enum pareto_knee method,
    const double *ref)
{
	double *x = cli_calloc(2 * (size_t)n, sizeof *x), *cv = x + n;
	int *adm = cli_calloc(n, sizeof *adm), over = 0, i;

	for (i = 0; i < n; i++) {
		x[i] = 1 - acc[i];
		cv[i] = pareto_violation(acc[i], macs[i], acc_min, macs_max);
		adm[i] = ok[i] && cv[i] <= 0;
		over += macs[i] > macs_max;
	}
	out->best = pareto_best(x, macs, cv, ok, n, method);
	out->adm = adm[out->best];
	out->over = (double)over / n;
	out->hv = cli_calloc(n, sizeof *out->hv);
	out->nhv = pareto_hv_iters(out->hv, x, macs, iter, adm, n, ref[0], ref[1]);
	free(x);
	free(adm);
}

double
pareto_hv_at(const struct pareto_hv_row *hv, int nhv, long t)
{
	double v = NAN;
	int i;

	for (i = 0; i < nhv && hv[i].iter <= t; i++)
		v = hv[i].hv;
	return v;
}

void
pareto_hv_times(struct pareto_hv_row *rows, int nrows, const long *iter, const double *t, int n)
{
	int k, i;

	for (k = 0; k < nrows; k++) {
		double m = -INFINITY;

		for (i = 0; i < n; i++)
			if (iter[i] == rows[k].iter)
				m = isnan(t[i]) || isnan(m) ? NAN : fmax(m, t[i]);
		rows[k].t = isinf(m) ? NAN : m;
	}
}

double
pareto_hv_by(const struct pareto_hv_row *hv, int nhv, double t)
{
	double v = 0;
	int i;

	for (i = 0; i < nhv; i++) {
		if (isnan(hv[i].t))
			return NAN;
		if (hv[i].t <= t)
			v = hv[i].hv;
	}
	return v;
}

int
pareto_best_under(const double *acc, const double *macs, const int *ok, int n, double cap)
{
	int best = -1, i;

	for (i = 0; i < n; i++) {
		if ((ok && !ok[i]) || !(macs[i] <= cap))
			continue;
		if (best < 0 || acc[i] > acc[best] || (acc[i] == acc[best] && macs[i] < macs[best]))
			best = i;
	}
	return best;
}
