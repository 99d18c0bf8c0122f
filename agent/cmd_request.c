/* `evident request SERVICE ACTION [Name=Value ...]`: one signed live call,
 * for operators checking what the agent's credentials may do. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "aws.h"
#include "cli.h"
#include "credentials.h"
#include "endpoint.h"
#include "log.h"
#include "runtime.h"
#include "uri.h"

#define MAX_PARAMS 64

/* REST operations have a method and a path instead of an Action member. */
struct rest_op {
	enum ev_service service;
	const char *action;
	const char *method;
	const char *path;	 /* "{Key}" is replaced by the Key parameter */
	const char *subresource; /* S3 "?lifecycle" style, or NULL */
};

static const struct rest_op rest_ops[] = {
    {EV_SVC_LAMBDA, "ListFunctions", "GET", "/2015-03-31/functions", NULL},
    {EV_SVC_S3, "ListObjectsV2", "GET", "/", "list-type=2"},
    {EV_SVC_S3, "GetBucketLifecycleConfiguration", "GET", "/", "lifecycle"},
    {EV_SVC_S3, "GetObjectLockConfiguration", "GET", "/", "object-lock"},
    {EV_SVC_S3, "GetBucketLocation", "GET", "/", "location"},
    {EV_SVC_S3, "GetObject", "GET", "/{Key}", NULL},
};

/* Response members that carry secrets: shown redacted. */
static const char *const secret_members[] = {
    "SecretAccessKey", "SessionToken", "Token",
    "secretAccessKey", "sessionToken",
};

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: evident request SERVICE ACTION [Name=Value ...] "
	    "[--region R] [--profile P]\n\n"
	    "Makes one signed call and prints the response as JSON (XML "
	    "answers converted)\nwith its HTTP status and AWS request ID.\n"
	    "SERVICE: sts iam organizations cloudtrail config ec2 rds "
	    "lambda s3 elb elbv2\n"
	    "query/ec2 services take members as sent on the wire "
	    "(UserName=alice,\nFilter.1.Name=vpc-id); json services take "
	    "top-level members whose values\nare parsed as JSON when they "
	    "parse (includeShadowTrails=true, Names='[\"a\"]');\n"
	    "s3 takes Bucket= and Key=. Credentials come from the AWS "
	    "default chain\n(--profile, before or after the command, picks a "
	    "profile). Region: --region, AWS_REGION,\nAWS_DEFAULT_REGION, "
	    "else us-east-1.\n"
	    "Exit status: 0 success, 2 usage, 3 the call failed.\n");
}

static void redact(json_t *j)
{
	if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) redact(v);
		return;
	}
	if (!json_is_object(j))
		return;
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(j, tmp, k, v)
	{
		bool secret = false;
		for (size_t i = 0;
		     i < sizeof(secret_members) / sizeof(secret_members[0]);
		     i++)
			secret = secret || strcmp(k, secret_members[i]) == 0;
		if (secret)
			json_object_set_new(j, k, json_string("<redacted>"));
		else
			redact(v);
	}
}

static int oom(void)
{
	fprintf(stderr, "evident: request: out of memory\n");
	return EV_EXIT_INCOMPLETE;
}

static json_t *response_json(const struct ev_aws_call *c,
			     const struct ev_aws_response *r)
{
	if (r->json)
		return json_incref(r->json);
	if (r->xml) {
		const struct ev_xml_node *res =
		    ev_aws_response_result(r, c->action);
		return ev_xml_to_json(res);
	}
	return json_null();
}

static int print_result(const struct ev_aws_call *c,
			const struct ev_aws_response *r, const char *region)
{
	json_t *body = response_json(c, r);
	if (c->sensitive_response)
		redact(body);
	json_t *out = json_pack(
	    "{s:s, s:s, s:s, s:i, s:s, s:o}", "service",
	    ev_service_info(c->service)->name, "action", c->action, "region",
	    region, "http_status", (int)r->http_status, "request_id",
	    r->request_id, "response", body ? body : json_null());
	if (!out) {
		fprintf(stderr, "evident: request: out of memory\n");
		return EV_EXIT_INCOMPLETE;
	}
	json_dumpf(out, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(out);
	return EV_EXIT_OK;
}

/* json 1.1 members: a value that parses as JSON is used as such. */
static enum ev_err json_member(json_t *obj, const char *name, const char *value)
{
	json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);
	if (!v)
		v = json_string(value);
	if (!v || json_object_set_new(obj, name, v) != 0)
		return EV_E_NOMEM;
	return EV_OK;
}

int ev_cmd_request(const struct ev_cli_globals *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"region", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *region_opt = NULL, *profile_opt = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+r:p:h", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'r':
			region_opt = optarg;
			break;
		case 'p':
			profile_opt = optarg;
			break;
		case 'h':
			usage(stdout);
			return EV_EXIT_OK;
		default:
			usage(stderr);
			return EV_EXIT_USAGE;
		}
	}
	/* Options may also follow the positional arguments. */
	char *pos[MAX_PARAMS + 2];
	int npos = 0;
	for (int i = optind; i < argc; i++) {
		if (strcmp(argv[i], "--region") == 0 && i + 1 < argc) {
			region_opt = argv[++i];
		} else if (strncmp(argv[i], "--region=", 9) == 0) {
			region_opt = argv[i] + 9;
		} else if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc) {
			profile_opt = argv[++i];
		} else if (strncmp(argv[i], "--profile=", 10) == 0) {
			profile_opt = argv[i] + 10;
		} else if (npos < MAX_PARAMS + 2) {
			pos[npos++] = argv[i];
		} else {
			fprintf(stderr, "evident: request: too many "
					"parameters\n");
			return EV_EXIT_USAGE;
		}
	}
	if (npos < 2) {
		usage(stderr);
		return EV_EXIT_USAGE;
	}
	enum ev_service svc;
	if (ev_service_parse(pos[0], &svc) != EV_OK) {
		fprintf(stderr, "evident: request: unknown service '%s'\n",
			pos[0]);
		return EV_EXIT_USAGE;
	}
	struct ev_runtime rt;
	struct ev_error err;
	ev_error_clear(&err);
	/* --profile is accepted after the command too, as in the AWS CLI. */
	struct ev_cli_globals globals = *g;
	if (profile_opt)
		globals.profile = profile_opt;
	enum ev_err e = ev_runtime_init(&rt, &globals, &err);
	if (e != EV_OK) {
		ev_log_error(EV_LOG_ERROR, "setup", &err);
		ev_runtime_cleanup(&rt);
		return ev_runtime_exit_code(e);
	}
	const char *region = region_opt ? region_opt : rt.cfg.aws.region;
	const struct ev_service_info *info = ev_service_info(svc);

	struct ev_aws_call call = {
	    .service = svc, .action = pos[1], .region = region};
	struct ev_uri_param params[MAX_PARAMS];
	size_t n = 0;
	json_t *body = NULL;
	char *path = NULL;
	int rc = EV_EXIT_USAGE;
	struct ev_credentials creds = {0};
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);

	char sub_name[64], sub_value[16];
	const struct rest_op *rop = NULL;
	if (info->protocol == EV_PROTO_REST_JSON ||
	    info->protocol == EV_PROTO_REST_XML) {
		for (size_t i = 0; i < sizeof(rest_ops) / sizeof(rest_ops[0]);
		     i++)
			if (rest_ops[i].service == svc &&
			    strcmp(rest_ops[i].action, call.action) == 0)
				rop = &rest_ops[i];
		if (!rop) {
			fprintf(stderr,
				"evident: request: %s %s is not a known REST "
				"operation\n",
				info->name, call.action);
			goto out;
		}
		call.method = rop->method;
	}
	if (info->protocol == EV_PROTO_JSON) {
		body = json_object();
		if (!body) {
			rc = oom();
			goto out;
		}
	}
	if (rop && rop->subresource) {
		/* "list-type=2" or a bare "lifecycle" subresource. */
		const char *eq = strchr(rop->subresource, '=');
		size_t nl = eq ? (size_t)(eq - rop->subresource)
			       : strlen(rop->subresource);
		snprintf(sub_name, sizeof(sub_name), "%.*s", (int)nl,
			 rop->subresource);
		snprintf(sub_value, sizeof(sub_value), "%s", eq ? eq + 1 : "");
		params[n++] = (struct ev_uri_param){sub_name, sub_value};
	}
	const char *key = NULL;
	for (int i = 2; i < npos; i++) {
		char *eq = strchr(pos[i], '=');
		if (!eq || eq == pos[i]) {
			fprintf(stderr,
				"evident: request: parameter '%s' is not "
				"Name=Value\n",
				pos[i]);
			goto out;
		}
		*eq = '\0';
		const char *name = pos[i], *value = eq + 1;
		if (svc == EV_SVC_S3 && strcmp(name, "Bucket") == 0) {
			call.bucket = value;
		} else if (svc == EV_SVC_S3 && strcmp(name, "Key") == 0) {
			key = value;
		} else if (body) {
			if (json_member(body, name, value) != EV_OK) {
				rc = oom();
				goto out;
			}
		} else {
			params[n++] = (struct ev_uri_param){name, value};
		}
	}
	if (rop) {
		if (strstr(rop->path, "{Key}")) {
			if (!key) {
				fprintf(stderr,
					"evident: request: %s needs "
					"Key=\n",
					call.action);
				goto out;
			}
			struct ev_buf p;
			ev_buf_init(&p, EV_LIMIT_URL);
			if (ev_buf_append_char(&p, '/') != EV_OK ||
			    ev_uri_encode(key, strlen(key), false, &p) !=
				EV_OK) {
				ev_buf_cleanup(&p);
				fprintf(stderr, "evident: request: key too "
						"long\n");
				goto out;
			}
			path = ev_buf_take(&p);
			if (!path) {
				rc = oom();
				goto out;
			}
			call.path = path;
		} else {
			call.path = rop->path;
		}
		if (svc == EV_SVC_S3 && !call.bucket) {
			fprintf(stderr,
				"evident: request: s3 %s needs "
				"Bucket=\n",
				call.action);
			goto out;
		}
	}
	call.params = params;
	call.n_params = n;
	call.json = body;
	call.sensitive_response =
	    svc == EV_SVC_STS && strncmp(call.action, "AssumeRole", 10) == 0;

	e = ev_credentials_provider_get(rt.creds, time(NULL), &creds, &err);
	if (e != EV_OK) {
		ev_log_error(EV_LOG_ERROR, "credentials", &err);
		rc = ev_runtime_exit_code(e);
		goto out;
	}
	ev_log_debug("credentials from %s", creds.source);

	e = ev_aws_call(rt.aws, &call, &creds, &resp, &err);
	if (e != EV_OK) {
		ev_log_error(EV_LOG_ERROR, "request failed", &err);
		if (resp.http_status)
			print_result(&call, &resp, region);
		rc = EV_EXIT_INCOMPLETE;
		goto out;
	}
	rc = print_result(&call, &resp, region);
out:
	ev_aws_response_cleanup(&resp);
	ev_credentials_cleanup(&creds);
	ev_runtime_cleanup(&rt);
	json_decref(body);
	free(path);
	return rc;
}
