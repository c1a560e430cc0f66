/*
 * The PostgreSQL test fixture (pg.h): a template cluster made once by
 * initdb under a lock, copied per server, postgres started with
 * fork/exec as the "postgres" user when run as root, every wait a poll
 * with a deadline on the monotonic clock, stopped by PID.
 */
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "pg.h"
#include "twait.h"

#define PG_BINDIR	"/usr/lib/postgresql/15/bin"
#define PG_SUPERUSER	"rca_super"	/* initdb -U; trust on loopback */
#define PG_ROLE		"rca"		/* the test's role and database */
#define POLL_MS		20
#define READY_WAIT_MS	60000
#define STOP_WAIT_MS	30000
#define START_TRIES	5
#define DIR_LEN		256	/* a scratch folder's path */

struct pg_fixture {
	char	dir[DIR_LEN];		/* scratch folder, owned by pg */
	char	data[PATH_MAX];		/* dir/data */
	char	sock[PATH_MAX];		/* dir/sock: unix socket */
	char	log[PATH_MAX];		/* dir/postgres.log */
	char	uri[256];
	char	admin_uri[256];
	int	port;
	pid_t	pid;			/* postmaster; 0 when stopped */
};

static const char *
bindir(void)
{
	const char *d = getenv("RCA_TEST_PG_BINDIR");

	return d != NULL && *d != '\0' ? d : PG_BINDIR;
}

/* The user PostgreSQL's programs run as: "postgres" when we are root. */
static int
pg_owner(uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	if (geteuid() != 0) {
		*uid = geteuid();
		*gid = getegid();
		return 0;
	}
	if ((pw = getpwnam("postgres")) == NULL) {
		fprintf(stderr, "pg: running as root and no postgres user\n");
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* A folder (mode 0700) owned by the PostgreSQL user. */
static int
own_dir(const char *path, bool create)
{
	uid_t uid;
	gid_t gid;

	if (create && mkdir(path, 0700) == -1 && errno != EEXIST) {
		fprintf(stderr, "pg: mkdir %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (pg_owner(&uid, &gid) == -1 || chown(path, uid, gid) == -1 ||
	    chmod(path, 0700) == -1) {
		fprintf(stderr, "pg: chown %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * In the child: drop to the PostgreSQL user, output to log (append),
 * no PG* variables that could point anywhere else, then exec argv.
 * A server (die_with_parent) gets SIGQUIT if the test dies first.
 */
static void
child_exec(char *const argv[], const char *log, bool die_with_parent,
    pid_t parent)
{
	static const char *const vars[] = { "PGDATA", "PGHOST", "PGPORT",
	    "PGUSER", "PGDATABASE", "PGSERVICE", "PGOPTIONS",
	    "PGPASSFILE", "PGHOSTADDR", "PGTARGETSESSIONATTRS" };
	uid_t uid;
	gid_t gid;
	size_t i;
	int fd;

	if ((fd = open("/dev/null", O_RDONLY)) != -1)
		dup2(fd, 0);
	if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600)) != -1) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	if (pg_owner(&uid, &gid) == -1 ||
	    (fd != -1 && fchown(fd, uid, gid) == -1) ||
	    (geteuid() == 0 && (setgroups(0, NULL) == -1 ||
	    setgid(gid) == -1 || setuid(uid) == -1)) ||
	    (die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGQUIT) == -1 ||
	    getppid() != parent)) || chdir("/tmp") == -1) {
		fprintf(stderr, "pg: child set-up: %s\n", strerror(errno));
		_exit(126);
	}
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	execv(argv[0], argv);
	fprintf(stderr, "pg: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static pid_t
spawn(char *const argv[], const char *log, bool server)
{
	pid_t parent = getpid(), p;

	if ((p = fork()) == -1) {
		fprintf(stderr, "pg: fork: %s\n", strerror(errno));
		return -1;
	}
	if (p == 0)
		child_exec(argv, log, server, parent);
	return p;
}

/* Run a program to its end: 0 when it exits 0, else -1 (log shown). */
static int
run(char *const argv[], const char *log)
{
	int status;
	pid_t p;

	if ((p = spawn(argv, log, false)) == -1)
		return -1;
	while (waitpid(p, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	fprintf(stderr, "pg: %s failed (status %d)\n", argv[0], status);
	tw_show_log(log, "pg log: ");
	return -1;
}

static void
bin_path(char *out, size_t len, const char *prog)
{
	snprintf(out, len, "%s/%s", bindir(), prog);
}

bool
pg_fixture_available(void)
{
	static const char *const progs[] = { "initdb", "postgres",
	    "pg_basebackup" };
	char path[PATH_MAX];
	uid_t uid;
	gid_t gid;
	size_t i;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		bin_path(path, sizeof(path), progs[i]);
		if (access(path, X_OK) == -1)
			return false;
	}
	return pg_owner(&uid, &gid) == 0;
}

/* A loopback TCP port nobody listens on right now, never 5432. */
static int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, port = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port == 5432 ? free_port() : port;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove dir and everything below it (best effort; links not followed). */
static void
rmtree(const char *dir)
{
	(void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
template_dir(char *out, size_t len)
{
	const char *t = getenv("RCA_TEST_PG_TEMPLATE");

	if (t != NULL && *t != '\0')
		snprintf(out, len, "%s", t);
	else
		snprintf(out, len, "/tmp/redis-ca-pgtemplate-%u",
		    (unsigned)getuid());
}

/*
 * The template cluster (template/data), made by initdb the first time
 * under an exclusive lock, so parallel tests wait for one initdb; a
 * "ready" file marks it complete.
 */
static int
template_ready(char *data, size_t len)
{
	char dir[DIR_LEN], lock[DIR_LEN + 8], ready[DIR_LEN + 8];
	char initdb[PATH_MAX], log[DIR_LEN + 16];
	char *argv[] = { initdb, "-D", data, "-U", PG_SUPERUSER,
	    "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync",
	    NULL };
	int fd, rc = -1;

	template_dir(dir, sizeof(dir));
	snprintf(data, len, "%s/data", dir);
	snprintf(lock, sizeof(lock), "%s.lock", dir);
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	snprintf(log, sizeof(log), "%s/initdb.log", dir);
	bin_path(initdb, sizeof(initdb), "initdb");
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 ||
	    flock(fd, LOCK_EX) == -1) {
		fprintf(stderr, "pg: lock %s: %s\n", lock, strerror(errno));
		goto out;
	}
	if (access(ready, F_OK) == 0) {
		rc = 0;
		goto out;
	}
	rmtree(dir);
	if (own_dir(dir, true) == -1 || run(argv, log) == -1)
		goto out;
	if ((rc = open(ready, O_WRONLY | O_CREAT, 0600)) != -1)
		rc = close(rc);
out:
	if (fd != -1)
		close(fd);
	return rc;
}

/* Connection strings of the superuser to db, and of the test's role. */
static void
set_uris(struct pg_fixture *f)
{
	snprintf(f->uri, sizeof(f->uri), "postgresql://%s@127.0.0.1:%d/%s",
	    PG_ROLE, f->port, PG_ROLE);
	snprintf(f->admin_uri, sizeof(f->admin_uri),
	    "postgresql://%s@127.0.0.1:%d/postgres", PG_SUPERUSER, f->port);
}

static PGconn *
admin_connect(const struct pg_fixture *f, const char *db)
{
	char port[16];
	const char *keys[] = { "host", "port", "user", "dbname",
	    "connect_timeout", NULL };
	const char *vals[] = { "127.0.0.1", port, PG_SUPERUSER,
	    db != NULL ? db : "postgres", "10", NULL };

	snprintf(port, sizeof(port), "%d", f->port);
	return PQconnectdbParams(keys, vals, 0);
}

/* 0 once the server accepts connections, -1 if it exits or times out. */
static int
wait_ready(struct pg_fixture *f)
{
	int64_t deadline = tw_mono_ms() + READY_WAIT_MS;
	char conninfo[128];
	int status;

	snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d "
	    "user=%s dbname=postgres connect_timeout=2", f->port,
	    PG_SUPERUSER);
	for (;;) {
		if (waitpid(f->pid, &status, WNOHANG) == f->pid) {
			f->pid = 0;
			return -1;
		}
		if (PQping(conninfo) == PQPING_OK)
			return 0;
		if (tw_mono_ms() >= deadline) {
			fprintf(stderr, "pg: not ready in %d ms\n",
			    READY_WAIT_MS);
			pg_fixture_kill(f);
			return -1;
		}
		tw_sleep_ms(POLL_MS);
	}
}

/*
 * Start postgres on f->data and a free port (another one when the
 * port was taken meanwhile).  fsync is off: the tests kill servers,
 * never the machine, so the kernel still holds every write.
 */
static int
server_start(struct pg_fixture *f, bool new_port)
{
	char prog[PATH_MAX], port[16];
	char *argv[] = { prog, "-D", f->data, "-p", port, "-k", f->sock,
	    "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
	    "-c", "full_page_writes=off", "-c", "shared_buffers=16MB",
	    "-c", "max_connections=100", "-c", "hot_standby=on",
	    "-c", "wal_keep_size=256MB", NULL };
	int i;

	bin_path(prog, sizeof(prog), "postgres");
	for (i = 0; i < START_TRIES; i++) {
		if ((new_port || f->port <= 0) && (f->port = free_port()) < 0)
			return -1;
		snprintf(port, sizeof(port), "%d", f->port);
		set_uris(f);
		if ((f->pid = spawn(argv, f->log, true)) == -1) {
			f->pid = 0;
			return -1;
		}
		if (wait_ready(f) == 0)
			return 0;
		if (!new_port)
			break;
	}
	fprintf(stderr, "pg: postgres did not start\n");
	tw_show_log(f->log, "pg log: ");
	return -1;
}

/* A new fixture with its scratch folder (sock/ inside), not started. */
static struct pg_fixture *
fixture_new(void)
{
	struct pg_fixture *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	snprintf(f->dir, sizeof(f->dir), "/tmp/rca-pg-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		fprintf(stderr, "pg: mkdtemp: %s\n", strerror(errno));
		free(f);
		return NULL;
	}
	snprintf(f->data, sizeof(f->data), "%s/data", f->dir);
	snprintf(f->sock, sizeof(f->sock), "%s/sock", f->dir);
	snprintf(f->log, sizeof(f->log), "%s/postgres.log", f->dir);
	if (own_dir(f->dir, false) == -1 || own_dir(f->sock, true) == -1) {
		pg_fixture_free(f);
		return NULL;
	}
	return f;
}

struct pg_fixture *
pg_fixture_start(void)
{
	struct pg_fixture *f = NULL;
	char tmpl[PATH_MAX], cp_log[PATH_MAX + 16];
	char *cp[] = { "/bin/cp", "-a", tmpl, NULL, NULL };

	if (template_ready(tmpl, sizeof(tmpl)) == -1 ||
	    (f = fixture_new()) == NULL)
		goto fail;
	cp[3] = f->data;
	snprintf(cp_log, sizeof(cp_log), "%s/cp.log", f->dir);
	if (run(cp, cp_log) == -1 || server_start(f, true) == -1)
		goto fail;
	if (pg_fixture_exec(f, NULL, "CREATE ROLE " PG_ROLE " LOGIN") == -1 ||
	    pg_fixture_exec(f, NULL, "CREATE DATABASE " PG_ROLE
	    " OWNER " PG_ROLE) == -1)
		goto fail;
	return f;
fail:
	pg_fixture_free(f);
	return NULL;
}

struct pg_fixture *
pg_fixture_standby(struct pg_fixture *primary)
{
	struct pg_fixture *f = NULL;
	char prog[PATH_MAX], port[16], log[PATH_MAX + 24];
	char *argv[] = { prog, "-h", "127.0.0.1", "-p", port,
	    "-U", PG_SUPERUSER, "-D", NULL, "-R", "-X", "stream",
	    "-c", "fast", "--no-sync", NULL };

	if ((f = fixture_new()) == NULL)
		goto fail;
	bin_path(prog, sizeof(prog), "pg_basebackup");
	snprintf(port, sizeof(port), "%d", primary->port);
	snprintf(log, sizeof(log), "%s/basebackup.log", f->dir);
	argv[8] = f->data;
	if (run(argv, log) == -1 || server_start(f, true) == -1)
		goto fail;
	return f;
fail:
	pg_fixture_free(f);
	return NULL;
}

/* One command as the superuser; 0 or -1 (message on stderr). */
static int
admin_exec(const struct pg_fixture *f, const char *db, const char *sql,
    char *out, size_t outlen)
{
	PGconn *c = NULL;
	PGresult *r = NULL;
	int rc = -1;

	c = admin_connect(f, db);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "pg: connect: %s", PQerrorMessage(c));
		goto out;
	}
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "pg: %s: %s", sql, PQerrorMessage(c));
		goto out;
	}
	if (out != NULL) {
		if (PQntuples(r) < 1 || PQnfields(r) < 1)
			goto out;
		snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
	}
	rc = 0;
out:
	PQclear(r);
	PQfinish(c);
	return rc;
}

int
pg_fixture_exec(struct pg_fixture *f, const char *db, const char *sql)
{
	return admin_exec(f, db, sql, NULL, 0);
}

int
pg_fixture_catch_up(struct pg_fixture *primary, struct pg_fixture *standby)
{
	int64_t deadline = tw_mono_ms() + READY_WAIT_MS;
	char lsn[64], sql[160], v[8] = "";

	if (admin_exec(primary, NULL, "SELECT pg_current_wal_lsn()", lsn,
	    sizeof(lsn)) == -1)
		return -1;
	/* An LSN is "hex/hex" from the server itself. */
	if (strspn(lsn, "0123456789ABCDEFabcdef/") != strlen(lsn))
		return -1;
	snprintf(sql, sizeof(sql), "SELECT coalesce(pg_last_wal_replay_lsn()"
	    " >= '%s'::pg_lsn, false)", lsn);
	while (admin_exec(standby, NULL, sql, v, sizeof(v)) == 0 &&
	    strcmp(v, "t") != 0 && tw_mono_ms() < deadline)
		tw_sleep_ms(POLL_MS);
	if (strcmp(v, "t") != 0) {
		fprintf(stderr, "pg: standby did not replay up to %s\n", lsn);
		return -1;
	}
	return 0;
}

int
pg_fixture_promote(struct pg_fixture *f)
{
	int64_t deadline = tw_mono_ms() + READY_WAIT_MS;
	char v[16];

	if (admin_exec(f, NULL, "SELECT pg_promote(true, 60)", v,
	    sizeof(v)) == -1 || strcmp(v, "t") != 0) {
		fprintf(stderr, "pg: promotion failed\n");
		return -1;
	}
	/* pg_promote waited; the check below only guards against a race. */
	while (admin_exec(f, NULL, "SELECT pg_is_in_recovery()", v,
	    sizeof(v)) == 0 && strcmp(v, "f") != 0) {
		if (tw_mono_ms() >= deadline)
			return -1;
		tw_sleep_ms(POLL_MS);
	}
	return strcmp(v, "f") == 0 ? 0 : -1;
}

static void
stop_signal(struct pg_fixture *f, int sig)
{
	int64_t deadline = tw_mono_ms() + STOP_WAIT_MS;
	int status;

	if (f == NULL || f->pid <= 0)
		return;
	(void)kill(f->pid, sig);
	while (sig != SIGKILL && tw_mono_ms() < deadline) {
		if (waitpid(f->pid, &status, WNOHANG) == f->pid) {
			f->pid = 0;
			return;
		}
		tw_sleep_ms(POLL_MS);
	}
	(void)kill(f->pid, SIGKILL);
	(void)waitpid(f->pid, &status, 0);
	f->pid = 0;
}

void
pg_fixture_stop(struct pg_fixture *f)
{
	stop_signal(f, SIGINT);
}

void
pg_fixture_kill(struct pg_fixture *f)
{
	stop_signal(f, SIGKILL);
}

int
pg_fixture_restart(struct pg_fixture *f)
{
	if (f->pid > 0)
		return 0;
	return server_start(f, false);
}

void
pg_fixture_free(struct pg_fixture *f)
{
	const char *keep = getenv("RCA_KEEP_TMP");

	if (f == NULL)
		return;
	pg_fixture_stop(f);
	if (keep != NULL && strcmp(keep, "1") == 0)
		fprintf(stderr, "pg: kept %s\n", f->dir);
	else
		rmtree(f->dir);
	free(f);
}

const char *
pg_fixture_uri(const struct pg_fixture *f)
{
	return f->uri;
}

const char *
pg_fixture_admin_uri(const struct pg_fixture *f)
{
	return f->admin_uri;
}

int
pg_fixture_port(const struct pg_fixture *f)
{
	return f->port;
}

pid_t
pg_fixture_pid(const struct pg_fixture *f)
{
	return f->pid;
}

const char *
pg_fixture_dir(const struct pg_fixture *f)
{
	return f->dir;
}

char *
pg_fixture_createdb(struct pg_fixture *f, const char *name)
{
	char sql[160], *uri;
	size_t i, n = strlen(name);

	/* Only a plain name is formatted into the command. */
	if (n == 0 || n > 60)
		return NULL;
	for (i = 0; i < n; i++)
		if (!(name[i] == '_' || (name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9')))
			return NULL;
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s OWNER " PG_ROLE,
	    name);
	if (pg_fixture_exec(f, NULL, sql) == -1)
		return NULL;
	if (asprintf(&uri, "postgresql://" PG_ROLE "@127.0.0.1:%d/%s",
	    f->port, name) == -1)
		return NULL;
	return uri;
}
