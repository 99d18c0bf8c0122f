/* AWS credentials and the SDK default provider chain.
 *
 * The chain follows botocore's order (aws-api.md §8): the environment keys
 * (skipped when a profile is given explicitly); the profile's role_arn
 * (AssumeRole from source_profile, recursively, or credential_source); web
 * identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, or the profile's
 * web_identity_token_file + role_arn); keys in the credentials file;
 * credential_process; keys in the config file; the container endpoint;
 * EC2 instance metadata (IMDSv2, v1 fallback). The profile is
 * options.profile, else AWS_DEFAULT_PROFILE, else AWS_PROFILE, else
 * "default". The first source that is configured decides: if it fails,
 * its error is returned; only an unreachable instance metadata service
 * (or a missing instance role) means "no credentials".
 *
 * Ownership: struct ev_credentials is caller storage whose strings it owns;
 * ev_credentials_cleanup wipes the secret key and the session token before
 * freeing them. A provider (ev_credentials_provider_new / _free) resolves the
 * chain once, caches what it got and refreshes temporary credentials before
 * they expire; ev_credentials_provider_get hands out a copy the caller cleans
 * up. No function here logs or formats a secret. */
#ifndef EV_CREDENTIALS_H
#define EV_CREDENTIALS_H

#include <stdbool.h>
#include <time.h>

#include "err.h"

struct ev_aws;	/* aws.h: the client used for STS calls */
struct ev_http; /* http.h: the transport for metadata endpoints */

struct ev_credentials {
	char *access_key_id;
	char *secret_access_key; /* secret */
	char *session_token;	 /* secret; NULL when none */
	time_t expiration;	 /* 0: does not expire */
	char source[48];	 /* "environment", "profile dev", "imds"... */
};

void ev_credentials_cleanup(struct ev_credentials *c);
/* Deep copy; dst is overwritten (clean it first). Errors: EV_E_NOMEM. */
enum ev_err ev_credentials_copy(struct ev_credentials *dst,
				const struct ev_credentials *src) EV_MUST_CHECK;

struct ev_credentials_options {
	const char
	    *profile;	    /* explicit --profile: skips the environment keys */
	const char *region; /* region for STS calls; NULL: from env/profile,
			       else us-east-1 */
	struct ev_aws *aws; /* client for STS; NULL: the provider makes one */
	const char *ca_bundle; /* for a client the provider makes */
	/* Transport for the container endpoint and instance metadata; NULL:
	 * the provider makes a curl one (plain http allowed, short
	 * timeouts). Borrowed: a test seam. */
	struct ev_http *metadata_http;
};

struct ev_credentials_provider;

/* Copies opts. Resolution happens at the first get. NULL on EV_E_NOMEM. */
struct ev_credentials_provider *
ev_credentials_provider_new(const struct ev_credentials_options *opts,
			    struct ev_error *err);
void ev_credentials_provider_free(struct ev_credentials_provider *p);

/* Current credentials, refreshed when within 15 minutes of expiry (the
 * refresh is mandatory within 10: a failed refresh keeps the old ones
 * before that, at most one attempt per 30 s). Thread-safe: one refresh at
 * a time, other callers wait for it. now is the caller's clock (also used
 * for the instance metadata token's lifetime). Errors: EV_E_NO_CREDENTIALS
 * (nothing configured), EV_E_CONFIG (a source configured wrongly: only one
 * of the two keys, an unknown profile or credential_source, a source
 * profile loop), EV_E_LIMIT (chain longer than EV_LIMIT_PROFILE_CHAIN,
 * process output over EV_LIMIT_PROCESS_OUTPUT), EV_E_IO (credential_process
 * failed, unreadable file), EV_E_MALFORMED (bad process, container or
 * metadata JSON), EV_E_EXPIRED (environment credentials past
 * AWS_CREDENTIAL_EXPIRATION), the typed errors of STS, container and
 * metadata calls. The message names the source and never holds a secret
 * or token. */
enum ev_err ev_credentials_provider_get(struct ev_credentials_provider *p,
					time_t now, struct ev_credentials *out,
					struct ev_error *err) EV_MUST_CHECK;

/* Forces the next get to refresh (after an ExpiredToken answer). */
void ev_credentials_provider_invalidate(struct ev_credentials_provider *p);

#endif
