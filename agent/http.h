/* HTTPS transport. Reached through a small table of function pointers so
 * tests and the aws layer's callers can swap it; the real one is libcurl with
 * TLS always verified.
 *
 * Ownership: requests are views owned by the caller. A response is caller
 * storage (ev_http_response_init / _cleanup) and owns its body and headers;
 * the body is a secret buffer (wiped on growth, reset and cleanup), since
 * some answers carry credentials. */
#ifndef EV_HTTP_H
#define EV_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "bounds.h"
#include "buf.h"
#include "err.h"

struct ev_http_header {
	const char *name;
	const char *value;
};

/* Where a successful (2xx) answer's body goes instead of the response's
 * buffer: objects too large to hold whole (CloudTrail log files) pass
 * through a hash as they arrive. A non-2xx body is still buffered, for its
 * error document. The transport calls write only; reset is for callers
 * that retry (the aws layer calls it before each attempt). A write error
 * stops the exchange with that error. */
struct ev_http_sink {
	void (*reset)(void *arg);
	enum ev_err (*write)(void *arg, const void *data, size_t len);
	void *arg;
	size_t limit; /* most body bytes accepted; 0: EV_LIMIT_HTTP_BODY */
};

struct ev_http_request {
	const char *method;
	const char *url;
	const struct ev_http_header *headers; /* sent as given, in order */
	size_t n_headers;
	const void *body;
	size_t body_len;
	long timeout_ms;		 /* total; 0: the transport's default */
	const struct ev_http_sink *sink; /* NULL: the body is buffered */
};

/* A received header: name lower-cased, value trimmed; both owned. */
struct ev_http_rheader {
	char *name;
	char *value;
};

struct ev_http_response {
	long status;
	struct ev_buf body; /* limit EV_LIMIT_HTTP_BODY unless changed */
	struct ev_http_rheader headers[EV_LIMIT_HTTP_HEADERS];
	size_t n_headers;
	/* A header was dropped: past EV_LIMIT_HTTP_HEADERS, or a line (or a
	 * folded value) longer than EV_LIMIT_HTTP_HEADER_LINE. */
	bool headers_truncated;
	double seconds;	 /* total time of the exchange */
	size_t streamed; /* body bytes handed to the request's sink */
	bool timed_out;	 /* the exchange failed by timing out: retries
			    after a timeout cost more quota */
	/* Parser state: the last line kept was a header, which an obs-fold
	 * continuation line may extend. */
	bool fold_open;
};

/* body_limit 0 means EV_LIMIT_HTTP_BODY. */
void ev_http_response_init(struct ev_http_response *r, size_t body_limit);
void ev_http_response_cleanup(struct ev_http_response *r);
/* Forgets status, body and headers, keeping the body limit: for a retry. */
void ev_http_response_reset(struct ev_http_response *r);
/* Case-insensitive lookup of the first header of that name; a view, or NULL. */
const char *ev_http_response_header(const struct ev_http_response *r,
				    const char *name);

/* Feeds one raw header line as received ("HTTP/1.1 200 OK", "Name: value",
 * with or without CRLF). A status line starts a new header block (after 100
 * Continue or a redirect), dropping the headers before it and setting status
 * (0 if the code is not three digits). "Name: value": the name must be a
 * token (no whitespace before the colon), it is lower-cased; the value is
 * trimmed of spaces and tabs. A line starting with a space or tab continues
 * the previous header's value (obs-fold), joined by one space. Malformed
 * lines (no colon, empty or non-token name, a NUL byte) are ignored, as HTTP
 * clients do; over-long ones and headers past the limit are dropped with
 * headers_truncated set. Errors: EV_E_NOMEM (r keeps what it had). */
enum ev_err ev_http_response_header_line(struct ev_http_response *r,
					 const char *line,
					 size_t len) EV_MUST_CHECK;

struct ev_http_options {
	const char *ca_bundle;	 /* PEM file; NULL: the system store */
	long connect_timeout_ms; /* 0: 5000 */
	long timeout_ms;	 /* total per exchange; 0: 60000 */
	size_t max_body;	 /* 0: EV_LIMIT_HTTP_BODY */
	bool allow_http;	 /* plain http:// (IMDS, container endpoint,
				    loopback tests); TLS is never unverified */
};

/* The seam: one exchange. resp is reset first, then filled (status, body,
 * headers, seconds); on failure it is left reset. Thread-safe for the curl
 * transport. Errors: EV_E_NETWORK (connect, TLS handshake or certificate,
 * reset, timeout, truncated body), EV_E_LIMIT (body over the response's or
 * the transport's limit), EV_E_CONFIG (bad URL, scheme not allowed, bad
 * method or header, unreadable CA bundle), EV_E_NOMEM. A non-2xx status is
 * not an error here. err's message names the host, never the request's
 * headers, path or query. */
struct ev_http {
	enum ev_err (*perform)(struct ev_http *h,
			       const struct ev_http_request *req,
			       struct ev_http_response *resp,
			       struct ev_error *err);
	void (*free)(struct ev_http *h);
};

/* libcurl transport. TLS is always verified (TLS 1.2 at least); only
 * https is allowed (and http with allow_http); redirects are never
 * followed; HTTP/2 where the server offers it over TLS, else HTTP/1.1 with
 * keep-alive. DNS and TLS sessions are shared across threads through curl's
 * share interface; connections live in a pool of idle easy handles reused
 * across calls (curl does not support a connection cache shared by
 * concurrent threads). Headers go out exactly as the request gives them:
 * curl adds no Accept, Expect, Accept-Encoding or default Content-Type; the
 * path is sent as is (no dot-segment removal: it was signed that way).
 * Proxies follow curl's environment variables. Options are copied. Returns
 * NULL with err set on failure (EV_E_CONFIG for bad options, EV_E_NOMEM,
 * EV_E_INTERNAL when libcurl cannot start). */
struct ev_http *ev_http_curl_new(const struct ev_http_options *opts,
				 struct ev_error *err);

static inline enum ev_err ev_http_perform(struct ev_http *h,
					  const struct ev_http_request *req,
					  struct ev_http_response *resp,
					  struct ev_error *err)
{
	return h->perform(h, req, resp, err);
}

/* Frees h; accepts NULL. No call may be in flight. */
void ev_http_free(struct ev_http *h);

#endif
