/*
 * Renewal by client certificate (/v1/renew): authenticate the presented
 * certificate against the CA and the database, then issue its successor
 * with the same profile, names, node and lifetime, with the same key or
 * a new one from a CSR carrying the same names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

#define ACTION_RENEW	"certificate.renew"

int
svc_auth_cert(struct svc *s, const unsigned char *der, size_t len,
    struct svc_actor *out, struct err *e)
{
	struct ca_cert	c;
	struct cert_rec	rec;
	struct err	le;
	int		rc = -1, blocked;

	if (e == NULL)
		e = &le;
	err_clear(e);
	memset(&c, 0, sizeof(c));
	memset(&rec, 0, sizeof(rec));
	rec.reason = -1;
	svc_actor_init(out, ACTOR_NONE);

	if (der == NULL || len == 0) {
		err_set(e, ERR_UNAUTHORIZED, "a client certificate is needed");
		goto out;
	}
	if (ca_verify_cert(s->ca, der, len, tu_now(), &c, e) == -1) {
		if (svc_err_internal(e->code)) {
			log_error("client certificate: %s: %s",
			    err_code_name(e->code), e->msg);
			err_set(e, ERR_INTERNAL, "internal error");
		} else if (e->code != ERR_UNAUTHORIZED)
			err_set(e, ERR_UNAUTHORIZED, "client certificate "
			    "refused");
		goto out;
	}
	/* Only a certificate this CA recorded, byte for byte, counts. */
	if (db_cert_get(s->db, c.serial, &rec, e) == -1) {
		if (e->code == ERR_NOT_FOUND)
			err_set(e, ERR_UNAUTHORIZED, "unknown certificate");
		else {
			log_error("client certificate %s: %s: %s", c.serial,
			    err_code_name(e->code), e->msg);
			err_set(e, ERR_INTERNAL, "internal error");
		}
		goto out;
	}
	if (strcmp(rec.fingerprint, c.fingerprint) != 0) {
		err_set(e, ERR_UNAUTHORIZED, "unknown certificate");
		goto out;
	}
	if (rec.revoked_at != 0) {
		err_set(e, ERR_UNAUTHORIZED, "certificate revoked");
		goto out;
	}
	/* A blocked key does not authenticate, revoked or not. */
	if ((blocked = svc_cert_key_blocked(s, &rec, der, len, e)) == -1) {
		log_error("client certificate %s: %s: %s", c.serial,
		    err_code_name(e->code), e->msg);
		err_set(e, ERR_INTERNAL, "internal error");
		goto out;
	}
	if (blocked == 1) {
		err_set(e, ERR_UNAUTHORIZED, "the certificate's key was "
		    "revoked as compromised");
		goto out;
	}
	if ((out->cert_der = malloc(len)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	memcpy(out->cert_der, der, len);
	out->cert_der_len = len;
	out->kind = ACTOR_MTLS;
	snprintf(out->id, sizeof(out->id), "mtls:%s", rec.serial);
	out->cert = rec;
	memset(&rec, 0, sizeof(rec));
	rc = 0;
out:
	if (rc == -1) {
		svc_actor_clear(out);
		/* A refused certificate is still named in the audit log. */
		if (c.serial[0] != '\0')
			snprintf(out->id, sizeof(out->id), "mtls:%s",
			    c.serial);
	}
	ca_cert_clear(&c);
	cert_rec_clear(&rec);
	return rc;
}

int
svc_renew(struct svc *s, const struct svc_actor *a, const char *csr_pem,
    size_t csr_len, struct svc_issued *out, struct err *e)
{
	const struct cert_rec	*old;
	const struct profile	*p;
	struct ca_csr		*csr = NULL;
	struct ca_issue_params	 ip;
	struct err		 le;
	char			 extra[64];
	char			 spki[RCA_SHA256_HEX + 1];
	int64_t			 ttl;
	int			 rc = -1;

	if (e == NULL)
		e = &le;
	err_clear(e);
	memset(out, 0, sizeof(*out));
	out->cert.reason = -1;

	if (a == NULL || a->kind != ACTOR_MTLS || a->cert_der == NULL) {
		err_set(e, ERR_FORBIDDEN, "renewal needs a client "
		    "certificate");
		goto out;
	}
	old = &a->cert;
	if ((p = svc_profile(s, old->profile)) == NULL) {
		err_set(e, ERR_UNKNOWN_PROFILE, "profile %s is no longer "
		    "configured", old->profile);
		goto out;
	}
	if (csr_pem != NULL) {
		if (csr_len > RCA_MAX_CSR_BYTES) {
			err_set(e, ERR_INVALID_CSR, "csr is larger than %d "
			    "bytes", RCA_MAX_CSR_BYTES);
			goto out;
		}
		if ((csr = ca_csr_parse(csr_pem, csr_len, e)) == NULL)
			goto out;
		if (!names_equal(ca_csr_names(csr), &old->names)) {
			err_set(e, ERR_NAME_NOT_ALLOWED, "the CSR must carry "
			    "the same names as the certificate");
			goto out;
		}
	} else if ((csr = ca_csr_from_cert(a->cert_der, a->cert_der_len,
	    e)) == NULL)
		goto out;

	/* The same lifetime, unless the profile has since been tightened. */
	ttl = old->not_after - old->not_before - RCA_BACKDATE_SECONDS;
	if (ttl > p->max_ttl)
		ttl = p->max_ttl;
	if (ttl < 1)
		ttl = 0;
	memset(&ip, 0, sizeof(ip));
	ip.profile = p;
	ip.ttl = ttl;
	ip.now = tu_now();
	if (ca_policy_check(csr, &ip, e) == -1)
		goto out;
	if (svc_key_check(s, csr, spki, e) == -1)
		goto out;
	snprintf(extra, sizeof(extra), " from=%s", old->serial);
	if (svc_sign_store(s, a, ACTION_RENEW, p, csr, &ip, spki,
	    old->node[0] != '\0' ? old->node : NULL, extra, out, e) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1) {
		svc_fail(s, a, ACTION_RENEW, a != NULL ? a->cert.serial : NULL,
		    e);
		svc_issued_clear(out);
	}
	ca_csr_free(csr);
	return rc;
}
