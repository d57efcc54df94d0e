/* test_report.c - report.h on hand-worked inputs: the common seeds (each
 * once, ascending), which records pair, what
 * is admissible (constraints and memory limit), the differences and the
 * counts of a paired comparison, and growth past the first allocation. */
#include <math.h>

#include "report.h"
#include "unit.h"

static void
test_common_seeds(void)
{
	/* method 0 has seeds 5, 1, 3 (5 twice), method 1 has 3, 5, 9, method 2
	 * only in the second case */
	int method[] = { 0, 0, 1, 0, 1, 1, 0 }, method3[] = { 0, 0, 1, 0, 1, 1, 2 };
	long seed[] = { 5, 1, 3, 3, 5, 9, 5 }, out[7];

	CHECK_EQ_L(report_common_seeds(out, method, seed, 7, 2), 2);
	CHECK_EQ_L(out[0], 3);
	CHECK_EQ_L(out[1], 5);
	CHECK_EQ_L(report_common_seeds(out, method3, seed, 7, 3), 1);
	CHECK_EQ_L(out[0], 5);
	CHECK_EQ_L(report_common_seeds(out, method, seed, 7, 1), 3);   /* 1 3 5 */
	CHECK(out[0] == 1 && out[1] == 3 && out[2] == 5);
	CHECK_EQ_L(report_common_seeds(out, method, seed, 0, 2), 0);
}

static void
test_same_arch(void)
{
	int g[] = { 1, 2, 3 }, h[] = { 1, 2, 4 };

	CHECK(report_same_arch("a", g, 3, "a", g, 3));
	CHECK(!report_same_arch("a", g, 3, "b", g, 3));        /* other id */
	CHECK(!report_same_arch("a", g, 3, "a", h, 3));        /* other genome */
	CHECK(!report_same_arch("a", g, 3, "a", g, 2));        /* other length */
	CHECK(!report_same_arch("a", g, 0, "a", g, 0));        /* no genome: no pair */
}

static void
test_admissible(void)
{
	struct report_side s = { .acc = 0.9, .macs = 2e6, .exp_macs = NAN, .mem_cv = 0,
		.acc_min = 0.85, .macs_max = 3e6 };

	CHECK(report_admissible(&s));
	s.acc = 0.8;                    /* below the floor */
	CHECK(!report_admissible(&s));
	s.acc = 0.9;
	s.macs = 3.1e6;                 /* over the MACs limit */
	CHECK(!report_admissible(&s));
	s.macs = 2e6;
	s.mem_cv = 0.01;                /* over a memory limit */
	CHECK(!report_admissible(&s));
	s.mem_cv = -1;                  /* well inside the memory limits */
	s.acc_min = 0;
	s.macs_max = INFINITY;
	CHECK(report_admissible(&s));
}

static void
test_paired(void)
{
	struct report_paired p;
	/* the method: 10 % fewer MACs, 20 % more expected MACs, +2 points, and
	 * inadmissible (below its floor); the first method admissible */
	struct report_side e = { .acc = 0.88, .macs = 1.8e6, .exp_macs = 2.4e6, .mem_cv = 0,
		.acc_min = 0.89, .macs_max = INFINITY };
	struct report_side ref = { .acc = 0.86, .macs = 2e6, .exp_macs = 2e6, .mem_cv = 0,
		.acc_min = 0.85, .macs_max = INFINITY };
	int i, ok = 1;

	report_paired_init(&p);
	CHECK(report_paired_add(&p, &e, &ref) == 0);
	CHECK_EQ_L(p.n, 1);
	CHECK_NEAR(p.d_macs[0], -0.1, 1e-12);
	CHECK_NEAR(p.d_exp_macs[0], 0.2, 1e-12);
	CHECK_NEAR(p.d_acc[0], 0.02, 1e-12);
	CHECK_EQ_L(p.adm_ref, 1);
	CHECK_EQ_L(p.adm, 0);
	/* no expected MACs (not a nachos record): NaN, not a number made up */
	e.exp_macs = NAN;
	e.acc = 0.9;                    /* now admissible */
	CHECK(report_paired_add(&p, &e, &ref) == 0);
	CHECK(isnan(p.d_exp_macs[1]));
	CHECK_EQ_L(p.adm, 1);
	CHECK_EQ_L(p.adm_ref, 2);
	/* past the first 64 pairs, the ones before are kept */
	for (i = 0; i < 200; i++)
		CHECK(report_paired_add(&p, &e, &ref) == 0);
	CHECK_EQ_L(p.n, 202);
	CHECK_NEAR(p.d_macs[0], -0.1, 1e-12);
	for (i = 1; i < p.n; i++)
		ok &= fabs(p.d_acc[i] - 0.04) < 1e-12;
	CHECK(ok);
	CHECK_EQ_L(p.adm, 201);
	report_paired_free(&p);
	CHECK(p.n == 0 && p.d_macs == NULL);
}

int
main(void)
{
	test_common_seeds();
	test_same_arch();
	test_admissible();
	test_paired();
	return unit_done("report");
}
