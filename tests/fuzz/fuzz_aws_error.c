/* AWS error answers: the first byte picks how the body is read (XML, JSON,
 * or JSON with an x-amzn-ErrorType header taken from the body's first
 * line), the rest is the untrusted answer. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "awserror.h"
#include "bounds.h"
#include "xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0] % 3;
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	struct ev_aws_error_info info;
	memset(&info, 0, sizeof(info));

	if (mode == 0) {
		struct ev_xml_doc *doc = NULL;
		struct ev_error err;
		if (ev_xml_parse(body, len, &doc, &err) == EV_OK) {
			ev_aws_error_parse(doc, NULL, NULL, 400, &info);
			ev_xml_free(doc);
		}
	} else {
		char header[256] = "";
		if (mode == 2) {
			const char *nl = memchr(body, '\n', len);
			size_t hl = nl ? (size_t)(nl - body) : len;
			if (hl >= sizeof(header))
				hl = sizeof(header) - 1;
			memcpy(header, body, hl);
			header[hl] = '\0';
			if (nl) {
				len -= (size_t)(nl + 1 - body);
				body = nl + 1;
			}
		}
		json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
		ev_aws_error_parse(NULL, j, mode == 2 ? header : NULL, 400,
				   &info);
		json_decref(j);
	}
	/* Every field must stay a bounded, printable string. */
	size_t n =
	    strlen(info.code) + strlen(info.message) + strlen(info.request_id);
	(void)n;
	(void)ev_aws_error_class(info.code, info.message, 400);
	return 0;
}
