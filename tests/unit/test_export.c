/* test_export.c - export.h on random EENNs of every space (random weights
 * and BN statistics): the float interpreter's logits at every exit equal
 * the engine's (model_step_exit) within 1e-4, the int8 form stays near the
 * float one, and the generated C (compiled with cc -std=c99 -Wall -Wextra
 * -Werror) gives the interpreter's logits, confidences, classes and exits
 * bit for bit, for both dtypes, and so do its plain build (-DK_PLAIN: the
 * kernels without the compiler's vectors) and its build for the compiler's
 * default target only (-DK_NO_DISPATCH: on x86-64 the default build runs
 * the AVX2 copy of the kernels where the CPU has it, this one SSE2). The
 * two networks of test_generated reach every vector path of the float
 * kernels (main says which). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data.h"
#include "export.h"
#include "model.h"
#include "nn.h"
#include "unit.h"

/* Random weights, and BN statistics far from the identity so folding shows. */
static void
randomise(struct model *m, uint64_t seed)
{
	struct nn_rng r;
	int i;
	long j;

	model_init(m, seed);
	nn_rng_seed(&r, seed + 1);
	for (i = 0; i < m->ntensor; i++) {
		const struct model_tensor *t = &m->t[i];
		float *p = m->param + t->off;
		int var = strstr(t->name, "running_var") != NULL;

		if (!strstr(t->name, ".bn.") && !strstr(t->name, "bias"))
			continue;
		for (j = 0; j < t->n; j++)
			p[j] = var ? 0.5f + nn_rng_uniform(&r) : 0.2f * (nn_rng_uniform(&r) - 0.5f) +
			    (strstr(t->name, "bn.weight") ? 1 : 0);
	}
}

static void
random_arch(struct arch *a, struct nn_rng *r, int it)
{
	static const double widths[] = { 0.25, 0.5 };
	static const int res[] = { 16, 20, 12 };
	enum arch_space sp = it % 3;
	int g[ARCH_MAX_GENOME], lo[ARCH_MAX_GENOME], hi[ARCH_MAX_GENOME], i, bad;

	memset(a, 0, sizeof(*a));
	a->space = sp;
	a->width = widths[it % 2];
	a->resolution = res[it % 3];
	a->in_ch = it % 4 == 1 ? 3 : 1;
	a->classes = 2 + it % 5;
	arch_genome_bounds(sp, lo, hi);
	do {
		for (i = 0; i < arch_genome_len(sp); i++)
			g[i] = lo[i] + (int)(nn_rng_u32(r) % (hi[i] - lo[i] + 1));
	} while (arch_from_genome(a, g, &bad) < 0);
}

static void
random_images(uint8_t *img, long n, struct nn_rng *r)
{
	long i;

	for (i = 0; i < n; i++)
		img[i] = (uint8_t)(nn_rng_u32(r) >> 24);
}

/* Engine logits of every exit for one image vs the interpreter's. */
static double
parity(struct model *m, struct xnet *x, const uint8_t *img, const struct data_norm *nm)
{
	const struct arch_net *n = &m->net;
	struct data_set d = { .n = 1, .c = x->img_ch, .h = x->img_h, .w = x->img_w,
	    .classes = n->classes };
	float *in = calloc((size_t)n->in_ch * n->res * n->res, sizeof(float));
	void *arena = calloc(x->s.arena, sizeof(float));
	float lg[1100], conf;
	int32_t idx = 0, y = 0;
	int yy, e, k;
	double worst = 0;

	d.x = (uint8_t *)img;
	d.y = &y;
	data_batch(in, &yy, &d, &idx, 1, n->in_ch, n->res, nm, NULL, NULL);
	model_step_begin(m, in, 1);
	for (e = 0; e < n->nexit; e++) {
		const float *ref = model_step_exit(m, e);

		xnet_segment(x, SCHED_F32, arena, img, e, lg, &conf);
		for (k = 0; k < m->nout[e]; k++) {
			double d = fabs(lg[k] - ref[k]) / (1 + fabs(ref[k]));

			worst = d > worst ? d : worst;
		}
	}
	free(in);
	free(arena);
	return worst;
}

static void
test_engine(void)
{
	struct nn_rng r;
	double worst = 0, qerr = 0;
	int it, bad = 0;

	nn_rng_seed(&r, 11);
	for (it = 0; it < 9; it++) {
		struct arch a;
		struct arch_net n;
		struct model m;
		struct data_norm nm = { .c = 3, .mean = { 0.3f, 0.5f, 0.4f },
		    .std = { 0.2f, 0.3f, 0.25f } };
		double eps[ARCH_EXITS] = { 0.5, 0.5, 0.5, 0.5 };
		int ic, ih, j;
		struct xnet *x;
		uint8_t img[3 * 20 * 20], cal[8 * 3 * 20 * 20];

		random_arch(&a, &r, it);
		arch_net_build(&n, &a);
		model_build(&m, &n, 0, 1);
		randomise(&m, it + 100);
		ic = a.in_ch == 3 && it % 8 == 1 ? 1 : a.in_ch;     /* grey into 3 channels */
		ih = a.resolution - 2 * (it % 2);                   /* padded */
		x = xnet_new(&m, ic, ih, ih, &nm, it % 5, eps, 1);
		for (j = 0; j < 3; j++) {
			double w;

			random_images(img, (long)ic * ih * ih, &r);
			w = parity(&m, x, img, &nm);
			worst = w > worst ? w : worst;
		}
		/* int8: near the float logits, relative to their spread */
		random_images(cal, 8L * ic * ih * ih, &r);
		xnet_calibrate(x, cal, 8);
		xnet_quantise(x);
		{
			void *af = calloc(x->s.arena, 4), *aq = calloc(x->s.arena, 1);
			float lf[1100], lq[1100], cf, cq;
			int e, k;

			for (e = 0; e < x->s.nseg; e++) {
				double num = 0, den = 1e-12;

				xnet_segment(x, SCHED_F32, af, cal, e, lf, &cf);
				xnet_segment(x, SCHED_INT8, aq, cal, e, lq, &cq);
				for (k = 0; k < n.ex[e].nout; k++) {
					num += (lf[k] - lq[k]) * (lf[k] - lq[k]);
					den += lf[k] * lf[k];
				}
				qerr = sqrt(num / den) > qerr ? sqrt(num / den) : qerr;
			}
			free(af);
			free(aq);
		}
		bad += worst > 1e-4;
		xnet_free(x);
		model_free(&m);
	}
	CHECK_EQ_L(bad, 0);
	CHECK(worst <= 1e-4);
	fprintf(stderr, "    engine parity: worst relative logit error %.2e; int8 worst "
	    "relative logit error %.3f\n", worst, qerr);
	CHECK(qerr < 0.5);
}

/* A driver over the step API: per image, every exit's logits and confidence
 * (%a), then NAME_run's class and exit. */
static const char driver[] =
    "#include <stdio.h>\n#include \"t.h\"\n"
    "int main(int argc, char **argv) {\n"
    "\tunsigned char img[T_IMG_C * T_IMG_H * T_IMG_W];\n"
    "\tFILE *fp = fopen(argv[1], \"rb\");\n\tint nout = argc > 2 ? atoi(argv[2]) : 0;\n"
    "\twhile (fread(img, 1, sizeof(img), fp) == sizeof(img)) {\n"
    "\t\tstruct t_state st; int e, k, x, c;\n\t\tt_begin(&st, img);\n"
    "\t\tfor (e = 0; e < T_EXITS; e++) {\n\t\t\tt_step(&st);\n"
    "\t\t\tfor (k = 0; k < nout; k++) printf(\"%a \", st.logits[k]);\n"
    "\t\t\tprintf(\"%a\\n\", st.conf[e]);\n\t\t}\n"
    "\t\tc = t_run(img, &x);\n\t\tprintf(\"%d %d\\n\", c, x);\n\t}\n\treturn 0;\n}\n";

/* The network at resolution res, stage 1's kernel ks1; side the images'. */
static void
test_generated(int res, int ks1, int side)
{
	struct arch a;
	struct arch_net n;
	struct model m;
	struct nn_rng r;
	struct data_norm nm = { .c = 1, .mean = { 0.4f }, .std = { 0.3f } };
	double eps[ARCH_EXITS] = { 0.9, 0.8, 0.7, 0.9 };
	char dir[] = "/tmp/test_export.XXXXXX", cmd[8192], path[4200];
	enum { NIMG = 12 };
	uint8_t img[NIMG * 36 * 36];
	long isz = (long)side * side;
	struct xnet *x;
	int dt, bad = 0, badrun = 0, j, e, k;
	FILE *fp;

	if (mkdtemp(dir) == NULL) {
		CHECK(0);
		return;
	}
	arch_extreme(&a, ARCH_NACHOS, 0);
	a.width = 0.25, a.resolution = res, a.in_ch = 1, a.classes = 3;
	a.ks[4] = 5, a.e[4] = 4, a.d[1] = 3;                   /* not all uniform */
	a.ks[0] = ks1;
	arch_net_build(&n, &a);
	model_build(&m, &n, 0, 1);
	randomise(&m, 7);
	x = xnet_new(&m, 1, side, side, &nm, 2 /* max-softmax */, eps, 1);
	nn_rng_seed(&r, 5);
	random_images(img, NIMG * isz, &r);
	xnet_calibrate(x, img, NIMG);
	xnet_quantise(x);
	snprintf(path, sizeof(path), "%s/img", dir);
	fp = fopen(path, "wb");
	fwrite(img, 1, (size_t)(NIMG * isz), fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/drv.c", dir);
	fp = fopen(path, "w");
	fputs(driver, fp);
	fclose(fp);
	for (dt = 0; dt < SCHED_NDTYPE; dt++) {
		void *arena = calloc(x->s.arena, 4);
		char line[8192];

		xnet_write_c(x, dt, dir, "t");
		snprintf(cmd, sizeof(cmd), "cd %s && cc -std=c99 -Wall -Wextra -Werror -O2 "
		    "-include stdlib.h -o drv drv.c t.c -lm && cc -std=c99 -Wall -Wextra -Werror "
		    "-O2 -o h t.c t_main.c -lm && ./drv img 4 > out && ./h img > hout && "
		    "cc -std=c99 -Wall -Wextra -Werror -O2 -DK_PLAIN -include stdlib.h -o drvp "
		    "drv.c t.c -lm && ./drvp img 4 > outp && cmp out outp && "
		    "cc -std=c99 -Wall -Wextra -Werror -O2 -DK_NO_DISPATCH -include stdlib.h "
		    "-o drvn drv.c t.c -lm && ./drvn img 4 > outn && cmp out outn", dir);
		CHECK(system(cmd) == 0);
		snprintf(path, sizeof(path), "%s/out", dir);
		fp = fopen(path, "r");
		for (j = 0; j < NIMG && fp; j++) {
			float lg[8], conf;
			int cls, ex, c2, x2;

			for (e = 0; e < x->s.nseg; e++) {
				char *p = line, *q;

				xnet_segment(x, dt, arena, img + j * isz, e, lg, &conf);
				if (!fgets(line, sizeof(line), fp))
					break;
				for (k = 0; k < 4; k++) {
					float v = strtof(p, &q);

					bad += k < n.ex[e].nout && memcmp(&v, &lg[k], 4) != 0;
					p = q;
				}
				bad += strtof(p, NULL) != conf;
			}
			cls = xnet_predict(x, dt, arena, img + j * isz, &ex, NULL);
			if (!fgets(line, sizeof(line), fp) || sscanf(line, "%d %d", &c2, &x2) != 2)
				x2 = -1;
			badrun += c2 != cls || x2 != ex + 1;
		}
		CHECK_EQ_L(j, NIMG);
		if (fp)
			fclose(fp);
		free(arena);
	}
	CHECK_EQ_L(bad, 0);
	CHECK_EQ_L(badrun, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	xnet_free(x);
	model_free(&m);
}

int
main(void)
{
	test_engine();
	/* every vector path of the float kernels: at 16x16, pointwise rows,
	 * pixel tiles and block tiles; k x k tiles, 8-pixel runs (the first
	 * convolution), the 2x2 heads' kernel and 1x1 pixels; depthwise
	 * blocks at a pixel and padded 8-pixel runs, with the 8x8 transposes
	 * in and out; at 40x40 with 7x7 in stage 1, the depthwise band (a map
	 * too wide for the padded copy) */
	test_generated(16, 3, 14);
	test_generated(40, 7, 36);
	return unit_done("export");
}
