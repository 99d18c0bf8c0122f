#include "sts.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "aws.h"
#include "buf.h"
#include "timefmt.h"
#include "xml.h"

#define DEFAULT_REGION "us-east-1"

static void copy_text(char *dst, size_t size, const char *s)
{
	dst[0] = '\0';
	if (s)
		ev_error_copy_field(dst, size, s, strlen(s));
}

/* The account ID is the fifth ':' field of an ARN. */
static void account_from_arn(const char *arn, char *out, size_t size)
{
	out[0] = '\0';
	const char *p = arn;
	for (int i = 0; i < 4 && p; i++) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	if (!p)
		return;
	const char *end = strchr(p, ':');
	size_t n = end ? (size_t)(end - p) : strlen(p);
	if (n < size)
		ev_error_copy_field(out, size, p, n);
}

enum ev_err ev_sts_get_caller_identity(struct ev_aws *aws, const char *region,
				       const struct ev_credentials *creds,
				       struct ev_sts_identity *out,
				       struct ev_error *err)
{
	memset(out, 0, sizeof(*out));
	struct ev_aws_call call = {
	    .service = EV_SVC_STS,
	    .action = "GetCallerIdentity",
	    .region = region ? region : DEFAULT_REGION,
	};
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	enum ev_err rc = ev_aws_call(aws, &call, creds, &resp, err);
	if (rc != EV_OK)
		goto out;
	const struct ev_xml_node *res =
	    ev_aws_response_result(&resp, "GetCallerIdentity");
	const char *account = ev_xml_path_text(res, "Account");
	const char *arn = ev_xml_path_text(res, "Arn");
	if (!account || !arn || !*account || !*arn) {
		rc = ev_error_set(
		    err, EV_E_MALFORMED,
		    "GetCallerIdentity answer lacks Account or Arn");
		goto out;
	}
	copy_text(out->account, sizeof(out->account), account);
	copy_text(out->arn, sizeof(out->arn), arn);
	copy_text(out->user_id, sizeof(out->user_id),
		  ev_xml_path_text(res, "UserId"));
out:
	ev_aws_response_cleanup(&resp);
	return rc;
}

/* Takes Credentials and AssumedRoleUser from an AssumeRole* answer. */
static enum ev_err parse_role_result(const struct ev_aws_response *resp,
				     const char *action,
				     struct ev_credentials *out,
				     struct ev_sts_identity *who,
				     struct ev_error *err)
{
	const struct ev_xml_node *res = ev_aws_response_result(resp, action);
	const struct ev_xml_node *cr = ev_xml_path(res, "Credentials");
	const char *akid = ev_xml_path_text(cr, "AccessKeyId");
	const char *secret = ev_xml_path_text(cr, "SecretAccessKey");
	const char *token = ev_xml_path_text(cr, "SessionToken");
	const char *exp = ev_xml_path_text(cr, "Expiration");
	EV_ENSURE_E(
	    err, akid && secret && token && exp && *akid && *secret && *token,
	    EV_E_MALFORMED, "%s answer lacks Credentials", action);
	time_t expiration;
	EV_ENSURE_E(err, ev_time_parse_iso8601(exp, &expiration) == EV_OK,
		    EV_E_MALFORMED, "%s answer has a bad Expiration", action);
	size_t lim = EV_LIMIT_SECRET;
	EV_ENSURE_E(err,
		    strnlen(akid, 129) <= 128 &&
			strnlen(secret, lim + 1) <= lim &&
			strnlen(token, lim + 1) <= lim,
		    EV_E_LIMIT, "%s answer has oversized credentials", action);
	memset(out, 0, sizeof(*out));
	out->access_key_id = ev_strdup(akid);
	out->secret_access_key = ev_strdup(secret);
	out->session_token = ev_strdup(token);
	if (!out->access_key_id || !out->secret_access_key ||
	    !out->session_token) {
		ev_credentials_cleanup(out);
		return ev_error_set(err, EV_E_NOMEM, "out of memory");
	}
	out->expiration = expiration;
	snprintf(out->source, sizeof(out->source), "%s",
		 strcmp(action, "AssumeRole") == 0 ? "assume-role"
						   : "web-identity");
	if (who) {
		memset(who, 0, sizeof(*who));
		const struct ev_xml_node *u =
		    ev_xml_path(res, "AssumedRoleUser");
		copy_text(who->arn, sizeof(who->arn),
			  ev_xml_path_text(u, "Arn"));
		copy_text(who->user_id, sizeof(who->user_id),
			  ev_xml_path_text(u, "AssumedRoleId"));
		account_from_arn(who->arn, who->account, sizeof(who->account));
	}
	return EV_OK;
}

static enum ev_err role_call(struct ev_aws *aws, struct ev_aws_call *call,
			     const struct ev_credentials *creds,
			     struct ev_credentials *out,
			     struct ev_sts_identity *who, struct ev_error *err)
{
	/* The answer carries the new secret key and token. */
	call->sensitive_response = true;
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	enum ev_err rc = ev_aws_call(aws, call, creds, &resp, err);
	if (rc == EV_OK)
		rc = parse_role_result(&resp, call->action, out, who, err);
	if (who) {
		/* The call is evidence too (kept as request ID and hash, never
		 * as body): hand those out whatever the outcome. */
		memcpy(who->request_id, resp.request_id,
		       sizeof(who->request_id));
		memcpy(who->body_sha256, resp.body_sha256,
		       sizeof(who->body_sha256));
		who->http_status = resp.http_status;
		who->attempts = resp.attempts;
	}
	ev_aws_response_cleanup(&resp);
	return rc;
}

enum ev_err ev_sts_assume_role(struct ev_aws *aws, const char *region,
			       const struct ev_credentials *creds,
			       const struct ev_sts_assume_role_params *params,
			       struct ev_credentials *out,
			       struct ev_sts_identity *who,
			       struct ev_error *err)
{
	memset(out, 0, sizeof(*out));
	EV_ENSURE_E(err,
		    params && params->role_arn && *params->role_arn &&
			params->session_name && *params->session_name,
		    EV_E_INVALID,
		    "AssumeRole needs a role ARN and a session name");
	char duration[24];
	struct ev_uri_param p[4];
	size_t n = 0;
	p[n++] = (struct ev_uri_param){"RoleArn", params->role_arn};
	p[n++] = (struct ev_uri_param){"RoleSessionName", params->session_name};
	if (params->external_id)
		p[n++] =
		    (struct ev_uri_param){"ExternalId", params->external_id};
	if (params->duration_seconds > 0) {
		snprintf(duration, sizeof(duration), "%d",
			 params->duration_seconds);
		p[n++] = (struct ev_uri_param){"DurationSeconds", duration};
	}
	struct ev_aws_call call = {
	    .service = EV_SVC_STS,
	    .action = "AssumeRole",
	    .region = region ? region : DEFAULT_REGION,
	    .params = p,
	    .n_params = n,
	};
	return role_call(aws, &call, creds, out, who, err);
}

/* STS validation errors quote the offending value ("Value '...' at
 * 'webIdentityToken' failed to satisfy constraint"): when a message holds
 * the start of the token, it is replaced, keeping code and request ID. */
static void withhold_token(struct ev_error *err, const char *token)
{
	if (!err)
		return;
	char probe[13];
	size_t n = strnlen(token, sizeof(probe) - 1);
	memcpy(probe, token, n);
	probe[n] = '\0';
	bool quoted = strstr(err->message, probe) != NULL ||
		      strstr(err->message, "webIdentityToken") != NULL;
	OPENSSL_cleanse(probe, sizeof(probe));
	if (!quoted)
		return;
	snprintf(err->message, sizeof(err->message),
		 "AssumeRoleWithWebIdentity refused the token (%s; the "
		 "message, which quotes the token, is withheld)",
		 err->aws_code[0] ? err->aws_code : "no code");
}

enum ev_err ev_sts_assume_role_with_web_identity(
    struct ev_aws *aws, const char *region, const char *role_arn,
    const char *session_name, const char *token, struct ev_credentials *out,
    struct ev_sts_identity *who, struct ev_error *err)
{
	memset(out, 0, sizeof(*out));
	EV_ENSURE_E(err,
		    role_arn && *role_arn && session_name && *session_name &&
			token && *token,
		    EV_E_INVALID,
		    "AssumeRoleWithWebIdentity needs a role ARN, a session "
		    "name and a token");
	struct ev_uri_param p[] = {
	    {"RoleArn", role_arn},
	    {"RoleSessionName", session_name},
	    {"WebIdentityToken", token},
	};
	struct ev_aws_call call = {
	    .service = EV_SVC_STS,
	    .action = "AssumeRoleWithWebIdentity",
	    .region = region ? region : DEFAULT_REGION,
	    .params = p,
	    .n_params = sizeof(p) / sizeof(p[0]),
	    .unsigned_request = true,
	    .sensitive_request = true,
	};
	enum ev_err rc = role_call(aws, &call, NULL, out, who, err);
	if (rc != EV_OK)
		withhold_token(err, token);
	return rc;
}
