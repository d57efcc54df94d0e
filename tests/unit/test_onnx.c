/* test_onnx.c - the ONNX export (onnx_export.h) read back with protobuf-c:
 * per segment the IR and opset, the inputs and outputs with their shapes,
 * every model tensor stored once, bit for bit, as an initializer under its
 * state_dict name, the operators used, the front's normalisation and
 * padding constants; for each space, grey to RGB, crop and a single exit.
 *
 * "test_onnx dump OUT DATA N MODEL RULE EPS [MEAN STD]" instead writes what
 * tests/onnx-export.bats feeds ONNX Runtime (tests/onnx/check.js): the
 * ONNX of MODEL (a checkpoint, or init:SPACE:IN_CH:SEED for random weights
 * and BN statistics at 16x16) into OUT/onnx, the first N test images of
 * DATA (eenn-train's default split and normalisation, or the comma lists
 * MEAN and STD, a result record's norm_mean and norm_std) as raw uint8 in
 * OUT/images.u8, the engine's per-segment outputs at batch 1 in
 * OUT/engine.f32 (per sample, per segment: logits, conf if any, features if
 * any), its early-exit decisions under RULE and thresholds EPS (comma list)
 * as "class exit" lines in OUT/engine.txt, and OUT/meta.json. */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx.pb-c.h"

#include "arch.h"
#include "ckpt.h"
#include "cli.h"
#include "exo.h"
#include "model.h"
#include "nachos.h"
#include "onnx_export.h"
#include "thr.h"
#include "train.h"
#include "unit.h"

/* Random BN statistics and affine terms, so BN is not the identity. */
static void
shake_bn(struct model *m, uint64_t seed)
{
	struct nn_rng r;
	int i;
	long j;

	nn_rng_seed(&r, seed);
	for (i = 0; i < m->ntensor; i++) {
		const char *s = strrchr(m->t[i].name, '.');
		float *p = m->param + m->t[i].off;

		if (strstr(m->t[i].name, ".bn.") == NULL)
			continue;
		for (j = 0; j < m->t[i].n; j++) {
			if (strcmp(s, ".running_var") == 0 || strcmp(s, ".weight") == 0)
				p[j] = 0.5f + nn_rng_uniform(&r);
			else if (m->t[i].ndim == 1)
				p[j] = 0.2f * nn_rng_normal(&r);
		}
	}
}

static void
tiny(struct model *m, enum arch_space s, int max, int in_ch, int res, int K, int flags)
{
	struct arch a;
	struct arch_net n;
	int e;

	arch_extreme(&a, s, max);
	a.resolution = res, a.in_ch = in_ch, a.classes = K;
	if (s == ARCH_AEBNAS)
		for (e = 0; e < ARCH_EXITS; e++) {
			a.mod[e][0] = (struct arch_mod){ 1, 5, 2, 1 };
			a.mod[e][1] = (struct arch_mod){ e % 2, 3, 1, 1 };
		}
	arch_canonical(&a);
	arch_net_build(&n, &a);
	model_build(m, &n, flags, 1);
	model_init(m, 7);
	shake_bn(m, 8);
}

/* ---- the unit tests ---- */

static const char *
attr_str(const Onnx__ModelProto *mp, const char *key)
{
	size_t i;

	for (i = 0; i < mp->n_metadata_props; i++)
		if (strcmp(mp->metadata_props[i]->key, key) == 0)
			return mp->metadata_props[i]->value;
	return NULL;
}

static const Onnx__TensorProto *
init_named(const Onnx__GraphProto *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->n_initializer; i++)
		if (strcmp(g->initializer[i]->name, name) == 0)
			return g->initializer[i];
	return NULL;
}

static int
has_op(const Onnx__GraphProto *g, const char *op)
{
	size_t i;

	for (i = 0; i < g->n_node; i++)
		if (strcmp(g->node[i]->op_type, op) == 0)
			return 1;
	return 0;
}

/* dims of a graph value (N symbolic first) equal d[0..nd-1] */
static int
shape_is(const Onnx__ValueInfoProto *v, int type, int nd, const int *d)
{
	const Onnx__TypeProto__Tensor *t = v->type->tensor_type;
	int i;

	if (t->elem_type != type || t->shape->n_dim != (size_t)nd + 1 ||
	    t->shape->dim[0]->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
		return 0;
	for (i = 0; i < nd; i++)
		if (t->shape->dim[i + 1]->dim_value != d[i])
			return 0;
	return 1;
}

static Onnx__ModelProto *
load(const char *path, long bytes)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *b = malloc(bytes + 1);
	Onnx__ModelProto *mp;
	size_t n;

	CHECK(fp != NULL);
	if (fp == NULL)
		exit(1);
	n = fread(b, 1, bytes + 1, fp);
	fclose(fp);
	CHECK_EQ_L((long)n, bytes);
	mp = onnx__model_proto__unpack(NULL, n, b);
	CHECK(mp != NULL);
	free(b);
	if (mp == NULL)
		exit(1);
	return mp;
}

/* Export m for c x h x w images and check every file. */
static void
check_export(const struct model *m, int c, int h, int w, const char *dir)
{
	struct onnx_file f[MODEL_MAX_EXITS];
	struct data_norm nm = { .c = c };
	const char *meta[] = { "nachos.id", "abc", NULL };
	int *seen = calloc(m->ntensor, sizeof(int)), i, k, K = m->net.classes;
	int R = m->net.res;

	for (k = 0; k < c; k++)
		nm.mean[k] = 0.25f + 0.1f * k, nm.std[k] = 0.3f + 0.05f * k;
	CHECK_EQ_L(onnx_export(f, dir, m, &nm, c, h, w, meta), m->nexit);
	for (i = 0; i < m->nexit; i++) {
		const struct arch_exit *x = &m->net.ex[m->exit_at[i]];
		int last = i == m->nexit - 1, conf = x->nout > K, no = 1 + conf + !last;
		Onnx__ModelProto *mp;
		const Onnx__GraphProto *g;
		const Onnx__TensorProto *t;
		char want[64];
		struct stat st;
		size_t j;

		snprintf(want, sizeof(want), "%s/seg%d.onnx", dir, i + 1);
		CHECK(strcmp(f[i].path, want) == 0);
		CHECK(stat(want, &st) == 0 && st.st_size == f[i].bytes);
		mp = load(want, f[i].bytes);
		g = mp->graph;
		CHECK_EQ_L(mp->ir_version, 8);
		CHECK(mp->n_opset_import == 1 && mp->opset_import[0]->version == 17);
		snprintf(want, sizeof(want), "%d", i + 1);
		CHECK(attr_str(mp, "nachos.segment") && strcmp(attr_str(mp, "nachos.segment"),
		    want) == 0);
		CHECK(attr_str(mp, "nachos.id") && strcmp(attr_str(mp, "nachos.id"), "abc") == 0);
		/* inputs */
		CHECK_EQ_L((long)g->n_input, 1);
		if (i == 0) {
			int d[3] = { c, h, w };

			CHECK(strcmp(g->input[0]->name, "image") == 0);
			CHECK(shape_is(g->input[0], ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, 3, d));
			t = init_named(g, "input.mean");
			CHECK(t && t->raw_data.len == c * sizeof(float) &&
			    memcmp(t->raw_data.data, nm.mean, c * sizeof(float)) == 0);
			t = init_named(g, "input.std");
			CHECK(t && t->raw_data.len == c * sizeof(float) &&
			    memcmp(t->raw_data.data, nm.std, c * sizeof(float)) == 0);
			CHECK(has_op(g, "Concat") == (c != m->net.in_ch));
			CHECK(has_op(g, "Pad") == (h < R || w < R));
			CHECK(has_op(g, "Slice") == (h > R || w > R || conf));
			t = init_named(g, "input.pads");
			if (h < R) {
				const int64_t *p = (const int64_t *)t->raw_data.data;

				CHECK(t && t->raw_data.len == 8 * sizeof(int64_t));
				CHECK(p[2] == (R - h) / 2 && p[2] + p[6] == R - h);
				CHECK(p[3] == (R - w) / 2 && p[3] + p[7] == R - w);
			}
		} else {
			const struct arch_exit *p = &m->net.ex[m->exit_at[i - 1]];
			int d[3] = { p->c, p->h, p->w };

			snprintf(want, sizeof(want), "features_%d", i);
			CHECK(strcmp(g->input[0]->name, want) == 0);
			CHECK(shape_is(g->input[0], ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 3, d));
		}
		/* outputs: logits, conf, features */
		CHECK_EQ_L((long)g->n_output, no);
		snprintf(want, sizeof(want), "logits_%d", i + 1);
		CHECK(strcmp(g->output[0]->name, want) == 0);
		CHECK(shape_is(g->output[0], ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, &K));
		if (conf) {
			snprintf(want, sizeof(want), "conf_%d", i + 1);
			CHECK(strcmp(g->output[1]->name, want) == 0);
			CHECK(shape_is(g->output[1], ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 0, NULL));
			CHECK(has_op(g, "Sigmoid"));
		}
		if (!last) {
			int d[3] = { x->c, x->h, x->w };

			snprintf(want, sizeof(want), "features_%d", i + 1);
			CHECK(strcmp(g->output[no - 1]->name, want) == 0);
			CHECK(shape_is(g->output[no - 1], ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 3, d));
		}
		CHECK(has_op(g, "BatchNormalization") && has_op(g, "Conv") && has_op(g, "Gemm"));
		CHECK(!has_op(g, "If") && !has_op(g, "Dropout"));
		if (m->net.a.space != ARCH_AEBNAS)
			CHECK(has_op(g, "MaxPool") == (x->pool > 1));
		/* the model's tensors, bit for bit, each in one segment only */
		for (k = 0; k < m->ntensor; k++) {
			const struct model_tensor *mt = &m->t[k];

			if ((t = init_named(g, mt->name)) == NULL)
				continue;
			seen[k]++;
			CHECK(t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT &&
			    t->raw_data.len == mt->n * sizeof(float) &&
			    memcmp(t->raw_data.data, m->param + mt->off, mt->n * sizeof(float)) == 0);
		}
		/* every node input is a graph input, an initializer or an earlier output */
		for (j = 0; j < g->n_node; j++) {
			size_t a, b2, ok;

			for (a = 0; a < g->node[j]->n_input; a++) {
				const char *in = g->node[j]->input[a];

				ok = strcmp(in, g->input[0]->name) == 0 || init_named(g, in) != NULL;
				for (b2 = 0; b2 < j && !ok; b2++)
					ok = strcmp(g->node[b2]->output[0], in) == 0;
				CHECK(ok);
			}
		}
		onnx__model_proto__free_unpacked(mp, NULL);
	}
	for (k = 0; k < m->ntensor; k++)
		CHECK_EQ_L(seen[k], 1);
	free(seen);
}

static void
test_spaces(const char *dir)
{
	static const struct { enum arch_space s; int max, in_ch, res, c, h, w, flags; } t[] = {
		{ ARCH_NACHOS, 0, 1, 16, 1, 8, 8, 0 },
		{ ARCH_NACHOS, 1, 3, 32, 1, 28, 28, 0 },      /* grey to RGB, SE */
		{ ARCH_EDANAS, 0, 3, 16, 3, 20, 18, 0 },      /* crop */
		{ ARCH_AEBNAS, 0, 1, 16, 1, 12, 16, 0 },
		{ ARCH_NACHOS, 0, 1, 16, 1, 8, 8, MODEL_BACKBONE_ONLY },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct model m;

		tiny(&m, t[i].s, t[i].max, t[i].in_ch, t[i].res, 3, t[i].flags);
		check_export(&m, t[i].c, t[i].h, t[i].w, dir);
		model_free(&m);
	}
}

/* ---- dump mode ---- */

static void
load_model(struct model *m, const char *spec)
{
	char sp[16];
	int in_ch, seed, s;

	if (sscanf(spec, "init:%15[a-z]:%d:%d", sp, &in_ch, &seed) == 3) {
		s = cli_choice("MODEL", sp, arch_space_names);
		tiny(m, s, 0, in_ch, 16, 3, 0);
		model_init(m, (uint64_t)seed);
		shake_bn(m, (uint64_t)seed + 1);
		return;
	} else {
		struct ckpt ck;
		struct arch a;
		struct arch_net n;

		ckpt_open(&ck, spec);
		ckpt_arch(&ck, &a);
		arch_net_build(&n, &a);
		model_build(m, &n, 0, 1);
		ckpt_load(&ck, m, 0);
		ckpt_close(&ck);
	}
}

static FILE *
out_file(const char *dir, const char *name)
{
	char p[4096];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if ((fp = fopen(p, "w")) == NULL)
		err(EX_CANTCREAT, "%s", p);
	return fp;
}

static int
dump(int argc, char **argv)
{
	const char *out = argv[2];
	struct train_ds ds;
	struct model m;
	struct onnx_file f[MODEL_MAX_EXITS];
	struct exo e;
	double eps[EXO_MAX_EXITS];
	char dir[4096];
	FILE *img, *eng, *txt, *meta;
	float *x;
	long n, j;
	int i, k, K, C, R, rule, neps, y;

	if (argc != 8 && argc != 10)
		errx(EX_USAGE, "usage: test_onnx dump OUT DATA N MODEL RULE EPS [MEAN STD]");
	train_load_data(&ds, argv[3], 0, 0.1, 1);
	if (argc == 10) {
		double mean[DATA_MAX_CH], std[DATA_MAX_CH];
		int nm = cli_doubles("MEAN", argv[8], mean, DATA_MAX_CH, -10, 10);
		int ns = cli_doubles("STD", argv[9], std, DATA_MAX_CH, 1e-6, 10);

		train_set_norm(&ds, "MEAN", mean, nm, std, ns);
	}
	load_model(&m, argv[5]);
	rule = cli_choice("RULE", argv[6], thr_rule_names);
	neps = cli_doubles("EPS", argv[7], eps, EXO_MAX_EXITS - 1, 0, 1);
	K = m.net.classes, C = m.net.in_ch, R = m.net.res;
	if (neps != m.nexit - 1 || K != ds.te.classes)
		errx(EX_USAGE, "%d thresholds, %d classes for %d exits, %d classes", neps, K,
		    m.nexit, ds.te.classes);
	n = cli_long("N", argv[4], 1, ds.nte);
	snprintf(dir, sizeof(dir), "%s/onnx", out);
	if (mkdir(out, 0777) != 0 || mkdir(dir, 0777) != 0)
		err(EX_CANTCREAT, "%s", dir);
	onnx_export(f, dir, &m, &ds.nm, ds.te.c, ds.te.h, ds.te.w, NULL);

	img = out_file(out, "images.u8");
	eng = out_file(out, "engine.f32");
	txt = out_file(out, "engine.txt");
	meta = out_file(out, "meta.json");
	x = cli_calloc((size_t)C * R * R, sizeof(float));
	exo_alloc(&e, "test", n, m.nexit, K);
	fprintf(meta, "{\"n\": %ld, \"c\": %d, \"h\": %d, \"w\": %d, \"classes\": %d, "
	    "\"rule\": \"%s\", \"thresholds\": [", n, ds.te.c, ds.te.h, ds.te.w, K,
	    thr_rule_names[rule]);
	for (i = 0; i < neps; i++)
		fprintf(meta, "%s%.9g", i ? ", " : "", eps[i]);
	fprintf(meta, "], \"segments\": [");
	for (i = 0; i < m.nexit; i++)
		fprintf(meta, "%s{\"path\": \"onnx/seg%d.onnx\", \"conf\": %d, \"features\": %ld}",
		    i ? ", " : "", i + 1, m.nout[i] > K, i < m.nexit - 1 ?
		    (long)m.feat_c[i] * m.feat_h[i] * m.feat_w[i] : 0L);
	fprintf(meta, "], \"labels\": [");
	for (j = 0; j < n; j++) {
		const int32_t *ix = ds.ite + j;

		fwrite(ds.te.x + (size_t)*ix * ds.te.c * ds.te.h * ds.te.w, 1,
		    (size_t)ds.te.c * ds.te.h * ds.te.w, img);
		data_batch(x, &y, &ds.te, ix, 1, C, R, &ds.nm, NULL, NULL);
		e.label[j] = y;
		fprintf(meta, "%s%d", j ? ", " : "", y);
		model_step_begin(&m, x, 1);
		for (i = 0; i < m.nexit; i++) {
			const float *lg = model_step_exit(&m, i);
			int conf = m.nout[i] > K;

			exo_fill_exit(&e, j, i, lg, conf ? lg + K : NULL);
			fwrite(lg, sizeof(float), K, eng);
			if (conf)
				fwrite(&e.conf[(long)i * n + j], sizeof(float), 1, eng);
			if (i < m.nexit - 1)
				fwrite(model_feature(&m, i), sizeof(float),
				    (size_t)m.feat_c[i] * m.feat_h[i] * m.feat_w[i], eng);
		}
		k = thr_exit(&e, rule, eps, j);
		fprintf(txt, "%d %d\n", e.pred[(long)k * n + j], k + 1);
	}
	fprintf(meta, "]}\n");
	if (fclose(img) || fclose(eng) || fclose(txt) || fclose(meta))
		err(EX_IOERR, "%s", out);
	exo_free(&e);
	free(x);
	model_free(&m);
	train_free_data(&ds);
	return 0;
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/test_onnx.XXXXXX";
	char cmd[64];

	if (argc > 1 && strcmp(argv[1], "dump") == 0)
		return dump(argc, argv);
	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	test_spaces(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		warnx("could not remove %s", dir);
	return unit_done("test_onnx");
}
