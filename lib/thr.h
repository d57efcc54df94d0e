/*
 * thr.h - exit rules and thresholds (nachos-method(7) §5) on cached exit outputs
 * (exo.h): the score of each rule, exact evaluation of a threshold vector,
 * and the whole per-exit grid evaluated at once, with the NACHOS, AEBNAS
 * and best-feasible picks and the exact (accuracy, avg MACs) Pareto set.
 *
 * A sample leaves at the first intermediate exit i < B whose score reaches
 * its threshold (score >= eps_i), else at the final exit B. A threshold of
 * exactly 1 switches its exit off (the EDANAS/AEBNAS gene "1 = no exit"),
 * even for a score of 1. Under a rule that scores each exit alone, such an
 * exit's head is not run either (nothing reads it): the MACs a sample
 * spends leave it out (thr_exit_silent, thr_spent_run); the cumulative and weight rules
 * read every earlier exit's confidence, so every head runs.
 */
#ifndef THR_H
#define THR_H

#include <stdint.h>

#include "exo.h"

enum thr_rule { THR_CUMULATIVE, THR_WEIGHT, THR_MAX_SOFTMAX, THR_MARGIN, THR_ENTROPY };
extern const char *const thr_rule_names[];   /* NULL-terminated, enum order */

#define THR_ECE_BINS 15
#define THR_MAX_GRID 1024
#define THR_MAX_CELLS (1L << 22)   /* (|G|+1)^(B-1) limit of the grid tables */

/* Score of sample j at exit i under rule: cumulative W_i; weight
 * w_i = c_i prod_{k<i} (1 - c_k) (from the stored c, in double, rounded to
 * float); max softmax; margin; entropy score. */
float thr_score(const struct exo *e, enum thr_rule rule, int i, long j);
/* Is an intermediate exit at threshold eps silent: it never fires (eps >=
 * 1) and the rule scores each exit from its own outputs alone (max
 * softmax, margin, entropy), so no later exit reads it? Its head need not
 * run. */
int thr_exit_silent(enum thr_rule rule, double eps);
/* Spent MACs of each exit (B) when the heads of silent exits
 * (thr_exit_silent) are not run: spent_i less
 * those heads before i (head_k = spent_{k+1} - spent_k - cost_{k+1} +
 * cost_k, exo.h). The spent and cost of an exo give MACs; other units
 * (latency) work alike when cost follows the same definition. */
void thr_spent_run(long *out /* (B) */, const long *spent /* (B) */, const long *cost /* (B) */,
    int B, enum thr_rule rule, const double *eps /* (B-1) */);
/* Does a score reach threshold eps (eps < 1 and score >= eps)? */
int thr_fires(double eps, float score);
/* The exit (0-based, B-1 = final) where sample j leaves. */
int thr_exit(const struct exo *e, enum thr_rule rule, const double *eps /* (B-1) */, long j);

struct thr_metrics {
	long n, correct;
	double top1;                      /* early-exit accuracy */
	double avg_spent, avg_cost;       /* sum_i U_i spent_i (thr_spent_run), sum_i U_i cost_i */
	long spent[EXO_MAX_EXITS];        /* thr_spent_run: what a sample leaving at i ran */
	long count[EXO_MAX_EXITS];        /* samples leaving at exit i */
	double util[EXO_MAX_EXITS];       /* U_i = count_i / N */
	double acc_leave[EXO_MAX_EXITS];  /* accuracy of those leaving at i; NAN if none */
	double acc_all[EXO_MAX_EXITS];    /* accuracy of exit i on every sample */
	double ece[EXO_MAX_EXITS];        /* ECE of exit i on every sample, max softmax */
};
/* Evaluate eps sample by sample (the reference the grid must agree with). */
void thr_eval(struct thr_metrics *m, const struct exo *e, enum thr_rule rule,
    const double *eps /* (B-1) */);
/* Expected calibration error, bins equal-width over [0,1], bin b holding
 * confidences in (b/bins, (b+1)/bins] (0 goes to bin 0). */
double thr_ece(const int32_t *pred /* (N) */, const float *conf /* (N) */,
    const int32_t *label /* (N) */, long n, int bins);

/*
 * The grid: every combination of |G| values for each of the B-1
 * intermediate exits, combination c having exit k's grid index
 * (c / |G|^(B-2-k)) % |G| (exit 1 varies slowest). Built once per split:
 * each sample's per-exit level (how many grid values its score reaches)
 * goes into count and correct histograms over the levels, turned into
 * prefix sums, so one combination costs B table lookups, not N samples.
 */
struct thr_grid {
	int g;                            /* |G| */
	double grid[THR_MAX_GRID];        /* sorted ascending, distinct */
	int nint;                         /* B - 1 */
	int nexit;                        /* B */
	long n, ncomb;                    /* samples, |G|^(B-1) */
	long spent[EXO_MAX_EXITS], cost[EXO_MAX_EXITS];
	enum thr_rule rule;
	long stride[EXO_MAX_EXITS];       /* (|G|+1)^k */
	int32_t *cnt[EXO_MAX_EXITS];      /* table i < B-1: dims 0..i; B-1: final */
	int32_t *cor[EXO_MAX_EXITS];
};
/* Sort and deduplicate grid (values in [0,1]) into t and build the tables.
 * Returns 0, or -1 when (|G|+1)^(B-1) exceeds THR_MAX_CELLS. */
int thr_grid_build(struct thr_grid *t, const struct exo *e, enum thr_rule rule,
    const double *grid /* (g) */, int g);
void thr_grid_free(struct thr_grid *t);
/* Grid indices of combination c, and back. */
void thr_grid_idx(const struct thr_grid *t, long c, int *idx /* (B-1) */);
long thr_grid_comb(const struct thr_grid *t, const int *idx /* (B-1) */);
/* Every combination: correct samples and the sum of spent MACs (heads of
 * exits that cannot fire left out, thr_spent_run). */
void thr_grid_all(const struct thr_grid *t, long *correct /* (ncomb) */,
    int64_t *spent /* (ncomb) */);

/* Picks over thr_grid_all's results; each returns a combination and sets
 * *feasible (val accuracy >= acc_min and avg MACs <= macs_max). */
/* NACHOS: the most accurate combination (fewest MACs among equals); while
 * it exceeds macs_max, lower the thresholds one grid step at a time from
 * the last intermediate exit backwards; a step that would take accuracy
 * below acc_min (from at or above it) is not taken and the walk stops. */
long thr_pick_nachos(const struct thr_grid *t, const long *correct, const int64_t *spent,
    double acc_min, double macs_max, int *feasible);
/* Best: the most accurate feasible combination (fewest MACs among equals);
 * if none, the most accurate within macs_max; if none, the cheapest. */
long thr_pick_best(const struct thr_grid *t, const long *correct, const int64_t *spent,
    double acc_min, double macs_max, int *feasible);
/* AEBNAS: maximise 100 acc - lambda |avg MACs - target| / target 100,
 * over the combinations that leave an intermediate exit on (threshold
 * below 1), when the grid has any. */
long thr_pick_aebnas(const struct thr_grid *t, const long *correct, const int64_t *spent,
    double acc_min, double macs_max, double target, double lambda, int *feasible);
/* The exact Pareto set (max accuracy, min avg MACs): combinations written
 * to out (ncomb) by increasing MACs and accuracy; one combination (the
 * lowest index) per point. Returns the count. */
long thr_pareto(const struct thr_grid *t, const long *correct, const int64_t *spent,
    long *out /* (ncomb) */);

#endif
