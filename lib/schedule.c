/* schedule.c - see schedule.h. */
#include "schedule.h"

#include <err.h>
#include <stdio.h>
#include <string.h>

#include "nachos.h"
#include "nn.h"

const char *const sched_kind_names[] = { "input", "conv", "dw", "linear", "se", "add",
	"pool", "gap", "exit", NULL };
const char *const sched_dtype_names[] = { "f32", "int8", NULL };

static int
new_buf(struct sched *s, long n)
{
	struct sched_buf *b;

	if (s->nbuf == SCHED_MAX_BUFS)
		errx(EX_SOFTWARE, "sched: more than %d buffers", SCHED_MAX_BUFS);
	b = &s->buf[s->nbuf];
	memset(b, 0, sizeof(*b));
	b->n = n;
	b->size = (n + SCHED_ALIGN - 1) / SCHED_ALIGN * SCHED_ALIGN;
	b->first = b->last = -1;
	return s->nbuf++;
}

/* A new op of kind reading buffer in, a (C, H, W) map. */
static struct sched_op *
add_op(struct sched *s, int kind, int seg, int head, int in, int ci, int h, int w)
{
	struct sched_op *o;

	if (s->nop == SCHED_MAX_OPS)
		errx(EX_SOFTWARE, "sched: more than %d ops", SCHED_MAX_OPS);
	o = &s->op[s->nop++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->seg = seg, o->head = head;
	o->ci = o->co = ci;
	o->h = o->ho = h;
	o->w = o->wo = w;
	o->act = NN_ID;
	o->in = in;
	o->out = o->res = o->tmp[0] = o->tmp[1] = -1;
	return o;
}

static int
nn_act_of(int a)
{
	return a == ACT_HSWISH ? NN_HSWISH : a == ACT_RELU ? NN_RELU : NN_ID;
}

/* Convolution (dw: depthwise) with a new output buffer; returns it. */
static int
conv(struct sched *s, int seg, int head, int in, int ci, int h, int w, int co, int k,
    int st, int dw, int act, int bn, const char *name)
{
	struct sched_op *o = add_op(s, dw ? SK_DW : SK_CONV, seg, head, in, ci, h, w);

	o->co = co;
	o->k = k, o->s = st, o->p = k / 2;
	o->ho = (h + 2 * o->p - k) / st + 1;
	o->wo = (w + 2 * o->p - k) / st + 1;
	o->act = act;
	o->bn = bn;
	o->bias = 1;
	snprintf(o->name, sizeof(o->name), "%s", name);
	snprintf(o->wname, sizeof(o->wname), bn ? "%s.conv.weight" : "%s.weight", name);
	return o->out = new_buf(s, (long)co * o->ho * o->wo);
}

static int
linear(struct sched *s, int seg, int in, int d, int co, int act, int bias,
    const char *name)
{
	struct sched_op *o = add_op(s, SK_LINEAR, seg, 1, in, d, 1, 1);

	o->co = co;
	o->k = o->s = 1;
	o->act = act;
	o->bias = bias;
	snprintf(o->name, sizeof(o->name), "%s", name);
	snprintf(o->wname, sizeof(o->wname), "%s.weight", name);
	return o->out = new_buf(s, co);
}

static int
block(struct sched *s, int seg, int x, const struct arch_block *b)
{
	int in = x, id = b->slot + 1, a = nn_act_of(b->act);
	char nm[80];

	if (b->stage > 0) {
		snprintf(nm, sizeof(nm), "blocks.%d.conv.inverted_bottleneck", id);
		x = conv(s, seg, 0, x, b->cin, b->hin, b->win, b->mid, 1, 1, 0, a, 1, nm);
	}
	snprintf(nm, sizeof(nm), "blocks.%d.conv.depth_conv", id);
	x = conv(s, seg, 0, x, b->mid, b->hin, b->win, b->mid, b->k, b->stride, 1, a, 1, nm);
	if (b->se) {
		struct sched_op *o = add_op(s, SK_SE, seg, 0, x, b->mid, b->hout, b->wout);

		o->se_mid = b->se_mid;
		o->out = x;
		o->bias = 1;
		snprintf(o->name, sizeof(o->name), "blocks.%d.conv.depth_conv.se.fc", id);
		o->tmp[0] = new_buf(s, b->mid);
		o->tmp[1] = new_buf(s, b->se_mid);
	}
	snprintf(nm, sizeof(nm), "blocks.%d.conv.point_linear", id);
	x = conv(s, seg, 0, x, b->mid, b->hout, b->wout, b->cout, 1, 1, 0, NN_ID, 1, nm);
	if (b->residual) {
		struct sched_op *o = add_op(s, SK_ADD, seg, 0, x, b->cout, b->hout, b->wout);

		o->res = in;
		o->out = x;
	}
	return x;
}

static int
pool(struct sched *s, int seg, int x, int c, int h, int w, int k, int relu)
{
	struct sched_op *o = add_op(s, SK_POOL, seg, 1, x, c, h, w);

	o->k = o->s = k;
	o->ho = h / k, o->wo = w / k;
	o->act = relu ? NN_RELU : NN_ID;
	return o->out = new_buf(s, (long)c * o->ho * o->wo);
}

static int
gap(struct sched *s, int seg, int x, int c, int h, int w)
{
	struct sched_op *o = add_op(s, SK_GAP, seg, 1, x, c, h, w);

	o->ho = o->wo = 1;
	return o->out = new_buf(s, c);
}

static int
final_head(struct sched *s, int seg, int x, const struct arch_exit *f)
{
	const struct arch_net *n = &s->net;
	int fe = n->final_expand, fm = n->feature_mix;

	x = conv(s, seg, 1, x, f->c, f->h, f->w, fe, 1, 1, 0, NN_HSWISH, 1,
	    "final_expand_layer");
	x = gap(s, seg, x, fe, f->h, f->w);
	x = linear(s, seg, x, fe, fm, NN_HSWISH, 0, "feature_mix_layer.conv");
	return linear(s, seg, x, fm, n->classes, NN_ID, 1, "classifier.linear");
}

static int
nachos_head(struct sched *s, int seg, int x, const struct arch_exit *f)
{
	static const int width[3] = { 32, 64, 128 };
	int c = f->c, h = f->hp, w = f->wp, j, id = f->stage - 1, relu = 1;
	char nm[64];

	if (f->pool > 1) {
		x = pool(s, seg, x, f->c, f->h, f->w, f->pool, 1);
		relu = 0;
	}
	for (j = 0; j < 3; j++) {
		snprintf(nm, sizeof(nm), "exits.%d.conv%d", id, j + 1);
		x = conv(s, seg, 1, x, c, h, w, width[j], 3, 1, 0, NN_RELU, 0, nm);
		s->op[s->nop - 1].in_relu = relu;
		relu = 0;
		c = width[j];
	}
	snprintf(nm, sizeof(nm), "exits.%d.linear", id);
	x = linear(s, seg, x, c * h * w, f->nout, NN_ID, 1, nm);
	s->op[s->nop - 1].conf = f->nout > s->net.classes;
	return x;
}

static int
aebnas_head(struct sched *s, int seg, int x, const struct arch_exit *f)
{
	const struct arch_mod *md = s->net.a.mod[f->stage - 1];
	int c = f->c, h = f->h, w = f->w, j, id = f->stage - 1;
	char nm[64];

	for (j = 0; j < ARCH_MODS && md[j].present; j++) {
		int co = c * md[j].wm, k = md[j].k;
		struct sched_op *o;

		snprintf(nm, sizeof(nm), "exits.%d.mods.%d", id, j);
		x = conv(s, seg, 1, x, c, h, w, co, k, 2, 0, NN_RELU, 1, nm);
		o = &s->op[s->nop - 1];
		c = co, h = o->ho, w = o->wo;
		if (md[j].pool && h >= 2 && w >= 2) {
			x = pool(s, seg, x, c, h, w, 2, 0);
			h /= 2, w /= 2;
		}
	}
	x = gap(s, seg, x, c, h, w);
	snprintf(nm, sizeof(nm), "exits.%d.linear", id);
	return linear(s, seg, x, c, f->nout, NN_ID, 1, nm);
}

int
sched_live(const struct sched *s, int b, int i)
{
	return s->buf[b].first <= i && i <= s->buf[b].last;
}

static void
touch(struct sched *s, int b, int i)
{
	if (b < 0)
		return;
	if (s->buf[b].first < 0)
		s->buf[b].first = i;
	s->buf[b].last = i;
}

/* Lifetimes, first-fit placement in order of first use, the figures. */
static void
plan(struct sched *s)
{
	int order[SCHED_MAX_BUFS], i, j, b, e;

	for (i = 0; i < s->nop; i++) {
		const struct sched_op *o = &s->op[i];

		/* inputs before outputs, so a buffer's first op writes it */
		if (o->kind != SK_INPUT)
			touch(s, o->in, i);
		touch(s, o->res, i);
		touch(s, o->tmp[0], i);
		touch(s, o->tmp[1], i);
		touch(s, o->out, i);
	}
	/* greedy by size: largest first (earlier first among equals), each at
	 * the lowest offset clear of the placed buffers it is live with */
	for (b = 0; b < s->nbuf; b++)
		order[b] = b;
	for (b = 1; b < s->nbuf; b++)
		for (j = b; j > 0 && s->buf[order[j]].size > s->buf[order[j - 1]].size; j--) {
			int t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	s->arena = 0;
	for (b = 0; b < s->nbuf; b++) {
		struct sched_buf *x = &s->buf[order[b]];
		long off = 0;
		int moved = 1;

		while (moved) {
			moved = 0;
			for (j = 0; j < b; j++) {
				const struct sched_buf *y = &s->buf[order[j]];

				if (y->last < x->first || x->last < y->first)
					continue;
				if (off < y->off + y->size && y->off < off + x->size) {
					off = y->off + y->size;
					moved = 1;
				}
			}
		}
		x->off = off;
		if (off + x->size > s->arena)
			s->arena = off + x->size;
	}
	for (e = 0; e < s->nseg; e++) {
		s->arena_to[e] = 0;
		for (b = 0; b < s->nbuf; b++)
			if (s->buf[b].first < s->seg_op[e + 1] &&
			    s->buf[b].off + s->buf[b].size > s->arena_to[e])
				s->arena_to[e] = s->buf[b].off + s->buf[b].size;
	}
	s->live_peak = 0;
	for (i = 0; i < s->nop; i++) {
		long sum = 0;

		for (b = 0; b < s->nbuf; b++)
			if (sched_live(s, b, i))
				sum += s->buf[b].size;
		if (sum > s->live_peak) {
			s->live_peak = sum;
			s->peak_op = i;
		}
	}
}

static void
count_consts(struct sched *s)
{
	int i;

	s->n_weight = s->n_bias = s->n_chan = 0;
	s->n_lut = 0;
	for (i = 0; i < s->nop; i++) {
		const struct sched_op *o = &s->op[i];
		int lut = sched_table_act(o->act);

		switch (o->kind) {
		case SK_CONV:
		case SK_LINEAR:
			s->n_weight += (long)o->co * o->ci * o->k * o->k;
			break;
		case SK_DW:
			s->n_weight += (long)o->co * o->k * o->k;
			break;
		case SK_SE:
			s->n_weight += 2L * o->ci * o->se_mid;
			s->n_bias += o->ci + o->se_mid;
			s->n_chan += o->ci + o->se_mid;
			s->n_lut++;       /* h-sigmoid */
			continue;
		default:
			continue;
		}
		s->n_bias += o->bias ? o->co : 0;
		s->n_chan += o->co;
		s->n_lut += lut + o->conf;
	}
}

void
sched_build(struct sched *s, const struct arch_net *net, int img_ch)
{
	const int R = net->res;
	int x, e, b = 0;

	memset(s, 0, sizeof(*s));
	s->net = *net;
	s->img_ch = img_ch;
	s->nseg = net->nexit;
	x = new_buf(s, (long)net->in_ch * R * R);
	add_op(s, SK_INPUT, 0, 0, -1, img_ch, R, R)->out = x;
	s->op[0].co = net->in_ch;
	x = conv(s, 0, 0, x, net->in_ch, R, R, net->first_ch, 3, 2, 0, NN_HSWISH, 1,
	    "first_conv");
	for (e = 0; e < net->nexit; e++) {
		const struct arch_exit *f = &net->ex[e];
		int lg;

		if (e > 0)
			s->seg_op[e] = s->nop;
		for (; b <= f->after; b++)
			x = block(s, e, x, &net->blk[b]);
		if (e == net->nexit - 1)
			lg = final_head(s, e, x, f);
		else if (net->a.space == ARCH_AEBNAS)
			lg = aebnas_head(s, e, x, f);
		else
			lg = nachos_head(s, e, x, f);
		s->logits[e] = lg;
		add_op(s, SK_EXIT, e, 1, lg, s->buf[lg].n, 1, 1);
	}
	s->seg_op[s->nseg] = s->nop;
	plan(s);
	count_consts(s);
}

int
sched_table_act(int act)
{
	return act == NN_HSWISH || act == NN_HSIGMOID || act == NN_RELU6;
}

void
sched_no_conf(struct sched *s)
{
	int i;

	for (i = 0; i < s->nop; i++)
		s->op[i].conf = 0;
	count_consts(s);
}

int
sched_elem_bytes(enum sched_dtype dt)
{
	return dt == SCHED_F32 ? 4 : 1;
}

long
sched_arena_bytes(const struct sched *s, enum sched_dtype dt)
{
	return s->arena * sched_elem_bytes(dt);
}

long
sched_arena_to_bytes(const struct sched *s, int i, enum sched_dtype dt)
{
	return s->arena_to[i] * sched_elem_bytes(dt);
}

long
sched_const_bytes(const struct sched *s, enum sched_dtype dt)
{
	long thr = 8L * (s->nseg - 1);

	if (dt == SCHED_F32)
		return 4 * (s->n_weight + s->n_bias) + 4L * 256 * s->img_ch + thr;
	return s->n_weight + 12 * s->n_chan + 256L * s->n_lut + 256L * s->img_ch + thr;
}
