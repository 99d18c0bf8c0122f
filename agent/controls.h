/* Controls: the catalog of audit controls evident evidences
 * (config/controls.json, compiled into the binary; [controls] catalog may
 * name another file), the verdict a run reaches for each, and the
 * read-only IAM policy the evidence needs.
 *
 * A control is met only on evidence: every finding of its probes passes
 * (warn and not-applicable findings never fail it), no evidence is missing,
 * the thresholds in force are no looser than the catalog's bounds, and the
 * documents it needs are attached. Missing data is never a verdict of met:
 * a control with no finding at all is `error` ("no evidence").
 *
 * Ownership: struct ev_catalog and struct ev_verdicts are heap objects
 * (ev_x_new/load / ev_x_free, free accepts NULL). Catalog accessors return
 * views valid while the catalog lives. struct ev_verdicts copies what it
 * needs from the catalog and the configuration, so either may be freed
 * after ev_verdicts_new. Nothing here holds a secret. */
#ifndef EV_CONTROLS_H
#define EV_CONTROLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "config.h"
#include "digest.h"
#include "err.h"
#include "finding.h"

/* Failing resources (and errors) listed per control; the rest are
 * counted. */
#define EV_VERDICTS_LIST_CAP  50
#define EV_VERDICT_REASON_MAX 512

/* The configured thresholds a catalog bound may name; the name is the
 * config key ([thresholds] or [probes]). */
enum ev_threshold {
	EV_THRESHOLD_ROOT_UNUSED_DAYS = 0,
	EV_THRESHOLD_ACCESS_KEY_MAX_AGE_DAYS,
	EV_THRESHOLD_ACCESS_KEY_UNUSED_DAYS,
	EV_THRESHOLD_LOG_RETENTION_DAYS,
	EV_THRESHOLD_DIGEST_MAX_AGE_HOURS,
	EV_THRESHOLD_COUNT_
};

/* "root_unused_days"...; "unknown" out of range. */
const char *ev_threshold_name(enum ev_threshold t);
/* The value cfg holds for t (0 out of range). */
int ev_threshold_value(const struct ev_config *cfg, enum ev_threshold t);

/* What a control requires of a threshold: the configured value must be at
 * most (at_most) or at least (!at_most) `value`. */
struct ev_control_bound {
	enum ev_threshold threshold;
	bool at_most;
	int value;
};

struct ev_catalog_program {
	const char *id;	   /* "MSP" */
	const char *title; /* "AWS MSP Partner Program Validation Checklist" */
	const char *version; /* "3.1" */
};

struct ev_control {
	const char *id;	     /* "MSP-8.1.5": program "-" number */
	const char *program; /* "MSP" */
	const char *number;  /* "8.1.5", as the checklist numbers it */
	const char *title;
	const char *requirement;   /* the checklist's requirement, in short */
	const char *evidence;	   /* what the checklist asks to see */
	const char *const *probes; /* ids in the probe table */
	size_t n_probes;
	bool documents_required;
	const char *documents; /* which documents; NULL when none needed */
	const struct ev_control_bound *bounds;
	size_t n_bounds;
};

struct ev_catalog;

/* Parses a catalog. `name` names it in messages. The catalog must agree
 * with the probe table: each control's probes are exactly the probes
 * whose table row names the control (a catalog may leave controls out;
 * their findings are then not judged). Errors: EV_E_MALFORMED (not JSON;
 * the message gives line and column), EV_E_CONFIG (a missing or unknown
 * member, a wrong type, a duplicate id, an unknown program, probe or
 * threshold, probes that disagree with the probe table, text with control
 * characters), EV_E_LIMIT (larger than 1 MiB, too many controls or
 * probes, a string too long), EV_E_NOMEM. */
enum ev_err ev_catalog_parse(const char *name, const void *text, size_t len,
			     struct ev_catalog **out,
			     struct ev_error *err) EV_MUST_CHECK;

/* Reads and parses the catalog file at path, or the built-in catalog
 * (config/controls.json at build time) when path is NULL. Errors: those
 * of ev_catalog_parse, EV_E_NOT_FOUND (no such file), EV_E_IO (cannot
 * read it, not a regular file). */
enum ev_err ev_catalog_load(const char *path, struct ev_catalog **out,
			    struct ev_error *err) EV_MUST_CHECK;

void ev_catalog_free(struct ev_catalog *c);

size_t ev_catalog_count(const struct ev_catalog *c);
/* The i-th control in catalog order, NULL past the end. */
const struct ev_control *ev_catalog_at(const struct ev_catalog *c, size_t i);
/* By id, or NULL. */
const struct ev_control *ev_catalog_find(const struct ev_catalog *c,
					 const char *id);
size_t ev_catalog_program_count(const struct ev_catalog *c);
const struct ev_catalog_program *
ev_catalog_program_at(const struct ev_catalog *c, size_t i);
const struct ev_catalog_program *
ev_catalog_program_find(const struct ev_catalog *c, const char *id);
/* "built-in" or the file's path. */
const char *ev_catalog_source(const struct ev_catalog *c);
/* SHA-256 (hex) of the catalog's bytes as read: which catalog judged. */
const char *ev_catalog_sha256(const struct ev_catalog *c);

/* The catalog as JSON (source, sha256, programs, controls): a new
 * reference the caller decrefs; NULL on allocation failure. */
json_t *ev_catalog_json(const struct ev_catalog *c);

/* Verdicts */

enum ev_verdict {
	EV_VERDICT_MET = 0,
	EV_VERDICT_NOT_MET,
	EV_VERDICT_PARTIAL, /* machine evidence met, documents missing */
	EV_VERDICT_ERROR,   /* evidence could not be (fully) collected */
	EV_VERDICT_COUNT_
};

/* "met", "not-met", "partial", "error". */
const char *ev_verdict_name(enum ev_verdict v);

struct ev_verdicts;

/* Starts the verdicts of one run over catalog cat with the thresholds of
 * cfg in force and the documents of cfg ([controls] documents) attached:
 * each document is read now and its SHA-256 recorded. Errors: EV_E_CONFIG
 * (a document names a control the catalog lacks, or a file that cannot
 * be read or is not a regular file, or is larger than 1 GiB; err names
 * it), EV_E_NOMEM. *out is NULL on failure. */
enum ev_err ev_verdicts_new(const struct ev_catalog *cat,
			    const struct ev_config *cfg,
			    struct ev_verdicts **out,
			    struct ev_error *err) EV_MUST_CHECK;
void ev_verdicts_free(struct ev_verdicts *v);

/* Counts the findings of one hand-over (meant to be one account's, once)
 * against every control whose probes made them, keeps the first
 * EV_VERDICTS_LIST_CAP failing and error findings per control, and marks
 * the accounts and regions they came from as examined. f stays the
 * caller's (free it after). Safe to call from any thread. Errors:
 * EV_E_INTERNAL (a finding names a probe outside the probe table: nothing
 * of f is counted), EV_E_LIMIT (more than 64 distinct regions),
 * EV_E_NOMEM. */
enum ev_err ev_verdicts_add(struct ev_verdicts *v,
			    const struct ev_findings *f) EV_MUST_CHECK;

/* Coverage: an account or region left out on purpose, listed with why
 * ("suspended", "not opted in (opt-in status not-opted-in)"). A skip never
 * changes a verdict. A region skip concerns the controls with regional
 * probes only. Errors: EV_E_NOMEM. */
enum ev_err ev_verdicts_skip_account(struct ev_verdicts *v, const char *account,
				     const char *reason) EV_MUST_CHECK;
enum ev_err ev_verdicts_skip_region(struct ev_verdicts *v, const char *account,
				    const char *region,
				    const char *reason) EV_MUST_CHECK;

/* Coverage: an account (role not assumable) or a region (its region list
 * or every call failed) that should have been examined and could not be.
 * Listed like a skip, and counted as an error against every control it
 * concerns (all of them for an account, the regional ones for a region),
 * so none of those can be met. Errors: EV_E_NOMEM. */
enum ev_err ev_verdicts_fail_account(struct ev_verdicts *v, const char *account,
				     const char *reason) EV_MUST_CHECK;
enum ev_err ev_verdicts_fail_region(struct ev_verdicts *v, const char *account,
				    const char *region,
				    const char *reason) EV_MUST_CHECK;

/* One control's outcome so far, for callers that branch on it. */
struct ev_verdict_summary {
	enum ev_verdict verdict;
	size_t counts[EV_STATUS_COUNT_]; /* findings by status */
	size_t failing; /* fail findings (all, listed or not) */
	size_t failing_listed;
	size_t errors; /* error findings and failed accounts/regions */
	size_t errors_listed;
	size_t accounts_examined;
	size_t account_regions_examined;
	size_t accounts_skipped; /* skipped or failed */
	size_t regions_skipped;	 /* 0 for controls without regional probes */
	bool thresholds_loose;
	size_t documents_attached;
	char reason[EV_VERDICT_REASON_MAX]; /* the first reason */
};

/* Errors: EV_E_NOT_FOUND (no such control in the catalog). */
enum ev_err ev_verdicts_summary(const struct ev_verdicts *v,
				const char *control_id,
				struct ev_verdict_summary *out) EV_MUST_CHECK;

/* What the snapshot manifest embeds: the catalog used (source, sha256,
 * programs), the thresholds in force, the coverage (accounts and regions
 * skipped or failed, with why), a summary by verdict with the exit code,
 * and per control its verdict, reasons, counts, failing resources and
 * errors (capped, with the number left out), coverage, bounds against the
 * configured values, and documents with their hashes. A new reference;
 * NULL on allocation failure. Call after the last add. */
json_t *ev_verdicts_json(const struct ev_verdicts *v);

/* The documents attached, for the manifest's top-level "documents": an
 * array of {"control", "path", "sha256", "size"} in catalog order, hashed
 * once by ev_verdicts_new. A new reference; NULL on allocation
 * failure. */
json_t *ev_verdicts_documents_json(const struct ev_verdicts *v);

/* The table an auditor reads: program, control, verdict, counts, title,
 * then why each control short of met is so. Control bytes in text from
 * AWS are shown as '?'. color: ANSI colors on the verdicts. */
void ev_verdicts_print_table(const struct ev_verdicts *v, FILE *out,
			     bool color);

/* DESIGN.md's exit code: EV_EXIT_INCOMPLETE (3) when any evidence could
 * not be collected (an error finding, a failed account or region, a
 * control with no evidence), else EV_EXIT_NOT_MET (1) when a control is
 * not met, else EV_EXIT_OK (0): every machine-checkable control met
 * (partial counts as met here: its documents are for the auditor). */
int ev_verdicts_exit_code(const struct ev_verdicts *v);

/* The IAM policy */

/* The actions the collector itself calls besides the probes' (a
 * NULL-terminated static list): sts:GetCallerIdentity, sts:AssumeRole,
 * organizations:ListAccounts, ec2:DescribeRegions. */
const char *const *ev_policy_collector_actions(void);

/* The read-only IAM policy document the agent needs, for
 * `aws iam create-policy --policy-document`: Version 2012-10-17, one Allow
 * statement with the sorted unique actions of every probe and of the
 * collector on Resource "*", and, when cfg collects other accounts
 * (source list or organization), a second statement allowing
 * sts:AssumeRole on the member role only (role_name in every account of
 * cfg's partition, plus the role ARNs listed per account).
 * organizations:ListAccounts is included for source = organization only.
 * member: the policy of the role inside member accounts instead (no
 * AssumeRole, no ListAccounts). A new reference; NULL on allocation
 * failure. */
json_t *ev_policy_json(const struct ev_config *cfg, bool member);

#endif
