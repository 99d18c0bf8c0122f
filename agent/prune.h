/* Retention: removing snapshots older than the retention period without
 * breaking the chain `evident verify` checks.
 *
 * Snapshots are removed oldest first and only as a run from the start of
 * the chain: never the newest, and never one that is not yet uploaded when
 * an upload is configured (nor any after it, which would leave a hole in
 * the chain). Before a snapshot is removed, its name and the SHA-256 of its
 * manifest.json are appended to the record EV_PRUNE_RECORD_FILE in the
 * snapshot directory; verification accepts a chain whose first present
 * snapshot names a recorded one as its previous. A snapshot is removed by
 * renaming it to a .tmp-* name first (which verification ignores and the
 * next snapshot writer clears), so a crash never leaves half of one.
 *
 * The record only says what the agent removed: whoever can write the
 * directory can also remove the oldest snapshots and record them. The
 * Object Lock copies in S3 ([s3]) are what proves those existed.
 *
 * Ownership: options and results are caller storage; nothing is kept. */
#ifndef EV_PRUNE_H
#define EV_PRUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"
#include "manifest.h"

#define EV_PRUNE_RECORD_FILE "pruned.json"
#define EV_PRUNE_RECORD_MAX  (16u * 1024 * 1024) /* bytes read */
/* Entries kept in the record; the oldest are dropped past it (only the
 * newest matters to verification). */
#define EV_PRUNE_RECORD_ENTRIES 20000

struct ev_prune_options {
	const char *snapshot_dir;
	time_t now;
	int retention_days; /* > 0: snapshots started before now - days go */
	/* With an upload configured: whether a snapshot was uploaded. NULL:
	 * no upload, every snapshot past the retention may go. */
	bool (*uploaded)(void *ctx, const char *snapshot);
	void *ctx;
};

struct ev_prune_result {
	size_t pruned; /* snapshots removed by this run */
	size_t kept;   /* snapshots left */
	/* Pruning stopped at a snapshot past the retention that is not
	 * uploaded yet; its name. "" otherwise. */
	char held_by_upload[EV_SNAPSHOT_NAME_LEN + 1];
};

/* Prunes o->snapshot_dir under the snapshot writers' lock. Errors:
 * EV_E_CONFIG (no directory, retention_days < 1), EV_E_NOT_FOUND (no
 * directory), EV_E_IO (another writer holds the lock, or a file could not
 * be written, renamed or removed), EV_E_MALFORMED (the record exists but
 * is not one this module wrote: nothing is pruned), EV_E_LIMIT, EV_E_NOMEM.
 * A snapshot whose manifest cannot be read stops pruning there (it is
 * logged): what is not recorded is not removed. */
enum ev_err ev_prune_run(const struct ev_prune_options *o,
			 struct ev_prune_result *r,
			 struct ev_error *err) EV_MUST_CHECK;

/* For verification: true when the record in the snapshot directory dirfd
 * lists snapshot with this manifest SHA-256 (hex). The record is read as
 * untrusted input (bounded, duplicate keys refused, every field typed); an
 * absent, unreadable or malformed record lists nothing. */
bool ev_prune_recorded(int dirfd, const char *snapshot,
		       const char *manifest_sha256);

/* The same check over the record's bytes (at most EV_PRUNE_RECORD_MAX):
 * the parser of ev_prune_recorded, for tests and fuzzing. */
bool ev_prune_record_lists(const void *bytes, size_t n, const char *snapshot,
			   const char *manifest_sha256);

#endif
