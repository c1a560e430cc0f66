/*
 * The redis-server test fixture (redis_server.h): loopback ports, a
 * server process started with fork/exec and stopped by PID (every wait
 * a poll with a deadline on the monotonic clock), its folder removed.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "redis_server.h"
#include "twait.h"

/* How often a wait looks again, and how long a stop may take. */
#define POLL_MS		10
#define STOP_WAIT_MS	5000

static void
loopback(struct sockaddr_in *sa, int port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa->sin_port = htons((uint16_t)port);
}

/* A new socket bound to 127.0.0.1 on a free port (*port). */
static int
bind_any(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	loopback(&sa, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

int
trs_free_port(void)
{
	int port;

	close(bind_any(&port));
	return port;
}

int
trs_listen(int *port)
{
	int fd = bind_any(port);

	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* Does something accept connections on 127.0.0.1:port? */
static bool
port_open(int port)
{
	struct sockaddr_in sa;
	int fd, ok;

	/* No assertion here: a failure must not leave a server behind. */
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	loopback(&sa, port);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

enum trs_status
trs_start(const char *conf, const char *log, int port, int wait_ms,
    pid_t *pid)
{
	const char *bin = getenv("RDS_TEST_REDIS_SERVER");
	int64_t deadline = tw_mono_ms() + wait_ms;
	enum trs_status st;
	int status;
	pid_t p;

	*pid = 0;
	p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		execlp(bin != NULL ? bin : "redis-server", "redis-server",
		    conf, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		if (waitpid(p, &status, WNOHANG) == p) {
			st = TRS_EXITED;
			break;
		}
		if (port_open(port)) {
			*pid = p;
			return TRS_READY;
		}
		if (tw_mono_ms() >= deadline) {
			trs_stop(p);
			st = TRS_TIMEOUT;
			break;
		}
		tw_sleep_ms(POLL_MS);
	}
	tw_show_log(log, "redis-server: ");
	return st;
}

void
trs_stop(pid_t pid)
{
	int64_t deadline = tw_mono_ms() + STOP_WAIT_MS;
	int status;

	if (pid <= 0)
		return;
	(void)kill(pid, SIGTERM);
	while (tw_mono_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		tw_sleep_ms(POLL_MS);
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &status, 0);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
trs_rmtree(const char *dir)
{
	(void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
