/*
 * export.c - see export.h: folding, calibration, quantisation and the
 * interpreter. The interpreter runs the kernels of export_kern.inc in the
 * order the generated code calls them (export_gen.c walks the same ops).
 */
#include "export.h"

#include <err.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nachos.h"
#include "nn.h"
#include "thr.h"

#include "export_kern.inc"
#ifdef K_DISPATCH
#define K_AVX2_PASS
#include "export_kern_vec.inc"
#undef K_AVX2_PASS
#endif
#include "export_kern_vec.inc"

static void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (p == NULL)
		err(EX_SOFTWARE, "export");
	return p;
}

static const float *
tensor(const struct model *m, const char *fmt, const char *pre)
{
	char nm[128];
	const struct model_tensor *t;

	snprintf(nm, sizeof(nm), fmt, pre);
	t = model_tensor(m, nm);
	if (t == NULL)
		errx(EX_SOFTWARE, "export: no tensor %s", nm);
	return m->param + t->off;
}

static float *
packed(const float *w, int co, long per)
{
	float *p = xcalloc(co * per, sizeof(float));

	nn_b1_pack(p, w, co, per);
	return p;
}

/* The bias of op o, and BN folded into its weights w (co, per). */
static void
fold_bias(struct xop *x, const struct sched_op *o, const struct model *m, long per)
{
	x->b = xcalloc(o->co, sizeof(float));
	if (!o->bn) {
		memcpy(x->b, tensor(m, "%s.bias", o->name), o->co * sizeof(float));
		return;
	}
	nn_b1_fold(x->w, x->b, tensor(m, "%s.bn.weight", o->name),
	    tensor(m, "%s.bn.bias", o->name), tensor(m, "%s.bn.running_mean", o->name),
	    tensor(m, "%s.bn.running_var", o->name), o->co, per, m->bn_eps);
}

/* Copy (and fold BN into) the float weights of op o. */
static void
fold(struct xop *x, const struct sched_op *o, const struct model *m)
{
	long per = o->kind == SK_DW ? (long)o->k * o->k : (long)o->ci * o->k * o->k;

	if (o->kind == SK_SE) {
		long n = (long)o->ci * o->se_mid;

		x->w = xcalloc(n, sizeof(float));
		x->w2 = xcalloc(n, sizeof(float));
		x->b = xcalloc(o->se_mid, sizeof(float));
		x->b2 = xcalloc(o->ci, sizeof(float));
		memcpy(x->w, tensor(m, "%s.reduce.weight", o->name), n * sizeof(float));
		memcpy(x->b, tensor(m, "%s.reduce.bias", o->name), o->se_mid * sizeof(float));
		memcpy(x->w2, tensor(m, "%s.expand.weight", o->name), n * sizeof(float));
		memcpy(x->b2, tensor(m, "%s.expand.bias", o->name), o->ci * sizeof(float));
		x->wp = packed(x->w, o->se_mid, o->ci);
		x->w2p = packed(x->w2, o->ci, o->se_mid);
		return;
	}
	x->w = xcalloc(per * o->co, sizeof(float));
	memcpy(x->w, tensor(m, "%s", o->wname), per * o->co * sizeof(float));
	if (o->bias)
		fold_bias(x, o, m, per);
	x->wp = packed(x->w, o->co, per);
}

struct xnet *
xnet_new(const struct model *m, int img_ch, int img_h, int img_w,
    const struct data_norm *nm, int rule, const double *eps, int conf)
{
	struct xnet *x = xcalloc(1, sizeof(*x));
	int i, c, v;

	sched_build(&x->s, &m->net, img_ch);
	x->img_ch = img_ch, x->img_h = img_h, x->img_w = img_w;
	/* data_batch's table: bit for bit the engine's input */
	for (c = 0; c < img_ch; c++)
		for (v = 0; v < 256; v++)
			x->tab[c * 256 + v] = ((float)v / 255.0f - nm->mean[c]) / nm->std[c];
	x->rule = rule;
	memcpy(x->eps, eps, (x->s.nseg - 1) * sizeof(double));
	x->conf = conf;
	for (i = 0; i < x->s.nop; i++) {
		const struct sched_op *o = &x->s.op[i];

		if (o->kind == SK_CONV || o->kind == SK_DW || o->kind == SK_LINEAR ||
		    o->kind == SK_SE)
			fold(&x->op[i], o, m);
		for (c = 0; c < XR_N; c++) {
			x->op[i].lo[c] = INFINITY;
			x->op[i].hi[c] = -INFINITY;
		}
	}
	return x;
}

void
xnet_free(struct xnet *x)
{
	int i;

	if (x == NULL)
		return;
	for (i = 0; i < x->s.nop; i++) {
		struct xop *o = &x->op[i];

		free(o->w), free(o->wp), free(o->b), free(o->w2), free(o->b2), free(o->w2p);
		free(o->qw), free(o->qw2), free(o->qb), free(o->qb2);
		free(o->mul), free(o->mul2), free(o->sh), free(o->sh2);
	}
	free(x);
}

/* ---- float ---- */

static void
range(struct xop *x, int r, const float *v, long n)
{
	long i;

	for (i = 0; i < n; i++) {
		x->lo[r] = v[i] < x->lo[r] ? v[i] : x->lo[r];
		x->hi[r] = v[i] > x->hi[r] ? v[i] : x->hi[r];
	}
}

/* Op i of x in float on arena A; cal (x itself, or NULL) records ranges. */
static void
op_f32(const struct xnet *x, struct xnet *cal, int i, float *A, const uint8_t *img)
{
	const struct sched_op *o = &x->s.op[i];
	const struct xop *p = &x->op[i];
	struct xop *r = cal ? &cal->op[i] : NULL;
	float *out = o->out >= 0 ? A + x->s.buf[o->out].off : NULL;
	const float *in = o->in >= 0 ? A + x->s.buf[o->in].off : NULL;
	long n = (long)o->co * o->ho * o->wo, hw = (long)o->h * o->w;
	int act = r && sched_table_act(o->act) ? NN_ID : o->act;
	long j;

	switch (o->kind) {
	case SK_INPUT:
		k_input_f32(out, img, x->tab, x->img_ch, x->img_h, x->img_w, o->co, o->h);
		break;
	case SK_CONV:
	case SK_DW:
		k_conv_f32(out, in, p->wp, p->b, o->ci, o->h, o->w, o->co, o->k, o->s, o->p,
		    o->kind == SK_DW, act, o->in_relu);
		break;
	case SK_LINEAR:
		k_linear_f32(out, in, p->wp, p->b, o->ci, o->co, act);
		break;
	case SK_SE: {
		float *t0 = A + x->s.buf[o->tmp[0]].off, *t1 = A + x->s.buf[o->tmp[1]].off;

		k_gap_f32(t0, in, o->ci, (int)hw);
		if (r)
			range(r, XR_POOL, t0, o->ci);
		k_linear_f32(t1, t0, p->wp, p->b, o->ci, o->se_mid, NN_RELU);
		if (r)
			range(r, XR_RED, t1, o->se_mid);
		k_linear_f32(t0, t1, p->w2p, p->b2, o->se_mid, o->ci, r ? NN_ID : NN_HSIGMOID);
		if (r) {
			range(r, XR_EXP, t0, o->ci);
			for (j = 0; j < o->ci; j++)
				t0[j] = k_act(t0[j], NN_HSIGMOID);
			range(r, XR_SIG, t0, o->ci);
		}
		k_scale_f32(out, t0, o->ci, (int)hw);
		break;
	}
	case SK_ADD:
		k_add_f32(out, A + x->s.buf[o->res].off, n);
		break;
	case SK_POOL:
		k_pool_f32(out, in, o->ci, o->h, o->w, o->k, o->act);
		break;
	case SK_GAP:
		k_gap_f32(out, in, o->ci, (int)hw);
		break;
	case SK_EXIT:
		return;
	}
	if (r && act != o->act) {
		range(r, XR_PRE, out, n);
		for (j = 0; j < n; j++)
			out[j] = k_act(out[j], o->act);
	}
	if (r)
		range(r, XR_OUT, out, n);
}

void
xnet_calibrate(struct xnet *x, const uint8_t *img, long n)
{
	float *A = xcalloc(x->s.arena, sizeof(float));
	long sz = (long)x->img_ch * x->img_h * x->img_w, j;
	int i;

	for (j = 0; j < n; j++)
		for (i = 0; i < x->s.nop; i++)
			op_f32(x, x, i, A, img + j * sz);
	x->ncalib += n;
	x->calibrated = n > 0;
	free(A);
}

/* ---- int8 ---- */

const struct qparam *
xnet_qof(const struct xnet *x, int i, int b)
{
	int j;

	for (j = i - 1; j >= 0; j--)
		if (x->s.op[j].out == b)
			return &x->op[j].q_out;
	errx(EX_SOFTWARE, "export: op %d reads buffer %d before any op writes it", i, b);
}

static void
qrange(struct qparam *q, const struct xop *p, int r)
{
	quant_range(q, isfinite(p->lo[r]) ? p->lo[r] : 0, isfinite(p->hi[r]) ? p->hi[r] : 0);
}

/* int8 weights, bias and per-channel requantisation of a MAC op: w (co,
 * per) over an input of scale sin into an output of scale sout. */
static void
qmac(int8_t **qw, int32_t **qb, int32_t **mul, int32_t **sh, const float *w,
    const float *b, int co, long per, double sin, double sout)
{
	float *sw = xcalloc(co, sizeof(float));
	int c;

	*qw = xcalloc(co * per, 1);
	*qb = xcalloc(co, sizeof(int32_t));
	*mul = xcalloc(co, sizeof(int32_t));
	*sh = xcalloc(co, sizeof(int32_t));
	quant_weights(*qw, sw, w, co, per);
	for (c = 0; c < co; c++) {
		double v = b ? round(b[c] / ((double)sw[c] * sin)) : 0;

		(*qb)[c] = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
		quant_multiplier(sw[c] * sin / sout, &(*mul)[c], &(*sh)[c]);
	}
	free(sw);
}

void
xnet_quantise(struct xnet *x)
{
	int i, c, v;

	if (!x->calibrated)
		errx(EX_SOFTWARE, "export: quantise before calibration");
	for (i = 0; i < x->s.nop; i++) {
		const struct sched_op *o = &x->s.op[i];
		struct xop *p = &x->op[i];
		const struct qparam *qi = o->kind == SK_INPUT || o->kind == SK_EXIT ? NULL :
		    xnet_qof(x, i, o->in);
		long per = o->kind == SK_DW ? (long)o->k * o->k : (long)o->ci * o->k * o->k;
		const struct qparam *tgt = &p->q_out;
		double lo = 0, hi = 0, twice;
		struct qparam conf = { (float)XNET_CONF_SCALE, XNET_CONF_ZP };

		switch (o->kind) {
		case SK_INPUT:
			for (c = 0; c < x->img_ch * 256; c++) {
				lo = x->tab[c] < lo ? x->tab[c] : lo;
				hi = x->tab[c] > hi ? x->tab[c] : hi;
			}
			quant_range(&p->q_out, lo, hi);
			for (c = 0; c < x->img_ch; c++)
				for (v = 0; v < 256; v++)
					x->qtab[c * 256 + v] = quant_value(&p->q_out, x->tab[c * 256 + v]);
			break;
		case SK_CONV:
		case SK_DW:
		case SK_LINEAR:
			qrange(&p->q_out, p, XR_OUT);
			if (sched_table_act(o->act)) {
				qrange(&p->q_pre, p, XR_PRE);
				quant_lut(p->lut, o->act, &p->q_pre, &p->q_out);
				tgt = &p->q_pre;
			}
			qmac(&p->qw, &p->qb, &p->mul, &p->sh, p->w, p->b, o->co, per, qi->s,
			    tgt->s);
			if (o->conf)
				quant_lut(p->clut, QUANT_SIGMOID, &p->q_out, &conf);
			break;
		case SK_SE:
			qrange(&p->q_pool, p, XR_POOL);
			qrange(&p->q_red, p, XR_RED);
			qrange(&p->q_exp, p, XR_EXP);
			qrange(&p->q_sig, p, XR_SIG);
			qrange(&p->q_out, p, XR_OUT);
			quant_multiplier(qi->s / ((double)p->q_pool.s * o->h * o->w), &p->m[0],
			    &p->s[0]);
			qmac(&p->qw, &p->qb, &p->mul, &p->sh, p->w, p->b, o->se_mid, o->ci,
			    p->q_pool.s, p->q_red.s);
			qmac(&p->qw2, &p->qb2, &p->mul2, &p->sh2, p->w2, p->b2, o->ci, o->se_mid,
			    p->q_red.s, p->q_exp.s);
			quant_lut(p->lut, NN_HSIGMOID, &p->q_exp, &p->q_sig);
			quant_multiplier((double)qi->s * p->q_sig.s / p->q_out.s, &p->m[1],
			    &p->s[1]);
			break;
		case SK_ADD: {
			const struct qparam *qr = xnet_qof(x, i, o->res);

			qrange(&p->q_out, p, XR_OUT);
			twice = 2 * (qi->s > qr->s ? qi->s : qr->s);
			quant_multiplier(qi->s / twice, &p->m[0], &p->s[0]);
			quant_multiplier(qr->s / twice, &p->m[1], &p->s[1]);
			quant_multiplier(twice / ((double)(1 << 20) * p->q_out.s), &p->m[2],
			    &p->s[2]);
			break;
		}
		case SK_POOL:
			p->q_out = *qi;
			break;
		case SK_GAP:
			qrange(&p->q_out, p, XR_OUT);
			quant_multiplier(qi->s / ((double)p->q_out.s * o->h * o->w), &p->m[0],
			    &p->s[0]);
			break;
		case SK_EXIT:
			break;
		}
	}
	x->quantised = 1;
}

/* Op i in int8 on arena A. */
static void
op_q(const struct xnet *x, int i, int8_t *A, const uint8_t *img)
{
	const struct sched_op *o = &x->s.op[i];
	const struct xop *p = &x->op[i];
	int8_t *out = o->out >= 0 ? A + x->s.buf[o->out].off : NULL;
	const int8_t *in = o->in >= 0 ? A + x->s.buf[o->in].off : NULL;
	const struct qparam *qi = o->kind == SK_INPUT || o->kind == SK_EXIT ? NULL :
	    xnet_qof(x, i, o->in);
	long n = (long)o->co * o->ho * o->wo;
	int hw = o->h * o->w, lut = sched_table_act(o->act);
	int32_t zo = lut ? p->q_pre.z : p->q_out.z, lo = o->act == NN_RELU ? zo : -128;

	if (lo < -128)
		lo = -128;
	switch (o->kind) {
	case SK_INPUT:
		k_input_q(out, img, x->qtab, x->img_ch, x->img_h, x->img_w, o->co, o->h,
		    (int8_t)p->q_out.z);
		return;
	case SK_CONV:
	case SK_DW:
		k_conv_q(out, in, p->qw, p->qb, p->mul, p->sh, o->ci, o->h, o->w, o->co, o->k,
		    o->s, o->p, o->kind == SK_DW, qi->z, o->in_relu ? qi->z : -128, zo, lo, 127);
		break;
	case SK_LINEAR:
		k_linear_q(out, in, p->qw, p->qb, p->mul, p->sh, o->ci, o->co, qi->z, zo, lo, 127);
		break;
	case SK_SE: {
		int8_t *t0 = A + x->s.buf[o->tmp[0]].off, *t1 = A + x->s.buf[o->tmp[1]].off;

		k_gap_q(t0, in, o->ci, hw, qi->z, p->m[0], p->s[0], p->q_pool.z);
		k_linear_q(t1, t0, p->qw, p->qb, p->mul, p->sh, o->ci, o->se_mid, p->q_pool.z,
		    p->q_red.z, p->q_red.z, 127);
		k_linear_q(t0, t1, p->qw2, p->qb2, p->mul2, p->sh2, o->se_mid, o->ci, p->q_red.z,
		    p->q_exp.z, -128, 127);
		k_lut_q(t0, o->ci, p->lut);
		k_scale_qs(out, t0, o->ci, hw, qi->z, p->q_sig.z, p->m[1], p->s[1], p->q_out.z);
		return;
	}
	case SK_ADD: {
		const struct qparam *qr = xnet_qof(x, i, o->res);

		k_add_q(out, A + x->s.buf[o->res].off, n, qi->z, p->m[0], p->s[0], qr->z,
		    p->m[1], p->s[1], p->m[2], p->s[2], p->q_out.z);
		return;
	}
	case SK_POOL:
		k_pool_q(out, in, o->ci, o->h, o->w, o->k, o->act == NN_RELU ? qi->z : -128);
		return;
	case SK_GAP:
		k_gap_q(out, in, o->ci, hw, qi->z, p->m[0], p->s[0], p->q_out.z);
		return;
	case SK_EXIT:
		return;
	}
	if (lut)
		k_lut_q(out, n, p->lut);
}

/* ---- running ---- */


void
xnet_segment(const struct xnet *x, enum sched_dtype dt, void *arena, const uint8_t *img,
    int e, float *logits, float *conf)
{
	const struct sched *s = &x->s;
	int i, lb = s->logits[e], lin = s->seg_op[e + 1] - 2, K = s->net.classes;
	int nout = (int)s->buf[lb].n, k;

	if (dt == SCHED_INT8 && !x->quantised)
		errx(EX_SOFTWARE, "export: int8 run before quantisation");
	for (i = s->seg_op[e]; i < s->seg_op[e + 1]; i++)
		if (dt == SCHED_F32)
			op_f32(x, NULL, i, arena, img);
		else
			op_q(x, i, arena, img);
	if (dt == SCHED_F32) {
		memcpy(logits, (float *)arena + s->buf[lb].off, nout * sizeof(float));
		*conf = x->conf && s->op[lin].conf ? k_conf(logits[K]) : 0;
		return;
	}
	{
		const int8_t *q = (const int8_t *)arena + s->buf[lb].off;
		const struct qparam *qo = &x->op[lin].q_out;

		for (k = 0; k < nout; k++)
			logits[k] = (float)quant_real(qo, q[k]);
		*conf = x->conf && s->op[lin].conf ?
		    (float)((x->op[lin].clut[q[K] + 128] - XNET_CONF_ZP) * XNET_CONF_SCALE) : 0;
	}
}

int
xnet_predict(const struct xnet *x, enum sched_dtype dt, void *arena, const uint8_t *img,
    int *exit, float *logits)
{
	float lg[1024 + 1], conf[ARCH_EXITS + 1];
	int B = x->s.nseg, K = x->s.net.classes, e, cls = 0;

	if (K > 1024)
		errx(EX_SOFTWARE, "export: %d classes", K);
	for (e = 0; e < B; e++) {
		float score;

		xnet_segment(x, dt, arena, img, e, lg, &conf[e]);
		score = k_score(lg, K, conf, e, x->rule, &cls);
		if (e == B - 1 || k_fires(x->eps[e], score))
			break;
	}
	*exit = e;
	if (logits)
		memcpy(logits, lg, x->s.buf[x->s.logits[e]].n * sizeof(float));
	return cls;
}
