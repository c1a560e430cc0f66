/*
 * Benchmark of db_cert_insert(): durable inserts (each with its audit
 * entry) per second from 1 thread and from N threads, which group
 * commit lets share COMMITs.
 * Usage: bench_cert_insert [threads] [rows] [parent folder, default /tmp]
 * The third argument may instead be a postgresql:// URI of an empty
 * database: the same inserts on PostgreSQL (one connection per thread,
 * no group commit).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "priv.h"

struct worker {
	struct db	*db;
	int		 id;
	int		 rows;
	int		 failures;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
work(void *p)
{
	struct worker *w = p;
	struct cert_rec c;
	struct audit_rec a;
	struct err e = { 0 };
	char pem[800];

	memset(pem, 'A', sizeof(pem) - 1);
	pem[sizeof(pem) - 1] = '\0';
	for (int i = 0; i < w->rows; i++) {
		memset(&c, 0, sizeof(c));
		memset(&a, 0, sizeof(a));
		snprintf(c.serial, sizeof(c.serial), "%04x%028x", w->id, i);
		snprintf(c.profile, sizeof(c.profile), "redis-client");
		c.names.cn = "bench.example";
		c.not_before = 1700000000;
		c.not_after = 1700086400;
		memset(c.fingerprint, 'f', RCA_SHA256_HEX);
		snprintf(c.issued_by, sizeof(c.issued_by), "token:bench");
		c.pem = pem;
		c.created_at = 1700000000;
		a.at = 1700000000;
		snprintf(a.actor, sizeof(a.actor), "token:bench");
		snprintf(a.action, sizeof(a.action), "certificate.issue");
		snprintf(a.object, sizeof(a.object), "%s", c.serial);
		if (db_cert_insert(w->db, &c, &a, &e) != 0)
			w->failures++;
	}
	return NULL;
}

static int
run(struct db *db, int nthreads, int rows, int base)
{
	pthread_t th[64];
	struct worker w[64];
	double t0, dt;
	uint64_t b0 = db->gc_batches;
	int fail = 0;

	t0 = now_s();
	for (int i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ db, base + i, rows, 0 };
		if (pthread_create(&th[i], NULL, work, &w[i]) != 0)
			return -1;
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		fail += w[i].failures;
	}
	dt = now_s() - t0;
	printf("%d thread(s) x %d rows: %.0f rows/s (%.3f s, %llu commits, "
	    "max batch %zu, %d failures)\n", nthreads, rows,
	    nthreads * rows / dt, dt,
	    (unsigned long long)(db->gc_batches - b0), db->gc_max_batch,
	    fail);
	return fail == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	char dir[256], path[300], p[320];
	int threads = argc > 1 ? atoi(argv[1]) : 8;
	int rows = argc > 2 ? atoi(argv[2]) : 2000;
	struct err e = { 0 };
	struct db *db;
	int rc = 1;

	if (threads < 1 || threads > 64 || rows < 1)
		return 2;
	if (argc > 3 && strncmp(argv[3], "postgres", 8) == 0) {
		if ((db = db_open(argv[3], &e)) == NULL) {
			fprintf(stderr, "db_open: %s\n", e.msg);
			return 1;
		}
		rc = run(db, 1, rows, 0) == 0 && run(db, threads, rows, 1) == 0 ?
		    0 : 1;
		db_close(db);
		return rc;
	}
	snprintf(dir, sizeof(dir), "%s/rca-db-bench-XXXXXX",
	    argc > 3 ? argv[3] : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/bench.db", dir);
	if ((db = db_open(path, &e)) == NULL) {
		fprintf(stderr, "db_open: %s\n", e.msg);
		goto out;
	}
	if (run(db, 1, rows, 0) == 0 &&
	    run(db, threads, rows, 1) == 0)
		rc = 0;
	db_close(db);
out:
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	unlink(path);
	rmdir(dir);
	return rc;
}
