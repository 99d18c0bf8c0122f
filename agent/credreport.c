#include "credreport.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounds.h"
#include "buf.h"
#include "digest.h"
#include "timefmt.h"
#include "xml.h"

/* ---- the CSV parser ------------------------------------------------------ */

enum col_kind { COL_USER, COL_ARN, COL_BOOL, COL_TIME };

struct column {
	const char *name;
	enum col_kind kind;
	size_t off; /* of the cell in struct ev_credreport_row */
};

#define ROW_AT(member) offsetof(struct ev_credreport_row, member)

/* The columns the probes read; the others are counted, not kept. */
static const struct column columns[] = {
    {"user", COL_USER, 0},
    {"arn", COL_ARN, 0},
    {"user_creation_time", COL_TIME, ROW_AT(user_creation_time)},
    {"password_enabled", COL_BOOL, ROW_AT(password_enabled)},
    {"password_last_used", COL_TIME, ROW_AT(password_last_used)},
    {"password_last_changed", COL_TIME, ROW_AT(password_last_changed)},
    {"mfa_active", COL_BOOL, ROW_AT(mfa_active)},
    {"access_key_1_active", COL_BOOL, ROW_AT(keys[0].active)},
    {"access_key_1_last_rotated", COL_TIME, ROW_AT(keys[0].last_rotated)},
    {"access_key_1_last_used_date", COL_TIME, ROW_AT(keys[0].last_used)},
    {"access_key_2_active", COL_BOOL, ROW_AT(keys[1].active)},
    {"access_key_2_last_rotated", COL_TIME, ROW_AT(keys[1].last_rotated)},
    {"access_key_2_last_used_date", COL_TIME, ROW_AT(keys[1].last_used)},
    {"cert_1_active", COL_BOOL, ROW_AT(certs[0].active)},
    {"cert_1_last_rotated", COL_TIME, ROW_AT(certs[0].last_rotated)},
    {"cert_2_active", COL_BOOL, ROW_AT(certs[1].active)},
    {"cert_2_last_rotated", COL_TIME, ROW_AT(certs[1].last_rotated)},
};

#define N_COLUMNS (sizeof(columns) / sizeof(columns[0]))

#define ROOT_USER "<root_account>"

struct csv {
	const char *p;
	size_t len, pos;
	size_t row;	    /* of the record being read; the header is 1 */
	struct ev_buf text; /* the record's fields, each NUL-terminated */
	size_t field_len;   /* of the field being read */
	size_t start[EV_CREDREPORT_MAX_FIELDS];
	size_t n; /* fields in the record */
};

static const char *csv_field(const struct csv *c, size_t i)
{
	return c->text.data + c->start[i];
}

static enum ev_err csv_put(struct csv *c, const char *s, size_t n,
			   struct ev_error *err)
{
	c->field_len += n;
	EV_ENSURE_E(err, c->field_len <= EV_CREDREPORT_MAX_FIELD, EV_E_LIMIT,
		    "credential report row %zu: field %zu longer than %d "
		    "bytes",
		    c->row, c->n, EV_CREDREPORT_MAX_FIELD);
	enum ev_err rc = ev_buf_append(&c->text, s, n);
	if (rc != EV_OK)
		return ev_error_set(err, rc, "credential report row %zu: %s",
				    c->row, ev_err_name(rc));
	return EV_OK;
}

/* A quoted field: "" is a quote, anything else (commas, line breaks) is
 * text up to the closing quote. */
static enum ev_err csv_quoted(struct csv *c, struct ev_error *err)
{
	c->pos++;
	for (;;) {
		const char *from = c->p + c->pos;
		const char *q = memchr(from, '"', c->len - c->pos);
		EV_ENSURE_E(err, q, EV_E_MALFORMED,
			    "credential report row %zu: unterminated quote",
			    c->row);
		size_t n = (size_t)(q - from);
		EV_ENSURE_E(err, !memchr(from, '\0', n), EV_E_MALFORMED,
			    "credential report row %zu: NUL byte", c->row);
		EV_TRY(csv_put(c, from, n, err));
		c->pos += n + 1;
		if (c->pos < c->len && c->p[c->pos] == '"') {
			EV_TRY(csv_put(c, "\"", 1, err));
			c->pos++;
			continue;
		}
		return EV_OK;
	}
}

static enum ev_err csv_unquoted(struct csv *c, struct ev_error *err)
{
	size_t from = c->pos;
	while (c->pos < c->len) {
		char ch = c->p[c->pos];
		if (ch == ',' || ch == '\n' || ch == '\r')
			break;
		/* RFC 4180: a quote only opens a field. */
		EV_ENSURE_E(err, ch != '"' && ch != '\0', EV_E_MALFORMED,
			    "credential report row %zu: %s in an unquoted "
			    "field",
			    c->row, ch == '"' ? "quote" : "NUL byte");
		c->pos++;
	}
	return csv_put(c, c->p + from, c->pos - from, err);
}

/* Reads one record (the caller checked that input remains). */
static enum ev_err csv_record(struct csv *c, struct ev_error *err)
{
	ev_buf_reset(&c->text);
	c->n = 0;
	for (;;) {
		EV_ENSURE_E(err, c->n < EV_CREDREPORT_MAX_FIELDS, EV_E_LIMIT,
			    "credential report row %zu: more than %d fields",
			    c->row, EV_CREDREPORT_MAX_FIELDS);
		c->start[c->n++] = c->text.len;
		c->field_len = 0;
		if (c->pos < c->len && c->p[c->pos] == '"')
			EV_TRY(csv_quoted(c, err));
		else
			EV_TRY(csv_unquoted(c, err));
		enum ev_err rc = ev_buf_append_char(&c->text, '\0');
		if (rc != EV_OK)
			return ev_error_set(err, rc,
					    "credential report row %zu: %s",
					    c->row, ev_err_name(rc));
		if (c->pos == c->len)
			return EV_OK;
		char ch = c->p[c->pos];
		if (ch == ',') {
			c->pos++;
			continue;
		}
		if (ch == '\n') {
			c->pos++;
			return EV_OK;
		}
		if (ch == '\r' && c->pos + 1 < c->len &&
		    c->p[c->pos + 1] == '\n') {
			c->pos += 2;
			return EV_OK;
		}
		return ev_error_set(err, EV_E_MALFORMED,
				    "credential report row %zu: stray byte "
				    "after field %zu",
				    c->row, c->n);
	}
}

/* The words AWS writes instead of a value. */
static bool cell_word(const char *s, enum ev_credreport_state *st)
{
	if (strcasecmp(s, "N/A") == 0)
		*st = EV_CR_NONE;
	else if (strcasecmp(s, "not_supported") == 0)
		*st = EV_CR_UNKNOWN;
	else if (strcasecmp(s, "no_information") == 0)
		*st = EV_CR_NO_INFO;
	else
		return false;
	return true;
}

static enum ev_err cell_bool(const char *s, struct ev_credreport_bool *out)
{
	if (cell_word(s, &out->state))
		return EV_OK;
	out->state = EV_CR_VALUE;
	if (strcasecmp(s, "true") == 0)
		out->value = true;
	else if (strcasecmp(s, "false") == 0)
		out->value = false;
	else
		return EV_E_MALFORMED;
	return EV_OK;
}

static enum ev_err cell_time(const char *s, struct ev_credreport_time *out)
{
	if (cell_word(s, &out->state))
		return EV_OK;
	out->state = EV_CR_VALUE;
	return ev_time_parse_iso8601(s, &out->value);
}

static void row_cleanup(struct ev_credreport_row *row)
{
	free(row->user);
	free(row->arn);
	memset(row, 0, sizeof(*row));
}

static enum ev_err row_fill(const struct csv *c, const int *col_at,
			    struct ev_credreport_row *row, struct ev_error *err)
{
	for (size_t k = 0; k < N_COLUMNS; k++) {
		if (col_at[k] < 0)
			continue;
		const char *s = csv_field(c, (size_t)col_at[k]);
		char *cell = (char *)row + columns[k].off;
		enum ev_err rc = EV_OK;
		switch (columns[k].kind) {
		case COL_USER:
			row->user = ev_strdup(s);
			rc = row->user ? EV_OK : EV_E_NOMEM;
			break;
		case COL_ARN:
			row->arn = ev_strdup(s);
			rc = row->arn ? EV_OK : EV_E_NOMEM;
			break;
		case COL_BOOL:
			rc = cell_bool(s, (struct ev_credreport_bool *)cell);
			break;
		case COL_TIME:
			rc = cell_time(s, (struct ev_credreport_time *)cell);
			break;
		default:
			rc = EV_E_INTERNAL;
			break;
		}
		if (rc == EV_E_NOMEM)
			return ev_error_set(err, rc, "credential report: %s",
					    ev_err_name(rc));
		if (rc != EV_OK)
			return ev_error_set(err, EV_E_MALFORMED,
					    "credential report row %zu, column "
					    "%s: unexpected value",
					    c->row, columns[k].name);
	}
	EV_ENSURE_E(err, row->user[0] && row->arn[0], EV_E_MALFORMED,
		    "credential report row %zu: empty user or arn", c->row);
	row->is_root = strcmp(row->user, ROOT_USER) == 0;
	return EV_OK;
}

/* Maps the known columns to their position in the header. */
static enum ev_err header_map(const struct csv *c, int *col_at,
			      struct ev_error *err)
{
	for (size_t k = 0; k < N_COLUMNS; k++)
		col_at[k] = -1;
	for (size_t i = 0; i < c->n; i++) {
		const char *name = csv_field(c, i);
		for (size_t k = 0; k < N_COLUMNS; k++) {
			if (strcmp(name, columns[k].name) != 0)
				continue;
			EV_ENSURE_E(err, col_at[k] < 0, EV_E_MALFORMED,
				    "credential report header: column %s "
				    "twice",
				    columns[k].name);
			col_at[k] = (int)i;
		}
	}
	EV_ENSURE_E(err, col_at[0] >= 0 && col_at[1] >= 0, EV_E_MALFORMED,
		    "credential report header: no user or arn column");
	return EV_OK;
}

static enum ev_err rows_grow(struct ev_credreport *r, size_t *cap,
			     struct ev_error *err)
{
	if (r->n_rows < *cap)
		return EV_OK;
	size_t ncap = *cap ? *cap * 2 : 16;
	if (ncap > EV_CREDREPORT_MAX_ROWS)
		ncap = EV_CREDREPORT_MAX_ROWS;
	EV_ENSURE_E(err, r->n_rows < ncap, EV_E_LIMIT,
		    "credential report: more than %d rows",
		    EV_CREDREPORT_MAX_ROWS);
	struct ev_credreport_row *n = realloc(r->rows, ncap * sizeof(*n));
	EV_ENSURE_E(err, n, EV_E_NOMEM, "credential report: out of memory");
	r->rows = n;
	*cap = ncap;
	return EV_OK;
}

static enum ev_err parse_into(struct csv *c, struct ev_credreport *r,
			      struct ev_error *err)
{
	/* A byte-order mark is not part of the first column's name. */
	if (c->len >= 3 && memcmp(c->p, "\xEF\xBB\xBF", 3) == 0)
		c->pos = 3;
	EV_ENSURE_E(err, c->pos < c->len, EV_E_MALFORMED,
		    "credential report: empty");
	c->row = 1;
	EV_TRY(csv_record(c, err));
	int col_at[N_COLUMNS];
	EV_TRY(header_map(c, col_at, err));
	size_t n_fields = c->n;
	size_t cap = 0;
	size_t root_at = 0;
	bool have_root = false;
	while (c->pos < c->len) {
		c->row++;
		EV_ENSURE_E(err, c->row - 1 <= EV_CREDREPORT_MAX_ROWS,
			    EV_E_LIMIT, "credential report: more than %d rows",
			    EV_CREDREPORT_MAX_ROWS);
		EV_TRY(csv_record(c, err));
		EV_ENSURE_E(err, c->n == n_fields, EV_E_MALFORMED,
			    "credential report row %zu: %zu fields, the "
			    "header has %zu",
			    c->row, c->n, n_fields);
		EV_TRY(rows_grow(r, &cap, err));
		struct ev_credreport_row *row = &r->rows[r->n_rows];
		memset(row, 0, sizeof(*row));
		r->n_rows++; /* counted first: cleanup frees a half row */
		EV_TRY(row_fill(c, col_at, row, err));
		if (row->is_root) {
			EV_ENSURE_E(err, !have_root, EV_E_MALFORMED,
				    "credential report row %zu: a second "
				    "root row",
				    c->row);
			have_root = true;
			root_at = r->n_rows - 1;
		}
	}
	r->root = have_root ? &r->rows[root_at] : NULL;
	return EV_OK;
}

static void report_rows_free(struct ev_credreport *r)
{
	for (size_t i = 0; i < r->n_rows; i++)
		row_cleanup(&r->rows[i]);
	free(r->rows);
	r->rows = NULL;
	r->n_rows = 0;
	r->root = NULL;
}

enum ev_err ev_credreport_parse(const char *csv, size_t len,
				struct ev_credreport **out,
				struct ev_error *err)
{
	*out = NULL;
	struct ev_credreport *r = calloc(1, sizeof(*r));
	EV_ENSURE_E(err, r, EV_E_NOMEM, "credential report: out of memory");
	struct csv c = {.p = csv, .len = len};
	ev_buf_init(&c.text,
		    EV_CREDREPORT_MAX_FIELDS * (EV_CREDREPORT_MAX_FIELD + 1));
	enum ev_err rc = parse_into(&c, r, err);
	ev_buf_cleanup(&c.text);
	if (rc != EV_OK) {
		ev_credreport_free(r);
		return rc;
	}
	*out = r;
	return EV_OK;
}

void ev_credreport_free(struct ev_credreport *r)
{
	if (!r)
		return;
	report_rows_free(r);
	if (r->fetch_lock_ready)
		pthread_mutex_destroy(&r->fetch_lock);
	free(r);
}

/* ---- details helpers ----------------------------------------------------- */

static const char *state_word(enum ev_credreport_state s)
{
	switch (s) {
	case EV_CR_NONE:
		return "N/A";
	case EV_CR_NO_INFO:
		return "no_information";
	case EV_CR_UNKNOWN:
	case EV_CR_VALUE:
	default:
		return "not_supported";
	}
}

json_t *ev_credreport_time_json(const struct ev_credreport_time *t)
{
	if (t->state != EV_CR_VALUE)
		return json_string(state_word(t->state));
	char iso[EV_ISO8601_LEN + 1];
	ev_time_format_iso8601(t->value, iso);
	return json_string(iso);
}

json_t *ev_credreport_bool_json(const struct ev_credreport_bool *b)
{
	if (b->state != EV_CR_VALUE)
		return json_string(state_word(b->state));
	return json_boolean(b->value);
}

json_t *ev_credreport_freshness(const struct ev_credreport *r, time_t now)
{
	char iso[EV_ISO8601_LEN + 1];
	ev_time_format_iso8601(r->generated_time, iso);
	/* The report may be stamped a moment after our clock reads. */
	json_int_t age =
	    r->generated_time < now ? (json_int_t)(now - r->generated_time) : 0;
	return json_pack("{s:s, s:I}", "generated_time", iso, "age_seconds",
			 age);
}

/* ---- fetching ------------------------------------------------------------ */

static void wait_ms(struct ev_account_state *s, long ms)
{
	if (s->sleep_ms) {
		s->sleep_ms(s->sleep_arg, ms);
		return;
	}
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

struct poll {
	long waited, next;
	/* the calls to cite */
	unsigned first_gen, last_gen, last_get;
	bool have_gen, have_get;
};

/* Pauses before the next poll, or says the bound is spent. */
static enum ev_err poll_wait(struct ev_account_state *s, struct poll *p,
			     struct ev_error *err)
{
	long left = EV_CREDREPORT_POLL_TOTAL_MS - p->waited;
	if (left <= 0)
		return ev_error_set(err, EV_E_LIMIT,
				    "credential report not ready after %d s",
				    EV_CREDREPORT_POLL_TOTAL_MS / 1000);
	long ms = p->next < left ? p->next : left;
	wait_ms(s, ms);
	p->waited += ms;
	p->next = p->next * 2 > EV_CREDREPORT_POLL_MAX_MS
		      ? EV_CREDREPORT_POLL_MAX_MS
		      : p->next * 2;
	return EV_OK;
}

/* What to do after a Generate or Get. */
enum step { STEP_DONE, STEP_WAIT, STEP_REGENERATE };

static bool code_is(const struct ev_error *e, const char *code)
{
	return strcmp(e->aws_code, code) == 0;
}

static enum ev_err generate_once(struct ev_probe_ctx *ctx, struct poll *p,
				 enum step *step, struct ev_error *err)
{
	struct ev_aws_call call = {
	    .service = EV_SVC_IAM,
	    .action = "GenerateCredentialReport",
	    .region = "us-east-1",
	};
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	unsigned id = 0;
	enum ev_err rc = ev_probe_call(ctx, &call, &resp, &id, err);
	if (!p->have_gen)
		p->first_gen = id;
	p->last_gen = id;
	p->have_gen = true;
	if (rc != EV_OK) {
		/* The aws layer has retried throttling already; a busy
		 * report service is waited for like a report in progress. */
		if (rc == EV_E_THROTTLED || code_is(err, "LimitExceeded")) {
			*step = STEP_WAIT;
			rc = EV_OK;
		}
		ev_aws_response_cleanup(&resp);
		return rc;
	}
	const char *state = ev_xml_path_text(
	    ev_aws_response_result(&resp, call.action), "State");
	if (state && strcmp(state, "COMPLETE") == 0) {
		*step = STEP_DONE;
	} else if (state && (strcmp(state, "STARTED") == 0 ||
			     strcmp(state, "INPROGRESS") == 0)) {
		*step = STEP_WAIT;
	} else {
		ev_error_clear(err);
		rc = ev_error_set(err, EV_E_MALFORMED,
				  "GenerateCredentialReport: %s State",
				  state ? "unknown" : "no");
		memcpy(err->request_id, resp.request_id,
		       sizeof(err->request_id));
	}
	ev_aws_response_cleanup(&resp);
	return rc;
}

/* Decodes and parses a GetCredentialReport answer into r. */
static enum ev_err report_read(const struct ev_aws_response *resp,
			       struct ev_credreport *r, struct ev_error *err)
{
	const struct ev_xml_node *res =
	    ev_aws_response_result(resp, "GetCredentialReport");
	const char *format = ev_xml_path_text(res, "ReportFormat");
	EV_ENSURE_E(err, !format || strcmp(format, "text/csv") == 0,
		    EV_E_MALFORMED,
		    "credential report: format is not text/csv");
	const char *generated = ev_xml_path_text(res, "GeneratedTime");
	EV_ENSURE_E(err, generated, EV_E_MALFORMED,
		    "credential report: no GeneratedTime");
	time_t when = 0;
	EV_ENSURE_E(err, ev_time_parse_iso8601(generated, &when) == EV_OK,
		    EV_E_MALFORMED, "credential report: bad GeneratedTime");
	const struct ev_xml_node *content = ev_xml_path(res, "Content");
	EV_ENSURE_E(err, content, EV_E_MALFORMED,
		    "credential report: no Content");
	struct ev_buf csv;
	ev_buf_init(&csv, EV_LIMIT_HTTP_BODY);
	enum ev_err rc =
	    ev_base64_decode(content->text, content->text_len, &csv);
	if (rc != EV_OK) {
		ev_buf_cleanup(&csv);
		return ev_error_set(err, rc, "credential report: %s base64",
				    rc == EV_E_MALFORMED ? "bad"
							 : ev_err_name(rc));
	}
	struct ev_credreport *parsed = NULL;
	rc = ev_credreport_parse(csv.data ? csv.data : "", csv.len, &parsed,
				 err);
	ev_buf_cleanup(&csv);
	EV_TRY(rc);
	/* The shared object keeps its lock: only the rows move over. */
	r->rows = parsed->rows;
	r->n_rows = parsed->n_rows;
	r->root = parsed->root;
	r->generated_time = when;
	parsed->rows = NULL;
	parsed->n_rows = 0;
	parsed->root = NULL;
	ev_credreport_free(parsed);
	return EV_OK;
}

static enum ev_err get_once(struct ev_probe_ctx *ctx, struct poll *p,
			    struct ev_credreport *r, enum step *step,
			    struct ev_error *err)
{
	struct ev_aws_call call = {
	    .service = EV_SVC_IAM,
	    .action = "GetCredentialReport",
	    .region = "us-east-1",
	};
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	unsigned id = 0;
	enum ev_err rc = ev_probe_call(ctx, &call, &resp, &id, err);
	p->last_get = id;
	p->have_get = true;
	if (rc != EV_OK) {
		/* ReportInProgress comes as a 404 the aws layer classes
		 * with throttling; either way, wait. */
		if (code_is(err, "ReportInProgress") || rc == EV_E_THROTTLED) {
			*step = STEP_WAIT;
			rc = EV_OK;
		} else if (code_is(err, "ReportNotPresent") ||
			   code_is(err, "ReportExpired")) {
			*step = STEP_REGENERATE;
		}
		ev_aws_response_cleanup(&resp);
		return rc;
	}
	*step = STEP_DONE;
	rc = report_read(&resp, r, err);
	if (rc != EV_OK) {
		memset(err->aws_code, 0, sizeof(err->aws_code));
		memcpy(err->request_id, resp.request_id,
		       sizeof(err->request_id));
	}
	ev_aws_response_cleanup(&resp);
	return rc;
}

/* The whole exchange; r receives the rows. */
static enum ev_err fetch(struct ev_probe_ctx *ctx, struct ev_credreport *r,
			 struct poll *p, struct ev_error *err)
{
	bool generating = true;
	int regenerated = 0;
	for (;;) {
		enum step step = STEP_DONE;
		enum ev_err rc = generating ? generate_once(ctx, p, &step, err)
					    : get_once(ctx, p, r, &step, err);
		if (rc != EV_OK && step != STEP_REGENERATE)
			return rc;
		switch (step) {
		case STEP_DONE:
			if (!generating)
				return EV_OK;
			generating = false;
			break;
		case STEP_WAIT:
			EV_TRY(poll_wait(ctx->state, p, err));
			break;
		case STEP_REGENERATE:
			/* Once: a report that vanishes twice is an answer
			 * to report, not to chase. */
			if (regenerated++ > 0)
				return rc;
			generating = true;
			break;
		default:
			return ev_error_set(err, EV_E_INTERNAL,
					    "credential report: bad step");
		}
	}
}

static void poll_obs(const struct poll *p, unsigned *obs, size_t *n)
{
	*n = 0;
	if (p->have_gen) {
		obs[(*n)++] = p->first_gen;
		if (p->last_gen != p->first_gen)
			obs[(*n)++] = p->last_gen;
	}
	if (p->have_get)
		obs[(*n)++] = p->last_get;
}

static struct ev_credreport *shared_new(void)
{
	struct ev_credreport *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (pthread_mutex_init(&r->fetch_lock, NULL) != 0) {
		free(r);
		return NULL;
	}
	r->fetch_lock_ready = true;
	return r;
}

enum ev_err ev_credreport_get(struct ev_probe_ctx *ctx,
			      const struct ev_credreport **out,
			      unsigned obs[EV_CREDREPORT_MAX_OBS],
			      size_t *n_obs, struct ev_error *err)
{
	*out = NULL;
	*n_obs = 0;
	struct ev_account_state *s = ctx->state;
	EV_ENSURE_E(err, s, EV_E_INTERNAL, "credential report: no state");

	pthread_mutex_lock(&s->lock);
	if (!s->credreport)
		s->credreport = shared_new();
	struct ev_credreport *r = s->credreport;
	pthread_mutex_unlock(&s->lock);
	EV_ENSURE_E(err, r, EV_E_NOMEM, "credential report: out of memory");

	/* The first caller fetches while the others wait here, not on the
	 * state's lock, which other shared facts use. */
	pthread_mutex_lock(&r->fetch_lock);
	if (!s->credreport_done) {
		struct poll p = {.next = EV_CREDREPORT_POLL_FIRST_MS};
		struct ev_error e;
		ev_error_clear(&e);
		enum ev_err rc = fetch(ctx, r, &p, &e);
		if (rc == EV_OK)
			ev_error_clear(&e);
		else
			e.code = rc;
		if (rc != EV_OK)
			report_rows_free(r);
		pthread_mutex_lock(&s->lock);
		s->credreport_err = e;
		poll_obs(&p, s->credreport_obs, &s->credreport_n_obs);
		s->credreport_done = true;
		pthread_mutex_unlock(&s->lock);
	}
	enum ev_err rc = s->credreport_err.code;
	if (err)
		*err = s->credreport_err;
	memcpy(obs, s->credreport_obs,
	       s->credreport_n_obs * sizeof(s->credreport_obs[0]));
	*n_obs = s->credreport_n_obs;
	pthread_mutex_unlock(&r->fetch_lock);
	if (rc == EV_OK)
		*out = r;
	return rc;
}

void ev_credreport_state_cleanup(struct ev_account_state *s)
{
	if (!s)
		return;
	ev_credreport_free(s->credreport);
	s->credreport = NULL;
	s->credreport_done = false;
	ev_error_clear(&s->credreport_err);
	memset(s->credreport_obs, 0, sizeof(s->credreport_obs));
	s->credreport_n_obs = 0;
}

/* ---- the account summary ------------------------------------------------- */

static enum ev_err summary_read(const struct ev_aws_response *resp,
				struct ev_credreport_summary *out,
				struct ev_error *err)
{
	const struct ev_xml_node *map = ev_xml_path(
	    ev_aws_response_result(resp, "GetAccountSummary"), "SummaryMap");
	EV_ENSURE_E(err, map, EV_E_MALFORMED,
		    "GetAccountSummary: no SummaryMap");
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
	    {"AccountMFAEnabled",
	     offsetof(struct ev_credreport_summary, mfa_enabled)},
	    {"AccountAccessKeysPresent",
	     offsetof(struct ev_credreport_summary, access_keys_present)},
	    {"AccountPasswordPresent",
	     offsetof(struct ev_credreport_summary, password_present)},
	    {"AccountSigningCertificatesPresent",
	     offsetof(struct ev_credreport_summary, signing_certs_present)},
	    {"MFADevicesInUse",
	     offsetof(struct ev_credreport_summary, mfa_devices_in_use)},
	};
	for (const struct ev_xml_node *e = ev_xml_child(map, "entry"); e;
	     e = ev_xml_next_same(e)) {
		const char *key = ev_xml_path_text(e, "key");
		const char *value = ev_xml_path_text(e, "value");
		if (!key)
			continue;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (strcmp(key, keys[i].key) != 0)
				continue;
			char *end = NULL;
			errno = 0;
			long v = value ? strtol(value, &end, 10) : 0;
			EV_ENSURE_E(err,
				    value && *value && end && *end == '\0' &&
					errno == 0 && v >= 0,
				    EV_E_MALFORMED,
				    "GetAccountSummary: %s is not a count",
				    keys[i].key);
			*(long *)((char *)out + keys[i].off) = v;
		}
	}
	return EV_OK;
}

enum ev_err ev_credreport_summary_get(struct ev_probe_ctx *ctx,
				      struct ev_credreport_summary *out,
				      unsigned *obs_id, struct ev_error *err)
{
	out->mfa_enabled = -1;
	out->access_keys_present = -1;
	out->password_present = -1;
	out->signing_certs_present = -1;
	out->mfa_devices_in_use = -1;
	struct ev_aws_call call = {
	    .service = EV_SVC_IAM,
	    .action = "GetAccountSummary",
	    .region = "us-east-1",
	};
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	struct ev_error e;
	ev_error_clear(&e);
	enum ev_err rc = ev_probe_call(ctx, &call, &resp, obs_id, &e);
	if (rc == EV_OK) {
		rc = summary_read(&resp, out, &e);
		if (rc != EV_OK)
			memcpy(e.request_id, resp.request_id,
			       sizeof(e.request_id));
	}
	ev_aws_response_cleanup(&resp);
	if (rc != EV_OK && err)
		*err = e;
	return rc;
}

enum ev_err ev_credreport_root(struct ev_probe_ctx *ctx,
			       struct ev_credreport_summary *sum,
			       const struct ev_credreport **rep,
			       struct ev_obs_list *o, const char **what,
			       struct ev_error *err)
{
	unsigned id = 0;
	*what = "GetAccountSummary";
	enum ev_err rc = ev_credreport_summary_get(ctx, sum, &id, err);
	ev_obs_list_add(o, &id, 1);
	if (rc != EV_OK)
		return rc;
	unsigned rep_obs[EV_CREDREPORT_MAX_OBS];
	size_t n_rep = 0;
	*what = "credential report";
	rc = ev_credreport_get(ctx, rep, rep_obs, &n_rep, err);
	ev_obs_list_add(o, rep_obs,
			n_rep < EV_CREDREPORT_MAX_OBS ? n_rep
						      : EV_CREDREPORT_MAX_OBS);
	if (rc != EV_OK)
		return rc;
	if (!(*rep)->root)
		return ev_error_set(err, EV_E_MALFORMED,
				    "the credential report has no root row");
	return EV_OK;
}
