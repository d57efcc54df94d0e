/*
 * thresh-tune - pick the exit thresholds of each EENN on its validation
 * exit outputs and report the test figures (nachos-method(7) §5): reads result records,
 * loads the exit-outputs file each names in "exo", and writes the same
 * records with the thresholds, the rule and the metrics added.
 */
#include <err.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "cli.h"
#include "hw.h"
#include "exo.h"
#include "lat.h"
#include "nachos.h"
#include "thr.h"

static const char usage_str[] =
    "usage: thresh-tune [-h] [--rule rule] [--method method] [--grid list]\n"
    "       [--acc-min acc] [--macs-max macs] [--target-macs macs] [--lambda l]\n"
    "       [--fixed list] [--heatmap i,j] [--flash-max bytes] [--sram-max bytes]\n"
    "       [--target name] [--mem-dtype int8|f32] [--cost macs|latency]\n"
    "       [--latency table] [--lat-max ms] [file ...]\n";

enum method { M_NACHOS, M_AEBNAS, M_FIXED, M_BEST };
static const char *const method_names[] = { "nachos", "aebnas", "fixed", "best", NULL };

struct opts {
	enum thr_rule rule;
	enum method method;
	double grid[THR_MAX_GRID];
	int ngrid;
	double acc_min, macs_max, target, lambda;   /* NAN: not given */
	double fixed[EXO_MAX_EXITS];
	int nfixed;
	int hi, hj;                                  /* heatmap exits, 0: none */
	struct hw_limits lim;                        /* memory limits (hw.h) */
	struct lat_cost cost;                        /* MACs or latency (lat.h) */
};

static void
usage(FILE *fp, int status)
{
	fputs(usage_str, fp);
	exit(status);
}

/* The result record and its exit outputs must describe the same EENN. */
static void
check_match(const struct rec_in *r, const msgpack_object *m, const char *path,
    const struct exo *e)
{
	static const char *const mkeys[] = { "exit_spent", "exit_cost" };
	const msgpack_object *g = rec_arr(r, m, "genome", -1);
	int gen[EXO_MAX_GENOME], i, k;
	enum arch_space sp;
	char s[512];

	if ((int)g->via.array.size != e->ngenome)
		rec_fail(r, "genome", "has %u genes, %s has %d: outputs of another EENN",
		    g->via.array.size, path, e->ngenome);
	rec_ints(r, m, "genome", gen, e->ngenome, -1000000, 1000000);
	/* the threshold genes thresh-tune itself may have changed */
	sp = rec_get(m, "space") ? rec_choice(r, m, "space", arch_space_names) : ARCH_NACHOS;
	if (arch_genome_len(sp) == e->ngenome)
		i = arch_genome_mismatch(sp, e->genome, gen);
	else
		for (i = 0; i < e->ngenome && gen[i] == e->genome[i]; i++)
			;
	if (i >= 0 && i < e->ngenome)
		rec_fail(r, "genome", "gene %d is %d, %s has %d: outputs of another EENN",
		    i, gen[i], path, e->genome[i]);
	if (rec_get(m, "classes") &&
	    rec_int(r, m, "classes", 2, 1L << 30) != e->classes)
		rec_fail(r, "classes", "differs from %s (%d)", path, e->classes);
	for (k = 0; k < 2; k++)
		if (rec_get(m, mkeys[k])) {
			double v[EXO_MAX_EXITS];
			const long *x = k ? e->cost : e->spent;

			rec_arr(r, m, mkeys[k], e->nexit);
			rec_dbls(r, m, mkeys[k], v, e->nexit, 0, 1e15);
			for (i = 0; i < e->nexit; i++)
				if (v[i] != (double)x[i])
					rec_fail(r, mkeys[k], "exit %d: %.0f, %s has %ld", i + 1,
					    v[i], path, x[i]);
		}
	if (rec_get(m, "exit_stages")) {
		int st[EXO_MAX_EXITS];

		rec_arr(r, m, "exit_stages", e->nexit);
		rec_ints(r, m, "exit_stages", st, e->nexit, 0, 64);
		for (i = 0; i < e->nexit; i++)
			if (st[i] != e->stage[i])
				rec_fail(r, "exit_stages", "exit %d: %d, %s has %d", i + 1,
				    st[i], path, e->stage[i]);
	}
	if (e->id[0] && rec_get(m, "id")) {
		rec_str(r, m, "id", s, sizeof(s));
		if (strcmp(s, e->id) != 0)
			rec_fail(r, "id", "\"%s\", %s has \"%s\"", s, path, e->id);
	}
	if (e->weights[0] && rec_get(m, "weights")) {
		rec_str(r, m, "weights", s, sizeof(s));
		if (strcmp(s, e->weights) != 0)
			rec_fail(r, "weights", "\"%s\", %s has \"%s\"", s, path, e->weights);
	}
}

/* Fixed thresholds: --fixed, or the record's threshold genes (exit_th,
 * one per exit point, found by each exit's stage). */
static void
fixed_eps(double *eps, const struct opts *op, const struct rec_in *r,
    const msgpack_object *m, const struct exo *e)
{
	double th[ARCH_EXITS];
	int i;

	if (op->nfixed) {
		if (op->nfixed != e->nexit - 1)
			rec_fail(r, "exo", "--fixed has %d thresholds, the EENN has %d "
			    "intermediate exits", op->nfixed, e->nexit - 1);
		memcpy(eps, op->fixed, op->nfixed * sizeof(double));
		return;
	}
	if (!rec_get(m, "exit_th"))
		rec_fail(r, "exit_th", "missing (--method fixed needs it or --fixed)");
	rec_dbls(r, m, "exit_th", th, ARCH_EXITS, 0, 1);
	for (i = 0; i < e->nexit - 1; i++) {
		if (e->stage[i] < 1 || e->stage[i] > ARCH_EXITS)
			rec_fail(r, "exit_stages", "exit %d follows stage %d, which has no "
			    "threshold gene", i + 1, e->stage[i]);
		eps[i] = th[e->stage[i] - 1];
	}
}

static void
put_dbls_nan(struct rec_out *o, const char *key, const double *v, int n)
{
	int i;

	rec_key(o, key);
	msgpack_pack_array(&o->pk, n);
	for (i = 0; i < n; i++)
		if (isnan(v[i]))
			msgpack_pack_nil(&o->pk);
		else
			msgpack_pack_double(&o->pk, v[i]);
}

static void
pack_dbls(msgpack_packer *pk, const double *v, int n)
{
	int i;

	msgpack_pack_array(pk, n);
	for (i = 0; i < n; i++)
		msgpack_pack_double(pk, v[i]);
}

static void
pack_kv_dbl(msgpack_packer *pk, const char *key, double v)
{
	rec_pack_str(pk, key);
	msgpack_pack_double(pk, v);
}

/* The Pareto set over the validation grid, each point with its test figures. */
static void
put_pareto(struct rec_out *o, const struct thr_grid *tv, const long *cv, const int64_t *sv,
    const long *ct, const int64_t *st, long ntest, int lat)
{
	/* latency runs in the grid as integer nanoseconds (see tune) */
	double unit = lat ? 1e-6 : 1;
	long *pts = malloc(tv->ncomb * sizeof(long)), np, p;

	if (pts == NULL)
		err(EX_SOFTWARE, "malloc");
	np = thr_pareto(tv, cv, sv, pts);
	rec_key(o, "pareto_grid");
	msgpack_pack_array(&o->pk, np);
	for (p = 0; p < np; p++) {
		long c = pts[p];
		int idx[EXO_MAX_EXITS], i;
		double eps[EXO_MAX_EXITS];

		thr_grid_idx(tv, c, idx);
		for (i = 0; i < tv->nint; i++)
			eps[i] = tv->grid[idx[i]];
		msgpack_pack_map(&o->pk, 5);
		rec_pack_str(&o->pk, "thresholds");
		pack_dbls(&o->pk, eps, tv->nint);
		pack_kv_dbl(&o->pk, "top1_ee_val", (double)cv[c] / tv->n);
		pack_kv_dbl(&o->pk, lat ? "avg_latency_val" : "avg_macs_val",
		    unit * sv[c] / tv->n);
		pack_kv_dbl(&o->pk, "top1_ee_test", (double)ct[c] / ntest);
		pack_kv_dbl(&o->pk, lat ? "avg_latency" : "avg_macs", unit * st[c] / ntest);
	}
	free(pts);
}

/* Utilisation of every exit over the grid of exits hi and hj (others at
 * eps), on the test split. */
static void
put_heatmap(struct rec_out *o, const struct opts *op, const struct thr_grid *t,
    const struct exo *test, const double *eps)
{
	static const char *const keys[] = { "utilization", "top1", "avg_macs" };
	struct thr_metrics *m = malloc((size_t)t->g * t->g * sizeof(*m));
	double e2[EXO_MAX_EXITS];
	int a, b, q;

	if (m == NULL)
		err(EX_SOFTWARE, "malloc");
	for (a = 0; a < t->g; a++)
		for (b = 0; b < t->g; b++) {
			memcpy(e2, eps, sizeof(e2));
			e2[op->hi - 1] = t->grid[a];
			e2[op->hj - 1] = t->grid[b];
			thr_eval(&m[a * t->g + b], test, op->rule, e2);
		}
	rec_key(o, "heatmap");
	msgpack_pack_map(&o->pk, 6);
	rec_pack_str(&o->pk, "exits");
	msgpack_pack_array(&o->pk, 2);
	msgpack_pack_int(&o->pk, op->hi);
	msgpack_pack_int(&o->pk, op->hj);
	rec_pack_str(&o->pk, "split");
	rec_pack_str(&o->pk, "test");
	rec_pack_str(&o->pk, "grid");
	pack_dbls(&o->pk, t->grid, t->g);
	for (q = 0; q < 3; q++) {
		rec_pack_str(&o->pk, keys[q]);
		msgpack_pack_array(&o->pk, t->g);
		for (a = 0; a < t->g; a++) {
			msgpack_pack_array(&o->pk, t->g);
			for (b = 0; b < t->g; b++) {
				const struct thr_metrics *x = &m[a * t->g + b];

				if (q == 0)
					pack_dbls(&o->pk, x->util, test->nexit);
				else
					msgpack_pack_double(&o->pk, q == 1 ? x->top1 : x->avg_spent);
			}
		}
	}
	free(m);
}

static double
opt_or_key(double opt, const struct rec_in *r, const msgpack_object *m, const char *key,
    double def)
{
	return !isnan(opt) ? opt : rec_dbl_or(r, m, key, def);
}

/* One record: tune, evaluate, write. Returns the seconds spent on the grid. */
static double
tune(struct rec_out *o, const struct opts *op, const struct rec_in *r, const msgpack_object *m,
    long *combos, long *samples)
{
	struct exo val, test;
	struct thr_grid tv, tt;
	struct thr_metrics mv, mt;
	char path[4096], type[64];
	double eps[EXO_MAX_EXITS], acc_min, macs_max, t0, secs, mem_cv, lat[EXO_MAX_EXITS];
	struct thr_metrics lv, lt;
	long *cv, *ct, c = 0, macs_v[EXO_MAX_EXITS], macs_t[EXO_MAX_EXITS];
	long cost_v[EXO_MAX_EXITS], cost_t[EXO_MAX_EXITS], before;
	double head[EXO_MAX_EXITS];
	int64_t *sv, *st;
	int feasible = 0, i, B, islat = op->cost.kind == LAT_COST_LATENCY;

	if (rec_get(m, "exo") == NULL)
		rec_fail(r, "exo", "missing (the path of the EENN's exit-outputs file)");
	rec_str(r, m, "exo", path, sizeof(path));
	exo_load(&val, &test, path);
	check_match(r, m, path, &val);
	B = val.nexit;
	acc_min = opt_or_key(op->acc_min, r, m, "acc_min", 0);
	macs_max = opt_or_key(op->macs_max, r, m, "macs_max", INFINITY);
	if (islat) {
		struct arch a;
		struct arch_net net;

		/* The grid sums integers exactly: the per-exit latency goes in as
		 * nanoseconds (rounding far below any measurement's noise), the
		 * constraint with it. */
		arch_read(&a, r, m);
		arch_net_build(&net, &a);
		if (net.nexit != B)
			rec_fail(r, "exit_stages", "%d exits, %s has %d", net.nexit, path, B);
		lat_exits(lat, &op->cost.t, op->cost.path, r, &net);
		macs_max = 1e6 * opt_or_key(op->cost.max, r, m, "lat_max", INFINITY);
		memcpy(macs_v, val.spent, sizeof(macs_v));
		memcpy(macs_t, test.spent, sizeof(macs_t));
		memcpy(cost_v, val.cost, sizeof(cost_v));
		memcpy(cost_t, test.cost, sizeof(cost_t));
		/* cost as for MACs (exo.h): leaving at i, without earlier heads */
		lat_heads(head, &op->cost.t, op->cost.path, r, &net);
		for (i = 0, before = 0; i < B; i++) {
			val.spent[i] = test.spent[i] = llround(lat[i] * 1e6);
			val.cost[i] = test.cost[i] = val.spent[i] - before;
			before += llround(head[i] * 1e6);
		}
	}
	if (op->hi && (op->hi > B - 1 || op->hj > B - 1))
		rec_fail(r, "exo", "--heatmap %d,%d: the EENN has %d intermediate exits",
		    op->hi, op->hj, B - 1);

	t0 = cli_now();
	if (thr_grid_build(&tv, &val, op->rule, op->grid, op->ngrid) < 0)
		rec_fail(r, "exo", "a grid of %d values over %d intermediate exits is too "
		    "large; use a smaller --grid", op->ngrid, B - 1);
	cv = malloc(tv.ncomb * sizeof(long));
	sv = malloc(tv.ncomb * sizeof(int64_t));
	if (!cv || !sv)
		err(EX_SOFTWARE, "malloc");
	thr_grid_all(&tv, cv, sv);
	switch (op->method) {
	case M_NACHOS:
		c = thr_pick_nachos(&tv, cv, sv, acc_min, macs_max, &feasible);
		break;
	case M_BEST:
		c = thr_pick_best(&tv, cv, sv, acc_min, macs_max, &feasible);
		break;
	case M_AEBNAS: {
		double target = opt_or_key(op->target, r, m, "target_macs", NAN);

		if (isnan(target))
			rec_fail(r, "target_macs", "missing (--method aebnas needs it or "
			    "--target-macs)");
		if (!(target > 0))
			rec_fail(r, "target_macs", "%g is not positive", target);
		c = thr_pick_aebnas(&tv, cv, sv, acc_min, macs_max, target, op->lambda, &feasible);
		break;
	}
	case M_FIXED:
		break;
	}
	secs = cli_now() - t0;
	*combos = tv.ncomb;
	*samples = val.n;
	if (op->method == M_FIXED) {
		fixed_eps(eps, op, r, m, &val);
	} else {
		int idx[EXO_MAX_EXITS];

		thr_grid_idx(&tv, c, idx);
		for (i = 0; i < B - 1; i++)
			eps[i] = tv.grid[idx[i]];
	}
	thr_eval(&mv, &val, op->rule, eps);
	thr_eval(&mt, &test, op->rule, eps);
	if (op->method == M_FIXED)
		feasible = mv.top1 >= acc_min && mv.avg_spent <= macs_max;
	if (islat) {
		/* the latency figures, then the MACs ones as without --cost */
		lv = mv, lt = mt;
		memcpy(val.spent, macs_v, sizeof(macs_v));
		memcpy(val.cost, cost_v, sizeof(cost_v));
		thr_eval(&mv, &val, op->rule, eps);
	}
	/* no threshold makes a network fit the board: the arch alone decides */
	mem_cv = hw_record_violation(r, m, &op->lim);
	feasible = feasible && mem_cv <= 0;

	/* the test figures of the Pareto points come from the same grid */
	thr_grid_build(&tt, &test, op->rule, op->grid, op->ngrid);
	ct = malloc(tt.ncomb * sizeof(long));
	st = malloc(tt.ncomb * sizeof(int64_t));
	if (!ct || !st)
		err(EX_SOFTWARE, "malloc");
	thr_grid_all(&tt, ct, st);
	if (islat) {
		memcpy(test.spent, macs_t, sizeof(macs_t));
		memcpy(test.cost, cost_t, sizeof(cost_t));
		thr_eval(&mt, &test, op->rule, eps);
	}

	/* the record keeps its own type and version */
	snprintf(type, sizeof(type), "%.*s", (int)rec_get(m, "type")->via.str.size,
	    rec_get(m, "type")->via.str.ptr);
	rec_out_begin(o, m, type, (long)rec_get(m, "v")->via.u64);
	rec_put_dbls(o, "thresholds", eps, B - 1);
	rec_put_str(o, "rule", thr_rule_names[op->rule]);
	rec_put_str(o, "tune_method", method_names[op->method]);
	rec_put_bool(o, "feasible", feasible);
	if (hw_limited(&op->lim))
		rec_put_dbl(o, "mem_violation", mem_cv);
	lat_cost_put(o, &op->cost, lat, B);
	if (islat) {
		rec_put_dbl(o, "avg_latency_val", lv.avg_spent * 1e-6);
		rec_put_dbl(o, "avg_latency", lt.avg_spent * 1e-6);
	}
	rec_put_dbl(o, "top1_ee_val", mv.top1);
	rec_put_dbl(o, "avg_macs_val", mv.avg_spent);
	rec_put_dbl(o, "top1_ee_test", mt.top1);
	rec_put_dbl(o, "top1_backbone_test", mt.acc_all[B - 1]);
	rec_put_dbl(o, "avg_macs", mt.avg_spent);
	rec_put_dbl(o, "avg_macs_paper", mt.avg_cost);
	rec_put_dbls(o, "utilization", mt.util, B);
	put_dbls_nan(o, "exit_acc", mt.acc_leave, B);
	rec_put_dbls(o, "exit_acc_all", mt.acc_all, B);
	rec_put_longs(o, "exit_spent", test.spent, B);
	rec_put_longs(o, "exit_spent_run", mt.spent, B);
	rec_put_longs(o, "exit_cost", test.cost, B);
	rec_put_dbls(o, "ece", mt.ece, B);
	put_pareto(o, &tv, cv, sv, ct, st, test.n, islat);
	if (op->hi)
		put_heatmap(o, op, &tv, &test, eps);
	rec_out_end(o, stdout);

	free(cv);
	free(sv);
	free(ct);
	free(st);
	thr_grid_free(&tv);
	thr_grid_free(&tt);
	exo_free(&val);
	exo_free(&test);
	return secs;
}

static void
parse_heatmap(struct opts *op, const char *s)
{
	char extra;

	if (sscanf(s, "%d,%d%c", &op->hi, &op->hj, &extra) != 2 || op->hi < 1 ||
	    op->hj < 1 || op->hi == op->hj)
		errx(EX_USAGE, "--heatmap: \"%s\" is not two different exits i,j (from 1)", s);
}

int
main(int argc, char **argv)
{
	enum { O_RULE = 256, O_METHOD, O_GRID, O_ACC, O_MACS, O_TARGET, O_LAMBDA, O_FIXED,
	    O_HEAT };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "rule", required_argument, NULL, O_RULE },
		{ "method", required_argument, NULL, O_METHOD },
		{ "grid", required_argument, NULL, O_GRID },
		{ "acc-min", required_argument, NULL, O_ACC },
		{ "macs-max", required_argument, NULL, O_MACS },
		{ "target-macs", required_argument, NULL, O_TARGET },
		{ "lambda", required_argument, NULL, O_LAMBDA },
		{ "fixed", required_argument, NULL, O_FIXED },
		{ "heatmap", required_argument, NULL, O_HEAT },
		HW_LONGOPTS,
		LAT_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct opts op = { .rule = THR_CUMULATIVE, .method = M_NACHOS, .ngrid = 9,
	    .acc_min = NAN, .macs_max = NAN, .target = NAN, .lambda = 0.1 };
	struct cli_progress p;
	struct rec_out o;
	struct rec_files in;
	const msgpack_object *m;
	double secs = 0;
	long nrec = 0, combos = 0, samples = 0;
	int c, method_set = 0;

	hw_limits_init(&op.lim);
	lat_cost_init(&op.cost);
	for (c = 0; c < 9; c++)
		op.grid[c] = (c + 1) / 10.0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, 0);
			break;
		case O_RULE:
			op.rule = cli_choice("--rule", optarg, thr_rule_names);
			break;
		case O_METHOD:
			op.method = cli_choice("--method", optarg, method_names);
			method_set = 1;
			break;
		case O_GRID:
			op.ngrid = cli_doubles("--grid", optarg, op.grid, THR_MAX_GRID, 0, 1);
			break;
		case O_ACC:
			op.acc_min = cli_double("--acc-min", optarg, 0, 1);
			break;
		case O_MACS:
			op.macs_max = cli_double("--macs-max", optarg, 1e-9, 1e15);
			break;
		case O_TARGET:
			op.target = cli_double("--target-macs", optarg, 1e-9, 1e15);
			break;
		case O_LAMBDA:
			op.lambda = cli_double("--lambda", optarg, 0, 1e6);
			break;
		case O_FIXED:
			op.nfixed = cli_doubles("--fixed", optarg, op.fixed, EXO_MAX_EXITS - 1, 0, 1);
			break;
		case O_HEAT:
			parse_heatmap(&op, optarg);
			break;
		default:
			if (!hw_option(&op.lim, c, optarg) && !lat_cost_option(&op.cost, c, optarg))
				usage(stderr, EX_USAGE);
		}
	}
	lat_cost_finish(&op.cost, "--macs-max", !isnan(op.macs_max), 1);
	if (op.cost.kind == LAT_COST_LATENCY && op.method == M_AEBNAS)
		errx(EX_USAGE, "--method aebnas: its goal is MACs (--target-macs), not "
		    "--cost latency");
	if (op.nfixed && method_set && op.method != M_FIXED)
		errx(EX_USAGE, "--fixed goes with --method fixed, not %s", method_names[op.method]);
	if (op.nfixed)
		op.method = M_FIXED;
	argc -= optind;
	argv += optind;
	cli_stdout_buffer(1 << 16);
	rec_out_init(&o);
	cli_progress_start(&p, "records", 0);
	rec_files_init(&in, argc, argv);
	while ((m = rec_files_next(&in)) != NULL) {
		secs += tune(&o, &op, &in.r, m, &combos, &samples);
		cli_progress(&p, ++nrec, NULL);
	}
	{
		char extra[160];

		snprintf(extra, sizeof(extra), "grid: %.4f s (last: %ld combinations x %ld "
		    "samples)", secs, combos, samples);
		cli_progress_end(&p, extra);
	}
	rec_out_free(&o);
	lat_cost_free(&op.cost);
	cli_finish();
	return 0;
}
