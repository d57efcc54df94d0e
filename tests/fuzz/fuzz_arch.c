/* fuzz_arch.c - arch records (arch_read_typed, as ofa-sample's consumers
 * read them), each then built into a network and its MACs counted. */
#include <stdlib.h>
#include <unistd.h>

#include "arch.h"
#include "fuzz.h"
#include "rec.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rec_in r;
	static int fd = -1;

	fd = fuzz_fd(data, size, 0);
	rec_in_fd(&r, fd, "fuzz");
	FUZZ_TRY({
		const msgpack_object *o;

		while ((o = rec_next(&r)) != NULL) {
			struct arch a;
			struct arch_net n;

			arch_read_typed(&a, &r, o);
			arch_net_build(&n, &a);
			arch_net_macs_to(&n, 5);
		}
	});
	rec_in_close(&r);
	close(fd);
	return 0;
}
