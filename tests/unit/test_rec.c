/* test_rec.c - rec_files: the records of several files in turn, an empty
 * file among them, and stdin when there are no file arguments. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rec.h"
#include "unit.h"

/* A file of n "t" records whose "k" counts from first. */
static void
write_recs(const char *path, int first, int n)
{
	struct rec_out o;
	FILE *fp = fopen(path, "wb");
	int i;

	if (!fp) {
		perror(path);
		exit(1);
	}
	rec_out_init(&o);
	for (i = 0; i < n; i++) {
		rec_out_begin(&o, NULL, "t", 1);
		rec_put_int(&o, "k", first + i);
		rec_out_end(&o, fp);
	}
	rec_out_free(&o);
	fclose(fp);
}

static void
test_files(const char *dir)
{
	char a[256], e[256], b[256];
	char *paths[3] = { a, e, b };
	static const int want_i[] = { 0, 0, 0, 2, 2 };
	static const long want_n[] = { 1, 2, 3, 1, 2 };
	struct rec_files in;
	const msgpack_object *m;
	int got = 0;

	snprintf(a, sizeof(a), "%s/a.rec", dir);
	snprintf(e, sizeof(e), "%s/empty.rec", dir);
	snprintf(b, sizeof(b), "%s/b.rec", dir);
	write_recs(a, 0, 3);
	write_recs(e, 0, 0);
	write_recs(b, 3, 2);
	rec_files_init(&in, 3, paths);
	while ((m = rec_files_next(&in)) != NULL) {
		CHECK(got < 5);
		if (got >= 5)
			break;
		/* in order across files; the empty file gives nothing */
		CHECK_EQ_L(rec_int(&in.r, m, "k", 0, 100), got);
		CHECK_EQ_L(in.i, want_i[got]);
		CHECK_EQ_L(in.r.n, want_n[got]);
		CHECK(strcmp(in.r.name, paths[want_i[got]]) == 0);
		got++;
	}
	CHECK_EQ_L(got, 5);
	CHECK(!in.open);
	CHECK(rec_files_next(&in) == NULL);

	/* only an empty file */
	rec_files_init(&in, 1, paths + 1);
	CHECK(rec_files_next(&in) == NULL);
	CHECK(rec_files_next(&in) == NULL);
}

static void
test_stdin(const char *dir)
{
	char path[256];
	struct rec_files in;
	const msgpack_object *m;
	int fd, saved = dup(STDIN_FILENO), got = 0;

	snprintf(path, sizeof(path), "%s/in.rec", dir);
	write_recs(path, 7, 2);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && saved >= 0);
	dup2(fd, STDIN_FILENO);
	close(fd);
	rec_files_init(&in, 0, NULL);
	while ((m = rec_files_next(&in)) != NULL) {
		CHECK_EQ_L(rec_int(&in.r, m, "k", 0, 100), 7 + got);
		CHECK(strcmp(in.r.name, "stdin") == 0);
		CHECK_EQ_L(in.i, 0);
		got++;
	}
	CHECK_EQ_L(got, 2);
	/* stdin is read once, not reopened */
	CHECK(rec_files_next(&in) == NULL);
	dup2(saved, STDIN_FILENO);
	close(saved);
}

int
main(void)
{
	char dir[] = "/tmp/test_rec.XXXXXX";
	char cmd[64];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_files(dir);
	test_stdin(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_rec: could not remove %s\n", dir);
	return unit_done("test_rec");
}
