/*
 * What the network can ask for: one const table of routes, and the
 * matcher that maps a method and path onto a row.  Node routes and
 * /v1/renew (AUTH_MTLS) are further rows of the same table.
 */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "api_ca.h"
#include "api_fleet.h"
#include "rca_limits.h"

#define KB		1024
/* Body caps: issuance (a CSR and names), revoke, token creation. */
#define BODY_ISSUE	RCA_MAX_BODY_BYTES_DEFAULT
#define BODY_SMALL	(4 * KB)
#define BODY_TOKEN	(32 * KB)

static const struct api_route routes[] = {
	/* Certificates. */
	{ M_POST, "/v1/certificates", api_h_cert_issue, BODY_ISSUE,
	    AUTH_ADMIN_OR_ENROLL, "certificate.issue", false },
	{ M_GET, "/v1/certificates", api_h_cert_list, 0,
	    AUTH_ADMIN, NULL, false },
	{ M_POST, "/v1/certificates/generate", api_h_cert_generate,
	    BODY_ISSUE, AUTH_ADMIN_OR_ENROLL, "certificate.issue", false },
	{ M_GET, "/v1/certificates/{serial}", api_h_cert_get, 0,
	    AUTH_ADMIN, NULL, false },
	{ M_GET, "/v1/certificates/{serial}.pem", api_h_cert_pem, 0,
	    AUTH_ADMIN, NULL, false },
	{ M_POST, "/v1/certificates/{serial}/revoke", api_h_cert_revoke,
	    BODY_SMALL, AUTH_ADMIN, "certificate.revoke", false },
	/* Renewal by client certificate (HTTPS listener only). */
	{ M_POST, "/v1/renew", api_h_renew, BODY_ISSUE,
	    AUTH_MTLS, "certificate.renew", false },
	/* Tokens. */
	{ M_POST, "/v1/tokens", api_h_token_create, BODY_TOKEN,
	    AUTH_ADMIN, "token.create", false },
	{ M_GET, "/v1/tokens", api_h_token_list, 0,
	    AUTH_ADMIN, NULL, false },
	{ M_GET, "/v1/tokens/{id}", api_h_token_get, 0,
	    AUTH_ADMIN, NULL, false },
	{ M_DELETE, "/v1/tokens/{id}", api_h_token_delete, 0,
	    AUTH_ADMIN, "token.delete", false },
	/* Nodes and rotation (h_nodes.c). */
	{ M_POST, "/v1/nodes", api_h_node_create, BODY_SMALL,
	    AUTH_ADMIN, "node.create", false },
	{ M_GET, "/v1/nodes", api_h_node_list, 0,
	    AUTH_ADMIN, NULL, false },
	{ M_GET, "/v1/nodes/{name}", api_h_node_get, 0,
	    AUTH_ADMIN, NULL, false },
	{ M_DELETE, "/v1/nodes/{name}", api_h_node_delete, 0,
	    AUTH_ADMIN, "node.delete", false },
	{ M_POST, "/v1/nodes/{name}/rotate", api_h_node_rotate, 0,
	    AUTH_ADMIN, "node.rotate", false },
	{ M_GET, "/v1/nodes/{name}/rotations", api_h_node_rotations, 0,
	    AUTH_ADMIN, NULL, false },
	{ M_POST, "/v1/nodes/{name}/check", api_h_node_check, 0,
	    AUTH_ADMIN, "node.check", false },
	{ M_GET, "/v1/nodes/{name}/redis.conf", api_h_node_conf, 0,
	    AUTH_ADMIN, NULL, false },
	/* Fleets (SPEC section 11, h_groups.c, h_report.c): a pull
	 * node's report by its client certificate (HTTPS listener only). */
	{ M_POST, "/v1/nodes/report", api_h_node_report,
	    API_FLEET_BODY_REPORT, AUTH_MTLS, "node.report", false },
	{ M_GET, "/v1/groups", api_h_group_list, 0,
	    AUTH_ADMIN, NULL, false },
	{ M_POST, "/v1/groups/{group}/rotate", api_h_group_rotate,
	    API_FLEET_BODY_FLAG, AUTH_ADMIN, "group.rotate", false },
	/* CAs, the trust bundle and the CRLs: public. */
	{ M_GET, "/v1/ca", api_h_ca, 0, AUTH_PUBLIC, NULL, true },
	{ M_GET, "/v1/ca.pem", api_h_ca_pem, 0, AUTH_PUBLIC, NULL, true },
	{ M_GET, "/v1/ca/bundle.pem", api_h_ca_bundle, 0, AUTH_PUBLIC, NULL,
	    true },
	{ M_GET, "/v1/crl", api_h_crl, 0, AUTH_PUBLIC, NULL, true },
	{ M_GET, "/v1/crl.pem", api_h_crl_pem, 0, AUTH_PUBLIC, NULL, true },
	{ M_GET, "/v1/crl/{ski}", api_h_crl_ski, 0, AUTH_PUBLIC, NULL, true },
	{ M_GET, "/v1/crl/{ski}.pem", api_h_crl_ski_pem, 0, AUTH_PUBLIC,
	    NULL, true },
	/* CA rollover (SPEC section 10, h_ca_roll.c). */
	{ M_POST, "/v1/ca/prepare", api_h_ca_prepare, API_CA_BODY_PREPARE,
	    AUTH_ADMIN, "ca.prepare", false },
	{ M_POST, "/v1/ca/activate", api_h_ca_activate, API_CA_BODY_FLAG,
	    AUTH_ADMIN, "ca.activate", false },
	{ M_POST, "/v1/ca/retire", api_h_ca_retire, API_CA_BODY_FLAG,
	    AUTH_ADMIN, "ca.retire", false },
	/* Operations. */
	{ M_GET, "/healthz", api_h_healthz, 0, AUTH_PUBLIC, NULL, true },
	{ M_GET, "/readyz", api_h_readyz, 0, AUTH_PUBLIC, NULL, true },
	/* The service's, HTTP and nodes' series. */
	{ M_GET, "/metrics", api_h_metrics, 0, AUTH_PUBLIC, NULL, true },
	{ M_GET, "/v1/audit", api_h_audit, 0, AUTH_ADMIN, NULL, false },
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static const char *const method_names[M__MAX] = {
	[M_GET] = "GET",
	[M_POST] = "POST",
	[M_DELETE] = "DELETE",
};

const struct api_route *
api_route_table(size_t *n)
{
	*n = NROUTES;
	return routes;
}

const char *
api_method_name(enum api_method m)
{
	if ((unsigned)m >= M__MAX)
		return "?";
	return method_names[m];
}

int
api_method_parse(const char *s, enum api_method *out)
{
	if (strcmp(s, "HEAD") == 0) {
		*out = M_GET;
		return 0;
	}
	for (int m = 0; m < M__MAX; m++) {
		if (strcmp(s, method_names[m]) == 0) {
			*out = (enum api_method)m;
			return 0;
		}
	}
	return -1;
}

/*
 * Match one path segment [s, s+slen) against one pattern segment
 * [p, p+plen).  Returns 2 for a literal, 1 for a parameter with a
 * suffix, 0 for a bare parameter, -1 for no match; a parameter's value
 * goes to param (size API_PARAM_MAX).
 */
static int
seg_match(const char *p, size_t plen, const char *s, size_t slen,
    char *param, bool *is_param)
{
	const char *close;
	size_t suffix, vlen;

	*is_param = false;
	if (plen == 0 || p[0] != '{') {
		if (plen == slen && memcmp(p, s, plen) == 0)
			return 2;
		return -1;
	}
	close = memchr(p, '}', plen);
	if (close == NULL)
		return -1;
	suffix = plen - (size_t)(close + 1 - p);
	if (slen <= suffix)
		return -1;
	vlen = slen - suffix;
	if (suffix > 0 && memcmp(close + 1, s + vlen, suffix) != 0)
		return -1;
	if (vlen >= API_PARAM_MAX)
		return -1;
	memcpy(param, s, vlen);
	param[vlen] = '\0';
	*is_param = true;
	return suffix > 0 ? 1 : 0;
}

/*
 * Score path against pattern: -1 when it does not match, else two bits
 * per segment, left to right, so that the most literal pattern wins.
 */
static long
path_score(const char *pattern, const char *path, struct api_params *pp)
{
	const char *p = pattern, *s = path;
	long score = 0;
	size_t nseg = 0;

	pp->n = 0;
	if (*p != '/' || *s != '/')
		return -1;
	for (;;) {
		const char *pe, *se;
		bool is_param;
		int sc;

		p++;
		s++;
		pe = strchr(p, '/');
		se = strchr(s, '/');
		if (pe == NULL)
			pe = p + strlen(p);
		if (se == NULL)
			se = s + strlen(s);
		if (++nseg > 16 || pp->n >= API_MAX_PARAMS)
			return -1;
		sc = seg_match(p, (size_t)(pe - p), s, (size_t)(se - s),
		    pp->v[pp->n], &is_param);
		if (sc < 0)
			return -1;
		if (is_param)
			pp->n++;
		score = (score << 2) | sc;
		if (*pe == '\0' || *se == '\0') {
			if (*pe != *se)
				return -1;
			return score;
		}
		p = pe;
		s = se;
	}
}

enum api_match
api_route_match(const struct api_route *table, size_t n, bool public_only,
    const char *method, const char *path, const struct api_route **route,
    struct api_params *params, char *allow, size_t allowsz)
{
	struct api_params tmp;
	enum api_method m;
	long best = -1;
	bool have_method;
	size_t i, used = 0;

	have_method = api_method_parse(method, &m) == 0;
	*route = NULL;
	for (i = 0; i < n; i++) {
		long sc;

		if (public_only && !table[i].public)
			continue;
		sc = path_score(table[i].path, path, &tmp);
		if (sc < 0 || sc < best)
			continue;
		if (sc > best) {
			best = sc;
			*route = NULL;
		}
		if (have_method && table[i].method == m) {
			*route = &table[i];
			*params = tmp;
		}
	}
	if (best < 0)
		return MATCH_NOT_FOUND;
	if (*route != NULL)
		return MATCH_FOUND;
	/* Same pattern, other methods: list them for Allow. */
	if (allowsz > 0)
		allow[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *name;
		size_t len;

		if (public_only && !table[i].public)
			continue;
		if (path_score(table[i].path, path, &tmp) != best)
			continue;
		name = api_method_name(table[i].method);
		len = strlen(name);
		if (used + len + 3 > allowsz)
			break;
		if (used > 0) {
			memcpy(allow + used, ", ", 2);
			used += 2;
		}
		memcpy(allow + used, name, len + 1);
		used += len;
	}
	return MATCH_BAD_METHOD;
}

static struct api_route_info infos[NROUTES];
static pthread_once_t infos_once = PTHREAD_ONCE_INIT;

static void
infos_build(void)
{
	for (size_t i = 0; i < NROUTES; i++) {
		infos[i].method = api_method_name(routes[i].method);
		infos[i].path = routes[i].path;
		infos[i].public = routes[i].public;
	}
}

const struct api_route_info *
api_routes(size_t *n)
{
	pthread_once(&infos_once, infos_build);
	*n = NROUTES;
	return infos;
}
