"""EC2: DescribeRegions, DescribeAccountAttributes, DescribeVpcs, DescribeSubnets,
DescribeInstances.

Per region, an account has the VPCs, subnets and instances its scenario section lists, plus
(unless switched off) the default VPC every region comes with: 172.31.0.0/16 with one default
subnet per availability zone, referred to as `default` and `default-a`, `default-b`, ... An
instance with `subnet: null` that is not terminated sits outside any VPC (EC2-Classic; only
accounts whose `supported_platforms` include `EC2` can have one). Terminated instances lose
their VPC and subnet, as AWS shows them for the hour they stay visible.
Scenario schema: `scenarios/README.md`, section EC2.
"""

import fnmatch
import hashlib
import ipaddress
import re

from sim import scenario as scenario_mod
from sim.services import ApiError, Service

SERVICE = Service(
    model="ec2",
    regional=True,
    # EC2's published request-rate bucket for non-mutating (Describe*) actions.
    rates={"*": (20.0, 100.0)},
)

STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48,
               "stopping": 64, "stopped": 80}
_DEFAULT_AZS = ("a", "b", "c")
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
_COMPASS = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c",
            "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}
_REGION_KEYS = {"supported_platforms", "default_vpc", "vpcs", "subnets", "instances", "_comment"}
_VPC_KEYS = {"id", "cidr", "name", "owner", "state", "is_default", "tenancy", "tags", "_comment"}
_SUBNET_KEYS = {"id", "vpc", "cidr", "az", "default_for_az", "public_ip", "name",
                "available_ips", "tags", "_comment"}
_INSTANCE_KEYS = {"id", "type", "state", "subnet", "image", "launch_time", "reservation",
                  "name", "private_ip", "public_ip", "platform", "imds", "security_groups",
                  "tags", "key_name", "profile", "_comment"}


def resource_id(prefix, *parts):
    """A deterministic 17-hex-digit EC2-style id (`vpc-…`, `subnet-…`) for a scenario entity."""
    return f"{prefix}-" + hashlib.sha256("/".join(parts).encode()).hexdigest()[:17]


def default_vpc_id(account_id, region):
    """The id of the default VPC a region comes with (unless the scenario names another)."""
    return resource_id("vpc", account_id, region, "default")


def default_subnet_ids(account_id, region):
    return [resource_id("subnet", account_id, region, "default", a) for a in _DEFAULT_AZS]


def az_id(region, letter):
    parts = region.split("-")
    short = parts[0] + _COMPASS.get(parts[1], parts[1][:1]) + parts[2]
    return f"{short}-az{ord(letter) - ord('a') + 1}"


def _dry_run(call):
    if call.params.get("DryRun"):
        raise ApiError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.",
                       412)


def _invalid(message):
    return ApiError("InvalidParameterValue", message, 400)


def _tags(entity):
    tags = [{"Key": k, "Value": v} for k, v in (entity.get("tags") or {}).items()]
    if entity.get("name"):
        tags.insert(0, {"Key": "Name", "Value": entity["name"]})
    return tags


class _RegionView:
    """One account's EC2 resources in one region, with ids resolved and defaults filled in."""

    def __init__(self, account, region):
        section = account.services.get("ec2", {})
        data = section.get("regions", {}).get(region) or {}
        self.account = account
        self.region = region
        self.platforms = data.get("supported_platforms") or \
            section.get("supported_platforms") or ["VPC"]
        self.vpcs = []
        self.subnets = []
        self.aliases = {}
        default = data.get("default_vpc", section.get("default_vpcs", True))
        explicit_default = any(v.get("is_default") for v in data.get("vpcs", []))
        if default is not False and not explicit_default:
            self._add_default_vpc(default if isinstance(default, dict) else {})
        for vpc in data.get("vpcs", []):
            self._add_vpc(vpc)
        for subnet in data.get("subnets", []):
            self._add_subnet(subnet)
        self.default_vpc = next((v["VpcId"] for v in self.vpcs if v["IsDefault"]), None)
        self.subnet_by_id = {s["SubnetId"]: s for s in self.subnets}
        self.instances = []
        self.reservations = {}
        for i, inst in enumerate(data.get("instances", [])):
            self._add_instance(i, inst)

    def _add_default_vpc(self, spec):
        vid = spec.get("id") or default_vpc_id(self.account.id, self.region)
        self.aliases["default"] = vid
        self._add_vpc({"id": vid, "cidr": "172.31.0.0/16", "is_default": True})
        for n, (letter, sid) in enumerate(zip(_DEFAULT_AZS,
                                              default_subnet_ids(self.account.id, self.region))):
            self.aliases[f"default-{letter}"] = sid
            self._add_subnet({"id": sid, "vpc": vid, "cidr": f"172.31.{16 * n}.0/20",
                              "az": letter, "default_for_az": True, "public_ip": True})

    def _add_vpc(self, vpc):
        vid = vpc["id"]
        cidr = vpc.get("cidr", "10.0.0.0/16")
        assoc = "vpc-cidr-assoc-" + hashlib.sha256(vid.encode()).hexdigest()[:17]
        self.vpcs.append({
            "CidrBlock": cidr,
            "DhcpOptionsId": resource_id("dopt", self.account.id, self.region),
            "State": vpc.get("state", "available"),
            "VpcId": vid,
            "OwnerId": vpc.get("owner", self.account.id),
            "InstanceTenancy": vpc.get("tenancy", "default"),
            "CidrBlockAssociationSet": [{"AssociationId": assoc, "CidrBlock": cidr,
                                         "CidrBlockState": {"State": "associated"}}],
            "IsDefault": bool(vpc.get("is_default", False)),
            "Tags": _tags(vpc),
        })

    def _add_subnet(self, subnet):
        sid = subnet["id"]
        vid = self.aliases.get(subnet["vpc"], subnet["vpc"])
        letter = subnet.get("az", "a")
        az = letter if len(letter) > 1 else self.region + letter
        cidr = subnet.get("cidr", "10.0.0.0/24")
        size = ipaddress.ip_network(cidr, strict=False).num_addresses
        self.subnets.append({
            "AvailabilityZone": az,
            "AvailabilityZoneId": az_id(self.region, az[-1]),
            "AvailableIpAddressCount": subnet.get("available_ips", max(size - 5, 0)),
            "CidrBlock": cidr,
            "DefaultForAz": bool(subnet.get("default_for_az", False)),
            "MapPublicIpOnLaunch": bool(subnet.get("public_ip", False)),
            "State": "available",
            "SubnetId": sid,
            "VpcId": vid,
            "OwnerId": self.account.id,
            "AssignIpv6AddressOnCreation": False,
            "Ipv6CidrBlockAssociationSet": [],
            "Tags": _tags(subnet),
            "SubnetArn": f"arn:aws:ec2:{self.region}:{self.account.id}:subnet/{sid}",
            "EnableDns64": False,
            "Ipv6Native": False,
            "PrivateDnsNameOptionsOnLaunch": {"HostnameType": "ip-name",
                                              "EnableResourceNameDnsARecord": False,
                                              "EnableResourceNameDnsAAAARecord": False},
        })

    def _add_instance(self, index, inst):
        iid = inst["id"]
        state = inst.get("state", "running")
        subnet_ref = inst.get("subnet", "default-a")
        subnet = None
        if subnet_ref is not None:
            subnet = self.subnet_by_id[self.aliases.get(subnet_ref, subnet_ref)]
        launched = inst.get("launch_time")
        if subnet is not None:
            network = ipaddress.ip_network(subnet["CidrBlock"], strict=False)
            # AWS reserves the first four addresses and the last one of every subnet.
            usable = max(network.num_addresses - 5, 1)
            private = inst.get("private_ip") or \
                str(network.network_address + 4 + (6 + index) % usable)
            az = subnet["AvailabilityZone"]
        else:
            private = inst.get("private_ip") or f"10.{index // 200 % 250}.{index % 200}.10"
            az = self.region + "a"
        public = inst.get("public_ip")
        if public is None and state == "running" and subnet is not None and \
                subnet["MapPublicIpOnLaunch"]:
            public = f"203.0.113.{10 + index % 240}"
        if state in ("stopped", "stopping", "terminated", "shutting-down"):
            public = None
        private_dns = "ip-" + private.replace(".", "-") + \
            (f".{self.region}.compute.internal" if self.region != "us-east-1" else ".ec2.internal")
        groups = inst.get("security_groups") or (
            [{"GroupName": "default", "GroupId": resource_id("sg", self.account.id,
                                                             self.region, subnet["VpcId"])}]
            if subnet is not None else [{"GroupName": "default", "GroupId": resource_id(
                "sg", self.account.id, self.region, "classic")}])
        groups = [g if isinstance(g, dict) else {"GroupName": g, "GroupId": resource_id(
            "sg", self.account.id, self.region, g)} for g in groups]
        out = {
            "AmiLaunchIndex": 0,
            "ImageId": inst.get("image", "ami-0abcdef1234567890"),
            "InstanceId": iid,
            "InstanceType": inst.get("type", "t3.micro"),
            "KeyName": inst.get("key_name"),
            "LaunchTime": launched,
            "Monitoring": {"State": "disabled"},
            "Placement": {"AvailabilityZone": az, "GroupName": "", "Tenancy": "default"},
            "Platform": "windows" if inst.get("platform") == "windows" else None,
            "PrivateDnsName": private_dns,
            "PrivateIpAddress": private,
            "ProductCodes": [],
            "PublicDnsName": (f"ec2-{public.replace('.', '-')}.{self.region}.compute."
                              "amazonaws.com") if public else "",
            "PublicIpAddress": public,
            "State": {"Code": STATE_CODES[state], "Name": state},
            "StateTransitionReason": "",
            "SubnetId": subnet["SubnetId"] if subnet else None,
            "VpcId": subnet["VpcId"] if subnet else None,
            "Architecture": "x86_64",
            "BlockDeviceMappings": [],
            "ClientToken": "",
            "EbsOptimized": False,
            "EnaSupport": True,
            "Hypervisor": "xen",
            "IamInstanceProfile": {
                "Arn": f"arn:aws:iam::{self.account.id}:instance-profile/{inst['profile']}",
                "Id": "AIPA" + resource_id("x", self.account.id, inst["profile"])[2:].upper()}
            if inst.get("profile") else None,
            "NetworkInterfaces": [],
            "RootDeviceName": "/dev/xvda",
            "RootDeviceType": "ebs",
            "SecurityGroups": groups,
            "SourceDestCheck": True,
            "Tags": _tags(inst),
            "VirtualizationType": "hvm",
            "CpuOptions": {"CoreCount": 1, "ThreadsPerCore": 2},
            "MetadataOptions": {"State": "applied", "HttpTokens": inst.get("imds", "required"),
                                "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"},
            "PlatformDetails": "Windows" if inst.get("platform") == "windows" else "Linux/UNIX",
            "UsageOperation": "RunInstances",
        }
        if subnet is not None:
            eni = resource_id("eni", self.account.id, self.region, iid)
            out["NetworkInterfaces"] = [{
                "Attachment": {"AttachmentId": resource_id("eni-attach", iid),
                               "DeviceIndex": 0, "Status": "attached",
                               "DeleteOnTermination": True, "AttachTime": launched},
                "Groups": groups, "MacAddress": "0a:" + ":".join(
                    hashlib.sha256(iid.encode()).hexdigest()[i:i + 2] for i in range(0, 10, 2)),
                "NetworkInterfaceId": eni, "OwnerId": self.account.id,
                "PrivateIpAddress": private, "PrivateDnsName": private_dns,
                "SourceDestCheck": True, "Status": "in-use",
                "SubnetId": subnet["SubnetId"], "VpcId": subnet["VpcId"],
                "InterfaceType": "interface"}]
        if state in ("stopped", "stopping", "terminated", "shutting-down"):
            when = launched.strftime("%Y-%m-%d %H:%M:%S GMT") if launched else ""
            out["StateTransitionReason"] = f"User initiated ({when})"
            out["StateReason"] = {"Code": "Client.UserInitiatedShutdown",
                                  "Message": "Client.UserInitiatedShutdown: User initiated "
                                             "shutdown"}
        if state == "terminated":
            # Terminated instances keep their id and state but lose every network attribute.
            for key in ("SubnetId", "VpcId", "PrivateIpAddress", "PublicIpAddress"):
                out[key] = None
            out["PrivateDnsName"] = ""
            out["PublicDnsName"] = ""
            out["NetworkInterfaces"] = []
            out["SecurityGroups"] = []
        reservation = inst.get("reservation") or "r-" + iid[2:]
        self.reservations.setdefault(reservation, []).append(iid)
        out["_reservation"] = reservation
        self.instances.append(out)


def _view(call):
    cache = call.state("ec2-views")
    with call.lock:
        view = cache.get(call.region)
        if view is None:
            view = cache[call.region] = _RegionView(call.account, call.region)
    return view


def _filter(items, filters, getters):
    """Applies EC2 filters: every filter must match, any of its values (globs) may."""
    for flt in filters or []:
        name = flt.get("Name", "")
        getter = getters.get(name)
        if getter is None and name.startswith("tag:"):
            key = name[4:]
            getter = _tag_getter(key)
        if getter is None:
            raise _invalid(f"The filter '{name}' is invalid")
        values = flt.get("Values") or []
        items = [i for i in items
                 if any(fnmatch.fnmatchcase(str(got), v) for got in getter(i) for v in values)]
    return items


def _tag_getter(key):
    return lambda item: [t["Value"] for t in item.get("Tags", []) if t["Key"] == key]


def _one(member):
    return lambda item: [] if item.get(member) is None else [_text(item[member])]


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _page(call, items):
    """One page: everything without MaxResults (as EC2 answers), else NextToken pages."""
    asked = call.params.get("MaxResults")
    if asked is not None and not 5 <= asked <= 1000:
        raise _invalid(f"Value ( {asked} ) for parameter maxResults is invalid. Expecting a "
                       f"value between 5 and 1000.")
    if asked is None and not call.params.get("NextToken"):
        return items, None
    return call.paginate(items, token="NextToken", limit="MaxResults", default=1000)


@SERVICE.action("DescribeRegions")
def describe_regions(call):
    _dry_run(call)
    enabled = call.account.enabled_regions
    regions = []
    for name, opt_in in scenario_mod.ALL_REGIONS.items():
        status = "opt-in-not-required" if not opt_in else \
            "opted-in" if name in enabled else "not-opted-in"
        regions.append({"Endpoint": f"ec2.{name}.amazonaws.com", "RegionName": name,
                        "OptInStatus": status})
    names = call.params.get("RegionNames")
    if names:
        unknown = [n for n in names if n not in scenario_mod.ALL_REGIONS]
        if unknown:
            raise _invalid(f"Invalid region names: {', '.join(unknown)}")
        regions = [r for r in regions if r["RegionName"] in names]
    elif not call.params.get("AllRegions"):
        regions = [r for r in regions if r["RegionName"] in enabled]
    regions = _filter(regions, call.params.get("Filters"), {
        "region-name": _one("RegionName"), "endpoint": _one("Endpoint"),
        "opt-in-status": _one("OptInStatus")})
    return {"Regions": regions}


_ATTRIBUTES = ("supported-platforms", "default-vpc", "max-instances", "max-elastic-ips",
               "vpc-max-elastic-ips", "vpc-max-security-groups-per-interface")


@SERVICE.action("DescribeAccountAttributes")
def describe_account_attributes(call):
    _dry_run(call)
    view = _view(call)
    values = {
        "supported-platforms": list(view.platforms),
        "default-vpc": [view.default_vpc or "none"],
        "max-instances": ["20"],
        "max-elastic-ips": ["5"],
        "vpc-max-elastic-ips": ["5"],
        "vpc-max-security-groups-per-interface": ["5"],
    }
    names = call.params.get("AttributeNames") or list(_ATTRIBUTES)
    for name in names:
        if name not in values:
            raise _invalid(f"Value ({name}) for parameter attributeName is invalid. Unknown "
                           "attribute.")
    return {"AccountAttributes": [
        {"AttributeName": n, "AttributeValues": [{"AttributeValue": v} for v in values[n]]}
        for n in names]}


@SERVICE.action("DescribeVpcs")
def describe_vpcs(call):
    _dry_run(call)
    vpcs = _view(call).vpcs
    ids = call.params.get("VpcIds")
    if ids:
        known = {v["VpcId"] for v in vpcs}
        missing = [i for i in ids if i not in known]
        if missing:
            raise ApiError("InvalidVpcID.NotFound",
                           f"The vpc ID '{missing[0]}' does not exist", 400)
        vpcs = [v for v in vpcs if v["VpcId"] in ids]
    vpcs = _filter(vpcs, call.params.get("Filters"), {
        "vpc-id": _one("VpcId"), "is-default": _one("IsDefault"), "state": _one("State"),
        "cidr": _one("CidrBlock"), "cidr-block": _one("CidrBlock"), "owner-id": _one("OwnerId"),
        "dhcp-options-id": _one("DhcpOptionsId"),
        "tag-key": lambda v: [t["Key"] for t in v["Tags"]]})
    page, token = _page(call, vpcs)
    return {"Vpcs": page, "NextToken": token}


@SERVICE.action("DescribeSubnets")
def describe_subnets(call):
    _dry_run(call)
    subnets = _view(call).subnets
    ids = call.params.get("SubnetIds")
    if ids:
        known = {s["SubnetId"] for s in subnets}
        missing = [i for i in ids if i not in known]
        if missing:
            raise ApiError("InvalidSubnetID.NotFound",
                           f"The subnet ID '{missing[0]}' does not exist", 400)
        subnets = [s for s in subnets if s["SubnetId"] in ids]
    subnets = _filter(subnets, call.params.get("Filters"), {
        "subnet-id": _one("SubnetId"), "vpc-id": _one("VpcId"), "state": _one("State"),
        "availability-zone": _one("AvailabilityZone"),
        "availability-zone-id": _one("AvailabilityZoneId"),
        "default-for-az": _one("DefaultForAz"), "cidr-block": _one("CidrBlock"),
        "owner-id": _one("OwnerId"), "tag-key": lambda s: [t["Key"] for t in s["Tags"]]})
    page, token = _page(call, subnets)
    return {"Subnets": page, "NextToken": token}


@SERVICE.action("DescribeInstances")
def describe_instances(call):
    _dry_run(call)
    view = _view(call)
    instances = view.instances
    ids = call.params.get("InstanceIds")
    if ids:
        if call.params.get("MaxResults") is not None:
            raise ApiError("InvalidParameterCombination", "The parameter instancesSet cannot be "
                           "used with the parameter maxResults", 400)
        for iid in ids:
            if not _INSTANCE_ID.match(iid):
                raise ApiError("InvalidInstanceID.Malformed", f'Invalid id: "{iid}"', 400)
        known = {i["InstanceId"] for i in instances}
        missing = [i for i in ids if i not in known]
        if missing:
            if len(missing) == 1:
                message = f"The instance ID '{missing[0]}' does not exist"
            else:
                message = f"The instance IDs '{', '.join(missing)}' do not exist"
            raise ApiError("InvalidInstanceID.NotFound", message, 400)
        instances = [i for i in instances if i["InstanceId"] in ids]
    instances = _filter(instances, call.params.get("Filters"), {
        "instance-id": _one("InstanceId"), "vpc-id": _one("VpcId"), "subnet-id": _one("SubnetId"),
        "instance-state-name": lambda i: [i["State"]["Name"]],
        "instance-state-code": lambda i: [str(i["State"]["Code"])],
        "instance-type": _one("InstanceType"), "image-id": _one("ImageId"),
        "availability-zone": lambda i: [i["Placement"]["AvailabilityZone"]],
        "private-ip-address": _one("PrivateIpAddress"), "ip-address": _one("PublicIpAddress"),
        "reservation-id": _one("_reservation"),
        "tag-key": lambda i: [t["Key"] for t in i["Tags"]]})
    page, token = _page(call, instances)
    reservations = []
    by_id = {}
    for inst in page:
        rid = inst["_reservation"]
        if rid not in by_id:
            by_id[rid] = {"Groups": [], "Instances": [], "OwnerId": call.account_id,
                          "ReservationId": rid}
            reservations.append(by_id[rid])
        by_id[rid]["Instances"].append({k: v for k, v in inst.items() if k != "_reservation"})
    return {"Reservations": reservations, "NextToken": token}


@SERVICE.validator
def validate(section, path):
    if not isinstance(section, dict):
        return [f"{path}: an object"]
    problems = []
    for key in set(section) - {"supported_platforms", "default_vpcs", "regions", "_comment"}:
        problems.append(f"{path}.{key}: unknown key")
    for region, data in (section.get("regions") or {}).items():
        where = f"{path}.regions.{region}"
        if region not in scenario_mod.ALL_REGIONS:
            problems.append(f"{where}: unknown region")
        if data is None:
            continue
        for key in set(data) - _REGION_KEYS:
            problems.append(f"{where}.{key}: unknown key")
        platforms = data.get("supported_platforms") or section.get("supported_platforms") or \
            ["VPC"]
        default = data.get("default_vpc", section.get("default_vpcs", True))
        vpc_ids = {v.get("id") for v in data.get("vpcs", [])}
        subnet_ids = set()
        if default is not False and not any(v.get("is_default") for v in data.get("vpcs", [])):
            vpc_ids.add("default")
            subnet_ids |= {f"default-{a}" for a in _DEFAULT_AZS}
        for i, vpc in enumerate(data.get("vpcs", [])):
            for key in set(vpc) - _VPC_KEYS:
                problems.append(f"{where}.vpcs[{i}].{key}: unknown key")
            if not re.fullmatch(r"vpc-[0-9a-f]{8,17}", str(vpc.get("id"))):
                problems.append(f"{where}.vpcs[{i}].id: vpc- and 8 or 17 hex digits")
            _check_cidr(vpc.get("cidr", "10.0.0.0/16"), f"{where}.vpcs[{i}].cidr", problems)
        for i, subnet in enumerate(data.get("subnets", [])):
            swhere = f"{where}.subnets[{i}]"
            for key in set(subnet) - _SUBNET_KEYS:
                problems.append(f"{swhere}.{key}: unknown key")
            if not re.fullmatch(r"subnet-[0-9a-f]{8,17}", str(subnet.get("id"))):
                problems.append(f"{swhere}.id: subnet- and 8 or 17 hex digits")
            if subnet.get("vpc") not in vpc_ids:
                problems.append(f"{swhere}.vpc: no VPC {subnet.get('vpc')} in this region")
            _check_cidr(subnet.get("cidr", "10.0.0.0/24"), f"{swhere}.cidr", problems)
            subnet_ids.add(subnet.get("id"))
        seen = set()
        for i, inst in enumerate(data.get("instances", [])):
            iwhere = f"{where}.instances[{i}]"
            for key in set(inst) - _INSTANCE_KEYS:
                problems.append(f"{iwhere}.{key}: unknown key")
            iid = inst.get("id")
            if not isinstance(iid, str) or not _INSTANCE_ID.match(iid):
                problems.append(f"{iwhere}.id: i- and 8 or 17 hex digits")
            elif iid in seen:
                problems.append(f"{iwhere}.id: duplicate {iid}")
            seen.add(iid)
            state = inst.get("state", "running")
            if state not in STATE_CODES:
                problems.append(f"{iwhere}.state: one of {', '.join(STATE_CODES)}")
            subnet = inst.get("subnet", "default-a")
            if subnet is None:
                if state != "terminated" and "EC2" not in platforms:
                    problems.append(f"{iwhere}.subnet: null (EC2-Classic) needs "
                                    f"supported_platforms with EC2")
            elif subnet not in subnet_ids:
                problems.append(f"{iwhere}.subnet: no subnet {subnet} in this region")
            if not hasattr(inst.get("launch_time"), "strftime"):
                problems.append(f"{iwhere}.launch_time: a date is required")
    return problems


def _check_cidr(cidr, where, problems):
    try:
        ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        problems.append(f"{where}: not a CIDR block")
