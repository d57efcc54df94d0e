/* ckpt.c - see ckpt.h. */
#include "ckpt.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nachos.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoints hold little-endian floats; add byte swapping for this host"
#endif

/* ---- writing ---- */

static void
pack_tensor(msgpack_packer *pk, const struct model_tensor *t, const float *data)
{
	int i;

	msgpack_pack_map(pk, 3);
	rec_pack_str(pk, "shape");
	msgpack_pack_array(pk, t->ndim);
	for (i = 0; i < t->ndim; i++)
		msgpack_pack_int(pk, t->shape[i]);
	rec_pack_str(pk, "dtype");
	rec_pack_str(pk, "f32");
	rec_pack_str(pk, "data");
	msgpack_pack_bin(pk, t->n * sizeof(float));
	msgpack_pack_bin_body(pk, data, t->n * sizeof(float));
}

void
ckpt_write(const char *path, const msgpack_object *arch, const struct arch *a,
    const struct ckpt_table *tab, int ntab, long seed, long step,
    const msgpack_object *extra)
{
	struct rec_out o, ao;
	struct cli_out f;
	msgpack_unpacked au;
	char name[160];
	int i, j, n = 0;

	msgpack_unpacked_init(&au);
	rec_out_init(&ao);
	if (arch == NULL) {
		/* A fresh arch record from the struct, as ofa-sample writes it. */
		rec_out_begin(&ao, NULL, "arch", 1);
		arch_put(&ao, a);
		rec_out_finish(&ao);
		if (msgpack_unpack_next(&au, ao.whole.data, ao.whole.size, NULL) !=
		    MSGPACK_UNPACK_SUCCESS)
			errx(EX_SOFTWARE, "ckpt: cannot re-read the arch keys");
		arch = &au.data;
	}
	rec_out_init(&o);
	rec_out_begin(&o, extra, "ckpt", 1);
	rec_put_obj(&o, "arch", arch);
	rec_put_int(&o, "seed", seed);
	rec_put_int(&o, "step", step);
	rec_key(&o, "tensors");
	for (i = 0; i < ntab; i++)
		n += tab[i].n;
	msgpack_pack_map(&o.pk, n);
	for (i = 0; i < ntab; i++)
		for (j = 0; j < tab[i].n; j++) {
			const struct model_tensor *t = &tab[i].t[j];

			snprintf(name, sizeof(name), "%s%s", tab[i].prefix, t->name);
			rec_pack_str(&o.pk, name);
			pack_tensor(&o.pk, t, tab[i].base + t->off);
		}
	cli_out_open(&f, path);
	rec_out_end(&o, f.fp);
	cli_out_commit(&f);
	rec_out_free(&o);
	rec_out_free(&ao);
	msgpack_unpacked_destroy(&au);
}

void
ckpt_save(const char *path, const struct model *m, const msgpack_object *arch, long step)
{
	struct ckpt_table t = { "", m->t, m->ntensor, m->param };

	ckpt_write(path, arch, &m->net.a, &t, 1, (long)m->seed, step, NULL);
}

void
ckpt_save_model(const struct model *m, const char *path)
{
	ckpt_save(path, m, NULL, 0);
}

/* ---- reading ---- */

static const char *
key_str(const msgpack_object *k, char *buf, size_t n)
{
	size_t l = k->type == MSGPACK_OBJECT_STR ? k->via.str.size : 0;

	if (l >= n)
		l = n - 1;
	memcpy(buf, l ? k->via.str.ptr : "", l);
	buf[l] = 0;
	return buf;
}

/* Check one tensor entry {shape, dtype, data}; returns its element count.
 * The product of the dims is taken in size_t and checked for overflow; the
 * data's bytes (within the file: rec_next) must be exactly what it needs. */
static size_t
check_tensor(const struct rec_in *r, const char *name, const msgpack_object *v)
{
	const msgpack_object *sh, *dt, *data;
	char k[200];
	size_t n = 1;
	uint32_t i;

	snprintf(k, sizeof(k), "tensors.%s", name);
	if (v->type != MSGPACK_OBJECT_MAP)
		rec_fail(r, k, "not a map");
	sh = rec_get(v, "shape");
	dt = rec_get(v, "dtype");
	data = rec_get(v, "data");
	snprintf(k, sizeof(k), "tensors.%s.shape", name);
	if (sh == NULL || sh->type != MSGPACK_OBJECT_ARRAY || sh->via.array.size > 4)
		rec_fail(r, k, "missing or not an array of at most 4 integers");
	for (i = 0; i < sh->via.array.size; i++) {
		const msgpack_object *d = &sh->via.array.ptr[i];

		if (d->type != MSGPACK_OBJECT_POSITIVE_INTEGER || d->via.u64 > (1u << 30))
			rec_fail(r, k, "element %u is not a size", i);
		if (d->via.u64 != 0 && n > REC_MAX_BYTES / 4 / d->via.u64)
			rec_fail(r, k, "more elements than a record can hold");
		n *= (size_t)d->via.u64;
	}
	snprintf(k, sizeof(k), "tensors.%s.dtype", name);
	if (dt == NULL || !rec_streq(dt, "f32"))
		rec_fail(r, k, "missing or not \"f32\"");
	snprintf(k, sizeof(k), "tensors.%s.data", name);
	if (data == NULL || data->type != MSGPACK_OBJECT_BIN)
		rec_fail(r, k, "missing or not binary");
	if (data->via.bin.size != n * 4)
		rec_fail(r, k, "%u bytes, the shape needs %zu", data->via.bin.size, n * 4);
	return n;
}

void
ckpt_open(struct ckpt *c, const char *path)
{
	const msgpack_object *m, *t;
	char name[160];
	uint32_t i;

	memset(c, 0, sizeof(*c));
	rec_in_open(&c->r, path);
	m = rec_next(&c->r);
	if (m == NULL) {
		c->r.n = 1;
		rec_fail(&c->r, NULL, "empty file, not a checkpoint");
	}
	if (!rec_is(m, "ckpt"))
		rec_fail(&c->r, "type", "not \"ckpt\"");
	rec_int(&c->r, m, "v", 1, 1);
	c->rec = m;
	c->arch = rec_get(m, "arch");
	if (c->arch == NULL || c->arch->type != MSGPACK_OBJECT_MAP)
		rec_fail(&c->r, "arch", "missing or not a map");
	t = rec_get(m, "tensors");
	if (t == NULL || t->type != MSGPACK_OBJECT_MAP)
		rec_fail(&c->r, "tensors", "missing or not a map");
	c->tensors = t;
	for (i = 0; i < t->via.map.size; i++) {
		if (t->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
			rec_fail(&c->r, "tensors", "a tensor name is not a string");
		check_tensor(&c->r, key_str(&t->via.map.ptr[i].key, name, sizeof(name)),
		    &t->via.map.ptr[i].val);
	}
	c->seed = rec_get(m, "seed") ? rec_int(&c->r, m, "seed", 0, INT64_MAX) : 0;
	c->step = rec_get(m, "step") ? rec_int(&c->r, m, "step", 0, INT64_MAX) : 0;
}

void
ckpt_close(struct ckpt *c)
{
	rec_in_close(&c->r);
	memset(c, 0, sizeof(*c));
}

void
ckpt_arch(const struct ckpt *c, struct arch *a)
{
	arch_read(a, &c->r, c->arch);
}

static const msgpack_object *
find(const msgpack_object *map, const char *name, size_t len)
{
	uint32_t i;

	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->via.str.size == len && memcmp(k->via.str.ptr, name, len) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

static void
shape_str(char *buf, size_t n, const int *s, int nd)
{
	int i, l = snprintf(buf, n, "[");

	for (i = 0; i < nd && l < (int)n; i++)
		l += snprintf(buf + l, n - l, "%s%d", i ? ", " : "", s[i]);
	if (l < (int)n)
		snprintf(buf + l, n - l, "]");
}

int
ckpt_read_table(const struct ckpt *c, const struct ckpt_table *tab, int flags)
{
	const msgpack_object *ts = c->tensors;
	size_t pl = strlen(tab->prefix);
	char name[160], k[200], have[64], want[64];
	int i, j, got = 0;
	uint32_t u;

	for (i = 0; i < tab->n; i++) {
		const struct model_tensor *t = &tab->t[i];
		const msgpack_object *v, *sh, *data;
		int fs[4], fn;

		snprintf(name, sizeof(name), "%s%s", tab->prefix, t->name);
		v = find(ts, name, strlen(name));
		if (v == NULL) {
			if (flags & CKPT_ALLOW_MISSING)
				continue;
			snprintf(k, sizeof(k), "tensors.%s", name);
			rec_fail(&c->r, k, "missing: the network has this tensor");
		}
		sh = rec_get(v, "shape");
		fn = (int)sh->via.array.size;
		for (j = 0; j < fn; j++)
			fs[j] = (int)sh->via.array.ptr[j].via.u64;
		if (fn != t->ndim || memcmp(fs, t->shape, fn * sizeof(int)) != 0) {
			shape_str(have, sizeof(have), fs, fn);
			shape_str(want, sizeof(want), t->shape, t->ndim);
			snprintf(k, sizeof(k), "tensors.%s.shape", name);
			rec_fail(&c->r, k, "%s does not match the network's %s", have, want);
		}
		data = rec_get(v, "data");
		memcpy(tab->base + t->off, data->via.bin.ptr, t->n * sizeof(float));
		got++;
	}
	if (flags & CKPT_ALLOW_EXTRA)
		return got;
	for (u = 0; u < ts->via.map.size; u++) {
		const msgpack_object *kk = &ts->via.map.ptr[u].key;

		if (kk->via.str.size < pl || memcmp(kk->via.str.ptr, tab->prefix, pl) != 0)
			continue;
		key_str(kk, name, sizeof(name));
		for (i = 0; i < tab->n; i++)
			if (strcmp(name + pl, tab->t[i].name) == 0)
				break;
		if (i == tab->n) {
			snprintf(k, sizeof(k), "tensors.%s", name);
			rec_fail(&c->r, k, "not a tensor of the network");
		}
	}
	return got;
}

void
ckpt_load(const struct ckpt *c, struct model *m, int flags)
{
	struct ckpt_table t = { "", m->t, m->ntensor, m->param };

	ckpt_read_table(c, &t, flags);
}

void
ckpt_load_model(struct model *m, const char *path)
{
	struct ckpt c;

	ckpt_open(&c, path);
	ckpt_load(&c, m, 0);
	ckpt_close(&c);
}
