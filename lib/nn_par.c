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
 * helper holds when the OS preempts it waits for its next time slice, and
 * beside one busy process two threads of ours share two cores with it. So
 * the pool measures which way is faster. It runs every job one way (at
 * first with the helpers) and now and then, for PROBE seconds, the other
 * way; at the end of such a try it compares the try's jobs with what the
 * same kinds of job (function, tasks, work: the same layer's op in every
 * step) took the usual way lately, and keeps the faster way. Tries come
 * more rarely while they confirm the choice. Per-job choices did worse: a
 * helper that only some jobs use falls asleep between them and wakes too
 * late for the next, so every job looked faster alone. An estimate from
 * the caller's own pace while helped did worse too: the caller is
 * preempted as well, and two busy cores each run slower than one. Results
 * do not change: they never depend on who runs a task.
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

/* Kinds of jobs: a direct-mapped table probed over KIND_WAYS slots. */
#define KINDS 4096
#define KIND_WAYS 4
/* A try of the other way lasts PROBE seconds, of which the first SETTLE
 * are not compared (helpers asleep during the usual way wake slowly: the
 * OS lets a busy process finish its time slice first). The next try comes
 * GAP_MIN seconds after a switch, four times as late after each try that
 * confirms the choice, up to GAP_MAX. */
#define PROBE 0.05
#define SETTLE 0.01
#define GAP_MIN 0.2
#define GAP_MAX 4.0
/* Seconds of compared jobs after which a try 10% slower ends. */
#define LOSING 0.01

struct kind {
	void (*fn)(void *, long);
	long n, work;
	double t;                      /* moving average of seconds the usual way */
	int way;                       /* the way t is of: 0 alone, 1 helped, -1 none */
	int runs;                      /* jobs the usual way since it became so */
};

static struct kind K[KINDS];

static struct {
	int usual;                     /* 1: with the helpers, 0: the caller alone */
	int way;                       /* the way jobs run now */
	double until;                  /* the try ends, or the next one starts */
	double gap;                    /* seconds between tries */
	double tried, usually;         /* the try's jobs: seconds, the usual way's */
	double from;                   /* the try's jobs are compared from then */
	int on;                        /* nn_par_adapt */
} W = { 1, 1, 0, GAP_MIN, 0, 0, 0, 1 };

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

/* Claim and run tasks of generation g until none is left. */
static void
work(uint32_t g)
{
	uint64_t v = atomic_load(&P.next);

	for (;;) {
		long i, n;

		if ((uint32_t)(v >> 32) != g)
			return;
		/* n before the exchange: the caller moves the counter to the
		 * next generation before it sets the next job's n, so an n read
		 * after that makes the exchange fail */
		i = (long)(uint32_t)v;
		if (i >= (n = atomic_load(&P.n)))
			return;
		if (!atomic_compare_exchange_weak(&P.next, &v, v + 1))
			continue;
		/* a task claimed and not done keeps job g current: fn and ctx
		 * are g's until then */
		P.fn(P.ctx, i);
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

void
nn_par_adapt(int on)
{
	W.on = on;
	W.usual = W.way = 1;
	W.until = 0;
	W.gap = GAP_MIN;
}

static struct kind *
kind_of(void (*fn)(void *, long), long n, long work)
{
	uint64_t h = (uint64_t)(uintptr_t)fn * 0x9e3779b97f4a7c15u ^
	    (uint64_t)n * 0xc2b2ae3d27d4eb4fu ^ (uint64_t)work * 0x165667b19e3779f9u;
	struct kind *k, *home = &K[(h >> 40) % KINDS];
	int w;

	for (w = 0; w < KIND_WAYS; w++) {
		k = &K[(home - K + w) % KINDS];
		if (k->fn == fn && k->n == n && k->work == work)
			return k;
		if (!k->fn)
			break;
	}
	/* a new kind: a free slot, else the home slot's kind is forgotten */
	if (w == KIND_WAYS)
		k = home;
	*k = (struct kind){ .fn = fn, .n = n, .work = work, .way = -1 };
	return k;
}

/* A job of kind k took `took` seconds; t is now. */
static void
learn(struct kind *k, double took, double t)
{
	if (W.way != W.usual) {
		/* the first job of a kind the usual way is not compared: it
		 * may have touched its memory for the first time */
		if (k->way == W.usual && k->runs > 1 && t - took >= W.from) {
			W.tried += took;
			W.usually += k->t;
		}
		/* the verdict at the try's end, or as soon as it clearly loses */
		if (t < W.until && !(W.usually > LOSING && W.tried > 1.1 * W.usually))
			return;
		if (W.usually < LOSING / 2)
			W.way = W.usual;   /* too few kinds seen both ways to tell */
		else if (W.tried < W.usually) {
			W.usual = W.way;
			W.gap = GAP_MIN;
		} else {
			W.way = W.usual;
			W.gap = W.gap * 4 < GAP_MAX ? W.gap * 4 : GAP_MAX;
		}
		W.until = t + W.gap;
		return;
	}
	if (k->way != W.way) {
		k->way = W.way;
		k->runs = 0;
	}
	if (k->runs++ < 2)
		k->t = took;
	else
		k->t += (took - k->t) / 4;
	if (!W.on || t < W.until)
		return;
	if (W.until > 0) {
		W.way = !W.usual;
		W.tried = W.usually = 0;
		W.from = t + SETTLE;
		W.until = t + PROBE;
	} else
		W.until = t + W.gap;
}

void
nn_par(long n, long work_elems, void (*fn)(void *ctx, long i), void *ctx)
{
	struct kind *k;
	uint32_t g;
	long i;
	int d, s;
	double t0, t1;

	if (n <= 0)
		return;
	/* serial: small, one thread, inside a task, or another thread of the
	 * program using the pool */
	if (P.nthreads < 2 || n < 2 || work_elems < NN_PAR || in_par ||
	    atomic_exchange(&P.busy, 1)) {
		for (i = 0; i < n; i++)
			fn(ctx, i);
		return;
	}
	if (n > INT_MAX)
		errx(EX_SOFTWARE, "nn_par: %ld tasks", n);
	k = kind_of(fn, n, work_elems);
	t0 = now();
	if (!W.way) {
		in_par = 1;
		for (i = 0; i < n; i++)
			fn(ctx, i);
		in_par = 0;
		t1 = now();
		learn(k, t1 - t0, t1);
		atomic_store(&P.busy, 0);
		return;
	}
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
	in_par = 1;
	work(g);
	in_par = 0;
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
	t1 = now();
	learn(k, t1 - t0, t1);
	atomic_store(&P.busy, 0);
}
