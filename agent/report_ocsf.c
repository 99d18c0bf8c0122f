/* OCSF 1.3.0 Compliance Finding events (class_uid 2003, category_uid 2
 * Findings), one per finding, as JSON lines: what security data lakes
 * (Amazon Security Lake, SIEMs) ingest. How evident's findings map is in
 * README's "Reports"; in short:
 *   finding_info.uid  the finding's identity (ev_report_finding_uid),
 *                     stable across snapshots
 *   compliance        control = the probe (the check), requirements = the
 *                     control ids, standards = the programs' titles and
 *                     versions, status_id 1 Pass / 2 Warning / 3 Fail
 *   status_id         1 New for open and warn findings, 4 Resolved for
 *                     passing and not-applicable ones
 *   activity_id       2 Update for an open finding first seen in an
 *                     earlier snapshot, else 1 Create
 *   resources, cloud  the resource (ARN), its region and account */
#include "report.h"

#include <string.h>

#include "jsonb.h"

/* OCSF enumerations used here (1.3.0). */
#define OCSF_CLASS_COMPLIANCE_FINDING 2003
#define OCSF_CATEGORY_FINDINGS	      2
#define OCSF_ACTIVITY_CREATE	      1
#define OCSF_ACTIVITY_UPDATE	      2
#define OCSF_STATUS_NEW		      1
#define OCSF_STATUS_RESOLVED	      4
#define OCSF_COMPLIANCE_PASS	      1
#define OCSF_COMPLIANCE_WARNING	      2
#define OCSF_COMPLIANCE_FAIL	      3
#define OCSF_COMPLIANCE_OTHER	      99
#define OCSF_ACCOUNT_AWS	      10
#define OCSF_ANALYTIC_RULE	      1

static const char *const severity_names[] = {
    "Unknown", "Informational", "Low", "Medium", "High", "Critical",
};

/* Root credentials and standing administrator rights weigh most; a check
 * that could not run is low (its evidence is missing, nothing is known to
 * be wrong). */
static int severity_id(const struct ev_report_finding *f)
{
	switch (f->status) {
	case EV_STATUS_FAIL:
		if (strcmp(f->probe, "root-mfa") == 0 ||
		    strcmp(f->probe, "root-usage") == 0 ||
		    strcmp(f->probe, "least-privilege") == 0)
			return 4;
		return 3;
	case EV_STATUS_ERROR:
	case EV_STATUS_WARN:
		return 2;
	default:
		return 1;
	}
}

/* OCSF timestamps are milliseconds since the epoch. */
static json_t *ms(struct ev_jsonb *b, time_t t)
{
	return ev_jsonb_int(b, (json_int_t)t * 1000);
}

static json_t *account_json(struct ev_jsonb *b,
			    const struct ev_report_snapshot *s,
			    const struct ev_report_finding *f)
{
	json_t *a = ev_jsonb_obj(b);
	ev_jsonb_set(b, a, "uid", ev_jsonb_str(b, f->account_id));
	ev_jsonb_set(b, a, "type_id", ev_jsonb_int(b, OCSF_ACCOUNT_AWS));
	ev_jsonb_set(b, a, "type", ev_jsonb_str(b, "AWS Account"));
	if (f->account < s->n_accounts)
		ev_jsonb_set_str(b, a, "name", s->accounts[f->account].name);
	return a;
}

/* "aws", "aws-cn", "aws-us-gov"... from an ARN; NULL otherwise. */
static size_t arn_partition(const char *resource, const char **p)
{
	*p = NULL;
	if (strncmp(resource, "arn:", 4) != 0)
		return 0;
	const char *start = resource + 4, *end = strchr(start, ':');
	if (!end || end == start || end - start > 32)
		return 0;
	*p = start;
	return (size_t)(end - start);
}

static json_t *compliance_json(struct ev_jsonb *b,
			       const struct ev_report_snapshot *s,
			       const struct ev_report_finding *f)
{
	json_t *c = ev_jsonb_obj(b), *req = ev_jsonb_arr(b),
	       *std = ev_jsonb_arr(b);
	ev_jsonb_set(b, c, "control", ev_jsonb_str(b, f->probe));
	for (size_t k = 0; k < f->n_controls; k++) {
		const struct ev_report_control *x =
		    &s->controls[f->controls[k]];
		ev_jsonb_push(b, req, ev_jsonb_str(b, x->id));
		/* One standard per program, however many of its controls. */
		const struct ev_report_program *g = NULL;
		for (size_t p = 0; p < s->n_programs && !g; p++)
			if (strcmp(s->programs[p].id, x->program) == 0)
				g = &s->programs[p];
		char name[512];
		if (g && g->title[0])
			snprintf(name, sizeof(name), "%s%s%s", g->title,
				 g->version[0] ? " v" : "", g->version);
		else
			snprintf(name, sizeof(name), "%s", x->program);
		bool seen = false;
		for (size_t i = 0; i < json_array_size(std) && !seen; i++)
			seen = strcmp(json_string_value(json_array_get(std, i)),
				      name) == 0;
		if (!seen)
			ev_jsonb_push(b, std, ev_jsonb_str(b, name));
	}
	ev_jsonb_set(b, c, "requirements", req);
	ev_jsonb_set(b, c, "standards", std);
	int id;
	const char *status;
	switch (f->status) {
	case EV_STATUS_PASS:
		id = OCSF_COMPLIANCE_PASS;
		status = "Pass";
		break;
	case EV_STATUS_FAIL:
		id = OCSF_COMPLIANCE_FAIL;
		status = "Fail";
		break;
	case EV_STATUS_WARN:
	case EV_STATUS_ERROR:
		/* OCSF's Warning: "did not yield a result due to missing
		 * information" for error; warn is reported, not failing. */
		id = OCSF_COMPLIANCE_WARNING;
		status = "Warning";
		break;
	default:
		id = OCSF_COMPLIANCE_OTHER;
		status = "Not Applicable";
	}
	ev_jsonb_set(b, c, "status_id", ev_jsonb_int(b, id));
	ev_jsonb_set(b, c, "status", ev_jsonb_str(b, status));
	ev_jsonb_set(b, c, "status_code",
		     ev_jsonb_str(b, ev_status_name(f->status)));
	ev_jsonb_set_str(b, c, "status_detail", f->reason);
	return c;
}

static json_t *evidence_json(struct ev_jsonb *b,
			     const struct ev_report_snapshot *s,
			     const struct ev_report_finding *f)
{
	json_t *o = ev_jsonb_obj(b), *calls = ev_jsonb_arr(b);
	ev_jsonb_set(b, o, "snapshot", ev_jsonb_str(b, s->name));
	ev_jsonb_set(b, o, "manifest_sha256",
		     ev_jsonb_str(b, s->manifest_sha256));
	ev_jsonb_set(b, o, "status",
		     ev_jsonb_str(b, ev_status_name(f->status)));
	ev_jsonb_set_str(b, o, "error_code", f->error_code);
	ev_jsonb_set_str(b, o, "request_id", f->request_id);
	if (f->seen != EV_REPORT_SEEN_NONE)
		ev_jsonb_set(b, o, "first_seen_snapshot",
			     ev_jsonb_str(b, f->first_seen));
	for (size_t i = 0; i < f->n_obs; i++) {
		const struct ev_report_obs *x = f->obs[i];
		json_t *c = ev_jsonb_obj(b);
		ev_jsonb_set(b, c, "service", ev_jsonb_str(b, x->service));
		ev_jsonb_set(b, c, "action", ev_jsonb_str(b, x->action));
		ev_jsonb_set_str(b, c, "region", x->region);
		ev_jsonb_set_str(b, c, "time", x->time);
		ev_jsonb_set(b, c, "http_status",
			     ev_jsonb_int(b, (json_int_t)x->http_status));
		ev_jsonb_set_str(b, c, "request_id", x->request_id);
		ev_jsonb_set_str(b, c, "error_code", x->error_code);
		ev_jsonb_set_str(b, c, "response_sha256", x->sha256);
		ev_jsonb_push(b, calls, c);
	}
	ev_jsonb_set(b, o, "api_calls", calls);
	return o;
}

json_t *ev_report_ocsf_event(const struct ev_report *r,
			     const struct ev_report_finding *f)
{
	const struct ev_report_snapshot *s = r->snap;
	struct ev_jsonb b = {0};
	json_t *e = ev_jsonb_obj(&b);
	bool open = ev_report_status_open(f->status);
	bool earlier = open && f->seen != EV_REPORT_SEEN_NONE &&
		       strcmp(f->first_seen, s->name) != 0;
	int activity = earlier ? OCSF_ACTIVITY_UPDATE : OCSF_ACTIVITY_CREATE;
	int sev = severity_id(f);
	bool resolved = f->status == EV_STATUS_PASS ||
			f->status == EV_STATUS_NOT_APPLICABLE;

	ev_jsonb_set(&b, e, "class_uid",
		     ev_jsonb_int(&b, OCSF_CLASS_COMPLIANCE_FINDING));
	ev_jsonb_set(&b, e, "class_name",
		     ev_jsonb_str(&b, "Compliance Finding"));
	ev_jsonb_set(&b, e, "category_uid",
		     ev_jsonb_int(&b, OCSF_CATEGORY_FINDINGS));
	ev_jsonb_set(&b, e, "category_name", ev_jsonb_str(&b, "Findings"));
	ev_jsonb_set(&b, e, "activity_id", ev_jsonb_int(&b, activity));
	ev_jsonb_set(&b, e, "activity_name",
		     ev_jsonb_str(&b, earlier ? "Update" : "Create"));
	ev_jsonb_set(
	    &b, e, "type_uid",
	    ev_jsonb_int(&b, (json_int_t)OCSF_CLASS_COMPLIANCE_FINDING * 100 +
				 activity));
	ev_jsonb_set(&b, e, "type_name",
		     ev_jsonb_str(&b, earlier ? "Compliance Finding: Update"
					      : "Compliance Finding: Create"));
	ev_jsonb_set(&b, e, "severity_id", ev_jsonb_int(&b, sev));
	ev_jsonb_set(&b, e, "severity", ev_jsonb_str(&b, severity_names[sev]));
	ev_jsonb_set(&b, e, "status_id",
		     ev_jsonb_int(&b, resolved ? OCSF_STATUS_RESOLVED
					       : OCSF_STATUS_NEW));
	ev_jsonb_set(&b, e, "status",
		     ev_jsonb_str(&b, resolved ? "Resolved" : "New"));
	ev_jsonb_set(&b, e, "time", ms(&b, s->finished_at));
	ev_jsonb_set_str(&b, e, "message", f->reason);

	/* metadata.uid names this event: one finding in one snapshot. */
	char key[EV_SNAPSHOT_NAME_LEN + EV_SHA256_HEX_LEN + 2];
	char event_uid[EV_SHA256_HEX_LEN + 1];
	snprintf(key, sizeof(key), "%s/%s", s->name, f->uid);
	ev_sha256_hex(key, strlen(key), event_uid);
	json_t *meta = ev_jsonb_obj(&b), *product = ev_jsonb_obj(&b),
	       *profiles = ev_jsonb_arr(&b);
	ev_jsonb_set(&b, product, "name", ev_jsonb_str(&b, "evident"));
	ev_jsonb_set(&b, product, "vendor_name", ev_jsonb_str(&b, "evident"));
	ev_jsonb_set(&b, product, "uid", ev_jsonb_str(&b, "evident"));
	ev_jsonb_set(&b, product, "version",
		     ev_jsonb_str(&b, s->agent_version));
	ev_jsonb_set(&b, meta, "version",
		     ev_jsonb_str(&b, EV_REPORT_OCSF_VERSION));
	ev_jsonb_set(&b, meta, "product", product);
	ev_jsonb_set(&b, meta, "uid", ev_jsonb_str(&b, event_uid));
	ev_jsonb_set(&b, meta, "correlation_uid", ev_jsonb_str(&b, f->uid));
	ev_jsonb_push(&b, profiles, ev_jsonb_str(&b, "cloud"));
	ev_jsonb_set(&b, meta, "profiles", profiles);
	ev_jsonb_set(&b, e, "metadata", meta);

	json_t *info = ev_jsonb_obj(&b), *types = ev_jsonb_arr(&b),
	       *analytic = ev_jsonb_obj(&b);
	ev_jsonb_set(&b, info, "uid", ev_jsonb_str(&b, f->uid));
	ev_jsonb_set(&b, info, "title",
		     ev_jsonb_str(&b, f->reason[0] ? f->reason : f->probe));
	char desc[1024];
	size_t at = (size_t)snprintf(desc, sizeof(desc), "%s on %.200s",
				     f->probe, f->resource);
	for (size_t k = 0; k < f->n_controls && at < sizeof(desc); k++) {
		const struct ev_report_control *x =
		    &s->controls[f->controls[k]];
		at += (size_t)snprintf(desc + at, sizeof(desc) - at,
				       "%s%.40s %.200s", k ? "; " : " for ",
				       x->id, x->title);
	}
	ev_jsonb_set(&b, info, "desc", ev_jsonb_str(&b, desc));
	ev_jsonb_push(&b, types, ev_jsonb_str(&b, f->probe));
	ev_jsonb_set(&b, info, "types", types);
	if (f->seen != EV_REPORT_SEEN_NONE)
		ev_jsonb_set(&b, info, "first_seen_time",
			     ms(&b, f->first_seen_at));
	ev_jsonb_set(&b, info, "last_seen_time", ms(&b, s->started_at));
	ev_jsonb_set(&b, analytic, "uid", ev_jsonb_str(&b, f->probe));
	ev_jsonb_set(&b, analytic, "name", ev_jsonb_str(&b, f->probe));
	ev_jsonb_set(&b, analytic, "type_id",
		     ev_jsonb_int(&b, OCSF_ANALYTIC_RULE));
	ev_jsonb_set(&b, analytic, "type", ev_jsonb_str(&b, "Rule"));
	ev_jsonb_set(&b, info, "analytic", analytic);
	ev_jsonb_set(&b, e, "finding_info", info);

	ev_jsonb_set(&b, e, "compliance", compliance_json(&b, s, f));

	json_t *resources = ev_jsonb_arr(&b), *res = ev_jsonb_obj(&b),
	       *owner = ev_jsonb_obj(&b);
	ev_jsonb_set(&b, res, "uid", ev_jsonb_str(&b, f->resource));
	ev_jsonb_set_str(&b, res, "region", f->region);
	const char *part;
	size_t n = arn_partition(f->resource, &part);
	if (n) {
		char p[33];
		memcpy(p, part, n);
		p[n] = '\0';
		ev_jsonb_set(&b, res, "cloud_partition", ev_jsonb_str(&b, p));
	}
	ev_jsonb_set(&b, owner, "account", account_json(&b, s, f));
	ev_jsonb_set(&b, res, "owner", owner);
	ev_jsonb_push(&b, resources, res);
	ev_jsonb_set(&b, e, "resources", resources);

	json_t *cloud = ev_jsonb_obj(&b);
	ev_jsonb_set(&b, cloud, "provider", ev_jsonb_str(&b, "AWS"));
	ev_jsonb_set_str(&b, cloud, "region", f->region);
	ev_jsonb_set(&b, cloud, "account", account_json(&b, s, f));
	ev_jsonb_set(&b, e, "cloud", cloud);

	json_t *unmapped = ev_jsonb_obj(&b);
	ev_jsonb_set(&b, unmapped, "evident", evidence_json(&b, s, f));
	ev_jsonb_set(&b, e, "unmapped", unmapped);
	if (b.failed) {
		json_decref(e);
		return NULL;
	}
	return e;
}

enum ev_err ev_report_write_ocsf(const struct ev_report *r, FILE *out,
				 struct ev_error *err)
{
	const struct ev_report_snapshot *s = r->snap;
	for (size_t i = 0; i < s->n_findings; i++) {
		json_t *e = ev_report_ocsf_event(r, &s->findings[i]);
		EV_ENSURE_E(err, e, EV_E_NOMEM, "out of memory");
		int bad = json_dumpf(e, out, JSON_COMPACT);
		json_decref(e);
		EV_ENSURE_E(err, bad == 0 && fputc('\n', out) != EOF, EV_E_IO,
			    "write error");
	}
	EV_ENSURE_E(err, fflush(out) == 0 && !ferror(out), EV_E_IO,
		    "write error");
	return EV_OK;
}
