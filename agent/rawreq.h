/* A raw HTTP/1.1 request as text, the input of `evident sign`.
 *
 * Accepted form: a request line "METHOD SP target SP HTTP/x.y" (the target
 * may hold raw spaces: the line is split at its first and its last space),
 * header lines "Name:value" (any blanks, or none, after the colon; a line
 * that starts with a blank continues the previous header's value), an
 * optional blank line, and the body (every byte after the blank line, as it
 * is). Lines end in LF or CRLF; the text may end without a final line end.
 * The head (request line and headers) may not hold NUL or control bytes
 * other than tab; the body may hold anything.
 *
 * Ownership: struct ev_rawreq is caller storage (ev_rawreq_init /
 * ev_rawreq_cleanup) and owns copies of everything it holds; the parsed
 * text is not kept. */
#ifndef EV_RAWREQ_H
#define EV_RAWREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "bounds.h"
#include "err.h"

struct ev_rawreq_header {
	char *name;  /* as written */
	char *value; /* without leading and trailing blanks; continuation
			lines joined with one space */
	char *raw;   /* the header's lines as written, continuation lines
			included, without the final line end */
};

struct ev_rawreq {
	char *method;
	char *target;  /* as written: path, then '?' and the query if any */
	char *path;    /* the target before the first '?' */
	char *query;   /* after the first '?'; NULL when there is no '?' */
	char *version; /* "HTTP/1.1" */
	struct ev_rawreq_header headers[EV_LIMIT_SIGV4_HEADERS];
	size_t n_headers;
	unsigned char *body; /* NULL when empty */
	size_t body_len;
	bool crlf; /* the request line ended in CRLF: write lines back so */
};

/* Prepares r (no allocation). */
void ev_rawreq_init(struct ev_rawreq *r);
/* Frees everything r owns and leaves it as after init; safe on a zeroed or
 * half-parsed r. */
void ev_rawreq_cleanup(struct ev_rawreq *r);

/* Parses len bytes of text into r (initialised; what it held is dropped).
 * On failure r is left as after init and err says which line failed.
 * Errors: EV_E_LIMIT (text longer than EV_LIMIT_REQUEST_TEXT, more than
 * EV_LIMIT_SIGV4_HEADERS headers), EV_E_MALFORMED (empty text, a request
 * line without three parts, a method that is not an HTTP token, a target
 * not starting with '/', a version that is not HTTP/x.y, a header line
 * without a colon or with an invalid name, a continuation line before any
 * header, a NUL or control byte in the head), EV_E_NOMEM. */
enum ev_err ev_rawreq_parse(const void *text, size_t len, struct ev_rawreq *r,
			    struct ev_error *err) EV_MUST_CHECK;

/* The value of the first header named name (compared without case), a
 * view into r; NULL when there is none. */
const char *ev_rawreq_header(const struct ev_rawreq *r, const char *name);

#endif
