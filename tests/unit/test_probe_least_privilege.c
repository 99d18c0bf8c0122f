/* least-privilege on recorded simulator pages (single-account,
 * compliant-org) and hand-written ones (tests/unit/data/iam/README.md):
 * administrator access through AdministratorAccess, a customer managed
 * policy defined on a later page than its user, inline lists, and what
 * is not administrator access (Deny, NotAction, a non-default version). */
#include "probe_door.h"

#include "probes.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))
#define ACCOUNT "111122223333"
#define GAAD	"GetAccountAuthorizationDetails"

static void run(struct test_door *d, const char *account,
		const struct door_reply *r, size_t n)
{
	test_door_init(d, account, NULL, r, n);
	assert_int_equal(ev_probe_least_privilege_run(&d->ctx), EV_OK);
	for (size_t i = 0; i < d->findings.n; i++)
		assert_string_equal(d->findings.items[i].probe_id,
				    "least-privilege");
}

static const char *policy_at(const struct ev_finding *f, size_t i,
			     const char *key)
{
	return json_string_value(json_object_get(
	    json_array_get(json_object_get(f->details, "admin_policies"), i),
	    key));
}

static void direct_admin_user_fails(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {GAAD, "Im8iOjIs", 200, "@iam/gaad_single_2.xml", NULL},
	    {GAAD, "Im8iOjQs", 200, "@iam/gaad_single_3.xml", NULL},
	    {GAAD, "Im8iOjYs", 200, "@iam/gaad_single_4.xml", NULL},
	    {GAAD, NULL, 200, "@iam/gaad_single_1.xml", NULL},
	};
	struct test_door d;
	run(&d, ACCOUNT, r, N(r));
	assert_int_equal(door_calls(&d, GAAD), 4);
	/* The request names the four entity kinds. */
	assert_non_null(strstr(d.calls[0].body, "Filter.member.1=User"));
	assert_non_null(
	    strstr(d.calls[0].body, "Filter.member.4=LocalManagedPolicy"));
	/* bob holds AdministratorAccess; the developers group's
	 * ReadOnlyAccess, the deploy role's inline s3 policy and the
	 * billing-read policy (aws-portal:View* on *) are not admin. */
	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->resource, "arn:aws:iam::111122223333:user/bob");
	assert_string_equal(f->reason,
			    "user bob holds administrator access directly");
	assert_string_equal(policy_at(f, 0, "policy"),
			    "arn:aws:iam::aws:policy/AdministratorAccess");
	assert_string_equal(policy_at(f, 0, "type"), "aws-managed");
	/* bob came on the first page. */
	assert_int_equal(f->n_obs, 1);
	assert_int_equal(f->obs[0], 0);
	test_door_cleanup(&d, NULL);
}

static void admin_through_a_group_passes_with_a_warning(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {GAAD, "Im8iOjMs", 200, "@iam/gaad_compliant_2.xml", NULL},
	    {GAAD, NULL, 200, "@iam/gaad_compliant_1.xml", NULL},
	};
	struct test_door d;
	run(&d, "310000000001", r, N(r));
	assert_int_equal(d.findings.n, 2);
	const struct ev_finding *g =
	    door_finding(&d, "arn:aws:iam::310000000001:group/admins");
	assert_int_equal(g->status, EV_STATUS_WARN);
	assert_string_equal(g->reason,
			    "group admins grants administrator access to 1 "
			    "user");
	json_t *members = json_object_get(g->details, "members");
	assert_int_equal(json_array_size(members), 1);
	assert_string_equal(json_string_value(json_array_get(members, 0)),
			    "alice");

	const struct ev_finding *p = door_finding(&d, "310000000001");
	for (size_t i = 0; i < d.findings.n; i++)
		if (d.findings.items[i].status == EV_STATUS_PASS)
			p = &d.findings.items[i];
	assert_int_equal(p->status, EV_STATUS_PASS);
	assert_string_equal(p->resource, "310000000001");
	assert_string_equal(p->reason, "no IAM user holds administrator access "
				       "directly (2 users examined)");
	json_t *groups = json_object_get(p->details, "groups_with_admin");
	assert_string_equal(json_string_value(json_array_get(groups, 0)),
			    "arn:aws:iam::310000000001:group/admins");
	assert_int_equal(
	    json_array_size(json_object_get(p->details, "roles_with_admin")),
	    0);
	/* Both pages. */
	assert_int_equal(p->n_obs, 2);
	test_door_cleanup(&d, NULL);
}

static void customer_and_inline_policies(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {GAAD, "Marker=tok%2B%2Fpage2%3D", 200,
	     "@iam/gaad_admin_variants_2.xml", NULL},
	    {GAAD, NULL, 200, "@iam/gaad_admin_variants_1.xml", NULL},
	};
	struct test_door d;
	run(&d, ACCOUNT, r, N(r));
	assert_int_equal(d.findings.n, 3);
	assert_int_equal(door_count(&d, EV_STATUS_FAIL, NULL), 2);
	assert_int_equal(door_count(&d, EV_STATUS_PASS, NULL), 0);

	/* Its policy's default version (v2) is "*" on "*"; the policy came
	 * on the second page, which the finding cites too. */
	const struct ev_finding *f = door_finding(&d, "user/ci");
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(policy_at(f, 0, "policy"),
			    "arn:aws:iam::111122223333:policy/everything");
	assert_string_equal(policy_at(f, 0, "type"), "customer-managed");
	assert_int_equal(f->n_obs, 2);
	assert_int_equal(f->obs[0], 0);
	assert_int_equal(f->obs[1], 1);

	/* "*" inside Action and Resource lists. */
	f = door_finding(&d, "user/ops");
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(policy_at(f, 0, "policy"), "ops-all");
	assert_string_equal(policy_at(f, 0, "type"), "inline");

	f = door_finding(&d, "role/break-glass");
	assert_int_equal(f->status, EV_STATUS_WARN);
	assert_string_equal(f->reason, "role break-glass has administrator "
				       "access");

	/* reader: Deny * on *, and "almost", whose default version allows
	 * NotAction on * (its older version, "*" on "*", is not in force). */
	for (size_t i = 0; i < d.findings.n; i++)
		assert_null(strstr(d.findings.items[i].resource, "reader"));
	test_door_cleanup(&d, NULL);
}

static void errors_give_no_verdict(void **state)
{
	(void)state;
	static const struct door_reply denied[] = {
	    {GAAD, NULL, 403, "@iam/access_denied.xml", NULL},
	};
	struct test_door d;
	run(&d, ACCOUNT, denied, N(denied));
	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->resource, ACCOUNT);
	assert_string_equal(f->error_code, "AccessDenied");
	assert_string_equal(f->request_id,
			    "8e4f3051-hand-edited-access-denied");
	assert_int_equal(f->n_obs, 1);
	test_door_cleanup(&d, NULL);

	/* The second page denied: what the first said is not judged. */
	static const struct door_reply half[] = {
	    {GAAD, "Marker=", 403, "@iam/access_denied.xml", NULL},
	    {GAAD, NULL, 200, "@iam/gaad_admin_variants_1.xml", NULL},
	};
	run(&d, ACCOUNT, half, N(half));
	assert_int_equal(d.findings.n, 1);
	f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_int_equal(f->n_obs, 2);
	test_door_cleanup(&d, NULL);

	/* A policy document that is not JSON. */
	static const struct door_reply bad[] = {
	    {GAAD, "Marker=", 200, "@iam/gaad_bad_document_2.xml", NULL},
	    {GAAD, NULL, 200, "@iam/gaad_admin_variants_1.xml", NULL},
	};
	run(&d, ACCOUNT, bad, N(bad));
	assert_int_equal(d.findings.n, 1);
	f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->request_id, "a1000003-hand-edited-bad-document");
	assert_non_null(strstr(f->reason, "not JSON"));
	assert_string_equal(
	    json_string_value(json_object_get(f->details, "error")),
	    "malformed");
	test_door_cleanup(&d, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(direct_admin_user_fails),
	    cmocka_unit_test(admin_through_a_group_passes_with_a_warning),
	    cmocka_unit_test(customer_and_inline_policies),
	    cmocka_unit_test(errors_give_no_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
