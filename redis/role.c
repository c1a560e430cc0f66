/*
 * rds_role_read(): ask a node for its place in replication (INFO
 * replication, INFO cluster, and CLUSTER NODES in a cluster) and parse
 * the answers with redis/role_parse.c.  Replies are capped by the
 * connection (o->max_reply_bytes).
 */
#include <string.h>

#include "rds_int.h"
#include "role.h"

/*
 * Run a command whose answer is a bulk string (INFO, CLUSTER NODES);
 * *out new (rds_reply_free()).  An error reply is ERR_NET with Redis's
 * (cleaned) message.
 */
static int
text_command(struct rds_conn *c, const char *what, int argc,
    const char **argv, struct rds_reply **out, struct err *e)
{
	struct rds_reply *r = NULL;
	char text[160];

	*out = NULL;
	if (rds_command(c, argc, argv, NULL, &r, e) == -1)
		return -1;
	if (r->type == RDS_REPLY_ERROR) {
		rds_clean_text(r, text, sizeof(text));
		err_set(e, ERR_NET, "%s refused by %s: %s", what, c->where,
		    text);
		goto fail;
	}
	if (r->type != RDS_REPLY_STRING) {
		err_set(e, ERR_NET, "%s: unexpected reply from %s", what,
		    c->where);
		goto fail;
	}
	*out = r;
	return 0;
fail:
	rds_reply_free(r);
	return -1;
}

int
rds_role_read(struct rds_conn *c, struct rds_role_info *out, struct err *e)
{
	const char *repl[] = { "INFO", "replication" };
	const char *clus[] = { "INFO", "cluster" };
	const char *nodes[] = { "CLUSTER", "NODES" };
	struct rds_role_info cl;
	struct rds_reply *r = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (text_command(c, "INFO replication", 2, repl, &r, e) == -1 ||
	    rds_role_parse_info(r->str, r->len, out, e) == -1)
		goto out;
	rds_reply_free(r);
	if (text_command(c, "INFO cluster", 2, clus, &r, e) == -1 ||
	    rds_role_parse_info(r->str, r->len, &cl, e) == -1)
		goto out;
	rds_reply_free(r);
	r = NULL;
	out->cluster = cl.cluster;
	if (out->cluster && (text_command(c, "CLUSTER NODES", 2, nodes, &r,
	    e) == -1 || rds_role_parse_cluster_nodes(r->str, r->len, out,
	    e) == -1))
		goto out;
	rc = 0;
out:
	rds_reply_free(r);
	if (rc == -1)
		memset(out, 0, sizeof(*out));
	return rc;
}
