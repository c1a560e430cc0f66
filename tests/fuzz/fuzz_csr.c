/*
 * Differential fuzz harness for ca/csr.c: the same bytes go to
 * ca_csr_parse() (the fast path) and to the reference checker
 * (csr_ref.c: d2i_X509_REQ + X509_REQ_verify + SPEC section 8), and
 * any disagreement in accept/refuse, error class, key type, canonical
 * key or names aborts.  Three forms of input:
 *   0x30 ...  DER, armoured as a CERTIFICATE REQUEST first (so the
 *             fuzzer mutates the structure, not base64);
 *   'T' ...   a CertificationRequestInfo that the harness signs with a
 *             fixed P-256 key (csr_gen.c), so mutations of the signed
 *             part (names, attributes) still verify and reach the name
 *             checks;
 *   else      PEM text as it is.
 *
 * Built with -DRCA_LIBFUZZER it is the libFuzzer target `csr`; without,
 * main() replays the files and folders named on the command line (the
 * corpus under meson test).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ca.h"
#include "csr_gen.h"
#include "csr_ref.h"

#include <openssl/evp.h>

int	LLVMFuzzerTestOneInput(const unsigned char *data, size_t len);

static const char *where = "stdin";

static void
disagree(const char *what, const struct err *e, const struct csr_ref *r)
{
	fprintf(stderr, "fuzz_csr: %s: %s\n  fast path: %s (%s)\n"
	    "  reference: %s (%s)\n", where, what, err_code_name(e->code),
	    e->msg, err_code_name(r->code), r->msg);
	abort();
}

/* DER armoured as PEM (new). */
static char *
armour(const unsigned char *der, size_t n, size_t *outlen)
{
	size_t cap = 80 + (n + 47) / 48 * 66, o = 0;
	char *pem = malloc(cap);

	if (pem == NULL)
		abort();
	o += (size_t)sprintf(pem, "-----BEGIN CERTIFICATE REQUEST-----\n");
	for (size_t off = 0; off < n; off += 48) {
		o += (size_t)EVP_EncodeBlock((unsigned char *)pem + o,
		    der + off, (int)(n - off < 48 ? n - off : 48));
		pem[o++] = '\n';
	}
	o += (size_t)sprintf(pem + o, "-----END CERTIFICATE REQUEST-----\n");
	*outlen = o;
	return pem;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	char hash[RCA_SHA256_HEX + 1];
	struct ca_csr *csr;
	struct csr_ref r;
	struct err e;
	size_t plen;
	char *pem;

	static EVP_PKEY *fixed;
	unsigned char *der = NULL;
	size_t dlen;

	if (len > 2 * RCA_MAX_CSR_BYTES)
		return 0;
	if (len > 0 && data[0] == 'T') {
		if (fixed == NULL && (fixed = cg_fixed_key()) == NULL)
			abort();
		if (cg_sign_tbs(fixed, data + 1, len - 1, &der, &dlen) == -1)
			abort();
		pem = armour(der, dlen, &plen);
		free(der);
	} else if (len > 0 && data[0] == 0x30) {
		pem = armour(data, len, &plen);
	} else {
		if ((pem = malloc(len + 1)) == NULL)
			abort();
		memcpy(pem, data, len);
		pem[len] = '\0';
		plen = len;
	}
	err_clear(&e);
	csr = ca_csr_parse(pem, plen, &e);
	csr_ref_check(pem, plen, &r);
	if ((csr != NULL) != (r.code == ERR_OK))
		disagree(csr != NULL ? "fast path accepts, reference refuses" :
		    "fast path refuses, reference accepts", &e, &r);
	if (csr == NULL) {
		if (e.code != r.code)
			disagree("different error classes", &e, &r);
		if (e.msg[0] == '\0')
			disagree("refusal without a message", &e, &r);
	} else {
		if (ca_csr_key_type(csr) != r.key_type)
			disagree("different key types", &e, &r);
		if (ca_csr_spki_sha256(csr, hash) != 0 ||
		    strcmp(hash, r.spki_sha256) != 0)
			disagree("different canonical keys", &e, &r);
		if (!names_equal(ca_csr_names(csr), &r.names) ||
		    (ca_csr_names(csr)->cn == NULL) != (r.names.cn == NULL) ||
		    (r.names.cn != NULL &&
		    strcmp(ca_csr_names(csr)->cn, r.names.cn) != 0))
			disagree("different names", &e, &r);
	}
	csr_ref_clear(&r);
	ca_csr_free(csr);
	free(pem);
	return 0;
}

#ifndef RCA_LIBFUZZER
static int
run_file(const char *path)
{
	static unsigned char buf[4 * RCA_MAX_CSR_BYTES];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "fuzz_csr: cannot read %s\n", path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	where = path;
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A folder: every regular file in it, in name order. */
static int
run_dir(const char *dir, int *count)
{
	struct dirent *d;
	char **names = NULL, *p;
	size_t n = 0;
	DIR *dp;
	int rc = 0;

	if ((dp = opendir(dir)) == NULL)
		return -1;
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if ((names = realloc(names, (n + 1) * sizeof(*names))) ==
		    NULL || asprintf(&p, "%s/%s", dir, d->d_name) < 0)
			abort();
		names[n++] = p;
	}
	closedir(dp);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (run_file(names[i]) == -1)
			rc = -1;
		else
			(*count)++;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	static unsigned char buf[4 * RCA_MAX_CSR_BYTES];
	struct stat st;
	int rc = 0, count = 0;

	if (argc < 2) {
		size_t n = fread(buf, 1, sizeof(buf), stdin);

		LLVMFuzzerTestOneInput(buf, n);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &count) == -1)
				rc = 1;
		} else if (run_file(argv[i]) == -1)
			rc = 1;
		else
			count++;
	}
	printf("fuzz_csr: %d inputs, fast path and reference agree\n", count);
	return rc;
}
#endif
