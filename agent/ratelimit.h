/* Client-side rate limiting that adapts to throttling, per (credentials,
 * service, region): the key identifies an account's API bucket as AWS
 * meters it. Inert until the first throttle answer for a key; then calls
 * with that key are paced at a rate that halves-ish on each throttle and
 * creeps back up with successes, until it is lifted again. The same idea
 * as the SDKs' "adaptive" retry mode, kept simpler.
 *
 * Ownership: ev_ratelimit_new / ev_ratelimit_free; thread-safe. Keys are
 * copied (an access key id is not a secret). */
#ifndef EV_RATELIMIT_H
#define EV_RATELIMIT_H

#include <stdbool.h>

struct ev_ratelimit;

struct ev_ratelimit *ev_ratelimit_new(void);
void ev_ratelimit_free(struct ev_ratelimit *rl);

/* Milliseconds the caller must wait before sending a call with this key
 * (0: go now); the token is taken. now: monotonic seconds. */
long ev_ratelimit_acquire(struct ev_ratelimit *rl, const char *key, double now);
/* Reports the outcome of a call with this key. */
void ev_ratelimit_feedback(struct ev_ratelimit *rl, const char *key,
			   bool throttled, double now);
/* The current pace for key in calls per second, 0 when unlimited. */
double ev_ratelimit_rate(struct ev_ratelimit *rl, const char *key);

#endif
