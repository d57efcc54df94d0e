/*
 * eel.h - the NACHOS early-exit training losses (nachos-method(7) §4), forward and
 * backward for one batch, and the phase-3 support set and support matrix.
 *
 * An EENN has B exits (B >= 2): exits 0 .. B-2 are intermediate, their
 * logits (N, K+1) hold K class logits and, last, the confidence logit s_i
 * (c_i = sigmoid(s_i)); the final exit B-1 has logits (N, K) and c = 1.
 * Per sample:
 *   w_i = c_i prod_{k<i} (1 - c_k)  (i < B-1),  w_{B-1} = prod_{k<B-1} (1 - c_k)
 *   p_i = softmax of exit i's K class logits, CE(q, y) = -log(q_y + 1e-12)
 * Batch terms (each a mean over the N samples):
 *   L_acc  = mean [CE(p_{B-1}, y) + CE(sum_{i<B-1} w_i p_i, y)]
 *   L_cost = max(0, mean C^ - Mbar) / (spent_{B-1} - Mbar), C^ = sum_i w_i spent_i,
 *            0 unless spent_{B-1} > Mbar; its gradient reaches the confidences.
 *   L_conf = (1/(B-1)) sum_{i<B-1} sum_n wt_in BCE(c_in, t_in), t_in = 1 when
 *            exit i's argmax (first maximum) is y_n (no gradient through t).
 *            Class balance per exit i: wt = 1/(2 n_pos) for a positive and
 *            1/(2 n_neg) for a negative, so each side weighs 1/2; when one
 *            side is empty the other gets 1/n (a plain mean).
 *   L_peak = mean over n and i < B-1 of (c_in - S[y_n][i])^2.
 *   L_ce   = mean over n of (1/(B-1)) sum_{i<B-1} CE(p_i, y): each
 *            intermediate exit's own cross-entropy (the supernet's heads,
 *            ofa_train.h; NACHOS's phases weigh it 0).
 *   total  = w_acc L_acc + w_cost L_cost + w_conf L_conf + w_peak L_peak
 *            + w_ce L_ce
 * (NACHOS: w_acc, w_cost, w_peak = omega 1..3 and w_conf = 1.)
 * Everything inside is double; probabilities and sigmoids are computed
 * stably (1 - c is sigmoid(-s), not a subtraction).
 */
#ifndef EEL_H
#define EEL_H

#include <stdint.h>

#include "arch.h"
#include "nn.h"

#define EEL_MAX_EXITS (ARCH_EXITS + 1)

struct eel_opts {
	double w_acc, w_cost, w_conf, w_peak; /* term weights of the total */
	double mbar;                  /* MACs constraint Mbar */
	const double *spent;          /* (B) spent MACs per exit (nachos-method(7) §2); NULL: no L_cost */
	const float *support;         /* (K, B-1) support matrix S; NULL: no L_peak */
	double w_ce;                  /* weight of L_ce (0: none) */
};

struct eel_terms {
	double acc, cost, conf, peak, ce; /* unweighted terms */
	double total;                 /* weighted sum, as in the header comment */
	double macs;                  /* mean over the batch of C^ (0 without spent) */
	long correct[EEL_MAX_EXITS];  /* samples whose argmax at exit i is right */
};

/* The losses of one batch: fills *out and returns out->total. dlogits
 * (NULL for forward only, e.g. validation) gets d total / d logits for
 * every exit, ACCUMULATED (+=) into caller-zeroed buffers; a NULL entry
 * skips that exit's gradient. logits and dlogits are B pointers, shapes
 * (N, K+1) for i < B-1 and (N, K) for i = B-1 (logits are only read; the
 * pointer type lets a model's float *logits[] be passed as it is). Exits
 * EX_SOFTWARE if B is outside 2 .. EEL_MAX_EXITS. */
double eel_loss(struct eel_terms *out, float *const *dlogits, float *const *logits,
    const int *y /* (N) */, const struct eel_opts *o, int N, int K, int B);

/* Support matrix: S[j][i] = accuracy of exit i on the support samples of
 * class j, from pred (B-1, n), exit i's predicted class of support sample
 * s at pred[i*n + s], and labels y (n). A class without support samples
 * gets exit i's accuracy over all the support samples (0 if n = 0). */
void eel_support_matrix(float *S /* (K, B-1) */, const int *pred /* (B-1, n) */,
    const int *y /* (n) */, long n, int K, int B);

/* Class-balanced support set: per_class samples of every class, drawn
 * without replacement from the pool (n) of sample indices (NULL: 0 .. n-1)
 * whose labels are lab[pool[k]] (classes in 0 .. K-1). When a class has
 * fewer than per_class samples in the pool, every class gets as many as the
 * smallest class has. out (K * per_class) receives the chosen indices in
 * ascending order; returns the count per class actually drawn. */
long eel_support_sample(int32_t *out, const int32_t *pool, long n,
    const int32_t *lab, int K, long per_class, struct nn_rng *rng);

#endif
