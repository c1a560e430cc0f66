/*
 * The rollover's phases (service/ca_roll.c, ca_files.c): prepare,
 * activate and retire, every refusal with its code and audit entry,
 * the CA files after each phase (names, modes, contents matching the
 * database), a crash between the database's commit and the renames
 * repaired by the reconcile, and a two-tier prepare with a root key.
 * No nodes here (tests/service/test_ca_push.c pushes to redis-servers).
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ca.h"
#include "db.h"
#include "fileio.h"
#include "fixture.h"
#include "testdb.h"
#include "timeutil.h"

/* The contents of dir/name (new), or NULL when it does not exist. */
static char *
slurp(const struct fx *f, const char *name)
{
	char	 path[512], *buf = NULL;
	size_t	 len;
	struct err e;

	err_clear(&e);
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	if (fio_read_all(path, 1 << 20, &buf, &len, &e) == -1)
		return NULL;
	return buf;
}

/* dir/name exists with this mode. */
static void
assert_mode(const struct fx *f, const char *name, mode_t mode)
{
	char		path[512];
	struct stat	st;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	if (lstat(path, &st) == -1)
		fail_msg("%s: missing", path);
	assert_true(S_ISREG(st.st_mode));
	if ((st.st_mode & 07777) != mode)
		fail_msg("%s: mode %04o, want %04o", path,
		    (unsigned)(st.st_mode & 07777), (unsigned)mode);
}

static void
assert_absent(const struct fx *f, const char *name)
{
	char		path[512];
	struct stat	st;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	if (lstat(path, &st) == 0)
		fail_msg("%s: should not exist", path);
}

/* The SPKI hash of the key file dir/name. */
static void
key_spki(const struct fx *f, const char *name, char out[RCA_SHA256_HEX + 1])
{
	char		path[512];
	struct err	e;

	err_clear(&e);
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	if (ca_key_file_spki_sha256(path, NULL, out, &e) == -1)
		fail_msg("%s: %s", path, e.msg);
}

/* One column of the row in state st ("" when none), new. */
static char *
row_col(const struct fx *f, const char *col, const char *st)
{
	char	 q[256], *rows, *r;

	snprintf(q, sizeof(q), "SELECT %s FROM cas WHERE state = '%s'", col,
	    st);
	rows = tdb_rows(f->db, q, NULL);
	/* "\n<value>" per row */
	r = strdup(rows[0] == '\n' ? rows + 1 : rows);
	free(rows);
	assert_non_null(r);
	return r;
}

/* The states of every row, "id:state ..." in id order (new). */
static char *
states(const struct fx *f)
{
	return tdb_rows(f->db, "SELECT id, state FROM cas ORDER BY id",
	    NULL);
}

static void
prepare_ok(struct fx *f, const struct svc_ca_prepare_req *req)
{
	struct svc_ca_result	res;
	struct err		e;

	err_clear(&e);
	if (svc_ca_prepare(f->svc, &f->admin, req, &res, &e) == -1)
		fail_msg("prepare: %s: %s", err_code_name(e.code), e.msg);
	svc_ca_result_clear(&res);
}

static void
prepare_self(struct fx *f)
{
	struct svc_ca_prepare_req req;

	memset(&req, 0, sizeof(req));
	prepare_ok(f, &req);
}

/* A phase that must be refused with want (and audited as denied). */
static void
refused(struct fx *f, const struct svc_actor *a, const char *action,
    int rc, const struct err *e, enum err_code want)
{
	assert_int_equal(rc, -1);
	if (e->code != want)
		fail_msg("%s: got %s (%s), want %s", action,
		    err_code_name(e->code), e->msg, err_code_name(want));
	assert_true(e->msg[0] != '\0');
	assert_true(fx_audit_has(f, action, "denied", NULL,
	    err_code_name(want)));
	(void)a;
}

static void
activate_ok(struct fx *f)
{
	struct svc_ca_result	res;
	struct err		e;

	err_clear(&e);
	if (svc_ca_activate(f->svc, &f->admin, false, &res, &e) == -1)
		fail_msg("activate: %s: %s", err_code_name(e.code), e.msg);
	svc_ca_result_clear(&res);
}

/* Issue a client certificate now; its serial into serial. */
static void
issue(struct fx *f, char serial[RCA_SERIAL_HEX_MAX + 1], int64_t *ca_id)
{
	struct svc_issue_req	req;
	struct svc_issued	out;
	struct names		n = NAMES_INIT;
	struct err		e;

	err_clear(&e);
	fx_names(&n, "client-1", NULL);
	memset(&req, 0, sizeof(req));
	memset(&out, 0, sizeof(out));
	req.profile = "redis-client";
	req.names = &n;
	if (svc_issue(f->svc, &f->admin, &req, &out, &e) == -1)
		fail_msg("issue: %s", e.msg);
	snprintf(serial, RCA_SERIAL_HEX_MAX + 1, "%s", out.cert.serial);
	if (ca_id != NULL)
		*ca_id = out.cert.ca_id;
	svc_issued_clear(&out);
	names_clear(&n);
}

/* prepare -> files ca-next.*, row next, audited; refusals on the way. */
static void
test_prepare(void **state)
{
	struct fx			*f = *state;
	struct svc_ca_prepare_req	 req;
	struct svc_ca_result		 res;
	struct err			 e;
	char				*crt, *pem, *st, *row;
	char				 spki[RCA_SHA256_HEX + 1];

	prepare_self(f);
	assert_mode(f, "ca-next.key", 0400);
	assert_mode(f, "ca-next.crt", 0444);
	assert_absent(f, "roots.pem");
	crt = slurp(f, "ca-next.crt");
	pem = row_col(f, "cert_pem", "next");
	assert_non_null(crt);
	assert_string_equal(crt, pem);
	key_spki(f, "ca-next.key", spki);
	row = row_col(f, "spki_sha256", "next");
	assert_string_equal(spki, row);
	st = states(f);
	assert_non_null(strstr(st, "1 current"));
	assert_non_null(strstr(st, "2 next"));
	assert_true(fx_audit_has(f, "ca.prepare", "ok", NULL, "state=next"));
	free(crt);
	free(pem);
	free(st);
	free(row);

	/* Twice: ca_next_exists, nothing changed. */
	err_clear(&e);
	memset(&req, 0, sizeof(req));
	refused(f, &f->admin, "ca.prepare", svc_ca_prepare(f->svc, &f->admin,
	    &req, &res, &e), &e, ERR_CA_NEXT_EXISTS);
	st = states(f);
	assert_null(strstr(st, "\n3 "));
	free(st);
	/* A CSR while next exists: the same. */
	req.csr_only = true;
	err_clear(&e);
	refused(f, &f->admin, "ca.prepare", svc_ca_prepare(f->svc, &f->admin,
	    &req, &res, &e), &e, ERR_CA_NEXT_EXISTS);
}

/* Bad requests before anything is made. */
static void
test_prepare_bad(void **state)
{
	struct fx			*f = *state;
	struct svc_ca_prepare_req	 req;
	struct svc_ca_result		 res;
	struct err			 e;
	char				*cur;

	memset(&req, 0, sizeof(req));
	req.csr_only = true;
	req.cert_pem = "x";
	err_clear(&e);
	refused(f, &f->admin, "ca.prepare", svc_ca_prepare(f->svc, &f->admin,
	    &req, &res, &e), &e, ERR_INVALID_REQUEST);
	memset(&req, 0, sizeof(req));
	req.days = 9000;
	err_clear(&e);
	refused(f, &f->admin, "ca.prepare", svc_ca_prepare(f->svc, &f->admin,
	    &req, &res, &e), &e, ERR_INVALID_REQUEST);
	memset(&req, 0, sizeof(req));
	req.root_key_path = "/nonexistent/root.key";
	err_clear(&e);
	refused(f, &f->admin, "ca.prepare", svc_ca_prepare(f->svc, &f->admin,
	    &req, &res, &e), &e, ERR_INVALID_REQUEST);
	/* A leaf key type is no CA's. */
	memset(&req, 0, sizeof(req));
	req.key_type = KEY_RSA_2048;
	req.key_type_set = true;
	err_clear(&e);
	refused(f, &f->admin, "ca.prepare", svc_ca_prepare(f->svc, &f->admin,
	    &req, &res, &e), &e, ERR_KEY_REJECTED);
	assert_absent(f, "ca-next.key");
	/* A certificate with no key behind it: no CSR was made. */
	cur = slurp(f, "ca.crt");
	memset(&req, 0, sizeof(req));
	req.cert_pem = cur;
	err_clear(&e);
	refused(f, &f->admin, "ca.prepare", svc_ca_prepare(f->svc, &f->admin,
	    &req, &res, &e), &e, ERR_INVALID_REQUEST);
	free(cur);
	assert_absent(f, "ca-next.key");
	assert_absent(f, "ca-next.crt");
}

/* Not an admin: every phase forbidden, audited. */
static void
test_forbidden(void **state)
{
	struct fx			*f = *state;
	struct svc_actor		 tok;
	struct svc_ca_prepare_req	 req;
	struct svc_ca_result		 res;
	struct err			 e;

	fx_enroll(f, "redis-client", "*", 5, 3600, 0, &tok, NULL);
	memset(&req, 0, sizeof(req));
	err_clear(&e);
	refused(f, &tok, "ca.prepare", svc_ca_prepare(f->svc, &tok, &req,
	    &res, &e), &e, ERR_FORBIDDEN);
	err_clear(&e);
	refused(f, &tok, "ca.activate", svc_ca_activate(f->svc, &tok, true,
	    &res, &e), &e, ERR_FORBIDDEN);
	err_clear(&e);
	refused(f, &tok, "ca.retire", svc_ca_retire(f->svc, &tok, true,
	    &res, &e), &e, ERR_FORBIDDEN);
	assert_absent(f, "ca-next.key");
	svc_actor_clear(&tok);
}

/* Nothing prepared, nothing to retire. */
static void
test_nothing(void **state)
{
	struct fx		*f = *state;
	struct svc_ca_result	 res;
	struct err		 e;

	err_clear(&e);
	refused(f, &f->admin, "ca.activate", svc_ca_activate(f->svc,
	    &f->admin, false, &res, &e), &e, ERR_CA_NOT_PREPARED);
	err_clear(&e);
	refused(f, &f->admin, "ca.retire", svc_ca_retire(f->svc, &f->admin,
	    false, &res, &e), &e, ERR_CA_NOTHING_TO_RETIRE);
	/* A pending CA (CSR only) is not prepared either. */
	{
		struct svc_ca_prepare_req req;

		memset(&req, 0, sizeof(req));
		req.csr_only = true;
		err_clear(&e);
		assert_int_equal(svc_ca_prepare(f->svc, &f->admin, &req, &res,
		    &e), 0);
		assert_non_null(res.csr_pem);
		assert_non_null(strstr(res.csr_pem, "BEGIN CERTIFICATE "
		    "REQUEST"));
		svc_ca_result_clear(&res);
	}
	assert_mode(f, "ca-next.key", 0400);
	assert_absent(f, "ca-next.crt");
	err_clear(&e);
	refused(f, &f->admin, "ca.activate", svc_ca_activate(f->svc,
	    &f->admin, true, &res, &e), &e, ERR_CA_NOT_PREPARED);
}

/* The whole way: activate renames, issuance switches, retire. */
static void
test_full_cycle(void **state)
{
	struct fx			*f = *state;
	struct svc_ca_prepare_req	 req;
	struct svc_ca_result		 res;
	struct cert_rec			 c;
	struct err			 e;
	char				 old_serial[RCA_SERIAL_HEX_MAX + 1];
	char				 new_serial[RCA_SERIAL_HEX_MAX + 1];
	char				 spki_next[RCA_SHA256_HEX + 1];
	char				 spki_cur[RCA_SHA256_HEX + 1], spki[65];
	char				*next_crt, *crt;
	int64_t				 ca_id;

	issue(f, old_serial, &ca_id);
	assert_int_equal(ca_id, 1);
	prepare_self(f);
	key_spki(f, "ca-next.key", spki_next);
	key_spki(f, "ca.key", spki_cur);
	next_crt = slurp(f, "ca-next.crt");
	activate_ok(f);
	assert_true(fx_audit_has(f, "ca.activate", "ok", NULL, "previous="));
	/* Files: the new CA is ca.*, the old one ca-prev.*. */
	assert_mode(f, "ca.key", 0400);
	assert_mode(f, "ca.crt", 0444);
	assert_mode(f, "ca-prev.key", 0400);
	assert_mode(f, "ca-prev.crt", 0444);
	assert_absent(f, "ca-next.key");
	assert_absent(f, "ca-next.crt");
	key_spki(f, "ca.key", spki);
	assert_string_equal(spki, spki_next);
	key_spki(f, "ca-prev.key", spki);
	assert_string_equal(spki, spki_cur);
	crt = slurp(f, "ca.crt");
	assert_string_equal(crt, next_crt);
	free(crt);
	free(next_crt);
	/* Issuance comes from CA 2 now. */
	issue(f, new_serial, &ca_id);
	assert_int_equal(ca_id, 2);

	/* A retired CA in the bundle: no new prepare. */
	memset(&req, 0, sizeof(req));
	err_clear(&e);
	refused(f, &f->admin, "ca.prepare", svc_ca_prepare(f->svc, &f->admin,
	    &req, &res, &e), &e, ERR_CA_RETIRE_PENDING);
	/* The old CA's certificate is unexpired: 409 with the serial. */
	err_clear(&e);
	refused(f, &f->admin, "ca.retire", svc_ca_retire(f->svc, &f->admin,
	    false, &res, &e), &e, ERR_CA_IN_USE);
	assert_true(res.count >= 1);
	assert_true(res.nserials >= 1);
	{
		bool found = false;

		for (size_t i = 0; i < res.nserials; i++)
			found |= strcmp(res.serials[i], old_serial) == 0;
		assert_true(found);
	}
	assert_non_null(strstr(e.msg, old_serial));
	svc_ca_result_clear(&res);
	/* force revokes it (cessationOfOperation), then retires. */
	err_clear(&e);
	if (svc_ca_retire(f->svc, &f->admin, true, &res, &e) == -1)
		fail_msg("retire --force: %s", e.msg);
	svc_ca_result_clear(&res);
	assert_true(fx_audit_has(f, "ca.retire", "ok", NULL, "force=true"));
	memset(&c, 0, sizeof(c));
	assert_int_equal(svc_cert_get(f->svc, old_serial, &c, &e), 0);
	assert_true(c.revoked_at != 0);
	assert_int_equal(c.reason, REASON_CESSATION_OF_OPERATION);
	cert_rec_clear(&c);
	/* The new CA's certificate stays. */
	assert_int_equal(svc_cert_get(f->svc, new_serial, &c, &e), 0);
	assert_int_equal(c.revoked_at, 0);
	cert_rec_clear(&c);
	assert_absent(f, "ca-prev.key");
	assert_absent(f, "ca-prev.crt");
	{
		char *st = states(f);

		assert_non_null(strstr(st, "1 gone"));
		assert_non_null(strstr(st, "2 current"));
		free(st);
	}
	err_clear(&e);
	refused(f, &f->admin, "ca.retire", svc_ca_retire(f->svc, &f->admin,
	    false, &res, &e), &e, ERR_CA_NOTHING_TO_RETIRE);
	/* And again from the top: the cycle repeats. */
	prepare_self(f);
	assert_mode(f, "ca-next.key", 0400);
}

/* Retire without force once nothing is unexpired: no revocation. */
static void
test_retire_clean(void **state)
{
	struct fx		*f = *state;
	struct svc_ca_result	 res;
	struct err		 e;

	prepare_self(f);
	activate_ok(f);
	err_clear(&e);
	if (svc_ca_retire(f->svc, &f->admin, false, &res, &e) == -1)
		fail_msg("retire: %s", e.msg);
	assert_int_equal(res.count, 0);
	svc_ca_result_clear(&res);
	assert_true(fx_audit_has(f, "ca.retire", "ok", NULL, "revoked=0"));
	assert_absent(f, "ca-prev.key");
}

/*
 * A crash between activate's commit and the renames: the database says
 * CA 2 is current while ca.key is still CA 1's.  Reopening (or the
 * generation watch) reconciles: keys renamed by their public key.
 */
static void
test_crash_reconcile(void **state)
{
	struct fx		*f = *state;
	struct db		*db;
	struct audit_rec	 ar;
	struct err		 e;
	char			 spki_next[RCA_SHA256_HEX + 1];
	char			 spki_cur[RCA_SHA256_HEX + 1], spki[65];
	char			*want, *next_crt, *crt;
	char			 serial[RCA_SERIAL_HEX_MAX + 1];
	int64_t			 ca_id;

	prepare_self(f);
	key_spki(f, "ca-next.key", spki_next);
	key_spki(f, "ca.key", spki_cur);
	next_crt = slurp(f, "ca-next.crt");
	/* Another process activates in the database only. */
	err_clear(&e);
	db = db_open(f->db, &e);
	assert_non_null(db);
	memset(&ar, 0, sizeof(ar));
	snprintf(ar.actor, sizeof(ar.actor), "cli");
	snprintf(ar.action, sizeof(ar.action), "ca.activate");
	ar.at = tu_now();
	if (db_ca_activate(db, tu_now(), &ar, &e) == -1)
		fail_msg("db_ca_activate: %s", e.msg);
	db_close(db);
	/* The files are still the old names. */
	key_spki(f, "ca.key", spki);
	assert_string_equal(spki, spki_cur);
	/* The watch sees the generation and reconciles. */
	err_clear(&e);
	assert_int_equal(svc_ca_watch(f->svc, &e), 1);
	key_spki(f, "ca.key", spki);
	assert_string_equal(spki, spki_next);
	want = row_col(f, "spki_sha256", "current");
	assert_string_equal(spki, want);
	free(want);
	key_spki(f, "ca-prev.key", spki);
	assert_string_equal(spki, spki_cur);
	assert_absent(f, "ca-next.key");
	crt = slurp(f, "ca.crt");
	assert_string_equal(crt, next_crt);
	free(crt);
	free(next_crt);
	issue(f, serial, &ca_id);
	assert_int_equal(ca_id, 2);

	/* A rename stopped halfway (a key left as *.moving) is finished. */
	{
		char a[512], b[512];

		snprintf(a, sizeof(a), "%s/ca.key", f->dir);
		snprintf(b, sizeof(b), "%s/ca.key.moving", f->dir);
		assert_int_equal(rename(a, b), 0);
		fx_reopen(f);
		key_spki(f, "ca.key", spki);
		assert_string_equal(spki, spki_next);
		assert_absent(f, "ca.key.moving");
	}
}

/* Two tiers: a root signs the next CA; after activate roots.pem. */
static void
test_two_tier(void **state)
{
	struct fx			*f = *state;
	struct svc_ca_prepare_req	 req;
	struct svc_ca_result		 res;
	struct ca_create_opts		 o;
	struct err			 e;
	char				 rdir[128], rkey[160], rcrt[160];
	char				*root, *roots, *anchors;

	snprintf(rdir, sizeof(rdir), "%s.root", f->dir);
	assert_int_equal(mkdir(rdir, 0700), 0);
	memset(&o, 0, sizeof(o));
	o.key_type = KEY_EC_P256;
	o.cn = "test root";
	err_clear(&e);
	if (ca_create_root(rdir, &o, &e) == -1)
		fail_msg("ca_create_root: %s", e.msg);
	snprintf(rkey, sizeof(rkey), "%s/root.key", rdir);
	snprintf(rcrt, sizeof(rcrt), "%s/root.crt", rdir);
	memset(&req, 0, sizeof(req));
	req.root_key_path = rkey;
	req.root_cert_path = rcrt;
	req.days = 30;
	prepare_ok(f, &req);
	assert_true(fx_audit_has(f, "ca.prepare", "ok", NULL,
	    "signed by the root"));
	anchors = row_col(f, "anchors_pem", "next");
	err_clear(&e);
	assert_int_equal(fio_read_all(rcrt, 1 << 20, &root, NULL, &e), 0);
	assert_non_null(strstr(anchors, "BEGIN CERTIFICATE"));
	assert_string_equal(anchors, root);
	activate_ok(f);
	assert_mode(f, "roots.pem", 0444);
	roots = slurp(f, "roots.pem");
	assert_string_equal(roots, root);
	/* The next prepare needs the root again: none given is refused. */
	err_clear(&e);
	if (svc_ca_retire(f->svc, &f->admin, true, &res, &e) == -1)
		fail_msg("retire: %s", e.msg);
	svc_ca_result_clear(&res);
	memset(&req, 0, sizeof(req));
	err_clear(&e);
	refused(f, &f->admin, "ca.prepare", svc_ca_prepare(f->svc, &f->admin,
	    &req, &res, &e), &e, ERR_INVALID_REQUEST);
	free(root);
	free(roots);
	free(anchors);
	unlink(rkey);
	unlink(rcrt);
	rmdir(rdir);
}

/* A certificate for the pending CA's key that does not verify. */
static void
test_complete_invalid(void **state)
{
	struct fx			*f = *state;
	struct svc_ca_prepare_req	 req;
	struct svc_ca_result		 res;
	struct err			 e;
	char				*cur;

	memset(&req, 0, sizeof(req));
	req.csr_only = true;
	prepare_ok(f, &req);
	/* The current CA's certificate is not for that key. */
	cur = slurp(f, "ca.crt");
	memset(&req, 0, sizeof(req));
	req.cert_pem = cur;
	err_clear(&e);
	refused(f, &f->admin, "ca.prepare", svc_ca_prepare(f->svc, &f->admin,
	    &req, &res, &e), &e, ERR_INVALID_CHAIN);
	/* Still pending, its key kept for the right certificate. */
	assert_mode(f, "ca-next.key", 0400);
	{
		char *st = states(f);

		assert_non_null(strstr(st, "2 pending"));
		free(st);
	}
	free(cur);
}

/* A key of some other CA (not in the database) at dir/name, mode. */
static void
foreign_key(struct fx *f, const char *name, mode_t mode,
    char spki[RCA_SHA256_HEX + 1])
{
	struct ca_create_opts	o;
	struct err		e;
	char			crt[512], key[512], to[512];

	err_clear(&e);
	snprintf(crt, sizeof(crt), "%s/foreign.crt", f->dir);
	snprintf(key, sizeof(key), "%s/foreign.key", f->dir);
	unlink(crt);
	unlink(key);
	memset(&o, 0, sizeof(o));
	o.key_type = KEY_EC_P256;
	o.cn = "foreign";
	o.days = 30;
	if (ca_create_files(crt, key, &o, &e) == -1)
		fail_msg("foreign CA: %s", e.msg);
	assert_int_equal(ca_key_file_spki_sha256(key, NULL, spki, &e), 0);
	snprintf(to, sizeof(to), "%s/%s", f->dir, name);
	assert_int_equal(rename(key, to), 0);
	assert_int_equal(chmod(to, mode), 0);
	unlink(crt);
}

/*
 * Keys the database does not know: a stray ca-next.key is moved aside
 * (never deleted) so prepare can make its key; a stray ca-prev.key is
 * the key of a CA that left the bundle (deleted); a key that does not
 * even load is left as it is.
 */
static void
test_stray_keys(void **state)
{
	struct fx	*f = *state;
	char		 spki[RCA_SHA256_HEX + 1], got[RCA_SHA256_HEX + 1];
	char		*want;

	foreign_key(f, "ca-next.key", 0400, spki);
	prepare_self(f);
	key_spki(f, "ca-next.key.orphan", got);
	assert_string_equal(got, spki);
	key_spki(f, "ca-next.key", got);
	want = row_col(f, "spki_sha256", "next");
	assert_string_equal(got, want);
	free(want);
	/* No retired CA: a ca-prev.key is a gone CA's, deleted. */
	foreign_key(f, "ca-prev.key", 0400, spki);
	fx_reopen(f);
	assert_absent(f, "ca-prev.key");
	/* One that does not load (group-readable) is not touched. */
	foreign_key(f, "ca-prev.key", 0440, spki);
	fx_reopen(f);
	assert_mode(f, "ca-prev.key", 0440);
	/* The orphan stays for the operator. */
	assert_mode(f, "ca-next.key.orphan", 0400);
}

/* ---- a second instance on the same database, its own folder ---- */

/* Copy f's file name into dir (mode). */
static void
copy_into(const struct fx *f, const char *dir, const char *name,
    const char *as, mode_t mode)
{
	char		*buf = slurp(f, name), path[512];
	struct err	 e;

	err_clear(&e);
	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/%s", dir, as);
	unlink(path);
	if (fio_write_excl(path, buf, strlen(buf), mode, &e) == -1)
		fail_msg("%s: %s", path, e.msg);
	free(buf);
}

/* An instance with its own data folder b (ca.crt, ca.key copied). */
static struct svc *
open_second(struct fx *f, char *b, size_t bsz, struct svc_config *cfg,
    char *crt, char *key)
{
	struct svc	*s;
	struct err	 e;

	snprintf(b, bsz, "%s.b", f->dir);
	assert_int_equal(mkdir(b, 0700), 0);
	copy_into(f, b, "ca.crt", "ca.crt", 0444);
	copy_into(f, b, "ca.key", "ca.key", 0400);
	*cfg = f->cfg;
	snprintf(crt, 256, "%s/ca.crt", b);
	snprintf(key, 256, "%s/ca.key", b);
	cfg->ca_cert = crt;
	cfg->ca_key = key;
	cfg->data_dir = b;
	err_clear(&e);
	if ((s = svc_open(cfg, &e)) == NULL)
		fail_msg("second instance: %s", e.msg);
	return s;
}

static void
rm_second(const char *b)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b);
	assert_int_equal(system(cmd), 0);
}

/* A client certificate issued by s: its CA id, or the error code. */
static int64_t
issue_on(struct svc *s, struct fx *f, enum err_code *code)
{
	struct svc_issue_req	req;
	struct svc_issued	out;
	struct names		n = NAMES_INIT;
	struct err		e;
	int64_t			id = 0;

	err_clear(&e);
	fx_names(&n, "client-b", NULL);
	memset(&req, 0, sizeof(req));
	memset(&out, 0, sizeof(out));
	req.profile = "redis-client";
	req.names = &n;
	*code = ERR_OK;
	if (svc_issue(s, &f->cli, &req, &out, &e) == -1)
		*code = e.code;
	else
		id = out.cert.ca_id;
	svc_issued_clear(&out);
	names_clear(&n);
	return id;
}

/* Does instance b hold the key of the next CA (GET /v1/ca's has_key)? */
static bool
next_has_key(struct svc *b)
{
	struct svc_ca_view	v;
	struct err		e;
	bool			has = false;

	err_clear(&e);
	if (svc_ca_view(b, &v, &e) == -1)
		fail_msg("view: %s", e.msg);
	for (size_t i = 0; i < v.n; i++)
		if (strcmp(v.ca[i].state, "next") == 0)
			has = v.ca[i].has_key;
	svc_ca_view_clear(&v);
	return has;
}

/*
 * The documented way: ca-next.* copied to B between prepare and
 * activate; after A activates, B's watch renames its files and B
 * issues from the new CA; after A retires, B deletes ca-prev.*.
 */
static void
test_second_instance(void **state)
{
	struct fx			*f = *state;
	struct svc			*b;
	struct svc_config		 cfg;
	struct svc_ca_result		 res;
	struct err			 e;
	char				 dir[128], crt[256], key[256], p[512];
	char				 spki[RCA_SHA256_HEX + 1], *want;
	enum err_code			 code;
	struct stat			 st;

	b = open_second(f, dir, sizeof(dir), &cfg, crt, key);
	prepare_self(f);
	err_clear(&e);
	assert_int_equal(svc_ca_watch(b, &e), 1);
	/* B writes the next CA's certificate from the row, not its key. */
	snprintf(p, sizeof(p), "%s/ca-next.crt", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_false(next_has_key(b));
	copy_into(f, dir, "ca-next.key", "ca-next.key", 0400);
	/* B's next tick loads the copied key (no generation change). */
	(void)svc_tick(b);
	assert_true(next_has_key(b));
	activate_ok(f);
	assert_int_equal(svc_ca_watch(b, &e), 1);
	snprintf(p, sizeof(p), "%s/ca.key", dir);
	assert_int_equal(ca_key_file_spki_sha256(p, NULL, spki, &e), 0);
	want = row_col(f, "spki_sha256", "current");
	assert_string_equal(spki, want);
	free(want);
	assert_int_equal(issue_on(b, f, &code), 2);
	assert_int_equal(code, ERR_OK);
	/* Nothing changed: the watch does nothing. */
	assert_int_equal(svc_ca_watch(b, &e), 0);
	err_clear(&e);
	if (svc_ca_retire(f->svc, &f->admin, true, &res, &e) == -1)
		fail_msg("retire: %s", e.msg);
	svc_ca_result_clear(&res);
	assert_int_equal(svc_ca_watch(b, &e), 1);
	snprintf(p, sizeof(p), "%s/ca-prev.key", dir);
	assert_int_equal(stat(p, &st), -1);
	svc_close(b);
	rm_second(dir);
}

/*
 * B never got ca-next.key: after activate it refuses issuance (503
 * unavailable) and is not ready, until the key is copied as ca.key;
 * its next tick loads it.
 */
static void
test_second_without_key(void **state)
{
	struct fx		*f = *state;
	struct svc		*b;
	struct svc_config	 cfg;
	struct svc_health	 h;
	struct err		 e;
	char			 dir[128], crt[256], key[256];
	enum err_code		 code;

	b = open_second(f, dir, sizeof(dir), &cfg, crt, key);
	prepare_self(f);
	activate_ok(f);
	err_clear(&e);
	assert_int_equal(svc_ca_watch(b, &e), 1);
	assert_int_equal(issue_on(b, f, &code), 0);
	assert_int_equal(code, ERR_UNAVAILABLE);
	svc_health(b, &h);
	assert_false(h.ca_key);
	assert_false(h.ready);
	copy_into(f, dir, "ca.key", "ca.key", 0400);
	(void)svc_tick(b);
	assert_int_equal(issue_on(b, f, &code), 2);
	assert_int_equal(code, ERR_OK);
	svc_close(b);
	rm_second(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prepare, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_prepare_bad, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_forbidden, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_nothing, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_full_cycle, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_retire_clean, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_crash_reconcile,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_two_tier, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_complete_invalid,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_stray_keys,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_second_instance,
		    fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_second_without_key,
		    fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
