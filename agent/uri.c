#include "uri.h"

#include <stdlib.h>
#include <string.h>

#include "bounds.h"

bool ev_uri_is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

enum ev_err ev_uri_encode(const void *p, size_t n, bool encode_slash,
			  struct ev_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = p;
	size_t run = 0; /* bytes copied as they are, appended in one go */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (ev_uri_is_unreserved(c) || (c == '/' && !encode_slash)) {
			run++;
			continue;
		}
		if (run) {
			EV_TRY(ev_buf_append(out, s + i - run, run));
			run = 0;
		}
		char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
		EV_TRY(ev_buf_append(out, esc, sizeof(esc)));
	}
	if (run)
		EV_TRY(ev_buf_append(out, s + n - run, run));
	return EV_OK;
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum ev_err ev_uri_decode(const char *p, size_t n, struct ev_buf *out)
{
	size_t i = 0;
	while (i < n) {
		const char *pct = memchr(p + i, '%', n - i);
		size_t plain = pct ? (size_t)(pct - (p + i)) : n - i;
		if (plain)
			EV_TRY(ev_buf_append(out, p + i, plain));
		i += plain;
		if (i >= n)
			break;
		int hi = i + 2 < n ? hex_value((unsigned char)p[i + 1]) : -1;
		int lo = i + 2 < n ? hex_value((unsigned char)p[i + 2]) : -1;
		if (hi < 0 || lo < 0) {
			EV_TRY(ev_buf_append_char(out, '%'));
			i++;
			continue;
		}
		EV_TRY(ev_buf_append_char(out, (char)(hi << 4 | lo)));
		i += 3;
	}
	return EV_OK;
}

/* One segment of a path: a view. */
struct segment {
	const char *p;
	size_t n;
};

enum ev_err ev_uri_normalize_path(const char *path, size_t n,
				  struct ev_buf *out)
{
	if (n == 0)
		return ev_buf_append_char(out, '/');
	/* A path of n bytes has at most n/2 + 1 non-empty segments. */
	size_t cap = n / 2 + 1;
	struct segment *kept = calloc(cap, sizeof(*kept));
	if (!kept)
		return EV_E_NOMEM;
	size_t n_kept = 0;
	size_t i = 0;
	while (i <= n) {
		const char *slash = i < n ? memchr(path + i, '/', n - i) : NULL;
		size_t len = slash ? (size_t)(slash - (path + i)) : n - i;
		const char *seg = path + i;
		if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			if (n_kept)
				n_kept--;
		} else if (len > 0 && !(len == 1 && seg[0] == '.')) {
			kept[n_kept].p = seg;
			kept[n_kept].n = len;
			n_kept++;
		}
		i += len + 1;
	}
	enum ev_err rc = EV_OK;
	if (path[0] == '/')
		rc = ev_buf_append_char(out, '/');
	for (size_t k = 0; rc == EV_OK && k < n_kept; k++) {
		if (k)
			rc = ev_buf_append_char(out, '/');
		if (rc == EV_OK)
			rc = ev_buf_append(out, kept[k].p, kept[k].n);
	}
	if (rc == EV_OK && path[n - 1] == '/' && n_kept)
		rc = ev_buf_append_char(out, '/');
	free(kept);
	return rc;
}

enum ev_err ev_uri_reencode_path(const char *path, size_t n, struct ev_buf *out)
{
	struct ev_buf seg;
	ev_buf_init(&seg, n);
	enum ev_err rc = EV_OK;
	size_t i = 0;
	while (rc == EV_OK && i < n) {
		const char *slash = memchr(path + i, '/', n - i);
		size_t len = slash ? (size_t)(slash - (path + i)) : n - i;
		ev_buf_reset(&seg);
		/* Decoding never lengthens, so seg's limit of n holds. */
		rc = ev_uri_decode(path + i, len, &seg);
		if (rc == EV_OK)
			rc = ev_uri_encode(seg.data, seg.len, true, out);
		if (rc == EV_OK && slash)
			rc = ev_buf_append_char(out, '/');
		i += len + (slash ? 1 : 0);
	}
	ev_buf_cleanup(&seg);
	return rc;
}

/* One canonical query parameter. The offsets into the shared store are
 * turned into pointers once the store stops growing. */
struct qparam {
	size_t name_off;
	size_t value_off;
	const char *name;
	const char *value;
};

static int qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

/* Decodes piece and appends its encoding and a NUL to store. */
static enum ev_err store_encoded(const char *piece, size_t n,
				 struct ev_buf *scratch, struct ev_buf *store)
{
	ev_buf_reset(scratch);
	EV_TRY(ev_uri_decode(piece, n, scratch));
	EV_TRY(ev_uri_encode(scratch->data, scratch->len, true, store));
	return ev_buf_append_char(store, '\0');
}

enum ev_err ev_uri_canonical_query(const char *query, size_t n,
				   struct ev_buf *out)
{
	if (n == 0)
		return EV_OK;
	if (n > EV_LIMIT_URL)
		return EV_E_LIMIT;
	size_t count = 1;
	for (size_t i = 0; i < n; i++)
		count += query[i] == '&';

	struct ev_buf scratch, store;
	ev_buf_init(&scratch, n);
	/* Each byte encodes to at most three, plus two NULs per piece. */
	ev_buf_init(&store, 3 * n + 2 * count + 1);
	struct qparam *params = calloc(count, sizeof(*params));
	enum ev_err rc = params ? EV_OK : EV_E_NOMEM;
	size_t used = 0;
	size_t i = 0;
	while (rc == EV_OK && i <= n) {
		const char *amp = i < n ? memchr(query + i, '&', n - i) : NULL;
		size_t len = amp ? (size_t)(amp - (query + i)) : n - i;
		const char *piece = query + i;
		i += len + 1;
		if (len == 0)
			continue;
		const char *eq = memchr(piece, '=', len);
		size_t name_len = eq ? (size_t)(eq - piece) : len;
		params[used].name_off = store.len;
		rc = store_encoded(piece, name_len, &scratch, &store);
		if (rc != EV_OK)
			break;
		params[used].value_off = store.len;
		if (eq)
			rc = store_encoded(eq + 1, len - name_len - 1, &scratch,
					   &store);
		else
			rc = ev_buf_append_char(&store, '\0');
		used++;
	}
	if (rc == EV_OK && used) {
		for (size_t k = 0; k < used; k++) {
			params[k].name = store.data + params[k].name_off;
			params[k].value = store.data + params[k].value_off;
		}
		qsort(params, used, sizeof(*params), qparam_cmp);
	}
	for (size_t k = 0; rc == EV_OK && k < used; k++) {
		if (k)
			rc = ev_buf_append_char(out, '&');
		if (rc == EV_OK)
			rc = ev_buf_append_str(out, params[k].name);
		if (rc == EV_OK)
			rc = ev_buf_append_char(out, '=');
		if (rc == EV_OK)
			rc = ev_buf_append_str(out, params[k].value);
	}
	free(params);
	ev_buf_cleanup(&store);
	ev_buf_cleanup(&scratch);
	return rc;
}

enum ev_err ev_uri_form_encode(const struct ev_uri_param *params, size_t n,
			       struct ev_buf *out)
{
	for (size_t i = 0; i < n; i++) {
		EV_ENSURE(params[i].name && params[i].name[0], EV_E_INVALID);
		if (i)
			EV_TRY(ev_buf_append_char(out, '&'));
		EV_TRY(ev_uri_encode(params[i].name, strlen(params[i].name),
				     true, out));
		EV_TRY(ev_buf_append_char(out, '='));
		const char *v = params[i].value ? params[i].value : "";
		EV_TRY(ev_uri_encode(v, strlen(v), true, out));
	}
	return EV_OK;
}
