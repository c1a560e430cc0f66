/*
 * Tests of api/tls.c through api_start() and api_tls_reload(): the
 * HTTPS listener serves a replaced certificate (leaf + intermediate) to
 * new connections without a restart, keeps open connections working,
 * refuses bad files while keeping the old certificate, and survives
 * reloads while clients connect.  A real service (SQLite in a temp
 * folder) answers /healthz; libcurl is the client; certificates come
 * from the openssl command line.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include "api_priv.h"
#include "apifx.h"
#include "https.h"
#include "testdb.h"

struct fixture {
	struct afx	 x;		/* first: afx_teardown() */
	char		 p[16][256];
	char		 url[128];	/* https://127.0.0.1:<port>/healthz */
};

/* Paths in the fixture's folder. */
enum { CA1, CA1_KEY, DB, API_CRT, API_KEY, ROOT2, BOTH, A1_CRT, A1_KEY,
    A2_CHAIN, A2_KEY, GARBAGE, NPATHS };

static const char *const names[NPATHS] = { "ca.crt", "ca.key", "rca.db",
    "api.crt", "api.key", "root2.crt", "both.pem", "a1.crt", "a1.key",
    "a2.chain", "a2.key", "garbage.pem" };

/*
 * One GET of url on handle cu (NULL: a new one) trusting cacert; the
 * CURLcode, and the status in *status.
 */
static CURLcode
get(CURL *cu, const char *url, const char *cacert, long *status)
{
	struct thc_req q = { .url = url, .cacert = cacert,
	    .timeout_ms = 20000 };
	struct thc_resp *r = thc_resp_new();
	CURLcode rc;

	rc = thc_perform(cu, &q, r);
	*status = r->status;
	free(r);
	return rc;
}

/* A fresh connection: CURLE_OK and 200, or the failure. */
static CURLcode
get_new(const char *url, const char *cacert)
{
	CURLcode rc;
	long status;

	rc = get(NULL, url, cacert, &status);
	if (rc == CURLE_OK)
		assert_int_equal(status, 200);
	return rc;
}

/* Copy file src over dst through a rename (what selfcert does). */
static void
replace(struct fixture *f, int dst, int src)
{
	afx_sh("cp %s %s.tmp && mv -f %s.tmp %s", f->p[src], f->p[dst],
	    f->p[dst], f->p[dst]);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct svc_config sc;
	struct api_config ac;
	struct profile prof;

	assert_non_null(f);
	afx_mkdir(&f->x, "/tmp/rca-tls-XXXXXX");
	for (int i = 0; i < NPATHS; i++)
		snprintf(f->p[i], sizeof(f->p[i]), "%s/%s", f->x.dir, names[i]);
	if (tdb_database(f->x.dir, names[DB], f->p[DB], sizeof(f->p[DB])) == -1)
		fail_msg("the test's database");
	/*
	 * CA 1 (the service's) signs a1; root 2 signs an intermediate
	 * that signs a2, served as leaf + intermediate.
	 */
	afx_sh("cd %s && C='-addext basicConstraints=critical,CA:TRUE "
	    "-addext keyUsage=critical,keyCertSign,cRLSign' && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout ca.key -out ca.crt -days 30 -subj /CN=tls-ca1 "
	    "$C 2>/dev/null && chmod 0400 ca.key && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout root2.key -out root2.crt -days 30 "
	    "-subj /CN=tls-root2 $C 2>/dev/null && "
	    "printf 'basicConstraints=critical,CA:TRUE,pathlen:0\\n"
	    "keyUsage=critical,keyCertSign,cRLSign\\n' > int.ext && "
	    "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout int2.key -subj /CN=tls-int2 -out int2.csr "
	    "2>/dev/null && openssl x509 -req -in int2.csr -CA root2.crt "
	    "-CAkey root2.key -CAcreateserial -days 30 -extfile int.ext "
	    "-out int2.crt 2>/dev/null && "
	    "printf 'subjectAltName=IP:127.0.0.1\\n"
	    "extendedKeyUsage=serverAuth\\n' > leaf.ext && "
	    "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout a1.key -subj /CN=a1 -out a1.csr 2>/dev/null && "
	    "openssl x509 -req -in a1.csr -CA ca.crt -CAkey ca.key "
	    "-CAcreateserial -days 30 -extfile leaf.ext -out a1.crt "
	    "2>/dev/null && "
	    "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout a2.key -subj /CN=a2 -out a2.csr 2>/dev/null && "
	    "openssl x509 -req -in a2.csr -CA int2.crt -CAkey int2.key "
	    "-CAcreateserial -days 30 -extfile leaf.ext -out a2.crt "
	    "2>/dev/null && cat a2.crt int2.crt > a2.chain && "
	    "cat ca.crt root2.crt > both.pem && cp a1.crt api.crt && "
	    "cp a1.key api.key && echo 'not a certificate' > garbage.pem",
	    f->x.dir);
	afx_svc_config(&sc, &prof, f->p[CA1], f->p[CA1_KEY], f->p[DB]);
	afx_open(&f->x, &sc, NULL);
	/* The api listener only, over TLS. */
	afx_api_config(&ac, 0, 256);
	ac.public_listen = NULL;
	afx_api_tls(&ac, f->p[API_CRT], f->p[API_KEY], f->p[CA1]);
	ac.max_connections_per_ip = 256;
	afx_serve(&f->x, &ac);
	snprintf(f->url, sizeof(f->url), "%s/healthz", f->x.base);
	*state = f;
	return 0;
}

/*
 * A reload serves the new chain (leaf + intermediate: a client that
 * trusts only root 2 verifies it) to new connections, while a
 * keep-alive connection made before it keeps working on its socket.
 */
static void
test_reload_serves_new_chain(void **state)
{
	struct fixture *f = *state;
	CURL *kept = curl_easy_init();
	long status, nconn = -1;
	struct err e;

	assert_non_null(kept);
	assert_int_equal(get_new(f->url, f->p[CA1]), CURLE_OK);
	assert_int_not_equal(get_new(f->url, f->p[ROOT2]), CURLE_OK);
	assert_int_equal(get(kept, f->url, f->p[BOTH], &status), CURLE_OK);
	assert_int_equal(status, 200);
	replace(f, API_CRT, A2_CHAIN);
	replace(f, API_KEY, A2_KEY);
	assert_int_equal(api_tls_reload(f->x.api, &e), 0);
	assert_int_equal(get_new(f->url, f->p[ROOT2]), CURLE_OK);
	assert_int_not_equal(get_new(f->url, f->p[CA1]), CURLE_OK);
	/* The connection from before the reload is reused, and works. */
	assert_int_equal(get(kept, f->url, f->p[BOTH], &status), CURLE_OK);
	assert_int_equal(status, 200);
	curl_easy_getinfo(kept, CURLINFO_NUM_CONNECTS, &nconn);
	assert_int_equal(nconn, 0);
	curl_easy_cleanup(kept);
	/* And back: a second reload works the same way. */
	replace(f, API_CRT, A1_CRT);
	replace(f, API_KEY, A1_KEY);
	assert_int_equal(api_tls_reload(f->x.api, &e), 0);
	assert_int_equal(get_new(f->url, f->p[CA1]), CURLE_OK);
}

/* Bad files are refused with a clear code; the old chain stays. */
static void
test_reload_refusals(void **state)
{
	struct fixture *f = *state;
	struct err e;

	/* Not a certificate. */
	replace(f, API_CRT, GARBAGE);
	assert_int_equal(api_tls_reload(f->x.api, &e), -1);
	assert_int_equal(e.code, ERR_CONFIG);
	assert_non_null(strstr(e.msg, "not a PEM certificate chain"));
	assert_int_equal(get_new(f->url, f->p[CA1]), CURLE_OK);
	/* A key that is not the leaf's. */
	replace(f, API_CRT, A2_CHAIN);
	assert_int_equal(api_tls_reload(f->x.api, &e), -1);
	assert_int_equal(e.code, ERR_CONFIG);
	assert_non_null(strstr(e.msg, "does not hold the key"));
	assert_int_equal(get_new(f->url, f->p[CA1]), CURLE_OK);
	/* Not a key. */
	replace(f, API_KEY, GARBAGE);
	assert_int_equal(api_tls_reload(f->x.api, &e), -1);
	assert_int_equal(e.code, ERR_CONFIG);
	assert_non_null(strstr(e.msg, "private key"));
	/* Missing. */
	afx_sh("rm -f %s", f->p[API_KEY]);
	assert_int_equal(api_tls_reload(f->x.api, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_int_equal(get_new(f->url, f->p[CA1]), CURLE_OK);
	assert_int_not_equal(get_new(f->url, f->p[ROOT2]), CURLE_OK);
	/* No api, or an api without TLS: nothing to do. */
	assert_int_equal(api_tls_reload(NULL, &e), 0);
}

#define NCLIENTS	4
#define NRELOADS	20

struct client {
	pthread_t	 t;
	const char	*url;
	const char	*cacert;
	volatile int	*stop;
	int		 ok;
	int		 failed;
};

static void *
client_main(void *arg)
{
	struct client *c = arg;

	while (!*c->stop) {
		long status = 0;

		if (get(NULL, c->url, c->cacert, &status) != CURLE_OK ||
		    status != 200)
			c->failed++;
		else
			c->ok++;
	}
	return NULL;
}

/*
 * Reloads while clients make new connections (trusting both roots):
 * every request succeeds, whichever chain its handshake got.
 */
static void
test_reload_under_load(void **state)
{
	struct fixture *f = *state;
	struct client c[NCLIENTS];
	volatile int stop = 0;
	struct err e;
	int total = 0;

	/* Both chains side by side, swapped in turn. */
	afx_sh("cd %s && cp a1.crt c0.crt && cp a1.key c0.key && "
	    "cp a2.chain c1.crt && cp a2.key c1.key", f->x.dir);
	memset(c, 0, sizeof(c));
	for (int i = 0; i < NCLIENTS; i++) {
		c[i].url = f->url;
		c[i].cacert = f->p[BOTH];
		c[i].stop = &stop;
		assert_int_equal(pthread_create(&c[i].t, NULL, client_main,
		    &c[i]), 0);
	}
	for (int i = 0; i < NRELOADS; i++) {
		afx_sh("cd %s && cp c%d.crt api.crt.tmp && cp c%d.key "
		    "api.key.tmp && mv -f api.key.tmp api.key && "
		    "mv -f api.crt.tmp api.crt", f->x.dir, i % 2, i % 2);
		assert_int_equal(api_tls_reload(f->x.api, &e), 0);
		usleep(20000);
	}
	stop = 1;
	for (int i = 0; i < NCLIENTS; i++) {
		pthread_join(c[i].t, NULL);
		assert_int_equal(c[i].failed, 0);
		total += c[i].ok;
	}
	assert_true(total >= NCLIENTS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reload_serves_new_chain,
		    setup, afx_teardown),
		cmocka_unit_test_setup_teardown(test_reload_refusals, setup,
		    afx_teardown),
		cmocka_unit_test_setup_teardown(test_reload_under_load, setup,
		    afx_teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
