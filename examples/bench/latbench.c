/*
 * latbench.c - the engine's batch-1 latency on one thread, robust to a
 * shared machine: eval-mode forwards of one random image, grouped in
 * rounds; prints one JSON line with the fastest and the median round's
 * per-forward milliseconds and, with -p, the median time of each part
 * (first conv, blocks, heads) in microseconds.
 *
 *   latbench [-p] [-e] [-r rounds] [-n forwards] [FILE]
 * FILE (default stdin) holds an arch or eenn record. Without -e the plain
 * network runs (backbone and final classifier: what eenn-train --bench
 * times and the ONNX file of train_bench.py holds); with -e the whole
 * EENN, every exit's head in turn (eenn-infer with thresholds all 1).
 * Seeded: the same weights and image every run.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "cli.h"
#include "model.h"
#include "nn.h"
#include "rec.h"
#include "stats.h"

static void
forward(struct model *m, const float *x, int eenn)
{
	int i;

	if (!eenn) {
		model_forward(m, x, 1, 0);
		return;
	}
	model_step_begin(m, x, 1);
	for (i = 0; i < m->nexit; i++)
		model_step_exit(m, i);
}

int
main(int argc, char **argv)
{
	int rounds = 30, n = 20, prof = 0, eenn = 0, o, r, i, j, np;
	struct rec_in in;
	const msgpack_object *rec;
	struct arch a;
	struct arch_net net;
	struct model m;
	struct nn_rng rng;
	double *t, *parts, med;
	float *x;

	while ((o = getopt(argc, argv, "epr:n:")) != -1)
		switch (o) {
		case 'e': eenn = 1; break;
		case 'p': prof = 1; break;
		case 'r': rounds = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: latbench [-p] [-e] [-r rounds] [-n forwards] "
			    "[file]\n");
			return 64;
		}
	if (rounds < 1 || n < 1) {
		fprintf(stderr, "latbench: rounds and forwards must be >= 1\n");
		return 64;
	}
	if (optind < argc)
		rec_in_open(&in, argv[optind]);
	else
		rec_in_fd(&in, 0, "<stdin>");
	if (!(rec = rec_next(&in))) {
		fprintf(stderr, "latbench: no record\n");
		return 65;
	}
	arch_read_typed(&a, &in, rec);
	arch_net_build(&net, &a);
	nn_threads(1);
	model_build(&m, &net, eenn ? 0 : MODEL_BACKBONE_ONLY, 1);
	model_init(&m, 1);
	model_pack(&m);		/* weights final: as eenn-infer's early-exit run */
	nn_rng_seed(&rng, 1);
	x = malloc((size_t)a.in_ch * a.resolution * a.resolution * sizeof *x);
	for (i = 0; i < a.in_ch * a.resolution * a.resolution; i++)
		x[i] = nn_rng_normal(&rng);
	np = 1 + net.nblk + net.nexit;
	t = calloc(rounds, sizeof *t);
	parts = calloc((size_t)rounds * np, sizeof *parts);
	for (i = 0; i < 5; i++)	/* page faults, caches */
		forward(&m, x, eenn);
	for (r = 0; r < rounds; r++) {
		double t0 = cli_now();
		for (i = 0; i < n; i++)
			forward(&m, x, eenn);
		t[r] = (cli_now() - t0) * 1e3 / n;
		if (prof && eenn) {	/* the parts, outside the timed forwards */
			m.prof = parts + (long)r * np;
			forward(&m, x, eenn);
			m.prof = NULL;
		}
	}
	med = stats_median(t, rounds);
	printf("{\"min_ms\":%.4f,\"median_ms\":%.4f,\"rounds\":%d,\"forwards\":%d",
	    t[0], med, rounds, n);
	if (prof && eenn) {
		printf(",\"parts_us\":[");
		for (j = 0; j < np; j++) {
			for (r = 0; r < rounds; r++)
				t[r] = parts[(long)r * np + j];
			printf("%s%.1f", j ? "," : "", stats_median(t, rounds) * 1e6);
		}
		printf("]");
	}
	printf("}\n");
	model_free(&m);
	free(x), free(t), free(parts);
	rec_in_close(&in);
	return 0;
}
