/*
 * Tests for db/ca.c and migration 4: the CAs table, the phases of a
 * rollover (prepare, complete, activate, retire) with every refusal,
 * the generation, the audit entry of each phase, the guards of the
 * schema, which CA issued each certificate, the bundle each node
 * holds, two instances racing a prepare, and on PostgreSQL the NOTIFY
 * each phase sends.  Each runs on SQLite (suite db) and PostgreSQL
 * (suite db_pg).
 */
#include <pthread.h>

#include "dbtest.h"
#include "priv.h"

#define NOW	1800000000

/* A CA record k (key, SKI and PEMs made from k) in state st. */
static void
mkca(struct ca_rec *r, int k, enum ca_state st)
{
	char pem[128];

	memset(r, 0, sizeof(*r));
	snprintf(r->ski, sizeof(r->ski), "%040x", k);
	snprintf(r->spki_sha256, sizeof(r->spki_sha256), "%064x", k);
	r->state = st;
	snprintf(pem, sizeof(pem), "-----BEGIN CERTIFICATE-----\nca%d\n"
	    "-----END CERTIFICATE-----\n", k);
	if (st == CA_STATE_PENDING) {
		assert_non_null(r->csr_pem = strdup("-----BEGIN CERTIFICATE "
		    "REQUEST-----\ncsr\n-----END CERTIFICATE REQUEST-----\n"));
		assert_non_null(r->anchors_pem = strdup(""));
	} else {
		assert_non_null(r->cert_pem = strdup(pem));
		assert_non_null(r->anchors_pem = strdup(pem));
		r->not_before = 1000 * k;
		r->not_after = NOW + 1000 * k;
	}
	r->key_type = KEY_EC_P256;
	r->created_at = 100 + k;
}

/* CA 1 (key 1) bootstrapped as current. */
static void
boot(struct dbt *t)
{
	struct ca_rec r;
	struct err e = { 0 };

	mkca(&r, 1, CA_STATE_CURRENT);
	assert_int_equal(db_ca_bootstrap(t->db, &r, &e), 0);
	ca_rec_clear(&r);
}

/* Prepare CA k in state st; returns its id. */
static int64_t
prepare(struct dbt *t, int k, enum ca_state st)
{
	struct ca_rec r;
	struct audit_rec a;
	struct err e = { 0 };
	int64_t id;

	mkca(&r, k, st);
	dbt_audit(&a, "ca.prepare", "next");
	if (db_ca_prepare(t->db, &r, &a, &e) == -1)
		fail_msg("prepare %d: %s", k, e.msg);
	id = r.id;
	ca_rec_clear(&r);
	return id;
}

/* Expect db_ca_prepare() of CA k to fail with code. */
static void
prepare_refused(struct dbt *t, int k, enum err_code code)
{
	struct ca_rec r;
	struct err e = { 0 };

	mkca(&r, k, CA_STATE_NEXT);
	assert_int_equal(db_ca_prepare(t->db, &r, NULL, &e), -1);
	assert_int_equal(e.code, code);
	assert_int_equal(r.id, 0);
	ca_rec_clear(&r);
}

/* The states of the CAs not gone, as "id:state id:state". */
static void
states(struct dbt *t, const char *want, uint64_t want_gen)
{
	struct ca_rec *list = NULL;
	struct err e = { 0 };
	uint64_t gen = 99;
	size_t n = 0, len = 0;
	char got[256];

	assert_int_equal(db_ca_list(t->db, &list, &n, &gen, &e), 0);
	got[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(got + len, sizeof(got) - len,
		    "%s%lld:%s", i > 0 ? " " : "", (long long)list[i].id,
		    ca_state_name(list[i].state));
	db_ca_list_free(list, n);
	assert_string_equal(got, want);
	assert_int_equal(gen, want_gen);
	assert_int_equal(db_ca_generation(t->db, &gen, &e), 0);
	assert_int_equal(gen, want_gen);
}

/* How many audit entries have this action. */
static int64_t
audits(struct dbt *t, const char *action)
{
	char q[128];

	snprintf(q, sizeof(q), "SELECT count(*) FROM audit WHERE "
	    "action = '%s'", action);
	return dbt_count(t, q);
}

static void
test_state_names(void **state)
{
	enum ca_state s;

	(void)state;
	for (int i = 0; i < CA_STATE__MAX; i++) {
		assert_int_equal(ca_state_parse(ca_state_name(
		    (enum ca_state)i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_string_equal(ca_state_name(CA_STATE_NEXT), "next");
	assert_string_equal(ca_state_name(CA_STATE__MAX), "unknown");
	assert_int_equal(ca_state_parse("active", &s), -1);
	assert_int_equal(ca_state_parse(NULL, &s), -1);
	ca_rec_clear(NULL);
}

/*
 * A new database: no CA, generation 0.  Bootstrap inserts CA 1 as
 * current once; a second bootstrap (another instance's CA) changes
 * nothing; bad records are refused.  The generation stays 0.
 */
static void
test_bootstrap(void **state)
{
	struct dbt *t = *state;
	struct ca_rec r, *list = NULL;
	struct err e = { 0 };
	uint64_t gen = 7;
	size_t n = 9;

	states(t, "", 0);
	mkca(&r, 1, CA_STATE_NEXT);	/* the state is ignored */
	r.id = 42;
	assert_int_equal(db_ca_bootstrap(t->db, &r, &e), 0);
	ca_rec_clear(&r);
	mkca(&r, 2, CA_STATE_CURRENT);
	assert_int_equal(db_ca_bootstrap(t->db, &r, &e), 0);
	ca_rec_clear(&r);
	states(t, "1:current", 0);
	assert_int_equal(db_ca_list(t->db, &list, &n, &gen, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].ski, "0000000000000000000000000000000000"
	    "000001");
	assert_int_equal(list[0].created_at, 101);
	assert_int_equal(list[0].activated_at, 101);
	assert_int_equal(list[0].retired_at, 0);
	assert_int_equal(list[0].not_after, NOW + 1000);
	assert_int_equal(list[0].key_type, KEY_EC_P256);
	assert_null(list[0].csr_pem);
	assert_non_null(strstr(list[0].cert_pem, "ca1"));
	assert_string_equal(list[0].cert_pem, list[0].anchors_pem);
	db_ca_list_free(list, n);

	/* Bad records: a clear refusal, nothing stored. */
	mkca(&r, 3, CA_STATE_CURRENT);
	r.ski[0] = 'X';
	assert_int_equal(db_ca_bootstrap(t->db, &r, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_string_equal(e.msg, "invalid CA record: bad SKI");
	r.ski[0] = '0';
	r.spki_sha256[10] = '\0';
	assert_int_equal(db_ca_bootstrap(t->db, &r, &e), -1);
	assert_string_equal(e.msg, "invalid CA record: bad key hash");
	ca_rec_clear(&r);
	mkca(&r, 3, CA_STATE_PENDING);
	assert_int_equal(db_ca_bootstrap(t->db, &r, &e), -1);
	assert_string_equal(e.msg, "invalid CA record: no certificate");
	ca_rec_clear(&r);
	assert_int_equal(db_ca_bootstrap(t->db, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	states(t, "1:current", 0);
}

/*
 * prepare: refused before a bootstrap; a next CA gets id 2, bumps the
 * generation and is audited; a second is refused (ca_next_exists) with
 * no audit entry and no bump; a key or SKI already known is refused.
 */
static void
test_prepare(void **state)
{
	struct dbt *t = *state;
	struct ca_rec r;
	struct err e = { 0 };

	prepare_refused(t, 2, ERR_CONFLICT);
	boot(t);
	/* CA 1's key again (a gone CA's too): refused. */
	mkca(&r, 1, CA_STATE_NEXT);
	snprintf(r.ski, sizeof(r.ski), "ab");
	assert_int_equal(db_ca_prepare(t->db, &r, NULL, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	ca_rec_clear(&r);
	states(t, "1:current", 0);

	assert_int_equal(prepare(t, 2, CA_STATE_NEXT), 2);
	states(t, "1:current 2:next", 1);
	assert_int_equal(audits(t, "ca.prepare"), 1);
	prepare_refused(t, 3, ERR_CA_NEXT_EXISTS);
	states(t, "1:current 2:next", 1);
	assert_int_equal(audits(t, "ca.prepare"), 1);

	/* Bad records. */
	mkca(&r, 4, CA_STATE_CURRENT);
	assert_int_equal(db_ca_prepare(t->db, &r, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	r.state = CA_STATE_PENDING;	/* pending, with a certificate */
	assert_int_equal(db_ca_prepare(t->db, &r, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	ca_rec_clear(&r);
	assert_int_equal(db_ca_prepare(t->db, NULL, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	states(t, "1:current 2:next", 1);
}

/*
 * A pending CA (CSR): activate and prepare are refused; complete is
 * refused for another id or another key, then makes it next with the
 * certificate's SKI; completing again is refused.
 */
static void
test_pending_complete(void **state)
{
	struct dbt *t = *state;
	struct ca_rec w, *list = NULL;
	struct audit_rec a;
	struct err e = { 0 };
	uint64_t gen;
	size_t n;

	boot(t);
	assert_int_equal(prepare(t, 2, CA_STATE_PENDING), 2);
	states(t, "1:current 2:pending", 1);
	assert_int_equal(db_ca_activate(t->db, NOW, NULL, &e), -1);
	assert_int_equal(e.code, ERR_CA_NOT_PREPARED);
	assert_non_null(strstr(e.msg, "no certificate yet"));
	prepare_refused(t, 3, ERR_CA_NEXT_EXISTS);

	mkca(&w, 2, CA_STATE_NEXT);
	snprintf(w.ski, sizeof(w.ski), "beef");
	dbt_audit(&a, "ca.prepare", "complete");
	assert_int_equal(db_ca_complete(t->db, 3, &w, &a, &e), -1);
	assert_int_equal(e.code, ERR_CA_NOT_PREPARED);
	w.spki_sha256[0] = 'f';
	assert_int_equal(db_ca_complete(t->db, 2, &w, &a, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_CHAIN);
	w.spki_sha256[0] = '0';
	snprintf(w.ski, sizeof(w.ski), "%040x", 1);	/* CA 1's SKI */
	assert_int_equal(db_ca_complete(t->db, 2, &w, &a, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	states(t, "1:current 2:pending", 1);
	assert_int_equal(audits(t, "ca.prepare"), 1);

	snprintf(w.ski, sizeof(w.ski), "beef");
	assert_int_equal(db_ca_complete(t->db, 2, &w, &a, &e), 0);
	states(t, "1:current 2:next", 2);
	assert_int_equal(audits(t, "ca.prepare"), 2);
	assert_int_equal(db_ca_list(t->db, &list, &n, &gen, &e), 0);
	assert_string_equal(list[1].ski, "beef");
	assert_non_null(strstr(list[1].cert_pem, "ca2"));
	assert_non_null(strstr(list[1].csr_pem, "REQUEST"));
	assert_int_equal(list[1].not_after, NOW + 2000);
	db_ca_list_free(list, n);
	assert_int_equal(db_ca_complete(t->db, 2, &w, &a, &e), -1);
	assert_int_equal(e.code, ERR_CA_NOT_PREPARED);
	w.ski[0] = '\0';
	assert_int_equal(db_ca_complete(t->db, 2, &w, &a, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	ca_rec_clear(&w);
	states(t, "1:current 2:next", 2);
}

/* Node name with a rotation state the scheduler would leave alone. */
static void
mknode(struct dbt *t, const char *name)
{
	struct node_rec n;
	struct err e = { 0 };

	memset(&n, 0, sizeof(n));
	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.host, sizeof(n.host), "10.0.0.1");
	n.port = 6379;
	snprintf(n.current_serial, sizeof(n.current_serial), "abcd");
	n.not_after = NOW + 86400;
	n.next_attempt_at = NOW + 3600;
	n.failures = 2;
	n.created_at = 1;
	assert_int_equal(db_node_insert(t->db, &n, NULL, &e), 0);
}

/*
 * activate: nothing prepared is refused; then next -> current, current
 * -> retired with their times, every node due (not_after and
 * next_attempt_at 0, the rest kept), one bump, audited.  Then prepare
 * waits for retire (ca_retire_pending) and activate has nothing.
 */
static void
test_activate(void **state)
{
	struct dbt *t = *state;
	struct ca_rec *list = NULL;
	struct node_rec n;
	struct audit_rec a;
	struct err e = { 0 };
	uint64_t gen;
	size_t cnt;

	boot(t);
	dbt_audit(&a, "ca.activate", "");
	assert_int_equal(db_ca_activate(t->db, NOW, &a, &e), -1);
	assert_int_equal(e.code, ERR_CA_NOT_PREPARED);
	assert_string_equal(e.msg, "no CA is prepared: run prepare first");
	mknode(t, "n1");
	mknode(t, "n2");
	prepare(t, 2, CA_STATE_NEXT);
	assert_int_equal(db_ca_activate(t->db, NOW, &a, &e), 0);
	states(t, "1:retired 2:current", 2);
	assert_int_equal(audits(t, "ca.activate"), 1);
	assert_int_equal(db_ca_list(t->db, &list, &cnt, &gen, &e), 0);
	assert_int_equal(list[0].retired_at, NOW);
	assert_int_equal(list[0].activated_at, 101);
	assert_int_equal(list[1].activated_at, NOW);
	assert_int_equal(list[1].retired_at, 0);
	db_ca_list_free(list, cnt);
	assert_int_equal(db_node_get(t->db, "n2", &n, &e), 0);
	assert_int_equal(n.not_after, 0);
	assert_int_equal(n.next_attempt_at, 0);
	assert_string_equal(n.current_serial, "abcd");
	assert_int_equal(n.failures, 2);
	node_rec_clear(&n);

	prepare_refused(t, 3, ERR_CA_RETIRE_PENDING);
	assert_int_equal(db_ca_activate(t->db, NOW, &a, &e), -1);
	assert_int_equal(e.code, ERR_CA_NOT_PREPARED);
	states(t, "1:retired 2:current", 2);
	assert_int_equal(audits(t, "ca.activate"), 1);
}

/* Store certificate serial of CA ca_id (0: unset) expiring at na. */
static void
cert(struct dbt *t, const char *serial, int64_t ca_id, int64_t na)
{
	struct cert_rec c;
	struct err e = { 0 };

	memset(&c, 0, sizeof(c));
	snprintf(c.serial, sizeof(c.serial), "%s", serial);
	snprintf(c.profile, sizeof(c.profile), "p");
	c.names.cn = "x";
	c.key_type = KEY_EC_P256;
	c.not_before = 1;
	c.not_after = na;
	memset(c.fingerprint, 'f', RCA_SHA256_HEX);
	snprintf(c.issued_by, sizeof(c.issued_by), "admin");
	c.pem = "PEM";
	c.created_at = 1;
	c.ca_id = ca_id;
	assert_int_equal(db_cert_insert(t->db, &c, NULL, &e), 0);
}

static void
revoke_cert(struct dbt *t, const char *serial)
{
	struct err e = { 0 };

	assert_int_equal(db_cert_revoke(t->db, serial, 4, NOW, NULL, NULL,
	    &e), 0);
}

/*
 * The certificates of a CA: unrevoked, not_after > now, soonest first,
 * at most max named; and retire, which needs none (ca_in_use names
 * them), refuses the current CA or none retired, makes the retired one
 * gone, and lets prepare run again.
 */
static void
test_unexpired_retire(void **state)
{
	struct dbt *t = *state;
	char s[3][RCA_SERIAL_HEX_MAX + 1];
	struct audit_rec a;
	struct err e = { 0 };
	size_t count = 9;

	boot(t);
	dbt_audit(&a, "ca.retire", "1");
	assert_int_equal(db_ca_retire(t->db, 0, NOW, &a, &e), -1);
	assert_int_equal(e.code, ERR_CA_NOTHING_TO_RETIRE);
	cert(t, "a1", 0, NOW + 30);		/* CA 1 */
	cert(t, "a2", 1, NOW + 10);
	cert(t, "a3", 1, NOW);			/* expired at NOW */
	cert(t, "a4", 1, NOW + 20);
	cert(t, "a5", 1, NOW + 40);
	revoke_cert(t, "a5");
	cert(t, "b1", 2, NOW + 5);
	assert_int_equal(db_ca_unexpired(t->db, 1, NOW, s, 2, &count, &e), 0);
	assert_int_equal(count, 3);
	assert_string_equal(s[0], "a2");
	assert_string_equal(s[1], "a4");
	assert_int_equal(db_ca_unexpired(t->db, 1, NOW, NULL, 0, &count, &e),
	    0);
	assert_int_equal(count, 3);
	assert_int_equal(db_ca_unexpired(t->db, 1, NOW + 25, s, 3, &count,
	    &e), 0);
	assert_int_equal(count, 1);
	assert_string_equal(s[0], "a1");
	assert_int_equal(db_ca_unexpired(t->db, 2, NOW, s, 3, &count, &e), 0);
	assert_int_equal(count, 1);
	assert_int_equal(db_ca_unexpired(t->db, 7, NOW, s, 3, &count, &e), 0);
	assert_int_equal(count, 0);

	prepare(t, 2, CA_STATE_NEXT);
	assert_int_equal(db_ca_activate(t->db, NOW, NULL, &e), 0);
	assert_int_equal(db_ca_retire(t->db, 2, NOW, &a, &e), -1);
	assert_int_equal(e.code, ERR_CA_NOTHING_TO_RETIRE);
	assert_string_equal(e.msg, "CA 2 is not the retired CA (CA 1 is)");
	assert_int_equal(db_ca_retire(t->db, 1, NOW, &a, &e), -1);
	assert_int_equal(e.code, ERR_CA_IN_USE);
	assert_string_equal(e.msg, "CA 1 has 3 unexpired, unrevoked "
	    "certificates (a2, a4, a1): revoke them (force) or wait until "
	    "they expire");
	revoke_cert(t, "a2");
	revoke_cert(t, "a4");
	assert_int_equal(db_ca_retire(t->db, 0, NOW, &a, &e), -1);
	assert_string_equal(e.msg, "CA 1 has 1 unexpired, unrevoked "
	    "certificate (a1): revoke them (force) or wait until they "
	    "expire");
	states(t, "1:retired 2:current", 2);
	assert_int_equal(audits(t, "ca.retire"), 0);
	/* Expired by then: nothing in use. */
	assert_int_equal(db_ca_retire(t->db, 1, NOW + 30, &a, &e), 0);
	states(t, "2:current", 3);
	assert_int_equal(audits(t, "ca.retire"), 1);
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM cas WHERE "
	    "state = 'gone' AND id = 1"), 1);
	assert_int_equal(db_ca_retire(t->db, 1, NOW, &a, &e), -1);
	assert_int_equal(e.code, ERR_CA_NOTHING_TO_RETIRE);
	/* A gone CA's key stays known. */
	prepare_refused(t, 1, ERR_ALREADY_EXISTS);
	assert_int_equal(prepare(t, 3, CA_STATE_NEXT), 3);
	states(t, "2:current 3:next", 4);
}

/* More certificates in use than the message names: "...". */
static void
test_in_use_many(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	char serial[16];

	boot(t);
	for (int i = 0; i < 8; i++) {
		snprintf(serial, sizeof(serial), "c%d", i);
		cert(t, serial, 1, NOW + 100 - i);
	}
	prepare(t, 2, CA_STATE_NEXT);
	assert_int_equal(db_ca_activate(t->db, NOW, NULL, &e), 0);
	assert_int_equal(db_ca_retire(t->db, 1, NOW, NULL, &e), -1);
	assert_int_equal(e.code, ERR_CA_IN_USE);
	assert_string_equal(e.msg, "CA 1 has 8 unexpired, unrevoked "
	    "certificates (c7, c6, c5, c4, c3, ...): revoke them (force) or "
	    "wait until they expire");
}

/* Certificates record their CA (0 stored as 1); lists filter by it. */
static void
test_cert_ca_id(void **state)
{
	struct dbt *t = *state;
	struct cert_filter f;
	struct cert_rec got, *list = NULL;
	struct err e = { 0 };
	int64_t next;
	size_t n;

	cert(t, "d1", 0, NOW + 10);
	cert(t, "d2", 2, NOW + 10);
	cert(t, "d3", 2, NOW - 10);
	cert(t, "d4", 1, NOW + 10);
	assert_int_equal(db_cert_get(t->db, "d1", &got, &e), 0);
	assert_int_equal(got.ca_id, 1);
	cert_rec_clear(&got);
	assert_int_equal(db_cert_get(t->db, "d2", &got, &e), 0);
	assert_int_equal(got.ca_id, 2);
	cert_rec_clear(&got);
	memset(&f, 0, sizeof(f));
	f.status = -1;
	f.now = NOW;
	f.ca_id = 2;
	assert_int_equal(db_cert_list(t->db, &f, &list, &n, &next, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].serial, "d2");
	assert_string_equal(list[1].serial, "d3");
	db_cert_list_free(list, n);
	/* A range statement (valid at now) applies it too. */
	f.status = CERT_VALID;
	assert_int_equal(db_cert_list(t->db, &f, &list, &n, &next, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].serial, "d2");
	db_cert_list_free(list, n);
	f.ca_id = 1;
	assert_int_equal(db_cert_list(t->db, &f, &list, &n, &next, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].serial, "d1");
	assert_string_equal(list[1].serial, "d4");
	assert_int_equal(list[1].ca_id, 1);
	db_cert_list_free(list, n);
	f.ca_id = 0;
	assert_int_equal(db_cert_list(t->db, &f, &list, &n, &next, &e), 0);
	assert_int_equal(n, 3);
	db_cert_list_free(list, n);
}

/* The bundle each node holds: set, stale lists, refusals. */
static void
test_node_bundle(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	char **names = NULL, etag[RCA_BUNDLE_ETAG_MAX + 2];
	size_t n = 9;

	assert_int_equal(db_node_bundle_stale(t->db, "\"x\"", &names, &n, &e),
	    0);
	assert_int_equal(n, 0);
	db_node_names_free(names, n);
	mknode(t, "n2");
	mknode(t, "n1");
	mknode(t, "n3");
	assert_int_equal(db_node_set_bundle(t->db, "n2", "\"x\"", &e), 0);
	assert_int_equal(db_node_bundle_stale(t->db, "\"x\"", &names, &n, &e),
	    0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "n1");
	assert_string_equal(names[1], "n3");
	db_node_names_free(names, n);
	assert_int_equal(db_node_bundle_stale(t->db, "\"y\"", &names, &n, &e),
	    0);
	assert_int_equal(n, 3);
	db_node_names_free(names, n);
	db_node_names_free(NULL, 0);

	assert_int_equal(db_node_set_bundle(t->db, "nope", "\"x\"", &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_string_equal(e.msg, "node not found");
	memset(etag, 'e', sizeof(etag) - 1);
	etag[sizeof(etag) - 1] = '\0';
	assert_int_equal(db_node_set_bundle(t->db, "n1", etag, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(db_node_set_bundle(t->db, "n1", NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	etag[RCA_BUNDLE_ETAG_MAX] = '\0';
	assert_int_equal(db_node_set_bundle(t->db, "n1", etag, &e), 0);
	assert_int_equal(dbt_count(t, "SELECT count(*) FROM nodes WHERE "
	    "bundle_etag = ''"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test_setup_teardown(test_bootstrap, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_prepare, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_pending_complete,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_activate, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_unexpired_retire,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_in_use_many, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_cert_ca_id, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_node_bundle, dbt_setup,
		    dbt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
