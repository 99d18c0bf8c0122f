/* root-mfa on recorded simulator answers (demo-org, single-account) and
 * hand-edited copies (tests/unit/data/iam/README.md). */
#include "probe_door.h"

#include "credreport.h"
#include "probes.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))
#define MGMT	"111122223333"
#define MEMBER	"444455556666"
#define SANDBOX "777788889999"
#define SINGLE	"111122223333"

#define GEN_COMPLETE                                                           \
	{                                                                      \
		"GenerateCredentialReport", NULL, 200,                         \
		    "@iam/generate_complete.xml", NULL                         \
	}
#define FEATURES_OK                                                            \
	{                                                                      \
		"ListOrganizationsFeatures", NULL, 200,                        \
		    "@iam/features_management.xml", NULL                       \
	}

static void start(struct test_door *d, const char *account,
		  const struct door_reply *r, size_t n)
{
	test_door_init(d, account, NULL, r, n);
	d->ctx.management_account = MGMT;
}

static void finish(struct test_door *d)
{
	test_door_cleanup(d, ev_credreport_state_cleanup);
}

static const struct ev_finding *only_finding(const struct test_door *d)
{
	assert_int_equal(d->findings.n, 1);
	const struct ev_finding *f = &d->findings.items[0];
	assert_string_equal(f->probe_id, "root-mfa");
	assert_string_equal(f->region, "");
	return f;
}

static const char *detail(const struct ev_finding *f, const char *key)
{
	return json_string_value(json_object_get(f->details, key));
}

static void cites(const struct ev_finding *f, const unsigned *ids, size_t n)
{
	assert_int_equal(f->n_obs, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(f->obs[i], ids[i]);
}

static void hardware_mfa_in_the_management_account(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_management.xml",
	     NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_management.xml",
	     NULL},
	    FEATURES_OK,
	    {"ListVirtualMFADevices", "AssignmentStatus=Assigned", 200,
	     "@iam/vmfa_management.xml", NULL},
	};
	struct test_door d;
	start(&d, MGMT, r, N(r));
	assert_int_equal(ev_probe_root_mfa_run(&d.ctx), EV_OK);
	const struct ev_finding *f = only_finding(&d);
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->resource, "arn:aws:iam::111122223333:root");
	assert_string_equal(f->reason,
			    "root MFA on (a hardware or FIDO device)");
	assert_string_equal(detail(f, "device_kind"), "hardware");
	assert_string_equal(detail(f, "root_credentials_management"),
			    "enabled");
	assert_string_equal(detail(f, "organization_id"), "o-a1b2c3d4e5");
	assert_true(
	    json_is_true(json_object_get(f->details, "report_mfa_active")));
	json_t *rep = json_object_get(f->details, "credential_report");
	assert_string_equal(
	    json_string_value(json_object_get(rep, "generated_time")),
	    "2025-03-01T10:00:03Z");
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(f->details, "account_summary"),
			     "AccountMFAEnabled")),
			 1);
	/* summary, Generate, Get, features, the device list */
	static const unsigned ids[] = {0, 1, 2, 3, 4};
	cites(f, ids, N(ids));
	/* The management account asks itself. */
	assert_int_equal(door_calls(&d, "ListOrganizationsFeatures"), 1);
	assert_string_equal(d.calls[3].account, MGMT);
	finish(&d);
}

static void virtual_mfa_in_a_member(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_production.xml",
	     NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_production.xml",
	     NULL},
	    FEATURES_OK,
	    {"ListVirtualMFADevices", NULL, 200, "@iam/vmfa_production.xml",
	     NULL},
	};
	struct test_door d;
	start(&d, MEMBER, r, N(r));
	assert_int_equal(ev_probe_root_mfa_run(&d.ctx), EV_OK);
	const struct ev_finding *f = only_finding(&d);
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->resource, "arn:aws:iam::444455556666:root");
	assert_string_equal(f->reason, "root MFA on (a virtual device)");
	assert_string_equal(detail(f, "device_kind"), "virtual");
	json_t *devs = json_object_get(f->details, "root_virtual_devices");
	assert_int_equal(json_array_size(devs), 1);
	assert_string_equal(json_string_value(json_array_get(devs, 0)),
			    "arn:aws:iam::444455556666:mfa/"
			    "root-account-mfa-device");
	/* A member asks through the management account. */
	for (size_t i = 0; i < d.n_calls; i++)
		assert_string_equal(
		    d.calls[i].account,
		    strcmp(d.calls[i].action, "ListOrganizationsFeatures") == 0
			? MGMT
			: MEMBER);
	finish(&d);
}

static void no_mfa_fails(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_sandbox.xml", NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_sandbox.xml", NULL},
	    FEATURES_OK,
	};
	struct test_door d;
	start(&d, SANDBOX, r, N(r));
	assert_int_equal(ev_probe_root_mfa_run(&d.ctx), EV_OK);
	const struct ev_finding *f = only_finding(&d);
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason, "root MFA off");
	assert_string_equal(f->resource, "arn:aws:iam::777788889999:root");
	assert_false(
	    json_is_true(json_object_get(f->details, "report_mfa_active")));
	/* No device list is read for a root without MFA. */
	assert_int_equal(door_calls(&d, "ListVirtualMFADevices"), 0);
	static const unsigned ids[] = {0, 1, 2, 3};
	cites(f, ids, N(ids));
	finish(&d);
}

static void mixed_devices_pass(void **state)
{
	(void)state;
	/* Root's virtual device, alice's virtual device, dave's hardware
	 * token: three in use, nothing unexplained. */
	static const struct door_reply plain[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_single.xml", NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_single.xml", NULL},
	    {"ListOrganizationsFeatures", NULL, 400,
	     "@iam/features_no_organization.xml", NULL},
	    {"ListVirtualMFADevices", NULL, 200, "@iam/vmfa_single.xml", NULL},
	};
	struct test_door d;
	test_door_init(&d, SINGLE, NULL, plain, N(plain));
	assert_int_equal(ev_probe_root_mfa_run(&d.ctx), EV_OK);
	const struct ev_finding *f = only_finding(&d);
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(detail(f, "device_kind"), "virtual");
	assert_int_equal(json_integer_value(json_object_get(
			     f->details, "non_virtual_devices_unexplained")),
			 0);
	/* Not in an organization: unknown, the reason kept, no error. */
	assert_string_equal(detail(f, "root_credentials_management"),
			    "unknown");
	assert_string_equal(detail(f, "root_credentials_management_error"),
			    "OrganizationNotFoundException");
	finish(&d);

	/* A fourth device in use that no user accounts for: root holds a
	 * hardware device beside its virtual one. */
	static const struct door_reply mixed[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_single_mixed.xml",
	     NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_single.xml", NULL},
	    {"ListOrganizationsFeatures", NULL, 400,
	     "@iam/features_no_organization.xml", NULL},
	    {"ListVirtualMFADevices", NULL, 200, "@iam/vmfa_single.xml", NULL},
	};
	test_door_init(&d, SINGLE, NULL, mixed, N(mixed));
	assert_int_equal(ev_probe_root_mfa_run(&d.ctx), EV_OK);
	f = only_finding(&d);
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->reason,
			    "root MFA on (virtual and hardware devices)");
	assert_string_equal(detail(f, "device_kind"), "mixed");
	assert_int_equal(json_integer_value(json_object_get(
			     f->details, "non_virtual_devices_unexplained")),
			 1);
	finish(&d);
}

static void sources_disagree(void **state)
{
	(void)state;
	/* The summary (live) says on, the report's root row says off. */
	static const struct door_reply r[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_management.xml",
	     NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200,
	     "@iam/report_root_mfa_disagrees.xml", NULL},
	    FEATURES_OK,
	};
	struct test_door d;
	start(&d, MGMT, r, N(r));
	assert_int_equal(ev_probe_root_mfa_run(&d.ctx), EV_OK);
	const struct ev_finding *f = only_finding(&d);
	assert_int_equal(f->status, EV_STATUS_WARN);
	assert_string_equal(f->reason,
			    "root MFA sources disagree: GetAccountSummary says "
			    "on, the credential report of 2025-03-01T10:00:03Z "
			    "says off");
	finish(&d);

	/* The other way round: the live source says off, so it fails. */
	static const struct door_reply r2[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_sandbox.xml", NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_management.xml",
	     NULL},
	    FEATURES_OK,
	};
	start(&d, MGMT, r2, N(r2));
	assert_int_equal(ev_probe_root_mfa_run(&d.ctx), EV_OK);
	f = only_finding(&d);
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_non_null(strstr(f->reason, "GetAccountSummary says off"));
	finish(&d);
}

static void no_root_credentials_pass(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"GetAccountSummary", NULL, 200,
	     "@iam/summary_no_root_credentials.xml", NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200,
	     "@iam/report_no_root_credentials.xml", NULL},
	    FEATURES_OK,
	};
	struct test_door d;
	start(&d, MEMBER, r, N(r));
	assert_int_equal(ev_probe_root_mfa_run(&d.ctx), EV_OK);
	const struct ev_finding *f = only_finding(&d);
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(
	    f->reason, "no root credentials (no password, access keys or "
		       "certificates); root access managed centrally by the "
		       "organization");
	assert_int_equal(door_calls(&d, "ListVirtualMFADevices"), 0);
	finish(&d);

	/* The report says no password but the summary still counts one:
	 * not "no root credentials", and without MFA it fails. */
	static const struct door_reply r2[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_sandbox.xml", NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200,
	     "@iam/report_no_root_credentials.xml", NULL},
	    FEATURES_OK,
	};
	start(&d, MEMBER, r2, N(r2));
	assert_int_equal(ev_probe_root_mfa_run(&d.ctx), EV_OK);
	f = only_finding(&d);
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason, "root MFA off");
	finish(&d);
}

static void errors_give_no_verdict(void **state)
{
	(void)state;
	/* The summary denied. */
	static const struct door_reply denied_summary[] = {
	    {"GetAccountSummary", NULL, 403, "@iam/access_denied.xml", NULL},
	};
	struct test_door d;
	start(&d, MGMT, denied_summary, N(denied_summary));
	assert_int_equal(ev_probe_root_mfa_run(&d.ctx), EV_OK);
	const struct ev_finding *f = only_finding(&d);
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->error_code, "AccessDenied");
	assert_string_equal(f->request_id,
			    "8e4f3051-hand-edited-access-denied");
	assert_non_null(strstr(f->reason, "GetAccountSummary: "));
	assert_string_equal(f->resource, "arn:aws:iam::111122223333:root");
	static const unsigned one[] = {0};
	cites(f, one, 1);
	finish(&d);

	/* The report denied. */
	static const struct door_reply denied_report[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_management.xml",
	     NULL},
	    {"GenerateCredentialReport", NULL, 403, "@iam/access_denied.xml",
	     NULL},
	};
	start(&d, MGMT, denied_report, N(denied_report));
	assert_int_equal(ev_probe_root_mfa_run(&d.ctx), EV_OK);
	f = only_finding(&d);
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->error_code, "AccessDenied");
	assert_string_equal(f->request_id,
			    "8e4f3051-hand-edited-access-denied");
	assert_non_null(strstr(f->reason, "credential report: "));
	static const unsigned two[] = {0, 1};
	cites(f, two, 2);
	finish(&d);

	/* A malformed report. */
	static const struct door_reply malformed[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_management.xml",
	     NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_malformed.xml",
	     NULL},
	};
	start(&d, MGMT, malformed, N(malformed));
	assert_int_equal(ev_probe_root_mfa_run(&d.ctx), EV_OK);
	f = only_finding(&d);
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->error_code, "");
	assert_string_equal(f->request_id, "7d3e2f40-hand-edited-malformed");
	assert_non_null(strstr(f->reason, "row 3: 10 fields"));
	assert_string_equal(
	    json_string_value(json_object_get(f->details, "error")),
	    "malformed");
	finish(&d);

	/* The device list denied, once MFA is known to be on. */
	static const struct door_reply denied_vmfa[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_management.xml",
	     NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200, "@iam/report_management.xml",
	     NULL},
	    FEATURES_OK,
	    {"ListVirtualMFADevices", NULL, 403, "@iam/access_denied.xml",
	     NULL},
	};
	start(&d, MGMT, denied_vmfa, N(denied_vmfa));
	assert_int_equal(ev_probe_root_mfa_run(&d.ctx), EV_OK);
	f = only_finding(&d);
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_non_null(strstr(f->reason, "ListVirtualMFADevices: "));
	static const unsigned five[] = {0, 1, 2, 3, 4};
	cites(f, five, 5);
	finish(&d);

	/* A report without a root row. */
	static const struct door_reply rootless[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_management.xml",
	     NULL},
	    GEN_COMPLETE,
	    {"GetCredentialReport", NULL, 200,
	     "<GetCredentialReportResponse><GetCredentialReportResult>"
	     "<Content>dXNlcixhcm4KYWxpY2UsYXJuOmF3czppYW06OjExMTEyMjIyMzMzMzp1"
	     "c2VyL2FsaWNlCg==</Content><GeneratedTime>2025-03-01T09:00:00Z"
	     "</GeneratedTime></GetCredentialReportResult>"
	     "</GetCredentialReportResponse>",
	     NULL},
	};
	start(&d, MGMT, rootless, N(rootless));
	assert_int_equal(ev_probe_root_mfa_run(&d.ctx), EV_OK);
	f = only_finding(&d);
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_non_null(strstr(f->reason, "no root row"));
	finish(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hardware_mfa_in_the_management_account),
	    cmocka_unit_test(virtual_mfa_in_a_member),
	    cmocka_unit_test(no_mfa_fails),
	    cmocka_unit_test(mixed_devices_pass),
	    cmocka_unit_test(sources_disagree),
	    cmocka_unit_test(no_root_credentials_pass),
	    cmocka_unit_test(errors_give_no_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
