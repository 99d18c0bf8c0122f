#include "collect.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "controls.h"
#include "credreport.h"
#include "digest.h"
#include "evidence.h"
#include "finding.h"
#include "log.h"
#include "pool.h"
#include "probe.h"
#include "probes.h"
#include "sts.h"
#include "timefmt.h"

/* Observation bodies kept per account; beyond it only hashes. */
#define BODY_BUDGET (32u * 1024 * 1024)
/* Sessions are re-assumed when this close to expiry. */
#define SESSION_MARGIN_S 300
#define MAX_REGIONS	 64

enum acct_state {
	ACCT_PENDING = 0,
	ACCT_COLLECTING,
	ACCT_SKIPPED, /* not collected by design: suspended, out of shard */
};

struct region {
	char name[EV_REGION_MAX];
	char opt_in[32]; /* DescribeRegions optInStatus */
	bool enabled;
};

struct run;

struct acct {
	struct run *run;
	char id[EV_ACCOUNT_ID_LEN + 1];
	char name[128];
	char status[24]; /* Organizations State */
	char *role_arn;	 /* NULL: the caller's own credentials */
	enum acct_state state;
	char skip_reason[256];

	pthread_mutex_t lock; /* session, findings, observations */
	bool session_failed;
	unsigned session_obs; /* the AssumeRole call's observation */
	unsigned regions_obs; /* DescribeRegions' */
	struct ev_credentials session;
	struct ev_error session_err;

	struct region regions[MAX_REGIONS];
	size_t n_regions;
	const char *examined[MAX_REGIONS]; /* views into regions[] */
	size_t n_examined;
	struct ev_error regions_err;
	bool regions_failed;

	struct ev_account_state probe_state;
	struct ev_findings findings;
	struct ev_observations obs;
	atomic_uint next_obs;
	atomic_int pending;
};

struct counter {
	char key[96];
	unsigned long calls, errors;
};

struct run {
	const struct ev_collect_options *o;
	const struct ev_config *cfg;
	struct ev_aws *aws;
	struct ev_credentials base;
	char caller_arn[EV_STS_ARN_MAX + 1];
	char caller_account[EV_ACCOUNT_ID_LEN + 1];
	char management[EV_ACCOUNT_ID_LEN + 1];
	char session_name[64];
	time_t started;

	struct acct *accounts;
	size_t n_accounts;
	const char **managed; /* ids of accounts in this run */
	size_t n_managed;

	struct ev_pool *pool;
	pthread_mutex_t lock; /* admission, writer, verdicts, counters */
	pthread_cond_t done_cond;
	size_t inflight;
	size_t max_inflight;
	struct ev_evidence *evidence;
	struct ev_catalog *catalog;
	struct ev_verdicts *verdicts;
	enum ev_err write_rc;
	struct ev_error write_err;

	struct counter counters[128];
	size_t n_counters;
	unsigned long calls, call_errors, retries;
	atomic_ulong jobs_total, jobs_done;
	bool tty;
};

/* ---- counting and progress ---------------------------------------------- */

static void count_call(struct run *r, const char *account,
		       const struct ev_aws_call *c,
		       const struct ev_aws_response *resp, enum ev_err rc,
		       const struct ev_error *err)
{
	if (r->o->on_event) {
		struct ev_collect_event ev = {
		    .kind = EV_EVENT_CALL,
		    .account = account,
		    .region = resp->signing_region[0]
				  ? resp->signing_region
				  : (c->region ? c->region : ""),
		    .call = c,
		    .http_status = resp->http_status,
		    .request_id = resp->request_id,
		    .error_code = rc == EV_OK		    ? ""
				  : err && err->aws_code[0] ? err->aws_code
							    : ev_err_name(rc),
		    .seconds = resp->seconds,
		};
		r->o->on_event(r->o->event_ctx, &ev);
	}
	char key[96];
	snprintf(key, sizeof(key), "%s:%s", ev_service_info(c->service)->name,
		 c->action);
	pthread_mutex_lock(&r->lock);
	r->calls++;
	r->retries +=
	    resp->attempts > 1 ? (unsigned long)resp->attempts - 1 : 0;
	if (rc != EV_OK)
		r->call_errors++;
	struct counter *ct = NULL;
	for (size_t i = 0; i < r->n_counters && !ct; i++)
		if (strcmp(r->counters[i].key, key) == 0)
			ct = &r->counters[i];
	if (!ct &&
	    r->n_counters < sizeof(r->counters) / sizeof(r->counters[0])) {
		ct = &r->counters[r->n_counters++];
		memcpy(ct->key, key, sizeof(key));
	}
	if (ct) {
		ct->calls++;
		ct->errors += rc != EV_OK;
	}
	pthread_mutex_unlock(&r->lock);
}

static void progress(struct run *r)
{
	if (!r->o->progress || !r->tty)
		return;
	pthread_mutex_lock(&r->lock);
	unsigned long calls = r->calls, errors = r->call_errors;
	pthread_mutex_unlock(&r->lock);
	fprintf(stderr,
		"\r\033[Kcollecting: %lu/%lu jobs, %lu API calls, %lu errors",
		atomic_load(&r->jobs_done), atomic_load(&r->jobs_total), calls,
		errors);
	fflush(stderr);
}

/* ---- sessions ----------------------------------------------------------- */

/* An account collected in this run (the door reaches no other). */
static struct acct *find_account(struct run *r, const char *id)
{
	for (size_t i = 0; i < r->n_accounts; i++)
		if (r->accounts[i].state == ACCT_COLLECTING &&
		    strcmp(r->accounts[i].id, id) == 0)
			return &r->accounts[i];
	return NULL;
}

/* The account's credentials, assumed (again) when missing or about to
 * expire. Called with a->lock held. */
static enum ev_err session_locked(struct run *r, struct acct *a,
				  struct ev_credentials *out,
				  struct ev_error *err)
{
	if (!a->role_arn)
		return ev_credentials_copy(out, &r->base);
	time_t now = time(NULL);
	bool fresh = a->session.access_key_id &&
		     (a->session.expiration == 0 ||
		      a->session.expiration - now > SESSION_MARGIN_S);
	/* A role that could not be assumed is not asked again in this run:
	 * every job of the account reports the same error. */
	if (!fresh && !a->session_failed) {
		ev_credentials_cleanup(&a->session);
		ev_error_clear(&a->session_err);
		struct ev_sts_assume_role_params p = {
		    .role_arn = a->role_arn,
		    .session_name = r->session_name,
		    .external_id = r->cfg->accounts.external_id,
		};
		struct ev_sts_identity who;
		memset(&who, 0, sizeof(who));
		enum ev_err rc =
		    ev_sts_assume_role(r->aws, r->cfg->aws.region, &r->base, &p,
				       &a->session, &who, &a->session_err);
		/* The AssumeRole exchange is evidence: its request ID and
		 * hash, never its body. */
		struct ev_uri_param cp[] = {{"RoleArn", a->role_arn}};
		struct ev_aws_call c = {.service = EV_SVC_STS,
					.action = "AssumeRole",
					.region = r->cfg->aws.region,
					.params = cp,
					.n_params = 1,
					.sensitive_response = true};
		struct ev_aws_response resp;
		ev_aws_response_init(&resp);
		memcpy(resp.request_id, who.request_id,
		       sizeof(resp.request_id));
		memcpy(resp.body_sha256, who.body_sha256,
		       sizeof(resp.body_sha256));
		resp.http_status = who.http_status;
		resp.attempts = who.attempts;
		count_call(r, a->id, &c, &resp, rc, &a->session_err);
		a->session_obs = atomic_fetch_add(&a->next_obs, 1);
		if (ev_observations_record(&a->obs, a->session_obs, a->id, &c,
					   r->cfg->aws.region, &resp,
					   rc == EV_OK ? NULL : &a->session_err,
					   now) != EV_OK)
			ev_log_warn("account %s: out of memory recording "
				    "AssumeRole",
				    a->id);
		ev_aws_response_cleanup(&resp);
		if (rc != EV_OK) {
			ev_credentials_cleanup(&a->session);
			a->session_failed = true;
		}
	}
	if (!a->session.access_key_id) {
		if (err)
			*err = a->session_err;
		return a->session_err.code != EV_OK ? a->session_err.code
						    : EV_E_AUTH;
	}
	return ev_credentials_copy(out, &a->session);
}

static enum ev_err session_get(struct run *r, struct acct *a,
			       struct ev_credentials *out, struct ev_error *err)
{
	pthread_mutex_lock(&a->lock);
	enum ev_err rc = session_locked(r, a, out, err);
	pthread_mutex_unlock(&a->lock);
	return rc;
}

/* ---- the probes' door --------------------------------------------------- */

struct job {
	struct run *run;
	struct acct *acct;
	const struct ev_probe *probe;
	const char *region; /* NULL: account scope */
	struct ev_findings findings;
	struct ev_observations obs;
};

static enum ev_err door_call(struct ev_probe_ctx *ctx, const char *account,
			     const struct ev_aws_call *call,
			     struct ev_aws_response *out, unsigned *obs_id,
			     struct ev_error *err)
{
	struct job *j = ctx->impl;
	struct run *r = j->run;
	struct acct *target = account ? find_account(r, account) : j->acct;
	unsigned id = atomic_fetch_add(&j->acct->next_obs, 1);
	if (obs_id)
		*obs_id = id;
	enum ev_err rc;
	if (!target) {
		rc = ev_error_set(err, EV_E_ACCESS_DENIED,
				  "account %s is not managed in this run",
				  account);
	} else {
		struct ev_credentials creds = {0};
		rc = session_get(r, target, &creds, err);
		if (rc == EV_OK) {
			rc = ev_aws_call(r->aws, call, &creds, out, err);
			count_call(r, target->id, call, out, rc, err);
		}
		ev_credentials_cleanup(&creds);
	}
	enum ev_err rec = ev_observations_record(
	    &j->obs, id, target ? target->id : account, call,
	    out->signing_region, out, rc == EV_OK ? NULL : err, time(NULL));
	if (rec != EV_OK && rc == EV_OK)
		rc = ev_error_set(err, rec, "recording an observation");
	return rc;
}

static const struct ev_probe_ops door_ops = {.call = door_call};

/* ---- accounts finishing ---------------------------------------------------
 */

/* Writes the account's part and feeds the verdicts; frees what the
 * account held. Called once, by whichever thread finished its last job. */
static void finish_account(struct run *r, struct acct *a)
{
	struct ev_evidence_region_skip skips[MAX_REGIONS];
	size_t n_skips = 0;
	for (size_t i = 0; i < a->n_regions; i++)
		if (!a->regions[i].enabled)
			skips[n_skips++] = (struct ev_evidence_region_skip){
			    a->regions[i].name, a->regions[i].opt_in};
	bool unreachable = a->session_failed;
	struct ev_evidence_account ea = {
	    .id = a->id,
	    .name = a->name[0] ? a->name : NULL,
	    .status = a->state == ACCT_SKIPPED || unreachable
			  ? EV_COLLECTION_SKIPPED
			  : EV_COLLECTION_COLLECTED,
	    .skip_reason = a->state == ACCT_SKIPPED ? a->skip_reason
			   : unreachable	    ? "role not assumable"
						    : NULL,
	    .skip_error = unreachable ? &a->session_err : NULL,
	    .regions = a->examined,
	    .n_regions = a->n_examined,
	    .regions_skipped = skips,
	    .n_regions_skipped = n_skips,
	    .findings = &a->findings,
	    .observations = &a->obs,
	};
	pthread_mutex_lock(&r->lock);
	if (r->write_rc == EV_OK)
		r->write_rc =
		    ev_evidence_add_account(r->evidence, &ea, &r->write_err);
	enum ev_err vrc = EV_OK;
	if (a->state == ACCT_SKIPPED) {
		vrc = ev_verdicts_skip_account(r->verdicts, a->id,
					       a->skip_reason);
	} else {
		char why[EV_ERROR_MSG_MAX + 64];
		if (unreachable) {
			snprintf(why, sizeof(why), "role not assumable: %s",
				 a->session_err.message);
			vrc = ev_verdicts_fail_account(r->verdicts, a->id, why);
		}
		if (vrc == EV_OK && a->regions_failed) {
			snprintf(why, sizeof(why), "regions not listed: %s",
				 a->regions_err.message);
			vrc = ev_verdicts_fail_region(r->verdicts, a->id,
						      r->cfg->aws.region, why);
		}
		for (size_t i = 0; vrc == EV_OK && i < n_skips; i++) {
			snprintf(why, sizeof(why), "not enabled (%s)",
				 skips[i].opt_in_status);
			vrc = ev_verdicts_skip_region(r->verdicts, a->id,
						      skips[i].region, why);
		}
		if (vrc == EV_OK)
			vrc = ev_verdicts_add(r->verdicts, &a->findings);
	}
	if (vrc != EV_OK && r->write_rc == EV_OK) {
		r->write_rc = vrc;
		ev_error_set(&r->write_err, vrc,
			     "account %s: control verdicts: %s", a->id,
			     ev_err_name(vrc));
	}
	r->inflight--;
	pthread_cond_broadcast(&r->done_cond);
	pthread_mutex_unlock(&r->lock);

	ev_findings_cleanup(&a->findings);
	ev_observations_cleanup(&a->obs);
	ev_credreport_state_cleanup(&a->probe_state);
	if (a->probe_state.trails_free)
		a->probe_state.trails_free(a->probe_state.trails);
	a->probe_state.trails = NULL;
}

static void job_done(struct run *r, struct acct *a)
{
	atomic_fetch_add(&r->jobs_done, 1);
	progress(r);
	if (atomic_fetch_sub(&a->pending, 1) == 1)
		finish_account(r, a);
}

/* ---- probe jobs -----------------------------------------------------------
 */

static bool cancelled(const struct run *r)
{
	return r->o->cancel && atomic_load(r->o->cancel);
}

static void run_probe(void *arg)
{
	struct job *j = arg;
	struct run *r = j->run;
	struct acct *a = j->acct;
	struct ev_probe_ctx ctx = {
	    .ops = &door_ops,
	    .impl = j,
	    .account = a->id,
	    .region = j->region,
	    .regions = a->examined,
	    .n_regions = a->n_examined,
	    .managed_accounts = r->managed,
	    .n_managed_accounts = r->n_managed,
	    .management_account = r->management[0] ? r->management : NULL,
	    .cfg = r->cfg,
	    .now = time(NULL),
	    .state = &a->probe_state,
	    .findings = &j->findings,
	};
	/* Once cancelled, jobs not started yet end without running: the
	 * snapshot is aborted, so whatever they would find is not kept. */
	enum ev_err rc = cancelled(r) ? EV_OK : j->probe->run(&ctx);
	if (rc != EV_OK) {
		struct ev_error e;
		ev_error_set(&e, rc, "probe stopped: %s", ev_err_name(rc));
		if (ev_findings_add_error(&j->findings, j->probe->id, a->id,
					  j->region, a->id, &e, NULL, 0,
					  j->probe->id) != EV_OK)
			ev_log_warn("account %s: %s: out of memory", a->id,
				    j->probe->id);
	}
	for (size_t i = 0; r->o->on_event && i < j->findings.n; i++) {
		struct ev_collect_event ev = {
		    .kind = EV_EVENT_FINDING,
		    .account = a->id,
		    .region = j->region ? j->region : "",
		    .finding = &j->findings.items[i],
		};
		r->o->on_event(r->o->event_ctx, &ev);
	}
	pthread_mutex_lock(&a->lock);
	enum ev_err m1 = ev_findings_move(&a->findings, &j->findings);
	enum ev_err m2 = ev_observations_move(&a->obs, &j->obs);
	pthread_mutex_unlock(&a->lock);
	if (m1 != EV_OK || m2 != EV_OK)
		ev_log_warn("account %s: out of memory keeping findings of %s",
			    a->id, j->probe->id);
	ev_findings_cleanup(&j->findings);
	ev_observations_cleanup(&j->obs);
	free(j);
	job_done(r, a);
}

/* Every probe of the given scope fails to run for the same reason: one
 * error finding each, so no control turns missing data into a verdict. */
static void error_for_probes(struct acct *a, enum ev_probe_scope scope,
			     const char *region, const struct ev_error *e,
			     const unsigned *obs, size_t n_obs,
			     const char *what)
{
	const struct ev_probe *t = ev_probes();
	for (size_t i = 0; i < EV_PROBE_COUNT_; i++) {
		if (t[i].scope != scope ||
		    !ev_collect_probe_selected(&t[i], a->run->o->only_control))
			continue;
		if (ev_findings_add_error(&a->findings, t[i].id, a->id, region,
					  a->id, e, obs, n_obs, what) != EV_OK)
			ev_log_warn("account %s: out of memory", a->id);
	}
}

static enum ev_err submit_job(struct run *r, struct acct *a,
			      const struct ev_probe *p, const char *region)
{
	struct job *j = calloc(1, sizeof(*j));
	EV_ENSURE(j, EV_E_NOMEM);
	j->run = r;
	j->acct = a;
	j->probe = p;
	j->region = region;
	ev_findings_init(&j->findings);
	ev_observations_init(&j->obs, BODY_BUDGET);
	atomic_fetch_add(&a->pending, 1);
	atomic_fetch_add(&r->jobs_total, 1);
	enum ev_err rc = ev_pool_submit(r->pool, run_probe, j);
	if (rc != EV_OK) {
		atomic_fetch_sub(&a->pending, 1);
		atomic_fetch_sub(&r->jobs_total, 1);
		free(j);
	}
	return rc;
}

/* ---- account setup: session, regions, jobs --------------------------------
 */

static bool region_enabled(const char *opt_in)
{
	return strcmp(opt_in, "opt-in-not-required") == 0 ||
	       strcmp(opt_in, "opted-in") == 0;
}

static enum ev_err add_region(struct acct *a, const char *name,
			      const char *opt_in, bool enabled)
{
	EV_ENSURE(a->n_regions < MAX_REGIONS, EV_E_LIMIT);
	struct region *g = &a->regions[a->n_regions++];
	snprintf(g->name, sizeof(g->name), "%s", name);
	snprintf(g->opt_in, sizeof(g->opt_in), "%s", opt_in);
	g->enabled = enabled;
	if (g->enabled)
		a->examined[a->n_examined++] = g->name;
	return EV_OK;
}

static int region_cmp(const void *x, const void *y)
{
	return strcmp(((const struct region *)x)->name,
		      ((const struct region *)y)->name);
}

static enum ev_err discover_regions(struct run *r, struct acct *a,
				    const struct ev_credentials *creds,
				    struct ev_error *err)
{
	if (!r->cfg->accounts.all_regions) {
		for (size_t i = 0; i < r->cfg->accounts.n_regions; i++)
			EV_TRY(add_region(a, r->cfg->accounts.regions[i],
					  "configured", true));
		return EV_OK;
	}
	struct ev_uri_param p[] = {{"AllRegions", "true"}};
	struct ev_aws_call c = {.service = EV_SVC_EC2,
				.action = "DescribeRegions",
				.region = r->cfg->aws.region,
				.params = p,
				.n_params = 1};
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	unsigned id = atomic_fetch_add(&a->next_obs, 1);
	a->regions_obs = id;
	enum ev_err rc = ev_aws_call(r->aws, &c, creds, &resp, err);
	count_call(r, a->id, &c, &resp, rc, err);
	pthread_mutex_lock(&a->lock);
	enum ev_err rec =
	    ev_observations_record(&a->obs, id, a->id, &c, resp.signing_region,
				   &resp, rc == EV_OK ? NULL : err, time(NULL));
	pthread_mutex_unlock(&a->lock);
	if (rec != EV_OK && rc == EV_OK)
		rc = ev_error_set(err, rec, "recording an observation");
	const struct ev_xml_node *root =
	    rc == EV_OK ? ev_aws_response_result(&resp, c.action) : NULL;
	const struct ev_xml_node *item = ev_xml_path(root, "regionInfo/item");
	for (; rc == EV_OK && item; item = ev_xml_next_same(item)) {
		const char *name = ev_xml_path_text(item, "regionName");
		const char *opt = ev_xml_path_text(item, "optInStatus");
		if (!opt || !*opt)
			opt = "opt-in-not-required";
		if (name && *name)
			rc = add_region(a, name, opt, region_enabled(opt));
		if (rc == EV_E_LIMIT)
			ev_error_set(err, rc, "more than %d regions",
				     MAX_REGIONS);
	}
	if (rc == EV_OK && a->n_regions == 0)
		rc = ev_error_set(err, EV_E_MALFORMED,
				  "DescribeRegions listed no region");
	ev_aws_response_cleanup(&resp);
	qsort(a->regions, a->n_regions, sizeof(a->regions[0]), region_cmp);
	a->n_examined = 0;
	for (size_t i = 0; i < a->n_regions; i++)
		if (a->regions[i].enabled)
			a->examined[a->n_examined++] = a->regions[i].name;
	return rc;
}

static void setup_account(void *arg)
{
	struct acct *a = arg;
	struct run *r = a->run;
	struct ev_credentials creds = {0};
	struct ev_error err;
	ev_error_clear(&err);

	/* The setup holds one pending count so the account cannot finish
	 * while its jobs are still being queued. */
	atomic_store(&a->pending, 1);
	enum ev_err rc = session_get(r, a, &creds, &err);
	if (rc != EV_OK) {
		char what[320];
		snprintf(what, sizeof(what), "cannot assume %s", a->role_arn);
		error_for_probes(a, EV_SCOPE_ACCOUNT, NULL, &err,
				 &a->session_obs, 1, what);
		error_for_probes(a, EV_SCOPE_REGION, NULL, &err,
				 &a->session_obs, 1, what);
		ev_log_error(EV_LOG_WARN, what, &err);
		goto out;
	}
	/* Regions are listed only when a selected probe works per region. */
	bool regional = false;
	const struct ev_probe *sel = ev_probes();
	for (size_t i = 0; i < EV_PROBE_COUNT_; i++)
		regional =
		    regional ||
		    (sel[i].scope == EV_SCOPE_REGION &&
		     ev_collect_probe_selected(&sel[i], r->o->only_control));
	rc = regional ? discover_regions(r, a, &creds, &err) : EV_OK;
	if (rc != EV_OK) {
		a->regions_failed = true;
		a->regions_err = err;
		error_for_probes(a, EV_SCOPE_REGION, NULL, &err,
				 &a->regions_obs, 1,
				 "cannot list the account's regions");
	}
	const struct ev_probe *t = ev_probes();
	for (size_t i = 0; i < EV_PROBE_COUNT_; i++) {
		if (!ev_collect_probe_selected(&t[i], r->o->only_control))
			continue;
		if (t[i].scope == EV_SCOPE_ACCOUNT) {
			if (submit_job(r, a, &t[i], NULL) != EV_OK)
				ev_log_warn("account %s: cannot queue %s",
					    a->id, t[i].id);
			continue;
		}
		for (size_t g = 0; !a->regions_failed && g < a->n_examined; g++)
			if (submit_job(r, a, &t[i], a->examined[g]) != EV_OK)
				ev_log_warn("account %s: cannot queue %s",
					    a->id, t[i].id);
	}
out:
	ev_credentials_cleanup(&creds);
	job_done(r, a);
}

/* ---- the account list ------------------------------------------------------
 */

static enum ev_err add_account(struct run *r, size_t *cap, const char *id,
			       const char *name, const char *status,
			       const char *role_arn)
{
	if (r->n_accounts == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct acct *p = reallocarray(r->accounts, c, sizeof(*p));
		EV_ENSURE(p, EV_E_NOMEM);
		r->accounts = p;
		*cap = c;
	}
	struct acct *a = &r->accounts[r->n_accounts];
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "%s", id);
	snprintf(a->name, sizeof(a->name), "%s", name ? name : "");
	snprintf(a->status, sizeof(a->status), "%s",
		 status ? status : "ACTIVE");
	if (role_arn) {
		a->role_arn = ev_strdup(role_arn);
		EV_ENSURE(a->role_arn, EV_E_NOMEM);
	}
	r->n_accounts++;
	return EV_OK;
}

static enum ev_err role_for(const struct run *r, const char *id, char *out,
			    size_t n)
{
	const char *partition = ev_region_partition(r->cfg->aws.region);
	int w = snprintf(out, n, "arn:%s:iam::%s:role/%s",
			 partition ? partition : "aws", id,
			 r->cfg->accounts.role_name);
	EV_ENSURE(w > 0 && (size_t)w < n, EV_E_LIMIT);
	return EV_OK;
}

struct org_page {
	struct run *run;
	size_t *cap;
};

static enum ev_err org_page(void *arg, const struct ev_aws_response *page,
			    struct ev_error *err)
{
	struct org_page *op = arg;
	struct run *r = op->run;
	json_t *list = json_object_get(page->json, "Accounts");
	size_t i;
	json_t *acc;
	json_array_foreach(list, i, acc)
	{
		const char *id = json_string_value(json_object_get(acc, "Id"));
		const char *name =
		    json_string_value(json_object_get(acc, "Name"));
		/* State replaces the retiring Status (aws-api.md §10.2). */
		const char *state =
		    json_string_value(json_object_get(acc, "State"));
		if (!state)
			state =
			    json_string_value(json_object_get(acc, "Status"));
		const char *arn =
		    json_string_value(json_object_get(acc, "Arn"));
		if (!id || strlen(id) != EV_ACCOUNT_ID_LEN)
			return ev_error_set(err, EV_E_MALFORMED,
					    "ListAccounts: account without a "
					    "valid Id");
		/* arn:aws:organizations::<management>:account/o-.../<id> */
		if (arn && !r->management[0]) {
			const char *p = strstr(arn, "::");
			if (p && strlen(p + 2) > EV_ACCOUNT_ID_LEN &&
			    p[2 + EV_ACCOUNT_ID_LEN] == ':')
				snprintf(r->management, sizeof(r->management),
					 "%.12s", p + 2);
		}
		char role[600];
		const char *role_arn = NULL;
		if (strcmp(id, r->caller_account) != 0) {
			EV_TRY(role_for(r, id, role, sizeof(role)));
			role_arn = role;
		}
		EV_TRY(add_account(r, op->cap, id, name, state, role_arn));
	}
	return EV_OK;
}

static enum ev_err list_accounts(struct run *r, struct ev_error *err)
{
	size_t cap = 0;
	const struct ev_config_accounts *ca = &r->cfg->accounts;
	switch (ca->source) {
	case EV_ACCOUNTS_LIST:
		for (size_t i = 0; i < ca->n_list; i++) {
			char role[600];
			const char *arn = ca->list[i].role_arn;
			if (!arn &&
			    strcmp(ca->list[i].id, r->caller_account) != 0) {
				EV_TRY(role_for(r, ca->list[i].id, role,
						sizeof(role)));
				arn = role;
			}
			EV_TRY(add_account(r, &cap, ca->list[i].id, NULL, NULL,
					   arn));
		}
		return EV_OK;
	case EV_ACCOUNTS_ORGANIZATION: {
		json_t *body = json_pack("{s:i}", "MaxResults", 20);
		EV_ENSURE_E(err, body, EV_E_NOMEM, "out of memory");
		struct ev_aws_call c = {.service = EV_SVC_ORGANIZATIONS,
					.action = "ListAccounts",
					.region = r->cfg->aws.region,
					.json = body};
		struct org_page op = {r, &cap};
		enum ev_err rc =
		    ev_aws_paginate(r->aws, &c, &r->base, org_page, &op, err);
		json_decref(body);
		if (rc != EV_OK)
			ev_error_prefix(err, "listing the organization's "
					     "accounts: ");
		return rc;
	}
	case EV_ACCOUNTS_SELF:
	default:
		return add_account(r, &cap, r->caller_account, NULL, NULL,
				   NULL);
	}
}

/* ---- identity, manifest, the run ----------------------------------------- */

static enum ev_err caller_identity(struct run *r, struct ev_error *err)
{
	struct ev_sts_identity id;
	memset(&id, 0, sizeof(id));
	EV_TRY(ev_sts_get_caller_identity(r->aws, r->cfg->aws.region, &r->base,
					  &id, err));
	snprintf(r->caller_arn, sizeof(r->caller_arn), "%s", id.arn);
	EV_ENSURE_E(err, strlen(id.account) == EV_ACCOUNT_ID_LEN,
		    EV_E_MALFORMED,
		    "GetCallerIdentity: account id of %zu "
		    "characters",
		    strlen(id.account));
	memcpy(r->caller_account, id.account, EV_ACCOUNT_ID_LEN + 1);
	return EV_OK;
}

static json_t *thresholds_json(const struct ev_config *cfg)
{
	return json_pack(
	    "{s:i, s:i, s:i, s:i, s:i, s:s}", "root_unused_days",
	    cfg->thresholds.root_unused_days, "access_key_max_age_days",
	    cfg->thresholds.access_key_max_age_days, "access_key_unused_days",
	    cfg->thresholds.access_key_unused_days, "log_retention_days",
	    cfg->thresholds.log_retention_days, "digest_max_age_hours",
	    cfg->probes.digest_max_age_hours, "lambda_outside_vpc",
	    cfg->probes.lambda_outside_vpc == EV_LAMBDA_OUTSIDE_VPC_FAIL
		? "fail"
		: "warn");
}

static json_t *manifest_fields(struct run *r)
{
	json_t *by_action = json_object();
	for (size_t i = 0; i < r->n_counters; i++)
		json_object_set_new(
		    by_action, r->counters[i].key,
		    json_pack("{s:I, s:I}", "calls",
			      (json_int_t)r->counters[i].calls, "errors",
			      (json_int_t)r->counters[i].errors));
	json_t *collected = json_array(), *skipped = json_array();
	for (size_t i = 0; i < r->n_accounts; i++) {
		const struct acct *a = &r->accounts[i];
		if (a->state == ACCT_SKIPPED)
			json_array_append_new(
			    skipped, json_pack("{s:s, s:s}", "account", a->id,
					       "reason", a->skip_reason));
		else if (a->session_failed)
			json_array_append_new(
			    skipped,
			    json_pack("{s:s, s:s, s:s, s:s}", "account", a->id,
				      "reason", "role not assumable", "error",
				      a->session_err.aws_code[0]
					  ? a->session_err.aws_code
					  : ev_err_name(a->session_err.code),
				      "request_id", a->session_err.request_id));
		else
			json_array_append_new(collected, json_string(a->id));
	}
	json_t *scope = json_pack(
	    "{s:s, s:o, s:o, s:s}", "source",
	    r->cfg->accounts.source == EV_ACCOUNTS_ORGANIZATION ? "organization"
	    : r->cfg->accounts.source == EV_ACCOUNTS_LIST	? "list"
								: "self",
	    "accounts_collected", collected, "accounts_skipped", skipped,
	    "regions",
	    r->cfg->accounts.all_regions ? "all enabled" : "configured");
	if (r->o->shard_n)
		json_object_set_new(scope, "shard",
				    json_pack("{s:i, s:i}", "k", r->o->shard_k,
					      "n", r->o->shard_n));
	if (r->management[0])
		json_object_set_new(scope, "management_account",
				    json_string(r->management));
	return json_pack(
	    "{s:{s:s, s:s}, s:o, s:o, s:{s:I, s:I, s:I, s:o}, s:o, s:o}",
	    "caller", "arn", r->caller_arn, "account", r->caller_account,
	    "scope", scope, "thresholds", thresholds_json(r->cfg), "api_calls",
	    "total", (json_int_t)r->calls, "errors", (json_int_t)r->call_errors,
	    "retries", (json_int_t)r->retries, "by_action", by_action,
	    "controls", ev_verdicts_json(r->verdicts), "documents",
	    ev_verdicts_documents_json(r->verdicts));
}

static void run_cleanup(struct run *r)
{
	ev_pool_free(r->pool);
	for (size_t i = 0; i < r->n_accounts; i++) {
		struct acct *a = &r->accounts[i];
		free(a->role_arn);
		ev_credentials_cleanup(&a->session);
		ev_findings_cleanup(&a->findings);
		ev_observations_cleanup(&a->obs);
		pthread_mutex_destroy(&a->lock);
		pthread_mutex_destroy(&a->probe_state.lock);
	}
	free(r->accounts);
	free(r->managed);
	ev_evidence_abort(r->evidence);
	ev_verdicts_free(r->verdicts);
	ev_catalog_free(r->catalog);
	ev_credentials_cleanup(&r->base);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->done_cond);
}

void ev_collect_result_cleanup(struct ev_collect_result *res)
{
	if (!res)
		return;
	ev_verdicts_free(res->verdicts);
	res->verdicts = NULL;
}

bool ev_collect_probe_selected(const struct ev_probe *p, const char *control)
{
	if (!control)
		return true;
	size_t n = strlen(control);
	for (const char *const *c = p->controls; *c; c++) {
		size_t m = strlen(*c);
		/* "8.2.4" names "MSP-8.2.4"; "3.14" names "DEVOPS-3.14". */
		if (strcasecmp(*c, control) == 0 ||
		    (m > n && (*c)[m - n - 1] == '-' &&
		     strcasecmp(*c + m - n, control) == 0))
			return true;
	}
	return false;
}

enum ev_err ev_collect_parse_shard(const char *s, int *k, int *n)
{
	char *end = NULL;
	long kk = strtol(s, &end, 10);
	EV_ENSURE(end != s && *end == '/', EV_E_CONFIG);
	const char *ns = end + 1;
	long nn = strtol(ns, &end, 10);
	EV_ENSURE(end != ns && *end == '\0', EV_E_CONFIG);
	EV_ENSURE(nn >= 1 && nn <= 4096 && kk >= 1 && kk <= nn, EV_E_CONFIG);
	*k = (int)kk;
	*n = (int)nn;
	return EV_OK;
}

bool ev_collect_in_shard(const char *account, int k, int n)
{
	if (n <= 1)
		return true;
	unsigned char d[EV_SHA256_LEN];
	ev_sha256(account, strlen(account), d);
	unsigned long v = ((unsigned long)d[0] << 24) |
			  ((unsigned long)d[1] << 16) |
			  ((unsigned long)d[2] << 8) | d[3];
	return (int)(v % (unsigned long)n) == k - 1;
}

enum ev_err ev_collect_run(const struct ev_collect_options *o,
			   struct ev_collect_result *res, struct ev_error *err)
{
	struct run r;
	memset(&r, 0, sizeof(r));
	memset(res, 0, sizeof(*res));
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.done_cond, NULL);
	r.o = o;
	r.cfg = o->cfg;
	r.aws = o->aws;
	r.started = time(NULL);
	r.tty = isatty(STDERR_FILENO);
	char stamp[EV_AMZ_DATE_LEN + 1];
	ev_time_format_amz(r.started, stamp);
	/* Role session names (2-64 of [\w+=,.@-]) name the snapshot, so
	 * the member accounts' CloudTrail shows which run made each call. */
	memcpy(r.session_name, "evident-", 8);
	memcpy(r.session_name + 8, stamp, sizeof(stamp));

	enum ev_err rc =
	    ev_credentials_provider_get(o->creds, r.started, &r.base, err);
	if (rc != EV_OK)
		goto out;
	rc = caller_identity(&r, err);
	if (rc != EV_OK) {
		ev_error_prefix(err, "checking the credentials: ");
		goto out;
	}
	ev_log_info("collecting as %s", r.caller_arn);
	rc = list_accounts(&r, err);
	if (rc != EV_OK)
		goto out;

	r.managed = calloc(r.n_accounts ? r.n_accounts : 1, sizeof(*r.managed));
	if (!r.managed) {
		rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < r.n_accounts; i++) {
		struct acct *a = &r.accounts[i];
		pthread_mutex_init(&a->lock, NULL);
		pthread_mutex_init(&a->probe_state.lock, NULL);
		snprintf(a->probe_state.account, sizeof(a->probe_state.account),
			 "%s", a->id);
		ev_findings_init(&a->findings);
		ev_observations_init(&a->obs, BODY_BUDGET);
		if (o->shard_n > 1 &&
		    !ev_collect_in_shard(a->id, o->shard_k, o->shard_n)) {
			a->state = ACCT_SKIPPED;
			snprintf(a->skip_reason, sizeof(a->skip_reason),
				 "in another shard");
			continue;
		}
		if (strcmp(a->status, "ACTIVE") != 0) {
			a->state = ACCT_SKIPPED;
			snprintf(a->skip_reason, sizeof(a->skip_reason),
				 "account is %s", a->status);
			continue;
		}
		a->state = ACCT_COLLECTING;
		r.managed[r.n_managed++] = a->id;
	}

	rc = ev_catalog_load(r.cfg->controls.catalog, &r.catalog, err);
	if (rc == EV_OK)
		rc = ev_verdicts_new(r.catalog, r.cfg, &r.verdicts, err);
	if (rc != EV_OK)
		goto out;
	struct ev_evidence_options eo = {
	    .snapshot_dir =
		o->snapshot_dir ? o->snapshot_dir : r.cfg->agent.snapshot_dir,
	    .started_at = r.started,
	    .signing_key_path = r.cfg->agent.signing_key,
	};
	r.evidence = ev_evidence_begin(&eo, err);
	if (!r.evidence) {
		rc = err->code ? err->code : EV_E_IO;
		goto out;
	}
	r.pool = ev_pool_new(r.cfg->agent.concurrency, err);
	if (!r.pool) {
		rc = err->code;
		goto out;
	}
	/* Accounts in flight are bounded so memory does not grow with the
	 * organization: each holds its findings until its part is written. */
	r.max_inflight = (size_t)r.cfg->agent.concurrency * 2;
	for (size_t i = 0; i < r.n_accounts && !cancelled(&r); i++) {
		struct acct *a = &r.accounts[i];
		if (a->state == ACCT_SKIPPED) {
			pthread_mutex_lock(&r.lock);
			r.inflight++;
			pthread_mutex_unlock(&r.lock);
			finish_account(&r, a);
			continue;
		}
		pthread_mutex_lock(&r.lock);
		while (r.inflight >= r.max_inflight)
			pthread_cond_wait(&r.done_cond, &r.lock);
		r.inflight++;
		pthread_mutex_unlock(&r.lock);
		a->run = &r;
		atomic_fetch_add(&r.jobs_total, 1);
		if (ev_pool_submit(r.pool, setup_account, a) != EV_OK) {
			rc = ev_error_set(err, EV_E_NOMEM, "out of memory");
			ev_pool_wait(r.pool);
			goto out;
		}
	}
	ev_pool_wait(r.pool);
	if (r.o->progress && r.tty)
		fputs("\r\033[K", stderr);
	if (cancelled(&r)) {
		rc = ev_error_set(err, EV_E_IO,
				  "cancelled: the collection was stopped and "
				  "its snapshot discarded");
		goto out;
	}
	if (r.write_rc != EV_OK) {
		rc = r.write_rc;
		*err = r.write_err;
		goto out;
	}
	rc = ev_evidence_commit(r.evidence, manifest_fields(&r), res->snapshot,
				sizeof(res->snapshot), err);
	r.evidence = NULL;
	if (rc != EV_OK)
		goto out;
	res->exit_code = ev_verdicts_exit_code(r.verdicts);
	snprintf(res->caller_arn, sizeof(res->caller_arn), "%s", r.caller_arn);
	memcpy(res->session_name, r.session_name, sizeof(res->session_name));
	res->verdicts = r.verdicts;
	r.verdicts = NULL;
	res->api_calls = r.calls;
	res->api_errors = r.call_errors;
	for (size_t i = 0; i < r.n_accounts; i++) {
		if (r.accounts[i].state == ACCT_SKIPPED ||
		    r.accounts[i].session_failed)
			res->accounts_skipped++;
		else
			res->accounts_collected++;
	}
out:
	run_cleanup(&r);
	return rc;
}
