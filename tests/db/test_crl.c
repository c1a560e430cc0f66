/* Tests for db/crl.c: CRL numbers only go up; the latest is served. */
#include "dbtest.h"
#include "priv.h"

static void
test_empty(void **state)
{
	struct dbt *t = *state;
	struct err e = { 0 };
	uint64_t num = 9;
	int64_t tu, nu;
	unsigned char *der = (unsigned char *)"x";
	size_t len = 9;

	assert_int_equal(db_crl_latest(t->db, &num, &tu, &nu, &der, &len,
	    &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(num, 0);
	assert_null(der);
	assert_int_equal(len, 0);
}

static void
test_save_latest(void **state)
{
	struct dbt *t = *state;
	const unsigned char d1[] = { 0x30, 0x01, 0x00 };
	const unsigned char d2[] = { 0x30, 0x03, 0x02, 0x01, 0x02 };
	const unsigned char d3[] = { 0x30, 0x00 };
	struct audit_rec a, *al;
	struct err e = { 0 };
	uint64_t num;
	int64_t tu, nu, next;
	unsigned char *der;
	size_t len, an;

	dbt_audit(&a, "crl.publish", "1");
	assert_int_equal(db_crl_save(t->db, 1, 100, 200, d1, sizeof(d1), &a,
	    &e), 0);
	dbt_audit(&a, "crl.publish", "2");
	assert_int_equal(db_crl_save(t->db, 2, 150, 250, d2, sizeof(d2), &a,
	    &e), 0);
	/* The same number again, or a lower one: refused. */
	assert_int_equal(db_crl_save(t->db, 2, 160, 260, d3, sizeof(d3), &a,
	    &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_int_equal(db_crl_save(t->db, 1, 160, 260, d3, sizeof(d3), NULL,
	    &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_int_equal(db_crl_save(t->db, 0, 160, 260, d3, sizeof(d3), NULL,
	    &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(db_crl_save(t->db, 3, 160, 260, d3, 0, NULL, &e),
	    -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	assert_int_equal(db_crl_save(t->db, (uint64_t)INT64_MAX + 1, 160, 260,
	    d3, sizeof(d3), NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);

	assert_int_equal(db_crl_latest(t->db, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, 2);
	assert_int_equal(tu, 150);
	assert_int_equal(nu, 250);
	assert_int_equal(len, sizeof(d2));
	assert_memory_equal(der, d2, sizeof(d2));
	free(der);

	/* Two audit entries: the refused saves wrote none. */
	assert_int_equal(db_audit_list(t->db, 0, 10, &al, &an, &next, &e),
	    0);
	assert_int_equal(an, 2);
	assert_string_equal(al[1].object, "2");
	db_audit_list_free(al, an);
}

static void
test_prune_keeps_latest(void **state)
{
	struct dbt *t = *state;
	const unsigned char d[] = { 0x30, 0x00 };
	struct err e = { 0 };
	struct db_conn *c;
	sqlite3_stmt *st;
	uint64_t num;
	int64_t tu, nu;
	unsigned char *der;
	size_t len;

	/* SQLite only: raw sqlite3 reads, another process's lock. */
	DBT_SQLITE_ONLY();
	for (uint64_t i = 1; i <= DB_CRL_KEEP + 10; i++)
		assert_int_equal(db_crl_save(t->db, i * 3, 1, 2, d, sizeof(d),
		    NULL, &e), 0);
	assert_non_null(c = db_conn_get(t->db, &e));
	assert_int_equal(sqlite3_prepare_v2(c->h,
	    "SELECT count(*), min(number) FROM crls", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	/* Only the newest DER stays. */
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	assert_int_equal(sqlite3_column_int(st, 1), (DB_CRL_KEEP + 10) * 3);
	sqlite3_finalize(st);
	assert_int_equal(db_crl_latest(t->db, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, (DB_CRL_KEEP + 10) * 3);
	free(der);
	/* Even after pruning, the number cannot go back. */
	assert_int_equal(db_crl_save(t->db, 4, 1, 2, d, sizeof(d), NULL, &e),
	    -1);
	assert_int_equal(e.code, ERR_CONFLICT);
}

/*
 * A number claimed first (no DER), its DER written later: the claim
 * counts for the numbering but not as the latest CRL until then; a
 * late DER of an older claim changes nothing.
 */
static void
test_claim_then_der(void **state)
{
	struct dbt *t = *state;
	const unsigned char d1[] = { 0x30, 0x01, 0x01 };
	const unsigned char d3[] = { 0x30, 0x01, 0x03 };
	const unsigned char d5[] = { 0x30, 0x01, 0x05 };
	struct err e = { 0 };
	uint64_t num, max;
	int64_t tu, nu;
	unsigned char *der;
	size_t len;

	assert_int_equal(db_crl_save(t->db, 1, 1, 2, d1, sizeof(d1), NULL,
	    &e), 0);
	assert_int_equal(db_crl_save(t->db, 3, 3, 4, NULL, 0, NULL, &e), 0);
	assert_int_equal(db_crl_number(t->db, &max, &e), 0);
	assert_int_equal(max, 3);
	assert_int_equal(db_crl_latest(t->db, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, 1);
	free(der);
	/* Claimed is taken. */
	assert_int_equal(db_crl_save(t->db, 3, 3, 4, NULL, 0, NULL, &e), -1);
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_int_equal(db_crl_put_der(t->db, 3, d3, sizeof(d3), &e), 0);
	assert_int_equal(db_crl_latest(t->db, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, 3);
	assert_int_equal(tu, 3);
	assert_int_equal(nu, 4);
	assert_memory_equal(der, d3, sizeof(d3));
	free(der);

	/* Claims 4 and 5; 5's DER first, then 4's (pruned) is a no-op. */
	assert_int_equal(db_crl_save(t->db, 4, 4, 5, NULL, 0, NULL, &e), 0);
	assert_int_equal(db_crl_save(t->db, 5, 5, 6, NULL, 0, NULL, &e), 0);
	assert_int_equal(db_crl_put_der(t->db, 5, d5, sizeof(d5), &e), 0);
	assert_int_equal(db_crl_put_der(t->db, 4, d3, sizeof(d3), &e), 0);
	assert_int_equal(db_crl_latest(t->db, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, 5);
	assert_memory_equal(der, d5, sizeof(d5));
	free(der);
	assert_int_equal(db_crl_put_der(t->db, 6, NULL, 0, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
}

static void
test_locked(void **state)
{
	struct dbt *t = *state;
	const unsigned char d[] = { 0x30, 0x00 };
	struct err e = { 0 };
	uint64_t num;
	int64_t tu, nu;
	unsigned char *der;
	size_t len;
	sqlite3 *h;

	/* SQLite only: raw sqlite3 reads, another process's lock. */
	DBT_SQLITE_ONLY();
	assert_int_equal(db_crl_save(t->db, 1, 1, 2, d, sizeof(d), NULL, &e),
	    0);
	h = dbt_lock(t);
	assert_int_equal(db_crl_save(t->db, 2, 1, 2, d, sizeof(d), NULL, &e),
	    -1);
	assert_db_error(e);
	assert_int_equal(db_crl_latest(t->db, &num, &tu, &nu, &der, &len,
	    &e), 0);
	assert_int_equal(num, 1);
	free(der);
	dbt_unlock(h);
	assert_int_equal(db_crl_save(t->db, 2, 1, 2, d, sizeof(d), NULL, &e),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_save_latest, dbt_setup,
		    dbt_teardown),
		cmocka_unit_test_setup_teardown(test_claim_then_der,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_prune_keeps_latest,
		    dbt_setup, dbt_teardown),
		cmocka_unit_test_setup_teardown(test_locked, dbt_setup,
		    dbt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
