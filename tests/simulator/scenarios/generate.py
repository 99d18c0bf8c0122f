#!/usr/bin/python3
"""Generates a large organization scenario for benchmarks.

usage: /usr/bin/python3 generate.py --accounts N --regions R --users U [--seed S]
                                    [--page-size P] --out FILE

The first account is the management account (organization trail, the caller `evident`
with the access key printed at the end); the second holds the central log bucket. Every
account has the role `evident-audit` (trusted from `evident`, ExternalId `evident-bench`),
U IAM users of mixed kinds, Config in its regions, and per region the default VPC plus, in
the regions it is active in, its own VPC with instances, databases, load balancers and
functions. About one account in twenty breaks one control (root MFA off, a root key, an
instance outside a VPC, Config stopped in a region, an old unused key, a console user
without MFA), so verdicts are mixed. Only the first R regions are enabled (default regions
first, then opt-in ones). Dates are relative, so the file never goes stale; the same seed
always writes the same file.
"""

import argparse
import json
import random
import sys

DEFAULT_REGIONS = (
    "us-east-1", "eu-west-1", "us-west-2", "eu-central-1", "ap-southeast-2", "us-east-2",
    "ap-northeast-1", "eu-west-2", "ca-central-1", "ap-south-1", "sa-east-1", "us-west-1",
    "eu-west-3", "eu-north-1", "ap-southeast-1", "ap-northeast-2", "ap-northeast-3",
)
OPT_IN_REGIONS = (
    "af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ca-west-1",
    "eu-south-1", "eu-south-2", "eu-central-2", "il-central-1", "me-south-1", "me-central-1",
)
EXTERNAL_ID = "evident-bench"
CALLER_KEY = "AKIABENCHEVIDENT0001"
CALLER_SECRET = "bEnChMaRkSiMuLaToRsEcReTkEyFoReViDeNt01"
RULES = (
    ("root-account-mfa-enabled", "ROOT_ACCOUNT_MFA_ENABLED"),
    ("multi-region-cloudtrail-enabled", "MULTI_REGION_CLOUD_TRAIL_ENABLED"),
    ("iam-user-mfa-enabled", "IAM_USER_MFA_ENABLED"),
    ("access-keys-rotated", "ACCESS_KEYS_ROTATED"),
    ("lambda-inside-vpc", "LAMBDA_INSIDE_VPC"),
    ("ec2-instances-in-vpc", "INSTANCES_IN_VPC"),
)
INSTANCE_TYPES = ("t3.micro", "t3.small", "t3.medium", "m6i.large", "m6i.xlarge", "c6i.large",
                  "r6i.large", "m7g.medium")
ENGINES = ("postgres", "postgres", "mysql", "aurora-postgresql", "aurora-mysql", "mariadb",
           "docdb", "neptune")
RUNTIMES = ("python3.12", "python3.11", "nodejs20.x", "nodejs18.x", "java21", "provided.al2023")
# Which control an account breaks, when it breaks one (one in twenty accounts).
BREAKS = ("root_mfa", "root_key", "classic", "config_stopped", "stale_key", "console_no_mfa",
          "lambda_outside_vpc")


class Ids:
    """Unique, well-formed resource ids from a counter (hex digits where AWS uses hex)."""

    def __init__(self):
        self.n = 0

    def hex(self, prefix, digits=17):
        self.n += 1
        return f"{prefix}-{self.n:0{digits}x}"

    def key(self):
        self.n += 1
        return f"AKIA{self.n:016X}"


def account_id(index):
    return f"{500000000000 + index:012d}"


def _days(rng, low, high):
    return f"-{rng.randint(low, high)}d"


def _root(rng, ids, broken):
    root = {"created": _days(rng, 900, 3000)}
    if broken == "root_mfa":
        root["mfa"] = "none"
    else:
        root["mfa"] = rng.choice(("virtual", "virtual", "hardware", "u2f"))
        root["mfa_enabled_date"] = _days(rng, 100, 800)
    if rng.random() < 0.7:
        root["password"] = {"last_used": _days(rng, 120, 900)}
    if broken == "root_key":
        root["access_keys"] = [{"id": ids.key(), "status": "Active", "created": _days(rng, 400, 900),
                                "last_used": {"date": _days(rng, 1, 5), "region": "us-east-1",
                                              "service": "s3"}}]
    return root


def _users(rng, ids, count, broken):
    users = []
    for n in range(count):
        kind = rng.random()
        user = {"name": f"user-{n:03d}", "created": _days(rng, 30, 1500)}
        if kind < 0.45:
            # A person: console password and MFA, sometimes a key too.
            user["password"] = {"last_used": _days(rng, 0, 60), "last_changed": _days(rng, 10, 300)}
            user["mfa_devices"] = [{"type": rng.choice(("virtual", "virtual", "u2f")),
                                    "name": f"user-{n:03d}-mfa", "enabled": _days(rng, 5, 900)}]
            if rng.random() < 0.3:
                user["access_keys"] = [_key(rng, ids, young=True)]
        elif kind < 0.9:
            # A workload identity: one or two keys, no console.
            user["access_keys"] = [_key(rng, ids, young=rng.random() < 0.85)]
            if rng.random() < 0.15:
                user["access_keys"].append(_key(rng, ids, young=True, status="Inactive"))
        else:
            user["groups"] = ["readers"]
        users.append(user)
    if users and broken == "stale_key":
        users[0]["access_keys"] = [{"id": ids.key(), "status": "Active",
                                    "created": _days(rng, 400, 700)}]
    if users and broken == "console_no_mfa":
        users[-1]["password"] = {"last_used": _days(rng, 0, 10), "last_changed": "-200d"}
        users[-1].pop("mfa_devices", None)
    return users


def _key(rng, ids, young, status="Active"):
    key = {"id": ids.key(), "status": status,
           "created": _days(rng, 1, 80) if young else _days(rng, 100, 600)}
    if rng.random() < 0.9:
        key["last_used"] = {"date": _days(rng, 0, 20), "region": rng.choice(DEFAULT_REGIONS[:4]),
                            "service": rng.choice(("s3", "sts", "ec2", "lambda", "dynamodb"))}
    return key


def _config(rng, regions, broken):
    rules = [{"name": name, "source": source,
              "compliance": "COMPLIANT" if rng.random() < 0.85 else "NON_COMPLIANT"}
             for name, source in RULES[:rng.randint(3, len(RULES))]]
    for rule in rules:
        if rule["compliance"] == "NON_COMPLIANT":
            rule["non_compliant_count"] = rng.randint(1, 150)
    section = {"all_regions": {
        "recorder": {"name": "default", "last_start_time": _days(rng, 100, 900)},
        "delivery_channel": {"s3_bucket": "config-bucket-{account}"},
        "rules": rules}}
    if broken == "config_stopped":
        region = rng.choice(regions)
        section["regions"] = {region: {
            "recorder": {"name": "default", "recording": False, "last_start_time": "-500d",
                         "last_stop_time": _days(rng, 2, 60)},
            "delivery_channel": {"s3_bucket": "config-bucket-{account}"}, "rules": rules}}
    return section


def _region_resources(rng, ids, region, active, broken_here):
    """EC2, RDS, ELB and Lambda for one account-region (the default VPC is implicit)."""
    ec2, rds, elb, lam = {}, [], {}, []
    if active:
        vpc = ids.hex("vpc")
        subnets = [ids.hex("subnet") for _ in range(rng.randint(2, 3))]
        net = rng.randint(0, 255)
        ec2["vpcs"] = [{"id": vpc, "cidr": f"10.{net}.0.0/16", "name": "main"}]
        ec2["subnets"] = [{"id": s, "vpc": vpc, "cidr": f"10.{net}.{16 * n}.0/20", "az": "abc"[n]}
                          for n, s in enumerate(subnets)]
        instances = []
        for n in range(rng.randint(2, 8)):
            state = rng.choices(("running", "stopped", "terminated"), (0.8, 0.15, 0.05))[0]
            instances.append({"id": ids.hex("i"), "type": rng.choice(INSTANCE_TYPES),
                              "subnet": rng.choice(subnets), "state": state,
                              "launch_time": _days(rng, 1, 700)})
        ec2["instances"] = instances
        for n in range(rng.choices((0, 1, 2), (0.5, 0.35, 0.15))[0]):
            engine = rng.choice(ENGINES)
            db = {"id": f"db-{n}-{ids.hex('x', 6)[2:]}", "engine": engine, "vpc": vpc,
                  "subnets": subnets[:2], "created": _days(rng, 30, 1200)}
            if engine in ("aurora-postgresql", "aurora-mysql", "docdb", "neptune"):
                db["cluster"] = db["id"] + "-cluster"
            rds.append(db)
        if rng.random() < 0.4:
            elb["v2"] = [{"name": f"lb-{ids.hex('x', 6)[2:]}",
                          "type": rng.choice(("application", "application", "network")),
                          "vpc": vpc, "subnets": subnets[:2], "created": _days(rng, 30, 900)}]
        for n in range(rng.randint(1, 5)):
            lam.append({"name": f"fn-{n}-{ids.hex('x', 6)[2:]}", "runtime": rng.choice(RUNTIMES),
                        "vpc": vpc, "subnets": subnets[:1], "modified_date": _days(rng, 0, 400)})
    elif rng.random() < 0.25:
        # A quiet region: one instance in the default VPC.
        ec2["instances"] = [{"id": ids.hex("i"), "type": "t3.micro",
                             "subnet": f"default-{rng.choice('abc')}",
                             "launch_time": _days(rng, 1, 300)}]
    if broken_here == "classic":
        ec2["supported_platforms"] = ["EC2", "VPC"]
        ec2.setdefault("instances", []).append({"id": ids.hex("i"), "type": "m1.small",
                                                "subnet": None, "launch_time": "-2500d"})
    if broken_here == "lambda_outside_vpc":
        lam.append({"name": f"outside-{ids.hex('x', 6)[2:]}", "runtime": "python3.9",
                    "vpc": None, "modified_date": _days(rng, 50, 400)})
    return ec2, rds, elb, lam


def build(accounts, regions, users, seed, page_size=None):
    rng = random.Random(seed)
    ids = Ids()
    region_list = (DEFAULT_REGIONS + OPT_IN_REGIONS)[:regions]
    mgmt = account_id(1)
    logs_owner = account_id(2) if accounts > 1 else mgmt
    logs_bucket = f"bench-org-trail-logs-{logs_owner}"
    out_accounts = []
    for index in range(1, accounts + 1):
        aid = account_id(index)
        broken = rng.choice(BREAKS) if index > 2 and rng.random() < 0.05 else None
        primary = rng.choice(region_list[:min(4, len(region_list))])
        active = {primary} | {r for r in region_list if rng.random() < 0.08}
        account = {"id": aid, "name": f"account-{index:05d}",
                   "joined": _days(rng, 30, 2000),
                   "root": _root(rng, ids, broken),
                   "users": _users(rng, ids, users, broken),
                   "groups": [{"name": "readers", "created": "-1000d",
                               "attached_policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}],
                   "roles": [{"name": "evident-audit", "created": "-300d",
                              "max_session_duration": 3600,
                              "trust": {"principals": [f"arn:aws:iam::{mgmt}:user/evident"],
                                        "external_id": EXTERNAL_ID},
                              "attached_policies": ["arn:aws:iam::aws:policy/SecurityAudit"]}]}
        if regions < len(DEFAULT_REGIONS):
            account["enabled_regions"] = list(region_list)
        elif regions > len(DEFAULT_REGIONS):
            account["opted_in_regions"] = list(region_list[len(DEFAULT_REGIONS):])
        if broken:
            account["_comment"] = f"breaks one control: {broken}"
        services = {"config": _config(rng, region_list, broken)}
        broken_region = rng.choice(sorted(active)) if broken in (
            "classic", "lambda_outside_vpc") else None
        ec2_regions, rds_regions, elb_regions, lambda_regions = {}, {}, {}, {}
        for region in region_list:
            ec2, rds, elb, lam = _region_resources(
                rng, ids, region, region in active, broken if region == broken_region else None)
            if ec2:
                ec2_regions[region] = ec2
            if rds:
                rds_regions[region] = {"instances": rds}
            if elb:
                elb_regions[region] = elb
            if lam:
                lambda_regions[region] = {"functions": lam}
        services["ec2"] = {"regions": ec2_regions}
        if rds_regions:
            services["rds"] = {"regions": rds_regions}
        if elb_regions:
            services["elb"] = {"regions": elb_regions}
        if lambda_regions:
            services["lambda"] = {"regions": lambda_regions}
        if index == 1:
            account["name"] = "management"
            account["users"].append({
                "name": "evident", "created": "-60d",
                "access_keys": [{"id": CALLER_KEY, "secret": CALLER_SECRET, "status": "Active",
                                 "created": "-20d",
                                 "last_used": {"date": "-1h", "region": "us-east-1",
                                               "service": "sts"}}],
                "attached_policies": ["arn:aws:iam::aws:policy/SecurityAudit"]})
            services["cloudtrail"] = {"trails": [{
                "name": "org-trail", "home_region": region_list[0], "multi_region": True,
                "organization": True, "s3_bucket": logs_bucket, "s3_key_prefix": "o-bench00000001",
                "log_file_validation": True, "created": "-1500d",
                "kms_key_id": f"arn:aws:kms:{region_list[0]}:{logs_owner}:key/"
                              "11111111-2222-4333-8444-555555555555"}]}
        elif rng.random() < 0.1:
            services["cloudtrail"] = {"trails": [{
                "name": "local-trail", "home_region": primary, "s3_bucket": logs_bucket,
                "s3_key_prefix": aid, "created": _days(rng, 30, 900)}]}
        if aid == logs_owner:
            services["s3"] = {"buckets": [{
                "name": logs_bucket, "region": region_list[0], "created": "-1500d",
                "object_lock": {"mode": "COMPLIANCE", "days": 400}, "allow_accounts": ["*"],
                "lifecycle": [{"id": "expire", "expiration_days": 2555}]}]}
        account["services"] = services
        out_accounts.append(account)
    doc = {
        "description": f"Generated: {accounts} accounts x {regions} regions x {users} users, "
                       f"seed {seed} (scenarios/generate.py).",
        "default_region": region_list[0],
        "default_caller": CALLER_KEY,
        "organization": {"id": "o-bench00000001", "management_account": mgmt},
        "accounts": out_accounts,
    }
    if page_size:
        doc["page_size"] = page_size
    return doc


def main(argv=None):
    parser = argparse.ArgumentParser(description="Generate a large organization scenario.")
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--regions", type=int, default=len(DEFAULT_REGIONS))
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--page-size", type=int, default=None)
    parser.add_argument("--out", required=True, help="output file, - for stdout")
    args = parser.parse_args(argv)
    limit = len(DEFAULT_REGIONS) + len(OPT_IN_REGIONS)
    if args.accounts < 1 or not 1 <= args.regions <= limit or args.users < 0:
        parser.error(f"need --accounts >= 1, 1 <= --regions <= {limit}, --users >= 0")
    doc = build(args.accounts, args.regions, args.users, args.seed, args.page_size)
    text = json.dumps(doc, separators=(",", ":"))
    if args.out == "-":
        sys.stdout.write(text + "\n")
    else:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    print(f"generate.py: {args.accounts} accounts, caller {CALLER_KEY}, external id "
          f"{EXTERNAL_ID}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
