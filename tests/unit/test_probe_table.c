/* The probe table against the catalog, the AWS service models and the IAM
 * policy generated from it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "config.h"
#include "controls.h"
#include "probes.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Debian's python3-botocore: the service models the SDKs are built from. */
#define BOTOCORE_DATA "/usr/lib/python3/dist-packages/botocore/data"

/* IAM service prefix -> the botocore model folders that define its
 * operations (the prefix is the model's signingName or endpointPrefix,
 * checked below). */
static const struct {
	const char *prefix;
	const char *models[3];
} services[] = {
    {"cloudtrail", {"cloudtrail", NULL}},
    {"config", {"config", NULL}},
    {"ec2", {"ec2", NULL}},
    {"elasticloadbalancing", {"elb", "elbv2", NULL}},
    {"iam", {"iam", NULL}},
    {"lambda", {"lambda", NULL}},
    {"organizations", {"organizations", NULL}},
    {"rds", {"rds", NULL}},
    {"s3", {"s3", NULL}},
    {"sts", {"sts", NULL}},
};

/* IAM actions named otherwise than the API operation they authorize (S3
 * documents these in "Actions, resources, and condition keys"). */
static const struct {
	const char *action;
	const char *operation;
} renamed[] = {
    {"s3:GetLifecycleConfiguration", "GetBucketLifecycleConfiguration"},
    {"s3:GetBucketObjectLockConfiguration", "GetObjectLockConfiguration"},
};

/* Operations AWS added after the botocore Debian ships (1.29): accepted
 * by name only while the installed model lacks them. */
static const char *const newer_than_model[] = {
    "iam:ListOrganizationsFeatures", /* November 2024 */
};

static json_t *models[COUNT(services)][3];

/* The newest version folder of a service's model. */
static json_t *load_model(const char *service)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%s", BOTOCORE_DATA, service);
	DIR *d = opendir(dir);
	if (!d)
		fail_msg("no botocore model folder %s (python3-botocore)", dir);
	char newest[64] = "";
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && strlen(e->d_name) < sizeof(newest) &&
		    strcmp(e->d_name, newest) > 0)
			memcpy(newest, e->d_name, strlen(e->d_name) + 1);
	closedir(d);
	char path[700];
	snprintf(path, sizeof(path), "%s/%s/service-2.json", dir, newest);
	json_error_t jerr;
	json_t *m = json_load_file(path, 0, &jerr);
	if (!m)
		fail_msg("%s: %s", path, jerr.text);
	return m;
}

static int setup_models(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(services); i++)
		for (size_t k = 0; services[i].models[k]; k++)
			models[i][k] = load_model(services[i].models[k]);
	return 0;
}

static int teardown_models(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(services); i++)
		for (size_t k = 0; k < 3; k++) {
			json_decref(models[i][k]);
			models[i][k] = NULL;
		}
	return 0;
}

/* True when action ("svc:Operation") names an operation of the service's
 * models, or is one of the known renamed or newer actions. */
static bool action_known(const char *action, char *why, size_t why_len)
{
	const char *colon = strchr(action, ':');
	if (!colon || colon == action || !colon[1]) {
		snprintf(why, why_len, "not prefix:Action");
		return false;
	}
	size_t plen = (size_t)(colon - action);
	const char *op = colon + 1;
	for (size_t i = 0; i < COUNT(renamed); i++)
		if (strcmp(renamed[i].action, action) == 0)
			op = renamed[i].operation;
	for (size_t i = 0; i < COUNT(services); i++) {
		if (strlen(services[i].prefix) != plen ||
		    strncmp(services[i].prefix, action, plen) != 0)
			continue;
		for (size_t k = 0; services[i].models[k]; k++)
			if (json_object_get(
				json_object_get(models[i][k], "operations"),
				op))
				return true;
		for (size_t n = 0; n < COUNT(newer_than_model); n++)
			if (strcmp(newer_than_model[n], action) == 0)
				return true;
		snprintf(why, why_len, "no operation %s in the %s model(s)", op,
			 services[i].prefix);
		return false;
	}
	snprintf(why, why_len, "service prefix %.*s has no model here",
		 (int)plen, action);
	return false;
}

static void models_match_prefixes(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT(services); i++) {
		for (size_t k = 0; services[i].models[k]; k++) {
			json_t *meta =
			    json_object_get(models[i][k], "metadata");
			const char *name = json_string_value(
			    json_object_get(meta, "signingName"));
			if (!name)
				name = json_string_value(
				    json_object_get(meta, "endpointPrefix"));
			assert_non_null(name);
			if (strcmp(name, services[i].prefix) != 0)
				fail_msg("model %s signs as %s, not %s",
					 services[i].models[k], name,
					 services[i].prefix);
		}
	}
	/* The lists of exceptions stay honest: a renamed action's own name is
	 * not an operation, its operation is; a "newer" one is not yet in
	 * the model (drop it from the list once botocore has it). */
	char why[128];
	json_t *iam_ops = NULL, *s3_ops = NULL;
	for (size_t i = 0; i < COUNT(services); i++) {
		json_t *ops = json_object_get(models[i][0], "operations");
		if (strcmp(services[i].prefix, "iam") == 0)
			iam_ops = ops;
		if (strcmp(services[i].prefix, "s3") == 0)
			s3_ops = ops;
	}
	assert_non_null(iam_ops);
	assert_non_null(s3_ops);
	assert_non_null(json_object_get(iam_ops, "GetAccountSummary"));
	for (size_t i = 0; i < COUNT(renamed); i++) {
		assert_true(action_known(renamed[i].action, why, sizeof(why)));
		assert_null(json_object_get(
		    s3_ops, strchr(renamed[i].action, ':') + 1));
	}
	for (size_t i = 0; i < COUNT(newer_than_model); i++)
		assert_null(json_object_get(
		    iam_ops, strchr(newer_than_model[i], ':') + 1));
	/* A misspelling is caught. */
	assert_false(action_known("iam:GetAccountSumary", why, sizeof(why)));
	assert_non_null(strstr(why, "no operation GetAccountSumary"));
	assert_false(action_known("s3:GetBucketLifecycle2", why, sizeof(why)));
	assert_false(action_known("kms:Decrypt", why, sizeof(why)));
	assert_false(action_known("DescribeTrails", why, sizeof(why)));
}

static void table_sorted_and_complete(void **state)
{
	(void)state;
	const struct ev_probe *t = ev_probes();
	for (size_t i = 0; i < EV_PROBE_COUNT_; i++) {
		const struct ev_probe *p = &t[i];
		assert_non_null(p->id);
		assert_true(p->id[0] != '\0');
		if (i > 0 && strcmp(t[i - 1].id, p->id) >= 0)
			fail_msg("probe %s is not after %s: ids are sorted and "
				 "unique",
				 p->id, t[i - 1].id);
		assert_ptr_equal(ev_probe_find(p->id), p);
		assert_non_null(p->title);
		assert_true(p->scope == EV_SCOPE_ACCOUNT ||
			    p->scope == EV_SCOPE_REGION);
		assert_non_null(p->run);
		assert_non_null(p->permissions);
		assert_non_null(p->permissions[0]);
		assert_non_null(p->controls);
		assert_non_null(p->controls[0]);
		for (size_t a = 0; p->permissions[a]; a++)
			for (size_t b = 0; b < a; b++)
				if (strcmp(p->permissions[a],
					   p->permissions[b]) == 0)
					fail_msg("%s: permission %s twice",
						 p->id, p->permissions[a]);
		for (size_t a = 0; p->controls[a]; a++)
			for (size_t b = 0; b < a; b++)
				if (strcmp(p->controls[a], p->controls[b]) == 0)
					fail_msg("%s: control %s twice", p->id,
						 p->controls[a]);
	}
	assert_null(ev_probe_find("no-such-probe"));
}

static void controls_match_catalog(void **state)
{
	(void)state;
	struct ev_catalog *cat = NULL;
	struct ev_error err;
	ev_error_clear(&err);
	if (ev_catalog_load(NULL, &cat, &err) != EV_OK)
		fail_msg("built-in catalog: %s", err.message);
	const struct ev_probe *t = ev_probes();
	/* Every control a probe names is in the catalog... */
	for (size_t i = 0; i < EV_PROBE_COUNT_; i++)
		for (const char *const *c = t[i].controls; *c; c++)
			if (!ev_catalog_find(cat, *c))
				fail_msg("probe %s evidences %s, which the "
					 "catalog lacks",
					 t[i].id, *c);
	/* ...and every catalog probe is in the table and names the control
	 * back: the two lists are the same relation. */
	for (size_t i = 0; i < ev_catalog_count(cat); i++) {
		const struct ev_control *c = ev_catalog_at(cat, i);
		for (size_t k = 0; k < c->n_probes; k++) {
			const struct ev_probe *p = ev_probe_find(c->probes[k]);
			if (!p)
				fail_msg("%s: probe %s is not in the table",
					 c->id, c->probes[k]);
			bool names = false;
			for (const char *const *pc = p->controls; *pc; pc++)
				names = names || strcmp(*pc, c->id) == 0;
			if (!names)
				fail_msg("%s lists %s, whose row does not name "
					 "it",
					 c->id, p->id);
		}
	}
	/* The list of controls, exactly. */
	static const char *const ids[] = {
	    "MSP-8.1.2",   "MSP-8.1.4",	  "MSP-8.1.5",	 "MSP-8.1.8",
	    "MSP-8.2.1",   "MSP-8.2.2",	  "MSP-8.2.3",	 "MSP-8.2.4",
	    "MSP-8.3",	   "DEVOPS-3.3",  "DEVOPS-3.13", "DEVOPS-3.14",
	    "DEVOPS-3.15", "DEVOPS-3.16",
	};
	assert_int_equal(ev_catalog_count(cat), COUNT(ids));
	for (size_t i = 0; i < COUNT(ids); i++)
		assert_non_null(ev_catalog_find(cat, ids[i]));

	/* The built-in catalog is the source tree's config/controls.json. */
	const char *tests = getenv("EV_TESTS_DIR");
	assert_non_null(tests);
	char path[4096];
	snprintf(path, sizeof(path), "%s/../config/controls.json", tests);
	struct ev_catalog *file = NULL;
	ev_error_clear(&err);
	if (ev_catalog_load(path, &file, &err) != EV_OK)
		fail_msg("%s", err.message);
	assert_string_equal(ev_catalog_sha256(file), ev_catalog_sha256(cat));
	ev_catalog_free(file);
	ev_catalog_free(cat);
}

static void permissions_known(void **state)
{
	(void)state;
	char why[128];
	const struct ev_probe *t = ev_probes();
	for (size_t i = 0; i < EV_PROBE_COUNT_; i++)
		for (const char *const *a = t[i].permissions; *a; a++)
			if (!action_known(*a, why, sizeof(why)))
				fail_msg("probe %s: permission %s: %s", t[i].id,
					 *a, why);
	for (const char *const *a = ev_policy_collector_actions(); *a; a++)
		if (!action_known(*a, why, sizeof(why)))
			fail_msg("collector action %s: %s", *a, why);
}

static bool array_has(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) if (strcmp(json_string_value(v), s) ==
					  0) return true;
	return false;
}

/* Checks the shape every policy has and returns its read statement's
 * actions. */
static json_t *policy_actions(json_t *doc, size_t statements)
{
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "Version")),
			    "2012-10-17");
	json_t *st = json_object_get(doc, "Statement");
	assert_int_equal(json_array_size(st), statements);
	json_t *read = json_array_get(st, 0);
	assert_string_equal(json_string_value(json_object_get(read, "Effect")),
			    "Allow");
	assert_string_equal(
	    json_string_value(json_object_get(read, "Resource")), "*");
	json_t *actions = json_object_get(read, "Action");
	assert_true(json_array_size(actions) > 0);
	char why[128];
	for (size_t i = 0; i < json_array_size(actions); i++) {
		const char *a = json_string_value(json_array_get(actions, i));
		assert_non_null(a);
		if (i > 0 &&
		    strcmp(json_string_value(json_array_get(actions, i - 1)),
			   a) >= 0)
			fail_msg("actions not sorted and unique at %s", a);
		/* Read-only: no action that writes. */
		const char *op = strchr(a, ':') + 1;
		assert_true(strncmp(op, "Get", 3) == 0 ||
			    strncmp(op, "List", 4) == 0 ||
			    strncmp(op, "Describe", 8) == 0 ||
			    strcmp(op, "GenerateCredentialReport") == 0);
		if (!action_known(a, why, sizeof(why)))
			fail_msg("%s: %s", a, why);
	}
	/* Every probe permission is there. */
	const struct ev_probe *t = ev_probes();
	for (size_t i = 0; i < EV_PROBE_COUNT_; i++)
		for (const char *const *p = t[i].permissions; *p; p++)
			if (!array_has(actions, *p))
				fail_msg("policy lacks %s (probe %s)", *p,
					 t[i].id);
	assert_true(array_has(actions, "sts:GetCallerIdentity"));
	assert_true(array_has(actions, "ec2:DescribeRegions"));
	assert_false(array_has(actions, "sts:AssumeRole"));
	return actions;
}

static void policy(void **state)
{
	(void)state;
	struct ev_config cfg;
	assert_int_equal(ev_config_init(&cfg), EV_OK);

	/* One account: nothing to assume, no organization to list. */
	json_t *doc = ev_policy_json(&cfg, false);
	json_t *actions = policy_actions(doc, 1);
	assert_false(array_has(actions, "organizations:ListAccounts"));
	json_decref(doc);

	/* An organization in aws-cn, the role under a path. */
	cfg.accounts.source = EV_ACCOUNTS_ORGANIZATION;
	free(cfg.accounts.role_name);
	cfg.accounts.role_name = strdup("audit/evident-audit");
	free(cfg.aws.region);
	cfg.aws.region = strdup("cn-north-1");
	doc = ev_policy_json(&cfg, false);
	actions = policy_actions(doc, 2);
	assert_true(array_has(actions, "organizations:ListAccounts"));
	json_t *assume = json_array_get(json_object_get(doc, "Statement"), 1);
	assert_string_equal(
	    json_string_value(json_object_get(assume, "Action")),
	    "sts:AssumeRole");
	json_t *res = json_object_get(assume, "Resource");
	assert_int_equal(json_array_size(res), 1);
	assert_string_equal(json_string_value(json_array_get(res, 0)),
			    "arn:aws-cn:iam::*:role/audit/evident-audit");
	json_decref(doc);

	/* The member role's own policy. */
	doc = ev_policy_json(&cfg, true);
	actions = policy_actions(doc, 1);
	assert_false(array_has(actions, "organizations:ListAccounts"));
	json_decref(doc);
	ev_config_cleanup(&cfg);

	/* A list of accounts with their own role ARNs: each named once. */
	assert_int_equal(ev_config_init(&cfg), EV_OK);
	cfg.accounts.source = EV_ACCOUNTS_LIST;
	cfg.accounts.list = calloc(3, sizeof(*cfg.accounts.list));
	assert_non_null(cfg.accounts.list);
	cfg.accounts.n_list = 3;
	snprintf(cfg.accounts.list[0].id, 13, "111111111111");
	snprintf(cfg.accounts.list[1].id, 13, "222222222222");
	cfg.accounts.list[1].role_arn =
	    strdup("arn:aws:iam::222222222222:role/other");
	snprintf(cfg.accounts.list[2].id, 13, "333333333333");
	doc = ev_policy_json(&cfg, false);
	actions = policy_actions(doc, 2);
	assert_false(array_has(actions, "organizations:ListAccounts"));
	res = json_object_get(
	    json_array_get(json_object_get(doc, "Statement"), 1), "Resource");
	assert_int_equal(json_array_size(res), 2);
	assert_string_equal(json_string_value(json_array_get(res, 0)),
			    "arn:aws:iam::*:role/evident-audit");
	assert_string_equal(json_string_value(json_array_get(res, 1)),
			    "arn:aws:iam::222222222222:role/other");
	json_decref(doc);
	ev_config_cleanup(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(models_match_prefixes),
	    cmocka_unit_test(table_sorted_and_complete),
	    cmocka_unit_test(controls_match_catalog),
	    cmocka_unit_test(permissions_known),
	    cmocka_unit_test(policy),
	};
	return cmocka_run_group_tests(tests, setup_models, teardown_models);
}
