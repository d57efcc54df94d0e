/* test_model.c - the model: MACs counted while running equal arch_net's,
 * parameter counts, tensor table, finite-difference gradient of the whole
 * network (NACHOS, AEBNAS, backbone-only), split forward / heads backward. */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "unit.h"

static void
small_arch(struct arch *a, enum arch_space s, int max, double w, int in_ch, int res)
{
	arch_extreme(a, s, max);
	a->width = w;
	a->resolution = res;
	a->in_ch = in_ch;
	a->classes = 10;
}

static void
fill(float *x, long n, uint64_t seed)
{
	struct nn_rng r;
	long i;

	nn_rng_seed(&r, seed);
	for (i = 0; i < n; i++)
		x[i] = nn_rng_normal(&r);
}

static void
check_macs(enum arch_space s, int max, int flags, double w, int in_ch)
{
	struct arch a;
	struct arch_net n;
	struct model m;
	float *x;
	long params = 0, want = 0;
	int i;

	small_arch(&a, s, max, w, in_ch, 32);
	arch_net_build(&n, &a);
	model_build(&m, &n, flags, 2);
	model_init(&m, 1);
	x = calloc((size_t)in_ch * 2 * 32 * 32, sizeof(float));
	fill(x, (long)in_ch * 2 * 32 * 32, 3);
	model_forward(&m, x, 2, 0);
	for (i = 0; i < m.nexit; i++) {
		const struct arch_exit *e = &n.ex[m.exit_at[i]];

		CHECK_EQ_L(m.macs_to[i] + m.macs_head[i], e->cost);
		CHECK_EQ_L(m.macs_head[i], e->head_macs);
		if (i < m.nexit - 1)
			want += e->head_params;
	}
	CHECK_EQ_L(m.macs_to[m.nexit - 1] + m.macs_head[m.nexit - 1], n.macs_backbone);
	/* Parameters (BN running statistics are buffers, not parameters). */
	for (i = 0; i < m.ntensor; i++)
		if (m.t[i].flags & MT_TRAIN)
			params += m.t[i].n;
	CHECK_EQ_L(params, n.params_backbone + want);
	free(x);
	model_free(&m);
}

static void
test_macs(void)
{
	check_macs(ARCH_NACHOS, 0, 0, 1.0, 3);
	check_macs(ARCH_NACHOS, 1, 0, 1.0, 3);
	check_macs(ARCH_NACHOS, 1, MODEL_BACKBONE_ONLY, 1.2, 1);
	check_macs(ARCH_EDANAS, 0, 0, 0.5, 1);
	check_macs(ARCH_AEBNAS, 1, 0, 1.0, 3);
	check_macs(ARCH_AEBNAS, 0, 0, 1.0, 1);
}

static void
test_names(void)
{
	struct arch a;
	struct arch_net n;
	struct model m;
	struct model_tensor *t;

	small_arch(&a, ARCH_NACHOS, 0, 1.0, 3, 32);
	arch_net_build(&n, &a);
	model_build(&m, &n, 0, 1);
	t = model_tensor(&m, "first_conv.conv.weight");
	CHECK(t && t->ndim == 4 && t->shape[0] == 16 && t->shape[1] == 3 && t->shape[2] == 3);
	CHECK(t && t->flags == (MT_TRAIN | MT_DECAY));
	t = model_tensor(&m, "first_conv.bn.running_var");
	CHECK(t && t->flags == MT_BUFFER);
	t = model_tensor(&m, "blocks.0.conv.depth_conv.conv.weight");
	CHECK(t && t->shape[0] == 16 && t->shape[1] == 1 && t->shape[2] == 3);
	CHECK(model_tensor(&m, "blocks.0.conv.inverted_bottleneck.conv.weight") == NULL);
	/* Stage 2 (slots 4..7) has SE; d = 2 keeps slots 4 and 5 (blocks.5, .6). */
	t = model_tensor(&m, "blocks.5.conv.depth_conv.se.fc.reduce.weight");
	CHECK(t && t->shape[1] == n.blk[3].mid && t->shape[0] == n.blk[3].se_mid);
	t = model_tensor(&m, "blocks.6.conv.depth_conv.se.fc.expand.bias");
	CHECK(t && t->flags == MT_TRAIN && t->shape[0] == n.blk[4].mid);
	CHECK(model_tensor(&m, "blocks.7.conv.point_linear.conv.weight") == NULL);
	t = model_tensor(&m, "feature_mix_layer.conv.weight");
	CHECK(t && t->ndim == 4 && t->shape[0] == 1280 && t->shape[1] == 960);
	t = model_tensor(&m, "classifier.linear.weight");
	CHECK(t && t->ndim == 2 && t->shape[0] == 10 && t->shape[1] == 1280);
	t = model_tensor(&m, "exits.0.linear.weight");
	CHECK(t && t->shape[0] == 11 && t->shape[1] == 128L * n.ex[0].hp * n.ex[0].wp);
	t = model_tensor(&m, "exits.3.conv1.bias");
	CHECK(t && t->flags == MT_TRAIN && t->shape[0] == 32);
	CHECK(m.t[1].off % 16 == 0);
	model_free(&m);
}

/* Sum over exits of the mean CE over all nout outputs, in double, and the
 * logit gradients when dl is given. */
static double
loss(struct model *m, const int *y, float **dl)
{
	double L = 0;
	int e;

	for (e = 0; e < m->nexit; e++) {
		L += nn_softmax_ce_fwd(NULL, m->logits[e], y, m->N, m->nout[e]);
		if (dl) {
			float *p = malloc(sizeof(float) * m->N * m->nout[e]);

			nn_softmax_ce_fwd(p, m->logits[e], y, m->N, m->nout[e]);
			memset(dl[e], 0, sizeof(float) * m->N * m->nout[e]);
			nn_softmax_ce_bwd(dl[e], p, y, m->N, m->nout[e], 1.0f / m->N);
			free(p);
		}
	}
	return L;
}

/* Finite differences per tensor along its own gradient direction u = g/|g|:
 * (L(p + eps u) - L(p - eps u)) / 2 eps must equal |g|. Single entries are
 * too noisy here (ReLU kinks, BN over 4 samples at 1x1 maps, float32
 * forward); a whole-tensor direction gives a large signal per tensor and
 * still catches a wrong scale, sign or misplaced element. */
static void
gradcheck(enum arch_space s, int max, int flags)
{
	struct arch a;
	struct arch_net n;
	struct model m;
	float *x, *dl[MODEL_MAX_EXITS], *g, *keep;
	int y[4] = { 1, 7, 3, 9 }, N = 4, i, bad = 0, checked = 0;
	const double eps = 1e-4;

	small_arch(&a, s, max, 0.25, 1, 32);
	arch_net_build(&n, &a);
	model_build(&m, &n, flags, N);
	model_init(&m, 7);
	x = malloc(sizeof(float) * N * 32 * 32);
	fill(x, N * 32 * 32, 11);
	for (i = 0; i < m.nexit; i++)
		dl[i] = malloc(sizeof(float) * N * m.nout[i]);
	model_forward(&m, x, N, 1);
	loss(&m, y, dl);
	model_zero_grad(&m);
	model_backward(&m, (const float *const *)dl);
	g = malloc(sizeof(float) * m.nparam);
	keep = malloc(sizeof(float) * m.nparam);
	memcpy(g, m.grad, sizeof(float) * m.nparam);
	memcpy(keep, m.param, sizeof(float) * m.nparam);
	for (i = 0; i < m.ntensor; i++) {
		struct model_tensor *t = &m.t[i];
		double nrm = 0, lp, lm, fd;
		long k;

		if (!(t->flags & MT_TRAIN))
			continue;
		for (k = t->off; k < t->off + t->n; k++)
			nrm += (double)g[k] * g[k];
		nrm = sqrt(nrm);
		if (nrm == 0)
			continue;
		for (k = t->off; k < t->off + t->n; k++)
			m.param[k] = keep[k] + eps * g[k] / nrm;
		model_forward(&m, x, N, 1);
		lp = loss(&m, y, NULL);
		for (k = t->off; k < t->off + t->n; k++)
			m.param[k] = keep[k] - eps * g[k] / nrm;
		model_forward(&m, x, N, 1);
		lm = loss(&m, y, NULL);
		memcpy(m.param + t->off, keep + t->off, sizeof(float) * t->n);
		fd = (lp - lm) / (2 * eps);
		checked++;
		/* The float32 loss carries some 2^6 ulps of rounding (measured:
		 * 40 at -O1, where a BN bias with no effect on the loss showed a
		 * numeric gradient of 0.055): the central difference inherits that
		 * error over 2 eps, on top of 3 % of the gradient and 0.02. */
		if (!(fabs(fd - nrm) <= 0.02 + 64 * FLT_EPSILON / 2 * fabs(lp) / (2 * eps) +
		    0.03 * nrm) && bad++ < 10)
			fprintf(stderr, "    %s: |g| %.6g, numeric %.6g\n", t->name, nrm, fd);
	}
	CHECK_EQ_L(bad, 0);
	CHECK(checked > 40);
	for (i = 0; i < m.nexit; i++)
		free(dl[i]);
	free(g);
	free(keep);
	free(x);
	model_free(&m);
}

static void
test_gradcheck(void)
{
	gradcheck(ARCH_NACHOS, 0, 0);
	gradcheck(ARCH_AEBNAS, 1, 0);
	gradcheck(ARCH_EDANAS, 0, MODEL_BACKBONE_ONLY);
}

/* Heads from features equal the full forward; heads-only backward gives
 * the same head gradients and none in the backbone. */
static void
test_split(void)
{
	struct arch a;
	struct arch_net n;
	struct model m;
	float *x, *dl[MODEL_MAX_EXITS], *full, *lg[MODEL_MAX_EXITS];
	int y[3] = { 0, 4, 2 }, N = 3, i, e, bb_zero = 1, first_head;

	small_arch(&a, ARCH_NACHOS, 0, 0.25, 1, 32);
	arch_net_build(&n, &a);
	model_build(&m, &n, 0, N);
	model_init(&m, 5);
	x = malloc(sizeof(float) * N * 32 * 32);
	fill(x, N * 32 * 32, 2);
	for (e = 0; e < m.nexit; e++)
		dl[e] = malloc(sizeof(float) * N * m.nout[e]);
	model_forward(&m, x, N, 1);
	for (e = 0; e < m.nexit; e++) {
		lg[e] = malloc(sizeof(float) * N * m.nout[e]);
		memcpy(lg[e], m.logits[e], sizeof(float) * N * m.nout[e]);
	}
	loss(&m, y, dl);
	model_zero_grad(&m);
	model_backward(&m, (const float *const *)dl);
	full = malloc(sizeof(float) * m.nparam);
	memcpy(full, m.grad, sizeof(float) * m.nparam);

	/* Same batch statistics: the backbone runs again in train mode. */
	model_forward_backbone(&m, x, N, 1);
	model_forward_heads(&m, 1);
	for (e = 0; e < m.nexit; e++)
		CHECK_CLOSE(m.logits[e], lg[e], (long)N * m.nout[e], 1e-6, 1e-5);
	model_zero_grad(&m);
	model_backward_heads(&m, (const float *const *)dl);
	/* Head tensors follow the backbone's, exits.0 first. */
	first_head = -1;
	for (i = 0; i < m.ntensor && first_head < 0; i++)
		if (strncmp(m.t[i].name, "exits.", 6) == 0)
			first_head = i;
	for (i = 0; i < first_head; i++) {
		long k;

		for (k = 0; k < m.t[i].n; k++)
			bb_zero &= m.grad[m.t[i].off + k] == 0;
	}
	CHECK(bb_zero);
	CHECK(first_head > 0);
	CHECK_CLOSE(m.grad + m.t[first_head].off, full + m.t[first_head].off,
	    m.nparam - m.t[first_head].off, 1e-6, 1e-5);
	/* Cached features: eval-mode backbone features copied out, another
	 * backbone pass, the copy written back: the heads give what they give
	 * on the eval features directly (the --freeze-backbone cache). */
	{
		float *cache[MODEL_MAX_EXITS], *want = malloc(sizeof(float) * m.nparam);
		long fn[MODEL_MAX_EXITS];

		model_forward_backbone(&m, x, N, 0);
		for (e = 0; e < m.nexit; e++) {
			fn[e] = (long)m.feat_c[e] * N * m.feat_h[e] * m.feat_w[e];
			cache[e] = malloc(sizeof(float) * fn[e]);
			memcpy(cache[e], model_feature(&m, e), sizeof(float) * fn[e]);
		}
		model_forward_heads(&m, 1);
		model_zero_grad(&m);
		model_backward_heads(&m, (const float *const *)dl);
		memcpy(want, m.grad, sizeof(float) * m.nparam);
		model_forward_backbone(&m, x, N, 1);
		for (e = 0; e < m.nexit; e++) {
			memcpy(model_feature(&m, e), cache[e], sizeof(float) * fn[e]);
			free(cache[e]);
		}
		model_forward_heads(&m, 1);
		model_zero_grad(&m);
		model_backward_heads(&m, (const float *const *)dl);
		CHECK(memcmp(want, m.grad, sizeof(float) * m.nparam) == 0);
		free(want);
	}
	/* A NULL exit gradient contributes nothing. */
	{
		float *dl0 = dl[0];

		dl[0] = NULL;
		model_zero_grad(&m);
		model_backward_heads(&m, (const float *const *)dl);
		dl[0] = dl0;
	}
	{
		struct model_tensor *t = model_tensor(&m, "exits.0.linear.weight");
		float s = 0;
		long k;

		for (k = 0; k < t->n; k++)
			s += fabsf(m.grad[t->off + k]);
		CHECK(s == 0);
	}
	for (e = 0; e < m.nexit; e++) {
		free(dl[e]);
		free(lg[e]);
	}
	free(full);
	free(x);
	model_free(&m);
}

/* A batch smaller than max_batch uses the front of every buffer: 3 samples
 * in a model built for 8 give the logits and gradients of a model built for
 * 3. Eval mode (in-place BN and activations) gives the same logits twice;
 * dropout changes training logits only. */
static void
test_batch_and_modes(void)
{
	struct arch a;
	struct arch_net n;
	struct model m3, m8;
	float *x, *dl[MODEL_MAX_EXITS], *ev;
	int y[3] = { 2, 5, 8 }, N = 3, e;

	small_arch(&a, ARCH_NACHOS, 0, 0.25, 1, 32);
	arch_net_build(&n, &a);
	model_build(&m3, &n, 0, 3);
	model_build(&m8, &n, 0, 8);
	model_init(&m3, 4);
	model_init(&m8, 4);
	x = malloc(sizeof(float) * N * 32 * 32);
	fill(x, N * 32 * 32, 6);
	for (e = 0; e < m3.nexit; e++)
		dl[e] = malloc(sizeof(float) * N * m3.nout[e]);
	model_forward(&m3, x, N, 1);
	model_forward(&m8, x, N, 1);
	for (e = 0; e < m3.nexit; e++)
		CHECK(memcmp(m3.logits[e], m8.logits[e], sizeof(float) * N * m3.nout[e]) == 0);
	loss(&m3, y, dl);
	model_zero_grad(&m3);
	model_zero_grad(&m8);
	model_backward(&m3, (const float *const *)dl);
	model_backward(&m8, (const float *const *)dl);
	CHECK(memcmp(m3.grad, m8.grad, sizeof(float) * m3.nparam) == 0);
	CHECK(memcmp(m3.param, m8.param, sizeof(float) * m3.nparam) == 0); /* BN stats */

	model_forward(&m8, x, N, 0);
	ev = malloc(sizeof(float) * N * m8.nout[0]);
	memcpy(ev, m8.logits[0], sizeof(float) * N * m8.nout[0]);
	model_forward(&m8, x, N, 0);
	CHECK(memcmp(ev, m8.logits[0], sizeof(float) * N * m8.nout[0]) == 0);
	model_forward(&m3, x, N, 0);
	CHECK(memcmp(ev, m3.logits[0], sizeof(float) * N * m3.nout[0]) == 0);

	/* dropout 0.5: training logits of the final exit change, eval ones not */
	e = m8.nexit - 1;
	m8.dropout = 0.5f;
	model_forward(&m8, x, N, 1);
	memcpy(ev, m8.logits[e], sizeof(float) * N * m8.nout[e]);
	model_forward(&m8, x, N, 1);
	CHECK(memcmp(ev, m8.logits[e], sizeof(float) * N * m8.nout[e]) != 0);
	model_forward(&m8, x, N, 0);
	memcpy(ev, m8.logits[e], sizeof(float) * N * m8.nout[e]);
	m8.dropout = 0;
	model_forward(&m8, x, N, 0);
	CHECK(memcmp(ev, m8.logits[e], sizeof(float) * N * m8.nout[e]) == 0);
	for (e = 0; e < m3.nexit; e++)
		free(dl[e]);
	free(ev);
	free(x);
	model_free(&m3);
	model_free(&m8);
}

/* Random genomes of every space at odd resolutions and widths: MACs as
 * arch_net counts them, finite logits and gradients, eval after train. */
static void
test_random_archs(void)
{
	static const double widths[] = { 0.25, 0.5, 1.0 };
	static const int res[] = { 28, 32, 40, 17 };
	struct nn_rng r;
	int it, bad_macs = 0, bad_num = 0;

	nn_rng_seed(&r, 99);
	for (it = 0; it < 24; it++) {
		enum arch_space sp = it % 3;
		int g[ARCH_MAX_GENOME], lo[ARCH_MAX_GENOME], hi[ARCH_MAX_GENOME], i, e, bad;
		struct arch a;
		struct arch_net n;
		struct model m;
		float *x, *dl[MODEL_MAX_EXITS];
		long nx, k;

		memset(&a, 0, sizeof(a));
		a.space = sp;
		a.width = widths[it % 3 == 0 ? (it / 3) % 3 : it % 2];
		a.resolution = res[(it / 3) % 4];
		a.in_ch = 1 + it % 3;
		a.classes = 2 + it % 9;
		arch_genome_bounds(sp, lo, hi);
		do {
			for (i = 0; i < arch_genome_len(sp); i++)
				g[i] = lo[i] + (int)(nn_rng_u32(&r) % (hi[i] - lo[i] + 1));
		} while (arch_from_genome(&a, g, &bad) < 0);
		arch_net_build(&n, &a);
		model_build(&m, &n, it % 5 == 4 ? MODEL_BACKBONE_ONLY : 0, 2);
		model_init(&m, it);
		nx = (long)a.in_ch * 2 * a.resolution * a.resolution;
		x = malloc(sizeof(float) * nx);
		fill(x, nx, it);
		model_forward(&m, x, 2, 1);
		for (e = 0; e < m.nexit; e++) {
			bad_macs += m.macs_to[e] + m.macs_head[e] != n.ex[m.exit_at[e]].cost;
			dl[e] = malloc(sizeof(float) * 2 * m.nout[e]);
			for (k = 0; k < 2L * m.nout[e]; k++)
				dl[e][k] = m.logits[e][k];      /* d(sum z^2 / 2) */
		}
		model_zero_grad(&m);
		model_backward(&m, (const float *const *)dl);
		for (k = 0; k < m.nparam; k++)
			bad_num += !isfinite(m.grad[k]);
		model_forward(&m, x, 2, 0);
		for (e = 0; e < m.nexit; e++) {
			for (k = 0; k < 2L * m.nout[e]; k++)
				bad_num += !isfinite(m.logits[e][k]);
			free(dl[e]);
		}
		if (bad_macs || bad_num)
			fprintf(stderr, "    arch %d (%s, w %g, res %d): macs %d, non-finite %d\n",
			    it, arch_space_names[sp], a.width, a.resolution, bad_macs, bad_num);
		free(x);
		model_free(&m);
	}
	CHECK_EQ_L(bad_macs, 0);
	CHECK_EQ_L(bad_num, 0);
}

int
main(void)
{
	nn_threads(1);
	test_names();
	test_macs();
	test_split();
	test_batch_and_modes();
	test_random_archs();
	test_gradcheck();
	return unit_done("test_model");
}
