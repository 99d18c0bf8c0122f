/* Probe root-mfa (MSP 8.1.8, DevOps 3.16): the root user has MFA, or no
 * credentials at all.
 *
 * GetAccountSummary's AccountMFAEnabled is the live answer; the credential
 * report's root row (up to 4 h old) cross-checks it and tells whether root
 * has a password, keys or certificates. The device kind comes from
 * ListVirtualMFADevices: a virtual device assigned to root (matched by
 * User/Arn: root may hold several custom-named devices) makes it
 * "virtual"; MFA on with none makes it "hardware" (a TOTP token or a FIDO
 * key, which IAM lists only to root itself). Root's own non-virtual
 * devices cannot be listed, so "mixed" is inferred: the account has more
 * non-virtual devices in use than its IAM users with MFA and no virtual
 * device account for. The counts are in the details. */
#include <stdio.h>
#include <string.h>

#include "credreport.h"
#include "probes.h"
#include "timefmt.h"

#define PROBE_ID "root-mfa"

static enum ev_err add_error(struct ev_probe_ctx *ctx, const char *resource,
			     const struct ev_error *err,
			     const struct ev_obs_list *o, const char *what)
{
	return ev_findings_add_error(ctx->findings, PROBE_ID, ctx->account,
				     ctx->region, resource, err, o->ids, o->n,
				     what);
}

/* "arn:<partition>:iam::<account>:root", whatever the partition. */
static bool is_root_arn(const char *arn, const char *account)
{
	char suffix[48];
	snprintf(suffix, sizeof(suffix), ":iam::%s:root", account);
	size_t n = strlen(arn), m = strlen(suffix);
	return strncmp(arn, "arn:", 4) == 0 && n > m &&
	       strcmp(arn + n - m, suffix) == 0;
}

/* ---- ListVirtualMFADevices ------------------------------------------------
 */

struct vmfa {
	const char *account;
	size_t total;	   /* assigned virtual devices of every principal */
	json_t *root;	   /* root's device serials */
	json_t *user_arns; /* users holding one: ARN -> true */
};

static enum ev_err vmfa_page(void *arg, const struct ev_aws_response *page,
			     struct ev_error *err)
{
	struct vmfa *v = arg;
	const struct ev_xml_node *list =
	    ev_xml_path(ev_aws_response_result(page, "ListVirtualMFADevices"),
			"VirtualMFADevices");
	for (const struct ev_xml_node *m = ev_xml_child(list, "member"); m;
	     m = ev_xml_next_same(m)) {
		const char *arn = ev_xml_path_text(m, "User/Arn");
		if (!arn)
			continue; /* unassigned */
		v->total++;
		int bad;
		if (is_root_arn(arn, v->account)) {
			const char *serial =
			    ev_xml_path_text(m, "SerialNumber");
			bad = json_array_append_new(
			    v->root, json_string(serial ? serial : ""));
		} else {
			bad =
			    json_object_set_new(v->user_arns, arn, json_true());
		}
		EV_ENSURE_E(err, bad == 0, EV_E_NOMEM,
			    "ListVirtualMFADevices: out of memory");
	}
	return EV_OK;
}

/* ---- ListOrganizationsFeatures --------------------------------------------
 */

enum rcm { RCM_UNKNOWN, RCM_OFF, RCM_ON };

struct features {
	enum rcm state;
	char org_id[40];
	char error_code[EV_ERROR_CODE_MAX]; /* why unknown */
};

/* Only the management account or a delegated administrator may ask, so a
 * member asks through the management account. Any failure leaves the
 * state unknown: it explains a pass, it is never a verdict's ground. */
static void features_get(struct ev_probe_ctx *ctx, struct features *f,
			 struct ev_obs_list *o)
{
	memset(f, 0, sizeof(*f));
	struct ev_aws_call call = {
	    .service = EV_SVC_IAM,
	    .action = "ListOrganizationsFeatures",
	    .region = "us-east-1",
	};
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	struct ev_error err;
	ev_error_clear(&err);
	unsigned id = 0;
	const char *mgmt = ctx->management_account;
	enum ev_err rc =
	    mgmt && strcmp(mgmt, ctx->account) != 0
		? ev_probe_call_in(ctx, mgmt, &call, &resp, &id, &err)
		: ev_probe_call(ctx, &call, &resp, &id, &err);
	ev_obs_list_add(o, &id, 1);
	if (rc != EV_OK) {
		snprintf(f->error_code, sizeof(f->error_code), "%s",
			 err.aws_code[0] ? err.aws_code : ev_err_name(rc));
		ev_aws_response_cleanup(&resp);
		return;
	}
	const struct ev_xml_node *res =
	    ev_aws_response_result(&resp, call.action);
	const char *org = ev_xml_path_text(res, "OrganizationId");
	snprintf(f->org_id, sizeof(f->org_id), "%s", org ? org : "");
	f->state = RCM_OFF;
	for (const struct ev_xml_node *m =
		 ev_xml_child(ev_xml_path(res, "EnabledFeatures"), "member");
	     m; m = ev_xml_next_same(m))
		if (strcmp(m->text, "RootCredentialsManagement") == 0)
			f->state = RCM_ON;
	ev_aws_response_cleanup(&resp);
}

static const char *rcm_name(enum rcm s)
{
	switch (s) {
	case RCM_ON:
		return "enabled";
	case RCM_OFF:
		return "disabled";
	case RCM_UNKNOWN:
	default:
		return "unknown";
	}
}

/* ---- the verdict -----------------------------------------------------------
 */

static bool cell_true(const struct ev_credreport_bool *b)
{
	return b->state == EV_CR_VALUE && b->value;
}

static bool cell_present_time(const struct ev_credreport_time *t)
{
	return t->state == EV_CR_VALUE;
}

/* No password, keys or certificates, by both sources. */
static bool no_root_credentials(const struct ev_credreport_row *root,
				const struct ev_credreport_summary *sum)
{
	bool pw_off = root->password_enabled.state == EV_CR_UNKNOWN ||
		      (root->password_enabled.state == EV_CR_VALUE &&
		       !root->password_enabled.value);
	for (int i = 0; i < 2; i++) {
		if (cell_true(&root->keys[i].active) ||
		    cell_present_time(&root->keys[i].last_rotated) ||
		    cell_true(&root->certs[i].active) ||
		    cell_present_time(&root->certs[i].last_rotated))
			return false;
	}
	return pw_off && sum->password_present == 0 &&
	       sum->access_keys_present == 0 && sum->signing_certs_present <= 0;
}

/* IAM users with MFA on and no virtual device: each holds at least one
 * non-virtual device. */
static long users_without_virtual(const struct ev_credreport *rep,
				  const struct vmfa *v)
{
	long n = 0;
	for (size_t i = 0; i < rep->n_rows; i++) {
		const struct ev_credreport_row *row = &rep->rows[i];
		if (!row->is_root && cell_true(&row->mfa_active) &&
		    !json_object_get(v->user_arns, row->arn))
			n++;
	}
	return n;
}

static json_t *summary_json(const struct ev_credreport_summary *s)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "AccountMFAEnabled",
			 (json_int_t)s->mfa_enabled, "AccountAccessKeysPresent",
			 (json_int_t)s->access_keys_present,
			 "AccountPasswordPresent",
			 (json_int_t)s->password_present,
			 "AccountSigningCertificatesPresent",
			 (json_int_t)s->signing_certs_present,
			 "MFADevicesInUse", (json_int_t)s->mfa_devices_in_use);
}

/* The facts every finding of this probe carries. */
static json_t *base_details(struct ev_probe_ctx *ctx,
			    const struct ev_credreport *rep,
			    const struct ev_credreport_row *root,
			    const struct ev_credreport_summary *sum,
			    const struct features *f)
{
	json_t *d = json_object();
	if (!d)
		return NULL;
	int bad = 0;
	bad |= json_object_set_new(d, "account_summary", summary_json(sum));
	bad |= json_object_set_new(d, "report_mfa_active",
				   ev_credreport_bool_json(&root->mfa_active));
	bad |= json_object_set_new(
	    d, "report_password_enabled",
	    ev_credreport_bool_json(&root->password_enabled));
	bad |= json_object_set_new(d, "root_credentials_management",
				   json_string(rcm_name(f->state)));
	if (f->org_id[0])
		bad |= json_object_set_new(d, "organization_id",
					   json_string(f->org_id));
	if (f->error_code[0])
		bad |=
		    json_object_set_new(d, "root_credentials_management_error",
					json_string(f->error_code));
	bad |= json_object_set_new(d, "credential_report",
				   ev_credreport_freshness(rep, ctx->now));
	if (bad) {
		json_decref(d);
		return NULL;
	}
	return d;
}

static enum ev_err judge_mfa_on(struct ev_probe_ctx *ctx,
				const struct ev_credreport *rep,
				const char *resource,
				const struct ev_credreport_summary *sum,
				json_t *details, struct ev_obs_list *o)
{
	struct vmfa v = {.account = ctx->account,
			 .root = json_array(),
			 .user_arns = json_object()};
	enum ev_err rc = EV_OK;
	if (!v.root || !v.user_arns) {
		json_decref(details);
		rc = EV_E_NOMEM;
		goto out;
	}
	static const struct ev_uri_param params[] = {
	    {"AssignmentStatus", "Assigned"},
	};
	struct ev_aws_call call = {
	    .service = EV_SVC_IAM,
	    .action = "ListVirtualMFADevices",
	    .region = "us-east-1",
	    .params = params,
	    .n_params = 1,
	};
	unsigned pages[EV_FINDING_MAX_OBS];
	size_t n_pages = 0;
	struct ev_error err;
	ev_error_clear(&err);
	rc = ev_probe_paginate(ctx, &call, vmfa_page, &v, pages,
			       EV_FINDING_MAX_OBS, &n_pages, &err);
	ev_obs_list_add(o, pages,
			n_pages < EV_FINDING_MAX_OBS ? n_pages
						     : EV_FINDING_MAX_OBS);
	if (rc != EV_OK) {
		json_decref(details);
		rc = add_error(ctx, resource, &err, o, "ListVirtualMFADevices");
		goto out;
	}
	size_t root_virtual = json_array_size(v.root);
	long extra = -1; /* non-virtual devices nobody else explains */
	if (sum->mfa_devices_in_use >= 0)
		extra = sum->mfa_devices_in_use - (long)v.total -
			users_without_virtual(rep, &v);
	const char *kind = root_virtual == 0 ? "hardware"
			   : extra > 0	     ? "mixed"
					     : "virtual";
	int bad = 0;
	bad |= json_object_set_new(details, "device_kind", json_string(kind));
	bad |= json_object_set_new(details, "root_virtual_devices",
				   json_incref(v.root));
	bad |= json_object_set_new(details, "account_virtual_devices_assigned",
				   json_integer((json_int_t)v.total));
	if (extra >= 0)
		bad |= json_object_set_new(
		    details, "non_virtual_devices_unexplained",
		    json_integer((json_int_t)(extra > 0 ? extra : 0)));
	if (bad) {
		json_decref(details);
		rc = EV_E_NOMEM;
		goto out;
	}
	const char *what = root_virtual == 0  ? "a hardware or FIDO device"
			   : extra > 0	      ? "virtual and hardware devices"
			   : root_virtual > 1 ? "several virtual devices"
					      : "a virtual device";
	rc = ev_findings_add(ctx->findings, PROBE_ID, ctx->account, ctx->region,
			     resource, EV_STATUS_PASS, details, o->ids, o->n,
			     "root MFA on (%s)", what);
out:
	json_decref(v.root);
	json_decref(v.user_arns);
	return rc;
}

static enum ev_err judge(struct ev_probe_ctx *ctx,
			 const struct ev_credreport *rep,
			 const struct ev_credreport_summary *sum,
			 struct ev_obs_list *o)
{
	const struct ev_credreport_row *root = rep->root;
	const char *resource = root->arn;
	struct features f;
	features_get(ctx, &f, o);
	json_t *details = base_details(ctx, rep, root, sum, &f);
	EV_ENSURE(details, EV_E_NOMEM);

	if (no_root_credentials(root, sum))
		return ev_findings_add(
		    ctx->findings, PROBE_ID, ctx->account, ctx->region,
		    resource, EV_STATUS_PASS, details, o->ids, o->n,
		    "no root credentials (no password, access keys or "
		    "certificates)%s",
		    f.state == RCM_ON ? "; root access managed centrally by "
					"the organization"
				      : "");
	if (sum->mfa_enabled < 0) {
		json_decref(details);
		struct ev_error err;
		ev_error_clear(&err);
		ev_error_set(&err, EV_E_MALFORMED,
			     "GetAccountSummary has no AccountMFAEnabled");
		return add_error(ctx, resource, &err, o, "root MFA");
	}
	bool live_on = sum->mfa_enabled > 0;
	const struct ev_credreport_bool *rm = &root->mfa_active;
	if (rm->state == EV_CR_VALUE && rm->value != live_on) {
		char when[EV_ISO8601_LEN + 1];
		ev_time_format_iso8601(rep->generated_time, when);
		/* The summary is live, the report may be hours old: the
		 * summary decides whether it fails, the disagreement is
		 * said either way. */
		return ev_findings_add(
		    ctx->findings, PROBE_ID, ctx->account, ctx->region,
		    resource, live_on ? EV_STATUS_WARN : EV_STATUS_FAIL,
		    details, o->ids, o->n,
		    "root MFA sources disagree: GetAccountSummary says %s, "
		    "the credential report of %s says %s",
		    live_on ? "on" : "off", when, rm->value ? "on" : "off");
	}
	if (!live_on)
		return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
				       ctx->region, resource, EV_STATUS_FAIL,
				       details, o->ids, o->n, "root MFA off");
	return judge_mfa_on(ctx, rep, resource, sum, details, o);
}

enum ev_err ev_probe_root_mfa_run(struct ev_probe_ctx *ctx)
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
