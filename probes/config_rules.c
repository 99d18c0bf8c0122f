/* Probe config_rules: being written. */
#include "probes.h"

enum ev_err ev_probe_config_rules_run(struct ev_probe_ctx *ctx)
{
	(void)ctx;
	return EV_OK;
}
