/* Reading snapshots back for reports: the manifest and account parts as
 * untrusted input, verification, and the walk back along the chain for
 * first-seen dates and the trend. The writers are report_*.c. */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "timefmt.h"

/* Strings and small arrays of one snapshot live in an arena freed at once:
 * a snapshot holds hundreds of thousands of short strings. */
#define ARENA_BLOCK (64u * 1024)

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	max_align_t data[]; /* cap bytes */
};

struct ev_report_arena {
	struct arena_block *head;
};

static void *arena_alloc(struct ev_report_arena *a, size_t n)
{
	const size_t align = alignof(max_align_t);
	if (n > SIZE_MAX / 2)
		return NULL;
	n = (n + align - 1) / align * align;
	if (n == 0)
		n = align;
	if (!a->head || a->head->cap - a->head->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		struct arena_block *b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		/* A block made for one large request goes behind the
		 * current one, whose free space stays in use. */
		if (a->head && cap > ARENA_BLOCK) {
			b->next = a->head->next;
			a->head->next = b;
			b->used = n;
			return b->data;
		}
		b->next = a->head;
		a->head = b;
	}
	void *p = (unsigned char *)a->head->data + a->head->used;
	a->head->used += n;
	return p;
}

static void arena_free(struct ev_report_arena *a)
{
	if (!a)
		return;
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	free(a);
}

/* A copy in the arena; "" (static) for NULL or empty. */
static const char *arena_str(struct ev_report_arena *a, const char *s)
{
	if (!s || !*s)
		return "";
	size_t n = strlen(s);
	char *p = arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n + 1);
	return p;
}

/* Typed access to untrusted JSON. `where` names the object in messages. */

static enum ev_err opt_string(json_t *o, const char *key, const char *where,
			      const char **out, struct ev_error *err)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return EV_OK;
	EV_ENSURE_E(err, json_is_string(v), EV_E_MALFORMED,
		    "%s%s: not a string", where, key);
	*out = json_string_value(v);
	return EV_OK;
}

static enum ev_err req_string(json_t *o, const char *key, const char *where,
			      const char **out, struct ev_error *err)
{
	EV_TRY(opt_string(o, key, where, out, err));
	EV_ENSURE_E(err, *out, EV_E_MALFORMED, "%s%s: missing", where, key);
	return EV_OK;
}

/* opt_string copied into the arena ("" when absent). */
static enum ev_err copy_string(struct ev_report_arena *a, json_t *o,
			       const char *key, const char *where,
			       const char **out, struct ev_error *err)
{
	const char *s;
	EV_TRY(opt_string(o, key, where, &s, err));
	*out = arena_str(a, s);
	EV_ENSURE_E(err, *out, EV_E_NOMEM, "out of memory");
	return EV_OK;
}

static enum ev_err opt_object(json_t *o, const char *key, const char *where,
			      json_t **out, struct ev_error *err)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return EV_OK;
	EV_ENSURE_E(err, json_is_object(v), EV_E_MALFORMED,
		    "%s%s: not an object", where, key);
	*out = v;
	return EV_OK;
}

static enum ev_err opt_array(json_t *o, const char *key, const char *where,
			     json_t **out, struct ev_error *err)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return EV_OK;
	EV_ENSURE_E(err, json_is_array(v), EV_E_MALFORMED, "%s%s: not an array",
		    where, key);
	*out = v;
	return EV_OK;
}

static enum ev_err opt_count(json_t *o, const char *key, const char *where,
			     size_t *out, struct ev_error *err)
{
	json_t *v = json_object_get(o, key);
	*out = 0;
	if (!v)
		return EV_OK;
	EV_ENSURE_E(err, json_is_integer(v) && json_integer_value(v) >= 0,
		    EV_E_MALFORMED, "%s%s: not a count", where, key);
	*out = (size_t)json_integer_value(v);
	return EV_OK;
}

/* An array of strings copied into the arena. */
static enum ev_err string_array(struct ev_report_arena *a, json_t *arr,
				const char *where, const char ***out, size_t *n,
				struct ev_error *err)
{
	*out = NULL;
	*n = 0;
	if (!arr)
		return EV_OK;
	size_t len = json_array_size(arr);
	if (!len)
		return EV_OK;
	const char **v = arena_alloc(a, len * sizeof(*v));
	EV_ENSURE_E(err, v, EV_E_NOMEM, "out of memory");
	for (size_t i = 0; i < len; i++) {
		json_t *x = json_array_get(arr, i);
		EV_ENSURE_E(err, json_is_string(x), EV_E_MALFORMED,
			    "%s[%zu]: not a string", where, i);
		v[i] = arena_str(a, json_string_value(x));
		EV_ENSURE_E(err, v[i], EV_E_NOMEM, "out of memory");
	}
	*out = v;
	*n = len;
	return EV_OK;
}

static bool status_from_name(const char *name, enum ev_status *out)
{
	for (int i = 0; i < EV_STATUS_COUNT_; i++)
		if (strcmp(name, ev_status_name((enum ev_status)i)) == 0) {
			*out = (enum ev_status)i;
			return true;
		}
	return false;
}

static bool verdict_from_name(const char *name, enum ev_verdict *out)
{
	for (int i = 0; i < EV_VERDICT_COUNT_; i++)
		if (strcmp(name, ev_verdict_name((enum ev_verdict)i)) == 0) {
			*out = (enum ev_verdict)i;
			return true;
		}
	return false;
}

static bool account_id_valid(const char *id)
{
	if (strlen(id) != EV_ACCOUNT_ID_LEN)
		return false;
	for (const char *p = id; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* The manifest */

static enum ev_err parse_identity(struct ev_report_snapshot *s, json_t *root,
				  struct ev_error *err)
{
	struct ev_report_arena *a = s->arena;
	json_t *caller, *scope;
	EV_TRY(opt_object(root, "caller", "", &caller, err));
	EV_TRY(copy_string(a, caller, "arn", "caller.", &s->caller_arn, err));
	EV_TRY(copy_string(a, caller, "account", "caller.", &s->caller_account,
			   err));
	EV_TRY(opt_object(root, "scope", "", &scope, err));
	EV_TRY(
	    copy_string(a, scope, "source", "scope.", &s->scope_source, err));
	/* "all enabled", "configured" (collect), or a list. */
	json_t *regions = json_object_get(scope, "regions");
	if (json_is_array(regions)) {
		const char **v;
		size_t n;
		EV_TRY(string_array(a, regions, "scope.regions", &v, &n, err));
		s->scope_regions = n ? v[0] : "";
		/* Shown joined: one short line. */
		size_t len = 1;
		for (size_t i = 0; i < n; i++)
			len += strlen(v[i]) + 2;
		char *j = arena_alloc(a, len);
		EV_ENSURE_E(err, j, EV_E_NOMEM, "out of memory");
		j[0] = '\0';
		size_t at = 0;
		for (size_t i = 0; i < n; i++)
			at += (size_t)snprintf(j + at, len - at, "%s%s",
					       i ? ", " : "", v[i]);
		s->scope_regions = j;
	} else {
		EV_TRY(copy_string(a, scope, "regions", "scope.",
				   &s->scope_regions, err));
	}
	return EV_OK;
}

static enum ev_err parse_programs(struct ev_report_snapshot *s, json_t *catalog,
				  struct ev_error *err)
{
	struct ev_report_arena *a = s->arena;
	EV_TRY(copy_string(a, catalog, "source", "controls.catalog.",
			   &s->catalog_source, err));
	EV_TRY(copy_string(a, catalog, "sha256", "controls.catalog.",
			   &s->catalog_sha256, err));
	json_t *programs;
	EV_TRY(opt_array(catalog, "programs", "controls.catalog.", &programs,
			 err));
	size_t n = json_array_size(programs);
	if (!n)
		return EV_OK;
	s->programs = arena_alloc(a, n * sizeof(*s->programs));
	EV_ENSURE_E(err, s->programs, EV_E_NOMEM, "out of memory");
	memset(s->programs, 0, n * sizeof(*s->programs));
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(programs, i);
		EV_ENSURE_E(err, json_is_object(p), EV_E_MALFORMED,
			    "controls.catalog.programs[%zu]: not an object", i);
		struct ev_report_program *x = &s->programs[i];
		const char *w = "controls.catalog.programs[].";
		const char *id;
		EV_TRY(req_string(p, "id", w, &id, err));
		EV_TRY(copy_string(a, p, "id", w, &x->id, err));
		EV_TRY(copy_string(a, p, "title", w, &x->title, err));
		EV_TRY(copy_string(a, p, "version", w, &x->version, err));
	}
	s->n_programs = n;
	return EV_OK;
}

static enum ev_err parse_control(struct ev_report_snapshot *s, json_t *c,
				 struct ev_report_control *x,
				 struct ev_error *err)
{
	struct ev_report_arena *a = s->arena;
	const char *w = "controls.controls[].";
	const char *id, *verdict;
	EV_TRY(req_string(c, "id", w, &id, err));
	EV_TRY(copy_string(a, c, "id", w, &x->id, err));
	EV_TRY(copy_string(a, c, "program", w, &x->program, err));
	EV_TRY(copy_string(a, c, "number", w, &x->number, err));
	EV_TRY(copy_string(a, c, "title", w, &x->title, err));
	EV_TRY(req_string(c, "verdict", w, &verdict, err));
	EV_ENSURE_E(err, verdict_from_name(verdict, &x->verdict),
		    EV_E_MALFORMED, "%sverdict: unknown", w);
	json_t *arr;
	EV_TRY(opt_array(c, "reasons", w, &arr, err));
	EV_TRY(string_array(a, arr, "controls.controls[].reasons", &x->reasons,
			    &x->n_reasons, err));
	EV_TRY(opt_array(c, "probes", w, &arr, err));
	EV_TRY(string_array(a, arr, "controls.controls[].probes", &x->probes,
			    &x->n_probes, err));
	json_t *counts;
	EV_TRY(opt_object(c, "counts", w, &counts, err));
	for (int i = 0; counts && i < EV_STATUS_COUNT_; i++)
		EV_TRY(opt_count(counts, ev_status_name((enum ev_status)i),
				 "controls.controls[].counts.", &x->counts[i],
				 err));
	json_t *docs;
	EV_TRY(opt_object(c, "documents", w, &docs, err));
	x->documents = "";
	if (docs) {
		json_t *req = json_object_get(docs, "required");
		EV_ENSURE_E(err, !req || json_is_boolean(req), EV_E_MALFORMED,
			    "%sdocuments.required: not a boolean", w);
		x->documents_required = json_is_true(req);
		EV_TRY(copy_string(a, docs, "what",
				   "controls.controls[].documents.",
				   &x->documents, err));
		EV_TRY(opt_array(docs, "attached",
				 "controls.controls[].documents.", &arr, err));
		x->documents_attached = json_array_size(arr);
	}
	return EV_OK;
}

static enum ev_err parse_controls(struct ev_report_snapshot *s, json_t *root,
				  struct ev_error *err)
{
	json_t *controls, *catalog, *list;
	EV_TRY(opt_object(root, "controls", "", &controls, err));
	if (!controls) {
		s->catalog_source = s->catalog_sha256 = "";
		return EV_OK;
	}
	EV_TRY(opt_object(controls, "catalog", "controls.", &catalog, err));
	EV_TRY(parse_programs(s, catalog, err));
	EV_TRY(opt_array(controls, "controls", "controls.", &list, err));
	size_t n = json_array_size(list);
	if (!n)
		return EV_OK;
	s->controls = arena_alloc(s->arena, n * sizeof(*s->controls));
	EV_ENSURE_E(err, s->controls, EV_E_NOMEM, "out of memory");
	memset(s->controls, 0, n * sizeof(*s->controls));
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_array_get(list, i);
		EV_ENSURE_E(err, json_is_object(c), EV_E_MALFORMED,
			    "controls.controls[%zu]: not an object", i);
		EV_TRY(parse_control(s, c, &s->controls[i], err));
		for (size_t j = 0; j < i; j++)
			EV_ENSURE_E(
			    err,
			    strcmp(s->controls[j].id, s->controls[i].id) != 0,
			    EV_E_MALFORMED,
			    "controls.controls[%zu]: duplicate id", i);
		s->n_controls = i + 1;
	}
	for (size_t i = 0; i < s->n_controls; i++)
		for (size_t p = 0; p < s->n_programs; p++)
			if (strcmp(s->controls[i].program, s->programs[p].id) ==
			    0)
				s->programs[p].counts[s->controls[i].verdict]++;
	return EV_OK;
}

/* The accounts the manifest lists (parts with an account), in its order. */
static enum ev_err parse_parts(struct ev_report_snapshot *s, json_t *root,
			       struct ev_error *err)
{
	json_t *parts = json_object_get(root, "parts");
	size_t n = json_array_size(parts);
	if (!n)
		return EV_OK;
	s->accounts = arena_alloc(s->arena, n * sizeof(*s->accounts));
	EV_ENSURE_E(err, s->accounts, EV_E_NOMEM, "out of memory");
	memset(s->accounts, 0, n * sizeof(*s->accounts));
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(parts, i);
		const char *w = "parts[].";
		const char *account, *collection;
		EV_TRY(opt_string(p, "account", w, &account, err));
		if (!account)
			continue; /* not an account's part */
		EV_ENSURE_E(err, account_id_valid(account), EV_E_MALFORMED,
			    "parts[%zu].account: not an account id", i);
		EV_TRY(opt_string(p, "collection", w, &collection, err));
		for (size_t j = 0; j < s->n_accounts; j++)
			EV_ENSURE_E(
			    err, strcmp(s->accounts[j].id, account) != 0,
			    EV_E_MALFORMED,
			    "parts[%zu]: account %s listed twice", i, account);
		struct ev_report_account *x = &s->accounts[s->n_accounts];
		x->id = arena_str(s->arena, account);
		EV_TRY(copy_string(s->arena, p, "path", w, &x->part, err));
		EV_ENSURE_E(err, x->id && x->part, EV_E_NOMEM, "out of memory");
		x->name = x->skip_reason = "";
		x->collected = !collection || strcmp(collection, "skipped");
		x->problem = "not read";
		s->n_accounts++;
	}
	return EV_OK;
}

enum ev_err ev_report_snapshot_parse(const void *bytes, size_t n,
				     struct ev_report_snapshot **out,
				     struct ev_error *err)
{
	*out = NULL;
	enum ev_err rc;
	json_t *root = NULL;
	struct ev_report_snapshot *s = calloc(1, sizeof(*s));
	if (!s)
		return ev_error_set(err, EV_E_NOMEM, "out of memory");
	s->arena = calloc(1, sizeof(*s->arena));
	if (!s->arena) {
		rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
		goto out;
	}
	rc = ev_manifest_parse(bytes, n, &s->manifest, err);
	if (rc != EV_OK)
		goto out;
	const struct ev_manifest *m = &s->manifest;
	memcpy(s->name, m->snapshot, sizeof(s->name));
	memcpy(s->agent_version, m->agent_version, sizeof(s->agent_version));
	s->started_at = m->started_at;
	s->finished_at = m->finished_at;
	s->has_previous = m->has_previous;
	memcpy(s->previous, m->previous_snapshot, sizeof(s->previous));
	memcpy(s->previous_sha256, m->previous_sha256,
	       sizeof(s->previous_sha256));
	memcpy(s->key_fingerprint, m->key_fingerprint,
	       sizeof(s->key_fingerprint));
	ev_sha256_hex(bytes, n, s->manifest_sha256);
	/* Parsed once more for the members the verifier does not type;
	 * ev_manifest_parse has bounded and checked the document. */
	json_error_t jerr;
	root = json_loadb(bytes, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
		goto out;
	}
	rc = parse_identity(s, root, err);
	if (rc == EV_OK)
		rc = parse_controls(s, root, err);
	if (rc == EV_OK)
		rc = parse_parts(s, root, err);
out:
	json_decref(root);
	if (rc != EV_OK) {
		ev_report_snapshot_free(s);
		return rc;
	}
	*out = s;
	return EV_OK;
}

void ev_report_snapshot_free(struct ev_report_snapshot *s)
{
	if (!s)
		return;
	free(s->findings);
	free(s->by_uid);
	ev_manifest_cleanup(&s->manifest);
	arena_free(s->arena);
	free(s);
}

static struct ev_report_account *find_account(struct ev_report_snapshot *s,
					      const char *id)
{
	for (size_t i = 0; i < s->n_accounts; i++)
		if (strcmp(s->accounts[i].id, id) == 0)
			return &s->accounts[i];
	return NULL;
}

const struct ev_report_account *
ev_report_snapshot_account(const struct ev_report_snapshot *s, const char *id)
{
	return find_account((struct ev_report_snapshot *)s, id);
}

/* Account parts */

static int obs_cmp(const void *a, const void *b)
{
	const struct ev_report_obs *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static enum ev_err parse_observation(struct ev_report_arena *a, json_t *o,
				     struct ev_report_obs *x,
				     struct ev_error *err)
{
	const char *w = "observations[].";
	EV_ENSURE_E(err, json_is_object(o), EV_E_MALFORMED,
		    "observations[]: not an object");
	json_t *id = json_object_get(o, "id");
	EV_ENSURE_E(err,
		    json_is_integer(id) && json_integer_value(id) >= 0 &&
			json_integer_value(id) <= UINT_MAX,
		    EV_E_MALFORMED, "%sid: not an id", w);
	x->id = (unsigned)json_integer_value(id);
	EV_TRY(copy_string(a, o, "service", w, &x->service, err));
	EV_TRY(copy_string(a, o, "action", w, &x->action, err));
	EV_TRY(copy_string(a, o, "region", w, &x->region, err));
	EV_TRY(copy_string(a, o, "account", w, &x->account, err));
	EV_TRY(copy_string(a, o, "time", w, &x->time, err));
	EV_TRY(copy_string(a, o, "request_id", w, &x->request_id, err));
	EV_TRY(copy_string(a, o, "error_code", w, &x->error_code, err));
	json_t *status = json_object_get(o, "http_status");
	EV_ENSURE_E(err,
		    !status || (json_is_integer(status) &&
				json_integer_value(status) >= 0 &&
				json_integer_value(status) < 1000),
		    EV_E_MALFORMED, "%shttp_status: not a status", w);
	x->http_status = (long)json_integer_value(status);
	json_t *body;
	EV_TRY(opt_object(o, "body", w, &body, err));
	EV_TRY(copy_string(a, body, "sha256", "observations[].body.",
			   &x->sha256, err));
	size_t size;
	EV_TRY(opt_count(body, "size", "observations[].body.", &size, err));
	x->size = size;
	return EV_OK;
}

static enum ev_err parse_coverage(struct ev_report_arena *a, json_t *root,
				  struct ev_report_account *x,
				  struct ev_error *err)
{
	json_t *coverage, *regions, *skipped;
	EV_TRY(opt_object(root, "coverage", "", &coverage, err));
	EV_TRY(opt_array(coverage, "regions", "coverage.", &regions, err));
	EV_TRY(string_array(a, regions, "coverage.regions", &x->regions,
			    &x->n_regions, err));
	EV_TRY(
	    opt_array(coverage, "regions_skipped", "coverage.", &skipped, err));
	size_t n = json_array_size(skipped);
	if (!n)
		return EV_OK;
	struct ev_report_region_skip *v = arena_alloc(a, n * sizeof(*v));
	EV_ENSURE_E(err, v, EV_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *r = json_array_get(skipped, i);
		const char *w = "coverage.regions_skipped[].";
		EV_ENSURE_E(err, json_is_object(r), EV_E_MALFORMED,
			    "coverage.regions_skipped[%zu]: not an object", i);
		EV_TRY(copy_string(a, r, "region", w, &v[i].region, err));
		EV_TRY(copy_string(a, r, "opt_in_status", w,
				   &v[i].opt_in_status, err));
	}
	x->regions_skipped = v;
	x->n_regions_skipped = n;
	return EV_OK;
}

static enum ev_err grow_findings(struct ev_report_snapshot *s, size_t more,
				 struct ev_error *err)
{
	EV_ENSURE_E(err,
		    more <= EV_REPORT_MAX_FINDINGS &&
			s->n_findings <= EV_REPORT_MAX_FINDINGS - more,
		    EV_E_LIMIT, "more than %d findings",
		    EV_REPORT_MAX_FINDINGS);
	size_t need = s->n_findings + more;
	if (need <= s->findings_cap)
		return EV_OK;
	size_t cap = s->findings_cap ? s->findings_cap : 256;
	while (cap < need)
		cap *= 2;
	struct ev_report_finding *f = realloc(s->findings, cap * sizeof(*f));
	EV_ENSURE_E(err, f, EV_E_NOMEM, "out of memory");
	s->findings = f;
	s->findings_cap = cap;
	return EV_OK;
}

static enum ev_err parse_finding(struct ev_report_snapshot *s,
				 struct ev_report_account *acct, json_t *o,
				 struct ev_report_finding *f,
				 struct ev_error *err)
{
	struct ev_report_arena *a = s->arena;
	const char *w = "findings[].";
	EV_ENSURE_E(err, json_is_object(o), EV_E_MALFORMED,
		    "findings[]: not an object");
	memset(f, 0, sizeof(*f));
	f->account = (size_t)(acct - s->accounts);
	f->account_id = acct->id;
	const char *probe, *resource, *status;
	EV_TRY(req_string(o, "probe", w, &probe, err));
	EV_TRY(req_string(o, "resource", w, &resource, err));
	EV_TRY(req_string(o, "status", w, &status, err));
	EV_ENSURE_E(err, status_from_name(status, &f->status), EV_E_MALFORMED,
		    "%sstatus: unknown", w);
	EV_TRY(copy_string(a, o, "probe", w, &f->probe, err));
	EV_TRY(copy_string(a, o, "resource", w, &f->resource, err));
	EV_TRY(copy_string(a, o, "region", w, &f->region, err));
	EV_TRY(copy_string(a, o, "reason", w, &f->reason, err));
	EV_TRY(copy_string(a, o, "error_code", w, &f->error_code, err));
	EV_TRY(copy_string(a, o, "request_id", w, &f->request_id, err));
	json_t *obs;
	EV_TRY(opt_array(o, "observations", w, &obs, err));
	size_t n = json_array_size(obs);
	EV_ENSURE_E(err, n <= EV_FINDING_MAX_OBS, EV_E_MALFORMED,
		    "%sobservations: more than %d", w, EV_FINDING_MAX_OBS);
	if (!n)
		return EV_OK;
	f->obs = arena_alloc(a, n * sizeof(*f->obs));
	EV_ENSURE_E(err, f->obs, EV_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *id = json_array_get(obs, i);
		EV_ENSURE_E(
		    err,
		    json_is_integer(id) && json_integer_value(id) >= 0 &&
			json_integer_value(id) <= UINT_MAX,
		    EV_E_MALFORMED, "%sobservations[%zu]: not an id", w, i);
		struct ev_report_obs key = {
		    .id = (unsigned)json_integer_value(id)};
		/* An id with no recorded call is left out rather than
		 * costing the account its findings. */
		const struct ev_report_obs *x =
		    acct->n_obs ? bsearch(&key, acct->obs, acct->n_obs,
					  sizeof(*acct->obs), obs_cmp)
				: NULL;
		if (x)
			f->obs[f->n_obs++] = x;
	}
	return EV_OK;
}

static enum ev_err add_account(struct ev_report_snapshot *s, json_t *root,
			       struct ev_error *err)
{
	struct ev_report_arena *a = s->arena;
	EV_ENSURE_E(err, json_is_object(root), EV_E_MALFORMED,
		    "not a JSON object");
	json_t *format = json_object_get(root, "format");
	EV_ENSURE_E(err,
		    json_is_integer(format) && json_integer_value(format) == 1,
		    EV_E_MALFORMED, "format: not 1");
	const char *snapshot, *id;
	EV_TRY(req_string(root, "snapshot", "", &snapshot, err));
	EV_ENSURE_E(err, strcmp(snapshot, s->name) == 0, EV_E_MALFORMED,
		    "snapshot: not %s", s->name);
	json_t *account, *collection;
	EV_TRY(opt_object(root, "account", "", &account, err));
	EV_ENSURE_E(err, account, EV_E_MALFORMED, "account: missing");
	EV_TRY(req_string(account, "id", "account.", &id, err));
	EV_ENSURE_E(err, account_id_valid(id), EV_E_MALFORMED,
		    "account.id: not an account id");
	struct ev_report_account *x = find_account(s, id);
	EV_ENSURE_E(err, x, EV_E_MALFORMED,
		    "account %s: not listed in the manifest", id);
	EV_ENSURE_E(err, strcmp(x->problem, "not read") == 0, EV_E_MALFORMED,
		    "account %s: added twice", id);
	/* Filled into a copy: a part that fails leaves nothing behind. */
	struct ev_report_account y = *x;
	EV_TRY(copy_string(a, account, "name", "account.", &y.name, err));
	EV_TRY(opt_object(root, "collection", "", &collection, err));
	const char *status;
	EV_TRY(opt_string(collection, "status", "collection.", &status, err));
	y.collected = !status || strcmp(status, "skipped") != 0;
	EV_TRY(copy_string(a, collection, "reason", "collection.",
			   &y.skip_reason, err));
	EV_TRY(parse_coverage(a, root, &y, err));

	json_t *obs, *findings;
	EV_TRY(opt_array(root, "observations", "", &obs, err));
	size_t n_obs = json_array_size(obs);
	if (n_obs) {
		struct ev_report_obs *v = arena_alloc(a, n_obs * sizeof(*v));
		EV_ENSURE_E(err, v, EV_E_NOMEM, "out of memory");
		for (size_t i = 0; i < n_obs; i++)
			EV_TRY(parse_observation(a, json_array_get(obs, i),
						 &v[i], err));
		qsort(v, n_obs, sizeof(*v), obs_cmp);
		y.obs = v;
		y.n_obs = n_obs;
	}
	EV_TRY(opt_array(root, "findings", "", &findings, err));
	size_t n = json_array_size(findings);
	EV_TRY(grow_findings(s, n, err));
	y.first_finding = s->n_findings;
	y.n_findings = n;
	y.problem = "";
	struct ev_report_account before = *x;
	*x = y;
	for (size_t i = 0; i < n; i++) {
		enum ev_err rc =
		    parse_finding(s, x, json_array_get(findings, i),
				  &s->findings[s->n_findings + i], err);
		if (rc != EV_OK) {
			*x = before;
			return rc;
		}
	}
	s->n_findings += n;
	return EV_OK;
}

enum ev_err ev_report_snapshot_add_account(struct ev_report_snapshot *s,
					   const void *bytes, size_t n,
					   struct ev_error *err)
{
	EV_ENSURE_E(err, n <= EV_REPORT_PART_MAX, EV_E_LIMIT,
		    "account part larger than %u bytes", EV_REPORT_PART_MAX);
	json_error_t jerr;
	json_t *root = json_loadb(bytes, n, JSON_REJECT_DUPLICATES, &jerr);
	EV_ENSURE_E(err,
		    root || json_error_code(&jerr) != json_error_out_of_memory,
		    EV_E_NOMEM, "out of memory");
	EV_ENSURE_E(err, root, EV_E_MALFORMED, "not JSON: line %d: %.120s",
		    jerr.line, jerr.text);
	enum ev_err rc = add_account(s, root, err);
	json_decref(root);
	return rc;
}

enum ev_err ev_report_snapshot_part_problem(struct ev_report_snapshot *s,
					    const char *id, const char *problem)
{
	struct ev_report_account *x = find_account(s, id);
	if (!x)
		return EV_OK;
	const char *p = arena_str(s->arena, problem ? problem : "unusable");
	if (!p)
		return EV_E_NOMEM;
	x->problem = p;
	x->n_findings = 0;
	s->parts_unusable++;
	return EV_OK;
}

/* Identity */

void ev_report_finding_uid(const char *probe, const char *account,
			   const char *region, const char *resource,
			   unsigned ordinal, char out[EV_SHA256_HEX_LEN + 1])
{
	/* A hash over fixed-size hashes of the parts: no two identities
	 * share an input, and nothing needs allocating. */
	const char *parts[] = {probe, account, region ? region : "", resource};
	unsigned char in[4 * EV_SHA256_LEN + 16];
	size_t len = 0;
	for (size_t i = 0; i < 4; i++) {
		ev_sha256(parts[i], strlen(parts[i]), in + len);
		len += EV_SHA256_LEN;
	}
	if (ordinal > 1)
		len += (size_t)snprintf((char *)in + len, sizeof(in) - len,
					"%u", ordinal);
	ev_sha256_hex(in, len, out);
}

bool ev_report_status_open(enum ev_status s)
{
	return s == EV_STATUS_FAIL || s == EV_STATUS_ERROR;
}

static int address_cmp(const void *a, const void *b)
{
	const struct ev_report_finding *const *x = a, *const *y = b;
	return *x < *y ? -1 : *x > *y;
}

static int uid_cmp(const void *a, const void *b)
{
	const struct ev_report_finding *const *x = a, *const *y = b;
	return strcmp((*x)->uid, (*y)->uid);
}

enum ev_err ev_report_snapshot_finish(struct ev_report_snapshot *s)
{
	free(s->by_uid);
	s->by_uid = NULL;
	if (!s->n_findings)
		return EV_OK;
	s->by_uid = malloc(s->n_findings * sizeof(*s->by_uid));
	if (!s->by_uid)
		return EV_E_NOMEM;
	/* Controls per probe: the catalog the snapshot was judged by. */
	for (size_t i = 0; i < s->n_findings; i++) {
		struct ev_report_finding *f = &s->findings[i];
		size_t n = 0;
		for (size_t c = 0; c < s->n_controls; c++)
			for (size_t p = 0; p < s->controls[c].n_probes; p++)
				if (strcmp(s->controls[c].probes[p],
					   f->probe) == 0)
					n++;
		f->n_controls = 0;
		f->controls = NULL;
		if (n) {
			size_t *v = arena_alloc(s->arena, n * sizeof(*v));
			if (!v)
				return EV_E_NOMEM;
			for (size_t c = 0; c < s->n_controls; c++)
				for (size_t p = 0; p < s->controls[c].n_probes;
				     p++)
					if (strcmp(s->controls[c].probes[p],
						   f->probe) == 0)
						v[f->n_controls++] = c;
			f->controls = v;
		}
		ev_report_finding_uid(f->probe, f->account_id, f->region,
				      f->resource, 1, f->uid);
		s->by_uid[i] = f;
	}
	qsort(s->by_uid, s->n_findings, sizeof(*s->by_uid), uid_cmp);
	/* The n-th finding of one identity gets its ordinal in its uid, in
	 * file order, so each stays addressable. Runs of one uid are
	 * contiguous once sorted; within a run, file order is address
	 * order. */
	bool dup = false;
	for (size_t i = 0; i < s->n_findings;) {
		size_t j = i + 1;
		while (j < s->n_findings &&
		       strcmp(s->by_uid[j]->uid, s->by_uid[i]->uid) == 0)
			j++;
		if (j - i > 1) {
			qsort(s->by_uid + i, j - i, sizeof(*s->by_uid),
			      address_cmp);
			for (size_t k = i + 1; k < j; k++) {
				struct ev_report_finding *f = s->by_uid[k];
				ev_report_finding_uid(
				    f->probe, f->account_id, f->region,
				    f->resource, (unsigned)(k - i + 1), f->uid);
			}
			dup = true;
		}
		i = j;
	}
	if (dup)
		qsort(s->by_uid, s->n_findings, sizeof(*s->by_uid), uid_cmp);
	return EV_OK;
}

const struct ev_report_finding *
ev_report_snapshot_find(const struct ev_report_snapshot *s, const char *uid)
{
	if (!s->by_uid || !s->n_findings)
		return NULL;
	struct ev_report_finding key;
	snprintf(key.uid, sizeof(key.uid), "%s", uid);
	const struct ev_report_finding *kp = &key;
	struct ev_report_finding *const *hit =
	    bsearch(&kp, s->by_uid, s->n_findings, sizeof(*s->by_uid), uid_cmp);
	return hit ? *hit : NULL;
}

/* First seen */

size_t ev_report_first_seen_begin(struct ev_report_snapshot *head)
{
	size_t tracking = 0;
	for (size_t i = 0; i < head->n_findings; i++) {
		struct ev_report_finding *f = &head->findings[i];
		f->tracking = ev_report_status_open(f->status);
		if (!f->tracking) {
			f->seen = EV_REPORT_SEEN_NONE;
			continue;
		}
		f->seen = EV_REPORT_SEEN_EXACT;
		memcpy(f->first_seen, head->name, sizeof(f->first_seen));
		f->first_seen_at = head->started_at;
		tracking++;
	}
	return tracking;
}

size_t ev_report_first_seen_apply(struct ev_report_snapshot *head,
				  const struct ev_report_snapshot *older)
{
	size_t tracking = 0;
	for (size_t i = 0; i < head->n_findings; i++) {
		struct ev_report_finding *f = &head->findings[i];
		if (!f->tracking)
			continue;
		const struct ev_report_finding *o =
		    ev_report_snapshot_find(older, f->uid);
		if (!o || !ev_report_status_open(o->status)) {
			f->tracking = false;
			continue;
		}
		memcpy(f->first_seen, older->name, sizeof(f->first_seen));
		f->first_seen_at = older->started_at;
		tracking++;
	}
	return tracking;
}

void ev_report_first_seen_end(struct ev_report_snapshot *head, bool chain_start)
{
	for (size_t i = 0; i < head->n_findings; i++) {
		struct ev_report_finding *f = &head->findings[i];
		if (!f->tracking)
			continue;
		f->tracking = false;
		f->seen = chain_start ? EV_REPORT_SEEN_CHAIN_START
				      : EV_REPORT_SEEN_OR_EARLIER;
	}
}

/* Loading from disk */

/* Opens the directory `name` under dirfd without following a symlink. */
static int open_dir_at(int dirfd, const char *name)
{
	return openat(dirfd, name,
		      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Reads the part at relative path `path` under the snapshot directory
 * sfd, and checks it against the manifest's hash and size. */
static enum ev_err read_part(int sfd, const struct ev_manifest *m,
			     const char *path, struct ev_buf *out,
			     struct ev_error *err)
{
	const struct ev_manifest_part *p =
	    ev_manifest_find_part((struct ev_manifest *)m, path);
	EV_ENSURE_E(err, p, EV_E_MALFORMED, "%s: not in the manifest", path);
	EV_ENSURE_E(err, p->size <= EV_REPORT_PART_MAX, EV_E_LIMIT,
		    "%s: larger than %u bytes", path, EV_REPORT_PART_MAX);
	char rel[EV_MANIFEST_PATH_MAX + 1];
	EV_ENSURE_E(err, strlen(path) < sizeof(rel), EV_E_MALFORMED,
		    "part path too long");
	memcpy(rel, path, strlen(path) + 1);
	int dfd = dup(sfd);
	EV_ENSURE_E(err, dfd >= 0, EV_E_IO, "dup: %s", strerror(errno));
	char *name = rel;
	for (char *slash; (slash = strchr(name, '/')) != NULL;
	     name = slash + 1) {
		*slash = '\0';
		int next = open_dir_at(dfd, name);
		int saved = errno;
		close(dfd);
		EV_ENSURE_E(err, next >= 0,
			    saved == ENOENT ? EV_E_NOT_FOUND : EV_E_IO,
			    "%s: %s", path, strerror(saved));
		dfd = next;
	}
	ev_buf_reset(out);
	out->limit = (size_t)p->size;
	enum ev_err rc =
	    ev_manifest_read_file(dfd, name, (size_t)p->size, out, err);
	close(dfd);
	EV_TRY(rc);
	char hex[EV_SHA256_HEX_LEN + 1];
	ev_sha256_hex(out->data ? out->data : "", out->len, hex);
	EV_ENSURE_E(err, out->len == p->size && strcmp(hex, p->sha256) == 0,
		    EV_E_AUTH, "%s: does not match its SHA-256 in the manifest",
		    path);
	return EV_OK;
}

/* Reads every account part of s (its directory is sfd). A part that
 * cannot be used is recorded on its account; errors are only those that
 * stop everything (EV_E_NOMEM). */
static enum ev_err load_parts(struct ev_report_snapshot *s, int sfd,
			      struct ev_error *err)
{
	struct ev_buf b;
	ev_buf_init(&b, EV_REPORT_PART_MAX);
	enum ev_err rc = EV_OK;
	for (size_t i = 0; i < s->n_accounts; i++) {
		struct ev_report_account *a = &s->accounts[i];
		struct ev_error e;
		ev_error_clear(&e);
		enum ev_err prc = read_part(sfd, &s->manifest, a->part, &b, &e);
		if (prc == EV_OK)
			prc = ev_report_snapshot_add_account(s, b.data, b.len,
							     &e);
		if (prc == EV_E_NOMEM) {
			rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
			break;
		}
		if (prc != EV_OK) {
			char why[EV_ERROR_MSG_MAX + 64];
			snprintf(why, sizeof(why), "%s: %s", ev_err_name(prc),
				 e.message);
			rc = ev_report_snapshot_part_problem(s, a->id, why);
			if (rc != EV_OK) {
				ev_error_set(err, rc, "out of memory");
				break;
			}
		}
	}
	ev_buf_cleanup(&b);
	if (rc == EV_OK && ev_report_snapshot_finish(s) != EV_OK)
		rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
	return rc;
}

/* Reads and parses the manifest of snapshot `name` under parent. */
static enum ev_err read_snapshot(int parent, const char *name,
				 const char *want_sha256, int *sfd_out,
				 struct ev_report_snapshot **out,
				 struct ev_error *err)
{
	*out = NULL;
	*sfd_out = -1;
	int sfd = open_dir_at(parent, name);
	if (sfd < 0)
		return ev_error_set(err,
				    errno == ENOENT ? EV_E_NOT_FOUND : EV_E_IO,
				    "%s: %s", name, strerror(errno));
	struct ev_buf b;
	ev_buf_init(&b, EV_MANIFEST_MAX);
	enum ev_err rc = ev_manifest_read_file(sfd, EV_MANIFEST_FILE,
					       EV_MANIFEST_MAX, &b, err);
	if (rc == EV_OK && want_sha256) {
		char hex[EV_SHA256_HEX_LEN + 1];
		ev_sha256_hex(b.data ? b.data : "", b.len, hex);
		if (strcmp(hex, want_sha256) != 0)
			rc = ev_error_set(err, EV_E_AUTH,
					  "%s: its manifest does not match "
					  "the link its successor holds",
					  name);
	}
	if (rc == EV_OK)
		rc = ev_report_snapshot_parse(b.data ? b.data : "", b.len, out,
					      err);
	ev_buf_cleanup(&b);
	if (rc != EV_OK) {
		close(sfd);
		return rc;
	}
	*sfd_out = sfd;
	return EV_OK;
}

static void on_verify_event(void *ctx, const struct ev_manifest_event *ev)
{
	struct ev_report_verification *v = ctx;
	if (ev->problem == EV_PROBLEM_NONE)
		return;
	if (v->n_listed < EV_REPORT_PROBLEMS_MAX) {
		snprintf(v->listed[v->n_listed].snapshot,
			 sizeof(v->listed[v->n_listed].snapshot), "%s",
			 ev->snapshot);
		snprintf(v->listed[v->n_listed].problem,
			 sizeof(v->listed[v->n_listed].problem), "%s",
			 ev_manifest_problem_name(ev->problem));
		snprintf(v->listed[v->n_listed].message,
			 sizeof(v->listed[v->n_listed].message), "%s",
			 ev->message);
		v->n_listed++;
	}
	v->problems++;
}

static void add_problem(struct ev_report_verification *v, const char *snap,
			const char *problem, const char *message)
{
	struct ev_manifest_event ev = {
	    .snapshot = snap,
	    .problem = EV_PROBLEM_SIGNATURE,
	    .message = message,
	};
	on_verify_event(v, &ev);
	snprintf(v->listed[v->n_listed ? v->n_listed - 1 : 0].problem,
		 sizeof(v->listed[0].problem), "%s", problem);
}

/* The signature over the very bytes the report shows: the directory was
 * verified by ev_manifest_verify, but the files could change between its
 * reads and ours. */
static enum ev_err check_own_signature(struct ev_report *r, int sfd,
				       const struct ev_report_options *o,
				       struct ev_error *err)
{
	const struct ev_report_snapshot *s = r->snap;
	const struct ev_key *key = NULL;
	struct ev_key *embedded = NULL;
	struct ev_buf manifest, sig;
	ev_buf_init(&manifest, EV_MANIFEST_MAX);
	ev_buf_init(&sig, 1024);
	struct ev_error e;
	ev_error_clear(&e);
	enum ev_err rc = EV_OK;
	for (size_t i = 0; i < o->n_keys && !key; i++)
		if (strcmp(ev_keys_fingerprint(o->keys[i]),
			   s->key_fingerprint) == 0)
			key = o->keys[i];
	if (!key && o->n_keys == 0) {
		embedded = ev_keys_from_public_pem(
		    s->manifest.key_pem, strlen(s->manifest.key_pem), &e);
		key = embedded;
	}
	/* An untrusted or unreadable key is ev_manifest_verify's to
	 * report. */
	if (!key)
		goto out;
	if (ev_manifest_read_file(sfd, EV_MANIFEST_FILE, EV_MANIFEST_MAX,
				  &manifest, &e) != EV_OK ||
	    ev_manifest_read_file(sfd, EV_MANIFEST_SIG_FILE, 1024, &sig, &e) !=
		EV_OK) {
		if (e.code == EV_E_NOMEM)
			rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
		else if (r->verify.problems == 0)
			add_problem(&r->verify, s->name, "signature",
				    e.message);
		goto out;
	}
	char hex[EV_SHA256_HEX_LEN + 1];
	ev_sha256_hex(manifest.data ? manifest.data : "", manifest.len, hex);
	bool same = strcmp(hex, s->manifest_sha256) == 0;
	bool good = same && ev_keys_verify(key, manifest.data, manifest.len,
					   (const unsigned char *)sig.data,
					   sig.len, &e) == EV_OK;
	if (!good && r->verify.problems == 0)
		add_problem(&r->verify, s->name, "signature",
			    same ? "manifest.sig does not match manifest.json"
				 : "manifest.json changed while it was read");
out:
	ev_keys_free(embedded);
	ev_buf_cleanup(&manifest);
	ev_buf_cleanup(&sig);
	return rc;
}

static size_t control_index(const struct ev_report_snapshot *s, const char *id)
{
	for (size_t i = 0; i < s->n_controls; i++)
		if (strcmp(s->controls[i].id, id) == 0)
			return i;
	return SIZE_MAX;
}

/* Appends s's verdicts as the next trend row (newest first while
 * walking). */
static void trend_row(struct ev_report *r, const struct ev_report_snapshot *s)
{
	struct ev_report_trend *t = &r->trend;
	const struct ev_report_snapshot *head = r->snap;
	memcpy(t->names[t->n], s->name, sizeof(t->names[0]));
	for (size_t c = 0; c < head->n_controls; c++) {
		size_t i = control_index(s, head->controls[c].id);
		t->verdicts[t->n * head->n_controls + c] =
		    i == SIZE_MAX ? EV_VERDICT_COUNT_ : s->controls[i].verdict;
	}
	t->n++;
}

static void trend_reverse(struct ev_report *r)
{
	struct ev_report_trend *t = &r->trend;
	size_t nc = r->snap->n_controls;
	for (size_t i = 0, j = t->n ? t->n - 1 : 0; i < j; i++, j--) {
		char name[EV_SNAPSHOT_NAME_LEN + 1];
		memcpy(name, t->names[i], sizeof(name));
		memcpy(t->names[i], t->names[j], sizeof(name));
		memcpy(t->names[j], name, sizeof(name));
		for (size_t c = 0; c < nc; c++) {
			enum ev_verdict v = t->verdicts[i * nc + c];
			t->verdicts[i * nc + c] = t->verdicts[j * nc + c];
			t->verdicts[j * nc + c] = v;
		}
	}
}

/* Walks back from r->snap through the chain in parent: trend rows and
 * first-seen dates. Stops, with r->history_end saying why, at the chain's
 * start, at a snapshot that is gone or does not match its link, or when
 * neither the trend nor any open finding needs more. */
static enum ev_err walk_history(struct ev_report *r, int parent,
				const struct ev_report_options *o,
				struct ev_error *err)
{
	struct ev_report_snapshot *head = r->snap;
	size_t trend_max = o->trend_max ? o->trend_max : EV_REPORT_TREND_MAX;
	size_t nc = head->n_controls ? head->n_controls : 1;
	r->trend.names = calloc(trend_max, sizeof(*r->trend.names));
	r->trend.verdicts = calloc(trend_max * nc, sizeof(*r->trend.verdicts));
	EV_ENSURE_E(err, r->trend.names && r->trend.verdicts, EV_E_NOMEM,
		    "out of memory");
	trend_row(r, head);

	size_t tracking = ev_report_first_seen_begin(head);
	bool has = head->has_previous;
	char name[EV_SNAPSHOT_NAME_LEN + 1], sha[EV_SHA256_HEX_LEN + 1];
	memcpy(name, head->previous, sizeof(name));
	memcpy(sha, head->previous_sha256, sizeof(sha));
	bool chain_start = !has;
	snprintf(r->history_end, sizeof(r->history_end),
		 has ? "the walk back was not needed"
		     : "first snapshot of the chain");
	enum ev_err rc = EV_OK;
	for (size_t walked = 0; has; walked++) {
		if (tracking && r->history_read >= o->history_max) {
			ev_report_first_seen_end(head, false);
			tracking = 0;
		}
		if (!tracking && r->trend.n >= trend_max)
			break;
		if (walked >= EV_MANIFEST_MAX_SNAPSHOTS) {
			snprintf(r->history_end, sizeof(r->history_end),
				 "more snapshots than can be walked");
			break;
		}
		struct ev_report_snapshot *older = NULL;
		int sfd;
		struct ev_error e;
		ev_error_clear(&e);
		rc = read_snapshot(parent, name, sha, &sfd, &older, &e);
		if (rc == EV_E_NOMEM) {
			ev_error_set(err, rc, "out of memory");
			break;
		}
		if (rc != EV_OK) {
			snprintf(r->history_end, sizeof(r->history_end),
				 rc == EV_E_NOT_FOUND
				     ? "the snapshot before, %s, is not "
				       "present (pruned?)"
				     : "the snapshot before, %s, cannot be "
				       "read or does not match its link",
				 name);
			rc = EV_OK;
			break;
		}
		if (r->trend.n < trend_max)
			trend_row(r, older);
		if (tracking) {
			rc = load_parts(older, sfd, err);
			if (rc == EV_OK && older->parts_unusable) {
				snprintf(r->history_end, sizeof(r->history_end),
					 "%s could not be read in full",
					 older->name);
				has = false;
			} else if (rc == EV_OK) {
				tracking =
				    ev_report_first_seen_apply(head, older);
				r->history_read++;
			}
		}
		close(sfd);
		if (rc == EV_OK && has) {
			has = older->has_previous;
			chain_start = !has;
			memcpy(name, older->previous, sizeof(name));
			memcpy(sha, older->previous_sha256, sizeof(sha));
			if (!has)
				snprintf(r->history_end, sizeof(r->history_end),
					 "first snapshot of the chain");
		}
		ev_report_snapshot_free(older);
		if (rc != EV_OK)
			break;
	}
	if (tracking)
		ev_report_first_seen_end(head, chain_start && !has);
	trend_reverse(r);
	return rc;
}

/* Splits o->path into the directory holding the snapshot and its name; a
 * path that does not end in a snapshot name is a directory of snapshots,
 * whose newest is taken. */
static enum ev_err locate(const char *path, char *parent, size_t n,
			  char name[EV_SNAPSHOT_NAME_LEN + 1],
			  struct ev_error *err)
{
	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	EV_ENSURE_E(err, len > 0 && len < n, EV_E_INVALID,
		    "path is empty or too long");
	const char *base = path;
	for (size_t i = 0; i < len; i++)
		if (path[i] == '/')
			base = path + i + 1;
	size_t base_len = len - (size_t)(base - path);
	char b[EV_SNAPSHOT_NAME_LEN + 1];
	if (base_len == EV_SNAPSHOT_NAME_LEN) {
		memcpy(b, base, base_len);
		b[base_len] = '\0';
		if (ev_manifest_name_valid(b)) {
			memcpy(name, b, sizeof(b));
			size_t plen = (size_t)(base - path);
			if (plen == 0) {
				snprintf(parent, n, ".");
			} else {
				while (plen > 1 && path[plen - 1] == '/')
					plen--;
				memcpy(parent, path, plen);
				parent[plen] = '\0';
			}
			return EV_OK;
		}
	}
	memcpy(parent, path, len);
	parent[len] = '\0';
	struct ev_manifest_names l;
	memset(&l, 0, sizeof(l));
	enum ev_err rc = ev_manifest_list(parent, &l, err);
	if (rc == EV_OK && l.n == 0)
		rc = ev_error_set(err, EV_E_NOT_FOUND, "no snapshot in %s",
				  parent);
	if (rc == EV_OK)
		memcpy(name, l.names[l.n - 1], EV_SNAPSHOT_NAME_LEN + 1);
	ev_manifest_names_cleanup(&l);
	return rc;
}

enum ev_err ev_report_load(const struct ev_report_options *o,
			   struct ev_report **out, struct ev_error *err)
{
	*out = NULL;
	char parent[4096], name[EV_SNAPSHOT_NAME_LEN + 1];
	EV_TRY(locate(o->path, parent, sizeof(parent), name, err));
	struct ev_report *r = calloc(1, sizeof(*r));
	EV_ENSURE_E(err, r, EV_E_NOMEM, "out of memory");
	int pfd = -1, sfd = -1;
	enum ev_err rc;
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0) {
		rc = ev_error_set(err,
				  errno == ENOENT ? EV_E_NOT_FOUND : EV_E_IO,
				  "%s: %s", parent, strerror(errno));
		goto out;
	}
	rc = read_snapshot(pfd, name, NULL, &sfd, &r->snap, err);
	if (rc != EV_OK) {
		if (rc == EV_E_AUTH)
			rc = EV_E_MALFORMED;
		ev_error_prefix(err, "%s/%s: ", parent, name);
		goto out;
	}

	/* Verification: the whole directory's view (parts, chain), then the
	 * signature over what was read here. */
	char spath[4096 + EV_SNAPSHOT_NAME_LEN + 2];
	snprintf(spath, sizeof(spath), "%s/%s", parent, name);
	r->verify.trusted_key = o->n_keys > 0;
	memcpy(r->verify.key_fingerprint, r->snap->key_fingerprint,
	       sizeof(r->verify.key_fingerprint));
	struct ev_manifest_verify_options vo = {
	    .path = spath,
	    .keys = o->keys,
	    .n_keys = o->n_keys,
	    .trust_embedded_key = o->n_keys == 0,
	    .allow_pruned = o->allow_pruned,
	    .on_event = on_verify_event,
	    .ctx = &r->verify,
	};
	struct ev_manifest_summary sum;
	struct ev_error ve;
	ev_error_clear(&ve);
	rc = ev_manifest_verify(&vo, &sum, &ve);
	if (rc == EV_E_NOMEM) {
		rc = ev_error_set(err, rc, "out of memory");
		goto out;
	}
	if (rc != EV_OK && rc != EV_E_AUTH)
		add_problem(&r->verify, name, "unreadable", ve.message);
	rc = check_own_signature(r, sfd, o, err);
	if (rc != EV_OK)
		goto out;
	r->verify.verified = r->verify.problems == 0;

	rc = load_parts(r->snap, sfd, err);
	if (rc == EV_OK)
		rc = walk_history(r, pfd, o, err);
out:
	if (sfd >= 0)
		close(sfd);
	if (pfd >= 0)
		close(pfd);
	if (rc != EV_OK) {
		ev_report_free(r);
		return rc;
	}
	*out = r;
	return EV_OK;
}

void ev_report_free(struct ev_report *r)
{
	if (!r)
		return;
	ev_report_snapshot_free(r->snap);
	free(r->trend.names);
	free(r->trend.verdicts);
	free(r);
}

enum ev_err ev_report_keys_add(struct ev_report_keys *k, const char *path,
			       struct ev_error *err)
{
	EV_ENSURE_E(err, k->n < EV_REPORT_MAX_KEYS, EV_E_LIMIT,
		    "at most %d keys", EV_REPORT_MAX_KEYS);
	struct ev_key *key = ev_keys_load_public(path, err);
	if (!key) {
		ev_error_prefix(err, "public key %s: ", path);
		return err ? err->code : EV_E_IO;
	}
	k->keys[k->n++] = key;
	return EV_OK;
}

void ev_report_keys_cleanup(struct ev_report_keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		ev_keys_free(k->keys[i]);
	k->n = 0;
}

/* Shared by the writers */

const char *ev_report_verification_summary(const struct ev_report *r, char *buf,
					   size_t n)
{
	const struct ev_report_verification *v = &r->verify;
	if (!v->verified) {
		if (v->n_listed)
			snprintf(buf, n,
				 "VERIFICATION FAILED: %zu problem%s; first: "
				 "%s%s%s: %s",
				 v->problems, v->problems == 1 ? "" : "s",
				 v->listed[0].snapshot,
				 v->listed[0].snapshot[0] ? " " : "",
				 v->listed[0].problem, v->listed[0].message);
		else
			snprintf(buf, n, "VERIFICATION FAILED");
	} else if (!v->trusted_key) {
		snprintf(buf, n,
			 "signature checked only against the key the manifest "
			 "carries (sha256:%s): the snapshot is intact as its "
			 "signer left it, but who signed it is not established "
			 "(give --key)",
			 v->key_fingerprint);
	} else {
		snprintf(buf, n, "signature verified by key sha256:%s",
			 v->key_fingerprint);
	}
	return buf;
}

void ev_report_iso(time_t t, char out[32])
{
	char iso[EV_ISO8601_LEN + 1];
	ev_time_format_iso8601(t, iso);
	snprintf(out, 32, "%s", iso);
}

void ev_report_text(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
}

enum ev_err ev_report_format_parse(const char *name, enum ev_report_format *out)
{
	static const struct {
		const char *name;
		enum ev_report_format f;
	} formats[] = {
	    {"html", EV_REPORT_HTML}, {"md", EV_REPORT_MD},
	    {"csv", EV_REPORT_CSV},   {"json", EV_REPORT_JSON},
	    {"ocsf", EV_REPORT_OCSF},
	};
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(name, formats[i].name) == 0) {
			*out = formats[i].f;
			return EV_OK;
		}
	return EV_E_INVALID;
}

enum ev_err ev_report_write(const struct ev_report *r, enum ev_report_format f,
			    FILE *out, struct ev_error *err)
{
	switch (f) {
	case EV_REPORT_HTML:
		return ev_report_write_html(r, out, err);
	case EV_REPORT_MD:
		return ev_report_write_md(r, out, err);
	case EV_REPORT_CSV:
		return ev_report_write_csv(r, out, err);
	case EV_REPORT_JSON:
		return ev_report_write_json(r, out, err);
	case EV_REPORT_OCSF:
		return ev_report_write_ocsf(r, out, err);
	default:
		return ev_error_set(err, EV_E_INVALID, "unknown format");
	}
}
