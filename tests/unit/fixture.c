/* fixture.c - see fixture.h. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

void
fixture_net(struct arch_net *n, int K)
{
	struct arch a;

	arch_extreme(&a, ARCH_NACHOS, 0);
	a.width = 0.25;
	a.resolution = 16;
	a.in_ch = 1;
	a.classes = K;
	arch_net_build(n, &a);
}

void
fixture_model(struct model *m, int K, int batch)
{
	struct arch_net n;

	fixture_net(&n, K);
	model_build(m, &n, 0, batch);
	model_init(m, 7);
}

void
fixture_ds(struct train_ds *ds, int ntr, int nva, int hw, int K)
{
	long n = ntr + nva, px = (long)hw * hw, i;

	memset(ds, 0, sizeof(*ds));
	ds->tr.n = n, ds->tr.c = 1, ds->tr.h = ds->tr.w = hw, ds->tr.classes = K;
	ds->tr.x = malloc(n * px);
	ds->tr.y = malloc(n * sizeof(int32_t));
	ds->itr = malloc(ntr * sizeof(int32_t));
	ds->iva = malloc((nva ? nva : 1) * sizeof(int32_t));
	for (i = 0; i < n; i++) {
		ds->tr.y[i] = (int32_t)(i % K);
		if (i < ntr)
			ds->itr[i] = (int32_t)i;
		else
			ds->iva[i - ntr] = (int32_t)i;
	}
	for (i = 0; i < n * px; i++)
		ds->tr.x[i] = (uint8_t)((i * 2654435761u >> 24) / 2 + 40 * ds->tr.y[i / px]);
	ds->ntr = ntr, ds->nva = nva;
	ds->nm.c = 1, ds->nm.mean[0] = 0.5f, ds->nm.std[0] = 0.25f;
}

void
fixture_ds_free(struct train_ds *ds)
{
	free(ds->tr.x), free(ds->tr.y), free(ds->itr), free(ds->iva);
}
