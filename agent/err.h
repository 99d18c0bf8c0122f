/* One error type for the whole agent.
 *
 * Fallible functions return enum ev_err and are marked EV_MUST_CHECK. Detail
 * goes into a caller-provided, fixed-size struct ev_error: no heap, and no
 * field a secret could reach (only static strings, AWS error codes, request IDs
 * and short messages built from non-secret data). */
#ifndef EV_ERR_H
#define EV_ERR_H

#include <stddef.h>

#define EV_MUST_CHECK	__attribute__((warn_unused_result))
#define EV_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Grouped the way callers branch. Keep ev_err_name() in step. */
enum ev_err {
	EV_OK = 0,
	EV_E_NETWORK,	     /* connect/reset/timeout/TLS: transient */
	EV_E_SERVER,	     /* HTTP 5xx and service-side transient codes */
	EV_E_THROTTLED,	     /* rate limited by the service */
	EV_E_AUTH,	     /* bad key/token, signature mismatch */
	EV_E_EXPIRED,	     /* credentials or token expired */
	EV_E_CLOCK_SKEW,     /* request time too far from the server's */
	EV_E_ACCESS_DENIED,  /* the principal lacks a permission */
	EV_E_NOT_OPTED_IN,   /* region or service not enabled for the account */
	EV_E_NOT_FOUND,	     /* the named resource does not exist */
	EV_E_INVALID,	     /* the service rejected our parameters */
	EV_E_MALFORMED,	     /* a response or input could not be parsed */
	EV_E_LIMIT,	     /* a size or count bound was reached */
	EV_E_IO,	     /* local file or process failure */
	EV_E_CONFIG,	     /* configuration or usage error */
	EV_E_NO_CREDENTIALS, /* no credential source is configured */
	EV_E_NOMEM,	     /* allocation failed */
	EV_E_INTERNAL,	     /* a bug: an invariant did not hold */
	EV_E_COUNT_
};

#define EV_ERROR_MSG_MAX  256
#define EV_ERROR_CODE_MAX 64
#define EV_ERROR_RID_MAX  80

struct ev_error {
	enum ev_err code;
	const char *where;		   /* static "file.c:line" */
	int http_status;		   /* 0 when no HTTP exchange */
	char aws_code[EV_ERROR_CODE_MAX];  /* AWS error code, "" if none */
	char request_id[EV_ERROR_RID_MAX]; /* AWS request ID, "" if none */
	char message[EV_ERROR_MSG_MAX];	   /* short, human, never a secret */
};

/* Stable lower-case name of a code ("throttled", "access-denied"...). */
const char *ev_err_name(enum ev_err code);

/* Clears e (may be NULL). */
void ev_error_clear(struct ev_error *e);

/* Records code, location and a formatted message in e (may be NULL) and
 * returns code, so callers can write `return ev_error_set(e, ...)`. The
 * message is truncated to fit; callers must never format a secret into it. */
enum ev_err ev_error_set_at(struct ev_error *e, enum ev_err code,
			    const char *where, const char *fmt, ...)
    EV_PRINTF(4, 5);

#define EV_STR2(x) #x
#define EV_STR(x)  EV_STR2(x)
#define EV_HERE	   (__FILE__ ":" EV_STR(__LINE__))
#define ev_error_set(e, code, ...)                                             \
	ev_error_set_at((e), (code), EV_HERE, __VA_ARGS__)

/* Prefixes e->message with context ("reading x: "), keeping the code. */
void ev_error_prefix(struct ev_error *e, const char *fmt, ...) EV_PRINTF(2, 3);

/* Copies a bounded, printable version of s into dst (control bytes become
 * '?'), for AWS codes and request IDs taken from untrusted responses. */
void ev_error_copy_field(char *dst, size_t dst_size, const char *s, size_t n);

/* The two control-flow shapes of STYLE.md: these return early; none of them
 * hides a goto. EV_TRY propagates a non-OK result. EV_ENSURE checks a
 * condition and returns code (recording it in `err` if the function has a
 * struct ev_error *err in scope, via EV_ENSURE_E). */
#define EV_TRY(expr)                                                           \
	do {                                                                   \
		enum ev_err ev_try_rc_ = (expr);                               \
		if (ev_try_rc_ != EV_OK)                                       \
			return ev_try_rc_;                                     \
	} while (0)

#define EV_ENSURE(cond, code)                                                  \
	do {                                                                   \
		if (!(cond))                                                   \
			return (code);                                         \
	} while (0)

#define EV_ENSURE_E(e, cond, code, ...)                                        \
	do {                                                                   \
		if (!(cond))                                                   \
			return ev_error_set((e), (code), __VA_ARGS__);         \
	} while (0)

#endif
