/*
 * ofa_train.c - the supernet's training: sandwich steps, progressive
 * shrinking, epochs, checkpoints (ofa_train.h).
 */
#include <err.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eel.h"
#include "nachos.h"
#include "nn.h"
#include "ofa_train.h"

/* Build a model of arch a for batch B, extract it from s, recalibrate BN. */
void
ofa_subnet(struct model *m, const struct super *s, const struct arch *a, int B,
    const struct train_ds *ds, const int32_t *cidx, long nc)
{
	struct arch_net net;

	arch_net_build(&net, a);
	model_build(m, &net, s->nh && a->space != ARCH_AEBNAS ? 0 : MODEL_BACKBONE_ONLY, B);
	m->seed = s->m.seed;
	super_extract(m, s);
	super_bn_calib(m, &ds->tr, cidx, nc, &ds->nm);
}

/* A uniformly drawn subnet of s among the dimensions elastic at level lv
 * (OFA's sampler: each gene independently), or with r NULL the smallest. */
void
ofa_sample(struct arch *a, const struct super *s, int lv, struct nn_rng *r)
{
	int i;

	*a = s->a;
	for (i = 0; i < ARCH_STAGES; i++)
		a->d[i] = lv < OFA_LV_DEPTH ? 4 : arch_d_set[r ? rng_below(r, 3) : 0];
	for (i = 0; i < ARCH_SLOTS; i++) {
		a->ks[i] = lv < OFA_LV_KERNEL ? 7 : arch_ks_set[r ? rng_below(r, 3) : 0];
		a->e[i] = lv < OFA_LV_ALL ? 6 : arch_e_set[r ? rng_below(r, 3) : 0];
	}
	if (r && s->nh) {
		int any = 0;

		for (i = 0; i < ARCH_EXITS; i++)
			any |= a->exits[i] = rng_below(r, 2);
		if (!any)
			a->exits[rng_below(r, ARCH_EXITS)] = 1;
	}
	arch_canonical(a);
}

/* Level of epoch e under --ps. */
int
ofa_level(const struct ofa_cfg *c, int e)
{
	int lv;

	for (lv = OFA_LV_FULL; lv < OFA_LV_ALL; lv++) {
		if (e < c->ps[lv])
			return lv;
		e -= c->ps[lv];
	}
	return OFA_LV_ALL;
}

const char *const ofa_probe_names[] = { "min", "mid", "max" };

void
ofa_probe_arch(struct arch *a, const struct super *s, int which)
{
	int i;

	ofa_sample(a, s, which == 2 ? OFA_LV_FULL : OFA_LV_ALL, NULL);
	if (which == 1) {
		for (i = 0; i < ARCH_SLOTS; i++)
			a->ks[i] = 5, a->e[i] = 4;
		for (i = 0; i < ARCH_STAGES; i++)
			a->d[i] = 3;
		arch_canonical(a);
	}
}

/* Loss of a forward of m on the batch: CE against the labels, plus kd x CE
 * against soft (NULL for none), gradient into t->dlog; with exits, plus
 * their L_ce + L_conf, gradients into t->dlx. */
static double
loss_of(struct ofa_trainer *t, struct model *m, int N, const float *soft, double kd)
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
	if (m->nexit > 1) {
		struct eel_opts o = { .w_conf = 1, .w_ce = 1 };
		float *dl[MODEL_MAX_EXITS] = { NULL };
		struct eel_terms et;
		int i;

		for (i = 0; i < m->nexit - 1; i++) {
			dl[i] = t->dlx[i];
			memset(dl[i], 0, (size_t)N * m->nout[i] * sizeof(float));
		}
		loss += eel_loss(&et, dl, m->logits, t->y, &o, N, t->K, m->nexit);
	}
	return loss;
}

/* Forward, loss, backward of subnet m, gradients into the supernet. */
static double
train_sub(struct ofa_trainer *t, struct model *m, int N, const float *soft)
{
	const float *dl[MODEL_MAX_EXITS] = { NULL };
	double loss;

	super_extract(m, &t->s);
	model_forward(m, t->x, N, 1);
	loss = loss_of(t, m, N, soft, t->c->kd);
	memcpy(dl, t->dlx, sizeof(dl));
	dl[m->nexit - 1] = t->dlog;
	model_zero_grad(m);
	model_backward(m, dl);
	super_backprop(&t->s, m);
	return loss;
}

/* Forward, loss, backward of a subnet built for arch a (a model per call:
 * random subnets rarely repeat). */
static double
train_arch(struct ofa_trainer *t, const struct arch *a, int N, const float *soft)
{
	struct arch_net net;
	struct model m;
	double l;

	arch_net_build(&net, a);
	model_build(&m, &net, t->s.nh ? 0 : MODEL_BACKBONE_ONLY, t->c->train.batch);
	l = train_sub(t, &m, N, soft);
	model_free(&m);
	return l;
}

void
ofa_trainer_init(struct ofa_trainer *t, const struct ofa_cfg *c, struct train_ds *ds)
{
	struct arch a;
	struct arch_net net;
	int B = c->train.batch, i, fl = t->s.nh ? 0 : MODEL_BACKBONE_ONLY;

	t->c = c;
	t->ds = ds;
	t->C = t->s.a.in_ch, t->R = t->s.a.resolution, t->K = t->s.a.classes;
	t->seg = cli_calloc(t->s.m.ntensor, sizeof(*t->seg));
	t->nseg = train_segments(t->seg, &t->s.m, TRAIN_ALL);
	/* The matrices start at identity; decay would pull them to zero. */
	t->kseg.off = 0, t->kseg.n = t->s.nkt, t->kseg.decay = 0;
	opt_sgd_init(&t->om, t->seg, t->nseg, t->s.m.nparam, c->train.momentum, c->train.wd, 1);
	opt_sgd_init(&t->ok, &t->kseg, 1, t->s.nkt, c->train.momentum, 0, 1);
	if (t->s.nh) {
		t->hseg = cli_calloc(t->s.nh, sizeof(*t->hseg));
		for (i = 0; i < t->s.nh; i++)
			t->hseg[i] = (struct opt_seg){ t->s.ht[i].off, t->s.ht[i].n,
			    !!(t->s.ht[i].flags & MT_DECAY) };
		t->nhseg = t->s.nh;
		opt_sgd_init(&t->oh, t->hseg, t->nhseg, t->s.nhp, c->train.momentum,
		    c->train.wd, 1);
	}
	for (i = 0; i < ARCH_EXITS && t->s.nh; i++)
		t->dlx[i] = cli_calloc((size_t)B * (t->K + 1), sizeof(float));
	ofa_sample(&a, &t->s, OFA_LV_FULL, NULL);
	arch_net_build(&net, &a);
	model_build(&t->mmax, &net, fl, B);
	ofa_sample(&a, &t->s, OFA_LV_ALL, NULL);
	arch_net_build(&net, &a);
	model_build(&t->mmin, &net, fl, B);
	t->x = cli_calloc((size_t)t->C * B * t->R * t->R, sizeof(float));
	t->y = cli_calloc(B, sizeof(int));
	t->soft = cli_calloc((size_t)B * t->K, sizeof(float));
	t->probs = cli_calloc((size_t)B * t->K, sizeof(float));
	t->dlog = cli_calloc((size_t)B * t->K, sizeof(float));
	t->c_loss = cli_calloc(c->epochs + 1, sizeof(double));
	t->c_vacc = cli_calloc(c->epochs + 1, sizeof(double));
}

void
ofa_trainer_free(struct ofa_trainer *t)
{
	int i;

	opt_sgd_free(&t->om);
	opt_sgd_free(&t->ok);
	if (t->s.nh)
		opt_sgd_free(&t->oh);
	for (i = 0; i < MODEL_MAX_EXITS; i++)
		free(t->dlx[i]);
	free(t->hseg);
	model_free(&t->mmax);
	model_free(&t->mmin);
	super_free(&t->s);
	free(t->seg), free(t->x), free(t->y), free(t->soft), free(t->probs), free(t->dlog);
	free(t->c_loss), free(t->c_vacc);
}

/* The training state kept in the checkpoint beside the tensors. */
static void
put_state(struct rec_out *o, const struct ofa_trainer *t)
{
	const struct ofa_cfg *c = t->c;
	int i;

	rec_key(o, "train");
	msgpack_pack_map(&o->pk, 19);
	rec_pack_str(&o->pk, "epoch"), msgpack_pack_int(&o->pk, t->epoch);
	rec_pack_str(&o->pk, "epochs"), msgpack_pack_int(&o->pk, c->epochs);
	rec_pack_str(&o->pk, "ps");
	msgpack_pack_array(&o->pk, 3);
	for (i = 0; i < 3; i++)
		msgpack_pack_int(&o->pk, c->ps[i]);
	rec_pack_str(&o->pk, "batch"), msgpack_pack_int(&o->pk, c->train.batch);
	rec_pack_str(&o->pk, "lr"), msgpack_pack_double(&o->pk, c->train.lr);
	rec_pack_str(&o->pk, "wd"), msgpack_pack_double(&o->pk, c->train.wd);
	rec_pack_str(&o->pk, "momentum"), msgpack_pack_double(&o->pk, c->train.momentum);
	rec_pack_str(&o->pk, "warmup"), msgpack_pack_double(&o->pk, c->train.warmup);
	rec_pack_str(&o->pk, "kd"), msgpack_pack_double(&o->pk, c->kd);
	rec_pack_str(&o->pk, "clip"), msgpack_pack_double(&o->pk, c->train.clip);
	rec_pack_str(&o->pk, "random"), msgpack_pack_int(&o->pk, c->random);
	rec_pack_str(&o->pk, "subset"), msgpack_pack_long(&o->pk, c->train.subset);
	rec_pack_str(&o->pk, "val_frac"), msgpack_pack_double(&o->pk, c->train.val_frac);
	rec_pack_str(&o->pk, "split_seed"), msgpack_pack_long(&o->pk, c->train.split_seed);
	rec_pack_str(&o->pk, "seed"), msgpack_pack_long(&o->pk, c->train.seed);
	rec_pack_str(&o->pk, "calib"), msgpack_pack_int(&o->pk, c->train.calib);
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

void
ofa_save(struct ofa_trainer *t)
{
	struct ckpt_table mom[3];
	struct rec_out o;
	msgpack_unpacked u;
	int nt;

	rec_out_init(&o);
	rec_out_begin(&o, NULL, "ckpt", 1);
	put_state(&o, t);
	rec_out_finish(&o);
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, o.whole.data, o.whole.size, NULL) != MSGPACK_UNPACK_SUCCESS)
		errx(EX_SOFTWARE, "cannot re-read the training state");
	nt = super_tables(mom, &t->s, "momentum.", t->om.buf, t->ok.buf, t->oh.buf);
	super_save(t->c->out, &t->s, mom, nt, t->epoch, &u.data);
	msgpack_unpacked_destroy(&u);
	rec_out_free(&o);
}

/* The split and seed of the run that wrote checkpoint ck: --extract
 * calibrates on the same training samples and reports on the same
 * validation split. */
void
ofa_split_cfg(struct ofa_cfg *c, struct ckpt *ck)
{
	const msgpack_object *st = rec_get(ck->rec, "train");
	const struct rec_in *r = &ck->r;

	if (st == NULL || st->type != MSGPACK_OBJECT_MAP)
		rec_fail(r, "train", "missing: not a supernet written by ofa-train");
	c->train.subset = rec_int(r, st, "subset", 0, 1L << 31);
	c->train.val_frac = rec_dbl(r, st, "val_frac", 0, 0.9);
	c->train.split_seed = rec_int(r, st, "split_seed", 0, 1L << 62);
	c->train.seed = rec_int(r, st, "seed", 0, 1L << 62);
	/* An image folder is decoded at the supernet's resolution. */
	c->res = rec_int(r, ck->arch, "resolution", 16, 1024);
	c->in_ch = rec_int(r, ck->arch, "in_ch", 1, DATA_MAX_CH);
}

/* --resume: every setting of the run comes from its checkpoint (they must
 * not change in the middle of a run). */
void
ofa_resume_cfg(struct ofa_cfg *c, struct ckpt *ck)
{
	const msgpack_object *st;
	const struct rec_in *r = &ck->r;

	ofa_split_cfg(c, ck);
	st = rec_get(ck->rec, "train");
	c->epochs = rec_int(r, st, "epochs", 0, 100000);
	rec_ints(r, st, "ps", c->ps, 3, 0, c->epochs);
	c->train.batch = rec_int(r, st, "batch", 2, 65536);
	c->train.lr = rec_dbl(r, st, "lr", 0, 100);
	c->train.wd = rec_dbl(r, st, "wd", 0, 1);
	c->train.momentum = rec_dbl(r, st, "momentum", 0, 1);
	c->train.warmup = rec_dbl(r, st, "warmup", 0, 100000);
	c->kd = rec_dbl(r, st, "kd", 0, 100);
	/* Checkpoints older than --clip trained without it. */
	c->train.clip = rec_get(st, "clip") ? rec_dbl(r, st, "clip", 0, 1e9) : 0;
	c->random = rec_int(r, st, "random", 0, 16);
	c->train.calib = rec_int(r, st, "calib", 1, 1 << 30);
}

void
ofa_resume_state(struct ofa_trainer *t, struct ckpt *ck)
{
	const msgpack_object *st = rec_get(ck->rec, "train"), *cl, *cv;
	struct ckpt_table mom[3];
	uint32_t i;
	int j, nt;

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
	nt = super_tables(mom, &t->s, "momentum.", t->om.buf, t->ok.buf, t->oh.buf);
	for (j = 0; j < nt; j++)
		ckpt_read_table(ck, &mom[j], CKPT_ALLOW_EXTRA);
}

void
ofa_run_epoch(struct ofa_trainer *t, struct cli_progress *p, const struct opt_sched *sc,
    long spe)
{
	const struct ofa_cfg *c = t->c;
	struct data_aug aug = { DATA_CROP_DEFAULT(t->R), 1 };
	struct nn_rng rng;
	int32_t *order = cli_calloc(t->ds->ntr, sizeof(int32_t));
	double lsum = 0, vl, va, t0 = cli_now(), gsum = 0, gmax = 0;
	long done, step = (long)t->epoch * spe;
	char extra[160];
	int32_t *cidx;
	int lv = ofa_level(c, t->epoch);
	long nc, nclip = 0;

	/* One stream per epoch from the seed: a resumed run draws exactly what
	 * the uninterrupted one would have. */
	nn_rng_seed(&rng, (uint64_t)c->train.seed * 1000003u + (uint64_t)t->epoch + 1);
	/* Progressive shrinking: before the first epoch with elastic expand
	 * after earlier phases, the important channels go first (OFA sorts
	 * before its expand phase). */
	if (lv == OFA_LV_ALL && t->epoch > 0 && ofa_level(c, t->epoch - 1) < OFA_LV_ALL)
		super_sort_channels(&t->s, t->om.buf);
	memcpy(order, t->ds->itr, t->ds->ntr * sizeof(int32_t));
	rng_shuffle(order, t->ds->ntr, &rng);
	for (done = 0; done < t->ds->ntr; done += c->train.batch, step++) {
		int N = t->ds->ntr - done < c->train.batch ? (int)(t->ds->ntr - done) : c->train.batch, j;
		double lr = opt_lr(sc, step), l;
		struct arch a;

		data_batch(t->x, t->y, &t->ds->tr, order + done, N, t->C, t->R, &t->ds->nm,
		    &aug, &rng);
		super_zero_grad(&t->s);
		/* Largest first: its softmax teaches the others. */
		l = train_sub(t, &t->mmax, N, NULL);
		memcpy(t->soft, t->probs, (size_t)N * t->K * sizeof(float));
		if (lv == OFA_LV_ALL)
			train_sub(t, &t->mmin, N, t->soft);
		else if (lv > OFA_LV_FULL) {
			ofa_sample(&a, &t->s, lv, NULL);
			train_arch(t, &a, N, t->soft);
		}
		for (j = 0; j < c->random && lv > OFA_LV_FULL; j++) {
			ofa_sample(&a, &t->s, lv, &rng);
			train_arch(t, &a, N, t->soft);
		}
		/* One norm over the weights and the kernel transforms: the
		 * sandwich sums several subnets' gradients into the shared
		 * weights, and a rare spike can throw the run back to chance. */
		{
			double gm = opt_grad_norm(t->s.m.grad, t->seg, t->nseg);
			double gk = opt_grad_norm(t->s.ktg, &t->kseg, 1);
			double gh = t->s.nh ? opt_grad_norm(t->s.hg, t->hseg, t->nhseg) : 0;
			double g = sqrt(gm * gm + gk * gk + gh * gh);

			gsum += g, gmax = fmax(gmax, g);
			if (c->train.clip > 0 && g > c->train.clip) {
				opt_scale(t->s.m.grad, t->seg, t->nseg,
				    c->train.clip / (g + 1e-6));
				opt_scale(t->s.ktg, &t->kseg, 1, c->train.clip / (g + 1e-6));
				if (t->s.nh)
					opt_scale(t->s.hg, t->hseg, t->nhseg,
					    c->train.clip / (g + 1e-6));
				nclip++;
			}
		}
		opt_sgd_step(&t->om, t->s.m.param, t->s.m.grad, lr);
		opt_sgd_step(&t->ok, t->s.ktp, t->s.ktg, lr);
		if (t->s.nh)
			opt_sgd_step(&t->oh, t->s.hp, t->s.hg, lr);
		lsum += l * N;
		snprintf(extra, sizeof(extra), "epoch %d/%d loss %.4f", t->epoch + 1, c->epochs,
		    lsum / (done + N));
		cli_progress(p, step + 1, extra);
	}
	if (!isfinite(lsum))
		errx(EX_SOFTWARE, "the training loss diverged in epoch %d (lower --lr)",
		    t->epoch + 1);
	/* The largest subnet's statistics, recalibrated, go into the supernet. */
	nc = train_calib_set(&cidx, t->ds, c->train.calib, (uint64_t)c->train.seed + 2);
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
	ofa_save(t);
	snprintf(extra, sizeof(extra),
	    "epoch %d/%d loss %.4f max val_acc %.4f grad norm mean %.3g max %.3g clipped %ld (%.1fs)",
	    t->epoch, c->epochs, t->c_loss[t->epoch - 1], va, gsum / spe, gmax, nclip,
	    cli_now() - t0);
	cli_progress_end(p, extra);
	free(cidx);
	free(order);
}

