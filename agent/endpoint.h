/* The services evident calls, their protocols, and where each is reached:
 * host and signing region per partition (aws-api.md §2), with the SDKs'
 * overrides (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<ID>, config endpoint_url).
 * Pure: no I/O; the caller passes overrides (see ev_aws_options_from_env). */
#ifndef EV_ENDPOINT_H
#define EV_ENDPOINT_H

#include <stdbool.h>

#include "bounds.h"
#include "err.h"

enum ev_service {
	EV_SVC_STS = 0,
	EV_SVC_IAM,
	EV_SVC_ORGANIZATIONS,
	EV_SVC_CLOUDTRAIL,
	EV_SVC_CONFIG,
	EV_SVC_EC2,
	EV_SVC_RDS,
	EV_SVC_LAMBDA,
	EV_SVC_S3,
	EV_SVC_ELB,   /* classic, elasticloadbalancing 2012-06-01 */
	EV_SVC_ELBV2, /* elasticloadbalancing 2015-12-01 */
	EV_SVC_COUNT_
};

enum ev_protocol {
	EV_PROTO_QUERY = 0, /* form body, XML answer with Result wrapper */
	EV_PROTO_EC2,	    /* form body, XML answer without wrapper */
	EV_PROTO_JSON,	    /* json 1.1 with X-Amz-Target */
	EV_PROTO_REST_JSON,
	EV_PROTO_REST_XML,
};

struct ev_service_info {
	enum ev_service id;
	const char *name; /* CLI name: "sts", "elbv2", ... */
	const char
	    *signing_name; /* SigV4 service: "sts", "elasticloadbalancing" */
	const char
	    *endpoint_prefix; /* host prefix: "sts", "elasticloadbalancing" */
	const char *env_id;   /* AWS_ENDPOINT_URL_<env_id> */
	enum ev_protocol protocol;
	const char *api_version;   /* query/ec2 Version=, NULL otherwise */
	const char *target_prefix; /* json 1.1 X-Amz-Target prefix, without the
				      '.' that joins it to the action */
	bool global;		   /* one endpoint per partition (IAM, Orgs) */
};

/* Never NULL for a valid id. */
const struct ev_service_info *ev_service_info(enum ev_service id);
/* By CLI name ("iam", "config", "elbv2"...); EV_E_CONFIG if unknown. */
enum ev_err ev_service_parse(const char *name,
			     enum ev_service *out) EV_MUST_CHECK;

/* Overrides are views (copy them if they must outlive the caller). */
struct ev_endpoint_overrides {
	const char *all;		    /* AWS_ENDPOINT_URL */
	const char *service[EV_SVC_COUNT_]; /* AWS_ENDPOINT_URL_<ID> */
	bool sts_global; /* AWS_STS_REGIONAL_ENDPOINTS=legacy */
};

struct ev_endpoint {
	char url[EV_LIMIT_URL]; /* scheme://host[:port][/base], no trailing / */
	char host[256];		/* Host header value (with :port if given) */
	char signing_region[32];
	bool overridden; /* from an override: S3 uses path style */
};

/* Resolves where service is reached when working in region: the regional
 * host, or the partition's global one for IAM and Organizations (and for
 * STS when ov->sts_global is set and the region is one of the 15 the SDKs'
 * "legacy" setting sends to sts.amazonaws.com). An override (the service's
 * own beats `all`; ov may be NULL) replaces scheme, host, port and base path
 * but never the signing region. With an override, a region that fits no
 * partition is still accepted if it is a plain name ([a-z0-9-]) and is used
 * as the signing region, so local endpoints may use their own names.
 * out is caller storage, fully written on success. Errors: EV_E_CONFIG
 * (region fits no partition, malformed override URL; the message names
 * the setting). */
enum ev_err ev_endpoint_resolve(enum ev_service svc, const char *region,
				const struct ev_endpoint_overrides *ov,
				struct ev_endpoint *out,
				struct ev_error *err) EV_MUST_CHECK;

/* Partition of a region: "aws", "aws-cn", "aws-us-gov", "aws-iso",
 * "aws-iso-b", "aws-eusc"; NULL if the name fits none (not a region name,
 * or a partition evident does not know, such as us-isof-* and eu-isoe-*,
 * which would otherwise pass for aws names). A static string. */
const char *ev_region_partition(const char *region);

/* Checks an endpoint override URL as ev_endpoint_resolve will use it:
 * http or https, a host, an optional port (1-65535) and base path, no user
 * information, query or fragment, shorter than EV_LIMIT_URL. For config
 * loaders, which prefix the message with where the value came from.
 * Errors: EV_E_CONFIG. */
enum ev_err ev_endpoint_url_check(const char *url,
				  struct ev_error *err) EV_MUST_CHECK;

#endif
