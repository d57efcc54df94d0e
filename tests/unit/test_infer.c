/* test_infer - lib/infer: the early-exit run leaves each sample where the
 * stored exit outputs of every exit say it leaves, with their prediction;
 * thresholds of 0 stop every sample at the first exit and of 1 at the last,
 * at the spent MACs of that exit; the batch size changes nothing. */
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "fixture.h"
#include "infer.h"
#include "unit.h"

/* 13 images of 8x8, labels 0..2 */
static void
tiny_set(struct data_set *d, int32_t *idx /* (13) */, struct data_norm *nm)
{
	long i;

	memset(d, 0, sizeof(*d));
	d->n = 13, d->c = 1, d->h = d->w = 8, d->classes = 3;
	d->x = malloc(13 * 64);
	d->y = malloc(13 * sizeof(int32_t));
	for (i = 0; i < 13; i++) {
		d->y[i] = (int32_t)(i % 3);
		idx[i] = (int32_t)(12 - i);
	}
	for (i = 0; i < 13 * 64; i++)
		d->x[i] = (uint8_t)(i * 2654435761u >> 24);
	memset(nm, 0, sizeof(*nm));
	nm->c = 1, nm->mean[0] = 0.5f, nm->std[0] = 0.25f;
}

static void
test_against_exo(int batch)
{
	struct model m;
	struct data_set d;
	struct data_norm nm;
	struct infer_res res;
	struct exo e;
	int32_t idx[13];
	double eps[EXO_MAX_EXITS], e0[EXO_MAX_EXITS] = { 0 }, e1[EXO_MAX_EXITS];
	long j, correct = 0, count[EXO_MAX_EXITS] = { 0 };
	int i, B;

	fixture_model(&m, 3, batch);
	tiny_set(&d, idx, &nm);
	{
		struct infer_split sp = { "val", &d, idx, 13, &nm };

		B = m.nexit;
		CHECK(B >= 2);
		infer_exo_init(&e, "val", 13, &m);
		CHECK_EQ_L(e.nexit, B);
		CHECK_EQ_L(e.spent[B - 1], m.net.ex[B - 1].spent);
		infer_all_exits(&e, &m, &sp, 1, NULL);
		for (j = 0; j < 13; j++)
			CHECK_EQ_L(e.label[j], d.y[idx[j]]);
		/* thresholds that split the samples between exits */
		for (i = 0; i < B - 1; i++)
			eps[i] = thr_score(&e, THR_CUMULATIVE, i, i);
		for (j = 0; j < 13; j++) {
			int x = thr_exit(&e, THR_CUMULATIVE, eps, j);

			count[x]++;
			correct += e.pred[(long)x * e.n + j] == e.label[j];
		}
		infer_early_exit(&res, &m, &sp, 13, 1, THR_CUMULATIVE, eps, &e, "test");
		CHECK_EQ_L(res.n, 13);
		CHECK_EQ_L(res.mismatch, 0);
		CHECK_EQ_L(res.correct, correct);
		for (i = 0; i < B; i++)
			CHECK_EQ_L(res.count[i], count[i]);

		/* 0: every sample at the first exit, at its MACs */
		infer_early_exit(&res, &m, &sp, 13, 1, THR_CUMULATIVE, e0, &e, "test");
		CHECK_EQ_L(res.count[0], 13);
		CHECK_EQ_L(res.exit_macs[0], m.net.ex[0].spent);
		CHECK_EQ_L(res.exit_macs[1], -1);
		/* 1 never fires: every sample at the final exit */
		for (i = 0; i < B - 1; i++)
			e1[i] = 1;
		infer_early_exit(&res, &m, &sp, 9, 1, THR_CUMULATIVE, e1, NULL, "test");
		CHECK_EQ_L(res.n, 9);
		CHECK_EQ_L(res.count[B - 1], 9);
		CHECK_EQ_L(res.exit_macs[B - 1], m.net.ex[B - 1].spent);
		CHECK_EQ_L(res.mismatch, 0);
	}
	exo_free(&e);
	data_free(&d);
	model_free(&m);
}

int
main(void)
{
	test_against_exo(4);
	test_against_exo(1);
	test_against_exo(13);
	return unit_done("test_infer");
}
