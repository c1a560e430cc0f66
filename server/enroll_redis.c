/*
 * Pull mode of the enroll daemon (`--redis HOST:PORT`): after each
 * enrollment and renewal the new files are loaded into the local Redis
 * and verified (service/pull.c: server/ does not talk to redis/
 * itself), rolled back to the NAME.prev copies when that fails, and
 * the outcome is reported to the CA over mTLS (POST /v1/nodes/report).
 * A check-in report at every bundle check lets the CA see drift.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "enroll.h"
#include "enroll_int.h"
#include "fileio.h"
#include "log.h"
#include "svc.h"
#include "timeutil.h"

/* The files saved as NAME.prev before a renewal, and their modes. */
static const struct {
	const char	*name;
	int		 mode;
} prev_files[] = {
	{ "key.pem", 0400 }, { "cert.pem", 0444 }, { "chain.pem", 0444 },
	{ "ca.pem", 0444 }, { "enroll.json", 0644 },
};
#define NPREV	(sizeof(prev_files) / sizeof(prev_files[0]))

/* Copy dir/from to dir/to (atomic, mode). */
static int
copy_file(const char *dir, const char *from, const char *to, int mode,
    struct err *e)
{
	char src[RCA_MAX_PATH], dst[RCA_MAX_PATH];
	char *buf = NULL;
	size_t len = 0;
	int rc = -1;

	if (enroll_out_path(src, sizeof(src), dir, from, "", e) == -1 ||
	    enroll_out_path(dst, sizeof(dst), dir, to, "", e) == -1 ||
	    fio_read_all(src, RCA_MAX_PEM_BYTES, &buf, &len, e) == -1 ||
	    fio_write_atomic(dst, buf, len, (mode_t)mode, e) == -1)
		goto out;
	rc = 0;
out:
	fio_secret_free(buf, len);
	return rc;
}

int
enroll_redis_save_prev(const struct enroll_opts *o, struct err *e)
{
	char name[64];

	if (o->redis == NULL)
		return 0;
	for (size_t i = 0; i < NPREV; i++) {
		snprintf(name, sizeof(name), "%s.prev", prev_files[i].name);
		if (copy_file(o->out, prev_files[i].name, name,
		    prev_files[i].mode, e) == -1)
			return -1;
	}
	return 0;
}

/* svc_pull_restore_fn: the NAME.prev files back into place. */
static int
restore_prev(void *arg, struct err *e)
{
	const struct enroll_opts *o = arg;
	char name[64];

	for (size_t i = 0; i < NPREV; i++) {
		snprintf(name, sizeof(name), "%s.prev", prev_files[i].name);
		if (copy_file(o->out, name, prev_files[i].name,
		    prev_files[i].mode, e) == -1)
			return -1;
	}
	return 0;
}

void
enroll_pull_clear(struct enroll_pull *p)
{
	free(p->pending);
	p->pending = NULL;
}

/*
 * The name Redis's certificate is verified against: --redis's host
 * when the certificate names it, else its first DNS name, else host.
 */
static const char *
verify_name(const struct enroll_opts *o, const struct enroll_cert *c)
{
	const struct names *n = c->has_names ? &c->names : &o->names;
	static const enum name_kind kinds[] = { NAME_DNS, NAME_IP };

	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < n->n[kinds[k]]; i++)
			if (strcmp(n->list[kinds[k]][i], o->redis_host) == 0)
				return o->redis_host;
	return n->n[NAME_DNS] > 0 ? n->list[NAME_DNS][0] : o->redis_host;
}

/* The paths pull.c needs, in bufs owned by the caller. */
struct pull_paths {
	char	cert[RCA_MAX_PATH];	/* chain.pem: leaf and chain */
	char	key[RCA_MAX_PATH];
	char	ca[RCA_MAX_PATH];
	char	pcert[RCA_MAX_PATH];	/* chain.pem.prev */
	char	pkey[RCA_MAX_PATH];	/* key.pem.prev */
};

static int
pull_opts(const struct enroll_opts *o, const struct enroll_cert *c,
    struct pull_paths *pp, struct svc_pull_opts *po, struct err *e)
{
	char dir[RCA_MAX_PATH];

	if (realpath(o->out, dir) == NULL) {
		err_set(e, ERR_IO, "%s: cannot resolve", o->out);
		return -1;
	}
	if (enroll_out_path(pp->cert, sizeof(pp->cert), dir,
	    enroll_out_names[OUT_CHAIN], "", e) == -1 ||
	    enroll_out_path(pp->key, sizeof(pp->key), dir,
	    enroll_out_names[OUT_KEY], "", e) == -1 ||
	    enroll_out_path(pp->ca, sizeof(pp->ca), dir, "ca.pem", "",
	    e) == -1 ||
	    enroll_out_path(pp->pcert, sizeof(pp->pcert), dir,
	    enroll_out_names[OUT_CHAIN], ".prev", e) == -1 ||
	    enroll_out_path(pp->pkey, sizeof(pp->pkey), dir,
	    enroll_out_names[OUT_KEY], ".prev", e) == -1)
		return -1;
	memset(po, 0, sizeof(*po));
	po->host = o->redis_host;
	po->port = o->redis_port;
	po->server_name = verify_name(o, c);
	po->user = o->redis_user;
	po->password_file = o->redis_auth_file;
	po->ca_file = pp->ca;
	po->cert_file = pp->cert;
	po->key_file = pp->key;
	po->client_cert = pp->cert;
	po->client_key = pp->key;
	return 0;
}

/* {"step","ok","detail"} of rec. */
static json_t *
steps_json(const struct rotation_rec *rec)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < rec->nsteps; i++)
		if (json_array_append_new(a, json_pack("{s:s, s:b, s:s}",
		    "step", rec->steps[i].step, "ok", rec->steps[i].ok,
		    "detail", rec->steps[i].detail)) == -1) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

/* Set key to s in r, or to null when s is "" (unknown). */
static int
set_serial(json_t *r, const char *key, const char *s, bool null_ok)
{
	if (s[0] == '\0')
		return null_ok ? json_object_set_new(r, key, json_null()) : 0;
	return json_object_set_new(r, key, json_string(s));
}

/*
 * The report's body (new, free()): status "check" when rec is NULL.
 * Serials that are not known ("") are left out (served_serial: null).
 */
static char *
report_body(const struct enroll_opts *o, const char *status,
    const struct rotation_rec *rec, const char *served, const char *role)
{
	char st[RCA_TIME_STR], fi[RCA_TIME_STR];
	json_t *r;
	char *body = NULL;

	r = json_pack("{s:s, s:s, s:s}", "name", o->names.cn,
	    "redis", o->redis, "status", status);
	if (r == NULL || set_serial(r, "served_serial", served, true) == -1)
		goto out;
	if (o->group != NULL &&
	    json_object_set_new(r, "group", json_string(o->group)) == -1)
		goto out;
	if (role[0] != '\0' &&
	    json_object_set_new(r, "role", json_string(role)) == -1)
		goto out;
	if (rec != NULL) {
		tu_format(rec->started_at, st);
		tu_format(rec->finished_at, fi);
		if (set_serial(r, "old_serial", rec->old_serial, false) ==
		    -1 ||
		    set_serial(r, "new_serial", rec->new_serial, false) ==
		    -1 ||
		    json_object_set_new(r, "started_at", json_string(st)) ==
		    -1 ||
		    json_object_set_new(r, "finished_at", json_string(fi)) ==
		    -1 ||
		    json_object_set_new(r, "steps", steps_json(rec)) == -1)
			goto out;
	}
	body = json_dumps(r, JSON_COMPACT);
out:
	json_decref(r);
	return body;
}

/*
 * POST a report.  Returns 0 accepted, 1 refused for good (a 4xx: the
 * CA's answer is logged; sending it again would not help), -1 to retry
 * later (network, 5xx, 429).
 */
static int
send_report(const struct enroll_opts *o, const char *body)
{
	struct err e = { ERR_OK, "" };
	char *resp = NULL;
	size_t len = 0;
	long status = 0;
	int rc = -1;

	if (enroll_post_mtls(o, "/v1/nodes/report", body, &status, &resp,
	    &len, &e) == -1) {
		log_warn("enroll: report to the CA failed: %s; retrying at "
		    "the next wake", e.msg);
		goto out;
	}
	if (status == 200) {
		rc = 0;
		goto out;
	}
	if (status >= 500 || status == 429 || status == 408) {
		log_warn("enroll: the CA answered HTTP %ld to the report; "
		    "retrying at the next wake", status);
		goto out;
	}
	log_error("enroll: the CA refused the report: HTTP %ld: %.*s",
	    status, 200, resp != NULL ? resp : "");
	rc = 1;
out:
	free(resp);
	return rc;
}

/* Send p's pending report; it stays pending only when worth retrying. */
static void
flush_pending(const struct enroll_opts *o, struct enroll_pull *p)
{
	if (p->pending != NULL && send_report(o, p->pending) != -1)
		enroll_pull_clear(p);
}

int
enroll_redis_apply(const struct enroll_opts *o, struct enroll_cert *cert,
    const char *old_serial, int64_t started_at, struct enroll_pull *p,
    struct err *e)
{
	struct pull_paths pp;
	struct svc_pull_opts po;
	struct rotation_rec rec;
	struct enroll_cert back;
	bool have_prev = old_serial[0] != '\0';
	int rc = -1;

	if (o->redis == NULL)
		return 0;
	memset(&rec, 0, sizeof(rec));
	memset(&back, 0, sizeof(back));
	snprintf(rec.node, sizeof(rec.node), "%s", o->names.cn);
	snprintf(rec.old_serial, sizeof(rec.old_serial), "%s", old_serial);
	snprintf(rec.new_serial, sizeof(rec.new_serial), "%s", cert->serial);
	rec.started_at = started_at;
	if (pull_opts(o, cert, &pp, &po, e) == -1)
		return -1;
	if (have_prev) {
		po.client_cert = pp.pcert;
		po.client_key = pp.pkey;
	}
	svc_pull_step(&rec, "write_files", true, "key.pem chain.pem "
	    "cert.pem ca.pem%s", have_prev ? " (*.prev kept)" : "");
	if (svc_pull_load(&po, &rec, restore_prev, (void *)o, e) == 0) {
		log_info("enroll: Redis %s serves %s", o->redis, cert->serial);
		rc = 0;
	} else {
		log_error("enroll: loading %s into Redis %s: %s (%s)",
		    cert->serial, o->redis, e->msg,
		    rotation_status_name(rec.status));
		/* What is on disk now (restored or not) is what we hold. */
		if (enroll_load_state(o->out, &back, e) == 0) {
			enroll_cert_clear(cert);
			*cert = back;
		}
		err_set(e, ERR_NET, "Redis %s did not take serial %s (%s)",
		    o->redis, rec.new_serial, rotation_status_name(rec.status));
	}
	enroll_pull_clear(p);
	p->pending = report_body(o, rotation_status_name(rec.status), &rec,
	    rec.status == ROT_SUCCEEDED ? rec.new_serial :
	    rec.status == ROT_ROLLED_BACK ? rec.old_serial : "", "");
	flush_pending(o, p);
	return rc;
}

void
enroll_redis_checkin(const struct enroll_opts *o,
    const struct enroll_cert *cert, bool ca_changed, struct enroll_pull *p)
{
	char served[RCA_SERIAL_HEX_MAX + 1] = "", role[16] = "";
	struct err e = { ERR_OK, "" };
	struct pull_paths pp;
	struct svc_pull_opts po;
	char *body;

	if (o->redis == NULL || pull_opts(o, cert, &pp, &po, &e) == -1)
		return;
	if (ca_changed && svc_pull_set_ca(&po, &e) == -1)
		log_warn("enroll: Redis %s: CONFIG SET tls-ca-cert-file: %s",
		    o->redis, e.msg);
	else if (ca_changed)
		log_info("enroll: Redis %s loaded the new trust bundle",
		    o->redis);
	flush_pending(o, p);
	if (svc_pull_served(&po, served, role, &e) == -1)
		log_warn("enroll: Redis %s: %s", o->redis, e.msg);
	if ((body = report_body(o, "check", NULL, served, role)) == NULL)
		return;
	(void)send_report(o, body);
	free(body);
}

void
enroll_redis_start(const struct enroll_opts *o, struct enroll_cert *cert,
    struct enroll_pull *p)
{
	char served[RCA_SERIAL_HEX_MAX + 1] = "";
	struct err e = { ERR_OK, "" };
	struct pull_paths pp;
	struct svc_pull_opts po;

	if (o->redis == NULL || pull_opts(o, cert, &pp, &po, &e) == -1)
		return;
	if (svc_pull_served(&po, served, NULL, &e) == 0 &&
	    strcmp(served, cert->serial) == 0)
		return;
	log_info("enroll: Redis %s serves %s, not %s: loading it", o->redis,
	    served[0] != '\0' ? served : "nothing known", cert->serial);
	if (enroll_redis_apply(o, cert, "", tu_now(), p, &e) == -1)
		log_error("enroll: %s", e.msg);
}
