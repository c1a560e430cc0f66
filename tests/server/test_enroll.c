/*
 * Tests of server/enroll*.c: the command line, the CA's response bodies,
 * the state file, renewal timing and backoff, crash-safe file
 * replacement, and cmd_enroll's exit statuses when the CA is away.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "ca.h"
#include "enroll.h"
#include "fileio.h"
#include "timeutil.h"

#define MAXARGS 32
#define TPATH 256	/* test paths are short */

/* Split a space-separated command line into argv (at most MAXARGS). */
static int
split(char *line, char **argv)
{
	int argc = 0;
	char *save = NULL, *t;

	argv[argc++] = (char *)"enroll";
	for (t = strtok_r(line, " ", &save); t != NULL && argc < MAXARGS;
	    t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	return argc;
}

#define BASE "--url https://ca.example:8443 --cacert ca.pem " \
	"--token rca_abc --profile redis-client --cn app --out /tmp/x"

struct usage_row {
	const char	*line;
	const char	*msg;	/* part of the error; NULL: accepted */
};

static const struct usage_row usage_rows[] = {
	{ BASE, NULL },
	{ BASE " --daemon --exec /bin/true", NULL },
	{ BASE " --dns a.example --ip 10.0.0.1 --ip ::1 --ttl 12h", NULL },
	{ BASE " --key-type rsa-3072", NULL },
	{ "--help", NULL },
	{ "", "missing --url" },
	{ "--url https://ca --cacert c --token t --cn a --out o",
	    "missing --profile" },
	{ "--url https://ca --token t --profile p --cn a --out o",
	    "missing --cacert" },
	{ "--url https://ca --cacert c --token t --profile p --out o",
	    "missing --cn" },
	{ "--url https://ca --cacert c --token t --profile p --cn a",
	    "missing --out" },
	{ "--cacert c --token t --profile p --cn a --out o",
	    "missing --url" },
	{ "--url https://ca --cacert c --profile p --cn a --out o",
	    "exactly one of --token and --token-file" },
	{ BASE " --token-file /tmp/t", "exactly one of" },
	{ BASE " --ttl 12", "--ttl" },
	{ BASE " --ttl -5h", "--ttl" },
	{ BASE " --ttl 0s", "--ttl" },
	{ BASE " --key-type dsa-1024", "--key-type" },
	{ BASE " --ip 10.0.0.300", "--ip" },
	{ BASE " --ip example.com", "--ip" },
	{ BASE " --dns bad..name", "--dns" },
	{ BASE " --exec /bin/true", "--exec needs --daemon" },
	{ BASE " --daemon --bundle-check 30s", NULL },
	{ BASE " --bundle-check 30s", "--bundle-check needs --daemon" },
	{ BASE " --daemon --bundle-check 0s", "--bundle-check" },
	{ BASE " --daemon --bundle-check 2d", "--bundle-check" },
	{ BASE " --daemon --bundle-check soon", "--bundle-check" },
	{ "--url https://ca --cacert= --token t --profile p --cn a --out o",
	    "--cacert needs a file" },
	{ "--url https://ca --cacert c --token-file= --profile p --cn a "
	    "--out o", "--token-file needs a file" },
	{ "--url https://ca --cacert c --token t --profile= --cn a --out o",
	    "--profile" },
	{ "--url https://ca --cacert c --token t --profile p --cn= --out o",
	    "--cn" },
	{ "--url https://ca --cacert c --token t --profile p --cn a --out=",
	    "--out" },
	{ BASE " --daemon=yes", "takes no value" },
	{ BASE " --cn other", "--cn given twice" },
	{ BASE " --bogus 1", "unknown option" },
	{ BASE " stray", "unexpected argument" },
	{ BASE " --ttl", "--ttl needs a value" },
	{ "--url http://ca --cacert c --token t --profile p --cn a --out o",
	    "https://" },
	{ "--url https:// --cacert c --token t --profile p --cn a --out o",
	    "https://" },
	{ "--url https://ca --cacert c --token a\tb --profile p --cn a "
	    "--out o", "--token" },
	/* Pull mode (SPEC section 11). */
	{ BASE " --daemon --redis 127.0.0.1:6379 --redis-auth-file /etc/pw "
	    "--redis-user ca --group cache-1", NULL },
	{ BASE " --daemon --redis [::1]:6380", NULL },
	{ BASE " --daemon --redis redis-1.internal:6379", NULL },
	{ BASE " --redis 127.0.0.1:6379", "--redis needs --daemon" },
	{ BASE " --daemon --redis 127.0.0.1", "is not HOST:PORT" },
	{ BASE " --daemon --redis 127.0.0.1:0", "is not HOST:PORT" },
	{ BASE " --daemon --redis 127.0.0.1:65536", "is not HOST:PORT" },
	{ BASE " --daemon --redis 127.0.0.1:63x", "is not HOST:PORT" },
	{ BASE " --daemon --redis :6379", "is not HOST:PORT" },
	{ BASE " --daemon --redis ::1:6379", "is not HOST:PORT" },
	{ BASE " --daemon --redis [::1:6379", "is not HOST:PORT" },
	{ BASE " --daemon --redis bad..host:6379", "is not HOST:PORT" },
	/* hostport_split()'s rules: brackets for IPv6 only, digits only. */
	{ BASE " --daemon --redis [127.0.0.1]:6379", "is not HOST:PORT" },
	{ BASE " --daemon --redis [redis-1.internal]:6379",
	    "is not HOST:PORT" },
	{ BASE " --daemon --redis 127.0.0.1:+6379", "is not HOST:PORT" },
	{ BASE " --daemon --redis 127.0.0.1:0006379", "is not HOST:PORT" },
	{ BASE " --daemon --group cache", "--group needs --redis" },
	{ BASE " --daemon --redis-user ca", "--redis-user needs --redis" },
	{ BASE " --daemon --redis-auth-file /p",
	    "--redis-auth-file needs --redis" },
	{ BASE " --daemon --redis 127.0.0.1:1 --redis-auth-file pw",
	    "absolute path" },
	{ BASE " --daemon --redis 127.0.0.1:1 --group Cache", "--group" },
	{ BASE " --daemon --redis 127.0.0.1:1 --group -a", "--group" },
	{ BASE " --daemon --redis 127.0.0.1:1 --group a_b", "--group" },
};

static void
test_usage_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(usage_rows) / sizeof(usage_rows[0]); i++) {
		struct enroll_opts o;
		struct err e = { ERR_OK, "" };
		char line[512], *argv[MAXARGS];
		int argc, rc;

		snprintf(line, sizeof(line), "%s", usage_rows[i].line);
		argc = split(line, argv);
		rc = enroll_parse_args(argc, argv, &o, &e);
		if (usage_rows[i].msg == NULL) {
			if (rc != 0)
				fail_msg("row %zu rejected: %s", i, e.msg);
		} else {
			if (rc != -1)
				fail_msg("row %zu accepted", i);
			assert_int_equal(e.code, ERR_USAGE);
			if (strstr(e.msg, usage_rows[i].msg) == NULL)
				fail_msg("row %zu: '%s' lacks '%s'", i, e.msg,
				    usage_rows[i].msg);
			/* The token's value is never echoed. */
			assert_null(strstr(e.msg, "rca_abc"));
		}
		enroll_opts_clear(&o);
	}
}

static void
test_parse_fields(void **state)
{
	char line[] = "--url=https://ca.example:8443// --cacert ca.pem "
	    "--token-file /run/tok --profile redis-node --cn node-1 "
	    "--dns node-1.svc --dns NODE-1.svc --ip 10.0.0.7 --ttl 2m "
	    "--key-type ec-p384 --out /var/lib/x --daemon --exec=";
	char *argv[MAXARGS];
	struct enroll_opts o;
	struct err e = { ERR_OK, "" };
	int argc;

	(void)state;
	argc = split(line, argv);
	assert_int_equal(enroll_parse_args(argc, argv, &o, &e), 0);
	assert_int_equal(o.url_len, strlen("https://ca.example:8443"));
	assert_string_equal(o.cacert, "ca.pem");
	assert_null(o.token);
	assert_string_equal(o.token_file, "/run/tok");
	assert_string_equal(o.profile, "redis-node");
	assert_string_equal(o.names.cn, "node-1");
	/* DNS names compare case-insensitively: one, not two. */
	assert_int_equal(o.names.n[NAME_DNS], 1);
	assert_int_equal(o.names.n[NAME_IP], 1);
	assert_string_equal(o.names.list[NAME_IP][0], "10.0.0.7");
	assert_int_equal(o.ttl, 120);
	assert_int_equal(o.key_type, KEY_EC_P384);
	assert_string_equal(o.out, "/var/lib/x");
	assert_true(o.daemon);
	/* "--exec=" (an empty EXEC in a unit file) means no command. */
	assert_null(o.exec);
	assert_null(o.redis);
	enroll_opts_clear(&o);
}

/* --redis HOST:PORT, an IPv6 literal in brackets. */
static void
test_parse_redis(void **state)
{
	char line[] = "--url https://ca --cacert c --token t --profile p "
	    "--cn a --out o --daemon --redis [::1]:6380 --group g-1 "
	    "--redis-user ca --redis-auth-file /etc/pw";
	char *argv[MAXARGS];
	struct enroll_opts o;
	struct err e = { ERR_OK, "" };

	(void)state;
	assert_int_equal(enroll_parse_args(split(line, argv), argv, &o, &e),
	    0);
	assert_string_equal(o.redis, "[::1]:6380");
	assert_string_equal(o.redis_host, "::1");
	assert_int_equal(o.redis_port, 6380);
	assert_string_equal(o.group, "g-1");
	assert_string_equal(o.redis_user, "ca");
	assert_string_equal(o.redis_auth_file, "/etc/pw");
	enroll_opts_clear(&o);
}

static void
test_cmd_usage_status(void **state)
{
	char *bad[] = { (char *)"enroll", (char *)"--cn", (char *)"a" };
	char *help[] = { (char *)"enroll", (char *)"--help" };

	(void)state;
	assert_int_equal(cmd_enroll(3, bad), 2);
	assert_int_equal(cmd_enroll(2, help), 0);
}

#define CERT_PEM "-----BEGIN CERTIFICATE-----\\nMIIB\\n" \
	"-----END CERTIFICATE-----\\n"

static const char good_body[] =
    "{\"serial\": \"5f3a0b\", \"profile\": \"redis-client\","
    " \"common_name\": \"app\","
    " \"sans\": {\"dns\": [\"app\", \"app.svc\"], \"ip\": [\"10.0.0.1\"],"
    " \"uri\": []},"
    " \"key_type\": \"ec-p256\","
    " \"not_before\": \"2026-11-28T01:00:00Z\","
    " \"not_after\": \"2026-11-29T01:00:00Z\", \"status\": \"valid\","
    " \"certificate\": \"" CERT_PEM "\","
    " \"chain\": \"" CERT_PEM CERT_PEM "\","
    " \"ca_certificate\": \"" CERT_PEM "\"}";

static void
test_response_good(void **state)
{
	struct enroll_cert c;
	struct err e = { ERR_OK, "" };
	int64_t nb = 0;

	(void)state;
	assert_int_equal(enroll_parse_response(201, good_body,
	    strlen(good_body), &c, &e), 0);
	assert_string_equal(c.serial, "5f3a0b");
	assert_int_equal(tu_parse("2026-11-28T01:00:00Z", &nb, &e), 0);
	assert_int_equal(c.not_before, nb);
	assert_int_equal(c.not_after, nb + 86400);
	assert_true(c.has_names);
	assert_string_equal(c.names.cn, "app");
	assert_int_equal(c.names.n[NAME_DNS], 2);
	assert_int_equal(c.names.n[NAME_IP], 1);
	assert_non_null(strstr(c.cert_pem, "BEGIN CERTIFICATE"));
	assert_non_null(strstr(c.chain_pem, "END CERTIFICATE-----\n-----"));
	assert_non_null(c.ca_pem);
	enroll_cert_clear(&c);
	assert_null(c.cert_pem);
}

struct bad_row {
	long		 status;
	const char	*body;
	enum err_code	 code;
	const char	*msg;	/* substring of e.msg */
};

static const struct bad_row bad_rows[] = {
	{ 401, "{\"error\": {\"code\": \"unauthorized\", \"message\": "
	    "\"token used up\"}}", ERR_UNAUTHORIZED,
	    "unauthorized: token used up (HTTP 401)" },
	{ 403, "{\"error\": {\"code\": \"name_not_allowed\", \"message\": "
	    "\"name not allowed: evil\"}}", ERR_NAME_NOT_ALLOWED,
	    "name_not_allowed: name not allowed: evil" },
	{ 403, "{\"error\": {\"code\": \"forbidden\", \"message\": \"x\"}}",
	    ERR_FORBIDDEN, "forbidden: x" },
	{ 422, "{\"error\": {\"code\": \"ttl_too_long\", \"message\": "
	    "\"ttl above 7d\"}}", ERR_INVALID_REQUEST, "ttl_too_long" },
	{ 400, "{\"error\": {\"code\": \"invalid_csr\"}}",
	    ERR_INVALID_REQUEST, "invalid_csr (HTTP 400)" },
	{ 500, "<html>oops</html>", ERR_NET, "HTTP 500" },
	{ 502, "", ERR_NET, "HTTP 502" },
	{ 429, "{}", ERR_NET, "HTTP 429" },
	{ 200, "{}", ERR_INVALID_REQUEST, "HTTP 200" },
	/* Control characters from the server never reach the terminal. */
	{ 401, "{\"error\": {\"code\": \"unauthorized\", \"message\": "
	    "\"a\\u001b[2Jb\\nc\"}}", ERR_UNAUTHORIZED, "a?[2Jb?c" },
	/* 201 bodies that are not a certificate. */
	{ 201, "not json", ERR_INVALID_JSON, "not JSON" },
	{ 201, "{\"serial\": \"ab\"}", ERR_INVALID_JSON, "certificate" },
	{ 201, "{\"serial\": \"AB\", \"not_before\": "
	    "\"2026-11-28T01:00:00Z\", \"not_after\": \"2026-11-29T01:00:00Z\","
	    " \"certificate\": \"x\", \"chain\": \"x\", \"ca_certificate\": "
	    "\"x\"}", ERR_INVALID_JSON, "serial" },
	{ 201, "{\"serial\": \"ab\", \"not_before\": "
	    "\"2026-11-29T01:00:00Z\", \"not_after\": \"2026-11-28T01:00:00Z\","
	    " \"certificate\": \"x\", \"chain\": \"x\", \"ca_certificate\": "
	    "\"x\"}", ERR_INVALID_JSON, "not_after" },
	{ 201, "{\"serial\": \"ab\", \"not_before\": "
	    "\"2026-11-28T01:00:00Z\", \"not_after\": \"2026-11-29T01:00:00Z\","
	    " \"chain\": \"x\", \"ca_certificate\": \"x\"}",
	    ERR_INVALID_JSON, "PEM" },
	{ 201, "{\"serial\": \"ab\", \"not_before\": "
	    "\"2026-11-28T01:00:00Z\", \"not_after\": \"2026-11-29T01:00:00Z\","
	    " \"certificate\": \"x\", \"chain\": \"x\", \"ca_certificate\": "
	    "\"x\"}", ERR_INVALID_JSON, "no PEM" },
	{ 201, "{\"serial\": \"ab\", \"serial\": \"cd\"}", ERR_INVALID_JSON,
	    "not JSON" },
	{ 201, "{\"serial\": \"ab\", \"not_before\": "
	    "\"2026-11-28T01:00:00Z\", \"not_after\": \"2026-11-29T01:00:00Z\","
	    " \"sans\": {\"dns\": [\"bad name!\"]}}", ERR_INVALID_JSON,
	    "sans" },
};

static void
test_response_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		struct enroll_cert c;
		struct err e = { ERR_OK, "" };
		int rc;

		rc = enroll_parse_response(bad_rows[i].status,
		    bad_rows[i].body, strlen(bad_rows[i].body), &c, &e);
		if (rc != -1)
			fail_msg("row %zu accepted", i);
		if (e.code != bad_rows[i].code)
			fail_msg("row %zu: code %s, want %s (%s)", i,
			    err_code_name(e.code),
			    err_code_name(bad_rows[i].code), e.msg);
		if (strstr(e.msg, bad_rows[i].msg) == NULL)
			fail_msg("row %zu: '%s' lacks '%s'", i, e.msg,
			    bad_rows[i].msg);
		assert_null(c.cert_pem);
		assert_null(c.names.cn);
	}
}

static void
test_state_roundtrip(void **state)
{
	struct enroll_cert c, back;
	struct err e = { ERR_OK, "" };
	char *s;

	(void)state;
	assert_int_equal(enroll_parse_response(201, good_body,
	    strlen(good_body), &c, &e), 0);
	s = enroll_state_encode(&c);
	assert_non_null(s);
	/* The state file holds no PEM, and so no key either. */
	assert_null(strstr(s, "BEGIN"));
	assert_int_equal(enroll_state_parse(s, strlen(s), &back, &e), 0);
	assert_string_equal(back.serial, c.serial);
	assert_int_equal(back.not_before, c.not_before);
	assert_int_equal(back.not_after, c.not_after);
	assert_true(back.has_names);
	assert_true(names_equal(&back.names, &c.names));
	assert_null(back.cert_pem);
	free(s);
	enroll_cert_clear(&back);
	enroll_cert_clear(&c);
	assert_int_equal(enroll_state_parse("[]", 2, &back, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_JSON);
}

static void
test_renew_at(void **state)
{
	const int64_t nb = 1800000000, lives[] = { 180, 3600, 86400, 2592000 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lives) / sizeof(lives[0]); i++) {
		int64_t life = lives[i], na = nb + life, lo, hi;
		uint64_t r;
		int k;

		hi = na - life / 3;
		lo = hi - life / 20;
		/* No jitter: exactly a third of the lifetime left. */
		assert_int_equal(enroll_renew_at(nb, na, 0), hi);
		assert_int_equal(enroll_renew_at(nb, na,
		    (uint64_t)(life / 20)), lo);
		for (k = 0; k < 1000; k++) {
			int64_t at;

			assert_int_equal(ca_random(&r, sizeof(r), NULL), 0);
			at = enroll_renew_at(nb, na, r);
			assert_true(at >= lo && at <= hi);
		}
		assert_int_equal(enroll_renew_at(nb, na, UINT64_MAX) >= lo,
		    1);
	}
	/* Degenerate lifetimes never give a time before not_before. */
	assert_int_equal(enroll_renew_at(nb, nb, 5), nb);
	assert_int_equal(enroll_renew_at(nb, nb - 10, 5), nb);
	assert_true(enroll_renew_at(nb, nb + 1, 99) >= nb);
}

static void
test_backoff(void **state)
{
	(void)state;
	assert_int_equal(enroll_backoff(0), ENROLL_BACKOFF_FIRST);
	assert_int_equal(enroll_backoff(1), 4);
	assert_int_equal(enroll_backoff(2), 8);
	assert_int_equal(enroll_backoff(7), 256);
	assert_int_equal(enroll_backoff(8), ENROLL_BACKOFF_CAP);
	assert_int_equal(enroll_backoff(1000), ENROLL_BACKOFF_CAP);
	assert_int_equal(enroll_backoff(UINT32_MAX), ENROLL_BACKOFF_CAP);
}

static void
test_transient(void **state)
{
	struct err e = { ERR_OK, "" };

	(void)state;
	e.code = ERR_NET;
	assert_true(enroll_err_transient(&e));
	e.code = ERR_IO;
	assert_true(enroll_err_transient(&e));
	e.code = ERR_UNAUTHORIZED;
	assert_false(enroll_err_transient(&e));
	e.code = ERR_NAME_NOT_ALLOWED;
	assert_false(enroll_err_transient(&e));
	e.code = ERR_FORBIDDEN;
	assert_false(enroll_err_transient(&e));
}

/* ------------------------------------------------------------------ */
/* Files                                                               */

static char *
slurp(const char *dir, const char *name)
{
	char path[2 * TPATH];
	char *buf = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (fio_read_all(path, 1 << 20, &buf, &len, NULL) == -1)
		return NULL;
	return buf;
}

static mode_t
mode_of(const char *dir, const char *name)
{
	char path[2 * TPATH];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st) == -1)
		return (mode_t)-1;
	return st.st_mode & 07777;
}

static bool
exists(const char *dir, const char *name)
{
	return mode_of(dir, name) != (mode_t)-1;
}

static void
put(const char *dir, const char *name, const char *content)
{
	char path[2 * TPATH];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(fio_write_atomic(path, content, strlen(content),
	    0600, NULL), 0);
}

static void
rm_rf(const char *dir)
{
	static const char *const names[] = { "key.pem", "cert.pem",
	    "chain.pem", "ca.pem", "enroll.json", "enroll.lock",
	    "key.pem.next",
	    "cert.pem.next", "chain.pem.next", "enroll.json.next" };
	char path[2 * TPATH];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
}

static void
test_install_files(void **state)
{
	char base[] = "/tmp/rca-enroll-XXXXXX", dir[TPATH];
	struct enroll_cert c;
	struct err e = { ERR_OK, "" };
	char *s;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/out", base);
	assert_int_equal(enroll_parse_response(201, good_body,
	    strlen(good_body), &c, &e), 0);
	assert_int_equal(enroll_install_files(dir, "KEY1", &c, &e), 0);
	assert_int_equal(mode_of(dir, "."), 0700);
	assert_int_equal(mode_of(dir, "key.pem"), 0400);
	assert_int_equal(mode_of(dir, "cert.pem"), 0444);
	assert_int_equal(mode_of(dir, "chain.pem"), 0444);
	assert_int_equal(mode_of(dir, "ca.pem"), 0444);
	assert_int_equal(mode_of(dir, "enroll.json"), 0644);
	assert_false(exists(dir, "cert.pem.next"));
	assert_false(exists(dir, "key.pem.next"));
	s = slurp(dir, "key.pem");
	assert_string_equal(s, "KEY1");
	free(s);
	s = slurp(dir, "cert.pem");
	assert_string_equal(s, c.cert_pem);
	free(s);

	/* A second install replaces the read-only files in place. */
	assert_int_equal(enroll_install_files(dir, "KEY2", &c, &e), 0);
	s = slurp(dir, "key.pem");
	assert_string_equal(s, "KEY2");
	free(s);
	assert_int_equal(mode_of(dir, "key.pem"), 0400);

	/* A crash before cert.pem.next existed: the old pair stays. */
	put(dir, "key.pem.next", "KEY3");
	put(dir, "chain.pem.next", "CHAIN3");
	assert_int_equal(enroll_recover_files(dir, &e), 0);
	assert_false(exists(dir, "key.pem.next"));
	assert_false(exists(dir, "chain.pem.next"));
	s = slurp(dir, "key.pem");
	assert_string_equal(s, "KEY2");
	free(s);

	/* A crash after cert.pem.next was written: the new set wins. */
	put(dir, "key.pem.next", "KEY4");
	put(dir, "cert.pem.next", "CERT4");
	assert_int_equal(enroll_recover_files(dir, &e), 0);
	s = slurp(dir, "key.pem");
	assert_string_equal(s, "KEY4");
	free(s);
	s = slurp(dir, "cert.pem");
	assert_string_equal(s, "CERT4");
	free(s);
	assert_false(exists(dir, "cert.pem.next"));

	/* A crash between the renames (key moved already): finish. */
	put(dir, "cert.pem.next", "CERT5");
	assert_int_equal(enroll_recover_files(dir, &e), 0);
	s = slurp(dir, "cert.pem");
	assert_string_equal(s, "CERT5");
	free(s);

	/* --out that is a file, not a folder. */
	snprintf(dir, sizeof(dir), "%s/out/ca.pem", base);
	assert_int_equal(enroll_install_files(dir, "K", &c, &e), -1);
	assert_int_equal(e.code, ERR_IO);

	snprintf(dir, sizeof(dir), "%s/out", base);
	rm_rf(dir);
	assert_int_equal(rmdir(base), 0);
	enroll_cert_clear(&c);
}

/* ------------------------------------------------------------------ */
/* cmd_enroll against a CA that is not there                           */

static void
test_cmd_unreachable(void **state)
{
	char base[] = "/tmp/rca-enroll-XXXXXX";
	char cacert[TPATH], key[TPATH], out[TPATH];
	char tokf[TPATH];
	struct ca_create_opts co = { KEY_EC_P256, "test-ca", 1, NULL };
	struct err e = { ERR_OK, "" };
	char *argv[24];
	int argc = 0;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(cacert, sizeof(cacert), "%s/ca.crt", base);
	snprintf(key, sizeof(key), "%s/ca.key", base);
	snprintf(out, sizeof(out), "%s/out", base);
	snprintf(tokf, sizeof(tokf), "%s/token", base);
	assert_int_equal(ca_create_files(cacert, key, &co, &e), 0);
	put(base, "token", "rca_0123456789abcdef\n");

	argv[argc++] = (char *)"enroll";
	argv[argc++] = (char *)"--url";
	/* Port 1 on loopback: nothing listens, the connection is refused. */
	argv[argc++] = (char *)"https://127.0.0.1:1";
	argv[argc++] = (char *)"--cacert";
	argv[argc++] = cacert;
	argv[argc++] = (char *)"--token-file";
	argv[argc++] = tokf;
	argv[argc++] = (char *)"--profile";
	argv[argc++] = (char *)"redis-client";
	argv[argc++] = (char *)"--cn";
	argv[argc++] = (char *)"app";
	argv[argc++] = (char *)"--out";
	argv[argc++] = out;
	assert_int_equal(cmd_enroll(argc, argv), 1);
	/* The folder is made private; no key or certificate is left. */
	assert_int_equal(mode_of(out, "."), 0700);
	assert_false(exists(out, "key.pem"));
	assert_false(exists(out, "cert.pem"));

	/* A token file that holds no token is a failure too. */
	put(base, "token", "\n");
	assert_int_equal(cmd_enroll(argc, argv), 1);

	rm_rf(out);
	(void)unlink(cacert);
	(void)unlink(key);
	(void)unlink(tokf);
	assert_int_equal(rmdir(base), 0);
}

/* ------------------------------------------------------------------ */
/* The daemon, in a child process, against a CA that is not there     */

struct dmn {
	char	base[64];
	char	cacert[TPATH];
	char	cakey[TPATH];
	char	out[TPATH];
	char	log[TPATH];
	char	*argv[24];
	int	argc;
};

static void
dmn_setup(struct dmn *d)
{
	struct ca_create_opts co = { KEY_EC_P256, "test-ca", 1, NULL };
	struct err e = { ERR_OK, "" };

	memset(d, 0, sizeof(*d));
	snprintf(d->base, sizeof(d->base), "/tmp/rca-enroll-XXXXXX");
	assert_non_null(mkdtemp(d->base));
	snprintf(d->cacert, sizeof(d->cacert), "%s/ca.crt", d->base);
	snprintf(d->cakey, sizeof(d->cakey), "%s/ca.key", d->base);
	snprintf(d->out, sizeof(d->out), "%s/out", d->base);
	snprintf(d->log, sizeof(d->log), "%s/log", d->base);
	assert_int_equal(ca_create_files(d->cacert, d->cakey, &co, &e), 0);
	d->argv[d->argc++] = (char *)"enroll";
	d->argv[d->argc++] = (char *)"--url";
	d->argv[d->argc++] = (char *)"https://127.0.0.1:1";
	d->argv[d->argc++] = (char *)"--cacert";
	d->argv[d->argc++] = d->cacert;
	d->argv[d->argc++] = (char *)"--token";
	d->argv[d->argc++] = (char *)"rca_0123456789abcdef";
	d->argv[d->argc++] = (char *)"--profile";
	d->argv[d->argc++] = (char *)"redis-client";
	d->argv[d->argc++] = (char *)"--cn";
	d->argv[d->argc++] = (char *)"app";
	d->argv[d->argc++] = (char *)"--out";
	d->argv[d->argc++] = d->out;
	d->argv[d->argc++] = (char *)"--daemon";
}

static void
dmn_teardown(struct dmn *d)
{
	rm_rf(d->out);
	(void)unlink(d->cacert);
	(void)unlink(d->cakey);
	(void)unlink(d->log);
	assert_int_equal(rmdir(d->base), 0);
}

/* The monotonic clock secs seconds from now: a deadline. */
static struct timespec
deadline_in(time_t secs)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += secs;
	return ts;
}

/*
 * Between two looks at something a child does: false once deadline
 * has passed, else a short pause and true.
 */
static bool
poll_again(const struct timespec *deadline)
{
	struct timespec now, pause = { 0, 20 * 1000 * 1000 };

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > deadline->tv_sec || (now.tv_sec ==
	    deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec))
		return false;
	nanosleep(&pause, NULL);
	return true;
}

/* True once the child's log holds want (polled for up to 15 s). */
static bool
log_has(const struct dmn *d, const char *want)
{
	struct timespec deadline = deadline_in(15);

	do {
		char *buf = NULL;
		size_t len;
		bool hit;

		if (fio_read_all(d->log, 1 << 20, &buf, &len, NULL) == 0) {
			hit = strstr(buf, want) != NULL;
			free(buf);
			if (hit)
				return true;
		}
	} while (poll_again(&deadline));
	return false;
}

/* True when the log does not hold s (checked once, now). */
static bool
log_never_has(const struct dmn *d, const char *s)
{
	char *buf = NULL;
	size_t len;
	bool hit;

	if (fio_read_all(d->log, 1 << 20, &buf, &len, NULL) == -1)
		return false;
	hit = strstr(buf, s) != NULL;
	free(buf);
	return !hit;
}

/* Run cmd_enroll in a child with stderr to d->log. */
static pid_t
dmn_start(struct dmn *d)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(99);
		/* exit(), not _exit(): LeakSanitizer checks the child too. */
		exit(cmd_enroll(d->argc, d->argv));
	}
	return pid;
}

/* Wait for the child (at most 30 s); its exit status or -1. */
static int
dmn_wait(pid_t pid)
{
	struct timespec deadline = deadline_in(30);
	int st;

	do {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	} while (poll_again(&deadline));
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &st, 0);
	return -1;
}

/* Write a state file (and stand-in key/cert files) into d->out. */
static void
dmn_state(struct dmn *d, const char *cn, int64_t nb, int64_t na)
{
	struct enroll_cert c;
	struct err e = { ERR_OK, "" };
	char *s;

	memset(&c, 0, sizeof(c));
	snprintf(c.serial, sizeof(c.serial), "abcdef01");
	c.not_before = nb;
	c.not_after = na;
	c.has_names = true;
	assert_int_equal(names_set_cn(&c.names, cn, &e), 0);
	s = enroll_state_encode(&c);
	assert_non_null(s);
	assert_int_equal(mkdir(d->out, 0700), 0);
	put(d->out, "enroll.json", s);
	put(d->out, "key.pem", "not a key");
	put(d->out, "cert.pem", "not a cert");
	free(s);
	enroll_cert_clear(&c);
}

/* A first enrollment at boot keeps retrying; SIGTERM stops it: 0. */
static void
test_daemon_retries_then_stops(void **state)
{
	struct dmn d;
	pid_t pid;

	(void)state;
	dmn_setup(&d);
	pid = dmn_start(&d);
	assert_true(log_has(&d, "retrying in 2 s"));
	assert_true(log_has(&d, "retrying in 4 s"));
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(dmn_wait(pid), 0);
	assert_true(log_has(&d, "signal 15, stopping"));
	assert_true(log_never_has(&d, "rca_0123456789abcdef"));
	dmn_teardown(&d);
}

/* A restarted daemon resumes with the certificate it holds. */
static void
test_daemon_resumes(void **state)
{
	struct dmn d;
	pid_t pid;

	(void)state;
	dmn_setup(&d);
	dmn_state(&d, "app", tu_now() - 60, tu_now() + 3600);
	pid = dmn_start(&d);
	assert_true(log_has(&d, "resuming with certificate serial abcdef01"));
	assert_true(log_has(&d, "next renewal of serial abcdef01"));
	assert_int_equal(kill(pid, SIGINT), 0);
	assert_int_equal(dmn_wait(pid), 0);
	dmn_teardown(&d);
}

/* A second enroll on the same folder is refused while one runs. */
static void
test_daemon_lock(void **state)
{
	struct dmn d;
	pid_t pid, two;

	(void)state;
	dmn_setup(&d);
	dmn_state(&d, "app", tu_now() - 60, tu_now() + 3600);
	pid = dmn_start(&d);
	assert_true(log_has(&d, "next renewal of serial abcdef01"));
	snprintf(d.log, sizeof(d.log), "%s/log2", d.base);
	two = dmn_start(&d);
	assert_int_equal(dmn_wait(two), 1);
	assert_true(log_has(&d, "in use by another redis-ca enroll"));
	(void)unlink(d.log);
	snprintf(d.log, sizeof(d.log), "%s/log", d.base);
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(dmn_wait(pid), 0);
	dmn_teardown(&d);
}

/* A certificate for another CN is not resumed: enroll again. */
static void
test_daemon_other_name(void **state)
{
	struct dmn d;
	pid_t pid;

	(void)state;
	dmn_setup(&d);
	dmn_state(&d, "other", tu_now() - 60, tu_now() + 3600);
	pid = dmn_start(&d);
	assert_true(log_has(&d, "for another name; enrolling again"));
	assert_true(log_has(&d, "enrollment failed: CA unreachable"));
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(dmn_wait(pid), 0);
	dmn_teardown(&d);
}

/*
 * The CA stays away until the certificate expires: one clear line and
 * exit 1.  Renewal is due at once (a third of 3 h left long ago).
 */
static void
test_daemon_expires(void **state)
{
	struct dmn d;
	pid_t pid;

	(void)state;
	dmn_setup(&d);
	dmn_state(&d, "app", tu_now() - 3 * 3600, tu_now() + 3);
	pid = dmn_start(&d);
	assert_int_equal(dmn_wait(pid), 1);
	assert_true(log_has(&d, "renewal failed: CA unreachable"));
	assert_true(log_has(&d, "certificate expired at"));
	assert_true(log_has(&d, "re-enroll with a new token"));
	dmn_teardown(&d);
}

/* ------------------------------------------------------------------ */
/* A small HTTPS CA on loopback (a forked child, real OpenSSL)         */

enum fake_mode {
	FAKE_SIGN,	/* sign CSRs: token rca_good once, then mTLS renew */
	FAKE_HUGE,	/* answer every request with a body over the cap */
	FAKE_BUNDLE,	/* FAKE_SIGN for an hour, and base/bundle.pem served
			 * at /v1/ca/bundle.pem (ETag, 304) */
};

struct fake {
	struct dmn	 d;
	char		 srv_cert[TPATH];
	char		 srv_key[TPATH];
	char		 url[64];
	pid_t		 pid;
	struct ca	*ca;
};

static const struct profile fake_profile = {
	"redis-client", EKU_CLIENT_AUTH | EKU_SERVER_AUTH, false, 3, 3600,
	KEY_BIT(KEY_EC_P256) | KEY_BIT(KEY_EC_P384) | KEY_BIT(KEY_RSA_2048),
};

/*
 * Issue a certificate for a PEM CSR, valid ttl seconds, with ca_pem
 * (NULL: the CA's certificate) as its ca_certificate: a 201 body, or
 * NULL.
 */
static char *
fake_issue(struct ca *ca, const char *csr_pem, int64_t ttl,
    const char *ca_pem)
{
	struct ca_issue_params ip = { &fake_profile, ttl, 0, 0 };
	struct ca_cert cert;
	struct ca_csr *csr;
	char nb[RCA_TIME_STR], na[RCA_TIME_STR];
	char *chain = NULL, *out = NULL;
	json_t *dns, *ipa, *o;
	size_t i;

	memset(&cert, 0, sizeof(cert));
	if ((csr = ca_csr_parse(csr_pem, strlen(csr_pem), NULL)) == NULL)
		return NULL;
	if (ca_issue(ca, csr, &ip, &cert, NULL) == -1) {
		ca_csr_free(csr);
		return NULL;
	}
	ca_csr_free(csr);
	tu_format(cert.not_before, nb);
	tu_format(cert.not_after, na);
	if (asprintf(&chain, "%s%s", cert.pem, ca_cert_pem(ca)) < 0)
		chain = NULL;
	dns = json_array();
	ipa = json_array();
	for (i = 0; i < cert.names.n[NAME_DNS]; i++)
		json_array_append_new(dns,
		    json_string(cert.names.list[NAME_DNS][i]));
	for (i = 0; i < cert.names.n[NAME_IP]; i++)
		json_array_append_new(ipa,
		    json_string(cert.names.list[NAME_IP][i]));
	o = json_pack("{s:s, s:s, s:s, s:s, s:{s:o, s:o, s:[]}, s:s, s:s, "
	    "s:s}", "serial", cert.serial, "not_before", nb, "not_after", na,
	    "common_name", cert.names.cn, "sans", "dns", dns, "ip", ipa,
	    "uri", "certificate", cert.pem, "chain", chain,
	    "ca_certificate", ca_pem != NULL ? ca_pem : ca_cert_pem(ca));
	if (o != NULL)
		out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(chain);
	ca_cert_clear(&cert);
	return out;
}

/*
 * Read one HTTP request from ssl; path, auth, inm (If-None-Match) and
 * body are new strings (auth and inm NULL when absent).
 */
static int
fake_read(SSL *ssl, char **path, char **auth, char **inm, char **body)
{
	char buf[65536], *end, *p, *q;
	size_t have = 0, need, clen = 0;
	int n;

	while ((end = have > 0 ? strstr(buf, "\r\n\r\n") : NULL) == NULL) {
		if (have + 1 >= sizeof(buf))
			return -1;
		if ((n = SSL_read(ssl, buf + have,
		    (int)(sizeof(buf) - have - 1))) <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
	}
	if ((p = strcasestr(buf, "\r\nContent-Length:")) != NULL && p < end)
		clen = strtoul(p + 17, NULL, 10);
	need = (size_t)(end + 4 - buf) + clen;
	if (need >= sizeof(buf))
		return -1;
	while (have < need) {
		if ((n = SSL_read(ssl, buf + have, (int)(need - have))) <= 0)
			return -1;
		have += (size_t)n;
	}
	buf[have] = '\0';
	p = strchr(buf, ' ');
	q = p != NULL ? strchr(p + 1, ' ') : NULL;
	if (q == NULL)
		return -1;
	*path = strndup(p + 1, (size_t)(q - p - 1));
	*auth = NULL;
	if ((p = strcasestr(buf, "\r\nAuthorization: ")) != NULL && p < end)
		*auth = strndup(p + 17, strcspn(p + 17, "\r"));
	*inm = NULL;
	if ((p = strcasestr(buf, "\r\nIf-None-Match: ")) != NULL && p < end)
		*inm = strndup(p + 17, strcspn(p + 17, "\r"));
	*body = strdup(end + 4);
	return 0;
}

/* Answer status with body and one more header line (or ""). */
static void
fake_reply_hdr(SSL *ssl, int status, const char *extra, const char *body)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\nConnection: close"
	    "\r\n%s\r\n", status, strlen(body), extra);
	(void)SSL_write(ssl, head, n);
	if (body[0] != '\0')
		(void)SSL_write(ssl, body, (int)strlen(body));
}

static void
fake_reply(SSL *ssl, int status, const char *body)
{
	fake_reply_hdr(ssl, status, "", body);
}

/* The base/bundle.pem of the test (new string), or NULL. */
static char *
fake_bundle(const struct fake *f)
{
	char path[2 * TPATH], *buf = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/bundle.pem", f->d.base);
	if (fio_read_all(path, 1 << 20, &buf, &len, NULL) == -1)
		return NULL;
	return buf;
}

/*
 * GET /v1/ca/bundle.pem: 200 with an ETag (a hash of the bundle), or
 * 304 when inm names it; each answer's status is appended to
 * base/served.
 */
static void
fake_serve_bundle(struct fake *f, SSL *ssl, const char *inm)
{
	char etag[40], hdr[80], path[2 * TPATH], line[8];
	unsigned char h[32];
	char *b = fake_bundle(f);
	int status;

	if (b == NULL) {
		fake_reply(ssl, 500, "{}");
		return;
	}
	ca_sha256(b, strlen(b), h);
	etag[0] = '"';
	for (int i = 0; i < 16; i++)
		snprintf(etag + 1 + 2 * i, 3, "%02x", h[i]);
	strcat(etag, "\"");
	snprintf(hdr, sizeof(hdr), "ETag: %s\r\n", etag);
	status = inm != NULL && strcmp(inm, etag) == 0 ? 304 : 200;
	fake_reply_hdr(ssl, status, hdr, status == 200 ? b : "");
	snprintf(path, sizeof(path), "%s/served", f->d.base);
	snprintf(line, sizeof(line), "%d\n", status);
	{
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			if (write(fd, line, strlen(line)) < 0)
				status = -1;
			close(fd);
		}
	}
	free(b);
}

static const char err401[] = "{\"error\": {\"code\": \"unauthorized\", "
    "\"message\": \"token used up\"}}";

/* The child: serve requests until killed. */
static void
fake_serve(struct fake *f, int lfd, enum fake_mode mode)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int uses = 1;

	if (ctx == NULL ||
	    SSL_CTX_use_certificate_chain_file(ctx, f->srv_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, f->srv_key, SSL_FILETYPE_PEM) !=
	    1 || SSL_CTX_load_verify_locations(ctx, f->d.cacert, NULL) != 1)
		_exit(98);
	/* Ask for a client certificate; renewal needs one, enroll not. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	for (;;) {
		char *path = NULL, *auth = NULL, *body = NULL, *resp = NULL;
		char *inm = NULL, *bundle = NULL;
		int64_t ttl = mode == FAKE_BUNDLE ? 3600 : 3;
		int cfd = accept(lfd, NULL, NULL);
		json_t *req = NULL;
		const char *csr = NULL;
		X509 *peer;
		SSL *ssl;

		if (cfd < 0)
			continue;
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, cfd);
		if (SSL_accept(ssl) != 1 || fake_read(ssl, &path, &auth,
		    &inm, &body) == -1)
			goto next;
		if (strcmp(path, "/v1/ca/bundle.pem") == 0) {
			if (mode == FAKE_BUNDLE)
				fake_serve_bundle(f, ssl, inm);
			else
				fake_reply(ssl, 404, "{}");
			goto next;
		}
		if (mode == FAKE_BUNDLE)
			bundle = fake_bundle(f);
		if (mode == FAKE_HUGE) {
			char *big = malloc(300 * 1024 + 1);

			memset(big, 'x', 300 * 1024);
			big[300 * 1024] = '\0';
			fake_reply(ssl, 201, big);
			free(big);
			goto next;
		}
		req = json_loads(body, 0, NULL);
		if (req == NULL || json_unpack(req, "{s:s}", "csr", &csr) == -1)
			fake_reply(ssl, 400, "{}");
		else if (strcmp(path, "/v1/certificates") == 0) {
			if (uses > 0 && auth != NULL &&
			    strcmp(auth, "Bearer rca_good") == 0 &&
			    (resp = fake_issue(f->ca, csr, ttl,
			    bundle)) != NULL) {
				uses--;
				fake_reply(ssl, 201, resp);
			} else
				fake_reply(ssl, 401, err401);
		} else if (strcmp(path, "/v1/renew") == 0) {
			peer = SSL_get1_peer_certificate(ssl);
			if (peer != NULL && auth == NULL &&
			    SSL_get_verify_result(ssl) == X509_V_OK &&
			    (resp = fake_issue(f->ca, csr, ttl,
			    bundle)) != NULL)
				fake_reply(ssl, 201, resp);
			else
				fake_reply(ssl, 401, err401);
			X509_free(peer);
		} else
			fake_reply(ssl, 404, "{}");
next:
		json_decref(req);
		free(resp);
		free(path);
		free(auth);
		free(inm);
		free(bundle);
		free(body);
		SSL_shutdown(ssl);
		SSL_free(ssl);
		close(cfd);
	}
}

/* When set, the CA that issues the fake's server certificate. */
static struct ca *fake_srv_issuer;

/* A CA, a server certificate for 127.0.0.1, and the server child. */
static void
fake_start(struct fake *f, enum fake_mode mode)
{
	struct ca_issue_params ip = { &fake_profile, 3600, 0, 0 };
	struct names n = NAMES_INIT;
	struct ca_cert cert;
	struct ca_csr *csr;
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	struct err le = { ERR_OK, "" };
	char *key = NULL;
	int lfd, one = 1;

	memset(f, 0, sizeof(*f));
	dmn_setup(&f->d);
	snprintf(f->srv_cert, sizeof(f->srv_cert), "%s/srv.crt", f->d.base);
	snprintf(f->srv_key, sizeof(f->srv_key), "%s/srv.key", f->d.base);
	f->ca = ca_load(f->d.cacert, f->d.cakey, NULL, NULL, &le);
	if (f->ca == NULL)
		fail_msg("ca_load: %s", le.msg);
	assert_int_equal(names_set_cn(&n, "127.0.0.1", NULL), 0);
	assert_int_equal(names_add(&n, NAME_IP, "127.0.0.1", NULL), 0);
	csr = ca_keygen(KEY_EC_P256, &n, &key, NULL);
	assert_non_null(csr);
	memset(&cert, 0, sizeof(cert));
	assert_int_equal(ca_issue(fake_srv_issuer != NULL ? fake_srv_issuer :
	    f->ca, csr, &ip, &cert, NULL), 0);
	assert_int_equal(fio_write_atomic(f->srv_cert, cert.pem,
	    strlen(cert.pem), 0600, NULL), 0);
	assert_int_equal(fio_write_atomic(f->srv_key, key, strlen(key),
	    0600, NULL), 0);
	fio_wipe(key, strlen(key));
	free(key);
	ca_cert_clear(&cert);
	ca_csr_free(csr);
	names_clear(&n);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	(void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
	snprintf(f->url, sizeof(f->url), "https://127.0.0.1:%u",
	    (unsigned)ntohs(sa.sin_port));
	f->d.argv[2] = f->url;
	f->d.argv[6] = (char *)"rca_good";
	if (mode == FAKE_BUNDLE) {
		char bp[2 * TPATH];

		snprintf(bp, sizeof(bp), "%s/bundle.pem", f->d.base);
		assert_int_equal(fio_write_atomic(bp, ca_cert_pem(f->ca),
		    strlen(ca_cert_pem(f->ca)), 0600, NULL), 0);
	}
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0)
		fake_serve(f, lfd, mode);
	close(lfd);
}

static void
fake_stop(struct fake *f)
{
	int st;

	(void)kill(f->pid, SIGKILL);
	(void)waitpid(f->pid, &st, 0);
	(void)unlink(f->srv_cert);
	(void)unlink(f->srv_key);
	{
		char p[2 * TPATH];

		snprintf(p, sizeof(p), "%s/bundle.pem", f->d.base);
		(void)unlink(p);
		snprintf(p, sizeof(p), "%s/served", f->d.base);
		(void)unlink(p);
	}
	ca_free(f->ca);
	dmn_teardown(&f->d);
}

/* Drop "--daemon" (the last argument dmn_setup adds). */
static void
one_shot(struct dmn *d)
{
	d->argv[--d->argc] = NULL;
}

/* key.pem and cert.pem in dir are a matching pair. */
static void
assert_pair(const char *dir)
{
	char path[2 * TPATH];
	EVP_PKEY *k;
	X509 *x;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/key.pem", dir);
	assert_non_null(fp = fopen(path, "r"));
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	assert_non_null(fp = fopen(path, "r"));
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(k);
	assert_non_null(x);
	assert_int_equal(X509_check_private_key(x, k), 1);
	EVP_PKEY_free(k);
	X509_free(x);
}

/* Enroll over HTTPS: files, modes, a matching pair; the token is spent. */
static void
test_https_enroll(void **state)
{
	struct fake f;
	pid_t pid;
	char *s;

	(void)state;
	fake_start(&f, FAKE_SIGN);
	one_shot(&f.d);
	pid = dmn_start(&f.d);
	assert_int_equal(dmn_wait(pid), 0);
	assert_int_equal(mode_of(f.d.out, "key.pem"), 0400);
	assert_int_equal(mode_of(f.d.out, "cert.pem"), 0444);
	assert_int_equal(mode_of(f.d.out, "chain.pem"), 0444);
	assert_int_equal(mode_of(f.d.out, "ca.pem"), 0444);
	assert_pair(f.d.out);
	s = slurp(f.d.out, "ca.pem");
	assert_string_equal(s, ca_cert_pem(f.ca));
	free(s);
	assert_true(log_never_has(&f.d, "rca_good"));

	/* The same token again: one clear line, exit 1. */
	pid = dmn_start(&f.d);
	assert_int_equal(dmn_wait(pid), 1);
	assert_true(log_has(&f.d, "enroll refused: unauthorized: token used "
	    "up (HTTP 401)"));
	assert_true(log_never_has(&f.d, "rca_good"));
	fake_stop(&f);
}

/* A CA certificate that does not match --cacert: exit 1, clear line. */
static void
test_https_untrusted(void **state)
{
	struct ca_create_opts co = { KEY_EC_P256, "other-ca", 1, NULL };
	char other[2 * TPATH], okey[2 * TPATH];
	struct fake f;
	pid_t pid;

	(void)state;
	fake_start(&f, FAKE_SIGN);
	one_shot(&f.d);
	snprintf(other, sizeof(other), "%s/other.crt", f.d.base);
	snprintf(okey, sizeof(okey), "%s/other.key", f.d.base);
	assert_int_equal(ca_create_files(other, okey, &co, NULL), 0);
	f.d.argv[4] = other;
	pid = dmn_start(&f.d);
	assert_int_equal(dmn_wait(pid), 1);
	assert_true(log_has(&f.d, "TLS certificate is not trusted"));
	assert_false(exists(f.d.out, "key.pem"));
	(void)unlink(other);
	(void)unlink(okey);
	fake_stop(&f);
}

/* An answer over ENROLL_MAX_RESPONSE_BYTES is refused. */
static void
test_https_too_big(void **state)
{
	struct fake f;
	pid_t pid;

	(void)state;
	fake_start(&f, FAKE_HUGE);
	one_shot(&f.d);
	pid = dmn_start(&f.d);
	assert_int_equal(dmn_wait(pid), 1);
	assert_true(log_has(&f.d, "response is larger than"));
	fake_stop(&f);
}

/*
 * The daemon enrolls, renews over mTLS with a new key (certificates
 * here live 63 s, so renewal is due at once), runs --exec after each
 * renewal, and stops on SIGTERM.
 */
static void
test_https_daemon_renews(void **state)
{
	char hook[3 * TPATH], mark[2 * TPATH];
	struct enroll_cert now;
	struct err e = { ERR_OK, "" };
	struct fake f;
	char *s;
	pid_t pid;

	(void)state;
	fake_start(&f, FAKE_SIGN);
	snprintf(mark, sizeof(mark), "%s/hook", f.d.base);
	snprintf(hook, sizeof(hook), "echo \"$REDIS_CA_SERIAL\" >> %s",
	    mark);
	f.d.argv[f.d.argc++] = (char *)"--exec";
	f.d.argv[f.d.argc++] = hook;
	pid = dmn_start(&f.d);
	assert_true(log_has(&f.d, "enrolled: certificate serial"));
	assert_true(log_has(&f.d, "renewed: certificate serial"));
	assert_true(log_has(&f.d, "--exec command succeeded"));
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(dmn_wait(pid), 0);
	assert_pair(f.d.out);

	/* The hook saw the serial now in cert.pem's state. */
	s = slurp(f.d.out, "enroll.json");
	assert_int_equal(enroll_state_parse(s, strlen(s), &now, &e), 0);
	free(s);
	s = slurp(f.d.base, "hook");
	assert_non_null(s);
	assert_non_null(strstr(s, now.serial));
	free(s);
	assert_true(now.has_names);
	assert_string_equal(now.names.cn, "app");
	enroll_cert_clear(&now);
	(void)unlink(mark);
	fake_stop(&f);
}

/*
 * The CA's API certificate is issued by a CA that --cacert does not
 * hold (a next CA, after activate): enroll trusts it through the bundle
 * in OUT/ca.pem, and without that file refuses it.
 */
static void
test_https_trusts_ca_pem(void **state)
{
	struct ca_create_opts co = { KEY_EC_P256, "next-ca", 1, NULL };
	char crt[2 * TPATH], key[2 * TPATH];
	struct err e = { ERR_OK, "" };
	struct fake f;
	char *pem;
	pid_t pid;
	char base[64] = "/tmp/rca-next-XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(crt, sizeof(crt), "%s/next.crt", base);
	snprintf(key, sizeof(key), "%s/next.key", base);
	assert_int_equal(ca_create_files(crt, key, &co, &e), 0);
	fake_srv_issuer = ca_load(crt, key, NULL, NULL, &e);
	if (fake_srv_issuer == NULL)
		fail_msg("ca_load: %s", e.msg);
	fake_start(&f, FAKE_BUNDLE);
	one_shot(&f.d);
	/* --cacert alone: the API's certificate is not trusted. */
	pid = dmn_start(&f.d);
	assert_int_equal(dmn_wait(pid), 1);
	assert_true(log_has(&f.d, "TLS certificate is not trusted"));
	assert_false(exists(f.d.out, "cert.pem"));
	/* The bundle in ca.pem holds the next CA: enrolled. */
	pem = slurp(base, "next.crt");
	assert_non_null(pem);
	/* (The refused run made the folder, and wrote nothing in it.) */
	assert_true(exists(f.d.out, ".") && !exists(f.d.out, "ca.pem"));
	put(f.d.out, "ca.pem", pem);
	free(pem);
	pid = dmn_start(&f.d);
	assert_int_equal(dmn_wait(pid), 0);
	assert_pair(f.d.out);
	fake_stop(&f);
	ca_free(fake_srv_issuer);
	fake_srv_issuer = NULL;
	(void)unlink(crt);
	(void)unlink(key);
	assert_int_equal(rmdir(base), 0);
}

/* Lines of base/name equal to want (0 when there is no such file). */
static int
count_lines(const char *base, const char *name, const char *want)
{
	char *s = slurp(base, name), *save = NULL, *t;
	int n = 0;

	if (s == NULL)
		return 0;
	for (t = strtok_r(s, "\n", &save); t != NULL;
	    t = strtok_r(NULL, "\n", &save))
		if (want == NULL || strcmp(t, want) == 0)
			n++;
	free(s);
	return n;
}

/* Poll until base/name has at least n lines equal to want (15 s). */
static bool
lines_reach(const char *base, const char *name, const char *want, int n)
{
	struct timespec deadline = deadline_in(15);

	do {
		if (count_lines(base, name, want) >= n)
			return true;
	} while (poll_again(&deadline));
	return false;
}

/*
 * The daemon follows the trust bundle: ca.pem starts as the
 * enrollment's ca_certificate; checks every --bundle-check send
 * If-None-Match and a 304 changes nothing (no --exec); a new bundle
 * replaces ca.pem (0444) and runs --exec once.
 */
static void
test_https_daemon_follows_bundle(void **state)
{
	struct ca_create_opts co = { KEY_EC_P256, "next-ca", 1, NULL };
	char hook[3 * TPATH], other[2 * TPATH], okey[2 * TPATH];
	char bp[2 * TPATH], *s, *v2 = NULL;
	struct fake f;
	pid_t pid;

	(void)state;
	fake_start(&f, FAKE_BUNDLE);
	snprintf(hook, sizeof(hook), "echo ran >> %s/hook", f.d.base);
	f.d.argv[f.d.argc++] = (char *)"--exec";
	f.d.argv[f.d.argc++] = hook;
	f.d.argv[f.d.argc++] = (char *)"--bundle-check";
	f.d.argv[f.d.argc++] = (char *)"1s";
	pid = dmn_start(&f.d);
	assert_true(log_has(&f.d, "enrolled: certificate serial"));
	/* Checks answered 304 leave everything alone. */
	assert_true(lines_reach(f.d.base, "served", "304", 2));
	assert_int_equal(count_lines(f.d.base, "hook", NULL), 0);
	s = slurp(f.d.out, "ca.pem");
	assert_string_equal(s, ca_cert_pem(f.ca));
	free(s);
	/* A next CA joins the bundle: ca.pem follows, --exec runs once. */
	snprintf(other, sizeof(other), "%s/next.crt", f.d.base);
	snprintf(okey, sizeof(okey), "%s/next.key", f.d.base);
	assert_int_equal(ca_create_files(other, okey, &co, NULL), 0);
	s = slurp(f.d.base, "next.crt");
	assert_true(asprintf(&v2, "%s%s", ca_cert_pem(f.ca), s) > 0);
	free(s);
	snprintf(bp, sizeof(bp), "%s/bundle.pem", f.d.base);
	assert_int_equal(fio_write_atomic(bp, v2, strlen(v2), 0600, NULL),
	    0);
	assert_true(log_has(&f.d, "trust bundle changed"));
	assert_true(lines_reach(f.d.base, "hook", "ran", 1));
	assert_true(log_has(&f.d, "--exec command succeeded"));
	s = slurp(f.d.out, "ca.pem");
	assert_string_equal(s, v2);
	free(s);
	assert_int_equal(mode_of(f.d.out, "ca.pem"), 0444);
	/* Then 304 again, and no second --exec. */
	assert_true(lines_reach(f.d.base, "served", "304",
	    count_lines(f.d.base, "served", "304") + 2));
	assert_int_equal(count_lines(f.d.base, "hook", NULL), 1);
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(dmn_wait(pid), 0);
	free(v2);
	(void)unlink(other);
	(void)unlink(okey);
	snprintf(bp, sizeof(bp), "%s/hook", f.d.base);
	(void)unlink(bp);
	fake_stop(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage_table),
		cmocka_unit_test(test_parse_fields),
		cmocka_unit_test(test_parse_redis),
		cmocka_unit_test(test_cmd_usage_status),
		cmocka_unit_test(test_response_good),
		cmocka_unit_test(test_response_errors),
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_renew_at),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_transient),
		cmocka_unit_test(test_install_files),
		cmocka_unit_test(test_cmd_unreachable),
		cmocka_unit_test(test_daemon_retries_then_stops),
		cmocka_unit_test(test_daemon_resumes),
		cmocka_unit_test(test_daemon_lock),
		cmocka_unit_test(test_daemon_other_name),
		cmocka_unit_test(test_daemon_expires),
		cmocka_unit_test(test_https_enroll),
		cmocka_unit_test(test_https_untrusted),
		cmocka_unit_test(test_https_too_big),
		cmocka_unit_test(test_https_daemon_renews),
		cmocka_unit_test(test_https_daemon_follows_bundle),
		cmocka_unit_test(test_https_trusts_ca_pem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
