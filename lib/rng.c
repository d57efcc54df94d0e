/* rng.c - the seeded RNG (rng.h): splitmix64 seeds a xoroshiro128+ stream. */
#include <math.h>

#include "rng.h"

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void
nn_rng_seed(struct nn_rng *r, uint64_t seed)
{
	r->s[0] = splitmix64(&seed);
	r->s[1] = splitmix64(&seed);
	if (!r->s[0] && !r->s[1]) /* the one state xoroshiro cannot leave */
		r->s[1] = 1;
}

uint32_t
nn_rng_u32(struct nn_rng *r)
{
	uint64_t s0 = r->s[0], s1 = r->s[1], out = s0 + s1;

	s1 ^= s0;
	r->s[0] = rotl(s0, 24) ^ s1 ^ (s1 << 16);
	r->s[1] = rotl(s1, 37);
	return (uint32_t)(out >> 32); /* the high bits: the low ones are weak in '+' */
}

float
nn_rng_uniform(struct nn_rng *r)
{
	return (float)(nn_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

float
nn_rng_normal(struct nn_rng *r)
{
	/* Box-Muller; u1 in (0, 1] keeps the log finite. */
	double u1 = 1.0 - (nn_rng_u32(r) >> 8) / 16777216.0;
	double u2 = (nn_rng_u32(r) >> 8) / 16777216.0;

	return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

double
rng_double(struct nn_rng *r)
{
	uint64_t a = nn_rng_u32(r) >> 5, b = nn_rng_u32(r) >> 6;

	return (a * 67108864.0 + b) / 9007199254740992.0;
}

int
rng_below(struct nn_rng *r, int n)
{
	return (int)(((uint64_t)nn_rng_u32(r) * (uint64_t)n) >> 32);
}

void
rng_shuffle(int32_t *idx, long n, struct nn_rng *r)
{
	long i;

	for (i = n - 1; i > 0; i--) {
		uint64_t u = (uint64_t)nn_rng_u32(r) << 32 | nn_rng_u32(r);
		long j = (long)(u % (uint64_t)(i + 1));
		int32_t t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
	}
}
