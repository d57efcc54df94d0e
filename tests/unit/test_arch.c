/* test_arch.c - MAC pins (nachos-method(7) §2), genome <-> arch both ways, placement. */
#include <string.h>

#include "arch.h"
#include "unit.h"

static void
mid_arch(struct arch *a)
{
	int i;

	arch_extreme(a, ARCH_NACHOS, 0);
	for (i = 0; i < ARCH_SLOTS; i++) {
		a->ks[i] = 5;
		a->e[i] = 4;
	}
	for (i = 0; i < ARCH_STAGES; i++)
		a->d[i] = 3;
	arch_canonical(a);
}

static long
macs(struct arch *a, double w, int in_ch, int classes)
{
	struct arch_net n;

	a->width = w;
	a->resolution = 32;
	a->in_ch = in_ch;
	a->classes = classes;
	arch_net_build(&n, a);
	return n.macs_backbone;
}

/* The tools' starting arch: the space, width and input of nachos-method(7)
 * §1, no genes set. */
static void
test_defaults(void)
{
	struct arch a;
	int i, zero = 1;

	memset(&a, 0x5a, sizeof(a));
	arch_defaults(&a);
	CHECK(a.space == ARCH_NACHOS && a.width == 1.0 && a.resolution == 32);
	CHECK(a.in_ch == 3 && a.classes == 10);
	for (i = 0; i < ARCH_SLOTS; i++)
		zero &= a.ks[i] == 0 && a.e[i] == 0;
	CHECK(zero);
}

static void
test_mac_pins(void)
{
	struct arch a;

	arch_extreme(&a, ARCH_NACHOS, 0);
	CHECK_EQ_L(macs(&a, 1.0, 3, 10), 3935184);
	CHECK_EQ_L(macs(&a, 1.0, 1, 10), 3861456);
	CHECK_EQ_L(macs(&a, 1.0, 3, 1000), 5202384);
	mid_arch(&a);
	CHECK_EQ_L(macs(&a, 1.0, 3, 10), 7083584);
	arch_extreme(&a, ARCH_NACHOS, 1);
	CHECK_EQ_L(macs(&a, 1.0, 3, 10), 15198240);
	CHECK_EQ_L(macs(&a, 1.0, 3, 1000), 16465440);
}

static void
test_layers_sum(void)
{
	struct arch a;
	struct arch_net n;
	struct arch_layer l[128];
	long bb = 0, heads = 0;
	int i, k;

	mid_arch(&a);
	a.width = 1.2, a.resolution = 32, a.in_ch = 3, a.classes = 10;
	arch_net_build(&n, &a);
	k = arch_net_layers(&n, l, 128);
	CHECK(k < 128);
	for (i = 0; i < k; i++) {
		if (l[i].exit)
			heads += l[i].macs;
		else
			bb += l[i].macs;
	}
	CHECK_EQ_L(bb, n.macs_backbone);
	CHECK_EQ_L(heads, n.ex[n.nexit - 1].spent - n.macs_backbone);
}

static void
test_width(void)
{
	static const int want[] = { 24, 24, 32, 48, 96, 136, 192 };
	struct arch a;
	struct arch_net n;
	int s;

	arch_extreme(&a, ARCH_NACHOS, 0);
	a.width = 1.2, a.resolution = 32, a.in_ch = 3, a.classes = 10;
	arch_net_build(&n, &a);
	CHECK_EQ_L(n.first_ch, want[0]);
	for (s = 0; s <= ARCH_STAGES; s++)
		CHECK_EQ_L(n.stage_w[s], want[s + 1]);
	CHECK_EQ_L(n.final_expand, 1152);
	CHECK_EQ_L(n.feature_mix, 1536);
}

static void
test_genome_roundtrip(void)
{
	int sp, t, i, lo[ARCH_MAX_GENOME], hi[ARCH_MAX_GENOME];
	unsigned seed = 12345;

	for (sp = 0; sp < 3; sp++) {
		int n = arch_genome_len(sp);

		arch_genome_bounds(sp, lo, hi);
		for (t = 0; t < 200; t++) {
			int g[ARCH_MAX_GENOME], g2[ARCH_MAX_GENOME], g3[ARCH_MAX_GENOME], bad;
			struct arch a, b;

			memset(&a, 0, sizeof(a));
			a.space = sp;
			for (i = 0; i < n; i++) {
				seed = seed * 1103515245 + 12345;
				g[i] = lo[i] + (int)((seed >> 16) % (unsigned)(hi[i] - lo[i] + 1));
			}
			g[45] = sp == ARCH_NACHOS ? 1 : 0; /* keep one exit on */
			CHECK(arch_from_genome(&a, g, &bad) == 0);
			arch_to_genome(&a, g2);
			b = a;
			b.space = sp;
			CHECK(arch_from_genome(&b, g2, &bad) == 0);
			arch_to_genome(&b, g3);
			/* arch -> genome -> arch is the identity on canonical archs. */
			CHECK(memcmp(a.ks, b.ks, sizeof(a.ks)) == 0);
			CHECK(memcmp(a.e, b.e, sizeof(a.e)) == 0);
			CHECK(memcmp(a.d, b.d, sizeof(a.d)) == 0);
			CHECK(memcmp(a.exits, b.exits, sizeof(a.exits)) == 0);
			CHECK(memcmp(a.mod, b.mod, sizeof(a.mod)) == 0);
			CHECK(memcmp(g2, g3, n * sizeof(int)) == 0);
			/* genome -> arch keeps every active gene. */
			for (i = 0; i < ARCH_STAGES; i++)
				CHECK_EQ_L(a.d[i], arch_d_set[g[i]]);
		}
	}
}

static void
test_genome_rejects(void)
{
	struct arch a;
	int g[ARCH_MAX_GENOME], bad;

	arch_extreme(&a, ARCH_NACHOS, 0);
	arch_to_genome(&a, g);
	g[7] = 3;
	CHECK(arch_from_genome(&a, g, &bad) < 0 && bad == 7);
	arch_to_genome(&a, g);
	memset(g + 45, 0, 4 * sizeof(int));
	CHECK(arch_from_genome(&a, g, &bad) < 0 && bad == 45);
}

static void
test_genome_repair(void)
{
	struct arch a, base;
	int g[ARCH_MAX_GENOME], want[ARCH_MAX_GENOME], bad, sp;

	for (sp = 0; sp < 3; sp++) {
		int n = arch_genome_len(sp);

		arch_extreme(&base, sp, 0);
		arch_to_genome(&base, want);
		arch_to_genome(&base, g);
		/* out of bounds is clamped; an unused slot's genes are reset */
		g[0] = -4;              /* d of stage 1: clamps to index 0 (d = 2) */
		g[5 + 3] = 2;           /* k of slot 3, unused at d = 2 */
		g[25 + 3] = 7;          /* e of slot 3, out of bounds and unused */
		arch_genome_repair(&base, g);
		CHECK(memcmp(g, want, n * sizeof(int)) == 0);
		/* no exit enabled: the last intermediate exit is turned on */
		memset(g + 45, 0, 4 * sizeof(int));
		if (sp != ARCH_NACHOS)
			g[45] = g[46] = g[47] = g[48] = 2;
		arch_genome_repair(&base, g);
		a = base;
		CHECK(arch_from_genome(&a, g, &bad) == 0);
		CHECK(a.exits[3] == 1 && a.exits[0] + a.exits[1] + a.exits[2] == 0);
	}
}

static void
test_placement(void)
{
	struct arch a;
	struct arch_net n;
	int i;

	/* all-min: the stage-1 exit (8x8) needs a 4x4 pool, stage 3 none. */
	arch_extreme(&a, ARCH_NACHOS, 0);
	a.width = 1.0, a.resolution = 32, a.in_ch = 1, a.classes = 10;
	arch_net_build(&n, &a);
	CHECK_EQ_L(n.nexit, 5);
	CHECK_EQ_L(n.ex[0].pool, 4);
	CHECK_EQ_L(n.ex[2].pool, 1);
	for (i = 0; i + 1 < n.nexit; i++) {
		CHECK(n.ex[i].cost < n.ex[i + 1].cost);
		CHECK(!n.ex[i].pool_failed);
	}
	/* spent counts every earlier head; cost only its own. */
	CHECK_EQ_L(n.ex[1].spent, n.ex[1].cost + n.ex[0].head_macs);
	CHECK_EQ_L(n.ex[4].cost, n.macs_backbone);
}

/* Exits taken out of a built net: the others keep their pools (exit 1's
 * was chosen beside exit 2) and spent counts only the heads left. */
static void
test_drop_exits(void)
{
	struct arch a;
	struct arch_net n, full;
	int i;

	arch_extreme(&a, ARCH_NACHOS, 0);
	a.width = 1.0, a.resolution = 32, a.in_ch = 1, a.classes = 10;
	arch_net_build(&full, &a);
	n = full;
	arch_net_drop_exits(&n, 1u << 1 | 1u << 3);
	CHECK_EQ_L(n.nexit, 3);
	CHECK_EQ_L(n.ex[0].stage, 1);
	CHECK_EQ_L(n.ex[1].stage, 3);
	CHECK_EQ_L(n.ex[2].stage, 5);
	CHECK_EQ_L(n.ex[0].pool, full.ex[0].pool);
	CHECK_EQ_L(n.ex[1].pool, full.ex[2].pool);
	for (i = 0; i < 3; i++)
		CHECK_EQ_L(n.ex[i].cost, full.ex[i == 0 ? 0 : 2 * i].cost);
	CHECK_EQ_L(n.ex[0].spent, full.ex[0].spent);
	CHECK_EQ_L(n.ex[1].spent, full.ex[2].spent - full.ex[1].head_macs);
	CHECK_EQ_L(n.ex[2].spent, full.ex[4].spent - full.ex[1].head_macs -
	    full.ex[3].head_macs);
	/* the final exit is never taken out */
	n = full;
	arch_net_drop_exits(&n, 1u << 4);
	CHECK_EQ_L(n.nexit, 5);
	CHECK_EQ_L(n.ex[4].spent, full.ex[4].spent);
}

/* Records whose threshold genes thresh-tune changed describe the same
 * weights; anything else, or an exit the weights lack, does not. */
static void
test_genome_mismatch(void)
{
	struct arch a;
	int net[ARCH_MAX_GENOME], rec[ARCH_MAX_GENOME], n, x = 45, b = 49;

	arch_extreme(&a, ARCH_AEBNAS, 0);
	a.th[0] = a.th[1] = a.th[2] = a.th[3] = 0;
	a.mod[2][0].k = 5;
	arch_canonical(&a);
	arch_to_genome(&a, net);
	n = arch_genome_len(ARCH_AEBNAS);
	CHECK_EQ_L(n, 77);
	memcpy(rec, net, sizeof(rec));
	CHECK_EQ_L(arch_genome_mismatch(ARCH_AEBNAS, net, rec), -1);
	rec[x + 1] = 1;                              /* 0.1 -> 0.2 */
	CHECK_EQ_L(arch_genome_mismatch(ARCH_AEBNAS, net, rec), -1);
	rec[x + 2] = 2;                              /* no exit, its branch zeroed */
	memset(rec + b + 2 * 7, 0, 7 * sizeof(int));
	CHECK_EQ_L(arch_genome_mismatch(ARCH_AEBNAS, net, rec), -1);
	rec[b + 3 * 7] ^= 1;                         /* a live exit's branch */
	CHECK_EQ_L(arch_genome_mismatch(ARCH_AEBNAS, net, rec), b + 3 * 7);
	memcpy(rec, net, sizeof(rec));
	rec[7] = (rec[7] + 1) % 3;                   /* the backbone */
	CHECK_EQ_L(arch_genome_mismatch(ARCH_AEBNAS, net, rec), 7);
	/* an exit the weights lack */
	memcpy(rec, net, sizeof(rec));
	net[x + 3] = 2;
	CHECK_EQ_L(arch_genome_mismatch(ARCH_AEBNAS, net, rec), x + 3);
	/* NACHOS: exit bits are the network */
	arch_extreme(&a, ARCH_NACHOS, 0);
	arch_to_genome(&a, net);
	memcpy(rec, net, sizeof(rec));
	rec[x] = 0;
	CHECK_EQ_L(arch_genome_mismatch(ARCH_NACHOS, net, rec), x);
}

int
main(void)
{
	test_defaults();
	test_mac_pins();
	test_layers_sum();
	test_width();
	test_genome_roundtrip();
	test_genome_rejects();
	test_genome_repair();
	test_placement();
	test_drop_exits();
	test_genome_mismatch();
	return unit_done("test_arch");
}
