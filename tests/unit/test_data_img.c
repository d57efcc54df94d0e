/*
 * test_data_img.c - image folders (PNG, JPEG; exact decode, area and
 * bilinear resizing, centre crop, grey and colour, class order, the cache
 * reused and rebuilt) and SVHN's MATLAB files, on files written here.
 *
 * It also writes datasets for the bats tests:
 *   test_data_img folder DIR K NTRAIN NTEST png|jpeg|mixed [TESTNAME]
 *       DIR/train/CLASS/ and DIR/TESTNAME (default test)/CLASS/, K classes
 *       named out of order, images of odd sizes (17 ... 47 pixels a side)
 *       whose brightness gives the class; mixed: PNG and JPEG, grey and
 *       colour, RGBA and 16-bit PNGs among them.
 *   test_data_img image PATH png|jpeg W H C   one image of C channels (PNG
 *       1-4, JPEG 1, 3 or 4 = CMYK)
 *   test_data_img mat PATH N [compressed]     an SVHN-like file: X 32x32x3xN,
 *       y in 1 ... 10 (10 for 0)
 *   test_data_img idx2folder IMAGES LABELS DIR   an IDX pair as DIR/LABEL/
 *       NNNNN.png (one-channel), e.g. Fashion-MNIST as a folder
 */
#define _GNU_SOURCE
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <jpeglib.h>
#include <matio.h>
#include <png.h>

#include "data.h"
#include "unit.h"

/* ---- writers ---- */

/* px (h, w, c) interleaved; c 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA;
 * sixteen: 16-bit samples (each byte repeated). */
static void
write_png(const char *path, const uint8_t *px, int w, int h, int c, int sixteen)
{
	static const png_uint_32 fmt[5] = { 0, PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB,
		PNG_FORMAT_RGBA };
	png_image pi;

	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	pi.width = w, pi.height = h, pi.format = fmt[c];
	if (sixteen) {
		uint16_t *v = malloc((size_t)w * h * c * 2);
		size_t i;

		for (i = 0; i < (size_t)w * h * c; i++)
			v[i] = px[i] * 257;
		/* The simplified API takes 16-bit data as linear light. */
		pi.format |= PNG_FORMAT_FLAG_LINEAR;
		if (!png_image_write_to_file(&pi, path, 0, v, 0, NULL))
			errx(1, "%s: %s", path, pi.message);
		free(v);
		return;
	}
	if (!png_image_write_to_file(&pi, path, 0, px, 0, NULL))
		errx(1, "%s: %s", path, pi.message);
}

/* c 1 grey, 3 RGB, 4 CMYK (the bytes as they are). */
static void
write_jpeg(const char *path, const uint8_t *px, int w, int h, int c, int quality)
{
	struct jpeg_compress_struct ci;
	struct jpeg_error_mgr je;
	FILE *f = fopen(path, "wb");
	int y;

	if (f == NULL)
		err(1, "%s", path);
	ci.err = jpeg_std_error(&je);
	jpeg_create_compress(&ci);
	jpeg_stdio_dest(&ci, f);
	ci.image_width = w, ci.image_height = h, ci.input_components = c;
	ci.in_color_space = c == 1 ? JCS_GRAYSCALE : c == 3 ? JCS_RGB : JCS_CMYK;
	jpeg_set_defaults(&ci);
	jpeg_set_quality(&ci, quality, TRUE);
	jpeg_start_compress(&ci, TRUE);
	for (y = 0; y < h; y++) {
		JSAMPROW row = (JSAMPROW)px + (size_t)y * w * c;
		jpeg_write_scanlines(&ci, &row, 1);
	}
	jpeg_finish_compress(&ci);
	jpeg_destroy_compress(&ci);
	fclose(f);
}

/* X (32, 32, 3, n) column-major: pixel (r, c) of channel k of sample s is
 * mat_px(s, k, r, c); y(s) = 1 + s % 10 (so 10, the digit 0, every tenth). */
static uint8_t
mat_px(long s, int k, int r, int c)
{
	return (uint8_t)(s * 13 + k * 71 + r * 5 + c * 3);
}

static void
write_mat(const char *path, long n, int compressed)
{
	size_t dx[4] = { 32, 32, 3, (size_t)n }, dy[2] = { (size_t)n, 1 };
	uint8_t *x = malloc(32 * 32 * 3 * n);
	double *y = malloc(n * sizeof(double));
	mat_t *m = Mat_CreateVer(path, NULL, MAT_FT_MAT5);
	matvar_t *v;
	long s;
	int k, r, c;

	if (m == NULL)
		errx(1, "%s: cannot create", path);
	for (s = 0; s < n; s++) {
		for (k = 0; k < 3; k++)
			for (c = 0; c < 32; c++)
				for (r = 0; r < 32; r++)
					x[r + 32 * (c + 32 * (k + 3 * s))] = mat_px(s, k, r, c);
		y[s] = 1 + s % 10;
	}
	v = Mat_VarCreate("X", MAT_C_UINT8, MAT_T_UINT8, 4, dx, x, 0);
	Mat_VarWrite(m, v, compressed ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE);
	Mat_VarFree(v);
	v = Mat_VarCreate("y", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dy, y, 0);
	Mat_VarWrite(m, v, compressed ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE);
	Mat_VarFree(v);
	Mat_Close(m);
	free(x);
	free(y);
}

static void
mkdirs(const char *a, const char *b, const char *c)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s", a);
	mkdir(p, 0777);
	if (b) {
		snprintf(p, sizeof(p), "%s/%s", a, b);
		mkdir(p, 0777);
	}
	if (b && c) {
		snprintf(p, sizeof(p), "%s/%s/%s", a, b, c);
		mkdir(p, 0777);
	}
}

/* Class names written in this order; sorted they are k = 3 1 4 0 2 ... */
static const char *const cls_name[] = { "dog", "bird", "frog", "ant", "eel", "fox", "gnu",
	"hen", "ibis", "jay" };

/* The sorted index of class q: what the loader must give it. */
static int
sorted_index(int q, int K)
{
	int k, r = 0;

	for (k = 0; k < K; k++)
		r += strcmp(cls_name[k], cls_name[q]) < 0;
	return r;
}

/* Class q's image i: odd size, brightness 30 + 190 q / (K - 1) with noise
 * of +-15; colour images tint it. kind: 0 png, 1 jpeg, 2 mixed. */
static void
gen_image(const char *dir, int q, int K, long i, int kind, unsigned *seed)
{
	int w = 17 + (int)(rand_r(seed) % 31), h = 17 + (int)(rand_r(seed) % 31);
	int fmt = kind == 2 ? (int)(i % 5) : kind;   /* mixed: 0 png, 1 jpeg, 2 grey png,
	                                              * 3 RGBA png, 4 16-bit png */
	int c = fmt == 2 ? 1 : fmt == 3 ? 4 : 3, j;
	uint8_t *px = malloc((size_t)w * h * c);
	double b = 30 + 190.0 * q / (K - 1);
	char p[8192];

	for (j = 0; j < w * h; j++) {
		int v = (int)(b + (int)(rand_r(seed) % 31) - 15), k;

		for (k = 0; k < c; k++) {
			int t = k == 3 ? 255 : v + (c >= 3 ? 10 * (k - 1) : 0);
			px[(size_t)j * c + k] = t < 0 ? 0 : t > 255 ? 255 : t;
		}
	}
	snprintf(p, sizeof(p), "%s/%s/img%04ld.%s", dir, cls_name[q], i,
	    fmt == 1 ? (i % 2 ? "jpg" : "jpeg") : "png");
	if (fmt == 1)
		write_jpeg(p, px, w, h, 3, 90);
	else
		write_png(p, px, w, h, c, fmt == 4);
	free(px);
}

static int
gen_folder(int argc, char **argv)
{
	const char *dir, *test = "test";
	int K, kind, q, s;
	long n[2], i;
	unsigned seed = 1;

	if (argc < 7)
		errx(EX_USAGE, "usage: test_data_img folder DIR K NTRAIN NTEST png|jpeg|mixed "
		    "[TESTNAME]");
	dir = argv[2], K = atoi(argv[3]), n[0] = atol(argv[4]), n[1] = atol(argv[5]);
	kind = strcmp(argv[6], "png") == 0 ? 0 : strcmp(argv[6], "jpeg") == 0 ? 1 : 2;
	if (argc > 7)
		test = argv[7];
	if (K < 2 || K > 10)
		errx(EX_USAGE, "K: 2 ... 10");
	for (s = 0; s < 2; s++) {
		char sub[4096];

		snprintf(sub, sizeof(sub), "%s/%s", dir, s ? test : "train");
		for (q = 0; q < K; q++)
			mkdirs(dir, s ? test : "train", cls_name[q]);
		for (i = 0; i < n[s]; i++)
			gen_image(sub, (int)(i % K), K, i, kind, &seed);
	}
	return 0;
}

static int
gen_image_cmd(int argc, char **argv)
{
	int w, h, c, j;
	uint8_t *px;

	if (argc != 7)
		errx(EX_USAGE, "usage: test_data_img image PATH png|jpeg W H C");
	w = atoi(argv[4]), h = atoi(argv[5]), c = atoi(argv[6]);
	px = malloc((size_t)w * h * c);
	for (j = 0; j < w * h * c; j++)
		px[j] = (uint8_t)(j * 7);
	if (strcmp(argv[3], "png") == 0)
		write_png(argv[2], px, w, h, c, 0);
	else
		write_jpeg(argv[2], px, w, h, c, 90);
	free(px);
	return 0;
}

static uint8_t *
read_gz(const char *path, size_t *n)
{
	gzFile g = gzopen(path, "rb");
	size_t cap = 1 << 20;
	uint8_t *b = malloc(cap);
	int r;

	if (g == NULL)
		err(1, "%s", path);
	*n = 0;
	while ((r = gzread(g, b + *n, cap - *n)) > 0)
		if ((*n += r) == cap)
			b = realloc(b, cap *= 2);
	gzclose(g);
	return b;
}

static int
gen_idx2folder(int argc, char **argv)
{
	size_t ni, nl;
	uint8_t *im, *lb;
	long n, i, h, w;
	char p[4096], name[16];

	if (argc != 5)
		errx(EX_USAGE, "usage: test_data_img idx2folder IMAGES LABELS DIR");
	im = read_gz(argv[2], &ni);
	lb = read_gz(argv[3], &nl);
	n = (long)im[4] << 24 | im[5] << 16 | im[6] << 8 | im[7];
	h = (long)im[8] << 24 | im[9] << 16 | im[10] << 8 | im[11];
	w = (long)im[12] << 24 | im[13] << 16 | im[14] << 8 | im[15];
	if (ni != 16 + (size_t)(n * h * w) || nl != 8 + (size_t)n)
		errx(1, "%s, %s: not an IDX pair", argv[2], argv[3]);
	mkdirs(argv[4], NULL, NULL);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%d", lb[8 + i]);
		mkdirs(argv[4], name, NULL);
		snprintf(p, sizeof(p), "%s/%s/%05ld.png", argv[4], name, i);
		write_png(p, im + 16 + i * h * w, (int)w, (int)h, 1, 0);
	}
	free(im);
	free(lb);
	return 0;
}

/* ---- tests ---- */

static char tmp[64];

static void
sh(const char *fmt, const char *a)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), fmt, a, a, a);
	if (system(cmd) != 0)
		errx(1, "%s failed", cmd);
}

static void
load(struct data_set *tr, struct data_set *te, const char *dir, int res, int in_ch)
{
	struct data_opts o = { .res = res, .in_ch = in_ch };

	data_load_opts(tr, te, dir, &o);
}

/* Exact R x R grey PNGs come back byte for byte; classes sorted by name;
 * the test split may be called val. */
static void
test_png_exact(void)
{
	struct data_set tr, te;
	char d[128];
	uint8_t px[3][20 * 20];
	int q, j;

	snprintf(d, sizeof(d), "%s/exact", tmp);
	for (q = 0; q < 3; q++) {
		char p[256];

		mkdirs(d, "train", cls_name[q]);
		mkdirs(d, "val", cls_name[q]);
		for (j = 0; j < 400; j++)
			px[q][j] = (uint8_t)(q * 80 + j * 3);
		snprintf(p, sizeof(p), "%s/train/%s/a.png", d, cls_name[q]);
		write_png(p, px[q], 20, 20, 1, 0);
		snprintf(p, sizeof(p), "%s/train/%s/b.png", d, cls_name[q]);
		write_png(p, px[q], 20, 20, 1, 0);
		snprintf(p, sizeof(p), "%s/val/%s/a.png", d, cls_name[q]);
		write_png(p, px[q], 20, 20, 1, 0);
	}
	load(&tr, &te, d, 20, 3);
	CHECK(strcmp(tr.format, "folder") == 0);
	CHECK_EQ_L(tr.n, 6);
	CHECK_EQ_L(te.n, 3);
	CHECK_EQ_L(tr.c, 1);                 /* every image grey: one plane */
	CHECK_EQ_L(tr.h, 20);
	CHECK_EQ_L(tr.classes, 3);
	/* dog bird frog sorted: bird dog frog */
	CHECK(tr.class_names && strcmp(tr.class_names[0], "bird") == 0 &&
	    strcmp(tr.class_names[1], "dog") == 0 && strcmp(tr.class_names[2], "frog") == 0);
	for (j = 0; j < 6; j++) {
		int q0 = j / 2 == 0 ? 1 : j / 2 == 1 ? 0 : 2;   /* sorted index -> written */

		CHECK_EQ_L(tr.y[j], j / 2);
		CHECK(memcmp(tr.x + (size_t)j * 400, px[q0], 400) == 0);
	}
	CHECK_EQ_L(te.y[2], 2);
	CHECK(memcmp(te.x + 800, px[2], 400) == 0);
	data_free(&tr);
	data_free(&te);
	/* A second load, from the cache, gives the same. */
	load(&tr, &te, d, 20, 3);
	CHECK_EQ_L(tr.n, 6);
	CHECK(memcmp(tr.x + 400, px[1], 400) == 0);
	CHECK(strcmp(te.class_names[1], "dog") == 0);
	data_free(&tr);
	data_free(&te);
}

/* Resizing: area on shrinking (2x2 blocks average exactly), the centre of
 * a wide image, bilinear enlarging of a ramp, colour kept as three
 * planes, grey asked for (in_ch 1) as the luma. */
static void
test_resize(void)
{
	struct data_set tr, te;
	char d[128], p[256];
	uint8_t big[16 * 16], wide[8 * 24 * 3], ramp[4 * 4];
	int y, x, ok;

	snprintf(d, sizeof(d), "%s/resize", tmp);
	mkdirs(d, "train", "a");
	mkdirs(d, "train", "b");
	mkdirs(d, "test", "a");
	for (y = 0; y < 16; y++)
		for (x = 0; x < 16; x++)
			big[y * 16 + x] = (uint8_t)((y / 2) * 20 + (x / 2) * 2 + (x % 2) * 2);
	snprintf(p, sizeof(p), "%s/train/a/big.png", d);
	write_png(p, big, 16, 16, 1, 0);
	/* 24 x 8, thirds red, green, blue: the centre 8 x 8 is the green. */
	for (y = 0; y < 8; y++)
		for (x = 0; x < 24; x++) {
			uint8_t *q = wide + (y * 24 + x) * 3;
			q[0] = x < 8 ? 200 : 0, q[1] = x >= 8 && x < 16 ? 150 : 0;
			q[2] = x >= 16 ? 100 : 0;
		}
	snprintf(p, sizeof(p), "%s/train/b/wide.png", d);
	write_png(p, wide, 24, 8, 3, 0);
	for (y = 0; y < 4; y++)
		for (x = 0; x < 4; x++)
			ramp[y * 4 + x] = (uint8_t)(x * 40);
	snprintf(p, sizeof(p), "%s/test/a/ramp.png", d);
	write_png(p, ramp, 4, 4, 1, 0);

	load(&tr, &te, d, 8, 3);
	CHECK_EQ_L(tr.c, 3);                 /* one colour image: three planes */
	/* big (class a, sample 0): 2x2 blocks of (y/2)*20 + (x/2)*2 + {0, 2}. */
	for (y = 0, ok = 1; y < 8; y++)
		for (x = 0; x < 8; x++)
			ok &= tr.x[y * 8 + x] == y * 20 + x * 2 + 1 &&
			    tr.x[64 + y * 8 + x] == tr.x[y * 8 + x];
	CHECK(ok);
	/* wide (class b, sample 1): R 0, G 150, B 0 everywhere. */
	for (y = 0, ok = 1; y < 64; y++)
		ok &= tr.x[192 + y] == 0 && tr.x[192 + 64 + y] == 150 && tr.x[192 + 128 + y] == 0;
	CHECK(ok);
	/* ramp 4 -> 8, bilinear between pixel centres: source x = (o + 0.5) / 2
	 * - 0.5, clamped at the edges. */
	{
		static const int want[8] = { 0, 10, 30, 50, 70, 90, 110, 120 };

		for (x = 0, ok = 1; x < 8; x++)
			ok &= te.x[x] == want[x] && te.x[56 + x] == want[x] && te.x[128 + x] == want[x];
		CHECK(ok);
	}
	data_free(&tr);
	data_free(&te);

	load(&tr, &te, d, 8, 1);
	CHECK_EQ_L(tr.c, 1);
	/* The green third as grey: libpng's sRGB luma of (0, 150, 0) is about
	 * 0.7152 in linear light, well between 0 and 150. */
	CHECK(tr.x[64 + 27] > 90 && tr.x[64 + 27] < 150);
	data_free(&tr);
	data_free(&te);
}

/* JPEG: close to what was written (quality 90), colour and grey. */
static void
test_jpeg(void)
{
	struct data_set tr, te;
	char d[128], p[256];
	uint8_t px[16 * 16 * 3];
	int j, worst = 0;

	snprintf(d, sizeof(d), "%s/jpeg", tmp);
	mkdirs(d, "train", "x");
	mkdirs(d, "train", "y");
	mkdirs(d, "test", "y");
	for (j = 0; j < 16 * 16 * 3; j++)
		px[j] = (uint8_t)(60 + (j % 3) * 50);
	snprintf(p, sizeof(p), "%s/train/x/a.jpg", d);
	write_jpeg(p, px, 16, 16, 3, 90);
	snprintf(p, sizeof(p), "%s/train/y/a.jpeg", d);
	write_jpeg(p, px, 16, 16, 1, 90);
	snprintf(p, sizeof(p), "%s/test/y/a.JPG", d);
	write_jpeg(p, px, 16, 16, 1, 90);
	load(&tr, &te, d, 16, 3);
	CHECK_EQ_L(tr.c, 3);
	for (j = 0; j < 256; j++) {
		int c;
		for (c = 0; c < 3; c++) {
			int e = abs(tr.x[c * 256 + j] - (60 + c * 50));
			worst = e > worst ? e : worst;
		}
	}
	CHECK(worst <= 6);
	CHECK_EQ_L(tr.y[1], 1);
	data_free(&tr);
	data_free(&te);

	/* A large JPEG is decoded by libjpeg at 1/8 scale (256x128 -> 32x16,
	 * the shorter side still R = 16), then its centre square cut: the
	 * picture's outer quarters are black, its middle half white, so the
	 * centre stays white. */
	{
		uint8_t *big = calloc(256 * 128 * 3, 1);
		int y, x, ok = 1;

		for (y = 0; y < 128; y++)
			for (x = 64; x < 192; x++)
				memset(big + ((size_t)y * 256 + x) * 3, 255, 3);
		snprintf(p, sizeof(p), "%s/train/x/big.jpg", d);
		write_jpeg(p, big, 256, 128, 3, 95);
		free(big);
		load(&tr, &te, d, 16, 3);
		CHECK_EQ_L(tr.n, 3);
		/* train/x: a.jpg, big.jpg (sorted: "a.jpg" < "big.jpg") */
		for (j = 0; j < 3 * 256; j++)
			ok &= tr.x[3 * 256 + j] >= 245;
		CHECK(ok);
		data_free(&tr);
		data_free(&te);
	}
}

/* The cache is rebuilt when a file changes (here its content, size and
 * mtime), and when a file is added. */
static void
test_cache_rebuilt(void)
{
	struct data_set tr, te;
	char d[128], p[256];
	uint8_t a[8 * 8], b[8 * 8];
	struct timespec ts[2];

	snprintf(d, sizeof(d), "%s/cache", tmp);
	mkdirs(d, "train", "a");
	mkdirs(d, "train", "b");
	mkdirs(d, "test", "a");
	memset(a, 10, sizeof(a));
	memset(b, 200, sizeof(b));
	snprintf(p, sizeof(p), "%s/train/a/1.png", d);
	write_png(p, a, 8, 8, 1, 0);
	snprintf(p, sizeof(p), "%s/train/b/1.png", d);
	write_png(p, b, 8, 8, 1, 0);
	snprintf(p, sizeof(p), "%s/test/a/1.png", d);
	write_png(p, a, 8, 8, 1, 0);
	load(&tr, &te, d, 8, 3);
	CHECK_EQ_L(tr.x[0], 10);
	data_free(&tr), data_free(&te);
	snprintf(p, sizeof(p), "%s/.nachos-cache/folder-r8-auto.cache", d);
	CHECK(access(p, R_OK) == 0);

	/* Same size, new content: only the mtime tells. */
	memset(a, 90, sizeof(a));
	snprintf(p, sizeof(p), "%s/train/a/1.png", d);
	write_png(p, a, 8, 8, 1, 0);
	ts[0].tv_sec = ts[1].tv_sec = 1000000000, ts[0].tv_nsec = ts[1].tv_nsec = 0;
	utimensat(AT_FDCWD, p, ts, 0);
	load(&tr, &te, d, 8, 3);
	CHECK_EQ_L(tr.x[0], 90);
	CHECK_EQ_L(tr.n, 2);
	data_free(&tr), data_free(&te);

	snprintf(p, sizeof(p), "%s/train/b/2.png", d);
	write_png(p, b, 8, 8, 1, 0);
	load(&tr, &te, d, 8, 3);
	CHECK_EQ_L(tr.n, 3);
	data_free(&tr), data_free(&te);

	/* A damaged cache is rebuilt, not trusted. */
	snprintf(p, sizeof(p), "truncate -s 100 %s/.nachos-cache/folder-r8-auto.cache", d);
	CHECK(system(p) == 0);
	load(&tr, &te, d, 8, 3);
	CHECK_EQ_L(tr.n, 3);
	CHECK_EQ_L(tr.x[0], 90);
	data_free(&tr), data_free(&te);
}

/* SVHN: X transposed from column-major, 10 read as the digit 0, plain and
 * compressed files. */
static void
test_mat(void)
{
	struct data_set tr, te;
	char d[128], p[256];
	int comp, ok, k, r, c;
	long s;

	for (comp = 0; comp < 2; comp++) {
		snprintf(d, sizeof(d), "%s/svhn%d", tmp, comp);
		mkdirs(d, NULL, NULL);
		snprintf(p, sizeof(p), "%s/train_32x32.mat", d);
		write_mat(p, 25, comp);
		snprintf(p, sizeof(p), "%s/test_32x32.mat", d);
		write_mat(p, 12, comp);
		data_load(&tr, &te, d);
		CHECK(strcmp(tr.format, "svhn") == 0);
		CHECK_EQ_L(tr.n, 25);
		CHECK_EQ_L(te.n, 12);
		CHECK_EQ_L(tr.c, 3);
		CHECK_EQ_L(tr.h, 32);
		CHECK_EQ_L(tr.classes, 10);
		for (s = 0, ok = 1; s < 25; s++) {
			ok &= tr.y[s] == (1 + s % 10) % 10;
			for (k = 0; k < 3; k++)
				for (r = 0; r < 32; r++)
					for (c = 0; c < 32; c++)
						ok &= tr.x[((s * 3 + k) * 32 + r) * 32 + c] == mat_px(s, k, r, c);
		}
		CHECK(ok);
		CHECK_EQ_L(tr.y[9], 0);
		CHECK_EQ_L(te.y[0], 1);
		data_free(&tr);
		data_free(&te);
	}
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "folder") == 0)
		return gen_folder(argc, argv);
	if (argc > 1 && strcmp(argv[1], "image") == 0)
		return gen_image_cmd(argc, argv);
	if (argc > 1 && strcmp(argv[1], "mat") == 0) {
		if (argc < 4)
			errx(EX_USAGE, "usage: test_data_img mat PATH N [compressed]");
		write_mat(argv[2], atol(argv[3]), argc > 4);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "idx2folder") == 0)
		return gen_idx2folder(argc, argv);
	snprintf(tmp, sizeof(tmp), "/tmp/test_data_img.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		err(1, "mkdtemp");
	test_png_exact();
	test_resize();
	test_jpeg();
	test_cache_rebuilt();
	test_mat();
	sh("rm -rf %s", tmp);
	(void)sorted_index;
	return unit_done("data_img");
}
