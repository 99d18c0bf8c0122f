#include "aws.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "awserror.h"
#include "bounds.h"
#include "log.h"
#include "ratelimit.h"
#include "sigv4.h"
#include "timefmt.h"
#include "uri.h"

/* The SDKs correct the clock once skew reaches this (aws-api.md §7). */
#define SKEW_THRESHOLD_S  300
#define JSON_CONTENT_TYPE "application/x-amz-json-1.1"
#define FORM_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"

struct ev_aws {
	struct ev_http *http;
	bool own_http;
	struct ev_endpoint_overrides endpoints;
	char *endpoint_copies[EV_SVC_COUNT_ + 1];
	struct ev_retry_config retry;
	struct ev_retry_quota quota;
	struct ev_sigv4_cache sigcache;
	struct ev_ratelimit *ratelimit;
	pthread_mutex_t lock; /* guards clock_offset */
	long clock_offset;
	time_t (*now)(void *ctx);
	double (*random01)(void *ctx);
	void (*sleep_ms)(void *ctx, long ms);
	void *seam_ctx;
	void (*on_call)(void *ctx, const struct ev_aws_call_record *rec);
	void *on_call_ctx;
};

/* ---- default seams ------------------------------------------------------ */

static time_t default_now(void *ctx)
{
	(void)ctx;
	return time(NULL);
}

static double default_random01(void *ctx)
{
	(void)ctx;
	uint32_t v = 0;
	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint32_t)clock();
	return (double)v / 4294967296.0;
}

static void default_sleep_ms(void *ctx, long ms)
{
	(void)ctx;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static double monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- client ------------------------------------------------------------- */

enum ev_err ev_aws_options_from_config(const struct ev_config *cfg,
				       struct ev_aws_options *opts,
				       struct ev_error *err)
{
	opts->endpoints.all = cfg->aws.endpoint_url;
	opts->endpoints.sts_global = cfg->aws.sts_endpoints == EV_STS_LEGACY;
	opts->ca_bundle = cfg->aws.ca_bundle;
	opts->retry = cfg->aws.retry;
	opts->timeout_ms = (long)cfg->aws.timeout_seconds * 1000;
	opts->connect_timeout_ms =
	    (long)cfg->aws.connect_timeout_seconds * 1000;
	/* Per-service endpoints have no config key: only the SDKs'
	 * variables name them. */
	for (int s = 0; s < EV_SVC_COUNT_; s++) {
		char name[96];
		const char *id = ev_service_info((enum ev_service)s)->env_id;
		snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", id);
		const char *v = getenv(name);
		opts->endpoints.service[s] = NULL;
		if (!v || !*v)
			continue;
		EV_TRY(ev_endpoint_url_check(v, err));
		opts->endpoints.service[s] = v;
	}
	return EV_OK;
}

void ev_aws_free(struct ev_aws *aws)
{
	if (!aws)
		return;
	if (aws->own_http)
		ev_http_free(aws->http);
	for (size_t i = 0;
	     i < sizeof(aws->endpoint_copies) / sizeof(aws->endpoint_copies[0]);
	     i++)
		free(aws->endpoint_copies[i]);
	ev_retry_quota_cleanup(&aws->quota);
	ev_sigv4_cache_cleanup(&aws->sigcache);
	ev_ratelimit_free(aws->ratelimit);
	pthread_mutex_destroy(&aws->lock);
	free(aws);
}

/* Options are views into the caller's memory (often the environment, which
 * a later setenv may move): keep copies. */
static enum ev_err copy_override(struct ev_aws *aws, size_t slot,
				 const char *src, const char **dst)
{
	*dst = NULL;
	if (!src || !*src)
		return EV_OK;
	aws->endpoint_copies[slot] = ev_strdup(src);
	EV_ENSURE(aws->endpoint_copies[slot], EV_E_NOMEM);
	*dst = aws->endpoint_copies[slot];
	return EV_OK;
}

struct ev_aws *ev_aws_new(const struct ev_aws_options *opts,
			  struct ev_error *err)
{
	struct ev_aws *aws = calloc(1, sizeof(*aws));
	if (!aws) {
		ev_error_set(err, EV_E_NOMEM, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&aws->lock, NULL);
	ev_retry_quota_init(&aws->quota);
	ev_sigv4_cache_init(&aws->sigcache);
	aws->ratelimit = ev_ratelimit_new();
	if (!aws->ratelimit) {
		ev_error_set(err, EV_E_NOMEM, "out of memory");
		ev_aws_free(aws);
		return NULL;
	}
	aws->retry = opts->retry;
	aws->now = opts->now ? opts->now : default_now;
	aws->random01 = opts->random01 ? opts->random01 : default_random01;
	aws->sleep_ms = opts->sleep_ms ? opts->sleep_ms : default_sleep_ms;
	aws->seam_ctx = opts->seam_ctx;
	aws->on_call = opts->on_call;
	aws->on_call_ctx = opts->on_call_ctx;
	aws->endpoints.sts_global = opts->endpoints.sts_global;

	enum ev_err rc = copy_override(aws, EV_SVC_COUNT_, opts->endpoints.all,
				       &aws->endpoints.all);
	for (int s = 0; rc == EV_OK && s < EV_SVC_COUNT_; s++)
		rc = copy_override(aws, (size_t)s, opts->endpoints.service[s],
				   &aws->endpoints.service[s]);
	if (rc != EV_OK) {
		ev_error_set(err, rc, "out of memory");
		ev_aws_free(aws);
		return NULL;
	}

	if (opts->http) {
		aws->http = opts->http;
	} else {
		struct ev_http_options ho = {
		    .ca_bundle = opts->ca_bundle,
		    .timeout_ms = opts->timeout_ms,
		    .connect_timeout_ms = opts->connect_timeout_ms,
		};
		aws->http = ev_http_curl_new(&ho, err);
		if (!aws->http) {
			ev_aws_free(aws);
			return NULL;
		}
		aws->own_http = true;
	}
	return aws;
}

long ev_aws_clock_offset(const struct ev_aws *aws)
{
	struct ev_aws *mut = (struct ev_aws *)aws;
	pthread_mutex_lock(&mut->lock);
	long off = aws->clock_offset;
	pthread_mutex_unlock(&mut->lock);
	return off;
}

/* ---- responses ---------------------------------------------------------- */

void ev_aws_response_init(struct ev_aws_response *r)
{
	memset(r, 0, sizeof(*r));
	ev_http_response_init(&r->http, EV_LIMIT_HTTP_BODY);
}

static void response_forget(struct ev_aws_response *r)
{
	ev_xml_free(r->xml);
	r->xml = NULL;
	json_decref(r->json);
	r->json = NULL;
	r->http_status = 0;
	r->request_id[0] = '\0';
	r->body_sha256[0] = '\0';
	r->server_date = 0;
}

void ev_aws_response_cleanup(struct ev_aws_response *r)
{
	if (!r)
		return;
	response_forget(r);
	ev_http_response_cleanup(&r->http);
}

const struct ev_xml_node *
ev_aws_response_result(const struct ev_aws_response *r, const char *action)
{
	if (!r->xml)
		return NULL;
	const struct ev_xml_node *root = ev_xml_root(r->xml);
	char name[128];
	snprintf(name, sizeof(name), "%sResult", action);
	const struct ev_xml_node *result = ev_xml_child(root, name);
	return result ? result : root;
}

/* ---- request building --------------------------------------------------- */

/* Everything one attempt sends; rebuilt only in its signature per retry. */
struct wire {
	const struct ev_service_info *svc;
	struct ev_endpoint ep;
	const char *method;
	struct ev_buf url;
	struct ev_buf path;  /* encoded path as sent */
	struct ev_buf query; /* encoded query as sent, no '?' */
	struct ev_buf body;
	const void *body_ptr;
	size_t body_len;
	char host[300];
	char target[160];
	const char *content_type;
	bool s3;
	struct tap *tap; /* the call streams its body (call->sink) */
};

/* Sits between the transport and the caller's sink: hashes what streams
 * through, so the record of the call has the body's digest as for a
 * buffered one. */
struct tap {
	const struct ev_http_sink *user;
	struct ev_http_sink sink; /* what the transport is given */
	struct ev_sha256_stream sha;
	enum ev_err sha_err;
};

static void tap_reset(void *arg)
{
	struct tap *t = arg;
	ev_sha256_stream_cleanup(&t->sha);
	t->sha_err = ev_sha256_stream_begin(&t->sha);
	if (t->user->reset)
		t->user->reset(t->user->arg);
}

static enum ev_err tap_write(void *arg, const void *data, size_t len)
{
	struct tap *t = arg;
	if (t->sha_err != EV_OK)
		return t->sha_err;
	EV_TRY(ev_sha256_stream_update(&t->sha, data, len));
	return t->user->write(t->user->arg, data, len);
}

static void wire_cleanup(struct wire *w)
{
	ev_buf_cleanup(&w->url);
	ev_buf_cleanup(&w->path);
	ev_buf_cleanup(&w->query);
	ev_buf_cleanup(&w->body);
}

/* Appends "&"-joined members to a form body or query string that may
 * already hold some. */
static enum ev_err append_params(struct ev_buf *out,
				 const struct ev_uri_param *params, size_t n)
{
	if (n == 0)
		return EV_OK;
	if (out->len)
		EV_TRY(ev_buf_append_char(out, '&'));
	return ev_uri_form_encode(params, n, out);
}

static bool s3_virtual_host_ok(const char *bucket)
{
	/* botocore falls back to path style where the bucket name cannot be
	 * a DNS label under the TLS wildcard (dots, upper case). */
	for (const char *p = bucket; *p; p++)
		if (*p == '.' || (*p >= 'A' && *p <= 'Z') || *p == '_')
			return false;
	return *bucket != '\0';
}

static enum ev_err build_wire(struct ev_aws *aws, const struct ev_aws_call *c,
			      struct wire *w, struct ev_error *err)
{
	w->svc = ev_service_info(c->service);
	EV_TRY(ev_endpoint_resolve(c->service, c->region, &aws->endpoints,
				   &w->ep, err));
	ev_buf_init(&w->url, EV_LIMIT_URL);
	ev_buf_init(&w->path, EV_LIMIT_URL);
	ev_buf_init(&w->query, EV_LIMIT_URL);
	if (c->sensitive_request)
		ev_buf_init_secret(&w->body, EV_LIMIT_HTTP_BODY);
	else
		ev_buf_init(&w->body, EV_LIMIT_HTTP_BODY);
	snprintf(w->host, sizeof(w->host), "%s", w->ep.host);

	enum ev_err rc = EV_OK;
	switch (w->svc->protocol) {
	case EV_PROTO_QUERY:
	case EV_PROTO_EC2: {
		w->method = "POST";
		w->content_type = FORM_CONTENT_TYPE;
		const struct ev_uri_param head[2] = {
		    {"Action", c->action},
		    {"Version", w->svc->api_version},
		};
		rc = append_params(&w->body, head, 2);
		if (rc == EV_OK)
			rc = append_params(&w->body, c->params, c->n_params);
		if (rc == EV_OK)
			rc = ev_buf_append_char(&w->path, '/');
		w->body_ptr = w->body.data;
		w->body_len = w->body.len;
		break;
	}
	case EV_PROTO_JSON: {
		w->method = "POST";
		w->content_type = JSON_CONTENT_TYPE;
		snprintf(w->target, sizeof(w->target), "%s.%s",
			 w->svc->target_prefix, c->action);
		if (c->json) {
			char *text = json_dumps(c->json, JSON_COMPACT);
			rc = text ? ev_buf_append_str(&w->body, text)
				  : EV_E_NOMEM;
			free(text);
		} else {
			rc = ev_buf_append_str(&w->body, "{}");
		}
		if (rc == EV_OK)
			rc = ev_buf_append_char(&w->path, '/');
		w->body_ptr = w->body.data;
		w->body_len = w->body.len;
		break;
	}
	case EV_PROTO_REST_JSON:
	case EV_PROTO_REST_XML: {
		w->method = c->method ? c->method : "GET";
		w->s3 = c->service == EV_SVC_S3;
		if (w->s3 && c->bucket) {
			if (w->ep.overridden ||
			    !s3_virtual_host_ok(c->bucket)) {
				rc = ev_buf_append_char(&w->path, '/');
				if (rc == EV_OK)
					rc = ev_uri_encode(c->bucket,
							   strlen(c->bucket),
							   true, &w->path);
			} else {
				snprintf(w->host, sizeof(w->host), "%s.%s",
					 c->bucket, w->ep.host);
			}
		}
		if (rc == EV_OK)
			rc = ev_buf_append_str(
			    &w->path, c->path && *c->path ? c->path : "/");
		if (rc == EV_OK)
			rc = append_params(&w->query, c->params, c->n_params);
		w->body_ptr = c->body;
		w->body_len = c->body_len;
		break;
	}
	default:
		rc = EV_E_INTERNAL;
		break;
	}
	if (rc != EV_OK)
		return ev_error_set(err, rc, "building %s %s request: %s",
				    w->svc->name, c->action, ev_err_name(rc));

	/* The URL: the endpoint's scheme and authority, then our path. For a
	 * virtual-hosted bucket the authority changes too. */
	if (strcmp(w->host, w->ep.host) != 0) {
		const char *scheme_end = strstr(w->ep.url, "://");
		rc = ev_buf_printf(&w->url, "%.*s://%s",
				   scheme_end ? (int)(scheme_end - w->ep.url)
					      : 5,
				   w->ep.url, w->host);
	} else {
		rc = ev_buf_append_str(&w->url, w->ep.url);
	}
	if (rc == EV_OK)
		rc = ev_buf_append(&w->url, w->path.data, w->path.len);
	if (rc == EV_OK && w->query.len) {
		rc = ev_buf_append_char(&w->url, '?');
		if (rc == EV_OK)
			rc =
			    ev_buf_append(&w->url, w->query.data, w->query.len);
	}
	if (rc != EV_OK)
		return ev_error_set(err, rc, "%s %s: request URL too long",
				    w->svc->name, c->action);
	return EV_OK;
}

/* ---- one attempt -------------------------------------------------------- */

static bool is_xml_protocol(enum ev_protocol p)
{
	return p == EV_PROTO_QUERY || p == EV_PROTO_EC2 ||
	       p == EV_PROTO_REST_XML;
}

static enum ev_err parse_body(const struct wire *w, struct ev_aws_response *r,
			      struct ev_error *err)
{
	const struct ev_buf *b = &r->http.body;
	if (b->len == 0)
		return EV_OK;
	if (is_xml_protocol(w->svc->protocol))
		return ev_xml_parse(b->data, b->len, &r->xml, err);
	json_error_t je;
	r->json = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, &je);
	if (!r->json)
		return ev_error_set(err, EV_E_MALFORMED,
				    "response is not JSON (line %d column %d)",
				    je.line, je.column);
	return EV_OK;
}

static void note_request_id(struct ev_aws_response *r)
{
	static const char *const headers[] = {"x-amzn-requestid",
					      "x-amz-request-id"};
	for (size_t i = 0; i < 2 && !r->request_id[0]; i++) {
		const char *v = ev_http_response_header(&r->http, headers[i]);
		if (v)
			ev_error_copy_field(
			    r->request_id, sizeof(r->request_id), v, strlen(v));
	}
}

/* Turns a received answer into EV_OK or a typed error with the AWS code,
 * message and request ID. */
static enum ev_err interpret(const struct ev_aws_call *c, const struct wire *w,
			     struct ev_aws_response *r, struct ev_error *err)
{
	note_request_id(r);
	ev_sha256_hex(r->http.body.data ? r->http.body.data : "",
		      r->http.body.len, r->body_sha256);
	const char *date = ev_http_response_header(&r->http, "date");
	if (!date || ev_time_parse_http(date, &r->server_date) != EV_OK)
		r->server_date = 0;

	if (w->tap && r->http.status >= 200 && r->http.status < 300) {
		unsigned char d[EV_SHA256_LEN];
		enum ev_err src = w->tap->sha_err;
		if (src == EV_OK)
			src = ev_sha256_stream_end(&w->tap->sha, d);
		if (src != EV_OK)
			return ev_error_set(err, src, "%s %s: hashing the body",
					    w->svc->name, c->action);
		ev_hex_encode(d, sizeof(d), r->body_sha256);
		return EV_OK;
	}

	struct ev_error perr;
	ev_error_clear(&perr);
	enum ev_err prc = parse_body(w, r, &perr);

	if (r->xml && !r->request_id[0]) {
		const struct ev_xml_node *root = ev_xml_root(r->xml);
		const char *rid =
		    ev_xml_path_text(root, "ResponseMetadata/RequestId");
		if (!rid)
			rid = ev_xml_path_text(root, "requestId");
		if (!rid)
			rid = ev_xml_path_text(root, "RequestId");
		if (rid)
			ev_error_copy_field(r->request_id,
					    sizeof(r->request_id), rid,
					    strlen(rid));
	}

	if (r->http_status >= 200 && r->http_status < 300) {
		if (prc != EV_OK) {
			ev_error_set(err, prc, "%s %s: malformed response: %s",
				     w->svc->name, c->action, perr.message);
			err->http_status = (int)r->http_status;
			ev_error_copy_field(
			    err->request_id, sizeof(err->request_id),
			    r->request_id, strlen(r->request_id));
			return prc;
		}
		return EV_OK;
	}

	struct ev_aws_error_info info;
	memset(&info, 0, sizeof(info));
	memcpy(info.request_id, r->request_id, sizeof(info.request_id));
	ev_aws_error_parse(
	    r->xml, r->json,
	    ev_http_response_header(&r->http, "x-amzn-errortype"),
	    r->http_status, &info);
	memcpy(r->request_id, info.request_id, sizeof(r->request_id));
	const char *code = info.code, *message = info.message;

	enum ev_err e = ev_aws_error_class(code, message, r->http_status);
	ev_error_set(err, e, "%s %s in %s: %s%s%s", w->svc->name, c->action,
		     w->ep.signing_region, code, message[0] ? ": " : "",
		     message);
	err->http_status = (int)r->http_status;
	ev_error_copy_field(err->aws_code, sizeof(err->aws_code), code,
			    strlen(code));
	ev_error_copy_field(err->request_id, sizeof(err->request_id),
			    r->request_id, strlen(r->request_id));
	return e;
}

#define MAX_SEND_HEADERS (EV_SIGV4_MAX_ADDED + 8 + 16)

static enum ev_err attempt(struct ev_aws *aws, const struct ev_aws_call *c,
			   const struct wire *w,
			   const struct ev_credentials *creds, time_t when,
			   struct ev_aws_response *r, struct ev_error *err)
{
	struct ev_sigv4_header sh[MAX_SEND_HEADERS];
	size_t n = 0;
	sh[n++] = (struct ev_sigv4_header){"Host", w->host};
	if (w->content_type)
		sh[n++] =
		    (struct ev_sigv4_header){"Content-Type", w->content_type};
	if (w->target[0])
		sh[n++] = (struct ev_sigv4_header){"X-Amz-Target", w->target};
	EV_ENSURE_E(err, c->n_headers <= 16, EV_E_INVALID,
		    "too many extra headers");
	for (size_t i = 0; i < c->n_headers; i++)
		sh[n++] = (struct ev_sigv4_header){c->headers[i].name,
						   c->headers[i].value};

	struct ev_sigv4_result sig;
	ev_sigv4_result_init(&sig);
	enum ev_err rc = EV_OK;
	if (!c->unsigned_request) {
		EV_ENSURE_E(err,
			    creds && creds->access_key_id &&
				creds->secret_access_key,
			    EV_E_NO_CREDENTIALS, "no credentials to sign with");
		struct ev_sigv4_request sreq = {
		    .method = w->method,
		    .path = w->path.data,
		    .query = w->query.data,
		    .headers = sh,
		    .n_headers = n,
		    .body = w->body_ptr,
		    .body_len = w->body_len,
		};
		struct ev_sigv4_params sp = {
		    .region = w->ep.signing_region,
		    .service = w->svc->signing_name,
		    .time = when,
		    .s3_paths = w->s3,
		    .content_sha256_header = w->s3,
		};
		struct ev_sigv4_credentials sc = {
		    .access_key_id = creds->access_key_id,
		    .secret_access_key = creds->secret_access_key,
		    .session_token = creds->session_token,
		};
		rc = ev_sigv4_sign(&sreq, &sp, &sc, &aws->sigcache, &sig, err);
		if (rc != EV_OK) {
			ev_sigv4_result_cleanup(&sig);
			return rc;
		}
		for (size_t i = 0; i < sig.n_added; i++)
			sh[n++] = sig.added[i];
	}

	/* The signer's header views and ours have the same layout. */
	struct ev_http_header hh[MAX_SEND_HEADERS];
	for (size_t i = 0; i < n; i++)
		hh[i] = (struct ev_http_header){sh[i].name, sh[i].value};
	struct ev_http_request hreq = {
	    .method = w->method,
	    .url = w->url.data,
	    .headers = hh,
	    .n_headers = n,
	    .body = w->body_ptr,
	    .body_len = w->body_len,
	    .sink = w->tap ? &w->tap->sink : NULL,
	};
	if (w->tap)
		tap_reset(w->tap);
	rc = ev_http_perform(aws->http, &hreq, &r->http, err);
	ev_sigv4_result_cleanup(&sig);
	if (rc != EV_OK)
		return rc;
	r->http_status = r->http.status;
	return interpret(c, w, r, err);
}

static long retry_after_ms(const struct ev_aws_response *r)
{
	const char *v = ev_http_response_header(&r->http, "retry-after");
	if (!v)
		return 0;
	char *end = NULL;
	long s = strtol(v, &end, 10);
	if (end == v || *end != '\0' || s < 0 || s > 3600)
		return 0;
	return s * 1000;
}

static void trace_call(const struct ev_aws *aws, const struct ev_aws_call *c,
		       const struct wire *w, const struct ev_aws_response *r,
		       const struct ev_error *err, enum ev_err rc)
{
	if (ev_log_enabled(EV_LOG_DEBUG))
		ev_log_debug(
		    "aws %s %s region=%s status=%ld request-id=%s "
		    "attempts=%d latency=%.0fms%s%s",
		    w->svc->name, c->action, w->ep.signing_region,
		    r->http_status, r->request_id[0] ? r->request_id : "-",
		    r->attempts, r->seconds * 1000.0,
		    rc == EV_OK ? "" : " error=",
		    rc == EV_OK
			? ""
			: (err->aws_code[0] ? err->aws_code : ev_err_name(rc)));
	if (aws->on_call) {
		struct ev_aws_call_record rec = {
		    .call = c,
		    .signing_region = w->ep.signing_region,
		    .http_status = r->http_status,
		    .request_id = r->request_id,
		    .body_sha256 = r->body_sha256,
		    .error_code = rc == EV_OK
				      ? ""
				      : (err->aws_code[0] ? err->aws_code
							  : ev_err_name(rc)),
		    .seconds = r->seconds,
		    .attempts = r->attempts,
		    .time = aws->now(aws->seam_ctx),
		};
		aws->on_call(aws->on_call_ctx, &rec);
	}
}

/* Learns the server's clock from its Date header; true when the offset
 * changed enough to be worth a retry. */
static bool learn_skew(struct ev_aws *aws, const struct ev_aws_response *r,
		       time_t local_now)
{
	if (!r->server_date)
		return false;
	long skew = (long)(r->server_date - local_now);
	pthread_mutex_lock(&aws->lock);
	long old = aws->clock_offset;
	bool changed = labs(skew) >= SKEW_THRESHOLD_S &&
		       labs(skew - old) >= SKEW_THRESHOLD_S / 5;
	if (changed)
		aws->clock_offset = skew;
	pthread_mutex_unlock(&aws->lock);
	if (changed)
		ev_log_warn("local clock is %lds off the AWS clock; "
			    "signing with the corrected time",
			    skew);
	return changed;
}

enum ev_err ev_aws_call(struct ev_aws *aws, const struct ev_aws_call *c,
			const struct ev_credentials *creds,
			struct ev_aws_response *out, struct ev_error *err)
{
	struct wire w;
	memset(&w, 0, sizeof(w));
	ev_error_clear(err);
	double started = monotonic_seconds();
	/* Growth and cleanup of a secret buffer wipe: AssumeRole answers
	 * carry keys. */
	if (c->sensitive_response)
		out->http.body.secret = true;
	struct tap tap = {.user = c->sink, .sha_err = EV_OK};
	tap.sink = (struct ev_http_sink){
	    .reset = tap_reset,
	    .write = tap_write,
	    .arg = &tap,
	    .limit = c->sink ? c->sink->limit : 0,
	};
	enum ev_err rc = build_wire(aws, c, &w, err);
	w.tap = c->sink ? &tap : NULL;
	if (rc != EV_OK)
		goto out;
	snprintf(out->signing_region, sizeof(out->signing_region), "%s",
		 w.ep.signing_region);

	int max_attempts = ev_retry_max_attempts(&aws->retry);
	int last_cost = 0;
	bool skew_retried = false, region_retried = false;
	struct ev_aws_call moved;
	for (int n = 1;; n++) {
		response_forget(out);
		ev_http_response_reset(&out->http);
		ev_error_clear(err);
		out->attempts = n;
		/* Throttled keys are paced before they are sent; a retry is
		 * spaced by its backoff already. */
		char pace_key[160];
		snprintf(pace_key, sizeof(pace_key), "%s|%s|%s",
			 creds && creds->access_key_id ? creds->access_key_id
						       : "-",
			 w.svc->signing_name, w.ep.signing_region);
		long pace = n == 1
				? ev_ratelimit_acquire(aws->ratelimit, pace_key,
						       monotonic_seconds())
				: 0;
		if (pace > 0)
			aws->sleep_ms(aws->seam_ctx, pace);
		time_t local_now = aws->now(aws->seam_ctx);
		rc = attempt(aws, c, &w, creds,
			     local_now + ev_aws_clock_offset(aws), out, err);
		ev_ratelimit_feedback(aws->ratelimit, pace_key,
				      rc == EV_E_THROTTLED,
				      monotonic_seconds());
		if (rc == EV_OK) {
			ev_retry_quota_success(&aws->quota, last_cost);
			break;
		}
		/* A skew answer is retried once, outside the retry quota,
		 * as the SDKs do. */
		if (!skew_retried && out->http_status && err->aws_code[0] &&
		    ev_aws_error_is_skew(err->aws_code) &&
		    learn_skew(aws, out, local_now)) {
			skew_retried = true;
			n--;
			continue;
		}
		/* S3 names the bucket's region when it was signed for another
		 * (301 PermanentRedirect, 400 AuthorizationHeaderMalformed):
		 * follow it once, as the SDKs do. */
		const char *bucket_region =
		    w.s3 ? ev_http_response_header(&out->http,
						   "x-amz-bucket-region")
			 : NULL;
		if (!region_retried && bucket_region &&
		    strcmp(bucket_region, w.ep.signing_region) != 0 &&
		    strlen(bucket_region) < sizeof(out->signing_region)) {
			region_retried = true;
			moved = *c;
			snprintf(out->signing_region,
				 sizeof(out->signing_region), "%s",
				 bucket_region);
			moved.region = out->signing_region;
			c = &moved;
			wire_cleanup(&w);
			memset(&w, 0, sizeof(w));
			rc = build_wire(aws, c, &w, err);
			w.tap = c->sink ? &tap : NULL;
			if (rc != EV_OK)
				break;
			n--;
			continue;
		}
		enum ev_retry_class cls =
		    out->http_status
			? ev_retry_classify(EV_OK, out->http_status,
					    err->aws_code)
			: ev_retry_classify_transport(rc, out->http.timed_out);
		if (cls == EV_RETRY_NO || n >= max_attempts)
			break;
		int cost = 0;
		if (!ev_retry_quota_acquire(&aws->quota, cls, &cost)) {
			ev_error_prefix(err, "retry quota exhausted: ");
			break;
		}
		last_cost = cost;
		long delay = ev_retry_delay_ms(
		    cls, n, aws->random01(aws->seam_ctx), retry_after_ms(out));
		ev_log(EV_LOG_TRACE, "aws %s %s: %s, retry %d in %ld ms",
		       w.svc->name, c->action, ev_err_name(rc), n, delay);
		aws->sleep_ms(aws->seam_ctx, delay);
	}
	out->seconds = monotonic_seconds() - started;
	trace_call(aws, c, &w, out, err, rc);
out:
	wire_cleanup(&w);
	ev_sha256_stream_cleanup(&tap.sha);
	if (c->sensitive_response && rc != EV_OK)
		ev_buf_cleanup(&out->http.body);
	return rc;
}

/* ---- pagination --------------------------------------------------------- */

enum token_where {
	TOKEN_JSON,	  /* top-level JSON member */
	TOKEN_XML_RESULT, /* child of <ActionResult> (query) or root (ec2) */
	TOKEN_QUERY,	  /* rest: query string parameter */
};

struct pager {
	enum ev_service service;
	const char *action;
	const char *request_name;
	const char *response_name;
	const char *truncated_flag; /* IAM: only more while this is true */
	enum token_where where;
};

/* aws-api.md §9 and §12. */
static const struct pager pagers[] = {
    {EV_SVC_ORGANIZATIONS, "ListAccounts", "NextToken", "NextToken", NULL,
     TOKEN_JSON},
    {EV_SVC_IAM, "ListUsers", "Marker", "Marker", "IsTruncated",
     TOKEN_XML_RESULT},
    {EV_SVC_IAM, "ListAccessKeys", "Marker", "Marker", "IsTruncated",
     TOKEN_XML_RESULT},
    {EV_SVC_IAM, "ListMFADevices", "Marker", "Marker", "IsTruncated",
     TOKEN_XML_RESULT},
    {EV_SVC_IAM, "ListVirtualMFADevices", "Marker", "Marker", "IsTruncated",
     TOKEN_XML_RESULT},
    {EV_SVC_IAM, "ListSigningCertificates", "Marker", "Marker", "IsTruncated",
     TOKEN_XML_RESULT},
    {EV_SVC_IAM, "GetAccountAuthorizationDetails", "Marker", "Marker",
     "IsTruncated", TOKEN_XML_RESULT},
    {EV_SVC_CONFIG, "DescribeConfigRules", "NextToken", "NextToken", NULL,
     TOKEN_JSON},
    {EV_SVC_CONFIG, "DescribeComplianceByConfigRule", "NextToken", "NextToken",
     NULL, TOKEN_JSON},
    {EV_SVC_EC2, "DescribeVpcs", "NextToken", "nextToken", NULL,
     TOKEN_XML_RESULT},
    {EV_SVC_EC2, "DescribeSubnets", "NextToken", "nextToken", NULL,
     TOKEN_XML_RESULT},
    {EV_SVC_EC2, "DescribeInstances", "NextToken", "nextToken", NULL,
     TOKEN_XML_RESULT},
    {EV_SVC_RDS, "DescribeDBInstances", "Marker", "Marker", NULL,
     TOKEN_XML_RESULT},
    {EV_SVC_ELB, "DescribeLoadBalancers", "Marker", "NextMarker", NULL,
     TOKEN_XML_RESULT},
    {EV_SVC_ELBV2, "DescribeLoadBalancers", "Marker", "NextMarker", NULL,
     TOKEN_XML_RESULT},
    {EV_SVC_LAMBDA, "ListFunctions", "Marker", "NextMarker", NULL, TOKEN_QUERY},
    {EV_SVC_S3, "ListObjectsV2", "continuation-token", "NextContinuationToken",
     "IsTruncated", TOKEN_QUERY},
};

static const struct pager *find_pager(const struct ev_aws_call *c)
{
	for (size_t i = 0; i < sizeof(pagers) / sizeof(pagers[0]); i++)
		if (pagers[i].service == c->service &&
		    strcmp(pagers[i].action, c->action) == 0)
			return &pagers[i];
	return NULL;
}

/* The next token of a page, or NULL when it is the last. Returned string
 * is owned by the caller. */
static char *next_token(const struct pager *pg, const struct ev_aws_call *c,
			const struct ev_aws_response *r)
{
	if (r->json) {
		const char *t = json_string_value(
		    json_object_get(r->json, pg->response_name));
		return t && *t ? ev_strdup(t) : NULL;
	}
	const struct ev_xml_node *res = ev_aws_response_result(r, c->action);
	if (!res)
		return NULL;
	if (pg->truncated_flag) {
		const char *flag = ev_xml_path_text(res, pg->truncated_flag);
		if (!flag || strcmp(flag, "true") != 0)
			return NULL;
	}
	const char *t = ev_xml_path_text(res, pg->response_name);
	return t && *t ? ev_strdup(t) : NULL;
}

#define MAX_PAGER_PARAMS 32

enum ev_err ev_aws_paginate_with(
    enum ev_err (*call_fn)(void *fn_ctx, const struct ev_aws_call *call,
			   struct ev_aws_response *out, struct ev_error *err),
    void *fn_ctx, const struct ev_aws_call *call,
    enum ev_err (*on_page)(void *ctx, const struct ev_aws_response *page,
			   struct ev_error *err),
    void *ctx, struct ev_error *err)
{
	const struct pager *pg = find_pager(call);
	struct ev_aws_response r;
	ev_aws_response_init(&r);
	struct ev_aws_call page = *call;
	struct ev_uri_param params[MAX_PAGER_PARAMS + 1];
	json_t *body = NULL;
	char *token = NULL;
	enum ev_err rc = EV_OK;

	if (call->n_params > MAX_PAGER_PARAMS) {
		rc = ev_error_set(err, EV_E_INVALID, "too many parameters");
		goto out;
	}
	for (size_t pages = 0;; pages++) {
		if (pages >= EV_LIMIT_PAGES) {
			rc = ev_error_set(err, EV_E_LIMIT,
					  "%s %s: more than %d pages",
					  ev_service_info(call->service)->name,
					  call->action, EV_LIMIT_PAGES);
			goto out;
		}
		ev_aws_response_cleanup(&r);
		ev_aws_response_init(&r);
		rc = call_fn(fn_ctx, &page, &r, err);
		if (rc != EV_OK)
			goto out;
		rc = on_page(ctx, &r, err);
		if (rc != EV_OK)
			goto out;
		if (!pg)
			break;
		char *next = next_token(pg, call, &r);
		if (!next)
			break;
		if (token && strcmp(token, next) == 0) {
			free(next);
			rc = ev_error_set(err, EV_E_MALFORMED,
					  "%s %s: pagination token repeated",
					  ev_service_info(call->service)->name,
					  call->action);
			goto out;
		}
		free(token);
		token = next;
		if (pg->where == TOKEN_JSON) {
			json_decref(body);
			body = call->json ? json_deep_copy(call->json)
					  : json_object();
			if (!body || json_object_set_new(body, pg->request_name,
							 json_string(token))) {
				rc = ev_error_set(err, EV_E_NOMEM,
						  "out of memory");
				goto out;
			}
			page.json = body;
		} else {
			if (call->n_params)
				memcpy(params, call->params,
				       call->n_params * sizeof(params[0]));
			params[call->n_params] =
			    (struct ev_uri_param){pg->request_name, token};
			page.params = params;
			page.n_params = call->n_params + 1;
		}
	}
out:
	ev_aws_response_cleanup(&r);
	json_decref(body);
	free(token);
	return rc;
}

struct direct_call {
	struct ev_aws *aws;
	const struct ev_credentials *creds;
};

static enum ev_err direct(void *fn_ctx, const struct ev_aws_call *call,
			  struct ev_aws_response *out, struct ev_error *err)
{
	struct direct_call *d = fn_ctx;
	return ev_aws_call(d->aws, call, d->creds, out, err);
}

enum ev_err ev_aws_paginate(
    struct ev_aws *aws, const struct ev_aws_call *call,
    const struct ev_credentials *creds,
    enum ev_err (*on_page)(void *ctx, const struct ev_aws_response *page,
			   struct ev_error *err),
    void *ctx, struct ev_error *err)
{
	struct direct_call d = {aws, creds};
	return ev_aws_paginate_with(direct, &d, call, on_page, ctx, err);
}
