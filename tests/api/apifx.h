/*
 * The start-up the api tests share: shell steps that must succeed, a
 * throwaway CA (and the API's server pair, the admin client pair) made
 * by the openssl command line, the service configuration they start
 * from, an admin and an enroll token, and api_start() that must work.
 */
#ifndef RCA_TEST_APIFX_H
#define RCA_TEST_APIFX_H

#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "svc.h"

/* Room for a token's secret. */
#define AFX_TOKEN_LEN	128

/* Room for a listener's URL. */
#define AFX_URL_LEN	64

/*
 * What every HTTP test's fixture holds, as its first member (so that
 * afx_teardown() finds it): its folder, the service and the api on it,
 * the tokens and the listeners' URLs.
 */
struct afx {
	char		 dir[64];		/* a new temp folder */
	struct svc	*svc;
	struct api	*api;
	char		 admin[AFX_TOKEN_LEN];	/* an admin token */
	char		 enroll[AFX_TOKEN_LEN];	/* redis-client, 5 uses */
	char		 base[AFX_URL_LEN];	/* the api listener */
	char		 pub[AFX_URL_LEN];	/* the public listener */
};

/* What afx_pki() makes besides the CA. */
enum {
	AFX_API = 1 << 0,	/* api.crt/api.key: serverAuth, IP 127.0.0.1 */
	AFX_ADMIN = 1 << 1	/* admin.crt/admin.key (0400): clientAuth,
				 * CN redis-ca-admin */
};

/* Run the shell command made from fmt; it must exit 0. */
void	afx_sh(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/*
 * In dir: ca.crt and ca.key (0400), a P-256 CA named cn with
 * pathlen:0, and the pairs it signs that what asks for (AFX_*).
 */
void	afx_pki(const char *dir, const char *cn, unsigned what);

/*
 * *sc and *prof as the api tests start from: the CA crt/key and the
 * database db (all borrowed), one profile "redis-client" (client
 * auth, P-256, one hour by default, one day at most), a one-day CRL
 * refreshed an hour early, rotation checks every minute at 33 %.
 */
void	afx_svc_config(struct svc_config *sc, struct profile *prof,
	    const char *crt, const char *key, const char *db);

/*
 * Into admin, an admin token of one use; into enroll (may be NULL),
 * an enroll token of five uses for redis-client names matching
 * pattern.  Both AFX_TOKEN_LEN bytes.
 */
void	afx_tokens(struct svc *s, const char *pattern, char *admin,
	    char *enroll);

/*
 * *ac as the api tests start from: both listeners on 127.0.0.1 on
 * ports the kernel picks, max_body bytes, max_conns connections, two
 * threads, no TLS.
 */
void	afx_api_config(struct api_config *ac, size_t max_body,
	    unsigned max_conns);

/* TLS on ac's api listener: its pair crt/key, client certs from ca. */
void	afx_api_tls(struct api_config *ac, const char *crt, const char *key,
	    const char *ca);

/* api_start(s, ac), or fail the test; the api (api_stop()). */
struct api *afx_start(struct svc *s, const struct api_config *ac);

/*
 * a's URLs, "http://127.0.0.1:port" (https for the api listener when
 * tls): the api listener's into base, the public one's into pub (may
 * be NULL), each AFX_URL_LEN bytes.
 */
void	afx_urls(const struct api *a, bool tls, char *base, char *pub);

/* x->dir: a new folder made from tmpl ("/tmp/rca-NAME-XXXXXX"). */
void	afx_mkdir(struct afx *x, const char *tmpl);

/*
 * x->svc opened on sc, or fail the test; with pattern (not NULL) the
 * tokens (afx_tokens(): admin, and enroll for pattern).
 */
void	afx_open(struct afx *x, const struct svc_config *sc,
	    const char *pattern);

/* x->api started on x->svc with ac, and its URLs (afx_urls()). */
void	afx_serve(struct afx *x, const struct api_config *ac);

/* api_stop(a), svc_close(s) and rm -rf dir. */
void	afx_stop(struct api *a, struct svc *s, const char *dir);

/*
 * cmocka teardown of a fixture (malloc'd) whose first member is a
 * struct afx: afx_stop() on it, then free.
 */
int	afx_teardown(void **state);

#endif
