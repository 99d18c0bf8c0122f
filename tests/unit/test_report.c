/* Reports: escaping per output language, CSV quoting and the formula
 * guard, finding identity, first-seen dates across a chain of real signed
 * snapshots, the trend, diffs, the OCSF event's shape, and snapshots that
 * do not verify or do not parse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "evidence.h"
#include "keys.h"
#include "report.h"
#include "timefmt.h"

#define T0   ((time_t)1735689600) /* 2025-01-01T00:00:00Z */
#define HOUR 3600

#define ACCT_A "111111111111"
#define ACCT_B "222222222222"

static char tmpdir[256];
static char key_path[512];
static struct ev_key *key;   /* the trusted public half of key_path */
static struct ev_key *other; /* a key that signed nothing here */

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ev-report-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(key_path, sizeof(key_path), "%s/signing.key", tmpdir);
	struct ev_error err;
	struct ev_key *k = ev_keys_generate(&err);
	if (!k || ev_keys_write_private(k, key_path, false, &err) != EV_OK)
		return -1;
	ev_keys_free(k);
	key = ev_keys_load_public(key_path, &err);
	other = ev_keys_generate(&err);
	return key && other ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ev_keys_free(key);
	ev_keys_free(other);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void new_dir(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out);
	assert_int_equal(system(cmd), 0);
}

/* What one snapshot holds, as data. */
struct tf {
	const char *probe, *region, *resource;
	enum ev_status status;
	const char *reason;
};

struct tacct {
	const char *id;
	const char *const *regions;
	size_t n_regions;
	const struct tf *f;
	size_t n;
	bool skipped;
};

static void add_account(struct ev_evidence *e, const struct tacct *a)
{
	struct ev_findings f;
	struct ev_observations o;
	ev_findings_init(&f);
	ev_observations_init(&o, 1 << 20);
	for (size_t i = 0; i < a->n; i++) {
		/* One recorded call per finding, the evidence it cites. */
		o.items = realloc(o.items, (o.n + 1) * sizeof(*o.items));
		assert_non_null(o.items);
		struct ev_observation *x = &o.items[o.n++];
		memset(x, 0, sizeof(*x));
		x->id = (unsigned)i + 1;
		snprintf(x->service, sizeof(x->service), "iam");
		snprintf(x->action, sizeof(x->action), "GetAccountSummary");
		snprintf(x->region, sizeof(x->region), "us-east-1");
		snprintf(x->account, sizeof(x->account), "%s", a->id);
		x->time = T0;
		x->http_status = 200;
		snprintf(x->request_id, sizeof(x->request_id), "req-%zu", i);
		ev_sha256_hex("{}", 2, x->body_sha256);
		x->body_len = 2;
		x->body = strdup("{}");
		x->attempts = 1;
		unsigned obs[] = {x->id};
		const struct tf *t = &a->f[i];
		assert_int_equal(ev_findings_add(&f, t->probe, a->id,
						 t->region ? t->region : "",
						 t->resource, t->status, NULL,
						 obs, 1, "%s", t->reason),
				 EV_OK);
	}
	struct ev_evidence_account acc = {
	    .id = a->id,
	    .name = "acct",
	    .status =
		a->skipped ? EV_COLLECTION_SKIPPED : EV_COLLECTION_COLLECTED,
	    .skip_reason = a->skipped ? "suspended" : NULL,
	    .regions = (const char *const *)a->regions,
	    .n_regions = a->n_regions,
	    .findings = &f,
	    .observations = &o,
	};
	struct ev_error err;
	assert_int_equal(ev_evidence_add_account(e, &acc, &err), EV_OK);
	ev_findings_cleanup(&f);
	ev_observations_cleanup(&o);
}

/* Two controls over three probes, in two programs. */
static json_t *controls(const char *msp, const char *dev)
{
	return json_pack(
	    "{s:{s:s,s:s,s:[{s:s,s:s,s:s},{s:s,s:s,s:s}]},"
	    "s:[{s:s,s:s,s:s,s:s,s:s,s:[s],s:[s,s],s:{s:i,s:i},s:{s:b}},"
	    "{s:s,s:s,s:s,s:s,s:s,s:[],s:[s],s:{s:i},s:{s:b,s:s,s:[]}}]}",
	    "catalog", "source", "built-in", "sha256", "00", "programs", "id",
	    "MSP", "title", "MSP Checklist", "version", "3.1", "id", "DEVOPS",
	    "title", "DevOps Checklist", "version", "3.0", "controls", "id",
	    "MSP-1", "program", "MSP", "number", "1", "title", "Root and VPC",
	    "verdict", msp, "reasons", "because", "probes", "root-mfa",
	    "vpc-only", "counts", "pass", 1, "fail", 1, "documents", "required",
	    0, "id", "DEVOPS-1", "program", "DEVOPS", "number", "1", "title",
	    "Trails", "verdict", dev, "reasons", "probes", "cloudtrail",
	    "counts", "pass", 1, "documents", "required", 1, "what", "a policy",
	    "attached");
}

static void snap(const char *dir, time_t t, const struct tacct *a, size_t n,
		 const char *msp, const char *dev)
{
	struct ev_evidence_options o = {
	    .snapshot_dir = dir, .started_at = t, .signing_key_path = key_path};
	struct ev_error err;
	struct ev_evidence *e = ev_evidence_begin(&o, &err);
	assert_non_null(e);
	for (size_t i = 0; i < n; i++)
		add_account(e, &a[i]);
	json_t *c = controls(msp, dev);
	assert_non_null(c);
	json_t *fields = json_pack(
	    "{s:{s:s,s:s},s:{s:s,s:s},s:o}", "caller", "arn",
	    "arn:aws:iam::111111111111:user/<b>audit</b>", "account", ACCT_A,
	    "scope", "source", "list", "regions", "all enabled", "controls", c);
	assert_non_null(fields);
	char out[1024];
	assert_int_equal(ev_evidence_commit(e, fields, out, sizeof(out), &err),
			 EV_OK);
}

static const char *name_at(time_t t)
{
	static char names[8][EV_AMZ_DATE_LEN + 1];
	static int next;
	char *n = names[next++ % 8];
	ev_time_format_amz(t, n);
	return n;
}

static struct ev_report *load(const char *path, const struct ev_key *k,
			      size_t history, bool pruned)
{
	const struct ev_key *keys[] = {k};
	struct ev_report_options o = {
	    .path = path,
	    .keys = k ? keys : NULL,
	    .n_keys = k ? 1 : 0,
	    .allow_pruned = pruned,
	    .history_max = history,
	};
	struct ev_report *r = NULL;
	struct ev_error err;
	ev_error_clear(&err);
	enum ev_err rc = ev_report_load(&o, &r, &err);
	if (rc != EV_OK)
		fail_msg("ev_report_load: %s: %s", ev_err_name(rc),
			 err.message);
	return r;
}

static const struct ev_report_finding *
find(const struct ev_report *r, const char *probe, const char *account,
     const char *region, const char *resource)
{
	char uid[EV_SHA256_HEX_LEN + 1];
	ev_report_finding_uid(probe, account, region, resource, 1, uid);
	return ev_report_snapshot_find(r->snap, uid);
}

/* Renders with a writer into memory. */
static char *render(const struct ev_report *r, enum ev_report_format f)
{
	char *p = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&p, &n);
	assert_non_null(m);
	struct ev_error err;
	assert_int_equal(ev_report_write(r, f, m, &err), EV_OK);
	fclose(m);
	return p;
}

typedef void (*escaper)(FILE *, const char *);

static char *escape(escaper fn, const char *s)
{
	char *p = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&p, &n);
	assert_non_null(m);
	fn(m, s);
	fclose(m);
	return p;
}

static void expect_escape(escaper fn, const char *in, const char *want)
{
	char *got = escape(fn, in);
	assert_string_equal(got, want);
	free(got);
}

static void html_escaping(void **state)
{
	(void)state;
	expect_escape(ev_report_html_escape, "<script>alert('x')</script>",
		      "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
	expect_escape(ev_report_html_escape, "a&b \"q\"",
		      "a&amp;b &quot;q&quot;");
	/* Controls and bidirectional overrides cannot reach the page;
	 * ordinary UTF-8 and line breaks can. */
	expect_escape(ev_report_html_escape, "x\x01y\x1b[31m",
		      "x&#xFFFD;y&#xFFFD;[31m");
	expect_escape(ev_report_html_escape,
		      "gpj.\xe2\x80\xae"
		      "exe",
		      "gpj.&#xFFFD;exe");
	expect_escape(ev_report_html_escape, "\xe2\x81\xa6x\xe2\x81\xa9",
		      "&#xFFFD;x&#xFFFD;");
	expect_escape(ev_report_html_escape, "caf\xc3\xa9\tline\n",
		      "caf\xc3\xa9\tline\n");
	expect_escape(ev_report_html_escape, "", "");
}

static void markdown_escaping(void **state)
{
	(void)state;
	expect_escape(ev_report_md_escape, "a|b", "a\\|b");
	expect_escape(ev_report_md_escape, "[x](javascript:y)",
		      "\\[x\\](javascript:y)");
	expect_escape(ev_report_md_escape, "<img src=x>", "\\<img src=x\\>");
	expect_escape(ev_report_md_escape, "*b* _i_ `c` &amp; #1 ~~s~~",
		      "\\*b\\* \\_i\\_ \\`c\\` \\&amp; \\#1 \\~\\~s\\~\\~");
	expect_escape(ev_report_md_escape, "two\nlines\r\x1b", "two lines  ");
	/* What would start a list is escaped at the start only. */
	expect_escape(ev_report_md_escape, "- a-b", "\\- a-b");
	expect_escape(ev_report_md_escape, "+1", "\\+1");
	expect_escape(ev_report_md_escape, "12. x 3.4", "12\\. x 3.4");
	expect_escape(ev_report_md_escape, "arn:aws:iam::1:root (max 90)",
		      "arn:aws:iam::1:root (max 90)");
}

static void csv_quoting(void **state)
{
	(void)state;
	expect_escape(ev_report_csv_field, "plain", "plain");
	expect_escape(ev_report_csv_field, "", "");
	expect_escape(ev_report_csv_field, "a,b", "\"a,b\"");
	expect_escape(ev_report_csv_field, "say \"hi\"", "\"say \"\"hi\"\"\"");
	expect_escape(ev_report_csv_field, "two\r\nlines", "\"two\r\nlines\"");
	/* The formula guard: spreadsheets must see text. */
	expect_escape(ev_report_csv_field, "=HYPERLINK(\"http://x\")",
		      "\"'=HYPERLINK(\"\"http://x\"\")\"");
	expect_escape(ev_report_csv_field, "+1", "'+1");
	expect_escape(ev_report_csv_field, "-2+3", "'-2+3");
	expect_escape(ev_report_csv_field, "@SUM(A1)", "'@SUM(A1)");
	expect_escape(ev_report_csv_field, "\tx", "'\tx");
	expect_escape(ev_report_csv_field, "\rx", "\"'\rx\"");
	expect_escape(ev_report_csv_field, "a=b", "a=b");
}

static void text_escaping(void **state)
{
	(void)state;
	expect_escape(ev_report_text, "ok\x1b]0;pwned\x07", "ok?]0;pwned?");
}

static void identity(void **state)
{
	(void)state;
	char a[EV_SHA256_HEX_LEN + 1], b[EV_SHA256_HEX_LEN + 1];
	ev_report_finding_uid("root-mfa", ACCT_A, "", "root", 1, a);
	ev_report_finding_uid("root-mfa", ACCT_A, NULL, "root", 1, b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), EV_SHA256_HEX_LEN);
	/* Every part counts, and parts cannot be shifted into each other. */
	ev_report_finding_uid("root-mfa", ACCT_B, "", "root", 1, b);
	assert_string_not_equal(a, b);
	ev_report_finding_uid("root-mfa", ACCT_A, "us-east-1", "root", 1, b);
	assert_string_not_equal(a, b);
	ev_report_finding_uid("root-mfa", ACCT_A, "", "roo", 1, b);
	assert_string_not_equal(a, b);
	ev_report_finding_uid("root-mf", ACCT_A, "", "aroot", 1, b);
	assert_string_not_equal(a, b);
	ev_report_finding_uid("root-mfa", ACCT_A, "", "root", 2, b);
	assert_string_not_equal(a, b);
	/* Stable: the same inputs give the same identity tomorrow. */
	ev_report_finding_uid("root-mfa", ACCT_A, "", "root", 1, b);
	assert_string_equal(a, b);
	assert_true(ev_report_status_open(EV_STATUS_FAIL));
	assert_true(ev_report_status_open(EV_STATUS_ERROR));
	assert_false(ev_report_status_open(EV_STATUS_WARN));
	assert_false(ev_report_status_open(EV_STATUS_PASS));
	assert_false(ev_report_status_open(EV_STATUS_NOT_APPLICABLE));
}

static const char *const regions_1[] = {"us-east-1"};
static const char *const regions_2[] = {"eu-west-1", "us-east-1"};

/* Five snapshots of account A, an hour apart:
 *   root-mfa  root        fail  fail  fail  fail  fail
 *   vpc-only  i-1         pass  fail  pass  fail  fail
 *   cloudtrail trail      fail  fail  --    fail  fail
 *   vpc-only  i-2         --    --    error error error
 *   root-mfa  other       pass  pass  pass  pass  pass */
static void make_chain(const char *dir)
{
	static const struct tf s0[] = {
	    {"root-mfa", NULL, "root", EV_STATUS_FAIL, "root MFA off"},
	    {"vpc-only", "us-east-1", "i-1", EV_STATUS_PASS, "in a VPC"},
	    {"cloudtrail", "us-east-1", "trail", EV_STATUS_FAIL, "no trail"},
	    {"root-mfa", NULL, "other", EV_STATUS_PASS, "ok"},
	};
	static const struct tf s1[] = {
	    {"root-mfa", NULL, "root", EV_STATUS_FAIL, "root MFA off"},
	    {"vpc-only", "us-east-1", "i-1", EV_STATUS_FAIL, "classic"},
	    {"cloudtrail", "us-east-1", "trail", EV_STATUS_FAIL, "no trail"},
	    {"root-mfa", NULL, "other", EV_STATUS_PASS, "ok"},
	};
	static const struct tf s2[] = {
	    {"root-mfa", NULL, "root", EV_STATUS_FAIL, "root MFA off"},
	    {"vpc-only", "us-east-1", "i-1", EV_STATUS_PASS, "in a VPC"},
	    {"vpc-only", "us-east-1", "i-2", EV_STATUS_ERROR, "AccessDenied"},
	    {"root-mfa", NULL, "other", EV_STATUS_PASS, "ok"},
	};
	static const struct tf s3[] = {
	    {"root-mfa", NULL, "root", EV_STATUS_FAIL, "root MFA off"},
	    {"vpc-only", "us-east-1", "i-1", EV_STATUS_FAIL, "classic"},
	    {"cloudtrail", "us-east-1", "trail", EV_STATUS_FAIL, "no trail"},
	    {"vpc-only", "us-east-1", "i-2", EV_STATUS_ERROR, "AccessDenied"},
	    {"root-mfa", NULL, "other", EV_STATUS_PASS, "ok"},
	};
	const struct tacct a0 = {ACCT_A, regions_1, 1, s0, 4, false};
	const struct tacct a1 = {ACCT_A, regions_1, 1, s1, 4, false};
	const struct tacct a2 = {ACCT_A, regions_1, 1, s2, 4, false};
	const struct tacct a3 = {ACCT_A, regions_1, 1, s3, 5, false};
	snap(dir, T0, &a0, 1, "not-met", "not-met");
	snap(dir, T0 + HOUR, &a1, 1, "not-met", "not-met");
	snap(dir, T0 + 2 * HOUR, &a2, 1, "not-met", "met");
	snap(dir, T0 + 3 * HOUR, &a3, 1, "not-met", "not-met");
	snap(dir, T0 + 4 * HOUR, &a3, 1, "met", "error");
}

static void first_seen_over_chain(void **state)
{
	(void)state;
	char dir[512];
	new_dir(dir, sizeof(dir), "chain");
	make_chain(dir);
	/* The directory means its newest snapshot. */
	struct ev_report *r = load(dir, key, EV_REPORT_HISTORY_MAX, false);
	assert_string_equal(r->snap->name, name_at(T0 + 4 * HOUR));
	assert_true(r->verify.verified);
	assert_true(r->verify.trusted_key);
	assert_int_equal(r->snap->n_findings, 5);

	const struct ev_report_finding *f =
	    find(r, "root-mfa", ACCT_A, "", "root");
	assert_non_null(f);
	assert_int_equal(f->seen, EV_REPORT_SEEN_CHAIN_START);
	assert_string_equal(f->first_seen, name_at(T0));
	assert_int_equal(f->first_seen_at, T0);

	/* Open again since S3: the pass in S2 ended the earlier run. */
	f = find(r, "vpc-only", ACCT_A, "us-east-1", "i-1");
	assert_non_null(f);
	assert_int_equal(f->seen, EV_REPORT_SEEN_EXACT);
	assert_string_equal(f->first_seen, name_at(T0 + 3 * HOUR));

	/* Absent from S2: a gap breaks the run as a pass does. */
	f = find(r, "cloudtrail", ACCT_A, "us-east-1", "trail");
	assert_int_equal(f->seen, EV_REPORT_SEEN_EXACT);
	assert_string_equal(f->first_seen, name_at(T0 + 3 * HOUR));

	/* Error findings are open too. */
	f = find(r, "vpc-only", ACCT_A, "us-east-1", "i-2");
	assert_int_equal(f->seen, EV_REPORT_SEEN_EXACT);
	assert_string_equal(f->first_seen, name_at(T0 + 2 * HOUR));

	f = find(r, "root-mfa", ACCT_A, "", "other");
	assert_int_equal(f->seen, EV_REPORT_SEEN_NONE);

	/* The trend, oldest first, one row per snapshot. */
	assert_int_equal(r->trend.n, 5);
	assert_string_equal(r->trend.names[0], name_at(T0));
	assert_int_equal(r->snap->n_controls, 2);
	assert_int_equal(r->trend.verdicts[0 * 2 + 1], EV_VERDICT_NOT_MET);
	assert_int_equal(r->trend.verdicts[2 * 2 + 1], EV_VERDICT_MET);
	assert_int_equal(r->trend.verdicts[4 * 2 + 0], EV_VERDICT_MET);
	assert_int_equal(r->trend.verdicts[4 * 2 + 1], EV_VERDICT_ERROR);
	assert_string_equal(r->history_end, "first snapshot of the chain");
	ev_report_free(r);

	/* With one older snapshot read, the long run is "or earlier". */
	r = load(dir, key, 1, false);
	f = find(r, "root-mfa", ACCT_A, "", "root");
	assert_int_equal(f->seen, EV_REPORT_SEEN_OR_EARLIER);
	assert_string_equal(f->first_seen, name_at(T0 + 3 * HOUR));
	f = find(r, "vpc-only", ACCT_A, "us-east-1", "i-1");
	assert_int_equal(f->seen, EV_REPORT_SEEN_OR_EARLIER);
	assert_int_equal(r->trend.n, 5);
	ev_report_free(r);

	/* A snapshot in the middle is reported with the ones before it. */
	char mid[600];
	snprintf(mid, sizeof(mid), "%s/%s/", dir, name_at(T0 + 2 * HOUR));
	r = load(mid, key, EV_REPORT_HISTORY_MAX, false);
	assert_string_equal(r->snap->name, name_at(T0 + 2 * HOUR));
	assert_int_equal(r->trend.n, 3);
	f = find(r, "root-mfa", ACCT_A, "", "root");
	assert_int_equal(f->seen, EV_REPORT_SEEN_CHAIN_START);
	ev_report_free(r);
}

static void first_seen_after_pruning(void **state)
{
	(void)state;
	char dir[512], cmd[1200];
	new_dir(dir, sizeof(dir), "pruned");
	make_chain(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/%s'", dir, name_at(T0));
	assert_int_equal(system(cmd), 0);
	struct ev_report *r = load(dir, key, EV_REPORT_HISTORY_MAX, true);
	assert_true(r->verify.verified);
	const struct ev_report_finding *f =
	    find(r, "root-mfa", ACCT_A, "", "root");
	assert_int_equal(f->seen, EV_REPORT_SEEN_OR_EARLIER);
	assert_string_equal(f->first_seen, name_at(T0 + HOUR));
	assert_non_null(strstr(r->history_end, "not present"));
	assert_int_equal(r->trend.n, 4);
	ev_report_free(r);
	/* Without --allow-pruned the same directory does not verify. */
	r = load(dir, key, EV_REPORT_HISTORY_MAX, false);
	assert_false(r->verify.verified);
	ev_report_free(r);
}

/* The unit of first-seen on its own: snapshots parsed from bytes. */
static struct ev_report_snapshot *parse_dir(const char *snapdir)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/manifest.json", snapdir);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	struct ev_report_snapshot *s = NULL;
	struct ev_error err;
	assert_int_equal(ev_report_snapshot_parse(buf, n, &s, &err), EV_OK);
	for (size_t i = 0; i < s->n_accounts; i++) {
		snprintf(path, sizeof(path), "%s/%s", snapdir,
			 s->accounts[i].part);
		f = fopen(path, "rb");
		assert_non_null(f);
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		assert_int_equal(
		    ev_report_snapshot_add_account(s, buf, n, &err), EV_OK);
	}
	assert_int_equal(ev_report_snapshot_finish(s), EV_OK);
	return s;
}

static void first_seen_steps(void **state)
{
	(void)state;
	char dir[512], p[4][700];
	new_dir(dir, sizeof(dir), "steps");
	make_chain(dir);
	for (int i = 0; i < 4; i++)
		snprintf(p[i], sizeof(p[i]), "%s/%s", dir,
			 name_at(T0 + (i + 1) * HOUR));
	struct ev_report_snapshot *head = parse_dir(p[3]);
	struct ev_report_snapshot *s3 = parse_dir(p[2]);
	struct ev_report_snapshot *s2 = parse_dir(p[1]);
	/* Four open findings in S4; S3 has the same four open. */
	assert_int_equal(ev_report_first_seen_begin(head), 4);
	assert_int_equal(ev_report_first_seen_apply(head, s3), 4);
	/* In S2 only root and i-2 are still open. */
	assert_int_equal(ev_report_first_seen_apply(head, s2), 2);
	ev_report_first_seen_end(head, false);
	char uid[EV_SHA256_HEX_LEN + 1];
	ev_report_finding_uid("root-mfa", ACCT_A, "", "root", 1, uid);
	const struct ev_report_finding *f = ev_report_snapshot_find(head, uid);
	assert_int_equal(f->seen, EV_REPORT_SEEN_OR_EARLIER);
	assert_string_equal(f->first_seen, s2->name);
	ev_report_finding_uid("cloudtrail", ACCT_A, "us-east-1", "trail", 1,
			      uid);
	f = ev_report_snapshot_find(head, uid);
	assert_int_equal(f->seen, EV_REPORT_SEEN_EXACT);
	assert_string_equal(f->first_seen, s3->name);
	/* Controls come from the catalog the snapshot was judged by. */
	assert_int_equal(f->n_controls, 1);
	assert_string_equal(head->controls[f->controls[0]].id, "DEVOPS-1");
	ev_report_snapshot_free(head);
	ev_report_snapshot_free(s3);
	ev_report_snapshot_free(s2);
}

static void diff_cases(void **state)
{
	(void)state;
	char dir[512];
	new_dir(dir, sizeof(dir), "diff");
	static const struct tf old_a[] = {
	    {"root-mfa", NULL, "root", EV_STATUS_FAIL, "root MFA off"},
	    {"vpc-only", "us-east-1", "i-1", EV_STATUS_FAIL, "classic"},
	    {"cloudtrail", "us-east-1", "trail", EV_STATUS_ERROR, "denied"},
	    {"vpc-only", "us-east-1", "i-9", EV_STATUS_FAIL, "classic"},
	};
	static const struct tf new_a[] = {
	    {"root-mfa", NULL, "root", EV_STATUS_FAIL, "root MFA off"},
	    {"vpc-only", "us-east-1", "i-1", EV_STATUS_PASS, "in a VPC"},
	    {"cloudtrail", "us-east-1", "trail", EV_STATUS_PASS, "logging"},
	    {"vpc-only", "eu-west-1", "i-3", EV_STATUS_FAIL, "classic"},
	};
	static const struct tf new_b[] = {
	    {"root-mfa", NULL, "root", EV_STATUS_ERROR, "cannot assume"},
	};
	const struct tacct o[] = {
	    {ACCT_A, regions_1, 1, old_a, 4, false},
	    {ACCT_B, NULL, 0, NULL, 0, true},
	};
	const struct tacct n[] = {
	    {ACCT_A, regions_2, 2, new_a, 4, false},
	    {ACCT_B, regions_1, 1, new_b, 1, false},
	};
	snap(dir, T0, o, 2, "not-met", "error");
	snap(dir, T0 + HOUR, n, 2, "not-met", "met");
	char po[600], pn[600];
	snprintf(po, sizeof(po), "%s/%s", dir, name_at(T0));
	snprintf(pn, sizeof(pn), "%s/%s", dir, name_at(T0 + HOUR));
	struct ev_report *ro = load(po, key, 0, false);
	struct ev_report *rn = load(pn, key, EV_REPORT_HISTORY_MAX, false);
	struct ev_report_diff d;
	assert_int_equal(ev_report_diff(ro->snap, rn->snap, &d), EV_OK);

	assert_int_equal(d.n_controls, 1);
	assert_string_equal(d.controls[0].id, "DEVOPS-1");
	assert_int_equal(d.controls[0].from, EV_VERDICT_ERROR);
	assert_int_equal(d.controls[0].to, EV_VERDICT_MET);

	/* New: i-3 (a new region) and B's root (a new account). */
	assert_int_equal(d.n_opened, 2);
	assert_string_equal(d.opened[0]->account_id, ACCT_A);
	assert_string_equal(d.opened[0]->resource, "i-3");
	assert_string_equal(d.opened[1]->account_id, ACCT_B);
	/* Resolved: i-1 and trail now pass, i-9 is gone. */
	assert_int_equal(d.n_resolved, 3);
	assert_string_equal(d.resolved[0].old->probe, "cloudtrail");
	assert_int_equal(d.resolved[0].now->status, EV_STATUS_PASS);
	assert_string_equal(d.resolved[1].old->resource, "i-1");
	assert_non_null(d.resolved[1].now);
	assert_string_equal(d.resolved[2].old->resource, "i-9");
	assert_null(d.resolved[2].now);
	/* Still open: root, first seen in the old snapshot. */
	assert_int_equal(d.n_still_open, 1);
	assert_string_equal(d.still_open[0]->resource, "root");
	assert_string_equal(d.still_open[0]->first_seen, name_at(T0));

	/* Coverage: B was skipped and is now collected; A gained a
	 * region. Nothing left. */
	assert_int_equal(d.n_accounts_entered, 1);
	assert_string_equal(d.accounts_entered[0], ACCT_B);
	assert_int_equal(d.n_accounts_left, 0);
	assert_int_equal(d.n_regions_entered, 2);
	assert_string_equal(d.regions_entered[0].account, ACCT_A);
	assert_string_equal(d.regions_entered[0].region, "eu-west-1");
	assert_string_equal(d.regions_entered[1].account, ACCT_B);
	assert_int_equal(d.n_regions_left, 0);

	/* The other way round, everything mirrors. */
	struct ev_report_diff back;
	assert_int_equal(ev_report_diff(rn->snap, ro->snap, &back), EV_OK);
	assert_int_equal(back.n_opened, 3);
	assert_int_equal(back.n_resolved, 2);
	assert_int_equal(back.n_still_open, 1);
	assert_int_equal(back.n_accounts_left, 1);
	assert_int_equal(back.n_regions_left, 2);
	ev_report_diff_cleanup(&back);

	/* The JSON and text forms say the same. */
	json_t *j = ev_report_diff_json(ro, rn, &d);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(
			     json_object_get(j, "findings"), "resolved")),
			 3);
	json_t *c0 = json_array_get(json_object_get(j, "controls"), 0);
	assert_string_equal(json_string_value(json_object_get(c0, "from")),
			    "error");
	assert_string_equal(json_string_value(json_object_get(c0, "to")),
			    "met");
	json_decref(j);
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	assert_int_equal(ev_report_diff_write_text(ro, rn, &d, m), EV_OK);
	fclose(m);
	assert_non_null(strstr(text, "DEVOPS-1  error -> met"));
	assert_non_null(strstr(text, "2 new, 3 resolved, 1 still open"));
	assert_non_null(strstr(text, "resolved gone"));
	assert_non_null(strstr(text, "accounts entered: 1  " ACCT_B));
	free(text);

	ev_report_diff_cleanup(&d);
	/* A diff of a snapshot with itself is empty. */
	assert_int_equal(ev_report_diff(rn->snap, rn->snap, &d), EV_OK);
	assert_int_equal(d.n_controls + d.n_opened + d.n_resolved +
			     d.n_accounts_entered + d.n_accounts_left +
			     d.n_regions_entered + d.n_regions_left,
			 0);
	assert_int_equal(d.n_still_open, 3);
	ev_report_diff_cleanup(&d);
	ev_report_free(ro);
	ev_report_free(rn);
}

static json_t *path(json_t *o, const char *a, const char *b, const char *c)
{
	o = json_object_get(o, a);
	if (b)
		o = json_object_get(o, b);
	if (c)
		o = json_object_get(o, c);
	return o;
}

static void ocsf_shape(void **state)
{
	(void)state;
	char dir[512];
	new_dir(dir, sizeof(dir), "ocsf");
	make_chain(dir);
	struct ev_report *r = load(dir, key, EV_REPORT_HISTORY_MAX, false);
	const struct ev_report_finding *f =
	    find(r, "root-mfa", ACCT_A, "", "root");
	json_t *e = ev_report_ocsf_event(r, f);
	assert_non_null(e);
	assert_int_equal(json_integer_value(path(e, "class_uid", 0, 0)), 2003);
	assert_int_equal(json_integer_value(path(e, "category_uid", 0, 0)), 2);
	/* Open since an earlier snapshot: an update of the finding. */
	assert_int_equal(json_integer_value(path(e, "activity_id", 0, 0)), 2);
	assert_int_equal(json_integer_value(path(e, "type_uid", 0, 0)), 200302);
	assert_int_equal(json_integer_value(path(e, "severity_id", 0, 0)), 4);
	assert_int_equal(json_integer_value(path(e, "status_id", 0, 0)), 1);
	assert_int_equal(json_integer_value(path(e, "time", 0, 0)),
			 (json_int_t)r->snap->finished_at * 1000);
	assert_string_equal(
	    json_string_value(path(e, "metadata", "version", 0)), "1.3.0");
	assert_string_equal(
	    json_string_value(path(e, "metadata", "product", "name")),
	    "evident");
	assert_non_null(json_string_value(path(e, "metadata", "uid", 0)));
	assert_string_equal(
	    json_string_value(path(e, "finding_info", "uid", 0)), f->uid);
	assert_int_equal(
	    json_integer_value(path(e, "finding_info", "first_seen_time", 0)),
	    (json_int_t)T0 * 1000);
	json_t *c = json_object_get(e, "compliance");
	assert_string_equal(json_string_value(json_object_get(c, "control")),
			    "root-mfa");
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(c, "requirements"), 0)),
			    "MSP-1");
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(c, "standards"), 0)),
			    "MSP Checklist v3.1");
	assert_int_equal(json_integer_value(json_object_get(c, "status_id")),
			 3);
	json_t *res = json_array_get(json_object_get(e, "resources"), 0);
	assert_string_equal(json_string_value(json_object_get(res, "uid")),
			    "root");
	assert_string_equal(
	    json_string_value(path(res, "owner", "account", "uid")), ACCT_A);
	assert_string_equal(json_string_value(path(e, "cloud", "provider", 0)),
			    "AWS");
	assert_string_equal(
	    json_string_value(path(e, "cloud", "account", "uid")), ACCT_A);
	assert_int_equal(
	    json_integer_value(path(e, "cloud", "account", "type_id")), 10);
	json_decref(e);

	/* A passing finding: resolved, Pass, created in this snapshot. */
	f = find(r, "root-mfa", ACCT_A, "", "other");
	e = ev_report_ocsf_event(r, f);
	assert_int_equal(json_integer_value(path(e, "activity_id", 0, 0)), 1);
	assert_int_equal(json_integer_value(path(e, "status_id", 0, 0)), 4);
	assert_int_equal(
	    json_integer_value(path(e, "compliance", "status_id", 0)), 1);
	assert_null(path(e, "finding_info", "first_seen_time", 0));
	json_decref(e);

	/* The stream: one parseable event per line, one line per finding. */
	char *text = render(r, EV_REPORT_OCSF);
	size_t lines = 0;
	for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		json_error_t jerr;
		json_t *x = json_loads(line, 0, &jerr);
		assert_non_null(x);
		json_decref(x);
		lines++;
	}
	assert_int_equal(lines, r->snap->n_findings);
	free(text);
	ev_report_free(r);
}

static void writers(void **state)
{
	(void)state;
	char dir[512];
	new_dir(dir, sizeof(dir), "writers");
	static const struct tf hostile[] = {
	    {"vpc-only", "us-east-1", "<img src=x onerror=alert(1)>",
	     EV_STATUS_FAIL, "=cmd|' /C calc'!A0"},
	    {"root-mfa", NULL, "root", EV_STATUS_PASS, "a, \"quoted\"\nreason"},
	};
	const struct tacct a = {ACCT_A, regions_1, 1, hostile, 2, false};
	snap(dir, T0, &a, 1, "not-met", "met");
	struct ev_report *r = load(dir, key, EV_REPORT_HISTORY_MAX, false);

	char *html = render(r, EV_REPORT_HTML);
	assert_null(strstr(html, "<img"));
	assert_null(strstr(html, "<b>audit"));
	assert_null(strstr(html, "<script"));
	assert_non_null(strstr(html, "&lt;img src=x onerror=alert(1)&gt;"));
	char *t = strstr(html, "<table id=\"verdicts\">");
	assert_non_null(t);
	char *end = strstr(t, "</table>");
	size_t rows = 0;
	for (char *p = t; (p = strstr(p, "<tr data-control=")) && p < end; p++)
		rows++;
	assert_int_equal(rows, r->snap->n_controls);
	assert_non_null(strstr(html, "Signature verified by key"));
	free(html);

	char *csv = render(r, EV_REPORT_CSV);
	const char *header = "snapshot,account,region,probe,controls,status,"
			     "resource,reason,error_code,request_id,"
			     "first_seen\r\n";
	assert_memory_equal(csv, header, strlen(header));
	assert_non_null(strstr(csv, ",'=cmd|' /C calc'!A0,"));
	assert_non_null(strstr(csv, ",\"a, \"\"quoted\"\"\nreason\","));
	assert_non_null(strstr(csv, ",MSP-1,fail,"));
	size_t crlf = 0;
	for (char *p = csv; (p = strstr(p, "\r\n")); p += 2)
		crlf++;
	assert_int_equal(crlf, 1 + r->snap->n_findings);
	free(csv);

	char *md = render(r, EV_REPORT_MD);
	assert_non_null(strstr(md, "| Control | Title | Verdict |"));
	assert_non_null(strstr(md, "\\<img src=x onerror=alert(1)\\>"));
	/* No raw markup: every '<' is escaped. */
	for (char *p = md; (p = strchr(p, '<')); p++)
		assert_true(p > md && p[-1] == '\\');
	free(md);

	char *js = render(r, EV_REPORT_JSON);
	json_error_t jerr;
	json_t *doc = json_loads(js, 0, &jerr);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "findings")), 2);
	assert_true(json_is_true(path(doc, "verification", "verified", 0)));
	json_t *f0 = json_array_get(json_object_get(doc, "findings"), 0);
	assert_string_equal(json_string_value(json_object_get(f0, "uid")),
			    r->snap->findings[0].uid);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(f0, "first_seen"), "bound")),
			    "chain-start");
	assert_int_equal(json_array_size(json_object_get(f0, "evidence")), 1);
	json_decref(doc);
	free(js);
	ev_report_free(r);
}

static void verification_shown(void **state)
{
	(void)state;
	char dir[512], part[700];
	new_dir(dir, sizeof(dir), "tamper");
	make_chain(dir);
	/* No trusted key: intact, signer not established. */
	struct ev_report *r = load(dir, NULL, 0, false);
	assert_true(r->verify.verified);
	assert_false(r->verify.trusted_key);
	char buf[512];
	assert_non_null(
	    strstr(ev_report_verification_summary(r, buf, sizeof(buf)),
		   "not established"));
	ev_report_free(r);

	/* Another key: a failure, shown. */
	r = load(dir, other, 0, false);
	assert_false(r->verify.verified);
	assert_string_equal(r->verify.listed[0].problem, "key");
	char *html = render(r, EV_REPORT_HTML);
	assert_non_null(strstr(html, "VERIFICATION FAILED"));
	free(html);
	ev_report_free(r);

	/* An altered part: its findings are not shown. */
	snprintf(part, sizeof(part), "%s/%s/accounts/%s.json", dir,
		 name_at(T0 + 4 * HOUR), ACCT_A);
	FILE *f = fopen(part, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 20, SEEK_SET), 0);
	int c = fgetc(f);
	assert_int_equal(fseek(f, 20, SEEK_SET), 0);
	fputc(c ^ 0x01, f);
	fclose(f);
	r = load(dir, key, EV_REPORT_HISTORY_MAX, false);
	assert_false(r->verify.verified);
	assert_int_equal(r->snap->parts_unusable, 1);
	assert_int_equal(r->snap->n_findings, 0);
	assert_non_null(strstr(r->snap->accounts[0].problem, "SHA-256"));
	ev_report_free(r);
}

static void malformed_input(void **state)
{
	(void)state;
	char dir[512], p[700];
	new_dir(dir, sizeof(dir), "malformed");
	make_chain(dir);
	snprintf(p, sizeof(p), "%s/%s", dir, name_at(T0));
	struct ev_report_snapshot *s = parse_dir(p);
	struct ev_error err;
	/* The account was added already. */
	snprintf(p, sizeof(p), "%s/%s/accounts/%s.json", dir, name_at(T0),
		 ACCT_A);
	FILE *f = fopen(p, "rb");
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(ev_report_snapshot_add_account(s, buf, n, &err),
			 EV_E_MALFORMED);
	assert_non_null(strstr(err.message, "added twice"));
	ev_report_snapshot_free(s);

	/* Parts of the wrong shape, each refused with its reason. */
	snprintf(p, sizeof(p), "%s/%s", dir, name_at(T0));
	char mpath[800];
	snprintf(mpath, sizeof(mpath), "%s/manifest.json", p);
	f = fopen(mpath, "rb");
	static char mbuf[1 << 20];
	size_t mn = fread(mbuf, 1, sizeof(mbuf), f);
	fclose(f);
	static const struct {
		const char *json, *why;
	} bad[] = {
	    {"not json", "not JSON"},
	    {"[]", "not a JSON object"},
	    {"{\"format\":2}", "format"},
	    {"{\"format\":1,\"snapshot\":\"20200101T000000Z\"}", "snapshot"},
	    {"{\"format\":1,\"snapshot\":\"%s\",\"account\":{\"id\":"
	     "\"999999999999\"}}",
	     "not listed"},
	    {"{\"format\":1,\"snapshot\":\"%s\",\"account\":{\"id\":\"" ACCT_A
	     "\"},\"findings\":[{\"probe\":\"x\",\"resource\":\"r\","
	     "\"status\":\"bogus\"}]}",
	     "status"},
	    {"{\"format\":1,\"snapshot\":\"%s\",\"account\":{\"id\":\"" ACCT_A
	     "\"},\"findings\":[{\"probe\":1}]}",
	     "probe"},
	    {"{\"format\":1,\"snapshot\":\"%s\",\"account\":{\"id\":\"" ACCT_A
	     "\"},\"observations\":[{\"id\":-1}]}",
	     "id"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ev_report_snapshot_parse(mbuf, mn, &s, &err),
				 EV_OK);
		/* "%s" in a case stands for the snapshot's name. */
		char doc[512];
		const char *hole = strstr(bad[i].json, "%s");
		if (hole)
			snprintf(doc, sizeof(doc), "%.*s%s%s",
				 (int)(hole - bad[i].json), bad[i].json,
				 name_at(T0), hole + 2);
		else
			snprintf(doc, sizeof(doc), "%s", bad[i].json);
		ev_error_clear(&err);
		assert_int_equal(
		    ev_report_snapshot_add_account(s, doc, strlen(doc), &err),
		    EV_E_MALFORMED);
		if (!strstr(err.message, bad[i].why))
			fail_msg("case %zu: %s", i, err.message);
		/* Nothing of a refused part is kept. */
		assert_int_equal(s->n_findings, 0);
		ev_report_snapshot_free(s);
	}
	assert_int_equal(ev_report_snapshot_parse("{}", 2, &s, &err),
			 EV_E_MALFORMED);
	assert_null(s);
	/* A control with an unknown verdict. */
	json_error_t jerr;
	json_t *m = json_loadb(mbuf, mn, 0, &jerr);
	json_t *c0 = json_array_get(
	    json_object_get(json_object_get(m, "controls"), "controls"), 0);
	json_object_set_new(c0, "verdict", json_string("fine"));
	char *text = json_dumps(m, 0);
	assert_int_equal(ev_report_snapshot_parse(text, strlen(text), &s, &err),
			 EV_E_MALFORMED);
	assert_non_null(strstr(err.message, "verdict"));
	free(text);
	json_decref(m);
}

/* Probes do not make two findings of one identity, but a snapshot that
 * holds them keeps both addressable, in file order. */
static void duplicate_identities(void **state)
{
	(void)state;
	char dir[512];
	new_dir(dir, sizeof(dir), "dup");
	static const struct tf twice[] = {
	    {"vpc-only", "us-east-1", "i-1", EV_STATUS_FAIL, "first"},
	    {"vpc-only", "us-east-1", "i-1", EV_STATUS_FAIL, "second"},
	    {"vpc-only", "us-east-1", "i-1", EV_STATUS_PASS, "third"},
	};
	const struct tacct a = {ACCT_A, regions_1, 1, twice, 3, false};
	snap(dir, T0, &a, 1, "not-met", "met");
	struct ev_report *r = load(dir, key, EV_REPORT_HISTORY_MAX, false);
	assert_int_equal(r->snap->n_findings, 3);
	const struct ev_report_finding *f =
	    find(r, "vpc-only", ACCT_A, "us-east-1", "i-1");
	assert_string_equal(f->reason, "first");
	for (unsigned k = 2; k <= 3; k++) {
		char uid[EV_SHA256_HEX_LEN + 1];
		ev_report_finding_uid("vpc-only", ACCT_A, "us-east-1", "i-1", k,
				      uid);
		f = ev_report_snapshot_find(r->snap, uid);
		assert_non_null(f);
		assert_string_equal(f->reason, k == 2 ? "second" : "third");
	}
	ev_report_free(r);
}

static void missing_path(void **state)
{
	(void)state;
	char dir[512];
	new_dir(dir, sizeof(dir), "empty");
	assert_int_equal(mkdir(dir, 0700), 0);
	struct ev_report_options o = {.path = dir};
	struct ev_report *r = NULL;
	struct ev_error err;
	assert_int_equal(ev_report_load(&o, &r, &err), EV_E_NOT_FOUND);
	assert_null(r);
	char nowhere[600];
	snprintf(nowhere, sizeof(nowhere), "%s/20250101T000000Z", dir);
	o.path = nowhere;
	assert_int_equal(ev_report_load(&o, &r, &err), EV_E_NOT_FOUND);
	enum ev_report_format fmt;
	assert_int_equal(ev_report_format_parse("pdf", &fmt), EV_E_INVALID);
	assert_int_equal(ev_report_format_parse("ocsf", &fmt), EV_OK);
	assert_int_equal(fmt, EV_REPORT_OCSF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(html_escaping),
	    cmocka_unit_test(markdown_escaping),
	    cmocka_unit_test(csv_quoting),
	    cmocka_unit_test(text_escaping),
	    cmocka_unit_test(identity),
	    cmocka_unit_test(first_seen_over_chain),
	    cmocka_unit_test(first_seen_after_pruning),
	    cmocka_unit_test(first_seen_steps),
	    cmocka_unit_test(diff_cases),
	    cmocka_unit_test(ocsf_shape),
	    cmocka_unit_test(writers),
	    cmocka_unit_test(verification_shown),
	    cmocka_unit_test(malformed_input),
	    cmocka_unit_test(duplicate_identities),
	    cmocka_unit_test(missing_path),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
