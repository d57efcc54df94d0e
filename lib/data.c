/* data.c - see data.h and formats/dataset.md. */
#define _GNU_SOURCE
#include "data.h"

#include <err.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>

#include "nachos.h"
#include "nn.h"

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		err(EX_SOFTWARE, "malloc %zu", n);
	return p;
}

/* A header's sizes against the file before anything is allocated: a plain
 * file must hold the need bytes it declares; a gzip file's size says little
 * of what it holds, so deflate's largest ratio (1032:1) bounds it. */
static void
check_size(gzFile g, const char *path, size_t need, const char *what)
{
	struct stat st;
	double most;

	if (stat(path, &st) != 0)
		err(EX_NOINPUT, "%s", path);
	most = gzdirect(g) ? (double)st.st_size : 1032.0 * st.st_size + 1024;
	if ((double)need > most)
		errx(EX_DATAERR, "%s: truncated: the header declares %s (%zu bytes), "
		    "the file holds %s%lld", path, what, need, gzdirect(g) ? "" : "at most ",
		    (long long)most);
}

/* Read n bytes (known to fit the file, check_size) into a new buffer that
 * grows with what gzip actually gives, so a compressed file that lies still
 * costs no more memory than it holds. */
static uint8_t *
gz_read_all(gzFile g, size_t n, const char *path)
{
	size_t cap = n < ((size_t)1 << 16) ? n : (size_t)1 << 16, got = 0;
	uint8_t *p = xmalloc(cap);

	while (got < n) {
		unsigned chunk;
		int r;

		if (got == cap) {
			cap = cap > n / 2 ? n : 2 * cap;
			if ((p = realloc(p, cap)) == NULL)
				err(EX_SOFTWARE, "%s: %zu bytes", path, cap);
		}
		chunk = cap - got > (1u << 30) ? 1u << 30 : (unsigned)(cap - got);
		if ((r = gzread(g, p + got, chunk)) < 0) {
			int e;
			errx(EX_DATAERR, "%s: %s", path, gzerror(g, &e));
		}
		if (r == 0)
			errx(EX_DATAERR, "%s: truncated (%zu of %zu bytes)", path, got, n);
		got += r;
	}
	return p;
}

/* gzopen reads plain files transparently, so one reader serves both. */
static gzFile
gz_open(const char *path)
{
	gzFile g = gzopen(path, "rb");

	if (g == NULL)
		err(EX_NOINPUT, "%s", path);
	gzbuffer(g, 1 << 17);
	return g;
}

/* Read exactly n bytes; 0 at a clean end of file when eof_ok and nothing
 * was read, else exits EX_DATAERR on a short read. */
static int
gz_read(gzFile g, void *buf, size_t n, const char *path, int eof_ok)
{
	size_t got = 0;

	while (got < n) {
		unsigned chunk = n - got > (1u << 30) ? 1u << 30 : (unsigned)(n - got);
		int r = gzread(g, (char *)buf + got, chunk);
		if (r < 0) {
			int e;
			errx(EX_DATAERR, "%s: %s", path, gzerror(g, &e));
		}
		if (r == 0)
			break;
		got += r;
	}
	if (got == n)
		return 1;
	if (got == 0 && eof_ok)
		return 0;
	errx(EX_DATAERR, "%s: truncated (%zu of %zu bytes)", path, got, n);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* An IDX header: magic 0 0 0x08 ndim, then ndim big-endian sizes. */
static void
idx_header(gzFile g, const char *path, int ndim, uint32_t *dims)
{
	uint8_t b[16];
	int i;

	gz_read(g, b, 4 + 4 * ndim, path, 0);
	if (b[0] != 0 || b[1] != 0 || b[2] != 0x08 || b[3] != ndim)
		errx(EX_DATAERR, "%s: not an IDX file of unsigned bytes with %d dimensions",
		    path, ndim);
	for (i = 0; i < ndim; i++)
		dims[i] = be32(b + 4 + 4 * i);
}

static void
set_classes(struct data_set *d, const char *path)
{
	long i;

	d->classes = 0;
	for (i = 0; i < d->n; i++)
		if (d->y[i] >= d->classes)
			d->classes = d->y[i] + 1;
	if (d->classes < 2)
		errx(EX_DATAERR, "%s: fewer than 2 classes", path);
}

void
data_load_idx(struct data_set *d, const char *images, const char *labels)
{
	uint32_t di[3], dl[1];
	char what[64];
	uint8_t *lab;
	gzFile g;
	size_t sz;
	long i;

	memset(d, 0, sizeof(*d));
	snprintf(d->format, sizeof(d->format), "idx");
	g = gz_open(images);
	idx_header(g, images, 3, di);
	if (di[0] == 0 || di[1] == 0 || di[2] == 0 || di[0] > INT_MAX ||
	    di[1] > 4096 || di[2] > 4096)
		errx(EX_DATAERR, "%s: bad sizes %u x %u x %u", images, di[0], di[1], di[2]);
	d->n = di[0], d->c = 1, d->h = di[1], d->w = di[2];
	sz = (size_t)d->n * d->h * d->w;
	snprintf(what, sizeof(what), "%ld images of %dx%d", d->n, d->h, d->w);
	check_size(g, images, 16 + sz, what);
	d->x = gz_read_all(g, sz, images);
	gzclose(g);

	g = gz_open(labels);
	idx_header(g, labels, 1, dl);
	if (dl[0] != di[0])
		errx(EX_DATAERR, "%s: %u labels for %u images", labels, dl[0], di[0]);
	snprintf(what, sizeof(what), "%ld labels", d->n);
	check_size(g, labels, 8 + (size_t)d->n, what);
	lab = gz_read_all(g, d->n, labels);
	gzclose(g);
	d->y = xmalloc(d->n * sizeof(*d->y));
	for (i = 0; i < d->n; i++)
		d->y[i] = lab[i];
	free(lab);
	set_classes(d, labels);
}

void
data_load_raw(struct data_set *d, const char *path)
{
	uint8_t b[32], *lab;
	char what[64];
	size_t sz;
	gzFile g;
	long i;

	memset(d, 0, sizeof(*d));
	snprintf(d->format, sizeof(d->format), "raw");
	g = gz_open(path);
	gz_read(g, b, 32, path, 0);
	if (memcmp(b, "NACHOSDS", 8) != 0 || le32(b + 8) != 1)
		errx(EX_DATAERR, "%s: not a nachos raw dataset (version 1)", path);
	if (le32(b + 12) == 0 || le32(b + 12) > INT_MAX || le32(b + 16) == 0 ||
	    le32(b + 16) > DATA_MAX_CH || le32(b + 20) == 0 || le32(b + 20) > 4096 ||
	    le32(b + 24) == 0 || le32(b + 24) > 4096 || le32(b + 28) < 2 ||
	    le32(b + 28) > 65535)
		errx(EX_DATAERR, "%s: bad header sizes", path);
	d->n = le32(b + 12), d->c = le32(b + 16), d->h = le32(b + 20);
	d->w = le32(b + 24), d->classes = le32(b + 28);
	sz = (size_t)d->n * d->c * d->h * d->w;
	snprintf(what, sizeof(what), "%ld images of %dx%dx%d", d->n, d->c, d->h, d->w);
	check_size(g, path, 32 + sz + 2 * (size_t)d->n, what);
	d->x = gz_read_all(g, sz, path);
	lab = gz_read_all(g, 2 * (size_t)d->n, path);
	if (gzgetc(g) != -1)
		errx(EX_DATAERR, "%s: trailing bytes after the labels", path);
	gzclose(g);
	d->y = xmalloc(d->n * sizeof(*d->y));
	for (i = 0; i < d->n; i++) {
		d->y[i] = lab[2 * i] | lab[2 * i + 1] << 8;
		if (d->y[i] >= d->classes)
			errx(EX_DATAERR, "%s: label %d of sample %ld not below %d classes",
			    path, d->y[i], i, d->classes);
	}
	free(lab);
}

/* CIFAR binary: records of `skip` label bytes (the label used is the last
 * of them: CIFAR-100's fine label) and a 3x32x32 image, appended to d. */
static void
cifar_append(struct data_set *d, const char *path, int skip, long *cap)
{
	uint8_t rec[2 + 3072];
	gzFile g = gz_open(path);
	long before = d->n;

	while (gz_read(g, rec, skip + 3072, path, 1)) {
		if (d->n == *cap) {
			*cap = *cap ? 2 * *cap : 10000;
			if ((d->x = realloc(d->x, *cap * 3072)) == NULL ||
			    (d->y = realloc(d->y, *cap * sizeof(*d->y))) == NULL)
				err(EX_SOFTWARE, "realloc");
		}
		/* Checked here, while the file being read is known. */
		if (rec[skip - 1] >= d->classes)
			errx(EX_DATAERR, "%s: record %ld: label %d not below %d", path,
			    d->n - before + 1, rec[skip - 1], d->classes);
		memcpy(d->x + (size_t)d->n * 3072, rec + skip, 3072);
		d->y[d->n++] = rec[skip - 1];
	}
	gzclose(g);
	if (d->n == before)
		errx(EX_DATAERR, "%s: no records", path);
}

static void
cifar_load(struct data_set *d, char *const *paths, int np, int classes)
{
	long cap = 0;
	int k;

	memset(d, 0, sizeof(*d));
	snprintf(d->format, sizeof(d->format), classes == 10 ? "cifar10" : "cifar100");
	d->c = 3, d->h = d->w = 32, d->classes = classes;
	for (k = 0; k < np; k++)
		cifar_append(d, paths[k], classes == 10 ? 1 : 2, &cap);
}

/* dir/name or dir/name.gz if either exists (malloc'd), else NULL. */
static char *
find(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		err(EX_SOFTWARE, "asprintf");
	if (access(p, R_OK) == 0)
		return p;
	free(p);
	if (asprintf(&p, "%s/%s.gz", dir, name) < 0)
		err(EX_SOFTWARE, "asprintf");
	if (access(p, R_OK) == 0)
		return p;
	free(p);
	return NULL;
}

static int
try_idx(struct data_set *tr, struct data_set *te, const char *dir)
{
	/* Fashion-MNIST and MNIST spell the names with '-' or '.'. */
	static const char *const names[2][4] = {
		{ "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
		  "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" },
		{ "train-images.idx3-ubyte", "train-labels.idx1-ubyte",
		  "t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte" },
	};
	char *p[4];
	int s, i, all;

	for (s = 0; s < 2; s++) {
		for (i = 0, all = 1; i < 4; i++)
			all &= (p[i] = find(dir, names[s][i])) != NULL;
		if (all) {
			data_load_idx(tr, p[0], p[1]);
			data_load_idx(te, p[2], p[3]);
			if (te->h != tr->h || te->w != tr->w)
				errx(EX_DATAERR, "%s: test images are %dx%d, train %dx%d",
				    p[2], te->h, te->w, tr->h, tr->w);
			if (te->classes > tr->classes)
				errx(EX_DATAERR, "%s: test label %d unseen in train",
				    p[3], te->classes - 1);
			te->classes = tr->classes;
		}
		for (i = 0; i < 4; i++)
			free(p[i]);
		if (all)
			return 1;
	}
	return 0;
}

static int
try_cifar(struct data_set *tr, struct data_set *te, const char *dir)
{
	char *p[6], *sub[2];
	int i, all, found = 0;

	if (asprintf(&sub[0], "%s/cifar-10-batches-bin", dir) < 0 ||
	    asprintf(&sub[1], "%s/cifar-100-binary", dir) < 0)
		err(EX_SOFTWARE, "asprintf");
	for (i = 0; i < 2 && !found; i++) {
		const char *dd = i == 0 ? dir : sub[0];
		char name[32];
		int k;

		for (k = 0, all = 1; k < 5; k++) {
			snprintf(name, sizeof(name), "data_batch_%d.bin", k + 1);
			all &= (p[k] = find(dd, name)) != NULL;
		}
		all &= (p[5] = find(dd, "test_batch.bin")) != NULL;
		if (all) {
			cifar_load(tr, p, 5, 10);
			cifar_load(te, p + 5, 1, 10);
			found = 1;
		}
		for (k = 0; k < 6; k++)
			free(p[k]);
	}
	for (i = 0; i < 2 && !found; i++) {
		const char *dd = i == 0 ? dir : sub[1];

		p[0] = find(dd, "train.bin");
		p[1] = find(dd, "test.bin");
		if (p[0] && p[1]) {
			cifar_load(tr, p, 1, 100);
			cifar_load(te, p + 1, 1, 100);
			found = 1;
		}
		free(p[0]);
		free(p[1]);
	}
	free(sub[0]);
	free(sub[1]);
	return found;
}

static int
try_raw(struct data_set *tr, struct data_set *te, const char *dir)
{
	char *p = find(dir, "train.nds"), *q = find(dir, "test.nds");
	int ok = p && q;

	if (ok) {
		data_load_raw(tr, p);
		data_load_raw(te, q);
		if (te->c != tr->c || te->h != tr->h || te->w != tr->w ||
		    te->classes != tr->classes)
			errx(EX_DATAERR, "%s: shape or classes differ from %s", q, p);
	}
	free(p);
	free(q);
	return ok;
}

void
data_load_opts(struct data_set *train, struct data_set *test, const char *dir,
    const struct data_opts *o)
{
	static const struct data_opts def = DATA_OPTS_DEFAULT;

	if (access(dir, R_OK | X_OK) != 0)
		err(EX_NOINPUT, "%s", dir);
	if (!try_idx(train, test, dir) && !try_cifar(train, test, dir) &&
	    !try_raw(train, test, dir) && !data_load_svhn(train, test, dir) &&
	    !data_load_folder(train, test, dir, o ? o : &def))
		errx(EX_NOINPUT, "%s: no dataset found (IDX, CIFAR-10/100 binary, SVHN "
		    "train_32x32.mat/test_32x32.mat, train.nds/test.nds or a train/CLASS/ "
		    "image folder)", dir);
}

void
data_load(struct data_set *train, struct data_set *test, const char *dir)
{
	data_load_opts(train, test, dir, NULL);
}

void
data_free(struct data_set *d)
{
	int k;

	for (k = 0; d->class_names && k < d->classes; k++)
		free(d->class_names[k]);
	free(d->class_names);
	free(d->x);
	free(d->y);
	memset(d, 0, sizeof(*d));
}

void
data_quota(long *q, const long *count, int K, long total)
{
	long sum = 0, left = total;
	int k;

	for (k = 0; k < K; k++)
		sum += count[k];
	for (k = 0; k < K; k++) {
		q[k] = sum ? (long)((long long)total * count[k] / sum) : 0;
		left -= q[k];
	}
	/* Largest remainder first; at most K-1 rounds. */
	while (left > 0 && sum > 0) {
		long long best = -1;
		int bk = -1;

		for (k = 0; k < K; k++) {
			long long rem = (long long)total * count[k] % sum;
			if (q[k] < count[k] && rem > best &&
			    (long long)q[k] * sum <= (long long)total * count[k]) {
				best = rem;
				bk = k;
			}
		}
		if (bk < 0)
			break;
		q[bk]++;
		left--;
	}
}

static int
cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

void
data_split(int32_t **tr, long *ntr, int32_t **va, long *nva,
    const struct data_set *d, long subset, double val_frac, uint64_t seed)
{
	int K = d->classes, k;
	long *count = calloc(K, sizeof(long)), *start = calloc(K + 1, sizeof(long));
	long *keep = calloc(K, sizeof(long)), *qv = calloc(K, sizeof(long));
	int32_t *perm = xmalloc(d->n * sizeof(int32_t)), *byc = xmalloc(d->n * sizeof(int32_t));
	long i, kept = 0, *fill = calloc(K, sizeof(long));
	struct nn_rng rng;

	if (!count || !start || !keep || !qv || !fill)
		err(EX_SOFTWARE, "calloc");
	nn_rng_seed(&rng, seed);
	for (i = 0; i < d->n; i++)
		perm[i] = i;
	rng_shuffle(perm, d->n, &rng);
	/* Bucket by class keeping the shuffled order: each class's prefix is
	 * then a random sample of it. */
	for (i = 0; i < d->n; i++)
		count[d->y[i]]++;
	for (k = 0; k < K; k++)
		start[k + 1] = start[k] + count[k];
	for (i = 0; i < d->n; i++) {
		k = d->y[perm[i]];
		byc[start[k] + fill[k]++] = perm[i];
	}
	if (subset > 0 && subset < d->n)
		data_quota(keep, count, K, subset);
	else
		memcpy(keep, count, K * sizeof(long));
	for (k = 0; k < K; k++)
		kept += keep[k];
	data_quota(qv, keep, K, lround(val_frac * kept));
	*nva = 0;
	for (k = 0; k < K; k++)
		*nva += qv[k];
	*ntr = kept - *nva;
	*tr = xmalloc(*ntr * sizeof(int32_t));
	*va = xmalloc(*nva * sizeof(int32_t));
	{
		long a = 0, b = 0, j;

		/* Training from the head of each class's shuffled order,
		 * validation from its tail: runs with the same seed but
		 * different subsets (the supernet's and a candidate's) then
		 * never train on each other's validation images while the
		 * two together fit in the class. */
		for (k = 0; k < K; k++) {
			for (j = 0; j < keep[k] - qv[k]; j++)
				(*tr)[a++] = byc[start[k] + j];
			for (j = 0; j < qv[k]; j++)
				(*va)[b++] = byc[start[k + 1] - 1 - j];
		}
	}
	qsort(*tr, *ntr, sizeof(int32_t), cmp_i32);
	qsort(*va, *nva, sizeof(int32_t), cmp_i32);
	free(count), free(start), free(keep), free(qv), free(fill);
	free(perm), free(byc);
}

void
data_norm_fit(struct data_norm *nm, const struct data_set *d, const int32_t *idx, long n)
{
	long hw = (long)d->h * d->w, i, p;
	int c;

	nm->c = d->c;
	for (c = 0; c < d->c; c++) {
		/* Integer sums are exact; 2^64 covers 2^32 images of 4096^2. */
		uint64_t s = 0, s2 = 0;
		double m, v;

		for (i = 0; i < n; i++) {
			const uint8_t *px = d->x + ((size_t)idx[i] * d->c + c) * hw;
			for (p = 0; p < hw; p++) {
				s += px[p];
				s2 += (uint64_t)px[p] * px[p];
			}
		}
		m = (double)s / ((double)n * hw);
		v = (double)s2 / ((double)n * hw) - m * m;
		nm->mean[c] = (float)(m / 255.0);
		nm->std[c] = v > 0 ? (float)(sqrt(v) / 255.0) : 1.0f;
	}
}

/* data_batch's fill of one image, a task. */
struct batch_job {
	float *x;
	const struct data_set *d;
	const int32_t *idx;
	int N, C, R, top, left;
	const int *sy, *sx, *fl;
	float (*lut)[256];
};

static void
batch_task(void *arg, long j)
{
	const struct batch_job *b = arg;
	const struct data_set *d = b->d;
	int c, R = b->R;

	for (c = 0; c < b->C; c++) {
		int sc = d->c == 1 ? 0 : c, yy, xx;
		const uint8_t *img = d->x + ((size_t)b->idx[j] * d->c + sc) * d->h * d->w;
		float *o = b->x + ((size_t)c * b->N + j) * R * R;

		for (yy = 0; yy < R; yy++) {
			int iy = yy + b->sy[j] - b->top;
			for (xx = 0; xx < R; xx++) {
				int ix = (b->fl[j] ? R - 1 - xx : xx) + b->sx[j] - b->left;
				o[yy * R + xx] = iy >= 0 && iy < d->h && ix >= 0 && ix < d->w ?
				    b->lut[sc][img[iy * d->w + ix]] : 0.0f;
			}
		}
	}
}

void
data_batch(float *x, int *y, const struct data_set *d, const int32_t *idx, int N,
    int C, int R, const struct data_norm *nm, const struct data_aug *aug,
    struct nn_rng *rng)
{
	int pad = aug ? aug->pad : 0, flip = aug ? aug->flip : 0;
	int top = (R - d->h) / 2, left = (R - d->w) / 2;
	int *sy = xmalloc(3 * N * sizeof(int)), *sx = sy + N, *fl = sx + N;
	float lut[DATA_MAX_CH][256];
	int c, j, v;

	if (!(C == d->c || (d->c == 1 && C == 3)))
		errx(EX_SOFTWARE, "data_batch: %d channels from a %d-channel dataset", C, d->c);
	for (c = 0; c < d->c; c++)
		for (v = 0; v < 256; v++)
			lut[c][v] = ((float)v / 255.0f - nm->mean[c]) / nm->std[c];
	/* Draws in sample order before the parallel fill: the batch depends on
	 * the seed only, never on the thread count. */
	for (j = 0; j < N; j++) {
		sy[j] = pad ? (int)(nn_rng_u32(rng) % (2 * pad + 1)) - pad : 0;
		sx[j] = pad ? (int)(nn_rng_u32(rng) % (2 * pad + 1)) - pad : 0;
		fl[j] = flip ? (int)(nn_rng_u32(rng) & 1) : 0;
		y[j] = d->y[idx[j]];
	}
	{
		struct batch_job b = { x, d, idx, N, C, R, top, left, sy, sx, fl, lut };

		nn_par(N, (long)N * C * R * R, batch_task, &b);
	}
	free(sy);
}
