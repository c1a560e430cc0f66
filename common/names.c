/* Bounded, de-duplicated lists of certificate names. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rca_limits.h"
#include "names.h"

void
names_clear(struct names *n)
{
	if (n == NULL)
		return;
	free(n->cn);
	n->cn = NULL;
	for (int k = 0; k < NAME__MAX; k++) {
		for (size_t i = 0; i < n->n[k]; i++)
			free(n->list[k][i]);
		free(n->list[k]);
		n->list[k] = NULL;
		n->n[k] = 0;
	}
}

bool
names_has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return true;
	return false;
}

int
names_set_cn(struct names *n, const char *cn, struct err *e)
{
	char *c;

	if (cn == NULL || cn[0] == '\0' || strlen(cn) > RCA_MAX_NAME_LEN ||
	    names_has_ctl(cn)) {
		err_set(e, ERR_INVALID_REQUEST,
		    "common_name must be 1 to %d printable characters",
		    RCA_MAX_NAME_LEN);
		return -1;
	}
	if ((c = strdup(cn)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	free(n->cn);
	n->cn = c;
	return 0;
}

bool
names_is_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

bool
names_is_dns(const char *s)
{
	size_t len = strlen(s), lab = 0;

	if (len == 0 || len > RCA_MAX_NAME_LEN || s[len - 1] == '.')
		return false;
	if (names_is_ip(s))
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (lab == 0 || lab > 63 || s[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (lab == 0 && c == '-')
			return false;
		/* A wildcard is only ever the whole leftmost label. */
		if (!isalnum((unsigned char)c) && c != '-' && c != '_' &&
		    !(c == '*' && i == 0 && s[1] == '.'))
			return false;
		lab++;
	}
	return true;
}

static int
canon_ip(const char *v, char *out, size_t outsz)
{
	unsigned char buf[16];

	if (inet_pton(AF_INET, v, buf) == 1)
		return inet_ntop(AF_INET, buf, out, (socklen_t)outsz) ? 0 : -1;
	if (inet_pton(AF_INET6, v, buf) == 1)
		return inet_ntop(AF_INET6, buf, out, (socklen_t)outsz) ? 0 :
		    -1;
	return -1;
}

int
names_add(struct names *n, enum name_kind k, const char *v, struct err *e)
{
	static const char *const kind[NAME__MAX] = { "dns", "ip", "uri" };
	char ip[64];
	char **p, *c;
	size_t max = k == NAME_URI ? RCA_MAX_URI_LEN : RCA_MAX_NAME_LEN;

	if ((unsigned)k >= NAME__MAX || v == NULL || v[0] == '\0' ||
	    strlen(v) > max || names_has_ctl(v)) {
		err_set(e, ERR_INVALID_REQUEST, "invalid %s name",
		    (unsigned)k < NAME__MAX ? kind[k] : "?");
		return -1;
	}
	if (k == NAME_IP) {
		if (canon_ip(v, ip, sizeof(ip)) == -1) {
			err_set(e, ERR_INVALID_REQUEST,
			    "not an IP address: %.64s", v);
			return -1;
		}
		v = ip;
	} else if (k == NAME_DNS && !names_is_dns(v)) {
		err_set(e, ERR_INVALID_REQUEST, "not a DNS name: %.64s", v);
		return -1;
	}
	for (size_t i = 0; i < n->n[k]; i++)
		if ((k == NAME_DNS ? strcasecmp(n->list[k][i], v) :
		    strcmp(n->list[k][i], v)) == 0)
			return 0;
	if (n->n[k] >= RCA_MAX_SANS) {
		err_set(e, ERR_INVALID_REQUEST, "more than %d %s names",
		    RCA_MAX_SANS, kind[k]);
		return -1;
	}
	if ((c = strdup(v)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	p = realloc(n->list[k], (n->n[k] + 1) * sizeof(*p));
	if (p == NULL) {
		free(c);
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	p[n->n[k]++] = c;
	n->list[k] = p;
	return 0;
}

int
names_copy(struct names *dst, const struct names *src, struct err *e)
{
	if (src->cn != NULL && names_set_cn(dst, src->cn, e) == -1)
		goto fail;
	for (int k = 0; k < NAME__MAX; k++)
		for (size_t i = 0; i < src->n[k]; i++)
			if (names_add(dst, (enum name_kind)k, src->list[k][i],
			    e) == -1)
				goto fail;
	return 0;
fail:
	names_clear(dst);
	return -1;
}

static bool
contains(const struct names *n, int k, const char *v)
{
	for (size_t i = 0; i < n->n[k]; i++)
		if ((k == NAME_DNS ? strcasecmp(n->list[k][i], v) :
		    strcmp(n->list[k][i], v)) == 0)
			return true;
	return false;
}

bool
names_equal(const struct names *a, const struct names *b)
{
	if ((a->cn == NULL) != (b->cn == NULL))
		return false;
	if (a->cn != NULL && strcmp(a->cn, b->cn) != 0)
		return false;
	for (int k = 0; k < NAME__MAX; k++) {
		if (a->n[k] != b->n[k])
			return false;
		for (size_t i = 0; i < a->n[k]; i++)
			if (!contains(b, k, a->list[k][i]))
				return false;
	}
	return true;
}

size_t
names_count(const struct names *n)
{
	return n->n[NAME_DNS] + n->n[NAME_IP] + n->n[NAME_URI];
}

char *
names_join(const struct names *n, enum name_kind k)
{
	size_t len = 1;
	char *s, *p;

	for (size_t i = 0; i < n->n[k]; i++)
		len += strlen(n->list[k][i]) + 1;
	if ((s = malloc(len)) == NULL)
		return NULL;
	p = s;
	for (size_t i = 0; i < n->n[k]; i++) {
		size_t l = strlen(n->list[k][i]);

		if (i > 0)
			*p++ = '\n';
		memcpy(p, n->list[k][i], l);
		p += l;
	}
	*p = '\0';
	return s;
}

int
names_split(struct names *n, enum name_kind k, const char *joined,
    struct err *e)
{
	const char *p = joined, *nl;
	char buf[RCA_MAX_URI_LEN + 1];

	if (joined == NULL)
		return 0;
	while (*p != '\0') {
		size_t l;

		nl = strchr(p, '\n');
		l = nl ? (size_t)(nl - p) : strlen(p);
		if (l > RCA_MAX_URI_LEN) {
			err_set(e, ERR_INVALID_REQUEST, "name too long");
			return -1;
		}
		memcpy(buf, p, l);
		buf[l] = '\0';
		if (l > 0 && names_add(n, k, buf, e) == -1)
			return -1;
		p += l;
		if (*p == '\n')
			p++;
	}
	return 0;
}
