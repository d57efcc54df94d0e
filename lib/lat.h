/*
 * lat.h - latency tables: the batch-1 latency, on this machine, of every
 * layer configuration the search space and its exit heads produce
 * (lat-table writes one), and an EENN's per-exit latency predicted from
 * one (mac-count --latency).
 *
 * A network is cut into parts: the first conv, each backbone block, each
 * exit head. A part's key names its configuration by its shapes (a block:
 * input, output, expanded width, kernel, stride, SE, activation, residual;
 * a head: its kind, the map it reads, its pool and outputs), so two parts
 * with one key run the same ops on the same sizes. The latency of leaving
 * at exit i is the first conv, the blocks up to exit i's features and the
 * heads of exits 1..i (a sample runs every head it passes).
 *
 * A part's time depends on where its weights come from: at batch 1 the
 * late blocks and the heads read far more weights than activations, and
 * eenn-infer, leaving every image at exit i, streams the same prefix of the
 * network (the parts of exit i) image after image, so what a part finds in
 * the caches depends on how many bytes that prefix touches, its working set
 * W_i, not on the part alone (a 0.5 MB prefix runs its parts from L2, a 20
 * MB one from L3 or memory: up to 1.6 times slower). So a part's latency is
 * modelled as
 *	ms_k + bytes_k * c(W_i)
 * ms_k the part's own time at the smallest working set, bytes_k its
 * weights' bytes (f32), c(W) this machine's extra milliseconds per MB read
 * at working set W, piecewise linear in log W between knots (0 at the first,
 * constant beyond the last); the latency of leaving at exit i adds, for
 * what eenn-infer does around the parts, image_ms once and exit_ms per exit
 * passed (each exit's scores and threshold test).
 *
 * Measuring: the engine (model.h, eval mode, batch 1, the threads of
 * nn_threads) runs carrier networks the way eenn-infer runs a network whose
 * every image leaves at exit j: for each exit j of each carrier, passes
 * through exits 0..j with each exit's scores and threshold test, two
 * untimed (the prefix's weights brought in, the previous one's pushed out)
 * then one timed with the profile on (model.prof), which gives each part's
 * time in that working set; repeats are the outer loop, so a disturbance of
 * the machine falls on every sample alike, and a sample is the fastest of
 * its repeats (a preemption only ever adds time). Carriers: the nine
 * uniform networks (every slot at one kernel and expand ratio, depth 4
 * everywhere), which hold every block configuration, then, from LAT_DRAWS
 * networks drawn uniformly from the space, each that holds a key not yet
 * seen (the exit heads' pools follow Algorithm 1, so their configurations
 * are found by drawing) and LAT_SPREAD more drawn networks, for working
 * sets between those. ms_k and c are fitted to the samples by weighted least
 * squares (relative errors), image_ms and exit_ms to the time each timed
 * pass spends outside its parts; the fit's error on the carriers' own
 * per-exit latencies is kept in the table.
 */
#ifndef LAT_H
#define LAT_H

#include <stdint.h>

#include "arch.h"
#include "rec.h"
#include "schedule.h"

#define LAT_KEY 96
#define LAT_PARTS (1 + ARCH_MAX_BLOCKS + ARCH_EXITS + 1)
#define LAT_DRAWS 4000
#define LAT_SPREAD 24
#define LAT_KNOTS 6
#define LAT_WARM 6      /* untimed passes before the timed ones */
#define LAT_TIMED 3     /* timed passes per exit and repeat */

/* What a table times: the engine as eenn-infer runs it, or the exported
 * float C (eenn-export) as compiled by a compiler command, each carrier
 * network's generated code with its profiling hook on (NAME.h) beside a
 * timing main that streams passes as the engine's are streamed. */
enum lat_runtime { LAT_ENGINE, LAT_C };
extern const char *const lat_runtime_names[];   /* "engine", "c", NULL */

struct lat_entry {
	char key[LAT_KEY];
	double ms;              /* fitted: the part at the smallest working set, ms */
	double min_ms;          /* its fastest sample, any working set */
	long bytes;             /* its weights, f32 */
	int n;                  /* samples */
};

struct lat_table {
	char machine[128], cpu[128], date[32];
	struct arch base;       /* space, width, resolution, in_ch, classes */
	int runtime;            /* enum lat_runtime */
	char cc[256];           /* LAT_C: the compiler command */
	int threads, repeats;
	int n;
	struct lat_entry *e;    /* (n), sorted by key */
	int nknot;              /* 1..LAT_KNOTS */
	double ws_bytes[LAT_KNOTS];     /* working-set knots, increasing */
	double ws_ms_per_mb[LAT_KNOTS]; /* c at each knot, [0] = 0 */
	double image_ms, exit_ms;       /* eenn-infer's work around the parts */
	int fit_points;                 /* carrier exits the fit is checked on */
	double fit_mape, fit_max_ape;   /* its error there (fractions) */
};

/* The keys of net's parts: [0] first conv, [1 + b] block b, [1 + nblk + i]
 * exit i's head. Returns 1 + nblk + nexit. */
int lat_keys(char (*key)[LAT_KEY], const struct arch_net *net);

/* The weights' bytes (f32) of each of net's parts, in lat_keys' order.
 * Returns the number of parts. */
int lat_part_bytes(long *bytes /* (LAT_PARTS) */, const struct arch_net *net);

/* The parts eenn-infer runs for a sample leaving at exit i: their indices
 * in lat_keys' order. Returns their number. */
int lat_exit_parts(int *idx /* (LAT_PARTS) */, const struct arch_net *net, int i);

/* The part (lat_keys' order) each op of the export schedule s belongs to
 * (the exported C's profiling hook names ops):
 * the input and first conv 0, a block's ops 1 + its index, an exit head's
 * 1 + nblk + its exit. Returns s->nop. */
int lat_op_parts(int *part /* (SCHED_MAX_OPS) */, const struct sched *s);

/* This machine's CPU model (/proc/cpuinfo "model name"), or "unknown". */
void lat_cpu_model(char *buf, size_t n);

/* Measure a table of runtime (enum lat_runtime; LAT_C: built with the shell
 * command cc, the sources and -lm appended, in a temporary directory
 * removed after, a failed compile exits EX_SOFTWARE) for base's space and
 * input on this machine, repeats samples per part and carrier (>= 1).
 * Progress on stderr. */
void lat_measure(struct lat_table *t, const struct arch *base, int runtime, const char *cc,
    int repeats, uint64_t seed);
void lat_free(struct lat_table *t);

/* The fit (lat_measure's, here for tests): sample s[i] is part key s[i].key
 * (an index into t->e, which holds the t->n keys) of bytes s[i].bytes
 * timed at working set s[i].ws (its fastest of the repeats, ms); pass p[i]
 * is a carrier exit: its s[first .. first + n) parts, exits passed, working
 * set and fastest whole pass (ms). Sets the knots (quantiles of the passes'
 * working sets), the entries' ms and c by least squares on the samples'
 * relative errors, then, the entries' ms fixed, c, image_ms and exit_ms by
 * least squares on the passes' (base gets each pass's sum of ms), and the
 * fit's error on the passes. */
struct lat_sample {
	int key;
	long bytes;
	double ws, ms;
};
struct lat_pass {
	int first, n, exits;
	double ws, ms, base;
};
void lat_fit(struct lat_table *t, const struct lat_sample *s, int ns, struct lat_pass *p, int np);

/* The table as a "lat" record (formats/lat.md), and back (bad keys fail
 * via rec_fail). */
void lat_put(struct rec_out *o, const struct lat_table *t);
void lat_read(struct lat_table *t, const struct rec_in *r, const msgpack_object *m);
/* Load the first record of path; exits EX_DATAERR (naming path and key)
 * when it was measured on another CPU model than this one's. */
void lat_load(struct lat_table *t, const char *path);

/* The extra ms per MB at working set ws (bytes): c(W) above. */
double lat_ws_cost(const struct lat_table *t, double ws);

/* Predicted latency (ms) of leaving at each exit of net (nexit values).
 * Returns 0, or -1 with what (n bytes) naming the first part the table
 * does not hold (or holds with other weights' bytes: "bytes of KEY") or
 * the input key that differs from the table's. */
int lat_predict(double *exit_ms /* (nexit) */, const struct lat_table *t,
    const struct arch_net *net, char *what, size_t n);

/* Measured latency (ms) of leaving at each exit of each of the n networks
 * (random weights and input), at batch 1: for each exit, passes through
 * the exits up to it (scores and threshold tests included), LAT_WARM
 * untimed then LAT_TIMED timed; the median of the timed passes of all
 * repeats (repeats the outer loop), and in exit_min (may be NULL) the
 * fastest. runtime LAT_ENGINE: the engine as eenn-infer runs it;
 * LAT_C: each network's float C as eenn-export writes it, compiled with cc
 * as lat_measure's, without the profiling hook. A pass is longer
 * than a part, so on a loaded machine a preemption falls into more of
 * them: the fastest shows what the median would be on a quiet one. */
void lat_run(double *exit_ms /* (n, ARCH_EXITS + 1) */, double *exit_min /* (n, ARCH_EXITS + 1) */,
    const struct arch_net *nets, int n, int runtime, const char *cc, int repeats,
    uint64_t seed);

/*
 * The cost a search weighs (nachos-method(7) §2, F_M): spent_i, the MACs
 * of leaving at exit i, or with --cost latency the milliseconds of it,
 * predicted from a table (lat_predict), F_M and its constraint then in ms.
 * The options every tool that weighs the cost takes, as getopt_long
 * entries and codes: --cost macs|latency, --latency TABLE, --lat-max MS.
 */
enum lat_cost_kind { LAT_COST_MACS, LAT_COST_LATENCY };
extern const char *const lat_cost_names[];      /* "macs", "latency", NULL */

struct lat_cost {
	enum lat_cost_kind kind;
	const char *path;       /* --latency TABLE, or NULL */
	double max;             /* --lat-max, ms; NAN: not given */
	struct lat_table t;     /* loaded by lat_cost_finish */
};

enum { LAT_O_COST = 0x4c00, LAT_O_TABLE, LAT_O_MAX };
#define LAT_LONGOPTS \
	{ "cost", required_argument, NULL, LAT_O_COST }, \
	{ "latency", required_argument, NULL, LAT_O_TABLE }, \
	{ "lat-max", required_argument, NULL, LAT_O_MAX }

void lat_cost_init(struct lat_cost *c);
/* Handle option opt (one of LAT_O_*); returns 1 if it was one of them. A
 * bad value exits EX_USAGE naming the option. */
int lat_cost_option(struct lat_cost *c, int opt, const char *arg);
/* After the options: --cost latency needs --latency (loaded here, a table
 * of another machine refused) and takes no macs_opt (the MACs constraint
 * option the tool has, given when macs_given); --lat-max and --latency
 * need --cost latency. Exits EX_USAGE or EX_DATAERR naming the option or
 * the table's key. table: does this tool read the table at all (if not,
 * --latency is refused). */
void lat_cost_finish(struct lat_cost *c, const char *macs_opt, int macs_given, int table);
void lat_cost_free(struct lat_cost *c);

/* The predicted latency of leaving at each exit of net (nexit values) from
 * table t (read from path, lat_predict), or exit EX_DATAERR via rec_fail naming record
 * r's key that differs from the table (width, resolution, ...) or the part
 * the table lacks. */
void lat_exits(double *exit_ms, const struct lat_table *t, const char *path,
    const struct rec_in *r, const struct arch_net *net);
/* The latency of each intermediate exit's head on t (lat_exits' way): of
 * leaving at net's final exit, less that of leaving there with that exit
 * taken out (arch_net_drop_exits); head_ms[B-1] = 0. */
void lat_heads(double *head_ms, const struct lat_table *t, const char *path,
    const struct rec_in *r, const struct arch_net *net);

/* The cost keys of a record: cost ("macs" or "latency"), and with latency
 * exit_latency (ms, nexit values) and lat_max when given. */
void lat_cost_put(struct rec_out *o, const struct lat_cost *c, const double *exit_ms, int nexit);
/* Record m's cost (its "cost" key; none: MACs) must be c's, or rec_fail. */
void lat_cost_check_record(const struct lat_cost *c, const struct rec_in *r,
    const msgpack_object *m);

#endif
