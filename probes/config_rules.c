/* Probe config-rules (MSP-8.2.3, DEVOPS-3.3): AWS Config rules are present
 * in the job's region, with their compliance.
 *
 * One finding per region, resource "arn:<partition>:config:<region>:
 * <account>:". Zero rules fails. Rules found NON_COMPLIANT do not fail
 * the control: they show Config in use for security auditing, which is
 * what the control asks; they are listed in details (with how many
 * resources each flags) for the auditor. When the rules are read but
 * their compliance cannot be, the finding still passes on the rules and
 * carries the compliance error in details (code and request ID): the
 * verdict rests only on what was read. */
#include "probes.h"

#include <stdio.h>
#include <string.h>

#define PROBE_ID (ev_probes()[EV_PROBE_CONFIG_RULES].id)

/* Pages kept for citing (each page is one observation). */
#define MAX_PAGE_OBS 32

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

struct rules {
	json_t *list; /* [{name, arn, source, owner, state}] */
};

static enum ev_err on_rules(void *arg, const struct ev_aws_response *page,
			    struct ev_error *err)
{
	struct rules *r = arg;
	const json_t *items = json_object_get(page->json, "ConfigRules");
	EV_ENSURE_E(err, json_is_array(items), EV_E_MALFORMED,
		    "DescribeConfigRules: no ConfigRules in the answer");
	size_t i;
	const json_t *it;
	json_array_foreach(items, i, it)
	{
		const json_t *src = json_object_get(it, "Source");
		json_t *x = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}",
				      "name", jstr(it, "ConfigRuleName"), "arn",
				      jstr(it, "ConfigRuleArn"), "owner",
				      jstr(src, "Owner"), "source",
				      jstr(src, "SourceIdentifier"), "state",
				      jstr(it, "ConfigRuleState"), "created_by",
				      jstr(it, "CreatedBy"));
		EV_ENSURE_E(err, x && json_array_append_new(r->list, x) == 0,
			    EV_E_NOMEM, "out of memory");
	}
	return EV_OK;
}

/* name -> {type, count, capped} */
static enum ev_err on_compliance(void *arg, const struct ev_aws_response *page,
				 struct ev_error *err)
{
	json_t *map = arg;
	const json_t *items =
	    json_object_get(page->json, "ComplianceByConfigRules");
	EV_ENSURE_E(err, json_is_array(items), EV_E_MALFORMED,
		    "DescribeComplianceByConfigRule: no "
		    "ComplianceByConfigRules in the answer");
	size_t i;
	const json_t *it;
	json_array_foreach(items, i, it)
	{
		const char *name = jstr(it, "ConfigRuleName");
		const json_t *c = json_object_get(it, "Compliance");
		const json_t *cnt =
		    json_object_get(c, "ComplianceContributorCount");
		if (!name)
			continue;
		json_t *x = json_pack(
		    "{s:s, s:O?, s:b}", "type",
		    jstr(c, "ComplianceType") ? jstr(c, "ComplianceType")
					      : "INSUFFICIENT_DATA",
		    "non_compliant_resources",
		    json_object_get(cnt, "CappedCount"), "count_capped",
		    json_is_true(json_object_get(cnt, "CapExceeded")));
		EV_ENSURE_E(err, x && json_object_set_new(map, name, x) == 0,
			    EV_E_NOMEM, "out of memory");
	}
	return EV_OK;
}

static json_t *error_json(const struct ev_error *e)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "error", ev_err_name(e->code),
			 "code", e->aws_code, "request_id", e->request_id,
			 "message", e->message);
}

/* Joins the rules' compliance into the list and counts by type. */
static enum ev_err join(json_t *list, const json_t *map, json_t *noncompliant,
			json_t *by_type)
{
	size_t i;
	json_t *rule;
	json_array_foreach(list, i, rule)
	{
		const char *name = jstr(rule, "name");
		const json_t *c = name ? json_object_get(map, name) : NULL;
		/* A rule never evaluated has no compliance entry. */
		const char *type = c ? jstr(c, "type") : "NO_DATA";
		if (json_object_set_new(rule, "compliance", json_string(type)))
			return EV_E_NOMEM;
		const json_t *n = json_object_get(c, "non_compliant_resources");
		json_int_t was =
		    json_integer_value(json_object_get(by_type, type));
		if (json_object_set_new(by_type, type, json_integer(was + 1)))
			return EV_E_NOMEM;
		if (strcmp(type, "NON_COMPLIANT") != 0)
			continue;
		json_t *x =
		    json_pack("{s:s?, s:O?, s:O?}", "name", name,
			      "non_compliant_resources", n, "count_capped",
			      json_object_get(c, "count_capped"));
		if (!x || json_array_append_new(noncompliant, x) != 0)
			return EV_E_NOMEM;
	}
	return EV_OK;
}

enum ev_err ev_probe_config_rules_run(struct ev_probe_ctx *ctx)
{
	char resource[128];
	const char *partition = ev_region_partition(ctx->region);
	snprintf(resource, sizeof(resource),
		 "arn:%s:config:%s:%s:", partition ? partition : "aws",
		 ctx->region, ctx->account);

	struct rules rules = {json_array()};
	json_t *map = json_object();
	json_t *details = NULL;
	struct ev_error err;
	ev_error_clear(&err);
	unsigned obs[2 * MAX_PAGE_OBS];
	size_t n_rules_obs = 0, n_comp_obs = 0;
	enum ev_err rc = EV_OK;
	if (!rules.list || !map) {
		rc = EV_E_NOMEM;
		goto out;
	}

	struct ev_aws_call call = {
	    .service = EV_SVC_CONFIG,
	    .action = "DescribeConfigRules",
	    .region = ctx->region,
	};
	enum ev_err rules_rc =
	    ev_probe_paginate(ctx, &call, on_rules, &rules, obs, MAX_PAGE_OBS,
			      &n_rules_obs, &err);
	size_t kept_rules_obs =
	    n_rules_obs < MAX_PAGE_OBS ? n_rules_obs : MAX_PAGE_OBS;
	if (rules_rc == EV_E_NOMEM) {
		rc = EV_E_NOMEM;
		goto out;
	}
	if (rules_rc != EV_OK) {
		rc = ev_findings_add_error(
		    ctx->findings, PROBE_ID, ctx->account, ctx->region,
		    resource, &err, obs, kept_rules_obs, "DescribeConfigRules");
		goto out;
	}
	size_t n_rules = json_array_size(rules.list);
	if (n_rules == 0) {
		rc = ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
				     ctx->region, resource, EV_STATUS_FAIL,
				     json_pack("{s:s, s:i, s:[]}", "region",
					       ctx->region, "rule_count", 0,
					       "rules"),
				     obs, kept_rules_obs,
				     "no AWS Config rules in %s", ctx->region);
		goto out;
	}

	/* Compliance is fetched after the rules (never for none), into the
	 * second half of obs. */
	struct ev_error comp_err;
	ev_error_clear(&comp_err);
	call.action = "DescribeComplianceByConfigRule";
	enum ev_err comp_rc = ev_probe_paginate(
	    ctx, &call, on_compliance, map, obs + kept_rules_obs, MAX_PAGE_OBS,
	    &n_comp_obs, &comp_err);
	if (comp_rc == EV_E_NOMEM) {
		rc = EV_E_NOMEM;
		goto out;
	}
	size_t kept_comp_obs =
	    n_comp_obs < MAX_PAGE_OBS ? n_comp_obs : MAX_PAGE_OBS;

	json_t *noncompliant = json_array();
	json_t *by_type = json_object();
	details = json_pack("{s:s, s:i, s:O, s:o?, s:o?}", "region",
			    ctx->region, "rule_count", (json_int_t)n_rules,
			    "rules", rules.list, "non_compliant", noncompliant,
			    "compliance_counts", by_type);
	if (!details || !noncompliant || !by_type) {
		rc = EV_E_NOMEM;
		goto out;
	}
	if (comp_rc == EV_OK) {
		rc = join(rules.list, map, noncompliant, by_type);
	} else {
		json_t *e = error_json(&comp_err);
		rc = e && json_object_set_new(details, "compliance_error", e) ==
				 0
			 ? EV_OK
			 : EV_E_NOMEM;
	}
	if (rc != EV_OK)
		goto out;

	size_t n_nc = json_array_size(noncompliant);
	char tail[200];
	if (comp_rc != EV_OK)
		snprintf(tail, sizeof(tail),
			 "; their compliance could not be read (%s)",
			 comp_err.aws_code[0] ? comp_err.aws_code
					      : ev_err_name(comp_err.code));
	else if (n_nc)
		snprintf(tail, sizeof(tail),
			 "; %zu non-compliant (listed as evidence that Config "
			 "audits; not a failure of this control)",
			 n_nc);
	else
		snprintf(tail, sizeof(tail), "; none non-compliant");
	json_t *d = details;
	details = NULL;
	rc = ev_findings_add(ctx->findings, PROBE_ID, ctx->account, ctx->region,
			     resource, EV_STATUS_PASS, d, obs,
			     kept_rules_obs + kept_comp_obs,
			     "%zu AWS Config rule%s in %s%s", n_rules,
			     n_rules == 1 ? "" : "s", ctx->region, tail);
out:
	json_decref(details);
	json_decref(rules.list);
	json_decref(map);
	return rc;
}
