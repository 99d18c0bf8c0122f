/* The AWS shared config and credentials files, read as botocore reads them.
 *
 * The config file (AWS_CONFIG_FILE, default ~/.aws/config) names profiles
 * `[profile NAME]` (shell-quoted, as botocore splits it) and `[default]`;
 * other sections (`[sso-session x]`, `[services x]`...) are not profiles.
 * The credentials file (AWS_SHARED_CREDENTIALS_FILE, default
 * ~/.aws/credentials) names them `[NAME]`. Either file may be absent. Keys
 * are lower-cased (configparser does); a `[DEFAULT]` section gives
 * fallbacks for every section of its file; a repeated section or key in one
 * file is an error, as configparser's strict mode has it. For a profile in
 * both files, the credentials file's value wins (botocore's full_config).
 *
 * Ownership: ev_profile_load* return a set the caller frees with
 * ev_profile_free, which wipes every value (credentials files hold secret
 * keys). Strings handed out are views valid until then. */
#ifndef EV_PROFILE_H
#define EV_PROFILE_H

#include <stdbool.h>

#include "err.h"

struct ev_profiles;

/* Which file(s) a lookup reads. */
enum ev_profile_file {
	EV_PROFILE_CONFIG = 1,
	EV_PROFILE_CREDENTIALS = 2,
	EV_PROFILE_ANY = 3, /* credentials file first, then config */
};

/* Loads the files named by AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE
 * or the defaults under $HOME ("~/" is expanded in the variables too).
 * Errors: EV_E_IO (unreadable, not a regular file), EV_E_LIMIT (file over
 * EV_LIMIT_INI_FILE), EV_E_CONFIG (syntax error, repeated section or key;
 * err names file:line), EV_E_NOMEM. *out is NULL on failure. */
enum ev_err ev_profile_load(struct ev_profiles **out,
			    struct ev_error *err) EV_MUST_CHECK;

/* Same with explicit paths; NULL skips that file, a missing file counts
 * as empty. */
enum ev_err ev_profile_load_files(const char *config_path,
				  const char *credentials_path,
				  struct ev_profiles **out,
				  struct ev_error *err) EV_MUST_CHECK;

/* Wipes every value and frees; accepts NULL. */
void ev_profile_free(struct ev_profiles *p);

/* Whether a section defines profile `name` in the given file(s). */
bool ev_profile_exists(const struct ev_profiles *p, const char *name,
		       enum ev_profile_file files);

/* Where a value was found, for messages (never print the value of a
 * secret key). All views. */
struct ev_profile_value {
	const char *value;
	const char *file;
	int line;
};

/* Looks key (lower case) up in profile `name`, in the given file(s):
 * the credentials file first for EV_PROFILE_ANY, then each file's
 * [DEFAULT]. Returns false when absent. */
bool ev_profile_lookup(const struct ev_profiles *p, const char *name,
		       const char *key, enum ev_profile_file files,
		       struct ev_profile_value *out);

/* The value alone, or NULL when absent. */
const char *ev_profile_get(const struct ev_profiles *p, const char *name,
			   const char *key, enum ev_profile_file files);

/* The path a file was loaded from ("" if that file was skipped), for
 * messages. */
const char *ev_profile_path(const struct ev_profiles *p,
			    enum ev_profile_file file);

/* The profile the SDKs would use: explicit (a --profile option; may be
 * NULL), else AWS_DEFAULT_PROFILE, else AWS_PROFILE, else "default".
 * *named is set when the name came from the option or a variable (botocore
 * then insists that the profile exists). A view. */
const char *ev_profile_name(const char *explicit_name, bool *named);

#endif
