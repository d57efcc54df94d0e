/* nsga.c - NSGA-II with pymoo's semantics; see nsga.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nsga.h"
#include "stats.h"

#define MATING_ROUNDS 100       /* pymoo's n_max_iterations */

/* Zeroed, so no scratch byte is ever read before it is written. */
static void *
xmalloc(size_t n)
{
	void *p = calloc(n ? n : 1, 1);

	if (!p)
		abort();
	return p;
}

static int
rand_below(struct nn_rng *rng, int n)
{
	int r = (int)(rng_double(rng) * n);

	return r < n ? r : n - 1;
}

static void
shuffle(struct nn_rng *rng, int *v /* (n) */, int n)
{
	int i;

	for (i = 0; i < n; i++)
		v[i] = i;
	for (i = n - 1; i > 0; i--) {
		int j = rand_below(rng, i + 1), t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

/* Equal by value (so -0 == 0), as pymoo's distance test is. */
static int
same(const double *a /* (n) */, const double *b /* (n) */, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

int
nsga_dominates(const double *a, const double *b, int m)
{
	int k, abetter = 0, bbetter = 0;

	for (k = 0; k < m; k++) {
		if (a[k] < b[k])
			abetter = 1;
		else if (b[k] < a[k])
			bbetter = 1;
	}
	if (abetter && !bbetter)
		return 1;
	if (bbetter && !abetter)
		return -1;
	return 0;
}

int
nsga_sort(int *rank, const double *f, int n, int m, int n_stop)
{
	char *dom;              /* dom[i*n+j]: i dominates j */
	int *buf, *cnt, *front, *next, nfront, nnext, ranked = 0, fronts = 0, i, j;

	if (n_stop <= 0 || n_stop > n)
		n_stop = n;
	dom = xmalloc((size_t)n * n);
	buf = xmalloc(3 * (size_t)n * sizeof *buf);
	cnt = buf;
	front = cnt + n;
	next = front + n;
	memset(dom, 0, (size_t)n * n);
	for (i = 0; i < n; i++) {
		rank[i] = -1;
		cnt[i] = 0;
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			int r = nsga_dominates(f + (size_t)i * m, f + (size_t)j * m, m);

			if (r == 1) {
				dom[(size_t)i * n + j] = 1;
				cnt[j]++;
			} else if (r == -1) {
				dom[(size_t)j * n + i] = 1;
				cnt[i]++;
			}
		}
	nfront = 0;
	for (i = 0; i < n; i++)
		if (cnt[i] == 0)
			front[nfront++] = i;
	while (nfront > 0) {
		int *t;

		for (i = 0; i < nfront; i++)
			rank[front[i]] = fronts;
		ranked += nfront;
		fronts++;
		if (ranked >= n_stop)
			break;
		nnext = 0;
		for (i = 0; i < nfront; i++)
			for (j = 0; j < n; j++)
				if (dom[(size_t)front[i] * n + j] && --cnt[j] == 0)
					next[nnext++] = j;
		t = front;
		front = next;
		next = t;
		nfront = nnext;
	}
	free(dom);
	free(buf);
	return fronts;
}

void
nsga_crowding(double *cd, const double *f, int n, int m)
{
	int *u, *o, nu = 0, i, j, k;
	double *v;

	if (n <= 2) {
		for (i = 0; i < n; i++)
			cd[i] = INFINITY;
		return;
	}
	u = xmalloc(2 * (size_t)n * sizeof *u);
	o = u + n;
	v = xmalloc((size_t)n * sizeof *v);
	/* a repeat of an earlier point keeps 0; the first copy is measured */
	for (i = 0; i < n; i++) {
		cd[i] = 0;
		for (j = 0; j < i; j++)
			if (same(f + (size_t)i * m, f + (size_t)j * m, m))
				break;
		if (j == i)
			u[nu++] = i;
	}
	for (k = 0; k < m; k++) {
		double range;

		for (i = 0; i < nu; i++)
			v[i] = f[(size_t)u[i] * m + k];
		stats_argsort(o, v, nu);
		range = v[o[nu - 1]] - v[o[0]];
		if (!(range > 0))
			continue;   /* pymoo: 0/0 gaps count as 0, extremes too */
		for (i = 0; i < nu; i++) {
			double prev = i == 0 ? INFINITY : (v[o[i]] - v[o[i - 1]]) / range;
			double next = i == nu - 1 ? INFINITY : (v[o[i + 1]] - v[o[i]]) / range;

			cd[u[o[i]]] += prev + next;
		}
	}
	for (i = 0; i < nu; i++)
		cd[u[i]] /= m;
	free(u);
	free(v);
}

int
nsga_tournament(struct nn_rng *rng, int a, int b, const double *f, const double *cv,
    const double *crowd, int m)
{
	if (cv[a] > 0 || cv[b] > 0) {
		if (cv[a] < cv[b])
			return a;
		if (cv[b] < cv[a])
			return b;
		return rng_double(rng) < 0.5 ? a : b;
	}
	switch (nsga_dominates(f + (size_t)a * m, f + (size_t)b * m, m)) {
	case 1:
		return a;
	case -1:
		return b;
	}
	if (crowd[a] > crowd[b])
		return a;
	if (crowd[b] > crowd[a])
		return b;
	return rng_double(rng) < 0.5 ? a : b;
}

int
nsga_survive(int *keep, int *rank, double *crowd, const double *f, const double *cv,
    int n, int m, int n_keep, struct nn_rng *rng)
{
	int *feas, *inf, *lr, *mem, *perm, *ord, nf = 0, ni = 0, nk = 0, fronts, i, k;
	double *ff, *fcd, *key;

	if (n_keep > n)
		n_keep = n;
	feas = xmalloc(6 * (size_t)n * sizeof *feas);
	inf = feas + n;
	lr = inf + n;
	mem = lr + n;
	perm = mem + n;
	ord = perm + n;
	ff = xmalloc(((size_t)n * m + 2 * (size_t)n) * sizeof *ff);
	fcd = ff + (size_t)n * m;
	key = fcd + n;
	for (i = 0; i < n; i++) {
		if (cv[i] > 0)
			inf[ni++] = i;
		else
			feas[nf++] = i;
	}
	for (i = 0; i < nf; i++)
		memcpy(ff + (size_t)i * m, f + (size_t)feas[i] * m, m * sizeof *f);
	fronts = nsga_sort(lr, ff, nf, m, n_keep < nf ? n_keep : nf);
	for (i = 0; i < n; i++) {
		rank[i] = fronts;
		crowd[i] = 0;
	}
	for (k = 0; k < fronts; k++) {
		int nm = 0, j;

		for (i = 0; i < nf; i++)
			if (lr[i] == k) {
				memcpy(ff + (size_t)nm * m, f + (size_t)feas[i] * m, m * sizeof *f);
				mem[nm++] = feas[i];
			}
		nsga_crowding(fcd, ff, nm, m);
		for (j = 0; j < nm; j++) {
			rank[mem[j]] = k;
			crowd[mem[j]] = fcd[j];
		}
		if (nk + nm <= n_keep) {
			for (j = 0; j < nm; j++)
				keep[nk++] = mem[j];
			continue;
		}
		/* the front that does not fit: by descending crowding, ties in
		 * a random order (pymoo's randomized argsort) */
		shuffle(rng, perm, nm);
		for (j = 0; j < nm; j++)
			key[j] = -fcd[perm[j]];
		stats_argsort(ord, key, nm);
		for (j = 0; nk < n_keep; j++)
			keep[nk++] = mem[perm[ord[j]]];
	}
	if (nk < n_keep) {
		for (i = 0; i < ni; i++)
			key[i] = cv[inf[i]];
		stats_argsort(ord, key, ni);
		for (i = 0; nk < n_keep; i++)
			keep[nk++] = inf[ord[i]];
	}
	free(feas);
	free(ff);
	return nk;
}

void
nsga_two_point(struct nn_rng *rng, double *a, double *b, int n)
{
	int c1, c2, i;

	if (n < 2)
		return;
	if (n == 2) {
		c1 = 1;
		c2 = 2;
	} else {
		/* two distinct cuts among 1..n-1 */
		c1 = 1 + rand_below(rng, n - 1);
		c2 = 1 + rand_below(rng, n - 2);
		if (c2 >= c1)
			c2++;
		else {
			int t = c1;

			c1 = c2;
			c2 = t;
		}
	}
	for (i = c1; i < c2; i++) {
		double t = a[i];

		a[i] = b[i];
		b[i] = t;
	}
}

/* SBX spread factor for one side; beta from the distance to that bound. */
static double
sbx_betaq(double beta, double u, double eta)
{
	double alpha = 2 - pow(beta, -(eta + 1));

	if (u <= 1 / alpha)
		return pow(u * alpha, 1 / (eta + 1));
	return pow(1 / (2 - u * alpha), 1 / (eta + 1));
}

static double
clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void
nsga_sbx(struct nn_rng *rng, double *a, double *b, const double *lo, const double *hi,
    int n, double eta)
{
	int i;

	for (i = 0; i < n; i++) {
		double y1, y2, d, u, c1, c2;

		if (rng_double(rng) >= 0.5 || fabs(a[i] - b[i]) <= 1e-14)
			continue;
		y1 = fmin(a[i], b[i]);
		y2 = fmax(a[i], b[i]);
		d = y2 - y1;
		u = rng_double(rng);
		c1 = 0.5 * ((y1 + y2) - sbx_betaq(1 + 2 * (y1 - lo[i]) / d, u, eta) * d);
		c2 = 0.5 * ((y1 + y2) + sbx_betaq(1 + 2 * (hi[i] - y2) / d, u, eta) * d);
		c1 = clampd(c1, lo[i], hi[i]);
		c2 = clampd(c2, lo[i], hi[i]);
		if (rng_double(rng) < 0.5) {
			a[i] = c2;
			b[i] = c1;
		} else {
			a[i] = c1;
			b[i] = c2;
		}
	}
}

void
nsga_pm(struct nn_rng *rng, double *x, const double *lo, const double *hi, int n,
    double eta, double p_mut, enum nsga_kind kind)
{
	double mpow = 1 / (eta + 1);
	int i;

	for (i = 0; i < n; i++) {
		/* integers mutate in [lo - .5, hi + .5] so each value gets a fair
		 * share of the line once rounded */
		double w = kind == NSGA_INT ? 0.5 : 0;
		double l = lo[i] - w, h = hi[i] + w, y = x[i], d1, d2, u, dq;

		if (rng_double(rng) >= p_mut || !(h > l))
			continue;
		d1 = (y - l) / (h - l);
		d2 = (h - y) / (h - l);
		u = rng_double(rng);
		if (u <= 0.5)
			dq = pow(2 * u + (1 - 2 * u) * pow(1 - d1, eta + 1), mpow) - 1;
		else
			dq = 1 - pow(2 * (1 - u) + 2 * (u - 0.5) * pow(1 - d2, eta + 1), mpow);
		y = clampd(y + dq * (h - l), l, h);
		if (kind == NSGA_INT)  /* + 0.0 turns rint's -0 into 0 */
			y = clampd(rint(y), lo[i], hi[i]) + 0.0;
		x[i] = y;
	}
}

void
nsga_defaults(struct nsga_opts *o, enum nsga_kind kind, int pop, int gens, uint64_t seed)
{
	memset(o, 0, sizeof *o);
	o->pop = pop;
	o->gens = gens;
	o->seed = seed;
	o->p_cross = 0.9;
	o->eta_c = 15;
	if (kind == NSGA_INT) {
		o->cross = NSGA_TWO_POINT;
		o->eta_m = 1.0;
	} else {
		o->cross = NSGA_SBX;
		o->eta_m = 20;
	}
}

/* Keep n_keep survivors of rows [0, total) in rows [0, n_keep), in survival order. */
static void
survive_rows(struct nsga *s, int total, int n_keep)
{
	int nv = s->p->n_var, m = s->p->n_obj, *keep = s->itmp, *rk = s->itmp + s->cap, i;
	double *tx = s->tmp, *tf = tx + (size_t)s->cap * nv, *tc = tf + (size_t)s->cap * m;
	double *tcd = tc + s->cap;
	int n = nsga_survive(keep, s->rank, s->crowd, s->f, s->cv, total, m, n_keep, &s->rng);

	for (i = 0; i < n; i++) {
		memcpy(tx + (size_t)i * nv, s->x + (size_t)keep[i] * nv, nv * sizeof *tx);
		memcpy(tf + (size_t)i * m, s->f + (size_t)keep[i] * m, m * sizeof *tf);
		tc[i] = s->cv[keep[i]];
		tcd[i] = s->crowd[keep[i]];
		rk[i] = s->rank[keep[i]];
	}
	memcpy(s->x, tx, (size_t)n * nv * sizeof *tx);
	memcpy(s->f, tf, (size_t)n * m * sizeof *tf);
	memcpy(s->cv, tc, n * sizeof *tc);
	memcpy(s->crowd, tcd, n * sizeof *tcd);
	memcpy(s->rank, rk, n * sizeof *rk);
	s->n = n;
}

void
nsga_init(struct nsga *s, const struct nsga_problem *p, const struct nsga_opts *o,
    const double *x0, int n0)
{
	int nv = p->n_var, m = p->n_obj, rows, i, j;

	memset(s, 0, sizeof *s);
	s->p = p;
	s->o = *o;
	if (s->o.n_off <= 0)
		s->o.n_off = s->o.pop;
	if (s->o.p_mut <= 0)
		s->o.p_mut = 1.0 / nv;
	nn_rng_seed(&s->rng, o->seed);
	if (!x0 || n0 < 1)
		x0 = NULL, n0 = s->o.pop;
	rows = n0 > s->o.pop ? n0 : s->o.pop;
	s->cap = rows + s->o.n_off + 2;   /* + 2: a mating makes two children */
	s->x = xmalloc((size_t)s->cap * nv * sizeof *s->x);
	s->f = xmalloc((size_t)s->cap * m * sizeof *s->f);
	s->cv = xmalloc(s->cap * sizeof *s->cv);
	s->crowd = xmalloc(s->cap * sizeof *s->crowd);
	s->rank = xmalloc(s->cap * sizeof *s->rank);
	s->tmp = xmalloc((size_t)s->cap * (nv + m + 2) * sizeof *s->tmp);
	s->itmp = xmalloc((size_t)s->cap * 4 * sizeof *s->itmp);
	for (i = 0; i < n0; i++)
		for (j = 0; j < nv; j++) {
			double *g = s->x + (size_t)i * nv + j, span = p->hi[j] - p->lo[j];

			if (x0)
				*g = x0[(size_t)i * nv + j];
			else if (p->kind == NSGA_INT)
				*g = p->lo[j] + floor(rng_double(&s->rng) * (span + 1));
			else
				*g = p->lo[j] + rng_double(&s->rng) * span;
			if (p->kind == NSGA_INT)
				*g = clampd(rint(*g), p->lo[j], p->hi[j]) + 0.0;
		}
	if (p->repair && !x0)
		for (i = 0; i < n0; i++)
			p->repair(p->ctx, s->x + (size_t)i * nv);
	p->eval(p->ctx, s->f, s->cv, s->x, n0);
	s->evals += n0;
	/* pymoo ranks the initial population by a survival that keeps all of it */
	survive_rows(s, n0, n0);
}

void
nsga_set_archive(struct nsga *s, const double *x, int n)
{
	s->ax = x;
	s->an = x ? n : 0;
}

int
nsga_find(const double *g, const double *x, int n, int nv)
{
	int i;

	for (i = 0; i < n; i++)
		if (same(g, x + (size_t)i * nv, nv))
			return i;
	return -1;
}

void
nsga_step(struct nsga *s)
{
	const struct nsga_problem *p = s->p;
	int nv = p->n_var, m = p->n_obj, n = s->n, n_off = s->o.n_off, got = 0, round;
	int *perm = s->itmp + 2 * s->cap;   /* parents drawn, two cap-sized slots */
	double *kid = s->tmp;               /* one mating's two children */

	for (round = 0; round < MATING_ROUNDS && got < n_off; round++) {
		int nmat = (n_off - got + 1) / 2, npick = 4 * nmat, i, c;

		/* tournament contestants: concatenated random permutations */
		for (i = 0; i < npick; i += n) {
			int len = npick - i < n ? npick - i : n, j;

			shuffle(&s->rng, s->itmp, n);
			for (j = 0; j < len; j++)
				perm[i + j] = s->itmp[j];
		}
		for (i = 0; i < nmat && got < n_off; i++) {
			int pa = nsga_tournament(&s->rng, perm[4 * i], perm[4 * i + 1], s->f, s->cv, s->crowd, m);
			int pb = nsga_tournament(&s->rng, perm[4 * i + 2], perm[4 * i + 3], s->f, s->cv, s->crowd, m);

			memcpy(kid, s->x + (size_t)pa * nv, nv * sizeof *kid);
			memcpy(kid + nv, s->x + (size_t)pb * nv, nv * sizeof *kid);
			if (rng_double(&s->rng) < s->o.p_cross) {
				if (s->o.cross == NSGA_SBX)
					nsga_sbx(&s->rng, kid, kid + nv, p->lo, p->hi, nv, s->o.eta_c);
				else
					nsga_two_point(&s->rng, kid, kid + nv, nv);
			}
			for (c = 0; c < 2 && got < n_off; c++) {
				double *g = kid + (size_t)c * nv;

				nsga_pm(&s->rng, g, p->lo, p->hi, nv, s->o.eta_m, s->o.p_mut, p->kind);
				if (p->repair)
					p->repair(p->ctx, g);
				/* rows [0, n + got): the population and the children so far */
				if (nsga_find(g, s->x, n + got, nv) >= 0 || nsga_find(g, s->ax, s->an, nv) >= 0)
					continue;
				memcpy(s->x + (size_t)(n + got) * nv, g, nv * sizeof *g);
				got++;
			}
		}
	}
	if (got < n_off)
		s->short_gens++;
	if (p->reeval) {
		p->eval(p->ctx, s->f, s->cv, s->x, n + got);
		s->evals += n + got;
	} else if (got > 0) {
		p->eval(p->ctx, s->f + (size_t)n * m, s->cv + n, s->x + (size_t)n * nv, got);
		s->evals += got;
	}
	survive_rows(s, n + got, s->o.pop);
	s->gen++;
}

void
nsga_run(struct nsga *s)
{
	int g;

	for (g = 0; g < s->o.gens; g++)
		nsga_step(s);
}

void
nsga_free(struct nsga *s)
{
	free(s->x);
	free(s->f);
	free(s->cv);
	free(s->crowd);
	free(s->rank);
	free(s->tmp);
	free(s->itmp);
	memset(s, 0, sizeof *s);
}
