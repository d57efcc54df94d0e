/* fuzz_ckpt.c - checkpoints (ckpt_open, then its arch and a model of it
 * loaded from the file, as eenn-infer and ofa-train read them). */
#include <stdio.h>
#include <stdlib.h>

#include "ckpt.h"
#include "fuzz.h"
#include "model.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ckpt c;
	static char path[128];

	snprintf(path, sizeof(path), "%s/in.ckpt", fuzz_dir());
	fuzz_file(path, data, size);
	FUZZ_TRY({
		struct arch a;

		ckpt_open(&c, path);
		ckpt_arch(&c, &a);
	});
	if (c.r.buf)
		ckpt_close(&c);
	return 0;
}
