/* console-mfa on recorded simulator answers (single-account, demo-org) and
 * hand-written reports for the edge cases. The door's clock is
 * 2025-03-01T10:00:00Z. */
#include "probe_door.h"

#include "credreport.h"
#include "digest.h"
#include "probes.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))
#define SINGLE	"111122223333"
#define SANDBOX "777788889999"

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

/* A root with a console password and no MFA: root-mfa's to judge. */
#define ROOT_ROW_NO_MFA                                                        \
	"<root_account>,arn:aws:iam::111122223333:root,"                       \
	"2019-12-19T10:00:00+00:00,true,2025-02-01T10:00:00+00:00,"            \
	"not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,false,N/A,"   \
	"N/A,N/A,N/A,false,N/A,false,N/A\n"

/* The cells after mfa_active: no keys, no certificates. */
#define NO_KEYS                                                                \
	"false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"

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

static void run_in(struct test_door *d, const char *account,
		   const struct door_reply *r, size_t n)
{
	test_door_init(d, account, NULL, r, n);
	assert_int_equal(ev_probe_console_mfa_run(&d->ctx), EV_OK);
	for (size_t i = 0; i < d->findings.n; i++) {
		assert_string_equal(d->findings.items[i].probe_id,
				    "console-mfa");
		assert_string_equal(d->findings.items[i].account, account);
		assert_string_equal(d->findings.items[i].region, "");
	}
}

static void run(struct test_door *d, const struct door_reply *r, size_t n)
{
	run_in(d, SINGLE, r, n);
}

static void finish(struct test_door *d)
{
	test_door_cleanup(d, ev_credreport_state_cleanup);
}

/* Findings of any status on a resource containing part. */
static size_t findings_on(const struct test_door *d, const char *part)
{
	size_t n = 0;
	for (int st = 0; st < EV_STATUS_COUNT_; st++)
		n += door_count(d, (enum ev_status)st, part);
	return n;
}

static const char *detail_str(const struct ev_finding *f, const char *name)
{
	return json_string_value(json_object_get(f->details, name));
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
	/* alice, bob and dave sign in to the console; carol and
	 * evident-auditor hold keys only; root is root-mfa's. */
	assert_int_equal(d.findings.n, 3);
	assert_int_equal(door_count(&d, EV_STATUS_FAIL, NULL), 1);
	assert_int_equal(door_count(&d, EV_STATUS_PASS, NULL), 2);
	assert_int_equal(findings_on(&d, ":root"), 0);
	assert_int_equal(findings_on(&d, "carol"), 0);
	assert_int_equal(findings_on(&d, "evident-auditor"), 0);

	const struct ev_finding *f = door_finding(&d, "user/bob");
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->resource, "arn:aws:iam::111122223333:user/bob");
	assert_string_equal(f->reason, "console password without MFA");
	assert_string_equal(detail_str(f, "user"), "bob");
	assert_true(
	    json_is_true(json_object_get(f->details, "password_enabled")));
	assert_true(json_is_false(json_object_get(f->details, "mfa_active")));
	assert_string_equal(detail_str(f, "password_last_used"),
			    "no_information");
	assert_string_equal(detail_str(f, "password_last_changed"),
			    "2022-09-13T10:00:05Z");
	/* Keys are access-keys' business: bob's 399-day-old key is not
	 * mentioned. */
	assert_null(json_object_get(f->details, "access_keys"));
	json_t *rep = json_object_get(f->details, "credential_report");
	assert_string_equal(
	    json_string_value(json_object_get(rep, "generated_time")),
	    "2025-03-01T10:00:06Z");
	assert_true(json_is_integer(json_object_get(rep, "age_seconds")));
	/* Generate, Get */
	assert_int_equal(f->n_obs, 2);
	assert_int_equal(f->obs[0], 0);
	assert_int_equal(f->obs[1], 1);

	f = door_finding(&d, "user/alice");
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->reason, "console password with MFA");
	assert_true(json_is_true(json_object_get(f->details, "mfa_active")));
	assert_string_equal(detail_str(f, "password_last_used"),
			    "2025-02-27T10:00:05Z");
	assert_int_equal(f->n_obs, 2);

	f = door_finding(&d, "user/dave");
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->reason, "console password with MFA");
	finish(&d);
}

static void recorded_demo_org(void **state)
{
	(void)state;
	/* management: admin with MFA; evident holds a key only. */
	static const struct door_reply mgmt[] = {
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_management.xml",
	     NULL},
	};
	struct test_door d;
	run(&d, mgmt, N(mgmt));
	assert_int_equal(d.findings.n, 1);
	assert_int_equal(findings_on(&d, "user/evident"), 0);
	const struct ev_finding *f = door_finding(&d, "user/admin");
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->reason, "console password with MFA");
	finish(&d);

	/* sandbox: intern without MFA fails; root, without MFA too, is not
	 * judged here. */
	static const struct door_reply sandbox[] = {
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_sandbox.xml", NULL},
	};
	run_in(&d, SANDBOX, sandbox, N(sandbox));
	assert_int_equal(d.findings.n, 1);
	f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->resource,
			    "arn:aws:iam::777788889999:user/intern");
	assert_int_equal(findings_on(&d, ":root"), 0);
	assert_string_equal(f->reason, "console password without MFA");
	assert_string_equal(detail_str(f, "password_last_used"),
			    "2025-01-10T10:00:00Z");
	finish(&d);
}

static void unreported_cells_are_errors(void **state)
{
	(void)state;
	char *xml = report_xml(
	    HEADER ROOT_ROW_NO_MFA
	    /* a password, MFA state not given */
	    "unsure,arn:aws:iam::111122223333:user/unsure,"
	    "2024-01-01T00:00:00+00:00,true,2025-02-20T10:00:00+00:00,"
	    "2024-01-01T00:00:00+00:00,N/A,not_supported," NO_KEYS
	    /* the password state itself not given */
	    "unknown,arn:aws:iam::111122223333:user/unknown,"
	    "2024-01-01T00:00:00+00:00,not_supported,N/A,N/A,N/A,false," NO_KEYS
	    /* no password: MFA or not, no console access to judge */
	    "mfa-no-password,arn:aws:iam::111122223333:user/mfa-no-password,"
	    "2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,true," NO_KEYS
	    "nothing,arn:aws:iam::111122223333:user/nothing,"
	    "2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false," NO_KEYS
	    /* a password and MFA */
	    "good,arn:aws:iam::111122223333:user/good,"
	    "2024-01-01T00:00:00+00:00,true,2025-02-28T10:00:00+00:00,"
	    "2024-06-01T00:00:00+00:00,N/A,true," NO_KEYS);
	struct door_reply r[] = {
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, xml, NULL},
	};
	struct test_door d;
	run(&d, r, N(r));
	assert_int_equal(d.findings.n, 3);
	assert_int_equal(door_count(&d, EV_STATUS_FAIL, NULL), 0);
	assert_int_equal(door_count(&d, EV_STATUS_ERROR, NULL), 2);
	assert_int_equal(door_count(&d, EV_STATUS_PASS, NULL), 1);
	/* root has a password and no MFA, yet no finding here. */
	assert_int_equal(findings_on(&d, ":root"), 0);
	assert_int_equal(findings_on(&d, "no-password"), 0);
	assert_int_equal(findings_on(&d, "nothing"), 0);

	/* Missing data is not a pass, nor a fail. */
	const struct ev_finding *f = door_finding(&d, "user/unsure");
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->reason, "credential report incomplete: "
				       "console password, MFA state not "
				       "reported");
	assert_string_equal(detail_str(f, "mfa_active"), "not_supported");
	json_t *rep = json_object_get(f->details, "credential_report");
	assert_string_equal(
	    json_string_value(json_object_get(rep, "generated_time")),
	    "2025-03-01T08:30:00Z");
	assert_int_equal(
	    json_integer_value(json_object_get(rep, "age_seconds")), 5400);

	/* Nor is a user whose console access is unknown left out. */
	f = door_finding(&d, "user/unknown");
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->reason, "credential report incomplete: "
				       "console password state not reported");
	assert_string_equal(detail_str(f, "password_enabled"), "not_supported");

	f = door_finding(&d, "user/good");
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(detail_str(f, "password_last_changed"),
			    "2024-06-01T00:00:00Z");
	assert_int_equal(f->n_obs, 2);
	finish(&d);
	free(xml);
}

static void no_console_users(void **state)
{
	(void)state;
	/* Two users holding keys or nothing, none a password; root's
	 * password does not count. */
	char *xml = report_xml(
	    HEADER ROOT_ROW_NO_MFA
	    "ci,arn:aws:iam::111122223333:user/ci,2024-01-01T00:00:00+00:00,"
	    "false,N/A,N/A,N/A,false,true,2025-02-01T10:00:00+00:00,"
	    "2025-02-28T10:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,"
	    "false,N/A,false,N/A\n"
	    "idle,arn:aws:iam::111122223333:user/idle,"
	    "2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false," NO_KEYS);
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
	assert_string_equal(f->reason, "no IAM user has a console password");
	assert_int_equal(
	    json_integer_value(json_object_get(f->details, "users")), 2);
	json_t *rep = json_object_get(f->details, "credential_report");
	assert_int_equal(
	    json_integer_value(json_object_get(rep, "age_seconds")), 5400);
	assert_int_equal(f->n_obs, 2);
	finish(&d);
	free(xml);

	/* A report with the root row alone: no users at all. */
	xml = report_xml(HEADER ROOT_ROW_NO_MFA);
	struct door_reply r2[] = {
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, xml, NULL},
	};
	run(&d, r2, N(r2));
	assert_int_equal(d.findings.n, 1);
	f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_NOT_APPLICABLE);
	assert_int_equal(
	    json_integer_value(json_object_get(f->details, "users")), 0);
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
	assert_non_null(strstr(f->reason, "credential report: "));
	assert_int_equal(f->n_obs, 1);
	assert_int_equal(f->obs[0], 0);
	assert_int_equal(door_calls(&d, "GetCredentialReport"), 0);
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
	assert_string_equal(f->resource, SINGLE);
	assert_string_equal(f->request_id, "7d3e2f40-hand-edited-malformed");
	assert_non_null(
	    strstr(f->reason, "row 3: 10 fields, the header has 22"));
	assert_int_equal(f->n_obs, 2);
	finish(&d);
}

/* console-mfa rides on the report access-keys and root-usage fetch: one
 * Generate, one Get for the three. */
static void one_report_shared(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_single.xml", NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_single.xml", NULL},
	};
	struct test_door d;
	test_door_init(&d, SINGLE, NULL, r, N(r));
	assert_int_equal(ev_probe_access_keys_run(&d.ctx), EV_OK);
	size_t before = d.findings.n;
	assert_int_equal(ev_probe_console_mfa_run(&d.ctx), EV_OK);
	assert_int_equal(ev_probe_root_usage_run(&d.ctx), EV_OK);
	assert_int_equal(door_calls(&d, "GenerateCredentialReport"), 1);
	assert_int_equal(door_calls(&d, "GetCredentialReport"), 1);
	/* console-mfa's findings cite the calls access-keys made. */
	size_t mine = 0;
	for (size_t i = before; i < d.findings.n; i++) {
		const struct ev_finding *f = &d.findings.items[i];
		if (strcmp(f->probe_id, "console-mfa") != 0)
			continue;
		mine++;
		assert_int_equal(f->n_obs, 2);
		assert_int_equal(f->obs[0], 0);
		assert_int_equal(f->obs[1], 1);
	}
	assert_int_equal(mine, 3);
	finish(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(recorded_single_account),
	    cmocka_unit_test(recorded_demo_org),
	    cmocka_unit_test(unreported_cells_are_errors),
	    cmocka_unit_test(no_console_users),
	    cmocka_unit_test(errors_give_no_verdict),
	    cmocka_unit_test(one_report_shared),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
