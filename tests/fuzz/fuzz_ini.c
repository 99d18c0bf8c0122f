/* INI files (the agent's config, the AWS shared config and credentials
 * files) through inih with our reader: every entry handed to the callback
 * is read in full and its invariants checked. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inifile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct tally {
	size_t entries;
	unsigned sum;
	int last_line;
};

static unsigned touch(const char *s)
{
	unsigned h = 0;
	for (; *s; s++)
		h = h * 31 + (unsigned char)*s;
	return h;
}

static enum ev_err on_entry(void *ctx, const struct ev_ini_entry *e,
			    struct ev_error *err)
{
	(void)err;
	struct tally *t = ctx;
	t->sum += touch(e->file) + touch(e->section) + touch(e->key) +
		  touch(e->value);
	/* Entries come in file order, each after its section's header. */
	if (e->line < 1 || e->section_line < 0 || e->section_line > e->line ||
	    e->line < t->last_line || strlen(e->section) >= 50)
		abort();
	if (e->key[0] == '\0' && e->value[0] != '\0')
		abort();
	t->last_line = e->line;
	/* Stop early now and then, so the callback-error path runs too. */
	if (++t->entries == 1000)
		return EV_E_LIMIT;
	return EV_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tally t = {0};
	struct ev_error err;
	enum ev_err rc = ev_ini_parse_buffer("fuzz.ini", (const char *)data,
					     size, on_entry, &t, &err);
	if (rc != EV_OK && err.message[0] == '\0')
		abort(); /* every failure says why */
	return 0;
}
