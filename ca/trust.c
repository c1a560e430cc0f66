/*
 * Several CAs at once (SPEC 10): the trust bundle the nodes and clients
 * get (every CA's anchors, deduplicated) and the verification of a
 * client certificate issued by any CA of the bundle.
 */
#include <stdlib.h>
#include <string.h>

#include "ca_priv.h"

#include <openssl/err.h>

/*
 * The anchors of every CA (store, trusted), their issuing certificates
 * and intermediates (untrusted), and the issuing certificate of each CA
 * in the order given (issuers[i] is cas[i]'s), to say which one issued
 * a leaf.
 */
struct ca_trust {
	X509_STORE	*store;
	STACK_OF(X509)	*untrusted;
	STACK_OF(X509)	*issuers;
};

/* Append the certificates of from to to (references taken). */
static int
push_all(STACK_OF(X509) *to, STACK_OF(X509) *from)
{
	for (int i = 0; i < sk_X509_num(from); i++) {
		X509 *x = sk_X509_value(from, i);

		if (!X509_up_ref(x))
			return -1;
		if (sk_X509_push(to, x) <= 0) {
			X509_free(x);
			return -1;
		}
	}
	return 0;
}

struct ca_trust *
ca_trust_new(const struct ca *const *cas, size_t n, struct err *e)
{
	struct ca_trust *t = NULL, *ret = NULL;
	bool partial = false;

	if (n == 0 || n > INT32_MAX) {
		err_set(e, ERR_INVALID_REQUEST, "no CA to trust");
		goto out;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->store = X509_STORE_new()) == NULL ||
	    (t->untrusted = sk_X509_new_null()) == NULL ||
	    (t->issuers = sk_X509_new_null()) == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const struct ca *ca = cas[i];

		/* The store ignores a certificate it already holds. */
		for (int j = 0; j < sk_X509_num(ca->anchors); j++)
			if (X509_STORE_add_cert(t->store,
			    sk_X509_value(ca->anchors, j)) != 1)
				goto fail;
		if ((ca->untrusted != NULL &&
		    push_all(t->untrusted, ca->untrusted) == -1) ||
		    !X509_up_ref(ca->cert))
			goto fail;
		if (sk_X509_push(t->issuers, ca->cert) <= 0) {
			X509_free(ca->cert);
			goto fail;
		}
		partial = partial || ca->partial;
	}
	if (partial)
		X509_STORE_set_flags(t->store, X509_V_FLAG_PARTIAL_CHAIN);
	ret = t;
	t = NULL;
	goto out;
fail:
	ca_ssl_fail("building a trust set", ERR_CRYPTO,
	    "cannot build the set of trusted CAs", e);
out:
	ca_trust_free(t);
	return ret;
}

void
ca_trust_free(struct ca_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->store);
	sk_X509_pop_free(t->untrusted, X509_free);
	sk_X509_pop_free(t->issuers, X509_free);
	free(t);
}

int
ca_trust_verify_cert(const struct ca_trust *t, const unsigned char *der,
    size_t len, int64_t now, int *which, struct ca_cert *out,
    struct err *e)
{
	const struct ca_leaf_trust lt = {
		.store = t->store, .untrusted = t->untrusted,
		.issuers = t->issuers, .issuers_name = "a CA of the bundle",
	};

	return ca_leaf_check(&lt, der, len, now, which, out, e);
}

/* True when fp is among the first n fingerprints of seen. */
static bool
seen_fp(char (*seen)[RCA_SHA256_HEX + 1], size_t n, const char *fp)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(seen[i], fp) == 0)
			return true;
	return false;
}

char *
ca_bundle_pem(const struct ca *const *cas, size_t n,
    char etag[RCA_ETAG_MAX], struct err *e)
{
	char (*seen)[RCA_SHA256_HEX + 1] = NULL;
	char *pem = NULL, *ret = NULL, *one = NULL, *grown;
	char hex[RCA_SHA256_HEX + 1];
	unsigned char *der = NULL;
	size_t nseen = 0, len = 0, dlen, olen, total = 0;

	etag[0] = '\0';
	if (n == 0) {
		err_set(e, ERR_INVALID_REQUEST, "no CA for the bundle");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		total += (size_t)sk_X509_num(cas[i]->anchors);
	if ((seen = calloc(total + 1, sizeof(*seen))) == NULL ||
	    (pem = strdup("")) == NULL)
		goto mem;
	for (size_t i = 0; i < n; i++) {
		for (int j = 0; j < sk_X509_num(cas[i]->anchors); j++) {
			if ((der = ca_x509_der(sk_X509_value(cas[i]->anchors,
			    j), &dlen)) == NULL)
				goto mem;
			ca_sha256_hex(der, dlen, hex);
			if (!seen_fp(seen, nseen, hex)) {
				memcpy(seen[nseen++], hex, sizeof(hex));
				if ((one = ca_pem_encode("CERTIFICATE", der,
				    dlen)) == NULL)
					goto mem;
				olen = strlen(one);
				if ((grown = realloc(pem, len + olen + 1)) ==
				    NULL)
					goto mem;
				pem = grown;
				memcpy(pem + len, one, olen + 1);
				len += olen;
				free(one);
				one = NULL;
			}
			free(der);
			der = NULL;
		}
	}
	ca_sha256_hex(pem, len, hex);
	snprintf(etag, RCA_ETAG_MAX, "\"%.32s\"", hex);
	ret = pem;
	pem = NULL;
	goto out;
mem:
	err_set(e, ERR_INTERNAL, "out of memory");
out:
	free(one);
	free(der);
	free(pem);
	free(seen);
	return ret;
}
