/*
 * Regression tests of SPEC section 8 "Node files" against real
 * redis-servers: the CA key theft through a node's cert_dir (finding 1:
 * a thread swaps node files with links to ca.key during 30 rotations),
 * node paths that reach the data folder or /etc/shadow (finding 2),
 * links, FIFOs, devices and hard links in cert_dir, a cert_dir swapped
 * for a link after registration, and the owner and modes of *.prev.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "fileio.h"
#include "redisfx.h"

#define CONF_MAX	4096
#define ROTATIONS	30

/* dir/name into out, which must hold it. */
static void
pj(char *out, size_t n, const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);

	assert_true(dl + 1 + nl < n);
	memcpy(out, dir, dl);
	out[dl] = '/';
	memcpy(out + dl + 1, name, nl + 1);
}

/* Start n with the usual config and register it. */
static void
node_up(struct rfx *r, struct rfx_node *n, const char *name)
{
	rfx_node_up(r, n, name, NULL);
	rfx_register(r, n, NULL, NULL, NULL);
}

/* Everything about a file that must not change. */
struct snap {
	char		*bytes;
	struct stat	 st;
};

static void
snap_take(const char *path, struct snap *s)
{
	assert_int_equal(lstat(path, &s->st), 0);
	s->bytes = rfx_read(path);
	assert_non_null(s->bytes);
}

static void
snap_same(const char *path, struct snap *s)
{
	struct stat	 st;
	char		*now;

	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_ino, s->st.st_ino);
	assert_int_equal(st.st_mode, s->st.st_mode);
	assert_int_equal(st.st_uid, s->st.st_uid);
	assert_int_equal(st.st_gid, s->st.st_gid);
	assert_int_equal(st.st_nlink, s->st.st_nlink);
	assert_int_equal(st.st_size, s->st.st_size);
	assert_true(st.st_mtim.tv_sec == s->st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == s->st.st_mtim.tv_nsec);
	now = rfx_read(path);
	assert_non_null(now);
	assert_string_equal(now, s->bytes);
	free(now);
}

static void
snap_free(struct snap *s)
{
	free(s->bytes);
	s->bytes = NULL;
}

/*
 * The base64 body of a PEM secret (its first full line after the
 * header): what would show up in any copy of it.
 */
static void
pem_marker(const char *pem, char *out, size_t outsz)
{
	const char	*p = strchr(pem, '\n');
	size_t		 n;

	assert_non_null(p);
	p++;
	n = strcspn(p, "\n");
	assert_true(n > 16 && n < outsz);
	memcpy(out, p, n);
	out[n] = '\0';
}

/*
 * Fail when any regular file in dir holds marker.  Files are opened
 * without following links, and the file with inode skip (0: none) is
 * passed over (a link or hard link the attacker made is theirs, not a
 * copy); returns how many files were read.
 */
static int
scan_dir(const char *dir, const char *marker, ino_t skip)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	int		 n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		struct stat	 st;
		char		 buf[65536];
		ssize_t		 len;
		int		 fd;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_CLOEXEC);
		if (fd == -1)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_ino != skip) {
			len = read(fd, buf, sizeof(buf) - 1);
			if (len > 0) {
				buf[len] = '\0';
				if (strstr(buf, marker) != NULL)
					fail_msg("%s/%s holds the secret",
					    dir, de->d_name);
			}
			n++;
		}
		close(fd);
	}
	closedir(d);
	return n;
}

/* ------------------------------------------------------------------ */
/* (a) The race of finding 1                                           */

struct swapper {
	const char	*dir;		/* cert_dir */
	const char	*target;	/* ca.key */
	const char	*ca_pem;	/* what ca.crt normally holds */
	atomic_int	 stop;
	unsigned long	 swaps;
};

/* name -> a link to target, made beside it and renamed over "lnk". */
static void
fresh_link(int dfd, const char *target, const char *name)
{
	(void)unlinkat(dfd, "lnk.tmp", 0);
	if (symlinkat(target, dfd, "lnk.tmp") == 0)
		(void)renameat(dfd, "lnk.tmp", dfd, name);
}

/*
 * As fast as it can: exchange redis.key and redis.crt with links to
 * ca.key (RENAME_EXCHANGE: each name is a file, then a link, then a
 * file again); every 64 rounds make the links again where a rotation
 * replaced them, and plainly replace ca.crt by a link and back.
 */
static void *
swap_loop(void *p)
{
	struct swapper	*sw = p;
	struct stat	 st;
	int		 dfd;

	dfd = open(sw->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1)
		return NULL;
	fresh_link(dfd, sw->target, "evil.crt");
	fresh_link(dfd, sw->target, "evil.key");
	for (unsigned long i = 0; !atomic_load(&sw->stop); i++) {
		(void)renameat2(dfd, "redis.key", dfd, "evil.key",
		    RENAME_EXCHANGE);
		(void)renameat2(dfd, "redis.crt", dfd, "evil.crt",
		    RENAME_EXCHANGE);
		sw->swaps++;
		if ((i & 63) != 0)
			continue;
		if (fstatat(dfd, "evil.crt", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISLNK(st.st_mode) && fstatat(dfd, "redis.crt", &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && !S_ISLNK(st.st_mode))
			fresh_link(dfd, sw->target, "evil.crt");
		if (fstatat(dfd, "evil.key", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISLNK(st.st_mode) && fstatat(dfd, "redis.key", &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && !S_ISLNK(st.st_mode))
			fresh_link(dfd, sw->target, "evil.key");
		/* Plain replace: ca.crt becomes a link, then a file again. */
		fresh_link(dfd, sw->target, "ca.crt");
		{
			int fd = openat(dfd, "reg.tmp", O_WRONLY | O_CREAT |
			    O_TRUNC | O_CLOEXEC, 0644);

			if (fd >= 0) {
				(void)!write(fd, sw->ca_pem,
				    strlen(sw->ca_pem));
				close(fd);
				(void)renameat(dfd, "reg.tmp", dfd, "ca.crt");
			}
		}
	}
	close(dfd);
	return NULL;
}

static void
test_race_symlink_swap(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct swapper		 sw;
	struct snap		 key;
	struct rotation_rec	 rec;
	struct err		 e;
	pthread_t		 t;
	char			 marker[128], *ca_pem;
	int			 ok = 0, refused = 0, other = 0;

	node_up(r, &n, "raced");
	snap_take(r->f->key, &key);
	pem_marker(key.bytes, marker, sizeof(marker));
	ca_pem = rfx_read_in(&n, "ca.crt");
	assert_non_null(ca_pem);

	memset(&sw, 0, sizeof(sw));
	sw.dir = n.cert_dir;
	sw.target = r->f->key;
	sw.ca_pem = ca_pem;
	atomic_init(&sw.stop, 0);
	assert_int_equal(pthread_create(&t, NULL, swap_loop, &sw), 0);
	for (int i = 0; i < ROTATIONS; i++) {
		int w;

		err_clear(&e);
		(void)svc_rotate(r->f->svc, &r->f->admin, n.name, &rec, &e);
		if (rec.status == ROT_SUCCEEDED)
			ok++;
		else if ((w = rfx_step_at(&rec, "write_files")) >= 0 &&
		    !rec.steps[w].ok &&
		    strstr(rec.steps[w].detail, "symbolic link") != NULL)
			refused++;
		else
			other++;
		/* After every rotation: no copy of the key in cert_dir. */
		(void)scan_dir(n.cert_dir, marker, 0);
	}
	atomic_store(&sw.stop, 1);
	assert_int_equal(pthread_join(t, NULL), 0);
	(void)scan_dir(n.cert_dir, marker, 0);
	print_message("%d rotations: %d succeeded, %d refused a link, %d "
	    "failed otherwise; %lu exchanges\n", ROTATIONS, ok, refused,
	    other, sw.swaps);
	assert_true(sw.swaps > 0);
	/* The swaps did meet the rotations. */
	assert_true(refused + other > 0);
	snap_same(r->f->key, &key);
	snap_free(&key);
	free(ca_pem);
	rfx_stop(&n);
}

/* ------------------------------------------------------------------ */
/* (b), (c) Registration                                               */

static void
req_init(struct svc_node_req *q, struct names *sans, const char *name,
    const char *dir)
{
	struct err e;

	err_clear(&e);
	memset(sans, 0, sizeof(*sans));
	assert_int_equal(names_add(sans, NAME_IP, "127.0.0.1", &e), 0);
	memset(q, 0, sizeof(*q));
	q->name = name;
	q->host = "127.0.0.1";
	q->port = 6380;
	q->sans = sans;
	q->cert_dir = dir;
}

/* Expect ERR_INVALID_REQUEST naming field; msg (may be NULL) gets it. */
static void
refused_req(struct rfx *r, const struct svc_node_req *q, const char *field,
    char *msg, size_t msgsz)
{
	struct svc_node_view	v;
	struct err		e;

	err_clear(&e);
	if (svc_node_create(r->f->svc, &r->f->admin, q, &v, &e) != -1)
		fail_msg("cert_dir %s / %s accepted", q->cert_dir,
		    q->auth_password_file != NULL ? q->auth_password_file :
		    "-");
	assert_int_equal(e.code, ERR_INVALID_REQUEST);
	if (strstr(e.msg, field) == NULL)
		fail_msg("\"%s\" does not name %s", e.msg, field);
	if (msg != NULL)
		snprintf(msg, msgsz, "%s", e.msg);
}

/* Entries of a folder, without "." and "..". */
static int
entries(const char *dir)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	int		 n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static size_t
node_count(struct rfx *r)
{
	struct svc_node_view	*list = NULL;
	char			 next[RCA_MAX_NODE_NAME + 1];
	size_t			 n = 0;
	struct err		 e;

	err_clear(&e);
	assert_int_equal(svc_node_list(r->f->svc, NULL, 100, &list, &n, next,
	    &e), 0);
	svc_node_list_free(list, n);
	return n;
}

/* Reopen the service with allowed_dirs = { a, b }. */
static void
allow(struct rfx *r, const char *a, const char *b)
{
	static const char *dirs[2];

	dirs[0] = a;
	dirs[1] = b;
	r->f->cfg.node_allowed_dirs = dirs;
	r->f->cfg.nnode_allowed_dirs = b != NULL ? 2 : 1;
	fx_reopen(r->f);
}

static void
test_register_paths_refused(void **state)
{
	struct rfx		*r = *state;
	struct svc_node_req	 q;
	struct names		 sans;
	struct snap		 key;
	char			 link[RFX_PATH], outside[RFX_PATH];
	char			 missing[RFX_PATH], m1[ERR_MSG_MAX];
	char			 m2[ERR_MSG_MAX], m3[ERR_MSG_MAX];
	int			 before;

	/* Even with all of /tmp allowed, the data folder is not. */
	allow(r, "/tmp", NULL);
	snap_take(r->f->key, &key);
	before = entries(r->f->dir);

	req_init(&q, &sans, "thief", r->f->dir);
	refused_req(r, &q, "cert_dir", m1, sizeof(m1));
	q.key_file = "ca.key";
	refused_req(r, &q, "cert_dir", NULL, 0);
	/* A link into the data folder resolves into it. */
	pj(link, sizeof(link), r->dir, "to-data");
	assert_int_equal(symlink(r->f->dir, link), 0);
	q.cert_dir = link;
	refused_req(r, &q, "cert_dir", NULL, 0);
	/* Bad file names, in an allowed folder. */
	q.cert_dir = r->dir;
	q.key_file = "../x";
	refused_req(r, &q, "key_file", NULL, 0);
	q.key_file = "/etc/passwd";
	refused_req(r, &q, "key_file", NULL, 0);
	q.key_file = NULL;
	q.cert_file = "..";
	refused_req(r, &q, "cert_file", NULL, 0);
	q.cert_file = NULL;
	q.ca_file = "/tmp/x";
	refused_req(r, &q, "ca_file", NULL, 0);
	q.ca_file = NULL;

	/* Outside allowed_dirs, missing or not: the same message. */
	allow(r, r->dir, NULL);
	snprintf(outside, sizeof(outside), "%s", "/var/tmp");
	q.cert_dir = outside;
	refused_req(r, &q, "cert_dir", m2, sizeof(m2));
	pj(missing, sizeof(missing), r->dir, "no-such-dir");
	q.cert_dir = missing;
	refused_req(r, &q, "cert_dir", m3, sizeof(m3));
	assert_string_equal(m1, m2);
	assert_string_equal(m2, m3);
	assert_null(strstr(m1, r->f->dir));

	/* No allowed_dirs at all: nothing can be registered. */
	r->f->cfg.node_allowed_dirs = NULL;
	r->f->cfg.nnode_allowed_dirs = 0;
	fx_reopen(r->f);
	q.cert_dir = r->dir;
	refused_req(r, &q, "cert_dir", NULL, 0);

	/* Nothing stored, nothing written. */
	assert_int_equal(node_count(r), 0);
	assert_int_equal(entries(r->f->dir), before);
	snap_same(r->f->key, &key);
	snap_free(&key);
	assert_true(fx_audit_has(r->f, "node.create", "denied", "thief",
	    "cert_dir"));
	names_clear(&sans);
}

static void
test_password_file_refused(void **state)
{
	struct rfx		*r = *state;
	struct svc_node_req	 q;
	struct names		 sans;
	struct svc_node_view	 v;
	struct err		 e;
	char			 dir[RFX_PATH], pw[RFX_PATH];
	char			 hard[RFX_PATH];
	char			 msg[6][ERR_MSG_MAX];
	const char		*files[6];

	err_clear(&e);
	pj(dir, sizeof(dir), r->dir, "certs");
	assert_int_equal(mkdir(dir, 0755), 0);
	pj(pw, sizeof(pw), r->dir, "pw");
	assert_int_equal(fio_write_atomic(pw, "s3cret\n", 7, 0644, &e), 0);
	pj(hard, sizeof(hard), r->dir, "shadow-link");
	if (link("/etc/shadow", hard) == -1)
		pj(hard, sizeof(hard), r->dir, "no-hard-link");

	files[0] = "/etc/shadow";		/* outside allowed_dirs */
	files[1] = "/etc/no-such-password";	/* outside, missing */
	files[2] = pw;				/* world-readable */
	files[3] = "/tmp/rca-none/pw";		/* missing */
	files[4] = hard;			/* a hard link */
	files[5] = r->f->key;			/* the CA key */
	req_init(&q, &sans, "authed", dir);
	q.auth_username = "app";
	for (int i = 0; i < 6; i++) {
		q.auth_password_file = files[i];
		refused_req(r, &q, "auth.password_file", msg[i],
		    sizeof(msg[i]));
		/* The same words whatever the reason: no oracle. */
		assert_string_equal(msg[i], msg[0]);
		assert_null(strstr(msg[i], "s3cret"));
	}
	assert_int_equal(node_count(r), 0);

	/* Not readable by others: accepted, stored resolved. */
	assert_int_equal(chmod(pw, 0640), 0);
	q.auth_password_file = pw;
	assert_int_equal(svc_node_create(r->f->svc, &r->f->admin, &q, &v,
	    &e), 0);
	assert_string_equal(v.node.auth_password_file, pw);
	svc_node_view_clear(&v);
	names_clear(&sans);
	(void)unlink(hard);
}

/* ------------------------------------------------------------------ */
/* (d) Links, FIFOs, devices and hard links in cert_dir                */

static void
test_special_files_roll_back(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct rotation_rec	 rec;
	struct snap		 secret, key;
	struct err		 e;
	char			 crt[RFX_PATH], sec[RFX_PATH], marker[64];
	char			 keymark[128];
	char			 served[RCA_SERIAL_HEX_MAX + 1], *good;
	static const struct {
		const char *kind, *says;
	} cases[] = {
		{ "symlink", "symbolic link" },
		{ "fifo", "FIFO" },
		{ "device", "device" },
		{ "hardlink", "links" },
		{ "cakey", "symbolic link" },
	};

	err_clear(&e);
	node_up(r, &n, "special");
	good = rfx_read_in(&n, "redis.crt");
	assert_non_null(good);
	pj(crt, sizeof(crt), n.cert_dir, "redis.crt");
	/* A secret outside cert_dir, on the same file system. */
	pj(sec, sizeof(sec), r->dir, "secret.txt");
	assert_int_equal(fio_write_atomic(sec,
	    "-----BEGIN SECRET-----\nTOPSECRETTOPSECRETTOPSECRET\n", 51, 0600,
	    &e), 0);
	snprintf(marker, sizeof(marker), "TOPSECRETTOPSECRETTOPSECRET");
	snap_take(sec, &secret);
	snap_take(r->f->key, &key);
	pem_marker(key.bytes, keymark, sizeof(keymark));

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const char	*kind = cases[c].kind;
		int		 w, rc;

		assert_int_equal(unlink(crt), 0);
		if (strcmp(kind, "symlink") == 0)
			assert_int_equal(symlink(sec, crt), 0);
		else if (strcmp(kind, "cakey") == 0)
			assert_int_equal(symlink(r->f->key, crt), 0);
		else if (strcmp(kind, "fifo") == 0)
			assert_int_equal(mkfifo(crt, 0644), 0);
		else if (strcmp(kind, "hardlink") == 0)
			assert_int_equal(link(sec, crt), 0);
		else if (mknod(crt, S_IFCHR | 0644, makedev(1, 3)) == -1) {
			print_message("mknod: %s: device case skipped\n",
			    strerror(errno));
			assert_int_equal(fio_write_atomic(crt, good,
			    strlen(good), 0444, &e), 0);
			continue;
		}
		err_clear(&e);
		rc = svc_rotate(r->f->svc, &r->f->admin, n.name, &rec, &e);
		rfx_dump(&rec);
		assert_int_equal(rc, -1);
		assert_int_equal(rec.status, ROT_ROLLED_BACK);
		assert_true((w = rfx_step_at(&rec, "write_files")) >= 0);
		assert_false(rec.steps[w].ok);
		if (strstr(rec.steps[w].detail, cases[c].says) == NULL)
			fail_msg("%s: \"%s\" does not say %s", kind,
			    rec.steps[w].detail, cases[c].says);
		assert_int_equal(rfx_step_at(&rec, "config_set"), -1);
		/* The node still serves its certificate. */
		rfx_served(r, &n, served);
		assert_string_equal(served, n.serial);
		/* Nothing outside cert_dir was read into it or changed. */
		(void)scan_dir(n.cert_dir, marker, secret.st.st_ino);
		(void)scan_dir(n.cert_dir, keymark, 0);
		snap_same(r->f->key, &key);
		/* The special file itself was left alone. */
		assert_null(rfx_read_in(&n, "redis.crt.prev"));
		assert_int_equal(unlink(crt), 0);
		snap_same(sec, &secret);
		assert_int_equal(fio_write_atomic(crt, good, strlen(good),
		    0444, &e), 0);
	}
	snap_free(&secret);
	snap_free(&key);
	free(good);
	rfx_stop(&n);
}

/* A cert_dir with a component swapped for a link after registration. */
static void
test_cert_dir_swapped(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct rotation_rec	 rec;
	struct err		 e;
	char			 conf[CONF_MAX], parent[RFX_PATH];
	char			 real[RFX_PATH], away[RFX_PATH];
	char			 awaycerts[RFX_PATH];
	char			 served[RCA_SERIAL_HEX_MAX + 1];
	int			 w;

	err_clear(&e);
	/* cert_dir = <dir>/p/swapped, a folder moved there from init's. */
	rfx_node_init(r, &n, "swapped");
	pj(parent, sizeof(parent), r->dir, "p");
	assert_int_equal(mkdir(parent, 0755), 0);
	pj(real, sizeof(real), parent, "swapped");
	assert_int_equal(rename(n.cert_dir, real), 0);
	snprintf(n.cert_dir, sizeof(n.cert_dir), "%s", real);
	rfx_node_conf(&n, NULL, conf, sizeof(conf));
	rfx_start(&n, conf);
	rfx_register(r, &n, NULL, NULL, NULL);

	/* A folder outside allowed_dirs with a "swapped" inside. */
	snprintf(away, sizeof(away), "/tmp/rca-away-XXXXXX");
	assert_non_null(mkdtemp(away));
	pj(awaycerts, sizeof(awaycerts), away, "swapped");
	assert_int_equal(mkdir(awaycerts, 0755), 0);
	/* p -> away: cert_dir now resolves outside. */
	pj(conf, sizeof(conf), r->dir, "p.real");
	assert_int_equal(rename(parent, conf), 0);
	assert_int_equal(symlink(away, parent), 0);

	assert_int_equal(svc_rotate(r->f->svc, &r->f->admin, n.name, &rec,
	    &e), -1);
	rfx_dump(&rec);
	assert_int_equal(rec.status, ROT_ROLLED_BACK);
	assert_true((w = rfx_step_at(&rec, "write_files")) >= 0);
	assert_false(rec.steps[w].ok);
	assert_non_null(strstr(rec.steps[w].detail, "cert_dir"));
	/* Nothing was written outside. */
	assert_int_equal(entries(awaycerts), 0);
	rfx_served(r, &n, served);
	assert_string_equal(served, n.serial);

	/* The link removed and the folder back: rotations work again. */
	assert_int_equal(unlink(parent), 0);
	assert_int_equal(rename(conf, parent), 0);
	err_clear(&e);
	if (svc_rotate(r->f->svc, &r->f->admin, n.name, &rec, &e) == -1) {
		rfx_dump(&rec);
		fail_msg("rotate: %s", e.msg);
	}
	rmdir(awaycerts);
	rmdir(away);
	rfx_stop(&n);
}

/* ------------------------------------------------------------------ */
/* (e) Backups with the service's own owner and modes                  */

static void
test_prev_modes_and_owner(void **state)
{
	struct rfx		*r = *state;
	struct rfx_node		 n;
	struct rotation_rec	 rec;
	struct stat		 st, dir;
	struct err		 e;
	char			 p[RFX_PATH];
	static const char *const names[3] = { "redis.key", "redis.crt",
	    "ca.crt" };
	static const mode_t modes[3] = { 0400, 0444, 0444 };
	const uid_t		 attacker = 65534;

	if (geteuid() != 0)
		skip();
	err_clear(&e);
	node_up(r, &n, "owned");
	/* The node's folder and files belong to "the redis user". */
	assert_int_equal(chown(n.cert_dir, attacker, attacker), 0);
	for (int i = 0; i < 3; i++) {
		pj(p, sizeof(p), n.cert_dir, names[i]);
		assert_int_equal(chown(p, attacker, attacker), 0);
		assert_int_equal(chmod(p, 0666), 0);
	}
	if (svc_rotate(r->f->svc, &r->f->admin, n.name, &rec, &e) == -1) {
		rfx_dump(&rec);
		fail_msg("rotate: %s", e.msg);
	}
	assert_int_equal(stat(n.cert_dir, &dir), 0);
	for (int i = 0; i < 3; i++) {
		/* *.prev: ours, with our modes, never the old file's. */
		pj(p, sizeof(p), n.cert_dir, names[i]);
		strcat(p, ".prev");
		assert_int_equal(lstat(p, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 07777, modes[i]);
		assert_int_equal(st.st_uid, geteuid());
		assert_int_equal(st.st_gid, getegid());
		/* The live files: cert_dir's owner, our modes. */
		pj(p, sizeof(p), n.cert_dir, names[i]);
		assert_int_equal(lstat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, modes[i]);
		assert_int_equal(st.st_uid, dir.st_uid);
		assert_int_equal(st.st_gid, dir.st_gid);
	}
	assert_int_equal(chown(n.cert_dir, 0, 0), 0);
	rfx_stop(&n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_race_symlink_swap,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_register_paths_refused,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_password_file_refused,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_special_files_roll_back,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_cert_dir_swapped,
		    rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(test_prev_modes_and_owner,
		    rfx_setup, rfx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
