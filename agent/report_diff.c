/* `evident diff`: what changed between two snapshots. Findings are matched
 * by identity (probe, account, region, resource: ev_report_finding_uid),
 * controls by id, coverage by account and account/region. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "jsonb.h"

void ev_report_diff_cleanup(struct ev_report_diff *d)
{
	free(d->controls);
	free(d->opened);
	free(d->resolved);
	free(d->still_open);
	free(d->accounts_entered);
	free(d->accounts_left);
	free(d->regions_entered);
	free(d->regions_left);
	memset(d, 0, sizeof(*d));
}

static int finding_cmp(const void *a, const void *b)
{
	const struct ev_report_finding *x =
	    *(const struct ev_report_finding *const *)a;
	const struct ev_report_finding *y =
	    *(const struct ev_report_finding *const *)b;
	int c = strcmp(x->account_id, y->account_id);
	if (!c)
		c = strcmp(x->region, y->region);
	if (!c)
		c = strcmp(x->probe, y->probe);
	if (!c)
		c = strcmp(x->resource, y->resource);
	if (!c)
		c = strcmp(x->uid, y->uid);
	return c;
}

static int resolved_cmp(const void *a, const void *b)
{
	const struct ev_report_diff_resolved *x = a, *y = b;
	return finding_cmp(&x->old, &y->old);
}

static int region_cmp(const void *a, const void *b)
{
	const struct ev_report_diff_region *x = a, *y = b;
	int c = strcmp(x->account, y->account);
	return c ? c : strcmp(x->region, y->region);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const struct ev_report_control *
control_by_id(const struct ev_report_snapshot *s, const char *id)
{
	for (size_t i = 0; i < s->n_controls; i++)
		if (strcmp(s->controls[i].id, id) == 0)
			return &s->controls[i];
	return NULL;
}

static enum ev_err diff_controls(const struct ev_report_snapshot *o,
				 const struct ev_report_snapshot *n,
				 struct ev_report_diff *d)
{
	size_t cap = o->n_controls + n->n_controls;
	if (!cap)
		return EV_OK;
	d->controls = calloc(cap, sizeof(*d->controls));
	if (!d->controls)
		return EV_E_NOMEM;
	for (size_t i = 0; i < n->n_controls; i++) {
		const struct ev_report_control *x = &n->controls[i];
		const struct ev_report_control *y = control_by_id(o, x->id);
		enum ev_verdict from = y ? y->verdict : EV_VERDICT_COUNT_;
		if (from == x->verdict)
			continue;
		d->controls[d->n_controls++] =
		    (struct ev_report_diff_control){.id = x->id,
						    .title = x->title,
						    .from = from,
						    .to = x->verdict};
	}
	for (size_t i = 0; i < o->n_controls; i++) {
		const struct ev_report_control *y = &o->controls[i];
		if (control_by_id(n, y->id))
			continue;
		d->controls[d->n_controls++] =
		    (struct ev_report_diff_control){.id = y->id,
						    .title = y->title,
						    .from = y->verdict,
						    .to = EV_VERDICT_COUNT_};
	}
	return EV_OK;
}

static enum ev_err diff_findings(const struct ev_report_snapshot *o,
				 const struct ev_report_snapshot *n,
				 struct ev_report_diff *d)
{
	if (n->n_findings) {
		d->opened = malloc(n->n_findings * sizeof(*d->opened));
		d->still_open = malloc(n->n_findings * sizeof(*d->still_open));
		if (!d->opened || !d->still_open)
			return EV_E_NOMEM;
	}
	if (o->n_findings) {
		d->resolved = malloc(o->n_findings * sizeof(*d->resolved));
		if (!d->resolved)
			return EV_E_NOMEM;
	}
	for (size_t i = 0; i < n->n_findings; i++) {
		const struct ev_report_finding *f = &n->findings[i];
		if (!ev_report_status_open(f->status))
			continue;
		const struct ev_report_finding *was =
		    ev_report_snapshot_find(o, f->uid);
		if (was && ev_report_status_open(was->status))
			d->still_open[d->n_still_open++] = f;
		else
			d->opened[d->n_opened++] = f;
	}
	for (size_t i = 0; i < o->n_findings; i++) {
		const struct ev_report_finding *f = &o->findings[i];
		if (!ev_report_status_open(f->status))
			continue;
		const struct ev_report_finding *now =
		    ev_report_snapshot_find(n, f->uid);
		if (now && ev_report_status_open(now->status))
			continue;
		d->resolved[d->n_resolved++] =
		    (struct ev_report_diff_resolved){.old = f, .now = now};
	}
	if (d->n_opened)
		qsort(d->opened, d->n_opened, sizeof(*d->opened), finding_cmp);
	if (d->n_still_open)
		qsort(d->still_open, d->n_still_open, sizeof(*d->still_open),
		      finding_cmp);
	if (d->n_resolved)
		qsort(d->resolved, d->n_resolved, sizeof(*d->resolved),
		      resolved_cmp);
	return EV_OK;
}

static bool collected(const struct ev_report_snapshot *s, const char *id)
{
	const struct ev_report_account *a = ev_report_snapshot_account(s, id);
	return a && a->collected;
}

static bool region_examined(const struct ev_report_snapshot *s,
			    const char *account, const char *region)
{
	const struct ev_report_account *a =
	    ev_report_snapshot_account(s, account);
	if (!a || !a->collected)
		return false;
	for (size_t i = 0; i < a->n_regions; i++)
		if (strcmp(a->regions[i], region) == 0)
			return true;
	return false;
}

/* Accounts and regions of `from` that `other` did not examine. */
static enum ev_err coverage_minus(const struct ev_report_snapshot *from,
				  const struct ev_report_snapshot *other,
				  const char ***accounts, size_t *n_accounts,
				  struct ev_report_diff_region **regions,
				  size_t *n_regions)
{
	size_t na = 0, nr = 0;
	for (size_t i = 0; i < from->n_accounts; i++) {
		na += from->accounts[i].collected;
		nr += from->accounts[i].collected ? from->accounts[i].n_regions
						  : 0;
	}
	if (na) {
		*accounts = malloc(na * sizeof(**accounts));
		if (!*accounts)
			return EV_E_NOMEM;
	}
	if (nr) {
		*regions = malloc(nr * sizeof(**regions));
		if (!*regions)
			return EV_E_NOMEM;
	}
	for (size_t i = 0; i < from->n_accounts; i++) {
		const struct ev_report_account *a = &from->accounts[i];
		if (!a->collected)
			continue;
		if (!collected(other, a->id))
			(*accounts)[(*n_accounts)++] = a->id;
		for (size_t k = 0; k < a->n_regions; k++)
			if (!region_examined(other, a->id, a->regions[k]))
				(*regions)[(*n_regions)++] =
				    (struct ev_report_diff_region){
					.account = a->id,
					.region = a->regions[k]};
	}
	if (*n_accounts)
		qsort(*accounts, *n_accounts, sizeof(**accounts), str_cmp);
	if (*n_regions)
		qsort(*regions, *n_regions, sizeof(**regions), region_cmp);
	return EV_OK;
}

enum ev_err ev_report_diff(const struct ev_report_snapshot *old_snap,
			   const struct ev_report_snapshot *new_snap,
			   struct ev_report_diff *d)
{
	memset(d, 0, sizeof(*d));
	enum ev_err rc = diff_controls(old_snap, new_snap, d);
	if (rc == EV_OK)
		rc = diff_findings(old_snap, new_snap, d);
	if (rc == EV_OK)
		rc = coverage_minus(new_snap, old_snap, &d->accounts_entered,
				    &d->n_accounts_entered, &d->regions_entered,
				    &d->n_regions_entered);
	if (rc == EV_OK)
		rc = coverage_minus(old_snap, new_snap, &d->accounts_left,
				    &d->n_accounts_left, &d->regions_left,
				    &d->n_regions_left);
	if (rc != EV_OK)
		ev_report_diff_cleanup(d);
	return rc;
}

/* Text */

static const char *verdict_or_absent(enum ev_verdict v)
{
	return v >= EV_VERDICT_COUNT_ ? "(absent)" : ev_verdict_name(v);
}

#define T(s) ev_report_text(out, (s))

static void finding_line(FILE *out, const char *status,
			 const struct ev_report_finding *f)
{
	fprintf(out, "  %-14s ", status);
	T(f->account_id);
	fputs("  ", out);
	T(f->region[0] ? f->region : "-");
	fputs("  ", out);
	T(f->probe);
	fputs("  ", out);
	T(f->resource);
	fputs("\n      ", out);
	T(f->reason);
	if (f->seen != EV_REPORT_SEEN_NONE) {
		char iso[32];
		ev_report_iso(f->first_seen_at, iso);
		fprintf(out, " (first seen %s%s)", iso,
			f->seen == EV_REPORT_SEEN_OR_EARLIER ? " or earlier"
			: f->seen == EV_REPORT_SEEN_CHAIN_START
			    ? ", the chain's first snapshot"
			    : "");
	}
	fputs("\n", out);
}

static void side(FILE *out, const char *label, const struct ev_report *r)
{
	char buf[512];
	fprintf(out, "%s %s  ", label, r->snap->name);
	T(ev_report_verification_summary(r, buf, sizeof(buf)));
	fputs("\n", out);
}

enum ev_err ev_report_diff_write_text(const struct ev_report *old_r,
				      const struct ev_report *new_r,
				      const struct ev_report_diff *d, FILE *out)
{
	fprintf(out, "evident diff %s -> %s\n", old_r->snap->name,
		new_r->snap->name);
	side(out, "old", old_r);
	side(out, "new", new_r);

	fprintf(out, "\ncontrols whose verdict moved: %zu\n", d->n_controls);
	for (size_t i = 0; i < d->n_controls; i++) {
		const struct ev_report_diff_control *c = &d->controls[i];
		fputs("  ", out);
		T(c->id);
		fprintf(out, "  %s -> %s  ", verdict_or_absent(c->from),
			verdict_or_absent(c->to));
		T(c->title);
		fputs("\n", out);
	}

	fprintf(out,
		"\nfindings: %zu new, %zu resolved, %zu still open (open: "
		"fail or error)\n",
		d->n_opened, d->n_resolved, d->n_still_open);
	for (size_t i = 0; i < d->n_opened; i++) {
		char label[32];
		snprintf(label, sizeof(label), "new %s",
			 ev_status_name(d->opened[i]->status));
		finding_line(out, label, d->opened[i]);
	}
	for (size_t i = 0; i < d->n_resolved; i++) {
		char label[32];
		snprintf(label, sizeof(label), "resolved %s",
			 d->resolved[i].now
			     ? ev_status_name(d->resolved[i].now->status)
			     : "gone");
		finding_line(out, label, d->resolved[i].old);
	}
	for (size_t i = 0; i < d->n_still_open; i++) {
		char label[32];
		snprintf(label, sizeof(label), "open %s",
			 ev_status_name(d->still_open[i]->status));
		finding_line(out, label, d->still_open[i]);
	}

	fputs("\ncoverage:\n", out);
	const struct {
		const char *label;
		const char *const *v;
		size_t n;
	} accounts[] = {
	    {"accounts entered", d->accounts_entered, d->n_accounts_entered},
	    {"accounts left", d->accounts_left, d->n_accounts_left},
	};
	for (size_t k = 0; k < 2; k++) {
		fprintf(out, "  %s: %zu", accounts[k].label, accounts[k].n);
		for (size_t i = 0; i < accounts[k].n; i++) {
			fputs(i ? ", " : "  ", out);
			T(accounts[k].v[i]);
		}
		fputs("\n", out);
	}
	const struct {
		const char *label;
		const struct ev_report_diff_region *v;
		size_t n;
	} regions[] = {
	    {"regions entered", d->regions_entered, d->n_regions_entered},
	    {"regions left", d->regions_left, d->n_regions_left},
	};
	for (size_t k = 0; k < 2; k++) {
		fprintf(out, "  %s: %zu", regions[k].label, regions[k].n);
		for (size_t i = 0; i < regions[k].n; i++) {
			fputs(i ? ", " : "  ", out);
			T(regions[k].v[i].account);
			fputc('/', out);
			T(regions[k].v[i].region);
		}
		fputs("\n", out);
	}
	if (fflush(out) != 0 || ferror(out))
		return EV_E_IO;
	return EV_OK;
}

/* JSON */

static json_t *verdict_json(struct ev_jsonb *b, enum ev_verdict v)
{
	return v >= EV_VERDICT_COUNT_ ? json_null()
				      : ev_jsonb_str(b, ev_verdict_name(v));
}

static json_t *side_json(struct ev_jsonb *b, const struct ev_report *r)
{
	char buf[512];
	json_t *o = ev_jsonb_obj(b);
	ev_jsonb_set(b, o, "snapshot", ev_jsonb_str(b, r->snap->name));
	ev_jsonb_set(b, o, "manifest_sha256",
		     ev_jsonb_str(b, r->snap->manifest_sha256));
	ev_jsonb_set(b, o, "verified", json_boolean(r->verify.verified));
	ev_jsonb_set(b, o, "trusted_key", json_boolean(r->verify.trusted_key));
	ev_jsonb_set(b, o, "verification",
		     ev_jsonb_str(b, ev_report_verification_summary(
					 r, buf, sizeof(buf))));
	return o;
}

static json_t *finding_json(struct ev_jsonb *b,
			    const struct ev_report_snapshot *s,
			    const struct ev_report_finding *f)
{
	json_t *o = ev_jsonb_obj(b), *controls = ev_jsonb_arr(b);
	ev_jsonb_set(b, o, "uid", ev_jsonb_str(b, f->uid));
	ev_jsonb_set(b, o, "account", ev_jsonb_str(b, f->account_id));
	ev_jsonb_set(b, o, "region", ev_jsonb_str_or_null(b, f->region));
	ev_jsonb_set(b, o, "probe", ev_jsonb_str(b, f->probe));
	for (size_t k = 0; k < f->n_controls; k++)
		ev_jsonb_push(b, controls,
			      ev_jsonb_str(b, s->controls[f->controls[k]].id));
	ev_jsonb_set(b, o, "controls", controls);
	ev_jsonb_set(b, o, "status",
		     ev_jsonb_str(b, ev_status_name(f->status)));
	ev_jsonb_set(b, o, "resource", ev_jsonb_str(b, f->resource));
	ev_jsonb_set(b, o, "reason", ev_jsonb_str(b, f->reason));
	if (f->seen != EV_REPORT_SEEN_NONE) {
		char iso[32];
		ev_report_iso(f->first_seen_at, iso);
		ev_jsonb_set(b, o, "first_seen", ev_jsonb_str(b, iso));
		ev_jsonb_set(b, o, "first_seen_snapshot",
			     ev_jsonb_str(b, f->first_seen));
	}
	return o;
}

json_t *ev_report_diff_json(const struct ev_report *old_r,
			    const struct ev_report *new_r,
			    const struct ev_report_diff *d)
{
	struct ev_jsonb b = {0};
	json_t *root = ev_jsonb_obj(&b);
	ev_jsonb_set(&b, root, "diff_format", json_integer(1));
	ev_jsonb_set(&b, root, "old", side_json(&b, old_r));
	ev_jsonb_set(&b, root, "new", side_json(&b, new_r));
	json_t *controls = ev_jsonb_arr(&b);
	for (size_t i = 0; i < d->n_controls; i++) {
		json_t *c = ev_jsonb_obj(&b);
		ev_jsonb_set(&b, c, "id", ev_jsonb_str(&b, d->controls[i].id));
		ev_jsonb_set(&b, c, "title",
			     ev_jsonb_str(&b, d->controls[i].title));
		ev_jsonb_set(&b, c, "from",
			     verdict_json(&b, d->controls[i].from));
		ev_jsonb_set(&b, c, "to", verdict_json(&b, d->controls[i].to));
		ev_jsonb_push(&b, controls, c);
	}
	ev_jsonb_set(&b, root, "controls", controls);
	json_t *findings = ev_jsonb_obj(&b), *opened = ev_jsonb_arr(&b),
	       *resolved = ev_jsonb_arr(&b), *still = ev_jsonb_arr(&b);
	for (size_t i = 0; i < d->n_opened; i++)
		ev_jsonb_push(&b, opened,
			      finding_json(&b, new_r->snap, d->opened[i]));
	for (size_t i = 0; i < d->n_resolved; i++) {
		json_t *f = finding_json(&b, old_r->snap, d->resolved[i].old);
		ev_jsonb_set(
		    &b, f, "now",
		    d->resolved[i].now
			? ev_jsonb_str(
			      &b, ev_status_name(d->resolved[i].now->status))
			: json_null());
		ev_jsonb_push(&b, resolved, f);
	}
	for (size_t i = 0; i < d->n_still_open; i++)
		ev_jsonb_push(&b, still,
			      finding_json(&b, new_r->snap, d->still_open[i]));
	ev_jsonb_set(&b, findings, "new", opened);
	ev_jsonb_set(&b, findings, "resolved", resolved);
	ev_jsonb_set(&b, findings, "still_open", still);
	ev_jsonb_set(&b, root, "findings", findings);
	json_t *cov = ev_jsonb_obj(&b);
	const char *const names[] = {"accounts_entered", "accounts_left"};
	const char *const *const lists[] = {d->accounts_entered,
					    d->accounts_left};
	const size_t counts[] = {d->n_accounts_entered, d->n_accounts_left};
	for (size_t k = 0; k < 2; k++) {
		json_t *a = ev_jsonb_arr(&b);
		for (size_t i = 0; i < counts[k]; i++)
			ev_jsonb_push(&b, a, ev_jsonb_str(&b, lists[k][i]));
		ev_jsonb_set(&b, cov, names[k], a);
	}
	const char *const rnames[] = {"regions_entered", "regions_left"};
	const struct ev_report_diff_region *const rlists[] = {
	    d->regions_entered, d->regions_left};
	const size_t rcounts[] = {d->n_regions_entered, d->n_regions_left};
	for (size_t k = 0; k < 2; k++) {
		json_t *a = ev_jsonb_arr(&b);
		for (size_t i = 0; i < rcounts[k]; i++) {
			json_t *r = ev_jsonb_obj(&b);
			ev_jsonb_set(&b, r, "account",
				     ev_jsonb_str(&b, rlists[k][i].account));
			ev_jsonb_set(&b, r, "region",
				     ev_jsonb_str(&b, rlists[k][i].region));
			ev_jsonb_push(&b, a, r);
		}
		ev_jsonb_set(&b, cov, rnames[k], a);
	}
	ev_jsonb_set(&b, root, "coverage", cov);
	if (b.failed) {
		json_decref(root);
		return NULL;
	}
	return root;
}
