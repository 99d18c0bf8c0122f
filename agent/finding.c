#include "finding.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static const char *const status_names[EV_STATUS_COUNT_] = {
    [EV_STATUS_PASS] = "pass",
    [EV_STATUS_FAIL] = "fail",
    [EV_STATUS_WARN] = "warn",
    [EV_STATUS_ERROR] = "error",
    [EV_STATUS_NOT_APPLICABLE] = "not-applicable",
};

const char *ev_status_name(enum ev_status s)
{
	if ((int)s < 0 || s >= EV_STATUS_COUNT_)
		return "unknown";
	return status_names[s];
}

void ev_obs_list_add(struct ev_obs_list *o, const unsigned *ids, size_t n)
{
	for (size_t i = 0; i < n && o->n < EV_FINDING_MAX_OBS; i++)
		o->ids[o->n++] = ids[i];
}

void ev_findings_init(struct ev_findings *f)
{
	memset(f, 0, sizeof(*f));
}

static void finding_cleanup(struct ev_finding *x)
{
	free(x->resource);
	free(x->reason);
	json_decref(x->details);
}

void ev_findings_cleanup(struct ev_findings *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		finding_cleanup(&f->items[i]);
	free(f->items);
	memset(f, 0, sizeof(*f));
}

static enum ev_err grow(void **items, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return EV_OK;
	size_t c = *cap ? *cap * 2 : 16;
	void *p = reallocarray(*items, c, size);
	EV_ENSURE(p, EV_E_NOMEM);
	*items = p;
	*cap = c;
	return EV_OK;
}

static enum ev_err add_v(struct ev_findings *f, const char *probe_id,
			 const char *account, const char *region,
			 const char *resource, enum ev_status status,
			 json_t *details, const unsigned *obs, size_t n_obs,
			 const char *fmt, va_list ap, struct ev_finding **out)
    EV_PRINTF(10, 0);

static enum ev_err add_v(struct ev_findings *f, const char *probe_id,
			 const char *account, const char *region,
			 const char *resource, enum ev_status status,
			 json_t *details, const unsigned *obs, size_t n_obs,
			 const char *fmt, va_list ap, struct ev_finding **out)
{
	if (grow((void **)&f->items, &f->cap, f->n, sizeof(*f->items)) !=
	    EV_OK) {
		json_decref(details);
		return EV_E_NOMEM;
	}
	struct ev_finding *x = &f->items[f->n];
	memset(x, 0, sizeof(*x));
	x->probe_id = probe_id;
	snprintf(x->account, sizeof(x->account), "%s", account ? account : "");
	snprintf(x->region, sizeof(x->region), "%s", region ? region : "");
	x->status = status;
	x->details = details;
	x->resource = ev_strdup(resource ? resource : "");
	char reason[512];
	vsnprintf(reason, sizeof(reason), fmt, ap);
	x->reason = ev_strdup(reason);
	if (!x->resource || !x->reason) {
		finding_cleanup(x);
		return EV_E_NOMEM;
	}
	x->n_obs = n_obs < EV_FINDING_MAX_OBS ? n_obs : EV_FINDING_MAX_OBS;
	if (x->n_obs)
		memcpy(x->obs, obs, x->n_obs * sizeof(*obs));
	if (n_obs > EV_FINDING_MAX_OBS) {
		if (!x->details)
			x->details = json_object();
		json_object_set_new(x->details, "obs_truncated",
				    json_integer((json_int_t)n_obs));
	}
	f->n++;
	if (out)
		*out = x;
	return EV_OK;
}

enum ev_err ev_findings_add(struct ev_findings *f, const char *probe_id,
			    const char *account, const char *region,
			    const char *resource, enum ev_status status,
			    json_t *details, const unsigned *obs, size_t n_obs,
			    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum ev_err rc = add_v(f, probe_id, account, region, resource, status,
			       details, obs, n_obs, fmt, ap, NULL);
	va_end(ap);
	return rc;
}

static enum ev_err add_error(struct ev_findings *f, const char *probe_id,
			     const char *account, const char *region,
			     const char *resource, const unsigned *obs,
			     size_t n_obs, struct ev_finding **out,
			     const char *fmt, ...) EV_PRINTF(9, 10);

static enum ev_err add_error(struct ev_findings *f, const char *probe_id,
			     const char *account, const char *region,
			     const char *resource, const unsigned *obs,
			     size_t n_obs, struct ev_finding **out,
			     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum ev_err rc = add_v(f, probe_id, account, region, resource,
			       EV_STATUS_ERROR, NULL, obs, n_obs, fmt, ap, out);
	va_end(ap);
	return rc;
}

enum ev_err ev_findings_add_error(struct ev_findings *f, const char *probe_id,
				  const char *account, const char *region,
				  const char *resource,
				  const struct ev_error *e, const unsigned *obs,
				  size_t n_obs, const char *what)
{
	struct ev_finding *x = NULL;
	const char *msg = e && e->message[0]
			      ? e->message
			      : ev_err_name(e ? e->code : EV_E_INTERNAL);
	/* AWS errors already name the call ("lambda ListFunctions: ..."):
	 * say it once. */
	size_t wn = strlen(what);
	bool named = strncmp(msg, what, wn) == 0 && msg[wn] == ':';
	EV_TRY(add_error(f, probe_id, account, region, resource, obs, n_obs, &x,
			 "%s%s%s", named ? "" : what, named ? "" : ": ", msg));
	if (e) {
		memcpy(x->error_code, e->aws_code, sizeof(x->error_code));
		memcpy(x->request_id, e->request_id, sizeof(x->request_id));
		x->details = json_pack("{s:s}", "error", ev_err_name(e->code));
	}
	return EV_OK;
}

enum ev_err ev_findings_move(struct ev_findings *dst, struct ev_findings *src)
{
	for (size_t i = 0; i < src->n; i++) {
		EV_TRY(grow((void **)&dst->items, &dst->cap, dst->n,
			    sizeof(*dst->items)));
		dst->items[dst->n++] = src->items[i];
		memset(&src->items[i], 0, sizeof(src->items[i]));
	}
	free(src->items);
	memset(src, 0, sizeof(*src));
	return EV_OK;
}

void ev_observations_init(struct ev_observations *o, size_t body_budget)
{
	memset(o, 0, sizeof(*o));
	o->body_budget = body_budget;
}

void ev_observations_cleanup(struct ev_observations *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n; i++)
		free(o->items[i].body);
	free(o->items);
	memset(o, 0, sizeof(*o));
}

enum ev_err ev_observations_record(struct ev_observations *o, unsigned id,
				   const char *account,
				   const struct ev_aws_call *call,
				   const char *signing_region,
				   const struct ev_aws_response *resp,
				   const struct ev_error *err, time_t when)
{
	EV_TRY(grow((void **)&o->items, &o->cap, o->n, sizeof(*o->items)));
	struct ev_observation *x = &o->items[o->n];
	memset(x, 0, sizeof(*x));
	x->id = id;
	snprintf(x->service, sizeof(x->service), "%s",
		 ev_service_info(call->service)->name);
	snprintf(x->action, sizeof(x->action), "%s", call->action);
	snprintf(x->region, sizeof(x->region), "%s",
		 signing_region && *signing_region
		     ? signing_region
		     : (call->region ? call->region : ""));
	snprintf(x->account, sizeof(x->account), "%s", account ? account : "");
	x->time = when;
	x->http_status = resp->http_status;
	memcpy(x->request_id, resp->request_id, sizeof(x->request_id));
	if (err && err->code != EV_OK) {
		if (err->aws_code[0])
			memcpy(x->error_code, err->aws_code,
			       sizeof(x->error_code));
		else
			snprintf(x->error_code, sizeof(x->error_code), "%s",
				 ev_err_name(err->code));
		if (!x->request_id[0])
			memcpy(x->request_id, err->request_id,
			       sizeof(x->request_id));
	}
	memcpy(x->body_sha256, resp->body_sha256, sizeof(x->body_sha256));
	/* A streamed body (call->sink) was never held: its hash and length
	 * stand for it. */
	x->body_len =
	    resp->http.streamed ? resp->http.streamed : resp->http.body.len;
	x->seconds = resp->seconds;
	x->attempts = resp->attempts;
	if (call->sensitive_response) {
		x->body_withheld = true;
	} else if (resp->http.body.len && !resp->http.streamed &&
		   o->body_bytes + x->body_len <= o->body_budget) {
		x->body = ev_strndup(resp->http.body.data, x->body_len);
		EV_ENSURE(x->body, EV_E_NOMEM);
		o->body_bytes += x->body_len;
	}
	o->n++;
	return EV_OK;
}

enum ev_err ev_observations_move(struct ev_observations *dst,
				 struct ev_observations *src)
{
	for (size_t i = 0; i < src->n; i++) {
		EV_TRY(grow((void **)&dst->items, &dst->cap, dst->n,
			    sizeof(*dst->items)));
		dst->items[dst->n++] = src->items[i];
		dst->body_bytes +=
		    src->items[i].body ? src->items[i].body_len : 0;
		src->items[i].body = NULL;
	}
	free(src->items);
	size_t budget = src->body_budget;
	memset(src, 0, sizeof(*src));
	src->body_budget = budget;
	return EV_OK;
}
