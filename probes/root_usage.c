/* Probe root-usage (MSP 8.1.5, DevOps 3.14): no administration by root.
 *
 * Root access keys must not exist: GetAccountSummary's
 * AccountAccessKeysPresent (which counts inactive keys too) or a key in the
 * credential report's root row fails. Root's last use is the latest of
 * password_last_used and the two keys' last_used_date; a use within
 * root_unused_days of now fails. The dates are the evidence, with the
 * report's age (it may be up to 4 h old). */
#include <stdio.h>
#include <string.h>

#include "credreport.h"
#include "probes.h"
#include "timefmt.h"

#define PROBE_ID "root-usage"
#define DAY	 86400

static enum ev_err add_error(struct ev_probe_ctx *ctx, const char *resource,
			     const struct ev_error *err,
			     const struct ev_obs_list *o, const char *what)
{
	return ev_findings_add_error(ctx->findings, PROBE_ID, ctx->account,
				     ctx->region, resource, err, o->ids, o->n,
				     what);
}

/* Keys in the root row: active ones, and any that exists (an inactive
 * key still has a rotation date). */
static void root_keys(const struct ev_credreport_row *root, int *active,
		      int *existing)
{
	*active = 0;
	*existing = 0;
	for (int i = 0; i < 2; i++) {
		const struct ev_credreport_key *k = &root->keys[i];
		bool on = k->active.state == EV_CR_VALUE && k->active.value;
		if (on)
			(*active)++;
		if (on || k->last_rotated.state == EV_CR_VALUE)
			(*existing)++;
	}
}

/* The latest dated use, or false when root has none on record. */
static bool last_use(const struct ev_credreport_row *root, time_t *when,
		     const char **via)
{
	const struct {
		const struct ev_credreport_time *t;
		const char *name;
	} uses[] = {
	    {&root->password_last_used, "password"},
	    {&root->keys[0].last_used, "access key 1"},
	    {&root->keys[1].last_used, "access key 2"},
	};
	bool found = false;
	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
		if (uses[i].t->state != EV_CR_VALUE)
			continue;
		if (!found || uses[i].t->value > *when) {
			*when = uses[i].t->value;
			*via = uses[i].name;
			found = true;
		}
	}
	return found;
}

static json_t *details_new(struct ev_probe_ctx *ctx,
			   const struct ev_credreport *rep,
			   const struct ev_credreport_summary *sum)
{
	const struct ev_credreport_row *root = rep->root;
	json_t *d = json_object();
	if (!d)
		return NULL;
	int bad = 0;
	bad |= json_object_set_new(
	    d, "account_access_keys_present",
	    json_integer((json_int_t)sum->access_keys_present));
	bad |= json_object_set_new(
	    d, "password_last_used",
	    ev_credreport_time_json(&root->password_last_used));
	static const char *const active_k[] = {"access_key_1_active",
					       "access_key_2_active"};
	static const char *const used_k[] = {"access_key_1_last_used",
					     "access_key_2_last_used"};
	static const char *const rot_k[] = {"access_key_1_last_rotated",
					    "access_key_2_last_rotated"};
	for (int i = 0; i < 2; i++) {
		bad |= json_object_set_new(
		    d, active_k[i],
		    ev_credreport_bool_json(&root->keys[i].active));
		bad |= json_object_set_new(
		    d, rot_k[i],
		    ev_credreport_time_json(&root->keys[i].last_rotated));
		bad |= json_object_set_new(
		    d, used_k[i],
		    ev_credreport_time_json(&root->keys[i].last_used));
	}
	bad |= json_object_set_new(
	    d, "root_unused_days",
	    json_integer(ctx->cfg->thresholds.root_unused_days));
	bad |= json_object_set_new(d, "credential_report",
				   ev_credreport_freshness(rep, ctx->now));
	if (bad) {
		json_decref(d);
		return NULL;
	}
	return d;
}

static enum ev_err judge(struct ev_probe_ctx *ctx,
			 const struct ev_credreport *rep,
			 const struct ev_credreport_summary *sum,
			 const struct ev_obs_list *o)
{
	const struct ev_credreport_row *root = rep->root;
	json_t *d = details_new(ctx, rep, sum);
	EV_ENSURE(d, EV_E_NOMEM);

	int active = 0, existing = 0;
	root_keys(root, &active, &existing);
	bool keys = sum->access_keys_present > 0 || existing > 0;

	time_t when = 0;
	const char *via = NULL;
	bool used = last_use(root, &when, &via);
	long days = -1;
	if (used) {
		days = when < ctx->now ? (long)((ctx->now - when) / DAY) : 0;
		char iso[EV_ISO8601_LEN + 1];
		ev_time_format_iso8601(when, iso);
		int bad = json_object_set_new(d, "last_used", json_string(iso));
		bad |= json_object_set_new(d, "last_used_by", json_string(via));
		bad |= json_object_set_new(d, "days_since_last_use",
					   json_integer(days));
		if (bad) {
			json_decref(d);
			return EV_E_NOMEM;
		}
	}
	long window = ctx->cfg->thresholds.root_unused_days;
	bool recent = used && (ctx->now - when) < (time_t)window * DAY;

	char keys_msg[96] = "";
	if (keys)
		snprintf(keys_msg, sizeof(keys_msg),
			 "root has access keys (%d active)", active);
	char use_msg[96] = "";
	if (recent)
		snprintf(use_msg, sizeof(use_msg),
			 "root used %ld day%s ago (%s)", days,
			 days == 1 ? "" : "s", via);
	if (keys || recent)
		return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
				       ctx->region, root->arn, EV_STATUS_FAIL,
				       d, o->ids, o->n, "%s%s%s", keys_msg,
				       keys && recent ? "; " : "", use_msg);
	if (used)
		return ev_findings_add(
		    ctx->findings, PROBE_ID, ctx->account, ctx->region,
		    root->arn, EV_STATUS_PASS, d, o->ids, o->n,
		    "no root access keys; root last used %ld days ago (more "
		    "than %ld)",
		    days, window);
	return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
			       ctx->region, root->arn, EV_STATUS_PASS, d,
			       o->ids, o->n,
			       "no root access keys; no root use on record");
}

enum ev_err ev_probe_root_usage_run(struct ev_probe_ctx *ctx)
{
	char resource[64];
	snprintf(resource, sizeof(resource), "arn:aws:iam::%s:root",
		 ctx->account);
	struct ev_obs_list o = {.n = 0};
	struct ev_error err;
	ev_error_clear(&err);

	struct ev_credreport_summary sum;
	const struct ev_credreport *rep = NULL;
	const char *what = NULL;
	if (ev_credreport_root(ctx, &sum, &rep, &o, &what, &err) != EV_OK)
		return add_error(ctx, resource, &err, &o, what);
	return judge(ctx, rep, &sum, &o);
}
