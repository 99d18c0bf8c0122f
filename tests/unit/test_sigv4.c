#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bounds.h"
#include "digest.h"
#include "sigv4.h"
#include "timefmt.h"

#define EMPTY_SHA256                                                           \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HELLO_SHA256                                                           \
	"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define FORM_SHA256                                                            \
	"9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
#define DOC_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static const struct ev_sigv4_credentials doc_creds = {"AKIDEXAMPLE", DOC_SECRET,
						      NULL};

static time_t doc_time(void)
{
	time_t t = 0;
	assert_int_equal(ev_time_parse_amz("20150830T123600Z", &t), EV_OK);
	return t;
}

/* The signing key derived step by step, independently of the signer. */
static void derive(const char *secret, const char *date, const char *region,
		   const char *service, unsigned char out[EV_SHA256_LEN])
{
	char k[256];
	unsigned char a[EV_SHA256_LEN], b[EV_SHA256_LEN];
	int n = snprintf(k, sizeof(k), "AWS4%s", secret);
	assert_true(n > 0 && (size_t)n < sizeof(k));
	assert_int_equal(ev_hmac_sha256(k, (size_t)n, date, strlen(date), a),
			 EV_OK);
	assert_int_equal(
	    ev_hmac_sha256(a, sizeof(a), region, strlen(region), b), EV_OK);
	assert_int_equal(
	    ev_hmac_sha256(b, sizeof(b), service, strlen(service), a), EV_OK);
	assert_int_equal(ev_hmac_sha256(a, sizeof(a), "aws4_request", 12, out),
			 EV_OK);
}

/* The example of the AWS SigV4 documentation (IAM ListUsers). */
static void documentation_example(void **state)
{
	(void)state;
	const struct ev_sigv4_header headers[] = {
	    {"Content-Type",
	     "application/x-www-form-urlencoded; charset=utf-8"},
	    {"Host", "iam.amazonaws.com"},
	};
	const struct ev_sigv4_request req = {
	    .method = "GET",
	    .path = "/",
	    .query = "Action=ListUsers&Version=2010-05-08",
	    .headers = headers,
	    .n_headers = 2,
	};
	const struct ev_sigv4_params params = {
	    .region = "us-east-1", .service = "iam", .time = doc_time()};
	struct ev_sigv4_result r;
	struct ev_error err = {0};
	ev_sigv4_result_init(&r);
	assert_int_equal(
	    ev_sigv4_sign(&req, &params, &doc_creds, NULL, &r, &err), EV_OK);
	assert_string_equal(ev_buf_str(&r.canonical_request),
			    "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
			    "content-type:application/x-www-form-urlencoded; "
			    "charset=utf-8\nhost:iam.amazonaws.com\n"
			    "x-amz-date:20150830T123600Z\n\n"
			    "content-type;host;x-amz-date\n" EMPTY_SHA256);
	assert_string_equal(
	    ev_buf_str(&r.string_to_sign),
	    "AWS4-HMAC-SHA256\n20150830T123600Z\n"
	    "20150830/us-east-1/iam/aws4_request\n"
	    "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23"
	    "edd43b7e1a59");
	assert_string_equal(r.signature, "5d672d79c15b13162d9279b0855cfba6789a"
					 "8edb4c82c400e06b5924a6f2b5d7");
	assert_string_equal(ev_buf_str(&r.authorization),
			    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/"
			    "us-east-1/iam/aws4_request, SignedHeaders="
			    "content-type;host;x-amz-date, Signature="
			    "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e0"
			    "6b5924a6f2b5d7");
	assert_string_equal(r.amz_date, "20150830T123600Z");
	assert_string_equal(r.payload_hash, EMPTY_SHA256);
	assert_int_equal(r.n_added, 2);
	assert_string_equal(r.added[0].name, "X-Amz-Date");
	assert_string_equal(r.added[0].value, "20150830T123600Z");
	assert_string_equal(r.added[1].name, "Authorization");
	assert_ptr_equal(r.added[1].value, r.authorization.data);
	assert_null(r.token_copy);
	ev_sigv4_result_cleanup(&r);
	assert_int_equal(r.n_added, 0);
	assert_null(r.canonical_request.data);
}

#define MAX_CASE_HEADERS 6

struct canon_case {
	const char *name;
	const char *method, *path, *query;
	struct ev_sigv4_header headers[MAX_CASE_HEADERS];
	const char *body;
	const char *payload_hash;
	const char *service;
	bool s3, no_normalize, sha256_header, unsigned_token;
	const char *token;
	const char *want_creq;
	const char *want_added; /* added header names, joined with ',' */
};

/* Unset fields: no query, no body, no token, every switch off. */
static const struct canon_case canon_cases[] = {
    {.name = "trim, collapse, join repeated names, sort",
     .method = "GET",
     .path = "/",
     .headers = {{"Host", "h"},
		 {"My-Header1", "  a   b\t c  "},
		 {"ZZ", ""},
		 {"my-header1", "x"},
		 {"b-h", "\tv\t"}},
     .service = "service",
     .want_creq = "GET\n/\n\nb-h:v\nhost:h\nmy-header1:a b c,x\n"
		  "x-amz-date:20150830T123600Z\nzz:\n\n"
		  "b-h;host;my-header1;x-amz-date;zz\n" EMPTY_SHA256,
     .want_added = "X-Amz-Date,Authorization"},
    {.name = "normalise, then encode the path once more",
     .method = "GET",
     .path = "/a%20b/c d/./e/../f//",
     .headers = {{"Host", "h"}},
     .service = "service",
     .want_creq = "GET\n/a%2520b/c%20d/f/\n\nhost:h\n"
		  "x-amz-date:20150830T123600Z\n\n"
		  "host;x-amz-date\n" EMPTY_SHA256,
     .want_added = "X-Amz-Date,Authorization"},
    {.name = "no normalisation",
     .method = "GET",
     .path = "/a/./b//c/..",
     .headers = {{"Host", "h"}},
     .service = "service",
     .no_normalize = true,
     .want_creq = "GET\n/a/./b//c/..\n\nhost:h\n"
		  "x-amz-date:20150830T123600Z\n\n"
		  "host;x-amz-date\n" EMPTY_SHA256,
     .want_added = "X-Amz-Date,Authorization"},
    {.name = "s3: encoded once, not normalised, content hash signed",
     .method = "PUT",
     .path = "/my%20bucket/a%2Fb/./c d",
     .headers = {{"Host", "s3.amazonaws.com"}},
     .body = "hello",
     .service = "s3",
     .s3 = true,
     .want_creq = "PUT\n/my%20bucket/a%2Fb/./c%20d\n\n"
		  "host:s3.amazonaws.com\n"
		  "x-amz-content-sha256:" HELLO_SHA256 "\n"
		  "x-amz-date:20150830T123600Z\n\n"
		  "host;x-amz-content-sha256;x-amz-date\n" HELLO_SHA256,
     .want_added = "X-Amz-Date,x-amz-content-sha256,Authorization"},
    {.name = "s3 unsigned payload",
     .method = "PUT",
     .path = "/k",
     .headers = {{"Host", "h"}},
     .body = "hello",
     .payload_hash = EV_SIGV4_UNSIGNED_PAYLOAD,
     .service = "s3",
     .s3 = true,
     .want_creq = "PUT\n/k\n\nhost:h\n"
		  "x-amz-content-sha256:UNSIGNED-PAYLOAD\n"
		  "x-amz-date:20150830T123600Z\n\n"
		  "host;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD",
     .want_added = "X-Amz-Date,x-amz-content-sha256,Authorization"},
    {.name = "query canonicalised",
     .method = "GET",
     .path = "/",
     .query = "b=2&a=x y&a&c=%2f",
     .headers = {{"Host", "h"}},
     .service = "service",
     .want_creq = "GET\n/\na=&a=x%20y&b=2&c=%2F\nhost:h\n"
		  "x-amz-date:20150830T123600Z\n\n"
		  "host;x-amz-date\n" EMPTY_SHA256,
     .want_added = "X-Amz-Date,Authorization"},
    {.name = "session token signed",
     .method = "GET",
     .path = "/",
     .headers = {{"Host", "h"}},
     .service = "service",
     .token = "tok/en+=",
     .want_creq = "GET\n/\n\nhost:h\nx-amz-date:20150830T123600Z\n"
		  "x-amz-security-token:tok/en+=\n\n"
		  "host;x-amz-date;x-amz-security-token\n" EMPTY_SHA256,
     .want_added = "X-Amz-Date,X-Amz-Security-Token,Authorization"},
    {.name = "session token added unsigned",
     .method = "GET",
     .path = "/",
     .headers = {{"Host", "h"}},
     .service = "service",
     .unsigned_token = true,
     .token = "tok/en+=",
     .want_creq = "GET\n/\n\nhost:h\nx-amz-date:20150830T123600Z\n\n"
		  "host;x-amz-date\n" EMPTY_SHA256,
     .want_added = "X-Amz-Date,X-Amz-Security-Token,Authorization"},
    {.name = "X-Amz-Date of the request wins",
     .method = "GET",
     .path = "/",
     .headers = {{"Host", "h"}, {"X-Amz-Date", " 20200101T000000Z "}},
     .service = "service",
     .want_creq = "GET\n/\n\nhost:h\nx-amz-date:20200101T000000Z\n\n"
		  "host;x-amz-date\n" EMPTY_SHA256,
     .want_added = "Authorization"},
    {.name = "token of the request signed as it is",
     .method = "GET",
     .path = "/",
     .headers = {{"Host", "h"}, {"X-Amz-Security-Token", "reqtok"}},
     .service = "service",
     .token = "other",
     .want_creq = "GET\n/\n\nhost:h\nx-amz-date:20150830T123600Z\n"
		  "x-amz-security-token:reqtok\n\n"
		  "host;x-amz-date;x-amz-security-token\n" EMPTY_SHA256,
     .want_added = "X-Amz-Date,Authorization"},
    {.name = "token of the request left unsigned when asked",
     .method = "GET",
     .path = "/",
     .headers = {{"Host", "h"}, {"X-Amz-Security-Token", "reqtok"}},
     .service = "service",
     .unsigned_token = true,
     .want_creq = "GET\n/\n\nhost:h\nx-amz-date:20150830T123600Z\n\n"
		  "host;x-amz-date\n" EMPTY_SHA256,
     .want_added = "X-Amz-Date,Authorization"},
    {.name = "x-amz-content-sha256 of the request is the payload hash",
     .method = "POST",
     .path = "/",
     .headers = {{"Host", "h"}, {"X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"}},
     .body = "abc",
     .service = "service",
     .sha256_header = true,
     .want_creq = "POST\n/\n\nhost:h\n"
		  "x-amz-content-sha256:UNSIGNED-PAYLOAD\n"
		  "x-amz-date:20150830T123600Z\n\n"
		  "host;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD",
     .want_added = "X-Amz-Date,Authorization"},
    {.name = "content hash header asked for",
     .method = "POST",
     .path = "/",
     .headers = {{"Host", "h"},
		 {"Content-Type", "application/x-www-form-urlencoded"}},
     .body = "Param1=value1",
     .service = "service",
     .sha256_header = true,
     .want_creq =
	 "POST\n/\n\n"
	 "content-type:application/x-www-form-urlencoded\n"
	 "host:h\nx-amz-content-sha256:" FORM_SHA256 "\n"
	 "x-amz-date:20150830T123600Z\n\n"
	 "content-type;host;x-amz-content-sha256;x-amz-date\n" FORM_SHA256,
     .want_added = "X-Amz-Date,x-amz-content-sha256,Authorization"},
    {.name = "empty path and method as given",
     .method = "get",
     .path = "",
     .headers = {{"Host", "h"}},
     .service = "service",
     .want_creq = "get\n/\n\nhost:h\nx-amz-date:20150830T123600Z\n\n"
		  "host;x-amz-date\n" EMPTY_SHA256,
     .want_added = "X-Amz-Date,Authorization"},
    {.name = "NULL path",
     .method = "GET",
     .path = NULL,
     .headers = {{"Host", "h"}},
     .service = "s3",
     .s3 = true,
     .want_creq = "GET\n/\n\nhost:h\nx-amz-content-sha256:" EMPTY_SHA256
		  "\nx-amz-date:20150830T123600Z\n\n"
		  "host;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA256,
     .want_added = "X-Amz-Date,x-amz-content-sha256,Authorization"},
};

static size_t count_headers(const struct ev_sigv4_header *h)
{
	size_t n = 0;
	while (n < MAX_CASE_HEADERS && h[n].name)
		n++;
	return n;
}

static void canonical_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(canon_cases) / sizeof(canon_cases[0]);
	     i++) {
		const struct canon_case *c = &canon_cases[i];
		const struct ev_sigv4_request req = {
		    .method = c->method,
		    .path = c->path,
		    .query = c->query,
		    .headers = c->headers,
		    .n_headers = count_headers(c->headers),
		    .body = c->body,
		    .body_len = c->body ? strlen(c->body) : 0,
		    .payload_hash = c->payload_hash,
		};
		const struct ev_sigv4_params params = {
		    .region = "us-east-1",
		    .service = c->service,
		    .time = doc_time(),
		    .s3_paths = c->s3,
		    .no_normalize_path = c->no_normalize,
		    .content_sha256_header = c->sha256_header,
		    .unsigned_session_token = c->unsigned_token,
		};
		const struct ev_sigv4_credentials creds = {
		    "AKIDEXAMPLE", DOC_SECRET, c->token};
		struct ev_sigv4_result r;
		struct ev_error err = {0};
		ev_sigv4_result_init(&r);
		enum ev_err rc =
		    ev_sigv4_sign(&req, &params, &creds, NULL, &r, &err);
		if (rc != EV_OK)
			fail_msg("%s: %s", c->name, err.message);
		if (strcmp(ev_buf_str(&r.canonical_request), c->want_creq))
			fail_msg("%s:\ngot:\n%s\nwant:\n%s", c->name,
				 ev_buf_str(&r.canonical_request),
				 c->want_creq);
		char added[256] = "";
		size_t used = 0;
		for (size_t k = 0; k < r.n_added; k++)
			used += (size_t)snprintf(added + used,
						 sizeof(added) - used, "%s%s",
						 k ? "," : "", r.added[k].name);
		if (strcmp(added, c->want_added))
			fail_msg("%s: added %s, want %s", c->name, added,
				 c->want_added);
		for (size_t k = 0; k < r.n_added; k++)
			if (!strcmp(r.added[k].name, "X-Amz-Security-Token"))
				assert_string_equal(r.added[k].value, c->token);

		/* The string to sign hashes exactly this canonical request
		 * and the signature is the HMAC of it with the derived key. */
		char hash[EV_SHA256_HEX_LEN + 1];
		ev_sha256_hex(r.canonical_request.data, r.canonical_request.len,
			      hash);
		char scope[64];
		snprintf(scope, sizeof(scope), "%.8s/us-east-1/%s/aws4_request",
			 r.amz_date, c->service);
		char sts[256];
		snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s\n%s",
			 r.amz_date, scope, hash);
		assert_string_equal(ev_buf_str(&r.string_to_sign), sts);
		unsigned char key[EV_SHA256_LEN], mac[EV_SHA256_LEN];
		char date[9];
		snprintf(date, sizeof(date), "%.8s", r.amz_date);
		derive(DOC_SECRET, date, "us-east-1", c->service, key);
		assert_int_equal(
		    ev_hmac_sha256(key, sizeof(key), sts, strlen(sts), mac),
		    EV_OK);
		char sig[EV_SHA256_HEX_LEN + 1];
		ev_hex_encode(mac, sizeof(mac), sig);
		assert_string_equal(r.signature, sig);
		assert_non_null(strstr(ev_buf_str(&r.authorization), scope));
		ev_sigv4_result_cleanup(&r);
	}
}

struct bad_case {
	const char *name;
	enum ev_err want;
	const char *method, *path, *query;
	struct ev_sigv4_header headers[3];
	const char *payload_hash;
	const char *region, *service;
	const char *akid, *secret, *token;
	long long time;
	bool body_without_pointer;
};

/* Unset fields take the loop's defaults: GET /, Host only, us-east-1,
 * service "service", the documentation's key and time. */
#define GOOD_HOST                                                              \
	{                                                                      \
		{                                                              \
			"Host", "h"                                            \
		}                                                              \
	}

static const struct bad_case bad_cases[] = {
    {.name = "no Host", .want = EV_E_INVALID, .headers = {{"X-A", "1"}}},
    {.name = "Authorization present",
     .want = EV_E_INVALID,
     .headers = {{"Host", "h"}, {"authorization", "x"}}},
    {.name = "CRLF in a value",
     .want = EV_E_INVALID,
     .headers = {{"Host", "h"}, {"X-A", "a\r\nEvil: 1"}}},
    {.name = "DEL in a value",
     .want = EV_E_INVALID,
     .headers = {{"Host", "h\x7f"}}},
    {.name = "space in a name",
     .want = EV_E_INVALID,
     .headers = {{"Host", "h"}, {"X A", "1"}}},
    {.name = "empty name",
     .want = EV_E_INVALID,
     .headers = {{"Host", "h"}, {"", "1"}}},
    {.name = "empty method",
     .want = EV_E_INVALID,
     .method = "",
     .headers = GOOD_HOST},
    {.name = "method with a space",
     .want = EV_E_INVALID,
     .method = "GE T",
     .headers = GOOD_HOST},
    {.name = "relative path",
     .want = EV_E_INVALID,
     .path = "a/b",
     .headers = GOOD_HOST},
    {.name = "repeated X-Amz-Date",
     .want = EV_E_INVALID,
     .headers = {{"Host", "h"},
		 {"X-Amz-Date", "20150830T123600Z"},
		 {"x-amz-date", "20150830T123600Z"}}},
    {.name = "malformed X-Amz-Date",
     .want = EV_E_INVALID,
     .headers = {{"Host", "h"}, {"X-Amz-Date", "2015-08-30T12:36:00Z"}}},
    {.name = "impossible X-Amz-Date",
     .want = EV_E_INVALID,
     .headers = {{"Host", "h"}, {"X-Amz-Date", "20151330T123600Z"}}},
    {.name = "malformed x-amz-content-sha256",
     .want = EV_E_INVALID,
     .headers = {{"Host", "h"}, {"x-amz-content-sha256", "a b"}}},
    {.name = "payload hash disagrees with the header",
     .want = EV_E_INVALID,
     .headers = {{"Host", "h"}, {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}},
     .payload_hash = EMPTY_SHA256},
    {.name = "payload hash with a space",
     .want = EV_E_INVALID,
     .headers = GOOD_HOST,
     .payload_hash = "UNSIGNED PAYLOAD"},
    {.name = "payload hash too long",
     .want = EV_E_INVALID,
     .headers = GOOD_HOST,
     .payload_hash = EMPTY_SHA256 "0"},
    {.name = "region with a space",
     .want = EV_E_INVALID,
     .headers = GOOD_HOST,
     .region = "us east-1"},
    {.name = "region with a slash",
     .want = EV_E_INVALID,
     .headers = GOOD_HOST,
     .region = "us-east-1/x"},
    {.name = "empty service",
     .want = EV_E_INVALID,
     .headers = GOOD_HOST,
     .service = ""},
    {.name = "access key id with a slash",
     .want = EV_E_INVALID,
     .headers = GOOD_HOST,
     .akid = "AKID/X"},
    {.name = "empty secret",
     .want = EV_E_INVALID,
     .headers = GOOD_HOST,
     .secret = ""},
    {.name = "token with a line feed",
     .want = EV_E_INVALID,
     .headers = GOOD_HOST,
     .token = "SECRETTOKEN\nX-Evil: 1"},
    {.name = "time before 1970",
     .want = EV_E_INVALID,
     .headers = GOOD_HOST,
     .time = -1},
    {.name = "time after 9999",
     .want = EV_E_INVALID,
     .headers = GOOD_HOST,
     .time = 253402300800LL},
    {.name = "body length without a body",
     .want = EV_E_INVALID,
     .method = "POST",
     .headers = GOOD_HOST,
     .body_without_pointer = true},
};

static void failure_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t n = 0;
		while (n < 3 && c->headers[n].name)
			n++;
		const struct ev_sigv4_request req = {
		    .method = c->method ? c->method : "GET",
		    .path = c->path ? c->path : "/",
		    .query = c->query,
		    .headers = c->headers,
		    .n_headers = n,
		    .body_len = c->body_without_pointer ? 3 : 0,
		    .payload_hash = c->payload_hash,
		};
		const struct ev_sigv4_params params = {
		    .region = c->region ? c->region : "us-east-1",
		    .service = c->service ? c->service : "service",
		    .time = c->time ? (time_t)c->time : doc_time(),
		};
		const struct ev_sigv4_credentials creds = {
		    c->akid ? c->akid : "AKIDEXAMPLE",
		    c->secret ? c->secret : DOC_SECRET, c->token};
		struct ev_sigv4_result r;
		struct ev_error err = {0};
		ev_sigv4_result_init(&r);
		enum ev_err rc =
		    ev_sigv4_sign(&req, &params, &creds, NULL, &r, &err);
		if (rc != c->want)
			fail_msg("%s: got %s, want %s", c->name,
				 ev_err_name(rc), ev_err_name(c->want));
		assert_int_equal(err.code, c->want);
		assert_true(err.message[0] != '\0');
		/* no secret in the message, no partial result */
		assert_null(strstr(err.message, DOC_SECRET));
		assert_null(strstr(err.message, "SECRETTOKEN"));
		assert_int_equal(r.canonical_request.len, 0);
		assert_int_equal(r.authorization.len, 0);
		assert_int_equal(r.n_added, 0);
		assert_string_equal(r.signature, "");
		assert_null(r.token_copy);
		ev_sigv4_result_cleanup(&r);
	}
}

static void limits(void **state)
{
	(void)state;
	struct ev_sigv4_header headers[EV_LIMIT_SIGV4_HEADERS + 1];
	char names[EV_LIMIT_SIGV4_HEADERS + 1][16];
	headers[0] = (struct ev_sigv4_header){"Host", "h"};
	for (size_t i = 1; i <= EV_LIMIT_SIGV4_HEADERS; i++) {
		snprintf(names[i], sizeof(names[i]), "X-H%zu", i);
		headers[i] = (struct ev_sigv4_header){names[i], "v"};
	}
	struct ev_sigv4_request req = {
	    .method = "GET",
	    .path = "/",
	    .headers = headers,
	    .n_headers = EV_LIMIT_SIGV4_HEADERS,
	};
	const struct ev_sigv4_params params = {
	    .region = "us-east-1", .service = "service", .time = doc_time()};
	struct ev_sigv4_result r;
	struct ev_error err = {0};
	ev_sigv4_result_init(&r);
	assert_int_equal(
	    ev_sigv4_sign(&req, &params, &doc_creds, NULL, &r, &err), EV_OK);
	req.n_headers = EV_LIMIT_SIGV4_HEADERS + 1;
	assert_int_equal(
	    ev_sigv4_sign(&req, &params, &doc_creds, NULL, &r, &err),
	    EV_E_LIMIT);
	assert_int_equal(err.code, EV_E_LIMIT);
	assert_int_equal(r.n_added, 0);

	req.n_headers = 1;
	char *long_text = malloc(EV_LIMIT_URL + 2);
	assert_non_null(long_text);
	memset(long_text, 'a', EV_LIMIT_URL + 1);
	long_text[0] = '/';
	long_text[EV_LIMIT_URL + 1] = '\0';
	req.path = long_text;
	assert_int_equal(
	    ev_sigv4_sign(&req, &params, &doc_creds, NULL, &r, &err),
	    EV_E_LIMIT);
	long_text[EV_LIMIT_URL] = '\0';
	assert_int_equal(
	    ev_sigv4_sign(&req, &params, &doc_creds, NULL, &r, &err), EV_OK);
	req.path = "/";
	long_text[EV_LIMIT_URL] = 'a';
	req.query = long_text + 1; /* EV_LIMIT_URL bytes: fits */
	assert_int_equal(
	    ev_sigv4_sign(&req, &params, &doc_creds, NULL, &r, &err), EV_OK);
	long_text[0] = 'a';
	req.query = long_text;
	assert_int_equal(
	    ev_sigv4_sign(&req, &params, &doc_creds, NULL, &r, &err),
	    EV_E_LIMIT);
	req.query = NULL;

	char *secret = malloc(EV_LIMIT_SECRET + 2);
	assert_non_null(secret);
	memset(secret, 's', EV_LIMIT_SECRET + 1);
	secret[EV_LIMIT_SECRET + 1] = '\0';
	struct ev_sigv4_credentials big = {"AKIDEXAMPLE", secret, NULL};
	assert_int_equal(ev_sigv4_sign(&req, &params, &big, NULL, &r, &err),
			 EV_E_LIMIT);
	assert_null(strstr(err.message, "sss"));
	secret[EV_LIMIT_SECRET] = '\0';
	assert_int_equal(ev_sigv4_sign(&req, &params, &big, NULL, &r, &err),
			 EV_OK);
	big = (struct ev_sigv4_credentials){"AKIDEXAMPLE", DOC_SECRET, secret};
	assert_int_equal(ev_sigv4_sign(&req, &params, &big, NULL, &r, &err),
			 EV_OK);
	secret[EV_LIMIT_SECRET] = 's';
	assert_int_equal(ev_sigv4_sign(&req, &params, &big, NULL, &r, &err),
			 EV_E_LIMIT);
	free(secret);
	free(long_text);
	ev_sigv4_result_cleanup(&r);
}

/* Signs a bare GET for the scope with cache; returns the signature. */
static void sign_scope(struct ev_sigv4_cache *cache, const char *akid,
		       const char *secret, const char *amz_date,
		       const char *region, const char *service,
		       char sig[EV_SHA256_HEX_LEN + 1])
{
	const struct ev_sigv4_header headers[] = {{"Host", "h"}};
	const struct ev_sigv4_request req = {
	    .method = "GET", .path = "/", .headers = headers, .n_headers = 1};
	time_t t = 0;
	assert_int_equal(ev_time_parse_amz(amz_date, &t), EV_OK);
	const struct ev_sigv4_params params = {
	    .region = region, .service = service, .time = t};
	const struct ev_sigv4_credentials creds = {akid, secret, NULL};
	struct ev_sigv4_result r;
	struct ev_error err = {0};
	ev_sigv4_result_init(&r);
	assert_int_equal(ev_sigv4_sign(&req, &params, &creds, cache, &r, &err),
			 EV_OK);
	memcpy(sig, r.signature, EV_SHA256_HEX_LEN + 1);
	ev_sigv4_result_cleanup(&r);
}

static const struct ev_sigv4_cache_slot *
find_slot(const struct ev_sigv4_cache *c, const char *date, const char *region,
	  const char *service, const char *akid)
{
	for (size_t i = 0; i < EV_SIGV4_CACHE_SLOTS; i++) {
		const struct ev_sigv4_cache_slot *s = &c->slots[i];
		if (s->used && !strcmp(s->date, date) &&
		    !strcmp(s->region, region) &&
		    !strcmp(s->service, service) && !strcmp(s->key_id, akid))
			return s;
	}
	return NULL;
}

static size_t used_slots(const struct ev_sigv4_cache *c)
{
	size_t n = 0;
	for (size_t i = 0; i < EV_SIGV4_CACHE_SLOTS; i++)
		n += c->slots[i].used;
	return n;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void cache_hit_on_same_scope(void **state)
{
	(void)state;
	struct ev_sigv4_cache c;
	ev_sigv4_cache_init(&c);
	char a[EV_SHA256_HEX_LEN + 1], b[EV_SHA256_HEX_LEN + 1],
	    uncached[EV_SHA256_HEX_LEN + 1];
	sign_scope(&c, "AKIDEXAMPLE", DOC_SECRET, "20150830T123600Z",
		   "us-east-1", "iam", a);
	assert_int_equal(c.misses, 1);
	assert_int_equal(c.hits, 0);
	/* same day, later time: same scope */
	sign_scope(&c, "AKIDEXAMPLE", DOC_SECRET, "20150830T235959Z",
		   "us-east-1", "iam", b);
	assert_int_equal(c.misses, 1);
	assert_int_equal(c.hits, 1);
	assert_int_equal(used_slots(&c), 1);
	sign_scope(NULL, "AKIDEXAMPLE", DOC_SECRET, "20150830T123600Z",
		   "us-east-1", "iam", uncached);
	assert_string_equal(a, uncached);

	const struct ev_sigv4_cache_slot *s =
	    find_slot(&c, "20150830", "us-east-1", "iam", "AKIDEXAMPLE");
	assert_non_null(s);
	/* the key of the SigV4 documentation's example */
	char hex[EV_SHA256_HEX_LEN + 1];
	ev_hex_encode(s->key, sizeof(s->key), hex);
	assert_string_equal(hex, "c4afb1cc5771d871763a393e44b703571b55cc28"
				 "424d1a5e86da6ed3c154a4b9");
	ev_sigv4_cache_cleanup(&c);
	assert_true(all_zero(c.slots, sizeof(c.slots)));
}

static void cache_keys_per_scope(void **state)
{
	(void)state;
	static const struct {
		const char *akid, *secret, *date, *region, *service;
	} scopes[] = {
	    {"AKIDEXAMPLE", DOC_SECRET, "20150830T123600Z", "us-east-1", "iam"},
	    {"AKIDEXAMPLE", DOC_SECRET, "20150830T123600Z", "us-east-1", "sts"},
	    {"AKIDEXAMPLE", DOC_SECRET, "20150830T123600Z", "eu-west-1", "iam"},
	    {"AKIDEXAMPLE", DOC_SECRET, "20150831T000000Z", "us-east-1", "iam"},
	    {"AKIDOTHER", "another-secret", "20150830T123600Z", "us-east-1",
	     "iam"},
	};
	const size_t n = sizeof(scopes) / sizeof(scopes[0]);
	struct ev_sigv4_cache c;
	ev_sigv4_cache_init(&c);
	char sigs[5][EV_SHA256_HEX_LEN + 1];
	for (size_t i = 0; i < n; i++)
		sign_scope(&c, scopes[i].akid, scopes[i].secret, scopes[i].date,
			   scopes[i].region, scopes[i].service, sigs[i]);
	assert_int_equal(c.misses, n);
	assert_int_equal(c.hits, 0);
	assert_int_equal(used_slots(&c), n);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(sigs[i], sigs[j]);
		char date[9];
		snprintf(date, sizeof(date), "%.8s", scopes[i].date);
		const struct ev_sigv4_cache_slot *s =
		    find_slot(&c, date, scopes[i].region, scopes[i].service,
			      scopes[i].akid);
		assert_non_null(s);
		unsigned char want[EV_SHA256_LEN];
		derive(scopes[i].secret, date, scopes[i].region,
		       scopes[i].service, want);
		assert_memory_equal(s->key, want, sizeof(want));
	}
	/* every scope again: all hits, same signatures */
	for (size_t i = 0; i < n; i++) {
		char again[EV_SHA256_HEX_LEN + 1];
		sign_scope(&c, scopes[i].akid, scopes[i].secret, scopes[i].date,
			   scopes[i].region, scopes[i].service, again);
		assert_string_equal(again, sigs[i]);
	}
	assert_int_equal(c.hits, n);
	assert_int_equal(c.misses, n);
	ev_sigv4_cache_cleanup(&c);
	assert_true(all_zero(c.slots, sizeof(c.slots)));
	assert_int_equal(used_slots(&c), 0);
	ev_sigv4_cache_cleanup(&c); /* idempotent */
}

static void cache_evicts_least_recently_used(void **state)
{
	(void)state;
	struct ev_sigv4_cache c;
	ev_sigv4_cache_init(&c);
	char sig[EV_SHA256_HEX_LEN + 1];
	char akid[EV_SIGV4_CACHE_SLOTS + 1][48];
	for (size_t i = 0; i < EV_SIGV4_CACHE_SLOTS; i++) {
		/* long ids, so a wiped slot shows zeros past a short one */
		snprintf(akid[i], sizeof(akid[i]),
			 "AKIDLONGLONGLONGLONGLONGLONG%02zu", i);
		sign_scope(&c, akid[i], DOC_SECRET, "20150830T123600Z",
			   "us-east-1", "iam", sig);
	}
	assert_int_equal(used_slots(&c), EV_SIGV4_CACHE_SLOTS);
	/* touch the oldest: the second oldest becomes the victim */
	sign_scope(&c, akid[0], DOC_SECRET, "20150830T123600Z", "us-east-1",
		   "iam", sig);
	assert_int_equal(c.hits, 1);
	const struct ev_sigv4_cache_slot *victim =
	    find_slot(&c, "20150830", "us-east-1", "iam", akid[1]);
	assert_non_null(victim);
	sign_scope(&c, "AK", DOC_SECRET, "20150830T123600Z", "us-east-1", "iam",
		   sig);
	assert_int_equal(used_slots(&c), EV_SIGV4_CACHE_SLOTS);
	assert_null(find_slot(&c, "20150830", "us-east-1", "iam", akid[1]));
	assert_non_null(find_slot(&c, "20150830", "us-east-1", "iam", akid[0]));
	const struct ev_sigv4_cache_slot *reused =
	    find_slot(&c, "20150830", "us-east-1", "iam", "AK");
	assert_ptr_equal(reused, victim);
	/* the old entry was wiped before reuse, not just overwritten */
	assert_true(all_zero(reused->key_id + 3, sizeof(reused->key_id) - 3));
	unsigned long long misses = c.misses;
	sign_scope(&c, akid[1], DOC_SECRET, "20150830T123600Z", "us-east-1",
		   "iam", sig);
	assert_int_equal(c.misses, misses + 1);
	ev_sigv4_cache_cleanup(&c);
	assert_true(all_zero(c.slots, sizeof(c.slots)));
}

static void cache_skips_scopes_too_long(void **state)
{
	(void)state;
	struct ev_sigv4_cache c;
	ev_sigv4_cache_init(&c);
	/* valid for the signer (up to 63), too long for a slot (31) */
	const char *region = "a-region-name-far-longer-than-a-slot-holds";
	char a[EV_SHA256_HEX_LEN + 1], b[EV_SHA256_HEX_LEN + 1];
	sign_scope(&c, "AKIDEXAMPLE", DOC_SECRET, "20150830T123600Z", region,
		   "iam", a);
	sign_scope(NULL, "AKIDEXAMPLE", DOC_SECRET, "20150830T123600Z", region,
		   "iam", b);
	assert_string_equal(a, b);
	assert_int_equal(used_slots(&c), 0);
	assert_int_equal(c.hits, 0);
	ev_sigv4_cache_cleanup(&c);
}

#define THREADS 4
#define ROUNDS	50

struct worker {
	struct ev_sigv4_cache *cache;
	const char (*want)[EV_SHA256_HEX_LEN + 1];
	int mismatches;
};

static const char *const thread_services[] = {"iam", "sts", "ec2"};

static void *work(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < ROUNDS; i++) {
		size_t k = (size_t)i % 3;
		const struct ev_sigv4_header headers[] = {{"Host", "h"}};
		const struct ev_sigv4_request req = {.method = "GET",
						     .path = "/",
						     .headers = headers,
						     .n_headers = 1};
		const struct ev_sigv4_params params = {.region = "us-east-1",
						       .service =
							   thread_services[k],
						       .time = 1440938160};
		struct ev_sigv4_result r;
		ev_sigv4_result_init(&r);
		if (ev_sigv4_sign(&req, &params, &doc_creds, w->cache, &r,
				  NULL) != EV_OK ||
		    strcmp(r.signature, w->want[k]))
			w->mismatches++;
		ev_sigv4_result_cleanup(&r);
	}
	return NULL;
}

static void cache_shared_by_threads(void **state)
{
	(void)state;
	assert_int_equal(doc_time(), 1440938160);
	char want[3][EV_SHA256_HEX_LEN + 1];
	for (size_t k = 0; k < 3; k++)
		sign_scope(NULL, "AKIDEXAMPLE", DOC_SECRET, "20150830T123600Z",
			   "us-east-1", thread_services[k], want[k]);
	struct ev_sigv4_cache c;
	ev_sigv4_cache_init(&c);
	pthread_t tid[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){
		    &c, (const char(*)[EV_SHA256_HEX_LEN + 1]) want, 0};
		assert_int_equal(pthread_create(&tid[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(w[i].mismatches, 0);
	}
	assert_int_equal(c.hits + c.misses, THREADS * ROUNDS);
	assert_true(c.misses >= 3);
	assert_int_equal(used_slots(&c), 3);
	ev_sigv4_cache_cleanup(&c);
}

static void result_reuse_replaces(void **state)
{
	(void)state;
	const struct ev_sigv4_header headers[] = {{"Host", "h"}};
	const struct ev_sigv4_request req = {
	    .method = "GET", .path = "/", .headers = headers, .n_headers = 1};
	const struct ev_sigv4_params params = {
	    .region = "us-east-1", .service = "service", .time = doc_time()};
	const struct ev_sigv4_credentials with_token = {"AKIDEXAMPLE",
							DOC_SECRET, "tok"};
	struct ev_sigv4_result r;
	struct ev_error err = {0};
	ev_sigv4_result_init(&r);
	assert_int_equal(
	    ev_sigv4_sign(&req, &params, &with_token, NULL, &r, &err), EV_OK);
	assert_non_null(r.token_copy);
	assert_int_equal(r.n_added, 3);
	/* the same result signed again without a token: nothing stale */
	assert_int_equal(
	    ev_sigv4_sign(&req, &params, &doc_creds, NULL, &r, &err), EV_OK);
	assert_null(r.token_copy);
	assert_int_equal(r.n_added, 2);
	assert_null(strstr(ev_buf_str(&r.canonical_request), "tok"));
	ev_sigv4_result_cleanup(&r);
	ev_sigv4_result_cleanup(&r); /* idempotent */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(documentation_example),
	    cmocka_unit_test(canonical_table),
	    cmocka_unit_test(failure_table),
	    cmocka_unit_test(limits),
	    cmocka_unit_test(cache_hit_on_same_scope),
	    cmocka_unit_test(cache_keys_per_scope),
	    cmocka_unit_test(cache_evicts_least_recently_used),
	    cmocka_unit_test(cache_skips_scopes_too_long),
	    cmocka_unit_test(cache_shared_by_threads),
	    cmocka_unit_test(result_reuse_replaces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
