/*
 * service/: the CA lifecycle's operations (SPEC section 10), a part of
 * svc.h kept in its own file (svc.h includes it; include svc.h).
 * Same rules as svc.h: e may be NULL, every function is thread-safe.
 */
#ifndef RCA_SVC_ROLL_H
#define RCA_SVC_ROLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "rca_limits.h"
#include "types.h"

struct svc;
struct svc_actor;

/* ---- CA lifecycle: rollover (SPEC section 10) ---- */

/*
 * POST /v1/ca/prepare and `redis-ca ca prepare`.  Exactly one way:
 * cert_pem (complete the pending CA, or import a CA signed outside,
 * verified against chain_pem's roots, else against the current CA's
 * anchors), csr_only (a key and a CSR now, state pending), the root
 * key and certificate (CLI only: a two-tier intermediate signed by the
 * root), or none of those: a self-signed CA like the current one (one
 * tier) or, when the current CA is not self-signed, refused (the root
 * key is needed).  Strings are borrowed for the call.
 */
struct svc_ca_prepare_req {
	enum key_type	 key_type;	/* when key_type_set */
	bool		 key_type_set;	/* false: the current CA's type */
	int		 days;		/* 0: the default (5 years) */
	const char	*root_cert_path; /* CLI only */
	const char	*root_key_path;	/* CLI only */
	const char	*root_pass_file; /* CLI only; NULL: not encrypted */
	bool		 csr_only;
	const char	*cert_pem;	/* NULL: none */
	const char	*chain_pem;	/* NULL: none */
};

/* One node's bundle push (prepare, retire) or rotation (activate). */
struct svc_ca_node_result {
	char	*name;			/* new */
	bool	 ok;
	char	 detail[256];
};

/*
 * What a phase did: the nodes it pushed to (or rotated), the CSR of a
 * pending CA (prepare with csr_only), and for ERR_CA_IN_USE the first
 * serials (at most SVC_CA_SERIALS_MAX) and their count.  All new:
 * svc_ca_result_clear().
 */
#define SVC_CA_SERIALS_MAX	100
struct svc_ca_result {
	struct svc_ca_node_result *nodes;
	size_t		 nnodes;
	char		*csr_pem;
	char		(*serials)[RCA_SERIAL_HEX_MAX + 1];
	size_t		 nserials;
	size_t		 count;
};

/* Free what r holds and zero it.  NULL ok. */
void	svc_ca_result_clear(struct svc_ca_result *r);

/* Append a node's result to r (name copied); false when out of memory. */
bool	svc_ca_result_add(struct svc_ca_result *r, const char *name, bool ok,
	    const char *detail);

/*
 * The nodes whose recorded bundle is not the current one, in name
 * order (*names new: svc_ca_names_free()).  Errors: ERR_INTERNAL.
 */
int	svc_ca_stale_nodes(struct svc *s, char ***names, size_t *n,
	    struct err *e);
void	svc_ca_names_free(char **names, size_t n);

/*
 * Prepare the next CA (admin): key and certificate files ca-next.* in
 * the folder of ca.key (ca-next.key only while pending), the row in
 * state next (or pending), the generation bumped, this instance's
 * snapshot reloaded, then the new bundle pushed to every registered
 * node (res->nodes; a failed push is retried by the scheduler and does
 * not fail the call).  Audited ca.prepare (denied ones too).
 * Errors: ERR_FORBIDDEN, ERR_INVALID_REQUEST (more than one way, a
 * root key over the API), ERR_CA_NEXT_EXISTS, ERR_CA_RETIRE_PENDING,
 * ERR_INVALID_CHAIN, ERR_KEY_REJECTED, ERR_READ_ONLY, ERR_INTERNAL.
 */
int	svc_ca_prepare(struct svc *s, const struct svc_actor *a,
	    const struct svc_ca_prepare_req *req, struct svc_ca_result *res,
	    struct err *e);

/*
 * Activate the prepared CA (admin): refused while a registered node
 * has not got the current bundle (ERR_CONFLICT naming them) unless
 * force.  One transaction: current -> retired, next -> current, every
 * node due, generation bumped; then the files renamed (ca.* ->
 * ca-prev.*, ca-next.* -> ca.*, roots.pem), the snapshot reloaded, the
 * instance's own certificates re-issued, the scheduler woken to rotate
 * the nodes.  res->nodes: the nodes marked due (ok false, "due").
 * Audited ca.activate.  Errors: ERR_FORBIDDEN, ERR_CA_NOT_PREPARED,
 * ERR_CONFLICT, ERR_READ_ONLY, ERR_INTERNAL.
 */
int	svc_ca_activate(struct svc *s, const struct svc_actor *a, bool force,
	    struct svc_ca_result *res, struct err *e);

/*
 * Retire the previous CA (admin): refused while it has unexpired,
 * unrevoked certificates (ERR_CA_IN_USE, res->serials and res->count)
 * unless force, which revokes them first (cessationOfOperation).  The
 * row becomes gone, the generation is bumped, ca-prev.* deleted, the
 * bundle pushed to every node (res->nodes).  Audited ca.retire.
 * Errors: ERR_FORBIDDEN, ERR_CA_NOTHING_TO_RETIRE, ERR_CA_IN_USE,
 * ERR_READ_ONLY, ERR_INTERNAL.
 */
int	svc_ca_retire(struct svc *s, const struct svc_actor *a, bool force,
	    struct svc_ca_result *res, struct err *e);

/*
 * Push the current bundle to every node whose recorded bundle differs
 * (skipping nodes busy with a rotation), as a; results in res (may be
 * NULL).  Returns the number of nodes that failed.  The scheduler's
 * leader calls it on every tick; the CLI calls it when serve does not
 * run.
 */
int	svc_ca_push_stale(struct svc *s, const struct svc_actor *a,
	    struct svc_ca_result *res);

/*
 * deferred: the phases change the database and the CA's files only;
 * the bundle pushes are left to the `serve` that runs beside (the CLI
 * while serve runs).  Default false.
 */
void	svc_ca_set_deferred(struct svc *s, bool deferred);

/*
 * Every instance checks the CA generation at least this often
 * (seconds): svc_tick() never asks to sleep longer.
 */
#define SVC_CA_TICK	5

/*
 * The CA generation this instance last loaded, and a check of the
 * database's: when it changed, the files are reconciled and the
 * snapshot reloaded (svc_tick() calls it; PostgreSQL NOTIFY wakes it).
 * Returns 1 when it reloaded, 0 when nothing changed, -1 on error.
 */
int	svc_ca_watch(struct svc *s, struct err *e);

/*
 * A counter bumped every time the instance's API certificate files
 * (svc_config.api_cert, api_key) were replaced: the API listener
 * reloads its certificate when it changes.  Thread-safe, no I/O.
 */
uint64_t svc_api_cert_generation(struct svc *s);

/*
 * Re-issue tls/api.* and tls/admin.* from the current CA when they were
 * issued by another CA or are past two thirds of their life (force:
 * always); the replaced ones are revoked as superseded.  svc_tick()
 * calls it after a generation change and hourly.  Returns 1 when
 * something was replaced, 0 when nothing was due, -1 on error
 * (ERR_INTERNAL, ERR_UNAVAILABLE: no current key here).
 */
int	svc_selfcert_refresh(struct svc *s, bool force, struct err *e);

#endif
