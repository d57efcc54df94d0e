/* arch.c - see arch.h. */
#include "arch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const arch_space_names[] = { "nachos", "edanas", "aebnas", NULL };
const int arch_ks_set[3] = { 3, 5, 7 };
const int arch_e_set[3] = { 3, 4, 6 };
const int arch_d_set[3] = { 2, 3, 4 };
const double arch_th_set[3] = { 0.1, 0.2, 1.0 };

/* nachos-method(7) §1: base widths at w1.0 and the fixed per-stage properties. */
static const int base_w[] = { 16, 16, 24, 40, 80, 112, 160, 960, 1280 };
static const int stage_stride[ARCH_STAGES + 1] = { 1, 2, 2, 2, 1, 2 };
static const int stage_act[ARCH_STAGES + 1] = { ACT_RELU, ACT_RELU, ACT_RELU,
	ACT_HSWISH, ACT_HSWISH, ACT_HSWISH };
static const int stage_se[ARCH_STAGES + 1] = { 0, 0, 1, 0, 1, 1 };

#define G_D 0
#define G_K (G_D + ARCH_STAGES)
#define G_E (G_K + ARCH_SLOTS)
#define G_X (G_E + ARCH_SLOTS)           /* exit bits or threshold genes */
#define G_B (G_X + ARCH_EXITS)           /* aebnas branch genes */
#define BR_GENES 7

/* OFA make_divisible(v, 8) (nachos-method(7) §1). */
static int
arch_divisible(double v)
{
	int nv = (int)(v + 4) / 8 * 8;

	if (nv < 8)
		nv = 8;
	if (nv < 0.9 * v)
		nv += 8;
	return nv;
}

static int
index_of(const int *set, int v)
{
	int i;

	for (i = 0; i < 3; i++)
		if (set[i] == v)
			return i;
	return -1;
}

void
arch_defaults(struct arch *a)
{
	memset(a, 0, sizeof(*a));
	a->space = ARCH_NACHOS;
	a->width = 1.0;
	a->resolution = 32;
	a->in_ch = 3;
	a->classes = 10;
}

void
arch_extreme(struct arch *a, enum arch_space s, int max)
{
	int i, j;

	a->space = s;
	for (i = 0; i < ARCH_SLOTS; i++) {
		a->ks[i] = arch_ks_set[max ? 2 : 0];
		a->e[i] = arch_e_set[max ? 2 : 0];
	}
	for (i = 0; i < ARCH_STAGES; i++)
		a->d[i] = arch_d_set[max ? 2 : 0];
	for (i = 0; i < ARCH_EXITS; i++) {
		a->exits[i] = 1;
		a->th[i] = s == ARCH_NACHOS ? 0 : (max ? 1 : 0);
		for (j = 0; j < ARCH_MODS; j++) {
			a->mod[i][j].present = j == 0 || (s == ARCH_AEBNAS && max);
			a->mod[i][j].k = max ? 5 : 3;
			a->mod[i][j].wm = max ? 2 : 1;
			a->mod[i][j].pool = 0;
		}
	}
	if (s == ARCH_NACHOS)
		memset(a->th, 0, sizeof(a->th));
	arch_canonical(a);
}

void
arch_canonical(struct arch *a)
{
	int s, b, i;

	for (s = 0; s < ARCH_STAGES; s++)
		for (b = a->d[s]; b < ARCH_PER_STAGE; b++) {
			a->ks[s * ARCH_PER_STAGE + b] = arch_ks_set[0];
			a->e[s * ARCH_PER_STAGE + b] = arch_e_set[0];
		}
	for (i = 0; i < ARCH_EXITS; i++) {
		struct arch_mod *m = a->mod[i];

		if (a->space != ARCH_NACHOS)
			a->exits[i] = a->th[i] != 2;
		else
			a->th[i] = 0;
		if (a->space != ARCH_AEBNAS || !a->exits[i]) {
			memset(m, 0, sizeof(a->mod[i]));
			m[0].k = m[1].k = 3;
			m[0].wm = m[1].wm = 1;
		}
		m[0].present = 1;
		if (!m[1].present) {
			m[1].k = 3;
			m[1].wm = 1;
			m[1].pool = 0;
		}
	}
}

int
arch_genome_len(enum arch_space s)
{
	return G_B + (s == ARCH_AEBNAS ? ARCH_EXITS * BR_GENES : 0);
}

void
arch_genome_bounds(enum arch_space s, int *lo, int *hi)
{
	int i, n = arch_genome_len(s);

	for (i = 0; i < n; i++) {
		lo[i] = 0;
		hi[i] = 2;
	}
	for (i = G_X; i < G_B; i++)
		hi[i] = s == ARCH_NACHOS ? 1 : 2;
	for (i = G_B; i < n; i++)
		hi[i] = 1;
}

void
arch_to_genome(const struct arch *a, int *g)
{
	int i, j;

	for (i = 0; i < ARCH_STAGES; i++)
		g[G_D + i] = index_of(arch_d_set, a->d[i]);
	for (i = 0; i < ARCH_SLOTS; i++) {
		g[G_K + i] = index_of(arch_ks_set, a->ks[i]);
		g[G_E + i] = index_of(arch_e_set, a->e[i]);
	}
	for (i = 0; i < ARCH_EXITS; i++)
		g[G_X + i] = a->space == ARCH_NACHOS ? a->exits[i] : a->th[i];
	if (a->space != ARCH_AEBNAS)
		return;
	for (i = 0; i < ARCH_EXITS; i++) {
		const struct arch_mod *m = a->mod[i];
		j = G_B + i * BR_GENES;
		g[j + 0] = m[0].k == 5;
		g[j + 1] = m[0].wm == 2;
		g[j + 2] = m[0].pool;
		g[j + 3] = m[1].present;
		g[j + 4] = m[1].k == 5;
		g[j + 5] = m[1].wm == 2;
		g[j + 6] = m[1].pool;
	}
}

int
arch_from_genome(struct arch *a, const int *g, int *bad)
{
	int lo[ARCH_MAX_GENOME], hi[ARCH_MAX_GENOME];
	int i, j, n = arch_genome_len(a->space), any = 0;

	arch_genome_bounds(a->space, lo, hi);
	for (i = 0; i < n; i++)
		if (g[i] < lo[i] || g[i] > hi[i]) {
			*bad = i;
			return -1;
		}
	for (i = 0; i < ARCH_STAGES; i++)
		a->d[i] = arch_d_set[g[G_D + i]];
	for (i = 0; i < ARCH_SLOTS; i++) {
		a->ks[i] = arch_ks_set[g[G_K + i]];
		a->e[i] = arch_e_set[g[G_E + i]];
	}
	for (i = 0; i < ARCH_EXITS; i++) {
		if (a->space == ARCH_NACHOS) {
			a->exits[i] = g[G_X + i];
			a->th[i] = 0;
		} else {
			a->th[i] = g[G_X + i];
			a->exits[i] = a->th[i] != 2;
		}
		any |= a->exits[i];
	}
	memset(a->mod, 0, sizeof(a->mod));
	for (i = 0; i < ARCH_EXITS; i++) {
		struct arch_mod *m = a->mod[i];

		m[0].present = 1;
		m[0].k = m[1].k = 3;
		m[0].wm = m[1].wm = 1;
		if (a->space != ARCH_AEBNAS)
			continue;
		j = G_B + i * BR_GENES;
		m[0].k = g[j] ? 5 : 3;
		m[0].wm = g[j + 1] ? 2 : 1;
		m[0].pool = g[j + 2];
		m[1].present = g[j + 3];
		m[1].k = g[j + 4] ? 5 : 3;
		m[1].wm = g[j + 5] ? 2 : 1;
		m[1].pool = g[j + 6];
	}
	if (!any) {
		*bad = G_X;
		return -1;
	}
	arch_canonical(a);
	return 0;
}

int
arch_genome_mismatch(enum arch_space s, const int *net, const int *rec)
{
	int i, n = arch_genome_len(s);

	for (i = 0; i < n; i++)
		if (s != ARCH_NACHOS && i >= G_X && i < G_B) {
			if (net[i] == 2 && rec[i] != 2)
				return i;       /* an exit net lacks */
		} else if (i >= G_B && rec[G_X + (i - G_B) / BR_GENES] == 2) {
			continue;               /* the branch of an exit rec turns off */
		} else if (net[i] != rec[i])
			return i;
	return -1;
}

void
arch_genome_repair(const struct arch *base, int *g)
{
	int lo[ARCH_MAX_GENOME], hi[ARCH_MAX_GENOME], i, bad;
	int n = arch_genome_len(base->space);
	struct arch a = *base;

	arch_genome_bounds(base->space, lo, hi);
	for (i = 0; i < n; i++)
		g[i] = g[i] < lo[i] ? lo[i] : g[i] > hi[i] ? hi[i] : g[i];
	if (arch_from_genome(&a, g, &bad) < 0) {
		/* in bounds, so the one failure left is "no exit enabled" */
		g[G_X + ARCH_EXITS - 1] = base->space == ARCH_NACHOS ? 1 : 0;
		if (arch_from_genome(&a, g, &bad) < 0)
			abort();
	}
	arch_to_genome(&a, g);
}

/* ---- record keys ---- */

static void
read_set(const struct rec_in *r, const msgpack_object *m, const char *key,
    int *out, int n, const int *set, const char *names)
{
	char k[32];
	int i;

	rec_ints(r, m, key, out, n, -1000000, 1000000);
	for (i = 0; i < n; i++)
		if (index_of(set, out[i]) < 0) {
			snprintf(k, sizeof(k), "%s[%d]", key, i);
			rec_fail(r, k, "%d is not one of %s", out[i], names);
		}
}

/* A module gene that must be a or b; errors name the nested path. */
static int
mod_gene(const struct rec_in *r, const msgpack_object *o, const char *at,
    const char *key, int a, int b)
{
	const msgpack_object *v = rec_get(o, key);
	char path[96];

	snprintf(path, sizeof(path), "%s.%s", at, key);
	if (v == NULL)
		rec_fail(r, path, "missing");
	if (!rec_isnum(v) || (rec_num(v) != a && rec_num(v) != b))
		rec_fail(r, path, "is not one of %d, %d", a, b);
	return (int)rec_num(v);
}

static void
read_branches(struct arch *a, const struct rec_in *r, const msgpack_object *m)
{
	const msgpack_object *br = rec_arr(r, m, "branches", ARCH_EXITS);
	char k[64];
	int i, j;

	for (i = 0; i < ARCH_EXITS; i++) {
		const msgpack_object *mods = &br->via.array.ptr[i];

		snprintf(k, sizeof(k), "branches[%d]", i);
		if (mods->type != MSGPACK_OBJECT_ARRAY || mods->via.array.size < 1 ||
		    mods->via.array.size > ARCH_MODS)
			rec_fail(r, k, "not an array of 1 or 2 modules");
		for (j = 0; j < ARCH_MODS; j++) {
			struct arch_mod *md = &a->mod[i][j];
			const msgpack_object *o;

			md->present = j < (int)mods->via.array.size;
			md->k = 3;
			md->wm = 1;
			md->pool = 0;
			if (!md->present)
				continue;
			o = &mods->via.array.ptr[j];
			snprintf(k, sizeof(k), "branches[%d][%d]", i, j);
			if (o->type != MSGPACK_OBJECT_MAP)
				rec_fail(r, k, "not a map");
			md->k = mod_gene(r, o, k, "k", 3, 5);
			md->wm = mod_gene(r, o, k, "wm", 1, 2);
			md->pool = mod_gene(r, o, k, "pool", 0, 1);
		}
	}
}

/* A record may carry both the explicit keys and a genome (arch_put writes
 * both); an edited record whose two views disagree is ambiguous. */
static void
check_genome(const struct arch *a, const struct rec_in *r, const msgpack_object *m)
{
	int want[ARCH_MAX_GENOME], got[ARCH_MAX_GENOME], i, bad, n = arch_genome_len(a->space);
	struct arch b = *a;
	char k[32];

	if (!rec_get(m, "genome"))
		return;
	rec_ints(r, m, "genome", got, n, 0, 2);
	/* Compare canonical forms: unused genes may differ harmlessly. */
	if (arch_from_genome(&b, got, &bad) < 0) {
		snprintf(k, sizeof(k), "genome[%d]", bad);
		rec_fail(r, k, "%d is out of its range", got[bad]);
	}
	arch_to_genome(&b, got);
	arch_to_genome(a, want);
	for (i = 0; i < n; i++)
		if (got[i] != want[i]) {
			snprintf(k, sizeof(k), "genome[%d]", i);
			rec_fail(r, k, "%d disagrees with ks/e/d/exits (%d); drop one of the two",
			    got[i], want[i]);
		}
}

void
arch_read_typed(struct arch *a, const struct rec_in *r, const msgpack_object *m)
{
	if (!rec_is(m, "arch") && !rec_is(m, "eenn"))
		rec_fail(r, "type", "not \"arch\" or \"eenn\"");
	arch_read(a, r, m);
}

void
arch_read(struct arch *a, const struct rec_in *r, const msgpack_object *m)
{
	int i, any = 0;

	memset(a, 0, sizeof(*a));
	a->space = rec_choice(r, m, "space", arch_space_names);
	a->width = rec_dbl(r, m, "width", 0.1, 4.0);
	a->resolution = (int)rec_int(r, m, "resolution", 16, 1024);
	a->in_ch = (int)rec_int(r, m, "in_ch", 1, 64);
	a->classes = (int)rec_int(r, m, "classes", 2, 100000);
	if (!rec_get(m, "ks")) {
		int g[ARCH_MAX_GENOME], bad;

		rec_ints(r, m, "genome", g, arch_genome_len(a->space), 0, 2);
		if (arch_from_genome(a, g, &bad) < 0) {
			char k[32];
			snprintf(k, sizeof(k), "genome[%d]", bad);
			rec_fail(r, k, bad == G_X ? "no exit is enabled" :
			    "%d is out of its range", g[bad]);
		}
		return;
	}
	read_set(r, m, "ks", a->ks, ARCH_SLOTS, arch_ks_set, "3, 5, 7");
	read_set(r, m, "e", a->e, ARCH_SLOTS, arch_e_set, "3, 4, 6");
	read_set(r, m, "d", a->d, ARCH_STAGES, arch_d_set, "2, 3, 4");
	if (a->space == ARCH_NACHOS) {
		rec_ints(r, m, "exits", a->exits, ARCH_EXITS, 0, 1);
	} else {
		double th[ARCH_EXITS];
		char k[32];

		rec_dbls(r, m, "exit_th", th, ARCH_EXITS, 0, 1);
		for (i = 0; i < ARCH_EXITS; i++) {
			int j;

			for (j = 0; j < 3; j++)
				if (fabs(th[i] - arch_th_set[j]) < 1e-9)
					break;
			if (j == 3) {
				snprintf(k, sizeof(k), "exit_th[%d]", i);
				rec_fail(r, k, "%g is not one of 0.1, 0.2, 1", th[i]);
			}
			a->th[i] = j;
			a->exits[i] = j != 2;
		}
	}
	for (i = 0; i < ARCH_EXITS; i++)
		any |= a->exits[i];
	if (!any)
		rec_fail(r, a->space == ARCH_NACHOS ? "exits" : "exit_th",
		    "no intermediate exit is enabled");
	if (a->space == ARCH_AEBNAS)
		read_branches(a, r, m);
	arch_canonical(a);
	check_genome(a, r, m);
}

void
arch_put(struct rec_out *o, const struct arch *a)
{
	int g[ARCH_MAX_GENOME], i, j;

	rec_put_str(o, "space", arch_space_names[a->space]);
	rec_put_ints(o, "ks", a->ks, ARCH_SLOTS);
	rec_put_ints(o, "e", a->e, ARCH_SLOTS);
	rec_put_ints(o, "d", a->d, ARCH_STAGES);
	rec_put_ints(o, "exits", a->exits, ARCH_EXITS);
	if (a->space != ARCH_NACHOS) {
		double th[ARCH_EXITS];

		for (i = 0; i < ARCH_EXITS; i++)
			th[i] = arch_th_set[a->th[i]];
		rec_put_dbls(o, "exit_th", th, ARCH_EXITS);
	}
	if (a->space == ARCH_AEBNAS) {
		rec_key(o, "branches");
		msgpack_pack_array(&o->pk, ARCH_EXITS);
		for (i = 0; i < ARCH_EXITS; i++) {
			int nm = a->mod[i][1].present ? 2 : 1;

			msgpack_pack_array(&o->pk, nm);
			for (j = 0; j < nm; j++) {
				msgpack_pack_map(&o->pk, 3);
				rec_pack_str(&o->pk, "k");
				msgpack_pack_int(&o->pk, a->mod[i][j].k);
				rec_pack_str(&o->pk, "wm");
				msgpack_pack_int(&o->pk, a->mod[i][j].wm);
				rec_pack_str(&o->pk, "pool");
				msgpack_pack_int(&o->pk, a->mod[i][j].pool);
			}
		}
	}
	rec_put_dbl(o, "width", a->width);
	rec_put_int(o, "resolution", a->resolution);
	rec_put_int(o, "in_ch", a->in_ch);
	rec_put_int(o, "classes", a->classes);
	arch_to_genome(a, g);
	rec_put_ints(o, "genome", g, arch_genome_len(a->space));
}

/* ---- network description ---- */

static int
conv_out(int h, int k, int s)
{
	return (h + 2 * (k / 2) - k) / s + 1;
}

static long
nachos_head(struct arch_exit *x, int nout, long *params)
{
	long hw = (long)x->hp * x->wp;

	*params = (long)x->c * 9 * 32 + 32 + 32 * 9 * 64 + 64 + 64 * 9 * 128 + 128 +
	    128 * hw * nout + nout;
	return (long)x->c * 9 * 32 * hw + 32L * 9 * 64 * hw + 64L * 9 * 128 * hw +
	    128 * hw * nout;
}

static long
aebnas_head(const struct arch_mod *m, struct arch_exit *x, int classes, long *params)
{
	int j, c = x->c, h = x->h, w = x->w;
	long macs = 0;

	*params = 0;
	for (j = 0; j < ARCH_MODS && m[j].present; j++) {
		int co = c * m[j].wm, ho = conv_out(h, m[j].k, 2), wo = conv_out(w, m[j].k, 2);

		macs += (long)c * m[j].k * m[j].k * co * ho * wo;
		*params += (long)c * m[j].k * m[j].k * co + 2L * co;
		c = co;
		h = ho;
		w = wo;
		if (m[j].pool && h >= 2 && w >= 2) {
			h /= 2;
			w /= 2;
		}
	}
	x->hp = h;
	x->wp = w;
	macs += (long)c * classes;
	*params += (long)c * classes + classes;
	return macs;
}

long
arch_net_macs_to(const struct arch_net *n, int b)
{
	long m = n->first_macs;
	int i;

	for (i = 0; i <= b; i++)
		m += n->blk_macs[i];
	return m;
}

static long
block_macs(const struct arch_block *b)
{
	long m = 0;

	if (b->stage > 0)
		m += (long)b->cin * b->mid * b->hin * b->win;
	m += (long)b->mid * b->k * b->k * b->hout * b->wout;
	if (b->se)
		m += 2L * b->mid * b->se_mid;
	m += (long)b->mid * b->cout * b->hout * b->wout;
	return m;
}

static long
block_params(const struct arch_block *b)
{
	long p = 0;

	if (b->stage > 0)
		p += (long)b->cin * b->mid + 2L * b->mid;
	p += (long)b->mid * b->k * b->k + 2L * b->mid;
	if (b->se)
		p += 2L * b->mid * b->se_mid + b->se_mid + b->mid;
	p += (long)b->mid * b->cout + 2L * b->cout;
	return p;
}

static void
set_exit_cost(struct arch_net *n, int i)
{
	struct arch_exit *x = &n->ex[i];

	if (n->a.space == ARCH_AEBNAS)
		x->head_macs = aebnas_head(n->a.mod[x->stage - 1], x, n->classes, &x->head_params);
	else {
		x->hp = x->h / x->pool;
		x->wp = x->w / x->pool;
		x->head_macs = nachos_head(x, x->nout, &x->head_params);
	}
	x->cost = arch_net_macs_to(n, x->after) + x->head_macs;
}

/* spent_i: the backbone to exit i and the heads up to it */
static void
set_spent(struct arch_net *n)
{
	long head_spent = 0;
	int i;

	for (i = 0; i < n->nexit; i++) {
		struct arch_exit *x = &n->ex[i];

		if (i < n->nexit - 1)
			head_spent += x->head_macs;
		x->spent = arch_net_macs_to(n, x->after) + head_spent +
		    (i == n->nexit - 1 ? n->final_macs : 0);
	}
}

void
arch_net_build(struct arch_net *n, const struct arch *a)
{
	int s, j, c, h, w, i;

	memset(n, 0, sizeof(*n));
	n->a = *a;
	n->res = a->resolution;
	n->in_ch = a->in_ch;
	n->classes = a->classes;
	n->first_ch = arch_divisible(base_w[0] * a->width);
	for (s = 0; s <= ARCH_STAGES; s++)
		n->stage_w[s] = arch_divisible(base_w[s + 1] * a->width);
	n->final_expand = arch_divisible(base_w[7] * a->width);
	n->feature_mix = arch_divisible(base_w[8] * a->width);

	h = w = conv_out(a->resolution, 3, 2);
	n->first_h = h;
	n->first_macs = (long)a->in_ch * 9 * n->first_ch * h * w;
	n->params_backbone = (long)a->in_ch * 9 * n->first_ch + 2L * n->first_ch;
	c = n->first_ch;
	for (s = 0; s <= ARCH_STAGES; s++) {
		int nb = s == 0 ? 1 : a->d[s - 1];

		for (j = 0; j < nb; j++) {
			struct arch_block *b = &n->blk[n->nblk];
			int slot = s == 0 ? -1 : (s - 1) * ARCH_PER_STAGE + j;

			b->stage = s;
			b->slot = slot;
			b->cin = c;
			b->cout = n->stage_w[s];
			b->k = s == 0 ? 3 : a->ks[slot];
			b->mid = s == 0 ? c : arch_divisible(round(c * (double)a->e[slot]));
			b->stride = j == 0 ? stage_stride[s] : 1;
			b->act = stage_act[s];
			b->se = stage_se[s];
			b->se_mid = b->se ? arch_divisible(b->mid / 4) : 0;
			b->hin = h;
			b->win = w;
			b->hout = h = conv_out(h, b->k, b->stride);
			b->wout = w = conv_out(w, b->k, b->stride);
			b->residual = b->stride == 1 && b->cin == b->cout && (s == 0 || j > 0);
			n->blk_macs[n->nblk] = block_macs(b);
			n->params_backbone += block_params(b);
			c = b->cout;
			n->nblk++;
		}
	}
	n->final_macs = (long)c * n->final_expand * h * w +
	    (long)n->final_expand * n->feature_mix + (long)n->feature_mix * a->classes;
	n->params_backbone += (long)c * n->final_expand + 2L * n->final_expand +
	    (long)n->final_expand * n->feature_mix +
	    (long)n->feature_mix * a->classes + a->classes;
	n->macs_backbone = arch_net_macs_to(n, n->nblk - 1) + n->final_macs;

	/* Exits: after the last active block of stages 1-4, then the final head. */
	for (i = 0; i < ARCH_EXITS; i++) {
		struct arch_exit *x;
		int last = 0;

		if (!a->exits[i])
			continue;
		for (j = 0; j < n->nblk; j++)
			if (n->blk[j].stage == i + 1)
				last = j;
		x = &n->ex[n->nexit++];
		x->stage = i + 1;
		x->after = last;
		x->c = n->blk[last].cout;
		x->h = n->blk[last].hout;
		x->w = n->blk[last].wout;
		x->pool = 1;
		x->nout = a->space == ARCH_NACHOS ? a->classes + 1 : a->classes;
		set_exit_cost(n, n->nexit - 1);
	}
	{
		struct arch_exit *f = &n->ex[n->nexit++];

		f->stage = ARCH_STAGES;
		f->after = n->nblk - 1;
		f->c = c;
		f->h = f->hp = h;
		f->w = f->wp = w;
		f->pool = 1;
		f->nout = a->classes;
		f->head_macs = n->final_macs;
		f->cost = n->macs_backbone;
	}
	/* Algorithm 1: from the last intermediate exit back, pool until the
	 * exit is cheaper than the next one. AEBNAS branches pool by gene. */
	if (a->space != ARCH_AEBNAS)
		for (i = n->nexit - 2; i >= 0; i--) {
			struct arch_exit *x = &n->ex[i];

			while (x->cost >= n->ex[i + 1].cost && x->pool * 2 <= x->h &&
			    x->pool * 2 <= x->w) {
				x->pool *= 2;
				set_exit_cost(n, i);
			}
			x->pool_failed = x->cost >= n->ex[i + 1].cost;
		}
	set_spent(n);
}

void
arch_net_drop_exits(struct arch_net *n, unsigned mask)
{
	int i, k = 0;

	for (i = 0; i < n->nexit; i++)
		if (i == n->nexit - 1 || !(mask >> i & 1))
			n->ex[k++] = n->ex[i];
	n->nexit = k;
	set_spent(n);
}

static int
add_layer(struct arch_layer *out, int max, int k, const char *name, int exit,
    int cin, int hin, int win, int cout, int hout, int wout, long macs, long params)
{
	if (out && k < max) {
		struct arch_layer *l = &out[k];

		snprintf(l->name, sizeof(l->name), "%s", name);
		l->cin = cin, l->hin = hin, l->win = win;
		l->cout = cout, l->hout = hout, l->wout = wout;
		l->macs = macs;
		l->params = params;
		l->exit = exit;
	}
	return k + 1;
}

int
arch_net_layers(const struct arch_net *n, struct arch_layer *out, int max)
{
	char nm[48];
	int k = 0, i, h0 = n->res;

	k = add_layer(out, max, k, "first_conv", 0, n->in_ch, h0, h0, n->first_ch,
	    n->first_h, n->first_h, n->first_macs,
	    (long)n->in_ch * 9 * n->first_ch + 2L * n->first_ch);
	for (i = 0; i < n->nblk; i++) {
		const struct arch_block *b = &n->blk[i];
		int id = b->slot + 1;

		if (b->stage > 0) {
			snprintf(nm, sizeof(nm), "blocks.%d.inverted_bottleneck", id);
			k = add_layer(out, max, k, nm, 0, b->cin, b->hin, b->win, b->mid,
			    b->hin, b->win, (long)b->cin * b->mid * b->hin * b->win,
			    (long)b->cin * b->mid + 2L * b->mid);
		}
		snprintf(nm, sizeof(nm), "blocks.%d.depth_conv", id);
		k = add_layer(out, max, k, nm, 0, b->mid, b->hin, b->win, b->mid, b->hout,
		    b->wout, (long)b->mid * b->k * b->k * b->hout * b->wout,
		    (long)b->mid * b->k * b->k + 2L * b->mid);
		if (b->se) {
			snprintf(nm, sizeof(nm), "blocks.%d.se.reduce", id);
			k = add_layer(out, max, k, nm, 0, b->mid, 1, 1, b->se_mid, 1, 1,
			    (long)b->mid * b->se_mid, (long)b->mid * b->se_mid + b->se_mid);
			snprintf(nm, sizeof(nm), "blocks.%d.se.expand", id);
			k = add_layer(out, max, k, nm, 0, b->se_mid, 1, 1, b->mid, 1, 1,
			    (long)b->mid * b->se_mid, (long)b->mid * b->se_mid + b->mid);
		}
		snprintf(nm, sizeof(nm), "blocks.%d.point_linear", id);
		k = add_layer(out, max, k, nm, 0, b->mid, b->hout, b->wout, b->cout, b->hout,
		    b->wout, (long)b->mid * b->cout * b->hout * b->wout,
		    (long)b->mid * b->cout + 2L * b->cout);
	}
	{
		const struct arch_exit *f = &n->ex[n->nexit - 1];
		int c = f->c;

		k = add_layer(out, max, k, "final_expand_layer", 0, c, f->h, f->w,
		    n->final_expand, f->h, f->w, (long)c * n->final_expand * f->h * f->w,
		    (long)c * n->final_expand + 2L * n->final_expand);
		k = add_layer(out, max, k, "feature_mix_layer", 0, n->final_expand, 1, 1,
		    n->feature_mix, 1, 1, (long)n->final_expand * n->feature_mix,
		    (long)n->final_expand * n->feature_mix);
		k = add_layer(out, max, k, "classifier", 0, n->feature_mix, 1, 1, n->classes,
		    1, 1, (long)n->feature_mix * n->classes,
		    (long)n->feature_mix * n->classes + n->classes);
	}
	for (i = 0; i < n->nexit - 1; i++) {
		const struct arch_exit *x = &n->ex[i];
		int e = x->stage - 1, hw = x->hp * x->wp;

		if (n->a.space == ARCH_AEBNAS) {
			const struct arch_mod *m = n->a.mod[e];
			int j, c = x->c, h = x->h, w = x->w;

			for (j = 0; j < ARCH_MODS && m[j].present; j++) {
				int co = c * m[j].wm, ho = conv_out(h, m[j].k, 2),
				    wo = conv_out(w, m[j].k, 2);

				snprintf(nm, sizeof(nm), "exits.%d.mods.%d.conv", e, j);
				k = add_layer(out, max, k, nm, i + 1, c, h, w, co, ho, wo,
				    (long)c * m[j].k * m[j].k * co * ho * wo,
				    (long)c * m[j].k * m[j].k * co + 2L * co);
				c = co, h = ho, w = wo;
				if (m[j].pool && h >= 2 && w >= 2) {
					snprintf(nm, sizeof(nm), "exits.%d.mods.%d.pool", e, j);
					k = add_layer(out, max, k, nm, i + 1, c, h, w, c, h / 2,
					    w / 2, 0, 0);
					h /= 2, w /= 2;
				}
			}
			snprintf(nm, sizeof(nm), "exits.%d.linear", e);
			k = add_layer(out, max, k, nm, i + 1, c, 1, 1, n->classes, 1, 1,
			    (long)c * n->classes, (long)c * n->classes + n->classes);
			continue;
		}
		if (x->pool > 1) {
			snprintf(nm, sizeof(nm), "exits.%d.pool", e);
			k = add_layer(out, max, k, nm, i + 1, x->c, x->h, x->w, x->c, x->hp,
			    x->wp, 0, 0);
		}
		snprintf(nm, sizeof(nm), "exits.%d.conv1", e);
		k = add_layer(out, max, k, nm, i + 1, x->c, x->hp, x->wp, 32, x->hp, x->wp,
		    (long)x->c * 9 * 32 * hw, (long)x->c * 9 * 32 + 32);
		snprintf(nm, sizeof(nm), "exits.%d.conv2", e);
		k = add_layer(out, max, k, nm, i + 1, 32, x->hp, x->wp, 64, x->hp, x->wp,
		    32L * 9 * 64 * hw, 32L * 9 * 64 + 64);
		snprintf(nm, sizeof(nm), "exits.%d.conv3", e);
		k = add_layer(out, max, k, nm, i + 1, 64, x->hp, x->wp, 128, x->hp, x->wp,
		    64L * 9 * 128 * hw, 64L * 9 * 128 + 128);
		snprintf(nm, sizeof(nm), "exits.%d.linear", e);
		k = add_layer(out, max, k, nm, i + 1, 128 * hw, 1, 1, x->nout, 1, 1,
		    128L * hw * x->nout, 128L * hw * x->nout + x->nout);
	}
	return k;
}
