/* The STS calls the agent makes (aws-api.md §10.1): the credential test
 * and the two ways of assuming a role. Built on the aws layer, which
 * signs, sends, retries and turns AWS errors into typed ones.
 *
 * Ownership: every argument is a view. Credentials handed out are caller
 * storage to release with ev_credentials_cleanup (which wipes them); the
 * response bodies that carried them are wiped by the aws layer. Nothing
 * here logs or formats a secret or the web identity token. */
#ifndef EV_STS_H
#define EV_STS_H

#include "credentials.h"
#include "digest.h"
#include "err.h"

struct ev_aws;

#define EV_STS_ARN_MAX	   2048
#define EV_STS_ACCOUNT_MAX 12

/* Who a set of credentials is. Strings are bounded copies of what STS
 * answered (control bytes replaced). */
struct ev_sts_identity {
	char account[EV_STS_ACCOUNT_MAX + 1]; /* "111122223333" */
	char arn[EV_STS_ARN_MAX + 1];
	char user_id[256]; /* UserId, or AssumedRoleId after AssumeRole */
	/* AssumeRole calls: the exchange itself, for the evidence. */
	char request_id[EV_ERROR_RID_MAX];
	char body_sha256[EV_SHA256_HEX_LEN + 1];
	long http_status;
	int attempts;
};

/* GetCallerIdentity with creds in region (NULL: us-east-1). Errors: the
 * aws layer's (EV_E_AUTH for a bad key, EV_E_EXPIRED, EV_E_NETWORK...),
 * EV_E_MALFORMED when the answer lacks Account or Arn. */
enum ev_err ev_sts_get_caller_identity(struct ev_aws *aws, const char *region,
				       const struct ev_credentials *creds,
				       struct ev_sts_identity *out,
				       struct ev_error *err) EV_MUST_CHECK;

struct ev_sts_assume_role_params {
	const char *role_arn;	  /* required */
	const char *session_name; /* required, 2-64 of [\w+=,.@-] */
	const char *external_id;  /* NULL: none */
	int duration_seconds;	  /* 0: the role's default (one hour) */
};

/* AssumeRole signed with creds. On success out holds the role session's
 * keys, token and expiration, with out->source set to "assume-role";
 * who (may be NULL) gets the AssumedRoleUser. Errors: the aws layer's
 * (EV_E_ACCESS_DENIED also for a wrong ExternalId or trust policy,
 * EV_E_INVALID for a DurationSeconds over the role's maximum,
 * EV_E_NOT_OPTED_IN...), EV_E_MALFORMED when Credentials are incomplete,
 * EV_E_INVALID for missing parameters (checked before any call). */
enum ev_err ev_sts_assume_role(struct ev_aws *aws, const char *region,
			       const struct ev_credentials *creds,
			       const struct ev_sts_assume_role_params *params,
			       struct ev_credentials *out,
			       struct ev_sts_identity *who,
			       struct ev_error *err) EV_MUST_CHECK;

/* AssumeRoleWithWebIdentity: unsigned; `token` is the web identity token
 * (a secret: sent, never logged). Same outputs and errors as
 * ev_sts_assume_role (EV_E_ACCESS_DENIED / EV_E_AUTH for a refused token,
 * EV_E_EXPIRED for an expired one). */
enum ev_err ev_sts_assume_role_with_web_identity(
    struct ev_aws *aws, const char *region, const char *role_arn,
    const char *session_name, const char *token, struct ev_credentials *out,
    struct ev_sts_identity *who, struct ev_error *err) EV_MUST_CHECK;

#endif
