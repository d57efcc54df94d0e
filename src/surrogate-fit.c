/*
 * surrogate-fit - fit a predictor of one archive key from the genomes
 * (nachos-method(7) §6 step 1) and write it as a model record; or, with --predict,
 * annotate records with the prediction of a model record.
 */
#include <err.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "cli.h"
#include "cpu.h"
#include "nachos.h"
#include "nn.h"
#include "sur.h"

static const char usage_str[] =
    "usage: surrogate-fit [-hv] -t KEY [--error] [-m rbf|gp|cart|mlp|as] [--folds N]\n"
    "                     [--seed S] [--theta shared|ard] [--trees N] [--epochs N]\n"
    "                     [--skip-missing] [--threads N] [-o FILE] [FILE ...]\n"
    "       surrogate-fit [-h] -p MODEL [FILE ...]\n";

static void
usage(FILE *fp, int status)
{
	fputs(usage_str, fp);
	exit(status);
}

/* The genome of record m into g (ARCH_MAX_GENOME); returns its length,
 * which must be want when want > 0 (of: whose length that is, for the
 * message). From "genome", else from the arch keys. */
static int
genome(int *g, const struct rec_in *r, const msgpack_object *m, int want, const char *of)
{
	const msgpack_object *a = rec_get(m, "genome");
	int n;

	if (a) {
		a = rec_arr(r, m, "genome", -1);
		n = (int)a->via.array.size;
		if (n < 1 || n > ARCH_MAX_GENOME)
			rec_fail(r, "genome", "has %d genes, not 1 to %d", n, ARCH_MAX_GENOME);
		if (want > 0 && n != want)
			rec_fail(r, "genome", "has %d genes, not %d as %s", n, want, of);
		rec_ints(r, m, "genome", g, n, 0, 1000);
		return n;
	}
	if (rec_get(m, "ks")) {
		struct arch ar;

		arch_read(&ar, r, m);
		n = arch_genome_len(ar.space);
		if (want > 0 && n != want)
			rec_fail(r, "ks", "the %s genome has %d genes, not %d as %s",
			    arch_space_names[ar.space], n, want, of);
		arch_to_genome(&ar, g);
		return n;
	}
	rec_fail(r, "genome", "missing, and no arch keys (ks, e, d) to derive it from");
}

static void
predict(const char *path, int argc, char **argv)
{
	struct sur_model sm;
	struct rec_in mr;
	struct rec_out o;
	struct rec_files in;
	const msgpack_object *m;
	char key[96];
	double *x;
	int i, g[ARCH_MAX_GENOME];

	rec_in_open(&mr, path);
	if ((m = rec_next(&mr)) == NULL)
		errx(EX_DATAERR, "%s: no model record", path);
	if (!rec_is(m, "model"))
		rec_fail(&mr, "type", "not \"model\"");
	sur_read(&sm, &mr, m);
	rec_in_close(&mr);
	snprintf(key, sizeof(key), "pred_%s", sm.target);
	x = malloc(sizeof(double) * sm.d);
	cli_stdout_buffer(1 << 16);
	rec_out_init(&o);
	rec_files_init(&in, argc, argv);
	while ((m = rec_files_next(&in)) != NULL) {
		char type[64];
		double y;

		genome(g, &in.r, m, sm.d, "the model");
		for (i = 0; i < sm.d; i++)
			x[i] = g[i];
		y = sur_predict(&sm, x);
		rec_str(&in.r, m, "type", type, sizeof(type));
		rec_out_begin(&o, m, type, rec_int(&in.r, m, "v", 0, LONG_MAX));
		rec_put_dbl(&o, key, sm.error ? 1 - y : y);
		rec_out_end(&o, stdout);
	}
	rec_out_free(&o);
	free(x);
	sur_free(&sm);
}

/* The training points: each record's genome (x, n rows of d genes) and
 * target (y; 1 - value with error); records without the target are skipped
 * with skip, else an error. */
static long
read_points(double **xp, double **yp, int *dp, const char *target, int error, int skip,
    int argc, char **argv)
{
	struct rec_files in;
	const msgpack_object *m;
	double *x = NULL, *y = NULL;
	long n = 0, cap = 0, skipped = 0;
	int i, d = 0, g[ARCH_MAX_GENOME];

	rec_files_init(&in, argc, argv);
	while ((m = rec_files_next(&in)) != NULL) {
		const msgpack_object *t = rec_get(m, target);
		double v;
		int k;

		if (!t && skip) {
			skipped++;
			continue;
		}
		k = genome(g, &in.r, m, d, "the first record");
		if (!t)
			rec_fail(&in.r, target, "missing");
		if (!rec_isnum(t))
			rec_fail(&in.r, target, "not a number");
		if (!isfinite(v = rec_num(t)))
			rec_fail(&in.r, target, "%g is not a finite number", v);
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			x = realloc(x, sizeof(double) * cap * k);
			y = realloc(y, sizeof(double) * cap);
			if (!x || !y)
				err(EX_SOFTWARE, "realloc");
		}
		d = k;
		for (i = 0; i < d; i++)
			x[n * d + i] = g[i];
		y[n++] = error ? 1 - v : v;
	}
	if (skipped)
		warnx("skipped %ld records without \"%s\"", skipped, target);
	*xp = x, *yp = y, *dp = d;
	return n;
}

/* -v: each model's cross-validation figures and the one fitted. */
static void
report_cv(const struct sur_model *sm)
{
	int i;

	for (i = 0; i < SUR_AS; i++) {
		const struct sur_cv *cv = sm->cv + i;

		if (cv->done)
			fprintf(stderr, "surrogate-fit: %-4s tau %.3f +- %.3f score %.3f "
			    "rmse %.4g rho %.3f\n", sur_kind_names[i], cv->tau, cv->tau_std,
			    cv->score, cv->rmse, cv->rho);
		else if (cv->why[0])
			fprintf(stderr, "surrogate-fit: %-4s skipped: %s\n",
			    sur_kind_names[i], cv->why);
	}
	fprintf(stderr, "surrogate-fit: fitted %s%s%s\n", sur_kind_names[sm->kind],
	    sm->note[0] ? ": " : "", sm->note);
}

int
main(int argc, char **argv)
{
	enum { O_ERROR = 256, O_FOLDS, O_SEED, O_THETA, O_TREES, O_EPOCHS, O_SKIP, O_THREADS };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "target", required_argument, NULL, 't' },
		{ "error", no_argument, NULL, O_ERROR },
		{ "model", required_argument, NULL, 'm' },
		{ "folds", required_argument, NULL, O_FOLDS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "theta", required_argument, NULL, O_THETA },
		{ "trees", required_argument, NULL, O_TREES },
		{ "epochs", required_argument, NULL, O_EPOCHS },
		{ "skip-missing", no_argument, NULL, O_SKIP },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "output", required_argument, NULL, 'o' },
		{ "predict", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const thetas[] = { "shared", "ard", NULL };
	struct sur_opts so;
	struct sur_model sm;
	struct rec_out o;
	struct cli_out out;
	const char *target = NULL, *model = NULL, *opath = NULL;
	double *x = NULL, *y = NULL;
	long n;
	int c, d = 0, error = 0, skip = 0, verbose = 0;
	int threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	char msg[256];

	sur_opts_default(&so);
	while ((c = getopt_long(argc, argv, "hvt:m:o:p:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, 0);
			break;
		case 'v':
			verbose = 1;
			break;
		case 't':
			target = optarg;
			if (strlen(target) >= sizeof(sm.target) - 5)
				errx(EX_USAGE, "--target: longer than %zu bytes", sizeof(sm.target) - 6);
			break;
		case O_ERROR:
			error = 1;
			break;
		case 'm':
			so.kind = cli_choice("--model", optarg, sur_kind_names);
			if (so.kind == SUR_CONST)
				errx(EX_USAGE, "--model: const is a fallback, not a choice");
			break;
		case O_FOLDS:
			so.folds = (int)cli_long("--folds", optarg, 0, 1000);
			if (so.folds == 1)
				errx(EX_USAGE, "--folds: 1 is not a cross-validation (0 or >= 2)");
			break;
		case O_SEED:
			so.seed = (unsigned long)cli_long("--seed", optarg, 0, LONG_MAX);
			break;
		case O_THETA:
			so.gp_ard = cli_choice("--theta", optarg, thetas);
			break;
		case O_TREES:
			so.trees = (int)cli_long("--trees", optarg, 1, 100000);
			break;
		case O_EPOCHS:
			so.epochs = (int)cli_long("--epochs", optarg, 1, 10000000);
			break;
		case O_SKIP:
			skip = 1;
			break;
		case O_THREADS:
			threads = (int)cli_long("--threads", optarg, 1, 1024);
			break;
		case 'o':
			opath = optarg;
			break;
		case 'p':
			model = optarg;
			break;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	/* Surrogate matrices are small: threads go to the CV folds, not BLAS. */
	nn_threads(threads);
	if (verbose)
		cpu_blas_note();
	if (model) {
		if (target || opath)
			errx(EX_USAGE, "--predict takes the target from the model; no -t or -o");
		predict(model, argc, argv);
		cli_finish();
		return 0;
	}
	if (!target)
		usage(stderr, EX_USAGE);
	if (so.kind == SUR_AS && so.folds < 2)
		errx(EX_USAGE, "--folds: adaptive switching needs at least 2");

	n = read_points(&x, &y, &d, target, error, skip, argc, argv);
	if (n < 2)
		errx(EX_DATAERR, "%ld records with \"%s\": need at least 2", n, target);
	if (sur_fit(&sm, x, y, (int)n, d, &so, msg, sizeof(msg)))
		errx(EX_DATAERR, "\"%s\" from %ld records of %d genes: %s", target, n, d, msg);
	snprintf(sm.target, sizeof(sm.target), "%s", target);
	sm.error = error;
	if (verbose)
		report_cv(&sm);
	rec_out_init(&o);
	rec_out_begin(&o, NULL, "model", 1);
	sur_put(&o, &sm);
	if (opath) {
		cli_out_open(&out, opath);
		rec_out_end(&o, out.fp);
		cli_out_commit(&out);
	} else {
		rec_out_end(&o, stdout);
	}
	rec_out_free(&o);
	sur_free(&sm);
	free(x);
	free(y);
	cli_finish();
	return 0;
}
