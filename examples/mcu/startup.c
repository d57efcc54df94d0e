/*
 * startup.c - reset and fault vectors for a Cortex-M7 (QEMU's mps2-an500)
 * running an exported EENN's harness under newlib with semihosting
 * (--specs=rdimon.specs): the reset handler turns the FPU on and enters
 * newlib's _start, which zeroes .bss, opens stdio through the host and
 * calls main. See README.md.
 */
#include <stdint.h>

extern void _start(void);
extern void _exit(int);
extern uint32_t __stack;                /* mps2-an500.ld: top of RAM */

static void
reset(void)
{
	/* CPACR: full access to CP10 and CP11 (the FPU) before any float code */
	*(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
	__asm volatile ("dsb\n\tisb");
	_start();
	for (;;)
		;
}

/* Any fault ends the run with a failing status the host sees. */
static void
fault(void)
{
	_exit(99);
}

__attribute__((section(".vectors"), used))
static void (*const vectors[16])(void) = {
	(void (*)(void))&__stack,        /* initial stack pointer */
	reset,
	fault, fault, fault, fault, fault,   /* NMI, HardFault, MemManage, BusFault, UsageFault */
	0, 0, 0, 0,
	fault, fault, 0,                  /* SVCall, DebugMonitor */
	fault, fault,                     /* PendSV, SysTick */
};
