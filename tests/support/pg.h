/*
 * A throwaway PostgreSQL 15 for the tests of db/ and above: a cluster
 * copied from a template made once by initdb, started with fork/exec
 * on 127.0.0.1 and a free port (never 5432, never the system cluster),
 * a database and a role made for the test, a streaming standby made by
 * pg_basebackup -R, promotion, a stop by PID, and the removal of the
 * scratch folders.  Link with test_pg_dep; run with pg_test_env.
 *
 * As root every PostgreSQL program runs as the "postgres" user (it
 * refuses root), and the scratch folders are chowned to it; otherwise
 * as the current user.  Binaries come from RCA_TEST_PG_BINDIR, else
 * /usr/lib/postgresql/15/bin.  Set RCA_KEEP_TMP=1 to keep the folders.
 * Nothing here is thread-safe; call it from the test's main thread.
 */
#ifndef RCA_TEST_PG_H
#define RCA_TEST_PG_H

#include <stdbool.h>
#include <sys/types.h>

/* One PostgreSQL server: a primary or a standby. */
struct pg_fixture;

/*
 * Are the PostgreSQL binaries there (initdb, postgres, pg_basebackup)?
 * A test returns 77 (skipped) when they are not.
 */
bool	pg_fixture_available(void);

/*
 * New: a running primary with database "rca" owned by role "rca" (not
 * a superuser; trust authentication on loopback, so no password).
 * NULL on failure, with the reason and the server's log on stderr.
 * Free with pg_fixture_free().
 */
struct pg_fixture *pg_fixture_start(void);

/*
 * New: a hot standby of primary, made with pg_basebackup -R and
 * streaming from it, on its own free port; it accepts read-only
 * connections when this returns.  NULL on failure.  Free it before
 * or after the primary, with pg_fixture_free().
 */
struct pg_fixture *pg_fixture_standby(struct pg_fixture *primary);

/*
 * Wait (bounded) until standby has replayed all the WAL primary has
 * written so far: every transaction primary committed before the call
 * is then visible on standby, and survives primary's loss and the
 * standby's promotion (replication is asynchronous otherwise).  0, or
 * -1 on a timeout or error (reason on stderr).
 */
int	pg_fixture_catch_up(struct pg_fixture *primary,
	    struct pg_fixture *standby);

/*
 * Promote a standby (pg_promote, waiting for the end of recovery).
 * 0 when it accepts writes, -1 otherwise (reason on stderr).
 */
int	pg_fixture_promote(struct pg_fixture *f);

/*
 * Stop the server by PID: SIGINT (fast shutdown), waited for with a
 * deadline, then SIGKILL.  pg_fixture_kill() sends SIGKILL at once
 * (a crash: for failover tests).  Both reap it; a stopped fixture can
 * be started again with pg_fixture_restart() and still be freed.
 */
void	pg_fixture_stop(struct pg_fixture *f);
void	pg_fixture_kill(struct pg_fixture *f);

/* Start a stopped server again on its port and folder.  0 or -1. */
int	pg_fixture_restart(struct pg_fixture *f);

/* Stop the server if running and remove its folder.  NULL is fine. */
void	pg_fixture_free(struct pg_fixture *f);

/*
 * Borrowed (valid until pg_fixture_free()): the test's libpq URI,
 * "postgresql://rca@127.0.0.1:PORT/rca", and the superuser's, to
 * database "postgres".
 */
const char *pg_fixture_uri(const struct pg_fixture *f);
const char *pg_fixture_admin_uri(const struct pg_fixture *f);

/* The server's TCP port on 127.0.0.1, and its postmaster's PID. */
int	pg_fixture_port(const struct pg_fixture *f);
pid_t	pg_fixture_pid(const struct pg_fixture *f);

/* Borrowed: the folder holding data/, sock/ and postgres.log. */
const char *pg_fixture_dir(const struct pg_fixture *f);

/*
 * New (caller frees with free()): the URI of a new, empty database
 * name (a-z, 0-9, '_') owned by role "rca".  NULL on failure.
 */
char	*pg_fixture_createdb(struct pg_fixture *f, const char *name);

/*
 * Run one SQL command as the superuser on database "postgres" (or on
 * db when not NULL).  0, or -1 with libpq's message on stderr.
 */
int	pg_fixture_exec(struct pg_fixture *f, const char *db,
	    const char *sql);

#endif
