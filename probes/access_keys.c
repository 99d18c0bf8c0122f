/* Probe access-keys (MSP 8.3, DevOps 3.13): every IAM user's access keys
 * and signing certificates, from the credential report alone (one set of
 * calls per account, however many users). Console passwords and their MFA
 * are console-mfa's.
 *
 * An active key older than access_key_max_age_days fails; an active key
 * unused for access_key_unused_days, or never used and older than that,
 * fails; active X.509 signing certificates are listed with their age and
 * warn past the key age bound. One finding per user holding a key or a
 * certificate; root is root-usage's. A cell the verdict needs that AWS left
 * blank (not_supported where a date belongs) makes that user's finding an
 * error: missing data is never read as compliant. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "credreport.h"
#include "probes.h"
#include "timefmt.h"

#define PROBE_ID "access-keys"
#define DAY	 86400

/* What one user's row says, gathered before the verdict. */
struct verdict {
	char fails[384];
	char warns[256];
	char unknowns[256];
};

static void note(char *buf, size_t size, const char *fmt, ...) EV_PRINTF(3, 4);

static void note(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strlen(buf);
	if (used + 3 >= size)
		return;
	if (used) {
		buf[used++] = ';';
		buf[used++] = ' ';
		buf[used] = '\0';
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

static long age_days(time_t now, time_t t)
{
	return t < now ? (long)((now - t) / DAY) : 0;
}

static bool is_true(const struct ev_credreport_bool *b)
{
	return b->state == EV_CR_VALUE && b->value;
}

static bool key_exists(const struct ev_credreport_key *k)
{
	return is_true(&k->active) || k->last_rotated.state == EV_CR_VALUE;
}

static bool cert_exists(const struct ev_credreport_cert *c)
{
	return is_true(&c->active) || c->last_rotated.state == EV_CR_VALUE;
}

static json_t *key_json(struct ev_probe_ctx *ctx, int slot,
			const struct ev_credreport_key *k, struct verdict *v)
{
	const struct ev_config_thresholds *th = &ctx->cfg->thresholds;
	json_t *j = json_object();
	if (!j)
		return NULL;
	int bad = 0;
	bad |= json_object_set_new(j, "slot", json_integer(slot));
	bad |= json_object_set_new(j, "active",
				   ev_credreport_bool_json(&k->active));
	bad |= json_object_set_new(j, "last_rotated",
				   ev_credreport_time_json(&k->last_rotated));
	bad |= json_object_set_new(j, "last_used",
				   ev_credreport_time_json(&k->last_used));
	long age = -1;
	if (k->last_rotated.state == EV_CR_VALUE) {
		age = age_days(ctx->now, k->last_rotated.value);
		bad |= json_object_set_new(j, "age_days", json_integer(age));
	}
	if (k->last_used.state == EV_CR_VALUE)
		bad |= json_object_set_new(
		    j, "days_since_last_use",
		    json_integer(age_days(ctx->now, k->last_used.value)));
	if (bad) {
		json_decref(j);
		return NULL;
	}
	if (!is_true(&k->active))
		return j; /* inactive keys are listed, not judged */

	if (age < 0) {
		note(v->unknowns, sizeof(v->unknowns),
		     "access key %d has no rotation date", slot);
		return j;
	}
	if (age > th->access_key_max_age_days)
		note(v->fails, sizeof(v->fails),
		     "access key %d is %ld days old (max %d)", slot, age,
		     th->access_key_max_age_days);
	if (k->last_used.state == EV_CR_VALUE) {
		long idle = age_days(ctx->now, k->last_used.value);
		if (idle > th->access_key_unused_days)
			note(v->fails, sizeof(v->fails),
			     "access key %d unused for %ld days (max %d)", slot,
			     idle, th->access_key_unused_days);
	} else if (k->last_used.state == EV_CR_NONE ||
		   k->last_used.state == EV_CR_NO_INFO) {
		if (age > th->access_key_unused_days)
			note(v->fails, sizeof(v->fails),
			     "access key %d never used, created %ld days ago",
			     slot, age);
	} else {
		note(v->unknowns, sizeof(v->unknowns),
		     "access key %d has no last-use date", slot);
	}
	return j;
}

static json_t *cert_json(struct ev_probe_ctx *ctx, int slot,
			 const struct ev_credreport_cert *c, struct verdict *v)
{
	json_t *j = json_object();
	if (!j)
		return NULL;
	int bad = 0;
	bad |= json_object_set_new(j, "slot", json_integer(slot));
	bad |= json_object_set_new(j, "active",
				   ev_credreport_bool_json(&c->active));
	bad |= json_object_set_new(j, "last_rotated",
				   ev_credreport_time_json(&c->last_rotated));
	if (c->last_rotated.state == EV_CR_VALUE) {
		long age = age_days(ctx->now, c->last_rotated.value);
		bad |= json_object_set_new(j, "age_days", json_integer(age));
		int max = ctx->cfg->thresholds.access_key_max_age_days;
		if (is_true(&c->active) && age > max)
			note(v->warns, sizeof(v->warns),
			     "signing certificate %d is %ld days old (max %d)",
			     slot, age, max);
	}
	if (bad) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *user_details(struct ev_probe_ctx *ctx,
			    const struct ev_credreport *rep,
			    const struct ev_credreport_row *row,
			    struct verdict *v)
{
	json_t *d = json_object();
	json_t *keys = json_array();
	json_t *certs = json_array();
	int bad = !d || !keys || !certs;
	for (int i = 0; !bad && i < 2; i++) {
		if (key_exists(&row->keys[i]))
			bad |= json_array_append_new(
			    keys, key_json(ctx, i + 1, &row->keys[i], v));
		if (cert_exists(&row->certs[i]))
			bad |= json_array_append_new(
			    certs, cert_json(ctx, i + 1, &row->certs[i], v));
	}
	if (!bad) {
		bad |= json_object_set_new(d, "user", json_string(row->user));
		bad |= json_object_set_new(d, "access_keys", json_incref(keys));
		bad |= json_object_set_new(d, "signing_certificates",
					   json_incref(certs));
		bad |= json_object_set_new(
		    d, "thresholds",
		    json_pack("{s:i, s:i}", "access_key_max_age_days",
			      ctx->cfg->thresholds.access_key_max_age_days,
			      "access_key_unused_days",
			      ctx->cfg->thresholds.access_key_unused_days));
		bad |=
		    json_object_set_new(d, "credential_report",
					ev_credreport_freshness(rep, ctx->now));
	}
	json_decref(keys);
	json_decref(certs);
	if (bad) {
		json_decref(d);
		return NULL;
	}
	return d;
}

/* Names what the user holds, so the pass says what was checked. */
static enum ev_err add_pass(struct ev_probe_ctx *ctx,
			    const struct ev_credreport_row *row, json_t *d,
			    const struct ev_obs_list *o, int n_keys,
			    int n_certs)
{
	char what[160] = "";
	if (n_keys)
		note(what, sizeof(what),
		     "%d active key%s within age and use bounds", n_keys,
		     n_keys == 1 ? "" : "s");
	if (n_certs)
		note(what, sizeof(what), "%d active signing certificate%s",
		     n_certs, n_certs == 1 ? "" : "s");
	if (!what[0])
		note(what, sizeof(what), "inactive keys or certificates only");
	return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
			       ctx->region, row->arn, EV_STATUS_PASS, d, o->ids,
			       o->n, "%s", what);
}

static enum ev_err judge_user(struct ev_probe_ctx *ctx,
			      const struct ev_credreport *rep,
			      const struct ev_credreport_row *row,
			      const struct ev_obs_list *o)
{
	struct verdict v = {.fails = "", .warns = "", .unknowns = ""};
	json_t *d = user_details(ctx, rep, row, &v);
	EV_ENSURE(d, EV_E_NOMEM);
	int n_keys = 0, n_certs = 0;
	for (int i = 0; i < 2; i++) {
		n_keys += is_true(&row->keys[i].active);
		n_certs += is_true(&row->certs[i].active);
	}
	if (v.fails[0] || v.warns[0] || v.unknowns[0]) {
		json_t *problems =
		    json_pack("{s:s, s:s, s:s}", "fail", v.fails, "warn",
			      v.warns, "unknown", v.unknowns);
		if (json_object_set_new(d, "problems", problems) != 0) {
			json_decref(d);
			return EV_E_NOMEM;
		}
	}
	enum ev_status status = v.fails[0]	? EV_STATUS_FAIL
				: v.unknowns[0] ? EV_STATUS_ERROR
				: v.warns[0]	? EV_STATUS_WARN
						: EV_STATUS_PASS;
	switch (status) {
	case EV_STATUS_FAIL:
		return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
				       ctx->region, row->arn, status, d, o->ids,
				       o->n, "%s", v.fails);
	case EV_STATUS_ERROR:
		return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
				       ctx->region, row->arn, status, d, o->ids,
				       o->n, "credential report incomplete: %s",
				       v.unknowns);
	case EV_STATUS_WARN:
		return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
				       ctx->region, row->arn, status, d, o->ids,
				       o->n, "%s", v.warns);
	case EV_STATUS_PASS:
	default:
		return add_pass(ctx, row, d, o, n_keys, n_certs);
	}
}

enum ev_err ev_probe_access_keys_run(struct ev_probe_ctx *ctx)
{
	struct ev_obs_list o = {.n = 0};
	struct ev_error err;
	ev_error_clear(&err);
	const struct ev_credreport *rep = NULL;
	enum ev_err rc = ev_credreport_get(ctx, &rep, o.ids, &o.n, &err);
	if (rc != EV_OK)
		return ev_findings_add_error(
		    ctx->findings, PROBE_ID, ctx->account, ctx->region,
		    ctx->account, &err, o.ids, o.n, "credential report");
	size_t judged = 0;
	for (size_t i = 0; i < rep->n_rows; i++) {
		const struct ev_credreport_row *row = &rep->rows[i];
		if (row->is_root)
			continue;
		bool holds = false;
		for (int k = 0; k < 2; k++)
			holds = holds || key_exists(&row->keys[k]) ||
				cert_exists(&row->certs[k]);
		if (!holds)
			continue;
		EV_TRY(judge_user(ctx, rep, row, &o));
		judged++;
	}
	if (judged)
		return EV_OK;
	/* Said, so that an account without IAM credentials is seen as
	 * examined rather than skipped. */
	json_t *d = json_pack("{s:I, s:o}", "users",
			      (json_int_t)(rep->n_rows - (rep->root ? 1 : 0)),
			      "credential_report",
			      ev_credreport_freshness(rep, ctx->now));
	EV_ENSURE(d, EV_E_NOMEM);
	return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
			       ctx->region, ctx->account,
			       EV_STATUS_NOT_APPLICABLE, d, o.ids, o.n,
			       "no IAM user holds an access key or a signing "
			       "certificate");
}
