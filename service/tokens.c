/*
 * Bearer tokens: creation (the secret is shown once and only its SHA-256
 * is stored), look-up, listing and deletion.  Authentication lives in
 * auth.c (svc_auth_token).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "hex.h"
#include "svc_int.h"
#include "timeutil.h"

#define ACTION_CREATE	"token.create"
#define ACTION_DELETE	"token.delete"

/* Bounds on an enroll token's uses. */
#define TOKEN_USES_MAX	1000000

/* Attempts when a random token id is already taken. */
#define CREATE_TRIES	3

/* Only admin tokens and the CLI manage tokens. */
static int
may_manage(const struct svc_actor *a, struct err *e)
{
	switch (a != NULL ? a->kind : ACTOR_NONE) {
	case ACTOR_ADMIN:
	case ACTOR_CLI:
		return 0;
	default:
		err_set(e, ERR_FORBIDDEN, "only admins manage tokens");
		return -1;
	}
}

/* Description: at most RCA_MAX_DESCRIPTION bytes, no control characters. */
static int
check_description(const char *d, struct err *e)
{
	if (d == NULL)
		return 0;
	if (strnlen(d, RCA_MAX_DESCRIPTION + 1) > RCA_MAX_DESCRIPTION) {
		err_set(e, ERR_INVALID_REQUEST, "description: at most %d "
		    "bytes", RCA_MAX_DESCRIPTION);
		return -1;
	}
	for (const char *p = d; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f) {
			err_set(e, ERR_INVALID_REQUEST, "description: control "
			    "characters are not allowed");
			return -1;
		}
	return 0;
}

static int
check_request(struct svc *s, const struct svc_token_req *req,
    struct err *e)
{
	if (req == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "no request");
		return -1;
	}
	if (req->ttl < 0 && req->ttl != SVC_TOKEN_TTL_NEVER) {
		err_set(e, ERR_INVALID_TTL, "ttl must not be negative");
		return -1;
	}
	if (req->max_cert_ttl < 0) {
		err_set(e, ERR_INVALID_TTL, "max_cert_ttl must not be "
		    "negative");
		return -1;
	}
	if (check_description(req->description, e) == -1)
		return -1;
	switch (req->kind) {
	case TOKEN_ADMIN:
		if ((req->profile != NULL && req->profile[0] != '\0') ||
		    req->npatterns != 0) {
			err_set(e, ERR_INVALID_REQUEST, "profile and names are "
			    "only for enroll tokens");
			return -1;
		}
		return 0;
	case TOKEN_ENROLL:
		break;
	default:
		err_set(e, ERR_INVALID_REQUEST, "kind must be admin or "
		    "enroll");
		return -1;
	}
	/* An enroll token always expires, and not too late. */
	if (req->ttl == SVC_TOKEN_TTL_NEVER) {
		err_set(e, ERR_INVALID_TTL, "an enroll token must expire: "
		    "ttl \"never\" is only for admin tokens");
		return -1;
	}
	if (req->ttl > s->token_max_enroll_ttl) {
		char max[24];

		tu_format_duration(s->token_max_enroll_ttl, max);
		err_set(e, ERR_INVALID_TTL, "ttl is longer than "
		    "tokens.max_enroll_ttl (%s)", max);
		return -1;
	}
	if (req->profile == NULL || req->profile[0] == '\0') {
		err_set(e, ERR_INVALID_REQUEST, "profile is required");
		return -1;
	}
	if (svc_profile(s, req->profile) == NULL) {
		err_set(e, ERR_UNKNOWN_PROFILE, "unknown profile: %.64s",
		    req->profile);
		return -1;
	}
	if (req->npatterns < 1 || req->npatterns > RCA_MAX_PATTERNS ||
	    req->patterns == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "names: 1 to %d patterns",
		    RCA_MAX_PATTERNS);
		return -1;
	}
	for (size_t i = 0; i < req->npatterns; i++)
		if (req->patterns[i] == NULL ||
		    ca_pattern_valid(req->patterns[i], e) == -1) {
			if (req->patterns[i] == NULL)
				err_set(e, ERR_INVALID_REQUEST, "names: empty "
				    "pattern");
			return -1;
		}
	if (req->uses < 1 || req->uses > TOKEN_USES_MAX) {
		err_set(e, ERR_INVALID_REQUEST, "uses must be 1 to %d",
		    TOKEN_USES_MAX);
		return -1;
	}
	return 0;
}

/*
 * Fill t from req (deep copies); the id and hash come later.  An enroll
 * token's default lifetime is cut to max_enroll when that is shorter.
 */
static int
fill_token(struct token_rec *t, const struct svc_token_req *req,
    int64_t now, int64_t max_enroll, struct err *e)
{
	memset(t, 0, sizeof(*t));
	t->kind = req->kind;
	t->created_at = now;
	/* 0 is the kind's default; only an explicit "never" is 0 here. */
	if (req->ttl == SVC_TOKEN_TTL_NEVER)
		t->expires_at = 0;
	else if (req->ttl > 0)
		t->expires_at = now + req->ttl;
	else if (req->kind == TOKEN_ADMIN)
		t->expires_at = now + SVC_ADMIN_TTL_DEFAULT;
	else
		t->expires_at = now + (max_enroll < SVC_ENROLL_TTL_DEFAULT ?
		    max_enroll : SVC_ENROLL_TTL_DEFAULT);
	t->max_cert_ttl = req->max_cert_ttl;
	if (req->kind == TOKEN_ADMIN)
		t->uses_left = -1;
	else {
		t->uses_left = req->uses;
		snprintf(t->profile, sizeof(t->profile), "%s", req->profile);
		if ((t->patterns = calloc(req->npatterns,
		    sizeof(*t->patterns))) == NULL)
			goto oom;
		for (size_t i = 0; i < req->npatterns; i++) {
			if ((t->patterns[i] = strdup(req->patterns[i])) ==
			    NULL)
				goto oom;
			t->npatterns = i + 1;
		}
	}
	if (req->description != NULL &&
	    (t->description = strdup(req->description)) == NULL)
		goto oom;
	return 0;
oom:
	err_set(e, ERR_INTERNAL, "out of memory");
	return -1;
}

int
svc_token_create(struct svc *s, const struct svc_actor *a,
    const struct svc_token_req *req, struct token_rec *out,
    char token[RCA_TOKEN_PREFIX_LEN + 2 * RCA_TOKEN_RANDOM_BYTES + 1],
    struct err *e)
{
	struct token_rec	 t;
	struct audit_rec	 ar;
	struct err		 le;
	unsigned char		 idb[RCA_TOKEN_ID_HEX / 2];
	unsigned char		 secret[RCA_TOKEN_RANDOM_BYTES];
	char			 tok[RCA_TOKEN_PREFIX_LEN +
				     2 * RCA_TOKEN_RANDOM_BYTES + 1];
	char			 detail[sizeof(ar.detail)];
	const char		*object = NULL;
	int64_t			 now;
	int			 rc = -1, tries;

	ERR_LOCAL(e, le);
	err_clear(e);
	memset(&t, 0, sizeof(t));
	memset(out, 0, sizeof(*out));
	token[0] = '\0';
	now = tu_now();

	if (may_manage(a, e) == -1 || check_request(s, req, e) == -1)
		goto out;
	if (fill_token(&t, req, now, s->token_max_enroll_ttl, e) == -1)
		goto out;
	if (req->kind == TOKEN_ENROLL)
		snprintf(detail, sizeof(detail), "kind=enroll profile=%s "
		    "uses=%lld expires_at=%lld", t.profile,
		    (long long)t.uses_left, (long long)t.expires_at);
	else
		snprintf(detail, sizeof(detail), "kind=admin expires_at=%lld",
		    (long long)t.expires_at);

	for (tries = 0; ; tries++) {
		if (ca_random(idb, sizeof(idb), e) == -1 ||
		    ca_random(secret, sizeof(secret), e) == -1)
			goto out;
		hex_encode(idb, sizeof(idb), t.id);
		memcpy(tok, RCA_TOKEN_PREFIX, RCA_TOKEN_PREFIX_LEN);
		hex_encode(secret, sizeof(secret), tok + RCA_TOKEN_PREFIX_LEN);
		ca_sha256(tok, strlen(tok), t.hash);
		object = t.id;
		svc_audit_fill(&ar, a, ACTION_CREATE, t.id, AUDIT_OK, detail);
		if (db_token_insert(s->db, &t, &ar, e) == 0)
			break;
		if (e->code != ERR_ALREADY_EXISTS)
			goto out;
		if (tries + 1 >= CREATE_TRIES) {
			err_set(e, ERR_INTERNAL, "token id collisions");
			goto out;
		}
		err_clear(e);
	}
	memcpy(token, tok, sizeof(tok));
	*out = t;
	memset(&t, 0, sizeof(t));
	rc = 0;
out:
	if (rc == -1)
		svc_fail(s, a, ACTION_CREATE, object, e);
	token_rec_clear(&t);
	fio_wipe(secret, sizeof(secret));
	fio_wipe(tok, sizeof(tok));
	return rc;
}

int
svc_token_get(struct svc *s, const char *id, struct token_rec *out,
    struct err *e)
{
	struct err le;

	ERR_LOCAL(e, le);
	if (id == NULL || strnlen(id, RCA_TOKEN_ID_HEX + 1) >
	    RCA_TOKEN_ID_HEX) {
		err_set(e, ERR_NOT_FOUND, "no such token");
		return -1;
	}
	if (db_token_get(s->db, id, out, e) == -1) {
		if (e->code != ERR_NOT_FOUND)
			svc_err_hide(e, "token %s", id);
		return -1;
	}
	return 0;
}

int
svc_token_list(struct svc *s, const char *after, size_t limit,
    struct token_rec **out, size_t *n, char next[RCA_TOKEN_ID_HEX + 1],
    struct err *e)
{
	struct err le;

	ERR_LOCAL(e, le);
	if (svc_list_limit(limit, e) == -1)
		return -1;
	if (db_token_list(s->db, after, limit, out, n, next, e) == -1) {
		svc_err_hide(e, "token list");
		return -1;
	}
	return 0;
}

void
svc_token_list_free(struct token_rec *list, size_t n)
{
	db_token_list_free(list, n);
}

int
svc_token_delete(struct svc *s, const struct svc_actor *a, const char *id,
    struct err *e)
{
	struct audit_rec	ar;
	struct err		le;
	int			rc = -1;

	ERR_LOCAL(e, le);
	err_clear(e);
	if (may_manage(a, e) == -1)
		goto out;
	if (id == NULL || id[0] == '\0' ||
	    strnlen(id, RCA_TOKEN_ID_HEX + 1) > RCA_TOKEN_ID_HEX) {
		err_set(e, ERR_NOT_FOUND, "no such token");
		goto out;
	}
	svc_audit_fill(&ar, a, ACTION_DELETE, id, AUDIT_OK, "");
	if (db_token_delete(s->db, id, &ar, e) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		svc_fail(s, a, ACTION_DELETE, id, e);
	return rc;
}
