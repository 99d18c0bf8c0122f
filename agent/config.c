#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "endpoint.h"
#include "inifile.h"
#include "schedule.h"
#include "timefmt.h"

/* Bounds on what one file may ask for; a larger organization is split
 * with --shard rather than listed. */
#define CONFIG_MAX_ACCOUNTS   50000
#define CONFIG_MAX_REGIONS    64
#define CONFIG_PATH_MAX	      4095
#define CONFIG_ARN_MAX	      2048
#define CONFIG_MAX_DOCUMENTS  256
#define CONFIG_CONTROL_ID_MAX 64
#define WHY_MAX		      200
/* [daemon] interval and splay: up to a year. */
#define CONFIG_INTERVAL_MAX (366LL * 86400)
/* S3 object keys are at most 1024 bytes; the prefix leaves room for
 * "/<snapshot>/accounts/<id>.json". */
#define CONFIG_S3_PREFIX_MAX 512

enum key_type {
	KEY_STRING, /* char *: NULL when empty unless KEY_NONEMPTY */
	KEY_ENUM,   /* an enum field, one of names[] */
	KEY_INT,    /* int in min..max */
	KEY_DAYS,   /* int days in min..max: "90", "90d", "2w" */
	KEY_CUSTOM, /* parsed by its own function */
};

#define KEY_NONEMPTY 1u /* a string key that cannot be unset */

struct config_key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	long min, max; /* KEY_INT, KEY_DAYS: range; KEY_STRING: max length */
	const char *const *names; /* KEY_ENUM: names[i] is value i */
	size_t n_names;
	/* KEY_STRING: further checks of a non-empty value. */
	bool (*check)(const char *value, char *why, size_t why_len);
	/* KEY_CUSTOM: EV_OK, EV_E_CONFIG with why filled, EV_E_NOMEM. */
	enum ev_err (*parse)(struct ev_config *cfg, const char *value,
			     char *why, size_t why_len);
	unsigned flags;
};

/* Enum fields are written through an int: the enums here have no
 * negative values, so gcc gives them an int-sized type, and signed and
 * unsigned int may alias each other. */
_Static_assert(sizeof(enum ev_log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ev_log_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ev_retry_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ev_config_sts_endpoints) == sizeof(int),
	       "enum size");
_Static_assert(sizeof(enum ev_config_accounts_source) == sizeof(int),
	       "enum size");
_Static_assert(sizeof(enum ev_config_s3_lock) == sizeof(int), "enum size");

/* clang-format off */
static const char *const log_level_names[] = {
	[EV_LOG_ERROR] = "error", [EV_LOG_WARN] = "warn",
	[EV_LOG_INFO] = "info",   [EV_LOG_DEBUG] = "debug",
	[EV_LOG_TRACE] = "trace",
};
static const char *const log_format_names[] = {
	[EV_LOG_FORMAT_TEXT] = "text",
	[EV_LOG_FORMAT_JOURNAL] = "journal",
	[EV_LOG_FORMAT_JSON] = "json",
};
static const char *const retry_mode_names[] = {
	[EV_RETRY_STANDARD] = "standard",
	[EV_RETRY_LEGACY] = "legacy",
	[EV_RETRY_ADAPTIVE] = "adaptive",
};
static const char *const sts_names[] = {
	[EV_STS_REGIONAL] = "regional",
	[EV_STS_LEGACY] = "legacy",
};
static const char *const source_names[] = {
	[EV_ACCOUNTS_SELF] = "self",
	[EV_ACCOUNTS_LIST] = "list",
	[EV_ACCOUNTS_ORGANIZATION] = "organization",
};
static const char *const lambda_names[] = {
	[EV_LAMBDA_OUTSIDE_VPC_WARN] = "warn",
	[EV_LAMBDA_OUTSIDE_VPC_FAIL] = "fail",
};
static const char *const s3_lock_names[] = {
	[EV_S3_LOCK_COMPLIANCE] = "compliance",
	[EV_S3_LOCK_GOVERNANCE] = "governance",
	[EV_S3_LOCK_OFF] = "off",
};
/* clang-format on */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define FIELD(f) offsetof(struct ev_config, f)

/* One row per key; later sections (daemon, upload, documents) add rows. */
/* clang-format off */
#define ENUM_KEY(sec, key, field, list)                                  \
	{                                                                \
		.section = (sec), .name = (key), .type = KEY_ENUM,       \
		.offset = FIELD(field), .names = (list),                 \
		.n_names = COUNT(list)                                   \
	}
#define INT_KEY(sec, key, field, lo, hi)                                 \
	{                                                                \
		.section = (sec), .name = (key), .type = KEY_INT,        \
		.offset = FIELD(field), .min = (lo), .max = (hi)         \
	}
#define DAYS_KEY(sec, key, field, lo, hi)                                \
	{                                                                \
		.section = (sec), .name = (key), .type = KEY_DAYS,       \
		.offset = FIELD(field), .min = (lo), .max = (hi)         \
	}
#define STRING_KEY(sec, key, field, maxlen, checker, fl)                 \
	{                                                                \
		.section = (sec), .name = (key), .type = KEY_STRING,     \
		.offset = FIELD(field), .max = (maxlen), .check = (checker), \
		.flags = (fl)                                            \
	}
#define CUSTOM_KEY(sec, key, fn)                                         \
	{                                                                \
		.section = (sec), .name = (key), .type = KEY_CUSTOM,     \
		.parse = (fn)                                            \
	}
/* clang-format on */

static bool check_path(const char *v, char *why, size_t n);
static bool check_region(const char *v, char *why, size_t n);
static bool check_profile(const char *v, char *why, size_t n);
static bool check_endpoint_url(const char *v, char *why, size_t n);
static bool check_role_name(const char *v, char *why, size_t n);
static bool check_external_id(const char *v, char *why, size_t n);
static enum ev_err parse_accounts(struct ev_config *cfg, const char *v,
				  char *why, size_t n);
static enum ev_err parse_regions(struct ev_config *cfg, const char *v,
				 char *why, size_t n);
static enum ev_err parse_documents(struct ev_config *cfg, const char *v,
				   char *why, size_t n);
static enum ev_err parse_interval(struct ev_config *cfg, const char *v,
				  char *why, size_t n);
static enum ev_err parse_start_at(struct ev_config *cfg, const char *v,
				  char *why, size_t n);
static enum ev_err parse_splay(struct ev_config *cfg, const char *v, char *why,
			       size_t n);
static bool check_bucket(const char *v, char *why, size_t n);
static bool check_prefix(const char *v, char *why, size_t n);

/* Every key the file may hold, grouped by section in the order
 * config/evident.ini follows; a unit test checks each is documented
 * there. */
/* clang-format off */
static const struct config_key keys[] = {
	ENUM_KEY("agent", "log_level", agent.log_level, log_level_names),
	ENUM_KEY("agent", "log_format", agent.log_format, log_format_names),
	INT_KEY("agent", "concurrency", agent.concurrency, 1, 256),
	STRING_KEY("agent", "snapshot_dir", agent.snapshot_dir,
		   CONFIG_PATH_MAX, check_path, KEY_NONEMPTY),
	STRING_KEY("agent", "signing_key", agent.signing_key, CONFIG_PATH_MAX,
		   check_path, 0),

	STRING_KEY("aws", "region", aws.region, 31, check_region,
		   KEY_NONEMPTY),
	STRING_KEY("aws", "profile", aws.profile, 128, check_profile, 0),
	STRING_KEY("aws", "endpoint_url", aws.endpoint_url, EV_LIMIT_URL - 1,
		   check_endpoint_url, 0),
	STRING_KEY("aws", "ca_bundle", aws.ca_bundle, CONFIG_PATH_MAX,
		   check_path, 0),
	ENUM_KEY("aws", "retry_mode", aws.retry.mode, retry_mode_names),
	INT_KEY("aws", "max_attempts", aws.retry.max_attempts, 1,
		EV_RETRY_ATTEMPTS_MAX),
	ENUM_KEY("aws", "sts_regional_endpoints", aws.sts_endpoints,
		 sts_names),
	INT_KEY("aws", "timeout_seconds", aws.timeout_seconds, 1, 3600),
	INT_KEY("aws", "connect_timeout_seconds", aws.connect_timeout_seconds,
		1, 300),

	ENUM_KEY("accounts", "source", accounts.source, source_names),
	/* IAM: 64 for the name, 512 for an optional path before it. */
	STRING_KEY("accounts", "role_name", accounts.role_name, 576,
		   check_role_name, KEY_NONEMPTY),
	/* STS AssumeRole ExternalId: 2..1224 characters. */
	STRING_KEY("accounts", "external_id", accounts.external_id, 1224,
		   check_external_id, 0),
	CUSTOM_KEY("accounts", "accounts", parse_accounts),
	CUSTOM_KEY("accounts", "regions", parse_regions),

	DAYS_KEY("thresholds", "root_unused_days", thresholds.root_unused_days,
		 1, 3650),
	DAYS_KEY("thresholds", "access_key_max_age_days",
		 thresholds.access_key_max_age_days, 1, 3650),
	DAYS_KEY("thresholds", "access_key_unused_days",
		 thresholds.access_key_unused_days, 1, 3650),
	/* S3 Object Lock allows up to 100 years. */
	DAYS_KEY("thresholds", "log_retention_days",
		 thresholds.log_retention_days, 1, 36500),
	INT_KEY("probes", "digest_max_age_hours",
		probes.digest_max_age_hours, 1, 720),
	ENUM_KEY("probes", "lambda_outside_vpc", probes.lambda_outside_vpc,
		 lambda_names),

	STRING_KEY("controls", "catalog", controls.catalog, CONFIG_PATH_MAX,
		   check_path, 0),
	CUSTOM_KEY("controls", "documents", parse_documents),

	CUSTOM_KEY("daemon", "interval", parse_interval),
	CUSTOM_KEY("daemon", "start_at", parse_start_at),
	CUSTOM_KEY("daemon", "splay", parse_splay),
	DAYS_KEY("daemon", "retention_days", daemon.retention_days, 0, 36500),
	STRING_KEY("daemon", "state_file", daemon.state_file, CONFIG_PATH_MAX,
		   check_path, 0),

	STRING_KEY("s3", "bucket", s3.bucket, 63, check_bucket, 0),
	STRING_KEY("s3", "prefix", s3.prefix, CONFIG_S3_PREFIX_MAX,
		   check_prefix, 0),
	STRING_KEY("s3", "region", s3.region, 31, check_region, 0),
	ENUM_KEY("s3", "object_lock_mode", s3.object_lock, s3_lock_names),
	/* S3 Object Lock allows up to 100 years. */
	DAYS_KEY("s3", "retention_days", s3.retention_days, 1, 36500),
};
/* clang-format on */

#define KEY_COUNT COUNT(keys)

/* The AWS CLI's variables, and evident's own. A variable is ignored when
 * the one in `unless` is set, which gives AWS_REGION its precedence. */
/* clang-format off */
static const struct {
	const char *var;
	const char *section;
	const char *key;
	const char *unless;
} env_keys[] = {
	{"AWS_REGION", "aws", "region", NULL},
	{"AWS_DEFAULT_REGION", "aws", "region", "AWS_REGION"},
	{"AWS_PROFILE", "aws", "profile", NULL},
	{"AWS_ENDPOINT_URL", "aws", "endpoint_url", NULL},
	{"AWS_CA_BUNDLE", "aws", "ca_bundle", NULL},
	{"AWS_RETRY_MODE", "aws", "retry_mode", NULL},
	{"AWS_MAX_ATTEMPTS", "aws", "max_attempts", NULL},
	{"AWS_STS_REGIONAL_ENDPOINTS", "aws", "sts_regional_endpoints", NULL},
	{"EVIDENT_LOG_LEVEL", "agent", "log_level", NULL},
	{"EVIDENT_LOG_FORMAT", "agent", "log_format", NULL},
};
/* clang-format on */

static char **str_field(struct ev_config *cfg, const struct config_key *k)
{
	return (char **)((char *)cfg + k->offset);
}

static int *int_field(struct ev_config *cfg, const struct config_key *k)
{
	return (int *)((char *)cfg + k->offset);
}

static const struct config_key *key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static bool section_known(const char *section)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (strcmp(keys[i].section, section) == 0)
			return true;
	return false;
}

const char *ev_config_key_at(size_t i, const char **section)
{
	if (i >= KEY_COUNT)
		return NULL;
	if (section)
		*section = keys[i].section;
	return keys[i].name;
}

/* Writes "a, b, c" into out; truncation only shortens a message. */
static void list_join(char *out, size_t n, const char *const *items,
		      size_t count)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < count && used < n; i++) {
		int w = snprintf(out + used, n - used, "%s%s", i ? ", " : "",
				 items[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static void section_names(char *out, size_t n)
{
	const char *names[KEY_COUNT];
	size_t count = 0;
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (count == 0 ||
		    strcmp(names[count - 1], keys[i].section) != 0)
			names[count++] = keys[i].section;
	list_join(out, n, names, count);
}

static void section_keys(char *out, size_t n, const char *section)
{
	const char *names[KEY_COUNT];
	size_t count = 0;
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (strcmp(keys[i].section, section) == 0)
			names[count++] = keys[i].name;
	list_join(out, n, names, count);
}

/* A bounded, printable copy of a value for a message. */
static void shown(char *out, size_t n, const char *v)
{
	size_t len = strlen(v);
	ev_error_copy_field(out, n, v, len);
	if (len >= n && n > 4)
		memcpy(out + n - 4, "...", 4);
}

static bool printable_line(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static bool check_path(const char *v, char *why, size_t n)
{
	if (!printable_line(v)) {
		snprintf(why, n, "a path cannot hold control characters");
		return false;
	}
	return true;
}

static bool check_region(const char *v, char *why, size_t n)
{
	if (ev_region_partition(v))
		return true;
	char s[40];
	shown(s, sizeof(s), v);
	snprintf(why, n,
		 "\"%s\" is not a region of a known partition "
		 "(like us-east-1, cn-north-1, us-gov-west-1)",
		 s);
	return false;
}

static bool check_profile(const char *v, char *why, size_t n)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f || *p == '[' || *p == ']') {
			snprintf(why, n,
				 "a profile name is printable ASCII "
				 "without spaces or brackets");
			return false;
		}
	}
	return true;
}

static bool check_endpoint_url(const char *v, char *why, size_t n)
{
	struct ev_error e;
	ev_error_clear(&e);
	if (ev_endpoint_url_check(v, &e) == EV_OK)
		return true;
	snprintf(why, n, "%s", e.message);
	return false;
}

/* IAM's [\w+=,.@-] for names, with '/' for a path. */
static bool role_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("_+=,.@-/", c) != NULL;
}

static bool check_role_name(const char *v, char *why, size_t n)
{
	for (const char *p = v; *p; p++) {
		if (!role_char(*p)) {
			snprintf(why, n,
				 "a role name holds only letters, "
				 "digits and _+=,.@-/");
			return false;
		}
	}
	if (v[0] == '/' || v[strlen(v) - 1] == '/') {
		snprintf(why, n, "a role name cannot start or end with '/'");
		return false;
	}
	return true;
}

static bool check_external_id(const char *v, char *why, size_t n)
{
	/* Not echoed: the value is shared with the account owner only. */
	bool ok = strlen(v) >= 2;
	for (const char *p = v; ok && *p; p++)
		ok = role_char(*p) || *p == ':';
	if (!ok)
		snprintf(why, n,
			 "an external ID is 2 to 1224 of letters, "
			 "digits and _+=,.@:/-");
	return ok;
}

static bool all_digits(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool is_separator(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Walks a comma/space separated list: the next token at *pos, or false at
 * the end. */
static bool next_token(const char *v, size_t *pos, const char **tok,
		       size_t *len)
{
	size_t i = *pos;
	while (v[i] && is_separator(v[i]))
		i++;
	if (!v[i])
		return false;
	size_t start = i;
	while (v[i] && !is_separator(v[i]))
		i++;
	*tok = v + start;
	*len = i - start;
	*pos = i;
	return true;
}

/* arn:<partition>:iam::<id>:role/<name>, the account matching id. */
static bool role_arn_ok(const char *arn, size_t len, const char *id)
{
	static const char *const prefixes[] = {
	    "arn:aws:iam::",	 "arn:aws-cn:iam::",	"arn:aws-us-gov:iam::",
	    "arn:aws-iso:iam::", "arn:aws-iso-b:iam::", "arn:aws-eusc:iam::",
	};
	size_t i = 0;
	for (size_t p = 0; p < COUNT(prefixes); p++) {
		size_t pl = strlen(prefixes[p]);
		if (len > pl && memcmp(arn, prefixes[p], pl) == 0) {
			i = pl;
			break;
		}
	}
	if (i == 0 || len < i + EV_CONFIG_ACCOUNT_ID_LEN + 7)
		return false;
	if (memcmp(arn + i, id, EV_CONFIG_ACCOUNT_ID_LEN) != 0)
		return false;
	i += EV_CONFIG_ACCOUNT_ID_LEN;
	if (memcmp(arn + i, ":role/", 6) != 0)
		return false;
	i += 6;
	if (arn[len - 1] == '/')
		return false;
	for (; i < len; i++)
		if (!role_char(arn[i]))
			return false;
	return true;
}

static void accounts_free(struct ev_config_accounts *a)
{
	for (size_t i = 0; i < a->n_list; i++)
		free(a->list[i].role_arn);
	free(a->list);
	a->list = NULL;
	a->n_list = 0;
}

static void regions_free(struct ev_config_accounts *a)
{
	for (size_t i = 0; i < a->n_regions; i++)
		free(a->regions[i]);
	free(a->regions);
	a->regions = NULL;
	a->n_regions = 0;
}

static enum ev_err parse_accounts(struct ev_config *cfg, const char *v,
				  char *why, size_t n)
{
	struct ev_config_account *list = NULL;
	size_t count = 0, cap = 0, pos = 0, len;
	const char *tok;
	enum ev_err rc = EV_OK;
	char s[48];

	while (next_token(v, &pos, &tok, &len)) {
		const char *eq = memchr(tok, '=', len);
		size_t id_len = eq ? (size_t)(eq - tok) : len;
		if (id_len != EV_CONFIG_ACCOUNT_ID_LEN ||
		    !all_digits(tok, id_len)) {
			ev_error_copy_field(s, sizeof(s), tok,
					    id_len < 40 ? id_len : 40);
			snprintf(why, n,
				 "\"%s\" is not a 12-digit account id "
				 "(list ids, or id=role-arn pairs)",
				 s);
			rc = EV_E_CONFIG;
			goto out;
		}
		for (size_t i = 0; i < count; i++) {
			if (memcmp(list[i].id, tok, id_len) == 0) {
				snprintf(why, n,
					 "account %.12s is listed twice", tok);
				rc = EV_E_CONFIG;
				goto out;
			}
		}
		const char *arn = eq ? eq + 1 : NULL;
		size_t arn_len = eq ? len - id_len - 1 : 0;
		if (arn && (arn_len > CONFIG_ARN_MAX ||
			    !role_arn_ok(arn, arn_len, tok))) {
			snprintf(why, n,
				 "account %.12s: the role must be "
				 "arn:<partition>:iam::%.12s:role/<name>",
				 tok, tok);
			rc = EV_E_CONFIG;
			goto out;
		}
		if (count == cap) {
			if (cap >= CONFIG_MAX_ACCOUNTS) {
				snprintf(why, n, "more than %d accounts",
					 CONFIG_MAX_ACCOUNTS);
				rc = EV_E_CONFIG;
				goto out;
			}
			size_t ncap = cap ? cap * 2 : 16;
			if (ncap > CONFIG_MAX_ACCOUNTS)
				ncap = CONFIG_MAX_ACCOUNTS;
			struct ev_config_account *grown =
			    realloc(list, ncap * sizeof(*list));
			if (!grown) {
				rc = EV_E_NOMEM;
				goto out;
			}
			list = grown;
			cap = ncap;
		}
		struct ev_config_account *a = &list[count];
		memcpy(a->id, tok, EV_CONFIG_ACCOUNT_ID_LEN);
		a->id[EV_CONFIG_ACCOUNT_ID_LEN] = '\0';
		a->role_arn = NULL;
		if (arn) {
			a->role_arn = ev_strndup(arn, arn_len);
			if (!a->role_arn) {
				rc = EV_E_NOMEM;
				goto out;
			}
		}
		count++;
	}
	if (count == 0) {
		snprintf(why, n, "no account ids given");
		rc = EV_E_CONFIG;
		goto out;
	}
	accounts_free(&cfg->accounts);
	cfg->accounts.list = list;
	cfg->accounts.n_list = count;
	list = NULL;
	count = 0;
out:
	for (size_t i = 0; list && i < count; i++)
		free(list[i].role_arn);
	free(list);
	return rc;
}

static enum ev_err parse_regions(struct ev_config *cfg, const char *v,
				 char *why, size_t n)
{
	char **list = NULL;
	size_t count = 0, pos = 0, len;
	const char *tok;
	enum ev_err rc = EV_OK;
	char s[48];
	bool all = false;

	list = calloc(CONFIG_MAX_REGIONS, sizeof(*list));
	if (!list)
		return EV_E_NOMEM;
	while (next_token(v, &pos, &tok, &len)) {
		if (len == 3 && memcmp(tok, "all", 3) == 0) {
			all = true;
			continue;
		}
		if (count == CONFIG_MAX_REGIONS) {
			snprintf(why, n, "more than %d regions",
				 CONFIG_MAX_REGIONS);
			rc = EV_E_CONFIG;
			goto out;
		}
		list[count] = ev_strndup(tok, len);
		if (!list[count]) {
			rc = EV_E_NOMEM;
			goto out;
		}
		count++;
		if (!ev_region_partition(list[count - 1])) {
			shown(s, sizeof(s), list[count - 1]);
			snprintf(why, n,
				 "\"%s\" is not a region of a known partition "
				 "(regions = all, or names like us-east-1)",
				 s);
			rc = EV_E_CONFIG;
			goto out;
		}
		for (size_t i = 0; i + 1 < count; i++) {
			if (strcmp(list[i], list[count - 1]) == 0) {
				snprintf(why, n, "region %s is listed twice",
					 list[i]);
				rc = EV_E_CONFIG;
				goto out;
			}
		}
	}
	if (all && count > 0) {
		snprintf(why, n, "\"all\" cannot be mixed with region names");
		rc = EV_E_CONFIG;
		goto out;
	}
	if (!all && count == 0) {
		snprintf(why, n, "no regions given (all, or a list)");
		rc = EV_E_CONFIG;
		goto out;
	}
	regions_free(&cfg->accounts);
	cfg->accounts.all_regions = all;
	if (!all) {
		cfg->accounts.regions = list;
		cfg->accounts.n_regions = count;
		list = NULL;
	}
out:
	for (size_t i = 0; list && i < count; i++)
		free(list[i]);
	free(list);
	return rc;
}

static void documents_free(struct ev_config_controls *c)
{
	for (size_t i = 0; i < c->n_documents; i++) {
		free(c->documents[i].control);
		free(c->documents[i].path);
	}
	free(c->documents);
	c->documents = NULL;
	c->n_documents = 0;
}

static bool control_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static const char *trim(const char *s, size_t *len)
{
	while (*len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		(*len)--;
	}
	while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\t' ||
			    s[*len - 1] == '\r'))
		(*len)--;
	return s;
}

/* One "CONTROL-ID = /path" per line (continuation lines); which ids the
 * catalog holds is checked when the verdicts start, since the catalog is
 * itself configurable. */
static enum ev_err parse_documents(struct ev_config *cfg, const char *v,
				   char *why, size_t n)
{
	struct ev_config_document *list = NULL;
	size_t count = 0;
	enum ev_err rc = EV_OK;
	char s[48];

	list = calloc(CONFIG_MAX_DOCUMENTS, sizeof(*list));
	if (!list)
		return EV_E_NOMEM;
	for (const char *line = v; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *next = end ? end + 1 : line + len;
		const char *entry = trim(line, &len);
		line = next;
		if (len == 0)
			continue;
		const char *eq = memchr(entry, '=', len);
		size_t id_len = eq ? (size_t)(eq - entry) : len;
		const char *id = trim(entry, &id_len);
		size_t path_len = eq ? len - (size_t)(eq + 1 - entry) : 0;
		const char *path = eq ? trim(eq + 1, &path_len) : "";
		bool id_ok = id_len > 0 && id_len <= CONFIG_CONTROL_ID_MAX &&
			     memchr(id, '-', id_len) != NULL;
		for (size_t i = 0; id_ok && i < id_len; i++)
			id_ok = control_id_char(id[i]);
		if (!eq || !id_ok) {
			ev_error_copy_field(s, sizeof(s), entry,
					    len < 40 ? len : 40);
			snprintf(why, n,
				 "\"%s\" is not CONTROL-ID = /path (one "
				 "document per line, like MSP-8.1.5 = "
				 "/etc/evident/root-policy.pdf)",
				 s);
			rc = EV_E_CONFIG;
			goto out;
		}
		bool path_ok = path_len > 0 && path[0] == '/' &&
			       path_len <= CONFIG_PATH_MAX;
		for (size_t i = 0; path_ok && i < path_len; i++)
			path_ok =
			    (unsigned char)path[i] >= 0x20 && path[i] != 0x7f;
		if (!path_ok) {
			snprintf(why, n,
				 "%.*s: a document is an absolute path of at "
				 "most %d printable characters",
				 (int)id_len, id, CONFIG_PATH_MAX);
			rc = EV_E_CONFIG;
			goto out;
		}
		if (count == CONFIG_MAX_DOCUMENTS) {
			snprintf(why, n, "more than %d documents",
				 CONFIG_MAX_DOCUMENTS);
			rc = EV_E_CONFIG;
			goto out;
		}
		list[count].control = ev_strndup(id, id_len);
		list[count].path = ev_strndup(path, path_len);
		count++;
		if (!list[count - 1].control || !list[count - 1].path) {
			rc = EV_E_NOMEM;
			goto out;
		}
		for (size_t i = 0; i + 1 < count; i++) {
			if (strcmp(list[i].control, list[count - 1].control) ==
				0 &&
			    strcmp(list[i].path, list[count - 1].path) == 0) {
				snprintf(why, n,
					 "%s: the same document is attached "
					 "twice",
					 list[i].control);
				rc = EV_E_CONFIG;
				goto out;
			}
		}
	}
	documents_free(&cfg->controls);
	if (count > 0) {
		cfg->controls.documents = list;
		cfg->controls.n_documents = count;
		list = NULL;
	}
out:
	for (size_t i = 0; list && i < count; i++) {
		free(list[i].control);
		free(list[i].path);
	}
	free(list);
	return rc;
}

/* A duration of 1 s to a year ("6h", "30m", "1d", plain seconds). */
static enum ev_err parse_seconds(const char *v, long long min, long long *out,
				 char *why, size_t n)
{
	long long seconds = -1;
	if (ev_duration_parse(v, &seconds) != EV_OK || seconds < min ||
	    seconds > CONFIG_INTERVAL_MAX) {
		char s[40];
		shown(s, sizeof(s), v);
		snprintf(why, n,
			 "\"%s\" is not a duration of %llds to 366d (like 6h, "
			 "30m, 1d or plain seconds)",
			 s, min);
		return EV_E_CONFIG;
	}
	*out = seconds;
	return EV_OK;
}

static enum ev_err parse_interval(struct ev_config *cfg, const char *v,
				  char *why, size_t n)
{
	return parse_seconds(v, 1, &cfg->daemon.interval, why, n);
}

static enum ev_err parse_splay(struct ev_config *cfg, const char *v, char *why,
			       size_t n)
{
	return parse_seconds(v, 0, &cfg->daemon.splay, why, n);
}

static enum ev_err parse_start_at(struct ev_config *cfg, const char *v,
				  char *why, size_t n)
{
	if (!*v) {
		cfg->daemon.start_at = -1;
		return EV_OK;
	}
	if (ev_schedule_parse_start_at(v, &cfg->daemon.start_at) != EV_OK) {
		char s[40];
		shown(s, sizeof(s), v);
		snprintf(why, n,
			 "\"%s\" is not a UTC time of day HH:MM (00:00 to "
			 "23:59)",
			 s);
		return EV_E_CONFIG;
	}
	return EV_OK;
}

/* S3's rules for bucket names (aws-api.md §2: names with '.' are
 * reached path style). */
static bool check_bucket(const char *v, char *why, size_t n)
{
	size_t len = strlen(v);
	bool ok = len >= 3 && len <= 63;
	for (size_t i = 0; ok && i < len; i++) {
		char c = v[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		ok = alnum || ((c == '-' || c == '.') && i > 0 && i + 1 < len);
	}
	if (!ok)
		snprintf(why, n,
			 "a bucket name is 3 to 63 lower-case letters, "
			 "digits, '-' or '.', starting and ending with a "
			 "letter or digit");
	return ok;
}

/* Key prefixes of S3's safe characters, "/"-separated segments that are
 * neither empty nor "." or "..", so every key reads the same in the
 * console, the CLI and a signed URL. */
static bool check_prefix(const char *v, char *why, size_t n)
{
	bool ok = true;
	size_t seg = 0;
	for (const char *p = v;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t len = (size_t)(p - v) - seg;
			ok = ok && len > 0 && !(len == 1 && v[seg] == '.') &&
			     !(len == 2 && v[seg] == '.' && v[seg + 1] == '.');
			if (!*p)
				break;
			seg = (size_t)(p - v) + 1;
			continue;
		}
		char c = *p;
		ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || strchr("!-_.*'()", c));
	}
	if (!ok)
		snprintf(why, n,
			 "a key prefix is segments of letters, digits and "
			 "!-_.*'() joined by '/', without a '/' at either end "
			 "(like evident/prod)");
	return ok;
}

static enum ev_err set_days(const struct config_key *k, int *field,
			    const char *v, char *why, size_t n)
{
	long long days = -1;
	size_t len = strlen(v);
	if (all_digits(v, len)) {
		/* Plain numbers are days here, not ev_duration_parse's
		 * seconds. Ten digits or fewer cannot overflow. */
		if (len <= 10)
			days = strtoll(v, NULL, 10);
	} else {
		long long seconds;
		if (ev_duration_parse(v, &seconds) == EV_OK &&
		    seconds % 86400 == 0)
			days = seconds / 86400;
	}
	if (days < k->min || days > k->max) {
		char s[40];
		shown(s, sizeof(s), v);
		snprintf(why, n,
			 "\"%s\" is not a whole number of days in %ld..%ld "
			 "(like 90, 90d or 12w)",
			 s, k->min, k->max);
		return EV_E_CONFIG;
	}
	*field = (int)days;
	return EV_OK;
}

static enum ev_err set_int(const struct config_key *k, int *field,
			   const char *v, char *why, size_t n)
{
	size_t len = strlen(v);
	long long x = -1;
	if (all_digits(v, len) && len <= 10)
		x = strtoll(v, NULL, 10);
	if (x < k->min || x > k->max) {
		char s[40];
		shown(s, sizeof(s), v);
		snprintf(why, n, "\"%s\" is not a number in %ld..%ld", s,
			 k->min, k->max);
		return EV_E_CONFIG;
	}
	*field = (int)x;
	return EV_OK;
}

static enum ev_err set_enum(const struct config_key *k, int *field,
			    const char *v, char *why, size_t n)
{
	for (size_t i = 0; i < k->n_names; i++) {
		if (strcmp(v, k->names[i]) == 0) {
			*field = (int)i;
			return EV_OK;
		}
	}
	char s[40], allowed[120];
	shown(s, sizeof(s), v);
	list_join(allowed, sizeof(allowed), k->names, k->n_names);
	snprintf(why, n, "\"%s\" is not one of: %s", s, allowed);
	return EV_E_CONFIG;
}

static enum ev_err set_string(const struct config_key *k, char **field,
			      const char *v, char *why, size_t n)
{
	size_t len = strlen(v);
	if (len == 0) {
		if (k->flags & KEY_NONEMPTY) {
			snprintf(why, n, "cannot be empty");
			return EV_E_CONFIG;
		}
		free(*field);
		*field = NULL;
		return EV_OK;
	}
	if (len > (size_t)k->max) {
		snprintf(why, n, "longer than %ld characters", k->max);
		return EV_E_CONFIG;
	}
	if (!printable_line(v)) {
		snprintf(why, n, "must be one line of printable characters");
		return EV_E_CONFIG;
	}
	if (k->check && !k->check(v, why, n))
		return EV_E_CONFIG;
	char *copy = ev_strdup(v);
	if (!copy)
		return EV_E_NOMEM;
	free(*field);
	*field = copy;
	return EV_OK;
}

static enum ev_err key_set(const struct config_key *k, struct ev_config *cfg,
			   const char *v, char *why, size_t n)
{
	switch (k->type) {
	case KEY_STRING:
		return set_string(k, str_field(cfg, k), v, why, n);
	case KEY_ENUM:
		return set_enum(k, int_field(cfg, k), v, why, n);
	case KEY_INT:
		return set_int(k, int_field(cfg, k), v, why, n);
	case KEY_DAYS:
		return set_days(k, int_field(cfg, k), v, why, n);
	case KEY_CUSTOM:
		return k->parse(cfg, v, why, n);
	default:
		snprintf(why, n, "key type %d unknown", (int)k->type);
		return EV_E_INTERNAL;
	}
}

enum ev_err ev_config_init(struct ev_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->agent.log_level = EV_LOG_WARN;
	cfg->agent.log_format = EV_LOG_FORMAT_TEXT;
	cfg->agent.concurrency = 16;
	cfg->aws.retry.mode = EV_RETRY_STANDARD;
	cfg->aws.retry.max_attempts = 0;
	cfg->aws.sts_endpoints = EV_STS_REGIONAL;
	cfg->aws.timeout_seconds = 60;
	cfg->aws.connect_timeout_seconds = 5;
	cfg->accounts.source = EV_ACCOUNTS_SELF;
	cfg->accounts.all_regions = true;
	cfg->thresholds.root_unused_days = 90;
	cfg->thresholds.access_key_max_age_days = 90;
	cfg->thresholds.access_key_unused_days = 90;
	cfg->thresholds.log_retention_days = 365;
	cfg->probes.digest_max_age_hours = 2;
	cfg->probes.lambda_outside_vpc = EV_LAMBDA_OUTSIDE_VPC_WARN;
	cfg->daemon.interval = 6 * 3600;
	cfg->daemon.start_at = -1;
	cfg->daemon.splay = 0;
	cfg->daemon.retention_days = 0;
	cfg->s3.object_lock = EV_S3_LOCK_COMPLIANCE;
	cfg->s3.retention_days = 365;
	cfg->agent.snapshot_dir = ev_strdup("/var/lib/evident/snapshots");
	cfg->aws.region = ev_strdup("us-east-1");
	cfg->accounts.role_name = ev_strdup("evident-audit");
	if (!cfg->agent.snapshot_dir || !cfg->aws.region ||
	    !cfg->accounts.role_name)
		return EV_E_NOMEM;
	return EV_OK;
}

void ev_config_cleanup(struct ev_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (keys[i].type == KEY_STRING)
			free(*str_field(cfg, &keys[i]));
	accounts_free(&cfg->accounts);
	regions_free(&cfg->accounts);
	documents_free(&cfg->controls);
	memset(cfg, 0, sizeof(*cfg));
}

struct load_ctx {
	struct ev_config *cfg;
	int lines[KEY_COUNT]; /* where each key was set; 0: not in the file */
	const char *file;
};

static enum ev_err load_entry(void *arg, const struct ev_ini_entry *e,
			      struct ev_error *err)
{
	struct load_ctx *ctx = arg;
	char list[160];
	ctx->file = e->file;
	if (e->section[0] == '\0')
		return ev_error_set(err, EV_E_CONFIG,
				    "%s:%d: %.40s is outside any section "
				    "(start with [agent], [aws], ...)",
				    e->file, e->line, e->key);
	if (!section_known(e->section)) {
		section_names(list, sizeof(list));
		return ev_error_set(
		    err, EV_E_CONFIG,
		    "%s:%d: unknown section [%.40s] (known: %s)", e->file,
		    e->line, e->section, list);
	}
	if (e->key[0] == '\0')
		return EV_OK; /* a section with no keys */
	const struct config_key *k = key_find(e->section, e->key);
	if (!k) {
		section_keys(list, sizeof(list), e->section);
		return ev_error_set(err, EV_E_CONFIG,
				    "%s:%d: unknown key %.40s in [%s] "
				    "(known: %s)",
				    e->file, e->line, e->key, e->section, list);
	}
	size_t idx = (size_t)(k - keys);
	if (ctx->lines[idx])
		return ev_error_set(err, EV_E_CONFIG,
				    "%s:%d: [%s] %s is given twice (first at "
				    "line %d)",
				    e->file, e->line, k->section, k->name,
				    ctx->lines[idx]);
	char why[WHY_MAX] = "";
	enum ev_err rc = key_set(k, ctx->cfg, e->value, why, sizeof(why));
	if (rc == EV_E_NOMEM)
		return ev_error_set(err, rc, "%s:%d: out of memory", e->file,
				    e->line);
	if (rc != EV_OK)
		return ev_error_set(err, rc, "%s:%d: [%s] %s: %s", e->file,
				    e->line, k->section, k->name, why);
	ctx->lines[idx] = e->line;
	return EV_OK;
}

static int line_of(const struct load_ctx *ctx, const char *section,
		   const char *name)
{
	const struct config_key *k = key_find(section, name);
	return k ? ctx->lines[k - keys] : 0;
}

/* Rules that tie keys together, checked once the whole file is read. */
static enum ev_err load_check(const struct load_ctx *ctx, const char *path,
			      struct ev_error *err)
{
	const struct ev_config_accounts *a = &ctx->cfg->accounts;
	int source_line = line_of(ctx, "accounts", "source");
	int list_line = line_of(ctx, "accounts", "accounts");
	if (a->source == EV_ACCOUNTS_LIST && a->n_list == 0)
		return ev_error_set(err, EV_E_CONFIG,
				    "%s:%d: [accounts] source = list needs "
				    "the key accounts (12-digit ids)",
				    path, source_line);
	if (a->source != EV_ACCOUNTS_LIST && list_line)
		return ev_error_set(err, EV_E_CONFIG,
				    "%s:%d: [accounts] accounts is only read "
				    "with source = list (source is %s)",
				    path, list_line, source_names[a->source]);
	const struct ev_config_daemon *d = &ctx->cfg->daemon;
	if (d->splay >= d->interval)
		return ev_error_set(
		    err, EV_E_CONFIG,
		    "%s:%d: [daemon] splay (%llds) must be shorter than the "
		    "interval (%llds)",
		    path,
		    line_of(ctx, "daemon", "splay")
			? line_of(ctx, "daemon", "splay")
			: line_of(ctx, "daemon", "interval"),
		    d->splay, d->interval);
	if (d->start_at >= 0 && !ev_schedule_alignable(d->interval))
		return ev_error_set(
		    err, EV_E_CONFIG,
		    "%s:%d: [daemon] start_at needs an interval that divides "
		    "a day (1h, 6h, 8h, 12h...) or is whole days, not %llds",
		    path, line_of(ctx, "daemon", "start_at"), d->interval);
	return EV_OK;
}

enum ev_err ev_config_load(const char *path, struct ev_config *cfg,
			   struct ev_error *err)
{
	struct load_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	EV_ENSURE_E(err, path && path[0], EV_E_CONFIG,
		    "no configuration file named");
	EV_TRY(
	    ev_ini_parse_file(path, EV_LIMIT_INI_FILE, load_entry, &ctx, err));
	return load_check(&ctx, ctx.file ? ctx.file : path, err);
}

enum ev_err ev_config_apply_env(struct ev_config *cfg, struct ev_error *err)
{
	for (size_t i = 0; i < COUNT(env_keys); i++) {
		const char *v = getenv(env_keys[i].var);
		if (!v || !v[0])
			continue;
		const char *over = env_keys[i].unless;
		if (over && getenv(over) && getenv(over)[0])
			continue;
		const struct config_key *k =
		    key_find(env_keys[i].section, env_keys[i].key);
		EV_ENSURE_E(err, k != NULL, EV_E_INTERNAL, "%s maps to no key",
			    env_keys[i].var);
		char why[WHY_MAX] = "";
		enum ev_err rc = key_set(k, cfg, v, why, sizeof(why));
		if (rc == EV_E_NOMEM)
			return ev_error_set(err, rc, "%s: out of memory",
					    env_keys[i].var);
		if (rc != EV_OK)
			return ev_error_set(err, rc, "environment %s: %s",
					    env_keys[i].var, why);
	}
	return EV_OK;
}
