/*
 * eenn-train - train the EENN (or plain network) of each eenn or arch
 * record on a dataset (nachos-method(7) §4, Algorithm 2) and write a result record: the
 * input record plus accuracies, loss curves, wall and CPU time, the
 * weights' path and the exit-outputs file (lib/exo.h) that thresh-tune
 * tunes thresholds on. --bench times training and inference on synthetic
 * data instead (examples/bench).
 *
 * The training itself (phases, losses, evaluation, exit outputs) is
 * lib/eenn_train.c; this file reads options and records and writes results.
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
#include "cpu.h"
#include "data.h"
#include "eenn_train.h"
#include "model.h"
#include "nachos.h"
#include "nn.h"
#include "opt.h"
#include "super.h"
#include "train.h"

static const char usage_str[] =
    "usage: eenn-train [-hv] [--data dir] [--skip-bad] [--method nachos|joint|backbone]\n"
    "                  [--mu1 n] [--mu2 n] [--mu3 n] [--epochs n] [--w1 x] [--w2 x] [--w3 x]\n"
    "                  [--no-cost] [--no-peak] [--macs-max macs] [--acc-min acc]\n"
    "                  [--cost macs|latency] [--latency table] [--lat-max ms]\n"
    "                  [--support-frac x] [--freeze-backbone] [--supernet file]\n"
    "                  [--eval finetune|shared] [--cache n] [--calib n] [--init ckpt]\n"
    "                  [--batch n] [--lr x] [--wd x] [--momentum x] [--nesterov]\n"
    "                  [--schedule const|cosine|step]\n"
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

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* The record's network must suit the dataset, the supernet and the method. */
static void
check_record(const struct eenn_cfg *c, const struct train_ds *ds, const struct super *sn,
    const struct rec_in *r, const msgpack_object *m, const struct arch_net *net)
{
	char why[4200];
	const char *key;

	if ((key = train_fits(why, sizeof(why), ds, c->train.data, net->in_ch, net->classes)))
		rec_fail(r, key, "%s", why);
	if (sn && (key = super_check(sn, &net->a, why, sizeof(why))))
		rec_fail(r, key, "%s", why);
	if (c->shared && net->a.space == ARCH_AEBNAS && c->mu[1] + c->mu[2] == 0)
		rec_fail(r, "space", "--eval shared: the supernet has no AEBNAS branches; "
		    "train them with --mu2/--mu3 epochs");
	if (c->method != EENN_BACKBONE)
		eenn_check_record(r, m, net, c->method);
}

/* The result record's settings: what was trained how. */
static void
put_settings(struct rec_out *o, const struct eenn_cfg *c, const struct train_ds *ds,
    int total, int calib, long cached)
{
	double w[3];

	w[0] = c->w[0], w[1] = c->nocost ? 0 : c->w[1], w[2] = c->nopeak ? 0 : c->w[2];
	rec_put_str(o, "method", eenn_method_names[c->method]);
	rec_put_str(o, "data", c->train.data);
	rec_put_int(o, "n_train", ds->ntr);
	rec_put_int(o, "n_val", ds->nva);
	rec_put_int(o, "n_test", ds->nte);
	rec_put_dbl(o, "val_frac", c->train.val_frac);
	rec_put_int(o, "subset", c->train.subset);
	rec_put_int(o, "split_seed", c->train.split_seed);
	train_put_norm(o, ds);
	rec_put_int(o, "epochs", total);
	rec_put_ints(o, "mu", c->mu, 3);
	if (c->method == EENN_NACHOS)
		rec_put_dbls(o, "omega", w, 3);
	if (c->method == EENN_NACHOS && !c->nopeak)
		rec_put_dbl(o, "support_frac", c->support_frac);
	if (!isnan(c->macs_max))
		rec_put_dbl(o, "macs_max", c->macs_max);
	if (!isnan(c->acc_min))
		rec_put_dbl(o, "acc_min", c->acc_min);
	rec_put_bool(o, "freeze_backbone", c->freeze);
	if (c->shared) {
		rec_put_str(o, "eval", "shared");
		rec_put_int(o, "cached", cached);
	}
	if (c->supernet) {
		rec_put_str(o, "supernet", c->supernet);
		rec_put_int(o, "calib", calib);
	}
	if (c->init)
		rec_put_str(o, "init", c->init);
	rec_put_int(o, "batch", c->train.batch);
	rec_put_dbl(o, "lr", c->train.lr);
	rec_put_dbl(o, "wd", c->train.wd);
	rec_put_dbl(o, "momentum", c->train.momentum);
	rec_put_bool(o, "nesterov", c->nesterov);
	rec_put_str(o, "schedule", opt_sched_names[c->sched]);
	rec_put_int(o, "train_seed", c->train.seed);
	rec_put_int(o, "threads", c->train.threads);
	rec_put_str(o, "blas_core", cpu_blas_core());
}

static void
train_record(const struct eenn_cfg *c, struct train_ds *ds, const struct super *sn,
    const struct rec_in *r, const msgpack_object *m, const struct arch_net *net,
    long recno, struct rec_out *o)
{
	struct eenn_phase ph[4];
	struct eenn_phase_stats st[4];
	struct eenn_trainer t;
	double t0 = cli_now(), c0 = cpu_seconds(), tl, vacc[MODEL_MAX_EXITS];
	double tacc[MODEL_MAX_EXITS], emacs = NAN, exit_ms[MODEL_MAX_EXITS];
	int np = eenn_plan(ph, c), i, total = 0, calib, lat = c->cost.kind == LAT_COST_LATENCY;
	char *wpath = NULL, *epath = NULL;
	long cached = 0;

	check_record(c, ds, sn, r, m, net);
	for (i = 0; i < np; i++)
		total += ph[i].epochs;
	if (c->out)
		wpath = train_weights_path("-o", c->out, recno);
	if (c->method != EENN_BACKBONE && (c->exo || wpath)) {
		if (c->exo)
			epath = train_weights_path("--exo", c->exo, recno);
		else if (asprintf(&epath, "%s.exo", wpath) < 0)
			err(EX_SOFTWARE, "asprintf");
	}
	eenn_trainer_init(&t, c, ds, net, c->method == EENN_BACKBONE ? MODEL_BACKBONE_ONLY : 0,
	    total);
	if (c->shared && net->a.space != ARCH_AEBNAS && !super_heads_fit(sn, &t.m))
		rec_fail(r, "resolution", "%d: --eval shared needs the supernet's exit heads, "
		    "trained at resolution %d", net->res, sn->a.resolution);
	if (lat) {
		/* spent_i in ms: L_cost and the expected cost weigh latency */
		lat_exits(exit_ms, &c->cost.t, c->cost.path, r, net);
		for (i = 0; i < t.B; i++)
			t.spent[i] = exit_ms[t.m.exit_at[i]];
	}
	calib = eenn_init_weights(&t, sn);
	if (c->shared)
		cached = eenn_train_cached(&t, ph, st, np, recno);
	else
		eenn_train_phases(&t, ph, st, np, recno);
	/* Figures of the weights kept: final-exit loss and every exit's
	 * accuracy on the test split; on the validation split every exit's
	 * accuracy and the expected MACs (its loss is not reported). Shared
	 * evaluation takes the accuracies from the exit outputs instead of
	 * running both splits twice, and reports no test loss. */
	if (wpath)
		ckpt_save(wpath, &t.m, m, t.steps);
	tl = NAN;
	if (c->shared && epath) {
		struct eenn_exo_figs fig;

		eenn_write_exo(&t, epath, r, m, wpath, &fig);
		memcpy(vacc, fig.vacc, sizeof(vacc));
		memcpy(tacc, fig.tacc, sizeof(tacc));
		emacs = fig.emacs;
	} else {
		tl = eenn_evaluate(&t, EENN_PH_BACKBONE, &ds->te, ds->ite, ds->nte, tacc, NULL);
		if (ds->nva)
			eenn_evaluate(&t, c->method == EENN_NACHOS ? EENN_PH_EENN :
			    EENN_PH_BACKBONE, &ds->tr, ds->iva, ds->nva, vacc,
			    c->method == EENN_NACHOS ? &emacs : NULL);
		if (epath)
			eenn_write_exo(&t, epath, r, m, wpath, NULL);
	}

	rec_out_begin(o, m, "result", 1);
	put_settings(o, c, ds, total, calib, cached);
	lat_cost_put(o, &c->cost, exit_ms, net->nexit);
	if (total) {
		rec_put_dbl(o, "acc_train", t.c_acc[total - 1]);
		rec_put_dbl(o, "loss_train", t.c_loss[total - 1]);
	}
	if (ds->nva) {
		rec_put_dbl(o, "acc_val", vacc[t.B - 1]);
		if (t.B > 1)
			rec_put_dbls(o, "acc_val_exits", vacc, t.B);
	}
	rec_put_dbl(o, "acc_test", tacc[t.B - 1]);
	if (t.B > 1)
		rec_put_dbls(o, "acc_test_exits", tacc, t.B);
	if (isfinite(tl))
		rec_put_dbl(o, "loss_test", tl);
	if (isfinite(emacs))
		rec_put_dbl(o, lat ? "exp_latency_val" : "exp_macs_val", emacs);
	eenn_put_phases(o, ph, st, np);
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
	eenn_trainer_free(&t);
}

/* --bench: the timings of eenn_bench in a result record. */
static void
bench_record(const struct eenn_cfg *c, const msgpack_object *m, const struct arch_net *net,
    struct rec_out *o)
{
	struct eenn_bench b;
	struct rusage ru;

	eenn_bench(&b, c, net);
	getrusage(RUSAGE_SELF, &ru);
	rec_out_begin(o, m, "result", 1);
	rec_put_str(o, "method", "bench");
	rec_put_int(o, "batch", c->train.batch);
	rec_put_int(o, "threads", c->train.threads);
	rec_put_str(o, "blas_core", cpu_blas_core());
	rec_put_int(o, "bench_steps", c->bench);
	rec_put_int(o, "macs_backbone", net->macs_backbone);
	rec_put_dbl(o, "train_ips", b.train_ips);
	rec_put_dbl(o, "infer_ips", b.infer_ips);
	rec_put_dbl(o, "latency_ms", b.latency_ms);
	rec_put_dbl(o, "train_gflops", b.train_gflops);
	rec_put_int(o, "rss_kb", ru.ru_maxrss);
	rec_out_end(o, stdout);
	fflush(stdout);
}

/* The dataset for net: loaded at the first record, again only when an
 * image folder must be decoded for another resolution or channel count. */
static void
load_data(struct train_ds *ds, const struct eenn_cfg *c, const struct arch_net *net)
{
	struct data_opts o = { .res = net->res, .in_ch = net->in_ch,
	    .skip_bad = c->train.skip_bad };

	if (ds->tr.x && !train_data_stale(ds, net->res, net->in_ch))
		return;
	if (ds->tr.x)
		train_free_data(ds);
	train_load_data_opts(ds, c->train.data, &o, c->train.subset, c->train.val_frac,
	    (uint64_t)c->train.split_seed);
	train_set_norm(ds, "--mean", c->mean, c->nmean, NULL, 0);
	train_set_norm(ds, "--std", NULL, 0, c->std, c->nstd);
}

static int
parse_opts(struct eenn_cfg *c, int argc, char **argv)
{
	enum { O_EPOCHS = 256, O_NEST, O_SCHED, O_STEP, O_GAMMA, O_CROP, O_NOFLIP, O_MEAN,
	    O_STD, O_METHOD, O_INIT, O_BENCH, O_MU1, O_MU2, O_MU3, O_W1, O_W2, O_W3, O_NOCOST,
	    O_NOPEAK, O_MACS, O_ACC, O_SUPFRAC, O_FREEZE, O_SUPERNET, O_EXO, O_EVAL, O_CACHE };
	static const char *const eval_names[] = { "finetune", "shared", NULL };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		TRAIN_LONGOPTS,
		LAT_LONGOPTS,
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
		{ "eval", required_argument, NULL, O_EVAL },
		{ "cache", required_argument, NULL, O_CACHE },
		{ "init", required_argument, NULL, O_INIT },
		{ "nesterov", no_argument, NULL, O_NEST },
		{ "schedule", required_argument, NULL, O_SCHED },
		{ "step-every", required_argument, NULL, O_STEP },
		{ "gamma", required_argument, NULL, O_GAMMA },
		{ "crop", required_argument, NULL, O_CROP },
		{ "no-flip", no_argument, NULL, O_NOFLIP },
		{ "mean", required_argument, NULL, O_MEAN },
		{ "std", required_argument, NULL, O_STD },
		{ "output", required_argument, NULL, 'o' },
		{ "exo", required_argument, NULL, O_EXO },
		{ "bench", required_argument, NULL, O_BENCH },
		{ NULL, 0, NULL, 0 },
	};
	int ch, k, verbose = 0;

	c->train.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	while ((ch = getopt_long(argc, argv, "hvo:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout, 0);
			break;
		case 'v': verbose = 1; break;
		case O_METHOD: c->method = cli_choice("--method", optarg, eenn_method_names); break;
		case O_EPOCHS:
		case O_MU1: c->mu[0] = cli_long(ch == O_MU1 ? "--mu1" : "--epochs", optarg, 0,
		    100000); break;
		case O_MU2: c->mu[1] = cli_long("--mu2", optarg, 0, 100000); break;
		case O_MU3: c->mu[2] = cli_long("--mu3", optarg, 0, 100000); break;
		case O_W1: c->w[0] = cli_double("--w1", optarg, 0, 1e6); break;
		case O_W2: c->w[1] = cli_double("--w2", optarg, 0, 1e6); break;
		case O_W3: c->w[2] = cli_double("--w3", optarg, 0, 1e6); break;
		case O_NOCOST: c->nocost = 1; break;
		case O_NOPEAK: c->nopeak = 1; break;
		case O_MACS: c->macs_max = cli_double("--macs-max", optarg, 0, 1e15); break;
		case O_ACC: c->acc_min = cli_double("--acc-min", optarg, 0, 1); break;
		case O_SUPFRAC:
			c->support_frac = cli_double("--support-frac", optarg, 1e-6, 1);
			break;
		case O_FREEZE: c->freeze = 1; break;
		case O_SUPERNET: c->supernet = optarg; break;
		case O_EVAL: c->shared = cli_choice("--eval", optarg, eval_names); break;
		case O_CACHE: c->cache = cli_long("--cache", optarg, 1, 1L << 30); break;
		case O_INIT: c->init = optarg; break;
		case O_NEST: c->nesterov = 1; break;
		case O_SCHED: c->sched = cli_choice("--schedule", optarg, opt_sched_names); break;
		case O_STEP: c->step_every = cli_double("--step-every", optarg, 0, 100000); break;
		case O_GAMMA: c->gamma = cli_double("--gamma", optarg, 0, 1); break;
		case O_CROP: c->crop = cli_long("--crop", optarg, 0, 64); break;
		case O_NOFLIP: c->flip = 0; break;
		case O_MEAN:
			c->nmean = cli_doubles("--mean", optarg, c->mean, DATA_MAX_CH, -10, 10);
			break;
		case O_STD:
			c->nstd = cli_doubles("--std", optarg, c->std, DATA_MAX_CH, 1e-6, 10);
			break;
		case 'o': c->out = optarg; break;
		case O_EXO: c->exo = optarg; break;
		case O_BENCH: c->bench = cli_long("--bench", optarg, 1, 1000000); break;
		default:
			if (!train_opt(&c->train, ch, optarg) && !lat_cost_option(&c->cost, ch, optarg))
				usage(stderr, EX_USAGE);
		}
	}
	if (verbose)
		cpu_blas_note();
	/* Each phase has its own schedule: the warm-up must fit every one. */
	for (k = 0; k < 3; k++)
		if (c->mu[k] > 0 && c->train.warmup > c->mu[k])
			errx(EX_USAGE, "--warmup: %g epochs is more than the %d of --mu%d",
			    c->train.warmup, c->mu[k], k + 1);
	lat_cost_finish(&c->cost, "--macs-max", !isnan(c->macs_max), !c->bench);
	if (c->init && c->supernet)
		errx(EX_USAGE, "--init and --supernet: give one");
	if (c->shared && c->supernet == NULL)
		errx(EX_USAGE, "--eval shared: evaluates the EENN of a --supernet (none given)");
	if (c->exo && c->method == EENN_BACKBONE)
		errx(EX_USAGE, "--exo: --method backbone trains a single exit");
	if (c->init && access(c->init, R_OK) != 0)
		err(EX_NOINPUT, "%s", c->init);
	if (c->supernet && access(c->supernet, R_OK) != 0)
		errx(EX_NOINPUT, "--supernet %s: cannot open", c->supernet);
	return optind;
}

int
main(int argc, char **argv)
{
	struct eenn_cfg c = {
		.train = { .data = "/usr/share/datasets/fashion-mnist", .batch = 128, .seed = 1,
		    .split_seed = 1, .lr = 0.05, .wd = 4e-5, .momentum = 0.9, .val_frac = 0.1,
		    .calib = 1000 },
		.mu = { 10, 5, 5 }, .sched = OPT_COSINE, .crop = -1, .flip = 1,
		.method = EENN_AUTO, .gamma = 0.1, .w = { 1, 1, 1 }, .macs_max = NAN,
		.acc_min = NAN, .support_frac = 0.1, .cache = 5000,
		.cost = { .kind = LAT_COST_MACS, .max = NAN },
	};
	struct train_ds ds;
	struct super sn;
	struct rec_out o;
	struct rec_files in;
	const msgpack_object *m;
	long recno = 0;
	int n = parse_opts(&c, argc, argv);

	argc -= n;
	argv += n;
	nn_threads(c.train.threads);
	memset(&ds, 0, sizeof(ds));
	if (c.supernet && !c.bench) {
		super_load(&sn, c.supernet);
		if (c.shared && sn.nh == 0)
			errx(EX_DATAERR, "--eval shared: %s has no exit heads (a supernet older "
			    "than them, or trained with --no-exits): train one with exits or use "
			    "--eval finetune", c.supernet);
	}
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
			struct eenn_cfg rc = c;

			/* Without --method: eenn records get the NACHOS
			 * trainer, arch records the backbone alone. */
			if (rc.method == EENN_AUTO)
				rc.method = rec_is(m, "eenn") ? EENN_NACHOS : EENN_BACKBONE;
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
	lat_cost_free(&c.cost);
	cli_finish();
	return 0;
}
