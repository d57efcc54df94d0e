/*
 * infer.c - every exit into exit outputs, and the early-exit run (infer.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "cli.h"
#include "infer.h"

void
infer_exo_init(struct exo *e, const char *split, long n, const struct model *m)
{
	int i;

	exo_alloc(e, split, n, m->nexit, m->net.classes);
	e->ngenome = arch_genome_len(m->net.a.space);
	arch_to_genome(&m->net.a, e->genome);
	for (i = 0; i < m->nexit; i++) {
		e->spent[i] = m->net.ex[i].spent;
		e->cost[i] = m->net.ex[i].cost;
		e->stage[i] = m->net.ex[i].stage;
	}
}

void
infer_all_exits(struct exo *e, struct model *m, const struct infer_split *sp, int conf,
    const char *what)
{
	int B = m->nexit, K = m->net.classes, C = m->net.in_ch, R = m->net.res;
	int bs = m->max_batch, *y = cli_calloc(bs, sizeof(int)), i, k;
	float *x = cli_calloc((size_t)C * bs * R * R, sizeof(float)); /* (C, bs, R, R) */
	struct cli_progress p;
	long done;

	model_pack(m);		/* as infer_early_exit: the same bits at the same batch */
	if (what)
		cli_progress_start(&p, what, sp->n);
	for (done = 0; done < sp->n; done += bs) {
		int N = sp->n - done < bs ? (int)(sp->n - done) : bs;

		data_batch(x, y, sp->d, sp->idx + done, N, C, R, sp->nm, NULL, NULL);
		model_forward(m, x, N, 0);
		for (k = 0; k < N; k++) {
			e->label[done + k] = y[k];
			for (i = 0; i < B; i++) {
				const float *row = m->logits[i] + (long)k * m->nout[i];

				exo_fill_exit(e, done + k, i, row,
				    conf && m->nout[i] > K ? row + K : NULL);
			}
		}
		if (what)
			cli_progress(&p, done + N, NULL);
	}
	if (what)
		cli_progress_end(&p, NULL);
	model_unpack(m);
	free(x), free(y);
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v (n >= 1). */
static double
pct(const double *v /* (n) */, long n, double p)
{
	long k = (long)ceil(p / 100 * n);

	return v[k < 1 ? 0 : k > n ? n - 1 : k - 1];
}

void
infer_early_exit(struct infer_res *res, struct model *m, const struct infer_split *sp,
    long n, int conf, enum thr_rule rule, const double *eps, const struct exo *chk,
    const char *what)
{
	int B = m->nexit, K = m->net.classes, C = m->net.in_ch, R = m->net.res;
	int bs = m->max_batch, *y = cli_calloc(bs, sizeof(int));     /* (bs) */
	int *live = cli_calloc(bs, sizeof(int));                     /* (bs) */
	int *keep = cli_calloc(bs, sizeof(int));                     /* (bs) */
	float *x = cli_calloc((size_t)C * bs * R * R, sizeof(float)); /* (C, bs, R, R) */
	double *lat = bs == 1 ? cli_calloc(n, sizeof(double)) : NULL; /* (n) */
	struct cli_progress p;
	struct exo e;
	char extra[128];
	long done;
	int i;

	memset(res, 0, sizeof(*res));
	res->n = n;
	for (i = 0; i < B; i++)
		res->exit_macs[i] = -1;
	exo_alloc(&e, sp->name, bs, B, K);
	model_pack(m);		/* the weights stay as they are until the end */
	cli_progress_start(&p, what, n);
	for (done = 0; done < n; done += bs) {
		int N = n - done < bs ? (int)(n - done) : bs, nlive = N, k;
		double t0;

		data_batch(x, y, sp->d, sp->idx + done, N, C, R, sp->nm, NULL, NULL);
		t0 = cli_now();
		model_step_begin(m, x, N);
		for (k = 0; k < N; k++)
			live[k] = k;
		for (i = 0; i < B && nlive; i++) {
			const float *lg;
			int nk = 0, no = m->nout[i];

			if (i < B - 1 && thr_exit_silent(rule, eps[i]))
				continue;       /* its head need not run */
			lg = model_step_exit(m, i);

			for (k = 0; k < nlive; k++) {
				const float *row = lg + (long)k * no;
				int j = live[k];

				exo_fill_exit(&e, j, i, row, conf && no > K ? row + K : NULL);
				if (i < B - 1 && !thr_fires(eps[i], thr_score(&e, rule, i, j))) {
					keep[nk] = k;
					live[nk++] = j;
					continue;
				}
				res->count[i]++;
				res->correct += e.pred[(long)i * e.n + j] == y[j];
				res->exit_macs[i] = m->step_macs;
				if (chk) {
					long s = done + j;
					int ci = thr_exit(chk, rule, eps, s);

					if (ci != i || chk->pred[(long)ci * chk->n + s] !=
					    e.pred[(long)i * e.n + j])
						res->mismatch++;
				}
			}
			if (nk && nk < nlive)
				model_step_keep(m, keep, nk);
			nlive = nk;
		}
		res->macs_run += m->macs_run;
		t0 = cli_now() - t0;
		res->secs += t0;
		if (lat)
			lat[done] = t0;
		snprintf(extra, sizeof(extra), "top1 %.4f", (double)res->correct /
		    (done + N));
		cli_progress(&p, done + N, extra);
	}
	snprintf(extra, sizeof(extra), "top1 %.4f, %.0f MACs/sample, %.0f samples/s",
	    (double)res->correct / n, res->macs_run / n, n / res->secs);
	cli_progress_end(&p, extra);
	if (lat) {
		for (done = 0; done < n; done++)
			res->lat_mean += lat[done] / n;
		qsort(lat, n, sizeof(double), cmp_dbl);
		res->lat_min = lat[0];
		res->lat_p50 = pct(lat, n, 50);
		res->lat_p99 = pct(lat, n, 99);
	}
	model_unpack(m);
	exo_free(&e);
	free(lat), free(x), free(y), free(live), free(keep);
}
