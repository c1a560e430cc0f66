/*
 * Tests for redis/probe.c: the audit probes against real redis-servers,
 * one with Redis's default TLS settings (plus tls-auth-clients yes) and
 * one configured the way the audit must flag (TLS 1.0/1.1 allowed, no
 * client certificates).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>
#include <cmocka.h>

#include "fixture.h"
#include "rds.h"

/*
 * A legacy node.  OpenSSL 3 refuses TLS < 1.2 at its default security
 * level 1 on the server side too, so tls-protocols alone is not enough:
 * the node must also lower the level in tls-ciphers.
 */
#define LEGACY_CONF \
	"tls-protocols \"TLSv1 TLSv1.1 TLSv1.2\"\n" \
	"tls-auth-clients no\n" \
	"tls-ciphers \"DEFAULT:@SECLEVEL=0\"\n"

struct env {
	struct fx_pki	pki;
	struct fx_redis	redis;		/* default TLS settings */
	struct fx_redis	legacy;		/* LEGACY_CONF */
};

static int
setup(void **state)
{
	struct env *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	fx_pki_make(&v->pki);
	fx_redis_start(&v->redis, &v->pki, NULL);
	fx_redis_start(&v->legacy, &v->pki, LEGACY_CONF);
	*state = v;
	return 0;
}

static int
teardown(void **state)
{
	struct env *v = *state;

	fx_redis_stop(&v->redis);
	fx_redis_stop(&v->legacy);
	fx_pki_free(&v->pki);
	free(v);
	return 0;
}

static void
probe_version(const struct fx_pki *p, const struct fx_redis *r,
    enum rds_tls_version ver, struct rds_probe_result *res)
{
	struct rds_tls_opts o;
	struct err e = { 0 };

	fx_opts(&o, p, r);
	o.min_version = o.max_version = ver;
	if (rds_probe(&o, res, &e) != 0)
		fail_msg("probe %s: %s", rds_tls_version_name(ver), e.msg);
}

static void
test_default_versions(void **state)
{
	struct env *v = *state;
	struct rds_probe_result r;

	probe_version(&v->pki, &v->redis, RDS_TLS1_0, &r);
	assert_false(r.accepted);
	assert_true(strlen(r.reason) > 0);
	probe_version(&v->pki, &v->redis, RDS_TLS1_1, &r);
	assert_false(r.accepted);
	assert_msg_has(r.reason, "TLS handshake");
	print_message("TLSv1.1 against defaults: %s\n", r.reason);

	probe_version(&v->pki, &v->redis, RDS_TLS1_2, &r);
	assert_true(r.accepted);
	assert_string_equal(r.protocol, "TLSv1.2");
	assert_true(r.forward_secret);
	assert_true(r.aead);

	probe_version(&v->pki, &v->redis, RDS_TLS1_3, &r);
	assert_true(r.accepted);
	assert_string_equal(r.protocol, "TLSv1.3");
	assert_true(r.forward_secret);
	assert_true(r.aead);
}

/* What the probe says about the node's certificate. */
static void
test_cert_report(void **state)
{
	struct env *v = *state;
	struct rds_probe_result r;
	struct rds_tls_opts o;
	struct err e = { 0 };
	int64_t now = (int64_t)time(NULL);

	fx_opts(&o, &v->pki, &v->redis);
	assert_int_equal(rds_probe(&o, &r, &e), 0);
	assert_true(r.accepted);
	assert_true(r.have_cert);
	assert_true(r.chain_valid);
	assert_true(r.name_matches);
	assert_string_equal(r.serial, v->pki.server_serial);
	assert_string_equal(r.key_type, "ec");
	assert_int_equal(r.key_bits, 256);
	assert_int_equal(r.key_security_bits, 128);
	assert_string_equal(r.sig_alg, "ecdsa-with-SHA256");
	assert_true(r.sig_sha256_or_better);
	assert_true(r.not_after > now + 86000 && r.not_after < now + 86500);

	/* Against another CA and another name: accepted, but flagged. */
	o.ca_file = v->pki.other_ca_crt;
	o.server_name = "redis.example.org";
	assert_int_equal(rds_probe(&o, &r, &e), 0);
	assert_true(r.accepted);
	assert_false(r.chain_valid);
	assert_true(strlen(r.chain_error) > 0);
	assert_false(r.name_matches);

	/* DNS names are matched too. */
	o.ca_file = v->pki.ca_crt;
	o.server_name = "localhost";
	assert_int_equal(rds_probe(&o, &r, &e), 0);
	assert_true(r.chain_valid);
	assert_true(r.name_matches);

	/* Without a CA file the chain cannot be judged. */
	o.ca_file = NULL;
	assert_int_equal(rds_probe(&o, &r, &e), 0);
	assert_true(r.accepted);
	assert_false(r.chain_valid);
	assert_msg_has(r.chain_error, "no CA file");
}

/* Cipher restrictions: a CBC suite is accepted by Redis's default list. */
static void
test_cipher_probe(void **state)
{
	struct env *v = *state;
	struct rds_probe_result r;
	struct rds_tls_opts o;
	struct err e = { 0 };

	fx_opts(&o, &v->pki, &v->redis);
	o.max_version = RDS_TLS1_2;
	o.cipher_list = "ECDHE-ECDSA-AES128-SHA";
	assert_int_equal(rds_probe(&o, &r, &e), 0);
	assert_true(r.accepted);
	assert_string_equal(r.cipher, "ECDHE-ECDSA-AES128-SHA");
	assert_true(r.forward_secret);
	assert_false(r.aead);

	/* Static-RSA suites cannot work with an EC node key: refused. */
	o.cipher_list = "AES128-SHA:AES256-GCM-SHA384";
	assert_int_equal(rds_probe(&o, &r, &e), 0);
	assert_false(r.accepted);

	/* A list this OpenSSL cannot offer is our error, not a refusal. */
	o.cipher_list = "NO-SUCH-CIPHER";
	assert_int_equal(rds_probe(&o, &r, &e), -1);
	assert_int_equal(e.code, ERR_CRYPTO);
}

/* The named lists load here, and a default node refuses them. */
static void
test_weak_and_non_fs(void **state)
{
	struct env *v = *state;
	struct fx_redis weak;
	struct rds_probe_result r;
	struct rds_tls_opts o;
	struct err e = { 0 };

	fx_opts(&o, &v->pki, &v->redis);
	o.max_version = RDS_TLS1_2;
	o.cipher_list = RDS_PROBE_WEAK_CIPHERS;
	assert_int_equal(rds_probe(&o, &r, &e), 0);
	assert_false(r.accepted);
	o.cipher_list = RDS_PROBE_NON_FS_CIPHERS;
	assert_int_equal(rds_probe(&o, &r, &e), 0);
	assert_false(r.accepted);

	/* A node that allows a NULL cipher is caught. */
	fx_redis_start(&weak, &v->pki, "tls-ciphers "
	    "\"ECDHE-ECDSA-NULL-SHA:DEFAULT:@SECLEVEL=0\"\n");
	fx_opts(&o, &v->pki, &weak);
	o.max_version = RDS_TLS1_2;
	o.cipher_list = RDS_PROBE_WEAK_CIPHERS;
	assert_int_equal(rds_probe(&o, &r, &e), 0);
	fx_redis_stop(&weak);
	assert_true(r.accepted);
	assert_string_equal(r.cipher, "ECDHE-ECDSA-NULL-SHA");
	assert_false(r.aead);

	/* Without max_version TLS 1.2 the node just picks TLS 1.3. */
	fx_opts(&o, &v->pki, &v->redis);
	o.cipher_list = RDS_PROBE_WEAK_CIPHERS;
	assert_int_equal(rds_probe(&o, &r, &e), 0);
	assert_true(r.accepted);
	assert_string_equal(r.protocol, "TLSv1.3");
}

static void
test_client_cert_required(void **state)
{
	struct env *v = *state;
	enum rds_tls_version vers[] = { RDS_TLS1_2, RDS_TLS1_3, RDS_TLS_ANY };

	for (size_t i = 0; i < sizeof(vers) / sizeof(vers[0]); i++) {
		struct rds_tls_opts o;
		struct err e = { 0 };
		bool req = false;

		fx_opts(&o, &v->pki, &v->redis);
		o.max_version = vers[i];
		assert_int_equal(rds_probe_client_cert_required(&o, &req, &e),
		    0);
		assert_true(req);

		fx_opts(&o, &v->pki, &v->legacy);
		o.max_version = vers[i];
		assert_int_equal(rds_probe_client_cert_required(&o, &req, &e),
		    0);
		assert_false(req);
	}
}

/* A node that answers NOAUTH still talks to anonymous clients. */
static void
test_client_cert_not_required_with_password(void **state)
{
	struct env *v = *state;
	struct fx_redis pw;
	struct rds_tls_opts o;
	struct err e = { 0 };
	bool req = true;

	fx_redis_start(&pw, &v->pki, "tls-auth-clients no\n"
	    "requirepass hunter2\n");
	fx_opts(&o, &v->pki, &pw);
	assert_int_equal(rds_probe_client_cert_required(&o, &req, &e), 0);
	assert_false(req);
	fx_redis_stop(&pw);
}

static void
test_legacy_versions(void **state)
{
	struct env *v = *state;
	struct rds_probe_result r;

	probe_version(&v->pki, &v->legacy, RDS_TLS1_0, &r);
	assert_true(r.accepted);
	assert_string_equal(r.protocol, "TLSv1");
	probe_version(&v->pki, &v->legacy, RDS_TLS1_1, &r);
	assert_true(r.accepted);
	assert_string_equal(r.protocol, "TLSv1.1");
	probe_version(&v->pki, &v->legacy, RDS_TLS1_2, &r);
	assert_true(r.accepted);
	/* tls-protocols left TLS 1.3 out. */
	probe_version(&v->pki, &v->legacy, RDS_TLS1_3, &r);
	assert_false(r.accepted);
}

/*
 * Without @SECLEVEL=0 in tls-ciphers, Debian's OpenSSL 3 keeps refusing
 * TLS 1.1 even when tls-protocols lists it.
 */
static void
test_tls11_needs_seclevel0(void **state)
{
	struct env *v = *state;
	struct fx_redis half;
	struct rds_probe_result r;

	fx_redis_start(&half, &v->pki,
	    "tls-protocols \"TLSv1 TLSv1.1 TLSv1.2\"\n");
	probe_version(&v->pki, &half, RDS_TLS1_1, &r);
	assert_false(r.accepted);
	print_message("TLSv1.1 without @SECLEVEL=0: %s\n", r.reason);
	probe_version(&v->pki, &half, RDS_TLS1_2, &r);
	assert_true(r.accepted);
	fx_redis_stop(&half);
}

static void
test_probe_errors(void **state)
{
	struct env *v = *state;
	struct rds_probe_result r;
	struct rds_tls_opts o;
	struct err e = { 0 };
	bool req;

	fx_opts(&o, &v->pki, &v->redis);
	o.port = trs_free_port();
	assert_int_equal(rds_probe(&o, &r, &e), -1);
	assert_int_equal(e.code, ERR_NET);
	assert_msg_has(e.msg, "Connection refused");
	assert_int_equal(rds_probe_client_cert_required(&o, &req, &e), -1);
	assert_int_equal(e.code, ERR_NET);

	fx_opts(&o, &v->pki, &v->redis);
	o.port = 70000;
	assert_int_equal(rds_probe(&o, &r, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(rds_probe_client_cert_required(NULL, &req, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_versions),
		cmocka_unit_test(test_cert_report),
		cmocka_unit_test(test_cipher_probe),
		cmocka_unit_test(test_weak_and_non_fs),
		cmocka_unit_test(test_client_cert_required),
		cmocka_unit_test(test_client_cert_not_required_with_password),
		cmocka_unit_test(test_legacy_versions),
		cmocka_unit_test(test_tls11_needs_seclevel0),
		cmocka_unit_test(test_probe_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
