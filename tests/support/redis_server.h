/*
 * A real redis-server for the tests of redis/ and service/: a free
 * loopback port, the process started on a config file with fork/exec,
 * a poll with a deadline until it accepts connections, a stop by PID,
 * and the removal of the scratch folder its files were in.  Link with
 * test_redis_dep; run with redis_test_env.
 */
#ifndef RCA_TEST_REDIS_SERVER_H
#define RCA_TEST_REDIS_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

/* How trs_start() ended. */
enum trs_status {
	TRS_READY,	/* the server accepts connections on the port */
	TRS_EXITED,	/* it exited first (e.g. the port was taken) */
	TRS_TIMEOUT	/* it did not listen in time; it was stopped */
};

/*
 * A loopback TCP port nobody listens on right now (another process may
 * take it before the caller does).  Fails the test on a socket error.
 */
int	trs_free_port(void);

/*
 * A new socket listening on 127.0.0.1 on a free port (*port): a peer
 * that accepts connections and never answers.  Close it when done.
 * Fails the test on a socket error.
 */
int	trs_listen(int *port);

/*
 * Start redis-server (RDS_TEST_REDIS_SERVER, else "redis-server" on
 * PATH) on config file conf, and poll until it accepts connections on
 * 127.0.0.1:port, it exits, or wait_ms pass.  On TRS_READY *pid is the
 * server (stop it with trs_stop()); otherwise *pid is 0, the server is
 * gone and its log (log, the file conf names) is copied to stderr.
 */
enum trs_status trs_start(const char *conf, const char *log, int port,
	    int wait_ms, pid_t *pid);

/*
 * SIGTERM pid, wait (bounded) for it to exit, then SIGKILL it; reaps
 * it either way.  pid <= 0: nothing to do.
 */
void	trs_stop(pid_t pid);

/* Remove dir and everything below it (best effort; links not followed). */
void	trs_rmtree(const char *dir);

#endif
