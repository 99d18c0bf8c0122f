/* What every command that talks to AWS sets up, in one place: the
 * configuration (the file, then the environment, then command-line
 * switches), logging, one AWS client and the credential provider.
 *
 * Ownership: struct ev_runtime is caller storage owning everything in it
 * (ev_runtime_init / ev_runtime_cleanup; cleanup is safe on a zeroed or
 * half-initialised runtime). */
#ifndef EV_RUNTIME_H
#define EV_RUNTIME_H

#include "aws.h"
#include "cli.h"
#include "config.h"
#include "credentials.h"
#include "err.h"

struct ev_runtime {
	struct ev_config cfg;
	struct ev_aws *aws;
	struct ev_credentials_provider *creds;
};

/* Loads the configuration: --config if given (it must exist), else the
 * default path if it exists, else the defaults; applies the environment;
 * lets --profile and --verbose/--quiet win; configures logging; makes the
 * client and the provider (no credential is resolved yet). Errors:
 * EV_E_CONFIG (with file:line or the variable), EV_E_IO, EV_E_LIMIT,
 * EV_E_NOMEM. */
enum ev_err ev_runtime_init(struct ev_runtime *rt,
			    const struct ev_cli_globals *g,
			    struct ev_error *err) EV_MUST_CHECK;
void ev_runtime_cleanup(struct ev_runtime *rt);

/* The configuration alone, for commands that make no AWS call (keygen,
 * verify): cfg is initialised and loaded as ev_runtime_init loads it (the
 * file, the environment, --profile), and logging configured. cfg must be
 * cleaned up by the caller on success and on failure. Errors as
 * ev_runtime_init. */
enum ev_err ev_runtime_config(struct ev_config *cfg,
			      const struct ev_cli_globals *g,
			      struct ev_error *err) EV_MUST_CHECK;

/* The exit code for a failed setup: 2 for configuration and usage
 * problems, 3 otherwise. */
int ev_runtime_exit_code(enum ev_err e);

#endif
