/* The config-recorder probe on recorded simulator answers (demo-org) and
 * hand-edited variants under tests/unit/data/config/. */
#include "probe_door.h"
#include "probes.h"

#define N(a)   (sizeof(a) / sizeof((a)[0]))
#define ACCT   "111122223333"
#define RES    "arn:aws:config:eu-west-1:" ACCT ":"
#define DENIED "{\"__type\":\"AccessDeniedException\",\"Message\":\"no\"}"

static const char *dstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool dtrue(const json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static const json_t *recorder(const struct ev_finding *f)
{
	return json_array_get(json_object_get(f->details, "recorders"), 0);
}

/* Runs the probe on three answers; returns the single finding. */
static const struct ev_finding *run3(struct test_door *d, const char *recs,
				     const char *status, const char *chans)
{
	static struct door_reply r[3];
	r[0] = (struct door_reply){"DescribeConfigurationRecorders", NULL, 200,
				   recs, NULL};
	r[1] = (struct door_reply){"DescribeConfigurationRecorderStatus", NULL,
				   200, status, NULL};
	r[2] = (struct door_reply){"DescribeDeliveryChannels", NULL, 200, chans,
				   NULL};
	test_door_init(d, ACCT, "eu-west-1", r, 3);
	assert_int_equal(ev_probe_config_recorder_run(&d->ctx), EV_OK);
	assert_int_equal(d->findings.n, 1);
	return &d->findings.items[0];
}

static void recording_and_delivering_passes(void **state)
{
	(void)state;
	struct test_door d;
	const struct ev_finding *f = run3(&d, "@config/recorders-default.json",
					  "@config/status-success.json",
					  "@config/channels-default.json");
	assert_string_equal(f->probe_id, "config-recorder");
	assert_string_equal(f->resource, RES);
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->reason,
			    "recorder default recording (last status SUCCESS), "
			    "delivery channel default to bucket "
			    "config-bucket-111122223333, global resource types "
			    "recorded here");
	assert_int_equal(f->n_obs, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(f->obs[i], i);
	assert_true(dtrue(f->details, "records_global"));
	const json_t *rec = recorder(f);
	assert_string_equal(dstr(rec, "recording_strategy"),
			    "ALL_SUPPORTED_RESOURCE_TYPES");
	assert_true(dtrue(rec, "all_supported"));
	assert_false(dtrue(rec, "service_linked"));
	assert_true(dtrue(rec, "uses_service_linked_role"));
	assert_string_equal(dstr(rec, "recording_frequency"), "CONTINUOUS");
	const json_t *ch =
	    json_array_get(json_object_get(f->details, "delivery_channels"), 0);
	assert_string_equal(dstr(ch, "s3_bucket"),
			    "config-bucket-111122223333");
	assert_string_equal(dstr(ch, "delivery_frequency"), "TwentyFour_Hours");
	/* Config's json 1.1 target, body {} in the job's region. */
	assert_non_null(strstr(d.calls[0].url, "config.eu-west-1."));
	assert_string_equal(d.calls[0].body, "{}");
	test_door_cleanup(&d, NULL);
}

static void last_status_any_case(void **state)
{
	(void)state;
	/* The model spells it Success; the wire SUCCESS. */
	struct test_door d;
	const struct ev_finding *f =
	    run3(&d, "@config/recorders-default.json",
		 "@config/status-success-modelcase.json",
		 "@config/channels-default.json");
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(dstr(recorder(f), "last_status"), "Success");
	test_door_cleanup(&d, NULL);
}

static void failing_recorder_fails(void **state)
{
	(void)state;
	struct test_door d;
	const struct ev_finding *f = run3(&d, "@config/recorders-sandbox.json",
					  "@config/status-failure.json",
					  "@config/channels-sandbox.json");
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason, "recorder default last status FAILURE "
				       "(NoSuchBucketException)");
	assert_false(dtrue(f->details, "records_global"));
	assert_string_equal(dstr(recorder(f), "last_error_message"),
			    "The specified bucket does not exist.");
	test_door_cleanup(&d, NULL);

	f = run3(&d, "@config/recorders-default.json",
		 "@config/status-pending.json",
		 "@config/channels-default.json");
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason, "recorder default last status PENDING");
	test_door_cleanup(&d, NULL);

	f = run3(&d, "@config/recorders-default.json",
		 "@config/status-stopped.json",
		 "@config/channels-default.json");
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason, "recorder default is not recording");
	test_door_cleanup(&d, NULL);

	f = run3(&d, "@config/recorders-default.json",
		 "@config/status-none.json", "@config/channels-default.json");
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason, "recorder default has no status");
	test_door_cleanup(&d, NULL);
}

static void no_delivery_channel_fails(void **state)
{
	(void)state;
	struct test_door d;
	const struct ev_finding *f =
	    run3(&d, "@config/recorders-default.json",
		 "@config/status-success.json", "@config/channels-none.json");
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->reason, "recorder default is recording but "
				       "eu-west-1 has no delivery channel");
	test_door_cleanup(&d, NULL);
}

static void no_recorder_fails_on_one_call(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"DescribeConfigurationRecorders", NULL, 200,
	     "@config/recorders-none.json", NULL},
	};
	struct test_door d;
	test_door_init(&d, ACCT, "ap-southeast-2", r, N(r));
	assert_int_equal(ev_probe_config_recorder_run(&d.ctx), EV_OK);
	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_FAIL);
	assert_string_equal(f->resource,
			    "arn:aws:config:ap-southeast-2:" ACCT ":");
	assert_string_equal(f->reason,
			    "no AWS Config recorder in ap-southeast-2");
	assert_false(dtrue(f->details, "records_global"));
	assert_int_equal(f->n_obs, 1);
	assert_int_equal(d.n_calls, 1);
	test_door_cleanup(&d, NULL);
}

static void control_tower_exclusions_understood(void **state)
{
	(void)state;
	/* Outside its home region Control Tower excludes the IAM types:
	 * recording, not failing, and not recording global types here. */
	struct test_door d;
	const struct ev_finding *f =
	    run3(&d, "@config/recorders-controltower.json",
		 "@config/status-controltower.json",
		 "@config/channels-default.json");
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->reason,
			    "recorder aws-controltower-BaselineConfigRecorder "
			    "recording (last status SUCCESS), delivery channel "
			    "default to bucket config-bucket-111122223333");
	assert_false(dtrue(f->details, "records_global"));
	const json_t *rec = recorder(f);
	assert_string_equal(dstr(rec, "recording_strategy"),
			    "EXCLUSION_BY_RESOURCE_TYPES");
	assert_int_equal(
	    json_array_size(json_object_get(rec, "excluded_resource_types")),
	    4);
	assert_false(dtrue(rec, "uses_service_linked_role"));
	test_door_cleanup(&d, NULL);
}

static void service_linked_and_legacy_recorders(void **state)
{
	(void)state;
	struct test_door d;
	const struct ev_finding *f =
	    run3(&d, "@config/recorders-service-linked.json",
		 "@config/status-service-linked.json",
		 "@config/channels-default.json");
	assert_int_equal(f->status, EV_STATUS_PASS);
	const json_t *rec = recorder(f);
	assert_true(dtrue(rec, "service_linked"));
	assert_string_equal(dstr(rec, "recording_strategy"),
			    "INCLUSION_BY_RESOURCE_TYPES");
	/* AWS::IAM::Role is on the inclusion list. */
	assert_true(dtrue(f->details, "records_global"));
	test_door_cleanup(&d, NULL);

	/* No arn, strategy or mode: allSupported without global types. */
	f = run3(&d, "@config/recorders-legacy.json",
		 "@config/status-success.json",
		 "@config/channels-default.json");
	assert_int_equal(f->status, EV_STATUS_PASS);
	rec = recorder(f);
	assert_string_equal(dstr(rec, "recording_strategy"),
			    "ALL_SUPPORTED_RESOURCE_TYPES");
	assert_true(json_is_null(json_object_get(rec, "arn")));
	assert_false(dtrue(f->details, "records_global"));
	test_door_cleanup(&d, NULL);
}

static void denied_call_is_error(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"DescribeConfigurationRecorders", NULL, 200,
	     "@config/recorders-default.json", NULL},
	    {"DescribeConfigurationRecorderStatus", NULL, 400, DENIED,
	     "x-amzn-RequestId: 9f1c7a2e-status"},
	};
	struct test_door d;
	test_door_init(&d, ACCT, "eu-west-1", r, N(r));
	assert_int_equal(ev_probe_config_recorder_run(&d.ctx), EV_OK);
	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_int_equal(f->status, EV_STATUS_ERROR);
	assert_string_equal(f->resource, RES);
	assert_string_equal(f->error_code, "AccessDeniedException");
	assert_string_equal(f->request_id, "9f1c7a2e-status");
	assert_non_null(
	    strstr(f->reason, "DescribeConfigurationRecorderStatus: "));
	assert_string_equal(dstr(f->details, "error"), "access-denied");
	assert_int_equal(f->n_obs, 2);
	assert_int_equal(f->obs[1], 1);
	test_door_cleanup(&d, NULL);

	static const struct door_reply r2[] = {
	    {"DescribeConfigurationRecorders", NULL, 200, "{\"Recorders\":[]}",
	     NULL},
	};
	test_door_init(&d, ACCT, "eu-west-1", r2, N(r2));
	assert_int_equal(ev_probe_config_recorder_run(&d.ctx), EV_OK);
	assert_int_equal(d.findings.n, 1);
	assert_int_equal(d.findings.items[0].status, EV_STATUS_ERROR);
	assert_string_equal(dstr(d.findings.items[0].details, "error"),
			    "malformed");
	test_door_cleanup(&d, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(recording_and_delivering_passes),
	    cmocka_unit_test(last_status_any_case),
	    cmocka_unit_test(failing_recorder_fails),
	    cmocka_unit_test(no_delivery_channel_fails),
	    cmocka_unit_test(no_recorder_fails_on_one_call),
	    cmocka_unit_test(control_tower_exclusions_understood),
	    cmocka_unit_test(service_linked_and_legacy_recorders),
	    cmocka_unit_test(denied_call_is_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
