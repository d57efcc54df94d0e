/*
 * plot.h - figures through gnuplot, the one runner pareto and run-report
 * share: a script written into memory, gnuplot run on it with its output
 * in a temporary file, and the figure written to its path (cli_out: whole
 * or not at all) only when gnuplot succeeded and the figure is complete.
 * gnuplot exits 0 even when its writes fail (a full disk, a file size
 * limit), so the end of the figure is checked too: nothing truncated ever
 * stands at the path.
 */
#ifndef PLOT_H
#define PLOT_H

#include <stddef.h>
#include <stdio.h>

/* A stream into memory for a gnuplot script; plot_render closes it. */
FILE *plot_script(char **s, size_t *len);

/* Run gnuplot with script on its standard input and its standard output
 * on fd. Returns gnuplot's exit status (127: it could not be run), or -1
 * when it died of a signal; exits EX_SOFTWARE if pipe or fork fail. */
int plot_gnuplot(const char *script, size_t len, int fd);

/* Is the figure in the regular file fd whole: a PNG ending in its IEND
 * chunk, or an SVG ending in </svg>? */
int plot_complete(int fd);

/* Close fp (from plot_script, its text in *s and *len) and run it through
 * gnuplot into path, written whole or not at all; frees *s. what starts
 * the error messages: exits EX_CANTCREAT when gnuplot fails, EX_IOERR
 * when the figure came out incomplete. */
void plot_render(const char *path, const char *what, FILE *fp, char **s, size_t *len);

#endif
