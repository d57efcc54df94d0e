/*
 * ofa-train - train an elastic OFA MobileNetV3 supernet (lib/super.h) with
 * the sandwich rule and in-place knowledge distillation, or, with
 * --extract, write subnet checkpoints (BN recalibrated) and their
 * accuracies for arch records.
 *
 * A training step draws one batch and trains on it, one after the other,
 * the largest subnet (cross-entropy), the smallest and --random uniformly
 * drawn subnets (cross-entropy plus --kd times the cross-entropy against
 * the largest subnet's softmax); each is extracted from the supernet, run
 * forward and backward, and its gradients are added into the supernet's
 * (super_backprop); then one SGD step updates the supernet. After every
 * epoch the largest subnet's BN statistics are recalibrated and stored, its
 * validation accuracy measured, and the supernet written with the
 * optimiser state, so --resume continues at the next epoch.
 *
 * --ps f,k,d puts progressive shrinking's phases first (the full network
 * alone, then elastic kernel, then kernel and depth), each elastic phase
 * by the same sandwich over its own choices; the middle channels are
 * sorted by importance before expand becomes elastic.
 */
#define _GNU_SOURCE
#include <err.h>
#include <getopt.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "ckpt.h"
#include "cli.h"
#include "data.h"
#include "model.h"
#include "nachos.h"
#include "nn.h"
#include "opt.h"
#include "super.h"
#include "train.h"

static const char usage_str[] =
    "usage: ofa-train [-h] [--data dir] [--skip-bad] [--preset quick|paper] [--epochs n]\n"
    "                 [--batch n] [--ps f,k,d] [--lr x] [--wd x] [--momentum x]\n"
    "                 [--warmup epochs]\n"
    "                 [--kd x] [--clip norm] [--random n] [--subset n] [--val-frac x]\n"
    "                 [--split-seed n] [--calib n] [--width w] [--resolution r]\n"
    "                 [--in-ch c] [--seed n] [--threads n] [--resume] -o supernet\n"
    "       ofa-train [-h] --extract supernet [--data dir] [--skip-bad] [--eval] [--calib n]\n"
    "                 [--batch n] [--threads n] [-o weights] [file ...]\n";

static void
usage(FILE *fp, int status)
{
	fputs(usage_str, fp);
	exit(status);
}

enum preset { P_QUICK, P_PAPER };
static const char *const preset_names[] = { "quick", "paper", NULL };

struct cfg {
	const char *data, *out, *extract;
	int preset, epochs, batch, random, calib, res, in_ch, threads, resume, eval, skip_bad;
	int ps[3];                   /* progressive shrinking: full, kernel, depth epochs */
	long subset, seed, split_seed;
	double lr, wd, momentum, warmup, kd, clip, val_frac, width;
};

/* Build a model of arch a for batch B, extract it from s, recalibrate BN. */
static void
subnet(struct model *m, const struct super *s, const struct arch *a, int B,
    const struct train_ds *ds, const int32_t *cidx, long nc)
{
	struct arch_net net;

	arch_net_build(&net, a);
	model_build(m, &net, MODEL_BACKBONE_ONLY, B);
	m->seed = s->m.seed;
	super_extract(m, s);
	super_bn_calib(m, &ds->tr, cidx, nc, &ds->nm);
}

/* ---- training ---- */

static int
pick(struct nn_rng *r, int n)
{
	return (int)(((uint64_t)nn_rng_u32(r) * (uint64_t)n) >> 32);
}

/* Elastic dimensions by level (progressive shrinking's phases): 0 none
 * (the full network), 1 kernel, 2 kernel and depth, 3 every one. */
enum { LV_FULL, LV_KERNEL, LV_DEPTH, LV_ALL };

/* A uniformly drawn subnet of s among the dimensions elastic at level lv
 * (OFA's sampler: each gene independently), or with r NULL the smallest. */
static void
sample(struct arch *a, const struct super *s, int lv, struct nn_rng *r)
{
	int i;

	*a = s->a;
	for (i = 0; i < ARCH_STAGES; i++)
		a->d[i] = lv < LV_DEPTH ? 4 : arch_d_set[r ? pick(r, 3) : 0];
	for (i = 0; i < ARCH_SLOTS; i++) {
		a->ks[i] = lv < LV_KERNEL ? 7 : arch_ks_set[r ? pick(r, 3) : 0];
		a->e[i] = lv < LV_ALL ? 6 : arch_e_set[r ? pick(r, 3) : 0];
	}
	arch_canonical(a);
}

/* Level of epoch e under --ps. */
static int
level(const struct cfg *c, int e)
{
	int lv;

	for (lv = LV_FULL; lv < LV_ALL; lv++) {
		if (e < c->ps[lv])
			return lv;
		e -= c->ps[lv];
	}
	return LV_ALL;
}

/* The three subnets the result reports: all-min, mid (k5 e4 d3), all-max. */
static const char *const probe_names[] = { "min", "mid", "max" };

static void
probe_arch(struct arch *a, const struct super *s, int which)
{
	int i;

	sample(a, s, which == 2 ? LV_FULL : LV_ALL, NULL);
	if (which == 1) {
		for (i = 0; i < ARCH_SLOTS; i++)
			a->ks[i] = 5, a->e[i] = 4;
		for (i = 0; i < ARCH_STAGES; i++)
			a->d[i] = 3;
		arch_canonical(a);
	}
}

struct trainer {
	const struct cfg *c;
	struct train_ds *ds;
	struct super s;
	struct opt_sgd om, ok;       /* the weights' and the matrices' optimisers */
	struct opt_seg *seg, kseg;
	int nseg;
	struct model mmax, mmin;     /* built once; random subnets per step */
	float *x, *soft, *probs, *dlog;
	int *y;
	int C, R, K, epoch;          /* epochs done */
	double wall;                 /* training seconds over every run */
	double *c_loss, *c_vacc;
};

/* Loss of a forward of m on the batch: CE against the labels, plus kd x CE
 * against soft (NULL for none); gradient into t->dlog. */
static double
loss_of(struct trainer *t, struct model *m, int N, const float *soft, double kd)
{
	const float *lg = m->logits[m->nexit - 1];
	float sc = 1.0f / N;
	double loss = nn_softmax_ce_fwd(t->probs, lg, t->y, N, t->K);
	long i, n = (long)N * t->K;

	memset(t->dlog, 0, n * sizeof(float));
	nn_softmax_ce_bwd(t->dlog, t->probs, t->y, N, t->K, sc);
	if (soft && kd > 0) {
		double l = 0;

		for (i = 0; i < n; i++) {
			l -= soft[i] * log(t->probs[i] + 1e-12);
			t->dlog[i] += (float)kd * sc * (t->probs[i] - soft[i]);
		}
		loss += kd * l / N;
	}
	return loss;
}

/* Forward, loss, backward of subnet m, gradients into the supernet. */
static double
train_sub(struct trainer *t, struct model *m, int N, const float *soft)
{
	const float *dl[MODEL_MAX_EXITS] = { NULL };
	double loss;

	super_extract(m, &t->s);
	model_forward(m, t->x, N, 1);
	loss = loss_of(t, m, N, soft, t->c->kd);
	dl[m->nexit - 1] = t->dlog;
	model_zero_grad(m);
	model_backward(m, dl);
	super_backprop(&t->s, m);
	return loss;
}

/* Forward, loss, backward of a subnet built for arch a (a model per call:
 * random subnets rarely repeat). */
static double
train_arch(struct trainer *t, const struct arch *a, int N, const float *soft)
{
	struct arch_net net;
	struct model m;
	double l;

	arch_net_build(&net, a);
	model_build(&m, &net, MODEL_BACKBONE_ONLY, t->c->batch);
	l = train_sub(t, &m, N, soft);
	model_free(&m);
	return l;
}

static void
trainer_init(struct trainer *t, const struct cfg *c, struct train_ds *ds)
{
	struct arch a;
	struct arch_net net;
	int B = c->batch;

	t->c = c;
	t->ds = ds;
	t->C = t->s.a.in_ch, t->R = t->s.a.resolution, t->K = t->s.a.classes;
	t->seg = cli_calloc(t->s.m.ntensor, sizeof(*t->seg));
	t->nseg = train_segments(t->seg, &t->s.m, TRAIN_ALL);
	/* The matrices start at identity; decay would pull them to zero. */
	t->kseg.off = 0, t->kseg.n = t->s.nkt, t->kseg.decay = 0;
	opt_sgd_init(&t->om, t->seg, t->nseg, t->s.m.nparam, c->momentum, c->wd, 1);
	opt_sgd_init(&t->ok, &t->kseg, 1, t->s.nkt, c->momentum, 0, 1);
	sample(&a, &t->s, LV_FULL, NULL);
	arch_net_build(&net, &a);
	model_build(&t->mmax, &net, MODEL_BACKBONE_ONLY, B);
	sample(&a, &t->s, LV_ALL, NULL);
	arch_net_build(&net, &a);
	model_build(&t->mmin, &net, MODEL_BACKBONE_ONLY, B);
	t->x = cli_calloc((size_t)t->C * B * t->R * t->R, sizeof(float));
	t->y = cli_calloc(B, sizeof(int));
	t->soft = cli_calloc((size_t)B * t->K, sizeof(float));
	t->probs = cli_calloc((size_t)B * t->K, sizeof(float));
	t->dlog = cli_calloc((size_t)B * t->K, sizeof(float));
	t->c_loss = cli_calloc(c->epochs + 1, sizeof(double));
	t->c_vacc = cli_calloc(c->epochs + 1, sizeof(double));
}

static void
trainer_free(struct trainer *t)
{
	opt_sgd_free(&t->om);
	opt_sgd_free(&t->ok);
	model_free(&t->mmax);
	model_free(&t->mmin);
	super_free(&t->s);
	free(t->seg), free(t->x), free(t->y), free(t->soft), free(t->probs), free(t->dlog);
	free(t->c_loss), free(t->c_vacc);
}

/* The training state kept in the checkpoint beside the tensors. */
static void
put_state(struct rec_out *o, const struct trainer *t)
{
	const struct cfg *c = t->c;
	int i;

	rec_key(o, "train");
	msgpack_pack_map(&o->pk, 19);
	rec_pack_str(&o->pk, "epoch"), msgpack_pack_int(&o->pk, t->epoch);
	rec_pack_str(&o->pk, "epochs"), msgpack_pack_int(&o->pk, c->epochs);
	rec_pack_str(&o->pk, "ps");
	msgpack_pack_array(&o->pk, 3);
	for (i = 0; i < 3; i++)
		msgpack_pack_int(&o->pk, c->ps[i]);
	rec_pack_str(&o->pk, "batch"), msgpack_pack_int(&o->pk, c->batch);
	rec_pack_str(&o->pk, "lr"), msgpack_pack_double(&o->pk, c->lr);
	rec_pack_str(&o->pk, "wd"), msgpack_pack_double(&o->pk, c->wd);
	rec_pack_str(&o->pk, "momentum"), msgpack_pack_double(&o->pk, c->momentum);
	rec_pack_str(&o->pk, "warmup"), msgpack_pack_double(&o->pk, c->warmup);
	rec_pack_str(&o->pk, "kd"), msgpack_pack_double(&o->pk, c->kd);
	rec_pack_str(&o->pk, "clip"), msgpack_pack_double(&o->pk, c->clip);
	rec_pack_str(&o->pk, "random"), msgpack_pack_int(&o->pk, c->random);
	rec_pack_str(&o->pk, "subset"), msgpack_pack_long(&o->pk, c->subset);
	rec_pack_str(&o->pk, "val_frac"), msgpack_pack_double(&o->pk, c->val_frac);
	rec_pack_str(&o->pk, "split_seed"), msgpack_pack_long(&o->pk, c->split_seed);
	rec_pack_str(&o->pk, "seed"), msgpack_pack_long(&o->pk, c->seed);
	rec_pack_str(&o->pk, "calib"), msgpack_pack_int(&o->pk, c->calib);
	rec_pack_str(&o->pk, "wall"), msgpack_pack_double(&o->pk, t->wall);
	rec_pack_str(&o->pk, "curve_loss");
	msgpack_pack_array(&o->pk, t->epoch);
	for (i = 0; i < t->epoch; i++)
		msgpack_pack_double(&o->pk, t->c_loss[i]);
	rec_pack_str(&o->pk, "curve_val_acc");
	msgpack_pack_array(&o->pk, t->epoch);
	for (i = 0; i < t->epoch; i++) {
		if (isfinite(t->c_vacc[i]))
			msgpack_pack_double(&o->pk, t->c_vacc[i]);
		else
			msgpack_pack_nil(&o->pk);
	}
}

static void
save(struct trainer *t)
{
	struct ckpt_table mom[2];
	struct rec_out o;
	msgpack_unpacked u;

	rec_out_init(&o);
	rec_out_begin(&o, NULL, "ckpt", 1);
	put_state(&o, t);
	rec_out_finish(&o);
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, o.whole.data, o.whole.size, NULL) != MSGPACK_UNPACK_SUCCESS)
		errx(EX_SOFTWARE, "cannot re-read the training state");
	super_tables(mom, &t->s, "momentum.", t->om.buf, t->ok.buf);
	super_save(t->c->out, &t->s, mom, 2, t->epoch, &u.data);
	msgpack_unpacked_destroy(&u);
	rec_out_free(&o);
}

/* --resume: the supernet, optimiser state and training state of c->out;
 * the run's settings come from the checkpoint (they must not change in
 * the middle of a run). */
/* The split and seed of the run that wrote checkpoint ck: --extract
 * calibrates on the same training samples and reports on the same
 * validation split. */
static void
split_cfg(struct cfg *c, struct ckpt *ck)
{
	const msgpack_object *st = rec_get(ck->rec, "train");
	const struct rec_in *r = &ck->r;

	if (st == NULL || st->type != MSGPACK_OBJECT_MAP)
		rec_fail(r, "train", "missing: not a supernet written by ofa-train");
	c->subset = rec_int(r, st, "subset", 0, 1L << 31);
	c->val_frac = rec_dbl(r, st, "val_frac", 0, 0.9);
	c->split_seed = rec_int(r, st, "split_seed", 0, 1L << 62);
	c->seed = rec_int(r, st, "seed", 0, 1L << 62);
	/* An image folder is decoded at the supernet's resolution. */
	c->res = rec_int(r, ck->arch, "resolution", 16, 1024);
	c->in_ch = rec_int(r, ck->arch, "in_ch", 1, DATA_MAX_CH);
}

/* --resume: every setting of the run comes from its checkpoint (they must
 * not change in the middle of a run). */
static void
resume_cfg(struct cfg *c, struct ckpt *ck)
{
	const msgpack_object *st;
	const struct rec_in *r = &ck->r;

	split_cfg(c, ck);
	st = rec_get(ck->rec, "train");
	c->epochs = rec_int(r, st, "epochs", 0, 100000);
	rec_ints(r, st, "ps", c->ps, 3, 0, c->epochs);
	c->batch = rec_int(r, st, "batch", 2, 65536);
	c->lr = rec_dbl(r, st, "lr", 0, 100);
	c->wd = rec_dbl(r, st, "wd", 0, 1);
	c->momentum = rec_dbl(r, st, "momentum", 0, 1);
	c->warmup = rec_dbl(r, st, "warmup", 0, 100000);
	c->kd = rec_dbl(r, st, "kd", 0, 100);
	/* Checkpoints older than --clip trained without it. */
	c->clip = rec_get(st, "clip") ? rec_dbl(r, st, "clip", 0, 1e9) : 0;
	c->random = rec_int(r, st, "random", 0, 16);
	c->calib = rec_int(r, st, "calib", 1, 1 << 30);
}

static void
resume_state(struct trainer *t, struct ckpt *ck)
{
	const msgpack_object *st = rec_get(ck->rec, "train"), *cl, *cv;
	struct ckpt_table mom[2];
	uint32_t i;

	t->epoch = rec_int(&ck->r, st, "epoch", 0, t->c->epochs);
	t->wall = rec_dbl(&ck->r, st, "wall", 0, 1e12);
	cl = rec_arr(&ck->r, st, "curve_loss", t->epoch);
	cv = rec_arr(&ck->r, st, "curve_val_acc", t->epoch);
	for (i = 0; i < (uint32_t)t->epoch; i++) {
		t->c_loss[i] = rec_isnum(&cl->via.array.ptr[i]) ?
		    rec_num(&cl->via.array.ptr[i]) : NAN;
		t->c_vacc[i] = rec_isnum(&cv->via.array.ptr[i]) ?
		    rec_num(&cv->via.array.ptr[i]) : NAN;
	}
	super_tables(mom, &t->s, "momentum.", t->om.buf, t->ok.buf);
	ckpt_read_table(ck, &mom[0], CKPT_ALLOW_EXTRA);
	ckpt_read_table(ck, &mom[1], CKPT_ALLOW_EXTRA);
}

static void
run_epoch(struct trainer *t, struct cli_progress *p, const struct opt_sched *sc,
    long spe)
{
	const struct cfg *c = t->c;
	struct data_aug aug = { DATA_CROP_DEFAULT(t->R), 1 };
	struct nn_rng rng;
	int32_t *order = cli_calloc(t->ds->ntr, sizeof(int32_t));
	double lsum = 0, vl, va, t0 = cli_now(), gsum = 0, gmax = 0;
	long done, step = (long)t->epoch * spe;
	char extra[160];
	int32_t *cidx;
	int lv = level(c, t->epoch);
	long nc, nclip = 0;

	/* One stream per epoch from the seed: a resumed run draws exactly what
	 * the uninterrupted one would have. */
	nn_rng_seed(&rng, (uint64_t)c->seed * 1000003u + (uint64_t)t->epoch + 1);
	/* Progressive shrinking: before the first epoch with elastic expand
	 * after earlier phases, the important channels go first (OFA sorts
	 * before its expand phase). */
	if (lv == LV_ALL && t->epoch > 0 && level(c, t->epoch - 1) < LV_ALL)
		super_sort_channels(&t->s, t->om.buf);
	memcpy(order, t->ds->itr, t->ds->ntr * sizeof(int32_t));
	data_shuffle(order, t->ds->ntr, &rng);
	for (done = 0; done < t->ds->ntr; done += c->batch, step++) {
		int N = t->ds->ntr - done < c->batch ? (int)(t->ds->ntr - done) : c->batch, j;
		double lr = opt_lr(sc, step), l;
		struct arch a;

		data_batch(t->x, t->y, &t->ds->tr, order + done, N, t->C, t->R, &t->ds->nm,
		    &aug, &rng);
		super_zero_grad(&t->s);
		/* Largest first: its softmax teaches the others. */
		l = train_sub(t, &t->mmax, N, NULL);
		memcpy(t->soft, t->probs, (size_t)N * t->K * sizeof(float));
		if (lv == LV_ALL)
			train_sub(t, &t->mmin, N, t->soft);
		else if (lv > LV_FULL) {
			sample(&a, &t->s, lv, NULL);
			train_arch(t, &a, N, t->soft);
		}
		for (j = 0; j < c->random && lv > LV_FULL; j++) {
			sample(&a, &t->s, lv, &rng);
			train_arch(t, &a, N, t->soft);
		}
		/* One norm over the weights and the kernel transforms: the
		 * sandwich sums several subnets' gradients into the shared
		 * weights, and a rare spike can throw the run back to chance. */
		{
			double gm = opt_grad_norm(t->s.m.grad, t->seg, t->nseg);
			double gk = opt_grad_norm(t->s.ktg, &t->kseg, 1), g = sqrt(gm * gm + gk * gk);

			gsum += g, gmax = fmax(gmax, g);
			if (c->clip > 0 && g > c->clip) {
				opt_scale(t->s.m.grad, t->seg, t->nseg, c->clip / (g + 1e-6));
				opt_scale(t->s.ktg, &t->kseg, 1, c->clip / (g + 1e-6));
				nclip++;
			}
		}
		opt_sgd_step(&t->om, t->s.m.param, t->s.m.grad, lr);
		opt_sgd_step(&t->ok, t->s.ktp, t->s.ktg, lr);
		lsum += l * N;
		snprintf(extra, sizeof(extra), "epoch %d/%d loss %.4f", t->epoch + 1, c->epochs,
		    lsum / (done + N));
		cli_progress(p, step + 1, extra);
	}
	if (!isfinite(lsum))
		errx(EX_SOFTWARE, "the training loss diverged in epoch %d (lower --lr)",
		    t->epoch + 1);
	/* The largest subnet's statistics, recalibrated, go into the supernet. */
	nc = train_calib_set(&cidx, t->ds, c->calib, (uint64_t)c->seed + 2);
	super_extract(&t->mmax, &t->s);
	super_bn_calib(&t->mmax, &t->ds->tr, cidx, nc, &t->ds->nm);
	super_store_stats(&t->s, &t->mmax);
	va = NAN;
	if (t->ds->nva)
		train_evaluate(&t->mmax, t->ds, &t->ds->tr, t->ds->iva, t->ds->nva, &vl, &va);
	t->c_loss[t->epoch] = lsum / t->ds->ntr;
	t->c_vacc[t->epoch] = va;
	t->epoch++;
	t->wall += cli_now() - t0;
	save(t);
	snprintf(extra, sizeof(extra),
	    "epoch %d/%d loss %.4f max val_acc %.4f grad norm mean %.3g max %.3g clipped %ld (%.1fs)",
	    t->epoch, c->epochs, t->c_loss[t->epoch - 1], va, gsum / spe, gmax, nclip,
	    cli_now() - t0);
	cli_progress_end(p, extra);
	free(cidx);
	free(order);
}

static void
train(struct cfg *c)
{
	struct trainer t;
	struct train_ds ds;
	struct rec_out o;
	struct cli_progress p;
	struct opt_sched sc;
	struct ckpt ck;
	long spe, nc;
	int32_t *cidx;
	int i;

	memset(&t, 0, sizeof(t));
	memset(&ds, 0, sizeof(ds));
	if (c->resume) {
		ckpt_open(&ck, c->out);
		resume_cfg(c, &ck);
	}
	train_load_data(&ds, c->data, &(struct data_opts){ .res = c->res, .in_ch = c->in_ch,
	    .skip_bad = c->skip_bad }, c->subset, c->val_frac, (uint64_t)c->split_seed);
	if (c->resume) {
		super_open(&t.s, &ck);
		if (t.s.a.classes != ds.tr.classes)
			rec_fail(&ck.r, "arch", "%d classes, but the dataset in %s has %d",
			    t.s.a.classes, c->data, ds.tr.classes);
	} else {
		super_build(&t.s, c->width, c->res, c->in_ch, ds.tr.classes);
		super_init(&t.s, (uint64_t)c->seed);
	}
	if (t.s.a.in_ch != ds.tr.c && !(ds.tr.c == 1 && t.s.a.in_ch == 3))
		errx(EX_USAGE, "--in-ch %d: the dataset in %s has %d channels", t.s.a.in_ch,
		    c->data, ds.tr.c);
	trainer_init(&t, c, &ds);
	if (c->resume) {
		resume_state(&t, &ck);
		ckpt_close(&ck);
		fprintf(stderr, "ofa-train: %s: resuming after epoch %d of %d\n", c->out,
		    t.epoch, c->epochs);
	}
	spe = (ds.ntr + c->batch - 1) / c->batch;
	sc = (struct opt_sched){ OPT_COSINE, c->lr, spe * c->epochs, lround(c->warmup * spe),
	    spe, 1 };
	cli_progress_start(&p, "supernet", sc.total);
	while (t.epoch < c->epochs)
		run_epoch(&t, &p, &sc, spe);
	if (t.epoch == 0)
		save(&t);           /* --epochs 0: the initial supernet */

	/* The result: the all-max arch, the run, and the three probe subnets
	 * extracted and recalibrated, on the validation split. */
	rec_out_init(&o);
	rec_out_begin(&o, NULL, "result", 1);
	arch_put(&o, &t.s.a);
	rec_put_str(&o, "method", "ofa");
	rec_put_str(&o, "data", c->data);
	rec_put_int(&o, "n_train", ds.ntr);
	rec_put_int(&o, "n_val", ds.nva);
	rec_put_int(&o, "n_test", ds.nte);
	rec_put_int(&o, "epochs", t.epoch);
	rec_put_ints(&o, "ps", c->ps, 3);
	rec_put_int(&o, "batch", c->batch);
	rec_put_dbl(&o, "lr", c->lr);
	rec_put_dbl(&o, "wd", c->wd);
	rec_put_dbl(&o, "momentum", c->momentum);
	rec_put_dbl(&o, "kd", c->kd);
	rec_put_dbl(&o, "clip", c->clip);
	rec_put_int(&o, "random", c->random);
	rec_put_int(&o, "calib", c->calib);
	rec_put_int(&o, "train_seed", c->seed);
	rec_put_int(&o, "threads", c->threads);
	train_put_curve(&o, "curve_loss", t.c_loss, t.epoch);
	train_put_curve(&o, "curve_val_acc", t.c_vacc, t.epoch);
	rec_put_dbl(&o, "wall", t.wall);
	rec_put_str(&o, "weights", c->out);
	nc = train_calib_set(&cidx, &ds, c->calib, (uint64_t)c->seed + 2);
	rec_key(&o, "probes");
	msgpack_pack_array(&o.pk, 3);
	for (i = 0; i < 3; i++) {
		struct arch a;
		struct model m;
		double vl = NAN, va = NAN;

		probe_arch(&a, &t.s, i);
		subnet(&m, &t.s, &a, c->batch, &ds, cidx, nc);
		if (ds.nva)
			train_evaluate(&m, &ds, &ds.tr, ds.iva, ds.nva, &vl, &va);
		msgpack_pack_map(&o.pk, 3);
		rec_pack_str(&o.pk, "name"), rec_pack_str(&o.pk, probe_names[i]);
		rec_pack_str(&o.pk, "macs"), msgpack_pack_long(&o.pk, m.net.macs_backbone);
		rec_pack_str(&o.pk, "acc_val");
		if (isfinite(va))
			msgpack_pack_double(&o.pk, va);
		else
			msgpack_pack_nil(&o.pk);
		fprintf(stderr, "ofa-train: %s subnet: val_acc %.4f\n", probe_names[i], va);
		model_free(&m);
	}
	rec_out_end(&o, stdout);
	rec_out_free(&o);
	free(cidx);
	trainer_free(&t);
	train_free_data(&ds);
}

/* ---- --extract ---- */

static void
extract(struct cfg *c, int argc, char **argv)
{
	struct super s;
	struct ckpt ck;
	struct train_ds ds;
	struct rec_out o;
	struct rec_files in;
	const msgpack_object *m;
	int32_t *cidx;
	long nc, recno = 0;

	ckpt_open(&ck, c->extract);
	split_cfg(c, &ck);
	super_open(&s, &ck);
	ckpt_close(&ck);
	memset(&ds, 0, sizeof(ds));
	train_load_data(&ds, c->data, &(struct data_opts){ .res = c->res, .in_ch = c->in_ch,
	    .skip_bad = c->skip_bad }, c->subset, c->val_frac, (uint64_t)c->split_seed);
	nc = train_calib_set(&cidx, &ds, c->calib, (uint64_t)c->seed + 2);
	rec_out_init(&o);
	rec_files_init(&in, argc, argv);
	while ((m = rec_files_next(&in)) != NULL) {
		struct arch a;
		struct model sub;
		char why[160], *wpath = NULL;
		const char *key;
		double t0 = cli_now(), vl, va, tl, ta;

		arch_read_typed(&a, &in.r, m);
		if ((key = super_check(&s, &a, why, sizeof(why))) != NULL)
			rec_fail(&in.r, key, "%s", why);
		if (a.classes != ds.tr.classes)
			rec_fail(&in.r, "classes", "%d, but the dataset in %s has %d classes",
			    a.classes, c->data, ds.tr.classes);
		recno++;
		if (c->out)
			wpath = train_weights_path("-o", c->out, recno);
		subnet(&sub, &s, &a, c->batch, &ds, cidx, nc);
		if (wpath)
			ckpt_save(wpath, &sub, m, 0);
		rec_out_begin(&o, m, "result", 1);
		rec_put_str(&o, "method", "supernet");
		rec_put_str(&o, "supernet", c->extract);
		rec_put_int(&o, "calib", nc);
		if (c->eval) {
			rec_put_str(&o, "data", c->data);
			rec_put_int(&o, "n_train", ds.ntr);
			rec_put_int(&o, "n_val", ds.nva);
			rec_put_int(&o, "n_test", ds.nte);
			if (ds.nva) {
				train_evaluate(&sub, &ds, &ds.tr, ds.iva, ds.nva, &vl, &va);
				rec_put_dbl(&o, "acc_val", va);
			}
			train_evaluate(&sub, &ds, &ds.te, ds.ite, ds.nte, &tl, &ta);
			rec_put_dbl(&o, "acc_test", ta);
			rec_put_dbl(&o, "loss_test", tl);
			fprintf(stderr, "ofa-train: record %ld: acc_test %.4f\n", recno, ta);
		}
		rec_put_dbl(&o, "wall", cli_now() - t0);
		if (wpath)
			rec_put_str(&o, "weights", wpath);
		rec_out_end(&o, stdout);
		fflush(stdout);
		model_free(&sub);
		free(wpath);
	}
	rec_out_free(&o);
	free(cidx);
	super_free(&s);
	train_free_data(&ds);
}

/* --ps f,k,d: three epoch counts. */
static void
ps_opt(struct cfg *c, const char *arg)
{
	double v[3];
	int i;

	if (cli_doubles("--ps", arg, v, 3, 0, 100000) != 3)
		errx(EX_USAGE, "--ps: %s: want three epoch counts f,k,d", arg);
	for (i = 0; i < 3; i++) {
		if (v[i] != floor(v[i]))
			errx(EX_USAGE, "--ps: %g is not a whole number of epochs", v[i]);
		c->ps[i] = (int)v[i];
	}
}

int
main(int argc, char **argv)
{
	enum { O_DATA = 256, O_PRESET, O_EPOCHS, O_PS, O_BATCH, O_LR, O_WD, O_MOM, O_WARM, O_KD, O_CLIP,
	    O_RANDOM, O_SUBSET, O_VAL, O_SPLIT, O_CALIB, O_WIDTH, O_RES, O_INCH, O_SEED,
	    O_THREADS, O_RESUME, O_EXTRACT, O_EVAL, O_SKIPBAD };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "data", required_argument, NULL, O_DATA },
		{ "skip-bad", no_argument, NULL, O_SKIPBAD },
		{ "preset", required_argument, NULL, O_PRESET },
		{ "epochs", required_argument, NULL, O_EPOCHS },
		{ "ps", required_argument, NULL, O_PS },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "lr", required_argument, NULL, O_LR },
		{ "wd", required_argument, NULL, O_WD },
		{ "momentum", required_argument, NULL, O_MOM },
		{ "warmup", required_argument, NULL, O_WARM },
		{ "kd", required_argument, NULL, O_KD },
		{ "clip", required_argument, NULL, O_CLIP },
		{ "random", required_argument, NULL, O_RANDOM },
		{ "subset", required_argument, NULL, O_SUBSET },
		{ "val-frac", required_argument, NULL, O_VAL },
		{ "split-seed", required_argument, NULL, O_SPLIT },
		{ "calib", required_argument, NULL, O_CALIB },
		{ "width", required_argument, NULL, O_WIDTH },
		{ "resolution", required_argument, NULL, O_RES },
		{ "in-ch", required_argument, NULL, O_INCH },
		{ "seed", required_argument, NULL, O_SEED },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "resume", no_argument, NULL, O_RESUME },
		{ "extract", required_argument, NULL, O_EXTRACT },
		{ "eval", no_argument, NULL, O_EVAL },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	/* Presets: quick fits minutes on 2 cores (few epochs; the whole
	 * training set, since the candidates fine-tuned from it for one epoch
	 * start where it leaves them); paper is long. Clipping at 10: the quick
	 * run at 2 threads fell back to chance in its first epoch on one
	 * gradient spike (norm 1950, mean 10); clipped, 126 of its 844 steps,
	 * it did not. Options given explicitly override either. */
	static const struct cfg presets[2] = {
		{ .epochs = 3, .batch = 64, .subset = 0, .random = 1, .calib = 1000,
		    .lr = 0.05, .warmup = 0.25, .clip = 10 },
		{ .epochs = 120, .batch = 128, .subset = 0, .random = 2, .calib = 2000,
		    .lr = 0.1, .warmup = 5, .clip = 10 },
	};
	struct cfg c = {
		.data = "/usr/share/datasets/fashion-mnist", .wd = 3e-5, .momentum = 0.9,
		.kd = 1, .val_frac = 0.1, .width = 1.0, .res = 32, .in_ch = 3, .seed = 1,
		.split_seed = 1,
	};
	struct cfg set = { 0 };      /* which options were given: nonzero = set */
	int ch;

	c.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	/* Every step builds and frees a model of a random subnet: keep the
	 * arenas in the heap so the next one reuses their pages instead of
	 * faulting in fresh ones. */
	mallopt(M_MMAP_THRESHOLD, 1 << 30);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	while ((ch = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout, 0);
			break;
		case O_DATA: c.data = optarg; break;
		case O_PRESET: c.preset = cli_choice("--preset", optarg, preset_names); break;
		case O_EPOCHS:
			c.epochs = cli_long("--epochs", optarg, 0, 100000), set.epochs = 1;
			break;
		case O_PS: ps_opt(&c, optarg); break;
		case O_BATCH: c.batch = cli_long("--batch", optarg, 2, 65536), set.batch = 1; break;
		case O_LR: c.lr = cli_double("--lr", optarg, 0, 100), set.lr = 1; break;
		case O_WD: c.wd = cli_double("--wd", optarg, 0, 1); break;
		case O_MOM: c.momentum = cli_double("--momentum", optarg, 0, 1); break;
		case O_WARM:
			c.warmup = cli_double("--warmup", optarg, 0, 100000), set.warmup = 1;
			break;
		case O_KD: c.kd = cli_double("--kd", optarg, 0, 100); break;
		case O_CLIP: c.clip = cli_double("--clip", optarg, 0, 1e9), set.clip = 1; break;
		case O_RANDOM:
			c.random = cli_long("--random", optarg, 0, 16), set.random = 1;
			break;
		case O_SUBSET:
			c.subset = cli_long("--subset", optarg, 0, 1L << 31), set.subset = 1;
			break;
		case O_VAL: c.val_frac = cli_double("--val-frac", optarg, 0, 0.9); break;
		case O_SPLIT: c.split_seed = cli_long("--split-seed", optarg, 0, 1L << 62); break;
		case O_CALIB:
			c.calib = cli_long("--calib", optarg, 1, 1 << 30), set.calib = 1;
			break;
		case O_WIDTH: c.width = cli_double("--width", optarg, 0.1, 4); break;
		case O_RES: c.res = cli_long("--resolution", optarg, 16, 1024); break;
		case O_SKIPBAD: c.skip_bad = 1; break;
		case O_INCH: c.in_ch = cli_long("--in-ch", optarg, 1, DATA_MAX_CH); break;
		case O_SEED: c.seed = cli_long("--seed", optarg, 0, 1L << 62); break;
		case O_THREADS: c.threads = cli_long("--threads", optarg, 1, 1024); break;
		case O_RESUME: c.resume = 1; break;
		case O_EXTRACT: c.extract = optarg; break;
		case O_EVAL: c.eval = 1; break;
		case 'o': c.out = optarg; break;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
#define PRESET(f) if (!set.f) c.f = presets[c.preset].f
	PRESET(epochs); PRESET(batch); PRESET(lr); PRESET(warmup); PRESET(random);
	PRESET(subset); PRESET(calib); PRESET(clip);
#undef PRESET
	if (c.extract == NULL) {
		if (c.out == NULL) {
			warnx("-o supernet is required for training");
			usage(stderr, EX_USAGE);
		}
		if (argc)
			errx(EX_USAGE, "training reads no records (%s): use --extract", argv[0]);
		if (c.eval)
			errx(EX_USAGE, "--eval goes with --extract");
		if (c.ps[0] + c.ps[1] + c.ps[2] > c.epochs && !c.resume)
			errx(EX_USAGE, "--ps: %d epochs are more than --epochs %d",
			    c.ps[0] + c.ps[1] + c.ps[2], c.epochs);
		if (set.warmup && c.warmup > c.epochs && !c.resume)
			errx(EX_USAGE, "--warmup: %g epochs is more than --epochs %d", c.warmup,
			    c.epochs);
		if (c.warmup > c.epochs)
			c.warmup = c.epochs;       /* the preset's, for a short run */
		if (c.resume && access(c.out, R_OK) != 0)
			err(EX_NOINPUT, "--resume: %s", c.out);
	} else {
		if (c.resume)
			errx(EX_USAGE, "--resume goes with training, not --extract");
		if (access(c.extract, R_OK) != 0)
			err(EX_NOINPUT, "%s", c.extract);
	}
	nn_threads(c.threads);
	if (c.extract)
		extract(&c, argc, argv);
	else
		train(&c);
	cli_finish();
	return 0;
}
