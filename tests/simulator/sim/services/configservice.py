"""AWS Config: recorders, their status, delivery channels, rules and rule compliance.

Everything is per region. A region's setup comes from `regions.<region>` or, when the region
is not listed there, from the `all_regions` template; `null` (or nothing at all) means Config
was never set up in that region, which AWS answers with empty lists, not errors. Scenario
schema: `scenarios/README.md`, section Config.
"""

import datetime
import hashlib

from sim.services import ApiError, Service

SERVICE = Service(
    model="config",
    regional=True,
    # Config's read APIs allow about 10 calls a second. AWS keeps a bucket per region; the
    # simulator's span regions, so the burst lets a client sweep every region at once.
    rates={"*": (10.0, 40.0)},
)

COMPLIANCE_TYPES = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA")
RECORDER_STATUSES = ("SUCCESS", "PENDING", "FAILURE")
_RULE_PAGE = 25
_CAP = 100

_REGION_KEYS = {"recorder", "delivery_channel", "rules", "_comment"}
_RECORDER_KEYS = {"name", "role_arn", "all_supported", "include_global", "resource_types",
                  "excluded_resource_types", "recording_strategy", "recording_frequency",
                  "legacy", "recording", "last_status", "last_start_time", "last_stop_time",
                  "last_status_change_time", "last_error_code", "last_error_message",
                  "_comment"}
_CHANNEL_KEYS = {"name", "s3_bucket", "s3_key_prefix", "s3_kms_key_arn", "sns_topic_arn",
                 "frequency", "_comment"}
_RULE_KEYS = {"name", "source", "owner", "description", "state", "frequency", "created_by",
              "input_parameters", "scope_types", "evaluation_mode", "compliance",
              "non_compliant_count", "_comment"}


def _setup(call):
    """This region's Config setup (a dict, empty when never set up)."""
    section = call.account_data("config")
    regions = section.get("regions", {})
    if call.region in regions:
        return regions[call.region] or {}
    return section.get("all_regions") or {}


def _fill(text, call):
    return text.replace("{account}", call.account_id).replace("{region}", call.region)


def _recorders(call):
    recorder = _setup(call).get("recorder")
    return [recorder] if recorder else []


def _named(items, names, error):
    if not names:
        return items
    by_name = {i.get("name", "default"): i for i in items}
    for name in names:
        if name not in by_name:
            raise error(name)
    return [by_name[n] for n in names]


def _no_recorder(name):
    return ApiError("NoSuchConfigurationRecorderException",
                    f"Cannot find configuration recorder with the specified name '{name}'.", 400)


@SERVICE.action("DescribeConfigurationRecorders")
def describe_configuration_recorders(call):
    recorders = _named(_recorders(call), call.params.get("ConfigurationRecorderNames"),
                       _no_recorder)
    return {"ConfigurationRecorders": [_recorder(call, r) for r in recorders]}


def _recorder(call, rec):
    name = rec.get("name", "default")
    types = rec.get("resource_types", [])
    excluded = rec.get("excluded_resource_types", [])
    all_supported = rec.get("all_supported", not types and not excluded)
    out = {
        "name": name,
        "roleARN": _fill(rec.get("role_arn", "arn:aws:iam::{account}:role/aws-service-role/"
                                 "config.amazonaws.com/AWSServiceRoleForConfig"), call),
        "recordingGroup": {
            "allSupported": all_supported,
            "includeGlobalResourceTypes": rec.get("include_global", all_supported),
            "resourceTypes": types,
        },
    }
    if rec.get("legacy"):
        # Recorders created before 2023 come back without the newer members.
        return out
    strategy = rec.get("recording_strategy") or (
        "ALL_SUPPORTED_RESOURCE_TYPES" if all_supported else
        "EXCLUSION_BY_RESOURCE_TYPES" if excluded else "INCLUSION_BY_RESOURCE_TYPES")
    suffix = hashlib.sha256(f"{call.account_id}/{call.region}/{name}".encode()).hexdigest()[:16]
    out["arn"] = f"arn:aws:config:{call.region}:{call.account_id}:configuration-recorder/" \
                 f"{name}/{suffix}"
    out["recordingGroup"]["exclusionByResourceTypes"] = {"resourceTypes": excluded}
    out["recordingGroup"]["recordingStrategy"] = {"useOnly": strategy}
    out["recordingMode"] = {"recordingFrequency": rec.get("recording_frequency", "CONTINUOUS"),
                            "recordingModeOverrides": []}
    return out


@SERVICE.action("DescribeConfigurationRecorderStatus")
def describe_configuration_recorder_status(call):
    recorders = _named(_recorders(call), call.params.get("ConfigurationRecorderNames"),
                       _no_recorder)
    return {"ConfigurationRecordersStatus": [_status(call, r) for r in recorders]}


def _status(call, rec):
    recording = rec.get("recording", True)
    last = rec.get("last_status", "SUCCESS" if recording else "PENDING")
    out = {
        "name": rec.get("name", "default"),
        "lastStartTime": rec.get("last_start_time"),
        "lastStopTime": rec.get("last_stop_time"),
        "recording": recording,
        # Upper case on the wire although the model's enum says Success/Pending/Failure.
        "lastStatus": last.upper(),
        "lastErrorCode": rec.get("last_error_code"),
        "lastErrorMessage": rec.get("last_error_message"),
        "lastStatusChangeTime": rec.get("last_status_change_time"),
    }
    if out["lastStartTime"] is None and (recording or out["lastStopTime"] is not None):
        out["lastStartTime"] = call.now.replace(microsecond=0) - datetime.timedelta(days=180)
    if out["lastStatusChangeTime"] is None and recording:
        out["lastStatusChangeTime"] = call.now.replace(microsecond=0) - datetime.timedelta(hours=1)
    if last.upper() == "FAILURE" and out["lastErrorCode"] is None:
        out["lastErrorCode"] = "AccessDenied"
        out["lastErrorMessage"] = "Access Denied"
    return out


@SERVICE.action("DescribeDeliveryChannels")
def describe_delivery_channels(call):
    channel = _setup(call).get("delivery_channel")
    channels = _named([channel] if channel else [], call.params.get("DeliveryChannelNames"),
                      lambda name: ApiError("NoSuchDeliveryChannelException",
                                            f"Cannot find delivery channel with specified name "
                                            f"'{name}'.", 400))
    out = []
    for ch in channels:
        item = {
            "name": ch.get("name", "default"),
            "s3BucketName": _fill(ch.get("s3_bucket", "config-bucket-{account}"), call),
            "s3KeyPrefix": ch.get("s3_key_prefix"),
            "s3KmsKeyArn": _fill(ch["s3_kms_key_arn"], call) if ch.get("s3_kms_key_arn")
            else None,
            "snsTopicARN": _fill(ch["sns_topic_arn"], call) if ch.get("sns_topic_arn") else None,
            "configSnapshotDeliveryProperties": {
                "deliveryFrequency": ch.get("frequency", "TwentyFour_Hours")},
        }
        out.append(item)
    return {"DeliveryChannels": out}


def _rules(call):
    return _setup(call).get("rules", [])


def _select_rules(call):
    rules = _rules(call)
    names = call.params.get("ConfigRuleNames")
    if not names:
        return rules
    by_name = {r["name"]: r for r in rules}
    for name in names:
        if name not in by_name:
            raise ApiError("NoSuchConfigRuleException",
                           f"The ConfigRule '{name}' provided in the request is invalid. Please "
                           "check the configRule name.", 400)
    return [by_name[n] for n in names]


def _rule_id(call, rule):
    digest = hashlib.sha256(f"{call.account_id}/{call.region}/{rule['name']}".encode())
    return "config-rule-" + digest.hexdigest()[:6]


@SERVICE.action("DescribeConfigRules")
def describe_config_rules(call):
    rules = _select_rules(call)
    mode = (call.params.get("Filters") or {}).get("EvaluationMode")
    if mode:
        rules = [r for r in rules if r.get("evaluation_mode", "DETECTIVE") == mode]
    out = []
    for rule in rules:
        rid = _rule_id(call, rule)
        owner = rule.get("owner", "AWS")
        item = {
            "ConfigRuleName": rule["name"],
            "ConfigRuleArn": f"arn:aws:config:{call.region}:{call.account_id}:config-rule/{rid}",
            "ConfigRuleId": rid,
            "Description": rule.get("description"),
            "Source": {"Owner": owner,
                       "SourceIdentifier": rule.get("source", rule["name"].upper()
                                                    .replace("-", "_"))},
            "InputParameters": rule.get("input_parameters"),
            "ConfigRuleState": rule.get("state", "ACTIVE"),
            "CreatedBy": rule.get("created_by"),
            "EvaluationModes": [{"Mode": rule.get("evaluation_mode", "DETECTIVE")}],
        }
        if owner == "AWS" and rule.get("frequency", "TwentyFour_Hours"):
            item["MaximumExecutionFrequency"] = rule.get("frequency", "TwentyFour_Hours")
        if owner != "AWS":
            item["Source"]["SourceDetails"] = [{
                "EventSource": "aws.config",
                "MessageType": "ConfigurationItemChangeNotification"}]
        if rule.get("scope_types"):
            item["Scope"] = {"ComplianceResourceTypes": rule["scope_types"]}
        out.append(item)
    page, token = call.paginate(out, token="NextToken", limit=None, default=_RULE_PAGE)
    return {"ConfigRules": page, "NextToken": token}


@SERVICE.action("DescribeComplianceByConfigRule")
def describe_compliance_by_config_rule(call):
    rules = _select_rules(call)
    wanted = call.params.get("ComplianceTypes")
    for kind in wanted or []:
        if kind not in COMPLIANCE_TYPES:
            raise ApiError("InvalidParameterValueException",
                           f"The compliance type '{kind}' is not valid.", 400)
    out = []
    for rule in rules:
        kind = rule.get("compliance", "INSUFFICIENT_DATA")
        if wanted and kind not in wanted:
            continue
        compliance = {"ComplianceType": kind}
        if kind == "NON_COMPLIANT":
            count = rule.get("non_compliant_count", 1)
            compliance["ComplianceContributorCount"] = {"CappedCount": min(count, _CAP),
                                                        "CapExceeded": count > _CAP}
        out.append({"ConfigRuleName": rule["name"], "Compliance": compliance})
    page, token = call.paginate(out, token="NextToken", limit=None, default=_RULE_PAGE)
    return {"ComplianceByConfigRules": page, "NextToken": token}


@SERVICE.validator
def validate(section, path):
    from sim.scenario import ALL_REGIONS
    if not isinstance(section, dict):
        return [f"{path}: an object"]
    problems = []
    for key in set(section) - {"regions", "all_regions", "_comment"}:
        problems.append(f"{path}.{key}: unknown key")
    setups = [(f"{path}.all_regions", section.get("all_regions"))]
    for region, setup in (section.get("regions") or {}).items():
        if region not in ALL_REGIONS:
            problems.append(f"{path}.regions: unknown region {region}")
        setups.append((f"{path}.regions.{region}", setup))
    for where, setup in setups:
        if setup is None:
            continue
        if not isinstance(setup, dict):
            problems.append(f"{where}: an object or null")
            continue
        for key in set(setup) - _REGION_KEYS:
            problems.append(f"{where}.{key}: unknown key")
        rec = setup.get("recorder")
        if rec is not None:
            for key in set(rec) - _RECORDER_KEYS:
                problems.append(f"{where}.recorder.{key}: unknown key")
            if str(rec.get("last_status", "SUCCESS")).upper() not in RECORDER_STATUSES:
                problems.append(f"{where}.recorder.last_status: one of "
                                f"{', '.join(RECORDER_STATUSES)}")
        channel = setup.get("delivery_channel")
        if channel is not None:
            for key in set(channel) - _CHANNEL_KEYS:
                problems.append(f"{where}.delivery_channel.{key}: unknown key")
        names = set()
        for i, rule in enumerate(setup.get("rules", [])):
            rwhere = f"{where}.rules[{i}]"
            for key in set(rule) - _RULE_KEYS:
                problems.append(f"{rwhere}.{key}: unknown key")
            if not isinstance(rule.get("name"), str):
                problems.append(f"{rwhere}.name: required")
            elif rule["name"] in names:
                problems.append(f"{rwhere}.name: duplicate {rule['name']}")
            names.add(rule.get("name"))
            if rule.get("compliance", "INSUFFICIENT_DATA") not in COMPLIANCE_TYPES:
                problems.append(f"{rwhere}.compliance: one of {', '.join(COMPLIANCE_TYPES)}")
    return problems
