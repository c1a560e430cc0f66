/*
 * Logging: one line per event on stderr, with a UTC timestamp and a level.
 * Thread-safe (one write(2) per line).  Never log keys, tokens or CSRs.
 */
#ifndef RCA_LOG_H
#define RCA_LOG_H

enum log_level {
	LOG_LVL_DEBUG,	/* only with log_set_level(LOG_LVL_DEBUG) */
	LOG_LVL_INFO,	/* normal operation */
	LOG_LVL_WARN,	/* something an operator should look at */
	LOG_LVL_ERROR,	/* an operation failed */
	LOG_LVL__MAX
};

/* Minimum level written; default LOG_LVL_INFO.  Call before threads start. */
void	log_set_level(enum log_level lvl);

void	log_msg(enum log_level lvl, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...)	log_msg(LOG_LVL_ERROR, __VA_ARGS__)

#endif
