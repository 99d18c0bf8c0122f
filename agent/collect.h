/* One collection: the caller's identity, the account list (self, a list,
 * or the organization), a session per account (AssumeRole), the enabled
 * regions, then account x region x probe jobs on a worker pool; each
 * account's findings and observations are streamed into the snapshot as
 * soon as its jobs are done, and fed to the control verdicts.
 *
 * Ownership: options are views the caller keeps alive during the run; the
 * result is caller storage (ev_collect_result_cleanup). */
#ifndef EV_COLLECT_H
#define EV_COLLECT_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "aws.h"
#include "config.h"
#include "controls.h"
#include "credentials.h"
#include "err.h"

struct ev_collect_options {
	const struct ev_config *cfg;
	struct ev_aws *aws;
	struct ev_credentials_provider *creds;
	int shard_k, shard_n;	  /* --shard K/N; n 0: every account */
	const char *snapshot_dir; /* NULL: cfg->agent.snapshot_dir */
	bool progress;		  /* a progress line on stderr */
};

struct ev_collect_result {
	char snapshot[PATH_MAX];      /* the committed snapshot's directory */
	int exit_code;		      /* DESIGN.md's rule */
	struct ev_verdicts *verdicts; /* owned: the control verdicts */
	unsigned long api_calls, api_errors, accounts_collected,
	    accounts_skipped, findings;
};

void ev_collect_result_cleanup(struct ev_collect_result *r);

/* Runs one collection and commits its snapshot. Errors: EV_E_CONFIG,
 * EV_E_NO_CREDENTIALS and the caller-identity call's errors (nothing was
 * collected), EV_E_IO (the snapshot could not be written). Failures inside
 * accounts never fail the run: they become error findings. */
enum ev_err ev_collect_run(const struct ev_collect_options *o,
			   struct ev_collect_result *r,
			   struct ev_error *err) EV_MUST_CHECK;

/* Parses "K/N" (1 <= K <= N <= 4096). Errors: EV_E_CONFIG. */
enum ev_err ev_collect_parse_shard(const char *s, int *k, int *n) EV_MUST_CHECK;
/* True when account falls in shard k of n (stable across runs and
 * agents: a hash of the id). */
bool ev_collect_in_shard(const char *account, int k, int n);

#endif
