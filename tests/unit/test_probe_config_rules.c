/* The config-rules probe on recorded simulator answers (demo-org, whose
 * pages hold two items) and hand-edited variants under
 * tests/unit/data/config/. */
#include "probe_door.h"
#include "probes.h"

#define N(a)   (sizeof(a) / sizeof((a)[0]))
#define ACCT   "111122223333"
#define DENIED "{\"__type\":\"AccessDeniedException\",\"Message\":\"no\"}"
/* The simulator's page tokens (rules, then compliance). */
#define R_TOK2 "AAEA+/97Im8iOjIsImgiOiJjODJiZjVkMGU0MDM3ZmUyIn0="
#define R_TOK3 "AAEA+/97Im8iOjQsImgiOiJjODJiZjVkMGU0MDM3ZmUyIn0="
#define C_TOK2 "AAEA+/97Im8iOjIsImgiOiJmYmE1NmU1ZjgyODA0OGM3In0="
#define C_TOK3 "AAEA+/97Im8iOjQsImgiOiJmYmE1NmU1ZjgyODA0OGM3In0="

static const char *dstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static const struct door_reply paged[] = {
    {"DescribeConfigRules", R_TOK3, 200, "@config/rules-p3.json", NULL},
    {"DescribeConfigRules", R_TOK2, 200, "@config/rules-p2.json", NULL},
    {"DescribeConfigRules", NULL, 200, "@config/rules-p1.json", NULL},
    {"DescribeComplianceByConfigRule", C_TOK3, 200,
     "@config/compliance-p3.json", NULL},
    {"DescribeComplianceByConfigRule", C_TOK2, 200,
     "@config/compliance-p2.json", NULL},
    {"DescribeComplianceByConfigRule", NULL, 200, "@config/compliance-p1.json",
     NULL},
};

static void rules_and_compliance_across_pages(void **state)
{
	(void)state;
	struct test_door d;
	test_door_init(&d, ACCT, "eu-west-1", paged, N(paged));
	assert_int_equal(ev_probe_config_rules_run(&d.ctx), EV_OK);

	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_string_equal(f->probe_id, "config-rules");
	assert_string_equal(f->resource, "arn:aws:config:eu-west-1:" ACCT ":");
	/* Non-compliant rules are evidence Config is used: no failure. */
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->reason,
			    "5 AWS Config rules in eu-west-1; 1 non-compliant "
			    "(listed as evidence that Config audits; not a "
			    "failure of this control)");
	/* Three pages of rules, three of compliance. */
	assert_int_equal(f->n_obs, 6);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(f->obs[i], i);
	assert_int_equal(d.n_calls, 6);
	assert_non_null(strstr(d.calls[1].body, "\"NextToken\":\"" R_TOK2));

	assert_int_equal(
	    json_integer_value(json_object_get(f->details, "rule_count")), 5);
	const json_t *rules = json_object_get(f->details, "rules");
	assert_int_equal(json_array_size(rules), 5);
	const json_t *r0 = json_array_get(rules, 0);
	assert_string_equal(dstr(r0, "name"), "root-account-mfa-enabled");
	assert_string_equal(dstr(r0, "source"), "ROOT_ACCOUNT_MFA_ENABLED");
	assert_string_equal(dstr(r0, "compliance"), "COMPLIANT");
	const json_t *nc = json_object_get(f->details, "non_compliant");
	assert_int_equal(json_array_size(nc), 1);
	assert_string_equal(dstr(json_array_get(nc, 0), "name"),
			    "s3-bucket-versioning-enabled");
	assert_int_equal(json_integer_value(json_object_get(
			     json_array_get(nc, 0), "non_compliant_resources")),
			 3);
	const json_t *counts = json_object_get(f->details, "compliance_counts");
	assert_int_equal(
	    json_integer_value(json_object_get(counts, "COMPLIANT")), 3);
	assert_int_equal(
	    json_integer_value(json_object_get(counts, "NOT_APPLICABLE")), 1);
	test_door_cleanup(&d, NULL);
}

static void zero_rules_fails_without_compliance_call(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"DescribeConfigRules", NULL, 200, "@config/rules-none.json", NULL},
	};
	struct test_door d;
	test_door_init(&d, ACCT, "ap-southeast-2", r, N(r));
	assert_int_equal(ev_probe_config_rules_run(&d.ctx), EV_OK);
	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason, "no AWS Config rules in ap-southeast-2");
	assert_int_equal(f->n_obs, 1);
	assert_int_equal(d.n_calls, 1);
	assert_int_equal(
	    json_integer_value(json_object_get(f->details, "rule_count")), 0);
	test_door_cleanup(&d, NULL);
}

static void rule_without_compliance_entry(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"DescribeConfigRules", NULL, 200,
	     "{\"ConfigRules\":[{\"ConfigRuleName\":\"new-rule\",\"Source\":{"
	     "\"Owner\":\"CUSTOM_LAMBDA\",\"SourceIdentifier\":\"arn:aws:"
	     "lambda:eu-west-1:111122223333:function:check\"}}]}",
	     NULL},
	    {"DescribeComplianceByConfigRule", NULL, 200,
	     "{\"ComplianceByConfigRules\":[]}", NULL},
	};
	struct test_door d;
	test_door_init(&d, ACCT, "eu-west-1", r, N(r));
	assert_int_equal(ev_probe_config_rules_run(&d.ctx), EV_OK);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->reason, "1 AWS Config rule in eu-west-1; none "
				       "non-compliant");
	const json_t *r0 =
	    json_array_get(json_object_get(f->details, "rules"), 0);
	assert_string_equal(dstr(r0, "compliance"), "NO_DATA");
	assert_string_equal(dstr(r0, "owner"), "CUSTOM_LAMBDA");
	test_door_cleanup(&d, NULL);
}

static void compliance_unreadable_keeps_rules_verdict(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"DescribeConfigRules", R_TOK3, 200, "@config/rules-p3.json", NULL},
	    {"DescribeConfigRules", R_TOK2, 200, "@config/rules-p2.json", NULL},
	    {"DescribeConfigRules", NULL, 200, "@config/rules-p1.json", NULL},
	    {"DescribeComplianceByConfigRule", NULL, 400, DENIED,
	     "x-amzn-RequestId: 41c0e9d2-compliance"},
	};
	struct test_door d;
	test_door_init(&d, ACCT, "eu-west-1", r, N(r));
	assert_int_equal(ev_probe_config_rules_run(&d.ctx), EV_OK);
	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->reason,
			    "5 AWS Config rules in eu-west-1; their compliance "
			    "could not be read (AccessDeniedException)");
	const json_t *e = json_object_get(f->details, "compliance_error");
	assert_string_equal(dstr(e, "code"), "AccessDeniedException");
	assert_string_equal(dstr(e, "request_id"), "41c0e9d2-compliance");
	/* The refused call is cited with the three pages of rules. */
	assert_int_equal(f->n_obs, 4);
	assert_int_equal(f->obs[3], 3);
	test_door_cleanup(&d, NULL);
}

static void rules_denied_is_error(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"DescribeConfigRules", R_TOK2, 400, DENIED,
	     "x-amzn-RequestId: 41c0e9d2-page2"},
	    {"DescribeConfigRules", NULL, 200, "@config/rules-p1.json", NULL},
	};
	struct test_door d;
	test_door_init(&d, ACCT, "eu-west-1", r, N(r));
	assert_int_equal(ev_probe_config_rules_run(&d.ctx), EV_OK);
	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	/* A refused second page is no verdict on the rules. */
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->error_code, "AccessDeniedException");
	assert_string_equal(f->request_id, "41c0e9d2-page2");
	assert_non_null(strstr(f->reason, "DescribeConfigRules: "));
	assert_int_equal(f->n_obs, 2);
	assert_int_equal(d.n_calls, 2);
	test_door_cleanup(&d, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rules_and_compliance_across_pages),
	    cmocka_unit_test(zero_rules_fails_without_compliance_call),
	    cmocka_unit_test(rule_without_compliance_entry),
	    cmocka_unit_test(compliance_unreadable_keeps_rules_verdict),
	    cmocka_unit_test(rules_denied_is_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
