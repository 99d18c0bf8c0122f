#include "rawreq.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 7230 tchar. */
static bool is_tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return true;
}

/* The head is text: no NUL (it becomes C strings) and no control byte but
 * tab (a lone CR would otherwise split a line for some readers and not for
 * others). */
static bool head_bytes_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static void trim(const char **p, size_t *n)
{
	while (*n && is_blank(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n && is_blank((*p)[*n - 1]))
		(*n)--;
}

void ev_rawreq_init(struct ev_rawreq *r)
{
	memset(r, 0, sizeof(*r));
}

void ev_rawreq_cleanup(struct ev_rawreq *r)
{
	if (!r)
		return;
	free(r->method);
	free(r->target);
	free(r->path);
	free(r->query);
	free(r->version);
	for (size_t i = 0; i < r->n_headers; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
		free(r->headers[i].raw);
	}
	free(r->body);
	ev_rawreq_init(r);
}

static enum ev_err dup_into(char **dst, const char *s, size_t n)
{
	*dst = ev_strndup(s, n);
	return *dst ? EV_OK : EV_E_NOMEM;
}

static enum ev_err parse_request_line(const char *line, size_t n,
				      struct ev_rawreq *r, struct ev_error *err)
{
	EV_ENSURE_E(err, head_bytes_ok(line, n), EV_E_MALFORMED,
		    "request line: a control byte");
	const char *first = memchr(line, ' ', n);
	const char *last = memrchr(line, ' ', n);
	EV_ENSURE_E(err, first && last != first, EV_E_MALFORMED,
		    "request line: not METHOD TARGET VERSION");
	size_t method_len = (size_t)(first - line);
	const char *target = first + 1;
	size_t target_len = (size_t)(last - target);
	const char *version = last + 1;
	size_t version_len = n - (size_t)(version - line);
	EV_ENSURE_E(err, is_token(line, method_len), EV_E_MALFORMED,
		    "request line: the method is not an HTTP token");
	EV_ENSURE_E(err, target_len > 0 && target[0] == '/', EV_E_MALFORMED,
		    "request line: the target does not start with '/'");
	EV_ENSURE_E(
	    err,
	    version_len == 8 && !memcmp(version, "HTTP/", 5) &&
		version[5] >= '0' && version[5] <= '9' && version[6] == '.' &&
		version[7] >= '0' && version[7] <= '9',
	    EV_E_MALFORMED, "request line: the version is not HTTP/x.y");

	const char *q = memchr(target, '?', target_len);
	size_t path_len = q ? (size_t)(q - target) : target_len;
	EV_TRY(dup_into(&r->method, line, method_len));
	EV_TRY(dup_into(&r->target, target, target_len));
	EV_TRY(dup_into(&r->path, target, path_len));
	if (q)
		EV_TRY(dup_into(&r->query, q + 1, target_len - path_len - 1));
	EV_TRY(dup_into(&r->version, version, version_len));
	return EV_OK;
}

/* The header being read: its value grows with continuation lines. */
struct pending {
	bool open;
	const char *raw_start;
	const char *raw_end;
	struct ev_buf value;
};

/* Stores the pending header as the next one of r. */
static enum ev_err close_header(struct pending *h, struct ev_rawreq *r)
{
	if (!h->open)
		return EV_OK;
	struct ev_rawreq_header *dst = &r->headers[r->n_headers - 1];
	h->open = false;
	dst->value = ev_buf_take(&h->value);
	EV_ENSURE(dst->value, EV_E_NOMEM);
	return dup_into(&dst->raw, h->raw_start,
			(size_t)(h->raw_end - h->raw_start));
}

static enum ev_err header_line(const char *line, size_t n, size_t lineno,
			       struct pending *h, struct ev_rawreq *r,
			       struct ev_error *err)
{
	if (is_blank(line[0])) {
		EV_ENSURE_E(err, h->open, EV_E_MALFORMED,
			    "line %zu: a continuation line before any header",
			    lineno);
		const char *p = line;
		size_t len = n;
		trim(&p, &len);
		if (len && h->value.len)
			EV_TRY(ev_buf_append_char(&h->value, ' '));
		EV_TRY(ev_buf_append(&h->value, p, len));
		h->raw_end = line + n;
		return EV_OK;
	}
	EV_TRY(close_header(h, r));
	const char *colon = memchr(line, ':', n);
	EV_ENSURE_E(err, colon, EV_E_MALFORMED, "line %zu: no colon", lineno);
	size_t name_len = (size_t)(colon - line);
	EV_ENSURE_E(err, is_token(line, name_len), EV_E_MALFORMED,
		    "line %zu: the header name is not an HTTP token", lineno);
	EV_ENSURE_E(err, r->n_headers < EV_LIMIT_SIGV4_HEADERS, EV_E_LIMIT,
		    "line %zu: more than %d headers", lineno,
		    EV_LIMIT_SIGV4_HEADERS);
	struct ev_rawreq_header *dst = &r->headers[r->n_headers++];
	EV_TRY(dup_into(&dst->name, line, name_len));
	const char *v = colon + 1;
	size_t v_len = n - name_len - 1;
	trim(&v, &v_len);
	ev_buf_reset(&h->value);
	EV_TRY(ev_buf_append(&h->value, v, v_len));
	h->open = true;
	h->raw_start = line;
	h->raw_end = line + n;
	return EV_OK;
}

static enum ev_err parse(struct ev_cursor *c, struct ev_rawreq *r,
			 struct pending *h, struct ev_error *err)
{
	const char *line;
	size_t n;
	EV_ENSURE_E(err, ev_cursor_left(c) > 0, EV_E_MALFORMED,
		    "the request is empty");
	EV_TRY(ev_cursor_line(c, EV_LIMIT_REQUEST_TEXT, &line, &n));
	r->crlf =
	    c->pos >= 2 && c->p[c->pos - 1] == '\n' && c->p[c->pos - 2] == '\r';
	EV_TRY(parse_request_line(line, n, r, err));

	for (size_t lineno = 2; ev_cursor_left(c) > 0; lineno++) {
		EV_TRY(ev_cursor_line(c, EV_LIMIT_REQUEST_TEXT, &line, &n));
		if (n == 0)
			break; /* the blank line: the body follows */
		EV_ENSURE_E(err, head_bytes_ok(line, n), EV_E_MALFORMED,
			    "line %zu: a NUL or control byte", lineno);
		EV_TRY(header_line(line, n, lineno, h, r, err));
	}
	EV_TRY(close_header(h, r));

	size_t left = ev_cursor_left(c);
	if (left) {
		const unsigned char *body;
		EV_TRY(ev_cursor_take(c, left, &body));
		r->body = malloc(left);
		EV_ENSURE(r->body, EV_E_NOMEM);
		memcpy(r->body, body, left);
		r->body_len = left;
	}
	return EV_OK;
}

enum ev_err ev_rawreq_parse(const void *text, size_t len, struct ev_rawreq *r,
			    struct ev_error *err)
{
	ev_rawreq_cleanup(r);
	ev_error_clear(err);
	if (len > EV_LIMIT_REQUEST_TEXT)
		return ev_error_set(err, EV_E_LIMIT,
				    "the request is longer than %u bytes",
				    EV_LIMIT_REQUEST_TEXT);
	struct ev_cursor c;
	ev_cursor_init(&c, text, len);
	struct pending h = {0};
	ev_buf_init(&h.value, EV_LIMIT_REQUEST_TEXT);
	enum ev_err rc = parse(&c, r, &h, err);
	if (rc != EV_OK) {
		/* Errors from the buffers and the cursor carry no message. */
		if (err && err->code == EV_OK)
			ev_error_set(err, rc, "reading the request: %s",
				     ev_err_name(rc));
		ev_rawreq_cleanup(r);
	}
	ev_buf_cleanup(&h.value);
	return rc;
}

const char *ev_rawreq_header(const struct ev_rawreq *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (!strcasecmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}
