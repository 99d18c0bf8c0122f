"""Scenario loader: JSON file -> validated Scenario with relative dates resolved.

The schema is documented in tests/simulator/scenarios/README.md. Every problem found is
reported at once (ScenarioError lists them all) so a scenario author fixes a file in one pass.
"""

import copy
import datetime
import fnmatch
import json
import re

UTC = datetime.timezone.utc

# aws partition regions: True = opt-in required (not enabled unless the account opted in).
ALL_REGIONS = {
    "us-east-1": False, "us-east-2": False, "us-west-1": False, "us-west-2": False,
    "ca-central-1": False, "sa-east-1": False, "eu-west-1": False, "eu-west-2": False,
    "eu-west-3": False, "eu-central-1": False, "eu-north-1": False, "ap-south-1": False,
    "ap-northeast-1": False, "ap-northeast-2": False, "ap-northeast-3": False,
    "ap-southeast-1": False, "ap-southeast-2": False,
    "af-south-1": True, "ap-east-1": True, "ap-south-2": True, "ap-southeast-3": True,
    "ap-southeast-4": True, "ap-southeast-5": True, "ap-southeast-7": True, "ca-west-1": True,
    "eu-south-1": True, "eu-south-2": True, "eu-central-2": True, "il-central-1": True,
    "me-south-1": True, "me-central-1": True, "mx-central-1": True,
}
DEFAULT_REGIONS = frozenset(r for r, opt_in in ALL_REGIONS.items() if not opt_in)

# Keys whose values are dates. Any key ending in "_date" or "_time" is one too.
DATE_KEYS = frozenset({"created", "enabled", "last_used", "last_changed", "last_rotated",
                       "uploaded", "joined", "until", "at", "expires", "date"})
_RELATIVE = re.compile(r"^([+-])(\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MFA_KINDS = ("virtual", "hardware", "u2f", "none")
ACCOUNT_STATUSES = ("ACTIVE", "SUSPENDED", "PENDING_CLOSURE", "CLOSED")


class ScenarioError(Exception):
    def __init__(self, problems):
        super().__init__("invalid scenario:\n  " + "\n  ".join(problems))
        self.problems = problems


def parse_date(value, now):
    """`"-120d"`, `"+30m"`, `"now"`, ISO 8601 or epoch seconds -> aware datetime."""
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    if value == "now":
        return now
    match = _RELATIVE.match(value)
    if match:
        sign, amount, unit = match.groups()
        delta = datetime.timedelta(seconds=float(amount) * _UNITS[unit])
        return now + delta if sign == "+" else now - delta
    parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_duration(value):
    """`"90s"`, `"5m"`, `"2h"` or a number of seconds -> seconds (float)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhdw]?)", str(value))
    if not match:
        raise ValueError(f"not a duration: {value!r}")
    return float(match.group(1)) * _UNITS.get(match.group(2) or "s", 1)


def is_date_key(key):
    return key in DATE_KEYS or key.endswith("_date") or key.endswith("_time")


def _resolve_dates(node, now, path, problems):
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else key
            if is_date_key(key) and value is not None and \
                    not isinstance(value, (dict, list, bool)):
                try:
                    node[key] = parse_date(value, now)
                except ValueError as exc:
                    problems.append(f"{where}: {exc}")
            else:
                _resolve_dates(value, now, where, problems)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _resolve_dates(value, now, f"{path}[{i}]", problems)


def matches(patterns, action):
    """True when an IAM action like "iam:ListUsers" matches one of the glob patterns."""
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


class Account:
    """One AWS account of the scenario. `data` is its raw (date-resolved) dict."""

    def __init__(self, data, management_id):
        self.data = data
        self.id = data["id"]
        self.name = data.get("name", self.id)
        self.email = data.get("email", f"aws+{self.id}@example.com")
        self.status = data.get("status", "ACTIVE")
        self.joined = data.get("joined")
        self.joined_method = data.get("joined_method",
                                      "CREATED" if self.id == management_id else "INVITED")
        self.is_management = self.id == management_id
        explicit = data.get("enabled_regions")
        self.enabled_regions = frozenset(explicit) if explicit is not None else \
            DEFAULT_REGIONS | frozenset(data.get("opted_in_regions", []))
        self.root = data.setdefault("root", {})
        self.users = data.setdefault("users", [])
        self.roles = data.setdefault("roles", [])
        self.groups = data.setdefault("groups", [])
        self.policies = data.setdefault("policies", [])
        self.services = data.setdefault("services", {})
        self.deny = data.get("deny", [])

    def user(self, name):
        return next((u for u in self.users if u["name"] == name), None)

    def role(self, name):
        return next((r for r in self.roles if r["name"] == name), None)

    def region_enabled(self, region):
        return region in self.enabled_regions


class Key:
    """A long-term access key the scenario lets a caller sign with."""

    def __init__(self, key_id, secret, account, kind, user=None, status="Active"):
        self.id = key_id
        self.secret = secret
        self.account = account
        self.kind = kind            # "root" or "user"
        self.user = user            # the user's scenario dict for kind "user"
        self.status = status


class Scenario:
    def __init__(self, raw, now):
        self.raw = raw
        self.now_at_load = now
        org = raw.get("organization")
        self.organization = org
        self.management_id = org["management_account"] if org else None
        self.accounts = [Account(a, self.management_id) for a in raw["accounts"]]
        self.by_id = {a.id: a for a in self.accounts}
        self.default_region = raw.get("default_region", "us-east-1")
        self.page_size = raw.get("page_size")
        self.page_sizes = raw.get("page_sizes", {})
        self.max_skew = parse_duration(raw.get("max_skew", 300))
        self.credential_report_delay = parse_duration(raw.get("credential_report_delay", 2))
        self.session_duration = parse_duration(raw.get("session_duration", 3600))
        self.faults = raw.get("faults", [])
        self.throttle = raw.get("throttle", {})
        self.instance_profile = raw.get("instance_profile")
        self.container = raw.get("container")
        self.keys = {}
        for account in self.accounts:
            for key in account.root.get("access_keys", []):
                self.keys[key["id"]] = Key(key["id"], key.get("secret"), account, "root",
                                           status=key.get("status", "Active"))
            for user in account.users:
                for key in user.get("access_keys", []):
                    self.keys[key["id"]] = Key(key["id"], key.get("secret"), account, "user",
                                               user, key.get("status", "Active"))
        self.default_caller = raw.get("default_caller")

    def account(self, account_id):
        return self.by_id.get(account_id)


def read(path):
    """The scenario file's JSON; raises ScenarioError or OSError."""
    with open(path, encoding="utf-8") as handle:
        try:
            return json.load(handle)
        except ValueError as exc:
            raise ScenarioError([f"{path}: not JSON: {exc}"]) from None


def load(path, now, services=()):
    """Reads, resolves and validates a scenario file; raises ScenarioError or OSError."""
    return build(read(path), now, services)


def parse_offset(value):
    """A signed clock offset: seconds, or a duration string like "-10m" / "+2h"."""
    text = str(value).strip()
    sign = -1.0 if text.startswith("-") else 1.0
    return sign * parse_duration(text.lstrip("+-"))


def build(raw, now, services=()):
    """Validates an already-parsed scenario dict (the benchmark generator uses this)."""
    raw = copy.deepcopy(raw)
    problems = []
    if not isinstance(raw, dict) or not isinstance(raw.get("accounts"), list) or \
            not raw["accounts"]:
        raise ScenarioError(["top level: needs a non-empty \"accounts\" list"])
    _resolve_dates(raw, now, "", problems)
    _validate(raw, problems)
    if problems:
        raise ScenarioError(problems)
    scenario = Scenario(raw, now)
    for service in services:
        if service.validate is None:
            continue
        for i, account in enumerate(scenario.accounts):
            section = account.services.get(service.model_name)
            if section is not None:
                problems += service.validate(section,
                                             f"accounts[{i}].services.{service.model_name}")
    if problems:
        raise ScenarioError(problems)
    return scenario


def _validate(raw, problems):
    ids = set()
    key_ids = set()
    org = raw.get("organization")
    for i, account in enumerate(raw["accounts"]):
        where = f"accounts[{i}]"
        if not isinstance(account, dict):
            problems.append(f"{where}: not an object")
            continue
        aid = account.get("id")
        if not isinstance(aid, str) or not re.fullmatch(r"\d{12}", aid):
            problems.append(f"{where}.id: must be a 12-digit string")
        elif aid in ids:
            problems.append(f"{where}.id: duplicate {aid}")
        ids.add(aid)
        if account.get("status", "ACTIVE") not in ACCOUNT_STATUSES:
            problems.append(f"{where}.status: one of {', '.join(ACCOUNT_STATUSES)}")
        for region in account.get("opted_in_regions", []) + account.get("enabled_regions", []):
            if region not in ALL_REGIONS:
                problems.append(f"{where}: unknown region {region}")
        root = account.get("root", {})
        if root.get("mfa", "none") not in MFA_KINDS:
            problems.append(f"{where}.root.mfa: one of {', '.join(MFA_KINDS)}")
        keyed = [(f"{where}.root", root)] + [
            (f"{where}.users[{j}]", u) for j, u in enumerate(account.get("users", []))]
        names = set()
        for uwhere, holder in keyed:
            if holder is not root:
                if not isinstance(holder.get("name"), str):
                    problems.append(f"{uwhere}.name: required")
                elif holder["name"] in names:
                    problems.append(f"{uwhere}.name: duplicate {holder['name']}")
                else:
                    names.add(holder["name"])
            keys = holder.get("access_keys", [])
            if len(keys) > 2:
                problems.append(f"{uwhere}.access_keys: IAM allows at most 2")
            for k, key in enumerate(keys):
                kid = key.get("id", "")
                if not re.fullmatch(r"AKIA[A-Z0-9]{12,124}", kid):
                    problems.append(f"{uwhere}.access_keys[{k}].id: AKIA followed by 12+ "
                                    f"upper-case letters or digits")
                elif kid in key_ids:
                    problems.append(f"{uwhere}.access_keys[{k}].id: duplicate {kid}")
                key_ids.add(kid)
                if key.get("status", "Active") not in ("Active", "Inactive"):
                    problems.append(f"{uwhere}.access_keys[{k}].status: Active or Inactive")
            for m, device in enumerate(holder.get("mfa_devices", [])):
                if device.get("type") not in ("virtual", "hardware", "u2f"):
                    problems.append(f"{uwhere}.mfa_devices[{m}].type: virtual, hardware or u2f")
        for r, role in enumerate(account.get("roles", [])):
            rwhere = f"{where}.roles[{r}]"
            if not isinstance(role.get("name"), str):
                problems.append(f"{rwhere}.name: required")
            duration = role.get("max_session_duration", 3600)
            if not isinstance(duration, int) or not 3600 <= duration <= 43200:
                problems.append(f"{rwhere}.max_session_duration: 3600..43200 seconds")
            trust = role.get("trust", {})
            if not isinstance(trust, dict):
                problems.append(f"{rwhere}.trust: an object")
    if org is not None:
        if org.get("management_account") not in ids:
            problems.append("organization.management_account: not one of the accounts")
        if not re.fullmatch(r"o-[a-z0-9]{10,32}", org.get("id", "")):
            problems.append("organization.id: o- followed by 10-32 lower-case letters or digits")
    caller = raw.get("default_caller")
    if caller is not None:
        owners = [k for a in raw["accounts"] if isinstance(a, dict)
                  for h in [a.get("root", {})] + a.get("users", [])
                  for k in h.get("access_keys", []) if k.get("id") == caller]
        if not owners:
            problems.append(f"default_caller: no access key {caller} in the scenario")
        elif not owners[0].get("secret"):
            problems.append("default_caller: that access key has no secret")
    region = raw.get("default_region", "us-east-1")
    if region not in ALL_REGIONS:
        problems.append(f"default_region: unknown region {region}")
    for name in ("instance_profile", "container"):
        entry = raw.get(name)
        if entry is None:
            continue
        account = next((a for a in raw["accounts"] if a.get("id") == entry.get("account")), None)
        if account is None:
            problems.append(f"{name}.account: not one of the accounts")
        elif not any(r.get("name") == entry.get("role") for r in account.get("roles", [])):
            problems.append(f"{name}.role: no such role in account {entry.get('account')}")
    if "container" in raw and not raw["container"].get("auth_token"):
        problems.append("container.auth_token: required")
    for key in ("max_skew", "credential_report_delay", "session_duration"):
        if key in raw:
            try:
                parse_duration(raw[key])
            except ValueError as exc:
                problems.append(f"{key}: {exc}")
