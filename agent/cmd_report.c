/* `evident report [SNAPSHOT] --format html|md|csv|json|ocsf`: renders a
 * verified snapshot for people and machines. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "report.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: evident report [SNAPSHOT] [--format FORMAT] [--output FILE]"
	    "\n                      [--key PUB]... [--allow-pruned] "
	    "[--history N]\n\n"
	    "Verifies a snapshot and renders it: the verdict of each control, "
	    "the findings\nwith the API calls they rest on (AWS request IDs, "
	    "response SHA-256), coverage,\nand, from the snapshots before it "
	    "in its directory, the trend of each control\nand when each open "
	    "finding was first seen.\n\n"
	    "SNAPSHOT   a snapshot directory, or a directory of snapshots (the "
	    "newest is\n           rendered). Default: the config's "
	    "agent.snapshot_dir.\n"
	    "--format   html (default: one self-contained page), md "
	    "(Markdown for\n           tickets), csv (one finding per row), "
	    "json, ocsf (OCSF 1.3.0\n           Compliance Finding events, "
	    "one JSON object per line)\n"
	    "--output   write to FILE (replaced atomically) instead of "
	    "standard output\n"
	    "--key PUB  a trusted public key; repeat it for keys rotated "
	    "over the chain.\n           Default: the config's "
	    "agent.signing_key with .pub appended; with no\n           key "
	    "at all the manifest's own key is used and the report warns "
	    "that\n           the signer is not established.\n"
	    "--allow-pruned  accept a chain whose oldest snapshots were "
	    "removed\n"
	    "--history N  older snapshots read to date open findings "
	    "(default %d, 0: none)\n\n"
	    "Exit status: 0 rendered and verified, 4 rendered but the "
	    "snapshot did not\nverify (the report says why) or it cannot be "
	    "read, 2 usage, configuration or\noutput error.\n",
	    EV_REPORT_HISTORY_MAX);
}

/* The config, read only for what the command line leaves out. A config
 * file that is absent (and not named) is no config. */
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
		/* The message may quote the snapshot: no control bytes. */
		fputs("evident report: ", stderr);
		ev_report_text(stderr,
			       err.message[0] ? err.message : ev_err_name(rc));
		fputs("\n", stderr);
		return EV_EXIT_USAGE;
	}
	return EV_EXIT_OK;
}

/* Writes through a temporary sibling renamed into place, so a reader
 * never sees half a report. */
static int write_file(const struct ev_report *r, enum ev_report_format f,
		      const char *path)
{
	size_t n = strlen(path) + 32;
	char *tmp = malloc(n);
	if (!tmp)
		return EV_EXIT_USAGE;
	snprintf(tmp, n, "%s.tmp-%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		fprintf(stderr, "evident report: %s: %s\n", tmp,
			strerror(errno));
		free(tmp);
		return EV_EXIT_USAGE;
	}
	FILE *out = fdopen(fd, "w");
	if (!out) {
		close(fd);
		unlink(tmp);
		free(tmp);
		return EV_EXIT_USAGE;
	}
	struct ev_error err;
	ev_error_clear(&err);
	enum ev_err rc = ev_report_write(r, f, out, &err);
	if (rc == EV_OK && fsync(fileno(out)) != 0)
		rc = ev_error_set(&err, EV_E_IO, "%s", strerror(errno));
	if (fclose(out) != 0 && rc == EV_OK)
		rc = ev_error_set(&err, EV_E_IO, "%s", strerror(errno));
	if (rc == EV_OK && rename(tmp, path) != 0)
		rc = ev_error_set(&err, EV_E_IO, "%s", strerror(errno));
	if (rc != EV_OK) {
		fprintf(stderr, "evident report: %s: %s\n", path, err.message);
		unlink(tmp);
	}
	free(tmp);
	return rc == EV_OK ? EV_EXIT_OK : EV_EXIT_USAGE;
}

static bool parse_count(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' ||
	    v > EV_MANIFEST_MAX_SNAPSHOTS)
		return false;
	*out = (size_t)v;
	return true;
}

int ev_cmd_report(const struct ev_cli_globals *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"key", required_argument, NULL, 'k'},
	    {"allow-pruned", no_argument, NULL, 'P'},
	    {"history", required_argument, NULL, 'H'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *key_paths[EV_REPORT_MAX_KEYS];
	size_t n_key_paths = 0;
	const char *output = NULL;
	enum ev_report_format format = EV_REPORT_HTML;
	struct ev_report_options ro = {.history_max = EV_REPORT_HISTORY_MAX};
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "f:o:k:h", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'f':
			if (ev_report_format_parse(optarg, &format) != EV_OK) {
				fprintf(stderr,
					"evident report: unknown format '%s' "
					"(html, md, csv, json, ocsf)\n",
					optarg);
				return EV_EXIT_USAGE;
			}
			break;
		case 'o':
			output = optarg;
			break;
		case 'k':
			if (n_key_paths == EV_REPORT_MAX_KEYS) {
				fprintf(stderr,
					"evident report: at most %d --key\n",
					EV_REPORT_MAX_KEYS);
				return EV_EXIT_USAGE;
			}
			key_paths[n_key_paths++] = optarg;
			break;
		case 'P':
			ro.allow_pruned = true;
			break;
		case 'H':
			if (!parse_count(optarg, &ro.history_max)) {
				fprintf(stderr,
					"evident report: --history wants a "
					"count\n");
				return EV_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return EV_EXIT_OK;
		default:
			usage(stderr);
			return EV_EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "evident report: one SNAPSHOT at most\n");
		usage(stderr);
		return EV_EXIT_USAGE;
	}
	ro.path = optind < argc ? argv[optind] : NULL;

	struct ev_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	struct ev_report_keys keys;
	memset(&keys, 0, sizeof(keys));
	struct ev_report *r = NULL;
	char *default_pub = NULL;
	struct ev_error err;
	ev_error_clear(&err);
	int exit_code = EV_EXIT_OK;
	bool have_config = false;
	if (!ro.path || n_key_paths == 0) {
		exit_code = load_config(g, &cfg, &have_config);
		if (exit_code != EV_EXIT_OK)
			goto out;
	}
	if (!ro.path)
		ro.path = cfg.agent.snapshot_dir;
	if (n_key_paths == 0 && have_config && cfg.agent.signing_key &&
	    *cfg.agent.signing_key) {
		size_t n = strlen(cfg.agent.signing_key) + 5;
		default_pub = malloc(n);
		if (!default_pub) {
			exit_code = EV_EXIT_USAGE;
			goto out;
		}
		snprintf(default_pub, n, "%s.pub", cfg.agent.signing_key);
		key_paths[n_key_paths++] = default_pub;
	}
	for (size_t i = 0; i < n_key_paths; i++)
		if (ev_report_keys_add(&keys, key_paths[i], &err) != EV_OK) {
			fprintf(stderr, "evident report: %s\n", err.message);
			exit_code = EV_EXIT_USAGE;
			goto out;
		}
	ro.keys = (const struct ev_key *const *)keys.keys;
	ro.n_keys = keys.n;

	enum ev_err rc = ev_report_load(&ro, &r, &err);
	if (rc != EV_OK) {
		/* The message may quote the snapshot: no control bytes. */
		fputs("evident report: ", stderr);
		ev_report_text(stderr,
			       err.message[0] ? err.message : ev_err_name(rc));
		fputs("\n", stderr);
		exit_code = rc == EV_E_MALFORMED || rc == EV_E_LIMIT
				? EV_EXIT_VERIFY
				: EV_EXIT_USAGE;
		goto out;
	}
	if (output) {
		exit_code = write_file(r, format, output);
	} else {
		rc = ev_report_write(r, format, stdout, &err);
		if (rc != EV_OK) {
			fprintf(stderr, "evident report: %s\n", err.message);
			exit_code = EV_EXIT_USAGE;
		}
	}
	if (exit_code == EV_EXIT_OK) {
		char buf[512];
		const char *summary =
		    ev_report_verification_summary(r, buf, sizeof(buf));
		if (!r->verify.verified || !r->verify.trusted_key || output) {
			fprintf(stderr, "evident report: %s%s%s: ",
				output ? "wrote " : "", output ? output : "",
				output ? "" : r->snap->name);
			ev_report_text(stderr, summary);
			fputs("\n", stderr);
		}
		if (!r->verify.verified)
			exit_code = EV_EXIT_VERIFY;
	}
out:
	ev_report_free(r);
	ev_report_keys_cleanup(&keys);
	free(default_pub);
	ev_config_cleanup(&cfg);
	return exit_code;
}
