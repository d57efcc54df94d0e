/*
 * plan.h - a search sized to a wall-clock budget (issue 13): from the
 * throughput measured on this machine (probe runs of the supernet trainer
 * and of the real candidate job at two training-set sizes each), the
 * supernet epochs and images, the candidates' training subset, the size of
 * the initial archive, the candidates per iteration and the iterations, so
 * the whole search ends within the budget. budget-plan(1) runs it.
 */
#ifndef PLAN_H
#define PLAN_H

/* A timed probe: wall seconds of one run at a training-set size, and its
 * CPU seconds when known. */
struct plan_probe {
	long n;        /* the --subset given */
	double s;      /* its wall time, seconds */
	double cpu;    /* its CPU time (user + system, all its processes); 0: unknown */
};

/* What was measured. Candidate probes ran the all-min and all-max networks
 * JOBS at a time, as the search runs its candidates. */
struct plan_rates {
	int has_sup;                   /* the supernet is to be trained */
	struct plan_probe sup[2];      /* ofa-train, one epoch over n images */
	long sup_images;               /* images of one full supernet epoch */
	struct plan_probe cmin[2], cmax[2];   /* the candidate job */
	int ncmax;     /* all-max probes: 2, or 1 beside cmin[0] at its size,
	                * the all-max line then cmax[0].s / cmin[0].s times
	                * the all-min one (a probe round saved) */
	int jobs;                      /* candidates at a time */
};

/* The rule's knobs (plan_limits_default). */
struct plan_limits {
	double budget;         /* seconds from now to the end of the run */
	double reserve;        /* kept for the report, plots and export */
	double iter_overhead;  /* surrogates and NSGA-II, per iteration */
	double sup_share;      /* of the budget, at most, for the supernet */
	int epochs_max;        /* supernet epochs, at most */
	long sup_subset_min;   /* supernet images of a shortened epoch, at least */
	long subset_min, subset_max;  /* the candidates' training subset */
	int c_min;             /* candidates the subset is first traded for */
	int k_max;             /* candidates per iteration, at most (NSGA-II's population); 0: any */
	int n_min;             /* initial archive, at least (the extremes: 2) */
};

struct plan {
	/* the fits: wall = fixed + per image x images */
	double sup_fixed, sup_per_img;
	double cmin_fixed, cmin_per_img, cmax_fixed, cmax_per_img;
	/* the choice */
	int sup_epochs;        /* 0: no supernet to train */
	long sup_subset;       /* 0: the whole training set */
	long subset;           /* the candidates' --subset */
	int candidates, n_start, k, iterations;
	/* the estimates, seconds */
	double reserve_s, sup_s, cand_min_s, cand_max_s, cand_s, round_s, total_s;
	int feasible;          /* the planned search fits the budget */
};

void plan_limits_default(struct plan_limits *l);
/* The plan; 0, or -1 with why (a sentence) when the rates are unusable
 * (nonpositive sizes, equal probe sizes, no jobs). A budget too short for
 * the smallest search gives the smallest search with feasible = 0. */
int plan_make(struct plan *p, const struct plan_rates *r, const struct plan_limits *l,
    char *why, size_t n);
/* A duration: one or more of <integer><unit>, units h, m, s in that order,
 * each at most once ("25m", "2h", "1h30m", "90s"); seconds, or -1. */
long plan_duration(const char *s);
/* A line through two probes: fixed and per-image wall seconds, each
 * clamped at 0 (a noisy probe can make either look negative). With both
 * probes' CPU times the line goes through those (a busy machine stretches
 * wall times at random, CPU times hardly), times the larger of the two
 * probes' wall / CPU: the machine's load as the probes met it. -1 on
 * equal sizes. */
int plan_fit(double *fixed, double *per, const struct plan_probe *p);

#endif
