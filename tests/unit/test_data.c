/* test_data.c - dataset readers on small files written here (IDX gzip and
 * plain, CIFAR-10, raw packed), quotas, the stratified split, normalisation,
 * padding, crop and flip. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data.h"
#include "unit.h"

#define NTR 300
#define NTE 30
#define H 4
#define W 5

static char dir[64];

/* Class counts 150/100/50: label of train sample i. */
static int
label_of(long i, long n)
{
	return i < n / 2 ? 0 : i < n / 2 + n / 3 ? 1 : 2;
}

static uint8_t
pix(long i, int c, int y, int x)
{
	return (uint8_t)(i * 7 + c * 50 + y * W + x);
}

static void
put(const char *path, const void *buf, size_t n, int gz)
{
	if (gz) {
		gzFile g = gzopen(path, "wb");
		gzwrite(g, buf, n);
		gzclose(g);
	} else {
		FILE *f = fopen(path, "wb");
		fwrite(buf, 1, n, f);
		fclose(f);
	}
}

static void
write_idx(const char *d, const char *split, long n, int gz)
{
	size_t sz = 16 + n * H * W;
	uint8_t *b = malloc(sz), *l = malloc(8 + n);
	char p[256];
	long i;
	int y, x;

	memcpy(b, "\0\0\x08\x03", 4);
	b[4] = 0, b[5] = 0, b[6] = n >> 8, b[7] = n & 255;
	memcpy(b + 8, "\0\0\0\x04\0\0\0\x05", 8);
	for (i = 0; i < n; i++)
		for (y = 0; y < H; y++)
			for (x = 0; x < W; x++)
				b[16 + (i * H + y) * W + x] = pix(i, 0, y, x);
	memcpy(l, "\0\0\x08\x01", 4);
	l[4] = 0, l[5] = 0, l[6] = n >> 8, l[7] = n & 255;
	for (i = 0; i < n; i++)
		l[8 + i] = label_of(i, n);
	snprintf(p, sizeof(p), "%s/%s-images-idx3-ubyte%s", d, split, gz ? ".gz" : "");
	put(p, b, sz, gz);
	snprintf(p, sizeof(p), "%s/%s-labels-idx1-ubyte%s", d, split, gz ? ".gz" : "");
	put(p, l, 8 + n, gz);
	free(b);
	free(l);
}

static void
check_idx_set(const struct data_set *d, long n)
{
	long i, bad = 0;
	int y, x;

	CHECK_EQ_L(d->n, n);
	CHECK_EQ_L(d->c, 1);
	CHECK_EQ_L(d->h, H);
	CHECK_EQ_L(d->w, W);
	CHECK_EQ_L(d->classes, 3);
	CHECK(strcmp(d->format, "idx") == 0);
	for (i = 0; i < n; i++) {
		bad += d->y[i] != label_of(i, n);
		for (y = 0; y < H; y++)
			for (x = 0; x < W; x++)
				bad += d->x[(i * H + y) * W + x] != pix(i, 0, y, x);
	}
	CHECK_EQ_L(bad, 0);
}

static void
test_idx(int gz)
{
	char sub[128];
	struct data_set tr, te;

	snprintf(sub, sizeof(sub), "%s/idx%d", dir, gz);
	mkdir(sub, 0700);
	write_idx(sub, "train", NTR, gz);
	write_idx(sub, "t10k", NTE, gz);
	data_load(&tr, &te, sub);
	check_idx_set(&tr, NTR);
	check_idx_set(&te, NTE);
	data_free(&tr);
	data_free(&te);
}

static void
test_cifar10(void)
{
	char sub[128], p[256];
	uint8_t rec[4 * 3073];
	struct data_set tr, te;
	int f, r, i;

	snprintf(sub, sizeof(sub), "%s/cifar", dir);
	mkdir(sub, 0700);
	for (f = 0; f < 6; f++) {
		for (r = 0; r < 4; r++) {
			rec[r * 3073] = (f * 4 + r) % 10;
			for (i = 0; i < 3072; i++)
				rec[r * 3073 + 1 + i] = (uint8_t)(f * 4 + r + i);
		}
		if (f < 5)
			snprintf(p, sizeof(p), "%s/data_batch_%d.bin", sub, f + 1);
		else
			snprintf(p, sizeof(p), "%s/test_batch.bin", sub);
		put(p, rec, sizeof(rec), 0);
	}
	data_load(&tr, &te, sub);
	CHECK(strcmp(tr.format, "cifar10") == 0);
	CHECK_EQ_L(tr.n, 20);
	CHECK_EQ_L(te.n, 4);
	CHECK_EQ_L(tr.c, 3);
	CHECK_EQ_L(tr.h, 32);
	CHECK_EQ_L(tr.classes, 10);
	CHECK_EQ_L(tr.y[13], 3);
	CHECK_EQ_L(te.y[2], 2);
	/* Sample 13, channel 1 (G), row 2, col 5: byte 1024 + 64 + 5. */
	CHECK_EQ_L(tr.x[13 * 3072 + 1024 + 2 * 32 + 5], (uint8_t)(13 + 1093));
	data_free(&tr);
	data_free(&te);
}

/* CIFAR-100 in its subdirectory: coarse and fine label bytes, fine used. */
static void
test_cifar100(void)
{
	char sub[128], p[256];
	uint8_t rec[3 * 3074];
	struct data_set tr, te;
	int r;

	snprintf(sub, sizeof(sub), "%s/c100", dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/c100/cifar-100-binary", dir);
	mkdir(sub, 0700);
	memset(rec, 9, sizeof(rec));
	for (r = 0; r < 3; r++) {
		rec[r * 3074] = 19 - r;        /* coarse */
		rec[r * 3074 + 1] = 97 + r;    /* fine */
	}
	snprintf(p, sizeof(p), "%s/train.bin", sub);
	put(p, rec, sizeof(rec), 0);
	snprintf(p, sizeof(p), "%s/test.bin", sub);
	put(p, rec, 3074, 0);
	snprintf(sub, sizeof(sub), "%s/c100", dir);
	data_load(&tr, &te, sub);
	CHECK(strcmp(tr.format, "cifar100") == 0);
	CHECK_EQ_L(tr.n, 3);
	CHECK_EQ_L(te.n, 1);
	CHECK_EQ_L(tr.classes, 100);
	CHECK(tr.y[0] == 97 && tr.y[2] == 99 && te.y[0] == 97);
	CHECK_EQ_L(tr.x[2 * 3072 + 5], 9);
	data_free(&tr);
	data_free(&te);
}

static void
write_raw(const char *path, long n, int c, int classes)
{
	size_t sz = 32 + n * c * H * W + 2 * n;
	uint8_t *b = calloc(1, sz);
	uint32_t hd[6] = { 1, n, c, H, W, classes };
	long i, k;

	memcpy(b, "NACHOSDS", 8);
	for (k = 0; k < 6; k++)
		for (i = 0; i < 4; i++)
			b[8 + 4 * k + i] = hd[k] >> (8 * i) & 255;
	for (i = 0; i < n * c * H * W; i++)
		b[32 + i] = (uint8_t)(i * 3);
	for (i = 0; i < n; i++) {
		b[32 + n * c * H * W + 2 * i] = (i * 37) % classes & 255;
		b[32 + n * c * H * W + 2 * i + 1] = (i * 37) % classes >> 8;
	}
	put(path, b, sz, 1);
	free(b);
}

static void
test_raw(void)
{
	char sub[128], p[256];
	struct data_set tr, te;

	snprintf(sub, sizeof(sub), "%s/raw", dir);
	mkdir(sub, 0700);
	snprintf(p, sizeof(p), "%s/train.nds.gz", sub);
	write_raw(p, 40, 2, 300);
	snprintf(p, sizeof(p), "%s/test.nds", sub);
	write_raw(p, 10, 2, 300);
	data_load(&tr, &te, sub);
	CHECK(strcmp(tr.format, "raw") == 0);
	CHECK_EQ_L(tr.n, 40);
	CHECK_EQ_L(te.n, 10);
	CHECK_EQ_L(tr.c, 2);
	CHECK_EQ_L(tr.classes, 300);
	CHECK_EQ_L(tr.y[9], 9 * 37 % 300);
	CHECK_EQ_L(tr.x[77], (uint8_t)(77 * 3));
	data_free(&tr);
	data_free(&te);
}

static void
test_quota(void)
{
	long cnt[3] = { 150, 100, 50 }, q[3], cnt2[3] = { 30, 20, 10 };

	data_quota(q, cnt, 3, 30);
	CHECK(q[0] == 15 && q[1] == 10 && q[2] == 5);
	data_quota(q, cnt, 3, 7);         /* 3.5 2.33 1.17: the .5 gets the extra */
	CHECK(q[0] == 4 && q[1] == 2 && q[2] == 1);
	data_quota(q, cnt2, 3, 15);       /* 7.5 5 2.5: tie to the lower class */
	CHECK(q[0] == 8 && q[1] == 5 && q[2] == 2);
	data_quota(q, cnt, 3, 300);
	CHECK(q[0] == 150 && q[1] == 100 && q[2] == 50);
}

static struct data_set
fake_set(long n)
{
	struct data_set d = { .n = n, .c = 1, .h = H, .w = W, .classes = 3 };
	long i;
	int y, x;

	d.x = malloc(n * H * W);
	d.y = malloc(n * sizeof(int32_t));
	for (i = 0; i < n; i++) {
		d.y[i] = label_of(i, n);
		for (y = 0; y < H; y++)
			for (x = 0; x < W; x++)
				d.x[(i * H + y) * W + x] = pix(i, 0, y, x);
	}
	return d;
}

static void
count_classes(long *cnt, const struct data_set *d, const int32_t *idx, long n)
{
	long i;

	memset(cnt, 0, 3 * sizeof(long));
	for (i = 0; i < n; i++)
		cnt[d->y[idx[i]]]++;
}

static void
test_split(void)
{
	struct data_set d = fake_set(NTR);
	int32_t *tr, *va, *tr2, *va2;
	long ntr, nva, ntr2, nva2, cnt[3], i, seen[NTR] = { 0 }, dup = 0, sorted = 1;

	data_split(&tr, &ntr, &va, &nva, &d, 0, 0.1, 42);
	CHECK_EQ_L(ntr, 270);
	CHECK_EQ_L(nva, 30);
	count_classes(cnt, &d, va, nva);
	CHECK(cnt[0] == 15 && cnt[1] == 10 && cnt[2] == 5);
	count_classes(cnt, &d, tr, ntr);
	CHECK(cnt[0] == 135 && cnt[1] == 90 && cnt[2] == 45);
	for (i = 0; i < ntr; i++)
		dup += seen[tr[i]]++;
	for (i = 0; i < nva; i++)
		dup += seen[va[i]]++;
	for (i = 1; i < ntr; i++)
		sorted &= tr[i] > tr[i - 1];
	CHECK_EQ_L(dup, 0);   /* disjoint; 300 distinct indices cover the set */
	CHECK(sorted);

	/* Same seed, same split; another seed, another validation set. */
	data_split(&tr2, &ntr2, &va2, &nva2, &d, 0, 0.1, 42);
	CHECK(nva2 == nva && memcmp(va, va2, nva * sizeof(int32_t)) == 0);
	free(tr2), free(va2);
	data_split(&tr2, &ntr2, &va2, &nva2, &d, 0, 0.1, 43);
	CHECK(nva2 == nva && memcmp(va, va2, nva * sizeof(int32_t)) != 0);
	free(tr2), free(va2);

	/* Subset 60 keeps 30/20/10, a quarter of it (15) goes to validation. */
	data_split(&tr2, &ntr2, &va2, &nva2, &d, 60, 0.25, 7);
	CHECK_EQ_L(ntr2 + nva2, 60);
	count_classes(cnt, &d, va2, nva2);
	CHECK(cnt[0] == 8 && cnt[1] == 5 && cnt[2] == 2);
	count_classes(cnt, &d, tr2, ntr2);
	CHECK(cnt[0] == 22 && cnt[1] == 15 && cnt[2] == 8);

	/* Splits of different sizes with one seed: neither trains on the
	 * other's validation images (the supernet's and a candidate's). */
	{
		int32_t *tr3, *va3;
		long ntr3, nva3, clash = 0;

		data_split(&tr3, &ntr3, &va3, &nva3, &d, 120, 0.1, 7);
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < ntr2; i++)
			seen[tr2[i]] |= 1;
		for (i = 0; i < nva2; i++)
			seen[va2[i]] |= 2;
		for (i = 0; i < ntr3; i++)
			clash += (seen[tr3[i]] & 2) != 0;
		for (i = 0; i < nva3; i++)
			clash += (seen[va3[i]] & 1) != 0;
		CHECK_EQ_L(clash, 0);
		free(tr3), free(va3);
	}
	free(tr2), free(va2);

	/* No validation. */
	data_split(&tr2, &ntr2, &va2, &nva2, &d, 0, 0, 7);
	CHECK(ntr2 == NTR && nva2 == 0);
	free(tr2), free(va2);
	free(tr), free(va);
	data_free(&d);
}

static void
test_norm(void)
{
	struct data_set d = fake_set(NTR);
	struct data_norm nm;
	int32_t idx[3] = { 5, 100, 299 };
	double s = 0, s2 = 0, m;
	int i, p;

	data_norm_fit(&nm, &d, idx, 3);
	for (i = 0; i < 3; i++)
		for (p = 0; p < H * W; p++) {
			double v = d.x[idx[i] * H * W + p] / 255.0;
			s += v;
			s2 += v * v;
		}
	m = s / 60;
	CHECK_EQ_L(nm.c, 1);
	CHECK_NEAR(nm.mean[0], m, 1e-6);
	CHECK_NEAR(nm.std[0], sqrt(s2 / 60 - m * m), 1e-6);
	data_free(&d);
}

/* Padding to R: the image sits centred, zeros around it, channel-major. */
static void
test_batch_pad(void)
{
	struct data_set d = fake_set(NTR);
	struct data_norm nm = { .c = 1, .mean = { 0.25f }, .std = { 0.5f } };
	int32_t idx[2] = { 3, 200 };
	int R = 8, top = 2, left = 1, y[2], j, c, yy, xx, bad = 0;
	float x[3 * 2 * 8 * 8];

	data_batch(x, y, &d, idx, 2, 1, R, &nm, NULL, NULL);
	CHECK(y[0] == 0 && y[1] == 1);
	for (j = 0; j < 2; j++)
		for (yy = 0; yy < R; yy++)
			for (xx = 0; xx < R; xx++) {
				int in = yy >= top && yy < top + H && xx >= left && xx < left + W;
				float want = in ? ((float)pix(idx[j], 0, yy - top, xx - left) / 255.0f
				    - 0.25f) / 0.5f : 0.0f;
				bad += fabsf(x[(j * R + yy) * R + xx] - want) > 1e-6f;
			}
	CHECK_EQ_L(bad, 0);
	/* Three channels from a grey set: the same plane three times. */
	data_batch(x, y, &d, idx, 2, 3, R, &nm, NULL, NULL);
	for (c = 1; c < 3; c++)
		bad += memcmp(x, x + c * 2 * R * R, 2 * R * R * sizeof(float)) != 0;
	CHECK_EQ_L(bad, 0);
	data_free(&d);
}

/* Crop and flip: every output is the padded image shifted by some
 * (dy, dx) in [-pad, pad] and maybe mirrored; all shifts and both flips
 * occur; the same seed gives the same batch. */
static void
test_batch_aug(void)
{
	struct data_set d = { .n = 1, .c = 1, .h = 6, .w = 6, .classes = 2 };
	struct data_norm nm = { .c = 1, .mean = { 0 }, .std = { 1 } };
	struct data_aug aug = { .pad = 2, .flip = 1 };
	enum { N = 400, R = 6 };
	static float x[N * R * R], x2[N * R * R];
	int32_t idx[N];
	int y[N], j, nomatch = 0, hits[5][5][2] = { { { 0 } } }, missing = 0, a, b, f;
	uint8_t img[36];
	int32_t lab = 1;
	struct nn_rng rng;

	for (j = 0; j < 36; j++)
		img[j] = 10 + j;        /* distinct and nonzero: the match is unique */
	d.x = img, d.y = &lab;
	for (j = 0; j < N; j++)
		idx[j] = 0;
	nn_rng_seed(&rng, 5);
	data_batch(x, y, &d, idx, N, 1, R, &nm, &aug, &rng);
	for (j = 0; j < N; j++) {
		int found = 0;
		for (a = -2; a <= 2; a++)
			for (b = -2; b <= 2; b++)
				for (f = 0; f < 2; f++) {
					int ok = 1, yy, xx;
					for (yy = 0; yy < R && ok; yy++)
						for (xx = 0; xx < R && ok; xx++) {
							int iy = yy + a, ix = (f ? R - 1 - xx : xx) + b;
							float want = iy >= 0 && iy < 6 && ix >= 0 && ix < 6 ?
							    img[iy * 6 + ix] / 255.0f : 0.0f;
							ok = fabsf(x[(j * R + yy) * R + xx] - want) < 1e-6f;
						}
					if (ok) {
						hits[a + 2][b + 2][f]++;
						found++;
					}
				}
		nomatch += found != 1;
	}
	CHECK_EQ_L(nomatch, 0);
	for (a = 0; a < 5; a++)
		for (b = 0; b < 5; b++)
			for (f = 0; f < 2; f++)
				missing += hits[a][b][f] == 0;
	CHECK_EQ_L(missing, 0);
	nn_rng_seed(&rng, 5);
	data_batch(x2, y, &d, idx, N, 1, R, &nm, &aug, &rng);
	CHECK(memcmp(x, x2, sizeof(x)) == 0);
}

static void
test_shuffle(void)
{
	int32_t a[100], b[100];
	long sum = 0, moved = 0;
	struct nn_rng r;
	int i;

	for (i = 0; i < 100; i++)
		a[i] = b[i] = i;
	nn_rng_seed(&r, 1);
	rng_shuffle(a, 100, &r);
	nn_rng_seed(&r, 1);
	rng_shuffle(b, 100, &r);
	for (i = 0; i < 100; i++) {
		sum += a[i];
		moved += a[i] != i;
	}
	CHECK_EQ_L(sum, 4950);
	CHECK(moved > 80);
	CHECK(memcmp(a, b, sizeof(a)) == 0);
}

int
main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/test_data.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	test_idx(1);
	test_idx(0);
	test_cifar10();
	test_cifar100();
	test_raw();
	test_quota();
	test_split();
	test_norm();
	test_batch_pad();
	test_batch_aug();
	test_shuffle();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return unit_done("test_data");
}
