/*
 * Private to the rotation (rotate.c, rotate_conn.c): one rotation in
 * progress, and how it talks to its node.
 */
#ifndef RCA_ROTATE_INT_H
#define RCA_ROTATE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "fileset.h"
#include "rds.h"
#include "svc_int.h"

/* The three files, in the order they are written. */
enum rot_file {
	RF_KEY,
	RF_CERT,
	RF_CA,
	RF__MAX
};

/* One rotation in progress. */
struct rot {
	struct svc		*s;
	const struct svc_actor	*a;
	struct node_rec		 node;		/* as it was at the start */
	struct rotation_rec	*rec;		/* borrowed: the record */
	char			*password;	/* owned, wiped; NULL: none */
	struct rds_conn		*conn;		/* the connect step's */
	struct svc_issued	 iss;		/* the new certificate */
	bool			 issued;
	struct fset		 files;		/* in cert_dir (owned) */
	char			 path[RF__MAX][RCA_MAX_PATH]; /* Redis */
	bool			 config_sent;	/* a CONFIG SET went out */
	char			 served[RCA_SERIAL_HEX_MAX + 1]; /* at the
						 * end: what the node
						 * serves ("" unknown) */
};

/* Read the AUTH password (first line of the file) into r->password. */
int	rot_read_password(struct rot *r, struct err *e);

/* AUTH over c with the node's user and password; 0 when it has none. */
int	rot_auth(const struct rot *r, struct rds_conn *c, struct err *e);

/*
 * Open a verified connection and AUTH when asked and configured.
 * ignore_dates lets a node whose certificate expired (CA down for a
 * while) still be rotated and rolled back; the check that the NEW
 * certificate is served always verifies the dates.  Errors: ERR_NET.
 */
struct rds_conn *rot_node_open(const struct rot *r, bool auth,
	    bool ignore_dates, struct err *e);

/* The serial a connection's peer presents, normalised. */
int	rot_peer_serial(const struct rds_conn *c,
	    char out[RCA_SERIAL_HEX_MAX + 1], struct err *e);

/* CONFIG SET of the three paths (r->path) over c, in one command. */
int	rot_config_set(struct rot *r, struct rds_conn *c, struct err *e);

#endif
