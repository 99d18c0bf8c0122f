/* evident: evidence collection agent for AWS accounts. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "cli.h"
#include "log.h"

struct command {
	const char *name;
	const char *summary;
	int (*run)(const struct ev_cli_globals *g, int argc, char **argv);
};

static const struct command commands[] = {
    {"collect", "collect evidence now and write a signed snapshot",
     ev_cmd_collect},
    {"controls", "list the audit controls and what evidences them",
     ev_cmd_controls},
    {"daemon", "collect on a schedule, upload and prune snapshots (service)",
     ev_cmd_daemon},
    {"demo",
     "live demonstration for an auditor: every call and finding "
     "as it happens",
     ev_cmd_demo},
    {"diff", "what changed between two snapshots", ev_cmd_diff},
    {"keygen", "make the Ed25519 key that signs snapshots", ev_cmd_keygen},
    {"policy", "print the read-only IAM policy the agent needs", ev_cmd_policy},
    {"report", "render a snapshot: html, md, csv, json, ocsf", ev_cmd_report},
    {"request", "make one signed AWS API call and print the response",
     ev_cmd_request},
    {"sign", "sign a raw HTTP request read from stdin (SigV4)", ev_cmd_sign},
    {"status", "show the daemon's last run, next run and last error",
     ev_cmd_status},
    {"verify", "verify snapshots: part hashes, signatures, the chain",
     ev_cmd_verify},
};

/* Jansson frees its parse buffers and strings without wiping them, and
 * some hold credentials (credential_process output, container and IMDS
 * answers): every block it frees is wiped first. */
static void json_wiping_free(void *p)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, malloc_usable_size(p));
	free(p);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: evident [--config FILE] [--profile NAME] "
		     "[--verbose|--quiet]\n"
		     "               [--log-format text|journal|json] COMMAND "
		     "[ARGS]\n"
		     "       evident --version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\n'evident COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	json_set_alloc_funcs(malloc, json_wiping_free);
	struct ev_cli_globals g = {0};
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--version") == 0) {
			printf("evident %s\n", EV_VERSION);
			return EV_EXIT_OK;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return EV_EXIT_OK;
		} else if (strcmp(a, "--verbose") == 0 ||
			   strcmp(a, "-v") == 0) {
			g.verbosity++;
		} else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
			g.verbosity = -1;
		} else if (strcmp(a, "--log-format") == 0 && i + 1 < argc) {
			/* Through the environment, which ranks above the
			 * file, so reloads keep it. */
			const char *f = argv[++i];
			if (strcmp(f, "text") != 0 &&
			    strcmp(f, "journal") != 0 &&
			    strcmp(f, "json") != 0) {
				fprintf(stderr,
					"evident: --log-format is text, "
					"journal or json\n");
				return EV_EXIT_USAGE;
			}
			setenv("EVIDENT_LOG_FORMAT", f, 1);
		} else if ((strcmp(a, "--config") == 0 ||
			    strcmp(a, "--profile") == 0) &&
			   i + 1 < argc) {
			if (a[2] == 'c')
				g.config_path = argv[++i];
			else
				g.profile = argv[++i];
		} else {
			fprintf(stderr, "evident: unknown option '%s'\n", a);
			usage(stderr);
			return EV_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EV_EXIT_USAGE;
	}

	enum ev_log_level level = g.verbosity < 0    ? EV_LOG_ERROR
				  : g.verbosity == 0 ? EV_LOG_WARN
				  : g.verbosity == 1 ? EV_LOG_DEBUG
						     : EV_LOG_TRACE;
	ev_log_configure(level, EV_LOG_FORMAT_TEXT);

	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name) == 0) {
			if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
				fprintf(stderr,
					"evident: libcurl failed to start\n");
				return EV_EXIT_INCOMPLETE;
			}
			int rc = commands[c].run(&g, argc - i, argv + i);
			curl_global_cleanup();
			return rc;
		}
	}
	fprintf(stderr, "evident: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return EV_EXIT_USAGE;
}
