/*
 * count.c - instructions per exit of an exported EENN on the emulated
 * Cortex-M7: a harness over the step-wise API (NAME eenn) that runs every
 * segment of each image and reads SysTick after each step. Under
 * qemu-system-arm -icount shift=0 an instruction takes 1 ns of virtual
 * time and SysTick counts the 25 MHz processor clock, so one tick is 40
 * instructions: the figures are instructions to within 40. Prints per
 * image the cumulative count after exit 1, 2, ..., B. See run.sh -c.
 */
#include <stdint.h>
#include <stdio.h>

#include "eenn.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)
#define INSN_PER_TICK 40        /* 1 GHz of icount over the 25 MHz SysTick */

int
main(int argc, char **argv)
{
	unsigned char img[EENN_IMG_C * EENN_IMG_H * EENN_IMG_W];
	uint32_t tick[EENN_EXITS], t0;
	FILE *fp = argc > 1 ? fopen(argv[1], "rb") : NULL;
	int e;

	if (fp == NULL) {
		fprintf(stderr, "count: cannot open the images\n");
		return 66;
	}
	SYST_RVR = 0xFFFFFF;
	SYST_CVR = 0;
	SYST_CSR = 5;                   /* enabled, processor clock, no interrupt */
	while (fread(img, 1, sizeof(img), fp) == sizeof(img)) {
		struct eenn_state st;

		t0 = SYST_CVR;
		eenn_begin(&st, img);
		for (e = 0; e < EENN_EXITS; e++) {
			eenn_step(&st);
			tick[e] = SYST_CVR;
		}
		for (e = 0; e < EENN_EXITS; e++)
			printf("%lu%c", (unsigned long)(((t0 - tick[e]) & 0xFFFFFF) *
			    INSN_PER_TICK), e < EENN_EXITS - 1 ? ' ' : '\n');
	}
	return 0;
}
