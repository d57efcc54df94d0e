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
#include "hw.h"
#include "nachos.h"
#include "nsga.h"
#include "pareto.h"
#include "rec.h"
#include "sur.h"

static const char usage_str[] =
    "usage: nsga-step [-h] --err-model FILE --macs-model FILE [--macs-max MACS]\n"
    "                 [--acc-min ACC] [--penalty P] [--no-constraints]\n"
    "                 [--objectives nachos|aebnas] [--target-macs MACS] [--pop N]\n"
    "                 [--gens N] [--eta ETA] [-k K] [--iter N] [--seed S]\n"
    "                 [--skip-missing] [--flash-max BYTES] [--sram-max BYTES]\n"
    "                 [--target NAME] [--mem-dtype int8|f32] [FILE ...]\n";

static void
usage(FILE *fp, int status)
{
	fputs(usage_str, fp);
	exit(status);
}

enum objectives { OBJ_NACHOS, OBJ_AEBNAS };

/* The problem NSGA-II sees: what the objectives are made of. */
struct search {
	const struct sur_model *em, *mm;  /* predict the error, the avg MACs */
	struct arch base;       /* space and input of the archive: the genes are set per genome */
	int nv;                 /* genes */
	enum objectives obj;
	int fcm;                /* f2 is F_CM (--macs-max) */
	double macs_max, penalty, target;
	double err_max;         /* 1 - --acc-min; INFINITY: no accuracy constraint */
	double alpha;           /* F_CM's alpha of the last evaluation */
	struct hw_limits lim;   /* memory limits: an exact violation from the genome */
	int cap;                /* scratch rows */
	double *pe, *pm;        /* (cap) predictions */
	double *pv;             /* (cap) memory violations (hw.h) */
};

/* The canonical genome gc of x (repaired: see arch_genome_repair). */
static void
canon(int *gc /* (nv) */, const struct search *s, const double *x /* (nv) */)
{
	int i;

	for (i = 0; i < s->nv; i++)
		gc[i] = (int)lrint(x[i]);
	arch_genome_repair(&s->base, gc);
}

/* NSGA-II's repair hook: children become canonical, valid genomes, so its
 * duplicate elimination compares networks, not encodings. */
static void
repair(void *ctx, double *x /* (nv) */)
{
	const struct search *s = ctx;
	int gc[ARCH_MAX_GENOME], i;

	canon(gc, s, x);
	for (i = 0; i < s->nv; i++)
		x[i] = gc[i];
}

static void
predict(double *err, double *macs, const struct search *s, const int *gc /* (nv) */)
{
	double x[ARCH_MAX_GENOME];
	int i;

	for (i = 0; i < s->nv; i++)
		x[i] = gc[i];
	*err = sur_predict(s->em, x);
	*macs = sur_predict(s->mm, x);
}

static double
mape(const struct search *s, double macs)
{
	return fabs(macs - s->target) / s->target * 100;
}

static double
obj1(const struct search *s, double err, double macs)
{
	/* AEBNAS: the error in percent, like the MAPE it is added to */
	return s->obj == OBJ_AEBNAS ? 100 * err + 0.1 * mape(s, macs) : err;
}

/* Eq. 19 (F_CM) with the given alpha, or the plain MACs, or AEBNAS's MAPE. */
static double
obj2(const struct search *s, double macs, double alpha)
{
	if (s->obj == OBJ_AEBNAS)
		return mape(s, macs);
	if (!s->fcm)
		return macs;
	return alpha * macs + (1 - alpha) * s->penalty * fmax(0, macs - s->macs_max);
}

/*
 * Evaluate n genomes together. F_CM's alpha is the share of them whose
 * predicted MACs are within --macs-max, so it belongs to the whole set:
 * with F_CM the search re-evaluates parents and children together every
 * generation (nsga reeval), and survival compares values of one alpha.
 */
static void
eval(void *ctx, double *f /* (n, 2) */, double *cv /* (n) */, const double *x /* (n, nv) */,
    int n)
{
	struct search *s = ctx;
	int gc[ARCH_MAX_GENOME], within = 0, i;

	if (n > s->cap) {
		s->cap = n;
		s->pe = realloc(s->pe, n * sizeof(*s->pe));
		s->pm = realloc(s->pm, n * sizeof(*s->pm));
		s->pv = realloc(s->pv, n * sizeof(*s->pv));
		if (!s->pe || !s->pm || !s->pv)
			err(EX_SOFTWARE, "realloc");
	}
	for (i = 0; i < n; i++) {
		canon(gc, s, x + (size_t)i * s->nv);
		predict(&s->pe[i], &s->pm[i], s, gc);
		s->pv[i] = hw_genome_violation(&s->base, gc, &s->lim);
		within += s->pm[i] <= s->macs_max;
	}
	s->alpha = n ? (double)within / n : 0;
	for (i = 0; i < n; i++) {
		f[2 * i] = obj1(s, s->pe[i], s->pm[i]);
		f[2 * i + 1] = obj2(s, s->pm[i], s->alpha);
		cv[i] = fmax(0, s->pe[i] - s->err_max) + s->pv[i];
		if (!isfinite(f[2 * i]) || !isfinite(f[2 * i + 1]))
			errx(EX_SOFTWARE, "a surrogate predicted a value that is not finite");
	}
}

/* A model record; the error model must predict an error, the MACs model MACs. */
static void
load_model(struct sur_model *sm, struct rec_in *r, const char *path, int macs)
{
	const msgpack_object *m;

	rec_in_open(r, path);
	if ((m = rec_next(r)) == NULL)
		errx(EX_DATAERR, "%s: no model record", path);
	if (!rec_is(m, "model"))
		rec_fail(r, "type", "not \"model\"");
	sur_read(sm, r, m);
	if (macs && (sm->error || !strstr(sm->target, "macs")))
		rec_fail(r, "target", "\"%s\"%s is not an average MACs key (--macs-model)",
		    sm->target, sm->error ? " as an error" : "");
	if (!macs && !sm->error && !strstr(sm->target, "err"))
		rec_fail(r, "target", "\"%s\" is not an error: fit an accuracy with --error "
		    "(--err-model)", sm->target);
	rec_in_close(r);
}

/* The archive: canonical genomes of every record, and the metrics of those that have them. */
struct archive {
	int n, cap;
	int *g;                 /* (cap, nv) canonical genomes */
	int nm;
	double *err, *macs;     /* (cap) of the records with metrics, in reading order */
	int *gi;                /* (cap) their row in g */
	int skipped;
};

/* Record m of the archive: its canonical genome, and its metrics when it has them. */
static void
add_record(struct archive *ar, struct search *s, const struct rec_in *r, const msgpack_object *m,
    const struct rec_in *emr, const struct rec_in *mmr, int skip)
{
	const struct sur_model *em = s->em, *mm = s->mm;
	const msgpack_object *te, *tm;
	struct arch a;

	if (!rec_get(m, "genome"))
		rec_fail(r, "genome", "missing (an archive record carries its genome)");
	arch_read(&a, r, m);
	if (ar->n == 0) {
		s->base = a;
		s->nv = arch_genome_len(a.space);
		if (em->d != s->nv)
			rec_fail(emr, "d", "%d genes, but the %s genomes of the archive have %d",
			    em->d, arch_space_names[a.space], s->nv);
		if (mm->d != s->nv)
			rec_fail(mmr, "d", "%d genes, but the %s genomes of the archive have %d",
			    mm->d, arch_space_names[a.space], s->nv);
	} else if (a.space != s->base.space) {
		rec_fail(r, "space", "\"%s\", but the archive's first record is \"%s\"",
		    arch_space_names[a.space], arch_space_names[s->base.space]);
	} else if (a.width != s->base.width || a.resolution != s->base.resolution ||
	    a.in_ch != s->base.in_ch || a.classes != s->base.classes) {
		const char *k = a.width != s->base.width ? "width" :
		    a.resolution != s->base.resolution ? "resolution" :
		    a.in_ch != s->base.in_ch ? "in_ch" : "classes";

		rec_fail(r, k, "differs from the archive's first record");
	}
	if (ar->n == ar->cap) {
		ar->cap = ar->cap ? 2 * ar->cap : 256;
		ar->g = realloc(ar->g, sizeof(*ar->g) * ar->cap * s->nv);
		ar->err = realloc(ar->err, sizeof(*ar->err) * ar->cap);
		ar->macs = realloc(ar->macs, sizeof(*ar->macs) * ar->cap);
		ar->gi = realloc(ar->gi, sizeof(*ar->gi) * ar->cap);
		if (!ar->g || !ar->err || !ar->macs || !ar->gi)
			err(EX_SOFTWARE, "realloc");
	}
	arch_to_genome(&a, ar->g + (size_t)ar->n * s->nv);
	ar->n++;
	te = rec_get(m, em->target);
	tm = rec_get(m, mm->target);
	if (!te || !tm) {
		if (!skip)
			rec_fail(r, te ? mm->target : em->target, "missing");
		ar->skipped++;
		return;
	}
	ar->err[ar->nm] = rec_dbl(r, m, em->target, 0, em->error ? 1 : INFINITY);
	if (em->error)
		ar->err[ar->nm] = 1 - ar->err[ar->nm];
	ar->macs[ar->nm] = rec_dbl(r, m, mm->target, 0, INFINITY);
	ar->gi[ar->nm++] = ar->n - 1;
}

static int
in_rows(const int *g /* (nv) */, const int *rows /* (n, nv) */, int n, int nv)
{
	int i;

	for (i = 0; i < n; i++)
		if (memcmp(g, rows + (size_t)i * nv, nv * sizeof(*g)) == 0)
			return 1;
	return 0;
}

/*
 * The initial population x0 (pop, nv): the archive's non-dominated genomes
 * in (error, avg MACs) (cut to pop by crowding when there are more), then
 * alternately a mutated copy of one of them and a uniformly random genome,
 * each valid and new to the archive and to the population. Returns the
 * count (pop unless the space ran out of new genomes).
 */
static int
initial(double *x0 /* (pop, nv) */, const struct archive *ar, const struct search *s,
    const double *lo /* (nv) */, const double *hi /* (nv) */, int pop, double eta, uint64_t seed)
{
	int nv = s->nv, *idx = malloc(sizeof(int) * ar->nm), *rows, nf, n = 0, i, tries;
	int gc[ARCH_MAX_GENOME];
	struct nn_rng rng;

	if (!idx)
		err(EX_SOFTWARE, "malloc");
	rows = malloc(sizeof(int) * (size_t)pop * nv);
	if (!rows)
		err(EX_SOFTWARE, "malloc");
	nn_rng_seed(&rng, seed ^ 0x696e6974ULL);
	nf = pareto_front(idx, ar->err, ar->macs, NULL, NULL, ar->nm);
	if (nf > pop) {
		double *f = malloc(sizeof(double) * 2 * nf), *cd = malloc(sizeof(double) * nf);
		double *cv = calloc(nf, sizeof(double));
		int *keep = malloc(sizeof(int) * pop), *rank = malloc(sizeof(int) * nf);

		for (i = 0; i < nf; i++) {
			f[2 * i] = ar->err[idx[i]];
			f[2 * i + 1] = ar->macs[idx[i]];
		}
		nsga_survive(keep, rank, cd, f, cv, nf, 2, pop, &rng);
		for (i = 0; i < pop; i++)
			keep[i] = idx[keep[i]];
		memcpy(idx, keep, sizeof(int) * pop);
		nf = pop;
		free(f);
		free(cd);
		free(cv);
		free(keep);
		free(rank);
	}
	for (i = 0; i < nf; i++) {
		const int *g = ar->g + (size_t)ar->gi[idx[i]] * nv;

		if (!in_rows(g, rows, n, nv))   /* the same network trained twice */
			memcpy(rows + (size_t)n++ * nv, g, nv * sizeof(*g));
	}
	nf = n;
	for (tries = 0; n < pop && tries < 1000 * pop; tries++) {
		double x[ARCH_MAX_GENOME];

		for (i = 0; i < nv; i++) {
			if (n % 2 == 0)
				x[i] = rows[(size_t)(n / 2 % nf) * nv + i];
			else
				x[i] = lo[i] + floor(rng_double(&rng) * (hi[i] - lo[i] + 1));
		}
		if (n % 2 == 0)
			nsga_pm(&rng, x, lo, hi, nv, eta, 1.0 / nv, NSGA_INT);
		canon(gc, s, x);
		if (in_rows(gc, rows, n, nv) || in_rows(gc, ar->g, ar->n, nv))
			continue;
		memcpy(rows + (size_t)n++ * nv, gc, nv * sizeof(*gc));
	}
	for (i = 0; i < n * nv; i++)
		x0[i] = rows[i];
	free(idx);
	free(rows);
	return n;
}

/* A new genome of the final population. */
struct cand {
	int g[ARCH_MAX_GENOME]; /* canonical */
	double err, macs;       /* predicted */
	double f2;              /* second objective in the final population */
	int adm;                /* predicted admissible: no violation, MACs within --macs-max */
};

static int
in_cands(const int *g /* (nv) */, const struct cand *c /* (n) */, int n, int nv)
{
	int i;

	for (i = 0; i < n; i++)
		if (memcmp(g, c[i].g, nv * sizeof(*g)) == 0)
			return 1;
	return 0;
}

/*
 * Choose up to k of the nc candidates (nachos-method(7) §6 step 3), the predicted
 * admissible ones first: by the subset selection along f2 against the
 * archive front's values ff2 (nf) among them; when fewer than k are
 * admissible all of them, and the rest from the others, against the front
 * and the ones already chosen. out (k) receives candidate indices; returns
 * the count.
 */
static int
choose(int *out /* (k) */, const struct cand *c /* (nc) */, int nc, const double *ff2 /* (nf) */,
    int nf, int k)
{
	double *v = malloc(sizeof(double) * (nc + 1)), *fr = malloc(sizeof(double) * (nf + k));
	int *idx = malloc(sizeof(int) * (nc + 1)), *pk = malloc(sizeof(int) * k), np = 0, adm, i;

	if (!v || !fr || !idx || !pk)
		err(EX_SOFTWARE, "malloc");
	memcpy(fr, ff2, nf * sizeof(*fr));
	for (adm = 1; adm >= 0 && np < k; adm--) {
		int n = 0, got;

		for (i = 0; i < nc; i++)
			if (c[i].adm == adm) {
				idx[n] = i;
				v[n++] = c[i].f2;
			}
		got = nsga_subset(pk, v, n, fr, nf + np, k - np);
		for (i = 0; i < got; i++) {
			out[np] = idx[pk[i]];
			fr[nf + np++] = v[pk[i]];
		}
	}
	free(v);
	free(fr);
	free(idx);
	free(pk);
	return np;
}

int
main(int argc, char **argv)
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
		{ NULL, 0, NULL, 0 },
	};
	static const char *const objs[] = { "nachos", "aebnas", NULL };
	struct search s;
	struct sur_model em, mm;
	struct rec_in emr, mmr;
	struct archive ar;
	struct nsga_problem p;
	struct nsga_opts no;
	struct nsga ns;
	struct cli_progress prog;
	struct rec_out o;
	struct rec_files in;
	const msgpack_object *m;
	const char *errpath = NULL, *macspath = NULL;
	double lo[ARCH_MAX_GENOME], hi[ARCH_MAX_GENOME], *x0, *ff2, eta = 1.0;
	double acc_min = -1, macs_max = -1, penalty = 10, target = -1;
	struct cand *cand;
	int ilo[ARCH_MAX_GENOME], ihi[ARCH_MAX_GENOME], *pick, *frontidx;
	int rejected = 0;
	int c, i, nocon = 0, pop = 40, gens = 20, k = 8, skip = 0, n0, nc, nadm, nf, np;
	long iter = 1;
	uint64_t seed = 1;
	char extra[96];

	memset(&s, 0, sizeof(s));
	hw_limits_init(&s.lim);
	s.obj = OBJ_NACHOS;
	while ((c = getopt_long(argc, argv, "hk:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, 0);
			break;
		case O_ERR:
			errpath = optarg;
			break;
		case O_MACS:
			macspath = optarg;
			break;
		case O_MACS_MAX:
			macs_max = cli_double("--macs-max", optarg, 1e-300, INFINITY);
			break;
		case O_ACC_MIN:
			acc_min = cli_double("--acc-min", optarg, 0, 1);
			break;
		case O_PENALTY:
			penalty = cli_double("--penalty", optarg, 0, 1e12);
			break;
		case O_NOCON:
			nocon = 1;
			break;
		case O_OBJ:
			s.obj = cli_choice("--objectives", optarg, objs);
			break;
		case O_TARGET:
			target = cli_double("--target-macs", optarg, 1e-300, INFINITY);
			break;
		case O_POP:
			pop = (int)cli_long("--pop", optarg, 2, 100000);
			break;
		case O_GENS:
			gens = (int)cli_long("--gens", optarg, 0, 1000000);
			break;
		case O_ETA:
			eta = cli_double("--eta", optarg, 1e-6, 1e6);
			break;
		case 'k':
			k = (int)cli_long("-k", optarg, 1, 100000);
			break;
		case O_ITER:
			iter = cli_long("--iter", optarg, 0, 1L << 30);
			break;
		case O_SEED:
			seed = (uint64_t)cli_long("--seed", optarg, 0, INT64_MAX);
			break;
		case O_SKIP:
			skip = 1;
			break;
		default:
			if (!hw_option(&s.lim, c, optarg))
				usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (!errpath || !macspath)
		usage(stderr, EX_USAGE);
	if (k > pop)
		errx(EX_USAGE, "-k: %d candidates from a population of %d", k, pop);
	if (nocon && (macs_max > 0 || acc_min >= 0))
		errx(EX_USAGE, "--no-constraints: no --macs-max or --acc-min with it");
	if (s.obj == OBJ_AEBNAS) {
		if (target <= 0)
			errx(EX_USAGE, "--objectives aebnas: needs --target-macs");
		if (macs_max > 0)
			errx(EX_USAGE, "--objectives aebnas: its MACs goal is --target-macs, "
			    "not --macs-max");
	} else {
		if (target > 0)
			errx(EX_USAGE, "--target-macs: only with --objectives aebnas");
		if (!nocon && macs_max <= 0)
			errx(EX_USAGE, "--macs-max: needed for F_CM (or --no-constraints)");
	}
	s.fcm = s.obj == OBJ_NACHOS && !nocon;
	s.macs_max = macs_max > 0 ? macs_max : INFINITY;
	s.err_max = acc_min >= 0 ? 1 - acc_min : INFINITY;
	s.penalty = penalty;
	s.target = target;
	s.alpha = 1;

	load_model(&em, &emr, errpath, 0);
	load_model(&mm, &mmr, macspath, 1);
	s.em = &em;
	s.mm = &mm;

	memset(&ar, 0, sizeof(ar));
	rec_files_init(&in, argc, argv);
	while ((m = rec_files_next(&in)) != NULL)
		add_record(&ar, &s, &in.r, m, &emr, &mmr, skip);
	if (ar.skipped)
		warnx("%d archive records without \"%s\" and \"%s\" only rule out their genomes",
		    ar.skipped, em.target, mm.target);
	if (ar.nm == 0)
		errx(EX_DATAERR, "%s: no archive record with \"%s\" and \"%s\" to start from",
		    argc ? argv[0] : "-", em.target, mm.target);

	arch_genome_bounds(s.base.space, ilo, ihi);
	for (i = 0; i < s.nv; i++) {
		lo[i] = ilo[i];
		hi[i] = ihi[i];
	}
	x0 = malloc(sizeof(double) * (size_t)pop * s.nv);
	if (!x0)
		err(EX_SOFTWARE, "malloc");
	n0 = initial(x0, &ar, &s, lo, hi, pop, eta, seed);

	memset(&p, 0, sizeof(p));
	p.kind = NSGA_INT;
	p.n_var = s.nv;
	p.n_obj = 2;
	p.lo = lo;
	p.hi = hi;
	p.eval = eval;
	p.ctx = &s;
	p.reeval = s.fcm;
	p.repair = repair;
	nsga_defaults(&no, NSGA_INT, pop, gens, seed);
	no.eta_m = eta;
	{
		/* children must not repeat the archive: its canonical genomes */
		double *ax = malloc(sizeof(double) * (size_t)ar.n * s.nv);

		if (!ax)
			err(EX_SOFTWARE, "malloc");
		for (i = 0; i < ar.n * s.nv; i++)
			ax[i] = ar.g[i];
		nsga_init(&ns, &p, &no, x0, n0);
		nsga_set_archive(&ns, ax, ar.n);
		cli_progress_start(&prog, "generation", gens);
		for (i = 0; i < gens; i++) {
			nsga_step(&ns);
			snprintf(extra, sizeof(extra), "alpha %.2f", s.alpha);
			cli_progress(&prog, i + 1, s.fcm ? extra : NULL);
		}
		free(ax);
	}

	/* candidates: the final population, canonical, new, distinct */
	cand = calloc(ns.n, sizeof(*cand));
	pick = malloc(sizeof(int) * k);
	ff2 = malloc(sizeof(double) * ar.nm);
	frontidx = malloc(sizeof(int) * ar.nm);
	if (!cand || !pick || !ff2 || !frontidx)
		err(EX_SOFTWARE, "malloc");
	nc = nadm = 0;
	for (i = 0; i < ns.n; i++) {
		struct cand *cd = cand + nc;

		canon(cd->g, &s, ns.x + (size_t)i * s.nv);
		if (in_rows(cd->g, ar.g, ar.n, s.nv) || in_cands(cd->g, cand, nc, s.nv))
			continue;
		/* never a candidate that breaks a memory limit: it is not trained */
		if (hw_genome_violation(&s.base, cd->g, &s.lim) > 0) {
			rejected++;
			continue;
		}
		predict(&cd->err, &cd->macs, &s, cd->g);
		cd->f2 = ns.f[2 * i + 1];
		cd->adm = ns.cv[i] <= 0 && (!s.fcm || cd->macs <= s.macs_max);
		nadm += cd->adm;
		nc++;
	}
	/* the archive front's f2 from its measured MACs, with the final alpha */
	nf = pareto_front(frontidx, ar.err, ar.macs, NULL, NULL, ar.nm);
	for (i = 0; i < nf; i++)
		ff2[i] = obj2(&s, ar.macs[frontidx[i]], s.alpha);
	np = choose(pick, cand, nc, ff2, nf, k);
	snprintf(extra, sizeof(extra), "%d new in the final population (%d admissible), %d picked",
	    nc, nadm, np);
	if (hw_limited(&s.lim)) {
		char lims[160];

		hw_describe(lims, sizeof(lims), &s.lim);
		warnx("rejected %d networks of the final population that break the limits (%s)",
		    rejected, lims);
	}
	cli_progress_end(&prog, extra);
	if (np < k)
		warnx("only %d new genomes in the final population, not %d", np, k);

	rec_out_init(&o);
	for (i = 0; i < np; i++) {
		const struct cand *cd = cand + pick[i];
		struct arch a = s.base;
		char id[64];
		int bad;

		if (arch_from_genome(&a, cd->g, &bad) < 0)
			errx(EX_SOFTWARE, "candidate genome invalid at gene %d", bad);
		snprintf(id, sizeof(id), "i%ld-%d", iter, i);
		rec_out_begin(&o, NULL, "arch", 1);
		rec_put_str(&o, "id", id);
		arch_put(&o, &a);
		rec_put_int(&o, "iter", iter);
		rec_put_dbl(&o, "pred_err", cd->err);
		rec_put_dbl(&o, "pred_macs", cd->macs);
		rec_out_end(&o, stdout);
	}
	rec_out_free(&o);
	nsga_free(&ns);
	sur_free(&em);
	sur_free(&mm);
	free(x0);
	free(cand);
	free(pick);
	free(ff2);
	free(frontidx);
	free(ar.g);
	free(ar.err);
	free(ar.macs);
	free(ar.gi);
	free(s.pe);
	free(s.pm);
	free(s.pv);
	cli_finish();
	return 0;
}
