/* The cloudtrail probe on recorded simulator answers (demo-org) and
 * hand-edited variants under tests/unit/data/cloudtrail/. */
#include "probe_door.h"
#include "probes.h"

#define N(a)	   (sizeof(a) / sizeof((a)[0]))
#define MGMT	   "111122223333"
#define MEMBER	   "444455556666"
#define SANDBOX	   "777788889999"
#define ORG_ARN	   "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail"
#define SB_ARN	   "arn:aws:cloudtrail:eu-west-1:777788889999:trail/sandbox-trail"
#define DENIED	   "{\"__type\":\"AccessDeniedException\",\"Message\":\"no\"}"
#define RID_HEADER "x-amzn-RequestId: 0d5e1c3a-denied"

static const char *const managed[] = {MGMT, MEMBER, SANDBOX};

static void free_trails(struct ev_account_state *s)
{
	if (s->trails_free)
		s->trails_free(s->trails);
}

static void start(struct test_door *d, const char *account, const char *region,
		  const struct door_reply *r, size_t n)
{
	test_door_init(d, account, region, r, n);
	d->ctx.managed_accounts = managed;
	d->ctx.n_managed_accounts = N(managed);
}

static const json_t *trail_detail(const struct ev_finding *f, size_t i)
{
	return json_array_get(json_object_get(f->details, "trails"), i);
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

/* ---- a member covered by the organization trail ------------------------- */

static const struct door_reply member_ok[] = {
    {"DescribeTrails", NULL, 200, "@cloudtrail/trails-member.json", NULL},
    {"GetTrailStatus", NULL, 200, "@cloudtrail/status-org.json", NULL},
    {"GetEventSelectors", NULL, 200, "@cloudtrail/selectors-basic-all.json",
     NULL},
};

static void member_credited_with_org_trail(void **state)
{
	(void)state;
	struct test_door d;
	start(&d, MEMBER, "eu-west-1", member_ok, N(member_ok));
	assert_int_equal(ev_probe_cloudtrail_run(&d.ctx), EV_OK);

	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_string_equal(f->probe_id, "cloudtrail");
	assert_string_equal(f->resource,
			    "arn:aws:cloudtrail:eu-west-1:" MEMBER ":");
	assert_string_equal(f->region, "eu-west-1");
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_non_null(strstr(f->reason,
			       "covered by organization trail " ORG_ARN
			       " owned by " MGMT));
	assert_non_null(strstr(f->reason, "KMS encrypted"));
	assert_non_null(strstr(f->reason, "last digest 0.6 h ago"));
	const unsigned want[] = {0, 1, 2};
	assert_obs(f, want, 3);
	assert_string_equal(dstr(f->details, "covered_by"), ORG_ARN);
	const json_t *t = trail_detail(f, 0);
	assert_string_equal(dstr(t, "owner"), MGMT);
	assert_string_equal(dstr(t, "read_in"), MEMBER);
	assert_true(json_is_true(json_object_get(t, "organization")));
	assert_non_null(strstr(dstr(t, "kms_key_id"), "arn:aws:kms:"));
	assert_string_equal(dstr(t, "latest_digest_delivery_time"),
			    "2025-03-01T09:23:00Z");
	assert_string_equal(dstr(t, "event_selectors"), "basic");

	/* Status and selectors are read by ARN in the home region. */
	assert_int_equal(d.n_calls, 3);
	assert_non_null(strstr(d.calls[0].url, "cloudtrail.eu-west-1."));
	assert_non_null(
	    strstr(d.calls[0].body, "\"includeShadowTrails\":true"));
	for (size_t i = 1; i < 3; i++) {
		assert_non_null(
		    strstr(d.calls[i].url, "cloudtrail.us-east-1."));
		assert_non_null(strstr(d.calls[i].body, ORG_ARN));
		assert_string_equal(d.calls[i].account, MEMBER);
	}
	test_door_cleanup(&d, free_trails);
}

/* ---- the member is refused: the owner answers --------------------------- */

static const struct door_reply *owner_replies, *member_replies;
static size_t n_owner_replies, n_member_replies;

/* Answers calls made in another account from owner_replies. */
static enum ev_err split_call(struct ev_probe_ctx *ctx, const char *account,
			      const struct ev_aws_call *call,
			      struct ev_aws_response *out, unsigned *obs_id,
			      struct ev_error *err)
{
	struct test_door *d = ctx->impl;
	bool other = account && strcmp(account, ctx->account) != 0;
	d->replies = other ? owner_replies : member_replies;
	d->n_replies = other ? n_owner_replies : n_member_replies;
	return door_call(ctx, account, call, out, obs_id, err);
}

static const struct door_reply member_refused[] = {
    {"DescribeTrails", NULL, 200, "@cloudtrail/trails-member.json", NULL},
    {"GetTrailStatus", NULL, 400, DENIED, RID_HEADER},
    {"GetEventSelectors", NULL, 400, DENIED, RID_HEADER},
};

static void owner_answers_when_member_refused(void **state)
{
	(void)state;
	struct test_door d;
	start(&d, MEMBER, "eu-west-1", member_refused, N(member_refused));
	member_replies = member_refused;
	n_member_replies = N(member_refused);
	owner_replies = member_ok;
	n_owner_replies = N(member_ok);
	d.ops.call = split_call;
	assert_int_equal(ev_probe_cloudtrail_run(&d.ctx), EV_OK);

	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_non_null(strstr(f->reason, "owned by " MGMT));
	/* The refused call is cited too: it is part of the story. */
	const unsigned want[] = {0, 1, 2, 3};
	assert_obs(f, want, 4);
	assert_string_equal(dstr(trail_detail(f, 0), "read_in"), MGMT);

	/* DescribeTrails and the refused status in the member; the status
	 * again and the selectors straight in the owner. */
	assert_int_equal(d.n_calls, 4);
	assert_string_equal(d.calls[1].account, MEMBER);
	assert_string_equal(d.calls[2].account, MGMT);
	assert_string_equal(d.calls[3].account, MGMT);
	assert_non_null(strstr(d.calls[3].body, "TrailName"));
	test_door_cleanup(&d, free_trails);
}

static void refused_owner_unmanaged_is_error(void **state)
{
	(void)state;
	struct test_door d;
	start(&d, MEMBER, "eu-west-1", member_refused, N(member_refused));
	d.ctx.n_managed_accounts = 0; /* the owner is not in this run */
	assert_int_equal(ev_probe_cloudtrail_run(&d.ctx), EV_OK);

	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->error_code, "AccessDeniedException");
	assert_string_equal(f->request_id, "0d5e1c3a-denied");
	assert_non_null(
	    strstr(f->reason, "trail " ORG_ARN " could not be read"));
	assert_string_equal(dstr(f->details, "error"), "access-denied");
	const json_t *e = json_object_get(trail_detail(f, 0), "error");
	assert_string_equal(dstr(e, "code"), "AccessDeniedException");
	const unsigned want[] = {0, 1, 2};
	assert_obs(f, want, 3);
	assert_int_equal(door_calls(&d, "GetTrailStatus"), 1);
	test_door_cleanup(&d, free_trails);
}

/* ---- several trails: errors and failures stay per trail ----------------- */

static const struct door_reply sandbox_both[] = {
    {"DescribeTrails", NULL, 200, "@cloudtrail/trails-sandbox.json", NULL},
    {"GetTrailStatus", "sandbox-trail", 200, "@cloudtrail/status-sandbox.json",
     NULL},
    {"GetTrailStatus", "org-trail", 200, "@cloudtrail/status-org.json", NULL},
    {"GetEventSelectors", "sandbox-trail", 200,
     "@cloudtrail/selectors-basic-sandbox.json", NULL},
    {"GetEventSelectors", "org-trail", 200,
     "@cloudtrail/selectors-basic-all.json", NULL},
};

static void failing_own_trail_org_trail_covers(void **state)
{
	(void)state;
	struct test_door d;
	start(&d, SANDBOX, "eu-west-1", sandbox_both, N(sandbox_both));
	assert_int_equal(ev_probe_cloudtrail_run(&d.ctx), EV_OK);

	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(dstr(f->details, "covered_by"), ORG_ARN);
	const json_t *sb = trail_detail(f, 0);
	assert_string_equal(dstr(sb, "arn"), SB_ARN);
	const json_t *problems = json_object_get(sb, "problems");
	assert_int_equal(json_array_size(problems), 2);
	assert_string_equal(json_string_value(json_array_get(problems, 0)),
			    "log file validation off");
	assert_string_equal(json_string_value(json_array_get(problems, 1)),
			    "delivery error AccessDenied");
	assert_string_equal(dstr(sb, "latest_delivery_error"), "AccessDenied");
	assert_int_equal(
	    json_array_size(json_object_get(trail_detail(f, 1), "problems")),
	    0);
	const unsigned want[] = {0, 1, 2, 3, 4};
	assert_obs(f, want, 5);
	/* The single-region trail is read in its own home region. */
	assert_non_null(strstr(d.calls[1].url, "cloudtrail.eu-west-1."));
	test_door_cleanup(&d, free_trails);
}

static const struct door_reply sandbox_one_denied[] = {
    {"DescribeTrails", NULL, 200, "@cloudtrail/trails-sandbox.json", NULL},
    {"GetTrailStatus", "sandbox-trail", 400, DENIED, RID_HEADER},
    {"GetTrailStatus", "org-trail", 200, "@cloudtrail/status-org.json", NULL},
    {"GetEventSelectors", "sandbox-trail", 200,
     "@cloudtrail/selectors-basic-sandbox.json", NULL},
    {"GetEventSelectors", "org-trail", 200,
     "@cloudtrail/selectors-basic-all.json", NULL},
};

static void unreadable_trail_does_not_hide_covering_one(void **state)
{
	(void)state;
	struct test_door d;
	start(&d, SANDBOX, "eu-west-1", sandbox_one_denied,
	      N(sandbox_one_denied));
	assert_int_equal(ev_probe_cloudtrail_run(&d.ctx), EV_OK);

	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_PASS);
	const json_t *e = json_object_get(trail_detail(f, 0), "error");
	assert_non_null(e);
	assert_string_equal(dstr(e, "code"), "AccessDeniedException");
	assert_string_equal(dstr(e, "request_id"), "0d5e1c3a-denied");
	assert_string_equal(dstr(e, "error"), "access-denied");
	test_door_cleanup(&d, free_trails);
}

static const struct door_reply sandbox_org_denied[] = {
    {"DescribeTrails", NULL, 200, "@cloudtrail/trails-sandbox.json", NULL},
    {"GetTrailStatus", "sandbox-trail", 200, "@cloudtrail/status-sandbox.json",
     NULL},
    {"GetTrailStatus", "org-trail", 400, DENIED, RID_HEADER},
    {"GetEventSelectors", "sandbox-trail", 200,
     "@cloudtrail/selectors-basic-sandbox.json", NULL},
    {"GetEventSelectors", "org-trail", 400, DENIED, RID_HEADER},
};

static void failing_trail_and_unreadable_trail_is_error(void **state)
{
	(void)state;
	struct test_door d;
	start(&d, SANDBOX, "eu-west-1", sandbox_org_denied,
	      N(sandbox_org_denied));
	d.ctx.n_managed_accounts = 0;
	assert_int_equal(ev_probe_cloudtrail_run(&d.ctx), EV_OK);

	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	/* The failing trail is not the whole story: the unreadable one
	 * may cover the region. */
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->error_code, "AccessDeniedException");
	assert_string_equal(f->request_id, "0d5e1c3a-denied");
	assert_non_null(strstr(f->reason, ORG_ARN));
	assert_int_equal(
	    json_array_size(json_object_get(trail_detail(f, 0), "problems")),
	    2);
	test_door_cleanup(&d, free_trails);
}

static const struct door_reply sandbox_only[] = {
    {"DescribeTrails", NULL, 200, "@cloudtrail/trails-sandbox-only.json", NULL},
    {"GetTrailStatus", NULL, 200, "@cloudtrail/status-sandbox.json", NULL},
    {"GetEventSelectors", NULL, 200, "@cloudtrail/selectors-basic-sandbox.json",
     NULL},
};

static void failing_trail_fails(void **state)
{
	(void)state;
	struct test_door d;
	start(&d, SANDBOX, "eu-west-1", sandbox_only, N(sandbox_only));
	assert_int_equal(ev_probe_cloudtrail_run(&d.ctx), EV_OK);

	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(
	    f->reason, "no trail covering eu-west-1 logs management events "
		       "with integrity: sandbox-trail: log file validation "
		       "off, delivery error AccessDenied");
	assert_null(json_object_get(f->details, "covered_by"));
	const unsigned want[] = {0, 1, 2};
	assert_obs(f, want, 3);
	test_door_cleanup(&d, free_trails);
}

static const struct door_reply elsewhere[] = {
    {"DescribeTrails", NULL, 200, "@cloudtrail/trails-elsewhere.json", NULL},
};

static void no_covering_trail_fails(void **state)
{
	(void)state;
	struct test_door d;
	start(&d, SANDBOX, "eu-west-1", elsewhere, N(elsewhere));
	assert_int_equal(ev_probe_cloudtrail_run(&d.ctx), EV_OK);

	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason, "no trail covers eu-west-1");
	assert_int_equal(json_array_size(json_object_get(f->details, "trails")),
			 0);
	assert_int_equal(d.n_calls, 1);
	const unsigned want[] = {0};
	assert_obs(f, want, 1);
	test_door_cleanup(&d, free_trails);
}

/* ---- selectors, status and digests -------------------------------------- */

struct variant {
	const char *status;
	const char *selectors;
	enum ev_status want;
	const char *reason_part;
};

static void run_variant(const struct variant *v, int digest_max_hours)
{
	const struct door_reply r[] = {
	    {"DescribeTrails", NULL, 200, "@cloudtrail/trails-member.json",
	     NULL},
	    {"GetTrailStatus", NULL, 200, v->status, NULL},
	    {"GetEventSelectors", NULL, 200, v->selectors, NULL},
	};
	struct test_door d;
	start(&d, MEMBER, "eu-west-1", r, N(r));
	if (digest_max_hours)
		d.cfg.probes.digest_max_age_hours = digest_max_hours;
	assert_int_equal(ev_probe_cloudtrail_run(&d.ctx), EV_OK);
	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	if (f->status != v->want || !strstr(f->reason, v->reason_part))
		fail_msg("%s + %s: got %s \"%s\"", v->status, v->selectors,
			 ev_status_name(f->status), f->reason);
	test_door_cleanup(&d, free_trails);
}

static void selectors_and_status(void **state)
{
	(void)state;
	static const struct variant vs[] = {
	    {"@cloudtrail/status-org.json",
	     "@cloudtrail/selectors-advanced-management.json", EV_STATUS_PASS,
	     "logging all management events"},
	    {"@cloudtrail/status-org.json",
	     "@cloudtrail/selectors-advanced-split.json", EV_STATUS_PASS,
	     "covered by organization trail"},
	    {"@cloudtrail/status-org.json",
	     "@cloudtrail/selectors-advanced-data.json", EV_STATUS_FAIL,
	     "org-trail: no management events"},
	    {"@cloudtrail/status-org.json",
	     "@cloudtrail/selectors-advanced-readonly.json", EV_STATUS_FAIL,
	     "org-trail: read-only management events only"},
	    {"@cloudtrail/status-org.json",
	     "@cloudtrail/selectors-basic-writeonly.json", EV_STATUS_FAIL,
	     "org-trail: write-only management events only"},
	    {"@cloudtrail/status-org.json",
	     "{\"TrailARN\":\"x\",\"EventSelectors\":[{\"ReadWriteType\":"
	     "\"All\",\"IncludeManagementEvents\":false}]}",
	     EV_STATUS_FAIL, "no management events"},
	    {"@cloudtrail/status-stopped.json",
	     "@cloudtrail/selectors-basic-all.json", EV_STATUS_FAIL,
	     "org-trail: not logging"},
	    {"@cloudtrail/status-stale-digest.json",
	     "@cloudtrail/selectors-basic-all.json", EV_STATUS_FAIL,
	     "org-trail: last digest 5.0 h old (max 2 h)"},
	    /* Exponent form, as AWS sends some epochs. */
	    {"{\"IsLogging\":true,\"LatestDigestDeliveryTime\":1.7408196E9}",
	     "@cloudtrail/selectors-basic-all.json", EV_STATUS_PASS,
	     "last digest 1.0 h ago"},
	    {"{\"IsLogging\":true}", "@cloudtrail/selectors-basic-all.json",
	     EV_STATUS_FAIL, "no digest delivered"},
	};
	for (size_t i = 0; i < N(vs); i++)
		run_variant(&vs[i], 0);
	/* The same stale digest passes under a looser setting. */
	const struct variant loose = {"@cloudtrail/status-stale-digest.json",
				      "@cloudtrail/selectors-basic-all.json",
				      EV_STATUS_PASS, "last digest 5.0 h ago"};
	run_variant(&loose, 6);
}

/* ---- errors ------------------------------------------------------------- */

static void describe_denied_is_error(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"DescribeTrails", NULL, 400, DENIED, RID_HEADER},
	};
	struct test_door d;
	start(&d, MEMBER, "eu-west-1", r, N(r));
	assert_int_equal(ev_probe_cloudtrail_run(&d.ctx), EV_OK);
	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->resource,
			    "arn:aws:cloudtrail:eu-west-1:" MEMBER ":");
	assert_string_equal(f->error_code, "AccessDeniedException");
	assert_string_equal(f->request_id, "0d5e1c3a-denied");
	assert_non_null(strstr(f->reason, "DescribeTrails: "));
	assert_string_equal(dstr(f->details, "error"), "access-denied");
	const unsigned want[] = {0};
	assert_obs(f, want, 1);
	assert_int_equal(d.n_calls, 1);
	test_door_cleanup(&d, free_trails);
}

static void describe_malformed_is_error(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"DescribeTrails", NULL, 200, "{\"trails\":[]}", NULL},
	};
	struct test_door d;
	start(&d, MEMBER, "eu-west-1", r, N(r));
	assert_int_equal(ev_probe_cloudtrail_run(&d.ctx), EV_OK);
	assert_int_equal(d.findings.n, 1);
	assert_int_equal(d.findings.items[0].status, EV_STATUS_ERROR);
	assert_string_equal(dstr(d.findings.items[0].details, "error"),
			    "malformed");
	test_door_cleanup(&d, free_trails);
}

/* ---- one read per trail and account ------------------------------------- */

static void status_read_once_per_account(void **state)
{
	(void)state;
	struct test_door d;
	start(&d, MEMBER, "eu-west-1", member_ok, N(member_ok));
	assert_int_equal(ev_probe_cloudtrail_run(&d.ctx), EV_OK);
	d.ctx.region = "ap-southeast-2";
	assert_int_equal(ev_probe_cloudtrail_run(&d.ctx), EV_OK);

	assert_int_equal(d.findings.n, 2);
	assert_int_equal(door_calls(&d, "DescribeTrails"), 2);
	assert_int_equal(door_calls(&d, "GetTrailStatus"), 1);
	assert_int_equal(door_calls(&d, "GetEventSelectors"), 1);
	const struct ev_finding *f = &d.findings.items[1];
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->resource,
			    "arn:aws:cloudtrail:ap-southeast-2:" MEMBER ":");
	/* The second region cites its own listing and the shared reads. */
	const unsigned want[] = {3, 1, 2};
	assert_obs(f, want, 3);
	test_door_cleanup(&d, free_trails);
}

static void duplicated_trail_read_once_without_state(void **state)
{
	(void)state;
	const struct door_reply r[] = {
	    {"DescribeTrails", NULL, 200, "@cloudtrail/trails-duplicated.json",
	     NULL},
	    {"GetTrailStatus", NULL, 200, "@cloudtrail/status-org.json", NULL},
	    {"GetEventSelectors", NULL, 200,
	     "@cloudtrail/selectors-basic-all.json", NULL},
	};
	struct test_door d;
	start(&d, MEMBER, "eu-west-1", r, N(r));
	d.ctx.state = NULL; /* no account state: read uncached */
	assert_int_equal(ev_probe_cloudtrail_run(&d.ctx), EV_OK);
	assert_int_equal(d.findings.n, 1);
	assert_int_equal(d.findings.items[0].status, EV_STATUS_PASS);
	assert_int_equal(door_calls(&d, "GetTrailStatus"), 1);
	assert_int_equal(json_array_size(json_object_get(
			     d.findings.items[0].details, "trails")),
			 1);
	assert_null(d.state.trails);
	test_door_cleanup(&d, free_trails);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(member_credited_with_org_trail),
	    cmocka_unit_test(owner_answers_when_member_refused),
	    cmocka_unit_test(refused_owner_unmanaged_is_error),
	    cmocka_unit_test(failing_own_trail_org_trail_covers),
	    cmocka_unit_test(unreadable_trail_does_not_hide_covering_one),
	    cmocka_unit_test(failing_trail_and_unreadable_trail_is_error),
	    cmocka_unit_test(failing_trail_fails),
	    cmocka_unit_test(no_covering_trail_fails),
	    cmocka_unit_test(selectors_and_status),
	    cmocka_unit_test(describe_denied_is_error),
	    cmocka_unit_test(describe_malformed_is_error),
	    cmocka_unit_test(status_read_once_per_account),
	    cmocka_unit_test(duplicated_trail_read_once_without_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
