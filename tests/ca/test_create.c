/*
 * Tests for ca/create.c and ca/adopt.c: two tiers (a root, an issuing
 * CA signed by it, leaves that `openssl verify` accepts with the roots
 * as anchors), the one-tier next CA, a CSR completed by an outside CA,
 * imports with their roots, and every refusal.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#include <openssl/pem.h>

#define URL	"http://ca.test:8080"

struct fx {
	char	*dir;	/* data dir: ca.* */
	char	*rdir;	/* root dir: root.* */
	char	*odir;	/* another folder */
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = th_tmpdir();
	f->rdir = th_tmpdir();
	f->odir = th_tmpdir();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	th_rmrf(f->dir);
	th_rmrf(f->rdir);
	th_rmrf(f->odir);
	free(f->dir);
	free(f->rdir);
	free(f->odir);
	free(f);
	return 0;
}

/* The mode bits of path. */
static int
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (int)(st.st_mode & 07777);
}

/* The hex of x's SKI or AKI keyid. */
static void
keyid_hex(const ASN1_OCTET_STRING *o, char *out)
{
	const unsigned char *d = ASN1_STRING_get0_data(o);

	for (int i = 0; i < ASN1_STRING_length(o); i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void
test_two_tier(void **state)
{
	struct fx *f = *state;
	struct ca *ca = th_ca2(f->dir, f->rdir, "Test CA", URL);
	char *rcrt = th_path(f->rdir, "root.crt");
	char *rkey = th_path(f->rdir, "root.key");
	char *leaf = th_path(f->odir, "leaf.pem");
	char *rootpem = th_read(rcrt), ski[130], aki[130];
	struct profile p;
	struct ca_cert c, v;
	struct err e;
	X509 *root = th_x509(rootpem), *x = th_x509(ca_cert_pem(ca));
	time_t now = time(NULL);

	/* The root: only in its folder, pathlen 1, 20 years. */
	assert_int_equal(mode_of(rkey), 0400);
	assert_int_equal(mode_of(rcrt), 0444);
	assert_int_equal(X509_get_pathlen(root), 1);
	assert_true(th_time(X509_get0_notAfter(root)) > now + 7300L * 86400);
	/* The issuing CA: pathlen 0, five years, AKI = the root's SKI. */
	assert_int_equal(X509_get_pathlen(x), 0);
	assert_true(ca_not_after(ca) > now + 1825L * 86400 &&
	    ca_not_after(ca) < now + 1827L * 86400);
	keyid_hex(X509_get0_subject_key_id(root), ski);
	keyid_hex(X509_get0_authority_key_id(x), aki);
	assert_string_equal(ski, aki);
	assert_string_equal(ca_anchors_pem(ca), rootpem);
	assert_string_equal(ca_chain_pem(ca), ca_cert_pem(ca));
	assert_true(ca_has_key(ca));
	assert_true(ca_not_before(ca) <= now - 59);

	/* A leaf verifies with the roots as anchors and ca.crt untrusted. */
	th_profile_client(&p);
	th_leaf(ca, &p, "app.test", 0, 0, &c);
	th_write(leaf, c.pem, 0644);
	assert_int_equal(th_sh("openssl verify -CAfile %s/roots.pem "
	    "-untrusted %s/ca.crt %s >/dev/null", f->dir, f->dir, leaf), 0);
	/* Not without the intermediate, nor with it as the anchor alone. */
	assert_int_not_equal(th_sh("openssl verify -CAfile %s/roots.pem %s "
	    ">/dev/null 2>&1", f->dir, leaf), 0);
	/* The CA itself verifies against its root, as ca_load checked. */
	assert_int_equal(th_sh("openssl verify -CAfile %s %s/ca.crt "
	    ">/dev/null", rcrt, f->dir), 0);
	/* And renewal accepts it through the intermediate. */
	err_clear(&e);
	if (ca_verify_cert(ca, c.der, c.der_len, 0, &v, &e) != 0)
		fail_msg("ca_verify_cert: %s", e.msg);
	assert_string_equal(v.serial, c.serial);
	ca_cert_clear(&v);
	ca_cert_clear(&c);
	X509_free(root);
	X509_free(x);
	free(rootpem);
	free(leaf);
	free(rkey);
	free(rcrt);
	ca_free(ca);
}

static void
test_signed_refusals(void **state)
{
	struct fx *f = *state;
	struct ca_create_opts ro = { KEY_EC_P384, "Root", 0, NULL };
	struct ca_create_opts o = { KEY_EC_P256, "CA", 0, NULL };
	char *rcrt = th_path(f->rdir, "root.crt");
	char *rkey = th_path(f->rdir, "root.key");
	char *okey = th_path(f->odir, "root.key");
	char *ocrt = th_path(f->odir, "root.crt");
	char *key = th_path(f->dir, "ca-next.key");
	char *cacrt = th_path(f->dir, "ca.crt");
	char *lnk = th_path(f->dir, "link.key");
	char *xkey = th_path(f->dir, "x.key");
	struct ca_new n;
	struct err e;

	err_clear(&e);
	assert_int_equal(ca_create_root(f->rdir, &ro, &e), 0);
	assert_int_equal(ca_create_root(f->odir, &ro, &e), 0);
	/* A second root in the same place: refused, nothing replaced. */
	err_clear(&e);
	assert_int_equal(ca_create_root(f->rdir, &ro, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);

	/* The root key of another root. */
	err_clear(&e);
	assert_int_equal(ca_create_signed(key, rcrt, okey, NULL, &o, &n, &e),
	    -1);
	assert_int_equal(e.code, ERR_INVALID_CHAIN);
	assert_non_null(strstr(e.msg, "does not match"));
	assert_int_equal(access(key, F_OK), -1);

	/* A root key readable by others. */
	assert_int_equal(chmod(rkey, 0644), 0);
	err_clear(&e);
	assert_int_equal(ca_create_signed(key, rcrt, rkey, NULL, &o, &n, &e),
	    -1);
	assert_int_equal(e.code, ERR_IO);
	assert_non_null(strstr(e.msg, "0644"));
	assert_int_equal(chmod(rkey, 0400), 0);

	/* A root key behind a symbolic link. */
	assert_int_equal(symlink(rkey, lnk), 0);
	err_clear(&e);
	assert_int_equal(ca_create_signed(key, rcrt, lnk, NULL, &o, &n, &e),
	    -1);
	assert_int_equal(e.code, ERR_IO);
	assert_non_null(strstr(e.msg, "symbolic link"));

	/* An issuing CA (pathlen 0, not self-signed) used as the root. */
	assert_int_equal(ca_create_signed(key, rcrt, rkey, NULL, &o, &n, &e),
	    0);
	th_write(cacrt, n.cert_pem, 0444);
	ca_new_clear(&n);
	err_clear(&e);
	assert_int_equal(ca_create_signed(xkey, cacrt, key, NULL, &o, &n, &e),
	    -1);
	assert_int_equal(e.code, ERR_INVALID_CHAIN);
	assert_non_null(strstr(e.msg, "self-signed root"));

	/* The key file exists already: never overwritten. */
	err_clear(&e);
	assert_int_equal(ca_create_signed(key, rcrt, rkey, NULL, &o, &n, &e),
	    -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);

	/* rsa-2048 is not a CA key type; days out of range. */
	unlink(key);
	o.key_type = KEY_RSA_2048;
	err_clear(&e);
	assert_int_equal(ca_create_signed(key, rcrt, rkey, NULL, &o, &n, &e),
	    -1);
	assert_int_equal(e.code, ERR_KEY_REJECTED);
	o.key_type = KEY_EC_P256;
	o.days = 40000;
	err_clear(&e);
	assert_int_equal(ca_create_signed(key, rcrt, rkey, NULL, &o, &n, &e),
	    -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(access(key, F_OK), -1);
	assert_int_equal(access(xkey, F_OK), -1);
	free(xkey);
	free(rcrt);
	free(rkey);
	free(okey);
	free(ocrt);
	free(key);
	free(cacrt);
	free(lnk);
}

/* An encrypted root key: refused without its passphrase, used with it. */
static void
test_signed_encrypted_root(void **state)
{
	struct fx *f = *state;
	char *pass = th_path(f->odir, "pass");
	struct ca_create_opts ro = { KEY_EC_P256, "Root", 0, pass };
	struct ca_create_opts o = { KEY_EC_P256, "CA", 30, pass };
	char *rcrt = th_path(f->rdir, "root.crt");
	char *rkey = th_path(f->rdir, "root.key");
	char *key = th_path(f->dir, "ca-next.key");
	char *kpem;
	char spki[RCA_SHA256_HEX + 1];
	struct ca_new n;
	struct err e;

	th_write(pass, "s3cret passphrase\n", 0600);
	err_clear(&e);
	assert_int_equal(ca_create_root(f->rdir, &ro, &e), 0);
	kpem = th_read(rkey);
	assert_non_null(strstr(kpem, "ENCRYPTED PRIVATE KEY"));
	free(kpem);
	err_clear(&e);
	assert_int_equal(ca_create_signed(key, rcrt, rkey, NULL, &o, &n, &e),
	    -1);
	assert_int_equal(e.code, ERR_CRYPTO);
	assert_non_null(strstr(e.msg, "passphrase"));
	assert_int_equal(access(key, F_OK), -1);
	err_clear(&e);
	if (ca_create_signed(key, rcrt, rkey, pass, &o, &n, &e) != 0)
		fail_msg("ca_create_signed: %s", e.msg);
	/* The new key is encrypted too, and its SPKI is the row's. */
	kpem = th_read(key);
	assert_non_null(strstr(kpem, "ENCRYPTED PRIVATE KEY"));
	free(kpem);
	assert_int_equal(mode_of(key), 0400);
	err_clear(&e);
	assert_int_equal(ca_key_file_spki_sha256(key, pass, spki, &e), 0);
	assert_string_equal(spki, n.spki_sha256);
	assert_int_equal(ca_key_file_spki_sha256(key, NULL, spki, &e), -1);
	assert_int_equal(e.code, ERR_CRYPTO);
	assert_true(n.not_after - n.not_before < 31 * 86400);
	ca_new_clear(&n);
	free(pass);
	free(rcrt);
	free(rkey);
	free(key);
}

static void
test_create_self(void **state)
{
	struct fx *f = *state;
	struct ca_create_opts o = { KEY_EC_P384, "redis-ca", 0, NULL };
	char *key = th_path(f->dir, "ca-next.key");
	char spki[RCA_SHA256_HEX + 1];
	struct ca_new n;
	struct ca *ca;
	struct err e;

	err_clear(&e);
	assert_int_equal(ca_create_self(key, &o, &n, &e), 0);
	assert_string_equal(n.cert_pem, n.anchors_pem);
	assert_null(n.csr_pem);
	assert_int_equal(n.key_type, KEY_EC_P384);
	assert_true(n.not_after - n.not_before > 3649L * 86400);
	assert_int_equal(strlen(n.ski), 40);
	assert_int_equal(mode_of(key), 0400);
	/* Loaded from the row's strings: one tier, chain empty. */
	ca = ca_load_pem(n.cert_pem, n.anchors_pem, key, NULL, URL, &e);
	if (ca == NULL)
		fail_msg("ca_load_pem: %s", e.msg);
	assert_string_equal(ca_chain_pem(ca), "");
	assert_string_equal(ca_anchors_pem(ca), n.cert_pem);
	assert_string_equal(ca_ski_hex(ca), n.ski);
	assert_string_equal(ca_spki_sha256(ca), n.spki_sha256);
	assert_string_equal(ca_fingerprint(ca), n.fingerprint);
	assert_int_equal(ca_key_file_spki_sha256(key, NULL, spki, &e), 0);
	assert_string_equal(spki, n.spki_sha256);
	ca_free(ca);
	/* Again at the same path: refused. */
	ca_new_clear(&n);
	err_clear(&e);
	assert_int_equal(ca_create_self(key, &o, &n, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	free(key);
}

/* Sign csr (file) with the root in rdir and extensions ext (file). */
static int
outside_sign(const struct fx *f, const char *csr, const char *ext,
    const char *out)
{
	return th_sh("openssl x509 -req -in %s -CA %s/root.crt -CAkey "
	    "%s/root.key -CAcreateserial -days 30 -extfile %s -extensions v3 "
	    "-out %s 2>/dev/null", csr, f->rdir, f->rdir, ext, out);
}

static void
test_csr_complete(void **state)
{
	struct fx *f = *state;
	struct ca_create_opts ro = { KEY_EC_P256, "Outside Root", 0, NULL };
	struct ca_create_opts o = { KEY_EC_P256, "redis-ca 2", 0, NULL };
	char *key = th_path(f->dir, "ca-next.key");
	char *csr = th_path(f->odir, "next.csr");
	char *ext = th_path(f->odir, "ext.cnf");
	char *leafext = th_path(f->odir, "leaf.cnf");
	char *crt = th_path(f->odir, "next.crt");
	char *bad = th_path(f->odir, "leaf.crt");
	char *other = th_path(f->odir, "other.key");
	char *rcrt = th_path(f->rdir, "root.crt");
	char *root, *cert, *leaf, *self;
	struct ca_new n, c;
	struct ca *ca;
	struct err e;

	err_clear(&e);
	assert_int_equal(ca_create_root(f->rdir, &ro, &e), 0);
	assert_int_equal(ca_create_csr(key, &o, &n, &e), 0);
	assert_non_null(strstr(n.csr_pem, "BEGIN CERTIFICATE REQUEST"));
	assert_null(n.cert_pem);
	assert_int_equal(n.not_after, 0);
	assert_int_equal(strlen(n.ski), 40);
	th_write(csr, n.csr_pem, 0644);
	assert_int_equal(th_sh("openssl req -in %s -noout -verify "
	    "2>/dev/null", csr), 0);
	th_write(ext, "[v3]\nbasicConstraints=critical,CA:TRUE,pathlen:0\n"
	    "keyUsage=critical,keyCertSign,cRLSign\n"
	    "subjectKeyIdentifier=hash\n"
	    "authorityKeyIdentifier=keyid:always\n", 0644);
	th_write(leafext, "[v3]\nbasicConstraints=critical,CA:FALSE\n"
	    "keyUsage=critical,digitalSignature\n", 0644);
	assert_int_equal(outside_sign(f, csr, ext, crt), 0);
	assert_int_equal(outside_sign(f, csr, leafext, bad), 0);
	root = th_read(rcrt);
	cert = th_read(crt);
	leaf = th_read(bad);

	/* Not a CA certificate. */
	err_clear(&e);
	assert_int_equal(ca_complete_cert(key, NULL, leaf, root, &c, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_CHAIN);
	assert_non_null(strstr(e.msg, "not a CA"));
	/* Roots that are not its own. */
	th_rmrf(f->odir);
	assert_int_equal(mkdir(f->odir, 0700), 0);
	assert_int_equal(ca_create_root(f->odir, &ro, &e), 0);
	{
		char *oroot = th_path(f->odir, "root.crt");

		self = th_read(oroot);
		free(oroot);
	}
	err_clear(&e);
	assert_int_equal(ca_complete_cert(key, NULL, cert, self, &c, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_CHAIN);
	assert_non_null(strstr(e.msg, "does not verify"));
	/* No roots, and not self-signed. */
	err_clear(&e);
	assert_int_equal(ca_complete_cert(key, NULL, cert, NULL, &c, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_CHAIN);
	/* For another key. */
	o.cn = "other";
	assert_int_equal(ca_create_self(other, &o, &c, &e), 0);
	ca_new_clear(&c);
	err_clear(&e);
	assert_int_equal(ca_complete_cert(other, NULL, cert, root, &c, &e),
	    -1);
	assert_int_equal(e.code, ERR_INVALID_CHAIN);
	assert_non_null(strstr(e.msg, "does not match"));
	/* Not PEM at all. */
	err_clear(&e);
	assert_int_equal(ca_complete_cert(key, NULL, "junk", root, &c, &e),
	    -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	/* Roots that are not self-signed CAs: the CA itself. */
	err_clear(&e);
	assert_int_equal(ca_complete_cert(key, NULL, cert, cert, &c, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_CHAIN);

	/* The right certificate and roots. */
	err_clear(&e);
	if (ca_complete_cert(key, NULL, cert, root, &c, &e) != 0)
		fail_msg("ca_complete_cert: %s", e.msg);
	assert_string_equal(c.anchors_pem, root);
	assert_string_equal(c.spki_sha256, n.spki_sha256);
	assert_string_equal(c.ski, n.ski);	/* openssl's hash = ours */
	assert_true(c.not_after > c.not_before);
	ca = ca_load_pem(c.cert_pem, c.anchors_pem, key, NULL, URL, &e);
	assert_non_null(ca);
	assert_string_equal(ca_chain_pem(ca), c.cert_pem);
	ca_free(ca);
	ca_new_clear(&c);
	ca_new_clear(&n);
	free(self);
	free(root);
	free(cert);
	free(leaf);
	free(key);
	free(csr);
	free(ext);
	free(leafext);
	free(crt);
	free(bad);
	free(other);
	free(rcrt);
}

/* init --import-chain: an outside intermediate with its roots. */
static void
test_import_chain(void **state)
{
	struct fx *f = *state;
	struct ca_create_opts ro = { KEY_EC_P256, "Outside Root", 0, NULL };
	struct ca_create_opts o = { KEY_EC_P256, "Outside CA", 30, NULL };
	char *ikey = th_path(f->odir, "in.key"), *icrt = th_path(f->odir,
	    "in.crt"), *rcrt = th_path(f->rdir, "root.crt");
	char *rkey = th_path(f->rdir, "root.key"), *orcrt = th_path(f->odir,
	    "root.crt"), *self = th_path(f->odir, "self.key");
	char *selfcrt = th_path(f->odir, "self.crt");
	char *ckey = th_path(f->dir, "ca.key"), *ccrt = th_path(f->dir,
	    "ca.crt"), *croots = th_path(f->dir, "roots.pem");
	struct ca_import_req r = { icrt, ikey, NULL, rcrt, ccrt, ckey, croots,
	    NULL };
	struct ca_new n;
	struct ca *ca;
	struct err e;
	char *pem;

	err_clear(&e);
	assert_int_equal(ca_create_root(f->rdir, &ro, &e), 0);
	assert_int_equal(ca_create_root(f->odir, &ro, &e), 0);
	assert_int_equal(ca_create_signed(ikey, rcrt, rkey, NULL, &o, &n, &e),
	    0);
	th_write(icrt, n.cert_pem, 0644);
	ca_new_clear(&n);
	assert_int_equal(ca_create_self(self, &o, &n, &e), 0);
	th_write(selfcrt, n.cert_pem, 0644);
	ca_new_clear(&n);

	/* Wrong root: the other folder's. */
	r.in_roots = orcrt;
	err_clear(&e);
	assert_int_equal(ca_import_chain_files(&r, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_CHAIN);
	/* Key mismatch. */
	r.in_roots = rcrt;
	r.in_key = self;
	err_clear(&e);
	assert_int_equal(ca_import_chain_files(&r, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_CHAIN);
	assert_non_null(strstr(e.msg, "does not match"));
	/* Not a CA: a leaf signed by the root, with its key. */
	assert_int_equal(th_sh("cd %s && openssl req -new -newkey ec "
	    "-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -subj "
	    "/CN=leaf -out leaf.csr 2>/dev/null && printf '[v3]\\n"
	    "basicConstraints=critical,CA:FALSE\\n' > leaf.cnf && openssl "
	    "x509 -req -in leaf.csr -CA %s -CAkey %s -CAcreateserial -days 9 "
	    "-extfile leaf.cnf -extensions v3 -out leaf.crt 2>/dev/null",
	    f->odir, rcrt, rkey), 0);
	{
		struct ca_import_req lr = r;
		char *lk = th_path(f->odir, "leaf.key");
		char *lc = th_path(f->odir, "leaf.crt");

		lr.in_key = lk;
		lr.in_cert = lc;
		err_clear(&e);
		assert_int_equal(ca_import_chain_files(&lr, &e), -1);
		assert_int_equal(e.code, ERR_INVALID_CHAIN);
		assert_non_null(strstr(e.msg, "not a CA"));
		free(lk);
		free(lc);
	}
	/* Roots that are not PEM. */
	r.in_key = ikey;
	th_write(selfcrt, "not a certificate\n", 0644);
	r.in_roots = selfcrt;
	err_clear(&e);
	assert_int_equal(ca_import_chain_files(&r, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	/* Nothing was written by any refusal. */
	assert_int_equal(access(ckey, F_OK), -1);
	assert_int_equal(access(ccrt, F_OK), -1);
	assert_int_equal(access(croots, F_OK), -1);

	r.in_roots = rcrt;
	err_clear(&e);
	if (ca_import_chain_files(&r, &e) != 0)
		fail_msg("import: %s", e.msg);
	assert_int_equal(mode_of(ckey), 0400);
	assert_int_equal(mode_of(ccrt), 0444);
	assert_int_equal(mode_of(croots), 0444);
	pem = th_read(croots);
	{
		char *root = th_read(rcrt);

		assert_string_equal(pem, root);
		free(root);
	}
	free(pem);
	ca = ca_load(ccrt, ckey, NULL, URL, &e);
	if (ca == NULL)
		fail_msg("ca_load: %s", e.msg);
	assert_string_not_equal(ca_chain_pem(ca), "");
	ca_free(ca);
	/* Again: the files exist. */
	err_clear(&e);
	assert_int_equal(ca_import_chain_files(&r, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	free(ikey);
	free(icrt);
	free(rcrt);
	free(rkey);
	free(orcrt);
	free(self);
	free(selfcrt);
	free(ckey);
	free(ccrt);
	free(croots);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_tier, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_signed_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_signed_encrypted_root,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_self, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_csr_complete, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_import_chain, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
