"""STS: GetCallerIdentity, AssumeRole, AssumeRoleWithWebIdentity.

Trust comes from the scenario's roles: `trust.principals` (ARNs, account ids or "*"),
`trust.external_id`, `trust.web_identity_token`, and `max_session_duration`. Issued
credentials belong to the role's account: every call made with them lands there.
"""

import re

from sim import world as world_mod
from sim.services import ApiError, Service

SERVICE = Service(
    model="sts",
    regional=True,
    errors={
        "region_disabled": (
            "RegionDisabledException", 403,
            "STS is not activated in this region for account:{account}. Your account "
            "administrator can activate STS in this region using the IAM Console."),
    },
    rates={"*": (100.0, 200.0)},
    unsigned_actions=("AssumeRoleWithWebIdentity",),
    no_permission_actions=("GetCallerIdentity",),
)

_ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)$")
CHAINED_MAX = 3600


@SERVICE.action("GetCallerIdentity")
def get_caller_identity(call):
    p = call.principal
    return {"UserId": p.user_id, "Account": p.account_id, "Arn": p.arn}


def _target_role(call, arn):
    """(account, role) named by `arn`, or None when it does not exist."""
    match = _ROLE_ARN.match(arn)
    if not match:
        raise ApiError("ValidationError", f"{arn} is invalid", 400)
    account = call.world.account(match.group(1))
    if account is None:
        return None, None
    role = account.role(match.group(2))
    if role is None or world_mod.role_arn(account, role) != arn:
        return account, None
    return account, role


def _trusted(principal, account, role):
    names = role.get("trust", {}).get("principals", [])
    candidates = {principal.trust_arn, principal.account_id,
                  f"arn:aws:iam::{principal.account_id}:root"}
    return "*" in names or any(n in candidates for n in names)


def _duration(call, role):
    asked = call.params.get("DurationSeconds", 3600)
    limit = role.get("max_session_duration", 3600)
    if call.principal is not None and call.principal.kind == "assumed-role" and asked > CHAINED_MAX:
        raise ApiError("ValidationError", "The requested DurationSeconds exceeds the 1 hour "
                       "session limit for roles assumed by role chaining.", 400)
    if asked > limit:
        raise ApiError("ValidationError", "The requested DurationSeconds exceeds the "
                       "MaxSessionDuration set for this role.", 400)
    return asked


def _credentials(session):
    return {"AccessKeyId": session.access_key_id, "SecretAccessKey": session.secret,
            "SessionToken": session.token, "Expiration": session.expiration}


def _assumed(session):
    p = session.principal
    return {"Arn": p.arn, "AssumedRoleId": p.user_id}


@SERVICE.action("AssumeRole")
def assume_role(call):
    arn = call.params["RoleArn"]
    account, role = _target_role(call, arn)
    denied = ApiError("AccessDenied", f"User: {call.principal.arn} is not authorized to perform: "
                      f"sts:AssumeRole on resource: {arn}", 403)
    if role is None or account.status != "ACTIVE" or not _trusted(call.principal, account, role):
        raise denied
    wanted = role.get("trust", {}).get("external_id")
    if wanted is not None and call.params.get("ExternalId") != wanted:
        raise denied
    seconds = _duration(call, role)
    session = call.world.issue_session(account, role, call.params["RoleSessionName"], seconds,
                                       chained=call.principal.kind == "assumed-role")
    out = {"Credentials": _credentials(session), "AssumedRoleUser": _assumed(session)}
    if call.params.get("Policy") or call.params.get("PolicyArns") or call.params.get("Tags"):
        out["PackedPolicySize"] = 6
    if call.params.get("SourceIdentity"):
        out["SourceIdentity"] = call.params["SourceIdentity"]
    return out


@SERVICE.action("AssumeRoleWithWebIdentity")
def assume_role_with_web_identity(call):
    arn = call.params["RoleArn"]
    account, role = _target_role(call, arn)
    expected = (role or {}).get("trust", {}).get("web_identity_token")
    if role is None or expected is None or account.status != "ACTIVE":
        raise ApiError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity",
                       403)
    if call.params["WebIdentityToken"] != expected:
        raise ApiError("InvalidIdentityToken", "The web identity token that was passed could not "
                       "be validated by AWS. Get a new identity token from the identity provider "
                       "and then retry the request.", 400)
    seconds = _duration(call, role)
    session = call.world.issue_session(account, role, call.params["RoleSessionName"], seconds)
    provider = role["trust"].get("web_identity_provider", "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE")
    return {"Credentials": _credentials(session), "AssumedRoleUser": _assumed(session),
            "SubjectFromWebIdentityToken": role["trust"].get("web_identity_subject",
                                                             "system:serviceaccount:evident:agent"),
            "Provider": provider, "Audience": role["trust"].get("web_identity_audience", "sts.amazonaws.com")}
