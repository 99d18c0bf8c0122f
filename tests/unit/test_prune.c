/* Retention: which snapshots go (older than the retention, never the
 * newest, never one not uploaded, always from the start of the chain), the
 * record of what went, and that the chain still verifies without
 * --allow-pruned. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "digest.h"
#include "evidence.h"
#include "keys.h"
#include "manifest.h"
#include "prune.h"
#include "timefmt.h"

#define T0  ((time_t)1735689600) /* 2025-01-01T00:00:00Z */
#define DAY 86400

static char tmpdir[256];
static struct ev_key *key; /* signs the snapshots; its public half verifies */

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ev-prune-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	struct ev_error err;
	key = ev_keys_generate(&err);
	return key ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ev_keys_free(key);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void new_dir(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out);
	assert_int_equal(system(cmd), 0);
}

/* A committed snapshot started at t with one account. */
static void snapshot(const char *dir, time_t t)
{
	struct ev_evidence_options o = {
	    .snapshot_dir = dir, .started_at = t, .signing_key = key};
	struct ev_error err;
	struct ev_evidence *e = ev_evidence_begin(&o, &err);
	if (!e)
		fail_msg("begin: %s", err.message);
	struct ev_findings f;
	ev_findings_init(&f);
	const char *regions[] = {"us-east-1"};
	struct ev_evidence_account a = {
	    .id = "111111111111",
	    .regions = regions,
	    .n_regions = 1,
	    .findings = &f,
	};
	assert_int_equal(ev_evidence_add_account(e, &a, &err), EV_OK);
	assert_int_equal(ev_evidence_commit(e, NULL, NULL, 0, &err), EV_OK);
	ev_findings_cleanup(&f);
}

static bool exists(const char *dir, time_t t)
{
	char name[EV_AMZ_DATE_LEN + 1], path[600];
	ev_time_format_amz(t, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct stat st;
	return stat(path, &st) == 0;
}

struct events {
	size_t problems;
	enum ev_manifest_problem first;
	char note[1024]; /* the first snapshot's message */
};

static void on_event(void *ctx, const struct ev_manifest_event *ev)
{
	struct events *c = ctx;
	if (ev->problem != EV_PROBLEM_NONE) {
		if (!c->problems++)
			c->first = ev->problem;
	} else if (!c->note[0] && ev->snapshot[0]) {
		snprintf(c->note, sizeof(c->note), "%s", ev->message);
	}
}

/* Verifies the directory with the trusted key, never --allow-pruned. */
static enum ev_err verify(const char *dir, struct events *c)
{
	memset(c, 0, sizeof(*c));
	const struct ev_key *keys[] = {key};
	struct ev_manifest_verify_options o = {
	    .path = dir,
	    .keys = keys,
	    .n_keys = 1,
	    .on_event = on_event,
	    .ctx = c,
	};
	struct ev_manifest_summary sum;
	struct ev_error err;
	ev_error_clear(&err);
	return ev_manifest_verify(&o, &sum, &err);
}

static enum ev_err prune(const char *dir, time_t now, int days,
			 bool (*uploaded)(void *, const char *), void *ctx,
			 struct ev_prune_result *r, struct ev_error *err)
{
	struct ev_prune_options o = {
	    .snapshot_dir = dir,
	    .now = now,
	    .retention_days = days,
	    .uploaded = uploaded,
	    .ctx = ctx,
	};
	ev_error_clear(err);
	return ev_prune_run(&o, r, err);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void old_ones_go_and_the_chain_verifies(void **state)
{
	(void)state;
	char dir[512];
	new_dir(dir, sizeof(dir), "basic");
	for (int i = 0; i < 5; i++)
		snapshot(dir, T0 + i * DAY);
	struct events ev;
	assert_int_equal(verify(dir, &ev), EV_OK);

	/* At T0 + 10 days with a 7-day retention: the first three (days 0,
	 * 1, 2) are older than T0 + 3 days. */
	struct ev_prune_result r;
	struct ev_error err;
	assert_int_equal(prune(dir, T0 + 10 * DAY, 7, NULL, NULL, &r, &err),
			 EV_OK);
	assert_int_equal(r.pruned, 3);
	assert_int_equal(r.kept, 2);
	assert_string_equal(r.held_by_upload, "");
	for (int i = 0; i < 3; i++)
		assert_false(exists(dir, T0 + i * DAY));
	assert_true(exists(dir, T0 + 3 * DAY));
	assert_true(exists(dir, T0 + 4 * DAY));

	/* Verification accepts the chain from the record alone. */
	assert_int_equal(verify(dir, &ev), EV_OK);
	assert_int_equal(ev.problems, 0);
	assert_non_null(strstr(ev.note, "chain starts after 20250103T000000Z "
					"(pruned, recorded in pruned.json)"));

	/* The record names every removed snapshot with its manifest hash. */
	char path[600];
	snprintf(path, sizeof(path), "%s/%s", dir, EV_PRUNE_RECORD_FILE);
	const char *text = slurp(path);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"snapshot\": \"20250101T000000Z\""));
	assert_non_null(strstr(text, "\"snapshot\": \"20250102T000000Z\""));
	assert_non_null(strstr(text, "\"snapshot\": \"20250103T000000Z\""));
	assert_null(strstr(text, "20250104T000000Z"));

	/* Nothing more to do: a second run removes nothing. */
	assert_int_equal(prune(dir, T0 + 10 * DAY, 7, NULL, NULL, &r, &err),
			 EV_OK);
	assert_int_equal(r.pruned, 0);
	assert_int_equal(r.kept, 2);

	/* Later runs append to the record, and verification still holds. */
	snapshot(dir, T0 + 20 * DAY);
	assert_int_equal(prune(dir, T0 + 20 * DAY, 7, NULL, NULL, &r, &err),
			 EV_OK);
	assert_int_equal(r.pruned, 2);
	assert_int_equal(r.kept, 1);
	assert_int_equal(verify(dir, &ev), EV_OK);
	text = slurp(path);
	assert_non_null(strstr(text, "20250101T000000Z"));
	assert_non_null(strstr(text, "20250105T000000Z"));
}

static void never_the_newest(void **state)
{
	(void)state;
	char dir[512];
	new_dir(dir, sizeof(dir), "newest");
	snapshot(dir, T0);
	snapshot(dir, T0 + DAY);
	struct ev_prune_result r;
	struct ev_error err;
	/* Both are years past the retention: the newest stays. */
	assert_int_equal(prune(dir, T0 + 3000 * DAY, 1, NULL, NULL, &r, &err),
			 EV_OK);
	assert_int_equal(r.pruned, 1);
	assert_int_equal(r.kept, 1);
	assert_true(exists(dir, T0 + DAY));
	struct events ev;
	assert_int_equal(verify(dir, &ev), EV_OK);

	/* A lone snapshot is never removed. */
	assert_int_equal(prune(dir, T0 + 3000 * DAY, 1, NULL, NULL, &r, &err),
			 EV_OK);
	assert_int_equal(r.pruned, 0);
	assert_true(exists(dir, T0 + DAY));
}

/* Uploaded: every snapshot but the one named in ctx. */
static bool all_but(void *ctx, const char *snapshot)
{
	return strcmp(snapshot, (const char *)ctx) != 0;
}

static void not_uploaded_holds_it_and_those_after(void **state)
{
	(void)state;
	char dir[512];
	new_dir(dir, sizeof(dir), "upload");
	for (int i = 0; i < 4; i++)
		snapshot(dir, T0 + i * DAY);
	struct ev_prune_result r;
	struct ev_error err;
	/* All but the newest are past the retention; the second is not
	 * uploaded: only the first may go (removing the third would leave a
	 * hole in the chain). */
	assert_int_equal(prune(dir, T0 + 100 * DAY, 30, all_but,
			       (void *)"20250102T000000Z", &r, &err),
			 EV_OK);
	assert_int_equal(r.pruned, 1);
	assert_int_equal(r.kept, 3);
	assert_string_equal(r.held_by_upload, "20250102T000000Z");
	assert_false(exists(dir, T0));
	assert_true(exists(dir, T0 + DAY));
	assert_true(exists(dir, T0 + 2 * DAY));
	struct events ev;
	assert_int_equal(verify(dir, &ev), EV_OK);

	/* Once it is uploaded, the rest go. */
	assert_int_equal(
	    prune(dir, T0 + 100 * DAY, 30, all_but, (void *)"none", &r, &err),
	    EV_OK);
	assert_int_equal(r.pruned, 2);
	assert_string_equal(r.held_by_upload, "");
	assert_int_equal(verify(dir, &ev), EV_OK);
}

static void unrecorded_or_altered_gaps_still_fail(void **state)
{
	(void)state;
	char dir[512], path[600], cmd[1400];
	new_dir(dir, sizeof(dir), "gaps");
	for (int i = 0; i < 3; i++)
		snapshot(dir, T0 + i * DAY);
	struct ev_prune_result r;
	struct ev_error err;
	assert_int_equal(prune(dir, T0 + 100 * DAY, 30, NULL, NULL, &r, &err),
			 EV_OK);
	assert_int_equal(r.pruned, 2);
	struct events ev;
	assert_int_equal(verify(dir, &ev), EV_OK);

	/* Without the record, the gap is a deleted snapshot. */
	snprintf(path, sizeof(path), "%s/%s", dir, EV_PRUNE_RECORD_FILE);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s.keep'", path, path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(verify(dir, &ev), EV_E_AUTH);
	assert_int_equal(ev.first, EV_PROBLEM_CHAIN_DELETED);

	/* A record whose hash is not the one the chain names does not
	 * vouch for the gap. */
	char text[1 << 16], keep[700];
	snprintf(keep, sizeof(keep), "%s.keep", path);
	snprintf(text, sizeof(text), "%s", slurp(keep));
	char *h = strstr(text, "\"manifest_sha256\": \"");
	assert_non_null(h);
	h = strstr(text + (h - text) + 1, "\"manifest_sha256\": \"");
	assert_non_null(h); /* the second entry: the chain's start */
	h += strlen("\"manifest_sha256\": \"");
	*h = *h == '0' ? '1' : '0';
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(verify(dir, &ev), EV_E_AUTH);
	assert_int_equal(ev.first, EV_PROBLEM_CHAIN_DELETED);

	/* A snapshot deleted after the recorded ones is not excused. */
	snprintf(cmd, sizeof(cmd), "cp '%s.keep' '%s'", path, path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(verify(dir, &ev), EV_OK);
	snapshot(dir, T0 + 101 * DAY);
	snapshot(dir, T0 + 102 * DAY);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/20250412T000000Z'", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(verify(dir, &ev), EV_E_AUTH);
	assert_int_equal(ev.first, EV_PROBLEM_CHAIN_DELETED);
}

static void refusals(void **state)
{
	(void)state;
	char dir[512], path[600];
	new_dir(dir, sizeof(dir), "refusals");
	struct ev_prune_result r;
	struct ev_error err;
	assert_int_equal(prune(dir, T0, 7, NULL, NULL, &r, &err),
			 EV_E_NOT_FOUND);
	assert_int_equal(prune(NULL, T0, 7, NULL, NULL, &r, &err), EV_E_CONFIG);
	snapshot(dir, T0);
	snapshot(dir, T0 + DAY);
	snapshot(dir, T0 + 2 * DAY);
	assert_int_equal(prune(dir, T0, 0, NULL, NULL, &r, &err), EV_E_CONFIG);

	/* Another writer holds the lock. */
	snprintf(path, sizeof(path), "%s/.lock", dir);
	int fd = open(path, O_RDWR | O_CREAT, 0640);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(prune(dir, T0 + 100 * DAY, 7, NULL, NULL, &r, &err),
			 EV_E_IO);
	assert_non_null(strstr(err.message, "another snapshot is being "
					    "written"));
	close(fd);
	assert_true(exists(dir, T0));

	/* A record this module did not write: nothing is pruned. */
	snprintf(path, sizeof(path), "%s/%s", dir, EV_PRUNE_RECORD_FILE);
	static const char *const bad[] = {
	    "not json",
	    "[]",
	    "{\"format\": 2, \"pruned\": []}",
	    "{\"format\": 1, \"pruned\": {}}",
	    "{\"format\": 1, \"pruned\": [{\"snapshot\": \"x\", "
	    "\"manifest_sha256\": \"00\"}]}",
	    "{\"format\": 1, \"format\": 1, \"pruned\": []}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		fputs(bad[i], f);
		fclose(f);
		if (prune(dir, T0 + 100 * DAY, 7, NULL, NULL, &r, &err) !=
		    EV_E_MALFORMED)
			fail_msg("record %zu accepted", i);
		assert_int_equal(r.pruned, 0);
		assert_true(exists(dir, T0));
		int dfd = open(dir, O_RDONLY | O_DIRECTORY);
		assert_false(ev_prune_recorded(dfd, "20250101T000000Z",
					       "0000000000000000000000000000"
					       "000000000000000000000000000000"
					       "000000"));
		close(dfd);
	}
	assert_int_equal(unlink(path), 0);

	/* A snapshot whose manifest is gone stops pruning there. */
	snprintf(path, sizeof(path), "%s/20250102T000000Z/manifest.json", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(prune(dir, T0 + 100 * DAY, 7, NULL, NULL, &r, &err),
			 EV_OK);
	assert_int_equal(r.pruned, 1);
	assert_true(exists(dir, T0 + DAY));
	assert_true(exists(dir, T0 + 2 * DAY));
}

static void record_bytes(void **state)
{
	(void)state;
	static const char good[] =
	    "{\"format\": 1, \"pruned\": [{\"snapshot\": "
	    "\"20250101T000000Z\", \"manifest_sha256\": "
	    "\"00112233445566778899aabbccddeeff00112233445566778899aabbccdd"
	    "eeff\", \"pruned_at\": \"2025-02-01T00:00:00Z\"}], "
	    "\"later\": true}";
	const char *hash =
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	assert_true(ev_prune_record_lists(good, strlen(good),
					  "20250101T000000Z", hash));
	assert_false(ev_prune_record_lists(good, strlen(good),
					   "20250102T000000Z", hash));
	assert_false(ev_prune_record_lists(good, strlen(good),
					   "20250101T000000Z",
					   "00112233445566778899aabbccddeeff"
					   "00112233445566778899aabbccddeef0"));
	/* Cut anywhere, it lists nothing. */
	for (size_t n = 0; n < strlen(good); n++)
		assert_false(
		    ev_prune_record_lists(good, n, "20250101T000000Z", hash));
	assert_false(ev_prune_record_lists(NULL, 0, "20250101T000000Z", hash));
	assert_false(ev_prune_record_lists(good, strlen(good), NULL, hash));
	/* Upper-case hex, a bad date: not what the writer writes. */
	static const char upper[] =
	    "{\"format\": 1, \"pruned\": [{\"snapshot\": "
	    "\"20250101T000000Z\", \"manifest_sha256\": "
	    "\"00112233445566778899AABBCCDDEEFF00112233445566778899aabbccdd"
	    "eeff\"}]}";
	assert_false(ev_prune_record_lists(upper, strlen(upper),
					   "20250101T000000Z", hash));
	static const char bad_date[] =
	    "{\"format\": 1, \"pruned\": [{\"snapshot\": "
	    "\"20250230T000000Z\", \"manifest_sha256\": "
	    "\"00112233445566778899aabbccddeeff00112233445566778899aabbccdd"
	    "eeff\"}]}";
	assert_false(ev_prune_record_lists(bad_date, strlen(bad_date),
					   "20250230T000000Z", hash));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(old_ones_go_and_the_chain_verifies),
	    cmocka_unit_test(never_the_newest),
	    cmocka_unit_test(not_uploaded_holds_it_and_those_after),
	    cmocka_unit_test(unrecorded_or_altered_gaps_still_fail),
	    cmocka_unit_test(refusals),
	    cmocka_unit_test(record_bytes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
