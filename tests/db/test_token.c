/* Tests for db/token.c: tokens, their uses, and the consume race. */
#include <pthread.h>

#include "dbtest.h"
#include "priv.h"

static char *pats[] = { "app-*", "*.svc.internal", "10.0.0.0/8" };

static void
mktoken(struct token_rec *t, const char *id, unsigned char h,
    int64_t uses, int64_t expires_at)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->kind = TOKEN_ENROLL;
	snprintf(t->profile, sizeof(t->profile), "redis-client");
	t->patterns = pats;
	t->npatterns = 3;
	t->uses_left = uses;
	t->expires_at = expires_at;
	t->max_cert_ttl = 86400;
	t->created_at = 900;
	t->description = "ci runner";
	memset(t->hash, h, sizeof(t->hash));
}

static void
add(struct db *db, const char *id, unsigned char h, int64_t uses,
    int64_t expires_at)
{
	struct token_rec t;
	struct err e = { 0 };

	mktoken(&t, id, h, uses, expires_at);
	assert_int_equal(db_token_insert(db, &t, NULL, &e), 0);
}

static void
test_insert_get_find(void **state)
{
	struct dbt *t = *state;
	struct token_rec tok, got;
	struct audit_rec a;
	struct err e = { 0 };
	unsigned char h[32];

	mktoken(&tok, "0123456789abcdef", 0x11, 3, 5000);
	dbt_audit(&a, "token.create", tok.id);
	assert_int_equal(db_token_insert(t->db, &tok, &a, &e), 0);

	assert_int_equal(db_token_get(t->db, "0123456789abcdef", &got, &e),
	    0);
	assert_string_equal(got.id, tok.id);
	assert_int_equal(got.kind, TOKEN_ENROLL);
	assert_string_equal(got.profile, "redis-client");
	assert_int_equal(got.npatterns, 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(got.patterns[i], pats[i]);
	assert_int_equal(got.uses_left, 3);
	assert_int_equal(got.expires_at, 5000);
	assert_int_equal(got.max_cert_ttl, 86400);
	assert_int_equal(got.created_at, 900);
	assert_string_equal(got.description, "ci runner");
	assert_memory_equal(got.hash, tok.hash, 32);
	token_rec_clear(&got);

	memset(h, 0x11, sizeof(h));
	assert_int_equal(db_token_find_hash(t->db, h, &got, &e), 0);
	assert_string_equal(got.id, tok.id);
	token_rec_clear(&got);
	h[31] = 0x12;
	assert_int_equal(db_token_find_hash(t->db, h, &got, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(db_token_get(t->db, "ffffffffffffffff", &got, &e),
	    -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(db_token_get(t->db, "0123456789abcdef0", &got, &e),
	    -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);

	/* An admin token: no profile, no patterns, no description. */
	memset(&tok, 0, sizeof(tok));
	snprintf(tok.id, sizeof(tok.id), "00000000000000aa");
	tok.kind = TOKEN_ADMIN;
	tok.uses_left = -1;
	memset(tok.hash, 0x22, sizeof(tok.hash));
	assert_int_equal(db_token_insert(t->db, &tok, NULL, &e), 0);
	assert_int_equal(db_token_get(t->db, tok.id, &got, &e), 0);
	assert_int_equal(got.kind, TOKEN_ADMIN);
	assert_int_equal(got.npatterns, 0);
	assert_null(got.patterns);
	assert_null(got.description);
	assert_string_equal(got.profile, "");
	token_rec_clear(&got);
}

static void
test_insert_refused(void **state)
{
	struct dbt *t = *state;
	struct token_rec tok;
	struct audit_rec a, *al;
	struct err e = { 0 };
	char *bad[] = { "a\nb" };
	size_t an;
	int64_t anext;

	add(t->db, "0000000000000001", 0x01, 1, 0);
	dbt_audit(&a, "token.create", "x");
	mktoken(&tok, "0000000000000001", 0x02, 1, 0);	/* same id */
	assert_int_equal(db_token_insert(t->db, &tok, &a, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	mktoken(&tok, "0000000000000002", 0x01, 1, 0);	/* same hash */
	assert_int_equal(db_token_insert(t->db, &tok, &a, &e), -1);
	assert_int_equal(e.code, ERR_ALREADY_EXISTS);
	mktoken(&tok, "0000000000000003", 0x03, 1, 0);
	tok.patterns = bad;
	tok.npatterns = 1;
	assert_int_equal(db_token_insert(t->db, &tok, &a, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	mktoken(&tok, "0000000000000003", 0x03, -2, 0);
	assert_int_equal(db_token_insert(t->db, &tok, &a, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	/* Nothing was written, not even the audit entries. */
	assert_int_equal(db_audit_list(t->db, 0, 10, &al, &an, &anext, &e),
	    0);
	assert_int_equal(an, 0);
	db_audit_list_free(al, an);
}

static void
test_list_delete(void **state)
{
	struct dbt *t = *state;
	struct token_rec *list;
	struct audit_rec a, *al;
	struct err e = { 0 };
	char next[RCA_TOKEN_ID_HEX + 1], after[RCA_TOKEN_ID_HEX + 1] = "";
	char id[RCA_TOKEN_ID_HEX + 1];
	size_t n, total = 0, an;
	int pages = 0;
	int64_t anext;

	for (int i = 5; i >= 1; i--) {
		snprintf(id, sizeof(id), "%016x", i);
		add(t->db, id, (unsigned char)i, 1, 0);
	}
	do {
		assert_int_equal(db_token_list(t->db, after, 2, &list, &n,
		    next, &e), 0);
		for (size_t i = 0; i < n; i++) {
			snprintf(id, sizeof(id), "%016zx", total + i + 1);
			assert_string_equal(list[i].id, id);
		}
		total += n;
		pages++;
		db_token_list_free(list, n);
		memcpy(after, next, sizeof(after));
	} while (next[0] != '\0');
	assert_int_equal(total, 5);
	assert_int_equal(pages, 3);

	dbt_audit(&a, "token.delete", "0000000000000003");
	assert_int_equal(db_token_delete(t->db, "0000000000000003", &a, &e),
	    0);
	assert_int_equal(db_token_delete(t->db, "0000000000000003", &a, &e),
	    -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(db_token_list(t->db, NULL, 100, &list, &n, next,
	    &e), 0);
	assert_int_equal(n, 4);
	assert_string_equal(next, "");
	db_token_list_free(list, n);
	/* One audit entry: the failed delete wrote none. */
	assert_int_equal(db_audit_list(t->db, 0, 10, &al, &an, &anext, &e),
	    0);
	assert_int_equal(an, 1);
	assert_string_equal(al[0].action, "token.delete");
	db_audit_list_free(al, an);
}

static void
test_consume(void **state)
{
	struct dbt *t = *state;
	struct token_rec got;
	struct err e = { 0 };

	add(t->db, "000000000000000a", 0x0a, 2, 0);
	assert_int_equal(db_token_consume(t->db, "000000000000000a", 100,
	    &e), 0);
	assert_int_equal(db_token_consume(t->db, "000000000000000a", 100,
	    &e), 0);
	assert_int_equal(db_token_consume(t->db, "000000000000000a", 100,
	    &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_int_equal(db_token_get(t->db, "000000000000000a", &got, &e),
	    0);
	assert_int_equal(got.uses_left, 0);
	token_rec_clear(&got);

	/* Expired at expires_at itself. */
	add(t->db, "000000000000000b", 0x0b, 5, 1000);
	assert_int_equal(db_token_consume(t->db, "000000000000000b", 999,
	    &e), 0);
	assert_int_equal(db_token_consume(t->db, "000000000000000b", 1000,
	    &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_int_equal(db_token_get(t->db, "000000000000000b", &got, &e),
	    0);
	assert_int_equal(got.uses_left, 4);
	token_rec_clear(&got);

	/* Unlimited stays unlimited. */
	add(t->db, "000000000000000c", 0x0c, -1, 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(db_token_consume(t->db, "000000000000000c",
		    100, &e), 0);
	assert_int_equal(db_token_get(t->db, "000000000000000c", &got, &e),
	    0);
	assert_int_equal(got.uses_left, -1);
	token_rec_clear(&got);

	assert_int_equal(db_token_consume(t->db, "ffffffffffffffff", 100,
	    &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_int_equal(db_token_consume(t->db, "ffffffffffffffffff", 100,
	    &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
}

#define RACERS	8

struct racer {
	struct db		*db;
	pthread_barrier_t	*start;
	char			 id[RCA_TOKEN_ID_HEX + 1];
	int			 rc;
	enum err_code		 code;
};

static void *
race(void *p)
{
	struct racer *r = p;
	struct err e = { 0 };

	pthread_barrier_wait(r->start);
	r->rc = db_token_consume(r->db, r->id, 100, &e);
	r->code = e.code;
	return NULL;
}

static void
test_consume_race(void **state)
{
	struct dbt *t = *state;
	struct racer r[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t start;
	char id[RCA_TOKEN_ID_HEX + 1];

	for (int round = 0; round < 20; round++) {
		int wins = 0;

		snprintf(id, sizeof(id), "%016x", 0x100 + round);
		add(t->db, id, (unsigned char)(0x40 + round), 1, 0);
		assert_int_equal(pthread_barrier_init(&start, NULL, RACERS),
		    0);
		for (int i = 0; i < RACERS; i++) {
			r[i] = (struct racer){ t->db, &start, "", -2,
			    ERR_OK };
			memcpy(r[i].id, id, sizeof(id));
			assert_int_equal(pthread_create(&th[i], NULL, race,
			    &r[i]), 0);
		}
		for (int i = 0; i < RACERS; i++) {
			assert_int_equal(pthread_join(th[i], NULL), 0);
			if (r[i].rc == 0)
				wins++;
			else
				assert_int_equal(r[i].code,
				    ERR_UNAUTHORIZED);
		}
		assert_int_equal(wins, 1);
		pthread_barrier_destroy(&start);
	}
}

static void
test_locked(void **state)
{
	struct dbt *t = *state;
	struct token_rec tok, got, *list;
	struct err e = { 0 };
	char next[RCA_TOKEN_ID_HEX + 1];
	sqlite3 *h;
	size_t n;

	/* SQLite only: another process's lock. */
	DBT_SQLITE_ONLY();
	add(t->db, "0000000000000001", 0x01, 2, 0);
	h = dbt_lock(t);
	mktoken(&tok, "0000000000000002", 0x02, 1, 0);
	assert_int_equal(db_token_insert(t->db, &tok, NULL, &e), -1);
	assert_db_error(e);
	assert_int_equal(db_token_consume(t->db, "0000000000000001", 1, &e),
	    -1);
	assert_db_error(e);
	assert_int_equal(db_token_delete(t->db, "0000000000000001", NULL,
	    &e), -1);
	assert_db_error(e);
	assert_int_equal(db_token_get(t->db, "0000000000000001", &got, &e),
	    0);
	assert_int_equal(got.uses_left, 2);
	token_rec_clear(&got);
	assert_int_equal(db_token_list(t->db, NULL, 10, &list, &n, next, &e),
	    0);
	assert_int_equal(n, 1);
	db_token_list_free(list, n);
	dbt_unlock(h);
	assert_int_equal(db_token_consume(t->db, "0000000000000001", 1, &e),
	    0);
	assert_int_equal(db_token_get(t->db, "0000000000000001", &got, &e),
	    0);
	assert_int_equal(got.uses_left, 1);
	token_rec_clear(&got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_insert_get_find,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_insert_refused,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_list_delete, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_consume, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_consume_race, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_locked, dbt_setup,
		    dbt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
