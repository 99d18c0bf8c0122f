/* The evidence writer and `verify`: snapshots written, chained, tampered
 * with in every way the format is meant to catch, and checked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <zlib.h>

#include "digest.h"
#include "evidence.h"
#include "keys.h"
#include "manifest.h"
#include "timefmt.h"

#define T0 ((time_t)1735689600) /* 2025-01-01T00:00:00Z */

static char tmpdir[256];
static char key_path[512];
static struct ev_key *key; /* the trusted public half of key_path */

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ev-evidence-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(key_path, sizeof(key_path), "%s/signing.key", tmpdir);
	struct ev_error err;
	struct ev_key *k = ev_keys_generate(&err);
	if (!k || ev_keys_write_private(k, key_path, false, &err) != EV_OK)
		return -1;
	ev_keys_free(k);
	key = ev_keys_load_public(key_path, &err);
	return key ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ev_keys_free(key);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A fresh snapshot directory per test. */
static void new_dir(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out);
	assert_int_equal(system(cmd), 0);
}

static void add_obs(struct ev_observations *o, unsigned id, const char *body,
		    size_t len, bool withheld)
{
	o->items = realloc(o->items, (o->n + 1) * sizeof(*o->items));
	assert_non_null(o->items);
	struct ev_observation *x = &o->items[o->n++];
	memset(x, 0, sizeof(*x));
	x->id = id;
	snprintf(x->service, sizeof(x->service), "iam");
	snprintf(x->action, sizeof(x->action), "GetAccountSummary");
	snprintf(x->region, sizeof(x->region), "us-east-1");
	snprintf(x->account, sizeof(x->account), "111111111111");
	x->time = T0 + 5;
	x->http_status = 200;
	snprintf(x->request_id, sizeof(x->request_id), "req-%u", id);
	ev_sha256_hex(body, len, x->body_sha256);
	x->body_len = len;
	x->body_withheld = withheld;
	if (!withheld) {
		x->body = malloc(len + 1);
		assert_non_null(x->body);
		memcpy(x->body, body, len);
		x->body[len] = '\0';
	}
	x->seconds = 0.25;
	x->attempts = 1;
}

/* One collected account with a finding resting on one observation. */
static void add_simple_account(struct ev_evidence *e, const char *id)
{
	struct ev_findings f;
	struct ev_observations o;
	ev_findings_init(&f);
	ev_observations_init(&o, 1 << 20);
	const char body[] = "<GetAccountSummaryResponse/>";
	add_obs(&o, 1, body, strlen(body), false);
	unsigned obs[] = {1};
	assert_int_equal(ev_findings_add(&f, "root-mfa", id, "", "root",
					 EV_STATUS_PASS, NULL, obs, 1,
					 "root MFA is on"),
			 EV_OK);
	const char *regions[] = {"us-east-1"};
	struct ev_evidence_account a = {
	    .id = id,
	    .name = "prod",
	    .regions = regions,
	    .n_regions = 1,
	    .findings = &f,
	    .observations = &o,
	};
	struct ev_error err;
	assert_int_equal(ev_evidence_add_account(e, &a, &err), EV_OK);
	ev_findings_cleanup(&f);
	ev_observations_cleanup(&o);
}

static json_t *fields(void)
{
	return json_pack("{s:{s:s,s:s},s:{s:i},s:[]}", "identity", "arn",
			 "arn:aws:iam::111111111111:user/audit", "account",
			 "111111111111", "thresholds",
			 "access_key_max_age_days", 90, "documents");
}

static void write_snapshot(const char *dir, time_t t, int n_accounts, char *out,
			   size_t n)
{
	struct ev_evidence_options o = {
	    .snapshot_dir = dir, .started_at = t, .signing_key_path = key_path};
	struct ev_error err;
	struct ev_evidence *e = ev_evidence_begin(&o, &err);
	assert_non_null(e);
	for (int i = 0; i < n_accounts; i++) {
		char id[16];
		snprintf(id, sizeof(id), "%012d", 100000 + i);
		add_simple_account(e, id);
	}
	assert_int_equal(ev_evidence_commit(e, fields(), out, n, &err), EV_OK);
}

static void make_chain(const char *dir, int n, time_t t0)
{
	char out[1024];
	for (int i = 0; i < n; i++)
		write_snapshot(dir, t0 + 60 * i, 2, out, sizeof(out));
}

/* The name of the i-th snapshot make_chain wrote. */
static const char *snap_name(time_t t0, int i)
{
	static char names[8][EV_AMZ_DATE_LEN + 1];
	ev_time_format_amz(t0 + 60 * i, names[i]);
	return names[i];
}

struct collector {
	size_t n;
	enum ev_manifest_problem kind[256];
	char snapshot[256][EV_SNAPSHOT_NAME_LEN + 1];
	char message[256][512];
};

static void collect(void *ctx, const struct ev_manifest_event *ev)
{
	struct collector *c = ctx;
	if (c->n == 256)
		return;
	c->kind[c->n] = ev->problem;
	snprintf(c->snapshot[c->n], sizeof(c->snapshot[0]), "%s", ev->snapshot);
	snprintf(c->message[c->n], sizeof(c->message[0]), "%s", ev->message);
	c->n++;
}

static enum ev_err verify_with(const char *path, const struct ev_key *k,
			       bool embedded, bool pruned, struct collector *c,
			       struct ev_manifest_summary *sum)
{
	memset(c, 0, sizeof(*c));
	const struct ev_key *keys[] = {k};
	struct ev_manifest_verify_options o = {
	    .path = path,
	    .keys = k ? keys : NULL,
	    .n_keys = k ? 1 : 0,
	    .trust_embedded_key = embedded,
	    .allow_pruned = pruned,
	    .on_event = collect,
	    .ctx = c,
	};
	struct ev_error err;
	ev_error_clear(&err);
	return ev_manifest_verify(&o, sum, &err);
}

static enum ev_err verify(const char *path, struct collector *c)
{
	struct ev_manifest_summary sum;
	return verify_with(path, key, false, false, c, &sum);
}

/* True when an event of this kind for this snapshot mentions text. */
static bool has(const struct collector *c, enum ev_manifest_problem kind,
		const char *snapshot, const char *text)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->kind[i] == kind &&
		    (!snapshot || strcmp(c->snapshot[i], snapshot) == 0) &&
		    strstr(c->message[i], text))
			return true;
	return false;
}

static size_t count_problems(const struct collector *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++)
		n += c->kind[i] != EV_PROBLEM_NONE;
	return n;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return p;
}

static void write_all(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* Flips one byte of a file in place (at offset, or the middle). */
static void flip_byte(const char *path, long offset)
{
	size_t n;
	char *p = read_all(path, &n);
	size_t at = offset >= 0 ? (size_t)offset : n / 2;
	assert_true(at < n);
	p[at] ^= 0x01;
	write_all(path, p, n);
	free(p);
}

static json_t *load_json(const char *path)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	assert_non_null(j);
	return j;
}

static void inflate_gzip(const unsigned char *in, size_t n, char *out,
			 size_t cap, size_t *out_len)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = (unsigned char *)in;
	zs.avail_in = (uInt)n;
	zs.next_out = (unsigned char *)out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	*out_len = zs.total_out;
	inflateEnd(&zs);
}

static void write_commit_verify(void **state)
{
	(void)state;
	char dir[512], out[1024];
	new_dir(dir, sizeof(dir), "basic");
	struct ev_evidence_options o = {.snapshot_dir = dir,
					.started_at = T0,
					.signing_key_path = key_path};
	struct ev_error err;
	struct ev_evidence *e = ev_evidence_begin(&o, &err);
	assert_non_null(e);
	assert_string_equal(ev_evidence_name(e), "20250101T000000Z");

	/* A collected account: a text body, a large body, a binary body, a
	 * withheld one (AssumeRole), one dropped past the budget. */
	struct ev_findings f;
	struct ev_observations obs;
	ev_findings_init(&f);
	ev_observations_init(&obs, 1 << 24);
	const char text[] = "{\"SummaryMap\":{\"AccountMFAEnabled\":1}}";
	add_obs(&obs, 1, text, strlen(text), false);
	size_t big_len = EV_EVIDENCE_INLINE_MAX * 3;
	char *big = malloc(big_len);
	assert_non_null(big);
	for (size_t i = 0; i < big_len; i++)
		big[i] = "<Users><Member/></Users>\n"[i % 25];
	add_obs(&obs, 2, big, big_len, false);
	const char binary[] = {'\xff', '\xfe', 0, 'x'};
	add_obs(&obs, 3, binary, sizeof(binary), false);
	add_obs(&obs, 4, "<Credentials>secret</Credentials>", 33, true);
	add_obs(&obs, 5, "dropped", 7, false);
	free(obs.items[4].body);
	obs.items[4].body = NULL;
	snprintf(obs.items[1].error_code, sizeof(obs.items[1].error_code),
		 "Throttling");
	unsigned cite[] = {1, 2};
	assert_int_equal(ev_findings_add(&f, "root-mfa", "111111111111", "",
					 "arn:aws:iam::111111111111:root",
					 EV_STATUS_PASS,
					 json_pack("{s:s}", "kind", "virtual"),
					 cite, 2, "root MFA is on (virtual)"),
			 EV_OK);
	struct ev_error aws_err;
	ev_error_clear(&aws_err);
	ev_error_set(&aws_err, EV_E_ACCESS_DENIED, "not authorized");
	snprintf(aws_err.aws_code, sizeof(aws_err.aws_code), "AccessDenied");
	snprintf(aws_err.request_id, sizeof(aws_err.request_id), "rid-9");
	assert_int_equal(ev_findings_add_error(&f, "cloudtrail", "111111111111",
					       "eu-west-1", "", &aws_err, cite,
					       1, "DescribeTrails"),
			 EV_OK);
	const char *regions[] = {"us-east-1", "eu-west-1"};
	struct ev_evidence_region_skip skipped[] = {
	    {"af-south-1", "not-opted-in"}};
	json_t *facts = json_pack("{s:s}", "credential_report_generated",
				  "2025-01-01T00:00:00Z");
	struct ev_evidence_account a1 = {
	    .id = "111111111111",
	    .name = "prod",
	    .regions = regions,
	    .n_regions = 2,
	    .regions_skipped = skipped,
	    .n_regions_skipped = 1,
	    .findings = &f,
	    .observations = &obs,
	    .facts = facts,
	};
	assert_int_equal(ev_evidence_add_account(e, &a1, &err), EV_OK);
	json_decref(facts);
	ev_findings_cleanup(&f);
	ev_observations_cleanup(&obs);

	/* A skipped account: the role could not be assumed. */
	struct ev_error assume;
	ev_error_clear(&assume);
	ev_error_set(&assume, EV_E_ACCESS_DENIED, "not authorized to assume");
	snprintf(assume.aws_code, sizeof(assume.aws_code), "AccessDenied");
	snprintf(assume.request_id, sizeof(assume.request_id), "rid-assume");
	struct ev_evidence_account a2 = {
	    .id = "222222222222",
	    .status = EV_COLLECTION_SKIPPED,
	    .skip_reason = "role not assumable",
	    .skip_error = &assume,
	};
	assert_int_equal(ev_evidence_add_account(e, &a2, &err), EV_OK);
	/* The same account twice is refused, and leaves no trace. */
	assert_int_equal(ev_evidence_add_account(e, &a2, &err), EV_E_INVALID);
	struct ev_evidence_account bad = {.id = "../../etc/x"};
	assert_int_equal(ev_evidence_add_account(e, &bad, &err), EV_E_INVALID);

	assert_int_equal(
	    ev_evidence_commit(e, fields(), out, sizeof(out), &err), EV_OK);
	char expect[600];
	snprintf(expect, sizeof(expect), "%s/20250101T000000Z", dir);
	assert_string_equal(out, expect);

	struct collector c;
	struct ev_manifest_summary sum;
	assert_int_equal(verify_with(dir, key, false, false, &c, &sum), EV_OK);
	assert_int_equal(sum.snapshots, 1);
	assert_int_equal(sum.verified, 1);
	assert_int_equal(sum.parts, 2);
	assert_true(
	    has(&c, EV_PROBLEM_NONE, "20250101T000000Z", "first of the chain"));
	/* The snapshot alone verifies the same way. */
	assert_int_equal(verify(out, &c), EV_OK);

	/* The manifest: the writer's members, the caller's, the parts. */
	char path[1200];
	snprintf(path, sizeof(path), "%s/manifest.json", out);
	json_t *m = load_json(path);
	assert_int_equal(json_integer_value(json_object_get(m, "format")), 1);
	assert_true(json_is_null(json_object_get(m, "previous")));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(m, "signing_key"),
					      "fingerprint_sha256")),
	    ev_keys_fingerprint(key));
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(m, "identity"), "account")),
			    "111111111111");
	json_t *parts = json_object_get(m, "parts");
	assert_int_equal(json_array_size(parts), 2);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(parts, 1), "collection")),
			    "skipped");
	json_decref(m);

	/* The account part: findings, coverage, raw evidence. */
	snprintf(path, sizeof(path), "%s/accounts/111111111111.json", out);
	json_t *acct = load_json(path);
	json_t *fl = json_object_get(acct, "findings");
	assert_int_equal(json_array_size(fl), 2);
	json_t *ferr = json_array_get(fl, 1);
	assert_string_equal(json_string_value(json_object_get(ferr, "status")),
			    "error");
	assert_string_equal(
	    json_string_value(json_object_get(ferr, "error_code")),
	    "AccessDenied");
	assert_string_equal(
	    json_string_value(json_object_get(ferr, "request_id")), "rid-9");
	assert_int_equal(json_array_size(json_object_get(json_array_get(fl, 0),
							 "observations")),
			 2);
	json_t *cov = json_object_get(acct, "coverage");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(cov, "regions_skipped"), 0),
		"opt_in_status")),
	    "not-opted-in");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(acct, "facts"),
					      "credential_report_generated")),
	    "2025-01-01T00:00:00Z");
	json_t *ol = json_object_get(acct, "observations");
	assert_int_equal(json_array_size(ol), 5);
	json_t *b1 = json_object_get(json_array_get(ol, 0), "body");
	assert_string_equal(json_string_value(json_object_get(b1, "encoding")),
			    "text");
	assert_string_equal(json_string_value(json_object_get(b1, "data")),
			    text);
	/* The large body comes back byte for byte, with its hash. */
	json_t *b2 = json_object_get(json_array_get(ol, 1), "body");
	assert_string_equal(json_string_value(json_object_get(b2, "encoding")),
			    "gzip+base64");
	const char *b64 = json_string_value(json_object_get(b2, "data"));
	struct ev_buf gz;
	ev_buf_init(&gz, 1 << 24);
	assert_int_equal(ev_base64_decode(b64, strlen(b64), &gz), EV_OK);
	char *back = malloc(big_len + 16);
	size_t back_len = 0;
	inflate_gzip((unsigned char *)gz.data, gz.len, back, big_len + 16,
		     &back_len);
	assert_int_equal(back_len, big_len);
	assert_memory_equal(back, big, big_len);
	char hex[EV_SHA256_HEX_LEN + 1];
	ev_sha256_hex(back, back_len, hex);
	assert_string_equal(json_string_value(json_object_get(b2, "sha256")),
			    hex);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(ol, 1), "error_code")),
			    "Throttling");
	free(back);
	free(big);
	ev_buf_cleanup(&gz);
	json_t *b3 = json_object_get(json_array_get(ol, 2), "body");
	assert_string_equal(json_string_value(json_object_get(b3, "encoding")),
			    "gzip+base64");
	json_t *b4 = json_object_get(json_array_get(ol, 3), "body");
	assert_string_equal(json_string_value(json_object_get(b4, "encoding")),
			    "withheld");
	assert_null(json_object_get(b4, "data"));
	json_t *b5 = json_object_get(json_array_get(ol, 4), "body");
	assert_string_equal(json_string_value(json_object_get(b5, "encoding")),
			    "not-kept");
	json_decref(acct);
	/* A withheld body never reaches the disk. */
	char *raw = read_all(path, NULL);
	assert_null(strstr(raw, "secret"));
	free(raw);

	snprintf(path, sizeof(path), "%s/accounts/222222222222.json", out);
	acct = load_json(path);
	json_t *col = json_object_get(acct, "collection");
	assert_string_equal(json_string_value(json_object_get(col, "reason")),
			    "role not assumable");
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(col, "error"), "aws_code")),
			    "AccessDenied");
	json_decref(acct);
}

static void chain_of_three(void **state)
{
	(void)state;
	char dir[512], path[1024];
	new_dir(dir, sizeof(dir), "chain");
	make_chain(dir, 3, T0);
	struct collector c;
	struct ev_manifest_summary sum;
	assert_int_equal(verify_with(dir, key, false, false, &c, &sum), EV_OK);
	assert_int_equal(sum.verified, 3);
	assert_int_equal(sum.parts, 6);
	assert_true(has(&c, EV_PROBLEM_NONE, snap_name(T0, 2),
			"chained to 20250101T000100Z"));
	/* The link is the SHA-256 of the previous manifest's bytes. */
	snprintf(path, sizeof(path), "%s/%s/manifest.json", dir,
		 snap_name(T0, 1));
	size_t n;
	char *bytes = read_all(path, &n);
	char hex[EV_SHA256_HEX_LEN + 1];
	ev_sha256_hex(bytes, n, hex);
	free(bytes);
	snprintf(path, sizeof(path), "%s/%s/manifest.json", dir,
		 snap_name(T0, 2));
	json_t *m = load_json(path);
	json_t *prev = json_object_get(m, "previous");
	assert_string_equal(
	    json_string_value(json_object_get(prev, "snapshot")),
	    snap_name(T0, 1));
	assert_string_equal(
	    json_string_value(json_object_get(prev, "manifest_sha256")), hex);
	json_decref(m);
	/* One snapshot given: it and the chain up to it. */
	snprintf(path, sizeof(path), "%s/%s", dir, snap_name(T0, 1));
	assert_int_equal(verify_with(path, key, false, false, &c, &sum), EV_OK);
	assert_int_equal(sum.snapshots, 2);
	assert_int_equal(sum.parts, 2);
}

static void changed_part(void **state)
{
	(void)state;
	char dir[512], path[1024];
	new_dir(dir, sizeof(dir), "changed-part");
	make_chain(dir, 2, T0);
	snprintf(path, sizeof(path), "%s/%s/accounts/000000100001.json", dir,
		 snap_name(T0, 1));
	flip_byte(path, -1);
	struct collector c;
	assert_int_equal(verify(dir, &c), EV_E_AUTH);
	assert_true(has(&c, EV_PROBLEM_PART_CHANGED, snap_name(T0, 1),
			"accounts/000000100001.json changed"));
	assert_int_equal(count_problems(&c), 1);
	/* The first snapshot still verifies on its own line. */
	assert_true(has(&c, EV_PROBLEM_NONE, snap_name(T0, 0), "verified"));
}

static void changed_manifest(void **state)
{
	(void)state;
	char dir[512], path[1024];
	new_dir(dir, sizeof(dir), "changed-manifest");
	make_chain(dir, 3, T0);
	snprintf(path, sizeof(path), "%s/%s/manifest.json", dir,
		 snap_name(T0, 1));
	/* A byte inside a value: the JSON still parses. */
	size_t n;
	char *p = read_all(path, &n);
	char *at = strstr(p, "user/audit");
	assert_non_null(at);
	at[5] = 'X';
	write_all(path, p, n);
	free(p);
	struct collector c;
	assert_int_equal(verify(dir, &c), EV_E_AUTH);
	assert_true(has(&c, EV_PROBLEM_SIGNATURE, snap_name(T0, 1),
			"manifest.sig does not match manifest.json"));
	assert_true(has(&c, EV_PROBLEM_CHAIN_CHANGED, snap_name(T0, 2),
			"the manifest of 20250101T000100Z changed"));
	assert_int_equal(count_problems(&c), 2);

	/* Not JSON any more. */
	write_all(path, "{", 1);
	assert_int_equal(verify(dir, &c), EV_E_AUTH);
	assert_true(
	    has(&c, EV_PROBLEM_MANIFEST, snap_name(T0, 1), "malformed"));
	/* Gone. */
	unlink(path);
	assert_int_equal(verify(dir, &c), EV_E_AUTH);
	assert_true(
	    has(&c, EV_PROBLEM_MANIFEST, snap_name(T0, 1), "is missing"));
}

static void changed_signature(void **state)
{
	(void)state;
	char dir[512], path[1024];
	new_dir(dir, sizeof(dir), "changed-sig");
	make_chain(dir, 2, T0);
	snprintf(path, sizeof(path), "%s/%s/manifest.sig", dir,
		 snap_name(T0, 0));
	flip_byte(path, 7);
	struct collector c;
	assert_int_equal(verify(dir, &c), EV_E_AUTH);
	assert_true(
	    has(&c, EV_PROBLEM_SIGNATURE, snap_name(T0, 0), "does not match"));
	assert_int_equal(count_problems(&c), 1);
	/* Truncated, then missing. */
	write_all(path, "abc", 3);
	assert_int_equal(verify(dir, &c), EV_E_AUTH);
	assert_true(has(&c, EV_PROBLEM_SIGNATURE, snap_name(T0, 0),
			"signature is 3 bytes"));
	unlink(path);
	assert_int_equal(verify(dir, &c), EV_E_AUTH);
	assert_true(has(&c, EV_PROBLEM_SIGNATURE, snap_name(T0, 0),
			"manifest.sig is missing"));
}

static void missing_and_extra_parts(void **state)
{
	(void)state;
	char dir[512], path[1024];
	new_dir(dir, sizeof(dir), "parts");
	make_chain(dir, 1, T0);
	struct collector c;
	snprintf(path, sizeof(path), "%s/%s/accounts/000000100000.json", dir,
		 snap_name(T0, 0));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(verify(dir, &c), EV_E_AUTH);
	assert_true(has(&c, EV_PROBLEM_PART_MISSING, snap_name(T0, 0),
			"accounts/000000100000.json is missing"));
	assert_int_equal(count_problems(&c), 1);

	new_dir(dir, sizeof(dir), "parts-extra");
	make_chain(dir, 1, T0);
	snprintf(path, sizeof(path), "%s/%s/accounts/999999999999.json", dir,
		 snap_name(T0, 0));
	write_all(path, "{}", 2);
	snprintf(path, sizeof(path), "%s/%s/notes.txt", dir, snap_name(T0, 0));
	write_all(path, "x", 1);
	assert_int_equal(verify(dir, &c), EV_E_AUTH);
	assert_true(has(&c, EV_PROBLEM_PART_EXTRA, snap_name(T0, 0),
			"accounts/999999999999.json is not listed"));
	assert_true(has(&c, EV_PROBLEM_PART_EXTRA, snap_name(T0, 0),
			"notes.txt is not listed"));
	assert_int_equal(count_problems(&c), 2);

	/* A part replaced by a symlink to an identical copy is still not the
	 * part. */
	new_dir(dir, sizeof(dir), "parts-link");
	make_chain(dir, 1, T0);
	char copy[1100];
	snprintf(path, sizeof(path), "%s/%s/accounts/000000100000.json", dir,
		 snap_name(T0, 0));
	snprintf(copy, sizeof(copy), "%s/copy.json", tmpdir);
	assert_int_equal(rename(path, copy), 0);
	assert_int_equal(symlink(copy, path), 0);
	assert_int_equal(verify(dir, &c), EV_E_AUTH);
	assert_true(has(&c, EV_PROBLEM_PART_CHANGED, snap_name(T0, 0),
			"not a regular file"));
	unlink(copy);
}

static void rm_rf(const char *path)
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static void deleted_middle_snapshot(void **state)
{
	(void)state;
	char dir[512], path[1024];
	new_dir(dir, sizeof(dir), "deleted");
	make_chain(dir, 3, T0);
	snprintf(path, sizeof(path), "%s/%s", dir, snap_name(T0, 1));
	rm_rf(path);
	struct collector c;
	assert_int_equal(verify(dir, &c), EV_E_AUTH);
	assert_true(has(&c, EV_PROBLEM_CHAIN_DELETED, snap_name(T0, 2),
			"previous snapshot 20250101T000100Z is missing"));
	assert_int_equal(count_problems(&c), 1);

	/* The first one deleted: a pruned chain, refused unless allowed. */
	new_dir(dir, sizeof(dir), "pruned");
	make_chain(dir, 3, T0);
	snprintf(path, sizeof(path), "%s/%s", dir, snap_name(T0, 0));
	rm_rf(path);
	assert_int_equal(verify(dir, &c), EV_E_AUTH);
	assert_true(has(&c, EV_PROBLEM_CHAIN_DELETED, snap_name(T0, 1),
			"is not present"));
	struct ev_manifest_summary sum;
	assert_int_equal(verify_with(dir, key, false, true, &c, &sum), EV_OK);
	assert_int_equal(sum.verified, 2);
	assert_true(has(&c, EV_PROBLEM_NONE, snap_name(T0, 1), "pruned"));
}

static void reordered_snapshots(void **state)
{
	(void)state;
	char dir[512], a[1024], b[1024], t[1024];
	new_dir(dir, sizeof(dir), "reordered");
	make_chain(dir, 3, T0);
	snprintf(a, sizeof(a), "%s/%s", dir, snap_name(T0, 1));
	snprintf(b, sizeof(b), "%s/%s", dir, snap_name(T0, 2));
	snprintf(t, sizeof(t), "%s/swap", dir);
	assert_int_equal(rename(a, t), 0);
	assert_int_equal(rename(b, a), 0);
	assert_int_equal(rename(t, b), 0);
	struct collector c;
	assert_int_equal(verify(dir, &c), EV_E_AUTH);
	assert_true(has(&c, EV_PROBLEM_RENAMED, snap_name(T0, 1),
			"holds snapshot 20250101T000200Z"));
	assert_true(has(&c, EV_PROBLEM_RENAMED, snap_name(T0, 2),
			"holds snapshot 20250101T000100Z"));
	/* The first is untouched. */
	assert_true(has(&c, EV_PROBLEM_NONE, snap_name(T0, 0), "verified"));
}

static void inserted_snapshot(void **state)
{
	(void)state;
	char dir[512], other[512], from[1024], to[1024];
	new_dir(dir, sizeof(dir), "inserted");
	new_dir(other, sizeof(other), "inserted-src");
	/* Snapshots at T0 and T0+120; one from another chain at T0+60. */
	char out[1024];
	write_snapshot(dir, T0, 1, out, sizeof(out));
	write_snapshot(dir, T0 + 120, 1, out, sizeof(out));
	write_snapshot(other, T0 + 60, 1, out, sizeof(out));
	snprintf(from, sizeof(from), "%s/%s", other, snap_name(T0, 1));
	snprintf(to, sizeof(to), "%s/%s", dir, snap_name(T0, 1));
	assert_int_equal(rename(from, to), 0);
	struct collector c;
	assert_int_equal(verify(dir, &c), EV_E_AUTH);
	assert_true(has(&c, EV_PROBLEM_CHAIN_BROKEN, snap_name(T0, 1),
			"begins a new chain"));
	assert_true(has(&c, EV_PROBLEM_CHAIN_INSERTED, snap_name(T0, 2),
			"20250101T000100Z is not part of it"));
}

static void keys_trusted_or_not(void **state)
{
	(void)state;
	char dir[512];
	new_dir(dir, sizeof(dir), "keys");
	make_chain(dir, 2, T0);
	struct ev_error err;
	struct ev_key *stranger = ev_keys_generate(&err);
	assert_non_null(stranger);
	struct collector c;
	struct ev_manifest_summary sum;
	assert_int_equal(verify_with(dir, stranger, false, false, &c, &sum),
			 EV_E_AUTH);
	assert_true(
	    has(&c, EV_PROBLEM_KEY, snap_name(T0, 0), "not a trusted key"));
	/* The embedded key only shows consistency, but it does that. */
	assert_int_equal(verify_with(dir, NULL, true, false, &c, &sum), EV_OK);
	assert_int_equal(sum.verified, 2);
	/* Neither: nothing to verify with. */
	assert_int_equal(verify_with(dir, NULL, false, false, &c, &sum),
			 EV_E_INVALID);

	/* Re-signed by another key, with the manifest naming that key:
	 * consistent for the embedded key, refused by the trusted one. */
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s/manifest.json", dir,
		 snap_name(T0, 1));
	size_t n;
	char *bytes = read_all(path, &n);
	json_t *m = json_loadb(bytes, n, 0, NULL);
	free(bytes);
	assert_non_null(m);
	struct ev_buf pem;
	ev_buf_init(&pem, EV_KEYS_PEM_MAX);
	assert_int_equal(ev_keys_public_pem(stranger, &pem), EV_OK);
	json_object_set_new(m, "signing_key",
			    json_pack("{s:s,s:s,s:s}", "algorithm", "ed25519",
				      "fingerprint_sha256",
				      ev_keys_fingerprint(stranger),
				      "public_key_pem", ev_buf_str(&pem)));
	ev_buf_cleanup(&pem);
	char *text = json_dumps(m, JSON_INDENT(2));
	json_decref(m);
	write_all(path, text, strlen(text));
	unsigned char sig[EV_KEYS_SIG_LEN];
	assert_int_equal(ev_keys_sign(stranger, text, strlen(text), sig, &err),
			 EV_OK);
	free(text);
	snprintf(path, sizeof(path), "%s/%s/manifest.sig", dir,
		 snap_name(T0, 1));
	write_all(path, sig, sizeof(sig));
	assert_int_equal(verify_with(dir, key, false, false, &c, &sum),
			 EV_E_AUTH);
	assert_true(
	    has(&c, EV_PROBLEM_KEY, snap_name(T0, 1), "not a trusted key"));
	assert_int_equal(verify_with(dir, NULL, true, false, &c, &sum), EV_OK);
	ev_keys_free(stranger);
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, ".lock"))
			n++;
	closedir(d);
	return n;
}

static void abort_leaves_nothing(void **state)
{
	(void)state;
	char dir[512];
	new_dir(dir, sizeof(dir), "abort");
	struct ev_evidence_options o = {.snapshot_dir = dir,
					.started_at = T0,
					.signing_key_path = key_path};
	struct ev_error err;
	struct ev_evidence *e = ev_evidence_begin(&o, &err);
	assert_non_null(e);
	add_simple_account(e, "111111111111");
	ev_evidence_abort(e);
	assert_int_equal(count_entries(dir), 0);
	struct collector c;
	assert_int_equal(verify(dir, &c), EV_E_AUTH);
	assert_true(has(&c, EV_PROBLEM_EMPTY, "", "no snapshot"));

	/* A commit that fails (a reserved member) aborts too. */
	e = ev_evidence_begin(&o, &err);
	assert_non_null(e);
	add_simple_account(e, "111111111111");
	assert_int_equal(
	    ev_evidence_commit(e, json_pack("{s:s}", "previous", "forged"),
			       NULL, 0, &err),
	    EV_E_INVALID);
	assert_non_null(strstr(err.message, "previous"));
	assert_int_equal(count_entries(dir), 0);
	/* So does a badly shaped member. */
	e = ev_evidence_begin(&o, &err);
	assert_non_null(e);
	assert_int_equal(
	    ev_evidence_commit(e, json_pack("{s:[s]}", "documents", "x"), NULL,
			       0, &err),
	    EV_E_INVALID);
	assert_int_equal(count_entries(dir), 0);
	ev_evidence_abort(NULL);
}

static void leftovers_ignored_then_cleaned(void **state)
{
	(void)state;
	char dir[512], path[1024];
	new_dir(dir, sizeof(dir), "leftover");
	make_chain(dir, 1, T0);
	/* What a writer killed mid-way leaves behind. */
	snprintf(path, sizeof(path), "%s/.tmp-20250101T000100Z-99999", dir);
	assert_int_equal(mkdir(path, 0750), 0);
	snprintf(path, sizeof(path), "%s/.tmp-20250101T000100Z-99999/accounts",
		 dir);
	assert_int_equal(mkdir(path, 0750), 0);
	snprintf(path, sizeof(path),
		 "%s/.tmp-20250101T000100Z-99999/accounts/1.json", dir);
	write_all(path, "{", 1);
	struct collector c;
	assert_int_equal(verify(dir, &c), EV_OK);
	assert_true(has(&c, EV_PROBLEM_NONE, "", "ignored 1 unfinished"));
	char out[1024];
	write_snapshot(dir, T0 + 60, 1, out, sizeof(out));
	assert_int_equal(count_entries(dir), 2);
	assert_int_equal(verify(dir, &c), EV_OK);
}

static void writer_refusals(void **state)
{
	(void)state;
	char dir[512];
	new_dir(dir, sizeof(dir), "refusals");
	struct ev_error err;
	struct ev_evidence_options o = {.snapshot_dir = dir,
					.started_at = T0,
					.signing_key_path = key_path};
	struct ev_evidence *e = ev_evidence_begin(&o, &err);
	assert_non_null(e);
	/* One writer at a time. */
	struct ev_evidence_options o2 = o;
	o2.started_at = T0 + 1;
	assert_null(ev_evidence_begin(&o2, &err));
	assert_int_equal(err.code, EV_E_IO);
	assert_non_null(strstr(err.message, "another snapshot"));
	char out[1024];
	assert_int_equal(ev_evidence_commit(e, NULL, out, sizeof(out), &err),
			 EV_OK);
	/* Not newer than what is there: the clock went backwards. */
	assert_null(ev_evidence_begin(&o, &err));
	assert_int_equal(err.code, EV_E_INVALID);
	o2.started_at = T0 - 3600;
	assert_null(ev_evidence_begin(&o2, &err));
	assert_int_equal(err.code, EV_E_INVALID);
	/* No key, a missing key, a public key. */
	struct ev_evidence_options o3 = {.snapshot_dir = dir,
					 .started_at = T0 + 60};
	assert_null(ev_evidence_begin(&o3, &err));
	assert_int_equal(err.code, EV_E_CONFIG);
	o3.signing_key_path = "/nonexistent/key";
	assert_null(ev_evidence_begin(&o3, &err));
	assert_int_equal(err.code, EV_E_NOT_FOUND);
	o3.signing_key_path = NULL;
	o3.signing_key = key;
	assert_null(ev_evidence_begin(&o3, &err));
	assert_int_equal(err.code, EV_E_CONFIG);
	/* The empty commit verifies: zero parts is a valid snapshot. */
	struct collector c;
	assert_int_equal(verify(dir, &c), EV_OK);
	assert_true(has(&c, EV_PROBLEM_NONE, snap_name(T0, 0), "0 parts"));
}

static void streaming_many_accounts(void **state)
{
	(void)state;
	char dir[512], out[1024];
	new_dir(dir, sizeof(dir), "many");
	write_snapshot(dir, T0, 1000, out, sizeof(out));
	struct collector c;
	struct ev_manifest_summary sum;
	assert_int_equal(verify_with(dir, key, false, false, &c, &sum), EV_OK);
	assert_int_equal(sum.parts, 1000);
	char accounts[1100];
	snprintf(accounts, sizeof(accounts), "%s/accounts", out);
	assert_int_equal(count_entries(accounts), 1000);
}

static void documents_attached(void **state)
{
	(void)state;
	char dir[512], doc[600], out[1024];
	new_dir(dir, sizeof(dir), "documents");
	snprintf(doc, sizeof(doc), "%s/policy.pdf", tmpdir);
	write_all(doc, "%PDF-1.4 access policy", 22);
	struct ev_error err;
	json_t *d = NULL;
	assert_int_equal(ev_evidence_document(doc, &d, &err), EV_OK);
	char hex[EV_SHA256_HEX_LEN + 1];
	ev_sha256_hex("%PDF-1.4 access policy", 22, hex);
	assert_string_equal(json_string_value(json_object_get(d, "sha256")),
			    hex);
	assert_int_equal(json_integer_value(json_object_get(d, "size")), 22);
	json_t *none = NULL;
	assert_int_equal(ev_evidence_document("/nonexistent/doc", &none, &err),
			 EV_E_NOT_FOUND);
	assert_null(none);
	/* The caller says which control a document supports. */
	json_object_set_new(d, "control", json_string("MSP-8.3"));
	json_t *fields_doc = json_pack("{s:[o]}", "documents", d);
	assert_non_null(fields_doc);
	struct ev_evidence_options o = {.snapshot_dir = dir,
					.started_at = T0,
					.signing_key_path = key_path};
	struct ev_evidence *e = ev_evidence_begin(&o, &err);
	assert_non_null(e);
	assert_int_equal(
	    ev_evidence_commit(e, fields_doc, out, sizeof(out), &err), EV_OK);
	struct collector c;
	assert_int_equal(verify(dir, &c), EV_OK);
}

/* Text JSON cannot carry (not UTF-8) is made safe, not a lost account. */
static void non_utf8_text_kept(void **state)
{
	(void)state;
	char dir[512], out[1024], path[1200];
	new_dir(dir, sizeof(dir), "utf8");
	struct ev_evidence_options o = {.snapshot_dir = dir,
					.started_at = T0,
					.signing_key_path = key_path};
	struct ev_error err;
	struct ev_evidence *e = ev_evidence_begin(&o, &err);
	assert_non_null(e);
	struct ev_findings f;
	ev_findings_init(&f);
	assert_int_equal(ev_findings_add(&f, "least-privilege", "111111111111",
					 "",
					 "arn:aws:iam::1:user/b\xff"
					 "d",
					 EV_STATUS_FAIL, NULL, NULL, 0,
					 "user b\xe9"
					 "d holds *:*"),
			 EV_OK);
	struct ev_evidence_account a = {
	    .id = "111111111111", .name = "caf\xe9", .findings = &f};
	assert_int_equal(ev_evidence_add_account(e, &a, &err), EV_OK);
	ev_findings_cleanup(&f);
	assert_int_equal(ev_evidence_commit(e, NULL, out, sizeof(out), &err),
			 EV_OK);
	snprintf(path, sizeof(path), "%s/accounts/111111111111.json", out);
	json_t *j = load_json(path);
	json_t *x = json_array_get(json_object_get(j, "findings"), 0);
	assert_string_equal(json_string_value(json_object_get(x, "reason")),
			    "user b?d holds *:*");
	assert_string_equal(json_string_value(json_object_get(x, "resource")),
			    "arn:aws:iam::1:user/b?d");
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(j, "account"), "name")),
			    "caf?");
	json_decref(j);
	struct collector c;
	assert_int_equal(verify(dir, &c), EV_OK);
}

/* Jansson allocations fail one at a time, at every point the writer
 * allocates: each failure is absorbed (text() retries) or is EV_E_NOMEM
 * leaving nothing behind, and a run past the last allocation writes a
 * snapshot that verifies. */
static size_t alloc_count, alloc_fail_at;

static void *failing_malloc(size_t n)
{
	if (++alloc_count == alloc_fail_at)
		return NULL;
	return malloc(n);
}

static void allocation_failures(void **state)
{
	(void)state;
	char dir[512], out[1024];
	new_dir(dir, sizeof(dir), "alloc");
	struct ev_evidence_options o = {.snapshot_dir = dir,
					.started_at = T0,
					.signing_key_path = key_path};
	const char body[] = "<GetAccountSummaryResponse/>";
	unsigned cite[] = {1};
	const char *regions[] = {"us-east-1"};
	size_t failures = 0;
	for (size_t n = 1;; n++) {
		assert_true(n < 100000);
		struct ev_findings f;
		struct ev_observations obs;
		ev_findings_init(&f);
		ev_observations_init(&obs, 1 << 20);
		add_obs(&obs, 1, body, strlen(body), false);
		assert_int_equal(
		    ev_findings_add(&f, "root-mfa", "111111111111", "", "root",
				    EV_STATUS_PASS,
				    json_pack("{s:s}", "kind", "virtual"), cite,
				    1, "root MFA is on"),
		    EV_OK);
		json_t *facts = json_pack("{s:i}", "n", 1);
		json_t *mf = fields();
		struct ev_evidence_account a = {
		    .id = "111111111111",
		    .regions = regions,
		    .n_regions = 1,
		    .findings = &f,
		    .observations = &obs,
		    .facts = facts,
		};
		struct ev_error err;
		struct ev_evidence *e = ev_evidence_begin(&o, &err);
		assert_non_null(e);
		alloc_count = 0;
		alloc_fail_at = n;
		json_set_alloc_funcs(failing_malloc, free);
		enum ev_err rc = ev_evidence_add_account(e, &a, &err);
		if (rc == EV_OK) {
			rc = ev_evidence_commit(e, mf, out, sizeof(out), &err);
		} else {
			json_decref(mf);
			ev_evidence_abort(e);
		}
		json_set_alloc_funcs(malloc, free);
		json_decref(facts);
		ev_findings_cleanup(&f);
		ev_observations_cleanup(&obs);
		if (rc != EV_OK) {
			if (rc != EV_E_NOMEM)
				fail_msg("allocation %zu: %s (%s)", n,
					 ev_err_name(rc), err.message);
			assert_int_equal(count_entries(dir), 0);
			failures++;
			continue;
		}
		struct collector c;
		if (verify(dir, &c) != EV_OK)
			fail_msg("allocation %zu: snapshot does not verify: %s",
				 n, c.n ? c.message[0] : "");
		/* The part reads back too, whatever failed on the way. */
		char part[1200];
		snprintf(part, sizeof(part), "%s/accounts/111111111111.json",
			 out);
		json_decref(load_json(part));
		if (alloc_count < n)
			break; /* no allocation failed: every point was tried */
		new_dir(dir, sizeof(dir), "alloc");
	}
	/* Enough allocation points failed to mean something. */
	assert_true(failures > 20);
}

static const char good_manifest[] =
    "{\"format\":1,\"snapshot\":\"20250101T000000Z\",\"agent_version\":"
    "\"0.1.0\",\"started_at\":\"2025-01-01T00:00:00Z\",\"finished_at\":"
    "\"2025-01-01T00:01:00Z\",\"previous\":%s,\"signing_key\":{"
    "\"algorithm\":\"ed25519\",\"fingerprint_sha256\":\"%s\","
    "\"public_key_pem\":\"x\"},\"parts\":[%s]%s}";
static const char h64[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static enum ev_err parse_variant(const char *prev, const char *fp,
				 const char *parts, const char *extra,
				 struct ev_error *err)
{
	char text[4096];
	snprintf(text, sizeof(text), good_manifest, prev, fp, parts, extra);
	struct ev_manifest m;
	enum ev_err rc = ev_manifest_parse(text, strlen(text), &m, err);
	ev_manifest_cleanup(&m);
	return rc;
}

static void manifest_parser(void **state)
{
	(void)state;
	struct ev_error err;
	char part[256], prev[256];
	snprintf(part, sizeof(part),
		 "{\"path\":\"accounts/111111111111.json\",\"sha256\":\"%s\","
		 "\"size\":10}",
		 h64);
	snprintf(prev, sizeof(prev),
		 "{\"snapshot\":\"20241231T000000Z\",\"manifest_sha256\":"
		 "\"%s\"}",
		 h64);
	assert_int_equal(parse_variant("null", h64, part, "", &err), EV_OK);
	assert_int_equal(parse_variant(prev, h64, part, "", &err), EV_OK);

	static const struct {
		const char *prev, *fp, *parts, *extra, *what;
	} bad[] = {
	    {"null", h64, "", ",\"format\":1", "duplicate"},
	    {"null", "ABC", "", "", "fingerprint_sha256"},
	    {"{\"snapshot\":\"20260101T000000Z\",\"manifest_sha256\":\"x\"}",
	     h64, "", "", "not older"},
	    {"\"yes\"", h64, "", "", "previous"},
	    {"null", h64,
	     "{\"path\":\"../etc/passwd\",\"sha256\":\"" /* */
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	     "\",\"size\":1}",
	     "", "not allowed"},
	    {"null", h64,
	     "{\"path\":\"a\",\"sha256\":\"" /* */
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	     "\",\"size\":-1}",
	     "", "size"},
	    {"null", h64,
	     "{\"path\":\"a\",\"sha256\":\"" /* */
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	     "\",\"size\":1},{\"path\":\"a\",\"sha256\":\"" /* */
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	     "\",\"size\":1}",
	     "", "listed twice"},
	    {"null", h64, "", ",\"identity\":[]", "identity"},
	    {"null", h64, "", ",\"documents\":[{\"path\":\"p\"}]", "sha256"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ev_error_clear(&err);
		assert_int_equal(parse_variant(bad[i].prev, bad[i].fp,
					       bad[i].parts, bad[i].extra,
					       &err),
				 EV_E_MALFORMED);
		if (!strstr(err.message, bad[i].what))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.message,
				 bad[i].what);
	}
	struct ev_manifest m;
	assert_int_equal(ev_manifest_parse("[1]", 3, &m, &err), EV_E_MALFORMED);
	assert_int_equal(ev_manifest_parse("", 0, &m, &err), EV_E_MALFORMED);
	assert_int_equal(
	    ev_manifest_parse("{}", (size_t)EV_MANIFEST_MAX + 1, &m, &err),
	    EV_E_LIMIT);
	/* The snapshot's name is its start time. */
	char text[4096];
	snprintf(text, sizeof(text), good_manifest, "null", h64, "", "");
	char *at = strstr(text, "00:00:00Z");
	at[1] = '1';
	assert_int_equal(ev_manifest_parse(text, strlen(text), &m, &err),
			 EV_E_MALFORMED);
	assert_non_null(strstr(err.message, "started_at"));
}

static void names_and_paths(void **state)
{
	(void)state;
	assert_true(ev_manifest_name_valid("20250101T000000Z"));
	assert_true(ev_manifest_name_valid("20240229T235959Z"));
	assert_false(ev_manifest_name_valid("20250229T000000Z"));
	assert_false(ev_manifest_name_valid("20250101T000000"));
	assert_false(ev_manifest_name_valid("20250101t000000Z"));
	assert_false(ev_manifest_name_valid(".tmp-20250101T000000Z-1"));
	assert_false(ev_manifest_name_valid(NULL));

	assert_true(ev_manifest_part_path_valid("accounts/111111111111.json"));
	assert_true(ev_manifest_part_path_valid("a/b/c/d"));
	assert_false(ev_manifest_part_path_valid("a/b/c/d/e"));
	assert_false(ev_manifest_part_path_valid("../x"));
	assert_false(ev_manifest_part_path_valid("accounts/../x"));
	assert_false(ev_manifest_part_path_valid("/etc/passwd"));
	assert_false(ev_manifest_part_path_valid("accounts//x"));
	assert_false(ev_manifest_part_path_valid("accounts/"));
	assert_false(ev_manifest_part_path_valid("accounts/.hidden"));
	assert_false(ev_manifest_part_path_valid("manifest.json"));
	assert_false(ev_manifest_part_path_valid("manifest.sig"));
	assert_false(ev_manifest_part_path_valid("a b"));
	assert_false(ev_manifest_part_path_valid(""));
	char longp[EV_MANIFEST_PATH_MAX + 2];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_false(ev_manifest_part_path_valid(longp));
	longp[EV_MANIFEST_PATH_MAX] = '\0';
	assert_true(ev_manifest_part_path_valid(longp));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(write_commit_verify),
	    cmocka_unit_test(chain_of_three),
	    cmocka_unit_test(changed_part),
	    cmocka_unit_test(changed_manifest),
	    cmocka_unit_test(changed_signature),
	    cmocka_unit_test(missing_and_extra_parts),
	    cmocka_unit_test(deleted_middle_snapshot),
	    cmocka_unit_test(reordered_snapshots),
	    cmocka_unit_test(inserted_snapshot),
	    cmocka_unit_test(keys_trusted_or_not),
	    cmocka_unit_test(abort_leaves_nothing),
	    cmocka_unit_test(leftovers_ignored_then_cleaned),
	    cmocka_unit_test(writer_refusals),
	    cmocka_unit_test(streaming_many_accounts),
	    cmocka_unit_test(documents_attached),
	    cmocka_unit_test(non_utf8_text_kept),
	    cmocka_unit_test(allocation_failures),
	    cmocka_unit_test(manifest_parser),
	    cmocka_unit_test(names_and_paths),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
