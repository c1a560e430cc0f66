/*
 * The pure parsers behind rds_role_read(): bytes a node sent in, a
 * struct rds_role_info out, no I/O.  Every field read is bounded (lines
 * of at most RDS_ROLE_LINE_MAX bytes, input of at most
 * RDS_ROLE_INPUT_MAX bytes, host names of sizeof(primary_host) - 1);
 * the input need not be NUL-terminated.  Used by redis/role.c, the unit
 * tests (tests/redis/test_role.c) and the fuzz harness
 * (tests/fuzz/fuzz_role.c).
 */
#ifndef RCA_RDS_ROLE_H
#define RCA_RDS_ROLE_H

#include <stddef.h>

#include "err.h"
#include "rds.h"

#define RDS_ROLE_LINE_MAX	4096		/* one line of INFO */
#define RDS_ROLE_INPUT_MAX	(1024 * 1024)	/* a whole reply */

/*
 * Parse the text of INFO replication (and/or INFO cluster: the same
 * "key:value\r\n" lines, '#' comments) into out (zeroed first): role
 * (role:master / role:slave; absent: unknown), master_host, master_port,
 * master_link_status, connected_slaves, cluster_enabled.  Unknown keys
 * are skipped.  Returns 0, or -1 with ERR_NET naming what is wrong (a
 * line too long, a bad role, a bad number, a host too long, input too
 * large).
 */
int	rds_role_parse_info(const char *buf, size_t len,
	    struct rds_role_info *out, struct err *e);

/*
 * Parse CLUSTER NODES text: the line whose flags hold "myself" sets
 * out->role from its flags (master: primary, slave: replica, neither:
 * unknown); other fields of out are kept.  Returns 0, or -1 with
 * ERR_NET (no "myself" line, a line too long or without flags, input
 * too large).
 */
int	rds_role_parse_cluster_nodes(const char *buf, size_t len,
	    struct rds_role_info *out, struct err *e);

#endif
