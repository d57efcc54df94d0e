/* test_train - lib/train: the best-validation snapshot that model selection
 * keeps, and phase 3's support set and matrix drawn afresh each epoch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "fixture.h"
#include "model.h"
#include "train.h"
#include "unit.h"

static void
test_best(void)
{
	struct model m;
	struct train_best b;
	float *want;

	fixture_model(&m, 3, 4);
	want = calloc(m.nparam, sizeof(float));
	train_best_init(&b, &m);
	CHECK(!train_best_restore(&b, &m));      /* nothing kept yet */
	CHECK(!train_best_update(&b, &m, NAN, 0));
	CHECK(train_best_update(&b, &m, 2.0, 1));
	m.param[0] += 1;
	CHECK(!train_best_update(&b, &m, 3.0, 2)); /* worse: not kept */
	CHECK(!train_best_update(&b, &m, 2.0, 3)); /* equal: not kept */
	m.param[1] += 1;
	CHECK(train_best_update(&b, &m, 1.5, 4));
	memcpy(want, m.param, m.nparam * sizeof(float));
	m.param[0] = m.param[m.nparam - 1] = 42;
	CHECK(train_best_restore(&b, &m));
	CHECK(memcmp(want, m.param, m.nparam * sizeof(float)) == 0);
	CHECK_EQ_L(b.epoch, 4);
	CHECK_NEAR(b.loss, 1.5, 0);
	/* a new phase group starts afresh: a worse loss is kept again */
	train_best_reset(&b);
	CHECK(!train_best_restore(&b, &m));
	CHECK(train_best_update(&b, &m, 9.0, 5));
	train_best_free(&b);
	free(want);
	model_free(&m);
}

/* 60 training images of 3 classes with 30, 20, 10 samples. */
static void
tiny_ds(struct train_ds *ds)
{
	long i;

	memset(ds, 0, sizeof(*ds));
	ds->tr.n = 60, ds->tr.c = 1, ds->tr.h = ds->tr.w = 8, ds->tr.classes = 3;
	ds->tr.x = malloc(60 * 64);
	ds->tr.y = malloc(60 * sizeof(int32_t));
	ds->itr = malloc(60 * sizeof(int32_t));
	for (i = 0; i < 60; i++) {
		ds->tr.y[i] = i < 30 ? 0 : i < 50 ? 1 : 2;
		ds->itr[i] = (int32_t)i;
	}
	for (i = 0; i < 60 * 64; i++)
		ds->tr.x[i] = (uint8_t)(i * 2654435761u >> 24);
	ds->ntr = 60;
	ds->nm.c = 1, ds->nm.mean[0] = 0.5f, ds->nm.std[0] = 0.25f;
}

/* The support matrix recomputed by hand from a forward of the samples. */
static void
support_by_hand(float *S, struct model *m, const struct train_ds *ds, const int32_t *idx,
    long n)
{
	int K = 3, B = m->nexit, i, j, y[64];
	float x[64 * 16 * 16];
	double hit[3][8] = { { 0 } }, cnt[3] = { 0 };

	data_batch(x, y, &ds->tr, idx, (int)n, 1, 16, &ds->nm, NULL, NULL);
	model_forward(m, x, (int)n, 0);
	for (j = 0; j < n; j++) {
		cnt[y[j]]++;
		for (i = 0; i < B - 1; i++)
			hit[y[j]][i] += train_argmax(m->logits[i] + (long)j * m->nout[i], K) == y[j];
	}
	for (j = 0; j < K; j++)
		for (i = 0; i < B - 1; i++)
			S[j * (B - 1) + i] = (float)(hit[j][i] / cnt[j]);
}

static void
test_support(void)
{
	struct model m;
	struct train_ds ds;
	struct nn_rng rng;
	int32_t a[60], b[60];
	float S[3 * 4], want[3 * 4];
	long n, n2, k, per[3] = { 0 };

	fixture_model(&m, 3, 16);
	tiny_ds(&ds);
	nn_rng_seed(&rng, 5);
	/* 0.2 of 60 over 3 classes: 4 a class, however unbalanced the pool */
	n = train_support(S, a, &m, &ds, 0.2, &rng);
	CHECK_EQ_L(n, 12);
	for (k = 0; k < n; k++) {
		CHECK(a[k] >= 0 && a[k] < 60);
		per[ds.tr.y[a[k]]]++;
		if (k)
			CHECK(a[k] > a[k - 1]);
	}
	CHECK(per[0] == 4 && per[1] == 4 && per[2] == 4);
	support_by_hand(want, &m, &ds, a, n);
	CHECK_CLOSE(S, want, 12, 0, 0);
	/* the next epoch draws another set from the same stream */
	n2 = train_support(S, b, &m, &ds, 0.2, &rng);
	CHECK_EQ_L(n2, 12);
	CHECK(memcmp(a, b, n * sizeof(int32_t)) != 0);
	support_by_hand(want, &m, &ds, b, n2);
	CHECK_CLOSE(S, want, 12, 0, 0);
	/* more than the smallest class holds: every class gets its 10 */
	n = train_support(S, a, &m, &ds, 0.9, &rng);
	CHECK_EQ_L(n, 30);
	model_free(&m);
	free(ds.tr.x), free(ds.tr.y), free(ds.itr);
}

int
main(void)
{
	nn_threads(1);
	test_best();
	test_support();
	return unit_done("test_train");
}
