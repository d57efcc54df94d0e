/* sample.c - random architectures, the genome set, the space size and the
 * smallest networks' fit (sample.h). */
#include "sample.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void
sample_arch(struct arch *a, struct nn_rng *r)
{
	int i, j, any;

	/* The order of the draws is the order of the tool's output since
	 * its first version: keep it, or every seeded sample changes. */
	for (i = 0; i < ARCH_STAGES; i++)
		a->d[i] = arch_d_set[rng_below(r, 3)];
	for (i = 0; i < ARCH_SLOTS; i++)
		a->ks[i] = arch_ks_set[rng_below(r, 3)];
	for (i = 0; i < ARCH_SLOTS; i++)
		a->e[i] = arch_e_set[rng_below(r, 3)];
	do { /* an EENN needs one intermediate exit: resample the all-off vector */
		for (any = 0, i = 0; i < ARCH_EXITS; i++) {
			if (a->space == ARCH_NACHOS)
				a->exits[i] = rng_below(r, 2);
			else
				a->exits[i] = (a->th[i] = rng_below(r, 3)) != 2;
			any |= a->exits[i];
		}
	} while (!any);
	for (i = 0; i < ARCH_EXITS; i++)
		for (j = 0; j < ARCH_MODS; j++) {
			struct arch_mod *m = &a->mod[i][j];

			m->present = 1;
			if (a->space != ARCH_AEBNAS)
				continue;
			m->k = rng_below(r, 2) ? 5 : 3;
			m->wm = rng_below(r, 2) + 1;
			m->pool = rng_below(r, 2);
			if (j > 0)
				m->present = rng_below(r, 2);
		}
	arch_canonical(a);
}

double
sample_space_size(enum arch_space s)
{
	double stage = 0, per_exit;
	int i;

	/* A stage of depth d: 9 (k, e) pairs per block; slots past d unused. */
	for (i = 0; i < 3; i++)
		stage += pow(9, arch_d_set[i]);
	if (s == ARCH_NACHOS)
		return pow(stage, ARCH_STAGES) * (pow(2, ARCH_EXITS) - 1);
	/* An on exit: 2 thresholds; aebnas adds 8 module-1 x (1 + 8 module-2). */
	per_exit = s == ARCH_AEBNAS ? 2 * 8 * 9 : 2;
	return pow(stage, ARCH_STAGES) * (pow(1 + per_exit, ARCH_EXITS) - 1);
}

/* FNV-1a over the genome bytes. */
static uint64_t
genome_hash(const unsigned char *g /* (n) */, int n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int i;

	for (i = 0; i < n; i++)
		h = (h ^ g[i]) * 0x100000001b3ULL;
	return h;
}

int
sample_set_init(struct sample_set *s, enum arch_space sp, long n)
{
	long cap;

	/* At most half full, so probes stay short. */
	for (cap = 16; cap < 2 * n; cap *= 2)
		;
	s->glen = arch_genome_len(sp);
	s->n = 0;
	s->cap_n = n;
	s->mask = cap - 1;
	s->genomes = malloc((size_t)(n + 1) * s->glen);
	s->slot = malloc(cap * sizeof(*s->slot));
	if (s->genomes == NULL || s->slot == NULL) {
		sample_set_free(s);
		return -1;
	}
	memset(s->slot, 0xff, cap * sizeof(*s->slot));
	return 0;
}

int
sample_set_add(struct sample_set *s, const struct arch *a)
{
	int g[ARCH_MAX_GENOME], i;
	unsigned char *gb;      /* (glen): the candidate, in the spare row */
	long h;

	if (s->n >= s->cap_n)
		return -1;
	gb = s->genomes + s->n * s->glen;
	arch_to_genome(a, g);
	for (i = 0; i < s->glen; i++)
		gb[i] = (unsigned char)g[i];
	for (h = (long)(genome_hash(gb, s->glen) & (uint64_t)s->mask); s->slot[h] >= 0;
	    h = (h + 1) & s->mask)
		if (memcmp(s->genomes + s->slot[h] * s->glen, gb, s->glen) == 0)
			return 0;
	s->slot[h] = s->n++;
	return 1;
}

void
sample_set_free(struct sample_set *s)
{
	free(s->genomes);
	free(s->slot);
	s->genomes = NULL;
	s->slot = NULL;
}

int
sample_min_fits(const struct hw_limits *l, struct arch a, char *why, size_t n)
{
	int i, j;

	if (!hw_limited(l))
		return 1;
	arch_extreme(&a, a.space, 0);
	for (j = 0; j < ARCH_EXITS; j++) {
		for (i = 0; i < ARCH_EXITS; i++) {
			a.exits[i] = i == j;
			if (a.space != ARCH_NACHOS)
				a.th[i] = i == j ? 0 : 2;   /* 2: threshold 1, no exit */
		}
		arch_canonical(&a);
		if (hw_arch_violation(&a, l, why, n) <= 0)
			return 1;
	}
	return 0;
}
