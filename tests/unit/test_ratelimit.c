#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ratelimit.h"

static void inert_until_throttled(void **state)
{
	(void)state;
	struct ev_ratelimit *rl = ev_ratelimit_new();
	assert_non_null(rl);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ev_ratelimit_acquire(rl, "k", i * 0.001), 0);
	assert_true(ev_ratelimit_rate(rl, "k") == 0);
	ev_ratelimit_free(rl);
}

static void throttle_paces_that_key_only(void **state)
{
	(void)state;
	struct ev_ratelimit *rl = ev_ratelimit_new();
	/* 50 calls in the first second, then a throttle. */
	for (int i = 0; i < 50; i++)
		assert_int_equal(ev_ratelimit_acquire(rl, "a", i * 0.02), 0);
	assert_int_equal(ev_ratelimit_acquire(rl, "a", 1.0), 0);
	ev_ratelimit_feedback(rl, "a", true, 1.0);
	double rate = ev_ratelimit_rate(rl, "a");
	assert_true(rate > 0 && rate < 50);
	/* Back to back calls now wait about 1/rate each, growing. */
	long w1 = ev_ratelimit_acquire(rl, "a", 1.0);
	long w2 = ev_ratelimit_acquire(rl, "a", 1.0);
	assert_true(w1 > 0);
	assert_true(w2 > w1);
	assert_true(w2 <= (long)(2000.0 / rate) + 2);
	/* Another key is not slowed. */
	assert_int_equal(ev_ratelimit_acquire(rl, "b", 1.0), 0);
	ev_ratelimit_free(rl);
}

static void repeated_throttles_slow_down_to_a_floor(void **state)
{
	(void)state;
	struct ev_ratelimit *rl = ev_ratelimit_new();
	ev_ratelimit_feedback(rl, "a", true, 0);
	double prev = ev_ratelimit_rate(rl, "a");
	for (int i = 1; i < 30; i++) {
		ev_ratelimit_feedback(rl, "a", true, i);
		double r = ev_ratelimit_rate(rl, "a");
		assert_true(r <= prev);
		assert_true(r >= 0.5);
		prev = r;
	}
	assert_true(prev == 0.5);
	ev_ratelimit_free(rl);
}

static void successes_lift_the_limit(void **state)
{
	(void)state;
	struct ev_ratelimit *rl = ev_ratelimit_new();
	ev_ratelimit_feedback(rl, "a", true, 0);
	double r0 = ev_ratelimit_rate(rl, "a");
	ev_ratelimit_feedback(rl, "a", false, 1);
	for (int i = 0; i < 10; i++)
		ev_ratelimit_feedback(rl, "a", false, 1);
	assert_true(ev_ratelimit_rate(rl, "a") > r0);
	for (int i = 0; i < 2000; i++)
		ev_ratelimit_feedback(rl, "a", false, 2);
	assert_true(ev_ratelimit_rate(rl, "a") == 0);
	assert_int_equal(ev_ratelimit_acquire(rl, "a", 3), 0);
	ev_ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(inert_until_throttled),
	    cmocka_unit_test(throttle_paces_that_key_only),
	    cmocka_unit_test(repeated_throttles_slow_down_to_a_floor),
	    cmocka_unit_test(successes_lift_the_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
