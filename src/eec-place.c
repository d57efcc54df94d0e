/*
 * eec-place - the OFA Adapter: attach the early exits of an arch record
 * (NACHOS heads with the max-pool rule of Algorithm 1, or AEBNAS branches
 * from the genes) and write an eenn record with each head, Eq. 13 cost and
 * the MACs really spent per exit.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "cli.h"
#include "hw.h"
#include "nachos.h"

static const char usage_str[] = "usage: eec-place [-h] [file ...]\n";

static void
pack_kv_int(msgpack_packer *pk, const char *key, long v)
{
	rec_pack_str(pk, key);
	msgpack_pack_long(pk, v);
}

/* One head: its map and the layers of exit x (1-based; 0 = the final head,
 * whose layers are the backbone rows from final_expand_layer on). */
static void
pack_head(msgpack_packer *pk, const struct arch_net *n, int i,
    const struct arch_layer *l, int nl)
{
	const struct arch_exit *x = &n->ex[i];
	int final = i == n->nexit - 1, j, first = nl, cnt = 0;
	long params = 0;

	for (j = 0; j < nl; j++)
		if (final ? strcmp(l[j].name, "final_expand_layer") == 0 && first == nl :
		    l[j].exit == i + 1)
			first = j < first ? j : first;
	for (j = first; j < nl && (final ? l[j].exit == 0 : l[j].exit == i + 1); j++) {
		params += l[j].params;
		cnt++;
	}
	msgpack_pack_map(pk, 12);
	pack_kv_int(pk, "stage", x->stage);
	rec_pack_str(pk, "kind");
	rec_pack_str(pk, final ? "final" : n->a.space == ARCH_AEBNAS ? "aebnas" : "nachos");
	pack_kv_int(pk, "c", x->c);
	pack_kv_int(pk, "h", x->h);
	pack_kv_int(pk, "w", x->w);
	pack_kv_int(pk, "pool", x->pool);
	pack_kv_int(pk, "hp", x->hp);
	pack_kv_int(pk, "wp", x->wp);
	pack_kv_int(pk, "nout", x->nout);
	pack_kv_int(pk, "macs", x->head_macs);
	pack_kv_int(pk, "params", final ? params : x->head_params);
	rec_pack_str(pk, "layers");
	msgpack_pack_array(pk, cnt);
	for (j = first; j < first + cnt; j++)
		arch_pack_layer(pk, &l[j]);
}

/* Did the placement rule hold (cost strictly increasing along the exits)?
 * "ok", or "failed" and every exit that breaks it. */
static void
placement(char *buf, size_t sz, const struct arch_net *n)
{
	size_t len = 0;
	int i;

	snprintf(buf, sz, "ok");
	for (i = 0; i + 1 < n->nexit; i++) {
		const struct arch_exit *x = &n->ex[i];

		if (x->cost < n->ex[i + 1].cost || len >= sz)
			continue;
		len += snprintf(buf + len, sz - len, "%s stage %d exit costs %ld MACs, not "
		    "below the next exit's %ld", len ? ";" : "failed:", x->stage, x->cost,
		    n->ex[i + 1].cost);
		if (len < sz)
			len += snprintf(buf + len, sz - len, n->a.space == ARCH_AEBNAS ?
			    " (AEBNAS branches are not pooled)" :
			    " even with the largest pool (%d)", x->pool);
	}
}

int
main(int argc, char **argv)
{
	static struct arch_layer l[ARCH_MAX_LAYERS];
	struct rec_out o;
	struct rec_files in;
	const msgpack_object *m;
	int i;

	i = cli_help_only(argc, argv, usage_str);
	argc -= i;
	argv += i;
	cli_stdout_buffer(1 << 16);
	rec_out_init(&o);
	rec_files_init(&in, argc, argv);
	while ((m = rec_files_next(&in)) != NULL) {
		struct arch a;
		struct arch_net n;
		struct hw_mem mem;
		long cost[ARCH_EXITS + 1], spent[ARCH_EXITS + 1];
		int st[ARCH_EXITS + 1], nl;
		char msg[1024];

		/* An eenn record is placed again from its arch keys. */
		arch_read_typed(&a, &in.r, m);
		arch_net_build(&n, &a);
		if ((nl = arch_net_layers(&n, l, ARCH_MAX_LAYERS)) > ARCH_MAX_LAYERS)
			errx(EX_SOFTWARE, "more than %d layers", ARCH_MAX_LAYERS);
		rec_out_begin(&o, m, "eenn", 1);
		rec_key(&o, "heads");
		msgpack_pack_array(&o.pk, n.nexit);
		for (i = 0; i < n.nexit; i++) {
			pack_head(&o.pk, &n, i, l, nl);
			st[i] = n.ex[i].stage;
			cost[i] = n.ex[i].cost;
			spent[i] = n.ex[i].spent;
		}
		rec_put_ints(&o, "exit_stages", st, n.nexit);
		rec_put_longs(&o, "exit_cost", cost, n.nexit);
		rec_put_longs(&o, "exit_spent", spent, n.nexit);
		rec_put_int(&o, "macs_backbone", n.macs_backbone);
		placement(msg, sizeof(msg), &n);
		rec_put_str(&o, "placement", msg);
		hw_mem(&mem, &n);
		hw_mem_put(&o, &mem);
		rec_out_end(&o, stdout);
	}
	rec_out_free(&o);
	cli_finish();
	return 0;
}
