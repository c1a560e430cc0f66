/*
 * A certificate row: its columns (CERT_COLS) read into a struct
 * cert_rec, a revoked one's CRL entry, and the lowercase serial every
 * lookup goes by.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "priv.h"

bool
db_serial_key(const char *in, char out[RCA_SERIAL_HEX_MAX + 1])
{
	size_t i;

	if (in == NULL)
		return false;
	for (i = 0; in[i] != '\0'; i++) {
		if (i == RCA_SERIAL_HEX_MAX)
			return false;
		out[i] = (char)tolower((unsigned char)in[i]);
	}
	out[i] = '\0';
	return i > 0;
}

int
db_cert_corrupt(const struct db_row *r, const char *what, struct err *e)
{
	log_error("db: certificate %lld: bad %s",
	    (long long)db_col_int(r, 0), what);
	err_set(e, ERR_DB, "database error");
	return -1;
}

int
db_cert_read(const struct db_row *r, void *p, struct err *e)
{
	struct cert_rec *out = p;
	char kt[16];
	bool ok;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->reason = -1;
	out->id = db_col_int(r, 0);
	if (DB_COL_BUF(r, 1, out->serial, e) == -1 ||
	    DB_COL_BUF(r, 2, out->profile, e) == -1)
		goto out;
	out->names.cn = db_col_dup(r, 3, &ok);
	if (!ok) {
		err_set(e, ERR_DB, "database error");
		goto out;
	}
	for (int k = 0; k < NAME__MAX; k++)
		if (names_split(&out->names, (enum name_kind)k,
		    db_col_str(r, 4 + k), e) == -1) {
			db_cert_corrupt(r, "names", e);
			goto out;
		}
	if (DB_COL_BUF(r, 7, kt, e) == -1)
		goto out;
	if (key_type_parse(kt, &out->key_type) == -1) {
		db_cert_corrupt(r, "key_type", e);
		goto out;
	}
	out->not_before = db_col_int(r, 8);
	out->not_after = db_col_int(r, 9);
	if (!db_col_null(r, 10)) {
		out->revoked_at = db_col_int(r, 10);
		out->reason = (int)db_col_int(r, 11);
	}
	if (DB_COL_BUF(r, 12, out->fingerprint, e) == -1 ||
	    DB_COL_BUF(r, 13, out->node, e) == -1 ||
	    DB_COL_BUF(r, 14, out->issued_by, e) == -1)
		goto out;
	if ((out->pem = db_col_dup(r, 15, &ok)) == NULL) {
		db_cert_corrupt(r, "pem", e);
		goto out;
	}
	out->created_at = db_col_int(r, 16);
	if (DB_COL_BUF(r, 17, out->spki_sha256, e) == -1)
		goto out;
	out->ca_id = db_col_int(r, 18);
	rc = 0;
out:
	if (rc == -1)
		cert_rec_clear(out);
	return rc;
}

void
db_cert_clear(void *p)
{
	cert_rec_clear(p);
}

int
db_crl_row_read(const struct db_row *r, void *out, struct err *e)
{
	struct db_crl_row *row = out;

	if (DB_COL_BUF(r, 0, row->serial, e) == -1)
		return -1;
	row->revoked_at = db_col_int(r, 1);
	row->reason = (int)db_col_int(r, 2);
	return 0;
}
