/*
 * rec2json - records to JSON lines, so jq works on any stream. The JSON is
 * written by rec_to_json (lib/rec_json.c): floats in their shortest form
 * that reads back to the same value, strings checked as UTF-8.
 */
#define _GNU_SOURCE
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

/* Each line is made whole in memory first: a record JSON cannot hold stops
 * the tool with no part of its line on stdout. */
static void
put_record(struct rec_in *r, const msgpack_object *m, int pretty)
{
	char *buf = NULL, key[64], msg[200];
	size_t len = 0;
	FILE *mem;
	int bad;

	if ((mem = open_memstream(&buf, &len)) == NULL)
		err(EX_SOFTWARE, "open_memstream");
	bad = rec_to_json(mem, m, pretty, key, sizeof(key), msg, sizeof(msg));
	if (fputc('\n', mem) == EOF || fclose(mem) != 0)
		err(EX_SOFTWARE, "open_memstream");
	if (bad)
		rec_fail(r, key[0] ? key : NULL, "%s", msg);
	cli_write_whole(stdout, buf, len);
	free(buf);
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
	cli_stdout_buffer(1 << 16);
	rec_files_init(&in, argc, argv);
	while ((m = rec_files_next(&in)) != NULL) {
		put_record(&in.r, m, pretty);
	}
	cli_finish();
	return 0;
}
