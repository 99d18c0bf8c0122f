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
	const char *value;   /* trimmed; continuation lines joined by '\n' */
	int line;            /* 1-based line of the key */
};

typedef enum ev_err (*ev_ini_fn)(void *ctx, const struct ev_ini_entry *e,
				 struct ev_error *err);

/* Parses a file of at most `limit` bytes (EV_LIMIT_INI_FILE if 0).
 * Callback for each key; sections with no keys are reported as an entry
 * with key "" and value "" so callers can check section names. Errors:
 * EV_E_IO (cannot read; err names the file), EV_E_LIMIT (too large),
 * EV_E_CONFIG (syntax error at file:line), or what the callback returned.
 * The file's contents are wiped after parsing (credentials files hold
 * secrets). */
enum ev_err ev_ini_parse_file(const char *path, size_t limit, ev_ini_fn fn,
			      void *ctx, struct ev_error *err) EV_MUST_CHECK;

/* Same over a buffer; `name` is used in messages. */
enum ev_err ev_ini_parse_buffer(const char *name, const char *data, size_t len,
				ev_ini_fn fn, void *ctx, struct ev_error *err)
	EV_MUST_CHECK;

#endif
