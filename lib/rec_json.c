/* rec_json.c - msgpack <-> JSON through jansson, for rec2json and json2rec. */
#include "rec.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---- msgpack to JSON text ---- */

struct jw {
	FILE *fp;
	char *err;
	size_t n;
	char key[64];      /* the record's key being written, for messages */
	int depth;
};

static int
jw_fail(struct jw *w, const char *fmt, const char *what, size_t at)
{
	snprintf(w->err, w->n, fmt, what, at);
	return -1;
}

/* Length of the UTF-8 sequence at p (at most n bytes), 0 if invalid:
 * no overlong forms, surrogates or code points above U+10FFFF. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A JSON string, escaped as jansson escapes it; fails on invalid UTF-8. */
static int
put_str(struct jw *w, const char *s, size_t n, const char *what)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	fputc('"', w->fp);
	while (i < n) {
		unsigned c = p[i];

		if ((k = utf8_len(p + i, n - i)) == 0)
			return jw_fail(w, "invalid UTF-8 in %s at byte %zu", what, i);
		if (c == '"' || c == '\\')
			fprintf(w->fp, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", w->fp);
		else if (c == '\t')
			fputs("\\t", w->fp);
		else if (c == '\r')
			fputs("\\r", w->fp);
		else if (c == '\b')
			fputs("\\b", w->fp);
		else if (c == '\f')
			fputs("\\f", w->fp);
		else if (c < 0x20)
			fprintf(w->fp, "\\u%04x", c);
		else
			fwrite(p + i, 1, k, w->fp);
		i += k;
	}
	fputc('"', w->fp);
	return 0;
}

static void
put_bin(struct jw *w, const unsigned char *p, size_t n)
{
	size_t i;

	fputs("{\"$base64\":\"", w->fp);
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = p[i] << 16 | p[i + 1] << 8 | p[i + 2];

		fputc(b64[v >> 18], w->fp);
		fputc(b64[v >> 12 & 63], w->fp);
		fputc(b64[v >> 6 & 63], w->fp);
		fputc(b64[v & 63], w->fp);
	}
	if (i < n) {
		unsigned v = p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0);

		fputc(b64[v >> 18], w->fp);
		fputc(b64[v >> 12 & 63], w->fp);
		fputc(i + 1 < n ? b64[v >> 6 & 63] : '=', w->fp);
		fputc('=', w->fp);
	}
	fputs("\"}", w->fp);
}

/* Shortest %g form of v that reads back exactly (as a float for float32),
 * with a decimal point kept so that json2rec gives a float back. */
static void
put_real(FILE *fp, const msgpack_object *o)
{
	char buf[40];
	int p, single = o->type == MSGPACK_OBJECT_FLOAT32;

	for (p = single ? 6 : 15; p <= 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, o->via.f64);
		if (single ? strtof(buf, NULL) == (float)o->via.f64 :
		    strtod(buf, NULL) == o->via.f64)
			break;
	}
	if (!strpbrk(buf, ".e"))
		strcat(buf, ".0");
	fputs(buf, fp);
}

static int
container(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_ARRAY || o->type == MSGPACK_OBJECT_MAP;
}

/* Does array o hold only scalars, or map o only those and scalars? */
static int
flat(const msgpack_object *o)
{
	uint32_t i;

	if (o->type == MSGPACK_OBJECT_ARRAY) {
		for (i = 0; i < o->via.array.size; i++)
			if (container(&o->via.array.ptr[i]))
				return 0;
	} else {
		for (i = 0; i < o->via.map.size; i++) {
			const msgpack_object *v = &o->via.map.ptr[i].val;

			if (v->type == MSGPACK_OBJECT_MAP ||
			    (v->type == MSGPACK_OBJECT_ARRAY && !flat(v)))
				return 0;
		}
	}
	return 1;
}

static void
newline(FILE *fp, int indent)
{
	if (indent < 0)
		return;
	fputc('\n', fp);
	while (indent-- > 0)
		fputs("  ", fp);
}

/* indent < 0: compact; else pretty at that depth. An array or map of
 * scalars stays on one line, which keeps genes and layer rows readable. */
static int
put_value(struct jw *w, const msgpack_object *o, int indent)
{
	FILE *fp = w->fp;
	uint32_t i;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		fputs("null", fp);
		return 0;
	case MSGPACK_OBJECT_BOOLEAN:
		fputs(o->via.boolean ? "true" : "false", fp);
		return 0;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		fprintf(fp, "%llu", (unsigned long long)o->via.u64);
		return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		fprintf(fp, "%lld", (long long)o->via.i64);
		return 0;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		/* JSON has no NaN or infinity; null is the honest stand-in. */
		if (isfinite(o->via.f64))
			put_real(fp, o);
		else
			fputs("null", fp);
		return 0;
	case MSGPACK_OBJECT_STR:
		return put_str(w, o->via.str.ptr, o->via.str.size, "a string");
	case MSGPACK_OBJECT_BIN:
		put_bin(w, (const unsigned char *)o->via.bin.ptr, o->via.bin.size);
		return 0;
	case MSGPACK_OBJECT_ARRAY: {
		int one = indent < 0 || flat(o);

		fputc('[', fp);
		for (i = 0; i < o->via.array.size; i++) {
			if (i)
				fputs(indent >= 0 && one ? ", " : ",", fp);
			newline(fp, one ? -1 : indent + 1);
			if (put_value(w, &o->via.array.ptr[i], one ? -1 : indent + 1) < 0)
				return -1;
		}
		if (!one && o->via.array.size)
			newline(fp, indent);
		fputc(']', fp);
		return 0;
	}
	case MSGPACK_OBJECT_MAP: {
		/* The whole record always breaks into lines, even when flat. */
		int one = indent < 0 || (indent > 0 && flat(o));

		w->depth++;
		fputc('{', fp);
		for (i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;

			if (k->type != MSGPACK_OBJECT_STR)
				return jw_fail(w, "%s: key %zu is not a string, as JSON needs",
				    "a map inside the value", (size_t)i + 1);
			if (w->depth == 1)
				snprintf(w->key, sizeof(w->key), "%.*s",
				    k->via.str.size < sizeof(w->key) ? (int)k->via.str.size :
				    (int)sizeof(w->key) - 1, k->via.str.ptr);
			if (i)
				fputs(indent >= 0 && one ? ", " : ",", fp);
			newline(fp, one ? -1 : indent + 1);
			if (put_str(w, k->via.str.ptr, k->via.str.size, "a map key") < 0 ||
			    (fputs(indent < 0 ? ":" : ": ", fp),
			    put_value(w, &o->via.map.ptr[i].val, one ? -1 : indent + 1)) < 0)
				return -1;
		}
		if (!one && o->via.map.size)
			newline(fp, indent);
		fputc('}', fp);
		w->depth--;
		if (w->depth == 0)
			w->key[0] = '\0';
		return 0;
	}
	default:
		/* EXT: no record uses it. */
		fputs("null", fp);
		return 0;
	}
}

int
rec_to_json(FILE *fp, const msgpack_object *o, int pretty, char *key, size_t nkey,
    char *err, size_t n)
{
	struct jw w = { fp, err, n, "", 0 };
	int ret = put_value(&w, o, pretty ? 0 : -1);

	snprintf(key, nkey, "%s", w.key);
	return ret;
}

static int
b64val(int c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

/* Only canonical base64 is taken (RFC 4648 section 3.5): padding only at
 * the end, and the bits the padding drops all zero, so that each byte
 * string has exactly one spelling and rec2json | json2rec is the identity. */
static int
pack_base64(msgpack_packer *pk, const char *s, char *err, size_t n)
{
	size_t len = strlen(s), i, o = 0;
	unsigned char *buf;

	if (len % 4) {
		snprintf(err, n, "$base64: length %zu is not a multiple of 4", len);
		return -1;
	}
	if ((buf = malloc(len / 4 * 3 + 1)) == NULL) {
		snprintf(err, n, "out of memory");
		return -1;
	}
	for (i = 0; i < len; i += 4) {
		int last = i + 4 == len, p2 = s[i + 2] == '=', p3 = s[i + 3] == '=';
		int a = b64val(s[i]), b = b64val(s[i + 1]);
		int c = p2 ? 0 : b64val(s[i + 2]);
		int d = p3 ? 0 : b64val(s[i + 3]);

		if (a < 0 || b < 0 || c < 0 || d < 0 || ((p2 || p3) && !last) || (p2 && !p3)) {
			snprintf(err, n, "$base64: bad character near offset %zu", i);
			free(buf);
			return -1;
		}
		if ((p2 && (b & 15)) || (p3 && !p2 && (c & 3))) {
			snprintf(err, n, "$base64: not canonical near offset %zu "
			    "(nonzero bits before the padding)", i);
			free(buf);
			return -1;
		}
		buf[o++] = a << 2 | b >> 4;
		if (!p2)
			buf[o++] = (b & 15) << 4 | c >> 2;
		if (!p3)
			buf[o++] = (c & 3) << 6 | d;
	}
	msgpack_pack_bin(pk, o);
	msgpack_pack_bin_body(pk, buf, o);
	free(buf);
	return 0;
}

int
rec_from_json(msgpack_packer *pk, const json_t *j, char *err, size_t n)
{
	const char *key;
	json_t *v;
	size_t i;

	switch (json_typeof(j)) {
	case JSON_NULL:
		return msgpack_pack_nil(pk), 0;
	case JSON_TRUE:
		return msgpack_pack_true(pk), 0;
	case JSON_FALSE:
		return msgpack_pack_false(pk), 0;
	case JSON_INTEGER:
		return msgpack_pack_int64(pk, json_integer_value(j)), 0;
	case JSON_REAL:
		return msgpack_pack_double(pk, json_real_value(j)), 0;
	case JSON_STRING:
		msgpack_pack_str(pk, json_string_length(j));
		msgpack_pack_str_body(pk, json_string_value(j), json_string_length(j));
		return 0;
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(j));
		json_array_foreach(j, i, v)
			if (rec_from_json(pk, v, err, n) < 0)
				return -1;
		return 0;
	case JSON_OBJECT:
		if (json_object_size(j) == 1 && (v = json_object_get(j, "$base64")) != NULL) {
			if (!json_is_string(v)) {
				snprintf(err, n, "$base64: not a string");
				return -1;
			}
			return pack_base64(pk, json_string_value(v), err, n);
		}
		msgpack_pack_map(pk, json_object_size(j));
		json_object_foreach((json_t *)j, key, v) {
			msgpack_pack_str(pk, strlen(key));
			msgpack_pack_str_body(pk, key, strlen(key));
			if (rec_from_json(pk, v, err, n) < 0)
				return -1;
		}
		return 0;
	}
	snprintf(err, n, "unknown JSON type");
	return -1;
}

/* Does the integer literal d (n digits, no sign) fit an int64 with its
 * sign? */
static int
int64_fits(const char *d, size_t n, int neg)
{
	const char *max = neg ? "9223372036854775808" : "9223372036854775807";

	while (n > 1 && *d == '0')
		d++, n--;
	return n < 19 || (n == 19 && memcmp(d, max, 19) <= 0);
}

char *
rec_json_widen(const char *s, size_t len, size_t *outlen)
{
	char *out = NULL;
	size_t i = 0, o = 0, grow = 0;
	int pass, str;

	/* pass 0 counts the literals to widen, pass 1 copies */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (grow == 0)
				return NULL;
			if (!(out = malloc(len + 2 * grow + 1)))
				return NULL;
		}
		for (i = 0, o = 0, str = 0; i < len;) {
			size_t j = i + 1, nd;
			int neg, plain = 1, widen = 0;

			if (str || s[i] == '"') {
				/* a string, escapes included, copied as is */
				if (s[i] == '\\' && str && i + 1 < len)
					j = i + 2;
				else if (s[i] == '"')
					str = !str;
			} else if (s[i] == '-' || (s[i] >= '0' && s[i] <= '9')) {
				neg = s[i] == '-';
				j = i + neg;
				while (j < len && s[j] >= '0' && s[j] <= '9')
					j++;
				nd = j - i - neg;
				while (j < len && (s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
				    s[j] == '+' || s[j] == '-' || (s[j] >= '0' && s[j] <= '9'))) {
					plain = 0;
					j++;
				}
				widen = plain && nd > 0 && !int64_fits(s + i + neg, nd, neg);
				grow += pass == 0 && widen;
			}
			if (pass == 1) {
				memcpy(out + o, s + i, j - i);
				if (widen)
					memcpy(out + o + (j - i), ".0", 2);
			}
			o += j - i + 2 * (size_t)widen;
			i = j;
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}
