/*
 * Tests for ca/key.c, ca/init.c and ca/load.c: creating, importing and
 * loading the CA, with the file checks of SPEC section 3, read back
 * with OpenSSL (through ca.h, so they cover the three files together).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#include <openssl/pem.h>

struct fx {
	char	*dir;
	char	*crt;
	char	*key;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = th_tmpdir();
	f->crt = th_path(f->dir, "ca.crt");
	f->key = th_path(f->dir, "ca.key");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	th_rmrf(f->dir);
	free(f->dir);
	free(f->crt);
	free(f->key);
	free(f);
	return 0;
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	assert_non_null(fp);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static int
file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (int)(st.st_mode & 07777);
}

/* No error message may carry key material. */
static void
assert_no_key_in(const struct err *e)
{
	assert_null(strstr(e->msg, "BEGIN"));
	assert_null(strstr(e->msg, "MII"));
	assert_null(strstr(e->msg, "MIG"));
}

static void
check_ca_cert(const char *crt, enum key_type t, int days)
{
	char *pem = slurp(crt);
	X509 *x = th_x509(pem);
	BASIC_CONSTRAINTS *bc;
	int crit = 0;
	char buf[128];
	int64_t now = (int64_t)time(NULL);

	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "Test CA");
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x),
	    X509_get_issuer_name(x)), 0);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(x)), 1);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_int_equal(crit, 1);
	assert_true(bc->ca != 0);
	assert_non_null(bc->pathlen);
	assert_int_equal(ASN1_INTEGER_get(bc->pathlen), 0);
	BASIC_CONSTRAINTS_free(bc);
	ASN1_BIT_STRING_free(X509_get_ext_d2i(x, NID_key_usage, &crit, NULL));
	assert_int_equal(crit, 1);
	assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN |
	    KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_non_null(X509_get0_authority_key_id(x));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(x),
	    X509_get0_authority_key_id(x)), 0);
	assert_true(llabs(th_time(X509_get0_notBefore(x)) - (now - 60)) <= 5);
	assert_true(llabs(th_time(X509_get0_notAfter(x)) -
	    (now + (int64_t)days * 86400)) <= 5);
	assert_int_equal(X509_get_signature_nid(x),
	    t == KEY_EC_P384 ? NID_ecdsa_with_SHA384 :
	    t == KEY_EC_P256 ? NID_ecdsa_with_SHA256 :
	    NID_sha256WithRSAEncryption);
	X509_free(x);
	free(pem);
}

static void
test_create_each_type(void **state)
{
	static const enum key_type types[] = { KEY_EC_P256, KEY_EC_P384,
	    KEY_RSA_3072, KEY_RSA_4096 };
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct ca_create_opts o = { types[i], "Test CA", 3650, NULL };
		struct err e;
		struct ca *ca;
		char *kpem;

		unlink(f->crt);
		unlink(f->key);
		err_clear(&e);
		if (ca_create_files(f->crt, f->key, &o, &e) != 0)
			fail_msg("%s: %s", key_type_name(types[i]), e.msg);
		assert_int_equal(file_mode(f->key), 0400);
		assert_int_equal(file_mode(f->crt), 0444);
		kpem = slurp(f->key);
		assert_int_equal(strncmp(kpem,
		    "-----BEGIN PRIVATE KEY-----", 27), 0);
		free(kpem);
		check_ca_cert(f->crt, types[i], 3650);
		ca = ca_load(f->crt, f->key, NULL, NULL, &e);
		if (ca == NULL)
			fail_msg("ca_load: %s", e.msg);
		assert_int_equal(ca_key_type(ca), types[i]);
		assert_true(ca_not_after(ca) > (int64_t)time(NULL) +
		    3649LL * 86400);
		assert_non_null(strstr(ca_cert_pem(ca),
		    "-----BEGIN CERTIFICATE-----"));
		assert_int_equal(strlen(ca_fingerprint(ca)), RCA_SHA256_HEX);
		ca_free(ca);
	}
}

static void
test_create_refusals(void **state)
{
	struct fx *f = *state;
	struct ca_create_opts o = { KEY_RSA_2048, "Test CA", 365, NULL };
	struct err e;
	char *before, *after;

	err_clear(&e);
	assert_int_equal(ca_create_files(f->crt, f->key, &o, &e), -1);
	assert_int_equal(e.code, ERR_KEY_REJECTED);
	assert_int_equal(access(f->key, F_OK), -1);

	o.key_type = KEY_EC_P256;
	o.days = 0;
	assert_int_equal(ca_create_files(f->crt, f->key, &o, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	o.days = 365;
	o.cn = "";
	assert_int_equal(ca_create_files(f->crt, f->key, &o, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	o.cn = "Test CA";

	/* Never overwrite an existing CA (key or certificate). */
	assert_int_equal(ca_create_files(f->crt, f->key, &o, &e), 0);
	before = slurp(f->key);
	err_clear(&e);
	assert_int_equal(ca_create_files(f->crt, f->key, &o, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	after = slurp(f->key);
	assert_string_equal(before, after);
	free(before);
	free(after);
	{
		char *k2 = th_path(f->dir, "other.key");

		assert_int_equal(ca_create_files(f->crt, k2, &o, &e), -1);
		assert_int_equal(e.code, ERR_ALREADY_EXISTS);
		assert_int_equal(access(k2, F_OK), -1);
		free(k2);
	}
}

static void
test_load_refusals(void **state)
{
	struct fx *f = *state;
	struct ca_create_opts o = { KEY_EC_P256, "Test CA", 365, NULL };
	struct err e;
	struct ca *ca;

	assert_int_equal(ca_create_files(f->crt, f->key, &o, &e), 0);

	/* Readable by group and others. */
	assert_int_equal(chmod(f->key, 0644), 0);
	err_clear(&e);
	assert_null(ca_load(f->crt, f->key, NULL, NULL, &e));
	assert_int_equal(e.code, ERR_IO);
	assert_non_null(strstr(e.msg, "0644"));
	assert_no_key_in(&e);
	assert_int_equal(chmod(f->key, 0640), 0);
	assert_null(ca_load(f->crt, f->key, NULL, NULL, &e));
	assert_int_equal(e.code, ERR_IO);
	assert_int_equal(chmod(f->key, 0600), 0);
	ca = ca_load(f->crt, f->key, NULL, NULL, &e);
	assert_non_null(ca);
	ca_free(ca);

	/* A symlink is not a regular file. */
	{
		char *ln = th_path(f->dir, "link.key");

		assert_int_equal(symlink(f->key, ln), 0);
		assert_null(ca_load(f->crt, ln, NULL, NULL, &e));
		assert_int_equal(e.code, ERR_IO);
		assert_non_null(strstr(e.msg, "symbolic link"));
		free(ln);
	}
	/* A hard link is a second name nobody watches (SPEC 8). */
	{
		char *hl = th_path(f->dir, "hard.key");

		assert_int_equal(link(f->key, hl), 0);
		assert_null(ca_load(f->crt, f->key, NULL, NULL, &e));
		assert_int_equal(e.code, ERR_IO);
		assert_non_null(strstr(e.msg, "2 links"));
		assert_no_key_in(&e);
		assert_int_equal(unlink(hl), 0);
		ca = ca_load(f->crt, f->key, NULL, NULL, &e);
		assert_non_null(ca);
		ca_free(ca);
		free(hl);
	}
	/* A folder is not a regular file either. */
	assert_null(ca_load(f->crt, f->dir, NULL, NULL, &e));
	assert_int_equal(e.code, ERR_IO);
	/* Missing. */
	{
		char *nope = th_path(f->dir, "nope.key");

		assert_null(ca_load(f->crt, nope, NULL, NULL, &e));
		assert_int_equal(e.code, ERR_IO);
		free(nope);
	}

	/* Key and certificate of two different CAs. */
	{
		char *d2 = th_tmpdir();
		char *c2 = th_path(d2, "ca.crt"), *k2 = th_path(d2, "ca.key");

		assert_int_equal(ca_create_files(c2, k2, &o, &e), 0);
		err_clear(&e);
		assert_null(ca_load(f->crt, k2, NULL, NULL, &e));
		assert_int_equal(e.code, ERR_CRYPTO);
		assert_non_null(strstr(e.msg, "does not match"));
		assert_no_key_in(&e);
		th_rmrf(d2);
		free(c2);
		free(k2);
		free(d2);
	}
}

static void
test_load_wrong_owner(void **state)
{
	struct fx *f = *state;
	struct ca_create_opts o = { KEY_EC_P256, "Test CA", 365, NULL };
	struct err e;

	if (geteuid() != 0) {
		print_message("not root: cannot chown the key to test "
		    "the owner check\n");
		skip();
	}
	assert_int_equal(ca_create_files(f->crt, f->key, &o, &e), 0);
	assert_int_equal(chown(f->key, 65534, 65534), 0);
	err_clear(&e);
	assert_null(ca_load(f->crt, f->key, NULL, NULL, &e));
	assert_int_equal(e.code, ERR_IO);
	assert_non_null(strstr(e.msg, "owned by uid 65534"));
}

static void
test_encrypted_key(void **state)
{
	struct fx *f = *state;
	char *pass = th_path(f->dir, "pass"), *bad = th_path(f->dir, "bad");
	struct ca_create_opts o = { KEY_EC_P384, "Test CA", 365, pass };
	struct err e;
	struct ca *ca;
	char *kpem;

	th_write(pass, "correct horse battery\n", 0600);
	th_write(bad, "wrong horse\n", 0600);
	assert_int_equal(ca_create_files(f->crt, f->key, &o, &e), 0);
	kpem = slurp(f->key);
	assert_non_null(strstr(kpem, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
	free(kpem);
	/* The openssl CLI reads it as AES-256-CBC PKCS#8. */
	assert_int_equal(th_sh("openssl pkey -in %s -passin file:%s -noout",
	    f->key, pass), 0);
	assert_int_equal(th_sh("openssl asn1parse -in %s | grep -q "
	    "aes-256-cbc", f->key), 0);

	ca = ca_load(f->crt, f->key, pass, NULL, &e);
	if (ca == NULL)
		fail_msg("ca_load: %s", e.msg);
	assert_int_equal(ca_key_type(ca), KEY_EC_P384);
	ca_free(ca);

	err_clear(&e);
	assert_null(ca_load(f->crt, f->key, bad, NULL, &e));
	assert_int_equal(e.code, ERR_CRYPTO);
	assert_non_null(strstr(e.msg, "passphrase"));
	assert_no_key_in(&e);
	assert_null(strstr(e.msg, "horse"));

	err_clear(&e);
	assert_null(ca_load(f->crt, f->key, NULL, NULL, &e));
	assert_int_equal(e.code, ERR_CRYPTO);
	assert_non_null(strstr(e.msg, "passphrase"));
	free(pass);
	free(bad);
}

static void
test_import_openssl_rsa4096(void **state)
{
	struct fx *f = *state;
	char *pass = th_path(f->dir, "in.pass");
	char *pass2 = th_path(f->dir, "in2.pass");
	char *outpass = th_path(f->dir, "out.pass");
	char *ik = th_path(f->dir, "in.key"), *ic = th_path(f->dir, "in.crt");
	char *legacy = th_path(f->dir, "legacy.key");
	char *leafk = th_path(f->dir, "leaf.key");
	char *leafc = th_path(f->dir, "leaf.crt");
	struct err e;
	struct ca *ca;
	char *kpem;

	th_write(pass, "import-secret\n", 0600);
	th_write(outpass, "new-secret\n", 0600);
	assert_int_equal(th_sh("openssl genrsa -aes256 -passout file:%s "
	    "-out %s 4096 2>/dev/null", pass, ik), 0);
	assert_int_equal(th_sh("openssl req -x509 -new -key %s -passin "
	    "file:%s -subj /CN=Imported-CA -days 365 -sha256 "
	    "-addext basicConstraints=critical,CA:TRUE "
	    "-addext keyUsage=critical,keyCertSign,cRLSign -out %s",
	    ik, pass, ic), 0);
	/* The same key as legacy PKCS#1 "BEGIN RSA PRIVATE KEY" + DEK-Info. */
	/* (openssl reads line 2 when passin and passout name one file.) */
	th_write(pass2, "import-secret\n", 0600);
	assert_int_equal(th_sh("openssl rsa -in %s -passin file:%s -aes256 "
	    "-traditional -passout file:%s -out %s 2>/dev/null", ik, pass,
	    pass2, legacy), 0);
	kpem = slurp(legacy);
	assert_non_null(strstr(kpem, "BEGIN RSA PRIVATE KEY"));
	assert_non_null(strstr(kpem, "DEK-Info: AES-256-CBC"));
	free(kpem);

	/* Wrong passphrase: clear error, nothing written. */
	err_clear(&e);
	assert_int_equal(ca_import_files(ic, ik, outpass, f->crt, f->key, NULL,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_non_null(strstr(e.msg, "passphrase"));
	assert_no_key_in(&e);
	assert_int_equal(access(f->key, F_OK), -1);
	/* No passphrase for an encrypted key. */
	assert_int_equal(ca_import_files(ic, ik, NULL, f->crt, f->key, NULL,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);

	/* PKCS#8 encrypted (what genrsa -aes256 writes on OpenSSL 3). */
	err_clear(&e);
	if (ca_import_files(ic, ik, pass, f->crt, f->key, outpass, &e) != 0)
		fail_msg("import: %s", e.msg);
	assert_int_equal(file_mode(f->key), 0400);
	assert_int_equal(file_mode(f->crt), 0444);
	kpem = slurp(f->key);
	assert_non_null(strstr(kpem, "BEGIN ENCRYPTED PRIVATE KEY"));
	free(kpem);
	ca = ca_load(f->crt, f->key, outpass, NULL, &e);
	if (ca == NULL)
		fail_msg("load: %s", e.msg);
	assert_int_equal(ca_key_type(ca), KEY_RSA_4096);
	ca_free(ca);
	/* Refuses to overwrite. */
	assert_int_equal(ca_import_files(ic, ik, pass, f->crt, f->key, NULL,
	    &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	unlink(f->crt);
	unlink(f->key);

	/* Legacy PKCS#1 encrypted, stored unencrypted PKCS#8. */
	err_clear(&e);
	if (ca_import_files(ic, legacy, pass, f->crt, f->key, NULL, &e) != 0)
		fail_msg("import legacy: %s", e.msg);
	kpem = slurp(f->key);
	assert_non_null(strstr(kpem, "-----BEGIN PRIVATE KEY-----"));
	free(kpem);
	ca = ca_load(f->crt, f->key, NULL, NULL, &e);
	assert_non_null(ca);
	ca_free(ca);
	unlink(f->crt);
	unlink(f->key);

	/* A certificate that is not a CA is refused. */
	assert_int_equal(th_sh("openssl req -x509 -new -newkey ec "
	    "-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s "
	    "-subj /CN=leaf -days 30 -addext basicConstraints=CA:FALSE "
	    "-out %s 2>/dev/null", leafk, leafc), 0);
	err_clear(&e);
	assert_int_equal(ca_import_files(leafc, leafk, NULL, f->crt, f->key,
	    NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_non_null(strstr(e.msg, "not a CA"));
	assert_int_equal(access(f->key, F_OK), -1);

	/* A key that does not match the certificate is refused. */
	err_clear(&e);
	assert_int_equal(ca_import_files(ic, leafk, NULL, f->crt, f->key,
	    NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_non_null(strstr(e.msg, "does not match"));
	assert_no_key_in(&e);
	assert_int_equal(access(f->key, F_OK), -1);

	/* Not PEM at all. */
	err_clear(&e);
	assert_int_equal(ca_import_files(pass, ik, pass, f->crt, f->key, NULL,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);

	free(pass);
	free(pass2);
	free(outpass);
	free(ik);
	free(ic);
	free(legacy);
	free(leafk);
	free(leafc);
}

static void
test_import_unencrypted_ec_pkcs1(void **state)
{
	struct fx *f = *state;
	char *ik = th_path(f->dir, "ec.key"), *ic = th_path(f->dir, "ec.crt");
	char *rk = th_path(f->dir, "r2048.key");
	char *rc = th_path(f->dir, "r2048.crt");
	struct err e;
	struct ca *ca;

	/* An EC CA with a SEC1 "BEGIN EC PRIVATE KEY" key. */
	assert_int_equal(th_sh("openssl ecparam -name prime256v1 -genkey "
	    "-noout -out %s && openssl req -x509 -new -key %s "
	    "-subj /CN=EC-CA -days 30 -addext "
	    "basicConstraints=critical,CA:TRUE -out %s", ik, ik, ic), 0);
	err_clear(&e);
	if (ca_import_files(ic, ik, NULL, f->crt, f->key, NULL, &e) != 0)
		fail_msg("import: %s", e.msg);
	ca = ca_load(f->crt, f->key, NULL, "http://x", &e);
	assert_non_null(ca);
	assert_int_equal(ca_key_type(ca), KEY_EC_P256);
	ca_free(ca);
	unlink(f->crt);
	unlink(f->key);

	/* An RSA-2048 CA is outside the CA key types. */
	assert_int_equal(th_sh("openssl req -x509 -new -newkey rsa:2048 "
	    "-nodes -keyout %s -subj /CN=R-CA -days 30 -addext "
	    "basicConstraints=critical,CA:TRUE -out %s 2>/dev/null", rk, rc),
	    0);
	err_clear(&e);
	assert_int_equal(ca_import_files(rc, rk, NULL, f->crt, f->key, NULL,
	    &e), -1);
	assert_int_equal(e.code, ERR_KEY_REJECTED);
	free(ik);
	free(ic);
	free(rk);
	free(rc);
}

/*
 * SPEC section 8 for the CA's own key: an RSA key with an exponent other
 * than 65537 is refused at import and at load (with e = 1 a signature
 * would be the padded digest: anyone could sign as the CA).
 */
static void
test_rsa_exponent_refused(void **state)
{
	struct fx *f = *state;
	char *k3 = th_path(f->dir, "e3.key"), *c3 = th_path(f->dir, "e3.crt");
	struct err e;

	assert_int_equal(th_sh("openssl genpkey -algorithm RSA -pkeyopt "
	    "rsa_keygen_bits:3072 -pkeyopt rsa_keygen_pubexp:3 -out %s "
	    "2>/dev/null && openssl req -x509 -new -key %s -subj /CN=E3-CA "
	    "-days 30 -addext basicConstraints=critical,CA:TRUE -out %s",
	    k3, k3, c3), 0);
	err_clear(&e);
	assert_int_equal(ca_import_files(c3, k3, NULL, f->crt, f->key, NULL,
	    &e), -1);
	assert_int_equal(e.code, ERR_KEY_REJECTED);
	assert_non_null(strstr(e.msg, "65537"));
	assert_int_equal(access(f->key, F_OK), -1);

	/* The same pair put in place by hand does not load either. */
	assert_int_equal(th_sh("cp %s %s && cp %s %s && chmod 0400 %s", k3,
	    f->key, c3, f->crt, f->key), 0);
	err_clear(&e);
	assert_null(ca_load(f->crt, f->key, NULL, "http://x", &e));
	assert_int_equal(e.code, ERR_CRYPTO);
	assert_non_null(strstr(e.msg, "65537"));
	free(k3);
	free(c3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_each_type, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_wrong_owner, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_encrypted_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_import_openssl_rsa4096,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_import_unencrypted_ec_pkcs1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa_exponent_refused,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
