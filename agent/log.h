/* Leveled logging to stderr, one line per call, safe across threads.
 *
 * The level is part of the loaded configuration: set once at start-up (or on
 * reload) and only read afterwards. Callers never pass secrets: no function
 * here can tell a secret from other text, so the rule is the caller's. */
#ifndef EV_LOG_H
#define EV_LOG_H

#include <stdbool.h>

#include "err.h"

enum ev_log_level {
	EV_LOG_ERROR = 0,
	EV_LOG_WARN,
	EV_LOG_INFO,
	EV_LOG_DEBUG,
	EV_LOG_TRACE,
};

enum ev_log_format {
	EV_LOG_FORMAT_TEXT = 0, /* "evident: warn: ..." */
	EV_LOG_FORMAT_JOURNAL,	/* "<4>..." priority prefixes for journald */
	EV_LOG_FORMAT_JSON,	/* one JSON object per line */
};

void ev_log_configure(enum ev_log_level level, enum ev_log_format format);
enum ev_log_level ev_log_get_level(void);
bool ev_log_enabled(enum ev_log_level level);
/* Parses "error|warn|info|debug|trace"; EV_E_CONFIG otherwise. */
enum ev_err ev_log_level_parse(const char *s,
			       enum ev_log_level *out) EV_MUST_CHECK;
const char *ev_log_level_name(enum ev_log_level level);

void ev_log(enum ev_log_level level, const char *fmt, ...) EV_PRINTF(2, 3);

/* Logs an error with its code, AWS code, request ID and location. */
void ev_log_error(enum ev_log_level level, const char *what,
		  const struct ev_error *e);

#define ev_log_debug(...) ev_log(EV_LOG_DEBUG, __VA_ARGS__)
#define ev_log_info(...)  ev_log(EV_LOG_INFO, __VA_ARGS__)
#define ev_log_warn(...)  ev_log(EV_LOG_WARN, __VA_ARGS__)

#endif
