/*
 * eenn-train - train the EENN (or plain network) of each eenn or arch
 * record on a dataset (SPEC 4, Algorithm 2) and write a result record: the
 * input record plus accuracies, loss curves, wall and CPU time, the
 * weights' path and the exit-outputs file (lib/exo.h) that thresh-tune
 * tunes thresholds on. --bench times training and inference on synthetic
 * data instead (examples/bench).
 *
 * Training runs as a list of phases over one model (plan()); a phase names
 * its loss (phase_loss()) and its epochs, gets its own optimiser and
 * schedule, and may restrict the trained tensors (--freeze-backbone, and
 * phase 1 leaves the idle exit heads alone). Phases of one group share
 * model selection: the weights of the group's lowest validation loss are
 * put back when its last phase ends.
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "arch.h"
#include "ckpt.h"
#include "cli.h"
#include "data.h"
#include "eel.h"
#include "exo.h"
#include "model.h"
#include "nachos.h"
#include "nn.h"
#include "opt.h"
#include "super.h"
#include "train.h"


static const char usage_str[] =
    "usage: eenn-train [-h] [--data dir] [--skip-bad] [--method nachos|joint|backbone]\n"
    "                  [--mu1 n] [--mu2 n] [--mu3 n] [--epochs n] [--w1 x] [--w2 x] [--w3 x]\n"
    "                  [--no-cost] [--no-peak] [--macs-max macs] [--acc-min acc]\n"
    "                  [--support-frac x] [--freeze-backbone] [--supernet file]\n"
    "                  [--calib n] [--init ckpt] [--batch n] [--lr x] [--wd x]\n"
    "                  [--momentum x] [--nesterov] [--schedule const|cosine|step]\n"
    "                  [--warmup epochs] [--step-every epochs] [--gamma x] [--clip norm]\n"
    "                  [--crop pixels] [--no-flip] [--mean list] [--std list]\n"
    "                  [--val-frac x] [--subset n] [--split-seed n] [--seed n]\n"
    "                  [--threads n] [-o weights] [--exo path] [--bench steps]\n"
    "                  [file ...]\n";

static void
usage(FILE *fp, int status)
{
	fputs(usage_str, fp);
	exit(status);
}

enum method { M_NACHOS, M_JOINT, M_BACKBONE, M_AUTO /* by record type */ };
static const char *const method_names[] = { "nachos", "joint", "backbone", NULL };

/* Phase kinds: the loss a phase trains with. */
enum phase_kind {
	PH_BACKBONE,                 /* cross-entropy of the final exit alone */
	PH_EENN,                     /* w1 L_acc + w2 L_cost + L_conf (SPEC 4 phase 2) */
	PH_PEAK,                     /* phase 2's loss + w3 L_peak (phase 3) */
	PH_JOINT,                    /* sum of every exit's cross-entropy (EDANAS, AEBNAS) */
};
static const char *const phase_names[] = { "backbone", "eenn", "peak", "joint" };

/* A phase; phases of one group share model selection: the weights of the
 * group's best validation loss are put back when its last phase ends. */
struct phase { int kind, epochs, group; };

struct cfg {
	const char *data, *out, *init, *supernet, *exo;
	int mu[3], batch, nesterov, sched, crop, flip, threads, method, bench, freeze;
	int calib, nocost, nopeak, skip_bad;
	long subset, seed, split_seed;
	double lr, wd, momentum, warmup, step_every, gamma, clip, val_frac;
	double w[3], macs_max, acc_min, support_frac; /* macs_max, acc_min: NAN if not given */
	int nmean, nstd;
	double mean[DATA_MAX_CH], std[DATA_MAX_CH];
};

/* Per-phase figures for the result record. */
struct phase_stats {
	double loss, acc;            /* last epoch's training loss and final-exit accuracy */
	double best_vloss;           /* lowest validation loss (NAN: none) */
	int best_epoch;              /* its epoch within the phase, 1-based; 0: none */
};

/* Per-record training state. */
struct trainer {
	const struct cfg *cfg;
	struct train_ds *ds;
	struct model m;
	int C, R, K, B;              /* input channels, resolution, classes, exits */
	float *x;                    /* (C, batch, R, R) */
	int *y;                      /* (batch) */
	float *probs;                /* (batch, K) */
	float *dlog[MODEL_MAX_EXITS];/* (batch, nout[i]) */
	double spent[MODEL_MAX_EXITS];/* spent_i MACs (SPEC 2) */
	float *S;                    /* (K, B-1) support matrix of the current epoch */
	int32_t *sidx;               /* (ntr) support samples */
	struct nn_rng rng;           /* epoch order and augmentation */
	struct nn_rng srng;          /* support sets */
	struct train_best best;
	long steps;                  /* optimiser steps over all phases */
	/* Curves, one entry per epoch over all phases. */
	int nep;
	double *c_loss, *c_acc, *c_vloss, *c_vacc;
};

/* Weights of the terms in a NACHOS phase. */
static struct eel_opts
eel_opts_of(const struct trainer *t, int k)
{
	const struct cfg *c = t->cfg;
	struct eel_opts o = { c->w[0], c->nocost ? 0 : c->w[1], 1, 0,
	    isnan(c->macs_max) ? 0 : c->macs_max, t->spent, NULL };

	if (k == PH_PEAK && !c->nopeak) {
		o.w_peak = c->w[2];
		o.support = t->S;
	}
	return o;
}

/* Mean cross-entropy of the first K of the ld logits per row of lg
 * (N, ld); with dl, adds scale x its gradient. Rows of K logits go
 * through the engine's op (phase 1 as the backbone trainer always ran it). */
static double
ce_rows(struct trainer *t, float *dl /* (N, ld) */, const float *lg /* (N, ld) */, int N,
    int ld, double scale)
{
	const int *y = t->y;
	double sum = 0;
	int n, j, K = t->K;

	if (ld == K) {
		sum = nn_softmax_ce_fwd(t->probs, lg, y, N, K);
		if (dl)
			nn_softmax_ce_bwd(dl, t->probs, y, N, K, (float)scale);
		return sum;
	}
	for (n = 0; n < N; n++) {
		const float *r = lg + (long)n * ld;
		double mx = r[0], z = 0;

		for (j = 1; j < K; j++)
			mx = r[j] > mx ? r[j] : mx;
		for (j = 0; j < K; j++)
			z += exp(r[j] - mx);
		sum += log(z) - (r[y[n]] - mx);
		if (dl)
			for (j = 0; j < K; j++)
				dl[(long)n * ld + j] += (float)(scale * (exp(r[j] - mx) / z -
				    (j == y[n])));
	}
	return sum / N;
}

/* Loss of one batch for phase kind k after a forward: with dl (B
 * caller-zeroed buffers) its gradient, NULL entries where none; counts each
 * exit's correct predictions into correct (B); *macs (may be NULL) gets the
 * batch mean of C^ = sum_i w_i spent_i in NACHOS phases. */
static double
phase_loss(struct trainer *t, int k, int N, long *correct, float **dl, double *macs)
{
	struct model *m = &t->m;
	int fin = m->nexit - 1, i, n;
	double loss = 0;

	for (i = 0; i < m->nexit; i++)
		for (n = 0; n < N; n++)
			correct[i] += train_argmax(m->logits[i] + (long)n * m->nout[i], t->K) ==
			    t->y[n];
	switch (k) {
	case PH_BACKBONE:
		loss = ce_rows(t, dl ? dl[fin] : NULL, m->logits[fin], N, m->nout[fin],
		    1.0 / N);
		if (dl)
			for (i = 0; i < fin; i++)
				dl[i] = NULL;
		break;
	case PH_JOINT:
		for (i = 0; i < m->nexit; i++)
			loss += ce_rows(t, dl ? dl[i] : NULL, m->logits[i], N, m->nout[i],
			    1.0 / N);
		break;
	default: {
		struct eel_opts o = eel_opts_of(t, k);
		struct eel_terms et;

		loss = eel_loss(&et, dl, m->logits, t->y, &o, N, t->K, m->nexit);
		if (macs)
			*macs = et.macs;
	}
	}
	return loss;
}

/* Phase loss, each exit's accuracy (B) and the mean C^ (NACHOS kinds) over
 * the samples idx of d, evaluation mode. */
static double
evaluate(struct trainer *t, int k, const struct data_set *d, const int32_t *idx, long n,
    double *acc, double *macs)
{
	int bs = t->cfg->batch, i;
	long done, correct[MODEL_MAX_EXITS] = { 0 };
	double sum = 0, msum = 0;

	for (done = 0; done < n; done += bs) {
		int N = n - done < bs ? (int)(n - done) : bs;
		double mc = 0;

		data_batch(t->x, t->y, d, idx + done, N, t->C, t->R, &t->ds->nm, NULL, NULL);
		model_forward(&t->m, t->x, N, 0);
		sum += phase_loss(t, k, N, correct, NULL, &mc) * N;
		msum += mc * N;
	}
	for (i = 0; i < t->m.nexit; i++)
		acc[i] = n ? (double)correct[i] / n : NAN;
	if (macs)
		*macs = n ? msum / n : NAN;
	return n ? sum / n : NAN;
}

/* The phases of a record (section "Phases" of eenn-train(1)). */
static int
plan(struct phase *ph, const struct cfg *c)
{
	ph[0] = (struct phase){ PH_BACKBONE, c->mu[0], 0 };
	switch (c->method) {
	case M_NACHOS:
		ph[1] = (struct phase){ PH_EENN, c->mu[1], 1 };
		ph[2] = (struct phase){ PH_PEAK, c->mu[2], 1 };
		return 3;
	case M_JOINT:
		ph[1] = (struct phase){ PH_JOINT, c->mu[1] + c->mu[2], 1 };
		return 2;
	default:
		return 1;
	}
}

/* Does phase kind k train the backbone? Not with --freeze-backbone past
 * phase 1. */
static int
frozen(const struct trainer *t, int k)
{
	return t->cfg->freeze && k != PH_BACKBONE;
}

static void
run_phase(struct trainer *t, const struct phase *ph, struct phase_stats *st, long recno)
{
	const struct cfg *c = t->cfg;
	long spe = (t->ds->ntr + c->batch - 1) / c->batch, step = 0;
	struct opt_seg *seg = cli_calloc(t->m.ntensor, sizeof(*seg));
	struct opt_sched sc = { c->sched, c->lr, spe * ph->epochs,
	    lround(c->warmup * spe), lround(c->step_every * spe), c->gamma };
	struct data_aug aug = { c->crop >= 0 ? c->crop : DATA_CROP_DEFAULT(t->R), c->flip };
	struct cli_progress p;
	struct opt_sgd o;
	char what[64], extra[200];
	int e, nseg, fin = t->m.nexit - 1, fz = frozen(t, ph->kind);
	int32_t *order = cli_calloc(t->ds->ntr, sizeof(int32_t));

	nseg = train_segments(seg, &t->m, fz ? TRAIN_HEADS :
	    ph->kind == PH_BACKBONE ? TRAIN_NO_EXITS : TRAIN_ALL);
	if (sc.step_every <= 0)
		sc.step_every = spe;
	opt_sgd_init(&o, seg, nseg, t->m.nparam, c->momentum, c->wd, c->nesterov);
	snprintf(what, sizeof(what), "record %ld %s", recno, phase_names[ph->kind]);
	cli_progress_start(&p, what, sc.total);
	st->best_vloss = NAN;
	st->best_epoch = 0;
	st->loss = st->acc = NAN;
	for (e = 0; e < ph->epochs; e++) {
		double lsum = 0, vl = NAN, va[MODEL_MAX_EXITS], t0 = cli_now();
		long done, correct[MODEL_MAX_EXITS] = { 0 }, ns = 0;
		int n, i;

		/* A fresh support set and matrix every phase-3 epoch. */
		if (ph->kind == PH_PEAK && !c->nopeak)
			ns = train_support(t->S, t->sidx, &t->m, t->ds, c->support_frac, &t->srng);
		memcpy(order, t->ds->itr, t->ds->ntr * sizeof(int32_t));
		data_shuffle(order, t->ds->ntr, &t->rng);
		for (done = 0; done < t->ds->ntr; done += c->batch, step++) {
			int N = t->ds->ntr - done < c->batch ? (int)(t->ds->ntr - done) : c->batch;
			float *dl[MODEL_MAX_EXITS];

			data_batch(t->x, t->y, &t->ds->tr, order + done, N, t->C, t->R,
			    &t->ds->nm, &aug, &t->rng);
			if (fz) {
				/* Backbone features in eval mode, no backward into it. */
				model_forward_backbone(&t->m, t->x, N, 0);
				model_forward_heads(&t->m, 1);
			} else
				model_forward(&t->m, t->x, N, 1);
			for (i = 0; i < t->m.nexit; i++) {
				memset(t->dlog[i], 0, (size_t)N * t->m.nout[i] * sizeof(float));
				dl[i] = t->dlog[i];
			}
			lsum += phase_loss(t, ph->kind, N, correct, dl, NULL) * N;
			model_zero_grad(&t->m);
			if (fz)
				model_backward_heads(&t->m, (const float *const *)dl);
			else
				model_backward(&t->m, (const float *const *)dl);
			if (c->clip > 0)
				opt_clip(t->m.grad, seg, nseg, c->clip);
			opt_sgd_step(&o, t->m.param, t->m.grad, opt_lr(&sc, step));
			t->steps++;
			snprintf(extra, sizeof(extra), "epoch %d/%d loss %.4f", e + 1,
			    ph->epochs, lsum / (done + N));
			cli_progress(&p, step + 1, extra);
		}
		if (!isfinite(lsum))
			errx(EX_SOFTWARE, "record %ld: the training loss diverged in epoch %d "
			    "of phase %s (lower --lr or set --clip)", recno, e + 1,
			    phase_names[ph->kind]);
		va[fin] = NAN;
		if (t->ds->nva)
			vl = evaluate(t, ph->kind, &t->ds->tr, t->ds->iva, t->ds->nva, va, NULL);
		if (train_best_update(&t->best, &t->m, vl, t->nep)) {
			st->best_vloss = vl;
			st->best_epoch = e + 1;
		}
		t->c_loss[t->nep] = st->loss = lsum / t->ds->ntr;
		t->c_acc[t->nep] = st->acc = (double)correct[fin] / t->ds->ntr;
		t->c_vloss[t->nep] = vl;
		t->c_vacc[t->nep] = va[fin];
		n = snprintf(extra, sizeof(extra), "epoch %d/%d loss %.4f acc %.4f",
		    e + 1, ph->epochs, t->c_loss[t->nep], t->c_acc[t->nep]);
		if (t->ds->nva)
			n += snprintf(extra + n, sizeof(extra) - n, " val_loss %.4f val_acc %.4f",
			    vl, va[fin]);
		if (ns)
			n += snprintf(extra + n, sizeof(extra) - n, " support %ld", ns);
		snprintf(extra + n, sizeof(extra) - n, " (%.1fs)", cli_now() - t0);
		cli_progress_end(&p, extra);
		t->nep++;
	}
	opt_sgd_free(&o);
	free(order);
	free(seg);
}

static void
trainer_init(struct trainer *t, const struct cfg *c, struct train_ds *ds,
    const struct arch_net *net, int flags, int epochs_total)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->cfg = c;
	t->ds = ds;
	t->C = net->in_ch, t->R = net->res, t->K = net->classes;
	model_build(&t->m, net, flags, c->batch);
	t->B = t->m.nexit;
	t->x = cli_calloc((size_t)t->C * c->batch * t->R * t->R, sizeof(float));
	t->y = cli_calloc(c->batch, sizeof(int));
	t->probs = cli_calloc((size_t)c->batch * t->K, sizeof(float));
	for (i = 0; i < t->m.nexit; i++) {
		t->dlog[i] = cli_calloc((size_t)c->batch * t->m.nout[i], sizeof(float));
		t->spent[i] = (double)net->ex[t->m.exit_at[i]].spent;
	}
	t->S = cli_calloc((size_t)t->K * t->B, sizeof(float));
	t->sidx = cli_calloc(ds->ntr, sizeof(int32_t));
	t->c_loss = cli_calloc(epochs_total, sizeof(double));
	t->c_acc = cli_calloc(epochs_total, sizeof(double));
	t->c_vloss = cli_calloc(epochs_total, sizeof(double));
	t->c_vacc = cli_calloc(epochs_total, sizeof(double));
	train_best_init(&t->best, &t->m);
	/* Separate streams: weights from seed, order and augmentation from
	 * seed + 1, support sets from seed + 3 (seed + 2 is the BN
	 * calibration set), so changing one never shifts another. */
	nn_rng_seed(&t->rng, (uint64_t)c->seed + 1);
	nn_rng_seed(&t->srng, (uint64_t)c->seed + 3);
}

static void
trainer_free(struct trainer *t)
{
	int i;

	model_free(&t->m);
	free(t->x), free(t->y), free(t->probs), free(t->S), free(t->sidx);
	for (i = 0; i < MODEL_MAX_EXITS; i++)
		free(t->dlog[i]);
	free(t->c_loss), free(t->c_acc), free(t->c_vloss), free(t->c_vacc);
	train_best_free(&t->best);
}

/* Every sample of split sp (the n samples idx of d) through the model,
 * evaluation mode, into e (allocated here with the EENN's header). */
static void
fill_exo(struct trainer *t, struct exo *e, const char *sp, const struct data_set *d,
    const int32_t *idx, long n, const struct rec_in *r, const msgpack_object *m,
    const char *wpath)
{
	int bs = t->cfg->batch, i, j, K = t->K, conf = t->cfg->method == M_NACHOS;
	long done;

	exo_alloc(e, sp, n, t->B, K);
	e->ngenome = arch_genome_len(t->m.net.a.space);
	arch_to_genome(&t->m.net.a, e->genome);
	if (rec_get(m, "id") && rec_get(m, "id")->type == MSGPACK_OBJECT_STR)
		rec_str(r, m, "id", e->id, sizeof(e->id));
	if (wpath)
		snprintf(e->weights, sizeof(e->weights), "%s", wpath);
	for (i = 0; i < t->B; i++) {
		e->spent[i] = t->m.net.ex[i].spent;
		e->cost[i] = t->m.net.ex[i].cost;
		e->stage[i] = t->m.net.ex[i].stage;
	}
	for (done = 0; done < n; done += bs) {
		int N = n - done < bs ? (int)(n - done) : bs;

		data_batch(t->x, t->y, d, idx + done, N, t->C, t->R, &t->ds->nm, NULL, NULL);
		model_forward(&t->m, t->x, N, 0);
		for (j = 0; j < N; j++) {
			e->label[done + j] = t->y[j];
			/* joint training leaves a NACHOS head's confidence untrained */
			for (i = 0; i < t->B; i++) {
				const float *row = t->m.logits[i] + (long)j * t->m.nout[i];

				exo_fill_exit(e, done + j, i, row,
				    conf && t->m.nout[i] > K ? row + K : NULL);
			}
		}
	}
}

/* The EENN keys an EENN method needs: exit_spent from eec-place, equal to
 * the spent MACs of the network built here. */
static void
check_eenn(const struct rec_in *r, const msgpack_object *m, const struct arch_net *net,
    int method)
{
	long sp[MODEL_MAX_EXITS];
	const msgpack_object *v;
	int i;

	if (method == M_NACHOS && net->a.space != ARCH_NACHOS)
		rec_fail(r, "space", "--method nachos needs NACHOS heads (a confidence "
		    "output), not the %s space", net->a.space == ARCH_EDANAS ? "edanas" :
		    "aebnas");
	if ((v = rec_get(m, "exit_spent")) == NULL)
		rec_fail(r, "exit_spent", "missing: --method %s trains an EENN record from "
		    "eec-place", method_names[method]);
	if (v->type != MSGPACK_OBJECT_ARRAY || (int)v->via.array.size != net->nexit)
		rec_fail(r, "exit_spent", "not an array of %d numbers (the EENN's exits)",
		    net->nexit);
	for (i = 0; i < net->nexit; i++) {
		sp[i] = (long)rec_num(&v->via.array.ptr[i]);
		if (sp[i] != net->ex[i].spent)
			rec_fail(r, "exit_spent", "exit %d: %ld MACs, but the network has %ld "
			    "(a record from another eec-place?)", i + 1, sp[i],
			    net->ex[i].spent);
	}
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void
put_phases(struct rec_out *o, const struct phase *ph, const struct phase_stats *st, int np)
{
	int i;

	rec_key(o, "phases");
	msgpack_pack_array(&o->pk, np);
	for (i = 0; i < np; i++) {
		double v[3] = { st[i].loss, st[i].acc, st[i].best_vloss };
		const char *k[3] = { "loss_train", "acc_train", "best_val_loss" };
		int j;

		msgpack_pack_map(&o->pk, 6);
		rec_pack_str(&o->pk, "kind");
		rec_pack_str(&o->pk, phase_names[ph[i].kind]);
		rec_pack_str(&o->pk, "epochs");
		msgpack_pack_int(&o->pk, ph[i].epochs);
		for (j = 0; j < 3; j++) {
			rec_pack_str(&o->pk, k[j]);
			if (isfinite(v[j]))
				msgpack_pack_double(&o->pk, v[j]);
			else
				msgpack_pack_nil(&o->pk);
		}
		rec_pack_str(&o->pk, "best_epoch");
		msgpack_pack_int(&o->pk, st[i].best_epoch);
	}
}

static void
train_record(const struct cfg *c, struct train_ds *ds, const struct super *sn,
    const struct rec_in *r, const msgpack_object *m, const struct arch_net *net,
    long recno, struct rec_out *o)
{
	struct phase ph[4];
	struct phase_stats st[4];
	struct trainer t;
	double t0 = cli_now(), c0 = cpu_seconds(), tl, ta, vl, vacc[MODEL_MAX_EXITS];
	double tacc[MODEL_MAX_EXITS], emacs = NAN, w[3];
	int np = plan(ph, c), i, total = 0, calib = 0;
	char *wpath = NULL, *epath = NULL;
	struct exo ev, et;

	if (net->classes != ds->tr.classes)
		rec_fail(r, "classes", "%d, but the dataset in %s has %d classes",
		    net->classes, c->data, ds->tr.classes);
	if (net->in_ch != ds->tr.c && !(ds->tr.c == 1 && net->in_ch == 3))
		rec_fail(r, "in_ch", "%d, but the dataset in %s has %d channels",
		    net->in_ch, c->data, ds->tr.c);
	if (sn) {
		char why[160];
		const char *key = super_check(sn, &net->a, why, sizeof(why));

		if (key)
			rec_fail(r, key, "%s", why);
	}
	if (c->method != M_BACKBONE)
		check_eenn(r, m, net, c->method);
	for (i = 0; i < np; i++)
		total += ph[i].epochs;
	if (c->out)
		wpath = train_weights_path("-o", c->out, recno);
	if (c->method != M_BACKBONE && (c->exo || wpath)) {
		if (c->exo)
			epath = train_weights_path("--exo", c->exo, recno);
		else if (asprintf(&epath, "%s.exo", wpath) < 0)
			err(EX_SOFTWARE, "asprintf");
	}
	trainer_init(&t, c, ds, net, c->method == M_BACKBONE ? MODEL_BACKBONE_ONLY : 0, total);
	/* Exit heads keep their initialisation under --supernet and an --init
	 * without them. */
	model_init(&t.m, (uint64_t)c->seed);
	if (c->init) {
		struct ckpt ck;

		ckpt_open(&ck, c->init);
		ckpt_load(&ck, &t.m, CKPT_ALLOW_EXTRA | CKPT_ALLOW_MISSING);
		ckpt_close(&ck);
	} else if (sn) {
		int32_t *cidx;
		long nc = train_calib_set(&cidx, ds, c->calib, (uint64_t)c->seed + 2);

		super_extract(&t.m, sn);
		super_bn_calib(&t.m, &ds->tr, cidx, nc, &ds->nm);
		calib = (int)nc;
		free(cidx);
	}
	for (i = 0; i < np; i++) {
		if (i == 0 || ph[i].group != ph[i - 1].group)
			train_best_reset(&t.best);
		run_phase(&t, &ph[i], &st[i], recno);
		if (i == np - 1 || ph[i + 1].group != ph[i].group)
			train_best_restore(&t.best, &t.m);
	}
	/* Figures of the weights kept: final-exit loss, every exit's accuracy. */
	tl = evaluate(&t, PH_BACKBONE, &ds->te, ds->ite, ds->nte, tacc, NULL);
	ta = tacc[t.B - 1];
	vl = NAN;
	if (ds->nva)
		vl = evaluate(&t, c->method == M_NACHOS ? PH_EENN : PH_BACKBONE, &ds->tr,
		    ds->iva, ds->nva, vacc, c->method == M_NACHOS ? &emacs : NULL);
	(void)vl;
	if (wpath)
		ckpt_save(wpath, &t.m, m, t.steps);
	if (epath) {
		if (ds->nva == 0)
			errx(EX_USAGE, "the exit-outputs file needs a validation split "
			    "(--val-frac > 0)");
		fill_exo(&t, &ev, "val", &ds->tr, ds->iva, ds->nva, r, m, wpath);
		fill_exo(&t, &et, "test", &ds->te, ds->ite, ds->nte, r, m, wpath);
		exo_write(epath, &ev, &et);
		exo_free(&ev);
		exo_free(&et);
	}

	w[0] = c->w[0], w[1] = c->nocost ? 0 : c->w[1], w[2] = c->nopeak ? 0 : c->w[2];
	rec_out_begin(o, m, "result", 1);
	rec_put_str(o, "method", method_names[c->method]);
	rec_put_str(o, "data", c->data);
	rec_put_int(o, "n_train", ds->ntr);
	rec_put_int(o, "n_val", ds->nva);
	rec_put_int(o, "n_test", ds->nte);
	rec_put_dbl(o, "val_frac", c->val_frac);
	rec_put_int(o, "subset", c->subset);
	rec_put_int(o, "split_seed", c->split_seed);
	train_put_norm(o, ds);
	rec_put_int(o, "epochs", total);
	rec_put_ints(o, "mu", c->mu, 3);
	if (c->method == M_NACHOS)
		rec_put_dbls(o, "omega", w, 3);
	if (c->method == M_NACHOS && !c->nopeak)
		rec_put_dbl(o, "support_frac", c->support_frac);
	if (!isnan(c->macs_max))
		rec_put_dbl(o, "macs_max", c->macs_max);
	if (!isnan(c->acc_min))
		rec_put_dbl(o, "acc_min", c->acc_min);
	rec_put_bool(o, "freeze_backbone", c->freeze);
	if (sn) {
		rec_put_str(o, "supernet", c->supernet);
		rec_put_int(o, "calib", calib);
	}
	if (c->init)
		rec_put_str(o, "init", c->init);
	rec_put_int(o, "batch", c->batch);
	rec_put_dbl(o, "lr", c->lr);
	rec_put_dbl(o, "wd", c->wd);
	rec_put_dbl(o, "momentum", c->momentum);
	rec_put_bool(o, "nesterov", c->nesterov);
	rec_put_str(o, "schedule", opt_sched_names[c->sched]);
	rec_put_int(o, "train_seed", c->seed);
	rec_put_int(o, "threads", c->threads);
	if (total) {
		rec_put_dbl(o, "acc_train", t.c_acc[total - 1]);
		rec_put_dbl(o, "loss_train", t.c_loss[total - 1]);
	}
	if (ds->nva) {
		rec_put_dbl(o, "acc_val", vacc[t.B - 1]);
		if (t.B > 1)
			rec_put_dbls(o, "acc_val_exits", vacc, t.B);
	}
	rec_put_dbl(o, "acc_test", ta);
	if (t.B > 1)
		rec_put_dbls(o, "acc_test_exits", tacc, t.B);
	rec_put_dbl(o, "loss_test", tl);
	if (isfinite(emacs))
		rec_put_dbl(o, "exp_macs_val", emacs);
	put_phases(o, ph, st, np);
	train_put_curve(o, "curve_loss", t.c_loss, total);
	train_put_curve(o, "curve_acc", t.c_acc, total);
	train_put_curve(o, "curve_val_loss", t.c_vloss, total);
	train_put_curve(o, "curve_val_acc", t.c_vacc, total);
	rec_put_dbl(o, "wall", cli_now() - t0);
	rec_put_dbl(o, "cpu", cpu_seconds() - c0);
	if (wpath)
		rec_put_str(o, "weights", wpath);
	if (epath)
		rec_put_str(o, "exo", epath);
	rec_out_end(o, stdout);
	fflush(stdout);
	free(wpath);
	free(epath);
	trainer_free(&t);
}

/* --bench: steps timed training steps, inference batches and batch-1
 * forwards (one thread) on random data; figures go into the result record. */
static void
bench_record(const struct cfg *c, const msgpack_object *m, const struct arch_net *net,
    struct rec_out *o)
{
	struct trainer t;
	struct train_ds ds;
	struct opt_seg *seg;
	struct opt_sgd opt;
	struct rusage ru;
	float *dl[MODEL_MAX_EXITS];
	long i, n, correct[MODEL_MAX_EXITS] = { 0 }, reps;
	int nseg, B = c->batch;
	double t0 = 0, train_s, infer_s, lat_s;

	memset(&ds, 0, sizeof(ds));
	trainer_init(&t, c, &ds, net, MODEL_BACKBONE_ONLY, 1);
	model_init(&t.m, (uint64_t)c->seed);
	n = (long)t.C * B * t.R * t.R;
	for (i = 0; i < n; i++)
		t.x[i] = nn_rng_normal(&t.rng);
	for (i = 0; i < B; i++)
		t.y[i] = nn_rng_u32(&t.rng) % t.K;
	seg = cli_calloc(t.m.ntensor, sizeof(*seg));
	nseg = train_segments(seg, &t.m, TRAIN_ALL);
	opt_sgd_init(&opt, seg, nseg, t.m.nparam, c->momentum, c->wd, c->nesterov);
	/* Two untimed steps of each kind: first-touch page faults, BLAS set-up. */
	for (i = -2; i < c->bench; i++) {
		if (i == 0)
			t0 = cli_now();
		model_forward(&t.m, t.x, B, 1);
		memset(t.dlog[0], 0, (size_t)B * t.K * sizeof(float));
		dl[0] = t.dlog[0];
		phase_loss(&t, PH_BACKBONE, B, correct, dl, NULL);
		model_zero_grad(&t.m);
		model_backward(&t.m, (const float *const *)dl);
		opt_sgd_step(&opt, t.m.param, t.m.grad, c->lr * 1e-3);
	}
	train_s = cli_now() - t0;
	for (i = -2; i < c->bench; i++) {
		if (i == 0)
			t0 = cli_now();
		model_forward(&t.m, t.x, B, 0);
	}
	infer_s = cli_now() - t0;
	/* Latency on one thread: the deployment case, and GNU parallel's
	 * one job per core. */
	nn_threads(1);
	reps = 4L * c->bench < 20 ? 20 : 4L * c->bench;
	for (i = -5; i < reps; i++) {
		if (i == 0)
			t0 = cli_now();
		model_forward(&t.m, t.x, 1, 0);
	}
	lat_s = cli_now() - t0;
	nn_threads(c->threads);
	getrusage(RUSAGE_SELF, &ru);

	rec_out_begin(o, m, "result", 1);
	rec_put_str(o, "method", "bench");
	rec_put_int(o, "batch", B);
	rec_put_int(o, "threads", c->threads);
	rec_put_int(o, "bench_steps", c->bench);
	rec_put_int(o, "macs_backbone", net->macs_backbone);
	rec_put_dbl(o, "train_ips", B * c->bench / train_s);
	rec_put_dbl(o, "infer_ips", B * c->bench / infer_s);
	rec_put_dbl(o, "latency_ms", 1e3 * lat_s / reps);
	rec_put_dbl(o, "train_gflops", 6.0 * net->macs_backbone * B * c->bench / train_s / 1e9);
	rec_put_int(o, "rss_kb", ru.ru_maxrss);
	rec_out_end(o, stdout);
	fflush(stdout);
	opt_sgd_free(&opt);
	free(seg);
	trainer_free(&t);
}

/* The dataset for net: loaded at the first record, again only when an
 * image folder must be decoded for another resolution or channel count. */
static void
load_data(struct train_ds *ds, const struct cfg *c, const struct arch_net *net)
{
	struct data_opts o = { .res = net->res, .in_ch = net->in_ch, .skip_bad = c->skip_bad };

	if (ds->tr.x && !train_data_stale(ds, net->res, net->in_ch))
		return;
	if (ds->tr.x)
		train_free_data(ds);
	train_load_data(ds, c->data, &o, c->subset, c->val_frac, (uint64_t)c->split_seed);
	train_set_norm(ds, "--mean", c->mean, c->nmean, NULL, 0);
	train_set_norm(ds, "--std", NULL, 0, c->std, c->nstd);
}

int
main(int argc, char **argv)
{
	enum { O_DATA = 256, O_EPOCHS, O_BATCH, O_LR, O_WD, O_MOM, O_NEST, O_SCHED,
	    O_WARM, O_STEP, O_GAMMA, O_CLIP, O_CROP, O_NOFLIP, O_MEAN, O_STD, O_VAL,
	    O_SUBSET, O_SPLIT, O_SEED, O_THREADS, O_METHOD, O_INIT, O_BENCH, O_MU1, O_MU2,
	    O_MU3, O_W1, O_W2, O_W3, O_NOCOST, O_NOPEAK, O_MACS, O_ACC, O_SUPFRAC, O_FREEZE,
	    O_SUPERNET, O_CALIB, O_EXO, O_SKIPBAD };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "data", required_argument, NULL, O_DATA },
		{ "skip-bad", no_argument, NULL, O_SKIPBAD },
		{ "method", required_argument, NULL, O_METHOD },
		{ "mu1", required_argument, NULL, O_MU1 },
		{ "mu2", required_argument, NULL, O_MU2 },
		{ "mu3", required_argument, NULL, O_MU3 },
		{ "epochs", required_argument, NULL, O_EPOCHS },
		{ "w1", required_argument, NULL, O_W1 },
		{ "w2", required_argument, NULL, O_W2 },
		{ "w3", required_argument, NULL, O_W3 },
		{ "omega1", required_argument, NULL, O_W1 },   /* the pipeline's names */
		{ "omega2", required_argument, NULL, O_W2 },
		{ "omega3", required_argument, NULL, O_W3 },
		{ "no-cost", no_argument, NULL, O_NOCOST },
		{ "no-peak", no_argument, NULL, O_NOPEAK },
		{ "macs-max", required_argument, NULL, O_MACS },
		{ "acc-min", required_argument, NULL, O_ACC },
		{ "support-frac", required_argument, NULL, O_SUPFRAC },
		{ "freeze-backbone", no_argument, NULL, O_FREEZE },
		{ "supernet", required_argument, NULL, O_SUPERNET },
		{ "calib", required_argument, NULL, O_CALIB },
		{ "init", required_argument, NULL, O_INIT },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "lr", required_argument, NULL, O_LR },
		{ "wd", required_argument, NULL, O_WD },
		{ "momentum", required_argument, NULL, O_MOM },
		{ "nesterov", no_argument, NULL, O_NEST },
		{ "schedule", required_argument, NULL, O_SCHED },
		{ "warmup", required_argument, NULL, O_WARM },
		{ "step-every", required_argument, NULL, O_STEP },
		{ "gamma", required_argument, NULL, O_GAMMA },
		{ "clip", required_argument, NULL, O_CLIP },
		{ "crop", required_argument, NULL, O_CROP },
		{ "no-flip", no_argument, NULL, O_NOFLIP },
		{ "mean", required_argument, NULL, O_MEAN },
		{ "std", required_argument, NULL, O_STD },
		{ "val-frac", required_argument, NULL, O_VAL },
		{ "subset", required_argument, NULL, O_SUBSET },
		{ "split-seed", required_argument, NULL, O_SPLIT },
		{ "seed", required_argument, NULL, O_SEED },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "output", required_argument, NULL, 'o' },
		{ "exo", required_argument, NULL, O_EXO },
		{ "bench", required_argument, NULL, O_BENCH },
		{ NULL, 0, NULL, 0 },
	};
	struct cfg c = {
		.data = "/usr/share/datasets/fashion-mnist", .mu = { 10, 5, 5 }, .batch = 128,
		.sched = OPT_COSINE, .crop = -1, .flip = 1, .method = M_AUTO,
		.seed = 1, .split_seed = 1, .lr = 0.05, .wd = 4e-5, .momentum = 0.9,
		.gamma = 0.1, .val_frac = 0.1, .w = { 1, 1, 1 }, .macs_max = NAN,
		.acc_min = NAN, .support_frac = 0.1, .calib = 1000,
	};
	struct train_ds ds;
	struct super sn;
	struct rec_out o;
	struct rec_files in;
	const msgpack_object *m;
	long recno = 0;
	int ch, k;

	c.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	while ((ch = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout, 0);
			break;
		case O_DATA: c.data = optarg; break;
		case O_SKIPBAD: c.skip_bad = 1; break;
		case O_METHOD: c.method = cli_choice("--method", optarg, method_names); break;
		case O_EPOCHS:
		case O_MU1: c.mu[0] = cli_long(ch == O_MU1 ? "--mu1" : "--epochs", optarg, 0,
		    100000); break;
		case O_MU2: c.mu[1] = cli_long("--mu2", optarg, 0, 100000); break;
		case O_MU3: c.mu[2] = cli_long("--mu3", optarg, 0, 100000); break;
		case O_W1: c.w[0] = cli_double("--w1", optarg, 0, 1e6); break;
		case O_W2: c.w[1] = cli_double("--w2", optarg, 0, 1e6); break;
		case O_W3: c.w[2] = cli_double("--w3", optarg, 0, 1e6); break;
		case O_NOCOST: c.nocost = 1; break;
		case O_NOPEAK: c.nopeak = 1; break;
		case O_MACS: c.macs_max = cli_double("--macs-max", optarg, 0, 1e15); break;
		case O_ACC: c.acc_min = cli_double("--acc-min", optarg, 0, 1); break;
		case O_SUPFRAC:
			c.support_frac = cli_double("--support-frac", optarg, 1e-6, 1);
			break;
		case O_FREEZE: c.freeze = 1; break;
		case O_SUPERNET: c.supernet = optarg; break;
		case O_CALIB: c.calib = cli_long("--calib", optarg, 1, 1 << 30); break;
		case O_INIT: c.init = optarg; break;
		case O_BATCH: c.batch = cli_long("--batch", optarg, 2, 65536); break;
		case O_LR: c.lr = cli_double("--lr", optarg, 0, 100); break;
		case O_WD: c.wd = cli_double("--wd", optarg, 0, 1); break;
		case O_MOM: c.momentum = cli_double("--momentum", optarg, 0, 1); break;
		case O_NEST: c.nesterov = 1; break;
		case O_SCHED: c.sched = cli_choice("--schedule", optarg, opt_sched_names); break;
		case O_WARM: c.warmup = cli_double("--warmup", optarg, 0, 100000); break;
		case O_STEP: c.step_every = cli_double("--step-every", optarg, 0, 100000); break;
		case O_GAMMA: c.gamma = cli_double("--gamma", optarg, 0, 1); break;
		case O_CLIP: c.clip = cli_double("--clip", optarg, 0, 1e9); break;
		case O_CROP: c.crop = cli_long("--crop", optarg, 0, 64); break;
		case O_NOFLIP: c.flip = 0; break;
		case O_MEAN:
			c.nmean = cli_doubles("--mean", optarg, c.mean, DATA_MAX_CH, -10, 10);
			break;
		case O_STD:
			c.nstd = cli_doubles("--std", optarg, c.std, DATA_MAX_CH, 1e-6, 10);
			break;
		case O_VAL: c.val_frac = cli_double("--val-frac", optarg, 0, 0.9); break;
		case O_SUBSET: c.subset = cli_long("--subset", optarg, 0, 1L << 31); break;
		case O_SPLIT: c.split_seed = cli_long("--split-seed", optarg, 0, 1L << 62); break;
		case O_SEED: c.seed = cli_long("--seed", optarg, 0, 1L << 62); break;
		case O_THREADS: c.threads = cli_long("--threads", optarg, 1, 1024); break;
		case 'o': c.out = optarg; break;
		case O_EXO: c.exo = optarg; break;
		case O_BENCH: c.bench = cli_long("--bench", optarg, 1, 1000000); break;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	/* Each phase has its own schedule: the warm-up must fit every one. */
	for (k = 0; k < 3; k++)
		if (c.mu[k] > 0 && c.warmup > c.mu[k])
			errx(EX_USAGE, "--warmup: %g epochs is more than the %d of --mu%d",
			    c.warmup, c.mu[k], k + 1);
	if (c.init && c.supernet)
		errx(EX_USAGE, "--init and --supernet: give one");
	if (c.exo && c.method == M_BACKBONE)
		errx(EX_USAGE, "--exo: --method backbone trains a single exit");
	if (c.init && access(c.init, R_OK) != 0)
		err(EX_NOINPUT, "%s", c.init);
	if (c.supernet && access(c.supernet, R_OK) != 0)
		errx(EX_NOINPUT, "--supernet %s: cannot open", c.supernet);
	nn_threads(c.threads);
	memset(&ds, 0, sizeof(ds));
	if (c.supernet && !c.bench)
		super_load(&sn, c.supernet);
	rec_out_init(&o);
	rec_files_init(&in, argc, argv);
	while ((m = rec_files_next(&in)) != NULL) {
		struct arch a;
		struct arch_net net;

		arch_read_typed(&a, &in.r, m);
		arch_net_build(&net, &a);
		recno++;
		if (c.bench)
			bench_record(&c, m, &net, &o);
		else {
			struct cfg rc = c;

			/* Without --method: eenn records get the NACHOS
			 * trainer, arch records the backbone alone. */
			if (rc.method == M_AUTO)
				rc.method = rec_is(m, "eenn") ? M_NACHOS : M_BACKBONE;
			load_data(&ds, &c, &net);
			train_record(&rc, &ds, c.supernet ? &sn : NULL, &in.r, m, &net,
			    recno, &o);
		}
	}
	rec_out_free(&o);
	if (c.supernet && !c.bench)
		super_free(&sn);
	if (ds.tr.x)
		train_free_data(&ds);
	cli_finish();
	return 0;
}
