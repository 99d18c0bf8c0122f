#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "buf.h"
#include "collect.h"
#include "keys.h"
#include "log.h"
#include "prune.h"
#include "runtime.h"
#include "schedule.h"
#include "timefmt.h"
#include "upload.h"

/* The longest the main thread sleeps between looks at the wall clock, so
 * a clock that jumps does not hold a run back for long. */
#define WAKE_MAX_S 60

/* ---- the state file ----------------------------------------------------- */

const char *ev_daemon_result(int exit_code, bool failed, bool cancelled)
{
	if (cancelled)
		return "cancelled";
	if (failed)
		return "failed";
	switch (exit_code) {
	case EV_EXIT_OK:
		return "met";
	case EV_EXIT_NOT_MET:
		return "not-met";
	default:
		return "incomplete";
	}
}

enum ev_err ev_daemon_state_path(const struct ev_config *cfg, char *out,
				 size_t n)
{
	int len = cfg->daemon.state_file
		      ? snprintf(out, n, "%s", cfg->daemon.state_file)
		      : snprintf(out, n, "%s/%s", cfg->agent.snapshot_dir,
				 EV_DAEMON_STATE_FILE);
	EV_ENSURE(len > 0 && (size_t)len < n, EV_E_LIMIT);
	return EV_OK;
}

static json_t *time_json(time_t t)
{
	if (t <= 0)
		return json_null();
	char s[EV_ISO8601_LEN + 1];
	ev_time_format_iso8601(t, s);
	return json_string(s);
}

static json_t *str_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

json_t *ev_daemon_state_json(const struct ev_daemon_state *s)
{
	json_t *run = json_null(), *error = json_null(), *upload = json_null();
	if (s->result[0])
		run = json_pack("{s:o, s:o, s:s, s:i, s:o, s:I, s:I, s:I}",
				"started_at", time_json(s->run_started),
				"finished_at", time_json(s->run_finished),
				"result", s->result, "exit_code", s->exit_code,
				"snapshot", str_or_null(s->snapshot),
				"accounts", (json_int_t)s->accounts,
				"api_calls", (json_int_t)s->api_calls,
				"api_errors", (json_int_t)s->api_errors);
	if (s->last_error[0])
		error =
		    json_pack("{s:o, s:s}", "at", time_json(s->last_error_at),
			      "message", s->last_error);
	if (s->upload_target[0])
		upload = json_pack("{s:s, s:o, s:o, s:o}", "target",
				   s->upload_target, "pending",
				   s->uploads_pending < 0
				       ? json_null()
				       : json_integer(s->uploads_pending),
				   "last_snapshot", str_or_null(s->last_upload),
				   "last_at", time_json(s->last_upload_at));
	if (!run || !error || !upload) {
		json_decref(run);
		json_decref(error);
		json_decref(upload);
		return NULL;
	}
	return json_pack(
	    "{s:i, s:I, s:s, s:o, s:o, s:s, s:I, s:o, s:o, s:o, s:I, s:I, "
	    "s:o, s:I}",
	    "format", EV_DAEMON_STATE_FORMAT, "pid", (json_int_t)s->pid,
	    "phase", s->phase, "started_at", time_json(s->started_at),
	    "updated_at", time_json(s->updated_at), "config", s->config,
	    "interval_seconds", (json_int_t)s->interval, "last_run", run,
	    "next_run", time_json(s->next_run), "last_error", error, "runs",
	    (json_int_t)s->runs, "failures", (json_int_t)s->failures, "upload",
	    upload, "pruned", (json_int_t)s->pruned);
}

enum ev_err ev_daemon_state_write(const char *path,
				  const struct ev_daemon_state *s,
				  struct ev_error *err)
{
	json_t *root = ev_daemon_state_json(s);
	char *text = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
	json_decref(root);
	EV_ENSURE_E(err, text, EV_E_NOMEM, "out of memory");
	char tmp[EV_DAEMON_PATH_MAX + 16];
	enum ev_err rc = EV_OK;
	int fd = -1;
	int len = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (len < 0 || (size_t)len >= sizeof(tmp)) {
		rc = ev_error_set(err, EV_E_IO, "state file path too long");
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0640);
	size_t n = strlen(text), off = 0;
	while (fd >= 0 && off < n) {
		ssize_t w = write(fd, text + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (fd < 0 || off < n || write(fd, "\n", 1) != 1 || fsync(fd) != 0 ||
	    rename(tmp, path) != 0) {
		rc =
		    ev_error_set(err, EV_E_IO, "%s: %s", path, strerror(errno));
		(void)unlink(tmp);
	}
out:
	if (fd >= 0)
		close(fd);
	free(text);
	return rc;
}

/* Field readers for the state file: absent or null means unknown. */
static enum ev_err read_time(const json_t *o, const char *key, time_t *out,
			     struct ev_error *err)
{
	const json_t *v = json_object_get(o, key);
	*out = 0;
	if (!v || json_is_null(v))
		return EV_OK;
	EV_ENSURE_E(err,
		    json_is_string(v) &&
			ev_time_parse_iso8601(json_string_value(v), out) ==
			    EV_OK,
		    EV_E_MALFORMED, "state file: %s is not a UTC time", key);
	return EV_OK;
}

static enum ev_err read_str(const json_t *o, const char *key, char *out,
			    size_t n, struct ev_error *err)
{
	const json_t *v = json_object_get(o, key);
	out[0] = '\0';
	if (!v || json_is_null(v))
		return EV_OK;
	EV_ENSURE_E(err, json_is_string(v), EV_E_MALFORMED,
		    "state file: %s is not a string", key);
	ev_error_copy_field(out, n, json_string_value(v),
			    json_string_length(v));
	return EV_OK;
}

static enum ev_err read_count(const json_t *o, const char *key, long long min,
			      long long max, long long *out,
			      struct ev_error *err)
{
	const json_t *v = json_object_get(o, key);
	*out = min < 0 ? -1 : 0;
	if (!v || json_is_null(v))
		return EV_OK;
	EV_ENSURE_E(err,
		    json_is_integer(v) && json_integer_value(v) >= min &&
			json_integer_value(v) <= max,
		    EV_E_MALFORMED, "state file: %s is not a number in range",
		    key);
	*out = json_integer_value(v);
	return EV_OK;
}

static enum ev_err read_ulong(const json_t *o, const char *key,
			      unsigned long *out, struct ev_error *err)
{
	long long v;
	EV_TRY(read_count(o, key, 0, (long long)1 << 52, &v, err));
	*out = (unsigned long)v;
	return EV_OK;
}

static enum ev_err read_object(const json_t *o, const char *key,
			       const json_t **out, struct ev_error *err)
{
	const json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return EV_OK;
	EV_ENSURE_E(err, json_is_object(v), EV_E_MALFORMED,
		    "state file: %s is not an object", key);
	*out = v;
	return EV_OK;
}

static enum ev_err state_from_json(const json_t *root,
				   struct ev_daemon_state *s,
				   struct ev_error *err)
{
	long long v;
	EV_ENSURE_E(err, json_is_object(root), EV_E_MALFORMED,
		    "state file: not a JSON object");
	EV_TRY(read_count(root, "format", 0, 1000, &v, err));
	EV_ENSURE_E(err, v == EV_DAEMON_STATE_FORMAT, EV_E_MALFORMED,
		    "state file: format %lld, not %d", v,
		    EV_DAEMON_STATE_FORMAT);
	EV_TRY(read_count(root, "pid", 0, 1 << 30, &v, err));
	s->pid = (long)v;
	EV_TRY(read_str(root, "phase", s->phase, sizeof(s->phase), err));
	EV_TRY(read_time(root, "started_at", &s->started_at, err));
	EV_TRY(read_time(root, "updated_at", &s->updated_at, err));
	EV_TRY(read_str(root, "config", s->config, sizeof(s->config), err));
	EV_TRY(read_count(root, "interval_seconds", 0, (long long)1 << 40,
			  &s->interval, err));
	EV_TRY(read_time(root, "next_run", &s->next_run, err));
	EV_TRY(read_ulong(root, "runs", &s->runs, err));
	EV_TRY(read_ulong(root, "failures", &s->failures, err));
	EV_TRY(read_ulong(root, "pruned", &s->pruned, err));

	const json_t *run;
	EV_TRY(read_object(root, "last_run", &run, err));
	if (run) {
		EV_TRY(read_time(run, "started_at", &s->run_started, err));
		EV_TRY(read_time(run, "finished_at", &s->run_finished, err));
		EV_TRY(
		    read_str(run, "result", s->result, sizeof(s->result), err));
		EV_TRY(read_count(run, "exit_code", 0, 255, &v, err));
		s->exit_code = (int)v;
		EV_TRY(read_str(run, "snapshot", s->snapshot,
				sizeof(s->snapshot), err));
		EV_ENSURE_E(
		    err, !s->snapshot[0] || ev_manifest_name_valid(s->snapshot),
		    EV_E_MALFORMED,
		    "state file: last_run.snapshot is not a "
		    "snapshot name");
		EV_TRY(read_ulong(run, "accounts", &s->accounts, err));
		EV_TRY(read_ulong(run, "api_calls", &s->api_calls, err));
		EV_TRY(read_ulong(run, "api_errors", &s->api_errors, err));
	}
	const json_t *e;
	EV_TRY(read_object(root, "last_error", &e, err));
	if (e) {
		EV_TRY(read_time(e, "at", &s->last_error_at, err));
		EV_TRY(read_str(e, "message", s->last_error,
				sizeof(s->last_error), err));
	}
	const json_t *up;
	s->uploads_pending = -1;
	EV_TRY(read_object(root, "upload", &up, err));
	if (up) {
		EV_TRY(read_str(up, "target", s->upload_target,
				sizeof(s->upload_target), err));
		EV_TRY(read_count(up, "pending", -1, 1 << 30, &v, err));
		s->uploads_pending = (long)v;
		EV_TRY(read_str(up, "last_snapshot", s->last_upload,
				sizeof(s->last_upload), err));
		EV_TRY(read_time(up, "last_at", &s->last_upload_at, err));
	}
	return EV_OK;
}

enum ev_err ev_daemon_state_parse(const void *bytes, size_t n,
				  struct ev_daemon_state *s,
				  struct ev_error *err)
{
	memset(s, 0, sizeof(*s));
	s->uploads_pending = -1;
	EV_ENSURE_E(err, n <= EV_DAEMON_STATE_MAX, EV_E_LIMIT,
		    "state file: larger than %u bytes", EV_DAEMON_STATE_MAX);
	json_error_t je;
	json_t *root =
	    json_loadb(bytes ? bytes : "", n, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return ev_error_set(err, EV_E_MALFORMED,
				    "state file: not JSON (line %d)", je.line);
	enum ev_err rc = state_from_json(root, s, err);
	json_decref(root);
	return rc;
}

enum ev_err ev_daemon_state_read(const char *path, struct ev_daemon_state *s,
				 struct ev_error *err)
{
	memset(s, 0, sizeof(*s));
	s->uploads_pending = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return ev_error_set(err,
				    errno == ENOENT ? EV_E_NOT_FOUND : EV_E_IO,
				    "%s: %s", path, strerror(errno));
	struct ev_buf b;
	ev_buf_init(&b, EV_DAEMON_STATE_MAX);
	enum ev_err rc = EV_OK;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		rc = ev_error_set(err, EV_E_IO, "%s: not a regular file", path);
	char chunk[4096];
	while (rc == EV_OK) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = ev_error_set(err, EV_E_IO, "%s: %s", path,
					  strerror(errno));
		if (n <= 0)
			break;
		if (ev_buf_append(&b, chunk, (size_t)n) != EV_OK)
			rc = ev_error_set(err, EV_E_LIMIT,
					  "%s: larger than %u bytes", path,
					  EV_DAEMON_STATE_MAX);
	}
	close(fd);
	if (rc == EV_OK) {
		rc = ev_daemon_state_parse(b.data, b.len, s, err);
		if (rc != EV_OK)
			ev_error_prefix(err, "%s: ", path);
	}
	ev_buf_cleanup(&b);
	return rc;
}

/* ---- signals ------------------------------------------------------------ */

/* The write end of the self-pipe: the one piece of process-wide state the
 * handler needs, since a signal handler gets no context. */
static int signal_pipe_w = -1;

static void on_signal(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;
	ssize_t w = write(signal_pipe_w, &b, 1);
	(void)w; /* a full pipe already holds a wake-up */
	errno = saved;
}

static enum ev_err signals_start(int *read_end, struct ev_error *err)
{
	int fds[2];
	EV_ENSURE_E(err, pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0, EV_E_IO,
		    "pipe: %s", strerror(errno));
	signal_pipe_w = fds[1];
	*read_end = fds[0];
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* Restarted calls: workers' reads and writes go on undisturbed. */
	sa.sa_flags = SA_RESTART;
	static const int handled[] = {SIGHUP, SIGTERM, SIGINT};
	for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		EV_ENSURE_E(err, sigaction(handled[i], &sa, NULL) == 0, EV_E_IO,
			    "sigaction: %s", strerror(errno));
	return EV_OK;
}

static void signals_stop(int read_end)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (signal_pipe_w >= 0)
		close(signal_pipe_w);
	signal_pipe_w = -1;
	if (read_end >= 0)
		close(read_end);
}

/* ---- the daemon --------------------------------------------------------- */

/* What one cycle did; written by the cycle thread, read after it joined. */
struct cycle {
	time_t started, finished;
	enum ev_err rc;
	struct ev_error err;
	struct ev_collect_result res;
	bool uploading;
	enum ev_err up_rc;
	struct ev_error up_err;
	struct ev_upload_summary up;
	bool pruning;
	enum ev_err prune_rc;
	struct ev_error prune_err;
	struct ev_prune_result prune;
};

struct daemon {
	const struct ev_daemon_options *o;
	struct ev_runtime rt;
	struct ev_schedule sched;
	struct ev_upload_target target;
	bool upload;
	char state_path[EV_DAEMON_PATH_MAX];
	struct ev_daemon_state st;
	bool state_failing; /* the last write failed (logged once) */
	int sig_r;
	int done_r, done_w;
	atomic_bool cancel;
	struct cycle cycle;
	/* The schedule counts from the last run's start (a failed run too, so
	 * failures do not repeat back to back); snapshots are named by their
	 * start second, so none may start in the newest one's. 0: none. */
	time_t last_run, last_snapshot;
};

/* The level and format ev_runtime_init sets, for putting the running
 * configuration's back after a reload that failed half way. */
static void configure_logging(const struct ev_config *cfg,
			      const struct ev_cli_globals *g)
{
	enum ev_log_level level = cfg->agent.log_level;
	if (g->verbosity < 0)
		level = EV_LOG_ERROR;
	else if (g->verbosity == 1 && level < EV_LOG_DEBUG)
		level = EV_LOG_DEBUG;
	else if (g->verbosity >= 2)
		level = EV_LOG_TRACE;
	ev_log_configure(level, cfg->agent.log_format);
}

static void state_save(struct daemon *d)
{
	d->st.updated_at = time(NULL);
	struct ev_error err;
	ev_error_clear(&err);
	if (ev_daemon_state_write(d->state_path, &d->st, &err) == EV_OK) {
		d->state_failing = false;
		return;
	}
	if (!d->state_failing)
		ev_log_error(EV_LOG_WARN, "state file not written", &err);
	d->state_failing = true;
}

static void note_error(struct daemon *d, const char *what,
		       const struct ev_error *e)
{
	snprintf(d->st.last_error, sizeof(d->st.last_error), "%s: %s", what,
		 e->message[0] ? e->message : ev_err_name(e->code));
	d->st.last_error_at = time(NULL);
}

static enum ev_err make_dirs(const char *dir, struct ev_error *err)
{
	char path[EV_DAEMON_PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s", dir);
	EV_ENSURE_E(err, n > 0 && (size_t)n < sizeof(path), EV_E_CONFIG,
		    "snapshot directory path too long");
	for (char *p = path + 1;; p++) {
		bool end = *p == '\0';
		if (*p == '/' || end) {
			*p = '\0';
			if (mkdir(path, 0750) != 0 && errno != EEXIST)
				return ev_error_set(err, EV_E_IO, "%s: %s",
						    path, strerror(errno));
			if (end)
				break;
			*p = '/';
		}
	}
	return EV_OK;
}

/* What a configuration needs beyond loading for the daemon to run on it:
 * a signing key that loads and a snapshot directory. */
static enum ev_err check_config(const struct ev_config *cfg,
				struct ev_error *err)
{
	EV_ENSURE_E(err, cfg->agent.signing_key, EV_E_CONFIG,
		    "no signing key: set [agent] signing_key (`evident "
		    "keygen` makes one)");
	struct ev_key *k = ev_keys_load_private(cfg->agent.signing_key, err);
	if (!k) {
		ev_error_prefix(err, "signing key: ");
		return EV_E_CONFIG;
	}
	ev_keys_free(k);
	EV_TRY(make_dirs(cfg->agent.snapshot_dir, err));
	char path[EV_DAEMON_PATH_MAX];
	EV_ENSURE_E(err, ev_daemon_state_path(cfg, path, sizeof(path)) == EV_OK,
		    EV_E_CONFIG, "state file path too long");
	return EV_OK;
}

/* Everything derived from the configuration. */
static void apply_config(struct daemon *d)
{
	const struct ev_config *cfg = &d->rt.cfg;
	d->sched = (struct ev_schedule){
	    .interval = cfg->daemon.interval,
	    .start_at = cfg->daemon.start_at,
	    .splay = cfg->daemon.splay,
	};
	d->upload = ev_upload_target_from_config(cfg, &d->target);
	if (ev_daemon_state_path(cfg, d->state_path, sizeof(d->state_path)) !=
	    EV_OK)
		d->state_path[0] = '\0'; /* check_config refused it */
	d->st.interval = cfg->daemon.interval;
	snprintf(d->st.config, sizeof(d->st.config), "%s",
		 d->o->g->config_path ? d->o->g->config_path
		 : access(EV_CONFIG_DEFAULT_PATH, F_OK) == 0
		     ? EV_CONFIG_DEFAULT_PATH
		     : "");
	d->st.upload_target[0] = '\0';
	if (d->upload) {
		const char *p = d->target.prefix ? d->target.prefix : "";
		snprintf(d->st.upload_target, sizeof(d->st.upload_target),
			 "s3://%s/%s%s", d->target.bucket, p, *p ? "/" : "");
		size_t pending = 0;
		struct ev_error e;
		ev_error_clear(&e);
		d->st.uploads_pending =
		    ev_upload_count_pending(&d->target, cfg->agent.snapshot_dir,
					    &pending, &e) == EV_OK
			? (long)pending
			: -1;
	} else {
		d->st.uploads_pending = -1;
	}
}

static void describe(const struct daemon *d)
{
	const struct ev_config *cfg = &d->rt.cfg;
	char align[48] = "", up[EV_DAEMON_PATH_MAX + 64] = "not uploaded";
	if (cfg->daemon.start_at >= 0)
		snprintf(align, sizeof(align), ", aligned to %02ld:%02ld UTC",
			 cfg->daemon.start_at / 3600,
			 cfg->daemon.start_at / 60 % 60);
	if (d->upload)
		snprintf(up, sizeof(up), "uploaded to %s (%s lock, %d days)",
			 d->st.upload_target,
			 cfg->s3.object_lock == EV_S3_LOCK_COMPLIANCE
			     ? "compliance"
			 : cfg->s3.object_lock == EV_S3_LOCK_GOVERNANCE
			     ? "governance"
			     : "no",
			 cfg->s3.retention_days);
	char keep[48] = "kept";
	if (cfg->daemon.retention_days > 0)
		snprintf(keep, sizeof(keep), "kept %d days",
			 cfg->daemon.retention_days);
	ev_log_info("every %llds%s, splay up to %llds; snapshots in %s, %s, "
		    "%s; state in %s",
		    cfg->daemon.interval, align, cfg->daemon.splay,
		    cfg->agent.snapshot_dir, keep, up, d->state_path);
}

/* Re-reads the configuration; the running one stays unless the new one
 * loads completely. */
static void reload(struct daemon *d)
{
	struct ev_runtime fresh;
	struct ev_error err;
	ev_error_clear(&err);
	enum ev_err rc = ev_runtime_init(&fresh, d->o->g, &err);
	if (rc == EV_OK)
		rc = check_config(&fresh.cfg, &err);
	if (rc != EV_OK) {
		ev_runtime_cleanup(&fresh);
		configure_logging(&d->rt.cfg, d->o->g);
		ev_log(EV_LOG_ERROR,
		       "SIGHUP: configuration refused, the running one is "
		       "kept: %s",
		       err.message[0] ? err.message : ev_err_name(rc));
		note_error(d, "configuration refused", &err);
		return;
	}
	ev_runtime_cleanup(&d->rt);
	d->rt = fresh;
	apply_config(d);
	ev_log_info("SIGHUP: configuration reloaded (log level %s)",
		    ev_log_level_name(ev_log_get_level()));
	describe(d);
}

static double random01(void)
{
	uint64_t v = 0;
	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		return 0.0;
	return (double)(v >> 11) / 9007199254740992.0; /* 2^53 */
}

static bool uploaded_cb(void *ctx, const char *snapshot)
{
	struct daemon *d = ctx;
	return ev_upload_is_done(d->rt.cfg.agent.snapshot_dir, snapshot,
				 &d->target);
}

/* The cycle thread: collect, upload what is pending, prune. It reads the
 * configuration, which the main thread does not change while it runs. */
static void *cycle_main(void *arg)
{
	struct daemon *d = arg;
	struct cycle *c = &d->cycle;
	const struct ev_config *cfg = &d->rt.cfg;
	c->started = time(NULL);
	struct ev_collect_options co = {
	    .cfg = cfg,
	    .aws = d->rt.aws,
	    .creds = d->rt.creds,
	    .progress = false,
	    .cancel = &d->cancel,
	};
	c->rc = ev_collect_run(&co, &c->res, &c->err);
	/* Earlier snapshots may still wait for their upload even when this
	 * collection failed. */
	if (d->upload && !atomic_load(&d->cancel)) {
		c->uploading = true;
		c->up_rc = ev_upload_pending(
		    d->rt.aws, d->rt.creds, &d->target, cfg->agent.snapshot_dir,
		    time(NULL), &d->cancel, &c->up, &c->up_err);
	}
	if (cfg->daemon.retention_days > 0 && !atomic_load(&d->cancel)) {
		struct ev_prune_options po = {
		    .snapshot_dir = cfg->agent.snapshot_dir,
		    .now = time(NULL),
		    .retention_days = cfg->daemon.retention_days,
		    .uploaded = d->upload ? uploaded_cb : NULL,
		    .ctx = d,
		};
		c->pruning = true;
		c->prune_rc = ev_prune_run(&po, &c->prune, &c->prune_err);
	}
	c->finished = time(NULL);
	unsigned char b = 1;
	ssize_t w = write(d->done_w, &b, 1);
	(void)w; /* the pipe is empty: one byte per cycle */
	return NULL;
}

/* The start time of the newest snapshot present, 0 when none. */
static time_t newest_snapshot(const char *dir)
{
	struct ev_manifest_names list;
	struct ev_error e;
	ev_error_clear(&e);
	time_t t = 0;
	if (ev_manifest_list(dir, &list, &e) != EV_OK)
		return 0;
	if (list.n && ev_time_parse_amz(list.names[list.n - 1], &t) != EV_OK)
		t = 0;
	ev_manifest_names_cleanup(&list);
	return t;
}

/* Records a finished cycle in the state and the log; returns its exit
 * code as `evident collect` would, 3 when the upload or pruning failed. */
static int cycle_record(struct daemon *d)
{
	struct cycle *c = &d->cycle;
	struct ev_daemon_state *s = &d->st;
	bool cancelled = c->rc != EV_OK && atomic_load(&d->cancel);
	bool failed = c->rc != EV_OK && !cancelled;
	int code = failed      ? ev_runtime_exit_code(c->rc)
		   : cancelled ? EV_EXIT_INCOMPLETE
			       : c->res.exit_code;
	s->runs++;
	s->run_started = c->started;
	s->run_finished = c->finished;
	s->exit_code = code;
	snprintf(s->result, sizeof(s->result), "%s",
		 ev_daemon_result(code, failed, cancelled));
	s->snapshot[0] = '\0';
	s->accounts = s->api_calls = s->api_errors = 0;
	if (c->rc == EV_OK) {
		const char *slash = strrchr(c->res.snapshot, '/');
		const char *name = slash ? slash + 1 : c->res.snapshot;
		time_t t;
		if (ev_manifest_name_valid(name) &&
		    ev_time_parse_amz(name, &t) == EV_OK) {
			memcpy(s->snapshot, name, EV_SNAPSHOT_NAME_LEN + 1);
			if (t > d->last_snapshot)
				d->last_snapshot = t;
		}
		s->accounts = c->res.accounts_collected;
		s->api_calls = c->res.api_calls;
		s->api_errors = c->res.api_errors;
		ev_log(code == EV_EXIT_INCOMPLETE ? EV_LOG_WARN : EV_LOG_INFO,
		       "snapshot %s: %s (exit %d): %lu accounts collected, "
		       "%lu skipped, %lu API calls, %lu errors, %lds",
		       s->snapshot, s->result, code, c->res.accounts_collected,
		       c->res.accounts_skipped, c->res.api_calls,
		       c->res.api_errors, (long)(c->finished - c->started));
	} else if (cancelled) {
		ev_log_info("collection cancelled: no snapshot written");
	} else {
		s->failures++;
		ev_log_error(EV_LOG_ERROR, "collection failed", &c->err);
		note_error(d, "collection failed", &c->err);
	}
	d->last_run =
	    c->started > d->last_snapshot ? c->started : d->last_snapshot;

	if (c->uploading) {
		s->uploads_pending = (long)c->up.pending;
		if (c->up.uploaded) {
			memcpy(s->last_upload, c->up.last,
			       sizeof(s->last_upload));
			s->last_upload_at = c->finished;
		}
		if (c->up_rc != EV_OK && !atomic_load(&d->cancel)) {
			char what[EV_DAEMON_PATH_MAX + 96];
			snprintf(what, sizeof(what),
				 "upload to %s (%zu snapshot%s pending, "
				 "tried again at the next run)",
				 s->upload_target, c->up.pending,
				 c->up.pending == 1 ? "" : "s");
			ev_log_error(EV_LOG_ERROR, what, &c->up_err);
			note_error(d, "upload failed", &c->up_err);
		}
	}
	if (c->pruning) {
		s->pruned += c->prune.pruned;
		if (c->prune_rc != EV_OK) {
			ev_log_error(EV_LOG_ERROR, "pruning", &c->prune_err);
			note_error(d, "pruning failed", &c->prune_err);
		} else if (c->prune.held_by_upload[0]) {
			ev_log_info("snapshot %s is past the retention but "
				    "not uploaded yet: kept",
				    c->prune.held_by_upload);
		}
	}
	ev_collect_result_cleanup(&c->res);
	/* For --once: a snapshot that could not be uploaded or pruned is
	 * work left undone. */
	bool undone = (c->uploading && c->up_rc != EV_OK) ||
		      (c->pruning && c->prune_rc != EV_OK);
	return undone && code < EV_EXIT_USAGE ? EV_EXIT_INCOMPLETE : code;
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum wake {
	WAKE_NONE = 0,
	WAKE_RELOAD = 1,
	WAKE_STOP = 2,
};

/* Drains the signal pipe: what was asked. */
static unsigned drain_signals(int fd)
{
	unsigned what = WAKE_NONE;
	unsigned char buf[64];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			what |= buf[i] == SIGHUP ? WAKE_RELOAD : WAKE_STOP;
	return what;
}

/* Runs one cycle on its thread, handling signals meanwhile. Returns the
 * cycle's exit code; *stop is set when a stop was asked. */
static int run_cycle(struct daemon *d, bool *stop)
{
	memset(&d->cycle, 0, sizeof(d->cycle));
	atomic_store(&d->cancel, false);
	snprintf(d->st.phase, sizeof(d->st.phase), "running");
	state_save(d);
	pthread_t thread;
	int prc = pthread_create(&thread, NULL, cycle_main, d);
	if (prc != 0) {
		struct ev_error e;
		ev_error_set(&e, EV_E_NOMEM, "cannot start the cycle: %s",
			     strerror(prc));
		ev_log_error(EV_LOG_ERROR, "collection", &e);
		note_error(d, "collection failed", &e);
		d->st.failures++;
		return EV_EXIT_INCOMPLETE;
	}
	bool reload_after = false;
	long long deadline = 0;
	for (;;) {
		struct pollfd p[2] = {{.fd = d->sig_r, .events = POLLIN},
				      {.fd = d->done_r, .events = POLLIN}};
		int timeout = -1;
		if (deadline) {
			long long left = deadline - mono_ms();
			timeout = left > 0 ? (int)left : 0;
		}
		int n = poll(p, 2, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (p[1].revents & POLLIN)
			break;
		if (n == 0 && deadline) {
			/* Probes still in a call: leave them. The snapshot is
			 * in its .tmp-* directory, which is no snapshot. */
			ev_log(EV_LOG_ERROR,
			       "the collection did not stop within %ds: "
			       "exiting without it",
			       EV_DAEMON_STOP_GRACE_S);
			snprintf(d->st.phase, sizeof(d->st.phase), "stopped");
			struct ev_error e;
			ev_error_set(&e, EV_E_IO,
				     "stopped while a collection ran");
			note_error(d, "collection abandoned", &e);
			state_save(d);
			fflush(stderr);
			_exit(EV_EXIT_OK);
		}
		unsigned what = (p[0].revents & POLLIN)
				    ? drain_signals(d->sig_r)
				    : WAKE_NONE;
		if ((what & WAKE_RELOAD) && !*stop) {
			reload_after = true;
			ev_log_info("SIGHUP: the configuration is re-read when "
				    "the running collection ends");
		}
		if ((what & WAKE_STOP) && !*stop) {
			*stop = true;
			atomic_store(&d->cancel, true);
			deadline = mono_ms() + EV_DAEMON_STOP_GRACE_S * 1000LL;
			ev_log_info("stopping: cancelling the running "
				    "collection");
			snprintf(d->st.phase, sizeof(d->st.phase), "stopping");
			state_save(d);
		}
	}
	pthread_join(thread, NULL);
	unsigned char b;
	while (read(d->done_r, &b, 1) > 0)
		;
	int code = cycle_record(d);
	if (reload_after && !*stop)
		reload(d);
	return code;
}

/* When the next cycle starts. */
static time_t next_run(const struct daemon *d)
{
	time_t next = d->o->once ? time(NULL)
				 : ev_schedule_next(&d->sched, d->last_run,
						    time(NULL), random01());
	if (d->last_snapshot && next <= d->last_snapshot)
		next = d->last_snapshot + 1;
	return next;
}

/* Waits until `until` (wall clock) or a stop; reloads on SIGHUP. */
static void wait_until(struct daemon *d, time_t *until, bool *stop)
{
	while (!*stop) {
		time_t now = time(NULL);
		if (now >= *until)
			return;
		long long left = (long long)(*until - now);
		if (left > WAKE_MAX_S)
			left = WAKE_MAX_S;
		struct pollfd p = {.fd = d->sig_r, .events = POLLIN};
		int n = poll(&p, 1, (int)(left * 1000));
		if (n <= 0)
			continue;
		unsigned what = drain_signals(d->sig_r);
		if (what & WAKE_STOP) {
			*stop = true;
			return;
		}
		if (what & WAKE_RELOAD) {
			long long interval = d->sched.interval;
			long start_at = d->sched.start_at;
			reload(d);
			if (interval != d->sched.interval ||
			    start_at != d->sched.start_at) {
				*until = next_run(d);
				d->st.next_run = *until;
			}
			state_save(d);
		}
	}
}

int ev_daemon_run(const struct ev_daemon_options *o)
{
	struct daemon d;
	memset(&d, 0, sizeof(d));
	d.o = o;
	d.sig_r = d.done_r = d.done_w = -1;
	atomic_init(&d.cancel, false);
	struct ev_error err;
	ev_error_clear(&err);
	int code = EV_EXIT_OK;

	enum ev_err rc = ev_runtime_init(&d.rt, o->g, &err);
	if (rc == EV_OK)
		rc = check_config(&d.rt.cfg, &err);
	if (rc != EV_OK) {
		ev_log_error(EV_LOG_ERROR, "daemon not started", &err);
		code = ev_runtime_exit_code(rc);
		goto out;
	}
	int fds[2];
	rc = signals_start(&d.sig_r, &err);
	if (rc == EV_OK && pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
		rc = ev_error_set(&err, EV_E_IO, "pipe: %s", strerror(errno));
	if (rc != EV_OK) {
		ev_log_error(EV_LOG_ERROR, "daemon not started", &err);
		code = EV_EXIT_INCOMPLETE;
		goto out;
	}
	d.done_r = fds[0];
	d.done_w = fds[1];

	apply_config(&d);
	/* The previous daemon's last run stays visible until this one's. */
	struct ev_daemon_state prev;
	if (ev_daemon_state_read(d.state_path, &prev, NULL) == EV_OK) {
		d.st.run_started = prev.run_started;
		d.st.run_finished = prev.run_finished;
		memcpy(d.st.result, prev.result, sizeof(d.st.result));
		d.st.exit_code = prev.exit_code;
		memcpy(d.st.snapshot, prev.snapshot, sizeof(d.st.snapshot));
		d.st.accounts = prev.accounts;
		d.st.api_calls = prev.api_calls;
		d.st.api_errors = prev.api_errors;
		memcpy(d.st.last_upload, prev.last_upload,
		       sizeof(d.st.last_upload));
		d.st.last_upload_at = prev.last_upload_at;
	}
	d.st.pid = (long)getpid();
	d.st.started_at = time(NULL);
	d.last_snapshot = newest_snapshot(d.rt.cfg.agent.snapshot_dir);
	d.last_run = d.last_snapshot;
	ev_log_info("daemon started (pid %ld)", d.st.pid);
	describe(&d);

	bool stop = false;
	while (!stop) {
		time_t next = next_run(&d);
		d.st.next_run = next;
		snprintf(d.st.phase, sizeof(d.st.phase), "idle");
		state_save(&d);
		if (next > time(NULL)) {
			char at[EV_ISO8601_LEN + 1];
			ev_time_format_iso8601(next, at);
			ev_log_debug("next collection at %s", at);
		}
		wait_until(&d, &next, &stop);
		if (stop)
			break;
		d.st.next_run = 0;
		int c = run_cycle(&d, &stop);
		if (o->once) {
			code = stop ? EV_EXIT_OK : c;
			break;
		}
	}
	snprintf(d.st.phase, sizeof(d.st.phase), "stopped");
	d.st.next_run = 0;
	state_save(&d);
	ev_log_info("daemon stopped");
out:
	signals_stop(d.sig_r);
	if (d.done_r >= 0)
		close(d.done_r);
	if (d.done_w >= 0)
		close(d.done_w);
	ev_runtime_cleanup(&d.rt);
	return code;
}
