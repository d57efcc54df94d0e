/*
 * ofa-sample - sample architectures of the OFA MobileNetV3 space (nachos-method(7) §1),
 * uniformly per gene as OFA's sampler does, reproducibly from --seed and
 * without duplicates (compared on the canonical genome).
 */
#include <err.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "cli.h"
#include "hw.h"
#include "nachos.h"
#include "rng.h"
#include "sample.h"

static const char usage_str[] =
    "usage: ofa-sample [-h] [--extremes] [-n N] [--seed S] [--width W]\n"
    "                  [--resolution R] [--in-ch C] [--classes K]\n"
    "                  [--space nachos|edanas|aebnas] [--flash-max BYTES]\n"
    "                  [--sram-max BYTES] [--target NAME] [--mem-dtype int8|f32]\n";

static void
usage(FILE *fp, int status)
{
	fputs(usage_str, fp);
	exit(status);
}

/* Fail fast when no network of the space can fit the limits. */
static void
check_fits(const struct hw_limits *l, const struct arch *a)
{
	char lims[160], why[160];

	if (sample_min_fits(l, *a, why, sizeof(why)))
		return;
	hw_describe(lims, sizeof(lims), l);
	errx(EX_USAGE, "no network of the space at width %g fits %s: even the all-min one "
	    "with a single exit breaks them (%s); try a smaller --width", a->width, lims, why);
}

/* Too many draws broke the limits. */
static void
no_fit(const struct hw_limits *l, long got, long n, long rejected)
{
	char lims[160];

	hw_describe(lims, sizeof(lims), l);
	errx(EX_USAGE, "only %ld of %ld networks fit %s after %ld draws broke them; "
	    "try a smaller --width or looser limits", got, n, lims, rejected);
}

int
main(int argc, char **argv)
{
	enum { O_SEED = 256, O_WIDTH, O_RES, O_INCH, O_CLASSES, O_SPACE, O_EXTREMES };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "seed", required_argument, NULL, O_SEED },
		{ "width", required_argument, NULL, O_WIDTH },
		{ "resolution", required_argument, NULL, O_RES },
		{ "in-ch", required_argument, NULL, O_INCH },
		{ "classes", required_argument, NULL, O_CLASSES },
		{ "space", required_argument, NULL, O_SPACE },
		{ "extremes", no_argument, NULL, O_EXTREMES },
		HW_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct arch a;
	struct sample_set set;
	struct nn_rng rng;
	struct rec_out o;
	struct hw_limits lim;
	long n = 1, seed = 1, i, tries, rejected = 0;
	int c, extremes = 0;
	char id[64];

	hw_limits_init(&lim);
	arch_defaults(&a);
	while ((c = getopt_long(argc, argv, "hn:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, 0);
			break;
		case 'n':
			n = cli_long("-n", optarg, 0, 100000000);
			break;
		case O_SEED:
			seed = cli_long("--seed", optarg, 0, INT64_MAX);
			break;
		case O_WIDTH:
			a.width = cli_double("--width", optarg, 0.1, 4.0);
			break;
		case O_RES:
			a.resolution = (int)cli_long("--resolution", optarg, 16, 1024);
			break;
		case O_INCH:
			a.in_ch = (int)cli_long("--in-ch", optarg, 1, 64);
			break;
		case O_CLASSES:
			a.classes = (int)cli_long("--classes", optarg, 2, 100000);
			break;
		case O_SPACE:
			a.space = cli_choice("--space", optarg, arch_space_names);
			break;
		case O_EXTREMES:
			extremes = 1;
			break;
		default:
			if (!hw_option(&lim, c, optarg))
				usage(stderr, EX_USAGE);
		}
	}
	if (optind != argc)
		usage(stderr, EX_USAGE);
	if ((double)n > sample_space_size(a.space))
		errx(EX_USAGE, "-n: %ld is more than the %.0f distinct architectures "
		    "of the %s space", n, sample_space_size(a.space), arch_space_names[a.space]);

	check_fits(&lim, &a);
	if (sample_set_init(&set, a.space, n) < 0)
		err(EX_SOFTWARE, "malloc");
	nn_rng_seed(&rng, (uint64_t)seed);
	cli_stdout_buffer(1 << 16);
	rec_out_init(&o);
	for (i = tries = 0; i < n; tries++) {
		if (extremes && tries < 2)
			arch_extreme(&a, a.space, (int)tries);
		else
			sample_arch(&a, &rng);
		if (hw_arch_violation(&a, &lim, NULL, 0) > 0) {
			/* Networks that break the limits are drawn and dropped
			 * (before the set, which holds n), so the ones kept are
			 * uniform over those that fit. */
			if (++rejected > 1000 * n + 100000)
				no_fit(&lim, i, n, rejected);
			continue;
		}
		if (sample_set_add(&set, &a) != 1)
			continue;
		snprintf(id, sizeof(id), "s%ld-%ld", seed, i);
		rec_out_begin(&o, NULL, "arch", 1);
		rec_put_str(&o, "id", id);
		rec_put_int(&o, "seed", seed);
		arch_put(&o, &a);
		rec_out_end(&o, stdout);
		i++;
	}
	if (hw_limited(&lim)) {
		char lims[160];

		hw_describe(lims, sizeof(lims), &lim);
		warnx("rejected %ld sampled networks that break the limits (%s)", rejected, lims);
	}
	rec_out_free(&o);
	sample_set_free(&set);
	cli_finish();
	return 0;
}
