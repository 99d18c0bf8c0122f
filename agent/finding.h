/* Findings and observations: what a probe concluded, and the API calls it
 * rests on.
 *
 * Ownership: struct ev_findings and struct ev_observations are caller
 * storage (init / cleanup) owning every string, JSON value and body in
 * them. Adding takes ownership of `details` (json_t, stolen) on success and
 * on failure. Observation bodies never hold secrets: the recorder drops the
 * body of a sensitive call (STS AssumeRole) and keeps its hash only. Both
 * containers are single-threaded: a job fills its own and hands it over
 * whole. */
#ifndef EV_FINDING_H
#define EV_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "aws.h"
#include "digest.h"
#include "err.h"

enum ev_status {
	EV_STATUS_PASS = 0,
	EV_STATUS_FAIL,
	EV_STATUS_WARN,	 /* reported, not failing (Lambda outside a VPC) */
	EV_STATUS_ERROR, /* evidence could not be collected */
	EV_STATUS_NOT_APPLICABLE,
	EV_STATUS_COUNT_
};

/* "pass", "fail", "warn", "error", "not-applicable". */
const char *ev_status_name(enum ev_status s);

#define EV_ACCOUNT_ID_LEN  12
#define EV_REGION_MAX	   32
#define EV_FINDING_MAX_OBS 64

struct ev_finding {
	const char *probe_id; /* static: the probe table's id */
	char account[EV_ACCOUNT_ID_LEN + 1];
	char region[EV_REGION_MAX]; /* "" for account-scope findings */
	char *resource;		    /* ARN or id; owned, never NULL */
	enum ev_status status;
	char *reason;	 /* one short sentence; owned */
	json_t *details; /* object; owned, may be NULL */
	/* error findings: what AWS said */
	char error_code[EV_ERROR_CODE_MAX];
	char request_id[EV_ERROR_RID_MAX];
	unsigned obs[EV_FINDING_MAX_OBS]; /* observation ids it rests on */
	size_t n_obs;
};

/* The observation ids a finding will cite, gathered as a probe makes its
 * calls; ids past EV_FINDING_MAX_OBS are dropped, as a finding keeps no
 * more. Caller storage, zero-initialised. */
struct ev_obs_list {
	unsigned ids[EV_FINDING_MAX_OBS];
	size_t n;
};

void ev_obs_list_add(struct ev_obs_list *o, const unsigned *ids, size_t n);

struct ev_findings {
	struct ev_finding *items;
	size_t n, cap;
};

void ev_findings_init(struct ev_findings *f);
void ev_findings_cleanup(struct ev_findings *f);

/* Appends a finding; reason is printf-formatted (never a secret). obs lists
 * the observation ids (at most EV_FINDING_MAX_OBS are kept; the rest are
 * dropped with "obs_truncated" added to details). Errors: EV_E_NOMEM. */
enum ev_err ev_findings_add(struct ev_findings *f, const char *probe_id,
			    const char *account, const char *region,
			    const char *resource, enum ev_status status,
			    json_t *details, const unsigned *obs, size_t n_obs,
			    const char *fmt, ...)
    EV_PRINTF(10, 11) EV_MUST_CHECK;

/* An error finding from a failed call: status error, the AWS code and
 * request ID from e, reason "<what>: <message>". Never turns missing data
 * into a verdict. Errors: EV_E_NOMEM. */
enum ev_err ev_findings_add_error(struct ev_findings *f, const char *probe_id,
				  const char *account, const char *region,
				  const char *resource,
				  const struct ev_error *e, const unsigned *obs,
				  size_t n_obs, const char *what) EV_MUST_CHECK;

/* Moves every finding of src to the end of dst (src is left empty). */
enum ev_err ev_findings_move(struct ev_findings *dst,
			     struct ev_findings *src) EV_MUST_CHECK;

/* One API call as made (DESIGN.md: observation). */
struct ev_observation {
	unsigned id; /* unique within its account */
	char service[24];
	char action[64];
	char region[EV_REGION_MAX]; /* the signing region */
	char account[EV_ACCOUNT_ID_LEN + 1];
	time_t time;
	long http_status; /* 0: no HTTP answer (network error) */
	char request_id[EV_ERROR_RID_MAX];
	char error_code[EV_ERROR_CODE_MAX]; /* "" on success */
	char body_sha256[EV_SHA256_HEX_LEN + 1];
	size_t body_len;
	char *body;	    /* owned; NULL when sensitive or dropped */
	bool body_withheld; /* sensitive: hash only, by design */
	double seconds;
	int attempts;
};

struct ev_observations {
	struct ev_observation *items;
	size_t n, cap;
	size_t body_bytes;  /* sum of kept bodies */
	size_t body_budget; /* above it, bodies are dropped (hash kept) */
};

void ev_observations_init(struct ev_observations *o, size_t body_budget);
void ev_observations_cleanup(struct ev_observations *o);

/* Records a call and its outcome with the given id. The body is copied
 * unless the call was sensitive (then withheld) or the budget is spent.
 * Errors: EV_E_NOMEM. */
enum ev_err ev_observations_record(struct ev_observations *o, unsigned id,
				   const char *account,
				   const struct ev_aws_call *call,
				   const char *signing_region,
				   const struct ev_aws_response *resp,
				   const struct ev_error *err,
				   time_t when) EV_MUST_CHECK;

enum ev_err ev_observations_move(struct ev_observations *dst,
				 struct ev_observations *src) EV_MUST_CHECK;

#endif
