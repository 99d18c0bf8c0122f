/* The credential report: the CSV parser (quotes, line endings, columns by
 * name, every refusal with its ev_err), the fetch (poll states, retried
 * codes, the bound on waiting, sharing among the probes of one account)
 * and the account summary. Recorded responses come from the simulator's
 * demo-org and single-account scenarios (tests/unit/data/iam/). */
#include "probe_door.h"

#include <pthread.h>

#include "credreport.h"
#include "digest.h"
#include "timefmt.h"

#define HEADER                                                                 \
	"user,arn,user_creation_time,password_enabled,password_last_used,"     \
	"password_last_changed,password_next_rotation,mfa_active,"             \
	"access_key_1_active,access_key_1_last_rotated,"                       \
	"access_key_1_last_used_date,access_key_1_last_used_region,"           \
	"access_key_1_last_used_service,access_key_2_active,"                  \
	"access_key_2_last_rotated,access_key_2_last_used_date,"               \
	"access_key_2_last_used_region,access_key_2_last_used_service,"        \
	"cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

#define ROOT_ROW                                                               \
	"<root_account>,arn:aws:iam::111122223333:root,"                       \
	"2019-12-19T10:00:00+00:00,not_supported,2025-02-01T08:00:00+00:00,"   \
	"not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,"    \
	"N/A,N/A,N/A,false,N/A,false,N/A"

#define ALICE_ROW                                                              \
	"alice,arn:aws:iam::111122223333:user/alice,"                          \
	"2021-05-04T10:11:12+00:00,true,no_information,"                       \
	"2021-05-04T10:20:00+00:00,N/A,false,true,2023-01-10T09:00:00+00:00,"  \
	"2025-02-28T17:42:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,true,"   \
	"2024-06-01T00:00:00+00:00,false,N/A"

#define ACCOUNT "111122223333"
#define NOW	1740823200 /* 2025-03-01T10:00:00Z, the door's clock */

static time_t iso(const char *s)
{
	time_t t = 0;
	assert_int_equal(ev_time_parse_iso8601(s, &t), EV_OK);
	return t;
}

static struct ev_credreport *parse_ok(const char *csv)
{
	struct ev_credreport *r = NULL;
	struct ev_error err;
	ev_error_clear(&err);
	enum ev_err rc = ev_credreport_parse(csv, strlen(csv), &r, &err);
	if (rc != EV_OK)
		fail_msg("parse: %s: %s", ev_err_name(rc), err.message);
	assert_non_null(r);
	return r;
}

/* ---- parsing ---------------------------------------------------------------
 */

static void parses_the_documented_report(void **state)
{
	(void)state;
	struct ev_credreport *r =
	    parse_ok(HEADER "\n" ROOT_ROW "\n" ALICE_ROW "\n");
	assert_int_equal(r->n_rows, 2);
	assert_ptr_equal(r->root, &r->rows[0]);
	const struct ev_credreport_row *root = &r->rows[0];
	assert_true(root->is_root);
	assert_string_equal(root->arn, "arn:aws:iam::111122223333:root");
	assert_int_equal(root->password_enabled.state, EV_CR_UNKNOWN);
	assert_int_equal(root->password_last_used.state, EV_CR_VALUE);
	assert_int_equal(root->password_last_used.value,
			 iso("2025-02-01T08:00:00Z"));
	assert_int_equal(root->password_last_changed.state, EV_CR_UNKNOWN);
	assert_int_equal(root->mfa_active.state, EV_CR_VALUE);
	assert_true(root->mfa_active.value);
	assert_int_equal(root->keys[0].last_rotated.state, EV_CR_NONE);

	const struct ev_credreport_row *a = &r->rows[1];
	assert_false(a->is_root);
	assert_string_equal(a->user, "alice");
	assert_true(a->password_enabled.value);
	assert_int_equal(a->password_last_used.state, EV_CR_NO_INFO);
	assert_int_equal(a->mfa_active.state, EV_CR_VALUE);
	assert_false(a->mfa_active.value);
	assert_true(a->keys[0].active.value);
	assert_int_equal(a->keys[0].last_rotated.value,
			 iso("2023-01-10T09:00:00Z"));
	assert_int_equal(a->keys[0].last_used.value,
			 iso("2025-02-28T17:42:00Z"));
	assert_int_equal(a->keys[1].active.state, EV_CR_VALUE);
	assert_false(a->keys[1].active.value);
	assert_int_equal(a->keys[1].last_used.state, EV_CR_NONE);
	assert_true(a->certs[0].active.value);
	assert_int_equal(a->certs[0].last_rotated.value,
			 iso("2024-06-01T00:00:00Z"));
	assert_int_equal(r->generated_time, 0);
	ev_credreport_free(r);
}

static void quotes_line_endings_and_case(void **state)
{
	(void)state;
	/* A user name with a comma and a quote, CRLF endings, upper-case
	 * booleans, no final line break. */
	const char *csv =
	    HEADER "\r\n"
		   "\"we,ird\"\"name\",\"arn:aws:iam::111122223333:user/"
		   "we,ird\"\"name\",2021-05-04T10:11:12+00:00,FALSE,N/A,N/A,"
		   "N/A,TRUE,False,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,"
		   "N/A,false,N/A\r\n" ALICE_ROW;
	struct ev_credreport *r = parse_ok(csv);
	assert_int_equal(r->n_rows, 2);
	assert_null(r->root);
	assert_string_equal(r->rows[0].user, "we,ird\"name");
	assert_string_equal(r->rows[0].arn,
			    "arn:aws:iam::111122223333:user/we,ird\"name");
	assert_false(r->rows[0].password_enabled.value);
	assert_int_equal(r->rows[0].password_enabled.state, EV_CR_VALUE);
	assert_true(r->rows[0].mfa_active.value);
	assert_string_equal(r->rows[1].user, "alice");
	ev_credreport_free(r);

	/* A quoted field may hold a line break; an empty quoted field is
	 * empty. */
	r = parse_ok("user,arn,extra\n\"a\nb\",arn:x,\"\"\n");
	assert_string_equal(r->rows[0].user, "a\nb");
	ev_credreport_free(r);
}

static void columns_by_name(void **state)
{
	(void)state;
	/* Reordered, an unknown column, mfa_active missing: mapped by
	 * name, the missing one unknown. */
	struct ev_credreport *r =
	    parse_ok("arn,future_column,user,password_enabled\n"
		     "arn:aws:iam::111122223333:user/bob,whatever,bob,true\n");
	assert_string_equal(r->rows[0].user, "bob");
	assert_string_equal(r->rows[0].arn,
			    "arn:aws:iam::111122223333:user/bob");
	assert_true(r->rows[0].password_enabled.value);
	assert_int_equal(r->rows[0].mfa_active.state, EV_CR_UNKNOWN);
	assert_int_equal(r->rows[0].keys[0].active.state, EV_CR_UNKNOWN);
	ev_credreport_free(r);

	/* A header alone is a report of no rows; a byte-order mark is
	 * not part of the first name. */
	r = parse_ok("\xEF\xBB\xBF" HEADER "\n");
	assert_int_equal(r->n_rows, 0);
	assert_null(r->root);
	ev_credreport_free(r);
}

struct bad_case {
	const char *name;
	const char *csv;
	enum ev_err code;
	const char *message_part;
};

static void refusals(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
	    {"empty", "", EV_E_MALFORMED, "empty"},
	    {"short row", HEADER "\n" ROOT_ROW "\nalice,arn:x\n",
	     EV_E_MALFORMED, "row 3: 2 fields, the header has 22"},
	    {"long row", HEADER "\n" ROOT_ROW ",extra\n", EV_E_MALFORMED,
	     "row 2: 23 fields"},
	    {"blank line inside", HEADER "\n\n" ROOT_ROW "\n", EV_E_MALFORMED,
	     "row 2: 1 fields"},
	    {"unterminated quote", "user,arn\n\"alice,arn:x\n", EV_E_MALFORMED,
	     "row 2: unterminated quote"},
	    {"quote inside a field", "user,arn\nal\"ice,arn:x\n",
	     EV_E_MALFORMED, "row 2: quote in an unquoted field"},
	    {"text after a closing quote", "user,arn\n\"al\"ice,arn:x\n",
	     EV_E_MALFORMED, "row 2: stray byte"},
	    {"bare carriage return", "user,arn\nalice\r,arn:x\n",
	     EV_E_MALFORMED, "row 2: stray byte"},
	    {"unknown boolean", "user,arn,mfa_active\nalice,arn:x,yes\n",
	     EV_E_MALFORMED, "row 2, column mfa_active"},
	    {"bad date",
	     "user,arn,password_last_used\nalice,arn:x,2025-02-30T00:00:00+"
	     "00:00\n",
	     EV_E_MALFORMED, "row 2, column password_last_used"},
	    {"no arn column", "user,mfa_active\nalice,true\n", EV_E_MALFORMED,
	     "no user or arn column"},
	    {"repeated column", "user,arn,user\na,b,c\n", EV_E_MALFORMED,
	     "column user twice"},
	    {"empty user", "user,arn\n,arn:x\n", EV_E_MALFORMED,
	     "row 2: empty user or arn"},
	    {"two root rows", "user,arn\n<root_account>,a\n<root_account>,b\n",
	     EV_E_MALFORMED, "row 3: a second root row"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ev_credreport *r = (struct ev_credreport *)1;
		struct ev_error err;
		ev_error_clear(&err);
		enum ev_err rc = ev_credreport_parse(
		    cases[i].csv, strlen(cases[i].csv), &r, &err);
		if (rc != cases[i].code ||
		    !strstr(err.message, cases[i].message_part))
			fail_msg("%s: got %s \"%s\"", cases[i].name,
				 ev_err_name(rc), err.message);
		assert_null(r);
	}
	/* A NUL byte, which strlen-based cases cannot carry. */
	static const char nul[] = "user,arn\nal\0ice,arn:x\n";
	struct ev_credreport *r = NULL;
	struct ev_error err;
	assert_int_equal(ev_credreport_parse(nul, sizeof(nul) - 1, &r, &err),
			 EV_E_MALFORMED);
	assert_non_null(strstr(err.message, "NUL byte"));
	static const char qnul[] = "user,arn\n\"al\0ice\",arn:x\n";
	assert_int_equal(ev_credreport_parse(qnul, sizeof(qnul) - 1, &r, &err),
			 EV_E_MALFORMED);
}

static void bounds(void **state)
{
	(void)state;
	struct ev_buf b;
	struct ev_credreport *r = NULL;
	struct ev_error err;

	/* A field one byte too long. */
	ev_buf_init(&b, 1u << 20);
	assert_int_equal(ev_buf_append_str(&b, "user,arn\nalice,"), EV_OK);
	for (int i = 0; i <= EV_CREDREPORT_MAX_FIELD; i++)
		assert_int_equal(ev_buf_append_char(&b, 'a'), EV_OK);
	assert_int_equal(ev_credreport_parse(b.data, b.len, &r, &err),
			 EV_E_LIMIT);
	assert_non_null(strstr(err.message, "row 2: field 2 longer"));
	ev_buf_cleanup(&b);

	/* Exactly the maximum is fine. */
	ev_buf_init(&b, 1u << 20);
	assert_int_equal(ev_buf_append_str(&b, "user,arn\nalice,"), EV_OK);
	for (int i = 0; i < EV_CREDREPORT_MAX_FIELD; i++)
		assert_int_equal(ev_buf_append_char(&b, 'a'), EV_OK);
	assert_int_equal(ev_credreport_parse(b.data, b.len, &r, &err), EV_OK);
	assert_int_equal(strlen(r->rows[0].arn), EV_CREDREPORT_MAX_FIELD);
	ev_credreport_free(r);
	ev_buf_cleanup(&b);

	/* Too many fields in a row. */
	ev_buf_init(&b, 1u << 20);
	assert_int_equal(ev_buf_append_str(&b, "user,arn"), EV_OK);
	for (int i = 2; i <= EV_CREDREPORT_MAX_FIELDS; i++)
		assert_int_equal(ev_buf_printf(&b, ",c%d", i), EV_OK);
	assert_int_equal(ev_credreport_parse(b.data, b.len, &r, &err),
			 EV_E_LIMIT);
	assert_non_null(strstr(err.message, "row 1: more than"));
	ev_buf_cleanup(&b);

	/* Too many rows. */
	ev_buf_init(&b, 16u << 20);
	assert_int_equal(ev_buf_append_str(&b, "user,arn\n"), EV_OK);
	for (int i = 0; i <= EV_CREDREPORT_MAX_ROWS; i++)
		assert_int_equal(ev_buf_printf(&b, "u%d,a%d\n", i, i), EV_OK);
	assert_int_equal(ev_credreport_parse(b.data, b.len, &r, &err),
			 EV_E_LIMIT);
	assert_non_null(strstr(err.message, "more than 20000 rows"));
	assert_null(r);
	ev_buf_cleanup(&b);
}

/* ---- fetching
 * ---------------------------------------------------------------- */

/* The probe door answers each action the same way every time; the poll
 * needs answers in sequence. A seq_door serves its steps in order (each
 * `times` requests) before falling back to the door's table. */
struct step {
	const char *action;
	long status;
	const char *body; /* "@file" or text */
	int times;	  /* requests answered; 0 counts as 1 */
};

struct seq_door {
	struct test_door door; /* first: the transport casts back */
	const struct step *steps;
	size_t n_steps, at;
	int used;
	long slept[64];
	size_t n_sleeps;
	long slept_total;
};

static enum ev_err seq_perform(struct ev_http *h,
			       const struct ev_http_request *req,
			       struct ev_http_response *resp,
			       struct ev_error *err)
{
	struct seq_door *s = (struct seq_door *)h;
	char action[512];
	door_action(req, action, sizeof(action));
	if (s->at >= s->n_steps || strcmp(s->steps[s->at].action, action) != 0)
		return door_perform(h, req, resp, err);
	const struct step *st = &s->steps[s->at];
	int times = st->times ? st->times : 1;
	if (++s->used >= times) {
		s->at++;
		s->used = 0;
	}
	struct test_door *d = &s->door;
	assert_true(d->n_calls < DOOR_MAX_CALLS);
	snprintf(d->calls[d->n_calls].action,
		 sizeof(d->calls[d->n_calls].action), "%.63s", action);
	d->n_calls++;
	resp->status = st->status;
	char *file = NULL;
	const char *text = st->body;
	if (text[0] == '@')
		text = file = door_read_file(text + 1);
	assert_int_equal(ev_buf_append_str(&resp->body, text), EV_OK);
	free(file);
	return EV_OK;
}

static void seq_sleep(void *arg, long ms)
{
	struct seq_door *s = arg;
	assert_true(s->n_sleeps < 64);
	s->slept[s->n_sleeps++] = ms;
	s->slept_total += ms;
}

static void seq_init(struct seq_door *s, const struct step *steps,
		     size_t n_steps, const struct door_reply *replies,
		     size_t n_replies)
{
	memset(s, 0, sizeof(*s));
	test_door_init(&s->door, ACCOUNT, NULL, replies, n_replies);
	s->door.http.perform = seq_perform;
	s->door.state.sleep_ms = seq_sleep;
	s->door.state.sleep_arg = s;
	s->steps = steps;
	s->n_steps = n_steps;
}

static void seq_cleanup(struct seq_door *s)
{
	test_door_cleanup(&s->door, ev_credreport_state_cleanup);
}

/* A GetCredentialReport answer carrying csv. */
static char *report_xml(const char *csv, const char *generated, const char *rid)
{
	struct ev_buf b64, x;
	ev_buf_init(&b64, 1u << 20);
	ev_buf_init(&x, 2u << 20);
	assert_int_equal(ev_base64_encode(csv, strlen(csv), &b64), EV_OK);
	assert_int_equal(
	    ev_buf_printf(
		&x,
		"<GetCredentialReportResponse "
		"xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
		"<GetCredentialReportResult><Content>%s</Content>"
		"<ReportFormat>text/csv</ReportFormat>%s%s%s"
		"</GetCredentialReportResult><ResponseMetadata><RequestId>%s"
		"</RequestId></ResponseMetadata>"
		"</GetCredentialReportResponse>",
		ev_buf_str(&b64), generated ? "<GeneratedTime>" : "",
		generated ? generated : "", generated ? "</GeneratedTime>" : "",
		rid),
	    EV_OK);
	ev_buf_cleanup(&b64);
	return ev_buf_take(&x);
}

static const struct ev_credreport *get_ok(struct test_door *d,
					  size_t expect_obs)
{
	const struct ev_credreport *r = NULL;
	unsigned obs[EV_CREDREPORT_MAX_OBS];
	size_t n_obs = 99;
	struct ev_error err;
	ev_error_clear(&err);
	enum ev_err rc = ev_credreport_get(&d->ctx, &r, obs, &n_obs, &err);
	if (rc != EV_OK)
		fail_msg("get: %s: %s", ev_err_name(rc), err.message);
	assert_non_null(r);
	assert_int_equal(n_obs, expect_obs);
	for (size_t i = 0; i < n_obs; i++)
		assert_true(obs[i] < d->next_id);
	return r;
}

static void generates_polls_and_reads(void **state)
{
	(void)state;
	static const struct step steps[] = {
	    {"GenerateCredentialReport", 200, "@iam/generate_started.xml", 0},
	    {"GenerateCredentialReport", 200, "@iam/generate_inprogress.xml",
	     2},
	    {"GenerateCredentialReport", 200, "@iam/generate_complete.xml", 0},
	    {"GetCredentialReport", 200, "@iam/report_single.xml", 0},
	};
	struct seq_door s;
	seq_init(&s, steps, 4, NULL, 0);
	/* first Generate, last Generate, the Get */
	const struct ev_credreport *r = get_ok(&s.door, 3);
	assert_int_equal(door_calls(&s.door, "GenerateCredentialReport"), 4);
	assert_int_equal(door_calls(&s.door, "GetCredentialReport"), 1);
	/* Three pauses, doubling from one second. */
	assert_int_equal(s.n_sleeps, 3);
	assert_int_equal(s.slept[0], 1000);
	assert_int_equal(s.slept[1], 2000);
	assert_int_equal(s.slept[2], 4000);
	assert_int_equal(r->generated_time, iso("2025-03-01T10:00:06Z"));
	assert_int_equal(r->n_rows, 6);
	assert_non_null(r->root);
	assert_string_equal(r->rows[2].user, "bob");
	assert_int_equal(s.door.state.credreport_obs[0], 0);
	assert_int_equal(s.door.state.credreport_obs[1], 3);
	assert_int_equal(s.door.state.credreport_obs[2], 4);

	/* The second probe to ask receives the same report, no new call. */
	const struct ev_credreport *again = get_ok(&s.door, 3);
	assert_ptr_equal(again, r);
	assert_int_equal(s.door.n_calls, 5);

	/* After cleanup the state fetches again. */
	ev_credreport_state_cleanup(&s.door.state);
	assert_null(s.door.state.credreport);
	assert_false(s.door.state.credreport_done);
	static const struct door_reply replies[] = {
	    {"GenerateCredentialReport", NULL, 200,
	     "@iam/generate_complete.xml", NULL},
	    {"GetCredentialReport", NULL, 200, "@iam/report_single.xml", NULL},
	};
	s.door.replies = replies;
	s.door.n_replies = 2;
	get_ok(&s.door, 2);
	assert_int_equal(s.door.n_calls, 7);
	seq_cleanup(&s);
}

static void report_in_progress_then_complete(void **state)
{
	(void)state;
	/* Generate says COMPLETE, the Get still answers ReportInProgress
	 * (404) three times, then the report. */
	static const struct step steps[] = {
	    {"GenerateCredentialReport", 200, "@iam/generate_complete.xml", 0},
	    {"GetCredentialReport", 404, "@iam/get_report_inprogress.xml", 3},
	    {"GetCredentialReport", 200, "@iam/report_management.xml", 0},
	};
	struct seq_door s;
	seq_init(&s, steps, 3, NULL, 0);
	const struct ev_credreport *r = get_ok(&s.door, 2);
	assert_int_equal(door_calls(&s.door, "GetCredentialReport"), 4);
	/* A pause per answer unless the aws layer's own retries absorbed
	 * some of them. */
	assert_true(s.n_sleeps >= 1 && s.n_sleeps <= 3);
	assert_int_equal(s.slept[0], 1000);
	assert_int_equal(r->n_rows, 3);
	assert_string_equal(r->rows[1].user, "evident");
	seq_cleanup(&s);
}

static void limit_exceeded_is_waited_for(void **state)
{
	(void)state;
	static const struct step steps[] = {
	    {"GenerateCredentialReport", 409,
	     "<ErrorResponse><Error><Type>Sender</Type><Code>LimitExceeded"
	     "</Code><Message>Too many requests</Message></Error><RequestId>"
	     "rid-limit</RequestId></ErrorResponse>",
	     0},
	    {"GenerateCredentialReport", 200, "@iam/generate_complete.xml", 0},
	    {"GetCredentialReport", 200, "@iam/report_management.xml", 0},
	};
	struct seq_door s;
	seq_init(&s, steps, 3, NULL, 0);
	get_ok(&s.door, 3);
	assert_int_equal(s.n_sleeps, 1);
	seq_cleanup(&s);
}

static void never_ready_is_bounded(void **state)
{
	(void)state;
	static const struct door_reply replies[] = {
	    {"GenerateCredentialReport", NULL, 200,
	     "@iam/generate_inprogress.xml", NULL},
	};
	struct seq_door s;
	seq_init(&s, NULL, 0, replies, 1);
	const struct ev_credreport *r = (const struct ev_credreport *)1;
	unsigned obs[EV_CREDREPORT_MAX_OBS];
	size_t n_obs = 0;
	struct ev_error err;
	assert_int_equal(ev_credreport_get(&s.door.ctx, &r, obs, &n_obs, &err),
			 EV_E_LIMIT);
	assert_null(r);
	assert_non_null(strstr(err.message, "not ready after 60 s"));
	/* 1+2+4+8+8+8+8+8+8 = 55 s, then the 5 s left. */
	assert_int_equal(s.slept_total, EV_CREDREPORT_POLL_TOTAL_MS);
	assert_int_equal(s.n_sleeps, 10);
	assert_int_equal(s.slept[3], EV_CREDREPORT_POLL_MAX_MS);
	assert_int_equal(s.slept[9], 5000);
	assert_int_equal(door_calls(&s.door, "GenerateCredentialReport"), 11);
	assert_int_equal(n_obs, 2);
	seq_cleanup(&s);
}

static void report_not_present(void **state)
{
	(void)state;
	/* The report vanishes after COMPLETE: generated once more, then
	 * the answer is reported, not chased. */
	static const struct door_reply replies[] = {
	    {"GenerateCredentialReport", NULL, 200,
	     "@iam/generate_complete.xml", NULL},
	    {"GetCredentialReport", NULL, 410, "@iam/get_report_notpresent.xml",
	     NULL},
	};
	struct seq_door s;
	seq_init(&s, NULL, 0, replies, 2);
	const struct ev_credreport *r = NULL;
	unsigned obs[EV_CREDREPORT_MAX_OBS];
	size_t n_obs = 0;
	struct ev_error err;
	assert_int_equal(ev_credreport_get(&s.door.ctx, &r, obs, &n_obs, &err),
			 EV_E_NOT_FOUND);
	assert_string_equal(err.aws_code, "ReportNotPresent");
	assert_string_equal(err.request_id,
			    "3ec4ced3-224b-4733-8339-e7e39210b270");
	assert_int_equal(door_calls(&s.door, "GenerateCredentialReport"), 2);
	assert_int_equal(door_calls(&s.door, "GetCredentialReport"), 2);
	assert_int_equal(s.n_sleeps, 0);
	assert_int_equal(n_obs, 3);
	seq_cleanup(&s);

	/* Once regenerated, the report is there. */
	static const struct step steps[] = {
	    {"GenerateCredentialReport", 200, "@iam/generate_complete.xml", 0},
	    {"GetCredentialReport", 410, "@iam/get_report_notpresent.xml", 0},
	    {"GenerateCredentialReport", 200, "@iam/generate_started.xml", 0},
	    {"GenerateCredentialReport", 200, "@iam/generate_complete.xml", 0},
	    {"GetCredentialReport", 200, "@iam/report_production.xml", 0},
	};
	seq_init(&s, steps, 5, NULL, 0);
	const struct ev_credreport *ok = get_ok(&s.door, 3);
	assert_string_equal(ok->rows[1].user, "deployer");
	assert_int_equal(s.n_sleeps, 1);
	seq_cleanup(&s);
}

static const char access_denied[] =
    "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
    "<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: "
    "arn:aws:sts::111122223333:assumed-role/evident-audit/s is not "
    "authorized to perform: iam:GenerateCredentialReport</Message></Error>"
    "<RequestId>rid-denied-1</RequestId></ErrorResponse>";

static void errors_are_shared_too(void **state)
{
	(void)state;
	static const struct door_reply replies[] = {
	    {"GenerateCredentialReport", NULL, 403, access_denied, NULL},
	};
	struct seq_door s;
	seq_init(&s, NULL, 0, replies, 1);
	for (int i = 0; i < 2; i++) {
		const struct ev_credreport *r = NULL;
		unsigned obs[EV_CREDREPORT_MAX_OBS];
		size_t n_obs = 0;
		struct ev_error err;
		ev_error_clear(&err);
		assert_int_equal(
		    ev_credreport_get(&s.door.ctx, &r, obs, &n_obs, &err),
		    EV_E_ACCESS_DENIED);
		assert_null(r);
		assert_int_equal(err.code, EV_E_ACCESS_DENIED);
		assert_string_equal(err.aws_code, "AccessDenied");
		assert_string_equal(err.request_id, "rid-denied-1");
		assert_int_equal(n_obs, 1);
		assert_int_equal(obs[0], 0);
	}
	/* Asked twice, called once. */
	assert_int_equal(s.door.n_calls, 1);
	assert_int_equal(s.n_sleeps, 0);
	seq_cleanup(&s);
}

struct bad_get {
	const char *name;
	const char *body; /* GetCredentialReport's, or NULL: built */
	const char *csv;
	const char *generated;
	const char *message_part;
};

static void malformed_answers(void **state)
{
	(void)state;
	static const struct bad_get cases[] = {
	    {"bad base64",
	     "<GetCredentialReportResponse><GetCredentialReportResult>"
	     "<Content>not*base64</Content><GeneratedTime>2025-03-01T09:00:00Z"
	     "</GeneratedTime></GetCredentialReportResult><ResponseMetadata>"
	     "<RequestId>rid-bad</RequestId></ResponseMetadata>"
	     "</GetCredentialReportResponse>",
	     NULL, NULL, "bad base64"},
	    {"no content",
	     "<GetCredentialReportResponse><GetCredentialReportResult>"
	     "<GeneratedTime>2025-03-01T09:00:00Z</GeneratedTime>"
	     "</GetCredentialReportResult><ResponseMetadata><RequestId>rid-bad"
	     "</RequestId></ResponseMetadata></GetCredentialReportResponse>",
	     NULL, NULL, "no Content"},
	    {"no generated time", NULL, HEADER "\n" ROOT_ROW "\n", NULL,
	     "no GeneratedTime"},
	    {"malformed csv", NULL, HEADER "\n" ROOT_ROW "\nalice,x\n",
	     "2025-03-01T09:00:00Z", "row 3: 2 fields"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *built = cases[i].body
				  ? NULL
				  : report_xml(cases[i].csv, cases[i].generated,
					       "rid-bad");
		struct door_reply replies[] = {
		    {"GenerateCredentialReport", NULL, 200,
		     "@iam/generate_complete.xml", NULL},
		    {"GetCredentialReport", NULL, 200,
		     built ? built : cases[i].body, NULL},
		};
		struct seq_door s;
		seq_init(&s, NULL, 0, replies, 2);
		const struct ev_credreport *r = NULL;
		unsigned obs[EV_CREDREPORT_MAX_OBS];
		size_t n_obs = 0;
		struct ev_error err;
		enum ev_err rc =
		    ev_credreport_get(&s.door.ctx, &r, obs, &n_obs, &err);
		if (rc != EV_E_MALFORMED ||
		    !strstr(err.message, cases[i].message_part))
			fail_msg("%s: %s \"%s\"", cases[i].name,
				 ev_err_name(rc), err.message);
		assert_string_equal(err.request_id, "rid-bad");
		assert_string_equal(err.aws_code, "");
		assert_null(r);
		assert_int_equal(n_obs, 2);
		seq_cleanup(&s);
		free(built);
	}

	/* A State nobody documented. */
	static const struct door_reply odd[] = {
	    {"GenerateCredentialReport", NULL, 200,
	     "<GenerateCredentialReportResponse><"
	     "GenerateCredentialReportResult>"
	     "<State>PAUSED</State></GenerateCredentialReportResult>"
	     "<ResponseMetadata><RequestId>rid-odd</RequestId>"
	     "</ResponseMetadata></GenerateCredentialReportResponse>",
	     NULL},
	};
	struct seq_door s;
	seq_init(&s, NULL, 0, odd, 1);
	const struct ev_credreport *r = NULL;
	unsigned obs[EV_CREDREPORT_MAX_OBS];
	size_t n_obs = 0;
	struct ev_error err;
	assert_int_equal(ev_credreport_get(&s.door.ctx, &r, obs, &n_obs, &err),
			 EV_E_MALFORMED);
	assert_non_null(strstr(err.message, "unknown State"));
	assert_string_equal(err.request_id, "rid-odd");
	seq_cleanup(&s);
}

struct racer {
	struct test_door *door;
	const struct ev_credreport *got;
	enum ev_err rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	unsigned obs[EV_CREDREPORT_MAX_OBS];
	size_t n_obs = 0;
	struct ev_error err;
	r->rc = ev_credreport_get(&r->door->ctx, &r->got, obs, &n_obs, &err);
	return NULL;
}

static void one_fetch_for_many_probes(void **state)
{
	(void)state;
	static const struct door_reply replies[] = {
	    {"GenerateCredentialReport", NULL, 200,
	     "@iam/generate_complete.xml", NULL},
	    {"GetCredentialReport", NULL, 200, "@iam/report_sandbox.xml", NULL},
	};
	struct seq_door s;
	seq_init(&s, NULL, 0, replies, 2);
	enum { N = 6 };
	struct racer racers[N];
	pthread_t tid[N];
	for (int i = 0; i < N; i++) {
		racers[i] = (struct racer){.door = &s.door};
		assert_int_equal(
		    pthread_create(&tid[i], NULL, race, &racers[i]), 0);
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(racers[i].rc, EV_OK);
		assert_ptr_equal(racers[i].got, racers[0].got);
	}
	assert_int_equal(s.door.n_calls, 2);
	assert_string_equal(racers[0].got->rows[1].user, "intern");
	seq_cleanup(&s);
}

static void freshness_and_cells(void **state)
{
	(void)state;
	struct ev_credreport r = {.generated_time = NOW - 3600};
	json_t *j = ev_credreport_freshness(&r, NOW);
	assert_string_equal(
	    json_string_value(json_object_get(j, "generated_time")),
	    "2025-03-01T09:00:00Z");
	assert_int_equal(json_integer_value(json_object_get(j, "age_seconds")),
			 3600);
	json_decref(j);
	/* Stamped a moment after our clock: age 0, never negative. */
	r.generated_time = NOW + 5;
	j = ev_credreport_freshness(&r, NOW);
	assert_int_equal(json_integer_value(json_object_get(j, "age_seconds")),
			 0);
	json_decref(j);

	struct ev_credreport_time t = {EV_CR_NO_INFO, 0};
	j = ev_credreport_time_json(&t);
	assert_string_equal(json_string_value(j), "no_information");
	json_decref(j);
	t = (struct ev_credreport_time){EV_CR_VALUE, NOW};
	j = ev_credreport_time_json(&t);
	assert_string_equal(json_string_value(j), "2025-03-01T10:00:00Z");
	json_decref(j);
	struct ev_credreport_bool b = {EV_CR_UNKNOWN, false};
	j = ev_credreport_bool_json(&b);
	assert_string_equal(json_string_value(j), "not_supported");
	json_decref(j);
	b = (struct ev_credreport_bool){EV_CR_NONE, false};
	j = ev_credreport_bool_json(&b);
	assert_string_equal(json_string_value(j), "N/A");
	json_decref(j);
	b = (struct ev_credreport_bool){EV_CR_VALUE, true};
	j = ev_credreport_bool_json(&b);
	assert_true(json_is_true(j));
	json_decref(j);
}

/* ---- the account summary ------------------------------------------------- */

static void account_summary(void **state)
{
	(void)state;
	static const struct door_reply replies[] = {
	    {"GetAccountSummary", NULL, 200, "@iam/summary_sandbox.xml", NULL},
	};
	struct test_door d;
	test_door_init(&d, "777788889999", NULL, replies, 1);
	struct ev_credreport_summary sum;
	unsigned id = 99;
	struct ev_error err;
	assert_int_equal(ev_credreport_summary_get(&d.ctx, &sum, &id, &err),
			 EV_OK);
	assert_int_equal(id, 0);
	assert_int_equal(sum.mfa_enabled, 0);
	assert_int_equal(sum.access_keys_present, 1);
	assert_int_equal(sum.password_present, 1);
	assert_int_equal(sum.signing_certs_present, 0);
	assert_int_equal(sum.mfa_devices_in_use, 0);
	test_door_cleanup(&d, NULL);

	/* Keys absent stay -1; a value that is no count is refused. */
	static const struct door_reply odd[] = {
	    {"GetAccountSummary", NULL, 200,
	     "<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap>"
	     "<entry><key>AccountMFAEnabled</key><value>1</value></entry>"
	     "</SummaryMap></GetAccountSummaryResult></"
	     "GetAccountSummaryResponse>",
	     NULL},
	};
	test_door_init(&d, ACCOUNT, NULL, odd, 1);
	assert_int_equal(ev_credreport_summary_get(&d.ctx, &sum, &id, &err),
			 EV_OK);
	assert_int_equal(sum.mfa_enabled, 1);
	assert_int_equal(sum.access_keys_present, -1);
	test_door_cleanup(&d, NULL);

	static const struct door_reply bad[] = {
	    {"GetAccountSummary", NULL, 200,
	     "<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap>"
	     "<entry><key>AccountMFAEnabled</key><value>yes</value></entry>"
	     "</SummaryMap></GetAccountSummaryResult><ResponseMetadata>"
	     "<RequestId>rid-sum</RequestId></ResponseMetadata>"
	     "</GetAccountSummaryResponse>",
	     NULL},
	};
	test_door_init(&d, ACCOUNT, NULL, bad, 1);
	assert_int_equal(ev_credreport_summary_get(&d.ctx, &sum, &id, &err),
			 EV_E_MALFORMED);
	assert_non_null(strstr(err.message, "AccountMFAEnabled"));
	assert_string_equal(err.request_id, "rid-sum");
	test_door_cleanup(&d, NULL);

	static const struct door_reply denied[] = {
	    {"GetAccountSummary", NULL, 403, access_denied, NULL},
	};
	test_door_init(&d, ACCOUNT, NULL, denied, 1);
	assert_int_equal(ev_credreport_summary_get(&d.ctx, &sum, &id, &err),
			 EV_E_ACCESS_DENIED);
	assert_string_equal(err.request_id, "rid-denied-1");
	assert_int_equal(id, 0);
	test_door_cleanup(&d, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_the_documented_report),
	    cmocka_unit_test(quotes_line_endings_and_case),
	    cmocka_unit_test(columns_by_name),
	    cmocka_unit_test(refusals),
	    cmocka_unit_test(bounds),
	    cmocka_unit_test(generates_polls_and_reads),
	    cmocka_unit_test(report_in_progress_then_complete),
	    cmocka_unit_test(limit_exceeded_is_waited_for),
	    cmocka_unit_test(never_ready_is_bounded),
	    cmocka_unit_test(report_not_present),
	    cmocka_unit_test(errors_are_shared_too),
	    cmocka_unit_test(malformed_answers),
	    cmocka_unit_test(one_fetch_for_many_probes),
	    cmocka_unit_test(freshness_and_cells),
	    cmocka_unit_test(account_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
