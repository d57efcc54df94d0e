/*
 * cpu.h - what the CPU can run, and the OpenBLAS kernels to match.
 *
 * A distribution's OpenBLAS (DYNAMIC_ARCH) picks its kernels from a table
 * of CPU models when it loads; a CPU newer than the library falls back to
 * old kernels (Debian's 0.3.21 runs SSE3 "Prescott" kernels on a Xeon with
 * AVX-512, 2-3x slower). OpenBLAS reads OPENBLAS_CORETYPE only when it
 * loads, so cpu_blas_init, called before main by every tool (cli.c),
 * re-executes the process once with the core that the CPU's own feature
 * bits (cpuid) call for, when OpenBLAS chose an older one. The user's own
 * OPENBLAS_CORETYPE always wins.
 *
 * Environment:
 *   OPENBLAS_CORETYPE    the user's choice: never overridden
 *   NACHOS_BLAS_FROM     set by the re-execution (the core OpenBLAS had
 *                        chosen): marks OPENBLAS_CORETYPE as ours and stops
 *                        any further re-execution, in children too
 *   NACHOS_BLAS_TEST     1: treat OPENBLAS_CORETYPE as the library's own
 *                        choice, not the user's (tests force an old core so)
 */
#ifndef CPU_H
#define CPU_H

/* ISA levels that OpenBLAS's x86-64 kernel families need. */
enum cpu_level {
	CPU_SSE,       /* Prescott .. Nehalem, Opteron, Barcelona, ... */
	CPU_AVX,       /* Sandybridge, Bulldozer, Piledriver, Steamroller */
	CPU_AVX2,      /* AVX2 + FMA: Haswell, Zen, Excavator */
	CPU_AVX512,    /* AVX-512 F, BW, VL, DQ: SkylakeX */
	CPU_AVX512BF16 /* and AVX512-BF16: Cooperlake, SapphireRapids */
};

struct cpu_feat {
	char vendor[13];       /* "GenuineIntel", "AuthenticAMD", ... */
	char model[49];        /* brand string, trimmed */
	int avx, avx2, fma;    /* usable: the CPU has them and the OS saves the registers */
	int avx512f, avx512bw, avx512vl, avx512dq, avx512bf16;
};

/* Read cpuid (and xgetbv for the OS's register support); zeros elsewhere. */
void cpu_features(struct cpu_feat *f);
/* The highest level f supports. */
enum cpu_level cpu_level(const struct cpu_feat *f);
/* The level an OpenBLAS core name's kernels need (case-insensitive), -1 for
 * a name not known here (a newer OpenBLAS: left alone). */
int cpu_core_level(const char *core);
/* The OPENBLAS_CORETYPE to run with on a CPU with features f when OpenBLAS
 * chose core by itself; NULL when core is already as new as f allows (or
 * unknown). The decision, free of side effects, for the tests. */
const char *cpu_blas_want(const struct cpu_feat *f, const char *core);

/* The hook (before main): re-execute argv with the core cpu_blas_want gives,
 * at most once; returns when nothing is to be done or exec fails. */
void cpu_blas_init(int argc, char **argv);
/* The core OpenBLAS runs in this process (openblas_get_corename). */
const char *cpu_blas_core(void);
/* One line on stderr: the CPU, the core, and whether and why it was
 * switched (for -v). */
void cpu_blas_note(void);

#endif
