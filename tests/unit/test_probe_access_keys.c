/* access-keys on recorded simulator answers (single-account, demo-org)
 * and hand-written reports for the edge cases. Console passwords and MFA
 * are console-mfa's (test_probe_console_mfa.c): here they must make no
 * finding and change none. The door's clock is
 * 2025-03-01T10:00:00Z; the recorded dates are 5 s past whole days, so a
 * key created "-120d" is 119 whole days old. */
#include "probe_door.h"

#include "credreport.h"
#include "digest.h"
#include "probes.h"

#define N(a)   (sizeof(a) / sizeof((a)[0]))
#define SINGLE "111122223333"
#define MGMT   "111122223333"

#define GEN_COMPLETE                                                           \
	{                                                                      \
		"GenerateCredentialReport", NULL, 200,                         \
		    "@iam/generate_complete.xml", NULL                         \
	}

#define HEADER                                                                 \
	"user,arn,user_creation_time,password_enabled,password_last_used,"     \
	"password_last_changed,password_next_rotation,mfa_active,"             \
	"access_key_1_active,access_key_1_last_rotated,"                       \
	"access_key_1_last_used_date,access_key_1_last_used_region,"           \
	"access_key_1_last_used_service,access_key_2_active,"                  \
	"access_key_2_last_rotated,access_key_2_last_used_date,"               \
	"access_key_2_last_used_region,access_key_2_last_used_service,"        \
	"cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_"         \
	"rotated\n"

#define ROOT_ROW                                                               \
	"<root_account>,arn:aws:iam::111122223333:root,"                       \
	"2019-12-19T10:00:00+00:00,not_supported,no_information,"              \
	"not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,"    \
	"N/A,N/A,N/A,false,N/A,false,N/A\n"

/* A GetCredentialReport answer carrying csv. */
static char *report_xml(const char *csv)
{
	struct ev_buf b64, x;
	ev_buf_init(&b64, 1u << 20);
	ev_buf_init(&x, 2u << 20);
	assert_int_equal(ev_base64_encode(csv, strlen(csv), &b64), EV_OK);
	assert_int_equal(
	    ev_buf_printf(
		&x,
		"<GetCredentialReportResponse><GetCredentialReportResult>"
		"<Content>%s</Content><ReportFormat>text/csv"
		"</ReportFormat><GeneratedTime>2025-03-01T08:30:00Z"
		"</GeneratedTime></GetCredentialReportResult>"
		"<ResponseMetadata><RequestId>rid-hand</RequestId>"
		"</ResponseMetadata></GetCredentialReportResponse>",
		ev_buf_str(&b64)),
	    EV_OK);
	ev_buf_cleanup(&b64);
	return ev_buf_take(&x);
}

/* max_age: access_key_max_age_days, 0 for the default. */
static void run_with(struct test_door *d, const struct door_reply *r, size_t n,
		     int max_age)
{
	test_door_init(d, SINGLE, NULL, r, n);
	if (max_age)
		d->cfg.thresholds.access_key_max_age_days = max_age;
	assert_int_equal(ev_probe_access_keys_run(&d->ctx), EV_OK);
	for (size_t i = 0; i < d->findings.n; i++) {
		assert_string_equal(d->findings.items[i].probe_id,
				    "access-keys");
		assert_string_equal(d->findings.items[i].account, SINGLE);
	}
}

static void run(struct test_door *d, const struct door_reply *r, size_t n)
{
	run_with(d, r, n, 0);
}

static void finish(struct test_door *d)
{
	test_door_cleanup(d, ev_credreport_state_cleanup);
}

static json_t *key(const struct ev_finding *f, size_t i)
{
	return json_array_get(json_object_get(f->details, "access_keys"), i);
}

static void recorded_single_account(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_single.xml", NULL},
	};
	struct test_door d;
	run(&d, r, N(r));
	/* Five users with keys or certificates; root is root-usage's. */
	assert_int_equal(d.findings.n, 5);
	assert_int_equal(door_count(&d, EV_STATUS_FAIL, NULL), 2);
	assert_int_equal(door_count(&d, EV_STATUS_WARN, NULL), 1);
	assert_int_equal(door_count(&d, EV_STATUS_PASS, NULL), 2);
	assert_int_equal(door_count(&d, EV_STATUS_PASS, ":root"), 0);

	const struct ev_finding *f = door_finding(&d, "user/alice");
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->resource,
			    "arn:aws:iam::111122223333:user/alice");
	assert_string_equal(f->reason, "access key 1 is 119 days old (max 90)");
	assert_int_equal(
	    json_integer_value(json_object_get(key(f, 0), "age_days")), 119);
	assert_string_equal(
	    json_string_value(json_object_get(key(f, 0), "last_used")),
	    "2025-02-28T10:00:05Z");
	/* The console password is not judged, nor reported, here. */
	assert_null(json_object_get(f->details, "mfa_active"));
	assert_null(json_object_get(f->details, "password_enabled"));
	json_t *rep = json_object_get(f->details, "credential_report");
	assert_string_equal(
	    json_string_value(json_object_get(rep, "generated_time")),
	    "2025-03-01T10:00:06Z");
	/* Generate, Get */
	assert_int_equal(f->n_obs, 2);
	assert_int_equal(f->obs[0], 0);
	assert_int_equal(f->obs[1], 1);

	/* bob's console password lacks MFA: not this probe's failure. */
	f = door_finding(&d, "user/bob");
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason, "access key 2 is 399 days old (max 90)");
	/* The inactive key is listed, not judged. */
	assert_int_equal(
	    json_array_size(json_object_get(f->details, "access_keys")), 2);
	assert_false(json_is_true(json_object_get(key(f, 0), "active")));
	assert_string_equal(
	    json_string_value(json_object_get(
		json_object_get(f->details, "problems"), "fail")),
	    f->reason);

	f = door_finding(&d, "user/service/carol");
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->reason,
			    "1 active key within age and use bounds");
	assert_string_equal(
	    json_string_value(json_object_get(key(f, 0), "last_used")), "N/A");

	f = door_finding(&d, "user/dave");
	assert_int_equal(f->status, EV_STATUS_WARN);
	assert_string_equal(f->reason,
			    "signing certificate 1 is 99 days old (max 90)");
	json_t *cert = json_array_get(
	    json_object_get(f->details, "signing_certificates"), 0);
	assert_int_equal(json_integer_value(json_object_get(cert, "age_days")),
			 99);
	assert_string_equal(
	    json_string_value(json_object_get(cert, "last_rotated")),
	    "2024-11-21T10:00:05Z");

	f = door_finding(&d, "user/evident-auditor");
	assert_int_equal(f->status, EV_STATUS_PASS);
	finish(&d);

	/* A looser configuration turns alice's and bob's keys and dave's
	 * certificate compliant: bob's missing MFA does not hold his
	 * finding back. */
	run_with(&d, r, N(r), 400);
	assert_int_equal(door_count(&d, EV_STATUS_PASS, NULL), 5);
	assert_string_equal(door_finding(&d, "user/alice")->reason,
			    "1 active key within age and use bounds");
	assert_string_equal(door_finding(&d, "user/dave")->reason,
			    "1 active signing certificate");
	f = door_finding(&d, "user/bob");
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->reason,
			    "1 active key within age and use bounds");
	assert_null(json_object_get(f->details, "problems"));
	finish(&d);
}

static void recorded_demo_management(void **state)
{
	(void)state;
	/* evident's key is exactly 90 days old: not older than the bound. */
	static const struct door_reply r[] = {
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_management.xml",
	     NULL},
	};
	struct test_door d;
	run(&d, r, N(r));
	/* admin holds a console password only: console-mfa's. */
	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = door_finding(&d, "user/evident");
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_int_equal(
	    json_integer_value(json_object_get(key(f, 0), "age_days")), 90);
	assert_int_equal(door_count(&d, EV_STATUS_PASS, "user/admin"), 0);
	finish(&d);
}

static void unused_and_never_used_keys(void **state)
{
	(void)state;
	char *xml = report_xml(
	    HEADER ROOT_ROW
	    /* used 200 days ago */
	    "stale,arn:aws:iam::111122223333:user/stale,"
	    "2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,"
	    "2025-01-01T10:00:00+00:00,2024-08-13T10:00:00+00:00,us-east-1,"
	    "s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
	    /* created 100 days ago, never used */
	    "never,arn:aws:iam::111122223333:user/never,"
	    "2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,"
	    "2024-11-21T10:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,"
	    "false,N/A,false,N/A\n"
	    /* created 10 days ago, never used: young enough; the MFA state
	     * of its console password, unreported, is console-mfa's */
	    "fresh,arn:aws:iam::111122223333:user/fresh,"
	    "2024-01-01T00:00:00+00:00,true,2025-02-20T10:00:00+00:00,"
	    "2024-01-01T00:00:00+00:00,N/A,not_supported,true,"
	    "2025-02-19T10:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,"
	    "false,N/A,false,N/A\n"
	    /* nothing at all: no finding */
	    "idle,arn:aws:iam::111122223333:user/idle,"
	    "2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,"
	    "N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
	    /* an active key whose rotation date AWS did not give */
	    "odd,arn:aws:iam::111122223333:user/odd,"
	    "2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,"
	    "not_supported,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,"
	    "N/A\n");
	struct door_reply r[] = {
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, xml, NULL},
	};
	/* A year's key age allowed, so only the use rules speak. */
	struct test_door d;
	run_with(&d, r, N(r), 365);
	assert_int_equal(d.findings.n, 4);
	const struct ev_finding *f = door_finding(&d, "user/stale");
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason,
			    "access key 1 unused for 200 days (max 90)");
	assert_int_equal(json_integer_value(
			     json_object_get(key(f, 0), "days_since_last_use")),
			 200);
	f = door_finding(&d, "user/never");
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason,
			    "access key 1 never used, created 100 days ago");
	f = door_finding(&d, "user/fresh");
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->reason,
			    "1 active key within age and use bounds");
	/* Missing data is not a pass: the user's finding is an error. */
	f = door_finding(&d, "user/odd");
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->reason, "credential report incomplete: access "
				       "key 1 has no rotation date");
	json_t *rep = json_object_get(f->details, "credential_report");
	assert_int_equal(
	    json_integer_value(json_object_get(rep, "age_seconds")), 5400);
	finish(&d);
	free(xml);
}

static void no_credentials_at_all(void **state)
{
	(void)state;
	char *xml = report_xml(HEADER ROOT_ROW);
	struct door_reply r[] = {
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, xml, NULL},
	};
	struct test_door d;
	run(&d, r, N(r));
	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_NOT_APPLICABLE);
	assert_string_equal(f->resource, SINGLE);
	assert_int_equal(
	    json_integer_value(json_object_get(f->details, "users")), 0);
	finish(&d);
	free(xml);
}

/* Console users without keys or certificates, MFA or not, are nothing to
 * this probe: the account has no key to judge. */
static void console_users_only(void **state)
{
	(void)state;
	char *xml = report_xml(
	    HEADER ROOT_ROW
	    "nomfa,arn:aws:iam::111122223333:user/nomfa,"
	    "2024-01-01T00:00:00+00:00,true,2025-02-20T10:00:00+00:00,"
	    "2024-01-01T00:00:00+00:00,N/A,false,false,N/A,N/A,N/A,N/A,"
	    "false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
	    "withmfa,arn:aws:iam::111122223333:user/withmfa,"
	    "2024-01-01T00:00:00+00:00,true,2025-02-20T10:00:00+00:00,"
	    "2024-01-01T00:00:00+00:00,N/A,true,false,N/A,N/A,N/A,N/A,"
	    "false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n");
	struct door_reply r[] = {
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, xml, NULL},
	};
	struct test_door d;
	run(&d, r, N(r));
	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_NOT_APPLICABLE);
	assert_string_equal(f->resource, SINGLE);
	assert_string_equal(f->reason, "no IAM user holds an access key or a "
				       "signing certificate");
	assert_int_equal(
	    json_integer_value(json_object_get(f->details, "users")), 2);
	finish(&d);
	free(xml);
}

static void errors_give_no_verdict(void **state)
{
	(void)state;
	static const struct door_reply denied[] = {
	    {"GenerateCredentialReport", NULL, 403, "@iam/access_denied.xml",
	     NULL},
	};
	struct test_door d;
	run(&d, denied, N(denied));
	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->resource, SINGLE);
	assert_string_equal(f->error_code, "AccessDenied");
	assert_string_equal(f->request_id,
			    "8e4f3051-hand-edited-access-denied");
	assert_int_equal(f->n_obs, 1);
	assert_int_equal(f->obs[0], 0);
	finish(&d);

	static const struct door_reply malformed[] = {
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_malformed.xml",
	     NULL},
	};
	run(&d, malformed, N(malformed));
	assert_int_equal(d.findings.n, 1);
	f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->request_id, "7d3e2f40-hand-edited-malformed");
	assert_non_null(
	    strstr(f->reason, "row 3: 10 fields, the header has 22"));
	finish(&d);
}

static void one_report_for_three_probes(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_management.xml",
	     NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_management.xml",
	     NULL},
	    {"ListOrganizationsFeatures", NULL, 200,
	     "@iam/features_management.xml", NULL},
	    {"ListVirtualMFADevices", NULL, 200, "@iam/vmfa_management.xml",
	     NULL},
	};
	struct test_door d;
	test_door_init(&d, MGMT, NULL, r, N(r));
	assert_int_equal(ev_probe_access_keys_run(&d.ctx), EV_OK);
	assert_int_equal(ev_probe_root_usage_run(&d.ctx), EV_OK);
	assert_int_equal(ev_probe_root_mfa_run(&d.ctx), EV_OK);
	assert_int_equal(door_calls(&d, "GenerateCredentialReport"), 1);
	assert_int_equal(door_calls(&d, "GetCredentialReport"), 1);
	/* Each cites the same two calls. */
	for (size_t i = 0; i < d.findings.n; i++) {
		const struct ev_finding *f = &d.findings.items[i];
		bool gen = false, get = false;
		for (size_t k = 0; k < f->n_obs; k++) {
			gen |= f->obs[k] == 0;
			get |= f->obs[k] == 1;
		}
		assert_true(gen && get);
	}
	finish(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(recorded_single_account),
	    cmocka_unit_test(recorded_demo_management),
	    cmocka_unit_test(unused_and_never_used_keys),
	    cmocka_unit_test(no_credentials_at_all),
	    cmocka_unit_test(console_users_only),
	    cmocka_unit_test(errors_give_no_verdict),
	    cmocka_unit_test(one_report_for_three_probes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
