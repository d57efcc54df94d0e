/* opt.c - see opt.h. */
#include "opt.h"

#include <err.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nachos.h"
#include "nn.h"

const char *const opt_sched_names[] = { "const", "cosine", "step", NULL };

void
opt_sgd_init(struct opt_sgd *o, const struct opt_seg *seg, int nseg, long nparam,
    double momentum, double wd, int nesterov)
{
	memset(o, 0, sizeof(*o));
	o->momentum = momentum;
	o->wd = wd;
	o->nesterov = nesterov;
	o->nseg = nseg;
	if ((o->seg = malloc((nseg ? nseg : 1) * sizeof(*seg))) == NULL ||
	    (o->buf = calloc(nparam ? nparam : 1, sizeof(float))) == NULL)
		err(EX_SOFTWARE, "opt_sgd_init");
	memcpy(o->seg, seg, nseg * sizeof(*seg));
}

void
opt_sgd_free(struct opt_sgd *o)
{
	free(o->seg);
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

/* One SGD update over a chunk of a segment (elementwise: the chunks do not
 * change the result). */
#define SGD_CHUNK 65536L

struct sgd_job {
	float *p, *v;
	const float *g;
	long n;
	float mu, wd, lr;
	int nesterov;
};

static void
sgd_task(void *arg, long t)
{
	const struct sgd_job *j = arg;
	long i, hi = (t + 1) * SGD_CHUNK < j->n ? (t + 1) * SGD_CHUNK : j->n;

	for (i = t * SGD_CHUNK; i < hi; i++) {
		float d = j->g[i] + j->wd * j->p[i];
		j->v[i] = j->mu * j->v[i] + d;
		d = j->nesterov ? d + j->mu * j->v[i] : j->v[i];
		j->p[i] -= j->lr * d;
	}
}

void
opt_sgd_step(struct opt_sgd *o, float *param, const float *grad, double lr)
{
	int s;

	for (s = 0; s < o->nseg; s++) {
		struct sgd_job j = { param + o->seg[s].off, o->buf + o->seg[s].off,
			grad + o->seg[s].off, o->seg[s].n, (float)o->momentum,
			o->seg[s].decay ? (float)o->wd : 0.0f, (float)lr, o->nesterov };

		nn_par((j.n + SGD_CHUNK - 1) / SGD_CHUNK, j.n > 65536 ? j.n : 0, sgd_task, &j);
	}
}

double
opt_grad_norm(const float *grad, const struct opt_seg *seg, int nseg)
{
	double sum = 0;
	int s;

	for (s = 0; s < nseg; s++) {
		const float *g = grad + seg[s].off;
		long i;

		for (i = 0; i < seg[s].n; i++)
			sum += (double)g[i] * g[i];
	}
	return sqrt(sum);
}

void
opt_scale(float *grad, const struct opt_seg *seg, int nseg, double c)
{
	int s;

	for (s = 0; s < nseg; s++) {
		float *g = grad + seg[s].off;
		long i;

		for (i = 0; i < seg[s].n; i++)
			g[i] *= (float)c;
	}
}

double
opt_clip(float *grad, const struct opt_seg *seg, int nseg, double max_norm)
{
	double norm = opt_grad_norm(grad, seg, nseg), c = max_norm / (norm + 1e-6);

	if (c < 1)
		opt_scale(grad, seg, nseg, c);
	return norm;
}

double
opt_lr(const struct opt_sched *s, long step)
{
	long t = step - s->warmup, T = s->total - s->warmup;

	if (step < s->warmup)
		return s->lr * (step + 1) / s->warmup;
	switch (s->kind) {
	case OPT_COSINE:
		return T > 0 ? s->lr * 0.5 * (1 + cos(M_PI * (double)t / T)) : s->lr;
	case OPT_STEP:
		return s->lr * pow(s->gamma, s->step_every > 0 ? step / s->step_every : 0);
	default:
		return s->lr;
	}
}
