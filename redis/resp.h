/*
 * The RESP codec of redis/, free of I/O: a command becomes bytes, bytes
 * become replies.  hiredis does the work (redisFormatCommandArgv, a
 * redisReader); this adds the reply size cap.  Used by the command round
 * trip (io.c), and on its own by the unit tests and the fuzz harness.
 */
#ifndef RCA_RDS_RESP_H
#define RCA_RDS_RESP_H

#include <stddef.h>

#include "err.h"
#include "rds.h"

/*
 * Encode one command (argc arguments argv[i] of argvlen[i] bytes;
 * argvlen NULL: strlen of each) as a RESP array of bulk strings.
 * On success *out is new (free with rds_cmd_free()) and *len its size.
 * Errors: ERR_INVALID_REQUEST (argc < 1), ERR_INTERNAL (out of memory).
 */
int	rds_cmd_format(int argc, const char **argv, const size_t *argvlen,
	    char **out, size_t *len, struct err *e);

/* Free a command from rds_cmd_format().  NULL is fine. */
void	rds_cmd_free(char *cmd);

/* A reply decoder: opaque, one per connection. */
struct rds_decoder;

/*
 * A new decoder whose replies may each take at most max_reply bytes on
 * the wire (0: RCA_MAX_REPLY_BYTES).  where names the peer in error
 * messages ("host:port"; copied, truncated to RCA_MAX_NAME_LEN + 15
 * bytes).  Returns new (free with rds_decoder_free()), or NULL when out
 * of memory.
 */
struct rds_decoder *rds_decoder_new(size_t max_reply, const char *where);

/* Free d and any bytes it holds.  NULL is fine. */
void	rds_decoder_free(struct rds_decoder *d);

/*
 * Feed the next n bytes the peer sent (n may be 0: only look for a
 * reply already buffered) and take the next reply if it is complete.
 * Every byte fed since the last reply counts towards the cap, as the
 * peer sends nothing but the reply to the one command in flight.
 *
 * Returns 1 with *out new (free with rds_reply_free()), 0 when more
 * bytes are needed (*out NULL), or -1 (*out NULL) with ERR_NET: the bytes
 * are not RESP, or the reply is larger than the cap (the message says
 * "larger than N bytes").  After -1 the decoder is out of step with the
 * stream: free it.
 */
int	rds_decoder_feed(struct rds_decoder *d, const char *buf, size_t n,
	    struct rds_reply **out, struct err *e);

#endif
