#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bounds.h"
#include "buf.h"
#include "http.h"

#define MAX_LINES  8
#define MAX_EXPECT 4

struct header_case {
	const char *name;
	const char *lines[MAX_LINES];
	long status;
	bool truncated;
	size_t n_headers;
	struct {
		const char *name;
		const char *value;
	} expect[MAX_EXPECT];
};

static const struct header_case cases[] = {
    {"crlf block",
     {"HTTP/1.1 200 OK\r\n", "Content-Type: text/xml\r\n",
      "x-amzn-RequestId: 1b2c\r\n", "\r\n"},
     200,
     false,
     2,
     {{"content-type", "text/xml"}, {"x-amzn-requestid", "1b2c"}}},
    {"lf only",
     {"HTTP/1.1 404 Not Found\n", "Date: Sat, 01 Mar 2025 10:00:00 GMT\n",
      "\n"},
     404,
     false,
     1,
     {{"date", "Sat, 01 Mar 2025 10:00:00 GMT"}}},
    {"no terminator",
     {"HTTP/1.1 204 No Content", "ETag: \"5d41\""},
     204,
     false,
     1,
     {{"etag", "\"5d41\""}}},
    {"100 continue then 200",
     {"HTTP/1.1 100 Continue\r\n", "X-Early: yes\r\n", "\r\n",
      "HTTP/1.1 200 OK\r\n", "X-Late: yes\r\n", "\r\n"},
     200,
     false,
     1,
     {{"x-late", "yes"}}},
    {"http2 status, value with colons",
     {"HTTP/2 403 \r\n",
      "x-amzn-ErrorType: UnrecognizedClientException:http://internal."
      "amazon.com/coral/com.amazon.coral.service/\r\n"},
     403,
     false,
     1,
     {{"x-amzn-errortype", "UnrecognizedClientException:http://internal."
			   "amazon.com/coral/com.amazon.coral.service/"}}},
    {"status without reason",
     {"HTTP/1.1 503\r\n", "Retry-After: 1\r\n"},
     503,
     false,
     1,
     {{"retry-after", "1"}}},
    {"whitespace trimmed, inner kept",
     {"HTTP/1.1 200 OK\r\n", "X-Note: \t two  inner \t \r\n", "X-Empty:\r\n",
      "X-Blank:   \r\n"},
     200,
     false,
     3,
     {{"x-note", "two  inner"}, {"x-empty", ""}, {"x-blank", ""}}},
    {"obs-fold continuation",
     {"HTTP/1.1 200 OK\r\n", "X-Long: first\r\n", "   second \r\n",
      "\tthird\r\n", "X-Next: n\r\n"},
     200,
     false,
     2,
     {{"x-long", "first second third"}, {"x-next", "n"}}},
    {"fold onto an empty value",
     {"HTTP/1.1 200 OK\r\n", "X-Long:\r\n", " only\r\n"},
     200,
     false,
     1,
     {{"x-long", "only"}}},
    {"fold without a header before it",
     {"HTTP/1.1 200 OK\r\n", " orphan\r\n", "X-A: 1\r\n"},
     200,
     false,
     1,
     {{"x-a", "1"}}},
    {"fold after a malformed line",
     {"HTTP/1.1 200 OK\r\n", "X-A: 1\r\n", "garbage\r\n", " cont\r\n"},
     200,
     false,
     1,
     {{"x-a", "1"}}},
    {"fold after the blank line",
     {"HTTP/1.1 200 OK\r\n", "X-A: 1\r\n", "\r\n", " trailer\r\n"},
     200,
     false,
     1,
     {{"x-a", "1"}}},
    {"missing colon, empty name, space before colon, bad token",
     {"HTTP/1.1 200 OK\r\n", "NoColonHere\r\n", ": value\r\n", "Name : v\r\n",
      "Na(me): v\r\n", "X-Ok: ok\r\n"},
     200,
     false,
     1,
     {{"x-ok", "ok"}}},
    {"names lower-cased, values untouched",
     {"HTTP/1.1 200 OK\r\n", "X-AMZ-Request-ID: AbC\r\n"},
     200,
     false,
     1,
     {{"x-amz-request-id", "AbC"}}},
    {"malformed status codes",
     {"HTTP/1.1 2x0 OK\r\n", "X-A: 1\r\n"},
     0,
     false,
     1,
     {{"x-a", "1"}}},
    {"four-digit status",
     {"HTTP/1.1 2000 OK\r\n"},
     0,
     false,
     0,
     {{NULL, NULL}}},
    {"status line without code", {"HTTP/1.1\r\n"}, 0, false, 0, {{NULL, NULL}}},
    {"duplicate names kept in order",
     {"HTTP/1.1 200 OK\r\n", "Set-X: a\r\n", "set-x: b\r\n"},
     200,
     false,
     2,
     {{"set-x", "a"}, {"set-x", "b"}}},
};

static void feed(struct ev_http_response *r, const char *line)
{
	assert_int_equal(ev_http_response_header_line(r, line, strlen(line)),
			 EV_OK);
}

static void header_table(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct header_case *tc = &cases[c];
		struct ev_http_response r;
		ev_http_response_init(&r, 0);
		for (size_t i = 0; i < MAX_LINES && tc->lines[i]; i++)
			feed(&r, tc->lines[i]);
		if (r.status != tc->status || r.n_headers != tc->n_headers ||
		    r.headers_truncated != tc->truncated)
			fail_msg("%s: status %ld headers %zu truncated %d",
				 tc->name, r.status, r.n_headers,
				 r.headers_truncated);
		for (size_t i = 0; i < tc->n_headers; i++) {
			if (strcmp(r.headers[i].name, tc->expect[i].name) !=
				0 ||
			    strcmp(r.headers[i].value, tc->expect[i].value) !=
				0)
				fail_msg("%s: header %zu is [%s]=[%s]",
					 tc->name, i, r.headers[i].name,
					 r.headers[i].value);
		}
		ev_http_response_cleanup(&r);
	}
}

static char *line_of(size_t value_len)
{
	char *s = malloc(value_len + 8);
	assert_non_null(s);
	memcpy(s, "X-B: ", 5);
	memset(s + 5, 'v', value_len);
	memcpy(s + 5 + value_len, "\r\n", 3);
	return s;
}

static void over_long_line_dropped(void **state)
{
	(void)state;
	struct ev_http_response r;
	ev_http_response_init(&r, 0);
	feed(&r, "HTTP/1.1 200 OK\r\n");
	/* Exactly at the limit (CRLF not counted): kept. */
	char *at = line_of(EV_LIMIT_HTTP_HEADER_LINE - 5);
	feed(&r, at);
	assert_int_equal(r.n_headers, 1);
	assert_int_equal(strlen(r.headers[0].value),
			 EV_LIMIT_HTTP_HEADER_LINE - 5);
	assert_false(r.headers_truncated);
	char *over = line_of(EV_LIMIT_HTTP_HEADER_LINE - 4);
	feed(&r, over);
	assert_int_equal(r.n_headers, 1);
	assert_true(r.headers_truncated);
	/* The dropped line's continuation must not land on the header before
	 * it. */
	feed(&r, " continuation\r\n");
	assert_int_equal(strlen(r.headers[0].value),
			 EV_LIMIT_HTTP_HEADER_LINE - 5);
	/* A new block starts clean. */
	feed(&r, "HTTP/1.1 200 OK\r\n");
	assert_false(r.headers_truncated);
	assert_int_equal(r.n_headers, 0);
	free(at);
	free(over);
	ev_http_response_cleanup(&r);
}

static void folding_past_the_limit_dropped(void **state)
{
	(void)state;
	struct ev_http_response r;
	ev_http_response_init(&r, 0);
	char *big = line_of(EV_LIMIT_HTTP_HEADER_LINE - 10);
	feed(&r, big);
	feed(&r, " 0123456789\r\n");
	assert_true(r.headers_truncated);
	assert_int_equal(strlen(r.headers[0].value),
			 EV_LIMIT_HTTP_HEADER_LINE - 10);
	free(big);
	ev_http_response_cleanup(&r);
}

static void too_many_headers(void **state)
{
	(void)state;
	struct ev_http_response r;
	ev_http_response_init(&r, 0);
	feed(&r, "HTTP/1.1 200 OK\r\n");
	char line[64];
	for (int i = 0; i < EV_LIMIT_HTTP_HEADERS + 5; i++) {
		snprintf(line, sizeof(line), "X-H%d: %d\r\n", i, i);
		feed(&r, line);
	}
	assert_int_equal(r.n_headers, EV_LIMIT_HTTP_HEADERS);
	assert_true(r.headers_truncated);
	snprintf(line, sizeof(line), "x-h%d", EV_LIMIT_HTTP_HEADERS - 1);
	assert_non_null(ev_http_response_header(&r, line));
	snprintf(line, sizeof(line), "x-h%d", EV_LIMIT_HTTP_HEADERS);
	assert_null(ev_http_response_header(&r, line));
	ev_http_response_cleanup(&r);
}

static void nul_byte_line_ignored(void **state)
{
	(void)state;
	struct ev_http_response r;
	ev_http_response_init(&r, 0);
	static const char line[] = "X-A: a\0b\r\n";
	assert_int_equal(
	    ev_http_response_header_line(&r, line, sizeof(line) - 1), EV_OK);
	assert_int_equal(r.n_headers, 0);
	assert_int_equal(ev_http_response_header_line(&r, NULL, 0), EV_OK);
	ev_http_response_cleanup(&r);
}

static void lookup_and_helpers(void **state)
{
	(void)state;
	struct ev_http_response r;
	ev_http_response_init(&r, 0);
	assert_int_equal(r.body.limit, EV_LIMIT_HTTP_BODY);
	assert_true(r.body.secret);
	feed(&r, "HTTP/1.1 200 OK\r\n");
	feed(&r, "X-Amz-Request-Id: first\r\n");
	feed(&r, "x-amz-request-id: second\r\n");
	assert_string_equal(ev_http_response_header(&r, "X-AMZ-REQUEST-ID"),
			    "first");
	assert_null(ev_http_response_header(&r, "x-amz-id-2"));
	assert_null(ev_http_response_header(&r, NULL));
	assert_null(ev_http_response_header(NULL, "a"));
	assert_int_equal(ev_buf_append_str(&r.body, "<xml/>"), EV_OK);
	r.seconds = 1.5;

	ev_http_response_reset(&r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.n_headers, 0);
	assert_int_equal(r.body.len, 0);
	assert_string_equal(ev_buf_str(&r.body), "");
	assert_true(r.seconds == 0);
	assert_int_equal(r.body.limit, EV_LIMIT_HTTP_BODY);
	ev_http_response_cleanup(&r);
	ev_http_response_cleanup(&r); /* twice: still safe */

	ev_http_response_init(&r, 10);
	assert_int_equal(r.body.limit, 10);
	assert_int_equal(ev_buf_append_str(&r.body, "01234567890"), EV_E_LIMIT);
	ev_http_response_cleanup(&r);

	struct ev_http_response z;
	memset(&z, 0, sizeof(z));
	ev_http_response_cleanup(&z);
	ev_http_response_cleanup(NULL);
	ev_http_free(NULL);
}

/* Transport checks that need no peer: they fail before any connection. */

static struct ev_http *transport(bool allow_http)
{
	struct ev_http_options o = {.allow_http = allow_http,
				    .connect_timeout_ms = 2000,
				    .timeout_ms = 2000};
	struct ev_error e = {0};
	struct ev_http *h = ev_http_curl_new(&o, &e);
	assert_non_null(h);
	return h;
}

static enum ev_err perform(struct ev_http *h, const char *method,
			   const char *url, const struct ev_http_header *hdrs,
			   size_t n_hdrs, struct ev_error *e)
{
	struct ev_http_request req = {
	    .method = method, .url = url, .headers = hdrs, .n_headers = n_hdrs};
	struct ev_http_response r;
	ev_http_response_init(&r, 0);
	enum ev_err rc = ev_http_perform(h, &req, &r, e);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.n_headers, 0);
	ev_http_response_cleanup(&r);
	return rc;
}

static void transport_refuses_bad_requests(void **state)
{
	(void)state;
	struct ev_http *h = transport(false);
	struct ev_error e = {0};
	assert_int_equal(perform(h, "GET", "http://127.0.0.1:1/", NULL, 0, &e),
			 EV_E_CONFIG);
	assert_non_null(strstr(e.message, "http"));
	assert_int_equal(perform(h, "GET", "ftp://example.com/", NULL, 0, &e),
			 EV_E_CONFIG);
	assert_int_equal(perform(h, "GET", "file:///etc/passwd", NULL, 0, &e),
			 EV_E_CONFIG);
	assert_int_equal(perform(h, "GET", "not a url", NULL, 0, &e),
			 EV_E_CONFIG);
	assert_int_equal(perform(h, "GET", NULL, NULL, 0, &e), EV_E_CONFIG);
	assert_int_equal(
	    perform(h, "GE T", "https://127.0.0.1:1/", NULL, 0, &e),
	    EV_E_CONFIG);
	assert_int_equal(perform(h, "", "https://127.0.0.1:1/", NULL, 0, &e),
			 EV_E_CONFIG);
	/* A header that would split the request: refused, never echoed. */
	const struct ev_http_header inject[] = {
	    {"X-Amz-Security-Token", "SECRETTOKEN\r\nX-Evil: 1"}};
	assert_int_equal(
	    perform(h, "GET", "https://127.0.0.1:1/", inject, 1, &e),
	    EV_E_CONFIG);
	assert_null(strstr(e.message, "SECRETTOKEN"));
	const struct ev_http_header bad_name[] = {{"X Bad", "v"}};
	assert_int_equal(
	    perform(h, "GET", "https://127.0.0.1:1/", bad_name, 1, &e),
	    EV_E_CONFIG);
	ev_http_free(h);
}

static void transport_options_checked(void **state)
{
	(void)state;
	struct ev_error e = {0};
	struct ev_http_options o = {.timeout_ms = -1};
	assert_null(ev_http_curl_new(&o, &e));
	assert_int_equal(e.code, EV_E_CONFIG);
	struct ev_http_options ca = {.ca_bundle = "/nonexistent/ca.pem"};
	assert_null(ev_http_curl_new(&ca, &e));
	assert_int_equal(e.code, EV_E_CONFIG);
	assert_non_null(strstr(e.message, "/nonexistent/ca.pem"));
	struct ev_http *h = ev_http_curl_new(NULL, &e);
	assert_non_null(h);
	ev_http_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(header_table),
	    cmocka_unit_test(over_long_line_dropped),
	    cmocka_unit_test(folding_past_the_limit_dropped),
	    cmocka_unit_test(too_many_headers),
	    cmocka_unit_test(nul_byte_line_ignored),
	    cmocka_unit_test(lookup_and_helpers),
	    cmocka_unit_test(transport_refuses_bad_requests),
	    cmocka_unit_test(transport_options_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
