/*
 * Tests for redis/conn.c: TCP and TLS connection to a real redis-server,
 * verification of the chain and the name, client certificates, timeouts
 * and what the peer presented.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fileio.h"
#include "fixture.h"
#include "rds.h"

static void
test_connect_ping(void **state)
{
	struct fx_env *v = *state;
	struct rds_tls_opts o;
	struct rds_conn *c;
	struct err e = { 0 };
	char serial[RCA_SERIAL_HEX_MAX + 1];

	fx_opts(&o, &v->pki, &v->redis);
	c = rds_connect(&o, &e);
	assert_non_null(c);
	assert_int_equal(rds_ping(c, &e), 0);
	assert_int_equal(rds_peer_serial(c, serial, &e), 0);
	assert_string_equal(serial, v->pki.server_serial);
	assert_string_equal(rds_conn_protocol(c), "TLSv1.3");
	assert_true(strlen(rds_conn_cipher(c)) > 0);
	rds_close(c);
}

/* The DER we return is the certificate in the node's tls-cert-file. */
static void
test_peer_cert_der(void **state)
{
	struct fx_env *v = *state;
	struct rds_tls_opts o;
	struct rds_conn *c;
	struct err e = { 0 };
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	X509 *got, *want;
	FILE *f;

	fx_opts(&o, &v->pki, &v->redis);
	c = rds_connect(&o, &e);
	assert_non_null(c);
	assert_int_equal(rds_peer_cert_der(c, &der, &len, &e), 0);
	p = der;
	got = d2i_X509(NULL, &p, (long)len);
	assert_non_null(got);
	f = fopen(v->pki.server_crt, "r");
	assert_non_null(f);
	want = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(want);
	assert_int_equal(X509_cmp(got, want), 0);
	X509_free(got);
	X509_free(want);
	free(der);
	rds_close(c);
}

/* SAN DNS:localhost matches (and is sent as SNI). */
static void
test_server_name_dns(void **state)
{
	struct fx_env *v = *state;
	struct rds_tls_opts o;
	struct rds_conn *c;
	struct err e = { 0 };

	fx_opts(&o, &v->pki, &v->redis);
	o.server_name = "localhost";
	c = rds_connect(&o, &e);
	assert_non_null(c);
	assert_int_equal(rds_ping(c, &e), 0);
	rds_close(c);
}

/*
 * host "localhost" may resolve to ::1 first, where nothing listens: the
 * next address is tried.  The name verified is then "localhost".
 */
static void
test_host_name(void **state)
{
	struct fx_env *v = *state;
	struct rds_tls_opts o;
	struct rds_conn *c;
	struct err e = { 0 };

	fx_opts(&o, &v->pki, &v->redis);
	o.host = "localhost";
	c = rds_connect(&o, &e);
	if (c == NULL)
		fail_msg("connect: %s", e.msg);
	assert_int_equal(rds_ping(c, &e), 0);
	rds_close(c);
}

static void
test_wrong_server_name(void **state)
{
	struct fx_env *v = *state;
	struct rds_tls_opts o;
	struct err e = { 0 };

	fx_opts(&o, &v->pki, &v->redis);
	o.server_name = "redis.example.org";
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_NET);
	assert_msg_has(e.msg, "hostname mismatch");
}

static void
test_wrong_server_ip(void **state)
{
	struct fx_env *v = *state;
	struct rds_tls_opts o;
	struct err e = { 0 };

	fx_opts(&o, &v->pki, &v->redis);
	o.server_name = "127.0.0.2";
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_NET);
	assert_msg_has(e.msg, "IP address mismatch");
}

static void
test_other_ca(void **state)
{
	struct fx_env *v = *state;
	struct rds_tls_opts o;
	struct err e = { 0 };

	fx_opts(&o, &v->pki, &v->redis);
	o.ca_file = v->pki.other_ca_crt;
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_NET);
	/* Redis sends its CA along, so OpenSSL names the root. */
	assert_msg_has(e.msg, "certificate verify failed");
	assert_msg_has(e.msg, "self-signed certificate in certificate chain");
}

static char *
read_file(const char *path)
{
	char *buf = NULL;
	struct err e = { 0 };

	assert_int_equal(fio_read_all(path, RCA_MAX_PEM_BYTES, &buf, NULL,
	    &e), 0);
	return buf;
}

/* The trust anchor from memory (ca_pem) instead of a file. */
static void
test_ca_pem(void **state)
{
	struct fx_env *v = *state;
	struct rds_tls_opts o;
	struct rds_conn *c;
	struct err e = { 0 };
	char *pem, *other;

	pem = read_file(v->pki.ca_crt);
	other = read_file(v->pki.other_ca_crt);
	fx_opts(&o, &v->pki, &v->redis);
	o.ca_file = NULL;
	o.ca_pem = pem;
	c = rds_connect(&o, &e);
	assert_non_null(c);
	assert_int_equal(rds_ping(c, &e), 0);
	rds_close(c);
	/* Another CA from memory is refused like another CA file. */
	o.ca_pem = other;
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_NET);
	assert_msg_has(e.msg, "certificate verify failed");
	/* Text with no certificate in it is an error, not "trust all". */
	o.ca_pem = "not a certificate";
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_CRYPTO);
	free(pem);
	free(other);
}

/* no_verify: the same connection works without trusting the node. */
static void
test_no_verify(void **state)
{
	struct fx_env *v = *state;
	struct rds_tls_opts o;
	struct rds_conn *c;
	struct err e = { 0 };

	fx_opts(&o, &v->pki, &v->redis);
	o.ca_file = v->pki.other_ca_crt;
	o.no_verify = true;
	c = rds_connect(&o, &e);
	assert_non_null(c);
	assert_int_equal(rds_ping(c, &e), 0);
	rds_close(c);
}

/*
 * tls-auth-clients yes: without a client certificate the handshake
 * fails (TLS 1.2) or the node closes the connection (TLS 1.3).
 */
static void
test_no_client_cert(void **state)
{
	struct fx_env *v = *state;
	enum rds_tls_version vers[] = { RDS_TLS1_2, RDS_TLS1_3 };

	for (size_t i = 0; i < sizeof(vers) / sizeof(vers[0]); i++) {
		struct rds_tls_opts o;
		struct rds_conn *c;
		struct err e = { 0 };

		fx_opts(&o, &v->pki, &v->redis);
		o.cert_file = NULL;
		o.key_file = NULL;
		o.min_version = o.max_version = vers[i];
		c = rds_connect(&o, &e);
		if (c != NULL) {
			assert_int_equal(rds_ping(c, &e), -1);
			rds_close(c);
		}
		assert_int_equal(e.code, ERR_NET);
		if (vers[i] == RDS_TLS1_2)
			assert_null(c);
	}
}

static void
test_tls12_only(void **state)
{
	struct fx_env *v = *state;
	struct rds_tls_opts o;
	struct rds_conn *c;
	struct err e = { 0 };

	fx_opts(&o, &v->pki, &v->redis);
	o.max_version = RDS_TLS1_2;
	o.cipher_list = "ECDHE-ECDSA-AES256-GCM-SHA384";
	c = rds_connect(&o, &e);
	assert_non_null(c);
	assert_string_equal(rds_conn_protocol(c), "TLSv1.2");
	assert_string_equal(rds_conn_cipher(c),
	    "ECDHE-ECDSA-AES256-GCM-SHA384");
	assert_int_equal(rds_ping(c, &e), 0);
	rds_close(c);
}

/* By default we never go below TLS 1.2 ourselves. */
static void
test_default_min_tls12(void **state)
{
	struct fx_env *v = *state;
	struct rds_tls_opts o;
	struct err e = { 0 };

	fx_opts(&o, &v->pki, &v->redis);
	o.max_version = RDS_TLS1_1;
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_msg_has(e.msg, "TLSv1.2");
}

static void
test_refused(void **state)
{
	struct fx_env *v = *state;
	struct rds_tls_opts o;
	struct err e = { 0 };

	fx_opts(&o, &v->pki, &v->redis);
	o.port = trs_free_port();
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_NET);
	assert_msg_has(e.msg, "Connection refused");
}

/* A listener that never speaks TLS: the handshake times out. */
static void
test_handshake_timeout(void **state)
{
	struct fx_env *v = *state;
	struct rds_tls_opts o;
	struct err e = { 0 };
	struct timespec t0, t1;
	int fd, port;
	long ms;

	fd = trs_listen(&port);
	fx_opts(&o, &v->pki, &v->redis);
	o.port = port;
	o.timeout_ms = 300;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_null(rds_connect(&o, &e));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	assert_int_equal(e.code, ERR_NET);
	assert_msg_has(e.msg, "timed out");
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 250 && ms < 3000);
}

static void
test_bad_options(void **state)
{
	struct fx_env *v = *state;
	struct rds_tls_opts o;
	struct err e = { 0 };
	char path[FX_PATH_MAX];

	fx_opts(&o, &v->pki, &v->redis);
	o.ca_file = NULL;
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_INVALID_REQUEST);

	fx_opts(&o, &v->pki, &v->redis);
	o.port = 0;
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_INVALID_REQUEST);

	fx_opts(&o, &v->pki, &v->redis);
	o.host = NULL;
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_INVALID_REQUEST);

	fx_opts(&o, &v->pki, &v->redis);
	o.min_version = RDS_TLS__MAX;
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_INVALID_REQUEST);

	fx_opts(&o, &v->pki, &v->redis);
	o.host = "no-such-host.invalid";
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_NET);
	assert_msg_has(e.msg, "cannot resolve");

	/* Files that do not load name the file. */
	fx_opts(&o, &v->pki, &v->redis);
	o.ca_file = "/nonexistent/ca.crt";
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_CRYPTO);
	assert_msg_has(e.msg, "/nonexistent/ca.crt");

	fx_opts(&o, &v->pki, &v->redis);
	o.cert_file = "/nonexistent/client.crt";
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_CRYPTO);
	assert_msg_has(e.msg, "/nonexistent/client.crt");

	fx_opts(&o, &v->pki, &v->redis);
	o.key_file = "/nonexistent/client.key";
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_CRYPTO);

	/* A key that does not belong to the certificate. */
	fx_opts(&o, &v->pki, &v->redis);
	o.key_file = v->pki.server_key;
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_CRYPTO);
	assert_msg_has(e.msg, v->pki.server_key);

	fx_opts(&o, &v->pki, &v->redis);
	o.cipher_list = "NO-SUCH-CIPHER";
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_CRYPTO);

	fx_opts(&o, &v->pki, &v->redis);
	o.ciphersuites = "NO_SUCH_SUITE";
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_CRYPTO);

	/* A file that is not PEM at all. */
	fx_write(&v->pki, "garbage.pem", "not a certificate\n", path);
	fx_opts(&o, &v->pki, &v->redis);
	o.ca_file = path;
	assert_null(rds_connect(&o, &e));
	assert_int_equal(e.code, ERR_CRYPTO);
}

static void
test_version_names(void **state)
{
	(void)state;
	assert_string_equal(rds_tls_version_name(RDS_TLS1_0), "TLSv1");
	assert_string_equal(rds_tls_version_name(RDS_TLS1_3), "TLSv1.3");
	assert_string_equal(rds_tls_version_name(RDS_TLS_ANY), "any");
	assert_string_equal(rds_tls_version_name(RDS_TLS__MAX), "unknown");
	rds_close(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_ping),
		cmocka_unit_test(test_peer_cert_der),
		cmocka_unit_test(test_ca_pem),
		cmocka_unit_test(test_server_name_dns),
		cmocka_unit_test(test_host_name),
		cmocka_unit_test(test_wrong_server_name),
		cmocka_unit_test(test_wrong_server_ip),
		cmocka_unit_test(test_other_ca),
		cmocka_unit_test(test_no_verify),
		cmocka_unit_test(test_no_client_cert),
		cmocka_unit_test(test_tls12_only),
		cmocka_unit_test(test_default_min_tls12),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_handshake_timeout),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_version_names),
	};

	return cmocka_run_group_tests(tests, fx_env_setup,
	    fx_env_teardown);
}
