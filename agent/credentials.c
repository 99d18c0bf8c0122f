#include "credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "aws.h"
#include "bounds.h"
#include "buf.h"
#include "config.h"
#include "fileio.h"
#include "http.h"
#include "profile.h"
#include "sts.h"
#include "timefmt.h"

extern char **environ;

/* Refresh windows of botocore: advisory 15 min (a failed refresh keeps the
 * old credentials), mandatory 10 min (a failed refresh is an error). */
#define ADVISORY_REFRESH_SECONDS  (15 * 60)
#define MANDATORY_REFRESH_SECONDS (10 * 60)
/* Between two refresh attempts inside the advisory window, so that many
 * workers do not each call STS or the metadata service. */
#define REFRESH_RETRY_SECONDS 30

/* An access key ID is an upper-case alphanumeric of 16-128 characters; the
 * bound here only keeps header injection and absurd sizes out. */
#define ACCESS_KEY_ID_MAX 128

/* credential_process gets this long to answer; botocore waits forever,
 * which a daemon cannot afford. */
#define PROCESS_TIMEOUT_MS (120 * 1000)

#define CONTAINER_HOST_URL   "http://169.254.170.2"
#define CONTAINER_TIMEOUT_MS 2000 /* botocore: 2 s, 3 attempts */
#define CONTAINER_ATTEMPTS   3
#define IMDS_DEFAULT_URL     "http://169.254.169.254"
#define IMDS_DEFAULT_URL_V6  "http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL	     21600
/* A cached token is not used in its last minute. */
#define IMDS_TOKEN_MARGIN 60
#define IMDS_TOKEN_MAX	  1024
#define METADATA_BODY_MAX (64u * 1024)
#define ROLE_NAME_MAX	  64

void ev_credentials_cleanup(struct ev_credentials *c)
{
	if (!c)
		return;
	free(c->access_key_id);
	ev_secret_free_str(c->secret_access_key);
	ev_secret_free_str(c->session_token);
	memset(c, 0, sizeof(*c));
}

enum ev_err ev_credentials_copy(struct ev_credentials *dst,
				const struct ev_credentials *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->access_key_id = ev_strdup(src->access_key_id);
	dst->secret_access_key = ev_strdup(src->secret_access_key);
	if (src->session_token)
		dst->session_token = ev_strdup(src->session_token);
	if ((src->access_key_id && !dst->access_key_id) ||
	    (src->secret_access_key && !dst->secret_access_key) ||
	    (src->session_token && !dst->session_token)) {
		ev_credentials_cleanup(dst);
		return EV_E_NOMEM;
	}
	dst->expiration = src->expiration;
	memcpy(dst->source, src->source, sizeof(dst->source));
	dst->source[sizeof(dst->source) - 1] = '\0';
	return EV_OK;
}

/* --- values, files and JSON -------------------------------------------- */

/* getenv, with "" treated as unset as botocore does. */
static const char *env_get(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static bool env_true(const char *name)
{
	const char *v = env_get(name);
	return v && strcasecmp(v, "true") == 0;
}

/* Checks a credential value before it is used: present, bounded, and free
 * of bytes that could break an HTTP header (the key ID and the token travel
 * in headers). `what` names the value's origin, never its content; `bad`
 * is the code for an empty or ill-formed value: EV_E_CONFIG for settings,
 * EV_E_MALFORMED for what a process or an endpoint answered. */
static enum ev_err check_value(const char *what, const char *s, size_t max,
			       enum ev_err bad, struct ev_error *err)
{
	size_t n = strnlen(s, max + 1);
	EV_ENSURE_E(err, n > 0, bad, "%s is empty", what);
	EV_ENSURE_E(err, n <= max, EV_E_LIMIT, "%s is longer than %zu bytes",
		    what, max);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		EV_ENSURE_E(err, ch > 0x20 && ch < 0x7f, bad,
			    "%s contains a space or a control character", what);
	}
	return EV_OK;
}

/* Names for the three values in messages, and the code for bad ones. */
struct value_names {
	const char *akid;
	const char *secret;
	const char *token;
	enum ev_err bad;
};

/* Fills out from three values (token may be NULL), copying them into owned
 * storage after checking them. */
static enum ev_err creds_set(struct ev_credentials *out, const char *akid,
			     const char *secret, const char *token,
			     const struct value_names *names,
			     struct ev_error *err)
{
	memset(out, 0, sizeof(*out));
	EV_TRY(
	    check_value(names->akid, akid, ACCESS_KEY_ID_MAX, names->bad, err));
	EV_TRY(check_value(names->secret, secret, EV_LIMIT_SECRET, names->bad,
			   err));
	if (token)
		EV_TRY(check_value(names->token, token, EV_LIMIT_SECRET,
				   names->bad, err));
	out->access_key_id = ev_strdup(akid);
	out->secret_access_key = ev_strdup(secret);
	if (token)
		out->session_token = ev_strdup(token);
	if (!out->access_key_id || !out->secret_access_key ||
	    (token && !out->session_token)) {
		ev_credentials_cleanup(out);
		return ev_error_set(err, EV_E_NOMEM, "out of memory");
	}
	return EV_OK;
}

static void set_source(struct ev_credentials *c, const char *kind,
		       const char *name)
{
	if (name)
		snprintf(c->source, sizeof(c->source), "%s %s", kind, name);
	else
		snprintf(c->source, sizeof(c->source), "%s", kind);
}

/* Reads a small secret file (a web identity or authorization token):
 * regular file, at most EV_LIMIT_TOKEN_FILE bytes, surrounding whitespace
 * dropped. *out is a secret heap string (ev_secret_free_str). */
static enum ev_err read_token_file(const char *what, const char *path,
				   char **out, struct ev_error *err)
{
	*out = NULL;
	struct ev_buf b;
	ev_buf_init_secret(&b, EV_LIMIT_TOKEN_FILE);
	enum ev_err rc = ev_file_read(AT_FDCWD, path, false, &b, NULL, err);
	if (rc != EV_OK) {
		/* A configured file that is missing is a local failure, not
		 * an AWS resource that does not exist. */
		if (rc == EV_E_NOT_FOUND)
			rc = err->code = EV_E_IO;
		ev_error_prefix(err, "%s ", what);
		goto out;
	}
	size_t start = 0, end = b.len;
	while (start < end && strchr(" \t\r\n", b.data[start]))
		start++;
	while (end > start && strchr(" \t\r\n", b.data[end - 1]))
		end--;
	if (start == end) {
		rc = ev_error_set(err, EV_E_CONFIG, "%s %s is empty", what,
				  path);
		goto out;
	}
	if (memchr(b.data + start, '\0', end - start)) {
		rc = ev_error_set(err, EV_E_CONFIG, "%s %s holds a NUL byte",
				  what, path);
		goto out;
	}
	*out = ev_strndup(b.data + start, end - start);
	if (!*out)
		rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
out:
	ev_buf_cleanup(&b);
	return rc;
}

/* Wipes every string of a JSON document in place before it is freed:
 * jansson frees without wiping, and these documents carry secret keys. */
static void json_wipe(json_t *j)
{
	if (json_is_string(j)) {
		OPENSSL_cleanse((char *)json_string_value(j),
				json_string_length(j));
	} else if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) json_wipe(v);
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) json_wipe(v);
	}
}

static void json_free_wiped(json_t *j)
{
	if (j) {
		json_wipe(j);
		json_decref(j);
	}
}

static const char *json_str(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Parses untrusted JSON that must be an object; *doc is freed (wiped) by
 * the caller with json_free_wiped, also on failure. */
static enum ev_err json_object_parse(const char *what, const char *data,
				     size_t len, json_t **doc,
				     struct ev_error *err)
{
	json_error_t jerr;
	*doc = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &jerr);
	EV_ENSURE_E(err, *doc && json_is_object(*doc), EV_E_MALFORMED,
		    "%s: not a JSON object", what);
	return EV_OK;
}

/* Takes credentials from the keys of the process, container and instance
 * metadata formats (token_key "SessionToken" or "Token"). An absent
 * Expiration means static credentials unless it is required. */
static enum ev_err creds_from_json(const char *what, const json_t *doc,
				   const char *token_key, bool need_expiration,
				   struct ev_credentials *out,
				   struct ev_error *err)
{
	memset(out, 0, sizeof(*out));
	const char *akid = json_str(doc, "AccessKeyId");
	const char *secret = json_str(doc, "SecretAccessKey");
	const char *token = json_str(doc, token_key);
	const char *exp = json_str(doc, "Expiration");
	EV_ENSURE_E(err, akid && secret, EV_E_MALFORMED,
		    "%s: AccessKeyId or SecretAccessKey missing", what);
	EV_ENSURE_E(err, exp || !need_expiration, EV_E_MALFORMED,
		    "%s: Expiration missing", what);
	EV_ENSURE_E(err, token || !json_object_get(doc, token_key),
		    EV_E_MALFORMED, "%s: %s is not a string", what, token_key);
	time_t expiration = 0;
	if (exp)
		EV_ENSURE_E(
		    err, ev_time_parse_iso8601(exp, &expiration) == EV_OK,
		    EV_E_MALFORMED, "%s: Expiration is not ISO 8601", what);
	char n1[96], n2[96], n3[96];
	snprintf(n1, sizeof(n1), "%s AccessKeyId", what);
	snprintf(n2, sizeof(n2), "%s SecretAccessKey", what);
	snprintf(n3, sizeof(n3), "%s %s", what, token_key);
	struct value_names names = {n1, n2, n3, EV_E_MALFORMED};
	EV_TRY(creds_set(out, akid, secret, token && *token ? token : NULL,
			 &names, err));
	out->expiration = expiration;
	return EV_OK;
}

/* --- the provider ------------------------------------------------------- */

struct ev_credentials_provider {
	char *profile; /* explicit profile, NULL if none */
	char *region;
	char *ca_bundle;
	struct ev_aws *aws; /* borrowed, or own_aws */
	struct ev_aws *own_aws;
	struct ev_http *meta_http; /* borrowed, or own_http */
	struct ev_http *own_http;

	pthread_mutex_t lock;
	struct ev_credentials cached;
	bool have;
	bool invalidated;
	time_t next_try;

	char *imds_token; /* secret; NULL when none cached */
	time_t imds_token_expiry;
};

/* One resolution of the chain: what it reads, for the sources to share. */
struct chain {
	struct ev_credentials_provider *p;
	time_t now;
	struct ev_profiles *profiles;
	const char *top; /* the selected profile */
};

static enum ev_err get_aws(struct chain *ch, struct ev_aws **out,
			   struct ev_error *err)
{
	struct ev_credentials_provider *p = ch->p;
	if (!p->aws) {
		/* No client was given: make one configured the way the SDKs
		 * configure theirs, from the environment alone. */
		struct ev_config cfg;
		struct ev_aws_options o;
		memset(&o, 0, sizeof(o));
		enum ev_err rc = ev_config_init(&cfg);
		if (rc == EV_OK)
			rc = ev_config_apply_env(&cfg, err);
		if (rc == EV_OK)
			rc = ev_aws_options_from_config(&cfg, &o, err);
		if (rc != EV_OK) {
			ev_config_cleanup(&cfg);
			return rc;
		}
		if (p->ca_bundle)
			o.ca_bundle = p->ca_bundle;
		p->own_aws = ev_aws_new(&o, err);
		ev_config_cleanup(&cfg);
		if (!p->own_aws)
			return err && err->code != EV_OK ? err->code
							 : EV_E_INTERNAL;
		p->aws = p->own_aws;
	}
	*out = p->aws;
	return EV_OK;
}

static enum ev_err get_http(struct chain *ch, struct ev_http **out,
			    struct ev_error *err)
{
	struct ev_credentials_provider *p = ch->p;
	if (!p->meta_http) {
		struct ev_http_options o = {
		    .connect_timeout_ms = 1000,
		    .timeout_ms = 5000,
		    .max_body = METADATA_BODY_MAX,
		    .allow_http = true,
		};
		p->own_http = ev_http_curl_new(&o, err);
		if (!p->own_http)
			return err && err->code != EV_OK ? err->code
							 : EV_E_INTERNAL;
		p->meta_http = p->own_http;
	}
	*out = p->meta_http;
	return EV_OK;
}

/* The region for STS calls: the option, the environment, the profile. */
static const char *sts_region(struct chain *ch)
{
	if (ch->p->region)
		return ch->p->region;
	const char *r = env_get("AWS_REGION");
	if (!r)
		r = env_get("AWS_DEFAULT_REGION");
	if (!r)
		r = ev_profile_get(ch->profiles, ch->top, "region",
				   EV_PROFILE_ANY);
	return r && *r ? r : "us-east-1";
}

/* --- environment -------------------------------------------------------- */

static enum ev_err source_env(struct ev_credentials *out, struct ev_error *err)
{
	const char *akid = env_get("AWS_ACCESS_KEY_ID");
	const char *secret = env_get("AWS_SECRET_ACCESS_KEY");
	if (!akid && !secret)
		return EV_E_NO_CREDENTIALS;
	EV_ENSURE_E(
	    err, akid, EV_E_CONFIG,
	    "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
	EV_ENSURE_E(
	    err, secret, EV_E_CONFIG,
	    "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
	/* AWS_SESSION_TOKEN is the name the SDKs standardised on; the legacy
	 * name only counts when the new one is absent. */
	struct value_names names = {"AWS_ACCESS_KEY_ID",
				    "AWS_SECRET_ACCESS_KEY",
				    "AWS_SESSION_TOKEN", EV_E_CONFIG};
	const char *token = env_get("AWS_SESSION_TOKEN");
	if (!token) {
		names.token = "AWS_SECURITY_TOKEN";
		token = env_get(names.token);
	}
	time_t expiration = 0;
	const char *exp = env_get("AWS_CREDENTIAL_EXPIRATION");
	if (exp && ev_time_parse_iso8601(exp, &expiration) != EV_OK)
		return ev_error_set(
		    err, EV_E_CONFIG,
		    "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time");
	EV_TRY(creds_set(out, akid, secret, token, &names, err));
	out->expiration = expiration;
	set_source(out, "environment", NULL);
	return EV_OK;
}

/* --- static keys in a profile ------------------------------------------- */

/* Keys of profile `name` in one file (botocore's SharedCredentialProvider
 * and ConfigProvider). The token may be aws_session_token or, legacy,
 * aws_security_token. */
static enum ev_err source_profile_keys(struct chain *ch, const char *name,
				       enum ev_profile_file file,
				       struct ev_credentials *out,
				       struct ev_error *err)
{
	struct ev_profile_value akid, secret, token;
	bool has_akid = ev_profile_lookup(ch->profiles, name,
					  "aws_access_key_id", file, &akid);
	bool has_secret = ev_profile_lookup(
	    ch->profiles, name, "aws_secret_access_key", file, &secret);
	if (!has_akid && !has_secret)
		return EV_E_NO_CREDENTIALS;
	const char *path = ev_profile_path(ch->profiles, file);
	EV_ENSURE_E(err, has_akid, EV_E_CONFIG,
		    "profile %s in %s has aws_secret_access_key but no "
		    "aws_access_key_id",
		    name, path);
	EV_ENSURE_E(err, has_secret, EV_E_CONFIG,
		    "profile %s in %s has aws_access_key_id but no "
		    "aws_secret_access_key",
		    name, path);
	const char *token_key = "aws_session_token";
	bool has_token =
	    ev_profile_lookup(ch->profiles, name, token_key, file, &token);
	if (!has_token) {
		token_key = "aws_security_token";
		has_token = ev_profile_lookup(ch->profiles, name, token_key,
					      file, &token);
	}
	char n1[EV_ERROR_MSG_MAX / 2], n2[EV_ERROR_MSG_MAX / 2],
	    n3[EV_ERROR_MSG_MAX / 2];
	snprintf(n1, sizeof(n1), "aws_access_key_id at %s:%d", akid.file,
		 akid.line);
	snprintf(n2, sizeof(n2), "aws_secret_access_key at %s:%d", secret.file,
		 secret.line);
	snprintf(n3, sizeof(n3), "%s at %s:%d", token_key,
		 has_token ? token.file : "", has_token ? token.line : 0);
	struct value_names names = {n1, n2, n3, EV_E_CONFIG};
	EV_TRY(creds_set(out, akid.value, secret.value,
			 has_token && *token.value ? token.value : NULL, &names,
			 err));
	set_source(out, "profile", name);
	return EV_OK;
}

/* --- credential_process ------------------------------------------------- */

/* Runs `/bin/sh -c cmd` with stdout captured into out (secret, bounded by
 * its limit) and stdin/stderr inherited. Errors: EV_E_LIMIT (too much
 * output: the process is killed), EV_E_IO (cannot start, timed out, exit
 * status not 0). */
static enum ev_err run_process(const char *what, const char *cmd,
			       struct ev_buf *out, struct ev_error *err)
{
	int fds[2];
	EV_ENSURE_E(err, pipe2(fds, O_CLOEXEC) == 0, EV_E_IO,
		    "%s: cannot create a pipe: %s", what, strerror(errno));
	/* Prepared before fork: the child may only call async-signal-safe
	 * functions in a threaded process. */
	char *const argv[] = {"sh", "-c", (char *)cmd, NULL};
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		return ev_error_set(err, EV_E_IO, "%s: cannot fork: %s", what,
				    strerror(e));
	}
	if (pid == 0) {
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		execve("/bin/sh", argv, environ);
		_exit(127);
	}
	close(fds[1]);

	enum ev_err rc = EV_OK;
	char chunk[4096];
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long spent = (long)(t.tv_sec - t0.tv_sec) * 1000 +
			     (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (spent >= PROCESS_TIMEOUT_MS) {
			rc = ev_error_set(err, EV_E_IO,
					  "%s: no answer within %d s", what,
					  PROCESS_TIMEOUT_MS / 1000);
			break;
		}
		struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
		int pr = poll(&pfd, 1, (int)(PROCESS_TIMEOUT_MS - spent));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			rc = ev_error_set(err, EV_E_IO, "%s: poll: %s", what,
					  strerror(errno));
			break;
		}
		if (pr == 0)
			continue;
		ssize_t n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			rc = ev_error_set(err, EV_E_IO, "%s: read: %s", what,
					  strerror(errno));
			break;
		}
		if (n == 0)
			break;
		enum ev_err arc = ev_buf_append(out, chunk, (size_t)n);
		if (arc != EV_OK) {
			rc = ev_error_set(err, arc,
					  "%s: output larger than %zu bytes",
					  what, out->limit);
			break;
		}
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	close(fds[0]);
	/* A process that has not finished by now will not be heard: stop it
	 * rather than wait on it. */
	if (rc != EV_OK)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			if (rc == EV_OK)
				rc = ev_error_set(err, EV_E_IO,
						  "%s: waitpid: %s", what,
						  strerror(errno));
			return rc;
		}
	}
	if (rc != EV_OK)
		return rc;
	if (WIFSIGNALED(status))
		return ev_error_set(err, EV_E_IO, "%s: killed by signal %d",
				    what, WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ev_error_set(err, EV_E_IO, "%s: exited with status %d",
				    what, WEXITSTATUS(status));
	return EV_OK;
}

static enum ev_err source_process(struct chain *ch, const char *name,
				  struct ev_credentials *out,
				  struct ev_error *err)
{
	struct ev_profile_value cmd;
	if (!ev_profile_lookup(ch->profiles, name, "credential_process",
			       EV_PROFILE_ANY, &cmd))
		return EV_E_NO_CREDENTIALS;
	char what[EV_ERROR_MSG_MAX / 2];
	snprintf(what, sizeof(what), "credential_process of profile %s", name);
	EV_ENSURE_E(err, *cmd.value, EV_E_CONFIG, "%s at %s:%d is empty", what,
		    cmd.file, cmd.line);
	struct ev_buf output;
	ev_buf_init_secret(&output, EV_LIMIT_PROCESS_OUTPUT);
	json_t *doc = NULL;
	enum ev_err rc = run_process(what, cmd.value, &output, err);
	if (rc != EV_OK)
		goto out;
	rc = json_object_parse(what, output.data, output.len, &doc, err);
	if (rc != EV_OK)
		goto out;
	/* botocore compares with the integer 1; JSON 1.0 passes there too. */
	json_t *ver = json_object_get(doc, "Version");
	if (!(json_is_number(ver) && json_number_value(ver) == 1.0)) {
		rc = ev_error_set(err, EV_E_MALFORMED,
				  "%s: unsupported Version (only 1 is)", what);
		goto out;
	}
	rc = creds_from_json(what, doc, "SessionToken", false, out, err);
	if (rc != EV_OK)
		goto out;
	set_source(out, "process", name);
out:
	json_free_wiped(doc);
	ev_buf_cleanup(&output);
	return rc;
}

/* --- container endpoint ------------------------------------------------- */

/* http is allowed only to the hosts the SDKs allow: loopback, the ECS and
 * EKS Pod Identity agent addresses. */
static bool container_http_host_ok(const char *url)
{
	const char *h = url + strlen("http://");
	size_t n = strcspn(h, "/?#");
	const char *at = memchr(h, '@', n);
	if (at)
		return false; /* no user information in these URLs */
	char host[80];
	if (h[0] == '[') {
		const char *end = memchr(h, ']', n);
		if (!end || (size_t)(end - h) >= sizeof(host))
			return false;
		memcpy(host, h + 1, (size_t)(end - h) - 1);
		host[end - h - 1] = '\0';
		return strcasecmp(host, "::1") == 0 ||
		       strcasecmp(host, "fd00:ec2::23") == 0;
	}
	size_t hl = strcspn(h, ":/?#");
	if (hl >= sizeof(host))
		return false;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (strcasecmp(host, "localhost") == 0 ||
	    strcmp(host, "169.254.170.2") == 0 ||
	    strcmp(host, "169.254.170.23") == 0)
		return true;
	/* 127.0.0.0/8, dotted quad only. */
	unsigned parts = 0, val = 0, digits = 0;
	unsigned octet[4] = {0};
	for (const char *p = host;; p++) {
		if (*p >= '0' && *p <= '9' && digits < 3) {
			val = val * 10 + (unsigned)(*p - '0');
			digits++;
			continue;
		}
		if ((*p != '.' && *p != '\0') || digits == 0 || val > 255 ||
		    parts >= 4)
			return false;
		octet[parts++] = val;
		val = 0;
		digits = 0;
		if (*p == '\0')
			break;
	}
	return parts == 4 && octet[0] == 127;
}

/* One header value from the environment or a file: no CR or LF. */
static enum ev_err container_auth(char **out, struct ev_error *err)
{
	*out = NULL;
	const char *file = env_get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	if (file) {
		EV_TRY(read_token_file("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
				       file, out, err));
	} else {
		const char *v = env_get("AWS_CONTAINER_AUTHORIZATION_TOKEN");
		if (!v)
			return EV_OK;
		EV_ENSURE_E(err, strlen(v) <= EV_LIMIT_TOKEN_FILE, EV_E_LIMIT,
			    "AWS_CONTAINER_AUTHORIZATION_TOKEN is too long");
		*out = ev_strdup(v);
		EV_ENSURE_E(err, *out, EV_E_NOMEM, "out of memory");
	}
	if (strpbrk(*out, "\r\n")) {
		ev_secret_free_str(*out);
		*out = NULL;
		return ev_error_set(
		    err, EV_E_CONFIG,
		    "the container authorization token holds a line break");
	}
	return EV_OK;
}

static enum ev_err http_status_error(const char *what, long status,
				     struct ev_error *err)
{
	enum ev_err code = EV_E_SERVER;
	if (status == 401 || status == 403)
		code = EV_E_AUTH;
	else if (status == 404)
		code = EV_E_NOT_FOUND;
	else if (status >= 400 && status < 500)
		code = EV_E_INVALID;
	enum ev_err rc =
	    ev_error_set(err, code, "%s answered HTTP %ld", what, status);
	if (err)
		err->http_status = (int)status;
	return rc;
}

static enum ev_err source_container(struct chain *ch,
				    struct ev_credentials *out,
				    struct ev_error *err)
{
	const char *rel = env_get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env_get("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	if (!rel && !full)
		return EV_E_NO_CREDENTIALS;
	const char *what = "container credentials endpoint";
	char url[EV_LIMIT_URL];
	if (rel) {
		EV_ENSURE_E(err, rel[0] == '/', EV_E_CONFIG,
			    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start "
			    "with '/'");
		int n =
		    snprintf(url, sizeof(url), "%s%s", CONTAINER_HOST_URL, rel);
		EV_ENSURE_E(
		    err, n > 0 && (size_t)n < sizeof(url), EV_E_CONFIG,
		    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is too long");
	} else {
		size_t n = strlen(full);
		EV_ENSURE_E(err, n < sizeof(url), EV_E_CONFIG,
			    "AWS_CONTAINER_CREDENTIALS_FULL_URI is too long");
		if (strncasecmp(full, "http://", 7) == 0)
			EV_ENSURE_E(
			    err, container_http_host_ok(full), EV_E_CONFIG,
			    "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is "
			    "allowed only to loopback, 169.254.170.2, "
			    "169.254.170.23 and [fd00:ec2::23]");
		else
			EV_ENSURE_E(err, strncasecmp(full, "https://", 8) == 0,
				    EV_E_CONFIG,
				    "AWS_CONTAINER_CREDENTIALS_FULL_URI must "
				    "be an http or https URL");
		memcpy(url, full, n + 1);
	}
	struct ev_http *http;
	EV_TRY(get_http(ch, &http, err));

	char *auth = NULL;
	json_t *doc = NULL;
	struct ev_http_response resp;
	ev_http_response_init(&resp, METADATA_BODY_MAX);
	resp.body.secret = true;
	enum ev_err rc = container_auth(&auth, err);
	if (rc != EV_OK)
		goto out;
	struct ev_http_header hdrs[2] = {
	    {"Accept", "application/json"},
	    {"Authorization", auth},
	};
	struct ev_http_request req = {
	    .method = "GET",
	    .url = url,
	    .headers = hdrs,
	    .n_headers = auth ? 2 : 1,
	    .timeout_ms = CONTAINER_TIMEOUT_MS,
	};
	for (int attempt = 1;; attempt++) {
		rc = ev_http_perform(http, &req, &resp, err);
		if (rc == EV_OK && resp.status != 200)
			rc = http_status_error(what, resp.status, err);
		bool transient = rc == EV_E_NETWORK || rc == EV_E_SERVER;
		if (rc == EV_OK || !transient || attempt >= CONTAINER_ATTEMPTS)
			break;
		/* botocore waits a second between attempts. */
		sleep(1);
	}
	if (rc != EV_OK) {
		ev_error_prefix(err, "%s: ", what);
		goto out;
	}
	rc = json_object_parse(what, resp.body.data, resp.body.len, &doc, err);
	if (rc == EV_OK)
		rc = creds_from_json(what, doc, "Token", false, out, err);
	if (rc == EV_OK)
		set_source(out, "container", NULL);
out:
	json_free_wiped(doc);
	ev_http_response_cleanup(&resp);
	ev_secret_free_str(auth);
	return rc;
}

/* --- EC2 instance metadata ---------------------------------------------- */

struct imds {
	struct ev_http *http;
	char base[EV_LIMIT_URL];
	long timeout_ms;
	int attempts;
	bool v1_disabled;
};

static void imds_drop_token(struct ev_credentials_provider *p)
{
	ev_secret_free_str(p->imds_token);
	p->imds_token = NULL;
	p->imds_token_expiry = 0;
}

/* One exchange with the configured number of attempts; only transport
 * failures are retried. */
static enum ev_err imds_request(struct imds *m, const char *method,
				const char *path,
				const struct ev_http_header *hdrs,
				size_t n_hdrs, struct ev_http_response *resp,
				struct ev_error *err)
{
	char url[EV_LIMIT_URL];
	int n = snprintf(url, sizeof(url), "%s%s", m->base, path);
	EV_ENSURE_E(err, n > 0 && (size_t)n < sizeof(url), EV_E_CONFIG,
		    "instance metadata URL too long");
	struct ev_http_request req = {
	    .method = method,
	    .url = url,
	    .headers = hdrs,
	    .n_headers = n_hdrs,
	    .timeout_ms = m->timeout_ms,
	};
	enum ev_err rc = EV_E_NETWORK;
	for (int i = 0; i < m->attempts; i++) {
		rc = ev_http_perform(m->http, &req, resp, err);
		if (rc != EV_E_NETWORK)
			break;
	}
	return rc;
}

/* Gets (or reuses) a session token. *token is NULL when IMDSv1 is to be
 * used. EV_E_NO_CREDENTIALS when the service cannot be reached and v1 is
 * disabled. */
static enum ev_err imds_token(struct chain *ch, struct imds *m,
			      const char **token, struct ev_error *err)
{
	struct ev_credentials_provider *p = ch->p;
	*token = NULL;
	if (p->imds_token &&
	    ch->now + IMDS_TOKEN_MARGIN < p->imds_token_expiry) {
		*token = p->imds_token;
		return EV_OK;
	}
	imds_drop_token(p);
	char ttl[16];
	snprintf(ttl, sizeof(ttl), "%d", IMDS_TOKEN_TTL);
	struct ev_http_header h[] = {
	    {"X-aws-ec2-metadata-token-ttl-seconds", ttl},
	};
	struct ev_http_response resp;
	ev_http_response_init(&resp, IMDS_TOKEN_MAX + 1);
	resp.body.secret = true;
	struct ev_error terr = {0};
	enum ev_err rc =
	    imds_request(m, "PUT", "/latest/api/token", h, 1, &resp, &terr);
	bool fallback = false;
	if (rc == EV_E_NETWORK) {
		/* A timeout here is what a container with hop limit 1 sees:
		 * botocore goes on with v1. */
		fallback = true;
		rc = EV_OK;
	} else if (rc != EV_OK) {
		if (err)
			*err = terr;
		ev_error_prefix(err, "instance metadata token: ");
	} else if (resp.status == 403 || resp.status == 404 ||
		   resp.status == 405) {
		fallback = true;
	} else if (resp.status != 200) {
		rc = http_status_error("instance metadata token request",
				       resp.status, err);
	} else {
		rc = check_value("instance metadata token",
				 ev_buf_str(&resp.body), IMDS_TOKEN_MAX,
				 EV_E_MALFORMED, err);
		if (rc == EV_OK) {
			p->imds_token = ev_strdup(ev_buf_str(&resp.body));
			if (!p->imds_token)
				rc = ev_error_set(err, EV_E_NOMEM,
						  "out of memory");
			p->imds_token_expiry = ch->now + IMDS_TOKEN_TTL;
			*token = p->imds_token;
		}
	}
	ev_http_response_cleanup(&resp);
	if (rc == EV_OK && fallback && m->v1_disabled) {
		if (terr.code == EV_E_NETWORK)
			return ev_error_set(err, EV_E_NO_CREDENTIALS,
					    "instance metadata not reachable");
		return ev_error_set(
		    err, EV_E_AUTH,
		    "instance metadata refused a session token and IMDSv1 is "
		    "disabled (AWS_EC2_METADATA_V1_DISABLED)");
	}
	return rc;
}

static bool role_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > ROLE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || strchr("_+=,.@-", c);
		if (!ok)
			return false;
	}
	return true;
}

static enum ev_err imds_config(struct chain *ch, struct imds *m,
			       struct ev_error *err)
{
	memset(m, 0, sizeof(*m));
	const char *base = env_get("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = env_get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	if (!base)
		base = mode && strcasecmp(mode, "ipv6") == 0
			   ? IMDS_DEFAULT_URL_V6
			   : IMDS_DEFAULT_URL;
	EV_ENSURE_E(
	    err,
	    strncasecmp(base, "http://", 7) == 0 ||
		strncasecmp(base, "https://", 8) == 0,
	    EV_E_CONFIG,
	    "AWS_EC2_METADATA_SERVICE_ENDPOINT must be an http or https URL");
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	EV_ENSURE_E(err, n + 64 < sizeof(m->base), EV_E_CONFIG,
		    "AWS_EC2_METADATA_SERVICE_ENDPOINT is too long");
	memcpy(m->base, base, n);
	m->base[n] = '\0';

	m->timeout_ms = 1000;
	const char *t = env_get("AWS_METADATA_SERVICE_TIMEOUT");
	if (t) {
		char *end;
		errno = 0;
		double s = strtod(t, &end);
		EV_ENSURE_E(
		    err, errno == 0 && *end == '\0' && s > 0 && s <= 3600,
		    EV_E_CONFIG,
		    "AWS_METADATA_SERVICE_TIMEOUT is not a number of seconds");
		m->timeout_ms = (long)(s * 1000);
		if (m->timeout_ms < 1)
			m->timeout_ms = 1;
	}
	m->attempts = 1;
	const char *a = env_get("AWS_METADATA_SERVICE_NUM_ATTEMPTS");
	if (a) {
		char *end;
		errno = 0;
		long v = strtol(a, &end, 10);
		EV_ENSURE_E(err,
			    errno == 0 && *end == '\0' && v >= 1 && v <= 10,
			    EV_E_CONFIG,
			    "AWS_METADATA_SERVICE_NUM_ATTEMPTS is not a number "
			    "from 1 to 10");
		m->attempts = (int)v;
	}
	m->v1_disabled = env_true("AWS_EC2_METADATA_V1_DISABLED");
	return get_http(ch, &m->http, err);
}

static enum ev_err imds_fetch(struct chain *ch, struct imds *m,
			      struct ev_credentials *out, bool *retry_token,
			      struct ev_error *err)
{
	*retry_token = false;
	const char *token;
	EV_TRY(imds_token(ch, m, &token, err));
	struct ev_http_header h[] = {{"X-aws-ec2-metadata-token", token}};
	size_t nh = token ? 1 : 0;
	const char *list = "/latest/meta-data/iam/security-credentials/";

	json_t *doc = NULL;
	struct ev_http_response resp;
	ev_http_response_init(&resp, METADATA_BODY_MAX);
	resp.body.secret = true;
	struct ev_error nerr = {0};
	enum ev_err rc = imds_request(m, "GET", list, h, nh, &resp, &nerr);
	char role[ROLE_NAME_MAX + 1];
	if (rc == EV_E_NETWORK) {
		rc = ev_error_set(err, EV_E_NO_CREDENTIALS,
				  "instance metadata not reachable");
		goto out;
	}
	if (rc != EV_OK) {
		if (err)
			*err = nerr;
		goto out;
	}
	if (resp.status == 401 && token) {
		/* The token expired or was revoked early: one new one. */
		*retry_token = true;
		rc =
		    ev_error_set(err, EV_E_AUTH,
				 "instance metadata refused the session token");
		goto out;
	}
	if (resp.status == 404) {
		rc = ev_error_set(
		    err, EV_E_NO_CREDENTIALS,
		    "instance metadata: no IAM role attached to this instance");
		goto out;
	}
	if (resp.status != 200) {
		rc = http_status_error("instance metadata role list",
				       resp.status, err);
		goto out;
	}
	/* The first line names the role; it goes into the next path. */
	const char *body = ev_buf_str(&resp.body);
	size_t rn = strcspn(body, "\r\n");
	if (!role_name_ok(body, rn)) {
		rc = ev_error_set(
		    err, EV_E_MALFORMED,
		    "instance metadata role name is not a role name");
		goto out;
	}
	memcpy(role, body, rn);
	role[rn] = '\0';

	char path[sizeof("/latest/meta-data/iam/security-credentials/") +
		  ROLE_NAME_MAX];
	snprintf(path, sizeof(path), "%s%s", list, role);
	rc = imds_request(m, "GET", path, h, nh, &resp, &nerr);
	if (rc == EV_E_NETWORK) {
		rc = ev_error_set(err, EV_E_NO_CREDENTIALS,
				  "instance metadata not reachable");
		goto out;
	}
	if (rc != EV_OK) {
		if (err)
			*err = nerr;
		goto out;
	}
	if (resp.status == 401 && token) {
		*retry_token = true;
		rc =
		    ev_error_set(err, EV_E_AUTH,
				 "instance metadata refused the session token");
		goto out;
	}
	if (resp.status != 200) {
		rc = http_status_error("instance metadata credentials",
				       resp.status, err);
		goto out;
	}
	rc = json_object_parse("instance metadata credentials", resp.body.data,
			       resp.body.len, &doc, err);
	if (rc != EV_OK)
		goto out;
	const char *code = json_str(doc, "Code");
	if (code && strcmp(code, "Success") != 0) {
		rc = ev_error_set(err, EV_E_AUTH,
				  "instance metadata credentials for role %s: "
				  "Code is not Success",
				  role);
		if (err)
			ev_error_copy_field(err->aws_code,
					    sizeof(err->aws_code), code,
					    strlen(code));
		goto out;
	}
	rc = creds_from_json("instance metadata credentials", doc, "Token",
			     true, out, err);
	if (rc == EV_OK)
		set_source(out, "imds", NULL);
out:
	json_free_wiped(doc);
	ev_http_response_cleanup(&resp);
	return rc;
}

static enum ev_err source_imds(struct chain *ch, struct ev_credentials *out,
			       struct ev_error *err)
{
	if (env_true("AWS_EC2_METADATA_DISABLED"))
		return ev_error_set(
		    err, EV_E_NO_CREDENTIALS,
		    "instance metadata disabled (AWS_EC2_METADATA_DISABLED)");
	struct imds m;
	EV_TRY(imds_config(ch, &m, err));
	bool retry;
	enum ev_err rc = imds_fetch(ch, &m, out, &retry, err);
	if (rc != EV_OK && retry) {
		imds_drop_token(ch->p);
		rc = imds_fetch(ch, &m, out, &retry, err);
	}
	return rc;
}

/* --- web identity ------------------------------------------------------- */

/* botocore reads each setting from the environment first (unless a
 * profile was named explicitly), then from the profile. */
static const char *wi_setting(struct chain *ch, const char *name,
			      bool env_enabled, const char *env_name,
			      const char *key)
{
	const char *v = env_enabled ? env_get(env_name) : NULL;
	return v ? v : ev_profile_get(ch->profiles, name, key, EV_PROFILE_ANY);
}

static enum ev_err source_web_identity(struct chain *ch, const char *name,
				       bool env_enabled,
				       struct ev_credentials *out,
				       struct ev_error *err)
{
	const char *file =
	    wi_setting(ch, name, env_enabled, "AWS_WEB_IDENTITY_TOKEN_FILE",
		       "web_identity_token_file");
	if (!file || !*file)
		return EV_E_NO_CREDENTIALS;
	const char *role =
	    wi_setting(ch, name, env_enabled, "AWS_ROLE_ARN", "role_arn");
	EV_ENSURE_E(err, role && *role, EV_E_CONFIG,
		    "a web identity token file is configured but no role ARN "
		    "(AWS_ROLE_ARN or role_arn of profile %s)",
		    name);
	const char *session =
	    wi_setting(ch, name, env_enabled, "AWS_ROLE_SESSION_NAME",
		       "role_session_name");
	char gen[32];
	if (!session || !*session) {
		snprintf(gen, sizeof(gen), "evident-%lld", (long long)ch->now);
		session = gen;
	}
	struct ev_aws *aws;
	EV_TRY(get_aws(ch, &aws, err));
	/* Re-read at every refresh: the orchestrator rotates the file. */
	char *token = NULL;
	EV_TRY(read_token_file("web identity token file", file, &token, err));
	enum ev_err rc = ev_sts_assume_role_with_web_identity(
	    aws, sts_region(ch), role, session, token, out, NULL, err);
	ev_secret_free_str(token);
	if (rc != EV_OK) {
		ev_error_prefix(
		    err, "web identity (AssumeRoleWithWebIdentity %s): ", role);
		return rc;
	}
	set_source(out, "web-identity", NULL);
	return EV_OK;
}

/* --- profiles ----------------------------------------------------------- */

static bool has_static(struct chain *ch, const char *name)
{
	return ev_profile_get(ch->profiles, name, "aws_access_key_id",
			      EV_PROFILE_ANY) ||
	       ev_profile_get(ch->profiles, name, "aws_secret_access_key",
			      EV_PROFILE_ANY);
}

/* botocore's AssumeRoleProvider takes a profile with role_arn, unless it
 * is a web identity profile. */
static bool has_assume_role(struct chain *ch, const char *name)
{
	return ev_profile_get(ch->profiles, name, "role_arn", EV_PROFILE_ANY) &&
	       !ev_profile_get(ch->profiles, name, "web_identity_token_file",
			       EV_PROFILE_ANY);
}

static bool has_sso(struct chain *ch, const char *name)
{
	static const char *const keys[] = {"sso_start_url", "sso_session",
					   "sso_account_id", "sso_role_name"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (ev_profile_get(ch->profiles, name, keys[i], EV_PROFILE_ANY))
			return true;
	return false;
}

/* The providers botocore builds for one profile: web identity, SSO, keys
 * in the credentials file, credential_process, keys in the config file. */
static enum ev_err profile_chain(struct chain *ch, const char *name,
				 bool env_enabled, struct ev_credentials *out,
				 struct ev_error *err)
{
	enum ev_err rc = source_web_identity(ch, name, env_enabled, out, err);
	if (rc != EV_E_NO_CREDENTIALS)
		return rc;
	EV_ENSURE_E(
	    err, !has_sso(ch, name), EV_E_CONFIG,
	    "profile %s uses IAM Identity Center (sso_*), which evident does "
	    "not support; "
	    "use credential_process with `aws configure export-credentials`",
	    name);
	rc = source_profile_keys(ch, name, EV_PROFILE_CREDENTIALS, out, err);
	if (rc != EV_E_NO_CREDENTIALS)
		return rc;
	rc = source_process(ch, name, out, err);
	if (rc != EV_E_NO_CREDENTIALS)
		return rc;
	return source_profile_keys(ch, name, EV_PROFILE_CONFIG, out, err);
}

struct visited {
	const char *names[EV_LIMIT_PROFILE_CHAIN + 1];
	size_t n;
};

static enum ev_err assume_role_profile(struct chain *ch, const char *name,
				       struct visited *vis,
				       struct ev_credentials *out,
				       struct ev_error *err);

/* Credentials to call AssumeRole with for profile `name`. */
static enum ev_err role_source_creds(struct chain *ch, const char *name,
				     struct visited *vis,
				     struct ev_credentials *src,
				     struct ev_error *err)
{
	struct ev_profile_value sp, cs;
	bool has_sp = ev_profile_lookup(ch->profiles, name, "source_profile",
					EV_PROFILE_ANY, &sp);
	bool has_cs = ev_profile_lookup(ch->profiles, name, "credential_source",
					EV_PROFILE_ANY, &cs);
	EV_ENSURE_E(err, !(has_sp && has_cs), EV_E_CONFIG,
		    "profile %s has both source_profile and credential_source",
		    name);
	EV_ENSURE_E(err, has_sp || has_cs, EV_E_CONFIG,
		    "profile %s has role_arn but neither source_profile nor "
		    "credential_source",
		    name);
	if (has_cs) {
		enum ev_err rc;
		if (strcmp(cs.value, "Environment") == 0)
			rc = source_env(src, err);
		else if (strcmp(cs.value, "Ec2InstanceMetadata") == 0)
			rc = source_imds(ch, src, err);
		else if (strcmp(cs.value, "EcsContainer") == 0)
			rc = source_container(ch, src, err);
		else
			return ev_error_set(
			    err, EV_E_CONFIG,
			    "%s:%d: credential_source of profile %s must be "
			    "Environment, Ec2InstanceMetadata or EcsContainer",
			    cs.file, cs.line, name);
		/* Configured: finding nothing there is an error, not a
		 * reason to try the next source. */
		if (rc == EV_E_NO_CREDENTIALS)
			return ev_error_set(err, EV_E_CONFIG,
					    "credential_source %s of profile "
					    "%s gave no credentials",
					    cs.value, name);
		if (rc != EV_OK)
			ev_error_prefix(err,
					"credential_source %s of profile %s: ",
					cs.value, name);
		return rc;
	}

	const char *s = sp.value;
	EV_ENSURE_E(err, ev_profile_exists(ch->profiles, s, EV_PROFILE_ANY),
		    EV_E_CONFIG,
		    "%s:%d: source_profile %s of profile %s does not exist",
		    sp.file, sp.line, s, name);
	for (size_t i = 0; i < vis->n; i++) {
		if (strcmp(vis->names[i], s) != 0)
			continue;
		/* A profile may name itself to take its own static keys. */
		EV_ENSURE_E(err, strcmp(s, name) == 0 && has_static(ch, s),
			    EV_E_CONFIG,
			    "source_profile chain loops back to profile %s", s);
	}
	EV_ENSURE_E(err, vis->n < EV_LIMIT_PROFILE_CHAIN, EV_E_LIMIT,
		    "source_profile chain longer than %d profiles",
		    EV_LIMIT_PROFILE_CHAIN);
	vis->names[vis->n++] = s;
	if (has_static(ch, s) || !has_assume_role(ch, s)) {
		enum ev_err rc = profile_chain(ch, s, false, src, err);
		if (rc == EV_E_NO_CREDENTIALS)
			return ev_error_set(err, EV_E_CONFIG,
					    "source_profile %s of profile %s "
					    "has no credentials",
					    s, name);
		return rc;
	}
	return assume_role_profile(ch, s, vis, src, err);
}

static enum ev_err duration_setting(struct chain *ch, const char *name,
				    int *out, struct ev_error *err)
{
	*out = 0;
	struct ev_profile_value v;
	if (!ev_profile_lookup(ch->profiles, name, "duration_seconds",
			       EV_PROFILE_ANY, &v))
		return EV_OK;
	char *end;
	errno = 0;
	long d = strtol(v.value, &end, 10);
	EV_ENSURE_E(
	    err,
	    errno == 0 && end != v.value && *end == '\0' && d >= 900 &&
		d <= 43200,
	    EV_E_CONFIG,
	    "%s:%d: duration_seconds must be a number from 900 to 43200",
	    v.file, v.line);
	*out = (int)d;
	return EV_OK;
}

static enum ev_err assume_role_profile(struct chain *ch, const char *name,
				       struct visited *vis,
				       struct ev_credentials *out,
				       struct ev_error *err)
{
	struct ev_profile_value mfa;
	EV_ENSURE_E(err,
		    !ev_profile_lookup(ch->profiles, name, "mfa_serial",
				       EV_PROFILE_ANY, &mfa),
		    EV_E_CONFIG,
		    "%s:%d: profile %s needs an MFA code (mfa_serial), which "
		    "an unattended agent cannot give",
		    mfa.file, mfa.line, name);
	struct ev_sts_assume_role_params params = {
	    .role_arn =
		ev_profile_get(ch->profiles, name, "role_arn", EV_PROFILE_ANY),
	    .session_name = ev_profile_get(ch->profiles, name,
					   "role_session_name", EV_PROFILE_ANY),
	    .external_id = ev_profile_get(ch->profiles, name, "external_id",
					  EV_PROFILE_ANY),
	};
	EV_TRY(duration_setting(ch, name, &params.duration_seconds, err));
	char gen[32];
	if (!params.session_name || !*params.session_name) {
		snprintf(gen, sizeof(gen), "evident-%lld", (long long)ch->now);
		params.session_name = gen;
	}
	struct ev_credentials src = {0};
	EV_TRY(role_source_creds(ch, name, vis, &src, err));
	struct ev_aws *aws;
	enum ev_err rc = get_aws(ch, &aws, err);
	if (rc == EV_OK)
		rc = ev_sts_assume_role(aws, sts_region(ch), &src, &params, out,
					NULL, err);
	ev_credentials_cleanup(&src);
	if (rc != EV_OK) {
		ev_error_prefix(err, "profile %s (AssumeRole %s): ", name,
				params.role_arn);
		return rc;
	}
	set_source(out, "assume-role", name);
	return EV_OK;
}

/* --- the chain ---------------------------------------------------------- */

static enum ev_err resolve_chain(struct ev_credentials_provider *p, time_t now,
				 struct ev_credentials *out,
				 struct ev_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!p->profile) {
		enum ev_err rc = source_env(out, err);
		if (rc != EV_E_NO_CREDENTIALS)
			return rc;
	}
	struct chain ch = {.p = p, .now = now};
	bool named;
	ch.top = ev_profile_name(p->profile, &named);
	EV_TRY(ev_profile_load(&ch.profiles, err));

	enum ev_err rc;
	if (named && !ev_profile_exists(ch.profiles, ch.top, EV_PROFILE_ANY)) {
		rc = ev_error_set(
		    err, EV_E_CONFIG, "profile %s is in neither %s nor %s",
		    ch.top, ev_profile_path(ch.profiles, EV_PROFILE_CONFIG),
		    ev_profile_path(ch.profiles, EV_PROFILE_CREDENTIALS));
		goto out;
	}
	if (has_assume_role(&ch, ch.top)) {
		struct visited vis = {.names = {ch.top}, .n = 1};
		rc = assume_role_profile(&ch, ch.top, &vis, out, err);
		goto out;
	}
	rc = profile_chain(&ch, ch.top, p->profile == NULL, out, err);
	if (rc != EV_E_NO_CREDENTIALS)
		goto out;
	rc = source_container(&ch, out, err);
	if (rc != EV_E_NO_CREDENTIALS)
		goto out;
	rc = source_imds(&ch, out, err);
	if (rc == EV_E_NO_CREDENTIALS) {
		char why[EV_ERROR_MSG_MAX];
		snprintf(why, sizeof(why), "%s", err ? err->message : "");
		rc = ev_error_set(err, EV_E_NO_CREDENTIALS,
				  "no credentials: none in the environment, "
				  "profile %s, container; %s",
				  ch.top, why);
	}
out:
	ev_profile_free(ch.profiles);
	return rc;
}

static char *dup_opt(const char *s, bool *failed)
{
	if (!s)
		return NULL;
	char *d = ev_strdup(s);
	if (!d)
		*failed = true;
	return d;
}

struct ev_credentials_provider *
ev_credentials_provider_new(const struct ev_credentials_options *opts,
			    struct ev_error *err)
{
	struct ev_credentials_provider *p = calloc(1, sizeof(*p));
	if (!p) {
		ev_error_set(err, EV_E_NOMEM, "out of memory");
		return NULL;
	}
	bool failed = false;
	if (opts) {
		p->profile = dup_opt(
		    opts->profile && *opts->profile ? opts->profile : NULL,
		    &failed);
		p->region = dup_opt(opts->region, &failed);
		p->ca_bundle = dup_opt(opts->ca_bundle, &failed);
		p->aws = opts->aws;
		p->meta_http = opts->metadata_http;
	}
	if (failed || pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p->profile);
		free(p->region);
		free(p->ca_bundle);
		free(p);
		ev_error_set(err, EV_E_NOMEM, "out of memory");
		return NULL;
	}
	return p;
}

void ev_credentials_provider_free(struct ev_credentials_provider *p)
{
	if (!p)
		return;
	ev_credentials_cleanup(&p->cached);
	imds_drop_token(p);
	ev_aws_free(p->own_aws);
	ev_http_free(p->own_http);
	pthread_mutex_destroy(&p->lock);
	free(p->profile);
	free(p->region);
	free(p->ca_bundle);
	free(p);
}

static bool within(time_t expiration, time_t now, long seconds)
{
	return expiration != 0 && now + seconds >= expiration;
}

enum ev_err ev_credentials_provider_get(struct ev_credentials_provider *p,
					time_t now, struct ev_credentials *out,
					struct ev_error *err)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&p->lock);
	enum ev_err rc = EV_OK;
	bool need =
	    !p->have || p->invalidated ||
	    (within(p->cached.expiration, now, ADVISORY_REFRESH_SECONDS) &&
	     now >= p->next_try);
	if (need) {
		struct ev_credentials fresh;
		struct ev_error ferr = {0};
		rc = resolve_chain(p, now, &fresh, &ferr);
		p->next_try = now + REFRESH_RETRY_SECONDS;
		if (rc == EV_OK) {
			ev_credentials_cleanup(&p->cached);
			p->cached = fresh;
			p->have = true;
			p->invalidated = false;
		} else if (p->have && !p->invalidated &&
			   !within(p->cached.expiration, now,
				   MANDATORY_REFRESH_SECONDS)) {
			/* Advisory window: keep what still works. */
			rc = EV_OK;
		} else if (err) {
			*err = ferr;
		}
	}
	if (rc == EV_OK && p->cached.expiration != 0 &&
	    now >= p->cached.expiration)
		rc = ev_error_set(err, EV_E_EXPIRED,
				  "credentials from %s expired",
				  p->cached.source);
	if (rc == EV_OK) {
		rc = ev_credentials_copy(out, &p->cached);
		if (rc != EV_OK)
			ev_error_set(err, rc, "out of memory");
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void ev_credentials_provider_invalidate(struct ev_credentials_provider *p)
{
	pthread_mutex_lock(&p->lock);
	p->invalidated = true;
	pthread_mutex_unlock(&p->lock);
}
