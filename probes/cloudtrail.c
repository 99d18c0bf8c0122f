/* Probe cloudtrail (MSP-8.2.4): in the job's region the account is covered
 * by a trail that logs management events with integrity: logging, every
 * management event (read and write) selected, log file validation on, no
 * delivery error, a digest delivered within digest_max_age_hours.
 *
 * One finding per region. Its resource is the region's ARN form
 * "arn:<partition>:cloudtrail:<region>:<account>:", stable from run to run
 * whichever trail covers the region; the covering trail is named in the
 * reason and in details.covered_by.
 *
 * DescribeTrails (with shadow trails) in the region lists every trail the
 * account can see there; a trail covers the region when it is multi-region
 * or homed there. Status and selectors are read by ARN in the trail's home
 * region, once per account for all its region jobs (ctx->state->trails).
 * An organization trail seen from a member is read by the member; if that
 * is refused and the owner is managed in this run, by the owner.
 *
 * Verdict: pass when one covering trail is good; fail when none covers the
 * region or every covering trail was read and none is good; error when no
 * trail is good and one could not be read: an unreadable trail never
 * counts as not logging, and never hides another trail that is good. */
#include "probes.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "timefmt.h"

#define PROBE_ID (ev_probes()[EV_PROBE_CLOUDTRAIL].id)

/* Trails one region can show: 5 per region and account (AWS quota), plus
 * the organization trails of the management account. */
#define MAX_TRAILS 64
/* Trails cached per account: every region's own plus the shared ones. */
#define TRAIL_CACHE_MAX 512
/* Calls behind one trail's state: status and selectors, each possibly
 * retried in the owner's account. */
#define TRAIL_OBS_MAX 4

/* A trail as DescribeTrails shows it; views into the response. */
struct trail {
	const char *arn;
	const char *name;
	const char *home;
	const char *bucket;
	const char *kms;
	char owner[EV_ACCOUNT_ID_LEN + 1]; /* "" when the ARN names none */
	bool multi;
	bool org;
	bool validation;
};

/* What GetTrailStatus and GetEventSelectors said about one trail. Written
 * once by the job that reads it, then only read (after `done`). */
struct trail_state {
	char *arn; /* the cache key; owned */
	bool done;
	bool via_owner; /* answered in the owner's account */
	enum ev_err status_rc;
	struct ev_error status_err;
	bool is_logging;
	char delivery_error[EV_ERROR_CODE_MAX];
	char digest_error[EV_ERROR_CODE_MAX];
	bool has_digest;
	double digest_time;
	enum ev_err sel_rc;
	struct ev_error sel_err;
	const char *selector_kind; /* "basic", "advanced", "none"; static */
	bool mgmt_read;
	bool mgmt_write;
	bool mgmt_excludes; /* some event sources excluded (KMS, RDS Data) */
	unsigned obs[TRAIL_OBS_MAX];
	size_t n_obs;
};

struct trail_cache {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct trail_state *items[TRAIL_CACHE_MAX];
	size_t n;
};

static void trail_state_free(struct trail_state *s)
{
	if (!s)
		return;
	free(s->arn);
	free(s);
}

static void trail_cache_free(void *p)
{
	struct trail_cache *c = p;
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		trail_state_free(c->items[i]);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* The account's cache, made on first use; NULL without account state or
 * memory (the caller then reads trails uncached). */
static struct trail_cache *cache_of(struct ev_probe_ctx *ctx)
{
	struct ev_account_state *st = ctx->state;
	if (!st)
		return NULL;
	pthread_mutex_lock(&st->lock);
	if (!st->trails) {
		struct trail_cache *c = calloc(1, sizeof(*c));
		if (c && pthread_mutex_init(&c->lock, NULL) != 0) {
			free(c);
			c = NULL;
		}
		if (c && pthread_cond_init(&c->cond, NULL) != 0) {
			pthread_mutex_destroy(&c->lock);
			free(c);
			c = NULL;
		}
		if (c) {
			st->trails = c;
			st->trails_free = trail_cache_free;
		}
	}
	struct trail_cache *c =
	    st->trails_free == trail_cache_free ? st->trails : NULL;
	pthread_mutex_unlock(&st->lock);
	return c;
}

static bool is_managed(const struct ev_probe_ctx *ctx, const char *account)
{
	for (size_t i = 0; i < ctx->n_managed_accounts; i++)
		if (strcmp(ctx->managed_accounts[i], account) == 0)
			return true;
	return false;
}

/* The account field of arn:partition:service:region:account:resource. */
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

/* The region field of an ARN, into out; "" when absent. */
static void arn_region(const char *arn, char *out, size_t n)
{
	out[0] = '\0';
	const char *p = arn;
	for (int field = 0; field < 3 && p; field++) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	if (!p)
		return;
	size_t len = strcspn(p, ":");
	if (len < n) {
		memcpy(out, p, len);
		out[len] = '\0';
	}
}

static void note_obs(struct trail_state *s, unsigned id)
{
	if (s->n_obs < TRAIL_OBS_MAX)
		s->obs[s->n_obs++] = id;
}

/* One call about a trail, by the account, then by the owner when the
 * account is refused and the owner is managed here. Once the owner has
 * answered, the trail's next call goes to the owner directly. */
static enum ev_err call_trail(struct ev_probe_ctx *ctx, const struct trail *t,
			      const struct ev_aws_call *call,
			      struct ev_aws_response *resp,
			      struct trail_state *s, struct ev_error *err)
{
	unsigned id = 0;
	enum ev_err rc;
	if (s->via_owner)
		rc = ev_probe_call_in(ctx, t->owner, call, resp, &id, err);
	else
		rc = ev_probe_call(ctx, call, resp, &id, err);
	note_obs(s, id);
	bool refused = rc == EV_E_ACCESS_DENIED || rc == EV_E_NOT_FOUND;
	if (!refused || s->via_owner || !t->owner[0] ||
	    strcmp(t->owner, ctx->account) == 0 || !is_managed(ctx, t->owner))
		return rc;
	char first[EV_ERROR_CODE_MAX];
	snprintf(first, sizeof(first), "%s",
		 err->aws_code[0] ? err->aws_code : ev_err_name(err->code));
	ev_aws_response_cleanup(resp);
	ev_aws_response_init(resp);
	ev_error_clear(err);
	rc = ev_probe_call_in(ctx, t->owner, call, resp, &id, err);
	note_obs(s, id);
	if (rc == EV_OK)
		s->via_owner = true;
	else
		ev_error_prefix(err, "refused to %s (%s), then in owner %s: ",
				ctx->account, first, t->owner);
	return rc;
}

static void copy_code(char *dst, size_t n, const json_t *v)
{
	const char *s = json_string_value(v);
	dst[0] = '\0';
	if (s && *s)
		ev_error_copy_field(dst, n, s, strlen(s));
}

static enum ev_err read_status(struct ev_probe_ctx *ctx, const struct trail *t,
			       const char *home, struct trail_state *s)
{
	json_t *body = json_pack("{s:s}", "Name", t->arn);
	if (!body)
		return ev_error_set(&s->status_err, EV_E_NOMEM,
				    "out of memory");
	struct ev_aws_call call = {
	    .service = EV_SVC_CLOUDTRAIL,
	    .action = "GetTrailStatus",
	    .region = home,
	    .json = body,
	};
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	enum ev_err rc = call_trail(ctx, t, &call, &resp, s, &s->status_err);
	if (rc == EV_OK && !json_is_object(resp.json))
		rc = ev_error_set(&s->status_err, EV_E_MALFORMED,
				  "GetTrailStatus: not a JSON object");
	if (rc == EV_OK) {
		const json_t *j = resp.json;
		s->is_logging = json_is_true(json_object_get(j, "IsLogging"));
		copy_code(s->delivery_error, sizeof(s->delivery_error),
			  json_object_get(j, "LatestDeliveryError"));
		copy_code(s->digest_error, sizeof(s->digest_error),
			  json_object_get(j, "LatestDigestDeliveryError"));
		const json_t *d =
		    json_object_get(j, "LatestDigestDeliveryTime");
		/* Some clients see these epoch fields as ISO strings: both
		 * are read. */
		time_t iso = 0;
		if (json_is_number(d) && isfinite(json_number_value(d))) {
			s->has_digest = true;
			s->digest_time = json_number_value(d);
		} else if (json_is_string(d) && *json_string_value(d) &&
			   ev_time_parse_iso8601(json_string_value(d), &iso) ==
			       EV_OK) {
			s->has_digest = true;
			s->digest_time = (double)iso;
		}
	}
	ev_aws_response_cleanup(&resp);
	json_decref(body);
	return rc;
}

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

/* A basic selector: IncludeManagementEvents (true when absent, as the API
 * documents) with its ReadWriteType (All when absent). */
static void basic_selector(const json_t *sel, struct trail_state *s)
{
	const json_t *inc = json_object_get(sel, "IncludeManagementEvents");
	if (inc && !json_is_true(inc))
		return;
	const char *rw =
	    json_string_value(json_object_get(sel, "ReadWriteType"));
	if (!rw || strcmp(rw, "All") == 0 || strcmp(rw, "ReadOnly") == 0)
		s->mgmt_read = true;
	if (!rw || strcmp(rw, "All") == 0 || strcmp(rw, "WriteOnly") == 0)
		s->mgmt_write = true;
	if (json_array_size(
		json_object_get(sel, "ExcludeManagementEventSources")) > 0)
		s->mgmt_excludes = true;
}

/* An advanced selector counts for management events when its
 * eventCategory Equals Management; a readOnly field narrows it to reads
 * or writes, and an operator we do not follow on readOnly narrows it to
 * nothing (never credit what we cannot read). */
static void advanced_selector(const json_t *sel, struct trail_state *s)
{
	const json_t *fields = json_object_get(sel, "FieldSelectors");
	bool management = false, reads = true, writes = true;
	size_t i;
	const json_t *f;
	json_array_foreach(fields, i, f)
	{
		const char *name =
		    json_string_value(json_object_get(f, "Field"));
		if (!name)
			continue;
		const json_t *eq = json_object_get(f, "Equals");
		const json_t *neq = json_object_get(f, "NotEquals");
		if (strcmp(name, "eventCategory") == 0) {
			if (string_in(eq, "Management"))
				management = true;
		} else if (strcmp(name, "readOnly") == 0) {
			bool eq_t = string_in(eq, "true");
			bool eq_f = string_in(eq, "false");
			bool ne_t = string_in(neq, "true");
			bool ne_f = string_in(neq, "false");
			size_t ops = json_object_size(f) - 1;
			if (ops == 1 && (eq_t || eq_f) && !neq) {
				reads = eq_t;
				writes = eq_f;
			} else if (ops == 1 && (ne_t || ne_f) && !eq) {
				reads = !ne_t;
				writes = !ne_f;
			} else {
				reads = writes = false;
			}
		} else if (strcmp(name, "eventSource") == 0 && neq) {
			s->mgmt_excludes = true;
		}
	}
	if (!management)
		return;
	s->mgmt_read |= reads;
	s->mgmt_write |= writes;
}

static enum ev_err read_selectors(struct ev_probe_ctx *ctx,
				  const struct trail *t, const char *home,
				  struct trail_state *s)
{
	s->selector_kind = "none";
	json_t *body = json_pack("{s:s}", "TrailName", t->arn);
	if (!body)
		return ev_error_set(&s->sel_err, EV_E_NOMEM, "out of memory");
	struct ev_aws_call call = {
	    .service = EV_SVC_CLOUDTRAIL,
	    .action = "GetEventSelectors",
	    .region = home,
	    .json = body,
	};
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	enum ev_err rc = call_trail(ctx, t, &call, &resp, s, &s->sel_err);
	if (rc == EV_OK && !json_is_object(resp.json))
		rc = ev_error_set(&s->sel_err, EV_E_MALFORMED,
				  "GetEventSelectors: not a JSON object");
	if (rc == EV_OK) {
		const json_t *basic =
		    json_object_get(resp.json, "EventSelectors");
		const json_t *adv =
		    json_object_get(resp.json, "AdvancedEventSelectors");
		size_t i;
		const json_t *sel;
		if (json_array_size(adv) > 0) {
			s->selector_kind = "advanced";
			json_array_foreach(adv, i, sel)
			    advanced_selector(sel, s);
		} else if (json_array_size(basic) > 0) {
			s->selector_kind = "basic";
			json_array_foreach(basic, i, sel)
			    basic_selector(sel, s);
		}
	}
	ev_aws_response_cleanup(&resp);
	json_decref(body);
	return rc;
}

static void trail_fetch(struct ev_probe_ctx *ctx, const struct trail *t,
			struct trail_state *s)
{
	/* Status and selectors live in the home region; the ARN's region
	 * stands in when DescribeTrails leaves HomeRegion out. */
	char home[EV_REGION_MAX];
	if (t->home && *t->home)
		snprintf(home, sizeof(home), "%s", t->home);
	else
		arn_region(t->arn, home, sizeof(home));
	if (!home[0])
		snprintf(home, sizeof(home), "%s", ctx->region);
	s->status_rc = read_status(ctx, t, home, s);
	s->sel_rc = read_selectors(ctx, t, home, s);
}

/* The trail's state, read now or by another region job of the account.
 * *owned tells the caller to free it (no cache). NULL: out of memory. */
static struct trail_state *trail_get(struct ev_probe_ctx *ctx,
				     const struct trail *t, bool *owned)
{
	*owned = false;
	struct trail_cache *c = cache_of(ctx);
	struct trail_state *s = NULL;
	if (c) {
		pthread_mutex_lock(&c->lock);
		for (size_t i = 0; i < c->n; i++) {
			if (strcmp(c->items[i]->arn, t->arn) == 0) {
				s = c->items[i];
				while (!s->done)
					pthread_cond_wait(&c->cond, &c->lock);
				pthread_mutex_unlock(&c->lock);
				return s;
			}
		}
		if (c->n < TRAIL_CACHE_MAX) {
			s = calloc(1, sizeof(*s));
			if (s && !(s->arn = ev_strdup(t->arn))) {
				free(s);
				s = NULL;
			}
			if (s)
				c->items[c->n++] = s;
		}
		pthread_mutex_unlock(&c->lock);
		if (s) {
			trail_fetch(ctx, t, s);
			pthread_mutex_lock(&c->lock);
			s->done = true;
			pthread_cond_broadcast(&c->cond);
			pthread_mutex_unlock(&c->lock);
			return s;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	*owned = true;
	trail_fetch(ctx, t, s);
	s->done = true;
	return s;
}

/* ---- the region's verdict ----------------------------------------------- */

static void append(char *buf, size_t n, const char *fmt, ...) EV_PRINTF(3, 4);

static void append(char *buf, size_t n, const char *fmt, ...)
{
	size_t len = strlen(buf);
	if (len + 1 >= n)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + len, n - len, fmt, ap);
	va_end(ap);
}

static json_t *error_json(const struct ev_error *e)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "error", ev_err_name(e->code),
			 "code", e->aws_code, "request_id", e->request_id,
			 "message", e->message);
}

/* What keeps one trail from being good: each problem is an entry of the
 * details' array and a clause of the reason. */
struct problems {
	json_t *list;
	char text[200];
	bool ok; /* false once an entry could not be added */
};

static void problem(struct problems *p, const char *fmt, ...) EV_PRINTF(2, 3);

static void problem(struct problems *p, const char *fmt, ...)
{
	char one[120];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(one, sizeof(one), fmt, ap);
	va_end(ap);
	if (json_array_append_new(p->list, json_string(one)) != 0)
		p->ok = false;
	append(p->text, sizeof(p->text), "%s%s", p->text[0] ? ", " : "", one);
}

struct verdict {
	const struct trail *good; /* first good covering trail */
	const struct trail_state *good_state;
	const struct ev_error *unread; /* first unreadable trail's error */
	const struct trail *unread_trail;
	size_t n_covering;
	char problems[400]; /* what keeps read trails from being good */
	unsigned obs[EV_FINDING_MAX_OBS];
	size_t n_obs;
};

static void add_obs(struct verdict *v, const unsigned *obs, size_t n)
{
	for (size_t i = 0; i < n; i++, v->n_obs++)
		if (v->n_obs < EV_FINDING_MAX_OBS)
			v->obs[v->n_obs] = obs[i];
}

/* Judges one covering trail: appends its details to `out` and notes in v
 * whether it is good, unreadable, or why not. */
static enum ev_err judge(struct ev_probe_ctx *ctx, const struct trail *t,
			 const struct trail_state *s, struct verdict *v,
			 json_t *out)
{
	add_obs(v, s->obs, s->n_obs);
	json_t *d = json_pack(
	    "{s:s, s:s?, s:s?, s:s, s:b, s:b, s:b, s:s?, s:s?, s:s}", "arn",
	    t->arn, "name", t->name, "home_region", t->home, "owner", t->owner,
	    "multi_region", t->multi, "organization", t->org,
	    "log_file_validation", t->validation, "s3_bucket", t->bucket,
	    "kms_key_id", t->kms, "read_in",
	    s->via_owner ? t->owner : ctx->account);
	if (!d || json_array_append_new(out, d) != 0)
		return EV_E_NOMEM;
	const struct ev_error *e = s->status_rc != EV_OK ? &s->status_err
				   : s->sel_rc != EV_OK	 ? &s->sel_err
							 : NULL;
	if (e) {
		if (json_object_set_new(d, "error", error_json(e)) != 0)
			return EV_E_NOMEM;
		if (!v->unread) {
			v->unread = e;
			v->unread_trail = t;
		}
		return EV_OK;
	}

	json_t *problems = json_array();
	if (!problems || json_object_set_new(d, "problems", problems) != 0)
		return EV_E_NOMEM;
	struct problems why = {problems, "", true};
	if (!s->is_logging)
		problem(&why, "not logging");
	if (!s->mgmt_read || !s->mgmt_write)
		problem(&why, "%s",
			s->mgmt_read	? "read-only management events only"
			: s->mgmt_write ? "write-only management events only"
					: "no management events");
	if (!t->validation)
		problem(&why, "log file validation off");
	if (s->delivery_error[0])
		problem(&why, "delivery error %s", s->delivery_error);
	double max_age = 3600.0 * ctx->cfg->probes.digest_max_age_hours;
	double age = s->has_digest ? (double)ctx->now - s->digest_time : 0;
	if (t->validation && !s->has_digest)
		problem(&why, "no digest delivered");
	else if (t->validation && age > max_age)
		problem(&why, "last digest %.1f h old (max %d h)", age / 3600.0,
			ctx->cfg->probes.digest_max_age_hours);
	if (!why.ok)
		return EV_E_NOMEM;

	char iso[EV_ISO8601_LEN + 1] = "";
	if (s->has_digest)
		ev_time_format_iso8601((time_t)s->digest_time, iso);
	if (json_object_update_new(
		d, json_pack("{s:b, s:s, s:b, s:b, s:b, s:s?, s:s?, s:s?, "
			     "s:o?}",
			     "is_logging", s->is_logging, "event_selectors",
			     s->selector_kind, "management_read", s->mgmt_read,
			     "management_write", s->mgmt_write,
			     "management_sources_excluded", s->mgmt_excludes,
			     "latest_delivery_error",
			     s->delivery_error[0] ? s->delivery_error : NULL,
			     "latest_digest_delivery_error",
			     s->digest_error[0] ? s->digest_error : NULL,
			     "latest_digest_delivery_time",
			     s->has_digest ? iso : NULL, "digest_age_hours",
			     s->has_digest ? json_real(age / 3600.0) : NULL)) !=
	    0)
		return EV_E_NOMEM;

	if (!why.text[0]) {
		if (!v->good) {
			v->good = t;
			v->good_state = s;
		}
		return EV_OK;
	}
	append(v->problems, sizeof(v->problems), "%s%s: %s",
	       v->problems[0] ? "; " : "", t->name ? t->name : t->arn,
	       why.text);
	return EV_OK;
}

static bool trail_from_json(const json_t *j, struct trail *t)
{
	memset(t, 0, sizeof(*t));
	t->arn = json_string_value(json_object_get(j, "TrailARN"));
	if (!t->arn || !*t->arn)
		return false;
	t->name = json_string_value(json_object_get(j, "Name"));
	t->home = json_string_value(json_object_get(j, "HomeRegion"));
	t->bucket = json_string_value(json_object_get(j, "S3BucketName"));
	t->kms = json_string_value(json_object_get(j, "KmsKeyId"));
	if (t->kms && !*t->kms)
		t->kms = NULL;
	t->multi = json_is_true(json_object_get(j, "IsMultiRegionTrail"));
	t->org = json_is_true(json_object_get(j, "IsOrganizationTrail"));
	t->validation =
	    json_is_true(json_object_get(j, "LogFileValidationEnabled"));
	arn_account(t->arn, t->owner);
	return true;
}

static bool covers(const struct ev_probe_ctx *ctx, const struct trail *t)
{
	if (t->multi)
		return true;
	char home[EV_REGION_MAX];
	if (t->home && *t->home)
		snprintf(home, sizeof(home), "%s", t->home);
	else
		arn_region(t->arn, home, sizeof(home));
	return strcmp(home, ctx->region) == 0;
}

static enum ev_err conclude(struct ev_probe_ctx *ctx, const char *resource,
			    struct verdict *v, json_t *details)
{
	const char *region = ctx->region;
	if (v->good) {
		const struct trail *t = v->good;
		char digest[48] = "";
		if (v->good_state->has_digest)
			snprintf(
			    digest, sizeof(digest), ", last digest %.1f h ago",
			    ((double)ctx->now - v->good_state->digest_time) /
				3600.0);
		char whose[64] = "";
		if (t->org && strcmp(t->owner, ctx->account) != 0)
			snprintf(whose, sizeof(whose), " owned by %s",
				 t->owner);
		if (json_object_set_new(details, "covered_by",
					json_string(t->arn)) != 0) {
			json_decref(details);
			return EV_E_NOMEM;
		}
		return ev_findings_add(
		    ctx->findings, PROBE_ID, ctx->account, region, resource,
		    EV_STATUS_PASS, details, v->obs, v->n_obs,
		    "covered by %strail %s%s: logging all management events, "
		    "log file validation on, no delivery error%s%s",
		    t->org ? "organization " : "", t->arn, whose, digest,
		    t->kms ? ", KMS encrypted" : "");
	}
	if (v->unread) {
		/* Missing data is never a verdict: the unreadable trail may
		 * be the one that covers the region. */
		size_t at = ctx->findings->n;
		char what[400];
		snprintf(what, sizeof(what),
			 "no trail covering %s found good and trail %s could "
			 "not be read",
			 region, v->unread_trail->arn);
		enum ev_err rc = ev_findings_add_error(
		    ctx->findings, PROBE_ID, ctx->account, region, resource,
		    v->unread, v->obs, v->n_obs, what);
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
	if (v->n_covering == 0)
		return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
				       region, resource, EV_STATUS_FAIL,
				       details, v->obs, v->n_obs,
				       "no trail covers %s", region);
	return ev_findings_add(ctx->findings, PROBE_ID, ctx->account, region,
			       resource, EV_STATUS_FAIL, details, v->obs,
			       v->n_obs,
			       "no trail covering %s logs management events "
			       "with integrity: %s",
			       region, v->problems);
}

enum ev_err ev_probe_cloudtrail_run(struct ev_probe_ctx *ctx)
{
	char resource[128];
	const char *partition = ev_region_partition(ctx->region);
	snprintf(resource, sizeof(resource),
		 "arn:%s:cloudtrail:%s:%s:", partition ? partition : "aws",
		 ctx->region, ctx->account);

	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	struct trail trails[MAX_TRAILS];
	struct trail_state *states[MAX_TRAILS] = {0};
	bool owned[MAX_TRAILS] = {0};
	size_t n = 0;
	struct verdict *v = calloc(1, sizeof(*v));
	json_t *body = json_pack("{s:b}", "includeShadowTrails", 1);
	json_t *details = NULL;
	struct ev_error err;
	ev_error_clear(&err);
	enum ev_err rc = EV_OK;
	if (!v || !body) {
		rc = EV_E_NOMEM;
		goto out;
	}

	struct ev_aws_call call = {
	    .service = EV_SVC_CLOUDTRAIL,
	    .action = "DescribeTrails",
	    .region = ctx->region,
	    .json = body,
	};
	unsigned list_obs = 0;
	enum ev_err call_rc = ev_probe_call(ctx, &call, &resp, &list_obs, &err);
	const json_t *list = json_object_get(resp.json, "trailList");
	if (call_rc == EV_OK && !json_is_array(list))
		call_rc = ev_error_set(&err, EV_E_MALFORMED,
				       "no trailList in the answer");
	if (call_rc == EV_OK && json_array_size(list) > MAX_TRAILS)
		call_rc =
		    ev_error_set(&err, EV_E_LIMIT, "more than %d trails in %s",
				 MAX_TRAILS, ctx->region);
	if (call_rc != EV_OK) {
		rc = ev_findings_add_error(
		    ctx->findings, PROBE_ID, ctx->account, ctx->region,
		    resource, &err, &list_obs, 1, "DescribeTrails");
		goto out;
	}
	add_obs(v, &list_obs, 1);

	size_t i;
	const json_t *j;
	json_array_foreach(list, i, j)
	{
		struct trail t;
		if (!trail_from_json(j, &t) || !covers(ctx, &t))
			continue;
		bool seen = false;
		for (size_t k = 0; k < n && !seen; k++)
			seen = strcmp(trails[k].arn, t.arn) == 0;
		if (!seen)
			trails[n++] = t;
	}
	v->n_covering = n;

	json_t *arr = json_array();
	details = json_pack(
	    "{s:s, s:i, s:o?}", "region", ctx->region, "digest_max_age_hours",
	    ctx->cfg->probes.digest_max_age_hours, "trails", arr);
	if (!details) {
		rc = EV_E_NOMEM;
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		states[k] = trail_get(ctx, &trails[k], &owned[k]);
		if (!states[k]) {
			rc = EV_E_NOMEM;
			goto out;
		}
		rc = judge(ctx, &trails[k], states[k], v, arr);
		if (rc != EV_OK)
			goto out;
	}
	rc = conclude(ctx, resource, v, details);
	details = NULL; /* taken, on failure too */
out:
	for (size_t k = 0; k < n; k++)
		if (owned[k])
			trail_state_free(states[k]);
	json_decref(details);
	json_decref(body);
	ev_aws_response_cleanup(&resp);
	free(v);
	return rc;
}
