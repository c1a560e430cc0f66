/*
 * dump_routes: print the api/ route table, one "METHOD PATH" a line,
 * for test_routes_match.sh to compare with openapi/redis-ca.yaml.
 */
#include <stdio.h>

#include "api.h"

int
main(void)
{
	const struct api_route_info	*r;	/* borrowed: static table */
	size_t				 n, i;

	r = api_routes(&n);
	if (r == NULL || n == 0) {
		fprintf(stderr, "dump_routes: empty route table\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (printf("%s %s%s\n", r[i].method, r[i].path,
		    r[i].public ? " public" : "") < 0)
			return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
