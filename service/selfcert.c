/*
 * The instance's own certificates (tls/api.* for the API listener,
 * tls/admin.* for talking to nodes): re-issued by the current CA when
 * another CA issued them (after an activation) or when two thirds of
 * their life have passed; the replaced one is revoked as superseded.
 * The API listener reloads its certificate when
 * svc_api_cert_generation() changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca_life_int.h"
#include "fileio.h"
#include "log.h"
#include "safefile.h"
#include "timeutil.h"

/* As init's (server/cmd_init.c): the same profiles and lifetime. */
#define SELF_TTL	(397 * 86400)
#define SELF_PEM_MAX	(64 * 1024)
#define SELF_PAGE	100

static const struct profile self_api_profile = {
	.name = "internal-api-tls",
	.eku = EKU_SERVER_AUTH,
	.require_san = true,
	.default_ttl = SELF_TTL,
	.max_ttl = SELF_TTL,
	.key_types = KEY_BIT(KEY_EC_P256),
};

static const struct profile self_admin_profile = {
	.name = "internal-admin-client",
	.eku = EKU_CLIENT_AUTH,
	.require_san = false,
	.default_ttl = SELF_TTL,
	.max_ttl = SELF_TTL,
	.key_types = KEY_BIT(KEY_EC_P256),
};

/* One pair of files and the profile it is issued under. */
struct self_pair {
	const char		*cert;	/* path */
	const char		*key;	/* path */
	const struct profile	*p;
};

uint64_t
svc_api_cert_generation(struct svc *s)
{
	return s->life != NULL ? atomic_load(&s->life->api_gen) : 0;
}

/* The stored record of the certificate in path (by its fingerprint). */
static int
self_find(struct svc *s, const struct self_pair *sp, struct cert_rec *out,
    struct err *e)
{
	struct cert_filter	 f;
	struct cert_rec		*list = NULL;
	char			*pem = NULL, fp[RCA_SHA256_HEX + 1];
	size_t			 n = 0, len;
	int64_t			 next = 0;
	int			 rc = -1;

	if (fio_read_all(sp->cert, SELF_PEM_MAX, &pem, &len, e) == -1 ||
	    ca_pem_fingerprint(pem, fp, e) == -1)
		goto out;
	memset(&f, 0, sizeof(f));
	f.status = -1;
	f.profile = sp->p->name;
	f.limit = SELF_PAGE;
	do {
		f.after = next;
		if (db_cert_list(s->db, &f, &list, &n, &next, e) == -1)
			goto out;
		for (size_t i = 0; i < n && rc == -1; i++)
			if (strcmp(list[i].fingerprint, fp) == 0) {
				*out = list[i];
				memset(&list[i], 0, sizeof(list[i]));
				rc = 0;
			}
		db_cert_list_free(list, n);
		list = NULL;
	} while (rc == -1 && next != 0);
	if (rc == -1)
		err_set(e, ERR_NOT_FOUND, "%s: not a certificate this CA "
		    "issued under %s", sp->cert, sp->p->name);
out:
	free(pem);
	return rc;
}

/* Replace path (a file in a folder reached without links) with pem. */
static int
self_write(const char *path, const char *pem, mode_t mode, struct err *e)
{
	char	dir[RCA_MAX_PATH], *slash, *real;
	int	fd, rc;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir) ||
	    (slash = strrchr(dir, '/')) == NULL || slash == dir) {
		err_set(e, ERR_IO, "%s: not an absolute path in a folder",
		    path);
		return -1;
	}
	*slash = '\0';
	/* Our own configured folder: resolved once, then no link on it. */
	if ((real = realpath(dir, NULL)) == NULL) {
		err_set(e, ERR_IO, "%s: no such folder", dir);
		return -1;
	}
	fd = sf_open_dir(real, NULL, e);
	free(real);
	if (fd == -1)
		return -1;
	rc = sf_replace_at(fd, slash + 1, pem, strlen(pem), mode, (uid_t)-1,
	    (gid_t)-1, e);
	close(fd);
	return rc;
}

/* Issue the new pair like old and write it (key first). */
static int
self_issue(struct svc *s, const struct svc_actor *a,
    const struct self_pair *sp, const struct cert_rec *old, struct err *e)
{
	struct svc_issue_req	req;
	struct svc_issued	iss;
	int64_t			life = old->not_after - old->not_before;
	int			rc = -1;

	memset(&iss, 0, sizeof(iss));
	memset(&req, 0, sizeof(req));
	req.profile = sp->p->name;
	req.internal_profile = sp->p;
	req.ttl = life > 0 && life < SELF_TTL ? life : SELF_TTL;
	req.names = &old->names;
	req.key_type = KEY_EC_P256;
	if (svc_issue_authorised(s, a, &req, &iss, e) == -1)
		goto out;
	if (self_write(sp->key, iss.private_key_pem, 0400, e) == -1 ||
	    self_write(sp->cert, iss.chain_pem != NULL ? iss.chain_pem :
	    iss.cert.pem, 0444, e) == -1)
		goto out;
	log_info("%s re-issued by the current CA: serial %s replaces %s",
	    sp->cert, iss.cert.serial, old->serial);
	rc = 0;
out:
	svc_issued_clear(&iss);
	return rc;
}

/*
 * old from the certificate file itself, for one the database does not
 * know (issued into another database, e.g. by init before a move to
 * PostgreSQL): due at once, and never revoked through this database.
 */
static int
self_from_file(const struct self_pair *sp, struct cert_rec *old,
    struct err *e)
{
	struct ca_cert	 c;
	char		*pem = NULL;
	size_t		 len;
	int		 rc = -1;

	memset(&c, 0, sizeof(c));
	if (fio_read_all(sp->cert, SELF_PEM_MAX, &pem, &len, e) == -1 ||
	    ca_pem_cert_read(pem, &c, e) == -1)
		goto out;
	snprintf(old->serial, sizeof(old->serial), "%s", c.serial);
	old->names = c.names;
	memset(&c.names, 0, sizeof(c.names));
	old->not_before = c.not_before;
	old->not_after = c.not_after;
	rc = 0;
out:
	ca_cert_clear(&c);
	free(pem);
	return rc;
}

/* 1: replaced, 0: not due, -1: failed. */
static int
self_one(struct svc *s, const struct svc_actor *a, int64_t cur_id,
    const struct self_pair *sp, bool force, struct err *e)
{
	struct cert_rec	old;
	int64_t		now = tu_now();
	bool		due, unknown = false;
	int		rc = -1;

	memset(&old, 0, sizeof(old));
	if (self_find(s, sp, &old, e) == -1) {
		if (e->code != ERR_NOT_FOUND)
			goto out;
		log_warn("%s: %s; re-issuing it", sp->cert, e->msg);
		err_clear(e);
		if (self_from_file(sp, &old, e) == -1)
			goto out;
		unknown = true;
	}
	due = force || unknown || old.ca_id != cur_id || old.revoked_at != 0 ||
	    now >= old.not_before + (old.not_after - old.not_before) * 2 / 3;
	if (!due) {
		rc = 0;
		goto out;
	}
	if (self_issue(s, a, sp, &old, e) == -1)
		goto out;
	if (!unknown && old.revoked_at == 0 && svc_revoke_authorised(s, a,
	    old.serial, REASON_SUPERSEDED, NULL, NULL, e) == -1)
		log_warn("%s: revoking the replaced %s: %s", sp->cert,
		    old.serial, e->msg);
	rc = 1;
out:
	cert_rec_clear(&old);
	return rc;
}

int
svc_selfcert_refresh(struct svc *s, bool force, struct err *e)
{
	struct svc_actor	 sched;
	struct svc_cas		*cas = NULL;
	struct self_pair	 api, admin;
	struct err		 le;
	int			 r, rc = -1, done = 0;

	ERR_LOCAL(e, le);
	svc_actor_init(&sched, ACTOR_SCHEDULER);
	if ((cas = svc_cas_get(s)) == NULL || cas->cur->ca == NULL ||
	    !ca_has_key(cas->cur->ca)) {
		err_set(e, ERR_UNAVAILABLE, "this instance has not got the "
		    "current CA key");
		goto out;
	}
	admin = (struct self_pair){ s->admin_cert, s->admin_key,
	    &self_admin_profile };
	api = (struct self_pair){ s->life->api_cert, s->life->api_key,
	    &self_api_profile };
	if (api.cert != NULL) {
		if ((r = self_one(s, &sched, cas->cur->id, &api, force,
		    e)) == -1)
			goto out;
		if (r == 1)
			atomic_fetch_add(&s->life->api_gen, 1);
		done += r;
	}
	if (admin.cert != NULL) {
		if ((r = self_one(s, &sched, cas->cur->id, &admin, force,
		    e)) == -1)
			goto out;
		done += r;
	}
	rc = done > 0 ? 1 : 0;
out:
	svc_cas_put(cas);
	svc_actor_clear(&sched);
	return rc;
}
