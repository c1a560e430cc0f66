/*
 * Node rotation (SPEC section 6): the steps (connect, issue, write, CONFIG
 * SET, verify, PING, rollback), each recorded as it happens, and the end.
 */
#include <sys/stat.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca_life_int.h"
#include "fileio.h"
#include "fileset.h"
#include "log.h"
#include "rds.h"
#include "rotate_int.h"
#include "safefile.h"
#include "svc_int.h"
#include "timeutil.h"

#define ACTION_ROTATE	"node.rotate"

/* Backoff after failed rotations: check interval doubled, capped. */
#define BACKOFF_MAX	3600

/* Mode of each file (RF_* of rotate_int.h). */
static const mode_t rf_mode[RF__MAX] = {
	[RF_KEY] = 0400, [RF_CERT] = 0444, [RF_CA] = 0444,
};

/* ------------------------------------------------------------------ */
/* The record                                                          */

/* Record a step in the record and save the record so far. */
static void
step_add(struct rot *r, const char *step, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
step_add(struct rot *r, const char *step, bool ok, const char *fmt, ...)
{
	struct rotation_step	*st;
	struct err		 e;
	va_list			 ap;

	if (r->rec->nsteps >= ROT_MAX_STEPS)
		return;
	st = &r->rec->steps[r->rec->nsteps++];
	memset(st, 0, sizeof(*st));
	snprintf(st->step, sizeof(st->step), "%s", step);
	st->ok = ok;
	va_start(ap, fmt);
	vsnprintf(st->detail, sizeof(st->detail), fmt, ap);
	va_end(ap);
	log_msg(ok ? LOG_LVL_INFO : LOG_LVL_WARN, "rotation %lld of %s: "
	    "%s %s: %s", (long long)r->rec->id, r->node.name, step,
	    ok ? "ok" : "failed", st->detail);
	/* Progress is visible (and survives a crash) step by step. */
	err_clear(&e);
	if (db_rotation_update(r->s->db, r->rec, NULL, &e) == -1)
		log_error("rotation %lld: saving a step: %s",
		    (long long)r->rec->id, e.msg);
}

/* Append text to the detail of the last step. */
static void
step_note(struct rot *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
step_note(struct rot *r, const char *fmt, ...)
{
	struct rotation_step	*st;
	size_t			 len;
	va_list			 ap;

	if (r->rec->nsteps == 0)
		return;
	st = &r->rec->steps[r->rec->nsteps - 1];
	len = strlen(st->detail);
	if (len + 1 >= sizeof(st->detail))
		return;
	va_start(ap, fmt);
	vsnprintf(st->detail + len, sizeof(st->detail) - len, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* The steps                                                           */

static int
step_connect(struct rot *r)
{
	struct err	e;
	char		served[RCA_SERIAL_HEX_MAX + 1];

	err_clear(&e);
	if (rot_read_password(r, &e) == -1 ||
	    (r->conn = rot_node_open(r, true, true, &e)) == NULL ||
	    rot_peer_serial(r->conn, served, &e) == -1) {
		step_add(r, "connect", false, "%s:%d: %.180s; nothing was "
		    "written", r->node.host, r->node.port, e.msg);
		return -1;
	}
	snprintf(r->rec->old_serial, sizeof(r->rec->old_serial), "%s",
	    served);
	memcpy(r->served, served, sizeof(r->served));
	step_add(r, "connect", true, "%s %s as %s, serving %s%s",
	    rds_conn_protocol(r->conn), rds_conn_cipher(r->conn),
	    r->password != NULL ? "an AUTH user" : "the admin certificate",
	    served, r->node.current_serial[0] != '\0' &&
	    strcmp(served, r->node.current_serial) != 0 ?
	    " (not the recorded serial)" : "");
	return 0;
}

/* The first key type the profile allows, P-256 preferred. */
static enum key_type
node_key_type(struct svc *s, const struct node_rec *n)
{
	const struct profile *p = svc_profile(s, n->profile);

	if (p == NULL || (p->key_types & KEY_BIT(KEY_EC_P256)) != 0)
		return KEY_EC_P256;
	for (int t = 0; t < KEY__MAX; t++)
		if ((p->key_types & KEY_BIT(t)) != 0)
			return (enum key_type)t;
	return KEY_EC_P256;
}

static int
step_issue(struct rot *r)
{
	struct svc_issue_req	 req;
	struct names		 nm = NAMES_INIT;
	const struct names	*sans = &r->node.sans;
	const char		*cn = r->node.name;
	char			 na[RCA_TIME_STR];
	struct err		 e;
	int			 rc = -1;

	err_clear(&e);
	if (sans->n[NAME_DNS] > 0)
		cn = sans->list[NAME_DNS][0];
	else if (sans->n[NAME_IP] > 0)
		cn = sans->list[NAME_IP][0];
	if (names_copy(&nm, sans, &e) == -1 ||
	    names_set_cn(&nm, cn, &e) == -1) {
		step_add(r, "issue", false, "%.200s", e.msg);
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.profile = r->node.profile;
	req.ttl = r->node.ttl;
	req.names = &nm;
	req.key_type = node_key_type(r->s, &r->node);
	req.node = r->node.name;
	if (svc_issue_authorised(r->s, r->a, &req, &r->iss, &e) == -1) {
		step_add(r, "issue", false, "%s: %.200s",
		    err_code_name(e.code), e.msg);
		goto out;
	}
	r->issued = true;
	snprintf(r->rec->new_serial, sizeof(r->rec->new_serial), "%s",
	    r->iss.cert.serial);
	tu_format(r->iss.cert.not_after, na);
	step_add(r, "issue", true, "serial %s, %s, profile %s, not after %s",
	    r->iss.cert.serial, key_type_name(r->iss.cert.key_type),
	    r->iss.cert.profile, na);
	rc = 0;
out:
	names_clear(&nm);
	return rc;
}

/*
 * Write the three files in cert_dir, all through one descriptor of the
 * folder opened without following links (SPEC section 8), keeping the
 * previous ones as *.prev (common/fileset).  Backups get the service's
 * own owner and modes (key 0400, others 0444), never another file's.
 * The live files get the owner and group of cert_dir itself when the
 * service runs as root (so the Redis user that owns the folder can
 * read its key), else the service's own; that owner comes from the
 * fstat of the folder descriptor, never from a file in it.
 */
static int
step_write(struct rot *r)
{
	const char	*content[RF__MAX], *name[RF__MAX];
	static const char *const field[RF__MAX] = {
		[RF_KEY] = "key_file", [RF_CERT] = "cert_file",
		[RF_CA] = "ca_file",
	};
	struct stat	 dir;
	struct err	 e;
	uid_t		 uid = (uid_t)-1;
	gid_t		 gid = (gid_t)-1;
	int		 dirfd;

	err_clear(&e);
	content[RF_KEY] = r->iss.private_key_pem;
	/* SPEC 10: the chain (leaf + intermediates), trusting the bundle. */
	content[RF_CERT] = r->iss.chain_pem;
	content[RF_CA] = r->iss.ca_pem;
	name[RF_KEY] = r->node.key_file;
	name[RF_CERT] = r->node.cert_file;
	name[RF_CA] = r->node.ca_file;

	for (int i = 0; i < RF__MAX; i++) {
		/* Checked at registration; a stored row is checked again. */
		if (!sf_name_ok(name[i])) {
			err_set(&e, ERR_IO, "%s is not a plain file name",
			    field[i]);
			goto fail;
		}
		if (snprintf(r->path[i], sizeof(r->path[i]), "%s/%s",
		    r->node.cert_dir, name[i]) >= (int)sizeof(r->path[i]) ||
		    fset_add(&r->files, name[i], rf_mode[i], NULL) == -1) {
			err_set(&e, ERR_IO, "%s is too long", field[i]);
			goto fail;
		}
	}
	if ((dirfd = svc_node_dir_open(r->s, r->node.cert_dir, &dir,
	    &e)) == -1)
		goto fail;
	if (geteuid() == 0) {
		uid = dir.st_uid;
		gid = dir.st_gid;
	}
	if (fset_replace(&r->files, dirfd, content, uid, gid, &e) == -1)
		goto fail;
	step_add(r, "write_files", true, "%s, %s and %s written in %.120s "
	    "(0400, 0444, 0444); previous files kept as *.prev",
	    r->node.key_file, r->node.cert_file, r->node.ca_file,
	    r->node.cert_dir);
	return 0;
fail:
	step_add(r, "write_files", false, "%.240s", e.msg);
	return -1;
}

static int
step_config(struct rot *r)
{
	struct err e;

	err_clear(&e);
	r->config_sent = true;
	if (rot_config_set(r, r->conn, &e) == -1) {
		/* Whatever the reply, this connection is done with. */
		rds_close(r->conn);
		r->conn = NULL;
		step_add(r, "config_set", false, "%.240s", e.msg);
		return -1;
	}
	step_add(r, "config_set", true, "tls-cert-file, tls-key-file and "
	    "tls-ca-cert-file set in one CONFIG SET");
	return 0;
}

static int
step_verify(struct rot *r, struct rds_conn **c)
{
	struct err	e;
	char		served[RCA_SERIAL_HEX_MAX + 1];

	err_clear(&e);
	if ((*c = rot_node_open(r, false, false, &e)) == NULL ||
	    rot_peer_serial(*c, served, &e) == -1) {
		step_add(r, "verify_handshake", false, "%.240s", e.msg);
		return -1;
	}
	memcpy(r->served, served, sizeof(r->served));
	if (strcmp(served, r->rec->new_serial) != 0) {
		step_add(r, "verify_handshake", false, "the node serves %s, "
		    "not the new %s", served, r->rec->new_serial);
		return -1;
	}
	step_add(r, "verify_handshake", true, "a new %s handshake is served "
	    "%s", rds_conn_protocol(*c), served);
	return 0;
}

static int
step_ping(struct rot *r, struct rds_conn *c)
{
	struct err e;

	err_clear(&e);
	if (rot_auth(r, c, &e) == -1 || rds_ping(c, &e) == -1) {
		step_add(r, "ping", false, "%.240s", e.msg);
		return -1;
	}
	step_add(r, "ping", true, "PONG");
	return 0;
}

/*
 * Put the previous files back, CONFIG SET them again when a CONFIG SET
 * went out, and check over a new connection that the old serial is
 * served and PING answers.  0: rolled back; -1: not (status failed).
 */
static int
step_rollback(struct rot *r)
{
	struct rds_conn	*c = NULL;
	char		 files[96] = "", config[112] = "", serve[160] = "";
	char		 served[RCA_SERIAL_HEX_MAX + 1];
	struct err	 e;
	bool		 files_ok, ok = false;

	err_clear(&e);
	files_ok = fset_restore(&r->files, &e) == 0;
	snprintf(files, sizeof(files), files_ok ? "files restored" :
	    "restoring files failed: %.48s", e.msg);

	if (!r->config_sent)
		snprintf(config, sizeof(config), "no CONFIG SET was sent");
	else {
		err_clear(&e);
		c = r->conn;
		r->conn = NULL;
		if (c == NULL)
			c = rot_node_open(r, true, true, &e);
		if (c == NULL || rot_config_set(r, c, &e) == -1)
			snprintf(config, sizeof(config), "CONFIG SET back "
			    "failed: %.48s", e.msg);
		else
			snprintf(config, sizeof(config), "CONFIG SET back");
		rds_close(c);
		c = NULL;
	}

	/* The proof: a new handshake sees the old certificate. */
	err_clear(&e);
	r->served[0] = '\0';
	if ((c = rot_node_open(r, false, true, &e)) == NULL ||
	    rot_peer_serial(c, served, &e) == -1)
		snprintf(serve, sizeof(serve), "the node cannot be checked: "
		    "%.80s", e.msg);
	else {
		memcpy(r->served, served, sizeof(r->served));
		if (strcmp(served, r->rec->old_serial) != 0)
			snprintf(serve, sizeof(serve), "the node serves %s, "
			    "not the previous %s", served,
			    r->rec->old_serial);
		else if (rot_auth(r, c, &e) == -1 || rds_ping(c, &e) == -1)
			snprintf(serve, sizeof(serve), "previous serial %s "
			    "served, but PING failed: %.48s", served, e.msg);
		else {
			snprintf(serve, sizeof(serve), "previous serial %s "
			    "served again, PONG", served);
			ok = files_ok;
		}
	}
	rds_close(c);
	step_add(r, "rollback", ok, "%s; %s; %s", files, config, serve);
	return ok ? 0 : -1;
}

/* Run the steps; sets r->rec->status. */
static void
rot_run(struct rot *r)
{
	struct rds_conn *c = NULL;

	r->rec->status = ROT_FAILED;
	if (step_connect(r) == -1 || step_issue(r) == -1)
		goto out;
	if (step_write(r) == -1 || step_config(r) == -1 ||
	    step_verify(r, &c) == -1 || step_ping(r, c) == -1)
		goto rollback;
	r->rec->status = ROT_SUCCEEDED;
	goto out;
rollback:
	rds_close(c);
	c = NULL;
	r->rec->status = step_rollback(r) == 0 ? ROT_ROLLED_BACK : ROT_FAILED;
out:
	rds_close(c);
}

/* Revoke serial as reason when it is ours, unrevoked, and (when node
 * is set) not issued for another node.  True when it revoked it. */
static bool
revoke_if(struct rot *r, const char *serial, int reason, const char *node)
{
	struct cert_rec	c;
	struct err	e;
	bool		done = false;

	memset(&c, 0, sizeof(c));
	err_clear(&e);
	if (serial[0] == '\0' || db_cert_get(r->s->db, serial, &c, &e) == -1)
		goto out;
	if (c.revoked_at != 0 || (node != NULL && c.node[0] != '\0' &&
	    strcmp(c.node, node) != 0))
		goto out;
	if (svc_revoke_authorised(r->s, r->a, serial, reason, NULL, NULL,
	    &e) == -1) {
		log_error("rotation of %s: revoking %s: %s", r->node.name,
		    serial, e.msg);
		goto out;
	}
	done = true;
out:
	cert_rec_clear(&c);
	return done;
}

static int64_t
backoff(const struct svc *s, int failures)
{
	int64_t d = s->rotation_check_interval > 0 ?
	    s->rotation_check_interval : SVC_NODES_INTERVAL;

	for (int i = 1; i < failures && d < BACKOFF_MAX; i++)
		d *= 2;
	return d < BACKOFF_MAX ? d : BACKOFF_MAX;
}

/*
 * A rotation that succeeded: the node's new state, and the revocation
 * of the replaced certificate: the one recorded, and the one the node
 * actually served (a bootstrap certificate from the API, say) unless
 * it was issued for another node.  rev receives what was revoked.
 */
static void
finish_ok(struct rot *r, char *rev, size_t rsz)
{
	struct node_rec	*n = &r->node;
	struct err	 e;
	char		 recorded[RCA_SERIAL_HEX_MAX + 1];

	err_clear(&e);
	memcpy(recorded, n->current_serial, sizeof(recorded));
	memcpy(n->current_serial, r->iss.cert.serial,
	    sizeof(n->current_serial));
	n->not_after = r->iss.cert.not_after;
	n->failures = 0;
	n->next_attempt_at = 0;
	n->last_rotation_id = r->rec->id;
	if (db_node_update_state(r->s->db, n, &e) == -1)
		log_error("rotation of %s: node state: %s", n->name, e.msg);
	/* What it serves now (SPEC 11): ends a drift seen before. */
	svc_drift_seen(r->s, r->a, n->name, NULL, r->served,
	    n->current_serial, tu_now());
	/* Its ca_file is the bundle now: no push needed (ca_push.c). */
	ca_push_note_written(r->s, n->name, r->iss.ca_pem);
	if (revoke_if(r, recorded, REASON_SUPERSEDED, NULL))
		snprintf(rev, rsz, "; revoked %s (superseded)", recorded);
	if (strcmp(r->rec->old_serial, recorded) != 0 &&
	    revoke_if(r, r->rec->old_serial, REASON_SUPERSEDED, n->name))
		snprintf(rev + strlen(rev), rsz - strlen(rev),
		    "; revoked %s (superseded)", r->rec->old_serial);
}

/*
 * A rotation that failed: the backoff, the node's state (on the new
 * certificate if it ended up served), and the new certificate's fate.
 * rev receives what was revoked.
 */
static void
finish_failed(struct rot *r, char *rev, size_t rsz)
{
	struct node_rec	*n = &r->node;
	struct err	 e;

	err_clear(&e);
	n->failures++;
	n->next_attempt_at = tu_now() + backoff(r->s, n->failures);
	n->last_rotation_id = r->rec->id;
	/* If the node ended up on the new certificate, say so. */
	if (r->issued && strcmp(r->served, r->rec->new_serial) == 0) {
		memcpy(n->current_serial, r->iss.cert.serial,
		    sizeof(n->current_serial));
		n->not_after = r->iss.cert.not_after;
	}
	if (db_node_update_state(r->s->db, n, &e) == -1)
		log_error("rotation of %s: node state: %s", n->name, e.msg);
	/*
	 * A new certificate that provably never went live (no CONFIG SET,
	 * or the old serial is served again) has no use left:
	 * cessationOfOperation.  Otherwise it stays valid, since the node
	 * may be serving it.
	 */
	if (r->issued && (!r->config_sent ||
	    strcmp(r->served, r->rec->old_serial) == 0)) {
		if (revoke_if(r, r->rec->new_serial,
		    REASON_CESSATION_OF_OPERATION, NULL)) {
			step_note(r, "; new %s revoked (cessationOfOperation)",
			    r->rec->new_serial);
			snprintf(rev, rsz, "; revoked new %s "
			    "(cessationOfOperation)", r->rec->new_serial);
		}
	} else if (r->issued)
		step_note(r, "; new certificate %s left valid: the node may "
		    "be serving it", r->rec->new_serial);
}

/*
 * After the steps: the node's state, the revocations, and the final
 * record with its audit entry.  detail receives the audit detail.
 */
static void
rot_finish(struct rot *r, char *detail, size_t dsz)
{
	struct audit_rec	 ar;
	struct err		 e;
	char			 rev[96] = "";
	bool			 ok = r->rec->status == ROT_SUCCEEDED;

	if (ok)
		finish_ok(r, rev, sizeof(rev));
	else
		finish_failed(r, rev, sizeof(rev));
	r->rec->finished_at = tu_now();
	snprintf(detail, dsz, "status=%s old=%s new=%s%s",
	    rotation_status_name(r->rec->status), r->rec->old_serial,
	    r->rec->new_serial[0] != '\0' ? r->rec->new_serial : "-", rev);
	svc_audit_fill(&ar, r->a, ACTION_ROTATE, r->node.name,
	    ok ? AUDIT_OK : AUDIT_ERROR, detail);
	err_clear(&e);
	if (db_rotation_update(r->s->db, r->rec, &ar, &e) == -1)
		log_error("rotation %lld of %s: final record: %s",
		    (long long)r->rec->id, r->node.name, e.msg);
}

/* The first failed step, for the error message. */
static const struct rotation_step *
first_failure(const struct rotation_rec *rec)
{
	for (size_t i = 0; i < rec->nsteps; i++)
		if (!rec->steps[i].ok)
			return &rec->steps[i];
	return NULL;
}

/* Start r for a rotation by a on s into the record out. */
static void
rot_init(struct rot *r, struct svc *s, const struct svc_actor *a,
    struct rotation_rec *out)
{
	memset(r, 0, sizeof(*r));
	memset(out, 0, sizeof(*out));
	r->s = s;
	r->a = a;
	r->rec = out;
	r->iss.cert.reason = -1;
	fset_init(&r->files);
}

/* Free what r holds (the record is the caller's), secrets wiped. */
static void
rot_clear(struct rot *r)
{
	rds_close(r->conn);
	r->conn = NULL;
	fset_clear(&r->files);
	fio_secret_free_str(r->password);
	r->password = NULL;
	svc_issued_clear(&r->iss);
	node_rec_clear(&r->node);
}

int
svc_rotate(struct svc *s, const struct svc_actor *a, const char *name,
    struct rotation_rec *out, struct err *e)
{
	struct rot			 r;
	struct err			 le;
	const struct rotation_step	*bad;
	char				 detail[256];
	const char			*object = NULL;
	bool				 locked = false, ran = false;
	int				 rc = -1;

	ERR_LOCAL(e, le);
	err_clear(e);
	rot_init(&r, s, a, out);
	if (svc_node_admin_target(a, name, "nodes are rotated by admins "
	    "only", &object, e) == -1)
		goto out;
	if (!svc_node_lock(s, name)) {
		err_set(e, ERR_CONFLICT, "a rotation of node %s is already "
		    "running", name);
		goto out;
	}
	locked = true;
	if (db_node_get(s->db, name, &r.node, e) == -1)
		goto out;

	snprintf(out->node, sizeof(out->node), "%s", name);
	out->status = ROT_RUNNING;
	memcpy(out->old_serial, r.node.current_serial,
	    sizeof(out->old_serial));
	out->started_at = tu_now();
	if (db_rotation_insert(s->db, out, e) == -1)
		goto out;
	ran = true;
	svc_inflight_enter(s);
	rot_run(&r);
	rot_finish(&r, detail, sizeof(detail));
	svc_inflight_leave(s);
	if (out->status != ROT_SUCCEEDED) {
		bad = first_failure(out);
		err_set(e, ERR_ROTATION_FAILED, "rotation %s: %s: %.180s",
		    rotation_status_name(out->status),
		    bad != NULL ? bad->step : "-",
		    bad != NULL ? bad->detail : "");
		goto out;
	}
	log_info("node %s rotated: %s", name, detail);
	rc = 0;
out:
	if (rc == -1 && !ran) {
		svc_fail(s, a, ACTION_ROTATE, object, e);
		memset(out, 0, sizeof(*out));
	}
	if (locked)
		svc_node_unlock(s, name);
	rot_clear(&r);
	return rc;
}
