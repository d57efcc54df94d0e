/* test_opt.c - SGD steps computed by hand (and equal to torch.optim.SGD's:
 * the values below were also printed by PyTorch 1.13), the same steps over
 * many large segments in chunks at 2 threads, clipping, schedules. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "opt.h"
#include "unit.h"

/* param: [1, -2] decayed, [0.5] not decayed, [7] not in any segment. */
static const struct opt_seg segs[2] = { { 0, 2, 1 }, { 2, 1, 0 } };

static void
run(float *p, int nesterov, int steps)
{
	const float g[4] = { 0.1f, 0.2f, 0.3f, 9.0f };
	struct opt_sgd o;
	int s;

	p[0] = 1, p[1] = -2, p[2] = 0.5f, p[3] = 7;
	opt_sgd_init(&o, segs, 2, 4, 0.9, 0.01, nesterov);
	for (s = 0; s < steps; s++)
		opt_sgd_step(&o, p, g, 0.1);
	opt_sgd_free(&o);
}

static void
test_momentum(void)
{
	float p[4];

	/* Step 1: d = 0.1 + 0.01*1 = 0.11, v = d, p = 1 - 0.1*0.11 = 0.989;
	 * undecayed: d = 0.3, p = 0.5 - 0.03 = 0.47. */
	run(p, 0, 1);
	CHECK_NEAR(p[0], 0.989, 1e-6);
	CHECK_NEAR(p[1], -2.018, 1e-6);
	CHECK_NEAR(p[2], 0.47, 1e-6);
	CHECK_NEAR(p[3], 7, 0);
	/* Step 2: d = 0.1 + 0.00989 = 0.10989, v = 0.9*0.11 + d = 0.20889,
	 * p = 0.989 - 0.020889 = 0.968111; undecayed v = 0.57, p = 0.413. */
	run(p, 0, 2);
	CHECK_NEAR(p[0], 0.968111, 1e-6);
	CHECK_NEAR(p[1], -2.052182, 1e-6);
	CHECK_NEAR(p[2], 0.413, 1e-6);
	CHECK_NEAR(p[3], 7, 0);
}

static void
test_nesterov(void)
{
	float p[4];

	/* Step 1: d = 0.11, v = 0.11, d + 0.9 v = 0.209, p = 0.9791;
	 * undecayed: 0.3 + 0.27 = 0.57, p = 0.443. */
	run(p, 1, 1);
	CHECK_NEAR(p[0], 0.9791, 1e-6);
	CHECK_NEAR(p[1], -2.0342, 1e-6);
	CHECK_NEAR(p[2], 0.443, 1e-6);
	/* Step 2: d = 0.1 + 0.009791 = 0.109791, v = 0.099 + d = 0.208791,
	 * d + 0.9 v = 0.2977029, p = 0.9791 - 0.02977029 = 0.94932971;
	 * undecayed: v = 0.57, d = 0.3 + 0.513, p = 0.443 - 0.0813 = 0.3617. */
	run(p, 1, 2);
	CHECK_NEAR(p[0], 0.94932971, 1e-6);
	CHECK_NEAR(p[1], -2.082915, 1e-6);
	CHECK_NEAR(p[2], 0.3617, 1e-6);
	CHECK_NEAR(p[3], 7, 0);
}

static void
test_clip(void)
{
	float g[4] = { 3, 0, 4, 100 };    /* g[3] is outside the segments */
	const struct opt_seg s[2] = { { 0, 1, 1 }, { 2, 1, 0 } };

	CHECK_NEAR(opt_grad_norm(g, s, 2), 5, 1e-12);
	CHECK_NEAR(opt_clip(g, s, 2, 10), 5, 1e-12);
	CHECK_NEAR(g[0], 3, 0);
	CHECK_NEAR(opt_clip(g, s, 2, 1), 5, 1e-12);
	CHECK_NEAR(g[0], 3 / (5 + 1e-6), 1e-7);
	CHECK_NEAR(g[2], 4 / (5 + 1e-6), 1e-7);
	CHECK_NEAR(g[3], 100, 0);
	CHECK_NEAR(opt_grad_norm(g, s, 2), 1, 1e-6);
}

static void
test_sched(void)
{
	struct opt_sched c = { OPT_COSINE, 1.0, 10, 2, 0, 0 };
	struct opt_sched st = { OPT_STEP, 0.5, 10, 0, 3, 0.1 };
	struct opt_sched k = { OPT_CONST, 0.2, 10, 4, 0, 0 };

	CHECK_NEAR(opt_lr(&c, 0), 0.5, 1e-12);         /* warm-up 1/2, 2/2 */
	CHECK_NEAR(opt_lr(&c, 1), 1.0, 1e-12);
	CHECK_NEAR(opt_lr(&c, 2), 1.0, 1e-12);         /* cosine from its peak */
	CHECK_NEAR(opt_lr(&c, 6), 0.5, 1e-12);         /* half way: cos(pi/2) */
	CHECK_NEAR(opt_lr(&c, 9), 0.5 * (1 + cos(7 * M_PI / 8)), 1e-12);
	CHECK_NEAR(opt_lr(&st, 2), 0.5, 1e-12);
	CHECK_NEAR(opt_lr(&st, 3), 0.05, 1e-12);
	CHECK_NEAR(opt_lr(&st, 9), 0.0005, 1e-12);
	CHECK_NEAR(opt_lr(&k, 0), 0.05, 1e-12);
	CHECK_NEAR(opt_lr(&k, 5), 0.2, 1e-12);
	CHECK(strcmp(opt_sched_names[OPT_COSINE], "cosine") == 0);
}

/* Segments of 1 to 50000 floats, out of order in memory, with gaps (floats
 * in no segment) and both decay flags, so the step's chunks start inside
 * segments and span several: every float equals the update written out
 * element by element, and the gaps stay as they were. */
static void
test_chunks(void)
{
	enum { NSEG = 40, STEPS = 3 };
	struct opt_seg seg[NSEG];
	struct opt_sgd o;
	long nparam = 0, i, bad = 0;
	float *p, *q, *g, *v;
	int s, k, nest;

	for (s = 0; s < NSEG; s++) {
		long n = s % 4 == 0 ? 50000 : s % 4 == 1 ? 1 : s % 4 == 2 ? 3000 : 17000;
		seg[s] = (struct opt_seg){ nparam + 5, n, s % 3 != 0 };
		nparam += n + 5;
	}
	/* out of memory order */
	for (s = 0; s + 1 < NSEG; s += 2) {
		struct opt_seg t = seg[s];
		seg[s] = seg[s + 1], seg[s + 1] = t;
	}
	p = malloc(nparam * sizeof(float)), q = malloc(nparam * sizeof(float));
	g = malloc(nparam * sizeof(float)), v = calloc(nparam, sizeof(float));
	nn_threads(2);
	for (nest = 0; nest < 2; nest++) {
		for (i = 0; i < nparam; i++)
			p[i] = q[i] = (float)(i % 13) - 6, g[i] = (float)(i % 7) * 0.1f, v[i] = 0;
		opt_sgd_init(&o, seg, NSEG, nparam, 0.9, 0.01, nest);
		for (k = 0; k < STEPS; k++) {
			opt_sgd_step(&o, p, g, 0.1);
			for (s = 0; s < NSEG; s++)
				for (i = seg[s].off; i < seg[s].off + seg[s].n; i++) {
					float d = g[i] + (seg[s].decay ? 0.01f : 0.0f) * q[i];
					v[i] = 0.9f * v[i] + d;
					d = nest ? d + 0.9f * v[i] : v[i];
					q[i] -= 0.1f * d;
				}
		}
		bad += memcmp(p, q, nparam * sizeof(float)) != 0;
		opt_sgd_free(&o);
	}
	nn_threads(1);
	CHECK(bad == 0);
	free(p), free(q), free(g), free(v);
}

int
main(void)
{
	test_momentum();
	test_nesterov();
	test_chunks();
	test_clip();
	test_sched();
	return unit_done("test_opt");
}
