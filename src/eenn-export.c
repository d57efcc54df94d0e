/*
 * eenn-export - write the EENN of each result record as standalone C99
 * (float32 and int8) with real early exit, one directory per record, and
 * the record back with the memory figures (export.h, eenn-export(1)).
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "export.h"
#include "nachos.h"
#include "thr.h"

static const char usage_str[] =
    "usage: eenn-export [-h] -o dir [--dtype f32|int8] [--onnx] [--calib n]\n"
    "                   [--calib-seed n] [--name name] [--eval n] [--cc command]\n"
    "                   [--thresholds list]\n"
    "                   [--rule rule] [--data dir] [--val-frac x] [--subset n]\n"
    "                   [--split-seed n] [--mean list] [--std list] [file ...]\n";

static void
usage(FILE *fp, int status)
{
	fputs(usage_str, fp);
	exit(status);
}

/* A C identifier, so NAME_run and NAME.h mean what they say. */
static const char *
c_name(const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (p > s && *p >= '0' && *p <= '9')))
			break;
	if (!*s || *p || p - s > 64)
		errx(EX_USAGE, "--name: \"%s\" is not a C identifier of at most 64 characters", s);
	return s;
}

/* -o must be a directory we can write into (made if absent). */
static void
check_out(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		if (errno != ENOENT || mkdir(dir, 0777) < 0)
			err(EX_CANTCREAT, "%s", dir);
		return;
	}
	if (!S_ISDIR(st.st_mode))
		errx(EX_CANTCREAT, "%s: not a directory", dir);
	if (access(dir, W_OK | X_OK) < 0)
		err(EX_CANTCREAT, "%s", dir);
}

int
main(int argc, char **argv)
{
	enum { O_DTYPE = 256, O_CALIB, O_CSEED, O_NAME, O_EVAL, O_ONNX, O_CC };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "dtype", required_argument, NULL, O_DTYPE },
		{ "calib", required_argument, NULL, O_CALIB },
		{ "calib-seed", required_argument, NULL, O_CSEED },
		{ "name", required_argument, NULL, O_NAME },
		{ "eval", required_argument, NULL, O_EVAL },
		{ "onnx", no_argument, NULL, O_ONNX },
		{ "cc", required_argument, NULL, O_CC },
		RESULT_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct export_opts op = { .name = "eenn", .calib = 256, .calib_seed = 1 };
	struct rec_out o;
	struct rec_files in;
	const msgpack_object *m;
	struct result_data s;
	long recno = 0;
	int c;

	result_opts_init(&op.ro);
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout, 0); break;
		case 'o': op.out = optarg; break;
		case O_DTYPE:
			op.dtypes |= 1 << cli_choice("--dtype", optarg, sched_dtype_names);
			break;
		case O_CALIB: op.calib = cli_long("--calib", optarg, 1, 1L << 30); break;
		case O_CSEED: op.calib_seed = cli_long("--calib-seed", optarg, 0, 1L << 62); break;
		case O_NAME: op.name = c_name(optarg); break;
		case O_ONNX: op.onnx = 1; break;
		case O_CC:
			if (!*optarg)
				errx(EX_USAGE, "--cc: an empty command");
			op.cc = optarg;
			break;
		case O_EVAL: op.eval = cli_long("--eval", optarg, 1, 1L << 40); break;
		default:
			if (!result_opt(&op.ro, c, optarg))
				usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (op.out == NULL)
		errx(EX_USAGE, "-o dir is required (where the exported code goes)");
	if (op.dtypes == 0)
		op.dtypes = 1 << SCHED_F32 | 1 << SCHED_INT8;
	check_out(op.out);
	memset(&s, 0, sizeof(s));
	rec_out_init(&o);
	rec_files_init(&in, argc, argv);
	while ((m = rec_files_next(&in)) != NULL)
		export_record(&o, &op, &s, &in.r, m, ++recno);
	result_data_free(&s);
	rec_out_free(&o);
	cli_finish();
	return 0;
}
