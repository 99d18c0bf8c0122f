/* `evident policy [--member]`: the read-only IAM policy the agent needs,
 * generated from the probe table, so the documented permissions can never
 * drift from the calls the probes make. */
#include <getopt.h>
#include <stdio.h>

#include <jansson.h>

#include "cli.h"
#include "controls.h"
#include "log.h"
#include "runtime.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evident policy [--member]\n\n"
		"Prints the read-only IAM policy evident needs, as JSON for\n"
		"  aws iam create-policy --policy-name evident-audit "
		"--policy-document file://policy.json\n"
		"It allows the calls of every probe and of the collector, and, "
		"when the\nconfiguration collects other accounts ([accounts] "
		"source = list or\norganization), sts:AssumeRole on the "
		"member role only.\n"
		"--member: the policy of the role in each member account "
		"instead (no\nAssumeRole, no organizations:ListAccounts).\n"
		"Exit status: 0 success, 2 usage or a bad configuration.\n");
}

int ev_cmd_policy(const struct ev_cli_globals *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"member", no_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool member = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			member = true;
			break;
		case 'h':
			usage(stdout);
			return EV_EXIT_OK;
		default:
			usage(stderr);
			return EV_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "evident: policy: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return EV_EXIT_USAGE;
	}

	struct ev_runtime rt;
	struct ev_error err;
	int rc = EV_EXIT_OK;
	ev_error_clear(&err);
	enum ev_err e = ev_runtime_init(&rt, g, &err);
	if (e != EV_OK) {
		ev_log_error(EV_LOG_ERROR, "setup", &err);
		rc = ev_runtime_exit_code(e);
		goto out;
	}
	json_t *doc = ev_policy_json(&rt.cfg, member);
	if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2)) != 0) {
		fprintf(stderr, "evident: policy: out of memory\n");
		rc = EV_EXIT_INCOMPLETE;
	} else {
		fputc('\n', stdout);
	}
	json_decref(doc);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "evident: policy: cannot write output\n");
		rc = EV_EXIT_INCOMPLETE;
	}
out:
	ev_runtime_cleanup(&rt);
	return rc;
}
