/*
 * The `redis-ca enroll` command line: options parsed into struct
 * enroll_opts, and the token read from --token or --token-file.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "enroll.h"
#include "enroll_int.h"
#include "fileio.h"
#include "timeutil.h"

enum enroll_opt {
	OPT_URL,
	OPT_CACERT,
	OPT_TOKEN,
	OPT_TOKEN_FILE,
	OPT_PROFILE,
	OPT_CN,
	OPT_DNS,
	OPT_IP,
	OPT_KEY_TYPE,
	OPT_TTL,
	OPT_OUT,
	OPT_DAEMON,
	OPT_EXEC,
	OPT_HELP,
	OPT__MAX
};

struct opt_def {
	const char	*name;		/* without the leading "--" */
	bool		 value;		/* takes a value */
	bool		 repeat;	/* may be given more than once */
};

static const struct opt_def opt_defs[OPT__MAX] = {
	[OPT_URL] = { "url", true, false },
	[OPT_CACERT] = { "cacert", true, false },
	[OPT_TOKEN] = { "token", true, false },
	[OPT_TOKEN_FILE] = { "token-file", true, false },
	[OPT_PROFILE] = { "profile", true, false },
	[OPT_CN] = { "cn", true, false },
	[OPT_DNS] = { "dns", true, true },
	[OPT_IP] = { "ip", true, true },
	[OPT_KEY_TYPE] = { "key-type", true, false },
	[OPT_TTL] = { "ttl", true, false },
	[OPT_OUT] = { "out", true, false },
	[OPT_DAEMON] = { "daemon", false, false },
	[OPT_EXEC] = { "exec", true, false },
	[OPT_HELP] = { "help", false, false },
};

/*
 * A token goes into an HTTP header: printable ASCII without spaces only,
 * so it can neither break the header nor smuggle another one.
 */
static bool
token_ok(const char *t, size_t len)
{
	size_t i;

	if (len == 0 || len > ENROLL_MAX_TOKEN_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (t[i] <= 0x20 || t[i] >= 0x7f)
			return false;
	return true;
}

/* Apply one option's value to o.  Errors: ERR_USAGE naming the option. */
static int
apply_opt(enum enroll_opt id, const char *v, struct enroll_opts *o,
    struct err *e)
{
	struct err ne = { ERR_OK, "" };
	size_t len = strlen(v);

	switch (id) {
	case OPT_URL:
		if (strncasecmp(v, "https://", 8) != 0 || len <= 8) {
			err_set(e, ERR_USAGE, "--url must be an https:// URL");
			return -1;
		}
		if (len > RCA_MAX_URI_LEN || strpbrk(v, " \t\r\n") != NULL) {
			err_set(e, ERR_USAGE, "--url is not a valid URL");
			return -1;
		}
		o->url = v;
		while (len > 8 && v[len - 1] == '/')
			len--;
		o->url_len = len;
		break;
	case OPT_CACERT:
		if (len == 0) {
			err_set(e, ERR_USAGE, "--cacert needs a file");
			return -1;
		}
		o->cacert = v;
		break;
	case OPT_TOKEN:
		if (!token_ok(v, len)) {
			err_set(e, ERR_USAGE, "--token is not a valid token");
			return -1;
		}
		o->token = v;
		break;
	case OPT_TOKEN_FILE:
		if (len == 0) {
			err_set(e, ERR_USAGE, "--token-file needs a file");
			return -1;
		}
		o->token_file = v;
		break;
	case OPT_PROFILE:
		if (len == 0 || len > RCA_MAX_PROFILE_NAME) {
			err_set(e, ERR_USAGE, "--profile: bad profile name");
			return -1;
		}
		o->profile = v;
		break;
	case OPT_CN:
		if (len == 0 || names_set_cn(&o->names, v, &ne) == -1) {
			err_set(e, ERR_USAGE, "--cn: bad common name%s%s",
			    ne.msg[0] != '\0' ? ": " : "", ne.msg);
			return -1;
		}
		break;
	case OPT_DNS:
		if (!names_is_dns(v) ||
		    names_add(&o->names, NAME_DNS, v, &ne) == -1) {
			err_set(e, ERR_USAGE, "--dns: '%.*s' is not a usable "
			    "DNS name", RCA_MAX_NAME_LEN, v);
			return -1;
		}
		break;
	case OPT_IP:
		if (!names_is_ip(v) ||
		    names_add(&o->names, NAME_IP, v, &ne) == -1) {
			err_set(e, ERR_USAGE, "--ip: '%.*s' is not a usable IP "
			    "address", 64, v);
			return -1;
		}
		break;
	case OPT_KEY_TYPE:
		if (key_type_parse(v, &o->key_type) == -1) {
			err_set(e, ERR_USAGE, "--key-type: unknown key type "
			    "'%.*s' (ec-p256, ec-p384, rsa-2048, rsa-3072, "
			    "rsa-4096)", 32, v);
			return -1;
		}
		break;
	case OPT_TTL:
		if (tu_parse_duration(v, &o->ttl, &ne) == -1) {
			err_set(e, ERR_USAGE, "--ttl: bad duration '%.*s' "
			    "(e.g. 90s, 30m, 24h, 7d)", 32, v);
			return -1;
		}
		break;
	case OPT_OUT:
		if (len == 0 || len > RCA_MAX_PATH - 32) {
			err_set(e, ERR_USAGE, "--out: bad folder name");
			return -1;
		}
		o->out = v;
		break;
	case OPT_EXEC:
		o->exec = v;
		break;
	case OPT_DAEMON:
		o->daemon = true;
		break;
	case OPT_HELP:
		o->help = true;
		break;
	case OPT__MAX:
		err_set(e, ERR_USAGE, "unknown option");
		return -1;
	}
	return 0;
}

int
enroll_parse_args(int argc, char **argv, struct enroll_opts *o,
    struct err *e)
{
	bool seen[OPT__MAX] = { false };
	int i, rc = -1;

	memset(o, 0, sizeof(*o));
	o->key_type = KEY_EC_P256;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *eq, *v = NULL;
		size_t nlen;
		int id;

		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			err_set(e, ERR_USAGE, "unexpected argument '%.*s'", 64,
			    arg);
			goto out;
		}
		name = arg + 2;
		eq = strchr(name, '=');
		nlen = eq != NULL ? (size_t)(eq - name) : strlen(name);
		for (id = 0; id < OPT__MAX; id++)
			if (strlen(opt_defs[id].name) == nlen &&
			    strncmp(opt_defs[id].name, name, nlen) == 0)
				break;
		if (id == OPT__MAX) {
			err_set(e, ERR_USAGE, "unknown option '--%.*s'",
			    (int)(nlen > 64 ? 64 : nlen), name);
			goto out;
		}
		if (seen[id] && !opt_defs[id].repeat) {
			err_set(e, ERR_USAGE, "--%s given twice",
			    opt_defs[id].name);
			goto out;
		}
		seen[id] = true;
		if (opt_defs[id].value) {
			if (eq != NULL)
				v = eq + 1;
			else if (i + 1 < argc)
				v = argv[++i];
			else {
				err_set(e, ERR_USAGE, "--%s needs a value",
				    opt_defs[id].name);
				goto out;
			}
		} else if (eq != NULL) {
			err_set(e, ERR_USAGE, "--%s takes no value",
			    opt_defs[id].name);
			goto out;
		}
		if (apply_opt((enum enroll_opt)id, v != NULL ? v : "", o,
		    e) == -1)
			goto out;
	}
	if (o->help) {
		rc = 0;
		goto out;
	}
	if (o->url == NULL || o->cacert == NULL || o->profile == NULL ||
	    o->names.cn == NULL || o->out == NULL) {
		err_set(e, ERR_USAGE, "missing %s",
		    o->url == NULL ? "--url" : o->cacert == NULL ? "--cacert" :
		    o->profile == NULL ? "--profile" :
		    o->names.cn == NULL ? "--cn" : "--out");
		goto out;
	}
	if ((o->token == NULL) == (o->token_file == NULL)) {
		err_set(e, ERR_USAGE, "give exactly one of --token and "
		    "--token-file");
		goto out;
	}
	if (o->exec != NULL && !o->daemon) {
		err_set(e, ERR_USAGE, "--exec needs --daemon");
		goto out;
	}
	/* An empty --exec means none (so a unit file can pass "--exec="). */
	if (o->exec != NULL && o->exec[0] == '\0')
		o->exec = NULL;
	rc = 0;
out:
	if (rc == -1)
		enroll_opts_clear(o);
	return rc;
}

void
enroll_opts_clear(struct enroll_opts *o)
{
	if (o == NULL)
		return;
	names_clear(&o->names);
	memset(o, 0, sizeof(*o));
}

int
enroll_read_token(const struct enroll_opts *o, char **tok, struct err *e)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = -1;

	*tok = NULL;
	if (o->token != NULL) {
		if ((buf = strdup(o->token)) == NULL) {
			err_set(e, ERR_INTERNAL, "out of memory");
			goto out;
		}
		len = cap = strlen(buf);
	} else {
		if (fio_read_all(o->token_file, ENROLL_MAX_TOKEN_LEN + 64,
		    &buf, &len, e) == -1)
			goto out;
		cap = len;
		while (len > 0 && (buf[len - 1] == '\n' ||
		    buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
		    buf[len - 1] == '\t'))
			buf[--len] = '\0';
		if (!token_ok(buf, len)) {
			err_set(e, ERR_USAGE, "%s does not hold a token",
			    o->token_file);
			goto out;
		}
	}
	*tok = buf;
	buf = NULL;
	rc = 0;
out:
	if (buf != NULL) {
		fio_wipe(buf, cap);
		free(buf);
	}
	return rc;
}
