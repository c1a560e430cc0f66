/*
 * The CA of `redis-ca init` in two tiers (SPEC 10): a root in a folder
 * of its own outside the data folder and an issuing CA signed by it,
 * or an issuing CA imported with the roots it chains to.  cmd_init.c
 * calls this; only ca/ reads or writes a key.
 */
#ifndef RCA_INIT_CA_H
#define RCA_INIT_CA_H

#include <stdbool.h>

#include "ca.h"
#include "err.h"
#include "rca_limits.h"
#include "types.h"

/* What init asks for (all borrowed). */
struct init_ca_req {
	const char	*data;		/* the data folder (exists) */
	/* ca.key, ca.crt and roots.pem, reserved by the caller */
	const struct ca_files *files;
	const char	*cn;
	enum key_type	 key_type;
	int		 days;		/* 0: 5 years (two tiers) */
	const char	*pass;		/* passphrase file (absolute) or NULL */
	const char	*root_out;	/* --root-out, or NULL */
	const char	*imp_cert;	/* --import-cert (with imp_chain) */
	const char	*imp_key;
	const char	*imp_pass;
	const char	*imp_chain;	/* --import-chain, or NULL */
};

/* What was made, so that a failed init takes it back. */
struct init_ca_made {
	char	root_dir[RCA_MAX_PATH];	/* absolute */
	bool	made_root_dir;
	bool	made_root;		/* root.key and root.crt */
};

/*
 * Two tiers: with root_out, the root (root.key 0400, root.crt 0444,
 * key encrypted with pass when set) in root_out (created 0700 if
 * missing; refused inside the data folder, when it is a link, or when
 * root.key or root.crt exists), the issuing CA (ca.key, ca.crt) signed
 * by it and roots.pem = the root, written into r->files; with
 * imp_chain, the import of ca_import_chain_to() into r->files.  The
 * caller releases r->files.
 * Errors: ERR_USAGE (root_out inside the data folder), ERR_IO,
 * ERR_ALREADY_EXISTS, ERR_INVALID_CHAIN, ERR_INVALID_REQUEST,
 * ERR_KEY_REJECTED, ERR_CRYPTO.
 */
int	init_ca_two_tier(const struct init_ca_req *r, struct init_ca_made *m,
	    struct err *e);

/* Remove the root files and folder made (after a later failure). */
void	init_ca_rollback(const struct init_ca_made *m);

#endif
