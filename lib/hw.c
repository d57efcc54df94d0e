/* hw.c - see hw.h. */
#include "hw.h"

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "nachos.h"

#define KIB 1024L
#define MIB (1024L * 1024L)

/*
 * MCUNet (Lin et al., NeurIPS 2020, Table 1) reports on these three boards
 * with these figures; they match ST's datasheets of the STM32F412xE/G,
 * STM32F745xx/F746xx and STM32H742/743 (of the H743's 1 MB of SRAM, 512 KB
 * is the one contiguous AXI SRAM a network's arena can use).
 */
const struct hw_target hw_targets[] = {
	{ "stm32f412", 1 * MIB, 256 * KIB, "STM32F412, Cortex-M4 at 100 MHz" },
	{ "stm32f746", 1 * MIB, 320 * KIB, "STM32F746, Cortex-M7 at 216 MHz" },
	{ "stm32h743", 2 * MIB, 512 * KIB, "STM32H743, Cortex-M7 at 480 MHz" },
	{ NULL, 0, 0, NULL },
};

void
hw_limits_init(struct hw_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->dtype = SCHED_INT8;
}

int
hw_limited(const struct hw_limits *l)
{
	return l->flash_max > 0 || l->sram_max > 0;
}

int
hw_parse_bytes(const char *s, long *out, const char **why)
{
	const char *p;
	char *end;
	double v, mul = 1;

	*why = NULL;
	/* strtod would take "inf", "nan", hex and a sign: digits or a point only */
	if (!isdigit((unsigned char)s[0]) && !(s[0] == '.' && isdigit((unsigned char)s[1]))) {
		*why = "not a byte size (a number, optionally with K or M)";
		return -1;
	}
	for (p = s; isdigit((unsigned char)*p) || *p == '.'; p++)
		;
	if (*p == 'e' || *p == 'E' || *p == 'x' || *p == 'X') {
		*why = "not a byte size (a number, optionally with K or M)";
		return -1;
	}
	errno = 0;
	v = strtod(s, &end);
	if (end != p || errno == ERANGE) {
		*why = "not a byte size (a number, optionally with K or M)";
		return -1;
	}
	if (*p == 'k' || *p == 'K')
		mul = KIB, p++;
	else if (*p == 'm' || *p == 'M')
		mul = MIB, p++;
	if (mul > 1 && (strcasecmp(p, "b") == 0 || strcasecmp(p, "ib") == 0))
		p += strlen(p);
	else if (mul == 1 && strcasecmp(p, "b") == 0)
		p++;
	if (*p != '\0') {
		*why = "unknown unit (bytes, K = 1024 bytes or M = 1048576 bytes)";
		return -1;
	}
	v *= mul;
	if (v != floor(v)) {
		*why = "not a whole number of bytes";
		return -1;
	}
	if (v < 1) {
		*why = "a limit of 0 bytes";
		return -1;
	}
	if (v > (double)(1L << 50)) {
		*why = "more than 2^50 bytes";
		return -1;
	}
	*out = (long)v;
	return 0;
}

long
hw_bytes(const char *opt, const char *s)
{
	const char *why;
	long v;

	if (hw_parse_bytes(s, &v, &why) < 0)
		errx(EX_USAGE, "%s: \"%s\": %s", opt, s, why);
	return v;
}

static const struct hw_target *
find_target(const char *name)
{
	char list[256] = "";
	int i;

	for (i = 0; hw_targets[i].name; i++) {
		if (strcasecmp(name, hw_targets[i].name) == 0)
			return &hw_targets[i];
		if (i)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, hw_targets[i].name, sizeof(list) - strlen(list) - 1);
	}
	errx(EX_USAGE, "--target: \"%s\" is not one of %s", name, list);
}

int
hw_option(struct hw_limits *l, int c, const char *arg)
{
	const struct hw_target *t;

	switch (c) {
	case HW_O_FLASH:
		l->flash_max = hw_bytes("--flash-max", arg);
		l->set |= HW_SET_FLASH;
		return 1;
	case HW_O_SRAM:
		l->sram_max = hw_bytes("--sram-max", arg);
		l->set |= HW_SET_SRAM;
		return 1;
	case HW_O_TARGET:
		t = find_target(arg);
		l->target = t->name;
		if (!(l->set & HW_SET_FLASH))
			l->flash_max = t->flash;
		if (!(l->set & HW_SET_SRAM))
			l->sram_max = t->sram;
		return 1;
	case HW_O_DTYPE:
		l->dtype = cli_choice("--mem-dtype", arg, sched_dtype_names);
		return 1;
	}
	return 0;
}

void
hw_describe(char *buf, size_t n, const struct hw_limits *l)
{
	char f[48] = "", s[48] = "";

	if (!hw_limited(l)) {
		snprintf(buf, n, "no memory limits");
		return;
	}
	if (l->flash_max > 0)
		snprintf(f, sizeof(f), "flash <= %ld B", l->flash_max);
	if (l->sram_max > 0)
		snprintf(s, sizeof(s), "SRAM <= %ld B", l->sram_max);
	snprintf(buf, n, "%s%s%s at %s%s%s%s", f, *f && *s ? ", " : "", s,
	    sched_dtype_names[l->dtype], l->target ? " (" : "", l->target ? l->target : "",
	    l->target ? ")" : "");
}

void
hw_mem(struct hw_mem *m, const struct arch_net *n)
{
	struct sched *s = cli_calloc(1, sizeof(*s));   /* too big for a stack */
	int d, i;

	sched_build(s, n, n->a.in_ch);
	m->nexit = s->nseg;
	for (d = 0; d < SCHED_NDTYPE; d++) {
		m->flash[d] = sched_const_bytes(s, d);
		m->sram[d] = sched_arena_bytes(s, d);
		for (i = 0; i < s->nseg; i++)
			m->sram_to[d][i] = sched_arena_to_bytes(s, i, d);
	}
	free(s);
}

double
hw_violation(const struct hw_mem *m, const struct hw_limits *l, char *why, size_t n)
{
	long f = m->flash[l->dtype], r = m->sram[l->dtype];
	double v = 0;
	size_t len = 0;

	if (why && n)
		*why = '\0';
	if (l->flash_max > 0 && f > l->flash_max) {
		v += (double)f / l->flash_max - 1;
		if (why && len < n)
			len += snprintf(why + len, n - len, "flash %ld B > %ld B", f, l->flash_max);
	}
	if (l->sram_max > 0 && r > l->sram_max) {
		v += (double)r / l->sram_max - 1;
		if (why && len < n)
			snprintf(why + len, n - len, "%sSRAM %ld B > %ld B", len ? ", " : "", r,
			    l->sram_max);
	}
	return v;
}

double
hw_arch_violation(const struct arch *a, const struct hw_limits *l, char *why, size_t n)
{
	struct arch_net *net;
	struct hw_mem m;

	if (!hw_limited(l)) {
		if (why && n)
			*why = '\0';
		return 0;
	}
	net = cli_calloc(1, sizeof(*net));
	arch_net_build(net, a);
	hw_mem(&m, net);
	free(net);
	return hw_violation(&m, l, why, n);
}

void
hw_mem_put(struct rec_out *o, const struct hw_mem *m)
{
	char k[32];
	int d;

	/* the keys and order of eenn-export's record (lib/export_rec.c) */
	for (d = 0; d < SCHED_NDTYPE; d++) {
		snprintf(k, sizeof(k), "sram_bytes_%s", sched_dtype_names[d]);
		rec_put_int(o, k, m->sram[d]);
		snprintf(k, sizeof(k), "sram_exit_bytes_%s", sched_dtype_names[d]);
		rec_put_longs(o, k, m->sram_to[d], m->nexit);
		snprintf(k, sizeof(k), "flash_bytes_%s", sched_dtype_names[d]);
		rec_put_int(o, k, m->flash[d]);
	}
}

double
hw_genome_violation(const struct arch *base, const int *g, const struct hw_limits *l)
{
	struct arch a = *base;
	int bad;

	if (!hw_limited(l))
		return 0;
	if (arch_from_genome(&a, g, &bad) < 0)
		errx(EX_SOFTWARE, "hw_genome_violation: gene %d out of its bounds", bad);
	return hw_arch_violation(&a, l, NULL, 0);
}

double
hw_record_violation(const struct rec_in *r, const msgpack_object *m, const struct hw_limits *l)
{
	struct arch a;

	if (!hw_limited(l))
		return 0;
	arch_read(&a, r, m);
	return hw_arch_violation(&a, l, NULL, 0);
}

int
hw_record_mem(struct hw_mem *mm, const struct rec_in *r, const msgpack_object *m)
{
	struct arch_net *net;
	struct arch a;

	if (!rec_get(m, "space"))
		return 0;
	arch_read(&a, r, m);
	net = cli_calloc(1, sizeof(*net));
	arch_net_build(net, &a);
	hw_mem(mm, net);
	free(net);
	return 1;
}
