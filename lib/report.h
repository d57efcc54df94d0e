/*
 * report.h - the analysis run-report tabulates beyond one run's front
 * (pareto.h) and the Friedman test (stats.h): paired records, one
 * architecture of an ablation's shared initial archive trained by two
 * methods from one seed, so that their difference is the method's alone;
 * and the seeds every method has, the blocks of the Friedman test.
 */
#ifndef REPORT_H
#define REPORT_H

/* A record as the paired comparison reads it: its validation figures and
 * the constraints of its run. */
struct report_side {
	double acc, macs;               /* validation accuracy (fraction), MACs */
	double exp_macs;                /* Ĉ before the thresholds are tuned; NAN: none */
	double mem_cv;                  /* memory-limit violation (hw.h); <= 0 fits */
	double acc_min, macs_max;       /* its run's constraints (pareto_violation) */
};

/* The seeds that every one of methods 0..nmethods-1 has a run of:
 * run i is (method[i], seed[i]); out receives each such seed once,
 * ascending. Returns their number: the blocks of the Friedman test. */
int report_common_seeds(long *out /* (nruns) */, const int *method /* (nruns) */,
    const long *seed /* (nruns) */, int nruns, int nmethods);

/* 1 when two records are one architecture: both have a genome, and id and
 * genome are equal. */
int report_same_arch(const char *id_a, const int *genome_a /* (n_a) */, int n_a,
    const char *id_b, const int *genome_b /* (n_b) */, int n_b);

/* 1 when the record meets its run's constraints and the memory limits. */
int report_admissible(const struct report_side *s);

/* The pairs of one method against the first method, Δ = method − first. */
struct report_paired {
	double *d_macs;         /* (n): relative Δ of the average MACs, macs / macs_ref - 1 */
	double *d_exp_macs;     /* (n): relative Δ of the expected MACs */
	double *d_acc;          /* (n): Δ accuracy (fraction) */
	int n, cap;
	int adm_ref, adm;       /* pairs admissible on the first method's side, the method's */
};

void report_paired_init(struct report_paired *p);
/* Add the pair of the method's record e and the first method's record ref;
 * -1 when memory runs out (p keeps the pairs before). */
int report_paired_add(struct report_paired *p, const struct report_side *e,
    const struct report_side *ref);
void report_paired_free(struct report_paired *p);

#endif
