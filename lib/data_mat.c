/*
 * data_mat.c - SVHN as published: train_32x32.mat and test_32x32.mat,
 * MATLAB files read with libmatio (X: h x w x c x n uint8, column-major;
 * y: n labels, 10 for the digit 0). See data.h and formats/dataset.md.
 */
#define _GNU_SOURCE
#include <err.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <matio.h>

#include "cli.h"
#include "data.h"
#include "nachos.h"

/* zlib never inflates by more than this: bounds what a compressed
 * variable may claim from the file's size, before anything is allocated. */
#define ZLIB_MAX_RATIO 1032

/* Label i of y (any real numeric class) as a double; NAN if unknown. */
static double
num_at(const matvar_t *v, size_t i)
{
	switch (v->class_type) {
	case MAT_C_DOUBLE: return ((const double *)v->data)[i];
	case MAT_C_SINGLE: return ((const float *)v->data)[i];
	case MAT_C_UINT8: return ((const uint8_t *)v->data)[i];
	case MAT_C_INT8: return ((const int8_t *)v->data)[i];
	case MAT_C_UINT16: return ((const uint16_t *)v->data)[i];
	case MAT_C_INT16: return ((const int16_t *)v->data)[i];
	case MAT_C_UINT32: return ((const uint32_t *)v->data)[i];
	case MAT_C_INT32: return ((const int32_t *)v->data)[i];
	default: return NAN;
	}
}

void
data_load_mat(struct data_set *d, const char *path)
{
	matvar_t *X, *y;
	struct stat st;
	uint8_t *raw;
	size_t total, plane, i;
	mat_t *m;
	long s;
	int k, r, c;

	memset(d, 0, sizeof(*d));
	snprintf(d->format, sizeof(d->format), "svhn");
	if (stat(path, &st) != 0)
		err(EX_NOINPUT, "%s", path);
	if ((m = Mat_Open(path, MAT_ACC_RDONLY)) == NULL)
		errx(EX_DATAERR, "%s: not a MATLAB file libmatio can read", path);
	if ((X = Mat_VarReadInfo(m, "X")) == NULL)
		errx(EX_DATAERR, "%s: no variable X", path);
	if (X->rank != 4 || X->class_type != MAT_C_UINT8 || X->isComplex)
		errx(EX_DATAERR, "%s: X is not a 4-dimensional uint8 array (h x w x c x n)",
		    path);
	if (X->dims[0] < 1 || X->dims[0] > 4096 || X->dims[1] < 1 || X->dims[1] > 4096 ||
	    X->dims[2] < 1 || X->dims[2] > DATA_MAX_CH || X->dims[3] < 1 ||
	    X->dims[3] > INT_MAX)
		errx(EX_DATAERR, "%s: X has bad sizes %zu x %zu x %zu x %zu", path, X->dims[0],
		    X->dims[1], X->dims[2], X->dims[3]);
	d->h = X->dims[0], d->w = X->dims[1], d->c = X->dims[2], d->n = X->dims[3];
	plane = (size_t)d->h * d->w;
	total = plane * d->c * d->n;
	if (total / ZLIB_MAX_RATIO > (size_t)st.st_size ||
	    (X->compression == MAT_COMPRESSION_NONE && total > (size_t)st.st_size))
		errx(EX_DATAERR, "%s: X claims %zu bytes, more than the file can hold", path,
		    total);
	raw = cli_calloc(total, 1);
	{
		int start[4] = { 0, 0, 0, 0 }, stride[4] = { 1, 1, 1, 1 }, edge[4];

		for (k = 0; k < 4; k++)
			edge[k] = (int)X->dims[k];
		if (Mat_VarReadData(m, X, raw, start, stride, edge) != 0)
			errx(EX_DATAERR, "%s: X: cannot read its data (truncated?)", path);
	}
	Mat_VarFree(X);
	/* Column-major (h, w, c, n): pixel (r, c) of a plane at r + h * c. */
	d->x = cli_calloc(total, 1);
	for (s = 0; s < d->n; s++)
		for (k = 0; k < d->c; k++) {
			const uint8_t *src = raw + ((size_t)s * d->c + k) * plane;
			uint8_t *dst = d->x + ((size_t)s * d->c + k) * plane;

			for (r = 0; r < d->h; r++)
				for (c = 0; c < d->w; c++)
					dst[(size_t)r * d->w + c] = src[(size_t)c * d->h + r];
		}
	free(raw);

	if ((y = Mat_VarReadInfo(m, "y")) == NULL)
		errx(EX_DATAERR, "%s: no variable y", path);
	if (y->rank != 2 || y->isComplex || (size_t)d->n != y->dims[0] * y->dims[1] ||
	    (y->dims[0] != 1 && y->dims[1] != 1))
		errx(EX_DATAERR, "%s: y is not a vector of %ld labels", path, d->n);
	Mat_VarFree(y);
	if ((y = Mat_VarRead(m, "y")) == NULL || y->data == NULL)
		errx(EX_DATAERR, "%s: y: cannot read its data", path);
	d->y = cli_calloc(d->n, sizeof(int32_t));
	for (i = 0; i < (size_t)d->n; i++) {
		double v = num_at(y, i);

		if (!(v >= 0 && v <= 10 && v == floor(v)))
			errx(EX_DATAERR, "%s: y: label %g of sample %zu is not a digit 1 ... 10 "
			    "(10 for 0)", path, v, i + 1);
		d->y[i] = (int32_t)v % 10;
	}
	Mat_VarFree(y);
	Mat_Close(m);
	d->classes = 10;
}

int
data_load_svhn(struct data_set *tr, struct data_set *te, const char *dir)
{
	char *p, *q;
	int ok;

	if (asprintf(&p, "%s/train_32x32.mat", dir) < 0 ||
	    asprintf(&q, "%s/test_32x32.mat", dir) < 0)
		err(EX_SOFTWARE, "asprintf");
	ok = access(p, R_OK) == 0 && access(q, R_OK) == 0;
	if (ok) {
		data_load_mat(tr, p);
		data_load_mat(te, q);
		if (te->c != tr->c || te->h != tr->h || te->w != tr->w)
			errx(EX_DATAERR, "%s: images %dx%dx%d, %s has %dx%dx%d", q, te->c, te->h,
			    te->w, p, tr->c, tr->h, tr->w);
	}
	free(p);
	free(q);
	return ok;
}
