/* A probe's door for unit tests: the real aws layer (signing, parsing,
 * typed errors, pagination) over a scripted transport that answers each
 * request from a table of recorded responses, matched by action and an
 * optional piece of the request. Header-only so each probe test includes
 * it; every function is static.
 *
 *	static const struct door_reply replies[] = {
 *		{"GetAccountSummary", NULL, 200, SUMMARY_XML},
 *		{"ListUsers", "Marker=abc", 200, PAGE2_XML},
 *		{"ListUsers", NULL, 200, PAGE1_XML},
 *		{"DescribeTrails", NULL, 400,
 *"{\"__type\":\"AccessDeniedException\"}"},
 *	};
 *	struct test_door d;
 *	test_door_init(&d, "111122223333", "eu-west-1", replies, N(replies));
 *	assert_int_equal(ev_probe_root_mfa_run(&d.ctx), EV_OK);
 *	... d.findings.items[i] ...
 *	test_door_cleanup(&d);
 *
 * A request nothing matches fails the test, naming the action. Replies
 * whose body starts with '@' are read from tests/unit/data/<rest>. */
#ifndef EV_TEST_PROBE_DOOR_H
#define EV_TEST_PROBE_DOOR_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "aws.h"
#include "config.h"
#include "finding.h"
#include "probe.h"

#define DOOR_MAX_CALLS 256
/* Each test uses some of these helpers only. */
#define DOOR_FN static __attribute__((unused))

struct door_reply {
	const char *action; /* "ListUsers"; rest calls: a piece of the path */
	const char *match;  /* substring of the body or URL, or NULL */
	long status;
	const char *body;   /* the answer, or "@file" under tests/unit/data */
	const char *header; /* one extra "Name: value" header, or NULL */
};

struct door_call_log {
	char action[64];
	char account[16];
	char url[512];
	char body[1024];
};

struct test_door {
	struct ev_http http; /* first: the transport casts back */
	struct ev_probe_ctx ctx;
	struct ev_probe_ops ops;
	struct ev_aws *aws;
	struct ev_config cfg;
	struct ev_findings findings;
	struct ev_observations obs;
	struct ev_account_state state;
	const struct door_reply *replies;
	size_t n_replies;
	unsigned next_id;
	size_t n_calls;
	struct door_call_log calls[DOOR_MAX_CALLS];
	const char *current_account;
	time_t now;
};

DOOR_FN char *door_read_file(const char *name)
{
	const char *dir = getenv("EV_TESTS_DIR");
	char path[1024];
	snprintf(path, sizeof(path), "%s/unit/data/%s", dir ? dir : "tests",
		 name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	struct ev_buf b;
	ev_buf_init(&b, EV_LIMIT_HTTP_BODY);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(ev_buf_append(&b, chunk, n), EV_OK);
	fclose(f);
	return ev_buf_take(&b);
}

/* The action of a request as the wire says it: Action= (query, ec2), the
 * X-Amz-Target suffix (json), else the URL (rest). */
DOOR_FN void door_action(const struct ev_http_request *req, char *out, size_t n)
{
	for (size_t i = 0; i < req->n_headers; i++) {
		if (strcasecmp(req->headers[i].name, "x-amz-target") == 0) {
			const char *dot = strrchr(req->headers[i].value, '.');
			snprintf(out, n, "%s",
				 dot ? dot + 1 : req->headers[i].value);
			return;
		}
	}
	const char *body = req->body ? (const char *)req->body : "";
	if (req->body_len > 7 && strncmp(body, "Action=", 7) == 0) {
		size_t len = strcspn(body + 7, "&");
		snprintf(out, n, "%.*s", (int)len, body + 7);
		return;
	}
	snprintf(out, n, "%s", req->url);
}

DOOR_FN enum ev_err door_perform(struct ev_http *h,
				 const struct ev_http_request *req,
				 struct ev_http_response *resp,
				 struct ev_error *err)
{
	(void)err;
	struct test_door *d = (struct test_door *)h;
	char action[512];
	door_action(req, action, sizeof(action));
	char body[2048];
	snprintf(body, sizeof(body), "%.*s", (int)req->body_len,
		 req->body ? (const char *)req->body : "");
	assert_true(d->n_calls < DOOR_MAX_CALLS);
	struct door_call_log *log = &d->calls[d->n_calls++];
	snprintf(log->action, sizeof(log->action), "%.*s",
		 (int)sizeof(log->action) - 1, action);
	snprintf(log->account, sizeof(log->account), "%s",
		 d->current_account ? d->current_account : "");
	snprintf(log->url, sizeof(log->url), "%s", req->url);
	snprintf(log->body, sizeof(log->body), "%.*s",
		 (int)sizeof(log->body) - 1, body);

	for (size_t i = 0; i < d->n_replies; i++) {
		const struct door_reply *r = &d->replies[i];
		bool action_ok = strcmp(r->action, action) == 0 ||
				 strstr(req->url, r->action) != NULL;
		if (!action_ok)
			continue;
		if (r->match && !strstr(body, r->match) &&
		    !strstr(req->url, r->match))
			continue;
		resp->status = r->status;
		if (r->header)
			assert_int_equal(
			    ev_http_response_header_line(resp, r->header,
							 strlen(r->header)),
			    EV_OK);
		const char *text = r->body ? r->body : "";
		char *file = NULL;
		if (text[0] == '@')
			text = file = door_read_file(text + 1);
		assert_int_equal(ev_buf_append_str(&resp->body, text), EV_OK);
		free(file);
		return EV_OK;
	}
	fail_msg("no scripted reply for %s (body \"%s\")", action, body);
	return EV_E_INTERNAL;
}

DOOR_FN void door_free(struct ev_http *h)
{
	(void)h;
}

DOOR_FN enum ev_err door_call(struct ev_probe_ctx *ctx, const char *account,
			      const struct ev_aws_call *call,
			      struct ev_aws_response *out, unsigned *obs_id,
			      struct ev_error *err)
{
	struct test_door *d = ctx->impl;
	struct ev_credentials creds = {
	    .access_key_id = (char *)"ASIATESTDOOR",
	    .secret_access_key = (char *)"test-door-secret",
	    .session_token = (char *)"test-door-token",
	};
	d->current_account = account ? account : ctx->account;
	enum ev_err rc = ev_aws_call(d->aws, call, &creds, out, err);
	unsigned id = d->next_id++;
	assert_int_equal(ev_observations_record(&d->obs, id, d->current_account,
						call, out->signing_region, out,
						rc == EV_OK ? NULL : err,
						d->now),
			 EV_OK);
	if (obs_id)
		*obs_id = id;
	return rc;
}

DOOR_FN time_t door_now(void *ctx)
{
	return ((struct test_door *)ctx)->now;
}

DOOR_FN double door_random(void *ctx)
{
	(void)ctx;
	return 0.0;
}

DOOR_FN void door_sleep(void *ctx, long ms)
{
	(void)ctx;
	(void)ms;
}

/* now: the test's clock (0: 2025-03-01T10:00:00Z). region NULL for
 * account-scope probes. */
DOOR_FN void test_door_init(struct test_door *d, const char *account,
			    const char *region,
			    const struct door_reply *replies, size_t n_replies)
{
	memset(d, 0, sizeof(*d));
	d->http.perform = door_perform;
	d->http.free = door_free;
	d->replies = replies;
	d->n_replies = n_replies;
	d->now = 1740823200;
	assert_int_equal(ev_config_init(&d->cfg), EV_OK);
	struct ev_aws_options o = {
	    .http = &d->http,
	    .now = door_now,
	    .random01 = door_random,
	    .sleep_ms = door_sleep,
	    .seam_ctx = d,
	};
	struct ev_error err;
	d->aws = ev_aws_new(&o, &err);
	assert_non_null(d->aws);
	ev_findings_init(&d->findings);
	ev_observations_init(&d->obs, EV_LIMIT_HTTP_BODY);
	pthread_mutex_init(&d->state.lock, NULL);
	snprintf(d->state.account, sizeof(d->state.account), "%s", account);
	d->ops.call = door_call;
	d->ctx.ops = &d->ops;
	d->ctx.impl = d;
	d->ctx.account = account;
	d->ctx.region = region;
	d->ctx.cfg = &d->cfg;
	d->ctx.now = d->now;
	d->ctx.state = &d->state;
	d->ctx.findings = &d->findings;
}

/* Frees what the probe left in the account state through free_state (the
 * credential report module's cleanup, or NULL). */
DOOR_FN void test_door_cleanup(struct test_door *d,
			       void (*free_state)(struct ev_account_state *s))
{
	if (free_state)
		free_state(&d->state);
	pthread_mutex_destroy(&d->state.lock);
	ev_findings_cleanup(&d->findings);
	ev_observations_cleanup(&d->obs);
	ev_aws_free(d->aws);
	ev_config_cleanup(&d->cfg);
}

/* The findings with this status (and resource substring, when given). */
DOOR_FN size_t door_count(const struct test_door *d, enum ev_status status,
			  const char *resource_part)
{
	size_t n = 0;
	for (size_t i = 0; i < d->findings.n; i++) {
		const struct ev_finding *f = &d->findings.items[i];
		if (f->status == status &&
		    (!resource_part || strstr(f->resource, resource_part)))
			n++;
	}
	return n;
}

/* The first finding whose resource contains part, or fails the test. */
DOOR_FN const struct ev_finding *door_finding(const struct test_door *d,
					      const char *part)
{
	for (size_t i = 0; i < d->findings.n; i++)
		if (strstr(d->findings.items[i].resource, part))
			return &d->findings.items[i];
	fail_msg("no finding for resource %s", part);
	return NULL;
}

/* How many calls of an action were made. */
DOOR_FN size_t door_calls(const struct test_door *d, const char *action)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_calls; i++)
		if (strcmp(d->calls[i].action, action) == 0 ||
		    strstr(d->calls[i].url, action))
			n++;
	return n;
}

#endif
