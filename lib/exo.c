/* exo.c - see exo.h and formats/exo.md. */
#include "exo.h"

#include <err.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nachos.h"

/* The per-exit float quantities, in record key order. */
static const char *const fkeys[] = { "conf", "cumw", "maxp", "margin", "entropy" };
#define NFQ 5

static float **
fq(struct exo *e, int q)
{
	float **p[NFQ] = { &e->conf, &e->cumw, &e->maxp, &e->margin, &e->entropy };

	return p[q];
}

void
exo_alloc(struct exo *e, const char *split, long n, int nexit, int classes)
{
	int q;

	if (n < 1 || n > EXO_MAX_SAMPLES || nexit < 1 || nexit > EXO_MAX_EXITS || classes < 2)
		errx(EX_SOFTWARE, "exo_alloc: bad sizes n %ld, exits %d, classes %d",
		    n, nexit, classes);
	memset(e, 0, sizeof(*e));
	snprintf(e->split, sizeof(e->split), "%s", split);
	e->n = n;
	e->nexit = nexit;
	e->classes = classes;
	e->label = cli_calloc(n, sizeof(int32_t));
	e->pred = cli_calloc((size_t)nexit * n, sizeof(int32_t));
	for (q = 0; q < NFQ; q++)
		*fq(e, q) = cli_calloc((size_t)nexit * n, sizeof(float));
}

void
exo_free(struct exo *e)
{
	int q;

	free(e->label);
	free(e->pred);
	for (q = 0; q < NFQ; q++)
		free(*fq(e, q));
	memset(e, 0, sizeof(*e));
}

static float
clamp01(double v)
{
	return (float)(v < 0 ? 0 : v > 1 ? 1 : v);
}

void
exo_fill_exit(struct exo *e, long j, int i, const float *logits, const float *conf_logit)
{
	int k, K = e->classes, top = 0;
	long at = (long)i * e->n + j;
	double mx = logits[0], sum = 0, p1 = -1, p2 = -1, h = 0, prod = 1;

	for (k = 1; k < K; k++)
		if (logits[k] > mx) {
			mx = logits[k];
			top = k;
		}
	for (k = 0; k < K; k++)
		sum += exp(logits[k] - mx);
	for (k = 0; k < K; k++) {
		double p = exp(logits[k] - mx) / sum;

		if (p > p1) {
			p2 = p1;
			p1 = p;
		} else if (p > p2) {
			p2 = p;
		}
		if (p > 0)
			h -= p * log(p);
	}
	e->pred[at] = top;
	e->maxp[at] = clamp01(p1);
	e->margin[at] = clamp01(p1 - p2);
	e->entropy[at] = clamp01(1 - h / log(K));
	if (i == e->nexit - 1) {
		e->conf[at] = 1;
		e->cumw[at] = 1;
		return;
	}
	e->conf[at] = conf_logit ? clamp01(1 / (1 + exp(-(double)*conf_logit))) : 0;
	/* W_i = 1 - prod_{k<=i} (1 - c_k), from the stored floats only. */
	for (k = 0; k <= i; k++)
		prod *= 1 - (double)e->conf[(long)k * e->n + j];
	e->cumw[at] = clamp01(1 - prod);
}

void
exo_fill(struct exo *e, long j, int label, const float *logits, const float *conf_logits)
{
	int i;

	e->label[j] = label;
	for (i = 0; i < e->nexit; i++)
		exo_fill_exit(e, j, i, logits + (long)i * e->classes,
		    conf_logits && i < e->nexit - 1 ? conf_logits + i : NULL);
}

/* ---- writing ---- */

static void
put_bin(struct rec_out *o, const void *v /* (n) 4-byte words */, long n)
{
	unsigned char *b = cli_calloc(n, 4);
	const uint32_t *w = v;
	long j;

	for (j = 0; j < n; j++) {
		b[4 * j] = w[j] & 0xff;
		b[4 * j + 1] = w[j] >> 8 & 0xff;
		b[4 * j + 2] = w[j] >> 16 & 0xff;
		b[4 * j + 3] = w[j] >> 24;
	}
	msgpack_pack_bin(&o->pk, 4 * n);
	msgpack_pack_bin_body(&o->pk, b, 4 * n);
	free(b);
}

/* Pack e as one exo record onto fp; exits EX_IOERR on a write error. */
static void
exo_put(FILE *fp, const struct exo *e)
{
	struct rec_out o;
	int i, q;

	rec_out_init(&o);
	rec_out_begin(&o, NULL, "exo", EXO_VERSION);
	rec_put_str(&o, "split", e->split);
	rec_put_ints(&o, "genome", e->genome, e->ngenome);
	if (e->id[0])
		rec_put_str(&o, "id", e->id);
	if (e->weights[0])
		rec_put_str(&o, "weights", e->weights);
	rec_put_int(&o, "n", e->n);
	rec_put_int(&o, "nexit", e->nexit);
	rec_put_int(&o, "classes", e->classes);
	rec_put_longs(&o, "exit_spent", e->spent, e->nexit);
	rec_put_longs(&o, "exit_cost", e->cost, e->nexit);
	rec_put_ints(&o, "exit_stages", e->stage, e->nexit);
	rec_key(&o, "label");
	put_bin(&o, e->label, e->n);
	rec_key(&o, "pred");
	msgpack_pack_array(&o.pk, e->nexit);
	for (i = 0; i < e->nexit; i++)
		put_bin(&o, e->pred + (long)i * e->n, e->n);
	for (q = 0; q < NFQ; q++) {
		const float *a = *fq((struct exo *)e, q);

		rec_key(&o, fkeys[q]);
		msgpack_pack_array(&o.pk, e->nexit);
		for (i = 0; i < e->nexit; i++)
			put_bin(&o, a + (long)i * e->n, e->n);
	}
	rec_out_end(&o, fp);
	rec_out_free(&o);
}

static int
same_eenn(const struct exo *a, const struct exo *b, const char **what)
{
	int i;

	*what = "nexit";
	if (a->nexit != b->nexit)
		return 0;
	*what = "classes";
	if (a->classes != b->classes)
		return 0;
	*what = "genome";
	if (a->ngenome != b->ngenome ||
	    memcmp(a->genome, b->genome, a->ngenome * sizeof(int)) != 0)
		return 0;
	*what = "id";
	if (strcmp(a->id, b->id) != 0)
		return 0;
	*what = "weights";
	if (strcmp(a->weights, b->weights) != 0)
		return 0;
	for (i = 0; i < a->nexit; i++) {
		*what = "exit_spent";
		if (a->spent[i] != b->spent[i])
			return 0;
		*what = "exit_cost";
		if (a->cost[i] != b->cost[i])
			return 0;
		*what = "exit_stages";
		if (a->stage[i] != b->stage[i])
			return 0;
	}
	return 1;
}

void
exo_write(const char *path, const struct exo *val, const struct exo *test)
{
	struct cli_out out;
	const char *what;

	if (strcmp(val->split, "val") != 0 || strcmp(test->split, "test") != 0 ||
	    !same_eenn(val, test, &what))
		errx(EX_SOFTWARE, "exo_write: %s: the val and test outputs do not match",
		    path);
	cli_out_open(&out, path);
	exo_put(out.fp, val);
	exo_put(out.fp, test);
	cli_out_commit(&out);
}

/* ---- reading ---- */

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* One per-sample array: bin of n little-endian words or an array of n
 * numbers. isint: int32 values in [0, hi); else float32 in [0, 1]. */
static void
get_words(const struct rec_in *r, const char *key, const msgpack_object *o,
    void *out /* (n) */, long n, int isint, long hi)
{
	int32_t *iv = out;
	float *fv = out;
	long j;

	if (o->type == MSGPACK_OBJECT_BIN) {
		const unsigned char *b = (const unsigned char *)o->via.bin.ptr;

		if ((long)o->via.bin.size != 4 * n)
			rec_fail(r, key, "has %u bytes, not %ld (%ld samples x 4)",
			    o->via.bin.size, 4 * n, n);
		for (j = 0; j < n; j++) {
			uint32_t w = le32(b + 4 * j);

			if (isint)
				memcpy(&iv[j], &w, 4);
			else
				memcpy(&fv[j], &w, 4);
		}
	} else if (o->type == MSGPACK_OBJECT_ARRAY) {
		if ((long)o->via.array.size != n)
			rec_fail(r, key, "has %u elements, not %ld", o->via.array.size, n);
		for (j = 0; j < n; j++) {
			const msgpack_object *x = &o->via.array.ptr[j];
			double v = rec_num(x);

			if (!rec_isnum(x) || (isint && v != floor(v)))
				rec_fail(r, key, "element %ld is not %s", j,
				    isint ? "an integer" : "a number");
			if (isint)
				iv[j] = v < 0 || v >= hi ? -1 : (int32_t)v;
			else
				fv[j] = (float)v;
		}
	} else {
		rec_fail(r, key, "not bin data or an array");
	}
	for (j = 0; j < n; j++) {
		if (isint && (iv[j] < 0 || iv[j] >= hi))
			rec_fail(r, key, "element %ld is not a class in [0, %ld)", j, hi);
		if (!isint && !(fv[j] >= 0 && fv[j] <= 1))
			rec_fail(r, key, "element %ld (%g) is not in [0, 1]", j, fv[j]);
	}
}

/* key: an array of B per-sample arrays into out (B, N). */
static void
get_per_exit(const struct rec_in *r, const msgpack_object *m, const char *key,
    const struct exo *e, void *out, int isint)
{
	const msgpack_object *a = rec_arr(r, m, key, e->nexit);
	char k[64];
	int i;

	for (i = 0; i < e->nexit; i++) {
		snprintf(k, sizeof(k), "%s[%d]", key, i);
		get_words(r, k, &a->via.array.ptr[i],
		    (char *)out + (size_t)4 * i * e->n, e->n, isint, e->classes);
	}
}

static void
get_macs(const struct rec_in *r, const msgpack_object *m, const char *key, long *out, int n)
{
	double v[EXO_MAX_EXITS];
	int i;

	rec_dbls(r, m, key, v, n, 0, 1e15);
	for (i = 0; i < n; i++) {
		if (v[i] != floor(v[i]))
			rec_fail(r, key, "element %d (%g) is not an integer", i, v[i]);
		out[i] = (long)v[i];
	}
}

static void
opt_str(const struct rec_in *r, const msgpack_object *m, const char *key, char *buf, size_t n)
{
	buf[0] = '\0';
	if (rec_get(m, key))
		rec_str(r, m, key, buf, n);
}

/* The size of one per-sample array: n words of bin data or n elements. */
static void
check_words(const struct rec_in *r, const char *key, const msgpack_object *o, long n)
{
	if (o->type == MSGPACK_OBJECT_BIN && (long)o->via.bin.size != 4 * n)
		rec_fail(r, key, "has %u bytes, not %ld (%ld samples x 4)", o->via.bin.size,
		    4 * n, n);
	if (o->type == MSGPACK_OBJECT_ARRAY && (long)o->via.array.size != n)
		rec_fail(r, key, "has %u elements, not %ld", o->via.array.size, n);
	if (o->type != MSGPACK_OBJECT_BIN && o->type != MSGPACK_OBJECT_ARRAY)
		rec_fail(r, key, "not bin data or an array");
}

/* Every per-sample array against n and nexit before exo_alloc reserves
 * (2 + 5) x nexit x n words: the record must hold what its header says. */
static void
check_shapes(const struct rec_in *r, const msgpack_object *m, long n, int nexit)
{
	const msgpack_object *a;
	char k[64];
	int q, i;

	if ((a = rec_get(m, "label")) == NULL)
		rec_fail(r, "label", "missing");
	check_words(r, "label", a, n);
	for (q = -1; q < NFQ; q++) {
		const char *key = q < 0 ? "pred" : fkeys[q];

		a = rec_arr(r, m, key, nexit);
		for (i = 0; i < nexit; i++) {
			snprintf(k, sizeof(k), "%s[%d]", key, i);
			check_words(r, k, &a->via.array.ptr[i], n);
		}
	}
}

void
exo_parse(struct exo *e, const struct rec_in *r, const msgpack_object *m)
{
	char split[8];
	long n;
	int nexit, classes, q;
	const msgpack_object *g, *lab;

	if (!rec_is(m, "exo"))
		rec_fail(r, "type", "not \"exo\"");
	rec_int(r, m, "v", EXO_VERSION, EXO_VERSION);
	rec_str(r, m, "split", split, sizeof(split));
	if (strcmp(split, "val") != 0 && strcmp(split, "test") != 0)
		rec_fail(r, "split", "\"%s\" is not val or test", split);
	n = rec_int(r, m, "n", 1, EXO_MAX_SAMPLES);
	nexit = (int)rec_int(r, m, "nexit", 1, EXO_MAX_EXITS);
	classes = (int)rec_int(r, m, "classes", 2, 1L << 30);
	g = rec_arr(r, m, "genome", -1);
	if (g->via.array.size > EXO_MAX_GENOME)
		rec_fail(r, "genome", "more than %d genes", EXO_MAX_GENOME);
	check_shapes(r, m, n, nexit);
	exo_alloc(e, split, n, nexit, classes);
	e->ngenome = (int)g->via.array.size;
	rec_ints(r, m, "genome", e->genome, e->ngenome, -1000000, 1000000);
	opt_str(r, m, "id", e->id, sizeof(e->id));
	opt_str(r, m, "weights", e->weights, sizeof(e->weights));
	get_macs(r, m, "exit_spent", e->spent, nexit);
	get_macs(r, m, "exit_cost", e->cost, nexit);
	rec_ints(r, m, "exit_stages", e->stage, nexit, 0, 64);
	if ((lab = rec_get(m, "label")) == NULL)
		rec_fail(r, "label", "missing");
	get_words(r, "label", lab, e->label, n, 1, classes);
	get_per_exit(r, m, "pred", e, e->pred, 1);
	for (q = 0; q < NFQ; q++)
		get_per_exit(r, m, fkeys[q], e, *fq(e, q), 0);
}

/* Read path; fill whichever of val/test is not NULL. */
static void
load(struct exo *val, struct exo *test, const char *path)
{
	struct rec_in r;
	const msgpack_object *m;
	int have_val = 0, have_test = 0;

	rec_in_open(&r, path);
	while ((m = rec_next(&r)) != NULL) {
		struct exo tmp, *dst;
		int *have;
		char split[8];

		if (!rec_is(m, "exo"))
			rec_fail(&r, "type", "not \"exo\"");
		rec_str(&r, m, "split", split, sizeof(split));
		if (strcmp(split, "val") == 0)
			dst = val, have = &have_val;
		else if (strcmp(split, "test") == 0)
			dst = test, have = &have_test;
		else
			rec_fail(&r, "split", "\"%s\" is not val or test", split);
		if (*have)
			rec_fail(&r, "split", "a second \"%s\" record", split);
		*have = 1;
		exo_parse(dst ? dst : &tmp, &r, m);
		if (!dst)
			exo_free(&tmp);
	}
	rec_in_close(&r);
	if ((val && !have_val) || (test && !have_test))
		errx(EX_DATAERR, "%s: no exo record with split \"%s\"", path,
		    val && !have_val ? "val" : "test");
}

void
exo_load(struct exo *val, struct exo *test, const char *path)
{
	const char *what;

	load(val, test, path);
	if (!same_eenn(val, test, &what))
		errx(EX_DATAERR, "%s: the val and test records differ in \"%s\"", path, what);
}

void
exo_read(struct exo *e, const char *path, const char *split)
{
	if (strcmp(split, "val") == 0)
		load(e, NULL, path);
	else if (strcmp(split, "test") == 0)
		load(NULL, e, path);
	else
		errx(EX_SOFTWARE, "exo_read: split \"%s\"", split);
}
