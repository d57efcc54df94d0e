/*
 * nn_par.c - the engine's thread pool (nn.h: nn_threads, nn_par).
 *
 * Why not OpenMP: at the end of every parallel region all its threads must
 * arrive, so on a machine with other busy processes each of the few hundred
 * regions of a training step waited for whichever thread the OS had
 * descheduled (2 threads 10x slower than 1 beside one busy process), and
 * libgomp's long spin-waits starved our own threads whenever two of them
 * shared a core. Here the caller takes part in its own job and returns as
 * soon as every task is done: a helper the OS is not running claims no
 * task, so it delays nothing but a task it already holds. Helpers spin a
 * little between jobs (the ops of a step follow each other within
 * microseconds), then sleep on a futex; the caller waits the same way.
 *
 * Tasks are claimed one at a time from a counter that carries the job's
 * generation in its high bits, so a helper that wakes late cannot claim a
 * task of a newer job as one of the old.
 *
 * When the machine is busy the helpers still cost something: a task a
 * helper holds when the OS preempts it waits for its next time slice. So
 * each job also estimates what the caller alone would have taken (its own
 * time per task times the tasks) and, when the helpers' jobs ran slower
 * than that over a window, the pool runs jobs on the caller alone for a
 * while, then tries the helpers again (backing off while they keep losing).
 * Results do not change: they never depend on who runs a task.
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <err.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "nachos.h"
#include "nn.h"
#include "nn_impl.h"

#define MAX_THREADS 256
/* Pause-loop rounds before sleeping: some tens of microseconds. */
#define SPIN 4000

static struct {
	void (*fn)(void *, long);
	void *ctx;
	_Atomic long n;                /* tasks of the current job */
	_Atomic uint64_t next;         /* generation << 32 | next task index */
	_Atomic int gen;               /* futex word helpers sleep on */
	_Atomic int sleepers;          /* helpers asleep or about to be */
	_Atomic int done;              /* tasks finished (futex word of the caller) */
	_Atomic int waiting;           /* the caller sleeps on done */
	int nthreads;                  /* nn_threads: the caller + helpers */
	int started;                   /* helper threads created */
	_Atomic int active;            /* helpers that may take part (nthreads - 1) */
	_Atomic int busy;              /* a caller is using the pool */
} P = { .nthreads = 1 };

/* Judging the helpers: windows of jobs with them, pauses without. */
#define WINDOW 0.02      /* seconds of helped jobs per verdict */
#define PAUSE_MIN 0.05   /* seconds alone after a losing window, doubling */
#define PAUSE_MAX 2.0

static struct {
	double helped, alone;        /* this window: actual seconds, the caller-alone estimate */
	double until;                /* run alone until then */
	double pause;                /* the next pause */
} J = { .pause = PAUSE_MIN };

static __thread int in_par;        /* inside a task: nested calls run serially */

static void
futex_wait(_Atomic int *w, int v)
{
	syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}

static void
futex_wake(_Atomic int *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static inline void
relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Claim and run tasks of generation g until none is left; returns how many
 * this thread ran. */
static long
work(uint32_t g)
{
	long ran = 0;

	uint64_t v = atomic_load(&P.next);

	for (;;) {
		long i, n;

		if ((uint32_t)(v >> 32) != g)
			return ran;
		/* n before the exchange: the caller moves the counter to the
		 * next generation before it sets the next job's n, so an n read
		 * after that makes the exchange fail */
		i = (long)(uint32_t)v;
		if (i >= (n = atomic_load(&P.n)))
			return ran;
		if (!atomic_compare_exchange_weak(&P.next, &v, v + 1))
			continue;
		/* a task claimed and not done keeps job g current: fn and ctx
		 * are g's until then */
		P.fn(P.ctx, i);
		ran++;
		if (atomic_fetch_add(&P.done, 1) + 1 == n && atomic_load(&P.waiting))
			futex_wake(&P.done);
		v = atomic_load(&P.next);
	}
}

static void *
helper(void *arg)
{
	int id = (int)(intptr_t)arg, seen = atomic_load(&P.gen), s;

	in_par = 1;
	for (;;) {
		int g;

		for (s = 0; s < SPIN && (g = atomic_load(&P.gen)) == seen; s++)
			relax();
		if (g == seen) {
			atomic_fetch_add(&P.sleepers, 1);
			if ((g = atomic_load(&P.gen)) == seen)
				futex_wait(&P.gen, seen);
			atomic_fetch_sub(&P.sleepers, 1);
			g = atomic_load(&P.gen);
		}
		seen = g;
		if (id < atomic_load(&P.active))
			work((uint32_t)g);
	}
	return NULL;
}

void
nn_threads(int n)
{
	pthread_t t;

	if (n < 1)
		n = 1;
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	/* OpenBLAS runs in whichever thread calls it: its own pool would
	 * fight this one for the cores */
	openblas_set_num_threads(1);
	P.nthreads = n;
	atomic_store(&P.active, n - 1);
	for (; P.started < n - 1; P.started++)
		if (pthread_create(&t, NULL, helper, (void *)(intptr_t)P.started) != 0 ||
		    pthread_detach(t) != 0)
			errx(EX_SOFTWARE, "nn_threads: cannot start thread %d", P.started + 1);
}

int
nn_nthreads(void)
{
	return P.nthreads;
}

/* One helped job took `took` seconds, the caller alone about `alone`. */
static void
judge(double took, double alone, double t)
{
	J.helped += took;
	J.alone += alone;
	if (J.helped < WINDOW)
		return;
	if (J.helped > J.alone) {
		J.until = t + J.pause;
		J.pause = J.pause * 2 < PAUSE_MAX ? J.pause * 2 : PAUSE_MAX;
	} else {
		J.until = 0;
		J.pause = PAUSE_MIN;
	}
	J.helped = J.alone = 0;
}

void
nn_par(long n, long work_elems, void (*fn)(void *ctx, long i), void *ctx)
{
	uint32_t g;
	long i, mine;
	int d, s;
	double t0, t1, t2;

	if (n <= 0)
		return;
	/* serial: small, one thread, inside a task, the pool resting, or
	 * another thread of the program using it */
	if (P.nthreads < 2 || n < 2 || work_elems < NN_PAR || in_par ||
	    (J.until > 0 && (t0 = now()) < J.until) || atomic_exchange(&P.busy, 1)) {
		for (i = 0; i < n; i++)
			fn(ctx, i);
		return;
	}
	if (n > INT_MAX)
		errx(EX_SOFTWARE, "nn_par: %ld tasks", n);
	/* the new generation in the counter before the job's fields: a
	 * helper still claiming in the last job then cannot win a claim
	 * with this job's n (work) */
	g = (uint32_t)atomic_load(&P.gen) + 1;
	atomic_store(&P.next, (uint64_t)g << 32);
	P.fn = fn;
	P.ctx = ctx;
	P.n = n;
	atomic_store(&P.done, 0);
	atomic_store(&P.gen, (int)g);
	if (atomic_load(&P.sleepers) > 0)
		futex_wake(&P.gen);
	t0 = now();
	in_par = 1;
	mine = work(g);
	in_par = 0;
	t1 = now();
	/* wait for the tasks helpers still hold */
	for (s = 0; (d = atomic_load(&P.done)) < n; s++) {
		if (s < SPIN) {
			relax();
			continue;
		}
		atomic_store(&P.waiting, 1);
		if ((d = atomic_load(&P.done)) < n)
			futex_wait(&P.done, d);
		atomic_store(&P.waiting, 0);
	}
	t2 = now();
	judge(t2 - t0, mine ? (t1 - t0) / mine * n : t2 - t0, t2);
	atomic_store(&P.busy, 0);
}
