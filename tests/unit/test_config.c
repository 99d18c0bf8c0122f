#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const env_vars[] = {
    "AWS_REGION",	 "AWS_DEFAULT_REGION",
    "AWS_PROFILE",	 "AWS_ENDPOINT_URL",
    "AWS_CA_BUNDLE",	 "AWS_RETRY_MODE",
    "AWS_MAX_ATTEMPTS",	 "AWS_STS_REGIONAL_ENDPOINTS",
    "EVIDENT_LOG_LEVEL",
};

static void clear_env(void)
{
	for (size_t i = 0; i < COUNT(env_vars); i++)
		unsetenv(env_vars[i]);
}

/* Writes text to a fresh temporary file; its path goes into path. */
static void write_temp(char path[64], const char *text)
{
	snprintf(path, 64, "/tmp/ev-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Loads text as a file; returns the code and leaves cfg to the caller. */
static enum ev_err load_text(const char *text, struct ev_config *cfg,
			     struct ev_error *err, char path[64])
{
	write_temp(path, text);
	assert_int_equal(ev_config_init(cfg), EV_OK);
	ev_error_clear(err);
	enum ev_err rc = ev_config_load(path, cfg, err);
	unlink(path);
	return rc;
}

static void defaults(void **state)
{
	(void)state;
	struct ev_config cfg;
	assert_int_equal(ev_config_init(&cfg), EV_OK);
	assert_int_equal(cfg.agent.log_level, EV_LOG_WARN);
	assert_int_equal(cfg.agent.log_format, EV_LOG_FORMAT_TEXT);
	assert_int_equal(cfg.agent.concurrency, 16);
	assert_string_equal(cfg.agent.snapshot_dir,
			    "/var/lib/evident/snapshots");
	assert_null(cfg.agent.signing_key);
	assert_string_equal(cfg.aws.region, "us-east-1");
	assert_null(cfg.aws.profile);
	assert_null(cfg.aws.endpoint_url);
	assert_null(cfg.aws.ca_bundle);
	assert_int_equal(cfg.aws.retry.mode, EV_RETRY_STANDARD);
	assert_int_equal(ev_retry_max_attempts(&cfg.aws.retry), 3);
	assert_int_equal(cfg.aws.sts_endpoints, EV_STS_REGIONAL);
	assert_int_equal(cfg.accounts.source, EV_ACCOUNTS_SELF);
	assert_string_equal(cfg.accounts.role_name, "evident-audit");
	assert_null(cfg.accounts.external_id);
	assert_int_equal(cfg.accounts.n_list, 0);
	assert_true(cfg.accounts.all_regions);
	assert_int_equal(cfg.accounts.n_regions, 0);
	assert_int_equal(cfg.thresholds.root_unused_days, 90);
	assert_int_equal(cfg.thresholds.access_key_max_age_days, 90);
	assert_int_equal(cfg.thresholds.access_key_unused_days, 90);
	assert_int_equal(cfg.thresholds.log_retention_days, 365);
	ev_config_cleanup(&cfg);
	assert_null(cfg.aws.region);

	/* Cleanup is safe on a zeroed struct and twice over. */
	struct ev_config zero;
	memset(&zero, 0, sizeof(zero));
	ev_config_cleanup(&zero);
	ev_config_cleanup(&zero);
	ev_config_cleanup(NULL);
}

static void valid_file(void **state)
{
	(void)state;
	clear_env();
	static const char text[] =
	    "# a comment\n"
	    "; another\n"
	    "[agent]\n"
	    "log_level = debug\n"
	    "log_format: json\n"
	    "concurrency = 64\n"
	    "snapshot_dir = /srv/evident/snapshots\n"
	    "signing_key = /etc/evident/manifest.pem\n"
	    "\n"
	    "[aws]\n"
	    "region = eu-west-1\n"
	    "profile = audit-prod\n"
	    "endpoint_url = http://localhost:4566/\n"
	    "ca_bundle = /etc/ssl/corp.pem\n"
	    "retry_mode = legacy\n"
	    "max_attempts = 7\n"
	    "sts_regional_endpoints = legacy\n"
	    "[accounts]\n"
	    "source = list\n"
	    "role_name = audit/evident-reader\n"
	    "external_id = Ext-Id:42@corp\n"
	    "accounts = 111111111111, 222222222222\n"
	    "   333333333333=arn:aws:iam::333333333333:role/audit/other\n"
	    "   444444444444\n"
	    "regions = eu-west-1 eu-central-1,us-gov-west-1\n"
	    "[thresholds]\n"
	    "root_unused_days = 30d\n"
	    "access_key_max_age_days = 12w\n"
	    "access_key_unused_days = 45\n"
	    "log_retention_days = 2160h\n";
	struct ev_config cfg;
	struct ev_error err;
	char path[64];
	enum ev_err rc = load_text(text, &cfg, &err, path);
	if (rc != EV_OK)
		fail_msg("%s", err.message);
	assert_int_equal(cfg.agent.log_level, EV_LOG_DEBUG);
	assert_int_equal(cfg.agent.log_format, EV_LOG_FORMAT_JSON);
	assert_int_equal(cfg.agent.concurrency, 64);
	assert_string_equal(cfg.agent.snapshot_dir, "/srv/evident/snapshots");
	assert_string_equal(cfg.agent.signing_key, "/etc/evident/manifest.pem");
	assert_string_equal(cfg.aws.region, "eu-west-1");
	assert_string_equal(cfg.aws.profile, "audit-prod");
	assert_string_equal(cfg.aws.endpoint_url, "http://localhost:4566/");
	assert_string_equal(cfg.aws.ca_bundle, "/etc/ssl/corp.pem");
	assert_int_equal(cfg.aws.retry.mode, EV_RETRY_LEGACY);
	assert_int_equal(cfg.aws.retry.max_attempts, 7);
	assert_int_equal(cfg.aws.sts_endpoints, EV_STS_LEGACY);
	assert_int_equal(cfg.accounts.source, EV_ACCOUNTS_LIST);
	assert_string_equal(cfg.accounts.role_name, "audit/evident-reader");
	assert_string_equal(cfg.accounts.external_id, "Ext-Id:42@corp");
	assert_int_equal(cfg.accounts.n_list, 4);
	assert_string_equal(cfg.accounts.list[0].id, "111111111111");
	assert_null(cfg.accounts.list[0].role_arn);
	assert_string_equal(cfg.accounts.list[1].id, "222222222222");
	assert_string_equal(cfg.accounts.list[2].id, "333333333333");
	assert_string_equal(cfg.accounts.list[2].role_arn,
			    "arn:aws:iam::333333333333:role/audit/other");
	assert_string_equal(cfg.accounts.list[3].id, "444444444444");
	assert_null(cfg.accounts.list[3].role_arn);
	assert_false(cfg.accounts.all_regions);
	assert_int_equal(cfg.accounts.n_regions, 3);
	assert_string_equal(cfg.accounts.regions[0], "eu-west-1");
	assert_string_equal(cfg.accounts.regions[1], "eu-central-1");
	assert_string_equal(cfg.accounts.regions[2], "us-gov-west-1");
	assert_int_equal(cfg.thresholds.root_unused_days, 30);
	assert_int_equal(cfg.thresholds.access_key_max_age_days, 84);
	assert_int_equal(cfg.thresholds.access_key_unused_days, 45);
	assert_int_equal(cfg.thresholds.log_retention_days, 90);
	ev_config_cleanup(&cfg);
}

/* Empty optional strings mean "unset"; sections may be empty. */
static void empty_values_and_sections(void **state)
{
	(void)state;
	static const char text[] = "[agent]\n"
				   "[aws]\n"
				   "profile =\n"
				   "ca_bundle =\n"
				   "[thresholds]\n";
	struct ev_config cfg;
	struct ev_error err;
	char path[64];
	assert_int_equal(load_text(text, &cfg, &err, path), EV_OK);
	assert_null(cfg.aws.profile);
	assert_null(cfg.aws.ca_bundle);
	assert_string_equal(cfg.aws.region, "us-east-1");
	ev_config_cleanup(&cfg);
}

/* Every way a file can be wrong: the code, the line the message names,
 * and a phrase that tells the reader what is allowed. */
static void errors_name_file_and_line(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int line;
		const char *phrase;
	} cases[] = {
	    /* Structure. */
	    {"[agent]\n[nosuch]\nx = 1\n", 3, "unknown section [nosuch]"},
	    {"[agent]\n\n[nosuch]\n", 3,
	     "known: agent, aws, accounts, thresholds"},
	    {"concurrency = 4\n", 1, "outside any section"},
	    {"[agent]\nconcurency = 4\n", 2,
	     "unknown key concurency in [agent] (known: log_level"},
	    {"[aws]\nlog_level = info\n", 2, "unknown key log_level in [aws]"},
	    {"[agent]\nconcurrency = 4\n\nconcurrency = 8\n", 4,
	     "given twice (first at line 2)"},
	    {"[agent]\nconcurrency = 4\n[agent]\nconcurrency = 8\n", 4,
	     "given twice"},
	    {"[agent]\nconcurrency\n", 2, "expected 'key = value'"},
	    {"[agent\n", 1, "section header without ']'"},
	    /* Enumerations list what is allowed. */
	    {"[agent]\nlog_level = verbose\n", 2,
	     "\"verbose\" is not one of: error, warn, info, debug, trace"},
	    {"[agent]\nlog_level = INFO\n", 2, "is not one of"},
	    {"[agent]\nlog_format = xml\n", 2, "one of: text, journal, json"},
	    {"[aws]\nretry_mode = fast\n", 2,
	     "one of: standard, legacy, adaptive"},
	    {"[aws]\nsts_regional_endpoints = global\n", 2,
	     "one of: regional, legacy"},
	    {"[accounts]\nsource = org\n", 2,
	     "one of: self, list, organization"},
	    {"[agent]\nlog_level =\n", 2, "\"\" is not one of"},
	    /* Numbers give their range. */
	    {"[agent]\nconcurrency = 0\n", 2,
	     "\"0\" is not a number in 1..256"},
	    {"[agent]\nconcurrency = 257\n", 2, "in 1..256"},
	    {"[agent]\nconcurrency = -1\n", 2, "in 1..256"},
	    {"[agent]\nconcurrency = 16 threads\n", 2, "in 1..256"},
	    {"[agent]\nconcurrency = 99999999999999999999\n", 2, "in 1..256"},
	    {"[aws]\nmax_attempts = 21\n", 2, "in 1..20"},
	    {"[aws]\nmax_attempts = 0\n", 2, "in 1..20"},
	    {"[thresholds]\nroot_unused_days = 0\n", 2,
	     "whole number of days in 1..3650"},
	    {"[thresholds]\nroot_unused_days = 36h\n", 2,
	     "whole number of days"},
	    {"[thresholds]\naccess_key_max_age_days = 3651\n", 2, "1..3650"},
	    {"[thresholds]\naccess_key_unused_days = 90x\n", 2, "days"},
	    {"[thresholds]\nlog_retention_days = 36501\n", 2, "1..36500"},
	    {"[thresholds]\nlog_retention_days = 99999999999999d\n", 2, "days"},
	    {"[thresholds]\nlog_retention_days = -5\n", 2, "days"},
	    /* Strings. */
	    {"[aws]\nregion = mars-north-1\n", 2,
	     "not a region of a known partition"},
	    {"[aws]\nregion =\n", 2, "cannot be empty"},
	    {"[agent]\nsnapshot_dir =\n", 2, "cannot be empty"},
	    {"[accounts]\nrole_name =\n", 2, "cannot be empty"},
	    {"[accounts]\nrole_name = evident audit\n", 2, "role name"},
	    {"[accounts]\nrole_name = /evident\n", 2, "start or end with '/'"},
	    {"[accounts]\nexternal_id = x\n", 2, "external ID is 2 to 1224"},
	    {"[accounts]\nexternal_id = a b\n", 2, "external ID"},
	    {"[aws]\nprofile = my profile\n", 2, "profile name"},
	    {"[aws]\nendpoint_url = localhost:4566\n", 2, "scheme"},
	    {"[aws]\nendpoint_url = http://h?x=1\n", 2, "query"},
	    {"[agent]\nsnapshot_dir = /a\n  /b\n", 2, "one line"},
	    /* Account and region lists. */
	    {"[accounts]\nsource = list\naccounts = 12345\n", 3,
	     "\"12345\" is not a 12-digit account id"},
	    {"[accounts]\nsource = list\naccounts = 1234567890123\n", 3,
	     "12-digit"},
	    {"[accounts]\nsource = list\naccounts = 11111111111a\n", 3,
	     "12-digit"},
	    {"[accounts]\nsource = list\n"
	     "accounts = 111111111111 222222222222 111111111111\n",
	     3, "account 111111111111 is listed twice"},
	    {"[accounts]\nsource = list\n"
	     "accounts = 111111111111=arn:aws:iam::222222222222:role/x\n",
	     3, "arn:<partition>:iam::111111111111:role/<name>"},
	    {"[accounts]\nsource = list\n"
	     "accounts = 111111111111=arn:aws:iam::111111111111:user/x\n",
	     3, "the role must be"},
	    {"[accounts]\nsource = list\n"
	     "accounts = 111111111111=arn:aws:s3:::bucket\n",
	     3, "the role must be"},
	    {"[accounts]\nsource = list\n"
	     "accounts = 111111111111=arn:aws:iam::111111111111:role/\n",
	     3, "the role must be"},
	    {"[accounts]\nsource = list\naccounts = ,\n", 3,
	     "no account ids given"},
	    {"[accounts]\nregions = eu-west-1, mars-1\n", 2,
	     "\"mars-1\" is not a region"},
	    {"[accounts]\nregions = eu-west-1 eu-west-1\n", 2,
	     "region eu-west-1 is listed twice"},
	    {"[accounts]\nregions = all, eu-west-1\n", 2,
	     "\"all\" cannot be mixed"},
	    {"[accounts]\nregions =\n", 2, "no regions given"},
	    /* Keys that need one another. */
	    {"[accounts]\n# list without ids\nsource = list\n", 3,
	     "source = list needs the key accounts"},
	    {"[accounts]\naccounts = 111111111111\n", 2,
	     "only read with source = list (source is self)"},
	    {"[accounts]\nsource = organization\n\naccounts = 111111111111\n",
	     4, "(source is organization)"},
	    /* The daemon's schedule and the S3 copy. */
	    {"[daemon]\ninterval = 0\n", 2, "duration of 1s to 366d"},
	    {"[daemon]\ninterval = 6 hours\n", 2, "like 6h, 30m"},
	    {"[daemon]\ninterval = 367d\n", 2, "1s to 366d"},
	    {"[daemon]\ninterval =\n", 2, "is not a duration"},
	    {"[daemon]\nstart_at = 24:00\n", 2, "time of day HH:MM"},
	    {"[daemon]\nstart_at = 1:30\n", 2, "HH:MM"},
	    {"[daemon]\ninterval = 1h\nsplay = 1h\n", 3,
	     "splay (3600s) must be shorter than the interval"},
	    {"[daemon]\ninterval = 7h\n\nstart_at = 02:00\n", 4,
	     "start_at needs an interval that divides a day"},
	    {"[daemon]\nretention_days = -1\n", 2, "days in 0..36500"},
	    {"[s3]\nbucket = My_Bucket\n", 2, "bucket name is 3 to 63"},
	    {"[s3]\nbucket = ab\n", 2, "bucket name"},
	    {"[s3]\nbucket = -bucket\n", 2, "bucket name"},
	    {"[s3]\nprefix = /evident\n", 2, "without a '/' at either end"},
	    {"[s3]\nprefix = a//b\n", 2, "key prefix"},
	    {"[s3]\nprefix = a/../b\n", 2, "key prefix"},
	    {"[s3]\nprefix = a b\n", 2, "key prefix"},
	    {"[s3]\nobject_lock_mode = legal\n", 2,
	     "one of: compliance, governance, off"},
	    {"[s3]\nretention_days = 0\n", 2, "days in 1..36500"},
	};
	for (size_t i = 0; i < COUNT(cases); i++) {
		struct ev_config cfg;
		struct ev_error err;
		char path[64];
		enum ev_err rc = load_text(cases[i].text, &cfg, &err, path);
		ev_config_cleanup(&cfg);
		if (rc != EV_E_CONFIG)
			fail_msg("case %zu: rc %s, want config (%s)", i,
				 ev_err_name(rc), err.message);
		assert_int_equal(err.code, EV_E_CONFIG);
		char where[80];
		snprintf(where, sizeof(where), "%s:%d: ", path, cases[i].line);
		if (strncmp(err.message, where, strlen(where)) != 0 ||
		    !strstr(err.message, cases[i].phrase))
			fail_msg("case %zu: message \"%s\", want \"%s...%s\"",
				 i, err.message, where, cases[i].phrase);
	}
}

static void unreadable_files(void **state)
{
	(void)state;
	struct ev_config cfg;
	struct ev_error err;
	assert_int_equal(ev_config_init(&cfg), EV_OK);
	ev_error_clear(&err);
	assert_int_equal(ev_config_load("/nonexistent/evident.ini", &cfg, &err),
			 EV_E_NOT_FOUND);
	assert_non_null(strstr(err.message, "/nonexistent/evident.ini"));
	assert_int_equal(ev_config_load("/tmp", &cfg, &err), EV_E_IO);
	assert_int_equal(ev_config_load("", &cfg, &err), EV_E_CONFIG);
	assert_int_equal(ev_config_load(NULL, &cfg, &err), EV_E_CONFIG);
	/* Failed loads leave the defaults usable. */
	assert_string_equal(cfg.aws.region, "us-east-1");
	ev_config_cleanup(&cfg);
}

static void environment_overrides(void **state)
{
	(void)state;
	clear_env();
	static const char text[] = "[agent]\nlog_level = info\n"
				   "[aws]\nregion = eu-west-1\n"
				   "profile = from-file\n"
				   "retry_mode = legacy\n"
				   "max_attempts = 4\n";
	struct ev_config cfg;
	struct ev_error err;
	char path[64];
	assert_int_equal(load_text(text, &cfg, &err, path), EV_OK);

	/* Nothing set: the file's values stay. */
	assert_int_equal(ev_config_apply_env(&cfg, &err), EV_OK);
	assert_string_equal(cfg.aws.region, "eu-west-1");
	assert_string_equal(cfg.aws.profile, "from-file");
	assert_int_equal(cfg.agent.log_level, EV_LOG_INFO);

	/* AWS_DEFAULT_REGION beats the file... */
	setenv("AWS_DEFAULT_REGION", "eu-central-1", 1);
	assert_int_equal(ev_config_apply_env(&cfg, &err), EV_OK);
	assert_string_equal(cfg.aws.region, "eu-central-1");
	/* ...and AWS_REGION beats AWS_DEFAULT_REGION. */
	setenv("AWS_REGION", "ap-south-1", 1);
	assert_int_equal(ev_config_apply_env(&cfg, &err), EV_OK);
	assert_string_equal(cfg.aws.region, "ap-south-1");
	/* A bad AWS_DEFAULT_REGION is ignored while AWS_REGION is set. */
	setenv("AWS_DEFAULT_REGION", "nowhere", 1);
	assert_int_equal(ev_config_apply_env(&cfg, &err), EV_OK);
	assert_string_equal(cfg.aws.region, "ap-south-1");
	/* An empty AWS_REGION counts as unset. */
	setenv("AWS_REGION", "", 1);
	setenv("AWS_DEFAULT_REGION", "sa-east-1", 1);
	assert_int_equal(ev_config_apply_env(&cfg, &err), EV_OK);
	assert_string_equal(cfg.aws.region, "sa-east-1");

	setenv("AWS_PROFILE", "from-env", 1);
	setenv("AWS_ENDPOINT_URL", "https://proxy.test:8443", 1);
	setenv("AWS_CA_BUNDLE", "/etc/ssl/env.pem", 1);
	setenv("AWS_RETRY_MODE", "adaptive", 1);
	setenv("AWS_MAX_ATTEMPTS", "9", 1);
	setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy", 1);
	setenv("EVIDENT_LOG_LEVEL", "trace", 1);
	assert_int_equal(ev_config_apply_env(&cfg, &err), EV_OK);
	assert_string_equal(cfg.aws.profile, "from-env");
	assert_string_equal(cfg.aws.endpoint_url, "https://proxy.test:8443");
	assert_string_equal(cfg.aws.ca_bundle, "/etc/ssl/env.pem");
	assert_int_equal(cfg.aws.retry.mode, EV_RETRY_ADAPTIVE);
	assert_int_equal(cfg.aws.retry.max_attempts, 9);
	assert_int_equal(cfg.aws.sts_endpoints, EV_STS_LEGACY);
	assert_int_equal(cfg.agent.log_level, EV_LOG_TRACE);

	/* Bad values name the variable and what is allowed; the value the
	 * variable replaced is kept. */
	static const struct {
		const char *var, *value, *phrase;
	} bad[] = {
	    {"AWS_REGION", "Mars", "not a region"},
	    {"AWS_MAX_ATTEMPTS", "0", "1..20"},
	    {"AWS_RETRY_MODE", "fast", "standard, legacy, adaptive"},
	    {"AWS_STS_REGIONAL_ENDPOINTS", "global", "regional, legacy"},
	    {"EVIDENT_LOG_LEVEL", "loud", "error, warn, info, debug, trace"},
	    {"AWS_ENDPOINT_URL", "ftp://x", "scheme"},
	    {"AWS_PROFILE", "a b", "profile name"},
	};
	for (size_t i = 0; i < COUNT(bad); i++) {
		char *saved = getenv(bad[i].var);
		char keep[128];
		snprintf(keep, sizeof(keep), "%s", saved ? saved : "");
		setenv(bad[i].var, bad[i].value, 1);
		ev_error_clear(&err);
		assert_int_equal(ev_config_apply_env(&cfg, &err), EV_E_CONFIG);
		char want[80];
		snprintf(want, sizeof(want), "environment %s: ", bad[i].var);
		if (strncmp(err.message, want, strlen(want)) != 0 ||
		    !strstr(err.message, bad[i].phrase))
			fail_msg("%s: message \"%s\"", bad[i].var, err.message);
		setenv(bad[i].var, keep, 1);
	}
	assert_string_equal(cfg.aws.region, "sa-east-1");
	assert_int_equal(cfg.aws.retry.max_attempts, 9);
	clear_env();
	ev_config_cleanup(&cfg);
}

/* Reads the shipped example into a heap string. */
static char *read_shipped(char *path, size_t path_size)
{
	const char *tests = getenv("EV_TESTS_DIR");
	assert_non_null(tests);
	snprintf(path, path_size, "%s/../config/evident.ini", tests);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	static char text[64 * 1024];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	assert_true(n > 0 && n < sizeof(text) - 1);
	fclose(f);
	text[n] = '\0';
	return text;
}

static void shipped_config_loads(void **state)
{
	(void)state;
	clear_env();
	char path[4096];
	read_shipped(path, sizeof(path));
	struct ev_config cfg;
	struct ev_error err;
	assert_int_equal(ev_config_init(&cfg), EV_OK);
	ev_error_clear(&err);
	enum ev_err rc = ev_config_load(path, &cfg, &err);
	if (rc != EV_OK)
		fail_msg("%s", err.message);
	/* Every key is commented out: loading it changes nothing. */
	assert_string_equal(cfg.aws.region, "us-east-1");
	assert_int_equal(cfg.agent.concurrency, 16);
	ev_config_cleanup(&cfg);
}

/* The example documents every key of the table in its own section, and the
 * defaults it shows are the real ones: uncommenting each "#key = value"
 * line must load to exactly the built-in defaults. */
static void shipped_config_documents_every_key(void **state)
{
	(void)state;
	clear_env();
	char path[4096];
	const char *text = read_shipped(path, sizeof(path));

	static char uncommented[64 * 1024];
	size_t used = 0;
	char section[64] = "";
	bool documented[64] = {false};
	size_t nkeys = 0;
	while (ev_config_key_at(nkeys, NULL))
		nkeys++;
	assert_true(nkeys > 0 && nkeys <= COUNT(documented));

	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[512];
		assert_true(len < sizeof(buf));
		memcpy(buf, line, len);
		buf[len] = '\0';
		line += len + (end ? 1 : 0);

		if (buf[0] == '[') {
			char *close = strchr(buf, ']');
			assert_non_null(close);
			*close = '\0';
			assert_true(strlen(buf + 1) < sizeof(section));
			memcpy(section, buf + 1, strlen(buf + 1) + 1);
			used += (size_t)snprintf(uncommented + used,
						 sizeof(uncommented) - used,
						 "[%s]\n", section);
			continue;
		}
		if (buf[0] != '#')
			continue;
		const char *body = buf + 1;
		while (*body == ' ')
			body++;
		/* A name may be a key of several sections ([daemon] and [s3]
		 * retention_days): it must be one of this section's. */
		const char *elsewhere = NULL;
		bool here = false;
		for (size_t k = 0; k < nkeys; k++) {
			const char *ksec;
			const char *name = ev_config_key_at(k, &ksec);
			size_t nl = strlen(name);
			if (strncmp(body, name, nl) != 0 ||
			    strncmp(body + nl, " =", 2) != 0)
				continue;
			if (strcmp(ksec, section) != 0) {
				elsewhere = ksec;
				continue;
			}
			here = true;
			documented[k] = true;
			/* "#key = default" lines (no space after '#') show the
			 * default; indented ones are examples. */
			if (body == buf + 1 && strcmp(name, "accounts") != 0)
				used += (size_t)snprintf(
				    uncommented + used,
				    sizeof(uncommented) - used, "%s\n", body);
		}
		if (elsewhere && !here)
			fail_msg("\"%s\" documented in [%s], belongs in [%s]",
				 body, section, elsewhere);
	}
	for (size_t k = 0; k < nkeys; k++) {
		const char *ksec;
		const char *name = ev_config_key_at(k, &ksec);
		if (!documented[k])
			fail_msg("[%s] %s is not documented in %s", ksec, name,
				 path);
	}

	struct ev_config shown, builtin;
	struct ev_error err;
	char tmp[64];
	enum ev_err rc = load_text(uncommented, &shown, &err, tmp);
	if (rc != EV_OK)
		fail_msg("uncommented example: %s", err.message);
	assert_int_equal(ev_config_init(&builtin), EV_OK);
	assert_int_equal(shown.agent.log_level, builtin.agent.log_level);
	assert_int_equal(shown.agent.log_format, builtin.agent.log_format);
	assert_int_equal(shown.agent.concurrency, builtin.agent.concurrency);
	assert_string_equal(shown.agent.snapshot_dir,
			    builtin.agent.snapshot_dir);
	assert_null(shown.agent.signing_key);
	assert_string_equal(shown.aws.region, builtin.aws.region);
	assert_null(shown.aws.profile);
	assert_null(shown.aws.endpoint_url);
	assert_null(shown.aws.ca_bundle);
	assert_int_equal(shown.aws.retry.mode, builtin.aws.retry.mode);
	assert_int_equal(ev_retry_max_attempts(&shown.aws.retry),
			 ev_retry_max_attempts(&builtin.aws.retry));
	assert_int_equal(shown.aws.sts_endpoints, builtin.aws.sts_endpoints);
	assert_int_equal(shown.accounts.source, builtin.accounts.source);
	assert_string_equal(shown.accounts.role_name,
			    builtin.accounts.role_name);
	assert_null(shown.accounts.external_id);
	assert_int_equal(shown.accounts.all_regions,
			 builtin.accounts.all_regions);
	assert_int_equal(shown.thresholds.root_unused_days,
			 builtin.thresholds.root_unused_days);
	assert_int_equal(shown.thresholds.access_key_max_age_days,
			 builtin.thresholds.access_key_max_age_days);
	assert_int_equal(shown.thresholds.access_key_unused_days,
			 builtin.thresholds.access_key_unused_days);
	assert_int_equal(shown.thresholds.log_retention_days,
			 builtin.thresholds.log_retention_days);
	assert_int_equal(shown.probes.digest_max_age_hours,
			 builtin.probes.digest_max_age_hours);
	assert_int_equal(shown.probes.lambda_outside_vpc,
			 builtin.probes.lambda_outside_vpc);
	ev_config_cleanup(&shown);
	ev_config_cleanup(&builtin);
}

static void key_table(void **state)
{
	(void)state;
	const char *section = NULL;
	assert_string_equal(ev_config_key_at(0, &section), "log_level");
	assert_string_equal(section, "agent");
	size_t n = 0;
	while (ev_config_key_at(n, &section))
		n++;
	assert_int_equal(n, 37);
	assert_null(ev_config_key_at(n, &section));
	/* Keys are unique within their section. */
	for (size_t i = 0; i < n; i++) {
		const char *si, *sj;
		const char *ki = ev_config_key_at(i, &si);
		for (size_t j = i + 1; j < n; j++) {
			const char *kj = ev_config_key_at(j, &sj);
			assert_false(strcmp(si, sj) == 0 &&
				     strcmp(ki, kj) == 0);
		}
	}
}

/* Loading over values already set replaces lists without leaking them. */
static void lists_replace_earlier_values(void **state)
{
	(void)state;
	clear_env();
	char p1[64], p2[64];
	write_temp(
	    p1, "[accounts]\nsource = list\n"
		"accounts = 111111111111=arn:aws-cn:iam::111111111111:role/r\n"
		"regions = cn-north-1\n");
	write_temp(p2, "[accounts]\nsource = list\naccounts = 222222222222\n"
		       "regions = all\n");
	struct ev_config cfg;
	struct ev_error err;
	assert_int_equal(ev_config_init(&cfg), EV_OK);
	assert_int_equal(ev_config_load(p1, &cfg, &err), EV_OK);
	assert_int_equal(cfg.accounts.n_list, 1);
	assert_string_equal(cfg.accounts.list[0].role_arn,
			    "arn:aws-cn:iam::111111111111:role/r");
	assert_false(cfg.accounts.all_regions);
	assert_int_equal(ev_config_load(p2, &cfg, &err), EV_OK);
	assert_int_equal(cfg.accounts.n_list, 1);
	assert_string_equal(cfg.accounts.list[0].id, "222222222222");
	assert_null(cfg.accounts.list[0].role_arn);
	assert_true(cfg.accounts.all_regions);
	assert_null(cfg.accounts.regions);
	unlink(p1);
	unlink(p2);
	ev_config_cleanup(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defaults),
	    cmocka_unit_test(valid_file),
	    cmocka_unit_test(empty_values_and_sections),
	    cmocka_unit_test(errors_name_file_and_line),
	    cmocka_unit_test(unreadable_files),
	    cmocka_unit_test(environment_overrides),
	    cmocka_unit_test(shipped_config_loads),
	    cmocka_unit_test(shipped_config_documents_every_key),
	    cmocka_unit_test(key_table),
	    cmocka_unit_test(lists_replace_earlier_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
