"""CloudTrail: DescribeTrails, GetTrailStatus, GetEventSelectors, ListPublicKeys.

A trail lives in its home region. DescribeTrails in region R answers the account's trails
homed in R plus, with `includeShadowTrails` (the default), the shadows: its multi-region
trails homed elsewhere and the management account's organization trails, which member
accounts see under the management account's ARN. GetTrailStatus and GetEventSelectors take a
name (a trail homed in the calling region) or an ARN (any trail visible in that region, the
only way to reach a shadow). Scenario schema: `scenarios/README.md`, section CloudTrail.
"""

import datetime
import hashlib
import re

from sim.protocols import iso8601
from sim.services import ApiError, Service

SERVICE = Service(
    model="cloudtrail",
    regional=True,
    errors={
        "invalid_token": ("com.amazonaws.cloudtrail.v20131101#InvalidTokenException", 400,
                          "Invalid token"),
    },
    # CloudTrail documents these as the per-account, per-region request rates.
    rates={"DescribeTrails": (10.0, 10.0), "GetTrailStatus": (10.0, 10.0),
           "GetEventSelectors": (10.0, 10.0), "ListPublicKeys": (10.0, 10.0)},
)

_NS = "com.amazonaws.cloudtrail.v20131101#"
_ARN = re.compile(r"^arn:aws:cloudtrail:([a-z0-9-]+):(\d{12}):trail/(.+)$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$")

# Epoch-number members of GetTrailStatus (model type timestamp) and the ISO-string ones
# (model type string, "" when the event never happened): AWS mixes both in one answer.
_STATUS_TIMES = {
    "latest_delivery_time": "LatestDeliveryTime",
    "latest_notification_time": "LatestNotificationTime",
    "start_logging_time": "StartLoggingTime",
    "stop_logging_time": "StopLoggingTime",
    "latest_cloudwatch_logs_delivery_time": "LatestCloudWatchLogsDeliveryTime",
    "latest_digest_delivery_time": "LatestDigestDeliveryTime",
}
_STATUS_STRINGS = {
    "latest_delivery_attempt_time": "LatestDeliveryAttemptTime",
    "latest_notification_attempt_time": "LatestNotificationAttemptTime",
    "latest_notification_attempt_succeeded_time": "LatestNotificationAttemptSucceeded",
    "latest_delivery_attempt_succeeded_time": "LatestDeliveryAttemptSucceeded",
    "time_logging_started": "TimeLoggingStarted",
    "time_logging_stopped": "TimeLoggingStopped",
}
_STATUS_ERRORS = {
    "latest_delivery_error": "LatestDeliveryError",
    "latest_notification_error": "LatestNotificationError",
    "latest_cloudwatch_logs_delivery_error": "LatestCloudWatchLogsDeliveryError",
    "latest_digest_delivery_error": "LatestDigestDeliveryError",
}
_TRAIL_KEYS = {
    "name", "home_region", "multi_region", "organization", "s3_bucket", "s3_key_prefix",
    "sns_topic_arn", "include_global_events", "log_file_validation", "kms_key_id",
    "cloudwatch_logs_group_arn", "cloudwatch_logs_role_arn", "insight_selectors",
    "event_selectors", "advanced_event_selectors", "status", "created", "_comment",
}
_STATUS_KEYS = {"is_logging", "_comment", *_STATUS_TIMES, *_STATUS_STRINGS, *_STATUS_ERRORS}


def _error(code, message):
    return ApiError(_NS + code, message, 400)


class _Trail:
    """A scenario trail together with the account that owns it."""

    def __init__(self, owner, data):
        self.owner = owner
        self.data = data
        self.name = data["name"]
        self.home = data.get("home_region", "us-east-1")
        self.arn = f"arn:aws:cloudtrail:{self.home}:{owner.id}:trail/{self.name}"
        self.multi_region = bool(data.get("multi_region", False))
        self.organization = bool(data.get("organization", False))

    def visible_in(self, region):
        return self.home == region or self.multi_region


def _own_trails(account):
    return [_Trail(account, t) for t in account.services.get("cloudtrail", {}).get("trails", [])]


def _org_trails(call):
    """The management account's organization trails, when the caller is a member account."""
    scenario = call.world.scenario
    if scenario.management_id is None or call.account_id == scenario.management_id:
        return []
    management = scenario.account(scenario.management_id)
    return [t for t in _own_trails(management) if t.organization]


def _visible(call, shadows=True):
    """Every trail DescribeTrails shows in the calling region, home trails first."""
    own = _own_trails(call.account)
    out = [t for t in own if t.home == call.region]
    if shadows:
        out += [t for t in own if t.home != call.region and t.multi_region]
        out += [t for t in _org_trails(call) if t.visible_in(call.region)]
    return out


def _describe(trail):
    data = trail.data
    out = {
        "Name": trail.name,
        "S3BucketName": data["s3_bucket"],
        "S3KeyPrefix": data.get("s3_key_prefix"),
        "IncludeGlobalServiceEvents": data.get("include_global_events", True),
        "IsMultiRegionTrail": trail.multi_region,
        "HomeRegion": trail.home,
        "TrailARN": trail.arn,
        "LogFileValidationEnabled": data.get("log_file_validation", False),
        "CloudWatchLogsLogGroupArn": data.get("cloudwatch_logs_group_arn"),
        "CloudWatchLogsRoleArn": data.get("cloudwatch_logs_role_arn"),
        "KmsKeyId": data.get("kms_key_id"),
        "HasCustomEventSelectors": bool(data.get("event_selectors") or
                                        data.get("advanced_event_selectors")),
        "HasInsightSelectors": bool(data.get("insight_selectors", False)),
        "IsOrganizationTrail": trail.organization,
    }
    topic = data.get("sns_topic_arn")
    if topic:
        # The deprecated SnsTopicName still comes back next to the ARN.
        out["SnsTopicName"] = topic.rsplit(":", 1)[-1]
        out["SnsTopicARN"] = topic
    return out


@SERVICE.action("DescribeTrails")
def describe_trails(call):
    shadows = call.params.get("includeShadowTrails", True)
    trails = _visible(call, shadows)
    names = call.params.get("trailNameList")
    if names:
        for name in names:
            _check_name(name)
        wanted = set(names)
        trails = [t for t in trails if t.arn in wanted or
                  (t.name in wanted and t.home == call.region and t.owner is call.account)]
    return {"trailList": [_describe(t) for t in trails]}


def _check_name(name):
    if name.startswith("arn:"):
        if not _ARN.match(name):
            raise _error("CloudTrailARNInvalidException",
                         f"{name} is not a valid CloudTrail ARN.")
    elif not _NAME.match(name):
        raise _error("InvalidTrailNameException",
                     "Trail name must start with a letter or number, end with a letter or "
                     "number, be 3-128 characters long and contain only ASCII letters, numbers, "
                     "periods, underscores and dashes.")


def _find(call, name):
    """The trail `name` (trail name or ARN) designates from the calling region."""
    _check_name(name)
    match = _ARN.match(name)
    for trail in _visible(call):
        if match and trail.arn == name:
            return trail
        if not match and trail.name == name and trail.home == call.region and \
                trail.owner is call.account:
            return trail
    raise _error("TrailNotFoundException",
                 f"Unknown trail: {name} for the user: {call.account_id}")


def _status_defaults(trail, given, now):
    """What the trail reports unless the scenario says otherwise: a logging trail delivered
    minutes ago (digest within the hour); a stopped one last delivered when it stopped."""
    data = trail.data
    started = data.get("created") or now - datetime.timedelta(days=400)
    logging = given.get("is_logging", True)
    stopped = None
    if not logging:
        stopped = given.get("stop_logging_time") or now - datetime.timedelta(days=3)
    delivered = stopped or now - datetime.timedelta(minutes=4, seconds=12)
    out = {
        "is_logging": logging,
        "start_logging_time": started,
        "time_logging_started": started,
        "stop_logging_time": stopped,
        "time_logging_stopped": stopped,
        "latest_delivery_time": delivered,
        "latest_delivery_attempt_time": delivered,
        "latest_delivery_attempt_succeeded_time": delivered,
        "latest_notification_attempt_time": None,
        "latest_notification_attempt_succeeded_time": None,
    }
    if data.get("log_file_validation"):
        out["latest_digest_delivery_time"] = (stopped or now) - datetime.timedelta(minutes=37)
    if data.get("cloudwatch_logs_group_arn"):
        out["latest_cloudwatch_logs_delivery_time"] = delivered
    return out


def _iso_or_empty(value):
    if value is None or value == "":
        return ""
    if isinstance(value, datetime.datetime):
        return iso8601(value)
    return str(value)


@SERVICE.action("GetTrailStatus")
def get_trail_status(call):
    trail = _find(call, call.params["Name"])
    given = trail.data.get("status", {})
    status = _status_defaults(trail, given, call.now)
    status.update(given)
    out = {"IsLogging": bool(status["is_logging"])}
    for key, member in _STATUS_TIMES.items():
        out[member] = status.get(key)
    for key, member in _STATUS_STRINGS.items():
        out[member] = _iso_or_empty(status.get(key))
    for key, member in _STATUS_ERRORS.items():
        # AWS omits a healthy channel's error or sends it as "": both are kept as given.
        out[member] = status.get(key)
    return out


_DEFAULT_SELECTORS = [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                       "DataResources": [], "ExcludeManagementEventSources": []}]


@SERVICE.action("GetEventSelectors")
def get_event_selectors(call):
    trail = _find(call, call.params["TrailName"])
    advanced = trail.data.get("advanced_event_selectors")
    if advanced:
        return {"TrailARN": trail.arn, "AdvancedEventSelectors": advanced}
    return {"TrailARN": trail.arn,
            "EventSelectors": trail.data.get("event_selectors") or _DEFAULT_SELECTORS}


@SERVICE.action("ListPublicKeys")
def list_public_keys(call):
    start = call.params.get("StartTime")
    end = call.params.get("EndTime") or call.now
    if start is not None and start > end:
        raise _error("InvalidTimeRangeException",
                     "Start time must be earlier than end time.")
    keys = []
    section = call.account_data("cloudtrail").get("public_keys", {}).get(call.region, [])
    for key in section:
        value = bytes.fromhex(key["der_hex"])
        valid_from, valid_to = key["validity_start_time"], key["validity_end_time"]
        if start is not None and valid_to < start or valid_from > end:
            continue
        keys.append({"Value": value, "ValidityStartTime": valid_from,
                     "ValidityEndTime": valid_to,
                     "Fingerprint": key.get("fingerprint") or hashlib.md5(value).hexdigest()})
    page, token = call.paginate(keys, token="NextToken", limit=None, default=50)
    return {"PublicKeyList": page, "NextToken": token}


@SERVICE.validator
def validate(section, path):
    from sim.scenario import ALL_REGIONS
    problems = []
    if not isinstance(section, dict):
        return [f"{path}: an object"]
    names = set()
    for i, trail in enumerate(section.get("trails", [])):
        where = f"{path}.trails[{i}]"
        if not isinstance(trail, dict):
            problems.append(f"{where}: an object")
            continue
        for key in set(trail) - _TRAIL_KEYS:
            problems.append(f"{where}.{key}: unknown key")
        name = trail.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(f"{where}.name: 3-128 letters, digits, '.', '_' or '-'")
        home = trail.get("home_region", "us-east-1")
        if home not in ALL_REGIONS:
            problems.append(f"{where}.home_region: unknown region {home}")
        if (name, home) in names:
            problems.append(f"{where}.name: duplicate trail {name} in {home}")
        names.add((name, home))
        if not isinstance(trail.get("s3_bucket"), str):
            problems.append(f"{where}.s3_bucket: required")
        if trail.get("event_selectors") and trail.get("advanced_event_selectors"):
            problems.append(f"{where}: event_selectors or advanced_event_selectors, not both")
        status = trail.get("status", {})
        if not isinstance(status, dict):
            problems.append(f"{where}.status: an object")
        else:
            for key in set(status) - _STATUS_KEYS:
                problems.append(f"{where}.status.{key}: unknown key")
    keys = section.get("public_keys", {})
    if not isinstance(keys, dict):
        problems.append(f"{path}.public_keys: an object of region -> list")
    else:
        for region, entries in keys.items():
            for j, key in enumerate(entries):
                where = f"{path}.public_keys.{region}[{j}]"
                try:
                    bytes.fromhex(key.get("der_hex", ""))
                except ValueError:
                    problems.append(f"{where}.der_hex: hex")
                for field in ("validity_start_time", "validity_end_time"):
                    if not isinstance(key.get(field), datetime.datetime):
                        problems.append(f"{where}.{field}: a date")
    for key in set(section) - {"trails", "public_keys", "_comment"}:
        problems.append(f"{path}.{key}: unknown key")
    return problems
