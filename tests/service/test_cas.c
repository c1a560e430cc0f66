/*
 * Tests of service/cas.c and ca_view.c (the CA snapshot, issue 12) and
 * of what issuance, renewal and the CRLs do with several CAs: bundle
 * and chain for one and two tiers, an instance without the current
 * key, renewal with a certificate of a retired CA and of a gone one,
 * one CRL per CA, and issuance while the snapshot is swapped.
 *
 * The rollover is made here by hand, as l/life's phases do: a next CA
 * created with ca_create_self(), stored with db_ca_prepare(), activated
 * with db_ca_activate() and its key files renamed (ca.key ->
 * ca-prev.key, ca-next.key -> ca.key), then svc_cas_reload().
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fixture.h"
#include "svc_int.h"
#include "timeutil.h"

/* How many certificates a PEM text holds. */
static int
pem_count(const char *pem)
{
	int n = 0;

	for (const char *p = pem; (p = strstr(p, "BEGIN CERTIFICATE")) !=
	    NULL; p++)
		n++;
	return n;
}

/* Is leaf_pem signed by the key of ca_pem's (first) certificate? */
static bool
signed_by(const char *leaf_pem, const char *ca_pem)
{
	BIO	*bl = BIO_new_mem_buf(leaf_pem, -1);
	BIO	*bc = BIO_new_mem_buf(ca_pem, -1);
	X509	*l = PEM_read_bio_X509(bl, NULL, NULL, NULL);
	X509	*c = PEM_read_bio_X509(bc, NULL, NULL, NULL);
	bool	 ok;

	assert_non_null(l);
	assert_non_null(c);
	ok = X509_verify(l, X509_get0_pubkey(c)) == 1;
	X509_free(l);
	X509_free(c);
	BIO_free(bl);
	BIO_free(bc);
	return ok;
}

static void
audit_fill(struct audit_rec *a, const char *action)
{
	memset(a, 0, sizeof(*a));
	a->at = tu_now();
	snprintf(a->actor, sizeof(a->actor), "cli");
	snprintf(a->action, sizeof(a->action), "%s", action);
	a->outcome = AUDIT_OK;
}

/* A second database connection on the fixture's database. */
static struct db *
fx_db(struct fx *f)
{
	struct db	*db;
	struct err	 e;

	err_clear(&e);
	if ((db = db_open(f->db, &e)) == NULL)
		fail_msg("db_open: %s", e.msg);
	return db;
}

/* Prepare a one-tier next CA (ca-next.key) and store it as next. */
static void
prepare(struct fx *f, struct db *db, const char *cn, int64_t *id)
{
	struct ca_create_opts	 o;
	struct ca_new		 n;
	struct ca_rec		 r;
	struct audit_rec	 a;
	struct err		 e;
	char			 path[300];

	err_clear(&e);
	memset(&o, 0, sizeof(o));
	memset(&n, 0, sizeof(n));
	o.key_type = KEY_EC_P256;
	o.cn = cn;
	o.days = 3650;
	snprintf(path, sizeof(path), "%s/ca-next.key", f->dir);
	if (ca_create_self(path, &o, &n, &e) == -1)
		fail_msg("ca_create_self: %s", e.msg);
	memset(&r, 0, sizeof(r));
	r.state = CA_STATE_NEXT;
	snprintf(r.ski, sizeof(r.ski), "%s", n.ski);
	snprintf(r.spki_sha256, sizeof(r.spki_sha256), "%s", n.spki_sha256);
	r.cert_pem = n.cert_pem;
	r.anchors_pem = n.anchors_pem;
	r.key_type = n.key_type;
	r.not_before = n.not_before;
	r.not_after = n.not_after;
	r.created_at = tu_now();
	audit_fill(&a, "ca.prepare");
	if (db_ca_prepare(db, &r, &a, &e) == -1)
		fail_msg("db_ca_prepare: %s", e.msg);
	*id = r.id;
	ca_new_clear(&n);
}

/* Activate: the database, then the key files, then the snapshot. */
static void
activate(struct fx *f, struct db *db)
{
	struct audit_rec	a;
	struct err		e;
	char			cur[300], prev[300], next[300];

	err_clear(&e);
	audit_fill(&a, "ca.activate");
	if (db_ca_activate(db, tu_now(), &a, &e) == -1)
		fail_msg("db_ca_activate: %s", e.msg);
	snprintf(cur, sizeof(cur), "%s/ca.key", f->dir);
	snprintf(prev, sizeof(prev), "%s/ca-prev.key", f->dir);
	snprintf(next, sizeof(next), "%s/ca-next.key", f->dir);
	assert_int_equal(rename(cur, prev), 0);
	assert_int_equal(rename(next, cur), 0);
	if (svc_cas_reload(f->svc, &e) == -1)
		fail_msg("svc_cas_reload: %s", e.msg);
}

/* The SKI of the CA in state st in a view ("" when none). */
static const char *
view_ski(const struct svc_ca_view *v, const char *st)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->ca[i].state, st) == 0)
			return v->ca[i].ski;
	return "";
}

/*
 * One tier: the bundle is the CA certificate, its ETag the first 32 hex
 * of its SHA-256, quoted; the chain of a leaf is the leaf alone; the
 * view lists the one current CA with its CRL URL and its count of
 * unexpired, unrevoked certificates.
 */
static void
test_one_tier(void **state)
{
	struct fx		*f = *state;
	struct svc_bundle	 b;
	struct svc_ca_info	 ci;
	struct svc_ca_view	 v;
	struct svc_issued	 x, y;
	struct err		 e;
	unsigned char		 md[32];
	char			 want[48], url[256];

	err_clear(&e);
	svc_ca_info(f->svc, &ci);
	svc_bundle_get(f->svc, &b);
	assert_string_equal(b.pem, ci.pem);
	assert_int_equal(b.len, strlen(ci.pem));
	EVP_Digest(b.pem, b.len, md, NULL, EVP_sha256(), NULL);
	snprintf(want, sizeof(want), "\"");
	for (int i = 0; i < 16; i++)
		snprintf(want + 1 + 2 * i, 3, "%02x", md[i]);
	strcat(want, "\"");
	assert_string_equal(b.etag, want);

	fx_generate(f, "one", 3600, &x);
	fx_generate(f, "two", 3600, &y);
	assert_string_equal(x.chain_pem, x.cert.pem);
	assert_string_equal(x.ca_pem, b.pem);
	assert_true(signed_by(x.cert.pem, ci.pem));
	assert_int_equal(svc_revoke(f->svc, &f->admin, y.cert.serial,
	    REASON_SUPERSEDED, NULL, NULL, &e), 0);

	assert_int_equal(svc_ca_view(f->svc, &v, &e), 0);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.current, 0);
	assert_string_equal(v.ca[0].state, "current");
	assert_string_equal(v.ca[0].certificate, ci.pem);
	assert_string_equal(v.ca[0].chain, "");
	assert_string_equal(v.ca[0].anchors, ci.pem);
	assert_null(v.ca[0].csr);
	assert_string_equal(v.ca[0].fingerprint, ci.fingerprint);
	assert_int_equal(strlen(v.ca[0].ski), 40);
	snprintf(url, sizeof(url), "http://127.0.0.1:8080/v1/crl/%s",
	    v.ca[0].ski);
	assert_string_equal(v.ca[0].crl_url, url);
	assert_int_equal(v.ca[0].certificates_unexpired, 1);
	assert_true(v.ca[0].has_key);
	assert_true(v.ca[0].activated_at > 0);
	assert_string_equal(v.bundle_etag, b.etag);
	/* The current CA's CRL under its SKI is the one of /v1/crl. */
	{
		struct svc_crl c1, c2;

		assert_int_equal(svc_crl_current(f->svc, v.ca[0].ski, &c1,
		    &e), 0);
		assert_int_equal(svc_crl_current(f->svc, NULL, &c2, &e), 0);
		assert_int_equal(c1.number, c2.number);
		assert_int_equal(c1.der_len, c2.der_len);
		svc_crl_clear(&c1);
		svc_crl_clear(&c2);
	}
	/* Unknown SKIs: not found. */
	assert_int_equal(svc_crl_current(f->svc, "00ff", &(struct svc_crl){0},
	    &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);

	svc_ca_view_clear(&v);

	/*
	 * GET /v1/ca is public: its counts are reused for
	 * SVC_VIEW_COUNTS_TTL seconds, so a third certificate does not
	 * show at once; a new snapshot (a phase) counts again.
	 */
	{
		struct svc_issued z;

		fx_generate(f, "three", 3600, &z);
		assert_int_equal(svc_ca_view(f->svc, &v, &e), 0);
		assert_int_equal(v.ca[0].certificates_unexpired, 1);
		svc_ca_view_clear(&v);
		assert_int_equal(svc_cas_reload(f->svc, &e), 0);
		assert_int_equal(svc_ca_view(f->svc, &v, &e), 0);
		assert_int_equal(v.ca[0].certificates_unexpired, 2);
		svc_ca_view_clear(&v);
		svc_issued_clear(&z);
	}
	svc_bundle_unref(&b);
	svc_ca_info_clear(&ci);
	svc_issued_clear(&x);
	svc_issued_clear(&y);
}

/* Write text to dir/name. */
static void
put(const char *dir, const char *name, const char *text)
{
	char	 path[300];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Run a shell command in dir; its exit status. */
static int
sh(const char *dir, const char *cmd)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "cd '%s' && %s >/dev/null 2>&1", dir, cmd);
	return system(buf);
}

/*
 * Two tiers: a root (its key in a folder of its own) signs the issuing
 * CA; ca.crt is the intermediate, roots.pem the root.  A leaf's chain
 * is the leaf and the intermediate, the bundle the root alone, and
 * `openssl verify -CAfile bundle -untrusted chain` accepts the leaf;
 * its CRL verifies against the intermediate; renewal works through it.
 */
static void
test_two_tier(void **state)
{
	struct fx		*f = *state;
	struct ca_create_opts	 o;
	struct ca_new		 n;
	struct svc_bundle	 b;
	struct svc_issued	 x, r;
	struct svc_actor	 a;
	struct svc_crl		 c;
	struct err		 e;
	static char		 db[300];
	char			 root[200], rk[300], rc[300];
	unsigned char		*der;
	size_t			 len;

	err_clear(&e);
	svc_close(f->svc);
	f->svc = NULL;
	snprintf(root, sizeof(root), "%s/root", f->dir);
	assert_int_equal(mkdir(root, 0700), 0);
	memset(&o, 0, sizeof(o));
	o.key_type = KEY_EC_P256;
	o.cn = "test root";
	assert_int_equal(ca_create_root(root, &o, &e), 0);
	snprintf(rk, sizeof(rk), "%s/root.key", root);
	snprintf(rc, sizeof(rc), "%s/root.crt", root);
	/* The fixture's one-tier CA goes; the intermediate takes its place. */
	assert_int_equal(unlink(f->key), 0);
	assert_int_equal(unlink(f->cert), 0);
	o.cn = "test issuing";
	memset(&n, 0, sizeof(n));
	if (ca_create_signed(f->key, rc, rk, NULL, &o, &n, &e) == -1)
		fail_msg("ca_create_signed: %s", e.msg);
	put(f->dir, "ca.crt", n.cert_pem);
	put(f->dir, "roots.pem", n.anchors_pem);
	/* A new database: the files are its first CA. */
	snprintf(db, sizeof(db), "%s/two-tier.db", f->dir);
	f->cfg.database = db;
	fx_reopen(f);

	svc_bundle_get(f->svc, &b);
	assert_int_equal(pem_count(b.pem), 1);
	assert_true(signed_by(n.cert_pem, b.pem));	/* the root */
	fx_generate(f, "two-tier", 3600, &x);
	assert_int_equal(pem_count(x.chain_pem), 2);
	assert_int_equal(strncmp(x.chain_pem, x.cert.pem,
	    strlen(x.cert.pem)), 0);
	assert_true(signed_by(x.cert.pem, n.cert_pem));
	put(f->dir, "leaf.pem", x.cert.pem);
	put(f->dir, "chain.pem", x.chain_pem);
	put(f->dir, "bundle.pem", b.pem);
	assert_int_equal(sh(f->dir, "openssl verify -CAfile bundle.pem "
	    "-untrusted chain.pem leaf.pem"), 0);
	/* Without the intermediate it does not verify. */
	assert_int_not_equal(sh(f->dir, "openssl verify -CAfile bundle.pem "
	    "leaf.pem"), 0);

	/* Renewal verifies through the intermediate. */
	der = fx_pem_der(x.cert.pem, &len);
	assert_int_equal(svc_auth_cert(f->svc, der, len, &a, &e), 0);
	assert_int_equal(svc_renew(f->svc, &a, NULL, 0, &r, &e), 0);
	assert_true(signed_by(r.cert.pem, n.cert_pem));
	svc_actor_clear(&a);
	free(der);

	/* Its CRL is signed by the intermediate. */
	assert_int_equal(svc_revoke(f->svc, &f->admin, x.cert.serial,
	    REASON_SUPERSEDED, NULL, NULL, &e), 0);
	assert_int_equal(svc_crl_current(f->svc, NULL, &c, &e), 0);
	put(f->dir, "crl.pem", c.pem);
	assert_int_equal(sh(f->dir, "openssl crl -in crl.pem -noout "
	    "-CAfile ca.crt"), 0);
	assert_int_not_equal(sh(f->dir, "openssl crl -in crl.pem -noout "
	    "-CAfile bundle.pem"), 0);
	svc_crl_clear(&c);

	svc_bundle_unref(&b);
	svc_issued_clear(&x);
	svc_issued_clear(&r);
	ca_new_clear(&n);
	unlink(rk);
	unlink(rc);
	rmdir(root);
}

/*
 * An instance without the current CA's key (the database has CAs, the
 * key file is not here): it opens, is not ready, refuses issuance with
 * ERR_UNAVAILABLE and still serves the stored CRL.
 */
static void
test_no_key(void **state)
{
	struct fx		*f = *state;
	struct svc_health	 h;
	struct svc_issue_req	 req;
	struct svc_issued	 out;
	struct svc_crl		 c;
	struct names		 n;
	struct err		 e;
	char			 away[300];

	err_clear(&e);
	svc_close(f->svc);
	f->svc = NULL;
	snprintf(away, sizeof(away), "%s/ca.key.away", f->dir);
	assert_int_equal(rename(f->key, away), 0);
	fx_reopen(f);
	svc_health(f->svc, &h);
	assert_false(h.ca_key);
	assert_false(h.ready);
	assert_false(svc_ready(f->svc));
	fx_names(&n, "nokey", NULL);
	memset(&req, 0, sizeof(req));
	memset(&out, 0, sizeof(out));
	req.profile = "redis-client";
	req.names = &n;
	assert_int_equal(svc_issue(f->svc, &f->admin, &req, &out, &e), -1);
	assert_int_equal(e.code, ERR_UNAVAILABLE);
	assert_string_equal(e.msg, "this instance has not got the current "
	    "CA key");
	names_clear(&n);
	assert_int_equal(svc_crl_current(f->svc, NULL, &c, &e), 0);
	assert_true(c.number > 0);
	svc_crl_clear(&c);
	/* The key back: ready again after a reload. */
	assert_int_equal(rename(away, f->key), 0);
	assert_int_equal(svc_cas_reload(f->svc, &e), 0);
	svc_health(f->svc, &h);
	assert_true(h.ca_key);
}

/* The serials a CRL (DER) lists, as one comma-joined lowercase string. */
static void
crl_serials(const struct svc_crl *c, char *out, size_t cap)
{
	const unsigned char	*p = c->der;
	X509_CRL		*crl;
	STACK_OF(X509_REVOKED)	*rv;

	out[0] = '\0';
	assert_non_null(crl = d2i_X509_CRL(NULL, &p, (long)c->der_len));
	rv = X509_CRL_get_REVOKED(crl);
	for (int i = 0; i < sk_X509_REVOKED_num(rv); i++) {
		BIGNUM	*bn = ASN1_INTEGER_to_BN(
		    X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(rv,
		    i)), NULL);
		char	*hex = BN_bn2hex(bn);

		for (char *q = hex; *q != '\0'; q++)
			if (*q >= 'A' && *q <= 'F')
				*q = (char)(*q - 'A' + 'a');
		if (out[0] != '\0')
			strncat(out, ",", cap - strlen(out) - 1);
		strncat(out, hex, cap - strlen(out) - 1);
		OPENSSL_free(hex);
		BN_free(bn);
	}
	X509_CRL_free(crl);
}

/* Does the serial (hex, any case, leading zeros) appear in list? */
static bool
listed(const char *list, const char *serial)
{
	while (*serial == '0')
		serial++;
	return strstr(list, serial) != NULL;
}

/*
 * A rollover: certificates of the retired CA still renew (the new one
 * comes from the current CA); each CA has its own CRL, listing only its
 * certificates and signed by it; CRL numbers strictly increase across
 * them; once the old CA is gone, its certificates no longer
 * authenticate (even unrevoked and unexpired) and its CRL is 404.
 */
static void
test_rollover(void **state)
{
	struct fx		*f = *state;
	struct db		*db = fx_db(f);
	struct svc_issued	 x, x2, y, r;
	struct svc_ca_view	 v;
	struct svc_bundle	 b;
	struct svc_actor	 a;
	struct svc_crl		 cold, cnew, ccur;
	struct audit_rec	 au;
	struct err		 e;
	char			 old_ski[RCA_SKI_HEX_MAX + 1];
	char			 new_ski[RCA_SKI_HEX_MAX + 1];
	char			 lo[512], ln[512];
	char			 oldpem[4096], newpem[4096];
	char			 etag0[SVC_ETAG_MAX], etag1[SVC_ETAG_MAX];
	unsigned char		*der;
	size_t			 len;
	uint64_t		 nx = 0, ny = 0;
	int64_t			 next_id = 0, old_id;

	err_clear(&e);
	fx_generate(f, "old-1", 3600, &x);
	fx_generate(f, "old-2", 600, &x2);
	assert_int_equal(svc_ca_view(f->svc, &v, &e), 0);
	snprintf(old_ski, sizeof(old_ski), "%s", v.ca[0].ski);
	snprintf(oldpem, sizeof(oldpem), "%s", v.ca[0].certificate);
	old_id = v.ca[0].id;
	snprintf(etag0, sizeof(etag0), "%s", v.bundle_etag);
	svc_ca_view_clear(&v);

	prepare(f, db, "next CA", &next_id);
	assert_int_equal(svc_cas_reload(f->svc, &e), 0);
	/* Prepared: in the bundle, not issuing. */
	assert_int_equal(svc_ca_view(f->svc, &v, &e), 0);
	assert_int_equal(v.n, 2);
	assert_string_equal(view_ski(&v, "current"), old_ski);
	assert_true(v.ca[1].has_key);
	/* Its CRL at once (the first publication on demand), empty. */
	{
		struct svc_crl	cn;
		char		list[64];

		assert_int_equal(svc_crl_current(f->svc, v.ca[1].ski, &cn,
		    &e), 0);
		assert_true(cn.number > 0);
		crl_serials(&cn, list, sizeof(list));
		assert_string_equal(list, "");
		put(f->dir, "next.pem", v.ca[1].certificate);
		put(f->dir, "crl-next.pem", cn.pem);
		assert_int_equal(sh(f->dir, "openssl crl -in crl-next.pem "
		    "-noout -CAfile next.pem"), 0);
		svc_crl_clear(&cn);
	}
	svc_ca_view_clear(&v);
	svc_bundle_get(f->svc, &b);
	assert_int_equal(pem_count(b.pem), 2);
	assert_string_not_equal(b.etag, etag0);
	snprintf(etag1, sizeof(etag1), "%s", b.etag);
	/* Creation order: the old CA's anchor first. */
	assert_int_equal(strncmp(b.pem, oldpem, strlen(oldpem)), 0);
	svc_bundle_unref(&b);

	activate(f, db);
	/* The same anchors: the same bundle and ETag (no pushes). */
	svc_bundle_get(f->svc, &b);
	assert_string_equal(b.etag, etag1);
	svc_bundle_unref(&b);
	assert_int_equal(svc_ca_view(f->svc, &v, &e), 0);
	assert_int_equal(v.n, 2);
	assert_string_equal(view_ski(&v, "retired"), old_ski);
	snprintf(new_ski, sizeof(new_ski), "%s", view_ski(&v, "current"));
	assert_string_not_equal(new_ski, old_ski);
	snprintf(newpem, sizeof(newpem), "%s", v.ca[v.current].certificate);
	assert_true(v.ca[v.current].activated_at > 0);
	svc_ca_view_clear(&v);

	/* Issuance from the new CA; the old CA's certificate renews. */
	fx_generate(f, "new-1", 3600, &y);
	assert_true(signed_by(y.cert.pem, newpem));
	assert_int_equal(pem_count(y.ca_pem), 2);
	der = fx_pem_der(x.cert.pem, &len);
	assert_int_equal(svc_auth_cert(f->svc, der, len, &a, &e), 0);
	free(der);
	assert_int_equal(svc_renew(f->svc, &a, NULL, 0, &r, &e), 0);
	assert_true(signed_by(r.cert.pem, newpem));
	assert_int_equal(r.cert.ca_id, next_id);
	svc_actor_clear(&a);

	/* One CRL per CA, each listing its own, numbers increasing. */
	assert_int_equal(svc_revoke(f->svc, &f->admin, x.cert.serial,
	    REASON_SUPERSEDED, NULL, &nx, &e), 0);
	assert_int_equal(svc_revoke(f->svc, &f->admin, y.cert.serial,
	    REASON_SUPERSEDED, NULL, &ny, &e), 0);
	assert_true(ny > nx);
	assert_int_equal(svc_crl_current(f->svc, old_ski, &cold, &e), 0);
	assert_int_equal(svc_crl_current(f->svc, new_ski, &cnew, &e), 0);
	assert_int_equal(svc_crl_current(f->svc, NULL, &ccur, &e), 0);
	assert_int_equal(cold.number, nx);
	assert_int_equal(cnew.number, ny);
	assert_int_equal(ccur.number, cnew.number);
	crl_serials(&cold, lo, sizeof(lo));
	crl_serials(&cnew, ln, sizeof(ln));
	assert_true(listed(lo, x.cert.serial));
	assert_false(listed(lo, y.cert.serial));
	assert_true(listed(ln, y.cert.serial));
	assert_false(listed(ln, x.cert.serial));
	put(f->dir, "old.pem", oldpem);
	put(f->dir, "new.pem", newpem);
	put(f->dir, "crl-old.pem", cold.pem);
	put(f->dir, "crl-new.pem", cnew.pem);
	assert_int_equal(sh(f->dir, "openssl crl -in crl-old.pem -noout "
	    "-CAfile old.pem"), 0);
	assert_int_equal(sh(f->dir, "openssl crl -in crl-new.pem -noout "
	    "-CAfile new.pem"), 0);
	assert_int_not_equal(sh(f->dir, "openssl crl -in crl-old.pem -noout "
	    "-CAfile new.pem"), 0);
	assert_int_not_equal(sh(f->dir, "openssl crl -in crl-new.pem -noout "
	    "-CAfile old.pem"), 0);
	svc_crl_clear(&cold);
	svc_crl_clear(&cnew);
	svc_crl_clear(&ccur);

	/*
	 * Retire, counted as at a time x2 has expired by (so only x, now
	 * revoked, was in the way): x2 is then unexpired and unrevoked
	 * but of a gone CA, and is refused before any revocation check.
	 */
	audit_fill(&au, "ca.retire");
	assert_int_equal(db_ca_retire(db, old_id, tu_now() + 7200, &au, &e),
	    0);
	assert_int_equal(svc_cas_reload(f->svc, &e), 0);
	der = fx_pem_der(x2.cert.pem, &len);
	assert_int_equal(svc_auth_cert(f->svc, der, len, &a, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_null(strstr(e.msg, "revoked"));
	free(der);
	svc_actor_clear(&a);
	assert_int_equal(svc_crl_current(f->svc, old_ski, &cold, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	svc_bundle_get(f->svc, &b);
	assert_int_equal(pem_count(b.pem), 1);
	assert_string_not_equal(b.etag, etag1);
	assert_string_equal(b.pem, newpem);
	svc_bundle_unref(&b);
	/* A new CRL round publishes only the CAs in the bundle. */
	assert_int_equal(svc_publish_crl(f->svc, &f->cli, &e), 0);

	svc_issued_clear(&x);
	svc_issued_clear(&x2);
	svc_issued_clear(&y);
	svc_issued_clear(&r);
	db_close(db);
}

/* Copy file from into to (mode). */
static void
copy_file(const char *from, const char *to, mode_t mode)
{
	char	 buf[8192];
	size_t	 n;
	FILE	*in, *out;

	assert_non_null(in = fopen(from, "r"));
	assert_non_null(out = fopen(to, "w"));
	n = fread(buf, 1, sizeof(buf), in);
	assert_true(n > 0 && n < sizeof(buf));
	assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(chmod(to, mode), 0);
}

/*
 * Two instances on one database, the second without the next CA's key
 * (ca-next.key not copied): it shows that CA without its key, and
 * serves the CRL the first instance (which holds the key) published,
 * never one of its own.
 */
static void
test_keyless_instance(void **state)
{
	struct fx		*f = *state;
	struct db		*db = fx_db(f);
	struct svc_config	 cfg = f->cfg;
	struct svc		*b = NULL;
	struct svc_ca_view	 v;
	struct svc_crl		 ca, cb;
	struct err		 e;
	char			 dir[128], cert[200], key[200], ski[200];
	int64_t			 id = 0;

	err_clear(&e);
	snprintf(dir, sizeof(dir), "%s/b", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(cert, sizeof(cert), "%s/ca.crt", dir);
	snprintf(key, sizeof(key), "%s/ca.key", dir);
	copy_file(f->cert, cert, 0444);
	copy_file(f->key, key, 0400);
	prepare(f, db, "keyless next", &id);
	assert_int_equal(svc_cas_reload(f->svc, &e), 0);
	assert_int_equal(svc_ca_view(f->svc, &v, &e), 0);
	assert_int_equal(v.n, 2);
	snprintf(ski, sizeof(ski), "%s", v.ca[1].ski);
	assert_true(v.ca[1].has_key);
	svc_ca_view_clear(&v);
	assert_int_equal(svc_crl_current(f->svc, ski, &ca, &e), 0);
	svc_crl_flush(f->svc);

	cfg.ca_cert = cert;
	cfg.ca_key = key;
	cfg.data_dir = dir;
	if ((b = svc_open(&cfg, &e)) == NULL)
		fail_msg("svc_open: %s", e.msg);
	assert_int_equal(svc_ca_view(b, &v, &e), 0);
	assert_int_equal(v.n, 2);
	assert_string_equal(v.ca[1].ski, ski);
	assert_false(v.ca[1].has_key);
	assert_true(v.ca[0].has_key);
	svc_ca_view_clear(&v);
	assert_int_equal(svc_crl_current(b, ski, &cb, &e), 0);
	assert_int_equal(cb.number, ca.number);
	assert_int_equal(cb.der_len, ca.der_len);
	assert_memory_equal(cb.der, ca.der, ca.der_len);
	svc_crl_clear(&cb);
	svc_crl_clear(&ca);
	svc_close(b);
	db_close(db);
	/* Its files, and what its reconcile wrote (ca-next.crt). */
	{
		DIR		*d;
		struct dirent	*de;
		char		 p[512];

		assert_non_null(d = opendir(dir));
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	assert_int_equal(rmdir(dir), 0);
}

/* Issuing threads of test_swap. */
struct swap_arg {
	struct fx	*f;
	int		 n;
	char		*pem[64];	/* issued leaves, new */
	int		 fails;
};

static void *
swap_issue(void *p)
{
	struct swap_arg		*sa = p;
	struct svc_issue_req	 req;
	struct svc_issued	 out;
	struct names		 n;
	struct err		 e;

	for (int i = 0; i < sa->n; i++) {
		err_clear(&e);
		memset(&out, 0, sizeof(out));
		fx_names(&n, "swap", NULL);
		memset(&req, 0, sizeof(req));
		req.profile = "redis-client";
		req.names = &n;
		req.ttl = 3600;
		if (svc_issue(sa->f->svc, &sa->f->admin, &req, &out, &e) == 0)
			sa->pem[i] = strdup(out.cert.pem);
		else
			sa->fails++;
		names_clear(&n);
		svc_issued_clear(&out);
	}
	return NULL;
}

/*
 * Issuance while the snapshot is swapped over and over, a rollover in
 * the middle: no failure, no crash (ASan clean), and every certificate
 * verifies against one of the CAs of the final bundle.
 */
static void
test_swap(void **state)
{
	struct fx		*f = *state;
	struct db		*db = fx_db(f);
	struct swap_arg		 sa[4];
	pthread_t		 th[4];
	struct svc_ca_view	 v;
	struct err		 e;
	int64_t			 id = 0;
	char			 pems[2][4096];

	err_clear(&e);
	memset(sa, 0, sizeof(sa));
	for (int i = 0; i < 4; i++) {
		sa[i].f = f;
		sa[i].n = 40;
		assert_int_equal(pthread_create(&th[i], NULL, swap_issue,
		    &sa[i]), 0);
	}
	for (int i = 0; i < 30; i++) {
		assert_int_equal(svc_cas_reload(f->svc, &e), 0);
		if (i == 10)
			prepare(f, db, "swap next", &id);
		if (i == 20)
			activate(f, db);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(svc_ca_view(f->svc, &v, &e), 0);
	assert_int_equal(v.n, 2);
	snprintf(pems[0], sizeof(pems[0]), "%s", v.ca[0].certificate);
	snprintf(pems[1], sizeof(pems[1]), "%s", v.ca[1].certificate);
	svc_ca_view_clear(&v);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(sa[i].fails, 0);
		for (int k = 0; k < sa[i].n; k++) {
			assert_non_null(sa[i].pem[k]);
			assert_true(signed_by(sa[i].pem[k], pems[0]) ||
			    signed_by(sa[i].pem[k], pems[1]));
			free(sa[i].pem[k]);
		}
	}
	db_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_tier, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_two_tier, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_key, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_rollover, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_swap, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_keyless_instance,
		    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
