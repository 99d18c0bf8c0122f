/* Retries as the AWS SDKs' "standard" mode does them (aws-api.md §6):
 * classification of errors, exponential backoff with full jitter, and the
 * retry quota token bucket shared by all threads of a client. Pure but for
 * the quota's mutex; randomness comes from the caller. */
#ifndef EV_RETRY_H
#define EV_RETRY_H

#include <pthread.h>
#include <stdbool.h>

#include "err.h"

enum ev_retry_mode {
	EV_RETRY_STANDARD = 0,
	EV_RETRY_LEGACY,
	EV_RETRY_ADAPTIVE,
};

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
 * HTTP answer came), the HTTP status and the AWS error code ("" if none). */
enum ev_retry_class ev_retry_classify(enum ev_err transport, long http_status,
				      const char *aws_code);

/* Backoff before retry number `attempt` (1 = first retry): full jitter,
 * rand01 in [0,1), base 100 ms (500 ms when throttled), cap 20 s. A
 * server's Retry-After (ms, 0 if none) is honoured as a floor. */
long ev_retry_delay_ms(enum ev_retry_class c, int attempt, double rand01,
		       long retry_after_ms);

/* Max attempts for cfg (with defaults applied). */
int ev_retry_max_attempts(const struct ev_retry_config *cfg);

/* Parses AWS_RETRY_MODE / AWS_MAX_ATTEMPTS style values (either may be
 * NULL). Errors: EV_E_CONFIG. */
enum ev_err ev_retry_config_parse(const char *mode, const char *max_attempts,
				  struct ev_retry_config *out) EV_MUST_CHECK;

#define EV_RETRY_QUOTA_MAX 500
#define EV_RETRY_COST 5
#define EV_RETRY_TIMEOUT_COST 10
#define EV_RETRY_NO_RETRY_REFUND 1

struct ev_retry_quota {
	pthread_mutex_t lock;
	int tokens;
};

void ev_retry_quota_init(struct ev_retry_quota *q);
void ev_retry_quota_cleanup(struct ev_retry_quota *q);
/* Takes the cost of retrying after a failure of class c; false (nothing
 * taken) when the bucket cannot pay: return the error instead. *cost
 * receives what was taken. */
bool ev_retry_quota_acquire(struct ev_retry_quota *q, enum ev_retry_class c,
			    int *cost);
/* After a success: refunds `last_cost` if the call was retried, else
 * EV_RETRY_NO_RETRY_REFUND; never above EV_RETRY_QUOTA_MAX. */
void ev_retry_quota_success(struct ev_retry_quota *q, int last_cost);
int ev_retry_quota_available(struct ev_retry_quota *q);

#endif
