/* `evident daemon [--once]`: collects on the [daemon] schedule until
 * stopped, uploads and prunes; for systemd (packaging/systemd). */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "daemon.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evident daemon [--once]\n\n"
		"Collects evidence on the schedule of the [daemon] section "
		"(interval, start_at,\nsplay): each run writes a signed "
		"snapshot chained to the one before, uploads\nthe snapshots "
		"not yet in the [s3] bucket (with Object Lock) and removes "
		"those\nolder than [daemon] retention_days (never the newest, "
		"never one not yet\nuploaded). Logs go to stderr in [agent] "
		"log_format (journal for systemd;\n--log-format json before "
		"the command gives one JSON object per line).\n"
		"The state (last run, result, next run, last error, uploads "
		"pending) is kept in\n[daemon] state_file for `evident "
		"status`.\n\n"
		"Signals: SIGHUP re-reads the configuration (after a running "
		"collection; a\nconfiguration with an error is refused and "
		"the running one kept); SIGTERM or\nSIGINT stop, cancelling "
		"a running collection (its snapshot is discarded)\nwithin "
		"%d s.\n\n"
		"  --once  one run now (collect, upload, prune), then exit "
		"with its result\n"
		"Exit status: 0 when stopped by a signal; 2 configuration "
		"error at start.\nWith --once, as `evident collect`: 0 every "
		"control met, 1 some control not met,\n2 usage or "
		"configuration error, 3 collection incomplete (or the upload "
		"or\npruning failed).\n",
		EV_DAEMON_STOP_GRACE_S);
}

int ev_cmd_daemon(const struct ev_cli_globals *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"once", no_argument, NULL, '1'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ev_daemon_options o = {.g = g};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case '1':
			o.once = true;
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
	return ev_daemon_run(&o);
}
