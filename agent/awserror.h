/* AWS error answers of every protocol turned into one typed error
 * (aws-api.md §5): the error code by botocore's rule, the message, the
 * request ID, and the ev_err class callers branch on. Pure. */
#ifndef EV_AWSERROR_H
#define EV_AWSERROR_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "xml.h"

/* What an error answer said, all fields bounded and sanitised. */
struct ev_aws_error_info {
	char code[EV_ERROR_CODE_MAX]; /* "HTTP503" when none was given */
	char message[EV_ERROR_MSG_MAX];
	char request_id[EV_ERROR_RID_MAX];
};

/* Reads the code, message and request ID of an error answer: from the XML
 * envelope (query `<ErrorResponse>`, ec2 `<Response><Errors>`, S3 `<Error>`)
 * when xml is given, else from the JSON body (`__type` or `code`, `message`
 * or `Message`) or the `x-amzn-ErrorType` header (type_header, may be NULL),
 * which wins for JSON protocols. Fields already set in out (a request ID
 * from a header) are kept. */
void ev_aws_error_parse(const struct ev_xml_doc *xml, const json_t *json,
			const char *type_header, long http_status,
			struct ev_aws_error_info *out);

/* The class of an AWS error code (with its message, for "Signature
 * expired" and the HTTP status for unknown codes). */
enum ev_err ev_aws_error_class(const char *code, const char *message,
			       long http_status);

/* True for the codes after which the SDKs compare the server's Date with
 * the local clock (aws-api.md §7). */
bool ev_aws_error_is_skew(const char *code);

/* botocore's code rule: drops everything up to the last '#', and from the
 * first ':' on ("aws.x#Throttling:http://..." -> "Throttling"). */
void ev_aws_error_normalise_code(const char *raw, char *out, size_t out_size);

#endif
