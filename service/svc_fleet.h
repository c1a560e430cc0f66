/*
 * Fleets (SPEC section 11), included by svc.h: groups of nodes rotated
 * replicas first and primary last, the groups' listing, the spread of
 * due times (jitter), and the scheduler's in-flight count.  Drift
 * (NODE_DRIFT) is a node status of svc.h; the scheduler finds it
 * (service/drift.c).
 */
#ifndef RCA_SVC_FLEET_H
#define RCA_SVC_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* rotation.max_parallel: default and bounds. */
#define SVC_MAX_PARALLEL_DEFAULT	4
#define SVC_MAX_PARALLEL_MAX		64

/* A member's role as last seen ("primary", "replica", "" unknown). */
#define SVC_ROLE_MAX	16

/* ---- group rotation: POST /v1/groups/{group}/rotate ---- */

/* A member the group rotation did not rotate, and why. */
struct svc_group_skip {
	char	node[RCA_MAX_NODE_NAME + 1];
	char	role[SVC_ROLE_MAX];	/* as read for the order */
	char	reason[64];		/* "pull mode", "stopped", ... */
};

struct svc_group_result {
	char			 group[RCA_MAX_NODE_NAME + 1];
	bool			 stopped;	/* a rotation did not succeed */
	struct rotation_rec	*recs;		/* new: in the order run */
	size_t			 n;
	struct svc_group_skip	*skipped;	/* new: in order */
	size_t			 nskipped;
};

/* Free what r holds and zero it.  NULL ok. */
void	svc_group_result_clear(struct svc_group_result *r);

/*
 * Rotate the push members of group (its effective name: a node without
 * a group is its own) one at a time with svc_rotate(): each member's
 * role is read live (the admin certificate; one that cannot be reached
 * is unknown), replicas and unknown first by name, primaries last by
 * name.  The first rotation that does not succeed stops the group:
 * later members are untouched and listed as skipped ("stopped").  Pull
 * members are never rotated by the CA (skipped, "pull mode").  A
 * member busy before the start refuses the whole group (ERR_CONFLICT,
 * nothing rotated).  Audited as group.rotate (object = group, detail:
 * the order and the outcome).
 *
 * Returns 0 when every push member succeeded (out->stopped false).
 * Stopped: -1 with ERR_ROTATION_FAILED and *out filled.  Other errors
 * (out empty): ERR_FORBIDDEN, ERR_NOT_FOUND (no member, or a name that
 * is not a valid group name), ERR_CONFLICT, ERR_INTERNAL.
 */
int	svc_group_rotate(struct svc *s, const struct svc_actor *a,
	    const char *group, struct svc_group_result *out, struct err *e);

/* ---- GET /v1/groups ---- */

struct svc_group_member {
	char			name[RCA_MAX_NODE_NAME + 1];
	char			role[SVC_ROLE_MAX];	/* last seen */
	enum node_mode		mode;
	enum node_status	status;
};

struct svc_group {
	char			 group[RCA_MAX_NODE_NAME + 1];
	/* The worst of its members: rotation_failed > drift > expiring >
	 * unknown > ok. */
	enum node_status	 status;
	struct svc_group_member	*members;	/* new: by name */
	size_t			 n;
};

/*
 * Every effective group, by name, with its members.  *out is new
 * (svc_group_list_free()).  Errors: ERR_INTERNAL.
 */
int	svc_group_list(struct svc *s, struct svc_group **out, size_t *n,
	    struct err *e);
void	svc_group_list_free(struct svc_group *list, size_t n);

/*
 * The worse of two node statuses for a group: rotation_failed > drift >
 * expiring > unknown > ok.
 */
enum node_status svc_node_status_worst(enum node_status a,
	    enum node_status b);

/* ---- GET /v1/nodes?status= ---- */

/*
 * svc_node_list() of the nodes whose status is st only.  Paging as
 * svc_node_list(): a page may hold fewer than limit nodes while next is
 * set (the nodes looked at are bounded per call); go on from next.
 * Errors: ERR_INVALID_REQUEST (limit, st out of range), ERR_INTERNAL.
 */
int	svc_node_list_status(struct svc *s, enum node_status st,
	    const char *after, size_t limit, struct svc_node_view **out,
	    size_t *n, char next[RCA_MAX_NODE_NAME + 1], struct err *e);

/* "ok", "expiring", ... into *st; false for another word. */
bool	svc_node_status_parse(const char *word, enum node_status *st);

/* ---- the scheduler ---- */

/*
 * The jitter of a node's due time: a stable pseudo-random share of up
 * to 10% of its certificate's lifetime, from SHA-256(name || serial),
 * so that a fleet issued together spreads and a node's due time does
 * not move between passes.  The scheduler rotates a node
 * renew_window + jitter before its not_after.  0 <= result <=
 * life / 10.
 */
int64_t	svc_node_jitter(const char *name, const char *serial, int64_t life);

/*
 * Rotations running in this process now (the metric
 * redisca_rotations_in_flight), and the most seen at once since
 * svc_open() (tests).
 */
int64_t	svc_rotations_in_flight(struct svc *s);
int64_t	svc_rotations_in_flight_peak(struct svc *s);

#endif
