/*
 * The benches' throwaway CA: a new P-256 CA in a fresh folder under
 * /tmp, loaded for signing when asked, and removed with everything in
 * its folder when the bench is done.
 */
#ifndef RCA_BENCH_CA_H
#define RCA_BENCH_CA_H

#include <stdbool.h>

#include "ca.h"

struct bench_ca {
	char		 dir[64];	/* the folder; "" until made */
	char		 crt[96];	/* dir/ca.crt */
	char		 key[96];	/* dir/ca.key */
	struct ca	*ca;		/* owned; NULL unless loaded */
};

/*
 * Make /tmp/<prefix>.XXXXXX and in it a P-256 CA named cn, valid days;
 * with load, ca_load() it too.  On failure what was made stays in *b
 * for bench_ca_free().  Errors: ERR_IO (the folder), those of
 * ca_create_files() and ca_load().
 */
int	bench_ca_make(struct bench_ca *b, const char *prefix, const char *cn,
	    int days, bool load, struct err *e);

/* ca_free() b's CA, remove every file of its folder, then the folder. */
void	bench_ca_free(struct bench_ca *b);

#endif
