/*
 * ofa-sample - sample architectures of the OFA MobileNetV3 space (nachos-method(7) §1),
 * uniformly per gene as OFA's sampler does, reproducibly from --seed and
 * without duplicates (compared on the canonical genome).
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
#include "hw.h"
#include "nachos.h"
#include "nn.h"

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

static void
sample(struct arch *a, struct nn_rng *r)
{
	int i, j, any;

	for (i = 0; i < ARCH_STAGES; i++)
		a->d[i] = arch_d_set[rng_below(r, 3)];
	for (i = 0; i < ARCH_SLOTS; i++)
		a->ks[i] = arch_ks_set[rng_below(r, 3)];
	for (i = 0; i < ARCH_SLOTS; i++)
		a->e[i] = arch_e_set[rng_below(r, 3)];
	do { /* an EENN needs one intermediate exit: resample the all-off vector */
		for (any = 0, i = 0; i < ARCH_EXITS; i++) {
			if (a->space == ARCH_NACHOS)
				a->exits[i] = rng_below(r, 2);
			else
				a->exits[i] = (a->th[i] = rng_below(r, 3)) != 2;
			any |= a->exits[i];
		}
	} while (!any);
	for (i = 0; i < ARCH_EXITS; i++)
		for (j = 0; j < ARCH_MODS; j++) {
			struct arch_mod *m = &a->mod[i][j];

			m->present = 1;
			if (a->space != ARCH_AEBNAS)
				continue;
			m->k = rng_below(r, 2) ? 5 : 3;
			m->wm = rng_below(r, 2) + 1;
			m->pool = rng_below(r, 2);
			if (j > 0)
				m->present = rng_below(r, 2);
		}
	arch_canonical(a);
}

/* Distinct canonical archs of a space, as a double (it exceeds 2^64). */
static double
space_size(enum arch_space s)
{
	double stage = 0, per_exit;
	int i;

	for (i = 0; i < 3; i++)
		stage += pow(9, arch_d_set[i]);
	if (s == ARCH_NACHOS)
		return pow(stage, ARCH_STAGES) * (pow(2, ARCH_EXITS) - 1);
	/* An on exit: 2 thresholds; aebnas adds 8 module-1 x (1 + 8 module-2). */
	per_exit = s == ARCH_AEBNAS ? 2 * 8 * 9 : 2;
	return pow(stage, ARCH_STAGES) * (pow(1 + per_exit, ARCH_EXITS) - 1);
}

/* Open-addressing set of genomes (bytes, glen each) stored in gs[]. */
struct gset {
	unsigned char *gs;
	long n, *slot, mask;
	int glen;
};

static uint64_t
ghash(const unsigned char *g, int n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int i;

	for (i = 0; i < n; i++)
		h = (h ^ g[i]) * 0x100000001b3ULL;
	return h;
}

/* Add the genome of a; 0 if it was there already. */
static int
gset_add(struct gset *s, const struct arch *a)
{
	int g[ARCH_MAX_GENOME], i;
	unsigned char *gb = s->gs + s->n * s->glen;
	long h;

	arch_to_genome(a, g);
	for (i = 0; i < s->glen; i++)
		gb[i] = (unsigned char)g[i];
	for (h = (long)(ghash(gb, s->glen) & (uint64_t)s->mask); s->slot[h] >= 0;
	    h = (h + 1) & s->mask)
		if (memcmp(s->gs + s->slot[h] * s->glen, gb, s->glen) == 0)
			return 0;
	s->slot[h] = s->n++;
	return 1;
}

/*
 * Fail fast when the smallest networks of the space, the all-min backbone
 * with a single exit, all break the limits: a network has at least their
 * weights and their activations.
 */
static void
check_fits(const struct hw_limits *l, struct arch a)
{
	char lims[160], why[160];
	int i, j;

	if (!hw_limited(l))
		return;
	arch_extreme(&a, a.space, 0);
	for (j = 0; j < ARCH_EXITS; j++) {
		for (i = 0; i < ARCH_EXITS; i++) {
			a.exits[i] = i == j;
			if (a.space != ARCH_NACHOS)
				a.th[i] = i == j ? 0 : 2;   /* 2: threshold 1, no exit */
		}
		arch_canonical(&a);
		if (hw_arch_violation(&a, l, why, sizeof(why)) <= 0)
			return;
	}
	hw_describe(lims, sizeof(lims), l);
	errx(EX_USAGE, "no network of the space at width %g fits %s: even the all-min one "
	    "with a single exit breaks them (%s); try a smaller --width", a.width, lims, why);
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
	struct gset set;
	struct nn_rng rng;
	struct rec_out o;
	struct hw_limits lim;
	long n = 1, seed = 1, i, tries, cap, rejected = 0;
	int c, extremes = 0;
	char id[64];

	hw_limits_init(&lim);
	memset(&a, 0, sizeof(a));
	a.space = ARCH_NACHOS;
	a.width = 1.0;
	a.resolution = 32;
	a.in_ch = 3;
	a.classes = 10;
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
	if ((double)n > space_size(a.space))
		errx(EX_USAGE, "-n: %ld is more than the %.0f distinct architectures "
		    "of the %s space", n, space_size(a.space), arch_space_names[a.space]);

	check_fits(&lim, a);
	set.glen = arch_genome_len(a.space);
	set.n = 0;
	for (cap = 16; cap < 2 * n; cap *= 2)
		;
	set.mask = cap - 1;
	if ((set.gs = malloc((size_t)(n + 1) * set.glen)) == NULL ||
	    (set.slot = malloc(cap * sizeof(*set.slot))) == NULL)
		err(EX_SOFTWARE, "malloc");
	memset(set.slot, 0xff, cap * sizeof(*set.slot));
	nn_rng_seed(&rng, (uint64_t)seed);
	cli_stdout_buffer(1 << 16);
	rec_out_init(&o);
	for (i = tries = 0; i < n; tries++) {
		if (extremes && tries < 2)
			arch_extreme(&a, a.space, (int)tries);
		else
			sample(&a, &rng);
		if (hw_arch_violation(&a, &lim, NULL, 0) > 0) {
			/* Networks that break the limits are drawn and dropped
			 * (before the set, which holds n), so the ones kept are
			 * uniform over those that fit. */
			if (++rejected > 1000 * n + 100000)
				no_fit(&lim, i, n, rejected);
			continue;
		}
		if (!gset_add(&set, &a))
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
	free(set.gs);
	free(set.slot);
	cli_finish();
	return 0;
}
