/*
 * Benchmark of the node list reads at fleet scale: N nodes (default
 * 10,000), then the time to walk every page of db_node_list() (limit
 * 100, and RCA_MAX_LIST_LIMIT as the scheduler does), and the drift
 * filter (db_node_list_filter(), 1% of the nodes drifting) walked in
 * pages of 100.  Best of 5 runs each, in milliseconds: wall clock,
 * and this process's CPU time (steadier on a loaded machine; on
 * PostgreSQL the server's work is not in it).
 * Usage: bench_node_list [sqlite|pg] [nodes]
 * pg starts a throwaway PostgreSQL 15 (tests/support/pg.h).
 * Built with RCA_BENCH_FLEET=0 it measures a schema without the drift
 * column (to compare with the version before migration 6).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "db.h"
#include "pg.h"

#ifndef RCA_BENCH_FLEET
#define RCA_BENCH_FLEET	1
#endif

#define RUNS	5

static double
now_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Run sql on path (a file or a URI) with a connection of our own. */
static int
raw(const char *path, bool pg, const char *sql)
{
	sqlite3 *h = NULL;
	PGconn *c;
	PGresult *r;
	int rc;

	if (pg) {
		c = PQconnectdb(path);
		r = PQexec(c, sql);
		rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
		if (rc == -1)
			fprintf(stderr, "%s\n", PQresultErrorMessage(r));
		PQclear(r);
		PQfinish(c);
		return rc;
	}
	if (sqlite3_open(path, &h) != SQLITE_OK)
		return -1;
	rc = sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
	if (rc == -1)
		fprintf(stderr, "%s\n", sqlite3_errmsg(h));
	sqlite3_close(h);
	return rc;
}

#if RCA_BENCH_FLEET
/* Print PostgreSQL's plan of the drift filter's first page. */
static void
explain(const char *uri)
{
	PGconn *c = PQconnectdb(uri);
	PGresult *r = PQexec(c, "EXPLAIN SELECT name FROM nodes "
	    "WHERE drift_since <> 0 AND name > '' ORDER BY name LIMIT 101");

	for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK &&
	    i < PQntuples(r); i++)
		printf("  plan: %s\n", PQgetvalue(r, i, 0));
	PQclear(r);
	PQfinish(c);
}
#endif

/* Walk every page; the number of nodes seen, or -1. */
static long
walk(struct db *db, bool drift, size_t limit)
{
	struct node_rec *list;
	char after[RCA_MAX_NODE_NAME + 1] = "", next[RCA_MAX_NODE_NAME + 1];
	struct err e = { 0 };
	size_t n;
	long total = 0;
	int rc;

	do {
#if RCA_BENCH_FLEET
		struct db_node_filter f = { .drift = drift };

		rc = db_node_list_filter(db, &f, after, limit, &list, &n, next,
		    &e);
#else
		(void)drift;
		rc = db_node_list(db, after, limit, &list, &n, next, &e);
#endif
		if (rc == -1) {
			fprintf(stderr, "list: %s\n", e.msg);
			return -1;
		}
		total += (long)n;
		db_node_list_free(list, n);
		memcpy(after, next, sizeof(after));
	} while (next[0] != '\0');
	return total;
}

static void
measure(struct db *db, const char *what, bool drift, size_t limit,
    long want)
{
	double best = 1e18, cpu = 1e18, t, c;
	long got = 0;

	for (int i = 0; i < RUNS; i++) {
		t = now_ms(CLOCK_MONOTONIC);
		c = now_ms(CLOCK_PROCESS_CPUTIME_ID);
		got = walk(db, drift, limit);
		t = now_ms(CLOCK_MONOTONIC) - t;
		c = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c;
		if (t < best)
			best = t;
		if (c < cpu)
			cpu = c;
	}
	printf("%-34s %6ld nodes  %8.1f ms  (cpu %6.1f ms)%s\n", what, got,
	    best, cpu, got == want ? "" : "  (UNEXPECTED COUNT)");
}

int
main(int argc, char **argv)
{
	bool pg = argc > 1 && strcmp(argv[1], "pg") == 0;
	long nodes = argc > 2 ? atol(argv[2]) : 10000;
	struct pg_fixture *f = NULL;
	char dir[64] = "/tmp/rca-bench-nodes-XXXXXX", path[256], sql[1024];
	char *uri = NULL;
	struct db *db;
	struct err e = { 0 };
	int rc = 1;

	if (pg) {
		if ((f = pg_fixture_start()) == NULL ||
		    (uri = pg_fixture_createdb(f, "bench")) == NULL)
			goto out;
		snprintf(path, sizeof(path), "%s", uri);
	} else {
		if (mkdtemp(dir) == NULL)
			goto out;
		snprintf(path, sizeof(path), "%s/bench.db", dir);
	}
	if ((db = db_open(path, &e)) == NULL) {
		fprintf(stderr, "db_open: %s\n", e.msg);
		goto out;
	}
	/* The columns of version 1 only: the same text before and after. */
	snprintf(sql, sizeof(sql), "INSERT INTO nodes (name, host, port, "
	    "server_name, san_dns, san_ip, cert_dir, cert_file, key_file, "
	    "ca_file, profile, ttl, auth_username, auth_password_file, "
	    "current_serial, not_after, last_rotation_id, failures, "
	    "next_attempt_at, created_at) "
	    "SELECT 'node-' || (1000000 + n), '10.0.0.1', "
	    "6379, '', 'r.internal', '10.0.0.1', '/etc/redis/tls', "
	    "'redis.crt', 'redis.key', 'ca.crt', 'redis-node', 0, '', '', "
	    "'ab', 1800000000, 0, 0, 0, 1 FROM (WITH RECURSIVE i(n) AS "
	    "(SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < %ld) "
	    "SELECT n FROM i) s", nodes);
	if (raw(path, pg, sql) == -1)
		goto close;
#if RCA_BENCH_FLEET
	/* 1% drifting, spread over the names. */
	if (raw(path, pg, "UPDATE nodes SET drift_since = 5, "
	    "served_serial = 'cd' "
	    "WHERE CAST(substr(name, 6) AS INTEGER) % 100 = 42") == -1)
		goto close;
#endif
	if (raw(path, pg, "ANALYZE") == -1)
		goto close;
	printf("%s, %ld nodes, best of %d\n", pg ? "PostgreSQL" : "SQLite",
	    nodes, RUNS);
	measure(db, "db_node_list, pages of 100", false, 100, nodes);
	measure(db, "db_node_list, pages of max", false, RCA_MAX_LIST_LIMIT,
	    nodes);
#if RCA_BENCH_FLEET
	measure(db, "drift filter, pages of 100", true, 100, nodes / 100);
	if (pg)
		explain(path);
#endif
	rc = 0;
close:
	db_close(db);
out:
	free(uri);
	pg_fixture_free(f);
	if (!pg) {
		snprintf(sql, sizeof(sql), "%s-wal", path);
		unlink(sql);
		snprintf(sql, sizeof(sql), "%s-shm", path);
		unlink(sql);
		unlink(path);
		rmdir(dir);
	}
	return rc;
}
