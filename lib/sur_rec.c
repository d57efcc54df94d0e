/* sur_rec.c - a fitted model as the keys of a "model" record (formats/model.md). */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sur_impl.h"

#define FIN (-DBL_MAX), DBL_MAX        /* any finite number */

/* A CART model's trees as the record keeps them: the node count of each
 * tree, then each node array over all trees, tree after tree. */
struct flat {
	int *nn;                        /* (ntree) */
	int *feat, *left, *right;       /* (tot) */
	double *thr, *val;              /* (tot) */
};

static void
flat_nodes(struct flat *f, int tot)
{
	f->feat = cli_calloc((size_t)3 * tot, sizeof(int));
	f->left = f->feat + tot;
	f->right = f->left + tot;
	f->thr = cli_calloc((size_t)2 * tot, sizeof(double));
	f->val = f->thr + tot;
}

/* The element count a model key must have, a * b, checked against the
 * record before anything is allocated for it: a crafted record cannot make
 * the reader allocate more than its own arrays hold. */
static int
count(const struct rec_in *r, const msgpack_object *rec, const char *key, size_t a, size_t b)
{
	const msgpack_object *o = rec_arr(r, rec, key, -1);

	if (b != 0 && a > (size_t)INT_MAX / b)
		rec_fail(r, key, "%zu x %zu elements are more than a model holds", a, b);
	if (o->via.array.size != a * b)
		rec_fail(r, key, "has %u elements, not %zu", o->via.array.size, a * b);
	return (int)(a * b);
}

static void
flat_free(struct flat *f)
{
	free(f->nn);
	free(f->feat);
	free(f->thr);
}

static void
put_cv(struct rec_out *o, const struct sur_model *m)
{
	msgpack_packer *pk = &o->pk;
	int k, cnt = 0;

	for (k = 0; k < SUR_AS; k++)
		cnt += m->cv[k].done || m->cv[k].why[0];
	rec_key(o, "cv");
	msgpack_pack_map(pk, cnt);
	for (k = 0; k < SUR_AS; k++) {
		const struct sur_cv *c = m->cv + k;

		if (!c->done && !c->why[0])
			continue;
		rec_pack_str(pk, sur_kind_names[k]);
		if (!c->done) {
			msgpack_pack_map(pk, 1);
			rec_pack_str(pk, "skipped");
			rec_pack_str(pk, c->why);
			continue;
		}
		msgpack_pack_map(pk, 5);
		rec_pack_str(pk, "tau");
		msgpack_pack_double(pk, c->tau);
		rec_pack_str(pk, "tau_std");
		msgpack_pack_double(pk, c->tau_std);
		rec_pack_str(pk, "score");
		msgpack_pack_double(pk, c->score);
		rec_pack_str(pk, "rmse");
		msgpack_pack_double(pk, c->rmse);
		rec_pack_str(pk, "rho");
		msgpack_pack_double(pk, c->rho);
	}
}

void
sur_put(struct rec_out *o, const struct sur_model *m)
{
	int i, j, tot = 0;

	rec_put_str(o, "target", m->target);
	rec_put_bool(o, "error", m->error);
	rec_put_str(o, "kind", sur_kind_names[m->kind]);
	rec_put_str(o, "asked", sur_kind_names[m->asked]);
	rec_put_int(o, "seed", (long)m->seed);
	rec_put_int(o, "folds", m->folds);
	rec_put_int(o, "n", m->n);
	rec_put_int(o, "d", m->d);
	rec_put_str(o, "note", m->note);
	put_cv(o, m);
	/* Genomes are integers: write them so, for a readable record. */
	rec_key(o, "x");
	msgpack_pack_array(&o->pk, m->n);
	for (i = 0; i < m->n; i++) {
		msgpack_pack_array(&o->pk, m->d);
		for (j = 0; j < m->d; j++) {
			double v = m->x[i * m->d + j];

			if (v == rint(v) && fabs(v) < 1e15)
				msgpack_pack_int64(&o->pk, (int64_t)v);
			else
				msgpack_pack_double(&o->pk, v);
		}
	}
	rec_put_dbls(o, "y", m->y, m->n);
	rec_put_dbls(o, "x_mean", m->xm, m->d);
	rec_put_dbls(o, "x_scale", m->xs, m->d);
	rec_put_dbl(o, "y_mean", m->ym);
	rec_put_dbl(o, "y_scale", m->ys);
	switch (m->kind) {
	case SUR_RBF:
	case SUR_GP:
		rec_put_ints(o, "centres", m->cidx, m->nc);
		rec_put_ints(o, "tail", m->tail, m->ntail);
		rec_put_dbls(o, "w", m->w, m->nc);
		rec_put_dbls(o, "beta", m->beta, m->ntail + 1);
		if (m->kind == SUR_GP) {
			rec_put_dbls(o, "theta", m->theta, m->d);
			rec_put_dbl(o, "sigma2", m->sigma2);
		}
		break;
	case SUR_CART: {
		struct flat f;
		int t, q = 0;

		f.nn = cli_calloc(m->ntree, sizeof(int));
		for (t = 0; t < m->ntree; t++)
			tot += f.nn[t] = m->tree[t].nn;
		flat_nodes(&f, tot);
		for (t = 0; t < m->ntree; t++)
			for (i = 0; i < f.nn[t]; i++, q++) {
				f.feat[q] = m->tree[t].feat[i];
				f.left[q] = m->tree[t].left[i];
				f.right[q] = m->tree[t].right[i];
				f.thr[q] = m->tree[t].thr[i];
				f.val[q] = m->tree[t].val[i];
			}
		rec_put_ints(o, "tree_nodes", f.nn, m->ntree);
		rec_put_ints(o, "feat", f.feat, tot);
		rec_put_dbls(o, "thr", f.thr, tot);
		rec_put_dbls(o, "val", f.val, tot);
		rec_put_ints(o, "left", f.left, tot);
		rec_put_ints(o, "right", f.right, tot);
		flat_free(&f);
		break;
	}
	case SUR_MLP:
		rec_put_int(o, "hidden", m->hidden);
		rec_put_dbls(o, "w1", m->w1, m->hidden * m->d);
		rec_put_dbls(o, "b1", m->b1, m->hidden);
		rec_put_dbls(o, "w2", m->w2, m->hidden);
		rec_put_dbl(o, "b2", m->b2);
		break;
	default:
		break;
	}
}

static enum sur_kind
read_kind(const struct rec_in *r, const msgpack_object *rec, const char *key)
{
	char s[16];
	int k;

	rec_str(r, rec, key, s, sizeof(s));
	for (k = 0; sur_kind_names[k]; k++)
		if (strcmp(s, sur_kind_names[k]) == 0)
			return k;
	rec_fail(r, key, "\"%s\" is not one of rbf, gp, cart, mlp, as, const", s);
}

/* Each child index c (per tree, tree after tree) is -1 or a later node of
 * its own tree, so a walk from the root always ends at a leaf. */
static void
read_children(const struct rec_in *r, const char *key, const int *c, const int *nn,
    int ntree)
{
	int t, i, q = 0;

	for (t = 0; t < ntree; t++)
		for (i = 0; i < nn[t]; i++, q++)
			if (c[q] != -1 && (c[q] <= i || c[q] >= nn[t]))
				rec_fail(r, key, "node %d of tree %d points to node %d", i, t, c[q]);
}

void
sur_read(struct sur_model *m, const struct rec_in *r, const msgpack_object *rec)
{
	const msgpack_object *a;
	int i, j, d, n;

	memset(m, 0, sizeof(*m));
	rec_str(r, rec, "target", m->target, sizeof(m->target));
	a = rec_get(rec, "error");
	if (!a || a->type != MSGPACK_OBJECT_BOOLEAN)
		rec_fail(r, "error", "missing or not a boolean");
	m->error = a->via.boolean;
	m->kind = read_kind(r, rec, "kind");
	m->asked = read_kind(r, rec, "asked");
	if (m->kind == SUR_AS)
		rec_fail(r, "kind", "\"as\" is not a fitted model");
	m->seed = (unsigned long)rec_int(r, rec, "seed", 0, LONG_MAX);
	m->folds = (int)rec_int(r, rec, "folds", 0, 1000);
	n = m->n = (int)rec_int(r, rec, "n", 2, 10000000);
	d = m->d = (int)rec_int(r, rec, "d", 1, 100000);
	rec_str(r, rec, "note", m->note, sizeof(m->note));
	a = rec_arr(r, rec, "x", n);
	count(r, rec, "y", n, 1);
	count(r, rec, "x_mean", d, 1);
	for (i = 0; i < n; i++)
		if (a->via.array.ptr[i].type != MSGPACK_OBJECT_ARRAY ||
		    a->via.array.ptr[i].via.array.size != (uint32_t)d)
			rec_fail(r, "x", "row %d is not an array of %d numbers", i, d);
	m->x = cli_calloc((size_t)n * d, sizeof(double));
	m->y = cli_calloc(n, sizeof(double));
	m->xm = cli_calloc(d, sizeof(double));
	m->xs = cli_calloc(d, sizeof(double));
	for (i = 0; i < n; i++) {
		const msgpack_object *row = &a->via.array.ptr[i];

		for (j = 0; j < d; j++) {
			if (!rec_isnum(&row->via.array.ptr[j]) ||
			    !isfinite(rec_num(&row->via.array.ptr[j])))
				rec_fail(r, "x", "row %d, element %d is not a finite number", i, j);
			m->x[(size_t)i * d + j] = rec_num(&row->via.array.ptr[j]);
		}
	}
	rec_dbls(r, rec, "y", m->y, n, FIN);
	rec_dbls(r, rec, "x_mean", m->xm, d, FIN);
	rec_dbls(r, rec, "x_scale", m->xs, d, DBL_MIN, DBL_MAX);
	m->ym = rec_dbl(r, rec, "y_mean", FIN);
	m->ys = rec_dbl(r, rec, "y_scale", DBL_MIN, DBL_MAX);
	switch (m->kind) {
	case SUR_RBF:
	case SUR_GP:
		a = rec_arr(r, rec, "centres", -1);
		m->nc = (int)a->via.array.size;
		if (m->nc < 1 || m->nc > n)
			rec_fail(r, "centres", "has %d elements, not 1 to %d", m->nc, n);
		m->cidx = cli_calloc(m->nc, sizeof(int));
		rec_ints(r, rec, "centres", m->cidx, m->nc, 0, n - 1);
		m->cz = cli_calloc((size_t)m->nc * d, sizeof(double));
		for (i = 0; i < m->nc; i++)
			sur_zscore(m->cz + (size_t)i * d, m, m->x + (size_t)m->cidx[i] * d);
		a = rec_arr(r, rec, "tail", -1);
		m->ntail = (int)a->via.array.size;
		if (m->ntail > d)
			rec_fail(r, "tail", "has %d elements, more than d = %d", m->ntail, d);
		m->tail = cli_calloc((size_t)m->ntail + 1, sizeof(int));
		rec_ints(r, rec, "tail", m->tail, m->ntail, 0, d - 1);
		m->w = cli_calloc(count(r, rec, "w", m->nc, 1), sizeof(double));
		rec_dbls(r, rec, "w", m->w, m->nc, FIN);
		m->beta = cli_calloc(count(r, rec, "beta", m->ntail + 1, 1), sizeof(double));
		rec_dbls(r, rec, "beta", m->beta, m->ntail + 1, FIN);
		if (m->kind == SUR_GP) {
			m->theta = cli_calloc(count(r, rec, "theta", d, 1), sizeof(double));
			rec_dbls(r, rec, "theta", m->theta, d, 0, DBL_MAX);
			m->sigma2 = rec_dbl(r, rec, "sigma2", 0, DBL_MAX);
		}
		break;
	case SUR_CART: {
		struct flat f;
		int tot = 0, t, q = 0;

		a = rec_arr(r, rec, "tree_nodes", -1);
		m->ntree = (int)a->via.array.size;
		if (m->ntree < 1)
			rec_fail(r, "tree_nodes", "is empty");
		f.nn = cli_calloc(m->ntree, sizeof(int));
		rec_ints(r, rec, "tree_nodes", f.nn, m->ntree, 1, INT_MAX / 2);
		for (t = 0; t < m->ntree; t++) {
			if (tot > INT_MAX / 4 - f.nn[t])
				rec_fail(r, "tree_nodes", "too many nodes");
			tot += f.nn[t];
		}
		count(r, rec, "feat", tot, 1);
		count(r, rec, "thr", tot, 1);
		count(r, rec, "val", tot, 1);
		count(r, rec, "left", tot, 1);
		count(r, rec, "right", tot, 1);
		flat_nodes(&f, tot);
		rec_ints(r, rec, "feat", f.feat, tot, -1, d - 1);
		rec_dbls(r, rec, "thr", f.thr, tot, FIN);
		rec_dbls(r, rec, "val", f.val, tot, FIN);
		rec_ints(r, rec, "left", f.left, tot, -1, INT_MAX);
		rec_ints(r, rec, "right", f.right, tot, -1, INT_MAX);
		read_children(r, "left", f.left, f.nn, m->ntree);
		read_children(r, "right", f.right, f.nn, m->ntree);
		m->tree = cli_calloc(m->ntree, sizeof(struct sur_tree));
		for (t = 0; t < m->ntree; t++) {
			struct sur_tree *tr = m->tree + t;
			int n = tr->nn = f.nn[t];

			tr->feat = cli_calloc(n, sizeof(int));
			tr->left = cli_calloc(n, sizeof(int));
			tr->right = cli_calloc(n, sizeof(int));
			tr->thr = cli_calloc(n, sizeof(double));
			tr->val = cli_calloc(n, sizeof(double));
			for (i = 0; i < n; i++, q++) {
				if (f.feat[q] >= 0 && (f.left[q] < 0 || f.right[q] < 0))
					rec_fail(r, "feat", "split node %d of tree %d lacks a child", i, t);
				tr->feat[i] = f.feat[q];
				tr->left[i] = f.left[q];
				tr->right[i] = f.right[q];
				tr->thr[i] = f.thr[q];
				tr->val[i] = f.val[q];
			}
		}
		flat_free(&f);
		break;
	}
	case SUR_MLP: {
		int nw = 0;

		m->hidden = (int)rec_int(r, rec, "hidden", 1, 100000);
		nw = count(r, rec, "w1", m->hidden, d);
		count(r, rec, "b1", m->hidden, 1);
		count(r, rec, "w2", m->hidden, 1);
		m->w1 = cli_calloc((size_t)nw + 2 * (size_t)m->hidden, sizeof(double));
		m->b1 = m->w1 + nw;
		m->w2 = m->b1 + m->hidden;
		rec_dbls(r, rec, "w1", m->w1, nw, FIN);
		rec_dbls(r, rec, "b1", m->b1, m->hidden, FIN);
		rec_dbls(r, rec, "w2", m->w2, m->hidden, FIN);
		m->b2 = rec_dbl(r, rec, "b2", FIN);
		break;
	}
	default:
		break;
	}
}
