#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bounds.h"
#include "buf.h"
#include "rawreq.h"

#define MAX_WANT_HEADERS 4

struct ok_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	const char *method, *target, *path, *query, *version;
	size_t n_headers;
	struct {
		const char *name, *value, *raw;
	} headers[MAX_WANT_HEADERS];
	const char *body;
	size_t body_len;
	bool crlf;
};

/* Unset fields: length from strlen, no query, no headers, no body, LF. */
static const struct ok_case ok_cases[] = {
    {.text = "GET / HTTP/1.1\nHost:example.amazonaws.com\n",
     .method = "GET",
     .target = "/",
     .path = "/",
     .version = "HTTP/1.1",
     .n_headers = 1,
     .headers = {{"Host", "example.amazonaws.com",
		  "Host:example.amazonaws.com"}}},
    /* no final line end, no blank line */
    {.text = "GET / HTTP/1.1\nHost:h\nX-Amz-Date:20150830T123600Z",
     .method = "GET",
     .target = "/",
     .path = "/",
     .version = "HTTP/1.1",
     .n_headers = 2,
     .headers = {{"Host", "h", "Host:h"},
		 {"X-Amz-Date", "20150830T123600Z",
		  "X-Amz-Date:20150830T123600Z"}}},
    /* a raw space in the target: split at the first and the last space */
    {.text = "GET /example space/ HTTP/1.1\r\nHost:h\r\n\r\n",
     .method = "GET",
     .target = "/example space/",
     .path = "/example space/",
     .version = "HTTP/1.1",
     .n_headers = 1,
     .headers = {{"Host", "h", "Host:h"}},
     .crlf = true},
    {.text = "GET /a b?x=1 2 HTTP/1.0\nHost:h\n",
     .method = "GET",
     .target = "/a b?x=1 2",
     .path = "/a b",
     .query = "x=1 2",
     .version = "HTTP/1.0",
     .n_headers = 1,
     .headers = {{"Host", "h", "Host:h"}}},
    /* any blanks or none after the colon; trailing blanks dropped */
    {.text = "POST /?a=b&c HTTP/1.1\r\nHost: h\r\nX:\t v \t\r\nEmpty:\r\n"
	     "\r\nbody\r\nmore",
     .method = "POST",
     .target = "/?a=b&c",
     .path = "/",
     .query = "a=b&c",
     .version = "HTTP/1.1",
     .n_headers = 3,
     .headers = {{"Host", "h", "Host: h"},
		 {"X", "v", "X:\t v \t"},
		 {"Empty", "", "Empty:"}},
     .body = "body\r\nmore",
     .body_len = 10,
     .crlf = true},
    /* continuation lines join with one space; raw keeps them */
    {.text = "GET / HTTP/1.1\nHost:h\nMy-Header1:value1\n  value2\n"
	     "     value3\nX-Amz-Date:20150830T123600Z",
     .method = "GET",
     .target = "/",
     .path = "/",
     .version = "HTTP/1.1",
     .n_headers = 3,
     .headers = {{"Host", "h", "Host:h"},
		 {"My-Header1", "value1 value2 value3",
		  "My-Header1:value1\n  value2\n     value3"},
		 {"X-Amz-Date", "20150830T123600Z",
		  "X-Amz-Date:20150830T123600Z"}}},
    {.text = "GET / HTTP/1.1\nHost:h\nE:\n\tlater\n \t \n",
     .method = "GET",
     .target = "/",
     .path = "/",
     .version = "HTTP/1.1",
     .n_headers = 2,
     .headers = {{"Host", "h", "Host:h"}, {"E", "later", "E:\n\tlater\n \t "}}},
    /* an empty query, and a body holding NUL and a blank line */
    {.text = "PUT /p? HTTP/1.1\nHost:h\n\na\0b\n\nc",
     .len = 31,
     .method = "PUT",
     .target = "/p?",
     .path = "/p",
     .query = "",
     .version = "HTTP/1.1",
     .n_headers = 1,
     .headers = {{"Host", "h", "Host:h"}},
     .body = "a\0b\n\nc",
     .body_len = 6},
    /* UTF-8 in the target and in a value, odd token characters */
    {.text = "GET /\xe1\x88\xb4?\xe1\x88\xb4=bar HTTP/1.1\nHost:h\n"
	     "x!#$%&'*+-.^_`|~:caf\xc3\xa9\n",
     .method = "GET",
     .target = "/\xe1\x88\xb4?\xe1\x88\xb4=bar",
     .path = "/\xe1\x88\xb4",
     .query = "\xe1\x88\xb4=bar",
     .version = "HTTP/1.1",
     .n_headers = 2,
     .headers = {{"Host", "h", "Host:h"},
		 {"x!#$%&'*+-.^_`|~", "caf\xc3\xa9",
		  "x!#$%&'*+-.^_`|~:caf\xc3\xa9"}}},
    /* headers are optional */
    {.text = "DELETE /x HTTP/1.1",
     .method = "DELETE",
     .target = "/x",
     .path = "/x",
     .version = "HTTP/1.1"},
};

static void parse_ok_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
		const struct ok_case *c = &ok_cases[i];
		struct ev_rawreq r;
		struct ev_error err = {0};
		ev_rawreq_init(&r);
		size_t len = c->len ? c->len : strlen(c->text);
		enum ev_err rc = ev_rawreq_parse(c->text, len, &r, &err);
		if (rc != EV_OK)
			fail_msg("case %zu: %s", i, err.message);
		assert_string_equal(r.method, c->method);
		assert_string_equal(r.target, c->target);
		assert_string_equal(r.path, c->path);
		if (c->query)
			assert_string_equal(r.query, c->query);
		else
			assert_null(r.query);
		assert_string_equal(r.version, c->version);
		assert_int_equal(r.n_headers, c->n_headers);
		for (size_t h = 0; h < c->n_headers; h++) {
			assert_string_equal(r.headers[h].name,
					    c->headers[h].name);
			assert_string_equal(r.headers[h].value,
					    c->headers[h].value);
			assert_string_equal(r.headers[h].raw,
					    c->headers[h].raw);
		}
		assert_int_equal(r.body_len, c->body_len);
		if (c->body)
			assert_memory_equal(r.body, c->body, c->body_len);
		else
			assert_null(r.body);
		assert_int_equal(r.crlf, c->crlf);
		ev_rawreq_cleanup(&r);
		assert_null(r.method);
	}
}

struct bad_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	enum ev_err want;
};

static const struct bad_case bad_cases[] = {
    {"", 0, EV_E_MALFORMED},
    {"\n", 0, EV_E_MALFORMED},
    {"GET", 0, EV_E_MALFORMED},
    {"GET /", 0, EV_E_MALFORMED},
    {"GET / ", 0, EV_E_MALFORMED},
    {" / HTTP/1.1", 0, EV_E_MALFORMED},
    {"G(T / HTTP/1.1", 0, EV_E_MALFORMED},
    {"GET x HTTP/1.1", 0, EV_E_MALFORMED},
    {"GET  / HTTP/1.1", 0, EV_E_MALFORMED},
    {"GET http://h/ HTTP/1.1", 0, EV_E_MALFORMED},
    {"GET / HTTP/2", 0, EV_E_MALFORMED},
    {"GET / FTP/1.1", 0, EV_E_MALFORMED},
    {"GET / HTTP/1.1x", 0, EV_E_MALFORMED},
    {"GET / HTTP/1.1\nNoColon\n", 0, EV_E_MALFORMED},
    {"GET / HTTP/1.1\n continued: before any header\n", 0, EV_E_MALFORMED},
    {"GET / HTTP/1.1\nBad Name: v\n", 0, EV_E_MALFORMED},
    {"GET / HTTP/1.1\nName : v\n", 0, EV_E_MALFORMED},
    {"GET / HTTP/1.1\n:v\n", 0, EV_E_MALFORMED},
    {"GET / HTTP/1.1\nN(ame):v\n", 0, EV_E_MALFORMED},
    {"GET / HTTP/1.1\nX: a\x01"
     "b\n",
     0, EV_E_MALFORMED},
    {"GET / HTTP/1.1\nX: a\rb\n", 0, EV_E_MALFORMED},
    {"GET / HTTP/1.1\nX: a\x7f\n", 0, EV_E_MALFORMED},
    {"GET / HTTP/1.1\nX: a\0b\n", 22, EV_E_MALFORMED},
    {"GET /\0 HTTP/1.1\n", 16, EV_E_MALFORMED},
    {"GET /\x1b HTTP/1.1\n", 0, EV_E_MALFORMED},
};

static void parse_bad_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct ev_rawreq r;
		struct ev_error err = {0};
		ev_rawreq_init(&r);
		size_t len = c->len ? c->len : strlen(c->text);
		enum ev_err rc = ev_rawreq_parse(c->text, len, &r, &err);
		if (rc != c->want)
			fail_msg("case %zu: got %s, want %s", i,
				 ev_err_name(rc), ev_err_name(c->want));
		assert_int_equal(err.code, c->want);
		assert_true(err.message[0] != '\0');
		/* nothing half-parsed survives */
		assert_null(r.method);
		assert_null(r.target);
		assert_int_equal(r.n_headers, 0);
		assert_null(r.body);
		ev_rawreq_cleanup(&r);
	}
}

static void too_many_headers(void **state)
{
	(void)state;
	struct ev_buf text;
	ev_buf_init(&text, EV_LIMIT_REQUEST_TEXT);
	assert_int_equal(ev_buf_append_str(&text, "GET / HTTP/1.1\n"), EV_OK);
	for (int i = 0; i < EV_LIMIT_SIGV4_HEADERS; i++)
		assert_int_equal(ev_buf_printf(&text, "H%d: v\n", i), EV_OK);
	struct ev_rawreq r;
	struct ev_error err = {0};
	ev_rawreq_init(&r);
	assert_int_equal(ev_rawreq_parse(text.data, text.len, &r, &err), EV_OK);
	assert_int_equal(r.n_headers, EV_LIMIT_SIGV4_HEADERS);
	/* continuation lines do not count as headers */
	assert_int_equal(ev_buf_append_str(&text, " more\n"), EV_OK);
	assert_int_equal(ev_rawreq_parse(text.data, text.len, &r, &err), EV_OK);
	assert_string_equal(r.headers[EV_LIMIT_SIGV4_HEADERS - 1].value,
			    "v more");
	assert_int_equal(ev_buf_append_str(&text, "One-Too-Many: v\n"), EV_OK);
	assert_int_equal(ev_rawreq_parse(text.data, text.len, &r, &err),
			 EV_E_LIMIT);
	assert_int_equal(err.code, EV_E_LIMIT);
	assert_int_equal(r.n_headers, 0);
	ev_rawreq_cleanup(&r);
	ev_buf_cleanup(&text);
}

static void text_limit(void **state)
{
	(void)state;
	size_t n = EV_LIMIT_REQUEST_TEXT + 1;
	char *text = malloc(n);
	assert_non_null(text);
	const char *head = "POST / HTTP/1.1\nHost:h\n\n";
	memset(text, 'b', n);
	memcpy(text, head, strlen(head));
	struct ev_rawreq r;
	struct ev_error err = {0};
	ev_rawreq_init(&r);
	assert_int_equal(ev_rawreq_parse(text, n, &r, &err), EV_E_LIMIT);
	assert_int_equal(err.code, EV_E_LIMIT);
	assert_int_equal(ev_rawreq_parse(text, n - 1, &r, &err), EV_OK);
	assert_int_equal(r.body_len, n - 1 - strlen(head));
	ev_rawreq_cleanup(&r);
	free(text);
}

static void reparse_replaces(void **state)
{
	(void)state;
	struct ev_rawreq r;
	struct ev_error err = {0};
	ev_rawreq_init(&r);
	const char *a = "POST /a HTTP/1.1\nHost:a\nX:1\n\nbody";
	const char *b = "GET /b HTTP/1.1\nhost:b\n";
	assert_int_equal(ev_rawreq_parse(a, strlen(a), &r, &err), EV_OK);
	assert_int_equal(ev_rawreq_parse(b, strlen(b), &r, &err), EV_OK);
	assert_string_equal(r.method, "GET");
	assert_int_equal(r.n_headers, 1);
	assert_null(r.body);
	ev_rawreq_cleanup(&r);
	ev_rawreq_cleanup(&r); /* idempotent */
}

static void header_lookup(void **state)
{
	(void)state;
	struct ev_rawreq r;
	struct ev_error err = {0};
	ev_rawreq_init(&r);
	const char *t =
	    "GET / HTTP/1.1\nHost:h\nX-Amz-Date: d1\nx-amz-date:d2\n";
	assert_int_equal(ev_rawreq_parse(t, strlen(t), &r, &err), EV_OK);
	assert_string_equal(ev_rawreq_header(&r, "x-amz-date"), "d1");
	assert_string_equal(ev_rawreq_header(&r, "HOST"), "h");
	assert_null(ev_rawreq_header(&r, "Authorization"));
	ev_rawreq_cleanup(&r);
	assert_null(ev_rawreq_header(&r, "host"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_ok_table),
	    cmocka_unit_test(parse_bad_table),
	    cmocka_unit_test(too_many_headers),
	    cmocka_unit_test(text_limit),
	    cmocka_unit_test(reparse_replaces),
	    cmocka_unit_test(header_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
