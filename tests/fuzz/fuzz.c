/* fuzz.c - see fuzz.h. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

jmp_buf fuzz_jb;
volatile int fuzz_status;
int fuzz_armed;

void __real_exit(int) __attribute__((noreturn));

static void __attribute__((noreturn))
leave(int status)
{
	if (!fuzz_armed)
		__real_exit(status);
	fuzz_status = status;
	fuzz_armed = 0;
	longjmp(fuzz_jb, 1);
}

void __wrap_exit(int status) { leave(status); }

/* The gzip files a reader stopped by an error left open, closed after it. */
#include <zlib.h>
gzFile __real_gzopen(const char *, const char *);
int __real_gzclose(gzFile);
static gzFile open_gz[8];

gzFile
__wrap_gzopen(const char *path, const char *mode)
{
	gzFile g = __real_gzopen(path, mode);
	int i;

	for (i = 0; g && i < 8; i++)
		if (open_gz[i] == NULL) {
			open_gz[i] = g;
			break;
		}
	return g;
}

int
__wrap_gzclose(gzFile g)
{
	int i;

	for (i = 0; i < 8; i++)
		if (open_gz[i] == g)
			open_gz[i] = NULL;
	return __real_gzclose(g);
}
void __wrap_err(int status, const char *fmt, ...) { (void)fmt; leave(status); }
void __wrap_errx(int status, const char *fmt, ...) { (void)fmt; leave(status); }
void __wrap_verr(int status, const char *fmt, va_list ap) { (void)fmt, (void)ap; leave(status); }
void __wrap_verrx(int status, const char *fmt, va_list ap) { (void)fmt, (void)ap; leave(status); }

void
fuzz_check(void)
{
	static int base = -1;

	/* A reader stopped by an error leaves its file open: close what the
	 * input opened (descriptors from the first free one at the start). */
	if (base < 0) {
		base = dup(0);
		close(base);
		base += 16;
	}
	for (int i = 0; i < 8; i++)
		if (open_gz[i])
			__wrap_gzclose(open_gz[i]);
	close_range(base, ~0U, 0);
	if (fuzz_status == 70) {
		fprintf(stderr, "fuzz: exit 70 (EX_SOFTWARE) on an input\n");
		abort();
	}
	fuzz_status = 0;
}

int
fuzz_fd(const uint8_t *data, size_t size, int as_pipe)
{
	int fd[2];

	if (as_pipe && size < 65536) {
		if (pipe(fd) != 0 || write(fd[1], data, size) != (ssize_t)size)
			abort();
		close(fd[1]);
		return fd[0];
	}
	if ((fd[0] = memfd_create("fuzz", 0)) < 0 ||
	    (size && write(fd[0], data, size) != (ssize_t)size) || lseek(fd[0], 0, SEEK_SET) != 0)
		abort();
	return fd[0];
}

const char *
fuzz_dir(void)
{
	static char dir[64];

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/nachos-fuzz.XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
	}
	return dir;
}

void
fuzz_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
}
