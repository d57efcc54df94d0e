/* test_cpu.c - the OpenBLAS core decision of cpu.h on made-up CPUs, and
 * cpuid against the kernel's /proc/cpuinfo flags on this one.
 *   test_cpu                run the tests
 *   test_cpu want CORE      print the core this CPU would switch CORE to,
 *                           "-" for none (tests/cpu.bats) */
#include <stdio.h>
#include <string.h>

#include "cpu.h"
#include "unit.h"

static struct cpu_feat
mk(const char *vendor, int level, int bf16)
{
	struct cpu_feat f;

	memset(&f, 0, sizeof(f));
	snprintf(f.vendor, sizeof(f.vendor), "%s", vendor);
	f.avx = level >= CPU_AVX;
	f.avx2 = f.fma = level >= CPU_AVX2;
	f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = level >= CPU_AVX512;
	f.avx512bf16 = level >= CPU_AVX512 && bf16;
	return f;
}

static int
want_is(const struct cpu_feat *f, const char *core, const char *expect)
{
	const char *w = cpu_blas_want(f, core);

	if (expect == NULL ? w == NULL : w && strcmp(w, expect) == 0)
		return 1;
	fprintf(stderr, "    %s on level %d: got %s, want %s\n", core, cpu_level(f),
	    w ? w : "NULL", expect ? expect : "NULL");
	return 0;
}

static void
test_decision(void)
{
	/* the Xeon of issue 13 (family 6 model 207): AVX-512 + BF16 */
	struct cpu_feat emr = mk("GenuineIntel", CPU_AVX512, 1);
	struct cpu_feat skx = mk("GenuineIntel", CPU_AVX512, 0);
	struct cpu_feat zen3 = mk("AuthenticAMD", CPU_AVX2, 0);
	struct cpu_feat zen4 = mk("AuthenticAMD", CPU_AVX512, 1);
	struct cpu_feat hsw = mk("GenuineIntel", CPU_AVX2, 0);
	struct cpu_feat snb = mk("GenuineIntel", CPU_AVX, 0);
	struct cpu_feat old = mk("GenuineIntel", CPU_SSE, 0);
	struct cpu_feat nodq = emr;

	CHECK(cpu_level(&emr) == CPU_AVX512BF16);
	CHECK(cpu_level(&skx) == CPU_AVX512);
	CHECK(want_is(&emr, "Prescott", "Cooperlake"));
	CHECK(want_is(&emr, "PRESCOTT", "Cooperlake"));   /* names are case-blind */
	CHECK(want_is(&emr, "Haswell", "Cooperlake"));
	CHECK(want_is(&emr, "SkylakeX", "Cooperlake"));
	CHECK(want_is(&emr, "Cooperlake", NULL));
	CHECK(want_is(&emr, "SapphireRapids", NULL));
	CHECK(want_is(&skx, "Prescott", "SkylakeX"));
	CHECK(want_is(&skx, "SkylakeX", NULL));
	CHECK(want_is(&zen4, "Zen", "Cooperlake"));
	CHECK(want_is(&zen3, "Prescott", "Zen"));
	CHECK(want_is(&zen3, "Barcelona", "Zen"));
	CHECK(want_is(&zen3, "Zen", NULL));
	CHECK(want_is(&zen3, "Haswell", NULL));           /* as new: left alone */
	CHECK(want_is(&hsw, "Sandybridge", "Haswell"));
	CHECK(want_is(&hsw, "Haswell", NULL));
	CHECK(want_is(&snb, "Core2", "Sandybridge"));
	CHECK(want_is(&snb, "Sandybridge", NULL));
	CHECK(want_is(&old, "Prescott", NULL));           /* nothing better to run */
	/* never a core the CPU cannot run: AVX-512 without DQ is AVX2 */
	nodq.avx512dq = 0;
	CHECK(cpu_level(&nodq) == CPU_AVX2);
	CHECK(want_is(&nodq, "Prescott", "Haswell"));
	CHECK(want_is(&nodq, "Haswell", NULL));
	/* the OS must save the registers: no AVX usable, no AVX2 */
	hsw.avx = 0;
	hsw.avx2 = hsw.fma = 0;
	CHECK(cpu_level(&hsw) == CPU_SSE);
	/* names this file does not know (a newer OpenBLAS): left alone */
	CHECK(want_is(&emr, "Zen5", NULL));
	CHECK(want_is(&emr, NULL, NULL));
	CHECK(cpu_core_level("Zen") == CPU_AVX2);
	CHECK(cpu_core_level("nosuch") == -1);
}

/* " flag " in the first flags line of /proc/cpuinfo; -1 without the file */
static int
proc_flag(const char *flag)
{
	char line[8192], pat[64];
	FILE *fp = fopen("/proc/cpuinfo", "r");
	int r = -1;

	if (fp == NULL)
		return -1;
	snprintf(pat, sizeof(pat), " %s ", flag);
	while (fgets(line, sizeof(line), fp))
		if (strncmp(line, "flags", 5) == 0) {
			line[strcspn(line, "\n")] = ' ';
			r = strstr(line, pat) != NULL;
			break;
		}
	fclose(fp);
	return r;
}

static void
test_cpuid(void)
{
	struct cpu_feat f;
	static const char *const names[] = { "avx", "avx2", "fma", "avx512f", "avx512bw",
		"avx512vl", "avx512dq", "avx512_bf16" };
	int i, have[8];

	cpu_features(&f);
	have[0] = f.avx, have[1] = f.avx2, have[2] = f.fma, have[3] = f.avx512f;
	have[4] = f.avx512bw, have[5] = f.avx512vl, have[6] = f.avx512dq;
	have[7] = f.avx512bf16;
	if (proc_flag("fpu") != 1) {
		fprintf(stderr, "    no x86 /proc/cpuinfo flags: cpuid not compared\n");
		return;
	}
	for (i = 0; i < 8; i++) {
		int p = proc_flag(names[i]);
		unit_report(have[i] == p, __FILE__, __LINE__, names[i]);
		if (have[i] != p)
			fprintf(stderr, "    %s: cpuid %d, /proc/cpuinfo %d\n", names[i], have[i], p);
	}
	/* the engine's own kernels (NN_CLONES, lib/nn_impl.h) are picked by
	 * libgcc's x86-64-v4 / v3 checks: they must agree with cpuid, on Intel
	 * and AMD alike (the v4 clone on any AVX-512 F/BW/VL/DQ CPU) */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
	__builtin_cpu_init();
	CHECK(!!__builtin_cpu_supports("x86-64-v4") == (cpu_level(&f) >= CPU_AVX512));
	CHECK(!!__builtin_cpu_supports("x86-64-v3") == (cpu_level(&f) >= CPU_AVX2));
	printf("test_cpu: the engine's kernels run the %s clone\n",
	    __builtin_cpu_supports("x86-64-v4") ? "x86-64-v4 (AVX-512)" :
	    __builtin_cpu_supports("x86-64-v3") ? "x86-64-v3 (AVX2 FMA)" : "baseline");
#endif
	CHECK(f.vendor[0] != '\0');
	CHECK(f.model[0] != '\0' && f.model[0] != ' ');
	printf("test_cpu: %s, %s, level %d, OpenBLAS core %s\n", f.vendor, f.model,
	    cpu_level(&f), cpu_blas_core());
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "want") == 0) {
		struct cpu_feat f;
		const char *w;

		cpu_features(&f);
		w = cpu_blas_want(&f, argv[2]);
		printf("%s\n", w ? w : "-");
		return 0;
	}
	test_decision();
	test_cpuid();
	return unit_done("test_cpu");
}
