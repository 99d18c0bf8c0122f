/* HTTPS transport. Reached through a small table of function pointers so
 * tests and the aws layer's callers can swap it; the real one is libcurl with
 * TLS always verified.
 *
 * Ownership: requests are views owned by the caller. A response is caller
 * storage (ev_http_response_init / _cleanup) and owns its body and headers. */
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

struct ev_http_request {
	const char *method;
	const char *url;
	const struct ev_http_header *headers; /* sent as given, in order */
	size_t n_headers;
	const void *body;
	size_t body_len;
	long timeout_ms; /* total; 0: the transport's default */
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
	bool headers_truncated; /* more than EV_LIMIT_HTTP_HEADERS came */
	double seconds;         /* total time of the exchange */
};

void ev_http_response_init(struct ev_http_response *r, size_t body_limit);
void ev_http_response_cleanup(struct ev_http_response *r);
/* Forgets status, body and headers, keeping the body limit: for a retry. */
void ev_http_response_reset(struct ev_http_response *r);
/* Case-insensitive lookup of the first header of that name; a view, or NULL. */
const char *ev_http_response_header(const struct ev_http_response *r,
				    const char *name);

/* Feeds one raw header line as received ("HTTP/1.1 200 OK", "Name: value",
 * with or without CRLF). A status line starts a new header block (after 100
 * Continue or a redirect), dropping the headers before it. Malformed lines
 * are ignored, as HTTP clients do; over-long ones and headers past the limit
 * are dropped with headers_truncated set. Errors: EV_E_NOMEM. */
enum ev_err ev_http_response_header_line(struct ev_http_response *r,
					 const char *line, size_t len)
	EV_MUST_CHECK;

struct ev_http_options {
	const char *ca_bundle;   /* PEM file; NULL: the system store */
	long connect_timeout_ms; /* 0: 5000 */
	long timeout_ms;         /* total per exchange; 0: 60000 */
	size_t max_body;         /* 0: EV_LIMIT_HTTP_BODY */
	bool allow_http;         /* plain http:// (IMDS, container endpoint,
				    loopback tests); TLS is never unverified */
};

/* The seam: one exchange. Thread-safe for the curl transport. Errors:
 * EV_E_NETWORK (connect, TLS, reset, timeout), EV_E_LIMIT (body or header
 * over the limit), EV_E_CONFIG (bad URL or scheme), EV_E_NOMEM. A non-2xx
 * status is not an error here. */
struct ev_http {
	enum ev_err (*perform)(struct ev_http *h,
			       const struct ev_http_request *req,
			       struct ev_http_response *resp,
			       struct ev_error *err);
	void (*free)(struct ev_http *h);
};

/* libcurl transport: shares DNS, connections and TLS sessions across threads
 * through curl's share interface; keeps easy handles for reuse. Options are
 * copied. Returns NULL with err set on failure. */
struct ev_http *ev_http_curl_new(const struct ev_http_options *opts,
				 struct ev_error *err);

static inline enum ev_err ev_http_perform(struct ev_http *h,
					  const struct ev_http_request *req,
					  struct ev_http_response *resp,
					  struct ev_error *err)
{
	return h->perform(h, req, resp, err);
}

/* Frees h; accepts NULL. */
void ev_http_free(struct ev_http *h);

#endif
