/*
 * Tests for ca/trust.c and the chains of ca/load.c: several CAs at once
 * (one tier and two tiers, two issuing CAs under one root with the
 * same name), the bundle and its ETag, which CA issued a leaf, the
 * refusals, and each CA's CRL verifying against that CA only.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#include <openssl/pem.h>
#include <openssl/sha.h>

#define URL	"http://ca.test:8080"

/*
 * a: one tier, "redis-ca"; b and c: two tiers under the root in rdir,
 * both named "redis-ca 2"; d: one tier "redis-ca" as well, outside the
 * set (foreign); e: another issuing CA under the same root, outside.
 */
struct fx {
	char		*dir[5];
	char		*rdir;
	struct ca	*ca[5];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	for (int i = 0; i < 5; i++)
		f->dir[i] = th_tmpdir();
	f->rdir = th_tmpdir();
	f->ca[0] = th_ca(f->dir[0], KEY_EC_P256, 365, URL);
	f->ca[1] = th_ca2(f->dir[1], f->rdir, "redis-ca 2", URL);
	f->ca[2] = th_ca2(f->dir[2], f->rdir, "redis-ca 2", URL);
	f->ca[3] = th_ca(f->dir[3], KEY_EC_P256, 365, URL);
	f->ca[4] = th_ca2(f->dir[4], f->rdir, "redis-ca 3", URL);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 5; i++) {
		ca_free(f->ca[i]);
		th_rmrf(f->dir[i]);
		free(f->dir[i]);
	}
	th_rmrf(f->rdir);
	free(f->rdir);
	free(f);
	return 0;
}

/* Verify c over t; returns the index (or -1 with e set). */
static int
verify(const struct ca_trust *t, const struct ca_cert *c, int64_t now,
    struct err *e)
{
	struct ca_cert out;
	int which = 99;

	err_clear(e);
	if (ca_trust_verify_cert(t, c->der, c->der_len, now, &which, &out,
	    e) == -1) {
		assert_int_equal(which, -1);
		/* The serial stays for the audit of the refusal. */
		assert_string_equal(out.serial, c->serial);
		return -1;
	}
	assert_string_equal(out.serial, c->serial);
	assert_string_equal(out.fingerprint, c->fingerprint);
	ca_cert_clear(&out);
	return which;
}

static void
test_trust_three(void **state)
{
	struct fx *f = *state;
	const struct ca *set[3] = { f->ca[0], f->ca[1], f->ca[2] };
	struct ca_trust *t;
	struct ca_cert leaf[5], c;
	struct profile p, srv;
	struct err e;
	int64_t now = (int64_t)time(NULL);

	err_clear(&e);
	t = ca_trust_new(set, 3, &e);
	assert_non_null(t);
	th_profile_client(&p);
	for (int i = 0; i < 5; i++)
		th_leaf(f->ca[i], &p, "app.test", 0, 0, &leaf[i]);
	/* Each of the three, and which one issued it. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(verify(t, &leaf[i], 0, &e), i);
	/* A CA with a's name but another key. */
	assert_int_equal(verify(t, &leaf[3], 0, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	/* An issuing CA under the same root, not in the set. */
	assert_int_equal(verify(t, &leaf[4], 0, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	/* Expired: an hour long, checked two hours on (the CAs are new). */
	th_leaf(f->ca[1], &p, "old.test", 0, 3600, &c);
	assert_int_equal(verify(t, &c, now + 7200, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_non_null(strstr(e.msg, "expired"));
	/* Accepted at a time inside its life. */
	assert_int_equal(verify(t, &c, now + 600, &e), 1);
	ca_cert_clear(&c);
	/* Without clientAuth. */
	th_profile_node(&srv);
	srv.eku = EKU_SERVER_AUTH;
	th_leaf(f->ca[2], &srv, "srv.test", 0, 0, &c);
	assert_int_equal(verify(t, &c, 0, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	ca_cert_clear(&c);
	/* Not DER. */
	err_clear(&e);
	assert_int_equal(ca_trust_verify_cert(t, (const unsigned char *)"x",
	    1, 0, NULL, &c, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	/* The set holds its own references: valid after the CAs go. */
	ca_free(f->ca[0]);
	f->ca[0] = NULL;
	assert_int_equal(verify(t, &leaf[0], 0, &e), 0);
	ca_trust_free(t);
	/* One CA's verification refuses the other's leaves. */
	assert_int_equal(ca_verify_cert(f->ca[1], leaf[2].der,
	    leaf[2].der_len, 0, &c, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_int_equal(ca_verify_cert(f->ca[2], leaf[2].der,
	    leaf[2].der_len, 0, &c, &e), 0);
	ca_cert_clear(&c);
	for (int i = 0; i < 5; i++)
		ca_cert_clear(&leaf[i]);
	err_clear(&e);
	assert_null(ca_trust_new(set, 0, &e));
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
}

/* A leaf signed by the root itself is not a leaf of any CA of the set. */
static void
test_trust_root_leaf(void **state)
{
	struct fx *f = *state;
	const struct ca *set[1] = { f->ca[1] };
	char *rcrt = th_path(f->rdir, "root.crt");
	char *rkey = th_path(f->rdir, "root.key");
	char *rpem = th_read(rcrt);
	struct ca_trust *t;
	struct ca *root;
	struct ca_cert c;
	struct profile p;
	struct err e;

	err_clear(&e);
	root = ca_load_pem(rpem, NULL, rkey, NULL, URL, &e);
	assert_non_null(root);
	th_profile_client(&p);
	th_leaf(root, &p, "direct.test", 0, 0, &c);
	t = ca_trust_new(set, 1, &e);
	assert_non_null(t);
	assert_int_equal(verify(t, &c, 0, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_non_null(strstr(e.msg, "not issued by a CA of the bundle"));
	ca_trust_free(t);
	ca_cert_clear(&c);
	ca_free(root);
	free(rpem);
	free(rcrt);
	free(rkey);
}

/* The number of certificates in pem. */
static int
count_certs(const char *pem)
{
	int n = 0;

	for (const char *p = pem; (p = strstr(p, "BEGIN CERTIFICATE")) !=
	    NULL; p++)
		n++;
	return n;
}

static void
test_bundle(void **state)
{
	struct fx *f = *state;
	const struct ca *set[3] = { f->ca[0], f->ca[1], f->ca[2] };
	const struct ca *rev[3] = { f->ca[2], f->ca[1], f->ca[0] };
	char etag[RCA_ETAG_MAX], etag2[RCA_ETAG_MAX], hex[65], want[40];
	unsigned char md[SHA256_DIGEST_LENGTH];
	char *b, *b2, *rpem, *rcrt = th_path(f->rdir, "root.crt");
	struct err e;

	err_clear(&e);
	b = ca_bundle_pem(set, 3, etag, &e);
	assert_non_null(b);
	/* a's cert, then the root once (b and c share it). */
	assert_int_equal(count_certs(b), 2);
	rpem = th_read(rcrt);
	assert_true(strncmp(b, ca_cert_pem(f->ca[0]),
	    strlen(ca_cert_pem(f->ca[0]))) == 0);
	assert_string_equal(b + strlen(ca_cert_pem(f->ca[0])), rpem);
	/* ETag: quoted first 32 hex digits of SHA-256(bundle). */
	SHA256((const unsigned char *)b, strlen(b), md);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	snprintf(want, sizeof(want), "\"%.32s\"", hex);
	assert_string_equal(etag, want);
	assert_int_equal(strlen(etag), 34);
	/* Stable: the same CAs give the same bytes and ETag. */
	b2 = ca_bundle_pem(set, 3, etag2, &e);
	assert_string_equal(b, b2);
	assert_string_equal(etag, etag2);
	free(b2);
	/* Another order: the root first, another ETag. */
	b2 = ca_bundle_pem(rev, 3, etag2, &e);
	assert_int_equal(count_certs(b2), 2);
	assert_true(strncmp(b2, rpem, strlen(rpem)) == 0);
	assert_string_not_equal(etag, etag2);
	free(b2);
	/* One two-tier CA: its root only, never the issuing cert. */
	b2 = ca_bundle_pem(&set[1], 1, etag2, &e);
	assert_string_equal(b2, rpem);
	free(b2);
	err_clear(&e);
	assert_null(ca_bundle_pem(set, 0, etag2, &e));
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	free(b);
	free(rpem);
	free(rcrt);
}

static void
test_load_chain_refusals(void **state)
{
	struct fx *f = *state;
	char *crt = th_path(f->dir[1], "ca.crt");
	char *key = th_path(f->dir[1], "ca.key");
	char *roots = th_path(f->dir[1], "roots.pem");
	char *cpem = th_read(crt), *rpem = th_read(roots);
	struct ca *ca;
	struct ca_cert c, v;
	struct profile p;
	struct err e;

	/* The roots of another CA: refused at load. */
	th_write(roots, ca_cert_pem(f->ca[0]), 0444);
	err_clear(&e);
	assert_null(ca_load(crt, key, NULL, URL, &e));
	assert_int_equal(e.code, ERR_INVALID_CHAIN);
	/* roots.pem as a symbolic link (to the right roots): refused. */
	{
		char *real = th_path(f->rdir, "root.crt");

		unlink(roots);
		assert_int_equal(symlink(real, roots), 0);
		err_clear(&e);
		assert_null(ca_load(crt, key, NULL, URL, &e));
		assert_int_equal(e.code, ERR_IO);
		assert_non_null(strstr(e.msg, "symbolic link"));
		unlink(roots);
		free(real);
	}
	/* A root that is not self-signed (the issuing CA itself). */
	err_clear(&e);
	assert_null(ca_load_pem(cpem, cpem, NULL, NULL, URL, &e));
	assert_int_equal(e.code, ERR_INVALID_CHAIN);
	assert_non_null(strstr(e.msg, "self-signed"));
	/* Not PEM. */
	err_clear(&e);
	assert_null(ca_load_pem("junk", NULL, NULL, NULL, URL, &e));
	assert_int_equal(e.code, ERR_CRYPTO);
	/* Without roots: a CA imported before two tiers still works. */
	unlink(roots);
	err_clear(&e);
	ca = ca_load(crt, key, NULL, URL, &e);
	if (ca == NULL)
		fail_msg("ca_load: %s", e.msg);
	assert_string_equal(ca_chain_pem(ca), "");
	assert_string_equal(ca_anchors_pem(ca), cpem);
	th_profile_client(&p);
	th_leaf(ca, &p, "legacy.test", 0, 0, &c);
	assert_int_equal(ca_verify_cert(ca, c.der, c.der_len, 0, &v, &e), 0);
	ca_cert_clear(&v);
	ca_cert_clear(&c);
	ca_free(ca);
	/* Without the key: identity and bundles, no signing. */
	ca = ca_load_pem(cpem, rpem, NULL, NULL, URL, &e);
	assert_non_null(ca);
	assert_false(ca_has_key(ca));
	assert_string_equal(ca_ski_hex(ca), ca_ski_hex(f->ca[1]));
	assert_string_equal(ca_spki_sha256(ca), ca_spki_sha256(f->ca[1]));
	{
		struct ca_issue_params ip = { &p, 0, 0, 0 };
		char *csrpem = th_csr_simple("x.test", "DNS:x.test");
		struct ca_csr *csr = ca_csr_parse(csrpem, strlen(csrpem), &e);
		unsigned char *der = NULL;
		size_t dlen = 0;

		assert_non_null(csr);
		err_clear(&e);
		assert_int_equal(ca_issue(ca, csr, &ip, &c, &e), -1);
		assert_int_equal(e.code, ERR_CRYPTO);
		assert_non_null(strstr(e.msg, ca_ski_hex(ca)));
		err_clear(&e);
		assert_int_equal(ca_crl_build(ca, NULL, 0, 1, 1000, 2000, &der,
		    &dlen, &e), -1);
		assert_int_equal(e.code, ERR_CRYPTO);
		ca_csr_free(csr);
		free(csrpem);
	}
	ca_free(ca);
	free(cpem);
	free(rpem);
	free(crt);
	free(key);
	free(roots);
}

/* The CRL of ca (no entries) to path as DER. */
static void
crl_file(struct ca *ca, const char *path)
{
	unsigned char *der = NULL;
	size_t len = 0;
	struct err e;
	FILE *fp;

	err_clear(&e);
	if (ca_crl_build(ca, NULL, 0, 7, time(NULL), time(NULL) + 3600, &der,
	    &len, &e) != 0)
		fail_msg("ca_crl_build: %s", e.msg);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(der, 1, len, fp), len);
	fclose(fp);
	free(der);
}

/* `openssl crl -CAfile` accepts each CA's CRL with its own cert only. */
static void
test_crl_per_ca(void **state)
{
	struct fx *f = *state;
	char *crl[3], *crt[3];

	for (int i = 0; i < 3; i++) {
		crl[i] = th_path(f->dir[i], "crl.der");
		crt[i] = th_path(f->dir[i], "ca.crt");
		crl_file(f->ca[i], crl[i]);
	}
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			/* openssl 3.0 exits 0 on "verify failure". */
			assert_int_equal(th_sh("openssl crl -inform DER -in %s "
			    "-CAfile %s -noout 2>&1 | grep -q '^verify OK'",
			    crl[i], crt[j]) == 0, i == j);
	/* The AKI of each CRL is its CA's SKI. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(th_sh("openssl crl -inform DER -in %s -noout "
		    "-text | tr -d ' :\\n' | tr A-F a-f | grep -q %s",
		    crl[i], ca_ski_hex(f->ca[i])), 0);
		free(crl[i]);
		free(crt[i]);
	}
}

/*
 * Three tiers made with openssl: root -> mid -> issuing.  ca.crt holds
 * the issuing cert and then mid; the chain, leaves, renewals, the
 * bundle (the root only) and ca_complete_cert() all go through mid.
 */
static void
test_intermediates(void **state)
{
	struct fx *f = *state;
	const char *d = f->dir[4];
	char *crt = th_path(d, "3.crt"), *key = th_path(d, "3.key");
	char *roots = th_path(d, "roots.pem"), *leaf = th_path(d, "leaf.pem");
	char *cpem, *rpem, *mid, *etag_pem;
	char etag[RCA_ETAG_MAX];
	const struct ca *set[1];
	struct ca_trust *t;
	struct ca_new n;
	struct ca_cert c;
	struct profile p;
	struct err e;
	struct ca *ca;

	assert_int_equal(th_sh("cd %s && "
	    "printf '[r]\nbasicConstraints=critical,CA:TRUE\n"
	    "keyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash"
	    "\n[m]\nbasicConstraints=critical,CA:TRUE,pathlen:1\n"
	    "keyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash"
	    "\nauthorityKeyIdentifier=keyid:always\n[i]\n"
	    "basicConstraints=critical,CA:TRUE,pathlen:0\n"
	    "keyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash"
	    "\nauthorityKeyIdentifier=keyid:always\n' > x.cnf && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout r.key -subj /CN=R3 -days 30 -config x.cnf "
	    "-extensions r -out roots.pem 2>/dev/null && "
	    "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout m.key -subj /CN=M3 -out m.csr 2>/dev/null && "
	    "openssl x509 -req -in m.csr -CA roots.pem -CAkey r.key "
	    "-CAcreateserial -days 20 -extfile x.cnf -extensions m -out m.crt "
	    "2>/dev/null && "
	    "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout 3.key -subj /CN=I3 -out i.csr 2>/dev/null && "
	    "openssl x509 -req -in i.csr -CA m.crt -CAkey m.key "
	    "-CAcreateserial -days 10 -extfile x.cnf -extensions i -out i.crt "
	    "2>/dev/null && cat i.crt m.crt > 3.crt && chmod 0400 3.key", d),
	    0);
	cpem = th_read(crt);
	rpem = th_read(roots);
	mid = th_path(d, "m.crt");
	err_clear(&e);
	ca = ca_load_pem(cpem, rpem, key, NULL, URL, &e);
	if (ca == NULL)
		fail_msg("ca_load_pem: %s", e.msg);
	/* The chain is the issuing cert and mid; the anchor the root. */
	assert_string_equal(ca_anchors_pem(ca), rpem);
	assert_int_equal(count_certs(ca_chain_pem(ca)), 2);
	assert_true(strncmp(ca_chain_pem(ca), ca_cert_pem(ca),
	    strlen(ca_cert_pem(ca))) == 0);
	th_profile_client(&p);
	th_leaf(ca, &p, "deep.test", 0, 0, &c);
	th_write(leaf, c.pem, 0644);
	assert_int_equal(th_sh("openssl verify -CAfile %s -untrusted %s %s "
	    ">/dev/null", roots, crt, leaf), 0);
	assert_int_equal(th_sh("openssl verify -CAfile %s -untrusted %s %s "
	    ">/dev/null 2>&1", roots, mid, leaf) == 0, 0);
	set[0] = ca;
	t = ca_trust_new(set, 1, &e);
	assert_non_null(t);
	assert_int_equal(verify(t, &c, 0, &e), 0);
	ca_trust_free(t);
	etag_pem = ca_bundle_pem(set, 1, etag, &e);
	assert_string_equal(etag_pem, rpem);
	free(etag_pem);
	ca_cert_clear(&c);
	ca_free(ca);
	/* Without mid, the chain does not reach the root. */
	err_clear(&e);
	{
		char *only = strdup(cpem);

		*strstr(strstr(only, "END CERTIFICATE"), "\n") = '\0';
		assert_null(ca_load_pem(only, rpem, NULL, NULL, URL, &e));
		assert_int_equal(e.code, ERR_INVALID_CHAIN);
		free(only);
	}
	/* ca_complete_cert() takes the same cert + intermediates. */
	err_clear(&e);
	if (ca_complete_cert(key, NULL, cpem, rpem, &n, &e) != 0)
		fail_msg("ca_complete_cert: %s", e.msg);
	assert_string_equal(n.cert_pem, cpem);
	assert_string_equal(n.anchors_pem, rpem);
	ca_new_clear(&n);
	free(cpem);
	free(rpem);
	free(mid);
	free(crt);
	free(key);
	free(roots);
	free(leaf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_trust_three, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_trust_root_leaf, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bundle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_chain_refusals,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_crl_per_ca, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_intermediates, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
