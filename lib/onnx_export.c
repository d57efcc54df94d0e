/*
 * onnx_export.c - see onnx_export.h and formats/onnx.md. Each segment is
 * built as protobuf-c messages in an arena, walking the arch_net as
 * model_build does (model.c) and taking every weight from the model by its
 * state_dict name, then packed straight into the file.
 */
#include "onnx_export.h"

#include <err.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

#include "arch.h"
#include "cli.h"
#include "nachos.h"

/* ---- arena: every message of one file, freed at once ---- */

#define CHUNK (64 * 1024)

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct arena { struct chunk *head; };

static void *
aalloc(struct arena *a, size_t n)
{
	struct chunk *c = a->head;
	void *p;

	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > CHUNK ? n : CHUNK;

		c = cli_calloc(1, sizeof(*c) + cap);
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static void
afree(struct arena *a)
{
	while (a->head) {
		struct chunk *c = a->head;

		a->head = c->next;
		free(c);
	}
}

static char *
astr(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *
astr(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *s;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	s = aalloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* A growing array of message pointers (the graph's repeated fields). */
struct list { void **p; size_t n, cap; };

static void
push(struct list *l, void *x)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		if ((l->p = realloc(l->p, l->cap * sizeof(void *))) == NULL)
			err(EX_SOFTWARE, "onnx_export");
	}
	l->p[l->n++] = x;
}

/* ---- one graph ---- */

struct g {
	struct arena a;
	const struct model *m;
	struct list node, init, in, out;
};

#define MAX_ATTR 6

static Onnx__NodeProto *
node(struct g *g, const char *type, const char *out, int nin, ...)
{
	Onnx__NodeProto *nd = aalloc(&g->a, sizeof(*nd));
	va_list ap;
	int i;

	onnx__node_proto__init(nd);
	nd->op_type = (char *)type;
	nd->name = (char *)out;
	nd->n_output = 1;
	nd->output = aalloc(&g->a, sizeof(char *));
	nd->output[0] = (char *)out;
	nd->n_input = nin;
	nd->input = aalloc(&g->a, nin * sizeof(char *));
	va_start(ap, nin);
	for (i = 0; i < nin; i++)
		nd->input[i] = va_arg(ap, char *);
	va_end(ap);
	nd->attribute = aalloc(&g->a, MAX_ATTR * sizeof(*nd->attribute));
	push(&g->node, nd);
	return nd;
}

static Onnx__AttributeProto *
attr(struct g *g, Onnx__NodeProto *nd, const char *name,
    Onnx__AttributeProto__AttributeType type)
{
	Onnx__AttributeProto *at = aalloc(&g->a, sizeof(*at));

	if (nd->n_attribute == MAX_ATTR)
		errx(EX_SOFTWARE, "onnx_export: too many attributes");
	onnx__attribute_proto__init(at);
	at->name = (char *)name;
	at->has_type = 1;
	at->type = type;
	nd->attribute[nd->n_attribute++] = at;
	return at;
}

static void
attr_i(struct g *g, Onnx__NodeProto *nd, const char *name, int64_t v)
{
	Onnx__AttributeProto *at = attr(g, nd, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);

	at->has_i = 1;
	at->i = v;
}

static void
attr_f(struct g *g, Onnx__NodeProto *nd, const char *name, float v)
{
	Onnx__AttributeProto *at = attr(g, nd, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);

	at->has_f = 1;
	at->f = v;
}

/* An ints attribute of n copies of v (kernel_shape, strides, pads). */
static void
attr_rep(struct g *g, Onnx__NodeProto *nd, const char *name, int n, int64_t v)
{
	Onnx__AttributeProto *at = attr(g, nd, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
	int i;

	at->n_ints = n;
	at->ints = aalloc(&g->a, n * sizeof(int64_t));
	for (i = 0; i < n; i++)
		at->ints[i] = v;
}

/* The last node's output renamed (a graph output named by the layout). */
static const char *
rename_last(struct g *g, const char *to)
{
	Onnx__NodeProto *nd = g->node.p[g->node.n - 1];

	nd->output[0] = nd->name = (char *)to;
	return to;
}

static Onnx__TensorProto *
tensor(struct g *g, const char *name, int type, int ndim, const int64_t *dims,
    const void *data, size_t bytes)
{
	Onnx__TensorProto *t = aalloc(&g->a, sizeof(*t));

	onnx__tensor_proto__init(t);
	t->name = (char *)name;
	t->has_data_type = 1;
	t->data_type = type;
	t->n_dims = ndim;
	t->dims = aalloc(&g->a, (ndim ? ndim : 1) * sizeof(int64_t));
	memcpy(t->dims, dims, ndim * sizeof(int64_t));
	t->has_raw_data = 1;
	t->raw_data.len = bytes;
	t->raw_data.data = (uint8_t *)data;
	push(&g->init, t);
	return t;
}

/* raw_data is little-endian: float32 or int64 values in host order are
 * copied byte by byte on a big-endian host. */
static const void *
le(struct g *g, const void *v, size_t n, size_t size)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	unsigned char *o = aalloc(&g->a, n * size);
	const unsigned char *s = v;
	size_t i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < size; k++)
			o[i * size + k] = s[i * size + size - 1 - k];
	return o;
#else
	(void)g, (void)n, (void)size;
	return v;
#endif
}

/* The model's tensor called name, as an initializer of ndim dims (ndim 0:
 * the tensor's own shape). */
static const char *
weight(struct g *g, const char *name, int ndim, const int64_t *dims)
{
	const struct model_tensor *t = model_tensor(g->m, name);
	int64_t own[4], n = 1;
	int i;

	if (t == NULL)
		errx(EX_SOFTWARE, "onnx_export: the model has no tensor %s", name);
	if (ndim == 0) {
		ndim = t->ndim;
		for (i = 0; i < ndim; i++)
			own[i] = t->shape[i];
		dims = own;
	}
	for (i = 0; i < ndim; i++)
		n *= dims[i];
	if (n != t->n)
		errx(EX_SOFTWARE, "onnx_export: tensor %s has %ld values, not %ld", name, t->n,
		    (long)n);
	tensor(g, t->name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, ndim, dims,
	    le(g, g->m->param + t->off, t->n, sizeof(float)), t->n * sizeof(float));
	return t->name;
}

static const char *
cfloat(struct g *g, const char *name, int ndim, const int64_t *dims, const float *v,
    long n)
{
	float *c = aalloc(&g->a, n * sizeof(float));

	memcpy(c, v, n * sizeof(float));
	tensor(g, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, ndim, dims,
	    le(g, c, n, sizeof(float)), n * sizeof(float));
	return name;
}

static const char *
cint64(struct g *g, const char *name, int n, const int64_t *v)
{
	int64_t *c = aalloc(&g->a, n * sizeof(int64_t)), d = n;

	memcpy(c, v, n * sizeof(int64_t));
	tensor(g, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, &d,
	    le(g, c, n, sizeof(int64_t)), n * sizeof(int64_t));
	return name;
}

/* A graph input or output: type, then (N, dims...), N symbolic. */
static void
value(struct g *g, struct list *l, const char *name, int type, int ndim, const int *dims)
{
	Onnx__ValueInfoProto *v = aalloc(&g->a, sizeof(*v));
	Onnx__TypeProto *tp = aalloc(&g->a, sizeof(*tp));
	Onnx__TypeProto__Tensor *tt = aalloc(&g->a, sizeof(*tt));
	Onnx__TensorShapeProto *sh = aalloc(&g->a, sizeof(*sh));
	int i;

	onnx__value_info_proto__init(v);
	onnx__type_proto__init(tp);
	onnx__type_proto__tensor__init(tt);
	onnx__tensor_shape_proto__init(sh);
	v->name = (char *)name;
	v->type = tp;
	tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	tp->tensor_type = tt;
	tt->has_elem_type = 1;
	tt->elem_type = type;
	tt->shape = sh;
	sh->n_dim = ndim + 1;
	sh->dim = aalloc(&g->a, (ndim + 1) * sizeof(*sh->dim));
	for (i = 0; i <= ndim; i++) {
		Onnx__TensorShapeProto__Dimension *d = aalloc(&g->a, sizeof(*d));

		onnx__tensor_shape_proto__dimension__init(d);
		if (i == 0) {
			d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
			d->dim_param = "N";
		} else {
			d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
			d->dim_value = dims[i - 1];
		}
		sh->dim[i] = d;
	}
	push(l, v);
}

/* ---- layers (model.c's, in its order) ---- */

static const char *
act(struct g *g, const char *x, int a, const char *pre)
{
	switch (a) {
	case ACT_RELU:
		return node(g, "Relu", astr(&g->a, "%s.act", pre), 1, x)->name;
	case ACT_HSWISH:
		return node(g, "HardSwish", astr(&g->a, "%s.act", pre), 1, x)->name;
	}
	return x;
}

static Onnx__NodeProto *
conv(struct g *g, const char *x, const char *out, const char *w, const char *b, int k,
    int s, int p, int group)
{
	Onnx__NodeProto *nd = b ? node(g, "Conv", out, 3, x, w, b) : node(g, "Conv", out, 2, x, w);

	attr_rep(g, nd, "kernel_shape", 2, k);
	attr_rep(g, nd, "strides", 2, s);
	attr_rep(g, nd, "pads", 4, p);
	if (group > 1)
		attr_i(g, nd, "group", group);
	return nd;
}

/* conv (no bias, pad k/2) + BN + act under name prefix pre (model.c's
 * conv_bn_act). */
static const char *
conv_bn_act(struct g *g, const char *x, const char *pre, int k, int s, int group, int a)
{
	Onnx__NodeProto *nd;

	x = conv(g, x, astr(&g->a, "%s.conv", pre), weight(g, astr(&g->a, "%s.conv.weight", pre),
	    0, NULL), NULL, k, s, k / 2, group)->name;
	nd = node(g, "BatchNormalization", astr(&g->a, "%s.bn", pre), 5, x,
	    weight(g, astr(&g->a, "%s.bn.weight", pre), 0, NULL),
	    weight(g, astr(&g->a, "%s.bn.bias", pre), 0, NULL),
	    weight(g, astr(&g->a, "%s.bn.running_mean", pre), 0, NULL),
	    weight(g, astr(&g->a, "%s.bn.running_var", pre), 0, NULL));
	attr_f(g, nd, "epsilon", g->m->bn_eps);
	return act(g, nd->name, a, pre);
}

static const char *
block(struct g *g, const char *x, const struct arch_block *b)
{
	const char *in = x;
	char *pre;
	int id = b->slot + 1;

	if (b->stage > 0)
		x = conv_bn_act(g, x, astr(&g->a, "blocks.%d.conv.inverted_bottleneck", id), 1, 1, 1,
		    b->act);
	pre = astr(&g->a, "blocks.%d.conv.depth_conv", id);
	x = conv_bn_act(g, x, pre, b->k, b->stride, b->mid, b->act);
	if (b->se) {
		const char *p, *r;
		Onnx__NodeProto *nd;

		pre = astr(&g->a, "blocks.%d.conv.depth_conv.se", id);
		p = node(g, "GlobalAveragePool", astr(&g->a, "%s.pool", pre), 1, x)->name;
		r = conv(g, p, astr(&g->a, "%s.fc.reduce", pre),
		    weight(g, astr(&g->a, "%s.fc.reduce.weight", pre), 0, NULL),
		    weight(g, astr(&g->a, "%s.fc.reduce.bias", pre), 0, NULL), 1, 1, 0, 1)->name;
		r = node(g, "Relu", astr(&g->a, "%s.fc.relu", pre), 1, r)->name;
		r = conv(g, r, astr(&g->a, "%s.fc.expand", pre),
		    weight(g, astr(&g->a, "%s.fc.expand.weight", pre), 0, NULL),
		    weight(g, astr(&g->a, "%s.fc.expand.bias", pre), 0, NULL), 1, 1, 0, 1)->name;
		nd = node(g, "HardSigmoid", astr(&g->a, "%s.fc.h_sigmoid", pre), 1, r);
		attr_f(g, nd, "alpha", 1.0f / 6);
		attr_f(g, nd, "beta", 0.5f);
		x = node(g, "Mul", astr(&g->a, "%s.scale", pre), 2, x, nd->name)->name;
	}
	x = conv_bn_act(g, x, astr(&g->a, "blocks.%d.conv.point_linear", id), 1, 1, 1, ACT_NONE);
	if (b->residual)
		x = node(g, "Add", astr(&g->a, "blocks.%d.add", id), 2, x, in)->name;
	return x;
}

static const char *
maxpool(struct g *g, const char *x, const char *out, int k)
{
	Onnx__NodeProto *nd = node(g, "MaxPool", out, 1, x);

	attr_rep(g, nd, "kernel_shape", 2, k);
	attr_rep(g, nd, "strides", 2, k);
	return nd->name;
}

static const char *
linear(struct g *g, const char *x, const char *pre, int bias, int ndim, const int64_t *dims)
{
	Onnx__NodeProto *nd;
	const char *w = weight(g, astr(&g->a, "%s.weight", pre), ndim, dims);

	if (bias)
		nd = node(g, "Gemm", pre, 3, x, w, weight(g, astr(&g->a, "%s.bias", pre), 0, NULL));
	else
		nd = node(g, "Gemm", pre, 2, x, w);
	attr_i(g, nd, "transB", 1);
	return nd->name;
}

static const char *
flatten(struct g *g, const char *x, const char *pre)
{
	Onnx__NodeProto *nd = node(g, "Flatten", astr(&g->a, "%s.flatten", pre), 1, x);

	attr_i(g, nd, "axis", 1);
	return nd->name;
}

/* model.c's nachos_head: pool, (ReLU, conv3x3) x 3, ReLU, flatten, linear. */
static const char *
nachos_head(struct g *g, const char *x, const struct arch_exit *f)
{
	int id = f->stage - 1, j;
	char *pre = astr(&g->a, "exits.%d", id);

	if (f->pool > 1)
		x = maxpool(g, x, astr(&g->a, "%s.pool", pre), f->pool);
	for (j = 1; j <= 3; j++) {
		x = node(g, "Relu", astr(&g->a, "%s.relu%d", pre, j), 1, x)->name;
		x = conv(g, x, astr(&g->a, "%s.conv%d", pre, j),
		    weight(g, astr(&g->a, "%s.conv%d.weight", pre, j), 0, NULL),
		    weight(g, astr(&g->a, "%s.conv%d.bias", pre, j), 0, NULL), 3, 1, 1, 1)->name;
	}
	x = node(g, "Relu", astr(&g->a, "%s.relu4", pre), 1, x)->name;
	x = flatten(g, x, pre);
	return linear(g, x, astr(&g->a, "%s.linear", pre), 1, 0, NULL);
}

/* model.c's aebnas_head: modules (conv stride 2, BN, ReLU, 2x2 pool while
 * the map allows), GAP, linear. */
static const char *
aebnas_head(struct g *g, const char *x, const struct arch_exit *f)
{
	const struct arch_mod *md = g->m->net.a.mod[f->stage - 1];
	int h = f->h, w = f->w, j, id = f->stage - 1;
	char *pre = astr(&g->a, "exits.%d", id);

	for (j = 0; j < ARCH_MODS && md[j].present; j++) {
		int k = md[j].k;
		char *mp = astr(&g->a, "%s.mods.%d", pre, j);

		x = conv_bn_act(g, x, mp, k, 2, 1, ACT_RELU);
		h = (h + 2 * (k / 2) - k) / 2 + 1;
		w = (w + 2 * (k / 2) - k) / 2 + 1;
		if (md[j].pool && h >= 2 && w >= 2) {
			x = maxpool(g, x, astr(&g->a, "%s.pool", mp), 2);
			h /= 2, w /= 2;
		}
	}
	x = node(g, "GlobalAveragePool", astr(&g->a, "%s.gap", pre), 1, x)->name;
	x = flatten(g, x, pre);
	return linear(g, x, astr(&g->a, "%s.linear", pre), 1, 0, NULL);
}

/* model.c's final_head: expand 1x1 BN h-swish, GAP, feature mix (a 1x1
 * conv on a 1x1 map: a Gemm) h-swish, classifier (dropout is off in eval). */
static const char *
final_head(struct g *g, const char *x)
{
	const struct arch_net *n = &g->m->net;
	int64_t mix[2] = { n->feature_mix, n->final_expand };

	x = conv_bn_act(g, x, "final_expand_layer", 1, 1, 1, ACT_HSWISH);
	x = node(g, "GlobalAveragePool", "final_expand_layer.gap", 1, x)->name;
	x = flatten(g, x, "final_expand_layer");
	x = linear(g, x, "feature_mix_layer.conv", 0, 2, mix);
	x = act(g, x, ACT_HSWISH, "feature_mix_layer");
	return linear(g, x, "classifier.linear", 1, 0, NULL);
}

/* Segment 1's front: raw pixels to the network's input as data_batch makes
 * it: x/255, (x - mean)/std per channel, grey repeated to 3 channels, the
 * image centred in the R x R frame (zero padding around it, or a centred
 * crop of a larger one). */
static const char *
front(struct g *g, const struct data_norm *nm, int c, int h, int w)
{
	const struct arch_net *n = &g->m->net;
	int R = n->res, top = (R - h) / 2, left = (R - w) / 2, dims[3] = { c, h, w };
	int64_t cd[4] = { 1, c, 1, 1 };
	float k255 = 255.0f;
	Onnx__NodeProto *nd;
	const char *x;

	value(g, &g->in, "image", ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, 3, dims);
	nd = node(g, "Cast", "input.float", 1, "image");
	attr_i(g, nd, "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
	x = node(g, "Div", "input.scaled", 2, nd->name, cfloat(g, "input.255", 0, cd, &k255,
	    1))->name;
	x = node(g, "Sub", "input.centred", 2, x, cfloat(g, "input.mean", 4, cd, nm->mean,
	    c))->name;
	x = node(g, "Div", "input.normalised", 2, x, cfloat(g, "input.std", 4, cd, nm->std,
	    c))->name;
	if (c != n->in_ch) {
		nd = node(g, "Concat", "input.rgb", 3, x, x, x);
		attr_i(g, nd, "axis", 1);
		x = nd->name;
	}
	if (top < 0 || left < 0) {
		int64_t st[2] = { top < 0 ? -top : 0, left < 0 ? -left : 0 };
		int64_t en[2] = { st[0] + (h < R ? h : R), st[1] + (w < R ? w : R) };
		int64_t ax[2] = { 2, 3 };

		x = node(g, "Slice", "input.crop", 4, x, cint64(g, "input.crop.starts", 2, st),
		    cint64(g, "input.crop.ends", 2, en), cint64(g, "input.crop.axes", 2, ax))->name;
	}
	if (top > 0 || left > 0) {
		int64_t t = top > 0 ? top : 0, l = left > 0 ? left : 0;
		int64_t p[8] = { 0, 0, t, l, 0, 0, h < R ? R - h - t : 0, w < R ? R - w - l : 0 };

		x = node(g, "Pad", "input.padded", 2, x, cint64(g, "input.pads", 8, p))->name;
	}
	return x;
}

/* The exit's outputs: logits_i, and conf_i = sigmoid(confidence logit)
 * when the head has one (NACHOS intermediate exits). */
static void
outputs(struct g *g, const char *y, const struct arch_exit *f, int seg)
{
	int K = g->m->net.classes, nk[1] = { K };
	const char *lg = astr(&g->a, "logits_%d", seg), *cf, *s;
	int64_t z = 0, k = K, k1 = K + 1, ax = 1;

	if (f->nout == K) {
		rename_last(g, lg);
		value(g, &g->out, lg, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, nk);
		return;
	}
	cf = astr(&g->a, "conf_%d", seg);
	node(g, "Slice", lg, 4, y, cint64(g, "head.k0", 1, &z), cint64(g, "head.k", 1, &k),
	    cint64(g, "head.axis", 1, &ax));
	s = node(g, "Slice", "head.conf_logit", 4, y, "head.k", cint64(g, "head.k1", 1, &k1),
	    "head.axis")->name;
	s = node(g, "Sigmoid", "head.conf_sigmoid", 1, s)->name;
	node(g, "Squeeze", cf, 2, s, "head.axis");
	value(g, &g->out, lg, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, nk);
	value(g, &g->out, cf, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 0, NULL);
}

/* Segment i (0-based) of m into g: its input, the backbone blocks after the
 * previous exit up to exit i's, then the head; outputs logits, conf and
 * (not on the last segment) the features. */
static void
segment(struct g *g, int i, const struct data_norm *nm, int c, int h, int w)
{
	const struct model *m = g->m;
	const struct arch_net *n = &m->net;
	const struct arch_exit *f = &n->ex[m->exit_at[i]];
	int first = i ? n->ex[m->exit_at[i - 1]].after + 1 : 0, last = i == m->nexit - 1, b;
	const char *x, *feat = NULL, *y;

	if (i == 0) {
		x = front(g, nm, c, h, w);
		x = conv_bn_act(g, x, "first_conv", 3, 2, 1, ACT_HSWISH);
	} else {
		const struct arch_exit *p = &n->ex[m->exit_at[i - 1]];
		int d[3] = { p->c, p->h, p->w };

		x = astr(&g->a, "features_%d", i);
		value(g, &g->in, x, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 3, d);
	}
	if (first > f->after)
		errx(EX_SOFTWARE, "onnx_export: segment %d has no backbone block", i + 1);
	for (b = first; b <= f->after; b++)
		x = block(g, x, &n->blk[b]);
	if (!last)
		x = feat = rename_last(g, astr(&g->a, "features_%d", i + 1));
	if (m->exit_at[i] == n->nexit - 1)
		y = final_head(g, x);
	else if (n->a.space == ARCH_AEBNAS)
		y = aebnas_head(g, x, f);
	else
		y = nachos_head(g, x, f);
	outputs(g, y, f, i + 1);
	if (feat) {
		int d[3] = { f->c, f->h, f->w };

		value(g, &g->out, feat, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 3, d);
	}
}

/* protobuf-c output straight into a file; errors show at cli_out_commit. */
struct fbuf {
	ProtobufCBuffer base;
	FILE *fp;
};

static void
fbuf_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
	fwrite(data, 1, len, ((struct fbuf *)b)->fp);
}

static Onnx__StringStringEntryProto *
entry(struct g *g, const char *k, const char *v)
{
	Onnx__StringStringEntryProto *e = aalloc(&g->a, sizeof(*e));

	onnx__string_string_entry_proto__init(e);
	e->key = (char *)k;
	e->value = (char *)v;
	return e;
}

static char *
floats(struct g *g, const float *v, int n)
{
	char *s = aalloc(&g->a, (size_t)n * 20 + 1), *p = s;
	int i;

	*s = 0;
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s%.9g", i ? "," : "", v[i]);
	return s;
}

/* The model around graph g, packed into path; returns its size. */
static long
write_file(const char *path, struct g *g, int i, const struct data_norm *nm, int c,
    const char *const *meta)
{
	const struct model *m = g->m;
	const struct arch_net *n = &m->net;
	const struct arch_exit *f = &n->ex[m->exit_at[i]];
	Onnx__ModelProto mp;
	Onnx__GraphProto gp;
	Onnx__OperatorSetIdProto os, *osp = &os;
	struct list md = { 0 };
	struct cli_out o;
	struct fbuf fb = { { fbuf_append }, NULL };
	long macs = f->head_macs + arch_net_macs_to(n, f->after) -
	    (i ? arch_net_macs_to(n, n->ex[m->exit_at[i - 1]].after) : 0);
	size_t size;
	int k;

	onnx__model_proto__init(&mp);
	onnx__graph_proto__init(&gp);
	onnx__operator_set_id_proto__init(&os);
	os.domain = "";
	os.has_version = 1;
	os.version = ONNX_OPSET;
	mp.has_ir_version = 1;
	mp.ir_version = ONNX_IR_VERSION;
	mp.n_opset_import = 1;
	mp.opset_import = &osp;
	mp.producer_name = "nachos";
	mp.producer_version = NACHOS_VERSION;
	mp.doc_string = astr(&g->a, "nachos EENN, segment %d of %d (formats/onnx.md)", i + 1,
	    m->nexit);
	mp.graph = &gp;
	gp.name = astr(&g->a, "segment_%d", i + 1);
	gp.n_node = g->node.n;
	gp.node = (Onnx__NodeProto **)g->node.p;
	gp.n_initializer = g->init.n;
	gp.initializer = (Onnx__TensorProto **)g->init.p;
	gp.n_input = g->in.n;
	gp.input = (Onnx__ValueInfoProto **)g->in.p;
	gp.n_output = g->out.n;
	gp.output = (Onnx__ValueInfoProto **)g->out.p;
	push(&md, entry(g, "nachos.segment", astr(&g->a, "%d", i + 1)));
	push(&md, entry(g, "nachos.segments", astr(&g->a, "%d", m->nexit)));
	push(&md, entry(g, "nachos.space", (char *)arch_space_names[n->a.space]));
	push(&md, entry(g, "nachos.classes", astr(&g->a, "%d", n->classes)));
	push(&md, entry(g, "nachos.stage", astr(&g->a, "%d", f->stage)));
	push(&md, entry(g, "nachos.segment_macs", astr(&g->a, "%ld", macs)));
	if (i == 0) {
		push(&md, entry(g, "nachos.norm_mean", floats(g, nm->mean, c)));
		push(&md, entry(g, "nachos.norm_std", floats(g, nm->std, c)));
	}
	for (k = 0; meta && meta[k] && meta[k + 1]; k += 2)
		push(&md, entry(g, meta[k], meta[k + 1]));
	mp.n_metadata_props = md.n;
	mp.metadata_props = (Onnx__StringStringEntryProto **)md.p;

	size = onnx__model_proto__get_packed_size(&mp);
	cli_out_open(&o, path);
	fb.fp = o.fp;
	onnx__model_proto__pack_to_buffer(&mp, &fb.base);
	cli_out_commit(&o);
	free(md.p);
	return (long)size;
}

int
onnx_export(struct onnx_file *out, const char *dir, const struct model *m,
    const struct data_norm *nm, int c, int h, int w, const char *const *meta)
{
	int i, in = m->net.in_ch;

	if (!(c == in || (c == 1 && in == 3)) || c > DATA_MAX_CH || nm->c != c || h < 1 ||
	    w < 1)
		errx(EX_SOFTWARE, "onnx_export: %dx%dx%d images (normalisation of %d channels) "
		    "for a %d-channel network", c, h, w, nm->c, in);
	for (i = 0; i < m->nexit; i++) {
		struct g g = { .m = m };

		if ((size_t)snprintf(out[i].path, sizeof(out[i].path), "%s/seg%d.onnx", dir,
		    i + 1) >= sizeof(out[i].path))
			errx(EX_CANTCREAT, "%s: path too long", dir);
		segment(&g, i, nm, c, h, w);
		out[i].bytes = write_file(out[i].path, &g, i, nm, c, meta);
		free(g.node.p), free(g.init.p), free(g.in.p), free(g.out.p);
		afree(&g.a);
	}
	return m->nexit;
}
