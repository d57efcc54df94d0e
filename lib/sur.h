/*
 * sur.h - surrogate predictors of one scalar target from integer genomes
 * (nachos-method(7) §6 step 1): RBF (cubic kernel, linear tail), GP/Kriging (DACE:
 * linear trend, Gaussian correlation, tuned theta), a CART ensemble, a
 * small MLP, and adaptive switching between them by k-fold Kendall tau.
 *
 * Features are standardised per gene (a gene that never varies in the
 * training set keeps scale 1) and the target is standardised too; every
 * predictor works in those units and sur_predict undoes them.
 *
 * A constant training target gives the constant predictor (kind SUR_CONST,
 * note set): it is exactly right on the data and says so, rather than
 * fitting noise. Points or targets that are not finite are an error.
 */
#ifndef SUR_H
#define SUR_H

#include <stddef.h>

#include "rec.h"

enum sur_kind { SUR_RBF, SUR_GP, SUR_CART, SUR_MLP, SUR_AS, SUR_CONST, SUR_NKINDS };
/* "rbf", "gp", "cart", "mlp", "as", "const", NULL */
extern const char *const sur_kind_names[];

struct sur_opts {
	enum sur_kind kind;     /* asked for: one model or SUR_AS */
	int folds;              /* CV folds; 0 = no CV (not with SUR_AS) */
	unsigned long seed;     /* folds, bootstrap, feature subsets, MLP init */
	int gp_ard;             /* GP: one theta per gene (else one shared theta) */
	int trees;              /* CART ensemble size */
	int hidden, epochs;     /* MLP hidden units, full-batch Adam steps */
};
void sur_opts_default(struct sur_opts *o);

/* Cross-validation figures of one model: tau over folds (mean, population
 * std), score = mean - std, and RMSE and Spearman rho of the pooled
 * out-of-fold predictions. why != "" when the model could not be fitted on
 * some fold (it is then out of the running). */
struct sur_cv {
	int done;
	double tau, tau_std, score, rmse, rho;
	char why[160];
};

struct sur_tree {
	int nn;                 /* nodes; 0 is the root */
	int *feat;              /* (nn) split gene, -1 at a leaf */
	double *thr;            /* (nn) left when z[feat] <= thr */
	double *val;            /* (nn) leaf value (standardised target) */
	int *left, *right;      /* (nn) children, node indices in this tree */
};

struct sur_model {
	enum sur_kind kind;     /* the fitted predictor, never SUR_AS */
	enum sur_kind asked;
	char target[64];        /* record key of the target (tool-level) */
	int error;              /* target is 1 - value of the key */
	unsigned long seed;
	int folds;
	int n, d;
	double *x;              /* (n, d) training features as given */
	double *y;              /* (n) training targets */
	double *xm, *xs;        /* (d) feature mean and scale */
	double ym, ys;          /* target mean and scale */
	/* rbf, gp: distinct training points (centres) and the linear part */
	int nc;
	int *cidx;              /* (nc) row of x each centre first came from */
	double *cz;             /* (nc, d) standardised centres */
	int ntail;
	int *tail;              /* (ntail) genes of the linear tail / trend */
	double *w;              /* (nc) rbf: kernel weights; gp: R^-1 (t - F beta) */
	double *beta;           /* (ntail + 1) constant first, then per tail gene */
	double *theta;          /* (d) gp correlation parameters */
	double sigma2;          /* gp process variance (standardised units) */
	/* cart */
	int ntree;
	struct sur_tree *tree;  /* (ntree) */
	/* mlp */
	int hidden;
	double *w1, *b1;        /* (hidden, d), (hidden) */
	double *w2, b2;         /* (hidden), scalar */
	struct sur_cv cv[SUR_AS];   /* per model kind rbf..mlp */
	char note[128];         /* fallback taken, "" if none */
};

/*
 * Fit the predictor o->kind (or pick one by CV for SUR_AS) to n points
 * x (n, d) with targets y (n). Returns 0, or -1 with a message in err
 * (size nerr) and m left empty: non-finite values, n < 2, a model that
 * cannot be fitted (rbf needs distinct points > varying genes, gp one
 * more), too few points for the folds.
 */
int sur_fit(struct sur_model *m, const double *x /* (n, d) */, const double *y /* (n) */,
    int n, int d, const struct sur_opts *o, char *err, size_t nerr);
/* Cross-validate model kind k (not SUR_AS) with o->folds folds. Returns 0,
 * or -1 with cv->why set when some fold cannot be fitted. */
int sur_cv_kind(struct sur_cv *cv, enum sur_kind k, const double *x /* (n, d) */,
    const double *y /* (n) */, int n, int d, const struct sur_opts *o);
double sur_predict(const struct sur_model *m, const double *x /* (d) */);
void sur_free(struct sur_model *m);

/* Put every model key (formats/model.md) into a record begun by the caller. */
void sur_put(struct rec_out *o, const struct sur_model *m);
/* Read a model record; bad keys fail via rec_fail. */
void sur_read(struct sur_model *m, const struct rec_in *r, const msgpack_object *rec);

#endif
