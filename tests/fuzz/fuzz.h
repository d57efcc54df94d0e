/*
 * fuzz.h - what the libFuzzer harnesses share. The readers stop the tool on
 * bad input (err(3), exit(3)); the harnesses are linked with those wrapped
 * (-Wl,--wrap=exit,--wrap=err,...) so that an exit returns to the harness
 * with its status instead of ending the fuzzer. An exit status of 70
 * (EX_SOFTWARE: out of memory or an internal error) on any input is a
 * finding and aborts; 65 and the other statuses are the readers' answers.
 *
 * FUZZ_TRY(code) runs code; bad input lands in fuzz_status.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

extern jmp_buf fuzz_jb;
extern volatile int fuzz_status;
extern int fuzz_armed;

/* Each reader: one input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A descriptor reading data: a memfd (a regular file, its size known) when
 * as_pipe is 0, else a pipe (size unknown; inputs are below its 64 KiB). */
int fuzz_fd(const uint8_t *data, size_t size, int as_pipe);
/* Write data to path (a file of the fuzzer's own temporary directory). */
void fuzz_file(const char *path, const uint8_t *data, size_t size);
/* The fuzzer's temporary directory (made once). */
const char *fuzz_dir(void);
/* After an exit: abort on EX_SOFTWARE, the status that bad input must never give. */
void fuzz_check(void);

#define FUZZ_TRY(...) do { \
	fuzz_armed = 1; \
	if (setjmp(fuzz_jb) == 0) { __VA_ARGS__; } \
	fuzz_armed = 0; \
	fuzz_check(); \
} while (0)

#endif
