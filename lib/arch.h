/*
 * arch.h - the OFA MobileNetV3 search space (nachos-method(7) §1), the exits of an EENN
 * (nachos-method(7) §3, §7), genome <-> arch conversion, the arch record keys, and the
 * network description every tool shares: layer shapes, MACs (nachos-method(7) §2) and
 * exit placement (Algorithm 1).
 */
#ifndef ARCH_H
#define ARCH_H

#include "rec.h"

#define ARCH_STAGES 5
#define ARCH_SLOTS 20        /* 4 per stage */
#define ARCH_PER_STAGE 4
#define ARCH_EXITS 4         /* intermediate exit points: after stages 1-4 */
#define ARCH_MODS 2          /* AEBNAS modules per exit branch */
#define ARCH_MAX_BLOCKS (1 + ARCH_SLOTS)
#define ARCH_MAX_GENOME 80

enum arch_space { ARCH_NACHOS, ARCH_EDANAS, ARCH_AEBNAS };
extern const char *const arch_space_names[];     /* NULL-terminated */
extern const int arch_ks_set[3], arch_e_set[3], arch_d_set[3];
extern const double arch_th_set[3];              /* 0.1, 0.2, 1 (no exit) */

struct arch_mod {               /* one AEBNAS exit-branch module */
	int present;            /* module 1 is always present */
	int k;                  /* 3 or 5 */
	int wm;                 /* output width = wm x input width, 1 or 2 */
	int pool;               /* 2x2 max-pool after the module */
};

struct arch {
	enum arch_space space;
	int ks[ARCH_SLOTS], e[ARCH_SLOTS], d[ARCH_STAGES];
	int exits[ARCH_EXITS];            /* 1 = exit after stage i+1 */
	int th[ARCH_EXITS];               /* edanas/aebnas: index into arch_th_set */
	struct arch_mod mod[ARCH_EXITS][ARCH_MODS]; /* aebnas */
	double width;
	int resolution, in_ch, classes;
};

/* The tools' defaults before options: the NACHOS space, width 1.0, 32x32x3
 * input, 10 classes; genes and exits zero. */
void arch_defaults(struct arch *a);
/* The all-min (k3 e3 d2) or all-max (k7 e6 d4) arch of a space, all exits on. */
void arch_extreme(struct arch *a, enum arch_space s, int max);
/* Set unused genes (slots past d, branches of disabled exits, absent
 * module 2) to their first value, so equal networks have equal genomes. */
void arch_canonical(struct arch *a);

/* Genome: the integer vector the surrogates and NSGA-II see (formats/arch).
 * [0,5) d index, [5,25) k index, [25,45) e index, then nachos: 4 exit bits;
 * edanas: 4 threshold indices; aebnas: 4 threshold indices and 7 branch
 * genes per exit (m1 k, m1 wm, m1 pool, m2 present, m2 k, m2 wm, m2 pool). */
int arch_genome_len(enum arch_space s);
/* Inclusive bounds of each gene. */
void arch_genome_bounds(enum arch_space s, int *lo, int *hi);
void arch_to_genome(const struct arch *a, int *g);
/* Fills the genes of a (space, width, resolution, in_ch, classes are kept).
 * Returns 0, or -1 with the offending gene's index in *bad. */
int arch_from_genome(struct arch *a, const int *g, int *bad);

/* The first gene where genome rec does not describe the network of
 * genome net (both of space s), or -1. EDANAS and AEBNAS threshold genes
 * leave the weights alone: thresh-tune's choice may change them, even to
 * "1, no exit" for an exit net has (whose branch genes then do not
 * count); an exit net lacks cannot be turned on. */
int arch_genome_mismatch(enum arch_space s, const int *net, const int *rec);
/* Make g (any integers) the canonical genome of a valid EENN of base's
 * space: genes clamped into their bounds, the last intermediate exit turned
 * on when none is (NSGA-II's repair). */
void arch_genome_repair(const struct arch *base, int *g);

/* Read and check the arch keys of record m (ks, e, d, exits, ... or, when
 * ks is absent, genome). Bad values fail via rec_fail. */
void arch_read(struct arch *a, const struct rec_in *r, const msgpack_object *m);
/* arch_read of an "arch" or "eenn" record (an eenn record is read again
 * from its arch keys); a record of any other type fails on its "type". */
void arch_read_typed(struct arch *a, const struct rec_in *r, const msgpack_object *m);
/* Put the arch keys (all of them, genome included). */
void arch_put(struct rec_out *o, const struct arch *a);

enum arch_act { ACT_NONE, ACT_RELU, ACT_HSWISH };

struct arch_block {             /* one MBConv block of the backbone */
	int stage;              /* 0 = first block, 1..5 */
	int slot;               /* search slot 0..19, -1 for the first block */
	int cin, cout, mid;     /* first block: mid == cin and no expand conv */
	int k, stride, act, se, se_mid, residual;
	int hin, win, hout, wout;
};

struct arch_exit {
	int stage;              /* backbone stage it follows (1..4), 5 = final head */
	int after;              /* index in blk[] of the block it follows */
	int c, h, w;            /* feature map it reads */
	int pool;               /* max-pool window in front (1 = none) */
	int hp, wp;             /* map after the pool */
	int pool_failed;        /* placement rule could not make cost increase */
	int nout;               /* linear outputs: K+1 with a confidence, else K */
	long head_macs, head_params;
	long cost;              /* Eq. 13: backbone to here + this head */
	long spent;             /* backbone to here + heads 1..this */
};

struct arch_net {
	struct arch a;
	int res, in_ch, classes;
	int first_ch, stage_w[ARCH_STAGES + 1];  /* [0]: first block */
	int final_expand, feature_mix;
	int first_h;                              /* map after the first conv */
	int nblk;
	struct arch_block blk[ARCH_MAX_BLOCKS];
	long blk_macs[ARCH_MAX_BLOCKS];           /* MACs of each block */
	long first_macs, final_macs;              /* first conv; final expand + mix + linear */
	long macs_backbone, params_backbone;      /* the plain single-exit network */
	int nexit;                                /* B, including the final head */
	struct arch_exit ex[ARCH_EXITS + 1];
};

/* Build the network description of a, and its exits with the placement
 * rule for NACHOS/EDANAS heads. */
void arch_net_build(struct arch_net *n, const struct arch *a);
/* Take the intermediate exits in mask (bit i: n->ex[i]) out of n; the
 * others keep their heads as built, pools included (the placement rule
 * chose them beside the exits taken out), and their spent MACs follow.
 * n->a still has them. */
void arch_net_drop_exits(struct arch_net *n, unsigned mask);
/* Backbone MACs from the input up to and including block b. */
long arch_net_macs_to(const struct arch_net *n, int b);

/* One layer with MACs, for mac-count's table and the engine's counters. */
struct arch_layer {
	char name[48];          /* PyTorch-style module name */
	int cin, hin, win, cout, hout, wout;
	long macs, params;
	int exit;               /* 0 backbone, i = head of intermediate exit i (1-based) */
};
/* Enumerate every MAC-bearing layer (plus pools as 0-MAC rows) in order;
 * returns the count, writing at most max into out (out may be NULL). */
int arch_net_layers(const struct arch_net *n, struct arch_layer *out, int max);
/* Room for the layers of a net of the search spaces (callers still check). */
#define ARCH_MAX_LAYERS 160
/* A layer as a record value: {name, in: [c,h,w], out: [c,h,w], macs, params}. */
void arch_pack_layer(msgpack_packer *pk, const struct arch_layer *l);

#endif
