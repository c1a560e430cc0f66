/*
 * Renewal (/v1/renew) for an actor auth.c authenticated by certificate:
 * the successor keeps profile, names, node and lifetime; same or new key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "svc_int.h"
#include "timeutil.h"

#define ACTION_RENEW	"certificate.renew"

int
svc_renew(struct svc *s, const struct svc_actor *a, const char *csr_pem,
    size_t csr_len, struct svc_issued *out, struct err *e)
{
	const struct cert_rec	*old;
	const struct profile	*p;
	struct ca_csr		*csr = NULL;
	struct ca_issue_params	 ip;
	struct err		 le;
	char			 extra[64];
	char			 spki[RCA_SHA256_HEX + 1];
	int64_t			 ttl;
	int			 rc = -1;

	ERR_LOCAL(e, le);
	err_clear(e);
	memset(out, 0, sizeof(*out));
	out->cert.reason = -1;

	if (a == NULL || a->kind != ACTOR_MTLS || a->cert_der == NULL) {
		err_set(e, ERR_FORBIDDEN, "renewal needs a client "
		    "certificate");
		goto out;
	}
	old = &a->cert;
	if ((p = svc_profile(s, old->profile)) == NULL) {
		err_set(e, ERR_UNKNOWN_PROFILE, "profile %s is no longer "
		    "configured", old->profile);
		goto out;
	}
	if (csr_pem != NULL) {
		if ((csr = svc_csr_read(csr_pem, csr_len, e)) == NULL)
			goto out;
		if (!names_equal(ca_csr_names(csr), &old->names)) {
			err_set(e, ERR_NAME_NOT_ALLOWED, "the CSR must carry "
			    "the same names as the certificate");
			goto out;
		}
	} else if ((csr = ca_csr_from_cert(a->cert_der, a->cert_der_len,
	    e)) == NULL)
		goto out;

	/* The same lifetime, unless the profile has since been tightened. */
	ttl = old->not_after - old->not_before - RCA_BACKDATE_SECONDS;
	if (ttl > p->max_ttl)
		ttl = p->max_ttl;
	if (ttl < 1)
		ttl = 0;
	memset(&ip, 0, sizeof(ip));
	ip.profile = p;
	ip.ttl = ttl;
	ip.now = tu_now();
	if (ca_policy_check(csr, &ip, e) == -1)
		goto out;
	if (svc_key_check(s, csr, spki, e) == -1)
		goto out;
	snprintf(extra, sizeof(extra), " from=%s", old->serial);
	if (svc_sign_store(s, a, ACTION_RENEW, p, csr, &ip, spki,
	    old->node[0] != '\0' ? old->node : NULL, extra, out, e) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1) {
		svc_fail(s, a, ACTION_RENEW, a != NULL ? a->cert.serial : NULL,
		    e);
		svc_issued_clear(out);
	}
	ca_csr_free(csr);
	return rc;
}
