/*
 * eenn-infer - run a trained EENN on a dataset split with real early exit
 * (nachos-method(7) §5): each sample stops at the first exit whose rule fires and
 * nothing after that exit is computed (model_step_*). Reports accuracy,
 * the exit histogram, the MACs the engine ran, latency and throughput,
 * added to the input record under infer_* keys. --write-exo instead runs
 * every exit on the validation and test splits and writes the exit-outputs
 * file thresh-tune reads.
 */
#define _GNU_SOURCE
#include <err.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "ckpt.h"
#include "cli.h"
#include "cpu.h"
#include "data.h"
#include "exo.h"
#include "infer.h"
#include "model.h"
#include "nachos.h"
#include "nn.h"
#include "result.h"
#include "thr.h"
#include "train.h"

static const char usage_str[] =
    "usage: eenn-infer [-hv] [--split val|test] [--batch n] [--threads n] [--limit n]\n"
    "                  [--weights ckpt] [--init-seed n] [--thresholds list] [--rule rule]\n"
    "                  [--data dir] [--skip-bad] [--val-frac x] [--subset n] [--split-seed n]\n"
    "                  [--mean list] [--std list] [--no-conf] [--exo file]\n"
    "                  [--write-exo file] [file ...]\n";

static const char *const split_names[] = { "val", "test", NULL };

struct opts {
	const char *weights, *exo, *write_exo;
	int split;                    /* 0 val, 1 test */
	int batch, threads;
	int noconf;                   /* --no-conf */
	long limit, init_seed;        /* -1: none */
	struct result_opts ro;        /* data, split, normalisation, rule, thresholds */
};

static void
usage(FILE *fp, int status)
{
	fputs(usage_str, fp);
	exit(status);
}

static void
get_split(struct infer_split *sp, const struct result_data *s, int which)
{
	sp->name = split_names[which];
	sp->d = which ? &s->ds.te : &s->ds.tr;
	sp->idx = which ? s->ds.ite : s->ds.iva;
	sp->n = which ? s->ds.nte : s->ds.nva;
	sp->nm = &s->ds.nm;
}

/* The exit outputs to check against must be of this EENN and split. */
static void
check_exo(const struct rec_in *r, const struct exo *e, const char *path,
    const struct arch_net *net, const struct infer_split *sp)
{
	int g[ARCH_MAX_GENOME], n = arch_genome_len(net->a.space), i;
	long j;

	arch_to_genome(&net->a, g);
	if (e->ngenome != n || memcmp(e->genome, g, n * sizeof(int)) != 0)
		rec_fail(r, "exo", "%s: genome differs from the weights': outputs of another "
		    "EENN", path);
	if (e->nexit != net->nexit || e->classes != net->classes)
		rec_fail(r, "exo", "%s: %d exits and %d classes, the network has %d and %d: "
		    "outputs of another EENN", path, e->nexit, e->classes, net->nexit,
		    net->classes);
	for (i = 0; i < e->nexit; i++)
		if (e->spent[i] != net->ex[i].spent || e->cost[i] != net->ex[i].cost)
			rec_fail(r, "exo", "%s: exit %d MACs differ from the network's: outputs "
			    "of another EENN", path, i + 1);
	if (e->n != sp->n)
		rec_fail(r, "exo", "%s: %ld %s samples, the %s split here has %ld: outputs of "
		    "another split", path, e->n, sp->name, sp->name, sp->n);
	for (j = 0; j < sp->n; j++)
		if (e->label[j] != sp->d->y[sp->idx[j]])
			rec_fail(r, "exo", "%s: sample %ld has label %d, the %s split here %d: "
			    "outputs of another split", path, j, e->label[j], sp->name,
			    sp->d->y[sp->idx[j]]);
}

static void
write_exo(struct rec_out *o, struct model *mdl, const struct result_data *s, int conf,
    const struct rec_in *r, const msgpack_object *m, const char *wpath, long recno,
    const char *tmpl)
{
	struct exo e[2];
	struct infer_split sp;
	char *path = train_weights_path("--write-exo", tmpl, recno);
	char what[64];
	int w;

	if (s->ds.nva == 0)
		rec_fail(r, "val_frac", "--write-exo needs a validation split (the split "
		    "here has none)");
	for (w = 0; w < 2; w++) {
		get_split(&sp, s, w);
		infer_exo_init(&e[w], sp.name, sp.n, mdl);
		if (rec_get(m, "id") && rec_get(m, "id")->type == MSGPACK_OBJECT_STR)
			rec_str(r, m, "id", e[w].id, sizeof(e[w].id));
		if (wpath && strlen(wpath) >= sizeof(e[w].weights))
			rec_fail(r, "weights", "a path of more than %zu bytes does not fit an "
			    "exit-outputs file", sizeof(e[w].weights) - 1);
		if (wpath)
			memcpy(e[w].weights, wpath, strlen(wpath) + 1);
		snprintf(what, sizeof(what), "record %ld exo %s", recno, sp.name);
		infer_all_exits(&e[w], mdl, &sp, conf, what);
	}
	exo_write(path, &e[0], &e[1]);
	rec_put_str(o, "exo", path);
	rec_put_ints(o, "genome", e[0].genome, e[0].ngenome);
	if (wpath)
		rec_put_str(o, "weights", wpath);
	rec_put_str(o, "data", s->dir);
	rec_put_int(o, "n_train", s->ds.ntr);
	rec_put_int(o, "n_val", s->ds.nva);
	rec_put_int(o, "n_test", s->ds.nte);
	rec_put_dbl(o, "val_frac", s->val_frac);
	rec_put_int(o, "subset", s->subset);
	rec_put_int(o, "split_seed", s->split_seed);
	free(path);
	exo_free(&e[0]);
	exo_free(&e[1]);
}

static void
put_infer(struct rec_out *o, const struct opts *op, const struct infer_res *x,
    const struct infer_split *sp, enum thr_rule rule, const double *eps, int B,
    const char *wpath, int checked, double wall)
{
	double util[MODEL_MAX_EXITS];
	int i;

	for (i = 0; i < B; i++)
		util[i] = (double)x->count[i] / x->n;
	rec_put_str(o, "infer_split", sp->name);
	rec_put_int(o, "infer_n", x->n);
	rec_put_int(o, "infer_batch", op->batch);
	rec_put_int(o, "infer_threads", op->threads);
	rec_put_str(o, "infer_blas_core", cpu_blas_core());
	if (wpath)
		rec_put_str(o, "infer_weights", wpath);
	else
		rec_put_int(o, "infer_init_seed", op->init_seed);
	rec_put_str(o, "infer_rule", thr_rule_names[rule]);
	rec_put_dbls(o, "infer_thresholds", eps, B - 1);
	rec_put_dbl(o, "infer_top1", (double)x->correct / x->n);
	rec_put_longs(o, "infer_exit_count", x->count, B);
	rec_put_dbls(o, "infer_utilization", util, B);
	rec_put_dbl(o, "infer_avg_macs", x->macs_run / x->n);
	rec_key(o, "infer_exit_macs");
	msgpack_pack_array(&o->pk, B);
	for (i = 0; i < B; i++)
		if (x->exit_macs[i] < 0)
			msgpack_pack_nil(&o->pk);
		else
			msgpack_pack_int64(&o->pk, x->exit_macs[i]);
	if (op->batch == 1) {
		rec_put_dbl(o, "infer_latency_ms", 1e3 * x->lat_mean);
		rec_put_dbl(o, "infer_latency_p50_ms", 1e3 * x->lat_p50);
		rec_put_dbl(o, "infer_latency_p99_ms", 1e3 * x->lat_p99);
		rec_put_dbl(o, "infer_latency_min_ms", 1e3 * x->lat_min);
	}
	rec_put_dbl(o, "infer_ips", x->n / x->secs);
	if (checked)
		rec_put_int(o, "infer_mismatch", x->mismatch);
	rec_put_dbl(o, "infer_wall", wall);
}

/* One record: r/m is the input record (or the checkpoint's arch when there
 * is none, then own_type is set). */
static void
run_record(struct rec_out *o, const struct opts *op, struct result_data *s,
    const struct rec_in *r, const msgpack_object *m, long recno, int own_type)
{
	struct arch a;
	struct arch_net net;
	struct model mdl;
	struct ckpt ck;
	struct infer_split sp;
	struct exo chk;
	struct infer_res res;
	enum thr_rule rule = THR_CUMULATIVE;
	double eps[EXO_MAX_EXITS], t0 = cli_now();
	char wbuf[4096], ebuf[4096], type[64], what[64];
	const char *wpath = NULL, *epath = NULL;
	long n;
	int conf = !op->noconf && !result_joint(m);

	/* everything is checked before the network runs */
	if (op->init_seed >= 0) {
		arch_read(&a, r, m);
	} else {
		if (op->weights)
			snprintf(wbuf, sizeof(wbuf), "%s", op->weights);
		else if (rec_get(m, "weights"))
			rec_str(r, m, "weights", wbuf, sizeof(wbuf));
		else
			rec_fail(r, "weights", "missing (the checkpoint to run; or give --weights)");
		wpath = wbuf;
		ckpt_open(&ck, wpath);
		ckpt_arch(&ck, &a);
		result_check_arch(r, m, &a, wpath);
	}
	arch_net_build(&net, &a);
	if (!op->write_exo) {
		rule = result_rule(&op->ro, r, m);
		result_eps(eps, &op->ro, r, m, net.nexit - 1);
	}
	result_load_data(s, &op->ro, r, m, &net);
	get_split(&sp, s, op->split);
	if (!op->write_exo && sp.n == 0)
		rec_fail(r, "val_frac", "the %s split here is empty", sp.name);
	n = op->limit > 0 && op->limit < sp.n ? op->limit : sp.n;
	if (!op->write_exo && (op->exo || rec_get(m, "exo"))) {
		if (op->exo)
			snprintf(ebuf, sizeof(ebuf), "%s", op->exo);
		else
			rec_str(r, m, "exo", ebuf, sizeof(ebuf));
		epath = ebuf;
		exo_read(&chk, epath, sp.name);
		check_exo(r, &chk, epath, &net, &sp);
	}

	/* no bigger than the samples of a run: the arena grows with the batch */
	{
		long most = op->write_exo ? (s->ds.nva > s->ds.nte ? s->ds.nva : s->ds.nte) : n;

		model_build(&mdl, &net, 0, op->batch < most ? op->batch : (int)most);
	}
	if (wpath) {
		ckpt_load(&ck, &mdl, 0);
		ckpt_close(&ck);
	} else {
		model_init(&mdl, (uint64_t)op->init_seed);
	}
	if (own_type)
		snprintf(type, sizeof(type), "result");
	else
		snprintf(type, sizeof(type), "%.*s", (int)rec_get(m, "type")->via.str.size,
		    rec_get(m, "type")->via.str.ptr);
	rec_out_begin(o, m, type, own_type ? 1 : (long)rec_get(m, "v")->via.u64);
	if (op->write_exo) {
		write_exo(o, &mdl, s, conf, r, m, wpath, recno, op->write_exo);
	} else {
		snprintf(what, sizeof(what), "record %ld %s", recno, sp.name);
		infer_early_exit(&res, &mdl, &sp, n, conf, rule, eps, epath ? &chk : NULL,
		    what);
		if (res.mismatch)
			warnx("record %ld: %ld of %ld samples left at another exit or with another "
			    "prediction than %s predicts (its outputs were computed at another "
			    "batch size, so their last bits differ?)", recno, res.mismatch, n,
			    epath);
		put_infer(o, op, &res, &sp, rule, eps, net.nexit, wpath, epath != NULL,
		    cli_now() - t0);
	}
	rec_out_end(o, stdout);
	fflush(stdout);
	if (epath)
		exo_free(&chk);
	model_free(&mdl);
}

int
main(int argc, char **argv)
{
	enum { O_SPLIT = 256, O_BATCH, O_THREADS, O_LIMIT, O_WEIGHTS, O_INIT, O_THR, O_RULE,
	    O_NOCONF, O_EXO, O_WEXO, O_SKIPBAD };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "split", required_argument, NULL, O_SPLIT },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "weights", required_argument, NULL, O_WEIGHTS },
		{ "init-seed", required_argument, NULL, O_INIT },
		RESULT_LONGOPTS,
		{ "skip-bad", no_argument, NULL, O_SKIPBAD },
		{ "no-conf", no_argument, NULL, O_NOCONF },
		{ "exo", required_argument, NULL, O_EXO },
		{ "write-exo", required_argument, NULL, O_WEXO },
		{ NULL, 0, NULL, 0 },
	};
	struct opts op = { .split = 1, .batch = 1, .threads = 1, .limit = -1, .init_seed = -1 };
	struct rec_out o;
	struct rec_files in;
	const msgpack_object *m;
	struct result_data s;
	long recno = 0;
	int c, verbose = 0;

	result_opts_init(&op.ro);
	while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout, 0); break;
		case 'v': verbose = 1; break;
		case O_SPLIT: op.split = cli_choice("--split", optarg, split_names); break;
		case O_BATCH: op.batch = cli_long("--batch", optarg, 1, 65536); break;
		case O_THREADS: op.threads = cli_long("--threads", optarg, 1, 1024); break;
		case O_LIMIT: op.limit = cli_long("--limit", optarg, 1, 1L << 40); break;
		case O_WEIGHTS: op.weights = optarg; break;
		case O_INIT: op.init_seed = cli_long("--init-seed", optarg, 0, 1L << 62); break;
		case O_SKIPBAD: op.ro.skip_bad = 1; break;
		case O_NOCONF: op.noconf = 1; break;
		case O_EXO: op.exo = optarg; break;
		case O_WEXO: op.write_exo = optarg; break;
		default:
			if (!result_opt(&op.ro, c, optarg))
				usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (verbose)
		cpu_blas_note();
	if (op.weights && op.init_seed >= 0)
		errx(EX_USAGE, "--weights and --init-seed exclude each other");
	if (op.write_exo && (op.ro.neps || op.ro.rule >= 0 || op.exo || op.limit > 0))
		errx(EX_USAGE, "--write-exo runs every exit: no --thresholds, --rule, --exo "
		    "or --limit");
	if (argc == 0 && op.weights && !op.write_exo && !op.ro.neps)
		errx(EX_USAGE, "--weights without input records needs --thresholds");
	nn_threads(op.threads);
	memset(&s, 0, sizeof(s));
	rec_out_init(&o);
	if (argc == 0 && op.weights) {
		/* no records: the checkpoint's network, a fresh result record */
		struct ckpt ck;

		ckpt_open(&ck, op.weights);
		run_record(&o, &op, &s, &ck.r, ck.arch, 1, 1);
		ckpt_close(&ck);
	}
	if (argc || !op.weights) {
		rec_files_init(&in, argc, argv);
		while ((m = rec_files_next(&in)) != NULL)
			run_record(&o, &op, &s, &in.r, m, ++recno, 0);
	}
	result_data_free(&s);
	rec_out_free(&o);
	cli_finish();
	return 0;
}
