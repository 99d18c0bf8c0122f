/* A growable byte buffer that must be given a size limit, and a read cursor.
 *
 * Ownership: struct ev_buf lives in caller storage (ev_buf_init /
 * ev_buf_cleanup); the bytes are owned by the buffer until ev_buf_take hands
 * them over. A buffer marked secret never uses realloc: growth copies into a
 * new block and wipes the old one, and cleanup wipes before freeing. The data
 * is always NUL-terminated (the terminator is not counted in len). */
#ifndef EV_BUF_H
#define EV_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct ev_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t limit;
	bool secret;
};

/* Prepares b; no allocation happens until the first append. */
void ev_buf_init(struct ev_buf *b, size_t limit);
/* Same, for buffers that will hold secrets (wiped on growth and cleanup). */
void ev_buf_init_secret(struct ev_buf *b, size_t limit);
/* Frees (wiping if secret) and leaves b as after init; safe on zeroed b. */
void ev_buf_cleanup(struct ev_buf *b);
/* Forgets the contents but keeps the memory (wiped first if secret). */
void ev_buf_reset(struct ev_buf *b);

/* Appends; EV_E_LIMIT past the limit, EV_E_NOMEM on allocation failure. On
 * failure the buffer is freed (wiped if secret) so a half value never
 * survives. */
enum ev_err ev_buf_append(struct ev_buf *b, const void *p,
			  size_t n) EV_MUST_CHECK;
enum ev_err ev_buf_append_str(struct ev_buf *b, const char *s) EV_MUST_CHECK;
enum ev_err ev_buf_append_char(struct ev_buf *b, char c) EV_MUST_CHECK;
enum ev_err ev_buf_printf(struct ev_buf *b, const char *fmt, ...)
    EV_PRINTF(2, 3) EV_MUST_CHECK;

/* Returns the NUL-terminated bytes and leaves b empty; the caller frees them
 * (with ev_secret_free if the buffer was secret). Never NULL: an empty buffer
 * yields an allocated "". Returns NULL only on allocation failure. */
char *ev_buf_take(struct ev_buf *b);

/* Always a valid string, "" when empty. A view: never freed. */
const char *ev_buf_str(const struct ev_buf *b);

/* Wipes n bytes of p and frees it; accepts NULL. For heap secrets. */
void ev_secret_free(void *p, size_t n);
/* Wipes and frees a NUL-terminated heap string; accepts NULL. */
void ev_secret_free_str(char *s);
/* strdup whose result is owned by the caller; NULL on failure or NULL s. */
char *ev_strdup(const char *s);
char *ev_strndup(const char *s, size_t n);

/* A read cursor over bytes it does not own. Its only primitive checks the
 * remaining length. */
struct ev_cursor {
	const unsigned char *p;
	size_t len;
	size_t pos;
};

void ev_cursor_init(struct ev_cursor *c, const void *p, size_t len);
size_t ev_cursor_left(const struct ev_cursor *c);
/* Points *out at the next n bytes and advances; EV_E_MALFORMED if fewer
 * remain (the cursor does not move). */
enum ev_err ev_cursor_take(struct ev_cursor *c, size_t n,
			   const unsigned char **out) EV_MUST_CHECK;
/* The next line up to (not including) "\n" or "\r\n"; the final line may lack
 * a terminator. EV_E_MALFORMED at end of input, EV_E_LIMIT if the line is
 * longer than max. */
enum ev_err ev_cursor_line(struct ev_cursor *c, size_t max, const char **line,
			   size_t *line_len) EV_MUST_CHECK;

#endif
