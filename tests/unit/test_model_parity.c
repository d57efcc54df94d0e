/* test_model_parity.c - the C engine against PyTorch 1.13 reference files
 * made by examples/torch/gen_net_ref.py (tests/data/net/): (a) one MBConv
 * block with SE and h-swish built from the nn ops, (b) whole subnets (two
 * NACHOS exits; three AEBNAS exits) through lib/model and lib/ckpt: a checkpoint written by PyTorch
 * gives PyTorch's eval logits, and a training step gives its logits, loss,
 * logit gradients, every parameter gradient and the new BN statistics.
 * Comparisons are |c - torch| <= atol + rtol * |torch|. */
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "unit.h"

#ifndef DATA
#define DATA "tests/data/net/"
#endif

/* The references are float64 results, so these bound the C engine's own
 * float32 error. Everything passes at a third of them (F 3e-6 + 3e-5|b|,
 * G 3e-6 + 3e-4|b|; build with -DF_ATOL=... etc. to measure the margin);
 * gradients cross up to 20 BN layers, hence the looser relative part. */
#ifndef F_ATOL
#define F_ATOL 1e-5
#define F_RTOL 1e-4
#define G_ATOL 1e-5
#define G_RTOL 1e-3
#endif

/* A growable table of reference tensors in one buffer. */
struct tab {
	struct model_tensor t[128];
	int n;
	long size;
	float *base;
};

static int
tab_add(struct tab *T, const char *name, int s0, int s1, int s2, int s3)
{
	struct model_tensor *t = &T->t[T->n];
	int i;

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->shape[0] = s0, t->shape[1] = s1, t->shape[2] = s2, t->shape[3] = s3;
	t->ndim = s3 ? 4 : s2 ? 3 : s1 ? 2 : 1;
	t->n = 1;
	for (i = 0; i < t->ndim; i++)
		t->n *= t->shape[i];
	t->off = T->size;
	T->size += t->n;
	return T->n++;
}

static float *
tab_read(struct tab *T, const struct ckpt *c)
{
	struct ckpt_table ct = { "", T->t, T->n, NULL };

	T->base = ct.base = calloc(T->size, sizeof(float));
	CHECK_EQ_L(ckpt_read_table(c, &ct, CKPT_ALLOW_EXTRA), T->n);
	return T->base;
}

#define AT(T, i) ((T)->base + (T)->t[i].off)

/* (N, C, HW) <-> (C, N, HW) */
static void
swap01(float *out, const float *in, int A, int B, int HW)
{
	int a, b;

	for (a = 0; a < A; a++)
		for (b = 0; b < B; b++)
			memcpy(out + ((long)b * A + a) * HW, in + ((long)a * B + b) * HW,
			    HW * sizeof(float));
}

/* ---- (a) one MBConv block from the ops ---- */

enum { W1, B1G, B1B, B1M, B1V, WD, B2G, B2B, B2M, B2V, WR, BR, WE, BE, W3, B3G, B3B, B3M,
	B3V, NPAR };

static const char *const pname[NPAR] = {
	"conv.inverted_bottleneck.conv.weight", "conv.inverted_bottleneck.bn.weight",
	"conv.inverted_bottleneck.bn.bias", "conv.inverted_bottleneck.bn.running_mean",
	"conv.inverted_bottleneck.bn.running_var", "conv.depth_conv.conv.weight",
	"conv.depth_conv.bn.weight", "conv.depth_conv.bn.bias",
	"conv.depth_conv.bn.running_mean", "conv.depth_conv.bn.running_var",
	"conv.depth_conv.se.fc.reduce.weight", "conv.depth_conv.se.fc.reduce.bias",
	"conv.depth_conv.se.fc.expand.weight", "conv.depth_conv.se.fc.expand.bias",
	"conv.point_linear.conv.weight", "conv.point_linear.bn.weight",
	"conv.point_linear.bn.bias", "conv.point_linear.bn.running_mean",
	"conv.point_linear.bn.running_var",
};

static int
is_stat(int i)
{
	return i == B1M || i == B1V || i == B2M || i == B2V || i == B3M || i == B3V;
}

static void
test_mbconv(void)
{
	enum { N = 4, C = 16, M = 64, S = 16, H = 8, HW = 64, K = 5 };
	struct tab T = { .n = 0 };
	struct ckpt c;
	int p[NPAR], g[NPAR], a[NPAR], ix, ir, iout, idx, iloss, i;
	float *x, *r, *c1, *b1, *a1, *c2, *b2, *a2, *sp, *sr, *srr, *se, *ss, *a2s, *c3,
	    *out, *nchw, *mean[3], *rstd[3], *grad, *d1, *d2, *dx, *ds, *de, *drr, *dr, *dp, *gx;
	double L = 0;
	long n;

	for (i = 0; i < NPAR; i++) {
		char nm[96];

		switch (i) {                  /* PyTorch's shapes */
		case W1: p[i] = tab_add(&T, pname[i], M, C, 1, 1); break;
		case WD: p[i] = tab_add(&T, pname[i], M, 1, K, K); break;
		case WR: p[i] = tab_add(&T, pname[i], S, M, 1, 1); break;
		case BR: p[i] = tab_add(&T, pname[i], S, 0, 0, 0); break;
		case WE: p[i] = tab_add(&T, pname[i], M, S, 1, 1); break;
		case BE: p[i] = tab_add(&T, pname[i], M, 0, 0, 0); break;
		case W3: p[i] = tab_add(&T, pname[i], C, M, 1, 1); break;
		default: p[i] = tab_add(&T, pname[i], i > W3 ? C : M, 0, 0, 0);
		}
		snprintf(nm, sizeof(nm), "%s.%s", is_stat(i) ? "after" : "grad", pname[i]);
		if (is_stat(i))
			a[i] = tab_add(&T, nm, T.t[p[i]].shape[0], 0, 0, 0);
		else
			g[i] = tab_add(&T, nm, T.t[p[i]].shape[0], T.t[p[i]].shape[1],
			    T.t[p[i]].shape[2], T.t[p[i]].shape[3]);
	}
	ix = tab_add(&T, "x", N, C, H, H);
	ir = tab_add(&T, "r", N, C, H, H);
	iout = tab_add(&T, "out", N, C, H, H);
	idx = tab_add(&T, "dx", N, C, H, H);
	iloss = tab_add(&T, "loss", 1, 0, 0, 0);
	ckpt_open(&c, DATA "mbconv.ckpt");
	tab_read(&T, &c);
	ckpt_close(&c);

#define BUF(n_) calloc((n_), sizeof(float))
	n = (long)N * M * HW;
	x = BUF(C * N * HW), r = BUF(C * N * HW), out = BUF(C * N * HW), gx = BUF(C * N * HW);
	nchw = BUF(C * N * HW);
	c1 = BUF(n), b1 = BUF(n), a1 = BUF(n), c2 = BUF(n), b2 = BUF(n), a2 = BUF(n);
	a2s = BUF(n), c3 = BUF(C * N * HW);
	sp = BUF(M * N), sr = BUF(S * N), srr = BUF(S * N), se = BUF(M * N), ss = BUF(M * N);
	for (i = 0; i < 3; i++)
		mean[i] = BUF(M), rstd[i] = BUF(M);
	swap01(x, AT(&T, ix), N, C, HW);
	swap01(r, AT(&T, ir), N, C, HW);

	/* Forward, training mode. */
	nn_conv_fwd(c1, x, AT(&T, p[W1]), NULL, NULL, N, C, H, H, M, 1, 1, 0);
	nn_bn_fwd_train(b1, mean[0], rstd[0], AT(&T, p[B1M]), AT(&T, p[B1V]), c1,
	    AT(&T, p[B1G]), AT(&T, p[B1B]), M, (long)N * HW, 0.1f, 1e-5f);
	nn_act_fwd(a1, b1, n, NN_HSWISH);
	nn_dw_fwd(c2, a1, AT(&T, p[WD]), N, M, H, H, K, 1);
	nn_bn_fwd_train(b2, mean[1], rstd[1], AT(&T, p[B2M]), AT(&T, p[B2V]), c2,
	    AT(&T, p[B2G]), AT(&T, p[B2B]), M, (long)N * HW, 0.1f, 1e-5f);
	nn_act_fwd(a2, b2, n, NN_HSWISH);
	nn_gap_fwd(sp, a2, M, N, HW);
	nn_conv_fwd(sr, sp, AT(&T, p[WR]), AT(&T, p[BR]), NULL, N, M, 1, 1, S, 1, 1, 0);
	nn_act_fwd(srr, sr, (long)S * N, NN_RELU);
	nn_conv_fwd(se, srr, AT(&T, p[WE]), AT(&T, p[BE]), NULL, N, S, 1, 1, M, 1, 1, 0);
	nn_act_fwd(ss, se, (long)M * N, NN_HSIGMOID);
	nn_scale_fwd(a2s, a2, ss, M, N, HW);
	nn_conv_fwd(c3, a2s, AT(&T, p[W3]), NULL, NULL, N, M, H, H, C, 1, 1, 0);
	nn_bn_fwd_train(out, mean[2], rstd[2], AT(&T, p[B3M]), AT(&T, p[B3V]), c3,
	    AT(&T, p[B3G]), AT(&T, p[B3B]), C, (long)N * HW, 0.1f, 1e-5f);
	nn_add_fwd(out, out, x, (long)C * N * HW);
	for (i = 0; i < C * N * HW; i++)
		L += (double)out[i] * r[i];
	swap01(nchw, out, C, N, HW);
	CHECK_CLOSE(nchw, AT(&T, iout), (long)C * N * HW, F_ATOL, F_RTOL);
	CHECK_NEAR(L, AT(&T, iloss)[0], 1e-4 * fabs(AT(&T, iloss)[0]));
	for (i = 0; i < NPAR; i++)
		if (is_stat(i))
			CHECK_CLOSE(AT(&T, p[i]), AT(&T, a[i]), T.t[p[i]].n, F_ATOL, F_RTOL);

	/* Backward of sum(out * r): dout = r. */
	grad = BUF(T.size);
	d1 = BUF(n), d2 = BUF(n), dx = BUF(C * N * HW);
	ds = BUF(M * N), de = BUF(M * N), drr = BUF(S * N), dr = BUF(S * N), dp = BUF(M * N);
#define GR(i_) (grad + T.t[p[i_]].off)
	memcpy(dx, r, sizeof(float) * C * N * HW);     /* shortcut */
	nn_bn_bwd(gx, GR(B3G), GR(B3B), r, c3, mean[2], rstd[2], AT(&T, p[B3G]), C,
	    (long)N * HW);
	nn_conv_bwd(d1, GR(W3), NULL, gx, a2s, AT(&T, p[W3]), NULL, N, M, H, H, C, 1, 1, 0);
	nn_scale_bwd(d2, ds, d1, a2, ss, M, N, HW);
	nn_act_bwd(de, ds, se, (long)M * N, NN_HSIGMOID);
	nn_conv_bwd(drr, GR(WE), GR(BE), de, srr, AT(&T, p[WE]), NULL, N, S, 1, 1, M, 1, 1, 0);
	nn_act_bwd(dr, drr, sr, (long)S * N, NN_RELU);
	nn_conv_bwd(dp, GR(WR), GR(BR), dr, sp, AT(&T, p[WR]), NULL, N, M, 1, 1, S, 1, 1, 0);
	nn_gap_bwd(d2, dp, M, N, HW);
	memset(d1, 0, sizeof(float) * n);
	nn_act_bwd(d1, d2, b2, n, NN_HSWISH);
	memset(d2, 0, sizeof(float) * n);
	nn_bn_bwd(d2, GR(B2G), GR(B2B), d1, c2, mean[1], rstd[1], AT(&T, p[B2G]), M,
	    (long)N * HW);
	memset(d1, 0, sizeof(float) * n);
	nn_dw_bwd(d1, GR(WD), d2, a1, AT(&T, p[WD]), N, M, H, H, K, 1);
	memset(d2, 0, sizeof(float) * n);
	nn_act_bwd(d2, d1, b1, n, NN_HSWISH);
	memset(d1, 0, sizeof(float) * n);
	nn_bn_bwd(d1, GR(B1G), GR(B1B), d2, c1, mean[0], rstd[0], AT(&T, p[B1G]), M,
	    (long)N * HW);
	nn_conv_bwd(dx, GR(W1), NULL, d1, x, AT(&T, p[W1]), NULL, N, C, H, H, M, 1, 1, 0);
	swap01(nchw, dx, C, N, HW);
	CHECK_CLOSE(nchw, AT(&T, idx), (long)C * N * HW, G_ATOL, G_RTOL);
	for (i = 0; i < NPAR; i++)
		if (!is_stat(i))
			unit_close(GR(i), AT(&T, g[i]), T.t[p[i]].n, G_ATOL, G_RTOL, __FILE__,
			    __LINE__, T.t[g[i]].name);
	{
		float *bufs[] = { x, r, out, gx, nchw, c1, b1, a1, c2, b2, a2, a2s, c3, sp, sr,
		    srr, se, ss, mean[0], rstd[0], mean[1], rstd[1], mean[2], rstd[2], grad,
		    d1, d2, dx, ds, de, drr, dr, dp };

		for (i = 0; i < (int)(sizeof(bufs) / sizeof(bufs[0])); i++)
			free(bufs[i]);
	}
	free(T.base);
}

/* ---- (b) the whole subnet through lib/model and lib/ckpt ---- */

static void
test_subnet(const char *path, int nexit)
{
	enum { N = 16, K = 10 };
	struct tab T = { .n = 0 };
	struct arch a;
	struct arch_net net;
	struct model m;
	struct ckpt c;
	int ix, iy, it, ie[MODEL_MAX_EXITS], il[MODEL_MAX_EXITS], idl[MODEL_MAX_EXITS];
	int iloss, i, e, y[N];
	float *x, *dl[MODEL_MAX_EXITS], *p, *z;
	double L = 0;
	char nm[128];

	ckpt_open(&c, path);
	ckpt_arch(&c, &a);
	arch_net_build(&net, &a);
	model_build(&m, &net, 0, N);
	ckpt_load(&c, &m, CKPT_ALLOW_EXTRA);
	CHECK_EQ_L(m.nexit, nexit);
	ix = tab_add(&T, "ref.x", N, 1, 32, 32);
	iy = tab_add(&T, "ref.y", N, 0, 0, 0);
	it = tab_add(&T, "ref.t", N, 0, 0, 0);
	for (e = 0; e < m.nexit; e++) {
		snprintf(nm, sizeof(nm), "ref.eval_logits.%d", e);
		ie[e] = tab_add(&T, nm, N, m.nout[e], 0, 0);
		snprintf(nm, sizeof(nm), "ref.logits.%d", e);
		il[e] = tab_add(&T, nm, N, m.nout[e], 0, 0);
		snprintf(nm, sizeof(nm), "ref.dlogits.%d", e);
		idl[e] = tab_add(&T, nm, N, m.nout[e], 0, 0);
	}
	iloss = tab_add(&T, "ref.loss", 1, 0, 0, 0);
	tab_read(&T, &c);

	/* The model's table read under "grad." (parameters) and "after."
	 * (running statistics) into a second buffer laid out like m.grad. */
	{
		struct ckpt_table gt = { "grad.", m.t, m.ntensor, NULL };
		struct ckpt_table at = { "after.", m.t, m.ntensor, NULL };
		float *want = calloc(m.nparam, sizeof(float));
		int ntrain = 0;

		for (i = 0; i < m.ntensor; i++)
			ntrain += !(m.t[i].flags & MT_BUFFER);
		gt.base = at.base = want;
		CHECK_EQ_L(ckpt_read_table(&c, &gt, CKPT_ALLOW_MISSING | CKPT_ALLOW_EXTRA), ntrain);
		CHECK_EQ_L(ckpt_read_table(&c, &at, CKPT_ALLOW_MISSING | CKPT_ALLOW_EXTRA),
		    m.ntensor - ntrain);
		ckpt_close(&c);

		/* Eval mode: the checkpoint PyTorch wrote gives PyTorch's logits. */
		x = AT(&T, ix);                   /* (N, 1, H, W) = (1, N, H, W) */
		model_forward(&m, x, N, 0);
		for (e = 0; e < m.nexit; e++)
			CHECK_CLOSE(m.logits[e], AT(&T, ie[e]), (long)N * m.nout[e], 1e-4, 0);

		/* A training step. */
		model_forward(&m, x, N, 1);
		for (e = 0; e < m.nexit; e++)
			CHECK_CLOSE(m.logits[e], AT(&T, il[e]), (long)N * m.nout[e], F_ATOL, F_RTOL);
		for (i = 0; i < N; i++)
			y[i] = (int)AT(&T, iy)[i];
		p = malloc(sizeof(float) * N * K);
		z = malloc(sizeof(float) * N);
		for (e = 0; e < m.nexit; e++) {
			int no = m.nout[e], j;

			dl[e] = calloc((size_t)N * no, sizeof(float));
			/* CE over the first K outputs of each row. */
			for (i = 0; i < N; i++)
				memcpy(p + i * K, m.logits[e] + i * no, K * sizeof(float));
			L += nn_softmax_ce_fwd(p, p, y, N, K);
			{
				float *dk = calloc(N * K, sizeof(float));

				nn_softmax_ce_bwd(dk, p, y, N, K, 1.0f / N);
				for (i = 0; i < N; i++)
					for (j = 0; j < K; j++)
						dl[e][i * no + j] = dk[i * K + j];
				free(dk);
			}
			if (no == K + 1) {
				float *dz = calloc(N, sizeof(float));

				for (i = 0; i < N; i++)
					z[i] = m.logits[e][i * no + K];
				L += nn_bce_fwd(z, AT(&T, it), NULL, N) / N;
				nn_bce_bwd(dz, z, AT(&T, it), NULL, N, 1.0f / N);
				for (i = 0; i < N; i++)
					dl[e][i * no + K] = dz[i];
				free(dz);
			}
			CHECK_CLOSE(dl[e], AT(&T, idl[e]), (long)N * no, 1e-6, 1e-4);
		}
		CHECK_NEAR(L, AT(&T, iloss)[0], 1e-5 * fabs(AT(&T, iloss)[0]));
		model_zero_grad(&m);
		model_backward(&m, (const float *const *)dl);
		for (i = 0; i < m.ntensor; i++) {
			const struct model_tensor *t = &m.t[i];

			if (t->flags & MT_BUFFER)
				unit_close(m.param + t->off, want + t->off, t->n, F_ATOL, F_RTOL,
				    __FILE__, __LINE__, t->name);
			else
				unit_close(m.grad + t->off, want + t->off, t->n, G_ATOL, G_RTOL,
				    __FILE__, __LINE__, t->name);
		}
		for (e = 0; e < m.nexit; e++)
			free(dl[e]);
		free(p);
		free(z);
		free(want);
	}
	model_free(&m);
	free(T.base);
}

int
main(void)
{
	nn_threads(1);
	test_mbconv();
	test_subnet(DATA "subnet.ckpt", 2);
	test_subnet(DATA "aebnas.ckpt", 3);
	return unit_done("test_model_parity");
}
