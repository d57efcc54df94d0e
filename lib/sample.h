/*
 * sample.h - random architectures of the OFA MobileNetV3 space
 * (nachos-method(7) §1) as ofa-sample draws them: uniformly per gene, as
 * OFA's sampler does; the set of genomes drawn so far, to keep a sample
 * free of duplicates; the size of the space; and whether the smallest
 * networks of the space fit the hardware limits at all.
 */
#ifndef SAMPLE_H
#define SAMPLE_H

#include <stddef.h>

#include "arch.h"
#include "hw.h"
#include "rng.h"

/* Draw the genes of a (space, width, resolution, in_ch, classes kept) and
 * make it canonical. At least one intermediate exit is on: the all-off
 * exit vector is drawn again. */
void sample_arch(struct arch *a, struct nn_rng *r);

/* Distinct canonical archs of a space, as a double (it exceeds 2^64). */
double sample_space_size(enum arch_space s);

/* Open-addressing set of canonical genomes, one byte per gene. */
struct sample_set {
	unsigned char *genomes; /* (cap_n + 1, glen): the genomes added, in order */
	long *slot;             /* (mask + 1): index into genomes, -1 = empty */
	long n, cap_n, mask;
	int glen;
};

/* A set for up to n genomes of space s; -1 when memory runs out. */
int sample_set_init(struct sample_set *s, enum arch_space sp, long n);
/* Add the genome of a; 1 if it is new, 0 if it was there already, -1 when
 * the set already holds the n it was made for. */
int sample_set_add(struct sample_set *s, const struct arch *a);
void sample_set_free(struct sample_set *s);

/* 1 when some network of base's space (width, resolution, channels,
 * classes of base) can fit l: one of the smallest ones, the all-min
 * backbone with a single exit, does; a network has at least their weights
 * and activations. 0 when all of them break l, with the reason of the last
 * one in why (n bytes). */
int sample_min_fits(const struct hw_limits *l, struct arch base, char *why, size_t n);

#endif
