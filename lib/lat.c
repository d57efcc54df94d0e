/* lat.c - see lat.h. */
#define _GNU_SOURCE
#include "lat.h"

#include <err.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "model.h"
#include "nachos.h"
#include "nn.h"
#include "stats.h"

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

/* One model per network at batch 1, random weights and input. */
struct runner {
	struct model m;
	float *x;
};

static void
runner_init(struct runner *r, const struct arch_net *net, uint64_t seed)
{
	long n = (long)net->in_ch * net->res * net->res, i;
	struct nn_rng rng;

	model_build(&r->m, net, 0, 1);
	model_init(&r->m, seed);
	r->x = cli_calloc(n, sizeof(float));
	nn_rng_seed(&rng, seed ^ 0x78ULL);
	for (i = 0; i < n; i++)
		r->x[i] = (float)(nn_rng_u32(&rng) * (1.0 / 4294967296.0) - 0.5);
}

static void
runner_free(struct runner *r)
{
	model_free(&r->m);
	free(r->x);
}

/* Step through every exit once; prof (may be NULL) gets each part's
 * seconds, cum (may be NULL) the seconds from the input to each exit's
 * logits. */
static void
runner_pass(struct runner *r, double *prof, double *cum)
{
	double t0;
	int i;

	r->m.prof = prof;
	if (prof)
		memset(prof, 0, (1 + r->m.net.nblk + r->m.nexit) * sizeof(*prof));
	t0 = cli_now();
	model_step_begin(&r->m, r->x, 1);
	for (i = 0; i < r->m.nexit; i++) {
		model_step_exit(&r->m, i);
		if (cum)
			cum[i] = cli_now() - t0;
	}
	r->m.prof = NULL;
}

void
lat_measure(struct lat_table *t, const struct arch *base, int repeats, uint64_t seed)
{
	static const int ks[3] = { 3, 5, 7 }, es[3] = { 3, 4, 6 };
	char (*key)[LAT_KEY] = cli_calloc(LAT_PARTS, LAT_KEY);
	struct arch_net *nets = NULL, net;
	struct keyset ks_ = { 0 };
	struct runner *run;
	struct cli_progress p;
	struct nn_rng rng;
	double prof[LAT_PARTS];
	int nn = 0, cap = 0, i, j, r, nk;
	time_t tnow = time(NULL);

	memset(t, 0, sizeof(*t));
	t->base = *base;
	t->repeats = repeats;
	t->threads = 1;
	gethostname(t->machine, sizeof(t->machine) - 1);
	lat_cpu_model(t->cpu, sizeof(t->cpu));
	strftime(t->date, sizeof(t->date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&tnow));

	/* carriers: the nine uniform networks, then drawn ones with new keys */
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
		if (!fresh)
			continue;
		if (nn == cap) {
			cap = cap ? 2 * cap : 32;
			if (!(nets = realloc(nets, cap * sizeof(*nets))))
				err(EX_SOFTWARE, "realloc");
		}
		nets[nn++] = net;
	}
	run = cli_calloc(nn, sizeof(*run));
	for (i = 0; i < nn; i++) {
		runner_init(&run[i], &nets[i], seed + i);
		runner_pass(&run[i], NULL, NULL);     /* warm up: pages, caches */
	}
	cli_progress_start(&p, "repeats", repeats);
	for (r = 0; r < repeats; r++) {
		for (i = 0; i < nn; i++) {
			nk = lat_keys(key, &nets[i]);
			/* hot, as a network streaming images runs: the
			 * pass before the timed one brings its weights in */
			runner_pass(&run[i], NULL, NULL);
			runner_pass(&run[i], prof, NULL);
			for (j = 0; j < nk; j++)
				sample_add(&ks_, key_find(&ks_, key[j]), prof[j] * 1e3);
		}
		cli_progress(&p, r + 1, NULL);
	}
	{
		char extra[96];

		snprintf(extra, sizeof(extra), "%d configurations on %d carrier networks",
		    ks_.n, nn);
		cli_progress_end(&p, extra);
	}
	t->n = ks_.n;
	t->e = ks_.e;
	for (i = 0; i < t->n; i++) {
		t->e[i].n = ks_.nv[i];
		t->e[i].ms = stats_median(ks_.v[i], ks_.nv[i]);
		t->e[i].min_ms = ks_.v[i][0];    /* sorted by median */
		free(ks_.v[i]);
	}
	qsort(t->e, t->n, sizeof(*t->e), cmp_key);
	for (i = 0; i < nn; i++)
		runner_free(&run[i]);
	free(run);
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
	rec_put_str(o, "space", arch_space_names[t->base.space]);
	rec_put_dbl(o, "width", t->base.width);
	rec_put_int(o, "resolution", t->base.resolution);
	rec_put_int(o, "in_ch", t->base.in_ch);
	rec_put_int(o, "classes", t->base.classes);
	rec_put_int(o, "threads", t->threads);
	rec_put_int(o, "batch", 1);
	rec_put_int(o, "repeats", t->repeats);
	rec_put_str(o, "stat", "median");
	rec_key(o, "entries");
	msgpack_pack_array(&o->pk, t->n);
	for (i = 0; i < t->n; i++) {
		msgpack_pack_map(&o->pk, 4);
		rec_pack_str(&o->pk, "key");
		rec_pack_str(&o->pk, t->e[i].key);
		rec_pack_str(&o->pk, "ms");
		msgpack_pack_double(&o->pk, t->e[i].ms);
		rec_pack_str(&o->pk, "min_ms");
		msgpack_pack_double(&o->pk, t->e[i].min_ms);
		rec_pack_str(&o->pk, "n");
		msgpack_pack_int(&o->pk, t->e[i].n);
	}
}

void
lat_read(struct lat_table *t, const struct rec_in *r, const msgpack_object *m)
{
	const msgpack_object *a;
	char sp[16];
	uint32_t i;

	memset(t, 0, sizeof(*t));
	if (!rec_is(m, "lat"))
		rec_fail(r, "type", "not \"lat\" (a latency table, lat-table writes one)");
	rec_str(r, m, "machine", t->machine, sizeof(t->machine));
	rec_str(r, m, "cpu", t->cpu, sizeof(t->cpu));
	rec_str(r, m, "date", t->date, sizeof(t->date));
	rec_str(r, m, "space", sp, sizeof(sp));
	for (i = 0; arch_space_names[i] && strcmp(arch_space_names[i], sp); i++)
		;
	if (!arch_space_names[i])
		rec_fail(r, "space", "\"%s\" is not one of nachos, edanas, aebnas", sp);
	t->base.space = i;
	t->base.width = rec_dbl(r, m, "width", 0.1, 4.0);
	t->base.resolution = (int)rec_int(r, m, "resolution", 16, 1024);
	t->base.in_ch = (int)rec_int(r, m, "in_ch", 1, 64);
	t->base.classes = (int)rec_int(r, m, "classes", 2, 100000);
	t->threads = (int)rec_int(r, m, "threads", 1, 1024);
	t->repeats = (int)rec_int(r, m, "repeats", 1, 1 << 30);
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
		t->e[i].min_ms = rec_dbl(r, x, "min_ms", 0, t->e[i].ms);
		t->e[i].n = (int)rec_int(r, x, "n", 1, 1 << 30);
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
lat_predict(double *exit_ms, const struct lat_table *t, const struct arch_net *net, int fastest,
    char *what, size_t n)
{
	char (*key)[LAT_KEY] = cli_calloc(LAT_PARTS, LAT_KEY);
	double part[LAT_PARTS], bb = 0, heads = 0;
	const struct arch *a = &net->a;
	int nk, i, b = 0, lo, hi, c;

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
	for (i = 0; i < nk; i++) {
		part[i] = -1;
		for (lo = 0, hi = t->n - 1; lo <= hi;) {
			int mid = (lo + hi) / 2;

			if ((c = strcmp(key[i], t->e[mid].key)) == 0) {
				part[i] = fastest ? t->e[mid].min_ms : t->e[mid].ms;
				break;
			}
			if (c < 0)
				hi = mid - 1;
			else
				lo = mid + 1;
		}
		if (part[i] < 0) {
			snprintf(what, n, "%s", key[i]);
			free(key);
			return -1;
		}
	}
	bb = part[0];
	for (i = 0; i < net->nexit; i++) {
		for (; b <= net->ex[i].after; b++)
			bb += part[1 + b];
		heads += part[1 + net->nblk + i];
		exit_ms[i] = bb + heads;
	}
	free(key);
	return 0;
}

void
lat_run(double *exit_ms, double *exit_min, const struct arch_net *nets, int n, int repeats,
    uint64_t seed)
{
	struct runner *run = cli_calloc(n, sizeof(*run));
	double *v = cli_calloc((size_t)n * (ARCH_EXITS + 1) * repeats, sizeof(*v));
	double cum[ARCH_EXITS + 1];
	int i, j, r;

	for (i = 0; i < n; i++) {
		runner_init(&run[i], &nets[i], seed + i);
		runner_pass(&run[i], NULL, NULL);
	}
	for (r = 0; r < repeats; r++)
		for (i = 0; i < n; i++) {
			runner_pass(&run[i], NULL, NULL);    /* hot, as lat_measure */
			runner_pass(&run[i], NULL, cum);
			for (j = 0; j < nets[i].nexit; j++)
				v[((size_t)i * (ARCH_EXITS + 1) + j) * repeats + r] = cum[j] * 1e3;
		}
	for (i = 0; i < n; i++) {
		for (j = 0; j < nets[i].nexit; j++)
			exit_ms[i * (ARCH_EXITS + 1) + j] =
			    stats_median(v + ((size_t)i * (ARCH_EXITS + 1) + j) * repeats, repeats);
		if (exit_min)   /* median sorted them */
			for (j = 0; j < nets[i].nexit; j++)
				exit_min[i * (ARCH_EXITS + 1) + j] =
				    v[((size_t)i * (ARCH_EXITS + 1) + j) * repeats];
		runner_free(&run[i]);
	}
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

	/* The fastest samples: on a machine shared with other work a
	 * preemption only ever adds time, and it falls on the medians of some
	 * parts more than others (lat-table --check: rank correlation 0.998
	 * and 1.7% error for the fastest at a load of 16 on 2 cores, 0.975 and
	 * 38% for the medians). */
	if (lat_predict(exit_ms, t, net, 1, what, sizeof(what)) == 0)
		return;
	if (strchr(what, ' '))
		rec_fail(r, "genome", "%s has no entry for \"%s\" (a table of another space "
		    "or an older lat-table: measure it again)", path, what);
	rec_fail(r, what, "differs from the latency table %s (measured for width %g, "
	    "resolution %d, in_ch %d, %d classes, space %s)", path, t->base.width,
	    t->base.resolution, t->base.in_ch, t->base.classes, arch_space_names[t->base.space]);
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
