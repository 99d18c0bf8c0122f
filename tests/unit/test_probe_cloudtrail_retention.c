/* The cloudtrail-retention probe on recorded simulator answers (demo-org)
 * and hand-edited variants under tests/unit/data/cloudtrail/. */
#include "probe_door.h"
#include "probes.h"

#define N(a)	 (sizeof(a) / sizeof((a)[0]))
#define MGMT	 "111122223333"
#define MEMBER	 "444455556666"
#define SANDBOX	 "777788889999"
#define ORG_ARN	 "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail"
#define SB_ARN	 "arn:aws:cloudtrail:eu-west-1:777788889999:trail/sandbox-trail"
#define ORG_BKT	 "evident-demo-org-trail-111122223333"
#define SB_BKT	 "sandbox-trail-777788889999"
#define S3_RID	 "x-amz-request-id: 7Q9D4X2K8M1B3C5E"
#define DENIED_J "{\"__type\":\"AccessDeniedException\",\"Message\":\"no\"}"

static const char *const managed[] = {MGMT, MEMBER, SANDBOX};
static const char *const two_regions[] = {"eu-west-1", "us-east-1"};
static const char *const one_region[] = {"eu-west-1"};

static void start(struct test_door *d, const char *account,
		  const struct door_reply *r, size_t n,
		  const char *const *regions, size_t n_regions)
{
	test_door_init(d, account, NULL, r, n);
	d->ctx.managed_accounts = managed;
	d->ctx.n_managed_accounts = N(managed);
	d->ctx.regions = regions;
	d->ctx.n_regions = n_regions;
}

static const char *dstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void assert_obs(const struct ev_finding *f, const unsigned *want,
		       size_t n)
{
	assert_int_equal(f->n_obs, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(f->obs[i], want[i]);
}

/* ---- the organization trail's bucket, read in its owner ----------------- */

static const struct door_reply member_org[] = {
    {"DescribeTrails", NULL, 200, "@cloudtrail/trails-member.json", NULL},
    {"location", ORG_BKT, 200, "@cloudtrail/s3-location-us-east-1.xml", NULL},
    {"lifecycle", ORG_BKT, 200, "@cloudtrail/s3-lifecycle-org.xml", NULL},
    {"object-lock", ORG_BKT, 200, "@cloudtrail/s3-lock-org.xml", NULL},
};

static void org_bucket_locked_in_owner(void **state)
{
	(void)state;
	struct test_door d;
	start(&d, MEMBER, member_org, N(member_org), two_regions,
	      N(two_regions));
	assert_int_equal(ev_probe_cloudtrail_retention_run(&d.ctx), EV_OK);

	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_string_equal(f->probe_id, "cloudtrail-retention");
	assert_string_equal(f->resource, ORG_ARN);
	assert_string_equal(f->region, "");
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->reason,
			    "bucket " ORG_BKT " keeps logs under Object Lock "
			    "COMPLIANCE default retention of 400 days (365 "
			    "days required)");
	/* The listing that showed the trail, then the bucket's three. */
	const unsigned want[] = {0, 2, 3, 4};
	assert_obs(f, want, 4);
	assert_string_equal(dstr(f->details, "bucket_read_in"), MGMT);
	assert_string_equal(dstr(f->details, "bucket_region"), "us-east-1");
	assert_string_equal(dstr(f->details, "log_prefix"),
			    "o-a1b2c3d4e5/AWSLogs/");
	const json_t *lock = json_object_get(f->details, "object_lock");
	assert_string_equal(dstr(lock, "mode"), "COMPLIANCE");
	assert_int_equal(
	    json_integer_value(json_object_get(lock, "retention_days")), 400);
	assert_int_equal(
	    json_array_size(json_object_get(f->details, "lifecycle_rules")), 1);

	/* Listed in both regions; the bucket asked of its owner only. */
	assert_int_equal(door_calls(&d, "DescribeTrails"), 2);
	assert_int_equal(d.n_calls, 5);
	assert_string_equal(d.calls[2].account, MGMT);
	assert_non_null(strstr(d.calls[2].url,
			       "https://" ORG_BKT ".s3.us-east-1.amazonaws.com/"
			       "?location="));
	assert_non_null(strstr(d.calls[3].url, "?lifecycle="));
	assert_non_null(strstr(d.calls[4].url, "?object-lock="));
	test_door_cleanup(&d, NULL);
}

/* ---- the account's own trail with a short expiry, beside the org's ------ */

static const struct door_reply sandbox[] = {
    {"DescribeTrails", NULL, 200, "@cloudtrail/trails-sandbox.json", NULL},
    {"location", ORG_BKT, 200, "@cloudtrail/s3-location-us-east-1.xml", NULL},
    {"lifecycle", ORG_BKT, 200, "@cloudtrail/s3-lifecycle-org.xml", NULL},
    {"object-lock", ORG_BKT, 200, "@cloudtrail/s3-lock-org.xml", NULL},
    {"location", SB_BKT, 200, "@cloudtrail/s3-location-eu-west-1.xml", NULL},
    {"lifecycle", SB_BKT, 200, "@cloudtrail/s3-lifecycle-sandbox.xml", NULL},
    {"object-lock", SB_BKT, 404, "@cloudtrail/s3-no-lock.xml", NULL},
};

static void own_bucket_expiring_too_soon_fails(void **state)
{
	(void)state;
	struct test_door d;
	start(&d, SANDBOX, sandbox, N(sandbox), one_region, N(one_region));
	assert_int_equal(ev_probe_cloudtrail_retention_run(&d.ctx), EV_OK);

	assert_int_equal(d.findings.n, 2);
	const struct ev_finding *f = door_finding(&d, SB_ARN);
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(
	    f->reason, "bucket " SB_BKT " expires logs after 30 days (rule "
		       "cleanup), less than the 365 days required");
	assert_string_equal(dstr(f->details, "bucket_read_in"), SANDBOX);
	assert_string_equal(dstr(f->details, "bucket_region"), "eu-west-1");
	const json_t *lock = json_object_get(f->details, "object_lock");
	assert_true(json_is_false(json_object_get(lock, "enabled")));
	const unsigned want[] = {0, 1, 2, 3};
	assert_obs(f, want, 4);
	/* Configuration read where the bucket lives. */
	assert_non_null(strstr(d.calls[2].url, SB_BKT ".s3.eu-west-1."));
	assert_string_equal(d.calls[1].account, SANDBOX);

	const struct ev_finding *g = door_finding(&d, ORG_ARN);
	assert_int_equal(g->status, EV_STATUS_PASS);
	assert_string_equal(dstr(g->details, "bucket_read_in"), MGMT);
	test_door_cleanup(&d, NULL);
}

/* ---- lifecycle and Object Lock variants on one trail -------------------- */

struct variant {
	const char *location;
	const char *lifecycle;
	long lifecycle_status;
	const char *lock;
	long lock_status;
	int period;
	enum ev_status want;
	const char *reason;
};

static const struct ev_finding *
run_variant(struct test_door *d, const struct variant *v, struct door_reply *r)
{
	r[0] =
	    (struct door_reply){"DescribeTrails", NULL, 200,
				"@cloudtrail/trails-sandbox-only.json", NULL};
	r[1] = (struct door_reply){"location", NULL, 200,
				   v->location ? v->location
					       : "@cloudtrail/"
						 "s3-location-eu-west-1.xml",
				   S3_RID};
	r[2] = (struct door_reply){"lifecycle", NULL, v->lifecycle_status,
				   v->lifecycle, S3_RID};
	r[3] = (struct door_reply){"object-lock", NULL, v->lock_status, v->lock,
				   S3_RID};
	start(d, SANDBOX, r, 4, one_region, N(one_region));
	if (v->period)
		d->cfg.thresholds.log_retention_days = v->period;
	assert_int_equal(ev_probe_cloudtrail_retention_run(&d->ctx), EV_OK);
	assert_int_equal(d->findings.n, 1);
	const struct ev_finding *f = &d->findings.items[0];
	if (f->status != v->want || strcmp(f->reason, v->reason) != 0)
		fail_msg("%s + %s: got %s \"%s\"", v->lifecycle, v->lock,
			 ev_status_name(f->status), f->reason);
	return f;
}

static void lifecycle_and_lock_variants(void **state)
{
	(void)state;
	static const struct variant vs[] = {
	    {NULL, "@cloudtrail/s3-no-lifecycle.xml", 404,
	     "@cloudtrail/s3-no-lock.xml", 404, 0, EV_STATUS_PASS,
	     "bucket " SB_BKT " has no lifecycle expiration for the logs: "
	     "kept indefinitely (365 days required)"},
	    {NULL, "@cloudtrail/s3-lifecycle-mixed.xml", 200,
	     "@cloudtrail/s3-no-lock.xml", 404, 0, EV_STATUS_PASS,
	     "bucket " SB_BKT " keeps logs 400 days (rule logs-to-glacier) "
	     "before expiry, 365 days required"},
	    {NULL, "@cloudtrail/s3-lifecycle-mixed.xml", 200,
	     "@cloudtrail/s3-no-lock.xml", 404, 500, EV_STATUS_FAIL,
	     "bucket " SB_BKT " expires logs after 400 days (rule "
	     "logs-to-glacier), less than the 500 days required"},
	    {NULL, "@cloudtrail/s3-lifecycle-legacy-short.xml", 200,
	     "@cloudtrail/s3-no-lock.xml", 404, 0, EV_STATUS_FAIL,
	     "bucket " SB_BKT " expires logs after 90 days (rule old-style), "
	     "less than the 365 days required"},
	    /* Locked a year: short lifecycle rules cannot delete. */
	    {NULL, "@cloudtrail/s3-lifecycle-sandbox.xml", 200,
	     "@cloudtrail/s3-lock-governance-1y.xml", 200, 0, EV_STATUS_PASS,
	     "bucket " SB_BKT " keeps logs under Object Lock GOVERNANCE "
	     "default retention of 1 years (365 days required)"},
	    {NULL, "@cloudtrail/s3-lifecycle-sandbox.xml", 200,
	     "@cloudtrail/s3-lock-30d.xml", 200, 0, EV_STATUS_FAIL,
	     "bucket " SB_BKT " expires logs after 30 days (rule cleanup), "
	     "less than the 365 days required and its Object Lock "
	     "retention is shorter"},
	    /* "EU" is the legacy name of eu-west-1. */
	    {"@cloudtrail/s3-location-EU.xml",
	     "@cloudtrail/s3-no-lifecycle.xml", 404,
	     "@cloudtrail/s3-no-lock.xml", 404, 0, EV_STATUS_PASS,
	     "bucket " SB_BKT " has no lifecycle expiration for the logs: "
	     "kept indefinitely (365 days required)"},
	};
	for (size_t i = 0; i < N(vs); i++) {
		struct test_door d;
		struct door_reply r[4];
		const struct ev_finding *f = run_variant(&d, &vs[i], r);
		assert_string_equal(dstr(f->details, "bucket_region"),
				    "eu-west-1");
		assert_non_null(strstr(d.calls[2].url, ".s3.eu-west-1."));
		test_door_cleanup(&d, NULL);
	}
}

static void unread_half_settled_by_the_other(void **state)
{
	(void)state;
	/* Lifecycle refused, but the lock alone keeps the logs. */
	const struct variant locked = {
	    NULL,
	    "@cloudtrail/s3-denied.xml",
	    403,
	    "@cloudtrail/s3-lock-governance-1y.xml",
	    200,
	    0,
	    EV_STATUS_PASS,
	    "bucket " SB_BKT " keeps logs under Object Lock GOVERNANCE "
	    "default retention of 1 years (365 days required)"};
	struct test_door d;
	struct door_reply r[4];
	const struct ev_finding *f = run_variant(&d, &locked, r);
	const json_t *e = json_object_get(f->details, "lifecycle_error");
	assert_string_equal(dstr(e, "code"), "AccessDenied");
	assert_string_equal(dstr(e, "request_id"), "7Q9D4X2K8M1B3C5E");
	assert_true(
	    json_is_null(json_object_get(f->details, "lifecycle_rules")));
	test_door_cleanup(&d, NULL);

	/* Lock refused, but nothing expires. */
	const struct variant forever = {
	    NULL,
	    "@cloudtrail/s3-no-lifecycle.xml",
	    404,
	    "@cloudtrail/s3-denied.xml",
	    403,
	    0,
	    EV_STATUS_PASS,
	    "bucket " SB_BKT " has no lifecycle expiration for the logs: "
	    "kept indefinitely (365 days required); Object Lock unread"};
	f = run_variant(&d, &forever, r);
	assert_string_equal(
	    dstr(json_object_get(f->details, "object_lock_error"), "code"),
	    "AccessDenied");
	test_door_cleanup(&d, NULL);
}

static void unread_half_that_matters_is_error(void **state)
{
	(void)state;
	/* Expiring in 30 days unless a lock we cannot read keeps them. */
	const struct variant lock_unread = {
	    NULL,
	    "@cloudtrail/s3-lifecycle-sandbox.xml",
	    200,
	    "@cloudtrail/s3-denied.xml",
	    403,
	    0,
	    EV_STATUS_ERROR,
	    "Object Lock of the trail's bucket: s3 GetObjectLockConfiguration "
	    "in eu-west-1: AccessDenied: Access Denied"};
	struct test_door d;
	struct door_reply r[4];
	const struct ev_finding *f = run_variant(&d, &lock_unread, r);
	assert_string_equal(f->error_code, "AccessDenied");
	assert_string_equal(f->request_id, "7Q9D4X2K8M1B3C5E");
	assert_string_equal(dstr(f->details, "error"), "access-denied");
	assert_non_null(json_object_get(f->details, "lifecycle_rules"));
	test_door_cleanup(&d, NULL);

	const struct variant lifecycle_unread = {
	    NULL,
	    "@cloudtrail/s3-denied.xml",
	    403,
	    "@cloudtrail/s3-lock-30d.xml",
	    200,
	    0,
	    EV_STATUS_ERROR,
	    "lifecycle of the trail's bucket: s3 "
	    "GetBucketLifecycleConfiguration in eu-west-1: AccessDenied: "
	    "Access Denied"};
	f = run_variant(&d, &lifecycle_unread, r);
	assert_string_equal(f->error_code, "AccessDenied");
	test_door_cleanup(&d, NULL);
}

/* ---- nobody can read the bucket ----------------------------------------- */

static const struct door_reply org_denied[] = {
    {"DescribeTrails", NULL, 200, "@cloudtrail/trails-member.json", NULL},
    {"location", NULL, 403, "@cloudtrail/s3-denied.xml", S3_RID},
};

static void unreachable_bucket_is_error(void **state)
{
	(void)state;
	struct test_door d;
	start(&d, MEMBER, org_denied, N(org_denied), one_region, N(one_region));
	assert_int_equal(ev_probe_cloudtrail_retention_run(&d.ctx), EV_OK);

	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->resource, ORG_ARN);
	assert_string_equal(f->error_code, "AccessDenied");
	assert_string_equal(f->request_id, "7Q9D4X2K8M1B3C5E");
	assert_string_equal(f->reason,
			    "bucket " ORG_BKT " of trail " ORG_ARN " could not "
			    "be read in any managed account (2 asked): s3 "
			    "GetBucketLocation in us-east-1: AccessDenied: "
			    "Access Denied");
	/* The owner the name points at first, then the member itself. */
	const json_t *tried = json_object_get(f->details, "tried");
	assert_int_equal(json_array_size(tried), 2);
	assert_string_equal(dstr(json_array_get(tried, 0), "account"), MGMT);
	assert_string_equal(dstr(json_array_get(tried, 1), "account"), MEMBER);
	assert_string_equal(dstr(json_array_get(tried, 1), "code"),
			    "AccessDenied");
	assert_string_equal(d.calls[1].account, MGMT);
	assert_string_equal(d.calls[2].account, MEMBER);
	const unsigned want[] = {0, 1, 2};
	assert_obs(f, want, 3);
	test_door_cleanup(&d, NULL);
}

static void owner_not_managed_asks_only_self(void **state)
{
	(void)state;
	struct test_door d;
	start(&d, MEMBER, org_denied, N(org_denied), one_region, N(one_region));
	d.ctx.n_managed_accounts = 0;
	assert_int_equal(ev_probe_cloudtrail_retention_run(&d.ctx), EV_OK);
	assert_int_equal(d.findings.n, 1);
	assert_int_equal(d.findings.items[0].status, EV_STATUS_ERROR);
	assert_int_equal(json_array_size(json_object_get(
			     d.findings.items[0].details, "tried")),
			 1);
	assert_int_equal(d.n_calls, 2);
	assert_string_equal(d.calls[1].account, MEMBER);
	test_door_cleanup(&d, NULL);
}

static void missing_bucket_fails(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"DescribeTrails", NULL, 200,
	     "@cloudtrail/trails-sandbox-only.json", NULL},
	    {"location", NULL, 404, "@cloudtrail/s3-no-bucket.xml", NULL},
	};
	struct test_door d;
	start(&d, SANDBOX, r, N(r), one_region, N(one_region));
	assert_int_equal(ev_probe_cloudtrail_retention_run(&d.ctx), EV_OK);
	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason, "bucket " SB_BKT " of trail " SB_ARN
				       " does not exist: no logs are kept");
	assert_int_equal(d.n_calls, 2);
	test_door_cleanup(&d, NULL);
}

/* ---- listing ------------------------------------------------------------ */

static void no_trail_fails(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"DescribeTrails", NULL, 200, "{\"trailList\":[]}", NULL},
	};
	struct test_door d;
	start(&d, SANDBOX, r, N(r), two_regions, N(two_regions));
	assert_int_equal(ev_probe_cloudtrail_retention_run(&d.ctx), EV_OK);
	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->resource, "arn:aws:cloudtrail::" SANDBOX ":");
	assert_non_null(strstr(f->reason, "no CloudTrail trail"));
	const unsigned want[] = {0, 1};
	assert_obs(f, want, 2);
	test_door_cleanup(&d, NULL);
}

static void listing_denied_in_a_region(void **state)
{
	(void)state;
	/* Denied in eu-west-1, empty in us-east-1: no verdict on "no
	 * trail", one error for the region. */
	static const struct door_reply r[] = {
	    {"DescribeTrails", "eu-west-1", 400, DENIED_J,
	     "x-amzn-RequestId: rid-euw1"},
	    {"DescribeTrails", NULL, 200, "{\"trailList\":[]}", NULL},
	};
	struct test_door d;
	start(&d, SANDBOX, r, N(r), two_regions, N(two_regions));
	assert_int_equal(ev_probe_cloudtrail_retention_run(&d.ctx), EV_OK);
	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->resource,
			    "arn:aws:cloudtrail:eu-west-1:" SANDBOX ":");
	assert_string_equal(f->error_code, "AccessDeniedException");
	assert_string_equal(f->request_id, "rid-euw1");
	assert_non_null(strstr(f->reason, "DescribeTrails in eu-west-1: "));
	test_door_cleanup(&d, NULL);

	/* The same refusal beside a region that shows the org trail: the
	 * trail is still judged. */
	static const struct door_reply r2[] = {
	    {"DescribeTrails", "eu-west-1", 400, DENIED_J, NULL},
	    {"DescribeTrails", NULL, 200, "@cloudtrail/trails-member.json",
	     NULL},
	    {"location", ORG_BKT, 200, "@cloudtrail/s3-location-us-east-1.xml",
	     NULL},
	    {"lifecycle", ORG_BKT, 200, "@cloudtrail/s3-lifecycle-org.xml",
	     NULL},
	    {"object-lock", ORG_BKT, 200, "@cloudtrail/s3-lock-org.xml", NULL},
	};
	start(&d, MEMBER, r2, N(r2), two_regions, N(two_regions));
	assert_int_equal(ev_probe_cloudtrail_retention_run(&d.ctx), EV_OK);
	assert_int_equal(d.findings.n, 2);
	assert_int_equal(door_count(&d, EV_STATUS_ERROR, "eu-west-1"), 1);
	assert_int_equal(door_count(&d, EV_STATUS_PASS, ORG_ARN), 1);
	test_door_cleanup(&d, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(org_bucket_locked_in_owner),
	    cmocka_unit_test(own_bucket_expiring_too_soon_fails),
	    cmocka_unit_test(lifecycle_and_lock_variants),
	    cmocka_unit_test(unread_half_settled_by_the_other),
	    cmocka_unit_test(unread_half_that_matters_is_error),
	    cmocka_unit_test(unreachable_bucket_is_error),
	    cmocka_unit_test(owner_not_managed_asks_only_self),
	    cmocka_unit_test(missing_bucket_fails),
	    cmocka_unit_test(no_trail_fails),
	    cmocka_unit_test(listing_denied_in_a_region),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
