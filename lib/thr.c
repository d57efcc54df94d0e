/* thr.c - see thr.h. */
#include "thr.h"

#include <err.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nachos.h"

const char *const thr_rule_names[] = {
	"cumulative", "weight", "max-softmax", "margin", "entropy", NULL
};

float
thr_score(const struct exo *e, enum thr_rule rule, int i, long j)
{
	long at = (long)i * e->n + j;
	double w;
	int k;

	switch (rule) {
	case THR_CUMULATIVE:
		return e->cumw[at];
	case THR_WEIGHT:
		w = e->conf[at];
		for (k = 0; k < i; k++)
			w *= 1 - (double)e->conf[(long)k * e->n + j];
		return (float)w;
	case THR_MAX_SOFTMAX:
		return e->maxp[at];
	case THR_MARGIN:
		return e->margin[at];
	case THR_ENTROPY:
		return e->entropy[at];
	}
	errx(EX_SOFTWARE, "thr_score: rule %d", (int)rule);
}

int
thr_exit_silent(enum thr_rule rule, double eps)
{
	return eps >= 1 && rule != THR_CUMULATIVE && rule != THR_WEIGHT;
}

void
thr_spent_run(long *out, const long *spent, const long *cost, int B, enum thr_rule rule,
    const double *eps)
{
	long off = 0;
	int i;

	for (i = 0; i < B; i++) {
		out[i] = spent[i] - off;
		if (i < B - 1 && thr_exit_silent(rule, eps[i]))
			off += spent[i + 1] - spent[i] - cost[i + 1] + cost[i];
	}
}

int
thr_fires(double eps, float score)
{
	return eps < 1 && (double)score >= eps;
}

int
thr_exit(const struct exo *e, enum thr_rule rule, const double *eps, long j)
{
	int i;

	for (i = 0; i < e->nexit - 1; i++)
		if (thr_fires(eps[i], thr_score(e, rule, i, j)))
			return i;
	return e->nexit - 1;
}

double
thr_ece(const int32_t *pred, const float *conf, const int32_t *label, long n, int bins)
{
	double *sc = calloc(bins, sizeof(double)), *sa = calloc(bins, sizeof(double)), ece = 0;
	long *cnt = calloc(bins, sizeof(long)), j;
	int b;

	if (!sc || !sa || !cnt)
		err(EX_SOFTWARE, "calloc");
	for (j = 0; j < n; j++) {
		b = (int)ceil((double)conf[j] * bins) - 1;
		b = b < 0 ? 0 : b >= bins ? bins - 1 : b;
		cnt[b]++;
		sc[b] += conf[j];
		sa[b] += pred[j] == label[j];
	}
	for (b = 0; b < bins; b++)
		if (cnt[b])
			ece += fabs(sa[b] - sc[b]) / n;
	free(sc);
	free(sa);
	free(cnt);
	return ece;
}

void
thr_eval(struct thr_metrics *m, const struct exo *e, enum thr_rule rule, const double *eps)
{
	long right[EXO_MAX_EXITS] = { 0 }, all[EXO_MAX_EXITS] = { 0 }, j;
	double spent = 0, cost = 0;
	int i, B = e->nexit;

	memset(m, 0, sizeof(*m));
	m->n = e->n;
	thr_spent_run(m->spent, e->spent, e->cost, B, rule, eps);
	for (j = 0; j < e->n; j++) {
		int x = thr_exit(e, rule, eps, j);

		m->count[x]++;
		if (e->pred[(long)x * e->n + j] == e->label[j]) {
			right[x]++;
			m->correct++;
		}
		for (i = 0; i < B; i++)
			all[i] += e->pred[(long)i * e->n + j] == e->label[j];
	}
	for (i = 0; i < B; i++) {
		m->util[i] = (double)m->count[i] / e->n;
		m->acc_leave[i] = m->count[i] ? (double)right[i] / m->count[i] : NAN;
		m->acc_all[i] = (double)all[i] / e->n;
		m->ece[i] = thr_ece(e->pred + (long)i * e->n, e->maxp + (long)i * e->n,
		    e->label, e->n, THR_ECE_BINS);
		spent += (double)m->count[i] * m->spent[i];
		cost += (double)m->count[i] * e->cost[i];
	}
	m->top1 = (double)m->correct / e->n;
	m->avg_spent = spent / e->n;
	m->avg_cost = cost / e->n;
}

/* ---- the grid ---- */

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Cumulative sums of table tab (dims D, each of size s) along dim d:
 * ascending (cell += all below) or descending (cell += all above). */
static void
cumsum(int32_t *tab, long size, long stride, int s, int descending)
{
	long c;

	if (!descending) {
		for (c = 0; c < size; c++)
			if (c / stride % s > 0)
				tab[c] += tab[c - stride];
	} else {
		for (c = size - 1; c >= 0; c--)
			if (c / stride % s < s - 1)
				tab[c] += tab[c + stride];
	}
}

int
thr_grid_build(struct thr_grid *t, const struct exo *e, enum thr_rule rule,
    const double *grid, int g)
{
	uint16_t *lev;
	long j, cells = 1;
	int i, k, u, s;

	memset(t, 0, sizeof(*t));
	if (g < 1 || g > THR_MAX_GRID)
		errx(EX_SOFTWARE, "thr_grid_build: %d grid values", g);
	memcpy(t->grid, grid, g * sizeof(double));
	qsort(t->grid, g, sizeof(double), cmp_dbl);
	for (i = u = 0; i < g; i++)
		if (u == 0 || t->grid[i] != t->grid[u - 1])
			t->grid[u++] = t->grid[i];
	t->g = u;
	s = u + 1;            /* levels 0..|G| */
	t->nexit = e->nexit;
	t->nint = e->nexit - 1;
	t->n = e->n;
	t->ncomb = 1;
	for (k = 0; k < t->nint; k++) {
		t->stride[k] = cells;
		if (cells > THR_MAX_CELLS / s)
			return -1;
		cells *= s;
		t->ncomb *= u;
	}
	memcpy(t->spent, e->spent, sizeof(t->spent));
	memcpy(t->cost, e->cost, sizeof(t->cost));
	t->rule = rule;

	/* level of sample j at exit k: grid values its score reaches, so exit
	 * k fires under grid index t_k exactly when t_k < level. */
	if ((lev = malloc((size_t)(t->nint ? t->nint : 1) * e->n * sizeof(*lev))) == NULL)
		err(EX_SOFTWARE, "malloc");
	for (k = 0; k < t->nint; k++)
		for (j = 0; j < e->n; j++) {
			float sc = thr_score(e, rule, k, j);
			int l = 0;

			while (l < u && thr_fires(t->grid[l], sc))
				l++;
			lev[(long)k * e->n + j] = (uint16_t)l;
		}

	/* Table i < B-1 over levels of exits 0..i: count(t) = samples with
	 * level_k <= t_k for k < i (did not leave earlier) and level_i > t_i
	 * (leave at i). The final table: level_k <= t_k for every k. */
	for (i = 0; i <= t->nint; i++) {
		int last = i < t->nint ? i : t->nint - 1;   /* last dim of the table */
		long size = i < t->nint ? t->stride[i] * s : cells;

		t->cnt[i] = calloc(size, sizeof(int32_t));
		t->cor[i] = calloc(size, sizeof(int32_t));
		if (!t->cnt[i] || !t->cor[i])
			err(EX_SOFTWARE, "calloc");
		for (j = 0; j < e->n; j++) {
			long c = 0;

			for (k = 0; k <= last; k++)
				c += lev[(long)k * e->n + j] * t->stride[k];
			t->cnt[i][c]++;
			t->cor[i][c] += e->pred[(long)i * e->n + j] == e->label[j];
		}
		for (k = 0; k <= last; k++) {
			int desc = i < t->nint && k == i;

			cumsum(t->cnt[i], size, t->stride[k], s, desc);
			cumsum(t->cor[i], size, t->stride[k], s, desc);
		}
	}
	free(lev);
	return 0;
}

void
thr_grid_free(struct thr_grid *t)
{
	int i;

	for (i = 0; i < EXO_MAX_EXITS; i++) {
		free(t->cnt[i]);
		free(t->cor[i]);
	}
	memset(t, 0, sizeof(*t));
}

void
thr_grid_idx(const struct thr_grid *t, long c, int *idx)
{
	int k;

	for (k = t->nint - 1; k >= 0; k--) {
		idx[k] = (int)(c % t->g);
		c /= t->g;
	}
}

long
thr_grid_comb(const struct thr_grid *t, const int *idx)
{
	long c = 0;
	int k;

	for (k = 0; k < t->nint; k++)
		c = c * t->g + idx[k];
	return c;
}

/* Samples leaving at each exit and how many of them are right. */
static void
thr_grid_eval(const struct thr_grid *t, const int *idx /* (B-1) */, long *count /* (B) */,
    long *correct /* (B) */)
{
	long c = 0;
	int i;

	for (i = 0; i < t->nint; i++) {
		long at = c + (long)(idx[i] + 1) * t->stride[i];

		count[i] = t->cnt[i][at];
		correct[i] = t->cor[i][at];
		c += (long)idx[i] * t->stride[i];
	}
	count[t->nint] = t->cnt[t->nint][c];
	correct[t->nint] = t->cor[t->nint][c];
}

void
thr_grid_all(const struct thr_grid *t, long *correct, int64_t *spent)
{
	/* a grid value of 1 under a rule scoring exits alone: spent varies */
	int off = t->g && thr_exit_silent(t->rule, t->grid[t->g - 1]);
	long c;

	for (c = 0; c < t->ncomb; c++) {
		long cnt[EXO_MAX_EXITS], cor[EXO_MAX_EXITS], run[EXO_MAX_EXITS];
		double eps[EXO_MAX_EXITS];
		int idx[EXO_MAX_EXITS], i;

		thr_grid_idx(t, c, idx);
		thr_grid_eval(t, idx, cnt, cor);
		if (off) {
			for (i = 0; i < t->nint; i++)
				eps[i] = t->grid[idx[i]];
			thr_spent_run(run, t->spent, t->cost, t->nexit, t->rule, eps);
		}
		correct[c] = 0;
		spent[c] = 0;
		for (i = 0; i < t->nexit; i++) {
			correct[c] += cor[i];
			spent[c] += (int64_t)cnt[i] * (off ? run[i] : t->spent[i]);
		}
	}
}

static int
feasible(const struct thr_grid *t, long correct, int64_t spent, double acc_min, double macs_max)
{
	return (double)correct / t->n >= acc_min && (double)spent / t->n <= macs_max;
}

/* Is a better than b: more correct, then fewer MACs (then the lower index). */
static int
better(const long *correct, const int64_t *spent, long a, long b)
{
	if (b < 0 || correct[a] != correct[b])
		return b < 0 || correct[a] > correct[b];
	return spent[a] < spent[b];
}

long
thr_pick_best(const struct thr_grid *t, const long *correct, const int64_t *spent,
    double acc_min, double macs_max, int *feas)
{
	long c, best = -1, within = -1, cheap = 0;

	for (c = 0; c < t->ncomb; c++) {
		if (feasible(t, correct[c], spent[c], acc_min, macs_max) &&
		    better(correct, spent, c, best))
			best = c;
		if ((double)spent[c] / t->n <= macs_max && better(correct, spent, c, within))
			within = c;
		if (spent[c] < spent[cheap] ||
		    (spent[c] == spent[cheap] && correct[c] > correct[cheap]))
			cheap = c;
	}
	*feas = best >= 0;
	return best >= 0 ? best : within >= 0 ? within : cheap;
}

long
thr_pick_nachos(const struct thr_grid *t, const long *correct, const int64_t *spent,
    double acc_min, double macs_max, int *feas)
{
	int idx[EXO_MAX_EXITS], k;
	long c, best = -1;

	for (c = 0; c < t->ncomb; c++)
		if (better(correct, spent, c, best))
			best = c;
	thr_grid_idx(t, best, idx);
	for (k = t->nint - 1; k >= 0 && (double)spent[best] / t->n > macs_max; ) {
		long next;

		if (idx[k] == 0) {
			k--;
			continue;
		}
		idx[k]--;
		next = thr_grid_comb(t, idx);
		if ((double)correct[best] / t->n >= acc_min &&
		    (double)correct[next] / t->n < acc_min)
			break;
		best = next;
	}
	*feas = feasible(t, correct[best], spent[best], acc_min, macs_max);
	return best;
}

long
thr_pick_aebnas(const struct thr_grid *t, const long *correct, const int64_t *spent,
    double acc_min, double macs_max, double target, double lambda, int *feas)
{
	/* AEBNAS's space has an intermediate exit: thresholds all 1 do not
	 * count when the grid offers another */
	int need = t->nint > 0 && t->grid[0] < 1;
	long c, best = -1;
	double bs = -INFINITY;

	for (c = 0; c < t->ncomb; c++) {
		double m = (double)spent[c] / t->n;
		double s = 100.0 * correct[c] / t->n - lambda * fabs(m - target) / target * 100;
		int idx[EXO_MAX_EXITS], k, open = 0;

		thr_grid_idx(t, c, idx);
		for (k = 0; k < t->nint; k++)
			open |= t->grid[idx[k]] < 1;
		if (s > bs && (open || !need)) {
			bs = s;
			best = c;
		}
	}
	*feas = feasible(t, correct[best], spent[best], acc_min, macs_max);
	return best;
}

/* qsort context for thr_pareto (qsort has none). */
static const long *sort_correct;
static const int64_t *sort_spent;

static int
cmp_point(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	if (sort_spent[x] != sort_spent[y])
		return sort_spent[x] < sort_spent[y] ? -1 : 1;
	if (sort_correct[x] != sort_correct[y])
		return sort_correct[x] > sort_correct[y] ? -1 : 1;
	return (x > y) - (x < y);
}

long
thr_pareto(const struct thr_grid *t, const long *correct, const int64_t *spent, long *out)
{
	long c, np = 0, top = -1;

	for (c = 0; c < t->ncomb; c++)
		out[c] = c;
	sort_correct = correct;
	sort_spent = spent;
	qsort(out, t->ncomb, sizeof(long), cmp_point);
	/* By increasing MACs, a point is on the front when it beats every
	 * cheaper one's accuracy; equal MACs come most accurate first. */
	for (c = 0; c < t->ncomb; c++)
		if (correct[out[c]] > top) {
			top = correct[out[c]];
			out[np++] = out[c];
		}
	return np;
}
