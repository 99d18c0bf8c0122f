/* `evident collect`: one collection now, a signed snapshot, the verdict
 * table. For cron, systemd timers and Kubernetes CronJobs. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "collect.h"
#include "controls.h"
#include "log.h"
#include "runtime.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evident collect [--shard K/N] [--output DIR] "
		"[--no-progress]\n\n"
		"Collects evidence from every account and region the "
		"configuration names,\nwrites a signed snapshot under the "
		"snapshot directory (or DIR) and prints\nthe control verdicts "
		"and the snapshot's path.\n"
		"  --shard K/N    collect only the accounts whose id hashes "
		"into shard K of N\n"
		"  --output DIR   the snapshot directory (default: "
		"[agent] snapshot_dir)\n"
		"  --no-progress  no progress line on a terminal\n"
		"Exit status: 0 every machine-checkable control met, 1 some "
		"control not met,\n2 usage or configuration error, 3 "
		"collection incomplete (errors).\n");
}

int ev_cmd_collect(const struct ev_cli_globals *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"shard", required_argument, NULL, 's'},
	    {"output", required_argument, NULL, 'o'},
	    {"no-progress", no_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ev_collect_options o = {.progress = true};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (ev_collect_parse_shard(optarg, &o.shard_k,
						   &o.shard_n) != EV_OK) {
				fprintf(stderr, "evident: collect: --shard "
						"wants K/N with 1 <= K <= N\n");
				return EV_EXIT_USAGE;
			}
			break;
		case 'o':
			o.snapshot_dir = optarg;
			break;
		case 'P':
			o.progress = false;
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
		usage(stderr);
		return EV_EXIT_USAGE;
	}

	struct ev_runtime rt;
	struct ev_error err;
	ev_error_clear(&err);
	enum ev_err rc = ev_runtime_init(&rt, g, &err);
	if (rc != EV_OK) {
		ev_log_error(EV_LOG_ERROR, "setup", &err);
		ev_runtime_cleanup(&rt);
		return ev_runtime_exit_code(rc);
	}
	o.cfg = &rt.cfg;
	o.aws = rt.aws;
	o.creds = rt.creds;
	if (g->verbosity < 0)
		o.progress = false;

	struct ev_collect_result res;
	rc = ev_collect_run(&o, &res, &err);
	int code;
	if (rc != EV_OK) {
		ev_log_error(EV_LOG_ERROR, "collection failed", &err);
		code = ev_runtime_exit_code(rc);
	} else {
		ev_verdicts_print_table(res.verdicts, stdout,
					isatty(STDOUT_FILENO));
		printf("\nsnapshot: %s\n", res.snapshot);
		printf("accounts: %lu collected, %lu skipped; API calls: %lu "
		       "(%lu errors)\n",
		       res.accounts_collected, res.accounts_skipped,
		       res.api_calls, res.api_errors);
		code = res.exit_code;
	}
	ev_collect_result_cleanup(&res);
	ev_runtime_cleanup(&rt);
	return code;
}
