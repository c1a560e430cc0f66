/*
 * The `redis-ca enroll` command line: options parsed into struct
 * enroll_opts, and the token read from --token or --token-file.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "enroll.h"
#include "enroll_int.h"
#include "fileio.h"
#include "hostport.h"
#include "opts.h"
#include "timeutil.h"

/*
 * A token goes into an HTTP header: printable ASCII without spaces only,
 * so it can neither break the header nor smuggle another one.
 */
static bool
token_ok(const char *t, size_t len)
{
	size_t i;

	if (len == 0 || len > ENROLL_MAX_TOKEN_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (t[i] <= 0x20 || t[i] >= 0x7f)
			return false;
	return true;
}

/* The setters of the options that check more than "not empty". */

static int
set_url(void *opts, const char *v, struct err *e)
{
	struct enroll_opts *o = opts;
	size_t len = strlen(v);

	if (strncasecmp(v, "https://", 8) != 0 || len <= 8) {
		err_set(e, ERR_USAGE, "--url must be an https:// URL");
		return -1;
	}
	if (len > RCA_MAX_URI_LEN || strpbrk(v, " \t\r\n") != NULL) {
		err_set(e, ERR_USAGE, "--url is not a valid URL");
		return -1;
	}
	o->url = v;
	while (len > 8 && v[len - 1] == '/')
		len--;
	o->url_len = len;
	return 0;
}

static int
set_token(void *opts, const char *v, struct err *e)
{
	struct enroll_opts *o = opts;

	if (!token_ok(v, strlen(v))) {
		err_set(e, ERR_USAGE, "--token is not a valid token");
		return -1;
	}
	o->token = v;
	return 0;
}

static int
set_cn(void *opts, const char *v, struct err *e)
{
	struct enroll_opts *o = opts;
	struct err ne = { ERR_OK, "" };

	if (v[0] == '\0' || names_set_cn(&o->names, v, &ne) == -1) {
		err_set(e, ERR_USAGE, "--cn: bad common name%s%s",
		    ne.msg[0] != '\0' ? ": " : "", ne.msg);
		return -1;
	}
	return 0;
}

/* --dns and --ip: a SAN of kind k, which must parse as one. */
static int
add_san(void *opts, enum name_kind k, const char *v, struct err *e)
{
	struct enroll_opts *o = opts;
	bool ok = k == NAME_DNS ? names_is_dns(v) : names_is_ip(v);

	if (ok && names_add(&o->names, k, v, NULL) == 0)
		return 0;
	if (k == NAME_DNS)
		err_set(e, ERR_USAGE, "--dns: '%.*s' is not a usable DNS name",
		    RCA_MAX_NAME_LEN, v);
	else
		err_set(e, ERR_USAGE, "--ip: '%.*s' is not a usable IP "
		    "address", 64, v);
	return -1;
}

static int
set_dns(void *opts, const char *v, struct err *e)
{
	return add_san(opts, NAME_DNS, v, e);
}

static int
set_ip(void *opts, const char *v, struct err *e)
{
	return add_san(opts, NAME_IP, v, e);
}

static int
set_key_type(void *opts, const char *v, struct err *e)
{
	struct enroll_opts *o = opts;

	if (key_type_parse(v, &o->key_type) == -1) {
		err_set(e, ERR_USAGE, "--key-type: unknown key type '%.*s' "
		    "(ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096)", 32, v);
		return -1;
	}
	return 0;
}

static int
set_ttl(void *opts, const char *v, struct err *e)
{
	struct enroll_opts *o = opts;

	if (tu_parse_duration(v, &o->ttl, NULL) == -1) {
		err_set(e, ERR_USAGE, "--ttl: bad duration '%.*s' (e.g. 90s, "
		    "30m, 24h, 7d)", 32, v);
		return -1;
	}
	return 0;
}

static int
set_bundle_check(void *opts, const char *v, struct err *e)
{
	struct enroll_opts *o = opts;

	if (tu_parse_duration(v, &o->bundle_check, NULL) == -1 ||
	    o->bundle_check < ENROLL_BUNDLE_CHECK_MIN ||
	    o->bundle_check > ENROLL_BUNDLE_CHECK_MAX) {
		err_set(e, ERR_USAGE, "--bundle-check: bad duration '%.*s' "
		    "(1s to 24h, e.g. 5m)", 32, v);
		return -1;
	}
	o->bundle_check_set = true;
	return 0;
}

/*
 * --redis HOST:PORT ("[v6]:PORT" for an IPv6 literal): hostport_split()'s
 * rules, a port from 1, and a host that is a DNS name or an IP address.
 */
static int
set_redis(void *opts, const char *v, struct err *e)
{
	struct enroll_opts *o = opts;
	unsigned port;

	if (!hostport_split(v, o->redis_host, sizeof(o->redis_host), &port) ||
	    port == 0 ||
	    (!names_is_dns(o->redis_host) && !names_is_ip(o->redis_host))) {
		err_set(e, ERR_USAGE, "--redis: '%.*s' is not HOST:PORT", 64,
		    v);
		return -1;
	}
	o->redis_port = (int)port;
	o->redis = v;
	return 0;
}

/* --group: a node name (a-z, 0-9, '-', starting with a letter or digit). */
static int
set_group(void *opts, const char *v, struct err *e)
{
	struct enroll_opts *o = opts;
	size_t i, len = strlen(v);

	if (len == 0 || len > RCA_MAX_NODE_NAME || v[0] == '-')
		goto bad;
	for (i = 0; i < len; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') ||
		    (v[i] >= '0' && v[i] <= '9') || v[i] == '-'))
			goto bad;
	o->group = v;
	return 0;
bad:
	err_set(e, ERR_USAGE, "--group: '%.*s' is not a group name (a-z, "
	    "0-9 and '-')", 64, v);
	return -1;
}

static const struct opt enroll_opt_table[] = {
	{ .name = "url", .type = OPT_CALL, .set = set_url },
	{ .name = "cacert", .type = OPT_NONEMPTY,
	    .off = offsetof(struct enroll_opts, cacert),
	    .bad = "--cacert needs a file" },
	{ .name = "token", .type = OPT_CALL, .set = set_token },
	{ .name = "token-file", .type = OPT_NONEMPTY,
	    .off = offsetof(struct enroll_opts, token_file),
	    .bad = "--token-file needs a file" },
	{ .name = "profile", .type = OPT_NONEMPTY,
	    .off = offsetof(struct enroll_opts, profile),
	    .max = RCA_MAX_PROFILE_NAME, .bad = "--profile: bad profile name" },
	{ .name = "cn", .type = OPT_CALL, .set = set_cn },
	{ .name = "dns", .type = OPT_CALL, .flags = OPT_F_REPEAT,
	    .set = set_dns },
	{ .name = "ip", .type = OPT_CALL, .flags = OPT_F_REPEAT,
	    .set = set_ip },
	{ .name = "key-type", .type = OPT_CALL, .set = set_key_type },
	{ .name = "ttl", .type = OPT_CALL, .set = set_ttl },
	{ .name = "out", .type = OPT_NONEMPTY,
	    .off = offsetof(struct enroll_opts, out),
	    .max = RCA_MAX_PATH - 32, .bad = "--out: bad folder name" },
	{ .name = "daemon", .type = OPT_FLAG,
	    .off = offsetof(struct enroll_opts, daemon) },
	OPTS_STRING("exec", struct enroll_opts, exec),
	{ .name = "bundle-check", .type = OPT_CALL, .set = set_bundle_check },
	{ .name = "help", .type = OPT_FLAG,
	    .off = offsetof(struct enroll_opts, help) },
	{ .name = "redis", .type = OPT_CALL, .set = set_redis },
	{ .name = "redis-auth-file", .type = OPT_NONEMPTY,
	    .off = offsetof(struct enroll_opts, redis_auth_file),
	    .max = RCA_MAX_PATH - 1,
	    .bad = "--redis-auth-file needs an absolute path" },
	{ .name = "redis-user", .type = OPT_NONEMPTY,
	    .off = offsetof(struct enroll_opts, redis_user), .max = 127,
	    .bad = "--redis-user: bad user name" },
	{ .name = "group", .type = OPT_CALL, .set = set_group },
};

static const struct opts_cmd enroll_cmd = {
	OPTS_STRICT, enroll_opt_table,
	sizeof(enroll_opt_table) / sizeof(enroll_opt_table[0]), false, NULL
};

/* What must be given, and what goes together. */
static int
check_args(struct enroll_opts *o, struct err *e)
{
	if (o->url == NULL || o->cacert == NULL || o->profile == NULL ||
	    o->names.cn == NULL || o->out == NULL) {
		err_set(e, ERR_USAGE, "missing %s",
		    o->url == NULL ? "--url" : o->cacert == NULL ? "--cacert" :
		    o->profile == NULL ? "--profile" :
		    o->names.cn == NULL ? "--cn" : "--out");
		return -1;
	}
	if ((o->token == NULL) == (o->token_file == NULL)) {
		err_set(e, ERR_USAGE, "give exactly one of --token and "
		    "--token-file");
		return -1;
	}
	if (o->exec != NULL && !o->daemon) {
		err_set(e, ERR_USAGE, "--exec needs --daemon");
		return -1;
	}
	if (o->bundle_check_set && !o->daemon) {
		err_set(e, ERR_USAGE, "--bundle-check needs --daemon");
		return -1;
	}
	if (o->redis != NULL && !o->daemon) {
		err_set(e, ERR_USAGE, "--redis needs --daemon");
		return -1;
	}
	if (o->redis == NULL && (o->redis_auth_file != NULL ||
	    o->redis_user != NULL || o->group != NULL)) {
		err_set(e, ERR_USAGE, "%s needs --redis",
		    o->redis_auth_file != NULL ? "--redis-auth-file" :
		    o->redis_user != NULL ? "--redis-user" : "--group");
		return -1;
	}
	if (o->redis_auth_file != NULL && o->redis_auth_file[0] != '/') {
		err_set(e, ERR_USAGE, "--redis-auth-file needs an absolute "
		    "path");
		return -1;
	}
	/* An empty --exec means none (so a unit file can pass "--exec="). */
	if (o->exec != NULL && o->exec[0] == '\0')
		o->exec = NULL;
	return 0;
}

int
enroll_parse_args(int argc, char **argv, struct enroll_opts *o,
    struct err *e)
{
	struct opts_result res;
	int rc = -1;

	memset(o, 0, sizeof(*o));
	o->key_type = KEY_EC_P256;
	o->bundle_check = ENROLL_BUNDLE_CHECK_DEFAULT;
	if (opts_parse(&enroll_cmd, argc, argv, o, &res, e) == -1)
		goto out;
	if (!o->help && check_args(o, e) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		enroll_opts_clear(o);
	return rc;
}

void
enroll_opts_clear(struct enroll_opts *o)
{
	if (o == NULL)
		return;
	names_clear(&o->names);
	memset(o, 0, sizeof(*o));
}

int
enroll_read_token(const struct enroll_opts *o, char **tok, struct err *e)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = -1;

	*tok = NULL;
	if (o->token != NULL) {
		if ((buf = strdup(o->token)) == NULL) {
			err_set(e, ERR_INTERNAL, "out of memory");
			goto out;
		}
		len = cap = strlen(buf);
	} else {
		if (fio_read_all(o->token_file, ENROLL_MAX_TOKEN_LEN + 64,
		    &buf, &len, e) == -1)
			goto out;
		cap = len;
		while (len > 0 && (buf[len - 1] == '\n' ||
		    buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
		    buf[len - 1] == '\t'))
			buf[--len] = '\0';
		if (!token_ok(buf, len)) {
			err_set(e, ERR_USAGE, "%s does not hold a token",
			    o->token_file);
			goto out;
		}
	}
	*tok = buf;
	buf = NULL;
	rc = 0;
out:
	fio_secret_free(buf, cap);
	return rc;
}
