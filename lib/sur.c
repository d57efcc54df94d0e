/* sur.c - standardisation, fit dispatch, k-fold CV and adaptive switching. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

#include "rng.h"
#include "stats.h"
#include "sur_impl.h"

const char *const sur_kind_names[] = { "rbf", "gp", "cart", "mlp", "as", "const", NULL };

void
sur_opts_default(struct sur_opts *o)
{
	o->kind = SUR_AS;
	o->folds = 10;
	o->seed = 1;
	o->gp_ard = 0;
	o->trees = 200;
	o->hidden = 64;
	o->epochs = 1000;
}

static void
fail(char *err, size_t nerr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, nerr, fmt, ap);
	va_end(ap);
}

void
sur_zscore(double *z, const struct sur_model *m, const double *x)
{
	int k;

	for (k = 0; k < m->d; k++)
		z[k] = (x[k] - m->xm[k]) / m->xs[k];
}

int
sur_centres(struct sur_model *m, double **tc, int *vout, const double *z, const double *t,
    int n)
{
	int d = m->d, i, j, k, nv = 0, r = 0, *cnt, *var, *jpvt;
	double *a, *tau, lo, hi;

	m->cz = malloc(sizeof(double) * n * d);
	m->cidx = malloc(sizeof(int) * n);
	*tc = calloc(n, sizeof(double));
	cnt = calloc(n, sizeof(int));
	m->nc = 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < m->nc; j++)
			if (memcmp(m->cz + j * d, z + i * d, sizeof(double) * d) == 0)
				break;
		if (j == m->nc) {
			memcpy(m->cz + j * d, z + i * d, sizeof(double) * d);
			m->cidx[j] = i;
			m->nc++;
		}
		(*tc)[j] += t[i];
		cnt[j]++;
	}
	for (j = 0; j < m->nc; j++)
		(*tc)[j] /= cnt[j];
	free(cnt);

	var = malloc(sizeof(int) * d);
	for (k = 0; k < d; k++) {
		lo = hi = m->cz[k];
		for (j = 1; j < m->nc; j++) {
			lo = fmin(lo, m->cz[j * d + k]);
			hi = fmax(hi, m->cz[j * d + k]);
		}
		if (hi > lo)
			var[nv++] = k;
	}
	/* Centred columns are orthogonal to the constant term, so the pivoted
	 * QR of them alone ranks the genes for the tail. */
	m->tail = malloc(sizeof(int) * (nv ? nv : 1));
	if (nv) {
		a = malloc(sizeof(double) * m->nc * nv);
		tau = malloc(sizeof(double) * nv);
		jpvt = calloc(nv, sizeof(int));
		for (k = 0; k < nv; k++) {
			double mu = 0;

			for (j = 0; j < m->nc; j++)
				mu += m->cz[j * d + var[k]];
			mu /= m->nc;
			for (j = 0; j < m->nc; j++)
				a[j * nv + k] = m->cz[j * d + var[k]] - mu;
		}
		LAPACKE_dgeqp3(LAPACK_ROW_MAJOR, m->nc, nv, a, nv, jpvt, tau);
		for (k = 0; k < nv && k < m->nc; k++)
			if (fabs(a[k * nv + k]) > 1e-9 * fabs(a[0]))
				r++;
		for (k = 0; k < r; k++)
			m->tail[k] = var[jpvt[k] - 1];
		/* Ascending gene order, for a readable record. */
		for (i = 1; i < r; i++)
			for (j = i; j > 0 && m->tail[j - 1] > m->tail[j]; j--) {
				k = m->tail[j];
				m->tail[j] = m->tail[j - 1];
				m->tail[j - 1] = k;
			}
		free(a);
		free(tau);
		free(jpvt);
	}
	m->ntail = r;
	if (vout)
		memcpy(vout, var, sizeof(int) * nv);
	free(var);
	return nv;
}

/* Does a vector of this mean and standard deviation vary, beyond rounding? */
static int
varies(double mean, double std)
{
	return std > 1e-12 * fmax(1, fabs(mean));
}

/* Fit kind k on (x, y) into m: copies the data, sets the scales, and falls
 * back to the constant predictor for a constant target. */
static int
fit_kind(struct sur_model *m, enum sur_kind k, const double *x, const double *y,
    int n, int d, const struct sur_opts *o, unsigned long seed, char *err, size_t nerr)
{
	double *z, *t;
	int i, j, rc = 0;

	memset(m, 0, sizeof(*m));
	m->asked = o->kind;
	m->seed = o->seed;
	m->folds = o->folds;
	m->n = n;
	m->d = d;
	m->x = malloc(sizeof(double) * n * d);
	m->y = malloc(sizeof(double) * n);
	m->xm = malloc(sizeof(double) * d);
	m->xs = malloc(sizeof(double) * d);
	memcpy(m->x, x, sizeof(double) * n * d);
	memcpy(m->y, y, sizeof(double) * n);
	z = malloc(sizeof(double) * n * d);
	t = malloc(sizeof(double) * n);
	for (j = 0; j < d; j++) {
		for (i = 0; i < n; i++)
			t[i] = x[i * d + j];
		m->xm[j] = stats_mean(t, n);
		m->xs[j] = stats_std(t, n, 0);
		/* A gene that never varies keeps unit scale: it is 0 after
		 * centring, and a new value still shows as a difference. */
		if (!varies(m->xm[j], m->xs[j]))
			m->xs[j] = 1;
	}
	for (i = 0; i < n; i++)
		sur_zscore(z + i * d, m, x + i * d);
	m->ym = stats_mean(y, n);
	m->ys = stats_std(y, n, 0);
	if (!varies(m->ym, m->ys)) {
		m->ys = 1;
		m->kind = SUR_CONST;
		snprintf(m->note, sizeof(m->note), "constant target: constant predictor");
		goto out;
	}
	for (i = 0; i < n; i++)
		t[i] = (y[i] - m->ym) / m->ys;
	m->kind = k;
	switch (k) {
	case SUR_RBF:
		rc = sur_rbf_fit(m, z, t, n, err, nerr);
		break;
	case SUR_GP:
		rc = sur_gp_fit(m, z, t, n, o->gp_ard, err, nerr);
		break;
	case SUR_CART:
		sur_cart_fit(m, z, t, n, o->trees, seed);
		break;
	case SUR_MLP:
		sur_mlp_fit(m, z, t, n, o->hidden, o->epochs, seed);
		break;
	default:
		fail(err, nerr, "no such model kind %d", k);
		rc = -1;
	}
out:
	free(z);
	free(t);
	if (rc)
		sur_free(m);
	return rc;
}

int
sur_cv_kind(struct sur_cv *cv, enum sur_kind k, const double *x, const double *y,
    int n, int d, const struct sur_opts *o)
{
	struct nn_rng rng;
	int32_t *perm = malloc(sizeof(int32_t) * n);
	double *pred = malloc(sizeof(double) * n), *tau = malloc(sizeof(double) * o->folds);
	int f, i, bad = o->folds;

	memset(cv, 0, sizeof(*cv));
	for (i = 0; i < n; i++)
		perm[i] = i;
	nn_rng_seed(&rng, o->seed);
	rng_shuffle(perm, n, &rng);
	/* Fold f holds the shuffled positions f, f + folds, ...: sizes differ
	 * by at most one. Folds are independent (own data, own seed), so they
	 * run in parallel and give the same figures on any thread count. */
	#pragma omp parallel for schedule(dynamic)
	for (f = 0; f < o->folds; f++) {
		struct sur_model fm;
		double *xt = malloc(sizeof(double) * n * d), *yt = malloc(sizeof(double) * n);
		double *fp = malloc(sizeof(double) * n), *fy = malloc(sizeof(double) * n);
		char err[128];
		int j, ntr = 0, nte = 0;

		for (j = 0; j < n; j++) {
			if (j % o->folds == f)
				continue;
			memcpy(xt + ntr * d, x + perm[j] * d, sizeof(double) * d);
			yt[ntr++] = y[perm[j]];
		}
		if (fit_kind(&fm, k, xt, yt, ntr, d, o, o->seed + 7919 * (f + 1), err, sizeof(err))) {
			/* Report the first failing fold, whichever thread gets there first. */
			#pragma omp critical(sur_cv_fail)
			if (f < bad) {
				bad = f;
				snprintf(cv->why, sizeof(cv->why), "fold %d: %s", f + 1, err);
			}
		} else {
			for (j = f; j < n; j += o->folds) {
				fp[nte] = pred[perm[j]] = sur_predict(&fm, x + perm[j] * d);
				fy[nte++] = y[perm[j]];
			}
			sur_free(&fm);
			/* No ranking (a constant prediction or target) counts as no skill. */
			tau[f] = stats_kendall(fp, fy, nte);
			if (isnan(tau[f]))
				tau[f] = 0;
		}
		free(xt);
		free(yt);
		free(fp);
		free(fy);
	}
	if (bad == o->folds) {
		double se = 0;

		for (i = 0; i < n; i++)
			se += (pred[i] - y[i]) * (pred[i] - y[i]);
		cv->done = 1;
		cv->tau = stats_mean(tau, o->folds);
		cv->tau_std = stats_std(tau, o->folds, 0);
		cv->score = cv->tau - cv->tau_std;
		cv->rmse = sqrt(se / n);
		cv->rho = stats_spearman(pred, y, n);
	}
	free(perm);
	free(pred);
	free(tau);
	return bad == o->folds ? 0 : -1;
}

int
sur_fit(struct sur_model *m, const double *x, const double *y, int n, int d,
    const struct sur_opts *o, char *err, size_t nerr)
{
	struct sur_cv cv[SUR_AS];
	enum sur_kind k, best = SUR_AS;
	int i, j;

	memset(m, 0, sizeof(*m));
	memset(cv, 0, sizeof(cv));
	for (i = 0; i < n; i++) {
		if (!isfinite(y[i])) {
			fail(err, nerr, "target of point %d is %g", i + 1, y[i]);
			return -1;
		}
		for (j = 0; j < d; j++)
			if (!isfinite(x[i * d + j])) {
				fail(err, nerr, "feature %d of point %d is %g", j, i + 1, x[i * d + j]);
				return -1;
			}
	}
	if (n < 2 || d < 1) {
		fail(err, nerr, "%d points of %d features: need at least 2 points", n, d);
		return -1;
	}
	if (o->kind == SUR_AS && o->folds < 2) {
		fail(err, nerr, "adaptive switching needs at least 2 folds");
		return -1;
	}
	if (o->folds && n < 2 * o->folds) {
		fail(err, nerr, "%d points for %d folds: need at least %d", n, o->folds, 2 * o->folds);
		return -1;
	}
	/* A constant target skips CV: fit_kind gives the constant predictor. */
	if (varies(stats_mean(y, n), stats_std(y, n, 0)) && o->folds) {
		for (k = 0; k < SUR_AS; k++) {
			if (o->kind != SUR_AS && o->kind != k)
				continue;
			if (sur_cv_kind(cv + k, k, x, y, n, d, o))
				continue;
			if (best == SUR_AS || cv[k].score > cv[best].score)
				best = k;
		}
		if (o->kind == SUR_AS && best == SUR_AS) {
			fail(err, nerr, "no model could be cross-validated");
			return -1;
		}
	}
	/* best stays SUR_AS only for a constant target; any kind then gives
	 * the constant predictor. A kind cross-validated on fold-sized subsets
	 * may not fit all the points (rbf's and gp's tails need more points
	 * than varying genes, and more genes vary in all of them): adaptive
	 * switching then takes the next best. */
	for (;;) {
		k = o->kind == SUR_AS ? (best == SUR_AS ? SUR_CART : best) : o->kind;
		if (fit_kind(m, k, x, y, n, d, o, o->seed, err, nerr) == 0)
			break;
		if (o->kind != SUR_AS || best == SUR_AS)
			return -1;
		cv[best].done = 0;
		snprintf(cv[best].why, sizeof(cv[best].why), "cross-validated, but not fitted on all "
		    "%d points: %.100s", n, err);
		best = SUR_AS;
		for (k = 0; k < SUR_AS; k++)
			if (cv[k].done && (best == SUR_AS || cv[k].score > cv[best].score))
				best = k;
	}
	memcpy(m->cv, cv, sizeof(cv));
	return 0;
}

double
sur_predict(const struct sur_model *m, const double *x)
{
	double z[m->d], v;

	sur_zscore(z, m, x);
	switch (m->kind) {
	case SUR_RBF:
		v = sur_rbf_eval(m, z);
		break;
	case SUR_GP:
		v = sur_gp_eval(m, z);
		break;
	case SUR_CART:
		v = sur_cart_eval(m, z);
		break;
	case SUR_MLP:
		v = sur_mlp_eval(m, z);
		break;
	default:
		v = 0;
	}
	return m->ym + m->ys * v;
}

void
sur_free(struct sur_model *m)
{
	int i;

	free(m->x);
	free(m->y);
	free(m->xm);
	free(m->xs);
	free(m->cidx);
	free(m->cz);
	free(m->tail);
	free(m->w);
	free(m->beta);
	free(m->theta);
	/* m->tree may be NULL with ntree set: a read stopped half-way */
	for (i = 0; m->tree && i < m->ntree; i++) {
		free(m->tree[i].feat);
		free(m->tree[i].thr);
		free(m->tree[i].val);
		free(m->tree[i].left);
		free(m->tree[i].right);
	}
	free(m->tree);
	free(m->w1);  /* owns b1 and w2 too */
	memset(m, 0, sizeof(*m));
}
