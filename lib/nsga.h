/*
 * nsga.h - NSGA-II (Deb et al. 2002) with pymoo's semantics, generic over a
 * problem given by an evaluation callback, for integer genomes with
 * per-gene bounds (the arch genome of arch.h) and for real genomes. (The
 * subset selection that picks the candidates to train is search.h's.)
 *
 * One generation (pymoo's NSGA2):
 *   mating: binary tournaments pick parent pairs; a pair is crossed with
 *     probability p_cross (else copied), each child mutated; children that
 *     duplicate the population, an earlier child or the external archive
 *     set are dropped, and mating repeats (at most 100 rounds) until n_off
 *     children stand;
 *   the children are evaluated; parents + children go through
 *   rank-and-crowding survival down to pop.
 * Constraints: cv[i] >= 0 is the total violation, 0 = feasible. Tournament
 * and survival put feasible before infeasible, infeasible by cv ascending.
 *
 * Genomes are stored as double for both kinds; an integer genome holds
 * integral values (convert with lrint).
 */
#ifndef NSGA_H
#define NSGA_H

#include <stdint.h>

#include "rng.h"

enum nsga_kind { NSGA_INT, NSGA_REAL };
enum nsga_cross { NSGA_TWO_POINT, NSGA_SBX };

struct nsga_problem {
	enum nsga_kind kind;
	int n_var, n_obj;
	const double *lo, *hi;    /* (n_var) inclusive bounds of each gene */
	/* Evaluate n genomes: objectives f (n, n_obj), all minimised, and the
	 * total constraint violation cv (n), >= 0. Must be finite. */
	void (*eval)(void *ctx, double *f /* (n, n_obj) */, double *cv /* (n) */,
	    const double *x /* (n, n_var) */, int n);
	void *ctx;
	/* Objectives that depend on the population (e.g. F_CM's adaptive
	 * alpha): set reeval to evaluate parents and children together each
	 * generation, so survival compares values computed on one population.
	 * 0 is pymoo's behaviour: each individual is evaluated once. */
	int reeval;
	/* Optional, pymoo's Repair: maps a genome to the valid, canonical form
	 * of the individual it encodes (e.g. unused genes reset), so duplicate
	 * elimination compares individuals, not encodings. Called on every
	 * random initial genome and every child before the duplicate check. */
	void (*repair)(void *ctx, double *x /* (n_var) */);
};

struct nsga_opts {
	int pop;             /* population size */
	int n_off;           /* children per generation; 0 = pop */
	int gens;            /* generations run by nsga_run */
	enum nsga_cross cross;
	double p_cross;      /* probability a parent pair is crossed (0.9) */
	double eta_c;        /* SBX distribution index (15) */
	double eta_m;        /* polynomial mutation index (nachos-method(7) §6: 1.0 for
	                      * the arch genome; 20 real) */
	double p_mut;        /* per-gene mutation probability; 0 = 1/n_var */
	uint64_t seed;
};
/* pymoo's defaults for the kind: integer two-point crossover, eta_m 1.0;
 * real SBX eta_c 15, eta_m 20; p_cross 0.9, p_mut 1/n_var. */
void nsga_defaults(struct nsga_opts *o, enum nsga_kind kind, int pop, int gens, uint64_t seed);

struct nsga {
	const struct nsga_problem *p;
	struct nsga_opts o;
	struct nn_rng rng;
	int n;               /* current population size (<= pop) */
	int cap;             /* rows allocated: pop + n_off */
	double *x;           /* (cap, n_var): population in rows [0, n) */
	double *f;           /* (cap, n_obj) */
	double *cv;          /* (cap) */
	int *rank;           /* (cap) front index, 0 = non-dominated; infeasible after every feasible front */
	double *crowd;       /* (cap) crowding distance, INFINITY at a front's extremes */
	const double *ax;    /* external set never to be produced again (not owned) */
	int an;
	int gen;             /* generations done */
	long evals;          /* individuals evaluated */
	int short_gens;      /* generations that ended with fewer than n_off children */
	double *tmp;         /* scratch */
	int *itmp;
};

/*
 * Start: x0 (n0, n_var) is the initial population (e.g. the archive's
 * non-dominated genomes; pymoo keeps it as it is, any size, and the
 * population becomes pop from the first generation), or NULL (or n0 < 1)
 * for pop random genomes (uniform; integers uniform over their range).
 * Evaluates it and ranks it. Integer x0 values are rounded and clamped.
 */
void nsga_init(struct nsga *s, const struct nsga_problem *p, const struct nsga_opts *o,
    const double *x0 /* (n0, n_var) */, int n0);
/* Genomes the children must not repeat (e.g. the archive); pass NULL, 0 to clear. */
void nsga_set_archive(struct nsga *s, const double *x /* (n, n_var) */, int n);
/* One generation. */
void nsga_step(struct nsga *s);
/* o.gens generations. */
void nsga_run(struct nsga *s);
void nsga_free(struct nsga *s);

/* The parts, exposed for the tests and for tools that rank their own sets. */

/* 1 if a dominates b (no worse in all, better in one), -1 if b dominates
 * a, 0 otherwise. */
int nsga_dominates(const double *a /* (m) */, const double *b /* (m) */, int m);
/* Fast non-dominated sort of f; stops once at least n_stop points are
 * ranked (n_stop <= 0: all), leaving the rest at rank -1. Returns the
 * number of fronts. */
int nsga_sort(int *rank /* (n) */, const double *f /* (n, m) */, int n, int m, int n_stop);
/* Crowding distance of one front (pymoo): n <= 2 all INFINITY; otherwise
 * per objective the gap between neighbours over the objective's range,
 * INFINITY at both extremes (an objective with zero range adds 0),
 * summed and divided by m; a repeated point gets 0 (its first copy the
 * distance). */
void nsga_crowding(double *cd /* (n) */, const double *f /* (n, m) */, int n, int m);
/* Binary tournament between a and b: violation first (smaller wins, ties
 * random), then when both are feasible dominance, then larger crowding,
 * then a random pick. */
int nsga_tournament(struct nn_rng *rng, int a, int b, const double *f /* (n, m) */,
    const double *cv /* (n) */, const double *crowd /* (n) */, int m);
/*
 * Rank-and-crowding survival: chooses n_keep of n individuals, feasible
 * ones by front then crowding (the last front that does not fit whole is
 * cut by descending crowding, ties random), then infeasible ones by cv
 * ascending. keep receives their indices in that order; rank and crowd
 * (n) are set for all n (the sort stops once n_keep are ranked: the
 * unranked and the infeasible get rank = number of fronts ranked, crowd
 * 0). Returns the number kept (min(n, n_keep)).
 */
int nsga_survive(int *keep /* (n_keep) */, int *rank /* (n) */, double *crowd /* (n) */,
    const double *f /* (n, m) */, const double *cv /* (n) */, int n, int m, int n_keep,
    struct nn_rng *rng);

/* Variation operators on one pair / one genome, in place. */
/* Two cut points in [1, n) drawn without replacement; genes between them swap. */
void nsga_two_point(struct nn_rng *rng, double *a /* (n) */, double *b /* (n) */, int n);
/* Simulated binary crossover (bounded, Deb): each gene with probability 1/2,
 * children swapped with probability 1/2. */
void nsga_sbx(struct nn_rng *rng, double *a /* (n) */, double *b /* (n) */,
    const double *lo /* (n) */, const double *hi /* (n) */, int n, double eta);
/* Polynomial mutation (bounded, Deb), each gene with probability p_mut.
 * Integer genomes: the bounds widened by 0.5, then rounded and clamped to
 * the integer bounds, as pymoo's integer operators do. */
void nsga_pm(struct nn_rng *rng, double *x /* (n) */, const double *lo /* (n) */,
    const double *hi /* (n) */, int n, double eta, double p_mut, enum nsga_kind kind);

/* Row of x (n, nv) equal to genome g (nv) by value, or -1: the duplicate
 * test, also for picking the final candidates not in the archive. */
int nsga_find(const double *g /* (nv) */, const double *x /* (n, nv) */, int n, int nv);

#endif
