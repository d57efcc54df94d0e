/* test_model_step.c - the incremental forward (model_step_*): logits equal
 * model_forward's bit for bit, MACs per sample after exit i equal arch_net's
 * spent_i, nothing past the exit asked for runs, skipped heads cost nothing,
 * and compacting the batch between exits keeps each sample's logits. */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "unit.h"

static void
small_arch(struct arch *a, enum arch_space s, int max, int in_ch, int res)
{
	arch_extreme(a, s, max);
	a->resolution = res;
	a->in_ch = in_ch;
	a->classes = 10;
}

static float *
input(int in_ch, int N, int res, uint64_t seed)
{
	long n = (long)in_ch * N * res * res, i;
	float *x = malloc(n * sizeof(float));
	struct nn_rng r;

	nn_rng_seed(&r, seed);
	for (i = 0; i < n; i++)
		x[i] = nn_rng_normal(&r);
	return x;
}

/* Copies of every exit's logits after a full eval-mode forward. */
static float **
full_logits(struct model *m, const float *x, int N)
{
	float **lg = calloc(m->nexit, sizeof(float *));
	int i;

	model_forward(m, x, N, 0);
	for (i = 0; i < m->nexit; i++) {
		lg[i] = malloc((size_t)N * m->nout[i] * sizeof(float));
		memcpy(lg[i], m->logits[i], (size_t)N * m->nout[i] * sizeof(float));
	}
	return lg;
}

static void
free_logits(float **lg, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(lg[i]);
	free(lg);
}

/* Every exit in turn: the same logits, spent_i MACs, and after stopping at
 * exit i the later exits' logits untouched. */
static void
check_steps(enum arch_space s, int max, int flags, int in_ch, int res)
{
	struct arch a;
	struct arch_net n;
	struct model m;
	int N = 3, i, j, stop;
	float *x = input(in_ch, N, res, 7), **ref;

	small_arch(&a, s, max, in_ch, res);
	arch_net_build(&n, &a);
	model_build(&m, &n, flags, 4);
	model_init(&m, 5);
	ref = full_logits(&m, x, N);
	for (stop = 0; stop < m.nexit; stop++) {
		/* poison every logit buffer and every exit's features: what is
		 * not run stays NaN */
		for (i = 0; i < m.nexit; i++) {
			long nf = (long)m.feat_c[i] * N * m.feat_h[i] * m.feat_w[i];

			for (j = 0; j < N * m.nout[i]; j++)
				m.logits[i][j] = NAN;
			for (j = 0; j < nf; j++)
				m.feat[i][j] = NAN;
		}
		model_step_begin(&m, x, N);
		for (i = 0; i <= stop; i++) {
			const float *lg = model_step_exit(&m, i);

			CHECK(lg == m.logits[i]);
			CHECK(memcmp(lg, ref[i], (size_t)N * m.nout[i] * sizeof(float)) == 0);
			CHECK_EQ_L(m.step_macs, n.ex[m.exit_at[i]].spent -
			    (flags & MODEL_BACKBONE_ONLY ? n.ex[n.nexit - 1].spent -
			    n.macs_backbone : 0));
			CHECK_EQ_L(m.macs_run, m.step_macs * N);
		}
		for (i = stop + 1; i < m.nexit; i++) {
			CHECK(isnan(m.logits[i][0]) && isnan(m.logits[i][N * m.nout[i] - 1]));
			CHECK(isnan(m.feat[i][0]));
		}
	}
	free_logits(ref, m.nexit);
	free(x);
	model_free(&m);
}

static void
test_steps(void)
{
	check_steps(ARCH_NACHOS, 0, 0, 1, 32);
	check_steps(ARCH_NACHOS, 1, 0, 3, 32);
	check_steps(ARCH_NACHOS, 0, 0, 1, 16);
	check_steps(ARCH_EDANAS, 1, 0, 3, 24);
	check_steps(ARCH_AEBNAS, 0, 0, 1, 32);
	check_steps(ARCH_NACHOS, 0, MODEL_BACKBONE_ONLY, 1, 32);
}

/* model_pack: at batch 1 and 3 the packed layers run (spoiling the copies
 * changes the logits), the logits stay those of the unpacked forward up to
 * rounding, the incremental forward equals the full one bit for bit, and
 * after model_unpack the unpacked forward's bits come back. */
static void
check_pack(int max, int N)
{
	struct arch a;
	struct arch_net n;
	struct model m;
	float *x = input(3, N, 32, 11), **ref, **pk;
	int i;

	small_arch(&a, ARCH_NACHOS, max, 3, 32);
	arch_net_build(&n, &a);
	model_build(&m, &n, 0, 4);
	model_init(&m, 9);
	ref = full_logits(&m, x, N);
	model_pack(&m);
	CHECK(m.pack != NULL);
	pk = full_logits(&m, x, N);
	model_step_begin(&m, x, N);
	for (i = 0; i < m.nexit; i++) {
		long nl = (long)N * m.nout[i];
		const float *lg = model_step_exit(&m, i);

		CHECK_CLOSE(pk[i], ref[i], nl, 1e-4, 1e-4);
		CHECK(memcmp(lg, pk[i], nl * sizeof(float)) == 0);
	}
	memset(m.pack, 0, m.npack * sizeof(float));
	model_forward(&m, x, N, 0);
	CHECK(memcmp(m.logits[m.nexit - 1], pk[m.nexit - 1],
	    (size_t)N * m.nout[m.nexit - 1] * sizeof(float)) != 0);
	model_unpack(&m);
	CHECK(m.pack == NULL);
	model_forward(&m, x, N, 0);
	for (i = 0; i < m.nexit; i++)
		CHECK(memcmp(m.logits[i], ref[i], (size_t)N * m.nout[i] * sizeof(float)) == 0);
	free_logits(ref, m.nexit);
	free_logits(pk, m.nexit);
	free(x);
	model_free(&m);
}

static void
test_pack(void)
{
	check_pack(0, 1);
	check_pack(1, 1);
	check_pack(1, 3);
}

/* Jumping straight to a later exit runs the backbone to it and its head
 * only: cost_i MACs, the same logits. */
static void
test_skip(void)
{
	struct arch a;
	struct arch_net n;
	struct model m;
	int N = 2;
	float *x = input(1, N, 32, 9), **ref;

	small_arch(&a, ARCH_NACHOS, 0, 1, 32);
	arch_net_build(&n, &a);
	model_build(&m, &n, 0, N);
	model_init(&m, 2);
	ref = full_logits(&m, x, N);
	model_step_begin(&m, x, N);
	model_step_exit(&m, 2);
	CHECK_EQ_L(m.step_macs, n.ex[2].cost);
	CHECK(memcmp(m.logits[2], ref[2], (size_t)N * m.nout[2] * sizeof(float)) == 0);
	model_step_exit(&m, n.nexit - 1);
	CHECK_EQ_L(m.step_macs, n.ex[n.nexit - 1].spent - n.ex[0].head_macs -
	    n.ex[1].head_macs - n.ex[3].head_macs);
	CHECK(memcmp(m.logits[n.nexit - 1], ref[n.nexit - 1],
	    (size_t)N * m.nout[n.nexit - 1] * sizeof(float)) == 0);
	free_logits(ref, m.nexit);
	free(x);
	model_free(&m);
}

/* Compaction: samples 1, 3, 4 of 5 kept after exit 0, 3 after exit 2: each
 * kept sample's later logits match its row of the full forward, and the
 * MACs run over the batch count each op at the batch it ran on. */
static void
test_keep(void)
{
	static const int keep1[] = { 1, 3, 4 }, keep2[] = { 2 };
	struct arch a;
	struct arch_net n;
	struct model m;
	int N = 5, i, k, B;
	float *x = input(3, N, 32, 11), **ref;
	long want;

	small_arch(&a, ARCH_NACHOS, 0, 3, 32);
	arch_net_build(&n, &a);
	model_build(&m, &n, 0, N);
	model_init(&m, 3);
	B = m.nexit;
	ref = full_logits(&m, x, N);
	model_step_begin(&m, x, N);
	model_step_exit(&m, 0);
	model_step_keep(&m, keep1, 3);
	CHECK(m.N == 3);
	for (i = 1; i < B; i++) {
		model_step_exit(&m, i);
		if (i == 2)
			model_step_keep(&m, keep2, 1);
		for (k = 0; k < m.N; k++) {
			int j = i <= 2 ? keep1[k] : keep1[keep2[k]];

			CHECK_CLOSE(m.logits[i] + k * m.nout[i], ref[i] + j * m.nout[i],
			    m.nout[i], 1e-5, 1e-5);
		}
	}
	CHECK_EQ_L(m.step_macs, n.ex[B - 1].spent);
	want = 5 * n.ex[0].spent + 3 * (n.ex[2].spent - n.ex[0].spent) +
	    (n.ex[B - 1].spent - n.ex[2].spent);
	CHECK_EQ_L(m.macs_run, want);
	free_logits(ref, m.nexit);
	free(x);
	model_free(&m);
}

int
main(void)
{
	test_steps();
	test_skip();
	test_keep();
	test_pack();
	return unit_done("test_model_step");
}
