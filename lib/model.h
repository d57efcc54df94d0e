/*
 * model.h - a network built from an arch_net (nachos-method(7) §1, §3, §7): the MobileNetV3
 * backbone at any width, its final head, and the intermediate exit heads
 * (NACHOS/EDANAS heads or AEBNAS branches), trained with the nn.h ops.
 *
 * Memory: three arenas allocated once by model_build. `param` holds every
 * parameter and BN running statistic, `grad` has the same layout (zero where
 * a tensor is a buffer), `act` holds every activation, BN batch statistic
 * and backward scratch, sized for max_batch (a smaller batch uses the front
 * of each buffer). Activations are channel-major (C, N, H, W) end to end;
 * only the heads' flatten / GAP give (N, D). Training stores what the
 * backward needs and little more: ReLUs run in place, and inside a block
 * only the convolution outputs are kept, the BN, activation and SE outputs
 * being rebuilt from them just before the backward that reads them. Eval
 * mode runs BN and activations in place. (OFA all-max, w1.0, 32x32x3,
 * batch 128: 185 MB of activations.)
 *
 * Tensor names are PyTorch state_dict names following OFA's MobileNetV3
 * (examples/torch/ofa_net.py builds the same module tree); the full list is
 * in formats/ckpt.md. Blocks are numbered by search slot + 1 (blocks.0 is
 * the fixed first block), exits by the stage they follow minus one
 * (exits.0 .. exits.3), so a name means the same layer in every subnet:
 *   first_conv.conv.weight, first_conv.bn.{weight,bias,running_mean,running_var}
 *   blocks.B.conv.inverted_bottleneck.{conv.weight,bn.*}      (B >= 1)
 *   blocks.B.conv.depth_conv.{conv.weight,bn.*}
 *   blocks.B.conv.depth_conv.se.fc.{reduce,expand}.{weight,bias}
 *   blocks.B.conv.point_linear.{conv.weight,bn.*}
 *   final_expand_layer.{conv.weight,bn.*}, feature_mix_layer.conv.weight,
 *   classifier.linear.{weight,bias}
 *   exits.E.{conv1,conv2,conv3,linear}.{weight,bias}           (NACHOS, EDANAS)
 *   exits.E.mods.J.{conv.weight,bn.*}, exits.E.linear.*        (AEBNAS)
 *
 * Exit heads (exits counted in order, the final head last):
 *   NACHOS/EDANAS: max-pool (window from placement, if > 1), ReLU,
 *     conv3x3->32 (bias), ReLU, conv3x3->64, ReLU, conv3x3->128, ReLU,
 *     flatten, linear -> nout (K+1 for NACHOS: the last output is the
 *     confidence logit; K for EDANAS). Pooling before the ReLU equals the
 *     nachos-method(7)'s order (max and ReLU commute) and is cheaper.
 *   AEBNAS: per module conv kxk stride 2 pad k/2 (no bias), BN, ReLU,
 *     optional 2x2 max-pool (when the map is at least 2x2); GAP, linear -> K.
 *   Final: final_expand 1x1 conv BN h-swish, GAP, feature_mix 1x1 conv
 *     (no bias) h-swish, dropout, linear -> K.
 *
 * Initialisation (model_init, OFA's "he_fout"): conv weights
 * N(0, 2/(k*k*out_channels)), conv biases 0; BN gamma 1, beta 0, running
 * mean 0, running var 1; linear weights U(-1/sqrt(in), 1/sqrt(in)), biases 0.
 *
 * MACs: every forward counts the MACs it runs (nachos-method(7) §2 rule) into
 * macs_to[] / macs_head[]; test_model checks them against arch_net.
 *
 * Typical step:
 *   model_forward(m, x, N, 1);  ... losses from m->logits[i] ...
 *   model_zero_grad(m); model_backward(m, dlogits);  ... optimiser on
 *   m->param / m->grad using m->t[] flags ...
 * Weights written straight into m->param (a checkpoint, a supernet slice)
 * take effect at the next forward; nothing is cached from them, except
 * between model_pack and model_unpack (below).
 */
#ifndef MODEL_H
#define MODEL_H

#include <stdint.h>

#include "arch.h"
#include "nn.h"

/* model_build flags */
#define MODEL_BACKBONE_ONLY 1    /* the final head only (single exit) */

/* model_tensor flags */
#define MT_TRAIN  1              /* trainable parameter */
#define MT_DECAY  2              /* gets weight decay (conv / linear weights) */
#define MT_BUFFER 4              /* BN running statistic: no gradient */

#define MODEL_MAX_EXITS (ARCH_EXITS + 1)

struct model_tensor {
	char name[80];               /* PyTorch state_dict name */
	int ndim, shape[4];
	long off, n;                 /* offset (floats) in param and grad, size */
	int flags;                   /* MT_* */
};

struct model_op;                 /* a layer of the execution plan (model.c) */

struct model {
	struct arch_net net;
	int flags;                   /* MODEL_* given to model_build */
	int max_batch;
	int N;                       /* batch of the last forward */
	int train;                   /* mode of the last forward */
	int nexit;                   /* exits run: 1 if MODEL_BACKBONE_ONLY, else net.nexit */
	int nout[MODEL_MAX_EXITS];   /* logits per sample at each exit */
	int exit_at[MODEL_MAX_EXITS];/* index into net.ex[] of each exit run */
	float *logits[MODEL_MAX_EXITS]; /* (N, nout[i]) after a forward */

	float dropout;               /* before the final linear; 0 by default */
	float bn_momentum, bn_eps;   /* 0.1, 1e-5 */
	struct nn_rng rng;           /* dropout masks; seeded by model_init */
	uint64_t seed;               /* model_init's seed (kept in checkpoints) */

	/* Arenas. */
	float *param, *grad;         /* nparam floats each, tensor layout t[] */
	long nparam;
	float *act;                  /* nact floats */
	long nact;
	int ntensor;
	struct model_tensor *t;

	/* MACs counted by the last forward, per sample (nachos-method(7) §2 rule): the
	 * backbone up to each exit's point, and each head's own MACs. */
	long macs_to[MODEL_MAX_EXITS], macs_head[MODEL_MAX_EXITS];

	/* Execution plan (private to model.c). */
	int nop;
	struct model_op *op;
	int head_op[MODEL_MAX_EXITS + 1]; /* first op of each head; [nexit] = nop */
	float *feat[MODEL_MAX_EXITS];     /* each head's input (C, N, H, W) */
	int feat_c[MODEL_MAX_EXITS], feat_h[MODEL_MAX_EXITS], feat_w[MODEL_MAX_EXITS];
	float *dfeat[MODEL_MAX_EXITS];    /* gradient at each head's input */
	float *gbuf[2];                   /* backward scratch, largest activation each */
	float *rbuf[2];                   /* shortcut gradients, largest block output */
	float *se_scratch;                /* SE backward temporaries */
	float *virt[2];                   /* outputs recomputed in backward */
	int virt_op[2];                   /* the op whose output each holds */
	float *bn_var;                    /* a BN's batch variance, rebuilt */
	float *col;                       /* im2col scratch */
	const float *x;                   /* input of the last forward */

	/* Incremental forward (model_step_*). */
	int feat_op[MODEL_MAX_EXITS];     /* last backbone op writing feat[i], eval mode */
	int step_op;                      /* next backbone op to run */
	int step_exit;                    /* last exit run, -1 before the first */
	long step_macs;                   /* MACs per sample run since model_step_begin */
	long macs_run;                    /* MACs run over the batch (op MACs x N) */

	/* Latency profile (lat.h): the first op of each backbone block
	 * ([nblk]: head_op[0]; ops before blk_op[0] are the first conv), and,
	 * when prof is set (the caller's, 1 + nblk + nexit doubles),
	 * model_step_exit adds the wall seconds of each part it runs: [0] the
	 * first conv, [1 + b] block b, [1 + nblk + e] head e. */
	int blk_op[ARCH_MAX_BLOCKS + 1];
	double *prof;

	float *pack;                      /* model_pack's copies, or NULL */
	long npack;                       /* their floats */
};

/* Build the network of net for batches up to max_batch; flags MODEL_*.
 * Exits EX_SOFTWARE if memory runs out. Parameters are zero until
 * model_init or a checkpoint load. */
void model_build(struct model *m, const struct arch_net *net, int flags, int max_batch);
void model_free(struct model *m);
/* He-fout initialisation (see above) from seed; seeds the dropout RNG. */
void model_init(struct model *m, uint64_t seed);

/* The tensor called name, or NULL. */
struct model_tensor *model_tensor(const struct model *m, const char *name);
void model_zero_grad(struct model *m);

/* Forward of the whole network on x (in_ch, N, res, res), channel-major;
 * train = 1 uses batch statistics (updating the running ones) and dropout.
 * Fills m->logits[i] (N, nout[i]) for every exit i < m->nexit. */
void model_forward(struct model *m, const float *x /* (Cin, N, H, W) */, int N, int train);
/* Backward after a train-mode forward: dlogits[i] (N, nout[i]) is the loss
 * gradient at exit i, NULL for none. Accumulates into m->grad. */
void model_backward(struct model *m, const float *const *dlogits);

/* Split forward for a frozen backbone: model_forward_backbone computes every
 * head's input features, model_forward_heads runs the heads from them
 * (model_forward is the two in turn). model_feature(m, i) is exit i's input
 * (feat_c[i], N, feat_h[i], feat_w[i]) and may be overwritten with cached
 * features before model_forward_heads (set m->N first, or call
 * model_forward_backbone). model_backward_heads is model_backward that stops
 * at the features: only head parameters get gradients. */
void model_forward_backbone(struct model *m, const float *x /* (Cin, N, H, W) */, int N, int train);
void model_forward_heads(struct model *m, int train);
void model_backward_heads(struct model *m, const float *const *dlogits);
float *model_feature(struct model *m, int i);

/*
 * Batch-1 inference with weights that no longer change: model_pack copies
 * the weights of the 1x1 convolutions on maps of 2 to NN_PACK_N pixels
 * into nn_gemm_packed's panels, which eval-mode forwards then use while
 * a layer's product is at most NN_PACK_N wide (small batches on 2x2 and
 * 4x4 maps: 1.5-2x faster there when the weights are in cache), and
 * computes every BN's eval affine once (nn_bn_eval_coef: the same bits).
 * At batch 1, a depthwise or k x k convolution, or a 1x1 one on a map of
 * up to NN_PACK_N pixels, and the BN after it run as one: the BN folded
 * into a packed copy of the weights and the exported code's kernels
 * (nn_b1_conv_fwd), the same arithmetic as eenn-export's C. Until
 * model_unpack (or model_free), writes into m->param do not reach those
 * layers in eval mode: pack again after them. The outputs differ from the
 * unpacked forward's by rounding only. Training forwards never use the
 * copies.
 */
void model_pack(struct model *m);
void model_unpack(struct model *m);

/*
 * Incremental eval-mode forward, for early-exit inference: nothing past the
 * exit asked for is computed.
 *	model_step_begin(m, x, N);
 *	lg = model_step_exit(m, 0);   ... decide each sample from lg ...
 *	model_step_keep(m, keep, n);  (optional: drop the samples that left)
 *	lg = model_step_exit(m, 1);   ...
 * model_step_exit(m, i) runs the backbone from where it stopped up to exit
 * i's features, then head i alone, and returns its logits (N, nout[i]),
 * N the current batch; exits go in increasing order and the heads of exits
 * skipped are not run. The logits equal model_forward's in eval mode bit
 * for bit at the same batch. m->step_macs counts the MACs per sample of the
 * ops run so far (nachos-method(7) §2; after stepping through exits 0..i, arch_net's
 * spent_i), m->macs_run the MACs run over the whole batch (each op's MACs
 * times the batch it ran on). model_step_keep compacts the backbone state
 * (the features of the last exit run, the only tensor later ops read) to
 * the samples keep[0..n-1] (ascending indices into the current batch,
 * 1 <= n <= N), so later exits run on those n samples only.
 */
void model_step_begin(struct model *m, const float *x /* (Cin, N, H, W) */, int N);
const float *model_step_exit(struct model *m, int i);
void model_step_keep(struct model *m, const int *keep /* (n) */, int n);

#endif
