/*
 * Fuzz target pem: the parsers of ca/ that read certificates and keys
 * from outside, each given the same bytes.  ca_verify_cert and
 * ca_csr_from_cert read the DER a client presents to POST /v1/renew;
 * ca_pem_fingerprint reads a PEM certificate; ca_import_files reads the
 * certificate and key files of `redis-ca init --import` (here one file
 * holding the input, used as both).  Verification runs against a fixed
 * CA (tests/fuzz/pem/, made by gen_pem_corpus.sh) at a fixed time, so
 * the seeds it issued verify.  Corpus: tests/fuzz/corpus/pem/.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "ca.h"
#include "fileio.h"
#include "fuzz.h"
#include "log.h"

#ifndef RCA_FUZZ_PEM_DIR
#error "RCA_FUZZ_PEM_DIR names the folder of the fixed CA"
#endif

/* Leaves of gen_pem_corpus.sh live 50 years; the CA 100. */
#define DAY		86400
#define CA_DAYS		36500

static struct ca	*fx_ca;
static int64_t		 fx_now;
static char		 fx_dir[64];
static char		 fx_key[128], fx_in[128];
static char		 fx_crt_out[128], fx_key_out[128];

static void
fx_cleanup(void)
{
	unlink(fx_key);
	unlink(fx_in);
	unlink(fx_crt_out);
	unlink(fx_key_out);
	rmdir(fx_dir);
	ca_free(fx_ca);
}

/* The fixed CA, loaded once; its key copied to a 0400 file (ca_load). */
static void
fx_init(void)
{
	char *key = NULL;
	size_t len = 0;
	struct err e;

	if (fx_ca != NULL)
		return;
	log_set_level(LOG_LVL_ERROR);
	/* The import path writes a file per input: tmpfs when there is one. */
	snprintf(fx_dir, sizeof(fx_dir), "%s/rca-fuzz-pem.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	fuzz_check(mkdtemp(fx_dir) != NULL);
	snprintf(fx_key, sizeof(fx_key), "%s/ca.key", fx_dir);
	snprintf(fx_in, sizeof(fx_in), "%s/in.pem", fx_dir);
	snprintf(fx_crt_out, sizeof(fx_crt_out), "%s/out.crt", fx_dir);
	snprintf(fx_key_out, sizeof(fx_key_out), "%s/out.key", fx_dir);
	atexit(fx_cleanup);
	fuzz_check(fio_read_all(RCA_FUZZ_PEM_DIR "/ca.key", 65536, &key, &len,
	    &e) == 0);
	fuzz_check(fio_write_excl(fx_key, key, len, 0400, &e) == 0);
	free(key);
	fx_ca = ca_load(RCA_FUZZ_PEM_DIR "/ca.crt", fx_key, NULL,
	    "http://ca.fuzz.invalid", &e);
	if (fx_ca == NULL) {
		fprintf(stderr, "fuzz_pem: cannot load the fixed CA: %s\n",
		    e.msg);
		abort();
	}
	fx_now = ca_not_after(fx_ca) - (int64_t)CA_DAYS * DAY + 30 * DAY;
}

static void
check_names(const struct names *n)
{
	for (int k = 0; k < NAME__MAX; k++) {
		fuzz_check(n->n[k] <= RCA_MAX_SANS);
		for (size_t i = 0; i < n->n[k]; i++)
			fuzz_check(n->list[k][i] != NULL);
	}
}

static bool
is_hex(const char *s, size_t want)
{
	size_t n = strlen(s);

	if (want != 0 && n != want)
		return false;
	return n > 0 && strspn(s, "0123456789abcdef") == n;
}

static void
fingerprint(const uint8_t *data, size_t len)
{
	char fp[RCA_SHA256_HEX + 1];
	struct err e;
	char *s;

	/* The function takes a C string: what follows a NUL is not seen. */
	fuzz_check((s = malloc(len + 1)) != NULL);
	memcpy(s, data, len);
	s[len] = '\0';
	if (ca_pem_fingerprint(s, fp, &e) == 0)
		fuzz_check(is_hex(fp, RCA_SHA256_HEX));
	else
		fuzz_check((e.code == ERR_INVALID_REQUEST ||
		    e.code == ERR_CRYPTO) && e.msg[0] != '\0');
	free(s);
}

/* The same-key renewal request; returns whether it was built. */
static bool
from_cert(const uint8_t *data, size_t len)
{
	struct ca_csr *csr;
	struct err e;

	if ((csr = ca_csr_from_cert(data, len, &e)) == NULL) {
		fuzz_check((e.code == ERR_INVALID_CSR ||
		    e.code == ERR_KEY_REJECTED || e.code == ERR_INTERNAL) &&
		    e.msg[0] != '\0');
		return false;
	}
	fuzz_check(ca_csr_key_type(csr) < KEY__MAX);
	check_names(ca_csr_names(csr));
	ca_csr_free(csr);
	return true;
}

static void
verify(const uint8_t *data, size_t len, bool renewable)
{
	struct ca_cert c;
	struct err e;

	if (ca_verify_cert(fx_ca, data, len, fx_now, &c, &e) == -1) {
		fuzz_check(e.code == ERR_UNAUTHORIZED ||
		    e.code == ERR_INVALID_REQUEST || e.code == ERR_CRYPTO ||
		    e.code == ERR_INTERNAL);
		fuzz_check(e.msg[0] != '\0');
		/* Only the serial survives a refusal, for the audit log. */
		fuzz_check(c.pem == NULL && c.der == NULL &&
		    c.names.cn == NULL);
		fuzz_check(c.serial[0] == '\0' || is_hex(c.serial, 0));
		return;
	}
	fuzz_check(is_hex(c.serial, 0) && is_hex(c.fingerprint,
	    RCA_SHA256_HEX));
	/* The certificate recorded is the one presented. */
	fuzz_check(c.der_len == len && memcmp(c.der, data, len) == 0);
	fuzz_check(c.pem != NULL);
	fuzz_check(c.not_before <= fx_now && fx_now <= c.not_after);
	fuzz_check(c.key_type < KEY__MAX);
	check_names(&c.names);
	/* What renewal accepts, it can turn into a request. */
	fuzz_check(renewable);
	ca_cert_clear(&c);
}

static void
import(const uint8_t *data, size_t len)
{
	struct err e;
	FILE *f;

	/* A new file each time: ext4 flushes a truncated one on close. */
	(void)unlink(fx_in);
	fuzz_check((f = fopen(fx_in, "wb")) != NULL);
	fuzz_check(fwrite(data, 1, len, f) == len || len == 0);
	fuzz_check(fclose(f) == 0);
	if (ca_import_files(fx_in, fx_in, NULL, fx_crt_out, fx_key_out, NULL,
	    &e) == 0) {
		fuzz_check(access(fx_crt_out, R_OK) == 0 &&
		    access(fx_key_out, R_OK) == 0);
		fuzz_check(unlink(fx_crt_out) == 0 && unlink(fx_key_out) == 0);
		return;
	}
	fuzz_check(e.code == ERR_INVALID_REQUEST || e.code == ERR_IO ||
	    e.code == ERR_KEY_REJECTED || e.code == ERR_CRYPTO);
	fuzz_check(e.msg[0] != '\0');
	fuzz_check(access(fx_crt_out, F_OK) == -1 && errno == ENOENT);
	fuzz_check(access(fx_key_out, F_OK) == -1 && errno == ENOENT);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	bool renewable;

	fx_init();
	fingerprint(data, len);
	ERR_clear_error();
	renewable = from_cert(data, len);
	ERR_clear_error();
	verify(data, len, renewable);
	ERR_clear_error();
	import(data, len);
	ERR_clear_error();
	return 0;
}
