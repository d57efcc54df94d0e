/* sur_rec.c - a fitted model as the keys of a "model" record (formats/model.md). */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
	f->feat = malloc(sizeof(int) * 3 * tot);
	f->left = f->feat + tot;
	f->right = f->left + tot;
	f->thr = malloc(sizeof(double) * 2 * tot);
	f->val = f->thr + tot;
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

		f.nn = malloc(sizeof(int) * m->ntree);
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
	m->x = malloc(sizeof(double) * n * d);
	m->y = malloc(sizeof(double) * n);
	m->xm = malloc(sizeof(double) * d);
	m->xs = malloc(sizeof(double) * d);
	a = rec_arr(r, rec, "x", n);
	for (i = 0; i < n; i++) {
		const msgpack_object *row = &a->via.array.ptr[i];

		if (row->type != MSGPACK_OBJECT_ARRAY || row->via.array.size != (uint32_t)d)
			rec_fail(r, "x", "row %d is not an array of %d numbers", i, d);
		for (j = 0; j < d; j++) {
			if (!rec_isnum(&row->via.array.ptr[j]) ||
			    !isfinite(rec_num(&row->via.array.ptr[j])))
				rec_fail(r, "x", "row %d, element %d is not a finite number", i, j);
			m->x[i * d + j] = rec_num(&row->via.array.ptr[j]);
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
		m->cidx = malloc(sizeof(int) * m->nc);
		rec_ints(r, rec, "centres", m->cidx, m->nc, 0, n - 1);
		m->cz = malloc(sizeof(double) * m->nc * d);
		for (i = 0; i < m->nc; i++)
			sur_zscore(m->cz + i * d, m, m->x + m->cidx[i] * d);
		a = rec_arr(r, rec, "tail", -1);
		m->ntail = (int)a->via.array.size;
		if (m->ntail > d)
			rec_fail(r, "tail", "has %d elements, more than d = %d", m->ntail, d);
		m->tail = malloc(sizeof(int) * (m->ntail + 1));
		rec_ints(r, rec, "tail", m->tail, m->ntail, 0, d - 1);
		m->w = malloc(sizeof(double) * m->nc);
		rec_dbls(r, rec, "w", m->w, m->nc, FIN);
		m->beta = malloc(sizeof(double) * (m->ntail + 1));
		rec_dbls(r, rec, "beta", m->beta, m->ntail + 1, FIN);
		if (m->kind == SUR_GP) {
			m->theta = malloc(sizeof(double) * d);
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
		f.nn = malloc(sizeof(int) * m->ntree);
		rec_ints(r, rec, "tree_nodes", f.nn, m->ntree, 1, INT_MAX / 2);
		for (t = 0; t < m->ntree; t++) {
			if (tot > INT_MAX / 2 - f.nn[t])
				rec_fail(r, "tree_nodes", "too many nodes");
			tot += f.nn[t];
		}
		flat_nodes(&f, tot);
		rec_ints(r, rec, "feat", f.feat, tot, -1, d - 1);
		rec_dbls(r, rec, "thr", f.thr, tot, FIN);
		rec_dbls(r, rec, "val", f.val, tot, FIN);
		rec_ints(r, rec, "left", f.left, tot, -1, INT_MAX);
		rec_ints(r, rec, "right", f.right, tot, -1, INT_MAX);
		read_children(r, "left", f.left, f.nn, m->ntree);
		read_children(r, "right", f.right, f.nn, m->ntree);
		m->tree = calloc(m->ntree, sizeof(struct sur_tree));
		for (t = 0; t < m->ntree; t++) {
			struct sur_tree *tr = m->tree + t;
			int n = tr->nn = f.nn[t];

			tr->feat = malloc(sizeof(int) * n);
			tr->left = malloc(sizeof(int) * n);
			tr->right = malloc(sizeof(int) * n);
			tr->thr = malloc(sizeof(double) * n);
			tr->val = malloc(sizeof(double) * n);
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
	case SUR_MLP:
		m->hidden = (int)rec_int(r, rec, "hidden", 1, 100000);
		m->w1 = malloc(sizeof(double) * (m->hidden * (d + 2)));
		m->b1 = m->w1 + m->hidden * d;
		m->w2 = m->b1 + m->hidden;
		rec_dbls(r, rec, "w1", m->w1, m->hidden * d, FIN);
		rec_dbls(r, rec, "b1", m->b1, m->hidden, FIN);
		rec_dbls(r, rec, "w2", m->w2, m->hidden, FIN);
		m->b2 = rec_dbl(r, rec, "b2", FIN);
		break;
	default:
		break;
	}
}
