/* cpu.c - see cpu.h. */
#define _GNU_SOURCE
#include "cpu.h"

#include <cblas.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long
xgetbv0(void)
{
	unsigned int lo, hi;

	__asm__ volatile ("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (unsigned long long)hi << 32 | lo;
}

void
cpu_features(struct cpu_feat *f)
{
	unsigned int a, b, c, d, max, i;
	unsigned long long xcr0 = 0;
	int ymm, zmm;
	char *s;

	memset(f, 0, sizeof(*f));
	if (!__get_cpuid(0, &max, &b, &c, &d))
		return;
	memcpy(f->vendor, &b, 4);
	memcpy(f->vendor + 4, &d, 4);
	memcpy(f->vendor + 8, &c, 4);
	if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000004) {
		for (i = 0; i < 3; i++) {
			__get_cpuid(0x80000002 + i, &a, &b, &c, &d);
			memcpy(f->model + 16 * i, &a, 4);
			memcpy(f->model + 16 * i + 4, &b, 4);
			memcpy(f->model + 16 * i + 8, &c, 4);
			memcpy(f->model + 16 * i + 12, &d, 4);
		}
		for (s = f->model; *s == ' '; s++)
			;
		memmove(f->model, s, strlen(s) + 1);
		for (i = strlen(f->model); i > 0 && f->model[i - 1] == ' '; i--)
			f->model[i - 1] = '\0';
	}
	__get_cpuid(1, &a, &b, &c, &d);
	/* the OS must save the registers too: XCR0 bits 1-2 (XMM, YMM) and
	 * 5-7 (opmask, the upper halves of ZMM0-15, ZMM16-31) */
	if (c & bit_OSXSAVE)
		xcr0 = xgetbv0();
	ymm = (xcr0 & 0x6) == 0x6;
	zmm = ymm && (xcr0 & 0xe0) == 0xe0;
	f->avx = ymm && (c & bit_AVX);
	f->fma = f->avx && (c & bit_FMA);
	if (max < 7)
		return;
	__cpuid_count(7, 0, a, b, c, d);
	f->avx2 = f->avx && (b & bit_AVX2);
	f->avx512f = zmm && (b & bit_AVX512F);
	f->avx512bw = zmm && (b & bit_AVX512BW);
	f->avx512vl = zmm && (b & bit_AVX512VL);
	f->avx512dq = zmm && (b & bit_AVX512DQ);
	if (a >= 1) {
		__cpuid_count(7, 1, a, b, c, d);
		f->avx512bf16 = f->avx512f && (a & (1u << 5));
	}
}
#else
void
cpu_features(struct cpu_feat *f)
{
	memset(f, 0, sizeof(*f));
}
#endif

enum cpu_level
cpu_level(const struct cpu_feat *f)
{
	if (f->avx512f && f->avx512bw && f->avx512vl && f->avx512dq && f->avx2 && f->fma)
		return f->avx512bf16 ? CPU_AVX512BF16 : CPU_AVX512;
	if (f->avx2 && f->fma)
		return CPU_AVX2;
	return f->avx ? CPU_AVX : CPU_SSE;
}

/* OpenBLAS's x86-64 core names (driver/others/dynamic.c) by the ISA their
 * kernels use. */
static const struct { const char *name; int level; } cores[] = {
	{ "Katmai", CPU_SSE }, { "Coppermine", CPU_SSE }, { "Northwood", CPU_SSE },
	{ "Prescott", CPU_SSE }, { "Banias", CPU_SSE }, { "Atom", CPU_SSE },
	{ "Core2", CPU_SSE }, { "Penryn", CPU_SSE }, { "Dunnington", CPU_SSE },
	{ "Nehalem", CPU_SSE }, { "Athlon", CPU_SSE }, { "Opteron", CPU_SSE },
	{ "Opteron_SSE3", CPU_SSE }, { "Barcelona", CPU_SSE }, { "Nano", CPU_SSE },
	{ "Sandybridge", CPU_AVX }, { "Bulldozer", CPU_AVX }, { "Piledriver", CPU_AVX },
	{ "Steamroller", CPU_AVX },
	{ "Haswell", CPU_AVX2 }, { "Zen", CPU_AVX2 }, { "Excavator", CPU_AVX2 },
	{ "SkylakeX", CPU_AVX512 },
	{ "Cooperlake", CPU_AVX512BF16 }, { "SapphireRapids", CPU_AVX512BF16 },
};

int
cpu_core_level(const char *core)
{
	size_t i;

	for (i = 0; core && i < sizeof(cores) / sizeof(cores[0]); i++)
		if (strcasecmp(core, cores[i].name) == 0)
			return cores[i].level;
	return -1;
}

const char *
cpu_blas_want(const struct cpu_feat *f, const char *core)
{
	int have = cpu_core_level(core), lv = cpu_level(f);

	if (have < 0 || have >= lv)
		return NULL;
	switch (lv) {
	case CPU_AVX512BF16: return "Cooperlake";
	case CPU_AVX512: return "SkylakeX";
	/* Zen's kernels are Haswell's with AMD's cache sizes */
	case CPU_AVX2: return strcmp(f->vendor, "AuthenticAMD") == 0 ? "Zen" : "Haswell";
	case CPU_AVX: return "Sandybridge";
	}
	return NULL;
}

const char *
cpu_blas_core(void)
{
	return openblas_get_corename();
}

void
cpu_blas_init(int argc, char **argv)
{
	struct cpu_feat f;
	const char *want, *user = getenv("OPENBLAS_CORETYPE"), *test = getenv("NACHOS_BLAS_TEST");

	(void)argc;
	if (getenv("NACHOS_BLAS_FROM") || argv == NULL || argv[0] == NULL)
		return;
	if (user && !(test && strcmp(test, "1") == 0))
		return;
	/* only a DYNAMIC_ARCH build can switch its kernels */
	if (strstr(openblas_get_config(), "DYNAMIC_ARCH") == NULL)
		return;
	cpu_features(&f);
	if ((want = cpu_blas_want(&f, cpu_blas_core())) == NULL)
		return;
	if (setenv("NACHOS_BLAS_FROM", cpu_blas_core(), 1) != 0 ||
	    setenv("OPENBLAS_CORETYPE", want, 1) != 0)
		return;
	fflush(NULL);
	execv("/proc/self/exe", argv);
	/* no /proc: carry on with the library's choice, and say so at -v */
	unsetenv("OPENBLAS_CORETYPE");
	if (user)
		setenv("OPENBLAS_CORETYPE", user, 1);
	setenv("NACHOS_BLAS_FROM", "exec failed", 1);
}

void
cpu_blas_note(void)
{
	struct cpu_feat f;
	static const char *const lvname[] = { "SSE", "AVX", "AVX2 FMA", "AVX-512",
		"AVX-512 BF16" };
	const char *from = getenv("NACHOS_BLAS_FROM"), *core = cpu_blas_core();
	const char *set = getenv("OPENBLAS_CORETYPE"), *test = getenv("NACHOS_BLAS_TEST");

	cpu_features(&f);
	fprintf(stderr, "%s: CPU %s (%s), OpenBLAS core %s", program_invocation_short_name,
	    f.model[0] ? f.model : "unknown", lvname[cpu_level(&f)], core);
	if (from && strcmp(from, "exec failed") == 0)
		fprintf(stderr, ": older than the CPU allows, but re-executing failed\n");
	else if (from)
		fprintf(stderr, ": OpenBLAS chose %s by itself, older than the CPU allows, so "
		    "re-executed with OPENBLAS_CORETYPE=%s%s\n", from, set ? set : "?",
		    set && strcasecmp(set, core) == 0 ? "" : ", which OpenBLAS ignored");
	else if (set && !(test && strcmp(test, "1") == 0))
		fprintf(stderr, " (OPENBLAS_CORETYPE=%s, the user's)\n", set);
	else
		fprintf(stderr, "\n");
}
