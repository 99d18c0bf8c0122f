/* `evident daemon`: a collection on the [daemon] schedule, each one a
 * signed snapshot chained to the one before, then the upload of every
 * snapshot not yet in [s3] and the pruning of those past retention_days.
 *
 * One collection at a time: the main thread waits for signals and the
 * schedule, and runs each cycle (collect, upload, prune) on one cycle
 * thread; the snapshot writers' lock keeps two agents on one directory
 * apart. Signals only write a byte to a pipe the main thread polls:
 *   SIGHUP           re-reads the configuration (after the running
 *                    cycle); a configuration with an error is refused with
 *                    a log line naming file:line and the running one kept;
 *   SIGTERM, SIGINT  stop: a running collection is cancelled (no further
 *                    account or probe starts, its snapshot is discarded)
 *                    and the daemon exits 0 within EV_DAEMON_STOP_GRACE_S;
 *                    a cycle that does not end by then is abandoned (its
 *                    .tmp-* directory is not a snapshot and the next writer
 *                    removes it).
 * The state (last run, result, next run, last error, uploads pending) is
 * written atomically to the state file after every change, for `evident
 * status`.
 *
 * Ownership: the state is plain caller storage; nothing here holds a
 * secret (errors are ev_error messages, which never do). */
#ifndef EV_DAEMON_H
#define EV_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "err.h"
#include "manifest.h"

#define EV_DAEMON_STATE_FILE   ".state.json"
#define EV_DAEMON_STATE_FORMAT 1
#define EV_DAEMON_STATE_MAX    (64u * 1024) /* bytes read */
#define EV_DAEMON_STOP_GRACE_S 9	    /* SIGTERM to exit, at most */
#define EV_DAEMON_PATH_MAX     4096
#define EV_DAEMON_MESSAGE_MAX  (EV_ERROR_MSG_MAX + 64)

/* What the daemon records, and `evident status` shows. Times are 0 when
 * unknown. */
struct ev_daemon_state {
	long pid;
	time_t started_at; /* the daemon's start */
	time_t updated_at;
	char phase[16]; /* "idle", "running", "stopping", "stopped" */
	char config[EV_DAEMON_PATH_MAX]; /* the file, "" for built-in */
	long long interval;		 /* seconds */

	/* The last run: collection, upload, pruning. */
	time_t run_started, run_finished;
	char result[16]; /* "" (none yet), see ev_daemon_result */
	int exit_code;	 /* the result as `evident collect` exits */
	char snapshot[EV_SNAPSHOT_NAME_LEN + 1]; /* "" without one */
	unsigned long accounts, api_calls, api_errors;
	time_t next_run;

	char last_error[EV_DAEMON_MESSAGE_MAX]; /* "" when none */
	time_t last_error_at;
	unsigned long runs, failures;

	/* Upload: "" target when none is configured. */
	char upload_target[EV_DAEMON_PATH_MAX]; /* s3://bucket/prefix/ */
	long uploads_pending;			/* -1: not known yet */
	char last_upload[EV_SNAPSHOT_NAME_LEN + 1];
	time_t last_upload_at;
	unsigned long pruned; /* snapshots pruned since the start */
};

/* "met" (exit 0), "not-met" (1), "incomplete" (3: some evidence could not
 * be collected), and for runs without a snapshot "failed" (the collection
 * could not run: credentials, configuration, the snapshot directory) and
 * "cancelled" (stopped by SIGTERM). */
const char *ev_daemon_result(int exit_code, bool failed, bool cancelled);

/* Where the state is: [daemon] state_file, else
 * <snapshot_dir>/EV_DAEMON_STATE_FILE. Errors: EV_E_LIMIT. */
enum ev_err ev_daemon_state_path(const struct ev_config *cfg, char *out,
				 size_t n) EV_MUST_CHECK;

/* The state as JSON (a new reference; NULL when out of memory). */
json_t *ev_daemon_state_json(const struct ev_daemon_state *s);

/* Writes the state to path atomically (a temporary file beside it,
 * fsynced, renamed). Errors: EV_E_IO, EV_E_NOMEM. */
enum ev_err ev_daemon_state_write(const char *path,
				  const struct ev_daemon_state *s,
				  struct ev_error *err) EV_MUST_CHECK;

/* Reads a state file (untrusted: at most EV_DAEMON_STATE_MAX bytes,
 * duplicate keys refused, every field typed, strings bounded and made
 * printable). Errors: EV_E_NOT_FOUND, EV_E_IO, EV_E_LIMIT, EV_E_MALFORMED
 * (naming the field), EV_E_NOMEM. */
enum ev_err ev_daemon_state_read(const char *path, struct ev_daemon_state *s,
				 struct ev_error *err) EV_MUST_CHECK;
/* The parser of ev_daemon_state_read, over n bytes. Errors: EV_E_LIMIT,
 * EV_E_MALFORMED, EV_E_NOMEM. */
enum ev_err ev_daemon_state_parse(const void *bytes, size_t n,
				  struct ev_daemon_state *s,
				  struct ev_error *err) EV_MUST_CHECK;

struct ev_daemon_options {
	const struct ev_cli_globals *g; /* kept for reloads */
	bool once; /* one cycle now, then exit with its result */
};

/* Runs until SIGTERM or SIGINT (or one cycle with once). Returns the exit
 * status: 0 when stopped by a signal; 2 when the configuration cannot be
 * loaded at start; with once, the cycle's (0, 1, 3, or 2 for a
 * configuration error; 3 too when the upload or pruning failed). */
int ev_daemon_run(const struct ev_daemon_options *o);

#endif
