/* Named limits: every bound on input or output lives here. */
#ifndef RCA_LIMITS_H
#define RCA_LIMITS_H

#define RCA_MAX_BODY_BYTES_DEFAULT	65536	/* limits.max_body_bytes */
#define RCA_MAX_CONN_PER_IP_DEFAULT	64	/* limits.max_connections_per_ip */
#define RCA_AUTH_FAILURES_DEFAULT	20	/* limits.auth_failures_per_minute */
#define RCA_AUDIT_RETENTION_DEFAULT	(365 * 86400)	/* audit.retention */
#define RCA_AUDIT_PRUNE_BATCH		50000	/* rows per pruning transaction */
#define RCA_MAX_CSR_BYTES		32768	/* a CSR PEM */
#define RCA_MAX_PEM_BYTES		65536	/* any PEM file we read */
#define RCA_MAX_KEY_FILE_BYTES		65536	/* a private key file */
#define RCA_MAX_CONFIG_BYTES		(1024 * 1024)	/* config.json */
#define RCA_MAX_SANS			64	/* SANs of each kind */
#define RCA_MAX_NAME_LEN		253	/* a DNS name / CN */
#define RCA_MAX_URI_LEN			1024	/* a URI SAN */
#define RCA_MAX_PATTERNS		64	/* name patterns on a token */
#define RCA_MAX_PROFILES		32	/* profiles in the config */
#define RCA_MAX_PROFILE_NAME		63	/* a profile name */
#define RCA_MAX_NODE_NAME		63	/* [a-z0-9][a-z0-9-]{0,62} */
#define RCA_MAX_DESCRIPTION		256	/* token description */
#define RCA_MAX_PATH			4096	/* a file path */
#define RCA_MAX_NODE_DIRS		64	/* nodes.allowed_dirs entries */
#define RCA_MAX_JSON_DEPTH		16	/* nesting of request bodies */
#define RCA_MAX_REPLY_BYTES		(1024 * 1024)	/* one Redis reply */
#define RCA_MAX_LIST_LIMIT		1000	/* ?limit= maximum */
#define RCA_DEFAULT_LIST_LIMIT		100	/* ?limit= default */
/*
 * Threads running the HTTP routes that write (issue, revoke, tokens):
 * more than the cores, because each waits on a durable SQLite commit
 * and db/ groups the commits of concurrent callers into one fsync, so
 * the more callers in flight, the fewer fsyncs per certificate.
 */
#define RCA_API_WORKERS			32

#define RCA_SERIAL_BYTES		16	/* 128-bit serials */
#define RCA_SERIAL_HEX_MAX		40	/* hex digits of any serial */
#define RCA_SHA256_HEX			64	/* hex digits of a SHA-256 */
#define RCA_SKI_HEX_MAX			128	/* hex digits of a CA's SKI */
#define RCA_TOKEN_ID_HEX		16	/* token ids: 64 random bits */
#define RCA_TOKEN_RANDOM_BYTES		32	/* 256-bit tokens */
#define RCA_TOKEN_PREFIX		"rca_"
#define RCA_TOKEN_PREFIX_LEN		4
#define RCA_ACTOR_MAX			80	/* "admin:<id>", "mtls:<serial>" */
#define RCA_BACKDATE_SECONDS		60	/* notBefore = now - 60 s */

#endif
