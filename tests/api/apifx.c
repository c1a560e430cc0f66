/*
 * The api tests' shared start-up (apifx.h): one copy of the openssl
 * steps, the service configuration and the tokens the HTTP tests
 * begin with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apifx.h"

void
afx_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		fail_msg("shell command too long");
	assert_int_equal(system(cmd), 0);
}

/* In dir, name.key and name.crt: a P-256 pair for cn signed by the CA. */
static void
leaf(const char *dir, const char *name, const char *cn, const char *ext)
{
	afx_sh("cd %s && printf '%s' > %s.ext && "
	    "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout %s.key -subj /CN=%s -out %s.csr 2>/dev/null && "
	    "openssl x509 -req -in %s.csr -CA ca.crt -CAkey ca.key "
	    "-CAcreateserial -days 30 -extfile %s.ext -out %s.crt "
	    "2>/dev/null", dir, ext, name, name, cn, name, name, name, name);
}

void
afx_pki(const char *dir, const char *cn, unsigned what)
{
	afx_sh("cd %s && openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt "
	    "-days 30 -subj /CN=%s -addext "
	    "basicConstraints=critical,CA:TRUE,pathlen:0 -addext "
	    "keyUsage=critical,keyCertSign,cRLSign 2>/dev/null && "
	    "chmod 0400 ca.key", dir, cn);
	if (what & AFX_API)
		leaf(dir, "api", "localhost", "subjectAltName=IP:127.0.0.1\\n"
		    "extendedKeyUsage=serverAuth\\n");
	if (what & AFX_ADMIN) {
		leaf(dir, "admin", "redis-ca-admin",
		    "extendedKeyUsage=clientAuth\\n");
		afx_sh("chmod 0400 %s/admin.key", dir);
	}
}

void
afx_svc_config(struct svc_config *sc, struct profile *prof,
    const char *crt, const char *key, const char *db)
{
	memset(prof, 0, sizeof(*prof));
	strcpy(prof->name, "redis-client");
	prof->eku = EKU_CLIENT_AUTH;
	prof->default_ttl = 3600;
	prof->max_ttl = 86400;
	prof->key_types = KEY_BIT(KEY_EC_P256);
	memset(sc, 0, sizeof(*sc));
	sc->ca_cert = crt;
	sc->ca_key = key;
	sc->database = db;
	sc->public_url = "http://127.0.0.1:1";
	sc->crl_validity = 86400;
	sc->crl_refresh_before = 3600;
	sc->rotation_check_interval = 60;
	sc->rotation_renew_before_pct = 33;
	sc->profiles = prof;
	sc->nprofiles = 1;
}

void
afx_tokens(struct svc *s, const char *pattern, char *admin, char *enroll)
{
	struct svc_token_req tr = { 0 };
	struct svc_actor cli;
	struct token_rec rec;
	char buf[128], *pat[1] = { buf };
	struct err e;

	svc_actor_init(&cli, ACTOR_CLI);
	tr.kind = TOKEN_ADMIN;
	tr.uses = 1;
	if (svc_token_create(s, &cli, &tr, &rec, admin, &e) != 0)
		fail_msg("admin token: %s", e.msg);
	token_rec_clear(&rec);
	if (enroll != NULL) {
		snprintf(buf, sizeof(buf), "%s", pattern);
		tr.kind = TOKEN_ENROLL;
		tr.profile = "redis-client";
		tr.patterns = pat;
		tr.npatterns = 1;
		tr.uses = 5;
		if (svc_token_create(s, &cli, &tr, &rec, enroll, &e) != 0)
			fail_msg("enroll token: %s", e.msg);
		token_rec_clear(&rec);
	}
	svc_actor_clear(&cli);
}

void
afx_api_config(struct api_config *ac, size_t max_body, unsigned max_conns)
{
	memset(ac, 0, sizeof(*ac));
	ac->api_listen = "127.0.0.1:0";
	ac->public_listen = "127.0.0.1:0";
	ac->max_body_bytes = max_body;
	ac->max_connections = max_conns;
	ac->threads = 2;
}

void
afx_api_tls(struct api_config *ac, const char *crt, const char *key,
    const char *ca)
{
	ac->api_tls = true;
	ac->tls_cert = crt;
	ac->tls_key = key;
	ac->tls_ca = ca;
}

struct api *
afx_start(struct svc *s, const struct api_config *ac)
{
	struct api *a;
	struct err e;

	if ((a = api_start(s, ac, &e)) == NULL)
		fail_msg("api_start: %s", e.msg);
	return a;
}

void
afx_urls(const struct api *a, bool tls, char *base, char *pub)
{
	snprintf(base, AFX_URL_LEN, "%s://127.0.0.1:%u", tls ? "https" :
	    "http", api_port(a));
	if (pub != NULL)
		snprintf(pub, AFX_URL_LEN, "http://127.0.0.1:%u",
		    api_public_port(a));
}

void
afx_stop(struct api *a, struct svc *s, const char *dir)
{
	api_stop(a);
	svc_close(s);
	afx_sh("rm -rf %s", dir);
}

void
afx_mkdir(struct afx *x, const char *tmpl)
{
	if (snprintf(x->dir, sizeof(x->dir), "%s", tmpl) >=
	    (int)sizeof(x->dir) || mkdtemp(x->dir) == NULL)
		fail_msg("mkdtemp %s", tmpl);
}

void
afx_open(struct afx *x, const struct svc_config *sc, const char *pattern)
{
	struct err e;

	if ((x->svc = svc_open(sc, &e)) == NULL)
		fail_msg("svc_open: %s", e.msg);
	if (pattern != NULL)
		afx_tokens(x->svc, pattern, x->admin, x->enroll);
}

void
afx_serve(struct afx *x, const struct api_config *ac)
{
	x->api = afx_start(x->svc, ac);
	afx_urls(x->api, ac->api_tls, x->base, x->pub);
}

int
afx_teardown(void **state)
{
	struct afx *x = *state;

	afx_stop(x->api, x->svc, x->dir);
	free(x);
	return 0;
}
