#include "evidence.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "buf.h"
#include "digest.h"
#include "log.h"
#include "timefmt.h"

#define LOCK_FILE	 ".lock"
#define ACCOUNTS_DIR	 "accounts"
#define WRITE_BUF	 (64u * 1024)
#define REMOVE_DEPTH_MAX 8 /* a leftover is at most accounts/<file> deep */

struct part {
	char account[EV_ACCOUNT_ID_LEN + 1];
	enum ev_evidence_collection status;
	char sha256[EV_SHA256_HEX_LEN + 1];
	uint64_t size;
};

struct ev_evidence {
	char *dir;
	int dirfd, lockfd, tmpfd, accfd;
	char name[EV_SNAPSHOT_NAME_LEN + 1];
	char tmp_name[64];
	time_t started_at;
	struct ev_key *own_key;
	const struct ev_key *key;
	bool has_previous;
	char previous_name[EV_SNAPSHOT_NAME_LEN + 1];
	char previous_sha256[EV_SHA256_HEX_LEN + 1];
	struct part *parts;
	size_t n_parts, cap_parts;
};

const char *ev_evidence_name(const struct ev_evidence *e)
{
	return e->name;
}

/* Creates dir and its missing parents. */
static enum ev_err make_dirs(const char *dir, struct ev_error *err)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s", dir);
	EV_ENSURE_E(err, n > 0 && (size_t)n < sizeof(path), EV_E_CONFIG,
		    "snapshot directory path too long");
	for (char *p = path + 1;; p++) {
		bool end = *p == '\0';
		if (*p == '/' || end) {
			*p = '\0';
			if (mkdir(path, 0750) != 0 && errno != EEXIST)
				return ev_error_set(err, EV_E_IO, "%s: %s",
						    path, strerror(errno));
			if (end)
				break;
			*p = '/';
		}
	}
	return EV_OK;
}

static bool remove_tree(int dirfd, const char *name, int depth);

/* Removes the entries of the open directory d (fd is its descriptor) whose
 * names start with prefix (all of them when prefix is NULL). Entries are
 * removed while the directory is read, so it is read again until a pass
 * removes nothing. */
static void empty_dir(DIR *d, int fd, int depth, const char *prefix)
{
	size_t prefix_len = prefix ? strlen(prefix) : 0;
	for (int pass = 0; pass < 16; pass++) {
		size_t removed = 0;
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (prefix && strncmp(de->d_name, prefix, prefix_len))
				continue;
			if (prefix)
				ev_log_info("removing %s, left by an "
					    "interrupted write",
					    de->d_name);
			if (remove_tree(fd, de->d_name, depth))
				removed++;
		}
		if (!removed)
			return;
		rewinddir(d);
	}
}

/* Removes name under dirfd and everything in it, never following a
 * symlink (a link is removed, not its target). True when it is gone. */
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
		if (d) {
			empty_dir(d, fd, depth + 1, NULL);
			closedir(d);
		} else if (fd >= 0) {
			close(fd);
		}
	}
	return unlinkat(dirfd, name, AT_REMOVEDIR) == 0;
}

static void remove_leftovers(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	empty_dir(d, fd, 0, EV_SNAPSHOT_TMP_PREFIX);
	closedir(d);
}

/* Finds the newest snapshot present (for the ordering check) and the
 * newest one with a manifest (the chain's previous link). */
static enum ev_err find_previous(struct ev_evidence *e, struct ev_error *err)
{
	struct ev_manifest_names list;
	EV_TRY(ev_manifest_list(e->dir, &list, err));
	enum ev_err rc = EV_OK;
	if (list.n && strcmp(list.names[list.n - 1], e->name) >= 0) {
		rc = ev_error_set(err, EV_E_INVALID,
				  "snapshot %s is not newer than %s, already "
				  "in %s (clock went backwards?)",
				  e->name, list.names[list.n - 1], e->dir);
		goto out;
	}
	for (size_t i = list.n; i-- > 0;) {
		int sfd =
		    openat(e->dirfd, list.names[i],
			   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0)
			continue;
		struct ev_buf b;
		ev_buf_init(&b, EV_MANIFEST_MAX);
		struct ev_error e2;
		ev_error_clear(&e2);
		enum ev_err r = ev_manifest_read_file(sfd, EV_MANIFEST_FILE,
						      EV_MANIFEST_MAX, &b, &e2);
		close(sfd);
		if (r == EV_OK) {
			e->has_previous = true;
			memcpy(e->previous_name, list.names[i],
			       EV_SNAPSHOT_NAME_LEN + 1);
			ev_sha256_hex(b.data ? b.data : "", b.len,
				      e->previous_sha256);
		} else {
			ev_log_warn("snapshot %s has no readable manifest "
				    "(%s): not chaining to it",
				    list.names[i], e2.message);
		}
		ev_buf_cleanup(&b);
		if (r == EV_OK)
			break;
	}
out:
	ev_manifest_names_cleanup(&list);
	return rc;
}

static void evidence_free(struct ev_evidence *e)
{
	if (!e)
		return;
	if (e->accfd >= 0)
		close(e->accfd);
	if (e->tmpfd >= 0)
		close(e->tmpfd);
	if (e->dirfd >= 0)
		close(e->dirfd);
	/* Closing the lock file releases the lock. */
	if (e->lockfd >= 0)
		close(e->lockfd);
	ev_keys_free(e->own_key);
	free(e->parts);
	free(e->dir);
	free(e);
}

/* The steps of begin; what they leave half done, abort undoes. */
static enum ev_err start(struct ev_evidence *e,
			 const struct ev_evidence_options *o,
			 struct ev_error *err)
{
	EV_ENSURE_E(err, o->snapshot_dir && *o->snapshot_dir, EV_E_CONFIG,
		    "no snapshot directory");
	EV_ENSURE_E(err, o->started_at > 0, EV_E_CONFIG, "no start time");
	e->started_at = o->started_at;
	ev_time_format_amz(o->started_at, e->name);
	if (o->signing_key) {
		e->key = o->signing_key;
	} else {
		EV_ENSURE_E(err, o->signing_key_path, EV_E_CONFIG,
			    "no signing key (config agent.signing_key; "
			    "`evident keygen` makes one)");
		e->own_key = ev_keys_load_private(o->signing_key_path, err);
		if (!e->own_key) {
			ev_error_prefix(err, "signing key: ");
			return err ? err->code : EV_E_CONFIG;
		}
		e->key = e->own_key;
	}
	EV_ENSURE_E(err, ev_keys_has_private(e->key), EV_E_CONFIG,
		    "the signing key is not private");
	e->dir = ev_strdup(o->snapshot_dir);
	EV_ENSURE_E(err, e->dir, EV_E_NOMEM, "out of memory");
	EV_TRY(make_dirs(e->dir, err));
	e->dirfd = open(e->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	EV_ENSURE_E(err, e->dirfd >= 0, EV_E_IO, "%s: %s", e->dir,
		    strerror(errno));
	e->lockfd = openat(e->dirfd, LOCK_FILE,
			   O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
	EV_ENSURE_E(err,
		    e->lockfd >= 0 && flock(e->lockfd, LOCK_EX | LOCK_NB) == 0,
		    EV_E_IO, "%s/%s: %s", e->dir, LOCK_FILE,
		    errno == EWOULDBLOCK ? "another snapshot is being written"
					 : strerror(errno));
	/* Only the lock holder may remove leftovers: no other writer can be
	 * filling one of them now. */
	remove_leftovers(e->dirfd);
	EV_TRY(find_previous(e, err));
	char tmp[sizeof(e->tmp_name)];
	snprintf(tmp, sizeof(tmp), "%s%s-%ld", EV_SNAPSHOT_TMP_PREFIX, e->name,
		 (long)getpid());
	EV_ENSURE_E(err, mkdirat(e->dirfd, tmp, 0750) == 0, EV_E_IO,
		    "%s/%s: %s", e->dir, tmp, strerror(errno));
	memcpy(e->tmp_name, tmp, sizeof(tmp)); /* now abort removes it */
	e->tmpfd = openat(e->dirfd, e->tmp_name,
			  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	EV_ENSURE_E(err,
		    e->tmpfd >= 0 && mkdirat(e->tmpfd, ACCOUNTS_DIR, 0750) == 0,
		    EV_E_IO, "%s/%s: %s", e->dir, e->tmp_name, strerror(errno));
	e->accfd = openat(e->tmpfd, ACCOUNTS_DIR,
			  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	EV_ENSURE_E(err, e->accfd >= 0, EV_E_IO, "%s/%s/%s: %s", e->dir,
		    e->tmp_name, ACCOUNTS_DIR, strerror(errno));
	return EV_OK;
}

struct ev_evidence *ev_evidence_begin(const struct ev_evidence_options *o,
				      struct ev_error *err)
{
	struct ev_evidence *e = calloc(1, sizeof(*e));
	if (!e) {
		ev_error_set(err, EV_E_NOMEM, "out of memory");
		return NULL;
	}
	e->dirfd = e->lockfd = e->tmpfd = e->accfd = -1;
	if (start(e, o, err) != EV_OK) {
		ev_evidence_abort(e);
		return NULL;
	}
	return e;
}

void ev_evidence_abort(struct ev_evidence *e)
{
	if (!e)
		return;
	if (e->dirfd >= 0 && e->tmp_name[0])
		(void)remove_tree(e->dirfd, e->tmp_name, 0);
	evidence_free(e);
}

/* Streams JSON text to a file, hashing and counting it on the way. */
struct sink {
	int fd;
	EVP_MD_CTX *md;
	uint64_t size;
	unsigned char *buf;
	size_t used;
	int error; /* errno of the first failed write */
};

static int sink_flush(struct sink *s)
{
	size_t off = 0;
	while (off < s->used) {
		ssize_t w = write(s->fd, s->buf + off, s->used - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->error = w < 0 ? errno : EIO;
			return -1;
		}
		off += (size_t)w;
	}
	s->used = 0;
	return 0;
}

static int sink_write(const char *p, size_t n, void *ctx)
{
	struct sink *s = ctx;
	if (s->error)
		return -1;
	if (EVP_DigestUpdate(s->md, p, n) != 1) {
		s->error = EIO;
		return -1;
	}
	s->size += n;
	while (n) {
		size_t room = WRITE_BUF - s->used;
		size_t k = n < room ? n : room;
		memcpy(s->buf + s->used, p, k);
		s->used += k;
		p += k;
		n -= k;
		if (s->used == WRITE_BUF && sink_flush(s) != 0)
			return -1;
	}
	return 0;
}

/* Writes json to a new file `name` under dirfd (never replacing one),
 * fsynced, and returns its SHA-256 and size. Leaves no file on failure. */
static enum ev_err write_json_file(int dirfd, const char *name,
				   const json_t *json, const char *trailer,
				   char sha256[EV_SHA256_HEX_LEN + 1],
				   uint64_t *size, struct ev_error *err)
{
	struct sink s;
	memset(&s, 0, sizeof(s));
	s.fd =
	    openat(dirfd, name,
		   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (s.fd < 0) {
		int en = errno;
		return ev_error_set(
		    err, en == EEXIST ? EV_E_INVALID : EV_E_IO, "%s: %s", name,
		    en == EEXIST ? "written twice" : strerror(en));
	}
	enum ev_err rc = EV_OK;
	s.md = EVP_MD_CTX_new();
	s.buf = malloc(WRITE_BUF);
	if (!s.md || !s.buf ||
	    EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) != 1) {
		rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
		goto out;
	}
	if (json_dump_callback(json, sink_write, &s, JSON_INDENT(2)) != 0 ||
	    (trailer && sink_write(trailer, strlen(trailer), &s) != 0) ||
	    sink_flush(&s) != 0) {
		rc = ev_error_set(
		    err, s.error ? EV_E_IO : EV_E_NOMEM, "%s: %s", name,
		    s.error ? strerror(s.error) : "cannot encode JSON");
		goto out;
	}
	if (fsync(s.fd) != 0) {
		rc = ev_error_set(err, EV_E_IO, "%s: fsync: %s", name,
				  strerror(errno));
		goto out;
	}
	unsigned char d[EV_SHA256_LEN];
	unsigned dlen = 0;
	if (EVP_DigestFinal_ex(s.md, d, &dlen) != 1) {
		rc = ev_error_set(err, EV_E_INTERNAL, "SHA-256 failed");
		goto out;
	}
	ev_hex_encode(d, sizeof(d), sha256);
	*size = s.size;
out:
	if (close(s.fd) != 0 && rc == EV_OK)
		rc = ev_error_set(err, EV_E_IO, "%s: close: %s", name,
				  strerror(errno));
	if (rc != EV_OK)
		(void)unlinkat(dirfd, name, 0);
	EVP_MD_CTX_free(s.md);
	free(s.buf);
	return rc;
}

static bool account_id_valid(const char *id)
{
	if (!id || strlen(id) != EV_ACCOUNT_ID_LEN)
		return false;
	for (const char *p = id; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* A JSON string ("" for NULL). Text from AWS answers is not always
 * UTF-8, which JSON cannot carry: bytes outside ASCII then become '?'
 * rather than costing the account its file. */
static json_t *text(const char *s)
{
	json_t *j = json_string(s ? s : "");
	if (j || !s)
		return j;
	char *copy = ev_strdup(s);
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

/* text(), or null for an empty or absent string. */
static json_t *text_or_null(const char *s)
{
	return s && *s ? text(s) : json_null();
}

static json_t *iso_time(time_t t)
{
	char iso[EV_ISO8601_LEN + 1];
	ev_time_format_iso8601(t, iso);
	return json_string(iso);
}

/* Deflates body into a gzip member and base64-encodes it. */
static json_t *gzip_base64(const char *body, size_t len)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (len > UINT32_MAX ||
	    deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	json_t *out = NULL;
	uLong bound = deflateBound(&zs, (uLong)len);
	unsigned char *gz = malloc(bound);
	struct ev_buf b64;
	ev_buf_init(&b64, (size_t)bound / 3 * 4 + 8);
	if (!gz)
		goto out;
	zs.next_in = (Bytef *)body;
	zs.avail_in = (uInt)len;
	zs.next_out = gz;
	zs.avail_out = (uInt)bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
		goto out;
	if (ev_base64_encode(gz, zs.total_out, &b64) != EV_OK)
		goto out;
	out = json_stringn(ev_buf_str(&b64), b64.len);
out:
	deflateEnd(&zs);
	free(gz);
	ev_buf_cleanup(&b64);
	return out;
}

static json_t *body_json(const struct ev_observation *x)
{
	json_t *b =
	    json_pack("{s:o,s:I}", "sha256", text_or_null(x->body_sha256),
		      "size", (json_int_t)x->body_len);
	if (!b)
		return NULL;
	const char *encoding;
	json_t *data = NULL;
	if (x->body_withheld) {
		encoding = "withheld";
	} else if (!x->body) {
		encoding = x->body_len ? "not-kept" : "text";
		if (!x->body_len)
			data = json_string("");
	} else {
		/* json_stringn refuses what is not UTF-8: that goes
		 * compressed, like anything large. */
		if (x->body_len <= EV_EVIDENCE_INLINE_MAX)
			data = json_stringn(x->body, x->body_len);
		encoding = data ? "text" : "gzip+base64";
		if (!data)
			data = gzip_base64(x->body, x->body_len);
		if (!data) {
			json_decref(b);
			return NULL;
		}
	}
	/* set_new consumes its value even when it fails. */
	int bad = json_object_set_new(b, "encoding", json_string(encoding));
	if (data)
		bad |= json_object_set_new(b, "data", data);
	if (bad) {
		json_decref(b);
		return NULL;
	}
	return b;
}

/* Whole milliseconds, clamped: a duration is never negative or huge. */
static json_int_t millis(double seconds)
{
	if (!(seconds > 0))
		return 0;
	if (seconds > 1e9)
		seconds = 1e9;
	return (json_int_t)(seconds * 1000.0 + 0.5);
}

static json_t *observation_json(const struct ev_observation *x)
{
	json_t *body = body_json(x);
	if (!body)
		return NULL;
	return json_pack(
	    "{s:I,s:o,s:o,s:o,s:o,s:o,s:I,s:o,s:o,s:I,s:i,s:o}", "id",
	    (json_int_t)x->id, "service", text(x->service), "action",
	    text(x->action), "region", text_or_null(x->region), "account",
	    text_or_null(x->account), "time", iso_time(x->time), "http_status",
	    (json_int_t)x->http_status, "request_id",
	    text_or_null(x->request_id), "error_code",
	    text_or_null(x->error_code), "duration_ms", millis(x->seconds),
	    "attempts", x->attempts, "body", body);
}

static json_t *finding_json(const struct ev_finding *f)
{
	json_t *obs = json_array();
	for (size_t i = 0; obs && i < f->n_obs; i++)
		if (json_array_append_new(obs, json_integer(f->obs[i])) != 0) {
			json_decref(obs);
			return NULL;
		}
	return json_pack("{s:o,s:o,s:o,s:s,s:o,s:O?,s:o,s:o,s:o}", "probe",
			 text(f->probe_id), "region", text_or_null(f->region),
			 "resource", text(f->resource), "status",
			 ev_status_name(f->status), "reason", text(f->reason),
			 "details", f->details, "error_code",
			 text_or_null(f->error_code), "request_id",
			 text_or_null(f->request_id), "observations", obs);
}

static json_t *coverage_json(const struct ev_evidence_account *a)
{
	json_t *regions = json_array(), *skipped = json_array();
	json_t *c = json_pack("{s:o,s:o}", "regions", regions,
			      "regions_skipped", skipped);
	if (!c)
		return NULL;
	for (size_t i = 0; i < a->n_regions; i++)
		if (json_array_append_new(regions, text(a->regions[i])) != 0)
			goto fail;
	for (size_t i = 0; i < a->n_regions_skipped; i++) {
		const struct ev_evidence_region_skip *r =
		    &a->regions_skipped[i];
		if (json_array_append_new(
			skipped, json_pack("{s:o,s:o}", "region",
					   text(r->region), "opt_in_status",
					   text_or_null(r->opt_in_status))) !=
		    0)
			goto fail;
	}
	return c;
fail:
	json_decref(c);
	return NULL;
}

static json_t *collection_json(const struct ev_evidence_account *a)
{
	if (a->status == EV_COLLECTION_COLLECTED)
		return json_pack("{s:s}", "status", "collected");
	json_t *c = json_pack("{s:s,s:o}", "status", "skipped", "reason",
			      text(a->skip_reason));
	if (c && a->skip_error) {
		const struct ev_error *x = a->skip_error;
		if (json_object_set_new(
			c, "error",
			json_pack("{s:s,s:o,s:o,s:o}", "code",
				  ev_err_name(x->code), "aws_code",
				  text_or_null(x->aws_code), "request_id",
				  text_or_null(x->request_id), "message",
				  text_or_null(x->message))) != 0) {
			json_decref(c);
			return NULL;
		}
	}
	return c;
}

static json_t *account_json(const struct ev_evidence *e,
			    const struct ev_evidence_account *a)
{
	json_t *findings = json_array(), *observations = json_array();
	json_t *root = json_pack(
	    "{s:i,s:s,s:{s:s,s:o},s:o,s:o,s:o,s:o,s:O?}", "format",
	    EV_EVIDENCE_FORMAT, "snapshot", e->name, "account", "id", a->id,
	    "name", text_or_null(a->name), "collection", collection_json(a),
	    "coverage", coverage_json(a), "findings", findings, "observations",
	    observations, "facts", a->facts);
	if (!root)
		return NULL;
	for (size_t i = 0; a->findings && i < a->findings->n; i++)
		if (json_array_append_new(
			findings, finding_json(&a->findings->items[i])) != 0)
			goto fail;
	for (size_t i = 0; a->observations && i < a->observations->n; i++)
		if (json_array_append_new(
			observations,
			observation_json(&a->observations->items[i])) != 0)
			goto fail;
	return root;
fail:
	json_decref(root);
	return NULL;
}

enum ev_err ev_evidence_add_account(struct ev_evidence *e,
				    const struct ev_evidence_account *a,
				    struct ev_error *err)
{
	EV_ENSURE_E(err, account_id_valid(a->id), EV_E_INVALID,
		    "account id is not 12 digits");
	EV_ENSURE_E(err,
		    a->status == EV_COLLECTION_COLLECTED ||
			a->status == EV_COLLECTION_SKIPPED,
		    EV_E_INVALID, "account %s: unknown collection status",
		    a->id);
	EV_ENSURE_E(err, !a->facts || json_is_object(a->facts), EV_E_INVALID,
		    "account %s: facts is not an object", a->id);
	EV_ENSURE_E(err, e->n_parts < EV_MANIFEST_MAX_PARTS, EV_E_LIMIT,
		    "more than %d accounts in one snapshot",
		    EV_MANIFEST_MAX_PARTS);
	if (e->n_parts == e->cap_parts) {
		size_t cap = e->cap_parts ? e->cap_parts * 2 : 64;
		struct part *p = reallocarray(e->parts, cap, sizeof(*p));
		EV_ENSURE_E(err, p, EV_E_NOMEM, "out of memory");
		e->parts = p;
		e->cap_parts = cap;
	}
	json_t *doc = account_json(e, a);
	EV_ENSURE_E(err, doc, EV_E_NOMEM, "account %s: out of memory", a->id);
	char file[EV_ACCOUNT_ID_LEN + 8];
	snprintf(file, sizeof(file), "%s.json", a->id);
	struct part *p = &e->parts[e->n_parts];
	memset(p, 0, sizeof(*p));
	enum ev_err rc = write_json_file(e->accfd, file, doc, "\n", p->sha256,
					 &p->size, err);
	json_decref(doc);
	if (rc != EV_OK) {
		ev_error_prefix(err, "account %s: ", a->id);
		return rc;
	}
	memcpy(p->account, a->id, sizeof(p->account));
	p->status = a->status;
	e->n_parts++;
	return EV_OK;
}

static int part_cmp(const void *a, const void *b)
{
	const struct part *x = a, *y = b;
	return strcmp(x->account, y->account);
}

static bool reserved(const char *key)
{
	for (size_t i = 0; ev_manifest_reserved_keys[i]; i++)
		if (strcmp(key, ev_manifest_reserved_keys[i]) == 0)
			return true;
	return false;
}

static enum ev_err check_fields(json_t *fields, struct ev_error *err)
{
	EV_ENSURE_E(err, json_is_object(fields), EV_E_INVALID,
		    "manifest fields are not an object");
	const char *k;
	json_t *v;
	json_object_foreach(fields, k, v)
	{
		EV_ENSURE_E(err, !reserved(k), EV_E_INVALID,
			    "manifest field %s is the writer's", k);
	}
	/* Shaped as verification will read them back. */
	struct ev_error perr;
	ev_error_clear(&perr);
	EV_ENSURE_E(err, ev_manifest_check_fields(fields, &perr) == EV_OK,
		    EV_E_INVALID, "manifest field %s", perr.message);
	return EV_OK;
}

static json_t *parts_json(struct ev_evidence *e)
{
	json_t *parts = json_array();
	if (!parts)
		return NULL;
	if (e->n_parts)
		qsort(e->parts, e->n_parts, sizeof(*e->parts), part_cmp);
	for (size_t i = 0; i < e->n_parts; i++) {
		const struct part *p = &e->parts[i];
		char path[EV_ACCOUNT_ID_LEN + 16];
		snprintf(path, sizeof(path), "%s/%s.json", ACCOUNTS_DIR,
			 p->account);
		if (json_array_append_new(
			parts, json_pack("{s:s,s:s,s:I,s:s,s:s}", "path", path,
					 "sha256", p->sha256, "size",
					 (json_int_t)p->size, "account",
					 p->account, "collection",
					 p->status == EV_COLLECTION_COLLECTED
					     ? "collected"
					     : "skipped")) != 0) {
			json_decref(parts);
			return NULL;
		}
	}
	return parts;
}

/* json_dumps can lose bytes when its own buffer fails to grow; a dump
 * through this callback fails instead. */
struct buf_sink {
	struct ev_buf buf;
	enum ev_err rc;
};

static int buf_write(const char *p, size_t n, void *ctx)
{
	struct buf_sink *s = ctx;
	s->rc = ev_buf_append(&s->buf, p, n);
	return s->rc == EV_OK ? 0 : -1;
}

/* The manifest: the writer's members first, then the caller's, then the
 * parts. */
static enum ev_err manifest_json(struct ev_evidence *e, json_t *fields,
				 json_t **out, struct ev_error *err)
{
	*out = NULL;
	struct ev_buf pem;
	ev_buf_init(&pem, EV_KEYS_PEM_MAX);
	if (ev_keys_public_pem(e->key, &pem) != EV_OK) {
		ev_buf_cleanup(&pem);
		return ev_error_set(err, EV_E_INTERNAL,
				    "cannot encode the public key");
	}
	time_t now = time(NULL);
	json_t *previous =
	    e->has_previous
		? json_pack("{s:s,s:s}", "snapshot", e->previous_name,
			    "manifest_sha256", e->previous_sha256)
		: json_null();
	json_t *m = json_pack(
	    "{s:i,s:s,s:s,s:o,s:o,s:o,s:{s:s,s:s,s:s}}", "format",
	    EV_MANIFEST_FORMAT, "snapshot", e->name, "agent_version",
	    EV_VERSION, "started_at", iso_time(e->started_at), "finished_at",
	    iso_time(now > e->started_at ? now : e->started_at), "previous",
	    previous, "signing_key", "algorithm", "ed25519",
	    "fingerprint_sha256", ev_keys_fingerprint(e->key), "public_key_pem",
	    ev_buf_str(&pem));
	ev_buf_cleanup(&pem);
	json_t *parts = m ? parts_json(e) : NULL;
	int bad = !parts || json_object_update(m, fields) != 0;
	/* set_new consumes parts even when it fails. */
	bad |= parts ? json_object_set_new(m, "parts", parts) : 0;
	if (bad) {
		json_decref(m);
		return ev_error_set(err, EV_E_NOMEM, "out of memory");
	}
	*out = m;
	return EV_OK;
}

static enum ev_err write_bytes(int dirfd, const char *name, const void *p,
			       size_t n, struct ev_error *err)
{
	int fd =
	    openat(dirfd, name,
		   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	EV_ENSURE_E(err, fd >= 0, EV_E_IO, "%s: %s", name, strerror(errno));
	const char *c = p;
	enum ev_err rc = EV_OK;
	while (n && rc == EV_OK) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = ev_error_set(err, EV_E_IO, "%s: %s", name,
					  w < 0 ? strerror(errno)
						: "short write");
		else {
			c += w;
			n -= (size_t)w;
		}
	}
	if (rc == EV_OK && fsync(fd) != 0)
		rc = ev_error_set(err, EV_E_IO, "%s: fsync: %s", name,
				  strerror(errno));
	if (close(fd) != 0 && rc == EV_OK)
		rc = ev_error_set(err, EV_E_IO, "%s: close: %s", name,
				  strerror(errno));
	return rc;
}

static enum ev_err sync_fd(int fd, const char *what, struct ev_error *err)
{
	EV_ENSURE_E(err, fsync(fd) == 0, EV_E_IO, "%s: fsync: %s", what,
		    strerror(errno));
	return EV_OK;
}

/* Renames without ever replacing: a snapshot is never overwritten. */
static int rename_noreplace(int dirfd, const char *from, const char *to)
{
	int r = renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE);
	if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
		/* A filesystem without RENAME_NOREPLACE: renaming onto a
		 * non-empty directory still fails, and begin checked that
		 * nothing newer exists. */
		struct stat st;
		if (fstatat(dirfd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			errno = EEXIST;
			return -1;
		}
		r = renameat(dirfd, from, dirfd, to);
	}
	return r;
}

static enum ev_err finish(struct ev_evidence *e, json_t *fields, char *out_dir,
			  size_t n, struct ev_error *err)
{
	EV_TRY(check_fields(fields, err));
	json_t *m;
	EV_TRY(manifest_json(e, fields, &m, err));
	struct buf_sink sink = {.rc = EV_OK};
	ev_buf_init(&sink.buf, EV_MANIFEST_MAX);
	enum ev_err rc = EV_OK;
	if (json_dump_callback(m, buf_write, &sink, JSON_INDENT(2)) != 0)
		rc = sink.rc != EV_OK ? sink.rc : EV_E_NOMEM;
	json_decref(m);
	struct ev_buf bytes = sink.buf;
	if (rc == EV_OK)
		rc = ev_buf_append_char(&bytes, '\n');
	if (rc != EV_OK) {
		ev_buf_cleanup(&bytes);
		return ev_error_set(err, rc, "cannot encode the manifest (%s)",
				    ev_err_name(rc));
	}
	unsigned char sig[EV_KEYS_SIG_LEN];
	rc = ev_keys_sign(e->key, bytes.data, bytes.len, sig, err);
	if (rc == EV_OK)
		rc = write_bytes(e->tmpfd, EV_MANIFEST_FILE, bytes.data,
				 bytes.len, err);
	ev_buf_cleanup(&bytes);
	EV_TRY(rc);
	EV_TRY(
	    write_bytes(e->tmpfd, EV_MANIFEST_SIG_FILE, sig, sizeof(sig), err));
	EV_TRY(sync_fd(e->accfd, ACCOUNTS_DIR, err));
	EV_TRY(sync_fd(e->tmpfd, e->tmp_name, err));
	EV_ENSURE_E(err, rename_noreplace(e->dirfd, e->tmp_name, e->name) == 0,
		    EV_E_IO, "renaming %s to %s: %s", e->tmp_name, e->name,
		    strerror(errno));
	e->tmp_name[0] = '\0'; /* committed: nothing to remove */
	EV_TRY(sync_fd(e->dirfd, e->dir, err));
	if (out_dir) {
		int w = snprintf(out_dir, n, "%s/%s", e->dir, e->name);
		EV_ENSURE_E(err, w > 0 && (size_t)w < n, EV_E_LIMIT,
			    "snapshot path longer than %zu bytes", n);
	}
	return EV_OK;
}

enum ev_err ev_evidence_commit(struct ev_evidence *e, json_t *manifest_fields,
			       char *out_dir, size_t n, struct ev_error *err)
{
	if (out_dir && n)
		out_dir[0] = '\0';
	json_t *fields = manifest_fields ? manifest_fields : json_object();
	enum ev_err rc = fields
			     ? finish(e, fields, out_dir, n, err)
			     : ev_error_set(err, EV_E_NOMEM, "out of memory");
	json_decref(fields);
	ev_evidence_abort(e);
	return rc;
}

enum ev_err ev_evidence_document(const char *path, json_t **out,
				 struct ev_error *err)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int en = errno;
		return ev_error_set(err,
				    en == ENOENT ? EV_E_NOT_FOUND : EV_E_IO,
				    "%s: %s", path, strerror(en));
	}
	enum ev_err rc = EV_OK;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *chunk = malloc(WRITE_BUF);
	uint64_t total = 0;
	struct stat st;
	if (!md || !chunk || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = ev_error_set(err, EV_E_IO, "%s: not a regular file", path);
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, chunk, WRITE_BUF);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = ev_error_set(err, EV_E_IO, "%s: %s", path,
					  strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		total += (uint64_t)r;
		if (total > EV_EVIDENCE_DOCUMENT_MAX) {
			rc = ev_error_set(err, EV_E_LIMIT, "%s: too large",
					  path);
			goto out;
		}
		if (EVP_DigestUpdate(md, chunk, (size_t)r) != 1) {
			rc = ev_error_set(err, EV_E_INTERNAL, "SHA-256 failed");
			goto out;
		}
	}
	unsigned char d[EV_SHA256_LEN];
	char hex[EV_SHA256_HEX_LEN + 1];
	unsigned dlen = 0;
	if (EVP_DigestFinal_ex(md, d, &dlen) != 1) {
		rc = ev_error_set(err, EV_E_INTERNAL, "SHA-256 failed");
		goto out;
	}
	ev_hex_encode(d, sizeof(d), hex);
	*out = json_pack("{s:o,s:s,s:I}", "path", text(path), "sha256", hex,
			 "size", (json_int_t)total);
	if (!*out)
		rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
out:
	close(fd);
	EVP_MD_CTX_free(md);
	free(chunk);
	return rc;
}
