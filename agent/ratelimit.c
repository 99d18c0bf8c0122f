#include "ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS	   512 /* keys followed at once; the oldest is reused */
#define KEY_MAX	   96
#define FIRST_RATE 4.0 /* calls/s after the first throttle, unmeasured */
#define MIN_RATE   0.5
#define BACKOFF	   0.6	/* multiplied in on each throttle */
#define GROWTH	   1.15 /* multiplied in after GROW_AFTER successes */
#define GROW_AFTER 10
#define LIFT_RATE  200.0 /* above it the limit is lifted */

struct slot {
	char key[KEY_MAX];
	bool used;
	double rate;   /* 0: unlimited */
	double tokens; /* bucket of at most one second's worth */
	double last;   /* when tokens were last refilled */
	double window_start;
	unsigned window_calls; /* calls seen in the current second */
	double measured;       /* calls/s of the last full second */
	unsigned successes;
	double touched;
};

struct ev_ratelimit {
	pthread_mutex_t lock;
	struct slot slots[SLOTS];
};

struct ev_ratelimit *ev_ratelimit_new(void)
{
	struct ev_ratelimit *rl = calloc(1, sizeof(*rl));
	if (rl)
		pthread_mutex_init(&rl->lock, NULL);
	return rl;
}

void ev_ratelimit_free(struct ev_ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

/* The slot for key, made (over the least recently used one) if asked. */
static struct slot *find(struct ev_ratelimit *rl, const char *key, bool make,
			 double now)
{
	struct slot *oldest = &rl->slots[0];
	for (size_t i = 0; i < SLOTS; i++) {
		struct slot *s = &rl->slots[i];
		if (s->used && strncmp(s->key, key, KEY_MAX - 1) == 0)
			return s;
		if (!s->used || (oldest->used && s->touched < oldest->touched))
			oldest = s;
	}
	if (!make)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	oldest->used = true;
	snprintf(oldest->key, sizeof(oldest->key), "%s", key);
	oldest->window_start = now;
	oldest->last = now;
	oldest->touched = now;
	return oldest;
}

static void count(struct slot *s, double now)
{
	if (now - s->window_start >= 1.0) {
		s->measured = s->window_calls / (now - s->window_start);
		s->window_start = now;
		s->window_calls = 0;
	}
	s->window_calls++;
	s->touched = now;
}

long ev_ratelimit_acquire(struct ev_ratelimit *rl, const char *key, double now)
{
	pthread_mutex_lock(&rl->lock);
	struct slot *s = find(rl, key, true, now);
	long wait_ms = 0;
	count(s, now);
	if (s->rate > 0) {
		s->tokens += (now - s->last) * s->rate;
		if (s->tokens > s->rate)
			s->tokens = s->rate;
		s->last = now;
		/* Take the token now, paying for it with the wait: calls
		 * queue up in order without holding the lock. */
		s->tokens -= 1.0;
		if (s->tokens < 0)
			wait_ms = (long)(-s->tokens / s->rate * 1000.0) + 1;
	}
	pthread_mutex_unlock(&rl->lock);
	return wait_ms;
}

void ev_ratelimit_feedback(struct ev_ratelimit *rl, const char *key,
			   bool throttled, double now)
{
	pthread_mutex_lock(&rl->lock);
	struct slot *s = find(rl, key, throttled, now);
	if (!s) {
		pthread_mutex_unlock(&rl->lock);
		return;
	}
	if (throttled) {
		double base = s->rate > 0	? s->rate
			      : s->measured > 0 ? s->measured
						: FIRST_RATE / BACKOFF;
		s->rate = base * BACKOFF;
		if (s->rate < MIN_RATE)
			s->rate = MIN_RATE;
		if (s->tokens > 0)
			s->tokens = 0;
		s->last = now;
		s->successes = 0;
	} else if (s->rate > 0 && ++s->successes >= GROW_AFTER) {
		s->successes = 0;
		s->rate *= GROWTH;
		if (s->rate > LIFT_RATE)
			s->rate = 0;
	}
	pthread_mutex_unlock(&rl->lock);
}

double ev_ratelimit_rate(struct ev_ratelimit *rl, const char *key)
{
	pthread_mutex_lock(&rl->lock);
	struct slot *s = find(rl, key, false, 0);
	double r = s ? s->rate : 0;
	pthread_mutex_unlock(&rl->lock);
	return r;
}
