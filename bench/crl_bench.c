/*
 * crl_bench: the cost of one more revocation in a CRL of N entries, for
 * a P-256 CA: ca_crl_build() from scratch vs ca_crl_set_add() of one
 * entry + ca_crl_set_sign() on a set of N (ca/crlset.c), same run.
 * Usage: crl_bench [entries] [repetitions]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_ca.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), dcmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A random 128-bit serial (hex) into en. */
static void
entry_rand(struct ca_crl_entry *en, int64_t when)
{
	unsigned char r[16];
	struct err e;

	(void)ca_random(r, sizeof(r), &e);
	r[0] &= 0x7f;
	r[0] |= 0x40;
	for (size_t i = 0; i < sizeof(r); i++)
		sprintf(en->serial + 2 * i, "%02x", r[i]);
	en->revoked_at = when;
	en->reason = 1;
}

/* Time reps runs of ca_crl_build and of add-one + sign; print both. */
static int
bench(const struct ca *ca, struct ca_crl_entry *v, size_t n, int reps)
{
	struct ca_crl_set *set = NULL;
	double *tb = calloc((size_t)reps, sizeof(double));
	double *ts = calloc((size_t)reps, sizeof(double)), t0, load, pem_ms;
	int64_t tu = (int64_t)time(NULL);
	unsigned char *der = NULL;
	size_t len = 0;
	char *pem = NULL;
	struct err e;
	int rc = -1;

	if (tb == NULL || ts == NULL || (set = ca_crl_set_new(&e)) == NULL)
		goto out;
	t0 = now_ms();
	if (ca_crl_set_add(set, v, n, &e) == -1)
		goto out;
	load = now_ms() - t0;
	for (int i = 0; i < reps; i++) {
		entry_rand(&v[n + (size_t)i], tu);
		t0 = now_ms();
		if (ca_crl_build(ca, v, n + (size_t)i + 1, 2, tu, tu + 86400,
		    &der, &len, &e) == -1)
			goto out;
		tb[i] = now_ms() - t0;
		free(der);
		t0 = now_ms();
		if (ca_crl_set_add(set, &v[n + (size_t)i], 1, &e) == -1 ||
		    ca_crl_set_sign(ca, set, 2, tu, tu + 86400, &der, &len,
		    &e) == -1)
			goto out;
		ts[i] = now_ms() - t0;
		if (i + 1 < reps)
			free(der);
	}
	t0 = now_ms();
	if ((pem = ca_crl_pem(der, len, &e)) == NULL)
		goto out;
	pem_ms = now_ms() - t0;
	printf("crl_bench: P-256 CA, %zu entries (+1 per run), %d runs, "
	    "CRL %zu bytes DER\n", n, reps, len);
	printf("  ca_crl_build from scratch : median %8.2f ms\n",
	    median(tb, reps));
	printf("  ca_crl_set_add 1 + sign   : median %8.2f ms\n",
	    median(ts, reps));
	printf("  ca_crl_set_add of all     : %8.2f ms (once, at start)\n",
	    load);
	printf("  ca_crl_pem                : %8.2f ms\n", pem_ms);
	rc = 0;
out:
	if (rc == -1)
		fprintf(stderr, "crl_bench: %s\n", e.msg);
	free(pem);
	free(der);
	free(tb);
	free(ts);
	ca_crl_set_free(set);
	return rc;
}

int
main(int argc, char **argv)
{
	struct bench_ca b = { .ca = NULL };
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	int reps = argc > 2 ? atoi(argv[2]) : 5, rc = 1;
	struct ca_crl_entry *v = NULL;
	struct rusage ru;
	struct err e;

	if (reps < 1 || (v = calloc(n + (size_t)reps, sizeof(*v))) == NULL) {
		fprintf(stderr, "usage: crl_bench [entries] [repetitions]\n");
		return 2;
	}
	if (bench_ca_make(&b, "crl_bench", "bench CA", 365, true, &e) == -1) {
		fprintf(stderr, "crl_bench: %s\n", e.msg);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		entry_rand(&v[i], (int64_t)time(NULL) - (int64_t)i);
	if (bench(b.ca, v, n, reps) == -1)
		goto out;
	getrusage(RUSAGE_SELF, &ru);
	printf("  peak RSS                  : %8.1f MB\n",
	    (double)ru.ru_maxrss / 1024);
	rc = 0;
out:
	free(v);
	bench_ca_free(&b);
	return rc;
}
