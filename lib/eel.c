/* eel.c - NACHOS early-exit losses, forward and backward (see eel.h). */
#include <err.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eel.h"
#include "cli.h"
#include "nachos.h"

#define EEL_EPS 1e-12   /* CE(q, y) = -log(q_y + EEL_EPS), nachos-method(7) §4 */

/* Softmax in double (the mixture of exits needs more than float's
 * precision for its gradient checks); returns the first argmax. */
static int
softmax(double *p /* (K) */, const float *z /* (K) */, int K)
{
	double sum = 0;
	int k, best = 0;

	for (k = 1; k < K; k++)
		if (z[k] > z[best])
			best = k;
	for (k = 0; k < K; k++)
		sum += p[k] = exp((double)z[k] - z[best]);
	for (k = 0; k < K; k++)
		p[k] /= sum;
	return best;
}

static double
sigmoid(double s)
{
	return s >= 0 ? 1 / (1 + exp(-s)) : exp(s) / (1 + exp(s));
}

/* One sample's forward state: probabilities, confidences, exit weights. */
struct smp {
	double *p;                   /* (B, K) */
	double c[EEL_MAX_EXITS];     /* c_i, i < B-1 */
	double cm[EEL_MAX_EXITS];    /* 1 - c_i = sigmoid(-s_i) */
	double q[EEL_MAX_EXITS];     /* prod_{k<i} (1 - c_k) */
	double w[EEL_MAX_EXITS];     /* w_i, i <= B-1 */
	int pred[EEL_MAX_EXITS];
	double mix;                  /* sum_{i<B-1} w_i p_i[y] */
};

static void
sample_fwd(struct smp *s, float *const *logits, int n, int y, int K, int B)
{
	int i;

	s->q[0] = 1;
	s->mix = 0;
	for (i = 0; i < B; i++) {
		int nc = i < B - 1 ? K + 1 : K;
		const float *z = logits[i] + (long)n * nc;

		s->pred[i] = softmax(s->p + (long)i * K, z, K);
		if (i == B - 1) {
			s->w[i] = s->q[i];
			break;
		}
		s->c[i] = sigmoid(z[K]);
		s->cm[i] = sigmoid(-(double)z[K]);
		s->w[i] = s->c[i] * s->q[i];
		s->q[i + 1] = s->q[i] * s->cm[i];
		s->mix += s->w[i] * s->p[(long)i * K + y];
	}
}

double
eel_loss(struct eel_terms *out, float *const *dlogits, float *const *logits,
    const int *y /* (N) */, const struct eel_opts *o, int N, int K, int B)
{
	const int E = B - 1;         /* intermediate exits */
	const float *S = o->support;
	const double *sp = o->spent;
	struct smp s;
	float *zc, *tc, *wc, *gc;    /* (E, N) confidence logits, targets, weights, grads */
	double cost_scale = 0;       /* d L_cost / d C^(x), per sample */
	int n, i, k;

	if (B < 2 || B > EEL_MAX_EXITS)
		errx(EX_SOFTWARE, "eel_loss: %d exits (2 .. %d allowed)", B, EEL_MAX_EXITS);
	memset(out, 0, sizeof(*out));
	s.p = cli_calloc((size_t)B * K, sizeof(double));
	zc = cli_calloc((size_t)4 * E * N, sizeof(float));
	tc = zc + (long)E * N;
	wc = tc + (long)E * N;
	gc = wc + (long)E * N;

	/* Forward: every term but L_conf and L_cost needs only one sample. */
	for (n = 0; n < N; n++) {
		const double *pf;

		sample_fwd(&s, logits, n, y[n], K, B);
		pf = s.p + (long)E * K;
		out->acc += -log(pf[y[n]] + EEL_EPS) - log(s.mix + EEL_EPS);
		for (i = 0; i < B; i++) {
			out->correct[i] += s.pred[i] == y[n];
			if (sp)
				out->macs += s.w[i] * sp[i];
		}
		for (i = 0; i < E; i++) {
			out->ce -= log(s.p[(long)i * K + y[n]] + EEL_EPS) / E;
			zc[(long)i * N + n] = logits[i][(long)n * (K + 1) + K];
			tc[(long)i * N + n] = s.pred[i] == y[n];
			if (S) {
				double d = s.c[i] - S[(long)y[n] * E + i];
				out->peak += d * d;
			}
		}
	}
	if (N > 0) {
		out->acc /= N;
		out->ce /= N;
		out->macs /= N;
		out->peak /= (double)N * E;
	}
	if (sp && sp[E] > o->mbar && out->macs > o->mbar) {
		out->cost = (out->macs - o->mbar) / (sp[E] - o->mbar);
		cost_scale = o->w_cost / ((double)N * (sp[E] - o->mbar));
	}
	for (i = 0; i < E; i++) {
		float *t = tc + (long)i * N, *wt = wc + (long)i * N;
		long pos = 0, neg;

		for (n = 0; n < N; n++)
			pos += t[n] > 0;
		neg = N - pos;
		for (n = 0; n < N; n++)
			wt[n] = t[n] > 0 ? (neg ? 0.5f : 1.0f) / pos :
			    (pos ? 0.5f : 1.0f) / neg;
		out->conf += nn_bce_fwd(zc + (long)i * N, t, wt, N) / E;
	}
	out->total = o->w_acc * out->acc + o->w_cost * out->cost +
	    o->w_conf * out->conf + o->w_peak * out->peak + o->w_ce * out->ce;

	if (dlogits == NULL || N == 0)
		goto done;

	/* Backward (gc is still zero from calloc). The class-balanced BCE goes
	 * straight to the confidence logits; the other terms are gathered per
	 * sample as G_j = d L / d w_j and d L / d c_i, then pushed through the
	 * exit weights. */
	for (i = 0; i < E; i++)
		nn_bce_bwd(gc + (long)i * N, zc + (long)i * N, tc + (long)i * N,
		    wc + (long)i * N, N, (float)(o->w_conf / E));
	for (n = 0; n < N; n++) {
		double G[EEL_MAX_EXITS], dc[EEL_MAX_EXITS], T, a = o->w_acc / N, g;
		const double *pf;
		int yn = y[n];

		sample_fwd(&s, logits, n, yn, K, B);
		pf = s.p + (long)E * K;

		/* CE of the final exit:
		 * d -log(p_y + eps) / dz_k = p_y/(p_y + eps) (p_k - [k=y]). */
		if (dlogits[E]) {
			float *dz = dlogits[E] + (long)n * K;
			double r = a * pf[yn] / (pf[yn] + EEL_EPS);

			for (k = 0; k < K; k++)
				dz[k] += (float)(r * (pf[k] - (k == yn)));
		}
		/* CE of the mixture: g = -1/(mix + eps) times d mix, where
		 * d mix / d w_i = p_i[y] and d mix / dz_ik = w_i p_i[y] ([k=y] - p_ik). */
		g = -a / (s.mix + EEL_EPS);
		for (i = 0; i < B; i++)
			G[i] = cost_scale * (sp ? sp[i] : 0);
		for (i = 0; i < E; i++) {
			const double *p = s.p + (long)i * K;
			double r = g * s.w[i] * p[yn];

			G[i] += g * p[yn];
			if (dlogits[i]) {
				float *dz = dlogits[i] + (long)n * (K + 1);
				/* L_ce: as the final exit's CE, 1/E of it */
				double rc = o->w_ce / ((double)N * E) * p[yn] / (p[yn] + EEL_EPS);

				for (k = 0; k < K; k++)
					dz[k] += (float)(r * ((k == yn) - p[k]) +
					    rc * (p[k] - (k == yn)));
			}
		}
		/* Through the weights without dividing by 1 - c_i: with
		 * T_i = G_i c_i + (1 - c_i) T_{i+1}, T_{B-1} = G_{B-1},
		 * d (sum_j G_j w_j) / d c_i = q_i (G_i - T_{i+1}). */
		T = G[E];
		for (i = E - 1; i >= 0; i--) {
			dc[i] = s.q[i] * (G[i] - T);
			T = G[i] * s.c[i] + s.cm[i] * T;
		}
		for (i = 0; i < E; i++) {
			if (S)
				dc[i] += o->w_peak * 2 * (s.c[i] - S[(long)yn * E + i]) /
				    ((double)N * E);
			if (dlogits[i])
				dlogits[i][(long)n * (K + 1) + K] += (float)(dc[i] *
				    s.c[i] * s.cm[i] + gc[(long)i * N + n]);
		}
	}
done:
	free(s.p);
	free(zc);
	return out->total;
}

void
eel_support_matrix(float *S /* (K, B-1) */, const int *pred /* (B-1, n) */,
    const int *y /* (n) */, long n, int K, int B)
{
	const int E = B - 1;
	long *cnt = cli_calloc((size_t)K + 1, sizeof(long));
	long *hit = cli_calloc((size_t)(K + 1) * E, sizeof(long)), s;
	int i, j;

	/* Row K of hit counts over all classes: the fallback for an absent class. */
	for (s = 0; s < n; s++) {
		cnt[y[s]]++;
		cnt[K]++;
		for (i = 0; i < E; i++) {
			int ok = pred[(long)i * n + s] == y[s];

			hit[(long)y[s] * E + i] += ok;
			hit[(long)K * E + i] += ok;
		}
	}
	for (j = 0; j < K; j++) {
		int r = cnt[j] ? j : K;

		for (i = 0; i < E; i++)
			S[(long)j * E + i] = cnt[r] ? (float)hit[(long)r * E + i] / cnt[r] : 0;
	}
	free(cnt);
	free(hit);
}

static int
cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

long
eel_support_sample(int32_t *out, const int32_t *pool, long n, const int32_t *lab,
    int K, long per_class, struct nn_rng *rng)
{
	long *cnt = cli_calloc((size_t)K, sizeof(long)), *at = cli_calloc((size_t)K, sizeof(long));
	long m = per_class, k, o = 0;
	int32_t *buck = cli_calloc((size_t)n, sizeof(int32_t));
	int j;

	for (k = 0; k < n; k++)
		cnt[lab[pool ? pool[k] : k]]++;
	for (j = 0; j < K; j++)
		if (cnt[j] < m)
			m = cnt[j];
	/* Bucket the pool by class (counting sort), shuffle each bucket and
	 * keep its first m. */
	for (j = 0, k = 0; j < K; j++) {
		at[j] = k;
		k += cnt[j];
	}
	for (k = 0; k < n; k++) {
		int32_t id = pool ? pool[k] : (int32_t)k;

		buck[at[lab[id]]++] = id;
	}
	for (j = 0, k = 0; j < K; k += cnt[j], j++) {
		rng_shuffle(buck + k, cnt[j], rng);
		memcpy(out + o, buck + k, (size_t)m * sizeof(int32_t));
		o += m;
	}
	qsort(out, (size_t)o, sizeof(int32_t), cmp_i32);
	free(cnt);
	free(at);
	free(buck);
	return m;
}
