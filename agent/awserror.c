#include "awserror.h"

#include <stdio.h>
#include <string.h>

struct code_class {
	const char *code;
	enum ev_err err;
};

/* aws-api.md §5 and §6. Checked before the status-based fallbacks. */
static const struct code_class code_classes[] = {
    {"Throttling", EV_E_THROTTLED},
    {"ThrottlingException", EV_E_THROTTLED},
    {"ThrottledException", EV_E_THROTTLED},
    {"RequestThrottledException", EV_E_THROTTLED},
    {"TooManyRequestsException", EV_E_THROTTLED},
    {"ProvisionedThroughputExceededException", EV_E_THROTTLED},
    {"TransactionInProgressException", EV_E_THROTTLED},
    {"RequestLimitExceeded", EV_E_THROTTLED},
    {"BandwidthLimitExceeded", EV_E_THROTTLED},
    {"LimitExceededException", EV_E_THROTTLED},
    {"RequestThrottled", EV_E_THROTTLED},
    {"SlowDown", EV_E_THROTTLED},
    {"EC2ThrottledException", EV_E_THROTTLED},
    {"PriorRequestNotComplete", EV_E_THROTTLED},
    {"RequestTimeout", EV_E_SERVER},
    {"RequestTimeoutException", EV_E_SERVER},
    {"InternalError", EV_E_SERVER},
    {"InternalFailure", EV_E_SERVER},
    {"ServiceUnavailable", EV_E_SERVER},
    {"ServiceFailure", EV_E_SERVER},
    {"ServiceException", EV_E_SERVER},
    {"IDPCommunicationError", EV_E_SERVER},
    {"ExpiredToken", EV_E_EXPIRED},
    {"ExpiredTokenException", EV_E_EXPIRED},
    {"RequestExpired", EV_E_EXPIRED},
    {"RequestTimeTooSkewed", EV_E_CLOCK_SKEW},
    {"RequestInTheFuture", EV_E_CLOCK_SKEW},
    {"SignatureDoesNotMatch", EV_E_AUTH},
    {"InvalidSignatureException", EV_E_AUTH},
    {"IncompleteSignature", EV_E_AUTH},
    {"AuthFailure", EV_E_AUTH},
    {"InvalidClientTokenId", EV_E_AUTH},
    {"UnrecognizedClientException", EV_E_AUTH},
    {"InvalidAccessKeyId", EV_E_AUTH},
    {"MissingAuthenticationToken", EV_E_AUTH},
    {"OptInRequired", EV_E_NOT_OPTED_IN},
    {"RegionDisabledException", EV_E_NOT_OPTED_IN},
    {"AccessDenied", EV_E_ACCESS_DENIED},
    {"AccessDeniedException", EV_E_ACCESS_DENIED},
    {"UnauthorizedOperation", EV_E_ACCESS_DENIED},
    {"AuthorizationError", EV_E_ACCESS_DENIED},
    {"AWSOrganizationsNotInUseException", EV_E_NOT_FOUND},
    {"ReportNotPresent", EV_E_NOT_FOUND},
    {"ReportExpired", EV_E_NOT_FOUND},
    {"ReportInProgress", EV_E_THROTTLED},
};

/* The codes after which the SDKs check the server's Date for skew. */
static const char *const skew_codes[] = {
    "RequestTimeTooSkewed",  "RequestExpired", "InvalidSignatureException",
    "SignatureDoesNotMatch", "AuthFailure",    "RequestInTheFuture",
};

bool ev_aws_error_is_skew(const char *code)
{
	for (size_t i = 0; i < sizeof(skew_codes) / sizeof(skew_codes[0]); i++)
		if (strcmp(code, skew_codes[i]) == 0)
			return true;
	return false;
}

enum ev_err ev_aws_error_class(const char *code, const char *message,
			       long status)
{
	for (size_t i = 0; i < sizeof(code_classes) / sizeof(code_classes[0]);
	     i++) {
		if (strcmp(code, code_classes[i].code) != 0)
			continue;
		enum ev_err e = code_classes[i].err;
		/* STS/IAM say "Signature expired: ..." when the clock is off.
		 */
		if (e == EV_E_AUTH && message &&
		    strstr(message, "Signature expired"))
			return EV_E_CLOCK_SKEW;
		return e;
	}
	if (strstr(code, "NotFound") || strncmp(code, "NoSuch", 6) == 0)
		return EV_E_NOT_FOUND;
	if (status == 429)
		return EV_E_THROTTLED;
	if (status >= 500)
		return EV_E_SERVER;
	if (status == 401 || status == 403)
		return EV_E_ACCESS_DENIED;
	return EV_E_INVALID;
}

/* botocore's rule: drop everything up to the last '#', and from the first
 * ':' on. */
void ev_aws_error_normalise_code(const char *raw, char *out, size_t out_size)
{
	const char *hash = strrchr(raw, '#');
	const char *start = hash ? hash + 1 : raw;
	size_t n = strcspn(start, ":");
	ev_error_copy_field(out, out_size, start, n);
}

static void find_error_xml(const struct ev_xml_doc *doc, char *code,
			   size_t code_size, char *message, size_t msg_size,
			   char *rid, size_t rid_size)
{
	const struct ev_xml_node *root = ev_xml_root(doc);
	if (!root)
		return;
	const struct ev_xml_node *e = strcmp(root->name, "Error") == 0
					  ? root
					  : ev_xml_find(root, "Error");
	if (e) {
		const char *c = ev_xml_path_text(e, "Code");
		const char *m = ev_xml_path_text(e, "Message");
		if (c)
			ev_error_copy_field(code, code_size, c, strlen(c));
		if (m)
			ev_error_copy_field(message, msg_size, m, strlen(m));
	}
	if (!rid[0]) {
		const char *r = ev_xml_path_text(root, "RequestId");
		if (!r)
			r = ev_xml_path_text(root, "RequestID");
		if (!r)
			r = ev_xml_path_text(root, "requestId");
		if (r)
			ev_error_copy_field(rid, rid_size, r, strlen(r));
	}
}

static void find_error_json(const json_t *doc, const char *header_type,
			    char *code, size_t code_size, char *message,
			    size_t msg_size)
{
	const char *raw = header_type;
	if (!raw || !*raw) {
		raw = json_string_value(json_object_get(doc, "__type"));
		if (!raw)
			raw = json_string_value(json_object_get(doc, "code"));
	}
	if (raw)
		ev_aws_error_normalise_code(raw, code, code_size);
	const char *m = json_string_value(json_object_get(doc, "message"));
	if (!m)
		m = json_string_value(json_object_get(doc, "Message"));
	if (m)
		ev_error_copy_field(message, msg_size, m, strlen(m));
}

void ev_aws_error_parse(const struct ev_xml_doc *xml, const json_t *json,
			const char *type_header, long http_status,
			struct ev_aws_error_info *out)
{
	if (xml)
		find_error_xml(xml, out->code, sizeof(out->code), out->message,
			       sizeof(out->message), out->request_id,
			       sizeof(out->request_id));
	if (json || (type_header && *type_header))
		find_error_json(json, type_header, out->code, sizeof(out->code),
				out->message, sizeof(out->message));
	if (!out->code[0])
		snprintf(out->code, sizeof(out->code), "HTTP%ld", http_status);
}
