/* The probes' door: thin wrappers over the context's ops, so a probe
 * reads the same whoever stands behind the door. */
#include "probe.h"

enum ev_err ev_probe_call(struct ev_probe_ctx *ctx,
			  const struct ev_aws_call *call,
			  struct ev_aws_response *out, unsigned *obs_id,
			  struct ev_error *err)
{
	return ctx->ops->call(ctx, NULL, call, out, obs_id, err);
}

enum ev_err ev_probe_call_in(struct ev_probe_ctx *ctx, const char *account,
			     const struct ev_aws_call *call,
			     struct ev_aws_response *out, unsigned *obs_id,
			     struct ev_error *err)
{
	return ctx->ops->call(ctx, account, call, out, obs_id, err);
}

struct door_pages {
	struct ev_probe_ctx *ctx;
	unsigned *obs_ids;
	size_t max_obs;
	size_t *n_obs;
};

static enum ev_err door_call(void *fn_ctx, const struct ev_aws_call *call,
			     struct ev_aws_response *out, struct ev_error *err)
{
	struct door_pages *d = fn_ctx;
	unsigned id = 0;
	enum ev_err rc = ev_probe_call(d->ctx, call, out, &id, err);
	/* A failed page is evidence too: its observation is cited. */
	if (*d->n_obs < d->max_obs)
		d->obs_ids[*d->n_obs] = id;
	(*d->n_obs)++;
	return rc;
}

enum ev_err ev_probe_paginate(
    struct ev_probe_ctx *ctx, const struct ev_aws_call *call,
    enum ev_err (*on_page)(void *arg, const struct ev_aws_response *page,
			   struct ev_error *err),
    void *arg, unsigned *obs_ids, size_t max_obs, size_t *n_obs,
    struct ev_error *err)
{
	*n_obs = 0;
	struct door_pages d = {ctx, obs_ids, max_obs, n_obs};
	return ev_aws_paginate_with(door_call, &d, call, on_page, arg, err);
}
