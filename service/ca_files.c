/*
 * The files of every CA in the bundle (design, "Files"): ca.key/ca.crt
 * for the current CA, ca-next.* for the prepared one, ca-prev.* for the
 * retired one, roots.pem for a current CA that is not self-signed.  The
 * database is authoritative: the reconcile step, under flock of
 * <key dir>/ca.lock, matches each key file to its row by its public key
 * (never by its name alone), renames it to the name its row's state
 * implies, rewrites the certificates from the rows and removes the
 * files of a CA that left the bundle.  Every file is reached through a
 * folder descriptor without following links (common/safefile).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca_life_int.h"
#include "fileio.h"
#include "log.h"
#include "safefile.h"

/* A key file being moved to its slot carries this suffix meanwhile. */
#define CF_MOVING	".moving"
/* A key that matches no CA, moved out of a slot another key needs. */
#define CF_ORPHAN	".orphan"

/* A certificate file is a few PEM blocks. */
#define CF_CRT_MAX	(256 * 1024)

/* The folder of path, resolved (new), or NULL. */
static char *
dir_of(const char *path)
{
	char	*d, *slash, *r;

	if ((d = strdup(path)) == NULL)
		return NULL;
	if ((slash = strrchr(d, '/')) == NULL)
		snprintf(d, strlen(d) + 1, ".");
	else if (slash == d)
		slash[1] = '\0';
	else
		*slash = '\0';
	r = realpath(d, NULL);
	free(d);
	return r;
}

/* The last component of path into out; false when it does not fit. */
static bool
base_of(const char *path, char out[NAME_MAX + 1])
{
	const char *slash = strrchr(path, '/');
	const char *b = slash != NULL ? slash + 1 : path;

	return snprintf(out, NAME_MAX + 1, "%s", b) < NAME_MAX + 1 &&
	    sf_name_ok(out);
}

static bool
dup_to(char **dst, const char *src)
{
	if (src == NULL || src[0] == '\0')
		return true;
	return (*dst = strdup(src)) != NULL;
}

int
svc_life_init(struct svc *s, const struct svc_config *cfg, struct err *e)
{
	struct svc_life	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	s->life = l;
	atomic_init(&l->api_gen, 0);
	atomic_init(&l->seen_gen, 0);
	atomic_init(&l->seen_valid, false);
	if (pthread_mutex_init(&l->mu, NULL) != 0) {
		free(l);
		s->life = NULL;
		err_set(e, ERR_INTERNAL, "cannot create a mutex");
		return -1;
	}
	if ((l->key_dir = dir_of(cfg->ca_key)) == NULL ||
	    (l->cert_dir = dir_of(cfg->ca_cert)) == NULL ||
	    !base_of(cfg->ca_key, l->key_name[CF_SLOT_CUR]) ||
	    !base_of(cfg->ca_cert, l->crt_name[CF_SLOT_CUR])) {
		err_set(e, ERR_CONFIG, "ca.cert and ca.key must be files in "
		    "existing folders");
		return -1;
	}
	snprintf(l->key_name[CF_SLOT_NEXT], NAME_MAX + 1, "%s", CF_NEXT_KEY);
	snprintf(l->crt_name[CF_SLOT_NEXT], NAME_MAX + 1, "%s", CF_NEXT_CRT);
	snprintf(l->key_name[CF_SLOT_PREV], NAME_MAX + 1, "%s", CF_PREV_KEY);
	snprintf(l->crt_name[CF_SLOT_PREV], NAME_MAX + 1, "%s", CF_PREV_CRT);
	if (!dup_to(&l->pass_file, cfg->ca_key_passphrase_file) ||
	    !dup_to(&l->api_cert, cfg->api_cert) ||
	    !dup_to(&l->api_key, cfg->api_key)) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	if (l->api_cert != NULL && (l->api_key == NULL ||
	    (l->api_dir = dir_of(l->api_cert)) == NULL)) {
		err_set(e, ERR_CONFIG, "api_tls: the certificate's folder "
		    "does not exist, or no key is configured");
		return -1;
	}
	return 0;
}

void
svc_life_fini(struct svc *s)
{
	struct svc_life *l;

	if (s == NULL || (l = s->life) == NULL)
		return;
	free(l->key_dir);
	free(l->cert_dir);
	free(l->pass_file);
	free(l->api_cert);
	free(l->api_key);
	free(l->api_dir);
	pthread_mutex_destroy(&l->mu);
	free(l);
	s->life = NULL;
}

int
cf_lock(struct svc *s, struct cf_lock *l, struct err *e)
{
	struct stat	st;

	l->kdir = l->cdir = l->fd = -1;
	if ((l->kdir = sf_open_dir(s->life->key_dir, NULL, e)) == -1 ||
	    (l->cdir = sf_open_dir(s->life->cert_dir, NULL, e)) == -1)
		goto fail;
	l->fd = openat(l->kdir, CF_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC | O_NOCTTY, 0600);
	if (l->fd == -1 || fstat(l->fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(e, ERR_IO, "%s/%s: %s", s->life->key_dir, CF_LOCK,
		    errno == ELOOP ? "is a symbolic link" : "not a regular "
		    "file");
		goto fail;
	}
	while (flock(l->fd, LOCK_EX) == -1)
		if (errno != EINTR) {
			err_set(e, ERR_IO, "%s/%s: flock: %s",
			    s->life->key_dir, CF_LOCK, strerror(errno));
			goto fail;
		}
	return 0;
fail:
	cf_unlock(l);
	return -1;
}

void
cf_unlock(struct cf_lock *l)
{
	if (l->fd >= 0)
		close(l->fd);	/* releases the flock */
	if (l->kdir >= 0)
		close(l->kdir);
	if (l->cdir >= 0)
		close(l->cdir);
	l->kdir = l->cdir = l->fd = -1;
}

int
cf_key_path(struct svc *s, enum cf_slot slot, char *out, struct err *e)
{
	return fio_path_join(out, RCA_MAX_PATH, s->life->key_dir,
	    s->life->key_name[slot], e);
}

int
cf_key_exists(struct svc *s, enum cf_slot slot)
{
	struct err	e;
	int		dfd, fd;

	err_clear(&e);
	if ((dfd = sf_open_dir(s->life->key_dir, NULL, &e)) == -1)
		return -1;
	fd = sf_open_at(dfd, s->life->key_name[slot], NULL, NULL, &e);
	close(dfd);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return e.code == ERR_NOT_FOUND ? 0 : -1;
}

enum cf_slot
cf_slot_of(enum ca_state st)
{
	switch (st) {
	case CA_STATE_CURRENT:
		return CF_SLOT_CUR;
	case CA_STATE_PENDING:
	case CA_STATE_NEXT:
		return CF_SLOT_NEXT;
	case CA_STATE_RETIRED:
		return CF_SLOT_PREV;
	default:
		return CF_SLOT__MAX;
	}
}

/* unlinkat name in dirfd; a missing file is fine.  false on error. */
static bool
remove_at(int dirfd, const char *dir, const char *name)
{
	if (unlinkat(dirfd, name, 0) == -1 && errno != ENOENT) {
		log_error("%s/%s: cannot remove it: %s", dir, name,
		    strerror(errno));
		return false;
	}
	return true;
}

int
cf_next_aside(struct svc *s, struct cf_lock *l)
{
	if (renameat(l->kdir, CF_NEXT_KEY, l->kdir, CF_NEXT_KEY CF_ORPHAN) ==
	    -1)
		return errno == ENOENT ? 0 : -1;
	log_warn("%s/%s belonged to no CA: kept as %s%s", s->life->key_dir,
	    CF_NEXT_KEY, CF_NEXT_KEY, CF_ORPHAN);
	return 0;
}

void
cf_remove_next(struct cf_lock *l)
{
	(void)unlinkat(l->kdir, CF_NEXT_KEY, 0);
	(void)unlinkat(l->cdir, CF_NEXT_CRT, 0);
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */

/*
 * Is there a regular file name in the key folder?  1 yes, 0 no, -1 it
 * is something else (a link, a folder: logged).
 */
static int
key_present(struct svc *s, struct cf_lock *l, const char *name)
{
	struct err	e;
	int		fd;

	err_clear(&e);
	if ((fd = sf_open_at(l->kdir, name, NULL, NULL, &e)) >= 0) {
		close(fd);
		return 1;
	}
	if (e.code == ERR_NOT_FOUND)
		return 0;
	log_error("%s/%s: %s", s->life->key_dir, name, e.msg);
	return -1;
}

/*
 * The row the key file name belongs to (an index into rows), matched by
 * the SHA-256 of its public key; -1 when it matches no row; -2 when it
 * does not load (logged: a key that cannot be read is never moved or
 * deleted).
 */
static int
key_owner(struct svc *s, const char *name, const struct ca_rec *rows,
    size_t n)
{
	struct err	e;
	char		path[RCA_MAX_PATH], spki[RCA_SHA256_HEX + 1];

	err_clear(&e);
	if (fio_path_join(path, sizeof(path), s->life->key_dir, name,
	    &e) == -1 || ca_key_file_spki_sha256(path, s->life->pass_file,
	    spki, &e) == -1) {
		log_warn("%s: %s: left as it is", path, e.msg);
		return -2;
	}
	for (size_t i = 0; i < n; i++)
		if (cf_slot_of(rows[i].state) != CF_SLOT__MAX &&
		    strcmp(rows[i].spki_sha256, spki) == 0)
			return (int)i;
	return -1;
}

/* The key files found: where each is and whose it is. */
struct cf_found {
	char	name[NAME_MAX + 1];
	int	owner;		/* row index, -1 none */
	enum cf_slot want;	/* its owner's slot */
};

/*
 * Look at the three slots and their ".moving" names (a reconcile that
 * stopped halfway).  Returns how many key files were found (at most
 * 2 * CF_SLOT__MAX), or -1 when one is not a regular file.
 */
static int
keys_scan(struct svc *s, struct cf_lock *l, const struct ca_rec *rows,
    size_t n, struct cf_found *f)
{
	char	name[NAME_MAX + 1];
	int	k = 0, p;

	for (int slot = 0; slot < CF_SLOT__MAX; slot++)
		for (int mv = 0; mv < 2; mv++) {
			if (snprintf(name, sizeof(name), "%s%s",
			    s->life->key_name[slot], mv ? CF_MOVING : "") >=
			    (int)sizeof(name))
				continue;
			if ((p = key_present(s, l, name)) == -1)
				return -1;
			if (p == 0)
				continue;
			memcpy(f[k].name, name, sizeof(name));
			if ((f[k].owner = key_owner(s, name, rows, n)) == -2)
				continue;
			f[k].want = f[k].owner >= 0 ?
			    cf_slot_of(rows[f[k].owner].state) : CF_SLOT__MAX;
			if (f[k].owner < 0)
				f[k].want = mv ? CF_SLOT__MAX :
				    (enum cf_slot)slot;
			k++;
		}
	return k;
}

/* rename within the key folder, logged; false on error. */
static bool
key_rename(struct svc *s, struct cf_lock *l, const char *from,
    const char *to)
{
	if (renameat(l->kdir, from, l->kdir, to) == -1) {
		log_error("%s: renaming %s to %s: %s", s->life->key_dir, from,
		    to, strerror(errno));
		return false;
	}
	log_info("%s: %s renamed to %s", s->life->key_dir, from, to);
	return true;
}

/*
 * Move a key that matches no CA out of the way: the retired CA's name
 * held the key of a CA that has left the bundle (deleted: design,
 * "Files"); anywhere else it is kept as <name>.orphan for the operator.
 */
static bool
key_drop(struct svc *s, struct cf_lock *l, const struct cf_found *f)
{
	char aside[NAME_MAX + 1];

	if (strcmp(f->name, CF_PREV_KEY) == 0 ||
	    strcmp(f->name, CF_PREV_KEY CF_MOVING) == 0) {
		if (!remove_at(l->kdir, s->life->key_dir, f->name))
			return false;
		log_info("%s/%s: deleted: its CA has left the bundle",
		    s->life->key_dir, f->name);
		return true;
	}
	if (snprintf(aside, sizeof(aside), "%s%s", f->name, CF_ORPHAN) >=
	    (int)sizeof(aside))
		return false;
	log_warn("%s/%s matches no CA in the bundle: kept as %s",
	    s->life->key_dir, f->name, aside);
	return key_rename(s, l, f->name, aside);
}

/*
 * Put every matched key at its slot's name: first each misplaced one
 * to <target>.moving, then a key that matches nothing and sits where a
 * key must go is moved aside, then each .moving to its target.  A crash
 * anywhere leaves names the next reconcile finds again.
 */
static int
keys_place(struct svc *s, struct cf_lock *l, struct cf_found *f, int k)
{
	char	tmp[NAME_MAX + 1];
	bool	ok = true, needed[CF_SLOT__MAX] = { false };

	for (int i = 0; i < k; i++) {
		if (f[i].owner < 0)
			continue;
		needed[f[i].want] = true;
		if (strcmp(f[i].name, s->life->key_name[f[i].want]) == 0)
			continue;
		snprintf(tmp, sizeof(tmp), "%s%s",
		    s->life->key_name[f[i].want], CF_MOVING);
		if (strcmp(f[i].name, tmp) != 0 &&
		    !key_rename(s, l, f[i].name, tmp))
			ok = false;
		snprintf(f[i].name, sizeof(f[i].name), "%s", tmp);
	}
	for (int i = 0; i < k; i++)
		if (f[i].owner < 0 && (f[i].want == CF_SLOT__MAX ||
		    needed[f[i].want] || f[i].want == CF_SLOT_PREV) &&
		    !key_drop(s, l, &f[i]))
			ok = false;
	for (int i = 0; i < k; i++)
		if (f[i].owner >= 0 && strcmp(f[i].name,
		    s->life->key_name[f[i].want]) != 0 &&
		    !key_rename(s, l, f[i].name,
		    s->life->key_name[f[i].want]))
			ok = false;
	return ok ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Certificates                                                        */

/*
 * name in the certificate folder holds exactly pem (0444), or, with pem
 * NULL, does not exist.  Rewritten only when it differs.
 */
static int
crt_put(struct svc *s, struct cf_lock *l, const char *name, const char *pem,
    struct err *e)
{
	struct err	 le;
	char		*old = NULL;
	size_t		 len = 0;
	int		 rc = -1;

	err_clear(&le);
	if (pem == NULL) {
		if (!remove_at(l->cdir, s->life->cert_dir, name)) {
			err_set(e, ERR_IO, "%s/%s: cannot remove it",
			    s->life->cert_dir, name);
			return -1;
		}
		return 0;
	}
	if (sf_read_at(l->cdir, name, NULL, CF_CRT_MAX, &old, &len, NULL,
	    &le) == 0 && len == strlen(pem) && memcmp(old, pem, len) == 0) {
		rc = 0;
		goto out;
	}
	if (sf_replace_at(l->cdir, name, pem, strlen(pem), 0444, (uid_t)-1,
	    (gid_t)-1, e) == -1)
		goto out;
	log_info("%s/%s written", s->life->cert_dir, name);
	rc = 0;
out:
	free(old);
	return rc;
}

/* A self-signed CA is its own anchor: one tier, no roots.pem. */
bool
cf_one_tier(const struct ca_rec *r)
{
	struct ca	*ca;
	struct err	 e;
	bool		 self;

	err_clear(&e);
	if (r->anchors_pem == NULL || r->anchors_pem[0] == '\0' ||
	    strcmp(r->anchors_pem, r->cert_pem) == 0)
		return true;
	if ((ca = ca_load_pem(r->cert_pem, r->anchors_pem, NULL, NULL, NULL,
	    &e)) == NULL)
		return false;
	self = ca_chain_pem(ca)[0] == '\0';
	ca_free(ca);
	return self;
}

static int
certs_put(struct svc *s, struct cf_lock *l, const struct ca_rec *rows,
    size_t n, struct err *e)
{
	const char	*pem[CF_SLOT__MAX] = { NULL };
	const char	*roots = NULL;
	bool		 have_cur = false;

	for (size_t i = 0; i < n; i++) {
		enum cf_slot slot = cf_slot_of(rows[i].state);

		if (slot == CF_SLOT__MAX || rows[i].cert_pem == NULL ||
		    rows[i].cert_pem[0] == '\0')
			continue;
		pem[slot] = rows[i].cert_pem;
		if (slot == CF_SLOT_CUR) {
			have_cur = true;
			if (!cf_one_tier(&rows[i]))
				roots = rows[i].anchors_pem;
		}
	}
	/* Without a current row there is nothing to say about ca.crt. */
	if (!have_cur)
		return 0;
	for (int slot = 0; slot < CF_SLOT__MAX; slot++)
		if (crt_put(s, l, s->life->crt_name[slot], pem[slot],
		    e) == -1)
			return -1;
	return crt_put(s, l, CF_ROOTS, roots, e);
}

int
cf_reconcile_locked(struct svc *s, struct cf_lock *l,
    const struct ca_rec *rows, size_t n, struct err *e)
{
	struct cf_found	f[2 * CF_SLOT__MAX];
	int		k;

	if ((k = keys_scan(s, l, rows, n, f)) == -1) {
		err_set(e, ERR_IO, "%s: a CA key name is not a regular file",
		    s->life->key_dir);
		return -1;
	}
	if (keys_place(s, l, f, k) == -1) {
		err_set(e, ERR_IO, "%s: the CA keys could not all be renamed",
		    s->life->key_dir);
		return -1;
	}
	return certs_put(s, l, rows, n, e);
}

int
svc_ca_files_reconcile(struct svc *s, const struct ca_rec *rows, size_t n,
    struct err *e)
{
	struct cf_lock	l;
	int		rc;

	if (s->life == NULL)
		return 0;
	if (cf_lock(s, &l, e) == -1) {
		log_error("CA files: %s", e->msg);
		return -1;
	}
	if ((rc = cf_reconcile_locked(s, &l, rows, n, e)) == -1)
		log_error("CA files: %s", e->msg);
	cf_unlock(&l);
	return rc;
}
