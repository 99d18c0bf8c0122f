#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "endpoint.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* What botocore 1.29.27 (Debian) resolves for each service and region,
 * with AWS_STS_REGIONAL_ENDPOINTS=regional and
 * AWS_S3_US_EAST_1_REGIONAL_ENDPOINT=regional: host, then signing region.
 * The eusc rows postdate that botocore and follow aws-api.md §2. */
/* clang-format off */
static const struct {
	enum ev_service svc;
	const char *region;
	const char *host;
	const char *signing_region;
} resolved[] = {
	{EV_SVC_STS, "us-east-1", "sts.us-east-1.amazonaws.com", "us-east-1"},
	{EV_SVC_IAM, "us-east-1", "iam.amazonaws.com", "us-east-1"},
	{EV_SVC_ORGANIZATIONS, "us-east-1", "organizations.us-east-1.amazonaws.com", "us-east-1"},
	{EV_SVC_CLOUDTRAIL, "us-east-1", "cloudtrail.us-east-1.amazonaws.com", "us-east-1"},
	{EV_SVC_CONFIG, "us-east-1", "config.us-east-1.amazonaws.com", "us-east-1"},
	{EV_SVC_EC2, "us-east-1", "ec2.us-east-1.amazonaws.com", "us-east-1"},
	{EV_SVC_RDS, "us-east-1", "rds.us-east-1.amazonaws.com", "us-east-1"},
	{EV_SVC_LAMBDA, "us-east-1", "lambda.us-east-1.amazonaws.com", "us-east-1"},
	{EV_SVC_S3, "us-east-1", "s3.us-east-1.amazonaws.com", "us-east-1"},
	{EV_SVC_ELB, "us-east-1", "elasticloadbalancing.us-east-1.amazonaws.com", "us-east-1"},
	{EV_SVC_ELBV2, "us-east-1", "elasticloadbalancing.us-east-1.amazonaws.com", "us-east-1"},
	{EV_SVC_STS, "eu-west-1", "sts.eu-west-1.amazonaws.com", "eu-west-1"},
	{EV_SVC_IAM, "eu-west-1", "iam.amazonaws.com", "us-east-1"},
	{EV_SVC_ORGANIZATIONS, "eu-west-1", "organizations.us-east-1.amazonaws.com", "us-east-1"},
	{EV_SVC_CLOUDTRAIL, "eu-west-1", "cloudtrail.eu-west-1.amazonaws.com", "eu-west-1"},
	{EV_SVC_CONFIG, "eu-west-1", "config.eu-west-1.amazonaws.com", "eu-west-1"},
	{EV_SVC_EC2, "eu-west-1", "ec2.eu-west-1.amazonaws.com", "eu-west-1"},
	{EV_SVC_RDS, "eu-west-1", "rds.eu-west-1.amazonaws.com", "eu-west-1"},
	{EV_SVC_LAMBDA, "eu-west-1", "lambda.eu-west-1.amazonaws.com", "eu-west-1"},
	{EV_SVC_S3, "eu-west-1", "s3.eu-west-1.amazonaws.com", "eu-west-1"},
	{EV_SVC_ELB, "eu-west-1", "elasticloadbalancing.eu-west-1.amazonaws.com", "eu-west-1"},
	{EV_SVC_ELBV2, "eu-west-1", "elasticloadbalancing.eu-west-1.amazonaws.com", "eu-west-1"},
	{EV_SVC_STS, "ap-southeast-7", "sts.ap-southeast-7.amazonaws.com", "ap-southeast-7"},
	{EV_SVC_IAM, "ap-southeast-7", "iam.amazonaws.com", "us-east-1"},
	{EV_SVC_ORGANIZATIONS, "ap-southeast-7", "organizations.us-east-1.amazonaws.com", "us-east-1"},
	{EV_SVC_CLOUDTRAIL, "ap-southeast-7", "cloudtrail.ap-southeast-7.amazonaws.com", "ap-southeast-7"},
	{EV_SVC_CONFIG, "ap-southeast-7", "config.ap-southeast-7.amazonaws.com", "ap-southeast-7"},
	{EV_SVC_EC2, "ap-southeast-7", "ec2.ap-southeast-7.amazonaws.com", "ap-southeast-7"},
	{EV_SVC_RDS, "ap-southeast-7", "rds.ap-southeast-7.amazonaws.com", "ap-southeast-7"},
	{EV_SVC_LAMBDA, "ap-southeast-7", "lambda.ap-southeast-7.amazonaws.com", "ap-southeast-7"},
	{EV_SVC_S3, "ap-southeast-7", "s3.ap-southeast-7.amazonaws.com", "ap-southeast-7"},
	{EV_SVC_ELB, "ap-southeast-7", "elasticloadbalancing.ap-southeast-7.amazonaws.com", "ap-southeast-7"},
	{EV_SVC_ELBV2, "ap-southeast-7", "elasticloadbalancing.ap-southeast-7.amazonaws.com", "ap-southeast-7"},
	{EV_SVC_STS, "il-central-1", "sts.il-central-1.amazonaws.com", "il-central-1"},
	{EV_SVC_IAM, "il-central-1", "iam.amazonaws.com", "us-east-1"},
	{EV_SVC_ORGANIZATIONS, "il-central-1", "organizations.us-east-1.amazonaws.com", "us-east-1"},
	{EV_SVC_CLOUDTRAIL, "il-central-1", "cloudtrail.il-central-1.amazonaws.com", "il-central-1"},
	{EV_SVC_CONFIG, "il-central-1", "config.il-central-1.amazonaws.com", "il-central-1"},
	{EV_SVC_EC2, "il-central-1", "ec2.il-central-1.amazonaws.com", "il-central-1"},
	{EV_SVC_RDS, "il-central-1", "rds.il-central-1.amazonaws.com", "il-central-1"},
	{EV_SVC_LAMBDA, "il-central-1", "lambda.il-central-1.amazonaws.com", "il-central-1"},
	{EV_SVC_S3, "il-central-1", "s3.il-central-1.amazonaws.com", "il-central-1"},
	{EV_SVC_ELB, "il-central-1", "elasticloadbalancing.il-central-1.amazonaws.com", "il-central-1"},
	{EV_SVC_ELBV2, "il-central-1", "elasticloadbalancing.il-central-1.amazonaws.com", "il-central-1"},
	{EV_SVC_STS, "cn-north-1", "sts.cn-north-1.amazonaws.com.cn", "cn-north-1"},
	{EV_SVC_IAM, "cn-north-1", "iam.cn-north-1.amazonaws.com.cn", "cn-north-1"},
	{EV_SVC_ORGANIZATIONS, "cn-north-1", "organizations.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
	{EV_SVC_CLOUDTRAIL, "cn-north-1", "cloudtrail.cn-north-1.amazonaws.com.cn", "cn-north-1"},
	{EV_SVC_CONFIG, "cn-north-1", "config.cn-north-1.amazonaws.com.cn", "cn-north-1"},
	{EV_SVC_EC2, "cn-north-1", "ec2.cn-north-1.amazonaws.com.cn", "cn-north-1"},
	{EV_SVC_RDS, "cn-north-1", "rds.cn-north-1.amazonaws.com.cn", "cn-north-1"},
	{EV_SVC_LAMBDA, "cn-north-1", "lambda.cn-north-1.amazonaws.com.cn", "cn-north-1"},
	{EV_SVC_S3, "cn-north-1", "s3.cn-north-1.amazonaws.com.cn", "cn-north-1"},
	{EV_SVC_ELB, "cn-north-1", "elasticloadbalancing.cn-north-1.amazonaws.com.cn", "cn-north-1"},
	{EV_SVC_ELBV2, "cn-north-1", "elasticloadbalancing.cn-north-1.amazonaws.com.cn", "cn-north-1"},
	{EV_SVC_STS, "cn-northwest-1", "sts.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
	{EV_SVC_IAM, "cn-northwest-1", "iam.cn-north-1.amazonaws.com.cn", "cn-north-1"},
	{EV_SVC_ORGANIZATIONS, "cn-northwest-1", "organizations.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
	{EV_SVC_CLOUDTRAIL, "cn-northwest-1", "cloudtrail.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
	{EV_SVC_CONFIG, "cn-northwest-1", "config.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
	{EV_SVC_EC2, "cn-northwest-1", "ec2.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
	{EV_SVC_RDS, "cn-northwest-1", "rds.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
	{EV_SVC_LAMBDA, "cn-northwest-1", "lambda.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
	{EV_SVC_S3, "cn-northwest-1", "s3.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
	{EV_SVC_ELB, "cn-northwest-1", "elasticloadbalancing.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
	{EV_SVC_ELBV2, "cn-northwest-1", "elasticloadbalancing.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
	{EV_SVC_STS, "us-gov-west-1", "sts.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
	{EV_SVC_IAM, "us-gov-west-1", "iam.us-gov.amazonaws.com", "us-gov-west-1"},
	{EV_SVC_ORGANIZATIONS, "us-gov-west-1", "organizations.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
	{EV_SVC_CLOUDTRAIL, "us-gov-west-1", "cloudtrail.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
	{EV_SVC_CONFIG, "us-gov-west-1", "config.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
	{EV_SVC_EC2, "us-gov-west-1", "ec2.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
	{EV_SVC_RDS, "us-gov-west-1", "rds.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
	{EV_SVC_LAMBDA, "us-gov-west-1", "lambda.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
	{EV_SVC_S3, "us-gov-west-1", "s3.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
	{EV_SVC_ELB, "us-gov-west-1", "elasticloadbalancing.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
	{EV_SVC_ELBV2, "us-gov-west-1", "elasticloadbalancing.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
	{EV_SVC_STS, "us-gov-east-1", "sts.us-gov-east-1.amazonaws.com", "us-gov-east-1"},
	{EV_SVC_IAM, "us-gov-east-1", "iam.us-gov.amazonaws.com", "us-gov-west-1"},
	{EV_SVC_ORGANIZATIONS, "us-gov-east-1", "organizations.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
	{EV_SVC_CLOUDTRAIL, "us-gov-east-1", "cloudtrail.us-gov-east-1.amazonaws.com", "us-gov-east-1"},
	{EV_SVC_CONFIG, "us-gov-east-1", "config.us-gov-east-1.amazonaws.com", "us-gov-east-1"},
	{EV_SVC_EC2, "us-gov-east-1", "ec2.us-gov-east-1.amazonaws.com", "us-gov-east-1"},
	{EV_SVC_RDS, "us-gov-east-1", "rds.us-gov-east-1.amazonaws.com", "us-gov-east-1"},
	{EV_SVC_LAMBDA, "us-gov-east-1", "lambda.us-gov-east-1.amazonaws.com", "us-gov-east-1"},
	{EV_SVC_S3, "us-gov-east-1", "s3.us-gov-east-1.amazonaws.com", "us-gov-east-1"},
	{EV_SVC_ELB, "us-gov-east-1", "elasticloadbalancing.us-gov-east-1.amazonaws.com", "us-gov-east-1"},
	{EV_SVC_ELBV2, "us-gov-east-1", "elasticloadbalancing.us-gov-east-1.amazonaws.com", "us-gov-east-1"},
	{EV_SVC_STS, "us-iso-east-1", "sts.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
	{EV_SVC_IAM, "us-iso-east-1", "iam.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
	{EV_SVC_ORGANIZATIONS, "us-iso-east-1", "organizations.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
	{EV_SVC_CLOUDTRAIL, "us-iso-east-1", "cloudtrail.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
	{EV_SVC_CONFIG, "us-iso-east-1", "config.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
	{EV_SVC_EC2, "us-iso-east-1", "ec2.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
	{EV_SVC_RDS, "us-iso-east-1", "rds.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
	{EV_SVC_LAMBDA, "us-iso-east-1", "lambda.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
	{EV_SVC_S3, "us-iso-east-1", "s3.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
	{EV_SVC_ELB, "us-iso-east-1", "elasticloadbalancing.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
	{EV_SVC_ELBV2, "us-iso-east-1", "elasticloadbalancing.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
	{EV_SVC_STS, "us-iso-west-1", "sts.us-iso-west-1.c2s.ic.gov", "us-iso-west-1"},
	{EV_SVC_IAM, "us-iso-west-1", "iam.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
	{EV_SVC_ORGANIZATIONS, "us-iso-west-1", "organizations.us-iso-west-1.c2s.ic.gov", "us-iso-west-1"},
	{EV_SVC_CLOUDTRAIL, "us-iso-west-1", "cloudtrail.us-iso-west-1.c2s.ic.gov", "us-iso-west-1"},
	{EV_SVC_CONFIG, "us-iso-west-1", "config.us-iso-west-1.c2s.ic.gov", "us-iso-west-1"},
	{EV_SVC_EC2, "us-iso-west-1", "ec2.us-iso-west-1.c2s.ic.gov", "us-iso-west-1"},
	{EV_SVC_RDS, "us-iso-west-1", "rds.us-iso-west-1.c2s.ic.gov", "us-iso-west-1"},
	{EV_SVC_LAMBDA, "us-iso-west-1", "lambda.us-iso-west-1.c2s.ic.gov", "us-iso-west-1"},
	{EV_SVC_S3, "us-iso-west-1", "s3.us-iso-west-1.c2s.ic.gov", "us-iso-west-1"},
	{EV_SVC_ELB, "us-iso-west-1", "elasticloadbalancing.us-iso-west-1.c2s.ic.gov", "us-iso-west-1"},
	{EV_SVC_ELBV2, "us-iso-west-1", "elasticloadbalancing.us-iso-west-1.c2s.ic.gov", "us-iso-west-1"},
	{EV_SVC_STS, "us-isob-east-1", "sts.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
	{EV_SVC_IAM, "us-isob-east-1", "iam.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
	{EV_SVC_ORGANIZATIONS, "us-isob-east-1", "organizations.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
	{EV_SVC_CLOUDTRAIL, "us-isob-east-1", "cloudtrail.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
	{EV_SVC_CONFIG, "us-isob-east-1", "config.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
	{EV_SVC_EC2, "us-isob-east-1", "ec2.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
	{EV_SVC_RDS, "us-isob-east-1", "rds.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
	{EV_SVC_LAMBDA, "us-isob-east-1", "lambda.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
	{EV_SVC_S3, "us-isob-east-1", "s3.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
	{EV_SVC_ELB, "us-isob-east-1", "elasticloadbalancing.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
	{EV_SVC_ELBV2, "us-isob-east-1", "elasticloadbalancing.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
	{EV_SVC_STS, "eusc-de-east-1", "sts.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1"},
	{EV_SVC_IAM, "eusc-de-east-1", "iam.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1"},
	{EV_SVC_ORGANIZATIONS, "eusc-de-east-1", "organizations.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1"},
	{EV_SVC_CLOUDTRAIL, "eusc-de-east-1", "cloudtrail.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1"},
	{EV_SVC_CONFIG, "eusc-de-east-1", "config.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1"},
	{EV_SVC_EC2, "eusc-de-east-1", "ec2.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1"},
	{EV_SVC_RDS, "eusc-de-east-1", "rds.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1"},
	{EV_SVC_LAMBDA, "eusc-de-east-1", "lambda.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1"},
	{EV_SVC_S3, "eusc-de-east-1", "s3.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1"},
	{EV_SVC_ELB, "eusc-de-east-1", "elasticloadbalancing.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1"},
	{EV_SVC_ELBV2, "eusc-de-east-1", "elasticloadbalancing.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1"},
};
/* clang-format on */

static void every_service_in_every_partition(void **state)
{
	(void)state;
	int seen[EV_SVC_COUNT_] = {0};
	for (size_t i = 0; i < COUNT(resolved); i++) {
		struct ev_endpoint ep;
		struct ev_error err;
		ev_error_clear(&err);
		char url[300];
		snprintf(url, sizeof(url), "https://%s", resolved[i].host);
		assert_int_equal(ev_endpoint_resolve(resolved[i].svc,
						     resolved[i].region, NULL,
						     &ep, &err),
				 EV_OK);
		if (strcmp(ep.host, resolved[i].host) != 0 ||
		    strcmp(ep.signing_region, resolved[i].signing_region) != 0)
			fail_msg(
			    "%s in %s: got %s signed %s, want %s signed %s",
			    ev_service_info(resolved[i].svc)->name,
			    resolved[i].region, ep.host, ep.signing_region,
			    resolved[i].host, resolved[i].signing_region);
		assert_string_equal(ep.url, url);
		assert_false(ep.overridden);
		seen[resolved[i].svc]++;
	}
	for (int s = 0; s < EV_SVC_COUNT_; s++)
		assert_int_equal(seen[s], 12);
}

/* AWS_STS_REGIONAL_ENDPOINTS=legacy, as botocore 1.29.27 resolves it. */
static void sts_legacy_global_endpoint(void **state)
{
	(void)state;
	static const struct {
		const char *region, *host, *signing_region;
	} cases[] = {
	    {"us-east-1", "sts.amazonaws.com", "us-east-1"},
	    {"eu-west-1", "sts.amazonaws.com", "us-east-1"},
	    {"us-west-2", "sts.amazonaws.com", "us-east-1"},
	    {"ap-southeast-2", "sts.amazonaws.com", "us-east-1"},
	    {"ap-northeast-2", "sts.ap-northeast-2.amazonaws.com",
	     "ap-northeast-2"},
	    {"ap-southeast-7", "sts.ap-southeast-7.amazonaws.com",
	     "ap-southeast-7"},
	    {"il-central-1", "sts.il-central-1.amazonaws.com", "il-central-1"},
	    {"cn-north-1", "sts.cn-north-1.amazonaws.com.cn", "cn-north-1"},
	    {"us-gov-west-1", "sts.us-gov-west-1.amazonaws.com",
	     "us-gov-west-1"},
	    {"us-iso-east-1", "sts.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
	};
	struct ev_endpoint_overrides ov = {.sts_global = true};
	for (size_t i = 0; i < COUNT(cases); i++) {
		struct ev_endpoint ep;
		assert_int_equal(ev_endpoint_resolve(EV_SVC_STS,
						     cases[i].region, &ov, &ep,
						     NULL),
				 EV_OK);
		assert_string_equal(ep.host, cases[i].host);
		assert_string_equal(ep.signing_region, cases[i].signing_region);
	}
	/* Only STS is affected. */
	struct ev_endpoint ep;
	assert_int_equal(
	    ev_endpoint_resolve(EV_SVC_EC2, "eu-west-1", &ov, &ep, NULL),
	    EV_OK);
	assert_string_equal(ep.host, "ec2.eu-west-1.amazonaws.com");
}

static void service_table(void **state)
{
	(void)state;
	static const struct {
		enum ev_service svc;
		const char *name, *signing, *prefix, *env_id;
		enum ev_protocol proto;
		const char *version, *target;
		bool global;
	} want[] = {
	    {EV_SVC_STS, "sts", "sts", "sts", "STS", EV_PROTO_QUERY,
	     "2011-06-15", NULL, false},
	    {EV_SVC_IAM, "iam", "iam", "iam", "IAM", EV_PROTO_QUERY,
	     "2010-05-08", NULL, true},
	    {EV_SVC_ORGANIZATIONS, "organizations", "organizations",
	     "organizations", "ORGANIZATIONS", EV_PROTO_JSON, NULL,
	     "AWSOrganizationsV20161128", true},
	    {EV_SVC_CLOUDTRAIL, "cloudtrail", "cloudtrail", "cloudtrail",
	     "CLOUDTRAIL", EV_PROTO_JSON, NULL,
	     "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101", false},
	    {EV_SVC_CONFIG, "config", "config", "config", "CONFIG_SERVICE",
	     EV_PROTO_JSON, NULL, "StarlingDoveService", false},
	    {EV_SVC_EC2, "ec2", "ec2", "ec2", "EC2", EV_PROTO_EC2, "2016-11-15",
	     NULL, false},
	    {EV_SVC_RDS, "rds", "rds", "rds", "RDS", EV_PROTO_QUERY,
	     "2014-10-31", NULL, false},
	    {EV_SVC_LAMBDA, "lambda", "lambda", "lambda", "LAMBDA",
	     EV_PROTO_REST_JSON, NULL, NULL, false},
	    {EV_SVC_S3, "s3", "s3", "s3", "S3", EV_PROTO_REST_XML, NULL, NULL,
	     false},
	    {EV_SVC_ELB, "elb", "elasticloadbalancing", "elasticloadbalancing",
	     "ELASTIC_LOAD_BALANCING", EV_PROTO_QUERY, "2012-06-01", NULL,
	     false},
	    {EV_SVC_ELBV2, "elbv2", "elasticloadbalancing",
	     "elasticloadbalancing", "ELASTIC_LOAD_BALANCING_V2",
	     EV_PROTO_QUERY, "2015-12-01", NULL, false},
	};
	assert_int_equal(COUNT(want), EV_SVC_COUNT_);
	for (size_t i = 0; i < COUNT(want); i++) {
		const struct ev_service_info *si = ev_service_info(want[i].svc);
		assert_non_null(si);
		assert_int_equal(si->id, want[i].svc);
		assert_string_equal(si->name, want[i].name);
		assert_string_equal(si->signing_name, want[i].signing);
		assert_string_equal(si->endpoint_prefix, want[i].prefix);
		assert_string_equal(si->env_id, want[i].env_id);
		assert_int_equal(si->protocol, want[i].proto);
		if (want[i].version)
			assert_string_equal(si->api_version, want[i].version);
		else
			assert_null(si->api_version);
		if (want[i].target)
			assert_string_equal(si->target_prefix, want[i].target);
		else
			assert_null(si->target_prefix);
		assert_int_equal(si->global, want[i].global);

		enum ev_service parsed = EV_SVC_COUNT_;
		assert_int_equal(ev_service_parse(want[i].name, &parsed),
				 EV_OK);
		assert_int_equal(parsed, want[i].svc);
	}
	enum ev_service parsed;
	assert_int_equal(ev_service_parse("elasticloadbalancing", &parsed),
			 EV_E_CONFIG);
	assert_int_equal(ev_service_parse("IAM", &parsed), EV_E_CONFIG);
	assert_int_equal(ev_service_parse("", &parsed), EV_E_CONFIG);
	assert_int_equal(ev_service_parse(NULL, &parsed), EV_E_CONFIG);
	assert_null(ev_service_info(EV_SVC_COUNT_));
}

static void partitions(void **state)
{
	(void)state;
	static const struct {
		const char *region, *partition;
	} cases[] = {
	    {"us-east-1", "aws"},
	    {"eu-central-2", "aws"},
	    {"ap-southeast-7", "aws"},
	    {"mx-central-1", "aws"},
	    {"il-central-1", "aws"},
	    {"cn-north-1", "aws-cn"},
	    {"cn-northwest-1", "aws-cn"},
	    {"us-gov-west-1", "aws-us-gov"},
	    {"us-gov-east-1", "aws-us-gov"},
	    {"us-iso-east-1", "aws-iso"},
	    {"us-iso-west-1", "aws-iso"},
	    {"us-isob-east-1", "aws-iso-b"},
	    {"eusc-de-east-1", "aws-eusc"},
	    /* Not regions, or partitions evident does not serve. */
	    {"", NULL},
	    {"us-east", NULL},
	    {"useast1", NULL},
	    {"US-EAST-1", NULL},
	    {"us-east-1 ", NULL},
	    {"us-east-1a", NULL},
	    {"us_east-1", NULL},
	    {"us--east-1", NULL},
	    {"-us-east-1", NULL},
	    {"us-east-", NULL},
	    {"u-east-1", NULL},
	    {"abcde-east-1", NULL},
	    {"aws-global", NULL},
	    {"local", NULL},
	    {"us-east-1234", NULL},
	    {"us-isof-south-1", NULL},
	    {"eu-isoe-west-1", NULL},
	    {"us-east-1.evil.example", NULL},
	    {"us-east-1/x", NULL},
	    {"xx-aaaaaaaaaaaaaaaaaaaaaaaaaaa-1", NULL}, /* 32 characters */
	};
	for (size_t i = 0; i < COUNT(cases); i++) {
		const char *got = ev_region_partition(cases[i].region);
		if (!cases[i].partition) {
			if (got)
				fail_msg("\"%s\": want no partition, got %s",
					 cases[i].region, got);
			continue;
		}
		if (!got || strcmp(got, cases[i].partition) != 0)
			fail_msg("\"%s\": want %s, got %s", cases[i].region,
				 cases[i].partition, got ? got : "NULL");
	}
	assert_null(ev_region_partition(NULL));
}

static void unknown_region_is_a_config_error(void **state)
{
	(void)state;
	static const char *const bad[] = {"",
					  "local",
					  "US-EAST-1",
					  "us-isof-south-1",
					  "eu-isoe-west-1",
					  "us-east-1.attacker.example"};
	for (size_t i = 0; i < COUNT(bad); i++) {
		for (int s = 0; s < EV_SVC_COUNT_; s++) {
			struct ev_endpoint ep;
			struct ev_error err;
			ev_error_clear(&err);
			assert_int_equal(ev_endpoint_resolve((enum ev_service)s,
							     bad[i], NULL, &ep,
							     &err),
					 EV_E_CONFIG);
			assert_int_equal(err.code, EV_E_CONFIG);
			assert_non_null(strstr(err.message, "partition"));
		}
	}
	struct ev_endpoint ep;
	assert_int_equal(ev_endpoint_resolve(EV_SVC_EC2, NULL, NULL, &ep, NULL),
			 EV_E_CONFIG);
}

/* Overrides: the service's own beats `all`; scheme, host, port and base
 * path come from the URL; the signing region from the rules. */
static void overrides(void **state)
{
	(void)state;
	static const struct {
		enum ev_service svc;
		const char *region;
		const char *all, *own;
		const char *url, *host, *signing_region;
	} cases[] = {
	    {EV_SVC_EC2, "eu-west-1", "http://localhost:4566", NULL,
	     "http://localhost:4566", "localhost:4566", "eu-west-1"},
	    {EV_SVC_IAM, "eu-west-1", "http://localhost:4566/", NULL,
	     "http://localhost:4566", "localhost:4566", "us-east-1"},
	    {EV_SVC_ORGANIZATIONS, "cn-north-1", "https://sim.test", NULL,
	     "https://sim.test", "sim.test", "cn-northwest-1"},
	    {EV_SVC_IAM, "us-gov-east-1", "https://sim.test", NULL,
	     "https://sim.test", "sim.test", "us-gov-west-1"},
	    {EV_SVC_EC2, "eu-west-1", "http://all.test:1",
	     "https://ec2.test:8443/base/path//",
	     "https://ec2.test:8443/base/path", "ec2.test:8443", "eu-west-1"},
	    {EV_SVC_CONFIG, "us-east-2", "http://all.test:1", "http://cfg.test",
	     "http://cfg.test", "cfg.test", "us-east-2"},
	    /* Another service's own override does not apply. */
	    {EV_SVC_RDS, "us-east-2", "http://all.test:1", NULL,
	     "http://all.test:1", "all.test:1", "us-east-2"},
	    /* Default ports stay in the URL but not in Host. */
	    {EV_SVC_S3, "eu-west-1", "https://s3.test:443", NULL,
	     "https://s3.test:443", "s3.test", "eu-west-1"},
	    {EV_SVC_S3, "eu-west-1", "HTTP://S3.test:80", NULL,
	     "http://S3.test:80", "S3.test", "eu-west-1"},
	    {EV_SVC_LAMBDA, "eu-west-1", "http://[::1]:9000", NULL,
	     "http://[::1]:9000", "[::1]:9000", "eu-west-1"},
	    {EV_SVC_ELBV2, "eu-west-1", "http://127.0.0.1:9000/elb", NULL,
	     "http://127.0.0.1:9000/elb", "127.0.0.1:9000", "eu-west-1"},
	    /* An empty override is no override. */
	    {EV_SVC_STS, "eu-west-1", "", "",
	     "https://sts.eu-west-1.amazonaws.com",
	     "sts.eu-west-1.amazonaws.com", "eu-west-1"},
	    /* A local endpoint may use its own region name. */
	    {EV_SVC_EC2, "local", "http://localhost:4566", NULL,
	     "http://localhost:4566", "localhost:4566", "local"},
	    {EV_SVC_IAM, "local-1", "http://localhost:4566", NULL,
	     "http://localhost:4566", "localhost:4566", "local-1"},
	};
	for (size_t i = 0; i < COUNT(cases); i++) {
		struct ev_endpoint_overrides ov = {.all = cases[i].all};
		ov.service[cases[i].svc] = cases[i].own;
		if (cases[i].svc != EV_SVC_CONFIG)
			ov.service[EV_SVC_CONFIG] = "http://config-only.test";
		struct ev_endpoint ep;
		struct ev_error err;
		ev_error_clear(&err);
		enum ev_err rc = ev_endpoint_resolve(
		    cases[i].svc, cases[i].region, &ov, &ep, &err);
		if (rc != EV_OK)
			fail_msg("case %zu: %s", i, err.message);
		assert_string_equal(ep.url, cases[i].url);
		assert_string_equal(ep.host, cases[i].host);
		assert_string_equal(ep.signing_region, cases[i].signing_region);
		assert_int_equal(ep.overridden, cases[i].all[0] != '\0');
	}
}

static void bad_override_urls(void **state)
{
	(void)state;
	static const struct {
		const char *url;
		const char *why; /* part of the message */
	} cases[] = {
	    {"localhost:4566", "scheme"},
	    {"ftp://localhost", "scheme"},
	    {"http:/localhost", "scheme"},
	    {"http://", "no host"},
	    {"https:///path", "no host"},
	    {"http://:4566", "no host"},
	    {"http://host:0", "port"},
	    {"http://host:65536", "port"},
	    {"http://host:123456", "port"},
	    {"http://host:", "port"},
	    {"http://host:80x", "port"},
	    {"http://host?x=1", "query"},
	    {"http://host/p#frag", "fragment"},
	    {"http://ho st", "space"},
	    {"http://host\n", "control"},
	    {"http://h\xc3\xa9st", "non-ASCII"},
	    {"http://ho%73t", "host"},
	    {"http://[::1", "IPv6"},
	    {"http://[]:1", "IPv6"},
	    {"http://[zz]:1", "IPv6"},
	    {"", "empty"},
	};
	for (size_t i = 0; i < COUNT(cases); i++) {
		struct ev_endpoint_overrides ov = {0};
		ov.service[EV_SVC_EC2] = cases[i].url;
		struct ev_endpoint ep;
		struct ev_error err;
		ev_error_clear(&err);
		assert_int_equal(ev_endpoint_url_check(cases[i].url, &err),
				 EV_E_CONFIG);
		if (!strstr(err.message, cases[i].why))
			fail_msg("\"%s\": message \"%s\" lacks \"%s\"",
				 cases[i].url, err.message, cases[i].why);
		if (!cases[i].url[0])
			continue; /* empty means "no override" to resolve */
		ev_error_clear(&err);
		assert_int_equal(ev_endpoint_resolve(EV_SVC_EC2, "us-east-1",
						     &ov, &ep, &err),
				 EV_E_CONFIG);
		/* The message names the setting it came from. */
		assert_non_null(strstr(err.message, "AWS_ENDPOINT_URL_EC2"));
		assert_non_null(strstr(err.message, cases[i].why));
	}
	/* Through `all`, the message names that setting. */
	struct ev_endpoint_overrides ov = {.all = "gopher://x"};
	struct ev_endpoint ep;
	struct ev_error err;
	ev_error_clear(&err);
	assert_int_equal(
	    ev_endpoint_resolve(EV_SVC_RDS, "us-east-1", &ov, &ep, &err),
	    EV_E_CONFIG);
	assert_non_null(strstr(err.message, "AWS_ENDPOINT_URL"));
	assert_non_null(strstr(err.message, "endpoint_url"));
	assert_null(strstr(err.message, "AWS_ENDPOINT_URL_"));
}

static void override_url_bounds_and_secrets(void **state)
{
	(void)state;
	struct ev_error err;
	/* user:password@host is refused without repeating the URL. */
	ev_error_clear(&err);
	assert_int_equal(
	    ev_endpoint_url_check("https://user:hunter2@host.test", &err),
	    EV_E_CONFIG);
	assert_null(strstr(err.message, "hunter2"));
	assert_non_null(strstr(err.message, "user information"));

	/* Longest accepted, then one past the limit. */
	static char url[EV_LIMIT_URL + 1];
	memset(url, 'a', sizeof(url) - 1);
	memcpy(url, "http://h/", 9);
	url[EV_LIMIT_URL - 1] = '\0';
	ev_error_clear(&err);
	assert_int_equal(ev_endpoint_url_check(url, &err), EV_OK);
	url[EV_LIMIT_URL - 1] = 'a';
	url[EV_LIMIT_URL] = '\0';
	assert_int_equal(ev_endpoint_url_check(url, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "too long"));
	/* The message shows a bounded prefix only. */
	assert_true(strlen(err.message) < 200);

	/* A host longer than the Host buffer. */
	static char longhost[400];
	memset(longhost, 'h', sizeof(longhost) - 1);
	memcpy(longhost, "http://", 7);
	struct ev_endpoint_overrides ov = {.all = longhost};
	struct ev_endpoint ep;
	ev_error_clear(&err);
	assert_int_equal(
	    ev_endpoint_resolve(EV_SVC_EC2, "us-east-1", &ov, &ep, &err),
	    EV_E_CONFIG);
	assert_non_null(strstr(err.message, "host too long"));
	assert_int_equal(ev_endpoint_url_check(NULL, &err), EV_E_CONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(service_table),
	    cmocka_unit_test(partitions),
	    cmocka_unit_test(every_service_in_every_partition),
	    cmocka_unit_test(sts_legacy_global_endpoint),
	    cmocka_unit_test(unknown_region_is_a_config_error),
	    cmocka_unit_test(overrides),
	    cmocka_unit_test(bad_override_urls),
	    cmocka_unit_test(override_url_bounds_and_secrets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
