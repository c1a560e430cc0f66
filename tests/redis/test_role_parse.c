/*
 * Tests for redis/role_parse.c, the parsers alone: INFO replication,
 * INFO cluster and CLUSTER NODES texts captured from redis-server 7.0.15
 * (a primary with one replica, the replica, a cluster primary and its
 * replica), then what a node must not get past them: bad roles, ports,
 * hosts, lines too long, input too large, no "myself" line, and bytes
 * that are not INFO at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "role.h"

static const char info_primary[] =
	"# Replication\r\n"
	"role:master\r\n"
	"connected_slaves:1\r\n"
	"slave0:ip=127.0.0.1,port=17422,state=wait_bgsave,offset=0,lag=0\r\n"
	"master_failover_state:no-failover\r\n"
	"master_replid:7190b30f065f4d8d46e9f50f1af1e458339193ba\r\n"
	"master_replid2:0000000000000000000000000000000000000000\r\n"
	"master_repl_offset:0\r\n"
	"second_repl_offset:-1\r\n"
	"repl_backlog_active:1\r\n"
	"repl_backlog_size:1048576\r\n"
	"repl_backlog_first_byte_offset:1\r\n"
	"repl_backlog_histlen:0\r\n";

static const char info_replica[] =
	"# Replication\r\n"
	"role:slave\r\n"
	"master_host:127.0.0.1\r\n"
	"master_port:17421\r\n"
	"master_link_status:up\r\n"
	"master_last_io_seconds_ago:1\r\n"
	"master_sync_in_progress:0\r\n"
	"slave_read_repl_offset:0\r\n"
	"slave_repl_offset:0\r\n"
	"slave_priority:100\r\n"
	"slave_read_only:1\r\n"
	"replica_announced:1\r\n"
	"connected_slaves:0\r\n"
	"master_failover_state:no-failover\r\n"
	"master_replid:7190b30f065f4d8d46e9f50f1af1e458339193ba\r\n"
	"master_replid2:0000000000000000000000000000000000000000\r\n"
	"master_repl_offset:0\r\n"
	"second_repl_offset:-1\r\n"
	"repl_backlog_active:1\r\n"
	"repl_backlog_size:1048576\r\n"
	"repl_backlog_first_byte_offset:1\r\n"
	"repl_backlog_histlen:0\r\n";

/* A cluster replica whose link was still down. */
static const char info_cluster_replica[] =
	"# Replication\r\n"
	"role:slave\r\n"
	"master_host:127.0.0.1\r\n"
	"master_port:17423\r\n"
	"master_link_status:down\r\n"
	"master_last_io_seconds_ago:-1\r\n"
	"master_sync_in_progress:0\r\n"
	"slave_read_repl_offset:0\r\n"
	"slave_repl_offset:0\r\n"
	"master_link_down_since_seconds:-1\r\n"
	"slave_priority:100\r\n"
	"connected_slaves:0\r\n"
	"master_failover_state:no-failover\r\n";

static const char info_cluster_on[] = "# Cluster\r\ncluster_enabled:1\r\n";
static const char info_cluster_off[] = "# Cluster\r\ncluster_enabled:0\r\n";

static const char cluster_nodes_primary[] =
	"355f4433bcabc16b630c7410d459db6c16bee71f 127.0.0.1:17424@27424 "
	"slave 108d388d625433ad209e9c17adfda63e0d7e5014 0 1796645371474 1 "
	"connected\n"
	"108d388d625433ad209e9c17adfda63e0d7e5014 127.0.0.1:17423@27423 "
	"myself,master - 0 0 1 connected\n";

static const char cluster_nodes_replica[] =
	"108d388d625433ad209e9c17adfda63e0d7e5014 127.0.0.1:17423@27423 "
	"master - 0 1796645371882 1 connected\n"
	"355f4433bcabc16b630c7410d459db6c16bee71f 127.0.0.1:17424@27424 "
	"myself,slave 108d388d625433ad209e9c17adfda63e0d7e5014 0 0 1 "
	"connected\n";

/* A lone cluster node before any MEET (no address yet). */
static const char cluster_nodes_alone[] =
	"108d388d625433ad209e9c17adfda63e0d7e5014 :17423@27423 "
	"myself,master - 0 0 0 connected\n";

static int
info(const char *s, struct rds_role_info *out, struct err *e)
{
	return rds_role_parse_info(s, strlen(s), out, e);
}

static int
nodes(const char *s, struct rds_role_info *out, struct err *e)
{
	return rds_role_parse_cluster_nodes(s, strlen(s), out, e);
}

static void
test_primary(void **state)
{
	struct rds_role_info r;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(info(info_primary, &r, &e), 0);
	assert_int_equal(r.role, RDS_ROLE_PRIMARY);
	assert_int_equal(r.connected_replicas, 1);
	assert_string_equal(r.primary_host, "");
	assert_int_equal(r.primary_port, 0);
	assert_false(r.link_up);
	assert_false(r.cluster);
	assert_string_equal(rds_role_name(r.role), "primary");
}

static void
test_replica(void **state)
{
	struct rds_role_info r;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(info(info_replica, &r, &e), 0);
	assert_int_equal(r.role, RDS_ROLE_REPLICA);
	assert_string_equal(r.primary_host, "127.0.0.1");
	assert_int_equal(r.primary_port, 17421);
	assert_true(r.link_up);
	assert_int_equal(r.connected_replicas, 0);
	assert_string_equal(rds_role_name(r.role), "replica");
	assert_int_equal(info(info_cluster_replica, &r, &e), 0);
	assert_int_equal(r.role, RDS_ROLE_REPLICA);
	assert_false(r.link_up);
	assert_int_equal(r.primary_port, 17423);
	/* Lines ended by "\n" alone, and a last line without one. */
	assert_int_equal(info("role:slave\nmaster_port:7000", &r, &e), 0);
	assert_int_equal(r.role, RDS_ROLE_REPLICA);
	assert_int_equal(r.primary_port, 7000);
}

static void
test_cluster(void **state)
{
	struct rds_role_info r;
	struct err e = { 0 };

	(void)state;
	assert_int_equal(info(info_cluster_on, &r, &e), 0);
	assert_true(r.cluster);
	assert_int_equal(r.role, RDS_ROLE_UNKNOWN);
	assert_int_equal(info(info_cluster_off, &r, &e), 0);
	assert_false(r.cluster);

	/* INFO says primary; CLUSTER NODES decides. */
	assert_int_equal(info(info_primary, &r, &e), 0);
	assert_int_equal(rds_role_parse_cluster_nodes(cluster_nodes_replica,
	    strlen(cluster_nodes_replica), &r, &e), 0);
	assert_int_equal(r.role, RDS_ROLE_REPLICA);
	assert_int_equal(r.connected_replicas, 1);	/* kept */
	assert_int_equal(rds_role_parse_cluster_nodes(cluster_nodes_primary,
	    strlen(cluster_nodes_primary), &r, &e), 0);
	assert_int_equal(r.role, RDS_ROLE_PRIMARY);
	assert_int_equal(rds_role_parse_cluster_nodes(cluster_nodes_alone,
	    strlen(cluster_nodes_alone), &r, &e), 0);
	assert_int_equal(r.role, RDS_ROLE_PRIMARY);
	/* myself without master or slave (e.g. handshake): unknown. */
	assert_int_equal(nodes("id :1@2 myself,noaddr - 0 0 0 connected\n",
	    &r, &e), 0);
	assert_int_equal(r.role, RDS_ROLE_UNKNOWN);
	/* "myselfish" is not "myself". */
	assert_int_equal(nodes("id :1@2 myselfish,master - 0 0 0 connected\n",
	    &r, &e), -1);
	assert_int_equal(e.code, ERR_NET);
	assert_string_equal(e.msg, "CLUSTER NODES: no \"myself\" line");
}

/* Each bad INFO text, and the message it must give. */
static const struct {
	const char	*text;
	const char	*msg;
} bad_info[] = {
	{ "role:leader\r\n", "INFO: bad value of role" },
	{ "role:\r\n", "INFO: bad value of role" },
	{ "role:master \r\n", "INFO: bad value of role" },
	{ "master_port:65536\r\n", "INFO: bad value of master_port" },
	{ "master_port:-1\r\n", "INFO: bad value of master_port" },
	{ "master_port:\r\n", "INFO: bad value of master_port" },
	{ "master_port:99999999999\r\n", "INFO: bad value of master_port" },
	{ "connected_slaves:x\r\n", "INFO: bad value of connected_slaves" },
	{ "connected_slaves:9999999999\r\n",
	    "INFO: bad value of connected_slaves" },
	{ "master_host:a b\r\n", "INFO: bad value of master_host" },
	{ "master_host:\x01\r\n", "INFO: bad value of master_host" },
	{ "cluster_enabled:yes\r\n", "INFO: bad value of cluster_enabled" },
	{ "# Replication\r\nno colon here\r\n",
	    "INFO: a line is not key:value" },
	{ ":master\r\n", "INFO: a line is not key:value" },
	{ "-ERR unknown command\r\n", "INFO: a line is not key:value" },
};

static void
test_info_bad(void **state)
{
	struct rds_role_info r;
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_info) / sizeof(bad_info[0]); i++) {
		memset(&e, 0, sizeof(e));
		memset(&r, 0x5a, sizeof(r));
		if (info(bad_info[i].text, &r, &e) != -1)
			fail_msg("accepted: %s", bad_info[i].text);
		assert_int_equal(e.code, ERR_NET);
		assert_string_equal(e.msg, bad_info[i].msg);
		/* Nothing half-parsed is left behind. */
		assert_int_equal(r.role, RDS_ROLE_UNKNOWN);
		assert_int_equal(r.primary_port, 0);
	}
}

static void
test_bounds(void **state)
{
	/* Static: GCC's -Warray-bounds (ASan build) cannot see that
	 * assert_non_null() on a malloc'd buffer does not return. */
	static char buf[RDS_ROLE_INPUT_MAX + 1];
	size_t big = sizeof(buf);
	char host[300];
	struct rds_role_info r;
	struct err e = { 0 };

	(void)state;
	/* A line one byte over the bound. */
	memcpy(buf, "role:", 5);
	memset(buf + 5, 'a', RDS_ROLE_LINE_MAX - 4);
	assert_int_equal(rds_role_parse_info(buf, RDS_ROLE_LINE_MAX + 1, &r,
	    &e), -1);
	assert_string_equal(e.msg, "INFO: a line longer than 4096 bytes");
	assert_int_equal(rds_role_parse_cluster_nodes(buf,
	    RDS_ROLE_LINE_MAX + 1, &r, &e), -1);
	assert_string_equal(e.msg,
	    "CLUSTER NODES: a line longer than 4096 bytes");
	/* The whole input over the bound. */
	memset(buf, '\n', big);
	assert_int_equal(rds_role_parse_info(buf, big, &r, &e), -1);
	assert_string_equal(e.msg, "INFO: reply larger than 1048576 bytes");
	assert_int_equal(rds_role_parse_cluster_nodes(buf, big, &r, &e), -1);
	assert_int_equal(e.code, ERR_NET);
	/* Only blank lines: no role, and no myself line. */
	assert_int_equal(rds_role_parse_info(buf, big - 1, &r, &e), 0);
	assert_int_equal(r.role, RDS_ROLE_UNKNOWN);
	/* A host as long as the field allows, then one byte more. */
	memset(host, 0, sizeof(host));
	memcpy(host, "master_host:", 12);
	memset(host + 12, 'h', 255);
	assert_int_equal(info(host, &r, &e), 0);
	assert_int_equal(strlen(r.primary_host), 255);
	host[12 + 255] = 'h';
	assert_int_equal(info(host, &r, &e), -1);
	assert_string_equal(e.msg, "INFO: bad value of master_host");
	/* The input need not end in NUL: only len bytes are read. */
	assert_int_equal(rds_role_parse_info("role:slaveXX", 10, &r, &e), 0);
	assert_int_equal(r.role, RDS_ROLE_REPLICA);
	/* Empty input: nothing known, not an error; no myself line. */
	assert_int_equal(rds_role_parse_info("", 0, &r, &e), 0);
	assert_int_equal(r.role, RDS_ROLE_UNKNOWN);
	assert_int_equal(rds_role_parse_cluster_nodes("", 0, &r, &e), -1);
	assert_string_equal(e.msg, "CLUSTER NODES: no \"myself\" line");
}

static void
test_cluster_nodes_bad(void **state)
{
	struct rds_role_info r = { 0 };
	struct err e = { 0 };

	(void)state;
	assert_int_equal(rds_role_parse_cluster_nodes("justone\n", 8, &r, &e),
	    -1);
	assert_string_equal(e.msg, "CLUSTER NODES: a line without flags");
	assert_int_equal(rds_role_parse_cluster_nodes("a b\n", 4, &r, &e),
	    -1);
	assert_string_equal(e.msg, "CLUSTER NODES: a line without flags");
	assert_int_equal(rds_role_parse_cluster_nodes("\x00\x01 x y\n", 7, &r,
	    &e), -1);
	assert_string_equal(e.msg, "CLUSTER NODES: no \"myself\" line");
	assert_string_equal(rds_role_name(RDS_ROLE_UNKNOWN), "unknown");
	assert_string_equal(rds_role_name((enum rds_role)99), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_primary),
		cmocka_unit_test(test_replica),
		cmocka_unit_test(test_cluster),
		cmocka_unit_test(test_info_bad),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_cluster_nodes_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
