/*
 * The node registry: validating and storing the Redis nodes whose
 * certificates the service keeps fresh, the view the API shows of them
 * (status, expiry, last rotation), their redis.conf TLS block, and the
 * per-node numbers for /metrics.  Rotation itself is in rotate.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "safefile.h"
#include "svc_int.h"
#include "timeutil.h"

#define ACTION_CREATE	"node.create"
#define ACTION_DELETE	"node.delete"

#define DEFAULT_PROFILE		"redis-node"
#define DEFAULT_CERT_FILE	"redis.crt"
#define DEFAULT_KEY_FILE	"redis.key"
#define DEFAULT_CA_FILE		"ca.crt"

/* Room for the ".prev" and temp-file suffixes beside a file name. */
#define NODE_FILE_NAME_MAX	200

/* A password file is a line, not a document (as rotate.c reads it). */
#define NODE_PASSWORD_MAX	1024

static const char *const node_status_names[NODE_STATUS__MAX] = {
	[NODE_OK] = "ok",
	[NODE_EXPIRING] = "expiring",
	[NODE_ROTATION_FAILED] = "rotation_failed",
	[NODE_UNKNOWN] = "unknown",
};

const char *
svc_node_status_name(enum node_status st)
{
	if ((unsigned)st >= NODE_STATUS__MAX)
		return "unknown";
	return node_status_names[st];
}

/* Start v empty (it may hold garbage). */
static void
view_init(struct svc_node_view *v)
{
	if (v == NULL)
		return;
	memset(v, 0, sizeof(*v));
	v->status = NODE_UNKNOWN;
}

void
svc_node_view_clear(struct svc_node_view *v)
{
	if (v == NULL)
		return;
	node_rec_clear(&v->node);
	view_init(v);
}

/* Copy src into dst (size n); -1 when it does not fit. */
static int
copy_fit(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (len >= n)
		return -1;
	memcpy(dst, src, len + 1);
	return 0;
}

static bool
is_blank(const char *s)
{
	return s == NULL || s[0] == '\0';
}

bool
svc_node_name_valid(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0')
		return false;
	if (!((name[0] >= 'a' && name[0] <= 'z') ||
	    (name[0] >= '0' && name[0] <= '9')))
		return false;
	for (i = 1; name[i] != '\0'; i++) {
		char c = name[i];

		if (i >= RCA_MAX_NODE_NAME)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			return false;
	}
	return true;
}

/*
 * A path that goes verbatim into redis.conf and CONFIG SET: printable,
 * no whitespace, quotes or backslashes (redis.conf would need quoting,
 * and a newline would add directives).
 */
static bool
conf_safe(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == 0x7f || c == '"' || c == '\'' ||
		    c == '\\')
			return false;
	}
	return true;
}

/* A plain file name inside cert_dir. */
static int
check_file_name(const char *field, const char *v, struct err *e)
{
	if (!sf_name_ok(v)) {
		err_set(e, ERR_INVALID_REQUEST, "%s must be a plain file name "
		    "(no '/', not \".\" or \"..\")", field);
		return -1;
	}
	if (strlen(v) > NODE_FILE_NAME_MAX || !conf_safe(v)) {
		err_set(e, ERR_INVALID_REQUEST, "%s: at most %d printable "
		    "characters without spaces or quotes", field,
		    NODE_FILE_NAME_MAX);
		return -1;
	}
	return 0;
}

/* A host or server name: a DNS name without wildcard, or an IP. */
static bool
host_valid(const char *v)
{
	if (names_is_ip(v))
		return true;
	return strchr(v, '*') == NULL && names_is_dns(v);
}

/* True when list k of n holds v (DNS case-insensitively, IPs canonical). */
static bool
sans_have(const struct names *n, const char *v)
{
	struct names	 tmp = NAMES_INIT;
	enum name_kind	 k = names_is_ip(v) ? NAME_IP : NAME_DNS;
	const char	*want = v;
	struct err	 e;
	bool		 found = false;

	err_clear(&e);
	/* Canonical IP text through names_add (inet_pton/inet_ntop). */
	if (k == NAME_IP) {
		if (names_add(&tmp, NAME_IP, v, &e) == -1)
			goto out;
		want = tmp.list[NAME_IP][0];
	}
	for (size_t i = 0; i < n->n[k] && !found; i++)
		found = strcasecmp(n->list[k][i], want) == 0;
out:
	names_clear(&tmp);
	return found;
}

/*
 * Every refusal of cert_dir that depends on the file system gives this
 * one message, so that it never tells whether a path exists.
 */
#define CERT_DIR_REFUSED "cert_dir must be an existing folder inside " \
	"nodes.allowed_dirs and outside the data folder, without spaces, " \
	"quotes, backslashes or control characters"

/*
 * Resolve and check cert_dir into out (RCA_MAX_PATH): inside
 * nodes.allowed_dirs, outside the data folder, a folder reached
 * without links (SPEC section 8).
 */
static int
check_cert_dir(struct svc *s, const char *v, char *out, struct err *e)
{
	char		real[RCA_MAX_PATH];
	struct stat	st;
	int		fd;

	if (is_blank(v) || v[0] != '/') {
		err_set(e, ERR_INVALID_REQUEST, "cert_dir must be an "
		    "absolute path");
		return -1;
	}
	if (strlen(v) >= RCA_MAX_PATH) {
		err_set(e, ERR_INVALID_REQUEST, "cert_dir is too long");
		return -1;
	}
	/*
	 * Resolved once, here: the stored path has no symbolic link and
	 * no "..", and every rotation opens it refusing any link on the
	 * way, so a later rename of a link cannot redirect the files
	 * the service writes.
	 */
	if (!conf_safe(v) || !svc_node_path_ok(s, v, real) ||
	    !conf_safe(real) ||
	    strlen(real) + 1 + NODE_FILE_NAME_MAX + 16 >= RCA_MAX_PATH) {
		err_set(e, ERR_INVALID_REQUEST, CERT_DIR_REFUSED);
		return -1;
	}
	if ((fd = sf_open_dir(real, &st, NULL)) == -1) {
		err_set(e, ERR_INVALID_REQUEST, CERT_DIR_REFUSED);
		return -1;
	}
	close(fd);
	(void)copy_fit(out, RCA_MAX_PATH, real);
	return 0;
}

/*
 * The password file: absolute, inside nodes.allowed_dirs, readable by
 * us, no access for others, one link.  out gets the resolved path.  One
 * message for every refusal; the password is read and wiped at once.
 */
static int
check_password_file(struct svc *s, const char *v, char *out, size_t outsz,
    struct err *e)
{
	char	real[RCA_MAX_PATH], *pw = NULL;
	int	rc;

	if (v[0] != '/' || strlen(v) >= RCA_MAX_PATH) {
		err_set(e, ERR_INVALID_REQUEST, "auth.password_file must be "
		    "an absolute path");
		return -1;
	}
	rc = svc_node_password_read(s, v, NODE_PASSWORD_MAX, &pw, NULL);
	if (pw != NULL) {
		fio_wipe(pw, strlen(pw));
		free(pw);
	}
	/* Stored resolved, like cert_dir; a swap meanwhile is refused
	 * like any other failure. */
	if (rc == -1 || !svc_node_path_ok(s, v, real) ||
	    copy_fit(out, outsz, real) == -1) {
		err_set(e, ERR_INVALID_REQUEST, SVC_PASSWORD_REFUSED);
		return -1;
	}
	return 0;
}

/* Check req and fill the record n (cleared by the caller on error). */
static int
node_from_req(struct svc *s, const struct svc_node_req *req,
    struct node_rec *n, struct err *e)
{
	const struct profile	*p;
	const char		*verify, *v;
	const char		*files[3], *fields[3];

	memset(n, 0, sizeof(*n));
	if (!svc_node_name_valid(req->name)) {
		err_set(e, ERR_INVALID_REQUEST, "name must match "
		    "[a-z0-9][a-z0-9-]{0,62}");
		return -1;
	}
	(void)copy_fit(n->name, sizeof(n->name), req->name);

	if (is_blank(req->host) || !host_valid(req->host) ||
	    copy_fit(n->host, sizeof(n->host), req->host) == -1) {
		err_set(e, ERR_INVALID_REQUEST, "host must be a DNS name or "
		    "an IP address");
		return -1;
	}
	if (req->port < 1 || req->port > 65535) {
		err_set(e, ERR_INVALID_REQUEST, "port must be 1 to 65535");
		return -1;
	}
	n->port = req->port;
	if (!is_blank(req->server_name) && (!host_valid(req->server_name) ||
	    copy_fit(n->server_name, sizeof(n->server_name),
	    req->server_name) == -1)) {
		err_set(e, ERR_INVALID_REQUEST, "server_name must be a DNS "
		    "name or an IP address");
		return -1;
	}
	verify = n->server_name[0] != '\0' ? n->server_name : n->host;

	/* SANs: each checked again by names_add; the verified name must
	 * be one of them, or no rotation could ever pass its handshake. */
	if (req->sans != NULL) {
		static const char *const kf[NAME__MAX] = {
			[NAME_DNS] = "sans.dns", [NAME_IP] = "sans.ip",
			[NAME_URI] = "sans.uri",
		};

		if (req->sans->n[NAME_URI] != 0) {
			err_set(e, ERR_INVALID_REQUEST, "sans.uri is not "
			    "supported for nodes");
			return -1;
		}
		for (int k = NAME_DNS; k <= NAME_IP; k++)
			for (size_t i = 0; i < req->sans->n[k]; i++) {
				const char *name = req->sans->list[k][i];
				struct err ne;

				err_clear(&ne);
				if ((k == NAME_DNS && (strchr(name, '*') !=
				    NULL || !names_is_dns(name))) ||
				    names_add(&n->sans, (enum name_kind)k,
				    name, &ne) == -1) {
					err_set(e, ERR_INVALID_REQUEST, "%s: "
					    "invalid name %.64s", kf[k], name);
					return -1;
				}
			}
	}
	if (names_count(&n->sans) == 0) {
		if (names_add(&n->sans, names_is_ip(verify) ? NAME_IP :
		    NAME_DNS, verify, e) == -1)
			return -1;
	} else if (!sans_have(&n->sans, verify)) {
		err_set(e, ERR_INVALID_REQUEST, "sans must include %s (%.64s), "
		    "the name the node is verified as",
		    n->server_name[0] != '\0' ? "server_name" : "host",
		    verify);
		return -1;
	}

	if (check_cert_dir(s, req->cert_dir, n->cert_dir, e) == -1)
		return -1;
	files[0] = is_blank(req->cert_file) ? DEFAULT_CERT_FILE :
	    req->cert_file;
	files[1] = is_blank(req->key_file) ? DEFAULT_KEY_FILE : req->key_file;
	files[2] = is_blank(req->ca_file) ? DEFAULT_CA_FILE : req->ca_file;
	fields[0] = "cert_file";
	fields[1] = "key_file";
	fields[2] = "ca_file";
	for (int i = 0; i < 3; i++)
		if (check_file_name(fields[i], files[i], e) == -1)
			return -1;
	if (strcmp(files[0], files[1]) == 0 ||
	    strcmp(files[0], files[2]) == 0 ||
	    strcmp(files[1], files[2]) == 0) {
		err_set(e, ERR_INVALID_REQUEST, "cert_file, key_file and "
		    "ca_file must be different names");
		return -1;
	}
	(void)copy_fit(n->cert_file, sizeof(n->cert_file), files[0]);
	(void)copy_fit(n->key_file, sizeof(n->key_file), files[1]);
	(void)copy_fit(n->ca_file, sizeof(n->ca_file), files[2]);

	v = is_blank(req->profile) ? DEFAULT_PROFILE : req->profile;
	if ((p = svc_profile(s, v)) == NULL) {
		err_set(e, ERR_UNKNOWN_PROFILE, "unknown profile: %.64s", v);
		return -1;
	}
	/* Replication and the cluster bus present the node certificate
	 * as a client certificate (SPEC section 1). */
	if ((p->eku & (EKU_SERVER_AUTH | EKU_CLIENT_AUTH)) !=
	    (EKU_SERVER_AUTH | EKU_CLIENT_AUTH)) {
		err_set(e, ERR_INVALID_REQUEST, "profile %s must grant "
		    "serverAuth and clientAuth to be used for nodes", p->name);
		return -1;
	}
	(void)copy_fit(n->profile, sizeof(n->profile), p->name);
	if (req->ttl < 0) {
		err_set(e, ERR_INVALID_TTL, "ttl must be positive");
		return -1;
	}
	if (req->ttl > p->max_ttl) {
		err_set(e, ERR_TTL_TOO_LONG, "ttl is above the %s profile's "
		    "max_ttl", p->name);
		return -1;
	}
	n->ttl = req->ttl;

	if (!is_blank(req->auth_username)) {
		if (!conf_safe(req->auth_username) ||
		    copy_fit(n->auth_username, sizeof(n->auth_username),
		    req->auth_username) == -1) {
			err_set(e, ERR_INVALID_REQUEST, "auth.username must "
			    "be at most %zu printable characters without "
			    "spaces", sizeof(n->auth_username) - 1);
			return -1;
		}
	}
	if (!is_blank(req->auth_password_file)) {
		if (check_password_file(s, req->auth_password_file,
		    n->auth_password_file, sizeof(n->auth_password_file),
		    e) == -1)
			return -1;
	} else if (n->auth_username[0] != '\0') {
		err_set(e, ERR_INVALID_REQUEST, "auth.password_file is "
		    "required with auth.username");
		return -1;
	}
	n->created_at = tu_now();
	return 0;
}

int64_t
svc_node_renew_window(struct svc *s, const struct node_rec *n)
{
	const struct profile	*p;
	struct cert_rec		 c;
	struct err		 e;
	int64_t			 life = 0;

	memset(&c, 0, sizeof(c));
	err_clear(&e);
	if (n->current_serial[0] != '\0' &&
	    db_cert_get(s->db, n->current_serial, &c, &e) == 0)
		life = c.not_after - c.not_before;
	cert_rec_clear(&c);
	if (life <= 0)
		life = n->ttl;
	if (life <= 0 && (p = svc_profile(s, n->profile)) != NULL)
		life = p->default_ttl;
	return life / 100 * s->rotation_renew_before_pct +
	    life % 100 * s->rotation_renew_before_pct / 100;
}

/* Fill v from the node record n (stolen: n is left empty). */
static void
view_fill(struct svc *s, struct node_rec *n, struct svc_node_view *v,
    int64_t now)
{
	struct err e;

	err_clear(&e);
	memset(v, 0, sizeof(*v));
	v->node = *n;
	memset(n, 0, sizeof(*n));
	if (v->node.last_rotation_id != 0) {
		if (db_rotation_get(s->db, v->node.last_rotation_id,
		    &v->last_rotation, &e) == 0)
			v->has_last_rotation = true;
		else
			log_warn("node %s: rotation %lld: %s", v->node.name,
			    (long long)v->node.last_rotation_id, e.msg);
	}
	if (v->node.not_after != 0)
		v->expires_in_seconds = v->node.not_after - now;
	if (v->has_last_rotation &&
	    (v->last_rotation.status == ROT_ROLLED_BACK ||
	    v->last_rotation.status == ROT_FAILED))
		v->status = NODE_ROTATION_FAILED;
	else if (v->node.current_serial[0] == '\0' ||
	    v->node.not_after == 0)
		v->status = NODE_UNKNOWN;
	else if (v->expires_in_seconds < svc_node_renew_window(s, &v->node))
		v->status = NODE_EXPIRING;
	else
		v->status = NODE_OK;
}

int
svc_node_create(struct svc *s, const struct svc_actor *a,
    const struct svc_node_req *req, struct svc_node_view *out,
    struct err *e)
{
	struct node_rec		 n;
	struct audit_rec	 ar;
	struct err		 le;
	char			 detail[sizeof(ar.detail)];
	const char		*object = NULL;
	int			 rc = -1;

	if (e == NULL)
		e = &le;
	err_clear(e);
	memset(&n, 0, sizeof(n));
	view_init(out);
	if (req != NULL && svc_node_name_valid(req->name))
		object = req->name;
	if (svc_require_admin(a, "nodes are managed by admins only",
	    e) == -1)
		goto out;
	if (req == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "no request");
		goto out;
	}
	if (node_from_req(s, req, &n, e) == -1)
		goto out;
	snprintf(detail, sizeof(detail), "%.100s:%d cert_dir=%.100s",
	    n.host, n.port, n.cert_dir);
	svc_audit_fill(&ar, a, ACTION_CREATE, n.name, AUDIT_OK, detail);
	if (db_node_insert(s->db, &n, &ar, e) == -1)
		goto out;
	if (out != NULL)
		view_fill(s, &n, out, tu_now());
	rc = 0;
out:
	if (rc == -1)
		svc_fail(s, a, ACTION_CREATE, object, e);
	node_rec_clear(&n);
	return rc;
}

int
svc_node_get(struct svc *s, const char *name, struct svc_node_view *out,
    struct err *e)
{
	struct node_rec	n;
	int		rc = -1;

	memset(&n, 0, sizeof(n));
	view_init(out);
	if (!svc_node_name_valid(name)) {
		err_set(e, ERR_NOT_FOUND, "node not found");
		goto out;
	}
	if (db_node_get(s->db, name, &n, e) == -1) {
		if (e != NULL && e->code != ERR_NOT_FOUND) {
			log_error("node get %s: %s", name, e->msg);
			err_set(e, ERR_INTERNAL, "internal error");
		}
		goto out;
	}
	view_fill(s, &n, out, tu_now());
	rc = 0;
out:
	node_rec_clear(&n);
	return rc;
}

int
svc_node_list(struct svc *s, const char *after, size_t limit,
    struct svc_node_view **out, size_t *n, char next[RCA_MAX_NODE_NAME + 1],
    struct err *e)
{
	struct node_rec		*list = NULL;
	struct svc_node_view	*views = NULL;
	size_t			 cnt = 0;
	int64_t			 now = tu_now();
	int			 rc = -1;

	*out = NULL;
	*n = 0;
	next[0] = '\0';
	if (limit == 0 || limit > RCA_MAX_LIST_LIMIT) {
		err_set(e, ERR_INVALID_REQUEST, "limit must be 1 to %d",
		    RCA_MAX_LIST_LIMIT);
		goto out;
	}
	if (db_node_list(s->db, after, limit, &list, &cnt, next, e) == -1) {
		log_error("node list: %s", e != NULL ? e->msg : "");
		err_set(e, ERR_INTERNAL, "internal error");
		goto out;
	}
	if ((views = calloc(cnt > 0 ? cnt : 1, sizeof(*views))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cnt; i++)
		view_fill(s, &list[i], &views[i], now);
	*out = views;
	*n = cnt;
	views = NULL;
	rc = 0;
out:
	db_node_list_free(list, cnt);
	free(views);
	if (rc == -1)
		next[0] = '\0';
	return rc;
}

void
svc_node_list_free(struct svc_node_view *list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		svc_node_view_clear(&list[i]);
	free(list);
}

int
svc_node_delete(struct svc *s, const struct svc_actor *a, const char *name,
    struct err *e)
{
	struct audit_rec	 ar;
	struct err		 le;
	const char		*object = NULL;
	bool			 locked = false;
	int			 rc = -1;

	if (e == NULL)
		e = &le;
	err_clear(e);
	if (svc_node_name_valid(name))
		object = name;
	if (svc_require_admin(a, "nodes are managed by admins only",
	    e) == -1)
		goto out;
	if (object == NULL) {
		err_set(e, ERR_NOT_FOUND, "node not found");
		goto out;
	}
	/* Not while it is being rotated: the rotation's record would
	 * lose its node halfway. */
	if (!svc_node_lock(s, name)) {
		err_set(e, ERR_CONFLICT, "a rotation of node %s is running",
		    name);
		goto out;
	}
	locked = true;
	svc_audit_fill(&ar, a, ACTION_DELETE, name, AUDIT_OK, "");
	if (db_node_delete(s->db, name, &ar, e) == -1)
		goto out;
	rc = 0;
out:
	if (locked)
		svc_node_unlock(s, name);
	if (rc == -1)
		svc_fail(s, a, ACTION_DELETE, object, e);
	return rc;
}

int
svc_rotation_list(struct svc *s, const char *name, int64_t before,
    size_t limit, struct rotation_rec **out, size_t *n, int64_t *next,
    struct err *e)
{
	struct node_rec	node;
	int		rc = -1;

	memset(&node, 0, sizeof(node));
	*out = NULL;
	*n = 0;
	*next = 0;
	if (limit == 0 || limit > RCA_MAX_LIST_LIMIT) {
		err_set(e, ERR_INVALID_REQUEST, "limit must be 1 to %d",
		    RCA_MAX_LIST_LIMIT);
		goto out;
	}
	if (!svc_node_name_valid(name)) {
		err_set(e, ERR_NOT_FOUND, "node not found");
		goto out;
	}
	if (db_node_get(s->db, name, &node, e) == -1 ||
	    db_rotation_list(s->db, name, before, limit, out, n, next,
	    e) == -1) {
		if (e != NULL && e->code != ERR_NOT_FOUND) {
			log_error("rotation list %s: %s", name, e->msg);
			err_set(e, ERR_INTERNAL, "internal error");
		}
		goto out;
	}
	rc = 0;
out:
	node_rec_clear(&node);
	return rc;
}

void
svc_rotation_list_free(struct rotation_rec *list, size_t n)
{
	db_rotation_list_free(list, n);
}

/*
 * The recommended TLS settings.  TLS 1.2 suites: ECDHE key exchange
 * with AEAD ciphers only (ECDSA and RSA node keys); TLS 1.3: the three
 * AEAD suites every client has.
 */
#define CONF_CIPHERS \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
#define CONF_CIPHERSUITES \
	"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:" \
	"TLS_AES_128_GCM_SHA256"

int
svc_node_redis_conf(struct svc *s, const char *name, char **text,
    struct err *e)
{
	struct node_rec	 n;
	char		*buf = NULL;
	size_t		 size = 0;
	FILE		*f = NULL;
	int		 rc = -1;

	memset(&n, 0, sizeof(n));
	*text = NULL;
	if (!svc_node_name_valid(name)) {
		err_set(e, ERR_NOT_FOUND, "node not found");
		goto out;
	}
	if (db_node_get(s->db, name, &n, e) == -1) {
		if (e != NULL && e->code != ERR_NOT_FOUND) {
			log_error("node get %s: %s", name, e->msg);
			err_set(e, ERR_INTERNAL, "internal error");
		}
		goto out;
	}
	if ((f = open_memstream(&buf, &size)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	fprintf(f,
	    "# TLS for Redis node %s, from redis-ca.  Certificates are\n"
	    "# rotated by redis-ca with CONFIG SET, without a restart.\n"
	    "port 0\n"
	    "tls-port %d\n"
	    "tls-cert-file %s/%s\n"
	    "tls-key-file %s/%s\n"
	    "tls-ca-cert-file %s/%s\n"
	    "tls-auth-clients yes\n"
	    "tls-protocols \"TLSv1.2 TLSv1.3\"\n"
	    "tls-ciphers \"" CONF_CIPHERS "\"\n"
	    "tls-ciphersuites \"" CONF_CIPHERSUITES "\"\n"
	    "tls-prefer-server-ciphers yes\n"
	    "tls-replication yes\n"
	    "tls-cluster yes\n"
	    "tls-session-caching yes\n"
	    "tls-session-cache-size 20480\n"
	    "tls-session-cache-timeout 300\n",
	    n.name, n.port, n.cert_dir, n.cert_file, n.cert_dir, n.key_file,
	    n.cert_dir, n.ca_file);
	if (fclose(f) != 0) {
		f = NULL;
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	f = NULL;
	*text = buf;
	buf = NULL;
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	node_rec_clear(&n);
	return rc;
}

int
svc_node_stats(struct svc *s, struct svc_node_stats *out, struct err *e)
{
	struct db_node_stat	*list = NULL;
	size_t			 cnt = 0;

	memset(out, 0, sizeof(*out));
	if (db_node_stats(s->db, &list, &cnt, e) == -1) {
		log_error("node stats: %s", e != NULL ? e->msg : "");
		err_set(e, ERR_INTERNAL, "internal error");
		return -1;
	}
	if (cnt > 0 && (out->nodes = calloc(cnt, sizeof(*out->nodes))) ==
	    NULL) {
		free(list);
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < cnt; i++) {
		memcpy(out->nodes[i].node, list[i].node,
		    sizeof(out->nodes[i].node));
		out->nodes[i].cert_not_after = list[i].not_after;
		memcpy(out->nodes[i].rotations, list[i].rotations,
		    sizeof(out->nodes[i].rotations));
	}
	out->nnodes = cnt;
	free(list);
	return 0;
}

void
svc_node_stats_clear(struct svc_node_stats *st)
{
	if (st == NULL)
		return;
	free(st->nodes);
	memset(st, 0, sizeof(*st));
}
