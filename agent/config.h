/* The agent's configuration: one INI file (--config, default
 * EV_CONFIG_DEFAULT_PATH) then environment overrides the way the AWS CLI
 * takes them. config/evident.ini documents every key.
 *
 * Keys are described by a table (section, key, type, field offset, bounds),
 * so a new section is a struct member here and rows in config.c. Every
 * error is EV_E_CONFIG with a message that names file:line (or the
 * environment variable) and, for a bad value, the allowed set or range.
 *
 * Ownership: struct ev_config is caller storage owning every string and
 * list in it (ev_config_init / ev_config_cleanup). It holds no secret: the
 * external ID is not one (AWS documents it as an identifier), but it is
 * still never logged. */
#ifndef EV_CONFIG_H
#define EV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "log.h"
#include "retry.h"

#define EV_CONFIG_DEFAULT_PATH	 "/etc/evident/evident.ini"
#define EV_CONFIG_ACCOUNT_ID_LEN 12

enum ev_config_accounts_source {
	EV_ACCOUNTS_SELF = 0,	  /* the account of the credentials */
	EV_ACCOUNTS_LIST,	  /* [accounts] accounts */
	EV_ACCOUNTS_ORGANIZATION, /* every active account of the organization */
};

enum ev_config_sts_endpoints {
	EV_STS_REGIONAL = 0, /* sts.<region>.amazonaws.com */
	EV_STS_LEGACY,	     /* sts.amazonaws.com where botocore's legacy did */
};

struct ev_config_agent {
	enum ev_log_level log_level;   /* default warn */
	enum ev_log_format log_format; /* default text */
	int concurrency;	       /* 1..256, default 16 */
	char *snapshot_dir;	       /* never NULL after init */
	char *signing_key;	       /* Ed25519 key file; NULL: none */
};

struct ev_config_aws {
	char *region;	    /* never NULL after init; default us-east-1 */
	char *profile;	    /* NULL: the SDK chain's default */
	char *endpoint_url; /* checked with ev_endpoint_url_check; NULL: none */
	char *ca_bundle;    /* NULL: the system store */
	struct ev_retry_config retry; /* max_attempts 0: the mode's default */
	enum ev_config_sts_endpoints sts_endpoints;
	int timeout_seconds;	     /* per attempt, whole exchange; 60 */
	int connect_timeout_seconds; /* TCP and TLS set-up; 5 */
};

struct ev_config_account {
	char id[EV_CONFIG_ACCOUNT_ID_LEN + 1];
	char *role_arn; /* owned; NULL: role_name in this account */
};

struct ev_config_accounts {
	enum ev_config_accounts_source source;
	char *role_name;   /* never NULL after init; default evident-audit */
	char *external_id; /* NULL: none */
	struct ev_config_account *list; /* source = list only */
	size_t n_list;
	bool all_regions; /* regions = all (the default): the enabled ones */
	char **regions;	  /* when !all_regions; owned, each checked */
	size_t n_regions;
};

struct ev_config_thresholds {
	int root_unused_days;	     /* default 90 */
	int access_key_max_age_days; /* default 90 */
	int access_key_unused_days;  /* default 90 */
	int log_retention_days;	     /* default 365 */
};

enum ev_config_lambda_outside_vpc {
	EV_LAMBDA_OUTSIDE_VPC_WARN = 0, /* reported as warn (the default) */
	EV_LAMBDA_OUTSIDE_VPC_FAIL,	/* fails vpc-only */
};

struct ev_config_probes {
	int digest_max_age_hours; /* CloudTrail digests older fail; default 2 */
	enum ev_config_lambda_outside_vpc lambda_outside_vpc;
};

/* A document attached to a control ([controls] documents): a policy or
 * process the control needs besides machine evidence. */
struct ev_config_document {
	char *control; /* catalog id such as MSP-8.1.5; owned */
	char *path;    /* absolute; owned */
};

struct ev_config_controls {
	char *catalog; /* a catalog file; NULL: the built-in catalog */
	struct ev_config_document *documents; /* owned, in file order */
	size_t n_documents;
};

/* [daemon]: when `evident daemon` collects, how long it keeps snapshots,
 * where it records its state. */
struct ev_config_daemon {
	long long interval; /* seconds between runs; default 6h */
	long start_at;	    /* runs align to this many seconds after 00:00 UTC;
			       -1 (the default): no alignment */
	long long splay;    /* each run starts 0..splay s late; default 0 */
	int retention_days; /* older snapshots are pruned; 0 (the default):
			       every snapshot is kept */
	char *state_file;   /* NULL: <snapshot_dir>/.state.json */
};

enum ev_config_s3_lock {
	EV_S3_LOCK_COMPLIANCE = 0, /* nobody can shorten or remove it */
	EV_S3_LOCK_GOVERNANCE,	   /* s3:BypassGovernanceRetention can */
	EV_S3_LOCK_OFF,		   /* no lock headers (bucket default) */
};

/* [s3]: the WORM copy of each snapshot. */
struct ev_config_s3 {
	char *bucket; /* NULL: snapshots are not uploaded */
	char *prefix; /* key prefix, no '/' at either end; NULL: none */
	char *region; /* the bucket's region; NULL: [aws] region */
	enum ev_config_s3_lock object_lock; /* default compliance */
	int retention_days; /* retain-until = upload time + this; 365 */
};

struct ev_config {
	struct ev_config_agent agent;
	struct ev_config_aws aws;
	struct ev_config_accounts accounts;
	struct ev_config_thresholds thresholds;
	struct ev_config_probes probes;
	struct ev_config_controls controls;
	struct ev_config_daemon daemon;
	struct ev_config_s3 s3;
};

/* Fills cfg with the defaults. Errors: EV_E_NOMEM (cfg is then safe to
 * clean up). */
enum ev_err ev_config_init(struct ev_config *cfg) EV_MUST_CHECK;
/* Frees everything cfg owns and zeroes it; safe on a zeroed or half-built
 * cfg. */
void ev_config_cleanup(struct ev_config *cfg);

/* Reads path (at most EV_LIMIT_INI_FILE bytes) over the values already in
 * cfg (normally the defaults of ev_config_init). Errors: EV_E_CONFIG
 * (unknown section or key, a key given twice, a bad value, a key missing
 * that another requires; the message starts with "file:line: "),
 * EV_E_NOT_FOUND (no such file: a caller using the default path may go on
 * with the defaults), EV_E_IO (cannot read), EV_E_LIMIT (file or line too
 * large), EV_E_NOMEM. On failure cfg holds a mix of old and new values:
 * clean it up. */
enum ev_err ev_config_load(const char *path, struct ev_config *cfg,
			   struct ev_error *err) EV_MUST_CHECK;

/* Applies the environment over cfg, as the AWS CLI ranks it above its
 * files: AWS_REGION (else AWS_DEFAULT_REGION), AWS_PROFILE,
 * AWS_ENDPOINT_URL, AWS_CA_BUNDLE, AWS_RETRY_MODE, AWS_MAX_ATTEMPTS,
 * AWS_STS_REGIONAL_ENDPOINTS, EVIDENT_LOG_LEVEL, EVIDENT_LOG_FORMAT (which
 * main sets from --log-format). An empty variable counts
 * as unset. Reads the environment: call it before threads start. Errors:
 * EV_E_CONFIG naming the variable, EV_E_NOMEM. */
enum ev_err ev_config_apply_env(struct ev_config *cfg,
				struct ev_error *err) EV_MUST_CHECK;

/* The key table, for documentation checks and `config` listings: the
 * i-th key's section and name, or NULL past the end. Views of static
 * strings. */
const char *ev_config_key_at(size_t i, const char **section);

#endif
