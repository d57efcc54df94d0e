/*
 * cli.h - command-line helpers shared by every tool: strict number parsing
 * for option values, progress on stderr, and the stdout check at exit.
 */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

/* Parse the whole of s as a number in [lo, hi] or exit EX_USAGE naming opt. */
long cli_long(const char *opt, const char *s, long lo, long hi);
double cli_double(const char *opt, const char *s, double lo, double hi);
/* Comma-separated list of doubles in [lo, hi]; returns count (<= max). */
int cli_doubles(const char *opt, const char *s, double *out, int max, double lo, double hi);
/* Pick s from a NULL-terminated list of names; returns its index or exits. */
int cli_choice(const char *opt, const char *s, const char *const *names);

/* The options of a tool that has none but -h/--help: usage to stdout and
 * exit 0 on -h, to stderr and exit EX_USAGE on anything else. Returns
 * optind, the index of the first file argument. */
int cli_help_only(int argc, char **argv, const char *usage);

/* Flush and check stdout; exits EX_IOERR on a write error. Call before exit 0.
 * In a sanitizer build (make asan) it also arms the leak check at exit. */
void cli_finish(void);
/* ASan builds: check for leaks when the process exits, after main's frees.
 * Only a successful run is checked (ASAN_OPTIONS=leak_check_at_exit=0): a
 * tool stopped by err() leaves its memory to the exit, by design. */
void cli_leak_check_at_exit(void);

/*
 * Whole units (records, JSON lines) to a stream. To stdout each unit goes
 * out with write(2) whole, never split at a stdio buffer's edge, so a tool
 * killed at any moment leaves its output ending after a whole unit; with
 * cli_stdout_buffer (for tools that stream many records) units gather in a
 * buffer of cap bytes written only at unit boundaries (cli_finish, or exit,
 * writes the rest). To another stream (a cli_out temporary file) it is a
 * checked fwrite. Exits EX_IOERR on a write error.
 */
void cli_write_whole(FILE *fp, const void *p, size_t n);
void cli_stdout_buffer(size_t cap);

/* Progress on stderr: a bar on a TTY, a line every few seconds otherwise. */
struct cli_progress {
	const char *what;  /* label shown before the figures */
	long total;        /* units of work expected, 0 if unknown */
	long done;
	double t0, last;   /* wall-clock seconds: start, last print */
	int tty;
};
void cli_progress_start(struct cli_progress *p, const char *what, long total);
/* Report `done` units; extra (may be NULL) is printed after the figures. */
void cli_progress(struct cli_progress *p, long done, const char *extra);
void cli_progress_end(struct cli_progress *p, const char *extra);

/* calloc that exits EX_SOFTWARE when memory runs out (n may be 0). */
void *cli_calloc(size_t n, size_t size);

/* dst = path single-quoted for sh -c (n bytes; exits EX_SOFTWARE when it
 * does not fit). */
void cli_sh_quote(char *dst, size_t n, const char *path);

/* Remove path and, if a directory, everything under it (symbolic links
 * not followed); errors ignored (a cleanup). */
void cli_rm_tree(const char *path);

/* Wall-clock seconds (monotonic). */
double cli_now(void);

/* Open an input path ("-" or NULL is stdin); exits EX_NOINPUT naming it. */
FILE *cli_open_in(const char *path);

/* Write-then-rename output: cli_out_open gives a temporary file next to
 * path; cli_out_commit flushes, fsyncs and renames it over path, then
 * fsyncs the directory (exit EX_IOERR on failure); any exit before the
 * commit removes the temporary file (an atexit handler). Nothing
 * half-written ever stands at path. A path that exists and is not a
 * regular file (a device, a fifo) is written in place, never renamed over;
 * a directory is refused (EX_CANTCREAT). */
struct cli_out { FILE *fp; char *path; char *tmp; };
void cli_out_open(struct cli_out *o, const char *path);
void cli_out_commit(struct cli_out *o);

#endif
