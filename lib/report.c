/* report.c - common seeds and paired records (report.h). */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "pareto.h"

int
report_common_seeds(long *out, const int *method, const long *seed, int nruns, int nmethods)
{
	int n = 0, i, j, m;

	for (i = 0; i < nruns; i++) {
		long s = seed[i];
		int all = 1, dup = 0;

		for (j = 0; j < n; j++)
			dup |= out[j] == s;
		for (m = 0; m < nmethods && all; m++) {
			int have = 0;

			for (j = 0; j < nruns; j++)
				have |= method[j] == m && seed[j] == s;
			all = have;
		}
		if (all && !dup) {      /* insertion keeps out ascending */
			for (j = n; j > 0 && out[j - 1] > s; j--)
				out[j] = out[j - 1];
			out[j] = s;
			n++;
		}
	}
	return n;
}

int
report_same_arch(const char *id_a, const int *genome_a, int n_a,
    const char *id_b, const int *genome_b, int n_b)
{
	return n_a > 0 && n_a == n_b && strcmp(id_a, id_b) == 0 &&
	    memcmp(genome_a, genome_b, n_a * sizeof *genome_a) == 0;
}

int
report_admissible(const struct report_side *s)
{
	return pareto_violation(s->acc, s->macs, s->acc_min, s->macs_max) + s->mem_cv <= 0;
}

void
report_paired_init(struct report_paired *p)
{
	memset(p, 0, sizeof(*p));
}

static int
grow(double **v /* (cap) */, int cap)
{
	double *w = realloc(*v, cap * sizeof **v);

	if (w == NULL)
		return -1;
	*v = w;
	return 0;
}

int
report_paired_add(struct report_paired *p, const struct report_side *e,
    const struct report_side *ref)
{
	if (p->n == p->cap) {
		int cap = p->cap ? 2 * p->cap : 64;

		if (grow(&p->d_macs, cap) || grow(&p->d_exp_macs, cap) || grow(&p->d_acc, cap))
			return -1;
		p->cap = cap;
	}
	p->d_macs[p->n] = e->macs / ref->macs - 1;
	p->d_exp_macs[p->n] = e->exp_macs / ref->exp_macs - 1;
	p->d_acc[p->n] = e->acc - ref->acc;
	p->adm_ref += report_admissible(ref);
	p->adm += report_admissible(e);
	p->n++;
	return 0;
}

void
report_paired_free(struct report_paired *p)
{
	free(p->d_macs);
	free(p->d_exp_macs);
	free(p->d_acc);
	report_paired_init(p);
}
