/* Response header lines: the input is split at '\n' (each line keeps it, as
 * curl hands them over) and fed to the parser, then headers are looked up
 * and the block's invariants checked. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct ev_http_response *r)
{
	if (r->n_headers > EV_LIMIT_HTTP_HEADERS)
		abort();
	for (size_t i = 0; i < r->n_headers; i++) {
		const char *name = r->headers[i].name;
		const char *value = r->headers[i].value;
		if (!name || !value || !*name ||
		    strlen(name) + strlen(value) > EV_LIMIT_HTTP_HEADER_LINE)
			abort();
		for (const char *c = name; *c; c++)
			if ((*c >= 'A' && *c <= 'Z') || *c == ':' ||
			    *c == ' ' || *c == '\t')
				abort();
		size_t vn = strlen(value);
		if (vn && (value[0] == ' ' || value[0] == '\t' ||
			   value[vn - 1] == ' ' || value[vn - 1] == '\t'))
			abort();
		if (ev_http_response_header(r, name) == NULL)
			abort();
	}
	if (r->status < 0 || r->status > 999)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ev_http_response r;
	ev_http_response_init(&r, 0);
	const char *p = (const char *)data;
	size_t left = size;
	while (left > 0) {
		const char *nl = memchr(p, '\n', left);
		size_t n = nl ? (size_t)(nl - p) + 1 : left;
		if (ev_http_response_header_line(&r, p, n) != EV_OK)
			break;
		p += n;
		left -= n;
	}
	check(&r);
	(void)ev_http_response_header(&r, "x-amzn-requestid");
	(void)ev_http_response_header(&r, "Date");
	(void)ev_http_response_header(&r, "retry-after");
	ev_http_response_reset(&r);
	if (r.n_headers != 0 || r.status != 0)
		abort();
	ev_http_response_cleanup(&r);
	return 0;
}
