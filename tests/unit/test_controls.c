#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli.h"
#include "config.h"
#include "controls.h"
#include "digest.h"
#include "finding.h"
#include "probes.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define ACCOUNT_A "111111111111"
#define ACCOUNT_B "222222222222"
#define ACCOUNT_C "333333333333"

/* A catalog of one control, the smallest that loads; cases below break
 * it one way at a time. */
#define PROGRAMS                                                               \
	"\"programs\": [{\"id\": \"MSP\", \"title\": \"MSP checklist\", "      \
	"\"version\": \"3.1\"}]"
#define CONTROL_OPEN                                                           \
	"{\"id\": \"MSP-8.1.4\", \"program\": \"MSP\", \"number\": "           \
	"\"8.1.4\", "                                                          \
	"\"title\": \"VPC\", \"requirement\": \"r\", \"evidence\": \"e\", "    \
	"\"documents_required\": false, "
#define CONTROL CONTROL_OPEN "\"probes\": [\"vpc-only\"]}"
#define CATALOG(controls)                                                      \
	"{\"catalog_version\": 1, " PROGRAMS ", \"controls\": [" controls "]}"

static struct ev_catalog *builtin(void)
{
	struct ev_catalog *c = NULL;
	struct ev_error err;
	ev_error_clear(&err);
	enum ev_err rc = ev_catalog_load(NULL, &c, &err);
	if (rc != EV_OK)
		fail_msg("built-in catalog: %s", err.message);
	return c;
}

/* The probe table's own id string, as probes put in findings. */
static const char *probe(const char *id)
{
	const struct ev_probe *p = ev_probe_find(id);
	assert_non_null(p);
	return p->id;
}

static void add(struct ev_findings *f, const char *probe_id,
		const char *account, const char *region, const char *resource,
		enum ev_status status)
{
	assert_int_equal(ev_findings_add(f, probe(probe_id), account, region,
					 resource, status, NULL, NULL, 0,
					 "%s is %s", resource,
					 ev_status_name(status)),
			 EV_OK);
}

/* Hands findings over and frees them, as the collector does. */
static void hand_over(struct ev_verdicts *v, struct ev_findings *f)
{
	assert_int_equal(ev_verdicts_add(v, f), EV_OK);
	ev_findings_cleanup(f);
	ev_findings_init(f);
}

struct run {
	struct ev_config cfg;
	struct ev_catalog *cat;
	struct ev_verdicts *v;
	struct ev_findings f;
};

static void run_start(struct run *r)
{
	assert_int_equal(ev_config_init(&r->cfg), EV_OK);
	r->cat = builtin();
	ev_findings_init(&r->f);
	r->v = NULL;
}

static void run_verdicts(struct run *r)
{
	struct ev_error err;
	ev_error_clear(&err);
	enum ev_err rc = ev_verdicts_new(r->cat, &r->cfg, &r->v, &err);
	if (rc != EV_OK)
		fail_msg("verdicts: %s", err.message);
}

static void run_end(struct run *r)
{
	ev_verdicts_free(r->v);
	ev_catalog_free(r->cat);
	ev_findings_cleanup(&r->f);
	ev_config_cleanup(&r->cfg);
}

static struct ev_verdict_summary summary(struct run *r, const char *id)
{
	struct ev_verdict_summary s;
	assert_int_equal(ev_verdicts_summary(r->v, id, &s), EV_OK);
	return s;
}

static void assert_verdict(struct run *r, const char *id, enum ev_verdict want)
{
	struct ev_verdict_summary s = summary(r, id);
	if (s.verdict != want)
		fail_msg("%s: %s, expected %s (%s)", id,
			 ev_verdict_name(s.verdict), ev_verdict_name(want),
			 s.reason);
}

/* One passing finding from every probe in account A (regional ones in
 * eu-west-1): every control has evidence and none fails. */
static void all_pass(struct run *r, const char *account)
{
	const struct ev_probe *t = ev_probes();
	for (size_t i = 0; i < EV_PROBE_COUNT_; i++)
		add(&r->f, t[i].id, account,
		    t[i].scope == EV_SCOPE_REGION ? "eu-west-1" : "",
		    "arn:aws:iam::111111111111:root", EV_STATUS_PASS);
	hand_over(r->v, &r->f);
}

static void write_file(char path[64], const char *text)
{
	snprintf(path, 64, "/tmp/ev-controls-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* ---- the catalog ---- */

static void builtin_catalog(void **state)
{
	(void)state;
	static const char *const ids[] = {
	    "MSP-8.1.2",   "MSP-8.1.4",	  "MSP-8.1.5",	 "MSP-8.1.8",
	    "MSP-8.2.1",   "MSP-8.2.2",	  "MSP-8.2.3",	 "MSP-8.2.4",
	    "MSP-8.3",	   "DEVOPS-3.3",  "DEVOPS-3.13", "DEVOPS-3.14",
	    "DEVOPS-3.15", "DEVOPS-3.16",
	};
	struct ev_catalog *c = builtin();
	assert_int_equal(ev_catalog_count(c), COUNT(ids));
	for (size_t i = 0; i < COUNT(ids); i++)
		assert_string_equal(ev_catalog_at(c, i)->id, ids[i]);
	assert_null(ev_catalog_at(c, COUNT(ids)));
	assert_null(ev_catalog_find(c, "MSP-9.9"));
	assert_string_equal(ev_catalog_source(c), "built-in");
	assert_int_equal(strlen(ev_catalog_sha256(c)), EV_SHA256_HEX_LEN);

	const struct ev_catalog_program *msp =
	    ev_catalog_program_find(c, "MSP");
	assert_non_null(msp);
	assert_string_equal(msp->title,
			    "AWS MSP Partner Program Validation Checklist");
	assert_string_equal(msp->version, "3.1");
	const struct ev_catalog_program *devops =
	    ev_catalog_program_find(c, "DEVOPS");
	assert_non_null(devops);
	assert_string_equal(devops->version, "3.0");

	const struct ev_control *root = ev_catalog_find(c, "MSP-8.1.5");
	assert_non_null(root);
	assert_string_equal(root->program, "MSP");
	assert_string_equal(root->number, "8.1.5");
	assert_true(root->documents_required);
	assert_non_null(root->documents);
	assert_int_equal(root->n_probes, 1);
	assert_string_equal(root->probes[0], "root-usage");
	assert_int_equal(root->n_bounds, 1);
	assert_int_equal(root->bounds[0].threshold,
			 EV_THRESHOLD_ROOT_UNUSED_DAYS);
	assert_false(root->bounds[0].at_most);
	assert_int_equal(root->bounds[0].value, 90);

	const struct ev_control *keys = ev_catalog_find(c, "MSP-8.3");
	assert_int_equal(keys->n_bounds, 2);
	assert_int_equal(keys->bounds[0].threshold,
			 EV_THRESHOLD_ACCESS_KEY_MAX_AGE_DAYS);
	assert_true(keys->bounds[0].at_most);
	assert_int_equal(keys->bounds[0].value, 90);
	const struct ev_control *ret = ev_catalog_find(c, "MSP-8.2.1");
	assert_int_equal(ret->bounds[0].threshold,
			 EV_THRESHOLD_LOG_RETENTION_DAYS);
	assert_int_equal(ret->bounds[0].value, 365);

	const struct ev_control *vpc = ev_catalog_find(c, "MSP-8.1.4");
	assert_false(vpc->documents_required);
	assert_null(vpc->documents);
	assert_int_equal(vpc->n_bounds, 0);

	json_t *j = ev_catalog_json(c);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "source")),
			    "built-in");
	json_t *controls = json_object_get(j, "controls");
	assert_int_equal(json_array_size(controls), COUNT(ids));
	json_t *first = json_array_get(controls, 0);
	assert_string_equal(json_string_value(json_object_get(first, "id")),
			    "MSP-8.1.2");
	assert_int_equal(json_array_size(json_object_get(first, "probes")), 2);
	json_t *b = json_array_get(
	    json_object_get(json_array_get(controls, 2), "bounds"), 0);
	assert_string_equal(json_string_value(json_object_get(b, "threshold")),
			    "root_unused_days");
	assert_int_equal(json_integer_value(json_object_get(b, "at_least")),
			 90);
	json_decref(j);
	ev_catalog_free(c);
	ev_catalog_free(NULL);
}

static void catalog_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		enum ev_err code;
		const char *phrase;
	} cases[] = {
	    {CATALOG(CONTROL), EV_OK, NULL},
	    {"{", EV_E_MALFORMED, "test:1:"},
	    {"", EV_E_MALFORMED, "test:"},
	    {"{\"catalog_version\": 1, \"catalog_version\": 1}", EV_E_MALFORMED,
	     "duplicate"},
	    {"[]", EV_E_CONFIG, "top level must be an object"},
	    {"{\"catalog_version\": 2, " PROGRAMS ", \"controls\": [" CONTROL
	     "]}",
	     EV_E_CONFIG, "\"catalog_version\" must be 1"},
	    {"{\"catalog_version\": 1, " PROGRAMS ", \"controls\": [" CONTROL
	     "], \"extra\": 1}",
	     EV_E_CONFIG, "unknown member \"extra\""},
	    {CATALOG(CONTROL ", " CONTROL), EV_E_CONFIG,
	     "control MSP-8.1.4 is listed twice"},
	    {CATALOG(CONTROL_OPEN "\"probes\": [\"no-such-probe\"]}"),
	     EV_E_CONFIG, "probe \"no-such-probe\" is not in the probe table"},
	    {CATALOG(CONTROL_OPEN "\"probes\": [\"vpc-only\", \"vpc-only\"]}"),
	     EV_E_CONFIG, "probe vpc-only is listed twice"},
	    {CATALOG(CONTROL_OPEN "\"probes\": [\"root-mfa\"]}"), EV_E_CONFIG,
	     "MSP-8.1.4 lists probes root-mfa; the probe table has vpc-only"},
	    {CATALOG(CONTROL_OPEN "\"probes\": []}"), EV_E_CONFIG,
	     "non-empty array of probe ids"},
	    {CATALOG(CONTROL_OPEN "\"probes\": [\"vpc-only\"], \"colour\": 1}"),
	     EV_E_CONFIG, "control MSP-8.1.4: unknown member \"colour\""},
	    {CATALOG(
		 "{\"id\": \"MSP-8.1.2\", \"program\": \"MSP\", \"number\": "
		 "\"8.1.2\", \"title\": \"t\", \"requirement\": \"r\", "
		 "\"evidence\": \"e\", \"documents_required\": false, "
		 "\"probes\": [\"least-privilege\"]}"),
	     EV_E_CONFIG,
	     "the probe table has console-mfa, least-privilege evidencing it"},
	    {CATALOG(
		 "{\"id\": \"ISO-8.1.4\", \"program\": \"ISO\", "
		 "\"number\": \"8.1.4\", \"title\": \"t\", \"requirement\": "
		 "\"r\", \"evidence\": \"e\", \"documents_required\": false, "
		 "\"probes\": [\"vpc-only\"]}"),
	     EV_E_CONFIG, "program \"ISO\" is not among"},
	    {CATALOG(
		 "{\"id\": \"MSP-8.1.4\", \"program\": \"MSP\", "
		 "\"number\": \"8.1.5\", \"title\": \"t\", \"requirement\": "
		 "\"r\", \"evidence\": \"e\", \"documents_required\": false, "
		 "\"probes\": [\"vpc-only\"]}"),
	     EV_E_CONFIG, "the id must be program-number (MSP-8.1.5)"},
	    {CATALOG("{\"id\": \"MSP-8.1.4\", \"program\": \"MSP\", "
		     "\"number\": \"8.1.4\", \"requirement\": \"r\", "
		     "\"evidence\": \"e\", \"documents_required\": false, "
		     "\"probes\": [\"vpc-only\"]}"),
	     EV_E_CONFIG, "\"title\" is missing"},
	    {CATALOG("{\"id\": \"MSP-8.1.4\", \"program\": \"MSP\", "
		     "\"number\": \"8.1.4\", \"title\": \"a\\u0007b\", "
		     "\"requirement\": \"r\", \"evidence\": \"e\", "
		     "\"documents_required\": false, \"probes\": "
		     "[\"vpc-only\"]}"),
	     EV_E_CONFIG, "\"title\" holds control characters"},
	    {CATALOG(CONTROL_OPEN "\"probes\": [\"vpc-only\"], \"bounds\": "
				  "[{\"threshold\": \"key_age\", \"at_most\": "
				  "90}]}"),
	     EV_E_CONFIG, "unknown threshold \"key_age\""},
	    {CATALOG(CONTROL_OPEN
		     "\"probes\": [\"vpc-only\"], \"bounds\": [{\"threshold\": "
		     "\"root_unused_days\", \"at_most\": 90, \"at_least\": "
		     "90}]}"),
	     EV_E_CONFIG, "exactly one of at_most and at_least"},
	    {CATALOG(CONTROL_OPEN
		     "\"probes\": [\"vpc-only\"], \"bounds\": [{\"threshold\": "
		     "\"root_unused_days\", \"at_most\": 0}]}"),
	     EV_E_CONFIG, "whole number in 1..36500"},
	    {CATALOG(CONTROL_OPEN
		     "\"probes\": [\"vpc-only\"], \"bounds\": [{\"threshold\": "
		     "\"root_unused_days\", \"at_most\": 9}, {\"threshold\": "
		     "\"root_unused_days\", \"at_most\": 9}]}"),
	     EV_E_CONFIG, "threshold root_unused_days is bounded twice"},
	    {CATALOG(
		 "{\"id\": \"MSP-8.1.4\", \"program\": \"MSP\", "
		 "\"number\": \"8.1.4\", \"title\": \"t\", \"requirement\": "
		 "\"r\", \"evidence\": \"e\", \"documents_required\": true, "
		 "\"probes\": [\"vpc-only\"]}"),
	     EV_E_CONFIG, "given exactly when documents_required is true"},
	    {CATALOG(
		 "{\"id\": \"MSP-8.1.4\", \"program\": \"MSP\", "
		 "\"number\": \"8.1.4\", \"title\": \"t\", \"requirement\": "
		 "\"r\", \"evidence\": \"e\", \"documents_required\": \"no\", "
		 "\"probes\": [\"vpc-only\"]}"),
	     EV_E_CONFIG, "\"documents_required\" must be true or false"},
	    {CATALOG(""), EV_E_CONFIG, "\"controls\" must be a non-empty"},
	    {"{\"catalog_version\": 1, \"programs\": [], \"controls\": []}",
	     EV_E_CONFIG, "\"programs\" must be a non-empty array"},
	};
	for (size_t i = 0; i < COUNT(cases); i++) {
		struct ev_catalog *c = (struct ev_catalog *)&c;
		struct ev_error err;
		ev_error_clear(&err);
		enum ev_err rc = ev_catalog_parse(
		    "test", cases[i].text, strlen(cases[i].text), &c, &err);
		if (rc != cases[i].code)
			fail_msg("case %zu: %s, expected %s (%s)", i,
				 ev_err_name(rc), ev_err_name(cases[i].code),
				 err.message);
		if (rc == EV_OK) {
			assert_non_null(c);
			assert_int_equal(ev_catalog_count(c), 1);
			ev_catalog_free(c);
			continue;
		}
		assert_null(c);
		assert_int_equal(err.code, cases[i].code);
		if (!strstr(err.message, cases[i].phrase))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
				 err.message, cases[i].phrase);
	}
}

static void catalog_files(void **state)
{
	(void)state;
	struct ev_catalog *c = NULL;
	struct ev_error err;

	ev_error_clear(&err);
	assert_int_equal(
	    ev_catalog_load("/nonexistent/controls.json", &c, &err),
	    EV_E_NOT_FOUND);
	assert_null(c);
	ev_error_clear(&err);
	assert_int_equal(ev_catalog_load("/tmp", &c, &err), EV_E_IO);
	assert_non_null(strstr(err.message, "not a regular file"));

	/* Too large, from a file and from memory. */
	size_t big = 1024 * 1024 + 1;
	char *text = malloc(big);
	assert_non_null(text);
	memset(text, ' ', big);
	ev_error_clear(&err);
	assert_int_equal(ev_catalog_parse("big", text, big, &c, &err),
			 EV_E_LIMIT);
	char path[64];
	text[big - 1] = '\0';
	write_file(path, text);
	FILE *fp = fopen(path, "a");
	assert_non_null(fp);
	fputs("  ", fp);
	fclose(fp);
	ev_error_clear(&err);
	assert_int_equal(ev_catalog_load(path, &c, &err), EV_E_LIMIT);
	unlink(path);
	free(text);

	/* A file catalog names its path as the source. */
	write_file(path, CATALOG(CONTROL));
	ev_error_clear(&err);
	assert_int_equal(ev_catalog_load(path, &c, &err), EV_OK);
	assert_string_equal(ev_catalog_source(c), path);
	char want[EV_SHA256_HEX_LEN + 1];
	ev_sha256_hex(CATALOG(CONTROL), strlen(CATALOG(CONTROL)), want);
	assert_string_equal(ev_catalog_sha256(c), want);
	ev_catalog_free(c);
	unlink(path);
}

/* ---- verdicts ---- */

static void no_evidence_is_an_error(void **state)
{
	(void)state;
	struct run r;
	run_start(&r);
	run_verdicts(&r);
	struct ev_verdict_summary s = summary(&r, "MSP-8.2.4");
	assert_int_equal(s.verdict, EV_VERDICT_ERROR);
	assert_non_null(strstr(s.reason, "no evidence"));
	assert_non_null(strstr(s.reason, "cloudtrail"));
	/* An empty hand-over changes nothing. */
	hand_over(r.v, &r.f);
	assert_verdict(&r, "MSP-8.2.4", EV_VERDICT_ERROR);
	assert_int_equal(ev_verdicts_exit_code(r.v), EV_EXIT_INCOMPLETE);
	struct ev_verdict_summary none;
	assert_int_equal(ev_verdicts_summary(r.v, "MSP-9.9", &none),
			 EV_E_NOT_FOUND);
	run_end(&r);
}

static void met_and_partial(void **state)
{
	(void)state;
	struct run r;
	run_start(&r);
	run_verdicts(&r);
	add(&r.f, "vpc-only", ACCOUNT_A, "eu-west-1", "i-1", EV_STATUS_PASS);
	add(&r.f, "root-usage", ACCOUNT_A, "", "root", EV_STATUS_PASS);
	hand_over(r.v, &r.f);
	/* Machine evidence only: met where no document is needed... */
	struct ev_verdict_summary s = summary(&r, "MSP-8.1.4");
	assert_int_equal(s.verdict, EV_VERDICT_MET);
	assert_int_equal(s.counts[EV_STATUS_PASS], 1);
	assert_int_equal(s.accounts_examined, 1);
	assert_int_equal(s.account_regions_examined, 1);
	/* ...partial where one is. */
	s = summary(&r, "MSP-8.1.5");
	assert_int_equal(s.verdict, EV_VERDICT_PARTIAL);
	assert_non_null(strstr(s.reason, "documents required"));
	assert_non_null(strstr(s.reason, "root user usage policy"));
	assert_verdict(&r, "DEVOPS-3.14", EV_VERDICT_PARTIAL);
	run_end(&r);
}

/* A finding counts against the controls of its own probe only: an old
 * access key is no failure of "MFA for sensitive access", a console user
 * without MFA is one of it and of the access management strategy. */
static void findings_reach_their_probes_controls(void **state)
{
	(void)state;
	struct run r;
	run_start(&r);
	run_verdicts(&r);
	all_pass(&r, ACCOUNT_A);
	add(&r.f, "access-keys", ACCOUNT_A, "", "user/deployer",
	    EV_STATUS_FAIL);
	hand_over(r.v, &r.f);
	assert_verdict(&r, "MSP-8.3", EV_VERDICT_NOT_MET);
	assert_verdict(&r, "DEVOPS-3.13", EV_VERDICT_NOT_MET);
	assert_verdict(&r, "MSP-8.1.2", EV_VERDICT_MET);
	assert_verdict(&r, "DEVOPS-3.15", EV_VERDICT_MET);
	assert_int_equal(summary(&r, "MSP-8.1.2").counts[EV_STATUS_FAIL], 0);
	run_end(&r);

	run_start(&r);
	run_verdicts(&r);
	all_pass(&r, ACCOUNT_A);
	add(&r.f, "console-mfa", ACCOUNT_A, "", "user/intern", EV_STATUS_FAIL);
	hand_over(r.v, &r.f);
	static const char *const mfa[] = {"MSP-8.1.2", "DEVOPS-3.15", "MSP-8.3",
					  "DEVOPS-3.13"};
	for (size_t i = 0; i < COUNT(mfa); i++) {
		struct ev_verdict_summary s = summary(&r, mfa[i]);
		assert_int_equal(s.verdict, EV_VERDICT_NOT_MET);
		assert_int_equal(s.failing, 1);
		assert_non_null(strstr(s.reason, "user/intern"));
	}
	/* Nor does it reach the root controls. */
	assert_verdict(&r, "MSP-8.1.8", EV_VERDICT_PARTIAL);
	run_end(&r);
}

static void failing_resources_are_listed_and_capped(void **state)
{
	(void)state;
	struct run r;
	run_start(&r);
	run_verdicts(&r);
	for (int i = 0; i < 60; i++) {
		char res[32];
		snprintf(res, sizeof(res), "i-%02d", i);
		add(&r.f, "vpc-only", ACCOUNT_A, "eu-west-1", res,
		    EV_STATUS_FAIL);
	}
	add(&r.f, "vpc-only", ACCOUNT_A, "eu-west-1", "i-ok", EV_STATUS_PASS);
	hand_over(r.v, &r.f);
	struct ev_verdict_summary s = summary(&r, "MSP-8.1.4");
	assert_int_equal(s.verdict, EV_VERDICT_NOT_MET);
	assert_int_equal(s.failing, 60);
	assert_int_equal(s.failing_listed, EV_VERDICTS_LIST_CAP);
	assert_int_equal(s.counts[EV_STATUS_FAIL], 60);
	assert_int_equal(s.counts[EV_STATUS_PASS], 1);
	assert_non_null(strstr(s.reason, "60 of 61 findings fail"));
	assert_non_null(strstr(s.reason, "i-00"));

	json_t *j = ev_verdicts_json(r.v);
	assert_non_null(j);
	json_t *controls = json_object_get(j, "controls");
	json_t *vpc = NULL;
	for (size_t i = 0; i < json_array_size(controls); i++) {
		json_t *c = json_array_get(controls, i);
		if (strcmp(json_string_value(json_object_get(c, "id")),
			   "MSP-8.1.4") == 0)
			vpc = c;
	}
	assert_non_null(vpc);
	json_t *failing = json_object_get(vpc, "failing");
	assert_int_equal(json_array_size(failing), EV_VERDICTS_LIST_CAP);
	assert_int_equal(
	    json_integer_value(json_object_get(vpc, "failing_left_out")), 10);
	json_t *f0 = json_array_get(failing, 0);
	assert_string_equal(json_string_value(json_object_get(f0, "account")),
			    ACCOUNT_A);
	assert_string_equal(json_string_value(json_object_get(f0, "region")),
			    "eu-west-1");
	assert_string_equal(json_string_value(json_object_get(f0, "resource")),
			    "i-00");
	assert_string_equal(json_string_value(json_object_get(f0, "probe")),
			    "vpc-only");
	assert_string_equal(json_string_value(json_object_get(f0, "reason")),
			    "i-00 is fail");
	json_decref(j);
	run_end(&r);
}

static void errors_without_failures(void **state)
{
	(void)state;
	struct run r;
	run_start(&r);
	run_verdicts(&r);
	struct ev_error e;
	ev_error_clear(&e);
	ev_error_set(&e, EV_E_ACCESS_DENIED, "not authorized");
	snprintf(e.aws_code, sizeof(e.aws_code), "AccessDenied");
	snprintf(e.request_id, sizeof(e.request_id), "req-123");
	add(&r.f, "cloudtrail", ACCOUNT_A, "eu-west-1", "trail",
	    EV_STATUS_PASS);
	assert_int_equal(ev_findings_add_error(&r.f, probe("cloudtrail"),
					       ACCOUNT_B, "us-east-2", "", &e,
					       NULL, 0, "DescribeTrails"),
			 EV_OK);
	hand_over(r.v, &r.f);
	struct ev_verdict_summary s = summary(&r, "MSP-8.2.4");
	assert_int_equal(s.verdict, EV_VERDICT_ERROR);
	assert_int_equal(s.errors, 1);
	assert_int_equal(s.counts[EV_STATUS_ERROR], 1);
	/* It says where. */
	assert_non_null(strstr(s.reason, "could not be collected"));
	assert_non_null(strstr(s.reason, ACCOUNT_B "/us-east-2"));
	/* The account with only an error was not examined. */
	assert_int_equal(s.accounts_examined, 1);

	json_t *j = ev_verdicts_json(r.v);
	json_t *controls = json_object_get(j, "controls");
	json_t *ct = NULL;
	for (size_t i = 0; i < json_array_size(controls); i++)
		if (strcmp(json_string_value(json_object_get(
			       json_array_get(controls, i), "id")),
			   "MSP-8.2.4") == 0)
			ct = json_array_get(controls, i);
	json_t *err0 = json_array_get(json_object_get(ct, "errors"), 0);
	assert_string_equal(
	    json_string_value(json_object_get(err0, "error_code")),
	    "AccessDenied");
	assert_string_equal(
	    json_string_value(json_object_get(err0, "request_id")), "req-123");
	json_decref(j);

	/* A failure elsewhere outranks the error: not met. */
	add(&r.f, "cloudtrail", ACCOUNT_C, "eu-west-1", "trail-2",
	    EV_STATUS_FAIL);
	hand_over(r.v, &r.f);
	s = summary(&r, "MSP-8.2.4");
	assert_int_equal(s.verdict, EV_VERDICT_NOT_MET);
	assert_int_equal(s.errors, 1);
	run_end(&r);
}

static void warn_never_fails(void **state)
{
	(void)state;
	struct run r;
	run_start(&r);
	run_verdicts(&r);
	add(&r.f, "vpc-only", ACCOUNT_A, "eu-west-1", "fn-1", EV_STATUS_WARN);
	add(&r.f, "vpc-only", ACCOUNT_A, "eu-west-1", "i-1", EV_STATUS_PASS);
	add(&r.f, "vpc-only", ACCOUNT_A, "eu-north-1", "-",
	    EV_STATUS_NOT_APPLICABLE);
	hand_over(r.v, &r.f);
	struct ev_verdict_summary s = summary(&r, "MSP-8.1.4");
	assert_int_equal(s.verdict, EV_VERDICT_MET);
	assert_int_equal(s.counts[EV_STATUS_WARN], 1);
	assert_int_equal(s.counts[EV_STATUS_NOT_APPLICABLE], 1);
	assert_int_equal(s.failing, 0);
	assert_non_null(strstr(s.reason, "1 warn"));
	run_end(&r);
}

static void looser_thresholds_are_never_met(void **state)
{
	(void)state;
	struct run r;
	run_start(&r);
	r.cfg.thresholds.access_key_max_age_days = 120;
	r.cfg.thresholds.root_unused_days = 30;
	r.cfg.thresholds.log_retention_days = 180;
	/* Stricter than the bound is fine. */
	r.cfg.thresholds.access_key_unused_days = 45;
	run_verdicts(&r);
	all_pass(&r, ACCOUNT_A);

	struct ev_verdict_summary s = summary(&r, "MSP-8.3");
	assert_int_equal(s.verdict, EV_VERDICT_NOT_MET);
	assert_true(s.thresholds_loose);
	assert_string_equal(s.reason, "configured access_key_max_age_days "
				      "120 is looser than the required 90");
	s = summary(&r, "MSP-8.1.5");
	assert_int_equal(s.verdict, EV_VERDICT_NOT_MET);
	assert_string_equal(s.reason, "configured root_unused_days 30 is "
				      "looser than the required 90");
	assert_verdict(&r, "MSP-8.2.1", EV_VERDICT_NOT_MET);
	assert_verdict(&r, "DEVOPS-3.13", EV_VERDICT_NOT_MET);
	/* Controls without bounds are unaffected. */
	assert_verdict(&r, "MSP-8.1.2", EV_VERDICT_MET);
	assert_false(summary(&r, "MSP-8.1.2").thresholds_loose);
	assert_int_equal(ev_verdicts_exit_code(r.v), EV_EXIT_NOT_MET);

	json_t *j = ev_verdicts_json(r.v);
	json_t *th = json_object_get(j, "thresholds");
	assert_int_equal(
	    json_integer_value(json_object_get(th, "access_key_max_age_days")),
	    120);
	assert_int_equal(
	    json_integer_value(json_object_get(th, "log_retention_days")), 180);
	json_t *controls = json_object_get(j, "controls");
	json_t *keys = json_array_get(controls, 8); /* MSP-8.3 */
	assert_string_equal(json_string_value(json_object_get(keys, "id")),
			    "MSP-8.3");
	json_t *b0 = json_array_get(json_object_get(keys, "bounds"), 0);
	assert_int_equal(json_integer_value(json_object_get(b0, "at_most")),
			 90);
	assert_int_equal(json_integer_value(json_object_get(b0, "configured")),
			 120);
	assert_true(json_is_false(json_object_get(b0, "within")));
	json_t *b1 = json_array_get(json_object_get(keys, "bounds"), 1);
	assert_true(json_is_true(json_object_get(b1, "within")));
	json_decref(j);
	run_end(&r);
}

static void coverage_and_skips(void **state)
{
	(void)state;
	struct run r;
	run_start(&r);
	run_verdicts(&r);
	all_pass(&r, ACCOUNT_A);
	add(&r.f, "vpc-only", ACCOUNT_A, "us-east-1", "i-2", EV_STATUS_PASS);
	hand_over(r.v, &r.f);
	add(&r.f, "vpc-only", ACCOUNT_B, "us-east-1", "i-3", EV_STATUS_PASS);
	add(&r.f, "root-usage", ACCOUNT_B, "", "root", EV_STATUS_PASS);
	hand_over(r.v, &r.f);
	assert_int_equal(
	    ev_verdicts_skip_account(r.v, ACCOUNT_C, "account is SUSPENDED"),
	    EV_OK);
	assert_int_equal(ev_verdicts_skip_region(r.v, ACCOUNT_A, "ap-east-1",
						 "not opted in"),
			 EV_OK);

	struct ev_verdict_summary s = summary(&r, "MSP-8.1.4");
	assert_int_equal(s.verdict, EV_VERDICT_MET);
	assert_int_equal(s.accounts_examined, 2);
	/* A: eu-west-1 and us-east-1 (twice, counted once); B: us-east-1. */
	assert_int_equal(s.account_regions_examined, 3);
	assert_int_equal(s.accounts_skipped, 1);
	assert_int_equal(s.regions_skipped, 1);
	/* Region skips do not concern account-scope controls. */
	s = summary(&r, "MSP-8.1.5");
	assert_int_equal(s.accounts_examined, 2);
	assert_int_equal(s.account_regions_examined, 0);
	assert_int_equal(s.regions_skipped, 0);
	assert_int_equal(s.accounts_skipped, 1);
	assert_int_equal(ev_verdicts_exit_code(r.v), EV_EXIT_OK);

	json_t *j = ev_verdicts_json(r.v);
	json_t *cov = json_object_get(j, "coverage");
	json_t *sa = json_object_get(cov, "accounts_skipped");
	assert_int_equal(json_array_size(sa), 1);
	json_t *sa0 = json_array_get(sa, 0);
	assert_string_equal(json_string_value(json_object_get(sa0, "account")),
			    ACCOUNT_C);
	assert_string_equal(json_string_value(json_object_get(sa0, "reason")),
			    "account is SUSPENDED");
	assert_true(json_is_false(json_object_get(sa0, "error")));
	json_t *sr = json_object_get(cov, "regions_skipped");
	assert_int_equal(json_array_size(sr), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(sr, 0), "region")),
	    "ap-east-1");
	json_t *vpc = json_array_get(json_object_get(j, "controls"), 1);
	json_t *vcov = json_object_get(vpc, "coverage");
	json_t *accounts = json_object_get(vcov, "accounts");
	assert_int_equal(json_array_size(accounts), 2);
	assert_string_equal(json_string_value(json_array_get(accounts, 0)),
			    ACCOUNT_A);
	assert_string_equal(json_string_value(json_array_get(accounts, 1)),
			    ACCOUNT_B);
	json_t *regions = json_object_get(vcov, "regions");
	assert_int_equal(json_array_size(regions), 2);
	assert_string_equal(json_string_value(json_array_get(regions, 0)),
			    "eu-west-1");
	assert_string_equal(json_string_value(json_array_get(regions, 1)),
			    "us-east-1");
	assert_int_equal(json_integer_value(
			     json_object_get(vcov, "account_regions_examined")),
			 3);
	/* An account-scope control has no region coverage. */
	json_t *root = json_array_get(json_object_get(j, "controls"), 2);
	assert_null(
	    json_object_get(json_object_get(root, "coverage"), "regions"));
	json_decref(j);

	/* An account that could not be examined: every control is in
	 * error; a failed region only the regional ones. */
	assert_int_equal(ev_verdicts_fail_region(r.v, ACCOUNT_B, "eu-west-1",
						 "DescribeRegions timed out"),
			 EV_OK);
	assert_verdict(&r, "MSP-8.1.4", EV_VERDICT_ERROR);
	assert_verdict(&r, "MSP-8.2.3", EV_VERDICT_ERROR);
	assert_verdict(&r, "MSP-8.1.5", EV_VERDICT_PARTIAL);
	s = summary(&r, "MSP-8.1.4");
	assert_non_null(strstr(s.reason, ACCOUNT_B "/eu-west-1"));
	assert_int_equal(s.regions_skipped, 2);
	assert_int_equal(ev_verdicts_exit_code(r.v), EV_EXIT_INCOMPLETE);

	assert_int_equal(ev_verdicts_fail_account(r.v, ACCOUNT_C,
						  "AccessDenied assuming "
						  "evident-audit"),
			 EV_OK);
	s = summary(&r, "MSP-8.1.5");
	assert_int_equal(s.verdict, EV_VERDICT_ERROR);
	assert_int_equal(s.accounts_skipped, 2);
	assert_non_null(strstr(s.reason, ACCOUNT_C));
	j = ev_verdicts_json(r.v);
	sa =
	    json_object_get(json_object_get(j, "coverage"), "accounts_skipped");
	assert_int_equal(json_array_size(sa), 2);
	assert_true(
	    json_is_true(json_object_get(json_array_get(sa, 1), "error")));
	json_decref(j);
	run_end(&r);
}

static void many_accounts_are_merged(void **state)
{
	(void)state;
	struct run r;
	run_start(&r);
	run_verdicts(&r);
	/* Hand-overs out of order and repeated: each account counts once,
	 * its regions merged. */
	for (int round = 0; round < 2; round++) {
		for (int i = 499; i >= 0; i--) {
			char acct[16];
			snprintf(acct, sizeof(acct), "%012d", 100000 + i);
			add(&r.f, "vpc-only", acct,
			    round ? "eu-west-1" : "us-east-1", "i",
			    EV_STATUS_PASS);
			hand_over(r.v, &r.f);
		}
	}
	struct ev_verdict_summary s = summary(&r, "MSP-8.1.4");
	assert_int_equal(s.accounts_examined, 500);
	assert_int_equal(s.account_regions_examined, 1000);
	run_end(&r);
}

static void unknown_probe_is_refused(void **state)
{
	(void)state;
	struct run r;
	run_start(&r);
	run_verdicts(&r);
	add(&r.f, "vpc-only", ACCOUNT_A, "eu-west-1", "i-1", EV_STATUS_FAIL);
	assert_int_equal(ev_findings_add(&r.f, "no-such-probe", ACCOUNT_A, "",
					 "x", EV_STATUS_PASS, NULL, NULL, 0,
					 "x"),
			 EV_OK);
	assert_int_equal(ev_verdicts_add(r.v, &r.f), EV_E_INTERNAL);
	/* Nothing of that hand-over counted. */
	struct ev_verdict_summary s = summary(&r, "MSP-8.1.4");
	assert_int_equal(s.counts[EV_STATUS_FAIL], 0);
	assert_int_equal(s.verdict, EV_VERDICT_ERROR);
	run_end(&r);
}

static void exit_codes(void **state)
{
	(void)state;
	struct run r;
	/* Every control evidenced and passing; documents missing do not
	 * make a run fail. */
	run_start(&r);
	run_verdicts(&r);
	all_pass(&r, ACCOUNT_A);
	assert_int_equal(ev_verdicts_exit_code(r.v), EV_EXIT_OK);
	assert_verdict(&r, "MSP-8.3", EV_VERDICT_PARTIAL);
	/* A failure: 1. */
	add(&r.f, "least-privilege", ACCOUNT_A, "", "user/admin",
	    EV_STATUS_FAIL);
	hand_over(r.v, &r.f);
	assert_int_equal(ev_verdicts_exit_code(r.v), EV_EXIT_NOT_MET);
	/* Any error as well: incomplete outranks not met. */
	struct ev_error e;
	ev_error_clear(&e);
	ev_error_set(&e, EV_E_NETWORK, "timed out");
	assert_int_equal(ev_findings_add_error(&r.f, probe("root-mfa"),
					       ACCOUNT_A, "", "", &e, NULL, 0,
					       "GetAccountSummary"),
			 EV_OK);
	hand_over(r.v, &r.f);
	assert_int_equal(ev_verdicts_exit_code(r.v), EV_EXIT_INCOMPLETE);

	json_t *j = ev_verdicts_json(r.v);
	json_t *sum = json_object_get(j, "summary");
	assert_int_equal(json_integer_value(json_object_get(sum, "exit_code")),
			 EV_EXIT_INCOMPLETE);
	assert_int_equal(json_integer_value(json_object_get(sum, "not-met")),
			 2); /* MSP-8.1.2 and DEVOPS-3.15 */
	assert_int_equal(json_integer_value(json_object_get(sum, "error")),
			 2); /* MSP-8.1.8 and DEVOPS-3.16 */
	json_decref(j);
	run_end(&r);
}

static void documents_are_hashed(void **state)
{
	(void)state;
	char doc[64], ini[64], text[512];
	static const char body[] = "Root is used for break-glass only.\n";
	write_file(doc, body);
	snprintf(text, sizeof(text),
		 "[controls]\n"
		 "documents =\n"
		 "    MSP-8.1.5 = %s\n"
		 "    DEVOPS-3.14=%s\n",
		 doc, doc);
	write_file(ini, text);

	struct run r;
	run_start(&r);
	struct ev_error err;
	ev_error_clear(&err);
	if (ev_config_load(ini, &r.cfg, &err) != EV_OK)
		fail_msg("%s", err.message);
	assert_int_equal(r.cfg.controls.n_documents, 2);
	assert_string_equal(r.cfg.controls.documents[0].control, "MSP-8.1.5");
	assert_string_equal(r.cfg.controls.documents[1].control, "DEVOPS-3.14");
	assert_string_equal(r.cfg.controls.documents[1].path, doc);
	run_verdicts(&r);
	add(&r.f, "root-usage", ACCOUNT_A, "", "root", EV_STATUS_PASS);
	hand_over(r.v, &r.f);
	struct ev_verdict_summary s = summary(&r, "MSP-8.1.5");
	assert_int_equal(s.verdict, EV_VERDICT_MET);
	assert_int_equal(s.documents_attached, 1);

	char want[EV_SHA256_HEX_LEN + 1];
	ev_sha256_hex(body, strlen(body), want);
	json_t *j = ev_verdicts_json(r.v);
	json_t *root = json_array_get(json_object_get(j, "controls"), 2);
	json_t *docs = json_object_get(root, "documents");
	assert_true(json_is_true(json_object_get(docs, "required")));
	json_t *d0 = json_array_get(json_object_get(docs, "attached"), 0);
	assert_string_equal(json_string_value(json_object_get(d0, "path")),
			    doc);
	assert_string_equal(json_string_value(json_object_get(d0, "sha256")),
			    want);
	assert_int_equal(json_integer_value(json_object_get(d0, "size")),
			 strlen(body));
	json_decref(j);
	json_t *all = ev_verdicts_documents_json(r.v);
	assert_int_equal(json_array_size(all), 2);
	json_t *a1 = json_array_get(all, 1);
	assert_string_equal(json_string_value(json_object_get(a1, "control")),
			    "DEVOPS-3.14");
	assert_string_equal(json_string_value(json_object_get(a1, "path")),
			    doc);
	assert_string_equal(json_string_value(json_object_get(a1, "sha256")),
			    want);
	json_decref(all);
	ev_verdicts_free(r.v);
	r.v = NULL;

	/* A document of a control the catalog lacks, or one that cannot be
	 * read, stops the run before it starts. */
	free(r.cfg.controls.documents[0].control);
	r.cfg.controls.documents[0].control = strdup("MSP-9.9");
	ev_error_clear(&err);
	assert_int_equal(ev_verdicts_new(r.cat, &r.cfg, &r.v, &err),
			 EV_E_CONFIG);
	assert_null(r.v);
	assert_non_null(strstr(err.message, "MSP-9.9 is not a control"));
	unlink(doc);
	free(r.cfg.controls.documents[0].control);
	r.cfg.controls.documents[0].control = strdup("MSP-8.1.5");
	ev_error_clear(&err);
	assert_int_equal(ev_verdicts_new(r.cat, &r.cfg, &r.v, &err),
			 EV_E_CONFIG);
	assert_non_null(strstr(err.message, doc));
	free(r.cfg.controls.documents[0].path);
	r.cfg.controls.documents[0].path = strdup("/tmp");
	ev_error_clear(&err);
	assert_int_equal(ev_verdicts_new(r.cat, &r.cfg, &r.v, &err),
			 EV_E_CONFIG);
	assert_non_null(strstr(err.message, "not a regular file"));
	unlink(ini);
	run_end(&r);
}

static void documents_config_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *phrase;
	} cases[] = {
	    {"[controls]\ndocuments = MSP-8.1.5 /etc/p.pdf\n",
	     "is not CONTROL-ID = /path"},
	    {"[controls]\ndocuments = = /etc/p.pdf\n",
	     "is not CONTROL-ID = /path"},
	    {"[controls]\ndocuments = MSP 8.1.5 = /etc/p.pdf\n",
	     "is not CONTROL-ID = /path"},
	    {"[controls]\ndocuments = MSP-8.1.5 = policy.pdf\n",
	     "MSP-8.1.5: a document is an absolute path"},
	    {"[controls]\ndocuments = MSP-8.1.5 =\n", "absolute path"},
	    {"[controls]\ndocuments =\n  MSP-8.3 = /a\n  MSP-8.3 = /a\n",
	     "MSP-8.3: the same document is attached twice"},
	};
	for (size_t i = 0; i < COUNT(cases); i++) {
		char path[64];
		write_file(path, cases[i].text);
		struct ev_config cfg;
		assert_int_equal(ev_config_init(&cfg), EV_OK);
		struct ev_error err;
		ev_error_clear(&err);
		enum ev_err rc = ev_config_load(path, &cfg, &err);
		unlink(path);
		if (rc != EV_E_CONFIG || !strstr(err.message, cases[i].phrase))
			fail_msg("case %zu: %s: \"%s\" lacks \"%s\"", i,
				 ev_err_name(rc), err.message, cases[i].phrase);
		assert_int_equal(cfg.controls.n_documents, 0);
		ev_config_cleanup(&cfg);
	}

	/* One entry on the key's own line, and an empty value: no
	 * documents. */
	char path[64];
	write_file(path,
		   "[controls]\ncatalog = /etc/evident/c.json\n"
		   "documents = MSP-8.3 = /srv/docs/access strategy.pdf\n");
	struct ev_config cfg;
	assert_int_equal(ev_config_init(&cfg), EV_OK);
	struct ev_error err;
	ev_error_clear(&err);
	assert_int_equal(ev_config_load(path, &cfg, &err), EV_OK);
	unlink(path);
	assert_string_equal(cfg.controls.catalog, "/etc/evident/c.json");
	assert_int_equal(cfg.controls.n_documents, 1);
	assert_string_equal(cfg.controls.documents[0].path,
			    "/srv/docs/access strategy.pdf");
	ev_config_cleanup(&cfg);
	write_file(path, "[controls]\ndocuments =\n");
	assert_int_equal(ev_config_init(&cfg), EV_OK);
	assert_int_equal(ev_config_load(path, &cfg, &err), EV_OK);
	unlink(path);
	assert_int_equal(cfg.controls.n_documents, 0);
	assert_null(cfg.controls.catalog);
	ev_config_cleanup(&cfg);
}

static void verdicts_json_shape(void **state)
{
	(void)state;
	struct run r;
	run_start(&r);
	run_verdicts(&r);
	all_pass(&r, ACCOUNT_A);
	json_t *j = ev_verdicts_json(r.v);
	assert_non_null(j);
	json_t *cat = json_object_get(j, "catalog");
	assert_string_equal(json_string_value(json_object_get(cat, "source")),
			    "built-in");
	assert_string_equal(json_string_value(json_object_get(cat, "sha256")),
			    ev_catalog_sha256(r.cat));
	assert_int_equal(json_array_size(json_object_get(cat, "programs")), 2);
	json_t *th = json_object_get(j, "thresholds");
	for (int t = 0; t < EV_THRESHOLD_COUNT_; t++)
		assert_true(json_is_integer(json_object_get(
		    th, ev_threshold_name((enum ev_threshold)t))));
	assert_true(json_is_object(json_object_get(j, "coverage")));
	json_t *sum = json_object_get(j, "summary");
	assert_int_equal(json_integer_value(json_object_get(sum, "met")), 6);
	assert_int_equal(json_integer_value(json_object_get(sum, "partial")),
			 8);
	assert_int_equal(json_integer_value(json_object_get(sum, "exit_code")),
			 EV_EXIT_OK);
	json_t *controls = json_object_get(j, "controls");
	assert_int_equal(json_array_size(controls), 14);
	static const char *const members[] = {
	    "id",	"program",	    "number",	 "title",
	    "verdict",	"reasons",	    "probes",	 "counts",
	    "failing",	"failing_left_out", "errors",	 "errors_left_out",
	    "coverage", "bounds",	    "documents",
	};
	for (size_t i = 0; i < json_array_size(controls); i++) {
		json_t *c = json_array_get(controls, i);
		assert_int_equal(json_object_size(c), COUNT(members));
		for (size_t m = 0; m < COUNT(members); m++)
			if (!json_object_get(c, members[m]))
				fail_msg("control %zu lacks %s", i, members[m]);
		assert_true(json_is_string(json_object_get(c, "verdict")));
		assert_true(json_array_size(json_object_get(c, "reasons")) > 0);
		json_t *counts = json_object_get(c, "counts");
		assert_int_equal(json_object_size(counts), EV_STATUS_COUNT_);
		assert_int_equal(
		    json_integer_value(json_object_get(counts, "pass")),
		    json_array_size(json_object_get(c, "probes")));
	}
	/* It round-trips through text, as the manifest stores it. */
	char *text = json_dumps(j, JSON_COMPACT);
	assert_non_null(text);
	json_error_t jerr;
	json_t *back = json_loads(text, 0, &jerr);
	assert_non_null(back);
	assert_true(json_equal(back, j));
	json_decref(back);
	free(text);
	json_decref(j);
	run_end(&r);
}

static char *table_text(struct ev_verdicts *v, bool color)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	assert_non_null(fp);
	ev_verdicts_print_table(v, fp, color);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

static void table(void **state)
{
	(void)state;
	struct run r;
	run_start(&r);
	run_verdicts(&r);
	all_pass(&r, ACCOUNT_A);
	add(&r.f, "vpc-only", ACCOUNT_A, "eu-west-1", "i-\x1b[2Jevil",
	    EV_STATUS_FAIL);
	for (int i = 0; i < 5; i++) {
		char res[16];
		snprintf(res, sizeof(res), "i-%d", i);
		add(&r.f, "vpc-only", ACCOUNT_B, "us-east-1", res,
		    EV_STATUS_FAIL);
	}
	hand_over(r.v, &r.f);
	char *plain = table_text(r.v, false);
	assert_non_null(strstr(plain, "PROGRAM"));
	assert_non_null(strstr(plain, "MSP      MSP-8.1.4    not-met"));
	assert_non_null(strstr(plain, "DEVOPS   DEVOPS-3.3   met"));
	assert_non_null(strstr(plain, "Infrastructure deployed into VPCs"));
	assert_non_null(strstr(plain, "14 controls: 5 met, 1 not met, 8 "
				      "partial, 0 error"));
	/* Why, with the failing resource made harmless. */
	assert_non_null(strstr(plain, "MSP-8.1.4 not-met"));
	assert_non_null(strstr(plain, "i-?[2Jevil"));
	/* Three more failures listed, the rest counted. */
	assert_non_null(strstr(plain, "also " ACCOUNT_B "/us-east-1 i-0: "));
	assert_non_null(strstr(plain, "also " ACCOUNT_B "/us-east-1 i-2: "));
	assert_null(strstr(plain, "i-3: "));
	assert_non_null(strstr(plain, "... and 2 more failing"));
	assert_null(strchr(plain, '\x1b'));
	free(plain);
	char *colored = table_text(r.v, true);
	assert_non_null(strstr(colored, "\033[31mnot-met"));
	assert_non_null(strstr(colored, "\033[32mmet"));
	free(colored);
	run_end(&r);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(ev_verdict_name(EV_VERDICT_MET), "met");
	assert_string_equal(ev_verdict_name(EV_VERDICT_NOT_MET), "not-met");
	assert_string_equal(ev_verdict_name(EV_VERDICT_PARTIAL), "partial");
	assert_string_equal(ev_verdict_name(EV_VERDICT_ERROR), "error");
	assert_string_equal(ev_verdict_name(EV_VERDICT_COUNT_), "unknown");
	assert_string_equal(ev_threshold_name(EV_THRESHOLD_LOG_RETENTION_DAYS),
			    "log_retention_days");
	struct ev_config cfg;
	assert_int_equal(ev_config_init(&cfg), EV_OK);
	cfg.probes.digest_max_age_hours = 7;
	assert_int_equal(
	    ev_threshold_value(&cfg, EV_THRESHOLD_DIGEST_MAX_AGE_HOURS), 7);
	assert_int_equal(
	    ev_threshold_value(&cfg, EV_THRESHOLD_LOG_RETENTION_DAYS), 365);
	ev_config_cleanup(&cfg);
	ev_verdicts_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(builtin_catalog),
	    cmocka_unit_test(catalog_errors),
	    cmocka_unit_test(catalog_files),
	    cmocka_unit_test(no_evidence_is_an_error),
	    cmocka_unit_test(met_and_partial),
	    cmocka_unit_test(findings_reach_their_probes_controls),
	    cmocka_unit_test(failing_resources_are_listed_and_capped),
	    cmocka_unit_test(errors_without_failures),
	    cmocka_unit_test(warn_never_fails),
	    cmocka_unit_test(looser_thresholds_are_never_met),
	    cmocka_unit_test(coverage_and_skips),
	    cmocka_unit_test(many_accounts_are_merged),
	    cmocka_unit_test(unknown_probe_is_refused),
	    cmocka_unit_test(exit_codes),
	    cmocka_unit_test(documents_are_hashed),
	    cmocka_unit_test(documents_config_errors),
	    cmocka_unit_test(verdicts_json_shape),
	    cmocka_unit_test(table),
	    cmocka_unit_test(names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
