/*
 * Issuance: authorise, build or parse the request, apply the profile and
 * the token's bounds, consume a use, sign, and commit the certificate
 * with its audit entry before the caller sees it.  No lock is held while
 * signing: ca/ and db/ are safe to call from many threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

#define ACTION_ISSUE	"certificate.issue"

/* A fresh serial on collision; three random 128-bit collisions is a bug. */
#define ISSUE_TRIES	3

void
svc_issued_clear(struct svc_issued *r)
{
	if (r == NULL)
		return;
	cert_rec_clear(&r->cert);
	free(r->chain_pem);
	fio_secret_free_str(r->private_key_pem);
	free(r->ca_pem);
	memset(r, 0, sizeof(*r));
	r->cert.reason = -1;
}

/* The profile req names: its internal profile, or a configured one. */
static const struct profile *
profile_of(struct svc *s, const struct svc_issue_req *req, struct err *e)
{
	const struct profile *p;

	if (req->internal_profile != NULL)
		return req->internal_profile;
	if (req->profile == NULL || req->profile[0] == '\0') {
		err_set(e, ERR_INVALID_REQUEST, "profile is required");
		return NULL;
	}
	if ((p = svc_profile(s, req->profile)) == NULL) {
		err_set(e, ERR_UNKNOWN_PROFILE, "unknown profile: %.64s",
		    req->profile);
		return NULL;
	}
	return p;
}

/*
 * Which profile the request is for.  An internal profile (init's API and
 * admin certificates) may only come from the CLI or the scheduler.
 */
static const struct profile *
resolve_profile(struct svc *s, const struct svc_actor *a,
    const struct svc_issue_req *req, struct err *e)
{
	if (req->internal_profile != NULL && (a == NULL ||
	    (a->kind != ACTOR_CLI && a->kind != ACTOR_SCHEDULER))) {
		err_set(e, ERR_FORBIDDEN, "internal profiles are reserved "
		    "to the service");
		return NULL;
	}
	return profile_of(s, req, e);
}

/* May a issue under p?  Admin, CLI, scheduler: any; enroll: its own. */
static int
authorise(const struct svc_actor *a, const struct profile *p,
    struct err *e)
{
	if (a == NULL || a->kind != ACTOR_TOKEN)
		return svc_require_admin(a, "not allowed to issue", e);
	if (a->token.kind != TOKEN_ENROLL) {
		err_set(e, ERR_FORBIDDEN, "token kind may not issue");
		return -1;
	}
	if (strcmp(a->token.profile, p->name) != 0) {
		err_set(e, ERR_FORBIDDEN, "token is bound to profile %s",
		    a->token.profile);
		return -1;
	}
	return 0;
}

/*
 * Names for generate: a common name is required, URI SANs are not
 * offered, and the lists must satisfy names.h's bounds.
 */
static int
check_generate(const struct svc_issue_req *req, const struct profile *p,
    struct err *e)
{
	const struct names *n = req->names;

	if (n == NULL || n->cn == NULL || n->cn[0] == '\0') {
		err_set(e, ERR_INVALID_REQUEST, "common_name is required");
		return -1;
	}
	if (strlen(n->cn) > RCA_MAX_NAME_LEN) {
		err_set(e, ERR_INVALID_REQUEST, "common_name is too long");
		return -1;
	}
	if (n->n[NAME_URI] != 0) {
		err_set(e, ERR_INVALID_REQUEST, "sans.uri is not supported "
		    "by generate");
		return -1;
	}
	if (n->n[NAME_DNS] > RCA_MAX_SANS || n->n[NAME_IP] > RCA_MAX_SANS) {
		err_set(e, ERR_INVALID_REQUEST, "at most %d SANs of each kind",
		    RCA_MAX_SANS);
		return -1;
	}
	for (size_t i = 0; i < n->n[NAME_DNS]; i++)
		if (!names_is_dns(n->list[NAME_DNS][i])) {
			err_set(e, ERR_INVALID_REQUEST, "sans.dns: not a DNS "
			    "name: %.64s", n->list[NAME_DNS][i]);
			return -1;
		}
	for (size_t i = 0; i < n->n[NAME_IP]; i++)
		if (!names_is_ip(n->list[NAME_IP][i])) {
			err_set(e, ERR_INVALID_REQUEST, "sans.ip: not an IP "
			    "address: %.64s", n->list[NAME_IP][i]);
			return -1;
		}
	if ((unsigned)req->key_type >= KEY__MAX) {
		err_set(e, ERR_INVALID_REQUEST, "unknown key_type");
		return -1;
	}
	/* Refuse before spending a key generation on it. */
	if ((p->key_types & KEY_BIT(req->key_type)) == 0) {
		err_set(e, ERR_KEY_REJECTED, "key type %s is not allowed by "
		    "profile %s", key_type_name(req->key_type), p->name);
		return -1;
	}
	return 0;
}

/* Concatenate two PEM strings (new). */
static char *
concat_pem(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b);
	char	*r;

	if ((r = malloc(la + lb + 2)) == NULL)
		return NULL;
	memcpy(r, a, la);
	/* PEM from OpenSSL ends in a newline; keep the blocks apart if not. */
	if (la > 0 && a[la - 1] != '\n')
		r[la++] = '\n';
	memcpy(r + la, b, lb + 1);
	return r;
}

/* Move an issued certificate into the record that will be stored. */
static void
fill_rec(struct cert_rec *r, struct ca_cert *c, const struct profile *p,
    const struct svc_actor *a, const char *node, int64_t now)
{
	memset(r, 0, sizeof(*r));
	r->reason = -1;
	memcpy(r->serial, c->serial, sizeof(r->serial));
	snprintf(r->profile, sizeof(r->profile), "%s", p->name);
	r->names = c->names;
	memset(&c->names, 0, sizeof(c->names));
	r->key_type = c->key_type;
	r->not_before = c->not_before;
	r->not_after = c->not_after;
	memcpy(r->fingerprint, c->fingerprint, sizeof(r->fingerprint));
	if (node != NULL)
		snprintf(r->node, sizeof(r->node), "%s", node);
	snprintf(r->issued_by, sizeof(r->issued_by), "%s",
	    svc_actor_name(a));
	r->pem = c->pem;
	c->pem = NULL;
	r->created_at = now;
}

int
svc_sign_store(struct svc *s, const struct svc_actor *a, const char *action,
    const struct profile *p, const struct ca_csr *csr,
    const struct ca_issue_params *ip, const char *spki, const char *node,
    const char *extra, struct svc_issued *out, struct err *e)
{
	struct svc_cas		*cas = NULL;
	struct ca_cert		c;
	struct cert_rec		rec;
	struct audit_rec	ar;
	char			detail[sizeof(ar.detail)];
	int			rc = -1, tries;

	memset(&c, 0, sizeof(c));
	memset(&rec, 0, sizeof(rec));
	rec.reason = -1;
	/* The current CA for the whole operation, even across a reload. */
	if (svc_cas_issuer(s, &cas, e) == -1)
		goto out;
	for (tries = 0; ; tries++) {
		if (ca_issue(cas->cur->ca, csr, ip, &c, e) == -1)
			goto out;
		fill_rec(&rec, &c, p, a, node, ip->now);
		rec.ca_id = cas->cur->id;
		snprintf(rec.spki_sha256, sizeof(rec.spki_sha256), "%s", spki);
		ca_cert_clear(&c);
		snprintf(detail, sizeof(detail), "profile=%s cn=%.128s%s",
		    p->name, rec.names.cn != NULL ? rec.names.cn : "", extra);
		svc_audit_fill(&ar, a, action, rec.serial, AUDIT_OK, detail);
		/* An enroll token's use is spent in the certificate's commit. */
		if (db_cert_insert_use(s->db, &rec, a->kind == ACTOR_TOKEN ?
		    a->token.id : NULL, &ar, e) == 0)
			break;
		if (e->code != ERR_ALREADY_EXISTS)
			goto out;
		if (tries + 1 >= ISSUE_TRIES) {
			err_set(e, ERR_INTERNAL, "%d serial collisions in a "
			    "row", ISSUE_TRIES);
			goto out;
		}
		log_warn("serial %s collided; signing again", rec.serial);
		cert_rec_clear(&rec);
		err_clear(e);
	}

	/* SPEC 10: leaf + intermediates, never the anchor; CA = bundle. */
	if ((out->chain_pem = concat_pem(rec.pem,
	    ca_chain_pem(cas->cur->ca))) == NULL ||
	    (out->ca_pem = strdup(cas->bundle_pem)) == NULL) {
		/* Stored and audited; only the reply could not be made. */
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	out->cert = rec;
	memset(&rec, 0, sizeof(rec));
	rc = 0;
out:
	svc_cas_put(cas);
	ca_cert_clear(&c);
	cert_rec_clear(&rec);
	return rc;
}

struct ca_csr *
svc_csr_read(const char *pem, size_t len, struct err *e)
{
	if (len > RCA_MAX_CSR_BYTES) {
		err_set(e, ERR_INVALID_CSR, "csr is larger than %d bytes",
		    RCA_MAX_CSR_BYTES);
		return NULL;
	}
	return ca_csr_parse(pem, len, e);
}

/*
 * The request as a CSR (new): req's own, or one for a key generated now
 * (*key_pem, new).  Generated names are checked first, against an
 * enroll token's patterns too, so a refused request costs no key.
 */
static struct ca_csr *
request_csr(const struct svc_actor *a, const struct profile *p,
    const struct svc_issue_req *req, char **key_pem, struct err *e)
{
	if (req->csr_pem != NULL)
		return svc_csr_read(req->csr_pem, req->csr_len, e);
	if (check_generate(req, p, e) == -1)
		return NULL;
	if (a->kind == ACTOR_TOKEN && ca_names_allowed(a->token.patterns,
	    a->token.npatterns, req->names, e) == -1)
		return NULL;
	return ca_keygen(req->key_type, req->names, key_pem, e);
}

/*
 * The work of svc_issue() once a may issue under p: the request, the
 * policy, the token's patterns, the key's block list, then signing and
 * the commit.  A failure is audited and out cleared.
 */
static int
issue_under(struct svc *s, const struct svc_actor *a,
    const struct profile *p, const struct svc_issue_req *req,
    struct svc_issued *out, struct err *e)
{
	struct ca_csr		*csr = NULL;
	char			*key_pem = NULL;
	struct ca_issue_params	 ip;
	char			 spki[RCA_SHA256_HEX + 1];
	int			 rc = -1;

	memset(&ip, 0, sizeof(ip));
	ip.now = tu_now();
	if ((csr = request_csr(a, p, req, &key_pem, e)) == NULL)
		goto out;
	ip.profile = p;
	ip.ttl = req->ttl;
	ip.ttl_cap = a->kind == ACTOR_TOKEN ? a->token.max_cert_ttl : 0;
	if (ca_policy_check(csr, &ip, e) == -1)
		goto out;
	if (a->kind == ACTOR_TOKEN && ca_names_allowed(a->token.patterns,
	    a->token.npatterns, ca_csr_names(csr), e) == -1)
		goto out;
	/* A key revoked as compromised is never certified again. */
	if (svc_key_check(s, csr, spki, e) == -1)
		goto out;
	if (svc_sign_store(s, a, ACTION_ISSUE, p, csr, &ip, spki, req->node,
	    "", out, e) == -1)
		goto out;
	out->private_key_pem = key_pem;
	key_pem = NULL;
	rc = 0;
out:
	if (rc == -1) {
		svc_fail(s, a, ACTION_ISSUE, NULL, e);
		svc_issued_clear(out);
	}
	ca_csr_free(csr);
	fio_secret_free_str(key_pem);
	return rc;
}

int
svc_issue_authorised(struct svc *s, const struct svc_actor *a,
    const struct svc_issue_req *req, struct svc_issued *out,
    struct err *e)
{
	const struct profile *p;

	err_clear(e);
	memset(out, 0, sizeof(*out));
	out->cert.reason = -1;
	if ((p = profile_of(s, req, e)) == NULL) {
		svc_fail(s, a, ACTION_ISSUE, NULL, e);
		return -1;
	}
	return issue_under(s, a, p, req, out, e);
}

int
svc_issue(struct svc *s, const struct svc_actor *a,
    const struct svc_issue_req *req, struct svc_issued *out,
    struct err *e)
{
	const struct profile	*p;
	struct err		 le;

	ERR_LOCAL(e, le);
	err_clear(e);
	memset(out, 0, sizeof(*out));
	out->cert.reason = -1;
	if (req == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "no request");
		goto refused;
	}
	if ((p = resolve_profile(s, a, req, e)) == NULL ||
	    authorise(a, p, e) == -1)
		goto refused;
	return issue_under(s, a, p, req, out, e);
refused:
	svc_fail(s, a, ACTION_ISSUE, NULL, e);
	return -1;
}
