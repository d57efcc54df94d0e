/*
 * plot.c - the gnuplot runner (plot.h).
 */
#define _GNU_SOURCE
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "nachos.h"
#include "plot.h"

FILE *
plot_script(char **s, size_t *len)
{
	FILE *fp;

	*s = NULL;
	*len = 0;
	if (!(fp = open_memstream(s, len)))
		err(EX_SOFTWARE, "open_memstream");
	return fp;
}

int
plot_gnuplot(const char *script, size_t len, int fd)
{
	int p[2], status;
	pid_t pid;
	FILE *in;
	void (*old)(int);

	if (pipe(p) != 0)
		err(EX_SOFTWARE, "pipe");
	fflush(NULL);
	if ((pid = fork()) < 0)
		err(EX_SOFTWARE, "fork");
	if (pid == 0) {
		if (dup2(p[0], 0) < 0 || dup2(fd, 1) < 0)
			_exit(127);
		close(p[0]);
		close(p[1]);
		execlp("gnuplot", "gnuplot", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	if (!(in = fdopen(p[1], "w")))
		err(EX_SOFTWARE, "fdopen");
	/* gnuplot stops reading at its first error: its status tells, not a
	 * SIGPIPE in the middle of the script */
	old = signal(SIGPIPE, SIG_IGN);
	fwrite(script, 1, len, in);
	fclose(in);
	signal(SIGPIPE, old);
	if (waitpid(pid, &status, 0) < 0)
		err(EX_SOFTWARE, "waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
plot_complete(int fd)
{
	static const char png_sig[8] = "\x89PNG\r\n\x1a\n";
	static const char png_end[8] = "IEND\xae\x42\x60\x82";
	char head[8], tail[64];
	struct stat st;
	off_t n;
	ssize_t k;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 16)
		return 0;
	if (pread(fd, head, 8, 0) != 8)
		return 0;
	n = st.st_size < (off_t)sizeof(tail) ? st.st_size : (off_t)sizeof(tail);
	if ((k = pread(fd, tail, n, st.st_size - n)) != n)
		return 0;
	if (memcmp(head, png_sig, 8) == 0)
		return memcmp(tail + k - 8, png_end, 8) == 0;
	/* SVG: the closing tag, then white space at most */
	while (k > 0 && (tail[k - 1] == '\n' || tail[k - 1] == ' ' || tail[k - 1] == '\r'))
		k--;
	return k >= 6 && memcmp(tail + k - 6, "</svg>", 6) == 0;
}

void
plot_render(const char *path, const char *what, FILE *fp, char **s, size_t *len)
{
	struct cli_out o;
	FILE *fig;
	char buf[65536];
	size_t n;
	int st;

	if (fclose(fp) != 0)
		err(EX_SOFTWARE, "open_memstream");
	/* gnuplot writes into a file of ours first: what it wrote can be read
	 * back and checked whatever path is (a device, a fifo) */
	if (!(fig = tmpfile()))
		err(EX_CANTCREAT, "%s: temporary file", what);
	st = plot_gnuplot(*s, *len, fileno(fig));
	if (st != 0)
		errx(EX_CANTCREAT, "%s: gnuplot failed (status %d)%s", what, st,
		    st == 127 ? ": is gnuplot installed?" : "");
	if (!plot_complete(fileno(fig)))
		errx(EX_IOERR, "%s: the figure gnuplot wrote for %s is incomplete (disk full "
		    "or a file size limit?)", what, path);
	cli_out_open(&o, path);
	rewind(fig);
	while ((n = fread(buf, 1, sizeof(buf), fig)) > 0)
		cli_write_whole(o.fp, buf, n);
	if (ferror(fig))
		err(EX_IOERR, "%s: temporary file", what);
	fclose(fig);
	cli_out_commit(&o);
	free(*s);
	*s = NULL;
}
