#include "probes.h"

enum ev_err ev_probe_access_keys_run(struct ev_probe_ctx *ctx)
{
	(void)ctx;
	return EV_OK;
}
