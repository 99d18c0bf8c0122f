/* Retries as the AWS SDKs' "standard" mode does them (aws-api.md §6):
 * classification of errors, exponential backoff with full jitter, and the
 * retry quota token bucket shared by all threads of a client. Pure but for
 * the quota's mutex; randomness comes from the caller. */
#ifndef EV_RETRY_H
#define EV_RETRY_H

#include <pthread.h>
#include <stdbool.h>

#include "err.h"

/* ADAPTIVE retries exactly as STANDARD does here; the SDKs add a
 * client-side rate limiter that slows sending after throttling, which the
 * aws layer is to add on top. Until then choosing it only changes the
 * mode's name. LEGACY differs from STANDARD only in its default of 5
 * attempts (botocore's default mode); classification, backoff and quota
 * stay those of STANDARD. */
enum ev_retry_mode {
	EV_RETRY_STANDARD = 0,
	EV_RETRY_LEGACY,
	EV_RETRY_ADAPTIVE,
};

#define EV_RETRY_ATTEMPTS_MAX	  20   /* AWS_MAX_ATTEMPTS accepted 1..20 */
#define EV_RETRY_BASE_MS	  100L /* transient and timeout backoff base */
#define EV_RETRY_THROTTLE_BASE_MS 500L /* throttling backoff base */
#define EV_RETRY_MAX_BACKOFF_MS	  20000L /* cap of one delay */

struct ev_retry_config {
	enum ev_retry_mode mode;
	int max_attempts; /* 0: the mode's default (standard 3, legacy 5) */
};

enum ev_retry_class {
	EV_RETRY_NO = 0,
	EV_RETRY_TRANSIENT, /* 5xx, connection errors, RequestTimeout... */
	EV_RETRY_TIMEOUT,   /* a transport timeout: costs more quota */
	EV_RETRY_THROTTLE,  /* Throttling, RequestLimitExceeded, SlowDown... */
};

/* Classifies one failed attempt from the transport result (EV_OK when an
 * HTTP answer came), the HTTP status and the AWS error code ("" or NULL if
 * none). Throttling codes win over transient statuses (EC2's
 * RequestLimitExceeded and S3's SlowDown come with 503); HTTP 429 counts as
 * throttling whatever its code, as in the JS v3 and Java v2 SDKs. A
 * transport failure is EV_RETRY_TRANSIENT when it is EV_E_NETWORK and not
 * retried otherwise (limits, configuration, memory). */
enum ev_retry_class ev_retry_classify(enum ev_err transport, long http_status,
				      const char *aws_code);

/* A transport failure for which the caller knows whether it was a timeout
 * (connect or read): EV_RETRY_TIMEOUT if so and transport is EV_E_NETWORK,
 * else as ev_retry_classify. */
enum ev_retry_class ev_retry_classify_transport(enum ev_err transport,
						bool timed_out);

/* Backoff before retry number `attempt` (1 = first retry): full jitter,
 * rand01 in [0,1) (clamped), base 100 ms (500 ms when throttled), cap 20 s:
 * rand01 * min(base * 2^(attempt-1), cap). A server's Retry-After (ms, 0 if
 * none) is honoured as a floor, itself bounded by the cap since it comes
 * from the network. 0 for EV_RETRY_NO. */
long ev_retry_delay_ms(enum ev_retry_class c, int attempt, double rand01,
		       long retry_after_ms);

/* Max attempts for cfg (with defaults applied). */
int ev_retry_max_attempts(const struct ev_retry_config *cfg);

/* Parses AWS_RETRY_MODE / AWS_MAX_ATTEMPTS style values (either may be
 * NULL or "": the default). out is written only on success. Errors:
 * EV_E_CONFIG; callers name the variable in their message. */
enum ev_err ev_retry_config_parse(const char *mode, const char *max_attempts,
				  struct ev_retry_config *out) EV_MUST_CHECK;
/* "standard", "legacy" or "adaptive". Errors: EV_E_CONFIG. */
enum ev_err ev_retry_mode_parse(const char *s,
				enum ev_retry_mode *out) EV_MUST_CHECK;
/* The mode's name as parsed (a static string); "?" for no mode. */
const char *ev_retry_mode_name(enum ev_retry_mode mode);
/* A decimal count 1..EV_RETRY_ATTEMPTS_MAX. Errors: EV_E_CONFIG. */
enum ev_err ev_retry_max_attempts_parse(const char *s, int *out) EV_MUST_CHECK;

#define EV_RETRY_QUOTA_MAX	 500
#define EV_RETRY_COST		 5
#define EV_RETRY_TIMEOUT_COST	 10
#define EV_RETRY_NO_RETRY_REFUND 1

/* One per client, shared by its workers; the mutex guards tokens, which
 * stays within 0..EV_RETRY_QUOTA_MAX. */
struct ev_retry_quota {
	pthread_mutex_t lock;
	int tokens;
};

/* Full bucket. Caller storage; cleanup destroys the mutex. */
void ev_retry_quota_init(struct ev_retry_quota *q);
void ev_retry_quota_cleanup(struct ev_retry_quota *q);
/* Takes the cost of retrying after a failure of class c (10 for a
 * timeout, else 5); false (nothing taken, *cost 0) when the bucket cannot
 * pay or c is EV_RETRY_NO: return the error instead. *cost receives what
 * was taken; keep the last one for ev_retry_quota_success. */
bool ev_retry_quota_acquire(struct ev_retry_quota *q, enum ev_retry_class c,
			    int *cost);
/* After a success: refunds `last_cost` if the call was retried (last_cost
 * > 0), else EV_RETRY_NO_RETRY_REFUND; never above EV_RETRY_QUOTA_MAX. */
void ev_retry_quota_success(struct ev_retry_quota *q, int last_cost);
int ev_retry_quota_available(struct ev_retry_quota *q);

#endif
