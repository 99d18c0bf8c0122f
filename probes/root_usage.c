#include "probes.h"

enum ev_err ev_probe_root_usage_run(struct ev_probe_ctx *ctx)
{
	(void)ctx;
	return EV_OK;
}
