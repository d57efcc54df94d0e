/* super.c - see super.h. */
#include "super.h"

#include <err.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nachos.h"

#define KMAX 7
#define MAX_WIN 8                /* pool windows 1, 2, ..., 128 */

/* The exit heads: per window P, a model of the all-max net whose
 * intermediate exits that fit P all pool by P, built for its head tensors'
 * shapes and (init) their model_init values from seed. Without init the
 * tensors are registered as exits.E.poolP.*; with init the values go to
 * the offsets registered, in the same order. */
static void
heads_walk(struct super *s, int init, uint64_t seed)
{
	struct arch_net net;
	int j, i, h = 0;

	arch_net_build(&net, &s->a);
	for (j = 0; j < MAX_WIN; j++) {
		struct arch_net n = net;
		struct model m;
		int P = 1 << j;

		n.nexit = 0;
		for (i = 0; i < net.nexit - 1; i++) {
			struct arch_exit x = net.ex[i];

			if (P > x.h || P > x.w)
				continue;
			x.pool = P, x.hp = x.h / P, x.wp = x.w / P;
			n.ex[n.nexit++] = x;
		}
		if (n.nexit == 0)
			break;
		n.ex[n.nexit++] = net.ex[net.nexit - 1];
		model_build(&m, &n, 0, 1);
		if (init)
			model_init(&m, seed + 7919u * (uint64_t)(j + 1));
		for (i = 0; i < m.ntensor; i++) {
			const struct model_tensor *t = &m.t[i];
			struct model_tensor *T;
			char rest[48];
			int E;

			if (sscanf(t->name, "exits.%d.%47s", &E, rest) != 2)
				continue;
			if (init) {
				memcpy(s->hp + s->ht[h++].off, m.param + t->off, t->n * sizeof(float));
				continue;
			}
			if (s->nh == SUPER_MAX_HT)
				errx(EX_SOFTWARE, "super: more than %d head tensors", SUPER_MAX_HT);
			T = &s->ht[s->nh++];
			*T = *t;
			snprintf(T->name, sizeof(T->name), "exits.%d.pool%d.%s", E, P, rest);
			T->off = s->nhp;
			s->nhp += t->n;
		}
		model_free(&m);
	}
}

static void
heads_free(struct super *s)
{
	free(s->ht), free(s->hp), free(s->hg);
	s->ht = NULL, s->hp = s->hg = NULL;
	s->nh = 0, s->nhp = 0;
}

void
super_build(struct super *s, double width, int res, int in_ch, int classes, int heads)
{
	struct arch_net net;
	int i;

	memset(s, 0, sizeof(*s));
	arch_extreme(&s->a, ARCH_NACHOS, 1);
	s->a.width = width;
	s->a.resolution = res;
	s->a.in_ch = in_ch;
	s->a.classes = classes;
	arch_net_build(&net, &s->a);
	/* The supernet model only holds weights; subnets do the computing. */
	model_build(&s->m, &net, MODEL_BACKBONE_ONLY, 1);
	for (i = 0; i < SUPER_NKT; i++) {
		struct model_tensor *t = &s->kt[i];
		int k = i % 2 ? 3 : 5;

		snprintf(t->name, sizeof(t->name), "blocks.%d.conv.depth_conv.conv.%s_matrix",
		    i / 2 + 1, i % 2 ? "5to3" : "7to5");
		t->ndim = 2;
		t->shape[0] = t->shape[1] = k * k;
		t->n = k * k * k * k;
		t->off = s->nkt;
		t->flags = MT_TRAIN;
		s->nkt += t->n;
	}
	s->ktp = calloc(s->nkt, sizeof(float));
	s->ktg = calloc(s->nkt, sizeof(float));
	if (s->ktp == NULL || s->ktg == NULL)
		err(EX_SOFTWARE, "super");
	if (heads) {
		s->ht = cli_calloc(SUPER_MAX_HT, sizeof(*s->ht));
		heads_walk(s, 0, 0);
		s->hp = cli_calloc(s->nhp, sizeof(float));
		s->hg = cli_calloc(s->nhp, sizeof(float));
	}
}

void
super_free(struct super *s)
{
	model_free(&s->m);
	free(s->ktp);
	free(s->ktg);
	heads_free(s);
	memset(s, 0, sizeof(*s));
}

void
super_init(struct super *s, uint64_t seed)
{
	int i, j;

	model_init(&s->m, seed);
	memset(s->ktp, 0, s->nkt * sizeof(float));
	for (i = 0; i < SUPER_NKT; i++)
		for (j = 0; j < s->kt[i].shape[0]; j++)
			s->ktp[s->kt[i].off + (long)j * s->kt[i].shape[0] + j] = 1;
	if (s->nh)
		heads_walk(s, 1, seed);
}

void
super_zero_grad(struct super *s)
{
	model_zero_grad(&s->m);
	memset(s->ktg, 0, s->nkt * sizeof(float));
	if (s->nh)
		memset(s->hg, 0, s->nhp * sizeof(float));
}

const char *
super_check(const struct super *s, const struct arch *a, char *why, size_t n)
{
	if (fabs(a->width - s->a.width) > 1e-9) {
		snprintf(why, n, "%g, but the supernet has width %g", a->width, s->a.width);
		return "width";
	}
	if (a->in_ch != s->a.in_ch) {
		snprintf(why, n, "%d, but the supernet has %d input channels", a->in_ch,
		    s->a.in_ch);
		return "in_ch";
	}
	if (a->classes != s->a.classes) {
		snprintf(why, n, "%d, but the supernet has %d classes", a->classes,
		    s->a.classes);
		return "classes";
	}
	return NULL;
}

static int
ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* The supernet tensor of sub tensor t with its weights' and gradients'
 * arenas, or NULL for an exit head the supernet does not give (header). */
static const struct model_tensor *
peer(const struct super *s, const struct model *sub, const struct model_tensor *t,
    float **p, float **g)
{
	const struct model_tensor *T;
	char rest[48], nm[96];
	int E, i, P = 0;

	*p = s->m.param, *g = s->m.grad;
	if (strncmp(t->name, "exits.", 6) != 0) {
		if ((T = model_tensor(&s->m, t->name)) == NULL)
			errx(EX_SOFTWARE, "super: the supernet has no tensor %s", t->name);
		return T;
	}
	if (s->nh == 0 || sub->net.a.space == ARCH_AEBNAS)
		return NULL;
	if (sscanf(t->name, "exits.%d.%47s", &E, rest) != 2)
		errx(EX_SOFTWARE, "super: %s is not an exit tensor", t->name);
	for (i = 0; i < sub->net.nexit - 1; i++)
		if (sub->net.ex[i].stage == E + 1)
			P = sub->net.ex[i].pool;
	snprintf(nm, sizeof(nm), "exits.%d.pool%d.%s", E, P, rest);
	for (i = 0; i < s->nh; i++) {
		T = &s->ht[i];
		if (strcmp(T->name, nm) != 0)
			continue;
		/* the same head, or an EDANAS head's first K outputs */
		if (T->ndim != t->ndim || T->shape[0] < t->shape[0] ||
		    memcmp(T->shape + 1, t->shape + 1, (t->ndim - 1) * sizeof(int)) != 0)
			return NULL;
		*p = s->hp, *g = s->hg;
		return T;
	}
	return NULL;                 /* a window the supernet's resolution has not */
}

/* A depthwise kernel smaller than the supernet's: built by the matrices. */
static int
transformed(const struct model_tensor *t, const struct model_tensor *T)
{
	return t->ndim == 4 && t->shape[2] != T->shape[2] &&
	    ends_with(t->name, "depth_conv.conv.weight");
}

/* Shape as 4 dims (trailing 1s). */
static void
dims(int *d, const struct model_tensor *t)
{
	int i;

	for (i = 0; i < 4; i++)
		d[i] = i < t->ndim ? t->shape[i] : 1;
}

/* Leading sub-block copy between a small tensor (shape d) and a large one
 * (shape D): sub = big[:d0, :d1, :d2, :d3] when back = 0, else
 * big[...] += sub. Kernel dims are equal whenever this is used, so each
 * of the d0 rows is one contiguous run of d1*d2*d3 floats in both. */
static void
slice(float *small, float *big, const int *d, const int *D, int back)
{
	long i0, j, row = (long)d[1] * d[2] * d[3], Row = (long)D[1] * D[2] * D[3];

	if (d[2] != D[2] || d[3] != D[3])
		errx(EX_SOFTWARE, "super: kernel %dx%d cannot be sliced from %dx%d",
		    d[2], d[3], D[2], D[3]);
	for (i0 = 0; i0 < d[0]; i0++) {
		float *p = small + i0 * row, *q = big + i0 * Row;

		if (!back)
			memcpy(p, q, row * sizeof(float));
		else
			for (j = 0; j < row; j++)
				q[j] += p[j];
	}
}

static float *
scratch(long n)
{
	float *p = calloc(n ? n : 1, sizeof(float));

	if (p == NULL)
		err(EX_SOFTWARE, "super");
	return p;
}

/* Slot of a blocks.B.* name. */
static int
slot_of(const char *name)
{
	int b;

	if (sscanf(name, "blocks.%d.", &b) != 1 || b < 1 || b > ARCH_SLOTS)
		errx(EX_SOFTWARE, "super: %s is not a block tensor", name);
	return b - 1;
}

/* Kernel k (5 or 3) of C channels from the 7x7 kernels W (C, 49). */
static void
kernel_fwd(float *out /* (C, k*k) */, const struct super *s, const float *W /* (C, 49) */,
    int slot, int C, int k)
{
	const float *M75 = s->ktp + s->kt[2 * slot].off, *M53 = s->ktp + s->kt[2 * slot + 1].off;
	float *t5;

	if (k == 5) {
		nn_ktrans_fwd(out, W, M75, C, KMAX, 5);
		return;
	}
	t5 = scratch((long)C * 25);
	nn_ktrans_fwd(t5, W, M75, C, KMAX, 5);
	nn_ktrans_fwd(out, t5, M53, C, 5, 3);
	free(t5);
}

/* Adjoint of kernel_fwd: dW (C, 49) and the matrices' gradients += from
 * dout (C, k*k). */
static void
kernel_bwd(struct super *s, float *dW, const float *dout, const float *W, int slot,
    int C, int k)
{
	const float *M75 = s->ktp + s->kt[2 * slot].off, *M53 = s->ktp + s->kt[2 * slot + 1].off;
	float *dM75 = s->ktg + s->kt[2 * slot].off, *dM53 = s->ktg + s->kt[2 * slot + 1].off;
	float *t5, *d5;

	if (k == 5) {
		nn_ktrans_bwd(dW, dM75, dout, W, M75, C, KMAX, 5);
		return;
	}
	t5 = scratch((long)C * 25);
	d5 = scratch((long)C * 25);
	nn_ktrans_fwd(t5, W, M75, C, KMAX, 5);
	nn_ktrans_bwd(d5, dM53, dout, t5, M53, C, 5, 3);
	nn_ktrans_bwd(dW, dM75, d5, W, M75, C, KMAX, 5);
	free(t5);
	free(d5);
}

void
super_extract(struct model *sub, const struct super *s)
{
	int i, d[4], D[4];

	for (i = 0; i < sub->ntensor; i++) {
		const struct model_tensor *t = &sub->t[i], *T;
		float *big, *g;

		if ((T = peer(s, sub, t, &big, &g)) == NULL)
			continue;
		big += T->off;
		dims(d, t), dims(D, T);
		if (transformed(t, T))
			kernel_fwd(sub->param + t->off, s, big, slot_of(t->name), d[0], d[2]);
		else
			slice(sub->param + t->off, big, d, D, 0);
	}
}

int
super_heads_fit(const struct super *s, const struct model *sub)
{
	float *p, *g;
	int i;

	if (s->nh == 0 || sub->net.a.space == ARCH_AEBNAS)
		return 0;
	for (i = 0; i < sub->ntensor; i++)
		if (strncmp(sub->t[i].name, "exits.", 6) == 0 &&
		    peer(s, sub, &sub->t[i], &p, &g) == NULL)
			return 0;
	return 1;
}

void
super_backprop(struct super *s, const struct model *sub)
{
	int i, d[4], D[4];

	for (i = 0; i < sub->ntensor; i++) {
		const struct model_tensor *t = &sub->t[i], *T;
		float *p, *g;

		if ((T = peer(s, sub, t, &p, &g)) == NULL || !(t->flags & MT_TRAIN))
			continue;
		dims(d, t), dims(D, T);
		if (transformed(t, T))
			kernel_bwd(s, g + T->off, sub->grad + t->off, p + T->off,
			    slot_of(t->name), d[0], d[2]);
		else
			slice(sub->grad + t->off, g + T->off, d, D, 1);
	}
}

void
super_store_stats(struct super *s, const struct model *sub)
{
	int i;

	for (i = 0; i < sub->ntensor; i++) {
		const struct model_tensor *t = &sub->t[i], *T;
		float *p, *g;

		if (!(t->flags & MT_BUFFER) || (T = peer(s, sub, t, &p, &g)) == NULL)
			continue;
		memcpy(p + T->off, sub->param + t->off, t->n * sizeof(float));
	}
}

/* Rows of a (rows, len) tensor in the order perm: new row i = old perm[i]
 * (cols = 0), or its columns of (rows, cols, len) likewise (cols > 0). */
static void
permute(float *p, const int *perm, int rows, int cols, long len, float *tmp)
{
	long i, j;

	if (cols == 0) {
		for (i = 0; i < rows; i++)
			memcpy(tmp + i * len, p + perm[i] * len, len * sizeof(float));
		memcpy(p, tmp, rows * len * sizeof(float));
		return;
	}
	for (i = 0; i < rows; i++) {
		float *r = p + i * cols * len;

		for (j = 0; j < cols; j++)
			memcpy(tmp + j * len, r + perm[j] * len, len * sizeof(float));
		memcpy(r, tmp, cols * len * sizeof(float));
	}
}

static const float *sort_key;

static int
by_key(const void *a, const void *b)
{
	float x = sort_key[*(const int *)a], y = sort_key[*(const int *)b];

	/* largest first; ties keep their order */
	return x < y ? 1 : x > y ? -1 : *(const int *)a - *(const int *)b;
}

void
super_sort_channels(struct super *s, float *buf)
{
	static const char *const rows[] = {
		"inverted_bottleneck.conv.weight", "inverted_bottleneck.bn.weight",
		"inverted_bottleneck.bn.bias", "inverted_bottleneck.bn.running_mean",
		"inverted_bottleneck.bn.running_var", "depth_conv.conv.weight",
		"depth_conv.bn.weight", "depth_conv.bn.bias", "depth_conv.bn.running_mean",
		"depth_conv.bn.running_var", "depth_conv.se.fc.expand.weight",
		"depth_conv.se.fc.expand.bias", NULL };
	static const char *const cols[] = {
		"depth_conv.se.fc.reduce.weight", "point_linear.conv.weight", NULL };
	const struct arch_net *n = &s->m.net;
	int b, i, j, a;

	for (b = 0; b < n->nblk; b++) {
		const struct arch_block *k = &n->blk[b];
		const struct model_tensor *pl;
		float *imp, *tmp;
		int *perm, id = k->slot + 1;
		char nm[96];

		if (k->stage == 0)
			continue;       /* the first block has no elastic width */
		snprintf(nm, sizeof(nm), "blocks.%d.conv.point_linear.conv.weight", id);
		pl = model_tensor(&s->m, nm);
		imp = scratch(k->mid);
		perm = calloc(k->mid, sizeof(int));
		/* the longest row: the depthwise kernel, the expand conv's input
		 * or the SE expand conv's input */
		tmp = scratch((long)k->mid * (KMAX * KMAX + k->cin + k->se_mid));
		if (perm == NULL)
			err(EX_SOFTWARE, "super");
		for (i = 0; i < k->cout; i++)
			for (j = 0; j < k->mid; j++)
				imp[j] += fabsf(s->m.param[pl->off + (long)i * k->mid + j]);
		for (j = 0; j < k->mid; j++)
			perm[j] = j;
		sort_key = imp;
		qsort(perm, k->mid, sizeof(int), by_key);
		for (a = 0; a < 2; a++) {
			float *base = a ? buf : s->m.param;

			if (base == NULL)
				continue;
			for (i = 0; rows[i]; i++) {
				const struct model_tensor *t;

				snprintf(nm, sizeof(nm), "blocks.%d.conv.%s", id, rows[i]);
				if ((t = model_tensor(&s->m, nm)) != NULL)
					permute(base + t->off, perm, k->mid, 0, t->n / k->mid, tmp);
			}
			for (i = 0; cols[i]; i++) {
				const struct model_tensor *t;

				snprintf(nm, sizeof(nm), "blocks.%d.conv.%s", id, cols[i]);
				if ((t = model_tensor(&s->m, nm)) != NULL)
					permute(base + t->off, perm, t->shape[0], k->mid, 1, tmp);
			}
		}
		free(imp), free(perm), free(tmp);
	}
}

void
super_bn_calib(struct model *m, const struct data_set *d, const int32_t *idx, long n,
    const struct data_norm *nm)
{
	int B = m->max_batch, C = m->net.in_ch, R = m->net.res;
	float *x = scratch((long)C * B * R * R), mom = m->bn_momentum;
	int *y = calloc(B, sizeof(int));
	long done;

	if (y == NULL)
		err(EX_SOFTWARE, "super");
	/* Running statistics as the sample-weighted average over the batches:
	 * batch b enters with momentum N_b / (N_1 + ... + N_b), so the first
	 * batch replaces whatever the statistics held. */
	for (done = 0; done < n; done += B) {
		int N = n - done < B ? (int)(n - done) : B;

		data_batch(x, y, d, idx + done, N, C, R, nm, NULL, NULL);
		m->bn_momentum = (float)N / (float)(done + N);
		model_forward(m, x, N, 1);
	}
	m->bn_momentum = mom;
	free(x);
	free(y);
}

int
super_tables(struct ckpt_table *tab, const struct super *s, const char *prefix,
    float *mbase, float *kbase, float *hbase)
{
	tab[0].prefix = prefix;
	tab[0].t = s->m.t;
	tab[0].n = s->m.ntensor;
	tab[0].base = mbase;
	tab[1].prefix = prefix;
	tab[1].t = s->kt;
	tab[1].n = SUPER_NKT;
	tab[1].base = kbase;
	if (s->nh == 0)
		return 2;
	tab[2].prefix = prefix;
	tab[2].t = s->ht;
	tab[2].n = s->nh;
	tab[2].base = hbase;
	return 3;
}

void
super_save(const char *path, const struct super *s, const struct ckpt_table *more,
    int nmore, long step, const msgpack_object *extra)
{
	struct ckpt_table tab[8];
	int i, nt;

	if (nmore > 5)
		errx(EX_SOFTWARE, "super_save: %d extra tables", nmore);
	nt = super_tables(tab, s, "", s->m.param, s->ktp, s->hp);
	for (i = 0; i < nmore; i++)
		tab[nt + i] = more[i];
	ckpt_write(path, NULL, &s->a, tab, nt + nmore, (long)s->m.seed, step, extra);
}

void
super_open(struct super *s, const struct ckpt *c)
{
	struct ckpt_table tab[3];
	struct arch a, mx;
	int got;

	ckpt_arch(c, &a);
	arch_extreme(&mx, a.space, 1);
	if (memcmp(a.ks, mx.ks, sizeof(a.ks)) || memcmp(a.e, mx.e, sizeof(a.e)) ||
	    memcmp(a.d, mx.d, sizeof(a.d)))
		rec_fail(&c->r, "arch", "not the all-max network (k7 e6 d4): not a supernet");
	super_build(s, a.width, a.resolution, a.in_ch, a.classes, 1);
	super_tables(tab, s, "", s->m.param, s->ktp, s->hp);
	ckpt_read_table(c, &tab[0], CKPT_ALLOW_EXTRA);
	ckpt_read_table(c, &tab[1], CKPT_ALLOW_EXTRA);
	got = ckpt_read_table(c, &tab[2], CKPT_ALLOW_EXTRA | CKPT_ALLOW_MISSING);
	if (got == 0)
		heads_free(s);          /* a supernet without exit heads */
	else if (got != s->nh)
		rec_fail(&c->r, "tensors", "%d of the supernet's %d exit-head tensors "
		    "(exits.E.poolP.*): a damaged checkpoint", got, s->nh);
	s->m.seed = (uint64_t)c->seed;
}

void
super_load(struct super *s, const char *path)
{
	struct ckpt c;

	ckpt_open(&c, path);
	super_open(s, &c);
	ckpt_close(&c);
}
