/*
 * The RESP codec (resp.h), no I/O: hiredis's redisFormatCommandArgv
 * encodes, a redisReader building struct rds_reply decodes, and every
 * reply is capped in bytes and in the elements an array may announce.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "resp.h"

/* Each array element takes at least 3 bytes on the wire ("+\r\n"). */
#define MIN_ELEMENT_BYTES	3

struct rds_decoder {
	redisReader	*reader;	/* owned; builds struct rds_reply */
	size_t		 max_reply;	/* bytes one reply may take */
	size_t		 fed;		/* bytes fed since the last reply */
	bool		 too_big;	/* the reader refused a reply's size */
	char		 where[RCA_MAX_NAME_LEN + 16];	/* for messages */
};

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
	struct rds_decoder *d = task->privdata;
	struct rds_reply *r;

	/*
	 * An array header is a promise of elements the server has not sent
	 * yet, and hiredis 0.14 allocates their slots up front; refuse one
	 * that could not fit in the cap before allocating for it.  (hiredis
	 * 0.14.1 itself refuses negative lengths.)
	 */
	if (elements < 0)
		return NULL;
	if ((size_t)elements > d->max_reply / MIN_ELEMENT_BYTES) {
		d->too_big = true;
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

int
rds_cmd_format(int argc, const char **argv, const size_t *argvlen,
    char **out, size_t *len, struct err *e)
{
	char *cmd = NULL;
	int n;

	*out = NULL;
	*len = 0;
	if (argc < 1 || argv == NULL) {
		err_set(e, ERR_INVALID_REQUEST, "redis: empty command");
		return -1;
	}
	if ((n = redisFormatCommandArgv(&cmd, argc, argv, argvlen)) < 0) {
		err_set(e, ERR_INTERNAL, "out of memory");
		return -1;
	}
	*out = cmd;
	*len = (size_t)n;
	return 0;
}

void
rds_cmd_free(char *cmd)
{
	if (cmd != NULL)
		redisFreeCommand(cmd);
}

struct rds_decoder *
rds_decoder_new(size_t max_reply, const char *where)
{
	struct rds_decoder *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if ((d->reader = redisReaderCreateWithFunctions(&rr_functions)) ==
	    NULL) {
		free(d);
		return NULL;
	}
	d->reader->privdata = d;
	/*
	 * In hiredis 0.14 maxbuf is when an idle read buffer is released,
	 * not a cap (the cap is enforced by rds_decoder_feed); keep the
	 * default.
	 */
	d->reader->maxbuf = REDIS_READER_MAX_BUF;
	d->max_reply = max_reply > 0 ? max_reply : RCA_MAX_REPLY_BYTES;
	snprintf(d->where, sizeof(d->where), "%s", where);
	return d;
}

void
rds_decoder_free(struct rds_decoder *d)
{
	if (d == NULL)
		return;
	redisReaderFree(d->reader);
	free(d);
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

/* Set e for a reply over the cap. */
static int
too_big(struct rds_decoder *d, struct err *e)
{
	d->too_big = true;
	err_set(e, ERR_NET, "reply from %s is larger than %zu bytes",
	    d->where, d->max_reply);
	return -1;
}

int
rds_decoder_feed(struct rds_decoder *d, const char *buf, size_t n,
    struct rds_reply **out, struct err *e)
{
	void *obj = NULL;

	*out = NULL;
	if (n > d->max_reply - d->fed)
		return too_big(d, e);
	d->fed += n;
	if (n > 0 && redisReaderFeed(d->reader, buf, n) != REDIS_OK) {
		err_set(e, ERR_NET, "bad reply from %s: %s", d->where,
		    d->reader->errstr);
		return -1;
	}
	if (redisReaderGetReply(d->reader, &obj) != REDIS_OK) {
		if (d->too_big)
			return too_big(d, e);
		err_set(e, ERR_NET, "bad reply from %s: %s", d->where,
		    d->reader->errstr);
		return -1;
	}
	if (obj == NULL)
		return 0;
	/* The next reply starts from nothing. */
	d->fed = 0;
	*out = obj;
	return 1;
}
