/* The Markdown report, for tickets: the verdict table, then each control
 * short of met with the findings that keep it there. Text from the
 * snapshot goes through ev_report_md_escape. */
#include "report.h"

#include <stdbool.h>
#include <string.h>

/* Findings listed per control in a ticket; the rest are counted. */
#define MD_MAX_PER_CONTROL 200

void ev_report_md_escape(FILE *out, const char *s)
{
	/* A leading "-", "+" or "12." would start a list inside the cell
	 * or item. */
	size_t digits = strspn(s, "0123456789");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if (c < 0x20 || c == 0x7f) {
			fputc(' ', out);
			continue;
		}
		size_t at = (size_t)(p - (const unsigned char *)s);
		bool lead = (at == 0 && (c == '-' || c == '+')) ||
			    (digits && at == digits && (c == '.' || c == ')'));
		/* CommonMark lets any ASCII punctuation be escaped; these
		 * make emphasis, code, links, raw HTML, entities, headings,
		 * strikethrough, table cells. */
		if (lead || strchr("\\`*_[]<>#|~&", c))
			fputc('\\', out);
		fputc(c, out);
	}
}

#define M(s) ev_report_md_escape(out, (s))

static void first_seen(const struct ev_report_finding *f, FILE *out)
{
	char iso[32];
	if (f->seen == EV_REPORT_SEEN_NONE) {
		fputs("-", out);
		return;
	}
	ev_report_iso(f->first_seen_at, iso);
	fputs(iso, out);
	if (f->seen == EV_REPORT_SEEN_CHAIN_START)
		fputs(" (first snapshot)", out);
	else if (f->seen == EV_REPORT_SEEN_OR_EARLIER)
		fputs(" or earlier", out);
}

enum ev_err ev_report_write_md(const struct ev_report *r, FILE *out,
			       struct ev_error *err)
{
	const struct ev_report_snapshot *s = r->snap;
	char buf[512], iso[32];
	fputs("# Compliance evidence: snapshot ", out);
	M(s->name);
	fputs("\n\n", out);
	if (!r->verify.verified)
		fputs("> **WARNING: this snapshot did not verify. The evidence "
		      "may have been altered.**\n> ",
		      out);
	else
		fputs("> ", out);
	M(ev_report_verification_summary(r, buf, sizeof(buf)));
	fputs("\n\n", out);
	if (s->parts_unusable)
		fprintf(out,
			"> **%zu account part%s could not be used and %s left "
			"out.**\n\n",
			s->parts_unusable, s->parts_unusable == 1 ? "" : "s",
			s->parts_unusable == 1 ? "is" : "are");
	ev_report_iso(s->started_at, iso);
	fprintf(out, "- Collected: %s", iso);
	ev_report_iso(s->finished_at, iso);
	fprintf(out, " to %s by evident ", iso);
	M(s->agent_version);
	fputs("\n- Caller: ", out);
	M(s->caller_arn[0] ? s->caller_arn : "unknown");
	fputs("\n- Scope: ", out);
	M(s->scope_source[0] ? s->scope_source : "unknown");
	fputs(", regions ", out);
	M(s->scope_regions[0] ? s->scope_regions : "unknown");
	fputs("\n- Manifest SHA-256: ", out);
	M(s->manifest_sha256);
	fputs("\n\n## Summary\n\n", out);

	fputs("| Program | Met | Partial | Not met | Error |\n"
	      "|---|---:|---:|---:|---:|\n",
	      out);
	for (size_t p = 0; p < s->n_programs; p++) {
		const struct ev_report_program *g = &s->programs[p];
		fputs("| ", out);
		M(g->title[0] ? g->title : g->id);
		if (g->version[0]) {
			fputs(" v", out);
			M(g->version);
		}
		fprintf(
		    out, " | %zu | %zu | %zu | %zu |\n",
		    g->counts[EV_VERDICT_MET], g->counts[EV_VERDICT_PARTIAL],
		    g->counts[EV_VERDICT_NOT_MET], g->counts[EV_VERDICT_ERROR]);
	}
	fputs("\n| Control | Title | Verdict | Pass | Fail | Warn | Error | "
	      "N/A |\n|---|---|---|---:|---:|---:|---:|---:|\n",
	      out);
	for (size_t c = 0; c < s->n_controls; c++) {
		const struct ev_report_control *x = &s->controls[c];
		fputs("| ", out);
		M(x->id);
		fputs(" | ", out);
		M(x->title);
		fprintf(out, " | %s%s%s |",
			x->verdict == EV_VERDICT_MET ? "" : "**",
			ev_verdict_name(x->verdict),
			x->verdict == EV_VERDICT_MET ? "" : "**");
		for (int i = 0; i < EV_STATUS_COUNT_; i++)
			fprintf(out, " %zu |", x->counts[i]);
		fputs("\n", out);
	}

	bool any = false;
	for (size_t c = 0; c < s->n_controls; c++) {
		const struct ev_report_control *x = &s->controls[c];
		if (x->verdict == EV_VERDICT_MET)
			continue;
		if (!any)
			fputs("\n## Controls not met\n", out);
		any = true;
		fputs("\n### ", out);
		M(x->id);
		fputs(": ", out);
		M(x->title);
		fprintf(out, " (%s)\n\n", ev_verdict_name(x->verdict));
		for (size_t i = 0; i < x->n_reasons; i++) {
			fputs("- ", out);
			M(x->reasons[i]);
			fputs("\n", out);
		}
		size_t listed = 0, open = 0;
		for (size_t i = 0; i < s->n_findings; i++) {
			const struct ev_report_finding *f = &s->findings[i];
			bool mine = false;
			for (size_t k = 0; k < f->n_controls; k++)
				mine |= f->controls[k] == c;
			if (!mine || !ev_report_status_open(f->status))
				continue;
			if (open++ == 0)
				fputs("\n| Status | Account | Region | "
				      "Resource | Reason | First seen |\n"
				      "|---|---|---|---|---|---|\n",
				      out);
			if (listed == MD_MAX_PER_CONTROL)
				continue;
			listed++;
			fprintf(out, "| %s | ", ev_status_name(f->status));
			M(f->account_id);
			fputs(" | ", out);
			M(f->region[0] ? f->region : "-");
			fputs(" | ", out);
			M(f->resource);
			fputs(" | ", out);
			M(f->reason);
			fputs(" | ", out);
			first_seen(f, out);
			fputs(" |\n", out);
		}
		if (open > listed)
			fprintf(out,
				"\n%zu more not listed (see the CSV "
				"report).\n",
				open - listed);
	}
	if (!any)
		fputs("\nEvery control is met.\n", out);
	if (fflush(out) != 0 || ferror(out))
		return ev_error_set(err, EV_E_IO, "write error");
	return EV_OK;
}
