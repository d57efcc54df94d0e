/*
 * data_img.c - image folders (torchvision's ImageFolder layout): PNG and
 * JPEG files decoded with libpng and libjpeg-turbo, resized to the network
 * resolution, kept in a cache reused while the folder is unchanged. See
 * data.h and formats/dataset.md.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <omp.h>
#include <png.h>

#include "cli.h"
#include "data.h"
#include "nachos.h"

#define IMG_MAX_FILE (256L << 20)      /* bytes of one image file */
#define IMG_MAX_PIXELS (64L << 20)     /* pixels of one decoded image */
#define IMG_MAX_FILES INT32_MAX
#define IMG_CACHE_VERSION 1
#define WHY 256                        /* room for a decoder's message */

/* One split: its files, in class then name order. */
struct img_list {
	char *root;                  /* DIR/train */
	int nclass;
	char **class;                /* (nclass) names, sorted */
	long n, cap;
	char **path;                 /* (n) */
	int32_t *label;              /* (n) */
	uint64_t fp;                 /* fingerprint of names, sizes, mtimes */
};

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n--)
		h = (h ^ *s++) * 0x100000001b3ULL;
	return h;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir that do not start with '.', sorted; *n gets the count. */
static char **
list_dir(const char *dir, long *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	long cap = 0;

	if (d == NULL)
		err(EX_NOINPUT, "%s", dir);
	*n = 0;
	while ((errno = 0, e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			if ((v = realloc(v, cap * sizeof(*v))) == NULL)
				err(EX_SOFTWARE, "realloc");
		}
		if ((v[(*n)++] = strdup(e->d_name)) == NULL)
			err(EX_SOFTWARE, "strdup");
	}
	if (errno)
		err(EX_IOERR, "%s", dir);
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static char *
join(const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		err(EX_SOFTWARE, "asprintf");
	return p;
}

static void
list_free(struct img_list *l)
{
	long i;

	for (i = 0; i < l->n; i++)
		free(l->path[i]);
	for (i = 0; i < l->nclass; i++)
		free(l->class[i]);
	free(l->path), free(l->label), free(l->class), free(l->root);
	memset(l, 0, sizeof(*l));
}

/* Scan root/CLASS/FILE. Classes are the sub-directories (sorted by name);
 * every other entry not starting with '.' is an image file. An empty class
 * folder, a file at the top, a folder inside a class or fewer than
 * min_classes classes is an error. */
static void
list_scan(struct img_list *l, const char *root, int min_classes)
{
	long nc, nf, i, j;
	char **cls = list_dir(root, &nc);
	struct stat st;

	memset(l, 0, sizeof(*l));
	l->root = strdup(root);
	l->fp = 0xcbf29ce484222325ULL;
	for (i = 0; i < nc; i++) {
		char *cdir = join(root, cls[i]);
		char **fs;

		if (stat(cdir, &st) != 0)
			err(EX_NOINPUT, "%s", cdir);
		if (!S_ISDIR(st.st_mode))
			errx(EX_DATAERR, "%s: not a class folder (%s/CLASS/IMAGE is the layout)",
			    cdir, root);
		if (l->nclass == 65535)
			errx(EX_DATAERR, "%s: more than 65535 classes", root);
		fs = list_dir(cdir, &nf);
		if (nf == 0)
			errx(EX_DATAERR, "%s: empty class folder", cdir);
		l->fp = fnv(l->fp, cls[i], strlen(cls[i]) + 1);
		for (j = 0; j < nf; j++) {
			char *p = join(cdir, fs[j]);

			if (stat(p, &st) != 0)
				err(EX_NOINPUT, "%s", p);
			if (!S_ISREG(st.st_mode))
				errx(EX_DATAERR, "%s: not a regular file (class folders hold "
				    "images only)", p);
			if (l->n == IMG_MAX_FILES)
				errx(EX_DATAERR, "%s: more than %d images", root, IMG_MAX_FILES);
			if (l->n == l->cap) {
				l->cap = l->cap ? 2 * l->cap : 1024;
				if ((l->path = realloc(l->path, l->cap * sizeof(char *))) == NULL ||
				    (l->label = realloc(l->label, l->cap * sizeof(int32_t))) == NULL)
					err(EX_SOFTWARE, "realloc");
			}
			l->fp = fnv(l->fp, fs[j], strlen(fs[j]) + 1);
			l->fp = fnv(l->fp, &st.st_size, sizeof(st.st_size));
			l->fp = fnv(l->fp, &st.st_mtim.tv_sec, sizeof(st.st_mtim.tv_sec));
			l->fp = fnv(l->fp, &st.st_mtim.tv_nsec, sizeof(st.st_mtim.tv_nsec));
			l->path[l->n] = p;
			l->label[l->n++] = l->nclass;
			free(fs[j]);
		}
		free(fs);
		free(cdir);
		l->class = realloc(l->class, (l->nclass + 1) * sizeof(char *));
		if (l->class == NULL)
			err(EX_SOFTWARE, "realloc");
		l->class[l->nclass++] = cls[i];
	}
	free(cls);
	if (l->nclass < min_classes)
		errx(EX_DATAERR, "%s: %d class folder%s, need at least %d", root, l->nclass,
		    l->nclass == 1 ? "" : "s", min_classes);
}

/* ---- decoding ---- */

/* A decoded image: h rows of w pixels of c (1 or 3) interleaved bytes. */
struct img {
	int w, h, c;
	uint8_t *px;                 /* (h, w, c) */
};

static int
decode_png(struct img *im, const uint8_t *buf, size_t n, int grey, char *why)
{
	png_image pi;

	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&pi, buf, n)) {
		snprintf(why, WHY, "PNG: %s", pi.message);
		return 0;
	}
	if ((long)pi.width * pi.height > IMG_MAX_PIXELS) {
		snprintf(why, WHY, "%ux%u pixels, more than %ld", pi.width, pi.height,
		    IMG_MAX_PIXELS);
		png_image_free(&pi);
		return 0;
	}
	im->w = pi.width, im->h = pi.height;
	im->c = !grey && (pi.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
	pi.format = im->c == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
	im->px = malloc((size_t)im->w * im->h * im->c);
	if (im->px == NULL)
		err(EX_SOFTWARE, "malloc");
	if (!png_image_finish_read(&pi, NULL, im->px, 0, NULL)) {
		snprintf(why, WHY, "PNG: %s", pi.message);
		png_image_free(&pi);
		return 0;
	}
	return 1;
}

struct jerr {
	struct jpeg_error_mgr mgr;
	jmp_buf jb;
	char *why;
};

static void
jpeg_fail(j_common_ptr ci)
{
	struct jerr *e = (struct jerr *)ci->err;
	char msg[JMSG_LENGTH_MAX];

	ci->err->format_message(ci, msg);
	snprintf(e->why, WHY, "JPEG: %s", msg);
	longjmp(e->jb, 1);
}

/* libjpeg only warns on a truncated or corrupt file and fills the rest in
 * grey: here every warning is an error. */
static void
jpeg_warn(j_common_ptr ci, int level)
{
	if (level < 0)
		jpeg_fail(ci);
}

/* res: the size the image goes to; libjpeg's DCT scaling (1/2, 1/4, 1/8)
 * decodes large images at the smallest scale still at least res. */
static int
decode_jpeg(struct img *im, const uint8_t *buf, size_t n, int grey, int res, char *why)
{
	struct jpeg_decompress_struct ci;
	struct jerr je;
	uint8_t *volatile px = NULL;
	unsigned short_side, d;

	ci.err = jpeg_std_error(&je.mgr);
	je.mgr.error_exit = jpeg_fail;
	je.mgr.emit_message = jpeg_warn;
	je.why = why;
	if (setjmp(je.jb)) {
		jpeg_destroy_decompress(&ci);
		free(px);
		return 0;
	}
	jpeg_create_decompress(&ci);
	jpeg_mem_src(&ci, buf, n);
	jpeg_read_header(&ci, TRUE);
	if ((long)ci.image_width * ci.image_height > IMG_MAX_PIXELS) {
		snprintf(why, WHY, "%ux%u pixels, more than %ld", ci.image_width,
		    ci.image_height, IMG_MAX_PIXELS);
		jpeg_destroy_decompress(&ci);
		return 0;
	}
	if (ci.num_components != 1 && ci.num_components != 3) {
		snprintf(why, WHY, "JPEG with %d channels (only grey and colour are read)",
		    ci.num_components);
		jpeg_destroy_decompress(&ci);
		return 0;
	}
	im->c = grey || ci.num_components == 1 ? 1 : 3;
	ci.out_color_space = im->c == 3 ? JCS_RGB : JCS_GRAYSCALE;
	short_side = ci.image_width < ci.image_height ? ci.image_width : ci.image_height;
	for (d = 8; d > 1 && short_side / d < (unsigned)res; d /= 2)
		;
	ci.scale_num = 1, ci.scale_denom = d;
	jpeg_start_decompress(&ci);
	im->w = ci.output_width, im->h = ci.output_height;
	px = malloc((size_t)im->w * im->h * im->c);
	if (px == NULL)
		err(EX_SOFTWARE, "malloc");
	while (ci.output_scanline < ci.output_height) {
		JSAMPROW row = px + (size_t)ci.output_scanline * im->w * im->c;
		jpeg_read_scanlines(&ci, &row, 1);
	}
	jpeg_finish_decompress(&ci);
	jpeg_destroy_decompress(&ci);
	im->px = px;
	return 1;
}

/* Decode path by its content (PNG or JPEG signature), grey when asked. */
static int
img_decode(struct img *im, const char *path, int grey, int res, char *why)
{
	uint8_t *buf;
	struct stat st;
	size_t got = 0;
	int fd, ok = 0;
	ssize_t r;

	memset(im, 0, sizeof(*im));
	if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) != 0) {
		snprintf(why, WHY, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (st.st_size > IMG_MAX_FILE) {
		snprintf(why, WHY, "%lld bytes, more than an image file may have",
		    (long long)st.st_size);
		close(fd);
		return 0;
	}
	buf = malloc(st.st_size + 1);
	if (buf == NULL)
		err(EX_SOFTWARE, "malloc");
	while (got < (size_t)st.st_size && (r = read(fd, buf + got, st.st_size - got)) > 0)
		got += r;
	close(fd);
	if (got >= 8 && memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0)
		ok = decode_png(im, buf, got, grey, why);
	else if (got >= 3 && memcmp(buf, "\xff\xd8\xff", 3) == 0)
		ok = decode_jpeg(im, buf, got, grey, res, why);
	else
		snprintf(why, WHY, "not a PNG or JPEG file");
	free(buf);
	return ok;
}

/* ---- resizing ---- */

/* One axis of the resampling: output o takes n[o] source samples from
 * start[o] on, with weights wt[o * taps ...]. */
struct axis {
	int taps;
	int *start, *n;
	float *wt;
};

/* Map the source span [off, off + side) onto out samples. Shrinking
 * averages the area each output pixel covers; enlarging interpolates
 * bilinearly between pixel centres; side == out copies exactly. */
static void
axis_make(struct axis *a, int off, int side, int out)
{
	double s = (double)side / out;
	int o;

	a->taps = s > 1 ? (int)ceil(s) + 1 : 2;
	a->start = cli_calloc(out, sizeof(int));
	a->n = cli_calloc(out, sizeof(int));
	a->wt = cli_calloc((size_t)out * a->taps, sizeof(float));
	for (o = 0; o < out; o++) {
		float *w = a->wt + (size_t)o * a->taps;

		if (s > 1) {
			double lo = o * s, hi = (o + 1) * s;
			int i = (int)floor(lo), k = 0;

			for (; i < hi && i < side && k < a->taps; i++, k++) {
				double ov = fmin(hi, i + 1) - fmax(lo, i);
				w[k] = (float)(ov / s);
			}
			a->start[o] = off + (int)floor(lo);
			a->n[o] = k;
		} else {
			double x = (o + 0.5) * s - 0.5;
			int i = (int)floor(x);
			double f = x - i;

			if (x <= 0)
				i = 0, f = 0;
			if (i >= side - 1)
				i = side - 1, f = 0;
			a->start[o] = off + i;
			a->n[o] = f > 0 ? 2 : 1;
			w[0] = (float)(1 - f);
			w[1] = (float)f;
		}
	}
}

static void
axis_free(struct axis *a)
{
	free(a->start), free(a->n), free(a->wt);
}

/* Shorter side to R, then the centre R x R: out (C, R, R) from im; a grey
 * image feeds every one of C = 3 planes. tmp has room for side * R floats. */
static void
img_resize(uint8_t *out /* (C, R, R) */, const struct img *im, int C, int R,
    float *tmp /* (side, R) */)
{
	int side = im->w < im->h ? im->w : im->h;
	int x0 = (im->w - side) / 2, y0 = (im->h - side) / 2, c, y, x, k;
	struct axis ax, ay;

	axis_make(&ax, x0, side, R);
	axis_make(&ay, y0, side, R);
	for (c = 0; c < C; c++) {
		int sc = im->c == 1 ? 0 : c;

		for (y = 0; y < side; y++) {
			const uint8_t *row = im->px + ((size_t)(y0 + y) * im->w) * im->c + sc;
			for (x = 0; x < R; x++) {
				const float *w = ax.wt + (size_t)x * ax.taps;
				float s = 0;
				for (k = 0; k < ax.n[x]; k++)
					s += w[k] * row[(size_t)(ax.start[x] + k) * im->c];
				tmp[(size_t)y * R + x] = s;
			}
		}
		for (y = 0; y < R; y++) {
			const float *w = ay.wt + (size_t)y * ay.taps;
			for (x = 0; x < R; x++) {
				float s = 0;
				for (k = 0; k < ay.n[y]; k++)
					s += w[k] * tmp[(size_t)(ay.start[y] - y0 + k) * R + x];
				s = roundf(s);
				out[((size_t)c * R + y) * R + x] = s < 0 ? 0 : s > 255 ? 255 : (uint8_t)s;
			}
		}
	}
	axis_free(&ax);
	axis_free(&ay);
}

/* ---- decoding a split ---- */

/* Decode every file of l into d at R x R, three planes (the grey ones
 * repeated) unless grey; bad[i] gets 1 for a file that failed, *first the
 * message of the first one. Returns the count of colour images. */
static long
decode_list(struct data_set *d, char *bad, char **first, const struct img_list *l,
    int grey, int R, struct cli_progress *p, long *done)
{
	int C = grey ? 1 : 3;
	long i, colour = 0, firstbad = l->n;

	d->n = l->n, d->c = C, d->h = d->w = R;
	d->x = cli_calloc((size_t)l->n * C * R * R, 1);
	d->y = cli_calloc(l->n, sizeof(int32_t));
	memcpy(d->y, l->label, l->n * sizeof(int32_t));
#pragma omp parallel for schedule(dynamic, 16) reduction(+:colour)
	for (i = 0; i < l->n; i++) {
		char why[WHY];
		struct img im;

		if (img_decode(&im, l->path[i], grey, R, why)) {
			int side = im.w < im.h ? im.w : im.h;
			float *tmp = malloc((size_t)side * R * sizeof(float));

			if (tmp == NULL)
				err(EX_SOFTWARE, "malloc");
			img_resize(d->x + (size_t)i * C * R * R, &im, C, R, tmp);
			colour += im.c == 3;
			free(tmp);
			free(im.px);
			bad[i] = 0;
		} else {
			bad[i] = 1;
#pragma omp critical(data_img_bad)
			if (i < firstbad) {
				firstbad = i;
				free(*first);
				if (asprintf(first, "%s: %s", l->path[i], why) < 0)
					err(EX_SOFTWARE, "asprintf");
			}
		}
		{
			long dn;
#pragma omp atomic capture
			dn = ++*done;
			if (omp_get_thread_num() == 0)
				cli_progress(p, dn, NULL);
		}
	}
	return colour;
}

/* Drop the samples marked bad; with one channel wanted (grey) or every
 * image grey (colour == 0), keep one plane of the three. */
static void
compact(struct data_set *d, const char *bad, int to_grey)
{
	size_t R2 = (size_t)d->h * d->w, in = d->c * R2, out = to_grey ? R2 : in;
	long i, k = 0;

	for (i = 0; i < d->n; i++) {
		if (bad && bad[i])
			continue;
		memmove(d->x + k * out, d->x + i * in, out);
		d->y[k++] = d->y[i];
	}
	d->n = k;
	if (to_grey)
		d->c = 1;
}

/* ---- the cache ---- */

/* Header, host byte order (a cache is the machine's own; one written
 * elsewhere fails the version check and is rebuilt):
 *   0 "NACHOSIC"  8 version  12 res  16 c  20 K  24 fingerprint
 *   32 n train  40 n test  48 bad files  56 strings bytes  60 0
 * then the strings (K class names and the first bad file's message, each
 * NUL-terminated), the train pixels (n, c, res, res) and labels (int32),
 * the test pixels and labels. */
struct cache_hdr {
	char magic[8];
	uint32_t version, res, c, K;
	uint64_t fp, ntr, nte, nbad;
	uint32_t nstr, zero;
};

struct folder {
	struct img_list l[2];        /* train, test */
	uint64_t fp;
	int R, grey;
	long nbad;
	char *first_bad;             /* "path: why" or NULL */
};

/* Make the directory p unless it is there; 1 when it is one we may write. */
static int
writable_dir(const char *p)
{
	struct stat st;

	mkdir(p, 0777);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode) && access(p, W_OK) == 0;
}

/* The cache's path: dir/.nachos-cache when it can be made there, else
 * $XDG_CACHE_HOME/nachos or ~/.cache/nachos (named after dir's real path
 * there); NULL when neither can be made. */
static char *
cache_path(const char *dir, int R, int grey)
{
	const char *mode = grey ? "grey" : "auto";
	char *p = NULL, *base = NULL, *real;
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (asprintf(&base, "%s/.nachos-cache", dir) < 0)
		err(EX_SOFTWARE, "asprintf");
	if (writable_dir(base)) {
		if (asprintf(&p, "%s/folder-r%d-%s.cache", base, R, mode) < 0)
			err(EX_SOFTWARE, "asprintf");
		free(base);
		return p;
	}
	free(base);
	base = NULL;
	if (xdg && *xdg) {
		mkdir(xdg, 0777);
		base = join(xdg, "nachos");
	} else if (home && *home) {
		char *c;

		if (asprintf(&c, "%s/.cache", home) < 0)
			err(EX_SOFTWARE, "asprintf");
		mkdir(c, 0777);
		base = join(c, "nachos");
		free(c);
	}
	if (base == NULL || !writable_dir(base)) {
		free(base);
		return NULL;
	}
	if ((real = realpath(dir, NULL)) == NULL)
		err(EX_NOINPUT, "%s", dir);
	if (asprintf(&p, "%s/%016llx-r%d-%s.cache", base,
	    (unsigned long long)fnv(0xcbf29ce484222325ULL, real, strlen(real)), R, mode) < 0)
		err(EX_SOFTWARE, "asprintf");
	free(real);
	free(base);
	return p;
}

static int
read_all(FILE *f, void *p, size_t n)
{
	return fread(p, 1, n, f) == n;
}

/* Load the cache at path when it is whole and its fingerprint is f's;
 * returns 0 (nothing loaded) otherwise. */
static int
cache_load(struct data_set *ds /* (2) */, struct folder *f, const char *path)
{
	struct cache_hdr h;
	struct stat st;
	FILE *fp = fopen(path, "rb");
	char *str = NULL;
	size_t per, want;
	long i, k;
	int s, ok = 0;

	if (fp == NULL)
		return 0;
	if (fstat(fileno(fp), &st) != 0 || !read_all(fp, &h, sizeof(h)) ||
	    memcmp(h.magic, "NACHOSIC", 8) != 0 || h.version != IMG_CACHE_VERSION ||
	    h.fp != f->fp || h.res != (uint32_t)f->R || (h.c != 1 && h.c != 3) ||
	    h.K != (uint32_t)f->l[0].nclass || h.ntr > (uint64_t)f->l[0].n ||
	    h.nte > (uint64_t)f->l[1].n || h.nstr > (1u << 24))
		goto out;
	per = (size_t)h.c * h.res * h.res + sizeof(int32_t);
	want = sizeof(h) + h.nstr + (h.ntr + h.nte) * per;
	if ((uint64_t)st.st_size != want)
		goto out;
	str = cli_calloc(h.nstr + 1, 1);
	if (!read_all(fp, str, h.nstr))
		goto out;
	for (i = 0, k = 0; i < (long)h.nstr; i++)
		k += str[i] == 0;
	if (k != (long)h.K + 1 || str[h.nstr - 1] != 0)
		goto out;
	for (s = 0; s < 2; s++) {
		struct data_set *d = &ds[s];

		d->n = s ? h.nte : h.ntr, d->c = h.c, d->h = d->w = h.res;
		d->classes = h.K;
		d->x = cli_calloc((size_t)d->n * d->c * d->h * d->w, 1);
		d->y = cli_calloc(d->n, sizeof(int32_t));
		if (!read_all(fp, d->x, (size_t)d->n * d->c * d->h * d->w) ||
		    !read_all(fp, d->y, d->n * sizeof(int32_t)))
			goto out;
		for (i = 0; i < d->n; i++)
			if (d->y[i] < 0 || d->y[i] >= d->classes)
				goto out;
	}
	/* The names were checked against the folder by the fingerprint. */
	f->nbad = h.nbad;
	{
		const char *msg = str;

		for (k = 0; k < (long)h.K; k++)
			msg += strlen(msg) + 1;
		f->first_bad = *msg ? strdup(msg) : NULL;
	}
	ok = 1;
out:
	if (!ok)
		for (s = 0; s < 2; s++)
			free(ds[s].x), free(ds[s].y), ds[s].x = NULL, ds[s].y = NULL;
	free(str);
	fclose(fp);
	return ok;
}

static int
write_all(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n;
}

/* Write the cache to a temporary file and rename it to path; on failure
 * warn and leave nothing behind (the load goes on without a cache). */
static void
cache_write(const struct data_set *ds /* (2) */, const struct folder *f, const char *path)
{
	struct cache_hdr h;
	char *tmp;
	FILE *fp;
	int fd, s, k, ok;
	const char *msg = f->first_bad ? f->first_bad : "";

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, "NACHOSIC", 8);
	h.version = IMG_CACHE_VERSION, h.res = f->R, h.c = ds[0].c, h.K = f->l[0].nclass;
	h.fp = f->fp, h.ntr = ds[0].n, h.nte = ds[1].n, h.nbad = f->nbad;
	for (k = 0; k < f->l[0].nclass; k++)
		h.nstr += strlen(f->l[0].class[k]) + 1;
	h.nstr += strlen(msg) + 1;
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		err(EX_SOFTWARE, "asprintf");
	if ((fd = mkstemp(tmp)) < 0 || (fp = fdopen(fd, "wb")) == NULL) {
		warn("%s: cache not written", tmp);
		if (fd >= 0)
			close(fd), unlink(tmp);
		free(tmp);
		return;
	}
	/* mkstemp makes it private; others who read the data read the cache. */
	fchmod(fd, 0644);
	ok = write_all(fp, &h, sizeof(h));
	for (k = 0; k < f->l[0].nclass; k++)
		ok = ok && write_all(fp, f->l[0].class[k], strlen(f->l[0].class[k]) + 1);
	ok = ok && write_all(fp, msg, strlen(msg) + 1);
	for (s = 0; s < 2; s++)
		ok = ok && write_all(fp, ds[s].x, (size_t)ds[s].n * ds[s].c * ds[s].h * ds[s].w) &&
		    write_all(fp, ds[s].y, ds[s].n * sizeof(int32_t));
	ok = fflush(fp) == 0 && ok;
	ok = fsync(fileno(fp)) == 0 && ok;
	ok = fclose(fp) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		warn("%s: cache not written", path);
		unlink(tmp);
	}
	free(tmp);
}

/* ---- the folder ---- */

/* dir/name when it is a directory (malloc'd), else NULL. */
static char *
subdir(const char *dir, const char *name)
{
	char *p = join(dir, name);
	struct stat st;

	if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
		return p;
	free(p);
	return NULL;
}

/* The test split's labels are the train split's class numbers: every test
 * class must be a train class (a train class may lack test images). */
static void
map_test_classes(struct img_list *te, const struct img_list *tr)
{
	int *map = cli_calloc(te->nclass, sizeof(int)), k;
	long i;

	for (k = 0; k < te->nclass; k++) {
		char **hit = bsearch(&te->class[k], tr->class, tr->nclass, sizeof(char *),
		    cmp_str);

		if (hit == NULL)
			errx(EX_DATAERR, "%s/%s: class not in %s", te->root, te->class[k],
			    tr->root);
		map[k] = (int)(hit - tr->class);
	}
	for (i = 0; i < te->n; i++)
		te->label[i] = map[te->label[i]];
	free(map);
}

int
data_load_folder(struct data_set *tr, struct data_set *te, const char *dir,
    const struct data_opts *o)
{
	static const char *const test_names[] = { "test", "val", "valid" };
	struct data_set ds[2];
	struct folder f;
	char *root[2] = { NULL, NULL }, *cpath;
	int s, k;
	double t0 = cli_now();

	if ((root[0] = subdir(dir, "train")) == NULL)
		return 0;
	for (k = 0; k < 3 && root[1] == NULL; k++)
		root[1] = subdir(dir, test_names[k]);
	if (root[1] == NULL)
		errx(EX_NOINPUT, "%s: a train folder but no test, val or valid folder", dir);
	memset(&f, 0, sizeof(f));
	memset(ds, 0, sizeof(ds));
	f.R = o->res, f.grey = o->in_ch == 1;
	for (s = 0; s < 2; s++)
		list_scan(&f.l[s], root[s], s ? 1 : 2);
	map_test_classes(&f.l[1], &f.l[0]);
	f.fp = fnv(f.l[0].fp, &f.l[1].fp, sizeof(f.l[1].fp));
	f.fp = fnv(f.fp, &f.R, sizeof(f.R));
	f.fp = fnv(f.fp, &f.grey, sizeof(f.grey));
	cpath = cache_path(dir, f.R, f.grey);
	if (cpath && cache_load(ds, &f, cpath)) {
		fprintf(stderr, "%s: %ld + %ld images %dx%dx%d from the cache %s (%.2f s)\n",
		    dir, ds[0].n, ds[1].n, ds[0].c, f.R, f.R, cpath, cli_now() - t0);
	} else {
		struct cli_progress p;
		char *bad[2];
		long colour = 0, done = 0, i;

		cli_progress_start(&p, "decode", f.l[0].n + f.l[1].n);
		for (s = 0; s < 2; s++) {
			bad[s] = cli_calloc(f.l[s].n, 1);
			colour += decode_list(&ds[s], bad[s], &f.first_bad, &f.l[s], f.grey, f.R,
			    &p, &done);
			for (i = 0; i < f.l[s].n; i++)
				f.nbad += bad[s][i];
		}
		cli_progress_end(&p, NULL);
		for (s = 0; s < 2; s++) {
			compact(&ds[s], bad[s], !f.grey && colour == 0);
			ds[s].classes = f.l[0].nclass;
			free(bad[s]);
		}
		fprintf(stderr, "%s: %ld + %ld images decoded to %dx%dx%d in %.1f s%s%s\n",
		    dir, ds[0].n, ds[1].n, ds[0].c, f.R, f.R, cli_now() - t0,
		    cpath ? ", cached in " : " (no cache: no writable cache directory)",
		    cpath ? cpath : "");
		if (cpath)
			cache_write(ds, &f, cpath);
	}
	if (f.nbad && !o->skip_bad)
		errx(EX_DATAERR, "%s (%ld bad image file%s; --skip-bad leaves them out)",
		    f.first_bad, f.nbad, f.nbad > 1 ? "s" : "");
	if (f.nbad)
		warnx("%s: skipped %ld bad image file%s, the first %s", dir, f.nbad,
		    f.nbad > 1 ? "s" : "", f.first_bad);
	for (s = 0; s < 2; s++) {
		struct data_set *d = s ? te : tr;

		*d = ds[s];
		snprintf(d->format, sizeof(d->format), "folder");
		d->resized = 1;
		d->class_names = cli_calloc(f.l[0].nclass, sizeof(char *));
		for (k = 0; k < f.l[0].nclass; k++)
			if ((d->class_names[k] = strdup(f.l[0].class[k])) == NULL)
				err(EX_SOFTWARE, "strdup");
		if (d->n == 0)
			errx(EX_DATAERR, "%s: no images left", root[s]);
	}
	for (s = 0; s < 2; s++)
		list_free(&f.l[s]), free(root[s]);
	free(f.first_bad);
	free(cpath);
	return 1;
}
