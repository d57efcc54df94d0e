/* quant.c - see quant.h. */
#include "quant.h"

#include <math.h>
#include <stdint.h>

#include "nn.h"

#include "export_kern.inc"

void
quant_range(struct qparam *q, double lo, double hi)
{
	double z;

	lo = lo < 0 ? lo : 0;
	hi = hi > 0 ? hi : 0;
	if (hi - lo < 1e-8)
		hi = lo + 1e-8;
	q->s = (float)((hi - lo) / 255);
	z = round(-128 - lo / q->s);
	q->z = z < -128 ? -128 : z > 127 ? 127 : (int32_t)z;
}

int8_t
quant_value(const struct qparam *q, double x)
{
	double v = round(x / q->s) + q->z;

	return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
}

double
quant_real(const struct qparam *q, int v)
{
	return (double)q->s * (v - q->z);
}

void
quant_multiplier(double m, int32_t *mult, int32_t *shift)
{
	int e;
	double f;
	int64_t q;

	if (!(m > 0)) {
		*mult = 0, *shift = 0;
		return;
	}
	f = frexp(m, &e);                    /* m = f 2^e, f in [0.5, 1) */
	q = (int64_t)llround(f * 2147483648.0);
	if (q == 2147483648LL) {
		q /= 2;
		e++;
	}
	if (e < -31) {                       /* below 2^-32: the product rounds to 0 */
		*mult = 0, *shift = 0;
		return;
	}
	if (e > 30)
		e = 30, q = INT32_MAX;           /* saturate; never met with real scales */
	*mult = (int32_t)q;
	*shift = e;
}

void
quant_weights(int8_t *qw, float *scale, const float *w, int co, long per)
{
	int c;
	long i;

	for (c = 0; c < co; c++) {
		const float *x = w + c * per;
		float m = 0;

		for (i = 0; i < per; i++)
			m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
		scale[c] = m > 0 ? m / 127 : 1;
		for (i = 0; i < per; i++) {
			double v = round(x[i] / scale[c]);

			qw[c * per + i] = (int8_t)(v < -127 ? -127 : v > 127 ? 127 : v);
		}
	}
}

double
quant_act(int act, double x)
{
	double t = x + 3 < 0 ? 0 : x + 3 > 6 ? 6 : x + 3;

	switch (act) {
	case NN_RELU: return x < 0 ? 0 : x;
	case NN_RELU6: return x < 0 ? 0 : x > 6 ? 6 : x;
	case NN_HSWISH: return x * t / 6;
	case NN_HSIGMOID: return t / 6;
	case QUANT_SIGMOID: return 1 / (1 + exp(-x));
	}
	return x;
}

void
quant_lut(int8_t *lut, int act, const struct qparam *in, const struct qparam *out)
{
	int v;

	for (v = -128; v < 128; v++)
		lut[v + 128] = quant_value(out, quant_act(act, quant_real(in, v)));
}

int32_t
quant_requant(int32_t acc, int32_t mult, int32_t shift)
{
	return k_mbqm(acc, mult, shift);
}
