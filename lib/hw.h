/*
 * hw.h - the hardware limits of a search: a flash and an SRAM budget in
 * bytes (option values with K and M suffixes, or a board's preset), and
 * the one rule that says whether an EENN fits them. The sizes themselves
 * are lib/schedule's (the schedule eenn-export generates); this module only
 * compares them with the limits.
 */
#ifndef HW_H
#define HW_H

#include <getopt.h>
#include <stddef.h>

#include "arch.h"
#include "schedule.h"

/* A board: its usable flash and SRAM (sources in man 7 nachos, TARGETS). */
struct hw_target {
	const char *name;
	long flash, sram;       /* bytes */
	const char *what;       /* core and board, for messages and the man page */
};
extern const struct hw_target hw_targets[];   /* ends with a NULL name */

struct hw_limits {
	long flash_max, sram_max;       /* bytes; 0 = no limit */
	enum sched_dtype dtype;         /* the build checked: int8 unless --mem-dtype */
	const char *target;             /* preset name, or NULL */
	int set;                        /* HW_SET_* bits: given explicitly */
};
#define HW_SET_FLASH 1
#define HW_SET_SRAM 2

/* No limits, int8. */
void hw_limits_init(struct hw_limits *l);
/* Any limit set? */
int hw_limited(const struct hw_limits *l);

/*
 * A byte size: a decimal number (a fraction allowed before a suffix),
 * optionally followed by K (1024) or M (1048576), either case, optionally
 * with B or iB after it ("320K", "320KB", "320KiB", "1.5M", "4096").
 * K is 1024 because microcontroller datasheets count so (320 KB of SRAM is
 * 327680 bytes). Returns 0 and the size in *out, or -1 (malformed, not a
 * whole number of bytes, 0, or above 2^50) with the reason in why.
 */
int hw_parse_bytes(const char *s, long *out, const char **why);
/* hw_parse_bytes or exit EX_USAGE naming opt and the value. */
long hw_bytes(const char *opt, const char *s);

/*
 * The options every tool that takes limits accepts, as getopt_long
 * entries and codes: --flash-max BYTES, --sram-max BYTES, --target NAME,
 * --mem-dtype int8|f32. A tool puts HW_LONGOPTS in its option table and
 * passes these codes to hw_option. A limit given explicitly wins over the
 * target's, whatever the order.
 */
enum { HW_O_FLASH = 0x4800, HW_O_SRAM, HW_O_TARGET, HW_O_DTYPE };
#define HW_LONGOPTS \
	{ "flash-max", required_argument, NULL, HW_O_FLASH }, \
	{ "sram-max", required_argument, NULL, HW_O_SRAM }, \
	{ "target", required_argument, NULL, HW_O_TARGET }, \
	{ "mem-dtype", required_argument, NULL, HW_O_DTYPE }
#define HW_USAGE "[--flash-max BYTES] [--sram-max BYTES] [--target NAME]\n" \
	"             [--mem-dtype int8|f32]"
/* Handle option c (one of HW_O_*) with its argument; returns 1 if it was
 * one of them, 0 otherwise. A bad value exits EX_USAGE. */
int hw_option(struct hw_limits *l, int c, const char *arg);
/* The limits as a short text ("flash <= 1048576 B, SRAM <= 327680 B at
 * int8 (stm32f746)"), for logs and reports. */
void hw_describe(char *buf, size_t n, const struct hw_limits *l);

/*
 * The memory an EENN needs on the board, per dtype (enum sched_dtype
 * order), as lib/schedule plans it for eenn-export: flash, the constant
 * data (weights, biases, requantisation, tables; code comes on top);
 * SRAM, the activation arena of the whole EENN and of its segments up to
 * each exit (a network cut after exit i needs sram_to[i]).
 */
struct hw_mem {
	int nexit;
	long flash[SCHED_NDTYPE];
	long sram[SCHED_NDTYPE];
	long sram_to[SCHED_NDTYPE][ARCH_EXITS + 1];
};
void hw_mem(struct hw_mem *m, const struct arch_net *n);

/* Put m as record keys, as eenn-export names them: per dtype D (f32,
 * int8) sram_bytes_D, sram_exit_bytes_D (B integers) and flash_bytes_D. */
void hw_mem_put(struct rec_out *o, const struct hw_mem *m);

/*
 * How far m breaks the limits at their dtype: the sum over the limits set
 * of max(0, used / limit - 1), so 0 is a fit and flash and SRAM weigh
 * alike (NSGA-II's constraint violation). why (may be NULL, n bytes)
 * receives the broken limits in words, or "".
 */
double hw_violation(const struct hw_mem *m, const struct hw_limits *l, char *why, size_t n);
/* hw_mem and hw_violation of arch a (its network built here). */
double hw_arch_violation(const struct arch *a, const struct hw_limits *l, char *why, size_t n);
/* The same for the arch keys of record m (any type; bad or missing arch
 * keys fail via rec_fail). 0 without limits, reading nothing. */
double hw_record_violation(const struct rec_in *r, const msgpack_object *m,
    const struct hw_limits *l);
/* hw_mem of the arch keys of record m; 0 when m has no "space" key (a
 * record that names no network), 1 done. Bad arch keys fail via rec_fail. */
int hw_record_mem(struct hw_mem *mm, const struct rec_in *r, const msgpack_object *m);
/* The same for genome g of base's space and input (NSGA-II's exact
 * constraint: computed from the genome, never predicted). */
double hw_genome_violation(const struct arch *base, const int *g, const struct hw_limits *l);

#endif
