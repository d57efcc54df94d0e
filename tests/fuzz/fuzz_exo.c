/* fuzz_exo.c - exit-output records (exo_parse, as thresh-tune reads them). */
#include <stdlib.h>
#include <unistd.h>

#include "exo.h"
#include "fuzz.h"
#include "rec.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rec_in r;
	static struct exo e;
	static int fd = -1;

	fd = fuzz_fd(data, size, 0);
	rec_in_fd(&r, fd, "fuzz");
	FUZZ_TRY({
		const msgpack_object *o;

		while ((o = rec_next(&r)) != NULL) {
			exo_parse(&e, &r, o);
			exo_free(&e);
		}
	});
	exo_free(&e);
	rec_in_close(&r);
	close(fd);
	return 0;
}
