/* test_super.c - subnet extraction against slicing done by hand (kernel
 * transform included), the adjoint as the transpose of extraction
 * (dot-product tests), BN recalibration against batch statistics computed
 * by hand, and the supernet checkpoint round trip. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "super.h"
#include "unit.h"

#define W 0.5
#define RES 16

static struct nn_rng rng;

static void
fill(float *p, long n, float sd)
{
	long i;

	for (i = 0; i < n; i++)
		p[i] = sd * nn_rng_normal(&rng);
}

/* A mixed subnet: stage 1 d2, stage 2 d3, the others d4; kernels and
 * expands cycling through every value. */
static void
mixed(struct arch *a, const struct super *s)
{
	int i;

	arch_extreme(a, ARCH_NACHOS, 0);
	a->width = s->a.width;
	a->resolution = s->a.resolution;
	a->in_ch = s->a.in_ch;
	a->classes = s->a.classes;
	for (i = 0; i < ARCH_SLOTS; i++) {
		a->ks[i] = arch_ks_set[i % 3];
		a->e[i] = arch_e_set[(i / 3) % 3];
	}
	a->d[0] = 2, a->d[1] = 3, a->d[2] = a->d[3] = a->d[4] = 4;
	arch_canonical(a);
}

static void
tiny(struct super *s)
{
	super_build(s, W, RES, 1, 3, 1);
	super_init(s, 5);
	/* Matrices away from identity, so the transform really is tested. */
	fill(s->ktp, s->nkt, 0.3f);
}

static const float *
P(const struct model *m, const char *name)
{
	const struct model_tensor *t = model_tensor(m, name);

	if (t == NULL) {
		fprintf(stderr, "no tensor %s\n", name);
		exit(1);
	}
	return m->param + t->off;
}

/* The k x k kernel of one channel from the 7x7 one, by the definition:
 * centre crop, then out = crop * M^T, twice for k = 3. */
static void
hand_kernel(float *out, const float *w7, const float *M75, const float *M53, int k)
{
	float c5[25], t5[25], c3[9];
	int p, q;

	for (p = 0; p < 25; p++)
		c5[p] = w7[(p / 5 + 1) * 7 + p % 5 + 1];
	for (p = 0; p < 25; p++) {
		t5[p] = 0;
		for (q = 0; q < 25; q++)
			t5[p] += M75[p * 25 + q] * c5[q];
	}
	if (k == 5) {
		memcpy(out, t5, sizeof(t5));
		return;
	}
	for (p = 0; p < 9; p++)
		c3[p] = t5[(p / 3 + 1) * 5 + p % 3 + 1];
	for (p = 0; p < 9; p++) {
		out[p] = 0;
		for (q = 0; q < 9; q++)
			out[p] += M53[p * 9 + q] * c3[q];
	}
}

static void
test_extract(void)
{
	struct super s;
	struct arch a;
	struct arch_net n;
	struct model m;
	const struct model_tensor *ex;
	char nm[96];
	int b, bad = 0, checked = 0;

	tiny(&s);
	mixed(&a, &s);
	CHECK(super_check(&s, &a, nm, sizeof(nm)) == NULL);
	arch_net_build(&n, &a);
	model_build(&m, &n, 0, 2);           /* with exit heads */
	ex = model_tensor(&m, "exits.0.conv1.weight");
	CHECK(ex != NULL);
	fill(s.hp, s.nhp, 1);
	super_extract(&m, &s);
	/* Every head comes from the supernet's head of its window. */
	for (b = 0; b < n.nexit - 1; b++) {
		static const char *const part[] = { "conv1.weight", "conv1.bias", "conv3.weight",
		    "linear.weight", "linear.bias" };
		unsigned j;

		for (j = 0; j < sizeof(part) / sizeof(part[0]); j++) {
			const struct model_tensor *t, *T = NULL;
			int h;

			snprintf(nm, sizeof(nm), "exits.%d.%s", n.ex[b].stage - 1, part[j]);
			t = model_tensor(&m, nm);
			snprintf(nm, sizeof(nm), "exits.%d.pool%d.%s", n.ex[b].stage - 1,
			    n.ex[b].pool, part[j]);
			for (h = 0; h < s.nh; h++)
				if (strcmp(s.ht[h].name, nm) == 0)
					T = &s.ht[h];
			CHECK(t != NULL && T != NULL && t->n == T->n);
			if (t && T)
				bad += memcmp(m.param + t->off, s.hp + T->off,
				    t->n * sizeof(float)) != 0;
		}
	}
	CHECK_EQ_L(bad, 0);
	CHECK(n.ex[0].pool > 1);             /* a window other than 1 is tested */

	/* Whole tensors. */
	CHECK(memcmp(P(&m, "first_conv.conv.weight"), P(&s.m, "first_conv.conv.weight"),
	    model_tensor(&m, "first_conv.conv.weight")->n * sizeof(float)) == 0);
	CHECK(memcmp(P(&m, "classifier.linear.weight"), P(&s.m, "classifier.linear.weight"),
	    model_tensor(&m, "classifier.linear.weight")->n * sizeof(float)) == 0);
	/* Depth: stage 1 keeps blocks 1-2 only. */
	CHECK(model_tensor(&m, "blocks.2.conv.point_linear.conv.weight") != NULL);
	CHECK(model_tensor(&m, "blocks.3.conv.point_linear.conv.weight") == NULL);

	for (b = 1; b < n.nblk; b++) {
		const struct arch_block *k = &n.blk[b];
		const struct arch_block *K = &s.m.net.blk[k->slot + 1];
		int id = k->slot + 1, c, i, j;
		const float *w, *W7, *M75, *M53;
		float ker[25];

		CHECK_EQ_L(K->slot, k->slot);
		/* Expand: first mid output channels, all inputs. */
		snprintf(nm, sizeof(nm), "blocks.%d.conv.inverted_bottleneck.conv.weight", id);
		w = P(&m, nm), W7 = P(&s.m, nm);
		for (c = 0; c < k->mid; c++)
			for (i = 0; i < k->cin; i++)
				bad += w[c * k->cin + i] != W7[c * K->cin + i], checked++;
		/* BN running mean of the depthwise BN: first mid. */
		snprintf(nm, sizeof(nm), "blocks.%d.conv.depth_conv.bn.running_mean", id);
		w = P(&m, nm), W7 = P(&s.m, nm);
		for (c = 0; c < k->mid; c++)
			bad += w[c] != W7[c], checked++;
		/* Project: all outputs, first mid inputs. */
		snprintf(nm, sizeof(nm), "blocks.%d.conv.point_linear.conv.weight", id);
		w = P(&m, nm), W7 = P(&s.m, nm);
		for (c = 0; c < k->cout; c++)
			for (i = 0; i < k->mid; i++)
				bad += w[c * k->mid + i] != W7[c * K->mid + i], checked++;
		/* SE: reduce [:se_mid, :mid], expand [:mid, :se_mid] and bias. */
		if (k->se) {
			snprintf(nm, sizeof(nm), "blocks.%d.conv.depth_conv.se.fc.reduce.weight", id);
			w = P(&m, nm), W7 = P(&s.m, nm);
			for (c = 0; c < k->se_mid; c++)
				for (i = 0; i < k->mid; i++)
					bad += w[c * k->mid + i] != W7[c * K->mid + i], checked++;
			snprintf(nm, sizeof(nm), "blocks.%d.conv.depth_conv.se.fc.expand.weight", id);
			w = P(&m, nm), W7 = P(&s.m, nm);
			for (c = 0; c < k->mid; c++)
				for (i = 0; i < k->se_mid; i++)
					bad += w[c * k->se_mid + i] != W7[c * K->se_mid + i], checked++;
		}
		/* Depthwise: transformed kernels of the first mid channels. */
		snprintf(nm, sizeof(nm), "blocks.%d.conv.depth_conv.conv.weight", id);
		w = P(&m, nm), W7 = P(&s.m, nm);
		M75 = s.ktp + s.kt[2 * k->slot].off;
		M53 = s.ktp + s.kt[2 * k->slot + 1].off;
		for (c = 0; c < k->mid; c++) {
			if (k->k == 7) {
				for (j = 0; j < 49; j++)
					bad += w[c * 49 + j] != W7[c * 49 + j], checked++;
				continue;
			}
			hand_kernel(ker, W7 + c * 49, M75, M53, k->k);
			for (j = 0; j < k->k * k->k; j++) {
				float d = w[c * k->k * k->k + j] - ker[j];

				bad += fabsf(d) > 1e-5f * (1 + fabsf(ker[j])), checked++;
			}
		}
	}
	CHECK(checked > 10000);
	CHECK_EQ_L(bad, 0);
	model_free(&m);
	super_free(&s);
}

/* An EDANAS head gets the first K outputs of the NACHOS head of its
 * window; AEBNAS branches and a supernet without heads leave heads alone. */
static void
test_extract_spaces(void)
{
	struct super s, s0;
	struct arch a;
	struct arch_net n;
	struct model m;
	const struct model_tensor *t;
	char nm[96];
	int h, found = 0;

	tiny(&s);
	fill(s.hp, s.nhp, 1);
	mixed(&a, &s);
	a.space = ARCH_EDANAS;
	arch_canonical(&a);
	arch_net_build(&n, &a);
	model_build(&m, &n, 0, 1);
	CHECK(super_heads_fit(&s, &m));
	super_extract(&m, &s);
	t = model_tensor(&m, "exits.1.linear.weight");
	snprintf(nm, sizeof(nm), "exits.1.pool%d.linear.weight", n.ex[1].pool);
	for (h = 0; h < s.nh; h++)
		if (strcmp(s.ht[h].name, nm) == 0) {
			found = 1;
			CHECK_EQ_L(s.ht[h].shape[0], t->shape[0] + 1);
			CHECK(memcmp(m.param + t->off, s.hp + s.ht[h].off,
			    t->n * sizeof(float)) == 0);
		}
	CHECK(found);
	model_free(&m);

	a.space = ARCH_AEBNAS;
	arch_canonical(&a);
	arch_net_build(&n, &a);
	model_build(&m, &n, 0, 1);
	t = model_tensor(&m, "exits.0.linear.weight");
	m.param[t->off] = 42;
	CHECK(!super_heads_fit(&s, &m));
	super_extract(&m, &s);
	CHECK(m.param[t->off] == 42);
	model_free(&m);

	/* At twice the supernet's resolution the heads do not fit: left alone. */
	mixed(&a, &s);
	a.resolution = 2 * RES;
	arch_net_build(&n, &a);
	model_build(&m, &n, 0, 1);
	t = model_tensor(&m, "exits.0.linear.weight");
	m.param[t->off] = 42;
	CHECK(!super_heads_fit(&s, &m));
	super_extract(&m, &s);
	CHECK(m.param[t->off] == 42);
	model_free(&m);

	super_build(&s0, W, RES, 1, 3, 0);
	super_init(&s0, 5);
	CHECK_EQ_L(s0.nh, 0);
	mixed(&a, &s0);
	arch_net_build(&n, &a);
	model_build(&m, &n, 0, 1);
	t = model_tensor(&m, "exits.0.conv1.weight");
	m.param[t->off] = 42;
	super_extract(&m, &s0);
	CHECK(m.param[t->off] == 42);
	model_free(&m);
	super_free(&s0);
	super_free(&s);
}

static double
dot_sub(const struct model *m, const float *a, const float *b)
{
	double d = 0;
	long j;
	int i;

	for (i = 0; i < m->ntensor; i++)
		if (m->t[i].flags & MT_TRAIN)
			for (j = 0; j < m->t[i].n; j++)
				d += (double)a[m->t[i].off + j] * b[m->t[i].off + j];
	return d;
}

static double
dot(const float *a, const float *b, long n)
{
	double d = 0;
	long i;

	for (i = 0; i < n; i++)
		d += (double)a[i] * b[i];
	return d;
}

/* <extract(x), y> = <x, adjoint(y)>: exactly in the weights (extraction is
 * linear in them), and in the matrices through a central difference, which
 * is exact for the quadratic M75, M53 -> kernel map. */
static void
test_adjoint(void)
{
	struct super s;
	struct arch a;
	struct arch_net n;
	struct model m;
	double lhs, rhs, fp, fm, h = 0.5;
	float *M0, *dM;
	long i;

	tiny(&s);
	mixed(&a, &s);
	arch_net_build(&n, &a);
	model_build(&m, &n, 0, 1);          /* heads included */
	fill(s.m.param, s.m.nparam, 1);
	fill(s.hp, s.nhp, 1);
	super_extract(&m, &s);
	fill(m.grad, m.nparam, 1);           /* y */
	lhs = dot_sub(&m, m.param, m.grad);
	super_zero_grad(&s);
	super_backprop(&s, &m);
	/* Buffers have no gradient: take x only on trainable tensors. */
	rhs = 0;
	for (i = 0; i < s.m.ntensor; i++)
		if (s.m.t[i].flags & MT_TRAIN)
			rhs += dot(s.m.param + s.m.t[i].off, s.m.grad + s.m.t[i].off, s.m.t[i].n);
	rhs += dot(s.hp, s.hg, s.nhp);
	CHECK_NEAR(lhs, rhs, 1e-4 * fabs(rhs));
	CHECK(fabs(rhs) > 1);

	/* Matrices: d/dt <extract(W, M + t dM), y> at 0 = <dM, adjoint_M(y)>. */
	M0 = malloc(s.nkt * sizeof(float));
	dM = malloc(s.nkt * sizeof(float));
	memcpy(M0, s.ktp, s.nkt * sizeof(float));
	fill(dM, s.nkt, 1);
	for (i = 0; i < s.nkt; i++)
		s.ktp[i] = M0[i] + h * dM[i];
	super_extract(&m, &s);
	fp = dot_sub(&m, m.param, m.grad);
	for (i = 0; i < s.nkt; i++)
		s.ktp[i] = M0[i] - h * dM[i];
	super_extract(&m, &s);
	fm = dot_sub(&m, m.param, m.grad);
	rhs = dot(dM, s.ktg, s.nkt);
	CHECK_NEAR((fp - fm) / (2 * h), rhs, 1e-3 * fabs(rhs));
	CHECK(fabs(rhs) > 1);
	free(M0);
	free(dM);
	model_free(&m);
	super_free(&s);
}

/* Running statistics after calibration: the first BN's mean and unbiased
 * variance over one batch, then the mean over two unequal batches (the
 * sample-weighted average is the mean over all samples). */
static void
test_calib(void)
{
	struct super s;
	struct arch a;
	struct arch_net n;
	struct model m;
	struct data_set d;
	struct data_norm nm;
	int32_t idx[6] = { 0, 1, 2, 3, 4, 5 };
	const struct model_tensor *w, *rm, *rv;
	float x[6 * RES * RES], *out, want_m[64], want_v[64];
	int y[6], C, c, bad = 0;
	long i, hw = (RES / 2) * (RES / 2);

	tiny(&s);
	mixed(&a, &s);
	arch_net_build(&n, &a);
	model_build(&m, &n, MODEL_BACKBONE_ONLY, 4);
	super_extract(&m, &s);
	memset(&d, 0, sizeof(d));
	d.n = 6, d.c = 1, d.h = d.w = 6, d.classes = 3;
	d.x = malloc(6 * 36);
	d.y = calloc(6, sizeof(int32_t));
	for (i = 0; i < 6 * 36; i++)
		d.x[i] = (uint8_t)(nn_rng_u32(&rng) & 0xff);
	data_norm_fit(&nm, &d, idx, 6);
	w = model_tensor(&m, "first_conv.conv.weight");
	rm = model_tensor(&m, "first_conv.bn.running_mean");
	rv = model_tensor(&m, "first_conv.bn.running_var");
	C = w->shape[0];
	out = malloc((long)C * 6 * hw * sizeof(float));

	/* One batch of 4. */
	data_batch(x, y, &d, idx, 4, 1, RES, &nm, NULL, NULL);
	nn_ref_conv_fwd(out, x, m.param + w->off, NULL, NULL, 4, 1, RES, RES, C, 3, 2, 1);
	for (c = 0; c < C; c++) {
		double sm = 0, sq = 0, M = 4.0 * hw;

		for (i = 0; i < 4 * hw; i++)
			sm += out[c * 4 * hw + i];
		for (i = 0; i < 4 * hw; i++)
			sq += (out[c * 4 * hw + i] - sm / M) * (out[c * 4 * hw + i] - sm / M);
		want_m[c] = sm / M;
		want_v[c] = sq / (M - 1);
	}
	m.param[rm->off] = 99;              /* stale statistics are replaced */
	super_bn_calib(&m, &d, idx, 4, &nm);
	CHECK_CLOSE(m.param + rm->off, want_m, C, 1e-5, 1e-4);
	CHECK_CLOSE(m.param + rv->off, want_v, C, 1e-5, 1e-4);
	CHECK(m.bn_momentum == 0.1f);       /* restored */

	/* Batches of 4 and 2. */
	data_batch(x, y, &d, idx, 6, 1, RES, &nm, NULL, NULL);
	nn_ref_conv_fwd(out, x, m.param + w->off, NULL, NULL, 6, 1, RES, RES, C, 3, 2, 1);
	for (c = 0; c < C; c++) {
		double sm = 0;

		for (i = 0; i < 6 * hw; i++)
			sm += out[c * 6 * hw + i];
		want_m[c] = sm / (6.0 * hw);
	}
	super_bn_calib(&m, &d, idx, 6, &nm);
	CHECK_CLOSE(m.param + rm->off, want_m, C, 1e-5, 1e-4);
	for (c = 0; c < C; c++)
		bad += !(m.param[rv->off + c] > 0);
	CHECK_EQ_L(bad, 0);
	/* Write back: the supernet's leading slice now holds these. */
	super_store_stats(&s, &m);
	CHECK(memcmp(P(&s.m, "first_conv.bn.running_mean"), m.param + rm->off,
	    C * sizeof(float)) == 0);
	free(out);
	data_free(&d);
	model_free(&m);
	super_free(&s);
}

static void
test_ckpt(void)
{
	char path[] = "/tmp/test_super.XXXXXX";
	struct super s, t;
	struct arch a;
	char why[128];
	int fd = mkstemp(path), i, bad = 0;

	CHECK(fd >= 0);
	close(fd);
	tiny(&s);
	s.m.param[s.m.t[s.m.ntensor - 1].off] = 0.25f;
	super_save(path, &s, NULL, 0, 7, NULL);
	super_load(&t, path);
	CHECK_EQ_L(t.m.nparam, s.m.nparam);
	for (i = 0; i < s.m.ntensor; i++)
		bad += memcmp(t.m.param + s.m.t[i].off, s.m.param + s.m.t[i].off,
		    s.m.t[i].n * sizeof(float)) != 0;
	CHECK_EQ_L(bad, 0);
	CHECK(t.m.param[s.m.t[s.m.ntensor - 1].off] == 0.25f);
	CHECK(memcmp(t.ktp, s.ktp, s.nkt * sizeof(float)) == 0);
	CHECK(t.nh == s.nh && t.nh > 0 && memcmp(t.hp, s.hp, s.nhp * sizeof(float)) == 0);
	CHECK_EQ_L(t.a.classes, 3);
	CHECK_NEAR(t.a.width, W, 0);
	CHECK_EQ_L((long)t.m.seed, 5);
	CHECK(strcmp(t.kt[1].name, "blocks.1.conv.depth_conv.conv.5to3_matrix") == 0);
	mixed(&a, &s);
	a.classes = 10;
	CHECK(super_check(&s, &a, why, sizeof(why)) != NULL &&
	    strcmp(super_check(&s, &a, why, sizeof(why)), "classes") == 0);
	a.classes = 3, a.width = 1.0;
	CHECK(strcmp(super_check(&s, &a, why, sizeof(why)), "width") == 0);
	super_free(&t);
	/* A supernet without heads (as written before them) loads without. */
	super_free(&s);
	super_build(&s, W, RES, 1, 3, 0);
	super_init(&s, 5);
	super_save(path, &s, NULL, 0, 7, NULL);
	super_load(&t, path);
	CHECK_EQ_L(t.nh, 0);
	CHECK(t.hp == NULL);
	unlink(path);
	super_free(&s);
	super_free(&t);
}

/* Sorting the middle channels leaves the all-max network's function as it
 * was, puts the important channels first, and moves the optimiser buffer
 * along with the weights. */
static void
test_sort(void)
{
	struct super s;
	struct arch a;
	struct arch_net n;
	struct model m;
	float *x, *before, *buf;
	const struct model_tensor *pl;
	int K, N = 2, i, j, bad = 0;
	long nx;

	tiny(&s);
	fill(s.m.param, s.m.nparam, 0.5f);
	for (i = 0; i < s.m.ntensor; i++)      /* valid BN statistics */
		if (strstr(s.m.t[i].name, "running_var"))
			for (j = 0; j < s.m.t[i].n; j++)
				s.m.param[s.m.t[i].off + j] = 1 + fabsf(s.m.param[s.m.t[i].off + j]);
	buf = malloc(s.m.nparam * sizeof(float));
	memcpy(buf, s.m.param, s.m.nparam * sizeof(float));
	a = s.a;
	arch_net_build(&n, &a);
	model_build(&m, &n, MODEL_BACKBONE_ONLY, N);
	K = n.classes;
	nx = (long)N * RES * RES;
	x = malloc(nx * sizeof(float));
	before = malloc(N * K * sizeof(float));
	fill(x, nx, 1);
	super_extract(&m, &s);
	model_forward(&m, x, N, 0);
	memcpy(before, m.logits[0], N * K * sizeof(float));
	super_sort_channels(&s, buf);
	super_extract(&m, &s);
	model_forward(&m, x, N, 0);
	CHECK_CLOSE(m.logits[0], before, N * K, 1e-4, 1e-4);
	CHECK(memcmp(buf, s.m.param, s.m.nparam * sizeof(float)) == 0);
	/* importance is descending in a block with 6x expand */
	pl = model_tensor(&s.m, "blocks.5.conv.point_linear.conv.weight");
	for (j = 1; j < pl->shape[1]; j++) {
		double p = 0, q = 0;

		for (i = 0; i < pl->shape[0]; i++) {
			p += fabsf(s.m.param[pl->off + (long)i * pl->shape[1] + j - 1]);
			q += fabsf(s.m.param[pl->off + (long)i * pl->shape[1] + j]);
		}
		bad += p < q;
	}
	CHECK_EQ_L(bad, 0);
	free(x), free(before), free(buf);
	model_free(&m);
	super_free(&s);
}

int
main(void)
{
	nn_rng_seed(&rng, 11);
	test_extract();
	test_extract_spaces();
	test_adjoint();
	test_calib();
	test_ckpt();
	test_sort();
	return unit_done("test_super");
}
