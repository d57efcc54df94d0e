/* fuzz_json.c - json2rec's path: a JSON line widened (rec_json_widen), to
 * a record, checked as the readers would check it, then read back by
 * rec_next. */
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "rec.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static msgpack_sbuffer sb;
	static json_t *j;
	static struct rec_in r;
	static int fd = -1;
	static volatile int read;
	msgpack_packer pk;
	char msg[200], *wide;
	size_t wlen;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	wide = rec_json_widen((const char *)data, size, &wlen);
	j = json_loadb(wide ? wide : (const char *)data, wide ? wlen : size, JSON_DECODE_ANY, NULL);
	free(wide);
	if (j && rec_from_json(&pk, j, msg, sizeof(msg)) == 0 &&
	    rec_check(sb.data, sb.size, msg, sizeof(msg)) == 0) {
		/* What json2rec lets out, every reader takes in. */
		fd = fuzz_fd((const uint8_t *)sb.data, sb.size, 0);
		rec_in_fd(&r, fd, "fuzz");
		read = 0;
		FUZZ_TRY({ rec_next(&r); read = 1; });
		/* A line json2rec takes (an object with type and v) reads back. */
		if (json_is_object(j) && json_is_string(json_object_get(j, "type")) &&
		    json_is_integer(json_object_get(j, "v")) &&
		    json_integer_value(json_object_get(j, "v")) >= 0 && !read)
			abort();
		rec_in_close(&r);
		close(fd);
	}
	json_decref(j);
	msgpack_sbuffer_destroy(&sb);
	return 0;
}
