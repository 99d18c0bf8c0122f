/* The IAM credential report: fetched once per account per run, parsed, and
 * shared by the probes that rest on it (root-mfa, root-usage, access-keys,
 * console-mfa);
 * and the account summary (GetAccountSummary) the root probes read.
 *
 * The report is CSV (RFC 4180) inside base64 inside XML (aws-api.md §10.3).
 * The parser is quote-aware, bounded (rows, fields per row, field length),
 * maps columns by header name, checks the field count of every row and
 * refuses any value it does not know, so a changed format becomes a typed
 * error and never a silent verdict.
 *
 * Ownership: ev_credreport_parse returns a report the caller frees with
 * ev_credreport_free. ev_credreport_get hands out a view of the report
 * cached in the account state: it stays valid, unchanged, until
 * ev_credreport_state_cleanup. Nothing here holds a secret: the report
 * lists credentials' dates, never the credentials. */
#ifndef EV_CREDREPORT_H
#define EV_CREDREPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "err.h"
#include "probe.h"

/* Local bounds (bounds.h is kept for transport-wide limits). IAM allows
 * 5000 users per account; the report has 22 columns today; an ARN is at
 * most 2048 bytes. */
#define EV_CREDREPORT_MAX_ROWS	 20000
#define EV_CREDREPORT_MAX_FIELDS 64
#define EV_CREDREPORT_MAX_FIELD	 2048

/* The wait for a report being generated: the first pause, the cap of one
 * pause, and the total (the sum of pauses, not wall time, so the bound
 * holds whatever the calls cost). */
#define EV_CREDREPORT_POLL_FIRST_MS 1000
#define EV_CREDREPORT_POLL_MAX_MS   8000
#define EV_CREDREPORT_POLL_TOTAL_MS 60000

/* The calls a shared report rests on (first and last Generate, the Get). */
#define EV_CREDREPORT_MAX_OBS 4

/* What a cell says. Four states rather than three because AWS gives
 * "never used since tracking began (2014-10-20)" its own word, and an
 * auditor reading the evidence should see the word AWS used. */
enum ev_credreport_state {
	EV_CR_UNKNOWN = 0, /* not_supported, or the column is absent */
	EV_CR_NONE,	   /* N/A: no such credential, or never used */
	EV_CR_NO_INFO,	   /* no_information: unused since tracking began */
	EV_CR_VALUE,	   /* a boolean or a date */
};

struct ev_credreport_bool {
	enum ev_credreport_state state;
	bool value; /* when state is EV_CR_VALUE */
};

struct ev_credreport_time {
	enum ev_credreport_state state;
	time_t value; /* when state is EV_CR_VALUE */
};

struct ev_credreport_key {
	struct ev_credreport_bool active;
	struct ev_credreport_time last_rotated;
	struct ev_credreport_time last_used;
};

struct ev_credreport_cert {
	struct ev_credreport_bool active;
	struct ev_credreport_time last_rotated;
};

struct ev_credreport_row {
	char *user; /* owned; "<root_account>" for the root row */
	char *arn;  /* owned */
	bool is_root;
	struct ev_credreport_time user_creation_time;
	struct ev_credreport_bool password_enabled;
	struct ev_credreport_time password_last_used;
	struct ev_credreport_time password_last_changed;
	struct ev_credreport_bool mfa_active;
	struct ev_credreport_key keys[2];
	struct ev_credreport_cert certs[2];
};

struct ev_credreport {
	struct ev_credreport_row *rows; /* in report order; owned */
	size_t n_rows;
	const struct ev_credreport_row *root; /* into rows, or NULL */
	time_t generated_time; /* GeneratedTime; 0 when parsed alone */
	/* Private to credreport.c: serialises fetching among the probes of
	 * one account without holding the account state's lock. */
	pthread_mutex_t fetch_lock;
	bool fetch_lock_ready;
};

/* Parses len bytes of CSV (no NUL needed). Errors: EV_E_MALFORMED naming
 * the row (the header is row 1) and, for a bad value, the column (a
 * broken quote, a field count unlike the header's, an unknown value, a
 * missing user/arn column, a repeated column or root row, a NUL byte, an
 * empty input), EV_E_LIMIT (more than EV_CREDREPORT_MAX_ROWS rows,
 * EV_CREDREPORT_MAX_FIELDS fields or a field longer than
 * EV_CREDREPORT_MAX_FIELD), EV_E_NOMEM. *out is NULL on failure. */
enum ev_err ev_credreport_parse(const char *csv, size_t len,
				struct ev_credreport **out,
				struct ev_error *err) EV_MUST_CHECK;
void ev_credreport_free(struct ev_credreport *r);

/* The account's report, fetched by the first probe that asks and shared
 * with the others (they wait for it, then reuse the report or the error):
 * GenerateCredentialReport until COMPLETE (STARTED, INPROGRESS,
 * LimitExceeded and throttling polled with a doubling pause, bounded by
 * EV_CREDREPORT_POLL_TOTAL_MS), then GetCredentialReport (ReportInProgress
 * polled the same way; ReportNotPresent or ReportExpired generate once
 * more), base64, CSV. *out is a view valid until
 * ev_credreport_state_cleanup. obs (EV_CREDREPORT_MAX_OBS slots) receives
 * the observation ids of the calls the report or its failure rests on,
 * *n_obs their count, on success and on failure. Errors: those of the
 * calls (err carries the AWS code and request ID), EV_E_MALFORMED (an
 * unknown State, a missing GeneratedTime, bad base64 or CSV: err carries
 * the Get's request ID), EV_E_LIMIT (not ready within the bound),
 * EV_E_NOMEM. Takes the state's lock briefly; ctx->ops->call must not
 * take it. */
enum ev_err ev_credreport_get(struct ev_probe_ctx *ctx,
			      const struct ev_credreport **out,
			      unsigned obs[EV_CREDREPORT_MAX_OBS],
			      size_t *n_obs,
			      struct ev_error *err) EV_MUST_CHECK;

/* Frees what ev_credreport_get cached in s and forgets the outcome, so s
 * may be used again; leaves s->lock and the seam alone. Safe on a state
 * that never fetched. Not while probes of the account still run. */
void ev_credreport_state_cleanup(struct ev_account_state *s);

/* {"generated_time": "2025-03-01T09:00:00Z", "age_seconds": N}: how fresh
 * the report behind a finding is (AWS serves one up to 4 h old). NULL on
 * allocation failure; the caller owns the result. */
json_t *ev_credreport_freshness(const struct ev_credreport *r, time_t now);

/* A cell for a finding's details: "2025-02-01T08:00:00Z", true/false, or
 * the word AWS used ("N/A", "no_information", "not_supported"). NULL on
 * allocation failure; the caller owns the result. */
json_t *ev_credreport_time_json(const struct ev_credreport_time *t);
json_t *ev_credreport_bool_json(const struct ev_credreport_bool *b);

/* The root-credential keys of GetAccountSummary's SummaryMap; -1 where a
 * key is absent. */
struct ev_credreport_summary {
	long mfa_enabled;	    /* AccountMFAEnabled */
	long access_keys_present;   /* AccountAccessKeysPresent */
	long password_present;	    /* AccountPasswordPresent */
	long signing_certs_present; /* AccountSigningCertificatesPresent */
	long mfa_devices_in_use;    /* MFADevicesInUse: users' and root's */
};

/* One GetAccountSummary call through the door. *obs_id is set whether or
 * not the call succeeds. Errors: those of the call (err carries the AWS
 * code and request ID), EV_E_MALFORMED (no SummaryMap, a value that is
 * not an integer: err carries the request ID). */
enum ev_err ev_credreport_summary_get(struct ev_probe_ctx *ctx,
				      struct ev_credreport_summary *out,
				      unsigned *obs_id,
				      struct ev_error *err) EV_MUST_CHECK;

/* What both root probes rest on: the account summary, the credential
 * report, and the report's root row (its absence is EV_E_MALFORMED). The
 * observations of those calls are added to o. On failure *what names the
 * step that failed ("GetAccountSummary", "credential report") for the
 * error finding. Errors: those of ev_credreport_summary_get and
 * ev_credreport_get. */
enum ev_err ev_credreport_root(struct ev_probe_ctx *ctx,
			       struct ev_credreport_summary *sum,
			       const struct ev_credreport **rep,
			       struct ev_obs_list *o, const char **what,
			       struct ev_error *err) EV_MUST_CHECK;

#endif
