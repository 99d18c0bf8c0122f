"""Lambda: ListFunctions (GET /2015-03-31/functions, Marker -> NextMarker, <= 50 a page).

A function outside a VPC comes back with `VpcConfig` holding empty lists and `VpcId: ""`
(`vpc: null`), or with no `VpcConfig` at all (`omit_vpc_config: true`): clients must treat
both as "not in a VPC". `LastModified` is a string with a `+0000` offset, not a timestamp.
Throttled calls get 429 TooManyRequestsException with Retry-After (the pipeline adds it).
Scenario schema: `scenarios/README.md`, section Lambda.
"""

import base64
import hashlib
import re

from sim.services import ApiError, Service
from sim.services.ec2 import default_subnet_ids, default_vpc_id

SERVICE = Service(
    model="lambda",
    regional=True,
    # Lambda's documented control-plane quota: 15 requests per second across these APIs.
    rates={"ListFunctions": (15.0, 15.0)},
)

MAX_PAGE = 50
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_KEYS = {"name", "runtime", "vpc", "subnets", "security_groups", "omit_vpc_config",
         "package_type", "memory", "timeout", "modified_date", "handler", "role",
         "architectures", "description", "code_size", "kms_key_arn", "_comment"}


def _hash(*parts, length=16):
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _last_modified(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _function(call, fn):
    name = fn["name"]
    region, account = call.region, call.account_id
    image = fn.get("package_type", "Zip") == "Image"
    digest = hashlib.sha256(f"{account}/{region}/{name}".encode()).digest()
    rev = _hash(account, region, name, "rev", length=32)
    out = {
        "FunctionName": name,
        "FunctionArn": f"arn:aws:lambda:{region}:{account}:function:{name}",
        "Runtime": None if image else fn.get("runtime", "python3.12"),
        "Role": fn.get("role") or f"arn:aws:iam::{account}:role/service-role/{name}-role",
        "Handler": None if image else fn.get("handler", "app.handler"),
        "CodeSize": fn.get("code_size", 0 if image else 10240),
        "Description": fn.get("description", ""),
        "Timeout": fn.get("timeout", 30),
        "MemorySize": fn.get("memory", 128),
        "LastModified": _last_modified(fn["modified_date"]),
        "CodeSha256": base64.b64encode(digest).decode(),
        "Version": "$LATEST",
        "KMSKeyArn": fn.get("kms_key_arn"),
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": f"{rev[:8]}-{rev[8:12]}-{rev[12:16]}-{rev[16:20]}-{rev[20:32]}",
        "PackageType": "Image" if image else "Zip",
        "Architectures": fn.get("architectures", ["x86_64"]),
        "EphemeralStorage": {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        # Newer than the Debian model: serialised as given, as AWS sends it today.
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
    }
    if fn.get("omit_vpc_config"):
        return out
    vpc = fn.get("vpc")
    if vpc is None:
        out["VpcConfig"] = {"SubnetIds": [], "SecurityGroupIds": [], "VpcId": "",
                            "Ipv6AllowedForDualStack": False}
        return out
    subnets = fn.get("subnets")
    if vpc == "default":
        vpc = default_vpc_id(account, region)
        subnets = subnets or default_subnet_ids(account, region)[:2]
    out["VpcConfig"] = {
        "SubnetIds": subnets or ["subnet-" + _hash(account, region, vpc, "a", length=17)],
        "SecurityGroupIds": fn.get("security_groups") or
        ["sg-" + _hash(account, region, name, length=17)],
        "VpcId": vpc,
        "Ipv6AllowedForDualStack": False,
    }
    return out


@SERVICE.action("ListFunctions")
def list_functions(call):
    version = call.params.get("FunctionVersion")
    if version is not None and version != "ALL":
        raise ApiError("InvalidParameterValueException",
                       f"1 validation error detected: Value '{version}' at 'functionVersion' "
                       "failed to satisfy constraint: Member must satisfy enum value set: [ALL]",
                       400)
    asked = call.params.get("MaxItems")
    if asked is not None and not 1 <= asked <= 10000:
        raise ApiError("InvalidParameterValueException",
                       f"1 validation error detected: Value '{asked}' at 'maxItems' failed to "
                       "satisfy constraint: Member must have value between 1 and 10000", 400)
    # Lambda never returns more than 50 functions a page, whatever MaxItems asks.
    call.params["MaxItems"] = min(asked or MAX_PAGE, MAX_PAGE)
    section = call.account_data("lambda").get("regions", {}).get(call.region) or {}
    functions = [_function(call, fn) for fn in section.get("functions", [])]
    page, marker = call.paginate(functions, token="Marker", limit="MaxItems", default=MAX_PAGE)
    return {"Functions": page, "NextMarker": marker}


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
        seen = set()
        for i, fn in enumerate((data or {}).get("functions", [])):
            fwhere = f"{where}.functions[{i}]"
            for key in set(fn) - _KEYS:
                problems.append(f"{fwhere}.{key}: unknown key")
            name = fn.get("name")
            if not isinstance(name, str) or not _NAME.match(name):
                problems.append(f"{fwhere}.name: 1-64 letters, digits, '-' or '_'")
            elif name in seen:
                problems.append(f"{fwhere}.name: duplicate {name}")
            seen.add(name)
            if not hasattr(fn.get("modified_date"), "strftime"):
                problems.append(f"{fwhere}.modified_date: a date is required")
            vpc = fn.get("vpc")
            if vpc not in (None, "default") and not re.fullmatch(r"vpc-[0-9a-f]{8,17}", str(vpc)):
                problems.append(f"{fwhere}.vpc: a VPC id, \"default\" or null")
    return problems
