/*
 * Certificates after issuance: look-ups, listing, and revocation, which
 * publishes a new CRL before it returns so the CRL served afterwards
 * lists the certificate.
 */
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

#define ACTION_REVOKE	"certificate.revoke"

int
svc_cert_get(struct svc *s, const char *serial, struct cert_rec *out,
    struct err *e)
{
	char		norm[RCA_SERIAL_HEX_MAX + 1];
	struct err	le;

	ERR_LOCAL(e, le);
	if (hex_serial_normalize(serial, norm, e) == -1)
		return -1;
	if (db_cert_get(s->db, norm, out, e) == -1) {
		if (e->code != ERR_NOT_FOUND)
			svc_err_hide(e, "certificate %s", norm);
		return -1;
	}
	return 0;
}

int
svc_cert_list(struct svc *s, const struct cert_filter *f,
    struct cert_rec **out, size_t *n, int64_t *next, struct err *e)
{
	struct err le;

	ERR_LOCAL(e, le);
	if (svc_list_limit(f != NULL ? f->limit : 0, e) == -1)
		return -1;
	if (db_cert_list(s->db, f, out, n, next, e) == -1) {
		svc_err_hide(e, "certificate list");
		return -1;
	}
	return 0;
}

void
svc_cert_list_free(struct cert_rec *list, size_t n)
{
	db_cert_list_free(list, n);
}

/*
 * keyCompromise: the key is compromised, not only this certificate.
 * Revoke every unexpired certificate with the same key and block the
 * key, with the revocation of serial in one transaction (db/), each
 * sibling audited as certificate.revoke naming serial.
 */
static int
revoke_key(struct svc *s, const struct svc_actor *a, const char *serial,
    const struct audit_rec *ar, struct cert_rec *out,
    char spki_out[RCA_SHA256_HEX + 1], struct err *e)
{
	struct audit_rec	sib;
	struct cert_rec		rec;
	char			spki[RCA_SHA256_HEX + 1];
	char			detail[sizeof(sib.detail)];
	size_t			n = 0;
	int			rc = -1;

	memset(&rec, 0, sizeof(rec));
	if (db_cert_get(s->db, serial, &rec, e) == -1)
		goto out;
	/* From the stored certificate, whether or not its row has it. */
	if (ca_pem_spki_sha256(rec.pem, spki, e) == -1) {
		log_error("certificate %s: cannot hash its key: %s", serial,
		    e->msg);
		err_set(e, ERR_INTERNAL, "internal error");
		goto out;
	}
	snprintf(detail, sizeof(detail), "reason=keyCompromise "
	    "same_key_as=%s (followed its keyCompromise)", serial);
	svc_audit_fill(&sib, a, ACTION_REVOKE, "", AUDIT_OK, detail);
	sib.at = ar->at;
	if (db_cert_revoke_key(s->db, serial, spki, ar->at, ar, &sib, out,
	    &n, e) == -1)
		goto out;
	log_info("certificate %s revoked for keyCompromise; key %.16s... "
	    "blocked; %zu more certificate(s) with that key revoked", serial,
	    spki, n);
	memcpy(spki_out, spki, RCA_SHA256_HEX + 1);
	rc = 0;
out:
	cert_rec_clear(&rec);
	return rc;
}

/* An empty record (the caller's memory is not initialised).  NULL ok. */
static void
rec_init(struct cert_rec *r)
{
	if (r == NULL)
		return;
	memset(r, 0, sizeof(*r));
	r->reason = -1;
}

int
svc_revoke_authorised(struct svc *s, const struct svc_actor *a,
    const char *serial, int reason, struct cert_rec *out,
    uint64_t *crl_number, struct err *e)
{
	char		 norm[RCA_SERIAL_HEX_MAX + 1];
	char		 detail[64];
	struct audit_rec ar;
	struct svc_crl_wait w;
	struct cert_rec	 own;
	const char	*object = serial;
	const char	*rname;
	bool		 revoked = false;
	int		 rc = -1;

	err_clear(e);
	rec_init(out);
	rec_init(&own);
	memset(&w, 0, sizeof(w));
	if (out == NULL)
		out = &own;
	if (hex_serial_normalize(serial, norm, e) == -1)
		goto out;
	object = norm;
	if ((rname = reason_name(reason)) == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "unknown revocation reason %d",
		    reason);
		goto out;
	}
	snprintf(detail, sizeof(detail), "reason=%s", rname);
	svc_audit_fill(&ar, a, ACTION_REVOKE, norm, AUDIT_OK, detail);
	if (reason == REASON_KEY_COMPROMISE) {
		/* Its siblings were revoked too: the CRL adds them by key. */
		if (revoke_key(s, a, norm, &ar, out, w.spki, e) == -1)
			goto out;
	} else if (db_cert_revoke(s->db, norm, reason, ar.at, &ar, out,
	    e) == -1)
		goto out;

	/*
	 * The revocation is committed and audited.  Wait for a CRL that
	 * lists it (one build serves every revocation waiting).  If it
	 * cannot be published now, the scheduler retries (the CRL is
	 * marked due), but the caller must not be told the CRL lists it.
	 */
	revoked = true;
	w.ca_id = out->ca_id;
	memcpy(w.entry.serial, norm, sizeof(w.entry.serial));
	w.entry.revoked_at = out->revoked_at;
	w.entry.reason = out->reason;
	w.not_after = out->not_after;
	if (svc_crl_publish_revoked(s, a, &w, crl_number, e) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1) {
		/* After the commit, the publication audited its failure. */
		if (!revoked)
			svc_fail(s, a, ACTION_REVOKE, object, e);
		cert_rec_clear(out);
	}
	cert_rec_clear(&own);
	return rc;
}

int
svc_revoke(struct svc *s, const struct svc_actor *a, const char *serial,
    int reason, struct cert_rec *out, uint64_t *crl_number, struct err *e)
{
	struct err le;

	ERR_LOCAL(e, le);
	err_clear(e);
	if (svc_require_admin(a, "not allowed to revoke", e) == -1) {
		rec_init(out);
		svc_fail(s, a, ACTION_REVOKE, serial, e);
		return -1;
	}
	return svc_revoke_authorised(s, a, serial, reason, out, crl_number,
	    e);
}
