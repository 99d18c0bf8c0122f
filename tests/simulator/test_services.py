#!/usr/bin/python3
"""Tests of the CloudTrail, Config, EC2, RDS, ELB, Lambda and S3 modules, the scenarios that
feed them and the large-organization generator.

boto3 and the Debian awscli run every action these modules serve against running simulators
and check the parsed answers against the scenario files. Run:
  /usr/bin/python3 tests/simulator/test_services.py [-v]
or with unittest discovery:
  /usr/bin/python3 -m unittest discover -s tests/simulator -p 'test_*.py'
"""

import base64
import datetime
import glob
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import zlib

import boto3
import botocore.exceptions
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from sim import scenario as scenario_mod  # noqa: E402
from sim.services import load_services  # noqa: E402
from test_simulator import NO_RETRY, SCENARIOS, SIMULATOR, Sim  # noqa: E402

UTC = datetime.timezone.utc
GENERATE = os.path.join(SCENARIOS, "generate.py")
MGMT, PROD, SANDBOX = "111122223333", "444455556666", "777788889999"
DEMO_EXTERNAL_ID = "evident-demo-7d1f"
ORG_TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{MGMT}:trail/org-trail"
ORG_BUCKET = f"evident-demo-org-trail-{MGMT}"
EVIDENCE_BUCKET = "evident-demo-evidence"
DEFAULT_REGION_COUNT = sum(1 for opt_in in scenario_mod.ALL_REGIONS.values() if not opt_in)


def code_of(ctx):
    """(error code, HTTP status) of an assertRaises(ClientError) context."""
    response = ctx.exception.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


class Wire:
    """Records the raw bodies of a client's answers (success or error) by operation."""

    def __init__(self, client):
        self.bodies = {}
        client.meta.events.register("after-call", self._record)

    def _record(self, http_response, model, **_):
        self.bodies[model.name] = http_response.content

    def json(self, operation):
        return json.loads(self.bodies[operation])


class Org:
    """boto3 clients for the accounts of a running organization simulator: the scenario's
    caller in the management account, AssumeRole sessions in the others. Clients come from
    one boto3 session and are cached; pass fresh=True for a client a test adds hooks to."""

    def __init__(self, sim, management, external_id, role="evident-audit"):
        self.sim = sim
        self.management = management
        self.external_id = external_id
        self.role = role
        self.session = boto3.session.Session()
        self.credentials = {}
        self.clients = {}
        self.made = []

    def _credentials(self, account):
        if account == self.management:
            return self.sim.env["AWS_ACCESS_KEY_ID"], self.sim.env["AWS_SECRET_ACCESS_KEY"], None
        if account not in self.credentials:
            creds = self.client("sts").assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/{self.role}",
                RoleSessionName="services-test", ExternalId=self.external_id)["Credentials"]
            self.credentials[account] = (creds["AccessKeyId"], creds["SecretAccessKey"],
                                         creds["SessionToken"])
        return self.credentials[account]

    def client(self, service, account=None, region=None, config=NO_RETRY, fresh=False):
        account = account or self.management
        region = region or ("us-east-1" if service in ("iam", "organizations") else
                            self.sim.env["AWS_REGION"])
        key = (service, account, region, id(config))
        if not fresh and key in self.clients:
            return self.clients[key]
        access_key, secret, token = self._credentials(account)
        client = self.session.client(service, region_name=region, endpoint_url=self.sim.endpoint,
                                     verify=self.sim.ca, aws_access_key_id=access_key,
                                     aws_secret_access_key=secret, aws_session_token=token,
                                     config=config)
        if not fresh:
            self.clients[key] = client
        self.made.append(client)
        return client

    def close(self):
        for client in self.made:
            client.close()


CLI_BATCH = """
import contextlib, io, json, os, sys
from awscli.clidriver import create_clidriver
results = []
for command in json.load(sys.stdin):
    os.environ.update(command["env"])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = create_clidriver().main(command["args"])
    results.append({"status": status, "stdout": out.getvalue(), "stderr": err.getvalue()})
json.dump(results, sys.stdout)
"""


def awscli(sim, commands, workdir):
    """Runs Debian awscli commands against `sim` in one process (its start-up costs a second;
    the driver itself is quick). `commands`: (args, {env overrides}) pairs. Returns each
    command's (exit status, parsed JSON output or None, stderr)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": workdir, "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PAGER": "",
           "AWS_ACCESS_KEY_ID": sim.env["AWS_ACCESS_KEY_ID"],
           "AWS_SECRET_ACCESS_KEY": sim.env["AWS_SECRET_ACCESS_KEY"],
           "AWS_DEFAULT_REGION": sim.env["AWS_REGION"]}
    batch = [{"args": ["--endpoint-url", sim.endpoint, "--ca-bundle", sim.ca, "--output",
                       "json", *args], "env": extra} for args, extra in commands]
    # /usr/bin/aws is this same driver under Debian's python3.
    out = subprocess.run(["/usr/bin/python3", "-c", CLI_BATCH], input=json.dumps(batch),
                         env=env, capture_output=True, text=True, timeout=120, check=True)
    return [(r["status"], json.loads(r["stdout"]) if r["stdout"].strip() else None, r["stderr"])
            for r in json.loads(out.stdout)]


def load_scenario(path):
    return scenario_mod.build(scenario_mod.read(path), datetime.datetime.now(UTC),
                              load_services())


def pages(client, operation, key, **params):
    """Every item of a paginated list, plus the number of pages it took."""
    items, count = [], 0
    for page in client.get_paginator(operation).paginate(**params):
        items += page.get(key, [])
        count += 1
    return items, count


# ---------------------------------------------------------------------------------------

class DemoOrg(unittest.TestCase):
    """demo-org: four accounts with mixed results, page size 2 everywhere."""

    @classmethod
    def setUpClass(cls):
        cls.sim = Sim(os.path.join(SCENARIOS, "demo-org.json"))
        cls.org = Org(cls.sim, MGMT, DEMO_EXTERNAL_ID)

    @classmethod
    def tearDownClass(cls):
        cls.org.close()
        cls.sim.stop()

    def client(self, service, account=MGMT, region=None, config=NO_RETRY, fresh=False):
        return self.org.client(service, account, region, config, fresh)

    # --- CloudTrail ----------------------------------------------------------------------

    def test_cloudtrail_home_trails_and_shadows(self):
        trails = self.client("cloudtrail").describe_trails()["trailList"]
        by_name = {t["Name"]: t for t in trails}
        self.assertEqual(set(by_name), {"data-events", "org-trail"})
        self.assertEqual(by_name["org-trail"]["HomeRegion"], "us-east-1")
        self.assertTrue(by_name["org-trail"]["IsOrganizationTrail"])
        self.assertTrue(by_name["org-trail"]["LogFileValidationEnabled"])
        self.assertIn(":key/", by_name["org-trail"]["KmsKeyId"])
        self.assertTrue(by_name["data-events"]["HasCustomEventSelectors"])
        # A single-region trail is not seen from other regions.
        elsewhere = self.client("cloudtrail", region="us-east-1").describe_trails()["trailList"]
        self.assertEqual([t["Name"] for t in elsewhere], ["org-trail"])
        home_only = self.client("cloudtrail", region="us-east-1").describe_trails(
            includeShadowTrails=False)["trailList"]
        self.assertEqual([t["TrailARN"] for t in home_only], [ORG_TRAIL_ARN])

    def test_cloudtrail_org_trail_is_a_shadow_in_members(self):
        for account in (PROD, SANDBOX):
            for region in ("eu-west-1", "ap-south-1"):
                trails = self.client("cloudtrail", account, region).describe_trails()["trailList"]
                org = [t for t in trails if t["IsOrganizationTrail"]]
                self.assertEqual([t["TrailARN"] for t in org], [ORG_TRAIL_ARN], (account, region))
        # Production has no trail of its own: without shadows it sees nothing.
        own = self.client("cloudtrail", PROD).describe_trails(includeShadowTrails=False)
        self.assertEqual(own["trailList"], [])
        sandbox = self.client("cloudtrail", SANDBOX).describe_trails()["trailList"]
        self.assertEqual(sorted(t["Name"] for t in sandbox), ["org-trail", "sandbox-trail"])

    def test_cloudtrail_status_mixes_epochs_and_strings(self):
        client = self.client("cloudtrail", PROD, "us-east-1", fresh=True)
        wire = Wire(client)
        status = client.get_trail_status(Name=ORG_TRAIL_ARN)
        self.assertTrue(status["IsLogging"])
        self.assertIsInstance(status["LatestDeliveryTime"], datetime.datetime)
        self.assertIsInstance(status["LatestDigestDeliveryTime"], datetime.datetime)
        self.assertNotIn("LatestDeliveryError", status)
        raw = wire.json("GetTrailStatus")
        self.assertIsInstance(raw["LatestDeliveryTime"], (int, float))
        self.assertIsInstance(raw["StartLoggingTime"], (int, float))
        datetime.datetime.strptime(raw["LatestDeliveryAttemptTime"], "%Y-%m-%dT%H:%M:%SZ")
        datetime.datetime.strptime(raw["TimeLoggingStarted"], "%Y-%m-%dT%H:%M:%SZ")
        self.assertEqual(raw["TimeLoggingStopped"], "")
        self.assertEqual(raw["LatestNotificationAttemptTime"], "")

    def test_cloudtrail_status_of_a_shadow_needs_its_arn(self):
        client = self.client("cloudtrail", PROD, "us-east-1", fresh=True)
        wire = Wire(client)
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            client.get_trail_status(Name="org-trail")
        self.assertEqual(code_of(ctx), ("TrailNotFoundException", 400))
        self.assertEqual(wire.json("GetTrailStatus")["__type"],
                         "com.amazonaws.cloudtrail.v20131101#TrailNotFoundException")
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            client.get_trail_status(Name="arn:aws:cloudtrail:us-east-1:bad")
        self.assertEqual(code_of(ctx)[0], "CloudTrailARNInvalidException")
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            client.get_trail_status(Name="x!")
        self.assertEqual(code_of(ctx)[0], "InvalidTrailNameException")

    def test_cloudtrail_delivery_error_and_selectors(self):
        client = self.client("cloudtrail", SANDBOX)
        status = client.get_trail_status(Name="sandbox-trail")
        self.assertEqual(status["LatestDeliveryError"], "AccessDenied")
        self.assertNotIn("LatestDigestDeliveryTime", status)
        self.assertLess(status["LatestDeliveryTime"],
                        datetime.datetime.now(UTC) - datetime.timedelta(days=8))
        basic = client.get_event_selectors(TrailName=ORG_TRAIL_ARN)
        self.assertEqual(basic["TrailARN"], ORG_TRAIL_ARN)
        self.assertTrue(basic["EventSelectors"][0]["IncludeManagementEvents"])
        self.assertNotIn("AdvancedEventSelectors", basic)
        advanced = self.client("cloudtrail").get_event_selectors(TrailName="data-events")
        self.assertNotIn("EventSelectors", advanced)
        fields = advanced["AdvancedEventSelectors"][0]["FieldSelectors"]
        self.assertEqual(fields[0], {"Field": "eventCategory", "Equals": ["Data"]})

    def test_cloudtrail_public_keys(self):
        client = self.client("cloudtrail", region="us-east-1")
        self.assertEqual(client.list_public_keys()["PublicKeyList"], [])
        now = datetime.datetime.now(UTC)
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            client.list_public_keys(StartTime=now, EndTime=now - datetime.timedelta(days=1))
        self.assertEqual(code_of(ctx)[0], "InvalidTimeRangeException")

    # --- Config --------------------------------------------------------------------------

    def test_config_recorders_channels_and_upper_case_status(self):
        client = self.client("config", fresh=True)
        wire = Wire(client)
        recorders = client.describe_configuration_recorders()["ConfigurationRecorders"]
        self.assertEqual(len(recorders), 1)
        self.assertEqual(recorders[0]["name"], "default")
        self.assertTrue(recorders[0]["recordingGroup"]["allSupported"])
        self.assertIn("AWSServiceRoleForConfig", recorders[0]["roleARN"])
        status = client.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
        self.assertTrue(status[0]["recording"])
        self.assertEqual(status[0]["lastStatus"], "SUCCESS")
        raw = wire.json("DescribeConfigurationRecorderStatus")
        self.assertEqual(raw["ConfigurationRecordersStatus"][0]["lastStatus"], "SUCCESS")
        channels = client.describe_delivery_channels()["DeliveryChannels"]
        self.assertEqual(channels[0]["s3BucketName"], f"config-bucket-{MGMT}")
        failing = self.client("config", SANDBOX).describe_configuration_recorder_status()
        self.assertEqual(failing["ConfigurationRecordersStatus"][0]["lastStatus"], "FAILURE")
        self.assertEqual(failing["ConfigurationRecordersStatus"][0]["lastErrorCode"],
                         "NoSuchBucketException")

    def test_config_never_set_up_answers_empty_lists(self):
        for account, region in ((MGMT, "ap-southeast-2"), (SANDBOX, "us-east-1")):
            client = self.client("config", account, region)
            self.assertEqual(client.describe_configuration_recorders()["ConfigurationRecorders"],
                             [])
            self.assertEqual(client.describe_configuration_recorder_status()[
                "ConfigurationRecordersStatus"], [])
            self.assertEqual(client.describe_delivery_channels()["DeliveryChannels"], [])
            self.assertEqual(client.describe_config_rules()["ConfigRules"], [])
            self.assertEqual(client.describe_compliance_by_config_rule()[
                "ComplianceByConfigRules"], [])

    def test_config_rules_and_compliance_paginate_exactly_once(self):
        client = self.client("config", PROD)
        rules, count = pages(client, "describe_config_rules", "ConfigRules")
        names = [r["ConfigRuleName"] for r in rules]
        self.assertEqual(len(names), 7)
        self.assertEqual(len(set(names)), 7)
        self.assertEqual(count, 4)
        custom = next(r for r in rules if r["ConfigRuleName"] == "custom-tagging")
        self.assertEqual(custom["Source"]["Owner"], "CUSTOM_LAMBDA")
        compliance, _ = pages(client, "describe_compliance_by_config_rule",
                              "ComplianceByConfigRules")
        self.assertEqual(sorted(c["ConfigRuleName"] for c in compliance), sorted(names))
        bad = client.describe_compliance_by_config_rule(ComplianceTypes=["NON_COMPLIANT"])
        self.assertEqual([(c["ConfigRuleName"], c["Compliance"]["ComplianceContributorCount"])
                          for c in bad["ComplianceByConfigRules"]],
                         [("ec2-imdsv2-check", {"CappedCount": 1, "CapExceeded": False})])
        first = client.describe_config_rules()
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            client.describe_config_rules(NextToken=first["NextToken"][:-4] + "AAAA")
        self.assertEqual(code_of(ctx)[0], "InvalidNextTokenException")

    def test_config_unknown_names_are_errors(self):
        client = self.client("config")
        for call, kwargs, code in (
                (client.describe_configuration_recorders, {"ConfigurationRecorderNames": ["x"]},
                 "NoSuchConfigurationRecorderException"),
                (client.describe_delivery_channels, {"DeliveryChannelNames": ["x"]},
                 "NoSuchDeliveryChannelException"),
                (client.describe_config_rules, {"ConfigRuleNames": ["x"]},
                 "NoSuchConfigRuleException")):
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                call(**kwargs)
            self.assertEqual(code_of(ctx)[0], code)

    # --- EC2 -----------------------------------------------------------------------------

    def test_ec2_regions_and_opt_in_status(self):
        mgmt = self.client("ec2").describe_regions(AllRegions=True)["Regions"]
        status = {r["RegionName"]: r["OptInStatus"] for r in mgmt}
        self.assertEqual(len(status), len(scenario_mod.ALL_REGIONS))
        self.assertEqual(status["af-south-1"], "not-opted-in")
        self.assertEqual(status["eu-west-1"], "opt-in-not-required")
        prod = self.client("ec2", PROD).describe_regions(AllRegions=True)["Regions"]
        self.assertEqual({r["RegionName"]: r["OptInStatus"] for r in prod}["af-south-1"],
                         "opted-in")
        enabled = self.client("ec2").describe_regions()["Regions"]
        self.assertEqual(len(enabled), DEFAULT_REGION_COUNT)
        filtered = self.client("ec2", PROD).describe_regions(
            AllRegions=True, Filters=[{"Name": "opt-in-status", "Values": ["opted-in"]}])
        self.assertEqual([r["RegionName"] for r in filtered["Regions"]], ["af-south-1"])
        # A region the account never enabled answers like AWS: AuthFailure.
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.client("ec2", region="af-south-1").describe_vpcs()
        self.assertEqual(code_of(ctx), ("AuthFailure", 401))

    def test_ec2_account_attributes(self):
        classic = self.client("ec2", SANDBOX, "us-east-1").describe_account_attributes(
            AttributeNames=["supported-platforms"])["AccountAttributes"]
        self.assertEqual([v["AttributeValue"] for v in classic[0]["AttributeValues"]],
                         ["EC2", "VPC"])
        attrs = {a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]]
                 for a in self.client("ec2").describe_account_attributes()["AccountAttributes"]}
        self.assertEqual(attrs["supported-platforms"], ["VPC"])
        self.assertTrue(attrs["default-vpc"][0].startswith("vpc-"))
        vpcs = self.client("ec2").describe_vpcs(
            Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
        self.assertEqual([v["VpcId"] for v in vpcs], attrs["default-vpc"])

    def test_ec2_vpcs_and_subnets(self):
        client = self.client("ec2")
        vpcs, _ = pages(client, "describe_vpcs", "Vpcs", PaginationConfig={"PageSize": 5})
        self.assertEqual(sorted(v["CidrBlock"] for v in vpcs), ["10.10.0.0/16", "172.31.0.0/16"])
        subnets = client.describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": ["vpc-0a1b2c3d4e5f60718"]}])["Subnets"]
        self.assertEqual(sorted(s["SubnetId"] for s in subnets),
                         ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"])
        self.assertEqual(subnets[0]["AvailabilityZoneId"], "euw1-az1")
        every, count = pages(client, "describe_subnets", "Subnets",
                             PaginationConfig={"PageSize": 5})
        self.assertEqual(len(every), 5)
        self.assertEqual(len({s["SubnetId"] for s in every}), 5)
        self.assertEqual(count, 3)
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            client.describe_vpcs(VpcIds=["vpc-00000000000000000"])
        self.assertEqual(code_of(ctx)[0], "InvalidVpcID.NotFound")

    def test_ec2_instances_paginate_exactly_once(self):
        client = self.client("ec2", PROD)
        reservations, count = pages(client, "describe_instances", "Reservations",
                                    PaginationConfig={"PageSize": 5})
        instances = [i for r in reservations for i in r["Instances"]]
        self.assertEqual(sorted(i["InstanceId"] for i in instances),
                         [f"i-0b2c3d4e5f607000{n}" for n in range(1, 6)])
        self.assertEqual(count, 3)
        web = {r["ReservationId"] for r in reservations for i in r["Instances"]
               if i["InstanceId"] in ("i-0b2c3d4e5f6070001", "i-0b2c3d4e5f6070003")}
        self.assertEqual(web, {"r-0b2c3d4e5f6070001"})
        for inst in instances:
            self.assertEqual(inst["VpcId"], "vpc-0b2c3d4e5f6071829")
        running = client.describe_instances(
            Filters=[{"Name": "instance-state-name", "Values": ["running"]},
                     {"Name": "vpc-id", "Values": ["vpc-0b2c3d4e5f6071829"]}])
        self.assertEqual(len([i for r in running["Reservations"] for i in r["Instances"]]), 4)
        imds = [i["MetadataOptions"]["HttpTokens"] for i in instances]
        self.assertEqual(sorted(imds), ["optional"] + ["required"] * 4)

    def test_ec2_terminated_and_classic_instances_have_no_vpc(self):
        mine = self.client("ec2").describe_instances(
            InstanceIds=["i-0a1b2c3d4e5f60003"])["Reservations"][0]["Instances"][0]
        self.assertEqual(mine["State"], {"Code": 48, "Name": "terminated"})
        self.assertNotIn("VpcId", mine)
        self.assertNotIn("SubnetId", mine)
        classic = self.client("ec2", SANDBOX, "us-east-1").describe_instances()
        inst = classic["Reservations"][0]["Instances"][0]
        self.assertEqual(inst["State"]["Name"], "running")
        self.assertNotIn("VpcId", inst)
        opted = self.client("ec2", PROD, "af-south-1").describe_instances()
        self.assertTrue(opted["Reservations"][0]["Instances"][0]["VpcId"].startswith("vpc-"))

    def test_ec2_errors(self):
        client = self.client("ec2")
        for kwargs, code in (
                ({"MaxResults": 4}, "InvalidParameterValue"),
                ({"MaxResults": 1001}, "InvalidParameterValue"),
                ({"MaxResults": 5, "InstanceIds": ["i-0a1b2c3d4e5f60001"]},
                 "InvalidParameterCombination"),
                ({"InstanceIds": ["i-nothex"]}, "InvalidInstanceID.Malformed"),
                ({"InstanceIds": ["i-0fffffffffffffff0"]}, "InvalidInstanceID.NotFound"),
                ({"Filters": [{"Name": "no-such-filter", "Values": ["x"]}]},
                 "InvalidParameterValue")):
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                client.describe_instances(**kwargs)
            self.assertEqual(code_of(ctx), (code, 400), kwargs)
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            client.describe_instances(DryRun=True)
        self.assertEqual(code_of(ctx), ("DryRunOperation", 412))

    # --- RDS -----------------------------------------------------------------------------

    def test_rds_instances_pages_engines_and_vpcs(self):
        client = self.client("rds", PROD)
        dbs, count = pages(client, "describe_db_instances", "DBInstances",
                           PaginationConfig={"PageSize": 20})
        self.assertEqual(count, 2)
        engines = {d["DBInstanceIdentifier"]: d["Engine"] for d in dbs}
        self.assertEqual(engines, {"orders-db": "postgres", "catalog-aurora-1": "aurora-mysql",
                                   "graph-1": "neptune", "documents-1": "docdb"})
        for db in dbs:
            self.assertEqual(db["DBSubnetGroup"]["VpcId"], "vpc-0b2c3d4e5f6071829")
        self.assertEqual(next(d for d in dbs if d["Engine"] == "neptune")["DBClusterIdentifier"],
                         "graph")
        classic = self.client("rds", SANDBOX, "us-east-1").describe_db_instances()["DBInstances"]
        self.assertEqual(classic[0]["DBInstanceIdentifier"], "old-mysql")
        self.assertNotIn("DBSubnetGroup", classic[0])
        only = client.describe_db_instances(Filters=[{"Name": "engine", "Values": ["docdb"]}])
        self.assertEqual([d["DBInstanceIdentifier"] for d in only["DBInstances"]], ["documents-1"])

    def test_rds_errors(self):
        client = self.client("rds")
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            client.describe_db_instances(MaxRecords=5)
        self.assertEqual(code_of(ctx), ("InvalidParameterValue", 400))
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            client.describe_db_instances(DBInstanceIdentifier="nope")
        self.assertEqual(code_of(ctx), ("DBInstanceNotFound", 404))

    # --- ELB -----------------------------------------------------------------------------

    def test_elb_classic_with_and_without_vpc(self):
        classic = self.client("elb", SANDBOX, "us-east-1").describe_load_balancers()
        lb = classic["LoadBalancerDescriptions"][0]
        self.assertEqual(lb["LoadBalancerName"], "classic-lb")
        self.assertNotIn("VPCId", lb)
        self.assertEqual(lb["SourceSecurityGroup"]["GroupName"], "amazon-elb-sg")
        in_vpc = self.client("elb", PROD).describe_load_balancers()["LoadBalancerDescriptions"]
        self.assertEqual([(b["LoadBalancerName"], b["VPCId"]) for b in in_vpc],
                         [("legacy-web", "vpc-0b2c3d4e5f6071829")])
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.client("elb", PROD).describe_load_balancers(LoadBalancerNames=["nope"])
        self.assertEqual(code_of(ctx)[0], "LoadBalancerNotFound")

    def test_elbv2_load_balancers_in_vpcs(self):
        client = self.client("elbv2", PROD)
        lbs, _ = pages(client, "describe_load_balancers", "LoadBalancers",
                       PaginationConfig={"PageSize": 1})
        self.assertEqual(sorted((b["LoadBalancerName"], b["Type"]) for b in lbs),
                         [("tcp-ingest", "network"), ("web", "application")])
        for lb in lbs:
            self.assertEqual(lb["VpcId"], "vpc-0b2c3d4e5f6071829")
            self.assertIn(":loadbalancer/", lb["LoadBalancerArn"])
        self.assertEqual(self.client("elbv2", SANDBOX).describe_load_balancers()["LoadBalancers"],
                         [])

    # --- Lambda --------------------------------------------------------------------------

    def test_lambda_functions_page_and_vpc_config(self):
        client = self.client("lambda", PROD)
        functions, count = pages(client, "list_functions", "Functions")
        self.assertEqual(sorted(f["FunctionName"] for f in functions),
                         ["image-resize", "orders-api", "orders-worker"])
        self.assertEqual(count, 2)
        for fn in functions:
            self.assertEqual(fn["VpcConfig"]["VpcId"], "vpc-0b2c3d4e5f6071829")
        image = next(f for f in functions if f["PackageType"] == "Image")
        self.assertNotIn("Runtime", image)
        sandbox = self.client("lambda", SANDBOX, fresh=True)
        wire = Wire(sandbox)
        first = sandbox.list_functions(MaxItems=2)
        raw = wire.json("ListFunctions")
        self.assertEqual(raw["NextMarker"], first["NextMarker"])
        by_name = {f["FunctionName"]: f for f in raw["Functions"]}
        self.assertEqual(by_name["hello"]["VpcConfig"],
                         {"SubnetIds": [], "SecurityGroupIds": [], "VpcId": "",
                          "Ipv6AllowedForDualStack": False})
        self.assertNotIn("VpcConfig", by_name["cron-cleanup"])
        self.assertRegex(by_name["hello"]["LastModified"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
        rest = sandbox.list_functions(Marker=first["NextMarker"])
        self.assertEqual([f["FunctionName"] for f in rest["Functions"]], ["etl"])
        self.assertNotIn("NextMarker", rest)
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            sandbox.list_functions(Marker="not-a-marker")
        self.assertEqual(code_of(ctx), ("InvalidParameterValueException", 400))

    # --- S3 ------------------------------------------------------------------------------

    def s3(self, account=MGMT, region="eu-west-1", config=NO_RETRY, fresh=False):
        return self.client("s3", account, region, config, fresh)

    def test_s3_location_lifecycle_and_object_lock(self):
        s3 = self.s3()
        self.assertEqual(s3.get_bucket_location(Bucket=EVIDENCE_BUCKET)["LocationConstraint"],
                         "eu-west-1")
        self.assertIsNone(s3.get_bucket_location(Bucket=ORG_BUCKET)["LocationConstraint"])
        lock = s3.get_object_lock_configuration(Bucket=EVIDENCE_BUCKET)["ObjectLockConfiguration"]
        self.assertEqual(lock, {"ObjectLockEnabled": "Enabled",
                                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 7}}})
        east = self.s3(region="us-east-1")
        rules = east.get_bucket_lifecycle_configuration(Bucket=ORG_BUCKET)["Rules"]
        self.assertEqual(rules[0]["Expiration"], {"Days": 2555})
        self.assertEqual(rules[0]["Transitions"], [{"Days": 90, "StorageClass": "GLACIER"}])
        self.assertEqual(rules[0]["NoncurrentVersionExpiration"], {"NoncurrentDays": 30})
        days = east.get_object_lock_configuration(Bucket=ORG_BUCKET)["ObjectLockConfiguration"]
        self.assertEqual(days["Rule"]["DefaultRetention"], {"Mode": "COMPLIANCE", "Days": 400})
        sandbox = self.s3(SANDBOX)
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            sandbox.get_object_lock_configuration(Bucket=f"sandbox-trail-{SANDBOX}")
        self.assertEqual(code_of(ctx), ("ObjectLockConfigurationNotFoundError", 404))

    def test_s3_list_objects_pages_exactly_once(self):
        s3 = self.s3(region="us-east-1")
        objects, count = pages(s3, "list_objects_v2", "Contents", Bucket=ORG_BUCKET)
        keys = [o["Key"] for o in objects]
        self.assertEqual(len(keys), 8)
        self.assertEqual(len(set(keys)), 8)
        self.assertEqual(keys, sorted(keys))
        self.assertEqual(count, 4)
        prefix = "o-a1b2c3d4e5/AWSLogs/o-a1b2c3d4e5/"
        folders = s3.list_objects_v2(Bucket=ORG_BUCKET, Prefix=prefix, Delimiter="/")
        self.assertEqual([p["Prefix"] for p in folders["CommonPrefixes"]],
                         [prefix + MGMT + "/", prefix + PROD + "/"])
        self.assertEqual(folders["KeyCount"], 2)
        self.assertNotIn("Contents", folders)
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            s3.list_objects_v2(Bucket=ORG_BUCKET, ContinuationToken="bogus")
        self.assertEqual(code_of(ctx)[0], "InvalidArgument")

    def test_s3_get_seeded_object_and_missing_ones(self):
        s3 = self.s3(region="us-east-1")
        key = s3.list_objects_v2(Bucket=ORG_BUCKET, MaxKeys=1)["Contents"][0]["Key"]
        obj = s3.get_object(Bucket=ORG_BUCKET, Key=key)
        self.assertEqual(len(obj["Body"].read()), 2048)
        self.assertEqual(obj["ObjectLockMode"], "COMPLIANCE")
        self.assertEqual(obj["ServerSideEncryption"], "aws:kms")
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            s3.get_object(Bucket=ORG_BUCKET, Key="missing")
        self.assertEqual(code_of(ctx), ("NoSuchKey", 404))
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            s3.get_object(Bucket="no-such-bucket-anywhere", Key="k")
        self.assertEqual(code_of(ctx), ("NoSuchBucket", 404))
        # The sandbox's bucket does not let the management account in.
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.s3().get_bucket_lifecycle_configuration(Bucket=f"sandbox-trail-{SANDBOX}")
        self.assertEqual(code_of(ctx), ("AccessDenied", 403))

    def _without_md5(self, client):
        def strip(request, **_):
            if "Content-MD5" in request.headers:
                del request.headers["Content-MD5"]
        client.meta.events.register("before-sign.s3.PutObject", strip)
        return client

    def test_s3_put_with_object_lock_needs_an_integrity_header(self):
        s3 = self._without_md5(self.s3(fresh=True))
        until = datetime.datetime.now(UTC) + datetime.timedelta(days=30)
        for kwargs in ({}, {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": until}):
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                s3.put_object(Bucket=EVIDENCE_BUCKET, Key="no-digest", Body=b"hello", **kwargs)
            self.assertEqual(code_of(ctx), ("InvalidRequest", 400))
            self.assertEqual(ctx.exception.response["Error"]["Message"],
                             "Content-MD5 OR x-amz-checksum- HTTP header is required for Put "
                             "Object requests with Object Lock parameters")
        # x-amz-content-sha256 alone does not count as an integrity header.
        signed = self._without_md5(self.s3(config=Config(
            s3={"payload_signing_enabled": True}, retries={"total_max_attempts": 1}), fresh=True))
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            signed.put_object(Bucket=EVIDENCE_BUCKET, Key="no-digest", Body=b"hello")
        self.assertEqual(code_of(ctx), ("InvalidRequest", 400))
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.s3().get_object(Bucket=EVIDENCE_BUCKET, Key="no-digest")
        self.assertEqual(code_of(ctx), ("NoSuchKey", 404))

    def test_s3_put_checksums_checked(self):
        s3 = self.s3()
        body = b"evidence manifest"
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
        ok = s3.put_object(Bucket=EVIDENCE_BUCKET, Key="sums/md5", Body=body, ContentMD5=md5)
        self.assertEqual(ok["ETag"], f'"{hashlib.md5(body).hexdigest()}"')
        self.assertTrue(ok["VersionId"])
        ok = s3.put_object(Bucket=EVIDENCE_BUCKET, Key="sums/sha", Body=body,
                           ChecksumSHA256=sha)
        self.assertEqual(ok["ChecksumSHA256"], sha)
        # botocore sends these as aws-chunked bodies with the checksum in a trailer.
        crc = s3.put_object(Bucket=EVIDENCE_BUCKET, Key="sums/crc32", Body=body,
                            ChecksumAlgorithm="CRC32")
        self.assertEqual(crc["ChecksumCRC32"],
                         base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode())
        self.assertIn("ChecksumCRC32C", s3.put_object(Bucket=EVIDENCE_BUCKET, Key="sums/crc32c",
                                                      Body=body, ChecksumAlgorithm="CRC32C"))
        wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        wrong_sha = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
        for kwargs, code, message in (
                ({"ContentMD5": wrong_md5}, "BadDigest",
                 "The Content-MD5 you specified did not match what we received."),
                ({"ContentMD5": "bm90LW1kNQ=="}, "InvalidDigest",
                 "The Content-MD5 you specified was invalid."),
                ({"ChecksumSHA256": wrong_sha}, "BadDigest",
                 "The SHA256 you specified did not match the calculated checksum."),
                ({"ChecksumSHA256": "c2hvcnQ="}, "InvalidRequest",
                 "Value for x-amz-checksum-sha256 header is invalid.")):
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                s3.put_object(Bucket=EVIDENCE_BUCKET, Key="sums/bad", Body=body, **kwargs)
            self.assertEqual(code_of(ctx), (code, 400), kwargs)
            self.assertEqual(ctx.exception.response["Error"]["Message"], message)
        listed = s3.list_objects_v2(Bucket=EVIDENCE_BUCKET, Prefix="sums/")["Contents"]
        self.assertNotIn("sums/bad", [o["Key"] for o in listed])

    def test_s3_put_object_lock_headers(self):
        s3 = self.s3()
        body = b"{}"
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        now = datetime.datetime.now(UTC).replace(microsecond=0)
        until = now + datetime.timedelta(days=3650)
        put = s3.put_object(Bucket=EVIDENCE_BUCKET, Key="lock/explicit", Body=body,
                            ContentMD5=md5, ObjectLockMode="GOVERNANCE",
                            ObjectLockRetainUntilDate=until)
        got = s3.get_object(Bucket=EVIDENCE_BUCKET, Key="lock/explicit")
        self.assertEqual(got["VersionId"], put["VersionId"])
        self.assertEqual(got["ObjectLockMode"], "GOVERNANCE")
        self.assertEqual(got["ObjectLockRetainUntilDate"], until)
        s3.put_object(Bucket=EVIDENCE_BUCKET, Key="lock/default", Body=body, ContentMD5=md5)
        default = s3.get_object(Bucket=EVIDENCE_BUCKET, Key="lock/default")
        self.assertEqual(default["ObjectLockMode"], "COMPLIANCE")
        self.assertGreater(default["ObjectLockRetainUntilDate"],
                           now + datetime.timedelta(days=7 * 365 - 1))
        for kwargs, code in (({"ObjectLockMode": "COMPLIANCE"}, "InvalidArgument"),
                             ({"ObjectLockMode": "COMPLIANCE",
                               "ObjectLockRetainUntilDate": now - datetime.timedelta(days=1)},
                              "InvalidArgument")):
            with self.assertRaises(botocore.exceptions.ClientError) as ctx:
                s3.put_object(Bucket=EVIDENCE_BUCKET, Key="lock/bad", Body=body, ContentMD5=md5,
                              **kwargs)
            self.assertEqual(code_of(ctx), (code, 400))
        sandbox = self.s3(SANDBOX)
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            sandbox.put_object(Bucket=f"sandbox-trail-{SANDBOX}", Key="k", Body=body,
                               ContentMD5=md5, ObjectLockMode="COMPLIANCE",
                               ObjectLockRetainUntilDate=until)
        self.assertEqual(code_of(ctx), ("InvalidRequest", 400))
        self.assertEqual(ctx.exception.response["Error"]["Message"],
                         "Bucket is missing ObjectLockConfiguration")
        # Without Object Lock, no integrity header is needed.
        self._without_md5(self.s3(SANDBOX, fresh=True)).put_object(Bucket=f"sandbox-trail-{SANDBOX}", Key="k",
                                              Body=body)

    def test_s3_content_sha256_checked_unless_unsigned(self):
        body = b"hello"
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()

        def tamper(request, **_):
            request.body = b"HELLO"

        signed = self.s3(config=Config(s3={"payload_signing_enabled": True},
                                       retries={"total_max_attempts": 1}), fresh=True)
        signed.meta.events.register("before-send.s3.PutObject", tamper)
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            signed.put_object(Bucket=EVIDENCE_BUCKET, Key="tampered", Body=body, ContentMD5=md5)
        self.assertEqual(code_of(ctx), ("XAmzContentSHA256Mismatch", 400))
        # UNSIGNED-PAYLOAD (botocore's default over HTTPS): the body is judged by Content-MD5.
        unsigned = self.s3(fresh=True)
        unsigned.meta.events.register("before-send.s3.PutObject", tamper)
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            unsigned.put_object(Bucket=EVIDENCE_BUCKET, Key="tampered", Body=body,
                                ContentMD5=md5)
        self.assertEqual(code_of(ctx), ("BadDigest", 400))
        hashed = self.s3(config=Config(s3={"payload_signing_enabled": True},
                                       retries={"total_max_attempts": 1}), fresh=True)
        self.assertIn("VersionId", hashed.put_object(Bucket=EVIDENCE_BUCKET, Key="hashed",
                                                     Body=body, ContentMD5=md5))

    def test_s3_compliance_versions_survive(self):
        s3 = self.s3()
        body1, body2 = b"first", b"second"
        v1 = s3.put_object(Bucket=EVIDENCE_BUCKET, Key="worm", Body=body1,
                           ContentMD5=base64.b64encode(hashlib.md5(body1).digest()).decode())
        v2 = s3.put_object(Bucket=EVIDENCE_BUCKET, Key="worm", Body=body2,
                           ContentMD5=base64.b64encode(hashlib.md5(body2).digest()).decode())
        self.assertNotEqual(v1["VersionId"], v2["VersionId"])
        self.assertEqual(s3.get_object(Bucket=EVIDENCE_BUCKET, Key="worm")["Body"].read(), body2)
        old = s3.get_object(Bucket=EVIDENCE_BUCKET, Key="worm", VersionId=v1["VersionId"])
        self.assertEqual(old["Body"].read(), body1)
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            s3.delete_object(Bucket=EVIDENCE_BUCKET, Key="worm", VersionId=v1["VersionId"])
        self.assertEqual(code_of(ctx), ("AccessDenied", 403))
        marker = s3.delete_object(Bucket=EVIDENCE_BUCKET, Key="worm")
        self.assertTrue(marker["DeleteMarker"])
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            s3.get_object(Bucket=EVIDENCE_BUCKET, Key="worm")
        self.assertEqual(code_of(ctx), ("NoSuchKey", 404))
        kept = s3.get_object(Bucket=EVIDENCE_BUCKET, Key="worm", VersionId=v2["VersionId"])
        self.assertEqual(kept["Body"].read(), body2)

    def test_s3_wrong_region_is_redirected(self):
        def lock_calls(line):
            return line["action"] == "GetObjectLockConfiguration"

        before = len([r for r in self.sim.requests() if lock_calls(r)])
        # Signed for us-east-1: 301 PermanentRedirect; for eu-central-1: 400
        # AuthorizationHeaderMalformed; both carry x-amz-bucket-region, so botocore re-signs.
        for region in ("us-east-1", "eu-central-1"):
            lock = self.s3(region=region).get_object_lock_configuration(Bucket=EVIDENCE_BUCKET)
            self.assertEqual(lock["ObjectLockConfiguration"]["ObjectLockEnabled"], "Enabled")
        lines = self.sim.wait_requests(lock_calls, before + 4)[before:]
        self.assertEqual([(r["region"], r["status"]) for r in lines],
                         [("us-east-1", 301), ("eu-west-1", 200),
                          ("eu-central-1", 400), ("eu-west-1", 200)])

    # --- the Debian awscli -------------------------------------------------------------

    def test_awscli_calls_every_action(self):
        body = os.path.join(self.sim.dir, "cli-body")
        with open(body, "wb") as handle:
            handle.write(b"cli evidence")
        md5 = base64.b64encode(hashlib.md5(b"cli evidence").digest()).decode()
        until = (datetime.datetime.now(UTC) + datetime.timedelta(days=30)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        east = {"AWS_DEFAULT_REGION": "us-east-1"}
        west = {"AWS_DEFAULT_REGION": "eu-west-1"}
        commands = [
            (["cloudtrail", "describe-trails"], west),
            (["cloudtrail", "get-trail-status", "--name", ORG_TRAIL_ARN], east),
            (["cloudtrail", "get-event-selectors", "--trail-name", "data-events"], west),
            (["cloudtrail", "list-public-keys"], east),
            (["configservice", "describe-configuration-recorders"], west),
            (["configservice", "describe-configuration-recorder-status"], west),
            (["configservice", "describe-delivery-channels"], west),
            (["configservice", "describe-config-rules"], west),
            (["configservice", "describe-compliance-by-config-rule"], west),
            (["ec2", "describe-regions", "--all-regions"], west),
            (["ec2", "describe-account-attributes"], west),
            (["ec2", "describe-vpcs"], west),
            (["ec2", "describe-subnets"], west),
            (["ec2", "describe-instances"], west),
            (["rds", "describe-db-instances"], west),
            (["elb", "describe-load-balancers"], west),
            (["elbv2", "describe-load-balancers"], west),
            (["lambda", "list-functions"], west),
            (["s3api", "get-bucket-location", "--bucket", EVIDENCE_BUCKET], west),
            (["s3api", "get-bucket-lifecycle-configuration", "--bucket", ORG_BUCKET], east),
            (["s3api", "get-object-lock-configuration", "--bucket", EVIDENCE_BUCKET], west),
            (["s3api", "list-objects-v2", "--bucket", ORG_BUCKET], east),
            (["s3api", "put-object", "--bucket", EVIDENCE_BUCKET, "--key", "cli/object", "--body",
              body, "--content-md5", md5, "--object-lock-mode", "COMPLIANCE",
              "--object-lock-retain-until-date", until], west),
            (["s3api", "get-object", "--bucket", EVIDENCE_BUCKET, "--key", "cli/object",
              os.path.join(self.sim.dir, "cli-out")], west),
            (["s3api", "delete-object", "--bucket", EVIDENCE_BUCKET, "--key", "cli/object"], west),
        ]
        results = awscli(self.sim, commands, self.sim.dir)
        for (args, _), (status, _, stderr) in zip(commands, results):
            self.assertEqual(status, 0, f"{args[:2]}: {stderr}")
        out = {tuple(args[:2]): doc for (args, _), (_, doc, _) in zip(commands, results)}
        self.assertIn(ORG_TRAIL_ARN, [t["TrailARN"] for t in out["cloudtrail",
                                                                  "describe-trails"]["trailList"]])
        self.assertTrue(out["cloudtrail", "get-trail-status"]["IsLogging"])
        self.assertEqual(out["configservice", "describe-configuration-recorder-status"][
            "ConfigurationRecordersStatus"][0]["lastStatus"], "SUCCESS")
        # The CLI follows the NextToken pages by itself: every rule once.
        self.assertEqual(len(out["configservice", "describe-config-rules"]["ConfigRules"]), 5)
        self.assertEqual(len(out["ec2", "describe-regions"]["Regions"]),
                         len(scenario_mod.ALL_REGIONS))
        self.assertEqual(sum(len(r["Instances"])
                             for r in out["ec2", "describe-instances"]["Reservations"]), 3)
        self.assertEqual([d["DBInstanceIdentifier"]
                          for d in out["rds", "describe-db-instances"]["DBInstances"]],
                         ["inventory-db"])
        self.assertEqual(out["elb", "describe-load-balancers"]["LoadBalancerDescriptions"], [])
        self.assertEqual([b["LoadBalancerName"]
                          for b in out["elbv2", "describe-load-balancers"]["LoadBalancers"]],
                         ["internal-tools"])
        self.assertEqual(sorted(f["FunctionName"]
                                for f in out["lambda", "list-functions"]["Functions"]),
                         ["evidence-shipper", "slack-notifier"])
        self.assertEqual(out["s3api", "get-bucket-location"]["LocationConstraint"], "eu-west-1")
        self.assertEqual(out["s3api", "get-bucket-lifecycle-configuration"]["Rules"][0][
            "Expiration"]["Days"], 2555)
        self.assertEqual(len(out["s3api", "list-objects-v2"]["Contents"]), 8)
        self.assertTrue(out["s3api", "put-object"]["VersionId"])
        self.assertEqual(out["s3api", "get-object"]["ObjectLockMode"], "COMPLIANCE")
        with open(os.path.join(self.sim.dir, "cli-out"), "rb") as handle:
            self.assertEqual(handle.read(), b"cli evidence")
        self.assertTrue(out["s3api", "delete-object"]["DeleteMarker"])


class SingleAccount(unittest.TestCase):
    """single-account: no organization, GOVERNANCE retention, Lambda's own throttling."""

    @classmethod
    def setUpClass(cls):
        cls.sim = Sim(os.path.join(SCENARIOS, "single-account.json"))
        cls.org = Org(cls.sim, "111122223333", None)

    @classmethod
    def tearDownClass(cls):
        cls.org.close()
        cls.sim.stop()

    def test_trail_without_organization(self):
        client = self.org.client("cloudtrail", region="ap-south-1")
        trails = client.describe_trails()["trailList"]
        self.assertEqual([(t["Name"], t["IsOrganizationTrail"]) for t in trails],
                         [("management-events", False)])
        selectors = self.org.client("cloudtrail").get_event_selectors(
            TrailName="management-events")["EventSelectors"]
        self.assertEqual(selectors[0]["ExcludeManagementEventSources"], ["kms.amazonaws.com"])
        legacy = self.org.client("config").describe_configuration_recorders()
        self.assertNotIn("recordingMode", legacy["ConfigurationRecorders"][0])

    def test_public_keys(self):
        client = self.org.client("cloudtrail")
        keys = client.list_public_keys()["PublicKeyList"]
        self.assertEqual(len(keys), 1)
        der = keys[0]["Value"]
        self.assertEqual(der[:1], b"\x30")       # a DER SEQUENCE: SubjectPublicKeyInfo
        self.assertEqual(keys[0]["Fingerprint"], hashlib.md5(der).hexdigest())
        self.assertLess(keys[0]["ValidityStartTime"], datetime.datetime.now(UTC))
        past = datetime.datetime.now(UTC) - datetime.timedelta(days=400)
        self.assertEqual(client.list_public_keys(
            StartTime=past, EndTime=past + datetime.timedelta(days=1))["PublicKeyList"], [])
        self.assertEqual(self.org.client("cloudtrail", region="us-east-1").list_public_keys()[
            "PublicKeyList"], [])

    def test_governance_versions_need_the_bypass(self):
        s3 = self.org.client("s3")
        bucket = "standalone-trail-111122223333"
        body = b"log"
        put = s3.put_object(Bucket=bucket, Key="gov", Body=body,
                            ContentMD5=base64.b64encode(hashlib.md5(body).digest()).decode())
        self.assertEqual(s3.get_object(Bucket=bucket, Key="gov")["ObjectLockMode"], "GOVERNANCE")
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            s3.delete_object(Bucket=bucket, Key="gov", VersionId=put["VersionId"])
        self.assertEqual(code_of(ctx), ("AccessDenied", 403))
        s3.delete_object(Bucket=bucket, Key="gov", VersionId=put["VersionId"],
                         BypassGovernanceRetention=True)
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            s3.get_object(Bucket=bucket, Key="gov", VersionId=put["VersionId"])
        self.assertEqual(code_of(ctx), ("NoSuchVersion", 404))

    def test_lambda_throttles_with_429_and_retry_after(self):
        client = self.org.client("lambda", fresh=True)
        wire = {}
        client.meta.events.register(
            "after-call", lambda http_response, **_: wire.update(headers=http_response.headers))
        throttled = None
        for _ in range(60):
            try:
                client.list_functions()
            except botocore.exceptions.ClientError as exc:
                throttled = exc
                break
        self.assertIsNotNone(throttled, "60 calls in a row were never throttled")
        self.assertEqual((throttled.response["Error"]["Code"],
                          throttled.response["ResponseMetadata"]["HTTPStatusCode"]),
                         ("TooManyRequestsException", 429))
        self.assertEqual(wire["headers"]["Retry-After"], "1")


class CompliantOrg(unittest.TestCase):
    """compliant-org: what every control needs to pass, seen through the APIs."""

    ACCOUNTS = ("310000000001", "310000000002", "310000000003")

    @classmethod
    def setUpClass(cls):
        cls.sim = Sim(os.path.join(SCENARIOS, "compliant-org.json"))
        cls.org = Org(cls.sim, cls.ACCOUNTS[0], "evident-compliant-51c2")
        cls.regions = [r["RegionName"] for r in
                       cls.org.client("ec2").describe_regions()["Regions"]]

    @classmethod
    def tearDownClass(cls):
        cls.org.close()
        cls.sim.stop()

    def test_every_account_is_covered_by_the_org_trail(self):
        for account in self.ACCOUNTS:
            client = self.org.client("cloudtrail", account, "us-east-1")
            trails = [t for t in client.describe_trails()["trailList"] if t["IsMultiRegionTrail"]]
            self.assertEqual(len(trails), 1, account)
            trail = trails[0]
            self.assertTrue(trail["LogFileValidationEnabled"])
            self.assertIn("KmsKeyId", trail)
            status = client.get_trail_status(Name=trail["TrailARN"])
            self.assertTrue(status["IsLogging"])
            self.assertFalse(status.get("LatestDeliveryError"))
            selectors = client.get_event_selectors(TrailName=trail["TrailARN"])
            self.assertTrue(selectors["EventSelectors"][0]["IncludeManagementEvents"])

    def test_config_records_everywhere_and_rules_comply(self):
        self.assertEqual(len(self.regions), DEFAULT_REGION_COUNT)
        for account in self.ACCOUNTS:
            for region in self.regions:
                client = self.org.client("config", account, region)
                status = client.describe_configuration_recorder_status()[
                    "ConfigurationRecordersStatus"]
                self.assertEqual([(s["recording"], s["lastStatus"]) for s in status],
                                 [(True, "SUCCESS")], (account, region))
                self.assertEqual(len(client.describe_delivery_channels()["DeliveryChannels"]),
                                 1)
            rules, _ = pages(client, "describe_compliance_by_config_rule",
                             "ComplianceByConfigRules")
            self.assertTrue(rules)
            self.assertEqual({r["Compliance"]["ComplianceType"] for r in rules}, {"COMPLIANT"})

    def test_everything_is_in_a_vpc(self):
        for account in self.ACCOUNTS:
            for region in ("eu-west-1", "us-east-1"):
                ec2 = self.org.client("ec2", account, region)
                platforms = ec2.describe_account_attributes(
                    AttributeNames=["supported-platforms"])["AccountAttributes"]
                self.assertEqual(platforms[0]["AttributeValues"], [{"AttributeValue": "VPC"}])
                for res in ec2.describe_instances()["Reservations"]:
                    for inst in res["Instances"]:
                        self.assertIn("VpcId", inst)
                for db in self.org.client("rds", account, region).describe_db_instances()[
                        "DBInstances"]:
                    self.assertTrue(db["DBSubnetGroup"]["VpcId"])
                for lb in self.org.client("elb", account, region).describe_load_balancers()[
                        "LoadBalancerDescriptions"]:
                    self.assertTrue(lb["VPCId"])
                for fn in self.org.client("lambda", account, region).list_functions()[
                        "Functions"]:
                    self.assertTrue(fn["VpcConfig"]["VpcId"])
        work = self.org.client("lambda", self.ACCOUNTS[2])
        self.assertEqual(len(work.list_functions()["Functions"]), 3)

    def test_log_bucket_keeps_a_year_at_least(self):
        bucket = "compliant-org-trail-logs-310000000002"
        s3 = self.org.client("s3", self.ACCOUNTS[2], "us-east-1")
        lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
        self.assertGreaterEqual(lock["Rule"]["DefaultRetention"]["Days"], 365)
        self.assertEqual(lock["Rule"]["DefaultRetention"]["Mode"], "COMPLIANCE")
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        self.assertGreaterEqual(min(r["Expiration"]["Days"] for r in rules), 365)

    def test_root_and_users(self):
        for account in self.ACCOUNTS:
            summary = self.org.client("iam", account, "us-east-1").get_account_summary()[
                "SummaryMap"]
            self.assertEqual((summary["AccountMFAEnabled"], summary["AccountAccessKeysPresent"]),
                             (1, 0), account)


class BrokenOrg(unittest.TestCase):
    """broken-org: each account breaks its one control, as its _comment says."""

    A = {n: f"21000000000{n}" for n in range(1, 9)}

    @classmethod
    def setUpClass(cls):
        cls.sim = Sim(os.path.join(SCENARIOS, "broken-org.json"))
        cls.org = Org(cls.sim, cls.A[1], "evident-broken-9a3e")

    @classmethod
    def tearDownClass(cls):
        cls.org.close()
        cls.sim.stop()

    def client(self, service, n, region="eu-west-1"):
        return self.org.client(service, self.A[n], region)

    def test_only_management_has_a_root_key_only_norootmfa_lacks_mfa(self):
        for n in self.A:
            summary = self.client("iam", n, "us-east-1").get_account_summary()["SummaryMap"]
            self.assertEqual(summary["AccountAccessKeysPresent"], 1 if n == 1 else 0, n)
            self.assertEqual(summary["AccountMFAEnabled"], 0 if n == 2 else 1, n)

    def test_classic_network_fails_once_per_region(self):
        ec2 = self.client("ec2", 3, "us-east-1")
        values = ec2.describe_account_attributes(AttributeNames=["supported-platforms"])[
            "AccountAttributes"][0]["AttributeValues"]
        self.assertIn({"AttributeValue": "EC2"}, values)
        inst = ec2.describe_instances()["Reservations"][0]["Instances"][0]
        self.assertNotIn("VpcId", inst)
        lb = self.client("elb", 3).describe_load_balancers()["LoadBalancerDescriptions"][0]
        self.assertNotIn("VPCId", lb)
        db = self.client("rds", 3, "eu-central-1").describe_db_instances()["DBInstances"][0]
        self.assertNotIn("DBSubnetGroup", db)
        fn = self.client("lambda", 3, "us-west-2").list_functions()["Functions"][0]
        self.assertEqual(fn["VpcConfig"]["VpcId"], "")
        fn = self.client("lambda", 3, "ap-northeast-1").list_functions()["Functions"][0]
        self.assertNotIn("VpcConfig", fn)
        # Other accounts keep everything in VPCs.
        other = self.client("ec2", 1, "us-east-1").describe_account_attributes(
            AttributeNames=["supported-platforms"])["AccountAttributes"][0]["AttributeValues"]
        self.assertEqual(other, [{"AttributeValue": "VPC"}])

    def test_trails_everywhere_but_trailgaps(self):
        for n in self.A:
            client = self.client("cloudtrail", n, "us-east-1")
            multi = [t for t in client.describe_trails()["trailList"] if t["IsMultiRegionTrail"]]
            self.assertEqual(len(multi), 0 if n == 6 else 1, n)
        gaps = {}
        for region in ("us-east-1", "eu-west-1", "us-west-2"):
            client = self.client("cloudtrail", 6, region)
            trail = client.describe_trails()["trailList"][0]
            gaps[region] = (trail, client.get_trail_status(Name=trail["Name"]))
        self.assertFalse(gaps["us-east-1"][0]["LogFileValidationEnabled"])
        self.assertEqual(gaps["eu-west-1"][1]["LatestDeliveryError"], "NoSuchBucket")
        self.assertFalse(gaps["us-west-2"][1]["IsLogging"])
        self.assertTrue(gaps["us-west-2"][1]["StopLoggingTime"])

    def test_short_retention_bucket(self):
        trail = self.client("cloudtrail", 4, "us-east-1").describe_trails()["trailList"][0]
        s3 = self.client("s3", 4, "us-east-1")
        rules = s3.get_bucket_lifecycle_configuration(Bucket=trail["S3BucketName"])["Rules"]
        self.assertEqual(rules[0]["Expiration"], {"Days": 30})
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            s3.get_object_lock_configuration(Bucket=trail["S3BucketName"])
        self.assertEqual(code_of(ctx)[0], "ObjectLockConfigurationNotFoundError")
        central = self.client("cloudtrail", 5, "us-east-1").describe_trails()["trailList"][0]
        lock = self.client("s3", 5, "us-east-1").get_object_lock_configuration(
            Bucket=central["S3BucketName"])
        self.assertEqual(lock["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Days"], 400)

    def test_config_gaps_one_per_region(self):
        def region(name):
            client = self.client("config", 5, name)
            return (client.describe_configuration_recorder_status()["ConfigurationRecordersStatus"],
                    client.describe_delivery_channels()["DeliveryChannels"],
                    pages(client, "describe_compliance_by_config_rule",
                          "ComplianceByConfigRules")[0])
        self.assertEqual(region("us-east-1")[0], [])
        self.assertFalse(region("eu-west-1")[0][0]["recording"])
        self.assertEqual(region("eu-central-1")[0][0]["lastStatus"], "FAILURE")
        self.assertEqual(region("ap-south-1")[1], [])
        west = region("us-west-2")[2]
        capped = [c["Compliance"]["ComplianceContributorCount"] for c in west
                  if c["Compliance"]["ComplianceType"] == "NON_COMPLIANT"]
        self.assertIn({"CappedCount": 100, "CapExceeded": True}, capped)
        self.assertEqual(region("ca-central-1")[2], [])
        healthy = region("eu-north-1")
        self.assertTrue(healthy[0][0]["recording"] and healthy[1] and healthy[2])

    def test_keys_and_privileges(self):
        iam = self.client("iam", 7, "us-east-1")
        old = iam.list_access_keys(UserName="legacy-ci")["AccessKeyMetadata"][0]
        self.assertLess(old["CreateDate"],
                        datetime.datetime.now(UTC) - datetime.timedelta(days=365))
        unused = iam.list_access_keys(UserName="unused-key")["AccessKeyMetadata"][0]
        self.assertNotIn("LastUsedDate", iam.get_access_key_last_used(
            AccessKeyId=unused["AccessKeyId"])["AccessKeyLastUsed"])
        iam = self.client("iam", 8, "us-east-1")
        self.assertEqual(iam.list_mfa_devices(UserName="console-no-mfa")["MFADevices"], [])
        users, roles = [], []
        for page in iam.get_paginator("get_account_authorization_details").paginate(
                Filter=["User", "Role"]):
            users += page["UserDetailList"]
            roles += page["RoleDetailList"]
        admins = {u["UserName"] for u in users
                  if any(p["PolicyName"] == "AdministratorAccess"
                         for p in u.get("AttachedManagedPolicies", []))}
        admins |= {r["RoleName"] for r in roles
                   if any(p["PolicyName"] == "AdministratorAccess"
                          for p in r.get("AttachedManagedPolicies", []))}
        self.assertEqual(admins, {"direct-admin", "break-glass"})


class _Running:
    """What Org needs of a simulator started by hand."""

    def __init__(self, endpoint, ca, env):
        self.endpoint = endpoint
        self.ca = ca
        self.env = env


class ScenariosAndGenerator(unittest.TestCase):

    def test_every_scenario_file_loads(self):
        files = sorted(glob.glob(os.path.join(SCENARIOS, "*.json")))
        names = {os.path.basename(f) for f in files}
        self.assertTrue({"demo-org.json", "compliant-org.json", "broken-org.json",
                         "single-account.json"} <= names)
        for path in files:
            scenario = load_scenario(path)
            self.assertTrue(scenario.accounts, path)

    def test_validators_refuse_bad_sections(self):
        with open(os.path.join(SCENARIOS, "single-account.json"), encoding="utf-8") as handle:
            raw = json.load(handle)
        services = raw["accounts"][0]["services"]
        services["cloudtrail"]["trails"][0]["advanced_event_selectors"] = [{"Name": "x"}]
        services["config"]["all_regions"]["recorder"]["last_status"] = "BROKEN"
        services["ec2"]["regions"]["eu-west-1"]["instances"][0]["subnet"] = "subnet-0000000f"
        services["ec2"]["regions"]["eu-west-1"]["instances"][1]["subnet"] = None
        services["rds"]["regions"]["eu-west-1"]["instances"][0]["engine"] = "db2"
        services["elb"]["regions"]["eu-west-1"]["v2"][0]["vpc"] = None
        services["lambda"]["regions"]["eu-west-1"]["functions"][0]["vpc"] = "nope"
        services["s3"]["buckets"][0]["object_lock"] = {"mode": "FOREVER"}
        with self.assertRaises(scenario_mod.ScenarioError) as ctx:
            scenario_mod.build(raw, datetime.datetime.now(UTC), load_services())
        problems = "\n".join(ctx.exception.problems)
        for fragment in ("advanced_event_selectors, not both", "last_status: one of",
                         "no subnet subnet-0000000f", "needs supported_platforms with EC2",
                         "engine: one of", "v2[0].vpc", "functions[0].vpc",
                         "object_lock.mode"):
            self.assertIn(fragment, problems)

    def generate(self, out, *args):
        subprocess.run([sys.executable, GENERATE, *args, "--out", out], check=True,
                       capture_output=True, timeout=120)
        with open(out, "rb") as handle:
            return handle.read()

    def test_generator_is_deterministic(self):
        with tempfile.TemporaryDirectory() as tmp:
            args = ("--accounts", "12", "--regions", "5", "--users", "4")
            one = self.generate(os.path.join(tmp, "a.json"), *args, "--seed", "3")
            two = self.generate(os.path.join(tmp, "b.json"), *args, "--seed", "3")
            other = self.generate(os.path.join(tmp, "c.json"), *args, "--seed", "4")
        self.assertEqual(hashlib.sha256(one).digest(), hashlib.sha256(two).digest())
        self.assertNotEqual(one, other)

    def test_generated_organization_is_served(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "gen.json")
            doc = json.loads(self.generate(path, "--accounts", "30", "--regions", "4",
                                           "--users", "5", "--seed", "11", "--page-size", "3"))
            sim = Sim(path)
        org = Org(sim, doc["organization"]["management_account"], "evident-bench")
        try:
            self.assertEqual(len(doc["accounts"]), 30)
            member = doc["accounts"][2]
            for region in member["enabled_regions"]:
                expected = member["services"]["ec2"]["regions"].get(region, {}).get(
                    "instances", [])
                reservations, _ = pages(org.client("ec2", member["id"], region),
                                        "describe_instances", "Reservations",
                                        PaginationConfig={"PageSize": 5})
                got = sorted(i["InstanceId"] for r in reservations for i in r["Instances"])
                self.assertEqual(got, sorted(i["id"] for i in expected), region)
                functions, _ = pages(org.client("lambda", member["id"], region),
                                     "list_functions", "Functions")
                wanted = member["services"].get("lambda", {}).get("regions", {}).get(
                    region, {}).get("functions", [])
                self.assertEqual(len(functions), len(wanted))
            regions = org.client("ec2", member["id"]).describe_regions()["Regions"]
            self.assertEqual(len(regions), 4)
            trails = org.client("cloudtrail", member["id"], "eu-west-1").describe_trails()
            self.assertIn("org-trail", [t["Name"] for t in trails["trailList"]])
        finally:
            org.close()
            sim.stop()

    def test_large_generated_organization_loads_in_the_simulator(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "large.json")
            started = time.monotonic()
            self.generate(path, "--accounts", "1000", "--regions", "17", "--users", "25",
                          "--seed", "1")
            generated = time.monotonic() - started
            state = os.path.join(tmp, "state")
            proc = subprocess.Popen([sys.executable, SIMULATOR, "--scenario", path,
                                     "--state-dir", state], stderr=subprocess.PIPE, text=True)
            try:
                started = time.monotonic()
                while not os.path.exists(os.path.join(state, "ready")):
                    self.assertIsNone(proc.poll(), "the simulator exited")
                    self.assertLess(time.monotonic() - started, 60, "not ready after 60 s")
                    time.sleep(0.05)
                loaded = time.monotonic() - started
                print(f"\nlarge organization: generated in {generated:.1f}s, simulator ready "
                      f"in {loaded:.1f}s", file=sys.stderr)
                with open(os.path.join(state, "endpoint"), encoding="utf-8") as handle:
                    endpoint = handle.read().strip()
                sim = _Running(endpoint, os.path.join(state, "ca.pem"),
                               {"AWS_ACCESS_KEY_ID": "AKIABENCHEVIDENT0001",
                                "AWS_SECRET_ACCESS_KEY": "bEnChMaRkSiMuLaToRsEcReTkEyFoReViDeNt01",
                                "AWS_REGION": "us-east-1"})
                org = Org(sim, "500000000001", "evident-bench")
                first = org.client("organizations").list_accounts()
                self.assertEqual(len(first["Accounts"]), 20)
                self.assertIn("NextToken", first)
                last = org.client("ec2", "500000001000").describe_regions()["Regions"]
                self.assertEqual(len(last), 17)
                org.close()
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.communicate(timeout=20)


if __name__ == "__main__":
    runner = unittest.TextTestRunner(verbosity=2 if "-v" in sys.argv else 1)
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    started = time.monotonic()
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"services suite took {time.monotonic() - started:.1f}s")
    print(f"{passed} passed, {failed} failed, {len(result.skipped)} skipped")
    sys.exit(0 if result.wasSuccessful() else 1)
