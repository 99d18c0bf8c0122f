/* The CSV report: one finding per row, for spreadsheets. RFC 4180 (CRLF
 * line ends, quoted fields), and no cell a spreadsheet would run as a
 * formula: the text came from AWS. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

void ev_report_csv_field(FILE *out, const char *s)
{
	/* OWASP's list: a cell starting with one of these is a formula to
	 * Excel, LibreOffice or Google Sheets. */
	bool formula = s[0] && strchr("=+-@\t\r", s[0]) != NULL;
	bool quote = false;
	for (const char *p = s; *p && !quote; p++)
		quote = *p == ',' || *p == '"' || *p == '\r' || *p == '\n';
	if (quote)
		fputc('"', out);
	if (formula)
		fputc('\'', out);
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			fputc('"', out);
		fputc(*p, out);
	}
	if (quote)
		fputc('"', out);
}

static const char *const columns[] = {
    "snapshot", "account", "region",	 "probe",      "controls",   "status",
    "resource", "reason",  "error_code", "request_id", "first_seen",
};

enum ev_err ev_report_write_csv(const struct ev_report *r, FILE *out,
				struct ev_error *err)
{
	const struct ev_report_snapshot *s = r->snap;
	for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++)
		fprintf(out, "%s%s", i ? "," : "", columns[i]);
	fputs("\r\n", out);
	for (size_t i = 0; i < s->n_findings; i++) {
		const struct ev_report_finding *f = &s->findings[i];
		ev_report_csv_field(out, s->name);
		fputc(',', out);
		ev_report_csv_field(out, f->account_id);
		fputc(',', out);
		ev_report_csv_field(out, f->region);
		fputc(',', out);
		ev_report_csv_field(out, f->probe);
		fputc(',', out);
		/* Control ids joined by spaces: ids hold none. */
		size_t len = 1;
		for (size_t k = 0; k < f->n_controls; k++)
			len += strlen(s->controls[f->controls[k]].id) + 1;
		char *ids = malloc(len);
		if (!ids)
			return ev_error_set(err, EV_E_NOMEM, "out of memory");
		size_t at = 0;
		ids[0] = '\0';
		for (size_t k = 0; k < f->n_controls; k++)
			at += (size_t)snprintf(ids + at, len - at, "%s%s",
					       k ? " " : "",
					       s->controls[f->controls[k]].id);
		ev_report_csv_field(out, ids);
		free(ids);
		fputc(',', out);
		ev_report_csv_field(out, ev_status_name(f->status));
		fputc(',', out);
		ev_report_csv_field(out, f->resource);
		fputc(',', out);
		ev_report_csv_field(out, f->reason);
		fputc(',', out);
		ev_report_csv_field(out, f->error_code);
		fputc(',', out);
		ev_report_csv_field(out, f->request_id);
		fputc(',', out);
		char iso[32] = "";
		if (f->seen != EV_REPORT_SEEN_NONE)
			ev_report_iso(f->first_seen_at, iso);
		ev_report_csv_field(out, iso);
		fputs("\r\n", out);
	}
	if (fflush(out) != 0 || ferror(out))
		return ev_error_set(err, EV_E_IO, "write error");
	return EV_OK;
}
