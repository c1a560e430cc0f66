/*
 * Compromised keys: the key hash every certificate is stored with, the
 * refusal of blocked keys on issuance and renewal, and the start-up
 * backfill of hashes for certificates stored before schema version 2.
 * The hash is ca/'s (canonical SubjectPublicKeyInfo), the SQL db/'s.
 */
#include <string.h>

#include "log.h"
#include "svc_int.h"

/* Rows hashed per transaction by the backfill. */
#define BACKFILL_BATCH	500

int
svc_key_check(struct svc *s, const struct ca_csr *csr,
    char spki[RCA_SHA256_HEX + 1], struct err *e)
{
	char by[RCA_SERIAL_HEX_MAX + 1];
	int b;

	if (ca_csr_spki_sha256(csr, spki) == -1) {
		err_set(e, ERR_CRYPTO, "cannot hash the request's key");
		return -1;
	}
	if ((b = db_key_blocked(s->db, spki, by, sizeof(by), e)) == -1)
		return -1;
	if (b == 1) {
		err_set(e, ERR_KEY_REJECTED, "this key was revoked as "
		    "compromised (keyCompromise of %s) and is blocked", by);
		return -1;
	}
	return 0;
}

int
svc_cert_key_blocked(struct svc *s, const struct cert_rec *rec,
    const unsigned char *der, size_t len, struct err *e)
{
	char spki[RCA_SHA256_HEX + 1];
	const char *h = rec->spki_sha256;

	/* A row the backfill could not hash: hash the presented DER. */
	if (h[0] == '\0') {
		if (ca_cert_spki_sha256(der, len, spki, e) == -1)
			return -1;
		h = spki;
	}
	return db_key_blocked(s->db, h, NULL, 0, e);
}

int
svc_spki_backfill(struct svc *s, struct err *e)
{
	struct db_spki_row	*rows = NULL;
	struct err		 he;
	size_t			 n = 0, done = 0;
	int64_t			 after = 0;
	int			 rc = -1;

	for (;;) {
		if (db_cert_spki_missing(s->db, after, BACKFILL_BATCH, &rows,
		    &n, e) == -1)
			goto out;
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			if (ca_pem_spki_sha256(rows[i].pem,
			    rows[i].spki_sha256, &he) == -1) {
				/* Stays NULL; the cascade cannot find it. */
				log_warn("certificate %s: cannot hash its key: "
				    "%s", rows[i].serial, he.msg);
				rows[i].spki_sha256[0] = '\0';
				continue;
			}
			done++;
		}
		if (db_cert_spki_set(s->db, rows, n, e) == -1)
			goto out;
		after = rows[n - 1].id;
		db_cert_spki_rows_free(rows, n);
		rows = NULL;
		n = 0;
	}
	if (done > 0)
		log_info("stored the key hash of %zu older certificates", done);
	rc = 0;
out:
	db_cert_spki_rows_free(rows, n);
	return rc;
}
