/* data_load.c - time data_load_opts on a directory: "data_load DIR RES
 * IN_CH" prints the wall and CPU (user + system, every thread) seconds of
 * one load and the shape it gave. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "cli.h"
#include "data.h"

int
main(int argc, char **argv)
{
	struct data_set tr, te;
	struct data_opts o = DATA_OPTS_DEFAULT;
	struct rusage ru;
	double t0;

	if (argc != 4) {
		fprintf(stderr, "usage: data_load DIR RES IN_CH\n");
		return 64;
	}
	o.res = atoi(argv[2]), o.in_ch = atoi(argv[3]);
	t0 = cli_now();
	data_load_opts(&tr, &te, argv[1], &o);
	t0 = cli_now() - t0;
	getrusage(RUSAGE_SELF, &ru);
	printf("wall %.3f s, cpu %.3f s: %s %ld+%ld %dx%dx%d\n", t0,
	    ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6, tr.format, tr.n, te.n, tr.c,
	    tr.h, tr.w);
	data_free(&tr);
	data_free(&te);
	return 0;
}
