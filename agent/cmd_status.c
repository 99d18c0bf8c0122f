/* `evident status [--json]`: what the daemon last did and will do next,
 * from its state file. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "daemon.h"
#include "runtime.h"
#include "timefmt.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evident status [--json]\n\n"
		"Shows the daemon's state ([daemon] state_file, by default "
		".state.json in the\nsnapshot directory): whether it runs, "
		"its last run (start, end, result,\nsnapshot), the next run, "
		"the last error, snapshots waiting for their upload.\n"
		"  --json  the state as one JSON object, with state_file and "
		"running added\n"
		"Exit status: the last run's result as `evident collect` "
		"exits it (0 every\ncontrol met, 1 some control not met, 3 "
		"collection incomplete); 3 when no run\nproduced a snapshot "
		"(none yet, failed, cancelled) or there is no state; 2 usage\n"
		"or configuration error.\n");
}

/* Whether a process with that id exists (EPERM: it does, as another
 * user, like the daemon's own). */
static bool process_exists(long pid)
{
	if (pid <= 0)
		return false;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

static const char *when(time_t t, char out[EV_ISO8601_LEN + 1])
{
	if (t <= 0)
		return "-";
	ev_time_format_iso8601(t, out);
	return out;
}

/* "in 5h 59m", "3m 2s ago". */
static void relative(time_t t, time_t now, char *out, size_t n)
{
	long long d = (long long)t - (long long)now;
	long long a = d < 0 ? -d : d;
	char span[48];
	if (a >= 86400)
		snprintf(span, sizeof(span), "%lldd %lldh", a / 86400,
			 a % 86400 / 3600);
	else if (a >= 3600)
		snprintf(span, sizeof(span), "%lldh %lldm", a / 3600,
			 a % 3600 / 60);
	else if (a >= 60)
		snprintf(span, sizeof(span), "%lldm %llds", a / 60, a % 60);
	else
		snprintf(span, sizeof(span), "%llds", a);
	snprintf(out, n, d >= 0 ? "in %s" : "%s ago", span);
}

static const char *meaning(int exit_code)
{
	switch (exit_code) {
	case EV_EXIT_OK:
		return "every machine-checkable control met";
	case EV_EXIT_NOT_MET:
		return "some control not met";
	case EV_EXIT_USAGE:
		return "usage or configuration error";
	default:
		return "collection incomplete: some evidence could not be "
		       "collected";
	}
}

static void print_text(const struct ev_daemon_state *s, const char *path,
		       bool running)
{
	time_t now = time(NULL);
	char a[EV_ISO8601_LEN + 1], b[EV_ISO8601_LEN + 1], rel[64];
	if (running)
		printf("daemon:      running (pid %ld), since %s, %s\n", s->pid,
		       when(s->started_at, a), s->phase);
	else if (strcmp(s->phase, "stopped") == 0)
		printf("daemon:      stopped (pid %ld ran from %s)\n", s->pid,
		       when(s->started_at, a));
	else
		printf("daemon:      not running (pid %ld is gone without "
		       "recording a stop: killed or crashed)\n",
		       s->pid);
	printf("state file:  %s (updated %s)\n", path, when(s->updated_at, a));
	printf("config:      %s\n", s->config[0] ? s->config : "(built-in)");
	if (s->result[0]) {
		printf("last run:    %s .. %s (%lds)\n",
		       when(s->run_started, a), when(s->run_finished, b),
		       (long)(s->run_finished - s->run_started));
		printf("result:      %s (exit %d: %s)\n", s->result,
		       s->exit_code, meaning(s->exit_code));
		if (s->snapshot[0])
			printf("snapshot:    %s (%lu accounts, %lu API calls, "
			       "%lu errors)\n",
			       s->snapshot, s->accounts, s->api_calls,
			       s->api_errors);
	} else {
		printf("last run:    none yet\n");
	}
	if (running && s->next_run > 0) {
		relative(s->next_run, now, rel, sizeof(rel));
		printf("next run:    %s (%s)\n", when(s->next_run, a), rel);
	} else if (running) {
		printf("next run:    -\n");
	}
	printf("runs:        %lu since the start, %lu failed; %lu snapshots "
	       "pruned\n",
	       s->runs, s->failures, s->pruned);
	if (s->upload_target[0]) {
		if (s->uploads_pending < 0)
			printf("uploads:     to %s, pending not counted yet\n",
			       s->upload_target);
		else
			printf("uploads:     to %s, %ld snapshot%s pending\n",
			       s->upload_target, s->uploads_pending,
			       s->uploads_pending == 1 ? "" : "s");
		if (s->last_upload[0])
			printf("last upload: %s at %s\n", s->last_upload,
			       when(s->last_upload_at, a));
	} else {
		printf("uploads:     none configured\n");
	}
	if (s->last_error[0])
		printf("last error:  %s: %s\n", when(s->last_error_at, a),
		       s->last_error);
	else
		printf("last error:  none\n");
}

int ev_cmd_status(const struct ev_cli_globals *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool as_json = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			as_json = true;
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

	struct ev_config cfg;
	struct ev_error err;
	ev_error_clear(&err);
	enum ev_err rc = ev_runtime_config(&cfg, g, &err);
	char path[EV_DAEMON_PATH_MAX];
	if (rc == EV_OK &&
	    ev_daemon_state_path(&cfg, path, sizeof(path)) != EV_OK)
		rc =
		    ev_error_set(&err, EV_E_CONFIG, "state file path too long");
	ev_config_cleanup(&cfg);
	if (rc != EV_OK) {
		fprintf(stderr, "evident status: %s\n",
			err.message[0] ? err.message : ev_err_name(rc));
		return EV_EXIT_USAGE;
	}

	struct ev_daemon_state s;
	rc = ev_daemon_state_read(path, &s, &err);
	if (rc == EV_E_NOT_FOUND) {
		fprintf(stderr,
			"evident status: no state file %s: the daemon has "
			"not run with this configuration\n",
			path);
		return EV_EXIT_INCOMPLETE;
	}
	if (rc != EV_OK) {
		fprintf(stderr, "evident status: %s\n", err.message);
		return EV_EXIT_INCOMPLETE;
	}
	bool running = process_exists(s.pid) && strcmp(s.phase, "stopped") != 0;
	if (as_json) {
		json_t *root = ev_daemon_state_json(&s);
		if (root) {
			json_object_set_new(root, "state_file",
					    json_string(path));
			json_object_set_new(root, "running",
					    json_boolean(running));
		}
		char *text = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
		json_decref(root);
		if (!text) {
			fprintf(stderr, "evident status: out of memory\n");
			return EV_EXIT_INCOMPLETE;
		}
		printf("%s\n", text);
		free(text);
	} else {
		print_text(&s, path, running);
	}
	bool snapshot_result = strcmp(s.result, "met") == 0 ||
			       strcmp(s.result, "not-met") == 0 ||
			       strcmp(s.result, "incomplete") == 0;
	if (!snapshot_result)
		return EV_EXIT_INCOMPLETE;
	return s.exit_code == EV_EXIT_OK || s.exit_code == EV_EXIT_NOT_MET
		   ? s.exit_code
		   : EV_EXIT_INCOMPLETE;
}
