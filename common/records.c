/* Helpers for the shared records. */
#include <stdlib.h>
#include <string.h>

#include "records.h"

void
cert_rec_clear(struct cert_rec *r)
{
	if (r == NULL)
		return;
	names_clear(&r->names);
	free(r->pem);
	memset(r, 0, sizeof(*r));
	r->reason = -1;
}

enum cert_status
cert_rec_status(const struct cert_rec *r, int64_t now)
{
	if (r->revoked_at != 0)
		return CERT_REVOKED;
	if (r->not_after < now)
		return CERT_EXPIRED;
	return CERT_VALID;
}

static const char *const cert_status_names[CERT_STATUS__MAX] = {
	[CERT_VALID] = "valid",
	[CERT_REVOKED] = "revoked",
	[CERT_EXPIRED] = "expired",
};

const char *
cert_status_name(enum cert_status s)
{
	return (unsigned)s < CERT_STATUS__MAX ? cert_status_names[s] :
	    "unknown";
}

int
cert_status_parse(const char *s, enum cert_status *out)
{
	for (int i = 0; s != NULL && i < CERT_STATUS__MAX; i++)
		if (strcmp(s, cert_status_names[i]) == 0) {
			*out = (enum cert_status)i;
			return 0;
		}
	return -1;
}

static const char *const token_kind_names[TOKEN_KIND__MAX] = {
	[TOKEN_ADMIN] = "admin",
	[TOKEN_ENROLL] = "enroll",
};

const char *
token_kind_name(enum token_kind k)
{
	return (unsigned)k < TOKEN_KIND__MAX ? token_kind_names[k] :
	    "unknown";
}

int
token_kind_parse(const char *s, enum token_kind *out)
{
	for (int i = 0; s != NULL && i < TOKEN_KIND__MAX; i++)
		if (strcmp(s, token_kind_names[i]) == 0) {
			*out = (enum token_kind)i;
			return 0;
		}
	return -1;
}

void
token_rec_clear(struct token_rec *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->npatterns; i++)
		free(r->patterns[i]);
	free(r->patterns);
	free(r->description);
	memset(r, 0, sizeof(*r));
}

static const char *const outcome_names[AUDIT_OUTCOME__MAX] = {
	[AUDIT_OK] = "ok",
	[AUDIT_DENIED] = "denied",
	[AUDIT_ERROR] = "error",
};

const char *
audit_outcome_name(enum audit_outcome o)
{
	return (unsigned)o < AUDIT_OUTCOME__MAX ? outcome_names[o] : "error";
}

void
node_rec_clear(struct node_rec *r)
{
	if (r == NULL)
		return;
	names_clear(&r->sans);
	memset(r, 0, sizeof(*r));
}

static const char *const rot_names[ROT_STATUS__MAX] = {
	[ROT_RUNNING] = "running",
	[ROT_SUCCEEDED] = "succeeded",
	[ROT_ROLLED_BACK] = "rolled_back",
	[ROT_FAILED] = "failed",
};

const char *
rotation_status_name(enum rotation_status s)
{
	return (unsigned)s < ROT_STATUS__MAX ? rot_names[s] : "unknown";
}

static const char *const node_mode_names[NODE_MODE__MAX] = {
	[NODE_MODE_PUSH] = "push",
	[NODE_MODE_PULL] = "pull",
};

const char *
node_mode_name(enum node_mode m)
{
	return (unsigned)m < NODE_MODE__MAX ? node_mode_names[m] : "unknown";
}

int
node_mode_parse(const char *s, enum node_mode *out)
{
	for (int i = 0; s != NULL && i < NODE_MODE__MAX; i++)
		if (strcmp(s, node_mode_names[i]) == 0) {
			*out = (enum node_mode)i;
			return 0;
		}
	return -1;
}
