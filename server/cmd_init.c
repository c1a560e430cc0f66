/*
 * `redis-ca init`: create (or import) the CA and everything around it in
 * a data folder (SPEC section 3).  The CA key is written and later read
 * only by ca/; init then goes through the service like any other caller
 * to issue the API and admin certificates and the first admin token.
 * Nothing that existed before is ever overwritten, and a failed init
 * removes what it created.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca.h"
#include "cli.h"
#include "fileio.h"
#include "init_ca.h"
#include "names.h"
#include "opts.h"
#include "svc.h"
#include "timeutil.h"
#include "types.h"

#define INIT_DEFAULT_CN		"redis-ca"
#define INIT_DEFAULT_DAYS	3650
#define INIT_MAX_DAYS		36500
#define INIT_LEAF_TTL		(397 * 86400)	/* api and admin certs */
#define INIT_ADMIN_CN		"redis-ca-admin"
#define INIT_MAX_CREATED	16
/* A token as svc_token_create() writes it, with its '\0'. */
#define INIT_TOKEN_LEN \
	(RCA_TOKEN_PREFIX_LEN + 2 * RCA_TOKEN_RANDOM_BYTES + 1)

/* Everything init writes, relative to the data folder. */
enum init_file {
	F_CA_KEY, F_CA_CERT, F_CONFIG, F_DB, F_API_CERT, F_API_KEY,
	F_ADMIN_CERT, F_ADMIN_KEY, F_TOKEN, F_ROOTS, F__MAX
};

static const char *const init_files[F__MAX] = {
	[F_CONFIG] = "config.json",
	[F_CA_KEY] = "ca.key",
	[F_CA_CERT] = "ca.crt",
	[F_DB] = "redis-ca.db",
	[F_API_CERT] = "tls/api.crt",
	[F_API_KEY] = "tls/api.key",
	[F_ADMIN_CERT] = "tls/admin.crt",
	[F_ADMIN_KEY] = "tls/admin.key",
	[F_TOKEN] = "admin.token",
	/* Two tiers; checked absent always: ca_load() would read it. */
	[F_ROOTS] = RCA_CA_ROOTS_FILE,
};

struct init_opts {
	const char	*data;
	const char	*cn;
	enum key_type	 key_type;
	int		 days;
	const char	*api_names[RCA_MAX_SANS];
	size_t		 napi_names;
	const char	*public_url;
	const char	*pass_file;
	struct {			/* --import-*: an existing CA */
		const char	*cert;
		const char	*key;
		const char	*pass;
		const char	*chain;	/* its roots: two tiers */
	}		 import;
	const char	*root_out;	/* two tiers: the root's folder */
	bool		 ca_opts_given;	/* --cn, --key-type or --days */
	bool		 days_given;
	bool		 help;
};

/*
 * What init made, so that a failure can take it back.  Every file is
 * reserved (created O_EXCL|O_NOFOLLOW) before any work, so one that is
 * already there is refused by that create, and written into later.
 */
struct init_state {
	char	 path[F__MAX][RCA_MAX_PATH];
	struct fio_resv resv[F__MAX];	/* each file, reserved */
	struct init_ca_made tier2;	/* the root of --root-out */
	char	 tls_dir[RCA_MAX_PATH];
	int	 dfd;			/* the data folder, or -1 */
	int	 tls_fd;		/* its tls folder, or -1 */
	bool	 made_tls_dir;
};

/* The two certificates init issues for the service itself. */
static const struct profile api_profile = {
	.name = "internal-api-tls",
	.eku = EKU_SERVER_AUTH,
	.require_san = true,
	.default_ttl = INIT_LEAF_TTL,
	.max_ttl = INIT_LEAF_TTL,
	.key_types = KEY_BIT(KEY_EC_P256),
};

static const struct profile admin_profile = {
	.name = "internal-admin-client",
	.eku = EKU_CLIENT_AUTH,
	.require_san = false,
	.default_ttl = INIT_LEAF_TTL,
	.max_ttl = INIT_LEAF_TTL,
	.key_types = KEY_BIT(KEY_EC_P256),
};

static const char init_usage[] =
    "usage: redis-ca init [--data DIR] [--cn NAME] [--key-type T] "
    "[--days N]\n"
    "         [--api-name NAME]... [--public-url URL] "
    "[--passphrase-file F]\n"
    "         [--root-out DIR | --import-cert F --import-key F "
    "[--import-passphrase-file F]\n"
    "         [--import-chain ROOTS]]\n"
    "  --root-out DIR  two tiers: a root CA (root.key, root.crt) in DIR,\n"
    "                  outside the data folder, signs the issuing CA\n"
    "                  (5 years unless --days); keep DIR offline\n"
    "  --import-chain ROOTS  the roots the imported CA chains to\n";

/* --key-type: any leaf key type but rsa-2048, too weak for a CA. */
static int
set_key_type(void *opts, const char *v, struct err *e)
{
	struct init_opts *o = opts;

	if (key_type_parse(v, &o->key_type) == -1 ||
	    o->key_type == KEY_RSA_2048) {
		err_set(e, ERR_USAGE, "--key-type must be ec-p256, ec-p384, "
		    "rsa-3072 or rsa-4096");
		return -1;
	}
	return 0;
}

enum init_opt {
	IO_DATA, IO_CN, IO_KEY_TYPE, IO_DAYS, IO_API_NAME, IO_PUBLIC_URL,
	IO_PASS, IO_IMP_CERT, IO_IMP_KEY, IO_IMP_PASS, IO_IMP_CHAIN,
	IO_ROOT_OUT, IO_HELP, IO__MAX
};

static const struct opt init_opt_table[IO__MAX] = {
	[IO_DATA] = OPTS_STRING("data", struct init_opts,
	    data),
	[IO_CN] = OPTS_STRING("cn", struct init_opts,
	    cn),
	[IO_KEY_TYPE] = { .name = "key-type", .type = OPT_CALL,
	    .set = set_key_type },
	[IO_DAYS] = { .name = "days", .type = OPT_INT,
	    .off = offsetof(struct init_opts, days), .min = 1,
	    .max = INIT_MAX_DAYS, .bad = "--days must be a number of days "
	    "from 1 to " OPTS_STR(INIT_MAX_DAYS) },
	[IO_API_NAME] = { .name = "api-name", .type = OPT_LIST,
	    .off = offsetof(struct init_opts, api_names),
	    .count_off = offsetof(struct init_opts, napi_names),
	    .max = RCA_MAX_SANS },
	[IO_PUBLIC_URL] = OPTS_STRING("public-url", struct init_opts,
	    public_url),
	[IO_PASS] = OPTS_STRING("passphrase-file", struct init_opts,
	    pass_file),
	[IO_IMP_CERT] = OPTS_STRING("import-cert", struct init_opts,
	    import.cert),
	[IO_IMP_KEY] = OPTS_STRING("import-key", struct init_opts,
	    import.key),
	[IO_IMP_PASS] = OPTS_STRING("import-passphrase-file", struct init_opts,
	    import.pass),
	[IO_IMP_CHAIN] = OPTS_STRING("import-chain", struct init_opts,
	    import.chain),
	[IO_ROOT_OUT] = OPTS_STRING("root-out", struct init_opts, root_out),
	[IO_HELP] = { .name = "help", .short_name = 'h', .type = OPT_FLAG,
	    .flags = OPT_F_STOP, .off = offsetof(struct init_opts, help) },
};

static const struct opts_cmd init_cmd = {
	OPTS_GNU, init_opt_table, IO__MAX, true, init_usage
};

/* The options given together or not at all. */
static int
check_args(struct init_opts *o, struct err *e)
{
	if ((o->import.cert == NULL) != (o->import.key == NULL)) {
		err_set(e, ERR_USAGE, "--import-cert and --import-key go "
		    "together");
		return -1;
	}
	if (o->import.pass != NULL && o->import.cert == NULL) {
		err_set(e, ERR_USAGE, "--import-passphrase-file needs "
		    "--import-cert and --import-key");
		return -1;
	}
	if (o->import.cert != NULL && o->ca_opts_given) {
		err_set(e, ERR_USAGE, "--cn, --key-type and --days do not "
		    "apply to an imported CA");
		return -1;
	}
	if (o->import.chain != NULL && o->import.cert == NULL) {
		err_set(e, ERR_USAGE, "--import-chain needs --import-cert and "
		    "--import-key");
		return -1;
	}
	if (o->root_out != NULL && o->import.cert != NULL) {
		err_set(e, ERR_USAGE, "--root-out makes a new CA: it does not "
		    "go with --import-cert");
		return -1;
	}
	return 0;
}

static const struct init_opts init_defaults = {
	.data = CLI_DEFAULT_DATA,
	.cn = INIT_DEFAULT_CN,
	.key_type = KEY_EC_P256,
	.days = INIT_DEFAULT_DAYS,
};

static int
parse_args(int argc, char **argv, struct init_opts *o, struct err *e)
{
	struct opts_result res;

	*o = init_defaults;
	if (opts_parse(&init_cmd, argc, argv, o, &res, e) == -1)
		return -1;
	if (o->help)
		return 0;
	o->ca_opts_given = (res.given & (OPTS_BIT(IO_CN) |
	    OPTS_BIT(IO_KEY_TYPE) | OPTS_BIT(IO_DAYS))) != 0;
	o->days_given = (res.given & OPTS_BIT(IO_DAYS)) != 0;
	if (check_args(o, e) == -1)
		return -1;
	if (o->napi_names == 0) {
		o->api_names[o->napi_names++] = "localhost";
		o->api_names[o->napi_names++] = "127.0.0.1";
	}
	return 0;
}

/*
 * Create the data folder (0700) unless it exists as a folder that only
 * its owner may write.  It is opened once (*dfd; a link to a folder is
 * followed, as it always was for --data) and checked with fstat on
 * that descriptor; init's files are created through it.
 */
static int
make_dir(const char *path, bool *made, int *dfd, struct err *e)
{
	struct stat st;
	int fd;

	*made = false;
	if (mkdir(path, 0700) == 0)
		*made = true;
	else if (errno != EEXIST) {
		err_set(e, ERR_IO, "%s: cannot create folder: %s", path,
		    strerror(errno));
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		if (errno == ENOTDIR)
			err_set(e, ERR_IO, "%s exists and is not a folder",
			    path);
		else
			err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	/* serve would refuse it (SPEC section 8): say so now. */
	if ((st.st_mode & 022) != 0) {
		err_set(e, ERR_IO, "%s: writable by group or others (mode "
		    "%04o; chmod go-w)", path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	*dfd = fd;
	return 0;
}

/* Make the tls folder in the data folder and open it (st->tls_fd). */
static int
make_tls_dir(struct init_state *st, struct err *e)
{
	if (mkdirat(st->dfd, "tls", 0700) == -1) {
		if (errno == EEXIST)
			err_set(e, ERR_ALREADY_EXISTS, "%s already exists: "
			    "refusing to overwrite it (use a new --data "
			    "folder)", st->tls_dir);
		else
			err_set(e, ERR_IO, "%s: %s", st->tls_dir,
			    strerror(errno));
		return -1;
	}
	st->made_tls_dir = true;
	if ((st->tls_fd = openat(st->dfd, "tls", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1) {
		err_set(e, ERR_IO, "%s: %s", st->tls_dir, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Reserve every file init writes, before any work: the exclusive create
 * of each refuses one that is there (a link too), the CA's files first
 * (that is the message that matters).
 */
static int
reserve_all(struct init_state *st, struct err *e)
{
	for (int i = 0; i < F__MAX; i++) {
		const char *name = init_files[i];
		int dirfd = st->dfd;

		if (strncmp(name, "tls/", 4) == 0) {
			if (st->tls_fd == -1 && make_tls_dir(st, e) == -1)
				return -1;
			dirfd = st->tls_fd;
			name += 4;
		}
		if (fio_reserve(&st->resv[i], dirfd, name, st->path[i], e) ==
		    0)
			continue;
		if (e != NULL && e->code == ERR_ALREADY_EXISTS)
			err_set(e, ERR_ALREADY_EXISTS, "%s already exists: "
			    "refusing to overwrite %s", st->path[i],
			    i == F_CA_KEY || i == F_CA_CERT ? "an existing CA" :
			    "it (use a new --data folder)");
		return -1;
	}
	return 0;
}

/* Take back what a failed init created. */
static void
rollback(struct init_state *st)
{
	char side[RCA_MAX_PATH + 8];
	bool made_db = st->resv[F_DB].made;

	for (int i = F__MAX - 1; i >= 0; i--)
		fio_resv_release(&st->resv[i], false);
	init_ca_rollback(&st->tier2);
	if (made_db) {
		snprintf(side, sizeof(side), "%s-wal", st->path[F_DB]);
		(void)unlink(side);
		snprintf(side, sizeof(side), "%s-shm", st->path[F_DB]);
		(void)unlink(side);
		snprintf(side, sizeof(side), "%s-journal", st->path[F_DB]);
		(void)unlink(side);
	}
	if (st->made_tls_dir)
		(void)unlinkat(st->dfd, "tls", AT_REMOVEDIR);
}

/*
 * Issue a certificate through the service under an internal profile and
 * write its key (0400, exclusive) and certificate chain (0444,
 * exclusive).
 */
static int
issue_pair(struct svc *s, const struct svc_actor *a,
    const struct profile *p, const struct names *names,
    struct init_state *st, enum init_file fcert, enum init_file fkey,
    struct svc_issued *out, struct err *e)
{
	struct svc_issue_req req;
	const char *pem;
	int rc = -1;

	memset(&req, 0, sizeof(req));
	req.profile = p->name;
	req.ttl = INIT_LEAF_TTL;
	req.names = names;
	req.key_type = KEY_EC_P256;
	req.internal_profile = p;
	if (svc_issue(s, a, &req, out, e) == -1)
		goto out;
	if (out->private_key_pem == NULL) {
		err_set(e, ERR_INTERNAL, "the service returned no key");
		goto out;
	}
	if (fio_resv_write(&st->resv[fkey], out->private_key_pem,
	    strlen(out->private_key_pem), 0400, e) == -1)
		goto out;
	/* The chain (leaf + intermediates): a peer trusting only the root
	 * (two tiers) must be able to verify it. */
	pem = out->chain_pem != NULL && out->chain_pem[0] != '\0' ?
	    out->chain_pem : out->cert.pem;
	if (fio_resv_write(&st->resv[fcert], pem, strlen(pem), 0444, e) ==
	    -1)
		goto out;
	rc = 0;
out:
	return rc;
}

static void
print_summary(const struct init_opts *o, const struct init_state *st,
    const struct svc_ca_info *ca, const struct token_rec *tok,
    const char *token, bool imported)
{
	char notafter[RCA_TIME_STR], expires[RCA_TIME_STR];

	tu_format(ca->not_after, notafter);
	printf("redis-ca: %s a %s CA in %s\n",
	    imported ? "imported" : "created", key_type_name(ca->key_type),
	    o->data);
	printf("  CA certificate    %s (valid until %s)\n",
	    st->path[F_CA_CERT], notafter);
	printf("  CA fingerprint    SHA256:%s\n", ca->fingerprint);
	printf("  CA key            %s%s\n", st->path[F_CA_KEY],
	    o->pass_file != NULL ? " (encrypted; passphrase file in "
	    "config.json)" : "");
	if (o->root_out != NULL)
		printf("  root CA           %s/root.crt, %s/root.key (keep "
		    "this folder offline)\n", st->tier2.root_dir,
		    st->tier2.root_dir);
	if (o->root_out != NULL || o->import.chain != NULL)
		printf("  roots             %s\n", st->path[F_ROOTS]);
	printf("  configuration     %s\n", st->path[F_CONFIG]);
	printf("  database          %s\n", st->path[F_DB]);
	printf("  API certificate   %s, %s\n", st->path[F_API_CERT],
	    st->path[F_API_KEY]);
	printf("  admin client      %s, %s\n", st->path[F_ADMIN_CERT],
	    st->path[F_ADMIN_KEY]);
	tu_format(tok->expires_at, expires);
	printf("  admin token       %s (id %s, expires %s)\n",
	    st->path[F_TOKEN], tok->id, expires);
	printf("\nThe first admin token (shown once; a copy is in %s):\n"
	    "  %s\n", st->path[F_TOKEN], token);
	printf("\nStart the server with:\n  redis-ca serve --config %s\n",
	    st->path[F_CONFIG]);
}

/*
 * Check every input before anything is created: the API's names into
 * api, the admin's into admin, the passphrase file made absolute into
 * pass_abs (RCA_MAX_PATH bytes), and the paths of st.
 */
static int
check_inputs(const struct init_opts *o, struct init_state *st,
    struct names *api, struct names *admin, char *pass_abs, struct err *e)
{
	for (size_t i = 0; i < o->napi_names; i++) {
		enum name_kind k = names_is_ip(o->api_names[i]) ? NAME_IP :
		    NAME_DNS;

		if ((i == 0 && names_set_cn(api, o->api_names[0], e) == -1) ||
		    names_add(api, k, o->api_names[i], e) == -1) {
			err_set(e, ERR_USAGE, "--api-name %.64s: not a DNS "
			    "name or an IP address", o->api_names[i]);
			return -1;
		}
	}
	if (names_set_cn(admin, INIT_ADMIN_CN, e) == -1)
		return -1;
	/* realpath() writes up to PATH_MAX (4096): RCA_MAX_PATH. */
	if (o->pass_file != NULL && realpath(o->pass_file, pass_abs) ==
	    NULL) {
		err_set(e, ERR_IO, "--passphrase-file %s: %s", o->pass_file,
		    strerror(errno));
		return -1;
	}
	for (int i = 0; i < F__MAX; i++)
		if (fio_path_join(st->path[i], sizeof(st->path[i]), o->data,
		    init_files[i], e) == -1)
			return -1;
	return fio_path_join(st->tls_dir, sizeof(st->tls_dir), o->data,
	    "tls", e);
}

/* Two tiers: a root and the CA it signs, or an import with roots. */
static int
make_ca_two_tier(const struct init_opts *o, struct init_state *st,
    const struct ca_files *f, const char *pass, struct err *e)
{
	struct init_ca_req r = {
		.data = o->data,
		.files = f,
		.cn = o->cn,
		.key_type = o->key_type,
		.days = o->days_given ? o->days : 0,
		.pass = pass,
		.root_out = o->root_out,
		.imp_cert = o->import.cert,
		.imp_key = o->import.key,
		.imp_pass = o->import.pass,
		.imp_chain = o->import.chain,
	};

	return init_ca_two_tier(&r, &st->tier2, e);
}

/* Import the CA or create one; pass: the passphrase file, or NULL. */
static int
make_ca(const struct init_opts *o, struct init_state *st, const char *pass,
    struct err *e)
{
	struct ca_create_opts co = {
		.key_type = o->key_type,
		.cn = o->cn,
		.days = o->days,
		.passphrase_file = pass,
	};
	struct ca_files f = {
		&st->resv[F_CA_KEY], &st->resv[F_CA_CERT], &st->resv[F_ROOTS]
	};

	if (o->root_out != NULL || o->import.chain != NULL)
		return make_ca_two_tier(o, st, &f, pass, e);
	/*
	 * One tier: no roots.pem.  Its reservation only refused one that
	 * was there (ca_load() would read it): it goes before the service
	 * loads the CA.
	 */
	fio_resv_release(&st->resv[F_ROOTS], false);
	f.roots = NULL;
	if (o->import.cert != NULL)
		return ca_import_files_to(o->import.cert, o->import.key,
		    o->import.pass, &f, pass, e);
	return ca_create_files_to(&f, &co, e);
}

/* Write the default config.json and load it back into *cfg. */
static int
write_config(const struct init_opts *o, struct init_state *st,
    const char *pass, struct config *cfg, struct err *e)
{
	struct config_defaults d;
	char *json = NULL;
	int rc = -1;

	memset(&d, 0, sizeof(d));
	d.public_url = o->public_url;
	d.key_passphrase_file = pass;
	if ((json = config_default_json(&d, e)) == NULL)
		goto out;
	if (fio_resv_write(&st->resv[F_CONFIG], json, strlen(json), 0640, e)
	    == -1)
		goto out;
	/* Read it back: what serve will load must load. */
	if (config_load(st->path[F_CONFIG], cfg, e) == -1)
		goto out;
	rc = 0;
out:
	free(json);
	return rc;
}

/*
 * Open the service: the database is made in the empty file reserved for
 * it (0600).
 */
static struct svc *
open_service(const struct config *cfg, struct err *e)
{
	struct svc_config sc;

	config_svc_view(cfg, &sc);
	return svc_open(&sc, e);
}

/*
 * The first admin token into *tok and token, and a copy in admin.token.
 * It takes the admin default of 90 days (SPEC section 8): long enough
 * for deploy/start.sh and first steps, and a leaked copy of admin.token
 * does not stay good forever.  An operator makes the long-lived tokens
 * they need with `token create --kind admin [--ttl D|never]`.
 */
static int
first_token(struct svc *s, const struct svc_actor *a,
    struct init_state *st, struct token_rec *tok, char *token,
    struct err *e)
{
	struct svc_token_req treq;
	char line[INIT_TOKEN_LEN + 1];
	int rc = -1;

	memset(&treq, 0, sizeof(treq));
	treq.kind = TOKEN_ADMIN;
	treq.description = "first admin token (redis-ca init)";
	if (svc_token_create(s, a, &treq, tok, token, e) == -1)
		goto out;
	snprintf(line, sizeof(line), "%s\n", token);
	if (fio_resv_write(&st->resv[F_TOKEN], line, strlen(line), 0400, e)
	    == -1)
		goto out;
	rc = 0;
out:
	fio_wipe(line, sizeof(line));
	return rc;
}

static int
run_init(const struct init_opts *o, struct err *e)
{
	struct init_state st;
	struct config cfg = CONFIG_INIT;
	struct svc_actor actor;
	struct svc_issued api = { 0 }, admin = { 0 };
	struct token_rec tok;
	struct svc_ca_info info;
	struct names api_names = NAMES_INIT, admin_names = NAMES_INIT;
	struct svc *s = NULL;
	char pass_abs[RCA_MAX_PATH];
	char token[INIT_TOKEN_LEN];
	const char *pass = o->pass_file != NULL ? pass_abs : NULL;
	bool made_data = false;
	int rc = -1;

	memset(&st, 0, sizeof(st));
	for (int i = 0; i < F__MAX; i++)
		st.resv[i] = (struct fio_resv)FIO_RESV_INIT;
	st.dfd = st.tls_fd = -1;
	memset(&tok, 0, sizeof(tok));
	memset(token, 0, sizeof(token));
	svc_actor_init(&actor, ACTOR_CLI);
	if (check_inputs(o, &st, &api_names, &admin_names, pass_abs, e)
	    == -1)
		goto out;
	/* Whatever is created below is for the owner only. */
	umask(077);
	if (make_dir(o->data, &made_data, &st.dfd, e) == -1 ||
	    reserve_all(&st, e) == -1 ||
	    make_ca(o, &st, pass, e) == -1 ||
	    write_config(o, &st, pass, &cfg, e) == -1 ||
	    (s = open_service(&cfg, e)) == NULL)
		goto out;
	if (issue_pair(s, &actor, &api_profile, &api_names, &st, F_API_CERT,
	    F_API_KEY, &api, e) == -1 ||
	    issue_pair(s, &actor, &admin_profile, &admin_names, &st,
	    F_ADMIN_CERT, F_ADMIN_KEY, &admin, e) == -1 ||
	    first_token(s, &actor, &st, &tok, token, e) == -1)
		goto out;
	svc_ca_info(s, &info);
	print_summary(o, &st, &info, &tok, token, o->import.cert != NULL);
	svc_ca_info_clear(&info);
	rc = 0;
out:
	svc_close(s);
	if (rc == -1)
		rollback(&st);
	for (int i = 0; i < F__MAX; i++)
		fio_resv_release(&st.resv[i], true);
	if (st.tls_fd != -1)
		close(st.tls_fd);
	if (st.dfd != -1)
		close(st.dfd);
	if (rc == -1 && made_data)
		(void)rmdir(o->data);
	fio_wipe(token, sizeof(token));
	svc_issued_clear(&api);
	svc_issued_clear(&admin);
	token_rec_clear(&tok);
	svc_actor_clear(&actor);
	names_clear(&api_names);
	names_clear(&admin_names);
	config_clear(&cfg);
	return rc;
}

int
cmd_init(int argc, char **argv)
{
	struct init_opts o;
	struct err e;

	err_clear(&e);
	if (parse_args(argc, argv, &o, &e) == -1) {
		cli_error("init: %s", e.msg);
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(init_usage, stdout);
		return EXIT_OK;
	}
	if (run_init(&o, &e) == -1) {
		cli_error("init: %s", e.msg[0] != '\0' ? e.msg :
		    err_code_name(e.code));
		return e.code == ERR_USAGE ? EXIT_USAGE : EXIT_FAIL;
	}
	return EXIT_OK;
}
