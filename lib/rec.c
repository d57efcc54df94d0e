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
#include <sys/stat.h>

#include "cli.h"
#include "nachos.h"

#define READ_CHUNK (64 * 1024)

void
rec_in_fd(struct rec_in *r, int fd, const char *name)
{
	struct stat st;

	memset(r, 0, sizeof(*r));
	r->name = name;
	r->fd = fd;
	/* A regular file's size bounds what a length prefix may declare. */
	r->size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (long long)st.st_size : -1;
	if ((r->off = r->size >= 0 ? lseek(fd, 0, SEEK_CUR) : 0) < 0)
		r->off = 0;
	r->sc.sd = 1;
	r->sc.rem[0] = 1;
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
	free(r->buf);
	r->buf = NULL;
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

static uint64_t
be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

int
rec_scan(struct rec_scan *s, const unsigned char *p, size_t have, uint64_t follow,
    char *msg, size_t n)
{
	while (s->sd > 0) {
		uint64_t len = 0, cnt = 0, room, lim;
		size_t hl;
		unsigned b;
		int cont = 0, lb = 0;

		if (s->rem[s->sd - 1] == 0) {
			s->sd--;
			continue;
		}
		if (s->pos >= have)
			return 0;
		b = p[s->pos];
		/* header length hl, then a payload of len bytes or cnt objects */
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
			hl = 1;
		} else if (b <= 0x8f) {
			hl = 1, cnt = 2 * (uint64_t)(b & 15), cont = 1;
		} else if (b <= 0x9f) {
			hl = 1, cnt = b & 15, cont = 1;
		} else if (b <= 0xbf) {
			hl = 1, len = b & 31;
		} else {
			switch (b) {
			case 0xc4: case 0xd9: lb = 1; break;     /* bin8, str8 */
			case 0xc5: case 0xda: lb = 2; break;     /* bin16, str16 */
			case 0xc6: case 0xdb: lb = 4; break;     /* bin32, str32 */
			case 0xc7: lb = 1, len = 1; break;       /* ext8: + type */
			case 0xc8: lb = 2, len = 1; break;
			case 0xc9: lb = 4, len = 1; break;
			case 0xca: case 0xce: case 0xd2: len = 4; break;
			case 0xcb: case 0xcf: case 0xd3: len = 8; break;
			case 0xcc: case 0xd0: len = 1; break;
			case 0xcd: case 0xd1: len = 2; break;
			case 0xd4: len = 2; break;               /* fixext: type + data */
			case 0xd5: len = 3; break;
			case 0xd6: len = 5; break;
			case 0xd7: len = 9; break;
			case 0xd8: len = 17; break;
			case 0xdc: case 0xde: lb = 2, cont = 1; break;
			case 0xdd: case 0xdf: lb = 4, cont = 1; break;
			default:
				snprintf(msg, n, "malformed msgpack (byte 0x%02x at offset %zu)",
				    b, s->pos);
				return -1;
			}
			hl = 1 + lb;
		}
		if (s->pos + hl > have)
			return 0;
		if (lb) {
			uint64_t v = be(p + s->pos + 1, lb);

			if (cont)
				cnt = b == 0xdf || b == 0xde ? 2 * v : v;
			else
				len += v;
		}
		if (++s->items > REC_MAX_ITEMS) {
			snprintf(msg, n, "more than %llu objects",
			    (unsigned long long)REC_MAX_ITEMS);
			return -1;
		}
		s->rem[s->sd - 1]--;
		s->pos += hl;
		/* What may still follow: the record limit, and the file's end. */
		room = lim = REC_MAX_BYTES - (s->pos < REC_MAX_BYTES ? s->pos : REC_MAX_BYTES);
		if (follow != UINT64_MAX) {
			uint64_t left = have - s->pos + follow;

			if (left < room)
				room = left;
		}
		if (cont && s->sd > REC_MAX_DEPTH) {
			snprintf(msg, n, "nested deeper than %d levels at offset %zu",
			    REC_MAX_DEPTH, s->pos - hl);
			return -1;
		}
		/* Every object takes at least one byte. */
		if ((cont ? cnt : len) > room) {
			int map = b <= 0x8f || b == 0xde || b == 0xdf;

			snprintf(msg, n, "%s%s of %llu %s at offset %zu, %s %llu bytes%s",
			    room == lim ? "" : "truncated: ", !cont ? "value" : map ? "map" : "array",
			    (unsigned long long)(!cont ? len : map ? cnt / 2 : cnt),
			    !cont ? "bytes" : map ? "pairs" : "elements", s->pos - hl,
			    room == lim ? "more than the record limit leaves:" : "with",
			    (unsigned long long)room, room == lim ? "" : " left in the file");
			return -1;
		}
		if (cont)
			s->rem[s->sd++] = cnt;
		else
			s->pos += len;
	}
	return s->pos <= have;
}

int
rec_check(const void *buf, size_t len, char *msg, size_t n)
{
	struct rec_scan s;

	memset(&s, 0, sizeof(s));
	s.sd = 1;
	s.rem[0] = 1;
	switch (rec_scan(&s, buf, len, 0, msg, n)) {
	case -1:
		return -1;
	case 0:
		snprintf(msg, n, "truncated");
		return -1;
	}
	if (s.pos != len) {
		snprintf(msg, n, "%zu bytes after the record", len - s.pos);
		return -1;
	}
	return 0;
}

/* Room for at least READ_CHUNK more bytes after r->len. Bytes before
 * r->start belong to records already returned: they go first. */
static void
make_room(struct rec_in *r)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->len - r->start);
		r->off += r->start;
		r->len -= r->start;
		r->start = 0;
	}
	if (r->cap - r->len < READ_CHUNK) {
		size_t cap = r->cap ? 2 * r->cap : 2 * READ_CHUNK;
		char *p;

		while (cap - r->len < READ_CHUNK)
			cap *= 2;
		if ((p = realloc(r->buf, cap)) == NULL)
			errx(EX_SOFTWARE, "%s: out of memory", r->name);
		r->buf = p;
		r->cap = cap;
	}
}

const msgpack_object *
rec_next(struct rec_in *r)
{
	char msg[200];

	for (;;) {
		uint64_t follow = UINT64_MAX;
		long long at = r->off + (long long)r->len;
		ssize_t got;
		int s;

		if (r->size >= 0)
			follow = at < r->size ? (uint64_t)(r->size - at) : 0;
		s = r->buf == NULL ? 0 : rec_scan(&r->sc, (const unsigned char *)r->buf +
		    r->start, r->len - r->start, follow, msg, sizeof(msg));
		if (s < 0 && r->size >= 0) {
			struct stat st;

			/* The file may have grown since it was opened. */
			if (fstat(r->fd, &st) == 0 && st.st_size > r->size) {
				r->size = st.st_size;
				continue;
			}
		}
		if (s < 0) {
			r->n++;
			rec_fail(r, NULL, "%s", msg);
		}
		if (s > 0) {
			size_t len = r->sc.pos, off = 0;
			msgpack_unpack_return ret;

			ret = msgpack_unpack_next(&r->un, r->buf + r->start, len, &off);
			r->n++;
			if (ret == MSGPACK_UNPACK_NOMEM_ERROR)
				errx(EX_SOFTWARE, "%s: record %ld: out of memory", r->name, r->n);
			if ((ret != MSGPACK_UNPACK_SUCCESS && ret != MSGPACK_UNPACK_EXTRA_BYTES) ||
			    off != len)
				rec_fail(r, NULL, "malformed msgpack");
			r->start += len;
			memset(&r->sc, 0, sizeof(r->sc));
			r->sc.sd = 1;
			r->sc.rem[0] = 1;
			check_header(r, &r->un.data);
			return &r->un.data;
		}
		make_room(r);
		/* read(2), not fread: a record is handled as soon as it arrives. */
		do
			got = read(r->fd, r->buf + r->len, r->cap - r->len);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			err(EX_IOERR, "%s", r->name);
		if (got == 0) {
			if (r->len > r->start) {
				r->n++;
				rec_fail(r, NULL, "truncated (input ends inside the record)");
			}
			return NULL;
		}
		r->len += (size_t)got;
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

int
rec_choice(const struct rec_in *r, const msgpack_object *map, const char *key,
    const char *const *names)
{
	const msgpack_object *o = need(r, map, key);
	char list[256] = "";
	size_t len = 0;
	int i;

	if (o->type != MSGPACK_OBJECT_STR)
		rec_fail(r, key, "not a string");
	for (i = 0; names[i]; i++) {
		if (rec_streq(o, names[i]))
			return i;
		len += (size_t)snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0,
		    "%s%s", i ? ", " : "", names[i]);
		if (len >= sizeof(list))
			len = sizeof(list) - 1;
	}
	rec_fail(r, key, "\"%.*s\" is not one of %s", (int)(o->via.str.size > 64 ? 64 :
	    o->via.str.size), o->via.str.ptr, list);
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
	cli_write_whole(fp, o->whole.data, o->whole.size);
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
