/*
 * RESP over the TLS transport, with hiredis as a pure codec: commands are
 * encoded by redisFormatCommandArgv, replies decoded by a redisReader
 * whose object functions build struct rds_reply directly.  Every reply is
 * capped: the bytes fed for one reply, and the element count an array
 * header may announce (hiredis 0.14 allocates that many slots up front).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rds_int.h"

/* Each array element takes at least 3 bytes on the wire ("+\r\n"). */
#define MIN_ELEMENT_BYTES	3

#define READ_CHUNK		16384

/* Link r into its parent array, as hiredis's own functions do. */
static void *
attach(const redisReadTask *task, struct rds_reply *r)
{
	if (task->parent != NULL) {
		struct rds_reply *p = task->parent->obj;

		p->element[task->idx] = r;
	}
	return r;
}

static void *
rr_string(const redisReadTask *task, char *str, size_t len)
{
	struct rds_reply *r;

	if (len == SIZE_MAX || (r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->str = malloc(len + 1)) == NULL) {
		free(r);
		return NULL;
	}
	memcpy(r->str, str, len);
	r->str[len] = '\0';
	r->len = len;
	switch (task->type) {
	case REDIS_REPLY_ERROR:
		r->type = RDS_REPLY_ERROR;
		break;
	case REDIS_REPLY_STATUS:
		r->type = RDS_REPLY_STATUS;
		break;
	default:
		r->type = RDS_REPLY_STRING;
		break;
	}
	return attach(task, r);
}

static void *
rr_array(const redisReadTask *task, int elements)
{
	struct rds_conn *c = task->privdata;
	struct rds_reply *r;

	/*
	 * An array header is a promise of elements the server has not sent
	 * yet; refuse one that could not fit in the cap before allocating
	 * for it.  (hiredis 0.14.1 itself refuses negative lengths.)
	 */
	if (elements < 0)
		return NULL;
	if ((size_t)elements > c->max_reply / MIN_ELEMENT_BYTES) {
		c->too_big = true;
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->type = RDS_REPLY_ARRAY;
	if (elements > 0 && (r->element = calloc((size_t)elements,
	    sizeof(*r->element))) == NULL) {
		free(r);
		return NULL;
	}
	r->elements = (size_t)elements;
	return attach(task, r);
}

static void *
rr_integer(const redisReadTask *task, long long value)
{
	struct rds_reply *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->type = RDS_REPLY_INTEGER;
	r->integer = value;
	return attach(task, r);
}

static void *
rr_nil(const redisReadTask *task)
{
	struct rds_reply *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->type = RDS_REPLY_NIL;
	return attach(task, r);
}

static void
rr_free(void *p)
{
	rds_reply_free(p);
}

/* hiredis 0.14 takes a non-const pointer; it never writes through it. */
static redisReplyObjectFunctions rr_functions = {
	.createString = rr_string,
	.createArray = rr_array,
	.createInteger = rr_integer,
	.createNil = rr_nil,
	.freeObject = rr_free,
};

redisReader *
rds_reader_new(struct rds_conn *c)
{
	redisReader *r;

	if ((r = redisReaderCreateWithFunctions(&rr_functions)) == NULL)
		return NULL;
	r->privdata = c;
	/*
	 * In hiredis 0.14 maxbuf is when an idle read buffer is released,
	 * not a cap (the cap is enforced by rds_command); keep the default.
	 */
	r->maxbuf = REDIS_READER_MAX_BUF;
	return r;
}

void
rds_reply_free(struct rds_reply *r)
{
	if (r == NULL)
		return;
	if (r->element != NULL) {
		for (size_t i = 0; i < r->elements; i++)
			rds_reply_free(r->element[i]);
		free(r->element);
	}
	free(r->str);
	free(r);
}

int
rds_reply_feed(struct rds_conn *c, const char *buf, size_t n, size_t *fed,
    struct rds_reply **out, struct err *e)
{
	void *obj = NULL;

	*out = NULL;
	/* The node sends only this reply, so all of it counts. */
	if (n > c->max_reply - *fed) {
		c->broken = true;
		c->too_big = true;
		err_set(e, ERR_NET, "reply from %s is larger than %zu bytes",
		    c->where, c->max_reply);
		return -1;
	}
	*fed += n;
	if (n > 0 && redisReaderFeed(c->reader, buf, n) != REDIS_OK) {
		c->broken = true;
		err_set(e, ERR_NET, "bad reply from %s: %s", c->where,
		    c->reader->errstr);
		return -1;
	}
	if (redisReaderGetReply(c->reader, &obj) != REDIS_OK) {
		c->broken = true;
		if (c->too_big)
			err_set(e, ERR_NET, "reply from %s is larger than %zu "
			    "bytes", c->where, c->max_reply);
		else
			err_set(e, ERR_NET, "bad reply from %s: %s",
			    c->where, c->reader->errstr);
		return -1;
	}
	if (obj == NULL)
		return 0;
	*out = obj;
	return 1;
}

int
rds_command(struct rds_conn *c, int argc, const char **argv,
    const size_t *argvlen, struct rds_reply **out, struct err *e)
{
	struct rds_reply *reply = NULL;
	char *cmd = NULL, *buf = NULL;
	size_t fed = 0, n = 0;
	int64_t deadline;
	int got, len, rc = -1;

	*out = NULL;
	if (argc < 1 || argv == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "redis: empty command");
		goto out;
	}
	if (c->broken) {
		err_set(e, ERR_NET, "connection to %s is unusable after an "
		    "earlier error", c->where);
		goto out;
	}
	c->timed_out = false;
	deadline = rds_now_ms() + c->timeout_ms;
	if ((len = redisFormatCommandArgv(&cmd, argc, argv, argvlen)) < 0) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (rds_io_write(c, cmd, (size_t)len, deadline, e) == -1)
		goto out;
	if ((buf = malloc(READ_CHUNK)) == NULL) {
		err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* A reply may already wait in the reader: look before reading. */
	for (;;) {
		if ((got = rds_reply_feed(c, buf, n, &fed, &reply, e)) == -1)
			goto out;
		if (got == 1)
			break;
		if (rds_io_read(c, buf, READ_CHUNK, &n, deadline, e) == -1)
			goto out;
	}
	*out = reply;
	reply = NULL;
	rc = 0;
out:
	rds_reply_free(reply);
	free(buf);
	if (cmd != NULL)
		redisFreeCommand(cmd);
	return rc;
}

/*
 * Copy a Redis error message for an error text: printable ASCII only, so
 * a hostile node cannot put control characters in our logs.
 */
static void
clean_text(const struct rds_reply *r, char *out, size_t outsz)
{
	size_t i, j = 0;

	for (i = 0; i < r->len && j + 1 < outsz; i++) {
		unsigned char ch = (unsigned char)r->str[i];

		out[j++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	out[j] = '\0';
}

/*
 * Run a command that must answer the status want ("OK", "PONG").  what
 * names it in messages; never the arguments, which may hold a password.
 */
static int
status_command(struct rds_conn *c, const char *what, int argc,
    const char **argv, const char *want, struct err *e)
{
	struct rds_reply *r = NULL;
	char text[160];
	int rc = -1;

	if (rds_command(c, argc, argv, NULL, &r, e) == -1)
		goto out;
	if (r->type == RDS_REPLY_ERROR) {
		clean_text(r, text, sizeof(text));
		err_set(e, ERR_NET, "%s refused by %s: %s", what, c->where,
		    text);
		goto out;
	}
	if (r->type != RDS_REPLY_STATUS || strcmp(r->str, want) != 0) {
		err_set(e, ERR_NET, "%s: unexpected reply from %s", what,
		    c->where);
		goto out;
	}
	rc = 0;
out:
	rds_reply_free(r);
	return rc;
}

int
rds_auth(struct rds_conn *c, const char *user, const char *password,
    struct err *e)
{
	const char *argv[3];
	int argc = 0;

	if (password == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "redis: AUTH needs a password");
		return -1;
	}
	argv[argc++] = "AUTH";
	if (user != NULL)
		argv[argc++] = user;
	argv[argc++] = password;
	return status_command(c, "AUTH", argc, argv, "OK", e);
}

int
rds_ping(struct rds_conn *c, struct err *e)
{
	const char *argv[1] = { "PING" };

	return status_command(c, "PING", 1, argv, "PONG", e);
}

int
rds_config_set(struct rds_conn *c, const char *const *kv, size_t n,
    struct err *e)
{
	const char *argv[2 + 2 * RDS_CONFIG_SET_MAX_PAIRS];
	size_t i;

	if (n < 1 || n > RDS_CONFIG_SET_MAX_PAIRS || kv == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "redis: CONFIG SET takes 1 to "
		    "%d pairs", RDS_CONFIG_SET_MAX_PAIRS);
		return -1;
	}
	argv[0] = "CONFIG";
	argv[1] = "SET";
	for (i = 0; i < 2 * n; i++) {
		if (kv[i] == NULL) {
			err_set(e, ERR_INVALID_REQUEST, "redis: CONFIG SET "
			    "with a NULL name or value");
			return -1;
		}
		argv[2 + i] = kv[i];
	}
	return status_command(c, "CONFIG SET", (int)(2 + 2 * n), argv, "OK",
	    e);
}
