/*
 * Throughput of svc_issue() with no HTTP in front: a throwaway CA and
 * database in a temp dir, one pre-made CSR, N threads issuing M
 * certificates each.  "sign" measures ca_issue() alone (no database, no
 * service) for comparison: the difference is what db/ and service/ add.
 * Usage: svc_bench [threads] [per-thread] [admin|token|sign]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_ca.h"
#include "fileio.h"
#include "svc.h"

struct job {
	struct svc		*svc;
	const struct ca		*ca;		/* sign mode */
	const struct profile	*profile;	/* sign mode */
	const struct svc_actor	*actor;
	const char		*csr;
	int			 count;
	int			 failures;
};

/* Parse and sign only, as svc_issue does, without storing. */
static void *
run_sign(struct job *j)
{
	struct ca_issue_params	 ip;
	struct ca_csr		*csr;
	struct ca_cert		 c;
	struct err		 e;

	memset(&ip, 0, sizeof(ip));
	ip.profile = j->profile;
	for (int i = 0; i < j->count; i++) {
		memset(&c, 0, sizeof(c));
		if ((csr = ca_csr_parse(j->csr, strlen(j->csr), &e)) == NULL ||
		    ca_issue(j->ca, csr, &ip, &c, &e) == -1) {
			if (j->failures++ == 0)
				fprintf(stderr, "sign: %s\n", e.msg);
		}
		ca_cert_clear(&c);
		ca_csr_free(csr);
	}
	return NULL;
}

static void *
run(void *arg)
{
	struct job		*j = arg;
	struct svc_issue_req	 req;
	struct svc_issued	 out;
	struct err		 e;

	if (j->ca != NULL)
		return run_sign(j);
	memset(&req, 0, sizeof(req));
	req.profile = "redis-client";
	req.csr_pem = j->csr;
	req.csr_len = strlen(j->csr);
	for (int i = 0; i < j->count; i++) {
		if (svc_issue(j->svc, j->actor, &req, &out, &e) == -1) {
			if (j->failures++ == 0)
				fprintf(stderr, "svc_issue: %s\n", e.msg);
			continue;
		}
		svc_issued_clear(&out);
	}
	return NULL;
}

static char *
make_csr(void)
{
	struct names	 n = NAMES_INIT;
	struct ca_csr	*csr;
	struct err	 e;
	char		*key = NULL, *pem = NULL;

	if (names_set_cn(&n, "app-bench", &e) == -1 ||
	    names_add(&n, NAME_DNS, "app-bench.internal", &e) == -1 ||
	    (csr = ca_keygen(KEY_EC_P256, &n, &key, &e)) == NULL) {
		fprintf(stderr, "csr: %s\n", e.msg);
		names_clear(&n);
		return NULL;
	}
	pem = ca_csr_pem(csr, &e);
	fio_secret_free_str(key);
	ca_csr_free(csr);
	names_clear(&n);
	return pem;
}

int
main(int argc, char *argv[])
{
	struct bench_ca		 b = { .ca = NULL };
	char			 db[256];
	char			 secret[RCA_TOKEN_PREFIX_LEN +
				     2 * RCA_TOKEN_RANDOM_BYTES + 1];
	char			*pats[2] = { "app-*", "*.internal" };
	struct svc_config	 cfg;
	struct profile		 prof;
	struct svc		*svc = NULL;
	struct svc_actor	 cli, tok;
	struct svc_token_req	 tr;
	struct token_rec	 t;
	struct timespec		 t0, t1;
	struct err		 e;
	pthread_t		*th = NULL;
	struct job		*jobs = NULL;
	char			*csr = NULL;
	int			 nthreads, count, failures = 0, rc = 1;
	bool			 use_token, sign_only;
	double			 secs;

	nthreads = argc > 1 ? atoi(argv[1]) : 1;
	count = argc > 2 ? atoi(argv[2]) : 2000;
	use_token = argc > 3 && strcmp(argv[3], "token") == 0;
	sign_only = argc > 3 && strcmp(argv[3], "sign") == 0;
	if (nthreads < 1 || nthreads > 64 || count < 1) {
		fprintf(stderr, "usage: svc_bench [threads] [per-thread] "
		    "[admin|token]\n");
		return 2;
	}
	svc_actor_init(&cli, ACTOR_CLI);
	svc_actor_init(&tok, ACTOR_NONE);
	/* "sign" signs with a CA of its own, loaded here. */
	if (bench_ca_make(&b, "rca-bench", "redis-ca bench", 3650, sign_only,
	    &e) == -1) {
		fprintf(stderr, "ca: %s\n", e.msg);
		goto out;
	}
	snprintf(db, sizeof(db), "%s/redis-ca.db", b.dir);
	memset(&prof, 0, sizeof(prof));
	snprintf(prof.name, sizeof(prof.name), "redis-client");
	prof.eku = EKU_CLIENT_AUTH;
	prof.default_ttl = 24 * 3600;
	prof.max_ttl = 7 * 86400;
	prof.key_types = KEY_BIT(KEY_EC_P256) | KEY_BIT(KEY_EC_P384);
	memset(&cfg, 0, sizeof(cfg));
	cfg.ca_cert = b.crt;
	cfg.ca_key = b.key;
	cfg.database = db;
	cfg.public_url = "http://127.0.0.1:8080";
	cfg.crl_validity = 86400;
	cfg.crl_refresh_before = 8 * 3600;
	cfg.profiles = &prof;
	cfg.nprofiles = 1;
	if ((svc = svc_open(&cfg, &e)) == NULL) {
		fprintf(stderr, "svc_open: %s\n", e.msg);
		goto out;
	}
	if (use_token) {
		memset(&tr, 0, sizeof(tr));
		tr.kind = TOKEN_ENROLL;
		tr.profile = "redis-client";
		tr.patterns = pats;
		tr.npatterns = 2;
		tr.uses = 1000000;
		if (svc_token_create(svc, &cli, &tr, &t, secret, &e) == -1 ||
		    svc_auth_token(svc, secret, &tok, &e) == -1) {
			fprintf(stderr, "token: %s\n", e.msg);
			goto out;
		}
		token_rec_clear(&t);
	}
	if ((csr = make_csr()) == NULL)
		goto out;
	th = calloc((size_t)nthreads, sizeof(*th));
	jobs = calloc((size_t)nthreads, sizeof(*jobs));
	if (th == NULL || jobs == NULL)
		goto out;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < nthreads; i++) {
		jobs[i].svc = svc;
		jobs[i].ca = b.ca;
		jobs[i].profile = &prof;
		jobs[i].actor = use_token ? &tok : &cli;
		jobs[i].csr = csr;
		jobs[i].count = count;
		pthread_create(&th[i], NULL, run, &jobs[i]);
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		failures += jobs[i].failures;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("svc_bench mode=%s threads=%d certs=%d failures=%d "
	    "seconds=%.3f certs/s=%.0f\n",
	    sign_only ? "sign-only" : use_token ? "token" : "cli",
	    nthreads, nthreads * count - failures, failures, secs,
	    (double)(nthreads * count - failures) / secs);
	rc = failures == 0 ? 0 : 1;
out:
	free(th);
	free(jobs);
	free(csr);
	svc_actor_clear(&tok);
	svc_actor_clear(&cli);
	svc_close(svc);
	bench_ca_free(&b);
	return rc;
}
