#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <cmocka.h>

#include "pool.h"

struct counter {
	atomic_int runs;
	struct ev_pool *pool;
	atomic_int children;
};

static void count(void *arg)
{
	struct counter *c = arg;
	atomic_fetch_add(&c->runs, 1);
}

static void spawn(void *arg)
{
	struct counter *c = arg;
	atomic_fetch_add(&c->runs, 1);
	/* A job that queues more work: wait must cover it. */
	if (atomic_fetch_add(&c->children, 1) < 50)
		assert_int_equal(ev_pool_submit(c->pool, spawn, c), EV_OK);
}

static void runs_every_job(void **state)
{
	(void)state;
	struct ev_error err;
	struct ev_pool *p = ev_pool_new(4, &err);
	assert_non_null(p);
	struct counter c = {0};
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ev_pool_submit(p, count, &c), EV_OK);
	ev_pool_wait(p);
	assert_int_equal(atomic_load(&c.runs), 1000);
	ev_pool_free(p);
}

static void waits_for_jobs_submitted_by_jobs(void **state)
{
	(void)state;
	struct ev_error err;
	struct counter c = {0};
	c.pool = ev_pool_new(3, &err);
	assert_non_null(c.pool);
	assert_int_equal(ev_pool_submit(c.pool, spawn, &c), EV_OK);
	ev_pool_wait(c.pool);
	assert_int_equal(atomic_load(&c.runs), 51);
	ev_pool_free(c.pool);
}

static void refuses_bad_sizes(void **state)
{
	(void)state;
	struct ev_error err;
	assert_null(ev_pool_new(0, &err));
	assert_int_equal(err.code, EV_E_CONFIG);
	assert_null(ev_pool_new(5000, &err));
	ev_pool_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(runs_every_job),
	    cmocka_unit_test(waits_for_jobs_submitted_by_jobs),
	    cmocka_unit_test(refuses_bad_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
