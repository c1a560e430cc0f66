/* Tests of server/config.c: strict loading, defaults, key paths in errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "fileio.h"

/* The example of SPEC section 4, verbatim. */
static const char spec_json[] =
    "{\n"
    "  \"listen\": { \"api\": \"127.0.0.1:8443\", \"public\": "
    "\"127.0.0.1:8080\" },\n"
    "  \"public_url\": \"http://127.0.0.1:8080\",\n"
    "  \"api_tls\": { \"enabled\": true, \"cert\": \"tls/api.crt\", "
    "\"key\": \"tls/api.key\" },\n"
    "  \"ca\": { \"cert\": \"ca.crt\", \"key\": \"ca.key\", "
    "\"key_passphrase_file\": null },\n"
    "  \"database\": \"redis-ca.db\",\n"
    "  \"crl\": { \"validity\": \"24h\", \"refresh_before\": \"8h\" },\n"
    "  \"rotation\": { \"check_interval\": \"1m\", \"renew_before\": "
    "\"33%\" },\n"
    "  \"limits\": { \"max_body_bytes\": 65536, \"threads\": 0, "
    "\"max_connections\": 1024 },\n"
    "  \"profiles\": {\n"
    "    \"redis-node\":   { \"eku\": [\"serverAuth\", \"clientAuth\"], "
    "\"require_san\": true,\n"
    "                      \"default_ttl\": \"72h\", \"max_ttl\": \"30d\",\n"
    "                      \"key_types\": [\"ec-p256\", \"ec-p384\", "
    "\"rsa-2048\", \"rsa-3072\", \"rsa-4096\"] },\n"
    "    \"redis-client\": { \"eku\": [\"clientAuth\"], \"require_san\": "
    "false,\n"
    "                      \"default_ttl\": \"24h\", \"max_ttl\": \"7d\",\n"
    "                      \"key_types\": [\"ec-p256\", \"ec-p384\", "
    "\"rsa-2048\", \"rsa-3072\", \"rsa-4096\"] }\n"
    "  }\n"
    "}\n";

#define ALL_KEYS (KEY_BIT(KEY_EC_P256) | KEY_BIT(KEY_EC_P384) | \
	KEY_BIT(KEY_RSA_2048) | KEY_BIT(KEY_RSA_3072) | KEY_BIT(KEY_RSA_4096))

static int
load(const char *json, struct config *c, struct err *e)
{
	return config_loadb(json, strlen(json), "/etc/rca", c, e);
}

/* Load json, expect ERR_CONFIG whose message contains want. */
static void
expect_error(const char *json, const char *want)
{
	struct config c = CONFIG_INIT;
	struct err e;

	err_clear(&e);
	assert_int_equal(load(json, &c, &e), -1);
	assert_int_equal(e.code, ERR_CONFIG);
	if (strstr(e.msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", e.msg, want);
	assert_non_null(strstr(e.msg, "config: "));
	/* A failed load leaves nothing allocated behind. */
	assert_null(c.public_url);
	assert_null(c.dir);
	assert_int_equal(c.nprofiles, 0);
}

static void
check_spec_values(const struct config *c)
{
	const struct profile *p;

	assert_string_equal(c->api_listen, "127.0.0.1:8443");
	assert_string_equal(c->public_listen, "127.0.0.1:8080");
	assert_string_equal(c->public_url, "http://127.0.0.1:8080");
	assert_true(c->api_tls_enabled);
	assert_string_equal(c->api_tls_cert, "/etc/rca/tls/api.crt");
	assert_string_equal(c->api_tls_key, "/etc/rca/tls/api.key");
	assert_string_equal(c->ca_cert, "/etc/rca/ca.crt");
	assert_string_equal(c->ca_key, "/etc/rca/ca.key");
	assert_null(c->ca_key_passphrase_file);
	assert_string_equal(c->database, "/etc/rca/redis-ca.db");
	assert_string_equal(c->admin_cert, "/etc/rca/tls/admin.crt");
	assert_string_equal(c->admin_key, "/etc/rca/tls/admin.key");
	assert_int_equal(c->crl_validity, 86400);
	assert_int_equal(c->crl_refresh_before, 8 * 3600);
	assert_int_equal(c->rotation_check_interval, 60);
	assert_int_equal(c->rotation_renew_before_pct, 33);
	/* Not in SPEC 4's example: SPEC 11's default. */
	assert_int_equal(c->rotation_max_parallel, 4);
	assert_int_equal(c->max_body_bytes, 65536);
	assert_int_equal(c->threads, 0);
	assert_int_equal(c->max_connections, 1024);
	assert_int_equal(c->nprofiles, 2);

	p = config_profile(c, "redis-node");
	assert_non_null(p);
	assert_int_equal(p->eku, EKU_SERVER_AUTH | EKU_CLIENT_AUTH);
	assert_true(p->require_san);
	assert_int_equal(p->default_ttl, 72 * 3600);
	assert_int_equal(p->max_ttl, 30 * 86400);
	assert_int_equal(p->key_types, ALL_KEYS);

	p = config_profile(c, "redis-client");
	assert_non_null(p);
	assert_int_equal(p->eku, EKU_CLIENT_AUTH);
	assert_false(p->require_san);
	assert_int_equal(p->default_ttl, 86400);
	assert_int_equal(p->max_ttl, 7 * 86400);
	assert_int_equal(p->key_types, ALL_KEYS);
	assert_null(config_profile(c, "nope"));
}

static void
test_spec_example(void **state)
{
	struct config c = CONFIG_INIT;
	struct err e;

	assert_int_equal(load(spec_json, &c, &e), 0);
	check_spec_values(&c);
	config_clear(&c);
	config_clear(&c);
	config_clear(NULL);
}

/* An empty object means every SPEC default. */
static void
test_empty_object_is_defaults(void **state)
{
	struct config c = CONFIG_INIT;
	struct err e;

	assert_int_equal(load("{}", &c, &e), 0);
	check_spec_values(&c);
	config_clear(&c);
}

/* What init writes loads back to the same values. */
static void
test_default_json_round_trip(void **state)
{
	struct config_defaults d = { NULL, NULL, NULL, NULL };
	struct config c = CONFIG_INIT;
	struct err e;
	char *json;

	json = config_default_json(&d, &e);
	assert_non_null(json);
	assert_int_equal(json[strlen(json) - 1], '\n');
	assert_int_equal(load(json, &c, &e), 0);
	check_spec_values(&c);
	config_clear(&c);
	free(json);

	d.api_listen = "[::1]:9443";
	d.public_listen = "0.0.0.0:9080";
	d.public_url = "https://ca.example.net/";
	d.key_passphrase_file = "/secret/pass";
	json = config_default_json(&d, &e);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"key_passphrase_file\": "
	    "\"/secret/pass\""));
	assert_int_equal(load(json, &c, &e), 0);
	assert_string_equal(c.api_listen, "[::1]:9443");
	assert_string_equal(c.public_listen, "0.0.0.0:9080");
	/* The trailing slash is dropped: URLs are built as url + "/v1/..". */
	assert_string_equal(c.public_url, "https://ca.example.net");
	assert_string_equal(c.ca_key_passphrase_file, "/secret/pass");
	config_clear(&c);
	free(json);
}

static void
test_overrides_and_views(void **state)
{
	static const char json[] =
	    "{\"listen\": {\"api\": \"127.0.0.1:0\", \"public\": null},"
	    " \"api_tls\": {\"enabled\": false},"
	    " \"ca\": {\"key\": \"/abs/ca.key\", \"key_passphrase_file\":"
	    " \"pass.txt\"},"
	    " \"database\": \"db/x.db\","
	    " \"crl\": {\"validity\": \"2d\", \"refresh_before\": \"90s\"},"
	    " \"rotation\": {\"check_interval\": \"30s\","
	    " \"renew_before\": \"50%\"},"
	    " \"limits\": {\"max_body_bytes\": 2048, \"threads\": 3,"
	    " \"max_connections\": 7},"
	    " \"profiles\": {\"web\": {\"eku\": [\"serverAuth\"],"
	    " \"key_types\": [\"ec-p384\"], \"max_ttl\": \"1d\","
	    " \"default_ttl\": \"1h\"},"
	    " \"redis-node\": {\"max_ttl\": \"5d\"}}}";
	struct config c = CONFIG_INIT;
	struct svc_config sv;
	struct api_config av;
	const struct profile *p;
	struct err e;

	assert_int_equal(load(json, &c, &e), 0);
	assert_null(c.public_listen);
	assert_false(c.api_tls_enabled);
	assert_string_equal(c.ca_key, "/abs/ca.key");
	assert_string_equal(c.ca_key_passphrase_file, "/etc/rca/pass.txt");
	assert_string_equal(c.database, "/etc/rca/db/x.db");
	assert_int_equal(c.crl_validity, 2 * 86400);
	assert_int_equal(c.crl_refresh_before, 90);
	assert_int_equal(c.rotation_renew_before_pct, 50);
	assert_int_equal(c.nprofiles, 2);
	p = config_profile(&c, "web");
	assert_non_null(p);
	assert_int_equal(p->eku, EKU_SERVER_AUTH);
	assert_int_equal(p->key_types, KEY_BIT(KEY_EC_P384));
	assert_false(p->require_san);
	assert_int_equal(p->default_ttl, 3600);
	/* Keys a known profile leaves out keep the SPEC's values. */
	p = config_profile(&c, "redis-node");
	assert_non_null(p);
	assert_int_equal(p->max_ttl, 5 * 86400);
	assert_int_equal(p->default_ttl, 72 * 3600);
	assert_true(p->require_san);
	assert_int_equal(p->eku, EKU_SERVER_AUTH | EKU_CLIENT_AUTH);

	config_svc_view(&c, &sv);
	assert_ptr_equal(sv.ca_key, c.ca_key);
	assert_ptr_equal(sv.database, c.database);
	assert_ptr_equal(sv.public_url, c.public_url);
	assert_ptr_equal(sv.admin_cert, c.admin_cert);
	assert_int_equal(sv.crl_validity, 2 * 86400);
	assert_int_equal(sv.rotation_check_interval, 30);
	assert_int_equal(sv.rotation_renew_before_pct, 50);
	assert_ptr_equal(sv.profiles, c.profiles);
	assert_int_equal(sv.nprofiles, 2);

	config_api_view(&c, &av);
	assert_string_equal(av.api_listen, "127.0.0.1:0");
	assert_null(av.public_listen);
	assert_false(av.api_tls);
	assert_ptr_equal(av.tls_ca, c.ca_cert);
	assert_int_equal(av.max_body_bytes, 2048);
	assert_int_equal(av.threads, 3);
	assert_int_equal(av.max_connections, 7);
	config_clear(&c);
}

/*
 * "database": a path is joined to the folder, a postgresql:// or
 * postgres:// URI is kept as it is; a URI with a password is refused
 * without repeating it.
 */
static void
test_database_uri(void **state)
{
	static const char *const uris[] = {
		"postgresql://rca@db1:5432,db2:5432/rca"
		    "?target_session_attrs=read-write",
		"postgres://rca@10.0.0.1/rca?passfile=/etc/rca/pgpass",
	};
	struct config c = CONFIG_INIT;
	struct err e;
	char json[256];

	err_clear(&e);
	assert_int_equal(load("{\"database\": \"d/x.db\"}", &c, &e), 0);
	assert_string_equal(c.database, "/etc/rca/d/x.db");
	config_clear(&c);
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		snprintf(json, sizeof(json), "{\"database\": \"%s\"}",
		    uris[i]);
		assert_int_equal(load(json, &c, &e), 0);
		assert_string_equal(c.database, uris[i]);
		config_clear(&c);
	}
	expect_error("{\"database\": \"postgresql://rca:hunter2@db/rca\"}",
	    "config: database: a PostgreSQL URI must not hold a password");
	expect_error("{\"database\": "
	    "\"postgresql://db/rca?sslmode=require&password=hunter2\"}",
	    "must not hold a password");
	expect_error("{\"database\": \"postgresql:// db/rca\"}",
	    "must not contain spaces");
	assert_int_equal(load("{\"database\": "
	    "\"postgresql://rca:hunter2@db/rca\"}", &c, &e), -1);
	assert_null(strstr(e.msg, "hunter2"));
}

static void
test_unknown_top_level_key(void **state)
{
	expect_error("{\"listen\": {}, \"lisen\": 1}", "config: lisen: "
	    "unknown key");
}

static void
test_unknown_nested_key(void **state)
{
	expect_error("{\"crl\": {\"validity\": \"1h\", \"refresh\": \"1m\"}}",
	    "config: crl.refresh: unknown key");
	expect_error("{\"profiles\": {\"redis-node\": {\"ekus\": []}}}",
	    "config: profiles.redis-node.ekus: unknown key");
}

static void
test_wrong_type(void **state)
{
	expect_error("{\"public_url\": 5}", "config: public_url: must be a "
	    "string");
	expect_error("{\"listen\": []}", "config: listen: must be an object");
	expect_error("{\"api_tls\": {\"enabled\": \"yes\"}}",
	    "config: api_tls.enabled: must be true or false");
	expect_error("{\"limits\": {\"threads\": \"4\"}}",
	    "config: limits.threads: must be an integer");
	expect_error("{\"limits\": {\"max_connections\": 0}}",
	    "config: limits.max_connections: must be between");
	expect_error("{\"database\": null}", "config: database: must be a "
	    "string");
	expect_error("{\"database\": \"\"}", "config: database: must be a "
	    "non-empty string");
	expect_error("{\"profiles\": {\"redis-node\": {\"require_san\": 1}}}",
	    "config: profiles.redis-node.require_san: must be true or false");
	expect_error("{\"profiles\": {\"x\": 3}}",
	    "config: profiles.x: must be an object");
	expect_error("[1, 2]", "config: the top level must be an object");
	expect_error("{\"listen\": {\"api\": \"localhost\"}}",
	    "config: listen.api: must be \"host:port\"");
	expect_error("{\"listen\": {\"api\": \"127.0.0.1:70000\"}}",
	    "config: listen.api:");
	/*
	 * hostport_split()'s rules (stricter than the parser before it):
	 * brackets for an IPv6 literal only, no '/' or space in the host,
	 * at most five digits of port.
	 */
	expect_error("{\"listen\": {\"api\": \"[127.0.0.1]:8443\"}}",
	    "config: listen.api: must be \"host:port\"");
	expect_error("{\"listen\": {\"public\": \"[localhost]:80\"}}",
	    "config: listen.public: must be \"host:port\"");
	expect_error("{\"listen\": {\"api\": \"[::1 ]:8443\"}}",
	    "config: listen.api: must be \"host:port\"");
	expect_error("{\"listen\": {\"api\": \"a/b:8443\"}}",
	    "config: listen.api: must be \"host:port\"");
	expect_error("{\"listen\": {\"api\": \"127.0.0.1:008443\"}}",
	    "config: listen.api: must be \"host:port\"");
	expect_error("{\"public_url\": \"ftp://x\"}",
	    "config: public_url: must start with http");
	expect_error("{\"public_url\": \"http://\"}",
	    "config: public_url: has no host");
}

static void
test_bad_duration(void **state)
{
	expect_error("{\"profiles\": {\"redis-node\": {\"max_ttl\": "
	    "\"30 days\"}}}", "config: profiles.redis-node.max_ttl: not a "
	    "duration");
	expect_error("{\"crl\": {\"validity\": \"0h\"}}",
	    "config: crl.validity: not a duration");
	expect_error("{\"rotation\": {\"check_interval\": 60}}",
	    "config: rotation.check_interval: must be a duration");
	expect_error("{\"crl\": {\"validity\": \"1h\", \"refresh_before\": "
	    "\"2h\"}}", "config: crl.refresh_before: must be shorter");
}

/* rotation.max_parallel (SPEC 11): 1..64, default 4, an integer. */
static void
test_max_parallel(void **state)
{
	struct config		c = CONFIG_INIT;
	struct svc_config	sv;
	struct err		e;

	(void)state;
	assert_int_equal(load("{\"rotation\": {\"max_parallel\": 2}}", &c,
	    &e), 0);
	assert_int_equal(c.rotation_max_parallel, 2);
	config_svc_view(&c, &sv);
	assert_int_equal(sv.rotation_max_parallel, 2);
	config_clear(&c);
	assert_int_equal(load("{\"rotation\": {\"max_parallel\": 64}}", &c,
	    &e), 0);
	assert_int_equal(c.rotation_max_parallel, 64);
	config_clear(&c);
	expect_error("{\"rotation\": {\"max_parallel\": 0}}",
	    "config: rotation.max_parallel: must be between 1 and 64");
	expect_error("{\"rotation\": {\"max_parallel\": 65}}",
	    "config: rotation.max_parallel: must be between 1 and 64");
	expect_error("{\"rotation\": {\"max_parallel\": -1}}",
	    "config: rotation.max_parallel: must be between 1 and 64");
	expect_error("{\"rotation\": {\"max_parallel\": \"4\"}}",
	    "config: rotation.max_parallel: must be an integer");
	expect_error("{\"rotation\": {\"max_paralel\": 4}}",
	    "rotation.max_paralel");
}

static void
test_bad_percentage(void **state)
{
	expect_error("{\"rotation\": {\"renew_before\": \"33\"}}",
	    "config: rotation.renew_before: not a percentage");
	expect_error("{\"rotation\": {\"renew_before\": \"100%\"}}",
	    "config: rotation.renew_before: not a percentage");
	expect_error("{\"rotation\": {\"renew_before\": \"0%\"}}",
	    "config: rotation.renew_before: not a percentage");
	expect_error("{\"rotation\": {\"renew_before\": 33}}",
	    "config: rotation.renew_before: not a percentage");
	expect_error("{\"rotation\": {\"renew_before\": \"-5%\"}}",
	    "config: rotation.renew_before: not a percentage");
}

static void
test_bad_eku(void **state)
{
	expect_error("{\"profiles\": {\"p\": {\"eku\": [\"clientAuth\", "
	    "\"codeSigning\"]}}}", "config: profiles.p.eku[1]: unknown "
	    "extended key usage");
	expect_error("{\"profiles\": {\"p\": {\"eku\": []}}}",
	    "config: profiles.p.eku: must be a non-empty array");
	expect_error("{\"profiles\": {\"p\": {\"require_san\": true}}}",
	    "config: profiles.p.eku: missing");
}

static void
test_bad_key_type(void **state)
{
	expect_error("{\"profiles\": {\"redis-node\": {\"key_types\": "
	    "[\"ec-p256\", \"rsa-1024\"]}}}",
	    "config: profiles.redis-node.key_types[1]: unknown key type");
	expect_error("{\"profiles\": {\"redis-node\": {\"key_types\": "
	    "\"ec-p256\"}}}", "config: profiles.redis-node.key_types: must "
	    "be a non-empty array");
}

static void
test_default_ttl_above_max(void **state)
{
	expect_error("{\"profiles\": {\"redis-client\": {\"default_ttl\": "
	    "\"8d\"}}}", "config: profiles.redis-client.default_ttl: is "
	    "longer than max_ttl");
}

static void
test_bad_profile_names(void **state)
{
	expect_error("{\"profiles\": {}}", "config: profiles: must hold");
	expect_error("{\"profiles\": {\"Bad Name\": {\"eku\": "
	    "[\"clientAuth\"]}}}", "config: profiles.Bad Name: a profile "
	    "name");
}

static void
test_duplicate_key(void **state)
{
	expect_error("{\"database\": \"a.db\", \"database\": \"b.db\"}",
	    "duplicate object key");
	expect_error("{\"database\": \"a.db\", \"database\": \"b.db\"}",
	    "database");
}

static void
test_not_json(void **state)
{
	expect_error("{\"listen\": ", "config: not valid JSON (line 1");
	expect_error("", "config: not valid JSON");
	expect_error("listen = 1", "config: not valid JSON");
}

static void
test_too_large(void **state)
{
	struct config c = CONFIG_INIT;
	struct err e;
	size_t n = RCA_MAX_CONFIG_BYTES + 1;
	char *big = malloc(n);

	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	assert_int_equal(config_loadb(big, n, "/etc/rca", &c, &e), -1);
	assert_int_equal(e.code, ERR_CONFIG);
	assert_non_null(strstr(e.msg, "larger than"));
	/* Just at the limit is fine. */
	big[n - 2] = '}';
	assert_int_equal(config_loadb(big, n - 1, "/etc/rca", &c, &e), 0);
	config_clear(&c);
	free(big);
}

static void
test_relative_dir_refused(void **state)
{
	struct config c = CONFIG_INIT;
	struct err e;

	assert_int_equal(config_loadb("{}", 2, "rel", &c, &e), -1);
	assert_int_equal(e.code, ERR_CONFIG);
}

/* config_load: paths resolve against the file's folder; missing file. */
static void
test_load_file(void **state)
{
	char dir[] = "/tmp/rca-config-XXXXXX", path[512], rel[4200];
	char cwd[4096], real[4096];
	struct config c = CONFIG_INIT;
	struct err e;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	assert_non_null(realpath(dir, real));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"database\": \"sub/d.db\"}", f);
	fclose(f);

	assert_int_equal(config_load(path, &c, &e), 0);
	snprintf(rel, sizeof(rel), "%s/sub/d.db", real);
	assert_string_equal(c.database, rel);
	snprintf(rel, sizeof(rel), "%s/config.json", real);
	assert_string_equal(c.path, rel);
	config_clear(&c);

	/* A relative path to the file works from its folder too. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(config_load("config.json", &c, &e), 0);
	snprintf(rel, sizeof(rel), "%s/ca.key", real);
	assert_string_equal(c.ca_key, rel);
	config_clear(&c);
	assert_int_equal(chdir(cwd), 0);

	/* Errors name the file as well as the key. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"crl\": {\"validity\": \"soon\"}}", f);
	fclose(f);
	assert_int_equal(config_load(path, &c, &e), -1);
	assert_int_equal(e.code, ERR_CONFIG);
	assert_non_null(strstr(e.msg, path));
	assert_non_null(strstr(e.msg, "config: crl.validity: not a "
	    "duration"));

	assert_int_equal(unlink(path), 0);
	assert_int_equal(config_load(path, &c, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	snprintf(path, sizeof(path), "%s/nodir/config.json", dir);
	assert_int_equal(config_load(path, &c, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * Mutation smoke test: thousands of corrupted copies of the SPEC example
 * (bytes flipped, cut, duplicated) either load or fail with ERR_CONFIG
 * and a "config: " message; ASan/UBSan watch the parser meanwhile.
 */
static void
test_mutations(void **state)
{
	size_t n = sizeof(spec_json) - 1;
	static const char alphabet[] = "{}[]\":,0123456789%dhms-. "
	    "abcdefghijklmnopqrstuvwxyz\\\n\t\x01\xff";
	char *buf = malloc(2 * n);
	uint32_t rnd = 12345;
	int loaded = 0, refused = 0;

	assert_non_null(buf);
	for (int iter = 0; iter < 4000; iter++) {
		struct config c = CONFIG_INIT;
		struct err e;
		size_t len = n;
		int edits;

		memcpy(buf, spec_json, n);
		rnd = rnd * 1103515245u + 12345u;
		edits = 1 + (int)((rnd >> 16) % 4);
		for (int k = 0; k < edits; k++) {
			size_t at, span;

			rnd = rnd * 1103515245u + 12345u;
			at = (rnd >> 8) % len;
			switch ((rnd >> 4) % 3) {
			case 0:		/* replace one byte */
				buf[at] = alphabet[(rnd >> 20) %
				    (sizeof(alphabet) - 1)];
				break;
			case 1:		/* cut the rest */
				len = at + 1;
				break;
			default:	/* duplicate a span */
				span = (rnd >> 24) % 32;
				if (at + span > len)
					span = len - at;
				if (len + span <= 2 * n) {
					memmove(buf + at + span, buf + at,
					    len - at);
					len += span;
				}
				break;
			}
		}
		err_clear(&e);
		if (config_loadb(buf, len, "/etc/rca", &c, &e) == 0) {
			loaded++;
			assert_true(c.nprofiles >= 1);
			assert_non_null(c.public_url);
			config_clear(&c);
		} else {
			refused++;
			assert_int_equal(e.code, ERR_CONFIG);
			assert_memory_equal(e.msg, "config: ", 8);
		}
	}
	/* Both outcomes happen: the mutations are neither all fatal nor
	 * all harmless. */
	assert_true(loaded > 0);
	assert_true(refused > 0);
	free(buf);
}

/* deploy/config.example.json (path in RCA_CONFIG_EXAMPLE) loads. */
/* SPEC section 8's abuse limits: defaults, values, refusals. */
static void
test_abuse_limits(void **state)
{
	struct config c = CONFIG_INIT;
	struct svc_config sv;
	struct api_config av;
	struct err e;

	(void)state;
	assert_int_equal(load("{}", &c, &e), 0);
	assert_int_equal(c.max_connections_per_ip, 64);
	assert_int_equal(c.auth_failures_per_minute, 20);
	assert_int_equal(c.audit_retention, 365 * 86400);
	config_clear(&c);

	assert_int_equal(load("{\"limits\": {\"max_connections\": 10,"
	    " \"max_connections_per_ip\": 4, \"auth_failures_per_minute\":"
	    " 3}, \"audit\": {\"retention\": \"30d\"}}", &c, &e), 0);
	config_api_view(&c, &av);
	config_svc_view(&c, &sv);
	assert_int_equal(av.max_connections_per_ip, 4);
	assert_int_equal(av.auth_failures_per_minute, 3);
	assert_int_equal(sv.audit_retention, 30 * 86400);
	config_clear(&c);
	/* The default per-address cap gives way to a smaller total. */
	assert_int_equal(load("{\"limits\": {\"max_connections\": 10}}",
	    &c, &e), 0);
	assert_int_equal(c.max_connections_per_ip, 10);
	config_clear(&c);

	expect_error("{\"limits\": {\"max_connections\": 10,"
	    " \"max_connections_per_ip\": 11}}",
	    "config: limits.max_connections_per_ip: must not exceed");
	expect_error("{\"limits\": {\"max_connections_per_ip\": 0}}",
	    "config: limits.max_connections_per_ip: must be between");
	expect_error("{\"limits\": {\"max_connections_per_ip\": \"64\"}}",
	    "config: limits.max_connections_per_ip: must be an integer");
	expect_error("{\"limits\": {\"auth_failures_per_minute\": 0}}",
	    "config: limits.auth_failures_per_minute: must be between");
	expect_error("{\"limits\": {\"auth_failures_per_minute\": 1.5}}",
	    "config: limits.auth_failures_per_minute: must be an integer");
	expect_error("{\"limits\": {\"auth_failures\": 5}}",
	    "config: limits.auth_failures: unknown key");
	expect_error("{\"audit\": 365}", "config: audit: must be an object");
	expect_error("{\"audit\": {\"retention\": 365}}",
	    "config: audit.retention: must be a duration");
	expect_error("{\"audit\": {\"retention\": \"1 year\"}}",
	    "config: audit.retention: not a duration");
	expect_error("{\"audit\": {\"retention\": \"59m\"}}",
	    "config: audit.retention: must be at least 1h");
	expect_error("{\"audit\": {\"retain\": \"1d\"}}",
	    "config: audit.retain: unknown key");
}

static void
test_deploy_example(void **state)
{
	const char *path = getenv("RCA_CONFIG_EXAMPLE");
	struct config c = CONFIG_INIT;
	struct err e;

	if (path == NULL) {
		skip();
		return;
	}
	err_clear(&e);
	if (config_load(path, &c, &e) == -1)
		fail_msg("%s", e.msg);
	assert_string_equal(c.api_listen, "0.0.0.0:8443");
	assert_int_equal(c.nprofiles, 2);
	assert_non_null(config_profile(&c, "redis-node"));
	config_clear(&c);
}

/* nodes.allowed_dirs (SPEC section 8): default none, absolute paths. */
static void
test_nodes_allowed_dirs(void **state)
{
	struct config c = CONFIG_INIT;
	struct svc_config sv;
	struct err e;
	char big[2048];
	size_t n;

	err_clear(&e);
	assert_int_equal(load("{}", &c, &e), 0);
	assert_int_equal(c.nnode_allowed_dirs, 0);
	config_svc_view(&c, &sv);
	assert_int_equal(sv.nnode_allowed_dirs, 0);
	assert_string_equal(sv.data_dir, "/etc/rca");
	config_clear(&c);

	assert_int_equal(load("{\"nodes\": {\"allowed_dirs\": "
	    "[\"/etc/redis/tls\", \"/srv/redis\"]}}", &c, &e), 0);
	assert_int_equal(c.nnode_allowed_dirs, 2);
	config_svc_view(&c, &sv);
	assert_int_equal(sv.nnode_allowed_dirs, 2);
	assert_string_equal(sv.node_allowed_dirs[0], "/etc/redis/tls");
	assert_string_equal(sv.node_allowed_dirs[1], "/srv/redis");
	assert_string_equal(sv.data_dir, c.dir);
	config_clear(&c);
	assert_int_equal(load("{\"nodes\": {}}", &c, &e), 0);
	assert_int_equal(c.nnode_allowed_dirs, 0);
	config_clear(&c);

	expect_error("{\"nodes\": []}", "config: nodes: must be an object");
	expect_error("{\"nodes\": {\"allowed\": []}}",
	    "config: nodes.allowed: unknown key");
	expect_error("{\"nodes\": {\"allowed_dirs\": \"/srv\"}}",
	    "config: nodes.allowed_dirs: must be an array");
	expect_error("{\"nodes\": {\"allowed_dirs\": [\"/srv\", "
	    "\"relative\"]}}", "config: nodes.allowed_dirs[1]: must be an "
	    "absolute path");
	expect_error("{\"nodes\": {\"allowed_dirs\": [5]}}",
	    "config: nodes.allowed_dirs[0]: must be an absolute path");
	expect_error("{\"nodes\": {\"allowed_dirs\": [\"\"]}}",
	    "config: nodes.allowed_dirs[0]: must be an absolute path");
	/* More than RCA_MAX_NODE_DIRS. */
	n = (size_t)snprintf(big, sizeof(big), "{\"nodes\": "
	    "{\"allowed_dirs\": [");
	for (int i = 0; i <= RCA_MAX_NODE_DIRS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"/d%d\"",
		    i > 0 ? "," : "", i);
	snprintf(big + n, sizeof(big) - n, "]}}");
	expect_error(big, "config: nodes.allowed_dirs: must be an array of "
	    "at most");
}

/* tokens.max_enroll_ttl (SPEC section 8): default 30d, strict. */
static void
test_tokens_max_enroll_ttl(void **state)
{
	struct config c = CONFIG_INIT;
	struct svc_config v;
	struct err e;

	assert_int_equal(load("{}", &c, &e), 0);
	assert_int_equal(c.token_max_enroll_ttl, 30 * 86400);
	config_svc_view(&c, &v);
	assert_int_equal(v.token_max_enroll_ttl, 30 * 86400);
	config_clear(&c);
	assert_int_equal(load("{\"tokens\": {\"max_enroll_ttl\": \"7d\"}}",
	    &c, &e), 0);
	assert_int_equal(c.token_max_enroll_ttl, 7 * 86400);
	config_svc_view(&c, &v);
	assert_int_equal(v.token_max_enroll_ttl, 7 * 86400);
	config_clear(&c);
	assert_int_equal(load("{\"tokens\": {}}", &c, &e), 0);
	assert_int_equal(c.token_max_enroll_ttl, 30 * 86400);
	config_clear(&c);

	expect_error("{\"tokens\": []}", "config: tokens: must be an "
	    "object");
	expect_error("{\"tokens\": {\"max_ttl\": \"1d\"}}",
	    "config: tokens.max_ttl: ");
	expect_error("{\"tokens\": {\"max_enroll_ttl\": 86400}}",
	    "config: tokens.max_enroll_ttl: must be a duration");
	expect_error("{\"tokens\": {\"max_enroll_ttl\": \"never\"}}",
	    "config: tokens.max_enroll_ttl: not a duration");
	expect_error("{\"tokens\": {\"max_enroll_ttl\": \"0d\"}}",
	    "config: tokens.max_enroll_ttl: not a duration");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_empty_object_is_defaults),
		cmocka_unit_test(test_default_json_round_trip),
		cmocka_unit_test(test_overrides_and_views),
		cmocka_unit_test(test_database_uri),
		cmocka_unit_test(test_unknown_top_level_key),
		cmocka_unit_test(test_unknown_nested_key),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_bad_duration),
		cmocka_unit_test(test_bad_percentage),
		cmocka_unit_test(test_max_parallel),
		cmocka_unit_test(test_bad_eku),
		cmocka_unit_test(test_bad_key_type),
		cmocka_unit_test(test_default_ttl_above_max),
		cmocka_unit_test(test_bad_profile_names),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_relative_dir_refused),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_abuse_limits),
		cmocka_unit_test(test_deploy_example),
		cmocka_unit_test(test_nodes_allowed_dirs),
		cmocka_unit_test(test_tokens_max_enroll_ttl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
