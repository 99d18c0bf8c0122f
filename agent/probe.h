/* Probes: one check each, in one static table (probes/probes.c).
 *
 * A probe never prints, exits or touches files. Its run function gets a
 * context whose door functions below are its only way to the world: they
 * make the AWS call in the job's account, record the observation, and
 * hand back its id for findings to cite. Tests swap the door (ctx->ops)
 * for recorded responses.
 *
 * Ownership: the context and everything reached from it belong to the
 * caller (the collector or a test); findings go into ctx->findings. */
#ifndef EV_PROBE_H
#define EV_PROBE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "aws.h"
#include "config.h"
#include "err.h"
#include "finding.h"

enum ev_probe_scope {
	EV_SCOPE_ACCOUNT = 0, /* once per account (IAM, global facts) */
	EV_SCOPE_REGION,      /* once per account and enabled region */
};

struct ev_probe_ctx;

/* The door's implementation (the collector's, or a test's). */
struct ev_probe_ops {
	/* One call in `account` (NULL: the job's account; another managed
	 * account for cross-account evidence such as a log bucket). Records
	 * an observation and sets *obs_id. Errors as ev_aws_call, plus
	 * EV_E_ACCESS_DENIED when `account` is not managed in this run. */
	enum ev_err (*call)(struct ev_probe_ctx *ctx, const char *account,
			    const struct ev_aws_call *call,
			    struct ev_aws_response *out, unsigned *obs_id,
			    struct ev_error *err);
};

/* Facts shared by every job of one account, computed once (the
 * credential report, trail statuses): guarded by `lock`. */
struct ev_account_state {
	pthread_mutex_t lock;
	char account[EV_ACCOUNT_ID_LEN + 1];
	void *credreport;     /* struct ev_credreport *, owned (credreport.h) */
	bool credreport_done; /* tried: credreport or credreport_err is set */
	struct ev_error credreport_err;
	unsigned credreport_obs[4]; /* the calls the report rests on */
	size_t credreport_n_obs;
	/* How the report's poll waits (NULL: nanosleep): a seam so unit
	 * tests never sleep. */
	void (*sleep_ms)(void *arg, long ms);
	void *sleep_arg;
	/* Trail statuses read once for every region job of the account
	 * (probes/cloudtrail.c): owned, freed by trails_free(trails) when
	 * the account's jobs are over (NULL when nothing was cached). */
	void *trails;
	void (*trails_free)(void *trails);
};

struct ev_probe_ctx {
	const struct ev_probe_ops *ops;
	void *impl;		    /* the door's own state */
	const char *account;	    /* the job's account id */
	const char *region;	    /* the job's region; NULL: account scope */
	const char *const *regions; /* every region examined in this account */
	size_t n_regions;
	const char *const *managed_accounts; /* every account in this run */
	size_t n_managed_accounts;
	const char *management_account; /* the organization's, or NULL */
	const struct ev_config *cfg;	/* thresholds and probe settings */
	time_t now;
	struct ev_account_state *state;
	struct ev_findings *findings; /* where the probe adds its findings */
};

/* The door: one call (see struct ev_probe_ops). */
enum ev_err ev_probe_call(struct ev_probe_ctx *ctx,
			  const struct ev_aws_call *call,
			  struct ev_aws_response *out, unsigned *obs_id,
			  struct ev_error *err) EV_MUST_CHECK;
/* Same, in another managed account. */
enum ev_err ev_probe_call_in(struct ev_probe_ctx *ctx, const char *account,
			     const struct ev_aws_call *call,
			     struct ev_aws_response *out, unsigned *obs_id,
			     struct ev_error *err) EV_MUST_CHECK;

/* Every page of a paginated call through the door (tokens as
 * ev_aws_paginate). obs_ids receives the observation id of each page (at
 * most max_obs kept; *n_obs counts them all). Errors: those of the call
 * and of on_page, EV_E_LIMIT, EV_E_MALFORMED (a repeated token). */
enum ev_err ev_probe_paginate(
    struct ev_probe_ctx *ctx, const struct ev_aws_call *call,
    enum ev_err (*on_page)(void *arg, const struct ev_aws_response *page,
			   struct ev_error *err),
    void *arg, unsigned *obs_ids, size_t max_obs, size_t *n_obs,
    struct ev_error *err) EV_MUST_CHECK;

/* A row of the probe table. */
struct ev_probe {
	const char *id; /* "root-mfa"; sorted, unique */
	const char *title;
	enum ev_probe_scope scope;
	const char *const
	    *permissions; /* NULL-terminated "iam:GetAccountSummary" */
	const char *const
	    *controls; /* NULL-terminated catalog ids "MSP-8.1.8" */
	/* Adds findings for ctx->account (and ctx->region). Returns EV_OK
	 * when it recorded what it could (failed calls become error
	 * findings); another code only when it could not even record that
	 * (EV_E_NOMEM). */
	enum ev_err (*run)(struct ev_probe_ctx *ctx);
};

#endif
