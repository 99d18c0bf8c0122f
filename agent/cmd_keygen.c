/* `evident keygen [--out PATH] [--force]`: makes the Ed25519 key that
 * signs snapshot manifests. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "keys.h"
#include "runtime.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evident keygen [--out PATH] [--force]\n\n"
		"Writes a new Ed25519 signing key: the private key to PATH "
		"(mode 0600) and the\npublic key beside it as PATH.pub (mode "
		"0644). PATH defaults to the config's\nagent.signing_key. "
		"Existing files are never replaced unless --force is "
		"given\n(then atomically). Hand PATH.pub to whoever verifies "
		"the snapshots:\n  evident verify --key PATH.pub\n"
		"Exit status: 0 written, 2 usage or configuration error "
		"(no PATH, a file\nexists), 3 the files could not be "
		"written.\n");
}

/* The configured path, as the other commands would read it. */
static int configured_path(const struct ev_cli_globals *g, char *out, size_t n)
{
	struct ev_config cfg;
	struct ev_error err;
	ev_error_clear(&err);
	enum ev_err rc = ev_runtime_config(&cfg, g, &err);
	int exit_code = EV_EXIT_OK;
	if (rc != EV_OK) {
		fprintf(stderr, "evident keygen: %s\n",
			err.message[0] ? err.message : ev_err_name(rc));
		exit_code = EV_EXIT_USAGE;
	} else if (!cfg.agent.signing_key || !*cfg.agent.signing_key) {
		fprintf(stderr, "evident keygen: no --out and no "
				"agent.signing_key in the config\n");
		exit_code = EV_EXIT_USAGE;
	} else if ((size_t)snprintf(out, n, "%s", cfg.agent.signing_key) >= n) {
		fprintf(stderr, "evident keygen: key path too long\n");
		exit_code = EV_EXIT_USAGE;
	}
	ev_config_cleanup(&cfg);
	return exit_code;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 || errno != ENOENT;
}

int ev_cmd_keygen(const struct ev_cli_globals *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	bool force = false;
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+o:fh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			usage(stdout);
			return EV_EXIT_OK;
		default:
			usage(stderr);
			return EV_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "evident keygen: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return EV_EXIT_USAGE;
	}
	char priv[4096], pub[4100];
	if (out) {
		if ((size_t)snprintf(priv, sizeof(priv), "%s", out) >=
		    sizeof(priv)) {
			fprintf(stderr, "evident keygen: path too long\n");
			return EV_EXIT_USAGE;
		}
	} else {
		int rc = configured_path(g, priv, sizeof(priv));
		if (rc != EV_EXIT_OK)
			return rc;
	}
	snprintf(pub, sizeof(pub), "%s.pub", priv);
	/* Checked before writing either, so a refusal leaves nothing half
	 * done. */
	if (!force) {
		const char *const paths[] = {priv, pub};
		for (size_t i = 0; i < 2; i++)
			if (exists(paths[i])) {
				fprintf(stderr,
					"evident keygen: %s exists; --force "
					"replaces it (snapshots signed with "
					"the old key then need its public "
					"key to verify)\n",
					paths[i]);
				return EV_EXIT_USAGE;
			}
	}

	struct ev_error err;
	ev_error_clear(&err);
	struct ev_key *key = ev_keys_generate(&err);
	if (!key) {
		fprintf(stderr, "evident keygen: %s\n", err.message);
		return EV_EXIT_INCOMPLETE;
	}
	int exit_code = EV_EXIT_OK;
	enum ev_err rc = ev_keys_write_private(key, priv, force, &err);
	if (rc == EV_OK) {
		rc = ev_keys_write_public(key, pub, force, &err);
		/* A private key without its public half is of no use to an
		 * auditor: take it back. */
		if (rc != EV_OK && !force)
			(void)unlink(priv);
	}
	if (rc != EV_OK) {
		fprintf(stderr, "evident keygen: %s\n", err.message);
		exit_code =
		    rc == EV_E_INVALID ? EV_EXIT_USAGE : EV_EXIT_INCOMPLETE;
	} else {
		printf("private key: %s (mode 0600)\npublic key:  %s\n"
		       "fingerprint: sha256:%s\n",
		       priv, pub, ev_keys_fingerprint(key));
	}
	ev_keys_free(key);
	return exit_code;
}
