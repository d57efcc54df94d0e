/*
 * nn.h - the engine's operations, forward and backward, over float32.
 *
 * Layout: activations are channel-major, (C, N, H, W): element (c, n, y, x)
 * sits at ((c*N + n)*H + y)*W + x. A 1x1 convolution over the whole batch is
 * then one GEMM, and batch norm runs over contiguous memory. Feature
 * matrices fed to linear layers are row-major (N, D) (see nn_flatten).
 * Weights use PyTorch's layouts: conv (Co, Ci, k, k), depthwise (C, 1, k, k),
 * linear (O, D).
 *
 * Conventions (llm.c): arguments are out, in, weights, sizes; backward
 * ACCUMULATES (+=) into every gradient it is given and the caller zeroes;
 * a NULL gradient pointer means "not needed". Every fast kernel has a plain
 * reference twin nn_ref_* with the same signature, used by the tests.
 */
#ifndef NN_H
#define NN_H

#include <stdint.h>

#include "rng.h"

enum nn_act { NN_ID, NN_RELU, NN_RELU6, NN_HSWISH, NN_HSIGMOID };

/* Threads of the engine's kernels: the caller and n - 1 helpers of the
 * engine's own pool (nn_par.c says why not OpenMP's); OpenBLAS is set to
 * one thread and nn_gemm splits GEMMs over the pool. Results do not depend
 * on n: every op splits its work the same way whatever the threads, and a
 * task's result does not depend on the thread that runs it. */
void nn_threads(int n);
int nn_nthreads(void);
/* Run fn(ctx, i) for every i in [0, n) over the pool, the calling thread
 * included; returns when all are done. Tasks are claimed one at a time, so
 * a thread the OS does not run delays only the task it holds. Serial when
 * work (elements touched, about) is below NN_PAR, with one thread, inside
 * a task, or while the caller alone measures faster (a busy machine). */
void nn_par(long n, long work, void (*fn)(void *ctx, long i), void *ctx);
/* With on = 0 every job that may go parallel runs with the helpers; with
 * on = 1 (the default) the pool runs jobs the way it measured faster
 * (nn_par.c), starting afresh with the helpers. For tests. */
void nn_par_adapt(int on);

/* Row-major C (M, N) = alpha * op(A) op(B) + beta * C, op = transpose if
 * ta / tb; cblas_sgemm split over the engine's threads, except skinny
 * products (N <= 8 with A not transposed, or one row times B^T: batch-1
 * inference), which an own kernel computes without packing A. */
void nn_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
    const float *B, int ldb, float beta, float *C, int ldc);

/* Packed products (batch-1 inference of 1x1 convolutions on small maps):
 * nn_pack_a writes A (M, K) into nn_pack_size(M, K) floats of panels once,
 * then nn_gemm_packed computes C (M, N) = A B, B (K, N) row stride ldb,
 * C row stride ldc, each output summed over k in order; for N up to
 * NN_PACK_N (wider: nn_gemm). Ap must be 32-byte aligned. */
#define NN_PACK_N 16
long nn_pack_size(int M, int K);
void nn_pack_a(float *Ap, const float *A, int M, int K);
void nn_gemm_packed(float *C, const float *Ap, const float *B, int M, int N, int K,
    int ldb, int ldc);

/* Batch-1 inference (nn_b1.c): the exported code's float kernels.
 * nn_b1_pack writes w (co, per) into co * per floats in their layout
 * (blocks of 8 outputs, tap after tap, the block's outputs side by side);
 * nn_b1_conv_fwd computes out (co, ho, wo) = act(wp * in + b) for one
 * image in (ci, h, wd): a dense convolution (per = ci k k) or, dw, a
 * depthwise one (co = ci, per = k k), stride s, zero padding p, b (co) or
 * NULL. Each output sums the bias, then its taps by input channel, kernel
 * row and column. */
void nn_b1_pack(float *dst, const float *w, int co, long per);
/* BN (gamma g, beta be, running mean mu and var, eps) folded into w (co,
 * per) in place, as the engine's eval BN computes it: a = g / sqrt(var +
 * eps), w *= a, b (co) = be - mu a. */
void nn_b1_fold(float *w, float *b, const float *g, const float *be, const float *mu,
    const float *var, int co, long per, float eps);
void nn_b1_conv_fwd(float *out, const float *in /* (ci, h, wd) */, const float *wp,
    const float *b, int ci, int h, int wd, int co, int k, int s, int p, int dw, int act);

/* Convolution, groups = 1, square kernel k, stride s, zero padding p.
 * in (Ci, N, H, W) -> out (Co, N, Ho, Wo), Ho = (H + 2p - k)/s + 1.
 * w (Co, Ci*k*k), b (Co) or NULL. col: scratch of nn_conv_col_size floats
 * (unused for 1x1 stride 1 pad 0, which is one GEMM). */
long nn_conv_col_size(int N, int Ci, int H, int W, int k, int s, int p);
void nn_conv_fwd(float *out, const float *in, const float *w, const float *b,
    float *col, int N, int Ci, int H, int W, int Co, int k, int s, int p);
void nn_conv_bwd(float *din, float *dw, float *db, const float *dout,
    const float *in, const float *w, float *col,
    int N, int Ci, int H, int W, int Co, int k, int s, int p);

/* Depthwise convolution: in (C, N, H, W), w (C, k*k), pad k/2, stride s. */
void nn_dw_fwd(float *out, const float *in, const float *w,
    int N, int C, int H, int W, int k, int s);
void nn_dw_bwd(float *din, float *dw, const float *dout, const float *in,
    const float *w, int N, int C, int H, int W, int k, int s);

/* Elastic kernel (OFA): out (C, ko*ko) = centre ko x ko crop of
 * in (C, ki*ki) times M^T, M (ko*ko, ko*ko). */
void nn_ktrans_fwd(float *out, const float *in, const float *M, int C, int ki, int ko);
void nn_ktrans_bwd(float *din, float *dM, const float *dout, const float *in,
    const float *M, int C, int ki, int ko);

/* Batch norm over channel-major x (C, M), M = N*H*W.
 * Training: batch statistics (biased variance for normalising, unbiased for
 * the running variance), running = (1-momentum)*running + momentum*batch;
 * saves mean and rstd (C) for backward. Eval: running statistics. */
void nn_bn_fwd_train(float *out, float *mean, float *rstd, float *run_mean,
    float *run_var, const float *in, const float *gamma, const float *beta,
    int C, long M, float momentum, float eps);
void nn_bn_fwd_eval(float *out, const float *in, const float *gamma,
    const float *beta, const float *run_mean, const float *run_var,
    int C, long M, float eps);
void nn_bn_bwd(float *din, float *dgamma, float *dbeta, const float *dout,
    const float *in, const float *mean, const float *rstd, const float *gamma,
    int C, long M);

/* Batch norm and an activation fused: one pass less over memory each way.
 * Same results as nn_bn_fwd_* then nn_act_fwd; the backward takes dout at
 * the activation's output and recomputes the BN output from in (beta is
 * needed for that; it may be NULL for NN_ID). */
void nn_bn_act_fwd_train(float *out, float *mean, float *rstd, float *run_mean,
    float *run_var, const float *in, const float *gamma, const float *beta,
    int C, long M, float momentum, float eps, int act);
void nn_bn_act_fwd_eval(float *out, const float *in, const float *gamma,
    const float *beta, const float *run_mean, const float *run_var,
    int C, long M, float eps, int act);
/* Eval BN + activation in two halves, for weights that no longer change:
 * nn_bn_eval_coef computes the affine a = gamma / sqrt(var + eps),
 * b = beta - mean * a (C each) once, nn_affine_act_fwd applies
 * out = act(in * a + b); the same bits as nn_bn_act_fwd_eval. */
void nn_bn_eval_coef(float *a, float *b, const float *gamma, const float *beta,
    const float *run_mean, const float *run_var, int C, float eps);
void nn_affine_act_fwd(float *out, const float *in, const float *a, const float *b,
    int C, long M, int act);
void nn_bn_act_bwd(float *din, float *dgamma, float *dbeta, const float *dout,
    const float *in, const float *mean, const float *rstd, const float *gamma,
    const float *beta, int C, long M, int act);

/* Elementwise activation; out may equal in for forward. Backward uses the
 * forward input. */
void nn_act_fwd(float *out, const float *in, long n, int act);
void nn_act_bwd(float *din, const float *dout, const float *in, long n, int act);

/* Global average pool: in (C, N, HW) -> out (C, N). */
void nn_gap_fwd(float *out, const float *in, int C, int N, int HW);
void nn_gap_bwd(float *din, const float *dout, int C, int N, int HW);
/* Channel scale (SE multiply): out (C, N, HW) = in * s (C, N). */
void nn_scale_fwd(float *out, const float *in, const float *s, int C, int N, int HW);
void nn_scale_bwd(float *din, float *ds, const float *dout, const float *in,
    const float *s, int C, int N, int HW);
/* Residual add: out = a + b (n); backward is the caller's += of dout. */
void nn_add_fwd(float *out, const float *a, const float *b, long n);
/* acc += x (n): residual and fan-out gradients. */
void nn_acc(float *acc, const float *x, long n);
/* out = x (n), or 0 where x is NULL: the backward's gradient buffers, which
 * one thread alone would fill while the other waits. */
void nn_copy(float *out, const float *x, long n);

/* Max pool, window = stride = k, no padding: in (C, N, H, W) ->
 * out (C, N, H/k, W/k); argmax (same size as out) saved for backward. */
void nn_maxpool_fwd(float *out, int32_t *argmax, const float *in,
    int C, int N, int H, int W, int k);
void nn_maxpool_bwd(float *din, const float *dout, const int32_t *argmax,
    int C, int N, int H, int W, int k);

/* Flatten channel-major (C, N, HW) to row-major (N, C*HW) in PyTorch's
 * (c, y, x) order, and back for gradients. */
void nn_flatten_fwd(float *out, const float *in, int C, int N, int HW);
void nn_flatten_bwd(float *din, const float *dout, int C, int N, int HW);

/* Linear: out (N, O) = in (N, D) w^T + b; w (O, D), b (O) or NULL. */
void nn_linear_fwd(float *out, const float *in, const float *w, const float *b,
    int N, int D, int O);
void nn_linear_bwd(float *din, float *dw, float *db, const float *dout,
    const float *in, const float *w, int N, int D, int O);

/* Dropout (inverted): out = in * mask / (1-p); mask (n) is 0/1 drawn from rng. */
void nn_dropout_fwd(float *out, uint8_t *mask, const float *in, long n, float p,
    struct nn_rng *rng);
void nn_dropout_bwd(float *din, const float *dout, const uint8_t *mask, long n, float p);

/* Softmax cross-entropy over logits (N, K) with labels y (N): returns the
 * mean loss; probs (N, K) may be NULL. Backward: dlogits += scale*(p - onehot)
 * (scale = 1/N for the mean). */
double nn_softmax_ce_fwd(float *probs, const float *logits, const int *y, int N, int K);
void nn_softmax_ce_bwd(float *dlogits, const float *probs, const int *y, int N,
    int K, float scale);
/* Sigmoid + binary cross-entropy, per-sample weights wt (N) or NULL:
 * returns sum_i wt_i * BCE(sigmoid(z_i), t_i) (numerically stable);
 * backward dz += scale * wt_i * (sigmoid(z_i) - t_i). */
double nn_bce_fwd(const float *z, const float *t, const float *wt, int N);
void nn_bce_bwd(float *dz, const float *z, const float *t, const float *wt, int N,
    float scale);

/* Reference twins: same signatures, plain loops, no BLAS, no threads. */
void nn_ref_conv_fwd(float *out, const float *in, const float *w, const float *b,
    float *col, int N, int Ci, int H, int W, int Co, int k, int s, int p);
void nn_ref_conv_bwd(float *din, float *dw, float *db, const float *dout,
    const float *in, const float *w, float *col,
    int N, int Ci, int H, int W, int Co, int k, int s, int p);
void nn_ref_dw_fwd(float *out, const float *in, const float *w,
    int N, int C, int H, int W, int k, int s);
void nn_ref_dw_bwd(float *din, float *dw, const float *dout, const float *in,
    const float *w, int N, int C, int H, int W, int k, int s);
void nn_ref_linear_fwd(float *out, const float *in, const float *w, const float *b,
    int N, int D, int O);
void nn_ref_linear_bwd(float *din, float *dw, float *db, const float *dout,
    const float *in, const float *w, int N, int D, int O);
void nn_ref_bn_fwd_train(float *out, float *mean, float *rstd, float *run_mean,
    float *run_var, const float *in, const float *gamma, const float *beta,
    int C, long M, float momentum, float eps);
void nn_ref_bn_bwd(float *din, float *dgamma, float *dbeta, const float *dout,
    const float *in, const float *mean, const float *rstd, const float *gamma,
    int C, long M);

#endif
