/* The daemon's schedule: intervals, wall-clock alignment, splay bounds
 * with an injected random draw, catch-up after missed runs; and the
 * [daemon] keys that feed it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "schedule.h"
#include "timefmt.h"

#define T0 1740823200 /* 2025-03-01T10:00:00Z */
#define H  3600
#define M  60

static time_t at(const char *iso)
{
	time_t t;
	assert_int_equal(ev_time_parse_iso8601(iso, &t), EV_OK);
	return t;
}

static void start_at_parses_hh_mm(void **state)
{
	(void)state;
	long s = -1;
	assert_int_equal(ev_schedule_parse_start_at("00:00", &s), EV_OK);
	assert_int_equal(s, 0);
	assert_int_equal(ev_schedule_parse_start_at("01:30", &s), EV_OK);
	assert_int_equal(s, 5400);
	assert_int_equal(ev_schedule_parse_start_at("23:59", &s), EV_OK);
	assert_int_equal(s, 86340);
	static const char *const bad[] = {"24:00", "12:60",  "1:30",   "01:3",
					  "0130",  "01-30",  "01:30Z", "",
					  "ab:cd", "01:30 ", " 01:30"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = 42;
		if (ev_schedule_parse_start_at(bad[i], &s) != EV_E_CONFIG)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_int_equal(s, 42);
	}
	assert_int_equal(ev_schedule_parse_start_at(NULL, &s), EV_E_CONFIG);
}

static void alignable_intervals(void **state)
{
	(void)state;
	static const long long ok[] = {1,      60,    15 * M,	 H,
				       2 * H,  3 * H, 6 * H,	 8 * H,
				       12 * H, 86400, 2 * 86400, 7 * 86400};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!ev_schedule_alignable(ok[i]))
			fail_msg("%lld refused", ok[i]);
	static const long long no[] = {0,      -H,     7 * H, 5 * H,
				       25 * H, 36 * H, 7 * M};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (ev_schedule_alignable(no[i]))
			fail_msg("%lld accepted", no[i]);
}

static void interval_without_alignment(void **state)
{
	(void)state;
	struct ev_schedule s = {.interval = 6 * H, .start_at = -1};
	/* First run: now. */
	assert_int_equal(ev_schedule_next(&s, 0, T0, 0.5), T0);
	/* Then every interval from the last start, whatever now is. */
	assert_int_equal(ev_schedule_next(&s, T0, T0 + 10, 0.5), T0 + 6 * H);
	assert_int_equal(ev_schedule_next(&s, T0, T0 + 5 * H, 0.9), T0 + 6 * H);
	/* A run longer than the interval: the next one at once. */
	assert_int_equal(ev_schedule_next(&s, T0, T0 + 7 * H, 0.5), T0 + 7 * H);
	/* Days of missed runs: one catch-up run, now. */
	assert_int_equal(ev_schedule_next(&s, T0, T0 + 100 * H, 0.5),
			 T0 + 100 * H);
	/* One second. */
	struct ev_schedule one = {.interval = 1, .start_at = -1};
	assert_int_equal(ev_schedule_next(&one, T0, T0, 0.0), T0 + 1);
}

static void aligned_to_time_of_day(void **state)
{
	(void)state;
	long start;
	assert_int_equal(ev_schedule_parse_start_at("01:30", &start), EV_OK);
	struct ev_schedule s = {.interval = 6 * H, .start_at = start};
	/* Slots 01:30, 07:30, 13:30, 19:30 UTC. */
	time_t now = at("2025-03-01T10:00:00Z");
	assert_int_equal(ev_schedule_next(&s, 0, now, 0.0),
			 at("2025-03-01T13:30:00Z"));
	/* Exactly on a slot with no run yet: that slot. */
	assert_int_equal(
	    ev_schedule_next(&s, 0, at("2025-03-01T07:30:00Z"), 0.0),
	    at("2025-03-01T07:30:00Z"));
	/* After a run at a slot: the next slot, not the same one. */
	assert_int_equal(ev_schedule_next(&s, at("2025-03-01T07:30:00Z"),
					  at("2025-03-01T07:30:05Z"), 0.0),
			 at("2025-03-01T13:30:00Z"));
	/* A late run (splayed) still keeps the grid. */
	assert_int_equal(ev_schedule_next(&s, at("2025-03-01T07:34:10Z"),
					  at("2025-03-01T07:40:00Z"), 0.0),
			 at("2025-03-01T13:30:00Z"));
	/* Across midnight. */
	assert_int_equal(ev_schedule_next(&s, at("2025-03-01T19:30:00Z"),
					  at("2025-03-01T20:00:00Z"), 0.0),
			 at("2025-03-02T01:30:00Z"));
	/* A missed slot: one catch-up run now. */
	assert_int_equal(ev_schedule_next(&s, at("2025-03-01T07:30:00Z"),
					  at("2025-03-02T03:00:00Z"), 0.0),
			 at("2025-03-02T03:00:00Z"));
	/* Daily at 00:00 and weekly. */
	struct ev_schedule daily = {.interval = 86400, .start_at = 0};
	assert_int_equal(
	    ev_schedule_next(&daily, 0, at("2025-03-01T23:59:59Z"), 0.0),
	    at("2025-03-02T00:00:00Z"));
	struct ev_schedule weekly = {.interval = 7 * 86400, .start_at = 0};
	time_t w =
	    ev_schedule_next(&weekly, 0, at("2025-03-01T10:00:00Z"), 0.0);
	/* Every 7th day from 1970-01-01 (a Thursday). */
	assert_int_equal(w, at("2025-03-06T00:00:00Z"));
	assert_int_equal(ev_schedule_next(&weekly, w, w + 1, 0.0),
			 w + 7 * 86400);
}

static void splay_stays_in_bounds(void **state)
{
	(void)state;
	struct ev_schedule s = {
	    .interval = 6 * H, .start_at = -1, .splay = 300};
	assert_int_equal(ev_schedule_splay(&s, 0.0), 0);
	assert_int_equal(ev_schedule_splay(&s, 0.5), 150);
	assert_int_equal(ev_schedule_splay(&s, 0.999999), 300);
	assert_int_equal(ev_schedule_splay(&s, 1.0), 300);
	assert_int_equal(ev_schedule_splay(&s, 7.0), 300);
	assert_int_equal(ev_schedule_splay(&s, -1.0), 0);
	/* A uniform-ish sweep of draws never leaves 0..splay, and reaches
	 * both ends. */
	long long lo = 1000, hi = -1;
	for (int i = 0; i < 10000; i++) {
		long long v = ev_schedule_splay(&s, i / 10000.0);
		assert_true(v >= 0 && v <= 300);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 300);
	struct ev_schedule none = {.interval = H, .start_at = -1};
	assert_int_equal(ev_schedule_splay(&none, 0.7), 0);

	/* The splay moves each run later from its base, and a first run
	 * too. */
	assert_int_equal(ev_schedule_next(&s, T0, T0 + 1, 0.5),
			 T0 + 6 * H + 150);
	assert_int_equal(ev_schedule_next(&s, 0, T0, 0.5), T0 + 150);
	long start = 5400;
	struct ev_schedule aligned = {
	    .interval = 6 * H, .start_at = start, .splay = 600};
	assert_int_equal(
	    ev_schedule_next(&aligned, 0, at("2025-03-01T10:00:00Z"), 0.25),
	    at("2025-03-01T13:32:30Z"));
	/* An overdue base with splay still left: the splayed time. */
	assert_int_equal(ev_schedule_next(&s, T0, T0 + 6 * H + 100, 0.5),
			 T0 + 6 * H + 150);
}

static void never_at_or_before_the_last_run(void **state)
{
	(void)state;
	/* A clock set back: the next run waits for a time after the last
	 * one (snapshots are named by their start second). */
	struct ev_schedule s = {.interval = 1, .start_at = -1};
	assert_true(ev_schedule_next(&s, T0, T0 - 500, 0.0) > T0);
	struct ev_schedule a = {.interval = H, .start_at = 0};
	assert_true(ev_schedule_next(&a, T0, T0 - 5000, 0.0) > T0);
	assert_int_equal(ev_schedule_next(&a, T0, T0 - 5000, 0.0), T0 + H);
}

/* The [daemon] section through the configuration loader. */
static enum ev_err load(const char *text, struct ev_config *cfg,
			struct ev_error *err)
{
	char path[] = "/tmp/ev-schedule-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(ev_config_init(cfg), EV_OK);
	enum ev_err rc = ev_config_load(path, cfg, err);
	unlink(path);
	return rc;
}

static void daemon_section_loads(void **state)
{
	(void)state;
	struct ev_config cfg;
	struct ev_error err;
	assert_int_equal(ev_config_init(&cfg), EV_OK);
	assert_int_equal(cfg.daemon.interval, 6 * H);
	assert_int_equal(cfg.daemon.start_at, -1);
	assert_int_equal(cfg.daemon.splay, 0);
	assert_int_equal(cfg.daemon.retention_days, 0);
	assert_null(cfg.daemon.state_file);
	assert_null(cfg.s3.bucket);
	assert_int_equal(cfg.s3.object_lock, EV_S3_LOCK_COMPLIANCE);
	assert_int_equal(cfg.s3.retention_days, 365);
	ev_config_cleanup(&cfg);

	assert_int_equal(load("[daemon]\ninterval = 8h\nstart_at = 02:15\n"
			      "splay = 10m\nretention_days = 13w\n"
			      "state_file = /run/evident/state.json\n"
			      "[s3]\nbucket = evidence.example-1\n"
			      "prefix = evident/prod-1\nregion = eu-west-1\n"
			      "object_lock_mode = governance\n"
			      "retention_days = 7y\n",
			      &cfg, &err),
			 EV_E_CONFIG);
	assert_non_null(strstr(err.message, ":12: [s3] retention_days"));
	ev_config_cleanup(&cfg);

	assert_int_equal(load("[daemon]\ninterval = 8h\nstart_at = 02:15\n"
			      "splay = 10m\nretention_days = 13w\n"
			      "state_file = /run/evident/state.json\n"
			      "[s3]\nbucket = evidence.example-1\n"
			      "prefix = evident/prod-1\nregion = eu-west-1\n"
			      "object_lock_mode = governance\n"
			      "retention_days = 2555\n",
			      &cfg, &err),
			 EV_OK);
	assert_int_equal(cfg.daemon.interval, 8 * H);
	assert_int_equal(cfg.daemon.start_at, 2 * H + 15 * M);
	assert_int_equal(cfg.daemon.splay, 600);
	assert_int_equal(cfg.daemon.retention_days, 91);
	assert_string_equal(cfg.daemon.state_file, "/run/evident/state.json");
	assert_string_equal(cfg.s3.bucket, "evidence.example-1");
	assert_string_equal(cfg.s3.prefix, "evident/prod-1");
	assert_string_equal(cfg.s3.region, "eu-west-1");
	assert_int_equal(cfg.s3.object_lock, EV_S3_LOCK_GOVERNANCE);
	assert_int_equal(cfg.s3.retention_days, 2555);
	ev_config_cleanup(&cfg);

	/* An empty start_at is no alignment; off sends no lock. */
	assert_int_equal(load("[daemon]\ninterval = 7h\nstart_at =\n"
			      "[s3]\nobject_lock_mode = off\n",
			      &cfg, &err),
			 EV_OK);
	assert_int_equal(cfg.daemon.start_at, -1);
	assert_int_equal(cfg.s3.object_lock, EV_S3_LOCK_OFF);
	ev_config_cleanup(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(start_at_parses_hh_mm),
	    cmocka_unit_test(alignable_intervals),
	    cmocka_unit_test(interval_without_alignment),
	    cmocka_unit_test(aligned_to_time_of_day),
	    cmocka_unit_test(splay_stays_in_bounds),
	    cmocka_unit_test(never_at_or_before_the_last_run),
	    cmocka_unit_test(daemon_section_loads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
