/*
 * pareto.h - two-objective (minimised) Pareto tools for the archive:
 * constrained non-dominated sorting, the exact 2-D hypervolume, and the
 * best trade-off (knee) point of a front.
 */
#ifndef PARETO_H
#define PARETO_H

#include <stddef.h>

/*
 * Constrained non-dominated sorting (Deb's rule, admissible first). Point
 * i is admissible when (ok == NULL || ok[i]) and cv[i] <= 0 (cv may be
 * NULL: no violation). Admissible points take fronts 0, 1, ... by plain
 * Pareto dominance on (x, y); the inadmissible ones follow, ordered by
 * violation cv ascending (one group per distinct cv), each group sorted by
 * dominance within itself. front (n) receives each point's front; returns
 * the number of fronts. Points equal in (x, y) share a front.
 */
int pareto_rank(int *front /* (n) */, const double *x /* (n) */, const double *y /* (n) */,
    const double *cv /* (n) */, const int *ok /* (n) */, int n);
/* The first front of pareto_rank, its indices in ascending x (ties by y,
 * then index); returns its size. With no admissible point this is the
 * least-violating group's front, so callers can report the closest ones. */
int pareto_front(int *idx /* (n) */, const double *x /* (n) */, const double *y /* (n) */,
    const double *cv /* (n) */, const int *ok /* (n) */, int n);

/* Exact 2-D hypervolume (area) dominated by the points and bounded by the
 * reference point (rx, ry); points not strictly better than the reference
 * in both objectives add nothing; dominated points are allowed. */
double pareto_hv(const double *x /* (n) */, const double *y /* (n) */, int n, double rx,
    double ry);

/* Constraint violation of an EENN with accuracy acc and average MACs macs
 * against the floor acc_min (0: none) and the limit macs_max (INFINITY:
 * none): each shortfall relative to its bound, so the two add up; 0 when
 * both hold. */
double pareto_violation(double acc, double macs, double acc_min, double macs_max);

/* Hypervolume of an archive per iteration: for each distinct iter (in
 * ascending order) the points with adm[i] (NULL: all) and iter[i] <= it,
 * against (rx, ry). rows (at most n) receive them; returns their number. */
struct pareto_hv_row {
	long iter;
	int n;            /* points (admissible or not) up to this iteration */
	int nfront;       /* admissible non-dominated points up to it */
	double hv;        /* hv_abs / (rx * ry) */
	double hv_abs;
	double t;         /* wall seconds when its last record joined (pareto_hv_times), NaN unknown */
};
int pareto_hv_iters(struct pareto_hv_row *rows /* (n) */, const double *x /* (n) */,
    const double *y /* (n) */, const long *iter /* (n) */, const int *adm /* (n) */, int n,
    double rx, double ry);
/* The default reference point (nachos-method(7) §6): 1.01 x the largest x and y among
 * the points of the smallest iteration, which goes to *first. Returns 0,
 * or -1 when n < 1 or either coordinate is not positive (ref is still
 * set, so the caller can say what it found). */
int pareto_ref(double *ref /* (2) */, long *first, const double *x /* (n) */,
    const double *y /* (n) */, const long *iter /* (n) */, int n);

/*
 * Best trade-off point of a set of mutually non-dominated points; returns
 * its index (-1 when n < 1). Both objectives are first scaled to [0, 1]
 * over the set.
 *   PARETO_KNEE_LINE: the point farthest below the straight line through
 *     the two extreme points (the classic knee).
 *   PARETO_KNEE_TRADEOFF: the high trade-off point of pymoo
 *     (HighTradeoffPoints, used by MSuNAS): for each point i and each
 *     neighbour j (the points within 0.125 of it, scaled, or if fewer its
 *     4 nearest) the ratio of what moving from i to j loses, sum of
 *     max(0, f_j - f_i), to what it gains, sum of max(0, f_i - f_j);
 *     mu_i is the smallest ratio, and the point with the largest mu wins
 *     (pymoo reports the upper-tail outliers of mu; we take the top one).
 *     With every point a neighbour (fronts of up to 5 points) this is the
 *     line knee: the point of least scaled x + y has every ratio >= 1 and
 *     any other has a ratio < 1 towards it.
 * With one point, it; with two, or when every candidate scores the same,
 * the one with the smaller x (the most accurate, nachos-method(7) §6).
 */
enum pareto_knee { PARETO_KNEE_LINE, PARETO_KNEE_TRADEOFF };
extern const char *const pareto_knee_names[];    /* "line", "tradeoff", NULL */
int pareto_knee(const double *x /* (n) */, const double *y /* (n) */, int n,
    enum pareto_knee method);

/* The best trade-off point of an archive, the one rule pareto(1) and
 * run-report(1) share (nachos-method(7) §6): the knee (method) of the first
 * front of pareto_front, i.e. of the admissible points ((ok == NULL ||
 * ok[i], a record not marked feasible false) and cv[i] <= 0), else of the
 * least violating. Returns its index, -1 when n < 1. */
int pareto_best(const double *x /* (n) */, const double *y /* (n) */, const double *cv /* (n) */,
    const int *ok /* (n) */, int n, enum pareto_knee method);

/*
 * One search run's archive of n records on their validation figures, as
 * run-report(1) compares runs (nachos-method(7) §6): the best trade-off
 * (pareto_best, ok as there), whether it is admissible, the share of
 * records over macs_max, and the hypervolume per iteration of the
 * admissible records against ref (pareto_hv_iters).
 */
struct pareto_run {
	int best;                  /* index of the best trade-off record */
	int adm;                   /* it is admissible */
	double over;               /* share of the records over macs_max */
	struct pareto_hv_row *hv;  /* (n) malloc'd: the caller frees it */
	int nhv;
};
void pareto_run(struct pareto_run *out, const double *acc /* (n) */, const double *macs /* (n) */,
    const int *ok /* (n) */, const long *iter /* (n) */, int n, double acc_min, double macs_max,
    enum pareto_knee method, const double *ref /* (2) */);
/* Hypervolume of a run at iteration t: its last row at or before t (an
 * archive only grows, so a run that stopped early keeps its last value);
 * NAN before its first. */
double pareto_hv_at(const struct pareto_hv_row *hv /* (nhv) */, int nhv, long t);
/* The record a budget of `cap` MACs buys: the highest acc among those with
 * ok[i] (NULL: all) and macs[i] <= cap, the lower MACs on a tie; -1 when
 * none is that cheap. */
int pareto_best_under(const double *acc /* (n) */, const double *macs /* (n) */,
    const int *ok /* (n) */, int n, double cap);

/* The rows' wall times from the records': row k's t is the largest t[i]
 * of the records of its iteration (iter[i] == rows[k].iter), NaN when one
 * of them has none (t[i] NaN). */
void pareto_hv_times(struct pareto_hv_row *rows /* (nrows) */, int nrows, const long *iter /* (n) */,
    const double *t /* (n) */, int n);
/* Hypervolume a run had reached by wall time t: its last row whose t is
 * at most t; 0 before its first (nothing evaluated, no front); NaN when a
 * row has no time. */
double pareto_hv_by(const struct pareto_hv_row *hv /* (nhv) */, int nhv, double t);

/*
 * The options pareto(1) and run-report(1) share: the constraints, the knee
 * and the hypervolume reference. PARETO_LONGOPTS goes into a getopt_long
 * table (which needs <getopt.h>); pareto_opt takes what getopt_long returns.
 */
struct pareto_opts {
	double acc_min, macs_max;  /* --acc-min, --macs-max; as the tool set them when not given */
	double ref[2];             /* --ref err,macs */
	int have_ref;
	int knee;                  /* --knee: an enum pareto_knee */
};
enum { PARETO_O_ACC_MIN = 0x1000, PARETO_O_MACS_MAX, PARETO_O_KNEE, PARETO_O_REF };
#define PARETO_LONGOPTS \
	{ "acc-min", required_argument, NULL, PARETO_O_ACC_MIN }, \
	{ "macs-max", required_argument, NULL, PARETO_O_MACS_MAX }, \
	{ "knee", required_argument, NULL, PARETO_O_KNEE }, \
	{ "ref", required_argument, NULL, PARETO_O_REF }
/* Returns 1 when c is one of these options (arg parsed into po; a bad value
 * exits EX_USAGE naming the option), 0 when it is not. */
int pareto_opt(struct pareto_opts *po, int c, const char *arg);

#endif
