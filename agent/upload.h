/* The WORM copy of each snapshot: S3 PutObject of every part, then
 * manifest.json, then manifest.sig (so a copy with a signature is
 * complete), to <prefix>/<snapshot>/<path>, each with its SHA-256
 * (x-amz-checksum-sha256, base64 of the digest) and Object Lock headers
 * (mode, retain-until = upload time + retention days); aws-api.md §10.9.
 *
 * Each file is checked against the manifest's SHA-256 and size as it is
 * read: a snapshot changed on disk since it was written is not uploaded.
 * An uploaded snapshot gets a marker, <snapshot_dir>/EV_UPLOAD_MARKER_DIR/
 * <snapshot>.json, naming the bucket and prefix it went to: a snapshot
 * counts as uploaded only to that destination, and one without a marker
 * is uploaded again at the next run. The marker is outside the snapshot,
 * which stays exactly as it was signed.
 *
 * Ownership: targets are views the caller keeps alive; results are caller
 * storage. Credentials are the caller's and never copied here. */
#ifndef EV_UPLOAD_H
#define EV_UPLOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "aws.h"
#include "config.h"
#include "credentials.h"
#include "err.h"
#include "manifest.h"

#define EV_UPLOAD_MARKER_DIR ".uploaded"
/* One PutObject body: S3 takes up to 5 GiB in one request, and the body is
 * held in memory to be hashed and signed. */
#define EV_UPLOAD_OBJECT_MAX (512u * 1024 * 1024)
#define EV_UPLOAD_KEY_MAX    1024 /* S3's limit on a key, bytes */

struct ev_upload_target {
	const char *bucket;
	const char *prefix; /* NULL or "": keys start with the snapshot */
	const char *region; /* where the bucket is */
	enum ev_config_s3_lock lock;
	int retention_days; /* lock: retain-until = now + days */
};

/* The target [s3] configures (views into cfg): false when no bucket is
 * set, t then untouched. */
bool ev_upload_target_from_config(const struct ev_config *cfg,
				  struct ev_upload_target *t);

/* The object key for path of snapshot under t, percent-encoded for the
 * request path ("/" + key); into out (a buffer the caller inits with its
 * limit). Errors: EV_E_LIMIT (longer than EV_UPLOAD_KEY_MAX), EV_E_NOMEM. */
enum ev_err ev_upload_key_path(const struct ev_upload_target *t,
			       const char *snapshot, const char *path,
			       struct ev_buf *out) EV_MUST_CHECK;

struct ev_upload_stats {
	size_t objects;
	uint64_t bytes;
};

/* Uploads one committed snapshot of snapshot_dir and writes its marker.
 * `now` sets retain-until. cancel (NULL: never) is checked before each
 * object. Errors: those of ev_aws_call for a refused or failed PutObject
 * (err names the key, the AWS code and request ID), EV_E_MALFORMED (the
 * manifest does not parse, a file differs from it, S3 echoed another
 * checksum), EV_E_NOT_FOUND / EV_E_IO (a file is missing or unreadable;
 * cancelled), EV_E_LIMIT (a file over EV_UPLOAD_OBJECT_MAX), EV_E_NOMEM.
 * Objects sent before a failure stay in the bucket (they are locked);
 * sending them again at the next run adds versions. */
enum ev_err ev_upload_snapshot(struct ev_aws *aws,
			       const struct ev_credentials *creds,
			       const struct ev_upload_target *t,
			       const char *snapshot_dir, const char *snapshot,
			       time_t now, const atomic_bool *cancel,
			       struct ev_upload_stats *st,
			       struct ev_error *err) EV_MUST_CHECK;

/* True when the snapshot's marker names t's bucket and prefix. */
bool ev_upload_is_done(const char *snapshot_dir, const char *snapshot,
		       const struct ev_upload_target *t);

struct ev_upload_summary {
	size_t uploaded; /* snapshots uploaded by this call */
	size_t pending;	 /* snapshots still not uploaded */
	size_t objects;
	uint64_t bytes;
	char last[EV_SNAPSHOT_NAME_LEN + 1]; /* last one uploaded, or "" */
};

/* Uploads every snapshot of snapshot_dir not yet uploaded to t, oldest
 * first, taking credentials from the provider before each. A snapshot
 * that fails on our side (changed on disk, unreadable, too large) is
 * skipped with a log line and stays pending; a failure on the way to S3
 * (network, throttling, a refusal) stops the pass, since the next
 * snapshots would fail alike. Markers of snapshots no longer present are
 * removed. Returns the first error (the summary is filled either way).
 * Errors: as ev_upload_snapshot, and ev_manifest_list's. */
enum ev_err ev_upload_pending(struct ev_aws *aws,
			      struct ev_credentials_provider *creds,
			      const struct ev_upload_target *t,
			      const char *snapshot_dir, time_t now,
			      const atomic_bool *cancel,
			      struct ev_upload_summary *sum,
			      struct ev_error *err) EV_MUST_CHECK;

/* How many snapshots of snapshot_dir are not uploaded to t. Errors:
 * ev_manifest_list's. */
enum ev_err ev_upload_count_pending(const struct ev_upload_target *t,
				    const char *snapshot_dir, size_t *pending,
				    struct ev_error *err) EV_MUST_CHECK;

#endif
