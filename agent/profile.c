#include "profile.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "buf.h"
#include "inifile.h"

struct entry {
	char *key;   /* lower case */
	char *value; /* wiped on free */
	int line;
};

struct section {
	char *name; /* profile name, or "DEFAULT" for the fallbacks */
	int line;   /* of the header */
	bool defaults;
	struct entry *entries;
	size_t n, cap;
};

struct file {
	char *path; /* "" when skipped */
	struct section *sections;
	size_t n, cap;
};

struct ev_profiles {
	struct file files[2]; /* [0] config, [1] credentials */
};

static void section_cleanup(struct section *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->entries[i].key);
		ev_secret_free_str(s->entries[i].value);
	}
	free(s->entries);
	free(s->name);
}

void ev_profile_free(struct ev_profiles *p)
{
	if (!p)
		return;
	for (int f = 0; f < 2; f++) {
		for (size_t i = 0; i < p->files[f].n; i++)
			section_cleanup(&p->files[f].sections[i]);
		free(p->files[f].sections);
		free(p->files[f].path);
	}
	free(p);
}

/* botocore splits "[profile NAME]" with shlex.split (POSIX rules) and keeps
 * the section only if that yields exactly two words; the first need only
 * start with "profile". Writes the second word into out. Returns false when
 * the header is not a profile (one or three words, unbalanced quotes). */
static bool shlex_second_word(const char *s, char *out, size_t out_size)
{
	size_t words = 0, wlen = 0;
	bool in_word = false;
	for (const char *p = s;; p++) {
		char c = *p;
		if (c == '\0' || c == ' ' || c == '\t' || c == '\n' ||
		    c == '\r') {
			if (in_word && ++words == 2)
				out[wlen] = '\0';
			in_word = false;
			wlen = 0;
			if (c == '\0')
				break;
			continue;
		}
		in_word = true;
		if (c == '\'' || c == '"') {
			char quote = c;
			for (p++; *p && *p != quote; p++) {
				char q = *p;
				/* Inside double quotes a backslash escapes only
				 * these, as in sh. */
				if (quote == '"' && q == '\\' &&
				    (p[1] == '"' || p[1] == '\\' ||
				     p[1] == '$' || p[1] == '`'))
					q = *++p;
				if (wlen + 1 >= out_size)
					return false;
				out[wlen++] = q;
			}
			if (*p != quote)
				return false; /* unbalanced: ValueError */
			continue;
		}
		if (c == '\\') {
			if (p[1] == '\0')
				return false;
			c = *++p;
		}
		if (wlen + 1 >= out_size)
			return false;
		out[wlen++] = c;
	}
	return words == 2;
}

struct load_ctx {
	struct ev_profiles *p;
	int f;		     /* file index */
	int cur_header;	     /* section_line of the section being filled */
	struct section *cur; /* NULL: a section that is not a profile */
	/* Raw section names seen in this file, to refuse repeats. */
	char **seen;
	size_t n_seen, cap_seen;
};

static enum ev_err grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return EV_OK;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *q = realloc(*arr, ncap * elem);
	if (!q)
		return EV_E_NOMEM;
	*arr = q;
	*cap = ncap;
	return EV_OK;
}

static enum ev_err open_section(struct load_ctx *c,
				const struct ev_ini_entry *e,
				struct ev_error *err)
{
	c->cur_header = e->section_line;
	c->cur = NULL;
	EV_ENSURE_E(err, e->section_line > 0, EV_E_CONFIG,
		    "%s:%d: key outside a section", e->file, e->line);
	for (size_t i = 0; i < c->n_seen; i++)
		EV_ENSURE_E(err, strcmp(c->seen[i], e->section) != 0,
			    EV_E_CONFIG, "%s:%d: section [%s] repeated",
			    e->file, e->section_line, e->section);
	EV_ENSURE_E(err,
		    grow((void **)&c->seen, &c->cap_seen, c->n_seen,
			 sizeof(*c->seen)) == EV_OK,
		    EV_E_NOMEM, "out of memory");
	c->seen[c->n_seen] = ev_strdup(e->section);
	EV_ENSURE_E(err, c->seen[c->n_seen], EV_E_NOMEM, "out of memory");
	c->n_seen++;

	bool defaults = strcmp(e->section, "DEFAULT") == 0;
	char word[EV_ERROR_MSG_MAX];
	const char *pname = e->section;
	if (!defaults && c->f == 0 && strcmp(e->section, "default") != 0) {
		/* Only [profile NAME] and [default] are config profiles. */
		if (strncmp(e->section, "profile", 7) != 0 ||
		    !shlex_second_word(e->section, word, sizeof(word)))
			return EV_OK;
		pname = word;
	}
	char *name = ev_strdup(pname);
	EV_ENSURE_E(err, name, EV_E_NOMEM, "out of memory");

	struct file *fl = &c->p->files[c->f];
	if (grow((void **)&fl->sections, &fl->cap, fl->n,
		 sizeof(*fl->sections)) != EV_OK) {
		free(name);
		return ev_error_set(err, EV_E_NOMEM, "out of memory");
	}
	struct section *s = &fl->sections[fl->n++];
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->line = e->section_line;
	s->defaults = defaults;
	c->cur = s;
	return EV_OK;
}

static enum ev_err on_entry(void *ctx, const struct ev_ini_entry *e,
			    struct ev_error *err)
{
	struct load_ctx *c = ctx;
	if (e->section_line != c->cur_header || e->section_line == 0)
		EV_TRY(open_section(c, e, err));
	struct section *s = c->cur;
	if (!s || e->key[0] == '\0')
		return EV_OK;

	char *key = ev_strdup(e->key);
	EV_ENSURE_E(err, key, EV_E_NOMEM, "out of memory");
	for (char *k = key; *k; k++)
		if (*k >= 'A' && *k <= 'Z')
			*k = (char)(*k - 'A' + 'a');
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->entries[i].key, key) == 0) {
			int first = s->entries[i].line;
			free(key);
			return ev_error_set(
			    err, EV_E_CONFIG,
			    "%s:%d: key repeated in [%s] (first at line %d)",
			    e->file, e->line, e->section, first);
		}
	}
	char *value = ev_strdup(e->value);
	if (!value || grow((void **)&s->entries, &s->cap, s->n,
			   sizeof(*s->entries)) != EV_OK) {
		free(key);
		ev_secret_free_str(value);
		return ev_error_set(err, EV_E_NOMEM, "out of memory");
	}
	s->entries[s->n++] = (struct entry){key, value, e->line};
	return EV_OK;
}

static enum ev_err load_one(struct ev_profiles *p, int f, const char *path,
			    struct ev_error *err)
{
	p->files[f].path = ev_strdup(path ? path : "");
	EV_ENSURE_E(err, p->files[f].path, EV_E_NOMEM, "out of memory");
	if (!path)
		return EV_OK;
	struct load_ctx c = {.p = p, .f = f, .cur_header = -1};
	enum ev_err rc =
	    ev_ini_parse_file(path, EV_LIMIT_INI_FILE, on_entry, &c, err);
	for (size_t i = 0; i < c.n_seen; i++)
		free(c.seen[i]);
	free(c.seen);
	if (rc == EV_E_NOT_FOUND) {
		ev_error_clear(err);
		return EV_OK;
	}
	return rc;
}

enum ev_err ev_profile_load_files(const char *config_path,
				  const char *credentials_path,
				  struct ev_profiles **out,
				  struct ev_error *err)
{
	*out = NULL;
	struct ev_profiles *p = calloc(1, sizeof(*p));
	EV_ENSURE_E(err, p, EV_E_NOMEM, "out of memory");
	enum ev_err rc = load_one(p, 0, config_path, err);
	if (rc == EV_OK)
		rc = load_one(p, 1, credentials_path, err);
	if (rc != EV_OK) {
		ev_profile_free(p);
		return rc;
	}
	*out = p;
	return EV_OK;
}

/* "~/x" -> "$HOME/x" (or the passwd entry's home); other paths as given.
 * The caller frees the result. */
static char *expand_home(const char *path, struct ev_error *err)
{
	if (path[0] != '~' || (path[1] != '/' && path[1] != '\0')) {
		char *d = ev_strdup(path);
		if (!d)
			ev_error_set(err, EV_E_NOMEM, "out of memory");
		return d;
	}
	const char *home = getenv("HOME");
	char pwbuf[4096];
	struct passwd pw, *res = NULL;
	if ((!home || !*home) &&
	    getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res)
		home = res->pw_dir;
	if (!home || !*home) {
		ev_error_set(err, EV_E_CONFIG,
			     "cannot expand %s: HOME is not set", path);
		return NULL;
	}
	struct ev_buf b;
	ev_buf_init(&b, EV_LIMIT_URL);
	if (ev_buf_append_str(&b, home) != EV_OK ||
	    ev_buf_append_str(&b, path + 1) != EV_OK) {
		ev_buf_cleanup(&b);
		ev_error_set(err, EV_E_CONFIG, "path %s is too long", path);
		return NULL;
	}
	char *r = ev_buf_take(&b);
	if (!r)
		ev_error_set(err, EV_E_NOMEM, "out of memory");
	return r;
}

static char *path_from_env(const char *var, const char *def,
			   struct ev_error *err)
{
	const char *v = getenv(var);
	return expand_home(v && *v ? v : def, err);
}

enum ev_err ev_profile_load(struct ev_profiles **out, struct ev_error *err)
{
	*out = NULL;
	char *config = path_from_env("AWS_CONFIG_FILE", "~/.aws/config", err);
	if (!config)
		return err ? err->code : EV_E_CONFIG;
	char *creds = path_from_env("AWS_SHARED_CREDENTIALS_FILE",
				    "~/.aws/credentials", err);
	if (!creds) {
		free(config);
		return err ? err->code : EV_E_CONFIG;
	}
	enum ev_err rc = ev_profile_load_files(config, creds, out, err);
	free(config);
	free(creds);
	return rc;
}

/* The last section of that name wins: botocore's profile map is a dict
 * filled in file order, so `[profile default]` after `[default]` replaces
 * it. */
static const struct section *find_section(const struct file *fl,
					  const char *name, bool defaults)
{
	for (size_t i = fl->n; i-- > 0;) {
		const struct section *s = &fl->sections[i];
		if (s->defaults == defaults && strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

static const struct entry *find_entry(const struct section *s, const char *key)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (strcmp(s->entries[i].key, key) == 0)
			return &s->entries[i];
	return NULL;
}

bool ev_profile_exists(const struct ev_profiles *p, const char *name,
		       enum ev_profile_file files)
{
	if (!p || !name)
		return false;
	for (int f = 0; f < 2; f++)
		if ((files & (1 << f)) &&
		    find_section(&p->files[f], name, false))
			return true;
	return false;
}

bool ev_profile_lookup(const struct ev_profiles *p, const char *name,
		       const char *key, enum ev_profile_file files,
		       struct ev_profile_value *out)
{
	if (!p || !name || !key)
		return false;
	/* Credentials file first: botocore merges it over the config. */
	for (int f = 1; f >= 0; f--) {
		if (!(files & (1 << f)))
			continue;
		const struct file *fl = &p->files[f];
		const struct section *s = find_section(fl, name, false);
		if (!s)
			continue;
		const struct entry *e = find_entry(s, key);
		if (!e)
			e = find_entry(find_section(fl, "DEFAULT", true), key);
		if (e) {
			if (out)
				*out = (struct ev_profile_value){
				    e->value, fl->path, e->line};
			return true;
		}
	}
	return false;
}

const char *ev_profile_get(const struct ev_profiles *p, const char *name,
			   const char *key, enum ev_profile_file files)
{
	struct ev_profile_value v;
	return ev_profile_lookup(p, name, key, files, &v) ? v.value : NULL;
}

const char *ev_profile_path(const struct ev_profiles *p,
			    enum ev_profile_file file)
{
	if (!p)
		return "";
	const char *s = p->files[file == EV_PROFILE_CREDENTIALS ? 1 : 0].path;
	return s ? s : "";
}

const char *ev_profile_name(const char *explicit_name, bool *named)
{
	const char *env_names[] = {"AWS_DEFAULT_PROFILE", "AWS_PROFILE"};
	bool dummy;
	if (!named)
		named = &dummy;
	*named = true;
	if (explicit_name && *explicit_name)
		return explicit_name;
	for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++) {
		const char *v = getenv(env_names[i]);
		if (v && *v)
			return v;
	}
	*named = false;
	return "default";
}
