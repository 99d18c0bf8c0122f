#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const err_names[EV_E_COUNT_] = {
    [EV_OK] = "ok",
    [EV_E_NETWORK] = "network",
    [EV_E_SERVER] = "server",
    [EV_E_THROTTLED] = "throttled",
    [EV_E_AUTH] = "auth",
    [EV_E_EXPIRED] = "expired",
    [EV_E_CLOCK_SKEW] = "clock-skew",
    [EV_E_ACCESS_DENIED] = "access-denied",
    [EV_E_NOT_OPTED_IN] = "not-opted-in",
    [EV_E_NOT_FOUND] = "not-found",
    [EV_E_INVALID] = "invalid",
    [EV_E_MALFORMED] = "malformed",
    [EV_E_LIMIT] = "limit",
    [EV_E_IO] = "io",
    [EV_E_CONFIG] = "config",
    [EV_E_NO_CREDENTIALS] = "no-credentials",
    [EV_E_NOMEM] = "out-of-memory",
    [EV_E_INTERNAL] = "internal",
};

const char *ev_err_name(enum ev_err code)
{
	if ((int)code < 0 || code >= EV_E_COUNT_ || !err_names[code])
		return "unknown";
	return err_names[code];
}

void ev_error_clear(struct ev_error *e)
{
	if (e)
		memset(e, 0, sizeof(*e));
}

enum ev_err ev_error_set_at(struct ev_error *e, enum ev_err code,
			    const char *where, const char *fmt, ...)
{
	if (!e)
		return code;
	e->code = code;
	e->where = where;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return code;
}

void ev_error_prefix(struct ev_error *e, const char *fmt, ...)
{
	if (!e)
		return;
	char prefix[EV_ERROR_MSG_MAX];
	char old[EV_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->message, sizeof(old));
	/* Truncation is wanted: the message is a bounded summary. */
	size_t n = strnlen(prefix, sizeof(prefix) - 1);
	memcpy(e->message, prefix, n);
	size_t rest = sizeof(e->message) - 1 - n;
	size_t m = strnlen(old, rest);
	memcpy(e->message + n, old, m);
	e->message[n + m] = '\0';
}

void ev_error_copy_field(char *dst, size_t dst_size, const char *s, size_t n)
{
	if (!dst || dst_size == 0)
		return;
	size_t i = 0;
	for (; s && i < n && i + 1 < dst_size && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[i] = '\0';
}
