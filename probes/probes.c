/* The probe table. Permissions are what each probe's calls need (the
 * read-only policy `evident policy` prints is generated from them);
 * controls are catalog ids (config/controls.json). */
#include "probes.h"

#include <string.h>

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

/* clang-format off */
static const struct ev_probe table[EV_PROBE_COUNT_] = {
	[EV_PROBE_ACCESS_KEYS] = {
		.id = "access-keys",
		.title = "Access keys rotated and used, signing certificates listed",
		.scope = EV_SCOPE_ACCOUNT,
		.permissions = LIST("iam:GenerateCredentialReport", "iam:GetCredentialReport"),
		.controls = LIST("MSP-8.3", "DEVOPS-3.13"),
		.run = ev_probe_access_keys_run,
	},
	[EV_PROBE_CLOUDTRAIL] = {
		.id = "cloudtrail",
		.title = "CloudTrail logging management events in every region with log file validation",
		.scope = EV_SCOPE_REGION,
		.permissions = LIST("cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus",
				    "cloudtrail:GetEventSelectors"),
		.controls = LIST("MSP-8.2.4"),
		.run = ev_probe_cloudtrail_run,
	},
	[EV_PROBE_CLOUDTRAIL_RETENTION] = {
		.id = "cloudtrail-retention",
		.title = "CloudTrail log bucket retains logs for the agreed period",
		.scope = EV_SCOPE_ACCOUNT,
		.permissions = LIST("cloudtrail:DescribeTrails", "s3:GetLifecycleConfiguration",
				    "s3:GetBucketObjectLockConfiguration", "s3:GetBucketLocation"),
		.controls = LIST("MSP-8.2.1", "MSP-8.2.2"),
		.run = ev_probe_cloudtrail_retention_run,
	},
	[EV_PROBE_CONFIG_RECORDER] = {
		.id = "config-recorder",
		.title = "AWS Config recorder on and delivering in every region",
		.scope = EV_SCOPE_REGION,
		.permissions = LIST("config:DescribeConfigurationRecorders",
				    "config:DescribeConfigurationRecorderStatus",
				    "config:DescribeDeliveryChannels"),
		.controls = LIST("MSP-8.2.3", "DEVOPS-3.3"),
		.run = ev_probe_config_recorder_run,
	},
	[EV_PROBE_CONFIG_RULES] = {
		.id = "config-rules",
		.title = "AWS Config rules present and their compliance",
		.scope = EV_SCOPE_REGION,
		.permissions = LIST("config:DescribeConfigRules",
				    "config:DescribeComplianceByConfigRule"),
		.controls = LIST("MSP-8.2.3", "DEVOPS-3.3"),
		.run = ev_probe_config_rules_run,
	},
	[EV_PROBE_CONSOLE_MFA] = {
		.id = "console-mfa",
		.title = "IAM users with a console password have MFA",
		.scope = EV_SCOPE_ACCOUNT,
		.permissions = LIST("iam:GenerateCredentialReport", "iam:GetCredentialReport"),
		.controls = LIST("MSP-8.1.2", "DEVOPS-3.15", "MSP-8.3", "DEVOPS-3.13"),
		.run = ev_probe_console_mfa_run,
	},
	[EV_PROBE_LEAST_PRIVILEGE] = {
		.id = "least-privilege",
		.title = "No administrator (*:*) policies attached directly to users",
		.scope = EV_SCOPE_ACCOUNT,
		.permissions = LIST("iam:GetAccountAuthorizationDetails"),
		.controls = LIST("MSP-8.1.2", "DEVOPS-3.15"),
		.run = ev_probe_least_privilege_run,
	},
	[EV_PROBE_ROOT_MFA] = {
		.id = "root-mfa",
		.title = "Root user has MFA (or no root credentials at all)",
		.scope = EV_SCOPE_ACCOUNT,
		.permissions = LIST("iam:GetAccountSummary", "iam:ListVirtualMFADevices",
				    "iam:GenerateCredentialReport", "iam:GetCredentialReport",
				    "iam:ListOrganizationsFeatures"),
		.controls = LIST("MSP-8.1.8", "DEVOPS-3.16"),
		.run = ev_probe_root_mfa_run,
	},
	[EV_PROBE_ROOT_USAGE] = {
		.id = "root-usage",
		.title = "Root user has no access keys and is not used",
		.scope = EV_SCOPE_ACCOUNT,
		.permissions = LIST("iam:GetAccountSummary", "iam:GenerateCredentialReport",
				    "iam:GetCredentialReport"),
		.controls = LIST("MSP-8.1.5", "DEVOPS-3.14"),
		.run = ev_probe_root_usage_run,
	},
	[EV_PROBE_VPC_ONLY] = {
		.id = "vpc-only",
		.title = "EC2, RDS, load balancers and Lambda functions deployed in VPCs",
		.scope = EV_SCOPE_REGION,
		.permissions = LIST("ec2:DescribeAccountAttributes", "ec2:DescribeInstances",
				    "rds:DescribeDBInstances", "elasticloadbalancing:DescribeLoadBalancers",
				    "lambda:ListFunctions"),
		.controls = LIST("MSP-8.1.4"),
		.run = ev_probe_vpc_only_run,
	},
};
/* clang-format on */

const struct ev_probe *ev_probes(void)
{
	return table;
}

const struct ev_probe *ev_probe_find(const char *id)
{
	for (size_t i = 0; i < EV_PROBE_COUNT_; i++)
		if (strcmp(table[i].id, id) == 0)
			return &table[i];
	return NULL;
}
