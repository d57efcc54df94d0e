/*
 * pareto - the non-dominated records of an archive in (error, avg MACs),
 * admissible first, their best trade-off (knee), the hypervolume per
 * iteration, a table, a gnuplot figure, and the heat maps of the exits'
 * utilisation that thresh-tune --heatmap records.
 */
#include <err.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "hw.h"
#include "lat.h"
#include "exo.h"
#include "nachos.h"
#include "pareto.h"
#include "plot.h"
#include "rec.h"
#include "stats.h"

static const char usage_str[] =
    "usage: pareto [-ahq] [-f table|rec] [--split val|test] [--acc-key key] [--macs-key key]\n"
    "              [--acc-min acc] [--macs-max macs] [--knee line|tradeoff] [--hv]\n"
    "              [--ref err,macs] [--cols key,...] [--plot file.png|file.svg]\n"
    "              [--heatmap-plot file.png|file.svg] [--exit n] [--flash-max bytes]\n"
    "              [--sram-max bytes] [--target name] [--mem-dtype int8|f32]\n"
    "              [--cost macs|latency] [--lat-max ms] [file ...]\n";

static void
usage(FILE *fp, int status)
{
	fputs(usage_str, fp);
	exit(status);
}

#define MAX_COLS 32

struct opts {
	const char *acc_key, *macs_key;
	struct pareto_opts po;         /* acc_min, macs_max 0 / INFINITY: no constraint */
	struct hw_limits lim;          /* memory limits (hw.h) */
	struct lat_cost cost;          /* the second objective: MACs or ms (lat.h) */
	int all, table, quiet, hv;
	char *cols[MAX_COLS];
	int ncols;
	const char *plot;
	const char *heat_plot;
	int heat_exit;                 /* 0: every exit */
};

/* One archive record: where its bytes are kept, and what pareto reads. */
struct item {
	size_t off, len;
	double err, macs, cv;
	long iter;
	int ok;          /* not marked feasible: false */
	int adm;         /* ok and no violation */
	int front, rank, knee;
};

struct archive {
	msgpack_sbuffer buf;   /* every kept record, packed back to back */
	struct item *it;
	int n, cap, skipped;
};

/* One record's heatmap key (thresh-tune --heatmap), as --heatmap-plot
 * draws it. */
struct heat {
	char title[96];
	int ex[2];          /* the exits whose thresholds span the grid, from 1 */
	int g, nexit;
	double *grid;       /* (g) ascending */
	double *util;       /* (g, g, nexit): [a][b][k] exit k+1's utilisation with
	                     * exit ex[0] at grid[a], exit ex[1] at grid[b] */
	double thr[2];      /* the record's thresholds of ex[0], ex[1]; NAN: none */
};

struct heats {
	struct heat *h;
	int n, cap, without;
};

/* The array o of len elements (len < 0: any), or a record error about the
 * heatmap key naming what (printf-formatted). */
static const msgpack_object *
heat_arr(const struct rec_in *r, const msgpack_object *o, int len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static const msgpack_object *
heat_arr(const struct rec_in *r, const msgpack_object *o, int len, const char *fmt, ...)
{
	char what[64];
	va_list ap;

	if (o && o->type == MSGPACK_OBJECT_ARRAY && (len < 0 || (int)o->via.array.size == len))
		return o;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (len < 0)
		rec_fail(r, "heatmap", "%s: not an array", what);
	rec_fail(r, "heatmap", "%s: not an array of %d", what, len);
}

/* Is o a number in [0, 1]? */
static int
unit_num(const msgpack_object *o)
{
	return rec_isnum(o) && rec_num(o) >= 0 && rec_num(o) <= 1;
}

/* Keep the heatmap of record m for --heatmap-plot, checking its layout. */
static void
read_heat(struct heats *hs, const struct rec_in *r, const msgpack_object *m,
    const struct opts *op)
{
	const msgpack_object *hm = rec_get(m, "heatmap"), *o, *id = rec_get(m, "id");
	struct heat *h;
	int a, b, k, g, B = 0;

	if (!hm) {
		hs->without++;
		return;
	}
	if (hm->type != MSGPACK_OBJECT_MAP)
		rec_fail(r, "heatmap", "not a map");
	if (hs->n == hs->cap) {
		hs->cap = hs->cap ? 2 * hs->cap : 8;
		if (!(hs->h = realloc(hs->h, hs->cap * sizeof *hs->h)))
			err(EX_SOFTWARE, "realloc");
	}
	h = &hs->h[hs->n];
	o = heat_arr(r, rec_get(hm, "grid"), -1, "grid");
	g = h->g = (int)o->via.array.size;
	if (g < 1)
		rec_fail(r, "heatmap", "grid: empty");
	h->grid = cli_calloc(g, sizeof *h->grid);
	for (a = 0; a < g; a++) {
		if (!unit_num(&o->via.array.ptr[a]))
			rec_fail(r, "heatmap", "grid[%d]: not a number in [0, 1]", a);
		h->grid[a] = rec_num(&o->via.array.ptr[a]);
		if (a > 0 && !(h->grid[a] > h->grid[a - 1]))
			rec_fail(r, "heatmap", "grid: not ascending at [%d]", a);
	}
	/* utilization (g, g, B): B from its first cell, the same everywhere */
	o = heat_arr(r, rec_get(hm, "utilization"), g, "utilization");
	for (a = 0; a < g; a++) {
		const msgpack_object *row = heat_arr(r, &o->via.array.ptr[a], g, "utilization[%d]", a);

		for (b = 0; b < g; b++) {
			const msgpack_object *cell = heat_arr(r, &row->via.array.ptr[b], B ? B : -1,
			    "utilization[%d][%d]", a, b);

			if (!B) {
				B = (int)cell->via.array.size;
				if (B < 2 || B > EXO_MAX_EXITS)
					rec_fail(r, "heatmap", "utilization[0][0]: %d exits, not 2 to %d", B,
					    EXO_MAX_EXITS);
				h->util = cli_calloc((size_t)g * g * B, sizeof *h->util);
			}
			for (k = 0; k < B; k++) {
				const msgpack_object *v = &cell->via.array.ptr[k];

				if (!unit_num(v))
					rec_fail(r, "heatmap", "utilization[%d][%d][%d]: not a number in [0, 1]",
					    a, b, k);
				h->util[((size_t)a * g + b) * B + k] = rec_num(v);
			}
		}
	}
	h->nexit = B;
	o = heat_arr(r, rec_get(hm, "exits"), 2, "exits");
	for (k = 0; k < 2; k++) {
		const msgpack_object *e = &o->via.array.ptr[k];

		if (e->type != MSGPACK_OBJECT_POSITIVE_INTEGER || e->via.u64 < 1 ||
		    e->via.u64 > (uint64_t)B - 1)
			rec_fail(r, "heatmap", "exits[%d]: not an intermediate exit of %d (1 to %d)",
			    k, B, B - 1);
		h->ex[k] = (int)e->via.u64;
	}
	if (h->ex[0] == h->ex[1])
		rec_fail(r, "heatmap", "exits: the same exit twice");
	if (op->heat_exit > B)
		rec_fail(r, "heatmap", "--exit %d: the EENN has %d exits", op->heat_exit, B);
	h->thr[0] = h->thr[1] = NAN;
	if (rec_get(m, "thresholds")) {
		double t[EXO_MAX_EXITS];

		rec_dbls(r, m, "thresholds", t, B - 1, 0, 1);
		h->thr[0] = t[h->ex[0] - 1];
		h->thr[1] = t[h->ex[1] - 1];
	}
	if (id && id->type == MSGPACK_OBJECT_STR)
		snprintf(h->title, sizeof(h->title), "%.*s", (int)id->via.str.size, id->via.str.ptr);
	else
		snprintf(h->title, sizeof(h->title), "%s record %ld", r->name, r->n);
	hs->n++;
}

static void
read_files(struct archive *ar, struct heats *hs, int argc, char **argv, const struct opts *op)
{
	struct rec_files in;
	const msgpack_object *m;
	msgpack_packer pk;

	msgpack_packer_init(&pk, &ar->buf, msgpack_sbuffer_write);
	rec_files_init(&in, argc, argv);
	while ((m = rec_files_next(&in)) != NULL) {
		const msgpack_object *fe = rec_get(m, "feasible");
		struct item *t;

		if (op->heat_plot)
			read_heat(hs, &in.r, m, op);
		if (!rec_is(m, "result") &&
		    (!rec_get(m, op->acc_key) || !rec_get(m, op->macs_key))) {
			ar->skipped++;
			continue;
		}
		lat_cost_check_record(&op->cost, &in.r, m);
		if (ar->n == ar->cap) {
			ar->cap = ar->cap ? 2 * ar->cap : 64;
			if (!(ar->it = realloc(ar->it, ar->cap * sizeof *ar->it)))
				err(EX_SOFTWARE, "realloc");
		}
		t = &ar->it[ar->n];
		memset(t, 0, sizeof *t);
		t->err = 1 - rec_dbl(&in.r, m, op->acc_key, 0, 1);
		t->macs = rec_dbl(&in.r, m, op->macs_key, 0, INFINITY);
		t->iter = rec_get(m, "iter") ? rec_int(&in.r, m, "iter", 0, 1L << 30) : 0;
		if (fe && fe->type != MSGPACK_OBJECT_BOOLEAN)
			rec_fail(&in.r, "feasible", "not a boolean");
		t->ok = !fe || fe->via.boolean;
		t->cv = pareto_violation(1 - t->err, t->macs, op->po.acc_min, op->po.macs_max) +
		    hw_record_violation(&in.r, m, &op->lim);
		t->adm = t->ok && t->cv <= 0;
		t->off = ar->buf.size;
		msgpack_pack_object(&pk, *m);
		t->len = ar->buf.size - t->off;
		ar->n++;
	}
}

/* Fronts, ranks along each front by error, and the best trade-off.
 * order (n) receives the records by (front, error, MACs). */
static void
analyse(struct archive *ar, const struct opts *op, int *order)
{
	int n = ar->n, i, j, k;
	double *x = malloc(4 * (size_t)n * sizeof *x), *y = x + n, *cv = y + n, *key = cv + n;
	int *ok = malloc(2 * (size_t)n * sizeof *ok), *fr = ok + n;

	if (!x || !ok)
		err(EX_SOFTWARE, "malloc");
	for (i = 0; i < n; i++) {
		x[i] = ar->it[i].err;
		y[i] = ar->it[i].macs;
		cv[i] = ar->it[i].cv;
		ok[i] = ar->it[i].ok;
	}
	pareto_rank(fr, x, y, cv, ok, n);
	/* (front, err, macs) by three stable passes, least significant first */
	for (i = 0; i < n; i++)
		order[i] = i;
	for (k = 2; k >= 0; k--) {
		int *o = malloc((size_t)n * sizeof *o), *t = malloc((size_t)n * sizeof *t);

		if (!o || !t)
			err(EX_SOFTWARE, "malloc");
		for (i = 0; i < n; i++)
			key[i] = k == 0 ? fr[order[i]] : k == 1 ? x[order[i]] : y[order[i]];
		stats_argsort(o, key, n);
		for (i = 0; i < n; i++)
			t[i] = order[o[i]];
		memcpy(order, t, n * sizeof *t);
		free(o);
		free(t);
	}
	for (i = 0, j = 0; i < n; i++) {
		struct item *t = &ar->it[order[i]];

		t->front = fr[order[i]];
		j = i > 0 && fr[order[i - 1]] == t->front ? j + 1 : 1;
		t->rank = j;
	}
	if ((k = pareto_best(x, y, cv, ok, n, op->po.knee)) >= 0)
		ar->it[k].knee = 1;
	free(x);
	free(ok);
}

/* The coordinates, iterations and admissibility of every record, for the
 * pareto_hv_iters / pareto_ref calls; free x and iter. */
static void
hv_inputs(double **x, long **iter, int **adm, const struct archive *ar)
{
	int n = ar->n, i;

	*x = cli_calloc(2 * (size_t)n, sizeof **x);
	*iter = cli_calloc((size_t)n, sizeof **iter);
	*adm = cli_calloc((size_t)n, sizeof **adm);
	for (i = 0; i < n; i++) {
		(*x)[i] = ar->it[i].err;
		(*x)[n + i] = ar->it[i].macs;
		(*iter)[i] = ar->it[i].iter;
		(*adm)[i] = ar->it[i].adm;
	}
}

static void
unpack_item(msgpack_unpacked *un, const struct archive *ar, const struct item *t)
{
	if (msgpack_unpack_next(un, ar->buf.data + t->off, t->len, NULL) != MSGPACK_UNPACK_SUCCESS)
		errx(EX_SOFTWARE, "stored record does not unpack");
}

/* A value as table text: numbers %g, strings, booleans, short arrays. */
static void
fmt_obj(char *buf, size_t n, const msgpack_object *o)
{
	size_t len = 0;
	uint32_t i;

	buf[0] = '\0';
	if (!o) {
		snprintf(buf, n, "-");
		return;
	}
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		snprintf(buf, n, "%.6g", rec_num(o));
		break;
	case MSGPACK_OBJECT_STR:
		snprintf(buf, n, "%.*s", (int)o->via.str.size, o->via.str.ptr);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		snprintf(buf, n, "%s", o->via.boolean ? "true" : "false");
		break;
	case MSGPACK_OBJECT_NIL:
		snprintf(buf, n, "null");
		break;
	case MSGPACK_OBJECT_ARRAY:
		for (i = 0; i < o->via.array.size && len + 2 < n; i++) {
			char e[32];

			fmt_obj(e, sizeof(e), &o->via.array.ptr[i]);
			len += snprintf(buf + len, n - len, "%s%s", i ? "," : "", e);
		}
		break;
	default:
		snprintf(buf, n, "{...}");
	}
}

#define CELL 64

static void
print_table(FILE *fp, const struct archive *ar, const int *order, int nout,
    const struct opts *op)
{
	const char *fixed[] = { "front", "rank", "knee", "adm", "iter", "err%",
	    op->cost.kind == LAT_COST_LATENCY ? "ms" : "MACs" };
	int nfix = 7, nc = nfix + op->ncols, i, c;
	int *w = calloc(nc, sizeof *w);
	char (*cell)[CELL] = calloc((size_t)(nout + 1) * nc, CELL);
	msgpack_unpacked un;

	if (!w || !cell)
		err(EX_SOFTWARE, "calloc");
	msgpack_unpacked_init(&un);
	for (c = 0; c < nc; c++)
		snprintf(cell[c], CELL, "%s", c < nfix ? fixed[c] : op->cols[c - nfix]);
	for (i = 0; i < nout; i++) {
		const struct item *t = &ar->it[order[i]];
		char (*row)[CELL] = cell + (size_t)(i + 1) * nc;

		snprintf(row[0], CELL, "%d", t->front);
		snprintf(row[1], CELL, "%d", t->rank);
		snprintf(row[2], CELL, "%s", t->knee ? "*" : "");
		snprintf(row[3], CELL, "%s", t->adm ? "yes" : "no");
		snprintf(row[4], CELL, "%ld", t->iter);
		snprintf(row[5], CELL, "%.2f", 100 * t->err);
		snprintf(row[6], CELL, op->cost.kind == LAT_COST_LATENCY ? "%.4f" : "%.0f", t->macs);
		if (op->ncols) {
			unpack_item(&un, ar, t);
			for (c = 0; c < op->ncols; c++)
				fmt_obj(row[nfix + c], CELL, rec_get(&un.data, op->cols[c]));
		}
	}
	for (i = 0; i <= nout; i++)
		for (c = 0; c < nc; c++) {
			int l = (int)strlen(cell[(size_t)i * nc + c]);

			if (l > w[c])
				w[c] = l;
		}
	for (i = 0; i <= nout; i++) {
		/* counts right-aligned, text left-aligned, no trailing blanks */
		for (c = 0; c < nc; c++)
			fprintf(fp, "%s%*s", c ? "  " : "", c < 4 ? w[c] : c == nc - 1 ? 0 : -w[c],
			    cell[(size_t)i * nc + c]);
		fputc('\n', fp);
	}
	msgpack_unpacked_destroy(&un);
	free(w);
	free(cell);
}

/* A gnuplot script in memory (*s, *len once closed), starting with the
 * terminal for path (SVG by its name, else PNG) of w x h pixels. */
static FILE *
script_open(char **s, size_t *len, const char *path, int w, int h, int font)
{
	const char *dot = strrchr(path, '.');
	FILE *fp = plot_script(s, len);

	fprintf(fp, "set terminal %s size %d,%d font \"sans,%d\"\n",
	    dot && !strcmp(dot, ".svg") ? "svg dynamic" : "pngcairo", w, h, font);
	fprintf(fp, "set output\n");   /* standard output: our temporary file */
	return fp;
}

/* Autoscale axis so that it reaches c (a constraint line, drawn as an
 * arrow, which does not widen the range itself) with a margin of 5% of the
 * span of c and the points v (n); a c well inside the points changes nothing. */
static void
range_cover(FILE *fp, const char *axis, double c, const double *v /* (n) */, int n)
{
	double lo = c, hi = c, pad;
	int i;

	for (i = 0; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	pad = 0.05 * (hi > lo ? hi - lo : fabs(c) > 0 ? fabs(c) : 1);
	fprintf(fp, "set %srange [*<%.10g:%.10g<*]\n", axis, c - pad, c + pad);
}

static void
plot(const struct archive *ar, const int *order, const struct opts *op,
    const struct pareto_hv_row *hv, int nhv)
{
	long lo = ar->it[0].iter, hi = lo;
	char *s;
	size_t len;
	FILE *fp = script_open(&s, &len, op->plot, 900, op->hv && nhv > 0 ? 880 : 640, 11);
	double *xy = cli_calloc(2 * ar->n, sizeof *xy);   /* error (%), then MACs (M) or ms */
	double ys = op->cost.kind == LAT_COST_LATENCY ? 1 : 1e6;
	char lims[160] = "";    /* memory limits: no axis, so in the title */
	int i;

	for (i = 0; i < ar->n; i++) {
		lo = ar->it[i].iter < lo ? ar->it[i].iter : lo;
		hi = ar->it[i].iter > hi ? ar->it[i].iter : hi;
	}
	fprintf(fp, "set xlabel \"top-1 error (%%)\"\nset ylabel \"%s\"\n",
	    op->cost.kind == LAT_COST_LATENCY ? "avg latency (ms)" : "avg MACs (M)");
	fprintf(fp, "set grid\nset key top right\nset cblabel \"iteration\" offset 1.5,0\n");
	fprintf(fp, "set cbrange [%ld:%ld]\nset palette rgb 33,13,10\nset format cb \"%%.0f\"\n",
	    lo, hi > lo ? hi : lo + 1);
	if (hi - lo <= 10)
		fprintf(fp, "set cbtics 1\n");
	fprintf(fp, "set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n");
	if (hw_limited(&op->lim))
		hw_describe(lims, sizeof(lims), &op->lim);
	if (nhv > 0)
		fprintf(fp, "set title \"%d records, hypervolume %.4f at iteration %ld%s%s\"\n",
		    ar->n, hv[nhv - 1].hv, hv[nhv - 1].iter, *lims ? "\\n" : "", lims);
	else
		fprintf(fp, "set title \"%d records%s%s\"\n", ar->n, *lims ? "\\n" : "", lims);
	for (i = 0; i < ar->n; i++) {
		xy[i] = 100 * ar->it[i].err;
		xy[ar->n + i] = ar->it[i].macs / ys;
	}
	if (op->po.acc_min > 0) {
		double c = 100 * (1 - op->po.acc_min);

		fprintf(fp, "set arrow from %.10g, graph 0 to %.10g, graph 1 nohead dt 2 lw 1.5 lc rgb \"red\"\n",
		    c, c);
		range_cover(fp, "x", c, xy, ar->n);
	}
	if (isfinite(op->po.macs_max)) {
		double c = op->po.macs_max / ys;

		fprintf(fp, "set arrow from graph 0, first %.10g to graph 1, first %.10g nohead dt 2 lw 1.5 lc rgb \"red\"\n",
		    c, c);
		range_cover(fp, "y", c, xy + ar->n, ar->n);
	}
	free(xy);
	/* blocks: admissible, inadmissible, front, knee */
	for (i = 0; i < 4; i++) {
		int j, rows = 0;

		fprintf(fp, "$d%d << EOD\n", i);
		for (j = 0; j < ar->n; j++) {
			const struct item *t = &ar->it[order[j]];
			int in = i == 0 ? t->adm : i == 1 ? !t->adm : i == 2 ? t->front == 0 : t->knee;

			if (in) {
				fprintf(fp, "%.10g %.10g %ld\n", 100 * t->err, t->macs / ys, t->iter);
				rows++;
			}
		}
		if (!rows)   /* gnuplot refuses an empty block: a point off the chart */
			fprintf(fp, "NaN NaN 0\n");
		fprintf(fp, "EOD\n");
	}
	if (op->hv && nhv > 0) {
		/* the front above, the hypervolume per iteration below */
		fprintf(fp, "$hv << EOD\n");
		for (i = 0; i < nhv; i++)
			fprintf(fp, "%ld %.10g\n", hv[i].iter, hv[i].hv);
		fprintf(fp, "EOD\nset multiplot\nset origin 0,0.3\nset size 1,0.7\nset lmargin 12\n");
	}
	fprintf(fp, "plot $d0 using 1:2:3 with points pt 7 ps 1.2 lc palette title \"admissible\", \\\n"
	    "  $d1 using 1:2:3 with points pt 6 ps 1.2 lc palette title \"inadmissible\", \\\n"
	    "  $d2 using 1:2 with steps lw 1.5 lc rgb \"black\" title \"front\", \\\n"
	    "  $d2 using 1:2 with points pt 4 ps 1.4 lc rgb \"black\" notitle, \\\n"
	    "  $d3 using 1:2 with points pt 3 ps 3 lw 2 lc rgb \"black\" title \"best trade-off\"\n");
	if (op->hv && nhv > 0)
		fprintf(fp, "set origin 0,0\nset size 0.885,0.3\nunset title\nunset arrow\n"
		    "unset colorbox\nset offsets 0.5, 0.5, graph 0.1, graph 0.1\n"
		    "set xrange [*:*]\nset yrange [*:*]\n"
		    "set xlabel \"iteration\"\nset ylabel \"hypervolume\"\n%s"
		    "plot $hv using 1:2 with linespoints pt 7 lw 1.5 lc rgb \"black\" notitle\n"
		    "unset multiplot\n", hv[nhv - 1].iter - hv[0].iter <= 15 ? "set xtics 1\n" : "");
	plot_render(op->plot, "--plot", fp, &s, &len);
}

/* Where threshold t lies on the grid's cell axis: the index of its value,
 * or between the two values around it; NAN when off the grid or unknown. */
static double
grid_pos(const double *grid /* (g) ascending */, int g, double t)
{
	int a;

	for (a = 0; a < g; a++) {
		if (fabs(t - grid[a]) <= 1e-9)
			return a;
		if (a + 1 < g && t > grid[a] && t < grid[a + 1])
			return a + (t - grid[a]) / (grid[a + 1] - grid[a]);
	}
	return NAN;
}

/* The grid's values as tic labels at the cell indices (about ten at most). */
static void
grid_tics(FILE *fp, const char *axis, const struct heat *h)
{
	int step = (h->g + 9) / 10, a;

	fprintf(fp, "set %stics (", axis);
	for (a = 0; a < h->g; a += step)
		fprintf(fp, "%s\"%g\" %d", a ? ", " : "", h->grid[a], a);
	fprintf(fp, ")\n");
}

/* s as a gnuplot double-quoted string. */
static void
put_quoted(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

/* Cells are labelled with their value up to this many per side. */
#define HEAT_LABELS_MAX 12
#define HEAT_PANELS_MAX 48

/* The heat maps: one panel per record and exit (or the --exit one), the
 * utilisation over the grid of the two exits' thresholds, the record's
 * own thresholds boxed. */
/* The panels' rows and columns: a row per record when each shows every
 * exit, else a near-square grid. Checked before anything is written. */
static void
heat_layout(int *nr, int *nc, const struct heats *hs, const struct opts *op)
{
	int np = 0, i;

	if (hs->n == 0)
		errx(EX_DATAERR, "--heatmap-plot: no record carries a heatmap "
		    "(thresh-tune --heatmap i,j adds one)");
	*nc = 0;
	for (i = 0; i < hs->n; i++) {
		np += op->heat_exit ? 1 : hs->h[i].nexit;
		if (hs->h[i].nexit > *nc)
			*nc = hs->h[i].nexit;
	}
	if (op->heat_exit || hs->n == 1)
		for (*nc = 1; *nc * *nc < np; ++*nc)
			;
	*nr = !op->heat_exit && hs->n > 1 ? hs->n : (np + *nc - 1) / *nc;
	if (*nr * *nc > HEAT_PANELS_MAX)
		errx(EX_DATAERR, "--heatmap-plot: %d heat maps in %d x %d panels, more than %d: "
		    "choose one exit with --exit, or fewer records", np, *nr, *nc, HEAT_PANELS_MAX);
}

static void
heat_plot(const struct heats *hs, const struct opts *op, int nr, int nc)
{
	int rows_per_rec = !op->heat_exit && hs->n > 1, i, k;
	char *s;
	size_t len;
	FILE *fp;

	fp = script_open(&s, &len, op->heat_plot, 440 * nc, 400 * nr + 50, 10);
	for (i = 0; i < hs->n; i++) {
		const struct heat *h = &hs->h[i];
		int a, b;

		fprintf(fp, "$h%d << EOD\n", i);
		for (b = 0; b < h->g; b++) {
			for (a = 0; a < h->g; a++) {
				fprintf(fp, "%d %d", a, b);
				for (k = 0; k < h->nexit; k++)
					fprintf(fp, " %.6g", h->util[((size_t)a * h->g + b) * h->nexit + k]);
				fputc('\n', fp);
			}
			fputc('\n', fp);
		}
		fprintf(fp, "EOD\n");
	}
	/* viridis: dark at 0, light at 1 */
	fprintf(fp, "set palette defined (0 \"#440154\", 0.25 \"#3b528b\", 0.5 \"#21918c\", "
	    "0.75 \"#5ec962\", 1 \"#fde725\")\n"
	    "set cbrange [0:1]\nset cbtics 0.2\nset cblabel \"utilisation\"\n"
	    "set size ratio 1\nset tics out nomirror\nset border lw 0.5\n");
	fprintf(fp, "set multiplot layout %d,%d title \"Utilisation of %s over the thresholds "
	    "of two exits%sred: the record's thresholds\" font \",12\"\n", nr, nc,
	    op->heat_exit ? "one exit" : "each exit", nc < 3 ? "\\n" : "; ");
	for (i = 0; i < hs->n; i++) {
		const struct heat *h = &hs->h[i];
		double x = grid_pos(h->grid, h->g, h->thr[0]), y = grid_pos(h->grid, h->g, h->thr[1]);
		int k0 = op->heat_exit ? op->heat_exit - 1 : 0, k1 = op->heat_exit ? k0 + 1 : h->nexit;
		char title[160];

		fprintf(fp, "set xrange [-0.5:%g]\nset yrange [-0.5:%g]\n", h->g - 0.5, h->g - 0.5);
		grid_tics(fp, "x", h);
		grid_tics(fp, "y", h);
		fprintf(fp, "set xlabel \"threshold of exit %d\"\nset ylabel \"threshold of exit %d\"\n",
		    h->ex[0], h->ex[1]);
		/* a box round the cell, or a ring where the thresholds fall between
		 * grid values */
		if (isnan(x) || isnan(y))
			fprintf(fp, "unset object 1\n");
		else if (x == (int)x && y == (int)y)
			fprintf(fp, "set object 1 rectangle from %g,%g to %g,%g front "
			    "fillstyle empty border rgb \"red\" lw 3\n", x - 0.5, y - 0.5, x + 0.5, y + 0.5);
		else
			fprintf(fp, "set object 1 circle at %g,%g size 0.2 front "
			    "fillstyle empty border rgb \"red\" lw 3\n", x, y);
		for (k = k0; k < k1; k++) {
			snprintf(title, sizeof(title), "%s: exit %d%s%s", h->title, k + 1,
			    k + 1 == h->nexit ? " (final)" : "",
			    !isnan(h->thr[0]) && (isnan(x) || isnan(y)) ? ", thresholds off the grid" : "");
			fprintf(fp, "set title ");
			put_quoted(fp, title);
			fprintf(fp, " noenhanced\nplot $h%d using 1:2:%d with image notitle", i, k + 3);
			if (h->g <= HEAT_LABELS_MAX)
				fprintf(fp, ", \\\n  $h%d using 1:2:(sprintf(\"%%.2f\", $%d)):($%d < 0.6 ? "
				    "0xffffff : 0) with labels tc rgb variable font \",%d\" notitle",
				    i, k + 3, k + 3, h->g <= 6 ? 10 : 8);
			fputc('\n', fp);
		}
		if (rows_per_rec)   /* the rest of the row stays empty */
			for (k = h->nexit; k < nc; k++)
				fprintf(fp, "set multiplot next\n");
	}
	fprintf(fp, "unset multiplot\n");
	plot_render(op->heat_plot, "--heatmap-plot", fp, &s, &len);
}

static void
write_records(const struct archive *ar, const int *order, int nout, const struct pareto_hv_row *hv,
    int nhv, const double *ref)
{
	struct rec_out o;
	msgpack_unpacked un;
	int i;

	rec_out_init(&o);
	msgpack_unpacked_init(&un);
	for (i = 0; i < nout; i++) {
		const struct item *t = &ar->it[order[i]];
		const msgpack_object *ty, *v;
		char type[64];

		unpack_item(&un, ar, t);
		ty = rec_get(&un.data, "type");
		v = rec_get(&un.data, "v");
		snprintf(type, sizeof(type), "%.*s", (int)ty->via.str.size, ty->via.str.ptr);
		rec_out_begin(&o, &un.data, type, (long)v->via.u64);
		rec_put_int(&o, "front", t->front);
		rec_put_int(&o, "rank", t->rank);
		rec_put_bool(&o, "knee", t->knee);
		rec_put_bool(&o, "admissible", t->adm);
		rec_put_dbl(&o, "violation", t->cv);
		rec_out_end(&o, stdout);
	}
	for (i = 0; i < nhv; i++) {
		rec_out_begin(&o, NULL, "hv", 1);
		rec_put_int(&o, "iter", hv[i].iter);
		rec_put_dbl(&o, "hv", hv[i].hv);
		rec_put_dbl(&o, "hv_abs", hv[i].hv_abs);
		rec_put_dbls(&o, "ref", ref, 2);
		rec_put_int(&o, "n", hv[i].n);
		rec_put_int(&o, "n_front", hv[i].nfront);
		rec_out_end(&o, stdout);
	}
	msgpack_unpacked_destroy(&un);
	rec_out_free(&o);
}

static void
parse_cols(struct opts *op, char *s)
{
	char *k;

	op->ncols = 0;
	for (k = strtok(s, ","); k; k = strtok(NULL, ",")) {
		if (op->ncols == MAX_COLS)
			errx(EX_USAGE, "--cols: more than %d keys", MAX_COLS);
		op->cols[op->ncols++] = k;
	}
	if (op->ncols == 0)
		errx(EX_USAGE, "--cols: no key given");
}

/* A plot file name: it must end in .png or .svg. */
static const char *
plot_name(const char *opt, const char *path)
{
	const char *dot = strrchr(path, '.');

	if (!dot || (strcmp(dot, ".png") && strcmp(dot, ".svg")))
		errx(EX_USAGE, "%s: \"%s\" does not end in .png or .svg", opt, path);
	return path;
}

/* The hypervolume per iteration of the admissible records against
 * op->po.ref (derived from the first iteration when not given) into *hv;
 * returns the rows. */
static int
hypervolumes(struct pareto_hv_row **hv, const struct archive *ar, struct opts *op)
{
	double *x;
	long *iter, first;
	int *adm, nhv;

	hv_inputs(&x, &iter, &adm, ar);
	if (!op->po.have_ref && pareto_ref(op->po.ref, &first, x, x + ar->n, iter, ar->n) != 0)
		errx(EX_DATAERR, "cannot derive a hypervolume reference from iteration %ld "
		    "(largest error %g, MACs %g): give --ref", first, op->po.ref[0] / 1.01,
		    op->po.ref[1] / 1.01);
	*hv = cli_calloc(ar->n, sizeof **hv);
	nhv = pareto_hv_iters(*hv, x, x + ar->n, iter, adm, ar->n, op->po.ref[0], op->po.ref[1]);
	free(x);
	free(iter);
	free(adm);
	return nhv;
}

/* The table and the summary lines, on fp. */
static void
summary(FILE *fp, const struct archive *ar, const int *order, int nout,
    const struct pareto_hv_row *hv, int nhv, const struct heats *hs, const struct opts *op)
{
	int i, nf0 = 0, nadm = 0;

	for (i = 0; i < ar->n; i++) {
		nf0 += ar->it[i].front == 0;
		nadm += ar->it[i].adm;
	}
	print_table(fp, ar, order, nout, op);
	fprintf(fp, "%d records, %d admissible; first front: %d records%s\n", ar->n, nadm,
	    nf0, nadm ? "" : " (none admissible: the least violating)");
	for (i = 0; i < nhv; i++)
		fprintf(fp, "iteration %ld: hypervolume %.6f (%.6g of %.6g x %.6g), %d records, front %d\n",
		    hv[i].iter, hv[i].hv, hv[i].hv_abs, op->po.ref[0], op->po.ref[1], hv[i].n,
		    hv[i].nfront);
	if (ar->skipped)
		fprintf(fp, "%d records without %s and %s skipped\n", ar->skipped,
		    op->acc_key, op->macs_key);
	if (op->heat_plot)
		fprintf(fp, "%d heat map records drawn, %d records without heatmap\n", hs->n,
		    hs->without);
}

int
main(int argc, char **argv)
{
	enum { O_SPLIT = 256, O_ACC_KEY, O_MACS_KEY, O_HV, O_COLS, O_PLOT, O_HEAT_PLOT,
	    O_EXIT };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "all", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "format", required_argument, NULL, 'f' },
		{ "split", required_argument, NULL, O_SPLIT },
		{ "acc-key", required_argument, NULL, O_ACC_KEY },
		{ "macs-key", required_argument, NULL, O_MACS_KEY },
		PARETO_LONGOPTS,
		HW_LONGOPTS,
		LAT_LONGOPTS,
		{ "hv", no_argument, NULL, O_HV },
		{ "cols", required_argument, NULL, O_COLS },
		{ "plot", required_argument, NULL, O_PLOT },
		{ "heatmap-plot", required_argument, NULL, O_HEAT_PLOT },
		{ "exit", required_argument, NULL, O_EXIT },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const formats[] = { "table", "rec", NULL };
	static const char *const splits[] = { "val", "test", NULL };
	static const char *const acc_keys[] = { "top1_ee_val", "top1_ee_test" };
	static const char *const macs_keys[] = { "avg_macs_val", "avg_macs" };
	static const char *const lat_keys_[] = { "avg_latency_val", "avg_latency" };
	struct opts op = { .po = { 0, INFINITY, { 0, 0 }, 0, PARETO_KNEE_LINE },
	    .table = isatty(STDOUT_FILENO) };
	struct archive ar = { { 0, NULL, 0 }, NULL, 0, 0, 0 };
	struct heats hs = { NULL, 0, 0, 0 };
	struct pareto_hv_row *hv = NULL;
	int c, f, split = 0, nout, nhv = 0, *order, hrows = 0, hcols = 0;

	hw_limits_init(&op.lim);
	lat_cost_init(&op.cost);

	while ((c = getopt_long(argc, argv, "af:hq", longopts, NULL)) != -1) {
		if (pareto_opt(&op.po, c, optarg) || hw_option(&op.lim, c, optarg) ||
		    lat_cost_option(&op.cost, c, optarg))
			continue;
		switch (c) {
		case 'a':
			op.all = 1;
			break;
		case 'f':
			op.table = cli_choice("-f", optarg, formats) == 0;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'q':
			op.quiet = 1;
			break;
		case O_SPLIT:
			split = cli_choice("--split", optarg, splits);
			break;
		case O_ACC_KEY:
			op.acc_key = optarg;
			break;
		case O_MACS_KEY:
			op.macs_key = optarg;
			break;
		case O_HV:
			op.hv = 1;
			break;
		case O_COLS:
			parse_cols(&op, optarg);
			break;
		case O_PLOT:
			op.plot = plot_name("--plot", optarg);
			break;
		case O_HEAT_PLOT:
			op.heat_plot = plot_name("--heatmap-plot", optarg);
			break;
		case O_EXIT:
			op.heat_exit = (int)cli_long("--exit", optarg, 1, EXO_MAX_EXITS);
			break;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (op.heat_exit && !op.heat_plot)
		errx(EX_USAGE, "--exit: only with --heatmap-plot");
	lat_cost_finish(&op.cost, "--macs-max", isfinite(op.po.macs_max), 0);
	if (op.cost.kind == LAT_COST_LATENCY && !isnan(op.cost.max))
		op.po.macs_max = op.cost.max;
	if (!op.acc_key)
		op.acc_key = acc_keys[split];
	if (!op.macs_key)
		op.macs_key = (op.cost.kind == LAT_COST_LATENCY ? lat_keys_ : macs_keys)[split];
	msgpack_sbuffer_init(&ar.buf);
	read_files(&ar, &hs, argc, argv, &op);
	if (op.heat_plot)
		heat_layout(&hrows, &hcols, &hs, &op);
	if (!(order = malloc((ar.n + 1) * sizeof *order)))
		err(EX_SOFTWARE, "malloc");
	analyse(&ar, &op, order);
	for (nout = 0; nout < ar.n && (op.all || ar.it[order[nout]].front == 0); nout++)
		;
	if ((op.hv || op.plot) && ar.n > 0)
		nhv = hypervolumes(&hv, &ar, &op);
	if (op.plot)
		plot(&ar, order, &op, hv, nhv);
	if (op.heat_plot)
		heat_plot(&hs, &op, hrows, hcols);
	if (!op.hv)
		nhv = 0;
	if (op.table || !op.quiet)
		summary(op.table ? stdout : stderr, &ar, order, nout, hv, nhv, &hs, &op);
	if (!op.table)
		write_records(&ar, order, nout, hv, nhv, op.po.ref);
	free(order);
	free(hv);
	free(ar.it);
	for (f = 0; f < hs.n; f++) {
		free(hs.h[f].grid);
		free(hs.h[f].util);
	}
	free(hs.h);
	msgpack_sbuffer_destroy(&ar.buf);
	cli_finish();
	return 0;
}
