/*
 * Private to the CA lifecycle (ca_files.c, ca_push.c, ca_roll.c,
 * selfcert.c): the paths and counters of one instance, the key and
 * certificate files of every CA, the pushes of the bundle to nodes.
 */
#ifndef RCA_CA_LIFE_INT_H
#define RCA_CA_LIFE_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "svc_int.h"

/* The file names of the next and the retired CA (design, "Files"). */
#define CF_NEXT_KEY	"ca-next.key"
#define CF_NEXT_CRT	"ca-next.crt"
#define CF_PREV_KEY	"ca-prev.key"
#define CF_PREV_CRT	"ca-prev.crt"
#define CF_ROOTS	"roots.pem"
#define CF_LOCK		"ca.lock"

/* Where a CA's files are, by its state. */
enum cf_slot {
	CF_SLOT_CUR,	/* ca.key, ca.crt (the configured names) */
	CF_SLOT_NEXT,	/* ca-next.key, ca-next.crt (pending, next) */
	CF_SLOT_PREV,	/* ca-prev.key, ca-prev.crt (retired) */
	CF_SLOT__MAX
};

/* What one instance keeps for the lifecycle (svc_life_init()). */
struct svc_life {
	char		*key_dir;	/* resolved folder of ca.key */
	char		*cert_dir;	/* resolved folder of ca.crt */
	char		 key_name[CF_SLOT__MAX][NAME_MAX + 1];
	char		 crt_name[CF_SLOT__MAX][NAME_MAX + 1];
	char		*pass_file;	/* NULL: keys not encrypted */
	char		*api_cert;	/* NULL: the API has no TLS */
	char		*api_key;
	char		*api_dir;	/* resolved folder of api_cert */
	atomic_uint_fast64_t api_gen;	/* svc_api_cert_generation() */
	atomic_uint_fast64_t seen_gen;	/* the CA generation loaded */
	atomic_bool	 seen_valid;	/* seen_gen was set */
	atomic_bool	 deferred;	/* svc_ca_set_deferred() */
	int64_t		 selfcert_at;	/* next check (scheduler only) */
	int64_t		 push_at;	/* next stale push (scheduler only) */
	int		 push_fails;	/* stale pushes failed in a row */
	int64_t		 key_retry_at;	/* a current key that did not load */
	/* The API certificate file as last seen (scheduler only). */
	bool		 api_seen;
	ino_t		 api_ino;
	struct timespec	 api_mtim;
	pthread_mutex_t	 mu;		/* one phase at a time here */
};

/*
 * Start and free s->life (svc_open(), svc_close()): copies the paths
 * of cfg and resolves the folders.  Errors: ERR_CONFIG (a folder that
 * does not resolve), ERR_INTERNAL.
 */
int	svc_life_init(struct svc *s, const struct svc_config *cfg,
	    struct err *e);
void	svc_life_fini(struct svc *s);

/* The lock of the CA's files, held by one process at a time. */
struct cf_lock {
	int	kdir;		/* folder of ca.key, or -1 */
	int	cdir;		/* folder of ca.crt, or -1 */
	int	fd;		/* <key dir>/ca.lock with flock, or -1 */
};

/*
 * Open the two folders (no link on the way) and take flock on
 * <key dir>/ca.lock, waiting for another holder.  Errors: ERR_IO.
 */
int	cf_lock(struct svc *s, struct cf_lock *l, struct err *e);
void	cf_unlock(struct cf_lock *l);

/* The path of a slot's key file into out (RCA_MAX_PATH). */
int	cf_key_path(struct svc *s, enum cf_slot slot, char *out,
	    struct err *e);

/* Is a slot's key file there?  1 yes, 0 no, -1 cannot tell. */
int	cf_key_exists(struct svc *s, enum cf_slot slot);

/*
 * A ca-next.key left by nobody (no pending or next CA: the caller
 * checked, l held) moved aside as ca-next.key.orphan, so that a new
 * next key can be made.  Missing is fine.  -1 when it cannot move.
 */
int	cf_next_aside(struct svc *s, struct cf_lock *l);

/*
 * Remove the next CA's files (a prepare that failed after its key was
 * made), l held.  Missing files are fine.
 */
void	cf_remove_next(struct cf_lock *l);

/*
 * Make the files match the rows (l held): keys matched to rows by
 * their public key and renamed to their state's names, certificates
 * rewritten from the rows, roots.pem for a current CA that is not
 * self-signed, the files of a CA no longer in the rows removed.
 */
int	cf_reconcile_locked(struct svc *s, struct cf_lock *l,
	    const struct ca_rec *rows, size_t n, struct err *e);

/* A self-signed CA (its own anchor): one tier, no roots.pem. */
bool	cf_one_tier(const struct ca_rec *r);

/* The slot of a state (CF_SLOT__MAX for gone). */
enum cf_slot cf_slot_of(enum ca_state st);

/*
 * The lifecycle's part of svc_tick() (ca_tick.c): the generation
 * watch, the own certificates, and on the leader the stale pushes.
 * Returns the seconds until it wants the next tick (at most 5).
 */
int64_t	svc_life_tick(struct svc *s, const struct svc_actor *sched,
	    bool leader, int64_t now);

/* ---- pushes of the bundle (ca_push.c) ---- */

/*
 * Push bundle (etag) to node name: mark it busy (a rotation running:
 * ok false, "busy"), write its ca_file (previous kept as .prev),
 * CONFIG SET tls-ca-cert-file, verify a new connection against the
 * bundle and PING; on failure restore the file and CONFIG SET again.
 * Records nodes.bundle_etag on success; audited node.bundle.  r gets
 * the name, ok and detail.  Returns 0 when pushed.
 */
int	ca_push_node(struct svc *s, const struct svc_actor *a,
	    const char *name, const char *bundle, const char *etag,
	    bool rotated_only, struct svc_ca_node_result *r);

/*
 * svc_ca_push_stale() for the scheduler: rotated_only skips the nodes
 * never rotated (their first rotation, due at once, writes the
 * bundle), so a node just registered is not raced for its mark.
 * Returns the number of nodes that failed.
 */
int	ca_push_stale(struct svc *s, const struct svc_actor *a,
	    struct svc_ca_result *res, bool rotated_only);

/*
 * A rotation wrote pem (the bundle of the snapshot it issued from) as
 * node's ca_file: record its ETag when it is still the current bundle.
 */
void	ca_push_note_written(struct svc *s, const char *node,
	    const char *pem);


#endif
