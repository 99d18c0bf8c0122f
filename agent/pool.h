/* A fixed pool of worker threads running submitted jobs. Data crosses
 * threads only by being handed over whole: a job owns its argument until
 * it returns.
 *
 * Ownership: ev_pool_new / ev_pool_free (free waits for every job). A job
 * may submit further jobs. */
#ifndef EV_POOL_H
#define EV_POOL_H

#include <stddef.h>

#include "err.h"

struct ev_pool;

/* Starts n_threads workers (1..1024). NULL with err set on failure. */
struct ev_pool *ev_pool_new(int n_threads, struct ev_error *err);

/* Queues fn(arg). Errors: EV_E_NOMEM (fn is not run; arg stays the
 * caller's). */
enum ev_err ev_pool_submit(struct ev_pool *p, void (*fn)(void *arg),
			   void *arg) EV_MUST_CHECK;

/* Blocks until the queue is empty and no job runs (jobs submitted by jobs
 * included). */
void ev_pool_wait(struct ev_pool *p);

/* Waits for every job, stops the workers, frees p; accepts NULL. */
void ev_pool_free(struct ev_pool *p);

#endif
