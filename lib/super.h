/*
 * super.h - the elastic OFA MobileNetV3 supernet (nachos-method(7) §1): one weight set
 * for the largest network (k7 e6 d4 at a width) plus, per block slot, the
 * learned kernel-transform matrices (7to5: 25x25, 5to3: 9x9, identity at
 * start). Any subnet of the space is a model (model.h) whose tensors are
 * extracted from it:
 *   - depthwise kernels: the centre of the 7x7 kernel through the matrices
 *     (nn_ktrans_fwd), 7 -> 5 -> 3;
 *   - expand, depthwise, SE and BN tensors: the first `mid` (and first
 *     `se_mid`) channels;
 *   - blocks: the first d of each stage (names are per slot, so a subnet
 *     tensor has the supernet tensor of the same name);
 *   - everything else (first conv, first block, final head) whole.
 * Exit heads (issue 18): a supernet built with heads holds, at every exit
 * point E (after stages 1-4) and every max-pool window P the placement rule
 * can give there (1, 2, 4, ... up to the feature map at the supernet's
 * resolution), one NACHOS head exits.E.poolP.{conv1,conv2,conv3,linear}.*
 * (K+1 outputs). A subnet's exit E with window P gets that head: whole for
 * a NACHOS head, its first K linear outputs for an EDANAS head (no
 * confidence); AEBNAS branches and a supernet without heads (older
 * checkpoints, ofa-train --no-exits) leave exit heads alone.
 *
 * Training runs on extracted subnet models: extract, forward and backward
 * on the subnet, then super_backprop (the adjoint of extraction) adds the
 * subnet's gradients into the supernet's, matrices included; the optimiser
 * then steps the supernet. Channels are taken from the front, so the
 * channels every subnet shares come first.
 *
 * The supernet checkpoint is a ckpt record (ckpt.h) of the all-max arch
 * whose tensors are the model's plus the matrices, named as OFA names them:
 *   blocks.B.conv.depth_conv.conv.7to5_matrix  (25, 25)
 *   blocks.B.conv.depth_conv.conv.5to3_matrix  (9, 9)
 * (formats/supernet.md).
 */
#ifndef SUPER_H
#define SUPER_H

#include <stddef.h>

#include "arch.h"
#include "ckpt.h"
#include "data.h"
#include "model.h"

#define SUPER_NKT (2 * ARCH_SLOTS)   /* 7to5 and 5to3 per slot */

struct super {
	struct arch a;               /* the all-max arch (k7 e6 d4, all exits) */
	struct model m;              /* its backbone: parameters only (max_batch 1) */
	/* Kernel-transform matrices, a second arena: kt[2*s] is slot s's 7to5,
	 * kt[2*s+1] its 5to3; off into ktp / ktg. */
	struct model_tensor kt[SUPER_NKT];
	float *ktp, *ktg;
	long nkt;                    /* floats in ktp and ktg */
	/* Exit heads, a third arena (nh = 0: none): ht[] named
	 * exits.E.poolP.*, off into hp / hg. */
	int nh;
	struct model_tensor *ht;
	float *hp, *hg;
	long nhp;                    /* floats in hp and hg */
};

/* Most head tensors a supernet holds: 8 per head, up to 8 windows per exit. */
#define SUPER_MAX_HT (ARCH_EXITS * 8 * 8)

/* The supernet for width, resolution, input channels and classes, with
 * exit heads when heads is 1. Its parameters are zero until super_init or
 * super_load. */
void super_build(struct super *s, double width, int res, int in_ch, int classes, int heads);
void super_free(struct super *s);
/* He-fout initialisation of the weights and heads (model_init), identity
 * matrices. */
void super_init(struct super *s, uint64_t seed);
void super_zero_grad(struct super *s);

/* Can a be extracted from s? Returns NULL, or the arch key that differs
 * (width, in_ch, classes) with what is wrong in why. Depth, kernel, expand,
 * exits and resolution are free. */
const char *super_check(const struct super *s, const struct arch *a, char *why,
    size_t n);
/* Fill sub's backbone and final head (parameters and BN statistics) from s,
 * and its exit heads from s's heads of the same windows (see above). sub is
 * a model of a checked arch. An exit whose head s does not hold in that
 * window and shape (a subnet at another resolution than s's) is left
 * alone; super_heads_fit tells. */
void super_extract(struct model *sub, const struct super *s);
/* Does s hold the head of every intermediate exit of sub (NACHOS or
 * EDANAS heads at s's resolution)? */
int super_heads_fit(const struct super *s, const struct model *sub);
/* The adjoint of super_extract on the trainable tensors: add sub's
 * gradients into s's gradients (matrices included). */
void super_backprop(struct super *s, const struct model *sub);
/* Write sub's BN running statistics into the leading slices of s's. */
void super_store_stats(struct super *s, const struct model *sub);

/* Progressive shrinking's channel sorting (OFA re_organize_middle_weights):
 * in every elastic block, order the middle channels by importance, the L1
 * norm of their point_linear weights, largest first, so the first `mid`
 * channels a smaller expand keeps are the most important ones. The
 * expand conv and BN, depthwise conv and BN, SE and project tensors are
 * permuted together (the all-max network computes the same function);
 * buf (NULL for none) is permuted alike: an optimiser's buffers laid out
 * like s->m.param. */
void super_sort_channels(struct super *s, float *buf /* (s->m.nparam) */);

/* BN recalibration (OFA's set_running_statistics): reset every BN running
 * statistic of m and recompute it as the cumulative average over the
 * batches of the n samples idx of d (train-mode forwards, no augmentation,
 * no update of the weights). Batches of at most m->max_batch samples; C, R
 * as data_batch. */
void super_bn_calib(struct model *m, const struct data_set *d,
    const int32_t *idx /* (n) */, long n, const struct data_norm *nm);

/* Checkpoints. super_tables gives the tensor tables of s under prefix:
 * [0] the model's tensors with data at mbase, [1] the matrices at kbase,
 * [2] the heads at hbase when s has heads (s->m.param, s->ktp and s->hp for
 * the weights; an optimiser's buffers for its state); returns their count,
 * 2 or 3. super_save writes the weights plus the nmore tables of more;
 * extra (NULL for none) adds keys to the record. */
int super_tables(struct ckpt_table *tab /* (3) */, const struct super *s,
    const char *prefix, float *mbase, float *kbase, float *hbase);
void super_save(const char *path, const struct super *s,
    const struct ckpt_table *more /* (nmore) */, int nmore, long step,
    const msgpack_object *extra);
/* Build s from an open checkpoint and load its weights (other tensors of
 * the file, e.g. optimiser state, are left for the caller); fails naming
 * the file and key when it is not a supernet. A checkpoint without exit
 * heads (written before issue 18, or by --no-exits) gives s without heads;
 * one with only some of them fails. super_load: open, this, close. */
void super_open(struct super *s, const struct ckpt *c);
void super_load(struct super *s, const char *path);

#endif
