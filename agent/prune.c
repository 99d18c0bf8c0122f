#include "prune.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "digest.h"
#include "log.h"
#include "timefmt.h"

/* The snapshot writers' lock (evidence.h): pruning takes it too, so it
 * never races a snapshot being written or another agent pruning. */
#define LOCK_FILE	   ".lock"
#define RECORD_FORMAT	   1
#define REMOVE_DEPTH_MAX   8
#define REMOVE_ENTRIES_MAX 1000000

static bool hex64(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') ||
		      (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == EV_SHA256_HEX_LEN;
}

/* The record as this module writes it: {"format": 1, "pruned": [{"snapshot":
 * name, "manifest_sha256": hex, "pruned_at": ISO 8601}, ...]}. Fields it
 * does not use are allowed, so a later format can add some. */
static bool record_valid(const json_t *root)
{
	if (!json_is_object(root))
		return false;
	const json_t *format = json_object_get(root, "format");
	const json_t *list = json_object_get(root, "pruned");
	if (!json_is_integer(format) ||
	    json_integer_value(format) != RECORD_FORMAT ||
	    !json_is_array(list) ||
	    json_array_size(list) > EV_PRUNE_RECORD_ENTRIES)
		return false;
	size_t i;
	const json_t *e;
	json_array_foreach(list, i, e)
	{
		const char *name =
		    json_string_value(json_object_get(e, "snapshot"));
		const char *hash =
		    json_string_value(json_object_get(e, "manifest_sha256"));
		if (!json_is_object(e) || !name ||
		    !ev_manifest_name_valid(name) || !hash || !hex64(hash))
			return false;
	}
	return true;
}

/* Parses record bytes: the checked root, or NULL. */
static json_t *record_parse(const void *bytes, size_t n)
{
	if (n > EV_PRUNE_RECORD_MAX)
		return NULL;
	json_error_t je;
	json_t *root =
	    json_loadb(bytes ? bytes : "", n, JSON_REJECT_DUPLICATES, &je);
	if (!record_valid(root)) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Reads and checks the record; *out is NULL when there is none. Errors:
 * EV_E_MALFORMED, EV_E_IO, EV_E_LIMIT, EV_E_NOMEM. */
static enum ev_err record_read(int dirfd, json_t **out, struct ev_error *err)
{
	*out = NULL;
	struct ev_buf b;
	ev_buf_init(&b, EV_PRUNE_RECORD_MAX);
	enum ev_err rc = ev_manifest_read_file(dirfd, EV_PRUNE_RECORD_FILE,
					       EV_PRUNE_RECORD_MAX, &b, err);
	if (rc == EV_E_NOT_FOUND) {
		ev_error_clear(err);
		ev_buf_cleanup(&b);
		return EV_OK;
	}
	if (rc == EV_OK) {
		*out = record_parse(b.data, b.len);
		if (!*out)
			rc = ev_error_set(err, EV_E_MALFORMED,
					  "%s is not a record of pruned "
					  "snapshots (format %d)",
					  EV_PRUNE_RECORD_FILE, RECORD_FORMAT);
	}
	ev_buf_cleanup(&b);
	return rc;
}

static bool record_lists(const json_t *root, const char *snapshot,
			 const char *manifest_sha256)
{
	size_t i;
	const json_t *entry;
	json_array_foreach(json_object_get(root, "pruned"), i, entry)
	{
		if (strcmp(
			json_string_value(json_object_get(entry, "snapshot")),
			snapshot) == 0 &&
		    strcmp(json_string_value(
			       json_object_get(entry, "manifest_sha256")),
			   manifest_sha256) == 0)
			return true;
	}
	return false;
}

bool ev_prune_record_lists(const void *bytes, size_t n, const char *snapshot,
			   const char *manifest_sha256)
{
	if (!snapshot || !manifest_sha256)
		return false;
	json_t *root = record_parse(bytes, n);
	bool found = root && record_lists(root, snapshot, manifest_sha256);
	json_decref(root);
	return found;
}

bool ev_prune_recorded(int dirfd, const char *snapshot,
		       const char *manifest_sha256)
{
	json_t *root = NULL;
	struct ev_error e;
	ev_error_clear(&e);
	if (!snapshot || !manifest_sha256 ||
	    record_read(dirfd, &root, &e) != EV_OK || !root)
		return false;
	bool found = record_lists(root, snapshot, manifest_sha256);
	json_decref(root);
	return found;
}

static enum ev_err write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return EV_E_IO;
		p += w;
		n -= (size_t)w;
	}
	return EV_OK;
}

/* Replaces the record: a temporary file, fsynced, renamed over it, the
 * directory fsynced. */
static enum ev_err record_write(int dirfd, const char *dir, const json_t *root,
				struct ev_error *err)
{
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%spruned-%ld.json", EV_SNAPSHOT_TMP_PREFIX,
		 (long)getpid());
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	EV_ENSURE_E(err, text, EV_E_NOMEM, "out of memory");
	enum ev_err rc = EV_OK;
	(void)unlinkat(dirfd, tmp, 0);
	int fd =
	    openat(dirfd, tmp,
		   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		rc = ev_error_set(err, EV_E_IO, "%s/%s: %s", dir, tmp,
				  strerror(errno));
		goto out;
	}
	if (write_all(fd, text, strlen(text)) != EV_OK ||
	    write_all(fd, "\n", 1) != EV_OK || fsync(fd) != 0) {
		rc = ev_error_set(err, EV_E_IO, "%s/%s: %s", dir, tmp,
				  strerror(errno));
		goto out;
	}
	if (renameat(dirfd, tmp, dirfd, EV_PRUNE_RECORD_FILE) != 0) {
		rc = ev_error_set(err, EV_E_IO, "%s/%s: %s", dir,
				  EV_PRUNE_RECORD_FILE, strerror(errno));
		goto out;
	}
	(void)fsync(dirfd);
out:
	if (fd >= 0)
		close(fd);
	if (rc != EV_OK)
		(void)unlinkat(dirfd, tmp, 0);
	free(text);
	return rc;
}

/* Removes name under dirfd and everything in it, never following a
 * symlink. True when it is gone. */
static bool remove_tree(int dirfd, const char *name, int depth)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) == 0;
	if (depth < REMOVE_DEPTH_MAX) {
		int fd =
		    openat(dirfd, name,
			   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		if (!d && fd >= 0)
			close(fd);
		/* Entries are removed while the directory is read: read it
		 * again until a pass removes nothing. */
		for (size_t seen = 0; d && seen < REMOVE_ENTRIES_MAX;) {
			size_t removed = 0;
			struct dirent *de;
			while ((de = readdir(d)) != NULL &&
			       seen++ < REMOVE_ENTRIES_MAX) {
				if (strcmp(de->d_name, ".") == 0 ||
				    strcmp(de->d_name, "..") == 0)
					continue;
				if (remove_tree(fd, de->d_name, depth + 1))
					removed++;
			}
			if (!removed)
				break;
			rewinddir(d);
		}
		if (d)
			closedir(d);
	}
	return unlinkat(dirfd, name, AT_REMOVEDIR) == 0;
}

/* The SHA-256 of snapshot name's manifest.json. */
static enum ev_err manifest_hash(int dirfd, const char *name,
				 char hex[EV_SHA256_HEX_LEN + 1],
				 struct ev_error *err)
{
	int sfd = openat(dirfd, name,
			 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	EV_ENSURE_E(err, sfd >= 0, EV_E_IO, "%s: %s", name, strerror(errno));
	struct ev_buf b;
	ev_buf_init(&b, EV_MANIFEST_MAX);
	enum ev_err rc = ev_manifest_read_file(sfd, EV_MANIFEST_FILE,
					       EV_MANIFEST_MAX, &b, err);
	close(sfd);
	if (rc == EV_OK)
		ev_sha256_hex(b.data ? b.data : "", b.len, hex);
	ev_buf_cleanup(&b);
	return rc;
}

static enum ev_err record_append(json_t *root, const char *name,
				 const char *hash, time_t now)
{
	json_t *list = json_object_get(root, "pruned");
	char at[EV_ISO8601_LEN + 1];
	ev_time_format_iso8601(now, at);
	json_t *e = json_pack("{s:s, s:s, s:s}", "snapshot", name,
			      "manifest_sha256", hash, "pruned_at", at);
	EV_ENSURE(e && json_array_append_new(list, e) == 0, EV_E_NOMEM);
	while (json_array_size(list) > EV_PRUNE_RECORD_ENTRIES)
		EV_ENSURE(json_array_remove(list, 0) == 0, EV_E_INTERNAL);
	return EV_OK;
}

static json_t *record_new(void)
{
	return json_pack(
	    "{s:i, s:s, s:[]}", "format", RECORD_FORMAT, "about",
	    "Snapshots removed after the retention period, oldest first, "
	    "with the SHA-256 of each one's manifest.json: the next "
	    "snapshot's previous link. Written by evident before each "
	    "removal.",
	    "pruned");
}

enum ev_err ev_prune_run(const struct ev_prune_options *o,
			 struct ev_prune_result *r, struct ev_error *err)
{
	memset(r, 0, sizeof(*r));
	EV_ENSURE_E(err, o->snapshot_dir && *o->snapshot_dir, EV_E_CONFIG,
		    "no snapshot directory");
	EV_ENSURE_E(err, o->retention_days >= 1, EV_E_CONFIG,
		    "retention of %d days", o->retention_days);
	int dirfd = -1, lockfd = -1;
	struct ev_manifest_names list;
	memset(&list, 0, sizeof(list));
	char(*hashes)[EV_SHA256_HEX_LEN + 1] = NULL;
	json_t *record = NULL;
	size_t n_prune = 0;
	enum ev_err rc = EV_OK;

	dirfd = open(o->snapshot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		rc = ev_error_set(err,
				  errno == ENOENT ? EV_E_NOT_FOUND : EV_E_IO,
				  "%s: %s", o->snapshot_dir, strerror(errno));
		goto out;
	}
	lockfd = openat(dirfd, LOCK_FILE,
			O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) != 0) {
		rc = ev_error_set(
		    err, EV_E_IO, "%s/%s: %s", o->snapshot_dir, LOCK_FILE,
		    errno == EWOULDBLOCK ? "another snapshot is being written"
					 : strerror(errno));
		goto out;
	}
	rc = ev_manifest_list(o->snapshot_dir, &list, err);
	if (rc != EV_OK)
		goto out;
	r->kept = list.n;
	if (list.n < 2)
		goto out;
	hashes = calloc(list.n, sizeof(*hashes));
	if (!hashes) {
		rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
		goto out;
	}
	long long cutoff =
	    (long long)o->now - (long long)o->retention_days * 86400;
	for (size_t i = 0; i + 1 < list.n; i++) {
		const char *name = list.names[i];
		time_t started;
		if (ev_time_parse_amz(name, &started) != EV_OK ||
		    (long long)started >= cutoff)
			break;
		if (o->uploaded && !o->uploaded(o->ctx, name)) {
			memcpy(r->held_by_upload, name, sizeof(list.names[i]));
			break;
		}
		struct ev_error e;
		ev_error_clear(&e);
		if (manifest_hash(dirfd, name, hashes[i], &e) != EV_OK) {
			ev_log_warn("not pruning %s or later snapshots: its "
				    "manifest cannot be read (%s)",
				    name, e.message);
			break;
		}
		n_prune++;
	}
	if (n_prune == 0)
		goto out;

	rc = record_read(dirfd, &record, err);
	if (rc == EV_OK && !record) {
		record = record_new();
		if (!record)
			rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; rc == EV_OK && i < n_prune; i++)
		if (record_append(record, list.names[i], hashes[i], o->now) !=
		    EV_OK)
			rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
	if (rc == EV_OK)
		rc = record_write(dirfd, o->snapshot_dir, record, err);
	if (rc != EV_OK)
		goto out;

	/* Recorded first: a crash from here on leaves snapshots that are
	 * listed and still present, which verification does not mind. */
	for (size_t i = 0; i < n_prune; i++) {
		char gone[64];
		snprintf(gone, sizeof(gone), "%spruned-%s",
			 EV_SNAPSHOT_TMP_PREFIX, list.names[i]);
		if (!remove_tree(dirfd, gone, 0) ||
		    renameat(dirfd, list.names[i], dirfd, gone) != 0) {
			rc = ev_error_set(err, EV_E_IO, "%s/%s: %s",
					  o->snapshot_dir, list.names[i],
					  strerror(errno));
			break;
		}
		(void)fsync(dirfd);
		if (!remove_tree(dirfd, gone, 0))
			ev_log_warn("%s/%s: not fully removed (%s); the next "
				    "snapshot written removes it",
				    o->snapshot_dir, gone, strerror(errno));
		ev_log_info("pruned snapshot %s (older than %d days)",
			    list.names[i], o->retention_days);
		r->pruned++;
	}
	r->kept = list.n - r->pruned;
out:
	json_decref(record);
	free(hashes);
	ev_manifest_names_cleanup(&list);
	if (lockfd >= 0)
		close(lockfd);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}
