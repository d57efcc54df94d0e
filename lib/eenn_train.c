/*
 * eenn_train.c - phases, losses, evaluation and exit outputs of one EENN's
 * training (eenn_train.h).
 */
#define _GNU_SOURCE
#include <err.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "ckpt.h"
#include "cli.h"
#include "eel.h"
#include "eenn_train.h"
#include "exo.h"
#include "infer.h"
#include "nachos.h"
#include "opt.h"

const char *const eenn_method_names[] = { "nachos", "joint", "backbone", NULL };
const char *const eenn_phase_names[] = { "backbone", "eenn", "peak", "joint" };

/* Weights of the terms in a NACHOS phase. */
static struct eel_opts
eel_opts_of(const struct eenn_trainer *t, int k)
{
	const struct eenn_cfg *c = t->cfg;
	double mbar = c->cost.kind == LAT_COST_LATENCY ? c->cost.max : c->macs_max;
	struct eel_opts o = { c->w[0], c->nocost ? 0 : c->w[1], 1, 0,
	    isnan(mbar) ? 0 : mbar, t->spent, NULL, 0 };

	if (k == EENN_PH_PEAK && !c->nopeak) {
		o.w_peak = c->w[2];
		o.support = t->S;
	}
	return o;
}

/* Mean cross-entropy of the first K of the ld logits per row of lg
 * (N, ld); with dl, adds scale x its gradient. Rows of K logits go
 * through the engine's op (phase 1 as the backbone trainer always ran it). */
static double
ce_rows(struct eenn_trainer *t, float *dl /* (N, ld) */, const float *lg /* (N, ld) */, int N,
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
double
eenn_phase_loss(struct eenn_trainer *t, int k, int N, long *correct, float **dl,
    double *macs)
{
	struct model *m = &t->m;
	int fin = m->nexit - 1, i, n;
	double loss = 0;

	for (i = 0; i < m->nexit; i++)
		for (n = 0; n < N; n++)
			correct[i] += train_argmax(m->logits[i] + (long)n * m->nout[i], t->K) ==
			    t->y[n];
	switch (k) {
	case EENN_PH_BACKBONE:
		loss = ce_rows(t, dl ? dl[fin] : NULL, m->logits[fin], N, m->nout[fin],
		    1.0 / N);
		if (dl)
			for (i = 0; i < fin; i++)
				dl[i] = NULL;
		break;
	case EENN_PH_JOINT:
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
double
eenn_evaluate(struct eenn_trainer *t, int k, const struct data_set *d, const int32_t *idx,
    long n, double *acc, double *macs)
{
	int bs = t->cfg->train.batch, i;
	long done, correct[MODEL_MAX_EXITS] = { 0 };
	double sum = 0, msum = 0;

	for (done = 0; done < n; done += bs) {
		int N = n - done < bs ? (int)(n - done) : bs;
		double mc = 0;

		data_batch(t->x, t->y, d, idx + done, N, t->C, t->R, &t->ds->nm, NULL, NULL);
		model_forward(&t->m, t->x, N, 0);
		sum += eenn_phase_loss(t, k, N, correct, NULL, &mc) * N;
		msum += mc * N;
	}
	for (i = 0; i < t->m.nexit; i++)
		acc[i] = n ? (double)correct[i] / n : NAN;
	if (macs)
		*macs = n ? msum / n : NAN;
	return n ? sum / n : NAN;
}

/* The phases of a record (section "Phases" of eenn-train(1)). */
int
eenn_plan(struct eenn_phase *ph, const struct eenn_cfg *c)
{
	if (c->shared)
		switch (c->method) {
		case EENN_NACHOS:
			ph[0] = (struct eenn_phase){ EENN_PH_EENN, c->mu[1], 1 };
			ph[1] = (struct eenn_phase){ EENN_PH_PEAK, c->mu[2], 1 };
			return 2;
		case EENN_JOINT:
			ph[0] = (struct eenn_phase){ EENN_PH_JOINT, c->mu[1] + c->mu[2], 1 };
			return 1;
		default:
			return 0;
		}
	ph[0] = (struct eenn_phase){ EENN_PH_BACKBONE, c->mu[0], 0 };
	switch (c->method) {
	case EENN_NACHOS:
		ph[1] = (struct eenn_phase){ EENN_PH_EENN, c->mu[1], 1 };
		ph[2] = (struct eenn_phase){ EENN_PH_PEAK, c->mu[2], 1 };
		return 3;
	case EENN_JOINT:
		ph[1] = (struct eenn_phase){ EENN_PH_JOINT, c->mu[1] + c->mu[2], 1 };
		return 2;
	default:
		return 1;
	}
}

/* Does phase kind k train the backbone? Not with --freeze-backbone past
 * phase 1. */
static int
frozen(const struct eenn_trainer *t, int k)
{
	return t->cfg->freeze && k != EENN_PH_BACKBONE;
}

static void
run_phase(struct eenn_trainer *t, const struct eenn_phase *ph, struct eenn_phase_stats *st,
    long recno)
{
	const struct eenn_cfg *c = t->cfg;
	long spe = (t->ds->ntr + c->train.batch - 1) / c->train.batch, step = 0;
	struct opt_seg *seg = cli_calloc(t->m.ntensor, sizeof(*seg));
	struct opt_sched sc = { c->sched, c->train.lr, spe * ph->epochs,
	    lround(c->train.warmup * spe), lround(c->step_every * spe), c->gamma };
	struct data_aug aug = { c->crop >= 0 ? c->crop : DATA_CROP_DEFAULT(t->R), c->flip };
	struct cli_progress p;
	struct opt_sgd o;
	char what[64], extra[200];
	int e, nseg, fin = t->m.nexit - 1, fz = frozen(t, ph->kind);
	int32_t *order = cli_calloc(t->ds->ntr, sizeof(int32_t));

	nseg = train_segments(seg, &t->m, fz ? TRAIN_HEADS :
	    ph->kind == EENN_PH_BACKBONE ? TRAIN_NO_EXITS : TRAIN_ALL);
	if (sc.step_every <= 0)
		sc.step_every = spe;
	opt_sgd_init(&o, seg, nseg, t->m.nparam, c->train.momentum, c->train.wd, c->nesterov);
	snprintf(what, sizeof(what), "record %ld %s", recno, eenn_phase_names[ph->kind]);
	cli_progress_start(&p, what, sc.total);
	st->best_vloss = NAN;
	st->best_epoch = 0;
	st->loss = st->acc = NAN;
	for (e = 0; e < ph->epochs; e++) {
		double lsum = 0, vl = NAN, va[MODEL_MAX_EXITS], t0 = cli_now();
		long done, correct[MODEL_MAX_EXITS] = { 0 }, ns = 0;
		int n, i;

		/* A fresh support set and matrix every phase-3 epoch. */
		if (ph->kind == EENN_PH_PEAK && !c->nopeak)
			ns = train_support(t->S, t->sidx, &t->m, t->ds, c->support_frac, &t->srng);
		memcpy(order, t->ds->itr, t->ds->ntr * sizeof(int32_t));
		rng_shuffle(order, t->ds->ntr, &t->rng);
		for (done = 0; done < t->ds->ntr; done += c->train.batch, step++) {
			int N = t->ds->ntr - done < c->train.batch ? (int)(t->ds->ntr - done) : c->train.batch;
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
			lsum += eenn_phase_loss(t, ph->kind, N, correct, dl, NULL) * N;
			model_zero_grad(&t->m);
			if (fz)
				model_backward_heads(&t->m, (const float *const *)dl);
			else
				model_backward(&t->m, (const float *const *)dl);
			if (c->train.clip > 0)
				opt_clip(t->m.grad, seg, nseg, c->train.clip);
			opt_sgd_step(&o, t->m.param, t->m.grad, opt_lr(&sc, step));
			t->steps++;
			snprintf(extra, sizeof(extra), "epoch %d/%d loss %.4f", e + 1,
			    ph->epochs, lsum / (done + N));
			cli_progress(&p, step + 1, extra);
		}
		if (!isfinite(lsum))
			errx(EX_SOFTWARE, "record %ld: the training loss diverged in epoch %d "
			    "of phase %s (lower --lr or set --clip)", recno, e + 1,
			    eenn_phase_names[ph->kind]);
		va[fin] = NAN;
		if (t->ds->nva)
			vl = eenn_evaluate(t, ph->kind, &t->ds->tr, t->ds->iva, t->ds->nva, va, NULL);
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

void
eenn_trainer_init(struct eenn_trainer *t, const struct eenn_cfg *c, struct train_ds *ds,
    const struct arch_net *net, int flags, int epochs_total)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->cfg = c;
	t->ds = ds;
	t->C = net->in_ch, t->R = net->res, t->K = net->classes;
	model_build(&t->m, net, flags, c->train.batch);
	t->B = t->m.nexit;
	t->x = cli_calloc((size_t)t->C * c->train.batch * t->R * t->R, sizeof(float));
	t->y = cli_calloc(c->train.batch, sizeof(int));
	t->probs = cli_calloc((size_t)c->train.batch * t->K, sizeof(float));
	for (i = 0; i < t->m.nexit; i++) {
		t->dlog[i] = cli_calloc((size_t)c->train.batch * t->m.nout[i], sizeof(float));
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
	nn_rng_seed(&t->rng, (uint64_t)c->train.seed + 1);
	nn_rng_seed(&t->srng, (uint64_t)c->train.seed + 3);
}

void
eenn_trainer_free(struct eenn_trainer *t)
{
	int i;

	model_free(&t->m);
	free(t->x), free(t->y), free(t->probs), free(t->S), free(t->sidx);
	for (i = 0; i < MODEL_MAX_EXITS; i++)
		free(t->dlog[i]);
	free(t->c_loss), free(t->c_acc), free(t->c_vloss), free(t->c_vacc);
	train_best_free(&t->best);
}

/* The EENN keys an EENN method needs: exit_spent from eec-place, equal to
 * the spent MACs of the network built here. */
void
eenn_check_record(const struct rec_in *r, const msgpack_object *m,
    const struct arch_net *net, int method)
{
	long sp[MODEL_MAX_EXITS];
	const msgpack_object *v;
	int i;

	if (method == EENN_NACHOS && net->a.space != ARCH_NACHOS)
		rec_fail(r, "space", "--method nachos needs NACHOS heads (a confidence "
		    "output), not the %s space", net->a.space == ARCH_EDANAS ? "edanas" :
		    "aebnas");
	if ((v = rec_get(m, "exit_spent")) == NULL)
		rec_fail(r, "exit_spent", "missing: --method %s trains an EENN record from "
		    "eec-place", eenn_method_names[method]);
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

void
eenn_put_phases(struct rec_out *o, const struct eenn_phase *ph,
    const struct eenn_phase_stats *st, int np)
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
		rec_pack_str(&o->pk, eenn_phase_names[ph[i].kind]);
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

void
eenn_train_phases(struct eenn_trainer *t, const struct eenn_phase *ph,
    struct eenn_phase_stats *st, int np, long recno)
{
	int i;

	for (i = 0; i < np; i++) {
		if (i == 0 || ph[i].group != ph[i - 1].group)
			train_best_reset(&t->best);
		run_phase(t, &ph[i], &st[i], recno);
		if (i == np - 1 || ph[i + 1].group != ph[i].group)
			train_best_restore(&t->best, &t->m);
	}
}

int
eenn_init_weights(struct eenn_trainer *t, const struct super *sn)
{
	const struct eenn_cfg *c = t->cfg;
	int calib = 0;

	/* Exit heads keep their initialisation under --supernet (but --eval
	 * shared) and an --init without them. */
	model_init(&t->m, (uint64_t)c->train.seed);
	if (c->init) {
		struct ckpt ck;

		ckpt_open(&ck, c->init);
		ckpt_load(&ck, &t->m, CKPT_ALLOW_EXTRA | CKPT_ALLOW_MISSING);
		ckpt_close(&ck);
	} else if (sn) {
		int32_t *cidx;
		long nc = train_calib_set(&cidx, t->ds, c->train.calib,
		    (uint64_t)c->train.seed + 2);

		float *init = NULL;
		int i;

		/* Fine-tuning keeps the exit heads' initialisation, as the paper
		 * trains them; --eval shared evaluates the supernet's. */
		if (!c->shared) {
			init = cli_calloc(t->m.nparam, sizeof(float));
			memcpy(init, t->m.param, t->m.nparam * sizeof(float));
		}
		super_extract(&t->m, sn);
		for (i = 0; init && i < t->m.ntensor; i++)
			if (strncmp(t->m.t[i].name, "exits.", 6) == 0)
				memcpy(t->m.param + t->m.t[i].off, init + t->m.t[i].off,
				    t->m.t[i].n * sizeof(float));
		free(init);
		super_bn_calib(&t->m, &t->ds->tr, cidx, nc, &t->ds->nm);
		calib = (int)nc;
		free(cidx);
	}
	return calib;
}

/* One split of the exit outputs. */
static void
exo_split(struct eenn_trainer *t, struct exo *e, const char *split, const struct data_set *d,
    const int32_t *idx, long n, const struct rec_in *r, const msgpack_object *m,
    const char *wpath)
{
	struct infer_split sp = { split, d, idx, n, &t->ds->nm };

	infer_exo_init(e, split, n, &t->m);
	if (rec_get(m, "id") && rec_get(m, "id")->type == MSGPACK_OBJECT_STR)
		rec_str(r, m, "id", e->id, sizeof(e->id));
	if (wpath)
		snprintf(e->weights, sizeof(e->weights), "%s", wpath);
	/* joint training leaves a NACHOS head's confidence untrained */
	infer_all_exits(e, &t->m, &sp, t->cfg->method == EENN_NACHOS, NULL);
}

/* Each exit's accuracy over the samples of e. */
static void
exo_acc(double *acc /* (nexit) */, const struct exo *e)
{
	long j, ok;
	int i;

	for (i = 0; i < e->nexit; i++) {
		for (ok = 0, j = 0; j < e->n; j++)
			ok += e->pred[(long)i * e->n + j] == e->label[j];
		acc[i] = e->n ? (double)ok / e->n : NAN;
	}
}

void
eenn_write_exo(struct eenn_trainer *t, const char *path, const struct rec_in *r,
    const msgpack_object *m, const char *wpath, struct eenn_exo_figs *fig)
{
	const struct train_ds *ds = t->ds;
	struct exo ev, et;

	if (ds->nva == 0)
		errx(EX_USAGE, "the exit-outputs file needs a validation split "
		    "(--val-frac > 0)");
	exo_split(t, &ev, "val", &ds->tr, ds->iva, ds->nva, r, m, wpath);
	exo_split(t, &et, "test", &ds->te, ds->ite, ds->nte, r, m, wpath);
	exo_write(path, &ev, &et);
	if (fig) {
		long j;
		int i;

		exo_acc(fig->vacc, &ev);
		exo_acc(fig->tacc, &et);
		/* w_i = W_i - W_{i-1}: the cumulative weights the outputs keep */
		fig->emacs = NAN;
		if (t->cfg->method == EENN_NACHOS && ev.n) {
			double sum = 0;

			for (j = 0; j < ev.n; j++)
				for (i = 0; i < ev.nexit; i++)
					sum += (ev.cumw[(long)i * ev.n + j] -
					    (i ? ev.cumw[(long)(i - 1) * ev.n + j] : 0)) *
					    t->spent[i];
			fig->emacs = sum / ev.n;
		}
	}
	exo_free(&ev);
	exo_free(&et);
}

void
eenn_bench(struct eenn_bench *b, const struct eenn_cfg *c, const struct arch_net *net)
{
	struct eenn_trainer t;
	struct train_ds ds;
	struct opt_seg *seg;
	struct opt_sgd opt;
	float *dl[MODEL_MAX_EXITS];
	long i, n, correct[MODEL_MAX_EXITS] = { 0 }, reps;
	int nseg, B = c->train.batch;
	double t0 = 0, train_s, infer_s, lat_s;

	memset(&ds, 0, sizeof(ds));
	eenn_trainer_init(&t, c, &ds, net, MODEL_BACKBONE_ONLY, 1);
	model_init(&t.m, (uint64_t)c->train.seed);
	n = (long)t.C * B * t.R * t.R;
	for (i = 0; i < n; i++)
		t.x[i] = nn_rng_normal(&t.rng);
	for (i = 0; i < B; i++)
		t.y[i] = rng_below(&t.rng, t.K);
	seg = cli_calloc(t.m.ntensor, sizeof(*seg));
	nseg = train_segments(seg, &t.m, TRAIN_ALL);
	opt_sgd_init(&opt, seg, nseg, t.m.nparam, c->train.momentum, c->train.wd, c->nesterov);
	/* Two untimed steps of each kind: first-touch page faults, BLAS set-up. */
	for (i = -2; i < c->bench; i++) {
		if (i == 0)
			t0 = cli_now();
		model_forward(&t.m, t.x, B, 1);
		memset(t.dlog[0], 0, (size_t)B * t.K * sizeof(float));
		dl[0] = t.dlog[0];
		eenn_phase_loss(&t, EENN_PH_BACKBONE, B, correct, dl, NULL);
		model_zero_grad(&t.m);
		model_backward(&t.m, (const float *const *)dl);
		opt_sgd_step(&opt, t.m.param, t.m.grad, c->train.lr * 1e-3);
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
	nn_threads(c->train.threads);
	b->train_ips = B * c->bench / train_s;
	b->infer_ips = B * c->bench / infer_s;
	b->latency_ms = 1e3 * lat_s / reps;
	b->train_gflops = 6.0 * net->macs_backbone * B * c->bench / train_s / 1e9;
	opt_sgd_free(&opt);
	free(seg);
	eenn_trainer_free(&t);
}


/* Features of the cached samples idx (N) into the model's head inputs:
 * cache[e] (n, C*H*W) per sample, the model's (C, N, H, W). */
static void
gather(struct model *m, float *const *cache, const int32_t *idx, int N)
{
	int e, n, c;

	m->N = N;
	for (e = 0; e < m->nexit; e++) {
		long hw = (long)m->feat_h[e] * m->feat_w[e], chw = m->feat_c[e] * hw;
		float *f = model_feature(m, e);

		for (n = 0; n < N; n++)
			for (c = 0; c < m->feat_c[e]; c++)
				memcpy(f + ((long)c * N + n) * hw, cache[e] + idx[n] * chw + c * hw,
				    hw * sizeof(float));
	}
}

/* Phase 3's support matrix over the n cached samples through the heads
 * (eval mode). */
static void
cached_support(struct eenn_trainer *t, float *const *cache, const int32_t *lab, long n)
{
	int bs = t->cfg->train.batch, E = t->B - 1, i;
	int *pred = cli_calloc((size_t)E * (n ? n : 1), sizeof(int));
	int *yall = cli_calloc(n ? n : 1, sizeof(int));
	int32_t *idx = cli_calloc(bs, sizeof(int32_t));
	long done, j;

	for (done = 0; done < n; done += bs) {
		int N = n - done < bs ? (int)(n - done) : bs;

		for (j = 0; j < N; j++)
			idx[j] = (int32_t)(done + j);
		gather(&t->m, cache, idx, N);
		model_forward_heads(&t->m, 0);
		for (i = 0; i < E; i++)
			for (j = 0; j < N; j++)
				pred[(long)i * n + done + j] = train_argmax(t->m.logits[i] +
				    j * t->m.nout[i], t->K);
		for (j = 0; j < N; j++)
			yall[done + j] = lab[done + j];
	}
	eel_support_matrix(t->S, pred, yall, n, t->K, t->B);
	free(pred), free(yall), free(idx);
}

long
eenn_train_cached(struct eenn_trainer *t, const struct eenn_phase *ph,
    struct eenn_phase_stats *st, int np, long recno)
{
	const struct eenn_cfg *c = t->cfg;
	struct model *m = &t->m;
	int bs = c->train.batch, e, p, fin = m->nexit - 1;
	long n = c->cache < t->ds->ntr ? c->cache : t->ds->ntr, done, total = 0;
	float *cache[MODEL_MAX_EXITS] = { NULL };
	int32_t *pick, *lab, *order;
	struct cli_progress pr;
	char what[64], extra[160];

	for (p = 0; p < np; p++)
		total += ph[p].epochs;
	if (total == 0 || n == 0) {
		for (p = 0; p < np; p++)
			st[p] = (struct eenn_phase_stats){ NAN, NAN, NAN, 0 };
		return 0;
	}
	/* The samples: the first n of a shuffle of the training split. */
	pick = cli_calloc(t->ds->ntr, sizeof(int32_t));
	memcpy(pick, t->ds->itr, t->ds->ntr * sizeof(int32_t));
	rng_shuffle(pick, t->ds->ntr, &t->rng);
	lab = cli_calloc(n, sizeof(int32_t));
	order = cli_calloc(n, sizeof(int32_t));
	for (e = 0; e < m->nexit; e++)
		cache[e] = cli_calloc((size_t)n * m->feat_c[e] * m->feat_h[e] * m->feat_w[e],
		    sizeof(float));
	snprintf(what, sizeof(what), "record %ld features", recno);
	cli_progress_start(&pr, what, n);
	for (done = 0; done < n; done += bs) {
		int N = n - done < bs ? (int)(n - done) : bs, k, ch;

		data_batch(t->x, t->y, &t->ds->tr, pick + done, N, t->C, t->R, &t->ds->nm,
		    NULL, NULL);
		model_forward_backbone(m, t->x, N, 0);
		for (e = 0; e < m->nexit; e++) {
			long hw = (long)m->feat_h[e] * m->feat_w[e], chw = m->feat_c[e] * hw;
			const float *f = model_feature(m, e);

			for (k = 0; k < N; k++)
				for (ch = 0; ch < m->feat_c[e]; ch++)
					memcpy(cache[e] + (done + k) * chw + ch * hw,
					    f + ((long)ch * N + k) * hw, hw * sizeof(float));
		}
		for (k = 0; k < N; k++)
			lab[done + k] = t->y[k];
		cli_progress(&pr, done + N, "");
	}
	cli_progress_end(&pr, "cached");
	for (p = 0; p < np; p++) {
		struct opt_seg *seg = cli_calloc(m->ntensor, sizeof(*seg));
		int nseg = train_segments(seg, m, TRAIN_HEADS);
		long spe = (n + bs - 1) / bs, step = 0;
		struct opt_sched sc = { c->sched, c->train.lr, spe * ph[p].epochs,
		    lround(c->train.warmup * spe), lround(c->step_every * spe), c->gamma };
		struct opt_sgd o;

		if (sc.step_every <= 0)
			sc.step_every = spe;
		opt_sgd_init(&o, seg, nseg, m->nparam, c->train.momentum, c->train.wd,
		    c->nesterov);
		st[p] = (struct eenn_phase_stats){ NAN, NAN, NAN, 0 };
		snprintf(what, sizeof(what), "record %ld %s (cached)", recno,
		    eenn_phase_names[ph[p].kind]);
		cli_progress_start(&pr, what, sc.total);
		for (e = 0; e < ph[p].epochs; e++) {
			long correct[MODEL_MAX_EXITS] = { 0 }, i;
			double lsum = 0;

			if (ph[p].kind == EENN_PH_PEAK && !c->nopeak)
				cached_support(t, cache, lab, n);
			for (i = 0; i < n; i++)
				order[i] = (int32_t)i;
			rng_shuffle(order, n, &t->rng);
			for (done = 0; done < n; done += bs, step++) {
				int N = n - done < bs ? (int)(n - done) : bs, k;
				float *dl[MODEL_MAX_EXITS];

				gather(m, cache, order + done, N);
				for (k = 0; k < N; k++)
					t->y[k] = lab[order[done + k]];
				model_forward_heads(m, 1);
				for (k = 0; k < m->nexit; k++) {
					memset(t->dlog[k], 0, (size_t)N * m->nout[k] * sizeof(float));
					dl[k] = t->dlog[k];
				}
				lsum += eenn_phase_loss(t, ph[p].kind, N, correct, dl, NULL) * N;
				model_zero_grad(m);
				model_backward_heads(m, (const float *const *)dl);
				if (c->train.clip > 0)
					opt_clip(m->grad, seg, nseg, c->train.clip);
				opt_sgd_step(&o, m->param, m->grad, opt_lr(&sc, step));
				t->steps++;
				cli_progress(&pr, step + 1, "");
			}
			if (!isfinite(lsum))
				errx(EX_SOFTWARE, "record %ld: the head training loss diverged in "
				    "epoch %d of phase %s (lower --lr or set --clip)", recno, e + 1,
				    eenn_phase_names[ph[p].kind]);
			t->c_loss[t->nep] = st[p].loss = lsum / n;
			t->c_acc[t->nep] = st[p].acc = (double)correct[fin] / n;
			t->c_vloss[t->nep] = t->c_vacc[t->nep] = NAN;
			t->nep++;
			snprintf(extra, sizeof(extra), "epoch %d/%d loss %.4f acc %.4f", e + 1,
			    ph[p].epochs, st[p].loss, st[p].acc);
		}
		cli_progress_end(&pr, ph[p].epochs ? extra : "no epochs");
		opt_sgd_free(&o);
		free(seg);
	}
	for (e = 0; e < m->nexit; e++)
		free(cache[e]);
	free(pick), free(lab), free(order);
	return n;
}
