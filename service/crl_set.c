/*
 * The entries of the next CRL, kept in memory between publications
 * (crl.c): loaded from the database once (and again on the scheduler's
 * refresh), then each publication merges only the newly revoked
 * certificates its waiters carry.  Sorted by serial (shorter first,
 * then lexically: numeric order of the lowercase hex), no duplicates.
 * The caller holds pub_mu.
 */
#include <stdlib.h>
#include <string.h>

#include "svc_int.h"

static int
entry_cmp(const void *pa, const void *pb)
{
	const struct ca_crl_entry *a = pa, *b = pb;
	size_t la = strlen(a->serial), lb = strlen(b->serial);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a->serial, b->serial);
}

/* Room for n entries in set. */
static int
set_reserve(struct svc_crl_set *set, size_t n, struct err *e)
{
	struct ca_crl_entry	*v;
	size_t			 cap;

	if (n <= set->cap)
		return 0;
	cap = set->cap > 0 ? set->cap : 64;
	while (cap < n)
		cap *= 2;
	if ((v = realloc(set->v, cap * sizeof(*v))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	set->v = v;
	set->cap = cap;
	return 0;
}

/* Sort v[0..*n) and drop repeated serials (the first one stays). */
static void
sort_unique(struct ca_crl_entry *v, size_t *n)
{
	size_t i, o;

	if (*n < 2)
		return;
	qsort(v, *n, sizeof(*v), entry_cmp);
	for (i = 1, o = 1; i < *n; i++)
		if (entry_cmp(&v[o - 1], &v[i]) != 0)
			v[o++] = v[i];
	*n = o;
}

int
svc_crl_set_load(struct svc *s, int64_t now, struct err *e)
{
	struct svc_crl_set	*set = &s->crl_set;
	struct db_crl_row	*rows = NULL;
	size_t			 n = 0;
	int			 rc = -1;

	set->loaded = false;
	if (db_cert_revoked_unexpired(s->db, now, &rows, &n, e) == -1)
		goto out;
	if (set_reserve(set, n, e) == -1)
		goto out;
	for (size_t i = 0; i < n; i++) {
		memcpy(set->v[i].serial, rows[i].serial,
		    sizeof(set->v[i].serial));
		set->v[i].revoked_at = rows[i].revoked_at;
		set->v[i].reason = rows[i].reason;
	}
	set->n = n;
	sort_unique(set->v, &set->n);
	set->loaded = true;
	rc = 0;
out:
	free(rows);
	return rc;
}

int
svc_crl_set_add(struct svc_crl_set *set, const struct ca_crl_entry *add,
    size_t k, struct err *e)
{
	struct ca_crl_entry	*in = NULL;
	size_t			 m = 0, i, j, o;
	int			 rc = -1;

	if (k == 0)
		return 0;
	if ((in = malloc(k * sizeof(*in))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* The new ones not listed yet, sorted. */
	for (i = 0; i < k; i++)
		if (bsearch(&add[i], set->v, set->n, sizeof(*set->v),
		    entry_cmp) == NULL)
			in[m++] = add[i];
	sort_unique(in, &m);
	if (m == 0 || set_reserve(set, set->n + m, e) == -1) {
		rc = m == 0 ? 0 : -1;
		goto out;
	}
	/* Merge from the back, in place. */
	i = set->n;
	j = m;
	o = set->n + m;
	while (j > 0) {
		if (i > 0 && entry_cmp(&set->v[i - 1], &in[j - 1]) > 0)
			set->v[--o] = set->v[--i];
		else
			set->v[--o] = in[--j];
	}
	set->n += m;
	rc = 0;
out:
	free(in);
	return rc;
}

void
svc_crl_set_free(struct svc_crl_set *set)
{
	free(set->v);
	memset(set, 0, sizeof(*set));
}
