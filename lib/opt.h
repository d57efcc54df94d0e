/*
 * opt.h - SGD with momentum / Nesterov and weight decay with PyTorch's
 * semantics, gradient-norm clipping, and per-step learning-rate schedules
 * (constant, cosine, step) with linear warm-up.
 *
 * The optimiser sees flat parameter and gradient arrays (a model's arenas)
 * through a list of segments, one per trainable tensor, each flagged for
 * weight decay or not; tensors left out of the list are not updated (BN
 * running statistics, a frozen backbone).
 */
#ifndef OPT_H
#define OPT_H

struct opt_seg { long off, n; int decay; };  /* floats [off, off+n) */

struct opt_sgd {
	double momentum, wd;
	int nesterov;
	int nseg;
	struct opt_seg *seg;         /* copy of the segments */
	long *start;                 /* (nseg + 1): segment s's first float among all segments' */
	float *buf;                  /* momentum buffers, laid out like param */
};

/* nparam: size of the param / grad arrays the segments index. */
void opt_sgd_init(struct opt_sgd *o, const struct opt_seg *seg /* (nseg) */, int nseg,
    long nparam, double momentum, double wd, int nesterov);
void opt_sgd_free(struct opt_sgd *o);
/* One step at learning rate lr, as torch.optim.SGD (dampening 0):
 *   d = g + wd*p (decay segments only); v = momentum*v + d;
 *   d = nesterov ? d + momentum*v : v;  p -= lr*d.
 * v starts at zero, so the first step has v = d as in PyTorch. */
void opt_sgd_step(struct opt_sgd *o, float *param /* (nparam) */,
    const float *grad /* (nparam) */, double lr);

/* L2 norm of the gradient over the segments. */
double opt_grad_norm(const float *grad /* (nparam) */, const struct opt_seg *seg, int nseg);
/* grad *= c over the segments (clipping one norm over several buffers). */
void opt_scale(float *grad /* (nparam) */, const struct opt_seg *seg, int nseg, double c);
/* torch.nn.utils.clip_grad_norm_: when the norm exceeds max_norm, scale the
 * gradient by max_norm / (norm + 1e-6). Returns the norm before clipping. */
double opt_clip(float *grad /* (nparam) */, const struct opt_seg *seg, int nseg,
    double max_norm);

enum opt_sched_kind { OPT_CONST, OPT_COSINE, OPT_STEP };
extern const char *const opt_sched_names[];     /* "const", "cosine", "step"; NULL-ended */

struct opt_sched {
	int kind;                    /* enum opt_sched_kind */
	double lr;                   /* base (peak) learning rate */
	long total;                  /* steps in the run */
	long warmup;                 /* linear warm-up steps */
	long step_every;             /* OPT_STEP: steps between decays */
	double gamma;                /* OPT_STEP: decay factor */
};
/*
 * Learning rate of step s (0-based):
 *   s < warmup: lr * (s + 1) / warmup;
 *   const: lr;  cosine: lr * (1 + cos(pi * (s - warmup) / (total - warmup))) / 2;
 *   step: lr * gamma^floor(s / step_every)  (as StepLR, counted from step 0).
 */
double opt_lr(const struct opt_sched *s, long step);

#endif
