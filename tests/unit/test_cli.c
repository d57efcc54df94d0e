/* test_cli.c - the write-then-rename output: an error exit between open
 * and commit leaves no temporary file; a path that is not a regular file is
 * written in place, never renamed over; commit puts the bytes at path. */
#define _GNU_SOURCE
#include <dirent.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "unit.h"

static char dir[64];

static int
entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Exit status of a child that opens path and then fails via errx. */
static int
fail_after_open(const char *path)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		struct cli_out o;

		freopen("/dev/null", "w", stderr);
		cli_out_open(&o, path);
		fputs("half", o.fp);
		errx(65, "a bad record after the output was opened");
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_err_leaves_nothing(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/out.rec", dir);
	CHECK_EQ_L(fail_after_open(p), 65);
	CHECK_EQ_L(entries(), 0);
}

static void
test_commit(void)
{
	struct cli_out o;
	char p[128], buf[16] = "";
	FILE *f;

	snprintf(p, sizeof(p), "%s/out.rec", dir);
	cli_out_open(&o, p);
	fputs("whole", o.fp);
	cli_out_commit(&o);
	f = fopen(p, "r");
	CHECK(f && fgets(buf, sizeof(buf), f) && strcmp(buf, "whole") == 0);
	if (f)
		fclose(f);
	CHECK_EQ_L(entries(), 1);
	/* an error before the next commit keeps the old file whole */
	CHECK_EQ_L(fail_after_open(p), 65);
	CHECK_EQ_L(entries(), 1);
	unlink(p);
}

static void
test_fifo_in_place(void)
{
	char p[128], buf[16] = "";
	struct stat st;
	pid_t pid;
	FILE *f;
	int s;

	snprintf(p, sizeof(p), "%s/fifo", dir);
	CHECK(mkfifo(p, 0600) == 0);
	if ((pid = fork()) == 0) {
		struct cli_out o;

		cli_out_open(&o, p);
		fputs("through", o.fp);
		cli_out_commit(&o);
		_exit(0);
	}
	f = fopen(p, "r");
	CHECK(f && fgets(buf, sizeof(buf), f) && strcmp(buf, "through") == 0);
	if (f)
		fclose(f);
	waitpid(pid, &s, 0);
	CHECK(WIFEXITED(s) && WEXITSTATUS(s) == 0);
	CHECK(stat(p, &st) == 0 && S_ISFIFO(st.st_mode));
	CHECK_EQ_L(entries(), 1);
	unlink(p);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_cli.XXXXXX");
	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	test_err_leaves_nothing();
	test_commit();
	test_fifo_in_place();
	rmdir(dir);
	return unit_done("test_cli");
}
