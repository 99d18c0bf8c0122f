/* S3 upload of snapshots against a scripted transport: the PutObject
 * requests (keys, order, body, checksum, Object Lock headers, signing),
 * the marker, refusals of a snapshot changed on disk, and a failed upload
 * tried again by the next pass. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "aws.h"
#include "digest.h"
#include "evidence.h"
#include "keys.h"
#include "timefmt.h"
#include "upload.h"

#define T0	 ((time_t)1735689600) /* 2025-01-01T00:00:00Z */
#define NOW	 ((time_t)1740823200) /* 2025-03-01T10:00:00Z */
#define MAX_SENT 16
#define BUCKET	 "evidence-bucket"
#define SNAP0	 "20250101T000000Z"
#define SNAP1	 "20250102T000000Z"
#define AKID	 "AKIDEXAMPLE"
#define SECRET	 "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

struct sent {
	char method[8];
	char url[512];
	char headers[16][2][512];
	size_t n_headers;
	char body_sha256[EV_SHA256_HEX_LEN + 1];
	size_t body_len;
};

struct reply {
	long status;
	const char *body;
	bool bad_echo; /* echo another checksum */
};

struct script {
	struct ev_http http;
	struct sent sent[MAX_SENT];
	size_t calls;
	const struct reply *replies; /* by call; past the end: 200 */
	size_t n_replies;
};

static const char *header(const struct sent *s, const char *name)
{
	for (size_t i = 0; i < s->n_headers; i++)
		if (strcasecmp(s->headers[i][0], name) == 0)
			return s->headers[i][1];
	return NULL;
}

static enum ev_err scripted_perform(struct ev_http *h,
				    const struct ev_http_request *req,
				    struct ev_http_response *resp,
				    struct ev_error *err)
{
	(void)err;
	struct script *s = (struct script *)h;
	assert_true(s->calls < MAX_SENT);
	struct sent *out = &s->sent[s->calls];
	snprintf(out->method, sizeof(out->method), "%s", req->method);
	snprintf(out->url, sizeof(out->url), "%s", req->url);
	for (size_t i = 0; i < req->n_headers && i < 16; i++) {
		snprintf(out->headers[i][0], sizeof(out->headers[i][0]), "%s",
			 req->headers[i].name);
		snprintf(out->headers[i][1], sizeof(out->headers[i][1]), "%s",
			 req->headers[i].value);
		out->n_headers = i + 1;
	}
	out->body_len = req->body_len;
	ev_sha256_hex(req->body ? req->body : "", req->body_len,
		      out->body_sha256);
	const struct reply *r =
	    s->calls < s->n_replies ? &s->replies[s->calls] : NULL;
	s->calls++;
	resp->status = r ? r->status : 200;
	char line[256];
	snprintf(line, sizeof(line), "x-amz-request-id: rid-%zu\r\n", s->calls);
	assert_int_equal(ev_http_response_header_line(resp, line, strlen(line)),
			 EV_OK);
	if (resp->status == 200) {
		const char *sum = header(out, "x-amz-checksum-sha256");
		snprintf(line, sizeof(line), "x-amz-checksum-sha256: %s\r\n",
			 r && r->bad_echo ? "AAAA"
			 : sum		  ? sum
					  : "");
		assert_int_equal(
		    ev_http_response_header_line(resp, line, strlen(line)),
		    EV_OK);
		snprintf(line, sizeof(line), "x-amz-version-id: v-%zu\r\n",
			 s->calls);
		assert_int_equal(
		    ev_http_response_header_line(resp, line, strlen(line)),
		    EV_OK);
	}
	if (r && r->body)
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
	(void)ctx;
	return NOW;
}

static double half(void *ctx)
{
	(void)ctx;
	return 0.5;
}

static void no_sleep(void *ctx, long ms)
{
	(void)ctx;
	(void)ms;
}

static struct ev_aws *client(struct script *s, const struct reply *replies,
			     size_t n)
{
	memset(s, 0, sizeof(*s));
	s->http.perform = scripted_perform;
	s->http.free = scripted_free;
	s->replies = replies;
	s->n_replies = n;
	struct ev_aws_options o = {
	    .http = &s->http,
	    .now = fixed_now,
	    .random01 = half,
	    .sleep_ms = no_sleep,
	};
	struct ev_error err;
	struct ev_aws *aws = ev_aws_new(&o, &err);
	assert_non_null(aws);
	return aws;
}

static struct ev_credentials creds(void)
{
	struct ev_credentials c = {
	    .access_key_id = (char *)AKID,
	    .secret_access_key = (char *)SECRET,
	};
	return c;
}

static char tmpdir[256];
static struct ev_key *key;

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ev-upload-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	struct ev_error err;
	key = ev_keys_generate(&err);
	/* For the provider of ev_upload_pending: environment keys. */
	setenv("AWS_ACCESS_KEY_ID", AKID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	return key ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ev_keys_free(key);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void new_dir(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out);
	assert_int_equal(system(cmd), 0);
}

/* A committed snapshot with two accounts. */
static void snapshot(const char *dir, time_t t)
{
	struct ev_evidence_options o = {
	    .snapshot_dir = dir, .started_at = t, .signing_key = key};
	struct ev_error err;
	struct ev_evidence *e = ev_evidence_begin(&o, &err);
	if (!e)
		fail_msg("begin: %s", err.message);
	static const char *const ids[] = {"111111111111", "222222222222"};
	for (size_t i = 0; i < 2; i++) {
		struct ev_findings f;
		ev_findings_init(&f);
		const char *regions[] = {"eu-west-1"};
		struct ev_evidence_account a = {
		    .id = ids[i],
		    .regions = regions,
		    .n_regions = 1,
		    .findings = &f,
		};
		assert_int_equal(ev_evidence_add_account(e, &a, &err), EV_OK);
		ev_findings_cleanup(&f);
	}
	assert_int_equal(ev_evidence_commit(e, NULL, NULL, 0, &err), EV_OK);
}

/* The file's SHA-256, hex and base64. */
static void file_sums(const char *path, char hex[EV_SHA256_HEX_LEN + 1],
		      char *b64, size_t b64_len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	unsigned char d[EV_SHA256_LEN];
	ev_sha256(buf, n, d);
	ev_hex_encode(d, sizeof(d), hex);
	struct ev_buf b;
	ev_buf_init(&b, 128);
	assert_int_equal(ev_base64_encode(d, sizeof(d), &b), EV_OK);
	snprintf(b64, b64_len, "%s", ev_buf_str(&b));
	ev_buf_cleanup(&b);
}

static const struct ev_upload_target target = {
    .bucket = BUCKET,
    .prefix = "evident/prod",
    .region = "eu-west-1",
    .lock = EV_S3_LOCK_COMPLIANCE,
    .retention_days = 7,
};

static void requests_carry_checksum_lock_and_keys(void **state)
{
	(void)state;
	char dir[512], path[700];
	new_dir(dir, sizeof(dir), "shapes");
	snapshot(dir, T0);
	struct script s;
	struct ev_aws *aws = client(&s, NULL, 0);
	struct ev_credentials c = creds();
	struct ev_upload_stats st;
	struct ev_error err;
	assert_false(ev_upload_is_done(dir, SNAP0, &target));
	assert_int_equal(ev_upload_snapshot(aws, &c, &target, dir, SNAP0, NOW,
					    NULL, &st, &err),
			 EV_OK);
	/* Both parts, then the manifest, then its signature. */
	assert_int_equal(s.calls, 4);
	assert_int_equal(st.objects, 4);
	static const char *const files[] = {"accounts/111111111111.json",
					    "accounts/222222222222.json",
					    "manifest.json", "manifest.sig"};
	uint64_t total = 0;
	for (size_t i = 0; i < 4; i++) {
		const struct sent *r = &s.sent[i];
		char want[600];
		snprintf(want, sizeof(want),
			 "https://" BUCKET ".s3.eu-west-1.amazonaws.com/"
			 "evident/prod/" SNAP0 "/%s",
			 files[i]);
		assert_string_equal(r->method, "PUT");
		assert_string_equal(r->url, want);
		char hex[EV_SHA256_HEX_LEN + 1], b64[64];
		snprintf(path, sizeof(path), "%s/" SNAP0 "/%s", dir, files[i]);
		file_sums(path, hex, b64, sizeof(b64));
		/* The body is the file, its digest in both forms. */
		assert_string_equal(r->body_sha256, hex);
		assert_string_equal(header(r, "x-amz-content-sha256"), hex);
		assert_string_equal(header(r, "x-amz-checksum-sha256"), b64);
		assert_string_equal(header(r, "x-amz-object-lock-mode"),
				    "COMPLIANCE");
		/* Seven days after now. */
		assert_string_equal(
		    header(r, "x-amz-object-lock-retain-until-date"),
		    "2025-03-08T10:00:00Z");
		assert_string_equal(header(r, "Content-Type"),
				    i < 3 ? "application/json"
					  : "application/octet-stream");
		const char *auth = header(r, "Authorization");
		assert_non_null(auth);
		assert_non_null(strstr(
		    auth, "Credential=" AKID "/20250301/eu-west-1/s3/"
			  "aws4_request, SignedHeaders=content-type;host;"
			  "x-amz-checksum-sha256;x-amz-content-sha256;"
			  "x-amz-date;x-amz-object-lock-mode;"
			  "x-amz-object-lock-retain-until-date, Signature="));
		assert_null(strstr(auth, SECRET));
		total += r->body_len;
	}
	assert_int_equal(st.bytes, total);
	assert_int_equal(s.sent[3].body_len, 64); /* Ed25519 */

	/* The marker records the destination and the manifest's version. */
	assert_true(ev_upload_is_done(dir, SNAP0, &target));
	snprintf(path, sizeof(path), "%s/%s/" SNAP0 ".json", dir,
		 EV_UPLOAD_MARKER_DIR);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char text[4096];
	text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
	fclose(f);
	assert_non_null(strstr(text, "\"manifest_version_id\": \"v-3\""));
	assert_non_null(strstr(text, "\"object_lock_mode\": \"COMPLIANCE\""));
	assert_non_null(
	    strstr(text, "\"retain_until\": \"2025-03-08T10:00:00Z\""));
	/* Another destination has not got it. */
	struct ev_upload_target other = target;
	other.prefix = "evident/staging";
	assert_false(ev_upload_is_done(dir, SNAP0, &other));
	other = target;
	other.bucket = "another-bucket";
	assert_false(ev_upload_is_done(dir, SNAP0, &other));

	/* The marker is outside the snapshot, which still verifies. */
	const struct ev_key *keys[] = {key};
	struct ev_manifest_verify_options vo = {
	    .path = dir, .keys = keys, .n_keys = 1};
	struct ev_manifest_summary sum;
	assert_int_equal(ev_manifest_verify(&vo, &sum, &err), EV_OK);
	assert_int_equal(sum.problems, 0);
	ev_aws_free(aws);
}

static void lock_modes_and_key_encoding(void **state)
{
	(void)state;
	char dir[512];
	new_dir(dir, sizeof(dir), "modes");
	snapshot(dir, T0);
	struct ev_credentials c = creds();
	struct ev_upload_stats st;
	struct ev_error err;

	struct ev_upload_target gov = target;
	gov.lock = EV_S3_LOCK_GOVERNANCE;
	gov.retention_days = 365;
	struct script s;
	struct ev_aws *aws = client(&s, NULL, 0);
	assert_int_equal(
	    ev_upload_snapshot(aws, &c, &gov, dir, SNAP0, NOW, NULL, &st, &err),
	    EV_OK);
	assert_string_equal(header(&s.sent[0], "x-amz-object-lock-mode"),
			    "GOVERNANCE");
	assert_string_equal(
	    header(&s.sent[0], "x-amz-object-lock-retain-until-date"),
	    "2026-03-01T10:00:00Z");
	ev_aws_free(aws);

	/* off: no lock headers, the checksum still (a bucket's default
	 * retention needs it). No prefix: keys start with the snapshot. */
	struct ev_upload_target off = target;
	off.lock = EV_S3_LOCK_OFF;
	off.prefix = NULL;
	aws = client(&s, NULL, 0);
	assert_int_equal(
	    ev_upload_snapshot(aws, &c, &off, dir, SNAP0, NOW, NULL, &st, &err),
	    EV_OK);
	assert_null(header(&s.sent[0], "x-amz-object-lock-mode"));
	assert_null(header(&s.sent[0], "x-amz-object-lock-retain-until-date"));
	assert_non_null(header(&s.sent[0], "x-amz-checksum-sha256"));
	assert_string_equal(s.sent[2].url, "https://" BUCKET
					   ".s3.eu-west-1.amazonaws.com/" SNAP0
					   "/manifest.json");
	ev_aws_free(aws);

	/* Prefix characters outside the unreserved set are encoded once. */
	struct ev_buf b;
	ev_buf_init(&b, 2048);
	struct ev_upload_target odd = target;
	odd.prefix = "a!b/c(d)*'";
	assert_int_equal(ev_upload_key_path(&odd, SNAP0, "manifest.json", &b),
			 EV_OK);
	assert_string_equal(ev_buf_str(&b),
			    "/a%21b/c%28d%29%2A%27/" SNAP0 "/manifest.json");
	ev_buf_cleanup(&b);

	/* A key over S3's 1024 bytes. */
	char long_prefix[1100];
	memset(long_prefix, 'p', sizeof(long_prefix) - 1);
	long_prefix[sizeof(long_prefix) - 1] = '\0';
	odd.prefix = long_prefix;
	ev_buf_init(&b, 4096);
	assert_int_equal(ev_upload_key_path(&odd, SNAP0, "manifest.json", &b),
			 EV_E_LIMIT);
	ev_buf_cleanup(&b);
}

static void changed_snapshots_are_not_uploaded(void **state)
{
	(void)state;
	char dir[512], path[700];
	new_dir(dir, sizeof(dir), "changed");
	snapshot(dir, T0);
	snprintf(path, sizeof(path), "%s/" SNAP0 "/accounts/111111111111.json",
		 dir);
	FILE *f = fopen(path, "ab");
	assert_non_null(f);
	fputs(" ", f);
	fclose(f);
	struct script s;
	struct ev_aws *aws = client(&s, NULL, 0);
	struct ev_credentials c = creds();
	struct ev_upload_stats st;
	struct ev_error err;
	assert_int_equal(ev_upload_snapshot(aws, &c, &target, dir, SNAP0, NOW,
					    NULL, &st, &err),
			 EV_E_MALFORMED);
	assert_non_null(strstr(err.message, "changed since the snapshot"));
	assert_int_equal(s.calls, 0);
	assert_false(ev_upload_is_done(dir, SNAP0, &target));

	/* The pass skips it and uploads the next one. */
	snapshot(dir, T0 + 86400);
	struct ev_credentials_options co = {.region = "eu-west-1", .aws = aws};
	struct ev_credentials_provider *p =
	    ev_credentials_provider_new(&co, &err);
	assert_non_null(p);
	struct ev_upload_summary sum;
	assert_int_equal(
	    ev_upload_pending(aws, p, &target, dir, NOW, NULL, &sum, &err),
	    EV_E_MALFORMED);
	assert_int_equal(sum.uploaded, 1);
	assert_int_equal(sum.pending, 1);
	assert_string_equal(sum.last, SNAP1);
	assert_false(ev_upload_is_done(dir, SNAP0, &target));
	assert_true(ev_upload_is_done(dir, SNAP1, &target));
	ev_credentials_provider_free(p);

	/* A missing part. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ev_upload_snapshot(aws, &c, &target, dir, SNAP0, NOW,
					    NULL, &st, &err),
			 EV_E_NOT_FOUND);
	ev_aws_free(aws);
}

static void failed_upload_is_retried_next_pass(void **state)
{
	(void)state;
	char dir[512];
	new_dir(dir, sizeof(dir), "retry");
	snapshot(dir, T0);
	snapshot(dir, T0 + 86400);
	/* The first PUT is refused: the pass stops (the next snapshot would
	 * meet the same refusal). */
	static const struct reply refused[] = {
	    {403,
	     "<Error><Code>AccessDenied</Code><Message>Access Denied"
	     "</Message><RequestId>rid-1</RequestId></Error>",
	     false},
	};
	struct script s;
	struct ev_aws *aws = client(&s, refused, 1);
	struct ev_credentials_options co = {.region = "eu-west-1", .aws = aws};
	struct ev_error err;
	struct ev_credentials_provider *p =
	    ev_credentials_provider_new(&co, &err);
	assert_non_null(p);
	struct ev_upload_summary sum;
	assert_int_equal(
	    ev_upload_pending(aws, p, &target, dir, NOW, NULL, &sum, &err),
	    EV_E_ACCESS_DENIED);
	assert_int_equal(s.calls, 1);
	assert_int_equal(sum.uploaded, 0);
	assert_int_equal(sum.pending, 2);
	assert_string_equal(err.aws_code, "AccessDenied");
	assert_string_equal(err.request_id, "rid-1");
	assert_non_null(strstr(err.message, "uploading " SNAP0
					    "/accounts/111111111111.json"));
	size_t pending = 0;
	assert_int_equal(ev_upload_count_pending(&target, dir, &pending, &err),
			 EV_OK);
	assert_int_equal(pending, 2);
	ev_credentials_provider_free(p);
	ev_aws_free(aws);

	/* The next pass sends both, oldest first. */
	aws = client(&s, NULL, 0);
	co.aws = aws;
	p = ev_credentials_provider_new(&co, &err);
	assert_int_equal(
	    ev_upload_pending(aws, p, &target, dir, NOW, NULL, &sum, &err),
	    EV_OK);
	assert_int_equal(s.calls, 8);
	assert_int_equal(sum.uploaded, 2);
	assert_int_equal(sum.pending, 0);
	assert_int_equal(sum.objects, 8);
	assert_non_null(strstr(s.sent[0].url, SNAP0));
	assert_non_null(strstr(s.sent[4].url, SNAP1));
	assert_int_equal(ev_upload_count_pending(&target, dir, &pending, &err),
			 EV_OK);
	assert_int_equal(pending, 0);

	/* Nothing left: a third pass sends nothing. */
	assert_int_equal(
	    ev_upload_pending(aws, p, &target, dir, NOW, NULL, &sum, &err),
	    EV_OK);
	assert_int_equal(s.calls, 8);
	assert_int_equal(sum.uploaded, 0);

	/* Markers of snapshots no longer present are dropped. */
	char cmd[700], path[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/" SNAP0 "'", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(
	    ev_upload_pending(aws, p, &target, dir, NOW, NULL, &sum, &err),
	    EV_OK);
	snprintf(path, sizeof(path), "%s/%s/" SNAP0 ".json", dir,
		 EV_UPLOAD_MARKER_DIR);
	struct stat stt;
	assert_int_not_equal(stat(path, &stt), 0);
	ev_credentials_provider_free(p);
	ev_aws_free(aws);
}

static void echoed_checksum_and_cancel(void **state)
{
	(void)state;
	char dir[512];
	new_dir(dir, sizeof(dir), "echo");
	snapshot(dir, T0);
	static const struct reply wrong[] = {{200, NULL, true}};
	struct script s;
	struct ev_aws *aws = client(&s, wrong, 1);
	struct ev_credentials c = creds();
	struct ev_upload_stats st;
	struct ev_error err;
	assert_int_equal(ev_upload_snapshot(aws, &c, &target, dir, SNAP0, NOW,
					    NULL, &st, &err),
			 EV_E_MALFORMED);
	assert_non_null(strstr(err.message, "another SHA-256"));
	assert_false(ev_upload_is_done(dir, SNAP0, &target));
	ev_aws_free(aws);

	/* Cancelled before it starts: nothing is sent. */
	atomic_bool cancel;
	atomic_init(&cancel, true);
	aws = client(&s, NULL, 0);
	assert_int_equal(ev_upload_snapshot(aws, &c, &target, dir, SNAP0, NOW,
					    &cancel, &st, &err),
			 EV_E_IO);
	assert_int_equal(s.calls, 0);
	ev_aws_free(aws);
}

static void target_from_config(void **state)
{
	(void)state;
	struct ev_config cfg;
	assert_int_equal(ev_config_init(&cfg), EV_OK);
	struct ev_upload_target t;
	memset(&t, 0, sizeof(t));
	assert_false(ev_upload_target_from_config(&cfg, &t));
	assert_null(t.bucket);
	cfg.s3.bucket = strdup("b-1");
	assert_true(ev_upload_target_from_config(&cfg, &t));
	assert_string_equal(t.bucket, "b-1");
	assert_string_equal(t.region, "us-east-1"); /* [aws] region */
	assert_int_equal(t.lock, EV_S3_LOCK_COMPLIANCE);
	assert_int_equal(t.retention_days, 365);
	cfg.s3.region = strdup("eu-central-1");
	assert_true(ev_upload_target_from_config(&cfg, &t));
	assert_string_equal(t.region, "eu-central-1");
	ev_config_cleanup(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(requests_carry_checksum_lock_and_keys),
	    cmocka_unit_test(lock_modes_and_key_encoding),
	    cmocka_unit_test(changed_snapshots_are_not_uploaded),
	    cmocka_unit_test(failed_upload_is_retried_next_pass),
	    cmocka_unit_test(echoed_checksum_and_cancel),
	    cmocka_unit_test(target_from_config),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
