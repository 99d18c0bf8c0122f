#include "retry.h"

#include <string.h>

/* botocore retries/standard.py, plus the transient codes aws-api.md §5
 * lists for the services evident calls. */
/* clang-format off */
static const char *const transient_codes[] = {
	"RequestTimeout",        "RequestTimeoutException",
	"PriorRequestNotComplete", "InternalError",
	"ServiceUnavailable",    "IDPCommunicationError",
};
/* clang-format on */

static const char *const throttle_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

static const char *const mode_names[] = {
    [EV_RETRY_STANDARD] = "standard",
    [EV_RETRY_LEGACY] = "legacy",
    [EV_RETRY_ADAPTIVE] = "adaptive",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool in_list(const char *code, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(code, list[i]) == 0)
			return true;
	return false;
}

enum ev_retry_class ev_retry_classify_transport(enum ev_err transport,
						bool timed_out)
{
	if (transport != EV_E_NETWORK)
		return EV_RETRY_NO;
	return timed_out ? EV_RETRY_TIMEOUT : EV_RETRY_TRANSIENT;
}

enum ev_retry_class ev_retry_classify(enum ev_err transport, long http_status,
				      const char *aws_code)
{
	if (transport != EV_OK)
		return ev_retry_classify_transport(transport, false);
	if (http_status >= 200 && http_status < 300)
		return EV_RETRY_NO;
	const char *code = aws_code ? aws_code : "";
	/* PriorRequestNotComplete is in both botocore lists; throttling is
	 * checked first so it gets the longer throttling backoff. */
	if (in_list(code, throttle_codes, COUNT(throttle_codes)) ||
	    http_status == 429)
		return EV_RETRY_THROTTLE;
	if (in_list(code, transient_codes, COUNT(transient_codes)))
		return EV_RETRY_TRANSIENT;
	switch (http_status) {
	case 500:
	case 502:
	case 503:
	case 504:
		return EV_RETRY_TRANSIENT;
	default:
		return EV_RETRY_NO;
	}
}

long ev_retry_delay_ms(enum ev_retry_class c, int attempt, double rand01,
		       long retry_after_ms)
{
	long base;
	switch (c) {
	case EV_RETRY_THROTTLE:
		base = EV_RETRY_THROTTLE_BASE_MS;
		break;
	case EV_RETRY_TRANSIENT:
	case EV_RETRY_TIMEOUT:
		base = EV_RETRY_BASE_MS;
		break;
	case EV_RETRY_NO:
	default:
		return 0;
	}
	/* Doubling stops at the cap, so large attempt numbers cannot
	 * overflow. */
	long ceiling = base;
	for (int i = 1; i < attempt && ceiling < EV_RETRY_MAX_BACKOFF_MS; i++)
		ceiling *= 2;
	if (ceiling > EV_RETRY_MAX_BACKOFF_MS)
		ceiling = EV_RETRY_MAX_BACKOFF_MS;
	/* NaN fails both comparisons: it lands on 0 through the first. */
	if (!(rand01 >= 0.0))
		rand01 = 0.0;
	if (rand01 >= 1.0)
		rand01 = 0.999999;
	long delay = (long)(rand01 * (double)ceiling);
	if (retry_after_ms > EV_RETRY_MAX_BACKOFF_MS)
		retry_after_ms = EV_RETRY_MAX_BACKOFF_MS;
	if (delay < retry_after_ms)
		delay = retry_after_ms;
	return delay;
}

int ev_retry_max_attempts(const struct ev_retry_config *cfg)
{
	if (cfg && cfg->max_attempts > 0)
		return cfg->max_attempts;
	if (cfg && cfg->mode == EV_RETRY_LEGACY)
		return 5;
	return 3;
}

enum ev_err ev_retry_mode_parse(const char *s, enum ev_retry_mode *out)
{
	for (size_t i = 0; s && i < COUNT(mode_names); i++) {
		if (strcmp(s, mode_names[i]) == 0) {
			*out = (enum ev_retry_mode)i;
			return EV_OK;
		}
	}
	return EV_E_CONFIG;
}

const char *ev_retry_mode_name(enum ev_retry_mode mode)
{
	if ((int)mode < 0 || (size_t)mode >= COUNT(mode_names))
		return "?";
	return mode_names[mode];
}

enum ev_err ev_retry_max_attempts_parse(const char *s, int *out)
{
	EV_ENSURE(s && s[0], EV_E_CONFIG);
	int v = 0;
	for (const char *p = s; *p; p++) {
		EV_ENSURE(*p >= '0' && *p <= '9', EV_E_CONFIG);
		v = v * 10 + (*p - '0');
		EV_ENSURE(v <= EV_RETRY_ATTEMPTS_MAX, EV_E_CONFIG);
	}
	EV_ENSURE(v >= 1, EV_E_CONFIG);
	*out = v;
	return EV_OK;
}

enum ev_err ev_retry_config_parse(const char *mode, const char *max_attempts,
				  struct ev_retry_config *out)
{
	struct ev_retry_config cfg = {EV_RETRY_STANDARD, 0};
	if (mode && mode[0])
		EV_TRY(ev_retry_mode_parse(mode, &cfg.mode));
	if (max_attempts && max_attempts[0])
		EV_TRY(ev_retry_max_attempts_parse(max_attempts,
						   &cfg.max_attempts));
	*out = cfg;
	return EV_OK;
}

void ev_retry_quota_init(struct ev_retry_quota *q)
{
	pthread_mutex_init(&q->lock, NULL);
	q->tokens = EV_RETRY_QUOTA_MAX;
}

void ev_retry_quota_cleanup(struct ev_retry_quota *q)
{
	pthread_mutex_destroy(&q->lock);
}

bool ev_retry_quota_acquire(struct ev_retry_quota *q, enum ev_retry_class c,
			    int *cost)
{
	int want;
	switch (c) {
	case EV_RETRY_TIMEOUT:
		want = EV_RETRY_TIMEOUT_COST;
		break;
	case EV_RETRY_TRANSIENT:
	case EV_RETRY_THROTTLE:
		want = EV_RETRY_COST;
		break;
	case EV_RETRY_NO:
	default:
		*cost = 0;
		return false;
	}
	pthread_mutex_lock(&q->lock);
	bool ok = q->tokens >= want;
	if (ok)
		q->tokens -= want;
	pthread_mutex_unlock(&q->lock);
	*cost = ok ? want : 0;
	return ok;
}

void ev_retry_quota_success(struct ev_retry_quota *q, int last_cost)
{
	int refund = last_cost > 0 ? last_cost : EV_RETRY_NO_RETRY_REFUND;
	pthread_mutex_lock(&q->lock);
	q->tokens = q->tokens > EV_RETRY_QUOTA_MAX - refund
			? EV_RETRY_QUOTA_MAX
			: q->tokens + refund;
	pthread_mutex_unlock(&q->lock);
}

int ev_retry_quota_available(struct ev_retry_quota *q)
{
	pthread_mutex_lock(&q->lock);
	int n = q->tokens;
	pthread_mutex_unlock(&q->lock);
	return n;
}
