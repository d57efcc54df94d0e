/*
 * model.c - see model.h. The network is a flat list of ops (one nn.h layer
 * each) over offsets into the activation arena: the backbone first, then
 * every head in exit order. Forward walks the list; backward walks each head
 * back to its input features (into dfeat), then the backbone back to the
 * input, adding each exit's dfeat where its features were produced and each
 * block's shortcut gradient at the block's input.
 */
#include "model.h"

#include <err.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "nachos.h"

enum { L_CONV, L_DW, L_BN, L_ACT, L_SE, L_ADD, L_GAP, L_POOL, L_FLAT, L_LIN, L_DROP };

#define X_IN (-1L)         /* op input is the caller's x, not the arena */
#define V0 (-2L)           /* output in recompute buffer 0 (see virt()) */
#define V1 (-3L)           /* ... buffer 1 */
#define VIRT(o) ((o) == V0 || (o) == V1)

struct model_op {
	int kind;
	int act;               /* L_ACT, L_BN (fused, NN_ID for none): enum nn_act */
	int w, b;              /* tensor indices (-1 none); BN: w = gamma, w+1..w+3
	                        * beta, running mean, running var; SE: w, b reduce,
	                        * w+2, w+3 expand */
	int ci, h, wd;         /* input channels, map (per sample: ci*h*wd) */
	int co, ho, wo;        /* output */
	int k, s, p;           /* kernel, stride, padding; pool window in k */
	int se_mid;
	long in, out;          /* activation offsets, (C, N, H, W) at max_batch */
	long res;              /* L_ADD: shortcut input */
	long ein, eout, eres;  /* the same in eval mode, where BN, activations
	                        * and dropout run in place when they may */
	long mean, rstd;       /* L_BN: batch statistics */
	long argmax;           /* L_POOL: the int32 argmax of each output */
	long mask;             /* L_DROP: the uint8 keep mask */
	long se_p, se_r, se_rr, se_e, se_s; /* L_SE, each (C, N) */
	long pk;               /* L_CONV: its packed weights in m->pack, -1 none */
	long fk;               /* L_CONV, L_DW: at batch 1, the BN after it folded
	                        * in: weights (nn_b1_pack) then bias in m->pack,
	                        * -1 none */
	int b1skip;            /* L_BN: at batch 1, done by the op before (fk) */
};

#define ALIGN 16           /* floats: 64-byte alignment of every block */

static long
aligned(long n)
{
	return (n + ALIGN - 1) / ALIGN * ALIGN;
}

/* Arenas of 2 MB or more sit on huge pages where the kernel gives them
 * (transparent huge pages in "madvise" mode, Debian's default): a batch-1
 * forward of all-max streams 25 MB of weights, which on 4 KB pages is
 * 6000 TLB misses an image; measured 0.98 against 1.17 ms at best. */
#define HUGE_PAGE (2L << 20)

static float *
arena(long n)
{
	void *p = NULL;
	size_t sz = (size_t)(n ? n : 1) * sizeof(float);
	int huge = sz >= (size_t)HUGE_PAGE;

	if (posix_memalign(&p, huge ? HUGE_PAGE : 64, sz))
		errx(EX_SOFTWARE, "model: out of memory (%ld floats)", n);
#ifdef MADV_HUGEPAGE
	if (huge)
		(void)madvise(p, sz, MADV_HUGEPAGE);   /* a hint: refused is fine */
#endif
	memset(p, 0, sz);
	return p;
}

/* ---- building ---- */

struct builder {
	struct model *m;
	int cap_t, cap_op;
	long nact;              /* activation floats allocated so far */
	long maxg;              /* largest per-sample activation (scratch size) */
	long maxres;            /* largest per-sample block output with a shortcut */
	long maxvirt;           /* largest per-sample recomputed output */
	int maxbn;              /* widest BN */
	int maxse;              /* largest SE width */
	long feat[MODEL_MAX_EXITS];   /* each head's input and logits: arena offsets */
	long logits[MODEL_MAX_EXITS]; /* until the arena exists */
};

static int
add_tensor(struct builder *B, int flags, int ndim, int s0, int s1, int s2, int s3,
    const char *fmt, ...) __attribute__((format(printf, 8, 9)));

static int
add_tensor(struct builder *B, int flags, int ndim, int s0, int s1, int s2, int s3,
    const char *fmt, ...)
{
	struct model *m = B->m;
	struct model_tensor *t;
	va_list ap;
	int i;

	if (m->ntensor == B->cap_t) {
		B->cap_t = B->cap_t ? 2 * B->cap_t : 64;
		m->t = realloc(m->t, B->cap_t * sizeof(*m->t));
		if (m->t == NULL)
			err(EX_SOFTWARE, "model");
	}
	t = &m->t[m->ntensor];
	memset(t, 0, sizeof(*t));
	va_start(ap, fmt);
	vsnprintf(t->name, sizeof(t->name), fmt, ap);
	va_end(ap);
	t->ndim = ndim;
	t->shape[0] = s0, t->shape[1] = s1, t->shape[2] = s2, t->shape[3] = s3;
	t->n = 1;
	for (i = 0; i < ndim; i++)
		t->n *= t->shape[i];
	t->off = m->nparam;
	t->flags = flags;
	m->nparam += aligned(t->n);
	return m->ntensor++;
}

static long
act_alloc(struct builder *B, long per_sample)
{
	long o = B->nact;

	B->nact += aligned(per_sample * B->m->max_batch);
	if (per_sample > B->maxg)
		B->maxg = per_sample;
	return o;
}

static long
small_alloc(struct builder *B, long n)
{
	long o = B->nact;

	B->nact += aligned(n);
	return o;
}

static struct model_op *
add_op(struct builder *B, int kind, long in, int ci, int h, int wd)
{
	struct model *m = B->m;
	struct model_op *o;

	if (m->nop == B->cap_op) {
		B->cap_op = B->cap_op ? 2 * B->cap_op : 128;
		m->op = realloc(m->op, B->cap_op * sizeof(*m->op));
		if (m->op == NULL)
			err(EX_SOFTWARE, "model");
	}
	o = &m->op[m->nop++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->w = o->b = -1;
	o->pk = -1;
	o->fk = -1;
	o->in = in;
	o->ci = o->co = ci;
	o->h = o->ho = h;
	o->wd = o->wo = wd;
	if ((long)ci * h * wd > B->maxg)
		B->maxg = (long)ci * h * wd;
	return o;
}

/* Output buffer of the op just set up. */
static long
op_out(struct builder *B, struct model_op *o)
{
	o->out = act_alloc(B, (long)o->co * o->ho * o->wo);
	return o->out;
}

static long
conv(struct builder *B, long in, int ci, int h, int wd, int co, int k,
    int s, int p, int dw, int wt, int bt)
{
	struct model_op *o = add_op(B, dw ? L_DW : L_CONV, in, ci, h, wd);

	o->co = co;
	o->k = k, o->s = s, o->p = p;
	o->ho = (h + 2 * p - k) / s + 1;
	o->wo = (wd + 2 * p - k) / s + 1;
	o->w = wt, o->b = bt;
	return op_out(B, o);
}

/*
 * Training keeps the inputs of convolutions and BN for the backward, but
 * not the outputs of BN + activation inside a block nor the SE output:
 * they are cheap to rebuild from the stored convolution outputs and the
 * saved batch statistics. Such "virtual" outputs live in one of two shared
 * buffers (V0: BN + activation; V1: the SE multiply) and are recomputed
 * just before the backward of the op that reads them. (BN + activation is
 * one fused op, whose backward recomputes its BN output itself.)
 */
static long
virt(struct builder *B, struct model_op *o, long v)
{
	o->out = v;
	if ((long)o->co * o->ho * o->wo > B->maxvirt)
		B->maxvirt = (long)o->co * o->ho * o->wo;
	return v;
}

static long
bn(struct builder *B, long in, int c, int h, int wd, int gt, int a, int v)
{
	struct model_op *o = add_op(B, L_BN, in, c, h, wd);

	o->w = gt;
	o->act = a;
	o->mean = small_alloc(B, c);
	o->rstd = small_alloc(B, c);
	if (c > B->maxbn)
		B->maxbn = c;
	return v ? virt(B, o, V0) : op_out(B, o);
}

/* In place when the caller says so: a ReLU whose input has no other reader
 * (its backward needs only the sign of its input, which its output keeps,
 * and no op needs its own output for its backward). */
static long
act(struct builder *B, long in, int c, int h, int wd, int a, int inplace)
{
	struct model_op *o = add_op(B, L_ACT, in, c, h, wd);

	o->act = a;
	if (inplace) {
		o->out = in;
		return in;
	}
	return op_out(B, o);
}

static int
bn_tensors(struct builder *B, const char *pre, int c)
{
	int g = add_tensor(B, MT_TRAIN, 1, c, 0, 0, 0, "%s.weight", pre);

	add_tensor(B, MT_TRAIN, 1, c, 0, 0, 0, "%s.bias", pre);
	add_tensor(B, MT_BUFFER, 1, c, 0, 0, 0, "%s.running_mean", pre);
	add_tensor(B, MT_BUFFER, 1, c, 0, 0, 0, "%s.running_var", pre);
	return g;
}

static int
nn_act_of(int a)
{
	return a == ACT_HSWISH ? NN_HSWISH : a == ACT_RELU ? NN_RELU : NN_ID;
}

/* conv (no bias) + BN + act, OFA's ConvLayer / the Sequential(conv, bn, act)
 * parts of MBConv, under name prefix pre. Returns the output offset. */
static long
conv_bn_act(struct builder *B, long in, int ci, int h, int wd, int co,
    int k, int s, int dw, int a, int keep, const char *pre)
{
	char nm[80];
	int wt, g, ho = (h + 2 * (k / 2) - k) / s + 1, wo = (wd + 2 * (k / 2) - k) / s + 1;
	long x;

	snprintf(nm, sizeof(nm), "%s.bn", pre);
	wt = add_tensor(B, MT_TRAIN | MT_DECAY, 4, co, dw ? 1 : ci, k, k, "%s.conv.weight", pre);
	g = bn_tensors(B, nm, co);
	x = conv(B, in, ci, h, wd, co, k, s, k / 2, dw, wt, -1);
	/* keep: the output must be stored (other readers, or outside a block) */
	return bn(B, x, co, ho, wo, g, nn_act_of(a), a != ACT_NONE && !keep);
}

static long
block(struct builder *B, long x, const struct arch_block *b)
{
	char pre[64], nm[80];
	long in = x;
	int id = b->slot + 1;

	if (b->stage > 0) {
		snprintf(pre, sizeof(pre), "blocks.%d.conv.inverted_bottleneck", id);
		x = conv_bn_act(B, x, b->cin, b->hin, b->win, b->mid, 1, 1, 0, b->act, 0, pre);
	}
	snprintf(pre, sizeof(pre), "blocks.%d.conv.depth_conv", id);
	x = conv_bn_act(B, x, b->mid, b->hin, b->win, b->mid, b->k, b->stride, 1,
	    b->act, 0, pre);
	if (b->se) {
		struct model_op *o;

		snprintf(nm, sizeof(nm), "blocks.%d.conv.depth_conv.se.fc", id);
		o = add_op(B, L_SE, x, b->mid, b->hout, b->wout);
		o->se_mid = b->se_mid;
		o->w = add_tensor(B, MT_TRAIN | MT_DECAY, 4, b->se_mid, b->mid, 1, 1,
		    "%s.reduce.weight", nm);
		o->b = add_tensor(B, MT_TRAIN, 1, b->se_mid, 0, 0, 0, "%s.reduce.bias", nm);
		add_tensor(B, MT_TRAIN | MT_DECAY, 4, b->mid, b->se_mid, 1, 1,
		    "%s.expand.weight", nm);
		add_tensor(B, MT_TRAIN, 1, b->mid, 0, 0, 0, "%s.expand.bias", nm);
		o->se_p = small_alloc(B, (long)b->mid * B->m->max_batch);
		o->se_r = small_alloc(B, (long)b->se_mid * B->m->max_batch);
		o->se_rr = small_alloc(B, (long)b->se_mid * B->m->max_batch);
		o->se_e = small_alloc(B, (long)b->mid * B->m->max_batch);
		o->se_s = small_alloc(B, (long)b->mid * B->m->max_batch);
		if (b->mid > B->maxse)
			B->maxse = b->mid;
		x = virt(B, o, V1);
	}
	snprintf(pre, sizeof(pre), "blocks.%d.conv.point_linear", id);
	x = conv_bn_act(B, x, b->mid, b->hout, b->wout, b->cout, 1, 1, 0, ACT_NONE, 1, pre);
	if (b->residual) {
		/* In place on the BN output: BN's backward needs its input only. */
		struct model_op *o = add_op(B, L_ADD, x, b->cout, b->hout, b->wout);

		o->res = in;
		o->out = x;
		if ((long)b->cout * b->hout * b->wout > B->maxres)
			B->maxres = (long)b->cout * b->hout * b->wout;
	}
	return x;
}

static long
linear(struct builder *B, long in, int d, int o_, const char *pre, int bias,
    int ndim)
{
	struct model_op *o = add_op(B, L_LIN, in, d, 1, 1);

	o->co = o_;
	o->w = add_tensor(B, MT_TRAIN | MT_DECAY, ndim, o_, d, 1, 1, "%s.weight", pre);
	if (bias)
		o->b = add_tensor(B, MT_TRAIN, 1, o_, 0, 0, 0, "%s.bias", pre);
	return op_out(B, o);
}

static long
flat(struct builder *B, long in, int c, int h, int wd)
{
	struct model_op *o = add_op(B, L_FLAT, in, c, h, wd);

	o->co = c * h * wd;
	o->ho = o->wo = 1;
	return op_out(B, o);
}

static long
gap(struct builder *B, long in, int c, int h, int wd)
{
	struct model_op *o = add_op(B, L_GAP, in, c, h, wd);

	o->ho = o->wo = 1;
	return op_out(B, o);
}

static long
pool(struct builder *B, long in, int c, int h, int wd, int k)
{
	struct model_op *o = add_op(B, L_POOL, in, c, h, wd);

	o->k = k;
	o->ho = h / k;
	o->wo = wd / k;
	o->argmax = act_alloc(B, (long)c * o->ho * o->wo); /* int32, one float each */
	return op_out(B, o);
}

static void
final_head(struct builder *B, int e, long x, const struct arch_exit *f)
{
	struct arch_net *n = &B->m->net;
	int fe = n->final_expand, fm = n->feature_mix;
	struct model_op *o;

	x = conv_bn_act(B, x, f->c, f->h, f->w, fe, 1, 1, 0, ACT_HSWISH, 1,
	    "final_expand_layer");
	x = gap(B, x, fe, f->h, f->w);
	x = flat(B, x, fe, 1, 1);
	x = linear(B, x, fe, fm, "feature_mix_layer.conv", 0, 4);
	x = act(B, x, fm, 1, 1, NN_HSWISH, 0);
	o = add_op(B, L_DROP, x, fm, 1, 1);
	o->mask = small_alloc(B, ((long)fm * B->m->max_batch + 3) / 4); /* uint8 */
	x = op_out(B, o);
	B->logits[e] = linear(B, x, fm, n->classes,
	    "classifier.linear", 1, 2);
}

static void
nachos_head(struct builder *B, int e, long x, const struct arch_exit *f)
{
	static const int width[3] = { 32, 64, 128 };
	int c = f->c, h = f->hp, wd = f->wp, j, id = f->stage - 1;
	char nm[64];

	if (f->pool > 1)
		x = pool(B, x, f->c, f->h, f->w, f->pool);
	for (j = 0; j < 3; j++) {
		int wt, bt;

		/* the first ReLU reads the features, which the backbone reads too */
		x = act(B, x, c, h, wd, NN_RELU, j > 0 || f->pool > 1);
		wt = add_tensor(B, MT_TRAIN | MT_DECAY, 4, width[j], c, 3, 3,
		    "exits.%d.conv%d.weight", id, j + 1);
		bt = add_tensor(B, MT_TRAIN, 1, width[j], 0, 0, 0, "exits.%d.conv%d.bias",
		    id, j + 1);
		x = conv(B, x, c, h, wd, width[j], 3, 1, 1, 0, wt, bt);
		c = width[j];
	}
	x = act(B, x, c, h, wd, NN_RELU, 1);
	x = flat(B, x, c, h, wd);
	snprintf(nm, sizeof(nm), "exits.%d.linear", id);
	B->logits[e] = linear(B, x, c * h * wd, f->nout, nm, 1, 2);
}

static void
aebnas_head(struct builder *B, int e, long x, const struct arch_exit *f)
{
	const struct arch_mod *md = B->m->net.a.mod[f->stage - 1];
	int c = f->c, h = f->h, wd = f->w, j, id = f->stage - 1;
	char nm[64];

	for (j = 0; j < ARCH_MODS && md[j].present; j++) {
		int co = c * md[j].wm, k = md[j].k;

		snprintf(nm, sizeof(nm), "exits.%d.mods.%d", id, j);
		x = conv_bn_act(B, x, c, h, wd, co, k, 2, 0, ACT_RELU, 1, nm);
		c = co;
		h = (h + 2 * (k / 2) - k) / 2 + 1;
		wd = (wd + 2 * (k / 2) - k) / 2 + 1;
		if (md[j].pool && h >= 2 && wd >= 2) {
			x = pool(B, x, c, h, wd, 2);
			h /= 2, wd /= 2;
		}
	}
	x = gap(B, x, c, h, wd);
	x = flat(B, x, c, 1, 1);
	snprintf(nm, sizeof(nm), "exits.%d.linear", id);
	B->logits[e] = linear(B, x, c, f->nout, nm, 1, 2);
}

/* Eval-mode offsets: without a backward nothing needs the inputs of BN,
 * activations and dropout, so they run in place (less memory traffic) where
 * their input has no other reader and neither buffer must stay put (the
 * features model_feature exposes, the logits, the caller's x). */
static void
plan_eval(struct model *m)
{
	int i, j, e;

	for (i = 0; i < m->nop; i++) {
		struct model_op *o = &m->op[i];
		int readers = 0, fixed = o->in == X_IN;

		/* in's eval location: that of the op that wrote it */
		o->ein = o->in;
		o->eres = o->res;
		for (j = 0; j < i; j++) {
			if (m->op[j].out == o->in)
				o->ein = m->op[j].eout;
			if (o->kind == L_ADD && m->op[j].out == o->res)
				o->eres = m->op[j].eout;
		}
		o->eout = o->out == o->in ? o->ein : o->out;
		if (o->kind != L_BN && o->kind != L_ACT && o->kind != L_DROP)
			continue;
		for (j = 0; j < m->nop; j++)
			readers += (m->op[j].in == o->in) + (m->op[j].kind == L_ADD &&
			    m->op[j].res == o->in);
		for (e = 0; e < m->nexit && !fixed; e++) {
			long fo = m->feat[e] - m->act, lo = m->logits[e] - m->act;

			fixed = o->in == fo || o->out == fo || o->out == lo;
		}
		if (readers == 1 && !fixed)
			o->eout = o->ein;
	}
}

void
model_build(struct model *m, const struct arch_net *net, int flags, int max_batch)
{
	struct builder B = { .m = m };
	long blk_out[ARCH_MAX_BLOCKS], x, col = 0, g;
	int i, j;

	memset(m, 0, sizeof(*m));
	m->net = *net;
	m->flags = flags;
	m->max_batch = max_batch;
	m->bn_momentum = 0.1f;
	m->bn_eps = 1e-5f;
	m->nexit = flags & MODEL_BACKBONE_ONLY ? 1 : net->nexit;
	for (i = 0; i < m->nexit; i++)
		m->exit_at[i] = flags & MODEL_BACKBONE_ONLY ? net->nexit - 1 : i;

	/* Backbone. */
	x = conv_bn_act(&B, X_IN, net->in_ch, net->res, net->res, net->first_ch, 3, 2,
	    0, ACT_HSWISH, 1, "first_conv");
	for (i = 0; i < net->nblk; i++) {
		m->blk_op[i] = m->nop;
		x = blk_out[i] = block(&B, x, &net->blk[i]);
	}
	m->blk_op[net->nblk] = m->nop;

	/* Heads, in exit order. */
	for (i = 0; i < m->nexit; i++) {
		const struct arch_exit *f = &net->ex[m->exit_at[i]];
		long fo = blk_out[f->after];

		m->head_op[i] = m->nop;
		m->feat_c[i] = f->c, m->feat_h[i] = f->h, m->feat_w[i] = f->w;
		B.feat[i] = fo;
		m->nout[i] = f->nout;
		if (m->exit_at[i] == net->nexit - 1)
			final_head(&B, i, fo, f);
		else if (net->a.space == ARCH_AEBNAS)
			aebnas_head(&B, i, fo, f);
		else
			nachos_head(&B, i, fo, f);
	}
	m->head_op[m->nexit] = m->nop;

	/* Scratch: two gradient buffers for the largest activation, two for
	 * shortcut gradients, each exit's dfeat, SE gradients, im2col. */
	for (i = 0; i < m->nop; i++) {
		struct model_op *o = &m->op[i];

		if (o->kind == L_CONV) {
			long c = nn_conv_col_size(max_batch, o->ci, o->h, o->wd, o->k, o->s, o->p);
			if (c > col)
				col = c;
		}
	}
	g = B.maxg * max_batch;
	{
		long gb[2], rb[2], df[MODEL_MAX_EXITS], se, co, rec, var;

		for (j = 0; j < 2; j++) {
			gb[j] = small_alloc(&B, g);
			rb[j] = small_alloc(&B, B.maxres * max_batch);
		}
		for (i = 0; i < m->nexit; i++)
			df[i] = small_alloc(&B, (long)m->feat_c[i] * m->feat_h[i] *
			    m->feat_w[i] * max_batch);
		se = small_alloc(&B, 5L * B.maxse * max_batch);
		co = small_alloc(&B, col);
		rec = small_alloc(&B, 2 * B.maxvirt * max_batch);
		var = small_alloc(&B, B.maxbn);

		m->nact = B.nact;
		m->act = arena(m->nact);
		for (j = 0; j < 2; j++) {
			m->gbuf[j] = m->act + gb[j];
			m->rbuf[j] = m->act + rb[j];
		}
		for (i = 0; i < m->nexit; i++) {
			m->dfeat[i] = m->act + df[i];
			m->feat[i] = m->act + B.feat[i];
			m->logits[i] = m->act + B.logits[i];
		}
		m->se_scratch = m->act + se;
		m->col = m->act + co;
		m->virt[0] = m->act + rec;
		m->virt[1] = m->virt[0] + B.maxvirt * max_batch;
		m->bn_var = m->act + var;
	}
	m->param = arena(m->nparam);
	m->grad = arena(m->nparam);
	plan_eval(m);
	/* where each exit's features are final in eval mode: a residual add
	 * writes in place after the BN that wrote them first */
	for (i = 0; i < m->head_op[0]; i++)
		for (j = 0; j < m->nexit; j++)
			if (m->act + m->op[i].eout == m->feat[j])
				m->feat_op[j] = i;
}

/* 1x1 convolutions (no bias) on maps of 2 to NN_PACK_N pixels: their
 * products at batch 1 are narrow enough for nn_gemm_packed */
static int
packable(const struct model_op *o)
{
	int hw = o->h * o->wd;

	return o->kind == L_CONV && o->k == 1 && o->s == 1 && o->p == 0 && o->b < 0 &&
	    hw >= 2 && hw <= NN_PACK_N;
}

/* A convolution (no bias) whose output only the BN after it reads: at
 * batch 1 the two run as one (nn_b1_conv_fwd), BN folded in. For depthwise
 * and k x k convolutions, and 1x1 ones on maps of up to NN_PACK_N pixels:
 * on larger maps the engine's GEMM is as fast or faster (measured beside
 * ONNX Runtime by examples/bench/train.sh). */
static int
foldable(const struct model *m, int i)
{
	const struct model_op *o = &m->op[i];
	int kind = o->kind == L_DW || (o->kind == L_CONV && (o->k > 1 ||
	    o->h * o->wd <= NN_PACK_N));

	return kind && o->b < 0 && i + 1 < m->nop && m->op[i + 1].kind == L_BN &&
	    m->op[i + 1].ein == o->eout;
}

/* Weights per output of convolution o */
static long
conv_per(const struct model_op *o)
{
	return o->kind == L_DW ? (long)o->k * o->k : (long)o->ci * o->k * o->k;
}

/* o's weights with BN op bn folded in, as export.c folds them (a = gamma /
 * sqrt(var + eps), b = beta - mean a: the exported code's numbers), packed
 * at dst, then the bias. */
static void
fold_bn(struct model *m, float *dst, const struct model_op *o, const struct model_op *bn)
{
	long per = conv_per(o);
	float *w = arena(o->co * per), *b = dst + aligned(o->co * per);

	memcpy(w, m->param + m->t[o->w].off, o->co * per * sizeof(float));
	nn_b1_fold(w, b, m->param + m->t[bn->w].off, m->param + m->t[bn->w + 1].off,
	    m->param + m->t[bn->w + 2].off, m->param + m->t[bn->w + 3].off, o->co, per,
	    m->bn_eps);
	nn_b1_pack(dst, w, o->co, per);
	free(w);
}

void
model_pack(struct model *m)
{
	long n = 0;
	int i;

	model_unpack(m);
	for (i = 0; i < m->nop; i++) {
		struct model_op *o = &m->op[i];
		if (foldable(m, i)) {
			o->fk = n;
			n += aligned(o->co * conv_per(o)) + aligned(o->co);
			m->op[i + 1].b1skip = 1;
		}
		if (packable(o)) {
			o->pk = n;
			n += aligned(nn_pack_size(o->co, o->ci));
		} else if (o->kind == L_BN) {	/* its affine (a, b) */
			o->pk = n;
			n += aligned(2L * o->ci);
		}
	}
	if (!n)
		return;
	m->pack = arena(n);
	m->npack = n;
	for (i = 0; i < m->nop; i++) {
		struct model_op *o = &m->op[i];
		if (o->fk >= 0)
			fold_bn(m, m->pack + o->fk, o, o + 1);
		if (o->pk < 0)
			continue;
		const float *w = m->param + m->t[o->w].off;
		if (o->kind == L_BN)
			nn_bn_eval_coef(m->pack + o->pk, m->pack + o->pk + o->ci, w,
			    m->param + m->t[o->w + 1].off, m->param + m->t[o->w + 2].off,
			    m->param + m->t[o->w + 3].off, o->ci, m->bn_eps);
		else
			nn_pack_a(m->pack + o->pk, w, o->co, o->ci);
	}
}

void
model_unpack(struct model *m)
{
	int i;

	free(m->pack);
	m->pack = NULL;
	m->npack = 0;
	for (i = 0; i < m->nop; i++) {
		m->op[i].pk = -1;
		m->op[i].fk = -1;
		m->op[i].b1skip = 0;
	}
}

void
model_free(struct model *m)
{
	free(m->pack);
	free(m->param);
	free(m->grad);
	free(m->act);
	free(m->t);
	free(m->op);
	memset(m, 0, sizeof(*m));
}

struct model_tensor *
model_tensor(const struct model *m, const char *name)
{
	int i;

	for (i = 0; i < m->ntensor; i++)
		if (strcmp(m->t[i].name, name) == 0)
			return &m->t[i];
	return NULL;
}

static int
ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

void
model_init(struct model *m, uint64_t seed)
{
	struct nn_rng r;
	int i;
	long j;

	m->seed = seed;
	nn_rng_seed(&r, seed);
	nn_rng_seed(&m->rng, seed ^ 0x5eed5eed5eed5eedULL);
	memset(m->param, 0, m->nparam * sizeof(float));
	for (i = 0; i < m->ntensor; i++) {
		struct model_tensor *t = &m->t[i];
		float *p = m->param + t->off;

		if (ends_with(t->name, ".bn.weight") || ends_with(t->name, "running_var")) {
			for (j = 0; j < t->n; j++)
				p[j] = 1;
		} else if (t->ndim == 4) {
			float sd = sqrtf(2.0f / (t->shape[0] * t->shape[2] * t->shape[3]));

			for (j = 0; j < t->n; j++)
				p[j] = sd * nn_rng_normal(&r);
		} else if (t->ndim == 2) {
			float b = 1 / sqrtf((float)t->shape[1]);

			for (j = 0; j < t->n; j++)
				p[j] = b * (2 * nn_rng_uniform(&r) - 1);
		}
	}
}

void
model_zero_grad(struct model *m)
{
	nn_copy(m->grad, NULL, m->nparam);
}

float *
model_feature(struct model *m, int i)
{
	return m->feat[i];
}

/* ---- forward ---- */

#define A(o) ((o) == V0 ? m->virt[0] : (o) == V1 ? m->virt[1] : m->act + (o))
#define P(i_) (m->param + m->t[i_].off)
#define G(i_) (m->grad + m->t[i_].off)

static long
op_macs(const struct model_op *o)
{
	switch (o->kind) {
	case L_CONV:
		return (long)o->ci * o->k * o->k * o->co * o->ho * o->wo;
	case L_DW:
		return (long)o->ci * o->k * o->k * o->ho * o->wo;
	case L_SE:
		return 2L * o->ci * o->se_mid;
	case L_LIN:
		return (long)o->ci * o->co;
	}
	return 0;
}

static void
op_fwd(struct model *m, struct model_op *o, const float *x, int N, int train)
{
	long io = train ? o->in : o->ein;
	const float *in = io == X_IN ? x : A(io);
	float *out = A(train ? o->out : o->eout);
	int hw = o->h * o->wd;
	long n = (long)o->ci * N * hw;

	if (!train && N == 1 && o->fk >= 0) {   /* with the BN after it */
		nn_b1_conv_fwd(A(o[1].eout), in, m->pack + o->fk,
		    m->pack + o->fk + aligned(o->co * conv_per(o)), o->ci, o->h, o->wd, o->co,
		    o->k, o->s, o->p, o->kind == L_DW, o[1].act);
		return;
	}
	if (!train && N == 1 && o->b1skip)
		return;
	switch (o->kind) {
	case L_CONV:
		if (!train && o->pk >= 0 && N * hw >= 2 && N * hw <= NN_PACK_N) {
			nn_gemm_packed(out, m->pack + o->pk, in, o->co, N * hw, o->ci, N * hw,
			    N * hw);
			break;
		}
		nn_conv_fwd(out, in, P(o->w), o->b >= 0 ? P(o->b) : NULL, m->col, N, o->ci,
		    o->h, o->wd, o->co, o->k, o->s, o->p);
		break;
	case L_DW:
		nn_dw_fwd(out, in, P(o->w), N, o->ci, o->h, o->wd, o->k, o->s);
		break;
	case L_BN:
		if (train)
			nn_bn_act_fwd_train(out, A(o->mean), A(o->rstd), P(o->w + 2),
			    P(o->w + 3), in, P(o->w), P(o->w + 1), o->ci, (long)N * hw,
			    m->bn_momentum, m->bn_eps, o->act);
		else if (o->pk >= 0)
			nn_affine_act_fwd(out, in, m->pack + o->pk, m->pack + o->pk + o->ci, o->ci,
			    (long)N * hw, o->act);
		else
			nn_bn_act_fwd_eval(out, in, P(o->w), P(o->w + 1), P(o->w + 2),
			    P(o->w + 3), o->ci, (long)N * hw, m->bn_eps, o->act);
		break;
	case L_ACT:
		nn_act_fwd(out, in, n, o->act);
		break;
	case L_SE:
		nn_gap_fwd(A(o->se_p), in, o->ci, N, hw);
		nn_conv_fwd(A(o->se_r), A(o->se_p), P(o->w), P(o->b), NULL, N, o->ci, 1, 1,
		    o->se_mid, 1, 1, 0);
		nn_act_fwd(A(o->se_rr), A(o->se_r), (long)o->se_mid * N, NN_RELU);
		nn_conv_fwd(A(o->se_e), A(o->se_rr), P(o->w + 2), P(o->w + 3), NULL, N,
		    o->se_mid, 1, 1, o->ci, 1, 1, 0);
		nn_act_fwd(A(o->se_s), A(o->se_e), (long)o->ci * N, NN_HSIGMOID);
		nn_scale_fwd(out, in, A(o->se_s), o->ci, N, hw);
		break;
	case L_ADD:
		nn_add_fwd(out, in, A(train ? o->res : o->eres), n);
		break;
	case L_GAP:
		nn_gap_fwd(out, in, o->ci, N, hw);
		break;
	case L_POOL:
		nn_maxpool_fwd(out, (int32_t *)A(o->argmax), in, o->ci, N, o->h, o->wd, o->k);
		break;
	case L_FLAT:
		nn_flatten_fwd(out, in, o->ci, N, hw);
		break;
	case L_LIN:
		nn_linear_fwd(out, in, P(o->w), o->b >= 0 ? P(o->b) : NULL, N, o->ci, o->co);
		break;
	case L_DROP:
		if (train && m->dropout > 0)
			nn_dropout_fwd(out, (uint8_t *)A(o->mask), in, n, m->dropout, &m->rng);
		else if (out != in)
			memcpy(out, in, n * sizeof(float));
		break;
	}
}

static void
check_batch(const struct model *m, int N)
{
	if (N < 1 || N > m->max_batch)
		errx(EX_SOFTWARE, "model: batch %d outside 1..%d", N, m->max_batch);
}

void
model_forward_backbone(struct model *m, const float *x, int N, int train)
{
	long macs = 0;
	int i, e;

	check_batch(m, N);
	m->N = N;
	m->x = x;
	m->train = train;
	for (i = 0; i < m->head_op[0]; i++) {
		struct model_op *o = &m->op[i];

		op_fwd(m, o, x, N, train);
		macs += op_macs(o);
		for (e = 0; e < m->nexit; e++)
			if (A(train ? o->out : o->eout) == m->feat[e])
				m->macs_to[e] = macs;
	}
}

void
model_forward_heads(struct model *m, int train)
{
	int i, e;

	check_batch(m, m->N);
	m->train = train;
	for (e = 0; e < m->nexit; e++) {
		m->macs_head[e] = 0;
		for (i = m->head_op[e]; i < m->head_op[e + 1]; i++) {
			op_fwd(m, &m->op[i], NULL, m->N, train);
			m->macs_head[e] += op_macs(&m->op[i]);
		}
	}
}

void
model_forward(struct model *m, const float *x, int N, int train)
{
	model_forward_backbone(m, x, N, train);
	model_forward_heads(m, train);
}

/* ---- incremental forward ---- */

void
model_step_begin(struct model *m, const float *x, int N)
{
	check_batch(m, N);
	m->N = N;
	m->x = x;
	m->train = 0;
	m->step_op = 0;
	m->step_exit = -1;
	m->step_macs = 0;
	m->macs_run = 0;
}

static void
step_op(struct model *m, int i)
{
	long macs = op_macs(&m->op[i]);

	op_fwd(m, &m->op[i], m->x, m->N, 0);
	m->step_macs += macs;
	m->macs_run += macs * m->N;
}

/* The part of backbone op i in model.prof: 0 the first conv, 1 + b block b. */
static int
prof_part(const struct model *m, int i)
{
	int b = 0;

	while (b < m->net.nblk && m->blk_op[b] <= i)
		b++;
	return b;
}

static double
prof_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* model_step_exit's backbone ops up to `last`, each part timed into prof. */
static void
step_backbone_prof(struct model *m, int last)
{
	while (m->step_op <= last) {
		int part = prof_part(m, m->step_op);
		double t0 = prof_now();

		for (; m->step_op <= last && prof_part(m, m->step_op) == part; m->step_op++)
			step_op(m, m->step_op);
		m->prof[part] += prof_now() - t0;
	}
}

const float *
model_step_exit(struct model *m, int i)
{
	double t0 = 0;
	int j;

	if (i <= m->step_exit || i >= m->nexit)
		errx(EX_SOFTWARE, "model: step to exit %d after exit %d (of %d)", i,
		    m->step_exit, m->nexit);
	if (m->prof)
		step_backbone_prof(m, m->feat_op[i]);
	for (; m->step_op <= m->feat_op[i]; m->step_op++)
		step_op(m, m->step_op);
	m->macs_to[i] = m->step_macs;
	if (m->prof)
		t0 = prof_now();
	for (j = m->head_op[i]; j < m->head_op[i + 1]; j++)
		step_op(m, j);
	if (m->prof)
		m->prof[1 + m->net.nblk + i] += prof_now() - t0;
	m->macs_head[i] = m->step_macs - m->macs_to[i];
	m->step_exit = i;
	return m->logits[i];
}

void
model_step_keep(struct model *m, const int *keep, int n)
{
	int e = m->step_exit, N = m->N, c, k;
	long hw;
	float *f;

	if (e < 0 || n < 1 || n > N)
		errx(EX_SOFTWARE, "model: keep %d of %d samples after exit %d", n, N, e);
	hw = (long)m->feat_h[e] * m->feat_w[e];
	f = m->feat[e];
	/* (C, N, HW) -> (C, n, HW) in place: each block moves down, never onto
	 * one not yet read */
	for (c = 0; c < m->feat_c[e]; c++)
		for (k = 0; k < n; k++) {
			if (keep[k] < k || keep[k] >= N || (k && keep[k] <= keep[k - 1]))
				errx(EX_SOFTWARE, "model: keep: index %d at %d", keep[k], k);
			memmove(f + ((long)c * n + k) * hw, f + ((long)c * N + keep[k]) * hw,
			    hw * sizeof(float));
		}
	m->N = n;
}

/* ---- backward ---- */

/* Gradient of op o's input into din (zeroed by the caller) from dout, the
 * gradient of its output. */
static void
op_bwd(struct model *m, struct model_op *o, float *din, const float *dout, int N)
{
	const float *in = A(o->in);
	int hw = o->h * o->wd;
	long n = (long)o->ci * N * hw;

	switch (o->kind) {
	case L_CONV:
		nn_conv_bwd(din, G(o->w), o->b >= 0 ? G(o->b) : NULL, dout, in, P(o->w),
		    m->col, N, o->ci, o->h, o->wd, o->co, o->k, o->s, o->p);
		break;
	case L_DW:
		nn_dw_bwd(din, G(o->w), dout, in, P(o->w), N, o->ci, o->h, o->wd, o->k, o->s);
		break;
	case L_BN:
		nn_bn_act_bwd(din, G(o->w), G(o->w + 1), dout, in, A(o->mean), A(o->rstd),
		    P(o->w), P(o->w + 1), o->ci, (long)N * hw, o->act);
		break;
	case L_ACT:
		nn_act_bwd(din, dout, in, n, o->act);
		break;
	case L_SE: {
		long cn = (long)o->ci * N, sn = (long)o->se_mid * N;
		float *ds = m->se_scratch, *de = ds + cn, *dp = de + cn, *drr = dp + cn,
		    *dr = drr + sn;

		memset(ds, 0, (3 * cn + 2 * sn) * sizeof(float));
		nn_scale_bwd(din, ds, dout, in, A(o->se_s), o->ci, N, hw);
		nn_act_bwd(de, ds, A(o->se_e), cn, NN_HSIGMOID);
		nn_conv_bwd(drr, G(o->w + 2), G(o->w + 3), de, A(o->se_rr), P(o->w + 2),
		    NULL, N, o->se_mid, 1, 1, o->ci, 1, 1, 0);
		nn_act_bwd(dr, drr, A(o->se_r), sn, NN_RELU);
		nn_conv_bwd(dp, G(o->w), G(o->b), dr, A(o->se_p), P(o->w), NULL, N, o->ci,
		    1, 1, o->se_mid, 1, 1, 0);
		nn_gap_bwd(din, dp, o->ci, N, hw);
		break;
	}
	case L_GAP:
		nn_gap_bwd(din, dout, o->ci, N, hw);
		break;
	case L_POOL:
		nn_maxpool_bwd(din, dout, (const int32_t *)A(o->argmax), o->ci, N, o->h, o->wd,
		    o->k);
		break;
	case L_FLAT:
		nn_flatten_bwd(din, dout, o->ci, N, hw);
		break;
	case L_LIN:
		nn_linear_bwd(din, G(o->w), o->b >= 0 ? G(o->b) : NULL, dout, in, P(o->w), N,
		    o->ci, o->co);
		break;
	case L_DROP:
		nn_dropout_bwd(din, dout, (const uint8_t *)A(o->mask), n, m->dropout);
		break;
	}
}

/* Make virtual buffer of op j hold op j's output again (virt()): rebuild
 * its input first if that is virtual too, then rerun op j. m->virt_op
 * remembers which op's output each buffer holds. */
static void
ensure(struct model *m, int j, int N)
{
	const struct model_op *o = &m->op[j];
	int v = o->out == V1, hw = o->h * o->wd, c;

	if (m->virt_op[v] == j)
		return;
	if (VIRT(o->in))
		ensure(m, j - 1, N);
	if (o->kind == L_SE) {
		nn_scale_fwd(A(o->out), A(o->in), A(o->se_s), o->ci, N, hw);
	} else {
		/* BN + activation with the forward's batch statistics, as the
		 * (mean, var) nn_bn_act_fwd_eval normalises with */
		const float *rstd = A(o->rstd);

		for (c = 0; c < o->ci; c++)
			m->bn_var[c] = 1 / (rstd[c] * rstd[c]) - m->bn_eps;
		nn_bn_act_fwd_eval(A(o->out), A(o->in), P(o->w), P(o->w + 1), A(o->mean),
		    m->bn_var, o->ci, (long)N * hw, m->bn_eps, o->act);
	}
	m->virt_op[v] = j;
}

/* Before op i's backward: its input, if virtual and needed. */
static void
need_input(struct model *m, int i, int N)
{
	const struct model_op *o = &m->op[i];

	if (!VIRT(o->in) || o->kind == L_GAP || o->kind == L_POOL || o->kind == L_FLAT)
		return;
	ensure(m, i - 1, N);
}

/* Does op o pass its output gradient through unchanged? */
static int
pass_through(const struct model *m, const struct model_op *o)
{
	return o->kind == L_ADD || (o->kind == L_DROP && !(m->train && m->dropout > 0));
}

/* The gradient buffer that is not g. */
static float *
other_buf(struct model *m, const float *g)
{
	return m->gbuf[m->gbuf[0] == g];
}

void
model_backward_heads(struct model *m, const float *const *dlogits)
{
	int e, i, N = m->N;

	if (!m->train)
		errx(EX_SOFTWARE, "model: backward after an eval-mode forward");
	m->virt_op[0] = m->virt_op[1] = -1;   /* the forward overwrote them */
	for (e = 0; e < m->nexit; e++) {
		const float *g = dlogits[e];

		nn_copy(m->dfeat[e], NULL, (long)m->feat_c[e] * N * m->feat_h[e] * m->feat_w[e]);
		if (g == NULL)
			continue;
		for (i = m->head_op[e + 1] - 1; i >= m->head_op[e]; i--) {
			struct model_op *o = &m->op[i];
			float *gn;

			if (pass_through(m, o))
				continue;
			gn = i == m->head_op[e] ? m->dfeat[e] : other_buf(m, g);
			if (gn != m->dfeat[e])
				nn_copy(gn, NULL, (long)o->ci * N * o->h * o->wd);
			need_input(m, i, N);
			op_bwd(m, o, gn, g, N);
			g = gn;
		}
	}
}

void
model_backward(struct model *m, const float *const *dlogits)
{
	const float *g = NULL;
	float *hold = NULL;
	long hold_at = 0, n;
	int i, e, N = m->N;
	const float *top;

	model_backward_heads(m, dlogits);
	/* The backbone's output gradient: the last exit's features feed only
	 * its head; other exits join where their features were made. */
	top = A(m->op[m->head_op[0] - 1].out);
	for (e = 0; e < m->nexit; e++)
		if (m->feat[e] == top)
			g = m->dfeat[e];
	for (i = m->head_op[0] - 1; i >= 0; i--) {
		struct model_op *o = &m->op[i];
		float *gn;

		n = (long)o->ci * N * o->h * o->wd;
		if (o->kind == L_ADD) {
			/* The shortcut's gradient starts the block input's gradient;
			 * the block's first op accumulates onto it. */
			hold = m->rbuf[m->rbuf[0] == g];
			nn_copy(hold, g, n);
			hold_at = o->res;
			continue;
		}
		if (o->in == X_IN)
			break;
		if (hold && o->in == hold_at) {
			gn = hold;
			hold = NULL;
		} else {
			gn = other_buf(m, g);
			nn_copy(gn, NULL, n);
		}
		need_input(m, i, N);
		op_bwd(m, o, gn, g, N);
		for (e = 0; e < m->nexit; e++)
			if (A(o->in) == m->feat[e] && m->feat[e] != top)
				nn_acc(gn, m->dfeat[e], n);
		g = gn;
	}
	/* The first conv: weight gradients only, nothing flows into x. */
	if (i >= 0) {
		struct model_op *o = &m->op[i];

		nn_conv_bwd(NULL, G(o->w), NULL, g, m->x, P(o->w), m->col, N, o->ci, o->h,
		    o->wd, o->co, o->k, o->s, o->p);
	}
}
