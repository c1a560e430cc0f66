/* Tests for db/audit.c: append, list, and the log cannot be changed. */
#include "dbtest.h"
#include "priv.h"

static void
test_append_list(void **state)
{
	struct dbt *t = *state;
	struct audit_rec a, *list;
	struct err e = { 0 };
	char obj[32];
	size_t n, total = 0;
	int64_t after = 0, next, last = 0;
	int pages = 0;

	for (int i = 0; i < 25; i++) {
		snprintf(obj, sizeof(obj), "obj-%d", i);
		dbt_audit(&a, "certificate.issue", obj);
		a.at = 1000 + i;
		a.outcome = (enum audit_outcome)(i % AUDIT_OUTCOME__MAX);
		assert_int_equal(db_audit_append(t->db, &a, &e), 0);
	}
	do {
		assert_int_equal(db_audit_list(t->db, after, 10, &list, &n,
		    &next, &e), 0);
		for (size_t i = 0; i < n; i++) {
			size_t k = total + i;

			assert_true(list[i].id > last);
			last = list[i].id;
			snprintf(obj, sizeof(obj), "obj-%zu", k);
			assert_string_equal(list[i].object, obj);
			assert_int_equal(list[i].at, 1000 + (int64_t)k);
			assert_int_equal(list[i].outcome,
			    (int)(k % AUDIT_OUTCOME__MAX));
			assert_string_equal(list[i].actor,
			    "admin:0123456789abcdef");
			assert_string_equal(list[i].action,
			    "certificate.issue");
			assert_string_equal(list[i].detail, "test");
		}
		if (next != 0)
			assert_int_equal(next, last);
		total += n;
		pages++;
		db_audit_list_free(list, n);
		after = next;
	} while (next != 0);
	assert_int_equal(total, 25);
	assert_int_equal(pages, 3);

	assert_int_equal(db_audit_append(t->db, NULL, &e), -1);
	a.outcome = AUDIT_OUTCOME__MAX;
	assert_int_equal(db_audit_append(t->db, &a, &e), -1);
	memset(a.action, 'x', sizeof(a.action));
	a.outcome = AUDIT_OK;
	assert_int_equal(db_audit_append(t->db, &a, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
}

static void
test_append_only(void **state)
{
	struct dbt *t = *state;
	struct audit_rec a, *list;
	struct err e = { 0 };
	sqlite3 *h = NULL;
	char *msg = NULL;
	size_t n;
	int64_t next;

	dbt_audit(&a, "token.create", "0123");
	assert_int_equal(db_audit_append(t->db, &a, &e), 0);

	/* Another connection, as an intruder with file access would use. */
	assert_int_equal(sqlite3_open(t->path, &h), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(h,
	    "UPDATE audit SET outcome = 'denied'", NULL, NULL, &msg),
	    SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	msg = NULL;
	assert_int_not_equal(sqlite3_exec(h, "DELETE FROM audit", NULL,
	    NULL, &msg), SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	/* Inserting is what it is for. */
	assert_int_equal(sqlite3_exec(h, "INSERT INTO audit (at, actor, "
	    "action, object, outcome, detail) VALUES (1, 'cli', 'x', 'y', "
	    "'ok', '')", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(h, "INSERT INTO audit (at, actor, "
	    "action, object, outcome, detail) VALUES (1, 'cli', 'x', 'y', "
	    "'maybe', '')", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);

	assert_int_equal(db_audit_list(t->db, 0, 0, &list, &n, &next, &e),
	    0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].outcome, AUDIT_OK);
	assert_string_equal(list[0].object, "0123");
	assert_int_equal(next, 0);
	db_audit_list_free(list, n);
}

static void
test_locked(void **state)
{
	struct dbt *t = *state;
	struct audit_rec a, *list;
	struct err e = { 0 };
	sqlite3 *h;
	size_t n;
	int64_t next;

	dbt_audit(&a, "token.create", "1");
	assert_int_equal(db_audit_append(t->db, &a, &e), 0);
	h = dbt_lock(t);
	assert_int_equal(db_audit_append(t->db, &a, &e), -1);
	assert_db_error(e);
	assert_int_equal(db_audit_list(t->db, 0, 10, &list, &n, &next, &e),
	    0);
	assert_int_equal(n, 1);
	db_audit_list_free(list, n);
	dbt_unlock(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_list, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_append_only, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_locked, dbt_setup,
		    dbt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
