/* The vpc-only probe on recorded simulator answers (demo-org, whose pages
 * hold two items) and hand-edited variants under tests/unit/data/vpc/. */
#include "probe_door.h"
#include "probes.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))
#define MEMBER	"444455556666"
#define SANDBOX "777788889999"
/* Page tokens as the query and rest bodies carry them. */
#define TOK2	"AAEA%2B%2F97Im8iOjIs"
#define TOK3	"AAEA%2B%2F97Im8iOjQs"
#define CLASSIC "Version=2012-06-01"
#define V2	"Version=2015-12-01"

static const char *dstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static json_int_t kind_count(const struct ev_finding *f, const char *kind,
			     const char *what)
{
	const json_t *k =
	    json_object_get(json_object_get(f->details, "kinds"), kind);
	assert_non_null(k);
	return json_integer_value(json_object_get(k, what));
}

/* ---- everything in a VPC, across pages ---------------------------------- */

static const struct door_reply member[] = {
    {"DescribeAccountAttributes", NULL, 200, "@vpc/platforms-vpc.xml", NULL},
    {"DescribeInstances", "NextToken=" TOK3, 200, "@vpc/instances-p3.xml",
     NULL},
    {"DescribeInstances", "NextToken=" TOK2, 200, "@vpc/instances-p2.xml",
     NULL},
    {"DescribeInstances", NULL, 200, "@vpc/instances-p1.xml", NULL},
    {"DescribeDBInstances", "Marker=" TOK2, 200, "@vpc/rds-p2.xml", NULL},
    {"DescribeDBInstances", NULL, 200, "@vpc/rds-p1.xml", NULL},
    {"DescribeLoadBalancers", CLASSIC, 200, "@vpc/elb-in-vpc.xml", NULL},
    {"DescribeLoadBalancers", V2, 200, "@vpc/elbv2.xml", NULL},
    {"/2015-03-31/functions", "Marker=" TOK2, 200, "@vpc/lambda-p2.json", NULL},
    {"/2015-03-31/functions", NULL, 200, "@vpc/lambda-p1.json", NULL},
};

static void everything_in_vpc_passes(void **state)
{
	(void)state;
	struct test_door d;
	test_door_init(&d, MEMBER, "eu-west-1", member, N(member));
	assert_int_equal(ev_probe_vpc_only_run(&d.ctx), EV_OK);

	assert_int_equal(d.findings.n, 1);
	const struct ev_finding *f = &d.findings.items[0];
	assert_string_equal(f->probe_id, "vpc-only");
	assert_string_equal(f->resource, "arn:aws:ec2:eu-west-1:" MEMBER ":");
	assert_int_equal(f->status, EV_STATUS_PASS);
	assert_string_equal(f->reason,
			    "in a VPC in eu-west-1: 5 EC2 instances, 4 RDS "
			    "instances, 1 classic load balancer, 2 load "
			    "balancers, 3 Lambda functions");
	/* Platforms, 3 + 2 pages, 2 load balancer calls, 2 pages. */
	assert_int_equal(f->n_obs, 10);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(f->obs[i], i);
	assert_int_equal(kind_count(f, "ec2_instances", "in_vpc"), 5);
	assert_int_equal(kind_count(f, "rds_instances", "in_vpc"), 4);
	assert_int_equal(kind_count(f, "lambda_functions", "outside"), 0);
	const json_t *by_vpc = json_object_get(
	    json_object_get(json_object_get(f->details, "kinds"),
			    "ec2_instances"),
	    "by_vpc");
	assert_int_equal(json_integer_value(
			     json_object_get(by_vpc, "vpc-0b2c3d4e5f6071829")),
			 5);
	assert_string_equal(
	    json_string_value(json_array_get(
		json_object_get(f->details, "supported_platforms"), 0)),
	    "VPC");

	/* The largest pages each API allows. */
	assert_non_null(
	    strstr(d.calls[0].body, "AttributeName.1=supported-platforms"));
	assert_non_null(strstr(d.calls[1].body, "MaxResults=1000"));
	assert_non_null(strstr(d.calls[4].body, "MaxRecords=100"));
	assert_non_null(strstr(d.calls[6].body, "PageSize=400"));
	assert_non_null(strstr(d.calls[7].body, "PageSize=400"));
	assert_non_null(strstr(d.calls[8].url, "lambda.eu-west-1."));
	assert_non_null(strstr(d.calls[8].url, "MaxItems=50"));
	assert_non_null(strstr(d.calls[9].url, "Marker=" TOK2));
	test_door_cleanup(&d, NULL);
}

/* ---- the EC2-Classic era account ---------------------------------------- */

static const struct door_reply classic[] = {
    {"DescribeAccountAttributes", NULL, 200, "@vpc/platforms-classic.xml",
     NULL},
    {"DescribeInstances", NULL, 200, "@vpc/instances-classic.xml", NULL},
    {"DescribeDBInstances", NULL, 200, "@vpc/rds-classic.xml", NULL},
    {"DescribeLoadBalancers", CLASSIC, 200, "@vpc/elb-classic.xml", NULL},
    {"DescribeLoadBalancers", V2, 200, "@vpc/elbv2-empty.xml", NULL},
    {"/2015-03-31/functions", NULL, 200, "@vpc/lambda-empty.json", NULL},
};

static void classic_resources_fail_one_by_one(void **state)
{
	(void)state;
	struct test_door d;
	test_door_init(&d, SANDBOX, "us-east-1", classic, N(classic));
	assert_int_equal(ev_probe_vpc_only_run(&d.ctx), EV_OK);

	assert_int_equal(d.findings.n, 5);
	assert_int_equal(door_count(&d, EV_STATUS_FAIL, NULL), 4);

	const struct ev_finding *p =
	    door_finding(&d, "account-attribute/supported-platforms");
	assert_int_equal(p->status, EV_STATUS_FAIL);
	assert_string_equal(p->reason, "EC2-Classic is still available in "
				       "us-east-1 (supported platforms: EC2, "
				       "VPC)");
	assert_int_equal(p->n_obs, 1);
	assert_int_equal(p->obs[0], 0);

	const struct ev_finding *i =
	    door_finding(&d, "arn:aws:ec2:us-east-1:" SANDBOX
			     ":instance/i-0c3d4e5f607180001");
	assert_int_equal(i->status, EV_STATUS_FAIL);
	assert_string_equal(i->reason,
			    "EC2 instance i-0c3d4e5f607180001 "
			    "(running) is not in a VPC (EC2-Classic)");
	assert_int_equal(i->n_obs, 1);
	assert_int_equal(i->obs[0], 1);
	assert_string_equal(dstr(i->details, "instance_type"), "m1.small");

	const struct ev_finding *db =
	    door_finding(&d, "arn:aws:rds:us-east-1:" SANDBOX ":db:old-mysql");
	assert_int_equal(db->status, EV_STATUS_FAIL);
	assert_string_equal(db->reason, "RDS instance old-mysql (mysql) is not "
					"in a VPC: no DB subnet group");
	assert_int_equal(db->obs[0], 2);

	const struct ev_finding *lb =
	    door_finding(&d, "arn:aws:elasticloadbalancing:us-east-1:" SANDBOX
			     ":loadbalancer/classic-lb");
	assert_int_equal(lb->status, EV_STATUS_FAIL);
	assert_string_equal(lb->reason, "classic load balancer classic-lb is "
					"not in a VPC (EC2-Classic: no VPCId)");
	assert_int_equal(lb->obs[0], 3);

	/* The summary comes last. */
	const struct ev_finding *sum = &d.findings.items[d.findings.n - 1];
	assert_int_equal(sum->status, EV_STATUS_PASS);
	assert_string_equal(sum->resource,
			    "arn:aws:ec2:us-east-1:" SANDBOX ":");
	assert_string_equal(
	    sum->reason,
	    "in a VPC in us-east-1: 0 EC2 instances, 0 RDS instances, 0 "
	    "classic load balancers, 0 load balancers, 0 Lambda functions; "
	    "outside (own findings): 1 EC2 instance, 1 RDS instance, 1 "
	    "classic load balancer");
	assert_int_equal(kind_count(sum, "rds_instances", "outside"), 1);
	test_door_cleanup(&d, NULL);
}

/* ---- terminated instances and Lambda outside a VPC ---------------------- */

static const struct door_reply sandbox_euw1[] = {
    {"DescribeAccountAttributes", NULL, 200, "@vpc/platforms-vpc.xml", NULL},
    {"DescribeInstances", NULL, 200, "@vpc/instances-terminated.xml", NULL},
    {"DescribeDBInstances", NULL, 200, "@vpc/rds-empty.xml", NULL},
    {"DescribeLoadBalancers", CLASSIC, 200, "@vpc/elb-empty.xml", NULL},
    {"DescribeLoadBalancers", V2, 200, "@vpc/elbv2-empty.xml", NULL},
    {"/2015-03-31/functions", "Marker=" TOK2, 200,
     "@vpc/lambda-outside-p2.json", NULL},
    {"/2015-03-31/functions", NULL, 200, "@vpc/lambda-outside-p1.json", NULL},
};

static void terminated_skipped_lambda_warned(void **state)
{
	(void)state;
	struct test_door d;
	test_door_init(&d, SANDBOX, "eu-west-1", sandbox_euw1, N(sandbox_euw1));
	assert_int_equal(ev_probe_vpc_only_run(&d.ctx), EV_OK);

	/* Two functions outside (warn) and the summary; the terminated and
	 * shutting-down instances are no finding at all. */
	assert_int_equal(d.findings.n, 3);
	assert_int_equal(door_count(&d, EV_STATUS_WARN, NULL), 2);
	assert_int_equal(door_count(&d, EV_STATUS_FAIL, NULL), 0);
	const struct ev_finding *hello = door_finding(
	    &d, "arn:aws:lambda:eu-west-1:" SANDBOX ":function:hello");
	assert_string_equal(hello->reason, "Lambda function hello is not "
					   "attached to a VPC (VpcConfig "
					   "without a VpcId)");
	assert_string_equal(dstr(hello->details, "vpc_config"), "empty");
	const struct ev_finding *cron =
	    door_finding(&d, "function:cron-cleanup");
	assert_string_equal(dstr(cron->details, "vpc_config"), "absent");
	assert_non_null(strstr(cron->reason, "(no VpcConfig)"));
	/* The page the function was on: the first Lambda page. */
	assert_int_equal(cron->obs[0], 5);

	const struct ev_finding *sum = &d.findings.items[2];
	assert_int_equal(sum->status, EV_STATUS_PASS);
	assert_int_equal(kind_count(sum, "ec2_instances", "in_vpc"), 1);
	assert_int_equal(kind_count(sum, "ec2_instances", "outside"), 0);
	assert_int_equal(kind_count(sum, "ec2_instances", "skipped_terminated"),
			 1);
	assert_int_equal(
	    kind_count(sum, "ec2_instances", "skipped_shutting_down"), 1);
	assert_int_equal(kind_count(sum, "lambda_functions", "in_vpc"), 1);
	assert_int_equal(kind_count(sum, "lambda_functions", "outside"), 2);
	test_door_cleanup(&d, NULL);

	/* Configured to fail. */
	test_door_init(&d, SANDBOX, "eu-west-1", sandbox_euw1, N(sandbox_euw1));
	d.cfg.probes.lambda_outside_vpc = EV_LAMBDA_OUTSIDE_VPC_FAIL;
	assert_int_equal(ev_probe_vpc_only_run(&d.ctx), EV_OK);
	assert_int_equal(door_count(&d, EV_STATUS_FAIL, "function:"), 2);
	assert_int_equal(door_count(&d, EV_STATUS_WARN, NULL), 0);
	test_door_cleanup(&d, NULL);
}

/* ---- a failed call spoils its own kind only ----------------------------- */

static const struct door_reply rds_denied[] = {
    {"DescribeAccountAttributes", NULL, 200, "@vpc/platforms-vpc.xml", NULL},
    {"DescribeInstances", NULL, 403, "@vpc/ec2-unauthorized.xml", NULL},
    {"DescribeDBInstances", NULL, 403, "@vpc/rds-denied.xml", NULL},
    {"DescribeLoadBalancers", CLASSIC, 200, "@vpc/elb-classic.xml", NULL},
    {"DescribeLoadBalancers", V2, 200, "@vpc/elbv2.xml", NULL},
    {"/2015-03-31/functions", NULL, 200, "@vpc/lambda-empty.json", NULL},
};

static void denied_kinds_are_errors(void **state)
{
	(void)state;
	struct test_door d;
	test_door_init(&d, MEMBER, "eu-west-1", rds_denied, N(rds_denied));
	assert_int_equal(ev_probe_vpc_only_run(&d.ctx), EV_OK);

	assert_int_equal(d.findings.n, 4);
	const struct ev_finding *e =
	    door_finding(&d, "arn:aws:ec2:eu-west-1:" MEMBER ":instance/*");
	assert_int_equal(e->status, EV_STATUS_ERROR);
	assert_string_equal(e->error_code, "UnauthorizedOperation");
	assert_string_equal(e->request_id,
			    "8a0e6c5d-2f4b-4c1e-9d7a-unauthorized");
	assert_non_null(strstr(e->reason, "ec2 DescribeInstances: "));
	assert_int_equal(e->n_obs, 1);
	assert_int_equal(e->obs[0], 1);

	const struct ev_finding *r =
	    door_finding(&d, "arn:aws:rds:eu-west-1:" MEMBER ":db:*");
	assert_int_equal(r->status, EV_STATUS_ERROR);
	assert_string_equal(r->error_code, "AccessDenied");
	assert_string_equal(r->request_id, "3c1d9e0a-rds-denied");
	assert_string_equal(dstr(r->details, "error"), "access-denied");

	/* The classic load balancer is still judged. */
	assert_int_equal(
	    door_count(&d, EV_STATUS_FAIL, "loadbalancer/classic-lb"), 1);
	const struct ev_finding *sum = &d.findings.items[3];
	assert_int_equal(sum->status, EV_STATUS_PASS);
	assert_string_equal(
	    sum->reason,
	    "in a VPC in eu-west-1: 0 classic load balancers, 2 load "
	    "balancers, 0 Lambda functions; outside (own findings): 1 "
	    "classic load balancer; not read: EC2 instances, RDS instances");
	assert_false(json_is_true(json_object_get(
	    json_object_get(json_object_get(sum->details, "kinds"),
			    "rds_instances"),
	    "complete")));
	test_door_cleanup(&d, NULL);
}

static void nothing_readable_gives_errors_only(void **state)
{
	(void)state;
	static const struct door_reply r[] = {
	    {"DescribeAccountAttributes", NULL, 403,
	     "@vpc/ec2-unauthorized.xml", NULL},
	    {"DescribeInstances", NULL, 403, "@vpc/ec2-unauthorized.xml", NULL},
	    {"DescribeDBInstances", NULL, 403, "@vpc/rds-denied.xml", NULL},
	    {"DescribeLoadBalancers", NULL, 403, "@vpc/rds-denied.xml", NULL},
	    {"/2015-03-31/functions", NULL, 403, "{\"Message\":\"denied\"}",
	     "x-amzn-ErrorType: AccessDeniedException"},
	};
	struct test_door d;
	test_door_init(&d, MEMBER, "eu-west-1", r, N(r));
	assert_int_equal(ev_probe_vpc_only_run(&d.ctx), EV_OK);
	/* Platforms and five kinds: six errors, no summary claiming
	 * anything. */
	assert_int_equal(d.findings.n, 6);
	assert_int_equal(door_count(&d, EV_STATUS_ERROR, NULL), 6);
	const struct ev_finding *l = door_finding(&d, "function:*");
	assert_string_equal(l->error_code, "AccessDeniedException");
	test_door_cleanup(&d, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(everything_in_vpc_passes),
	    cmocka_unit_test(classic_resources_fail_one_by_one),
	    cmocka_unit_test(terminated_skipped_lambda_warned),
	    cmocka_unit_test(denied_kinds_are_errors),
	    cmocka_unit_test(nothing_readable_gives_errors_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
