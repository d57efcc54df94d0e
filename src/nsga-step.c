/*
 * nsga-step - one search iteration's candidates (nachos-method(7) §6 steps 2-3):
 * NSGA-II on two surrogate models, started from the archive's
 * non-dominated genomes, then K arch records new to the archive, spread
 * along the second objective by the MSuNAS subset selection.
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
#include "lat.h"
#include "nachos.h"
#include "nsga.h"
#include "rec.h"
#include "search.h"
#include "sur.h"

static const char usage_str[] =
    "usage: nsga-step [-h] --err-model FILE --macs-model FILE [--macs-max MACS]\n"
    "                 [--acc-min ACC] [--penalty P] [--no-constraints]\n"
    "                 [--objectives nachos|aebnas] [--target-macs MACS] [--pop N]\n"
    "                 [--gens N] [--eta ETA] [-k K] [--iter N] [--seed S]\n"
    "                 [--skip-missing] [--flash-max BYTES] [--sram-max BYTES]\n"
    "                 [--target NAME] [--mem-dtype int8|f32] [--cost macs|latency]\n"
    "                 [--lat-max MS] [FILE ...]\n";

static void
usage(FILE *fp, int status)
{
	fputs(usage_str, fp);
	exit(status);
}

/* The options besides the search's own settings. */
struct opts {
	const char *errpath, *macspath;
	double acc_min, macs_max, penalty, target, eta;
	int nocon, pop, gens, k, skip;
	struct lat_cost cost;   /* --cost latency: the cost model predicts ms */
	long iter;
	uint64_t seed;
};

/* A model record; the error model must predict an error, the cost model
 * (--macs-model) the average cost: MACs, or with --cost latency ms. */
static void
load_model(struct sur_model *sm, struct rec_in *r, const char *path, int macs, int lat)
{
	const msgpack_object *m;

	rec_in_open(r, path);
	if ((m = rec_next(r)) == NULL)
		errx(EX_DATAERR, "%s: no model record", path);
	if (!rec_is(m, "model"))
		rec_fail(r, "type", "not \"model\"");
	sur_read(sm, r, m);
	if (macs && (sm->error || !strstr(sm->target, lat ? "latency" : "macs")))
		rec_fail(r, "target", "\"%s\"%s is not an average %s key (--macs-model%s)",
		    sm->target, sm->error ? " as an error" : "", lat ? "latency" : "MACs",
		    lat ? " with --cost latency: fit avg_latency_val" : "");
	if (!macs && !sm->error && !strstr(sm->target, "err"))
		rec_fail(r, "target", "\"%s\" is not an error: fit an accuracy with --error "
		    "(--err-model)", sm->target);
	rec_in_close(r);
}

static void
parse_opts(struct opts *op, struct search *s, int argc, char **argv)
{
	enum { O_ERR = 256, O_MACS, O_MACS_MAX, O_ACC_MIN, O_PENALTY, O_NOCON, O_OBJ,
	    O_TARGET, O_POP, O_GENS, O_ETA, O_ITER, O_SEED, O_SKIP };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "err-model", required_argument, NULL, O_ERR },
		{ "macs-model", required_argument, NULL, O_MACS },
		{ "macs-max", required_argument, NULL, O_MACS_MAX },
		{ "acc-min", required_argument, NULL, O_ACC_MIN },
		{ "penalty", required_argument, NULL, O_PENALTY },
		{ "no-constraints", no_argument, NULL, O_NOCON },
		{ "objectives", required_argument, NULL, O_OBJ },
		{ "target-macs", required_argument, NULL, O_TARGET },
		{ "pop", required_argument, NULL, O_POP },
		{ "gens", required_argument, NULL, O_GENS },
		{ "eta", required_argument, NULL, O_ETA },
		{ "k", required_argument, NULL, 'k' },
		{ "iter", required_argument, NULL, O_ITER },
		{ "seed", required_argument, NULL, O_SEED },
		{ "skip-missing", no_argument, NULL, O_SKIP },
		HW_LONGOPTS,
		LAT_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const objs[] = { "nachos", "aebnas", NULL };
	int c;

	while ((c = getopt_long(argc, argv, "hk:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout, 0); break;
		case O_ERR: op->errpath = optarg; break;
		case O_MACS: op->macspath = optarg; break;
		case O_MACS_MAX:
			op->macs_max = cli_double("--macs-max", optarg, 1e-300, INFINITY);
			break;
		case O_ACC_MIN: op->acc_min = cli_double("--acc-min", optarg, 0, 1); break;
		case O_PENALTY: op->penalty = cli_double("--penalty", optarg, 0, 1e12); break;
		case O_NOCON: op->nocon = 1; break;
		case O_OBJ: s->obj = cli_choice("--objectives", optarg, objs); break;
		case O_TARGET:
			op->target = cli_double("--target-macs", optarg, 1e-300, INFINITY);
			break;
		case O_POP: op->pop = (int)cli_long("--pop", optarg, 2, 100000); break;
		case O_GENS: op->gens = (int)cli_long("--gens", optarg, 0, 1000000); break;
		case O_ETA: op->eta = cli_double("--eta", optarg, 1e-6, 1e6); break;
		case 'k': op->k = (int)cli_long("-k", optarg, 1, 100000); break;
		case O_ITER: op->iter = cli_long("--iter", optarg, 0, 1L << 30); break;
		case O_SEED: op->seed = (uint64_t)cli_long("--seed", optarg, 0, INT64_MAX); break;
		case O_SKIP: op->skip = 1; break;
		default:
			if (!hw_option(&s->lim, c, optarg) && !lat_cost_option(&op->cost, c, optarg))
				usage(stderr, EX_USAGE);
		}
	}
	if (!op->errpath || !op->macspath)
		usage(stderr, EX_USAGE);
	/* the surrogate predicts the latency: no table here */
	lat_cost_finish(&op->cost, "--macs-max", op->macs_max > 0, 0);
	if (op->cost.kind == LAT_COST_LATENCY) {
		if (s->obj == SEARCH_AEBNAS)
			errx(EX_USAGE, "--objectives aebnas: its goal is MACs (--target-macs), "
			    "not --cost latency");
		if (!isnan(op->cost.max))
			op->macs_max = op->cost.max;
	}
	if (op->k > op->pop)
		errx(EX_USAGE, "-k: %d candidates from a population of %d", op->k, op->pop);
	if (op->nocon && (op->macs_max > 0 || op->acc_min >= 0))
		errx(EX_USAGE, "--no-constraints: no --macs-max, --lat-max or --acc-min with it");
	if (s->obj == SEARCH_AEBNAS) {
		if (op->target <= 0)
			errx(EX_USAGE, "--objectives aebnas: needs --target-macs");
		if (op->macs_max > 0)
			errx(EX_USAGE, "--objectives aebnas: its MACs goal is --target-macs, "
			    "not --macs-max");
	} else {
		if (op->target > 0)
			errx(EX_USAGE, "--target-macs: only with --objectives aebnas");
		if (!op->nocon && op->macs_max <= 0)
			errx(EX_USAGE, "%s: needed for F_CM (or --no-constraints)",
			    op->cost.kind == LAT_COST_LATENCY ? "--lat-max" : "--macs-max");
	}
	s->fcm = s->obj == SEARCH_NACHOS && !op->nocon;
	s->macs_max = op->macs_max > 0 ? op->macs_max : INFINITY;
	s->err_max = op->acc_min >= 0 ? 1 - op->acc_min : INFINITY;
	s->penalty = op->penalty;
	s->target = op->target;
	s->alpha = 1;
}

/* NSGA-II on problem p (filled here) from the initial population on the
 * surrogates, op->gens generations with progress; the archive's genomes
 * are never offspring. lo and hi (nv) receive the genes' bounds. */
static void
evolve(struct nsga *ns, struct nsga_problem *p, double *lo, double *hi, struct search *s,
    const struct search_archive *ar, const struct opts *op, struct cli_progress *prog)
{
	double *x0, *ax;
	int ilo[ARCH_MAX_GENOME], ihi[ARCH_MAX_GENOME], n0, i;
	struct nsga_opts no;
	char extra[96];

	arch_genome_bounds(s->base.space, ilo, ihi);
	for (i = 0; i < s->nv; i++) {
		lo[i] = ilo[i];
		hi[i] = ihi[i];
	}
	x0 = malloc(sizeof(double) * (size_t)op->pop * s->nv);
	ax = malloc(sizeof(double) * (size_t)ar->n * s->nv);
	if (!x0 || !ax)
		err(EX_SOFTWARE, "malloc");
	n0 = search_initial(x0, ar, s, lo, hi, op->pop, op->eta, op->seed);
	memset(p, 0, sizeof(*p));
	p->kind = NSGA_INT;
	p->n_var = s->nv;
	p->n_obj = 2;
	p->lo = lo;
	p->hi = hi;
	p->eval = search_eval;
	p->ctx = s;
	p->reeval = s->fcm;
	p->repair = search_repair;
	nsga_defaults(&no, NSGA_INT, op->pop, op->gens, op->seed);
	no.eta_m = op->eta;
	for (i = 0; i < ar->n * s->nv; i++)
		ax[i] = ar->g[i];
	nsga_init(ns, p, &no, x0, n0);
	nsga_set_archive(ns, ax, ar->n);
	cli_progress_start(prog, "generation", op->gens);
	for (i = 0; i < op->gens; i++) {
		nsga_step(ns);
		snprintf(extra, sizeof(extra), "alpha %.2f", s->alpha);
		cli_progress(prog, i + 1, s->fcm ? extra : NULL);
	}
	/* no generation follows */
	ns->ax = NULL;
	ns->an = 0;
	free(ax);
	free(x0);
}

int
main(int argc, char **argv)
{
	struct opts op = { .acc_min = -1, .macs_max = -1, .penalty = 10, .target = -1,
	    .eta = 1.0, .pop = 40, .gens = 20, .k = 8, .iter = 1, .seed = 1 };
	struct search s;
	struct sur_model em, mm;
	struct rec_in emr, mmr;
	struct search_archive ar;
	struct nsga ns;
	struct nsga_problem p;
	double lo[ARCH_MAX_GENOME], hi[ARCH_MAX_GENOME];
	struct cli_progress prog;
	struct rec_out o;
	struct rec_files in;
	const msgpack_object *m;
	struct search_cand *cand;
	int *pick, i, nc, nadm, np, rejected;
	char extra[96];

	memset(&s, 0, sizeof(s));
	hw_limits_init(&s.lim);
	lat_cost_init(&op.cost);
	s.obj = SEARCH_NACHOS;
	parse_opts(&op, &s, argc, argv);
	argc -= optind;
	argv += optind;
	load_model(&em, &emr, op.errpath, 0, 0);
	load_model(&mm, &mmr, op.macspath, 1, op.cost.kind == LAT_COST_LATENCY);
	s.em = &em;
	s.mm = &mm;

	memset(&ar, 0, sizeof(ar));
	rec_files_init(&in, argc, argv);
	while ((m = rec_files_next(&in)) != NULL)
		search_archive_add(&ar, &s, &in.r, m, &emr, &mmr, op.skip);
	if (ar.skipped)
		warnx("%d archive records without \"%s\" and \"%s\" only rule out their genomes",
		    ar.skipped, em.target, mm.target);
	if (ar.nm == 0)
		errx(EX_DATAERR, "%s: no archive record with \"%s\" and \"%s\" to start from",
		    argc ? argv[0] : "-", em.target, mm.target);

	evolve(&ns, &p, lo, hi, &s, &ar, &op, &prog);
	cand = calloc(ns.n, sizeof(*cand));
	pick = malloc(sizeof(int) * op.k);
	if (!cand || !pick)
		err(EX_SOFTWARE, "malloc");
	nc = search_candidates(cand, &nadm, &rejected, &ns, &s, &ar);
	np = search_choose(pick, cand, nc, &s, &ar, op.k);
	snprintf(extra, sizeof(extra), "%d new in the final population (%d admissible), %d picked",
	    nc, nadm, np);
	cli_progress_end(&prog, extra);
	if (hw_limited(&s.lim)) {
		char lims[160];

		hw_describe(lims, sizeof(lims), &s.lim);
		warnx("rejected %d networks of the final population that break the limits (%s)",
		    rejected, lims);
	}
	if (np < op.k)
		warnx("only %d new genomes in the final population, not %d", np, op.k);

	rec_out_init(&o);
	for (i = 0; i < np; i++) {
		const struct search_cand *cd = cand + pick[i];
		struct arch a = s.base;
		char id[64];
		int bad;

		if (arch_from_genome(&a, cd->g, &bad) < 0)
			errx(EX_SOFTWARE, "candidate genome invalid at gene %d", bad);
		snprintf(id, sizeof(id), "i%ld-%d", op.iter, i);
		rec_out_begin(&o, NULL, "arch", 1);
		rec_put_str(&o, "id", id);
		arch_put(&o, &a);
		rec_put_int(&o, "iter", op.iter);
		rec_put_dbl(&o, "pred_err", cd->err);
		rec_put_dbl(&o, op.cost.kind == LAT_COST_LATENCY ? "pred_latency" : "pred_macs",
		    cd->macs);
		rec_out_end(&o, stdout);
	}
	rec_out_free(&o);
	nsga_free(&ns);
	sur_free(&em);
	sur_free(&mm);
	free(cand);
	free(pick);
	search_archive_free(&ar);
	search_free(&s);
	cli_finish();
	return 0;
}
