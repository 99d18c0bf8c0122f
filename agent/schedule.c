#include "schedule.h"

enum ev_err ev_schedule_parse_start_at(const char *s, long *seconds)
{
	EV_ENSURE(s, EV_E_CONFIG);
	for (int i = 0; i < 5; i++) {
		bool want_colon = i == 2;
		EV_ENSURE(want_colon ? s[i] == ':' : s[i] >= '0' && s[i] <= '9',
			  EV_E_CONFIG);
	}
	EV_ENSURE(s[5] == '\0', EV_E_CONFIG);
	long h = (s[0] - '0') * 10 + (s[1] - '0');
	long m = (s[3] - '0') * 10 + (s[4] - '0');
	EV_ENSURE(h < 24 && m < 60, EV_E_CONFIG);
	*seconds = h * 3600 + m * 60;
	return EV_OK;
}

bool ev_schedule_alignable(long long interval)
{
	if (interval <= 0)
		return false;
	return EV_SCHEDULE_DAY % interval == 0 ||
	       interval % EV_SCHEDULE_DAY == 0;
}

long long ev_schedule_splay(const struct ev_schedule *s, double r01)
{
	if (s->splay <= 0)
		return 0;
	if (!(r01 > 0.0)) /* also NaN */
		return 0;
	if (r01 >= 1.0)
		return s->splay;
	/* Positive: the cast truncates, which is floor here. */
	long long v = (long long)(r01 * (double)(s->splay + 1));
	return v > s->splay ? s->splay : v;
}

/* floor(a / b) for b > 0, whatever the sign of a. */
static long long floor_div(long long a, long long b)
{
	long long q = a / b;
	return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* The first slot start_at + k * interval at or after t. */
static long long slot_at_or_after(const struct ev_schedule *s, long long t)
{
	long long k = floor_div(t - s->start_at, s->interval);
	long long slot = s->start_at + k * s->interval;
	return slot < t ? slot + s->interval : slot;
}

time_t ev_schedule_next(const struct ev_schedule *s, time_t last, time_t now,
			double r01)
{
	long long interval = s->interval > 0 ? s->interval : 1;
	struct ev_schedule fixed = *s;
	fixed.interval = interval;
	long long base;
	if (s->start_at < 0)
		base = last > 0 ? (long long)last + interval : (long long)now;
	else
		base = slot_at_or_after(&fixed, last > 0 ? (long long)last + 1
							 : (long long)now);
	long long t = base + ev_schedule_splay(&fixed, r01);
	if (t < (long long)now)
		t = now;
	if (last > 0 && t <= (long long)last)
		t = (long long)last + 1;
	return (time_t)t;
}
