/*
 * rec2json - records to JSON lines, so jq works on any stream.
 *
 * Scalars and strings go through jansson (rec_to_json); floats are written
 * here in their shortest form that reads back to the same value, since
 * jansson's fixed 17 digits turn 0.1 into 0.10000000000000001.
 */
#include <err.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nachos.h"
#include "rec.h"

static const char usage_str[] = "usage: rec2json [-hp] [file ...]\n";

static void
usage(FILE *fp, int status)
{
	fputs(usage_str, fp);
	exit(status);
}

/* Shortest %g form of v that reads back exactly (as a float for float32). */
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
	/* Keep it a real in JSON, so json2rec gives a float back. */
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
static void
put_value(FILE *fp, const msgpack_object *o, int indent)
{
	uint32_t i;

	switch (o->type) {
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		if (isfinite(o->via.f64)) {
			put_real(fp, o);
			return;
		}
		break; /* no NaN in JSON: rec_to_json makes it null */
	case MSGPACK_OBJECT_ARRAY: {
		int one = indent < 0 || flat(o);

		fputc('[', fp);
		for (i = 0; i < o->via.array.size; i++) {
			if (i)
				fputs(indent >= 0 && one ? ", " : ",", fp);
			newline(fp, one ? -1 : indent + 1);
			put_value(fp, &o->via.array.ptr[i], one ? -1 : indent + 1);
		}
		if (!one && o->via.array.size)
			newline(fp, indent);
		fputc(']', fp);
		return;
	}
	case MSGPACK_OBJECT_MAP: {
		/* The whole record always breaks into lines, even when flat. */
		int one = indent < 0 || (indent > 0 && flat(o));

		fputc('{', fp);
		for (i = 0; i < o->via.map.size; i++) {
			if (i)
				fputs(indent >= 0 && one ? ", " : ",", fp);
			newline(fp, one ? -1 : indent + 1);
			put_value(fp, &o->via.map.ptr[i].key, -1);
			fputs(indent < 0 ? ":" : ": ", fp);
			put_value(fp, &o->via.map.ptr[i].val, one ? -1 : indent + 1);
		}
		if (!one && o->via.map.size)
			newline(fp, indent);
		fputc('}', fp);
		return;
	}
	default:
		break;
	}
	{
		json_t *j = rec_to_json(o);

		if (j == NULL || json_dumpf(j, fp, JSON_ENCODE_ANY | JSON_COMPACT) < 0)
			errx(EX_SOFTWARE, "cannot encode a value as JSON");
		json_decref(j);
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "pretty", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct rec_files in;
	const msgpack_object *m;
	int c, pretty = 0;

	while ((c = getopt_long(argc, argv, "hp", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, 0);
			break;
		case 'p':
			pretty = 1;
			break;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	rec_files_init(&in, argc, argv);
	while ((m = rec_files_next(&in)) != NULL) {
		put_value(stdout, m, pretty ? 0 : -1);
		fputc('\n', stdout);
	}
	cli_finish();
	return 0;
}
