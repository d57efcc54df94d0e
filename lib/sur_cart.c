/*
 * sur_cart.c - an ensemble of regression trees (CART, squared-error
 * splits, grown until a node is pure or holds one distinct point), each on
 * a bootstrap sample and a random half of the varying genes; the
 * prediction is the mean over trees.
 */
#define _GNU_SOURCE     /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "sur_impl.h"

#define CART_MAX_DEPTH 40

struct grow {
	const double *z;        /* (n, d) */
	const double *t;        /* (n) */
	int d;
	const int *feats;       /* (nf) genes this tree may split on */
	int nf;
	struct sur_tree *tr;
	int cap;
};

struct by_gene { const double *z; int d, f; };

static int
cmp_gene(const void *a, const void *b, void *arg)
{
	const struct by_gene *c = arg;
	double u = c->z[*(const int *)a * c->d + c->f], v = c->z[*(const int *)b * c->d + c->f];

	return (u > v) - (u < v);
}

static void
sort_by(int *idx /* (cnt) */, int cnt, const struct grow *g, int f)
{
	struct by_gene c = { g->z, g->d, f };

	qsort_r(idx, cnt, sizeof(int), cmp_gene, &c);
}

static int
node_new(struct grow *g)
{
	struct sur_tree *tr = g->tr;

	if (tr->nn == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		tr->feat = realloc(tr->feat, sizeof(int) * g->cap);
		tr->thr = realloc(tr->thr, sizeof(double) * g->cap);
		tr->val = realloc(tr->val, sizeof(double) * g->cap);
		tr->left = realloc(tr->left, sizeof(int) * g->cap);
		tr->right = realloc(tr->right, sizeof(int) * g->cap);
	}
	tr->feat[tr->nn] = -1;
	tr->thr[tr->nn] = 0;
	tr->left[tr->nn] = tr->right[tr->nn] = -1;
	return tr->nn++;
}

static int
grow(struct grow *g, int *idx /* (cnt) */, int cnt, int depth)
{
	int me = node_new(g), i, j, bf = -1, bpos = 0, l;
	double sum = 0, best = 1e-12 * cnt, bthr = 0;

	for (i = 0; i < cnt; i++)
		sum += g->t[idx[i]];
	g->tr->val[me] = sum / cnt;
	if (cnt < 2 || depth >= CART_MAX_DEPTH)
		return me;
	/* Gain of a split = SSE(parent) - SSE(left) - SSE(right)
	 *               = sl^2/nl + sr^2/nr - sum^2/cnt. */
	for (j = 0; j < g->nf; j++) {
		int f = g->feats[j];
		double sl = 0;

		sort_by(idx, cnt, g, f);
		for (i = 1; i < cnt; i++) {
			double a = g->z[idx[i - 1] * g->d + f], b = g->z[idx[i] * g->d + f];
			double gain;

			sl += g->t[idx[i - 1]];
			if (!(a < b))
				continue;
			gain = sl * sl / i + (sum - sl) * (sum - sl) / (cnt - i) - sum * sum / cnt;
			if (gain > best) {
				best = gain;
				bf = f;
				bpos = i;
				bthr = (a + b) / 2;
			}
		}
	}
	if (bf < 0)
		return me;
	sort_by(idx, cnt, g, bf);
	l = grow(g, idx, bpos, depth + 1);
	g->tr->left[me] = l;
	l = grow(g, idx + bpos, cnt - bpos, depth + 1);
	g->tr->right[me] = l;
	g->tr->feat[me] = bf;
	g->tr->thr[me] = bthr;
	return me;
}

void
sur_cart_fit(struct sur_model *m, const double *z, const double *t, int n, int trees,
    unsigned long seed)
{
	struct nn_rng rng;
	struct grow g;
	int d = m->d, *var = malloc(sizeof(int) * d), *idx = malloc(sizeof(int) * n);
	int nv = 0, i, k, b;

	for (k = 0; k < d; k++) {
		for (i = 1; i < n; i++)
			if (z[i * d + k] != z[k])
				break;
		if (i < n)
			var[nv++] = k;
	}
	nn_rng_seed(&rng, seed);
	m->ntree = trees;
	m->tree = calloc(trees, sizeof(struct sur_tree));
	g.z = z;
	g.t = t;
	g.d = d;
	g.feats = var;
	g.nf = nv > 1 ? (nv + 1) / 2 : nv;
	for (b = 0; b < trees; b++) {
		/* A random subset: the first nf of a partial shuffle of var. */
		for (k = 0; k < g.nf; k++) {
			int j = k + (int)(nn_rng_u32(&rng) % (uint32_t)(nv - k)), s = var[k];

			var[k] = var[j];
			var[j] = s;
		}
		for (i = 0; i < n; i++)
			idx[i] = (int)(nn_rng_u32(&rng) % (uint32_t)n);
		g.tr = m->tree + b;
		g.cap = 0;
		grow(&g, idx, n, 0);
	}
	free(var);
	free(idx);
}

double
sur_cart_eval(const struct sur_model *m, const double *z)
{
	double s = 0;
	int b;

	for (b = 0; b < m->ntree; b++) {
		const struct sur_tree *tr = m->tree + b;
		int q = 0;

		while (tr->feat[q] >= 0)
			q = z[tr->feat[q]] <= tr->thr[q] ? tr->left[q] : tr->right[q];
		s += tr->val[q];
	}
	return s / m->ntree;
}
