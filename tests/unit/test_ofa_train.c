/* test_ofa_train - lib/ofa_train: progressive shrinking's levels by epoch,
 * the subnets each level may draw, the probe subnets, and seeded epochs:
 * the same seed gives the same supernet, and a run resumed from its
 * checkpoint after each epoch ends where the uninterrupted one does. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "ofa_train.h"
#include "unit.h"

static void
test_level(void)
{
	struct ofa_cfg c = { .ps = { 2, 1, 1 } };
	int want[] = { OFA_LV_FULL, OFA_LV_FULL, OFA_LV_KERNEL, OFA_LV_DEPTH, OFA_LV_ALL,
	    OFA_LV_ALL }, e;

	for (e = 0; e < 6; e++)
		CHECK_EQ_L(ofa_level(&c, e), want[e]);
	memset(c.ps, 0, sizeof(c.ps));
	CHECK_EQ_L(ofa_level(&c, 0), OFA_LV_ALL);
}

static int
in(int v, const int *set)
{
	return v == set[0] || v == set[1] || v == set[2];
}

static void
test_sample(void)
{
	struct super s;
	struct arch a;
	struct nn_rng r;
	int lv, n, i, ok, kvar = 0, evar = 0, dvar = 0;

	super_build(&s, 0.25, 16, 1, 3, 1);
	nn_rng_seed(&r, 4);
	for (lv = OFA_LV_FULL; lv <= OFA_LV_ALL; lv++)
		for (n = 0; n < 20; n++) {
			ofa_sample(&a, &s, lv, &r);
			ok = 1;
			for (i = 0; i < ARCH_STAGES; i++) {
				ok &= lv < OFA_LV_DEPTH ? a.d[i] == 4 : in(a.d[i], arch_d_set);
				dvar += a.d[i] != 4;
			}
			for (i = 0; i < a.d[0]; i++) {
				ok &= lv < OFA_LV_KERNEL ? a.ks[i] == 7 : in(a.ks[i], arch_ks_set);
				ok &= lv < OFA_LV_ALL ? a.e[i] == 6 : in(a.e[i], arch_e_set);
				kvar += a.ks[i] != 7;
				evar += a.e[i] != 6;
			}
			CHECK(ok);
		}
	CHECK(kvar > 0 && evar > 0 && dvar > 0);
	/* without a stream: the smallest at the level */
	ofa_sample(&a, &s, OFA_LV_ALL, NULL);
	CHECK(a.d[2] == 2 && a.ks[0] == 3 && a.e[0] == 3);
	ofa_probe_arch(&a, &s, 1);
	CHECK(a.d[2] == 3 && a.ks[0] == 5 && a.e[0] == 4);
	ofa_probe_arch(&a, &s, 2);
	CHECK(a.d[2] == 4 && a.ks[0] == 7 && a.e[0] == 6);
	CHECK(strcmp(ofa_probe_names[1], "mid") == 0);
	super_free(&s);
}

/* Train 3 epochs (ps 1,1,0: full, kernel, then everything elastic), with a
 * resume from the checkpoint before each epoch when resume is set; returns
 * a checksum of the supernet's weights and the curves in loss (3). */
static double
train(const char *out, int resume, double *loss)
{
	struct ofa_cfg c = { .train = { .batch = 6, .calib = 12, .seed = 2, .lr = 0.02,
	    .momentum = 0.9, .wd = 1e-5, .val_frac = 0.25 }, .out = out, .epochs = 3,
	    .random = 1, .ps = { 1, 1, 0 }, .kd = 1 };
	struct opt_sched sc = { OPT_COSINE, c.train.lr, 3 * 3, 0, 3, 1 };
	struct cli_progress p;
	struct ofa_trainer t;
	struct train_ds ds;
	double sum = 0;
	int e;
	long i;

	fixture_ds(&ds, 18, 6, 16, 3);
	cli_progress_start(&p, "test", sc.total);
	for (e = 0; e < 3; e++) {
		if (e == 0 || resume) {
			memset(&t, 0, sizeof(t));
			if (e == 0) {
				super_build(&t.s, 0.25, 16, 1, 3, 1);
				super_init(&t.s, (uint64_t)c.train.seed);
				ofa_trainer_init(&t, &c, &ds);
			} else {
				struct ckpt ck;
				struct ofa_cfg rc = c;

				ckpt_open(&ck, out);
				ofa_resume_cfg(&rc, &ck);
				CHECK(rc.epochs == 3 && rc.train.batch == 6 && rc.ps[1] == 1 &&
				    rc.train.lr == c.train.lr);
				super_open(&t.s, &ck);
				ofa_trainer_init(&t, &c, &ds);
				ofa_resume_state(&t, &ck);
				ckpt_close(&ck);
				CHECK_EQ_L(t.epoch, e);
			}
		}
		ofa_run_epoch(&t, &p, &sc, 3);
		CHECK(isfinite(t.c_loss[e]) && t.c_vacc[e] >= 0 && t.c_vacc[e] <= 1);
		if (resume && e < 2)
			ofa_trainer_free(&t);
	}
	for (i = 0; i < t.s.m.nparam; i++)
		sum += t.s.m.param[i] * (double)(i % 5 + 1);
	for (i = 0; i < t.s.nkt; i++)
		sum += t.s.ktp[i];
	memcpy(loss, t.c_loss, 3 * sizeof(double));
	ofa_trainer_free(&t);
	fixture_ds_free(&ds);
	return sum;
}

static void
test_epochs(void)
{
	char out[] = "/tmp/test_ofa_train.XXXXXX";
	double l1[3], l2[3], l3[3], a, b, c;
	int fd = mkstemp(out);

	CHECK(fd >= 0);
	close(fd);
	a = train(out, 0, l1);
	b = train(out, 0, l2);
	c = train(out, 1, l3);
	CHECK(a == b);
	CHECK(memcmp(l1, l2, sizeof(l1)) == 0);
	CHECK(a == c);
	CHECK(memcmp(l1, l3, sizeof(l1)) == 0);
	unlink(out);
}

int
main(void)
{
	nn_threads(1);
	test_level();
	test_sample();
	test_epochs();
	return unit_done("test_ofa_train");
}
