#include "manifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "prune.h"
#include "timefmt.h"

const char *const ev_manifest_reserved_keys[] = {
    "format",	"snapshot",    "agent_version", "started_at", "finished_at",
    "previous", "signing_key", "parts",		NULL,
};

/* Problems reported one by one per snapshot before the rest are only
 * counted, so a directory stuffed with stray files still reads well. */
#define MAX_EVENTS_PER_SNAPSHOT 100
/* Entries read from one directory of a snapshot. */
#define MAX_DIR_ENTRIES (EV_MANIFEST_MAX_PARTS + 64)
#define SIG_FILE_MAX	1024
#define HASH_CHUNK	(64u * 1024)

static const char *const problem_names[EV_PROBLEM_COUNT_] = {
    [EV_PROBLEM_NONE] = "ok",
    [EV_PROBLEM_EMPTY] = "empty",
    [EV_PROBLEM_UNREADABLE] = "unreadable",
    [EV_PROBLEM_MANIFEST] = "manifest",
    [EV_PROBLEM_SIGNATURE] = "signature",
    [EV_PROBLEM_KEY] = "key",
    [EV_PROBLEM_RENAMED] = "renamed",
    [EV_PROBLEM_PART_CHANGED] = "part-changed",
    [EV_PROBLEM_PART_MISSING] = "part-missing",
    [EV_PROBLEM_PART_EXTRA] = "part-extra",
    [EV_PROBLEM_CHAIN_DELETED] = "chain-deleted",
    [EV_PROBLEM_CHAIN_INSERTED] = "chain-inserted",
    [EV_PROBLEM_CHAIN_CHANGED] = "chain-changed",
    [EV_PROBLEM_CHAIN_BROKEN] = "chain-broken",
};

const char *ev_manifest_problem_name(enum ev_manifest_problem p)
{
	if ((int)p < 0 || p >= EV_PROBLEM_COUNT_)
		return "unknown";
	return problem_names[p];
}

bool ev_manifest_name_valid(const char *name)
{
	if (!name || strlen(name) != EV_SNAPSHOT_NAME_LEN)
		return false;
	time_t t;
	if (ev_time_parse_amz(name, &t) != EV_OK)
		return false;
	/* Only the canonical spelling, so one instant has one name. */
	char again[EV_AMZ_DATE_LEN + 1];
	ev_time_format_amz(t, again);
	return strcmp(again, name) == 0;
}

static bool segment_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool ev_manifest_part_path_valid(const char *path)
{
	if (!path)
		return false;
	size_t len = strnlen(path, EV_MANIFEST_PATH_MAX + 1);
	if (len == 0 || len > EV_MANIFEST_PATH_MAX)
		return false;
	if (strcmp(path, EV_MANIFEST_FILE) == 0 ||
	    strcmp(path, EV_MANIFEST_SIG_FILE) == 0)
		return false;
	int segments = 0;
	const char *p = path;
	for (;;) {
		/* A segment: non-empty, no leading dot ("..", hidden files). */
		if (*p == '.' || *p == '/' || *p == '\0')
			return false;
		if (++segments > EV_MANIFEST_PATH_DEPTH)
			return false;
		while (*p && *p != '/') {
			if (!segment_char(*p))
				return false;
			p++;
		}
		if (*p == '\0')
			return true;
		p++;
	}
}

static bool hex64_valid(const char *s)
{
	if (strlen(s) != EV_SHA256_HEX_LEN)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

void ev_manifest_cleanup(struct ev_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_parts; i++)
		free(m->parts[i].path);
	free(m->parts);
	free(m->key_pem);
	memset(m, 0, sizeof(*m));
}

/* A string member: required, at most max bytes, no NUL inside. */
static enum ev_err get_string(json_t *obj, const char *where, const char *key,
			      size_t max, const char **out,
			      struct ev_error *err)
{
	json_t *v = json_object_get(obj, key);
	EV_ENSURE_E(err, json_is_string(v), EV_E_MALFORMED,
		    "%s%s: missing or not a string", where, key);
	size_t n = json_string_length(v);
	EV_ENSURE_E(err, n <= max && strlen(json_string_value(v)) == n,
		    EV_E_MALFORMED, "%s%s: too long or not text", where, key);
	*out = json_string_value(v);
	return EV_OK;
}

static enum ev_err get_time(json_t *obj, const char *key, time_t *out,
			    struct ev_error *err)
{
	const char *s;
	EV_TRY(get_string(obj, "", key, 64, &s, err));
	EV_ENSURE_E(err, ev_time_parse_iso8601(s, out) == EV_OK, EV_E_MALFORMED,
		    "%s: not an ISO 8601 time", key);
	return EV_OK;
}

static enum ev_err get_hex64(json_t *obj, const char *where, const char *key,
			     char out[EV_SHA256_HEX_LEN + 1],
			     struct ev_error *err)
{
	const char *s;
	EV_TRY(get_string(obj, where, key, EV_SHA256_HEX_LEN, &s, err));
	EV_ENSURE_E(err, hex64_valid(s), EV_E_MALFORMED,
		    "%s%s: not a lower-case hex SHA-256", where, key);
	memcpy(out, s, EV_SHA256_HEX_LEN + 1);
	return EV_OK;
}

static enum ev_err parse_previous(json_t *root, struct ev_manifest *m,
				  struct ev_error *err)
{
	json_t *prev = json_object_get(root, "previous");
	EV_ENSURE_E(err, prev, EV_E_MALFORMED, "previous: missing");
	if (json_is_null(prev))
		return EV_OK;
	EV_ENSURE_E(err, json_is_object(prev), EV_E_MALFORMED,
		    "previous: not an object or null");
	const char *name;
	EV_TRY(get_string(prev, "previous.", "snapshot", EV_SNAPSHOT_NAME_LEN,
			  &name, err));
	EV_ENSURE_E(err, ev_manifest_name_valid(name), EV_E_MALFORMED,
		    "previous.snapshot: not a snapshot name");
	/* A chain only runs backwards in time. */
	EV_ENSURE_E(err, strcmp(name, m->snapshot) < 0, EV_E_MALFORMED,
		    "previous.snapshot %s is not older than %s", name,
		    m->snapshot);
	memcpy(m->previous_snapshot, name, EV_SNAPSHOT_NAME_LEN + 1);
	EV_TRY(get_hex64(prev, "previous.", "manifest_sha256",
			 m->previous_sha256, err));
	m->has_previous = true;
	return EV_OK;
}

static enum ev_err parse_key(json_t *root, struct ev_manifest *m,
			     struct ev_error *err)
{
	json_t *key = json_object_get(root, "signing_key");
	EV_ENSURE_E(err, json_is_object(key), EV_E_MALFORMED,
		    "signing_key: missing or not an object");
	const char *alg, *pem;
	EV_TRY(get_string(key, "signing_key.", "algorithm", 32, &alg, err));
	EV_ENSURE_E(err, strcmp(alg, "ed25519") == 0, EV_E_MALFORMED,
		    "signing_key.algorithm: not ed25519");
	EV_TRY(get_hex64(key, "signing_key.", "fingerprint_sha256",
			 m->key_fingerprint, err));
	EV_TRY(get_string(key, "signing_key.", "public_key_pem",
			  EV_KEYS_PEM_MAX, &pem, err));
	m->key_pem = ev_strdup(pem);
	EV_ENSURE_E(err, m->key_pem, EV_E_NOMEM, "out of memory");
	return EV_OK;
}

static int part_cmp(const void *a, const void *b)
{
	const struct ev_manifest_part *x = a, *y = b;
	return strcmp(x->path, y->path);
}

static enum ev_err parse_parts(json_t *root, struct ev_manifest *m,
			       struct ev_error *err)
{
	json_t *parts = json_object_get(root, "parts");
	EV_ENSURE_E(err, json_is_array(parts), EV_E_MALFORMED,
		    "parts: missing or not an array");
	size_t n = json_array_size(parts);
	EV_ENSURE_E(err, n <= EV_MANIFEST_MAX_PARTS, EV_E_LIMIT,
		    "parts: more than %d", EV_MANIFEST_MAX_PARTS);
	if (n == 0)
		return EV_OK;
	m->parts = calloc(n, sizeof(*m->parts));
	EV_ENSURE_E(err, m->parts, EV_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(parts, i);
		EV_ENSURE_E(err, json_is_object(p), EV_E_MALFORMED,
			    "parts[%zu]: not an object", i);
		struct ev_manifest_part *x = &m->parts[i];
		const char *path;
		EV_TRY(get_string(p, "parts[].", "path", EV_MANIFEST_PATH_MAX,
				  &path, err));
		EV_ENSURE_E(err, ev_manifest_part_path_valid(path),
			    EV_E_MALFORMED, "parts[%zu].path: not allowed", i);
		EV_TRY(get_hex64(p, "parts[].", "sha256", x->sha256, err));
		json_t *size = json_object_get(p, "size");
		EV_ENSURE_E(
		    err,
		    json_is_integer(size) && json_integer_value(size) >= 0 &&
			(uint64_t)json_integer_value(size) <=
			    EV_MANIFEST_PART_MAX_SIZE,
		    EV_E_MALFORMED, "parts[%zu].size: not a size in bytes", i);
		x->size = (uint64_t)json_integer_value(size);
		x->path = ev_strdup(path);
		EV_ENSURE_E(err, x->path, EV_E_NOMEM, "out of memory");
		m->n_parts++;
	}
	qsort(m->parts, m->n_parts, sizeof(*m->parts), part_cmp);
	for (size_t i = 1; i < m->n_parts; i++)
		EV_ENSURE_E(
		    err, strcmp(m->parts[i - 1].path, m->parts[i].path) != 0,
		    EV_E_MALFORMED, "parts: %s listed twice", m->parts[i].path);
	return EV_OK;
}

enum ev_err ev_manifest_check_fields(const json_t *root, struct ev_error *err)
{
	static const char *const objects[] = {"identity", "scope", "thresholds",
					      "api_calls"};
	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		json_t *v = json_object_get(root, objects[i]);
		EV_ENSURE_E(err, !v || json_is_object(v), EV_E_MALFORMED,
			    "%s: not an object", objects[i]);
	}
	json_t *docs = json_object_get(root, "documents");
	if (!docs)
		return EV_OK;
	EV_ENSURE_E(err, json_is_array(docs), EV_E_MALFORMED,
		    "documents: not an array");
	size_t i;
	json_t *d;
	json_array_foreach(docs, i, d)
	{
		EV_ENSURE_E(err, json_is_object(d), EV_E_MALFORMED,
			    "documents[%zu]: not an object", i);
		const char *path;
		char hex[EV_SHA256_HEX_LEN + 1];
		EV_TRY(get_string(d, "documents[].", "path", 4096, &path, err));
		EV_TRY(get_hex64(d, "documents[].", "sha256", hex, err));
	}
	return EV_OK;
}

static enum ev_err parse_root(json_t *root, struct ev_manifest *m,
			      struct ev_error *err)
{
	EV_ENSURE_E(err, json_is_object(root), EV_E_MALFORMED,
		    "not a JSON object");
	json_t *format = json_object_get(root, "format");
	EV_ENSURE_E(err, json_is_integer(format), EV_E_MALFORMED,
		    "format: missing or not an integer");
	EV_ENSURE_E(err, json_integer_value(format) == EV_MANIFEST_FORMAT,
		    EV_E_MALFORMED, "format %lld is not supported (only %d)",
		    (long long)json_integer_value(format), EV_MANIFEST_FORMAT);
	m->format = EV_MANIFEST_FORMAT;
	const char *s;
	EV_TRY(get_string(root, "", "snapshot", EV_SNAPSHOT_NAME_LEN, &s, err));
	EV_ENSURE_E(err, ev_manifest_name_valid(s), EV_E_MALFORMED,
		    "snapshot: not a snapshot name");
	memcpy(m->snapshot, s, EV_SNAPSHOT_NAME_LEN + 1);
	EV_TRY(get_string(root, "", "agent_version",
			  sizeof(m->agent_version) - 1, &s, err));
	memcpy(m->agent_version, s, strlen(s) + 1);
	EV_TRY(get_time(root, "started_at", &m->started_at, err));
	EV_TRY(get_time(root, "finished_at", &m->finished_at, err));
	/* The name is the start time: a snapshot cannot claim another. */
	char amz[EV_AMZ_DATE_LEN + 1];
	ev_time_format_amz(m->started_at, amz);
	EV_ENSURE_E(err, strcmp(amz, m->snapshot) == 0, EV_E_MALFORMED,
		    "started_at does not match snapshot %s", m->snapshot);
	EV_ENSURE_E(err, m->finished_at >= m->started_at, EV_E_MALFORMED,
		    "finished_at is before started_at");
	EV_TRY(parse_previous(root, m, err));
	EV_TRY(parse_key(root, m, err));
	EV_TRY(parse_parts(root, m, err));
	return ev_manifest_check_fields(root, err);
}

enum ev_err ev_manifest_parse(const void *bytes, size_t n,
			      struct ev_manifest *m, struct ev_error *err)
{
	memset(m, 0, sizeof(*m));
	EV_ENSURE_E(err, n <= EV_MANIFEST_MAX, EV_E_LIMIT,
		    "manifest larger than %u bytes", EV_MANIFEST_MAX);
	json_error_t jerr;
	json_t *root = json_loadb(bytes, n, JSON_REJECT_DUPLICATES, &jerr);
	EV_ENSURE_E(err,
		    root || json_error_code(&jerr) != json_error_out_of_memory,
		    EV_E_NOMEM, "out of memory");
	EV_ENSURE_E(err, root, EV_E_MALFORMED, "not JSON: line %d: %.120s",
		    jerr.line, jerr.text);
	enum ev_err rc = parse_root(root, m, err);
	json_decref(root);
	if (rc != EV_OK)
		ev_manifest_cleanup(m);
	return rc;
}

struct ev_manifest_part *ev_manifest_find_part(struct ev_manifest *m,
					       const char *path)
{
	struct ev_manifest_part key = {.path = (char *)path};
	if (!m->n_parts)
		return NULL;
	return bsearch(&key, m->parts, m->n_parts, sizeof(*m->parts), part_cmp);
}

static enum ev_err open_error(int e, const char *name, struct ev_error *err)
{
	if (e == ENOENT)
		return ev_error_set(err, EV_E_NOT_FOUND, "%s is missing", name);
	if (e == ELOOP)
		return ev_error_set(err, EV_E_IO, "%s is a symbolic link",
				    name);
	return ev_error_set(err, EV_E_IO, "%s: %s", name, strerror(e));
}

enum ev_err ev_manifest_read_file(int dirfd, const char *name, size_t limit,
				  struct ev_buf *out, struct ev_error *err)
{
	int fd =
	    openat(dirfd, name,
		   O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return open_error(errno, name, err);
	enum ev_err rc = EV_OK;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = ev_error_set(err, EV_E_IO, "%s is not a regular file",
				  name);
		goto out;
	}
	if ((uint64_t)st.st_size > limit) {
		rc = ev_error_set(err, EV_E_LIMIT,
				  "%s is larger than %zu bytes", name, limit);
		goto out;
	}
	char chunk[16384];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ev_error_set(err, EV_E_IO, "%s: %s", name,
					  strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		rc = ev_buf_append(out, chunk, (size_t)n);
		if (rc != EV_OK) {
			ev_error_set(err, rc, "%s is larger than %zu bytes",
				     name, limit);
			goto out;
		}
	}
out:
	close(fd);
	return rc;
}

void ev_manifest_names_cleanup(struct ev_manifest_names *l)
{
	if (!l)
		return;
	free(l->names);
	memset(l, 0, sizeof(*l));
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

enum ev_err ev_manifest_list(const char *dir, struct ev_manifest_names *out,
			     struct ev_error *err)
{
	memset(out, 0, sizeof(*out));
	DIR *d = opendir(dir);
	if (!d)
		return open_error(errno, dir, err);
	enum ev_err rc = EV_OK;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (strncmp(n, EV_SNAPSHOT_TMP_PREFIX,
			    strlen(EV_SNAPSHOT_TMP_PREFIX)) == 0) {
			out->unfinished++;
			continue;
		}
		if (!ev_manifest_name_valid(n)) {
			/* The writer's lock, the daemon's state (dot files)
			 * and the record of pruned snapshots are part of the
			 * directory. */
			if (n[0] != '.' && strcmp(n, EV_PRUNE_RECORD_FILE) != 0)
				out->other++;
			continue;
		}
		if (out->n == out->cap) {
			if (out->cap >= EV_MANIFEST_MAX_SNAPSHOTS) {
				rc = ev_error_set(err, EV_E_LIMIT,
						  "%s: more than %d snapshots",
						  dir,
						  EV_MANIFEST_MAX_SNAPSHOTS);
				goto out;
			}
			size_t cap = out->cap ? out->cap * 2 : 64;
			void *p =
			    reallocarray(out->names, cap, sizeof(*out->names));
			if (!p) {
				rc = ev_error_set(err, EV_E_NOMEM,
						  "out of memory");
				goto out;
			}
			out->names = p;
			out->cap = cap;
		}
		memcpy(out->names[out->n++], n, EV_SNAPSHOT_NAME_LEN + 1);
	}
	if (errno != 0)
		rc = ev_error_set(err, EV_E_IO, "%s: %s", dir, strerror(errno));
	else if (out->n)
		qsort(out->names, out->n, sizeof(*out->names), name_cmp);
out:
	closedir(d);
	if (rc != EV_OK)
		ev_manifest_names_cleanup(out);
	return rc;
}

/* Verification state over one run. */
struct verifier {
	const struct ev_manifest_verify_options *o;
	struct ev_manifest_summary *sum;
	int rootfd;
	const struct ev_manifest_names *list; /* every snapshot present */
	/* the snapshot being checked */
	const char *name;
	size_t events;	   /* problems reported for it */
	size_t suppressed; /* problems past MAX_EVENTS_PER_SNAPSHOT */
	bool failed;
	/* the one before it, for the chain */
	const char *prev_name;
	bool prev_hash_known;
	char prev_hash[EV_SHA256_HEX_LEN + 1];
	unsigned char *chunk; /* HASH_CHUNK bytes for hashing parts */
};

static void emit(struct verifier *v, const char *snapshot,
		 enum ev_manifest_problem p, const char *fmt, ...)
    EV_PRINTF(4, 5);

static void emit(struct verifier *v, const char *snapshot,
		 enum ev_manifest_problem p, const char *fmt, ...)
{
	if (p != EV_PROBLEM_NONE) {
		v->sum->problems++;
		v->failed = true;
		if (v->events++ >= MAX_EVENTS_PER_SNAPSHOT) {
			v->suppressed++;
			return;
		}
	}
	if (!v->o->on_event)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct ev_manifest_event ev = {
	    .snapshot = snapshot, .problem = p, .message = msg};
	v->o->on_event(v->o->ctx, &ev);
}

static const char *short_hash(const char *hex, char out[13])
{
	memcpy(out, hex, 12);
	out[12] = '\0';
	return out;
}

static void check_signature(struct verifier *v, int sfd,
			    const struct ev_manifest *m,
			    const struct ev_buf *mb)
{
	struct ev_buf sig;
	struct ev_error e;
	ev_error_clear(&e);
	ev_buf_init(&sig, SIG_FILE_MAX);
	struct ev_key *embedded = NULL;
	const struct ev_key *key = NULL;
	if (ev_manifest_read_file(sfd, EV_MANIFEST_SIG_FILE, SIG_FILE_MAX, &sig,
				  &e) != EV_OK) {
		emit(v, v->name, EV_PROBLEM_SIGNATURE, "%s", e.message);
		goto out;
	}
	for (size_t i = 0; i < v->o->n_keys && !key; i++)
		if (strcmp(ev_keys_fingerprint(v->o->keys[i]),
			   m->key_fingerprint) == 0)
			key = v->o->keys[i];
	if (!key && v->o->n_keys == 0 && v->o->trust_embedded_key) {
		embedded =
		    ev_keys_from_public_pem(m->key_pem, strlen(m->key_pem), &e);
		if (!embedded) {
			emit(v, v->name, EV_PROBLEM_MANIFEST,
			     "signing_key.public_key_pem: %s", e.message);
			goto out;
		}
		if (strcmp(ev_keys_fingerprint(embedded), m->key_fingerprint)) {
			emit(v, v->name, EV_PROBLEM_MANIFEST,
			     "the embedded public key's fingerprint is "
			     "sha256:%s, the manifest says sha256:%s",
			     ev_keys_fingerprint(embedded), m->key_fingerprint);
			goto out;
		}
		key = embedded;
	}
	if (!key) {
		emit(v, v->name, EV_PROBLEM_KEY,
		     "signed by key sha256:%s, which is not a trusted key",
		     m->key_fingerprint);
		goto out;
	}
	if (ev_keys_verify(key, mb->data ? mb->data : "", mb->len,
			   (const unsigned char *)sig.data, sig.len,
			   &e) != EV_OK)
		emit(v, v->name, EV_PROBLEM_SIGNATURE,
		     "manifest.sig does not match manifest.json (%s)",
		     e.message);
out:
	ev_keys_free(embedded);
	ev_buf_cleanup(&sig);
}

/* Index of name in the sorted list of snapshots present, or -1. */
static long find_snapshot(const struct ev_manifest_names *l, const char *name)
{
	if (!l->n)
		return -1;
	const char(*hit)[EV_SNAPSHOT_NAME_LEN + 1] =
	    bsearch(name, l->names, l->n, sizeof(*l->names), name_cmp);
	return hit ? (long)(hit - l->names) : -1;
}

static void check_chain(struct verifier *v, const struct ev_manifest *m,
			bool first, char *note, size_t note_size)
{
	char a[13], b[13];
	if (!m->has_previous) {
		if (!first)
			emit(v, v->name, EV_PROBLEM_CHAIN_BROKEN,
			     "begins a new chain (no previous snapshot) "
			     "although %s precedes it",
			     v->prev_name);
		else
			snprintf(note, note_size, ", first of the chain");
		return;
	}
	if (first) {
		if (ev_prune_recorded(v->rootfd, m->previous_snapshot,
				      m->previous_sha256))
			snprintf(note, note_size,
				 ", chain starts after %s (pruned, recorded in "
				 "%s)",
				 m->previous_snapshot, EV_PRUNE_RECORD_FILE);
		else if (v->o->allow_pruned)
			snprintf(note, note_size,
				 ", chain starts after %s (pruned)",
				 m->previous_snapshot);
		else
			emit(v, v->name, EV_PROBLEM_CHAIN_DELETED,
			     "previous snapshot %s is not present (deleted? "
			     "if it was pruned, --allow-pruned accepts it)",
			     m->previous_snapshot);
		return;
	}
	if (strcmp(m->previous_snapshot, v->prev_name) == 0) {
		if (!v->prev_hash_known)
			emit(v, v->name, EV_PROBLEM_CHAIN_CHANGED,
			     "chained to %s, whose manifest cannot be read",
			     v->prev_name);
		else if (strcmp(m->previous_sha256, v->prev_hash) != 0)
			emit(v, v->name, EV_PROBLEM_CHAIN_CHANGED,
			     "the manifest of %s changed after this snapshot "
			     "was chained to it (sha256 %s..., recorded %s...)",
			     v->prev_name, short_hash(v->prev_hash, a),
			     short_hash(m->previous_sha256, b));
		else
			snprintf(note, note_size, ", chained to %s",
				 v->prev_name);
		return;
	}
	long at = find_snapshot(v->list, m->previous_snapshot);
	long here = find_snapshot(v->list, v->prev_name);
	if (at < 0)
		emit(v, v->name, EV_PROBLEM_CHAIN_DELETED,
		     "previous snapshot %s is missing (deleted?)",
		     m->previous_snapshot);
	else if (here >= 0 && at < here)
		emit(v, v->name, EV_PROBLEM_CHAIN_INSERTED,
		     "follows %s in the chain: %s is not part of it "
		     "(inserted?)",
		     m->previous_snapshot, v->prev_name);
	else
		emit(v, v->name, EV_PROBLEM_CHAIN_BROKEN,
		     "names %s as its previous snapshot, which does not "
		     "come before it (reordered?)",
		     m->previous_snapshot);
}

/* Hashes one file the manifest lists and compares. */
static void check_part(struct verifier *v, int dirfd, const char *entry,
		       struct ev_manifest_part *part)
{
	int fd =
	    openat(dirfd, entry,
		   O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		emit(v, v->name, EV_PROBLEM_UNREADABLE, "%s: %s", part->path,
		     strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		emit(v, v->name, EV_PROBLEM_PART_CHANGED,
		     "%s is not a regular file", part->path);
		close(fd);
		return;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint64_t total = 0;
	bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	while (ok) {
		ssize_t n = read(fd, v->chunk, HASH_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ok = n == 0;
			break;
		}
		total += (uint64_t)n;
		ok = EVP_DigestUpdate(ctx, v->chunk, (size_t)n) == 1;
	}
	unsigned char d[EV_SHA256_LEN];
	unsigned dlen = 0;
	ok = ok && EVP_DigestFinal_ex(ctx, d, &dlen) == 1;
	EVP_MD_CTX_free(ctx);
	close(fd);
	if (!ok) {
		emit(v, v->name, EV_PROBLEM_UNREADABLE, "%s: cannot be read",
		     part->path);
		return;
	}
	v->sum->parts++;
	char hex[EV_SHA256_HEX_LEN + 1], a[13], b[13];
	ev_hex_encode(d, sizeof(d), hex);
	if (total != part->size || strcmp(hex, part->sha256) != 0)
		emit(v, v->name, EV_PROBLEM_PART_CHANGED,
		     "%s changed: %llu bytes sha256 %s..., the manifest says "
		     "%llu bytes sha256 %s...",
		     part->path, (unsigned long long)total, short_hash(hex, a),
		     (unsigned long long)part->size,
		     short_hash(part->sha256, b));
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of one directory, sorted so reports are stable. */
static enum ev_err read_dir(int dirfd, char ***out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	EV_ENSURE(fd >= 0, EV_E_IO);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return EV_E_IO;
	}
	enum ev_err rc = EV_OK;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n == MAX_DIR_ENTRIES) {
			rc = EV_E_LIMIT;
			break;
		}
		if (n == cap) {
			size_t c = cap ? cap * 2 : 32;
			char **p = reallocarray(names, c, sizeof(*names));
			if (!p) {
				rc = EV_E_NOMEM;
				break;
			}
			names = p;
			cap = c;
		}
		names[n] = ev_strdup(de->d_name);
		if (!names[n]) {
			rc = EV_E_NOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc != EV_OK) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return rc;
	}
	if (n)
		qsort(names, n, sizeof(*names), str_cmp);
	*out = names;
	*n_out = n;
	return EV_OK;
}

static void walk(struct verifier *v, struct ev_manifest *m, int dirfd,
		 const char *prefix, int depth)
{
	char **names = NULL;
	size_t n = 0;
	enum ev_err rc = read_dir(dirfd, &names, &n);
	if (rc != EV_OK) {
		emit(v, v->name, EV_PROBLEM_UNREADABLE, "%s: cannot list (%s)",
		     *prefix ? prefix : ".", ev_err_name(rc));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *entry = names[i];
		if (depth == 0 && (strcmp(entry, EV_MANIFEST_FILE) == 0 ||
				   strcmp(entry, EV_MANIFEST_SIG_FILE) == 0))
			continue;
		char rel[EV_MANIFEST_PATH_MAX + 2];
		int len = snprintf(rel, sizeof(rel), "%s%s", prefix, entry);
		bool fits = len > 0 && (size_t)len <= EV_MANIFEST_PATH_MAX;
		struct stat st;
		if (fstatat(dirfd, entry, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			emit(v, v->name, EV_PROBLEM_UNREADABLE, "%s%s: %s",
			     prefix, entry, strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode) && fits &&
		    depth + 1 < EV_MANIFEST_PATH_DEPTH) {
			int sub = openat(dirfd, entry,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					     O_CLOEXEC);
			if (sub < 0) {
				emit(v, v->name, EV_PROBLEM_UNREADABLE,
				     "%s: %s", rel, strerror(errno));
				continue;
			}
			char sub_prefix[EV_MANIFEST_PATH_MAX + 3];
			snprintf(sub_prefix, sizeof(sub_prefix), "%s/", rel);
			walk(v, m, sub, sub_prefix, depth + 1);
			close(sub);
			continue;
		}
		struct ev_manifest_part *part =
		    fits ? ev_manifest_find_part(m, rel) : NULL;
		if (!part) {
			emit(v, v->name, EV_PROBLEM_PART_EXTRA,
			     "%s%s%s is not listed in the manifest", prefix,
			     entry, S_ISDIR(st.st_mode) ? "/" : "");
			continue;
		}
		part->seen = true;
		if (!S_ISREG(st.st_mode))
			emit(v, v->name, EV_PROBLEM_PART_CHANGED,
			     "%s is not a regular file", part->path);
		else
			check_part(v, dirfd, entry, part);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void check_snapshot(struct verifier *v, const char *name, bool full,
			   bool first)
{
	v->name = name;
	v->events = v->suppressed = 0;
	v->failed = false;
	v->sum->snapshots++;
	struct ev_manifest m;
	memset(&m, 0, sizeof(m));
	struct ev_buf mb;
	ev_buf_init(&mb, EV_MANIFEST_MAX);
	char note[128] = "";
	struct ev_error e;
	ev_error_clear(&e);
	bool hash_known = false;
	char hash[EV_SHA256_HEX_LEN + 1] = "";

	int sfd = openat(v->rootfd, name,
			 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0) {
		int en = errno;
		emit(v, name, EV_PROBLEM_UNREADABLE, "%s",
		     en == ENOTDIR ? "not a directory"
		     : en == ELOOP ? "a symbolic link, not a directory"
				   : strerror(en));
		goto out;
	}
	if (ev_manifest_read_file(sfd, EV_MANIFEST_FILE, EV_MANIFEST_MAX, &mb,
				  &e) != EV_OK) {
		emit(v, name, EV_PROBLEM_MANIFEST, "%s", e.message);
		goto out;
	}
	ev_sha256_hex(mb.data ? mb.data : "", mb.len, hash);
	hash_known = true;
	if (ev_manifest_parse(mb.data ? mb.data : "", mb.len, &m, &e) !=
	    EV_OK) {
		emit(v, name, EV_PROBLEM_MANIFEST,
		     "manifest.json is malformed: %s", e.message);
		goto out;
	}
	if (strcmp(m.snapshot, name) != 0)
		emit(v, name, EV_PROBLEM_RENAMED,
		     "the directory holds snapshot %s (renamed or reordered)",
		     m.snapshot);
	check_signature(v, sfd, &m, &mb);
	check_chain(v, &m, first, note, sizeof(note));
	if (full) {
		walk(v, &m, sfd, "", 0);
		for (size_t i = 0; i < m.n_parts; i++)
			if (!m.parts[i].seen)
				emit(v, name, EV_PROBLEM_PART_MISSING,
				     "%s is missing", m.parts[i].path);
	}
out:
	if (v->suppressed && v->o->on_event) {
		char msg[128];
		snprintf(msg, sizeof(msg), "... and %zu more problems",
			 v->suppressed);
		struct ev_manifest_event ev = {.snapshot = name,
					       .problem = EV_PROBLEM_NONE,
					       .message = msg};
		v->o->on_event(v->o->ctx, &ev);
	}
	if (!v->failed) {
		v->sum->verified++;
		char fp[13];
		if (full)
			emit(v, name, EV_PROBLEM_NONE,
			     "verified: %zu part%s, signature by "
			     "sha256:%s...%s",
			     m.n_parts, m.n_parts == 1 ? "" : "s",
			     short_hash(m.key_fingerprint, fp), note);
		else
			emit(v, name, EV_PROBLEM_NONE,
			     "verified: manifest, signature by sha256:%s...%s",
			     short_hash(m.key_fingerprint, fp), note);
	}
	if (sfd >= 0)
		close(sfd);
	v->prev_name = name;
	v->prev_hash_known = hash_known;
	memcpy(v->prev_hash, hash, sizeof(hash));
	ev_manifest_cleanup(&m);
	ev_buf_cleanup(&mb);
}

/* Splits path into its parent directory and last component. */
static enum ev_err split_path(const char *path, char **parent, char **base)
{
	char *a = ev_strdup(path), *b = ev_strdup(path);
	*parent = *base = NULL;
	if (!a || !b) {
		free(a);
		free(b);
		return EV_E_NOMEM;
	}
	/* Trailing slashes name the same directory. */
	for (size_t n = strlen(a); n > 1 && a[n - 1] == '/'; n--)
		a[n - 1] = b[n - 1] = '\0';
	*parent = ev_strdup(dirname(a));
	*base = ev_strdup(basename(b));
	free(a);
	free(b);
	if (!*parent || !*base) {
		free(*parent);
		free(*base);
		*parent = *base = NULL;
		return EV_E_NOMEM;
	}
	return EV_OK;
}

static bool is_snapshot_dir(const char *path)
{
	char *parent = NULL, *base = NULL;
	if (split_path(path, &parent, &base) != EV_OK)
		return false;
	bool named = ev_manifest_name_valid(base);
	free(parent);
	free(base);
	if (named)
		return true;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	bool has = fstatat(fd, EV_MANIFEST_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0;
	close(fd);
	return has;
}

enum ev_err ev_manifest_verify(const struct ev_manifest_verify_options *o,
			       struct ev_manifest_summary *summary,
			       struct ev_error *err)
{
	memset(summary, 0, sizeof(*summary));
	EV_ENSURE_E(err, o->n_keys || o->trust_embedded_key, EV_E_INVALID,
		    "no public key to verify with");
	struct verifier v;
	memset(&v, 0, sizeof(v));
	v.o = o;
	v.sum = summary;
	v.rootfd = -1;
	struct ev_manifest_names list;
	memset(&list, 0, sizeof(list));
	char *parent = NULL, *base = NULL;
	enum ev_err rc = EV_OK;

	v.chunk = malloc(HASH_CHUNK);
	if (!v.chunk) {
		rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
		goto out;
	}
	bool single = is_snapshot_dir(o->path);
	const char *root = o->path;
	if (single) {
		/* "." or "x/.." name a snapshot too: its parent is found from
		 * the resolved path. */
		char *resolved = realpath(o->path, NULL);
		rc = split_path(resolved ? resolved : o->path, &parent, &base);
		free(resolved);
		if (rc != EV_OK) {
			ev_error_set(err, rc, "out of memory");
			goto out;
		}
		root = parent;
	}
	rc = ev_manifest_list(root, &list, err);
	if (rc != EV_OK)
		goto out;
	v.list = &list;
	v.rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v.rootfd < 0) {
		rc = open_error(errno, root, err);
		goto out;
	}
	if (single) {
		/* The snapshot in full, and the chain up to it. */
		long at = find_snapshot(&list, base);
		if (at < 0) {
			check_snapshot(&v, base, true, true);
		} else {
			for (long i = 0; i <= at; i++)
				check_snapshot(&v, list.names[i], i == at,
					       i == 0);
		}
	} else {
		if (list.unfinished)
			emit(&v, "", EV_PROBLEM_NONE,
			     "ignored %zu unfinished write%s (.tmp-*)",
			     list.unfinished, list.unfinished == 1 ? "" : "s");
		if (list.other)
			emit(&v, "", EV_PROBLEM_NONE,
			     "ignored %zu entr%s not named like a snapshot",
			     list.other, list.other == 1 ? "y" : "ies");
		if (!list.n)
			emit(&v, "", EV_PROBLEM_EMPTY, "no snapshot in %s",
			     root);
		for (size_t i = 0; i < list.n; i++)
			check_snapshot(&v, list.names[i], true, i == 0);
	}
	if (summary->problems)
		rc = ev_error_set(
		    err, EV_E_AUTH, "%zu problem%s in %zu snapshot%s",
		    summary->problems, summary->problems == 1 ? "" : "s",
		    summary->snapshots - summary->verified,
		    summary->snapshots - summary->verified == 1 ? "" : "s");
out:
	if (v.rootfd >= 0)
		close(v.rootfd);
	free(v.chunk);
	free(parent);
	free(base);
	ev_manifest_names_cleanup(&list);
	return rc;
}
