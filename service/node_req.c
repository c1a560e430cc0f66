/*
 * Checking what callers ask about nodes: node names, the admin-only
 * start of an act on one node, and a registration request turned into
 * a node record (every field checked, paths resolved, SPEC section 8).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fileio.h"
#include "safefile.h"
#include "svc_int.h"
#include "timeutil.h"

#define DEFAULT_PROFILE		"redis-node"
#define DEFAULT_CERT_FILE	"redis.crt"
#define DEFAULT_KEY_FILE	"redis.key"
#define DEFAULT_CA_FILE		"ca.crt"

/* Room for the ".prev" and temp-file suffixes beside a file name. */
#define NODE_FILE_NAME_MAX	200

/* A password file is a line, not a document (as rotate.c reads it). */
#define NODE_PASSWORD_MAX	1024

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
	/* POST /v1/nodes/report is a literal path beside /v1/nodes/{name}:
	 * no node (pushed, or a pull node named by its CN) may be called so. */
	if (strcmp(name, "report") == 0)
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

int
svc_node_admin_target(const struct svc_actor *a, const char *name,
    const char *forbidden, const char **object, struct err *e)
{
	*object = svc_node_name_valid(name) ? name : NULL;
	if (svc_require_admin(a, forbidden, e) == -1)
		return -1;
	if (*object == NULL) {
		err_set(e, ERR_NOT_FOUND, "node not found");
		return -1;
	}
	return 0;
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
	fio_secret_free_str(pw);
	/* Stored resolved, like cert_dir; a swap meanwhile is refused
	 * like any other failure. */
	if (rc == -1 || !svc_node_path_ok(s, v, real) ||
	    copy_fit(out, outsz, real) == -1) {
		err_set(e, ERR_INVALID_REQUEST, SVC_PASSWORD_REFUSED);
		return -1;
	}
	return 0;
}

/* The name, the address and the name the node is verified as. */
static int
req_address(const struct svc_node_req *req, struct node_rec *n,
    struct err *e)
{
	if (!svc_node_name_valid(req->name)) {
		err_set(e, ERR_INVALID_REQUEST, "name must match "
		    "[a-z0-9][a-z0-9-]{0,62}");
		return -1;
	}
	(void)copy_fit(n->name, sizeof(n->name), req->name);
	/* The group (SPEC 11): node-name rules; none: its own name. */
	if (!is_blank(req->group) && !svc_node_name_valid(req->group)) {
		err_set(e, ERR_INVALID_REQUEST, "group must match "
		    "[a-z0-9][a-z0-9-]{0,62}");
		return -1;
	}
	(void)copy_fit(n->group, sizeof(n->group), is_blank(req->group) ?
	    req->name : req->group);
	n->mode = NODE_MODE_PUSH;

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
	return 0;
}

/* Copy the SANs asked for into n->sans, each checked by names_add. */
static int
req_sans_copy(const struct names *sans, struct node_rec *n, struct err *e)
{
	static const char *const kf[NAME__MAX] = {
		[NAME_DNS] = "sans.dns", [NAME_IP] = "sans.ip",
		[NAME_URI] = "sans.uri",
	};

	if (sans->n[NAME_URI] != 0) {
		err_set(e, ERR_INVALID_REQUEST, "sans.uri is not "
		    "supported for nodes");
		return -1;
	}
	for (int k = NAME_DNS; k <= NAME_IP; k++)
		for (size_t i = 0; i < sans->n[k]; i++) {
			const char	*name = sans->list[k][i];
			struct err	 ne;

			err_clear(&ne);
			if ((k == NAME_DNS && (strchr(name, '*') != NULL ||
			    !names_is_dns(name))) || names_add(&n->sans,
			    (enum name_kind)k, name, &ne) == -1) {
				err_set(e, ERR_INVALID_REQUEST, "%s: "
				    "invalid name %.64s", kf[k], name);
				return -1;
			}
		}
	return 0;
}

/*
 * SANs: the verified name must be one of them, or no rotation could
 * ever pass its handshake; none asked for: that name alone.
 */
static int
req_sans(const struct svc_node_req *req, struct node_rec *n, struct err *e)
{
	const char *verify;

	verify = n->server_name[0] != '\0' ? n->server_name : n->host;
	if (req->sans != NULL && req_sans_copy(req->sans, n, e) == -1)
		return -1;
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
	return 0;
}

/* cert_dir and the three file names in it. */
static int
req_files(struct svc *s, const struct svc_node_req *req, struct node_rec *n,
    struct err *e)
{
	const char *files[3], *fields[3];

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
	return 0;
}

/* The profile (one for servers and clients) and the ttl under it. */
static int
req_profile(struct svc *s, const struct svc_node_req *req,
    struct node_rec *n, struct err *e)
{
	const struct profile	*p;
	const char		*v;

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
	return 0;
}

/* AUTH: a user name needs a password file. */
static int
req_auth(struct svc *s, const struct svc_node_req *req, struct node_rec *n,
    struct err *e)
{
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
	return 0;
}

int
svc_node_from_req(struct svc *s, const struct svc_node_req *req,
    struct node_rec *n, struct err *e)
{
	memset(n, 0, sizeof(*n));
	if (req_address(req, n, e) == -1 || req_sans(req, n, e) == -1 ||
	    req_files(s, req, n, e) == -1 || req_profile(s, req, n, e) == -1 ||
	    req_auth(s, req, n, e) == -1)
		return -1;
	n->created_at = tu_now();
	return 0;
}
