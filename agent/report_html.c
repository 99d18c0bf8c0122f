/* The HTML report: one self-contained page an auditor opens offline. No
 * script and no external asset (a Content-Security-Policy forbids both);
 * drill-down is <details> elements. Every string that came from the
 * snapshot goes through ev_report_html_escape. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

/* Findings drawn per control and in the open-findings table; the CSV and
 * JSON reports carry all of them. */
#define HTML_MAX_PER_CONTROL 2000
#define HTML_MAX_OPEN	     1000

void ev_report_html_escape(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned char c = *p;
		switch (c) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
				fputs("&#xFFFD;", out);
				break;
			}
			/* U+202A-202E (embeddings, overrides) and U+2066-2069
			 * (isolates) reorder text around them. */
			if (c == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa &&
			    p[2] <= 0xae) {
				fputs("&#xFFFD;", out);
				p += 3;
				continue;
			}
			if (c == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 &&
			    p[2] <= 0xa9) {
				fputs("&#xFFFD;", out);
				p += 3;
				continue;
			}
			fputc(c, out);
		}
		p++;
	}
}

#define H(s) ev_report_html_escape(out, (s))

static const char *const status_label[EV_STATUS_COUNT_] = {
    [EV_STATUS_PASS] = "Pass",		[EV_STATUS_FAIL] = "Fail",
    [EV_STATUS_WARN] = "Warn",		[EV_STATUS_ERROR] = "Error",
    [EV_STATUS_NOT_APPLICABLE] = "N/A",
};

static const char *verdict_class(enum ev_verdict v)
{
	switch (v) {
	case EV_VERDICT_MET:
		return "met";
	case EV_VERDICT_NOT_MET:
		return "notmet";
	case EV_VERDICT_PARTIAL:
		return "partial";
	case EV_VERDICT_ERROR:
		return "error";
	default:
		return "absent";
	}
}

static const char *status_class(enum ev_status s)
{
	switch (s) {
	case EV_STATUS_PASS:
		return "pass";
	case EV_STATUS_FAIL:
		return "fail";
	case EV_STATUS_WARN:
		return "warn";
	case EV_STATUS_ERROR:
		return "error";
	default:
		return "na";
	}
}

static const char css[] =
    "*{box-sizing:border-box}"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
    "'Helvetica Neue',Arial,sans-serif;color:#1f2328;margin:0;"
    "background:#f6f8fa}"
    "main{max-width:1200px;margin:0 auto;padding:24px}"
    "h1{font-size:24px;margin:0 0 4px}"
    "h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;"
    "border-bottom:1px solid #d0d7de}"
    ".sub{color:#59636e;margin:0 0 16px}"
    "code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"
    "monospace;font-size:12px;word-break:break-all}"
    "code.nw,.nw{white-space:nowrap;word-break:normal}"
    ".banner{padding:12px 16px;border-radius:6px;margin:12px 0;"
    "font-weight:600;border:1px solid}"
    ".banner.ok{background:#dafbe1;border-color:#4ac26b;color:#116329}"
    ".banner.warn{background:#fff8c5;border-color:#d4a72c;color:#7d4e00}"
    ".banner.bad{background:#ffebe9;border-color:#ff8182;color:#a40e26;"
    "font-size:18px}"
    ".banner ul{font-weight:400;font-size:13px;margin:8px 0 0}"
    "table{border-collapse:collapse;width:100%;background:#fff}"
    "th,td{border:1px solid #d0d7de;padding:5px 8px;text-align:left;"
    "vertical-align:top}"
    "th{background:#f0f3f6;font-weight:600}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".cards{display:flex;gap:16px;flex-wrap:wrap}"
    ".card{background:#fff;border:1px solid #d0d7de;border-radius:6px;"
    "padding:12px 16px;flex:1 1 320px}"
    ".card h3{margin:0 0 8px;font-size:15px}"
    ".bar{display:flex;height:10px;border-radius:5px;overflow:hidden;"
    "background:#eaeef2;margin:6px 0}"
    ".chips span{margin-right:10px;white-space:nowrap}"
    ".v{display:inline-block;padding:1px 8px;border-radius:10px;"
    "font-size:12px;font-weight:600;color:#fff;white-space:nowrap}"
    ".v.met,.b.met{background:#1a7f37}.v.partial,.b.partial"
    "{background:#bf8700}"
    ".v.notmet,.b.notmet{background:#cf222e}.v.error,.b.error"
    "{background:#6e40c9}"
    ".v.absent{background:#8c959f}"
    ".s{display:inline-block;min-width:44px;text-align:center;"
    "padding:0 6px;border-radius:4px;font-size:12px;font-weight:600}"
    ".s.pass{background:#dafbe1;color:#116329}"
    ".s.fail{background:#ffebe9;color:#a40e26}"
    ".s.warn{background:#fff8c5;color:#7d4e00}"
    ".s.error{background:#fbefff;color:#6e40c9}"
    ".s.na{background:#eaeef2;color:#59636e}"
    "details{background:#fff;border:1px solid #d0d7de;border-radius:6px;"
    "margin:6px 0;padding:0 10px}"
    "details details{margin-left:8px;background:#fbfcfd}"
    "summary{cursor:pointer;padding:6px 0;font-weight:600}"
    ".muted{color:#59636e;font-weight:400}"
    ".f{border-top:1px solid #eaeef2;padding:8px 0}"
    ".f .r{margin:2px 0}"
    ".f .m{color:#59636e;font-size:12px}"
    "table.ev{margin:6px 0;font-size:12px}"
    "table.ev th,table.ev td{padding:2px 6px}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;"
    "background:#fff;border:1px solid #d0d7de;border-radius:6px;"
    "padding:12px 16px;margin:0}"
    "dt{color:#59636e}dd{margin:0}"
    "table.trend{width:auto}"
    "table.trend td{text-align:center;padding:3px 6px}"
    "table.trend th{font-size:11px;font-weight:500;white-space:nowrap}"
    ".t{display:inline-block;width:22px;border-radius:3px;color:#fff;"
    "font-size:11px;font-weight:700}"
    ".t.met{background:#1a7f37}.t.partial{background:#bf8700}"
    ".t.notmet{background:#cf222e}.t.error{background:#6e40c9}"
    ".t.absent{background:#d0d7de;color:#59636e}"
    ".small{font-size:12px}"
    "footer{color:#59636e;font-size:12px;margin-top:32px}"
    "@media print{details{page-break-inside:avoid}body{background:#fff}}";

static void iso(FILE *out, time_t t)
{
	char s[32];
	ev_report_iso(t, s);
	fputs(s, out);
}

/* "2026-11-22T03:42:05Z" from a snapshot name, for display. */
static void name_time(FILE *out, const char *name)
{
	if (strlen(name) != EV_SNAPSHOT_NAME_LEN) {
		H(name);
		return;
	}
	fprintf(out, "%.4s-%.2s-%.2s %.2s:%.2s:%.2sZ", name, name + 4, name + 6,
		name + 9, name + 11, name + 13);
}

static void banner(const struct ev_report *r, FILE *out)
{
	const struct ev_report_verification *v = &r->verify;
	/* Signed but unreadable (a part this version cannot parse). */
	if (v->verified && r->snap->parts_unusable)
		fprintf(out,
			"<div class=\"banner warn\">&#9888; %zu account "
			"part%s could not be read and %s left out (see "
			"Coverage).</div>\n",
			r->snap->parts_unusable,
			r->snap->parts_unusable == 1 ? "" : "s",
			r->snap->parts_unusable == 1 ? "is" : "are");
	if (v->verified && v->trusted_key) {
		fputs("<div class=\"banner ok\" id=\"verification\">&#10004; "
		      "Signature verified by key <code>sha256:",
		      out);
		H(v->key_fingerprint);
		fputs("</code>; every part&#39;s SHA-256 matches the signed "
		      "manifest and the chain before it is intact.</div>\n",
		      out);
		return;
	}
	if (v->verified) {
		fputs("<div class=\"banner warn\" id=\"verification\">&#9888; "
		      "Signer not established: the signature was checked only "
		      "against the key the manifest carries (<code>sha256:",
		      out);
		H(v->key_fingerprint);
		fputs(
		    "</code>). The snapshot is intact as its signer left "
		    "it; render with <code>--key</code> and the partner&#39;s "
		    "public key to prove who signed it.</div>\n",
		    out);
		return;
	}
	fprintf(out,
		"<div class=\"banner bad\" id=\"verification\">&#10008; "
		"VERIFICATION FAILED: %zu problem%s. The evidence below may "
		"have been altered and must not be relied on.<ul>",
		v->problems, v->problems == 1 ? "" : "s");
	for (size_t i = 0; i < v->n_listed; i++) {
		fputs("<li><code>", out);
		H(v->listed[i].snapshot);
		fputs("</code> ", out);
		H(v->listed[i].problem);
		fputs(": ", out);
		H(v->listed[i].message);
		fputs("</li>", out);
	}
	if (r->snap->parts_unusable)
		fprintf(out,
			"<li>%zu account part%s did not match the manifest or "
			"could not be read and %s left out (see Coverage)</li>",
			r->snap->parts_unusable,
			r->snap->parts_unusable == 1 ? "" : "s",
			r->snap->parts_unusable == 1 ? "is" : "are");
	if (v->problems > v->n_listed)
		fprintf(out,
			"<li>and %zu more (run <code>evident verify</code>)"
			"</li>",
			v->problems - v->n_listed);
	fputs("</ul></div>\n", out);
}

static void identity(const struct ev_report *r, FILE *out)
{
	const struct ev_report_snapshot *s = r->snap;
	char buf[512];
	fputs("<h2 id=\"snapshot\">Snapshot</h2>\n<dl>", out);
	fputs("<dt>Snapshot</dt><dd><code>", out);
	H(s->name);
	fputs("</code></dd><dt>Collected</dt><dd>", out);
	iso(out, s->started_at);
	fputs(" &rarr; ", out);
	iso(out, s->finished_at);
	fputs("</dd><dt>Agent</dt><dd>evident ", out);
	H(s->agent_version);
	fputs("</dd><dt>Caller</dt><dd><code>", out);
	H(s->caller_arn);
	fputs("</code></dd><dt>Scope</dt><dd>", out);
	H(s->scope_source[0] ? s->scope_source : "unknown");
	fputs("; regions: ", out);
	H(s->scope_regions[0] ? s->scope_regions : "unknown");
	size_t collected = 0;
	for (size_t i = 0; i < s->n_accounts; i++)
		collected += s->accounts[i].collected;
	fprintf(out, "; %zu account%s collected, %zu skipped", collected,
		collected == 1 ? "" : "s", s->n_accounts - collected);
	fputs("</dd><dt>Manifest SHA-256</dt><dd><code>", out);
	H(s->manifest_sha256);
	fputs("</code></dd><dt>Previous</dt><dd>", out);
	if (s->has_previous) {
		fputs("<code>", out);
		H(s->previous);
		fputs("</code> (manifest SHA-256 <code>", out);
		H(s->previous_sha256);
		fputs("</code>)", out);
	} else {
		fputs("none: the first snapshot of its chain", out);
	}
	fputs("</dd><dt>Signature</dt><dd>", out);
	H(ev_report_verification_summary(r, buf, sizeof(buf)));
	fputs("</dd><dt>Control catalog</dt><dd>", out);
	H(s->catalog_source[0] ? s->catalog_source : "unknown");
	if (s->catalog_sha256[0]) {
		fputs(" (SHA-256 <code>", out);
		H(s->catalog_sha256);
		fputs("</code>)", out);
	}
	fputs("</dd></dl>\n", out);
}

static void programs(const struct ev_report_snapshot *s, FILE *out)
{
	static const enum ev_verdict order[] = {
	    EV_VERDICT_MET, EV_VERDICT_PARTIAL, EV_VERDICT_NOT_MET,
	    EV_VERDICT_ERROR};
	fputs("<h2 id=\"summary\">Summary by program</h2>\n<div "
	      "class=\"cards\">",
	      out);
	for (size_t p = 0; p < s->n_programs; p++) {
		const struct ev_report_program *g = &s->programs[p];
		size_t total = 0;
		for (int v = 0; v < EV_VERDICT_COUNT_; v++)
			total += g->counts[v];
		fputs("<div class=\"card\"><h3>", out);
		H(g->title[0] ? g->title : g->id);
		if (g->version[0]) {
			fputs(" v", out);
			H(g->version);
		}
		fprintf(out,
			"</h3><div class=\"muted\">%zu control%s</div>"
			"<div class=\"bar\">",
			total, total == 1 ? "" : "s");
		for (size_t i = 0; i < 4 && total; i++)
			if (g->counts[order[i]])
				fprintf(out,
					"<div class=\"b %s\" "
					"style=\"width:%.2f%%\"></div>",
					verdict_class(order[i]),
					100.0 * (double)g->counts[order[i]] /
					    (double)total);
		fputs("</div><div class=\"chips\">", out);
		for (size_t i = 0; i < 4; i++)
			fprintf(out,
				"<span><span class=\"v %s\">%s</span> %zu"
				"</span>",
				verdict_class(order[i]),
				ev_verdict_name(order[i]), g->counts[order[i]]);
		fputs("</div></div>", out);
	}
	if (!s->n_programs)
		fputs("<p class=\"muted\">The snapshot records no control "
		      "catalog.</p>",
		      out);
	fputs("</div>\n", out);
}

static void verdict_table(const struct ev_report_snapshot *s, FILE *out)
{
	fputs("<h2 id=\"controls\">Controls</h2>\n"
	      "<table id=\"verdicts\"><thead><tr><th>Control</th>"
	      "<th>Title</th><th>Verdict</th>",
	      out);
	for (int i = 0; i < EV_STATUS_COUNT_; i++)
		fprintf(out, "<th>%s</th>", status_label[i]);
	fputs("</tr></thead><tbody>\n", out);
	for (size_t c = 0; c < s->n_controls; c++) {
		const struct ev_report_control *x = &s->controls[c];
		fprintf(out, "<tr data-control=\"");
		H(x->id);
		fprintf(out, "\"><td><a href=\"#c%zu\"><code>", c);
		H(x->id);
		fputs("</code></a></td><td>", out);
		H(x->title);
		fprintf(out, "</td><td><span class=\"v %s\">%s</span></td>",
			verdict_class(x->verdict), ev_verdict_name(x->verdict));
		for (int i = 0; i < EV_STATUS_COUNT_; i++)
			fprintf(out, "<td class=\"n\">%zu</td>", x->counts[i]);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
}

static void first_seen(const struct ev_report_finding *f, FILE *out)
{
	switch (f->seen) {
	case EV_REPORT_SEEN_EXACT:
		iso(out, f->first_seen_at);
		break;
	case EV_REPORT_SEEN_CHAIN_START:
		iso(out, f->first_seen_at);
		fputs(" (chain start)", out);
		break;
	case EV_REPORT_SEEN_OR_EARLIER:
		iso(out, f->first_seen_at);
		fputs(" or earlier", out);
		break;
	default:
		fputs("&ndash;", out);
	}
}

static void control_ids(const struct ev_report_snapshot *s,
			const struct ev_report_finding *f, FILE *out)
{
	for (size_t i = 0; i < f->n_controls; i++) {
		if (i)
			fputs(", ", out);
		H(s->controls[f->controls[i]].id);
	}
}

static int open_cmp(const void *a, const void *b)
{
	const struct ev_report_finding *const *x = a, *const *y = b;
	if ((*x)->first_seen_at != (*y)->first_seen_at)
		return (*x)->first_seen_at < (*y)->first_seen_at ? -1 : 1;
	int c = strcmp((*x)->account_id, (*y)->account_id);
	if (!c)
		c = strcmp((*x)->region, (*y)->region);
	if (!c)
		c = strcmp((*x)->probe, (*y)->probe);
	if (!c)
		c = strcmp((*x)->resource, (*y)->resource);
	return c;
}

static enum ev_err open_findings(const struct ev_report_snapshot *s, FILE *out)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_findings; i++)
		n += ev_report_status_open(s->findings[i].status);
	fprintf(out, "<h2 id=\"open\">Open findings (%zu)</h2>\n", n);
	if (!n) {
		fputs("<p>No failing finding and no evidence missing.</p>\n",
		      out);
		return EV_OK;
	}
	const struct ev_report_finding **v = malloc(n * sizeof(*v));
	if (!v)
		return EV_E_NOMEM;
	n = 0;
	for (size_t i = 0; i < s->n_findings; i++)
		if (ev_report_status_open(s->findings[i].status))
			v[n++] = &s->findings[i];
	qsort(v, n, sizeof(*v), open_cmp);
	fputs("<p class=\"muted\">Oldest first. <em>First seen</em> is the "
	      "start of the earliest snapshot of the unbroken run of "
	      "snapshots in which the finding was open; <em>chain start</em>: "
	      "open since the first snapshot of the chain; <em>or "
	      "earlier</em>: the snapshots before are not available.</p>\n"
	      "<table id=\"open-findings\"><thead><tr><th>First seen</th>"
	      "<th>Status</th><th>Controls</th><th>Account</th>"
	      "<th>Region</th><th>Resource</th><th>Reason</th></tr></thead>"
	      "<tbody>\n",
	      out);
	for (size_t i = 0; i < n && i < HTML_MAX_OPEN; i++) {
		const struct ev_report_finding *f = v[i];
		fputs("<tr><td class=\"nw\">", out);
		first_seen(f, out);
		fprintf(out, "</td><td><span class=\"s %s\">%s</span></td><td>",
			status_class(f->status), ev_status_name(f->status));
		control_ids(s, f, out);
		fputs("</td><td><code class=\"nw\">", out);
		H(f->account_id);
		fputs("</code></td><td class=\"nw\">", out);
		H(f->region[0] ? f->region : "(account)");
		fputs("</td><td><code>", out);
		H(f->resource);
		fputs("</code></td><td>", out);
		H(f->reason);
		fputs("</td></tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
	if (n > HTML_MAX_OPEN)
		fprintf(out,
			"<p class=\"muted\">%zu more not shown: the CSV and "
			"JSON reports list every finding.</p>\n",
			n - HTML_MAX_OPEN);
	free(v);
	return EV_OK;
}

static void evidence(const struct ev_report_finding *f, FILE *out)
{
	if (!f->n_obs)
		return;
	fputs("<table class=\"ev\"><tr><th>Service</th><th>Action</th>"
	      "<th>Region</th><th>Time</th><th>HTTP</th>"
	      "<th>AWS request ID</th><th>Response SHA-256</th></tr>",
	      out);
	for (size_t i = 0; i < f->n_obs; i++) {
		const struct ev_report_obs *o = f->obs[i];
		fputs("<tr><td>", out);
		H(o->service);
		fputs("</td><td>", out);
		H(o->action);
		if (o->error_code[0]) {
			fputs(" <span class=\"s error\">", out);
			H(o->error_code);
			fputs("</span>", out);
		}
		fputs("</td><td class=\"nw\">", out);
		H(o->region);
		fputs("</td><td class=\"nw\">", out);
		H(o->time);
		fprintf(out, "</td><td class=\"n\">%ld</td><td><code>",
			o->http_status);
		H(o->request_id);
		fputs("</code></td><td><code>", out);
		H(o->sha256);
		fputs("</code></td></tr>", out);
	}
	fputs("</table>", out);
}

static void finding(const struct ev_report_finding *f, FILE *out)
{
	fprintf(out, "<div class=\"f\"><span class=\"s %s\">%s</span> <code>",
		status_class(f->status), ev_status_name(f->status));
	H(f->resource);
	fputs("</code><div class=\"r\">", out);
	H(f->reason);
	fputs("</div><div class=\"m\">probe <code>", out);
	H(f->probe);
	fputs("</code>", out);
	if (f->seen != EV_REPORT_SEEN_NONE) {
		fputs(" &middot; first seen ", out);
		first_seen(f, out);
	}
	if (f->error_code[0]) {
		fputs(" &middot; AWS error <code>", out);
		H(f->error_code);
		fputs("</code>", out);
	}
	if (f->request_id[0]) {
		fputs(" &middot; request ID <code>", out);
		H(f->request_id);
		fputs("</code>", out);
	}
	fputs("</div>", out);
	evidence(f, out);
	fputs("</div>\n", out);
}

/* Findings of one control, ordered account, region, open first. */
struct drill {
	const struct ev_report_snapshot *s;
	const struct ev_report_finding **v;
	size_t n;
};

static int status_rank(enum ev_status s)
{
	switch (s) {
	case EV_STATUS_FAIL:
		return 0;
	case EV_STATUS_ERROR:
		return 1;
	case EV_STATUS_WARN:
		return 2;
	case EV_STATUS_PASS:
		return 3;
	default:
		return 4;
	}
}

static int drill_cmp(const void *a, const void *b)
{
	const struct ev_report_finding *const *x = a, *const *y = b;
	if ((*x)->account != (*y)->account)
		return (*x)->account < (*y)->account ? -1 : 1;
	int c = strcmp((*x)->region, (*y)->region);
	if (c)
		return c;
	c = status_rank((*x)->status) - status_rank((*y)->status);
	if (c)
		return c;
	return strcmp((*x)->resource, (*y)->resource);
}

static void counts_text(const struct ev_report_finding *const *v, size_t n,
			FILE *out)
{
	size_t counts[EV_STATUS_COUNT_] = {0};
	for (size_t i = 0; i < n; i++)
		counts[v[i]->status]++;
	fputs("<span class=\"muted\">", out);
	bool first = true;
	for (int i = 0; i < EV_STATUS_COUNT_; i++)
		if (counts[i]) {
			fprintf(out, "%s%zu %s", first ? " &mdash; " : ", ",
				counts[i], ev_status_name((enum ev_status)i));
			first = false;
		}
	fputs("</span>", out);
}

static bool any_open(const struct ev_report_finding *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ev_report_status_open(v[i]->status))
			return true;
	return false;
}

static void drill_regions(const struct drill *d, size_t from, size_t to,
			  FILE *out)
{
	for (size_t i = from; i < to;) {
		size_t j = i;
		while (j < to && strcmp(d->v[j]->region, d->v[i]->region) == 0)
			j++;
		fprintf(out, "<details%s><summary>",
			any_open(d->v + i, j - i) ? " open" : "");
		H(d->v[i]->region[0] ? d->v[i]->region
				     : "account-wide (no region)");
		counts_text(d->v + i, j - i, out);
		fputs("</summary>\n", out);
		for (size_t k = i; k < j; k++)
			finding(d->v[k], out);
		fputs("</details>\n", out);
		i = j;
	}
}

static enum ev_err drill_control(const struct ev_report_snapshot *s, size_t c,
				 FILE *out)
{
	const struct ev_report_control *x = &s->controls[c];
	fprintf(out, "<details id=\"c%zu\"><summary><code>", c);
	H(x->id);
	fputs("</code> ", out);
	H(x->title);
	fprintf(out, " <span class=\"v %s\">%s</span></summary>\n",
		verdict_class(x->verdict), ev_verdict_name(x->verdict));
	if (x->n_reasons) {
		fputs("<ul>", out);
		for (size_t i = 0; i < x->n_reasons; i++) {
			fputs("<li>", out);
			H(x->reasons[i]);
			fputs("</li>", out);
		}
		fputs("</ul>\n", out);
	}
	if (x->documents_required) {
		fprintf(out, "<p>Documents required (%zu attached): ",
			x->documents_attached);
		H(x->documents);
		fputs("</p>\n", out);
	}
	struct drill d = {.s = s};
	for (size_t i = 0; i < s->n_findings; i++)
		for (size_t k = 0; k < s->findings[i].n_controls; k++)
			d.n += s->findings[i].controls[k] == c;
	if (!d.n) {
		fputs("<p class=\"muted\">No finding.</p></details>\n", out);
		return EV_OK;
	}
	d.v = malloc(d.n * sizeof(*d.v));
	if (!d.v)
		return EV_E_NOMEM;
	d.n = 0;
	for (size_t i = 0; i < s->n_findings; i++)
		for (size_t k = 0; k < s->findings[i].n_controls; k++)
			if (s->findings[i].controls[k] == c)
				d.v[d.n++] = &s->findings[i];
	qsort(d.v, d.n, sizeof(*d.v), drill_cmp);
	size_t shown = d.n < HTML_MAX_PER_CONTROL ? d.n : HTML_MAX_PER_CONTROL;
	for (size_t i = 0; i < shown;) {
		size_t j = i;
		while (j < shown && d.v[j]->account == d.v[i]->account)
			j++;
		const struct ev_report_account *a =
		    &s->accounts[d.v[i]->account];
		fprintf(out, "<details%s><summary>Account <code>",
			any_open(d.v + i, j - i) ? " open" : "");
		H(a->id);
		fputs("</code>", out);
		if (a->name[0]) {
			fputs(" ", out);
			H(a->name);
		}
		counts_text(d.v + i, j - i, out);
		fputs("</summary>\n", out);
		drill_regions(&d, i, j, out);
		fputs("</details>\n", out);
		i = j;
	}
	if (d.n > shown)
		fprintf(out,
			"<p class=\"muted\">%zu more findings not shown: the "
			"CSV and JSON reports list every finding.</p>\n",
			d.n - shown);
	free(d.v);
	fputs("</details>\n", out);
	return EV_OK;
}

static void trend(const struct ev_report *r, FILE *out)
{
	const struct ev_report_snapshot *s = r->snap;
	const struct ev_report_trend *t = &r->trend;
	fputs("<h2 id=\"trend\">Trend over the chain</h2>\n", out);
	if (t->n < 2) {
		fputs("<p class=\"muted\">Only this snapshot: the trend shows "
		      "once the snapshot directory holds the snapshots before "
		      "it (",
		      out);
		H(r->history_end);
		fputs(").</p>\n", out);
		return;
	}
	fprintf(out,
		"<p class=\"muted\">Verdicts of the last %zu snapshots of the "
		"chain, oldest first (M met, P partial, N not met, E error). "
		"Walk back ended: ",
		t->n);
	H(r->history_end);
	fputs(".</p>\n<table class=\"trend\"><thead><tr><th>Control</th>", out);
	for (size_t i = 0; i < t->n; i++) {
		fputs("<th title=\"", out);
		H(t->names[i]);
		fputs("\">", out);
		const char *n = t->names[i];
		/* MM-DD HH:MM:SS: the date of a snapshot at a glance. */
		if (strlen(n) == EV_SNAPSHOT_NAME_LEN)
			fprintf(out, "%.2s-%.2s<br>%.2s:%.2s:%.2s", n + 4,
				n + 6, n + 9, n + 11, n + 13);
		else
			H(n);
		fputs("</th>", out);
	}
	fputs("</tr></thead><tbody>\n", out);
	static const char letter[EV_VERDICT_COUNT_ + 1] = {
	    [EV_VERDICT_MET] = 'M',	[EV_VERDICT_NOT_MET] = 'N',
	    [EV_VERDICT_PARTIAL] = 'P', [EV_VERDICT_ERROR] = 'E',
	    [EV_VERDICT_COUNT_] = '-',
	};
	for (size_t c = 0; c < s->n_controls; c++) {
		fputs("<tr><th><code>", out);
		H(s->controls[c].id);
		fputs("</code></th>", out);
		for (size_t i = 0; i < t->n; i++) {
			enum ev_verdict v = t->verdicts[i * s->n_controls + c];
			if ((int)v < 0 || v > EV_VERDICT_COUNT_)
				v = EV_VERDICT_COUNT_;
			fprintf(out,
				"<td><span class=\"t %s\" title=\"%s\">%c"
				"</span></td>",
				verdict_class(v),
				v == EV_VERDICT_COUNT_ ? "not in this snapshot"
						       : ev_verdict_name(v),
				letter[v]);
		}
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table>\n", out);
}

static void coverage(const struct ev_report_snapshot *s, FILE *out)
{
	fputs("<h2 id=\"coverage\">Coverage</h2>\n<table><thead><tr>"
	      "<th>Account</th><th>Name</th><th>Collection</th>"
	      "<th>Regions examined</th><th>Regions skipped</th>"
	      "<th>Findings</th></tr></thead><tbody>\n",
	      out);
	for (size_t i = 0; i < s->n_accounts; i++) {
		const struct ev_report_account *a = &s->accounts[i];
		fputs("<tr><td><code class=\"nw\">", out);
		H(a->id);
		fputs("</code></td><td>", out);
		H(a->name);
		fputs("</td><td>", out);
		if (a->problem[0]) {
			fputs("<span class=\"s fail\">unusable</span> ", out);
			H(a->problem);
		} else if (a->collected) {
			fputs("collected", out);
		} else {
			fputs("skipped: ", out);
			H(a->skip_reason);
		}
		fputs("</td><td class=\"small\">", out);
		for (size_t k = 0; k < a->n_regions; k++) {
			if (k)
				fputs(", ", out);
			H(a->regions[k]);
		}
		fprintf(out,
			"</td><td class=\"n\">%zu</td><td class=\"n\">%zu"
			"</td></tr>\n",
			a->n_regions_skipped, a->n_findings);
	}
	fputs("</tbody></table>\n", out);
}

enum ev_err ev_report_write_html(const struct ev_report *r, FILE *out,
				 struct ev_error *err)
{
	const struct ev_report_snapshot *s = r->snap;
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
	      "charset=\"utf-8\">\n<meta name=\"viewport\" "
	      "content=\"width=device-width, initial-scale=1\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" "
	      "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	      "<title>evident report ",
	      out);
	H(s->name);
	fprintf(out, "</title>\n<style>%s</style>\n</head><body><main>\n", css);
	fputs("<h1>Compliance evidence report</h1>\n<p class=\"sub\">Snapshot "
	      "<code>",
	      out);
	H(s->name);
	fputs("</code> &middot; collected ", out);
	name_time(out, s->name);
	if (s->caller_account[0]) {
		fputs(" &middot; from account <code>", out);
		H(s->caller_account);
		fputs("</code>", out);
	}
	fputs(" &middot; <a href=\"#snapshot\">snapshot details</a></p>\n",
	      out);
	banner(r, out);
	programs(s, out);
	verdict_table(s, out);
	enum ev_err rc = open_findings(s, out);
	if (rc == EV_OK) {
		fputs("<h2 id=\"evidence\">Evidence by control</h2>\n<p "
		      "class=\"muted\">Each control opens to its accounts, "
		      "regions and findings; each finding lists the API calls "
		      "it rests on. The AWS request IDs can be looked up in "
		      "the account&#39;s own CloudTrail; the response SHA-256 "
		      "identifies the answer kept in the snapshot.</p>\n",
		      out);
		for (size_t c = 0; c < s->n_controls && rc == EV_OK; c++)
			rc = drill_control(s, c, out);
	}
	if (rc != EV_OK)
		return ev_error_set(err, rc, "out of memory");
	trend(r, out);
	coverage(s, out);
	identity(r, out);
	fputs("<footer>Rendered by evident " EV_VERSION " from snapshot ", out);
	H(s->name);
	fputs(" (manifest SHA-256 ", out);
	H(s->manifest_sha256);
	fputs("). Verify the snapshot itself with <code>evident verify"
	      "</code>.</footer>\n</main></body></html>\n",
	      out);
	if (fflush(out) != 0 || ferror(out))
		return ev_error_set(err, EV_E_IO, "write error");
	return EV_OK;
}
