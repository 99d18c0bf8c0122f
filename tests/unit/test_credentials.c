/* The credential provider chain: every source against temporary files,
 * environment variables, scripts for credential_process and a scripted
 * transport standing in for STS, the container endpoint and instance
 * metadata. Failure cases assert the specific ev_err, and a sweep over the
 * errors checks that no secret or token reaches a message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>

#include "aws.h"
#include "credentials.h"
#include "http.h"
#include "sts.h"

#define NOW	    1740823200 /* 2025-03-01T10:00:00Z */
#define AKID	    "AKIAIOSFODNN7EXAMPLE"
#define SECRET	    "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"
#define TOKEN	    "IQoJb3JpZ2luX2VjSESSIONTOKENVALUE"
#define ROLE_AKID   "ASIAROLEEXAMPLE00001"
#define ROLE_SECRET "roleSecretKeyFromStsSECRETKEY0000000000"
#define ROLE_TOKEN  "FwoGZXIvYXdzROLESESSIONTOKENVALUE"
#define WI_TOKEN    "eyJhbGciOiJSUzI1NiJ9.WEBIDENTITYTOKEN.sig"

/* --- a scripted transport ------------------------------------------------ */

#define MAX_CALLS 16

struct reply {
	long status;
	const char *body;
	enum ev_err transport; /* EV_OK: the reply is delivered */
};

struct sent {
	char method[8];
	char url[512];
	char headers[2048]; /* "name: value\n" each */
	char body[4096];
};

struct fake {
	struct ev_http http;
	pthread_mutex_t lock;
	struct reply replies[MAX_CALLS];
	size_t n_replies;
	size_t calls; /* including those past the script */
	struct sent sent[MAX_CALLS];
};

static struct fake fake;
static struct ev_aws *aws;

/* Past the script the transport acts as an unreachable host. */
static enum ev_err fake_perform(struct ev_http *h,
				const struct ev_http_request *req,
				struct ev_http_response *resp,
				struct ev_error *err)
{
	struct fake *f = (struct fake *)h;
	pthread_mutex_lock(&f->lock);
	size_t i = f->calls++;
	if (i < MAX_CALLS) {
		struct sent *s = &f->sent[i];
		snprintf(s->method, sizeof(s->method), "%s", req->method);
		snprintf(s->url, sizeof(s->url), "%s", req->url);
		size_t used = 0;
		for (size_t k = 0; k < req->n_headers; k++) {
			int n = snprintf(s->headers + used,
					 sizeof(s->headers) - used, "%s: %s\n",
					 req->headers[k].name,
					 req->headers[k].value);
			if (n > 0 && (size_t)n < sizeof(s->headers) - used)
				used += (size_t)n;
		}
		snprintf(s->body, sizeof(s->body), "%.*s", (int)req->body_len,
			 req->body ? (const char *)req->body : "");
	}
	pthread_mutex_unlock(&f->lock);
	ev_http_response_reset(resp);
	if (i >= f->n_replies)
		return ev_error_set(err, EV_E_NETWORK, "connection refused");
	const struct reply *r = &f->replies[i];
	if (r->transport != EV_OK)
		return ev_error_set(err, r->transport, "scripted failure");
	resp->status = r->status;
	if (r->body)
		assert_int_equal(ev_buf_append_str(&resp->body, r->body),
				 EV_OK);
	return EV_OK;
}

static void fake_free(struct ev_http *h)
{
	(void)h;
}

static void script(const struct reply *r, size_t n)
{
	assert_true(n <= MAX_CALLS);
	if (n)
		memcpy(fake.replies, r, n * sizeof(*r));
	fake.n_replies = n;
	fake.calls = 0;
	memset(fake.sent, 0, sizeof(fake.sent));
}

static bool sent_header(size_t i, const char *line)
{
	return strstr(fake.sent[i].headers, line) != NULL;
}

static time_t fixed_now(void *ctx)
{
	(void)ctx;
	return NOW;
}

static void no_sleep(void *ctx, long ms)
{
	(void)ctx;
	(void)ms;
}

static double zero(void *ctx)
{
	(void)ctx;
	return 0.0;
}

/* --- files and environment ------------------------------------------------ */

static char tmpdir[256];
static char config_path[300];
static char creds_path[300];

static const char *const vars[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "AWS_EC2_METADATA_V1_DISABLED",
    "AWS_METADATA_SERVICE_TIMEOUT",
    "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_CA_BUNDLE",
};

static void write_file(const char *name, const char *text)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *tmp_path(const char *name)
{
	static char path[4][400];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	return p;
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ev-test-cred-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(config_path, sizeof(config_path), "%s/config", tmpdir);
	snprintf(creds_path, sizeof(creds_path), "%s/credentials", tmpdir);
	pthread_mutex_init(&fake.lock, NULL);
	fake.http.perform = fake_perform;
	fake.http.free = fake_free;
	struct ev_aws_options o = {
	    .http = &fake.http,
	    .now = fixed_now,
	    .random01 = zero,
	    .sleep_ms = no_sleep,
	};
	struct ev_error err;
	aws = ev_aws_new(&o, &err);
	return aws ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	ev_aws_free(aws);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Each test starts from no configuration at all. */
static int test_setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	unlink(config_path);
	unlink(creds_path);
	setenv("AWS_CONFIG_FILE", config_path, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", creds_path, 1);
	setenv("HOME", tmpdir, 1);
	script(NULL, 0);
	return 0;
}

static struct ev_credentials_provider *provider(const char *profile)
{
	struct ev_credentials_options o = {
	    .profile = profile,
	    .aws = aws,
	    .metadata_http = &fake.http,
	};
	struct ev_error err;
	struct ev_credentials_provider *p =
	    ev_credentials_provider_new(&o, &err);
	assert_non_null(p);
	return p;
}

/* Resolves once with a fresh provider. */
static enum ev_err resolve(const char *profile, struct ev_credentials *c,
			   struct ev_error *err)
{
	struct ev_credentials_provider *p = provider(profile);
	ev_error_clear(err);
	enum ev_err rc = ev_credentials_provider_get(p, NOW, c, err);
	ev_credentials_provider_free(p);
	return rc;
}

static void set_env_keys(void)
{
	setenv("AWS_ACCESS_KEY_ID", AKID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
}

/* --- environment ---------------------------------------------------------- */

static void env_keys(void **state)
{
	(void)state;
	set_env_keys();
	setenv("AWS_SESSION_TOKEN", TOKEN, 1);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve(NULL, &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, AKID);
	assert_string_equal(c.secret_access_key, SECRET);
	assert_string_equal(c.session_token, TOKEN);
	assert_int_equal(c.expiration, 0);
	assert_string_equal(c.source, "environment");
	ev_credentials_cleanup(&c);
	assert_null(c.secret_access_key);
	assert_int_equal(fake.calls, 0);
}

static void env_legacy_token_and_expiration(void **state)
{
	(void)state;
	set_env_keys();
	setenv("AWS_SECURITY_TOKEN", "LEGACYTOKEN", 1);
	setenv("AWS_CREDENTIAL_EXPIRATION", "2025-03-01T12:00:00Z", 1);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve(NULL, &c, &err), EV_OK);
	assert_string_equal(c.session_token, "LEGACYTOKEN");
	assert_int_equal(c.expiration, NOW + 2 * 3600);
	ev_credentials_cleanup(&c);

	/* The standard name wins over the legacy one. */
	setenv("AWS_SESSION_TOKEN", TOKEN, 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_OK);
	assert_string_equal(c.session_token, TOKEN);
	ev_credentials_cleanup(&c);
}

static void env_half_set_names_the_missing_one(void **state)
{
	(void)state;
	struct ev_credentials c;
	struct ev_error err;
	setenv("AWS_ACCESS_KEY_ID", AKID, 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "AWS_SECRET_ACCESS_KEY is not"));
	unsetenv("AWS_ACCESS_KEY_ID");
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "AWS_ACCESS_KEY_ID is not"));
	/* Empty counts as unset, as in botocore. */
	setenv("AWS_ACCESS_KEY_ID", "", 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_CONFIG);
	assert_int_equal(fake.calls, 0);
}

static void env_bad_values(void **state)
{
	(void)state;
	struct ev_credentials c;
	struct ev_error err;
	set_env_keys();
	setenv("AWS_CREDENTIAL_EXPIRATION", "tomorrow", 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "AWS_CREDENTIAL_EXPIRATION"));
	unsetenv("AWS_CREDENTIAL_EXPIRATION");
	setenv("AWS_SESSION_TOKEN", "abc\r\nX-Injected: 1", 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "AWS_SESSION_TOKEN"));
	char big[9000];
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	setenv("AWS_SESSION_TOKEN", big, 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_LIMIT);
}

static void env_expired(void **state)
{
	(void)state;
	set_env_keys();
	setenv("AWS_CREDENTIAL_EXPIRATION", "2025-03-01T09:00:00Z", 1);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve(NULL, &c, &err), EV_E_EXPIRED);
	assert_null(c.secret_access_key);
}

static void explicit_profile_skips_env_keys(void **state)
{
	(void)state;
	set_env_keys();
	write_file("credentials", "[p]\naws_access_key_id = AKIAFROMFILE\n"
				  "aws_secret_access_key = filesecret\n");
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve("p", &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, "AKIAFROMFILE");
	assert_string_equal(c.source, "profile p");
	ev_credentials_cleanup(&c);
	/* AWS_PROFILE is not explicit: the environment keys still win. */
	setenv("AWS_PROFILE", "p", 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_OK);
	assert_string_equal(c.source, "environment");
	ev_credentials_cleanup(&c);
}

/* --- shared files ------------------------------------------------------- */

static void profile_keys_credentials_file_first(void **state)
{
	(void)state;
	write_file("config", "[default]\naws_access_key_id = AKIACONFIG\n"
			     "aws_secret_access_key = configsecret\n"
			     "[profile cfg]\naws_access_key_id = AKIACFG\n"
			     "aws_secret_access_key = cfgsecret\n"
			     "aws_session_token = cfgtoken\n");
	write_file("credentials", "[default]\naws_access_key_id = AKIACREDS\n"
				  "aws_secret_access_key = credssecret\n");
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve(NULL, &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, "AKIACREDS");
	assert_string_equal(c.secret_access_key, "credssecret");
	assert_null(c.session_token);
	assert_string_equal(c.source, "profile default");
	ev_credentials_cleanup(&c);
	setenv("AWS_PROFILE", "cfg", 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, "AKIACFG");
	assert_string_equal(c.session_token, "cfgtoken");
	ev_credentials_cleanup(&c);
}

static void profile_name_from_env_order(void **state)
{
	(void)state;
	write_file("credentials", "[a]\naws_access_key_id = AKIAA\n"
				  "aws_secret_access_key = sa\n"
				  "[b]\naws_access_key_id = AKIAB\n"
				  "aws_secret_access_key = sb\n");
	setenv("AWS_PROFILE", "a", 1);
	setenv("AWS_DEFAULT_PROFILE", "b", 1);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve(NULL, &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, "AKIAB");
	ev_credentials_cleanup(&c);
	assert_int_equal(resolve("a", &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, "AKIAA");
	ev_credentials_cleanup(&c);
}

static void profile_errors(void **state)
{
	(void)state;
	struct ev_credentials c;
	struct ev_error err;
	write_file("credentials", "[half]\naws_access_key_id = AKIAH\n"
				  "[sso]\nsso_start_url = https://x\n");
	assert_int_equal(resolve("half", &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "aws_secret_access_key"));
	assert_int_equal(resolve("nosuch", &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "nosuch"));
	assert_int_equal(resolve("sso", &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "sso"));
	write_file("config", "[default]\nregion\n");
	assert_int_equal(resolve(NULL, &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, config_path));
	assert_int_equal(fake.calls, 0);
}

static void nothing_configured(void **state)
{
	(void)state;
	struct ev_credentials c;
	struct ev_error err;
	/* Instance metadata is not reachable: the only "no credentials". */
	assert_int_equal(resolve(NULL, &c, &err), EV_E_NO_CREDENTIALS);
	assert_true(fake.calls > 0);
	assert_null(c.access_key_id);
	setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
	script(NULL, 0);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_NO_CREDENTIALS);
	assert_int_equal(fake.calls, 0);
}

/* --- AssumeRole ------------------------------------------------------------
 */

#define ASSUME_OK(akid)                                                        \
	"<AssumeRoleResponse "                                                 \
	"xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"                 \
	"<AssumeRoleResult><AssumedRoleUser>"                                  \
	"<Arn>arn:aws:sts::444455556666:assumed-role/Audit/s</Arn>"            \
	"<AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId></AssumedRoleUser>"       \
	"<Credentials><AccessKeyId>" akid "</AccessKeyId>"                     \
	"<SecretAccessKey>" ROLE_SECRET "</SecretAccessKey>"                   \
	"<SessionToken>" ROLE_TOKEN "</SessionToken>"                          \
	"<Expiration>2025-03-01T11:00:00Z</Expiration></Credentials>"          \
	"</AssumeRoleResult><ResponseMetadata><RequestId>r-1</RequestId>"      \
	"</ResponseMetadata></AssumeRoleResponse>"

#define STS_ERROR(code, msg)                                                   \
	"<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"  \
	"<Error><Type>Sender</Type><Code>" code "</Code><Message>" msg         \
	"</Message></Error><RequestId>r-err</RequestId></ErrorResponse>"

static void assume_role_from_source_profile(void **state)
{
	(void)state;
	write_file("config", "[profile audit]\n"
			     "role_arn = arn:aws:iam::444455556666:role/Audit\n"
			     "source_profile = base\n"
			     "external_id = ext-123\n"
			     "role_session_name = evident-1\n"
			     "duration_seconds = 3600\n"
			     "region = eu-west-1\n");
	write_file("credentials", "[base]\naws_access_key_id = AKIABASE\n"
				  "aws_secret_access_key = basesecret\n");
	struct reply r[] = {{200, ASSUME_OK(ROLE_AKID), EV_OK}};
	script(r, 1);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve("audit", &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, ROLE_AKID);
	assert_string_equal(c.secret_access_key, ROLE_SECRET);
	assert_string_equal(c.session_token, ROLE_TOKEN);
	assert_int_equal(c.expiration, NOW + 3600);
	assert_string_equal(c.source, "assume-role audit");
	ev_credentials_cleanup(&c);
	assert_int_equal(fake.calls, 1);
	const char *body = fake.sent[0].body;
	assert_non_null(strstr(body, "Action=AssumeRole&"));
	assert_non_null(strstr(
	    body, "RoleArn=arn%3Aaws%3Aiam%3A%3A444455556666%3Arole%2FAudit"));
	assert_non_null(strstr(body, "RoleSessionName=evident-1"));
	assert_non_null(strstr(body, "ExternalId=ext-123"));
	assert_non_null(strstr(body, "DurationSeconds=3600"));
	/* Signed with the source profile's key, in the profile's region. */
	assert_true(sent_header(0, "Credential=AKIABASE/"));
	assert_true(sent_header(0, "/eu-west-1/sts/aws4_request"));
}

static void role_arn_beats_keys_in_same_profile(void **state)
{
	(void)state;
	write_file("credentials", "[r]\naws_access_key_id = AKIASELF\n"
				  "aws_secret_access_key = selfsecret\n"
				  "role_arn = arn:aws:iam::1:role/R\n"
				  "source_profile = r\n");
	struct reply r[] = {{200, ASSUME_OK(ROLE_AKID), EV_OK}};
	script(r, 1);
	struct ev_credentials c;
	struct ev_error err;
	/* A profile may be its own source when it holds static keys. */
	assert_int_equal(resolve("r", &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, ROLE_AKID);
	assert_true(sent_header(0, "Credential=AKIASELF/"));
	/* Without a session name one is generated. */
	assert_non_null(strstr(fake.sent[0].body, "RoleSessionName=evident-"));
	ev_credentials_cleanup(&c);
}

static void assume_role_chain(void **state)
{
	(void)state;
	write_file("config", "[profile a]\nrole_arn = arn:aws:iam::1:role/A\n"
			     "source_profile = b\n"
			     "[profile b]\nrole_arn = arn:aws:iam::1:role/B\n"
			     "source_profile = c\n"
			     "[profile c]\naws_access_key_id = AKIAC\n"
			     "aws_secret_access_key = csecret\n");
	struct reply r[] = {{200, ASSUME_OK("ASIAFIRST"), EV_OK},
			    {200, ASSUME_OK("ASIASECOND"), EV_OK}};
	script(r, 2);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve("a", &c, &err), EV_OK);
	assert_int_equal(fake.calls, 2);
	assert_true(sent_header(0, "Credential=AKIAC/"));
	assert_non_null(strstr(fake.sent[0].body, "role%2FB"));
	assert_true(sent_header(1, "Credential=ASIAFIRST/"));
	assert_non_null(strstr(fake.sent[1].body, "role%2FA"));
	assert_string_equal(c.access_key_id, "ASIASECOND");
	ev_credentials_cleanup(&c);
}

static void assume_role_config_errors(void **state)
{
	(void)state;
	struct ev_credentials c;
	struct ev_error err;
	write_file("config",
		   "[profile loop1]\nrole_arn = arn:aws:iam::1:role/A\n"
		   "source_profile = loop2\n"
		   "[profile loop2]\nrole_arn = arn:aws:iam::1:role/B\n"
		   "source_profile = loop1\n"
		   "[profile self]\nrole_arn = arn:aws:iam::1:role/S\n"
		   "source_profile = self\n"
		   "[profile both]\nrole_arn = arn:aws:iam::1:role/X\n"
		   "source_profile = loop1\ncredential_source = Environment\n"
		   "[profile neither]\nrole_arn = arn:aws:iam::1:role/X\n"
		   "[profile badsource]\nrole_arn = arn:aws:iam::1:role/X\n"
		   "credential_source = Ec2Config\n"
		   "[profile missing]\nrole_arn = arn:aws:iam::1:role/X\n"
		   "source_profile = nowhere\n"
		   "[profile mfa]\nrole_arn = arn:aws:iam::1:role/X\n"
		   "source_profile = keys\nmfa_serial = arn:aws:iam::1:mfa/u\n"
		   "[profile dur]\nrole_arn = arn:aws:iam::1:role/X\n"
		   "source_profile = keys\nduration_seconds = 1h\n"
		   "[profile empty]\nrole_arn = arn:aws:iam::1:role/X\n"
		   "source_profile = nokeys\n"
		   "[profile nokeys]\nregion = us-east-1\n"
		   "[profile keys]\naws_access_key_id = AKIAK\n"
		   "aws_secret_access_key = ksecret\n");
	assert_int_equal(resolve("loop1", &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "loops"));
	assert_int_equal(resolve("self", &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "loops"));
	assert_int_equal(resolve("both", &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "both"));
	assert_int_equal(resolve("neither", &c, &err), EV_E_CONFIG);
	assert_int_equal(resolve("badsource", &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "credential_source"));
	assert_int_equal(resolve("missing", &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "nowhere"));
	assert_int_equal(resolve("mfa", &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "mfa_serial"));
	assert_int_equal(resolve("dur", &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "duration_seconds"));
	assert_int_equal(resolve("empty", &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "nokeys"));
	assert_int_equal(fake.calls, 0);
}

static void assume_role_chain_too_long(void **state)
{
	(void)state;
	char text[4096];
	size_t used = 0;
	for (int i = 0; i < 12; i++)
		used += (size_t)snprintf(
		    text + used, sizeof(text) - used,
		    "[profile p%d]\nrole_arn = arn:aws:iam::1:role/R%d\n"
		    "source_profile = p%d\n",
		    i, i, i + 1);
	snprintf(text + used, sizeof(text) - used,
		 "[profile p12]\naws_access_key_id = AKIAEND\n"
		 "aws_secret_access_key = endsecret\n");
	write_file("config", text);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve("p0", &c, &err), EV_E_LIMIT);
	assert_int_equal(fake.calls, 0);
}

static void credential_source_environment(void **state)
{
	(void)state;
	write_file("config", "[profile env]\nrole_arn = arn:aws:iam::1:role/E\n"
			     "credential_source = Environment\n");
	struct reply r[] = {{200, ASSUME_OK(ROLE_AKID), EV_OK}};
	script(r, 1);
	struct ev_credentials c;
	struct ev_error err;
	/* Nothing in the environment: a configured source that gives
	 * nothing is an error, not a fall-through. */
	assert_int_equal(resolve("env", &c, &err), EV_E_CONFIG);
	assert_int_equal(fake.calls, 0);
	set_env_keys();
	assert_int_equal(resolve("env", &c, &err), EV_OK);
	assert_true(sent_header(0, "Credential=" AKID "/"));
	assert_string_equal(c.access_key_id, ROLE_AKID);
	ev_credentials_cleanup(&c);
}

static void credential_source_imds_unreachable_is_an_error(void **state)
{
	(void)state;
	write_file("config", "[profile ec2]\nrole_arn = arn:aws:iam::1:role/E\n"
			     "credential_source = Ec2InstanceMetadata\n");
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve("ec2", &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "Ec2InstanceMetadata"));
}

static void assume_role_denied(void **state)
{
	(void)state;
	write_file("config", "[profile d]\nrole_arn = arn:aws:iam::1:role/D\n"
			     "source_profile = keys\n"
			     "[profile keys]\naws_access_key_id = AKIAK\n"
			     "aws_secret_access_key = ksecret\n");
	struct reply r[] = {
	    {403,
	     STS_ERROR("AccessDenied", "User: arn:aws:iam::1:user/u is not "
				       "authorized to perform: sts:AssumeRole"),
	     EV_OK}};
	script(r, 1);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve("d", &c, &err), EV_E_ACCESS_DENIED);
	assert_string_equal(err.aws_code, "AccessDenied");
	assert_non_null(strstr(err.message, "profile d"));
	assert_int_equal(fake.calls, 1);
}

/* --- web identity -------------------------------------------------------- */

#define WI_OK(akid)                                                            \
	"<AssumeRoleWithWebIdentityResponse "                                  \
	"xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"                 \
	"<AssumeRoleWithWebIdentityResult>"                                    \
	"<SubjectFromWebIdentityToken>system:sa</SubjectFromWebIdentityToken>" \
	"<AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/W/s</Arn>"          \
	"<AssumedRoleId>AROAW:s</AssumedRoleId></AssumedRoleUser>"             \
	"<Credentials><AccessKeyId>" akid "</AccessKeyId>"                     \
	"<SecretAccessKey>" ROLE_SECRET "</SecretAccessKey>"                   \
	"<SessionToken>" ROLE_TOKEN "</SessionToken>"                          \
	"<Expiration>2025-03-01T11:00:00Z</Expiration></Credentials>"          \
	"</AssumeRoleWithWebIdentityResult><ResponseMetadata>"                 \
	"<RequestId>r-2</RequestId></ResponseMetadata>"                        \
	"</AssumeRoleWithWebIdentityResponse>"

static void web_identity_from_env_unsigned_and_reread(void **state)
{
	(void)state;
	write_file("wi-token", WI_TOKEN "\n");
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tmp_path("wi-token"), 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/W", 1);
	setenv("AWS_ROLE_SESSION_NAME", "pod-1", 1);
	struct reply r[] = {{200, WI_OK("ASIAWEB1"), EV_OK},
			    {200, WI_OK("ASIAWEB2"), EV_OK}};
	script(r, 2);
	struct ev_credentials_provider *p = provider(NULL);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(ev_credentials_provider_get(p, NOW, &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, "ASIAWEB1");
	assert_string_equal(c.source, "web-identity");
	assert_int_equal(c.expiration, NOW + 3600);
	ev_credentials_cleanup(&c);
	const char *body = fake.sent[0].body;
	assert_non_null(strstr(body, "Action=AssumeRoleWithWebIdentity&"));
	assert_non_null(strstr(body, "RoleSessionName=pod-1"));
	/* Sent without the file's trailing newline. */
	const char *wi = strstr(body, "WebIdentityToken=" WI_TOKEN);
	assert_non_null(wi);
	char after = wi[strlen("WebIdentityToken=" WI_TOKEN)];
	assert_true(after == '\0' || after == '&');
	assert_false(sent_header(0, "Authorization:"));

	/* The orchestrator rotated the token: the refresh reads it again. */
	write_file("wi-token", "eyJ.ROTATED.sig");
	ev_credentials_provider_invalidate(p);
	assert_int_equal(ev_credentials_provider_get(p, NOW, &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, "ASIAWEB2");
	assert_non_null(
	    strstr(fake.sent[1].body, "WebIdentityToken=eyJ.ROTATED.sig"));
	ev_credentials_cleanup(&c);
	ev_credentials_provider_free(p);
}

static void web_identity_from_profile(void **state)
{
	(void)state;
	write_file("wi-token", WI_TOKEN);
	char text[1024];
	snprintf(text, sizeof(text),
		 "[profile wi]\nweb_identity_token_file = %s\n"
		 "role_arn = arn:aws:iam::1:role/W\n",
		 tmp_path("wi-token"));
	write_file("config", text);
	struct reply r[] = {{200, WI_OK("ASIAWEBP"), EV_OK}};
	script(r, 1);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve("wi", &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, "ASIAWEBP");
	assert_non_null(strstr(fake.sent[0].body, "RoleSessionName=evident-"));
	ev_credentials_cleanup(&c);
}

static void web_identity_errors(void **state)
{
	(void)state;
	struct ev_credentials c;
	struct ev_error err;
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tmp_path("wi-absent"), 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "role"));
	setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/W", 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_IO);
	assert_non_null(strstr(err.message, "wi-absent"));
	write_file("wi-empty", "\n");
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tmp_path("wi-empty"), 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_CONFIG);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tmpdir, 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_IO);
	assert_int_equal(fake.calls, 0);

	write_file("wi-token", WI_TOKEN);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tmp_path("wi-token"), 1);
	struct reply r[] = {
	    {400,
	     STS_ERROR("ExpiredTokenException",
		       "Token expired: current date/time 1 must be before the "
		       "expiration date/time 0"),
	     EV_OK}};
	script(r, 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_EXPIRED);
	assert_null(strstr(err.message, "WEBIDENTITYTOKEN"));
}

static void explicit_profile_ignores_web_identity_env(void **state)
{
	(void)state;
	write_file("wi-token", WI_TOKEN);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tmp_path("wi-token"), 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/W", 1);
	write_file("credentials", "[p]\naws_access_key_id = AKIAP\n"
				  "aws_secret_access_key = psecret\n");
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve("p", &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, "AKIAP");
	assert_int_equal(fake.calls, 0);
	ev_credentials_cleanup(&c);
}

/* --- credential_process ------------------------------------------------- */

static void process_profile(const char *command)
{
	char text[4096];
	assert_true(strlen(command) < sizeof(text) - 64);
	snprintf(text, sizeof(text),
		 "[profile proc]\ncredential_process = %s\n", command);
	write_file("config", text);
}

static void process_success(void **state)
{
	(void)state;
	write_file("out.json", "{\"Version\": 1, \"AccessKeyId\": \"" AKID "\","
			       " \"SecretAccessKey\": \"" SECRET "\"}\n");
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "cat '%s'", tmp_path("out.json"));
	process_profile(cmd);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve("proc", &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, AKID);
	assert_string_equal(c.secret_access_key, SECRET);
	assert_null(c.session_token);
	assert_int_equal(c.expiration, 0);
	assert_string_equal(c.source, "process proc");
	ev_credentials_cleanup(&c);

	write_file("out.json", "{\"Version\": 1, \"AccessKeyId\": \"" AKID "\","
			       " \"SecretAccessKey\": \"" SECRET "\","
			       " \"SessionToken\": \"" TOKEN "\","
			       " \"Expiration\": \"2025-03-01T16:24:47Z\"}");
	assert_int_equal(resolve("proc", &c, &err), EV_OK);
	assert_string_equal(c.session_token, TOKEN);
	assert_int_equal(c.expiration, NOW + 6 * 3600 + 24 * 60 + 47);
	ev_credentials_cleanup(&c);
}

static void process_failures(void **state)
{
	(void)state;
	struct ev_credentials c;
	struct ev_error err;
	process_profile("echo '{\"Version\": 1}'; exit 1");
	assert_int_equal(resolve("proc", &c, &err), EV_E_IO);
	assert_non_null(strstr(err.message, "status 1"));

	process_profile("echo 'not json'");
	assert_int_equal(resolve("proc", &c, &err), EV_E_MALFORMED);

	process_profile("echo '{\"Version\": 2, \"AccessKeyId\": \"A\", "
			"\"SecretAccessKey\": \"S\"}'");
	assert_int_equal(resolve("proc", &c, &err), EV_E_MALFORMED);
	assert_non_null(strstr(err.message, "Version"));

	process_profile("echo '{\"AccessKeyId\": \"A\", "
			"\"SecretAccessKey\": \"S\"}'");
	assert_int_equal(resolve("proc", &c, &err), EV_E_MALFORMED);

	process_profile("echo '{\"Version\": 1, \"AccessKeyId\": \"A\"}'");
	assert_int_equal(resolve("proc", &c, &err), EV_E_MALFORMED);

	process_profile(
	    "echo '{\"Version\": 1, \"AccessKeyId\": \"A\", "
	    "\"SecretAccessKey\": \"S\", \"Expiration\": \"soon\"}'");
	assert_int_equal(resolve("proc", &c, &err), EV_E_MALFORMED);

	/* Endless output: stopped at the bound, the process killed. */
	process_profile("yes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(resolve("proc", &c, &err), EV_E_LIMIT);

	process_profile("kill -9 $$");
	assert_int_equal(resolve("proc", &c, &err), EV_E_IO);
	assert_non_null(strstr(err.message, "signal"));
	assert_null(c.secret_access_key);
}

static void process_comes_after_credentials_file_keys(void **state)
{
	(void)state;
	write_file("config", "[profile both]\ncredential_process = exit 1\n");
	write_file("credentials", "[both]\naws_access_key_id = AKIAFILE\n"
				  "aws_secret_access_key = filesecret\n");
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve("both", &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, "AKIAFILE");
	ev_credentials_cleanup(&c);
}

/* --- container --------------------------------------------------------------
 */

#define CONTAINER_JSON                                                         \
	"{\"RoleArn\":\"arn:aws:iam::1:role/"                                  \
	"task\",\"AccessKeyId\":\"ASIACONT\","                                 \
	"\"SecretAccessKey\":\"" ROLE_SECRET "\",\"Token\":\"" ROLE_TOKEN      \
	"\","                                                                  \
	"\"Expiration\":\"2025-03-01T16:00:00Z\"}"

static void container_full_uri_with_token(void **state)
{
	(void)state;
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI",
	       "http://127.0.0.1:8080/creds", 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "auth-token-1", 1);
	struct reply r[] = {{200, CONTAINER_JSON, EV_OK}};
	script(r, 1);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve(NULL, &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, "ASIACONT");
	assert_string_equal(c.session_token, ROLE_TOKEN);
	assert_int_equal(c.expiration, NOW + 6 * 3600);
	assert_string_equal(c.source, "container");
	ev_credentials_cleanup(&c);
	assert_string_equal(fake.sent[0].method, "GET");
	assert_string_equal(fake.sent[0].url, "http://127.0.0.1:8080/creds");
	assert_true(sent_header(0, "Authorization: auth-token-1\n"));
	assert_true(sent_header(0, "Accept: application/json\n"));
}

static void container_relative_uri_and_token_file(void **state)
{
	(void)state;
	setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc",
	       1);
	write_file("auth", "file-token\n");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tmp_path("auth"), 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token", 1);
	struct reply r[] = {{200, CONTAINER_JSON, EV_OK}};
	script(r, 1);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve(NULL, &c, &err), EV_OK);
	ev_credentials_cleanup(&c);
	assert_string_equal(fake.sent[0].url,
			    "http://169.254.170.2/v2/credentials/abc");
	/* The file beats the variable, and is read at each fetch. */
	assert_true(sent_header(0, "Authorization: file-token\n"));
}

static void container_uri_rules(void **state)
{
	(void)state;
	struct ev_credentials c;
	struct ev_error err;
	static const char *const refused[] = {
	    "http://example.com/creds",	   "http://169.254.170.3/creds",
	    "http://user@127.0.0.1/creds", "http://[fd00:ec2::24]/creds",
	    "ftp://127.0.0.1/creds",	   "http://127.0.0.1.example.com/creds",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", refused[i], 1);
		assert_int_equal(resolve(NULL, &c, &err), EV_E_CONFIG);
	}
	assert_int_equal(fake.calls, 0);
	static const char *const allowed[] = {
	    "https://creds.example.com/x",
	    "http://169.254.170.23/v1/creds",
	    "http://[fd00:ec2::23]/v1/creds",
	    "http://localhost:9/x",
	    "http://127.1.2.3/x",
	    "http://[::1]:80/x",
	};
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", allowed[i], 1);
		struct reply r[] = {{200, CONTAINER_JSON, EV_OK}};
		script(r, 1);
		assert_int_equal(resolve(NULL, &c, &err), EV_OK);
		assert_string_equal(fake.sent[0].url, allowed[i]);
		ev_credentials_cleanup(&c);
	}
}

static void container_failures(void **state)
{
	(void)state;
	struct ev_credentials c;
	struct ev_error err;
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/c", 1);
	struct reply denied[] = {{401, "{\"message\":\"no\"}", EV_OK}};
	script(denied, 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_AUTH);
	assert_int_equal(fake.calls, 1); /* not retried */

	struct reply bad[] = {{200, "{\"AccessKeyId\":", EV_OK}};
	script(bad, 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_MALFORMED);

	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nX-Evil: 1", 1);
	script(NULL, 0);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_CONFIG);
	assert_int_equal(fake.calls, 0);
}

/* --- instance metadata -------------------------------------------------------
 */

#define IMDS_JSON(code)                                                        \
	"{\"Code\":\"" code "\",\"LastUpdated\":\"2025-03-01T10:00:00Z\","     \
	"\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAIMDS\","                  \
	"\"SecretAccessKey\":\"" ROLE_SECRET "\",\"Token\":\"" ROLE_TOKEN      \
	"\","                                                                  \
	"\"Expiration\":\"2025-03-01T16:00:00Z\"}"

static void imds_v2(void **state)
{
	(void)state;
	struct reply r[] = {
	    {200, "imds-session-token", EV_OK},
	    {200, "audit-role\n", EV_OK},
	    {200, IMDS_JSON("Success"), EV_OK},
	};
	script(r, 3);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve(NULL, &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, "ASIAIMDS");
	assert_string_equal(c.secret_access_key, ROLE_SECRET);
	assert_string_equal(c.session_token, ROLE_TOKEN);
	assert_int_equal(c.expiration, NOW + 6 * 3600);
	assert_string_equal(c.source, "imds");
	ev_credentials_cleanup(&c);
	assert_int_equal(fake.calls, 3);
	assert_string_equal(fake.sent[0].method, "PUT");
	assert_string_equal(fake.sent[0].url,
			    "http://169.254.169.254/latest/api/token");
	assert_true(
	    sent_header(0, "X-aws-ec2-metadata-token-ttl-seconds: 21600\n"));
	assert_string_equal(fake.sent[1].url,
			    "http://169.254.169.254/latest/meta-data/iam/"
			    "security-credentials/");
	assert_true(
	    sent_header(1, "X-aws-ec2-metadata-token: imds-session-token\n"));
	assert_string_equal(fake.sent[2].url,
			    "http://169.254.169.254/latest/meta-data/iam/"
			    "security-credentials/audit-role");
	assert_true(
	    sent_header(2, "X-aws-ec2-metadata-token: imds-session-token\n"));
}

static void imds_v1_fallback(void **state)
{
	(void)state;
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338/",
	       1);
	struct reply r[] = {
	    {403, "", EV_OK},
	    {200, "audit-role", EV_OK},
	    {200, IMDS_JSON("Success"), EV_OK},
	};
	script(r, 3);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve(NULL, &c, &err), EV_OK);
	ev_credentials_cleanup(&c);
	assert_string_equal(fake.sent[0].url,
			    "http://127.0.0.1:1338/latest/api/token");
	assert_false(sent_header(1, "X-aws-ec2-metadata-token:"));
	assert_false(sent_header(2, "X-aws-ec2-metadata-token:"));

	/* A token request that times out (hop limit 1) also falls back. */
	struct reply t[] = {
	    {0, NULL, EV_E_NETWORK},
	    {200, "audit-role", EV_OK},
	    {200, IMDS_JSON("Success"), EV_OK},
	};
	script(t, 3);
	assert_int_equal(resolve(NULL, &c, &err), EV_OK);
	ev_credentials_cleanup(&c);
	assert_int_equal(fake.calls, 3);
}

static void imds_v1_disabled(void **state)
{
	(void)state;
	setenv("AWS_EC2_METADATA_V1_DISABLED", "true", 1);
	struct reply r[] = {{403, "", EV_OK}};
	script(r, 1);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(resolve(NULL, &c, &err), EV_E_AUTH);
	assert_int_equal(fake.calls, 1);
	script(NULL, 0);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_NO_CREDENTIALS);
	assert_int_equal(fake.calls, 1);
}

static void imds_failures(void **state)
{
	(void)state;
	struct ev_credentials c;
	struct ev_error err;
	struct reply fail_code[] = {
	    {200, "tok", EV_OK},
	    {200, "audit-role", EV_OK},
	    {200,
	     "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"EC2 "
	     "cannot assume the role\"}",
	     EV_OK},
	};
	script(fail_code, 3);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_AUTH);
	assert_string_equal(err.aws_code, "AssumeRoleUnauthorizedAccess");

	struct reply no_role[] = {{200, "tok", EV_OK}, {404, "", EV_OK}};
	script(no_role, 2);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_NO_CREDENTIALS);

	struct reply bad_role[] = {{200, "tok", EV_OK},
				   {200, "../../user-data", EV_OK}};
	script(bad_role, 2);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_MALFORMED);
	assert_int_equal(fake.calls, 2);

	struct reply bad_json[] = {{200, "tok", EV_OK},
				   {200, "r", EV_OK},
				   {200, "{\"Code\":\"Success\"}", EV_OK}};
	script(bad_json, 3);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_MALFORMED);

	struct reply bad_request[] = {{400, "", EV_OK}};
	script(bad_request, 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_INVALID);

	setenv("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "many", 1);
	assert_int_equal(resolve(NULL, &c, &err), EV_E_CONFIG);
	assert_non_null(
	    strstr(err.message, "AWS_METADATA_SERVICE_NUM_ATTEMPTS"));
}

static void imds_token_reused_and_renewed_on_401(void **state)
{
	(void)state;
	struct reply r[] = {
	    {200, "tok-1", EV_OK},
	    {200, "role", EV_OK},
	    {200, IMDS_JSON("Success"), EV_OK},
	    /* second fetch: no PUT, the token is reused */
	    {200, "role", EV_OK},
	    {200, IMDS_JSON("Success"), EV_OK},
	    /* third fetch: the token is refused, a new one is taken */
	    {401, "", EV_OK},
	    {200, "tok-2", EV_OK},
	    {200, "role", EV_OK},
	    {200, IMDS_JSON("Success"), EV_OK},
	};
	script(r, 9);
	struct ev_credentials_provider *p = provider(NULL);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(ev_credentials_provider_get(p, NOW, &c, &err), EV_OK);
	ev_credentials_cleanup(&c);
	ev_credentials_provider_invalidate(p);
	assert_int_equal(ev_credentials_provider_get(p, NOW + 60, &c, &err),
			 EV_OK);
	ev_credentials_cleanup(&c);
	assert_int_equal(fake.calls, 5);
	assert_string_equal(fake.sent[3].method, "GET");
	assert_true(sent_header(3, "X-aws-ec2-metadata-token: tok-1\n"));
	ev_credentials_provider_invalidate(p);
	assert_int_equal(ev_credentials_provider_get(p, NOW + 120, &c, &err),
			 EV_OK);
	ev_credentials_cleanup(&c);
	assert_int_equal(fake.calls, 9);
	assert_string_equal(fake.sent[6].method, "PUT");
	assert_true(sent_header(8, "X-aws-ec2-metadata-token: tok-2\n"));
	ev_credentials_provider_free(p);
}

/* --- refresh
 * ------------------------------------------------------------------ */

static void refresh_windows(void **state)
{
	(void)state;
	const time_t exp = NOW + 6 * 3600;
	struct reply r[] = {
	    {200, "tok", EV_OK},
	    {200, "role", EV_OK},
	    {200, IMDS_JSON("Success"), EV_OK},
	    /* the advisory refresh (token still valid) */
	    {200, "role", EV_OK},
	    {200, IMDS_JSON("Success"), EV_OK},
	};
	script(r, 5);
	struct ev_credentials_provider *p = provider(NULL);
	struct ev_credentials c;
	struct ev_error err;
	assert_int_equal(ev_credentials_provider_get(p, NOW, &c, &err), EV_OK);
	ev_credentials_cleanup(&c);
	/* Cached well before expiry. */
	assert_int_equal(ev_credentials_provider_get(p, exp - 3600, &c, &err),
			 EV_OK);
	ev_credentials_cleanup(&c);
	assert_int_equal(fake.calls, 3);
	/* Inside 15 minutes: refreshed. */
	assert_int_equal(
	    ev_credentials_provider_get(p, exp - 14 * 60, &c, &err), EV_OK);
	ev_credentials_cleanup(&c);
	assert_int_equal(fake.calls, 5);
	ev_credentials_provider_free(p);

	/* A failed advisory refresh keeps the old credentials; a failed
	 * mandatory one is an error. */
	struct reply once[] = {
	    {200, "tok", EV_OK},
	    {200, "role", EV_OK},
	    {200, IMDS_JSON("Success"), EV_OK},
	};
	script(once, 3);
	p = provider(NULL);
	assert_int_equal(ev_credentials_provider_get(p, NOW, &c, &err), EV_OK);
	ev_credentials_cleanup(&c);
	assert_int_equal(
	    ev_credentials_provider_get(p, exp - 12 * 60, &c, &err), EV_OK);
	assert_string_equal(c.access_key_id, "ASIAIMDS");
	ev_credentials_cleanup(&c);
	assert_true(fake.calls > 3);
	assert_int_equal(ev_credentials_provider_get(p, exp - 5 * 60, &c, &err),
			 EV_E_NO_CREDENTIALS);
	assert_null(c.access_key_id);
	ev_credentials_provider_free(p);
}

struct racer {
	struct ev_credentials_provider *p;
	enum ev_err rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct ev_credentials c;
	struct ev_error err;
	r->rc = ev_credentials_provider_get(r->p, NOW, &c, &err);
	ev_credentials_cleanup(&c);
	return NULL;
}

static void one_refresh_at_a_time(void **state)
{
	(void)state;
	struct reply r[] = {
	    {200, "tok", EV_OK},
	    {200, "role", EV_OK},
	    {200, IMDS_JSON("Success"), EV_OK},
	};
	script(r, 3);
	struct ev_credentials_provider *p = provider(NULL);
	pthread_t t[8];
	struct racer rs[8];
	for (int i = 0; i < 8; i++) {
		rs[i] = (struct racer){p, EV_E_INTERNAL};
		assert_int_equal(pthread_create(&t[i], NULL, race, &rs[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(rs[i].rc, EV_OK);
	}
	assert_int_equal(fake.calls, 3);
	ev_credentials_provider_free(p);
}

/* --- secrets never reach a message -----------------------------------------
 */

static void assert_clean(const struct ev_error *err)
{
	static const char *const secrets[] = {
	    SECRET,	  TOKEN,       ROLE_SECRET,  ROLE_TOKEN,
	    WI_TOKEN,	  "SECRETKEY", "TOKENVALUE", "WEBIDENTITYTOKEN",
	    "auth-secret"};
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		if (strstr(err->message, secrets[i]) ||
		    strstr(err->aws_code, secrets[i]) ||
		    strstr(err->request_id, secrets[i]))
			fail_msg("secret %s in error \"%s\"", secrets[i],
				 err->message);
	}
}

static void errors_never_hold_secrets(void **state)
{
	(void)state;
	struct ev_credentials c;
	struct ev_error err;
	char text[2048];
	int checked = 0;

#define EXPECT(profile, code)                                                  \
	do {                                                                   \
		assert_int_equal(resolve((profile), &c, &err), (code));        \
		assert_true(err.message[0] != '\0');                           \
		assert_clean(&err);                                            \
		checked++;                                                     \
	} while (0)

	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	EXPECT(NULL, EV_E_CONFIG);
	setenv("AWS_ACCESS_KEY_ID", AKID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET " with space", 1);
	EXPECT(NULL, EV_E_CONFIG);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	setenv("AWS_SESSION_TOKEN", TOKEN "\n", 1);
	EXPECT(NULL, EV_E_CONFIG);
	setenv("AWS_SESSION_TOKEN", TOKEN, 1);
	setenv("AWS_CREDENTIAL_EXPIRATION", "2025-03-01T09:00:00Z", 1);
	EXPECT(NULL, EV_E_EXPIRED);
	test_setup(NULL);

	write_file("credentials", "[half]\naws_secret_access_key = " SECRET "\n"
				  "aws_session_token = " TOKEN "\n"
				  "[ctl]\naws_access_key_id = " AKID "\n"
				  "aws_secret_access_key = " SECRET "\x01\n"
				  "[dup]\naws_secret_access_key = " SECRET "\n"
				  "aws_secret_access_key = " SECRET "\n");
	EXPECT("half", EV_E_CONFIG);
	EXPECT("ctl", EV_E_CONFIG);
	test_setup(NULL);
	write_file("credentials", "[dup]\naws_secret_access_key = " SECRET "\n"
				  "aws_secret_access_key = " SECRET "\n");
	EXPECT("dup", EV_E_CONFIG);
	write_file("credentials", "[bad]\naws_secret_access_key " SECRET "\n");
	EXPECT("bad", EV_E_CONFIG);
	test_setup(NULL);

	static const char *const outputs[] = {
	    "{\"Version\": 1, \"AccessKeyId\": \"" AKID
	    "\", \"SecretAccessKey\": \"" SECRET "\"",
	    "{\"Version\": 2, \"AccessKeyId\": \"" AKID
	    "\", \"SecretAccessKey\": \"" SECRET
	    "\", \"SessionToken\": \"" TOKEN "\"}",
	    "{\"Version\": 1, \"AccessKeyId\": \"" AKID
	    "\", \"SecretAccessKey\": \"" SECRET " x\"}",
	    "{\"Version\": 1, \"SecretAccessKey\": \"" SECRET
	    "\", \"SessionToken\": \"" TOKEN "\"}",
	    "{\"Version\": 1, \"AccessKeyId\": \"" AKID
	    "\", \"SecretAccessKey\": \"" SECRET "\", \"Expiration\": \"" TOKEN
	    "\"}",
	};
	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
		write_file("out.json", outputs[i]);
		snprintf(text, sizeof(text), "cat '%s'", tmp_path("out.json"));
		process_profile(text);
		EXPECT("proc", EV_E_MALFORMED);
	}
	snprintf(text, sizeof(text), "cat '%s'; exit 3", tmp_path("out.json"));
	process_profile(text);
	EXPECT("proc", EV_E_IO);
	test_setup(NULL);

	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/c", 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "auth-secret", 1);
	struct reply denied[] = {{403, "auth-secret " TOKEN, EV_OK}};
	script(denied, 1);
	EXPECT(NULL, EV_E_AUTH);
	struct reply half[] = {
	    {200,
	     "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"" SECRET
	     "\",\"Expiration\":\"" TOKEN "\"}",
	     EV_OK}};
	script(half, 1);
	EXPECT(NULL, EV_E_MALFORMED);
	test_setup(NULL);

	struct reply imds_bad[] = {
	    {200, "tok", EV_OK},
	    {200, "role", EV_OK},
	    {200,
	     "{\"Code\":\"Failure\",\"Message\":\"x\",\"SecretAccessKey\":"
	     "\"" SECRET "\"}",
	     EV_OK},
	};
	script(imds_bad, 3);
	EXPECT(NULL, EV_E_AUTH);
	test_setup(NULL);

	write_file("wi-token", WI_TOKEN);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tmp_path("wi-token"), 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/W", 1);
	struct reply wi_denied[] = {
	    {400, STS_ERROR("InvalidIdentityToken", "Incorrect token audience"),
	     EV_OK},
	};
	script(wi_denied, 1);
	assert_int_not_equal(resolve(NULL, &c, &err), EV_OK);
	assert_clean(&err);
	checked++;
	struct reply wi_quoted[] = {
	    {400,
	     STS_ERROR("ValidationError",
		       "1 validation error detected: Value '" WI_TOKEN
		       "' at 'webIdentityToken' failed to satisfy constraint"),
	     EV_OK},
	};
	script(wi_quoted, 1);
	EXPECT(NULL, EV_E_INVALID);
	assert_string_equal(err.aws_code, "ValidationError");
	struct reply wi_partial[] = {
	    {200,
	     "<AssumeRoleWithWebIdentityResponse><"
	     "AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A</"
	     "AccessKeyId><SecretAccessKey>" ROLE_SECRET
	     "</SecretAccessKey></Credentials></"
	     "AssumeRoleWithWebIdentityResult></"
	     "AssumeRoleWithWebIdentityResponse>",
	     EV_OK}};
	script(wi_partial, 1);
	EXPECT(NULL, EV_E_MALFORMED);
	assert_int_equal(checked, 20);
#undef EXPECT
}

/* Without a client the provider makes one from the environment: here one
 * whose STS endpoint refuses connections. */
static void own_client_from_environment(void **state)
{
	(void)state;
	write_file("wi-token", WI_TOKEN);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tmp_path("wi-token"), 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/W", 1);
	setenv("AWS_ENDPOINT_URL", "https://127.0.0.1:1", 1);
	setenv("AWS_MAX_ATTEMPTS", "1", 1);
	struct ev_credentials_options o = {.region = "eu-west-1"};
	struct ev_error err;
	struct ev_credentials_provider *p =
	    ev_credentials_provider_new(&o, &err);
	assert_non_null(p);
	struct ev_credentials c;
	assert_int_equal(ev_credentials_provider_get(p, NOW, &c, &err),
			 EV_E_NETWORK);
	assert_non_null(strstr(err.message, "web identity"));
	assert_int_equal(fake.calls, 0);
	ev_credentials_provider_free(p);
	unsetenv("AWS_MAX_ATTEMPTS");
}

/* --- sts directly ------------------------------------------------------------
 */

static void sts_caller_identity(void **state)
{
	(void)state;
	struct reply r[] = {
	    {200,
	     "<GetCallerIdentityResponse "
	     "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
	     "<GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/"
	     "alice</Arn>"
	     "<UserId>AIDAEXAMPLE</UserId><Account>111122223333</Account>"
	     "</GetCallerIdentityResult><ResponseMetadata><RequestId>r</"
	     "RequestId>"
	     "</ResponseMetadata></GetCallerIdentityResponse>",
	     EV_OK},
	    {200,
	     "<GetCallerIdentityResponse><GetCallerIdentityResult/></"
	     "GetCallerIdentityResponse>",
	     EV_OK}};
	script(r, 2);
	struct ev_credentials creds = {.access_key_id = AKID,
				       .secret_access_key = SECRET};
	struct ev_sts_identity id;
	struct ev_error err;
	assert_int_equal(
	    ev_sts_get_caller_identity(aws, "eu-west-1", &creds, &id, &err),
	    EV_OK);
	assert_string_equal(id.account, "111122223333");
	assert_string_equal(id.arn, "arn:aws:iam::111122223333:user/alice");
	assert_string_equal(id.user_id, "AIDAEXAMPLE");
	assert_non_null(strstr(fake.sent[0].body,
			       "Action=GetCallerIdentity&Version=2011-06-15"));
	assert_int_equal(
	    ev_sts_get_caller_identity(aws, NULL, &creds, &id, &err),
	    EV_E_MALFORMED);
}

static void sts_assume_role_identity_and_validation(void **state)
{
	(void)state;
	struct reply r[] = {{200, ASSUME_OK(ROLE_AKID), EV_OK}};
	script(r, 1);
	struct ev_credentials creds = {.access_key_id = AKID,
				       .secret_access_key = SECRET,
				       .session_token = TOKEN};
	struct ev_sts_assume_role_params params = {
	    .role_arn = "arn:aws:iam::444455556666:role/Audit",
	    .session_name = "s",
	};
	struct ev_credentials out;
	struct ev_sts_identity who;
	struct ev_error err;
	assert_int_equal(ev_sts_assume_role(aws, "us-west-2", &creds, &params,
					    &out, &who, &err),
			 EV_OK);
	assert_string_equal(who.account, "444455556666");
	assert_string_equal(who.arn,
			    "arn:aws:sts::444455556666:assumed-role/Audit/s");
	assert_string_equal(who.user_id, "AROAEXAMPLE:s");
	assert_string_equal(out.source, "assume-role");
	assert_null(strstr(fake.sent[0].body, "ExternalId"));
	assert_null(strstr(fake.sent[0].body, "DurationSeconds"));
	assert_true(sent_header(0, "X-Amz-Security-Token: " TOKEN) ||
		    sent_header(0, "x-amz-security-token: " TOKEN));
	ev_credentials_cleanup(&out);
	params.session_name = NULL;
	assert_int_equal(
	    ev_sts_assume_role(aws, NULL, &creds, &params, &out, NULL, &err),
	    EV_E_INVALID);
	assert_int_equal(fake.calls, 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, test_setup)
	const struct CMUnitTest tests[] = {
	    T(env_keys),
	    T(env_legacy_token_and_expiration),
	    T(env_half_set_names_the_missing_one),
	    T(env_bad_values),
	    T(env_expired),
	    T(explicit_profile_skips_env_keys),
	    T(profile_keys_credentials_file_first),
	    T(profile_name_from_env_order),
	    T(profile_errors),
	    T(nothing_configured),
	    T(assume_role_from_source_profile),
	    T(role_arn_beats_keys_in_same_profile),
	    T(assume_role_chain),
	    T(assume_role_config_errors),
	    T(assume_role_chain_too_long),
	    T(credential_source_environment),
	    T(credential_source_imds_unreachable_is_an_error),
	    T(assume_role_denied),
	    T(web_identity_from_env_unsigned_and_reread),
	    T(web_identity_from_profile),
	    T(web_identity_errors),
	    T(explicit_profile_ignores_web_identity_env),
	    T(process_success),
	    T(process_failures),
	    T(process_comes_after_credentials_file_keys),
	    T(container_full_uri_with_token),
	    T(container_relative_uri_and_token_file),
	    T(container_uri_rules),
	    T(container_failures),
	    T(imds_v2),
	    T(imds_v1_fallback),
	    T(imds_v1_disabled),
	    T(imds_failures),
	    T(imds_token_reused_and_renewed_on_401),
	    T(refresh_windows),
	    T(one_refresh_at_a_time),
	    T(errors_never_hold_secrets),
	    T(own_client_from_environment),
	    T(sts_caller_identity),
	    T(sts_assume_role_identity_and_validation),
	};
#undef T
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
