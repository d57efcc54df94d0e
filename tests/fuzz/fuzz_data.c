/* fuzz_data.c - dataset files: the first byte picks the reader (IDX images
 * and labels, the raw format, CIFAR-10 batches), the rest is the file. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct data_set d, te;
	static const uint8_t one[3073];   /* a CIFAR record: label 0, black */
	char p[160], q[160];
	int k;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		/* images and labels from the one input, split at its middle */
		snprintf(p, sizeof(p), "%s/img", fuzz_dir());
		snprintf(q, sizeof(q), "%s/lab", fuzz_dir());
		fuzz_file(p, data + 1, (size - 1) / 2);
		fuzz_file(q, data + 1 + (size - 1) / 2, size - 1 - (size - 1) / 2);
		FUZZ_TRY(data_load_idx(&d, p, q));
		break;
	case 1:
		snprintf(p, sizeof(p), "%s/raw", fuzz_dir());
		fuzz_file(p, data + 1, size - 1);
		FUZZ_TRY(data_load_raw(&d, p));
		break;
	default:
		/* a CIFAR-10 directory: the input as data_batch_3.bin */
		snprintf(p, sizeof(p), "%s/cifar", fuzz_dir());
		mkdir(p, 0700);
		for (k = 0; k < 6; k++) {
			if (k < 5)
				snprintf(q, sizeof(q), "%s/data_batch_%d.bin", p, k + 1);
			else
				snprintf(q, sizeof(q), "%s/test_batch.bin", p);
			if (k == 2)
				fuzz_file(q, data + 1, size - 1);
			else
				fuzz_file(q, one, sizeof(one));
		}
		FUZZ_TRY(data_load(&d, &te, p));
		break;
	}
	data_free(&d);
	data_free(&te);
	return 0;
}
