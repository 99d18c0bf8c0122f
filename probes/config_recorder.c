/* Probe config-recorder (MSP-8.2.3, DEVOPS-3.3): in the job's region an
 * AWS Config recorder exists, is recording with last status SUCCESS, and
 * a delivery channel is there to deliver what it records.
 *
 * One finding per region, resource "arn:<partition>:config:<region>:
 * <account>:" (the recorders' own ARNs are in details). What each
 * recorder records is evidence, not a verdict: all supported types,
 * an inclusion list, or an exclusion list as Control Tower sets it.
 * Whether global resource types (IAM) are recorded here is in details as
 * records_global, for the account-level view ("in at least one region").
 *
 * Recorders are either customer managed or service-linked (made by a
 * service such as Control Tower or Security Hub: ARN or name says so); a
 * customer recorder may also use the Config service-linked role. Both are
 * named in details. */
#include "probes.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PROBE_ID (ev_probes()[EV_PROBE_CONFIG_RECORDER].id)

/* The global resource types a recorder can record (IAM). */
static const char *const global_types[] = {
    "AWS::IAM::User",
    "AWS::IAM::Group",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
};

static bool string_in(const json_t *arr, const char *want)
{
	size_t i;
	const json_t *v;
	json_array_foreach(arr, i, v)
	{
		const char *s = json_string_value(v);
		if (s && strcmp(s, want) == 0)
			return true;
	}
	return false;
}

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* What the recording group says about IAM types. */
static bool records_global_types(const json_t *group, const char **strategy)
{
	const json_t *strat = json_object_get(group, "recordingStrategy");
	const char *use_only = jstr(strat, "useOnly");
	bool all = json_is_true(json_object_get(group, "allSupported"));
	/* Recorders older than recording strategies say allSupported. */
	if (!use_only)
		use_only = all ? "ALL_SUPPORTED_RESOURCE_TYPES"
			       : "INCLUSION_BY_RESOURCE_TYPES";
	*strategy = use_only;
	if (strcmp(use_only, "ALL_SUPPORTED_RESOURCE_TYPES") == 0)
		return json_is_true(
		    json_object_get(group, "includeGlobalResourceTypes"));
	if (strcmp(use_only, "INCLUSION_BY_RESOURCE_TYPES") == 0) {
		const json_t *types = json_object_get(group, "resourceTypes");
		for (size_t i = 0;
		     i < sizeof(global_types) / sizeof(global_types[0]); i++)
			if (string_in(types, global_types[i]))
				return true;
		return false;
	}
	if (strcmp(use_only, "EXCLUSION_BY_RESOURCE_TYPES") == 0) {
		/* Control Tower excludes the IAM types outside its home
		 * region: recorded there only if one is left in. */
		const json_t *excl = json_object_get(
		    json_object_get(group, "exclusionByResourceTypes"),
		    "resourceTypes");
		for (size_t i = 0;
		     i < sizeof(global_types) / sizeof(global_types[0]); i++)
			if (!string_in(excl, global_types[i]))
				return true;
		return false;
	}
	return false;
}

static bool service_linked(const json_t *rec)
{
	const char *arn = jstr(rec, "arn");
	const char *name = jstr(rec, "name");
	return (arn && strstr(arn, "service-linked")) ||
	       (name &&
		strncmp(name, "AWSConfigurationRecorderFor", 27) == 0) ||
	       json_is_string(json_object_get(rec, "servicePrincipal"));
}

static const json_t *status_of(const json_t *statuses, const char *name)
{
	size_t i;
	const json_t *s;
	json_array_foreach(statuses, i, s)
	{
		const char *n = jstr(s, "name");
		if (n && name && strcmp(n, name) == 0)
			return s;
	}
	return NULL;
}

/* One call with body {}; its top-level list member into *list (a view of
 * resp). */
static enum ev_err list_call(struct ev_probe_ctx *ctx, const char *action,
			     const char *member, struct ev_aws_response *resp,
			     const json_t **list, unsigned *obs,
			     struct ev_error *err)
{
	struct ev_aws_call call = {
	    .service = EV_SVC_CONFIG,
	    .action = action,
	    .region = ctx->region,
	};
	EV_TRY(ev_probe_call(ctx, &call, resp, obs, err));
	*list = json_object_get(resp->json, member);
	/* Config never set up answers empty lists; a missing list is
	 * something else. */
	EV_ENSURE_E(err, json_is_array(*list), EV_E_MALFORMED,
		    "%s: no %s in the answer", action, member);
	return EV_OK;
}

/* The first recorder that counts, else why the first one does not. */
struct best {
	const char *name;
	const char *why;
	char why_buf[200];
};

static enum ev_err recorder_detail(const json_t *rec, const json_t *st,
				   bool *ok, bool *global, struct best *b,
				   json_t *out)
{
	const json_t *group = json_object_get(rec, "recordingGroup");
	const char *strategy = NULL;
	bool rec_global = records_global_types(group, &strategy);
	const char *role = jstr(rec, "roleARN");
	bool recording = json_is_true(json_object_get(st, "recording"));
	const char *last = jstr(st, "lastStatus");
	bool success = last && strcasecmp(last, "SUCCESS") == 0;
	const json_t *excl =
	    json_object_get(json_object_get(group, "exclusionByResourceTypes"),
			    "resourceTypes");
	json_t *d = json_pack(
	    "{s:s?, s:s?, s:b, s:b, s:s?, s:b, s:s?, s:s?, s:s?, s:b, s:b, "
	    "s:s, s:O?, s:O?, s:s?, s:b}",
	    "name", jstr(rec, "name"), "arn", jstr(rec, "arn"),
	    "service_linked", service_linked(rec), "uses_service_linked_role",
	    role && strstr(role, ":role/aws-service-role/") != NULL, "role_arn",
	    role, "recording", recording, "last_status", last,
	    "last_error_code", jstr(st, "lastErrorCode"), "last_error_message",
	    jstr(st, "lastErrorMessage"), "all_supported",
	    json_is_true(json_object_get(group, "allSupported")),
	    "include_global_resource_types",
	    json_is_true(json_object_get(group, "includeGlobalResourceTypes")),
	    "recording_strategy", strategy, "resource_types",
	    json_object_get(group, "resourceTypes"), "excluded_resource_types",
	    excl, "recording_frequency",
	    jstr(json_object_get(rec, "recordingMode"), "recordingFrequency"),
	    "records_global", rec_global && recording && success);
	if (!d || json_array_append_new(out, d) != 0)
		return EV_E_NOMEM;

	const char *name = jstr(rec, "name");
	if (!name)
		name = "?";
	char why[sizeof(b->why_buf)] = "";
	const char *code = jstr(st, "lastErrorCode");
	if (!st)
		snprintf(why, sizeof(why), "recorder %s has no status", name);
	else if (!recording)
		snprintf(why, sizeof(why), "recorder %s is not recording",
			 name);
	else if (!success)
		snprintf(why, sizeof(why), "recorder %s last status %s%s%s%s",
			 name, last ? last : "unknown", code ? " (" : "",
			 code ? code : "", code ? ")" : "");
	*ok = !why[0];
	if (*ok) {
		*global |= rec_global;
		if (!b->name)
			b->name = name;
	} else if (!b->why) {
		memcpy(b->why_buf, why, sizeof(why));
		b->why = b->why_buf;
	}
	return EV_OK;
}

enum ev_err ev_probe_config_recorder_run(struct ev_probe_ctx *ctx)
{
	char resource[128];
	const char *partition = ev_region_partition(ctx->region);
	snprintf(resource, sizeof(resource),
		 "arn:%s:config:%s:%s:", partition ? partition : "aws",
		 ctx->region, ctx->account);

	struct ev_aws_response r_rec, r_st, r_ch;
	ev_aws_response_init(&r_rec);
	ev_aws_response_init(&r_st);
	ev_aws_response_init(&r_ch);
	json_t *details = NULL;
	struct ev_error err;
	ev_error_clear(&err);
	unsigned obs[3] = {0};
	const json_t *recs = NULL, *sts = NULL, *chans = NULL;
	enum ev_err rc = EV_OK;

	if (list_call(ctx, "DescribeConfigurationRecorders",
		      "ConfigurationRecorders", &r_rec, &recs, &obs[0],
		      &err) != EV_OK) {
		rc = ev_findings_add_error(
		    ctx->findings, PROBE_ID, ctx->account, ctx->region,
		    resource, &err, obs, 1, "DescribeConfigurationRecorders");
		goto out;
	}
	if (json_array_size(recs) == 0) {
		rc = ev_findings_add(
		    ctx->findings, PROBE_ID, ctx->account, ctx->region,
		    resource, EV_STATUS_FAIL,
		    json_pack("{s:s, s:[], s:b}", "region", ctx->region,
			      "recorders", "records_global", 0),
		    obs, 1, "no AWS Config recorder in %s", ctx->region);
		goto out;
	}
	if (list_call(ctx, "DescribeConfigurationRecorderStatus",
		      "ConfigurationRecordersStatus", &r_st, &sts, &obs[1],
		      &err) != EV_OK) {
		rc = ev_findings_add_error(
		    ctx->findings, PROBE_ID, ctx->account, ctx->region,
		    resource, &err, obs, 2,
		    "DescribeConfigurationRecorderStatus");
		goto out;
	}
	if (list_call(ctx, "DescribeDeliveryChannels", "DeliveryChannels",
		      &r_ch, &chans, &obs[2], &err) != EV_OK) {
		rc = ev_findings_add_error(
		    ctx->findings, PROBE_ID, ctx->account, ctx->region,
		    resource, &err, obs, 3, "DescribeDeliveryChannels");
		goto out;
	}

	json_t *rec_arr = json_array();
	json_t *ch_arr = json_array();
	details = json_pack("{s:s, s:o?, s:o?}", "region", ctx->region,
			    "recorders", rec_arr, "delivery_channels", ch_arr);
	if (!details || !rec_arr || !ch_arr) {
		rc = EV_E_NOMEM;
		goto out;
	}
	struct best best = {0};
	bool any_ok = false, global = false;
	size_t i;
	const json_t *rec;
	json_array_foreach(recs, i, rec)
	{
		bool ok = false;
		rc = recorder_detail(rec, status_of(sts, jstr(rec, "name")),
				     &ok, &global, &best, rec_arr);
		if (rc != EV_OK)
			goto out;
		any_ok |= ok;
	}
	const json_t *ch;
	json_array_foreach(chans, i, ch)
	{
		json_t *c = json_pack(
		    "{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}", "name",
		    jstr(ch, "name"), "s3_bucket", jstr(ch, "s3BucketName"),
		    "s3_key_prefix", jstr(ch, "s3KeyPrefix"), "s3_kms_key_arn",
		    jstr(ch, "s3KmsKeyArn"), "sns_topic_arn",
		    jstr(ch, "snsTopicARN"), "delivery_frequency",
		    jstr(
			json_object_get(ch, "configSnapshotDeliveryProperties"),
			"deliveryFrequency"));
		if (!c || json_array_append_new(ch_arr, c) != 0) {
			rc = EV_E_NOMEM;
			goto out;
		}
	}
	if (json_object_set_new(details, "records_global",
				json_boolean(global)) != 0) {
		rc = EV_E_NOMEM;
		goto out;
	}

	const json_t *ch0 = json_array_get(chans, 0);
	json_t *d = details;
	details = NULL; /* the finding takes it */
	if (!any_ok)
		rc = ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
				     ctx->region, resource, EV_STATUS_FAIL, d,
				     obs, 3, "%s", best.why);
	else if (!ch0)
		rc = ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
				     ctx->region, resource, EV_STATUS_FAIL, d,
				     obs, 3,
				     "recorder %s is recording but %s has no "
				     "delivery channel",
				     best.name ? best.name : "?", ctx->region);
	else
		rc = ev_findings_add(
		    ctx->findings, PROBE_ID, ctx->account, ctx->region,
		    resource, EV_STATUS_PASS, d, obs, 3,
		    "recorder %s recording (last status SUCCESS), delivery "
		    "channel %s to bucket %s%s",
		    best.name ? best.name : "?",
		    jstr(ch0, "name") ? jstr(ch0, "name") : "?",
		    jstr(ch0, "s3BucketName") ? jstr(ch0, "s3BucketName") : "?",
		    global ? ", global resource types recorded here" : "");
out:
	json_decref(details);
	ev_aws_response_cleanup(&r_rec);
	ev_aws_response_cleanup(&r_st);
	ev_aws_response_cleanup(&r_ch);
	return rc;
}
