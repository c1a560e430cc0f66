/*
 * Writes the seed corpus of the CSR fuzz harness: one file per case of
 * csr_gen.c, DER (<name>.der) when the case is about the structure,
 * PEM text (<name>.pem) when it is about the armour; and the seeds of
 * the harness's signing mode (tbs-<n>.tbs: 'T' and a
 * CertificationRequestInfo for the fixed key).
 * Usage: gen_csr_corpus DIR   (files of the same name are replaced)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "csr_gen.h"

static int
pem_case(enum cg_kind k)
{
	return k == CG_OLD_LABEL || k == CG_CRLF || k == CG_TWO_PEM ||
	    k == CG_TRAILING_TEXT || k == CG_LEADING_TEXT ||
	    k == CG_PEM_HEADER || k == CG_WRONG_LABEL;
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_csr_corpus DIR\n");
		return 2;
	}
	for (int k = 0; k < CG__MAX; k++) {
		char *pem = cg_pem((enum cg_kind)k), *path = NULL;
		unsigned char *der = NULL;
		char *name = NULL, *hdr = NULL;
		long dlen = 0;
		FILE *f;
		int ok;

		if (pem == NULL)
			return 1;
		if (asprintf(&path, "%s/%s.%s", argv[1], cg_cases[k].name,
		    pem_case(k) ? "pem" : "der") < 0 ||
		    (f = fopen(path, "wb")) == NULL) {
			perror(path);
			return 1;
		}
		if (pem_case(k)) {
			ok = fwrite(pem, 1, strlen(pem), f) == strlen(pem);
		} else {
			BIO *b = BIO_new_mem_buf(pem, -1);

			ok = PEM_read_bio_ex(b, &name, &hdr, &der, &dlen, 0) ==
			    1 && fwrite(der, 1, (size_t)dlen, f) ==
			    (size_t)dlen;
			BIO_free(b);
		}
		if (fclose(f) != 0 || !ok) {
			fprintf(stderr, "cannot write %s\n", path);
			return 1;
		}
		printf("%s\n", path);
		OPENSSL_free(der);
		OPENSSL_free(name);
		OPENSSL_free(hdr);
		free(path);
		free(pem);
	}
	for (int i = 0; i < CG_TBS_SEEDS; i++) {
		size_t n = 0;
		unsigned char *t = cg_tbs_seed(i, &n);
		char *path = NULL;
		FILE *f;

		if (t == NULL || asprintf(&path, "%s/tbs-%d.tbs", argv[1], i) <
		    0 || (f = fopen(path, "wb")) == NULL || fputc('T', f) ==
		    EOF || fwrite(t, 1, n, f) != n || fclose(f) != 0) {
			fprintf(stderr, "cannot write tbs seed %d\n", i);
			return 1;
		}
		printf("%s\n", path);
		free(path);
		free(t);
	}
	return 0;
}
