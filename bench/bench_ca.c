/*
 * The benches' throwaway CA (ca_bench, crl_bench, svc_bench): made,
 * loaded and removed the same way for each.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_ca.h"

int
bench_ca_make(struct bench_ca *b, const char *prefix, const char *cn,
    int days, bool load, struct err *e)
{
	struct ca_create_opts o = { KEY_EC_P256, cn, days, NULL };

	memset(b, 0, sizeof(*b));
	snprintf(b->dir, sizeof(b->dir), "/tmp/%s.XXXXXX", prefix);
	if (mkdtemp(b->dir) == NULL) {
		err_set(e, ERR_IO, "%s: %s", b->dir, strerror(errno));
		b->dir[0] = '\0';
		return -1;
	}
	snprintf(b->crt, sizeof(b->crt), "%s/ca.crt", b->dir);
	snprintf(b->key, sizeof(b->key), "%s/ca.key", b->dir);
	if (ca_create_files(b->crt, b->key, &o, e) == -1)
		return -1;
	if (load && (b->ca = ca_load(b->crt, b->key, NULL,
	    "http://127.0.0.1:8080", e)) == NULL)
		return -1;
	return 0;
}

void
bench_ca_free(struct bench_ca *b)
{
	struct dirent *de;
	char p[512];
	DIR *d;

	ca_free(b->ca);
	b->ca = NULL;
	if (b->dir[0] == '\0' || (d = opendir(b->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", b->dir, de->d_name);
		(void)unlink(p);
	}
	closedir(d);
	(void)rmdir(b->dir);
	b->dir[0] = '\0';
}
