#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <string.h>
#include <cmocka.h>

#include "retry.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void classification(void **state)
{
	(void)state;
	static const struct {
		enum ev_err transport;
		long status;
		const char *code;
		enum ev_retry_class want;
	} cases[] = {
	    /* Transport failures. */
	    {EV_E_NETWORK, 0, "", EV_RETRY_TRANSIENT},
	    {EV_E_LIMIT, 0, "", EV_RETRY_NO},
	    {EV_E_CONFIG, 0, "", EV_RETRY_NO},
	    {EV_E_NOMEM, 0, "", EV_RETRY_NO},
	    /* A transport failure wins over whatever else is passed. */
	    {EV_E_NETWORK, 200, "Throttling", EV_RETRY_TRANSIENT},
	    /* Transient statuses, whatever the code. */
	    {EV_OK, 500, "", EV_RETRY_TRANSIENT},
	    {EV_OK, 502, NULL, EV_RETRY_TRANSIENT},
	    {EV_OK, 503, "", EV_RETRY_TRANSIENT},
	    {EV_OK, 504, "", EV_RETRY_TRANSIENT},
	    {EV_OK, 500, "SomethingNew", EV_RETRY_TRANSIENT},
	    {EV_OK, 501, "", EV_RETRY_NO},
	    {EV_OK, 505, "", EV_RETRY_NO},
	    /* Transient codes, whatever the status. */
	    {EV_OK, 400, "RequestTimeout", EV_RETRY_TRANSIENT},
	    {EV_OK, 400, "RequestTimeoutException", EV_RETRY_TRANSIENT},
	    {EV_OK, 500, "InternalError", EV_RETRY_TRANSIENT},
	    {EV_OK, 400, "InternalError", EV_RETRY_TRANSIENT},
	    {EV_OK, 503, "ServiceUnavailable", EV_RETRY_TRANSIENT},
	    {EV_OK, 400, "IDPCommunicationError", EV_RETRY_TRANSIENT},
	    /* Throttling, including the ones that come with 503. */
	    {EV_OK, 400, "Throttling", EV_RETRY_THROTTLE},
	    {EV_OK, 400, "ThrottlingException", EV_RETRY_THROTTLE},
	    {EV_OK, 400, "ThrottledException", EV_RETRY_THROTTLE},
	    {EV_OK, 400, "RequestThrottledException", EV_RETRY_THROTTLE},
	    {EV_OK, 429, "TooManyRequestsException", EV_RETRY_THROTTLE},
	    {EV_OK, 400, "TooManyRequestsException", EV_RETRY_THROTTLE},
	    {EV_OK, 400, "ProvisionedThroughputExceededException",
	     EV_RETRY_THROTTLE},
	    {EV_OK, 400, "TransactionInProgressException", EV_RETRY_THROTTLE},
	    {EV_OK, 503, "RequestLimitExceeded", EV_RETRY_THROTTLE},
	    {EV_OK, 400, "BandwidthLimitExceeded", EV_RETRY_THROTTLE},
	    {EV_OK, 400, "LimitExceededException", EV_RETRY_THROTTLE},
	    {EV_OK, 400, "RequestThrottled", EV_RETRY_THROTTLE},
	    {EV_OK, 503, "SlowDown", EV_RETRY_THROTTLE},
	    {EV_OK, 400, "PriorRequestNotComplete", EV_RETRY_THROTTLE},
	    {EV_OK, 400, "EC2ThrottledException", EV_RETRY_THROTTLE},
	    {EV_OK, 429, "", EV_RETRY_THROTTLE},
	    /* Not retried here: credentials, skew, permissions, input. */
	    {EV_OK, 403, "ExpiredToken", EV_RETRY_NO},
	    {EV_OK, 400, "ExpiredTokenException", EV_RETRY_NO},
	    {EV_OK, 400, "RequestExpired", EV_RETRY_NO},
	    {EV_OK, 403, "SignatureDoesNotMatch", EV_RETRY_NO},
	    {EV_OK, 403, "RequestTimeTooSkewed", EV_RETRY_NO},
	    {EV_OK, 401, "AuthFailure", EV_RETRY_NO},
	    {EV_OK, 403, "AccessDenied", EV_RETRY_NO},
	    {EV_OK, 403, "UnauthorizedOperation", EV_RETRY_NO},
	    {EV_OK, 400, "ValidationError", EV_RETRY_NO},
	    {EV_OK, 404, "NoSuchBucket", EV_RETRY_NO},
	    {EV_OK, 400, "", EV_RETRY_NO},
	    {EV_OK, 400, NULL, EV_RETRY_NO},
	    /* Exact matches only. */
	    {EV_OK, 400, "throttling", EV_RETRY_NO},
	    {EV_OK, 400, "ThrottlingExceptionX", EV_RETRY_NO},
	    /* Success is never retried. */
	    {EV_OK, 200, "", EV_RETRY_NO},
	    {EV_OK, 204, NULL, EV_RETRY_NO},
	};
	for (size_t i = 0; i < COUNT(cases); i++) {
		enum ev_retry_class got = ev_retry_classify(
		    cases[i].transport, cases[i].status, cases[i].code);
		if (got != cases[i].want)
			fail_msg("case %zu (%ld %s): got %d, want %d", i,
				 cases[i].status,
				 cases[i].code ? cases[i].code : "NULL",
				 (int)got, (int)cases[i].want);
	}
}

static void transport_timeouts(void **state)
{
	(void)state;
	assert_int_equal(ev_retry_classify_transport(EV_E_NETWORK, true),
			 EV_RETRY_TIMEOUT);
	assert_int_equal(ev_retry_classify_transport(EV_E_NETWORK, false),
			 EV_RETRY_TRANSIENT);
	assert_int_equal(ev_retry_classify_transport(EV_E_LIMIT, true),
			 EV_RETRY_NO);
	assert_int_equal(ev_retry_classify_transport(EV_OK, true), EV_RETRY_NO);
}

static void backoff(void **state)
{
	(void)state;
	static const struct {
		enum ev_retry_class c;
		int attempt;
		double r;
		long retry_after;
		long want;
	} cases[] = {
	    /* Ceilings 100, 200, 400 ms... for transient and timeouts. */
	    {EV_RETRY_TRANSIENT, 1, 0.5, 0, 50},
	    {EV_RETRY_TRANSIENT, 2, 0.5, 0, 100},
	    {EV_RETRY_TRANSIENT, 3, 0.5, 0, 200},
	    {EV_RETRY_TIMEOUT, 3, 0.25, 0, 100},
	    {EV_RETRY_TRANSIENT, 1, 0.0, 0, 0},
	    {EV_RETRY_TRANSIENT, 1, 0.999, 0, 99},
	    /* 500 ms, 1 s, 2 s... when throttled. */
	    {EV_RETRY_THROTTLE, 1, 0.5, 0, 250},
	    {EV_RETRY_THROTTLE, 2, 0.5, 0, 500},
	    {EV_RETRY_THROTTLE, 4, 0.5, 0, 2000},
	    /* The 20 s cap: 100 ms * 2^8 = 25.6 s is capped. */
	    {EV_RETRY_TRANSIENT, 9, 0.5, 0, 10000},
	    {EV_RETRY_THROTTLE, 6, 0.5, 0, 8000},
	    {EV_RETRY_THROTTLE, 7, 0.5, 0, 10000},
	    {EV_RETRY_THROTTLE, 1000, 0.5, 0, 10000},
	    {EV_RETRY_THROTTLE, 2147483647, 0.5, 0, 10000},
	    /* Out-of-range randomness is clamped into [0, 1). */
	    {EV_RETRY_TRANSIENT, 1, -1.0, 0, 0},
	    {EV_RETRY_TRANSIENT, 1, 7.0, 0, 99},
	    /* attempt < 1 behaves as the first retry. */
	    {EV_RETRY_TRANSIENT, 0, 0.5, 0, 50},
	    {EV_RETRY_TRANSIENT, -3, 0.5, 0, 50},
	    /* Retry-After is a floor, bounded by the cap. */
	    {EV_RETRY_THROTTLE, 1, 0.1, 1000, 1000},
	    {EV_RETRY_THROTTLE, 4, 0.9, 1000, 3600},
	    {EV_RETRY_THROTTLE, 1, 0.1, 3600000, 20000},
	    {EV_RETRY_TRANSIENT, 1, 0.5, -5, 50},
	    /* Nothing to wait for when the error is not retried. */
	    {EV_RETRY_NO, 1, 0.5, 1000, 0},
	};
	for (size_t i = 0; i < COUNT(cases); i++) {
		long got = ev_retry_delay_ms(cases[i].c, cases[i].attempt,
					     cases[i].r, cases[i].retry_after);
		if (got != cases[i].want)
			fail_msg("case %zu: got %ld ms, want %ld ms", i, got,
				 cases[i].want);
	}
	/* Never above the cap, whatever comes in. */
	for (int a = 1; a < 64; a++)
		assert_true(ev_retry_delay_ms(EV_RETRY_THROTTLE, a, 0.999999,
					      0) < EV_RETRY_MAX_BACKOFF_MS);
	/* NaN randomness cannot produce a garbage delay. */
	volatile double zero = 0.0;
	assert_int_equal(
	    ev_retry_delay_ms(EV_RETRY_TRANSIENT, 1, zero / zero, 0), 0);
}

static void max_attempts_and_modes(void **state)
{
	(void)state;
	static const struct {
		const char *mode, *max;
		enum ev_err rc;
		enum ev_retry_mode want_mode;
		int want_max;	   /* field as parsed */
		int want_attempts; /* with defaults applied */
	} cases[] = {
	    {NULL, NULL, EV_OK, EV_RETRY_STANDARD, 0, 3},
	    {"", "", EV_OK, EV_RETRY_STANDARD, 0, 3},
	    {"standard", NULL, EV_OK, EV_RETRY_STANDARD, 0, 3},
	    {"legacy", NULL, EV_OK, EV_RETRY_LEGACY, 0, 5},
	    {"adaptive", NULL, EV_OK, EV_RETRY_ADAPTIVE, 0, 3},
	    {"standard", "1", EV_OK, EV_RETRY_STANDARD, 1, 1},
	    {"legacy", "2", EV_OK, EV_RETRY_LEGACY, 2, 2},
	    {NULL, "20", EV_OK, EV_RETRY_STANDARD, 20, 20},
	    {NULL, "07", EV_OK, EV_RETRY_STANDARD, 7, 7},
	    {NULL, "0", EV_E_CONFIG, 0, 0, 0},
	    {NULL, "21", EV_E_CONFIG, 0, 0, 0},
	    {NULL, "-1", EV_E_CONFIG, 0, 0, 0},
	    {NULL, "3x", EV_E_CONFIG, 0, 0, 0},
	    {NULL, " 3", EV_E_CONFIG, 0, 0, 0},
	    {NULL, "99999999999999999999", EV_E_CONFIG, 0, 0, 0},
	    {"Standard", NULL, EV_E_CONFIG, 0, 0, 0},
	    {"fast", "3", EV_E_CONFIG, 0, 0, 0},
	    {"standard ", NULL, EV_E_CONFIG, 0, 0, 0},
	};
	for (size_t i = 0; i < COUNT(cases); i++) {
		struct ev_retry_config cfg = {EV_RETRY_ADAPTIVE, 17};
		enum ev_err rc =
		    ev_retry_config_parse(cases[i].mode, cases[i].max, &cfg);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d, want %d", i, (int)rc,
				 (int)cases[i].rc);
		if (rc != EV_OK) {
			/* Untouched on failure. */
			assert_int_equal(cfg.mode, EV_RETRY_ADAPTIVE);
			assert_int_equal(cfg.max_attempts, 17);
			continue;
		}
		assert_int_equal(cfg.mode, cases[i].want_mode);
		assert_int_equal(cfg.max_attempts, cases[i].want_max);
		assert_int_equal(ev_retry_max_attempts(&cfg),
				 cases[i].want_attempts);
	}
	assert_int_equal(ev_retry_max_attempts(NULL), 3);
	assert_string_equal(ev_retry_mode_name(EV_RETRY_LEGACY), "legacy");
	assert_string_equal(ev_retry_mode_name(EV_RETRY_ADAPTIVE), "adaptive");
	enum ev_retry_mode m;
	assert_int_equal(ev_retry_mode_parse(NULL, &m), EV_E_CONFIG);
	int n;
	assert_int_equal(ev_retry_max_attempts_parse(NULL, &n), EV_E_CONFIG);
}

static void quota_costs_and_refunds(void **state)
{
	(void)state;
	struct ev_retry_quota q;
	ev_retry_quota_init(&q);
	assert_int_equal(ev_retry_quota_available(&q), 500);
	int cost = -1;

	/* A first-try success at full capacity stays at the maximum. */
	ev_retry_quota_success(&q, 0);
	assert_int_equal(ev_retry_quota_available(&q), 500);

	assert_true(ev_retry_quota_acquire(&q, EV_RETRY_TRANSIENT, &cost));
	assert_int_equal(cost, 5);
	assert_true(ev_retry_quota_acquire(&q, EV_RETRY_THROTTLE, &cost));
	assert_int_equal(cost, 5);
	assert_true(ev_retry_quota_acquire(&q, EV_RETRY_TIMEOUT, &cost));
	assert_int_equal(cost, 10);
	assert_int_equal(ev_retry_quota_available(&q), 480);

	/* Success after retries refunds the last retry's cost. */
	ev_retry_quota_success(&q, 10);
	assert_int_equal(ev_retry_quota_available(&q), 490);
	/* A first-try success refunds 1. */
	ev_retry_quota_success(&q, 0);
	assert_int_equal(ev_retry_quota_available(&q), 491);

	/* Not-retryable failures cost nothing and are refused. */
	cost = -1;
	assert_false(ev_retry_quota_acquire(&q, EV_RETRY_NO, &cost));
	assert_int_equal(cost, 0);
	assert_int_equal(ev_retry_quota_available(&q), 491);

	/* Refunds never exceed the maximum. */
	ev_retry_quota_success(&q, 10);
	assert_int_equal(ev_retry_quota_available(&q), 500);
	ev_retry_quota_success(&q, 2147483647);
	assert_int_equal(ev_retry_quota_available(&q), 500);
	ev_retry_quota_cleanup(&q);
}

static void quota_exhaustion(void **state)
{
	(void)state;
	struct ev_retry_quota q;
	ev_retry_quota_init(&q);
	int cost;
	/* 500 / 5 = 100 retries, then none. */
	for (int i = 0; i < 100; i++)
		assert_true(
		    ev_retry_quota_acquire(&q, EV_RETRY_THROTTLE, &cost));
	assert_int_equal(ev_retry_quota_available(&q), 0);
	cost = -1;
	assert_false(ev_retry_quota_acquire(&q, EV_RETRY_THROTTLE, &cost));
	assert_int_equal(cost, 0);
	assert_int_equal(ev_retry_quota_available(&q), 0);

	/* Five first-try successes buy one retry back, not a timeout. */
	for (int i = 0; i < 5; i++)
		ev_retry_quota_success(&q, 0);
	assert_false(ev_retry_quota_acquire(&q, EV_RETRY_TIMEOUT, &cost));
	assert_int_equal(ev_retry_quota_available(&q), 5);
	assert_true(ev_retry_quota_acquire(&q, EV_RETRY_TRANSIENT, &cost));
	assert_int_equal(ev_retry_quota_available(&q), 0);

	/* A timeout needs 10: 9 tokens are not enough. */
	for (int i = 0; i < 9; i++)
		ev_retry_quota_success(&q, 0);
	assert_false(ev_retry_quota_acquire(&q, EV_RETRY_TIMEOUT, &cost));
	assert_int_equal(ev_retry_quota_available(&q), 9);
	ev_retry_quota_success(&q, 0);
	assert_true(ev_retry_quota_acquire(&q, EV_RETRY_TIMEOUT, &cost));
	assert_int_equal(cost, 10);
	assert_int_equal(ev_retry_quota_available(&q), 0);
	ev_retry_quota_cleanup(&q);
}

#define THREADS 8
#define ROUNDS	20000

struct worker {
	struct ev_retry_quota *q;
	int acquired;
	int refused;
	int min_seen;
	unsigned seed;
};

/* Each thread drains and refills the shared bucket in a pattern that
 * keeps it near empty, where a race would show as a negative count or a
 * lost update. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	w->min_seen = EV_RETRY_QUOTA_MAX;
	for (int i = 0; i < ROUNDS; i++) {
		w->seed = w->seed * 1103515245u + 12345u;
		enum ev_retry_class c = (w->seed >> 16) % 3 == 0
					    ? EV_RETRY_TIMEOUT
					    : EV_RETRY_THROTTLE;
		int cost = 0;
		if (ev_retry_quota_acquire(w->q, c, &cost)) {
			w->acquired++;
			/* Two in three retried calls end in success. */
			if ((w->seed >> 8) % 3 != 0)
				ev_retry_quota_success(w->q, cost);
		} else {
			w->refused++;
			/* Another call succeeds at its first try. */
			ev_retry_quota_success(w->q, 0);
		}
		int now = ev_retry_quota_available(w->q);
		if (now < w->min_seen)
			w->min_seen = now;
	}
	return NULL;
}

static void quota_is_shared_safely(void **state)
{
	(void)state;
	struct ev_retry_quota q;
	ev_retry_quota_init(&q);
	pthread_t tid[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] =
		    (struct worker){.q = &q, .seed = (unsigned)i * 7919u + 1};
		assert_int_equal(
		    pthread_create(&tid[i], NULL, worker_run, &w[i]), 0);
	}
	int acquired = 0, refused = 0;
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		acquired += w[i].acquired;
		refused += w[i].refused;
		assert_true(w[i].min_seen >= 0);
	}
	int left = ev_retry_quota_available(&q);
	assert_true(left >= 0 && left <= EV_RETRY_QUOTA_MAX);
	/* One in three retried calls fails for good, losing 5 or 10 tokens
	 * against 1 regained per refusal: without refusals the bucket would
	 * have had to go far below zero, so both paths ran. */
	assert_true(acquired > 0);
	assert_true(refused > 0);
	assert_int_equal(acquired + refused, THREADS * ROUNDS);
	ev_retry_quota_cleanup(&q);
}

/* Exact accounting across threads: every token taken is given back. */
static void *take_and_return(void *arg)
{
	struct ev_retry_quota *q = arg;
	for (int i = 0; i < ROUNDS; i++) {
		int cost;
		if (ev_retry_quota_acquire(q, EV_RETRY_TRANSIENT, &cost))
			ev_retry_quota_success(q, cost);
	}
	return NULL;
}

static void quota_accounting_is_exact(void **state)
{
	(void)state;
	struct ev_retry_quota q;
	ev_retry_quota_init(&q);
	/* Leave 20 tokens: four concurrent retries at most. */
	int cost;
	for (int i = 0; i < 96; i++)
		assert_true(
		    ev_retry_quota_acquire(&q, EV_RETRY_TRANSIENT, &cost));
	assert_int_equal(ev_retry_quota_available(&q), 20);
	pthread_t tid[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(
		    pthread_create(&tid[i], NULL, take_and_return, &q), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	/* A lost update would leave a different count. */
	assert_int_equal(ev_retry_quota_available(&q), 20);
	ev_retry_quota_cleanup(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(classification),
	    cmocka_unit_test(transport_timeouts),
	    cmocka_unit_test(backoff),
	    cmocka_unit_test(max_attempts_and_modes),
	    cmocka_unit_test(quota_costs_and_refunds),
	    cmocka_unit_test(quota_exhaustion),
	    cmocka_unit_test(quota_is_shared_safely),
	    cmocka_unit_test(quota_accounting_is_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
