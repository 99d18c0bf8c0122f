#include "endpoint.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Designated by id so the table cannot drift from the enum. */
/* clang-format off */
static const struct ev_service_info services[EV_SVC_COUNT_] = {
	[EV_SVC_STS] = {
		.id = EV_SVC_STS,
		.name = "sts",
		.signing_name = "sts",
		.endpoint_prefix = "sts",
		.env_id = "STS",
		.protocol = EV_PROTO_QUERY,
		.api_version = "2011-06-15",
	},
	[EV_SVC_IAM] = {
		.id = EV_SVC_IAM,
		.name = "iam",
		.signing_name = "iam",
		.endpoint_prefix = "iam",
		.env_id = "IAM",
		.protocol = EV_PROTO_QUERY,
		.api_version = "2010-05-08",
		.global = true,
	},
	[EV_SVC_ORGANIZATIONS] = {
		.id = EV_SVC_ORGANIZATIONS,
		.name = "organizations",
		.signing_name = "organizations",
		.endpoint_prefix = "organizations",
		.env_id = "ORGANIZATIONS",
		.protocol = EV_PROTO_JSON,
		.target_prefix = "AWSOrganizationsV20161128",
		.global = true,
	},
	[EV_SVC_CLOUDTRAIL] = {
		.id = EV_SVC_CLOUDTRAIL,
		.name = "cloudtrail",
		.signing_name = "cloudtrail",
		.endpoint_prefix = "cloudtrail",
		.env_id = "CLOUDTRAIL",
		.protocol = EV_PROTO_JSON,
		.target_prefix =
			"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
	},
	[EV_SVC_CONFIG] = {
		.id = EV_SVC_CONFIG,
		.name = "config",
		.signing_name = "config",
		.endpoint_prefix = "config",
		.env_id = "CONFIG_SERVICE",
		.protocol = EV_PROTO_JSON,
		.target_prefix = "StarlingDoveService",
	},
	[EV_SVC_EC2] = {
		.id = EV_SVC_EC2,
		.name = "ec2",
		.signing_name = "ec2",
		.endpoint_prefix = "ec2",
		.env_id = "EC2",
		.protocol = EV_PROTO_EC2,
		.api_version = "2016-11-15",
	},
	[EV_SVC_RDS] = {
		.id = EV_SVC_RDS,
		.name = "rds",
		.signing_name = "rds",
		.endpoint_prefix = "rds",
		.env_id = "RDS",
		.protocol = EV_PROTO_QUERY,
		.api_version = "2014-10-31",
	},
	[EV_SVC_LAMBDA] = {
		.id = EV_SVC_LAMBDA,
		.name = "lambda",
		.signing_name = "lambda",
		.endpoint_prefix = "lambda",
		.env_id = "LAMBDA",
		.protocol = EV_PROTO_REST_JSON,
	},
	[EV_SVC_S3] = {
		.id = EV_SVC_S3,
		.name = "s3",
		.signing_name = "s3",
		.endpoint_prefix = "s3",
		.env_id = "S3",
		.protocol = EV_PROTO_REST_XML,
	},
	[EV_SVC_ELB] = {
		.id = EV_SVC_ELB,
		.name = "elb",
		.signing_name = "elasticloadbalancing",
		.endpoint_prefix = "elasticloadbalancing",
		.env_id = "ELASTIC_LOAD_BALANCING",
		.protocol = EV_PROTO_QUERY,
		.api_version = "2012-06-01",
	},
	[EV_SVC_ELBV2] = {
		.id = EV_SVC_ELBV2,
		.name = "elbv2",
		.signing_name = "elasticloadbalancing",
		.endpoint_prefix = "elasticloadbalancing",
		.env_id = "ELASTIC_LOAD_BALANCING_V2",
		.protocol = EV_PROTO_QUERY,
		.api_version = "2015-12-01",
	},
};
/* clang-format on */

/* aws-api.md §2 and botocore's endpoints.json. IAM has one endpoint per
 * partition: iam.{iam_region}.{suffix} unless the partition names the host
 * outright (aws, aws-us-gov). Organizations has one where endpoints.json
 * gives it (aws, aws-cn, aws-us-gov) and is regional elsewhere, as botocore
 * resolves it. eusc is newer than the Debian botocore data; its only
 * region stands in as IAM's, the SDKs' implicit global region. */
struct partition {
	const char *name;
	const char *region_prefix; /* NULL: the aws partition's fallback */
	const char *dns_suffix;
	const char *iam_host; /* NULL: built from iam_region */
	const char *iam_region;
	const char *orgs_region; /* NULL: regional */
};

/* clang-format off */
static const struct partition partitions[] = {
	{"aws-cn", "cn-", "amazonaws.com.cn", NULL, "cn-north-1",
	 "cn-northwest-1"},
	{"aws-us-gov", "us-gov-", "amazonaws.com", "iam.us-gov.amazonaws.com",
	 "us-gov-west-1", "us-gov-west-1"},
	{"aws-iso", "us-iso-", "c2s.ic.gov", NULL, "us-iso-east-1", NULL},
	{"aws-iso-b", "us-isob-", "sc2s.sgov.gov", NULL, "us-isob-east-1",
	 NULL},
	{"aws-eusc", "eusc-", "amazonaws.eu", NULL, "eusc-de-east-1", NULL},
	{"aws", NULL, "amazonaws.com", "iam.amazonaws.com", "us-east-1",
	 "us-east-1"},
};
/* clang-format on */

#define PARTITION_COUNT (sizeof(partitions) / sizeof(partitions[0]))

/* The regions botocore's sts_regional_endpoints=legacy sends to the global
 * host (botocore args.py LEGACY_GLOBAL_STS_REGIONS). */
/* clang-format off */
static const char *const sts_legacy_global[] = {
	"ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1",   "eu-central-1", "eu-north-1",   "eu-west-1",
	"eu-west-2",      "eu-west-3",  "sa-east-1",      "us-east-1",
	"us-east-2",      "us-west-1",  "us-west-2",
};
/* clang-format on */

/* Longest region name accepted; the signing region buffer bounds it. */
#define REGION_MAX 31

const struct ev_service_info *ev_service_info(enum ev_service id)
{
	if ((int)id < 0 || id >= EV_SVC_COUNT_)
		return NULL;
	return &services[id];
}

enum ev_err ev_service_parse(const char *name, enum ev_service *out)
{
	for (int i = 0; name && i < EV_SVC_COUNT_; i++) {
		if (strcmp(name, services[i].name) == 0) {
			*out = (enum ev_service)i;
			return EV_OK;
		}
	}
	return EV_E_CONFIG;
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,3}$ and at most REGION_MAX long: every
 * partition's region pattern in endpoints.json, made strict about case. */
static bool region_syntax_ok(const char *r)
{
	size_t len = strnlen(r, REGION_MAX + 1);
	if (len == 0 || len > REGION_MAX)
		return false;
	size_t i = 0;
	while (is_lower(r[i]))
		i++;
	if (i < 2 || i > 4 || r[i] != '-')
		return false;
	int letter_groups = 1;
	for (;;) {
		i++; /* past '-' */
		size_t start = i;
		if (is_lower(r[i])) {
			while (is_lower(r[i]))
				i++;
			if (r[i] != '-')
				return false;
			letter_groups++;
			continue;
		}
		while (is_digit(r[i]))
			i++;
		size_t ndigits = i - start;
		return letter_groups >= 2 && ndigits >= 1 && ndigits <= 3 &&
		       r[i] == '\0';
	}
}

static const struct partition *partition_of(const char *region)
{
	if (!region || !region_syntax_ok(region))
		return NULL;
	for (size_t i = 0; i < PARTITION_COUNT; i++) {
		const char *p = partitions[i].region_prefix;
		if (p && strncmp(region, p, strlen(p)) == 0)
			return &partitions[i];
	}
	/* us-isof-*, eu-isoe-* and later isolated partitions have their own
	 * DNS suffixes: sending their traffic to amazonaws.com would be
	 * wrong, so they are refused rather than taken for aws. */
	const char *second = strchr(region, '-') + 1;
	if (strncmp(second, "iso", 3) == 0)
		return NULL;
	if (strchr(region, '-') - region != 2)
		return NULL;
	return &partitions[PARTITION_COUNT - 1];
}

const char *ev_region_partition(const char *region)
{
	const struct partition *p = partition_of(region);
	return p ? p->name : NULL;
}

/* A name fit to sign with when an override makes the partition moot. */
static bool plain_region_name(const char *r)
{
	size_t len = strnlen(r, REGION_MAX + 1);
	if (len == 0 || len > REGION_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_lower(r[i]) && !is_digit(r[i]) && r[i] != '-')
			return false;
	return true;
}

struct parsed_url {
	bool https;
	const char *host;
	size_t host_len;
	const char *port; /* NULL: none given */
	size_t port_len;
	const char *path; /* base path without trailing '/' */
	size_t path_len;
};

static bool host_char(char c)
{
	return is_lower(c) || is_digit(c) || (c >= 'A' && c <= 'Z') ||
	       c == '-' || c == '.' || c == '_';
}

static bool ipv6_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

/* Fills why (a static reason) and returns false when url is unusable. The
 * caller decides whether the URL itself may be shown. */
static bool url_parse(const char *url, struct parsed_url *u, const char **why)
{
	size_t len = strnlen(url, EV_LIMIT_URL);
	if (len == 0) {
		*why = "empty";
		return false;
	}
	if (len >= EV_LIMIT_URL) {
		*why = "too long";
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c <= 0x20 || c >= 0x7f) {
			*why = "contains a space, control or non-ASCII byte";
			return false;
		}
	}
	if (strchr(url, '?') || strchr(url, '#')) {
		*why = "a query or fragment is not allowed";
		return false;
	}
	const char *p;
	if (strncasecmp(url, "https://", 8) == 0) {
		u->https = true;
		p = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		u->https = false;
		p = url + 7;
	} else {
		*why = "the scheme must be http:// or https://";
		return false;
	}
	size_t auth_len = strcspn(p, "/");
	if (memchr(p, '@', auth_len)) {
		*why = "user information (user@host) is not allowed";
		return false;
	}
	const char *end = p + auth_len;
	const char *h = p;
	if (*h == '[') {
		const char *close = memchr(h, ']', auth_len);
		if (!close || close == h + 1) {
			*why = "malformed IPv6 address";
			return false;
		}
		for (const char *c = h + 1; c < close; c++) {
			if (!ipv6_char(*c)) {
				*why = "malformed IPv6 address";
				return false;
			}
		}
		u->host = h;
		u->host_len = (size_t)(close + 1 - h);
	} else {
		const char *c = h;
		while (c < end && host_char(*c))
			c++;
		u->host = h;
		u->host_len = (size_t)(c - h);
	}
	if (u->host_len == 0) {
		*why = "no host";
		return false;
	}
	const char *rest = u->host + u->host_len;
	u->port = NULL;
	u->port_len = 0;
	if (rest < end) {
		if (*rest != ':') {
			*why = "invalid character in the host";
			return false;
		}
		u->port = rest + 1;
		u->port_len = (size_t)(end - u->port);
		long port = 0;
		for (size_t i = 0; i < u->port_len; i++) {
			if (!is_digit(u->port[i]) || i >= 5) {
				port = -1;
				break;
			}
			port = port * 10 + (u->port[i] - '0');
		}
		if (u->port_len == 0 || port < 1 || port > 65535) {
			*why = "the port must be a number from 1 to 65535";
			return false;
		}
	}
	u->path = end;
	u->path_len = strlen(end);
	while (u->path_len > 0 && u->path[u->path_len - 1] == '/')
		u->path_len--;
	return true;
}

enum ev_err ev_endpoint_url_check(const char *url, struct ev_error *err)
{
	struct parsed_url u;
	const char *why = NULL;
	if (!url)
		return ev_error_set(err, EV_E_CONFIG, "endpoint URL: missing");
	if (url_parse(url, &u, &why))
		return EV_OK;
	/* user@host may carry a password: never repeat such a URL. */
	if (strchr(url, '@'))
		return ev_error_set(err, EV_E_CONFIG, "endpoint URL: %s", why);
	return ev_error_set(err, EV_E_CONFIG, "endpoint URL \"%.96s%s\": %s",
			    url, strlen(url) > 96 ? "..." : "", why);
}

static bool default_port(const struct parsed_url *u)
{
	const char *d = u->https ? "443" : "80";
	return u->port_len == strlen(d) && memcmp(u->port, d, u->port_len) == 0;
}

static enum ev_err apply_override(const struct ev_service_info *si,
				  const char *url, bool per_service,
				  struct ev_endpoint *out, struct ev_error *err)
{
	struct parsed_url u;
	const char *why = NULL;
	if (!url_parse(url, &u, &why)) {
		enum ev_err rc = ev_endpoint_url_check(url, err);
		if (per_service)
			ev_error_prefix(err,
					"AWS_ENDPOINT_URL_%s: ", si->env_id);
		else
			ev_error_prefix(
			    err, "endpoint_url (AWS_ENDPOINT_URL) for %s: ",
			    si->name);
		return rc;
	}
	/* Signed and sent alike: a default port is left out of Host, as
	 * curl leaves it out of the header it sends. */
	bool show_port = u.port && !default_port(&u);
	int n =
	    snprintf(out->host, sizeof(out->host), "%.*s%s%.*s",
		     (int)u.host_len, u.host, show_port ? ":" : "",
		     show_port ? (int)u.port_len : 0, show_port ? u.port : "");
	EV_ENSURE_E(err, n > 0 && (size_t)n < sizeof(out->host), EV_E_CONFIG,
		    "endpoint override for %s: host too long", si->name);
	n = snprintf(out->url, sizeof(out->url), "%s://%.*s%s%.*s%.*s",
		     u.https ? "https" : "http", (int)u.host_len, u.host,
		     u.port ? ":" : "", (int)u.port_len, u.port ? u.port : "",
		     (int)u.path_len, u.path);
	EV_ENSURE_E(err, n > 0 && (size_t)n < sizeof(out->url), EV_E_CONFIG,
		    "endpoint override for %s: URL too long", si->name);
	out->overridden = true;
	return EV_OK;
}

static bool sts_goes_global(const char *region)
{
	for (size_t i = 0;
	     i < sizeof(sts_legacy_global) / sizeof(sts_legacy_global[0]); i++)
		if (strcmp(region, sts_legacy_global[i]) == 0)
			return true;
	return false;
}

static enum ev_err set_host(struct ev_endpoint *out, const char *host,
			    const char *signing_region, struct ev_error *err)
{
	int n = snprintf(out->host, sizeof(out->host), "%s", host);
	EV_ENSURE_E(err, n > 0 && (size_t)n < sizeof(out->host), EV_E_INTERNAL,
		    "endpoint host too long");
	n = snprintf(out->url, sizeof(out->url), "https://%s", host);
	EV_ENSURE_E(err, n > 0 && (size_t)n < sizeof(out->url), EV_E_INTERNAL,
		    "endpoint URL too long");
	n = snprintf(out->signing_region, sizeof(out->signing_region), "%s",
		     signing_region);
	EV_ENSURE_E(err, n > 0 && (size_t)n < sizeof(out->signing_region),
		    EV_E_INTERNAL, "signing region too long");
	return EV_OK;
}

enum ev_err ev_endpoint_resolve(enum ev_service svc, const char *region,
				const struct ev_endpoint_overrides *ov,
				struct ev_endpoint *out, struct ev_error *err)
{
	const struct ev_service_info *si = ev_service_info(svc);
	EV_ENSURE_E(err, si != NULL, EV_E_INTERNAL, "unknown service %d",
		    (int)svc);
	memset(out, 0, sizeof(*out));

	const char *override = NULL;
	bool per_service = false;
	if (ov && ov->service[svc] && ov->service[svc][0]) {
		override = ov->service[svc];
		per_service = true;
	} else if (ov && ov->all && ov->all[0]) {
		override = ov->all;
	}

	const struct partition *p = region ? partition_of(region) : NULL;
	if (!p) {
		/* Only an override makes a partition unnecessary; the name
		 * still goes into the credential scope, so it must be plain. */
		EV_ENSURE_E(
		    err, override && region && plain_region_name(region),
		    EV_E_CONFIG, "region \"%.40s\" fits no AWS partition",
		    region ? region : "");
		snprintf(out->signing_region, sizeof(out->signing_region), "%s",
			 region);
		return apply_override(si, override, per_service, out, err);
	}

	char host[256];
	const char *signing_region = region;
	if (svc == EV_SVC_IAM) {
		signing_region = p->iam_region;
		if (p->iam_host)
			snprintf(host, sizeof(host), "%s", p->iam_host);
		else
			snprintf(host, sizeof(host), "%s.%s.%s",
				 si->endpoint_prefix, p->iam_region,
				 p->dns_suffix);
	} else if (svc == EV_SVC_ORGANIZATIONS && p->orgs_region) {
		signing_region = p->orgs_region;
		snprintf(host, sizeof(host), "%s.%s.%s", si->endpoint_prefix,
			 p->orgs_region, p->dns_suffix);
	} else if (svc == EV_SVC_STS && ov && ov->sts_global &&
		   p == &partitions[PARTITION_COUNT - 1] &&
		   sts_goes_global(region)) {
		signing_region = "us-east-1";
		snprintf(host, sizeof(host), "sts.amazonaws.com");
	} else {
		/* Region names are at most REGION_MAX: this always fits. */
		snprintf(host, sizeof(host), "%s.%s.%s", si->endpoint_prefix,
			 region, p->dns_suffix);
	}
	EV_TRY(set_host(out, host, signing_region, err));
	if (override)
		return apply_override(si, override, per_service, out, err);
	return EV_OK;
}
