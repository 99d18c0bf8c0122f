"""RDS: DescribeDBInstances (Marker pages of MaxRecords 20-100).

The same API lists Aurora, Neptune and DocumentDB instances (engines `aurora-mysql`,
`aurora-postgresql`, `neptune`, `docdb`). An instance is in a VPC exactly when its
`DBSubnetGroup` carries a `VpcId`; `vpc: null` in the scenario gives the EC2-Classic shape
(no subnet group, a DB security group instead of VPC ones).
Scenario schema: `scenarios/README.md`, section RDS.
"""

import hashlib
import re

from sim.services import ApiError, Service
from sim.services.ec2 import default_subnet_ids, default_vpc_id

SERVICE = Service(
    model="rds",
    regional=True,
    rates={"DescribeDBInstances": (20.0, 40.0)},
)

ENGINES = {
    "postgres": (5432, "postgresql-license"), "mysql": (3306, "general-public-license"),
    "mariadb": (3306, "general-public-license"), "oracle-ee": (1521, "bring-your-own-license"),
    "sqlserver-se": (1433, "license-included"),
    "aurora-mysql": (3306, "general-public-license"),
    "aurora-postgresql": (5432, "postgresql-license"),
    "neptune": (8182, "amazon-license"), "docdb": (27017, "na"),
}
_CLUSTERED = ("aurora-mysql", "aurora-postgresql", "neptune", "docdb")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$")
_KEYS = {"id", "engine", "engine_version", "class", "status", "vpc", "subnets", "subnet_group",
         "publicly_accessible", "encrypted", "kms_key_id", "multi_az", "created", "cluster",
         "storage", "az", "security_groups", "deletion_protection", "tags", "_comment"}
_VERSIONS = {"postgres": "15.4", "mysql": "8.0.35", "mariadb": "10.11.6",
             "oracle-ee": "19.0.0.0.ru-2024-01.rur-2024-01.r1", "sqlserver-se": "15.00.4345.5.v1",
             "aurora-mysql": "8.0.mysql_aurora.3.05.2", "aurora-postgresql": "15.4",
             "neptune": "1.3.1.0", "docdb": "5.0.0"}


def _hash(*parts, length=12):
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _instance(call, db):
    region, account = call.region, call.account_id
    ident = db["id"]
    engine = db.get("engine", "postgres")
    port, licence = ENGINES.get(engine, (5432, "general-public-license"))
    version = db.get("engine_version", _VERSIONS.get(engine, "1.0"))
    az = region + db.get("az", "a")
    vpc = db.get("vpc")
    subnets = db.get("subnets")
    if vpc == "default":
        vpc = default_vpc_id(account, region)
        subnets = subnets or default_subnet_ids(account, region)[:2]
    clustered = engine in _CLUSTERED
    out = {
        "DBInstanceIdentifier": ident,
        "DBInstanceClass": db.get("class", "db.r6g.large" if clustered else "db.t3.medium"),
        "Engine": engine,
        "DBInstanceStatus": db.get("status", "available"),
        "MasterUsername": None if engine in ("neptune",) else "admin",
        "Endpoint": {"Address": f"{ident}.{_hash(account, region)}.{region}.rds.amazonaws.com",
                     "Port": port, "HostedZoneId": "Z" + _hash(region, length=12).upper()},
        "AllocatedStorage": 1 if clustered else db.get("storage", 20),
        "InstanceCreateTime": db.get("created"),
        "PreferredBackupWindow": "03:00-03:30",
        "BackupRetentionPeriod": 7,
        "DBSecurityGroups": [],
        "VpcSecurityGroups": [],
        "DBParameterGroups": [{"DBParameterGroupName": f"default.{engine}{version.split('.')[0]}",
                               "ParameterApplyStatus": "in-sync"}],
        "AvailabilityZone": az,
        "PreferredMaintenanceWindow": "sun:05:00-sun:05:30",
        "PendingModifiedValues": {},
        "MultiAZ": bool(db.get("multi_az", False)),
        "EngineVersion": version,
        "AutoMinorVersionUpgrade": True,
        "ReadReplicaDBInstanceIdentifiers": [],
        "LicenseModel": licence,
        "OptionGroupMemberships": [{"OptionGroupName": f"default:{engine}",
                                    "Status": "in-sync"}],
        "PubliclyAccessible": bool(db.get("publicly_accessible", False)),
        "StorageType": "aurora" if clustered else "gp3",
        "DbInstancePort": 0,
        "DBClusterIdentifier": db.get("cluster") or (f"{ident}-cluster" if clustered else None),
        "StorageEncrypted": bool(db.get("encrypted", True)),
        "KmsKeyId": db.get("kms_key_id") or (
            f"arn:aws:kms:{region}:{account}:key/{_hash(account, region, 'rds', length=8)}-"
            f"{_hash(ident, length=4)}-4{_hash(ident, length=3)}-8{_hash(region, length=3)}-"
            f"{_hash(account, ident, length=12)}" if db.get("encrypted", True) else None),
        "DbiResourceId": "db-" + _hash(account, region, ident, length=26).upper(),
        "CACertificateIdentifier": "rds-ca-rsa2048-g1",
        "CopyTagsToSnapshot": False,
        "MonitoringInterval": 0,
        "DBInstanceArn": f"arn:aws:rds:{region}:{account}:db:{ident}",
        "IAMDatabaseAuthenticationEnabled": False,
        "PerformanceInsightsEnabled": False,
        "DeletionProtection": bool(db.get("deletion_protection", False)),
        "TagList": [{"Key": k, "Value": v} for k, v in (db.get("tags") or {}).items()],
        "CustomerOwnedIpEnabled": False,
        "NetworkType": "IPV4",
    }
    if vpc:
        groups = db.get("security_groups") or ["sg-" + _hash(account, region, vpc, length=17)]
        out["VpcSecurityGroups"] = [{"VpcSecurityGroupId": g, "Status": "active"}
                                    for g in groups]
        subnets = subnets or ["subnet-" + _hash(account, region, vpc, "a", length=17)]
        out["DBSubnetGroup"] = {
            "DBSubnetGroupName": db.get("subnet_group", f"default-{vpc}"),
            "DBSubnetGroupDescription": "Created from the RDS Management Console",
            "VpcId": vpc,
            "SubnetGroupStatus": "Complete",
            "Subnets": [{"SubnetIdentifier": s,
                         "SubnetAvailabilityZone": {"Name": region + "abc"[n % 3]},
                         "SubnetOutpost": {}, "SubnetStatus": "Active"}
                        for n, s in enumerate(subnets)],
            "SupportedNetworkTypes": ["IPV4"],
        }
    else:
        # EC2-Classic: a DB security group and no subnet group at all.
        out["DBSecurityGroups"] = [{"DBSecurityGroupName": "default", "Status": "active"}]
    return out


_FILTERS = {
    "db-instance-id": lambda d: [d["DBInstanceIdentifier"], d["DBInstanceArn"]],
    "engine": lambda d: [d["Engine"]],
    "db-cluster-id": lambda d: [d["DBClusterIdentifier"]] if d["DBClusterIdentifier"] else [],
    "dbi-resource-id": lambda d: [d["DbiResourceId"]],
}


@SERVICE.action("DescribeDBInstances")
def describe_db_instances(call):
    asked = call.params.get("MaxRecords")
    if asked is not None and not 20 <= asked <= 100:
        raise ApiError("InvalidParameterValue",
                       f"Invalid value {asked} for MaxRecords. Must be between 20 and 100", 400)
    section = call.account_data("rds").get("regions", {}).get(call.region) or {}
    dbs = [_instance(call, db) for db in section.get("instances", [])]
    ident = call.params.get("DBInstanceIdentifier")
    if ident:
        dbs = [d for d in dbs if ident in (d["DBInstanceIdentifier"], d["DBInstanceArn"])]
        if not dbs:
            raise ApiError("DBInstanceNotFound", f"DBInstance {ident} not found.", 404)
    for flt in call.params.get("Filters") or []:
        getter = _FILTERS.get(flt["Name"])
        if getter is None:
            raise ApiError("InvalidParameterValue", f"Unrecognized filter name: {flt['Name']}",
                           400)
        wanted = set(flt["Values"])
        dbs = [d for d in dbs if wanted & set(getter(d))]
    page, marker = call.paginate(dbs, token="Marker", limit="MaxRecords", default=100,
                                 invalid=("InvalidParameterValue", 400))
    return {"DBInstances": page, "Marker": marker}


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
        for i, db in enumerate((data or {}).get("instances", [])):
            dwhere = f"{where}.instances[{i}]"
            for key in set(db) - _KEYS:
                problems.append(f"{dwhere}.{key}: unknown key")
            ident = db.get("id")
            if not isinstance(ident, str) or not _ID.match(ident):
                problems.append(f"{dwhere}.id: a letter, then letters, digits or '-' (<= 63)")
            elif ident in seen:
                problems.append(f"{dwhere}.id: duplicate {ident}")
            seen.add(ident)
            if db.get("engine", "postgres") not in ENGINES:
                problems.append(f"{dwhere}.engine: one of {', '.join(ENGINES)}")
            if "vpc" not in db or db["vpc"] not in (None, "default") and \
                    not re.fullmatch(r"vpc-[0-9a-f]{8,17}", str(db["vpc"])):
                problems.append(f"{dwhere}.vpc: a VPC id, \"default\" or null (EC2-Classic)")
    return problems
