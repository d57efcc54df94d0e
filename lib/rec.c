/* rec.c - see rec.h. */
#define _GNU_SOURCE
#include "rec.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nachos.h"

#define READ_CHUNK (64 * 1024)

void
rec_in_fd(struct rec_in *r, int fd, const char *name)
{
	r->name = name;
	r->fd = fd;
	r->own_fd = 0;
	r->n = 0;
	if (!msgpack_unpacker_init(&r->up, READ_CHUNK))
		errx(EX_SOFTWARE, "out of memory");
	msgpack_unpacked_init(&r->un);
}

void
rec_in_open(struct rec_in *r, const char *path)
{
	int fd;

	if (path == NULL || strcmp(path, "-") == 0) {
		rec_in_fd(r, STDIN_FILENO, "stdin");
		return;
	}
	if ((fd = open(path, O_RDONLY)) < 0)
		err(EX_NOINPUT, "%s", path);
	rec_in_fd(r, fd, path);
	r->own_fd = 1;
}

void
rec_in_close(struct rec_in *r)
{
	msgpack_unpacked_destroy(&r->un);
	msgpack_unpacker_destroy(&r->up);
	if (r->own_fd)
		close(r->fd);
}

void
rec_files_init(struct rec_files *in, int argc, char *const *argv)
{
	in->paths = argv;
	in->n = argc;
	in->i = -1;
	in->open = 0;
}

const msgpack_object *
rec_files_next(struct rec_files *in)
{
	const msgpack_object *m;

	for (;;) {
		if (!in->open) {
			/* No file arguments: stdin, once. */
			if (in->i + 1 >= (in->n ? in->n : 1))
				return NULL;
			in->i++;
			rec_in_open(&in->r, in->n ? in->paths[in->i] : "-");
			in->open = 1;
		}
		if ((m = rec_next(&in->r)) != NULL)
			return m;
		rec_in_close(&in->r);
		in->open = 0;
	}
}

void
rec_vfail(const char *name, const char *unit, long n, const char *key, const char *fmt,
    va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: %s: %s %ld: ", program_invocation_short_name, name, unit, n);
	if (key)
		fprintf(stderr, "key \"%s\": ", key);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	exit(EX_DATAERR);
}

void
rec_fail(const struct rec_in *r, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rec_vfail(r ? r->name : "?", "record", r ? r->n : 0L, key, fmt, ap);
}

static void
check_header(struct rec_in *r, const msgpack_object *o)
{
	const msgpack_object *t, *v;
	uint32_t i;

	if (o->type != MSGPACK_OBJECT_MAP)
		rec_fail(r, NULL, "not a map");
	for (i = 0; i < o->via.map.size; i++)
		if (o->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
			rec_fail(r, NULL, "key %u is not a string", i + 1);
	if ((t = rec_get(o, "type")) == NULL)
		rec_fail(r, "type", "missing");
	if (t->type != MSGPACK_OBJECT_STR)
		rec_fail(r, "type", "not a string");
	if ((v = rec_get(o, "v")) == NULL)
		rec_fail(r, "v", "missing");
	if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		rec_fail(r, "v", "not a positive integer");
}

const msgpack_object *
rec_next(struct rec_in *r)
{
	for (;;) {
		msgpack_unpack_return ret = msgpack_unpacker_next(&r->up, &r->un);
		ssize_t got;

		if (ret == MSGPACK_UNPACK_SUCCESS) {
			r->n++;
			check_header(r, &r->un.data);
			return &r->un.data;
		}
		if (ret == MSGPACK_UNPACK_PARSE_ERROR) {
			r->n++;
			rec_fail(r, NULL, "malformed msgpack");
		}
		if (ret == MSGPACK_UNPACK_NOMEM_ERROR)
			errx(EX_SOFTWARE, "%s: out of memory", r->name);
		if (msgpack_unpacker_buffer_capacity(&r->up) < READ_CHUNK &&
		    !msgpack_unpacker_reserve_buffer(&r->up, READ_CHUNK))
			errx(EX_SOFTWARE, "%s: out of memory", r->name);
		/* read(2), not fread: a record is handled as soon as it arrives. */
		do
			got = read(r->fd, msgpack_unpacker_buffer(&r->up),
			    msgpack_unpacker_buffer_capacity(&r->up));
		while (got < 0 && errno == EINTR);
		if (got < 0)
			err(EX_IOERR, "%s", r->name);
		if (got == 0) {
			/* Bytes of an unfinished record: the unpacker may already have
			 * consumed them into its state, so off == used says nothing. */
			if (msgpack_unpacker_message_size(&r->up) > 0) {
				r->n++;
				rec_fail(r, NULL, "truncated (input ends inside the record)");
			}
			return NULL;
		}
		msgpack_unpacker_buffer_consumed(&r->up, (size_t)got);
	}
}

const msgpack_object *
rec_get(const msgpack_object *map, const char *key)
{
	uint32_t i;

	if (map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < map->via.map.size; i++)
		if (rec_streq(&map->via.map.ptr[i].key, key))
			return &map->via.map.ptr[i].val;
	return NULL;
}

int
rec_streq(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);

	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	    memcmp(o->via.str.ptr, s, n) == 0;
}

int
rec_isnum(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ||
	    o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64;
}

double
rec_num(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return (double)o->via.u64;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return (double)o->via.i64;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return o->via.f64;
	default:
		return NAN;
	}
}

int
rec_is(const msgpack_object *map, const char *type)
{
	const msgpack_object *t = rec_get(map, "type");

	return t && rec_streq(t, type);
}

static const msgpack_object *
need(const struct rec_in *r, const msgpack_object *map, const char *key)
{
	const msgpack_object *o = rec_get(map, key);

	if (o == NULL)
		rec_fail(r, key, "missing");
	return o;
}

/* An integer value of o, or fail: accepts floats that hold an exact integer,
 * since JSON tools may write 3.0 for 3. */
static long
as_int(const struct rec_in *r, const msgpack_object *o, const char *key)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return o->via.u64 > (uint64_t)LONG_MAX ? LONG_MAX : (long)o->via.u64;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return (long)o->via.i64;
	if ((o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64) &&
	    o->via.f64 == floor(o->via.f64) && fabs(o->via.f64) < 1e15)
		return (long)o->via.f64;
	rec_fail(r, key, "not an integer");
}

long
rec_int(const struct rec_in *r, const msgpack_object *map, const char *key, long lo, long hi)
{
	long v = as_int(r, need(r, map, key), key);

	if (v < lo || v > hi)
		rec_fail(r, key, "%ld is not in [%ld, %ld]", v, lo, hi);
	return v;
}

static double
as_dbl(const struct rec_in *r, const msgpack_object *o, const char *key, double lo, double hi)
{
	double v;

	if (!rec_isnum(o))
		rec_fail(r, key, "not a number");
	v = rec_num(o);
	if (!(v >= lo && v <= hi))
		rec_fail(r, key, "%g is not in [%g, %g]", v, lo, hi);
	return v;
}

double
rec_dbl(const struct rec_in *r, const msgpack_object *map, const char *key, double lo, double hi)
{
	return as_dbl(r, need(r, map, key), key, lo, hi);
}

double
rec_dbl_or(const struct rec_in *r, const msgpack_object *map, const char *key, double def)
{
	const msgpack_object *o = rec_get(map, key);

	return o ? as_dbl(r, o, key, -INFINITY, INFINITY) : def;
}

void
rec_str(const struct rec_in *r, const msgpack_object *map, const char *key, char *buf, size_t n)
{
	const msgpack_object *o = need(r, map, key);

	if (o->type != MSGPACK_OBJECT_STR)
		rec_fail(r, key, "not a string");
	if (o->via.str.size >= n)
		rec_fail(r, key, "longer than %zu bytes", n - 1);
	memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
}

const msgpack_object *
rec_arr(const struct rec_in *r, const msgpack_object *map, const char *key, int len)
{
	const msgpack_object *o = need(r, map, key);

	if (o->type != MSGPACK_OBJECT_ARRAY)
		rec_fail(r, key, "not an array");
	if (len >= 0 && o->via.array.size != (uint32_t)len)
		rec_fail(r, key, "has %u elements, not %d", o->via.array.size, len);
	return o;
}

void
rec_ints(const struct rec_in *r, const msgpack_object *map, const char *key, int *out, int n, long lo, long hi)
{
	const msgpack_object *a = rec_arr(r, map, key, n);
	char k[96];
	int i;

	for (i = 0; i < n; i++) {
		const msgpack_object *e = &a->via.array.ptr[i];
		long v;

		/* Fast path: a plain integer in range needs no key name (the
		 * snprintf below dominated reading whole arch records). */
		if (e->type == MSGPACK_OBJECT_POSITIVE_INTEGER && hi >= 0 &&
		    e->via.u64 <= (uint64_t)hi && (long)e->via.u64 >= lo) {
			out[i] = (int)e->via.u64;
			continue;
		}
		snprintf(k, sizeof(k), "%s[%d]", key, i);
		v = as_int(r, e, k);
		if (v < lo || v > hi)
			rec_fail(r, k, "%ld is not in [%ld, %ld]", v, lo, hi);
		out[i] = (int)v;
	}
}

void
rec_dbls(const struct rec_in *r, const msgpack_object *map, const char *key, double *out, int n, double lo, double hi)
{
	const msgpack_object *a = rec_arr(r, map, key, n);
	char k[96];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "%s[%d]", key, i);
		out[i] = as_dbl(r, &a->via.array.ptr[i], k, lo, hi);
	}
}

/* ---- writing ---- */

void
rec_out_init(struct rec_out *o)
{
	memset(o, 0, sizeof(*o));
	msgpack_sbuffer_init(&o->body);
	msgpack_sbuffer_init(&o->whole);
	msgpack_packer_init(&o->pk, &o->body, msgpack_sbuffer_write);
}

void
rec_out_free(struct rec_out *o)
{
	int i;

	for (i = 0; i < o->nkeys; i++)
		free(o->keys[i]);
	free(o->keys);
	msgpack_sbuffer_destroy(&o->body);
	msgpack_sbuffer_destroy(&o->whole);
}

void
rec_out_begin(struct rec_out *o, const msgpack_object *base, const char *type, long v)
{
	int i;

	for (i = 0; i < o->nkeys; i++)
		free(o->keys[i]);
	o->nkeys = 0;
	msgpack_sbuffer_clear(&o->body);
	msgpack_sbuffer_clear(&o->whole);
	o->base = base;
	snprintf(o->type, sizeof(o->type), "%s", type);
	o->v = v;
}

void
rec_pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void
rec_key(struct rec_out *o, const char *key)
{
	if (o->nkeys == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 32;
		if ((o->keys = realloc(o->keys, o->cap * sizeof(*o->keys))) == NULL)
			err(EX_SOFTWARE, "realloc");
	}
	if ((o->keys[o->nkeys++] = strdup(key)) == NULL)
		err(EX_SOFTWARE, "strdup");
	rec_pack_str(&o->pk, key);
}

static int
owned(const struct rec_out *o, const msgpack_object *key)
{
	int i;

	if (rec_streq(key, "type") || rec_streq(key, "v"))
		return 1;
	for (i = 0; i < o->nkeys; i++)
		if (rec_streq(key, o->keys[i]))
			return 1;
	return 0;
}

void
rec_out_finish(struct rec_out *o)
{
	msgpack_packer wp;
	uint32_t i, npass = 0;

	if (o->base && o->base->type == MSGPACK_OBJECT_MAP)
		for (i = 0; i < o->base->via.map.size; i++)
			npass += !owned(o, &o->base->via.map.ptr[i].key);
	msgpack_sbuffer_clear(&o->whole);
	msgpack_packer_init(&wp, &o->whole, msgpack_sbuffer_write);
	msgpack_pack_map(&wp, 2 + npass + o->nkeys);
	rec_pack_str(&wp, "type");
	rec_pack_str(&wp, o->type);
	rec_pack_str(&wp, "v");
	msgpack_pack_long(&wp, o->v);
	if (npass)
		for (i = 0; i < o->base->via.map.size; i++) {
			const msgpack_object_kv *kv = &o->base->via.map.ptr[i];

			if (owned(o, &kv->key))
				continue;
			msgpack_pack_object(&wp, kv->key);
			msgpack_pack_object(&wp, kv->val);
		}
	msgpack_sbuffer_write(&o->whole, o->body.data, o->body.size);
}

void
rec_out_end(struct rec_out *o, FILE *fp)
{
	rec_out_finish(o);
	if (fwrite(o->whole.data, 1, o->whole.size, fp) != o->whole.size)
		err(EX_IOERR, "write");
}

void
rec_put_int(struct rec_out *o, const char *key, long v)
{
	rec_key(o, key);
	msgpack_pack_long(&o->pk, v);
}

void
rec_put_dbl(struct rec_out *o, const char *key, double v)
{
	rec_key(o, key);
	msgpack_pack_double(&o->pk, v);
}

void
rec_put_str(struct rec_out *o, const char *key, const char *s)
{
	rec_key(o, key);
	rec_pack_str(&o->pk, s);
}

void
rec_put_bool(struct rec_out *o, const char *key, int b)
{
	rec_key(o, key);
	if (b)
		msgpack_pack_true(&o->pk);
	else
		msgpack_pack_false(&o->pk);
}

void
rec_put_ints(struct rec_out *o, const char *key, const int *v, int n)
{
	int i;

	rec_key(o, key);
	msgpack_pack_array(&o->pk, n);
	for (i = 0; i < n; i++)
		msgpack_pack_int(&o->pk, v[i]);
}

void
rec_put_longs(struct rec_out *o, const char *key, const long *v, int n)
{
	int i;

	rec_key(o, key);
	msgpack_pack_array(&o->pk, n);
	for (i = 0; i < n; i++)
		msgpack_pack_long(&o->pk, v[i]);
}

void
rec_put_dbls(struct rec_out *o, const char *key, const double *v, int n)
{
	int i;

	rec_key(o, key);
	msgpack_pack_array(&o->pk, n);
	for (i = 0; i < n; i++)
		msgpack_pack_double(&o->pk, v[i]);
}

void
rec_put_obj(struct rec_out *o, const char *key, const msgpack_object *v)
{
	rec_key(o, key);
	msgpack_pack_object(&o->pk, *v);
}
