/*
 * Bodies and path parameters of the CA lifecycle routes: POST
 * /v1/ca/prepare, the {"force"} of activate and retire, and the {ski}
 * of /v1/crl/{ski}.  Pure: no network, no service.
 */
#include <ctype.h>
#include <string.h>

#include "api_ca.h"
#include "rca_limits.h"

/* An empty body reads as {}: nothing asked but the default. */
static int
load_or_empty(const char *body, size_t len, json_t **root, struct err *e)
{
	*root = NULL;
	if (body == NULL || len == 0)
		return 0;
	return api_json_load(body, len, root, e);
}

/* The key_type and days of a new key (absent: the defaults). */
static int
decode_new_key(json_t *root, struct svc_ca_prepare_req *req,
    struct err *e)
{
	const char *kt = api_opt_string(root, "key_type");
	json_t *days = json_object_get(root, "days");

	if (kt != NULL) {
		if (key_type_parse(kt, &req->key_type) == -1) {
			err_set(e, ERR_INVALID_REQUEST, "field 'key_type': "
			    "unknown key type '%.32s' (ec-p256, ec-p384, "
			    "rsa-2048, rsa-3072, rsa-4096)", kt);
			return -1;
		}
		req->key_type_set = true;
	}
	if (json_is_integer(days)) {
		json_int_t d = json_integer_value(days);

		if (d < 1 || d > API_CA_DAYS_MAX) {
			err_set(e, ERR_INVALID_REQUEST, "field 'days' must be "
			    "from 1 to %d", API_CA_DAYS_MAX);
			return -1;
		}
		req->days = (int)d;
	}
	return 0;
}

int
api_decode_ca_prepare(const char *body, size_t len,
    struct api_ca_prepare_body *b, struct err *e)
{
	static const struct api_field fields[] = {
		{ "key_type", API_F_STRING, false },
		{ "days", API_F_INTEGER, false },
		{ "csr", API_F_BOOLEAN, false },
		{ "certificate", API_F_STRING, false },
		{ "chain", API_F_STRING, false },
	};
	json_t *root = NULL, *csr;
	int rc = -1;

	memset(b, 0, sizeof(*b));
	if (load_or_empty(body, len, &root, e) == -1)
		goto out;
	if (root == NULL) {
		rc = 0;
		goto out;
	}
	if (api_check_fields(root, "", fields,
	    sizeof(fields) / sizeof(fields[0]), e) == -1)
		goto out;
	csr = json_object_get(root, "csr");
	b->req.csr_only = json_is_true(csr);
	b->req.cert_pem = api_opt_string(root, "certificate");
	b->req.chain_pem = api_opt_string(root, "chain");
	if (b->req.chain_pem != NULL && b->req.cert_pem == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "field 'chain' goes with "
		    "'certificate'");
		goto out;
	}
	if (b->req.cert_pem != NULL) {
		/* A certificate brings its own key: nothing to generate. */
		if (json_object_get(root, "key_type") != NULL ||
		    json_object_get(root, "days") != NULL ||
		    json_is_boolean(csr)) {
			err_set(e, ERR_INVALID_REQUEST, "field 'certificate' "
			    "goes alone (or with 'chain'): not with "
			    "'key_type', 'days' or 'csr'");
			goto out;
		}
		if (b->req.cert_pem[0] == '\0') {
			err_set(e, ERR_INVALID_REQUEST, "field 'certificate' "
			    "is empty");
			goto out;
		}
	} else if (decode_new_key(root, &b->req, e) == -1)
		goto out;
	rc = 0;
out:
	if (rc == 0)
		b->root = root;
	else {
		json_decref(root);
		memset(b, 0, sizeof(*b));
	}
	return rc;
}

void
api_ca_prepare_body_free(struct api_ca_prepare_body *b)
{
	if (b == NULL)
		return;
	json_decref(b->root);
	memset(b, 0, sizeof(*b));
}

int
api_decode_ca_force(const char *body, size_t len, bool *force,
    struct err *e)
{
	static const struct api_field fields[] = {
		{ "force", API_F_BOOLEAN, false },
	};
	json_t *root = NULL;
	int rc = -1;

	*force = false;
	if (load_or_empty(body, len, &root, e) == -1)
		goto out;
	if (root != NULL) {
		if (api_check_fields(root, "", fields, 1, e) == -1)
			goto out;
		*force = json_is_true(json_object_get(root, "force"));
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int
api_decode_ski(const char *s, char out[RCA_SKI_HEX_MAX + 1],
    struct err *e)
{
	size_t n = strlen(s);

	if (n < 2 || n > RCA_SKI_HEX_MAX || n % 2 != 0) {
		err_set(e, ERR_INVALID_REQUEST, "a CA is named by its subject "
		    "key identifier: an even number of hex digits, 2 to %d",
		    RCA_SKI_HEX_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i])) {
			err_set(e, ERR_INVALID_REQUEST, "the CA's subject key "
			    "identifier must be hex digits");
			return -1;
		}
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[n] = '\0';
	return 0;
}
