/* The aws layer: one call = service, action, parameters, credentials, region
 * -> parsed document or a typed error. Signs (sigv4), sends (http), retries
 * (retry: SDK standard mode), corrects clock skew, parses each protocol's
 * responses and errors, and paginates.
 *
 * Ownership: calls and parameters are caller views. A response is caller
 * storage (ev_aws_response_init / _cleanup) owning its body and parsed
 * document. The client (ev_aws_new / ev_aws_free) copies its options and is
 * thread-safe: workers share one. */
#ifndef EV_AWS_H
#define EV_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "credentials.h"
#include "digest.h"
#include "endpoint.h"
#include "retry.h"
#include "uri.h"
#include "err.h"
#include "http.h"
#include "xml.h"

struct ev_aws_call {
	enum ev_service service;
	const char *action; /* "ListUsers"; rest protocols: for logs only */
	const char *region; /* working region; global services ignore it */
	/* query/ec2: form members after Action and Version; rest: query
	 * string. In order given (the signer sorts what it must). */
	const struct ev_uri_param *params;
	size_t n_params;
	const json_t *json; /* json 1.1 body; NULL sends {} */
	/* rest-json / rest-xml only: */
	const char *method; /* NULL: GET */
	const char
	    *path; /* already percent-encoded, e.g. "/2015-03-31/functions" */
	const char *bucket; /* S3: addressed per aws-api.md §2 */
	const struct ev_http_header *headers; /* extra headers, signed */
	size_t n_headers;
	const void *body;
	size_t body_len;
	/* rest protocols: a 2xx body goes to the sink as it arrives instead
	 * of the response's buffer (reset before each attempt); the
	 * response's body_sha256 and http.streamed then describe what was
	 * streamed. NULL: buffered. */
	const struct ev_http_sink *sink;
	bool
	    unsigned_request; /* no Authorization (AssumeRoleWithWebIdentity) */
	bool sensitive_request;	 /* parameters hold a secret (a web identity
				    token): the request body is wiped */
	bool sensitive_response; /* body holds secrets: never logged or kept */
};

struct ev_aws_response {
	long http_status;
	char request_id[EV_ERROR_RID_MAX];
	char signing_region[32]; /* where the call was signed for */
	char body_sha256[EV_SHA256_HEX_LEN + 1];
	struct ev_http_response http; /* raw body and headers */
	struct ev_xml_doc *xml;	      /* query, ec2, rest-xml with a body */
	json_t *json;		      /* json 1.1, rest-json */
	time_t server_date;	      /* from Date, 0 if absent */
	double seconds;		      /* wall time of all attempts */
	int attempts;
};

void ev_aws_response_init(struct ev_aws_response *r);
/* Wipes the body first when the call was sensitive. Safe on zeroed r. */
void ev_aws_response_cleanup(struct ev_aws_response *r);

/* The result document's element for query protocols
 * (<ActionResponse><ActionResult>), the root for ec2/rest-xml; NULL when the
 * response has no XML. */
const struct ev_xml_node *
ev_aws_response_result(const struct ev_aws_response *r, const char *action);

/* What the client records for each call, for request tracing and evidence.
 * All views valid only during the callback. */
struct ev_aws_call_record {
	const struct ev_aws_call *call;
	const char *signing_region;
	long http_status;
	const char *request_id;
	const char *body_sha256;
	const char *error_code; /* AWS code, "" on success */
	double seconds;
	int attempts;
	time_t time;
};

struct ev_aws_options {
	struct ev_http *http;  /* NULL: a curl transport is made */
	const char *ca_bundle; /* for a transport the client makes */
	struct ev_endpoint_overrides endpoints; /* copied */
	struct ev_retry_config retry;		/* zeroed: standard, 3 */
	long timeout_ms;	 /* per attempt, for a transport the client
				    makes; 0: the transport's default */
	long connect_timeout_ms; /* same */
	/* Test seams; NULL: time(), random, nanosleep. */
	time_t (*now)(void *ctx);
	double (*random01)(void *ctx);
	void (*sleep_ms)(void *ctx, long ms);
	void *seam_ctx;
	void (*on_call)(void *ctx, const struct ev_aws_call_record *rec);
	void *on_call_ctx;
};

/* Fills opts from the loaded configuration (which already holds the
 * environment's AWS_ENDPOINT_URL, AWS_CA_BUNDLE, AWS_RETRY_MODE,
 * AWS_MAX_ATTEMPTS and AWS_STS_REGIONAL_ENDPOINTS) and the per-service
 * AWS_ENDPOINT_URL_<ID> variables. Views into cfg and the environment:
 * use them before either changes. Errors: EV_E_CONFIG naming a malformed
 * per-service URL. */
enum ev_err ev_aws_options_from_config(const struct ev_config *cfg,
				       struct ev_aws_options *opts,
				       struct ev_error *err) EV_MUST_CHECK;

struct ev_aws *ev_aws_new(const struct ev_aws_options *opts,
			  struct ev_error *err);
void ev_aws_free(struct ev_aws *aws);

/* One call. A non-2xx answer becomes a typed error with the AWS code,
 * message (bounded, sanitised) and request ID in err; the response still
 * holds what came back. Errors: every enum ev_err network/service class. */
enum ev_err ev_aws_call(struct ev_aws *aws, const struct ev_aws_call *call,
			const struct ev_credentials *creds,
			struct ev_aws_response *out,
			struct ev_error *err) EV_MUST_CHECK;

/* Paginates call with the token names of aws-api.md §9, calling on_page for
 * each page (the response is valid during the callback). Stops at the
 * first error (from AWS or from on_page), at a repeated token, or after
 * EV_LIMIT_PAGES pages (EV_E_LIMIT). */
enum ev_err ev_aws_paginate(
    struct ev_aws *aws, const struct ev_aws_call *call,
    const struct ev_credentials *creds,
    enum ev_err (*on_page)(void *ctx, const struct ev_aws_response *page,
			   struct ev_error *err),
    void *ctx, struct ev_error *err) EV_MUST_CHECK;

/* The pagination loop of ev_aws_paginate over any call function (the
 * probes' door, a test's): `call_fn` makes one call into `out`. */
enum ev_err ev_aws_paginate_with(
    enum ev_err (*call_fn)(void *fn_ctx, const struct ev_aws_call *call,
			   struct ev_aws_response *out, struct ev_error *err),
    void *fn_ctx, const struct ev_aws_call *call,
    enum ev_err (*on_page)(void *ctx, const struct ev_aws_response *page,
			   struct ev_error *err),
    void *ctx, struct ev_error *err) EV_MUST_CHECK;

/* The process-wide clock offset learnt from server Date headers (seconds). */
long ev_aws_clock_offset(const struct ev_aws *aws);

#endif
