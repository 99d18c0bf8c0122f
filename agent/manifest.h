/* The snapshot manifest: its format, reading it as untrusted input, and
 * checking snapshots against it (`evident verify`).
 *
 * A snapshot is a directory YYYYMMDDTHHMMSSZ/ (its UTC start time) holding
 * manifest.json, manifest.sig (64 raw bytes: Ed25519 over the exact bytes
 * of manifest.json) and the parts the manifest lists with their SHA-256
 * and size (accounts/<id>.json). Each manifest names the snapshot before
 * it and the SHA-256 of that snapshot's manifest.json, so the snapshots of
 * one directory form a chain: deleting, inserting, renaming or reordering
 * one breaks it. The writer is evidence.h; README's "Snapshot format"
 * describes every field.
 *
 * Ownership: struct ev_manifest and struct ev_manifest_names are caller
 * storage (cleanup functions below, safe on zeroed structs). Nothing here
 * holds a secret. */
#ifndef EV_MANIFEST_H
#define EV_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "digest.h"
#include "err.h"
#include "keys.h"

#define EV_MANIFEST_FORMAT     1
#define EV_MANIFEST_FILE       "manifest.json"
#define EV_MANIFEST_SIG_FILE   "manifest.sig"
#define EV_SNAPSHOT_NAME_LEN   16 /* YYYYMMDDTHHMMSSZ */
#define EV_SNAPSHOT_TMP_PREFIX ".tmp-"
/* Bounds on what a manifest and a snapshot directory may hold. */
#define EV_MANIFEST_MAX		  (64u * 1024 * 1024) /* manifest.json */
#define EV_MANIFEST_MAX_PARTS	  200000
#define EV_MANIFEST_PATH_MAX	  256 /* one part's relative path */
#define EV_MANIFEST_PATH_DEPTH	  4   /* segments in a part path */
#define EV_MANIFEST_MAX_SNAPSHOTS 1000000
#define EV_MANIFEST_PART_MAX_SIZE (1ull << 40) /* one part, bytes */

/* Keys the writer owns at the manifest's top level; a caller's fields may
 * not use them. NULL-terminated. */
extern const char *const ev_manifest_reserved_keys[];

/* True when name is a canonical snapshot name (a real UTC date and time in
 * YYYYMMDDTHHMMSSZ form). */
bool ev_manifest_name_valid(const char *name);

/* True when path is a part path the manifest may list: 1 to
 * EV_MANIFEST_PATH_DEPTH segments joined by '/', each of [A-Za-z0-9._-],
 * not starting with '.', at most EV_MANIFEST_PATH_MAX bytes in all, and
 * neither manifest.json nor manifest.sig. Nothing can name a file outside
 * the snapshot. */
bool ev_manifest_part_path_valid(const char *path);

struct ev_manifest_part {
	char *path; /* owned; valid per ev_manifest_part_path_valid */
	char sha256[EV_SHA256_HEX_LEN + 1];
	uint64_t size;
	bool seen; /* verification: the file was found */
};

/* What verification needs from a manifest, every field typed. */
struct ev_manifest {
	int format;
	char snapshot[EV_SNAPSHOT_NAME_LEN + 1];
	char agent_version[64];
	time_t started_at, finished_at;
	bool has_previous; /* false: the first snapshot of its chain */
	char previous_snapshot[EV_SNAPSHOT_NAME_LEN + 1];
	char previous_sha256[EV_SHA256_HEX_LEN + 1];
	char key_fingerprint[EV_KEYS_FINGERPRINT_LEN + 1];
	char *key_pem;			/* owned */
	struct ev_manifest_part *parts; /* owned, sorted by path */
	size_t n_parts;
};

/* Parses manifest.json bytes (untrusted: at most EV_MANIFEST_MAX bytes,
 * duplicate keys refused, every field the verifier relies on typed and
 * checked, duplicate part paths refused). Errors: EV_E_MALFORMED (the
 * message names the field), EV_E_LIMIT, EV_E_NOMEM. On failure m is
 * cleaned up. */
enum ev_err ev_manifest_parse(const void *bytes, size_t n,
			      struct ev_manifest *m,
			      struct ev_error *err) EV_MUST_CHECK;
void ev_manifest_cleanup(struct ev_manifest *m);

/* Checks the shape of the members a writer's caller supplies (identity,
 * scope, thresholds, api_calls: objects when present; documents: an array
 * of objects with a path and a hex SHA-256). They are not needed to
 * verify, but a manifest that gives them another shape is not one the
 * writer produced. Errors: EV_E_MALFORMED naming the member. */
enum ev_err ev_manifest_check_fields(const json_t *root,
				     struct ev_error *err) EV_MUST_CHECK;

/* The part with this path, or NULL. A view into m. */
struct ev_manifest_part *ev_manifest_find_part(struct ev_manifest *m,
					       const char *path);

/* Reads the regular file `name` under the directory dirfd into out (at
 * most limit bytes), never following a symlink. Errors: EV_E_NOT_FOUND,
 * EV_E_IO (not a regular file, read error), EV_E_LIMIT, EV_E_NOMEM. */
enum ev_err ev_manifest_read_file(int dirfd, const char *name, size_t limit,
				  struct ev_buf *out,
				  struct ev_error *err) EV_MUST_CHECK;

/* The snapshot names found in a directory, sorted oldest first. */
struct ev_manifest_names {
	char (*names)[EV_SNAPSHOT_NAME_LEN + 1];
	size_t n, cap;
	size_t unfinished; /* .tmp-* leftovers of interrupted writes */
	size_t other;	   /* entries that are neither */
};

/* Lists dir's entries named like snapshots (whatever their type: a file
 * with such a name is for verification to reject). Errors: EV_E_NOT_FOUND,
 * EV_E_IO, EV_E_LIMIT (more than EV_MANIFEST_MAX_SNAPSHOTS), EV_E_NOMEM. */
enum ev_err ev_manifest_list(const char *dir, struct ev_manifest_names *out,
			     struct ev_error *err) EV_MUST_CHECK;
void ev_manifest_names_cleanup(struct ev_manifest_names *l);

/* Verification. */

/* What can be wrong, one kind per way a snapshot can be altered. */
enum ev_manifest_problem {
	EV_PROBLEM_NONE = 0,	   /* the snapshot verified */
	EV_PROBLEM_EMPTY,	   /* no snapshot to verify */
	EV_PROBLEM_UNREADABLE,	   /* not a directory, a symlink, I/O error */
	EV_PROBLEM_MANIFEST,	   /* manifest.json missing or malformed */
	EV_PROBLEM_SIGNATURE,	   /* manifest.sig missing or not matching */
	EV_PROBLEM_KEY,		   /* signed by a key that is not trusted */
	EV_PROBLEM_RENAMED,	   /* directory name is not the manifest's */
	EV_PROBLEM_PART_CHANGED,   /* a part's SHA-256 or size differs */
	EV_PROBLEM_PART_MISSING,   /* a listed part is absent */
	EV_PROBLEM_PART_EXTRA,	   /* a file the manifest does not list */
	EV_PROBLEM_CHAIN_DELETED,  /* the previous snapshot is not present */
	EV_PROBLEM_CHAIN_INSERTED, /* a snapshot that is not in the chain */
	EV_PROBLEM_CHAIN_CHANGED,  /* previous manifest's hash differs */
	EV_PROBLEM_CHAIN_BROKEN,   /* a restart or backward link */
	EV_PROBLEM_COUNT_
};

/* "ok", "empty", "unreadable", "manifest", "signature", "key", "renamed",
 * "part-changed", "part-missing", "part-extra", "chain-deleted",
 * "chain-inserted", "chain-changed", "chain-broken". */
const char *ev_manifest_problem_name(enum ev_manifest_problem p);

/* One line of the verification report. Views valid during the call. */
struct ev_manifest_event {
	const char *snapshot; /* the directory name; "" for the whole dir */
	enum ev_manifest_problem problem;
	const char *message; /* what was checked, or what is wrong */
};

struct ev_manifest_verify_options {
	const char *path; /* one snapshot, or the directory of snapshots */
	/* Trusted public keys; a snapshot must be signed by one of them. */
	const struct ev_key *const *keys;
	size_t n_keys;
	/* Without keys, use each manifest's own embedded key: this proves
	 * only that the snapshot is as its signer left it, not who that
	 * was. */
	bool trust_embedded_key;
	/* Accept a chain whose oldest present snapshot names a previous one
	 * that is gone (pruned after the retention period). */
	bool allow_pruned;
	void (*on_event)(void *ctx, const struct ev_manifest_event *ev);
	void *ctx;
};

struct ev_manifest_summary {
	size_t snapshots; /* examined */
	size_t verified;  /* with no problem */
	size_t problems;  /* events other than EV_PROBLEM_NONE */
	size_t parts;	  /* part files hashed */
};

/* Verifies path: a snapshot directory (itself in full, plus the
 * manifests, signatures and chain of the snapshots before it in its
 * parent), or a directory of snapshots (every one in full, and the chain
 * from the first). Leftovers of interrupted writes (.tmp-*) are ignored.
 * Reports through on_event as it goes and fills summary. Returns EV_OK
 * when everything verified, EV_E_AUTH when any problem was found (each one
 * reported), EV_E_INVALID with no key and no trust_embedded_key, EV_E_IO
 * or EV_E_NOT_FOUND when path cannot be opened, EV_E_NOMEM. */
enum ev_err ev_manifest_verify(const struct ev_manifest_verify_options *o,
			       struct ev_manifest_summary *summary,
			       struct ev_error *err) EV_MUST_CHECK;

#endif
