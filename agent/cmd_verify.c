/* `evident verify [DIR] [--key PUB]...`: proves that snapshots are as
 * they were written: every part's hash, nothing missing or extra, the
 * manifest's signature, and the chain of manifests. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "keys.h"
#include "manifest.h"
#include "runtime.h"

#define MAX_KEYS 16

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: evident verify [DIR] [--key PUB]... [--trust-embedded-key]"
	    "\n                      [--allow-pruned]\n\n"
	    "Verifies snapshots: each part's SHA-256 and size against the "
	    "manifest, that no\npart is missing or extra, the manifest's "
	    "Ed25519 signature (manifest.sig), and\nthe chain: each manifest "
	    "names the snapshot before it and the SHA-256 of its\nmanifest, "
	    "back to the first snapshot, so a deleted, inserted, renamed or\n"
	    "reordered snapshot is found.\n\n"
	    "DIR      a directory of snapshots (every one is verified), or "
	    "one snapshot (it\n         is verified in full, with the "
	    "manifests and chain of the ones before\n         it). Default: "
	    "the config's agent.snapshot_dir.\n"
	    "--key PUB  a trusted public key (PEM, as `evident keygen` "
	    "writes it); repeat it\n         to accept snapshots signed "
	    "before a key rotation. Default: the\n         config's "
	    "agent.signing_key with .pub appended.\n"
	    "--trust-embedded-key\n         without a trusted key, check "
	    "each manifest against the public key\n         it carries. "
	    "That proves nothing about who wrote the snapshot:\n         "
	    "anyone can alter evidence and re-sign it with a key of their "
	    "own.\n         It only shows the snapshot is internally "
	    "consistent.\n"
	    "--allow-pruned\n         accept a chain whose oldest present "
	    "snapshot follows one that was\n         removed (pruned after "
	    "the retention period).\n\n"
	    "Snapshots being written (.tmp-*) are ignored.\n"
	    "Exit status: 0 everything verified, 4 a problem was found "
	    "(each is printed)\nor there is nothing to verify, 2 usage or "
	    "configuration error.\n");
}

struct printer {
	bool quiet;
	size_t failed_lines;
};

static void on_event(void *ctx, const struct ev_manifest_event *ev)
{
	struct printer *p = ctx;
	if (ev->problem == EV_PROBLEM_NONE) {
		if (p->quiet)
			return;
		if (!ev->snapshot[0])
			printf("note  %s\n", ev->message);
		else
			printf("ok    %s  %s\n", ev->snapshot, ev->message);
		return;
	}
	p->failed_lines++;
	printf("FAIL  %s%s%s: %s\n", ev->snapshot, ev->snapshot[0] ? "  " : "",
	       ev_manifest_problem_name(ev->problem), ev->message);
}

static int load_config(const struct ev_cli_globals *g, struct ev_config *cfg)
{
	struct ev_error err;
	ev_error_clear(&err);
	enum ev_err rc = ev_runtime_config(cfg, g, &err);
	if (rc != EV_OK) {
		fprintf(stderr, "evident verify: %s\n",
			err.message[0] ? err.message : ev_err_name(rc));
		return EV_EXIT_USAGE;
	}
	return EV_EXIT_OK;
}

int ev_cmd_verify(const struct ev_cli_globals *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"trust-embedded-key", no_argument, NULL, 'E'},
	    {"allow-pruned", no_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *key_paths[MAX_KEYS];
	size_t n_key_paths = 0;
	bool trust_embedded = false, allow_pruned = false;
	int opt;
	/* 0 makes glibc's getopt start afresh; no leading '+' in the option
	 * string, so options may follow DIR. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "k:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			if (n_key_paths == MAX_KEYS) {
				fprintf(stderr,
					"evident verify: at most %d --key\n",
					MAX_KEYS);
				return EV_EXIT_USAGE;
			}
			key_paths[n_key_paths++] = optarg;
			break;
		case 'E':
			trust_embedded = true;
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
	if (argc - optind > 1) {
		fprintf(stderr, "evident verify: one DIR at most\n");
		usage(stderr);
		return EV_EXIT_USAGE;
	}
	const char *dir = optind < argc ? argv[optind] : NULL;

	struct ev_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	struct ev_key *keys[MAX_KEYS] = {0};
	size_t n_keys = 0;
	char *default_pub = NULL;
	int exit_code = EV_EXIT_OK;
	struct ev_error err;
	ev_error_clear(&err);

	/* The config is read only for what the command line leaves out. */
	bool need_key = n_key_paths == 0 && !trust_embedded;
	if (!dir || need_key) {
		exit_code = load_config(g, &cfg);
		if (exit_code != EV_EXIT_OK)
			goto out;
	}
	if (!dir)
		dir = cfg.agent.snapshot_dir;
	if (need_key) {
		if (!cfg.agent.signing_key || !*cfg.agent.signing_key) {
			fprintf(stderr,
				"evident verify: no public key: pass --key "
				"PUB, or configure agent.signing_key (its "
				".pub is used)\n");
			exit_code = EV_EXIT_USAGE;
			goto out;
		}
		size_t n = strlen(cfg.agent.signing_key) + 5;
		default_pub = malloc(n);
		if (!default_pub) {
			exit_code = EV_EXIT_USAGE;
			goto out;
		}
		snprintf(default_pub, n, "%s.pub", cfg.agent.signing_key);
		key_paths[n_key_paths++] = default_pub;
	}
	for (size_t i = 0; i < n_key_paths; i++) {
		keys[n_keys] = ev_keys_load_public(key_paths[i], &err);
		if (!keys[n_keys]) {
			fprintf(stderr, "evident verify: public key: %s\n",
				err.message);
			exit_code = EV_EXIT_USAGE;
			goto out;
		}
		n_keys++;
	}

	struct printer pr = {.quiet = g->verbosity < 0};
	if (!pr.quiet) {
		printf("verifying %s\n", dir);
		for (size_t i = 0; i < n_keys; i++)
			printf("trusted key sha256:%s (%s)\n",
			       ev_keys_fingerprint(keys[i]), key_paths[i]);
		if (!n_keys)
			printf("WARNING: no trusted key: each manifest is "
			       "checked against the key it carries, which "
			       "proves consistency, not authorship\n");
	}
	struct ev_manifest_verify_options o = {
	    .path = dir,
	    .keys = (const struct ev_key *const *)keys,
	    .n_keys = n_keys,
	    .trust_embedded_key = trust_embedded && n_keys == 0,
	    .allow_pruned = allow_pruned,
	    .on_event = on_event,
	    .ctx = &pr,
	};
	struct ev_manifest_summary sum;
	enum ev_err rc = ev_manifest_verify(&o, &sum, &err);
	if (rc == EV_OK) {
		printf("%zu snapshot%s verified (%zu parts hashed)\n",
		       sum.verified, sum.verified == 1 ? "" : "s", sum.parts);
	} else if (rc == EV_E_AUTH) {
		printf("verification FAILED: %zu of %zu snapshot%s with "
		       "problems (%zu problem%s)\n",
		       sum.snapshots - sum.verified, sum.snapshots,
		       sum.snapshots == 1 ? "" : "s", sum.problems,
		       sum.problems == 1 ? "" : "s");
		exit_code = EV_EXIT_VERIFY;
	} else {
		fprintf(stderr, "evident verify: %s\n",
			err.message[0] ? err.message : ev_err_name(rc));
		exit_code = rc == EV_E_INVALID ? EV_EXIT_USAGE : EV_EXIT_VERIFY;
	}
out:
	for (size_t i = 0; i < n_keys; i++)
		ev_keys_free(keys[i]);
	free(default_pub);
	ev_config_cleanup(&cfg);
	return exit_code;
}
