/* fuzz_rec.c - the record reader (rec_next: bounded msgpack, header checks)
 * and rec2json's writer (rec_to_json: UTF-8, keys), from a file or a pipe. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "rec.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rec_in r;     /* static: still valid after a longjmp */
	static int fd = -1;
	static FILE *out;

	if (out == NULL && (out = fopen("/dev/null", "w")) == NULL)
		abort();
	fd = fuzz_fd(data, size, size > 0 && (data[0] & 1));
	FUZZ_TRY({
		const msgpack_object *m;
		char key[64], msg[200];

		rec_in_fd(&r, fd, "fuzz");
		while ((m = rec_next(&r)) != NULL)
			rec_to_json(out, m, r.n & 1, key, sizeof(key), msg, sizeof(msg));
	});
	rec_in_close(&r);
	close(fd);
	return 0;
}
