/*
 * `redis-ca ca prepare|activate|retire|status`: the CA rollover from
 * the host (SPEC section 10), through the service as the "cli" actor
 * (audited like the API's POST /v1/ca/ routes).  When `serve` does not run on
 * the data folder (its serve.lock can be taken) the command does the
 * node work itself: the bundle pushes of prepare and retire, the
 * rotations after activate.  When serve runs, the command changes the
 * database and the files only and waits (--wait, default 2m) until
 * serve has pushed the bundle to every node, or rotated them, printing
 * each node's result.  Exit 1 when a node failed.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "fileio.h"
#include "opts.h"
#include "timeutil.h"

#define CA_WAIT_DEFAULT	120
#define CA_PEM_MAX	(256 * 1024)
/* How often the wait looks at the nodes. */
#define CA_POLL_MS	500

static const char ca_usage[] =
    "usage: redis-ca ca prepare [--key-type T] [--days N]\n"
    "                           [--root-key F --root-cert F "
    "[--root-passphrase-file F]]\n"
    "                           [--csr-out F | --import-cert F "
    "[--import-chain ROOTS]]\n"
    "                           [--wait D] [--config FILE]\n"
    "       redis-ca ca activate [--force] [--wait D] [--config FILE]\n"
    "       redis-ca ca retire [--force] [--wait D] [--config FILE]\n"
    "       redis-ca ca status [--config FILE]\n";

enum ca_cmd { CA_PREPARE, CA_ACTIVATE, CA_RETIRE, CA_STATUS };

static const char *const cmd_name[] = {
	[CA_PREPARE] = "prepare", [CA_ACTIVATE] = "activate",
	[CA_RETIRE] = "retire", [CA_STATUS] = "status",
};

struct ca_opts {
	const char	*config;
	const char	*key_type;
	int		 days;
	const char	*root_key;
	const char	*root_cert;
	const char	*root_pass;
	const char	*csr_out;
	const char	*import_cert;
	const char	*import_chain;
	bool		 force;
	int64_t		 wait;
	bool		 help;
};

static int
set_wait(void *opts, const char *v, struct err *e)
{
	struct ca_opts *o = opts;

	if (tu_parse_duration(v, &o->wait, NULL) == -1 || o->wait > 86400) {
		err_set(e, ERR_USAGE, "--wait \"%.40s\": not a duration up "
		    "to 24h (90s, 30m, 2h)", v);
		return -1;
	}
	return 0;
}

/* Each subcommand's table: the options it takes. */
#define ROW_CONFIG	OPTS_STRING("config", struct ca_opts, config)
#define ROW_WAIT	{ .name = "wait", .type = OPT_CALL, .set = set_wait }
#define ROW_HELP	{ .name = "help", .short_name = 'h', .type = OPT_FLAG, \
	.flags = OPT_F_STOP, .off = offsetof(struct ca_opts, help) }
#define ROW_FORCE	{ .name = "force", .type = OPT_FLAG, \
	.off = offsetof(struct ca_opts, force) }
#define ROW_FILE(n, f)	{ .name = (n), .type = OPT_NONEMPTY, \
	.off = offsetof(struct ca_opts, f), .max = RCA_MAX_PATH - 1, \
	.bad = "--" n " needs a file name" }

static const struct opt prepare_table[] = {
	ROW_CONFIG, ROW_WAIT, ROW_HELP,
	{ .name = "key-type", .type = OPT_NONEMPTY,
	    .off = offsetof(struct ca_opts, key_type), .max = 16,
	    .bad = "--key-type must be ec-p256, ec-p384, rsa-3072 or "
	    "rsa-4096" },
	{ .name = "days", .type = OPT_INT,
	    .off = offsetof(struct ca_opts, days), .min = 1, .max = 7305,
	    .bad = "--days must be a number from 1 to 7305" },
	ROW_FILE("root-key", root_key),
	ROW_FILE("root-cert", root_cert),
	ROW_FILE("root-passphrase-file", root_pass),
	ROW_FILE("csr-out", csr_out),
	ROW_FILE("import-cert", import_cert),
	ROW_FILE("import-chain", import_chain),
};

static const struct opt phase_table[] = {
	ROW_CONFIG, ROW_WAIT, ROW_HELP, ROW_FORCE,
};

static const struct opt status_table[] = {
	ROW_CONFIG, ROW_HELP,
};

#define NROWS(t)	(sizeof(t) / sizeof((t)[0]))

static const struct opts_cmd table_of[] = {
	[CA_PREPARE] = { OPTS_GNU, prepare_table, NROWS(prepare_table),
	    true, ca_usage },
	[CA_ACTIVATE] = { OPTS_GNU, phase_table, NROWS(phase_table), true,
	    ca_usage },
	[CA_RETIRE] = { OPTS_GNU, phase_table, NROWS(phase_table), true,
	    ca_usage },
	[CA_STATUS] = { OPTS_GNU, status_table, NROWS(status_table), true,
	    ca_usage },
};

/* Report e for subcommand c; the exit status. */
static int
fail(enum ca_cmd c, const struct err *e)
{
	cli_error("ca %s: %s (%s)", cmd_name[c], e->msg[0] != '\0' ? e->msg :
	    err_code_name(e->code), err_code_name(e->code));
	return e->code == ERR_USAGE ? EXIT_USAGE : EXIT_FAIL;
}

/* The combinations prepare refuses before anything is opened. */
static int
check_prepare(const struct ca_opts *o, struct err *e)
{
	int ways = (o->root_key != NULL || o->root_cert != NULL) +
	    (o->csr_out != NULL) + (o->import_cert != NULL);

	if (ways > 1) {
		err_set(e, ERR_USAGE, "--root-key/--root-cert, --csr-out and "
		    "--import-cert exclude each other");
		return -1;
	}
	if ((o->root_key == NULL) != (o->root_cert == NULL)) {
		err_set(e, ERR_USAGE, "--root-key and --root-cert go "
		    "together");
		return -1;
	}
	if (o->root_pass != NULL && o->root_key == NULL) {
		err_set(e, ERR_USAGE, "--root-passphrase-file needs "
		    "--root-key");
		return -1;
	}
	if (o->import_chain != NULL && o->import_cert == NULL) {
		err_set(e, ERR_USAGE, "--import-chain needs --import-cert");
		return -1;
	}
	return 0;
}

static int
parse(enum ca_cmd c, int argc, char **argv, struct ca_opts *o,
    struct err *e)
{
	struct opts_result res;

	memset(o, 0, sizeof(*o));
	o->config = CLI_DEFAULT_CONFIG;
	o->wait = CA_WAIT_DEFAULT;
	if (opts_parse(&table_of[c], argc, argv, o, &res, e) == -1)
		return -1;
	if (o->help)
		return 0;
	return c == CA_PREPARE ? check_prepare(o, e) : 0;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

static void
print_nodes(const struct svc_ca_result *r)
{
	for (size_t i = 0; i < r->nnodes; i++)
		printf("  node %-24s %-6s %s\n", r->nodes[i].name,
		    r->nodes[i].ok ? "ok" : "failed", r->nodes[i].detail);
}

static void
print_ca(const struct svc_ca_view_ent *c)
{
	char na[RCA_TIME_STR];

	if (c->not_after != 0)
		tu_format(c->not_after, na);
	else
		snprintf(na, sizeof(na), "-");
	printf("%-8s %s  %-8s not after %s  %s key%s  unexpired "
	    "certificates %" PRId64 "\n", c->state, c->ski,
	    key_type_name(c->key_type), na, c->has_key ? "has its" :
	    "WITHOUT its", c->has_key ? "" : " (copy it here)",
	    c->certificates_unexpired);
}

/* Every CA, the bundle's ETag. */
static int
print_status(struct svc *s, struct err *e)
{
	struct svc_ca_view	  v;
	char			**names = NULL;
	size_t			  n = 0;

	memset(&v, 0, sizeof(v));
	if (svc_ca_view(s, &v, e) == -1)
		return -1;
	for (size_t i = 0; i < v.n; i++)
		print_ca(&v.ca[i]);
	printf("bundle   %s (generation %" PRIu64 ")\n", v.bundle_etag,
	    v.generation);
	svc_ca_view_clear(&v);
	if (svc_ca_stale_nodes(s, &names, &n, e) == -1)
		return -1;
	printf("nodes without this bundle: %zu", n);
	for (size_t i = 0; i < n && i < 20; i++)
		printf("%s%s", i == 0 ? " (" : ", ", names[i]);
	printf("%s\n", n == 0 ? "" : n > 20 ? ", ...)" : ")");
	svc_ca_names_free(names, n);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The phases                                                          */

/* Read a PEM file given on the command line (new, free()). */
static char *
read_pem(const char *path, struct err *e)
{
	char	*buf = NULL;
	size_t	 len;

	if (fio_read_all(path, CA_PEM_MAX, &buf, &len, e) == -1)
		return NULL;
	return buf;
}

static int
run_prepare(struct svc *s, const struct svc_actor *a,
    const struct ca_opts *o, struct svc_ca_result *res, struct err *e)
{
	struct svc_ca_prepare_req	 req;
	char				*cert = NULL, *chain = NULL;
	int				 rc = -1;

	memset(&req, 0, sizeof(req));
	if (o->key_type != NULL) {
		if (key_type_parse(o->key_type, &req.key_type) == -1 ||
		    req.key_type == KEY_RSA_2048) {
			err_set(e, ERR_USAGE, "--key-type must be ec-p256, "
			    "ec-p384, rsa-3072 or rsa-4096");
			goto out;
		}
		req.key_type_set = true;
	}
	req.days = o->days;
	req.root_key_path = o->root_key;
	req.root_cert_path = o->root_cert;
	req.root_pass_file = o->root_pass;
	req.csr_only = o->csr_out != NULL;
	if ((o->import_cert != NULL &&
	    (cert = read_pem(o->import_cert, e)) == NULL) ||
	    (o->import_chain != NULL &&
	    (chain = read_pem(o->import_chain, e)) == NULL))
		goto out;
	req.cert_pem = cert;
	req.chain_pem = chain;
	if (svc_ca_prepare(s, a, &req, res, e) == -1)
		goto out;
	if (res->csr_pem != NULL) {
		if (fio_write_atomic(o->csr_out, res->csr_pem,
		    strlen(res->csr_pem), 0644, e) == -1)
			goto out;
		printf("CSR written to %s: have it signed as a CA (pathlen "
		    "0), then run redis-ca ca prepare --import-cert F "
		    "[--import-chain ROOTS]\n", o->csr_out);
	}
	rc = 0;
out:
	free(cert);
	free(chain);
	return rc;
}

/* After activate without serve: rotate every node now. */
static void
rotate_all(struct svc *s, const struct svc_actor *a,
    struct svc_ca_result *res)
{
	struct rotation_rec	rec;
	struct err		e;

	for (size_t i = 0; i < res->nnodes; i++) {
		err_clear(&e);
		res->nodes[i].ok = svc_rotate(s, a, res->nodes[i].name, &rec,
		    &e) == 0;
		snprintf(res->nodes[i].detail, sizeof(res->nodes[i].detail),
		    "rotation %s%s%.200s", res->nodes[i].ok ? "succeeded" :
		    "failed", res->nodes[i].ok ? "" : ": ", res->nodes[i].ok ?
		    "" : e.msg);
	}
}

/* Print the serials of an ERR_CA_IN_USE refusal. */
static void
print_in_use(const struct svc_ca_result *r)
{
	fprintf(stderr, "%zu unexpired certificate(s), first:", r->count);
	for (size_t i = 0; i < r->nserials && i < 10; i++)
		fprintf(stderr, " %s", r->serials[i]);
	fprintf(stderr, "%s\n", r->nserials > 10 ? " ..." : "");
}

static int
run_phase(enum ca_cmd c, struct svc *s, const struct svc_actor *a,
    const struct ca_opts *o, bool serve_runs, struct svc_ca_result *res,
    struct err *e)
{
	int rc = -1;

	switch (c) {
	case CA_PREPARE:
		rc = run_prepare(s, a, o, res, e);
		break;
	case CA_ACTIVATE:
		rc = svc_ca_activate(s, a, o->force, res, e);
		if (rc == 0 && !serve_runs)
			rotate_all(s, a, res);
		break;
	case CA_RETIRE:
		rc = svc_ca_retire(s, a, o->force, res, e);
		if (rc == -1 && e->code == ERR_CA_IN_USE)
			print_in_use(res);
		break;
	default:
		rc = print_status(s, e);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Waiting for serve                                                   */

/* Is name among names[0..n)? */
static bool
listed(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Has every node got the current bundle?  Each node's state into res. */
static bool
wait_pushed(struct svc *s, struct svc_ca_result *res)
{
	struct svc_node_view	*list = NULL;
	char			**names = NULL;
	char			 next[RCA_MAX_NODE_NAME + 1];
	size_t			 n = 0, k = 0;
	struct err		 e;
	bool			 stale;

	err_clear(&e);
	svc_ca_result_clear(res);
	if (svc_ca_stale_nodes(s, &names, &n, &e) == -1 ||
	    svc_node_list(s, NULL, RCA_MAX_LIST_LIMIT, &list, &k, next,
	    &e) == -1) {
		svc_ca_names_free(names, n);
		return false;
	}
	for (size_t i = 0; i < k; i++) {
		stale = listed(names, n, list[i].node.name);
		(void)svc_ca_result_add(res, list[i].node.name, !stale,
		    stale ? "has not got the bundle yet (serve pushes it)" :
		    "has the bundle");
	}
	svc_node_list_free(list, k);
	svc_ca_names_free(names, n);
	return n == 0;
}

/* Has serve rotated every node since activate (at since)? */
static bool
wait_rotated(struct svc *s, int64_t since, struct svc_ca_result *res)
{
	struct svc_node_view	*list = NULL;
	struct err		 e;
	char			 next[RCA_MAX_NODE_NAME + 1];
	size_t			 n = 0;
	bool			 done = true;

	err_clear(&e);
	svc_ca_result_clear(res);
	/* One page: a fleet larger than that is followed in GET /v1/nodes. */
	if (svc_node_list(s, NULL, RCA_MAX_LIST_LIMIT, &list, &n, next,
	    &e) == -1)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct svc_node_view *v = &list[i];
		bool ran = v->has_last_rotation &&
		    v->last_rotation.started_at >= since &&
		    v->last_rotation.status != ROT_RUNNING;
		bool ok = ran && v->last_rotation.status == ROT_SUCCEEDED;

		if (!ran)
			done = false;
		(void)svc_ca_result_add(res, v->node.name, ok, !ran ?
		    "not rotated yet (serve rotates it)" : ok ?
		    "rotated onto the new CA" : "rotation failed (serve "
		    "retries it; see GET /v1/nodes)");
	}
	svc_node_list_free(list, n);
	return done;
}

/* Wait up to o->wait for serve; 0 when every node is done. */
static int
wait_serve(enum ca_cmd c, struct svc *s, const struct ca_opts *o,
    int64_t since, struct svc_ca_result *res)
{
	int64_t		 end = tu_now() + o->wait;
	struct timespec	 ts = { 0, CA_POLL_MS * 1000000L };
	bool		 done;

	printf("serve runs on this data folder: waiting up to %" PRId64
	    "s for it to %s the nodes\n", o->wait, c == CA_ACTIVATE ?
	    "rotate" : "push the bundle to");
	for (;;) {
		done = c == CA_ACTIVATE ? wait_rotated(s, since, res) :
		    wait_pushed(s, res);
		if (done || tu_now() >= end)
			break;
		nanosleep(&ts, NULL);
	}
	return done ? 0 : -1;
}

/* ------------------------------------------------------------------ */

/*
 * Open the service; *serve_runs: SQLite and its serve.lock is held by
 * serve (else *lock holds it for the command's life).  Beside
 * PostgreSQL instances the command pushes itself: node locks are
 * shared through the database.
 */
static int
ca_open(const char *config, struct config *cfg, struct svc **s, int *lock,
    bool *serve_runs, struct err *e)
{
	struct err le;

	*lock = -1;
	*serve_runs = false;
	if (cli_config_load(config, cfg, e) == -1)
		return -1;
	if (!db_is_postgres(cfg->database)) {
		err_clear(&le);
		if ((*lock = cli_lock_data(cfg->dir, &le)) == -1) {
			if (le.code != ERR_CONFLICT) {
				*e = le;
				return -1;
			}
			*serve_runs = true;
		}
	}
	config_clear(cfg);
	if (cli_open(config, cfg, s, e) == -1)
		return -1;
	svc_ca_set_deferred(*s, *serve_runs);
	return 0;
}

static int
ca_run(enum ca_cmd c, int argc, char **argv)
{
	struct ca_opts		o;
	struct config		cfg = CONFIG_INIT;
	struct svc		*s = NULL;
	struct svc_actor	 actor;
	struct svc_ca_result	 res;
	struct err		 e;
	int64_t			 since = tu_now();
	bool			 serve_runs = false, failed = false;
	int			 rc = EXIT_FAIL, lock = -1;

	err_clear(&e);
	memset(&res, 0, sizeof(res));
	svc_actor_init(&actor, ACTOR_CLI);
	if (parse(c, argc, argv, &o, &e) == -1) {
		rc = fail(c, &e);
		goto out;
	}
	if (o.help) {
		fputs(ca_usage, stdout);
		rc = EXIT_OK;
		goto out;
	}
	if (ca_open(o.config, &cfg, &s, &lock, &serve_runs, &e) == -1 ||
	    run_phase(c, s, &actor, &o, serve_runs, &res, &e) == -1) {
		rc = fail(c, &e);
		print_nodes(&res);
		goto out;
	}
	if (c != CA_STATUS && serve_runs && (c != CA_PREPARE ||
	    o.csr_out == NULL) && wait_serve(c, s, &o, since, &res) == -1)
		failed = true;
	print_nodes(&res);
	for (size_t i = 0; i < res.nnodes; i++)
		failed |= !res.nodes[i].ok && c != CA_STATUS;
	if (c != CA_STATUS && print_status(s, &e) == -1)
		failed = true;
	if (failed)
		cli_error("ca %s: done, but not every node is: see above "
		    "(the scheduler of serve retries)", cmd_name[c]);
	rc = failed ? EXIT_FAIL : EXIT_OK;
out:
	svc_ca_result_clear(&res);
	svc_actor_clear(&actor);
	svc_close(s);
	if (lock != -1)
		close(lock);
	config_clear(&cfg);
	return rc;
}

int
cmd_ca(int argc, char **argv)
{
	if (argc < 2) {
		fputs(ca_usage, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(ca_usage, stdout);
		return EXIT_OK;
	}
	for (int c = 0; c <= CA_STATUS; c++)
		if (strcmp(argv[1], cmd_name[c]) == 0)
			return ca_run((enum ca_cmd)c, argc - 1, argv + 1);
	cli_error("ca: unknown subcommand \"%.64s\" (prepare, activate, "
	    "retire or status)", argv[1]);
	return EXIT_USAGE;
}
