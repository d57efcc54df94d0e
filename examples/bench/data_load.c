/* data_load.c - time data_load_opts on a directory: "data_load DIR RES
 * IN_CH" prints the seconds of one load and the shape it gave. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "data.h"

int
main(int argc, char **argv)
{
	struct data_set tr, te;
	struct data_opts o = DATA_OPTS_DEFAULT;
	double t0;

	if (argc != 4) {
		fprintf(stderr, "usage: data_load DIR RES IN_CH\n");
		return 64;
	}
	o.res = atoi(argv[2]), o.in_ch = atoi(argv[3]);
	t0 = cli_now();
	data_load_opts(&tr, &te, argv[1], &o);
	printf("%.3f %s %ld+%ld %dx%dx%d\n", cli_now() - t0, tr.format, tr.n, te.n, tr.c,
	    tr.h, tr.w);
	data_free(&tr);
	data_free(&te);
	return 0;
}
