/*
 * export_gen.c - the standalone C99 of an xnet (export.h): NAME.h (the
 * API), NAME.c (kernels, constants, the arena, one function per segment)
 * and NAME_main.c (the harness). Each op becomes the kernel call the
 * interpreter (export.c) makes for it, with its numbers as literals.
 */
#include "export.h"

#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "nachos.h"
#include "nn.h"
#include "thr.h"

struct out {
	FILE *fp;
	char path[4096];
};

static void
out_open(struct out *o, const char *dir, const char *name, const char *suffix)
{
	snprintf(o->path, sizeof(o->path), "%s/%s%s", dir, name, suffix);
	if ((o->fp = fopen(o->path, "w")) == NULL)
		err(EX_CANTCREAT, "%s", o->path);
}

static void
out_close(struct out *o)
{
	if (ferror(o->fp) | fclose(o->fp))
		err(EX_IOERR, "%s", o->path);
}

static void pr(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
pr(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(o->fp, fmt, ap);
	va_end(ap);
}

/* static const arrays: n numbers of C type ctype from v (f32, int8 or
 * int32 as ctype says), a line every 8 */
static void
arr(struct out *o, const char *ctype, const char *name, int i, const void *v, long n)
{
	long j;

	pr(o, "static const %s %s%d[%ld] = {", ctype, name, i, n);
	for (j = 0; j < n; j++) {
		pr(o, "%s", j % 8 ? " " : "\n\t");
		if (ctype[0] == 'f')
			pr(o, "%.8ef", ((const float *)v)[j]);
		else if (strcmp(ctype, "int8_t") == 0)
			pr(o, "%d", ((const int8_t *)v)[j]);
		else
			pr(o, "%ld", (long)((const int32_t *)v)[j]);
		pr(o, "%s", j < n - 1 ? "," : "");
	}
	pr(o, "\n};\n");
}

#define arr_f(o, nm, i, v, n) arr(o, "float", nm, i, v, n)
#define arr_i8(o, nm, i, v, n) arr(o, "int8_t", nm, i, v, n)
#define arr_i32(o, nm, i, v, n) arr(o, "int32_t", nm, i, v, n)

/* The constants of op i. */
static void
consts(struct out *o, const struct xnet *x, enum sched_dtype dt, int i)
{
	const struct sched_op *op = &x->s.op[i];
	const struct xop *p = &x->op[i];
	long per = op->kind == SK_DW ? (long)op->k * op->k : (long)op->ci * op->k * op->k;
	long n = op->kind == SK_SE ? (long)op->ci * op->se_mid : per * op->co;
	int co = op->kind == SK_SE ? op->se_mid : op->co;

	if (op->kind != SK_CONV && op->kind != SK_DW && op->kind != SK_LINEAR &&
	    op->kind != SK_SE)
		return;
	pr(o, "/* op %d: %s %s */\n", i, sched_kind_names[op->kind], op->name);
	if (dt == SCHED_F32) {
		arr_f(o, "w", i, p->wp, n);
		if (p->b)
			arr_f(o, "b", i, p->b, co);
		if (op->kind == SK_SE) {
			arr_f(o, "w2_", i, p->w2p, n);
			arr_f(o, "b2_", i, p->b2, op->ci);
		}
		return;
	}
	arr_i8(o, "w", i, p->qw, n);
	arr_i32(o, "b", i, p->qb, co);
	arr_i32(o, "m", i, p->mul, co);
	arr_i32(o, "s", i, p->sh, co);
	if (op->kind == SK_SE) {
		arr_i8(o, "w2_", i, p->qw2, n);
		arr_i32(o, "b2_", i, p->qb2, op->ci);
		arr_i32(o, "m2_", i, p->mul2, op->ci);
		arr_i32(o, "s2_", i, p->sh2, op->ci);
	}
	if (op->kind == SK_SE || sched_table_act(op->act))
		arr_i8(o, "lut", i, p->lut, 256);
	if (op->conf)
		arr_i8(o, "clut", i, p->clut, 256);
}

#define BUF(b) ((long)x->s.buf[b].off)

/* The kernel call(s) of op i, as op_f32 / op_q make them. */
static void
call(struct out *o, const struct xnet *x, enum sched_dtype dt, int i)
{
	const struct sched_op *op = &x->s.op[i];
	const struct xop *p = &x->op[i];
	long n = (long)op->co * op->ho * op->wo;
	int hw = op->h * op->w, lut = sched_table_act(op->act);
	const char *A = dt == SCHED_F32 ? "arena" : "A8";
	char bias[16];

	if (op->kind == SK_EXIT)
		return;
	if (dt == SCHED_F32) {
		switch (op->kind) {
		case SK_CONV:
		case SK_DW:
			pr(o, "\tk_conv_f32(arena + %ld, arena + %ld, w%d, b%d, %d, %d, %d, %d, "
			    "%d, %d, %d, %d, %d, %d);\n", BUF(op->out), BUF(op->in), i, i, op->ci,
			    op->h, op->w, op->co, op->k, op->s, op->p, op->kind == SK_DW, op->act,
			    op->in_relu);
			break;
		case SK_LINEAR:
			snprintf(bias, sizeof(bias), p->b ? "b%d" : "0", i);
			pr(o, "\tk_linear_f32(arena + %ld, arena + %ld, w%d, %s, %d, %d, %d);\n",
			    BUF(op->out), BUF(op->in), i, bias, op->ci, op->co, op->act);
			break;
		case SK_SE:
			pr(o, "\tk_gap_f32(arena + %ld, arena + %ld, %d, %d);\n", BUF(op->tmp[0]),
			    BUF(op->in), op->ci, hw);
			pr(o, "\tk_linear_f32(arena + %ld, arena + %ld, w%d, b%d, %d, %d, %d);\n",
			    BUF(op->tmp[1]), BUF(op->tmp[0]), i, i, op->ci, op->se_mid, NN_RELU);
			pr(o, "\tk_linear_f32(arena + %ld, arena + %ld, w2_%d, b2_%d, %d, %d, %d);\n",
			    BUF(op->tmp[0]), BUF(op->tmp[1]), i, i, op->se_mid, op->ci, NN_HSIGMOID);
			pr(o, "\tk_scale_f32(arena + %ld, arena + %ld, %d, %d);\n", BUF(op->out),
			    BUF(op->tmp[0]), op->ci, hw);
			break;
		case SK_ADD:
			pr(o, "\tk_add_f32(arena + %ld, arena + %ld, %ld);\n", BUF(op->out),
			    BUF(op->res), n);
			break;
		case SK_POOL:
			pr(o, "\tk_pool_f32(arena + %ld, arena + %ld, %d, %d, %d, %d, %d);\n",
			    BUF(op->out), BUF(op->in), op->ci, op->h, op->w, op->k, op->act);
			break;
		case SK_GAP:
			pr(o, "\tk_gap_f32(arena + %ld, arena + %ld, %d, %d);\n", BUF(op->out),
			    BUF(op->in), op->ci, hw);
			break;
		}
		return;
	}
	{
		const struct qparam *qi = xnet_qof(x, i, op->in);
		int32_t zo = lut ? p->q_pre.z : p->q_out.z, lo = op->act == NN_RELU ? zo : -128;

		switch (op->kind) {
		case SK_CONV:
		case SK_DW:
			pr(o, "\tk_conv_q(%s + %ld, %s + %ld, w%d, b%d, m%d, s%d, %d, %d, %d, %d, "
			    "%d, %d, %d, %d, %ld, %ld, %ld, %ld, 127);\n", A, BUF(op->out), A,
			    BUF(op->in), i, i, i, i, op->ci, op->h, op->w, op->co, op->k, op->s,
			    op->p, op->kind == SK_DW, (long)qi->z,
			    (long)(op->in_relu ? qi->z : -128), (long)zo, (long)(lo < -128 ? -128 : lo));
			break;
		case SK_LINEAR:
			pr(o, "\tk_linear_q(%s + %ld, %s + %ld, w%d, b%d, m%d, s%d, %d, %d, %ld, "
			    "%ld, %ld, 127);\n", A, BUF(op->out), A, BUF(op->in), i, i, i, i,
			    op->ci, op->co, (long)qi->z, (long)zo, (long)(lo < -128 ? -128 : lo));
			break;
		case SK_SE:
			pr(o, "\tk_gap_q(%s + %ld, %s + %ld, %d, %d, %ld, %ld, %ld, %ld);\n", A,
			    BUF(op->tmp[0]), A, BUF(op->in), op->ci, hw, (long)qi->z, (long)p->m[0],
			    (long)p->s[0], (long)p->q_pool.z);
			pr(o, "\tk_linear_q(%s + %ld, %s + %ld, w%d, b%d, m%d, s%d, %d, %d, %ld, "
			    "%ld, %ld, 127);\n", A, BUF(op->tmp[1]), A, BUF(op->tmp[0]), i, i, i, i,
			    op->ci, op->se_mid, (long)p->q_pool.z, (long)p->q_red.z,
			    (long)p->q_red.z);
			pr(o, "\tk_linear_q(%s + %ld, %s + %ld, w2_%d, b2_%d, m2_%d, s2_%d, %d, %d, "
			    "%ld, %ld, -128, 127);\n", A, BUF(op->tmp[0]), A, BUF(op->tmp[1]), i, i,
			    i, i, op->se_mid, op->ci, (long)p->q_red.z, (long)p->q_exp.z);
			pr(o, "\tk_lut_q(%s + %ld, %d, lut%d);\n", A, BUF(op->tmp[0]), op->ci, i);
			pr(o, "\tk_scale_qs(%s + %ld, %s + %ld, %d, %d, %ld, %ld, %ld, %ld, %ld);\n",
			    A, BUF(op->out), A, BUF(op->tmp[0]), op->ci, hw, (long)qi->z,
			    (long)p->q_sig.z, (long)p->m[1], (long)p->s[1], (long)p->q_out.z);
			return;
		case SK_ADD: {
			const struct qparam *qr = xnet_qof(x, i, op->res);

			pr(o, "\tk_add_q(%s + %ld, %s + %ld, %ld, %ld, %ld, %ld, %ld, %ld, %ld, %ld, "
			    "%ld, %ld);\n", A, BUF(op->out), A, BUF(op->res), n, (long)qi->z,
			    (long)p->m[0], (long)p->s[0], (long)qr->z, (long)p->m[1], (long)p->s[1],
			    (long)p->m[2], (long)p->s[2], (long)p->q_out.z);
			return;
		}
		case SK_POOL:
			pr(o, "\tk_pool_q(%s + %ld, %s + %ld, %d, %d, %d, %d, %ld);\n", A,
			    BUF(op->out), A, BUF(op->in), op->ci, op->h, op->w, op->k,
			    (long)(op->act == NN_RELU ? qi->z : -128));
			return;
		case SK_GAP:
			pr(o, "\tk_gap_q(%s + %ld, %s + %ld, %d, %d, %ld, %ld, %ld, %ld);\n", A,
			    BUF(op->out), A, BUF(op->in), op->ci, hw, (long)qi->z, (long)p->m[0],
			    (long)p->s[0], (long)p->q_out.z);
			return;
		}
		if (lut)
			pr(o, "\tk_lut_q(%s + %ld, %ld, lut%d);\n", A, BUF(op->out), n, i);
	}
}

/* Segment e: its ops, then its logits (dequantised) and confidence into st. */
static void
segment(struct out *o, const struct xnet *x, enum sched_dtype dt, const char *name, int e)
{
	const struct sched *s = &x->s;
	int i, lin = s->seg_op[e + 1] - 2, lb = s->logits[e];
	int nout = (int)s->buf[lb].n, conf = x->conf && s->op[lin].conf;

	pr(o, "\n/* segment %d: %s to exit %d */\nstatic void\nseg%d(struct %s_state *st)\n{\n",
	    e + 1, e ? "the previous exit's features" : "the input", e + 1, e, name);
	if (dt == SCHED_INT8)
		pr(o, "\tconst int8_t *q = A8 + %ld;\n\tint k;\n\n", BUF(lb));
	for (i = s->seg_op[e]; i < s->seg_op[e + 1]; i++)
		if (s->op[i].kind != SK_INPUT && s->op[i].kind != SK_EXIT) {
			pr(o, "\tK_OP(%d);\n", i);
			call(o, x, dt, i);
		}
	pr(o, "\tK_OP(-1);\n");
	if (dt == SCHED_F32) {
		pr(o, "\tmemcpy(st->logits, arena + %ld, %d * sizeof(float));\n", BUF(lb), nout);
		pr(o, "\tst->conf[%d] = %s;\n", e, conf ? "k_conf(st->logits[NCLASS])" : "0");
	} else {
		const struct qparam *qo = &x->op[lin].q_out;

		pr(o, "\tfor (k = 0; k < %d; k++)\n\t\tst->logits[k] = (float)((double)%.8ef "
		    "* (q[k] - %ld));\n", nout, qo->s, (long)qo->z);
		if (conf)
			pr(o, "\tst->conf[%d] = (float)((clut%d[q[NCLASS] + 128] - (%d)) * %.17g);\n",
			    e, lin, XNET_CONF_ZP, XNET_CONF_SCALE);
		else
			pr(o, "\tst->conf[%d] = 0;\n", e);
	}
	pr(o, "}\n");
}

/* up = name in capitals (the API's macros) */
static void
upper(char *up, size_t n, const char *name)
{
	size_t i;

	for (i = 0; name[i] && i < n - 1; i++)
		up[i] = name[i] >= 'a' && name[i] <= 'z' ? name[i] - 'a' + 'A' : name[i];
	up[i] = 0;
}

static void
write_h(const struct xnet *x, enum sched_dtype dt, const char *dir, const char *name)
{
	const struct sched *s = &x->s;
	struct out o;
	char up[128];
	int i, maxout = 0;

	upper(up, sizeof(up), name);
	for (i = 0; i < s->nseg; i++)
		maxout = s->buf[s->logits[i]].n > maxout ? (int)s->buf[s->logits[i]].n : maxout;
	out_open(&o, dir, name, ".h");
	pr(&o, "/*\n * %s.h - an early-exit network exported by eenn-export (%s), %d exits.\n"
	    " * Standalone C99: libc and libm only, no allocation; the one mutable\n"
	    " * object is a static arena of %s_ARENA_BYTES.\n *\n"
	    " *\tint exit, cls = %s_run(img, &exit);\n *\n"
	    " * or one segment (backbone chunk + exit) at a time, stopping or acting\n"
	    " * between exits:\n *\n"
	    " *\tstruct %s_state st;\n *\t%s_begin(&st, img);\n"
	    " *\twhile (!%s_step(&st))\n *\t\t;  (st.cls, st.score, st.logits after each)\n"
	    " *\n * img: raw uint8 pixels (c, h, w) = (%s_IMG_C, %s_IMG_H, %s_IMG_W).\n"
	    " * Only segments up to the firing exit run. The arena holds the state\n"
	    " * between steps: one image at a time, not reentrant.\n */\n",
	    name, sched_dtype_names[dt], s->nseg, up, name, name, name, name, up, up, up);
	pr(&o, "#ifndef %s_H\n#define %s_H\n\n", up, up);
	pr(&o, "#define %s_IMG_C %d\n#define %s_IMG_H %d\n#define %s_IMG_W %d\n", up,
	    x->img_ch, up, x->img_h, up, x->img_w);
	pr(&o, "#define %s_CLASSES %d\n#define %s_EXITS %d\n", up, s->net.classes, up, s->nseg);
	pr(&o, "#define %s_ARENA_BYTES %ld   /* the activation arena */\n", up,
	    sched_arena_bytes(s, dt));
	pr(&o, "#define %s_CONST_BYTES %ld   /* weights, tables, thresholds */\n\n", up,
	    sched_const_bytes(s, dt));
	pr(&o, "struct %s_state {\n"
	    "\tint next;                  /* the segment the next step runs, 0-based */\n"
	    "\tint cls;                   /* the class of the last exit run */\n"
	    "\tfloat score;               /* its score under the exit rule (last exit: 1) */\n"
	    "\tfloat conf[%d];             /* confidence of each exit run (0: none) */\n"
	    "\tfloat logits[%d];          /* outputs of the last exit run%s */\n};\n\n",
	    name, s->nseg, maxout, dt == SCHED_INT8 ? ", dequantised" : "");
	pr(&o, "/* Normalise and pad img into the arena; st starts at segment 0. */\n"
	    "void %s_begin(struct %s_state *st, const unsigned char *img);\n"
	    "/* Run segment st->next and decide its exit: 1 when it fires (always at\n"
	    " * the last exit), 0 to go on. */\n"
	    "int %s_step(struct %s_state *st);\n"
	    "/* The class of img; *exit: the exit it left at, from 1. */\n"
	    "int %s_run(const unsigned char *img, int *exit);\n\n",
	    name, name, name, name, name);
	pr(&o, "/* Profiling: compiled with -D%s_PROFILE, the code calls %s_profile(i),\n"
	    " * which the caller defines (to read a cycle counter, say), before op i\n"
	    " * of the schedule (0 to %d in the order they run, 0 the input's\n"
	    " * normalisation) and %s_profile(-1) after each segment's last op. */\n"
	    "#ifdef %s_PROFILE\nvoid %s_profile(int op);\n#endif\n\n#endif\n",
	    up, name, s->nop - 1, name, up, name);
	out_close(&o);
}

static void
write_c(const struct xnet *x, enum sched_dtype dt, const char *dir, const char *name)
{
	const struct sched *s = &x->s;
	struct out o;
	char up[128];
	int i, e;

	upper(up, sizeof(up), name);
	out_open(&o, dir, name, ".c");
	pr(&o, "/* %s.c - generated by eenn-export (%s): see %s.h. */\n"
	    "#include <math.h>\n#include <stdint.h>\n#include <string.h>\n\n"
	    "#include \"%s.h\"\n\n#define NCLASS %d\n\n", name, sched_dtype_names[dt], name,
	    name, s->net.classes);
	fputs(export_kern_src, o.fp);
	pr(&o, "\n#ifdef K_DISPATCH\n#define K_AVX2_PASS\n");
	fputs(export_kern_vec_src, o.fp);
	pr(&o, "#undef K_AVX2_PASS\n#endif\n\n");
	fputs(export_kern_vec_src, o.fp);
	pr(&o, "\n/* the profiling hook (%s.h) */\n#ifdef %s_PROFILE\n#define K_OP(i) %s_profile(i)\n"
	    "#else\n#define K_OP(i) ((void)0)\n#endif\n", name, up, name);
	pr(&o, "\n/* rule %s */\n#define RULE %d\n", thr_rule_names[x->rule], x->rule);
	if (s->nseg > 1) {
		pr(&o, "static const double thr[%d] = {", s->nseg - 1);
		for (e = 0; e < s->nseg - 1; e++)
			pr(&o, "%s%.17g", e ? ", " : " ", x->eps[e]);
		pr(&o, " };\n");
	}
	if (dt == SCHED_F32)
		arr_f(&o, "tab", 0, x->tab, 256L * x->img_ch);
	else
		arr_i8(&o, "tab", 0, x->qtab, 256L * x->img_ch);
	for (i = 0; i < s->nop; i++)
		consts(&o, x, dt, i);
	if (dt == SCHED_F32)
		pr(&o, "\n/* the activations: every buffer at its planned offset */\n"
		    "static float arena[%ld];\n", s->arena);
	else
		pr(&o, "\n/* the activations: every buffer at its planned offset (int32 for\n"
		    " * alignment, used as bytes) */\nstatic int32_t arena[%ld];\n"
		    "#define A8 ((int8_t *)arena)\n", s->arena / 4);
	for (e = 0; e < s->nseg; e++)
		segment(&o, x, dt, name, e);
	pr(&o, "\nvoid\n%s_begin(struct %s_state *st, const unsigned char *img)\n{\n\tK_OP(0);\n",
	    name, name);
	if (dt == SCHED_F32)
		pr(&o, "\tk_input_f32(arena + %ld, img, tab0, %d, %d, %d, %d, %d);\n",
		    BUF(s->op[0].out), x->img_ch, x->img_h, x->img_w, s->op[0].co, s->op[0].h);
	else
		pr(&o, "\tk_input_q(A8 + %ld, img, tab0, %d, %d, %d, %d, %d, %ld);\n",
		    BUF(s->op[0].out), x->img_ch, x->img_h, x->img_w, s->op[0].co, s->op[0].h,
		    (long)x->op[0].q_out.z);
	pr(&o, "\tst->next = 0;\n\tst->cls = -1;\n\tst->score = 0;\n}\n");
	pr(&o, "\nint\n%s_step(struct %s_state *st)\n{\n\tint e = st->next;\n\n"
	    "\tswitch (e) {\n", name, name);
	for (e = 0; e < s->nseg; e++)
		pr(&o, "\tcase %d: seg%d(st); break;\n", e, e);
	pr(&o, "\tdefault: return 1;\n\t}\n\tst->next = e + 1;\n"
	    "\tst->score = k_score(st->logits, NCLASS, st->conf, e, RULE, &st->cls);\n");
	if (s->nseg > 1)
		pr(&o, "\tif (e < %d)\n\t\treturn k_fires(thr[e], st->score);\n", s->nseg - 1);
	pr(&o, "\tst->score = 1;\n\treturn 1;\n}\n");
	pr(&o, "\nint\n%s_run(const unsigned char *img, int *exit)\n{\n"
	    "\tstruct %s_state st;\n\n\t%s_begin(&st, img);\n\twhile (!%s_step(&st))\n"
	    "\t\t;\n\t*exit = st.next;\n\treturn st.cls;\n}\n", name, name, name, name);
	out_close(&o);
}

static void
write_main(const struct xnet *x, const char *dir, const char *name)
{
	struct out o;
	char up[128];

	(void)x;
	upper(up, sizeof(up), name);
	out_open(&o, dir, name, "_main.c");
	pr(&o, "/*\n * %s_main.c - the harness of %s.c (generated by eenn-export): raw\n"
	    " * uint8 images (c, h, w) back to back from the file named by the\n"
	    " * argument, or stdin; one line \"class exit\" per image, exit from 1.\n"
	    " * Exit status 0, 65 for a trailing partial image, 66 when the file\n"
	    " * cannot be opened, 74 on a read or write error.\n */\n"
	    "#include <stdio.h>\n\n#include \"%s.h\"\n\n"
	    "int\nmain(int argc, char **argv)\n{\n"
	    "\tunsigned char img[%s_IMG_C * %s_IMG_H * %s_IMG_W];\n"
	    "\tFILE *fp = argc > 1 ? fopen(argv[1], \"rb\") : stdin;\n"
	    "\tsize_t got;\n\tint cls, exit;\n\n"
	    "\tif (fp == NULL) {\n\t\tfprintf(stderr, \"%s: cannot open %%s\\n\", argv[1]);\n"
	    "\t\treturn 66;\n\t}\n"
	    "\twhile ((got = fread(img, 1, sizeof(img), fp)) == sizeof(img)) {\n"
	    "\t\tcls = %s_run(img, &exit);\n\t\tprintf(\"%%d %%d\\n\", cls, exit);\n\t}\n"
	    "\tif (ferror(fp)) {\n\t\tfprintf(stderr, \"%s: read error\\n\");\n\t\treturn 74;\n\t}\n"
	    "\tif (got != 0) {\n\t\tfprintf(stderr, \"%s: a partial image at the end "
	    "(%%lu bytes)\\n\",\n\t\t    (unsigned long)got);\n\t\treturn 65;\n\t}\n"
	    "\treturn fflush(stdout) == 0 && !ferror(stdout) ? 0 : 74;\n}\n",
	    name, name, name, up, up, up, name, name, name, name);
	out_close(&o);
}

void
xnet_write_c(const struct xnet *x, enum sched_dtype dt, const char *dir, const char *name)
{
	if (dt == SCHED_INT8 && !x->quantised)
		errx(EX_SOFTWARE, "export: int8 code before quantisation");
	write_h(x, dt, dir, name);
	write_c(x, dt, dir, name);
	write_main(x, dir, name);
}
