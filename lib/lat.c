/* lat.c - see lat.h. */
#define _GNU_SOURCE
#include "lat.h"

#include <err.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "exo.h"
#include "export.h"
#include "model.h"
#include "nachos.h"
#include "nn.h"
#include "stats.h"
#include "thr.h"

static const char *const act_names[] = { "none", "relu", "hswish" };

int
lat_keys(char (*key)[LAT_KEY], const struct arch_net *n)
{
	int b, i, j, k = 0;

	snprintf(key[k++], LAT_KEY, "first_conv %dx%dx%d>%dx%d", n->in_ch, n->res, n->res,
	    n->first_ch, n->first_h);
	for (b = 0; b < n->nblk; b++) {
		const struct arch_block *x = &n->blk[b];

		snprintf(key[k++], LAT_KEY, "block %dx%dx%d>%dx%dx%d mid %d k%d s%d %s%s%s",
		    x->cin, x->hin, x->win, x->cout, x->hout, x->wout, x->mid, x->k, x->stride,
		    act_names[x->act], x->se ? " se" : "", x->residual ? " res" : "");
	}
	for (i = 0; i < n->nexit; i++) {
		const struct arch_exit *x = &n->ex[i];
		int len;

		len = snprintf(key[k], LAT_KEY, "head %s %dx%dx%d pool %d>%d",
		    i == n->nexit - 1 ? "final" : arch_space_names[n->a.space], x->c, x->h, x->w,
		    x->pool, x->nout);
		/* an AEBNAS branch is its modules */
		if (n->a.space == ARCH_AEBNAS && i < n->nexit - 1)
			for (j = 0; j < ARCH_MODS; j++) {
				const struct arch_mod *m = &n->a.mod[x->stage - 1][j];

				if (m->present && len < LAT_KEY)
					len += snprintf(key[k] + len, LAT_KEY - len, " m%d:k%dw%dp%d",
					    j + 1, m->k, m->wm, m->pool);
			}
		k++;
	}
	return k;
}

void
lat_cpu_model(char *buf, size_t n)
{
	FILE *fp = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, n, "unknown");
	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp))
		if (strncmp(line, "model name", 10) == 0) {
			char *v = strchr(line, ':');

			if (v) {
				v += 1 + (v[1] == ' ');
				v[strcspn(v, "\n")] = '\0';
				snprintf(buf, n, "%s", v);
			}
			break;
		}
	fclose(fp);
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct lat_entry *)a)->key, ((const struct lat_entry *)b)->key);
}

/* A network drawn uniformly per gene from base's space (repaired). */
static void
draw(struct arch *a, const struct arch *base, struct nn_rng *rng)
{
	int lo[ARCH_MAX_GENOME], hi[ARCH_MAX_GENOME], g[ARCH_MAX_GENOME], i, bad;
	int nv = arch_genome_len(base->space);

	arch_genome_bounds(base->space, lo, hi);
	for (i = 0; i < nv; i++)
		g[i] = lo[i] + (int)(((uint64_t)nn_rng_u32(rng) * (hi[i] - lo[i] + 1)) >> 32);
	arch_genome_repair(base, g);
	*a = *base;
	if (arch_from_genome(a, g, &bad) < 0)
		errx(EX_SOFTWARE, "lat: drawn genome invalid at gene %d", bad);
}

/* A growing set of keys with their samples. */
struct keyset {
	int n, cap;
	struct lat_entry *e;
	double **v;
	int *nv, *capv;
};

static int
key_find(const struct keyset *s, const char *key)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->e[i].key, key) == 0)
			return i;
	return -1;
}

static int
key_add(struct keyset *s, const char *key)
{
	int i = key_find(s, key);

	if (i >= 0)
		return i;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->e = realloc(s->e, s->cap * sizeof(*s->e));
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		s->nv = realloc(s->nv, s->cap * sizeof(*s->nv));
		s->capv = realloc(s->capv, s->cap * sizeof(*s->capv));
		if (!s->e || !s->v || !s->nv || !s->capv)
			err(EX_SOFTWARE, "realloc");
	}
	memset(&s->e[s->n], 0, sizeof(s->e[s->n]));
	snprintf(s->e[s->n].key, LAT_KEY, "%s", key);
	s->v[s->n] = NULL;
	s->nv[s->n] = s->capv[s->n] = 0;
	return s->n++;
}

static void
sample_add(struct keyset *s, int i, double v)
{
	if (s->nv[i] == s->capv[i]) {
		s->capv[i] = s->capv[i] ? 2 * s->capv[i] : 16;
		if (!(s->v[i] = realloc(s->v[i], s->capv[i] * sizeof(double))))
			err(EX_SOFTWARE, "realloc");
	}
	s->v[i][s->nv[i]++] = v;
}

int
lat_part_bytes(long *bytes, const struct arch_net *n)
{
	struct arch_layer *l = cli_calloc(ARCH_MAX_LAYERS, sizeof(*l));
	int nl = arch_net_layers(n, l, ARCH_MAX_LAYERS), np = 1 + n->nblk + n->nexit, i, b;

	if (nl > ARCH_MAX_LAYERS)
		errx(EX_SOFTWARE, "lat: %d layers, more than %d", nl, ARCH_MAX_LAYERS);
	memset(bytes, 0, np * sizeof(*bytes));
	/* the layers' own names say whose they are: arch.c's one rule of
	 * parameters */
	for (i = 0; i < nl; i++) {
		int p = 1 + n->nblk + n->nexit - 1;     /* the final head's */

		if (l[i].exit > 0)
			p = 1 + n->nblk + l[i].exit - 1;
		else if (strcmp(l[i].name, "first_conv") == 0)
			p = 0;
		else if (strncmp(l[i].name, "blocks.", 7) == 0)
			for (b = 0; b < n->nblk; b++)
				if (n->blk[b].slot + 1 == atoi(l[i].name + 7))
					p = 1 + b;
		bytes[p] += l[i].params * (long)sizeof(float);
	}
	free(l);
	return np;
}

int
lat_exit_parts(int *idx, const struct arch_net *n, int i)
{
	int k = 0, j;

	for (j = 0; j <= 1 + n->ex[i].after; j++)
		idx[k++] = j;
	for (j = 0; j <= i; j++)
		idx[k++] = 1 + n->nblk + j;
	return k;
}

double
lat_ws_cost(const struct lat_table *t, double ws)
{
	double x = log(ws), x0, x1;
	int i;

	if (t->nknot < 2 || ws <= t->ws_bytes[0])
		return t->ws_ms_per_mb[0];
	for (i = 1; i < t->nknot; i++)
		if (ws <= t->ws_bytes[i]) {
			x0 = log(t->ws_bytes[i - 1]), x1 = log(t->ws_bytes[i]);
			return t->ws_ms_per_mb[i - 1] + (t->ws_ms_per_mb[i] -
			    t->ws_ms_per_mb[i - 1]) * (x - x0) / (x1 - x0);
		}
	return t->ws_ms_per_mb[t->nknot - 1];
}

const char *const lat_runtime_names[] = { "engine", "c", NULL };

int
lat_op_parts(int *part, const struct sched *s)
{
	const struct arch_net *n = &s->net;
	int i, b, id;

	for (i = 0; i < s->nop; i++) {
		const struct sched_op *o = &s->op[i];

		if (o->head)
			part[i] = 1 + n->nblk + o->seg;
		else if (sscanf(o->name, "blocks.%d.", &id) == 1) {
			for (b = 0; b < n->nblk && n->blk[b].slot + 1 != id; b++)
				;
			if (b == n->nblk)
				errx(EX_SOFTWARE, "lat: op %s of no block", o->name);
			part[i] = 1 + b;
		} else if (i == 0 || strcmp(o->name, "first_conv") == 0)
			part[i] = 0;
		else            /* a residual add: its block's */
			part[i] = part[i - 1];
	}
	return s->nop;
}

/* A random image (net's input), the same for every runtime. */
static void
random_image(uint8_t *img /* (in_ch * res * res) */, const struct arch_net *net, uint64_t seed)
{
	long n = (long)net->in_ch * net->res * net->res, i;
	struct nn_rng rng;

	nn_rng_seed(&rng, seed ^ 0x78ULL);
	for (i = 0; i < n; i++)
		img[i] = (uint8_t)(nn_rng_u32(&rng) >> 24);
}

/* A random model of net, and its export when x is not NULL. */
static void
random_model(struct model *m, struct xnet **x, const struct arch_net *net, uint64_t seed)
{
	struct data_norm nm;
	double never[ARCH_EXITS];
	int c;

	model_build(m, net, 0, 1);
	model_init(m, seed);
	if (!x)
		return;
	memset(&nm, 0, sizeof(nm));
	nm.c = net->in_ch;
	for (c = 0; c < net->in_ch; c++)
		nm.mean[c] = 0.5f, nm.std[c] = 0.25f;
	/* every exit turned off (threshold 1): the runs pass every exit, as
	 * the measurements need */
	for (c = 0; c < ARCH_EXITS; c++)
		never[c] = 1;
	*x = xnet_new(m, net->in_ch, net->res, net->res, &nm, THR_CUMULATIVE, never, 1);
}

/* One model per network at batch 1, random weights and input, and the exit
 * outputs eenn-infer fills at each exit. */
struct runner {
	struct model m;
	float *x;
	struct exo e;
};

static void
runner_init(struct runner *r, const struct arch_net *net, uint64_t seed)
{
	long n = (long)net->in_ch * net->res * net->res, i;
	uint8_t *img = cli_calloc(n, 1);

	random_model(&r->m, NULL, net, seed);
	model_pack(&r->m);      /* eenn-infer's kernels (infer.c packs too) */
	random_image(img, net, seed);
	r->x = cli_calloc(n, sizeof(float));
	for (i = 0; i < n; i++)
		r->x[i] = img[i] / 255.0f - 0.5f;
	free(img);
	exo_alloc(&r->e, "test", 1, r->m.nexit, net->classes);
}

static void
runner_free(struct runner *r)
{
	model_free(&r->m);
	exo_free(&r->e);
	free(r->x);
}

/* the threshold tests' outcomes, so that the compiler keeps them */
volatile int lat_sink;

/* One image through exits 0..last as eenn-infer's early-exit run does it
 * (infer_early_exit: each exit's logits, its scores and the threshold test;
 * here no exit fires before last). prof (may be NULL) gets each part's
 * seconds. Returns the seconds from the input to the last exit's test. */
static double
runner_pass(struct runner *r, int last, double *prof)
{
	int K = r->m.net.classes, i;
	double t0;

	r->m.prof = prof;
	if (prof)
		memset(prof, 0, (1 + r->m.net.nblk + r->m.nexit) * sizeof(*prof));
	t0 = cli_now();
	model_step_begin(&r->m, r->x, 1);
	for (i = 0; i <= last; i++) {
		const float *lg = model_step_exit(&r->m, i);

		exo_fill_exit(&r->e, 0, i, lg, r->m.nout[i] > K ? lg + K : NULL);
		if (i < r->m.nexit - 1)
			lat_sink += thr_fires(0.5, thr_score(&r->e, THR_CUMULATIVE, i, 0));
	}
	t0 = cli_now() - t0;
	r->m.prof = NULL;
	return t0;
}

/* The same prefix streamed as eenn-infer streams images: LAT_WARM untimed
 * passes bring its working set into the caches and push the previous
 * prefix's out (the caches settle only after several: an L3 filled by what
 * L2 evicts, prefetchers that learn), then LAT_TIMED timed ones, ms[q] and
 * prof + q * nprof (prof may be NULL) each part's seconds. */
static void
runner_stream(struct runner *r, int last, double *ms /* (LAT_TIMED) */,
    double *prof /* (LAT_TIMED, nprof) */, int nprof)
{
	int q;

	for (q = 0; q < LAT_WARM; q++)
		runner_pass(r, last, NULL);
	for (q = 0; q < LAT_TIMED; q++)
		ms[q] = 1e3 * runner_pass(r, last, prof ? prof + q * nprof : NULL);
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
min_of(const double *v, int n)
{
	double m = v[0];
	int i;

	for (i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

/* The least-squares solution x (ncol) of A x = y (nrow x ncol, row-major,
 * both overwritten; y has room for max(nrow, ncol)); rank-deficient
 * systems get the least-norm one. */
static void
lsq(double *A, double *y, int nrow, int ncol)
{
	double *sv = cli_calloc(ncol, sizeof(double));
	lapack_int rank;

	if (LAPACKE_dgelsd(LAPACK_ROW_MAJOR, nrow, ncol, 1, A, ncol, y, 1, sv, 1e-10, &rank) != 0)
		errx(EX_SOFTWARE, "lat: the least-squares fit failed");
	free(sv);
}

/* c(W) at working set ws with knot j at 1 and the others at 0: c is linear
 * in the knot values. */
static double
knot_basis(const struct lat_table *t, int j, double ws)
{
	struct lat_table u = *t;

	memset(u.ws_ms_per_mb, 0, sizeof(u.ws_ms_per_mb));
	u.ws_ms_per_mb[j] = 1;
	return lat_ws_cost(&u, ws);
}

/* The parts: ms_k (nk keys) and c at t's knots fitted to the samples by
 * least squares on relative errors; a weak penalty on c's steps between
 * neighbouring knots keeps knots without samples near them defined. */
static void
fit_parts(struct lat_table *t, const struct lat_sample *s, int ns, int nk)
{
	int nc = t->nknot - 1, ncol = nk + nc, nrow = ns + nc, i, j;
	double *A = cli_calloc((size_t)nrow * ncol, sizeof(double));
	double *y = cli_calloc(nrow > ncol ? nrow : ncol, sizeof(double)), scale = 0;

	for (i = 0; i < ns; i++) {
		double w = 1 / s[i].ms;

		A[(size_t)i * ncol + s[i].key] = w;
		for (j = 0; j < nc; j++) {
			double a = w * s[i].bytes / 1e6 * knot_basis(t, j + 1, s[i].ws);

			A[(size_t)i * ncol + nk + j] = a;
			scale += a * a;
		}
		y[i] = 1;
	}
	scale = 0.01 * sqrt(scale / (ns > 0 ? ns : 1));
	for (j = 0; j < nc; j++) {
		A[(size_t)(ns + j) * ncol + nk + j] = scale;
		if (j > 0)
			A[(size_t)(ns + j) * ncol + nk + j - 1] = -scale;
	}
	lsq(A, y, nrow, ncol);
	for (i = 0; i < nk; i++)       /* a part never takes less than nothing */
		t->e[i].ms = y[i] > 0 ? y[i] : 0;
	free(A), free(y);
}

/* The passes: with the entries' ms fixed, c at the knots and image_ms and
 * exit_ms fitted to the fastest whole passes by least squares on relative
 * errors, so that a prediction is a whole pass as eenn-infer times one
 * (the parts' fastest samples come from different passes: on a busy
 * machine their sum falls below any pass, the more the longer it is). An
 * overhead that comes out below zero is dropped and the rest refitted. */
static void
fit_passes(struct lat_table *t, const struct lat_pass *ps, int n)
{
	int nc = t->nknot - 1, ncol = nc + 2, use[2] = { 1, 1 }, i, j, again;
	double *A = cli_calloc((size_t)n * ncol, sizeof(double));
	double *y = cli_calloc(n > ncol ? n : ncol, sizeof(double));

	do {
		memset(A, 0, (size_t)n * ncol * sizeof(double));
		for (i = 0; i < n; i++) {
			double w = 1 / ps[i].ms;

			for (j = 0; j < nc; j++)
				A[(size_t)i * ncol + j] = w * ps[i].ws / 1e6 *
				    knot_basis(t, j + 1, ps[i].ws);
			A[(size_t)i * ncol + nc] = use[0] * w;
			A[(size_t)i * ncol + nc + 1] = use[1] * w * ps[i].exits;
			y[i] = 1 - w * ps[i].base;
		}
		lsq(A, y, n, ncol);
		again = 0;
		for (j = 0; j < 2; j++)
			if (use[j] && y[nc + j] < 0)
				use[j] = 0, again = 1;
	} while (again);
	for (j = 0; j < nc; j++)
		t->ws_ms_per_mb[j + 1] = y[j];
	t->image_ms = use[0] ? y[nc] : 0;
	t->exit_ms = use[1] ? y[nc + 1] : 0;
	free(A), free(y);
}

void
lat_fit(struct lat_table *t, const struct lat_sample *s, int ns, struct lat_pass *ps, int np)
{
	double *w;
	int i, j;

	if (np < 1 || ns < 1)
		errx(EX_SOFTWARE, "lat: nothing to fit (%d passes, %d samples)", np, ns);
	w = cli_calloc(np, sizeof(double));
	/* knots: quantiles of the passes' working sets, densest where the
	 * networks are */
	for (i = 0; i < np; i++)
		w[i] = ps[i].ws;
	qsort(w, np, sizeof(double), cmp_dbl);
	t->nknot = 0;
	for (j = 0; j < LAT_KNOTS; j++) {
		double x = w[(int)((double)(np - 1) * j / (LAT_KNOTS - 1) + 0.5)];

		if (t->nknot == 0 || x > 1.05 * t->ws_bytes[t->nknot - 1])
			t->ws_bytes[t->nknot++] = x;
	}
	memset(t->ws_ms_per_mb, 0, sizeof(t->ws_ms_per_mb));
	fit_parts(t, s, ns, t->n);
	for (i = 0; i < np; i++)
		for (ps[i].base = 0, j = ps[i].first; j < ps[i].first + ps[i].n; j++)
			ps[i].base += t->e[s[j].key].ms;
	fit_passes(t, ps, np);
	/* the fit's error on the passes it was fitted to */
	t->fit_points = np;
	t->fit_mape = t->fit_max_ape = 0;
	for (i = 0; i < np; i++) {
		double p = ps[i].base + ps[i].ws / 1e6 * lat_ws_cost(t, ps[i].ws) + t->image_ms +
		    ps[i].exits * t->exit_ms, ape = fabs(p - ps[i].ms) / ps[i].ms;

		t->fit_mape += ape / np;
		t->fit_max_ape = ape > t->fit_max_ape ? ape : t->fit_max_ape;
	}
	free(w);
}

/*
 * The exported float C, compiled (LAT_C): each network's code as
 * eenn-export writes it, and a timing main that streams the random image
 * through the generated steps as lat_run and lat_measure time the engine:
 * for each exit, LAT_WARM untimed passes then LAT_TIMED timed ones through
 * every segment up to it (the thresholds are 1: no exit fires), a line
 * "exit ms" per timed pass; built with profile, the code's hook (NAME.h,
 * NET_PROFILE) adds each part's ms to the line, timed at part changes only
 * and in the timed passes only.
 */
struct cbuild {
	char tmp[4096];         /* the temporary directory, "" when none */
	const char *cc;
	int profile;
};

/* the temporary directory of the running measurement, removed at exit
 * whatever happens */
static char tmp_now[4096];

static void
rm_tmp(void)
{
	if (tmp_now[0])
		cli_rm_tree(tmp_now);
	tmp_now[0] = 0;
}

static void
cbuild_start(struct cbuild *b, const char *cc, int profile)
{
	const char *td = getenv("TMPDIR");
	static int registered;

	if (!registered++)
		atexit(rm_tmp);
	b->cc = cc;
	b->profile = profile;
	snprintf(b->tmp, sizeof(b->tmp), "%s/lat-table.XXXXXX", td && *td ? td : "/tmp");
	if (!mkdtemp(b->tmp))
		err(EX_CANTCREAT, "%s/lat-table.XXXXXX", td && *td ? td : "/tmp");
	snprintf(tmp_now, sizeof(tmp_now), "%s", b->tmp);
}

static void
cbuild_end(struct cbuild *b)
{
	rm_tmp();
	b->tmp[0] = 0;
}

static void
write_timing_main(FILE *fp, const uint8_t *img, long n, const int *part, int nop, int nparts)
{
	long i;

	fputs("#define _POSIX_C_SOURCE 199309L\n#include <stdio.h>\n#include <time.h>\n\n"
	    "#include \"net.h\"\n\nstatic const unsigned char img[] = {", fp);
	for (i = 0; i < n; i++)
		fprintf(fp, "%s%d,", i % 16 ? "" : "\n", img[i]);
	fputs("\n};\nvolatile int sink;\n\nstatic double\nms(void)\n{\n\tstruct timespec t;\n\n"
	    "\tclock_gettime(CLOCK_MONOTONIC, &t);\n\treturn t.tv_sec * 1e3 + t.tv_nsec * 1e-6;\n}\n",
	    fp);
	fprintf(fp, "\n#define NPART %d\n#ifdef NET_PROFILE\nstatic const int part[] = {", nparts);
	for (i = 0; i < nop; i++)
		fprintf(fp, "%s%d,", i % 16 ? "" : "\n", part[i]);
	fputs("\n};\nstatic double part_ms[NPART], t_part;\nstatic int on, cur = -1;\n\n"
	    "/* before op i (-1: after a segment's last op): the running part's time */\n"
	    "void\nnet_profile(int i)\n{\n\tdouble t;\n\n"
	    "\tif (!on || (i >= 0 && part[i] == cur))\n\t\treturn;\n\tt = ms();\n"
	    "\tif (cur >= 0)\n\t\tpart_ms[cur] += t - t_part;\n"
	    "\tcur = i >= 0 ? part[i] : -1;\n\tt_part = t;\n}\n#endif\n\n", fp);
	fprintf(fp, "int\nmain(void)\n{\n\tstruct net_state st;\n\tint e, q, i;\n\n"
	    "\tfor (e = 0; e < NET_EXITS; e++)\n\t\tfor (q = 0; q < %d; q++) {\n"
	    "\t\t\tdouble t;\n#ifdef NET_PROFILE\n"
	    "\t\t\tfor (i = 0; i < NPART; i++)\n\t\t\t\tpart_ms[i] = 0;\n"
	    "\t\t\ton = q >= %d;\n#endif\n"
	    "\t\t\tt = ms();\n\t\t\tnet_begin(&st, img);\n"
	    "\t\t\tfor (i = 0; i <= e; i++)\n\t\t\t\tsink += net_step(&st);\n"
	    "\t\t\tt = ms() - t;\n\t\t\tif (q < %d)\n\t\t\t\tcontinue;\n"
	    "\t\t\tprintf(\"%%d %%.6f\", e, t);\n#ifdef NET_PROFILE\n"
	    "\t\t\tfor (i = 0; i < NPART; i++)\n\t\t\t\tprintf(\" %%.6f\", part_ms[i]);\n#endif\n"
	    "\t\t\tputchar('\\n');\n\t\t}\n\treturn fflush(stdout) != 0;\n}\n",
	    LAT_WARM + LAT_TIMED, LAT_WARM, LAT_WARM);
}

/* Network i's float C and timing main in b's directory i; returns the
 * command that compiles them into i/time (the caller frees it). */
static char *
cbuild_net(const struct cbuild *b, int i, const struct arch_net *net, uint64_t seed)
{
	long n = (long)net->in_ch * net->res * net->res;
	uint8_t *img = cli_calloc(n, 1);
	char dir[4200], path[4300], q[8500], *cmd;
	int part[SCHED_MAX_OPS], nop;
	struct model m;
	struct xnet *x;
	FILE *fp;

	snprintf(dir, sizeof(dir), "%s/%d", b->tmp, i);
	if (mkdir(dir, 0700) < 0)
		err(EX_CANTCREAT, "%s", dir);
	random_model(&m, &x, net, seed);
	model_free(&m);
	xnet_write_c(x, SCHED_F32, dir, "net");
	nop = lat_op_parts(part, &x->s);
	xnet_free(x);
	random_image(img, net, seed);
	snprintf(path, sizeof(path), "%s/time_main.c", dir);
	if (!(fp = fopen(path, "w")))
		err(EX_CANTCREAT, "%s", path);
	write_timing_main(fp, img, n, part, nop, 1 + net->nblk + net->nexit);
	if (fclose(fp) != 0)
		err(EX_IOERR, "%s", path);
	free(img);
	cli_sh_quote(q, sizeof(q), dir);
	cmd = cli_calloc(strlen(b->cc) + strlen(q) + 80, 1);
	sprintf(cmd, "cd %s && %s%s -o time net.c time_main.c -lm", q, b->cc,
	    b->profile ? " -DNET_PROFILE" : "");
	return cmd;
}

/* Wait for one compile of cbuild_all; exits EX_SOFTWARE when it failed. */
static void
cbuild_wait(const struct cbuild *b, pid_t *pid, int n)
{
	pid_t w;
	int st, i;

	do
		w = wait(&st);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		err(EX_OSERR, "wait");
	for (i = 0; i < n && pid[i] != w; i++)
		;
	if (i < n)
		pid[i] = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		errx(EX_SOFTWARE, "--cc: \"%s\" failed on %s/%d/net.c (status %d)", b->cc, b->tmp,
		    i, st);
}

/* Build the n networks, as many compiles at a time as there are
 * processors (progress on stderr). */
static void
cbuild_all(struct cbuild *b, const char *cc, int profile, const struct arch_net *nets, int n,
    uint64_t seed)
{
	struct cli_progress p;
	pid_t *pid = cli_calloc(n, sizeof(*pid));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int i, running = 0;
	char *cmd;

	cbuild_start(b, cc, profile);
	cli_progress_start(&p, "compiling", n);
	fflush(NULL);
	for (i = 0; i < n; i++) {
		cmd = cbuild_net(b, i, &nets[i], seed + i);
		if (running >= (cpus > 0 ? cpus : 1)) {
			cbuild_wait(b, pid, n);
			running--;
			cli_progress(&p, i - running, NULL);
		}
		if ((pid[i] = fork()) < 0)
			err(EX_OSERR, "fork");
		if (pid[i] == 0) {
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
			_exit(127);
		}
		running++;
		free(cmd);
	}
	for (; running > 0; running--) {
		cbuild_wait(b, pid, n);
		cli_progress(&p, n - running + 1, NULL);
	}
	cli_progress_end(&p, NULL);
	free(pid);
}

/* One run of network i's timing main: tot[e * nr + q] the LAT_TIMED
 * passes of each exit e (ms), and with profile v[(e * np + k) * nr + q]
 * part k's. */
static void
cbuild_run(const struct cbuild *b, int i, const struct arch_net *net, double *tot, double *v,
    int nr)
{
	char q[8500], cmd[8600];
	int got[ARCH_EXITS + 1] = { 0 }, np = 1 + net->nblk + net->nexit, e, k = 0, j;
	double ms;
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "%s/%d", b->tmp, i);
	cli_sh_quote(q, sizeof(q), cmd);
	snprintf(cmd, sizeof(cmd), "%s/time", q);
	if (!(fp = popen(cmd, "r")))
		err(EX_OSERR, "%s", cmd);
	while (fscanf(fp, "%d %lf", &e, &ms) == 2 && e >= 0 && e < net->nexit &&
	    got[e] < LAT_TIMED) {
		for (j = 0; b->profile && j < np; j++)
			if (fscanf(fp, "%lf", &v[((size_t)e * np + j) * nr + got[e]]) != 1)
				break;
		if (b->profile && j < np)
			break;
		tot[e * nr + got[e]++] = ms;
		k++;
	}
	if (pclose(fp) != 0 || k != net->nexit * LAT_TIMED)
		errx(EX_SOFTWARE, "lat: %s failed (%d of %d timings)", cmd, k,
		    net->nexit * LAT_TIMED);
}

void
lat_measure(struct lat_table *t, const struct arch *base, int runtime, const char *cc,
    int repeats, uint64_t seed)
{
	struct cbuild cb;
	static const int ks[3] = { 3, 5, 7 }, es[3] = { 3, 4, 6 };
	char (*key)[LAT_KEY] = cli_calloc(LAT_PARTS, LAT_KEY);
	struct arch_net *nets = NULL, net;
	struct keyset ks_ = { 0 };
	struct runner *run;
	struct cli_progress p;
	struct nn_rng rng;
	struct lat_sample *smp;
	struct lat_pass *pass;
	double prof[LAT_TIMED * LAT_PARTS], all[LAT_TIMED], **v, **tot;
	long bytes[LAT_PARTS];
	int nn = 0, cap = 0, i, j, r, k, q, nk, np, ns = 0, no = 0, nsmp = 0, spread = 0;
	int nr = repeats * LAT_TIMED;
	int idx[LAT_PARTS];
	time_t tnow = time(NULL);

	memset(t, 0, sizeof(*t));
	t->base = *base;
	t->runtime = runtime;
	if (runtime == LAT_C)
		snprintf(t->cc, sizeof(t->cc), "%s", cc);
	t->repeats = repeats;
	t->threads = 1;
	gethostname(t->machine, sizeof(t->machine) - 1);
	lat_cpu_model(t->cpu, sizeof(t->cpu));
	strftime(t->date, sizeof(t->date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&tnow));

	/* carriers: the nine uniform networks, then drawn ones with new keys,
	 * and LAT_SPREAD more for working sets in between */
	nn_rng_seed(&rng, seed);
	for (i = 0; i < 9 + LAT_DRAWS; i++) {
		struct arch a = *base;
		int fresh = 0;

		if (i < 9) {
			arch_extreme(&a, base->space, 1);
			for (j = 0; j < ARCH_SLOTS; j++) {
				a.ks[j] = ks[i / 3];
				a.e[j] = es[i % 3];
			}
			arch_canonical(&a);
		} else {
			draw(&a, base, &rng);
		}
		arch_net_build(&net, &a);
		nk = lat_keys(key, &net);
		for (j = 0; j < nk; j++)
			if (key_find(&ks_, key[j]) < 0) {
				key_add(&ks_, key[j]);
				fresh = 1;
			}
		if (!fresh) {
			if (i < 9 || spread == LAT_SPREAD)
				continue;
			spread++;
		}
		if (nn == cap) {
			cap = cap ? 2 * cap : 32;
			if (!(nets = realloc(nets, cap * sizeof(*nets))))
				err(EX_SOFTWARE, "realloc");
		}
		nets[nn++] = net;
	}
	/* samples: v[net][(exit * parts + part) * nr + r] each part's time,
	 * tot[net][exit * nr + r] the pass's */
	run = cli_calloc(nn, sizeof(*run));
	v = cli_calloc(nn, sizeof(*v));
	tot = cli_calloc(nn, sizeof(*tot));
	for (i = 0; i < nn; i++) {
		np = 1 + nets[i].nblk + nets[i].nexit;
		if (runtime == LAT_ENGINE) {
			runner_init(&run[i], &nets[i], seed + i);
			runner_pass(&run[i], nets[i].nexit - 1, NULL);  /* pages in */
		}
		v[i] = cli_calloc((size_t)nets[i].nexit * np * nr, sizeof(double));
		tot[i] = cli_calloc((size_t)nets[i].nexit * nr, sizeof(double));
		nsmp += nets[i].nexit * np;
	}
	if (runtime == LAT_C)
		cbuild_all(&cb, cc, 1, nets, nn, seed);
	cli_progress_start(&p, "repeats", repeats);
	for (r = 0; r < repeats; r++) {
		for (i = 0; i < nn; i++) {
			np = 1 + nets[i].nblk + nets[i].nexit;
			if (runtime == LAT_C) {
				cbuild_run(&cb, i, &nets[i], tot[i] + r * LAT_TIMED,
				    v[i] + r * LAT_TIMED, nr);
				continue;
			}
			for (j = 0; j < nets[i].nexit; j++) {
				runner_stream(&run[i], j, all, prof, np);
				for (q = 0; q < LAT_TIMED; q++) {
					int x = r * LAT_TIMED + q;

					for (k = 0; k < np; k++)
						v[i][((size_t)j * np + k) * nr + x] =
						    prof[q * np + k] * 1e3;
					tot[i][j * nr + x] = all[q];
				}
			}
		}
		cli_progress(&p, r + 1, NULL);
	}
	{
		char extra[96];

		snprintf(extra, sizeof(extra), "%d configurations on %d carrier networks",
		    ks_.n, nn);
		cli_progress_end(&p, extra);
	}

	/* a sample per part of each carrier exit, the fastest of its repeats;
	 * the exit's fastest pass */
	smp = cli_calloc(nsmp, sizeof(*smp));
	pass = cli_calloc(nsmp, sizeof(*pass));
	for (i = 0; i < nn; i++) {
		np = lat_keys(key, &nets[i]);
		lat_part_bytes(bytes, &nets[i]);
		for (j = 0; j < nets[i].nexit; j++) {
			int ne = lat_exit_parts(idx, &nets[i], j);
			double ws = 0;

			for (k = 0; k < ne; k++)
				ws += bytes[idx[k]];
			pass[no].exits = j + 1;
			pass[no].ws = ws;
			pass[no].first = ns;
			pass[no].n = ne;
			pass[no++].ms = min_of(tot[i] + j * nr, nr);
			for (k = 0; k < ne; k++) {
				struct lat_sample *x = &smp[ns++];
				int e = key_find(&ks_, key[idx[k]]);
				double *vv = v[i] + ((size_t)j * np + idx[k]) * nr;

				x->key = e;
				x->bytes = bytes[idx[k]];
				x->ws = ws;
				x->ms = min_of(vv, nr);
				if (x->ms <= 0)         /* below the clock's tick */
					x->ms = 1e-6;
				for (r = 0; r < nr; r++)
					sample_add(&ks_, e, vv[r]);
				ks_.e[e].bytes = x->bytes;
			}
		}
	}
	t->n = ks_.n;
	t->e = ks_.e;
	lat_fit(t, smp, ns, pass, no);
	for (i = 0; i < t->n; i++) {
		t->e[i].n = ks_.nv[i];
		t->e[i].min_ms = min_of(ks_.v[i], ks_.nv[i]);
		free(ks_.v[i]);
	}
	qsort(t->e, t->n, sizeof(*t->e), cmp_key);
	for (i = 0; i < nn; i++) {
		if (runtime == LAT_ENGINE)
			runner_free(&run[i]);
		free(v[i]), free(tot[i]);
	}
	if (runtime == LAT_C)
		cbuild_end(&cb);
	free(run), free(v), free(tot);
	free(smp), free(pass);
	free(nets);
	free(ks_.v);
	free(ks_.nv);
	free(ks_.capv);
	free(key);
}

void
lat_free(struct lat_table *t)
{
	free(t->e);
	t->e = NULL;
	t->n = 0;
}

void
lat_put(struct rec_out *o, const struct lat_table *t)
{
	int i;

	rec_put_str(o, "machine", t->machine);
	rec_put_str(o, "cpu", t->cpu);
	rec_put_str(o, "date", t->date);
	rec_put_str(o, "runtime", lat_runtime_names[t->runtime]);
	if (t->runtime == LAT_C)
		rec_put_str(o, "cc", t->cc);
	rec_put_str(o, "space", arch_space_names[t->base.space]);
	rec_put_dbl(o, "width", t->base.width);
	rec_put_int(o, "resolution", t->base.resolution);
	rec_put_int(o, "in_ch", t->base.in_ch);
	rec_put_int(o, "classes", t->base.classes);
	rec_put_int(o, "threads", t->threads);
	rec_put_int(o, "batch", 1);
	rec_put_int(o, "repeats", t->repeats);
	rec_put_str(o, "stat", "fastest");
	rec_put_dbls(o, "ws_bytes", t->ws_bytes, t->nknot);
	rec_put_dbls(o, "ws_ms_per_mb", t->ws_ms_per_mb, t->nknot);
	rec_put_dbl(o, "image_ms", t->image_ms);
	rec_put_dbl(o, "exit_ms", t->exit_ms);
	rec_put_int(o, "fit_points", t->fit_points);
	rec_put_dbl(o, "fit_mape", t->fit_mape);
	rec_put_dbl(o, "fit_max_ape", t->fit_max_ape);
	rec_key(o, "entries");
	msgpack_pack_array(&o->pk, t->n);
	for (i = 0; i < t->n; i++) {
		msgpack_pack_map(&o->pk, 5);
		rec_pack_str(&o->pk, "key");
		rec_pack_str(&o->pk, t->e[i].key);
		rec_pack_str(&o->pk, "ms");
		msgpack_pack_double(&o->pk, t->e[i].ms);
		rec_pack_str(&o->pk, "min_ms");
		msgpack_pack_double(&o->pk, t->e[i].min_ms);
		rec_pack_str(&o->pk, "bytes");
		msgpack_pack_int64(&o->pk, t->e[i].bytes);
		rec_pack_str(&o->pk, "n");
		msgpack_pack_int(&o->pk, t->e[i].n);
	}
}

void
lat_read(struct lat_table *t, const struct rec_in *r, const msgpack_object *m)
{
	const msgpack_object *a;
	uint32_t i;
	int j;

	memset(t, 0, sizeof(*t));
	if (!rec_is(m, "lat"))
		rec_fail(r, "type", "not \"lat\" (a latency table, lat-table writes one)");
	if (rec_int(r, m, "v", 1, 1 << 30) != 2)
		rec_fail(r, "v", "%ld: a latency table of another version than 2 (version 1 "
		    "has no working-set model): measure it again with lat-table",
		    rec_int(r, m, "v", 1, 1 << 30));
	rec_str(r, m, "machine", t->machine, sizeof(t->machine));
	rec_str(r, m, "cpu", t->cpu, sizeof(t->cpu));
	rec_str(r, m, "date", t->date, sizeof(t->date));
	t->base.space = rec_choice(r, m, "space", arch_space_names);
	/* tables before the exported C's have no runtime */
	t->runtime = rec_get(m, "runtime") ? rec_choice(r, m, "runtime", lat_runtime_names) :
	    LAT_ENGINE;
	if (t->runtime == LAT_C)
		rec_str(r, m, "cc", t->cc, sizeof(t->cc));
	t->base.width = rec_dbl(r, m, "width", 0.1, 4.0);
	t->base.resolution = (int)rec_int(r, m, "resolution", 16, 1024);
	t->base.in_ch = (int)rec_int(r, m, "in_ch", 1, 64);
	t->base.classes = (int)rec_int(r, m, "classes", 2, 100000);
	t->threads = (int)rec_int(r, m, "threads", 1, 1024);
	t->repeats = (int)rec_int(r, m, "repeats", 1, 1 << 30);
	a = rec_arr(r, m, "ws_bytes", -1);
	if (a->via.array.size < 1 || a->via.array.size > LAT_KNOTS)
		rec_fail(r, "ws_bytes", "%u knots, not 1 to %d", a->via.array.size, LAT_KNOTS);
	t->nknot = (int)a->via.array.size;
	rec_dbls(r, m, "ws_bytes", t->ws_bytes, t->nknot, 1, 1e12);
	for (j = 1; j < t->nknot; j++)
		if (t->ws_bytes[j] <= t->ws_bytes[j - 1])
			rec_fail(r, "ws_bytes", "knot %d (%g) not above knot %d (%g)", j + 1,
			    t->ws_bytes[j], j, t->ws_bytes[j - 1]);
	rec_dbls(r, m, "ws_ms_per_mb", t->ws_ms_per_mb, t->nknot, -1e3, 1e3);
	if (t->ws_ms_per_mb[0] != 0)
		rec_fail(r, "ws_ms_per_mb", "%g at the first knot, not 0 (the entries are the "
		    "parts' times there)", t->ws_ms_per_mb[0]);
	t->image_ms = rec_dbl(r, m, "image_ms", 0, 1e9);
	t->exit_ms = rec_dbl(r, m, "exit_ms", 0, 1e9);
	t->fit_points = (int)rec_int(r, m, "fit_points", 0, 1 << 30);
	t->fit_mape = rec_dbl(r, m, "fit_mape", 0, 1e9);
	t->fit_max_ape = rec_dbl(r, m, "fit_max_ape", t->fit_mape, 1e9);
	a = rec_arr(r, m, "entries", -1);
	if (a->via.array.size > 100000)
		rec_fail(r, "entries", "%u entries, more than 100000", a->via.array.size);
	t->n = (int)a->via.array.size;
	t->e = cli_calloc(t->n, sizeof(*t->e));
	for (i = 0; i < a->via.array.size; i++) {
		const msgpack_object *x = &a->via.array.ptr[i];

		if (x->type != MSGPACK_OBJECT_MAP)
			rec_fail(r, "entries", "entry %u is not a map", i);
		rec_str(r, x, "key", t->e[i].key, LAT_KEY);
		t->e[i].ms = rec_dbl(r, x, "ms", 0, 1e9);
		t->e[i].min_ms = rec_dbl(r, x, "min_ms", 0, 1e9);
		t->e[i].bytes = rec_int(r, x, "bytes", 0, 1L << 40);
		t->e[i].n = (int)rec_int(r, x, "n", 1, 1 << 30);
		/* lat_predict's binary search needs them sorted */
		if (i > 0 && strcmp(t->e[i - 1].key, t->e[i].key) >= 0)
			rec_fail(r, "entries", "entry %u (\"%s\") not after entry %u (\"%s\"): keys "
			    "unsorted or repeated", i, t->e[i].key, i - 1, t->e[i - 1].key);
	}
}

void
lat_load(struct lat_table *t, const char *path)
{
	const msgpack_object *m;
	struct rec_in r;
	char cpu[128];

	rec_in_open(&r, path);
	if ((m = rec_next(&r)) == NULL)
		errx(EX_DATAERR, "%s: no latency table record", path);
	lat_read(t, &r, m);
	lat_cpu_model(cpu, sizeof(cpu));
	if (strcmp(cpu, t->cpu) != 0)
		rec_fail(&r, "cpu", "\"%s\": the table was measured on another machine (%s); this "
		    "one is \"%s\": measure one here with lat-table", t->cpu, t->machine, cpu);
	rec_in_close(&r);
}

int
lat_predict(double *exit_ms, const struct lat_table *t, const struct arch_net *net,
    char *what, size_t n)
{
	char (*key)[LAT_KEY] = cli_calloc(LAT_PARTS, LAT_KEY);
	double part[LAT_PARTS];
	const struct lat_entry *hit[LAT_PARTS];
	const struct arch *a = &net->a;
	long bytes[LAT_PARTS];
	int idx[LAT_PARTS], nk, ne, i, j, lo, hi, c;

	*what = '\0';
	if (a->space != t->base.space || a->width != t->base.width ||
	    a->resolution != t->base.resolution || a->in_ch != t->base.in_ch ||
	    a->classes != t->base.classes) {
		snprintf(what, n, "%s", a->space != t->base.space ? "space" :
		    a->width != t->base.width ? "width" : a->resolution != t->base.resolution ?
		    "resolution" : a->in_ch != t->base.in_ch ? "in_ch" : "classes");
		free(key);
		return -1;
	}
	nk = lat_keys(key, net);
	lat_part_bytes(bytes, net);
	for (i = 0; i < nk; i++) {
		hit[i] = NULL;
		for (lo = 0, hi = t->n - 1; lo <= hi;) {
			int mid = (lo + hi) / 2;

			if ((c = strcmp(key[i], t->e[mid].key)) == 0) {
				hit[i] = &t->e[mid];
				break;
			}
			if (c < 0)
				hi = mid - 1;
			else
				lo = mid + 1;
		}
		if (!hit[i] || hit[i]->bytes != bytes[i]) {
			snprintf(what, n, "%s%s", hit[i] ? "bytes of " : "", key[i]);
			free(key);
			return -1;
		}
	}
	/* each exit's parts at its own working set */
	for (i = 0; i < net->nexit; i++) {
		double ws = 0, c_mb;

		ne = lat_exit_parts(idx, net, i);
		for (j = 0; j < ne; j++)
			ws += bytes[idx[j]];
		c_mb = lat_ws_cost(t, ws);
		exit_ms[i] = t->image_ms + (i + 1) * t->exit_ms;
		for (j = 0; j < ne; j++) {
			part[j] = hit[idx[j]]->ms + hit[idx[j]]->bytes / 1e6 * c_mb;
			exit_ms[i] += part[j] > 0 ? part[j] : 0;
		}
	}
	free(key);
	return 0;
}

void
lat_run(double *exit_ms, double *exit_min, const struct arch_net *nets, int n, int runtime,
    const char *cc, int repeats, uint64_t seed)
{
	struct runner *run = NULL;
	struct cbuild cb;
	int nr = repeats * LAT_TIMED, i, j, r;
	double *v = cli_calloc((size_t)n * (ARCH_EXITS + 1) * nr, sizeof(*v));
	struct cli_progress p;

	if (runtime == LAT_C) {
		cbuild_all(&cb, cc, 0, nets, n, seed);
	} else {
		run = cli_calloc(n, sizeof(*run));
		for (i = 0; i < n; i++) {
			runner_init(&run[i], &nets[i], seed + i);
			runner_pass(&run[i], nets[i].nexit - 1, NULL);
		}
	}
	cli_progress_start(&p, "repeats", repeats);
	for (r = 0; r < repeats; r++) {
		for (i = 0; i < n; i++) {
			double *vi = v + (size_t)i * (ARCH_EXITS + 1) * nr + r * LAT_TIMED;

			if (runtime == LAT_C)
				cbuild_run(&cb, i, &nets[i], vi, NULL, nr);
			else
				for (j = 0; j < nets[i].nexit; j++)
					runner_stream(&run[i], j, vi + (size_t)j * nr, NULL, 0);
		}
		cli_progress(&p, r + 1, NULL);
	}
	cli_progress_end(&p, NULL);
	for (i = 0; i < n; i++) {
		for (j = 0; j < nets[i].nexit; j++) {
			double *x = v + ((size_t)i * (ARCH_EXITS + 1) + j) * nr;

			if (exit_min)
				exit_min[i * (ARCH_EXITS + 1) + j] = min_of(x, nr);
			exit_ms[i * (ARCH_EXITS + 1) + j] = stats_median(x, nr);
		}
		if (run)
			runner_free(&run[i]);
	}
	if (runtime == LAT_C)
		cbuild_end(&cb);
	free(run);
	free(v);
}

const char *const lat_cost_names[] = { "macs", "latency", NULL };

void
lat_cost_init(struct lat_cost *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = LAT_COST_MACS;
	c->max = NAN;
}

int
lat_cost_option(struct lat_cost *c, int opt, const char *arg)
{
	switch (opt) {
	case LAT_O_COST:
		c->kind = cli_choice("--cost", arg, lat_cost_names);
		return 1;
	case LAT_O_TABLE:
		c->path = arg;
		return 1;
	case LAT_O_MAX:
		c->max = cli_double("--lat-max", arg, 1e-9, 1e9);
		return 1;
	}
	return 0;
}

void
lat_cost_finish(struct lat_cost *c, const char *macs_opt, int macs_given, int table)
{
	if (c->path && !table)
		errx(EX_USAGE, "--latency: no table here (the records and the cost model carry "
		    "the latency)");
	if (c->kind != LAT_COST_LATENCY) {
		if (!isnan(c->max))
			errx(EX_USAGE, "--lat-max: a latency constraint, only with --cost latency");
		if (c->path && table)
			errx(EX_USAGE, "--latency: the table of --cost latency; give that too");
		return;
	}
	if (macs_given)
		errx(EX_USAGE, "%s constrains MACs; with --cost latency the constraint is "
		    "--lat-max (milliseconds)", macs_opt);
	if (!table)
		return;
	if (!c->path)
		errx(EX_USAGE, "--cost latency: needs --latency TABLE (lat-table writes one)");
	lat_load(&c->t, c->path);
}

void
lat_cost_free(struct lat_cost *c)
{
	lat_free(&c->t);
}

void
lat_exits(double *exit_ms, const struct lat_table *t, const char *path, const struct rec_in *r,
    const struct arch_net *net)
{
	char what[LAT_KEY + 32];

	if (lat_predict(exit_ms, t, net, what, sizeof(what)) == 0)
		return;
	if (strncmp(what, "bytes of ", 9) == 0)
		rec_fail(r, "genome", "%s: the entry \"%s\" has other weights than this "
		    "network's part (a table of an older engine: measure it again)", path,
		    what + 9);
	if (strchr(what, ' '))
		rec_fail(r, "genome", "%s has no entry for \"%s\" (a table of another space "
		    "or an older lat-table: measure it again)", path, what);
	rec_fail(r, what, "differs from the latency table %s (measured for width %g, "
	    "resolution %d, in_ch %d, %d classes, space %s)", path, t->base.width,
	    t->base.resolution, t->base.in_ch, t->base.classes, arch_space_names[t->base.space]);
}

void
lat_heads(double *head_ms, const struct lat_table *t, const char *path, const struct rec_in *r,
    const struct arch_net *net)
{
	double all[ARCH_EXITS + 1], less[ARCH_EXITS + 1];
	int B = net->nexit, k;

	lat_exits(all, t, path, r, net);
	for (k = 0; k < B - 1; k++) {
		struct arch_net n = *net;

		arch_net_drop_exits(&n, 1u << k);
		lat_exits(less, t, path, r, &n);
		head_ms[k] = all[B - 1] - less[B - 2];
	}
	head_ms[B - 1] = 0;
}

void
lat_cost_put(struct rec_out *o, const struct lat_cost *c, const double *exit_ms, int nexit)
{
	rec_put_str(o, "cost", lat_cost_names[c->kind]);
	if (c->kind != LAT_COST_LATENCY)
		return;
	rec_put_dbls(o, "exit_latency", exit_ms, nexit);
	if (!isnan(c->max))
		rec_put_dbl(o, "lat_max", c->max);
}

void
lat_cost_check_record(const struct lat_cost *c, const struct rec_in *r, const msgpack_object *m)
{
	char s[16] = "macs";

	if (rec_get(m, "cost"))
		rec_str(r, m, "cost", s, sizeof(s));
	if (strcmp(s, lat_cost_names[c->kind]) != 0)
		rec_fail(r, "cost", "\"%s\": the record was tuned for another cost than "
		    "--cost %s", s, lat_cost_names[c->kind]);
}
