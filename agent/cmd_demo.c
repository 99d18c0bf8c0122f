/* `evident demo`: a live technology demonstration for an auditor at the
 * table. The probes run now; every AWS call is shown as it is made (with
 * the AWS request ID the auditor can look up in the account's own
 * CloudTrail), then every finding, then the verdicts; a normal signed
 * snapshot is written. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "collect.h"
#include "controls.h"
#include "log.h"
#include "probes.h"
#include "runtime.h"

#define SHOWN_IDS 6

struct shown_call {
	char account[EV_ACCOUNT_ID_LEN + 1];
	char region[EV_REGION_MAX];
	char action[96];
	char request_id[EV_ERROR_RID_MAX];
};

struct demo {
	bool color;
	bool quiet_calls;
	pthread_mutex_t lock; /* one line at a time, and the samples */
	struct shown_call samples[SHOWN_IDS];
	size_t n_samples;
	unsigned long calls, findings;
};

static const char *paint(const struct demo *d, const char *code)
{
	return d->color ? code : "";
}

#define RESET	"\033[0m"
#define DIM	"\033[2m"
#define RED	"\033[31m"
#define GREEN	"\033[32m"
#define YELLOW	"\033[33m"
#define MAGENTA "\033[35m"
#define BOLD	"\033[1m"

static void clock_now(char out[16])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 16, "%H:%M:%S", &tm);
}

static void show_call(struct demo *d, const struct ev_collect_event *ev)
{
	char when[16];
	clock_now(when);
	char action[96];
	snprintf(action, sizeof(action), "%s:%s",
		 ev_service_info(ev->call->service)->name, ev->call->action);
	bool ok = ev->error_code[0] == '\0';
	pthread_mutex_lock(&d->lock);
	d->calls++;
	if (ok && ev->request_id[0] && d->n_samples < SHOWN_IDS) {
		struct shown_call *s = &d->samples[d->n_samples++];
		snprintf(s->account, sizeof(s->account), "%s", ev->account);
		snprintf(s->region, sizeof(s->region), "%s", ev->region);
		snprintf(s->action, sizeof(s->action), "%s", action);
		snprintf(s->request_id, sizeof(s->request_id), "%s",
			 ev->request_id);
	}
	if (!d->quiet_calls)
		printf("%s%s  call     %-12s %-14s %-44s %3ld  %-36s %5.0f "
		       "ms%s%s%s\n",
		       paint(d, ok ? DIM : YELLOW), when, ev->account,
		       ev->region, action, ev->http_status,
		       ev->request_id[0] ? ev->request_id : "-",
		       ev->seconds * 1000.0, ok ? "" : "  ", ev->error_code,
		       paint(d, RESET));
	fflush(stdout);
	pthread_mutex_unlock(&d->lock);
}

static void show_finding(struct demo *d, const struct ev_collect_event *ev)
{
	const struct ev_finding *f = ev->finding;
	const char *c = f->status == EV_STATUS_PASS    ? GREEN
			: f->status == EV_STATUS_FAIL  ? RED
			: f->status == EV_STATUS_WARN  ? YELLOW
			: f->status == EV_STATUS_ERROR ? MAGENTA
						       : "";
	char when[16];
	clock_now(when);
	pthread_mutex_lock(&d->lock);
	d->findings++;
	printf("%s  %s%-7s%s  %-12s %-14s %-20s %s: %s%s%s%s\n", when,
	       paint(d, c), ev_status_name(f->status), paint(d, RESET),
	       f->account, f->region[0] ? f->region : "-", f->probe_id,
	       f->resource, f->reason, f->request_id[0] ? " (request " : "",
	       f->request_id, f->request_id[0] ? ")" : "");
	fflush(stdout);
	pthread_mutex_unlock(&d->lock);
}

static void on_event(void *ctx, const struct ev_collect_event *ev)
{
	struct demo *d = ctx;
	if (ev->kind == EV_EVENT_CALL)
		show_call(d, ev);
	else if (ev->kind == EV_EVENT_FINDING)
		show_finding(d, ev);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evident demo [--control ID] [--findings-only] "
		"[--output DIR]\n\n"
		"A live technology demonstration: runs the probes now (all, "
		"or only those\nevidencing one control: --control 8.2.4 or "
		"--control DEVOPS-3.14) and shows,\nas they happen, each AWS "
		"call (account, region, service:action, HTTP status,\nAWS "
		"request ID, milliseconds), then each finding, then the "
		"verdicts with the\nevidence they rest on. It writes a normal "
		"signed snapshot and ends with how\nto find the shown request "
		"IDs in the account's own CloudTrail event history.\n"
		"  --findings-only  do not list the calls (findings and "
		"verdicts only)\n"
		"Colour on a terminal, plain text otherwise. Exit status as "
		"for collect.\n");
}

static void print_control(const struct ev_verdicts *v, const char *control,
			  bool color)
{
	static const char *const programs[] = {"MSP-", "DEVOPS-", ""};
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		char id[64];
		snprintf(id, sizeof(id), "%s%s", programs[i], control);
		struct ev_verdict_summary s;
		if (ev_verdicts_summary(v, id, &s) != EV_OK)
			continue;
		printf("%s%-12s %s%s  pass %zu, fail %zu, warn %zu, error "
		       "%zu%s%s\n",
		       color ? BOLD : "", id, ev_verdict_name(s.verdict),
		       color ? RESET : "", s.counts[EV_STATUS_PASS],
		       s.counts[EV_STATUS_FAIL], s.counts[EV_STATUS_WARN],
		       s.counts[EV_STATUS_ERROR], s.reason[0] ? "\n    " : "",
		       s.reason);
	}
}

static void cloudtrail_hint(const struct demo *d,
			    const struct ev_collect_result *res)
{
	printf("\nThese calls were live: every request ID above is in the "
	       "account's own CloudTrail.\n"
	       "In the console: CloudTrail > Event history, filter \"User "
	       "name\" = %s (member\naccounts) or the collecting identity "
	       "(%s), open an event and compare its\n\"requestID\". With "
	       "the AWS CLI, for example:\n",
	       res->session_name, res->caller_arn);
	for (size_t i = 0; i < d->n_samples; i++) {
		const struct shown_call *s = &d->samples[i];
		printf("  %s %s %s  request %s\n", s->account, s->region,
		       s->action, s->request_id);
	}
	/* The lookup example needs a call made by a member role session
	 * (the collecting identity's own account shows its user name). */
	const struct shown_call *ex = NULL;
	for (size_t i = 0; i < d->n_samples; i++)
		if (!strstr(res->caller_arn, d->samples[i].account))
			ex = &d->samples[i];
	if (ex)
		printf("  aws cloudtrail lookup-events --region %s "
		       "--lookup-attributes AttributeKey=Username,"
		       "AttributeValue=%s \\\n"
		       "    --query \"Events[?contains(CloudTrailEvent, "
		       "'%s')]\"    # in account %s\n",
		       ex->region, res->session_name, ex->request_id,
		       ex->account);
	printf("(CloudTrail delivers events within about 5 minutes; reads "
	       "such as these are\nmanagement events, shown in Event "
	       "history for 90 days.)\n");
}

int ev_cmd_demo(const struct ev_cli_globals *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"control", required_argument, NULL, 'c'},
	    {"output", required_argument, NULL, 'o'},
	    {"findings-only", no_argument, NULL, 'F'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct demo d = {.color = isatty(STDOUT_FILENO)};
	struct ev_collect_options o = {.on_event = on_event, .event_ctx = &d};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o.only_control = optarg;
			break;
		case 'o':
			o.snapshot_dir = optarg;
			break;
		case 'F':
			d.quiet_calls = true;
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
	if (o.only_control) {
		bool known = false;
		const struct ev_probe *t = ev_probes();
		for (size_t i = 0; i < EV_PROBE_COUNT_; i++)
			known = known || ev_collect_probe_selected(
					     &t[i], o.only_control);
		if (!known) {
			fprintf(stderr,
				"evident: demo: no probe evidences "
				"control '%s' (see evident controls)\n",
				o.only_control);
			return EV_EXIT_USAGE;
		}
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
	pthread_mutex_init(&d.lock, NULL);

	printf("%sevident %s live demonstration%s: probes run now against "
	       "the accounts' own APIs%s%s\n\n",
	       paint(&d, BOLD), EV_VERSION, paint(&d, RESET),
	       o.only_control ? ", control " : "",
	       o.only_control ? o.only_control : "");
	struct ev_collect_result res;
	rc = ev_collect_run(&o, &res, &err);
	int code;
	if (rc != EV_OK) {
		ev_log_error(EV_LOG_ERROR, "demonstration failed", &err);
		code = ev_runtime_exit_code(rc);
	} else {
		printf("\n%lu API calls, %lu findings\n\n", d.calls,
		       d.findings);
		if (o.only_control)
			print_control(res.verdicts, o.only_control, d.color);
		else
			ev_verdicts_print_table(res.verdicts, stdout, d.color);
		printf("\nsnapshot: %s (signed; evident verify checks it)\n",
		       res.snapshot);
		cloudtrail_hint(&d, &res);
		code = res.exit_code;
		if (o.only_control) {
			/* Only the chosen control's evidence was collected:
			 * the others are not part of this answer. */
			code = EV_EXIT_OK;
			static const char *const programs[] = {"MSP-",
							       "DEVOPS-", ""};
			for (size_t i = 0; i < 3; i++) {
				char id[64];
				snprintf(id, sizeof(id), "%s%s", programs[i],
					 o.only_control);
				struct ev_verdict_summary s;
				if (ev_verdicts_summary(res.verdicts, id, &s) !=
				    EV_OK)
					continue;
				if (s.verdict == EV_VERDICT_ERROR)
					code = EV_EXIT_INCOMPLETE;
				else if (s.verdict == EV_VERDICT_NOT_MET &&
					 code == EV_EXIT_OK)
					code = EV_EXIT_NOT_MET;
			}
		}
	}
	ev_collect_result_cleanup(&res);
	pthread_mutex_destroy(&d.lock);
	ev_runtime_cleanup(&rt);
	return code;
}
