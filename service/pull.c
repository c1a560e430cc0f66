/*
 * The pull daemon's local steps (svc_report.h): what `redis-ca enroll
 * --daemon --redis` does to the Redis on its own host.  No struct svc
 * and no database here: it runs on the node, beside the files enroll
 * writes, and reaches Redis through redis/ only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "rds.h"
#include "safefile.h"
#include "svc.h"

/* A password file holds one line. */
#define PULL_PASSWORD_MAX	512

void
svc_pull_step(struct rotation_rec *rec, const char *step, bool ok,
    const char *fmt, ...)
{
	struct rotation_step *st;
	va_list ap;

	if (rec->nsteps >= ROT_MAX_STEPS)
		return;
	st = &rec->steps[rec->nsteps++];
	snprintf(st->step, sizeof(st->step), "%s", step);
	st->ok = ok;
	va_start(ap, fmt);
	vsnprintf(st->detail, sizeof(st->detail), fmt, ap);
	va_end(ap);
}

int
svc_pull_password(const struct svc_pull_opts *o, char **out, struct err *e)
{
	struct sf_rules	 rules;
	struct err	 le;
	char		*buf = NULL;
	size_t		 len = 0;
	int		 rc = -1;

	ERR_LOCAL(e, le);
	*out = NULL;
	if (o->password_file == NULL)
		return 0;
	memset(&rules, 0, sizeof(rules));
	rules.owner_set = true;
	rules.uid = geteuid();
	rules.forbid_mode = 077;
	rules.max_links = 1;
	if (sf_read_path(o->password_file, &rules, PULL_PASSWORD_MAX, &buf,
	    &len, e) == -1) {
		if (e->code == ERR_INVALID_REQUEST)
			err_set(e, ERR_IO, "--redis-auth-file must be an "
			    "absolute path");
		else
			err_set(e, ERR_IO, "--redis-auth-file %s is not "
			    "usable: it must be a regular file of ours, one "
			    "link, no access for group or others, at most %d "
			    "bytes", o->password_file, PULL_PASSWORD_MAX);
		goto out;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (len == 0 || memchr(buf, '\n', len) != NULL ||
	    memchr(buf, '\0', len) != NULL) {
		err_set(e, ERR_IO, "--redis-auth-file %s must hold one "
		    "line", o->password_file);
		goto out;
	}
	*out = buf;
	buf = NULL;
	rc = 0;
out:
	fio_secret_free(buf, len);
	return rc;
}

/*
 * Connect to o's Redis presenting cert/key, anchors o->ca_file, and
 * AUTH when a password file is given.  Returns the connection or NULL.
 */
static struct rds_conn *
pull_connect(const struct svc_pull_opts *o, const char *cert,
    const char *key, struct err *e)
{
	struct rds_tls_opts t;
	struct rds_conn *c = NULL;
	char *pw = NULL;

	memset(&t, 0, sizeof(t));
	t.host = o->host;
	t.port = o->port;
	t.server_name = o->server_name;
	t.ca_file = o->ca_file;
	t.cert_file = cert;
	t.key_file = key;
	t.timeout_ms = o->timeout_ms;
	if (svc_pull_password(o, &pw, e) == -1 ||
	    (c = rds_connect(&t, e)) == NULL)
		goto out;
	if (pw != NULL && rds_auth(c, o->user, pw, e) == -1) {
		rds_close(c);
		c = NULL;
	}
out:
	fio_secret_free_str(pw);
	return c;
}

int
svc_pull_served(const struct svc_pull_opts *o,
    char served[RCA_SERIAL_HEX_MAX + 1], char role[16], struct err *e)
{
	struct rds_role_info ri;
	struct err re = { ERR_OK, "" };
	struct rds_conn *c;
	int rc = -1;

	served[0] = '\0';
	if (role != NULL)
		role[0] = '\0';
	if ((c = pull_connect(o, o->client_cert, o->client_key, e)) == NULL)
		return -1;
	if (rds_ping(c, e) == -1 || rds_peer_serial(c, served, e) == -1)
		goto out;
	/* The role is a bonus: a user without +info still checks in. */
	if (role != NULL && rds_role_read(c, &ri, &re) == 0 &&
	    ri.role != RDS_ROLE_UNKNOWN)
		snprintf(role, 16, "%s", rds_role_name(ri.role));
	rc = 0;
out:
	rds_close(c);
	return rc;
}

/* CONFIG SET of the three paths on c. */
static int
config_set(struct rds_conn *c, const struct svc_pull_opts *o,
    struct err *e)
{
	const char *kv[6] = { "tls-cert-file", o->cert_file,
	    "tls-key-file", o->key_file, "tls-ca-cert-file", o->ca_file };

	return rds_config_set(c, kv, 3, e);
}

int
svc_pull_set_ca(const struct svc_pull_opts *o, struct err *e)
{
	const char *kv[2] = { "tls-ca-cert-file", o->ca_file };
	struct rds_conn *c;
	int rc;

	if ((c = pull_connect(o, o->client_cert, o->client_key, e)) == NULL)
		return -1;
	rc = rds_config_set(c, kv, 1, e);
	rds_close(c);
	return rc;
}

/* A new connection with the new pair: serves want, answers PING. */
static int
verify_serial(const struct svc_pull_opts *o, const char *want,
    char served[RCA_SERIAL_HEX_MAX + 1], struct err *e)
{
	struct rds_conn *c;
	int rc = -1;

	served[0] = '\0';
	if ((c = pull_connect(o, o->cert_file, o->key_file, e)) == NULL)
		return -1;
	if (rds_peer_serial(c, served, e) == -1)
		goto out;
	if (strcmp(served, want) != 0) {
		err_set(e, ERR_NET, "Redis serves %s, not the new %s",
		    served, want);
		goto out;
	}
	if (rds_ping(c, e) == -1)
		goto out;
	rc = 0;
out:
	rds_close(c);
	return rc;
}

/*
 * The rollback step: the previous files back, loaded again, and a new
 * connection must see the previous serial served.  A CONFIG SET that
 * failed left Redis on what it had (7.0 applies it whole or not at
 * all), so a failing reload is recorded but what counts is what Redis
 * serves: ROT_ROLLED_BACK when it is rec->old_serial, else ROT_FAILED.
 */
static void
rollback(const struct svc_pull_opts *o, struct rds_conn *c,
    struct rotation_rec *rec, svc_pull_restore_fn restore, void *arg)
{
	char served[RCA_SERIAL_HEX_MAX + 1] = "";
	struct err re = { ERR_OK, "" }, ce = { ERR_OK, "" };
	bool reloaded;

	rec->status = ROT_FAILED;
	if (restore(arg, &re) == -1) {
		svc_pull_step(rec, "rollback", false, "%s", re.msg);
		return;
	}
	reloaded = config_set(c, o, &ce) == 0;
	if (rec->old_serial[0] == '\0' ||
	    verify_serial(o, rec->old_serial, served, &re) == -1) {
		svc_pull_step(rec, "rollback", false, "%s%s%s",
		    rec->old_serial[0] == '\0' ? "no previous certificate" :
		    re.msg, reloaded ? "" : "; reload: ", reloaded ? "" :
		    ce.msg);
		return;
	}
	svc_pull_step(rec, "rollback", true, "previous files restored; "
	    "serves %s%s", served, reloaded ? "" : " (reload refused: "
	    "Redis kept them)");
	rec->status = ROT_ROLLED_BACK;
}

int
svc_pull_load(const struct svc_pull_opts *o, struct rotation_rec *rec,
    svc_pull_restore_fn restore, void *arg, struct err *e)
{
	char served[RCA_SERIAL_HEX_MAX + 1] = "";
	struct rds_conn *c;
	int rc = -1;

	rec->status = ROT_FAILED;
	if ((c = pull_connect(o, o->client_cert, o->client_key, e)) ==
	    NULL) {
		svc_pull_step(rec, "connect", false, "%s", e->msg);
		goto out;
	}
	svc_pull_step(rec, "connect", true, "%s:%d", o->host, o->port);
	if (config_set(c, o, e) == -1) {
		svc_pull_step(rec, "config_set", false, "%s", e->msg);
		rollback(o, c, rec, restore, arg);
		goto out;
	}
	svc_pull_step(rec, "config_set", true, "tls-cert-file tls-key-file "
	    "tls-ca-cert-file");
	if (verify_serial(o, rec->new_serial, served, e) == -1) {
		svc_pull_step(rec, "verify_serial", false, "%s", e->msg);
		rollback(o, c, rec, restore, arg);
		goto out;
	}
	svc_pull_step(rec, "verify_serial", true, "serves %s", served);
	rec->status = ROT_SUCCEEDED;
	rc = 0;
out:
	rds_close(c);
	rec->finished_at = (int64_t)time(NULL);
	return rc;
}
