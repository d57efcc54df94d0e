/* fuzz_model.c - model records (sur_read, as surrogate-fit -p and
 * nsga-step read them), each then asked for a prediction. */
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "rec.h"
#include "sur.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rec_in r;
	static struct sur_model m;
	static int fd = -1;

	fd = fuzz_fd(data, size, 0);
	rec_in_fd(&r, fd, "fuzz");
	FUZZ_TRY({
		const msgpack_object *o;

		while ((o = rec_next(&r)) != NULL) {
			double x[64] = { 0 };

			sur_read(&m, &r, o);
			if (m.d <= 64)
				sur_predict(&m, x);
			sur_free(&m);
		}
	});
	sur_free(&m);     /* what a failed read had allocated (m is zeroed first) */
	rec_in_close(&r);
	close(fd);
	return 0;
}
