#include "credentials.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "timefmt.h"

/* Refresh windows of botocore: advisory 15 min (a failed refresh keeps the
 * old credentials), mandatory 10 min (a failed refresh is an error). */
#define ADVISORY_REFRESH_SECONDS (15 * 60)
#define MANDATORY_REFRESH_SECONDS (10 * 60)

/* An access key ID is an upper-case alphanumeric of 16-128 characters; the
 * bound here only keeps header injection and absurd sizes out. */
#define ACCESS_KEY_ID_MAX 128

void ev_credentials_cleanup(struct ev_credentials *c)
{
	if (!c)
		return;
	free(c->access_key_id);
	ev_secret_free_str(c->secret_access_key);
	ev_secret_free_str(c->session_token);
	memset(c, 0, sizeof(*c));
}

enum ev_err ev_credentials_copy(struct ev_credentials *dst,
				const struct ev_credentials *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->access_key_id = ev_strdup(src->access_key_id);
	dst->secret_access_key = ev_strdup(src->secret_access_key);
	if (src->session_token)
		dst->session_token = ev_strdup(src->session_token);
	if ((src->access_key_id && !dst->access_key_id) ||
	    (src->secret_access_key && !dst->secret_access_key) ||
	    (src->session_token && !dst->session_token)) {
		ev_credentials_cleanup(dst);
		return EV_E_NOMEM;
	}
	dst->expiration = src->expiration;
	memcpy(dst->source, src->source, sizeof(dst->source));
	dst->source[sizeof(dst->source) - 1] = '\0';
	return EV_OK;
}

/* Checks a credential value before it is used: present, bounded, and free
 * of bytes that could break an HTTP header (the key ID and the token travel
 * in headers). `what` names the value's origin, never its content. */
static enum ev_err check_value(const char *what, const char *s, size_t max,
			       struct ev_error *err)
{
	size_t n = strnlen(s, max + 1);
	EV_ENSURE_E(err, n > 0, EV_E_CONFIG, "%s is empty", what);
	EV_ENSURE_E(err, n <= max, EV_E_LIMIT, "%s is longer than %zu bytes",
		    what, max);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		EV_ENSURE_E(err, ch > 0x20 && ch < 0x7f, EV_E_CONFIG,
			    "%s contains a space or a control character", what);
	}
	return EV_OK;
}

/* Fills out from three values (token may be NULL), copying them into owned
 * storage; what names the origin for messages ("AWS_SECRET_ACCESS_KEY"). */
static enum ev_err creds_set(struct ev_credentials *out, const char *akid,
			     const char *secret, const char *token,
			     const char *akid_what, const char *secret_what,
			     const char *token_what, struct ev_error *err)
{
	EV_TRY(check_value(akid_what, akid, ACCESS_KEY_ID_MAX, err));
	EV_TRY(check_value(secret_what, secret, EV_LIMIT_SECRET, err));
	if (token)
		EV_TRY(check_value(token_what, token, EV_LIMIT_SECRET, err));
	memset(out, 0, sizeof(*out));
	out->access_key_id = ev_strdup(akid);
	out->secret_access_key = ev_strdup(secret);
	if (token)
		out->session_token = ev_strdup(token);
	if (!out->access_key_id || !out->secret_access_key ||
	    (token && !out->session_token)) {
		ev_credentials_cleanup(out);
		return ev_error_set(err, EV_E_NOMEM, "out of memory");
	}
	return EV_OK;
}

static void set_source(struct ev_credentials *c, const char *kind,
		       const char *name)
{
	if (name)
		snprintf(c->source, sizeof(c->source), "%s %s", kind, name);
	else
		snprintf(c->source, sizeof(c->source), "%s", kind);
}

/* getenv, with "" treated as unset as botocore does. */
static const char *env_get(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* --- environment ------------------------------------------------------ */

static enum ev_err source_env(struct ev_credentials *out, struct ev_error *err)
{
	const char *akid = env_get("AWS_ACCESS_KEY_ID");
	const char *secret = env_get("AWS_SECRET_ACCESS_KEY");
	if (!akid && !secret)
		return EV_E_NO_CREDENTIALS;
	EV_ENSURE_E(err, akid, EV_E_CONFIG,
		    "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
	EV_ENSURE_E(err, secret, EV_E_CONFIG,
		    "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
	/* AWS_SESSION_TOKEN is the name the SDKs standardised on; the legacy
	 * name only counts when the new one is absent. */
	const char *token_var = "AWS_SESSION_TOKEN";
	const char *token = env_get(token_var);
	if (!token) {
		token_var = "AWS_SECURITY_TOKEN";
		token = env_get(token_var);
	}
	time_t expiration = 0;
	const char *exp = env_get("AWS_CREDENTIAL_EXPIRATION");
	if (exp && ev_time_parse_iso8601(exp, &expiration) != EV_OK)
		return ev_error_set(err, EV_E_CONFIG,
				    "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time");
	EV_TRY(creds_set(out, akid, secret, token, "AWS_ACCESS_KEY_ID",
			 "AWS_SECRET_ACCESS_KEY", token_var, err));
	out->expiration = expiration;
	set_source(out, "environment", NULL);
	return EV_OK;
}

/* --- the chain ---------------------------------------------------------- */

struct ev_credentials_provider {
	char *profile; /* explicit profile, NULL if none */
	char *region;
	char *ca_bundle;
	struct ev_aws *aws; /* borrowed */

	pthread_mutex_t lock;
	struct ev_credentials cached;
	bool have;
	bool invalidated;
};

static enum ev_err resolve_chain(struct ev_credentials_provider *p,
				 struct ev_credentials *out,
				 struct ev_error *err)
{
	if (!p->profile) {
		enum ev_err rc = source_env(out, err);
		if (rc != EV_E_NO_CREDENTIALS)
			return rc;
	}
	return ev_error_set(err, EV_E_NO_CREDENTIALS,
			    "no credentials found (environment, web identity, "
			    "shared files, container, instance metadata)");
}

static char *dup_opt(const char *s, bool *failed)
{
	if (!s)
		return NULL;
	char *d = ev_strdup(s);
	if (!d)
		*failed = true;
	return d;
}

struct ev_credentials_provider *
ev_credentials_provider_new(const struct ev_credentials_options *opts,
			    struct ev_error *err)
{
	struct ev_credentials_provider *p = calloc(1, sizeof(*p));
	if (!p) {
		ev_error_set(err, EV_E_NOMEM, "out of memory");
		return NULL;
	}
	bool failed = false;
	if (opts) {
		p->profile = dup_opt(opts->profile, &failed);
		p->region = dup_opt(opts->region, &failed);
		p->ca_bundle = dup_opt(opts->ca_bundle, &failed);
		p->aws = opts->aws;
	}
	if (failed || pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p->profile);
		free(p->region);
		free(p->ca_bundle);
		free(p);
		ev_error_set(err, EV_E_NOMEM, "out of memory");
		return NULL;
	}
	return p;
}

void ev_credentials_provider_free(struct ev_credentials_provider *p)
{
	if (!p)
		return;
	ev_credentials_cleanup(&p->cached);
	pthread_mutex_destroy(&p->lock);
	free(p->profile);
	free(p->region);
	free(p->ca_bundle);
	free(p);
}

static bool within(time_t expiration, time_t now, long seconds)
{
	return expiration != 0 && now + seconds >= expiration;
}

enum ev_err ev_credentials_provider_get(struct ev_credentials_provider *p,
					time_t now, struct ev_credentials *out,
					struct ev_error *err)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&p->lock);
	enum ev_err rc = EV_OK;
	bool need = !p->have || p->invalidated ||
		    within(p->cached.expiration, now, ADVISORY_REFRESH_SECONDS);
	if (need) {
		struct ev_credentials fresh = { 0 };
		struct ev_error ferr = { 0 };
		rc = resolve_chain(p, &fresh, &ferr);
		if (rc == EV_OK) {
			ev_credentials_cleanup(&p->cached);
			p->cached = fresh;
			p->have = true;
			p->invalidated = false;
		} else if (p->have && !p->invalidated &&
			   !within(p->cached.expiration, now,
				   MANDATORY_REFRESH_SECONDS)) {
			/* Advisory window: keep what still works. */
			rc = EV_OK;
		} else {
			if (err)
				*err = ferr;
		}
	}
	if (rc == EV_OK) {
		rc = ev_credentials_copy(out, &p->cached);
		if (rc != EV_OK)
			ev_error_set(err, rc, "out of memory");
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void ev_credentials_provider_invalidate(struct ev_credentials_provider *p)
{
	pthread_mutex_lock(&p->lock);
	p->invalidated = true;
	pthread_mutex_unlock(&p->lock);
}
