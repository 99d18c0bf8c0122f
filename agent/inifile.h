/* INI files (the agent's config, AWS shared config and credentials files),
 * read with inih, with the line number of every entry so errors can name
 * file and line, and a bound on the file size.
 *
 * Ownership: strings passed to the callback are views valid only during the
 * call. The callback returns EV_OK to go on; any other code stops the parse
 * and is returned (its detail in err). */
#ifndef EV_INIFILE_H
#define EV_INIFILE_H

#include <stddef.h>

#include "err.h"

struct ev_ini_entry {
	const char *file;    /* name for messages */
	const char *section; /* "" before the first section */
	const char *key;
	const char *value; /* trimmed; continuation lines joined by '\n' */
	int line;	   /* 1-based line of the key */
	int section_line;  /* line of the section's header, 0 before the
			      first: tells a repeated section from one */
};

typedef enum ev_err (*ev_ini_fn)(void *ctx, const struct ev_ini_entry *e,
				 struct ev_error *err);

/* Parses a file of at most `limit` bytes (EV_LIMIT_INI_FILE if 0).
 * Callback for each key; sections with no keys are reported as an entry
 * with key "" and value "" so callers can check section names. The syntax
 * is Python configparser's as inih reads it: comments are lines starting
 * with '#' or ';' (no inline comments: ';' stays in values), `key = value`
 * or `key: value`, indented lines continue the previous value. Only regular
 * files are read. Errors: EV_E_NOT_FOUND (no such file), EV_E_IO (cannot
 * read, not a regular file; err names the file), EV_E_LIMIT (file too
 * large, a line over 12 KiB, a section name over 49 characters),
 * EV_E_CONFIG (syntax error at file:line), or what the callback returned.
 * Parsing stops at the first error; entries before it may have been
 * delivered, so callers discard what they built on error.
 * The file's contents, and inih's line buffer, are wiped after parsing
 * (credentials files hold secrets). */
enum ev_err ev_ini_parse_file(const char *path, size_t limit, ev_ini_fn fn,
			      void *ctx, struct ev_error *err) EV_MUST_CHECK;

/* Same over a buffer; `name` is used in messages. */
enum ev_err ev_ini_parse_buffer(const char *name, const char *data, size_t len,
				ev_ini_fn fn, void *ctx,
				struct ev_error *err) EV_MUST_CHECK;

#endif
