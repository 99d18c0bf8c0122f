/* Probe console-mfa (MSP 8.1.2, DevOps 3.15: MFA for sensitive access; MSP
 * 8.3, DevOps 3.13: MFA devices in the access management strategy): every
 * IAM user who can sign in to the console has MFA, from the credential
 * report alone (shared with the other report-based probes of the account).
 *
 * One finding per user with a console password: MFA active passes, MFA
 * inactive fails. Users without a password are not console users and get
 * no finding; the root row is root-mfa's. A cell the verdict needs that
 * AWS left unsaid (a word such as not_supported where a user's password
 * or MFA state belongs) makes that user's finding an error: missing data
 * is never read as compliant, nor a user as having no console access. */
#include "credreport.h"
#include "probes.h"

#define PROBE_ID "console-mfa"

/* The row's sign-in cells and the report's age: what an auditor needs to
 * see the verdict was drawn from. */
static json_t *user_details(struct ev_probe_ctx *ctx,
			    const struct ev_credreport *rep,
			    const struct ev_credreport_row *row)
{
	json_t *d = json_object();
	if (!d)
		return NULL;
	int bad = 0;
	bad |= json_object_set_new(d, "user", json_string(row->user));
	bad |= json_object_set_new(
	    d, "password_enabled",
	    ev_credreport_bool_json(&row->password_enabled));
	bad |= json_object_set_new(
	    d, "password_last_used",
	    ev_credreport_time_json(&row->password_last_used));
	bad |= json_object_set_new(
	    d, "password_last_changed",
	    ev_credreport_time_json(&row->password_last_changed));
	bad |= json_object_set_new(d, "mfa_active",
				   ev_credreport_bool_json(&row->mfa_active));
	bad |= json_object_set_new(d, "credential_report",
				   ev_credreport_freshness(rep, ctx->now));
	if (bad) {
		json_decref(d);
		return NULL;
	}
	return d;
}

/* Adds the user's finding, or nothing for a user without a console
 * password; *judged tells which. */
static enum ev_err judge_user(struct ev_probe_ctx *ctx,
			      const struct ev_credreport *rep,
			      const struct ev_credreport_row *row,
			      const struct ev_obs_list *o, bool *judged)
{
	const struct ev_credreport_bool *pw = &row->password_enabled;
	const struct ev_credreport_bool *mfa = &row->mfa_active;
	*judged = false;
	/* Only "false" says a user has no console access: AWS writes a
	 * boolean for every user, so any word there is a cell it left
	 * unsaid. */
	if (pw->state == EV_CR_VALUE && !pw->value)
		return EV_OK;

	enum ev_status status;
	const char *reason;
	if (pw->state != EV_CR_VALUE) {
		status = EV_STATUS_ERROR;
		reason = "credential report incomplete: console password "
			 "state not reported";
	} else if (mfa->state != EV_CR_VALUE) {
		status = EV_STATUS_ERROR;
		reason = "credential report incomplete: console password, "
			 "MFA state not reported";
	} else if (mfa->value) {
		status = EV_STATUS_PASS;
		reason = "console password with MFA";
	} else {
		status = EV_STATUS_FAIL;
		reason = "console password without MFA";
	}
	json_t *d = user_details(ctx, rep, row);
	EV_ENSURE(d, EV_E_NOMEM);
	*judged = true;
	return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
			       ctx->region, row->arn, status, d, o->ids, o->n,
			       "%s", reason);
}

enum ev_err ev_probe_console_mfa_run(struct ev_probe_ctx *ctx)
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
		bool one = false;
		EV_TRY(judge_user(ctx, rep, row, &o, &one));
		judged += one;
	}
	if (judged)
		return EV_OK;
	/* Said, so that an account without console users is seen as
	 * examined rather than skipped. */
	json_t *d = json_pack("{s:I, s:o}", "users",
			      (json_int_t)(rep->n_rows - (rep->root ? 1 : 0)),
			      "credential_report",
			      ev_credreport_freshness(rep, ctx->now));
	EV_ENSURE(d, EV_E_NOMEM);
	return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
			       ctx->region, ctx->account,
			       EV_STATUS_NOT_APPLICABLE, d, o.ids, o.n,
			       "no IAM user has a console password");
}
