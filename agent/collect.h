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
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "aws.h"
#include "config.h"
#include "controls.h"
#include "credentials.h"
#include "err.h"
#include "finding.h"
#include "probe.h"

/* What a live observer (`evident demo`) is told as the collection goes. All
 * views, valid during the callback only. Calls come from worker threads,
 * concurrently: the observer serialises its own output. */
enum ev_collect_event_kind {
	EV_EVENT_CALL = 0, /* an AWS call was made (one per call, retries in) */
	EV_EVENT_FINDING,  /* a probe concluded something */
};

struct ev_collect_event {
	enum ev_collect_event_kind kind;
	const char *account;
	const char
	    *region; /* the signing region (calls), "" for account scope */
	/* EV_EVENT_CALL */
	const struct ev_aws_call *call;
	long http_status; /* 0: no HTTP answer */
	const char *request_id;
	const char *error_code; /* "" on success */
	double seconds;
	/* EV_EVENT_FINDING */
	const struct ev_finding *finding;
};

struct ev_collect_options {
	const struct ev_config *cfg;
	struct ev_aws *aws;
	struct ev_credentials_provider *creds;
	int shard_k, shard_n;	  /* --shard K/N; n 0: every account */
	const char *snapshot_dir; /* NULL: cfg->agent.snapshot_dir */
	bool progress;		  /* a progress line on stderr */
	/* Runs only the probes evidencing this control ("MSP-8.2.4" or just
	 * "8.2.4"); NULL: every probe. */
	const char *only_control;
	void (*on_event)(void *ctx, const struct ev_collect_event *ev);
	void *event_ctx;
	/* Set (by another thread) to stop the run: no further account is
	 * started, no further probe runs, the snapshot is aborted and the run
	 * fails with EV_E_IO "cancelled". NULL: never cancelled. */
	const atomic_bool *cancel;
};

/* True when probe p evidences the control named like only_control. */
bool ev_collect_probe_selected(const struct ev_probe *p, const char *control);

struct ev_collect_result {
	char snapshot[PATH_MAX];      /* the committed snapshot's directory */
	char caller_arn[2049];	      /* who collected (an STS ARN) */
	char session_name[64];	      /* the member role sessions' name */
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
