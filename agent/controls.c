#include "controls.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "cli.h"
#include "endpoint.h"
#include "fileio.h"
#include "probes.h"

/* Bounds on a catalog (a configuration file, read as untrusted input). */
#define CATALOG_MAX_BYTES    (1024u * 1024)
#define CATALOG_MAX_CONTROLS 256
#define CATALOG_MAX_PROGRAMS 16
#define CATALOG_ID_MAX	     64
#define CATALOG_TEXT_MAX     2000
#define CATALOG_VERSION	     1
/* A document is hashed, never parsed; the bound keeps a run from reading
 * a device or a runaway file for hours. */
#define DOCUMENT_MAX_BYTES (1024ull * 1024 * 1024)
/* Regions a run may examine (AWS has about 35); coverage keeps one bit
 * per region and account. */
#define VERDICTS_MAX_REGIONS 64
/* Skipped accounts and regions listed; beyond, they are counted. */
#define VERDICTS_MAX_SKIPS 100000
#define REASONS_MAX	   8

_Static_assert(EV_PROBE_COUNT_ <= 32, "probe masks are 32 bits");

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The catalog compiled in (generated from config/controls.json). */
extern const unsigned char ev_catalog_builtin[];
extern const size_t ev_catalog_builtin_len;

static const char *const threshold_names[EV_THRESHOLD_COUNT_] = {
    [EV_THRESHOLD_ROOT_UNUSED_DAYS] = "root_unused_days",
    [EV_THRESHOLD_ACCESS_KEY_MAX_AGE_DAYS] = "access_key_max_age_days",
    [EV_THRESHOLD_ACCESS_KEY_UNUSED_DAYS] = "access_key_unused_days",
    [EV_THRESHOLD_LOG_RETENTION_DAYS] = "log_retention_days",
    [EV_THRESHOLD_DIGEST_MAX_AGE_HOURS] = "digest_max_age_hours",
};

const char *ev_threshold_name(enum ev_threshold t)
{
	if ((int)t < 0 || t >= EV_THRESHOLD_COUNT_)
		return "unknown";
	return threshold_names[t];
}

int ev_threshold_value(const struct ev_config *cfg, enum ev_threshold t)
{
	switch (t) {
	case EV_THRESHOLD_ROOT_UNUSED_DAYS:
		return cfg->thresholds.root_unused_days;
	case EV_THRESHOLD_ACCESS_KEY_MAX_AGE_DAYS:
		return cfg->thresholds.access_key_max_age_days;
	case EV_THRESHOLD_ACCESS_KEY_UNUSED_DAYS:
		return cfg->thresholds.access_key_unused_days;
	case EV_THRESHOLD_LOG_RETENTION_DAYS:
		return cfg->thresholds.log_retention_days;
	case EV_THRESHOLD_DIGEST_MAX_AGE_HOURS:
		return cfg->probes.digest_max_age_hours;
	case EV_THRESHOLD_COUNT_:
	default:
		return 0;
	}
}

static const char *const verdict_names[EV_VERDICT_COUNT_] = {
    [EV_VERDICT_MET] = "met",
    [EV_VERDICT_NOT_MET] = "not-met",
    [EV_VERDICT_PARTIAL] = "partial",
    [EV_VERDICT_ERROR] = "error",
};

const char *ev_verdict_name(enum ev_verdict v)
{
	if ((int)v < 0 || v >= EV_VERDICT_COUNT_)
		return "unknown";
	return verdict_names[v];
}

/* ---- The catalog ------------------------------------------------------ */

struct ev_catalog {
	char *source; /* "built-in" or the path */
	char *text;   /* the bytes as read, so the verdicts can copy it */
	size_t len;
	char sha256[EV_SHA256_HEX_LEN + 1];
	json_t *root; /* owns every string the views below point into */
	struct ev_catalog_program *programs;
	size_t n_programs;
	struct ev_control *controls;
	uint32_t *masks; /* per control: bit i = row i of the probe table */
	size_t n_controls;
};

void ev_catalog_free(struct ev_catalog *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->controls && i < c->n_controls; i++) {
		free((void *)c->controls[i].probes);
		free((void *)c->controls[i].bounds);
	}
	free(c->controls);
	free(c->masks);
	free(c->programs);
	json_decref(c->root);
	free(c->text);
	free(c->source);
	free(c);
}

static bool text_clean(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* Every member of o must be one of allowed (NULL-terminated). */
static enum ev_err only_members(const char *name, const char *where, json_t *o,
				const char *const *allowed,
				struct ev_error *err)
{
	const char *key;
	json_t *val;
	json_object_foreach(o, key, val)
	{
		(void)val;
		bool known = false;
		for (size_t i = 0; allowed[i] && !known; i++)
			known = strcmp(key, allowed[i]) == 0;
		if (!known) {
			char k[48];
			ev_error_copy_field(k, sizeof(k), key, strlen(key));
			return ev_error_set(err, EV_E_CONFIG,
					    "catalog %s: %s: unknown member "
					    "\"%s\"",
					    name, where, k);
		}
	}
	return EV_OK;
}

/* A string member: required or not (NULL when absent), at most max bytes,
 * no control characters. */
static enum ev_err get_text(const char *name, const char *where, json_t *o,
			    const char *key, bool required, size_t max,
			    const char **out, struct ev_error *err)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		EV_ENSURE_E(err, !required, EV_E_CONFIG,
			    "catalog %s: %s: \"%s\" is missing", name, where,
			    key);
		return EV_OK;
	}
	EV_ENSURE_E(err, json_is_string(v), EV_E_CONFIG,
		    "catalog %s: %s: \"%s\" must be a string", name, where,
		    key);
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	EV_ENSURE_E(err, len > 0 && strlen(s) == len, EV_E_CONFIG,
		    "catalog %s: %s: \"%s\" must be a non-empty string", name,
		    where, key);
	EV_ENSURE_E(err, len <= max, EV_E_LIMIT,
		    "catalog %s: %s: \"%s\" is longer than %zu bytes", name,
		    where, key, max);
	EV_ENSURE_E(err, text_clean(s), EV_E_CONFIG,
		    "catalog %s: %s: \"%s\" holds control characters", name,
		    where, key);
	*out = s;
	return EV_OK;
}

/* [A-Za-z0-9]+ for a program id; digits separated by single dots for a
 * checklist number. */
static bool program_id_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static bool number_ok(const char *s)
{
	bool digit = false;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			digit = true;
		} else if (*s == '.' && digit) {
			digit = false;
		} else {
			return false;
		}
	}
	return digit;
}

static int probe_index(const char *id)
{
	const struct ev_probe *p = ev_probe_find(id);
	return p ? (int)(p - ev_probes()) : -1;
}

/* The probes whose table row names this control. */
static uint32_t table_mask(const char *control_id)
{
	const struct ev_probe *t = ev_probes();
	uint32_t m = 0;
	for (size_t i = 0; i < EV_PROBE_COUNT_; i++)
		for (const char *const *c = t[i].controls; c && *c; c++)
			if (strcmp(*c, control_id) == 0)
				m |= 1u << i;
	return m;
}

static void mask_names(char *out, size_t n, uint32_t mask)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < EV_PROBE_COUNT_ && used < n; i++) {
		if (!(mask & (1u << i)))
			continue;
		int w = snprintf(out + used, n - used, "%s%s", used ? ", " : "",
				 ev_probes()[i].id);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (!out[0])
		snprintf(out, n, "none");
}

static enum ev_err parse_programs(struct ev_catalog *c, json_t *arr,
				  struct ev_error *err)
{
	static const char *const members[] = {"id", "title", "version", NULL};
	const char *name = c->source;
	EV_ENSURE_E(err, json_is_array(arr) && json_array_size(arr) > 0,
		    EV_E_CONFIG,
		    "catalog %s: \"programs\" must be a non-empty array", name);
	size_t n = json_array_size(arr);
	EV_ENSURE_E(err, n <= CATALOG_MAX_PROGRAMS, EV_E_LIMIT,
		    "catalog %s: more than %d programs", name,
		    CATALOG_MAX_PROGRAMS);
	c->programs = calloc(n, sizeof(*c->programs));
	EV_ENSURE(c->programs, EV_E_NOMEM);
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(arr, i);
		char where[48];
		snprintf(where, sizeof(where), "programs[%zu]", i);
		EV_ENSURE_E(err, json_is_object(o), EV_E_CONFIG,
			    "catalog %s: %s must be an object", name, where);
		EV_TRY(only_members(name, where, o, members, err));
		struct ev_catalog_program *p = &c->programs[i];
		EV_TRY(get_text(name, where, o, "id", true, CATALOG_ID_MAX,
				&p->id, err));
		EV_TRY(get_text(name, where, o, "title", true, CATALOG_TEXT_MAX,
				&p->title, err));
		EV_TRY(get_text(name, where, o, "version", true, CATALOG_ID_MAX,
				&p->version, err));
		EV_ENSURE_E(err, program_id_ok(p->id), EV_E_CONFIG,
			    "catalog %s: %s: id \"%s\" must be letters and "
			    "digits",
			    name, where, p->id);
		for (size_t j = 0; j < i; j++)
			EV_ENSURE_E(err, strcmp(c->programs[j].id, p->id) != 0,
				    EV_E_CONFIG,
				    "catalog %s: program %s is listed twice",
				    name, p->id);
		c->n_programs = i + 1;
	}
	return EV_OK;
}

static enum ev_err parse_probes(struct ev_catalog *c, size_t idx, json_t *arr,
				struct ev_error *err)
{
	struct ev_control *ctl = &c->controls[idx];
	const char *name = c->source;
	EV_ENSURE_E(err, json_is_array(arr) && json_array_size(arr) > 0,
		    EV_E_CONFIG,
		    "catalog %s: control %s: \"probes\" must be a non-empty "
		    "array of probe ids",
		    name, ctl->id);
	size_t n = json_array_size(arr);
	EV_ENSURE_E(err, n <= EV_PROBE_COUNT_, EV_E_CONFIG,
		    "catalog %s: control %s: more probes than the probe "
		    "table has",
		    name, ctl->id);
	const char **ids = calloc(n + 1, sizeof(*ids));
	EV_ENSURE(ids, EV_E_NOMEM);
	ctl->probes = ids;
	uint32_t mask = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(arr, i);
		EV_ENSURE_E(err, json_is_string(v), EV_E_CONFIG,
			    "catalog %s: control %s: probes[%zu] must be a "
			    "string",
			    name, ctl->id, i);
		const char *id = json_string_value(v);
		int pi = probe_index(id);
		if (pi < 0) {
			char s[48], known[256];
			ev_error_copy_field(s, sizeof(s), id, strlen(id));
			mask_names(known, sizeof(known),
				   (uint32_t)((1ull << EV_PROBE_COUNT_) - 1));
			return ev_error_set(err, EV_E_CONFIG,
					    "catalog %s: control %s: probe "
					    "\"%s\" is not in the probe table "
					    "(known: %s)",
					    name, ctl->id, s, known);
		}
		EV_ENSURE_E(err, !(mask & (1u << pi)), EV_E_CONFIG,
			    "catalog %s: control %s: probe %s is listed twice",
			    name, ctl->id, id);
		mask |= 1u << pi;
		/* A view of the table's static id: it outlives any catalog. */
		ids[i] = ev_probes()[pi].id;
		ctl->n_probes = i + 1;
	}
	/* The probes decide which findings they make, so the catalog cannot
	 * credit a control to a probe whose row does not name it, nor leave
	 * out one that does. */
	uint32_t table = table_mask(ctl->id);
	if (mask != table) {
		char listed[256], named[256];
		mask_names(listed, sizeof(listed), mask);
		mask_names(named, sizeof(named), table);
		return ev_error_set(err, EV_E_CONFIG,
				    "catalog %s: control %s lists probes %s; "
				    "the probe table has %s evidencing it",
				    name, ctl->id, listed, named);
	}
	c->masks[idx] = mask;
	return EV_OK;
}

static enum ev_err parse_bounds(struct ev_catalog *c, size_t idx, json_t *arr,
				struct ev_error *err)
{
	static const char *const members[] = {"threshold", "at_most",
					      "at_least", NULL};
	struct ev_control *ctl = &c->controls[idx];
	const char *name = c->source;
	if (!arr)
		return EV_OK;
	EV_ENSURE_E(err, json_is_array(arr), EV_E_CONFIG,
		    "catalog %s: control %s: \"bounds\" must be an array", name,
		    ctl->id);
	size_t n = json_array_size(arr);
	if (n == 0)
		return EV_OK;
	EV_ENSURE_E(err, n <= EV_THRESHOLD_COUNT_, EV_E_CONFIG,
		    "catalog %s: control %s: more bounds than thresholds", name,
		    ctl->id);
	struct ev_control_bound *b = calloc(n, sizeof(*b));
	EV_ENSURE(b, EV_E_NOMEM);
	ctl->bounds = b;
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(arr, i);
		char where[96];
		snprintf(where, sizeof(where), "control %s: bounds[%zu]",
			 ctl->id, i);
		EV_ENSURE_E(err, json_is_object(o), EV_E_CONFIG,
			    "catalog %s: %s must be an object", name, where);
		EV_TRY(only_members(name, where, o, members, err));
		const char *t;
		EV_TRY(get_text(name, where, o, "threshold", true,
				CATALOG_ID_MAX, &t, err));
		int ti = -1;
		for (int k = 0; k < EV_THRESHOLD_COUNT_ && ti < 0; k++)
			if (strcmp(threshold_names[k], t) == 0)
				ti = k;
		EV_ENSURE_E(err, ti >= 0, EV_E_CONFIG,
			    "catalog %s: %s: unknown threshold \"%s\" (known: "
			    "root_unused_days, access_key_max_age_days, "
			    "access_key_unused_days, log_retention_days, "
			    "digest_max_age_hours)",
			    name, where, t);
		json_t *most = json_object_get(o, "at_most");
		json_t *least = json_object_get(o, "at_least");
		EV_ENSURE_E(err, (most != NULL) != (least != NULL), EV_E_CONFIG,
			    "catalog %s: %s: give exactly one of at_most and "
			    "at_least",
			    name, where);
		json_t *val = most ? most : least;
		EV_ENSURE_E(err,
			    json_is_integer(val) &&
				json_integer_value(val) >= 1 &&
				json_integer_value(val) <= 36500,
			    EV_E_CONFIG,
			    "catalog %s: %s: the bound must be a whole number "
			    "in 1..36500",
			    name, where);
		for (size_t j = 0; j < i; j++)
			EV_ENSURE_E(err, (int)b[j].threshold != ti, EV_E_CONFIG,
				    "catalog %s: control %s: threshold %s is "
				    "bounded twice",
				    name, ctl->id, t);
		b[i].threshold = (enum ev_threshold)ti;
		b[i].at_most = most != NULL;
		b[i].value = (int)json_integer_value(val);
		ctl->n_bounds = i + 1;
	}
	return EV_OK;
}

static enum ev_err parse_control(struct ev_catalog *c, size_t idx, json_t *o,
				 struct ev_error *err)
{
	static const char *const members[] = {
	    "id",	   "program",  "number", "title",
	    "requirement", "evidence", "probes", "documents_required",
	    "documents",   "bounds",   NULL};
	const char *name = c->source;
	struct ev_control *ctl = &c->controls[idx];
	char where[48];
	snprintf(where, sizeof(where), "controls[%zu]", idx);
	EV_ENSURE_E(err, json_is_object(o), EV_E_CONFIG,
		    "catalog %s: %s must be an object", name, where);
	EV_TRY(get_text(name, where, o, "id", true, CATALOG_ID_MAX, &ctl->id,
			err));
	/* From here on messages name the control by its id. */
	snprintf(where, sizeof(where), "control %s", ctl->id);
	EV_TRY(only_members(name, where, o, members, err));
	EV_TRY(get_text(name, where, o, "program", true, CATALOG_ID_MAX,
			&ctl->program, err));
	EV_TRY(get_text(name, where, o, "number", true, CATALOG_ID_MAX,
			&ctl->number, err));
	EV_TRY(get_text(name, where, o, "title", true, CATALOG_TEXT_MAX,
			&ctl->title, err));
	EV_TRY(get_text(name, where, o, "requirement", true, CATALOG_TEXT_MAX,
			&ctl->requirement, err));
	EV_TRY(get_text(name, where, o, "evidence", true, CATALOG_TEXT_MAX,
			&ctl->evidence, err));
	EV_TRY(get_text(name, where, o, "documents", false, CATALOG_TEXT_MAX,
			&ctl->documents, err));
	EV_ENSURE_E(err, ev_catalog_program_find(c, ctl->program) != NULL,
		    EV_E_CONFIG,
		    "catalog %s: %s: program \"%s\" is not among \"programs\"",
		    name, where, ctl->program);
	EV_ENSURE_E(err, number_ok(ctl->number), EV_E_CONFIG,
		    "catalog %s: %s: number \"%s\" must be digits separated "
		    "by dots",
		    name, where, ctl->number);
	char expect[2 * CATALOG_ID_MAX + 2];
	snprintf(expect, sizeof(expect), "%s-%s", ctl->program, ctl->number);
	EV_ENSURE_E(err, strcmp(expect, ctl->id) == 0, EV_E_CONFIG,
		    "catalog %s: %s: the id must be program-number (%s)", name,
		    where, expect);
	for (size_t j = 0; j < idx; j++)
		EV_ENSURE_E(
		    err, strcmp(c->controls[j].id, ctl->id) != 0, EV_E_CONFIG,
		    "catalog %s: control %s is listed twice", name, ctl->id);
	json_t *dr = json_object_get(o, "documents_required");
	EV_ENSURE_E(err, json_is_boolean(dr), EV_E_CONFIG,
		    "catalog %s: %s: \"documents_required\" must be true or "
		    "false",
		    name, where);
	ctl->documents_required = json_is_true(dr);
	EV_ENSURE_E(err, ctl->documents_required == (ctl->documents != NULL),
		    EV_E_CONFIG,
		    "catalog %s: %s: \"documents\" says which documents, and "
		    "is given exactly when documents_required is true",
		    name, where);
	EV_TRY(parse_probes(c, idx, json_object_get(o, "probes"), err));
	return parse_bounds(c, idx, json_object_get(o, "bounds"), err);
}

static enum ev_err catalog_build(struct ev_catalog *c, struct ev_error *err)
{
	static const char *const members[] = {"catalog_version", "programs",
					      "controls", NULL};
	const char *name = c->source;
	json_error_t jerr;
	c->root = json_loadb(c->text, c->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!c->root)
		return ev_error_set(err, EV_E_MALFORMED, "catalog %s:%d:%d: %s",
				    name, jerr.line, jerr.column, jerr.text);
	EV_ENSURE_E(err, json_is_object(c->root), EV_E_CONFIG,
		    "catalog %s: the top level must be an object", name);
	EV_TRY(only_members(name, "top level", c->root, members, err));
	json_t *ver = json_object_get(c->root, "catalog_version");
	EV_ENSURE_E(err,
		    json_is_integer(ver) &&
			json_integer_value(ver) == CATALOG_VERSION,
		    EV_E_CONFIG, "catalog %s: \"catalog_version\" must be %d",
		    name, CATALOG_VERSION);
	EV_TRY(parse_programs(c, json_object_get(c->root, "programs"), err));
	json_t *arr = json_object_get(c->root, "controls");
	EV_ENSURE_E(err, json_is_array(arr) && json_array_size(arr) > 0,
		    EV_E_CONFIG,
		    "catalog %s: \"controls\" must be a non-empty array", name);
	size_t n = json_array_size(arr);
	EV_ENSURE_E(err, n <= CATALOG_MAX_CONTROLS, EV_E_LIMIT,
		    "catalog %s: more than %d controls", name,
		    CATALOG_MAX_CONTROLS);
	c->controls = calloc(n, sizeof(*c->controls));
	c->masks = calloc(n, sizeof(*c->masks));
	EV_ENSURE(c->controls && c->masks, EV_E_NOMEM);
	for (size_t i = 0; i < n; i++) {
		/* Counted first so a half-parsed control is freed. */
		c->n_controls = i + 1;
		EV_TRY(parse_control(c, i, json_array_get(arr, i), err));
	}
	return EV_OK;
}

/* Takes text (heap, len bytes) on success and on failure. */
static enum ev_err catalog_new(const char *source, char *text, size_t len,
			       struct ev_catalog **out, struct ev_error *err)
{
	*out = NULL;
	struct ev_catalog *c = calloc(1, sizeof(*c));
	if (!c) {
		free(text);
		return ev_error_set(err, EV_E_NOMEM, "out of memory");
	}
	c->text = text;
	c->len = len;
	c->source = ev_strdup(source);
	if (!c->source) {
		ev_catalog_free(c);
		return ev_error_set(err, EV_E_NOMEM, "out of memory");
	}
	ev_sha256_hex(text, len, c->sha256);
	enum ev_err rc = catalog_build(c, err);
	if (rc != EV_OK) {
		if (rc == EV_E_NOMEM)
			ev_error_set(err, rc, "catalog %s: out of memory",
				     source);
		ev_catalog_free(c);
		return rc;
	}
	*out = c;
	return EV_OK;
}

enum ev_err ev_catalog_parse(const char *name, const void *text, size_t len,
			     struct ev_catalog **out, struct ev_error *err)
{
	*out = NULL;
	const char *n = name ? name : "(catalog)";
	EV_ENSURE_E(err, len <= CATALOG_MAX_BYTES, EV_E_LIMIT,
		    "catalog %s: larger than %u bytes", n, CATALOG_MAX_BYTES);
	char *copy = malloc(len + 1);
	EV_ENSURE_E(err, copy, EV_E_NOMEM, "out of memory");
	if (len)
		memcpy(copy, text, len);
	copy[len] = '\0';
	return catalog_new(n, copy, len, out, err);
}

enum ev_err ev_catalog_load(const char *path, struct ev_catalog **out,
			    struct ev_error *err)
{
	*out = NULL;
	if (!path)
		return ev_catalog_parse("built-in", ev_catalog_builtin,
					ev_catalog_builtin_len, out, err);
	struct ev_buf b;
	ev_buf_init(&b, CATALOG_MAX_BYTES);
	enum ev_err rc = ev_file_read(AT_FDCWD, path, false, &b, NULL, err);
	size_t len = b.len;
	char *text = rc == EV_OK ? ev_buf_take(&b) : NULL;
	ev_buf_cleanup(&b);
	if (rc != EV_OK)
		return rc;
	EV_ENSURE_E(err, text, EV_E_NOMEM, "out of memory");
	return catalog_new(path, text, len, out, err);
}

size_t ev_catalog_count(const struct ev_catalog *c)
{
	return c->n_controls;
}

const struct ev_control *ev_catalog_at(const struct ev_catalog *c, size_t i)
{
	return i < c->n_controls ? &c->controls[i] : NULL;
}

const struct ev_control *ev_catalog_find(const struct ev_catalog *c,
					 const char *id)
{
	for (size_t i = 0; id && i < c->n_controls; i++)
		if (strcmp(c->controls[i].id, id) == 0)
			return &c->controls[i];
	return NULL;
}

size_t ev_catalog_program_count(const struct ev_catalog *c)
{
	return c->n_programs;
}

const struct ev_catalog_program *
ev_catalog_program_at(const struct ev_catalog *c, size_t i)
{
	return i < c->n_programs ? &c->programs[i] : NULL;
}

const struct ev_catalog_program *
ev_catalog_program_find(const struct ev_catalog *c, const char *id)
{
	for (size_t i = 0; id && i < c->n_programs; i++)
		if (strcmp(c->programs[i].id, id) == 0)
			return &c->programs[i];
	return NULL;
}

const char *ev_catalog_source(const struct ev_catalog *c)
{
	return c->source;
}

const char *ev_catalog_sha256(const struct ev_catalog *c)
{
	return c->sha256;
}

/* JSON building: every set is checked once through `ok`; a failed set
 * has already released the value it was given. */
struct jb {
	bool ok;
};

/* A JSON string of s; bytes that are not valid UTF-8 (text from AWS
 * passed through a probe) become '?' rather than failing the document. */
static json_t *jstr(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	char *copy = ev_strdup(s);
	if (!copy)
		return NULL;
	for (unsigned char *p = (unsigned char *)copy; *p; p++)
		if (*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static void jset(struct jb *b, json_t *o, const char *key, json_t *v)
{
	if (!o || json_object_set_new(o, key, v) != 0)
		b->ok = false;
}

static void jappend(struct jb *b, json_t *a, json_t *v)
{
	if (!a || json_array_append_new(a, v) != 0)
		b->ok = false;
}

static json_t *programs_json(struct jb *b, const struct ev_catalog *c)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < c->n_programs; i++) {
		json_t *p = json_object();
		jset(b, p, "id", jstr(c->programs[i].id));
		jset(b, p, "title", jstr(c->programs[i].title));
		jset(b, p, "version", jstr(c->programs[i].version));
		jappend(b, arr, p);
	}
	return arr;
}

static json_t *probes_json(struct jb *b, const struct ev_control *ctl)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < ctl->n_probes; i++)
		jappend(b, arr, jstr(ctl->probes[i]));
	return arr;
}

static json_t *bound_json(struct jb *b, const struct ev_control_bound *bd)
{
	json_t *o = json_object();
	jset(b, o, "threshold", jstr(ev_threshold_name(bd->threshold)));
	jset(b, o, bd->at_most ? "at_most" : "at_least",
	     json_integer(bd->value));
	return o;
}

static json_t *control_json(struct jb *b, const struct ev_control *ctl)
{
	json_t *o = json_object();
	jset(b, o, "id", jstr(ctl->id));
	jset(b, o, "program", jstr(ctl->program));
	jset(b, o, "number", jstr(ctl->number));
	jset(b, o, "title", jstr(ctl->title));
	jset(b, o, "requirement", jstr(ctl->requirement));
	jset(b, o, "evidence", jstr(ctl->evidence));
	jset(b, o, "probes", probes_json(b, ctl));
	jset(b, o, "documents_required", json_boolean(ctl->documents_required));
	if (ctl->documents)
		jset(b, o, "documents", jstr(ctl->documents));
	json_t *bounds = json_array();
	for (size_t i = 0; i < ctl->n_bounds; i++)
		jappend(b, bounds, bound_json(b, &ctl->bounds[i]));
	jset(b, o, "bounds", bounds);
	return o;
}

json_t *ev_catalog_json(const struct ev_catalog *c)
{
	struct jb b = {true};
	json_t *o = json_object();
	jset(&b, o, "source", jstr(c->source));
	jset(&b, o, "sha256", jstr(c->sha256));
	jset(&b, o, "catalog_version", json_integer(CATALOG_VERSION));
	jset(&b, o, "programs", programs_json(&b, c));
	json_t *arr = json_array();
	for (size_t i = 0; i < c->n_controls; i++)
		jappend(&b, arr, control_json(&b, &c->controls[i]));
	jset(&b, o, "controls", arr);
	if (!b.ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- Verdicts ---------------------------------------------------------- */

/* A failing or error finding kept for the report, or a failed account or
 * region (probe NULL). */
struct entry {
	char account[EV_ACCOUNT_ID_LEN + 1];
	char region[EV_REGION_MAX];
	const char *probe; /* the table's static id */
	char *resource;
	char *reason;
	char error_code[EV_ERROR_CODE_MAX];
	char request_id[EV_ERROR_RID_MAX];
};

struct entries {
	struct entry *items; /* EV_VERDICTS_LIST_CAP, allocated on first use */
	size_t n;	     /* kept */
	size_t total;	     /* kept and left out */
};

/* An account examined for a control, with a bit per region of the run's
 * region table. */
struct examined {
	char account[EV_ACCOUNT_ID_LEN + 1];
	uint64_t regions;
};

struct document {
	char *path;
	char sha256[EV_SHA256_HEX_LEN + 1];
	uint64_t bytes;
};

struct control_state {
	const struct ev_control *c; /* view into the verdicts' own catalog */
	uint32_t mask;
	bool regional; /* some probe of it runs per region */
	size_t counts[EV_STATUS_COUNT_];
	struct entries failing, errors;
	/* Appended as findings arrive, sorted and merged when it doubles:
	 * one hand-over per account keeps it one entry per account. */
	struct examined *accounts;
	size_t n_accounts, cap_accounts, merge_at;
	struct document *docs;
	size_t n_docs;
};

struct skip {
	char account[EV_ACCOUNT_ID_LEN + 1];
	char region[EV_REGION_MAX];
	bool is_region; /* false: the whole account */
	char *reason;
	bool failed;
};

struct ev_verdicts {
	pthread_mutex_t lock;
	struct ev_catalog *cat;
	struct control_state *cs;
	size_t n;
	int thresholds[EV_THRESHOLD_COUNT_];
	char regions[VERDICTS_MAX_REGIONS][EV_REGION_MAX];
	size_t n_regions;
	struct skip *skips;
	size_t n_skips, cap_skips, skips_left_out;
	size_t accounts_skipped, accounts_failed; /* totals */
	size_t regions_skipped, regions_failed;
};

static void entries_cleanup(struct entries *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->items[i].resource);
		free(e->items[i].reason);
	}
	free(e->items);
	memset(e, 0, sizeof(*e));
}

void ev_verdicts_free(struct ev_verdicts *v)
{
	if (!v)
		return;
	for (size_t i = 0; v->cs && i < v->n; i++) {
		struct control_state *cs = &v->cs[i];
		entries_cleanup(&cs->failing);
		entries_cleanup(&cs->errors);
		free(cs->accounts);
		for (size_t d = 0; d < cs->n_docs; d++)
			free(cs->docs[d].path);
		free(cs->docs);
	}
	free(v->cs);
	for (size_t i = 0; i < v->n_skips; i++)
		free(v->skips[i].reason);
	free(v->skips);
	ev_catalog_free(v->cat);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

/* SHA-256 of a document, streamed. */
static enum ev_err hash_document(const char *control, const char *path,
				 struct document *d, struct ev_error *err)
{
	enum ev_err rc = EV_OK;
	EVP_MD_CTX *md = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return ev_error_set(err, EV_E_CONFIG,
				    "[controls] documents: %s: %s: %s", control,
				    path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = ev_error_set(err, EV_E_CONFIG,
				  "[controls] documents: %s: %s is not a "
				  "regular file",
				  control, path);
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
		goto out;
	}
	unsigned char buf[65536];
	uint64_t total = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = ev_error_set(err, EV_E_CONFIG,
					  "[controls] documents: %s: %s: %s",
					  control, path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		total += (uint64_t)r;
		if (total > DOCUMENT_MAX_BYTES) {
			rc = ev_error_set(err, EV_E_CONFIG,
					  "[controls] documents: %s: %s is "
					  "larger than 1 GiB",
					  control, path);
			goto out;
		}
		if (EVP_DigestUpdate(md, buf, (size_t)r) != 1) {
			rc = ev_error_set(err, EV_E_INTERNAL, "SHA-256 failed");
			goto out;
		}
	}
	unsigned char digest[EV_SHA256_LEN];
	unsigned int dlen = 0;
	if (EVP_DigestFinal_ex(md, digest, &dlen) != 1 ||
	    dlen != EV_SHA256_LEN) {
		rc = ev_error_set(err, EV_E_INTERNAL, "SHA-256 failed");
		goto out;
	}
	ev_hex_encode(digest, EV_SHA256_LEN, d->sha256);
	d->bytes = total;
	d->path = ev_strdup(path);
	if (!d->path)
		rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
out:
	EVP_MD_CTX_free(md);
	close(fd);
	return rc;
}

static enum ev_err attach_documents(struct ev_verdicts *v,
				    const struct ev_config *cfg,
				    struct ev_error *err)
{
	const struct ev_config_controls *cc = &cfg->controls;
	for (size_t i = 0; i < cc->n_documents; i++) {
		const char *id = cc->documents[i].control;
		struct control_state *cs = NULL;
		for (size_t k = 0; k < v->n && !cs; k++)
			if (strcmp(v->cs[k].c->id, id) == 0)
				cs = &v->cs[k];
		EV_ENSURE_E(err, cs != NULL, EV_E_CONFIG,
			    "[controls] documents: %.64s is not a control of "
			    "the catalog (`evident controls` lists them)",
			    id);
		struct document *grown =
		    reallocarray(cs->docs, cs->n_docs + 1, sizeof(*grown));
		EV_ENSURE_E(err, grown, EV_E_NOMEM, "out of memory");
		cs->docs = grown;
		struct document *d = &cs->docs[cs->n_docs];
		memset(d, 0, sizeof(*d));
		EV_TRY(hash_document(id, cc->documents[i].path, d, err));
		cs->n_docs++;
	}
	return EV_OK;
}

static enum ev_err verdicts_build(struct ev_verdicts *v,
				  const struct ev_catalog *cat,
				  const struct ev_config *cfg,
				  struct ev_error *err)
{
	/* An own copy of the catalog, so lifetimes never cross. */
	char *text = malloc(cat->len + 1);
	EV_ENSURE_E(err, text, EV_E_NOMEM, "out of memory");
	memcpy(text, cat->text, cat->len);
	text[cat->len] = '\0';
	EV_TRY(catalog_new(cat->source, text, cat->len, &v->cat, err));
	v->n = v->cat->n_controls;
	v->cs = calloc(v->n, sizeof(*v->cs));
	EV_ENSURE_E(err, v->cs, EV_E_NOMEM, "out of memory");
	for (size_t i = 0; i < v->n; i++) {
		struct control_state *cs = &v->cs[i];
		cs->c = &v->cat->controls[i];
		cs->mask = v->cat->masks[i];
		for (size_t p = 0; p < EV_PROBE_COUNT_; p++)
			if ((cs->mask & (1u << p)) &&
			    ev_probes()[p].scope == EV_SCOPE_REGION)
				cs->regional = true;
	}
	for (int t = 0; t < EV_THRESHOLD_COUNT_; t++)
		v->thresholds[t] =
		    ev_threshold_value(cfg, (enum ev_threshold)t);
	return attach_documents(v, cfg, err);
}

enum ev_err ev_verdicts_new(const struct ev_catalog *cat,
			    const struct ev_config *cfg,
			    struct ev_verdicts **out, struct ev_error *err)
{
	*out = NULL;
	struct ev_verdicts *v = calloc(1, sizeof(*v));
	EV_ENSURE_E(err, v, EV_E_NOMEM, "out of memory");
	if (pthread_mutex_init(&v->lock, NULL) != 0) {
		free(v);
		return ev_error_set(err, EV_E_NOMEM, "no mutex");
	}
	enum ev_err rc = verdicts_build(v, cat, cfg, err);
	if (rc != EV_OK) {
		ev_verdicts_free(v);
		return rc;
	}
	*out = v;
	return EV_OK;
}

/* Index of region in the run's table, adding it; -1 when full. */
static int region_index(struct ev_verdicts *v, const char *region)
{
	for (size_t i = 0; i < v->n_regions; i++)
		if (strcmp(v->regions[i], region) == 0)
			return (int)i;
	if (v->n_regions == VERDICTS_MAX_REGIONS)
		return -1;
	snprintf(v->regions[v->n_regions], EV_REGION_MAX, "%s", region);
	return (int)v->n_regions++;
}

static enum ev_err entries_add(struct entries *e, const char *account,
			       const char *region, const char *probe,
			       const char *resource, const char *reason,
			       const char *error_code, const char *request_id)
{
	e->total++;
	if (e->n == EV_VERDICTS_LIST_CAP)
		return EV_OK;
	if (!e->items) {
		e->items = calloc(EV_VERDICTS_LIST_CAP, sizeof(*e->items));
		EV_ENSURE(e->items, EV_E_NOMEM);
	}
	struct entry *x = &e->items[e->n];
	memset(x, 0, sizeof(*x));
	snprintf(x->account, sizeof(x->account), "%s", account ? account : "");
	snprintf(x->region, sizeof(x->region), "%s", region ? region : "");
	x->probe = probe;
	x->resource = ev_strdup(resource ? resource : "");
	x->reason = ev_strdup(reason ? reason : "");
	if (!x->resource || !x->reason) {
		free(x->resource);
		free(x->reason);
		return EV_E_NOMEM;
	}
	snprintf(x->error_code, sizeof(x->error_code), "%s",
		 error_code ? error_code : "");
	snprintf(x->request_id, sizeof(x->request_id), "%s",
		 request_id ? request_id : "");
	e->n++;
	return EV_OK;
}

static int examined_cmp(const void *a, const void *b)
{
	return strcmp(((const struct examined *)a)->account,
		      ((const struct examined *)b)->account);
}

/* Sorts and merges duplicate accounts (their region bits OR'ed). */
static size_t examined_merge(struct examined *a, size_t n)
{
	if (n < 2)
		return n;
	qsort(a, n, sizeof(*a), examined_cmp);
	size_t w = 0;
	for (size_t i = 1; i < n; i++) {
		if (strcmp(a[w].account, a[i].account) == 0)
			a[w].regions |= a[i].regions;
		else
			a[++w] = a[i];
	}
	return w + 1;
}

static enum ev_err examined_add(struct control_state *cs, const char *account,
				uint64_t region_bit)
{
	if (cs->n_accounts > 0 &&
	    strcmp(cs->accounts[cs->n_accounts - 1].account, account) == 0) {
		cs->accounts[cs->n_accounts - 1].regions |= region_bit;
		return EV_OK;
	}
	if (cs->n_accounts == cs->cap_accounts) {
		size_t cap = cs->cap_accounts ? cs->cap_accounts * 2 : 16;
		struct examined *grown =
		    reallocarray(cs->accounts, cap, sizeof(*grown));
		EV_ENSURE(grown, EV_E_NOMEM);
		cs->accounts = grown;
		cs->cap_accounts = cap;
	}
	struct examined *x = &cs->accounts[cs->n_accounts++];
	memset(x, 0, sizeof(*x));
	snprintf(x->account, sizeof(x->account), "%s", account);
	x->regions = region_bit;
	if (cs->n_accounts >= cs->merge_at) {
		cs->n_accounts = examined_merge(cs->accounts, cs->n_accounts);
		cs->merge_at = cs->n_accounts * 2 + 64;
	}
	return EV_OK;
}

static enum ev_err add_locked(struct ev_verdicts *v,
			      const struct ev_findings *f)
{
	/* Checked before anything is counted: a finding no probe made is a
	 * bug upstream, and half a hand-over would skew every count. */
	for (size_t i = 0; i < f->n; i++) {
		const struct ev_finding *x = &f->items[i];
		if (!x->probe_id || probe_index(x->probe_id) < 0)
			return EV_E_INTERNAL;
		if ((int)x->status < 0 || x->status >= EV_STATUS_COUNT_)
			return EV_E_INTERNAL;
		if (x->region[0] && region_index(v, x->region) < 0)
			return EV_E_LIMIT;
	}
	for (size_t i = 0; i < f->n; i++) {
		const struct ev_finding *x = &f->items[i];
		int p = probe_index(x->probe_id);
		const struct ev_probe *probe = &ev_probes()[p];
		uint64_t bit = 0;
		if (probe->scope == EV_SCOPE_REGION && x->region[0])
			bit = 1ull << region_index(v, x->region);
		for (size_t k = 0; k < v->n; k++) {
			struct control_state *cs = &v->cs[k];
			if (!(cs->mask & (1u << p)))
				continue;
			cs->counts[x->status]++;
			if (x->status == EV_STATUS_FAIL)
				EV_TRY(entries_add(&cs->failing, x->account,
						   x->region, probe->id,
						   x->resource, x->reason, NULL,
						   NULL));
			if (x->status == EV_STATUS_ERROR)
				EV_TRY(entries_add(
				    &cs->errors, x->account, x->region,
				    probe->id, x->resource, x->reason,
				    x->error_code, x->request_id));
			/* Examined means evidence came back from there. */
			if (x->status != EV_STATUS_ERROR && x->account[0])
				EV_TRY(examined_add(cs, x->account, bit));
		}
	}
	return EV_OK;
}

enum ev_err ev_verdicts_add(struct ev_verdicts *v, const struct ev_findings *f)
{
	pthread_mutex_lock(&v->lock);
	enum ev_err rc = add_locked(v, f);
	pthread_mutex_unlock(&v->lock);
	return rc;
}

static enum ev_err skip_locked(struct ev_verdicts *v, const char *account,
			       const char *region, const char *reason,
			       bool failed)
{
	const char *why = reason && reason[0] ? reason : "no reason given";
	size_t *total =
	    region ? (failed ? &v->regions_failed : &v->regions_skipped)
		   : (failed ? &v->accounts_failed : &v->accounts_skipped);
	(*total)++;
	if (failed) {
		for (size_t k = 0; k < v->n; k++) {
			struct control_state *cs = &v->cs[k];
			if (region && !cs->regional)
				continue;
			EV_TRY(entries_add(&cs->errors, account, region, NULL,
					   "", why, NULL, NULL));
		}
	}
	if (v->n_skips == VERDICTS_MAX_SKIPS) {
		v->skips_left_out++;
		return EV_OK;
	}
	if (v->n_skips == v->cap_skips) {
		size_t cap = v->cap_skips ? v->cap_skips * 2 : 16;
		struct skip *grown =
		    reallocarray(v->skips, cap, sizeof(*grown));
		EV_ENSURE(grown, EV_E_NOMEM);
		v->skips = grown;
		v->cap_skips = cap;
	}
	struct skip *s = &v->skips[v->n_skips];
	memset(s, 0, sizeof(*s));
	snprintf(s->account, sizeof(s->account), "%s", account ? account : "");
	snprintf(s->region, sizeof(s->region), "%s", region ? region : "");
	s->is_region = region != NULL;
	s->failed = failed;
	s->reason = ev_strdup(why);
	EV_ENSURE(s->reason, EV_E_NOMEM);
	v->n_skips++;
	return EV_OK;
}

static enum ev_err skip(struct ev_verdicts *v, const char *account,
			const char *region, const char *reason, bool failed)
{
	pthread_mutex_lock(&v->lock);
	enum ev_err rc = skip_locked(v, account, region, reason, failed);
	pthread_mutex_unlock(&v->lock);
	return rc;
}

enum ev_err ev_verdicts_skip_account(struct ev_verdicts *v, const char *account,
				     const char *reason)
{
	return skip(v, account, NULL, reason, false);
}

enum ev_err ev_verdicts_skip_region(struct ev_verdicts *v, const char *account,
				    const char *region, const char *reason)
{
	return skip(v, account, region ? region : "", reason, false);
}

enum ev_err ev_verdicts_fail_account(struct ev_verdicts *v, const char *account,
				     const char *reason)
{
	return skip(v, account, NULL, reason, true);
}

enum ev_err ev_verdicts_fail_region(struct ev_verdicts *v, const char *account,
				    const char *region, const char *reason)
{
	return skip(v, account, region ? region : "", reason, true);
}

/* ---- Judging ----------------------------------------------------------- */

struct judgement {
	enum ev_verdict verdict;
	bool loose;
	size_t n_reasons;
	char reasons[REASONS_MAX][EV_VERDICT_REASON_MAX];
};

static void reason_add(struct judgement *j, const char *fmt, ...)
    EV_PRINTF(2, 3);

static void reason_add(struct judgement *j, const char *fmt, ...)
{
	if (j->n_reasons == REASONS_MAX)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->reasons[j->n_reasons++], EV_VERDICT_REASON_MAX, fmt, ap);
	va_end(ap);
}

/* "111111111111/eu-west-1, 222222222222 and more": the first distinct
 * places of a list. */
static void places(char *out, size_t n, const struct entries *e)
{
	size_t used = 0, shown = 0;
	out[0] = '\0';
	for (size_t i = 0; i < e->n && used < n; i++) {
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen =
			    strcmp(e->items[k].account, e->items[i].account) ==
				0 &&
			    strcmp(e->items[k].region, e->items[i].region) == 0;
		if (seen)
			continue;
		if (shown == 4) {
			snprintf(out + used, n - used, " and more");
			return;
		}
		int w = snprintf(
		    out + used, n - used, "%s%s%s%s", shown ? ", " : "",
		    e->items[i].account[0] ? e->items[i].account
					   : "(no account)",
		    e->items[i].region[0] ? "/" : "", e->items[i].region);
		if (w < 0)
			return;
		used += (size_t)w;
		shown++;
	}
}

static size_t total_findings(const struct control_state *cs)
{
	size_t t = 0;
	for (int s = 0; s < EV_STATUS_COUNT_; s++)
		t += cs->counts[s];
	return t;
}

static bool bound_loose(const struct ev_verdicts *v,
			const struct ev_control_bound *b)
{
	int have = v->thresholds[b->threshold];
	return b->at_most ? have > b->value : have < b->value;
}

static void judge(const struct ev_verdicts *v, const struct control_state *cs,
		  struct judgement *j)
{
	memset(j, 0, sizeof(*j));
	const struct ev_control *c = cs->c;
	size_t total = total_findings(cs);
	size_t fails = cs->counts[EV_STATUS_FAIL];
	size_t errors = cs->errors.total;
	char where[300];

	for (size_t i = 0; i < c->n_bounds; i++)
		if (bound_loose(v, &c->bounds[i]))
			j->loose = true;

	if (fails > 0) {
		j->verdict = EV_VERDICT_NOT_MET;
		const struct entry *first =
		    cs->failing.n ? &cs->failing.items[0] : NULL;
		if (first)
			reason_add(j,
				   "%zu of %zu findings fail; first: %s%s%s "
				   "%s: %s",
				   fails, total, first->account,
				   first->region[0] ? "/" : "", first->region,
				   first->resource, first->reason);
		else
			reason_add(j, "%zu of %zu findings fail", fails, total);
	} else if (j->loose) {
		j->verdict = EV_VERDICT_NOT_MET;
	} else if (errors > 0) {
		j->verdict = EV_VERDICT_ERROR;
	} else if (total == 0) {
		j->verdict = EV_VERDICT_ERROR;
		char probes[256] = "";
		size_t used = 0;
		for (size_t i = 0; i < c->n_probes && used < sizeof(probes);
		     i++) {
			int w = snprintf(probes + used, sizeof(probes) - used,
					 "%s%s", i ? ", " : "", c->probes[i]);
			if (w < 0)
				break;
			used += (size_t)w;
		}
		reason_add(j, "no evidence: no finding from %s", probes);
	} else if (c->documents_required && cs->n_docs == 0) {
		j->verdict = EV_VERDICT_PARTIAL;
		reason_add(j,
			   "machine evidence met (%zu finding%s); documents "
			   "required: %s",
			   total, total == 1 ? "" : "s", c->documents);
	} else {
		j->verdict = EV_VERDICT_MET;
		reason_add(j,
			   "every finding passes (%zu pass, %zu warn, %zu not "
			   "applicable)",
			   cs->counts[EV_STATUS_PASS],
			   cs->counts[EV_STATUS_WARN],
			   cs->counts[EV_STATUS_NOT_APPLICABLE]);
	}

	/* Further reasons, whatever the verdict, so nothing is hidden. */
	for (size_t i = 0; i < c->n_bounds; i++) {
		const struct ev_control_bound *b = &c->bounds[i];
		if (bound_loose(v, b))
			reason_add(j,
				   "configured %s %d is looser than the "
				   "required %d",
				   ev_threshold_name(b->threshold),
				   v->thresholds[b->threshold], b->value);
	}
	if (errors > 0) {
		places(where, sizeof(where), &cs->errors);
		reason_add(j,
			   "evidence could not be collected: %zu error%s in "
			   "%s",
			   errors, errors == 1 ? "" : "s", where);
	}
	if (j->verdict != EV_VERDICT_PARTIAL && c->documents_required &&
	    cs->n_docs == 0)
		reason_add(j, "documents required, none attached: %s",
			   c->documents);
	if (cs->counts[EV_STATUS_WARN] > 0 && j->verdict != EV_VERDICT_MET)
		reason_add(j, "%zu warning%s (not failing)",
			   cs->counts[EV_STATUS_WARN],
			   cs->counts[EV_STATUS_WARN] == 1 ? "" : "s");
}

static size_t control_index(const struct ev_verdicts *v, const char *id)
{
	for (size_t i = 0; id && i < v->n; i++)
		if (strcmp(v->cs[i].c->id, id) == 0)
			return i;
	return v->n;
}

/* A sorted, merged copy of the accounts examined (the caller frees it);
 * NULL with *n = 0 when there are none or on allocation failure (then
 * *ok is false). */
static struct examined *examined_copy(const struct control_state *cs, size_t *n,
				      bool *ok)
{
	*n = 0;
	if (cs->n_accounts == 0)
		return NULL;
	struct examined *a = calloc(cs->n_accounts, sizeof(*a));
	if (!a) {
		*ok = false;
		return NULL;
	}
	memcpy(a, cs->accounts, cs->n_accounts * sizeof(*a));
	*n = examined_merge(a, cs->n_accounts);
	return a;
}

static size_t skips_of(const struct ev_verdicts *v,
		       const struct control_state *cs, bool regions)
{
	if (regions)
		return cs->regional ? v->regions_skipped + v->regions_failed
				    : 0;
	return v->accounts_skipped + v->accounts_failed;
}

enum ev_err ev_verdicts_summary(const struct ev_verdicts *v,
				const char *control_id,
				struct ev_verdict_summary *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock((pthread_mutex_t *)&v->lock);
	size_t k = control_index(v, control_id);
	enum ev_err rc = EV_OK;
	if (k == v->n) {
		rc = EV_E_NOT_FOUND;
		goto out;
	}
	const struct control_state *cs = &v->cs[k];
	struct judgement j;
	judge(v, cs, &j);
	out->verdict = j.verdict;
	memcpy(out->counts, cs->counts, sizeof(out->counts));
	out->failing = cs->failing.total;
	out->failing_listed = cs->failing.n;
	out->errors = cs->errors.total;
	out->errors_listed = cs->errors.n;
	bool ok = true;
	size_t n;
	struct examined *a = examined_copy(cs, &n, &ok);
	if (!ok) {
		rc = EV_E_NOMEM;
		goto out;
	}
	out->accounts_examined = n;
	for (size_t i = 0; i < n; i++)
		out->account_regions_examined +=
		    (size_t)__builtin_popcountll(a[i].regions);
	free(a);
	out->accounts_skipped = skips_of(v, cs, false);
	out->regions_skipped = skips_of(v, cs, true);
	out->thresholds_loose = j.loose;
	out->documents_attached = cs->n_docs;
	snprintf(out->reason, sizeof(out->reason), "%s",
		 j.n_reasons ? j.reasons[0] : "");
out:
	pthread_mutex_unlock((pthread_mutex_t *)&v->lock);
	return rc;
}

static bool incomplete(const struct control_state *cs)
{
	return cs->errors.total > 0 || total_findings(cs) == 0;
}

static int exit_code_locked(const struct ev_verdicts *v)
{
	bool not_met = false;
	for (size_t i = 0; i < v->n; i++) {
		if (incomplete(&v->cs[i]))
			return EV_EXIT_INCOMPLETE;
		struct judgement j;
		judge(v, &v->cs[i], &j);
		if (j.verdict == EV_VERDICT_NOT_MET)
			not_met = true;
	}
	return not_met ? EV_EXIT_NOT_MET : EV_EXIT_OK;
}

int ev_verdicts_exit_code(const struct ev_verdicts *v)
{
	pthread_mutex_lock((pthread_mutex_t *)&v->lock);
	int rc = exit_code_locked(v);
	pthread_mutex_unlock((pthread_mutex_t *)&v->lock);
	return rc;
}

static json_t *entries_json(struct jb *b, const struct entries *e, bool errors)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < e->n; i++) {
		const struct entry *x = &e->items[i];
		json_t *o = json_object();
		jset(b, o, "account", jstr(x->account));
		jset(b, o, "region",
		     x->region[0] ? jstr(x->region) : json_null());
		jset(b, o, "probe", x->probe ? jstr(x->probe) : json_null());
		jset(b, o, "resource", jstr(x->resource));
		jset(b, o, "reason", jstr(x->reason));
		if (errors) {
			jset(b, o, "error_code",
			     x->error_code[0] ? jstr(x->error_code)
					      : json_null());
			jset(b, o, "request_id",
			     x->request_id[0] ? jstr(x->request_id)
					      : json_null());
		}
		jappend(b, arr, o);
	}
	return arr;
}

static json_t *counts_json(struct jb *b, const size_t *counts)
{
	json_t *o = json_object();
	for (int s = 0; s < EV_STATUS_COUNT_; s++)
		jset(b, o, ev_status_name((enum ev_status)s),
		     json_integer((json_int_t)counts[s]));
	return o;
}

static json_t *coverage_json(struct jb *b, const struct ev_verdicts *v,
			     const struct control_state *cs)
{
	json_t *o = json_object();
	size_t n = 0, pairs = 0;
	uint64_t regions = 0;
	struct examined *a = examined_copy(cs, &n, &b->ok);
	json_t *accounts = json_array();
	for (size_t i = 0; i < n; i++) {
		jappend(b, accounts, jstr(a[i].account));
		pairs += (size_t)__builtin_popcountll(a[i].regions);
		regions |= a[i].regions;
	}
	free(a);
	jset(b, o, "accounts_examined", json_integer((json_int_t)n));
	jset(b, o, "accounts", accounts);
	if (cs->regional) {
		json_t *names = json_array();
		for (size_t r = 0; r < v->n_regions; r++)
			if (regions & (1ull << r))
				jappend(b, names, jstr(v->regions[r]));
		jset(b, o, "regions", names);
		jset(b, o, "account_regions_examined",
		     json_integer((json_int_t)pairs));
		jset(b, o, "regions_skipped",
		     json_integer((json_int_t)v->regions_skipped));
		jset(b, o, "regions_failed",
		     json_integer((json_int_t)v->regions_failed));
	}
	jset(b, o, "accounts_skipped",
	     json_integer((json_int_t)v->accounts_skipped));
	jset(b, o, "accounts_failed",
	     json_integer((json_int_t)v->accounts_failed));
	return o;
}

static json_t *bounds_json(struct jb *b, const struct ev_verdicts *v,
			   const struct ev_control *c)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < c->n_bounds; i++) {
		const struct ev_control_bound *bd = &c->bounds[i];
		json_t *o = bound_json(b, bd);
		jset(b, o, "configured",
		     json_integer(v->thresholds[bd->threshold]));
		jset(b, o, "within", json_boolean(!bound_loose(v, bd)));
		jappend(b, arr, o);
	}
	return arr;
}

static json_t *documents_json(struct jb *b, const struct control_state *cs)
{
	json_t *o = json_object();
	jset(b, o, "required", json_boolean(cs->c->documents_required));
	if (cs->c->documents)
		jset(b, o, "what", jstr(cs->c->documents));
	json_t *arr = json_array();
	for (size_t i = 0; i < cs->n_docs; i++) {
		json_t *d = json_object();
		jset(b, d, "path", jstr(cs->docs[i].path));
		jset(b, d, "sha256", jstr(cs->docs[i].sha256));
		jset(b, d, "size", json_integer((json_int_t)cs->docs[i].bytes));
		jappend(b, arr, d);
	}
	jset(b, o, "attached", arr);
	return o;
}

static json_t *verdict_json(struct jb *b, const struct ev_verdicts *v,
			    const struct control_state *cs)
{
	const struct ev_control *c = cs->c;
	struct judgement j;
	judge(v, cs, &j);
	json_t *o = json_object();
	jset(b, o, "id", jstr(c->id));
	jset(b, o, "program", jstr(c->program));
	jset(b, o, "number", jstr(c->number));
	jset(b, o, "title", jstr(c->title));
	jset(b, o, "verdict", jstr(ev_verdict_name(j.verdict)));
	json_t *reasons = json_array();
	for (size_t i = 0; i < j.n_reasons; i++)
		jappend(b, reasons, jstr(j.reasons[i]));
	jset(b, o, "reasons", reasons);
	jset(b, o, "probes", probes_json(b, c));
	jset(b, o, "counts", counts_json(b, cs->counts));
	jset(b, o, "failing", entries_json(b, &cs->failing, false));
	jset(b, o, "failing_left_out",
	     json_integer((json_int_t)(cs->failing.total - cs->failing.n)));
	jset(b, o, "errors", entries_json(b, &cs->errors, true));
	jset(b, o, "errors_left_out",
	     json_integer((json_int_t)(cs->errors.total - cs->errors.n)));
	jset(b, o, "coverage", coverage_json(b, v, cs));
	jset(b, o, "bounds", bounds_json(b, v, c));
	jset(b, o, "documents", documents_json(b, cs));
	return o;
}

static json_t *skips_json(struct jb *b, const struct ev_verdicts *v,
			  bool regions)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < v->n_skips; i++) {
		const struct skip *s = &v->skips[i];
		if (s->is_region != regions)
			continue;
		json_t *o = json_object();
		jset(b, o, "account", jstr(s->account));
		if (regions)
			jset(b, o, "region", jstr(s->region));
		jset(b, o, "reason", jstr(s->reason));
		jset(b, o, "error", json_boolean(s->failed));
		jappend(b, arr, o);
	}
	return arr;
}

static json_t *json_locked(const struct ev_verdicts *v)
{
	struct jb b = {true};
	json_t *o = json_object();

	json_t *cat = json_object();
	jset(&b, cat, "source", jstr(v->cat->source));
	jset(&b, cat, "sha256", jstr(v->cat->sha256));
	jset(&b, cat, "programs", programs_json(&b, v->cat));
	jset(&b, o, "catalog", cat);

	json_t *th = json_object();
	for (int t = 0; t < EV_THRESHOLD_COUNT_; t++)
		jset(&b, th, threshold_names[t],
		     json_integer(v->thresholds[t]));
	jset(&b, o, "thresholds", th);

	json_t *cov = json_object();
	jset(&b, cov, "accounts_skipped", skips_json(&b, v, false));
	jset(&b, cov, "regions_skipped", skips_json(&b, v, true));
	jset(&b, cov, "skips_left_out",
	     json_integer((json_int_t)v->skips_left_out));
	jset(&b, o, "coverage", cov);

	size_t by[EV_VERDICT_COUNT_] = {0};
	json_t *controls = json_array();
	for (size_t i = 0; i < v->n; i++) {
		struct judgement j;
		judge(v, &v->cs[i], &j);
		by[j.verdict]++;
		jappend(&b, controls, verdict_json(&b, v, &v->cs[i]));
	}
	json_t *sum = json_object();
	for (int k = 0; k < EV_VERDICT_COUNT_; k++)
		jset(&b, sum, verdict_names[k],
		     json_integer((json_int_t)by[k]));
	jset(&b, sum, "exit_code", json_integer(exit_code_locked(v)));
	jset(&b, o, "summary", sum);
	jset(&b, o, "controls", controls);
	if (!b.ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *ev_verdicts_json(const struct ev_verdicts *v)
{
	pthread_mutex_lock((pthread_mutex_t *)&v->lock);
	json_t *o = json_locked(v);
	pthread_mutex_unlock((pthread_mutex_t *)&v->lock);
	return o;
}

json_t *ev_verdicts_documents_json(const struct ev_verdicts *v)
{
	struct jb b = {true};
	json_t *arr = json_array();
	/* No lock: documents are fixed once ev_verdicts_new returns. */
	for (size_t k = 0; k < v->n; k++) {
		const struct control_state *cs = &v->cs[k];
		for (size_t i = 0; i < cs->n_docs; i++) {
			const struct document *d = &cs->docs[i];
			json_t *o = json_object();
			jset(&b, o, "control", jstr(cs->c->id));
			jset(&b, o, "path", jstr(d->path));
			jset(&b, o, "sha256", jstr(d->sha256));
			jset(&b, o, "size", json_integer((json_int_t)d->bytes));
			jappend(&b, arr, o);
		}
	}
	if (!b.ok) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* ---- The table --------------------------------------------------------- */

/* Writes at most max bytes of s, control bytes as '?', never cutting a
 * UTF-8 sequence; returns the columns used (one per character). */
static size_t put_text(FILE *out, const char *s, size_t max)
{
	size_t i = 0, cols = 0;
	while (s[i]) {
		size_t len = 1;
		unsigned char c = (unsigned char)s[i];
		if (c >= 0xc0)
			while (len < 4 &&
			       ((unsigned char)s[i + len] & 0xc0) == 0x80)
				len++;
		if (i + len > max)
			break;
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xc0))
			fputc('?', out);
		else
			fwrite(s + i, 1, len, out);
		i += len;
		cols++;
	}
	return cols;
}

static const char *verdict_color(enum ev_verdict v)
{
	switch (v) {
	case EV_VERDICT_MET:
		return "\033[32m";
	case EV_VERDICT_NOT_MET:
		return "\033[31m";
	case EV_VERDICT_PARTIAL:
		return "\033[33m";
	case EV_VERDICT_ERROR:
		return "\033[35m";
	case EV_VERDICT_COUNT_:
	default:
		return "";
	}
}

#define TITLE_MAX 56

static void print_locked(const struct ev_verdicts *v, FILE *out, bool color)
{
	size_t by[EV_VERDICT_COUNT_] = {0};
	fprintf(out, "%-8s %-12s %-8s %6s %6s %6s %6s  %s\n", "PROGRAM",
		"CONTROL", "VERDICT", "PASS", "FAIL", "WARN", "ERROR", "TITLE");
	for (size_t i = 0; i < v->n; i++) {
		const struct control_state *cs = &v->cs[i];
		struct judgement j;
		judge(v, cs, &j);
		by[j.verdict]++;
		fprintf(out, "%-8s %-12s ", cs->c->program, cs->c->id);
		const char *name = ev_verdict_name(j.verdict);
		if (color)
			fprintf(out, "%s%-8s\033[0m", verdict_color(j.verdict),
				name);
		else
			fprintf(out, "%-8s", name);
		fprintf(out, " %6zu %6zu %6zu %6zu  ",
			cs->counts[EV_STATUS_PASS], cs->counts[EV_STATUS_FAIL],
			cs->counts[EV_STATUS_WARN], cs->errors.total);
		put_text(out, cs->c->title, TITLE_MAX);
		if (strlen(cs->c->title) > TITLE_MAX)
			fputs("...", out);
		fputc('\n', out);
	}
	fprintf(out,
		"\n%zu controls: %zu met, %zu not met, %zu partial, %zu "
		"error\n",
		v->n, by[EV_VERDICT_MET], by[EV_VERDICT_NOT_MET],
		by[EV_VERDICT_PARTIAL], by[EV_VERDICT_ERROR]);

	bool header = false;
	for (size_t i = 0; i < v->n; i++) {
		const struct control_state *cs = &v->cs[i];
		struct judgement j;
		judge(v, cs, &j);
		if (j.verdict == EV_VERDICT_MET)
			continue;
		if (!header) {
			fputs("\nWhy:\n", out);
			header = true;
		}
		fprintf(out, "  %s %s\n", cs->c->id,
			ev_verdict_name(j.verdict));
		for (size_t r = 0; r < j.n_reasons; r++) {
			fputs("    - ", out);
			put_text(out, j.reasons[r], EV_VERDICT_REASON_MAX);
			fputc('\n', out);
		}
		/* The first failure is in the first reason already. */
		for (size_t f = 1; f < cs->failing.n && f < 4; f++) {
			const struct entry *x = &cs->failing.items[f];
			fprintf(out, "      also %s%s%s ", x->account,
				x->region[0] ? "/" : "", x->region);
			put_text(out, x->resource, 200);
			fputs(": ", out);
			put_text(out, x->reason, 300);
			fputc('\n', out);
		}
		if (cs->failing.total > 4)
			fprintf(out, "      ... and %zu more failing\n",
				cs->failing.total - 4);
	}
}

void ev_verdicts_print_table(const struct ev_verdicts *v, FILE *out, bool color)
{
	pthread_mutex_lock((pthread_mutex_t *)&v->lock);
	print_locked(v, out, color);
	pthread_mutex_unlock((pthread_mutex_t *)&v->lock);
}

/* ---- The IAM policy ---------------------------------------------------- */

static const char *const collector_actions[] = {
    "sts:GetCallerIdentity",
    "sts:AssumeRole",
    "organizations:ListAccounts",
    "ec2:DescribeRegions",
    NULL,
};

const char *const *ev_policy_collector_actions(void)
{
	return collector_actions;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *ev_policy_json(const struct ev_config *cfg, bool member)
{
	const char *actions[256];
	size_t n = 0;
	bool assume = !member && cfg->accounts.source != EV_ACCOUNTS_SELF;
	bool list = !member && cfg->accounts.source == EV_ACCOUNTS_ORGANIZATION;

	for (size_t i = 0; i < EV_PROBE_COUNT_; i++)
		for (const char *const *p = ev_probes()[i].permissions;
		     p && *p && n < COUNT(actions); p++)
			actions[n++] = *p;
	for (const char *const *p = collector_actions; *p; p++) {
		if (strcmp(*p, "sts:AssumeRole") == 0)
			continue; /* its own statement, on the role only */
		if (strcmp(*p, "organizations:ListAccounts") == 0 && !list)
			continue;
		if (n < COUNT(actions))
			actions[n++] = *p;
	}
	qsort(actions, n, sizeof(actions[0]), str_cmp);

	struct jb b = {true};
	json_t *doc = json_object();
	jset(&b, doc, "Version", jstr("2012-10-17"));
	json_t *statements = json_array();
	json_t *read = json_object();
	jset(&b, read, "Sid",
	     jstr(member ? "EvidentMemberReadOnly" : "EvidentReadOnly"));
	jset(&b, read, "Effect", jstr("Allow"));
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(actions[i], actions[i - 1]) != 0)
			jappend(&b, arr, jstr(actions[i]));
	jset(&b, read, "Action", arr);
	jset(&b, read, "Resource", jstr("*"));
	jappend(&b, statements, read);

	if (assume) {
		const char *partition = ev_region_partition(cfg->aws.region);
		struct ev_buf role;
		ev_buf_init(&role, 4096);
		if (ev_buf_printf(&role, "arn:%s:iam::*:role/%s",
				  partition ? partition : "aws",
				  cfg->accounts.role_name) != EV_OK)
			b.ok = false;
		json_t *st = json_object();
		jset(&b, st, "Sid", jstr("EvidentAssumeMemberRole"));
		jset(&b, st, "Effect", jstr("Allow"));
		jset(&b, st, "Action", jstr("sts:AssumeRole"));
		json_t *res = json_array();
		jappend(&b, res, jstr(ev_buf_str(&role)));
		ev_buf_cleanup(&role);
		for (size_t i = 0; i < cfg->accounts.n_list; i++) {
			const char *arn = cfg->accounts.list[i].role_arn;
			bool dup = false;
			for (size_t k = 0; arn && k < i && !dup; k++)
				dup = cfg->accounts.list[k].role_arn &&
				      strcmp(cfg->accounts.list[k].role_arn,
					     arn) == 0;
			if (arn && !dup)
				jappend(&b, res, jstr(arn));
		}
		jset(&b, st, "Resource", res);
		jappend(&b, statements, st);
	}
	jset(&b, doc, "Statement", statements);
	if (!b.ok) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}
