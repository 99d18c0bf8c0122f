"""Elastic Load Balancing: DescribeLoadBalancers, classic (2012-06-01) and v2 (2015-12-01).

Both APIs share the signing name `elasticloadbalancing` and are told apart by `Version`, so
this module defines two services, `SERVICE` (classic) and `SERVICE_V2`; `SERVICES` lists both.
A classic load balancer without `VPCId` is an EC2-Classic one (`vpc: null`); v2 load
balancers always sit in a VPC. Both page with Marker / NextMarker and PageSize 1-400.
Scenario schema: `scenarios/README.md`, section ELB.
"""

import hashlib
import re

from sim.services import ApiError, Service
from sim.services.ec2 import default_subnet_ids, default_vpc_id

# ELB's documented default for Describe* calls is a shared per-account bucket; these rates
# are the commonly observed ones.
SERVICE = Service(model="elb", regional=True, signing_name="elasticloadbalancing",
                  rates={"DescribeLoadBalancers": (10.0, 40.0)})
SERVICE_V2 = Service(model="elbv2", regional=True, signing_name="elasticloadbalancing",
                     rates={"DescribeLoadBalancers": (10.0, 40.0)})
SERVICES = (SERVICE, SERVICE_V2)

_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
_TYPES = {"application": "app", "network": "net", "gateway": "gwy"}
_CLASSIC_KEYS = {"name", "vpc", "subnets", "azs", "scheme", "created", "instances",
                 "listeners", "security_groups", "_comment"}
_V2_KEYS = {"name", "type", "vpc", "subnets", "scheme", "state", "created", "security_groups",
            "_comment"}


def _hash(*parts, length=10):
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _section(call):
    return call.account_data("elb").get("regions", {}).get(call.region) or {}


def _network(call, lb):
    """(vpc id or None, subnet ids) with `default` resolved to the region's default VPC."""
    vpc = lb.get("vpc")
    subnets = lb.get("subnets")
    if vpc == "default":
        vpc = default_vpc_id(call.account_id, call.region)
        subnets = subnets or default_subnet_ids(call.account_id, call.region)[:2]
    if vpc and not subnets:
        subnets = ["subnet-" + _hash(call.account_id, call.region, vpc, n, length=17)
                   for n in ("a", "b")]
    return vpc, subnets or []


def _zones(call, subnets):
    return [call.region + "abc"[n % 3] for n in range(len(subnets))]


def _hosted_zone(region):
    return "Z" + _hash("elb", region, length=13).upper()


def _page_size(call):
    size = call.params.get("PageSize")
    if size is not None and not 1 <= size <= 400:
        raise ApiError("ValidationError", f"1 validation error detected: Value '{size}' at "
                       "'pageSize' failed to satisfy constraint: Member must have value less "
                       "than or equal to 400", 400)


def _classic_zones(call, lb, vpc, subnets):
    if lb.get("azs"):
        return [call.region + z if len(z) == 1 else z for z in lb["azs"]]
    return _zones(call, subnets) if vpc else [call.region + "a", call.region + "b"]


def _classic(call, lb):
    name = lb["name"]
    vpc, subnets = _network(call, lb)
    internal = lb.get("scheme", "internet-facing") == "internal"
    dns = f"{'internal-' if internal else ''}{name}-{int(_hash(call.account_id, name), 16) % 10**10}" \
          f".{call.region}.elb.amazonaws.com"
    listeners = lb.get("listeners") or [{"protocol": "HTTP", "port": 80, "instance_port": 80}]
    out = {
        "LoadBalancerName": name,
        "DNSName": dns,
        "CanonicalHostedZoneName": None if internal else dns,
        "CanonicalHostedZoneNameID": _hosted_zone(call.region),
        "ListenerDescriptions": [{
            "Listener": {"Protocol": ls.get("protocol", "HTTP"),
                         "LoadBalancerPort": ls.get("port", 80),
                         "InstanceProtocol": ls.get("instance_protocol",
                                                    ls.get("protocol", "HTTP")),
                         "InstancePort": ls.get("instance_port", ls.get("port", 80))},
            "PolicyNames": []} for ls in listeners],
        "Policies": {"AppCookieStickinessPolicies": [], "LBCookieStickinessPolicies": [],
                     "OtherPolicies": []},
        "BackendServerDescriptions": [],
        "AvailabilityZones": _classic_zones(call, lb, vpc, subnets),
        "Subnets": subnets if vpc else [],
        "VPCId": vpc,
        "Instances": [{"InstanceId": i} for i in lb.get("instances", [])],
        "HealthCheck": {"Target": f"HTTP:{listeners[0].get('instance_port', 80)}/",
                        "Interval": 30, "Timeout": 5, "UnhealthyThreshold": 2,
                        "HealthyThreshold": 10},
        "CreatedTime": lb.get("created"),
        "Scheme": lb.get("scheme", "internet-facing"),
    }
    if vpc:
        groups = lb.get("security_groups") or ["sg-" + _hash(call.account_id, call.region, vpc,
                                                             length=17)]
        out["SecurityGroups"] = groups
        out["SourceSecurityGroup"] = {"OwnerAlias": call.account_id, "GroupName": "default"}
    else:
        # EC2-Classic load balancers use the shared amazon-elb group and no VPC groups.
        out["SecurityGroups"] = []
        out["SourceSecurityGroup"] = {"OwnerAlias": "amazon-elb", "GroupName": "amazon-elb-sg"}
    return out


@SERVICE.action("DescribeLoadBalancers")
def describe_classic(call):
    _page_size(call)
    lbs = [_classic(call, lb) for lb in _section(call).get("classic", [])]
    names = call.params.get("LoadBalancerNames")
    if names:
        known = {lb["LoadBalancerName"] for lb in lbs}
        for name in names:
            if name not in known:
                raise ApiError("LoadBalancerNotFound",
                               f"There is no ACTIVE Load Balancer named '{name}'", 400)
        lbs = [lb for lb in lbs if lb["LoadBalancerName"] in names]
    page, marker = call.paginate(lbs, token="Marker", limit="PageSize", default=400)
    return {"LoadBalancerDescriptions": page, "NextMarker": marker}


def _v2(call, lb):
    name = lb["name"]
    kind = lb.get("type", "application")
    vpc, subnets = _network(call, lb)
    suffix = _hash(call.account_id, call.region, name, length=16)
    digits = int(suffix[:8], 16) % 10**10
    if kind == "application":
        dns = f"{name}-{digits}.{call.region}.elb.amazonaws.com"
    else:
        dns = f"{name}-{suffix}.elb.{call.region}.amazonaws.com"
    if lb.get("scheme") == "internal" and kind == "application":
        dns = "internal-" + dns
    out = {
        "LoadBalancerArn": f"arn:aws:elasticloadbalancing:{call.region}:{call.account_id}:"
                           f"loadbalancer/{_TYPES[kind]}/{name}/{suffix}",
        "DNSName": dns if kind != "gateway" else None,
        "CanonicalHostedZoneId": _hosted_zone(call.region) if kind != "gateway" else None,
        "CreatedTime": lb.get("created"),
        "LoadBalancerName": name,
        "Scheme": lb.get("scheme", "internet-facing") if kind != "gateway" else None,
        "VpcId": vpc,
        "State": {"Code": lb.get("state", "active")},
        "Type": kind,
        "AvailabilityZones": [{"ZoneName": z, "SubnetId": s, "LoadBalancerAddresses": []}
                              for z, s in zip(_zones(call, subnets), subnets)],
        "IpAddressType": "ipv4",
    }
    if kind == "application":
        out["SecurityGroups"] = lb.get("security_groups") or [
            "sg-" + _hash(call.account_id, call.region, name, length=17)]
    return out


@SERVICE_V2.action("DescribeLoadBalancers")
def describe_v2(call):
    _page_size(call)
    lbs = [_v2(call, lb) for lb in _section(call).get("v2", [])]
    arns = call.params.get("LoadBalancerArns")
    names = call.params.get("Names")
    if arns or names:
        wanted = set(arns or []) | set(names or [])
        found = [lb for lb in lbs if lb["LoadBalancerArn"] in wanted or
                 lb["LoadBalancerName"] in wanted]
        if len(found) != len(wanted):
            raise ApiError("LoadBalancerNotFound", "One or more load balancers not found", 400)
        lbs = found
    page, marker = call.paginate(lbs, token="Marker", limit="PageSize", default=400)
    return {"LoadBalancers": page, "NextMarker": marker}


@SERVICE.validator
def validate(section, path):
    from sim.scenario import ALL_REGIONS
    if not isinstance(section, dict):
        return [f"{path}: an object"]
    problems = []
    for key in set(section) - {"regions", "_comment"}:
        problems.append(f"{path}.{key}: unknown key")
    for region, data in (section.get("regions") or {}).items():
        where = f"{path}.regions.{region}"
        if region not in ALL_REGIONS:
            problems.append(f"{where}: unknown region")
        data = data or {}
        for key in set(data) - {"classic", "v2", "_comment"}:
            problems.append(f"{where}.{key}: unknown key")
        for flavour, allowed in (("classic", _CLASSIC_KEYS), ("v2", _V2_KEYS)):
            seen = set()
            for i, lb in enumerate(data.get(flavour, [])):
                lwhere = f"{where}.{flavour}[{i}]"
                for key in set(lb) - allowed:
                    problems.append(f"{lwhere}.{key}: unknown key")
                name = lb.get("name")
                if not isinstance(name, str) or not _NAME.match(name):
                    problems.append(f"{lwhere}.name: 1-32 letters, digits or '-'")
                elif name in seen:
                    problems.append(f"{lwhere}.name: duplicate {name}")
                seen.add(name)
                vpc = lb.get("vpc", "missing")
                if vpc == "missing" or (vpc is None and flavour == "v2") or \
                        vpc not in (None, "default") and \
                        not re.fullmatch(r"vpc-[0-9a-f]{8,17}", str(vpc)):
                    problems.append(f"{lwhere}.vpc: a VPC id or \"default\""
                                    + (" or null (EC2-Classic)" if flavour == "classic" else ""))
                if flavour == "v2" and lb.get("type", "application") not in _TYPES:
                    problems.append(f"{lwhere}.type: one of {', '.join(_TYPES)}")
    return problems
