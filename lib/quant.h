/*
 * quant.h - int8 post-training quantisation in the TFLite convention (the
 * numbers CMSIS-NN's kernels take), for eenn-export:
 *   activations: per tensor, asymmetric: x = s (q - z), q in [-128, 127],
 *     s and z from the calibrated range [lo, hi] widened to hold 0 (so a
 *     zero pad and a ReLU's floor are exact): s = (hi - lo) / 255,
 *     z = round(-128 - lo / s) clamped to [-128, 127];
 *   weights: per output channel, symmetric, z = 0: s_c = max |w_c| / 127,
 *     q = round(w / s_c); a bias is int32 round(b / (s_c s_in));
 *   requantisation: a real multiplier M > 0 as an int32 mult in [2^30,
 *     2^31) and a shift, M = mult 2^(shift - 31) (TFLite's
 *     QuantizeMultiplier), applied by k_mbqm (export_kern.inc) as
 *     TFLite's MultiplyByQuantizedMultiplier, its two roundings included;
 *   activations other than ReLU (a clamp) as 256-entry tables mapping
 *     every int8 input to round(f(x) / s_out) + z_out: exact for int8
 *     inputs up to that one rounding.
 */
#ifndef QUANT_H
#define QUANT_H

#include <stdint.h>

struct qparam {
	float s;       /* scale */
	int32_t z;     /* zero point */
};

/* Table functions: the nn.h activations, and the exit confidence's sigmoid. */
enum { QUANT_SIGMOID = 100 };

/* Asymmetric int8 parameters for values in [lo, hi]. */
void quant_range(struct qparam *q, double lo, double hi);
/* round(x / s) + z, clamped to int8. */
int8_t quant_value(const struct qparam *q, double x);
/* s (q - z). */
double quant_real(const struct qparam *q, int v);
/* M -> (mult, shift); M <= 0 or tiny gives mult 0 (the product is 0). */
void quant_multiplier(double m, int32_t *mult, int32_t *shift);
/* Per-output-channel symmetric weights: w (co, per) -> qw, scale (co). */
void quant_weights(int8_t *qw, float *scale /* (co) */, const float *w, int co, long per);
/* The table of act (enum nn_act, or QUANT_SIGMOID) from in to out. */
void quant_lut(int8_t *lut /* (256) */, int act, const struct qparam *in,
    const struct qparam *out);
/* The value act gives x, in double (the tables' reference). */
double quant_act(int act, double x);
/* k_mbqm of export_kern.inc: acc M rounded, the kernels' requantisation. */
int32_t quant_requant(int32_t acc, int32_t mult, int32_t shift);

#endif
