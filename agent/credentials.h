/* AWS credentials and the SDK default provider chain.
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

struct ev_aws; /* aws.h: the client used for STS calls */

struct ev_credentials {
	char *access_key_id;
	char *secret_access_key; /* secret */
	char *session_token;     /* secret; NULL when none */
	time_t expiration;       /* 0: does not expire */
	char source[48];         /* "environment", "profile dev", "imds"... */
};

void ev_credentials_cleanup(struct ev_credentials *c);
/* Deep copy; dst is overwritten (clean it first). Errors: EV_E_NOMEM. */
enum ev_err ev_credentials_copy(struct ev_credentials *dst,
				const struct ev_credentials *src) EV_MUST_CHECK;

struct ev_credentials_options {
	const char *profile; /* explicit --profile: skips the environment keys */
	const char *region;  /* region for STS calls; NULL: from env/profile,
				else us-east-1 */
	struct ev_aws *aws;  /* client for STS; NULL: the provider makes one */
	const char *ca_bundle; /* for a client the provider makes */
};

struct ev_credentials_provider;

/* Copies opts. Resolution happens at the first get. NULL on EV_E_NOMEM. */
struct ev_credentials_provider *
ev_credentials_provider_new(const struct ev_credentials_options *opts,
			    struct ev_error *err);
void ev_credentials_provider_free(struct ev_credentials_provider *p);

/* Current credentials, refreshed when within 15 minutes of expiry (the
 * refresh is mandatory within 10). Thread-safe. Errors: EV_E_NO_CREDENTIALS
 * (nothing configured), EV_E_CONFIG (a source configured wrongly, e.g. only
 * one of the two key variables), EV_E_IO, the typed errors of STS/IMDS/
 * container calls. */
enum ev_err ev_credentials_provider_get(struct ev_credentials_provider *p,
					time_t now, struct ev_credentials *out,
					struct ev_error *err) EV_MUST_CHECK;

/* Forces the next get to refresh (after an ExpiredToken answer). */
void ev_credentials_provider_invalidate(struct ev_credentials_provider *p);

#endif
