/*
 * schedule.h - the inference schedule of an EENN and its activation memory
 * plan: the one rule for what SRAM and flash an exported network needs
 * (eenn-export declares exactly these sizes; mac-count and eec-place
 * report them). formats/eenn-export.md and eenn-export(1) describe the
 * rule for users.
 *
 * Schedule. One image at a time, BN folded into the convolution before it,
 * activations fused into the op that produces them, tensors (C, H, W).
 * Segment i (0-based) is the backbone from exit i-1's features (segment 0:
 * from the input) to exit i's features, then exit head i, then the exit
 * decision: ops [seg_op[i], seg_op[i+1]). Running segments 0..i and nothing
 * else gives exit i's logits; nothing after the firing exit runs.
 *   SK_INPUT   normalise the raw image, zero-pad it to the resolution
 *   SK_CONV    convolution, groups 1 (1x1 expand, the first conv, head
 *              convs); SK_DW depthwise; SK_LINEAR a linear layer, which
 *              reads its (C, H, W) input flattened in that order
 *   SK_SE      squeeze-excite in place: GAP -> tmp0 (C), reduce + ReLU ->
 *              tmp1 (se_mid), expand + h-sigmoid -> tmp0, scale in
 *   SK_ADD     residual add in place: out += res
 *   SK_POOL    max-pool, window = stride = k
 *   SK_GAP     global average pool (C, H, W) -> (C)
 *   SK_EXIT    the exit decision; reads the logits
 * in_relu: the op applies a ReLU to its input as it reads it (an exit head
 * reading features the backbone also reads), so no extra buffer is needed.
 *
 * Memory plan. Every tensor is a buffer with a lifetime [first, last] in
 * op order: written by op first, last read by op last. Live at an op: its
 * input and output, a block input held for its residual add, the SE
 * vectors, the features an exit head reads while the head runs (the next
 * segment reads them too), the logits until the decision. Each buffer's
 * size is rounded up to SCHED_ALIGN elements and buffers are placed in one
 * static arena greedily by size (TFLite's arena planner): largest first,
 * each at the lowest offset where it overlaps no placed buffer whose
 * lifetime overlaps its own. arena_to[i] is the highest end of the buffers
 * segments 0..i use: a caller that never runs past exit i touches only
 * that much of the arena. Offsets are in elements; an element is 4 bytes
 * in f32 and 1 in int8 (int8 keeps the SE vectors and logits in int8
 * too), so an arena is elems x dtype size bytes.
 *
 * MCUNet counts max over layers of input + output. This plan differs on
 * purpose: the residual input, the exit features and the SE vectors are
 * live too (they must be somewhere), and the arena is a real placement, so
 * fragmentation counts; live_peak is the lower bound (the largest sum of
 * live buffers at one op) it is compared with.
 *
 * Constant data (flash besides code), per dtype:
 *   f32:  weights and biases (BN folded) 4 bytes each; the input table
 *         (256 floats per image channel: pixel -> normalised value);
 *         thresholds (B-1 doubles, compared as thr.h does).
 *   int8: weights 1 byte; per output channel of every conv / linear an
 *         int32 bias, an int32 multiplier and an int32 shift (12 bytes);
 *         a 256-byte table per LUT (h-swish, h-sigmoid, ReLU6, the exit
 *         confidence's sigmoid); the input table (256 bytes per image
 *         channel); thresholds (B-1 doubles).
 */
#ifndef SCHEDULE_H
#define SCHEDULE_H

#include "arch.h"

#define SCHED_ALIGN 4              /* elements: 16-byte f32, 4-byte int8 buffers */
#define SCHED_MAX_OPS 256
#define SCHED_MAX_BUFS 256

enum sched_kind { SK_INPUT, SK_CONV, SK_DW, SK_LINEAR, SK_SE, SK_ADD, SK_POOL,
	SK_GAP, SK_EXIT };
extern const char *const sched_kind_names[];

enum sched_dtype { SCHED_F32, SCHED_INT8, SCHED_NDTYPE };
extern const char *const sched_dtype_names[];   /* "f32", "int8", NULL */

struct sched_op {
	int kind;                  /* enum sched_kind */
	int seg;                   /* segment (= exit index, 0-based) */
	int head;                  /* 1: part of exit head seg */
	int ci, h, w;              /* input (C, H, W); SK_LINEAR: ci = C*H*W, h = w = 1 */
	int co, ho, wo;            /* output */
	int k, s, p;               /* kernel, stride, zero padding; SK_POOL: window */
	int act;                   /* enum nn_act applied to the output */
	int in_relu;               /* ReLU on the input as read */
	int se_mid;                /* SK_SE: reduced width */
	int bn;                    /* a BN follows, folded in: NAME.bn.* */
	int bias;                  /* the op has a bias (NAME.bias, or the BN's) */
	int conf;                  /* SK_LINEAR of a NACHOS exit: output co-1 is the
	                            * confidence logit */
	char name[80];             /* tensor prefix (model.h names): NAME.weight,
	                            * NAME.bias or NAME.bn.*; SK_SE: the se.fc prefix */
	char wname[80];            /* weight tensor name of a conv */
	int in, out, res;          /* buffers (-1 none); in place ops: out == in */
	int tmp[2];                /* SK_SE vectors */
};

struct sched_buf {
	long n;                    /* elements */
	long size;                 /* n rounded up to SCHED_ALIGN */
	long off;                  /* offset in the arena, elements */
	int first, last;           /* lifetime in ops */
};

struct sched {
	struct arch_net net;
	int img_ch;                /* channels of the raw image (1 for a grey
	                            * dataset feeding a 3-channel network) */
	int nop, nbuf, nseg;       /* nseg = net.nexit */
	struct sched_op op[SCHED_MAX_OPS];
	struct sched_buf buf[SCHED_MAX_BUFS];
	int seg_op[ARCH_EXITS + 2];      /* first op of each segment; [nseg] = nop */
	int logits[ARCH_EXITS + 1];      /* each exit's logits buffer */
	long arena;                      /* elements of the whole plan */
	long arena_to[ARCH_EXITS + 1];   /* elements segments 0..i use */
	long live_peak;                  /* largest sum of live buffer sizes */
	int peak_op;                     /* the op where it occurs */
	/* constant data counts (see above) */
	long n_weight;                   /* weight elements */
	long n_bias;                     /* f32 bias elements */
	long n_chan;                     /* output channels of every MAC op (int8
	                                  * bias, multiplier, shift each) */
	int n_lut;                       /* 256-entry tables (int8) */
};

/* The schedule and plan of net for raw images of img_ch channels (img_ch
 * = net->in_ch, or 1 when the network repeats a grey channel). Exits
 * EX_SOFTWARE if the net does not fit the fixed tables (it cannot for a
 * net of the search spaces). */
void sched_build(struct sched *s, const struct arch_net *net, int img_ch);

/* Is act (enum nn_act) a table in int8 (h-swish, h-sigmoid, ReLU6)? */
int sched_table_act(int act);

/* Drop the confidence outputs' tables (a network whose confidences were
 * not trained, which decides with c = 0). */
void sched_no_conf(struct sched *s);

/* Bytes of the activation arena, of the segments up to exit i, and of the
 * constant data, for a dtype. */
long sched_arena_bytes(const struct sched *s, enum sched_dtype dt);
long sched_arena_to_bytes(const struct sched *s, int i, enum sched_dtype dt);
long sched_const_bytes(const struct sched *s, enum sched_dtype dt);
/* Element size of a dtype. */
int sched_elem_bytes(enum sched_dtype dt);

/* Is buffer b live at op i? */
int sched_live(const struct sched *s, int b, int i);

#endif
