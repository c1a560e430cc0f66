/*
 * ca_bench: CSR parsing + issuance throughput of ca/ for a P-256 CA and
 * P-256 CSRs, single-threaded and with N threads sharing one struct ca.
 * Usage: ca_bench [seconds-per-run] [threads]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_ca.h"

struct run {
	const struct ca		*ca;
	const char		*csr_pem;
	const struct profile	*prof;
	double			 seconds;
	long			 done;
	int			 failed;
};

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static void *
worker(void *arg)
{
	struct run *r = arg;
	struct ca_issue_params p = { r->prof, 0, 0, 0 };
	size_t len = strlen(r->csr_pem);
	double end = now_s() + r->seconds;
	struct ca_cert out;
	struct err e;

	while (now_s() < end) {
		for (int i = 0; i < 64; i++) {
			struct ca_csr *csr = ca_csr_parse(r->csr_pem, len, &e);

			if (csr == NULL || ca_issue(r->ca, csr, &p, &out,
			    &e) == -1) {
				fprintf(stderr, "ca_bench: %s\n", e.msg);
				r->failed = 1;
				ca_csr_free(csr);
				return NULL;
			}
			ca_cert_clear(&out);
			ca_csr_free(csr);
			r->done++;
		}
	}
	return NULL;
}

static int
measure(const struct ca *ca, const char *pem, const struct profile *prof,
    int nthreads, double seconds, double *rate, double *cpu_rate)
{
	struct run *runs = calloc((size_t)nthreads, sizeof(*runs));
	pthread_t *th = calloc((size_t)nthreads, sizeof(*th));
	double t0, t1, c0, c1;
	long total = 0;
	int rc = -1;

	if (runs == NULL || th == NULL)
		goto out;
	t0 = now_s();
	c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (int i = 0; i < nthreads; i++) {
		runs[i] = (struct run){ ca, pem, prof, seconds, 0, 0 };
		if (pthread_create(&th[i], NULL, worker, &runs[i]) != 0)
			goto out;
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		if (runs[i].failed)
			goto out;
		total += runs[i].done;
	}
	t1 = now_s();
	c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	*rate = (double)total / (t1 - t0);
	/* Per CPU-second: meaningful even on a loaded machine. */
	*cpu_rate = (double)total / (c1 - c0);
	rc = 0;
out:
	free(th);
	free(runs);
	return rc;
}

int
main(int argc, char **argv)
{
	struct bench_ca b = { .ca = NULL };
	struct names n = NAMES_INIT;
	struct profile prof;
	struct ca_csr *csr = NULL;
	char *key_pem = NULL, *pem = NULL;
	double seconds = argc > 1 ? atof(argv[1]) : 3.0;
	double rate1, rateN, cpu1, cpuN;
	int threads = argc > 2 ? atoi(argv[2]) : 2, rc = 1;
	struct err e;

	if (seconds <= 0 || threads < 1) {
		fprintf(stderr, "usage: ca_bench [seconds] [threads]\n");
		return 2;
	}
	memset(&prof, 0, sizeof(prof));
	strcpy(prof.name, "redis-node");
	prof.eku = EKU_SERVER_AUTH | EKU_CLIENT_AUTH;
	prof.require_san = true;
	prof.default_ttl = 72 * 3600;
	prof.max_ttl = 30 * 86400;
	prof.key_types = KEY_BIT(KEY_EC_P256);
	if (bench_ca_make(&b, "ca_bench", "bench CA", 365, true, &e) == -1 ||
	    names_set_cn(&n, "redis-1.example", &e) == -1 ||
	    names_add(&n, NAME_IP, "10.0.0.1", &e) == -1 ||
	    (csr = ca_keygen(KEY_EC_P256, &n, &key_pem, &e)) == NULL ||
	    (pem = ca_csr_pem(csr, &e)) == NULL) {
		fprintf(stderr, "ca_bench: %s\n", e.msg);
		goto out;
	}
	if (measure(b.ca, pem, &prof, 1, seconds, &rate1, &cpu1) == -1 ||
	    measure(b.ca, pem, &prof, threads, seconds, &rateN, &cpuN) == -1)
		goto out;
	printf("ca_bench: P-256 CA, P-256 CSR, csr_parse+issue\n");
	printf("  1 thread : %8.0f certs/s wall, %8.0f certs per CPU-s "
	    "(%.1f us CPU each)\n", rate1, cpu1, 1e6 / cpu1);
	printf("  %d threads: %8.0f certs/s wall, %8.0f certs per CPU-s\n",
	    threads, rateN, cpuN);
	rc = 0;
out:
	free(pem);
	free(key_pem);
	ca_csr_free(csr);
	names_clear(&n);
	bench_ca_free(&b);
	return rc;
}
