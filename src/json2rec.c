/*
 * json2rec - JSON lines to records: one JSON object per line (blank lines
 * skipped), each with a string "type" and a non-negative integer "v".
 * Parsing is jansson's; a bad line stops the tool before anything of it
 * reaches stdout.
 */
#define _GNU_SOURCE
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nachos.h"
#include "rec.h"

static const char usage_str[] = "usage: json2rec [-h] [file ...]\n";

static void __attribute__((noreturn, format(printf, 4, 5)))
line_fail(const char *name, long line, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rec_vfail(name, "line", line, key, fmt, ap);
}

static void
convert(FILE *in, const char *name, msgpack_sbuffer *sb, msgpack_packer *pk)
{
	char *buf = NULL, msg[200];
	size_t cap = 0;
	ssize_t len;
	long line = 0;

	while ((len = getline(&buf, &cap, in)) >= 0) {
		json_error_t je;
		json_t *j, *t, *v;
		char *wide;
		size_t wlen;

		line++;
		if (strspn(buf, " \t\r\n") == (size_t)len)
			continue;
		wide = rec_json_widen(buf, (size_t)len, &wlen);
		j = json_loadb(wide ? wide : buf, wide ? wlen : (size_t)len, JSON_DECODE_ANY, &je);
		free(wide);
		if (j == NULL)
			line_fail(name, line, NULL, "bad JSON at column %d: %s", je.column,
			    je.text);
		if (!json_is_object(j))
			line_fail(name, line, NULL, "not a JSON object");
		if ((t = json_object_get(j, "type")) == NULL)
			line_fail(name, line, "type", "missing");
		if (!json_is_string(t))
			line_fail(name, line, "type", "not a string");
		if ((v = json_object_get(j, "v")) == NULL)
			line_fail(name, line, "v", "missing");
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			line_fail(name, line, "v", "not a non-negative integer");
		msgpack_sbuffer_clear(sb);
		/* Nothing goes out that a reader would refuse (depth, size). */
		if (rec_from_json(pk, j, msg, sizeof(msg)) < 0 ||
		    rec_check(sb->data, sb->size, msg, sizeof(msg)) < 0)
			line_fail(name, line, NULL, "%s", msg);
		cli_write_whole(stdout, sb->data, sb->size);
		json_decref(j);
	}
	if (ferror(in))
		err(EX_IOERR, "%s", name);
	free(buf);
}

int
main(int argc, char **argv)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int i;

	i = cli_help_only(argc, argv, usage_str);
	argc -= i;
	argv += i;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	cli_stdout_buffer(1 << 16);
	for (i = 0; i < (argc ? argc : 1); i++) {
		const char *path = argc ? argv[i] : "-";
		FILE *in = cli_open_in(path);

		convert(in, strcmp(path, "-") ? path : "stdin", &sb, &pk);
		if (in != stdin)
			fclose(in);
	}
	msgpack_sbuffer_destroy(&sb);
	cli_finish();
	return 0;
}
