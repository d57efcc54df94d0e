/*
 * rng.h - the one seeded RNG: splitmix64 seeds a xoroshiro128+ stream (the
 * high 32 bits of each output). Every random draw of nachos (weights,
 * augmentation, splits, sampling, the search) goes through these calls
 * with an explicit state, so a run repeats from its seeds.
 *
 * The engine's nn_rng_* names are kept: the engine draws dropout masks and
 * initial weights with them.
 */
#ifndef RNG_H
#define RNG_H

#include <stdint.h>

struct nn_rng { uint64_t s[2]; };
void nn_rng_seed(struct nn_rng *r, uint64_t seed);
uint32_t nn_rng_u32(struct nn_rng *r);
float nn_rng_uniform(struct nn_rng *r);          /* [0, 1), 24 bits: one draw */
float nn_rng_normal(struct nn_rng *r);           /* N(0, 1): two draws */

/* Uniform double in [0, 1) with 53 random bits: two draws. */
double rng_double(struct nn_rng *r);
/* Uniform integer in [0, n), 1 <= n < 2^31: the high word of one draw times
 * n (bias below n / 2^32). */
int rng_below(struct nn_rng *r, int n);
/* Fisher-Yates shuffle of idx in place; two draws per swap make the index
 * uniform for any n below 2^63. */
void rng_shuffle(int32_t *idx /* (n) */, long n, struct nn_rng *r);

#endif
