/* cli.c - see cli.h. */
#define _GNU_SOURCE
#include "cli.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu.h"
#include "nachos.h"

/* Every tool links this file: before main, have OpenBLAS run the kernels
 * this CPU allows (cpu.h; may re-execute the tool once). glibc passes
 * main's arguments to constructors. */
static void __attribute__((constructor))
cli_start(int argc, char **argv)
{
	cpu_blas_init(argc, argv);
}

long
cli_long(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno == ERANGE)
		errx(EX_USAGE, "%s: \"%s\" is not an integer", opt, s);
	if (v < lo || v > hi)
		errx(EX_USAGE, "%s: %ld is not in [%ld, %ld]", opt, v, lo, hi);
	return v;
}

double
cli_double(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno == ERANGE || !isfinite(v))
		errx(EX_USAGE, "%s: \"%s\" is not a number", opt, s);
	if (v < lo || v > hi)
		errx(EX_USAGE, "%s: %g is not in [%g, %g]", opt, v, lo, hi);
	return v;
}

int
cli_doubles(const char *opt, const char *s, double *out, int max, double lo, double hi)
{
	char *copy, *tok, *save = NULL;
	int n = 0;

	if ((copy = strdup(s)) == NULL)
		err(EX_SOFTWARE, "strdup");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			errx(EX_USAGE, "%s: more than %d values", opt, max);
		out[n++] = cli_double(opt, tok, lo, hi);
	}
	free(copy);
	if (n == 0)
		errx(EX_USAGE, "%s: no values in \"%s\"", opt, s);
	return n;
}

int
cli_choice(const char *opt, const char *s, const char *const *names)
{
	char list[256] = "";
	int i;

	for (i = 0; names[i]; i++) {
		if (strcmp(s, names[i]) == 0)
			return i;
		if (i)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, names[i], sizeof(list) - strlen(list) - 1);
	}
	errx(EX_USAGE, "%s: \"%s\" is not one of %s", opt, s, list);
}

/* stdout's whole units not yet written (cli_stdout_buffer). */
static struct { char *buf; size_t len, cap; } ob;

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
ob_flush(void)
{
	size_t n = ob.len;

	ob.len = 0;
	if (n && write_all(STDOUT_FILENO, ob.buf, n) < 0)
		err(EX_IOERR, "stdout");
}

/* On an error exit the whole units gathered so far still go out, as
 * stdio's would have. */
static void
ob_flush_at_exit(void)
{
	if (ob.len)
		(void)write_all(STDOUT_FILENO, ob.buf, ob.len);
	ob.len = 0;
}

void
cli_stdout_buffer(size_t cap)
{
	if (ob.cap)
		return;
	if ((ob.buf = malloc(cap)) == NULL)
		err(EX_SOFTWARE, "out of memory");
	ob.cap = cap;
	atexit(ob_flush_at_exit);
}

void
cli_write_whole(FILE *fp, const void *p, size_t n)
{
	if (fp != stdout) {
		if (fwrite(p, 1, n, fp) != n)
			err(EX_IOERR, "write");
		return;
	}
	/* Whatever stdio holds was written before this unit. */
	if (fflush(stdout) != 0)
		err(EX_IOERR, "stdout");
	if (ob.cap && n <= ob.cap) {
		if (ob.len + n > ob.cap)
			ob_flush();
		memcpy(ob.buf + ob.len, p, n);
		ob.len += n;
		return;
	}
	ob_flush();
	if (write_all(STDOUT_FILENO, p, n) < 0)
		err(EX_IOERR, "stdout");
}

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
static void leak_check(void) { __lsan_do_leak_check(); }
#endif

void
cli_leak_check_at_exit(void)
{
#ifdef __SANITIZE_ADDRESS__
	static int once;

	if (!once++)
		atexit(leak_check);
#endif
}

void
cli_finish(void)
{
	cli_leak_check_at_exit();
	ob_flush();
	if (fflush(stdout) != 0 || ferror(stdout))
		err(EX_IOERR, "stdout");
}

void *
cli_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		err(EX_SOFTWARE, "out of memory");
	return p;
}

void
cli_sh_quote(char *dst, size_t n, const char *path)
{
	size_t j = 0;

	if (n < 3)
		errx(EX_SOFTWARE, "quoting %s", path);
	dst[j++] = '\'';
	for (; *path && j + 5 < n; path++)
		if (*path == '\'') {
			memcpy(dst + j, "'\\''", 4);
			j += 4;
		} else {
			dst[j++] = *path;
		}
	if (*path)
		errx(EX_SOFTWARE, "path too long: %s", path);
	dst[j++] = '\'';
	dst[j] = 0;
}

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb, (void)flag, (void)f;
	return remove(p);
}

void
cli_rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

double
cli_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void
cli_progress_start(struct cli_progress *p, const char *what, long total)
{
	p->what = what;
	p->total = total;
	p->done = 0;
	p->t0 = p->last = cli_now();
	p->tty = isatty(STDERR_FILENO);
}

static void
progress_print(struct cli_progress *p, const char *extra, int final)
{
	double el = cli_now() - p->t0;
	const char *tail = extra ? extra : "";

	if (p->tty && p->total > 0) {
		int w = 30, i, fill = (int)(w * (double)p->done / p->total);
		fprintf(stderr, "\r%s: %s [", program_invocation_short_name,
		    p->what ? p->what : "");
		for (i = 0; i < w; i++)
			fputc(i < fill ? '#' : '.', stderr);
		fprintf(stderr, "] %ld/%ld %.1fs %s\033[K%s", p->done, p->total, el, tail,
		    final ? "\n" : "");
	} else if (p->total > 0) {
		fprintf(stderr, "%s: %s %ld/%ld %.1fs %s\n", program_invocation_short_name,
		    p->what ? p->what : "", p->done, p->total, el, tail);
	} else {
		fprintf(stderr, "%s: %s %ld %.1fs %s\n", program_invocation_short_name,
		    p->what ? p->what : "", p->done, el, tail);
	}
}

void
cli_progress(struct cli_progress *p, long done, const char *extra)
{
	double now = cli_now();

	p->done = done;
	/* A bar may redraw often; plain lines only every 5 s to keep logs short. */
	if (now - p->last < (p->tty ? 0.2 : 5.0))
		return;
	p->last = now;
	progress_print(p, extra, 0);
}

void
cli_progress_end(struct cli_progress *p, const char *extra)
{
	progress_print(p, extra, 1);
}

int
cli_help_only(int argc, char **argv, const char *usage)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		fputs(usage, c == 'h' ? stdout : stderr);
		exit(c == 'h' ? 0 : EX_USAGE);
	}
	return optind;
}

FILE *
cli_open_in(const char *path)
{
	FILE *fp;

	if (path == NULL || strcmp(path, "-") == 0)
		return stdin;
	if ((fp = fopen(path, "rb")) == NULL)
		err(EX_NOINPUT, "%s", path);
	return fp;
}

/* The temporary files not yet committed or removed: an exit through err()
 * anywhere removes them (atexit), so no *.tmp.* is ever left behind. */
static char *pending[16];     /* their names (each o->tmp) */
static int npending;

static void
remove_pending(void)
{
	int i;

	for (i = 0; i < npending; i++)
		unlink(pending[i]);
	npending = 0;
}

static void
unpend(struct cli_out *o)
{
	int i;

	for (i = 0; i < npending; i++)
		if (pending[i] == o->tmp) {
			pending[i] = pending[--npending];
			return;
		}
}

void
cli_out_open(struct cli_out *o, const char *path)
{
	static int hooked;
	struct stat st;
	mode_t mask;
	int fd;

	memset(o, 0, sizeof(*o));
	if ((o->path = strdup(path)) == NULL)
		err(EX_SOFTWARE, "alloc");
	/* A device, fifo or socket is written in place: renaming a file over
	 * it would replace the node (as root, /dev/full itself). */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode))
			errx(EX_CANTCREAT, "%s: is a directory", path);
		if ((o->fp = fopen(path, "wb")) == NULL)
			err(EX_CANTCREAT, "%s", path);
		return;
	}
	if (npending == (int)(sizeof(pending) / sizeof(pending[0])))
		errx(EX_SOFTWARE, "cli_out_open: more than %d outputs open", npending);
	if (asprintf(&o->tmp, "%s.tmp.XXXXXX", path) < 0)
		err(EX_SOFTWARE, "alloc");
	if (!hooked) {
		atexit(remove_pending);
		hooked = 1;
	}
	if ((fd = mkstemp(o->tmp)) < 0)
		err(EX_CANTCREAT, "%s", o->tmp);
	pending[npending++] = o->tmp;
	/* mkstemp makes 0600; the finished file gets what creat(2) would give */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) != 0)
		err(EX_CANTCREAT, "%s", o->tmp);
	if ((o->fp = fdopen(fd, "wb")) == NULL)
		err(EX_CANTCREAT, "%s", o->tmp);
}

/* The rename is durable only once the directory holding it is synced. */
static void
sync_dir(const char *path)
{
	char *dir = strdup(path), *slash;
	int fd;

	if (dir == NULL)
		err(EX_SOFTWARE, "alloc");
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else
		slash[slash == dir] = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) < 0 || fsync(fd) != 0)
		err(EX_IOERR, "%s", dir);
	close(fd);
	free(dir);
}

void
cli_out_commit(struct cli_out *o)
{
	if (o->tmp == NULL) {
		/* written in place (a device or fifo): nothing to rename */
		if (fflush(o->fp) != 0 || ferror(o->fp) || fclose(o->fp) != 0)
			err(EX_IOERR, "%s", o->path);
		free(o->path);
		o->fp = NULL;
		return;
	}
	if (fflush(o->fp) != 0 || ferror(o->fp) || fsync(fileno(o->fp)) != 0)
		err(EX_IOERR, "%s", o->tmp);
	if (fclose(o->fp) != 0)
		err(EX_IOERR, "%s", o->tmp);
	o->fp = NULL;
	if (rename(o->tmp, o->path) != 0)
		err(EX_CANTCREAT, "%s", o->path);
	unpend(o);
	sync_dir(o->path);
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
}
