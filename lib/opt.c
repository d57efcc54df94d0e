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
	int s;

	memset(o, 0, sizeof(*o));
	o->momentum = momentum;
	o->wd = wd;
	o->nesterov = nesterov;
	o->nseg = nseg;
	if ((o->seg = malloc((nseg ? nseg : 1) * sizeof(*seg))) == NULL ||
	    (o->start = malloc((nseg + 1) * sizeof(*o->start))) == NULL ||
	    (o->buf = calloc(nparam ? nparam : 1, sizeof(float))) == NULL)
		err(EX_SOFTWARE, "opt_sgd_init");
	memcpy(o->seg, seg, nseg * sizeof(*seg));
	o->start[0] = 0;
	for (s = 0; s < nseg; s++)
		o->start[s + 1] = o->start[s] + seg[s].n;
}

void
opt_sgd_free(struct opt_sgd *o)
{
	free(o->seg);
	free(o->start);
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

/* The update is elementwise, so it runs over all segments as one range in
 * chunks of the same size (segments of a few floats to a few hundred
 * thousand: one job per segment left most of them serial and split the
 * others unevenly). */
#define SGD_CHUNK 16384L

struct sgd_job {
	const struct opt_sgd *o;
	float *p;
	const float *g;
	float lr;
};

static void
sgd_task(void *arg, long t)
{
	const struct sgd_job *j = arg;
	const struct opt_sgd *o = j->o;
	long a = t * SGD_CHUNK, b = a + SGD_CHUNK, i;
	int lo = 0, hi = o->nseg - 1, s;
	float mu = (float)o->momentum;

	/* the last segment starting at or before a */
	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;
		if (o->start[mid] <= a)
			lo = mid;
		else
			hi = mid - 1;
	}
	for (s = lo; s < o->nseg && o->start[s] < b; s++) {
		/* this chunk's part of segment s, as indices into it */
		long i0 = (a > o->start[s] ? a : o->start[s]) - o->start[s];
		long i1 = (b < o->start[s + 1] ? b : o->start[s + 1]) - o->start[s];
		float wd = o->seg[s].decay ? (float)o->wd : 0.0f;
		float *p = j->p + o->seg[s].off, *v = o->buf + o->seg[s].off;
		const float *g = j->g + o->seg[s].off;

		for (i = i0; i < i1; i++) {
			float d = g[i] + wd * p[i];
			v[i] = mu * v[i] + d;
			d = o->nesterov ? d + mu * v[i] : v[i];
			p[i] -= j->lr * d;
		}
	}
}

void
opt_sgd_step(struct opt_sgd *o, float *param, const float *grad, double lr)
{
	struct sgd_job j = { o, param, grad, (float)lr };
	long n = o->start[o->nseg];

	nn_par((n + SGD_CHUNK - 1) / SGD_CHUNK, 4 * n, sgd_task, &j);
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
