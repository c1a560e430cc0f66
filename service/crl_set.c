/*
 * The entries of the next CRL of each CA (its struct svc_crl_ca), kept
 * in memory between publications
 * (crl.c) as ca/'s incremental set (entries already DER-encoded, kept
 * sorted): loaded from the database once (and again on the scheduler's
 * refresh), then each publication drops the certificates that expired
 * since the last one (an index range on notAfter) and adds only the
 * newly revoked certificates its waiters carry.  The caller holds
 * pub_mu.
 */
#include <stdlib.h>
#include <string.h>

#include "svc_int.h"

/* 0 when set's entries are in memory; -1 (ERR_INTERNAL) when not. */
static int
set_loaded(const struct svc_crl_set *set, struct err *e)
{
	if (set->cs == NULL) {
		err_set(e, ERR_INTERNAL, "the CRL entries are not loaded");
		return -1;
	}
	return 0;
}

/* rows as CRL entries; new (free()). */
static struct ca_crl_entry *
entries_of(const struct db_crl_row *rows, size_t n, struct err *e)
{
	struct ca_crl_entry *v;

	if ((v = calloc(n > 0 ? n : 1, sizeof(*v))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(v[i].serial, rows[i].serial, sizeof(v[i].serial));
		v[i].revoked_at = rows[i].revoked_at;
		v[i].reason = rows[i].reason;
	}
	return v;
}

/* Add rows to cs (borrowed) as CRL entries. */
static int
add_rows(struct ca_crl_set *cs, const struct db_crl_row *rows, size_t n,
    struct err *e)
{
	struct ca_crl_entry	*v;
	int			 rc;

	if ((v = entries_of(rows, n, e)) == NULL)
		return -1;
	rc = ca_crl_set_add(cs, v, n, e);
	free(v);
	return rc;
}

int
svc_crl_set_from(struct svc_crl_ca *ca, const struct db_crl_row *rows,
    size_t n, int64_t now, struct err *e)
{
	struct svc_crl_set	*set = &ca->set;
	struct ca_crl_set	*cs = NULL;
	int			 rc = -1;

	set->loaded = false;
	if ((cs = ca_crl_set_new(e)) == NULL || add_rows(cs, rows, n, e) == -1)
		goto out;
	ca_crl_set_free(set->cs);
	set->cs = cs;
	cs = NULL;
	set->as_of = now;
	set->loaded = true;
	rc = 0;
out:
	ca_crl_set_free(cs);
	return rc;
}

int
svc_crl_set_load(struct svc *s, struct svc_crl_ca *ca, int64_t now,
    struct err *e)
{
	struct db_crl_row	*rows = NULL;
	size_t			 n = 0;
	int			 rc;

	ca->set.loaded = false;
	if (db_cert_revoked_unexpired(s->db, ca->ca_id, now, &rows, &n,
	    e) == -1)
		return -1;
	rc = svc_crl_set_from(ca, rows, n, now, e);
	free(rows);
	return rc;
}

int
svc_crl_set_add_key(struct svc *s, struct svc_crl_ca *ca, const char *spki,
    int64_t now, struct err *e)
{
	struct db_crl_row	*rows = NULL;
	size_t			 n = 0;
	int			 rc = -1;

	if (db_crl_same_key(s->db, ca->ca_id, spki, now, &rows, &n,
	    e) == -1 || set_loaded(&ca->set, e) == -1)
		goto out;
	rc = add_rows(ca->set.cs, rows, n, e);
out:
	free(rows);
	return rc;
}

int
svc_crl_set_advance(struct svc *s, struct svc_crl_ca *ca, int64_t now,
    struct err *e)
{
	struct svc_crl_set	*set = &ca->set;
	struct db_serial	*gone = NULL;
	size_t			 n = 0;

	if (now <= set->as_of)
		return 0;
	if (db_crl_expired(s->db, ca->ca_id, set->as_of, now, &gone, &n,
	    e) == -1)
		return -1;
	for (size_t i = 0; i < n; i++)
		ca_crl_set_remove(set->cs, gone[i].serial);
	free(gone);
	set->as_of = now;
	return 0;
}

int
svc_crl_set_add(struct svc_crl_set *set, const struct ca_crl_entry *add,
    size_t k, struct err *e)
{
	if (set_loaded(set, e) == -1)
		return -1;
	return ca_crl_set_add(set->cs, add, k, e);
}

void
svc_crl_set_free(struct svc_crl_set *set)
{
	ca_crl_set_free(set->cs);
	memset(set, 0, sizeof(*set));
}
