/*
 * Part of service/'s public interface (svc.h includes it): what the API
 * and the metrics read of the CAs (SPEC section 10): the views of every
 * CA that is not gone, the bundle without a copy, per-CA figures.  All
 * of it borrows from a CA snapshot the caller's struct holds a
 * reference to.  Thread-safe.
 */
#ifndef RCA_SVC_CA_H
#define RCA_SVC_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "rca_limits.h"
#include "types.h"

struct svc;

/* ca/'s RCA_ETAG_MAX, which svc.h cannot include (cas.c checks). */
#define SVC_ETAG_MAX	48

/*
 * Every CA that is not gone (SPEC section 10, GET /v1/ca): one view per
 * CA, ordered current, next (or pending), retired.  Strings borrowed
 * from the snapshot v->ref holds (valid until svc_ca_view_clear()).
 */
struct svc_ca_view_ent {
	int64_t		 id;
	const char	*ski;		/* lowercase hex */
	const char	*state;		/* "pending", "next",
					   "current", "retired" */
	const char	*certificate;	/* its cert PEM; NULL: pending */
	const char	*chain;		/* cert + intermediates PEM;
					   "" when self-signed */
	const char	*anchors;	/* the anchors' PEM */
	const char	*csr;		/* pending only, else NULL */
	int64_t		 not_before;	/* 0: pending */
	int64_t		 not_after;	/* 0: pending */
	char		 fingerprint[RCA_SHA256_HEX + 1]; /* "" : pending */
	enum key_type	 key_type;
	int64_t		 created_at;
	int64_t		 activated_at;	/* 0: never (null) */
	char		*crl_url;	/* new; NULL: pending */
	/* Unrevoked, unexpired; counted at most 10 s ago (public route). */
	int64_t		 certificates_unexpired;
	bool		 has_key;	/* this instance holds its key */
};
struct svc_ca_view {
	struct svc_ca_view_ent	*ca;	/* new, n of them */
	size_t			 n;
	size_t			 current;	/* the current CA's index */
	char			 bundle_etag[SVC_ETAG_MAX];
	uint64_t		 generation;
	void			*ref;	/* one snapshot reference */
};
/*
 * Fill v (one count query per CA).  Errors: ERR_INTERNAL (a database
 * failure is logged).
 */
int	svc_ca_view(struct svc *s, struct svc_ca_view *v, struct err *e);
void	svc_ca_view_clear(struct svc_ca_view *v);

/*
 * The bundle (GET /v1/ca/bundle.pem, ca_file of the nodes,
 * ca_certificate of issuance): the anchors of the CAs in state next,
 * current and retired, without a copy: pem borrowed while ref is held
 * (svc_bundle_unref()).  etag: "\"" + 32 hex of SHA-256(pem) + "\"".
 * Never fails once svc_open() returned.
 */
struct svc_bundle {
	const char	*pem;		/* borrowed: while ref is held */
	size_t		 len;
	char		 etag[SVC_ETAG_MAX];
	void		*ref;		/* one snapshot reference */
};
void	svc_bundle_get(struct svc *s, struct svc_bundle *out);
void	svc_bundle_unref(struct svc_bundle *b);

/*
 * Drop a snapshot reference moved out of a struct svc_ca_info,
 * svc_ca_view or svc_bundle (an HTTP response's release callback: the
 * strings stay valid until then).  NULL is fine.
 */
void	svc_ca_ref_put(void *ref);

/*
 * Per-CA figures for /metrics: every CA in the bundle (next, current,
 * retired).  out is new (free()); *n of them.  Errors: ERR_INTERNAL.
 */
struct svc_ca_metric {
	char		 ski[RCA_SKI_HEX_MAX + 1];
	const char	*state;		/* static: "current", ... */
	enum key_type	 key_type;
	int64_t		 not_after;
};
int	svc_ca_metrics(struct svc *s, struct svc_ca_metric **out, size_t *n,
	    size_t *nodes_stale, struct err *e);

#endif
