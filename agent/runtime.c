#include "runtime.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"

static enum ev_err load_config(struct ev_config *cfg, const char *path,
			       struct ev_error *err)
{
	const char *p = path ? path : EV_CONFIG_DEFAULT_PATH;
	enum ev_err rc = ev_config_load(p, cfg, err);
	/* Only the default file may be absent: a named one is a promise. */
	if (rc == EV_E_NOT_FOUND && !path) {
		ev_error_clear(err);
		return EV_OK;
	}
	return rc;
}

static void configure_logging(const struct ev_config *cfg,
			      const struct ev_cli_globals *g)
{
	enum ev_log_level level = cfg->agent.log_level;
	if (g->verbosity < 0)
		level = EV_LOG_ERROR;
	else if (g->verbosity == 1 && level < EV_LOG_DEBUG)
		level = EV_LOG_DEBUG;
	else if (g->verbosity >= 2)
		level = EV_LOG_TRACE;
	ev_log_configure(level, cfg->agent.log_format);
}

enum ev_err ev_runtime_config(struct ev_config *cfg,
			      const struct ev_cli_globals *g,
			      struct ev_error *err)
{
	memset(cfg, 0, sizeof(*cfg));
	EV_TRY(ev_config_init(cfg));
	EV_TRY(load_config(cfg, g->config_path, err));
	EV_TRY(ev_config_apply_env(cfg, err));
	if (g->profile) {
		char *profile = ev_strdup(g->profile);
		EV_ENSURE_E(err, profile, EV_E_NOMEM, "out of memory");
		free(cfg->aws.profile);
		cfg->aws.profile = profile;
	}
	configure_logging(cfg, g);
	return EV_OK;
}

enum ev_err ev_runtime_init(struct ev_runtime *rt,
			    const struct ev_cli_globals *g,
			    struct ev_error *err)
{
	memset(rt, 0, sizeof(*rt));
	EV_TRY(ev_runtime_config(&rt->cfg, g, err));

	struct ev_aws_options ao;
	memset(&ao, 0, sizeof(ao));
	EV_TRY(ev_aws_options_from_config(&rt->cfg, &ao, err));
	rt->aws = ev_aws_new(&ao, err);
	if (!rt->aws)
		return err->code != EV_OK ? err->code : EV_E_INTERNAL;

	/* --profile (or a configured profile) selects that profile over the
	 * environment keys, as the AWS CLI's --profile does; AWS_PROFILE
	 * alone does not, and the chain reads it itself. */
	struct ev_credentials_options co = {
	    .profile = g->profile ? g->profile : NULL,
	    .region = rt->cfg.aws.region,
	    .aws = rt->aws,
	    .ca_bundle = rt->cfg.aws.ca_bundle,
	};
	if (!co.profile && rt->cfg.aws.profile &&
	    !(getenv("AWS_PROFILE") &&
	      strcmp(getenv("AWS_PROFILE"), rt->cfg.aws.profile) == 0))
		co.profile = rt->cfg.aws.profile;
	rt->creds = ev_credentials_provider_new(&co, err);
	if (!rt->creds)
		return err->code != EV_OK ? err->code : EV_E_NOMEM;
	return EV_OK;
}

void ev_runtime_cleanup(struct ev_runtime *rt)
{
	if (!rt)
		return;
	ev_credentials_provider_free(rt->creds);
	rt->creds = NULL;
	ev_aws_free(rt->aws);
	rt->aws = NULL;
	ev_config_cleanup(&rt->cfg);
}

int ev_runtime_exit_code(enum ev_err e)
{
	switch (e) {
	case EV_E_CONFIG:
	case EV_E_NO_CREDENTIALS:
	case EV_E_NOT_FOUND:
		return EV_EXIT_USAGE;
	default:
		return EV_EXIT_INCOMPLETE;
	}
}
