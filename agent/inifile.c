#include "inifile.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* inih's header has the same name as ours; the project's include path puts
 * agent/ first, so it is reached only here and only by this name. */
#include <ini.h>
#include <openssl/crypto.h>

#include "bounds.h"
#include "buf.h"
#include "fileio.h"

/* Longest line handed to inih: a session token (EV_LIMIT_SECRET) with its
 * key and room to spare. Longer lines fail with EV_E_LIMIT rather than
 * being split, which inih would otherwise do silently. */
#define INI_LINE_MAX (EV_LIMIT_SECRET + 4096)
/* inih copies section names into a fixed buffer of this size (MAX_SECTION
 * in ini.c) and truncates longer ones; refusing them keeps a truncated
 * name from matching another section. */
#define INIH_MAX_SECTION 50

/* Debian's inih exposes its compile-time options as variables. They are
 * set once for the whole process, before any parse: a heap line buffer of
 * INI_LINE_MAX (the default stack buffer is 200 bytes, too short for a
 * session token), no inline comments (botocore's configparser keeps ';'
 * inside values), and no stop on the first error so that inih always asks
 * the reader for the final wiping line below. */
static pthread_once_t inih_once = PTHREAD_ONCE_INIT;

static void inih_configure(void)
{
	ini_use_stack = false;
	ini_allow_realloc = false;
	ini_initial_alloc = INI_LINE_MAX + 3;
	ini_max_line = INI_LINE_MAX + 3;
	ini_allow_inline_comments = false;
	ini_allow_multiline = true;
	ini_allow_bom = true;
	ini_stop_on_first_error = false;
	ini_allow_no_value = false;
}

enum line_kind {
	LINE_BLANK,   /* empty or comment */
	LINE_SECTION, /* "[name]" */
	LINE_KEY,     /* "key = value" */
	LINE_CONT,    /* indented line continuing the previous value */
};

struct ini_reader {
	const char *name;
	const char *data;
	size_t len;
	size_t pos;
	int line; /* lines handed out so far */
	bool wiped;

	/* What inih will make of the current line, mirrored from its rules so
	 * that entries carry their line and continuations can be joined. */
	enum line_kind kind;
	bool have_key; /* inih's prev_name: a key line since the last section */

	/* The open section, for reporting sections without keys. */
	char section[INIH_MAX_SECTION];
	int section_line;
	bool in_section;
	bool section_has_keys;

	/* The entry being built; emitted at the next key, section or end. */
	bool pending;
	char pending_section[INIH_MAX_SECTION];
	char *pending_key;
	struct ev_buf pending_value; /* secret: credentials files */
	int pending_line;

	ev_ini_fn fn;
	void *ctx;
	enum ev_err rc;
	struct ev_error *err;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

static enum ev_err emit(struct ini_reader *r, const char *section,
			const char *key, const char *value, int line)
{
	struct ev_ini_entry e = {
	    .file = r->name,
	    .section = section,
	    .key = key,
	    .value = value,
	    .line = line,
	    .section_line = r->section_line,
	};
	return r->fn(r->ctx, &e, r->err);
}

static void fail(struct ini_reader *r, enum ev_err rc)
{
	if (r->rc == EV_OK)
		r->rc = rc;
}

static void flush_pending(struct ini_reader *r)
{
	if (!r->pending)
		return;
	r->pending = false;
	if (r->rc == EV_OK)
		fail(r, emit(r, r->pending_section, r->pending_key,
			     ev_buf_str(&r->pending_value), r->pending_line));
	free(r->pending_key);
	r->pending_key = NULL;
	ev_buf_reset(&r->pending_value);
}

static void close_section(struct ini_reader *r)
{
	if (r->in_section && !r->section_has_keys && r->rc == EV_OK)
		fail(r, emit(r, r->section, "", "", r->section_line));
	r->in_section = false;
}

/* Classifies one line as inih will (ini.c, ini_parse_stream): comments
 * start with ';' or '#' after leading space; an indented non-blank line
 * after a key continues its value; "[" opens a section up to the first
 * "]"; anything else needs '=' or ':'. Syntax errors are caught here so
 * that parsing stops at the first one with its line number. */
static void classify(struct ini_reader *r, const char *p, size_t n)
{
	const char *line = p;
	if (r->line == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
		p += 3;
		n -= 3;
	}
	while (n > 0 && is_space(p[n - 1]))
		n--;
	size_t lead = 0;
	while (lead < n && is_space(p[lead]))
		lead++;
	const char *start = p + lead;
	size_t len = n - lead;
	if (len == 0 || *start == ';' || *start == '#') {
		r->kind = LINE_BLANK;
		return;
	}
	if (r->have_key && start > line) {
		r->kind = LINE_CONT;
		return;
	}
	if (*start == '[') {
		const char *end = memchr(start + 1, ']', len - 1);
		if (!end) {
			fail(r,
			     ev_error_set(r->err, EV_E_CONFIG,
					  "%s:%d: section header without ']'",
					  r->name, r->line));
			return;
		}
		size_t slen = (size_t)(end - (start + 1));
		if (slen >= INIH_MAX_SECTION) {
			fail(
			    r,
			    ev_error_set(
				r->err, EV_E_LIMIT,
				"%s:%d: section name longer than %d characters",
				r->name, r->line, INIH_MAX_SECTION - 1));
			return;
		}
		flush_pending(r);
		close_section(r);
		memcpy(r->section, start + 1, slen);
		r->section[slen] = '\0';
		r->section_line = r->line;
		r->in_section = true;
		r->section_has_keys = false;
		r->have_key = false;
		r->kind = LINE_SECTION;
		return;
	}
	size_t delim = 0;
	while (delim < len && start[delim] != '=' && start[delim] != ':')
		delim++;
	if (delim == len) {
		fail(r, ev_error_set(r->err, EV_E_CONFIG,
				     "%s:%d: expected 'key = value'", r->name,
				     r->line));
		return;
	}
	/* An empty key would read as the marker of a section without keys. */
	if (delim == 0) {
		fail(r, ev_error_set(r->err, EV_E_CONFIG,
				     "%s:%d: no key before '%c'", r->name,
				     r->line, start[0]));
		return;
	}
	r->have_key = true;
	r->kind = LINE_KEY;
}

/* inih's fgets-style reader: one line per call, counted. Past the end, or
 * once an error is recorded, it hands out one comment line that fills
 * inih's whole line buffer, so the buffer inih frees without wiping holds
 * no line of the file, then ends the parse. */
static char *reader_next(char *str, int num, void *stream)
{
	struct ini_reader *r = stream;
	if (num < 2)
		return NULL;
	size_t cap = (size_t)num - 1;
	if (r->rc != EV_OK || r->pos >= r->len) {
		if (r->wiped)
			return NULL;
		r->wiped = true;
		str[0] = ';';
		memset(str + 1, ' ', cap - 1);
		str[cap] = '\0';
		return str;
	}
	const char *p = r->data + r->pos;
	size_t left = r->len - r->pos;
	const char *nl = memchr(p, '\n', left);
	size_t n = nl ? (size_t)(nl - p) + 1 : left;
	r->line++;
	if (n > cap) {
		fail(r, ev_error_set(r->err, EV_E_LIMIT,
				     "%s:%d: line longer than %d bytes",
				     r->name, r->line, INI_LINE_MAX));
		return reader_next(str, num, stream);
	}
	if (memchr(p, '\0', n)) {
		fail(r, ev_error_set(r->err, EV_E_CONFIG, "%s:%d: NUL byte",
				     r->name, r->line));
		return reader_next(str, num, stream);
	}
	memcpy(str, p, n);
	str[n] = '\0';
	r->pos += n;
	classify(r, p, n);
	if (r->rc != EV_OK)
		return reader_next(str, num, stream);
	return str;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct ini_reader *r = user;
	if (r->rc != EV_OK)
		return 0;
	if (r->kind == LINE_CONT && r->pending) {
		if (ev_buf_append_char(&r->pending_value, '\n') != EV_OK ||
		    ev_buf_append_str(&r->pending_value, value) != EV_OK) {
			fail(r, ev_error_set(r->err, EV_E_LIMIT,
					     "%s:%d: value too long", r->name,
					     r->line));
			return 0;
		}
		return 1;
	}
	flush_pending(r);
	if (r->rc != EV_OK)
		return 0;
	size_t slen = strlen(section);
	if (slen >= sizeof(r->pending_section)) {
		fail(r, ev_error_set(r->err, EV_E_INTERNAL,
				     "%s:%d: section name out of bounds",
				     r->name, r->line));
		return 0;
	}
	memcpy(r->pending_section, section, slen + 1);
	r->pending_key = ev_strdup(name);
	if (!r->pending_key ||
	    ev_buf_append_str(&r->pending_value, value) != EV_OK) {
		fail(r, ev_error_set(r->err, EV_E_NOMEM, "out of memory"));
		return 0;
	}
	r->pending_line = r->line;
	r->pending = true;
	r->section_has_keys = true;
	return 1;
}

enum ev_err ev_ini_parse_buffer(const char *name, const char *data, size_t len,
				ev_ini_fn fn, void *ctx, struct ev_error *err)
{
	pthread_once(&inih_once, inih_configure);
	struct ini_reader r = {
	    .name = name ? name : "(buffer)",
	    .data = data,
	    .len = len,
	    .fn = fn,
	    .ctx = ctx,
	    .err = err,
	};
	/* Values may be secrets; a continued value is bounded by the input. */
	ev_buf_init_secret(&r.pending_value, len + 1);
	int rc = ini_parse_stream(reader_next, &r, handler, &r);
	if (r.rc == EV_OK && rc == -2)
		fail(&r, ev_error_set(err, EV_E_NOMEM, "out of memory"));
	if (r.rc == EV_OK && rc != 0)
		fail(&r, ev_error_set(err, EV_E_CONFIG, "%s:%d: syntax error",
				      r.name, rc));
	flush_pending(&r);
	close_section(&r);
	free(r.pending_key);
	ev_buf_cleanup(&r.pending_value);
	return r.rc;
}

enum ev_err ev_ini_parse_file(const char *path, size_t limit, ev_ini_fn fn,
			      void *ctx, struct ev_error *err)
{
	if (limit == 0)
		limit = EV_LIMIT_INI_FILE;
	struct ev_buf data;
	ev_buf_init_secret(&data, limit);
	enum ev_err rc = ev_file_read(AT_FDCWD, path, false, &data, NULL, err);
	if (rc == EV_OK)
		rc = ev_ini_parse_buffer(path, data.data ? data.data : "",
					 data.len, fn, ctx, err);
	ev_buf_cleanup(&data);
	return rc;
}
