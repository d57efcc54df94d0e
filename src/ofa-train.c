/*
 * ofa-train - train an elastic OFA MobileNetV3 supernet (lib/super.h) with
 * the sandwich rule and in-place knowledge distillation, or, with
 * --extract, write subnet checkpoints (BN recalibrated) and their
 * accuracies for arch records.
 *
 * The training itself (sandwich rule, progressive shrinking, epochs,
 * checkpoints) is lib/ofa_train.c; this file reads options and writes the
 * result and the extracted subnets.
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
#include "cpu.h"
#include "data.h"
#include "model.h"
#include "nachos.h"
#include "nn.h"
#include "ofa_train.h"
#include "opt.h"
#include "super.h"
#include "train.h"

static const char usage_str[] =
    "usage: ofa-train [-hv] [--data dir] [--skip-bad] [--preset quick|paper] [--epochs n]\n"
    "                 [--batch n] [--ps f,k,d] [--lr x] [--wd x] [--momentum x]\n"
    "                 [--warmup epochs]\n"
    "                 [--kd x] [--clip norm] [--random n] [--subset n] [--val-frac x]\n"
    "                 [--split-seed n] [--calib n] [--width w] [--resolution r]\n"
    "                 [--in-ch c] [--seed n] [--threads n] [--no-exits] [--resume]\n"
    "                 -o supernet\n"
    "       ofa-train [-hv] --extract supernet [--data dir] [--skip-bad] [--eval] [--calib n]\n"
    "                 [--batch n] [--threads n] [-o weights] [file ...]\n";

static void
usage(FILE *fp, int status)
{
	fputs(usage_str, fp);
	exit(status);
}

enum preset { P_QUICK, P_PAPER };
static const char *const preset_names[] = { "quick", "paper", NULL };

static void
train(struct ofa_cfg *c)
{
	struct ofa_trainer t;
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
		ofa_resume_cfg(c, &ck);
	}
	train_load_data_opts(&ds, c->train.data, &(struct data_opts){ .res = c->res,
	    .in_ch = c->in_ch, .skip_bad = c->train.skip_bad }, c->train.subset,
	    c->train.val_frac, (uint64_t)c->train.split_seed);
	if (c->resume) {
		super_open(&t.s, &ck);
		if (t.s.a.classes != ds.tr.classes)
			rec_fail(&ck.r, "arch", "%d classes, but the dataset in %s has %d",
			    t.s.a.classes, c->train.data, ds.tr.classes);
	} else {
		super_build(&t.s, c->width, c->res, c->in_ch, ds.tr.classes, !c->noexits);
		super_init(&t.s, (uint64_t)c->train.seed);
	}
	if (t.s.a.in_ch != ds.tr.c && !(ds.tr.c == 1 && t.s.a.in_ch == 3))
		errx(EX_USAGE, "--in-ch %d: the dataset in %s has %d channels", t.s.a.in_ch,
		    c->train.data, ds.tr.c);
	ofa_trainer_init(&t, c, &ds);
	if (c->resume) {
		ofa_resume_state(&t, &ck);
		ckpt_close(&ck);
		fprintf(stderr, "ofa-train: %s: resuming after epoch %d of %d\n", c->out,
		    t.epoch, c->epochs);
	}
	spe = (ds.ntr + c->train.batch - 1) / c->train.batch;
	sc = (struct opt_sched){ OPT_COSINE, c->train.lr, spe * c->epochs,
	    lround(c->train.warmup * spe),
	    spe, 1 };
	cli_progress_start(&p, "supernet", sc.total);
	while (t.epoch < c->epochs)
		ofa_run_epoch(&t, &p, &sc, spe);
	if (t.epoch == 0)
		ofa_save(&t);           /* --epochs 0: the initial supernet */

	/* The result: the all-max arch, the run, and the three probe subnets
	 * extracted and recalibrated, on the validation split. */
	rec_out_init(&o);
	rec_out_begin(&o, NULL, "result", 1);
	arch_put(&o, &t.s.a);
	rec_put_str(&o, "method", "ofa");
	rec_put_str(&o, "data", c->train.data);
	rec_put_int(&o, "n_train", ds.ntr);
	rec_put_int(&o, "n_val", ds.nva);
	rec_put_int(&o, "n_test", ds.nte);
	rec_put_int(&o, "epochs", t.epoch);
	rec_put_ints(&o, "ps", c->ps, 3);
	rec_put_int(&o, "batch", c->train.batch);
	rec_put_dbl(&o, "lr", c->train.lr);
	rec_put_dbl(&o, "wd", c->train.wd);
	rec_put_dbl(&o, "momentum", c->train.momentum);
	rec_put_dbl(&o, "kd", c->kd);
	rec_put_dbl(&o, "clip", c->train.clip);
	rec_put_int(&o, "random", c->random);
	rec_put_int(&o, "calib", c->train.calib);
	rec_put_int(&o, "train_seed", c->train.seed);
	rec_put_int(&o, "threads", c->train.threads);
	rec_put_str(&o, "blas_core", cpu_blas_core());
	train_put_curve(&o, "curve_loss", t.c_loss, t.epoch);
	train_put_curve(&o, "curve_val_acc", t.c_vacc, t.epoch);
	rec_put_dbl(&o, "wall", t.wall);
	rec_put_str(&o, "weights", c->out);
	nc = train_calib_set(&cidx, &ds, c->train.calib, (uint64_t)c->train.seed + 2);
	rec_key(&o, "probes");
	msgpack_pack_array(&o.pk, 3);
	for (i = 0; i < 3; i++) {
		struct arch a;
		struct model m;
		double vl = NAN, va = NAN;

		ofa_probe_arch(&a, &t.s, i);
		ofa_subnet(&m, &t.s, &a, c->train.batch, &ds, cidx, nc);
		if (ds.nva)
			train_evaluate(&m, &ds, &ds.tr, ds.iva, ds.nva, &vl, &va);
		msgpack_pack_map(&o.pk, 3);
		rec_pack_str(&o.pk, "name"), rec_pack_str(&o.pk, ofa_probe_names[i]);
		rec_pack_str(&o.pk, "macs"), msgpack_pack_long(&o.pk, m.net.macs_backbone);
		rec_pack_str(&o.pk, "acc_val");
		if (isfinite(va))
			msgpack_pack_double(&o.pk, va);
		else
			msgpack_pack_nil(&o.pk);
		fprintf(stderr, "ofa-train: %s subnet: val_acc %.4f\n", ofa_probe_names[i], va);
		model_free(&m);
	}
	rec_out_end(&o, stdout);
	rec_out_free(&o);
	free(cidx);
	ofa_trainer_free(&t);
	train_free_data(&ds);
}

/* ---- --extract ---- */

static void
extract(struct ofa_cfg *c, int argc, char **argv)
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
	ofa_split_cfg(c, &ck);
	super_open(&s, &ck);
	ckpt_close(&ck);
	if (s.nh == 0)
		fprintf(stderr, "ofa-train: %s has no exit heads (older than them, or "
		    "--no-exits): the subnets' weights are their backbones alone\n", c->extract);
	memset(&ds, 0, sizeof(ds));
	train_load_data_opts(&ds, c->train.data, &(struct data_opts){ .res = c->res,
	    .in_ch = c->in_ch, .skip_bad = c->train.skip_bad }, c->train.subset,
	    c->train.val_frac, (uint64_t)c->train.split_seed);
	nc = train_calib_set(&cidx, &ds, c->train.calib, (uint64_t)c->train.seed + 2);
	rec_out_init(&o);
	rec_files_init(&in, argc, argv);
	while ((m = rec_files_next(&in)) != NULL) {
		struct arch a;
		struct model sub;
		char why[4200], *wpath = NULL;
		const char *key;
		double t0 = cli_now(), vl, va, tl, ta;

		arch_read_typed(&a, &in.r, m);
		if ((key = super_check(&s, &a, why, sizeof(why))) != NULL)
			rec_fail(&in.r, key, "%s", why);
		if ((key = train_fits(why, sizeof(why), &ds, c->train.data, a.in_ch,
		    a.classes)))
			rec_fail(&in.r, key, "%s", why);
		recno++;
		if (c->out)
			wpath = train_weights_path("-o", c->out, recno);
		ofa_subnet(&sub, &s, &a, c->train.batch, &ds, cidx, nc);
		if (wpath)
			ckpt_save(wpath, &sub, m, 0);
		rec_out_begin(&o, m, "result", 1);
		rec_put_str(&o, "method", "supernet");
		rec_put_str(&o, "supernet", c->extract);
		rec_put_int(&o, "calib", nc);
		if (c->eval) {
			rec_put_str(&o, "data", c->train.data);
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
ps_opt(struct ofa_cfg *c, const char *arg)
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
	enum { O_PRESET = 256, O_EPOCHS, O_PS, O_KD, O_RANDOM, O_WIDTH, O_RES, O_INCH, O_RESUME,
	    O_EXTRACT, O_EVAL, O_NOEXITS };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		TRAIN_LONGOPTS,
		{ "preset", required_argument, NULL, O_PRESET },
		{ "epochs", required_argument, NULL, O_EPOCHS },
		{ "ps", required_argument, NULL, O_PS },
		{ "kd", required_argument, NULL, O_KD },
		{ "random", required_argument, NULL, O_RANDOM },
		{ "width", required_argument, NULL, O_WIDTH },
		{ "resolution", required_argument, NULL, O_RES },
		{ "in-ch", required_argument, NULL, O_INCH },
		{ "resume", no_argument, NULL, O_RESUME },
		{ "extract", required_argument, NULL, O_EXTRACT },
		{ "eval", no_argument, NULL, O_EVAL },
		{ "no-exits", no_argument, NULL, O_NOEXITS },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	/* Presets: quick fits minutes on 2 cores (few epochs; the whole
	 * training set, since the candidates fine-tuned from it for one epoch
	 * start where it leaves them); paper is long. Clipping at 10: the quick
	 * run at 2 threads fell back to chance in its first epoch on one
	 * gradient spike (norm 1950, mean 10); clipped, 126 of its 844 steps,
	 * it did not. Options given explicitly override either. */
	static const struct ofa_cfg presets[2] = {
		{ .train = { .batch = 64, .subset = 0, .calib = 1000, .lr = 0.05, .warmup = 0.25,
		    .clip = 10 }, .epochs = 3, .random = 1 },
		{ .train = { .batch = 128, .subset = 0, .calib = 2000, .lr = 0.1, .warmup = 5,
		    .clip = 10 }, .epochs = 120, .random = 2 },
	};
	struct ofa_cfg c = {
		.train = { .data = "/usr/share/datasets/fashion-mnist", .wd = 3e-5,
		    .momentum = 0.9, .val_frac = 0.1, .seed = 1, .split_seed = 1 },
		.kd = 1, .width = 1.0, .res = 32, .in_ch = 3,
	};
	struct ofa_cfg set = { 0 };  /* which of its own options were given: nonzero */
	int ch, verbose = 0;

	c.train.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	/* Every step builds and frees a model of a random subnet: keep the
	 * arenas in the heap so the next one reuses their pages instead of
	 * faulting in fresh ones. */
	mallopt(M_MMAP_THRESHOLD, 1 << 30);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	while ((ch = getopt_long(argc, argv, "hvo:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout, 0);
			break;
		case 'v': verbose = 1; break;
		case O_PRESET: c.preset = cli_choice("--preset", optarg, preset_names); break;
		case O_EPOCHS:
			c.epochs = cli_long("--epochs", optarg, 0, 100000), set.epochs = 1;
			break;
		case O_PS: ps_opt(&c, optarg); break;
		case O_KD: c.kd = cli_double("--kd", optarg, 0, 100); break;
		case O_RANDOM:
			c.random = cli_long("--random", optarg, 0, 16), set.random = 1;
			break;
		case O_WIDTH: c.width = cli_double("--width", optarg, 0.1, 4); break;
		case O_RES: c.res = cli_long("--resolution", optarg, 16, 1024); break;
		case O_INCH: c.in_ch = cli_long("--in-ch", optarg, 1, DATA_MAX_CH); break;
		case O_RESUME: c.resume = 1; break;
		case O_EXTRACT: c.extract = optarg; break;
		case O_EVAL: c.eval = 1; break;
		case O_NOEXITS: c.noexits = 1; break;
		case 'o': c.out = optarg; break;
		default:
			if (!train_opt(&c.train, ch, optarg))
				usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (verbose)
		cpu_blas_note();
#define PRESET(f) if (!set.f) c.f = presets[c.preset].f
#define TRAIN_PRESET(f, o) if (!TRAIN_GIVEN(&c.train, o)) c.train.f = presets[c.preset].train.f
	PRESET(epochs); PRESET(random);
	TRAIN_PRESET(batch, TRAIN_O_BATCH); TRAIN_PRESET(lr, TRAIN_O_LR);
	TRAIN_PRESET(warmup, TRAIN_O_WARMUP); TRAIN_PRESET(subset, TRAIN_O_SUBSET);
	TRAIN_PRESET(calib, TRAIN_O_CALIB); TRAIN_PRESET(clip, TRAIN_O_CLIP);
#undef TRAIN_PRESET
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
		if (TRAIN_GIVEN(&c.train,
		    TRAIN_O_WARMUP) && c.train.warmup > c.epochs && !c.resume)
			errx(EX_USAGE, "--warmup: %g epochs is more than --epochs %d",
			    c.train.warmup,
			    c.epochs);
		if (c.train.warmup > c.epochs)
			c.train.warmup = c.epochs;       /* the preset's, for a short run */
		if (c.resume && access(c.out, R_OK) != 0)
			err(EX_NOINPUT, "--resume: %s", c.out);
	} else {
		if (c.resume)
			errx(EX_USAGE, "--resume goes with training, not --extract");
		if (c.noexits)
			errx(EX_USAGE, "--no-exits goes with training, not --extract");
		if (access(c.extract, R_OK) != 0)
			err(EX_NOINPUT, "%s", c.extract);
	}
	nn_threads(c.train.threads);
	if (c.extract)
		extract(&c, argc, argv);
	else
		train(&c);
	cli_finish();
	return 0;
}
