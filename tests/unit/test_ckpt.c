/* test_ckpt.c - checkpoint round trip (tensors, arch, seed, step) and every
 * class of bad checkpoint: exit status and a message naming file and tensor. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ckpt.h"
#include "nachos.h"
#include "unit.h"

static char dir[] = "/tmp/test_ckpt.XXXXXX";
static char path_a[256], path_bb[256], path_bad[256], errf[256];

static void
net(struct arch_net *n, enum arch_space s, double w)
{
	struct arch a;

	arch_extreme(&a, s, 0);
	a.width = w;
	a.resolution = 32;
	a.in_ch = 1;
	a.classes = 10;
	arch_net_build(n, &a);
}

static void
test_roundtrip(void)
{
	struct arch_net n;
	struct model m, m2;
	struct ckpt c;
	struct arch a;
	int g1[ARCH_MAX_GENOME], g2[ARCH_MAX_GENOME];

	net(&n, ARCH_NACHOS, 0.25);
	model_build(&m, &n, 0, 1);
	model_init(&m, 3);
	m.param[m.t[3].off] = 0.125f;          /* a running mean, not just init */
	ckpt_save(path_a, &m, NULL, 42);
	model_build(&m2, &n, 0, 1);
	ckpt_load_model(&m2, path_a);
	CHECK(memcmp(m.param, m2.param, m.nparam * sizeof(float)) == 0);
	ckpt_open(&c, path_a);
	CHECK_EQ_L(c.seed, 3);
	CHECK_EQ_L(c.step, 42);
	CHECK_EQ_L(c.tensors->via.map.size, m.ntensor);
	ckpt_arch(&c, &a);
	arch_to_genome(&a, g1);
	arch_to_genome(&n.a, g2);
	CHECK(memcmp(g1, g2, sizeof(int) * arch_genome_len(a.space)) == 0);
	CHECK(a.width == 0.25 && a.in_ch == 1 && a.classes == 10);
	ckpt_close(&c);

	/* A backbone checkpoint into an EENN: only with CKPT_ALLOW_MISSING,
	 * and the heads keep their values. */
	model_free(&m2);
	{
		struct model bb;
		struct model_tensor *t;
		float keep;

		model_build(&bb, &n, MODEL_BACKBONE_ONLY, 1);
		model_init(&bb, 9);
		ckpt_save_model(&bb, path_bb);
		model_build(&m2, &n, 0, 1);
		model_init(&m2, 4);
		t = model_tensor(&m2, "exits.0.conv1.weight");
		keep = m2.param[t->off];
		ckpt_open(&c, path_bb);
		ckpt_load(&c, &m2, CKPT_ALLOW_MISSING);
		ckpt_close(&c);
		CHECK(m2.param[t->off] == keep);
		t = model_tensor(&m2, "classifier.linear.weight");
		CHECK(m2.param[t->off] == bb.param[model_tensor(&bb, t->name)->off]);
		/* The EENN checkpoint into a backbone: CKPT_ALLOW_EXTRA. */
		ckpt_open(&c, path_a);
		ckpt_load(&c, &bb, CKPT_ALLOW_EXTRA);
		ckpt_close(&c);
		CHECK(bb.param[model_tensor(&bb, "first_conv.conv.weight")->off] ==
		    m.param[model_tensor(&m, "first_conv.conv.weight")->off]);
		model_free(&bb);
		model_free(&m2);
	}
	model_free(&m);
}

/* Run f(arg) in a child; expect exit status st and msg in its stderr. */
static void
expect_fail(void (*f)(const char *), const char *arg, int st, const char *msg,
    int line)
{
	char buf[1024] = "";
	pid_t p;
	int ws = 0;
	FILE *fp;

	fflush(NULL);
	if ((p = fork()) == 0) {
		if (freopen(errf, "w", stderr) == NULL)
			_exit(99);
		f(arg);
		_exit(0);
	}
	waitpid(p, &ws, 0);
	if ((fp = fopen(errf, "r")) != NULL) {
		size_t k = fread(buf, 1, sizeof(buf) - 1, fp);
		buf[k] = 0;
		fclose(fp);
	}
	unit_report(WIFEXITED(ws) && WEXITSTATUS(ws) == st && strstr(buf, msg) != NULL,
	    __FILE__, line, msg);
	if (!(WIFEXITED(ws) && WEXITSTATUS(ws) == st && strstr(buf, msg)))
		fprintf(stderr, "    status %d, stderr: %s\n", WEXITSTATUS(ws), buf);
}

static void
load_into(const char *path, enum arch_space s, double w, int flags)
{
	struct arch_net n;
	struct model m;

	net(&n, s, w);
	model_build(&m, &n, flags, 1);
	ckpt_load_model(&m, path);
	model_free(&m);
}

static void load_wide(const char *p) { load_into(p, ARCH_NACHOS, 0.5, 0); }
static void load_eenn(const char *p) { load_into(p, ARCH_NACHOS, 0.25, 0); }
static void load_bb(const char *p) { load_into(p, ARCH_NACHOS, 0.25, MODEL_BACKBONE_ONLY); }

static void
open_only(const char *p)
{
	struct ckpt c;

	ckpt_open(&c, p);
}

/* A one-tensor checkpoint with the given dtype and data length. */
static void
write_bad(const char *type, const char *dtype, int bytes, int arch)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	float data[4] = { 1, 2, 3, 4 };
	FILE *fp;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, arch ? 4 : 3);
	rec_pack_str(&pk, "type");
	rec_pack_str(&pk, type);
	rec_pack_str(&pk, "v");
	msgpack_pack_int(&pk, 1);
	if (arch) {
		rec_pack_str(&pk, "arch");
		msgpack_pack_map(&pk, 0);
	}
	rec_pack_str(&pk, "tensors");
	msgpack_pack_map(&pk, 1);
	rec_pack_str(&pk, "first_conv.conv.weight");
	msgpack_pack_map(&pk, 3);
	rec_pack_str(&pk, "shape");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_int(&pk, 2);
	msgpack_pack_int(&pk, 2);
	rec_pack_str(&pk, "dtype");
	rec_pack_str(&pk, dtype);
	rec_pack_str(&pk, "data");
	msgpack_pack_bin(&pk, bytes);
	msgpack_pack_bin_body(&pk, data, bytes);
	fp = fopen(path_bad, "wb");
	fwrite(sb.data, 1, sb.size, fp);
	fclose(fp);
	msgpack_sbuffer_destroy(&sb);
}

static void
truncate_copy(const char *src, long keep)
{
	FILE *in = fopen(src, "rb"), *out = fopen(path_bad, "wb");
	char *b = malloc(keep);

	if (fread(b, 1, keep, in) == (size_t)keep)
		fwrite(b, 1, keep, out);
	fclose(in);
	fclose(out);
	free(b);
}

static void
test_bad(void)
{
	expect_fail(load_wide, path_a, EX_DATAERR,
	    "record 1: key \"tensors.blocks.1.conv.point_linear.conv.weight.shape\": "
	    "[8, 24, 1, 1] does not match the network's [16, 24, 1, 1]", __LINE__);
	CHECK(strstr(path_a, dir) == path_a);
	expect_fail(load_wide, path_a, EX_DATAERR, path_a, __LINE__);
	expect_fail(load_eenn, path_bb, EX_DATAERR,
	    "key \"tensors.exits.0.conv1.weight\": missing", __LINE__);
	expect_fail(load_bb, path_a, EX_DATAERR,
	    "key \"tensors.exits.0.conv1.weight\": not a tensor of the network", __LINE__);
	expect_fail(load_eenn, "/nonexistent/x.ckpt", EX_NOINPUT, "/nonexistent/x.ckpt",
	    __LINE__);
	write_bad("ckpt", "f16", 16, 1);
	expect_fail(open_only, path_bad, EX_DATAERR,
	    "key \"tensors.first_conv.conv.weight.dtype\": missing or not \"f32\"", __LINE__);
	write_bad("ckpt", "f32", 12, 1);
	expect_fail(open_only, path_bad, EX_DATAERR,
	    "key \"tensors.first_conv.conv.weight.data\": 12 bytes, the shape needs 16",
	    __LINE__);
	write_bad("ckpt", "f32", 16, 0);
	expect_fail(open_only, path_bad, EX_DATAERR, "key \"arch\": missing", __LINE__);
	write_bad("arch", "f32", 16, 1);
	expect_fail(open_only, path_bad, EX_DATAERR, "key \"type\": not \"ckpt\"", __LINE__);
	truncate_copy(path_a, 5000);
	expect_fail(open_only, path_bad, EX_DATAERR, path_bad, __LINE__);
	/* A well-formed file still loads after all that. */
	load_eenn(path_a);
	CHECK(1);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path_a, sizeof(path_a), "%s/a.ckpt", dir);
	snprintf(path_bb, sizeof(path_bb), "%s/bb.ckpt", dir);
	snprintf(path_bad, sizeof(path_bad), "%s/bad.ckpt", dir);
	snprintf(errf, sizeof(errf), "%s/stderr", dir);
	test_roundtrip();
	test_bad();
	unlink(path_a);
	unlink(path_bb);
	unlink(path_bad);
	unlink(errf);
	rmdir(dir);
	return unit_done("test_ckpt");
}
