/* unit.c - see unit.h. */
#include "unit.h"

#include "cli.h"

int unit_pass, unit_fail;

void
unit_report(int ok, const char *file, int line, const char *what)
{
	if (ok) {
		unit_pass++;
		return;
	}
	unit_fail++;
	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
}

int
unit_close(const float *a, const float *b, long n, double atol, double rtol,
    const char *file, int line, const char *what)
{
	long i, worst = -1;
	double excess = 0;

	for (i = 0; i < n; i++) {
		double d = fabs((double)a[i] - b[i]) - (atol + rtol * fabs(b[i]));
		if (d > excess || isnan(a[i]) != isnan(b[i])) {
			excess = isnan(d) ? INFINITY : d;
			worst = i;
		}
	}
	unit_report(worst < 0, file, line, what);
	if (worst >= 0)
		fprintf(stderr, "    element %ld of %ld: %.9g vs %.9g (atol %g rtol %g)\n",
		    worst, n, a[worst], b[worst], atol, rtol);
	return worst < 0;
}

int
unit_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, unit_pass, unit_fail);
	cli_leak_check_at_exit();
	return unit_fail != 0;
}
