/* When the daemon collects: every interval, optionally aligned to a
 * wall-clock time of day (UTC), each run moved later by a random splay so
 * that agents started together do not call AWS at the same instant.
 *
 * Pure functions: the clock and the random source are parameters, so
 * every rule is testable. Nothing here owns memory. */
#ifndef EV_SCHEDULE_H
#define EV_SCHEDULE_H

#include <stdbool.h>
#include <time.h>

#include "err.h"

#define EV_SCHEDULE_DAY 86400LL

struct ev_schedule {
	long long interval; /* seconds between runs, > 0 */
	/* Seconds after 00:00 UTC the runs align to (a run at start_at, then
	 * every interval), or -1 for no alignment. */
	long start_at;
	long long splay; /* each run moves later by 0..splay seconds */
};

/* Parses "HH:MM" (00:00 to 23:59, two digits each) into seconds after
 * midnight. Errors: EV_E_CONFIG. */
enum ev_err ev_schedule_parse_start_at(const char *s,
				       long *seconds) EV_MUST_CHECK;

/* True when runs interval apart can keep a time of day: the interval
 * divides a day (1h, 6h, 8h...) or is a whole number of days. */
bool ev_schedule_alignable(long long interval);

/* The splay for one run: a whole number of seconds in 0..splay, from r01
 * in [0, 1) (values outside are clamped). */
long long ev_schedule_splay(const struct ev_schedule *s, double r01);

/* When the next run starts, seen at `now`, after a run that started at
 * `last` (0: no run yet), with the random draw r01 for its splay:
 *   - without start_at: last + interval, or now for the first run;
 *   - with start_at: the first aligned slot after last (the first one
 *     from now on when there was no run), slots being start_at + k *
 *     interval counted from 1970-01-01 (for an alignable interval: the
 *     time of day every day, or every interval-th day);
 * plus the splay. A time already past (a run missed while the agent was
 * down, or a collection longer than the interval) gives now: one catch-up
 * run, not one per missed slot. Never at or before `last`, since
 * snapshots are named by their start second. */
time_t ev_schedule_next(const struct ev_schedule *s, time_t last, time_t now,
			double r01);

#endif
