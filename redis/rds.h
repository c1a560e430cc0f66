/*
 * redis/: talking to Redis nodes.  The TLS connection is opened with
 * OpenSSL (Debian's hiredis 0.14 has no TLS); hiredis is used only as a
 * codec: redisFormatCommandArgv to encode, a redisReader to decode, with
 * every reply capped in size.  Probes for the node audit live here too.
 *
 * Thread safety: a struct rds_conn belongs to one thread at a time;
 * different connections (and rds_probe* calls) may run concurrently.
 * No function here touches process-wide state (signals are not needed:
 * writes use MSG_NOSIGNAL, so a peer that hangs up never raises SIGPIPE).
 * Passwords are never logged nor copied into error messages.
 */
#ifndef RCA_RDS_H
#define RCA_RDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "rca_limits.h"

/* A TLS protocol version; RDS_TLS_ANY leaves the bound to the default. */
enum rds_tls_version {
	RDS_TLS_ANY = 0,	/* min: TLS 1.2 (rds_connect) / none (probe) */
	RDS_TLS1_0,		/* "TLSv1" */
	RDS_TLS1_1,		/* "TLSv1.1" */
	RDS_TLS1_2,		/* "TLSv1.2" */
	RDS_TLS1_3,		/* "TLSv1.3" */
	RDS_TLS__MAX
};

/* "TLSv1.2" etc.; "any" for RDS_TLS_ANY, "unknown" when out of range. */
const char *rds_tls_version_name(enum rds_tls_version v);

#define RDS_DEFAULT_TIMEOUT_MS	5000

/*
 * How to reach and trust one Redis node.  All strings are borrowed for the
 * duration of the call that takes the options.  A zeroed struct with host,
 * port and ca_file set is a safe default (verification on, TLS >= 1.2).
 */
struct rds_tls_opts {
	/* DNS name or IP literal to connect to, and the port (1..65535). */
	const char	*host;
	int		 port;
	/* Name to verify, DNS name or IP literal; NULL: host. */
	const char	*server_name;
	/* PEM bundle the node's chain must reach. */
	const char	*ca_file;
	/* Trust anchors as PEM text (borrowed), with or instead of
	 * ca_file: the service passes its CA certificate from memory. */
	const char	*ca_pem;
	/* Client certificate (chain) PEM, or NULL; its unencrypted key
	 * (NULL: in cert_file). */
	const char	*cert_file;
	const char	*key_file;
	/* Bound on connect + handshake, and on each command; <= 0:
	 * RDS_DEFAULT_TIMEOUT_MS. */
	int		 timeout_ms;
	/* RDS_TLS_ANY: TLS 1.2 / the highest this OpenSSL supports. */
	enum rds_tls_version min_version;
	enum rds_tls_version max_version;
	/* TLS <= 1.2 cipher list and TLS 1.3 suites (OpenSSL syntax);
	 * NULL: OpenSSL's defaults. */
	const char	*cipher_list;
	const char	*ciphersuites;
	/* true: do not verify the node (tests and probes only). */
	bool		 no_verify;
	/*
	 * true: verify chain and name but not the validity dates, so a
	 * node whose certificate already expired (the CA was down for a
	 * while) can still be reached to be given a new one.
	 */
	bool		 ignore_dates;
	/* Largest reply accepted; 0: RCA_MAX_REPLY_BYTES. */
	size_t		 max_reply_bytes;
};

struct rds_conn;

/*
 * Connect to o->host:o->port over TCP (non-blocking connect bounded by
 * o->timeout_ms, every resolved address tried in turn), then run a TLS
 * handshake: TLS 1.2 or newer unless o->min_version says otherwise, the
 * peer verified against o->ca_file (SSL_VERIFY_PEER) and its name checked
 * against server_name (DNS names via SSL_set1_host, plus SNI; IP
 * literals via X509_VERIFY_PARAM_set1_ip_asc, no SNI), presenting
 * o->cert_file/o->key_file when set.
 *
 * Name resolution (getaddrinfo) is not bounded by the timeout; give
 * IP literals where that matters.
 *
 * Returns a new connection (free with rds_close()), or NULL.
 * Errors: ERR_INVALID_REQUEST (bad options, e.g. no host, bad port, no
 * ca_file while verifying), ERR_CRYPTO (CA file, client certificate or key
 * does not load; names the file), ERR_NET (resolution failed, connection
 * refused, timeout, handshake failed; a verification failure carries
 * OpenSSL's verify error text, e.g. "hostname mismatch").
 */
struct rds_conn *rds_connect(const struct rds_tls_opts *o, struct err *e);

/* Close the TLS session (close_notify, best effort) and free c.  NULL ok. */
void	rds_close(struct rds_conn *c);

/* ---- commands ---- */

enum rds_reply_type {
	RDS_REPLY_STRING,	/* bulk string: str/len */
	RDS_REPLY_STATUS,	/* +OK style: str/len */
	RDS_REPLY_ERROR,	/* -ERR style: str/len (Redis's message) */
	RDS_REPLY_INTEGER,	/* integer */
	RDS_REPLY_NIL,		/* null bulk or null array */
	RDS_REPLY_ARRAY,	/* elements/element */
	RDS_REPLY__MAX
};

/* A decoded reply.  Plain data; free with rds_reply_free(). */
struct rds_reply {
	enum rds_reply_type	 type;
	long long		 integer;	/* RDS_REPLY_INTEGER */
	char			*str;		/* NUL-ended; may hold NULs */
	size_t			 len;		/* bytes of str, not the NUL */
	size_t			 elements;	/* RDS_REPLY_ARRAY */
	struct rds_reply	**element;	/* owned, elements entries */
};

/* Free r and everything below it.  NULL is fine. */
void	rds_reply_free(struct rds_reply *r);

/*
 * Send one command (argc arguments argv[i] of argvlen[i] bytes; argvlen
 * NULL: strlen of each) and read its reply.  A reply bigger than the
 * connection's cap (o->max_reply_bytes) is an error, and the connection
 * is then unusable (close it).  An error reply (-ERR ...) is NOT an error
 * here: it is returned as RDS_REPLY_ERROR.
 *
 * On success *out is new (free with rds_reply_free()).
 * Errors: ERR_INVALID_REQUEST (argc < 1), ERR_NET (I/O error, timeout,
 * connection closed, protocol error, reply too large).  After ERR_NET the
 * connection must be closed.
 */
int	rds_command(struct rds_conn *c, int argc, const char **argv,
	    const size_t *argvlen, struct rds_reply **out, struct err *e);

/*
 * AUTH: `AUTH password` when user is NULL, else `AUTH user password`
 * (Redis 6+ ACL).  The password is never logged or put in *e.
 * Errors: ERR_NET (I/O, or the error reply, e.g. "WRONGPASS ...").
 */
int	rds_auth(struct rds_conn *c, const char *user, const char *password,
	    struct err *e);

/* PING; succeeds only on +PONG.  Errors: ERR_NET. */
int	rds_ping(struct rds_conn *c, struct err *e);

/*
 * One CONFIG SET with n name/value pairs: kv[0] = name, kv[1] = value,
 * ..., kv[2n-1] (Redis >= 7.0 applies them atomically).  n must be 1..32.
 * Errors: ERR_INVALID_REQUEST (n out of range), ERR_NET (I/O, or the
 * error reply, e.g. "NOPERM ..." or "ERR CONFIG SET failed ...").
 */
int	rds_config_set(struct rds_conn *c, const char *const *kv, size_t n,
	    struct err *e);

#define RDS_CONFIG_SET_MAX_PAIRS	32

/* ---- the peer ---- */

/*
 * Serial of the certificate the node presented, lowercase hex without
 * leading zeros (as hex_serial_normalize() writes it), into out.
 * Errors: ERR_NET (no peer certificate), ERR_INVALID_SERIAL (negative or
 * longer than RCA_SERIAL_HEX_MAX digits).
 */
int	rds_peer_serial(const struct rds_conn *c,
	    char out[RCA_SERIAL_HEX_MAX + 1], struct err *e);

/*
 * DER of the node's certificate.  *der is new (free with free()).
 * Errors: ERR_NET (no peer certificate), ERR_CRYPTO.
 */
int	rds_peer_cert_der(const struct rds_conn *c, unsigned char **der,
	    size_t *len, struct err *e);

/* Negotiated protocol ("TLSv1.3") and cipher names; borrowed from c. */
const char *rds_conn_protocol(const struct rds_conn *c);
const char *rds_conn_cipher(const struct rds_conn *c);

/* ---- replication role (SPEC section 11) ---- */

enum rds_role {
	RDS_ROLE_UNKNOWN,
	RDS_ROLE_PRIMARY,	/* role:master / flags master */
	RDS_ROLE_REPLICA,	/* role:slave / flags slave */
	RDS_ROLE__MAX
};

/* "unknown", "primary", "replica" (the names db_node_observe takes). */
const char *rds_role_name(enum rds_role r);

/* What a node said of its place in replication.  Plain data. */
struct rds_role_info {
	enum rds_role	role;
	bool		cluster;	/* cluster_enabled:1 */
	char		primary_host[256];	/* replica: master_host */
	int		primary_port;		/* replica: master_port */
	int		connected_replicas;	/* primary */
	bool		link_up;	/* replica: master_link_status:up */
};

/*
 * Read c's role: INFO replication, then INFO cluster and, when
 * cluster_enabled:1, CLUSTER NODES, whose "myself" line's flags
 * (master/slave) decide the role.  Every reply is bounded (the
 * connection's cap) and parsed by redis/role.h's pure parsers.
 * Errors: ERR_NET (I/O, an error reply such as NOAUTH/NOPERM, a reply
 * that is not a bulk string or does not parse).
 */
int	rds_role_read(struct rds_conn *c, struct rds_role_info *out,
	    struct err *e);

/* ---- probes for the TLS audit ---- */

#define RDS_PROBE_TEXT_MAX	128

/* What one probe handshake saw.  Plain data. */
struct rds_probe_result {
	bool	accepted;		/* the handshake completed */
	char	reason[ERR_MSG_MAX];	/* why not, when !accepted */
	char	protocol[16];		/* negotiated, when accepted */
	char	cipher[64];		/* negotiated, when accepted */
	bool	forward_secret;		/* (EC)DHE or TLS 1.3 key exchange */
	bool	aead;			/* AEAD (GCM, ChaCha20-Poly1305) */

	/* About the certificate the node presented (when accepted): */
	bool	have_cert;
	bool	chain_valid;		/* verifies against o->ca_file now */
	char	chain_error[RDS_PROBE_TEXT_MAX]; /* verify error text */
	bool	name_matches;		/* server_name (or host) is in it */
	char	serial[RCA_SERIAL_HEX_MAX + 1];
	char	key_type[16];		/* "rsa", "ec", "ed25519", ... */
	int	key_bits;		/* RSA modulus / EC field size */
	int	key_security_bits;	/* OpenSSL's strength estimate */
	char	sig_alg[64];		/* e.g. "ecdsa-with-SHA256" */
	bool	sig_sha256_or_better;	/* SHA-256/384/512 or EdDSA */
	int64_t	not_after;		/* Unix time */
};

/*
 * Cipher lists for probes (TLS <= 1.2 only: OpenSSL always offers its
 * TLS 1.3 suites, whatever the cipher list, so a cipher probe must set
 * max_version to RDS_TLS1_2 or the node will simply pick TLS 1.3).
 * WEAK: no encryption, no authentication, export, RC4, DES, 3DES, MD5.
 * NON_FS: key exchanges without forward secrecy (static RSA, plain PSK).
 */
#define RDS_PROBE_WEAK_CIPHERS \
	"eNULL:aNULL:EXP:LOW:RC4:DES:3DES:MD5:@SECLEVEL=0"
#define RDS_PROBE_NON_FS_CIPHERS \
	"kRSA:kPSK:@SECLEVEL=0"

/*
 * Try one handshake with the restrictions in o (min_version,
 * max_version, cipher_list, ciphersuites; client cert when set) and
 * report whether the node accepted it.  The client side is opened up so
 * that a refusal really is the node's: security level 0, cipher list
 * "ALL:@SECLEVEL=0" unless o->cipher_list is set, and no verification
 * during the handshake; the chain (against o->ca_file, when set) and the
 * name are checked afterwards and reported in *r.
 *
 * Returns 0 when the node answered (accepted or refused: see
 * r->accepted), -1 when it could not be asked.  Errors:
 * ERR_INVALID_REQUEST (bad options), ERR_CRYPTO (a file does not load,
 * or this OpenSSL cannot offer what o asks), ERR_NET (cannot connect,
 * timeout).
 */
int	rds_probe(const struct rds_tls_opts *o, struct rds_probe_result *r,
	    struct err *e);

/*
 * Does the node insist on a client certificate?  Handshakes WITHOUT a
 * client certificate (o->cert_file/key_file are ignored), then sends PING
 * and reads the answer.  Any reply (+PONG, or an error such as NOAUTH)
 * means the node talks to anonymous clients: *required = false.  A
 * refused handshake, an alert or a close before the reply means
 * *required = true (Redis with tls-auth-clients yes fails the TLS 1.2
 * handshake, or closes after a TLS 1.3 handshake).
 * Errors: as rds_probe().
 */
int	rds_probe_client_cert_required(const struct rds_tls_opts *o,
	    bool *required, struct err *e);

#endif
