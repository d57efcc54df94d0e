/* result.c - see result.h. */
#include "result.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void
result_opts_init(struct result_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->subset = o->split_seed = -1;
	o->val_frac = NAN;
	o->rule = -1;
}

int
result_opt(struct result_opts *o, int code, const char *arg)
{
	switch (code) {
	case RESULT_O_THR:
		o->neps = cli_doubles("--thresholds", arg, o->eps, EXO_MAX_EXITS - 1, 0, 1);
		return 1;
	case RESULT_O_RULE: o->rule = cli_choice("--rule", arg, thr_rule_names); return 1;
	case RESULT_O_DATA: o->data = arg; return 1;
	case RESULT_O_VAL: o->val_frac = cli_double("--val-frac", arg, 0, 0.9); return 1;
	case RESULT_O_SUBSET: o->subset = cli_long("--subset", arg, 0, 1L << 31); return 1;
	case RESULT_O_SSEED:
		o->split_seed = cli_long("--split-seed", arg, 0, 1L << 62);
		return 1;
	case RESULT_O_MEAN:
		o->nmean = cli_doubles("--mean", arg, o->mean, DATA_MAX_CH, -10, 10);
		return 1;
	case RESULT_O_STD:
		o->nstd = cli_doubles("--std", arg, o->std, DATA_MAX_CH, 1e-6, 10);
		return 1;
	}
	return 0;
}

void
result_data_free(struct result_data *s)
{
	if (s->loaded)
		train_free_data(&s->ds);
	memset(s, 0, sizeof(*s));
}

static void
dset_load(struct result_data *s, const char *dir, const struct data_opts *o, long subset,
    long split_seed, double val_frac)
{
	if (s->loaded && strcmp(s->dir, dir) == 0 && s->subset == subset &&
	    s->split_seed == split_seed && s->val_frac == val_frac &&
	    !train_data_stale(&s->ds, o->res, o->in_ch))
		return;
	result_data_free(s);
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	s->subset = subset, s->split_seed = split_seed, s->val_frac = val_frac;
	train_load_data_opts(&s->ds, dir, o, subset, val_frac, (uint64_t)split_seed);
	s->fit = s->ds.nm;
	s->loaded = 1;
}

/* The normalisation: the options', else the record's norm_mean/norm_std
 * (what eenn-train used), else refitted on the train split as it did. */
static void
set_norm(struct result_data *s, const struct result_opts *op, const struct rec_in *r,
    const msgpack_object *m)
{
	double mean[DATA_MAX_CH], std[DATA_MAX_CH];
	int c = s->ds.tr.c;

	s->ds.nm = s->fit;
	if (rec_get(m, "norm_mean") && rec_get(m, "norm_std")) {
		rec_dbls(r, m, "norm_mean", mean, c, -1e6, 1e6);
		rec_dbls(r, m, "norm_std", std, c, 1e-12, 1e6);
		train_set_norm(&s->ds, "norm_mean", mean, c, std, c);
	}
	train_set_norm(&s->ds, "--mean", op->mean, op->nmean, NULL, 0);
	train_set_norm(&s->ds, "--std", NULL, 0, op->std, op->nstd);
}

static long
opt_or_int(long opt, const struct rec_in *r, const msgpack_object *m, const char *key,
    long lo, long hi, long def)
{
	if (opt >= 0)
		return opt;
	return rec_get(m, key) ? rec_int(r, m, key, lo, hi) : def;
}

void
result_load_data(struct result_data *s, const struct result_opts *op, const struct rec_in *r,
    const msgpack_object *m, const struct arch_net *net)
{
	static const char *const nkeys[] = { "n_train", "n_val", "n_test" };
	char dir[4096], why[4200];
	const char *key;
	long subset = opt_or_int(op->subset, r, m, "subset", 0, 1L << 31, 0);
	long seed = opt_or_int(op->split_seed, r, m, "split_seed", 0, 1L << 62, RESULT_DEF_SPLIT_SEED);
	double vf = !isnan(op->val_frac) ? op->val_frac :
	    rec_get(m, "val_frac") ? rec_dbl(r, m, "val_frac", 0, 0.9) : RESULT_DEF_VAL_FRAC;
	int k;

	if (op->data)
		snprintf(dir, sizeof(dir), "%s", op->data);
	else if (rec_get(m, "data"))
		rec_str(r, m, "data", dir, sizeof(dir));
	else
		snprintf(dir, sizeof(dir), "%s", RESULT_DEF_DATA);
	dset_load(s, dir, &(struct data_opts){ .res = net->res, .in_ch = net->in_ch,
	    .skip_bad = op->skip_bad }, subset, seed, vf);
	set_norm(s, op, r, m);
	if ((key = train_fits(why, sizeof(why), &s->ds, dir, net->in_ch, net->classes)))
		rec_fail(r, key, "%s", why);
	for (k = 0; k < 3; k++) {
		long have = k == 0 ? s->ds.ntr : k == 1 ? s->ds.nva : s->ds.nte;

		if (rec_get(m, nkeys[k]) && rec_int(r, m, nkeys[k], 0, 1L << 40) != have)
			rec_fail(r, nkeys[k], "%ld, but the split here has %ld samples (give "
			    "--data, --val-frac, --subset, --split-seed as the trainer had them)",
			    rec_int(r, m, nkeys[k], 0, 1L << 40), have);
	}
}

void
result_check_arch(const struct rec_in *r, const msgpack_object *m, const struct arch *a,
    const char *wpath)
{
	struct arch ra;
	int g[ARCH_MAX_GENOME], rg[ARCH_MAX_GENOME], i;

	if (!rec_get(m, "genome") && !rec_get(m, "ks"))
		return;
	arch_read(&ra, r, m);
	if (ra.space != a->space)
		rec_fail(r, "space", "%s, the weights %s are of a %s network",
		    arch_space_names[ra.space], wpath, arch_space_names[a->space]);
	arch_to_genome(a, g);
	arch_to_genome(&ra, rg);
	if ((i = arch_genome_mismatch(a->space, g, rg)) >= 0)
		rec_fail(r, "genome", "gene %d is %d, the weights %s have %d: weights of "
		    "another EENN", i, rg[i], wpath, g[i]);
	if (ra.classes != a->classes || ra.in_ch != a->in_ch ||
	    ra.resolution != a->resolution || ra.width != a->width)
		rec_fail(r, "classes", "the record's network (%d classes, %d channels, %d "
		    "pixels, width %g) is not that of the weights %s (%d, %d, %d, %g)",
		    ra.classes, ra.in_ch, ra.resolution, ra.width, wpath, a->classes,
		    a->in_ch, a->resolution, a->width);
}

int
result_joint(const msgpack_object *m)
{
	const msgpack_object *o = rec_get(m, "method");

	return o && rec_streq(o, "joint");
}

enum thr_rule
result_rule(const struct result_opts *op, const struct rec_in *r, const msgpack_object *m)
{
	if (op->rule >= 0)
		return op->rule;
	if (!rec_get(m, "rule"))
		return THR_CUMULATIVE;
	return rec_choice(r, m, "rule", thr_rule_names);
}

void
result_eps(double *eps, const struct result_opts *op, const struct rec_in *r,
    const msgpack_object *m, int nint)
{
	if (op->neps) {
		if (op->neps != nint)
			rec_fail(r, "exits", "--thresholds has %d values, the EENN has %d "
			    "intermediate exits", op->neps, nint);
		memcpy(eps, op->eps, nint * sizeof(double));
		return;
	}
	if (!rec_get(m, "thresholds"))
		rec_fail(r, "thresholds", "missing (thresh-tune writes it; or give "
		    "--thresholds)");
	if (rec_arr(r, m, "thresholds", -1)->via.array.size != (uint32_t)nint)
		rec_fail(r, "thresholds", "has %u values, the EENN has %d intermediate exits",
		    rec_get(m, "thresholds")->via.array.size, nint);
	rec_dbls(r, m, "thresholds", eps, nint, 0, 1);
}

