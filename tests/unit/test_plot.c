/* test_plot - lib/plot: gnuplot's standard output lands on the descriptor
 * and its exit status comes back; a figure counts as whole only with the
 * end of its format (a PNG's IEND chunk, an SVG's closing tag), so one cut
 * short by a full disk is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plot.h"
#include "unit.h"

static void
test_gnuplot(void)
{
	static const char ok[] = "set print \"-\"\nprint 6*7\n";
	static const char bad[] = "plot $nothing\n";   /* its message on stderr */
	FILE *fp = tmpfile();
	char buf[16] = "";

	CHECK(fp != NULL);
	CHECK_EQ_L(plot_gnuplot(ok, strlen(ok), fileno(fp)), 0);
	rewind(fp);
	CHECK(fgets(buf, sizeof(buf), fp) != NULL);
	CHECK(strcmp(buf, "42\n") == 0);
	fclose(fp);
	CHECK(plot_gnuplot(bad, strlen(bad), 2) > 0);
}

/* Is a file holding the n bytes of b complete? */
static int
complete(const void *b, size_t n)
{
	FILE *fp = tmpfile();
	int r;

	fwrite(b, 1, n, fp);
	fflush(fp);
	r = plot_complete(fileno(fp));
	fclose(fp);
	return r;
}

static void
test_complete(void)
{
	static const char svg[] = "<?xml version=\"1.0\"?>\n<svg>\n</svg>\n\n";
	char *s;
	size_t len, n;
	FILE *fp = plot_script(&s, &len), *png = tmpfile();
	char *b;

	/* a real PNG from gnuplot, whole and cut short */
	fprintf(fp, "set terminal png size 320,240\nset output\nplot x\n");
	fclose(fp);
	CHECK_EQ_L(plot_gnuplot(s, len, fileno(png)), 0);
	n = (size_t)lseek(fileno(png), 0, SEEK_END);
	CHECK(n > 100);
	b = malloc(n);
	CHECK(pread(fileno(png), b, n, 0) == (ssize_t)n);
	CHECK(complete(b, n));
	CHECK(!complete(b, n - 1));
	CHECK(!complete(b, n / 2));
	CHECK(!complete(b, 4096 < n ? 4096 : n - 20));
	CHECK(!complete("", 0));
	CHECK(complete(svg, strlen(svg)));
	CHECK(!complete(svg, strlen(svg) - 4));
	fclose(png);
	free(b);
	free(s);
}

int
main(void)
{
	if (system("command -v gnuplot > /dev/null") != 0) {
		fprintf(stderr, "test_plot: gnuplot is missing (make check installs it)\n");
		return 1;
	}
	test_gnuplot();
	test_complete();
	return unit_done("test_plot");
}
