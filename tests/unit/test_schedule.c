/* test_schedule.c - the inference schedule and memory plan of schedule.h on random
 * EENNs of every space: segments run exactly the MACs arch_net charges to
 * each exit, every tensor the model has is read, no two live buffers share
 * arena bytes, the plan's figures are what its buffers say, and a hand
 * worked all-min net. */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "nn.h"
#include "schedule.h"
#include "unit.h"

static long
op_macs(const struct sched_op *o)
{
	switch (o->kind) {
	case SK_CONV:
	case SK_LINEAR:
		return (long)o->ci * o->k * o->k * o->co * o->ho * o->wo;
	case SK_DW:
		return (long)o->ci * o->k * o->k * o->ho * o->wo;
	case SK_SE:
		return 2L * o->ci * o->se_mid;
	}
	return 0;
}

static void
random_arch(struct arch *a, struct nn_rng *r, int it)
{
	static const double widths[] = { 0.25, 0.5, 1.0 };
	static const int res[] = { 28, 32, 40, 17 };
	enum arch_space sp = it % 3;
	int g[ARCH_MAX_GENOME], lo[ARCH_MAX_GENOME], hi[ARCH_MAX_GENOME], i, bad;

	memset(a, 0, sizeof(*a));
	a->space = sp;
	a->width = widths[it % 3 == 0 ? (it / 3) % 3 : it % 2];
	a->resolution = res[(it / 3) % 4];
	a->in_ch = 1 + it % 3;
	a->classes = 2 + it % 9;
	arch_genome_bounds(sp, lo, hi);
	do {
		for (i = 0; i < arch_genome_len(sp); i++)
			g[i] = lo[i] + (int)(nn_rng_u32(r) % (hi[i] - lo[i] + 1));
	} while (arch_from_genome(a, g, &bad) < 0);
}

/* MACs per segment, buffers, figures, tensors. Returns failures. */
static int
check_net(const struct arch_net *n)
{
	struct sched *s = malloc(sizeof(*s));
	struct model m;
	long macs = 0, to, params = 0, sz;
	int i, j, b, e, bad = 0;

	sched_build(s, n, n->in_ch);
	/* segment e's ops charge exactly spent_e - spent_{e-1} */
	for (e = 0; e < s->nseg; e++) {
		for (i = s->seg_op[e]; i < s->seg_op[e + 1]; i++) {
			macs += op_macs(&s->op[i]);
			bad += s->op[i].seg != e;
		}
		bad += macs != n->ex[e].spent;
		bad += s->op[s->seg_op[e + 1] - 1].kind != SK_EXIT;
		bad += s->buf[s->logits[e]].n != n->ex[e].nout;
	}
	/* the backbone alone: macs_backbone along the last segment's path */
	macs = 0;
	for (i = 0; i < s->nop; i++)
		if (!s->op[i].head || s->op[i].seg == s->nseg - 1)
			macs += op_macs(&s->op[i]);
	bad += macs != n->macs_backbone;
	/* live buffers never overlap; each is written before it is read */
	for (i = 0; i < s->nop; i++)
		for (b = 0; b < s->nbuf; b++)
			for (j = b + 1; j < s->nbuf; j++)
				if (sched_live(s, b, i) && sched_live(s, j, i))
					bad += s->buf[b].off < s->buf[j].off + s->buf[j].size &&
					    s->buf[j].off < s->buf[b].off + s->buf[b].size;
	for (b = 0; b < s->nbuf; b++) {
		const struct sched_op *o = &s->op[s->buf[b].first];

		bad += o->out != b && o->tmp[0] != b && o->tmp[1] != b;
		bad += s->buf[b].size % SCHED_ALIGN != 0 || s->buf[b].size < s->buf[b].n;
		bad += s->buf[b].off + s->buf[b].size > s->arena;
	}
	bad += s->arena < s->live_peak;
	for (e = 0, to = 0; e < s->nseg; e++) {
		bad += s->arena_to[e] < to;
		to = s->arena_to[e];
	}
	bad += to != s->arena;
	bad += sched_arena_bytes(s, SCHED_F32) != 4 * sched_arena_bytes(s, SCHED_INT8);
	/* every model tensor is read: folded, conv + BN keeps w + a bias */
	model_build(&m, n, 0, 1);
	for (i = 0; i < m.ntensor; i++)
		if (strstr(m.t[i].name, ".bn.") == NULL)
			params += m.t[i].n;
		else if (strstr(m.t[i].name, ".bn.weight"))
			params += m.t[i].n;
	bad += params != s->n_weight + s->n_bias;
	sz = sched_const_bytes(s, SCHED_F32);
	bad += sz != 4 * (params + 256L * n->in_ch) + 8L * (s->nseg - 1);
	model_free(&m);
	free(s);
	return bad;
}

static void
test_random(void)
{
	struct nn_rng r;
	int it, fails = 0;

	nn_rng_seed(&r, 5);
	for (it = 0; it < 24; it++) {
		struct arch a;
		struct arch_net n;

		random_arch(&a, &r, it);
		arch_net_build(&n, &a);
		fails += check_net(&n) != 0;
	}
	CHECK_EQ_L(fails, 0);
}

/*
 * All-min NACHOS at 16x16x1, width 1, 3 classes, exits after stages 2 and
 * 4 only. The first conv (16, 8, 8) reads the input (1, 16, 16); block 0
 * (16 -> 16, residual) holds its input across the depthwise and project
 * convs: input 1024 + dw 1024 + project 1024 live at once, which the
 * MCUNet rule (max input + output = 2048) does not count.
 */
static void
test_small(void)
{
	struct arch a;
	struct arch_net n;
	struct sched *s = malloc(sizeof(*s));
	int i, first_add = -1;

	arch_extreme(&a, ARCH_NACHOS, 0);
	a.width = 1;
	a.resolution = 16;
	a.in_ch = 1;
	a.classes = 3;
	a.exits[0] = a.exits[2] = 0;
	arch_net_build(&n, &a);
	sched_build(s, &n, 1);
	CHECK_EQ_L(s->nseg, 3);
	CHECK_EQ_L(s->op[0].kind, SK_INPUT);
	CHECK_EQ_L(s->buf[s->op[0].out].n, 256);
	CHECK_EQ_L(s->op[1].kind, SK_CONV);
	CHECK_EQ_L(s->buf[s->op[1].out].n, 16 * 8 * 8);
	for (i = 0; i < s->nop && first_add < 0; i++)
		if (s->op[i].kind == SK_ADD)
			first_add = i;
	CHECK_EQ_L(s->op[first_add].res, s->op[1].out);
	CHECK(s->live_peak >= 3 * 1024);
	CHECK(s->arena >= 3 * 1024);
	/* exit 1's head starts with the placement's pool, ReLU fused */
	for (i = s->seg_op[0]; i < s->seg_op[1] && !s->op[i].head; i++)
		;
	CHECK(s->op[i].kind == (n.ex[0].pool > 1 ? SK_POOL : SK_CONV));
	CHECK(s->op[i].kind == SK_POOL ? s->op[i].act == NN_RELU : s->op[i].in_relu);
	/* NACHOS heads carry the confidence: one sigmoid table each */
	CHECK_EQ_L(s->buf[s->logits[0]].n, 4);
	free(s);
}

int
main(void)
{
	test_random();
	test_small();
	return unit_done("schedule");
}
