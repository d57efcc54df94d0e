/*
 * sur_mlp.c - one hidden ReLU layer, linear output, trained full-batch with
 * Adam on mean squared error plus a small L2 penalty on the weights, the
 * step size following a cosine from LR to 0. The parameters live in one
 * block, [w1 (h, d) | b1 (h) | w2 (h) | b2], so Adam runs over one vector.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "rng.h"
#include "sur_impl.h"

#define MLP_LR 1e-2
#define MLP_L2 1e-2

void
sur_mlp_fit(struct sur_model *m, const double *z, const double *t, int n, int hidden,
    int epochs, unsigned long seed)
{
	struct nn_rng rng;
	int d = m->d, h = hidden, np = h * d + 2 * h + 1, i, j, e;
	double *p = malloc(sizeof(double) * np), *g = malloc(sizeof(double) * np);
	double *mo = calloc(np, sizeof(double)), *ve = calloc(np, sizeof(double));
	double *a = malloc(sizeof(double) * n * h), *out = malloc(sizeof(double) * n);
	double *w1, *b1, *w2, *gw1, *gb1, *gw2, a1 = sqrt(6.0 / d), a2 = sqrt(6.0 / (h + 1));
	double b1t = 1, b2t = 1;

	nn_rng_seed(&rng, seed);
	w1 = p;
	b1 = p + h * d;
	w2 = b1 + h;
	gw1 = g;
	gb1 = g + h * d;
	gw2 = gb1 + h;
	/* He-uniform into the ReLUs, Glorot-uniform out of them. */
	for (i = 0; i < h * d; i++)
		w1[i] = a1 * (2 * nn_rng_uniform(&rng) - 1);
	for (i = 0; i < h; i++) {
		b1[i] = 0;
		w2[i] = a2 * (2 * nn_rng_uniform(&rng) - 1);
	}
	p[np - 1] = 0;
	for (e = 0; e < epochs; e++) {
		double lr = MLP_LR * 0.5 * (1 + cos(M_PI * e / epochs));

		/* Forward: a = relu(z w1^T + b1), out = a w2 + b2. */
		for (i = 0; i < n; i++)
			memcpy(a + i * h, b1, sizeof(double) * h);
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, h, d, 1, z, d, w1, d,
		    1, a, h);
		for (i = 0; i < n * h; i++)
			a[i] = a[i] > 0 ? a[i] : 0;
		cblas_dgemv(CblasRowMajor, CblasNoTrans, n, h, 1, a, h, w2, 1, 0, out, 1);
		/* Backward: out becomes dL/dout, a becomes dL/d(pre-activation). */
		g[np - 1] = 0;
		for (i = 0; i < n; i++) {
			out[i] = 2.0 / n * (out[i] + p[np - 1] - t[i]);
			g[np - 1] += out[i];
		}
		cblas_dgemv(CblasRowMajor, CblasTrans, n, h, 1, a, h, out, 1, 0, gw2, 1);
		for (i = 0; i < n; i++)
			for (j = 0; j < h; j++)
				a[i * h + j] = a[i * h + j] > 0 ? out[i] * w2[j] : 0;
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, h, d, n, 1, a, h, z, d,
		    0, gw1, d);
		for (j = 0; j < h; j++) {
			gb1[j] = 0;
			for (i = 0; i < n; i++)
				gb1[j] += a[i * h + j];
		}
		for (i = 0; i < h * d; i++)
			gw1[i] += 2 * MLP_L2 * w1[i];
		for (i = 0; i < h; i++)
			gw2[i] += 2 * MLP_L2 * w2[i];
		b1t *= 0.9;
		b2t *= 0.999;
		for (i = 0; i < np; i++) {
			mo[i] = 0.9 * mo[i] + 0.1 * g[i];
			ve[i] = 0.999 * ve[i] + 0.001 * g[i] * g[i];
			p[i] -= lr * (mo[i] / (1 - b1t)) / (sqrt(ve[i] / (1 - b2t)) + 1e-8);
		}
	}
	m->hidden = h;
	m->w1 = p;
	m->b1 = p + h * d;
	m->w2 = m->b1 + h;
	m->b2 = p[np - 1];
	free(g);
	free(mo);
	free(ve);
	free(a);
	free(out);
}

double
sur_mlp_eval(const struct sur_model *m, const double *z)
{
	double s = m->b2;
	int j;

	for (j = 0; j < m->hidden; j++) {
		double u = m->b1[j] + cblas_ddot(m->d, m->w1 + j * m->d, 1, z, 1);

		if (u > 0)
			s += m->w2[j] * u;
	}
	return s;
}
