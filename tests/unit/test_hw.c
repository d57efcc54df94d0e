/* test_hw.c - byte sizes (accepted forms, malformed values), the board
 * presets, explicit limits winning over a target's. */
#include <string.h>

#include "hw.h"
#include "unit.h"

static long
ok(const char *s)
{
	const char *why;
	long v = -1;

	if (hw_parse_bytes(s, &v, &why) < 0) {
		fprintf(stderr, "    \"%s\" refused: %s\n", s, why);
		return -1;
	}
	return v;
}

static int
bad(const char *s)
{
	const char *why = NULL;
	long v = 12345;

	return hw_parse_bytes(s, &v, &why) < 0 && why != NULL && v == 12345;
}

static void
test_bytes(void)
{
	CHECK_EQ_L(ok("4096"), 4096);
	CHECK_EQ_L(ok("4096B"), 4096);
	CHECK_EQ_L(ok("320K"), 327680);
	CHECK_EQ_L(ok("320k"), 327680);
	CHECK_EQ_L(ok("320KB"), 327680);
	CHECK_EQ_L(ok("320KiB"), 327680);
	CHECK_EQ_L(ok("1M"), 1048576);
	CHECK_EQ_L(ok("1mb"), 1048576);
	CHECK_EQ_L(ok("1.5M"), 1572864);
	CHECK_EQ_L(ok("0.5K"), 512);
	CHECK_EQ_L(ok(".5K"), 512);
	CHECK(bad(""));
	CHECK(bad("K"));
	CHECK(bad("-1"));
	CHECK(bad("+5"));
	CHECK(bad("0"));
	CHECK(bad("0K"));
	CHECK(bad("1.5"));        /* not a whole number of bytes */
	CHECK(bad("0.1K"));       /* 102.4 bytes */
	CHECK(bad("1e6"));
	CHECK(bad("0x100"));
	CHECK(bad("inf"));
	CHECK(bad("nan"));
	CHECK(bad("12Q"));
	CHECK(bad("1G"));
	CHECK(bad("1KK"));
	CHECK(bad("1 K"));
	CHECK(bad("1Kx"));
	CHECK(bad("1.2.3K"));
	CHECK(bad("99999999999999999999M"));
}

static void
test_targets(void)
{
	struct hw_limits l;
	int i, f746 = 0;
	char buf[128];

	for (i = 0; hw_targets[i].name; i++) {
		CHECK(hw_targets[i].flash > 0 && hw_targets[i].sram > 0);
		if (strcmp(hw_targets[i].name, "stm32f746") == 0) {
			f746 = 1;
			CHECK_EQ_L(hw_targets[i].flash, 1048576);
			CHECK_EQ_L(hw_targets[i].sram, 327680);
		}
	}
	CHECK(f746);
	hw_limits_init(&l);
	CHECK(!hw_limited(&l));
	CHECK(l.dtype == SCHED_INT8);
	/* explicit flash before the target: kept; SRAM from the target */
	CHECK(hw_option(&l, HW_O_FLASH, "512K"));
	CHECK(hw_option(&l, HW_O_TARGET, "STM32F746"));
	CHECK_EQ_L(l.flash_max, 524288);
	CHECK_EQ_L(l.sram_max, 327680);
	/* explicit SRAM after it: wins too */
	CHECK(hw_option(&l, HW_O_SRAM, "100K"));
	CHECK_EQ_L(l.sram_max, 102400);
	CHECK(hw_option(&l, HW_O_DTYPE, "f32"));
	CHECK(l.dtype == SCHED_F32);
	CHECK(!hw_option(&l, 'x', "1"));
	hw_describe(buf, sizeof(buf), &l);
	CHECK(strcmp(buf, "flash <= 524288 B, SRAM <= 102400 B at f32 (stm32f746)") == 0);
}

int
main(void)
{
	test_bytes();
	test_targets();
	return unit_done("hw");
}
