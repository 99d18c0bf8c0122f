/* Reports: a snapshot read back, verified, and rendered for people (HTML,
 * Markdown) and machines (CSV, JSON, OCSF); and what changed between two
 * snapshots (`evident diff`).
 *
 * Reading: a snapshot is untrusted input even once it verifies (its text
 * came from AWS answers). The manifest and every account part are read
 * bounded, without following symlinks, parsed with every field typed, and
 * each part's bytes are hashed and compared with the manifest that was
 * read, so what a report shows is exactly what was signed. The verdicts
 * come from the manifest (`controls`, see controls.h); the findings and the
 * API calls they rest on from the account parts (evidence.h).
 *
 * History: when the snapshot directory holds the snapshots before it, the
 * chain is walked back through the manifests' `previous` links (each
 * manifest read is checked against the SHA-256 its successor names): the
 * verdicts of the last snapshots give the trend, and each open finding
 * (fail or error) gets the snapshot where it was first seen: the earliest
 * snapshot of the unbroken run, ending at the one reported, in which the
 * same finding was open. A finding is the same when its identity is: probe,
 * account, region and resource (ev_report_finding_uid).
 *
 * Ownership: struct ev_report_snapshot and struct ev_report are heap
 * objects (ev_x_free accepts NULL) owning every string they point to; a
 * report owns its snapshot. struct ev_report_diff is caller storage
 * (ev_report_diff_cleanup) holding views into the two snapshots it
 * compares, which must outlive it. Nothing here holds a secret. */
#ifndef EV_REPORT_H
#define EV_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "controls.h"
#include "digest.h"
#include "err.h"
#include "finding.h"
#include "keys.h"
#include "manifest.h"

/* Bounds on what a report reads. */
#define EV_REPORT_PART_MAX     (512u * 1024 * 1024) /* one account part */
#define EV_REPORT_MAX_FINDINGS 4000000 /* findings in one snapshot */
#define EV_REPORT_TREND_MAX    30      /* snapshots in the trend */
#define EV_REPORT_HISTORY_MAX  4000    /* snapshots walked for first seen */
#define EV_REPORT_PROBLEMS_MAX 8       /* verification problems kept */

/* The OCSF schema version the ocsf format follows. */
#define EV_REPORT_OCSF_VERSION "1.3.0"

/* One API call a finding rests on (evidence.h's observation, without the
 * response body: its SHA-256 and size stand for it). Strings are never
 * NULL ("" when absent). */
struct ev_report_obs {
	unsigned id;
	const char *service, *action, *region, *account;
	const char *time; /* ISO 8601, as recorded */
	long http_status; /* 0: no HTTP answer */
	const char *request_id, *error_code;
	const char *sha256; /* of the response body */
	uint64_t size;
};

/* How far back a first-seen date could be traced. */
enum ev_report_seen {
	EV_REPORT_SEEN_NONE = 0,    /* not an open finding */
	EV_REPORT_SEEN_EXACT,	    /* the snapshot before was read: not open */
	EV_REPORT_SEEN_CHAIN_START, /* open since the chain's first snapshot */
	EV_REPORT_SEEN_OR_EARLIER,  /* history ends there (pruned, altered,
				       not walked): open at least since */
};

struct ev_report_finding {
	size_t account; /* index into the snapshot's accounts */
	const char *account_id;
	const char *region; /* "" for account-scope findings */
	const char *probe;
	const char *resource;
	enum ev_status status;
	const char *reason;
	const char *error_code;		  /* "" when none */
	const char *request_id;		  /* "" when none */
	const struct ev_report_obs **obs; /* the calls it rests on */
	size_t n_obs;
	const size_t *controls; /* indices into the snapshot's controls */
	size_t n_controls;
	/* Identity (ev_report_finding_uid), stable across snapshots. */
	char uid[EV_SHA256_HEX_LEN + 1];
	/* Open findings (fail, error): when first seen. */
	enum ev_report_seen seen;
	char first_seen[EV_SNAPSHOT_NAME_LEN + 1];
	time_t first_seen_at; /* that snapshot's start */
	bool tracking;	      /* internal: its run is being walked back */
};

struct ev_report_region_skip {
	const char *region, *opt_in_status;
};

struct ev_report_account {
	const char *id;	  /* 12 digits */
	const char *part; /* its path in the snapshot */
	const char *name; /* "" when unknown */
	bool collected;	  /* false: skipped (skip_reason says why) */
	const char *skip_reason;
	/* The part could not be used (missing, altered, malformed): its
	 * findings are not shown. problem says why; "" when fine. */
	const char *problem;
	const char **regions; /* examined */
	size_t n_regions;
	const struct ev_report_region_skip *regions_skipped;
	size_t n_regions_skipped;
	const struct ev_report_obs *obs; /* sorted by id */
	size_t n_obs;
	size_t first_finding, n_findings; /* the snapshot's findings */
};

struct ev_report_control {
	const char *id, *program, *number, *title;
	enum ev_verdict verdict;
	const char **reasons;
	size_t n_reasons;
	const char **probes;
	size_t n_probes;
	size_t counts[EV_STATUS_COUNT_];
	bool documents_required;
	const char *documents; /* what is required; "" when none */
	size_t documents_attached;
};

struct ev_report_program {
	const char *id, *title, *version;
	size_t counts[EV_VERDICT_COUNT_]; /* controls by verdict */
};

struct ev_report_arena;

/* One snapshot as read. */
struct ev_report_snapshot {
	char name[EV_SNAPSHOT_NAME_LEN + 1];
	char agent_version[64];
	time_t started_at, finished_at;
	bool has_previous;
	char previous[EV_SNAPSHOT_NAME_LEN + 1];
	char previous_sha256[EV_SHA256_HEX_LEN + 1];
	char manifest_sha256[EV_SHA256_HEX_LEN + 1];
	char key_fingerprint[EV_SHA256_HEX_LEN + 1];
	const char *caller_arn, *caller_account; /* "" when absent */
	const char *scope_source, *scope_regions;
	const char *catalog_source, *catalog_sha256;
	struct ev_report_program *programs;
	size_t n_programs;
	struct ev_report_control *controls;
	size_t n_controls;
	struct ev_report_account *accounts; /* in the manifest's part order */
	size_t n_accounts;
	struct ev_report_finding *findings; /* grouped by account */
	size_t n_findings;
	size_t parts_unusable; /* accounts whose part could not be used */
	/* internal: findings sorted by uid once finished */
	struct ev_report_finding **by_uid;
	struct ev_report_arena *arena;
	size_t findings_cap;
	struct ev_manifest manifest; /* the typed manifest (parts...) */
};

/* Parses manifest.json bytes (untrusted; at most EV_MANIFEST_MAX): the
 * writer's fields through ev_manifest_parse, then caller, scope and the
 * verdicts. Accounts are added with ev_report_snapshot_add_account; then
 * ev_report_snapshot_finish. Errors: EV_E_MALFORMED (the message names the
 * field), EV_E_LIMIT, EV_E_NOMEM. *out is NULL on failure. */
enum ev_err ev_report_snapshot_parse(const void *bytes, size_t n,
				     struct ev_report_snapshot **out,
				     struct ev_error *err) EV_MUST_CHECK;

/* Adds one account part (accounts/<id>.json bytes, untrusted). It must
 * name this snapshot and an account the manifest lists, once. Errors:
 * EV_E_MALFORMED, EV_E_LIMIT (more than EV_REPORT_MAX_FINDINGS findings),
 * EV_E_NOMEM; on failure nothing of the part is kept. */
enum ev_err ev_report_snapshot_add_account(struct ev_report_snapshot *s,
					   const void *bytes, size_t n,
					   struct ev_error *err) EV_MUST_CHECK;

/* Records that the part of account `id` could not be used and why
 * (`problem` is copied): the account is listed with no findings. Errors:
 * EV_E_NOMEM. */
enum ev_err ev_report_snapshot_part_problem(struct ev_report_snapshot *s,
					    const char *id,
					    const char *problem) EV_MUST_CHECK;

/* Computes every finding's identity and controls and indexes them; call
 * once after the last account. Errors: EV_E_NOMEM. */
enum ev_err
ev_report_snapshot_finish(struct ev_report_snapshot *s) EV_MUST_CHECK;

void ev_report_snapshot_free(struct ev_report_snapshot *s);

/* The finding with this identity, or NULL (after finish). A view. */
const struct ev_report_finding *
ev_report_snapshot_find(const struct ev_report_snapshot *s, const char *uid);

/* The account with this id, or NULL. A view. */
const struct ev_report_account *
ev_report_snapshot_account(const struct ev_report_snapshot *s, const char *id);

/* A finding's identity: the lower-case hex SHA-256 of the concatenated
 * SHA-256 digests (raw) of probe, account, region ("" for account scope)
 * and resource, followed, for ordinal > 1 (the second finding of one
 * identity in a snapshot, which probes do not make), by the ordinal in
 * decimal. It is the OCSF finding_info.uid. */
void ev_report_finding_uid(const char *probe, const char *account,
			   const char *region, const char *resource,
			   unsigned ordinal, char out[EV_SHA256_HEX_LEN + 1]);

/* Fail and error findings are open; the rest are not. */
bool ev_report_status_open(enum ev_status s);

/* First seen, one older snapshot at a time: head's open findings start as
 * first seen in head (ev_report_first_seen_begin); each call with the
 * snapshot just before the ones already applied moves the date back for the
 * findings still open in `older`, and ends the run of the others. Returns
 * how many runs are still going. */
size_t ev_report_first_seen_begin(struct ev_report_snapshot *head);
size_t ev_report_first_seen_apply(struct ev_report_snapshot *head,
				  const struct ev_report_snapshot *older);
/* Ends the runs still going: `chain_start` when the last snapshot applied
 * was the first of its chain, else the history stopped there. */
void ev_report_first_seen_end(struct ev_report_snapshot *head,
			      bool chain_start);

/* The verification a report shows. */
struct ev_report_verification {
	bool verified;	  /* no problem found */
	bool trusted_key; /* false: checked against the manifest's own key */
	char key_fingerprint[EV_SHA256_HEX_LEN + 1]; /* the signer's */
	size_t problems;
	size_t n_listed; /* the first EV_REPORT_PROBLEMS_MAX */
	struct {
		char snapshot[EV_SNAPSHOT_NAME_LEN + 1];
		char problem[24];
		char message[EV_ERROR_MSG_MAX];
	} listed[EV_REPORT_PROBLEMS_MAX];
};

/* The verdicts over the last snapshots of the chain. */
struct ev_report_trend {
	size_t n; /* snapshots, oldest first; the last is the one reported */
	char (*names)[EV_SNAPSHOT_NAME_LEN + 1];
	/* n rows of the reported snapshot's controls (in its order):
	 * EV_VERDICT_COUNT_ where a snapshot has no such control. */
	enum ev_verdict *verdicts;
};

struct ev_report {
	struct ev_report_snapshot *snap;
	struct ev_report_verification verify;
	struct ev_report_trend trend;
	/* Why the walk back stopped ("first snapshot of the chain", ...). */
	char history_end[160];
	size_t history_read; /* older snapshots whose findings were read */
};

struct ev_report_options {
	/* A snapshot directory, or a directory of snapshots (the newest is
	 * reported). */
	const char *path;
	/* Trusted public keys. None: the manifest's own key is used and the
	 * report says the signer is not established. */
	const struct ev_key *const *keys;
	size_t n_keys;
	bool allow_pruned; /* as ev_manifest_verify's */
	/* Older snapshots read for first-seen dates (0: none; the trend
	 * still shows). */
	size_t history_max;
	size_t trend_max; /* 0: EV_REPORT_TREND_MAX */
};

/* Reads, verifies (ev_manifest_verify plus the signature over the bytes
 * read) and walks the history of the snapshot o->path names. A snapshot
 * that fails verification is still read as far as it can be, and the
 * report shows the problems; check r->verify.verified. Errors:
 * EV_E_NOT_FOUND (no such path, no snapshot in it), EV_E_IO,
 * EV_E_MALFORMED (the manifest cannot be read: there is nothing to show),
 * EV_E_LIMIT, EV_E_NOMEM. *out is NULL on failure. */
enum ev_err ev_report_load(const struct ev_report_options *o,
			   struct ev_report **out,
			   struct ev_error *err) EV_MUST_CHECK;

void ev_report_free(struct ev_report *r);

/* Trusted keys for a report, as `evident verify` takes them. */
#define EV_REPORT_MAX_KEYS 16

struct ev_report_keys {
	struct ev_key *keys[EV_REPORT_MAX_KEYS];
	size_t n;
};

/* Loads the public key (PEM) at path into k. Errors: EV_E_LIMIT (more than
 * EV_REPORT_MAX_KEYS), and those of ev_keys_load_public (the message
 * names the file). */
enum ev_err ev_report_keys_add(struct ev_report_keys *k, const char *path,
			       struct ev_error *err) EV_MUST_CHECK;
/* Frees the keys; safe on a zeroed struct. */
void ev_report_keys_cleanup(struct ev_report_keys *k);

/* Rendering. Every writer writes to out and returns EV_E_IO when out
 * reports a write error, EV_E_NOMEM on allocation failure. */

enum ev_report_format {
	EV_REPORT_HTML = 0,
	EV_REPORT_MD,
	EV_REPORT_CSV,
	EV_REPORT_JSON,
	EV_REPORT_OCSF,
};

/* "html", "md", "csv", "json", "ocsf"; EV_E_INVALID otherwise. */
enum ev_err ev_report_format_parse(const char *name,
				   enum ev_report_format *out) EV_MUST_CHECK;

enum ev_err ev_report_write(const struct ev_report *r, enum ev_report_format f,
			    FILE *out, struct ev_error *err) EV_MUST_CHECK;

/* One self-contained page: no external asset, no script. */
enum ev_err ev_report_write_html(const struct ev_report *r, FILE *out,
				 struct ev_error *err) EV_MUST_CHECK;
/* A summary table and the controls short of met with their failing
 * resources, for tickets. */
enum ev_err ev_report_write_md(const struct ev_report *r, FILE *out,
			       struct ev_error *err) EV_MUST_CHECK;
/* One finding per row (RFC 4180, CRLF) under a header row. */
enum ev_err ev_report_write_csv(const struct ev_report *r, FILE *out,
				struct ev_error *err) EV_MUST_CHECK;
/* ev_report_json, indented. */
enum ev_err ev_report_write_json(const struct ev_report *r, FILE *out,
				 struct ev_error *err) EV_MUST_CHECK;
/* One OCSF Compliance Finding per finding, one JSON object per line. */
enum ev_err ev_report_write_ocsf(const struct ev_report *r, FILE *out,
				 struct ev_error *err) EV_MUST_CHECK;

/* The report as one JSON document (README's "Reports" lists the keys): a
 * new reference, NULL on allocation failure. */
json_t *ev_report_json(const struct ev_report *r);

/* Finding f of r as an OCSF 1.3.0 Compliance Finding (class_uid 2003): a
 * new reference, NULL on allocation failure. */
json_t *ev_report_ocsf_event(const struct ev_report *r,
			     const struct ev_report_finding *f);

/* Escaping of untrusted text, one place per output language. */

/* & < > " ' as character references; C0 controls (but tab and newline),
 * DEL and the Unicode bidirectional controls as U+FFFD, so text from AWS can
 * neither make markup nor reorder what is shown. */
void ev_report_html_escape(FILE *out, const char *s);
/* Markdown text (a table cell or a list item): the characters that make
 * emphasis, code, links, raw HTML, entities, headings or cells
 * backslash-escaped ('|' included), a leading list marker too, line breaks
 * and controls as spaces. */
void ev_report_md_escape(FILE *out, const char *s);
/* One RFC 4180 field: quoted when it holds a comma, a quote, CR or LF
 * (quotes doubled). A field that a spreadsheet would read as a formula
 * (starting with = + - @, tab or CR) gets a leading apostrophe. */
void ev_report_csv_field(FILE *out, const char *s);
/* Plain text for a terminal: control bytes as '?'. */
void ev_report_text(FILE *out, const char *s);

/* Diff */

struct ev_report_diff_control {
	const char *id, *title;
	enum ev_verdict from, to; /* EV_VERDICT_COUNT_: absent */
};

struct ev_report_diff_resolved {
	const struct ev_report_finding *old; /* open in OLD */
	/* The same finding in NEW, not open now; NULL when NEW has none (the
	 * resource or its account or region is gone). */
	const struct ev_report_finding *now;
};

struct ev_report_diff_region {
	const char *account, *region;
};

struct ev_report_diff {
	struct ev_report_diff_control *controls; /* verdicts that moved */
	size_t n_controls;
	const struct ev_report_finding **opened; /* open in NEW, not in OLD */
	size_t n_opened;
	struct ev_report_diff_resolved *resolved;
	size_t n_resolved;
	const struct ev_report_finding **still_open; /* in NEW */
	size_t n_still_open;
	const char **accounts_entered, **accounts_left; /* collected */
	size_t n_accounts_entered, n_accounts_left;
	struct ev_report_diff_region *regions_entered, *regions_left;
	size_t n_regions_entered, n_regions_left;
};

/* Compares two finished snapshots (any two: the order is the caller's).
 * Every list is in a stable order (controls in NEW's catalog order, then
 * those NEW lacks; findings by account, region, probe, resource). Errors:
 * EV_E_NOMEM (d is cleaned up). */
enum ev_err ev_report_diff(const struct ev_report_snapshot *old_snap,
			   const struct ev_report_snapshot *new_snap,
			   struct ev_report_diff *d) EV_MUST_CHECK;
void ev_report_diff_cleanup(struct ev_report_diff *d);

/* The diff for a terminal, and as JSON (a new reference, NULL on
 * allocation failure). */
enum ev_err ev_report_diff_write_text(const struct ev_report *old_r,
				      const struct ev_report *new_r,
				      const struct ev_report_diff *d,
				      FILE *out) EV_MUST_CHECK;
json_t *ev_report_diff_json(const struct ev_report *old_r,
			    const struct ev_report *new_r,
			    const struct ev_report_diff *d);

/* Helpers the writers share. */

/* "ok" when verified with a trusted key; else what to warn about, one
 * sentence: an untrusted key, or the first problem. */
const char *ev_report_verification_summary(const struct ev_report *r, char *buf,
					   size_t n);
/* A time as ISO 8601 UTC into out. */
void ev_report_iso(time_t t, char out[32]);

#endif
