/* train.c - shared pieces of the trainers (train.h). */
#define _GNU_SOURCE
#include <err.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eel.h"
#include "nachos.h"
#include "nn.h"
#include "train.h"

void
train_load_data(struct train_ds *ds, const char *dir, long subset, double val_frac,
    uint64_t split_seed)
{
	long i;

	data_load(&ds->tr, &ds->te, dir);
	data_split(&ds->itr, &ds->ntr, &ds->iva, &ds->nva, &ds->tr, subset, val_frac,
	    split_seed);
	if (ds->ntr == 0)
		errx(EX_USAGE, "%s: no training samples left after the split", dir);
	ds->nte = ds->te.n;
	ds->ite = cli_calloc(ds->nte, sizeof(int32_t));
	for (i = 0; i < ds->nte; i++)
		ds->ite[i] = i;
	data_norm_fit(&ds->nm, &ds->tr, ds->itr, ds->ntr);
}

void
train_free_data(struct train_ds *ds)
{
	data_free(&ds->tr);
	data_free(&ds->te);
	free(ds->itr), free(ds->iva), free(ds->ite);
}

void
train_set_norm(struct train_ds *ds, const char *opt, const double *mean, int nmean,
    const double *std, int nstd)
{
	int k;

	if ((nmean && nmean != ds->tr.c) || (nstd && nstd != ds->tr.c))
		errx(EX_USAGE, "%s: %d values for %d channels", opt, nmean ? nmean : nstd,
		    ds->tr.c);
	for (k = 0; k < nmean; k++)
		ds->nm.mean[k] = mean[k];
	for (k = 0; k < nstd; k++)
		ds->nm.std[k] = std[k];
}

void
train_put_norm(struct rec_out *o, const struct train_ds *ds)
{
	double mean[DATA_MAX_CH], std[DATA_MAX_CH];
	int k;

	for (k = 0; k < ds->nm.c; k++) {
		mean[k] = ds->nm.mean[k];
		std[k] = ds->nm.std[k];
	}
	rec_put_dbls(o, "norm_mean", mean, ds->nm.c);
	rec_put_dbls(o, "norm_std", std, ds->nm.c);
}

int
train_opt(struct train_opts *o, int c, const char *arg)
{
	switch (c) {
	case TRAIN_O_DATA: o->data = arg; break;
	case TRAIN_O_BATCH: o->batch = cli_long("--batch", arg, 2, 65536); break;
	case TRAIN_O_CALIB: o->calib = cli_long("--calib", arg, 1, 1 << 30); break;
	case TRAIN_O_THREADS: o->threads = cli_long("--threads", arg, 1, 1024); break;
	case TRAIN_O_SUBSET: o->subset = cli_long("--subset", arg, 0, 1L << 31); break;
	case TRAIN_O_SEED: o->seed = cli_long("--seed", arg, 0, 1L << 62); break;
	case TRAIN_O_SPLIT_SEED: o->split_seed = cli_long("--split-seed", arg, 0, 1L << 62); break;
	case TRAIN_O_LR: o->lr = cli_double("--lr", arg, 0, 100); break;
	case TRAIN_O_WD: o->wd = cli_double("--wd", arg, 0, 1); break;
	case TRAIN_O_MOMENTUM: o->momentum = cli_double("--momentum", arg, 0, 1); break;
	case TRAIN_O_WARMUP: o->warmup = cli_double("--warmup", arg, 0, 100000); break;
	case TRAIN_O_CLIP: o->clip = cli_double("--clip", arg, 0, 1e9); break;
	case TRAIN_O_VAL_FRAC: o->val_frac = cli_double("--val-frac", arg, 0, 0.9); break;
	default: return 0;
	}
	o->given |= 1u << (c - TRAIN_O_DATA);
	return 1;
}

const char *
train_fits(char *why, size_t len, const struct train_ds *ds, const char *dir, int in_ch,
    int classes)
{
	if (classes != ds->tr.classes) {
		snprintf(why, len, "%d, but the dataset in %s has %d classes", classes, dir,
		    ds->tr.classes);
		return "classes";
	}
	if (in_ch != ds->tr.c && !(ds->tr.c == 1 && in_ch == 3)) {
		snprintf(why, len, "%d, but the dataset in %s has %d channels", in_ch, dir,
		    ds->tr.c);
		return "in_ch";
	}
	return NULL;
}

int
train_argmax(const float *r, int K)
{
	int j, best = 0;

	for (j = 1; j < K; j++)
		if (r[j] > r[best])
			best = j;
	return best;
}

void
train_evaluate(struct model *m, const struct train_ds *ds, const struct data_set *d,
    const int32_t *idx, long n, double *loss, double *acc)
{
	int B = m->max_batch, C = m->net.in_ch, R = m->net.res, K = m->net.classes;
	float *x = cli_calloc((size_t)C * B * R * R, sizeof(float));
	float *probs = cli_calloc((size_t)B * K, sizeof(float));
	int *y = cli_calloc(B, sizeof(int));
	double sum = 0;
	long done, correct = 0;

	for (done = 0; done < n; done += B) {
		int N = n - done < B ? (int)(n - done) : B, i;
		const float *lg;

		data_batch(x, y, d, idx + done, N, C, R, &ds->nm, NULL, NULL);
		model_forward(m, x, N, 0);
		lg = m->logits[m->nexit - 1];
		sum += nn_softmax_ce_fwd(probs, lg, y, N, K) * N;
		for (i = 0; i < N; i++)
			correct += train_argmax(lg + (long)i * K, K) == y[i];
	}
	*loss = n ? sum / n : NAN;
	*acc = n ? (double)correct / n : NAN;
	free(x), free(probs), free(y);
}

int
train_segments(struct opt_seg *seg, const struct model *m, enum train_which which)
{
	int i, n = 0;

	for (i = 0; i < m->ntensor; i++) {
		const struct model_tensor *t = &m->t[i];
		int bb = strncmp(t->name, "first_conv.", 11) == 0 ||
		    strncmp(t->name, "blocks.", 7) == 0;

		if (!(t->flags & MT_TRAIN))
			continue;
		if ((which == TRAIN_HEADS && bb) ||
		    (which == TRAIN_NO_EXITS && strncmp(t->name, "exits.", 6) == 0))
			continue;
		seg[n].off = t->off;
		seg[n].n = t->n;
		seg[n].decay = !!(t->flags & MT_DECAY);
		n++;
	}
	return n;
}

long
train_support(float *S, int32_t *idx, struct model *m, const struct train_ds *ds,
    double frac, struct nn_rng *rng)
{
	int K = m->net.classes, B = m->nexit, bs = m->max_batch, C = m->net.in_ch;
	int R = m->net.res, i, j;
	long per = lround(frac * ds->ntr / K), n, done;
	float *x = cli_calloc((size_t)C * bs * R * R, sizeof(float));
	int *y = cli_calloc(bs, sizeof(int)), *yall, *pred;

	if (per < 1)
		per = 1;
	n = K * eel_support_sample(idx, ds->itr, ds->ntr, ds->tr.y, K, per, rng);
	pred = cli_calloc((size_t)(B - 1) * n, sizeof(int));
	yall = cli_calloc(n, sizeof(int));
	for (done = 0; done < n; done += bs) {
		int N = n - done < bs ? (int)(n - done) : bs;

		data_batch(x, y, &ds->tr, idx + done, N, C, R, &ds->nm, NULL, NULL);
		model_forward(m, x, N, 0);
		for (j = 0; j < N; j++) {
			yall[done + j] = y[j];
			for (i = 0; i < B - 1; i++)
				pred[i * n + done + j] = train_argmax(m->logits[i] +
				    (long)j * m->nout[i], K);
		}
	}
	eel_support_matrix(S, pred, yall, n, K, B);
	free(x), free(y), free(yall), free(pred);
	return n;
}

long
train_calib_set(int32_t **idx, const struct train_ds *ds, long n, uint64_t seed)
{
	struct nn_rng r;

	*idx = cli_calloc(ds->ntr, sizeof(int32_t));
	memcpy(*idx, ds->itr, ds->ntr * sizeof(int32_t));
	nn_rng_seed(&r, seed);
	rng_shuffle(*idx, ds->ntr, &r);
	return n < ds->ntr ? n : ds->ntr;
}

char *
train_weights_path(const char *opt, const char *tmpl, long recno)
{
	const char *d = strstr(tmpl, "%d");
	char *p;

	if (d == NULL) {
		if (recno > 1)
			errx(EX_USAGE, "%s: %s: several input records need %%d in the path",
			    opt, tmpl);
		if ((p = strdup(tmpl)) == NULL)
			err(EX_SOFTWARE, "strdup");
		return p;
	}
	if (asprintf(&p, "%.*s%ld%s", (int)(d - tmpl), tmpl, recno, d + 2) < 0)
		err(EX_SOFTWARE, "asprintf");
	return p;
}

void
train_put_curve(struct rec_out *o, const char *key, const double *v, int n)
{
	int i;

	rec_key(o, key);
	msgpack_pack_array(&o->pk, n);
	for (i = 0; i < n; i++) {
		if (isfinite(v[i]))
			msgpack_pack_double(&o->pk, v[i]);
		else
			msgpack_pack_nil(&o->pk);
	}
}

void
train_best_init(struct train_best *b, const struct model *m)
{
	b->n = m->nparam;
	b->param = cli_calloc(b->n, sizeof(float));
	train_best_reset(b);
}

void
train_best_free(struct train_best *b)
{
	free(b->param);
	b->param = NULL;
}

void
train_best_reset(struct train_best *b)
{
	b->loss = INFINITY;
	b->epoch = -1;
}

int
train_best_update(struct train_best *b, const struct model *m, double loss, int epoch)
{
	if (!(loss < b->loss))
		return 0;
	b->loss = loss;
	b->epoch = epoch;
	memcpy(b->param, m->param, b->n * sizeof(float));
	return 1;
}

int
train_best_restore(const struct train_best *b, struct model *m)
{
	if (b->epoch < 0)
		return 0;
	memcpy(m->param, b->param, b->n * sizeof(float));
	return 1;
}
