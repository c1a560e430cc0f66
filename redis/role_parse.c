/*
 * The pure parsers of redis/role.h: INFO replication / INFO cluster
 * text and CLUSTER NODES text in, a struct rds_role_info out.  No I/O,
 * no allocation; every read is bounded by the input's length, a line by
 * RDS_ROLE_LINE_MAX and a field by its destination.
 */
#include <limits.h>
#include <string.h>

#include "role.h"

static const char *const role_names[RDS_ROLE__MAX] = {
	[RDS_ROLE_UNKNOWN] = "unknown",
	[RDS_ROLE_PRIMARY] = "primary",
	[RDS_ROLE_REPLICA] = "replica",
};

const char *
rds_role_name(enum rds_role r)
{
	return (unsigned)r < RDS_ROLE__MAX ? role_names[r] : "unknown";
}

/* A bounded piece of the input. */
struct span {
	const char	*p;
	size_t		 n;
};

static bool
span_is(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

/*
 * The next line of buf[*off..len) without its "\r\n" (or "\n") into
 * *line.  Returns 1, 0 at the end, -1 (ERR_NET) when it is too long.
 */
static int
next_line(const char *buf, size_t len, size_t *off, struct span *line,
    const char *what, struct err *e)
{
	const char *nl;
	size_t n;

	if (*off >= len)
		return 0;
	line->p = buf + *off;
	nl = memchr(line->p, '\n', len - *off);
	n = nl != NULL ? (size_t)(nl - line->p) : len - *off;
	*off += n + (nl != NULL ? 1 : 0);
	if (n > 0 && line->p[n - 1] == '\r')
		n--;
	if (n > RDS_ROLE_LINE_MAX) {
		err_set(e, ERR_NET, "%s: a line longer than %d bytes", what,
		    RDS_ROLE_LINE_MAX);
		return -1;
	}
	line->n = n;
	return 1;
}

/* A decimal integer in [0, max]; false when s is not one. */
static bool
span_uint(struct span s, long max, long *out)
{
	long v = 0;

	if (s.n == 0 || s.n > 10)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (s.p[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* Copy a host name: printable, no spaces, shorter than cap. */
static bool
span_host(struct span s, char *out, size_t cap)
{
	if (s.n >= cap)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] <= 0x20 || s.p[i] >= 0x7f)
			return false;
	memcpy(out, s.p, s.n);
	out[s.n] = '\0';
	return true;
}

/* One "key:value" of INFO into out; 0, or -1 with ERR_NET. */
static int
info_field(struct span k, struct span v, struct rds_role_info *out,
    struct err *e)
{
	long n;

	if (span_is(k, "role")) {
		if (span_is(v, "master"))
			out->role = RDS_ROLE_PRIMARY;
		else if (span_is(v, "slave"))
			out->role = RDS_ROLE_REPLICA;
		else
			goto bad;
	} else if (span_is(k, "master_host")) {
		if (!span_host(v, out->primary_host,
		    sizeof(out->primary_host)))
			goto bad;
	} else if (span_is(k, "master_port")) {
		if (!span_uint(v, 65535, &n))
			goto bad;
		out->primary_port = (int)n;
	} else if (span_is(k, "master_link_status")) {
		out->link_up = span_is(v, "up");
	} else if (span_is(k, "connected_slaves")) {
		if (!span_uint(v, INT_MAX, &n))
			goto bad;
		out->connected_replicas = (int)n;
	} else if (span_is(k, "cluster_enabled")) {
		if (!span_is(v, "0") && !span_is(v, "1"))
			goto bad;
		out->cluster = span_is(v, "1");
	}
	return 0;
bad:
	err_set(e, ERR_NET, "INFO: bad value of %.*s", (int)k.n, k.p);
	return -1;
}

int
rds_role_parse_info(const char *buf, size_t len, struct rds_role_info *out,
    struct err *e)
{
	struct span line, k, v;
	const char *colon;
	size_t off = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > RDS_ROLE_INPUT_MAX) {
		err_set(e, ERR_NET, "INFO: reply larger than %d bytes",
		    RDS_ROLE_INPUT_MAX);
		return -1;
	}
	while ((r = next_line(buf, len, &off, &line, "INFO", e)) == 1) {
		if (line.n == 0 || line.p[0] == '#')
			continue;
		if ((colon = memchr(line.p, ':', line.n)) == NULL ||
		    colon == line.p || (size_t)(colon - line.p) > 64) {
			err_set(e, ERR_NET, "INFO: a line is not key:value");
			goto fail;
		}
		k.p = line.p;
		k.n = (size_t)(colon - line.p);
		v.p = colon + 1;
		v.n = line.n - k.n - 1;
		if (info_field(k, v, out, e) == -1)
			goto fail;
	}
	if (r == 0)
		return 0;
fail:
	memset(out, 0, sizeof(*out));
	return -1;
}

/* The n-th (0-based) space-separated field of line into *f. */
static bool
field(struct span line, int n, struct span *f)
{
	size_t i = 0, start;

	for (int k = 0; ; k++) {
		while (i < line.n && line.p[i] == ' ')
			i++;
		if (i == line.n)
			return false;
		start = i;
		while (i < line.n && line.p[i] != ' ')
			i++;
		if (k == n) {
			f->p = line.p + start;
			f->n = i - start;
			return true;
		}
	}
}

/* Does the comma-separated list s hold flag? */
static bool
has_flag(struct span s, const char *flag)
{
	size_t i = 0, start;
	struct span t;

	while (i <= s.n) {
		start = i;
		while (i < s.n && s.p[i] != ',')
			i++;
		t.p = s.p + start;
		t.n = i - start;
		if (span_is(t, flag))
			return true;
		i++;
	}
	return false;
}

int
rds_role_parse_cluster_nodes(const char *buf, size_t len,
    struct rds_role_info *out, struct err *e)
{
	struct span line, flags;
	size_t off = 0;
	int r;

	if (len > RDS_ROLE_INPUT_MAX) {
		err_set(e, ERR_NET, "CLUSTER NODES: reply larger than %d "
		    "bytes", RDS_ROLE_INPUT_MAX);
		return -1;
	}
	while ((r = next_line(buf, len, &off, &line, "CLUSTER NODES",
	    e)) == 1) {
		if (line.n == 0)
			continue;
		if (!field(line, 2, &flags)) {
			err_set(e, ERR_NET, "CLUSTER NODES: a line without "
			    "flags");
			return -1;
		}
		if (!has_flag(flags, "myself"))
			continue;
		if (has_flag(flags, "master"))
			out->role = RDS_ROLE_PRIMARY;
		else if (has_flag(flags, "slave"))
			out->role = RDS_ROLE_REPLICA;
		else
			out->role = RDS_ROLE_UNKNOWN;
		return 0;
	}
	if (r == 0)
		err_set(e, ERR_NET, "CLUSTER NODES: no \"myself\" line");
	return -1;
}
