/* test_lat.c - the latency table's model (lat.h): parts' weights and the
 * parts of each exit, the working-set curve, a prediction worked by hand
 * from a hand-made table and its refusals, and the fit recovering a known
 * machine from exact synthetic timings. No timing is judged here. */
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "lat.h"
#include "nn.h"
#include "schedule.h"
#include "unit.h"

/* A network of space s, every slot at kernel k and expand ratio e, every
 * exit on. */
static void
net_of(struct arch_net *n, enum arch_space s, int k, int e)
{
	struct arch a;
	int i;

	arch_defaults(&a);
	arch_extreme(&a, s, 1);
	a.in_ch = 1;
	for (i = 0; i < ARCH_SLOTS; i++) {
		a.ks[i] = k;
		a.e[i] = e;
	}
	for (i = 0; i < ARCH_EXITS; i++)
		a.exits[i] = 1;
	arch_canonical(&a);
	arch_net_build(n, &a);
}

static void
test_parts(void)
{
	static const enum arch_space sp[3] = { ARCH_NACHOS, ARCH_EDANAS, ARCH_AEBNAS };
	long bytes[LAT_PARTS], sum, heads;
	int idx[LAT_PARTS], s, i, np, ne;
	struct arch_net n;

	for (s = 0; s < 3; s++) {
		net_of(&n, sp[s], 5, 4);
		CHECK(n.nexit >= 2);
		np = lat_part_bytes(bytes, &n);
		CHECK_EQ_L(np, 1 + n.nblk + n.nexit);
		/* every weight in exactly one part: arch.c's count, f32 */
		for (sum = 0, i = 0; i < np; i++) {
			CHECK(bytes[i] > 0);
			sum += bytes[i];
		}
		for (heads = 0, i = 0; i < n.nexit - 1; i++)
			heads += n.ex[i].head_params;
		CHECK_EQ_L(sum, 4 * (n.params_backbone + heads));
		CHECK_EQ_L(bytes[0], 4L * (n.in_ch * 9 * n.first_ch + 2 * n.first_ch));
		/* exit i: the first conv, blocks 0..after, heads 0..i */
		for (i = 0; i < n.nexit; i++) {
			ne = lat_exit_parts(idx, &n, i);
			CHECK_EQ_L(ne, 2 + n.ex[i].after + i + 1);
			CHECK_EQ_L(idx[0], 0);
			CHECK_EQ_L(idx[1 + n.ex[i].after], 1 + n.ex[i].after);
			CHECK_EQ_L(idx[2 + n.ex[i].after], 1 + n.nblk);
			CHECK_EQ_L(idx[ne - 1], 1 + n.nblk + i);
		}
		CHECK_EQ_L(lat_exit_parts(idx, &n, n.nexit - 1), np);
	}
}

/* The export schedule's ops by part (a table of the exported C): the input
 * and first conv in part 0, each block's ops (its shapes) in its part, the
 * heads in theirs, every part reached and a segment's ops only in the
 * parts of its exit. */
static void
test_op_parts(void)
{
	static const enum arch_space sp[3] = { ARCH_NACHOS, ARCH_EDANAS, ARCH_AEBNAS };
	int part[SCHED_MAX_OPS], idx[LAT_PARTS], seen[LAT_PARTS], s, i, j, b, ne, in;
	struct sched *sc = calloc(1, sizeof(*sc));
	struct arch_net n;

	for (s = 0; s < 3; s++) {
		net_of(&n, sp[s], 3, 3);
		sched_build(sc, &n, 1);
		CHECK_EQ_L(lat_op_parts(part, sc), sc->nop);
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < sc->nop; i++) {
			const struct sched_op *o = &sc->op[i];

			CHECK(part[i] >= 0 && part[i] < 1 + n.nblk + n.nexit);
			seen[part[i]] = 1;
			ne = lat_exit_parts(idx, &n, o->seg);
			for (in = 0, j = 0; j < ne; j++)
				in |= idx[j] == part[i];
			CHECK(in);
			if (o->head)
				CHECK_EQ_L(part[i], 1 + n.nblk + o->seg);
			else if (i <= 1)
				CHECK_EQ_L(part[i], 0);
			else {
				b = part[i] - 1;
				CHECK(b >= 0 && b < n.nblk);
				if (strstr(o->name, "inverted_bottleneck"))
					CHECK(o->ci == n.blk[b].cin && o->co == n.blk[b].mid);
				if (strstr(o->name, "point_linear"))
					CHECK(o->ci == n.blk[b].mid && o->co == n.blk[b].cout);
				if (o->kind == SK_ADD)
					CHECK(n.blk[b].residual && o->co == n.blk[b].cout);
			}
		}
		for (i = 0; i < 1 + n.nblk + n.nexit; i++)
			CHECK(seen[i]);
	}
	free(sc);
}

static void
test_ws_cost(void)
{
	struct lat_table t;

	memset(&t, 0, sizeof(t));
	t.nknot = 3;
	t.ws_bytes[0] = 1e6, t.ws_bytes[1] = 4e6, t.ws_bytes[2] = 16e6;
	t.ws_ms_per_mb[0] = 0, t.ws_ms_per_mb[1] = 2, t.ws_ms_per_mb[2] = 4;
	/* linear in log W between the knots, flat outside */
	CHECK_NEAR(lat_ws_cost(&t, 0.5e6), 0, 1e-12);
	CHECK_NEAR(lat_ws_cost(&t, 1e6), 0, 1e-12);
	CHECK_NEAR(lat_ws_cost(&t, 2e6), 1, 1e-9);
	CHECK_NEAR(lat_ws_cost(&t, 4e6), 2, 1e-9);
	CHECK_NEAR(lat_ws_cost(&t, 8e6), 3, 1e-9);
	CHECK_NEAR(lat_ws_cost(&t, 1e9), 4, 1e-12);
	t.nknot = 1;
	CHECK_NEAR(lat_ws_cost(&t, 8e6), 0, 1e-12);
}

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct lat_entry *)a)->key, ((const struct lat_entry *)b)->key);
}

/* A table holding n's parts: part i takes (i + 1) / 100 ms at the first
 * knot. */
static void
table_of(struct lat_table *t, const struct arch_net *n)
{
	char (*key)[LAT_KEY] = calloc(LAT_PARTS, LAT_KEY);
	long bytes[LAT_PARTS];
	int np = lat_keys(key, n), i, j;

	lat_part_bytes(bytes, n);
	memset(t, 0, sizeof(*t));
	t->base = n->a;
	t->e = calloc(np, sizeof(*t->e));
	for (i = 0; i < np; i++) {
		for (j = 0; j < t->n && strcmp(t->e[j].key, key[i]); j++)
			;
		if (j < t->n)           /* a configuration seen twice */
			continue;
		snprintf(t->e[t->n].key, LAT_KEY, "%s", key[i]);
		t->e[t->n].ms = (i + 1) / 100.0;
		t->e[t->n].bytes = bytes[i];
		t->e[t->n++].n = 1;
	}
	qsort(t->e, t->n, sizeof(*t->e), cmp_entry);
	t->nknot = 2;
	t->ws_bytes[0] = 1e6, t->ws_bytes[1] = 8e6;
	t->ws_ms_per_mb[0] = 0, t->ws_ms_per_mb[1] = 0.03;
	t->image_ms = 0.2, t->exit_ms = 0.01;
	free(key);
}

static void
test_predict(void)
{
	char (*key)[LAT_KEY] = calloc(LAT_PARTS, LAT_KEY), what[LAT_KEY + 32];
	double got[ARCH_EXITS + 1];
	long bytes[LAT_PARTS];
	int idx[LAT_PARTS], i, j, k, ne;
	struct lat_table t;
	struct arch_net n, other;

	net_of(&n, ARCH_NACHOS, 7, 6);
	table_of(&t, &n);
	lat_keys(key, &n);
	lat_part_bytes(bytes, &n);
	CHECK_EQ_L(lat_predict(got, &t, &n, what, sizeof(what)), 0);
	for (i = 0; i < n.nexit; i++) {
		double ws = 0, want, c;

		ne = lat_exit_parts(idx, &n, i);
		for (j = 0; j < ne; j++)
			ws += bytes[idx[j]];
		c = ws <= 1e6 ? 0 : ws >= 8e6 ? 0.03 : 0.03 * log(ws / 1e6) / log(8.0);
		want = 0.2 + 0.01 * (i + 1);
		for (j = 0; j < ne; j++) {
			for (k = 0; k < t.n && strcmp(t.e[k].key, key[idx[j]]); k++)
				;
			want += t.e[k].ms + bytes[idx[j]] / 1e6 * c;
		}
		CHECK_NEAR(got[i], want, 1e-9 * want);
		CHECK(i == 0 || got[i] > got[i - 1]);
	}
	/* the final exit reads more than 8 MB here: the whole curve counts */
	CHECK(bytes[1 + n.nblk + n.nexit - 1] > 0);
	/* refused: another width, a part missing, an entry of other weights */
	other = n;
	other.a.width = 0.5;
	CHECK_EQ_L(lat_predict(got, &t, &other, what, sizeof(what)), -1);
	CHECK(strcmp(what, "width") == 0);
	t.e[0].bytes++;
	CHECK_EQ_L(lat_predict(got, &t, &n, what, sizeof(what)), -1);
	CHECK(strncmp(what, "bytes of ", 9) == 0 && strcmp(what + 9, t.e[0].key) == 0);
	t.e[0].bytes--;
	t.n--;
	CHECK_EQ_L(lat_predict(got, &t, &n, what, sizeof(what)), -1);
	CHECK(strcmp(what, t.e[t.n].key) == 0);
	lat_free(&t);
	free(key);
}

/* A head's latency: leaving at the final exit with it, less without it. In
 * AEBNAS's space the other heads do not change when an exit goes (their
 * pools are genes), so the network rebuilt without it is the reference. */
static void
test_heads(void)
{
	struct rec_in r = { .name = "test" };
	struct lat_table t;
	struct arch_net n, less;
	double head[ARCH_EXITS + 1], full[ARCH_EXITS + 1], got[ARCH_EXITS + 1];
	char what[LAT_KEY + 32];
	int k;

	net_of(&n, ARCH_AEBNAS, 5, 4);
	table_of(&t, &n);
	lat_heads(head, &t, "t", &r, &n);
	CHECK_EQ_L(lat_predict(full, &t, &n, what, sizeof(what)), 0);
	for (k = 0; k < n.nexit - 1; k++) {
		struct arch b = n.a;

		b.th[k] = 2;
		arch_canonical(&b);
		arch_net_build(&less, &b);
		CHECK_EQ_L(less.nexit, n.nexit - 1);
		CHECK_EQ_L(lat_predict(got, &t, &less, what, sizeof(what)), 0);
		CHECK_NEAR(head[k], full[n.nexit - 1] - got[less.nexit - 1], 1e-12);
		CHECK(head[k] > 0.01);          /* the head's parts and the exit's overhead */
	}
	CHECK_EQ_L((long)head[n.nexit - 1], 0);
	lat_free(&t);
}

/* Timings made exactly by the model from a known machine: the fit gets
 * the parts' times, the curve and the overheads back. */
static void
test_fit(void)
{
	static const int ks[3] = { 3, 5, 7 }, es[3] = { 3, 4, 6 };
	struct lat_sample *s = calloc(9 * 5 * LAT_PARTS, sizeof(*s));
	struct lat_pass ps[9 * 5];
	struct lat_table truth, t;
	struct arch_net n;
	char (*key)[LAT_KEY] = calloc(LAT_PARTS, LAT_KEY);
	long bytes[LAT_PARTS];
	int idx[LAT_PARTS], ns = 0, np = 0, c, i, j, k, ne;
	struct nn_rng rng;

	memset(&truth, 0, sizeof(truth));
	memset(&t, 0, sizeof(t));
	nn_rng_seed(&rng, 11);
	t.e = calloc(9 * LAT_PARTS, sizeof(*t.e));
	truth.e = calloc(9 * LAT_PARTS, sizeof(*truth.e));
	for (c = 0; c < 9; c++) {
		net_of(&n, ARCH_NACHOS, ks[c / 3], es[c % 3]);
		lat_keys(key, &n);
		lat_part_bytes(bytes, &n);
		for (i = 0; i < n.nexit; i++) {
			ne = lat_exit_parts(idx, &n, i);
			ps[np].first = ns;
			ps[np].n = ne;
			ps[np].exits = i + 1;
			ps[np].ws = 0;
			for (j = 0; j < ne; j++)
				ps[np].ws += bytes[idx[j]];
			for (j = 0; j < ne; j++) {
				for (k = 0; k < t.n && strcmp(t.e[k].key, key[idx[j]]); k++)
					;
				if (k == t.n) {
					snprintf(t.e[k].key, LAT_KEY, "%s", key[idx[j]]);
					truth.e[k].ms = 0.005 + 0.1 * (nn_rng_u32(&rng) / 4294967296.0);
					t.n++;
				}
				s[ns].key = k;
				s[ns].bytes = bytes[idx[j]];
				s[ns].ms = 1;   /* until the truth's timings below */
				s[ns++].ws = ps[np].ws;
			}
			ps[np++].ms = 1;
		}
	}
	/* the fit places the knots; the truth's curve on the same ones */
	lat_fit(&t, s, ns, ps, np);
	CHECK(t.nknot >= 3);
	truth.nknot = t.nknot;
	memcpy(truth.ws_bytes, t.ws_bytes, sizeof(t.ws_bytes));
	for (j = 1; j < t.nknot; j++)
		truth.ws_ms_per_mb[j] = 0.004 * j * j;
	truth.image_ms = 0.05, truth.exit_ms = 0.002;
	for (i = 0; i < ns; i++)
		s[i].ms = truth.e[s[i].key].ms + s[i].bytes / 1e6 * lat_ws_cost(&truth, s[i].ws);
	for (i = 0; i < np; i++) {
		ps[i].ms = truth.image_ms + ps[i].exits * truth.exit_ms;
		for (j = ps[i].first; j < ps[i].first + ps[i].n; j++)
			ps[i].ms += s[j].ms;
	}
	lat_fit(&t, s, ns, ps, np);
	for (k = 0; k < t.n; k++)
		CHECK_NEAR(t.e[k].ms, truth.e[k].ms, 0.02 * truth.e[k].ms);
	for (j = 0; j < t.nknot; j++)
		CHECK_NEAR(t.ws_ms_per_mb[j], truth.ws_ms_per_mb[j], 1e-3);
	CHECK_NEAR(t.image_ms, truth.image_ms, 0.01);
	CHECK_NEAR(t.exit_ms, truth.exit_ms, 0.002);
	CHECK_EQ_L(t.fit_points, np);
	CHECK(t.fit_mape < 0.005 && t.fit_max_ape < 0.02);
	/* an overhead the passes do not have is not made up below zero */
	for (i = 0; i < np; i++)
		ps[i].ms -= truth.image_ms + 0.9 * ps[i].exits * truth.exit_ms;
	lat_fit(&t, s, ns, ps, np);
	CHECK(t.image_ms >= 0 && t.exit_ms >= 0);
	lat_free(&t);
	free(truth.e);
	free(s);
	free(key);
}

int
main(void)
{
	test_parts();
	test_op_parts();
	test_ws_cost();
	test_predict();
	test_heads();
	test_fit();
	return unit_done("test_lat");
}
