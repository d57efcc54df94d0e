/*
 * nn_impl.h - what the engine's own files (nn*.c) share, not part of the
 * interface.
 */
#ifndef NN_IMPL_H
#define NN_IMPL_H

/* Elements below which an op's loop stays on one thread: waking the team
 * costs more than small tensors save. */
#define NN_PAR 32768L

/* Hot kernels are compiled for AVX-512 and AVX2+FMA as well as the
 * baseline, picked at load time: the build itself targets plain x86-64
 * (SSE2). Functions with this attribute must not call nn_par (they run
 * inside its tasks; a nested call would run serially). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NN_CLONES
#endif

#endif
