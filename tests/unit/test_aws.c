/* The aws layer against a scripted transport: each case gives the replies
 * and checks the requests made, the retries, the clock correction, the
 * pagination and the typed errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aws.h"
#include "awserror.h"
#include "timefmt.h"

#define SECRET	  "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN	  "IQoJb3JpZ2luX2VjEXAMPLETOKENVALUE"
#define NOW	  1740823200 /* 2025-03-01T10:00:00Z */
#define MAX_STEPS 8

struct reply {
	long status;
	const char *headers[4][2];
	const char *body;
	enum ev_err transport; /* EV_OK: the reply is delivered */
};

struct sent {
	char method[8];
	char url[512];
	char body[2048];
	char amz_date[20];
	char authorization[512];
	char target[160];
	char content_type[96];
	char token[128];
};

struct script {
	struct ev_http http;
	const struct reply *replies;
	size_t n_replies;
	size_t calls;
	struct sent sent[MAX_STEPS];
	long sleeps[MAX_STEPS];
	size_t n_sleeps;
	time_t now;
};

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static enum ev_err scripted_perform(struct ev_http *h,
				    const struct ev_http_request *req,
				    struct ev_http_response *resp,
				    struct ev_error *err)
{
	struct script *s = (struct script *)h;
	assert_true(s->calls < s->n_replies);
	assert_true(s->calls < MAX_STEPS);
	struct sent *out = &s->sent[s->calls];
	copy(out->method, sizeof(out->method), req->method);
	copy(out->url, sizeof(out->url), req->url);
	snprintf(out->body, sizeof(out->body), "%.*s", (int)req->body_len,
		 req->body ? (const char *)req->body : "");
	for (size_t i = 0; i < req->n_headers; i++) {
		const char *n = req->headers[i].name,
			   *v = req->headers[i].value;
		if (strcasecmp(n, "x-amz-date") == 0)
			copy(out->amz_date, sizeof(out->amz_date), v);
		else if (strcasecmp(n, "authorization") == 0)
			copy(out->authorization, sizeof(out->authorization), v);
		else if (strcasecmp(n, "x-amz-target") == 0)
			copy(out->target, sizeof(out->target), v);
		else if (strcasecmp(n, "content-type") == 0)
			copy(out->content_type, sizeof(out->content_type), v);
		else if (strcasecmp(n, "x-amz-security-token") == 0)
			copy(out->token, sizeof(out->token), v);
	}
	const struct reply *r = &s->replies[s->calls++];
	/* A streamed answer: a failing reply with a body breaks off after
	 * delivering part of it, as a reset connection does. */
	if (req->sink && r->body && r->status >= 200 && r->status < 300) {
		size_t n = strlen(r->body);
		if (r->transport != EV_OK)
			n /= 2;
		assert_int_equal(req->sink->write(req->sink->arg, r->body, n),
				 EV_OK);
		if (r->transport != EV_OK)
			return ev_error_set(err, r->transport,
					    "scripted failure");
		resp->status = r->status;
		resp->streamed = n;
		char hl[256];
		for (size_t i = 0; i < 4 && r->headers[i][0]; i++) {
			snprintf(hl, sizeof(hl), "%s: %s\r\n", r->headers[i][0],
				 r->headers[i][1]);
			assert_int_equal(
			    ev_http_response_header_line(resp, hl, strlen(hl)),
			    EV_OK);
		}
		return EV_OK;
	}
	if (r->transport != EV_OK)
		return ev_error_set(err, r->transport, "scripted failure");
	resp->status = r->status;
	char line[256];
	for (size_t i = 0; i < 4 && r->headers[i][0]; i++) {
		snprintf(line, sizeof(line), "%s: %s\r\n", r->headers[i][0],
			 r->headers[i][1]);
		assert_int_equal(
		    ev_http_response_header_line(resp, line, strlen(line)),
		    EV_OK);
	}
	if (r->body)
		assert_int_equal(ev_buf_append_str(&resp->body, r->body),
				 EV_OK);
	return EV_OK;
}

static void scripted_free(struct ev_http *h)
{
	(void)h;
}

static time_t fixed_now(void *ctx)
{
	return ((struct script *)ctx)->now;
}

static double half(void *ctx)
{
	(void)ctx;
	return 0.5;
}

static void record_sleep(void *ctx, long ms)
{
	struct script *s = ctx;
	if (s->n_sleeps < MAX_STEPS)
		s->sleeps[s->n_sleeps++] = ms;
}

static struct ev_aws *client(struct script *s, const struct reply *replies,
			     size_t n)
{
	memset(s, 0, sizeof(*s));
	s->http.perform = scripted_perform;
	s->http.free = scripted_free;
	s->replies = replies;
	s->n_replies = n;
	s->now = NOW;
	struct ev_aws_options o = {
	    .http = &s->http,
	    .now = fixed_now,
	    .random01 = half,
	    .sleep_ms = record_sleep,
	    .seam_ctx = s,
	};
	struct ev_error err;
	struct ev_aws *aws = ev_aws_new(&o, &err);
	assert_non_null(aws);
	return aws;
}

static struct ev_credentials creds(void)
{
	struct ev_credentials c = {
	    .access_key_id = (char *)"ASIAEXAMPLE",
	    .secret_access_key = (char *)SECRET,
	    .session_token = (char *)TOKEN,
	};
	return c;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define IAM_USERS_PAGE                                                         \
	"<ListUsersResponse "                                                  \
	"xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"                 \
	"<ListUsersResult><IsTruncated>false</IsTruncated><Users><member>"     \
	"<UserName>alice</UserName></member></Users></ListUsersResult>"        \
	"<ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata>"    \
	"</ListUsersResponse>"

static void query_call_is_signed_and_parsed(void **state)
{
	(void)state;
	static const struct reply replies[] = {
	    {200, {{0}}, IAM_USERS_PAGE, EV_OK}};
	struct script s;
	struct ev_aws *aws = client(&s, replies, N(replies));
	struct ev_uri_param p[] = {{"PathPrefix", "/a b/"}};
	struct ev_aws_call call = {.service = EV_SVC_IAM,
				   .action = "ListUsers",
				   .region = "eu-west-1",
				   .params = p,
				   .n_params = 1};
	struct ev_credentials c = creds();
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	struct ev_error err;
	assert_int_equal(ev_aws_call(aws, &call, &c, &resp, &err), EV_OK);
	assert_string_equal(s.sent[0].method, "POST");
	assert_string_equal(s.sent[0].url, "https://iam.amazonaws.com/");
	assert_string_equal(
	    s.sent[0].body,
	    "Action=ListUsers&Version=2010-05-08&PathPrefix=%2Fa%20b%2F");
	assert_string_equal(s.sent[0].content_type,
			    "application/x-www-form-urlencoded; charset=utf-8");
	assert_string_equal(s.sent[0].amz_date, "20250301T100000Z");
	assert_string_equal(s.sent[0].token, TOKEN);
	/* IAM is global: signed for us-east-1 whatever the working region. */
	assert_non_null(strstr(
	    s.sent[0].authorization,
	    "Credential=ASIAEXAMPLE/20250301/us-east-1/iam/aws4_request"));
	assert_non_null(
	    strstr(s.sent[0].authorization, "x-amz-security-token"));
	assert_string_equal(resp.request_id, "rid-1");
	assert_int_equal(resp.attempts, 1);
	const struct ev_xml_node *res =
	    ev_aws_response_result(&resp, "ListUsers");
	assert_string_equal(ev_xml_path_text(res, "Users/member/UserName"),
			    "alice");
	assert_int_equal(strlen(resp.body_sha256), 64);
	ev_aws_response_cleanup(&resp);
	ev_aws_free(aws);
}

static void json_call_error_is_typed(void **state)
{
	(void)state;
	static const struct reply replies[] = {
	    {400,
	     {{"x-amzn-RequestId", "rid-json"}},
	     "{\"__type\":\"com.amazonaws.cloudtrail.v20131101#"
	     "TrailNotFoundException\",\"Message\":\"Unknown trail: x\"}",
	     EV_OK},
	};
	struct script s;
	struct ev_aws *aws = client(&s, replies, N(replies));
	json_t *body = json_pack("{s:[s]}", "trailNameList", "x");
	struct ev_aws_call call = {.service = EV_SVC_CLOUDTRAIL,
				   .action = "DescribeTrails",
				   .region = "eu-west-1",
				   .json = body};
	struct ev_credentials c = creds();
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	struct ev_error err;
	assert_int_equal(ev_aws_call(aws, &call, &c, &resp, &err),
			 EV_E_NOT_FOUND);
	assert_string_equal(s.sent[0].target,
			    "com.amazonaws.cloudtrail.v20131101.CloudTrail_"
			    "20131101.DescribeTrails");
	assert_string_equal(s.sent[0].body, "{\"trailNameList\":[\"x\"]}");
	assert_string_equal(s.sent[0].url,
			    "https://cloudtrail.eu-west-1.amazonaws.com/");
	assert_string_equal(err.aws_code, "TrailNotFoundException");
	assert_string_equal(err.request_id, "rid-json");
	assert_int_equal(err.http_status, 400);
	assert_non_null(strstr(err.message, "Unknown trail"));
	assert_null(strstr(err.message, SECRET));
	assert_int_equal(s.calls, 1);
	json_decref(body);
	ev_aws_response_cleanup(&resp);
	ev_aws_free(aws);
}

static void throttling_is_retried_with_backoff(void **state)
{
	(void)state;
	static const struct reply replies[] = {
	    {400, {{0}}, "{\"__type\":\"ThrottlingException\"}", EV_OK},
	    {400, {{0}}, "{\"__type\":\"ThrottlingException\"}", EV_OK},
	    {200, {{0}}, "{\"ConfigurationRecorders\":[]}", EV_OK},
	};
	struct script s;
	struct ev_aws *aws = client(&s, replies, N(replies));
	struct ev_aws_call call = {.service = EV_SVC_CONFIG,
				   .action = "DescribeConfigurationRecorders",
				   .region = "us-east-1"};
	struct ev_credentials c = creds();
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	struct ev_error err;
	assert_int_equal(ev_aws_call(aws, &call, &c, &resp, &err), EV_OK);
	assert_int_equal(resp.attempts, 3);
	assert_int_equal(s.n_sleeps, 2);
	/* Full jitter with rand 0.5: 0.5 * 500 ms, then 0.5 * 1000 ms. */
	assert_int_equal(s.sleeps[0], 250);
	assert_int_equal(s.sleeps[1], 500);
	assert_non_null(json_object_get(resp.json, "ConfigurationRecorders"));
	ev_aws_response_cleanup(&resp);
	ev_aws_free(aws);
}

static void throttled_key_is_paced_on_the_next_call(void **state)
{
	(void)state;
	static const struct reply replies[] = {
	    {400, {{0}}, "{\"__type\":\"ThrottlingException\"}", EV_OK},
	    {200, {{0}}, "{\"ConfigurationRecorders\":[]}", EV_OK},
	    {200, {{0}}, "{\"ConfigurationRecorders\":[]}", EV_OK},
	    {200, {{0}}, "{\"ConfigurationRecorders\":[]}", EV_OK},
	};
	struct script s;
	struct ev_aws *aws = client(&s, replies, N(replies));
	struct ev_aws_call call = {.service = EV_SVC_CONFIG,
				   .action = "DescribeConfigurationRecorders",
				   .region = "us-east-1"};
	struct ev_credentials c = creds();
	struct ev_aws_response resp;
	struct ev_error err;
	ev_aws_response_init(&resp);
	assert_int_equal(ev_aws_call(aws, &call, &c, &resp, &err), EV_OK);
	assert_int_equal(s.n_sleeps, 1); /* the retry's backoff */
	ev_aws_response_cleanup(&resp);
	/* The next calls with the same key wait for the pace. */
	ev_aws_response_init(&resp);
	assert_int_equal(ev_aws_call(aws, &call, &c, &resp, &err), EV_OK);
	ev_aws_response_cleanup(&resp);
	ev_aws_response_init(&resp);
	assert_int_equal(ev_aws_call(aws, &call, &c, &resp, &err), EV_OK);
	ev_aws_response_cleanup(&resp);
	assert_true(s.n_sleeps >= 2);
	assert_true(s.sleeps[s.n_sleeps - 1] > 0);
	/* Another region is another bucket: not paced. */
	size_t before = s.n_sleeps;
	call.region = "eu-west-1";
	static const struct reply more[] = {
	    {200, {{0}}, "{\"ConfigurationRecorders\":[]}", EV_OK}};
	s.replies = more;
	s.n_replies = 1;
	s.calls = 0;
	ev_aws_response_init(&resp);
	assert_int_equal(ev_aws_call(aws, &call, &c, &resp, &err), EV_OK);
	ev_aws_response_cleanup(&resp);
	assert_int_equal(s.n_sleeps, before);
	ev_aws_free(aws);
}

static void retries_stop_at_max_attempts(void **state)
{
	(void)state;
	static const struct reply replies[] = {
	    {503, {{"Retry-After", "2"}}, NULL, EV_OK},
	    {503, {{0}}, NULL, EV_OK},
	    {503, {{0}}, NULL, EV_OK},
	};
	struct script s;
	struct ev_aws *aws = client(&s, replies, N(replies));
	struct ev_aws_call call = {.service = EV_SVC_LAMBDA,
				   .action = "ListFunctions",
				   .region = "eu-west-1",
				   .path = "/2015-03-31/functions"};
	struct ev_credentials c = creds();
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	struct ev_error err;
	assert_int_equal(ev_aws_call(aws, &call, &c, &resp, &err), EV_E_SERVER);
	assert_int_equal(s.calls, 3);
	assert_string_equal(s.sent[0].method, "GET");
	assert_string_equal(
	    s.sent[0].url,
	    "https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions");
	assert_string_equal(err.aws_code, "HTTP503");
	/* Retry-After: 2 is a floor over the jittered 50 ms. */
	assert_true(s.sleeps[0] >= 2000);
	ev_aws_response_cleanup(&resp);
	ev_aws_free(aws);
}

static void access_denied_is_not_retried(void **state)
{
	(void)state;
	static const struct reply replies[] = {
	    {403,
	     {{0}},
	     "<Response><Errors><Error><Code>UnauthorizedOperation</Code>"
	     "<Message>You are not authorized</Message></Error></Errors>"
	     "<RequestID>ec2-rid</RequestID></Response>",
	     EV_OK},
	};
	struct script s;
	struct ev_aws *aws = client(&s, replies, N(replies));
	struct ev_aws_call call = {.service = EV_SVC_EC2,
				   .action = "DescribeVpcs",
				   .region = "eu-west-1"};
	struct ev_credentials c = creds();
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	struct ev_error err;
	assert_int_equal(ev_aws_call(aws, &call, &c, &resp, &err),
			 EV_E_ACCESS_DENIED);
	assert_int_equal(s.calls, 1);
	assert_string_equal(err.aws_code, "UnauthorizedOperation");
	assert_string_equal(err.request_id, "ec2-rid");
	assert_string_equal(s.sent[0].body,
			    "Action=DescribeVpcs&Version=2016-11-15");
	ev_aws_response_cleanup(&resp);
	ev_aws_free(aws);
}

static void clock_skew_is_corrected_once(void **state)
{
	(void)state;
	static const struct reply replies[] = {
	    {403,
	     {{"Date", "Sat, 01 Mar 2025 10:20:00 GMT"}},
	     "<ErrorResponse><Error><Type>Sender</Type><Code>"
	     "SignatureDoesNotMatch</Code><Message>Signature expired: "
	     "20250301T100000Z is now earlier than 20250301T100500Z"
	     "</Message></Error><RequestId>r1</RequestId></ErrorResponse>",
	     EV_OK},
	    {200,
	     {{0}},
	     "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>"
	     "111122223333</Account></GetCallerIdentityResult>"
	     "</GetCallerIdentityResponse>",
	     EV_OK},
	};
	struct script s;
	struct ev_aws *aws = client(&s, replies, N(replies));
	struct ev_aws_call call = {.service = EV_SVC_STS,
				   .action = "GetCallerIdentity",
				   .region = "eu-west-1"};
	struct ev_credentials c = creds();
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	struct ev_error err;
	assert_int_equal(ev_aws_call(aws, &call, &c, &resp, &err), EV_OK);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.n_sleeps, 0);
	assert_string_equal(s.sent[0].amz_date, "20250301T100000Z");
	assert_string_equal(s.sent[1].amz_date, "20250301T102000Z");
	assert_int_equal(ev_aws_clock_offset(aws), 1200);
	assert_string_equal(s.sent[0].url,
			    "https://sts.eu-west-1.amazonaws.com/");
	ev_aws_response_cleanup(&resp);
	ev_aws_free(aws);
}

static void transient_network_error_is_retried(void **state)
{
	(void)state;
	static const struct reply replies[] = {
	    {0, {{0}}, NULL, EV_E_NETWORK},
	    {200, {{0}}, "{\"Accounts\":[]}", EV_OK},
	};
	struct script s;
	struct ev_aws *aws = client(&s, replies, N(replies));
	struct ev_aws_call call = {.service = EV_SVC_ORGANIZATIONS,
				   .action = "ListAccounts",
				   .region = "eu-west-1"};
	struct ev_credentials c = creds();
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	struct ev_error err;
	assert_int_equal(ev_aws_call(aws, &call, &c, &resp, &err), EV_OK);
	assert_int_equal(s.calls, 2);
	assert_string_equal(s.sent[1].url,
			    "https://organizations.us-east-1.amazonaws.com/");
	assert_string_equal(s.sent[1].body, "{}");
	ev_aws_response_cleanup(&resp);
	ev_aws_free(aws);
}

struct collected {
	char data[256];
	size_t len;
	int resets;
};

static void collected_reset(void *arg)
{
	struct collected *c = arg;
	c->len = 0;
	c->resets++;
}

static enum ev_err collected_write(void *arg, const void *data, size_t len)
{
	struct collected *c = arg;
	if (len > sizeof(c->data) - c->len)
		return EV_E_LIMIT;
	memcpy(c->data + c->len, data, len);
	c->len += len;
	return EV_OK;
}

static void streamed_body_restarts_on_retry_and_is_hashed(void **state)
{
	(void)state;
	static const char object[] = "0123456789abcdefghij";
	static const struct reply replies[] = {
	    {200, {{0}}, object, EV_E_NETWORK},
	    {200, {{"x-amz-request-id", "rid-s"}}, object, EV_OK},
	};
	struct script s;
	struct ev_aws *aws = client(&s, replies, N(replies));
	struct collected got = {0};
	struct ev_http_sink sink = {
	    .reset = collected_reset, .write = collected_write, .arg = &got};
	struct ev_aws_call call = {.service = EV_SVC_S3,
				   .action = "GetObject",
				   .region = "us-east-1",
				   .bucket = "logs",
				   .path = "/AWSLogs/x.json.gz",
				   .sink = &sink};
	struct ev_credentials c = creds();
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	struct ev_error err;
	assert_int_equal(ev_aws_call(aws, &call, &c, &resp, &err), EV_OK);
	assert_int_equal(s.calls, 2);
	/* The half delivered by the broken attempt was forgotten. */
	assert_int_equal(got.resets, 2);
	assert_int_equal(got.len, strlen(object));
	assert_memory_equal(got.data, object, got.len);
	assert_int_equal(resp.http.streamed, strlen(object));
	assert_int_equal(resp.http.body.len, 0);
	char want[EV_SHA256_HEX_LEN + 1];
	ev_sha256_hex(object, strlen(object), want);
	assert_string_equal(resp.body_sha256, want);
	assert_string_equal(resp.request_id, "rid-s");
	ev_aws_response_cleanup(&resp);
	ev_aws_free(aws);
}

static void malformed_success_body_is_an_error(void **state)
{
	(void)state;
	static const struct reply replies[] = {
	    {200,
	     {{"x-amzn-RequestId", "rid-m"}},
	     "<ListUsersResponse><oops>",
	     EV_OK},
	};
	struct script s;
	struct ev_aws *aws = client(&s, replies, N(replies));
	struct ev_aws_call call = {.service = EV_SVC_IAM,
				   .action = "ListUsers",
				   .region = "us-east-1"};
	struct ev_credentials c = creds();
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	struct ev_error err;
	assert_int_equal(ev_aws_call(aws, &call, &c, &resp, &err),
			 EV_E_MALFORMED);
	assert_string_equal(err.request_id, "rid-m");
	assert_int_equal(s.calls, 1);
	ev_aws_response_cleanup(&resp);
	ev_aws_free(aws);
}

static void s3_follows_the_bucket_region_once(void **state)
{
	(void)state;
	static const struct reply replies[] = {
	    {400,
	     {{"x-amz-bucket-region", "us-west-2"}},
	     "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the "
	     "region 'eu-west-1' is wrong; expecting 'us-west-2'</Message>"
	     "<Region>us-west-2</Region></Error>",
	     EV_OK},
	    {200,
	     {{0}},
	     "<LocationConstraint>us-west-2</LocationConstraint>",
	     EV_OK},
	};
	struct script s;
	struct ev_aws *aws = client(&s, replies, N(replies));
	struct ev_uri_param p[] = {{"location", ""}};
	struct ev_aws_call call = {.service = EV_SVC_S3,
				   .action = "GetBucketLocation",
				   .region = "eu-west-1",
				   .bucket = "logs",
				   .path = "/",
				   .params = p,
				   .n_params = 1};
	struct ev_credentials c = creds();
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	struct ev_error err;
	assert_int_equal(ev_aws_call(aws, &call, &c, &resp, &err), EV_OK);
	assert_int_equal(s.calls, 2);
	assert_string_equal(
	    s.sent[0].url,
	    "https://logs.s3.eu-west-1.amazonaws.com/?location=");
	assert_string_equal(
	    s.sent[1].url,
	    "https://logs.s3.us-west-2.amazonaws.com/?location=");
	assert_non_null(strstr(s.sent[1].authorization, "/us-west-2/s3/"));
	assert_string_equal(resp.signing_region, "us-west-2");
	ev_aws_response_cleanup(&resp);
	ev_aws_free(aws);
}

struct pages {
	int count;
	char users[8][32];
};

static enum ev_err collect_users(void *ctx, const struct ev_aws_response *r,
				 struct ev_error *err)
{
	(void)err;
	struct pages *p = ctx;
	const struct ev_xml_node *res = ev_aws_response_result(r, "ListUsers");
	const struct ev_xml_node *m = ev_xml_path(res, "Users/member");
	for (; m; m = ev_xml_next_same(m))
		copy(p->users[p->count++], 32, ev_xml_path_text(m, "UserName"));
	return EV_OK;
}

#define USERS_PAGE(trunc, marker, user)                                        \
	"<ListUsersResponse><ListUsersResult><IsTruncated>" trunc              \
	"</IsTruncated>" marker "<Users><member><UserName>" user               \
	"</UserName></member></Users></ListUsersResult></ListUsersResponse>"

static void iam_pagination_follows_marker(void **state)
{
	(void)state;
	static const struct reply replies[] = {
	    {200,
	     {{0}},
	     USERS_PAGE("true", "<Marker>m/1+</Marker>", "a"),
	     EV_OK},
	    {200, {{0}}, USERS_PAGE("true", "<Marker>m2</Marker>", "b"), EV_OK},
	    {200,
	     {{0}},
	     USERS_PAGE("false", "<Marker>ignored</Marker>", "c"),
	     EV_OK},
	};
	struct script s;
	struct ev_aws *aws = client(&s, replies, N(replies));
	struct ev_uri_param p[] = {{"MaxItems", "1000"}};
	struct ev_aws_call call = {.service = EV_SVC_IAM,
				   .action = "ListUsers",
				   .region = "us-east-1",
				   .params = p,
				   .n_params = 1};
	struct ev_credentials c = creds();
	struct pages pages = {0};
	struct ev_error err;
	assert_int_equal(
	    ev_aws_paginate(aws, &call, &c, collect_users, &pages, &err),
	    EV_OK);
	assert_int_equal(pages.count, 3);
	assert_string_equal(pages.users[2], "c");
	assert_string_equal(s.sent[1].body, "Action=ListUsers&Version=2010-05-"
					    "08&MaxItems=1000&Marker=m%2F1%2B");
	assert_string_equal(
	    s.sent[2].body,
	    "Action=ListUsers&Version=2010-05-08&MaxItems=1000&Marker=m2");
	ev_aws_free(aws);
}

static void repeated_token_stops_pagination(void **state)
{
	(void)state;
	static const struct reply replies[] = {
	    {200,
	     {{0}},
	     USERS_PAGE("true", "<Marker>same</Marker>", "a"),
	     EV_OK},
	    {200,
	     {{0}},
	     USERS_PAGE("true", "<Marker>same</Marker>", "b"),
	     EV_OK},
	};
	struct script s;
	struct ev_aws *aws = client(&s, replies, N(replies));
	struct ev_aws_call call = {.service = EV_SVC_IAM,
				   .action = "ListUsers",
				   .region = "us-east-1"};
	struct ev_credentials c = creds();
	struct pages pages = {0};
	struct ev_error err;
	assert_int_equal(
	    ev_aws_paginate(aws, &call, &c, collect_users, &pages, &err),
	    EV_E_MALFORMED);
	assert_int_equal(s.calls, 2);
	ev_aws_free(aws);
}

static enum ev_err count_pages(void *ctx, const struct ev_aws_response *r,
			       struct ev_error *err)
{
	(void)r;
	(void)err;
	(*(int *)ctx)++;
	return EV_OK;
}

static void json_pagination_sends_next_token(void **state)
{
	(void)state;
	static const struct reply replies[] = {
	    {200, {{0}}, "{\"Accounts\":[],\"NextToken\":\"t1\"}", EV_OK},
	    {200,
	     {{0}},
	     "{\"Accounts\":[{\"Id\":\"1\"}],\"NextToken\":null}",
	     EV_OK},
	};
	struct script s;
	struct ev_aws *aws = client(&s, replies, N(replies));
	json_t *body = json_pack("{s:i}", "MaxResults", 20);
	struct ev_aws_call call = {.service = EV_SVC_ORGANIZATIONS,
				   .action = "ListAccounts",
				   .region = "us-east-1",
				   .json = body};
	struct ev_credentials c = creds();
	int n = 0;
	struct ev_error err;
	assert_int_equal(ev_aws_paginate(aws, &call, &c, count_pages, &n, &err),
			 EV_OK);
	assert_int_equal(n, 2);
	json_t *second = json_loads(s.sent[1].body, 0, NULL);
	assert_non_null(second);
	assert_string_equal(
	    json_string_value(json_object_get(second, "NextToken")), "t1");
	assert_int_equal(
	    json_integer_value(json_object_get(second, "MaxResults")), 20);
	json_decref(second);
	json_decref(body);
	ev_aws_free(aws);
}

static void error_shapes(void **state)
{
	(void)state;
	static const struct {
		const char *code;
		const char *message;
		long status;
		enum ev_err want;
	} cases[] = {
	    {"Throttling", "", 400, EV_E_THROTTLED},
	    {"RequestLimitExceeded", "", 503, EV_E_THROTTLED},
	    {"TooManyRequestsException", "", 429, EV_E_THROTTLED},
	    {"SlowDown", "", 503, EV_E_THROTTLED},
	    {"ExpiredToken", "", 403, EV_E_EXPIRED},
	    {"SignatureDoesNotMatch", "Signature expired: x", 403,
	     EV_E_CLOCK_SKEW},
	    {"SignatureDoesNotMatch", "The request signature", 403, EV_E_AUTH},
	    {"RequestTimeTooSkewed", "", 403, EV_E_CLOCK_SKEW},
	    {"AuthFailure", "", 401, EV_E_AUTH},
	    {"InvalidClientTokenId", "", 403, EV_E_AUTH},
	    {"OptInRequired", "", 401, EV_E_NOT_OPTED_IN},
	    {"RegionDisabledException", "", 403, EV_E_NOT_OPTED_IN},
	    {"AccessDenied", "", 403, EV_E_ACCESS_DENIED},
	    {"AccessDeniedException", "", 400, EV_E_ACCESS_DENIED},
	    {"NoSuchBucket", "", 404, EV_E_NOT_FOUND},
	    {"InvalidVpcID.NotFound", "", 400, EV_E_NOT_FOUND},
	    {"ValidationError", "", 400, EV_E_INVALID},
	    {"HTTP502", "", 502, EV_E_SERVER},
	    {"InternalError", "", 500, EV_E_SERVER},
	};
	for (size_t i = 0; i < N(cases); i++)
		assert_int_equal(ev_aws_error_class(cases[i].code,
						    cases[i].message,
						    cases[i].status),
				 cases[i].want);

	char code[64];
	ev_aws_error_normalise_code(
	    "aws.protocoltests#FooError:http://internal", code, sizeof(code));
	assert_string_equal(code, "FooError");

	/* Lambda: the code is only in the header. */
	struct ev_aws_error_info info = {0};
	json_t *j = json_loads("{\"message\":\"bad token\"}", 0, NULL);
	ev_aws_error_parse(
	    NULL, j,
	    "UnrecognizedClientException:http://internal.amazon.com/coral/",
	    403, &info);
	assert_string_equal(info.code, "UnrecognizedClientException");
	assert_string_equal(info.message, "bad token");
	json_decref(j);

	/* S3: bare <Error>, request ID in the body. */
	struct ev_xml_doc *doc = NULL;
	const char *s3 =
	    "<Error><Code>AccessDenied</Code><Message>Access Denied"
	    "</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>";
	struct ev_error err;
	assert_int_equal(ev_xml_parse(s3, strlen(s3), &doc, &err), EV_OK);
	memset(&info, 0, sizeof(info));
	ev_aws_error_parse(doc, NULL, NULL, 403, &info);
	assert_string_equal(info.code, "AccessDenied");
	assert_string_equal(info.request_id, "4442587FB7D0A2F9");
	ev_xml_free(doc);

	/* No code at all: the status stands in. */
	memset(&info, 0, sizeof(info));
	ev_aws_error_parse(NULL, NULL, NULL, 504, &info);
	assert_string_equal(info.code, "HTTP504");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(query_call_is_signed_and_parsed),
	    cmocka_unit_test(json_call_error_is_typed),
	    cmocka_unit_test(throttling_is_retried_with_backoff),
	    cmocka_unit_test(throttled_key_is_paced_on_the_next_call),
	    cmocka_unit_test(retries_stop_at_max_attempts),
	    cmocka_unit_test(access_denied_is_not_retried),
	    cmocka_unit_test(clock_skew_is_corrected_once),
	    cmocka_unit_test(transient_network_error_is_retried),
	    cmocka_unit_test(malformed_success_body_is_an_error),
	    cmocka_unit_test(streamed_body_restarts_on_retry_and_is_hashed),
	    cmocka_unit_test(iam_pagination_follows_marker),
	    cmocka_unit_test(repeated_token_stops_pagination),
	    cmocka_unit_test(json_pagination_sends_next_token),
	    cmocka_unit_test(error_shapes),
	    cmocka_unit_test(s3_follows_the_bucket_region_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
