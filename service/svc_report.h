/*
 * Pull mode (SPEC section 11): a node renewed by `redis-ca enroll
 * --daemon --redis` on its own host reports what it did
 * (svc_node_report, report.c), and the local steps that daemon runs
 * against its Redis (svc_pull_*, pull.c: no struct svc, no database).
 * Included by svc.h.
 */
#ifndef RCA_SVC_REPORT_H
#define RCA_SVC_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "rca_limits.h"
#include "records.h"

struct svc;
struct svc_actor;
struct svc_node_view;

/* What a pull node reports (POST /v1/nodes/report, decoded by api/). */
enum svc_report_status {
	SVC_REPORT_CHECK,	/* "check": a check-in, nothing rotated */
	SVC_REPORT_SUCCEEDED,	/* "succeeded" */
	SVC_REPORT_ROLLED_BACK,	/* "rolled_back" */
	SVC_REPORT_FAILED,	/* "failed" */
	SVC_REPORT__MAX
};

/* "check", "succeeded", ...; parse: -1 when unknown. */
const char *svc_report_status_name(enum svc_report_status st);
int	svc_report_status_parse(const char *s, enum svc_report_status *out);

/*
 * The request.  Plain data (no pointers): api/ fills it from the JSON
 * body, bounded by the array sizes ("" for an absent string, 0 for an
 * absent time).
 */
struct svc_node_report_req {
	char			 name[RCA_MAX_NODE_NAME + 1]; /* "": the CN */
	char			 host[256];	/* "redis": host */
	int			 port;		/*   and port */
	char			 group[RCA_MAX_NODE_NAME + 1]; /* "": own */
	char			 role[16];	/* "", primary, replica */
	enum svc_report_status	 status;
	char			 old_serial[RCA_SERIAL_HEX_MAX + 1];
	char			 new_serial[RCA_SERIAL_HEX_MAX + 1];
	char			 served_serial[RCA_SERIAL_HEX_MAX + 1];
	int64_t			 started_at;
	int64_t			 finished_at;
	struct rotation_step	 steps[ROT_MAX_STEPS];
	size_t			 nsteps;
};

/*
 * A pull node's report.  a must be the ACTOR_MTLS actor of the HTTPS
 * client certificate (svc_auth_cert(): valid, known, unrevoked, from a
 * CA of the bundle); its profile must grant serverAuth (a node
 * profile) and the node name (req->name, or the CN when empty) must be
 * the certificate's CN.  new_serial (a rotation) and served_serial must
 * be certificates this CA issued for that CN.  Upserts the pull node
 * (db_node_report), stores the rotation record unless status is
 * "check", updates the served serial and drift, audits node.report
 * (refusals audited denied with their code) and fills out with the
 * node's view.
 * Errors: ERR_UNAUTHORIZED (no client certificate), ERR_FORBIDDEN (not
 * a node certificate, name is not the CN), ERR_INVALID_REQUEST (names
 * the field), ERR_CONFLICT (a push node has that name), ERR_INTERNAL,
 * ERR_UNAVAILABLE, ERR_READ_ONLY.
 */
int	svc_node_report(struct svc *s, const struct svc_actor *a,
	    const struct svc_node_report_req *req, struct svc_node_view *out,
	    struct err *e);

/* ---- the pull daemon's local steps (pull.c) ---- */

/* How the daemon reaches its own Redis.  Strings are borrowed. */
struct svc_pull_opts {
	const char	*host;		/* --redis HOST */
	int		 port;		/*   PORT */
	const char	*server_name;	/* name to verify; NULL: host */
	const char	*user;		/* --redis-user, or NULL */
	const char	*password_file;	/* --redis-auth-file, or NULL */
	const char	*ca_file;	/* anchors: the bundle (absolute) */
	/* What Redis is told to load (absolute paths). */
	const char	*cert_file;
	const char	*key_file;
	/* The pair the first (admin) connection presents. */
	const char	*client_cert;
	const char	*client_key;
	int		 timeout_ms;	/* <= 0: the redis/ default */
};

/*
 * Restore the previous files (the *.prev copies) for a rollback.
 * Errors: any; the message is recorded in the rollback step.
 */
typedef int (*svc_pull_restore_fn)(void *arg, struct err *e);

/*
 * Read the password of o->password_file (when set): opened O_NOFOLLOW,
 * checked with fstat to be a regular file of ours with no access for
 * group or others, one line, at most 512 bytes.  *out is new (wipe and
 * free) or NULL when there is no file.  Never logged.
 * Errors: ERR_IO (names the file and the reason, never its content).
 */
int	svc_pull_password(const struct svc_pull_opts *o, char **out,
	    struct err *e);

/*
 * A live check: a TLS connection to o's Redis (anchors o->ca_file,
 * client pair o->client_cert/key, AUTH), PING, and the serial it
 * serves into served; role (may be NULL) gets "primary", "replica" or
 * "" (unknown, or INFO not allowed).  Errors: ERR_NET, ERR_CRYPTO,
 * ERR_IO.
 */
int	svc_pull_served(const struct svc_pull_opts *o,
	    char served[RCA_SERIAL_HEX_MAX + 1], char role[16],
	    struct err *e);

/*
 * Load the files just written into Redis and prove it serves them:
 * steps (appended to rec, which the caller started with its
 * write_files step) connect (o's admin connection, AUTH), config_set
 * (CONFIG SET tls-cert-file tls-key-file tls-ca-cert-file), and
 * verify_serial (a NEW TLS connection presenting o->cert_file/key_file,
 * anchors o->ca_file: the served serial must be rec->new_serial, and
 * PING must answer).  When config_set or verify_serial fails: rollback
 * (restore(arg), CONFIG SET the same paths again, now holding the
 * previous files, and a new connection must see rec->old_serial
 * served) and rec->status ROT_ROLLED_BACK; ROT_FAILED when Redis does
 * not serve rec->old_serial then (or it is ""), or no connection was
 * made.  ROT_SUCCEEDED otherwise.  rec->finished_at is set.  Returns 0 on success, -1 (e:
 * the first failure) otherwise.
 */
int	svc_pull_load(const struct svc_pull_opts *o, struct rotation_rec *rec,
	    svc_pull_restore_fn restore, void *arg, struct err *e);

/*
 * Only CONFIG SET tls-ca-cert-file o->ca_file (the bundle changed).
 * Errors: ERR_NET, ERR_CRYPTO, ERR_IO.
 */
int	svc_pull_set_ca(const struct svc_pull_opts *o, struct err *e);

/* Append a step to rec (ignored when full). */
void	svc_pull_step(struct rotation_rec *rec, const char *step, bool ok,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
