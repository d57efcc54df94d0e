/*
 * mac-count - count MACs and parameters of an arch or eenn record by the
 * one convention of nachos-method(7) §2: a per-layer table on a terminal, otherwise the
 * record annotated with its totals.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "cli.h"
#include "hw.h"
#include "lat.h"
#include "nachos.h"

static const char usage_str[] =
    "usage: mac-count [-hl] [-f table|rec] [--latency table] [file ...]\n";

static void
usage(FILE *fp, int status)
{
	fputs(usage_str, fp);
	exit(status);
}

struct totals {
	long macs_bb, params_bb, macs_heads, params_heads;
};

static void
shape(char *buf, size_t n, int c, int h, int w)
{
	snprintf(buf, n, "%dx%dx%d", c, h, w);
}

static void
print_table(FILE *fp, long recno, const msgpack_object *m, const struct arch_net *n,
    const struct arch_layer *l, int nl, int eenn, const struct totals *t,
    const struct hw_mem *mem)
{
	const msgpack_object *id = rec_get(m, "id");
	const struct arch *a = &n->a;
	char in[32], out[32];
	int i;

	fprintf(fp, "record %ld", recno);
	if (id && id->type == MSGPACK_OBJECT_STR)
		fprintf(fp, " (%.*s)", (int)id->via.str.size, id->via.str.ptr);
	fprintf(fp, ": %s, %s space, width %g, input %dx%dx%d, %d classes\n",
	    eenn ? "eenn" : "arch", arch_space_names[a->space], a->width, a->in_ch,
	    a->resolution, a->resolution, a->classes);
	fprintf(fp, "%-36s %-12s %-12s %12s %10s\n", "layer", "input", "output", "MACs",
	    "params");
	for (i = 0; i < nl; i++) {
		if (l[i].exit && !eenn)
			continue;
		shape(in, sizeof(in), l[i].cin, l[i].hin, l[i].win);
		shape(out, sizeof(out), l[i].cout, l[i].hout, l[i].wout);
		fprintf(fp, "%-36s %-12s %-12s %12ld %10ld\n", l[i].name, in, out,
		    l[i].macs, l[i].params);
	}
	fprintf(fp, "%-62s %12ld %10ld\n", "total backbone (macs_backbone, params)",
	    t->macs_bb, t->params_bb);
	fprintf(fp, "%-36s %12s %12s\n", "memory of the EENN (bytes), D =", "f32", "int8");
	fprintf(fp, "%-36s %12ld %12ld\n", "flash: constant data (flash_bytes_D)",
	    mem->flash[SCHED_F32], mem->flash[SCHED_INT8]);
	fprintf(fp, "%-36s %12ld %12ld\n", "SRAM: activation arena (sram_bytes_D)",
	    mem->sram[SCHED_F32], mem->sram[SCHED_INT8]);
	if (eenn) {
		fprintf(fp, "%-62s %12ld %10ld\n", "total exit heads (macs_heads, params_heads)",
		    t->macs_heads, t->params_heads);
		fprintf(fp, "%-6s %-6s %-6s %12s %12s %12s %12s %12s\n", "exit", "stage", "pool",
		    "head MACs", "cost Eq.13", "spent", "SRAM f32", "SRAM int8");
		for (i = 0; i < n->nexit; i++) {
			const struct arch_exit *x = &n->ex[i];

			fprintf(fp, "%-6d %-6d %-6d %12ld %12ld %12ld %12ld %12ld%s\n", i + 1,
			    x->stage, x->pool, x->head_macs, x->cost, x->spent,
			    mem->sram_to[SCHED_F32][i], mem->sram_to[SCHED_INT8][i],
			    x->pool_failed ? "  (placement rule failed)" : "");
		}
	}
	fputc('\n', fp);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "format", required_argument, NULL, 'f' },
		{ "layers", no_argument, NULL, 'l' },
		{ "latency", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const formats[] = { "table", "rec", NULL };
	static struct arch_layer l[ARCH_MAX_LAYERS];
	struct rec_out o;
	struct rec_files in;
	const msgpack_object *m;
	struct lat_table lt;
	const char *latpath = NULL;
	double lat[ARCH_EXITS + 1];
	int c, i, table = isatty(STDOUT_FILENO), layers = 0;

	while ((c = getopt_long(argc, argv, "hf:l", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, 0);
			break;
		case 'f':
			table = cli_choice("-f", optarg, formats) == 0;
			break;
		case 'l':
			layers = 1;
			break;
		case 'L':
			latpath = optarg;
			break;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (latpath)
		lat_load(&lt, latpath);
	cli_stdout_buffer(1 << 16);
	rec_out_init(&o);
	rec_files_init(&in, argc, argv);
	while ((m = rec_files_next(&in)) != NULL) {
		struct totals t = { 0, 0, 0, 0 };
		struct arch a;
		struct arch_net n;
		struct hw_mem mem;
		char type[64];
		int nl = 0, eenn = rec_is(m, "eenn");

		arch_read_typed(&a, &in.r, m);
		arch_net_build(&n, &a);
		/* Layer names cost more than the counting: only when shown. */
		if ((table || layers) &&
		    (nl = arch_net_layers(&n, l, ARCH_MAX_LAYERS)) > ARCH_MAX_LAYERS)
			errx(EX_SOFTWARE, "more than %d layers", ARCH_MAX_LAYERS);
		hw_mem(&mem, &n);
		if (latpath)
			lat_exits(lat, &lt, latpath, &in.r, &n);
		t.macs_bb = n.macs_backbone;
		t.params_bb = n.params_backbone;
		for (i = 0; i < n.nexit - 1; i++) {
			t.macs_heads += n.ex[i].head_macs;
			t.params_heads += n.ex[i].head_params;
		}
		if (table) {
			print_table(stdout, in.r.n, m, &n, l, nl, eenn, &t, &mem);
			continue;
		}
		rec_str(&in.r, m, "type", type, sizeof(type));
		rec_out_begin(&o, m, type, rec_int(&in.r, m, "v", 0, 1L << 62));
		rec_put_int(&o, "macs_backbone", t.macs_bb);
		rec_put_int(&o, "params", t.params_bb);
		if (eenn) {
			rec_put_int(&o, "macs_heads", t.macs_heads);
			rec_put_int(&o, "params_heads", t.params_heads);
		}
		hw_mem_put(&o, &mem);
		if (latpath)
			rec_put_dbls(&o, "exit_latency", lat, n.nexit);
		if (layers) {
			int cnt = 0;

			for (i = 0; i < nl; i++)
				cnt += eenn || !l[i].exit;
			rec_key(&o, "layers");
			msgpack_pack_array(&o.pk, cnt);
			for (i = 0; i < nl; i++)
				if (eenn || !l[i].exit)
					arch_pack_layer(&o.pk, &l[i]);
		}
		rec_out_end(&o, stdout);
	}
	rec_out_free(&o);
	if (latpath)
		lat_free(&lt);
	cli_finish();
	return 0;
}
