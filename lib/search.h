/*
 * search.h - one iteration's candidates (nachos-method(7) §6 steps 2-3) as
 * nsga-step runs it: the problem NSGA-II sees on two surrogates (the error
 * and the F_CM objective of Eq. 19, or AEBNAS's MAPE pair), the archive's
 * canonical genomes, the initial population, the new genomes of the final
 * population, and the choice among them by the MSuNAS subset selection
 * (search_subset).
 */
#ifndef SEARCH_H
#define SEARCH_H

#include <stdint.h>

#include "arch.h"
#include "hw.h"
#include "nsga.h"
#include "rec.h"
#include "sur.h"

enum search_objectives { SEARCH_NACHOS, SEARCH_AEBNAS };

/* The problem NSGA-II sees: what the objectives are made of. */
struct search {
	const struct sur_model *em, *mm;  /* predict the error, the avg MACs */
	struct arch base;       /* space and input of the archive: the genes are set per genome */
	int nv;                 /* genes */
	enum search_objectives obj;
	int fcm;                /* f2 is F_CM (--macs-max) */
	double macs_max, penalty, target;
	double err_max;         /* 1 - --acc-min; INFINITY: no accuracy constraint */
	double alpha;           /* F_CM's alpha of the last evaluation */
	struct hw_limits lim;   /* memory limits: an exact violation from the genome */
	int cap;                /* scratch rows */
	double *pe, *pm;        /* (cap) predictions */
	double *pv;             /* (cap) memory violations (hw.h), added to cv */
};
void search_free(struct search *s);

/* The canonical genome gc of x (repaired: see arch_genome_repair). */
void search_canon(int *gc /* (nv) */, const struct search *s, const double *x /* (nv) */);
/* NSGA-II's repair hook (ctx a struct search): children become canonical,
 * valid genomes, so its duplicate elimination compares networks, not
 * encodings. */
void search_repair(void *ctx, double *x /* (nv) */);
/* The surrogates' predicted error and average MACs of genome gc. */
void search_predict(double *err, double *macs, const struct search *s, const int *gc /* (nv) */);
/* The second objective of predicted MACs: F_CM (Eq. 19) = alpha macs +
 * (1 - alpha) penalty max(0, macs - macs_max), the plain MACs without a
 * constraint, or AEBNAS's MAPE against the target. */
double search_f2(const struct search *s, double macs, double alpha);
/* NSGA-II's evaluation hook (ctx a struct search) on n genomes together:
 * F_CM's alpha is the share of them whose predicted MACs are within
 * macs_max, so it belongs to the whole set (with F_CM the search
 * re-evaluates parents and children together every generation, and
 * survival compares values of one alpha). Exits EX_SOFTWARE on a
 * prediction that is not finite. */
void search_eval(void *ctx, double *f /* (n, 2) */, double *cv /* (n) */,
    const double *x /* (n, nv) */, int n);

/* The archive: canonical genomes of every record, and the metrics of those
 * that have them. */
struct search_archive {
	int n, cap;
	int *g;                 /* (cap, nv) canonical genomes */
	int nm;
	double *err, *macs;     /* (cap) of the records with metrics, in reading order */
	int *gi;                /* (cap) their row in g */
	int skipped;
};
/* Record m of r into the archive: its canonical genome, and its metrics
 * (the models' targets) when it has them; a missing one fails via rec_fail
 * unless skip. The first record sets s->base and s->nv, checked against the
 * models' gene counts (their records emr and mmr). */
void search_archive_add(struct search_archive *ar, struct search *s, const struct rec_in *r,
    const msgpack_object *m, const struct rec_in *emr, const struct rec_in *mmr, int skip);
void search_archive_free(struct search_archive *ar);
/* Is genome g (nv) one of the n rows of rows (n, nv)? */
int search_in_rows(const int *g /* (nv) */, const int *rows /* (n, nv) */, int n, int nv);

/*
 * The initial population x0 (pop, nv): the archive's non-dominated genomes
 * in (error, avg MACs) (cut to pop by crowding when there are more), then
 * alternately a mutated copy of one of them and a uniformly random genome,
 * each valid and new to the archive and to the population. Returns the
 * count (pop unless the space ran out of new genomes).
 */
int search_initial(double *x0 /* (pop, nv) */, const struct search_archive *ar,
    const struct search *s, const double *lo /* (nv) */, const double *hi /* (nv) */, int pop,
    double eta, uint64_t seed);

/* A new genome of the final population. */
struct search_cand {
	int g[ARCH_MAX_GENOME]; /* canonical */
	double err, macs;       /* predicted */
	double f2;              /* second objective in the final population */
	int adm;                /* predicted admissible: no violation, MACs within macs_max */
};
/* The final population of ns, canonical, new to the archive and distinct,
 * into c (room for ns->n); returns their count, *nadm the admissible ones.
 * A genome that breaks a memory limit is never a candidate (it would be
 * trained): *rejected counts them. */
int search_candidates(struct search_cand *c, int *nadm, int *rejected, const struct nsga *ns,
    const struct search *s, const struct search_archive *ar);
/*
 * Choose up to k of the nc candidates (step 3), the predicted admissible
 * ones first: by the subset selection along f2 against the archive front's
 * values (the front of the archive's measured metrics, F_CM with the final
 * alpha) among them; when fewer than k are admissible all of them, and the
 * rest from the others, against the front and the ones already chosen. out
 * (k) receives candidate indices; returns the count.
 */
int search_choose(int *out /* (k) */, const struct search_cand *c /* (nc) */, int nc,
    const struct search *s, const struct search_archive *ar, int k);

/*
 * MSuNAS subset selection (nachos-method(7) §6 step 3): choose k of nc candidates (their
 * second objective cand (nc)) so that the sorted union of the archive
 * front's values front (nf) and the chosen ones has the smallest
 * population standard deviation of consecutive gaps. MSuNAS approximates
 * this with a small GA; here it is solved exactly: once the union's two
 * extremes are fixed the mean gap is fixed, so the std is minimal where
 * the sum of squared gaps is, a shortest path found by dynamic programming
 * (O((nf + nc)^3 k)). Deterministic. nc <= k takes all; nf 0 and k 1
 * (no gap to measure) takes candidate 0. pick (k) receives candidate
 * indices in ascending order; returns the number picked (min(k, nc)).
 */
int search_subset(int *pick /* (k) */, const double *cand /* (nc) */, int nc,
    const double *front /* (nf) */, int nf, int k);
/* The objective above for one subset (also the tests' oracle). */
double search_gap_std(const double *cand /* (nc) */, const int *pick /* (k) */, int k,
    const double *front /* (nf) */, int nf);

#endif
