/*
 * The bundle push (design, "Rollover"): a node's ca_file gets the trust
 * bundle (the previous one kept as .prev, common/fileset), CONFIG SET
 * tls-ca-cert-file points the node at it, and a new TLS connection
 * with the admin client certificate, verified against the new bundle,
 * must answer PING; otherwise the file and the setting are put back.
 * A node busy with a rotation is skipped (the rotation writes the
 * bundle itself; the scheduler pushes later what is still stale).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca_life_int.h"
#include "fileio.h"
#include "fileset.h"
#include "log.h"
#include "rds.h"
#include "safefile.h"

#define ACTION_BUNDLE	"node.bundle"
/* A password file is a line, not a document (as rotate_conn.c). */
#define PASSWORD_MAX	1024
#define ADMIN_PEM_MAX	(64 * 1024)

/* One push in progress. */
struct push {
	struct svc	*s;
	struct node_rec	 node;
	char		*password;	/* owned, wiped; NULL: none */
	const char	*bundle;	/* borrowed */
	char		 path[RCA_MAX_PATH];	/* the ca_file, absolute */
	struct fset	 files;
	bool		 written;
	bool		 config_sent;
};

bool
svc_ca_result_add(struct svc_ca_result *res, const char *name, bool ok,
    const char *detail)
{
	struct svc_ca_node_result *n;

	if (res == NULL)
		return true;
	n = realloc(res->nodes, (res->nnodes + 1) * sizeof(*n));
	if (n == NULL)
		return false;
	res->nodes = n;
	n = &res->nodes[res->nnodes];
	memset(n, 0, sizeof(*n));
	if ((n->name = strdup(name)) == NULL)
		return false;
	n->ok = ok;
	snprintf(n->detail, sizeof(n->detail), "%s", detail);
	res->nnodes++;
	return true;
}

void
svc_ca_result_clear(struct svc_ca_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nnodes; i++)
		free(r->nodes[i].name);
	free(r->nodes);
	free(r->csr_pem);
	free(r->serials);
	memset(r, 0, sizeof(*r));
}

/* A connection to the node trusting the bundle, AUTH done. */
static struct rds_conn *
push_open(const struct push *p, bool ignore_dates, struct err *e)
{
	struct rds_tls_opts	 o;
	struct rds_conn		*c;
	char			 msg[ERR_MSG_MAX];

	memset(&o, 0, sizeof(o));
	o.host = p->node.host;
	o.port = p->node.port;
	o.server_name = p->node.server_name[0] != '\0' ?
	    p->node.server_name : NULL;
	o.ca_pem = p->bundle;
	o.cert_file = p->s->admin_cert;
	o.key_file = p->s->admin_key;
	o.timeout_ms = RDS_DEFAULT_TIMEOUT_MS;
	o.ignore_dates = ignore_dates;
	if ((c = rds_connect(&o, e)) == NULL)
		return NULL;
	if (p->password != NULL && rds_auth(c,
	    p->node.auth_username[0] != '\0' ? p->node.auth_username : NULL,
	    p->password, e) == -1) {
		snprintf(msg, sizeof(msg), "%s", e->msg);
		err_set(e, ERR_NET, "AUTH: %.200s", msg);
		rds_close(c);
		return NULL;
	}
	return c;
}

/* CONFIG SET tls-ca-cert-file over c, or a new connection (c NULL). */
static int
push_config(struct push *p, struct rds_conn *c, struct err *e)
{
	struct rds_conn	*own = NULL;
	const char	*kv[2] = { "tls-ca-cert-file", p->path };
	int		 rc;

	if (c == NULL && (c = own = push_open(p, true, e)) == NULL)
		return -1;
	p->config_sent = true;
	rc = rds_config_set(c, kv, 1, e);
	rds_close(own);
	return rc;
}

/* Write the bundle as the node's ca_file, keeping the previous one. */
static int
push_write(struct push *p, struct err *e)
{
	struct stat	 dir;
	const char	*content[1] = { p->bundle };
	uid_t		 uid = (uid_t)-1;
	gid_t		 gid = (gid_t)-1;
	int		 dirfd;

	if (!sf_name_ok(p->node.ca_file) || fio_path_join(p->path,
	    sizeof(p->path), p->node.cert_dir, p->node.ca_file, e) == -1 ||
	    fset_add(&p->files, p->node.ca_file, 0444, e) == -1) {
		err_set(e, ERR_IO, "ca_file is not a plain file name");
		return -1;
	}
	if ((dirfd = svc_node_dir_open(p->s, p->node.cert_dir, &dir,
	    e)) == -1)
		return -1;
	/* As a rotation: the live file belongs to the folder's owner. */
	if (geteuid() == 0) {
		uid = dir.st_uid;
		gid = dir.st_gid;
	}
	p->written = true;
	return fset_replace(&p->files, dirfd, content, uid, gid, e);
}

/* The proof: a new handshake verified against the bundle, and PING. */
static int
push_verify(struct push *p, struct err *e)
{
	struct rds_conn	*c;
	int		 rc;

	if ((c = push_open(p, false, e)) == NULL)
		return -1;
	rc = rds_ping(c, e);
	rds_close(c);
	return rc;
}

/* Put the previous file and setting back; the outcome into buf. */
static void
push_rollback(struct push *p, char *buf, size_t bufsz)
{
	struct err	e;
	bool		files, conf = true;

	err_clear(&e);
	files = !p->written || fset_restore(&p->files, &e) == 0;
	if (files && p->config_sent)
		conf = push_config(p, NULL, &e) == 0;
	snprintf(buf, bufsz, "%s%s", files ? "previous ca_file restored" :
	    "restoring ca_file failed", !p->config_sent ? "" : conf ?
	    ", CONFIG SET again" : ", CONFIG SET again failed");
}

/*
 * Does a CA of the snapshot's bundle sign the admin certificate?  If
 * not, a node given that bundle would refuse us: no way back.
 */
static bool
admin_trusted(struct svc *s, struct err *e)
{
	struct svc_cas	*cas;
	char		*pem = NULL, path[RCA_MAX_PATH];
	size_t		 len;
	enum cf_slot	 slot;
	bool		 ok = false;

	if (s->admin_cert == NULL) {
		err_set(e, ERR_CONFIG, "no admin certificate is configured");
		return false;
	}
	if (fio_read_all(s->admin_cert, ADMIN_PEM_MAX, &pem, &len, e) == -1)
		return false;
	cas = svc_cas_get(s);
	for (size_t i = 0; cas != NULL && i < cas->n && !ok; i++) {
		slot = cf_slot_of(cas->ent[i].state);
		if (cas->ent[i].ca == NULL || slot == CF_SLOT__MAX ||
		    fio_path_join(path, sizeof(path), s->life->cert_dir,
		    s->life->crt_name[slot], e) == -1)
			continue;
		ok = ca_cert_pem_verify_file(path, pem, NULL) == 0;
	}
	svc_cas_put(cas);
	free(pem);
	if (!ok)
		err_set(e, ERR_CONFLICT, "the admin certificate is issued "
		    "by no CA of the bundle: a node given it would refuse "
		    "us (re-issue %s first)", s->admin_cert);
	return ok;
}

/*
 * The steps; detail gets what happened.  A node that is down fails
 * before anything is written (as a rotation's connect step).  1: the
 * node was never rotated and rotated_only skips it.
 */
static int
push_run(struct push *p, const char *name, bool rotated_only, char *detail,
    size_t dsz)
{
	struct rds_conn	*c = NULL;
	struct err	 e;
	char		 back[96];
	int		 rc = -1;

	err_clear(&e);
	if (db_node_get(p->s->db, name, &p->node, &e) == -1)
		goto early;
	if (rotated_only && p->node.last_rotation_id == 0)
		return 1;
	/* SPEC 11: a pull node's daemon follows the bundle itself. */
	if (p->node.mode == NODE_MODE_PULL)
		return 2;
	if ((p->node.auth_password_file[0] != '\0' &&
	    svc_node_password_read(p->s, p->node.auth_password_file,
	    PASSWORD_MAX, &p->password, &e) == -1) ||
	    !admin_trusted(p->s, &e) || (c = push_open(p, true, &e)) == NULL)
		goto early;
	if (push_write(p, &e) == -1 || push_config(p, c, &e) == -1 ||
	    push_verify(p, &e) == -1) {
		rds_close(c);
		c = NULL;
		push_rollback(p, back, sizeof(back));
		snprintf(detail, dsz, "%.150s; %s", e.msg, back);
		goto out;
	}
	snprintf(detail, dsz, "%.100s written, CONFIG SET tls-ca-cert-file, "
	    "a new handshake verified against the bundle, PONG",
	    p->node.ca_file);
	rc = 0;
	goto out;
early:
	snprintf(detail, dsz, "%.200s; nothing was written", e.msg);
out:
	rds_close(c);
	return rc;
}

int
ca_push_node(struct svc *s, const struct svc_actor *a, const char *name,
    const char *bundle, const char *etag, bool rotated_only,
    struct svc_ca_node_result *r)
{
	struct push	p;
	struct err	e;
	char		detail[256];
	int		rc = -1;

	memset(&p, 0, sizeof(p));
	memset(r, 0, sizeof(*r));
	p.s = s;
	p.bundle = bundle;
	fset_init(&p.files);
	err_clear(&e);
	if (!svc_node_lock(s, name)) {
		snprintf(r->detail, sizeof(r->detail), "busy: a rotation or "
		    "another push is running; the scheduler pushes later");
		return -1;
	}
	if ((rc = push_run(&p, name, rotated_only, detail,
	    sizeof(detail))) == 1) {
		/* Never rotated: its first rotation writes the bundle. */
		svc_node_unlock(s, name);
		r->ok = true;
		snprintf(r->detail, sizeof(r->detail), "skipped: never "
		    "rotated (its first rotation writes the bundle)");
		goto out;
	}
	if (rc == 2) {
		svc_node_unlock(s, name);
		r->ok = true;
		snprintf(r->detail, sizeof(r->detail), "skipped: pull mode "
		    "(its enroll daemon loads the bundle)");
		rc = 1;
		goto out;
	}
	if (rc == 0 && db_node_set_bundle(s->db, name, etag, &e) == -1) {
		snprintf(detail, sizeof(detail), "pushed, but recording it "
		    "failed: %.180s", e.msg);
		rc = -1;
	}
	svc_node_unlock(s, name);
	r->ok = rc == 0;
	snprintf(r->detail, sizeof(r->detail), "%s", detail);
	log_msg(rc == 0 ? LOG_LVL_INFO : LOG_LVL_WARN, "bundle %s to node "
	    "%s: %s", etag, name, detail);
	svc_audit(s, a, ACTION_BUNDLE, name, rc == 0 ? AUDIT_OK : AUDIT_ERROR,
	    detail);
out:
	fset_clear(&p.files);
	fio_secret_free_str(p.password);
	node_rec_clear(&p.node);
	return rc;
}

int
ca_push_stale(struct svc *s, const struct svc_actor *a,
    struct svc_ca_result *res, bool rotated_only)
{
	struct svc_cas		*cas;
	struct svc_ca_node_result r;
	struct err		 e;
	char			**names = NULL;
	size_t			 n = 0;
	int			 failed = 0, rc;

	err_clear(&e);
	if ((cas = svc_cas_get(s)) == NULL)
		return 0;
	if (db_node_bundle_stale(s->db, cas->bundle_etag, &names, &n,
	    &e) == -1) {
		log_warn("nodes without the bundle: %s", e.msg);
		svc_cas_put(cas);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		rc = ca_push_node(s, a, names[i], cas->bundle_pem,
		    cas->bundle_etag, rotated_only, &r);
		if (rc == -1)
			failed++;
		if (rc != 1 && !svc_ca_result_add(res, names[i], r.ok,
		    r.detail))
			failed++;
	}
	db_node_names_free(names, n);
	svc_cas_put(cas);
	return failed;
}

int
svc_ca_push_stale(struct svc *s, const struct svc_actor *a,
    struct svc_ca_result *res)
{
	return ca_push_stale(s, a, res, false);
}

void
ca_push_note_written(struct svc *s, const char *node, const char *pem)
{
	struct svc_cas	*cas;
	struct err	 e;

	err_clear(&e);
	if (pem == NULL || (cas = svc_cas_get(s)) == NULL)
		return;
	if (cas->bundle_pem != NULL && strcmp(cas->bundle_pem, pem) == 0 &&
	    db_node_set_bundle(s->db, node, cas->bundle_etag, &e) == -1)
		log_warn("node %s: recording its bundle: %s", node, e.msg);
	svc_cas_put(cas);
}

int
svc_ca_stale_nodes(struct svc *s, char ***names, size_t *n, struct err *e)
{
	struct svc_cas	*cas;
	struct err	 le;
	int		 rc;

	ERR_LOCAL(e, le);
	*names = NULL;
	*n = 0;
	if ((cas = svc_cas_get(s)) == NULL) {
		err_set(e, ERR_INTERNAL, "no CA snapshot");
		return -1;
	}
	if ((rc = db_node_bundle_stale(s->db, cas->bundle_etag, names, n,
	    e)) == -1)
		svc_err_hide(e, "nodes without the bundle");
	svc_cas_put(cas);
	return rc;
}

void
svc_ca_names_free(char **names, size_t n)
{
	db_node_names_free(names, n);
}
