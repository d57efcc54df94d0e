/* test_quant.c - the int8 arithmetic of quant.h and export_kern.inc against
 * a double-precision reference: multipliers and requantisation, ranges,
 * weights, tables, and each int8 kernel against its float twin on the
 * dequantised values; and the exit scores of the kernels against exo.c and
 * thr.c, bit for bit. */
#include <stdlib.h>
#include <string.h>

#include "exo.h"
#include "export.h"
#include "nn.h"
#include "quant.h"
#include "thr.h"
#include "unit.h"

#define K_NO_DISPATCH   /* one copy of the float kernels is enough here */
#include "export_kern.inc"
#include "export_kern_vec.inc"

static void
test_requant(void)
{
	struct nn_rng r;
	int it, bad_m = 0, bad_r = 0, worst = 0;

	nn_rng_seed(&r, 1);
	for (it = 0; it < 20000; it++) {
		double M = exp(-16 + 18 * nn_rng_uniform(&r));   /* 1e-7 .. 7 */
		int32_t mult, shift, x = (int32_t)(nn_rng_u32(&r) % 2000001) - 1000000, got;
		double want;

		quant_multiplier(M, &mult, &shift);
		bad_m += mult < (1 << 30) || fabs(ldexp(mult, shift - 31) / M - 1) > 1e-9;
		got = quant_requant(x, mult, shift);
		want = x * ldexp(mult, shift - 31);     /* the quantised M, exactly */
		/* TFLite's two roundings (gemmlowp): off by <= 1 */
		if (fabs(got - want) > 1.0)
			bad_r++;
		if (abs(got - (int32_t)lround(want)) > worst)
			worst = abs(got - (int32_t)lround(want));
	}
	CHECK_EQ_L(bad_m, 0);
	CHECK_EQ_L(bad_r, 0);
	CHECK(worst <= 1);
	/* exact cases: M = 1/2 and M = 1 */
	{
		int32_t m, s;

		quant_multiplier(0.5, &m, &s);
		CHECK_EQ_L(quant_requant(7, m, s), 4);       /* 3.5 -> 4 */
		CHECK_EQ_L(quant_requant(-7, m, s), -3);     /* gemmlowp: -3.5 -> -3 */
		quant_multiplier(1, &m, &s);
		CHECK_EQ_L(quant_requant(123456, m, s), 123456);
		quant_multiplier(0, &m, &s);
		CHECK_EQ_L(quant_requant(123456, m, s), 0);
	}
}

static void
test_range_weights(void)
{
	struct qparam q;
	float w[3 * 5] = { 1, -2, 0.5f, 0, 0.25f, 0, 0, 0, 0, 0, -0.1f, 0.05f, 0.1f, 0, 0 };
	float sc[3];
	int8_t qw[15];
	int i, bad = 0;

	quant_range(&q, -1, 3);
	CHECK_NEAR(q.s, 4.0 / 255, 1e-9);
	CHECK_NEAR(quant_real(&q, q.z), 0, 1e-12);          /* 0 is exact */
	CHECK(quant_value(&q, -1) == -128);
	CHECK(quant_value(&q, 3) == 127);
	quant_range(&q, 0.5, 2);                            /* widened to hold 0 */
	CHECK_EQ_L(q.z, -128);
	quant_weights(qw, sc, w, 3, 5);
	CHECK_EQ_L(qw[1], -127);                            /* |max| -> 127 per channel */
	CHECK_EQ_L(qw[12], 127);
	CHECK_EQ_L(qw[5], 0);                               /* an all-zero channel */
	for (i = 0; i < 15; i++)
		bad += fabs(qw[i] * sc[i / 5] - w[i]) > sc[i / 5] / 2 + 1e-7;
	CHECK_EQ_L(bad, 0);
}

static void
test_lut(void)
{
	static const int acts[] = { NN_HSWISH, NN_HSIGMOID, NN_RELU6, QUANT_SIGMOID };
	struct qparam in, out;
	int8_t lut[256];
	int a, v, bad = 0;

	quant_range(&in, -7, 9);
	for (a = 0; a < 4; a++) {
		double lo = 1e9, hi = -1e9;

		for (v = -128; v < 128; v++) {
			double y = quant_act(acts[a], quant_real(&in, v));

			lo = y < lo ? y : lo;
			hi = y > hi ? y : hi;
		}
		quant_range(&out, lo, hi);
		quant_lut(lut, acts[a], &in, &out);
		/* each entry is the nearest int8 to the float function */
		for (v = -128; v < 128; v++)
			bad += fabs(quant_real(&out, lut[v + 128]) -
			    quant_act(acts[a], quant_real(&in, v))) > out.s / 2 + 1e-6;
	}
	CHECK_EQ_L(bad, 0);
	CHECK_NEAR(quant_act(NN_HSWISH, -3), 0, 0);
	CHECK_NEAR(quant_act(NN_HSWISH, 3), 3, 0);
	CHECK_NEAR(quant_act(NN_HSIGMOID, 0), 0.5, 0);
}

static void
fill(float *v, long n, struct nn_rng *r, float lo, float hi)
{
	long i;

	for (i = 0; i < n; i++)
		v[i] = lo + (hi - lo) * nn_rng_uniform(r);
}

/* int8 convolution (plain and depthwise, ReLU on the input or output)
 * against the float kernel on the dequantised input and weights: within
 * one output step (the requantisation rounds twice) plus the bias's
 * rounding. */
static void
test_conv_q(void)
{
	/* CM: the output channels of either form (depthwise has CI) */
	enum { CI = 5, H = 7, W = 6, CO = 4, K = 3, CM = CI > CO ? CI : CO };
	struct nn_rng r;
	float x[CI * H * W], w[CO * CI * K * K], b[CM], xd[CI * H * W], wd[CO * CI * K * K];
	float y[CM * H * W], sw[CM], wp[CO * CI * K * K];
	int8_t qx[CI * H * W], qw[CO * CI * K * K], qy[CM * H * W];
	int32_t qb[CM], mul[CM], sh[CM];
	struct qparam qi, qo;
	int dw, relu, i, bad = 0, c;
	double lo, hi;

	nn_rng_seed(&r, 3);
	for (dw = 0; dw < 2; dw++)
		for (relu = 0; relu < 2; relu++) {
			int co = dw ? CI : CO, per = dw ? K * K : CI * K * K;

			fill(x, CI * H * W, &r, -2, 3);
			fill(w, co * per, &r, -0.5f, 0.5f);
			fill(b, co, &r, -0.3f, 0.3f);
			quant_range(&qi, -2, 3);
			for (i = 0; i < CI * H * W; i++) {
				qx[i] = quant_value(&qi, x[i]);
				xd[i] = (float)quant_real(&qi, qx[i]);
			}
			quant_weights(qw, sw, w, co, per);
			for (i = 0; i < co * per; i++)
				wd[i] = qw[i] * sw[i / per];
			nn_b1_pack(wp, wd, co, per);
			k_conv_f32(y, xd, wp, b, CI, H, W, co, K, 1, 1, dw, relu ? K_ID : K_RELU,
			    relu);
			lo = 1e9, hi = -1e9;
			for (i = 0; i < co * H * W; i++) {
				lo = y[i] < lo ? y[i] : lo;
				hi = y[i] > hi ? y[i] : hi;
			}
			quant_range(&qo, lo, hi);
			for (c = 0; c < co; c++) {
				qb[c] = (int32_t)lround(b[c] / ((double)sw[c] * qi.s));
				quant_multiplier(sw[c] * qi.s / qo.s, &mul[c], &sh[c]);
			}
			k_conv_q(qy, qx, qw, qb, mul, sh, CI, H, W, co, K, 1, 1, dw, qi.z,
			    relu ? qi.z : -128, qo.z, relu ? -128 : qo.z, 127);
			for (i = 0; i < co * H * W; i++)
				bad += fabs(quant_real(&qo, qy[i]) - y[i]) > qo.s * 1.0 +
				    (double)qi.s * sw[i / (H * W)] * 0.5 + 1e-6;
		}
	CHECK_EQ_L(bad, 0);
}

/* Residual add, SE scale and global average pool against float. */
static void
test_elementwise_q(void)
{
	enum { C = 3, HW = 10 };
	struct nn_rng r;
	float a[C * HW], b[C * HW], s[C], y[C * HW], g[C];
	int8_t qa[C * HW], qb[C * HW], qs[C], qg[C];
	struct qparam pa, pb, ps, po, pg;
	int32_t m0, s0, m1, s1, m2, s2;
	double twice;
	int i, bad = 0;

	nn_rng_seed(&r, 4);
	fill(a, C * HW, &r, -1, 2);
	fill(b, C * HW, &r, -4, 1);
	fill(s, C, &r, 0, 1);
	quant_range(&pa, -1, 2);
	quant_range(&pb, -4, 1);
	quant_range(&ps, 0, 1);
	for (i = 0; i < C * HW; i++) {
		qa[i] = quant_value(&pa, a[i]);
		qb[i] = quant_value(&pb, b[i]);
		a[i] = (float)quant_real(&pa, qa[i]);
		b[i] = (float)quant_real(&pb, qb[i]);
	}
	for (i = 0; i < C; i++) {
		qs[i] = quant_value(&ps, s[i]);
		s[i] = (float)quant_real(&ps, qs[i]);
	}
	/* add */
	quant_range(&po, -5, 3);
	twice = 2 * (pa.s > pb.s ? pa.s : pb.s);
	quant_multiplier(pa.s / twice, &m0, &s0);
	quant_multiplier(pb.s / twice, &m1, &s1);
	quant_multiplier(twice / ((double)(1 << 20) * po.s), &m2, &s2);
	memcpy(y, a, sizeof(y));
	k_add_f32(y, b, C * HW);
	{
		int8_t q[C * HW];

		memcpy(q, qa, sizeof(q));
		k_add_q(q, qb, C * HW, pa.z, m0, s0, pb.z, m1, s1, m2, s2, po.z);
		for (i = 0; i < C * HW; i++)
			bad += fabs(quant_real(&po, q[i]) - y[i]) > po.s * 0.5 + 1e-5;
	}
	/* scale */
	quant_range(&po, -1, 2);
	quant_multiplier((double)pa.s * ps.s / po.s, &m0, &s0);
	memcpy(y, a, sizeof(y));
	k_scale_f32(y, s, C, HW);
	{
		int8_t q[C * HW];

		memcpy(q, qa, sizeof(q));
		k_scale_q(q, qs, C, HW, pa.z, ps.z, m0, s0, po.z);
		for (i = 0; i < C * HW; i++)
			bad += fabs(quant_real(&po, q[i]) - y[i]) > po.s * 0.5 + 1e-5;
	}
	/* gap */
	k_gap_f32(g, b, C, HW);
	quant_range(&pg, -4, 1);
	quant_multiplier(pb.s / ((double)pg.s * HW), &m0, &s0);
	k_gap_q(qg, qb, C, HW, pb.z, m0, s0, pg.z);
	for (i = 0; i < C; i++)
		bad += fabs(quant_real(&pg, qg[i]) - g[i]) > pg.s * 0.5 + 1e-5;
	CHECK_EQ_L(bad, 0);
}

/* k_score and k_conf equal exo_fill_exit + thr_score bit for bit. */
static void
test_scores(void)
{
	enum { B = 4, K = 5, N = 200 };
	struct exo e;
	struct nn_rng r;
	float lg[B][K + 1], conf[B];
	int j, i, rule, cls, bad = 0, badc = 0;

	nn_rng_seed(&r, 9);
	exo_alloc(&e, "test", N, B, K);
	for (j = 0; j < N; j++) {
		for (i = 0; i < B; i++) {
			fill(lg[i], K + 1, &r, -6, 6);
			if (j % 7 == 0)
				lg[i][2] = lg[i][1];   /* ties: the first wins */
			exo_fill_exit(&e, j, i, lg[i], lg[i] + K);
			conf[i] = i < B - 1 ? k_conf(lg[i][K]) : 1;
		}
		for (i = 0; i < B - 1; i++)
			for (rule = 0; rule < 5; rule++) {
				float s = k_score(lg[i], K, conf, i, rule, &cls);

				bad += memcmp(&s, &(float){ thr_score(&e, rule, i, j) }, 4) != 0;
				badc += cls != e.pred[(long)i * N + j];
			}
	}
	CHECK_EQ_L(bad, 0);
	CHECK_EQ_L(badc, 0);
	CHECK(k_fires(0.5, 0.5f) && !k_fires(0.5, 0.49f) && !k_fires(1, 1.0f));
	CHECK((int)K_HSWISH == NN_HSWISH && (int)K_HSIGMOID == NN_HSIGMOID &&
	    (int)K_RELU6 == NN_RELU6);
	CHECK((int)K_ENTROPY == THR_ENTROPY && (int)K_WEIGHT == THR_WEIGHT);
	exo_free(&e);
}

int
main(void)
{
	test_requant();
	test_range_weights();
	test_lut();
	test_conv_q();
	test_elementwise_q();
	test_scores();
	return unit_done("quant");
}
