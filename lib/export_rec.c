/*
 * export_rec.c - eenn-export's work on one result record (export.h): check
 * everything, build and calibrate the xnet, write the C directories into a
 * temporary directory under -o, optionally measure them, rename the
 * directory into place and write the record back with the figures.
 */
#define _GNU_SOURCE
#include "export.h"

#include <elf.h>
#include <err.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt.h"
#include "cli.h"
#include "nachos.h"
#include "onnx_export.h"
#include "thr.h"

/* The bytes an ELF object puts in flash: its allocated sections that hold
 * contents (code, read-only and initialised data; not .bss), from the
 * section headers (32- or 64-bit, little-endian as every target we build
 * for). */
static long
elf_flash_bytes(const char *path)
{
	unsigned char id[EI_NIDENT];
	FILE *fp = fopen(path, "rb");
	long sum = 0;
	int i, ok;

	if (fp == NULL)
		err(EX_SOFTWARE, "%s", path);
	ok = fread(id, 1, EI_NIDENT, fp) == EI_NIDENT && memcmp(id, ELFMAG, SELFMAG) == 0 &&
	    id[EI_DATA] == ELFDATA2LSB && (id[EI_CLASS] == ELFCLASS32 || id[EI_CLASS] == ELFCLASS64);
	if (ok && id[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;
		Elf64_Shdr sh;

		ok = fseek(fp, 0, SEEK_SET) == 0 && fread(&eh, sizeof(eh), 1, fp) == 1;
		for (i = 0; ok && i < eh.e_shnum; i++) {
			ok = fseek(fp, (long)(eh.e_shoff + (uint64_t)i * eh.e_shentsize), SEEK_SET) == 0 &&
			    fread(&sh, sizeof(sh), 1, fp) == 1;
			if (ok && sh.sh_flags & SHF_ALLOC && sh.sh_type != SHT_NOBITS)
				sum += (long)sh.sh_size;
		}
	} else if (ok) {
		Elf32_Ehdr eh;
		Elf32_Shdr sh;

		ok = fseek(fp, 0, SEEK_SET) == 0 && fread(&eh, sizeof(eh), 1, fp) == 1;
		for (i = 0; ok && i < eh.e_shnum; i++) {
			ok = fseek(fp, (long)(eh.e_shoff + (uint32_t)i * eh.e_shentsize), SEEK_SET) == 0 &&
			    fread(&sh, sizeof(sh), 1, fp) == 1;
			if (ok && sh.sh_flags & SHF_ALLOC && sh.sh_type != SHT_NOBITS)
				sum += (long)sh.sh_size;
		}
	}
	fclose(fp);
	if (!ok)
		errx(EX_SOFTWARE, "%s: not a little-endian ELF object (--cc must make one)", path);
	return sum;
}

/* Compile dir/name.c with the shell command cc (-c -o added) and return the
 * flash bytes of the object. */
static long
compiled_flash(const char *cc, const char *dir, const char *name)
{
	char src[4700], obj[4700], qs[9500], qo[9500], *cmd;
	size_t n;
	long bytes;
	int st;

	snprintf(src, sizeof(src), "%s/%s.c", dir, name);
	snprintf(obj, sizeof(obj), "%s/%s.size.o", dir, name);
	cli_sh_quote(qs, sizeof(qs), src);
	cli_sh_quote(qo, sizeof(qo), obj);
	n = strlen(cc) + strlen(qs) + strlen(qo) + 16;
	cmd = cli_calloc(n, 1);
	snprintf(cmd, n, "%s -c -o %s %s", cc, qo, qs);
	st = system(cmd);
	free(cmd);
	if (st != 0)
		errx(EX_SOFTWARE, "--cc: \"%s\" failed on %s (status %d)", cc, src, st);
	bytes = elf_flash_bytes(obj);
	if (unlink(obj) < 0)
		err(EX_CANTCREAT, "%s", obj);
	return bytes;
}

/* The temporary directory being written, removed if the process exits
 * before it is renamed into place. */
static char pending[4096];

static void
rm_pending(void)
{
	if (pending[0])
		cli_rm_tree(pending);
	pending[0] = 0;
}

/* The record's id as a directory name. */
static void
get_id(char *id, size_t n, const struct rec_in *r, const msgpack_object *m, long recno)
{
	if (!rec_get(m, "id")) {
		snprintf(id, n, "%ld", recno);
		return;
	}
	rec_str(r, m, "id", id, n);
	if (!id[0] || strchr(id, '/') || strcmp(id, ".") == 0 || strcmp(id, "..") == 0 ||
	    id[0] == '.')
		rec_fail(r, "id", "\"%s\" cannot name a directory", id);
}

struct evalres {
	long n, correct, count[ARCH_EXITS + 1];
	double macs;
};

/* Early-exit runs of the interpreter over the first n test images. */
static void
evaluate(struct evalres *ev, const struct xnet *x, enum sched_dtype dt,
    const struct train_ds *ds, long n, long recno)
{
	const struct data_set *d = &ds->te;
	long sz = (long)d->c * d->h * d->w, j;
	void *arena = cli_calloc(x->s.arena, sched_elem_bytes(dt));
	struct cli_progress p;
	char what[64];

	memset(ev, 0, sizeof(*ev));
	ev->n = n;
	snprintf(what, sizeof(what), "record %ld %s test", recno, sched_dtype_names[dt]);
	cli_progress_start(&p, what, n);
	for (j = 0; j < n; j++) {
		int32_t s = ds->ite[j];
		int e, cls = xnet_predict(x, dt, arena, d->x + s * sz, &e, NULL);

		ev->correct += cls == d->y[s];
		ev->count[e]++;
		ev->macs += x->s.net.ex[e].spent;
		if (j % 64 == 63)
			cli_progress(&p, j + 1, NULL);
	}
	cli_progress_end(&p, NULL);
	free(arena);
}

static void
put_eval(struct rec_out *o, const char *pre, const struct evalres *ev, int B)
{
	char k[96];

	snprintf(k, sizeof(k), "%s_top1", pre);
	rec_put_dbl(o, k, ev->n ? (double)ev->correct / ev->n : NAN);
	snprintf(k, sizeof(k), "%s_exit_count", pre);
	rec_put_longs(o, k, ev->count, B);
	snprintf(k, sizeof(k), "%s_avg_macs", pre);
	rec_put_dbl(o, k, ev->n ? ev->macs / ev->n : NAN);
}

static void
make_dir(const char *p)
{
	if (mkdir(p, 0777) < 0)
		err(EX_CANTCREAT, "%s", p);
}

/* Move tmp into place at dst, replacing an earlier export there. */
static void
commit_dir(const char *tmp, const char *dst)
{
	char old[4200];

	snprintf(old, sizeof(old), "%s.old", tmp);
	if (rename(dst, old) < 0 && errno != ENOENT)
		err(EX_CANTCREAT, "%s", dst);
	if (rename(tmp, dst) < 0)
		err(EX_CANTCREAT, "%s", dst);
	pending[0] = 0;
	cli_rm_tree(old);
}

/* The silent intermediate exits of net (thr_exit_silent) are left out of
 * the export, their thresholds out of eps (all of them: the final exit
 * alone remains). Returns how many went. */
static int
drop_silent_exits(struct arch_net *net, double *eps, enum thr_rule rule)
{
	unsigned mask = 0;
	int e, k = 0, n = 0;

	for (e = 0; e < net->nexit - 1; e++)
		if (thr_exit_silent(rule, eps[e])) {
			mask |= 1u << e;
			n++;
		}
	if (n == 0)
		return 0;
	for (e = 0; e < net->nexit - 1; e++)
		if (!(mask >> e & 1))
			eps[k++] = eps[e];
	arch_net_drop_exits(net, mask);
	return n;
}

void
export_record(struct rec_out *o, const struct export_opts *op, struct result_data *s,
    const struct rec_in *r, const msgpack_object *m, long recno)
{
	struct ckpt ck;
	struct arch a;
	struct arch_net net;
	struct model mdl;
	struct xnet *x;
	double eps[ARCH_EXITS + 1];
	char wpath[4096], id[256], dst[4400], dir[4500], type[64];
	int rule, conf, dt, B, k, dropped, stages[ARCH_EXITS + 1];
	struct evalres ev[SCHED_NDTYPE];
	long flash_total[SCHED_NDTYPE];   /* --cc: the compiled NAME.c's flash */
	struct onnx_file onnx[MODEL_MAX_EXITS];
	int nonnx = 0;
	static int registered;

	/* everything is checked before anything is written */
	if (!rec_get(m, "weights"))
		rec_fail(r, "weights", "missing (the checkpoint to export; eenn-train -o "
		    "writes it)");
	rec_str(r, m, "weights", wpath, sizeof(wpath));
	get_id(id, sizeof(id), r, m, recno);
	ckpt_open(&ck, wpath);
	ckpt_arch(&ck, &a);
	result_check_arch(r, m, &a, wpath);
	arch_net_build(&net, &a);
	rule = result_rule(&op->ro, r, m);
	result_eps(eps, &op->ro, r, m, net.nexit - 1);
	dropped = drop_silent_exits(&net, eps, rule);
	conf = !result_joint(m);
	result_load_data(s, &op->ro, r, m, &net);
	model_build(&mdl, &net, 0, 1);
	ckpt_load(&ck, &mdl, dropped ? CKPT_ALLOW_EXTRA : 0);
	ckpt_close(&ck);

	x = xnet_new(&mdl, s->ds.tr.c, s->ds.tr.h, s->ds.tr.w, &s->ds.nm, rule, eps, conf);
	if (!conf)
		sched_no_conf(&x->s);
	B = x->s.nseg;
	if (op->dtypes & 1 << SCHED_INT8) {
		int32_t *idx;
		long n = train_calib_set(&idx, &s->ds, op->calib, op->calib_seed), j;
		long sz = (long)s->ds.tr.c * s->ds.tr.h * s->ds.tr.w;
		uint8_t *img = cli_calloc(n * sz, 1);

		if (n == 0)
			rec_fail(r, "n_train", "no training images to calibrate int8 on");
		for (j = 0; j < n; j++)
			memcpy(img + j * sz, s->ds.tr.x + (long)idx[j] * sz, sz);
		xnet_calibrate(x, img, n);
		xnet_quantise(x);
		free(img);
		free(idx);
	}

	/* the directory, whole or not at all */
	if (!registered) {
		atexit(rm_pending);
		registered = 1;
	}
	snprintf(dst, sizeof(dst), "%s/%s", op->out, id);
	snprintf(pending, sizeof(pending), "%s/.%s.tmp.XXXXXX", op->out, id);
	if (mkdtemp(pending) == NULL) {
		int e = errno;

		pending[0] = 0;
		errno = e;
		err(EX_CANTCREAT, "%s", op->out);
	}
	{
		mode_t um = umask(0);

		umask(um);
		if (chmod(pending, 0777 & ~um) < 0)
			err(EX_CANTCREAT, "%s", pending);
	}
	for (dt = 0; dt < SCHED_NDTYPE; dt++) {
		if (!(op->dtypes & 1 << dt))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", pending, sched_dtype_names[dt]);
		make_dir(dir);
		xnet_write_c(x, dt, dir, op->name);
		if (op->cc)
			flash_total[dt] = compiled_flash(op->cc, dir, op->name);
		if (op->eval)
			evaluate(&ev[dt], x, dt, &s->ds, op->eval < s->ds.nte ? op->eval :
			    s->ds.nte, recno);
	}
	if (op->onnx) {
		char thr[512] = "";
		const char *meta[] = { "nachos.rule", thr_rule_names[rule], "nachos.thresholds",
		    thr, NULL };
		int e;

		for (e = 0; e < B - 1; e++)
			snprintf(thr + strlen(thr), sizeof(thr) - strlen(thr), "%s%.17g",
			    e ? "," : "", eps[e]);
		snprintf(dir, sizeof(dir), "%s/onnx", pending);
		make_dir(dir);
		nonnx = onnx_export(onnx, dir, &mdl, &s->ds.nm, s->ds.tr.c, s->ds.tr.h,
		    s->ds.tr.w, meta);
	}
	commit_dir(pending, dst);

	snprintf(type, sizeof(type), "%.*s", (int)rec_get(m, "type")->via.str.size,
	    rec_get(m, "type")->via.str.ptr);
	rec_out_begin(o, m, type, (long)rec_get(m, "v")->via.u64);
	rec_put_str(o, "export_dir", dst);
	rec_put_str(o, "export_name", op->name);
	rec_put_str(o, "export_rule", thr_rule_names[rule]);
	rec_put_dbls(o, "export_thresholds", eps, B - 1);
	for (k = 0; k < B; k++)
		stages[k] = net.ex[k].stage;
	rec_put_ints(o, "export_exit_stages", stages, B);
	for (dt = 0; dt < SCHED_NDTYPE; dt++) {
		const char *dn = sched_dtype_names[dt];
		long to[ARCH_EXITS + 1];
		char k[32];
		int e;

		if (!(op->dtypes & 1 << dt))
			continue;
		for (e = 0; e < B; e++)
			to[e] = sched_arena_to_bytes(&x->s, e, dt);
		snprintf(k, sizeof(k), "sram_bytes_%s", dn);
		rec_put_int(o, k, sched_arena_bytes(&x->s, dt));
		snprintf(k, sizeof(k), "sram_exit_bytes_%s", dn);
		rec_put_longs(o, k, to, B);
		snprintf(k, sizeof(k), "flash_bytes_%s", dn);
		rec_put_int(o, k, sched_const_bytes(&x->s, dt));
		if (op->cc) {
			snprintf(k, sizeof(k), "flash_code_bytes_%s", dn);
			rec_put_int(o, k, flash_total[dt] - sched_const_bytes(&x->s, dt));
			snprintf(k, sizeof(k), "flash_total_bytes_%s", dn);
			rec_put_int(o, k, flash_total[dt]);
		}
		if (op->eval) {
			snprintf(k, sizeof(k), "export_%s", dn);
			put_eval(o, k, &ev[dt], B);
		}
	}
	if (nonnx) {
		long bytes = 0;
		int e;

		rec_key(o, "onnx_files");
		msgpack_pack_array(&o->pk, nonnx);
		for (e = 0; e < nonnx; e++) {
			snprintf(dir, sizeof(dir), "%s/onnx/seg%d.onnx", dst, e + 1);
			rec_pack_str(&o->pk, dir);
			bytes += onnx[e].bytes;
		}
		rec_put_int(o, "onnx_bytes", bytes);
	}
	if (op->cc)
		rec_put_str(o, "export_cc", op->cc);
	if (op->dtypes & 1 << SCHED_INT8) {
		rec_put_int(o, "export_calib", x->ncalib);
		rec_put_int(o, "export_calib_seed", op->calib_seed);
	}
	rec_out_end(o, stdout);
	fflush(stdout);
	xnet_free(x);
	model_free(&mdl);
}
