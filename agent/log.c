#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

/* Configuration, written before worker threads start (or while they are
 * parked for a reload) and only read by them. */
static enum ev_log_level log_level = EV_LOG_WARN;
static enum ev_log_format log_format = EV_LOG_FORMAT_TEXT;

static const char *const level_names[] = {
    [EV_LOG_ERROR] = "error", [EV_LOG_WARN] = "warn",	[EV_LOG_INFO] = "info",
    [EV_LOG_DEBUG] = "debug", [EV_LOG_TRACE] = "trace",
};

/* syslog priorities: err, warning, info, debug, debug. */
static const int level_priority[] = {3, 4, 6, 7, 7};

void ev_log_configure(enum ev_log_level level, enum ev_log_format format)
{
	log_level = level;
	log_format = format;
}

enum ev_log_level ev_log_get_level(void)
{
	return log_level;
}

bool ev_log_enabled(enum ev_log_level level)
{
	return level <= log_level;
}

const char *ev_log_level_name(enum ev_log_level level)
{
	if ((int)level < 0 || level > EV_LOG_TRACE)
		return "?";
	return level_names[level];
}

enum ev_err ev_log_level_parse(const char *s, enum ev_log_level *out)
{
	for (int i = EV_LOG_ERROR; i <= EV_LOG_TRACE; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum ev_log_level)i;
			return EV_OK;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = EV_LOG_WARN;
		return EV_OK;
	}
	return EV_E_CONFIG;
}

static void log_emit(enum ev_log_level level, const char *msg)
{
	switch (log_format) {
	case EV_LOG_FORMAT_JOURNAL:
		fprintf(stderr, "<%d>%s\n", level_priority[level], msg);
		break;
	case EV_LOG_FORMAT_JSON: {
		char ts[32];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_t *o = json_pack("{s:s, s:s, s:s}", "time", ts, "level",
				      level_names[level], "msg", msg);
		char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (line)
			fprintf(stderr, "%s\n", line);
		free(line);
		json_decref(o);
		break;
	}
	case EV_LOG_FORMAT_TEXT:
	default:
		fprintf(stderr, "evident: %s: %s\n", level_names[level], msg);
		break;
	}
}

void ev_log(enum ev_log_level level, const char *fmt, ...)
{
	if (!ev_log_enabled(level))
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One locked write per line so lines from workers never interleave. */
	flockfile(stderr);
	log_emit(level, msg);
	funlockfile(stderr);
}

void ev_log_error(enum ev_log_level level, const char *what,
		  const struct ev_error *e)
{
	if (!e) {
		ev_log(level, "%s", what);
		return;
	}
	ev_log(level, "%s: %s%s%s%s [%s%s%s]", what, e->message,
	       e->aws_code[0] ? " (" : "", e->aws_code,
	       e->aws_code[0] ? ")" : "", ev_err_name(e->code),
	       e->request_id[0] ? ", request id " : "", e->request_id);
}
