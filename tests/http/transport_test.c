/* The curl transport against tests/http/peer.py: a real TLS peer on
 * loopback with its own throw-away CA. Run by peer.py, which appends the path
 * of its description (ports, CA files) to the arguments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cmocka.h>

#include <jansson.h>

#include "digest.h"
#include "http.h"

#define URL_MAX	   256
#define THREADS	   4
#define PER_THREAD 50
#define SENTINEL   "SENTINEL-SECRET-TOKEN"

static struct {
	long https_port;
	long http_port;
	long misnamed_port;
	char ca[1024];
	char wrong_ca[1024];
} peer;

static void url_of(char *out, bool https, const char *path)
{
	snprintf(out, URL_MAX, "%s://127.0.0.1:%ld%s", https ? "https" : "http",
		 https ? peer.https_port : peer.http_port, path);
}

static struct ev_http *transport_with(const char *ca, size_t max_body,
				      bool allow_http)
{
	struct ev_http_options o = {.ca_bundle = ca,
				    .connect_timeout_ms = 5000,
				    .timeout_ms = 20000,
				    .max_body = max_body,
				    .allow_http = allow_http};
	struct ev_error e = {0};
	struct ev_http *h = ev_http_curl_new(&o, &e);
	if (!h)
		fail_msg("transport: %s", e.message);
	return h;
}

static struct ev_http *transport(void)
{
	return transport_with(peer.ca, 0, false);
}

static enum ev_err call(struct ev_http *h, const char *method, const char *url,
			const struct ev_http_header *hdrs, size_t n_hdrs,
			const void *body, size_t body_len,
			struct ev_http_response *resp, struct ev_error *e)
{
	struct ev_http_request req = {.method = method,
				      .url = url,
				      .headers = hdrs,
				      .n_headers = n_hdrs,
				      .body = body,
				      .body_len = body_len};
	ev_error_clear(e);
	return ev_http_perform(h, &req, resp, e);
}

static json_t *echo_of(const struct ev_http_response *r)
{
	json_error_t je;
	json_t *j = json_loadb(r->body.data, r->body.len, 0, &je);
	if (!j)
		fail_msg("echo is not JSON: %s", je.text);
	return j;
}

static bool gives(const struct ev_http_header *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(h[i].name, name) == 0)
			return true;
	return false;
}

/* The headers the peer received must be exactly the ones given, in order,
 * plus the Content-Length curl adds for a body when the caller gave none
 * (checked on its own): nothing else curl would add (Accept, Expect,
 * User-Agent, Accept-Encoding, a default Content-Type), nothing twice. */
static void assert_headers_exact(json_t *echo, const struct ev_http_header *h,
				 size_t n, const char *content_length)
{
	json_t *got = json_object_get(echo, "headers");
	bool own_cl = gives(h, n, "Content-Length");
	size_t k = 0, n_cl = 0;
	const char *cl = NULL;
	for (size_t i = 0; i < json_array_size(got); i++) {
		json_t *pair = json_array_get(got, i);
		const char *name = json_string_value(json_array_get(pair, 0));
		const char *value = json_string_value(json_array_get(pair, 1));
		if (strcasecmp(name, "Content-Length") == 0) {
			cl = value;
			n_cl++;
			if (!own_cl)
				continue;
		}
		if (k >= n)
			fail_msg("unexpected header %s: %s", name, value);
		if (strcmp(name, h[k].name) != 0 ||
		    strcmp(value, h[k].value) != 0)
			fail_msg("header %zu: got %s: %s, want %s: %s", k, name,
				 value, h[k].name, h[k].value);
		k++;
	}
	assert_int_equal(k, n);
	assert_true(n_cl <= 1);
	if (content_length)
		assert_string_equal(cl, content_length);
	else
		assert_null(cl);
}

static void assert_body_hex(json_t *echo, const void *body, size_t n)
{
	char *hex = malloc(2 * n + 1);
	assert_non_null(hex);
	ev_hex_encode(body, n, hex);
	assert_string_equal(
	    json_string_value(json_object_get(echo, "body_hex")), hex);
	free(hex);
}

static const struct ev_http_header signed_headers[] = {
    {"Host", "sts.eu-west-1.amazonaws.com"},
    {"X-Amz-Date", "20250301T100000Z"},
    {"X-Amz-Security-Token", SENTINEL},
    {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250301/"
		      "eu-west-1/sts/aws4_request, SignedHeaders=host;"
		      "x-amz-date;x-amz-security-token, Signature=abc123"},
};
#define N_SIGNED (sizeof(signed_headers) / sizeof(signed_headers[0]))

static void get_exact(void **state)
{
	(void)state;
	struct ev_http *h = transport();
	struct ev_http_response r;
	struct ev_error e;
	char url[URL_MAX];
	ev_http_response_init(&r, 0);
	url_of(url, true, "/echo?Marker=a%2Fb%2Bc%3D");
	assert_int_equal(
	    call(h, "GET", url, signed_headers, N_SIGNED, NULL, 0, &r, &e),
	    EV_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(ev_http_response_header(&r, "X-Amzn-RequestId"),
			    "rid-200");
	assert_string_equal(ev_http_response_header(&r, "content-type"),
			    "application/json");
	assert_true(r.seconds > 0);
	json_t *echo = echo_of(&r);
	assert_string_equal(json_string_value(json_object_get(echo, "method")),
			    "GET");
	assert_string_equal(json_string_value(json_object_get(echo, "path")),
			    "/echo?Marker=a%2Fb%2Bc%3D");
	assert_headers_exact(echo, signed_headers, N_SIGNED, NULL);
	assert_body_hex(echo, "", 0);
	json_decref(echo);

	/* Dot segments reach the peer as signed: not normalised away. */
	url_of(url, true, "/echo/./a/../b");
	assert_int_equal(call(h, "GET", url, NULL, 0, NULL, 0, &r, &e), EV_OK);
	echo = echo_of(&r);
	assert_string_equal(json_string_value(json_object_get(echo, "path")),
			    "/echo/./a/../b");
	json_decref(echo);
	ev_http_response_cleanup(&r);
	ev_http_free(h);
}

static void post_exact(void **state)
{
	(void)state;
	struct ev_http *h = transport();
	struct ev_http_response r;
	struct ev_error e;
	char url[URL_MAX];
	ev_http_response_init(&r, 0);
	url_of(url, true, "/echo");
	unsigned char body[256];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (unsigned char)i;
	const struct ev_http_header hdrs[] = {
	    {"Host", "iam.amazonaws.com"},
	    {"Content-Type",
	     "application/x-www-form-urlencoded; charset=utf-8"},
	    {"X-Amz-Date", "20250301T100000Z"},
	    {"Authorization", "AWS4-HMAC-SHA256 Signature=0"},
	};
	assert_int_equal(
	    call(h, "POST", url, hdrs, 4, body, sizeof(body), &r, &e), EV_OK);
	assert_int_equal(r.status, 200);
	json_t *echo = echo_of(&r);
	assert_string_equal(json_string_value(json_object_get(echo, "method")),
			    "POST");
	assert_headers_exact(echo, hdrs, 4, "256");
	assert_body_hex(echo, body, sizeof(body));
	json_decref(echo);

	/* Past curl's 1 MiB threshold it would add Expect: 100-continue. */
	size_t big_n = 1536u * 1024;
	char *big = malloc(big_n);
	assert_non_null(big);
	for (size_t i = 0; i < big_n; i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(call(h, "POST", url, hdrs, 4, big, big_n, &r, &e),
			 EV_OK);
	echo = echo_of(&r);
	assert_headers_exact(echo, hdrs, 4, "1572864");
	assert_body_hex(echo, big, big_n);
	json_decref(echo);
	free(big);

	/* No Content-Type given: curl must not invent its form default. */
	const struct ev_http_header host_only[] = {{"Host", "example.com"}};
	assert_int_equal(call(h, "POST", url, host_only, 1, "{}", 2, &r, &e),
			 EV_OK);
	echo = echo_of(&r);
	assert_headers_exact(echo, host_only, 1, "2");
	json_decref(echo);
	ev_http_response_cleanup(&r);
	ev_http_free(h);
}

static void other_methods(void **state)
{
	(void)state;
	struct ev_http *h = transport();
	struct ev_http_response r;
	struct ev_error e;
	char url[URL_MAX];
	ev_http_response_init(&r, 0);
	url_of(url, true, "/echo");
	/* S3 signs Content-Length: the caller's goes out, and only it. */
	const struct ev_http_header hdrs[] = {
	    {"Host", "evident-archive.s3.eu-west-1.amazonaws.com"},
	    {"Content-Length", "5"},
	    {"Content-Type", "application/json"},
	    {"Content-MD5", "XUFAKrxLKna5cZ2REBfFkg=="},
	};
	assert_int_equal(call(h, "PUT", url, hdrs, 4, "hello", 5, &r, &e),
			 EV_OK);
	json_t *echo = echo_of(&r);
	assert_string_equal(json_string_value(json_object_get(echo, "method")),
			    "PUT");
	assert_headers_exact(echo, hdrs, 4, "5");
	assert_body_hex(echo, "hello", 5);
	json_decref(echo);

	/* An IMDS token PUT: no body, still a Content-Length. */
	const struct ev_http_header ttl[] = {
	    {"Host", "169.254.169.254"},
	    {"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
	assert_int_equal(call(h, "PUT", url, ttl, 2, NULL, 0, &r, &e), EV_OK);
	echo = echo_of(&r);
	assert_headers_exact(echo, ttl, 2, "0");
	json_decref(echo);

	assert_int_equal(call(h, "DELETE", url, ttl, 1, NULL, 0, &r, &e),
			 EV_OK);
	echo = echo_of(&r);
	assert_string_equal(json_string_value(json_object_get(echo, "method")),
			    "DELETE");
	assert_headers_exact(echo, ttl, 1, NULL);
	json_decref(echo);

	assert_int_equal(call(h, "HEAD", url, NULL, 0, NULL, 0, &r, &e), EV_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	assert_non_null(ev_http_response_header(&r, "content-length"));

	/* A non-2xx answer is an answer, not a transport error. */
	url_of(url, true, "/status/503");
	assert_int_equal(call(h, "POST", url, NULL, 0, "x", 1, &r, &e), EV_OK);
	assert_int_equal(r.status, 503);
	assert_string_equal(ev_http_response_header(&r, "x-amzn-requestid"),
			    "rid-503");
	ev_http_response_cleanup(&r);
	ev_http_free(h);
}

static void interim_and_folded_headers(void **state)
{
	(void)state;
	struct ev_http *h = transport();
	struct ev_http_response r;
	struct ev_error e;
	char url[URL_MAX];
	ev_http_response_init(&r, 0);
	url_of(url, true, "/continue");
	assert_int_equal(call(h, "GET", url, NULL, 0, NULL, 0, &r, &e), EV_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(ev_http_response_header(&r, "x-final"), "yes");
	assert_null(ev_http_response_header(&r, "x-interim"));
	assert_string_equal(ev_buf_str(&r.body), "ok");

	url_of(url, true, "/folded");
	assert_int_equal(call(h, "GET", url, NULL, 0, NULL, 0, &r, &e), EV_OK);
	assert_string_equal(ev_http_response_header(&r, "x-folded"),
			    "first second third");
	ev_http_response_cleanup(&r);
	ev_http_free(h);
}

static long connections(struct ev_http *h)
{
	struct ev_http_response r;
	struct ev_error e;
	char url[URL_MAX];
	ev_http_response_init(&r, 0);
	url_of(url, true, "/conn");
	assert_int_equal(call(h, "GET", url, NULL, 0, NULL, 0, &r, &e), EV_OK);
	long n = strtol(ev_buf_str(&r.body), NULL, 10);
	ev_http_response_cleanup(&r);
	return n;
}

static void connection_reuse(void **state)
{
	(void)state;
	struct ev_http *h = transport();
	struct ev_http_response r;
	struct ev_error e;
	char url[URL_MAX];
	ev_http_response_init(&r, 0);
	long before = connections(h);
	url_of(url, true, "/echo");
	for (int i = 0; i < 10; i++) {
		assert_int_equal(call(h, i % 2 ? "GET" : "POST", url, NULL, 0,
				      "b", 1, &r, &e),
				 EV_OK);
		assert_int_equal(r.status, 200);
	}
	assert_int_equal(connections(h), before);
	/* A second transport has its own connections: the count moves. */
	struct ev_http *h2 = transport();
	assert_int_equal(connections(h2), before + 1);
	ev_http_free(h2);
	ev_http_response_cleanup(&r);
	ev_http_free(h);
}

static void assert_quiet(const struct ev_error *e)
{
	/* The request's headers carry the signature and token. */
	assert_null(strstr(e->message, SENTINEL));
	assert_null(strstr(e->message, "Signature="));
	assert_null(strstr(e->message, "secretpath"));
}

static void verification_refused(void **state)
{
	(void)state;
	const char *cas[] = {peer.wrong_ca, NULL};
	for (size_t i = 0; i < 2; i++) {
		struct ev_http *h = transport_with(cas[i], 0, false);
		struct ev_http_response r;
		struct ev_error e;
		char url[URL_MAX];
		ev_http_response_init(&r, 0);
		url_of(url, true, "/echo?secretpath");
		assert_int_equal(call(h, "GET", url, signed_headers, N_SIGNED,
				      NULL, 0, &r, &e),
				 EV_E_NETWORK);
		assert_int_equal(e.code, EV_E_NETWORK);
		assert_non_null(strstr(e.message, "certificate"));
		assert_non_null(strstr(e.message, "127.0.0.1"));
		assert_quiet(&e);
		assert_int_equal(r.status, 0);
		ev_http_response_cleanup(&r);
		ev_http_free(h);
	}

	/* The right CA, but a certificate for another name. */
	struct ev_http *h = transport();
	struct ev_http_response r;
	struct ev_error e;
	char url[URL_MAX];
	ev_http_response_init(&r, 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%ld/echo",
		 peer.misnamed_port);
	assert_int_equal(call(h, "GET", url, NULL, 0, NULL, 0, &r, &e),
			 EV_E_NETWORK);
	assert_non_null(strstr(e.message, "certificate"));
	ev_http_response_cleanup(&r);
	ev_http_free(h);
}

static void body_over_the_cap(void **state)
{
	(void)state;
	struct ev_http *h = transport_with(peer.ca, 1000, false);
	struct ev_http_response r;
	struct ev_error e;
	char url[URL_MAX];
	ev_http_response_init(&r, 0);
	url_of(url, true, "/big?n=1000");
	assert_int_equal(call(h, "GET", url, NULL, 0, NULL, 0, &r, &e), EV_OK);
	assert_int_equal(r.body.len, 1000);
	url_of(url, true, "/big?n=1001");
	assert_int_equal(call(h, "GET", url, NULL, 0, NULL, 0, &r, &e),
			 EV_E_LIMIT);
	assert_int_equal(e.code, EV_E_LIMIT);
	assert_int_equal(r.body.len, 0);
	url_of(url, true, "/big?n=5000000");
	assert_int_equal(call(h, "GET", url, NULL, 0, NULL, 0, &r, &e),
			 EV_E_LIMIT);
	/* Without a Content-Length only the write callback can count. */
	url_of(url, true, "/chunked?n=1000");
	assert_int_equal(call(h, "GET", url, NULL, 0, NULL, 0, &r, &e), EV_OK);
	assert_int_equal(r.body.len, 1000);
	assert_int_equal(r.body.data[999], 'y');
	url_of(url, true, "/chunked?n=1001");
	assert_int_equal(call(h, "GET", url, NULL, 0, NULL, 0, &r, &e),
			 EV_E_LIMIT);
	url_of(url, true, "/chunked?n=3000000");
	assert_int_equal(call(h, "GET", url, NULL, 0, NULL, 0, &r, &e),
			 EV_E_LIMIT);
	assert_non_null(strstr(e.message, "over 1000 bytes"));
	/* The transport is still usable after an aborted transfer. */
	url_of(url, true, "/echo");
	assert_int_equal(call(h, "GET", url, NULL, 0, NULL, 0, &r, &e), EV_OK);
	assert_int_equal(r.status, 200);
	ev_http_response_cleanup(&r);
	ev_http_free(h);

	/* The response's own limit counts too. */
	h = transport();
	ev_http_response_init(&r, 100);
	url_of(url, true, "/big?n=101");
	assert_int_equal(call(h, "GET", url, NULL, 0, NULL, 0, &r, &e),
			 EV_E_LIMIT);
	ev_http_response_cleanup(&r);
	ev_http_free(h);
}

/* A sink that hashes what streams through and can refuse after a point. */
struct hashing_sink {
	struct ev_sha256_stream sha;
	size_t bytes;
	size_t refuse_after; /* 0: never */
};

static enum ev_err hashing_write(void *arg, const void *data, size_t len)
{
	struct hashing_sink *s = arg;
	s->bytes += len;
	if (s->refuse_after && s->bytes > s->refuse_after)
		return EV_E_MALFORMED;
	return ev_sha256_stream_update(&s->sha, data, len);
}

static enum ev_err stream(struct ev_http *h, const char *url,
			  struct hashing_sink *hs, size_t limit,
			  struct ev_http_response *r, struct ev_error *e)
{
	struct ev_http_sink sink = {
	    .write = hashing_write, .arg = hs, .limit = limit};
	struct ev_http_request req = {
	    .method = "GET", .url = url, .sink = &sink};
	hs->bytes = 0;
	assert_int_equal(ev_sha256_stream_begin(&hs->sha), EV_OK);
	ev_error_clear(e);
	return ev_http_perform(h, &req, r, e);
}

static void body_streamed_to_a_sink(void **state)
{
	(void)state;
	/* The transport's own cap (1000) bounds buffered bodies, not
	 * streamed ones: those have the sink's limit. */
	struct ev_http *h = transport_with(peer.ca, 1000, false);
	struct ev_http_response r;
	struct ev_error e;
	char url[URL_MAX];
	struct hashing_sink hs = {0};
	ev_http_response_init(&r, 0);

	url_of(url, true, "/chunked?n=3000000");
	assert_int_equal(stream(h, url, &hs, 4000000, &r, &e), EV_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.streamed, 3000000);
	assert_int_equal(r.body.len, 0);
	unsigned char got[EV_SHA256_LEN], want[EV_SHA256_LEN];
	assert_int_equal(ev_sha256_stream_end(&hs.sha, got), EV_OK);
	char *ys = malloc(3000000);
	assert_non_null(ys);
	memset(ys, 'y', 3000000);
	ev_sha256(ys, 3000000, want);
	free(ys);
	assert_memory_equal(got, want, sizeof(got));

	/* Over the sink's limit, announced or only counted. */
	url_of(url, true, "/big?n=5001");
	assert_int_equal(stream(h, url, &hs, 5000, &r, &e), EV_E_LIMIT);
	assert_non_null(strstr(e.message, "over 5000 bytes"));
	ev_sha256_stream_cleanup(&hs.sha);
	url_of(url, true, "/chunked?n=9000");
	assert_int_equal(stream(h, url, &hs, 5000, &r, &e), EV_E_LIMIT);
	assert_true(hs.bytes <= 5000);
	ev_sha256_stream_cleanup(&hs.sha);

	/* The sink's refusal stops the exchange with its code. */
	hs.refuse_after = 10000;
	url_of(url, true, "/chunked?n=100000");
	assert_int_equal(stream(h, url, &hs, 0, &r, &e), EV_E_MALFORMED);
	assert_int_equal(e.code, EV_E_MALFORMED);
	assert_int_equal(r.status, 0); /* reset on failure */
	ev_sha256_stream_cleanup(&hs.sha);
	hs.refuse_after = 0;

	/* An error answer is buffered for its document, never streamed. */
	url_of(url, true, "/status/404");
	assert_int_equal(stream(h, url, &hs, 0, &r, &e), EV_OK);
	assert_int_equal(r.status, 404);
	assert_int_equal(hs.bytes, 0);
	assert_int_equal(r.streamed, 0);
	assert_true(r.body.len > 0);
	ev_sha256_stream_cleanup(&hs.sha);

	ev_http_response_cleanup(&r);
	ev_http_free(h);
}

static void stall_times_out(void **state)
{
	(void)state;
	struct ev_http *h = transport();
	struct ev_http_response r;
	struct ev_error e;
	char url[URL_MAX];
	ev_http_response_init(&r, 0);
	url_of(url, true, "/stall?secretpath");
	struct ev_http_request req = {.method = "GET",
				      .url = url,
				      .headers = signed_headers,
				      .n_headers = N_SIGNED,
				      .timeout_ms = 1000};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ev_http_perform(h, &req, &r, &e), EV_E_NETWORK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(strstr(e.message, "timed out"));
	assert_quiet(&e);
	/* Bounded by the request's timeout, not the transport's 20 s. */
	assert_true(t1.tv_sec - t0.tv_sec < 15);
	ev_http_response_cleanup(&r);
	ev_http_free(h);
}

static void broken_connections(void **state)
{
	(void)state;
	struct ev_http *h = transport();
	struct ev_http_response r;
	struct ev_error e;
	char url[URL_MAX];
	ev_http_response_init(&r, 0);
	url_of(url, true, "/reset?secretpath");
	assert_int_equal(
	    call(h, "POST", url, signed_headers, N_SIGNED, "x", 1, &r, &e),
	    EV_E_NETWORK);
	assert_quiet(&e);
	url_of(url, true, "/truncated?secretpath");
	assert_int_equal(
	    call(h, "GET", url, signed_headers, N_SIGNED, NULL, 0, &r, &e),
	    EV_E_NETWORK);
	assert_non_null(strstr(e.message, "truncated"));
	assert_quiet(&e);
	assert_int_equal(r.body.len, 0);
	assert_int_equal(r.status, 0);
	/* Nothing listens on port 1. */
	assert_int_equal(
	    call(h, "GET", "https://127.0.0.1:1/", NULL, 0, NULL, 0, &r, &e),
	    EV_E_NETWORK);
	ev_http_response_cleanup(&r);
	ev_http_free(h);
}

static void plain_http_only_when_allowed(void **state)
{
	(void)state;
	struct ev_http_response r;
	struct ev_error e;
	char url[URL_MAX];
	ev_http_response_init(&r, 0);
	url_of(url, false, "/echo");
	struct ev_http *h = transport();
	assert_int_equal(call(h, "GET", url, NULL, 0, NULL, 0, &r, &e),
			 EV_E_CONFIG);
	assert_int_equal(e.code, EV_E_CONFIG);
	ev_http_free(h);

	h = transport_with(peer.ca, 0, true);
	assert_int_equal(call(h, "GET", url, NULL, 0, NULL, 0, &r, &e), EV_OK);
	assert_int_equal(r.status, 200);
	json_t *echo = echo_of(&r);
	assert_string_equal(json_string_value(json_object_get(echo, "method")),
			    "GET");
	json_decref(echo);
	/* Allowing http changes nothing for https. */
	url_of(url, true, "/echo");
	assert_int_equal(call(h, "GET", url, NULL, 0, NULL, 0, &r, &e), EV_OK);
	ev_http_response_cleanup(&r);
	ev_http_free(h);
}

struct worker {
	struct ev_http *h;
	int id;
	int failures;
	char first_failure[EV_ERROR_MSG_MAX + 64];
};

static void note_failure(struct worker *w, const char *fmt, ...)
{
	if (w->failures++ == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(w->first_failure, sizeof(w->first_failure), fmt, ap);
		va_end(ap);
	}
}

static bool same(const json_t *s, const char *want)
{
	const char *v = json_string_value(s);
	return v && strcmp(v, want) == 0;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	char url[URL_MAX];
	url_of(url, true, "/echo");
	for (int i = 0; i < PER_THREAD; i++) {
		char body[64], seq[32], hex[129];
		int n = snprintf(body, sizeof(body), "thread %d request %d",
				 w->id, i);
		snprintf(seq, sizeof(seq), "%d-%d", w->id, i);
		const struct ev_http_header hdrs[] = {{"Host", "localhost"},
						      {"X-Seq", seq}};
		struct ev_http_response r;
		struct ev_error e;
		ev_http_response_init(&r, 0);
		enum ev_err rc =
		    call(w->h, "POST", url, hdrs, 2, body, (size_t)n, &r, &e);
		json_t *echo =
		    rc == EV_OK ? json_loadb(r.body.data, r.body.len, 0, NULL)
				: NULL;
		ev_hex_encode((const unsigned char *)body, (size_t)n, hex);
		json_t *got =
		    json_array_get(json_object_get(echo, "headers"), 1);
		if (rc != EV_OK)
			note_failure(w, "%s: %s", ev_err_name(rc), e.message);
		else if (r.status != 200 || !echo)
			note_failure(w, "status %ld", r.status);
		else if (!same(json_object_get(echo, "body_hex"), hex) ||
			 !same(json_array_get(got, 1), seq))
			note_failure(w, "echo of %s does not match", seq);
		json_decref(echo);
		ev_http_response_cleanup(&r);
	}
	return NULL;
}

static void concurrent_requests(void **state)
{
	(void)state;
	struct ev_http *h = transport();
	long before = connections(h);
	struct worker w[THREADS];
	pthread_t tid[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.h = h, .id = i};
		assert_int_equal(
		    pthread_create(&tid[i], NULL, worker_run, &w[i]), 0);
	}
	int failures = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(tid[i], NULL);
		if (w[i].failures)
			print_error("thread %d: %d failures, first: %s\n", i,
				    w[i].failures, w[i].first_failure);
		failures += w[i].failures;
	}
	assert_int_equal(failures, 0);
	/* Pooled handles keep their connections: at most one per thread. */
	long opened = connections(h) - before;
	assert_true(opened >= 0 && opened <= THREADS);
	ev_http_free(h);
}

static void load_peer(const char *path)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j) {
		fprintf(stderr, "%s: %s\n", path, je.text);
		exit(2);
	}
	peer.https_port =
	    (long)json_integer_value(json_object_get(j, "https_port"));
	peer.http_port =
	    (long)json_integer_value(json_object_get(j, "http_port"));
	peer.misnamed_port =
	    (long)json_integer_value(json_object_get(j, "misnamed_port"));
	snprintf(peer.ca, sizeof(peer.ca), "%s",
		 json_string_value(json_object_get(j, "ca")));
	snprintf(peer.wrong_ca, sizeof(peer.wrong_ca), "%s",
		 json_string_value(json_object_get(j, "wrong_ca")));
	json_decref(j);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PEER_JSON (run by peer.py)\n",
			argv[0]);
		return 2;
	}
	load_peer(argv[1]);
	/* A proxy from the environment would sit between us and loopback. */
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("ALL_PROXY");
	unsetenv("all_proxy");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(get_exact),
	    cmocka_unit_test(post_exact),
	    cmocka_unit_test(other_methods),
	    cmocka_unit_test(interim_and_folded_headers),
	    cmocka_unit_test(connection_reuse),
	    cmocka_unit_test(verification_refused),
	    cmocka_unit_test(body_over_the_cap),
	    cmocka_unit_test(body_streamed_to_a_sink),
	    cmocka_unit_test(stall_times_out),
	    cmocka_unit_test(broken_connections),
	    cmocka_unit_test(plain_http_only_when_allowed),
	    cmocka_unit_test(concurrent_requests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
