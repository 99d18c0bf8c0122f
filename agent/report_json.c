/* The JSON report: the verdicts, findings with their evidence, coverage and
 * trend of one snapshot as one document with stable keys (README's
 * "Reports" documents them). */
#include "report.h"

#include <string.h>

#include "jsonb.h"

static json_t *snapshot_json(struct ev_jsonb *b,
			     const struct ev_report_snapshot *s)
{
	json_t *o = ev_jsonb_obj(b);
	ev_jsonb_set(b, o, "name", ev_jsonb_str(b, s->name));
	ev_jsonb_set(b, o, "agent_version", ev_jsonb_str(b, s->agent_version));
	ev_jsonb_set(b, o, "started_at", ev_jsonb_time(b, s->started_at));
	ev_jsonb_set(b, o, "finished_at", ev_jsonb_time(b, s->finished_at));
	json_t *caller = ev_jsonb_obj(b);
	ev_jsonb_set(b, caller, "arn", ev_jsonb_str_or_null(b, s->caller_arn));
	ev_jsonb_set(b, caller, "account",
		     ev_jsonb_str_or_null(b, s->caller_account));
	ev_jsonb_set(b, o, "caller", caller);
	json_t *scope = ev_jsonb_obj(b);
	ev_jsonb_set(b, scope, "source",
		     ev_jsonb_str_or_null(b, s->scope_source));
	ev_jsonb_set(b, scope, "regions",
		     ev_jsonb_str_or_null(b, s->scope_regions));
	ev_jsonb_set(b, o, "scope", scope);
	ev_jsonb_set(b, o, "manifest_sha256",
		     ev_jsonb_str(b, s->manifest_sha256));
	if (s->has_previous) {
		json_t *prev = ev_jsonb_obj(b);
		ev_jsonb_set(b, prev, "snapshot", ev_jsonb_str(b, s->previous));
		ev_jsonb_set(b, prev, "manifest_sha256",
			     ev_jsonb_str(b, s->previous_sha256));
		ev_jsonb_set(b, o, "previous", prev);
	} else {
		ev_jsonb_set(b, o, "previous", json_null());
	}
	ev_jsonb_set(b, o, "signing_key_sha256",
		     ev_jsonb_str(b, s->key_fingerprint));
	json_t *catalog = ev_jsonb_obj(b);
	ev_jsonb_set(b, catalog, "source",
		     ev_jsonb_str_or_null(b, s->catalog_source));
	ev_jsonb_set(b, catalog, "sha256",
		     ev_jsonb_str_or_null(b, s->catalog_sha256));
	ev_jsonb_set(b, o, "catalog", catalog);
	return o;
}

static json_t *verification_json(struct ev_jsonb *b, const struct ev_report *r)
{
	const struct ev_report_verification *v = &r->verify;
	char buf[512];
	json_t *o = ev_jsonb_obj(b);
	ev_jsonb_set(b, o, "verified", json_boolean(v->verified));
	ev_jsonb_set(b, o, "trusted_key", json_boolean(v->trusted_key));
	ev_jsonb_set(b, o, "key_sha256", ev_jsonb_str(b, v->key_fingerprint));
	ev_jsonb_set(b, o, "summary",
		     ev_jsonb_str(b, ev_report_verification_summary(
					 r, buf, sizeof(buf))));
	ev_jsonb_set(b, o, "problems",
		     ev_jsonb_int(b, (json_int_t)v->problems));
	json_t *listed = ev_jsonb_arr(b);
	for (size_t i = 0; i < v->n_listed; i++) {
		json_t *p = ev_jsonb_obj(b);
		ev_jsonb_set(b, p, "snapshot",
			     ev_jsonb_str(b, v->listed[i].snapshot));
		ev_jsonb_set(b, p, "problem",
			     ev_jsonb_str(b, v->listed[i].problem));
		ev_jsonb_set(b, p, "message",
			     ev_jsonb_str(b, v->listed[i].message));
		ev_jsonb_push(b, listed, p);
	}
	ev_jsonb_set(b, o, "listed", listed);
	return o;
}

static json_t *counts_json(struct ev_jsonb *b, const size_t *counts)
{
	json_t *o = ev_jsonb_obj(b);
	for (int i = 0; i < EV_STATUS_COUNT_; i++)
		ev_jsonb_set(b, o, ev_status_name((enum ev_status)i),
			     ev_jsonb_int(b, (json_int_t)counts[i]));
	return o;
}

static json_t *strings(struct ev_jsonb *b, const char *const *v, size_t n)
{
	json_t *a = ev_jsonb_arr(b);
	for (size_t i = 0; i < n; i++)
		ev_jsonb_push(b, a, ev_jsonb_str(b, v[i]));
	return a;
}

static json_t *controls_json(struct ev_jsonb *b,
			     const struct ev_report_snapshot *s)
{
	json_t *a = ev_jsonb_arr(b);
	for (size_t c = 0; c < s->n_controls; c++) {
		const struct ev_report_control *x = &s->controls[c];
		json_t *o = ev_jsonb_obj(b);
		ev_jsonb_set(b, o, "id", ev_jsonb_str(b, x->id));
		ev_jsonb_set(b, o, "program", ev_jsonb_str(b, x->program));
		ev_jsonb_set(b, o, "number", ev_jsonb_str(b, x->number));
		ev_jsonb_set(b, o, "title", ev_jsonb_str(b, x->title));
		ev_jsonb_set(b, o, "verdict",
			     ev_jsonb_str(b, ev_verdict_name(x->verdict)));
		ev_jsonb_set(b, o, "reasons",
			     strings(b, x->reasons, x->n_reasons));
		ev_jsonb_set(b, o, "probes",
			     strings(b, x->probes, x->n_probes));
		ev_jsonb_set(b, o, "counts", counts_json(b, x->counts));
		ev_jsonb_set(b, o, "documents_required",
			     json_boolean(x->documents_required));
		ev_jsonb_set(
		    b, o, "documents_attached",
		    ev_jsonb_int(b, (json_int_t)x->documents_attached));
		ev_jsonb_push(b, a, o);
	}
	return a;
}

static json_t *programs_json(struct ev_jsonb *b,
			     const struct ev_report_snapshot *s)
{
	json_t *a = ev_jsonb_arr(b);
	for (size_t p = 0; p < s->n_programs; p++) {
		const struct ev_report_program *g = &s->programs[p];
		json_t *o = ev_jsonb_obj(b), *v = ev_jsonb_obj(b);
		ev_jsonb_set(b, o, "id", ev_jsonb_str(b, g->id));
		ev_jsonb_set(b, o, "title", ev_jsonb_str(b, g->title));
		ev_jsonb_set(b, o, "version", ev_jsonb_str(b, g->version));
		for (int i = 0; i < EV_VERDICT_COUNT_; i++)
			ev_jsonb_set(b, v, ev_verdict_name((enum ev_verdict)i),
				     ev_jsonb_int(b, (json_int_t)g->counts[i]));
		ev_jsonb_set(b, o, "verdicts", v);
		ev_jsonb_push(b, a, o);
	}
	return a;
}

static json_t *accounts_json(struct ev_jsonb *b,
			     const struct ev_report_snapshot *s)
{
	json_t *a = ev_jsonb_arr(b);
	for (size_t i = 0; i < s->n_accounts; i++) {
		const struct ev_report_account *x = &s->accounts[i];
		json_t *o = ev_jsonb_obj(b);
		ev_jsonb_set(b, o, "id", ev_jsonb_str(b, x->id));
		ev_jsonb_set(b, o, "name", ev_jsonb_str_or_null(b, x->name));
		ev_jsonb_set(b, o, "collection",
			     ev_jsonb_str(b, x->problem[0]  ? "unusable"
					     : x->collected ? "collected"
							    : "skipped"));
		ev_jsonb_set(b, o, "reason",
			     ev_jsonb_str_or_null(b, x->problem[0]
							 ? x->problem
							 : x->skip_reason));
		ev_jsonb_set(b, o, "regions",
			     strings(b, x->regions, x->n_regions));
		json_t *sk = ev_jsonb_arr(b);
		for (size_t k = 0; k < x->n_regions_skipped; k++) {
			json_t *r = ev_jsonb_obj(b);
			ev_jsonb_set(
			    b, r, "region",
			    ev_jsonb_str(b, x->regions_skipped[k].region));
			ev_jsonb_set(
			    b, r, "opt_in_status",
			    ev_jsonb_str_or_null(
				b, x->regions_skipped[k].opt_in_status));
			ev_jsonb_push(b, sk, r);
		}
		ev_jsonb_set(b, o, "regions_skipped", sk);
		ev_jsonb_set(b, o, "findings",
			     ev_jsonb_int(b, (json_int_t)x->n_findings));
		ev_jsonb_push(b, a, o);
	}
	return a;
}

static const char *seen_name(enum ev_report_seen s)
{
	switch (s) {
	case EV_REPORT_SEEN_EXACT:
		return "exact";
	case EV_REPORT_SEEN_CHAIN_START:
		return "chain-start";
	case EV_REPORT_SEEN_OR_EARLIER:
		return "or-earlier";
	default:
		return "none";
	}
}

static json_t *finding_json(struct ev_jsonb *b,
			    const struct ev_report_snapshot *s,
			    const struct ev_report_finding *f)
{
	json_t *o = ev_jsonb_obj(b);
	ev_jsonb_set(b, o, "uid", ev_jsonb_str(b, f->uid));
	ev_jsonb_set(b, o, "account", ev_jsonb_str(b, f->account_id));
	ev_jsonb_set(b, o, "region", ev_jsonb_str_or_null(b, f->region));
	ev_jsonb_set(b, o, "probe", ev_jsonb_str(b, f->probe));
	json_t *controls = ev_jsonb_arr(b);
	for (size_t k = 0; k < f->n_controls; k++)
		ev_jsonb_push(b, controls,
			      ev_jsonb_str(b, s->controls[f->controls[k]].id));
	ev_jsonb_set(b, o, "controls", controls);
	ev_jsonb_set(b, o, "status",
		     ev_jsonb_str(b, ev_status_name(f->status)));
	ev_jsonb_set(b, o, "resource", ev_jsonb_str(b, f->resource));
	ev_jsonb_set(b, o, "reason", ev_jsonb_str(b, f->reason));
	ev_jsonb_set(b, o, "error_code",
		     ev_jsonb_str_or_null(b, f->error_code));
	ev_jsonb_set(b, o, "request_id",
		     ev_jsonb_str_or_null(b, f->request_id));
	if (f->seen != EV_REPORT_SEEN_NONE) {
		json_t *seen = ev_jsonb_obj(b);
		ev_jsonb_set(b, seen, "snapshot",
			     ev_jsonb_str(b, f->first_seen));
		ev_jsonb_set(b, seen, "time",
			     ev_jsonb_time(b, f->first_seen_at));
		ev_jsonb_set(b, seen, "bound",
			     ev_jsonb_str(b, seen_name(f->seen)));
		ev_jsonb_set(b, o, "first_seen", seen);
	} else {
		ev_jsonb_set(b, o, "first_seen", json_null());
	}
	json_t *ev = ev_jsonb_arr(b);
	for (size_t i = 0; i < f->n_obs; i++) {
		const struct ev_report_obs *x = f->obs[i];
		json_t *c = ev_jsonb_obj(b);
		ev_jsonb_set(b, c, "service", ev_jsonb_str(b, x->service));
		ev_jsonb_set(b, c, "action", ev_jsonb_str(b, x->action));
		ev_jsonb_set(b, c, "region",
			     ev_jsonb_str_or_null(b, x->region));
		ev_jsonb_set(b, c, "time", ev_jsonb_str_or_null(b, x->time));
		ev_jsonb_set(b, c, "http_status",
			     ev_jsonb_int(b, (json_int_t)x->http_status));
		ev_jsonb_set(b, c, "request_id",
			     ev_jsonb_str_or_null(b, x->request_id));
		ev_jsonb_set(b, c, "error_code",
			     ev_jsonb_str_or_null(b, x->error_code));
		ev_jsonb_set(b, c, "response_sha256",
			     ev_jsonb_str_or_null(b, x->sha256));
		ev_jsonb_set(b, c, "response_size",
			     ev_jsonb_int(b, (json_int_t)x->size));
		ev_jsonb_push(b, ev, c);
	}
	ev_jsonb_set(b, o, "evidence", ev);
	return o;
}

static json_t *trend_json(struct ev_jsonb *b, const struct ev_report *r)
{
	const struct ev_report_snapshot *s = r->snap;
	const struct ev_report_trend *t = &r->trend;
	json_t *o = ev_jsonb_obj(b), *names = ev_jsonb_arr(b),
	       *controls = ev_jsonb_obj(b);
	for (size_t i = 0; i < t->n; i++)
		ev_jsonb_push(b, names, ev_jsonb_str(b, t->names[i]));
	for (size_t c = 0; c < s->n_controls; c++) {
		json_t *row = ev_jsonb_arr(b);
		for (size_t i = 0; i < t->n; i++) {
			enum ev_verdict v = t->verdicts[i * s->n_controls + c];
			ev_jsonb_push(
			    b, row,
			    v >= EV_VERDICT_COUNT_
				? json_null()
				: ev_jsonb_str(b, ev_verdict_name(v)));
		}
		ev_jsonb_set(b, controls, s->controls[c].id, row);
	}
	ev_jsonb_set(b, o, "snapshots", names);
	ev_jsonb_set(b, o, "controls", controls);
	ev_jsonb_set(b, o, "history_end", ev_jsonb_str(b, r->history_end));
	ev_jsonb_set(b, o, "history_read",
		     ev_jsonb_int(b, (json_int_t)r->history_read));
	return o;
}

json_t *ev_report_json(const struct ev_report *r)
{
	const struct ev_report_snapshot *s = r->snap;
	struct ev_jsonb b = {0};
	json_t *root = ev_jsonb_obj(&b);
	ev_jsonb_set(&b, root, "report_format", ev_jsonb_int(&b, 1));
	ev_jsonb_set(&b, root, "generator",
		     ev_jsonb_str(&b, "evident " EV_VERSION));
	ev_jsonb_set(&b, root, "snapshot", snapshot_json(&b, s));
	ev_jsonb_set(&b, root, "verification", verification_json(&b, r));
	ev_jsonb_set(&b, root, "programs", programs_json(&b, s));
	ev_jsonb_set(&b, root, "controls", controls_json(&b, s));
	ev_jsonb_set(&b, root, "accounts", accounts_json(&b, s));
	json_t *findings = ev_jsonb_arr(&b);
	for (size_t i = 0; i < s->n_findings && !b.failed; i++)
		ev_jsonb_push(&b, findings,
			      finding_json(&b, s, &s->findings[i]));
	ev_jsonb_set(&b, root, "findings", findings);
	ev_jsonb_set(&b, root, "trend", trend_json(&b, r));
	if (b.failed) {
		json_decref(root);
		return NULL;
	}
	return root;
}

enum ev_err ev_report_write_json(const struct ev_report *r, FILE *out,
				 struct ev_error *err)
{
	json_t *root = ev_report_json(r);
	EV_ENSURE_E(err, root, EV_E_NOMEM, "out of memory");
	int bad = json_dumpf(root, out, JSON_INDENT(2));
	json_decref(root);
	EV_ENSURE_E(err, bad == 0 && fputc('\n', out) != EOF, EV_E_IO,
		    "write error");
	EV_ENSURE_E(err, fflush(out) == 0 && !ferror(out), EV_E_IO,
		    "write error");
	return EV_OK;
}
