/*
 * lat-table - measure on this machine the batch-1 latency of every layer
 * configuration of the search space and its exit heads (lib/lat.h) and
 * write it as a "lat" record; or, with --check, compare a table's
 * per-exit predictions with measured latencies of random EENNs.
 */
#include <err.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "cli.h"
#include "data.h"
#include "lat.h"
#include "nachos.h"
#include "nn.h"
#include "stats.h"

static const char usage_str[] =
    "usage: lat-table [-h] [--width W] [--resolution R] [--in-ch C] [--classes K]\n"
    "                 [--space nachos|edanas|aebnas] [--runtime engine|c] [--cc command]\n"
    "                 [--repeats N] [--seed S]\n"
    "       lat-table [-h] --check N [--cc command] [--repeats N] [--seed S] table\n";

static void
usage(FILE *fp, int status)
{
	fputs(usage_str, fp);
	exit(status);
}

/* Predicted against measured per-exit latency of n random EENNs of the
 * table's space: a "lat_check" record. */
static void
check(const struct lat_table *t, const char *path, int n, const char *cc, int repeats,
    uint64_t seed)
{
	struct arch_net *nets = cli_calloc(n, sizeof(*nets));
	double *pred = cli_calloc((size_t)n * (ARCH_EXITS + 1), sizeof(double));
	double *meas = cli_calloc((size_t)n * (ARCH_EXITS + 1), sizeof(double));
	double *px = cli_calloc((size_t)n * (ARCH_EXITS + 1), sizeof(double));
	double *mx = cli_calloc((size_t)n * (ARCH_EXITS + 1), sizeof(double));
	double *fast = cli_calloc((size_t)n * (ARCH_EXITS + 1), sizeof(double));
	double *fx = cli_calloc((size_t)n * (ARCH_EXITS + 1), sizeof(double));
	int lo[ARCH_MAX_GENOME], hi[ARCH_MAX_GENOME], g[ARCH_MAX_GENOME];
	int i, j, np = 0, nv = arch_genome_len(t->base.space), bad;
	double ape = 0, ape_f = 0, worst = 0, lr = 0, lr_f = 0;
	struct nn_rng rng;
	struct rec_out o;
	char what[LAT_KEY + 32];

	nn_rng_seed(&rng, seed);
	arch_genome_bounds(t->base.space, lo, hi);
	for (i = 0; i < n; i++) {
		struct arch a = t->base;

		for (j = 0; j < nv; j++)
			g[j] = lo[j] + (int)(((uint64_t)nn_rng_u32(&rng) * (hi[j] - lo[j] + 1)) >> 32);
		arch_genome_repair(&t->base, g);
		if (arch_from_genome(&a, g, &bad) < 0)
			errx(EX_SOFTWARE, "genome invalid at gene %d", bad);
		arch_net_build(&nets[i], &a);
		if (lat_predict(pred + i * (ARCH_EXITS + 1), t, &nets[i], what, sizeof(what)) < 0)
			errx(EX_DATAERR, "%s: no entry for \"%s\"", path, what);
	}
	lat_run(meas, fast, nets, n, t->runtime, cc, repeats, seed);
	for (i = 0; i < n; i++)
		for (j = 0; j < nets[i].nexit; j++) {
			double p = pred[i * (ARCH_EXITS + 1) + j], m = meas[i * (ARCH_EXITS + 1) + j];
			double f = fast[i * (ARCH_EXITS + 1) + j];

			px[np] = p;
			fx[np] = f;
			mx[np++] = m;
			ape += fabs(p - m) / m;
			ape_f += fabs(p - f) / f;
			lr += log(p / m);
			lr_f += log(p / f);
			worst = fabs(p - m) / m > worst ? fabs(p - m) / m : worst;
		}
	rec_out_init(&o);
	rec_out_begin(&o, NULL, "lat_check", 2);
	rec_put_str(&o, "table", path);
	rec_put_str(&o, "cpu", t->cpu);
	rec_put_str(&o, "runtime", lat_runtime_names[t->runtime]);
	if (t->runtime == LAT_C)
		rec_put_str(&o, "cc", t->cc);
	rec_put_int(&o, "nets", n);
	rec_put_int(&o, "points", np);
	rec_put_int(&o, "repeats", repeats);
	rec_put_dbl(&o, "spearman", stats_spearman(px, mx, np));
	rec_put_dbl(&o, "mape", ape / np);
	rec_put_dbl(&o, "max_ape", worst);
	rec_put_dbl(&o, "ratio", exp(lr / np));
	rec_put_dbl(&o, "spearman_fastest", stats_spearman(px, fx, np));
	rec_put_dbl(&o, "mape_fastest", ape_f / np);
	rec_put_dbl(&o, "ratio_fastest", exp(lr_f / np));
	rec_put_dbls(&o, "pred_ms", px, np);
	rec_put_dbls(&o, "meas_ms", mx, np);
	rec_put_dbls(&o, "fastest_ms", fx, np);
	rec_out_end(&o, stdout);
	rec_out_free(&o);
	free(nets);
	free(pred);
	free(meas);
	free(px);
	free(mx);
	free(fast);
	free(fx);
}

int
main(int argc, char **argv)
{
	enum { O_WIDTH = 256, O_RES, O_INCH, O_CLASSES, O_SPACE, O_REPEATS, O_SEED, O_CHECK,
		O_RUNTIME, O_CC };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "width", required_argument, NULL, O_WIDTH },
		{ "resolution", required_argument, NULL, O_RES },
		{ "in-ch", required_argument, NULL, O_INCH },
		{ "classes", required_argument, NULL, O_CLASSES },
		{ "space", required_argument, NULL, O_SPACE },
		{ "repeats", required_argument, NULL, O_REPEATS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "check", required_argument, NULL, O_CHECK },
		{ "runtime", required_argument, NULL, O_RUNTIME },
		{ "cc", required_argument, NULL, O_CC },
		{ NULL, 0, NULL, 0 },
	};
	struct arch a;
	struct lat_table t;
	struct rec_out o;
	long seed = 1;
	const char *cc = NULL;
	int c, repeats = 11, ncheck = 0, shape = 0, runtime = LAT_ENGINE;

	arch_defaults(&a);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, 0);
			break;
		case O_WIDTH:
			a.width = cli_double("--width", optarg, 0.1, 4.0), shape = 1;
			break;
		case O_RES:
			a.resolution = (int)cli_long("--resolution", optarg, 16, 1024), shape = 1;
			break;
		case O_INCH:
			a.in_ch = (int)cli_long("--in-ch", optarg, 1, 64), shape = 1;
			break;
		case O_CLASSES:
			a.classes = (int)cli_long("--classes", optarg, 2, 100000), shape = 1;
			break;
		case O_SPACE:
			a.space = cli_choice("--space", optarg, arch_space_names), shape = 1;
			break;
		case O_REPEATS:
			repeats = (int)cli_long("--repeats", optarg, 1, 100000);
			break;
		case O_SEED:
			seed = cli_long("--seed", optarg, 0, INT64_MAX);
			break;
		case O_RUNTIME:
			runtime = cli_choice("--runtime", optarg, lat_runtime_names), shape = 1;
			break;
		case O_CC:
			cc = optarg;
			break;
		case O_CHECK:
			ncheck = (int)cli_long("--check", optarg, 1, 10000);
			break;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	/* the engine at one thread: the latency of one image on one core */
	nn_threads(1);
	if (ncheck) {
		if (argc != 1 || shape)
			usage(stderr, EX_USAGE);
		lat_load(&t, argv[0]);
		/* the command is the user's, never one read from a file: it
		 * must be the table's, given again */
		if (t.runtime != LAT_C && cc)
			errx(EX_USAGE, "--cc: %s is a table of the %s, not of the exported C",
			    argv[0], lat_runtime_names[t.runtime]);
		if (t.runtime == LAT_C && strcmp(t.cc, cc ? cc : "cc -std=c99 -O2") != 0)
			errx(EX_USAGE, "--cc: %s was measured with \"%s\": check it with that "
			    "command given as --cc", argv[0], t.cc);
		check(&t, argv[0], ncheck, t.cc, repeats, (uint64_t)seed);
	} else {
		if (argc != 0)
			usage(stderr, EX_USAGE);
		if (cc && runtime != LAT_C)
			errx(EX_USAGE, "--cc: the compiler of the exported C, only with --runtime c");
		if (runtime == LAT_C && a.in_ch > DATA_MAX_CH)
			errx(EX_USAGE, "--in-ch %d: the exported C takes images of at most %d "
			    "channels", a.in_ch, DATA_MAX_CH);
		lat_measure(&t, &a, runtime, cc ? cc : "cc -std=c99 -O2", repeats, (uint64_t)seed);
		rec_out_init(&o);
		rec_out_begin(&o, NULL, "lat", 2);
		lat_put(&o, &t);
		rec_out_end(&o, stdout);
		rec_out_free(&o);
	}
	lat_free(&t);
	cli_finish();
	return 0;
}
