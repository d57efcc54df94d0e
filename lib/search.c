/*
 * search.c - one iteration's candidates: the surrogate problem, the
 * archive, the initial population and the choice (search.h).
 */
#include <err.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nachos.h"
#include "stats.h"
#include "pareto.h"
#include "search.h"

void
search_free(struct search *s)
{
	free(s->pe);
	free(s->pm);
	free(s->pv);
}

void
search_archive_free(struct search_archive *ar)
{
	free(ar->g);
	free(ar->err);
	free(ar->macs);
	free(ar->gi);
}

/* The canonical genome gc of x (repaired: see arch_genome_repair). */
void
search_canon(int *gc /* (nv) */, const struct search *s, const double *x /* (nv) */)
{
	int i;

	for (i = 0; i < s->nv; i++)
		gc[i] = (int)lrint(x[i]);
	arch_genome_repair(&s->base, gc);
}

/* NSGA-II's repair hook: children become canonical, valid genomes, so its
 * duplicate elimination compares networks, not encodings. */
void
search_repair(void *ctx, double *x /* (nv) */)
{
	const struct search *s = ctx;
	int gc[ARCH_MAX_GENOME], i;

	search_canon(gc, s, x);
	for (i = 0; i < s->nv; i++)
		x[i] = gc[i];
}

void
search_predict(double *err, double *macs, const struct search *s, const int *gc /* (nv) */)
{
	double x[ARCH_MAX_GENOME];
	int i;

	for (i = 0; i < s->nv; i++)
		x[i] = gc[i];
	*err = sur_predict(s->em, x);
	*macs = sur_predict(s->mm, x);
}

static double
mape(const struct search *s, double macs)
{
	return fabs(macs - s->target) / s->target * 100;
}

static double
obj1(const struct search *s, double err, double macs)
{
	/* AEBNAS: the error in percent, like the MAPE it is added to */
	return s->obj == SEARCH_AEBNAS ? 100 * err + 0.1 * mape(s, macs) : err;
}

/* Eq. 19 (F_CM) with the given alpha, or the plain MACs, or AEBNAS's MAPE. */
double
search_f2(const struct search *s, double macs, double alpha)
{
	if (s->obj == SEARCH_AEBNAS)
		return mape(s, macs);
	if (!s->fcm)
		return macs;
	return alpha * macs + (1 - alpha) * s->penalty * fmax(0, macs - s->macs_max);
}

/*
 * Evaluate n genomes together. F_CM's alpha is the share of them whose
 * predicted MACs are within --macs-max, so it belongs to the whole set:
 * with F_CM the search re-evaluates parents and children together every
 * generation (nsga reeval), and survival compares values of one alpha.
 */
void
search_eval(void *ctx, double *f /* (n, 2) */, double *cv /* (n) */,
    const double *x /* (n, nv) */, int n)
{
	struct search *s = ctx;
	int gc[ARCH_MAX_GENOME], within = 0, i;

	if (n > s->cap) {
		s->cap = n;
		s->pe = realloc(s->pe, n * sizeof(*s->pe));
		s->pm = realloc(s->pm, n * sizeof(*s->pm));
		s->pv = realloc(s->pv, n * sizeof(*s->pv));
		if (!s->pe || !s->pm || !s->pv)
			err(EX_SOFTWARE, "realloc");
	}
	for (i = 0; i < n; i++) {
		search_canon(gc, s, x + (size_t)i * s->nv);
		search_predict(&s->pe[i], &s->pm[i], s, gc);
		s->pv[i] = hw_genome_violation(&s->base, gc, &s->lim);
		within += s->pm[i] <= s->macs_max;
	}
	s->alpha = n ? (double)within / n : 0;
	for (i = 0; i < n; i++) {
		f[2 * i] = obj1(s, s->pe[i], s->pm[i]);
		f[2 * i + 1] = search_f2(s, s->pm[i], s->alpha);
		cv[i] = fmax(0, s->pe[i] - s->err_max) + s->pv[i];
		if (!isfinite(f[2 * i]) || !isfinite(f[2 * i + 1]))
			errx(EX_SOFTWARE, "a surrogate predicted a value that is not finite");
	}
}

/* Record m of the archive: its canonical genome, and its metrics when it has them. */
void
search_archive_add(struct search_archive *ar, struct search *s, const struct rec_in *r,
    const msgpack_object *m, const struct rec_in *emr, const struct rec_in *mmr, int skip)
{
	const struct sur_model *em = s->em, *mm = s->mm;
	const msgpack_object *te, *tm;
	struct arch a;

	if (!rec_get(m, "genome"))
		rec_fail(r, "genome", "missing (an archive record carries its genome)");
	arch_read(&a, r, m);
	if (ar->n == 0) {
		s->base = a;
		s->nv = arch_genome_len(a.space);
		if (em->d != s->nv)
			rec_fail(emr, "d", "%d genes, but the %s genomes of the archive have %d",
			    em->d, arch_space_names[a.space], s->nv);
		if (mm->d != s->nv)
			rec_fail(mmr, "d", "%d genes, but the %s genomes of the archive have %d",
			    mm->d, arch_space_names[a.space], s->nv);
	} else if (a.space != s->base.space) {
		rec_fail(r, "space", "\"%s\", but the archive's first record is \"%s\"",
		    arch_space_names[a.space], arch_space_names[s->base.space]);
	} else if (a.width != s->base.width || a.resolution != s->base.resolution ||
	    a.in_ch != s->base.in_ch || a.classes != s->base.classes) {
		const char *k = a.width != s->base.width ? "width" :
		    a.resolution != s->base.resolution ? "resolution" :
		    a.in_ch != s->base.in_ch ? "in_ch" : "classes";

		rec_fail(r, k, "differs from the archive's first record");
	}
	if (ar->n == ar->cap) {
		ar->cap = ar->cap ? 2 * ar->cap : 256;
		ar->g = realloc(ar->g, sizeof(*ar->g) * ar->cap * s->nv);
		ar->err = realloc(ar->err, sizeof(*ar->err) * ar->cap);
		ar->macs = realloc(ar->macs, sizeof(*ar->macs) * ar->cap);
		ar->gi = realloc(ar->gi, sizeof(*ar->gi) * ar->cap);
		if (!ar->g || !ar->err || !ar->macs || !ar->gi)
			err(EX_SOFTWARE, "realloc");
	}
	arch_to_genome(&a, ar->g + (size_t)ar->n * s->nv);
	ar->n++;
	te = rec_get(m, em->target);
	tm = rec_get(m, mm->target);
	if (!te || !tm) {
		if (!skip)
			rec_fail(r, te ? mm->target : em->target, "missing");
		ar->skipped++;
		return;
	}
	ar->err[ar->nm] = rec_dbl(r, m, em->target, 0, em->error ? 1 : INFINITY);
	if (em->error)
		ar->err[ar->nm] = 1 - ar->err[ar->nm];
	ar->macs[ar->nm] = rec_dbl(r, m, mm->target, 0, INFINITY);
	ar->gi[ar->nm++] = ar->n - 1;
}

int
search_in_rows(const int *g /* (nv) */, const int *rows /* (n, nv) */, int n, int nv)
{
	int i;

	for (i = 0; i < n; i++)
		if (memcmp(g, rows + (size_t)i * nv, nv * sizeof(*g)) == 0)
			return 1;
	return 0;
}

int
search_initial(double *x0 /* (pop, nv) */, const struct search_archive *ar,
    const struct search *s, const double *lo /* (nv) */, const double *hi /* (nv) */, int pop,
    double eta, uint64_t seed)
{
	int nv = s->nv, *idx = malloc(sizeof(int) * ar->nm), *rows, nf, n = 0, i, tries;
	int gc[ARCH_MAX_GENOME];
	struct nn_rng rng;

	if (!idx)
		err(EX_SOFTWARE, "malloc");
	rows = malloc(sizeof(int) * (size_t)pop * nv);
	if (!rows)
		err(EX_SOFTWARE, "malloc");
	nn_rng_seed(&rng, seed ^ 0x696e6974ULL);
	nf = pareto_front(idx, ar->err, ar->macs, NULL, NULL, ar->nm);
	if (nf > pop) {
		double *f = malloc(sizeof(double) * 2 * nf), *cd = malloc(sizeof(double) * nf);
		double *cv = calloc(nf, sizeof(double));
		int *keep = malloc(sizeof(int) * pop), *rank = malloc(sizeof(int) * nf);

		for (i = 0; i < nf; i++) {
			f[2 * i] = ar->err[idx[i]];
			f[2 * i + 1] = ar->macs[idx[i]];
		}
		nsga_survive(keep, rank, cd, f, cv, nf, 2, pop, &rng);
		for (i = 0; i < pop; i++)
			keep[i] = idx[keep[i]];
		memcpy(idx, keep, sizeof(int) * pop);
		nf = pop;
		free(f);
		free(cd);
		free(cv);
		free(keep);
		free(rank);
	}
	for (i = 0; i < nf; i++) {
		const int *g = ar->g + (size_t)ar->gi[idx[i]] * nv;

		if (!search_in_rows(g, rows, n, nv))   /* the same network trained twice */
			memcpy(rows + (size_t)n++ * nv, g, nv * sizeof(*g));
	}
	nf = n;
	for (tries = 0; n < pop && tries < 1000 * pop; tries++) {
		double x[ARCH_MAX_GENOME];

		for (i = 0; i < nv; i++) {
			if (n % 2 == 0)
				x[i] = rows[(size_t)(n / 2 % nf) * nv + i];
			else
				x[i] = lo[i] + floor(rng_double(&rng) * (hi[i] - lo[i] + 1));
		}
		if (n % 2 == 0)
			nsga_pm(&rng, x, lo, hi, nv, eta, 1.0 / nv, NSGA_INT);
		search_canon(gc, s, x);
		if (search_in_rows(gc, rows, n, nv) || search_in_rows(gc, ar->g, ar->n, nv))
			continue;
		memcpy(rows + (size_t)n++ * nv, gc, nv * sizeof(*gc));
	}
	for (i = 0; i < n * nv; i++)
		x0[i] = rows[i];
	free(idx);
	free(rows);
	return n;
}

static int
in_cands(const int *g /* (nv) */, const struct search_cand *c /* (n) */, int n, int nv)
{
	int i;

	for (i = 0; i < n; i++)
		if (memcmp(g, c[i].g, nv * sizeof(*g)) == 0)
			return 1;
	return 0;
}

int
search_choose(int *out, const struct search_cand *c, int nc, const struct search *s,
    const struct search_archive *ar, int k)
{
	double *v = malloc(sizeof(double) * (nc + 1)), *fr = malloc(sizeof(double) * (ar->nm + k));
	int *idx = malloc(sizeof(int) * (ar->nm + nc + 1)), *pk = malloc(sizeof(int) * k), np = 0;
	int adm, i, nf;

	if (!v || !fr || !idx || !pk)
		err(EX_SOFTWARE, "malloc");
	/* the archive front's f2 from its measured MACs, with the final alpha */
	nf = pareto_front(idx, ar->err, ar->macs, NULL, NULL, ar->nm);
	for (i = 0; i < nf; i++)
		fr[i] = search_f2(s, ar->macs[idx[i]], s->alpha);
	for (adm = 1; adm >= 0 && np < k; adm--) {
		int n = 0, got;

		for (i = 0; i < nc; i++)
			if (c[i].adm == adm) {
				idx[n] = i;
				v[n++] = c[i].f2;
			}
		got = search_subset(pk, v, n, fr, nf + np, k - np);
		for (i = 0; i < got; i++) {
			out[np] = idx[pk[i]];
			fr[nf + np++] = v[pk[i]];
		}
	}
	free(v);
	free(fr);
	free(idx);
	free(pk);
	return np;
}


int
search_candidates(struct search_cand *c, int *nadm, int *rejected, const struct nsga *ns,
    const struct search *s, const struct search_archive *ar)
{
	int nc = 0, i;

	*nadm = *rejected = 0;
	for (i = 0; i < ns->n; i++) {
		struct search_cand *cd = c + nc;

		search_canon(cd->g, s, ns->x + (size_t)i * s->nv);
		if (search_in_rows(cd->g, ar->g, ar->n, s->nv) || in_cands(cd->g, c, nc, s->nv))
			continue;
		if (hw_genome_violation(&s->base, cd->g, &s->lim) > 0) {
			++*rejected;
			continue;
		}
		search_predict(&cd->err, &cd->macs, s, cd->g);
		cd->f2 = ns->f[2 * i + 1];
		cd->adm = ns->cv[i] <= 0 && (!s->fcm || cd->macs <= s->macs_max);
		*nadm += cd->adm;
		nc++;
	}
	return nc;
}

double
search_gap_std(const double *cand, const int *pick, int k, const double *front, int nf)
{
	int n = nf + k, i;
	double *v = cli_calloc(2 * (size_t)n, sizeof *v), *gap = v + n, sd;
	int *o = cli_calloc(n, sizeof *o);

	memcpy(v, front, nf * sizeof *v);
	for (i = 0; i < k; i++)
		v[nf + i] = cand[pick[i]];
	stats_argsort(o, v, n);
	for (i = 0; i + 1 < n; i++)
		gap[i] = v[o[i + 1]] - v[o[i]];
	sd = stats_std(gap, n - 1, 0);
	free(v);
	free(o);
	return sd;
}

static int
int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/*
 * Exact subset selection. With the union sorted, its first point a and
 * last point b fixed, the mean gap is (b - a) / G (G = nf + k - 1 gaps), so
 * the variance is sum(gap^2) / G - mean^2 and only the sum of squared gaps
 * is left to minimise: a shortest path over the sorted points that never
 * skips a front point and takes exactly k candidates. One dynamic program
 * per first point gives every last point; O((nf + nc)^3 k) in all.
 */
int
search_subset(int *pick, const double *cand, int nc, const double *front, int nf, int k)
{
	int n = nf + nc, g = nf + k - 1, m0 = n, m1 = -1, st, i, j, c;
	int *o, *who, *par;
	double *v, *dp, bestvar = INFINITY;

	if (k <= 0)
		return 0;
	if (nc <= k || g < 1) {
		/* all of them; or one candidate and no front: no gap to spread */
		for (i = 0; i < k && i < nc; i++)
			pick[i] = i;
		return i;
	}
	v = cli_calloc(n, sizeof *v);
	o = cli_calloc(2 * (size_t)n, sizeof *o);
	who = o + n;
	dp = cli_calloc((size_t)n * (k + 1), sizeof *dp);
	par = cli_calloc((size_t)n * (k + 1), sizeof *par);
	{
		double *all = cli_calloc(n, sizeof *all);

		memcpy(all, front, nf * sizeof *all);
		memcpy(all + nf, cand, nc * sizeof *all);
		stats_argsort(o, all, n);
		for (i = 0; i < n; i++) {
			v[i] = all[o[i]];
			who[i] = o[i] < nf ? -1 : o[i] - nf;   /* -1: a front point */
			if (who[i] < 0) {
				if (m0 == n)
					m0 = i;
				m1 = i;
			}
		}
		free(all);
	}
	for (st = 0; st <= m0 && st < n; st++) {
		int c0 = who[st] >= 0;

		for (i = 0; i < n * (k + 1); i++)
			dp[i] = INFINITY;
		dp[st * (k + 1) + c0] = 0;
		for (j = st; j < n; j++)
			for (c = 0; c <= k; c++) {
				double d = dp[j * (k + 1) + c];
				int j2;

				if (d == INFINITY)
					continue;
				if (j >= m1 && c == k) {
					double mean = (v[j] - v[st]) / g, var = d / g - mean * mean;

					if (var < bestvar) {
						int jj = j, cc = c, np = 0;

						bestvar = var;
						while (jj >= 0) {
							int pj = par[jj * (k + 1) + cc];

							if (who[jj] >= 0) {
								pick[np++] = who[jj];
								cc--;
							}
							jj = jj == st ? -1 : pj;
						}
					}
				}
				for (j2 = j + 1; j2 < n; j2++) {
					int c2 = c + (who[j2] >= 0);
					double nd = d + (v[j2] - v[j]) * (v[j2] - v[j]);

					if (c2 <= k && nd < dp[j2 * (k + 1) + c2]) {
						dp[j2 * (k + 1) + c2] = nd;
						par[j2 * (k + 1) + c2] = j;
					}
					if (who[j2] < 0)
						break;   /* a front point cannot be skipped */
				}
			}
	}
	free(v);
	free(o);
	free(dp);
	free(par);
	qsort(pick, k, sizeof *pick, int_cmp);
	return k;
}
