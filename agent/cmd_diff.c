/* `evident diff OLD NEW`: what changed between two snapshots: verdicts
 * that moved, findings new, resolved and still open, coverage gained and
 * lost. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "report.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evident diff OLD NEW [--format text|json] [--key "
		"PUB]...\n                    [--allow-pruned]\n\n"
		"Compares two snapshots (each a snapshot directory, or a "
		"directory of\nsnapshots meaning its newest): the controls "
		"whose verdict moved, the open\nfindings (fail or error) that "
		"are new, resolved or still open, matched by\nprobe, account, "
		"region and resource, with when each still-open finding was\n"
		"first seen, and the accounts and regions that entered or "
		"left coverage.\nBoth snapshots are verified first; --key and "
		"--allow-pruned as for\n`evident report`.\n\n"
		"Exit status: 0 compared (whether or not anything changed), 4 "
		"a snapshot\ndid not verify (the comparison is still printed) "
		"or cannot be read, 2 usage\nor configuration error.\n");
}

static int load_config(const struct ev_cli_globals *g, struct ev_config *cfg,
		       bool *loaded)
{
	struct ev_error err;
	ev_error_clear(&err);
	*loaded = false;
	enum ev_err rc = ev_config_init(cfg);
	if (rc == EV_OK) {
		const char *path =
		    g->config_path ? g->config_path : EV_CONFIG_DEFAULT_PATH;
		rc = ev_config_load(path, cfg, &err);
		*loaded = rc == EV_OK;
		if (rc == EV_E_NOT_FOUND && !g->config_path) {
			ev_error_clear(&err);
			rc = EV_OK;
		}
	}
	if (rc == EV_OK)
		rc = ev_config_apply_env(cfg, &err);
	if (rc != EV_OK) {
		fprintf(stderr, "evident diff: %s\n",
			err.message[0] ? err.message : ev_err_name(rc));
		return EV_EXIT_USAGE;
	}
	return EV_EXIT_OK;
}

static int load(const char *path, const struct ev_report_keys *keys,
		bool allow_pruned, bool history, struct ev_report **r)
{
	struct ev_report_options o = {
	    .path = path,
	    .keys = (const struct ev_key *const *)keys->keys,
	    .n_keys = keys->n,
	    .allow_pruned = allow_pruned,
	    .history_max = history ? EV_REPORT_HISTORY_MAX : 0,
	    .trend_max = 1,
	};
	struct ev_error err;
	ev_error_clear(&err);
	enum ev_err rc = ev_report_load(&o, r, &err);
	if (rc == EV_OK)
		return EV_EXIT_OK;
	fputs("evident diff: ", stderr);
	ev_report_text(stderr, err.message[0] ? err.message : ev_err_name(rc));
	fputs("\n", stderr);
	return rc == EV_E_MALFORMED || rc == EV_E_LIMIT ? EV_EXIT_VERIFY
							: EV_EXIT_USAGE;
}

int ev_cmd_diff(const struct ev_cli_globals *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"key", required_argument, NULL, 'k'},
	    {"allow-pruned", no_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *key_paths[EV_REPORT_MAX_KEYS];
	size_t n_key_paths = 0;
	bool json = false, allow_pruned = false;
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "f:k:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (strcmp(optarg, "json") == 0) {
				json = true;
			} else if (strcmp(optarg, "text") != 0) {
				fprintf(stderr,
					"evident diff: unknown format '%s' "
					"(text, json)\n",
					optarg);
				return EV_EXIT_USAGE;
			}
			break;
		case 'k':
			if (n_key_paths == EV_REPORT_MAX_KEYS) {
				fprintf(stderr,
					"evident diff: at most %d --key\n",
					EV_REPORT_MAX_KEYS);
				return EV_EXIT_USAGE;
			}
			key_paths[n_key_paths++] = optarg;
			break;
		case 'P':
			allow_pruned = true;
			break;
		case 'h':
			usage(stdout);
			return EV_EXIT_OK;
		default:
			usage(stderr);
			return EV_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "evident diff: give OLD and NEW\n");
		usage(stderr);
		return EV_EXIT_USAGE;
	}

	struct ev_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	struct ev_report_keys keys;
	memset(&keys, 0, sizeof(keys));
	struct ev_report *old_r = NULL, *new_r = NULL;
	struct ev_report_diff d;
	memset(&d, 0, sizeof(d));
	char *default_pub = NULL;
	struct ev_error err;
	ev_error_clear(&err);
	int exit_code = EV_EXIT_OK;
	if (n_key_paths == 0) {
		bool have_config;
		exit_code = load_config(g, &cfg, &have_config);
		if (exit_code != EV_EXIT_OK)
			goto out;
		if (have_config && cfg.agent.signing_key &&
		    *cfg.agent.signing_key) {
			size_t n = strlen(cfg.agent.signing_key) + 5;
			default_pub = malloc(n);
			if (!default_pub) {
				exit_code = EV_EXIT_USAGE;
				goto out;
			}
			snprintf(default_pub, n, "%s.pub",
				 cfg.agent.signing_key);
			key_paths[n_key_paths++] = default_pub;
		}
	}
	for (size_t i = 0; i < n_key_paths; i++)
		if (ev_report_keys_add(&keys, key_paths[i], &err) != EV_OK) {
			fprintf(stderr, "evident diff: %s\n", err.message);
			exit_code = EV_EXIT_USAGE;
			goto out;
		}
	exit_code = load(argv[optind], &keys, allow_pruned, false, &old_r);
	if (exit_code == EV_EXIT_OK)
		exit_code =
		    load(argv[optind + 1], &keys, allow_pruned, true, &new_r);
	if (exit_code != EV_EXIT_OK)
		goto out;
	if (ev_report_diff(old_r->snap, new_r->snap, &d) != EV_OK) {
		fprintf(stderr, "evident diff: out of memory\n");
		exit_code = EV_EXIT_USAGE;
		goto out;
	}
	if (json) {
		json_t *j = ev_report_diff_json(old_r, new_r, &d);
		if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) != 0 ||
		    fputc('\n', stdout) == EOF)
			exit_code = EV_EXIT_USAGE;
		json_decref(j);
	} else if (ev_report_diff_write_text(old_r, new_r, &d, stdout) !=
		   EV_OK) {
		exit_code = EV_EXIT_USAGE;
	}
	if (fflush(stdout) != 0)
		exit_code = EV_EXIT_USAGE;
	if (exit_code == EV_EXIT_USAGE)
		fprintf(stderr, "evident diff: write error\n");
	else if (!old_r->verify.verified || !new_r->verify.verified)
		exit_code = EV_EXIT_VERIFY;
out:
	ev_report_diff_cleanup(&d);
	ev_report_free(old_r);
	ev_report_free(new_r);
	ev_report_keys_cleanup(&keys);
	free(default_pub);
	ev_config_cleanup(&cfg);
	return exit_code;
}
