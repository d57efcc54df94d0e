/* test_rng.c - the seeded RNG of rng.h: reproducible, seeds differ, the
 * uniform and normal streams have the right moments, rng_below and
 * rng_double keep the draws the tools were seeded with (one and two u32s)
 * and cover their ranges, rng_shuffle permutes reproducibly. */
#include <math.h>
#include <string.h>

#include "rng.h"
#include "unit.h"

static void
test_reproducible(void)
{
	struct nn_rng a, b, c;
	int i, same = 1, differ = 0;

	nn_rng_seed(&a, 42);
	nn_rng_seed(&b, 42);
	nn_rng_seed(&c, 43);
	for (i = 0; i < 1000; i++) {
		uint32_t x = nn_rng_u32(&a);

		same &= x == nn_rng_u32(&b);
		differ += x != nn_rng_u32(&c);
	}
	CHECK(same);
	CHECK(differ > 990);
	/* seed 0 must not be the all-zero state that xoroshiro never leaves */
	nn_rng_seed(&a, 0);
	CHECK(nn_rng_u32(&a) != 0 || nn_rng_u32(&a) != 0);
}

static void
test_uniform(void)
{
	struct nn_rng r;
	double s = 0, s2 = 0;
	int i, n = 200000, inside = 1, bins[10] = { 0 }, ok = 1;

	nn_rng_seed(&r, 7);
	for (i = 0; i < n; i++) {
		float u = nn_rng_uniform(&r);

		inside &= u >= 0.0f && u < 1.0f;
		bins[(int)(u * 10)]++;
		s += u;
		s2 += (double)u * u;
	}
	CHECK(inside);
	CHECK_NEAR(s / n, 0.5, 0.005);
	CHECK_NEAR(s2 / n - (s / n) * (s / n), 1.0 / 12, 0.002);
	for (i = 0; i < 10; i++)
		ok &= fabs(bins[i] - n / 10.0) < 0.03 * n / 10;
	CHECK(ok);
}

static void
test_normal(void)
{
	struct nn_rng r;
	double s = 0, s2 = 0, s4 = 0;
	int i, n = 200000, finite = 1, tail = 0;

	nn_rng_seed(&r, 11);
	for (i = 0; i < n; i++) {
		double x = nn_rng_normal(&r);

		finite &= isfinite(x);
		tail += fabs(x) > 1.959964;
		s += x;
		s2 += x * x;
		s4 += x * x * x * x;
	}
	CHECK(finite);
	CHECK_NEAR(s / n, 0.0, 0.01);
	CHECK_NEAR(s2 / n, 1.0, 0.02);
	CHECK_NEAR(s4 / n, 3.0, 0.1);          /* kurtosis of a Gaussian */
	CHECK_NEAR((double)tail / n, 0.05, 0.003);
}

static void
test_below(void)
{
	struct nn_rng a, b;
	long hist[7] = { 0 };
	int i, ok = 1, same = 1;

	nn_rng_seed(&a, 9);
	nn_rng_seed(&b, 9);
	for (i = 0; i < 70000; i++) {
		int k = rng_below(&a, 7);
		uint32_t u = nn_rng_u32(&b);

		ok &= k >= 0 && k < 7;
		same &= k == (int)(((uint64_t)u * 7) >> 32);
		if (k >= 0 && k < 7)
			hist[k]++;
	}
	CHECK(ok);
	CHECK(same);
	for (i = 0; i < 7; i++)
		CHECK(hist[i] > 9500 && hist[i] < 10500);
	CHECK_EQ_L(rng_below(&a, 1), 0);
	/* rng_double: two draws, 53 bits, in [0, 1) */
	nn_rng_seed(&a, 10);
	nn_rng_seed(&b, 10);
	for (i = 0; i < 1000; i++) {
		double d = rng_double(&a);
		uint64_t hi = nn_rng_u32(&b) >> 5, lo = nn_rng_u32(&b) >> 6;

		same &= d == (hi * 67108864.0 + lo) / 9007199254740992.0 && d >= 0 && d < 1;
	}
	CHECK(same);
}

static void
test_shuffle(void)
{
	int32_t v[50], w[50], seen[50] = { 0 };
	struct nn_rng a;
	int i, moved = 0, perm = 1;

	for (i = 0; i < 50; i++)
		v[i] = w[i] = i;
	nn_rng_seed(&a, 3);
	rng_shuffle(v, 50, &a);
	nn_rng_seed(&a, 3);
	rng_shuffle(w, 50, &a);
	CHECK(memcmp(v, w, sizeof(v)) == 0);
	for (i = 0; i < 50; i++) {
		moved += v[i] != i;
		if (v[i] >= 0 && v[i] < 50)
			seen[v[i]]++;
	}
	for (i = 0; i < 50; i++)
		perm &= seen[i] == 1;
	CHECK(perm);
	CHECK(moved > 40);
	rng_shuffle(v, 1, &a);
	rng_shuffle(v, 0, &a);
}

int
main(void)
{
	test_reproducible();
	test_uniform();
	test_normal();
	test_below();
	test_shuffle();
	return unit_done("test_rng");
}
