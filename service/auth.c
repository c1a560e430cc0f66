/*
 * Who is this actor: bearer tokens and client certificates become a
 * struct svc_actor, and the one rule for administrative acts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

/* Length of a token string: "rca_" and 64 hex digits. */
#define SVC_TOKEN_LEN	(RCA_TOKEN_PREFIX_LEN + 2 * RCA_TOKEN_RANDOM_BYTES)

int
svc_require_admin(const struct svc_actor *a, const char *msg,
    struct err *e)
{
	switch (a != NULL ? a->kind : ACTOR_NONE) {
	case ACTOR_ADMIN:
	case ACTOR_CLI:
	case ACTOR_SCHEDULER:
		return 0;
	default:
		err_set(e, ERR_FORBIDDEN, "%s", msg);
		return -1;
	}
}

/* ------------------------------------------------------------------ */
/* Bearer tokens                                                       */

/*
 * Find the stored token whose hash is h, comparing again in constant
 * time.  Errors: ERR_UNAUTHORIZED (unknown), ERR_DB (logged).
 */
static int
token_find(struct svc *s, const unsigned char h[32], struct token_rec *t,
    struct err *e)
{
	struct err dbe;

	err_clear(&dbe);
	if (db_token_find_hash(s->db, h, t, &dbe) == -1) {
		if (dbe.code == ERR_NOT_FOUND)
			err_set(e, ERR_UNAUTHORIZED, "unknown token");
		else if (dbe.code == ERR_UNAVAILABLE)
			*e = dbe;	/* 503: the client retries */
		else {
			log_error("token lookup: %s: %s",
			    err_code_name(dbe.code), dbe.msg);
			err_set(e, ERR_DB, "internal error");
		}
		return -1;
	}
	/*
	 * The lookup used the hash as a key; compare again in constant
	 * time so the decision never rests on the index's comparison.
	 */
	if (!ca_ct_equal(t->hash, h, 32)) {
		err_set(e, ERR_UNAUTHORIZED, "unknown token");
		return -1;
	}
	return 0;
}

/*
 * Make out the actor of the token t ("admin:<id>" or "token:<id>"),
 * which steals what t owns.  Errors: ERR_UNAUTHORIZED (unknown kind).
 */
static int
token_actor(struct token_rec *t, struct svc_actor *out, struct err *e)
{
	switch (t->kind) {
	case TOKEN_ADMIN:
		out->kind = ACTOR_ADMIN;
		snprintf(out->id, sizeof(out->id), "admin:%s", t->id);
		break;
	case TOKEN_ENROLL:
		out->kind = ACTOR_TOKEN;
		snprintf(out->id, sizeof(out->id), "token:%s", t->id);
		break;
	default:
		err_set(e, ERR_UNAUTHORIZED, "unknown token kind");
		return -1;
	}
	out->token = *t;
	memset(t, 0, sizeof(*t));
	return 0;
}

int
svc_auth_token(struct svc *s, const char *token, struct svc_actor *out,
    struct err *e)
{
	struct token_rec	 t;
	struct err		 le;
	unsigned char		 h[32];
	int64_t			 now;
	int			 rc = -1;

	ERR_LOCAL(e, le);
	memset(&t, 0, sizeof(t));
	memset(h, 0, sizeof(h));
	svc_actor_init(out, ACTOR_NONE);

	/* Shape first: no database round trip for garbage. */
	if (token == NULL ||
	    strnlen(token, SVC_TOKEN_LEN + 1) != SVC_TOKEN_LEN ||
	    strncmp(token, RCA_TOKEN_PREFIX, RCA_TOKEN_PREFIX_LEN) != 0) {
		err_set(e, ERR_UNAUTHORIZED, "invalid token");
		goto out;
	}
	ca_sha256(token, SVC_TOKEN_LEN, h);
	if (token_find(s, h, &t, e) == -1)
		goto out;
	now = tu_now();
	if (t.expires_at != 0 && t.expires_at <= now) {
		err_set(e, ERR_UNAUTHORIZED, "token expired");
		goto out;
	}
	if (t.uses_left == 0) {
		err_set(e, ERR_UNAUTHORIZED, "token used up");
		goto out;
	}
	if (token_actor(&t, out, e) == -1)
		goto out;
	rc = 0;
out:
	token_rec_clear(&t);
	fio_wipe(h, sizeof(h));
	if (rc == -1 && out != NULL)
		svc_actor_init(out, ACTOR_NONE);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Client certificates                                                 */

/*
 * Verify the presented DER into *c against every CA in the bundle
 * (next, current, retired: SPEC section 10); *ca_id gets the issuing
 * CA's id.  A gone CA's certificates no longer verify.  Refusals become
 * ERR_UNAUTHORIZED, our failures a logged ERR_INTERNAL.
 */
static int
cert_verify(struct svc *s, const unsigned char *der, size_t len,
    struct ca_cert *c, int64_t *ca_id, struct err *e)
{
	struct svc_cas	*cas = NULL;
	int		 which = -1, rc = -1;

	if (der == NULL || len == 0) {
		err_set(e, ERR_UNAUTHORIZED, "a client certificate is needed");
		return -1;
	}
	cas = svc_cas_get(s);
	if (ca_trust_verify_cert(cas->trust, der, len, tu_now(), &which, c,
	    e) == -1) {
		if (svc_err_internal(e->code))
			svc_err_hide(e, "client certificate");
		else if (e->code != ERR_UNAUTHORIZED)
			err_set(e, ERR_UNAUTHORIZED, "client certificate "
			    "refused");
		goto out;
	}
	if (which < 0 || (size_t)which >= cas->ntrust) {
		log_error("client certificate: no issuing CA reported");
		err_set(e, ERR_INTERNAL, "internal error");
		goto out;
	}
	*ca_id = cas->trust_ent[which]->id;
	rc = 0;
out:
	svc_cas_put(cas);
	return rc;
}

/*
 * Only a certificate this CA recorded, byte for byte, unrevoked and
 * with an unblocked key counts: its record goes to *rec.
 */
static int
cert_known(struct svc *s, const struct ca_cert *c, const unsigned char *der,
    size_t len, struct cert_rec *rec, struct err *e)
{
	int blocked;

	if (db_cert_get(s->db, c->serial, rec, e) == -1) {
		if (e->code == ERR_NOT_FOUND)
			err_set(e, ERR_UNAUTHORIZED, "unknown certificate");
		else
			svc_err_hide(e, "client certificate %s", c->serial);
		return -1;
	}
	if (strcmp(rec->fingerprint, c->fingerprint) != 0) {
		err_set(e, ERR_UNAUTHORIZED, "unknown certificate");
		return -1;
	}
	if (rec->revoked_at != 0) {
		err_set(e, ERR_UNAUTHORIZED, "certificate revoked");
		return -1;
	}
	/* A blocked key does not authenticate, revoked or not. */
	if ((blocked = svc_cert_key_blocked(s, rec, der, len, e)) == -1) {
		svc_err_hide(e, "client certificate %s", c->serial);
		return -1;
	}
	if (blocked == 1) {
		err_set(e, ERR_UNAUTHORIZED, "the certificate's key was "
		    "revoked as compromised");
		return -1;
	}
	return 0;
}

int
svc_auth_cert(struct svc *s, const unsigned char *der, size_t len,
    struct svc_actor *out, struct err *e)
{
	struct ca_cert	c;
	struct cert_rec	rec;
	struct err	le;
	int64_t		ca_id = 0;
	int		rc = -1;

	ERR_LOCAL(e, le);
	err_clear(e);
	memset(&c, 0, sizeof(c));
	memset(&rec, 0, sizeof(rec));
	rec.reason = -1;
	svc_actor_init(out, ACTOR_NONE);

	if (cert_verify(s, der, len, &c, &ca_id, e) == -1 ||
	    cert_known(s, &c, der, len, &rec, e) == -1)
		goto out;
	/* The issuer that verified it must be the one recorded. */
	if (rec.ca_id != ca_id) {
		err_set(e, ERR_UNAUTHORIZED, "unknown certificate");
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
