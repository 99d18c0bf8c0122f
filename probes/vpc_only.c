/* Probe vpc-only (MSP-8.1.4): in the job's region the account cannot use
 * EC2-Classic, and its EC2 instances, RDS instances, load balancers
 * (classic and v2) and Lambda functions are deployed in VPCs.
 *
 * Findings per region:
 * - one per resource outside a VPC, its resource the resource's ARN: fail
 *   (Lambda functions: warn, unless probes.lambda_outside_vpc is fail);
 * - fail when supported-platforms offers anything besides VPC, resource
 *   "arn:<partition>:ec2:<region>:<account>:account-attribute/
 *   supported-platforms";
 * - one error per kind of resource whose listing failed, its resource the
 *   kind's ARN with a wildcard resource (kinds[].pattern): the other kinds
 *   are still judged;
 * - one pass summarising, per kind read, how many are in a VPC (and in
 *   which), resource "arn:<partition>:ec2:<region>:<account>:".
 *
 * In a VPC: an instance with a vpcId (terminated and shutting-down
 * instances lose theirs and are skipped, counted in details), an RDS
 * instance with DBSubnetGroup/VpcId, a classic load balancer with VPCId, a
 * v2 load balancer with VpcId, a function with VpcConfig.VpcId not "". */
#include "probes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBE_ID (ev_probes()[EV_PROBE_VPC_ONLY].id)

/* Pages kept for citing per kind (one observation each). */
#define MAX_PAGE_OBS 32

enum kind { K_EC2 = 0, K_RDS, K_ELB, K_ELBV2, K_LAMBDA, K_COUNT };

struct kind_info {
	const char *key;      /* details key */
	const char *singular; /* "EC2 instance" */
	const char *plural;
	const char *what;    /* the call, for error reasons */
	const char *service; /* ARN service */
	const char *pattern; /* ARN resource for the whole kind */
};

static const struct kind_info kinds[K_COUNT] = {
    [K_EC2] = {"ec2_instances", "EC2 instance", "EC2 instances",
	       "ec2 DescribeInstances", "ec2", "instance/*"},
    [K_RDS] = {"rds_instances", "RDS instance", "RDS instances",
	       "rds DescribeDBInstances", "rds", "db:*"},
    [K_ELB] = {"classic_load_balancers", "classic load balancer",
	       "classic load balancers", "elb DescribeLoadBalancers",
	       "elasticloadbalancing", "loadbalancer/*"},
    [K_ELBV2] = {"load_balancers_v2", "load balancer", "load balancers",
		 "elbv2 DescribeLoadBalancers", "elasticloadbalancing",
		 "loadbalancer/*/*/*"},
    [K_LAMBDA] = {"lambda_functions", "Lambda function", "Lambda functions",
		  "lambda ListFunctions", "lambda", "function:*"},
};

/* One kind's pass over its pages. */
struct tally {
	struct ev_probe_ctx *ctx;
	enum kind kind;
	const char *partition;
	unsigned obs[MAX_PAGE_OBS];
	size_t n_obs; /* pages so far (ev_probe_paginate counts them) */
	size_t in_vpc;
	size_t outside;
	size_t terminated;
	size_t shutting_down;
	json_t *by_vpc; /* vpc id -> count */
};

/* The observation of the page being read: the door has recorded it just
 * before on_page runs. */
static size_t page_obs(const struct tally *t, unsigned *id)
{
	if (t->n_obs == 0 || t->n_obs > MAX_PAGE_OBS)
		return 0;
	*id = t->obs[t->n_obs - 1];
	return 1;
}

static enum ev_err count_in(struct tally *t, const char *vpc,
			    struct ev_error *err)
{
	t->in_vpc++;
	json_int_t was = json_integer_value(json_object_get(t->by_vpc, vpc));
	EV_ENSURE_E(
	    err,
	    json_object_set_new(t->by_vpc, vpc, json_integer(was + 1)) == 0,
	    EV_E_NOMEM, "out of memory");
	return EV_OK;
}

static enum ev_err outside(struct tally *t, const char *arn,
			   enum ev_status status, json_t *details,
			   const char *reason, struct ev_error *err)
{
	t->outside++;
	EV_ENSURE_E(err, details, EV_E_NOMEM, "out of memory");
	unsigned id = 0;
	size_t n = page_obs(t, &id);
	struct ev_probe_ctx *ctx = t->ctx;
	enum ev_err rc =
	    ev_findings_add(ctx->findings, PROBE_ID, ctx->account, ctx->region,
			    arn, status, details, &id, n, "%s", reason);
	EV_ENSURE_E(err, rc == EV_OK, rc, "adding a finding: %s",
		    ev_err_name(rc));
	return EV_OK;
}

static const char *text(const struct ev_xml_node *n, const char *path)
{
	const char *s = ev_xml_path_text(n, path);
	return s && *s ? s : NULL;
}

/* ---- one page per kind -------------------------------------------------- */

static enum ev_err on_instances(void *arg, const struct ev_aws_response *page,
				struct ev_error *err)
{
	struct tally *t = arg;
	const struct ev_xml_node *root =
	    ev_aws_response_result(page, "DescribeInstances");
	EV_ENSURE_E(err, root, EV_E_MALFORMED,
		    "DescribeInstances: no XML answer");
	for (const struct ev_xml_node *res =
		 ev_xml_child(ev_xml_child(root, "reservationSet"), "item");
	     res; res = ev_xml_next_same(res)) {
		const char *owner = text(res, "ownerId");
		for (const struct ev_xml_node *in = ev_xml_child(
			 ev_xml_child(res, "instancesSet"), "item");
		     in; in = ev_xml_next_same(in)) {
			const char *id = text(in, "instanceId");
			const char *state = text(in, "instanceState/name");
			if (!id)
				continue;
			/* Terminated instances lose their VPC, and so do
			 * those on their way there. */
			if (state && strcmp(state, "terminated") == 0) {
				t->terminated++;
				continue;
			}
			if (state && strcmp(state, "shutting-down") == 0) {
				t->shutting_down++;
				continue;
			}
			const char *vpc = text(in, "vpcId");
			if (vpc) {
				EV_TRY(count_in(t, vpc, err));
				continue;
			}
			char arn[256], reason[300];
			snprintf(arn, sizeof(arn),
				 "arn:%s:ec2:%s:%s:instance/%s", t->partition,
				 t->ctx->region,
				 owner ? owner : t->ctx->account, id);
			snprintf(reason, sizeof(reason),
				 "EC2 instance %s (%s) is not in a VPC "
				 "(EC2-Classic)",
				 id, state ? state : "state unknown");
			EV_TRY(
			    outside(t, arn, EV_STATUS_FAIL,
				    json_pack("{s:s, s:s, s:s?, s:s?}", "kind",
					      "ec2_instance", "id", id, "state",
					      state, "instance_type",
					      text(in, "instanceType")),
				    reason, err));
		}
	}
	return EV_OK;
}

static enum ev_err on_db_instances(void *arg,
				   const struct ev_aws_response *page,
				   struct ev_error *err)
{
	struct tally *t = arg;
	const struct ev_xml_node *res =
	    ev_aws_response_result(page, "DescribeDBInstances");
	EV_ENSURE_E(err, res, EV_E_MALFORMED,
		    "DescribeDBInstances: no result in the answer");
	for (const struct ev_xml_node *db =
		 ev_xml_child(ev_xml_child(res, "DBInstances"), "DBInstance");
	     db; db = ev_xml_next_same(db)) {
		const char *id = text(db, "DBInstanceIdentifier");
		const char *vpc = text(db, "DBSubnetGroup/VpcId");
		if (vpc) {
			EV_TRY(count_in(t, vpc, err));
			continue;
		}
		const char *engine = text(db, "Engine");
		char arn[300], reason[300];
		if (text(db, "DBInstanceArn"))
			snprintf(arn, sizeof(arn), "%s",
				 text(db, "DBInstanceArn"));
		else
			snprintf(arn, sizeof(arn), "arn:%s:rds:%s:%s:db:%s",
				 t->partition, t->ctx->region, t->ctx->account,
				 id ? id : "?");
		snprintf(reason, sizeof(reason),
			 "RDS instance %s (%s) is not in a VPC: no DB subnet "
			 "group",
			 id ? id : "?", engine ? engine : "engine unknown");
		EV_TRY(outside(t, arn, EV_STATUS_FAIL,
			       json_pack("{s:s, s:s?, s:s?, s:s?}", "kind",
					 "rds_instance", "id", id, "engine",
					 engine, "publicly_accessible",
					 text(db, "PubliclyAccessible")),
			       reason, err));
	}
	return EV_OK;
}

static enum ev_err on_classic_lbs(void *arg, const struct ev_aws_response *page,
				  struct ev_error *err)
{
	struct tally *t = arg;
	const struct ev_xml_node *res =
	    ev_aws_response_result(page, "DescribeLoadBalancers");
	EV_ENSURE_E(err, res, EV_E_MALFORMED,
		    "DescribeLoadBalancers: no result in the answer");
	for (const struct ev_xml_node *lb = ev_xml_child(
		 ev_xml_child(res, "LoadBalancerDescriptions"), "member");
	     lb; lb = ev_xml_next_same(lb)) {
		const char *name = text(lb, "LoadBalancerName");
		const char *vpc = text(lb, "VPCId");
		if (vpc) {
			EV_TRY(count_in(t, vpc, err));
			continue;
		}
		char arn[300], reason[300];
		snprintf(arn, sizeof(arn),
			 "arn:%s:elasticloadbalancing:%s:%s:loadbalancer/%s",
			 t->partition, t->ctx->region, t->ctx->account,
			 name ? name : "?");
		snprintf(reason, sizeof(reason),
			 "classic load balancer %s is not in a VPC "
			 "(EC2-Classic: no VPCId)",
			 name ? name : "?");
		EV_TRY(outside(t, arn, EV_STATUS_FAIL,
			       json_pack("{s:s, s:s?, s:s?}", "kind",
					 "classic_load_balancer", "name", name,
					 "scheme", text(lb, "Scheme")),
			       reason, err));
	}
	return EV_OK;
}

static enum ev_err on_v2_lbs(void *arg, const struct ev_aws_response *page,
			     struct ev_error *err)
{
	struct tally *t = arg;
	const struct ev_xml_node *res =
	    ev_aws_response_result(page, "DescribeLoadBalancers");
	EV_ENSURE_E(err, res, EV_E_MALFORMED,
		    "DescribeLoadBalancers: no result in the answer");
	for (const struct ev_xml_node *lb =
		 ev_xml_child(ev_xml_child(res, "LoadBalancers"), "member");
	     lb; lb = ev_xml_next_same(lb)) {
		const char *arn = text(lb, "LoadBalancerArn");
		const char *name = text(lb, "LoadBalancerName");
		const char *vpc = text(lb, "VpcId");
		if (vpc) {
			EV_TRY(count_in(t, vpc, err));
			continue;
		}
		char reason[300];
		snprintf(reason, sizeof(reason),
			 "load balancer %s is not in a VPC", name ? name : "?");
		EV_TRY(outside(t,
			       arn    ? arn
			       : name ? name
				      : "?",
			       EV_STATUS_FAIL,
			       json_pack("{s:s, s:s?, s:s?}", "kind",
					 "load_balancer_v2", "name", name,
					 "type", text(lb, "Type")),
			       reason, err));
	}
	return EV_OK;
}

static enum ev_err on_functions(void *arg, const struct ev_aws_response *page,
				struct ev_error *err)
{
	struct tally *t = arg;
	const json_t *fns = json_object_get(page->json, "Functions");
	EV_ENSURE_E(err, json_is_array(fns), EV_E_MALFORMED,
		    "ListFunctions: no Functions in the answer");
	size_t i;
	const json_t *fn;
	json_array_foreach(fns, i, fn)
	{
		const char *name =
		    json_string_value(json_object_get(fn, "FunctionName"));
		const char *arn =
		    json_string_value(json_object_get(fn, "FunctionArn"));
		const json_t *cfg = json_object_get(fn, "VpcConfig");
		const char *vpc =
		    json_string_value(json_object_get(cfg, "VpcId"));
		if (vpc && *vpc) {
			EV_TRY(count_in(t, vpc, err));
			continue;
		}
		enum ev_status status =
		    t->ctx->cfg->probes.lambda_outside_vpc ==
			    EV_LAMBDA_OUTSIDE_VPC_FAIL
			? EV_STATUS_FAIL
			: EV_STATUS_WARN;
		char reason[300];
		snprintf(reason, sizeof(reason),
			 "Lambda function %s is not attached to a VPC (%s)",
			 name ? name : "?",
			 cfg ? "VpcConfig without a VpcId" : "no VpcConfig");
		EV_TRY(outside(
		    t,
		    arn	   ? arn
		    : name ? name
			   : "?",
		    status,
		    json_pack("{s:s, s:s?, s:s?, s:s}", "kind",
			      "lambda_function", "name", name, "runtime",
			      json_string_value(json_object_get(fn, "Runtime")),
			      "vpc_config", cfg ? "empty" : "absent"),
		    reason, err));
	}
	return EV_OK;
}

/* ---- the region --------------------------------------------------------- */

struct kind_call {
	enum ev_service service;
	const char *action;
	const char *method;
	const char *path;
	struct ev_uri_param param; /* the largest page size allowed */
	enum ev_err (*on_page)(void *arg, const struct ev_aws_response *page,
			       struct ev_error *err);
};

static const struct kind_call calls[K_COUNT] = {
    [K_EC2] = {EV_SVC_EC2,
	       "DescribeInstances",
	       NULL,
	       NULL,
	       {"MaxResults", "1000"},
	       on_instances},
    [K_RDS] = {EV_SVC_RDS,
	       "DescribeDBInstances",
	       NULL,
	       NULL,
	       {"MaxRecords", "100"},
	       on_db_instances},
    [K_ELB] = {EV_SVC_ELB,
	       "DescribeLoadBalancers",
	       NULL,
	       NULL,
	       {"PageSize", "400"},
	       on_classic_lbs},
    [K_ELBV2] = {EV_SVC_ELBV2,
		 "DescribeLoadBalancers",
		 NULL,
		 NULL,
		 {"PageSize", "400"},
		 on_v2_lbs},
    [K_LAMBDA] = {EV_SVC_LAMBDA,
		  "ListFunctions",
		  "GET",
		  "/2015-03-31/functions",
		  {"MaxItems", "50"},
		  on_functions},
};

struct region {
	struct ev_probe_ctx *ctx;
	const char *partition;
	unsigned obs[EV_FINDING_MAX_OBS]; /* every call, for the summary */
	size_t n_obs;
	json_t *kinds;	   /* details.kinds */
	char in_text[300]; /* "3 EC2 instances, ..." */
	char out_text[200];
	char failed_text[200];
	size_t n_read;
};

static void cite(struct region *r, const unsigned *obs, size_t n)
{
	for (size_t i = 0; i < n; i++, r->n_obs++)
		if (r->n_obs < EV_FINDING_MAX_OBS)
			r->obs[r->n_obs] = obs[i];
}

static void append(char *buf, size_t n, const char *s)
{
	size_t len = strlen(buf);
	snprintf(buf + len, n - len, "%s%s", len ? ", " : "", s);
}

static enum ev_err run_kind(struct region *r, enum kind k)
{
	struct ev_probe_ctx *ctx = r->ctx;
	const struct kind_info *info = &kinds[k];
	const struct kind_call *kc = &calls[k];
	struct tally t = {
	    .ctx = ctx,
	    .kind = k,
	    .partition = r->partition,
	    .by_vpc = json_object(),
	};
	if (!t.by_vpc)
		return EV_E_NOMEM;
	struct ev_aws_call call = {
	    .service = kc->service,
	    .action = kc->action,
	    .region = ctx->region,
	    .method = kc->method,
	    .path = kc->path,
	    .params = &kc->param,
	    .n_params = 1,
	};
	struct ev_error err;
	ev_error_clear(&err);
	enum ev_err rc = ev_probe_paginate(ctx, &call, kc->on_page, &t, t.obs,
					   MAX_PAGE_OBS, &t.n_obs, &err);
	size_t kept = t.n_obs < MAX_PAGE_OBS ? t.n_obs : MAX_PAGE_OBS;
	cite(r, t.obs, kept);
	if (rc == EV_E_NOMEM) {
		json_decref(t.by_vpc);
		return rc;
	}
	json_t *d = json_pack(
	    "{s:i, s:i, s:b, s:o}", "in_vpc", (json_int_t)t.in_vpc, "outside",
	    (json_int_t)t.outside, "complete", rc == EV_OK, "by_vpc", t.by_vpc);
	if (!d || json_object_set_new(r->kinds, info->key, d) != 0)
		return EV_E_NOMEM;
	if (k == K_EC2 &&
	    json_object_update_new(
		d, json_pack("{s:i, s:i}", "skipped_terminated",
			     (json_int_t)t.terminated, "skipped_shutting_down",
			     (json_int_t)t.shutting_down)) != 0)
		return EV_E_NOMEM;
	if (rc != EV_OK) {
		/* Resources already judged on earlier pages keep their
		 * findings; the kind as a whole is not evidenced. */
		char res[160];
		snprintf(res, sizeof(res), "arn:%s:%s:%s:%s:%s", r->partition,
			 info->service, ctx->region, ctx->account,
			 info->pattern);
		append(r->failed_text, sizeof(r->failed_text), info->plural);
		return ev_findings_add_error(ctx->findings, PROBE_ID,
					     ctx->account, ctx->region, res,
					     &err, t.obs, kept, info->what);
	}
	r->n_read++;
	char part[80];
	snprintf(part, sizeof(part), "%zu %s", t.in_vpc,
		 t.in_vpc == 1 ? info->singular : info->plural);
	append(r->in_text, sizeof(r->in_text), part);
	if (t.outside) {
		snprintf(part, sizeof(part), "%zu %s", t.outside,
			 t.outside == 1 ? info->singular : info->plural);
		append(r->out_text, sizeof(r->out_text), part);
	}
	return EV_OK;
}

/* supported-platforms: "VPC" alone, or EC2-Classic is still offered. */
static enum ev_err run_platforms(struct region *r, json_t **platforms)
{
	struct ev_probe_ctx *ctx = r->ctx;
	static const struct ev_uri_param param = {"AttributeName.1",
						  "supported-platforms"};
	struct ev_aws_call call = {
	    .service = EV_SVC_EC2,
	    .action = "DescribeAccountAttributes",
	    .region = ctx->region,
	    .params = &param,
	    .n_params = 1,
	};
	char res[160];
	snprintf(res, sizeof(res),
		 "arn:%s:ec2:%s:%s:account-attribute/supported-platforms",
		 r->partition, ctx->region, ctx->account);
	struct ev_aws_response resp;
	ev_aws_response_init(&resp);
	struct ev_error err;
	ev_error_clear(&err);
	unsigned id = 0;
	enum ev_err rc = ev_probe_call(ctx, &call, &resp, &id, &err);
	cite(r, &id, 1);
	const struct ev_xml_node *root =
	    rc == EV_OK ? ev_aws_response_result(&resp, call.action) : NULL;
	const struct ev_xml_node *values = NULL;
	for (const struct ev_xml_node *it = ev_xml_child(
		 ev_xml_child(root, "accountAttributeSet"), "item");
	     it; it = ev_xml_next_same(it)) {
		const char *name = text(it, "attributeName");
		if (name && strcmp(name, "supported-platforms") == 0)
			values = ev_xml_child(it, "attributeValueSet");
	}
	if (rc == EV_OK && !values)
		rc = ev_error_set(&err, EV_E_MALFORMED,
				  "no supported-platforms in the answer");
	if (rc != EV_OK) {
		ev_aws_response_cleanup(&resp);
		append(r->failed_text, sizeof(r->failed_text),
		       "supported platforms");
		return ev_findings_add_error(ctx->findings, PROBE_ID,
					     ctx->account, ctx->region, res,
					     &err, &id, 1, call.action);
	}
	json_t *list = json_array();
	char joined[120] = "";
	bool classic = false;
	for (const struct ev_xml_node *v = ev_xml_child(values, "item"); v;
	     v = ev_xml_next_same(v)) {
		const char *p = text(v, "attributeValue");
		if (!p)
			continue;
		if (!list || json_array_append_new(list, json_string(p)) != 0)
			break;
		append(joined, sizeof(joined), p);
		classic |= strcmp(p, "VPC") != 0;
	}
	ev_aws_response_cleanup(&resp);
	if (!list)
		return EV_E_NOMEM;
	*platforms = list;
	if (!classic)
		return EV_OK;
	return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
			       ctx->region, res, EV_STATUS_FAIL,
			       json_pack("{s:O}", "supported_platforms", list),
			       &id, 1,
			       "EC2-Classic is still available in %s "
			       "(supported platforms: %s)",
			       ctx->region, joined);
}

enum ev_err ev_probe_vpc_only_run(struct ev_probe_ctx *ctx)
{
	const char *partition = ev_region_partition(ctx->region);
	struct region *r = calloc(1, sizeof(*r));
	if (!r)
		return EV_E_NOMEM;
	r->ctx = ctx;
	r->partition = partition ? partition : "aws";
	r->kinds = json_object();
	json_t *platforms = NULL;
	enum ev_err rc = r->kinds ? EV_OK : EV_E_NOMEM;
	if (rc == EV_OK)
		rc = run_platforms(r, &platforms);
	for (int k = 0; k < K_COUNT && rc == EV_OK; k++)
		rc = run_kind(r, (enum kind)k);
	if (rc != EV_OK || (r->n_read == 0 && !platforms))
		goto out;

	char res[128];
	snprintf(res, sizeof(res), "arn:%s:ec2:%s:%s:", r->partition,
		 ctx->region, ctx->account);
	rc = ev_findings_add(
	    ctx->findings, PROBE_ID, ctx->account, ctx->region, res,
	    EV_STATUS_PASS,
	    json_pack("{s:s, s:O?, s:O}", "region", ctx->region,
		      "supported_platforms", platforms, "kinds", r->kinds),
	    r->obs, r->n_obs, "in a VPC in %s: %s%s%s%s%s", ctx->region,
	    r->in_text[0] ? r->in_text : "nothing listed",
	    r->out_text[0] ? "; outside (own findings): " : "", r->out_text,
	    r->failed_text[0] ? "; not read: " : "", r->failed_text);
out:
	json_decref(platforms);
	json_decref(r->kinds);
	free(r);
	return rc;
}
