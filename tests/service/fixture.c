/* The service tests' fixture: throwaway CA, fresh database, open service. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca.h"
#include "fileio.h"
#include "fixture.h"
#include "testdb.h"

static void
fx_profiles(struct profile p[2])
{
	unsigned all = KEY_BIT(KEY_EC_P256) | KEY_BIT(KEY_EC_P384) |
	    KEY_BIT(KEY_RSA_2048) | KEY_BIT(KEY_RSA_3072) |
	    KEY_BIT(KEY_RSA_4096);

	memset(p, 0, 2 * sizeof(*p));
	snprintf(p[0].name, sizeof(p[0].name), "redis-node");
	p[0].eku = EKU_SERVER_AUTH | EKU_CLIENT_AUTH;
	p[0].require_san = true;
	p[0].default_ttl = 72 * 3600;
	p[0].max_ttl = 30 * 86400;
	p[0].key_types = all;
	snprintf(p[1].name, sizeof(p[1].name), "redis-client");
	p[1].eku = EKU_CLIENT_AUTH;
	p[1].require_san = false;
	p[1].default_ttl = 24 * 3600;
	p[1].max_ttl = 7 * 86400;
	p[1].key_types = all;
}

static void
fx_open(struct fx *f)
{
	struct err e;

	err_clear(&e);
	f->svc = svc_open(&f->cfg, &e);
	if (f->svc == NULL)
		fail_msg("svc_open: %s: %s", err_code_name(e.code), e.msg);
}

int
fx_setup(void **state)
{
	struct fx		*f;
	struct ca_create_opts	 o;
	struct svc_token_req	 tr;
	struct token_rec	 t;
	struct err		 e;

	err_clear(&e);
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/rca-svc-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->cert, sizeof(f->cert), "%s/ca.crt", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/ca.key", f->dir);
	/* A SQLite file in f->dir, or a PostgreSQL URI (RCA_TEST_DB=pg). */
	if (tdb_database(f->dir, "redis-ca.db", f->db, sizeof(f->db)) == -1)
		fail_msg("the test's database");

	memset(&o, 0, sizeof(o));
	o.key_type = KEY_EC_P256;
	o.cn = "redis-ca test";
	o.days = 3650;
	if (ca_create_files(f->cert, f->key, &o, &e) == -1)
		fail_msg("ca_create_files: %s", e.msg);

	fx_profiles(f->profiles);
	f->cfg.ca_cert = f->cert;
	f->cfg.ca_key = f->key;
	f->cfg.database = f->db;
	f->cfg.public_url = "http://127.0.0.1:8080";
	f->cfg.crl_validity = 24 * 3600;
	f->cfg.crl_refresh_before = 8 * 3600;
	f->cfg.rotation_check_interval = 60;
	f->cfg.rotation_renew_before_pct = 33;
	f->cfg.profiles = f->profiles;
	f->cfg.nprofiles = 2;
	f->cfg.data_dir = f->dir;
	fx_open(f);

	svc_actor_init(&f->cli, ACTOR_CLI);
	memset(&tr, 0, sizeof(tr));
	tr.kind = TOKEN_ADMIN;
	tr.description = "fixture admin";
	if (svc_token_create(f->svc, &f->cli, &tr, &t, f->admin_token,
	    &e) == -1)
		fail_msg("admin token: %s", e.msg);
	token_rec_clear(&t);
	if (svc_auth_token(f->svc, f->admin_token, &f->admin, &e) == -1)
		fail_msg("admin auth: %s", e.msg);
	assert_int_equal(f->admin.kind, ACTOR_ADMIN);
	*state = f;
	return 0;
}

void
fx_reopen(struct fx *f)
{
	svc_close(f->svc);
	f->svc = NULL;
	fx_open(f);
}

int
fx_teardown(void **state)
{
	struct fx	*f = *state;
	DIR		*d;
	struct dirent	*de;
	char		 p[512];

	svc_actor_clear(&f->admin);
	svc_actor_clear(&f->cli);
	svc_close(f->svc);
	if ((d = opendir(f->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

void
fx_names(struct names *n, const char *cn, const char *dns)
{
	struct err e;

	err_clear(&e);
	memset(n, 0, sizeof(*n));
	assert_int_equal(names_set_cn(n, cn, &e), 0);
	if (dns != NULL)
		assert_int_equal(names_add(n, NAME_DNS, dns, &e), 0);
}

char *
fx_csr(const char *cn, const char *dns1, const char *dns2)
{
	struct names	 n = NAMES_INIT;
	struct ca_csr	*csr;
	struct err	 e;
	char		*key = NULL, *pem;

	err_clear(&e);
	fx_names(&n, cn, dns1);
	if (dns2 != NULL)
		assert_int_equal(names_add(&n, NAME_DNS, dns2, &e), 0);
	csr = ca_keygen(KEY_EC_P256, &n, &key, &e);
	if (csr == NULL)
		fail_msg("ca_keygen: %s", e.msg);
	pem = ca_csr_pem(csr, &e);
	assert_non_null(pem);
	fio_wipe(key, strlen(key));
	free(key);
	ca_csr_free(csr);
	names_clear(&n);
	return pem;
}

int
fx_issue_csr(struct svc *s, const struct svc_actor *a, const char *csr,
    int64_t ttl, struct svc_issued *out, struct err *e)
{
	struct svc_issue_req req;

	err_clear(e);
	memset(&req, 0, sizeof(req));
	req.profile = "redis-client";
	req.ttl = ttl;
	req.csr_pem = csr;
	req.csr_len = strlen(csr);
	return svc_issue(s, a, &req, out, e);
}

void
fx_issue(struct svc *s, const struct svc_actor *a, const char *cn,
    int64_t ttl, struct svc_issued *out)
{
	char		*csr = fx_csr(cn, NULL, NULL);
	struct err	 e;

	if (fx_issue_csr(s, a, csr, ttl, out, &e) == -1)
		fail_msg("svc_issue: %s", e.msg);
	free(csr);
}

void
fx_issue_serial(struct svc *s, const struct svc_actor *a, const char *cn,
    int64_t ttl, char *serial, size_t cap)
{
	struct svc_issued out;

	fx_issue(s, a, cn, ttl, &out);
	snprintf(serial, cap, "%s", out.cert.serial);
	svc_issued_clear(&out);
}

void
fx_generate(struct fx *f, const char *cn, int64_t ttl,
    struct svc_issued *out)
{
	struct svc_issue_req	req;
	struct names		n;
	struct err		e;

	err_clear(&e);
	fx_names(&n, cn, NULL);
	memset(&req, 0, sizeof(req));
	req.profile = "redis-client";
	req.names = &n;
	req.ttl = ttl;
	if (svc_issue(f->svc, &f->admin, &req, out, &e) == -1)
		fail_msg("svc_issue: %s: %s", err_code_name(e.code), e.msg);
	names_clear(&n);
}

unsigned char *
fx_pem_der(const char *pem, size_t *len)
{
	BIO		*b = BIO_new_mem_buf(pem, -1);
	X509		*x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	unsigned char	*der = NULL, *copy;
	int		 n;

	assert_non_null(x);
	n = i2d_X509(x, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	X509_free(x);
	BIO_free(b);
	/* Hand back memory the test frees with free(). */
	copy = malloc(*len);
	assert_non_null(copy);
	memcpy(copy, der, *len);
	OPENSSL_free(der);
	return copy;
}

void
fx_auth_cert(struct fx *f, const char *pem, struct svc_actor *a)
{
	unsigned char	*der;
	size_t		 len;
	struct err	 e;

	err_clear(&e);
	der = fx_pem_der(pem, &len);
	if (svc_auth_cert(f->svc, der, len, a, &e) == -1)
		fail_msg("svc_auth_cert: %s", e.msg);
	free(der);
}

void
fx_enroll(struct fx *f, const char *profile, const char *pattern,
    int64_t uses, int64_t ttl, int64_t max_cert_ttl,
    struct svc_actor *actor, char *tok)
{
	struct svc_token_req	 tr;
	struct token_rec	 t;
	struct err		 e;
	char			*pats[1];
	char			 secret[FX_TOKEN_LEN];

	err_clear(&e);
	pats[0] = (char *)pattern;
	memset(&tr, 0, sizeof(tr));
	tr.kind = TOKEN_ENROLL;
	tr.profile = profile;
	tr.patterns = pats;
	tr.npatterns = 1;
	tr.uses = uses;
	tr.ttl = ttl;
	tr.max_cert_ttl = max_cert_ttl;
	if (svc_token_create(f->svc, &f->admin, &tr, &t, secret, &e) == -1)
		fail_msg("enroll token: %s", e.msg);
	token_rec_clear(&t);
	if (svc_auth_token(f->svc, secret, actor, &e) == -1)
		fail_msg("enroll auth: %s", e.msg);
	assert_int_equal(actor->kind, ACTOR_TOKEN);
	if (tok != NULL)
		memcpy(tok, secret, sizeof(secret));
}

bool
fx_audit_has(struct fx *f, const char *action, const char *outcome,
    const char *object, const char *detail_sub)
{
	struct audit_rec	*list = NULL;
	size_t			 n = 0;
	int64_t			 after = 0, next = 0;
	struct err		 e;
	bool			 found = false;

	err_clear(&e);
	do {
		if (svc_audit_list(f->svc, after, 1000, &list, &n, &next,
		    &e) == -1)
			fail_msg("audit list: %s", e.msg);
		for (size_t i = 0; i < n && !found; i++) {
			if (strcmp(list[i].action, action) != 0 ||
			    strcmp(audit_outcome_name(list[i].outcome),
			    outcome) != 0)
				continue;
			if (object != NULL &&
			    strcmp(list[i].object, object) != 0)
				continue;
			if (detail_sub != NULL &&
			    strstr(list[i].detail, detail_sub) == NULL)
				continue;
			found = true;
		}
		svc_audit_list_free(list, n);
		list = NULL;
		after = next;
	} while (next != 0 && !found);
	return found;
}

uint64_t
fx_crl_number(struct svc *s)
{
	struct svc_crl	c;
	struct err	e;
	uint64_t	n;

	err_clear(&e);
	assert_int_equal(svc_crl_current(s, NULL, &c, &e), 0);
	n = c.number;
	svc_crl_clear(&c);
	return n;
}
