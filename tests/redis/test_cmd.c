/*
 * Tests for redis/cmd.c against a real redis-server: AUTH with ACL
 * users, the one-call CONFIG SET that rotates a node's certificate,
 * NOPERM, refused pairs and bad arguments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "fixture.h"
#include "rds.h"

static void
served_serial(struct fx_env *v, char out[RCA_SERIAL_HEX_MAX + 1])
{
	struct rds_conn *c = fx_connect(&v->pki, &v->redis, 0);
	struct err e = { 0 };

	assert_int_equal(rds_peer_serial(c, out, &e), 0);
	rds_close(c);
}

static void
test_auth(void **state)
{
	struct fx_env *v = *state;
	struct rds_conn *c = fx_connect(&v->pki, &v->redis, 0);
	struct err e = { 0 };

	assert_int_equal(rds_auth(c, "app", "secret", &e), 0);
	assert_int_equal(rds_ping(c, &e), 0);
	rds_close(c);
}

static void
test_auth_wrong_password(void **state)
{
	struct fx_env *v = *state;
	struct rds_conn *c = fx_connect(&v->pki, &v->redis, 0);
	struct err e = { 0 };

	assert_int_equal(rds_auth(c, "app", "not-the-secret", &e), -1);
	assert_int_equal(e.code, ERR_NET);
	assert_msg_has(e.msg, "WRONGPASS");
	assert_null(strstr(e.msg, "not-the-secret"));
	/* An error reply leaves the connection usable. */
	assert_int_equal(rds_ping(c, &e), 0);
	assert_int_equal(rds_auth(c, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	rds_close(c);
}

/* The rotation step: one CONFIG SET of a new pair, seen by new handshakes. */
static void
test_config_set_new_pair(void **state)
{
	struct fx_env *v = *state;
	struct rds_conn *c = fx_connect(&v->pki, &v->redis, 0);
	struct err e = { 0 };
	char serial[RCA_SERIAL_HEX_MAX + 1];
	const char *kv[] = {
		"tls-cert-file", v->pki.server2_crt,
		"tls-key-file", v->pki.server2_key,
		"tls-ca-cert-file", v->pki.ca_crt,
	};

	served_serial(v, serial);
	assert_string_equal(serial, v->pki.server_serial);
	assert_int_equal(rds_config_set(c, kv, 3, &e), 0);
	/* The open connection keeps working. */
	assert_int_equal(rds_ping(c, &e), 0);
	rds_close(c);
	served_serial(v, serial);
	assert_string_equal(serial, v->pki.server2_serial);
}

/*
 * A CONFIG SET of crt and key, sent as user (NULL: the default user), is
 * refused with want in the message; the connection keeps working and
 * the node still serves its first certificate.
 */
static void
config_set_refused(struct fx_env *v, const char *user, const char *crt,
    const char *key, const char *want)
{
	struct rds_conn *c = fx_connect(&v->pki, &v->redis, 0);
	struct err e = { 0 };
	char serial[RCA_SERIAL_HEX_MAX + 1];
	const char *kv[] = { "tls-cert-file", crt, "tls-key-file", key };

	if (user != NULL)
		assert_int_equal(rds_auth(c, user, "pw", &e), 0);
	assert_int_equal(rds_config_set(c, kv, 2, &e), -1);
	assert_int_equal(e.code, ERR_NET);
	assert_msg_has(e.msg, want);
	assert_int_equal(rds_ping(c, &e), 0);
	rds_close(c);
	served_serial(v, serial);
	assert_string_equal(serial, v->pki.server_serial);
}

/* A user without +config: NOPERM, old pair served. */
static void
test_config_set_noperm(void **state)
{
	struct fx_env *v = *state;

	config_set_refused(v, "noconf", v->pki.server2_crt,
	    v->pki.server2_key, "NOPERM");
}

/* A key that does not match the certificate: refused, old pair served. */
static void
test_config_set_mismatch(void **state)
{
	struct fx_env *v = *state;

	config_set_refused(v, NULL, v->pki.server2_crt, v->pki.server_key,
	    "CONFIG SET refused");
}

static void
test_config_set_bad_args(void **state)
{
	struct fx_env *v = *state;
	struct rds_conn *c = fx_connect(&v->pki, &v->redis, 0);
	struct err e = { 0 };
	const char *kv[] = { "tls-cert-file", NULL };

	assert_int_equal(rds_config_set(c, kv, 0, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(rds_config_set(c, kv, RDS_CONFIG_SET_MAX_PAIRS + 1,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(rds_config_set(c, kv, 1, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	rds_close(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_auth, fx_env_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_auth_wrong_password,
		    fx_env_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_config_set_new_pair,
		    fx_env_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_config_set_noperm,
		    fx_env_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_config_set_mismatch,
		    fx_env_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_config_set_bad_args,
		    fx_env_setup, fx_env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
