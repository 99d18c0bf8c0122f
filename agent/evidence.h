/* The evidence writer: one signed, chained snapshot per collection.
 *
 * A snapshot is written into a temporary sibling (.tmp-<name>-<pid>/) of
 * its final directory <snapshot_dir>/YYYYMMDDTHHMMSSZ/: one file per
 * account, streamed (ev_evidence_add_account writes the account's file and
 * keeps only its path, SHA-256 and size), then manifest.json and
 * manifest.sig. Every file and directory is fsynced before the temporary
 * directory is renamed into place and the snapshot directory fsynced, so a
 * crash leaves either a complete snapshot or a .tmp-* leftover that
 * verification ignores and the next writer removes. One writer at a time
 * per snapshot directory: begin takes an exclusive lock on
 * <snapshot_dir>/.lock, released by commit or abort (or by the kernel when
 * the process dies). The format and the chain are described in
 * manifest.h and README's "Snapshot format".
 *
 * Ownership: struct ev_evidence is heap state from ev_evidence_begin until
 * ev_evidence_commit or ev_evidence_abort, each of which frees it. The
 * signing key is loaded in begin and wiped when the writer is freed.
 * Single-threaded: the collector hands each account's results over whole
 * and adds them one at a time. */
#ifndef EV_EVIDENCE_H
#define EV_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "err.h"
#include "finding.h"
#include "keys.h"
#include "manifest.h"

#define EV_EVIDENCE_FORMAT 1
/* Response bodies up to this size that are UTF-8 text are kept as JSON
 * strings; larger or binary ones are gzip-compressed and base64-encoded. */
#define EV_EVIDENCE_INLINE_MAX (64u * 1024)
/* Bytes of a document file hashed by ev_evidence_document. */
#define EV_EVIDENCE_DOCUMENT_MAX (1ull << 36)

struct ev_evidence;

struct ev_evidence_options {
	const char *snapshot_dir; /* created (mode 0750) if missing */
	time_t started_at;	  /* UTC start of the collection: the name */
	/* The Ed25519 private key PEM that signs the manifest; or, instead,
	 * an already loaded key (borrowed, must outlive the writer). */
	const char *signing_key_path;
	const struct ev_key *signing_key;
};

enum ev_evidence_collection {
	EV_COLLECTION_COLLECTED = 0, /* probes ran (some may have errors) */
	EV_COLLECTION_SKIPPED,	     /* not examined: skip_reason says why */
};

/* A region not examined, with its opt-in status as DescribeRegions gave
 * it ("not-opted-in"). */
struct ev_evidence_region_skip {
	const char *region;
	const char *opt_in_status;
};

/* One account's results. Everything is borrowed for the call. */
struct ev_evidence_account {
	const char *id;	  /* 12 digits: names the file */
	const char *name; /* NULL: unknown */
	enum ev_evidence_collection status;
	const char *skip_reason; /* skipped: "suspended", "role not
				    assumable", ... */
	/* The error that made it skipped (AssumeRole's AccessDenied...), or
	 * NULL; its code, AWS code, request ID and message are kept. */
	const struct ev_error *skip_error;
	const char *const *regions; /* regions examined */
	size_t n_regions;
	const struct ev_evidence_region_skip *regions_skipped;
	size_t n_regions_skipped;
	const struct ev_findings *findings;	    /* NULL: none */
	const struct ev_observations *observations; /* NULL: none */
	json_t *facts; /* an object of account-level facts (the credential
			  report's GeneratedTime...), or NULL */
};

/* Starts a snapshot: loads the key, creates the directory if needed, takes
 * the writer lock, removes leftovers of interrupted writes, finds the
 * newest snapshot with a manifest (the chain's previous link) and creates
 * the temporary directory. NULL on failure with err set: EV_E_CONFIG (no
 * directory or key given), EV_E_NOT_FOUND / EV_E_MALFORMED (key file),
 * EV_E_IO (cannot create, another writer holds the lock), EV_E_INVALID
 * (started_at does not name a snapshot newer than every one present: the
 * clock went backwards), EV_E_LIMIT, EV_E_NOMEM. */
struct ev_evidence *ev_evidence_begin(const struct ev_evidence_options *o,
				      struct ev_error *err);

/* Writes accounts/<id>.json, fsyncs it and forgets everything but its
 * hash and size. Errors: EV_E_INVALID (bad id or status, an account added
 * twice), EV_E_IO, EV_E_LIMIT, EV_E_NOMEM. A failed account leaves no
 * file behind; the snapshot can still be committed without it or
 * aborted. */
enum ev_err ev_evidence_add_account(struct ev_evidence *e,
				    const struct ev_evidence_account *a,
				    struct ev_error *err) EV_MUST_CHECK;

/* Completes the snapshot and frees e, on success and on failure (which
 * aborts it). manifest_fields (stolen; NULL for none) is an object of the
 * caller's members: identity, scope, thresholds, api_calls (objects),
 * controls (verdicts and coverage), documents (an array of {path, sha256,
 * ...}, see ev_evidence_document) and anything else; none may use a
 * reserved key (ev_manifest_reserved_keys). The writer adds format,
 * snapshot, agent_version, started_at, finished_at, previous, signing_key
 * and parts, signs, and renames the snapshot into place. On success the
 * final directory's path is written to out_dir (may be NULL). Errors:
 * EV_E_INVALID (fields not an object, a reserved key, a badly shaped
 * member), EV_E_IO, EV_E_LIMIT (out_dir too small: the snapshot is still
 * committed), EV_E_NOMEM, EV_E_INTERNAL. */
enum ev_err ev_evidence_commit(struct ev_evidence *e, json_t *manifest_fields,
			       char *out_dir, size_t n,
			       struct ev_error *err) EV_MUST_CHECK;

/* Removes the temporary directory and frees e; accepts NULL. Nothing of
 * the snapshot remains. */
void ev_evidence_abort(struct ev_evidence *e);

/* The snapshot's name (YYYYMMDDTHHMMSSZ); a view living as long as e. */
const char *ev_evidence_name(const struct ev_evidence *e);

/* Hashes a document file to attach to a control: *out becomes
 * {"path": path, "sha256": hex, "size": n} (new reference). Errors:
 * EV_E_NOT_FOUND, EV_E_IO, EV_E_LIMIT, EV_E_NOMEM. */
enum ev_err ev_evidence_document(const char *path, json_t **out,
				 struct ev_error *err) EV_MUST_CHECK;

#endif
