/*
 * run-report - compare search methods over seeds: each run's best
 * trade-off EENN, per method the mean and std over seeds of the paper's
 * tables (II: the network, III: per-exit costs and utilisation, IV: ECE),
 * hypervolume per iteration with one reference for all, the Friedman test
 * over methods per objective (Table VII), as Markdown; gnuplot figures of
 * the fronts, the hypervolume and the confidence histograms (Fig. 5).
 * The numbers come from lib/ (pareto, report, stats); this file reads the
 * runs and formats the tables and figures.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arch.h"
#include "cli.h"
#include "hw.h"
#include "exo.h"
#include "nachos.h"
#include "pareto.h"
#include "plot.h"
#include "rec.h"
#include "report.h"
#include "stats.h"
#include "thr.h"

static const char usage_str[] =
    "usage: run-report [-h] [-o file] [--plots dir] [--acc-min acc] [--macs-max macs]\n"
    "                  [--knee line|tradeoff] [--ref err,macs] [--method-key key]\n"
    "                  [--seed-key key] [--bins n] [--flash-max bytes] [--sram-max bytes]\n"
    "                  [--target name] [--mem-dtype int8|f32] [method=rundir ...]\n";

static void
usage(FILE *fp, int status)
{
	fputs(usage_str, fp);
	exit(status);
}

#define MAXB EXO_MAX_EXITS
#define NAME 64

/* One archive record, as far as the report reads it. */
struct ee {
	char id[128];
	long iter;
	double t_s;                         /* run's wall seconds when archived; NAN: unknown */
	double acc_val, macs_val;           /* the search's objectives */
	double acc, macs, acc_bb, macs_bb;  /* test figures; backbone MACs */
	double exp_macs;                    /* Ĉ on validation; NAN: not a nachos record */
	double lat;                         /* avg latency (test, ms), --cost latency; else NAN */
	int genome[ARCH_MAX_GENOME], ngenome; /* 0 genes: the record has none */
	int nexit;                          /* B, the final exit included */
	double thr[MAXB], util[MAXB], ece[MAXB], spent[MAXB], cost[MAXB];
	int rule;                           /* thr_rule */
	int ok;                             /* not marked feasible false */
	char exo[1024];                     /* "" when the record has none */
	long flash, sram;                   /* bytes at lim's dtype; -1: no arch keys */
	double mem_cv;                      /* violation of lim (hw.h) */
};

/* One search run: a run directory, or the stdin records of one (method,
 * seed). */
struct run {
	int method;
	long seed;
	char src[1024];            /* the run directory or "stdin" */
	double acc_min, macs_max;  /* the constraints in force */
	double lat_max;            /* --cost latency's (ms); -1: none */
	struct ee *e;
	int n, cap;
	int best, adm;             /* best trade-off record; admissible on val */
	double over;               /* fraction of records over the MACs limit (val) */
	struct pareto_hv_row *hv;
	int nhv;
};

struct opts {
	const char *out, *plots, *method_key, *seed_key;
	struct pareto_opts po;      /* acc_min, macs_max < 0: not given */
	int bins;
};

static char methods[32][NAME];
static int nmethods;
static struct run *runs;
static int nruns;
static struct hw_limits lim;    /* memory limits: one board for every run */
static int any_lat;               /* a record with --cost latency figures */

static int
method_id(const char *name)
{
	int i;

	for (i = 0; i < nmethods; i++)
		if (!strcmp(methods[i], name))
			return i;
	if (nmethods == (int)(sizeof(methods) / sizeof(methods[0])))
		errx(EX_USAGE, "more than %d methods", nmethods);
	snprintf(methods[nmethods], NAME, "%s", name);
	return nmethods++;
}

static struct run *
new_run(int method, long seed, const char *src)
{
	struct run *r;

	if (!(runs = realloc(runs, (nruns + 1) * sizeof *runs)))
		err(EX_SOFTWARE, "realloc");
	r = &runs[nruns++];
	memset(r, 0, sizeof *r);
	r->method = method;
	r->seed = seed;
	r->acc_min = -1;
	r->macs_max = -1;
	r->lat_max = -1;
	snprintf(r->src, sizeof(r->src), "%s", src);
	return r;
}

/* Parse record m into run u's next entry; dir (NULL: none) resolves a
 * relative exo path when the file is there. */
static void
parse(struct run *u, const struct rec_in *r, const msgpack_object *m, const char *dir)
{
	const msgpack_object *a;
	struct ee *e;
	char s[1024];
	int i;

	if (u->n == u->cap) {
		u->cap = u->cap ? 2 * u->cap : 64;
		if (!(u->e = realloc(u->e, u->cap * sizeof *u->e)))
			err(EX_SOFTWARE, "realloc");
	}
	e = &u->e[u->n++];
	memset(e, 0, sizeof *e);
	if (rec_get(m, "id"))
		rec_str(r, m, "id", e->id, sizeof(e->id));
	else
		snprintf(e->id, sizeof(e->id), "#%ld", r->n);
	e->iter = rec_get(m, "iter") ? rec_int(r, m, "iter", 0, 1L << 30) : 0;
	e->t_s = rec_get(m, "t_s") ? rec_dbl(r, m, "t_s", 0, 1e9) : NAN;
	e->acc_val = rec_dbl(r, m, "top1_ee_val", 0, 1);
	{
		struct hw_mem mm;

		e->flash = e->sram = -1;
		if (hw_record_mem(&mm, r, m)) {
			e->flash = mm.flash[lim.dtype];
			e->sram = mm.sram[lim.dtype];
			e->mem_cv = hw_violation(&mm, &lim, NULL, 0);
		} else if (hw_limited(&lim)) {
			rec_fail(r, "space", "missing: the memory limits need the record's arch keys");
		}
	}
	e->macs_val = rec_dbl(r, m, "avg_macs_val", 0, INFINITY);
	e->acc = rec_dbl(r, m, "top1_ee_test", 0, 1);
	e->macs = rec_dbl(r, m, "avg_macs", 0, INFINITY);
	e->acc_bb = rec_dbl(r, m, "top1_backbone_test", 0, 1);
	e->exp_macs = rec_dbl_or(r, m, "exp_macs_val", NAN);
	e->lat = rec_dbl_or(r, m, "avg_latency", NAN);
	any_lat |= !isnan(e->lat);
	if ((a = rec_get(m, "feasible")) && a->type != MSGPACK_OBJECT_BOOLEAN)
		rec_fail(r, "feasible", "not a boolean");
	e->ok = !a || a->via.boolean;
	if (rec_get(m, "genome")) {
		a = rec_arr(r, m, "genome", -1);
		if (a->via.array.size > ARCH_MAX_GENOME)
			rec_fail(r, "genome", "%u genes, more than %d", a->via.array.size,
			    ARCH_MAX_GENOME);
		e->ngenome = (int)a->via.array.size;
		rec_ints(r, m, "genome", e->genome, e->ngenome, 0, 1L << 20);
	}
	a = rec_arr(r, m, "exit_spent", -1);
	if (a->via.array.size < 1 || a->via.array.size > MAXB)
		rec_fail(r, "exit_spent", "%u exits, not 1 to %d", a->via.array.size, MAXB);
	e->nexit = (int)a->via.array.size;
	/* what a sample leaving there ran: without the heads of exits that
	 * cannot fire (thr.h), when thresh-tune says */
	if (rec_get(m, "exit_spent_run")) {
		rec_arr(r, m, "exit_spent_run", e->nexit);
		rec_dbls(r, m, "exit_spent_run", e->spent, e->nexit, 0, INFINITY);
	} else
		rec_dbls(r, m, "exit_spent", e->spent, e->nexit, 0, INFINITY);
	rec_dbls(r, m, "exit_cost", e->cost, e->nexit, 0, INFINITY);
	rec_dbls(r, m, "utilization", e->util, e->nexit, 0, 1);
	rec_dbls(r, m, "ece", e->ece, e->nexit, 0, 1);
	rec_dbls(r, m, "thresholds", e->thr, e->nexit - 1, 0, 1);
	for (i = e->nexit - 1; i < MAXB; i++)
		e->thr[i] = NAN;
	e->macs_bb = rec_dbl_or(r, m, "macs_backbone", e->cost[e->nexit - 1]);
	e->rule = THR_CUMULATIVE;
	if (rec_get(m, "rule"))
		e->rule = rec_choice(r, m, "rule", thr_rule_names);
	if (rec_get(m, "exo")) {
		struct stat st;

		rec_str(r, m, "exo", s, sizeof(s));
		snprintf(e->exo, sizeof(e->exo), "%s", s);
		/* the pipelines run from the run directory, so their paths are
		 * relative to it */
		if (dir && s[0] != '/' && snprintf(e->exo, sizeof(e->exo), "%s/%s", dir, s) > 0 &&
		    stat(e->exo, &st) != 0)
			snprintf(e->exo, sizeof(e->exo), "%s", s);
	}
	/* constraints of the run: the first record that names them */
	if (u->acc_min < 0 && rec_get(m, "acc_min"))
		u->acc_min = rec_dbl(r, m, "acc_min", 0, 1);
	if (u->macs_max < 0 && rec_get(m, "macs_max"))
		u->macs_max = rec_dbl(r, m, "macs_max", 0, INFINITY);
	if (u->lat_max < 0 && rec_get(m, "lat_max"))
		u->lat_max = rec_dbl(r, m, "lat_max", 0, INFINITY);
}

/* KEY=value of a run directory's config (sourceable shell, values maybe
 * quoted); returns 0 and the value in buf, -1 when absent. */
static int
config_get(const char *dir, const char *key, char *buf, size_t n)
{
	char path[1100], line[1024];
	size_t kl = strlen(key);
	FILE *fp;
	int found = -1;

	snprintf(path, sizeof(path), "%s/config", dir);
	if (!(fp = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (!strncmp(line, key, kl) && line[kl] == '=') {
			char *v = line + kl + 1;
			size_t l = strcspn(v, "\n");

			v[l] = '\0';
			if (l >= 2 && (v[0] == '\'' || v[0] == '"') && v[l - 1] == v[0]) {
				v[l - 1] = '\0';
				v++;
			}
			snprintf(buf, n, "%s", v);
			found = 0;
		}
	fclose(fp);
	return found;
}

/* A number of the config, or def when absent or not a number. */
static double
config_num(const char *dir, const char *key, double def)
{
	char buf[256], *end;
	double v;

	if (config_get(dir, key, buf, sizeof(buf)) != 0)
		return def;
	v = strtod(buf, &end);
	return end != buf && *end == '\0' ? v : def;
}

/* METHOD=RUNDIR: the run's archive.rec, its config for the seed (else
 * the run's place among its method's arguments) and the constraints. */
static void
read_rundir(const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[NAME], path[1100];
	const char *dir;
	struct rec_in r;
	const msgpack_object *m;
	struct run *u;
	int meth, pos = 1, i;

	if (!eq || eq == arg || !eq[1] || eq - arg >= NAME || strcspn(arg, "|\n") < (size_t)(eq - arg))
		errx(EX_USAGE, "\"%s\" is not method=rundir (a method name of 1 to %d characters, "
		    "no '|')", arg, NAME - 1);
	snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
	dir = eq + 1;
	meth = method_id(name);
	for (i = 0; i < nruns; i++)
		pos += runs[i].method == meth;
	u = new_run(meth, (long)config_num(dir, "SEED", pos), dir);
	for (i = 0; i < nruns - 1; i++)
		if (runs[i].method == meth && runs[i].seed == u->seed)
			errx(EX_USAGE, "method %s: %s and %s both have seed %ld", name, runs[i].src,
			    dir, u->seed);
	snprintf(path, sizeof(path), "%s/archive.rec", dir);
	rec_in_open(&r, path);
	while ((m = rec_next(&r)) != NULL)
		if (rec_is(m, "result"))
			parse(u, &r, m, dir);
	if (u->n == 0)
		errx(EX_DATAERR, "%s: no result records", r.name);
	rec_in_close(&r);
	if (u->acc_min < 0)
		u->acc_min = config_num(dir, "ACC_MIN", -1);
	if (u->macs_max < 0)
		u->macs_max = config_num(dir, "MACS_MAX", -1);
}

/* Records on stdin, each naming its method and seed. */
static void
read_stdin(const struct opts *op)
{
	struct rec_in r;
	const msgpack_object *m;
	char name[NAME];
	int i, nrec = 0;

	rec_in_open(&r, "-");
	while ((m = rec_next(&r)) != NULL) {
		struct run *u = NULL;
		long seed;
		int meth;

		if (!rec_is(m, "result"))
			continue;
		rec_str(&r, m, op->method_key, name, sizeof(name));
		/* the name heads table rows */
		if (!name[0] || strcspn(name, "|\n") < strlen(name))
			rec_fail(&r, op->method_key, "\"%s\" is no method name (empty, or has '|')", name);
		seed = rec_int(&r, m, op->seed_key, -(1L << 40), 1L << 40);
		meth = method_id(name);
		for (i = 0; i < nruns; i++)
			if (runs[i].method == meth && runs[i].seed == seed)
				u = &runs[i];
		if (!u)
			u = new_run(meth, seed, "stdin");
		parse(u, &r, m, NULL);
		nrec++;
	}
	rec_in_close(&r);
	if (nrec == 0)
		errx(EX_DATAERR, "stdin: no result records");
}

/* Record e may count: a network over a memory limit is as inadmissible
 * as one its tuning marked infeasible. */
static int
admissible(const struct ee *e)
{
	return e->ok && e->mem_cv <= 0;
}

/* The best trade-off EENN of each run and its hypervolume per iteration
 * against ref (pareto_run, on the validation figures). */
static void
analyse(struct run *u, const struct opts *op, const double *ref /* (2) */)
{
	int n = u->n, i;
	double *acc = cli_calloc(3 * (size_t)n, sizeof *acc), *macs = acc + n, *ts = macs + n;
	int *ok = cli_calloc(n, sizeof *ok);
	long *iter = cli_calloc(n, sizeof *iter);
	struct pareto_run pr;

	for (i = 0; i < n; i++) {
		acc[i] = u->e[i].acc_val;
		macs[i] = u->e[i].macs_val;
		ts[i] = u->e[i].t_s;
		ok[i] = admissible(&u->e[i]);
		iter[i] = u->e[i].iter;
	}
	pareto_run(&pr, acc, macs, ok, iter, n, u->acc_min, u->macs_max, op->po.knee, ref);
	u->best = pr.best;
	u->adm = pr.adm;
	u->over = pr.over;
	u->hv = pr.hv;
	u->nhv = pr.nhv;
	pareto_hv_times(u->hv, u->nhv, iter, ts, n);
	free(acc);
	free(ok);
	free(iter);
}

/* The common reference: 1.01 x the largest error and MACs among the first
 * iteration's records of every run. */
static void
common_ref(double *ref /* (2) */)
{
	int k, i;

	ref[0] = ref[1] = 0;
	for (k = 0; k < nruns; k++) {
		struct run *u = &runs[k];
		double *x = cli_calloc(2 * (size_t)u->n, sizeof *x), r[2];
		long *it = cli_calloc(u->n, sizeof *it), first;

		for (i = 0; i < u->n; i++) {
			x[i] = 1 - u->e[i].acc_val;
			x[u->n + i] = u->e[i].macs_val;
			it[i] = u->e[i].iter;
		}
		pareto_ref(r, &first, x, x + u->n, it, u->n);
		ref[0] = fmax(ref[0], r[0]);
		ref[1] = fmax(ref[1], r[1]);
		free(x);
		free(it);
	}
	if (!(ref[0] > 0 && ref[1] > 0))
		errx(EX_DATAERR, "cannot derive a hypervolume reference (largest error %g, MACs %g "
		    "in the first iterations): give --ref", ref[0] / 1.01, ref[1] / 1.01);
}

/* --- per-method summaries ------------------------------------------------ */

enum metric { M_B, M_MACS, M_MACS_BB, M_ACC, M_ACC_BB, M_THR, M_SPENT, M_COST, M_UTIL, M_ECE };

/* Metric of a best EENN; exit k is an intermediate exit (0-based), or the
 * final one when k < 0 (pass -1 for the network-wide metrics). NaN where
 * the network has no such exit. */
static double
metric(const struct ee *e, enum metric w, int k)
{
	int i = k < 0 ? e->nexit - 1 : k;

	if (k >= e->nexit - 1)
		return NAN;
	switch (w) {
	case M_B:
		return e->nexit;
	case M_MACS:
		return e->macs;
	case M_MACS_BB:
		return e->macs_bb;
	case M_ACC:
		return e->acc;
	case M_ACC_BB:
		return e->acc_bb;
	case M_THR:
		return e->thr[i];
	case M_SPENT:
		return e->spent[i];
	case M_COST:
		return e->cost[i];
	case M_UTIL:
		return e->util[i];
	case M_ECE:
		return e->ece[i];
	}
	return NAN;
}

/* "mean ± std" (sample std over seeds, ddof 1) of the finite values v (n)
 * times scale; just the mean for one value, "–" for none. */
static const char *
mean_std(char *buf, size_t len, const double *v /* (n) */, int n, double scale, int prec)
{
	double mean, std;
	int m = stats_finite_mean_std(&mean, &std, v, n, scale);

	if (m == 0)
		snprintf(buf, len, "–");
	else if (m == 1)
		snprintf(buf, len, "%.*f", prec, mean);
	else
		snprintf(buf, len, "%.*f ± %.*f", prec, mean, prec, std);
	return buf;
}

/* Cell of a metric over the best EENNs of method meth's runs; *seeds gets
 * how many have it (may be NULL). */
static const char *
cell(char *buf, size_t len, int meth, enum metric w, int k, double scale, int prec,
    int *seeds)
{
	double *v = cli_calloc(nruns, sizeof *v);
	int n = 0, i, have = 0;

	for (i = 0; i < nruns; i++)
		if (runs[i].method == meth) {
			v[n] = metric(&runs[i].e[runs[i].best], w, k);
			have += isfinite(v[n]);
			n++;
		}
	mean_std(buf, len, v, n, scale, prec);
	if (seeds)
		*seeds = have;
	free(v);
	return buf;
}

static int
method_runs(int meth)
{
	int i, n = 0;

	for (i = 0; i < nruns; i++)
		n += runs[i].method == meth;
	return n;
}

/* The most intermediate exits among method meth's best EENNs (all methods
 * when meth < 0). */
static int
max_inter(int meth)
{
	int i, m = 0;

	for (i = 0; i < nruns; i++)
		if (meth < 0 || runs[i].method == meth)
			m = runs[i].e[runs[i].best].nexit - 1 > m ? runs[i].e[runs[i].best].nexit - 1 : m;
	return m;
}

static const char *
constraints(char *buf, size_t len, const struct run *u)
{
	size_t l = 0;

	buf[0] = '\0';
	if (u->acc_min > 0)
		l += snprintf(buf, len, "acc ≥ %.2f%%", 100 * u->acc_min);
	if (isfinite(u->macs_max))
		l += snprintf(buf + l, len - l, "%sMACs ≤ %.3fM", l ? ", " : "", u->macs_max / 1e6);
	if (l < len && u->lat_max >= 0)
		l += snprintf(buf + l, len - l, "%slatency ≤ %.4g ms", l ? ", " : "", u->lat_max);
	if (l < len && lim.flash_max > 0)
		l += snprintf(buf + l, len - l, "%sflash ≤ %.0fK", l ? ", " : "",
		    lim.flash_max / 1024.0);
	if (l < len && lim.sram_max > 0)
		l += snprintf(buf + l, len - l, "%sSRAM ≤ %.0fK", l ? ", " : "", lim.sram_max / 1024.0);
	if (l < len && hw_limited(&lim))
		snprintf(buf + l, len - l, " (%s)", sched_dtype_names[lim.dtype]);
	if (!buf[0])
		snprintf(buf, len, "none");
	return buf;
}

/* --- the Markdown report ----------------------------------------------- */

static void
table_runs(FILE *fp)
{
	int i, k;
	char c[128];

	fprintf(fp, "## Runs and their best trade-off EENN\n\n"
	    "| method | seed | run | records | last iter | constraints | best | iter | admissible | "
	    "val acc (%%) | val MACs (M) | test acc (%%) | avg MACs (M) | B | thresholds | "
	    "flash %s (KB) | SRAM %s (KB) |%s\n"
	    "|---|---:|---|---:|---:|---|---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|%s\n",
	    sched_dtype_names[lim.dtype], sched_dtype_names[lim.dtype],
	    any_lat ? " avg latency (ms, predicted) |" : "", any_lat ? "---:|" : "");
	for (i = 0; i < nruns; i++) {
		const struct run *u = &runs[i];
		const struct ee *e = &u->e[u->best];

		fprintf(fp, "| %s | %ld | %s | %d | %ld | %s | %s | %ld | %s | %.2f | %.3f | %.2f | %.3f | %d | ",
		    methods[u->method], u->seed, u->src, u->n, u->hv[u->nhv - 1].iter,
		    constraints(c, sizeof(c), u), e->id, e->iter,
		    u->adm ? "yes" : "**no** (closest)", 100 * e->acc_val, e->macs_val / 1e6,
		    100 * e->acc, e->macs / 1e6, e->nexit);
		for (k = 0; k < e->nexit - 1; k++)
			fprintf(fp, "%s%.3g", k ? ", " : "", e->thr[k]);
		fprintf(fp, "%s | ", e->nexit > 1 ? "" : "–");
		if (e->flash < 0)
			fprintf(fp, "– | – |");
		else
			fprintf(fp, "%.1f | %.1f |", e->flash / 1024.0, e->sram / 1024.0);
		/* --cost latency runs: their F_M, in ms */
		if (any_lat && isnan(e->lat))
			fprintf(fp, " – |");
		else if (any_lat)
			fprintf(fp, " %.4f |", e->lat);
		fputc('\n', fp);
	}
	fprintf(fp, "\n");
}

static void
table_best(FILE *fp)
{
	int mth, i, k, ni = max_inter(-1);
	char c[6][64];

	fprintf(fp, "## Best EENN per method, mean ± std over seeds (Table II)\n\n"
	    "| method | seeds | B | avg MACs (M) | backbone MACs (M) | EE acc, test (%%) | "
	    "backbone acc, test (%%) | admissible (val) | meets both (test) | MACs violated (test) | "
	    "archive over MACs (val, %%) |\n"
	    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (mth = 0; mth < nmethods; mth++) {
		int n = 0, adm = 0, both = 0, over = 0;
		double *ov = cli_calloc(nruns, sizeof *ov);

		for (i = 0; i < nruns; i++)
			if (runs[i].method == mth) {
				const struct run *u = &runs[i];
				const struct ee *e = &u->e[u->best];
				int mo = e->macs > u->macs_max;

				adm += u->adm;
				over += mo;
				both += !mo && !(u->acc_min > 0 && e->acc < u->acc_min);
				ov[n++] = u->over;
			}
		fprintf(fp, "| %s | %d | %s | %s | %s | %s | %s | %d/%d | %d/%d | %d/%d | %s |\n",
		    methods[mth], n, cell(c[0], 64, mth, M_B, -1, 1, 2, NULL),
		    cell(c[1], 64, mth, M_MACS, -1, 1e-6, 3, NULL),
		    cell(c[2], 64, mth, M_MACS_BB, -1, 1e-6, 3, NULL),
		    cell(c[3], 64, mth, M_ACC, -1, 100, 2, NULL),
		    cell(c[4], 64, mth, M_ACC_BB, -1, 100, 2, NULL), adm, n, both, n, over, n,
		    mean_std(c[5], 64, ov, n, 100, 1));
		free(ov);
	}
	fprintf(fp, "\nThresholds of the intermediate exits (a threshold of 1 switches its exit off):\n\n"
	    "| method |");
	for (k = 0; k < ni; k++)
		fprintf(fp, " ε%d |", k + 1);
	fprintf(fp, "\n|---|");
	for (k = 0; k < ni; k++)
		fprintf(fp, "---:|");
	fprintf(fp, "\n");
	for (mth = 0; mth < nmethods; mth++) {
		fprintf(fp, "| %s |", methods[mth]);
		for (k = 0; k < ni; k++)
			fprintf(fp, " %s |", cell(c[0], 64, mth, M_THR, k, 1, 3, NULL));
		fprintf(fp, "\n");
	}
	fprintf(fp, "\n");
}

static void
table_exits(FILE *fp)
{
	int mth, k, ni = max_inter(-1);
	char c[4][64];

	fprintf(fp, "## Per-exit costs and utilisation, mean ± std over seeds (Table III)\n\n"
	    "Exits are counted from the input; networks with fewer exits leave the later rows "
	    "(the seeds column says how many have each). Spent MACs: a sample leaving at the exit ran "
	    "the backbone up to it and every head up to it (but those of exits switched off by a "
	    "threshold of 1 under a rule that scores exits alone); cost: the backbone up to it and "
	    "its own head (Eq. 13).\n\n"
	    "| method | exit | seeds | spent MACs (M) | cost MACs (M) | utilisation (%%) |\n"
	    "|---|---|---:|---:|---:|---:|\n");
	for (mth = 0; mth < nmethods; mth++) {
		int mi = max_inter(mth), s;

		for (k = 0; k <= mi; k++) {
			int ex = k < mi ? k : -1;
			char name[16];

			cell(c[0], 64, mth, M_SPENT, ex, 1e-6, 3, &s);
			snprintf(name, sizeof(name), ex < 0 ? "final" : "%d", k + 1);
			fprintf(fp, "| %s | %s | %d | %s | %s | %s |\n", methods[mth], name, s, c[0],
			    cell(c[1], 64, mth, M_COST, ex, 1e-6, 3, NULL),
			    cell(c[2], 64, mth, M_UTIL, ex, 100, 2, NULL));
		}
	}
	fprintf(fp, "\n## Expected calibration error per exit, mean ± std over seeds (Table IV)\n\n"
	    "15 equal-width bins of each exit's largest softmax probability, on every test sample.\n\n"
	    "| method |");
	for (k = 0; k < ni; k++)
		fprintf(fp, " exit %d |", k + 1);
	fprintf(fp, " final |\n|---|");
	for (k = 0; k <= ni; k++)
		fprintf(fp, "---:|");
	fprintf(fp, "\n");
	for (mth = 0; mth < nmethods; mth++) {
		fprintf(fp, "| %s |", methods[mth]);
		for (k = 0; k <= ni; k++)
			fprintf(fp, " %s |", cell(c[0], 64, mth, M_ECE, k < ni ? k : -1, 1, 4, NULL));
		fprintf(fp, "\n");
	}
	fprintf(fp, "\n");
}

/* The end of a table's header: a column per method (its name after
 * label), then the alignment row, lead's columns first. */
static void
method_cols(FILE *fp, const char *label, const char *lead)
{
	int m;

	for (m = 0; m < nmethods; m++)
		fprintf(fp, " %s%s |", label, methods[m]);
	fprintf(fp, "\n%s", lead);
	for (m = 0; m < nmethods; m++)
		fprintf(fp, "---:|");
	fprintf(fp, "\n");
}

/* What each method's archives offer at fractions of the MACs limit: per
 * run the record pareto_best_under picks on validation figures (ok and
 * within the memory limits), its test accuracy and MACs. */
static void
table_at_macs(FILE *fp)
{
	static const double frac[] = { 0.25, 0.5, 0.75, 1 };
	int f, m, i, j;

	for (i = 0; i < nruns; i++)
		if (!isfinite(runs[i].macs_max))
			return;
	fprintf(fp, "## Accuracy at matched MACs\n\nWhat each archive offers at a cost: for "
	    "caps of a fraction of the run's MACs limit, the record with the best validation "
	    "accuracy among those whose validation avg MACs are within the cap (and not marked "
	    "infeasible or over a memory limit): its test accuracy (%%) and test avg MACs (M), "
	    "mean ± std over the seeds whose archive has one (how many in brackets). Methods "
	    "whose best EENNs differ in MACs (Table II) compare here at one cost.\n\n"
	    "| MACs cap (× limit) |");
	method_cols(fp, "", "|---:|");
	for (f = 0; f < (int)(sizeof(frac) / sizeof(frac[0])); f++) {
		fprintf(fp, "| %.2f |", frac[f]);
		for (m = 0; m < nmethods; m++) {
			double *a = cli_calloc(2 * (size_t)nruns, sizeof *a), *c = a + nruns;
			int n = 0, have = 0;
			char b[2][64];

			for (i = 0; i < nruns; i++) {
				const struct run *u = &runs[i];
				double *acc, *macs;
				int *ok, k;

				if (u->method != m)
					continue;
				n++;
				acc = cli_calloc(2 * (size_t)u->n, sizeof *acc);
				macs = acc + u->n;
				ok = cli_calloc(u->n, sizeof *ok);
				for (j = 0; j < u->n; j++) {
					acc[j] = u->e[j].acc_val;
					macs[j] = u->e[j].macs_val;
					ok[j] = admissible(&u->e[j]);
				}
				k = pareto_best_under(acc, macs, ok, u->n, frac[f] * u->macs_max);
				if (k >= 0) {
					a[have] = u->e[k].acc;
					c[have++] = u->e[k].macs;
				}
				free(acc);
				free(ok);
			}
			if (have)
				fprintf(fp, " %s @ %s (%d/%d) |", mean_std(b[0], 64, a, have, 100, 2),
				    mean_std(b[1], 64, c, have, 1e-6, 3), have, n);
			else
				fprintf(fp, " – (0/%d) |", n);
			free(a);
		}
		fprintf(fp, "\n");
	}
	fprintf(fp, "\n");
}

/* The iterations present in any run, ascending; returns their number. */
static int
all_iters(long *out /* (sum of the runs' nhv) */)
{
	int n = 0, i, j, k;

	for (i = 0; i < nruns; i++)
		for (j = 0; j < runs[i].nhv; j++) {
			long t = runs[i].hv[j].iter;

			for (k = 0; k < n && out[k] < t; k++)
				;
			if (k < n && out[k] == t)
				continue;
			memmove(out + k + 1, out + k, (n - k) * sizeof *out);
			out[k] = t;
			n++;
		}
	return n;
}

/* The hypervolume of each of method meth's runs into v: at iteration t,
 * or with by_time by wall time t; returns how many runs. */
static int
method_hv(double *v /* (nruns) */, int meth, double t, int by_time)
{
	int n = 0, i;

	for (i = 0; i < nruns; i++)
		if (runs[i].method == meth)
			v[n++] = by_time ? pareto_hv_by(runs[i].hv, runs[i].nhv, t) :
			    pareto_hv_at(runs[i].hv, runs[i].nhv, (long)t);
	return n;
}

/* Mean ± std of method_hv. */
static const char *
hv_cell(char *buf, size_t len, int meth, double t, int by_time)
{
	double *v = cli_calloc(nruns, sizeof *v);

	mean_std(buf, len, v, method_hv(v, meth, t, by_time), 1, 4);
	free(v);
	return buf;
}

static void
table_hv(FILE *fp, const double *ref /* (2) */, int have_ref)
{
	int n, i, m, tot = 0;
	long *it;
	char c[64];

	for (i = 0; i < nruns; i++)
		tot += runs[i].nhv;
	it = cli_calloc(tot, sizeof *it);
	n = all_iters(it);
	fprintf(fp, "## Hypervolume per iteration, mean ± std over seeds\n\n"
	    "Admissible records (validation figures) up to each iteration, in (top-1 error, avg MACs), "
	    "normalised by the reference's area. One reference point for every run, so the numbers "
	    "compare across methods: (%.6g, %.6g)%s. A run that stopped early keeps its last "
	    "value.\n\n| iteration |", ref[0], ref[1],
	    have_ref ? ", given by --ref" :
	    ", 1.01 × the largest error and MACs among the first iteration's records of every run");
	method_cols(fp, "", "|---:|");
	for (i = 0; i < n; i++) {
		fprintf(fp, "| %ld |", it[i]);
		for (m = 0; m < nmethods; m++)
			fprintf(fp, " %s |", hv_cell(c, sizeof(c), m, (double)it[i], 0));
		fprintf(fp, "\n");
	}
	fprintf(fp, "\n");
	free(it);
}

/* The longest run's wall time when its last iteration ended; NAN when a
 * run's records do not say (no t_s: older runs, records on stdin). */
static double
hv_time_span(void)
{
	double tmax = 0;
	int i;

	for (i = 0; i < nruns; i++) {
		double t = runs[i].hv[runs[i].nhv - 1].t;

		if (isnan(pareto_hv_by(runs[i].hv, runs[i].nhv, 0)))
			return NAN;
		tmax = fmax(tmax, t);
	}
	return tmax;
}

static void
table_hv_time(FILE *fp)
{
	static const double frac[] = { 0.125, 0.25, 0.5, 0.75, 1 };
	double tmax = hv_time_span();
	int f, m;
	char c[64];

	fprintf(fp, "## Hypervolume against wall time, mean ± std over seeds\n\n");
	if (isnan(tmax)) {
		fprintf(fp, "Not available: some records have no `t_s` (the run's wall time when "
		    "they joined its archive, written by the pipelines since 2026-12-04).\n\n");
		return;
	}
	fprintf(fp, "The hypervolume (as above) each run had reached by a wall time: its last "
	    "iteration whose records had all joined the archive by then (0 before its first). "
	    "Times from the start of each run, as fractions of the longest run's last "
	    "iteration (%.0f s); runs that share a machine, or plan to a budget, compare at "
	    "equal times here, not at equal iterations.\n\n| wall time (s) |", tmax);
	method_cols(fp, "", "|---:|");
	for (f = 0; f < (int)(sizeof(frac) / sizeof(frac[0])); f++) {
		fprintf(fp, "| %.0f |", frac[f] * tmax);
		for (m = 0; m < nmethods; m++)
			fprintf(fp, " %s |", hv_cell(c, sizeof(c), m, frac[f] * tmax, 1));
		fprintf(fp, "\n");
	}
	fprintf(fp, "\n");
}

/* The seeds every method has, ascending; returns their number. */
static int
common_seeds(long *out /* (nruns) */)
{
	int *method = cli_calloc(nruns, sizeof *method), n, i;
	long *seed = cli_calloc(nruns, sizeof *seed);

	for (i = 0; i < nruns; i++) {
		method[i] = runs[i].method;
		seed[i] = runs[i].seed;
	}
	n = report_common_seeds(out, method, seed, nruns, nmethods);
	free(method);
	free(seed);
	return n;
}

static const struct run *
run_of(int meth, long seed)
{
	int i;

	for (i = 0; i < nruns; i++)
		if (runs[i].method == meth && runs[i].seed == seed)
			return &runs[i];
	return NULL;
}

/* Record e of run u as the paired comparison reads it. */
static void
side(struct report_side *s, const struct ee *e, const struct run *u)
{
	s->acc = e->acc_val;
	s->macs = e->macs_val;
	s->exp_macs = e->exp_macs;
	s->mem_cv = e->mem_cv;
	s->acc_min = u->acc_min;
	s->macs_max = u->macs_max;
}

/* Records of method m's run and the first method's run of the same seed
 * with the same id and genome: an ablation's shared initial archive,
 * trained both ways from one seed, so their difference is the method's
 * alone. */
static void
table_paired(FILE *fp)
{
	int m, k, i, j, any = 0;

	if (nmethods < 2)
		return;
	fprintf(fp, "## Paired records: one architecture trained by two methods\n\n");
	for (m = 1; m < nmethods; m++) {
		struct report_paired p;
		int seeds = 0;
		char b[3][64];

		report_paired_init(&p);
		for (k = 0; k < nruns; k++) {
			const struct run *u = &runs[k], *r = run_of(0, u->seed);
			int paired = 0;

			if (u->method != m || !r)
				continue;
			for (i = 0; i < u->n; i++)
				for (j = 0; j < r->n; j++) {
					const struct ee *e = &u->e[i], *f = &r->e[j];
					struct report_side se, sf;

					if (!report_same_arch(e->id, e->genome, e->ngenome, f->id,
					    f->genome, f->ngenome))
						continue;
					side(&se, e, u);
					side(&sf, f, r);
					if (report_paired_add(&p, &se, &sf) < 0)
						err(EX_SOFTWARE, "realloc");
					paired = 1;
				}
			seeds += paired;
		}
		if (p.n && !any++)
			fprintf(fp, "Records of a run and of %s's run with the same seed that have the "
			    "same id and genome (an ablation's shared initial archive, trained both "
			    "ways from one seed): the difference is the method's alone. Validation "
			    "figures, Δ = method − %s, mean ± std over the pairs; expected MACs: the "
			    "Ĉ L_cost sees, before the thresholds are tuned.\n\n| method | seeds | "
			    "pairs | Δ avg MACs (%%) | Δ expected MACs (%%) | Δ EE acc (points) | "
			    "admissible, %s | admissible, method |\n|---|---:|---:|---:|---:|---:|---:|"
			    "---:|\n", methods[0], methods[0], methods[0]);
		if (p.n)
			fprintf(fp, "| %s | %d | %d | %s | %s | %s | %d | %d |\n", methods[m], seeds,
			    p.n, mean_std(b[0], sizeof(b[0]), p.d_macs, p.n, 100, 2),
			    mean_std(b[1], sizeof(b[1]), p.d_exp_macs, p.n, 100, 2),
			    mean_std(b[2], sizeof(b[2]), p.d_acc, p.n, 100, 2), p.adm_ref, p.adm);
		report_paired_free(&p);
	}
	if (any)
		fprintf(fp, "\n");
	else
		fprintf(fp, "No record of another method's run has the id and genome of one of "
		    "%s's runs of the same seed.\n\n", methods[0]);
}

/* The objectives the tests compare, each lower-is-better, per run's best
 * EENN (the hypervolume negated). */
static const char *const obj[] = { "top-1 error (test)", "avg MACs (test)",
	"hypervolume (last iteration, higher is better)" };
#define NOBJ 3

/* x (ns, nmethods): objective o of each method's run of each seed. */
static void
objective(double *x /* (ns, nmethods) */, int o, const long *seeds /* (ns) */, int ns)
{
	int b, m;

	for (b = 0; b < ns; b++)
		for (m = 0; m < nmethods; m++) {
			const struct run *u = run_of(m, seeds[b]);
			const struct ee *e = &u->e[u->best];

			x[b * nmethods + m] = o == 0 ? 1 - e->acc : o == 1 ? e->macs :
			    -u->hv[u->nhv - 1].hv;
		}
}

static void
table_friedman(FILE *fp)
{
	long *seeds = cli_calloc(nruns, sizeof *seeds);
	int ns = common_seeds(seeds), o, m;

	fprintf(fp, "## Friedman test over methods (Table VII)\n\n");
	if (nmethods < 2 || ns < 2) {
		fprintf(fp, "Not computable: the test needs at least 2 methods and 2 seeds every "
		    "method has (here %d method%s, %d common seed%s).\n\n", nmethods,
		    nmethods == 1 ? "" : "s", ns, ns == 1 ? "" : "s");
		free(seeds);
		return;
	}
	fprintf(fp, "Blocks: the %d seeds every method has; within a seed the methods are ranked "
	    "(1 = best, ties averaged) on their best EENN; χ² with the tie correction, "
	    "df = methods − 1.\n\n| objective | seeds | χ² | df | p-value |", ns);
	method_cols(fp, "mean rank ", "|---|---:|---:|---:|---:|");
	for (o = 0; o < NOBJ; o++) {
		double *x = cli_calloc((size_t)ns * nmethods, sizeof *x);
		double *rank = cli_calloc(nmethods, sizeof *rank);
		struct stats_friedman f;

		objective(x, o, seeds, ns);
		if (stats_friedman(&f, rank, x, ns, nmethods) != 0) {
			fprintf(fp, "| %s | %d | not computable: every seed ties |", obj[o], ns);
			for (m = 0; m < nmethods + 2; m++)
				fprintf(fp, " – |");
		} else {
			fprintf(fp, "| %s | %d | %.4f | %d | %.4g |", obj[o], ns, f.chi2, f.df, f.p);
			for (m = 0; m < nmethods; m++)
				fprintf(fp, " %.2f |", rank[m]);
		}
		fprintf(fp, "\n");
		free(x);
		free(rank);
	}
	fprintf(fp, "\n");
	free(seeds);
}

/* A p-value, or "–" when undefined (every seed tied). */
static const char *
pval(char *buf /* (32) */, double p)
{
	snprintf(buf, 32, isnan(p) ? "–" : "%.4g", p);
	return buf;
}

/* Every pair of methods per objective: Wilcoxon signed-rank over the
 * common seeds, Holm over the objective's pairs, Nemenyi on the Friedman
 * mean ranks. */
static void
table_posthoc(FILE *fp)
{
	static const double unit[NOBJ] = { 100, 1e-6, -1 };
	static const char *const what[NOBJ] = { "points", "M MACs", "" };
	long *seeds = cli_calloc(nruns, sizeof *seeds);
	int ns = common_seeds(seeds), np = nmethods * (nmethods - 1) / 2, o, a, b, i, k;

	if (nmethods < 2 || ns < 2) {
		free(seeds);
		return;
	}
	fprintf(fp, "## Pairwise post-hoc tests\n\nEvery pair of methods on the %d seeds every "
	    "method has, per objective of Table VII: Wilcoxon's signed-rank test on the paired "
	    "seeds (exact, two-sided, zero differences dropped), its p adjusted by Holm over "
	    "the objective's %d pairs, and Nemenyi's test on the Friedman mean ranks. With %d "
	    "seeds no Wilcoxon p can be below %.4g, whatever the data. Δ = first − second, "
	    "mean over seeds (error in points, MACs in millions, hypervolume as above); "
	    "better: seeds where the first's network (or hypervolume) is the better, ties, "
	    "seeds where the second's is.\n\n| objective | pair | Δ | better / ties / worse "
	    "| Wilcoxon p | Holm p | Nemenyi p |\n|---|---|---:|---:|---:|---:|---:|\n", ns, np,
	    ns, ldexp(1, 1 - ns));
	for (o = 0; o < NOBJ; o++) {
		double *x = cli_calloc((size_t)ns * nmethods, sizeof *x);
		double *rank = cli_calloc(nmethods, sizeof *rank);
		double *p = cli_calloc(3 * (size_t)np, sizeof *p), *adj = p + np, *pn = adj + np;
		double *xa = cli_calloc(2 * (size_t)ns, sizeof *xa), *xb = xa + ns;
		struct stats_friedman f;
		int friedman;

		objective(x, o, seeds, ns);
		friedman = stats_friedman(&f, rank, x, ns, nmethods) == 0;
		for (k = 0, a = 0; a < nmethods; a++)
			for (b = a + 1; b < nmethods; b++, k++) {
				double w;

				for (i = 0; i < ns; i++) {
					xa[i] = x[i * nmethods + a];
					xb[i] = x[i * nmethods + b];
				}
				stats_wilcoxon(&w, &p[k], xa, xb, ns);
				pn[k] = friedman ? stats_nemenyi_p(rank[a] - rank[b], nmethods, ns) : NAN;
			}
		stats_holm(adj, p, np);
		for (k = 0, a = 0; a < nmethods; a++)
			for (b = a + 1; b < nmethods; b++, k++) {
				double d = 0;
				int better = 0, tie = 0;
				char c[3][32];

				for (i = 0; i < ns; i++) {
					double u = x[i * nmethods + a], v = x[i * nmethods + b];

					d += (u - v) / ns;
					better += u < v;
					tie += u == v;
				}
				/* + 0.0: no "-0" for a hypervolume tie */
				fprintf(fp, "| %s | %s vs %s | %+.4g%s%s | %d / %d / %d | %s | %s | "
				    "%s |\n", obj[o], methods[a], methods[b], d * unit[o] + 0.0,
				    what[o][0] ? " " : "", what[o], better, tie, ns - better - tie,
				    pval(c[0], p[k]), pval(c[1], adj[k]), pval(c[2], pn[k]));
			}
		free(x);
		free(rank);
		free(p);
		free(xa);
	}
	fprintf(fp, "\n");
	free(seeds);
}

/* --- figures ------------------------------------------------------------ */

static const char *const colours[] = { "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00",
	"#56b4e9", "#000000", "#f0e442" };
#define NCOL (int)(sizeof(colours) / sizeof(colours[0]))

struct fig { char path[1200]; char what[160]; };
static struct fig *figs;
static int nfigs;

/* The script in fp (*s, *len) through gnuplot into dir/name, listed in the
 * report as what. */
static void
render(const char *dir, const char *name, const char *what, FILE *fp, char **s,
    size_t *len)
{
	struct fig *f;

	if (!(figs = realloc(figs, (nfigs + 1) * sizeof *figs)))
		err(EX_SOFTWARE, "realloc");
	f = &figs[nfigs++];
	snprintf(f->path, sizeof(f->path), "%s/%s", dir, name);
	snprintf(f->what, sizeof(f->what), "%s", what);
	plot_render(f->path, f->path, fp, s, len);
}

/* PNG through cairo when this gnuplot has it, else libgd. */
static void
terminal(FILE *fp, int w, int h)
{
	fprintf(fp, "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
	    "  set terminal pngcairo size %d,%d font \"sans,10\"\n} else {\n"
	    "  set terminal png size %d,%d\n}\nset output\n", w, h, w, h);
}

/* A method or seed as part of a file name. */
static void
file_part(char *buf, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < n; i++)
		buf[i] = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.' || s[i] == '_' ?
		    s[i] : '_';
	buf[i] = '\0';
}

static void
plot_fronts(const char *dir)
{
	char *s;
	size_t len;
	FILE *fp = plot_script(&s, &len);
	int i, j, m, first = 1, same = 1;

	double lo[2] = { INFINITY, INFINITY }, hi[2] = { -INFINITY, -INFINITY };

	terminal(fp, 900, 640);
	fprintf(fp, "set title \"Fronts of every run (validation), best trade-off EENNs crossed\"\n"
	    "set xlabel \"top-1 error (%%)\"\nset ylabel \"avg MACs (M)\"\nset grid\n"
	    "set key outside right top\n");
	/* the constraint lines, when every run has the same */
	for (i = 1; i < nruns; i++)
		same &= runs[i].acc_min == runs[0].acc_min && runs[i].macs_max == runs[0].macs_max;
	if (same && runs[0].acc_min > 0) {
		lo[0] = hi[0] = 100 * (1 - runs[0].acc_min);
		fprintf(fp, "set arrow from %.10g, graph 0 to %.10g, graph 1 nohead dt 2 lc rgb \"red\"\n",
		    lo[0], lo[0]);
	}
	if (same && isfinite(runs[0].macs_max)) {
		lo[1] = hi[1] = runs[0].macs_max / 1e6;
		fprintf(fp, "set arrow from graph 0, first %.10g to graph 1, first %.10g nohead dt 2 lc rgb \"red\"\n",
		    lo[1], lo[1]);
	}
	/* one block per run: its front (admissible, else the least violating),
	 * sorted by error; then one block of best EENNs per method */
	for (i = 0; i < nruns; i++) {
		const struct run *u = &runs[i];
		double *x = cli_calloc(3 * (size_t)u->n, sizeof *x), *y = x + u->n, *cv = y + u->n;
		int *idx = cli_calloc(u->n, sizeof *idx), nf;

		for (j = 0; j < u->n; j++) {
			x[j] = 1 - u->e[j].acc_val;
			y[j] = u->e[j].macs_val;
			cv[j] = pareto_violation(u->e[j].acc_val, y[j], u->acc_min, u->macs_max) +
			    u->e[j].mem_cv;
		}
		nf = pareto_front(idx, x, y, cv, NULL, u->n);
		fprintf(fp, "$f%d << EOD\n", i);
		for (j = 0; j < nf; j++) {
			double px = 100 * x[idx[j]], py = y[idx[j]] / 1e6;

			fprintf(fp, "%.10g %.10g\n", px, py);
			lo[0] = fmin(lo[0], px), hi[0] = fmax(hi[0], px);
			lo[1] = fmin(lo[1], py), hi[1] = fmax(hi[1], py);
		}
		fprintf(fp, "EOD\n");
		free(x);
		free(idx);
	}
	for (m = 0; m < nmethods; m++) {
		fprintf(fp, "$b%d << EOD\n", m);
		for (i = 0; i < nruns; i++)
			if (runs[i].method == m)
				fprintf(fp, "%.10g %.10g\n", 100 * (1 - runs[i].e[runs[i].best].acc_val),
				    runs[i].e[runs[i].best].macs_val / 1e6);
		fprintf(fp, "EOD\n");
	}
	/* the ranges hold the fronts and the constraint lines, 5% spare */
	for (j = 0; j < 2; j++) {
		double sp = hi[j] > lo[j] ? 0.05 * (hi[j] - lo[j]) : 0.05 * fabs(hi[j]) + 1e-9;

		fprintf(fp, "set %srange [%.10g:%.10g]\n", j ? "y" : "x", lo[j] - sp, hi[j] + sp);
	}
	fprintf(fp, "plot ");
	for (m = 0; m < nmethods; m++) {
		const char *col = colours[m % NCOL];
		int titled = 0;

		for (i = 0; i < nruns; i++)
			if (runs[i].method == m) {
				char t[NAME + 16];

				snprintf(t, sizeof(t), titled ? "notitle" : "title \"%s\"", methods[m]);
				fprintf(fp, "%s$f%d using 1:2 with steps lw 1.2 lc rgb \"%s\" %s, \\\n"
				    "  $f%d using 1:2 with points pt 7 ps 0.8 lc rgb \"%s\" notitle",
				    first ? "" : ", \\\n  ", i, col, t, i, col);
				first = 0;
				titled = 1;
			}
		fprintf(fp, ", \\\n  $b%d using 1:2 with points pt 2 ps 2.5 lw 2 lc rgb \"%s\" notitle",
		    m, col);
	}
	fprintf(fp, "\n");
	render(dir, "fronts.png", "Pareto fronts of every run, one colour per method", fp, &s,
	    &len);
}

static void
plot_hv(const char *dir)
{
	char *s;
	size_t len;
	FILE *fp = plot_script(&s, &len);
	int tot = 0, n, i, m;
	long *it;

	for (i = 0; i < nruns; i++)
		tot += runs[i].nhv;
	it = cli_calloc(tot, sizeof *it);
	n = all_iters(it);
	terminal(fp, 900, 520);
	fprintf(fp, "set title \"Hypervolume per iteration (mean ± std over seeds)\"\n"
	    "set xlabel \"iteration\"\nset ylabel \"hypervolume\"\nset grid\nset key bottom right\n"
	    "set xrange [%.1f:%.1f]\nset offsets 0, 0, graph 0.1, graph 0.1\n%s", it[0] - 0.5,
	    it[n - 1] + 0.5, it[n - 1] - it[0] <= 15 ? "set xtics 1\n" : "");
	for (m = 0; m < nmethods; m++) {
		fprintf(fp, "$h%d << EOD\n", m);
		for (i = 0; i < n; i++) {
			double *v = cli_calloc(nruns, sizeof *v);
			int k = 0, j;

			for (j = 0; j < nruns; j++)
				if (runs[j].method == m &&
				    isfinite(pareto_hv_at(runs[j].hv, runs[j].nhv, it[i])))
					v[k++] = pareto_hv_at(runs[j].hv, runs[j].nhv, it[i]);
			if (k > 0)
				fprintf(fp, "%ld %.10g %.10g\n", it[i], stats_mean(v, k),
				    k > 1 ? stats_std(v, k, 1) : 0);
			free(v);
		}
		fprintf(fp, "EOD\n");
	}
	fprintf(fp, "plot ");
	for (m = 0; m < nmethods; m++)
		fprintf(fp, "%s$h%d using 1:2:3 with yerrorlines pt 7 lw 1.5 lc rgb \"%s\" title \"%s\"",
		    m ? ", \\\n  " : "", m, colours[m % NCOL], methods[m]);
	fprintf(fp, "\n");
	free(it);
	render(dir, "hv.png", "Hypervolume per iteration, mean ± std over seeds", fp, &s, &len);
}

/* Hypervolume against wall time: each method's mean over seeds (line)
 * ± std (band), sampled at 200 times; only when every record has t_s. */
static void
plot_hv_time(const char *dir)
{
	const int steps = 200;
	double tmax = hv_time_span(), *v;
	char *s;
	size_t len;
	FILE *fp;
	int m, i, k;

	if (isnan(tmax) || tmax <= 0)
		return;
	v = cli_calloc(nruns, sizeof *v);
	fp = plot_script(&s, &len);
	terminal(fp, 900, 520);
	fprintf(fp, "set title \"Hypervolume against wall time (mean ± std over seeds)\"\n"
	    "set xlabel \"wall time of the run (s)\"\nset ylabel \"hypervolume\"\nset grid\n"
	    "set key bottom right\nset xrange [0:%.10g]\nset style fill transparent solid 0.15 "
	    "noborder\n", tmax);
	for (m = 0; m < nmethods; m++) {
		fprintf(fp, "$t%d << EOD\n", m);
		for (i = 0; i <= steps; i++) {
			double t = tmax * i / steps, mu, sd;

			k = method_hv(v, m, t, 1);
			mu = stats_mean(v, k);
			sd = k > 1 ? stats_std(v, k, 1) : 0;
			fprintf(fp, "%.10g %.10g %.10g %.10g\n", t, mu, fmax(0, mu - sd), mu + sd);
		}
		fprintf(fp, "EOD\n");
	}
	fprintf(fp, "plot ");
	for (m = 0; m < nmethods; m++)
		fprintf(fp, "%s$t%d using 1:3:4 with filledcurves lc rgb \"%s\" notitle, \\\n"
		    "  $t%d using 1:2 with lines lw 1.5 lc rgb \"%s\" title \"%s\"", m ? ", \\\n  " : "",
		    m, colours[m % NCOL], m, colours[m % NCOL], methods[m]);
	fprintf(fp, "\n");
	free(v);
	render(dir, "hv-time.png", "Hypervolume against wall time, mean ± std over seeds", fp, &s,
	    &len);
}

/* Confidence histograms (Fig. 5) of a run's best EENN: per intermediate
 * exit, the score its exit rule compares with the threshold, over every
 * test sample, split into the samples the exit classifies right and
 * wrong. */
static void
plot_conf(const char *dir, const struct run *u, int bins)
{
	const struct ee *e = &u->e[u->best];
	struct exo x;
	char *s, name[256], mp[NAME], what[200];
	size_t len;
	FILE *fp;
	int i, b, ni;
	long j;

	exo_read(&x, e->exo, "test");
	if (x.nexit != e->nexit)
		errx(EX_DATAERR, "%s: %d exits, but record %s of %s has %d", e->exo, x.nexit, e->id,
		    u->src, e->nexit);
	ni = x.nexit - 1;
	fp = plot_script(&s, &len);
	terminal(fp, 300 * ni + 100, 420);
	fprintf(fp, "set multiplot layout 1,%d title \"%s, seed %ld: %s, %s score per exit (test)\"\n"
	    "set style fill transparent solid 0.5 noborder\nset boxwidth %.10g absolute\n"
	    "set xrange [0:1]\nset yrange [0:*]\nset grid y\nset xlabel \"score\"\n"
	    "set key below horizontal\n", ni, methods[u->method], u->seed, e->id, thr_rule_names[e->rule],
	    1.0 / bins);
	for (i = 0; i < ni; i++) {
		long *cnt = cli_calloc(2 * (size_t)bins, sizeof *cnt);

		for (j = 0; j < x.n; j++) {
			float sc = thr_score(&x, e->rule, i, j);
			int k = (int)(sc * bins);

			k = k < 0 ? 0 : k >= bins ? bins - 1 : k;
			cnt[2 * k + (x.pred[i * x.n + j] != x.label[j])]++;
		}
		fprintf(fp, "$c%d << EOD\n", i);
		for (b = 0; b < bins; b++)
			fprintf(fp, "%.10g %ld %ld\n", (b + 0.5) / bins, cnt[2 * b], cnt[2 * b + 1]);
		fprintf(fp, "EOD\n");
		free(cnt);
		fprintf(fp, "unset arrow\nset ylabel \"%s\"\n", i ? "" : "samples");
		if (e->thr[i] < 1)
			fprintf(fp, "set arrow from %.10g, graph 0 to %.10g, graph 1 nohead dt 2 lw 1.5 lc rgb \"red\"\n",
			    e->thr[i], e->thr[i]);
		fprintf(fp, "set title \"exit %d (stage %d): ε = %.3g, U = %.1f%%\"\n"
		    "plot $c%d using 1:2 with boxes lc rgb \"#009e73\" title \"right\", \\\n"
		    "  $c%d using 1:3 with boxes lc rgb \"#d55e00\" title \"wrong\"\n",
		    i + 1, x.stage[i], e->thr[i], 100 * e->util[i], i, i);
	}
	fprintf(fp, "unset multiplot\n");
	file_part(mp, sizeof(mp), methods[u->method]);
	snprintf(name, sizeof(name), "conf-%s-s%ld.png", mp, u->seed);
	snprintf(what, sizeof(what), "confidence histograms per exit, %s seed %ld (%s)",
	    methods[u->method], u->seed, e->id);
	exo_free(&x);
	render(dir, name, what, fp, &s, &len);
}

static void
plots(const struct opts *op)
{
	int i;

	struct stat st;

	if (mkdir(op->plots, 0777) != 0 && (errno != EEXIST || stat(op->plots, &st) != 0 ||
	    !S_ISDIR(st.st_mode)))
		errx(EX_CANTCREAT, "--plots: cannot create the directory %s", op->plots);
	plot_fronts(op->plots);
	plot_hv(op->plots);
	plot_hv_time(op->plots);
	for (i = 0; i < nruns; i++) {
		const struct ee *e = &runs[i].e[runs[i].best];

		if (!e->exo[0])
			warnx("%s seed %ld: best EENN %s has no exo key: no confidence histograms",
			    methods[runs[i].method], runs[i].seed, e->id);
		else if (e->nexit > 1)
			plot_conf(op->plots, &runs[i], op->bins);
	}
}

static void
report(FILE *fp, const struct opts *op, const double *ref /* (2) */)
{
	int i;

	fprintf(fp, "# Search runs compared\n\n%d method%s (", nmethods, nmethods == 1 ? "" : "s");
	for (i = 0; i < nmethods; i++)
		fprintf(fp, "%s%s: %d run%s", i ? ", " : "", methods[i], method_runs(i),
		    method_runs(i) == 1 ? "" : "s");
	fprintf(fp, "). Each run's best EENN is the best trade-off point (--knee %s) of its "
	    "admissible front in (top-1 error, avg MACs) on the validation split; a run with no "
	    "admissible EENN gives the closest one (least constraint violation), flagged below. "
	    "Figures of these networks are on the test set; std is the sample standard deviation "
	    "over seeds (one seed: the value alone).\n\n", pareto_knee_names[op->po.knee]);
	table_runs(fp);
	table_best(fp);
	table_at_macs(fp);
	table_exits(fp);
	table_hv(fp, ref, op->po.have_ref);
	table_hv_time(fp);
	table_paired(fp);
	table_friedman(fp);
	table_posthoc(fp);
	if (nfigs) {
		fprintf(fp, "## Figures\n\n");
		for (i = 0; i < nfigs; i++)
			fprintf(fp, "- `%s`: %s\n", figs[i].path, figs[i].what);
		fprintf(fp, "\n");
	}
}

static int
cmp_run(const void *a, const void *b)
{
	const struct run *x = a, *y = b;

	if (x->method != y->method)
		return x->method - y->method;
	return (x->seed > y->seed) - (x->seed < y->seed);
}

int
main(int argc, char **argv)
{
	enum { O_PLOTS = 256, O_METHOD_KEY, O_SEED_KEY, O_BINS };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ "plots", required_argument, NULL, O_PLOTS },
		PARETO_LONGOPTS,
		HW_LONGOPTS,
		{ "method-key", required_argument, NULL, O_METHOD_KEY },
		{ "seed-key", required_argument, NULL, O_SEED_KEY },
		{ "bins", required_argument, NULL, O_BINS },
		{ NULL, 0, NULL, 0 },
	};
	struct opts op = { NULL, NULL, "search", "seed", { -1, -1, { 0, 0 }, 0, PARETO_KNEE_LINE },
		20 };
	double ref[2];
	char *s = NULL;
	size_t len = 0;
	FILE *fp;
	int c, i;

	hw_limits_init(&lim);
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		if (pareto_opt(&op.po, c, optarg) || hw_option(&lim, c, optarg))
			continue;
		switch (c) {
		case 'h':
			usage(stdout, 0);
			break;
		case 'o':
			op.out = optarg;
			break;
		case O_PLOTS:
			op.plots = optarg;
			break;
		case O_METHOD_KEY:
			op.method_key = optarg;
			break;
		case O_SEED_KEY:
			op.seed_key = optarg;
			break;
		case O_BINS:
			op.bins = (int)cli_long("--bins", optarg, 2, 1000);
			break;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	for (i = 0; i < argc; i++)
		if (!strchr(argv[i], '='))
			errx(EX_USAGE, "\"%s\" is not method=rundir", argv[i]);
	if (argc == 0)
		read_stdin(&op);
	for (i = 0; i < argc; i++)
		read_rundir(argv[i]);
	/* constraints: options, else the run's records, else its config */
	for (i = 0; i < nruns; i++) {
		if (op.po.acc_min >= 0)
			runs[i].acc_min = op.po.acc_min;
		if (op.po.macs_max >= 0)
			runs[i].macs_max = op.po.macs_max;
		if (runs[i].acc_min < 0)
			runs[i].acc_min = 0;
		if (runs[i].macs_max <= 0)
			runs[i].macs_max = INFINITY;
	}
	qsort(runs, nruns, sizeof *runs, cmp_run);
	if (op.po.have_ref) {
		ref[0] = op.po.ref[0];
		ref[1] = op.po.ref[1];
	} else {
		common_ref(ref);
	}
	for (i = 0; i < nruns; i++)
		analyse(&runs[i], &op, ref);
	if (op.plots)
		plots(&op);
	fp = open_memstream(&s, &len);
	if (!fp)
		err(EX_SOFTWARE, "open_memstream");
	report(fp, &op, ref);
	if (fclose(fp) != 0)
		err(EX_SOFTWARE, "open_memstream");
	if (op.out) {
		struct cli_out o;

		cli_out_open(&o, op.out);
		fwrite(s, 1, len, o.fp);
		cli_out_commit(&o);
	} else {
		fwrite(s, 1, len, stdout);
	}
	free(s);
	cli_finish();
	return 0;
}
