#include "buf.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ev_buf_init(struct ev_buf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
}

void ev_buf_init_secret(struct ev_buf *b, size_t limit)
{
	ev_buf_init(b, limit);
	b->secret = true;
}

void ev_buf_cleanup(struct ev_buf *b)
{
	if (!b)
		return;
	if (b->data && b->secret)
		OPENSSL_cleanse(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void ev_buf_reset(struct ev_buf *b)
{
	if (b->data) {
		if (b->secret)
			OPENSSL_cleanse(b->data, b->cap);
		b->data[0] = '\0';
	}
	b->len = 0;
}

static enum ev_err buf_reserve(struct ev_buf *b, size_t extra)
{
	if (extra > b->limit || b->len > b->limit - extra) {
		ev_buf_cleanup(b);
		return EV_E_LIMIT;
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return EV_OK;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->limit + 1)
		cap = b->limit + 1;
	char *p;
	if (b->secret) {
		/* Never realloc a secret: the old block would be freed unwiped.
		 */
		p = malloc(cap);
		if (p && b->data) {
			memcpy(p, b->data, b->len + 1);
			OPENSSL_cleanse(b->data, b->cap);
			free(b->data);
		}
	} else {
		p = realloc(b->data, cap);
	}
	if (!p) {
		ev_buf_cleanup(b);
		return EV_E_NOMEM;
	}
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return EV_OK;
}

enum ev_err ev_buf_append(struct ev_buf *b, const void *p, size_t n)
{
	EV_TRY(buf_reserve(b, n));
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return EV_OK;
}

enum ev_err ev_buf_append_str(struct ev_buf *b, const char *s)
{
	return ev_buf_append(b, s, strlen(s));
}

enum ev_err ev_buf_append_char(struct ev_buf *b, char c)
{
	return ev_buf_append(b, &c, 1);
}

enum ev_err ev_buf_printf(struct ev_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return EV_E_INTERNAL;
	EV_TRY(buf_reserve(b, (size_t)n));
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return EV_OK;
}

char *ev_buf_take(struct ev_buf *b)
{
	char *p = b->data;
	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

const char *ev_buf_str(const struct ev_buf *b)
{
	return b->data ? b->data : "";
}

void ev_secret_free(void *p, size_t n)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, n);
	free(p);
}

void ev_secret_free_str(char *s)
{
	if (s)
		ev_secret_free(s, strlen(s));
}

char *ev_strdup(const char *s)
{
	return s ? ev_strndup(s, strlen(s)) : NULL;
}

char *ev_strndup(const char *s, size_t n)
{
	if (!s)
		return NULL;
	char *p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void ev_cursor_init(struct ev_cursor *c, const void *p, size_t len)
{
	c->p = p;
	c->len = p ? len : 0;
	c->pos = 0;
}

size_t ev_cursor_left(const struct ev_cursor *c)
{
	return c->len - c->pos;
}

enum ev_err ev_cursor_take(struct ev_cursor *c, size_t n,
			   const unsigned char **out)
{
	if (n > ev_cursor_left(c))
		return EV_E_MALFORMED;
	*out = c->p + c->pos;
	c->pos += n;
	return EV_OK;
}

enum ev_err ev_cursor_line(struct ev_cursor *c, size_t max, const char **line,
			   size_t *line_len)
{
	size_t left = ev_cursor_left(c);
	if (left == 0)
		return EV_E_MALFORMED;
	const unsigned char *start = c->p + c->pos;
	const unsigned char *nl = memchr(start, '\n', left);
	size_t n = nl ? (size_t)(nl - start) : left;
	size_t consumed = nl ? n + 1 : n;
	if (n > 0 && start[n - 1] == '\r')
		n--;
	if (n > max)
		return EV_E_LIMIT;
	const unsigned char *unused;
	EV_TRY(ev_cursor_take(c, consumed, &unused));
	*line = (const char *)start;
	*line_len = n;
	return EV_OK;
}
