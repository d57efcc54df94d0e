/* test_eenn_train - lib/eenn_train: the phases of each method; the
 * backbone and joint losses equal the cross-entropies summed by hand, with
 * the backbone phase leaving the exit heads without gradient; training is
 * seeded (the same seed gives the same weights) and keeps the weights of
 * the best validation loss of each phase group. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eenn_train.h"
#include "fixture.h"
#include "unit.h"

static void
test_plan(void)
{
	struct eenn_cfg c = { .mu = { 3, 4, 5 } };
	struct eenn_phase ph[4];

	c.method = EENN_NACHOS;
	CHECK_EQ_L(eenn_plan(ph, &c), 3);
	CHECK(ph[0].kind == EENN_PH_BACKBONE && ph[0].epochs == 3 && ph[0].group == 0);
	CHECK(ph[1].kind == EENN_PH_EENN && ph[1].epochs == 4 && ph[1].group == 1);
	CHECK(ph[2].kind == EENN_PH_PEAK && ph[2].epochs == 5 && ph[2].group == 1);
	c.method = EENN_JOINT;
	CHECK_EQ_L(eenn_plan(ph, &c), 2);
	CHECK(ph[1].kind == EENN_PH_JOINT && ph[1].epochs == 9);
	c.method = EENN_BACKBONE;
	CHECK_EQ_L(eenn_plan(ph, &c), 1);
	CHECK(ph[0].kind == EENN_PH_BACKBONE);
	/* --eval shared: no backbone phase */
	c.shared = 1;
	c.method = EENN_NACHOS;
	CHECK_EQ_L(eenn_plan(ph, &c), 2);
	CHECK(ph[0].kind == EENN_PH_EENN && ph[0].epochs == 4 && ph[0].group == 1);
	CHECK(ph[1].kind == EENN_PH_PEAK && ph[1].epochs == 5 && ph[1].group == 1);
	c.method = EENN_JOINT;
	CHECK_EQ_L(eenn_plan(ph, &c), 1);
	CHECK(ph[0].kind == EENN_PH_JOINT && ph[0].epochs == 9);
	c.method = EENN_BACKBONE;
	CHECK_EQ_L(eenn_plan(ph, &c), 0);
}

static struct eenn_cfg
tiny_cfg(int method)
{
	struct eenn_cfg c = { .train = { .batch = 8, .seed = 3, .lr = 0.01, .momentum = 0.9,
	    .threads = 1 }, .mu = { 1, 1, 1 }, .sched = OPT_CONST, .method = method,
	    .w = { 1, 1, 1 }, .macs_max = NAN, .acc_min = NAN, .support_frac = 0.5 };
	return c;
}

/* Mean cross-entropy of the first K logits of each of the N rows of lg
 * (N, ld), in double. */
static double
ce(const float *lg, const int *y, int N, int ld, int K)
{
	double s = 0;
	int n, j;

	for (n = 0; n < N; n++) {
		double z = 0;

		for (j = 0; j < K; j++)
			z += exp(lg[(long)n * ld + j]);
		s += log(z) - lg[(long)n * ld + y[n]];
	}
	return s / N;
}

static void
test_losses(void)
{
	struct train_ds ds;
	struct arch_net net;
	struct eenn_cfg c = tiny_cfg(EENN_JOINT);
	struct eenn_trainer t;
	long correct[MODEL_MAX_EXITS] = { 0 };
	float *dl[MODEL_MAX_EXITS];
	double want = 0, got;
	int i, N = 8;

	fixture_ds(&ds, 30, 10, 16, 3);
	fixture_net(&net, 3);
	eenn_trainer_init(&t, &c, &ds, &net, 0, 3);
	CHECK_EQ_L(eenn_init_weights(&t, NULL), 0);
	data_batch(t.x, t.y, &ds.tr, ds.itr, N, t.C, t.R, &ds.nm, NULL, NULL);
	model_forward(&t.m, t.x, N, 0);
	for (i = 0; i < t.B; i++) {
		want += ce(t.m.logits[i], t.y, N, t.m.nout[i], t.K);
		memset(t.dlog[i], 0, (size_t)N * t.m.nout[i] * sizeof(float));
		dl[i] = t.dlog[i];
	}
	got = eenn_phase_loss(&t, EENN_PH_JOINT, N, correct, dl, NULL);
	CHECK_NEAR(got, want, 1e-4);
	CHECK(correct[t.B - 1] >= 0 && correct[t.B - 1] <= N);
	/* the backbone phase: the final exit alone, no gradient to the others */
	for (i = 0; i < t.B; i++)
		dl[i] = t.dlog[i];
	got = eenn_phase_loss(&t, EENN_PH_BACKBONE, N, correct, dl, NULL);
	CHECK_NEAR(got, ce(t.m.logits[t.B - 1], t.y, N, t.m.nout[t.B - 1], t.K), 1e-4);
	for (i = 0; i < t.B - 1; i++)
		CHECK(dl[i] == NULL);
	CHECK(dl[t.B - 1] == t.dlog[t.B - 1]);
	/* evaluation over the validation split: the same loss as by batch */
	{
		double acc[MODEL_MAX_EXITS], l = eenn_evaluate(&t, EENN_PH_JOINT, &ds.tr, ds.iva, 0,
		    acc, NULL);

		CHECK(isnan(l) && isnan(acc[0]));
	}
	eenn_trainer_free(&t);
	fixture_ds_free(&ds);
}

/* Train NACHOS phases on tiny data; returns the weights' checksum. */
static double
train_once(long *steps, int *nep, double *best)
{
	struct train_ds ds;
	struct arch_net net;
	struct eenn_cfg c = tiny_cfg(EENN_NACHOS);
	struct eenn_trainer t;
	struct eenn_phase ph[4];
	struct eenn_phase_stats st[4];
	int np, i;
	double sum = 0;

	fixture_ds(&ds, 30, 10, 16, 3);
	fixture_net(&net, 3);
	np = eenn_plan(ph, &c);
	eenn_trainer_init(&t, &c, &ds, &net, 0, 3);
	eenn_init_weights(&t, NULL);
	eenn_train_phases(&t, ph, st, np, 1);
	*steps = t.steps;
	*nep = t.nep;
	/* the weights kept are the group's best: its validation loss */
	*best = isnan(st[2].best_vloss) ? st[1].best_vloss : st[2].best_vloss;
	CHECK(*best == t.best.loss);
	for (i = 0; i < t.m.nparam; i++)
		sum += t.m.param[i] * (double)(i % 7 + 1);
	/* the first epoch of a group is always its best so far */
	CHECK(st[0].best_epoch == 1 && st[1].best_epoch == 1);
	for (i = 0; i < np; i++)
		CHECK(isfinite(st[i].loss) && st[i].best_epoch == !isnan(st[i].best_vloss));
	eenn_trainer_free(&t);
	fixture_ds_free(&ds);
	return sum;
}

static void
test_seeded(void)
{
	long s1, s2;
	int n1, n2;
	double b1, b2, a = train_once(&s1, &n1, &b1), b = train_once(&s2, &n2, &b2);

	CHECK(a == b);
	CHECK(b1 == b2);
	CHECK_EQ_L(s1, 3 * 4);        /* 3 phases of ceil(30 / 8) steps */
	CHECK_EQ_L(n1, 3);
}

/* The head phases over cached features: the backbone stays bit for bit,
 * every exit head moves, the figures and counts are those of the cache. */
static void
test_cached(void)
{
	struct train_ds ds;
	struct arch_net net;
	struct eenn_cfg c = tiny_cfg(EENN_NACHOS);
	struct eenn_trainer t;
	struct eenn_phase ph[4];
	struct eenn_phase_stats st[4];
	float *before;
	int np, i, bb_moved = 0, heads_moved = 0;

	c.shared = 1;
	c.cache = 20;
	c.train.lr = 0.05;
	fixture_ds(&ds, 30, 10, 16, 3);
	fixture_net(&net, 3);
	np = eenn_plan(ph, &c);
	eenn_trainer_init(&t, &c, &ds, &net, 0, 3);
	eenn_init_weights(&t, NULL);
	before = malloc(t.m.nparam * sizeof(float));
	memcpy(before, t.m.param, t.m.nparam * sizeof(float));
	CHECK_EQ_L(eenn_train_cached(&t, ph, st, np, 1), 20);
	CHECK_EQ_L(t.nep, 2);
	CHECK_EQ_L(t.steps, 2 * 3);           /* 20 cached images at batch 8 */
	for (i = 0; i < np; i++)
		CHECK(isfinite(st[i].loss) && st[i].acc >= 0 && st[i].acc <= 1 &&
		    isnan(st[i].best_vloss));
	for (i = 0; i < t.m.ntensor; i++) {
		const struct model_tensor *mt = &t.m.t[i];
		int moved = memcmp(before + mt->off, t.m.param + mt->off,
		    mt->n * sizeof(float)) != 0;

		if (strncmp(mt->name, "first_conv.", 11) == 0 ||
		    strncmp(mt->name, "blocks.", 7) == 0)
			bb_moved += moved;
		else if (strncmp(mt->name, "exits.", 6) == 0 && (mt->flags & MT_TRAIN) &&
		    strstr(mt->name, "linear.weight"))
			heads_moved += moved;
	}
	CHECK_EQ_L(bb_moved, 0);
	CHECK_EQ_L(heads_moved, t.B - 1);
	/* no epochs: nothing cached, nothing trained */
	ph[0].epochs = ph[1].epochs = 0;
	CHECK_EQ_L(eenn_train_cached(&t, ph, st, np, 1), 0);
	CHECK(isnan(st[0].loss));
	free(before);
	eenn_trainer_free(&t);
	fixture_ds_free(&ds);
}

int
main(void)
{
	nn_threads(1);
	test_plan();
	test_losses();
	test_seeded();
	test_cached();
	return unit_done("test_eenn_train");
}
