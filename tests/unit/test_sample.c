/* test_sample.c - sample.h: the draws in their fixed order (the first genes
 * against rng_below by hand), every drawn arch valid and canonical with an
 * exit on, the space sizes worked by hand, the genome set, and the
 * smallest networks' fit under no, absurd and loose limits. */
#include <math.h>
#include <string.h>

#include "sample.h"
#include "unit.h"

static void
base(struct arch *a, enum arch_space s)
{
	memset(a, 0, sizeof(*a));
	a->space = s;
	a->width = 1.0;
	a->resolution = 32;
	a->in_ch = 3;
	a->classes = 10;
}

/* Draws in the order d, ks, e: the first genes equal rng_below's by hand. */
static void
test_draw_order(void)
{
	struct arch a;
	struct nn_rng r, ref;
	int i, same = 1;

	base(&a, ARCH_NACHOS);
	nn_rng_seed(&r, 7);
	nn_rng_seed(&ref, 7);
	sample_arch(&a, &r);
	for (i = 0; i < ARCH_STAGES; i++)
		same &= a.d[i] == arch_d_set[rng_below(&ref, 3)];
	CHECK(same);
	/* slot 0 is always used (d >= 2): its kernel is the next draw */
	CHECK_EQ_L(a.ks[0], arch_ks_set[rng_below(&ref, 3)]);
}

static void
test_valid(void)
{
	enum arch_space s;
	struct arch a, b;
	struct nn_rng r;
	int g[ARCH_MAX_GENOME], lo[ARCH_MAX_GENOME], hi[ARCH_MAX_GENOME];
	int bad, k, i, n, any, ok = 1, canon = 1, exit_on = 1;

	for (s = ARCH_NACHOS; s <= ARCH_AEBNAS; s++) {
		base(&a, s);
		nn_rng_seed(&r, 11 + s);
		n = arch_genome_len(s);
		arch_genome_bounds(s, lo, hi);
		for (k = 0; k < 200; k++) {
			sample_arch(&a, &r);
			arch_to_genome(&a, g);
			for (i = 0; i < n; i++)
				ok &= g[i] >= lo[i] && g[i] <= hi[i];
			base(&b, s);
			ok &= arch_from_genome(&b, g, &bad) == 0;
			arch_canonical(&b);
			canon &= memcmp(&a, &b, sizeof(a)) == 0;
			for (any = 0, i = 0; i < ARCH_EXITS; i++)
				any |= a.exits[i];
			exit_on &= any;
		}
	}
	CHECK(ok);
	CHECK(canon);
	CHECK(exit_on);
}

static void
test_space_size(void)
{
	/* per stage: depths 2, 3, 4 of 9 (k, e) pairs per block */
	double stage = 81 + 729 + 6561, backbone = pow(stage, 5);

	CHECK_NEAR(sample_space_size(ARCH_NACHOS) / backbone, 15, 1e-9);   /* 2^4 - 1 */
	CHECK_NEAR(sample_space_size(ARCH_EDANAS) / backbone, 80, 1e-9);   /* 3^4 - 1 */
	/* an exit: off, or 2 thresholds x 8 module-1 x 9 module-2 (absent or 8) */
	CHECK_NEAR(sample_space_size(ARCH_AEBNAS) / backbone, pow(145, 4) - 1, 1e-3);
}

static void
test_set(void)
{
	struct sample_set set;
	struct arch a, b;

	base(&a, ARCH_NACHOS);
	arch_extreme(&a, ARCH_NACHOS, 0);       /* depth 2 everywhere */
	CHECK(sample_set_init(&set, ARCH_NACHOS, 2) == 0);
	CHECK_EQ_L(sample_set_add(&set, &a), 1);
	CHECK_EQ_L(sample_set_add(&set, &a), 0);
	/* a gene past the stage's depth makes no other network */
	b = a;
	b.ks[3] = 7;
	arch_canonical(&b);
	CHECK_EQ_L(sample_set_add(&set, &b), 0);
	b.d[1] = 3;
	CHECK_EQ_L(sample_set_add(&set, &b), 1);
	CHECK_EQ_L(set.n, 2);
	b.d[2] = 3;
	CHECK_EQ_L(sample_set_add(&set, &b), -1);       /* full: made for 2 */
	sample_set_free(&set);
}

static void
test_min_fits(void)
{
	struct hw_limits l;
	struct arch a;
	char why[160] = "";

	base(&a, ARCH_NACHOS);
	hw_limits_init(&l);
	CHECK(sample_min_fits(&l, a, why, sizeof(why)));        /* no limits */
	l.flash_max = 1;
	CHECK(!sample_min_fits(&l, a, why, sizeof(why)));
	CHECK(why[0] != '\0');
	l.flash_max = 1L << 40;
	CHECK(sample_min_fits(&l, a, why, sizeof(why)));
	a.width = 4.0;
	l.flash_max = 1L << 20;         /* 1 MiB: even the smallest at 4x is larger */
	CHECK(!sample_min_fits(&l, a, why, sizeof(why)));
	a.width = 0.25;
	CHECK(sample_min_fits(&l, a, why, sizeof(why)));
}

int
main(void)
{
	test_draw_order();
	test_valid();
	test_space_size();
	test_set();
	test_min_fits();
	return unit_done("sample");
}
