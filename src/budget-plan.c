/*
 * budget-plan - size a search to a wall-clock budget: reads the rates
 * record of the probes a pipeline timed on this machine and writes it back
 * as a plan record (supernet epochs and images, the candidates' subset,
 * initial archive, candidates per iteration, iterations, estimates). The
 * rule is lib/plan.c's.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nachos.h"
#include "plan.h"
#include "rec.h"

static const char usage_str[] =
    "usage: budget-plan [-h] -b duration [--reserve s] [--iter-overhead s]\n"
    "                   [--sup-share x] [--epochs-max n] [--subset-min n]\n"
    "                   [--subset-max n] [--c-min n] [--k-max n] [file]\n"
    "       budget-plan [-h] -b duration --check\n";

static void
usage(FILE *fp, int status)
{
	fputs(usage_str, fp);
	exit(status);
}

/* The probes under key_n and key_s: the times of key_s (ns of them, 1 or
 * 2; 0: as many as it holds, 1 or 2) at the first sizes of key_n (two,
 * different), and their CPU times from key_s with "_s" made "_cpu_s"
 * when the record has it (as many). Returns how many. */
static int
probes(struct plan_probe *p, const struct rec_in *r, const msgpack_object *m, const char *key_n,
    const char *key_s, int ns)
{
	const msgpack_object *o;
	double n[2], s[2], c[2] = { 0, 0 };
	char key_c[64];
	int i;

	rec_dbls(r, m, key_n, n, 2, 1, 1e9);
	if (n[0] == n[1])
		rec_fail(r, key_n, "two different sizes needed");
	if (!ns) {
		o = rec_get(m, key_s);
		ns = o && o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 1 ? 1 : 2;
	}
	rec_dbls(r, m, key_s, s, ns, 0, 1e9);
	snprintf(key_c, sizeof(key_c), "%.*s_cpu_s", (int)strlen(key_s) - 2, key_s);
	if (rec_get(m, key_c))
		rec_dbls(r, m, key_c, c, ns, 1e-6, 1e9);
	for (i = 0; i < ns; i++)
		p[i] = (struct plan_probe){ .n = (long)n[i], .s = s[i], .cpu = c[i] };
	return ns;
}

int
main(int argc, char **argv)
{
	enum { O_RESERVE = 256, O_OVER, O_SHARE, O_EPOCHS, O_SMIN, O_SMAX, O_CMIN, O_KMAX, O_CHECK };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "budget", required_argument, NULL, 'b' },
		{ "reserve", required_argument, NULL, O_RESERVE },
		{ "iter-overhead", required_argument, NULL, O_OVER },
		{ "sup-share", required_argument, NULL, O_SHARE },
		{ "epochs-max", required_argument, NULL, O_EPOCHS },
		{ "subset-min", required_argument, NULL, O_SMIN },
		{ "subset-max", required_argument, NULL, O_SMAX },
		{ "c-min", required_argument, NULL, O_CMIN },
		{ "k-max", required_argument, NULL, O_KMAX },
		{ "check", no_argument, NULL, O_CHECK },
		{ NULL, 0, NULL, 0 },
	};
	struct plan_limits l;
	struct plan_rates rt;
	struct plan p;
	struct rec_files in;
	struct rec_out o;
	const msgpack_object *m;
	char why[160];
	long budget = -1;
	int ch, check = 0, nrec = 0, over = 0;

	plan_limits_default(&l);
	while ((ch = getopt_long(argc, argv, "hb:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout, 0);
			break;
		case 'b':
			if ((budget = plan_duration(optarg)) < 0)
				errx(EX_USAGE, "--budget: \"%s\" is not a duration (like 25m, 2h, "
				    "1h30m, 90s: integers with units h, m, s in that order)", optarg);
			break;
		case O_RESERVE: l.reserve = cli_double("--reserve", optarg, 0, 1e9); break;
		case O_OVER:
			l.iter_overhead = cli_double("--iter-overhead", optarg, 0, 1e9);
			over = 1;
			break;
		case O_SHARE: l.sup_share = cli_double("--sup-share", optarg, 0.01, 1); break;
		case O_EPOCHS: l.epochs_max = (int)cli_long("--epochs-max", optarg, 1, 100000); break;
		case O_SMIN: l.subset_min = cli_long("--subset-min", optarg, 1, 1L << 31); break;
		case O_SMAX: l.subset_max = cli_long("--subset-max", optarg, 1, 1L << 31); break;
		case O_CMIN: l.c_min = (int)cli_long("--c-min", optarg, 1, 1000000); break;
		case O_KMAX: l.k_max = (int)cli_long("--k-max", optarg, 1, 1000000); break;
		case O_CHECK: check = 1; break;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (budget < 0)
		usage(stderr, EX_USAGE);
	if (check) {
		if (argc)
			usage(stderr, EX_USAGE);
		printf("%ld\n", budget);
		cli_finish();
		return 0;
	}
	if (argc > 1)
		usage(stderr, EX_USAGE);
	if (l.subset_max < l.subset_min)
		errx(EX_USAGE, "--subset-max %ld is below --subset-min %ld", l.subset_max,
		    l.subset_min);
	l.budget = (double)budget;
	rec_out_init(&o);
	rec_files_init(&in, argc, argv);
	while ((m = rec_files_next(&in)) != NULL) {
		if (!rec_is(m, "rates"))
			rec_fail(&in.r, "type", "a rates record expected");
		if (++nrec > 1)
			rec_fail(&in.r, NULL, "one rates record expected");
		rt = (struct plan_rates){ .jobs = (int)rec_int(&in.r, m, "jobs", 1, 100000) };
		rt.has_sup = rec_get(m, "sup_probe_n") != NULL;
		if (rt.has_sup) {
			probes(rt.sup, &in.r, m, "sup_probe_n", "sup_probe_s", 2);
			rt.sup_images = rec_int(&in.r, m, "sup_images", 1, 1L << 40);
		}
		probes(rt.cmin, &in.r, m, "cand_probe_n", "cand_min_probe_s", 2);
		rt.ncmax = probes(rt.cmax, &in.r, m, "cand_probe_n", "cand_max_probe_s", 0);
		/* a measured iteration, unless the option says otherwise */
		if (!over && rec_get(m, "iter_probe_s"))
			l.iter_overhead = rec_dbl(&in.r, m, "iter_probe_s", 0, 1e9);
		if (plan_make(&p, &rt, &l, why, sizeof(why)))
			rec_fail(&in.r, NULL, "%s", why);
		rec_out_begin(&o, m, "plan", 1);
		rec_put_int(&o, "budget_s", budget);
		rec_put_dbl(&o, "reserve_s", p.reserve_s);
		rec_put_dbl(&o, "iter_overhead_s", l.iter_overhead);
		rec_put_dbl(&o, "sup_fixed_s", p.sup_fixed);
		rec_put_dbl(&o, "sup_per_img_s", p.sup_per_img);
		rec_put_dbl(&o, "cand_min_fixed_s", p.cmin_fixed);
		rec_put_dbl(&o, "cand_min_per_img_s", p.cmin_per_img);
		rec_put_dbl(&o, "cand_max_fixed_s", p.cmax_fixed);
		rec_put_dbl(&o, "cand_max_per_img_s", p.cmax_per_img);
		rec_put_int(&o, "sup_epochs", p.sup_epochs);
		rec_put_int(&o, "sup_subset", p.sup_subset);
		rec_put_int(&o, "subset", p.subset);
		rec_put_int(&o, "candidates", p.candidates);
		rec_put_int(&o, "n_start", p.n_start);
		rec_put_int(&o, "k", p.k);
		rec_put_int(&o, "iterations", p.iterations);
		rec_put_dbl(&o, "sup_s", p.sup_s);
		rec_put_dbl(&o, "cand_min_s", p.cand_min_s);
		rec_put_dbl(&o, "cand_max_s", p.cand_max_s);
		rec_put_dbl(&o, "cand_s", p.cand_s);
		rec_put_dbl(&o, "total_s", p.total_s);
		rec_put_bool(&o, "feasible", p.feasible);
		rec_out_end(&o, stdout);
	}
	if (!nrec)
		errx(EX_DATAERR, "%s: no rates record", argc ? argv[0] : "stdin");
	rec_out_free(&o);
	cli_finish();
	return 0;
}
