/*
 * sgemm_peak.c - OpenBLAS's own single-precision GEMM rate on this machine,
 * the ceiling the training engine's GFLOP/s is compared with, on the
 * kernels the nachos tools run (lib/cpu.h: re-executed with the core the
 * CPU supports when OpenBLAS chose an older one).
 *
 *   cc -O2 -Ilib examples/bench/sgemm_peak.c lib/cpu.c -lopenblas -o sgemm_peak
 *   ./sgemm_peak [threads]      prints the best GFLOP/s over a few sizes and
 *                               the OpenBLAS core
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cpu.h"

void openblas_set_num_threads(int);

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int
main(int argc, char **argv)
{
	static const int sizes[] = { 512, 1024, 2048 };
	double best = 0;
	int s, i;

	cpu_blas_init(argc, argv);
	openblas_set_num_threads(argc > 1 ? atoi(argv[1]) : 1);
	for (s = 0; s < 3; s++) {
		int n = sizes[s], reps = 0;
		float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n);
		float *c = malloc(sizeof(float) * n * n);
		double t0, t;

		for (i = 0; i < n * n; i++)
			a[i] = b[i] = (float)(i % 7) * 0.1f, c[i] = 0;
		/* One untimed call, then repeat for at least half a second. */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
		t0 = now();
		do {
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n,
			    0, c, n);
			reps++;
		} while ((t = now() - t0) < 0.5);
		if (2.0 * n * n * n * reps / t / 1e9 > best)
			best = 2.0 * n * n * n * reps / t / 1e9;
		free(a), free(b), free(c);
	}
	printf("%.1f %s\n", best, cpu_blas_core());
	return 0;
}
