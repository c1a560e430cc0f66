/*
 * Tests for redis/role.c against real redis-servers (TLS only, as the
 * fixture starts them): a primary and its replica (tls-replication),
 * each read by rds_role_read(); a one-node cluster (tls-cluster), read
 * through CLUSTER NODES; and a user that may not run INFO.
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

/* Read r's role, waiting (bounded: 30 s, a loaded CI machine) until
 * want holds for it. */
static void
read_until(const struct fx_pki *p, const struct fx_redis *r,
    bool (*want)(const struct rds_role_info *), struct rds_role_info *out)
{
	struct err e = { 0 };
	struct rds_conn *c;

	for (int i = 0; i < 300; i++) {
		c = fx_connect(p, r, 0);
		assert_int_equal(rds_role_read(c, out, &e), 0);
		rds_close(c);
		if (want(out))
			return;
		nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
	}
	fail_msg("the node never reached the state wanted");
}

static bool
replica_up(const struct rds_role_info *i)
{
	return i->role == RDS_ROLE_REPLICA && i->link_up;
}

static bool
primary_with_one(const struct rds_role_info *i)
{
	return i->role == RDS_ROLE_PRIMARY && i->connected_replicas == 1;
}

static bool
any(const struct rds_role_info *i)
{
	(void)i;
	return true;
}

static void
test_primary_replica(void **state)
{
	struct fx_env *v = *state;
	struct fx_redis rep;
	struct rds_role_info info;
	char extra[256];

	/* A lone primary first. */
	read_until(&v->pki, &v->redis, any, &info);
	assert_int_equal(info.role, RDS_ROLE_PRIMARY);
	assert_int_equal(info.connected_replicas, 0);
	assert_false(info.cluster);

	snprintf(extra, sizeof(extra), "replicaof 127.0.0.1 %d\n"
	    "tls-replication yes\n", v->redis.port);
	fx_redis_start(&rep, &v->pki, extra);
	read_until(&v->pki, &rep, replica_up, &info);
	assert_string_equal(info.primary_host, "127.0.0.1");
	assert_int_equal(info.primary_port, v->redis.port);
	assert_false(info.cluster);
	read_until(&v->pki, &v->redis, primary_with_one, &info);
	assert_string_equal(info.primary_host, "");
	fx_redis_stop(&rep);
}

static void
test_cluster(void **state)
{
	struct fx_pki *p = *state;
	struct fx_redis r;
	struct rds_role_info info;
	char extra[256];

	/*
	 * The bus on its own free port: by default it is tls-port + 10000,
	 * past 65535 for a port above 55535, and redis-server then exits
	 * just after opening its client port.
	 */
	snprintf(extra, sizeof(extra), "cluster-enabled yes\n"
	    "cluster-config-file nodes-role.conf\ntls-cluster yes\n"
	    "cluster-port %d\n", trs_free_port());
	fx_redis_start(&r, p, extra);
	read_until(p, &r, any, &info);
	assert_true(info.cluster);
	assert_int_equal(info.role, RDS_ROLE_PRIMARY);
	fx_redis_stop(&r);
}

/* A user without INFO: ERR_NET with Redis's NOPERM, nothing filled. */
static void
test_noperm(void **state)
{
	struct fx_pki *p = *state;
	struct fx_redis r;
	struct rds_role_info info;
	struct err e = { 0 };
	struct rds_conn *c;

	fx_redis_start(&r, p, "user noinfo on >pw ~* +@all -info\n");
	c = fx_connect(p, &r, 0);
	assert_int_equal(rds_auth(c, "noinfo", "pw", &e), 0);
	memset(&info, 0x5a, sizeof(info));
	assert_int_equal(rds_role_read(c, &info, &e), -1);
	assert_int_equal(e.code, ERR_NET);
	assert_msg_has(e.msg, "INFO replication refused by");
	assert_msg_has(e.msg, "NOPERM");
	assert_int_equal(info.role, RDS_ROLE_UNKNOWN);
	/* A reply cap smaller than INFO's answer: ERR_NET too. */
	rds_close(c);
	c = fx_connect(p, &r, 32);
	assert_int_equal(rds_role_read(c, &info, &e), -1);
	assert_int_equal(e.code, ERR_NET);
	rds_close(c);
	fx_redis_stop(&r);
}

static int
pki_setup(void **state)
{
	struct fx_pki *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	fx_pki_make(p);
	*state = p;
	return 0;
}

static int
pki_teardown(void **state)
{
	fx_pki_free(*state);
	free(*state);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_primary_replica,
		    fx_env_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_cluster, pki_setup,
		    pki_teardown),
		cmocka_unit_test_setup_teardown(test_noperm, pki_setup,
		    pki_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
