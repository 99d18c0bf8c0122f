/* AWS Signature Version 4 (header signing), pure: request in, headers out.
 *
 * No clock and no I/O: the caller passes the signing time. Derived signing
 * keys are cached in a caller-owned struct ev_sigv4_cache keyed by (date,
 * region, service, access key id); the cache is thread-safe and wipes every
 * key it drops. Secrets given in struct ev_sigv4_credentials are views; the
 * secret key and every key derived from it only ever sit in stack memory
 * wiped before return and in the cache, the session token only in the
 * result's token copy and canonical request, both wiped on cleanup. */
#ifndef EV_SIGV4_H
#define EV_SIGV4_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "digest.h"
#include "err.h"

#define EV_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define EV_SIGV4_CACHE_SLOTS	  16

/* A header as sent: views, never freed by the signer. */
struct ev_sigv4_header {
	const char *name;
	const char *value;
};

struct ev_sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key; /* secret */
	const char *session_token;     /* secret; NULL or "" when none */
};

struct ev_sigv4_request {
	const char *method; /* "GET", "POST", ... as sent (not upper-cased) */
	const char *path;   /* as on the request line, before '?'; starts
			       with '/' ("" or NULL means "/") */
	const char *query;  /* after '?', without it; NULL or "" if none */
	/* Every header to sign, Host included; names are compared without
	 * case, a repeated name is signed as one header whose values are
	 * joined with ',' in the order given. X-Amz-Date, X-Amz-Security-Token
	 * and x-amz-content-sha256 given here are signed as they are and not
	 * added again. */
	const struct ev_sigv4_header *headers;
	size_t n_headers; /* at most EV_LIMIT_SIGV4_HEADERS */
	const void *body; /* hashed when payload_hash is NULL */
	size_t body_len;
	/* hex, or EV_SIGV4_UNSIGNED_PAYLOAD; NULL: the value of an
	 * x-amz-content-sha256 header if the request has one, else the
	 * SHA-256 of body */
	const char *payload_hash;
};

struct ev_sigv4_params {
	const char *region;
	const char *service;
	time_t time;		    /* used unless the request has X-Amz-Date */
	bool s3_paths;		    /* S3: no normalisation, encode once */
	bool no_normalize_path;	    /* keep dot segments and repeated slashes */
	bool content_sha256_header; /* add and sign x-amz-content-sha256
				       (implied by s3_paths) */
	bool unsigned_session_token; /* leave X-Amz-Security-Token out of the
					signature (it is still added) */
};

#define EV_SIGV4_MAX_ADDED 4

/* What signing produced. Owned by the caller: init with
 * ev_sigv4_result_init, release with ev_sigv4_result_cleanup. The added
 * headers are the ones to send in addition to the request's own, in this
 * order: X-Amz-Date (unless the request has it), X-Amz-Security-Token (when
 * the credentials carry a token and the request has none; signed unless
 * unsigned_session_token), x-amz-content-sha256 (when asked or s3_paths,
 * unless the request has it), Authorization. Their values are views into
 * this struct. */
struct ev_sigv4_result {
	struct ev_buf canonical_request;
	struct ev_buf string_to_sign;
	struct ev_buf authorization; /* the Authorization header value */
	char signature[EV_SHA256_HEX_LEN + 1];
	char amz_date[17];
	char payload_hash[EV_SHA256_HEX_LEN + 1]; /* or UNSIGNED-PAYLOAD */
	struct ev_sigv4_header added[EV_SIGV4_MAX_ADDED]; /* views into this */
	size_t n_added;
	char *token_copy; /* secret backing store for the token header */
};

struct ev_sigv4_cache_slot {
	char date[9];
	char region[32];
	char service[32];
	char key_id[129];
	unsigned char key[EV_SHA256_LEN]; /* secret */
	bool used;
	unsigned long long stamp;
};

struct ev_sigv4_cache {
	pthread_mutex_t lock;
	struct ev_sigv4_cache_slot slots[EV_SIGV4_CACHE_SLOTS];
	unsigned long long clock;
	unsigned long long hits, misses;
};

/* Caller storage. A slot is keyed by (date, region, service, access key id):
 * an access key id names exactly one secret. The least recently used slot
 * is wiped and reused when all are taken; a scope whose region, service or
 * key id does not fit a slot is derived every time, never cached. */
void ev_sigv4_cache_init(struct ev_sigv4_cache *c);
/* Wipes every cached key and destroys the lock. Safe on a zeroed struct
 * (glibc's mutex initialiser is all zeros) and idempotent. */
void ev_sigv4_cache_cleanup(struct ev_sigv4_cache *c);

void ev_sigv4_result_init(struct ev_sigv4_result *r);
/* Frees the buffers (wiping the canonical request, which may hold the
 * token) and wipes the token copy and the signature. Safe on a zeroed r and
 * idempotent. */
void ev_sigv4_result_cleanup(struct ev_sigv4_result *r);

/* Signs req with creds (views, never kept: the secret and the derived keys
 * live only in wiped stack memory and in the cache, the token only in
 * r->token_copy). cache may be NULL (no caching). r must have been
 * initialised; what it held is replaced. On failure r holds no partial
 * signature (it is as after ev_sigv4_result_init).
 *
 * Canonical URI: without s3_paths the path is normalised (unless
 * no_normalize_path) and encoded once more, segment by segment, as AWS
 * services other than S3 expect (a '%' already there becomes %25); with
 * s3_paths each segment is decoded and encoded again, so a path encoded
 * once is signed as it is sent.
 *
 * Errors: EV_E_INVALID (no Host; an empty or malformed method, region,
 * service or access key id; a path not starting with '/'; a header name
 * that is not an HTTP token or a value holding a control byte other than
 * tab; an Authorization header; a repeated or malformed X-Amz-Date; a time
 * outside years 1970-9999; a payload hash that is not printable; a token
 * holding a control byte), EV_E_LIMIT (more than EV_LIMIT_SIGV4_HEADERS
 * headers, a path or query longer than EV_LIMIT_URL, a secret or token
 * longer than EV_LIMIT_SECRET), EV_E_NOMEM, EV_E_INTERNAL (OpenSSL
 * failed). The message in err never holds a secret. */
enum ev_err ev_sigv4_sign(const struct ev_sigv4_request *req,
			  const struct ev_sigv4_params *params,
			  const struct ev_sigv4_credentials *creds,
			  struct ev_sigv4_cache *cache,
			  struct ev_sigv4_result *r,
			  struct ev_error *err) EV_MUST_CHECK;

#endif
