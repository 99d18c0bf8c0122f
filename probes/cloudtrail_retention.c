/* Probe cloudtrail-retention (MSP-8.2.1, MSP-8.2.2): the S3 bucket of each
 * trail the account owns, and of each organization trail covering it,
 * keeps the logs at least thresholds.log_retention_days.
 *
 * One finding per trail, its resource the trail's ARN. The trails are
 * listed by DescribeTrails (with shadow trails) in every region examined,
 * since a single-region trail only shows in its own region; a trail is
 * examined once however many regions show it. An account with no trail
 * at all fails once, resource "arn:<partition>:cloudtrail::<account>:".
 *
 * The bucket, read once per run of the probe whatever number of trails
 * use it:
 * - where: GetBucketLocation (answered for any bucket in us-east-1; ""
 *   means us-east-1, "EU" eu-west-1), then the configuration calls in the
 *   bucket's region;
 * - by whom: the bucket's owner is not in the trail, so the probe asks
 *   the managed accounts the bucket name points at (a 12-digit account id
 *   in it, as in aws-controltower-logs-<id>-<region>), then the trail's
 *   owner, then the job's account, moving on when one is refused. Nobody
 *   able to read it gives an error finding listing who was asked and why
 *   each failed;
 * - what: Object Lock default retention (COMPLIANCE or GOVERNANCE, Days or
 *   Years) at least the period is the strong form: logs cannot be deleted
 *   before it, whatever lifecycle rules say. Otherwise the shortest
 *   lifecycle Expiration of the enabled rules that reach the trail's log
 *   keys (<prefix>/AWSLogs/...) decides: shorter than the period fails,
 *   none passes as kept indefinitely. Rules filtered by tag or size are
 *   counted as reaching the logs, since nothing here can prove they
 *   do not.
 * A configuration call that fails leaves its half unknown: the finding is
 * an error unless the other half alone settles the verdict. */
#include "probes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

#define PROBE_ID (ev_probes()[EV_PROBE_CLOUDTRAIL_RETENTION].id)

/* Trails examined per account (5 per region and account, plus the
 * organization's). */
#define MAX_TRAILS 256
/* Buckets read per run of the probe. */
#define MAX_BUCKETS 64
/* Accounts asked for one bucket. */
#define MAX_CANDIDATES 6
/* Calls cited per bucket: location, lifecycle and Object Lock per account
 * asked. */
#define BUCKET_OBS_MAX (3 * MAX_CANDIDATES)

struct bucket {
	char *name;			     /* owned */
	bool read;			     /* an account could locate it */
	bool missing;			     /* NoSuchBucket */
	char account[EV_ACCOUNT_ID_LEN + 1]; /* who read it */
	char region[EV_REGION_MAX];
	struct ev_error where_err; /* why nobody could locate it */
	json_t *tried;		   /* [{account, error, code, request_id}] */
	/* lifecycle */
	enum ev_err lc_rc;
	struct ev_error lc_err;
	json_t *rules; /* [{id, status, prefix, other_filter, expiration_days,
			  expiration_date, noncurrent_days, transitions}] */
	/* Object Lock */
	enum ev_err lock_rc;
	struct ev_error lock_err;
	bool lock_enabled;
	char lock_mode[16];
	long lock_days; /* 0: no default retention */
	const char *lock_unit;
	long lock_value;
	unsigned obs[BUCKET_OBS_MAX];
	size_t n_obs;
};

struct run {
	struct ev_probe_ctx *ctx;
	const char *partition;
	json_t *trails; /* the trail objects, deduplicated by ARN */
	unsigned trail_obs[MAX_TRAILS]; /* the listing that showed each */
	unsigned list_obs[EV_FINDING_MAX_OBS]; /* every listing */
	size_t n_list_obs;
	size_t n_listed; /* regions listed without error */
	struct bucket buckets[MAX_BUCKETS];
	size_t n_buckets;
};

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool is_managed(const struct ev_probe_ctx *ctx, const char *account)
{
	if (strcmp(account, ctx->account) == 0)
		return true;
	for (size_t i = 0; i < ctx->n_managed_accounts; i++)
		if (strcmp(ctx->managed_accounts[i], account) == 0)
			return true;
	return false;
}

static void arn_account(const char *arn, char out[EV_ACCOUNT_ID_LEN + 1])
{
	out[0] = '\0';
	const char *p = arn;
	for (int field = 0; field < 4 && p; field++) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	if (!p || strspn(p, "0123456789") != EV_ACCOUNT_ID_LEN ||
	    p[EV_ACCOUNT_ID_LEN] != ':')
		return;
	memcpy(out, p, EV_ACCOUNT_ID_LEN);
	out[EV_ACCOUNT_ID_LEN] = '\0';
}

static void bucket_cleanup(struct bucket *b)
{
	free(b->name);
	json_decref(b->tried);
	json_decref(b->rules);
}

static void note_obs(struct bucket *b, unsigned id)
{
	if (b->n_obs < BUCKET_OBS_MAX)
		b->obs[b->n_obs++] = id;
}

/* A count of days as S3 writes it; -1 if it is not one. */
static long parse_days(const char *s)
{
	if (!s || !*s)
		return -1;
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 1000000)
		return -1;
	return v;
}

/* ---- listing the trails ------------------------------------------------- */

static enum ev_err list_region(struct run *r, const char *region)
{
	struct ev_probe_ctx *ctx = r->ctx;
	json_t *body = json_pack("{s:b}", "includeShadowTrails", 1);
	if (!body)
		return EV_E_NOMEM;
	struct ev_aws_call call = {
	    .service = EV_SVC_CLOUDTRAIL,
	    .action = "DescribeTrails",
	    .region = region,
	    .json = body,
	};
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	struct ev_error err;
	ev_error_clear(&err);
	unsigned id = 0;
	enum ev_err rc = ev_probe_call(ctx, &call, &resp, &id, &err);
	if (r->n_list_obs < EV_FINDING_MAX_OBS)
		r->list_obs[r->n_list_obs++] = id;
	const json_t *list = json_object_get(resp.json, "trailList");
	if (rc == EV_OK && !json_is_array(list))
		rc = ev_error_set(&err, EV_E_MALFORMED,
				  "no trailList in the answer");
	if (rc != EV_OK) {
		char res[128], what[64];
		snprintf(res, sizeof(res),
			 "arn:%s:cloudtrail:%s:%s:", r->partition, region,
			 ctx->account);
		snprintf(what, sizeof(what), "DescribeTrails in %s", region);
		rc =
		    ev_findings_add_error(ctx->findings, PROBE_ID, ctx->account,
					  NULL, res, &err, &id, 1, what);
		goto out;
	}
	r->n_listed++;
	size_t i;
	json_t *t;
	json_array_foreach(list, i, t)
	{
		const char *arn = jstr(t, "TrailARN");
		char owner[EV_ACCOUNT_ID_LEN + 1];
		if (!arn)
			continue;
		arn_account(arn, owner);
		/* Ours, or an organization trail that covers us. */
		if (strcmp(owner, ctx->account) != 0 &&
		    !json_is_true(json_object_get(t, "IsOrganizationTrail")))
			continue;
		bool seen = false;
		size_t k;
		json_t *have;
		json_array_foreach(r->trails, k, have) seen |=
		    strcmp(jstr(have, "TrailARN"), arn) == 0;
		if (seen)
			continue;
		size_t at = json_array_size(r->trails);
		if (at >= MAX_TRAILS)
			break;
		if (json_array_append(r->trails, t) != 0) {
			rc = EV_E_NOMEM;
			goto out;
		}
		r->trail_obs[at] = id;
	}
out:
	ev_aws_response_cleanup(&resp);
	json_decref(body);
	return rc;
}

/* ---- reading a bucket --------------------------------------------------- */

static enum ev_err s3_call(struct run *r, struct bucket *b, const char *account,
			   const char *action, const char *subresource,
			   const char *region, struct ev_aws_response *resp,
			   struct ev_error *err)
{
	const struct ev_uri_param param = {subresource, ""};
	struct ev_aws_call call = {
	    .service = EV_SVC_S3,
	    .action = action,
	    .region = region,
	    .method = "GET",
	    .path = "/",
	    .bucket = b->name,
	    .params = &param,
	    .n_params = 1,
	};
	unsigned id = 0;
	enum ev_err rc;
	if (strcmp(account, r->ctx->account) == 0)
		rc = ev_probe_call(r->ctx, &call, resp, &id, err);
	else
		rc = ev_probe_call_in(r->ctx, account, &call, resp, &id, err);
	note_obs(b, id);
	return rc;
}

static enum ev_err note_tried(struct bucket *b, const char *account,
			      const struct ev_error *e)
{
	json_t *x = json_pack("{s:s, s:s, s:s, s:s}", "account", account,
			      "error", ev_err_name(e->code), "code",
			      e->aws_code, "request_id", e->request_id);
	if (!x || json_array_append_new(b->tried, x) != 0)
		return EV_E_NOMEM;
	return EV_OK;
}

/* Locates the bucket as `account`: EV_OK when found (b->region set). */
static enum ev_err locate(struct run *r, struct bucket *b, const char *account,
			  struct ev_error *err)
{
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	enum ev_err rc = s3_call(r, b, account, "GetBucketLocation", "location",
				 "us-east-1", &resp, err);
	const char *where = NULL;
	if (rc == EV_OK) {
		const struct ev_xml_node *root =
		    resp.xml ? ev_xml_root(resp.xml) : NULL;
		if (!root || strcmp(root->name, "LocationConstraint") != 0)
			rc = ev_error_set(err, EV_E_MALFORMED,
					  "GetBucketLocation: no "
					  "LocationConstraint in the answer");
		else
			where = root->text;
	} else if (rc != EV_E_NOT_FOUND) {
		/* A redirect names the bucket's region: enough to go on. */
		where =
		    ev_http_response_header(&resp.http, "x-amz-bucket-region");
		if (where)
			rc = EV_OK;
	}
	if (rc == EV_OK) {
		if (!*where)
			where = "us-east-1";
		else if (strcmp(where, "EU") == 0)
			where = "eu-west-1";
		if (strlen(where) >= sizeof(b->region) ||
		    strspn(where, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
			strlen(where))
			rc = ev_error_set(err, EV_E_MALFORMED,
					  "GetBucketLocation: not a region");
		else
			snprintf(b->region, sizeof(b->region), "%s", where);
	}
	ev_aws_response_cleanup(&resp);
	return rc;
}

static enum ev_err read_lifecycle(struct run *r, struct bucket *b)
{
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	b->lc_rc = s3_call(r, b, b->account, "GetBucketLifecycleConfiguration",
			   "lifecycle", b->region, &resp, &b->lc_err);
	if (b->lc_rc == EV_E_NOT_FOUND &&
	    strcmp(b->lc_err.aws_code, "NoSuchLifecycleConfiguration") == 0)
		b->lc_rc = EV_OK; /* no rules: nothing expires */
	else if (b->lc_rc == EV_OK && !resp.xml)
		b->lc_rc = ev_error_set(&b->lc_err, EV_E_MALFORMED,
					"lifecycle: no XML answer");
	enum ev_err rc = EV_OK;
	const struct ev_xml_node *root =
	    b->lc_rc == EV_OK && resp.xml ? ev_xml_root(resp.xml) : NULL;
	for (const struct ev_xml_node *rule = ev_xml_child(root, "Rule"); rule;
	     rule = ev_xml_next_same(rule)) {
		const char *prefix = ev_xml_path_text(rule, "Filter/Prefix");
		if (!prefix)
			prefix = ev_xml_path_text(rule, "Filter/And/Prefix");
		if (!prefix)
			prefix = ev_xml_path_text(rule, "Prefix");
		bool other =
		    ev_xml_path(rule, "Filter/Tag") ||
		    ev_xml_path(rule, "Filter/And/Tag") ||
		    ev_xml_path(rule, "Filter/ObjectSizeGreaterThan") ||
		    ev_xml_path(rule, "Filter/ObjectSizeLessThan") ||
		    ev_xml_path(rule, "Filter/And/ObjectSizeGreaterThan") ||
		    ev_xml_path(rule, "Filter/And/ObjectSizeLessThan");
		long days =
		    parse_days(ev_xml_path_text(rule, "Expiration/Days"));
		long nc = parse_days(ev_xml_path_text(
		    rule, "NoncurrentVersionExpiration/NoncurrentDays"));
		json_t *transitions = json_array();
		for (const struct ev_xml_node *tr =
			 ev_xml_child(rule, "Transition");
		     tr && transitions; tr = ev_xml_next_same(tr)) {
			long td = parse_days(ev_xml_path_text(tr, "Days"));
			json_t *x = json_pack(
			    "{s:o?, s:s?}", "days",
			    td >= 0 ? json_integer(td) : NULL, "storage_class",
			    ev_xml_path_text(tr, "StorageClass"));
			if (!x || json_array_append_new(transitions, x) != 0) {
				json_decref(transitions);
				transitions = NULL;
			}
		}
		json_t *x = json_pack(
		    "{s:s?, s:s?, s:s, s:b, s:o?, s:s?, s:o?, s:o?}", "id",
		    ev_xml_path_text(rule, "ID"), "status",
		    ev_xml_path_text(rule, "Status"), "prefix",
		    prefix ? prefix : "", "other_filter", other,
		    "expiration_days", days >= 0 ? json_integer(days) : NULL,
		    "expiration_date",
		    ev_xml_path_text(rule, "Expiration/Date"),
		    "noncurrent_days", nc >= 0 ? json_integer(nc) : NULL,
		    "transitions", transitions);
		if (!transitions || !x || json_array_append_new(b->rules, x)) {
			rc = EV_E_NOMEM;
			break;
		}
	}
	ev_aws_response_cleanup(&resp);
	return rc;
}

static void read_lock(struct run *r, struct bucket *b)
{
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	b->lock_rc = s3_call(r, b, b->account, "GetObjectLockConfiguration",
			     "object-lock", b->region, &resp, &b->lock_err);
	if (b->lock_rc == EV_E_NOT_FOUND &&
	    strcmp(b->lock_err.aws_code,
		   "ObjectLockConfigurationNotFoundError") == 0) {
		b->lock_rc = EV_OK; /* no Object Lock */
	} else if (b->lock_rc == EV_OK) {
		const struct ev_xml_node *root =
		    resp.xml ? ev_xml_root(resp.xml) : NULL;
		const char *enabled =
		    ev_xml_path_text(root, "ObjectLockEnabled");
		b->lock_enabled = enabled && strcmp(enabled, "Enabled") == 0;
		const struct ev_xml_node *ret =
		    ev_xml_path(root, "Rule/DefaultRetention");
		const char *mode = ev_xml_path_text(ret, "Mode");
		long days = parse_days(ev_xml_path_text(ret, "Days"));
		long years = parse_days(ev_xml_path_text(ret, "Years"));
		if (mode)
			snprintf(b->lock_mode, sizeof(b->lock_mode), "%s",
				 mode);
		if (!root)
			b->lock_rc = ev_error_set(&b->lock_err, EV_E_MALFORMED,
						  "Object Lock: no XML answer");
		else if (b->lock_enabled && days > 0) {
			b->lock_days = days;
			b->lock_unit = "days";
			b->lock_value = days;
		} else if (b->lock_enabled && years > 0) {
			/* A year counted as 365 days: never more than
			 * S3 keeps. */
			b->lock_days = years * 365;
			b->lock_unit = "years";
			b->lock_value = years;
		}
	}
	ev_aws_response_cleanup(&resp);
}

/* Candidate readers of a bucket, most likely owner first. */
static size_t candidates(const struct run *r, const char *bucket,
			 const char *trail_owner,
			 char out[MAX_CANDIDATES][EV_ACCOUNT_ID_LEN + 1])
{
	size_t n = 0;
	const struct ev_probe_ctx *ctx = r->ctx;
	const char *p = bucket;
	char ids[MAX_CANDIDATES][EV_ACCOUNT_ID_LEN + 1];
	size_t n_ids = 0;
	while (*p && n_ids < MAX_CANDIDATES - 2) {
		size_t run = strspn(p, "0123456789");
		if (run == EV_ACCOUNT_ID_LEN) {
			memcpy(ids[n_ids], p, run);
			ids[n_ids++][run] = '\0';
		}
		p += run ? run : 1;
	}
	for (size_t i = 0; i < n_ids + 2; i++) {
		const char *a = i < n_ids    ? ids[i]
				: i == n_ids ? trail_owner
					     : ctx->account;
		if (!a || !*a || !is_managed(ctx, a))
			continue;
		bool dup = false;
		for (size_t k = 0; k < n && !dup; k++)
			dup = strcmp(out[k], a) == 0;
		if (!dup && n < MAX_CANDIDATES)
			snprintf(out[n++], EV_ACCOUNT_ID_LEN + 1, "%.*s",
				 EV_ACCOUNT_ID_LEN, a);
	}
	return n;
}

static enum ev_err read_bucket(struct run *r, struct bucket *b,
			       const char *trail_owner)
{
	char cand[MAX_CANDIDATES][EV_ACCOUNT_ID_LEN + 1];
	size_t n = candidates(r, b->name, trail_owner, cand);
	ev_error_set(&b->where_err, EV_E_ACCESS_DENIED,
		     "no managed account to read it from");
	for (size_t i = 0; i < n; i++) {
		struct ev_error err;
		ev_error_clear(&err);
		enum ev_err rc = locate(r, b, cand[i], &err);
		if (rc == EV_OK) {
			b->read = true;
			memcpy(b->account, cand[i], sizeof(cand[i]));
			break;
		}
		EV_TRY(note_tried(b, cand[i], &err));
		b->where_err = err;
		if (rc == EV_E_NOT_FOUND &&
		    strcmp(err.aws_code, "NoSuchBucket") == 0) {
			b->missing = true;
			return EV_OK;
		}
		if (rc == EV_E_NOMEM)
			return rc;
	}
	if (!b->read)
		return EV_OK;
	EV_TRY(read_lifecycle(r, b));
	read_lock(r, b);
	return EV_OK;
}

static struct bucket *bucket_get(struct run *r, const char *name,
				 const char *trail_owner, enum ev_err *rc)
{
	*rc = EV_OK;
	for (size_t i = 0; i < r->n_buckets; i++)
		if (strcmp(r->buckets[i].name, name) == 0)
			return &r->buckets[i];
	if (r->n_buckets >= MAX_BUCKETS) {
		*rc = EV_E_LIMIT;
		return NULL;
	}
	struct bucket *b = &r->buckets[r->n_buckets];
	memset(b, 0, sizeof(*b));
	b->name = ev_strdup(name);
	b->tried = json_array();
	b->rules = json_array();
	r->n_buckets++;
	if (!b->name || !b->tried || !b->rules) {
		*rc = EV_E_NOMEM;
		return NULL;
	}
	*rc = read_bucket(r, b, trail_owner);
	return *rc == EV_OK ? b : NULL;
}

/* ---- the verdict per trail ---------------------------------------------- */

/* The shortest expiration, in days from now, of the enabled rules reaching
 * keys under log_prefix; -1 when none does. *rule_id names it. */
static long shortest_expiration(const struct run *r, const json_t *rules,
				const char *log_prefix, const char **rule_id)
{
	long best = -1;
	size_t i;
	const json_t *rule;
	json_array_foreach(rules, i, rule)
	{
		const char *status = jstr(rule, "status");
		const char *p = jstr(rule, "prefix");
		if (!status || strcmp(status, "Enabled") != 0 || !p)
			continue;
		size_t pl = strlen(p), ll = strlen(log_prefix);
		bool reaches = strncmp(log_prefix, p, pl < ll ? pl : ll) == 0;
		if (!reaches)
			continue;
		long days = -1;
		const json_t *d = json_object_get(rule, "expiration_days");
		const char *date = jstr(rule, "expiration_date");
		time_t when = 0;
		if (json_is_integer(d)) {
			days = (long)json_integer_value(d);
		} else if (date &&
			   ev_time_parse_iso8601(date, &when) == EV_OK) {
			/* Everything under the rule goes on that date. */
			days = when > r->ctx->now
				   ? (long)((when - r->ctx->now) / 86400)
				   : 0;
		}
		if (days >= 0 && (best < 0 || days < best)) {
			best = days;
			*rule_id = jstr(rule, "id");
		}
	}
	return best;
}

static json_t *error_json(const struct ev_error *e)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "error", ev_err_name(e->code),
			 "code", e->aws_code, "request_id", e->request_id,
			 "message", e->message);
}

static enum ev_err add_error_details(struct ev_probe_ctx *ctx,
				     const char *resource,
				     const struct ev_error *e,
				     const unsigned *obs, size_t n_obs,
				     const char *what, json_t *details)
{
	size_t at = ctx->findings->n;
	enum ev_err rc =
	    ev_findings_add_error(ctx->findings, PROBE_ID, ctx->account, NULL,
				  resource, e, obs, n_obs, what);
	if (rc != EV_OK) {
		json_decref(details);
		return rc;
	}
	json_t *d = ctx->findings->items[at].details;
	if (!d) {
		ctx->findings->items[at].details = details;
		return EV_OK;
	}
	rc = json_object_update(d, details) == 0 ? EV_OK : EV_E_NOMEM;
	json_decref(details);
	return rc;
}

static enum ev_err judge_trail(struct run *r, const json_t *t,
			       unsigned list_obs)
{
	struct ev_probe_ctx *ctx = r->ctx;
	const char *arn = jstr(t, "TrailARN");
	const char *name = jstr(t, "S3BucketName");
	const char *prefix = jstr(t, "S3KeyPrefix");
	char owner[EV_ACCOUNT_ID_LEN + 1];
	arn_account(arn, owner);
	long period = ctx->cfg->thresholds.log_retention_days;
	unsigned obs[1 + BUCKET_OBS_MAX];
	size_t n_obs = 0;
	obs[n_obs++] = list_obs;

	if (!name || !*name) {
		struct ev_error e;
		ev_error_set(&e, EV_E_MALFORMED, "the trail names no bucket");
		return ev_findings_add_error(ctx->findings, PROBE_ID,
					     ctx->account, NULL, arn, &e, obs,
					     n_obs, arn);
	}
	enum ev_err rc;
	struct bucket *b = bucket_get(r, name, owner, &rc);
	if (!b && rc == EV_E_LIMIT) {
		struct ev_error e;
		ev_error_set(&e, EV_E_LIMIT, "more than %d buckets",
			     MAX_BUCKETS);
		return ev_findings_add_error(ctx->findings, PROBE_ID,
					     ctx->account, NULL, arn, &e, obs,
					     n_obs, name);
	}
	if (!b)
		return rc;
	for (size_t i = 0; i < b->n_obs; i++)
		obs[n_obs++] = b->obs[i];

	char log_prefix[1200];
	snprintf(log_prefix, sizeof(log_prefix), "%s%sAWSLogs/",
		 prefix && *prefix ? prefix : "", prefix && *prefix ? "/" : "");
	json_t *lock = NULL;
	if (b->read && b->lock_rc == EV_OK)
		lock = json_pack(
		    "{s:b, s:s?, s:o?, s:s?, s:o?}", "enabled", b->lock_enabled,
		    "mode", b->lock_mode[0] ? b->lock_mode : NULL,
		    "retention_days",
		    b->lock_days ? json_integer(b->lock_days) : NULL,
		    "retention_unit", b->lock_unit, "retention_value",
		    b->lock_days ? json_integer(b->lock_value) : NULL);
	json_t *details = json_pack(
	    "{s:s, s:s, s:s?, s:s, s:s?, s:s?, s:i, s:O, s:O?, s:o?}", "trail",
	    arn, "s3_bucket", name, "s3_key_prefix", prefix, "log_prefix",
	    log_prefix, "bucket_region", b->region[0] ? b->region : NULL,
	    "bucket_read_in", b->read ? b->account : NULL,
	    "retention_days_required", (json_int_t)period, "tried", b->tried,
	    "lifecycle_rules", b->read && b->lc_rc == EV_OK ? b->rules : NULL,
	    "object_lock", lock);
	if (!details)
		return EV_E_NOMEM;
	/* A half that could not be read stays visible even when the other
	 * half settles the verdict. */
	if ((b->read && b->lc_rc != EV_OK &&
	     json_object_set_new(details, "lifecycle_error",
				 error_json(&b->lc_err)) != 0) ||
	    (b->read && b->lock_rc != EV_OK &&
	     json_object_set_new(details, "object_lock_error",
				 error_json(&b->lock_err)) != 0)) {
		json_decref(details);
		return EV_E_NOMEM;
	}

	if (b->missing)
		return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
				       NULL, arn, EV_STATUS_FAIL, details, obs,
				       n_obs,
				       "bucket %s of trail %s does not exist: "
				       "no logs are kept",
				       name, arn);
	if (!b->read) {
		char what[300];
		snprintf(what, sizeof(what),
			 "bucket %s of trail %s could not be read in any "
			 "managed account (%zu asked)",
			 name, arn, json_array_size(b->tried));
		return add_error_details(ctx, arn, &b->where_err, obs, n_obs,
					 what, details);
	}

	/* The strong form first: locked logs outlive any lifecycle rule. */
	if (b->lock_rc == EV_OK && b->lock_days >= period)
		return ev_findings_add(
		    ctx->findings, PROBE_ID, ctx->account, NULL, arn,
		    EV_STATUS_PASS, details, obs, n_obs,
		    "bucket %s keeps logs under Object Lock %s default "
		    "retention of %ld %s (%ld days required)",
		    name, b->lock_mode, b->lock_value, b->lock_unit, period);
	if (b->lc_rc != EV_OK)
		return add_error_details(ctx, arn, &b->lc_err, obs, n_obs,
					 "lifecycle of the trail's bucket",
					 details);
	const char *rule = NULL;
	long exp = shortest_expiration(r, b->rules, log_prefix, &rule);
	if (exp < 0 || exp >= period) {
		if (exp < 0)
			return ev_findings_add(
			    ctx->findings, PROBE_ID, ctx->account, NULL, arn,
			    EV_STATUS_PASS, details, obs, n_obs,
			    "bucket %s has no lifecycle expiration for the "
			    "logs: kept indefinitely (%ld days required)%s",
			    name, period,
			    b->lock_rc == EV_OK ? "" : "; Object Lock unread");
		return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
				       NULL, arn, EV_STATUS_PASS, details, obs,
				       n_obs,
				       "bucket %s keeps logs %ld days (rule "
				       "%s) before expiry, %ld days required",
				       name, exp, rule ? rule : "?", period);
	}
	/* Expiring too soon: only Object Lock could still keep them. */
	if (b->lock_rc != EV_OK)
		return add_error_details(ctx, arn, &b->lock_err, obs, n_obs,
					 "Object Lock of the trail's bucket",
					 details);
	return ev_findings_add(
	    ctx->findings, PROBE_ID, ctx->account, NULL, arn, EV_STATUS_FAIL,
	    details, obs, n_obs,
	    "bucket %s expires logs after %ld days (rule %s), less than the "
	    "%ld days required%s",
	    name, exp, rule ? rule : "?", period,
	    b->lock_days ? " and its Object Lock retention is shorter" : "");
}

enum ev_err ev_probe_cloudtrail_retention_run(struct ev_probe_ctx *ctx)
{
	struct run *r = calloc(1, sizeof(*r));
	if (!r)
		return EV_E_NOMEM;
	r->ctx = ctx;
	const char *region0 =
	    ctx->n_regions ? ctx->regions[0] : ctx->cfg->aws.region;
	const char *partition = ev_region_partition(region0);
	r->partition = partition ? partition : "aws";
	r->trails = json_array();
	enum ev_err rc = r->trails ? EV_OK : EV_E_NOMEM;
	size_t n_regions = ctx->n_regions ? ctx->n_regions : 1;
	for (size_t i = 0; i < n_regions && rc == EV_OK; i++)
		rc = list_region(r, ctx->n_regions ? ctx->regions[i] : region0);
	if (rc != EV_OK)
		goto out;
	size_t n = json_array_size(r->trails);
	/* "No trail" only when every region could be listed: a trail
	 * homed in an unlisted region may exist. */
	if (n == 0 && r->n_listed == n_regions) {
		char res[96];
		snprintf(res, sizeof(res),
			 "arn:%s:cloudtrail::%s:", r->partition, ctx->account);
		rc = ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
				     NULL, res, EV_STATUS_FAIL,
				     json_pack("{s:i}", "regions_listed",
					       (json_int_t)r->n_listed),
				     r->list_obs, r->n_list_obs,
				     "no CloudTrail trail in or covering this "
				     "account: no security event logs are "
				     "kept");
		goto out;
	}
	for (size_t i = 0; i < n && rc == EV_OK; i++)
		rc = judge_trail(r, json_array_get(r->trails, i),
				 r->trail_obs[i]);
out:
	for (size_t i = 0; i < r->n_buckets; i++)
		bucket_cleanup(&r->buckets[i]);
	json_decref(r->trails);
	free(r);
	return rc;
}
