/* Fixtures shared by the ca/ tests. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#include <openssl/err.h>
#include <openssl/pem.h>

char *
th_tmpdir(void)
{
	char *d = strdup("/tmp/rca-ca-test-XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

void
th_rmrf(const char *dir)
{
	if (dir != NULL)
		(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
th_path(const char *dir, const char *name)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

void
th_write(const char *path, const char *data, int mode)
{
	FILE *f;

	(void)unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(data, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, (mode_t)mode), 0);
}

int
th_sh(const char *fmt, ...)
{
	char *cmd = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	assert_true(vasprintf(&cmd, fmt, ap) > 0);
	va_end(ap);
	rc = system(cmd);
	free(cmd);
	return rc == -1 ? -1 : WEXITSTATUS(rc);
}

struct ca *
th_ca(const char *dir, enum key_type t, int days, const char *public_url)
{
	struct ca_create_opts o = { t, "Test CA", days, NULL };
	char *crt = th_path(dir, "ca.crt"), *key = th_path(dir, "ca.key");
	struct err e = { 0 };
	struct ca *ca;

	if (ca_create_files(crt, key, &o, &e) == -1)
		fail_msg("ca_create_files: %s", e.msg);
	if ((ca = ca_load(crt, key, NULL, public_url, &e)) == NULL)
		fail_msg("ca_load: %s", e.msg);
	free(crt);
	free(key);
	return ca;
}

void
th_fx_init(struct th_fx *x, int days, const char *public_url)
{
	x->dir = th_tmpdir();
	x->ca = th_ca(x->dir, KEY_EC_P256, days, public_url);
}

void
th_fx_clear(struct th_fx *x)
{
	ca_free(x->ca);
	th_rmrf(x->dir);
	free(x->dir);
	x->ca = NULL;
	x->dir = NULL;
}

struct th_fx *
th_fx_new(int days, const char *public_url)
{
	struct th_fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	th_fx_init(x, days, public_url);
	return x;
}

int
th_fx_teardown(void **state)
{
	struct th_fx *x = *state;

	th_fx_clear(x);
	free(x);
	return 0;
}

X509_CRL *
th_crl_parse(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);

	assert_non_null(crl);
	assert_ptr_equal(p, der + len);
	return crl;
}

struct ca *
th_ca2(const char *dir, const char *root_dir, const char *cn,
    const char *public_url)
{
	struct ca_create_opts ro = { KEY_EC_P256, "Test Root", 0, NULL };
	struct ca_create_opts o = { KEY_EC_P256, cn, 0, NULL };
	char *rkey = th_path(root_dir, "root.key");
	char *rcrt = th_path(root_dir, "root.crt");
	char *crt = th_path(dir, "ca.crt"), *key = th_path(dir, "ca.key");
	char *roots = th_path(dir, "roots.pem");
	struct ca_new n = { .cert_pem = NULL };
	struct err e = { 0 };
	struct ca *ca;

	if (access(rkey, F_OK) == -1 && ca_create_root(root_dir, &ro, &e) ==
	    -1)
		fail_msg("ca_create_root: %s", e.msg);
	if (ca_create_signed(key, rcrt, rkey, NULL, &o, &n, &e) == -1)
		fail_msg("ca_create_signed: %s", e.msg);
	th_write(crt, n.cert_pem, 0444);
	th_write(roots, n.anchors_pem, 0444);
	if ((ca = ca_load(crt, key, NULL, public_url, &e)) == NULL)
		fail_msg("ca_load: %s", e.msg);
	ca_new_clear(&n);
	free(rkey);
	free(rcrt);
	free(crt);
	free(key);
	free(roots);
	return ca;
}

char *
th_read(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

void
th_leaf(struct ca *ca, const struct profile *p, const char *cn,
    int64_t now, int64_t ttl, struct ca_cert *out)
{
	char san[300];
	struct ca_issue_params ip = { p, ttl, 0, now };
	struct ca_csr *csr;
	struct err e = { 0 };
	char *pem;

	snprintf(san, sizeof(san), "DNS:%s", cn);
	pem = th_csr_simple(cn, san);
	if ((csr = ca_csr_parse(pem, strlen(pem), &e)) == NULL)
		fail_msg("ca_csr_parse: %s", e.msg);
	if (ca_issue(ca, csr, &ip, out, &e) == -1)
		fail_msg("ca_issue: %s", e.msg);
	ca_csr_free(csr);
	free(pem);
}

EVP_PKEY *
th_key_ec(const char *curve)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	assert_non_null(k);
	return k;
}

EVP_PKEY *
th_key_rsa(int bits)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);

	assert_non_null(k);
	return k;
}

EVP_PKEY *
th_key_dsa(void)
{
	EVP_PKEY_CTX *pc, *kc;
	EVP_PKEY *params = NULL, *k = NULL;

	pc = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL);
	assert_non_null(pc);
	assert_int_equal(EVP_PKEY_paramgen_init(pc), 1);
	assert_int_equal(EVP_PKEY_CTX_set_dsa_paramgen_bits(pc, 1024), 1);
	assert_int_equal(EVP_PKEY_CTX_set_dsa_paramgen_q_bits(pc, 160), 1);
	assert_int_equal(EVP_PKEY_paramgen(pc, &params), 1);
	kc = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL);
	assert_non_null(kc);
	assert_int_equal(EVP_PKEY_keygen_init(kc), 1);
	assert_int_equal(EVP_PKEY_keygen(kc, &k), 1);
	EVP_PKEY_CTX_free(kc);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(params);
	return k;
}

EVP_PKEY *
th_key_ed25519(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	assert_non_null(k);
	return k;
}

static void
add_ext(STACK_OF(X509_EXTENSION) *exts, int nid, const char *v)
{
	X509_EXTENSION *x;

	if (v == NULL)
		return;
	x = X509V3_EXT_nconf_nid(NULL, NULL, nid, v);
	assert_non_null(x);
	assert_true(sk_X509_EXTENSION_push(exts, x) > 0);
}

char *
th_csr_pem(EVP_PKEY *key, const struct th_csr *c)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	BIO *bio = BIO_new(BIO_s_mem());
	const EVP_MD *md;
	char *data, *out;
	long n;

	assert_non_null(req);
	if (c->o != NULL)
		assert_int_equal(X509_NAME_add_entry_by_txt(name, "O",
		    MBSTRING_UTF8, (const unsigned char *)c->o, -1, -1, 0), 1);
	if (c->ou != NULL)
		assert_int_equal(X509_NAME_add_entry_by_txt(name, "OU",
		    MBSTRING_UTF8, (const unsigned char *)c->ou, -1, -1, 0), 1);
	if (c->cn != NULL)
		assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN",
		    MBSTRING_UTF8, (const unsigned char *)c->cn, -1, -1, 0), 1);
	assert_int_equal(X509_REQ_set_subject_name(req, name), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	add_ext(exts, NID_subject_alt_name, c->san);
	add_ext(exts, NID_basic_constraints, c->bc);
	add_ext(exts, NID_key_usage, c->ku);
	add_ext(exts, NID_ext_key_usage, c->eku);
	if (sk_X509_EXTENSION_num(exts) > 0)
		assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
	md = EVP_PKEY_is_a(key, "ED25519") ? NULL : EVP_sha256();
	assert_true(X509_REQ_sign(req, key, md) > 0);
	if (c->corrupt) {
		const ASN1_BIT_STRING *sig;
		const X509_ALGOR *alg;

		X509_REQ_get0_signature(req, &sig, &alg);
		((ASN1_BIT_STRING *)sig)->data[sig->length / 2] ^= 0x01;
	}
	assert_int_equal(PEM_write_bio_X509_REQ(bio, req), 1);
	n = BIO_get_mem_data(bio, &data);
	out = malloc((size_t)n + 1);
	assert_non_null(out);
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	BIO_free(bio);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return out;
}

char *
th_csr_simple(const char *cn, const char *san)
{
	EVP_PKEY *k = th_key_ec("P-256");
	struct th_csr c = { .cn = cn, .san = san };
	char *pem = th_csr_pem(k, &c);

	EVP_PKEY_free(k);
	return pem;
}

void
th_profile_node(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	strcpy(p->name, "redis-node");
	p->eku = EKU_SERVER_AUTH | EKU_CLIENT_AUTH;
	p->require_san = true;
	p->default_ttl = 72 * 3600;
	p->max_ttl = 30 * 86400;
	p->key_types = KEY_BIT(KEY_EC_P256) | KEY_BIT(KEY_EC_P384) |
	    KEY_BIT(KEY_RSA_2048) | KEY_BIT(KEY_RSA_3072) |
	    KEY_BIT(KEY_RSA_4096);
}

void
th_profile_client(struct profile *p)
{
	th_profile_node(p);
	strcpy(p->name, "redis-client");
	p->eku = EKU_CLIENT_AUTH;
	p->require_san = false;
	p->default_ttl = 24 * 3600;
	p->max_ttl = 7 * 86400;
}

X509 *
th_x509(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

	assert_non_null(x);
	BIO_free(b);
	return x;
}

int64_t
th_time(const ASN1_TIME *t)
{
	struct tm tm;

	assert_int_equal(ASN1_TIME_to_tm(t, &tm), 1);
	return (int64_t)timegm(&tm);
}
