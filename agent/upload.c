#include "upload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "digest.h"
#include "http.h"
#include "log.h"
#include "timefmt.h"
#include "uri.h"

#define MARKER_FORMAT 1
#define MARKER_MAX    (64u * 1024)
/* "<snapshot>.json" */
#define MARKER_NAME_LEN (EV_SNAPSHOT_NAME_LEN + 5)
#define SIG_MAX		1024

bool ev_upload_target_from_config(const struct ev_config *cfg,
				  struct ev_upload_target *t)
{
	if (!cfg->s3.bucket || !*cfg->s3.bucket)
		return false;
	t->bucket = cfg->s3.bucket;
	t->prefix = cfg->s3.prefix;
	t->region = cfg->s3.region ? cfg->s3.region : cfg->aws.region;
	t->lock = cfg->s3.object_lock;
	t->retention_days = cfg->s3.retention_days;
	return true;
}

static const char *prefix_of(const struct ev_upload_target *t)
{
	return t->prefix ? t->prefix : "";
}

static const char *lock_mode(enum ev_config_s3_lock l)
{
	switch (l) {
	case EV_S3_LOCK_COMPLIANCE:
		return "COMPLIANCE";
	case EV_S3_LOCK_GOVERNANCE:
		return "GOVERNANCE";
	case EV_S3_LOCK_OFF:
	default:
		return NULL;
	}
}

static bool is_cancelled(const atomic_bool *cancel)
{
	return cancel && atomic_load(cancel);
}

enum ev_err ev_upload_key_path(const struct ev_upload_target *t,
			       const char *snapshot, const char *path,
			       struct ev_buf *out)
{
	const char *prefix = prefix_of(t);
	size_t key_len = (*prefix ? strlen(prefix) + 1 : 0) + strlen(snapshot) +
			 1 + strlen(path);
	EV_ENSURE(key_len <= EV_UPLOAD_KEY_MAX, EV_E_LIMIT);
	EV_TRY(ev_buf_append_char(out, '/'));
	if (*prefix) {
		EV_TRY(ev_uri_encode(prefix, strlen(prefix), false, out));
		EV_TRY(ev_buf_append_char(out, '/'));
	}
	EV_TRY(ev_uri_encode(snapshot, strlen(snapshot), false, out));
	EV_TRY(ev_buf_append_char(out, '/'));
	return ev_uri_encode(path, strlen(path), false, out);
}

/* Opens path ("a/b/c") under dirfd read-only, following no symlink in any
 * segment. -1 with errno set on failure. */
static int open_beneath(int dirfd, const char *path)
{
	char seg[EV_MANIFEST_PATH_MAX + 1];
	int fd = dirfd;
	const char *p = path;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || len >= sizeof(seg)) {
			if (fd != dirfd)
				close(fd);
			errno = EINVAL;
			return -1;
		}
		memcpy(seg, p, len);
		seg[len] = '\0';
		int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
			    (slash ? O_DIRECTORY : O_NOCTTY | O_NONBLOCK);
		int next = openat(fd, seg, flags);
		int saved = errno;
		if (fd != dirfd)
			close(fd);
		if (next < 0) {
			errno = saved;
			return -1;
		}
		fd = next;
		if (!slash)
			return fd;
		p = slash + 1;
	}
}

/* Reads a regular file of the snapshot into out (at most limit bytes). */
static enum ev_err read_part(int sfd, const char *path, size_t limit,
			     struct ev_buf *out, struct ev_error *err)
{
	int fd = open_beneath(sfd, path);
	if (fd < 0)
		return ev_error_set(err,
				    errno == ENOENT ? EV_E_NOT_FOUND : EV_E_IO,
				    "%s: %s", path, strerror(errno));
	enum ev_err rc = EV_OK;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = ev_error_set(err, EV_E_IO, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > limit) {
		rc = ev_error_set(err, EV_E_LIMIT,
				  "%s: %lld bytes, more than one upload "
				  "takes (%zu)",
				  path, (long long)st.st_size, limit);
		goto out;
	}
	char chunk[64 * 1024];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ev_error_set(err, EV_E_IO, "%s: %s", path,
					  strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		rc = ev_buf_append(out, chunk, (size_t)n);
		if (rc != EV_OK) {
			ev_error_set(err, rc, "%s: larger than %zu bytes", path,
				     limit);
			goto out;
		}
	}
out:
	close(fd);
	return rc;
}

/* One PutObject. version_id (may be NULL) receives x-amz-version-id. */
static enum ev_err
put_object(struct ev_aws *aws, const struct ev_credentials *creds,
	   const struct ev_upload_target *t, const char *snapshot,
	   const char *path, const char *content_type,
	   const struct ev_buf *body, const char *retain_until,
	   char *version_id, size_t version_len, struct ev_error *err)
{
	unsigned char digest[EV_SHA256_LEN];
	ev_sha256(body->data ? body->data : "", body->len, digest);
	struct ev_buf b64, key;
	ev_buf_init(&b64, 64);
	ev_buf_init(&key, EV_LIMIT_URL);
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	enum ev_err rc = ev_base64_encode(digest, sizeof(digest), &b64);
	if (rc == EV_OK)
		rc = ev_upload_key_path(t, snapshot, path, &key);
	if (rc != EV_OK) {
		ev_error_set(err, rc, "%s/%s: the object key is too long",
			     snapshot, path);
		goto out;
	}
	const char *checksum = ev_buf_str(&b64);
	struct ev_http_header h[4];
	size_t n = 0;
	h[n++] = (struct ev_http_header){"Content-Type", content_type};
	/* Object Lock needs an integrity header besides
	 * x-amz-content-sha256 (which the signer adds). */
	h[n++] = (struct ev_http_header){"x-amz-checksum-sha256", checksum};
	const char *mode = lock_mode(t->lock);
	if (mode) {
		h[n++] =
		    (struct ev_http_header){"x-amz-object-lock-mode", mode};
		h[n++] = (struct ev_http_header){
		    "x-amz-object-lock-retain-until-date", retain_until};
	}
	struct ev_aws_call c = {
	    .service = EV_SVC_S3,
	    .action = "PutObject",
	    .region = t->region,
	    .method = "PUT",
	    .bucket = t->bucket,
	    .path = ev_buf_str(&key),
	    .headers = h,
	    .n_headers = n,
	    .body = body->data ? body->data : "",
	    .body_len = body->len,
	};
	rc = ev_aws_call(aws, &c, creds, &resp, err);
	if (rc != EV_OK) {
		ev_error_prefix(err, "uploading %s/%s: ", snapshot, path);
		goto out;
	}
	const char *echo =
	    ev_http_response_header(&resp.http, "x-amz-checksum-sha256");
	if (echo && strcmp(echo, checksum) != 0) {
		rc = ev_error_set(err, EV_E_MALFORMED,
				  "uploading %s/%s: S3 computed another "
				  "SHA-256 than the one sent",
				  snapshot, path);
		err->http_status = (int)resp.http_status;
		goto out;
	}
	if (version_id) {
		const char *v =
		    ev_http_response_header(&resp.http, "x-amz-version-id");
		ev_error_copy_field(version_id, version_len, v ? v : "",
				    v ? strlen(v) : 0);
	}
out:
	ev_aws_response_cleanup(&resp);
	ev_buf_cleanup(&key);
	ev_buf_cleanup(&b64);
	return rc;
}

static const char *content_type_of(const char *path)
{
	size_t n = strlen(path);
	return n > 5 && strcmp(path + n - 5, ".json") == 0
		   ? "application/json"
		   : "application/octet-stream";
}

static int marker_dir_open(int dirfd, bool create)
{
	if (create && mkdirat(dirfd, EV_UPLOAD_MARKER_DIR, 0750) != 0 &&
	    errno != EEXIST)
		return -1;
	return openat(dirfd, EV_UPLOAD_MARKER_DIR,
		      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static enum ev_err write_marker(int dirfd, const char *snapshot_dir,
				const char *snapshot, const json_t *marker,
				struct ev_error *err)
{
	char name[MARKER_NAME_LEN + 1], tmp[MARKER_NAME_LEN + 8];
	snprintf(name, sizeof(name), "%s.json", snapshot);
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	char *text = json_dumps(marker, JSON_INDENT(2) | JSON_SORT_KEYS);
	EV_ENSURE_E(err, text, EV_E_NOMEM, "out of memory");
	enum ev_err rc = EV_OK;
	int fd = -1;
	int mfd = marker_dir_open(dirfd, true);
	if (mfd < 0) {
		rc = ev_error_set(err, EV_E_IO, "%s/%s: %s", snapshot_dir,
				  EV_UPLOAD_MARKER_DIR, strerror(errno));
		goto out;
	}
	fd =
	    openat(mfd, tmp,
		   O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	size_t len = strlen(text), off = 0;
	while (fd >= 0 && off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (fd < 0 || off < len || fsync(fd) != 0 ||
	    renameat(mfd, tmp, mfd, name) != 0) {
		rc = ev_error_set(err, EV_E_IO, "%s/%s/%s: %s", snapshot_dir,
				  EV_UPLOAD_MARKER_DIR, name, strerror(errno));
		(void)unlinkat(mfd, tmp, 0);
		goto out;
	}
	(void)fsync(mfd);
out:
	if (fd >= 0)
		close(fd);
	if (mfd >= 0)
		close(mfd);
	free(text);
	return rc;
}

enum ev_err ev_upload_snapshot(struct ev_aws *aws,
			       const struct ev_credentials *creds,
			       const struct ev_upload_target *t,
			       const char *snapshot_dir, const char *snapshot,
			       time_t now, const atomic_bool *cancel,
			       struct ev_upload_stats *st, struct ev_error *err)
{
	memset(st, 0, sizeof(*st));
	EV_ENSURE_E(err, t && t->bucket && t->region, EV_E_CONFIG,
		    "no bucket to upload to");
	EV_ENSURE_E(err, ev_manifest_name_valid(snapshot), EV_E_INVALID,
		    "not a snapshot name");
	int dirfd = -1, sfd = -1;
	struct ev_manifest m;
	memset(&m, 0, sizeof(m));
	struct ev_buf manifest, body;
	ev_buf_init(&manifest, EV_MANIFEST_MAX);
	ev_buf_init(&body, EV_UPLOAD_OBJECT_MAX);
	json_t *marker = NULL;
	enum ev_err rc = EV_OK;
	char until[EV_ISO8601_LEN + 1];
	ev_time_format_iso8601(now + (time_t)t->retention_days * 86400, until);
	char manifest_version[256] = "";
	char manifest_sha[EV_SHA256_HEX_LEN + 1];

	dirfd = open(snapshot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd >= 0)
		sfd = openat(dirfd, snapshot,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0) {
		rc = ev_error_set(
		    err, errno == ENOENT ? EV_E_NOT_FOUND : EV_E_IO,
		    "%s/%s: %s", snapshot_dir, snapshot, strerror(errno));
		goto out;
	}
	rc = ev_manifest_read_file(sfd, EV_MANIFEST_FILE, EV_MANIFEST_MAX,
				   &manifest, err);
	if (rc == EV_OK)
		rc = ev_manifest_parse(manifest.data ? manifest.data : "",
				       manifest.len, &m, err);
	if (rc != EV_OK) {
		ev_error_prefix(err, "%s: ", snapshot);
		goto out;
	}
	ev_sha256_hex(manifest.data ? manifest.data : "", manifest.len,
		      manifest_sha);

	/* The parts, then the manifest, then its signature: a copy holding
	 * manifest.sig is complete. */
	for (size_t i = 0; i <= m.n_parts + 1; i++) {
		if (is_cancelled(cancel)) {
			rc = ev_error_set(err, EV_E_IO,
					  "cancelled: upload of %s stopped",
					  snapshot);
			goto out;
		}
		const struct ev_buf *send = &body;
		const char *path;
		char *version = NULL;
		size_t version_len = 0;
		if (i < m.n_parts) {
			const struct ev_manifest_part *p = &m.parts[i];
			path = p->path;
			ev_buf_reset(&body);
			rc = read_part(sfd, path, EV_UPLOAD_OBJECT_MAX, &body,
				       err);
			if (rc != EV_OK) {
				ev_error_prefix(err, "%s: ", snapshot);
				goto out;
			}
			char hex[EV_SHA256_HEX_LEN + 1];
			ev_sha256_hex(body.data ? body.data : "", body.len,
				      hex);
			if (body.len != p->size || strcmp(hex, p->sha256)) {
				rc = ev_error_set(
				    err, EV_E_MALFORMED,
				    "%s: %s changed since the snapshot was "
				    "written (its SHA-256 or size is not the "
				    "manifest's): not uploaded",
				    snapshot, path);
				goto out;
			}
		} else if (i == m.n_parts) {
			path = EV_MANIFEST_FILE;
			send = &manifest;
			version = manifest_version;
			version_len = sizeof(manifest_version);
		} else {
			path = EV_MANIFEST_SIG_FILE;
			ev_buf_reset(&body);
			rc = read_part(sfd, path, SIG_MAX, &body, err);
			if (rc != EV_OK) {
				ev_error_prefix(err, "%s: ", snapshot);
				goto out;
			}
		}
		rc = put_object(aws, creds, t, snapshot, path,
				content_type_of(path), send, until, version,
				version_len, err);
		if (rc != EV_OK)
			goto out;
		st->objects++;
		st->bytes += send->len;
	}

	const char *mode = lock_mode(t->lock);
	char at[EV_ISO8601_LEN + 1];
	ev_time_format_iso8601(now, at);
	marker = json_pack(
	    "{s:i, s:s, s:s, s:s, s:s, s:s?, s:s?, s:I, s:I, s:s, s:s}",
	    "format", MARKER_FORMAT, "bucket", t->bucket, "prefix",
	    prefix_of(t), "region", t->region, "uploaded_at", at,
	    "object_lock_mode", mode, "retain_until", mode ? until : NULL,
	    "objects", (json_int_t)st->objects, "bytes", (json_int_t)st->bytes,
	    "manifest_sha256", manifest_sha, "manifest_version_id",
	    manifest_version);
	if (!marker) {
		rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
		goto out;
	}
	rc = write_marker(dirfd, snapshot_dir, snapshot, marker, err);
	if (rc == EV_OK)
		ev_log_info("uploaded snapshot %s to s3://%s/%s%s%s/ (%zu "
			    "objects, %llu bytes%s%s%s)",
			    snapshot, t->bucket, prefix_of(t),
			    *prefix_of(t) ? "/" : "", snapshot, st->objects,
			    (unsigned long long)st->bytes, mode ? ", " : "",
			    mode ? mode : "", mode ? " lock" : "");
out:
	json_decref(marker);
	ev_manifest_cleanup(&m);
	ev_buf_cleanup(&body);
	ev_buf_cleanup(&manifest);
	if (sfd >= 0)
		close(sfd);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

/* Whether a marker (its bytes) names t's destination. */
static bool marker_matches(const struct ev_buf *b,
			   const struct ev_upload_target *t)
{
	json_error_t je;
	json_t *root = json_loadb(b->data ? b->data : "", b->len,
				  JSON_REJECT_DUPLICATES, &je);
	const char *bucket = json_string_value(json_object_get(root, "bucket"));
	const char *prefix = json_string_value(json_object_get(root, "prefix"));
	bool ok = json_is_object(root) &&
		  json_integer_value(json_object_get(root, "format")) ==
		      MARKER_FORMAT &&
		  bucket && prefix && strcmp(bucket, t->bucket) == 0 &&
		  strcmp(prefix, prefix_of(t)) == 0;
	json_decref(root);
	return ok;
}

static bool done_at(int dirfd, const char *snapshot,
		    const struct ev_upload_target *t)
{
	int mfd = marker_dir_open(dirfd, false);
	if (mfd < 0)
		return false;
	char name[MARKER_NAME_LEN + 1];
	snprintf(name, sizeof(name), "%s.json", snapshot);
	struct ev_buf b;
	ev_buf_init(&b, MARKER_MAX);
	struct ev_error e;
	ev_error_clear(&e);
	bool done =
	    ev_manifest_read_file(mfd, name, MARKER_MAX, &b, &e) == EV_OK &&
	    marker_matches(&b, t);
	ev_buf_cleanup(&b);
	close(mfd);
	return done;
}

bool ev_upload_is_done(const char *snapshot_dir, const char *snapshot,
		       const struct ev_upload_target *t)
{
	if (!ev_manifest_name_valid(snapshot))
		return false;
	int dirfd = open(snapshot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return false;
	bool done = done_at(dirfd, snapshot, t);
	close(dirfd);
	return done;
}

/* Removes the markers of snapshots no longer in the directory (pruned). */
static void forget_missing(int dirfd, const struct ev_manifest_names *list)
{
	int mfd = marker_dir_open(dirfd, false);
	if (mfd < 0)
		return;
	int lfd = dup(mfd);
	DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
	if (!d) {
		if (lfd >= 0)
			close(lfd);
		close(mfd);
		return;
	}
	char gone[64][MARKER_NAME_LEN + 1];
	size_t n_gone = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n_gone < 64) {
		const char *n = de->d_name;
		char snap[EV_SNAPSHOT_NAME_LEN + 1];
		if (strlen(n) != MARKER_NAME_LEN ||
		    strcmp(n + EV_SNAPSHOT_NAME_LEN, ".json") != 0)
			continue;
		memcpy(snap, n, EV_SNAPSHOT_NAME_LEN);
		snap[EV_SNAPSHOT_NAME_LEN] = '\0';
		bool present = false;
		for (size_t i = 0; i < list->n && !present; i++)
			present = strcmp(list->names[i], snap) == 0;
		if (!present)
			memcpy(gone[n_gone++], n, MARKER_NAME_LEN + 1);
	}
	closedir(d);
	/* Unlinked after the listing: a directory changed while it is read
	 * may list entries twice or not at all. At most 64 per call; the
	 * next call takes the rest. */
	for (size_t i = 0; i < n_gone; i++)
		(void)unlinkat(mfd, gone[i], 0);
	close(mfd);
}

enum ev_err ev_upload_count_pending(const struct ev_upload_target *t,
				    const char *snapshot_dir, size_t *pending,
				    struct ev_error *err)
{
	*pending = 0;
	struct ev_manifest_names list;
	EV_TRY(ev_manifest_list(snapshot_dir, &list, err));
	int dirfd = open(snapshot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; i < list.n; i++)
		if (dirfd < 0 || !done_at(dirfd, list.names[i], t))
			(*pending)++;
	if (dirfd >= 0)
		close(dirfd);
	ev_manifest_names_cleanup(&list);
	return EV_OK;
}

/* Failures of the snapshot itself, which do not say the next one will
 * fail too. */
static bool local_failure(const struct ev_error *e, const atomic_bool *cancel)
{
	if (is_cancelled(cancel) || e->http_status != 0)
		return false;
	switch (e->code) {
	case EV_E_MALFORMED:
	case EV_E_NOT_FOUND:
	case EV_E_LIMIT:
	case EV_E_IO:
		return true;
	default:
		return false;
	}
}

enum ev_err
ev_upload_pending(struct ev_aws *aws, struct ev_credentials_provider *creds,
		  const struct ev_upload_target *t, const char *snapshot_dir,
		  time_t now, const atomic_bool *cancel,
		  struct ev_upload_summary *sum, struct ev_error *err)
{
	memset(sum, 0, sizeof(*sum));
	struct ev_manifest_names list;
	EV_TRY(ev_manifest_list(snapshot_dir, &list, err));
	enum ev_err first = EV_OK;
	int dirfd = open(snapshot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		first = ev_error_set(err, EV_E_IO, "%s: %s", snapshot_dir,
				     strerror(errno));
		goto out;
	}
	forget_missing(dirfd, &list);
	size_t i = 0;
	for (; i < list.n; i++) {
		const char *name = list.names[i];
		if (done_at(dirfd, name, t))
			continue;
		struct ev_error e;
		ev_error_clear(&e);
		struct ev_credentials c;
		memset(&c, 0, sizeof(c));
		struct ev_upload_stats st;
		memset(&st, 0, sizeof(st));
		enum ev_err rc =
		    ev_credentials_provider_get(creds, time(NULL), &c, &e);
		if (rc == EV_OK)
			rc = ev_upload_snapshot(aws, &c, t, snapshot_dir, name,
						now, cancel, &st, &e);
		ev_credentials_cleanup(&c);
		sum->objects += st.objects;
		sum->bytes += st.bytes;
		if (rc == EV_OK) {
			sum->uploaded++;
			memcpy(sum->last, name, sizeof(sum->last));
			continue;
		}
		if (first == EV_OK) {
			first = rc;
			if (err)
				*err = e;
		}
		if (!local_failure(&e, cancel))
			break;
		ev_log_error(EV_LOG_WARN, "snapshot not uploaded", &e);
	}
	for (size_t j = 0; j < list.n; j++)
		if (!done_at(dirfd, list.names[j], t))
			sum->pending++;
out:
	if (dirfd >= 0)
		close(dirfd);
	ev_manifest_names_cleanup(&list);
	return first;
}
