/* root-usage on recorded simulator answers (demo-org) and hand-edited
 * copies (tests/unit/data/iam/README.md). The door's clock is
 * 2025-03-01T10:00:00Z, the simulator's when they were recorded. */
#include "probe_door.h"

#include "credreport.h"
#include "probes.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))
#define MGMT	"111122223333"
#define MEMBER	"444455556666"
#define SANDBOX "777788889999"

#define GEN_COMPLETE                                                           \
	{                                                                      \
		"GenerateCredentialReport", NULL, 200,                         \
		    "@iam/generate_complete.xml", NULL                         \
	}

static const struct ev_finding *run(struct test_door *d, const char *account,
				    const struct door_reply *r, size_t n,
				    int unused_days)
{
	test_door_init(d, account, NULL, r, n);
	if (unused_days)
		d->cfg.thresholds.root_unused_days = unused_days;
	assert_int_equal(ev_probe_root_usage_run(&d->ctx), EV_OK);
	assert_int_equal(d->findings.n, 1);
	const struct ev_finding *f = &d->findings.items[0];
	assert_string_equal(f->probe_id, "root-usage");
	return f;
}

static void finish(struct test_door *d)
{
	test_door_cleanup(d, ev_credreport_state_cleanup);
}

static const char *detail(const struct ev_finding *f, const char *key)
{
	return json_string_value(json_object_get(f->details, key));
}

static json_int_t detail_int(const struct ev_finding *f, const char *key)
{
	json_t *v = json_object_get(f->details, key);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static void recent_password_use_fails(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_management.xml",
	     NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_management.xml",
	     NULL},
	};
	struct test_door d;
	const struct ev_finding *f = run(&d, MGMT, r, N(r), 0);
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason, "root used 20 days ago (password)");
	assert_string_equal(f->resource, "arn:aws:iam::111122223333:root");
	assert_string_equal(detail(f, "last_used"), "2025-02-09T10:00:00Z");
	assert_string_equal(detail(f, "last_used_by"), "password");
	assert_string_equal(detail(f, "password_last_used"),
			    "2025-02-09T10:00:00Z");
	assert_string_equal(detail(f, "access_key_1_last_used"), "N/A");
	assert_int_equal(detail_int(f, "days_since_last_use"), 20);
	assert_int_equal(detail_int(f, "root_unused_days"), 90);
	assert_int_equal(detail_int(f, "account_access_keys_present"), 0);
	assert_non_null(json_object_get(f->details, "credential_report"));
	/* summary, Generate, Get */
	assert_int_equal(f->n_obs, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(f->obs[i], i);
	finish(&d);

	/* The same use outside a 10-day window passes. */
	f = run(&d, MGMT, r, N(r), 10);
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(
	    f->reason,
	    "no root access keys; root last used 20 days ago (more than 10)");
	finish(&d);
}

static void root_keys_and_their_use_fail(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_sandbox.xml", NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_sandbox.xml", NULL},
	};
	struct test_door d;
	const struct ev_finding *f = run(&d, SANDBOX, r, N(r), 0);
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason, "root has access keys (1 active); root "
				       "used 12 days ago (access key 1)");
	assert_string_equal(detail(f, "access_key_1_last_used"),
			    "2025-02-17T10:00:00Z");
	assert_string_equal(detail(f, "access_key_1_last_rotated"),
			    "2018-08-05T10:00:00Z");
	assert_true(
	    json_is_true(json_object_get(f->details, "access_key_1_active")));
	assert_string_equal(detail(f, "password_last_used"), "no_information");
	assert_int_equal(detail_int(f, "account_access_keys_present"), 1);
	finish(&d);

	/* Keys alone fail, even unused for years. */
	f = run(&d, SANDBOX, r, N(r), 5);
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason, "root has access keys (1 active)");
	finish(&d);
}

static void unused_root_passes(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_production.xml",
	     NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_production.xml",
	     NULL},
	};
	struct test_door d;
	const struct ev_finding *f = run(&d, MEMBER, r, N(r), 0);
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->reason,
			    "no root access keys; no root use on record");
	assert_null(json_object_get(f->details, "last_used"));
	finish(&d);
}

static void summary_keys_count_without_the_report(void **state)
{
	(void)state;
	/* The summary (live) counts a root key the report (older) does
	 * not show: keys are there. */
	static const struct door_reply r[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_sandbox.xml", NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_production.xml",
	     NULL},
	};
	struct test_door d;
	const struct ev_finding *f = run(&d, MEMBER, r, N(r), 0);
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason, "root has access keys (0 active)");
	finish(&d);
}

static void errors_give_no_verdict(void **state)
{
	(void)state;
	static const struct door_reply denied[] = {
	    {"GetAccountSummary", NULL, 403, "@iam/access_denied.xml", NULL},
	};
	struct test_door d;
	const struct ev_finding *f = run(&d, MGMT, denied, N(denied), 0);
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->error_code, "AccessDenied");
	assert_string_equal(f->request_id,
			    "8e4f3051-hand-edited-access-denied");
	assert_int_equal(f->n_obs, 1);
	assert_int_equal(door_calls(&d, "GenerateCredentialReport"), 0);
	finish(&d);

	static const struct door_reply gone[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_management.xml",
	     NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 410, "@iam/get_report_notpresent.xml",
	     NULL},
	};
	f = run(&d, MGMT, gone, N(gone), 0);
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->error_code, "ReportNotPresent");
	assert_string_equal(f->request_id,
			    "3ec4ced3-224b-4733-8339-e7e39210b270");
	assert_non_null(strstr(f->reason, "credential report: "));
	/* summary, first and second Generate, the last Get */
	assert_int_equal(f->n_obs, 4);
	finish(&d);

	static const struct door_reply malformed[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_management.xml",
	     NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_malformed.xml",
	     NULL},
	};
	f = run(&d, MGMT, malformed, N(malformed), 0);
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_non_null(strstr(f->reason, "credential report row 3"));
	finish(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(recent_password_use_fails),
	    cmocka_unit_test(root_keys_and_their_use_fail),
	    cmocka_unit_test(unused_root_passes),
	    cmocka_unit_test(summary_keys_count_without_the_report),
	    cmocka_unit_test(errors_give_no_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
