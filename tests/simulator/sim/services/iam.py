"""IAM (global, signed us-east-1): account summary, credential report, users, keys, MFA,
authorization details, organization root-access features.

Everything is derived from the caller's scenario account (schema: scenarios/README.md).
Lists page with Marker/IsTruncated at the scenario's page size.
"""

import csv
import datetime
import io
import json
import urllib.parse

from sim import world as world_mod
from sim.services import ApiError, Service

_FEATURES_PATCH = {
    "operations": {
        "ListOrganizationsFeatures": {
            "name": "ListOrganizationsFeatures",
            "http": {"method": "POST", "requestUri": "/"},
            "input": {"shape": "ListOrganizationsFeaturesRequest"},
            "output": {"shape": "ListOrganizationsFeaturesResponse",
                       "resultWrapper": "ListOrganizationsFeaturesResult"},
        },
    },
    "shapes": {
        "ListOrganizationsFeaturesRequest": {"type": "structure", "members": {}},
        "ListOrganizationsFeaturesResponse": {
            "type": "structure",
            "members": {"OrganizationId": {"shape": "OrganizationIdType"},
                        "EnabledFeatures": {"shape": "FeaturesListType"}},
        },
        "OrganizationIdType": {"type": "string", "max": 34, "min": 12},
        "FeaturesListType": {"type": "list", "member": {"shape": "FeatureType"}},
        "FeatureType": {"type": "string", "enum": ["RootCredentialsManagement", "RootSessions"]},
    },
}

SERVICE = Service(
    model="iam",
    regional=False,
    rates={"*": (20.0, 40.0), "GenerateCredentialReport": (2.0, 5.0)},
    model_patch=_FEATURES_PATCH,
)

REPORT_MAX_AGE = datetime.timedelta(hours=4)
CSV_COLUMNS = (
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
    "password_last_changed", "password_next_rotation", "mfa_active", "access_key_1_active",
    "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region",
    "access_key_1_last_used_service", "access_key_2_active", "access_key_2_last_rotated",
    "access_key_2_last_used_date", "access_key_2_last_used_region",
    "access_key_2_last_used_service", "cert_1_active", "cert_1_last_rotated", "cert_2_active",
    "cert_2_last_rotated",
)
AWS_MANAGED = {
    "AdministratorAccess": {"Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    "ReadOnlyAccess": {"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": ["iam:Get*", "iam:List*",
                                                                   "ec2:Describe*", "s3:Get*"],
                                      "Resource": "*"}]},
    "SecurityAudit": {"Version": "2012-10-17",
                      "Statement": [{"Effect": "Allow", "Action": ["iam:GenerateCredentialReport",
                                                                  "iam:Get*", "iam:List*",
                                                                  "cloudtrail:Describe*",
                                                                  "config:Describe*"],
                                     "Resource": "*"}]},
}
_EPOCH = datetime.datetime(2014, 1, 1, tzinfo=datetime.timezone.utc)


# --- helpers -----------------------------------------------------------------------------

def _created(entity):
    return entity.get("created") or _EPOCH


def _user_arn(account, user):
    return f"arn:aws:iam::{account.id}:user{user.get('path', '/')}{user['name']}"


def _user_entry(account, user):
    out = {"Path": user.get("path", "/"), "UserName": user["name"],
           "UserId": user.get("id") or world_mod.stable_id("AIDA", account.id, user["name"]),
           "Arn": _user_arn(account, user), "CreateDate": _created(user)}
    password = user.get("password")
    if password and password.get("last_used"):
        out["PasswordLastUsed"] = password["last_used"]
    return out


def _target_user(call):
    """The user a UserName-optional call is about: the named one, or the calling user.

    Returns None for root (its own credentials). Role sessions must name the user.
    """
    name = call.params.get("UserName")
    if name is None:
        if call.principal.kind == "assumed-role":
            raise ApiError("ValidationError",
                           "Must specify userName when calling with non-User credentials", 400)
        if call.principal.kind == "root":
            return None
        name = call.principal.user_name
    user = call.account.user(name)
    if user is None:
        raise ApiError("NoSuchEntity", f"The user with name {name} cannot be found.", 404)
    return user


def _root_devices(account):
    root = account.root
    kind = root.get("mfa", "none")
    devices = list(root.get("mfa_devices", []))
    if kind != "none" and not devices:
        devices = [{"type": kind, "enabled": root.get("mfa_enabled_date") or _created(root)}]
    return devices


def _serial(account, device, owner):
    if device.get("serial"):
        return device["serial"]
    kind = device["type"]
    if kind == "virtual":
        name = device.get("name") or ("root-account-mfa-device" if owner is None else owner)
        return f"arn:aws:iam::{account.id}:mfa/{name}"
    if kind == "u2f":
        who = "root" if owner is None else f"user/{owner}"
        return f"arn:aws:iam::{account.id}:u2f/{who}/{device.get('name', 'key')}"
    return "GAHT" + world_mod.stable_id("", account.id, owner or "root", "mfa")[:8]


def _url_doc(document):
    return urllib.parse.quote(json.dumps(document, separators=(",", ":")), safe="")


def _iso_report(value):
    if value is None:
        return "N/A"
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _bool(value):
    return "true" if value else "false"


# --- account summary ---------------------------------------------------------------------

@SERVICE.action("GetAccountSummary")
def get_account_summary(call):
    account = call.account
    root = account.root
    devices = [(u["name"], d) for u in account.users for d in u.get("mfa_devices", [])]
    devices += [(None, d) for d in _root_devices(account)]
    unassigned = account.data.get("unassigned_virtual_mfa_devices", [])
    policies = len(account.policies)
    summary = {
        "Users": len(account.users), "UsersQuota": 5000,
        "Groups": len(account.groups), "GroupsQuota": 300,
        "Roles": len(account.roles), "RolesQuota": 1000,
        "Policies": policies, "PoliciesQuota": 1500,
        "MFADevices": len(devices) + len(unassigned), "MFADevicesInUse": len(devices),
        "AccountMFAEnabled": 1 if _root_devices(account) else 0,
        "AccountAccessKeysPresent": 1 if root.get("access_keys") else 0,
        "AccountPasswordPresent": 0 if root.get("password") is False else 1,
        "AccountSigningCertificatesPresent": 1 if root.get("signing_certificates") else 0,
        "GlobalEndpointTokenVersion": account.data.get("global_endpoint_token_version", 1),
        "ServerCertificates": 0, "ServerCertificatesQuota": 20,
        "InstanceProfiles": 0, "InstanceProfilesQuota": 1000,
        "Providers": 0, "AccessKeysPerUserQuota": 2, "SigningCertificatesPerUserQuota": 2,
        "AttachedPoliciesPerUserQuota": 10, "AttachedPoliciesPerGroupQuota": 10,
        "AttachedPoliciesPerRoleQuota": 10, "PolicySizeQuota": 6144,
        "PolicyVersionsInUse": policies, "PolicyVersionsInUseQuota": 10000,
        "VersionsPerPolicyQuota": 5, "GroupsPerUserQuota": 10,
        "AssumeRolePolicySizeQuota": 2048, "UserPolicySizeQuota": 2048,
        "GroupPolicySizeQuota": 5120,
    }
    return {"SummaryMap": summary}


# --- credential report -------------------------------------------------------------------

@SERVICE.action("GenerateCredentialReport")
def generate_credential_report(call):
    delay = datetime.timedelta(seconds=call.world.scenario.credential_report_delay)
    with call.lock:
        state = call.state()
        job = state.get("report")
        if job is None or call.now - (job["started"] + delay) > REPORT_MAX_AGE:
            state["report"] = {"started": call.now}
            return {"State": "STARTED",
                    "Description": "No report exists. Starting a new report generation task"}
        if call.now < job["started"] + delay:
            return {"State": "INPROGRESS", "Description": "Report generation task in progress"}
        return {"State": "COMPLETE"}


@SERVICE.action("GetCredentialReport")
def get_credential_report(call):
    delay = datetime.timedelta(seconds=call.world.scenario.credential_report_delay)
    with call.lock:
        job = call.state().get("report")
    if job is None:
        raise ApiError("ReportNotPresent", None, 410)
    generated = job["started"] + delay
    if call.now < generated:
        raise ApiError("ReportInProgress", "Report is in progress", 404)
    if call.now - generated > REPORT_MAX_AGE:
        raise ApiError("ReportExpired", "Report is expired", 410)
    content = credential_report_csv(call.account)
    return {"Content": content.encode(), "ReportFormat": "text/csv",
            "GeneratedTime": generated.replace(microsecond=0)}


def _key_columns(keys):
    out = []
    for i in range(2):
        key = keys[i] if i < len(keys) else None
        if key is None:
            out += ["false", "N/A", "N/A", "N/A", "N/A"]
            continue
        used = key.get("last_used") or {}
        out += [_bool(key.get("status", "Active") == "Active"), _iso_report(key.get("created")),
                _iso_report(used.get("date")), used.get("region", "N/A") if used else "N/A",
                used.get("service", "N/A") if used else "N/A"]
    return out


def _cert_columns(certs):
    out = []
    for i in range(2):
        cert = certs[i] if i < len(certs) else None
        if cert is None:
            out += ["false", "N/A"]
        else:
            out += [_bool(cert.get("status", "Active") == "Active"), _iso_report(cert.get("uploaded"))]
    return out


def credential_report_csv(account):
    """The 22-column report, root first, the way IAM writes it (\\n line endings)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    root = account.root
    password = root.get("password", {})
    if password is False:
        root_password = ["false", "N/A", "not_supported", "not_supported"]
    else:
        last = (password or {}).get("last_used")
        root_password = ["not_supported", _iso_report(last) if last else "no_information",
                         "not_supported", "not_supported"]
    writer.writerow(["<root_account>", f"arn:aws:iam::{account.id}:root",
                     _iso_report(_created(root)), *root_password,
                     _bool(_root_devices(account)),
                     *_key_columns(root.get("access_keys", [])),
                     *_cert_columns(root.get("signing_certificates", []))])
    for user in account.users:
        password = user.get("password")
        if password:
            last = password.get("last_used")
            pw = ["true", _iso_report(last) if last else "no_information",
                  _iso_report(password.get("last_changed") or _created(user)),
                  _iso_report(password.get("next_rotation"))]
        else:
            pw = ["false", "N/A", "N/A", "N/A"]
        writer.writerow([user["name"], _user_arn(account, user), _iso_report(_created(user)), *pw,
                         _bool(user.get("mfa_devices")),
                         *_key_columns(user.get("access_keys", [])),
                         *_cert_columns(user.get("signing_certificates", []))])
    return buf.getvalue()


# --- users, keys, MFA --------------------------------------------------------------------

@SERVICE.action("ListUsers")
def list_users(call):
    prefix = call.params.get("PathPrefix", "/")
    users = [_user_entry(call.account, u) for u in call.account.users
             if u.get("path", "/").startswith(prefix)]
    page, marker = call.paginate(users)
    return {"Users": page, "IsTruncated": marker is not None, "Marker": marker}


@SERVICE.action("ListAccessKeys")
def list_access_keys(call):
    user = _target_user(call)
    keys = (user or call.account.root).get("access_keys", [])
    entries = [{"UserName": user["name"] if user else None, "AccessKeyId": k["id"],
                "Status": k.get("status", "Active"), "CreateDate": k.get("created") or _EPOCH}
               for k in keys]
    page, marker = call.paginate(entries)
    return {"AccessKeyMetadata": page, "IsTruncated": marker is not None, "Marker": marker}


@SERVICE.action("GetAccessKeyLastUsed")
def get_access_key_last_used(call):
    key_id = call.params["AccessKeyId"]
    owners = [("root", call.account.root)] + [(u["name"], u) for u in call.account.users]
    for name, owner in owners:
        for key in owner.get("access_keys", []):
            if key["id"] == key_id:
                used = key.get("last_used") or {}
                last = {"Region": used.get("region", "N/A"),
                        "ServiceName": used.get("service", "N/A"),
                        "LastUsedDate": used.get("date")}
                return {"UserName": name, "AccessKeyLastUsed": last}
    raise ApiError("AccessDenied", f"User: {call.principal.arn} is not authorized to perform: "
                   f"iam:GetAccessKeyLastUsed on resource: access key {key_id}", 403)


@SERVICE.action("ListMFADevices")
def list_mfa_devices(call):
    user = _target_user(call)
    if user is None:
        devices = [{"SerialNumber": _serial(call.account, d, None),
                    "EnableDate": d.get("enabled") or _created(call.account.root)}
                   for d in _root_devices(call.account)]
    else:
        devices = [{"UserName": user["name"], "SerialNumber": _serial(call.account, d, user["name"]),
                    "EnableDate": d.get("enabled") or _created(user)}
                   for d in user.get("mfa_devices", [])]
    page, marker = call.paginate(devices)
    return {"MFADevices": page, "IsTruncated": marker is not None, "Marker": marker}


@SERVICE.action("ListVirtualMFADevices")
def list_virtual_mfa_devices(call):
    account = call.account
    status = call.params.get("AssignmentStatus", "Any")
    assigned = []
    for device in _root_devices(account):
        if device["type"] == "virtual":
            # The root user's entry has no UserName or Path although the model requires them.
            assigned.append({
                "SerialNumber": _serial(account, device, None),
                "User": {"UserId": account.id, "Arn": f"arn:aws:iam::{account.id}:root",
                         "CreateDate": _created(account.root)},
                "EnableDate": device.get("enabled") or _created(account.root)})
    for user in account.users:
        for device in user.get("mfa_devices", []):
            if device["type"] == "virtual":
                entry = _user_entry(account, user)
                entry.pop("PasswordLastUsed", None)
                assigned.append({"SerialNumber": _serial(account, device, user["name"]),
                                 "User": entry,
                                 "EnableDate": device.get("enabled") or _created(user)})
    unassigned = [{"SerialNumber": f"arn:aws:iam::{account.id}:mfa/{d['name']}"}
                  for d in account.data.get("unassigned_virtual_mfa_devices", [])]
    devices = {"Assigned": assigned, "Unassigned": unassigned}.get(status, assigned + unassigned)
    page, marker = call.paginate(devices)
    return {"VirtualMFADevices": page, "IsTruncated": marker is not None, "Marker": marker}


# --- authorization details ---------------------------------------------------------------

def _policy_arn_name(arn):
    return arn.rsplit("/", 1)[-1]


def _attached(entity):
    return [{"PolicyName": _policy_arn_name(a), "PolicyArn": a}
            for a in entity.get("attached_policies", [])]


def _inline(entity):
    return [{"PolicyName": name, "PolicyDocument": _url_doc(doc)}
            for name, doc in entity.get("inline_policies", {}).items()]


def _trust_document(role):
    trust = role.get("trust", {})
    statements = []
    if trust.get("principals"):
        principals = ["*" if p == "*" else
                      (f"arn:aws:iam::{p}:root" if p.isdigit() else p) for p in trust["principals"]]
        statement = {"Effect": "Allow", "Principal": {"AWS": principals},
                     "Action": "sts:AssumeRole"}
        if trust.get("external_id") is not None:
            statement["Condition"] = {"StringEquals": {"sts:ExternalId": trust["external_id"]}}
        statements.append(statement)
    if trust.get("web_identity_token") is not None:
        statements.append({"Effect": "Allow",
                           "Principal": {"Federated": trust.get("web_identity_provider",
                                                                "oidc.eks.us-east-1.amazonaws.com")},
                           "Action": "sts:AssumeRoleWithWebIdentity"})
    if trust.get("service"):
        statements.append({"Effect": "Allow", "Principal": {"Service": trust["service"]},
                           "Action": "sts:AssumeRole"})
    return {"Version": "2012-10-17", "Statement": statements}


def _auth_entries(call):
    account = call.account
    wanted = set(call.params.get("Filter") or
                 ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"])
    entries = []
    if "User" in wanted:
        for user in account.users:
            entry = _user_entry(account, user)
            entry.pop("PasswordLastUsed", None)
            entry.update({"UserPolicyList": _inline(user), "GroupList": user.get("groups", []),
                          "AttachedManagedPolicies": _attached(user)})
            entries.append(("UserDetailList", entry))
    if "Group" in wanted:
        for group in account.groups:
            entries.append(("GroupDetailList", {
                "Path": group.get("path", "/"), "GroupName": group["name"],
                "GroupId": world_mod.stable_id("AGPA", account.id, group["name"]),
                "Arn": f"arn:aws:iam::{account.id}:group{group.get('path', '/')}{group['name']}",
                "CreateDate": _created(group), "GroupPolicyList": _inline(group),
                "AttachedManagedPolicies": _attached(group)}))
    if "Role" in wanted:
        for role in account.roles:
            entry = {"Path": role.get("path", "/"), "RoleName": role["name"],
                     "RoleId": world_mod.role_id(account, role),
                     "Arn": world_mod.role_arn(account, role), "CreateDate": _created(role),
                     "AssumeRolePolicyDocument": _url_doc(_trust_document(role)),
                     "InstanceProfileList": [], "RolePolicyList": _inline(role),
                     "AttachedManagedPolicies": _attached(role)}
            used = role.get("last_used")
            if used:
                entry["RoleLastUsed"] = {"LastUsedDate": used.get("date"),
                                         "Region": used.get("region")}
            entries.append(("RoleDetailList", entry))
    holders = account.users + account.groups + account.roles
    attached = [a for h in holders for a in h.get("attached_policies", [])]
    if "LocalManagedPolicy" in wanted:
        for policy in account.policies:
            arn = f"arn:aws:iam::{account.id}:policy{policy.get('path', '/')}{policy['name']}"
            entries.append(("Policies", _policy_detail(account, policy["name"], arn,
                                                       policy.get("path", "/"),
                                                       policy.get("document", {}), policy,
                                                       attached.count(arn))))
    if "AWSManagedPolicy" in wanted:
        for arn in sorted(set(a for a in attached if a.startswith("arn:aws:iam::aws:policy/"))):
            name = _policy_arn_name(arn)
            doc = AWS_MANAGED.get(name, {"Version": "2012-10-17", "Statement": []})
            entries.append(("Policies", _policy_detail(account, name, arn, "/", doc, {},
                                                       attached.count(arn))))
    return entries


def _policy_detail(account, name, arn, path, document, policy, attachments):
    created = _created(policy)
    return {"PolicyName": name, "PolicyId": world_mod.stable_id("ANPA", arn), "Arn": arn,
            "Path": path, "DefaultVersionId": "v1", "AttachmentCount": attachments,
            "PermissionsBoundaryUsageCount": 0, "IsAttachable": True, "CreateDate": created,
            "UpdateDate": policy.get("updated_date") or created,
            "PolicyVersionList": [{"Document": _url_doc(document), "VersionId": "v1",
                                   "IsDefaultVersion": True, "CreateDate": created}]}


@SERVICE.action("GetAccountAuthorizationDetails")
def get_account_authorization_details(call):
    page, marker = call.paginate(_auth_entries(call))
    out = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    for section, entry in page:
        out[section].append(entry)
    out.update({"IsTruncated": marker is not None, "Marker": marker})
    return out


# --- organizations root-access features ----------------------------------------------------

@SERVICE.action("ListOrganizationsFeatures")
def list_organizations_features(call):
    org = call.world.scenario.organization
    if org is None:
        raise ApiError("OrganizationNotFoundException",
                       "No organization is associated with this account.", 400)
    if call.account_id not in {org["management_account"], *org.get("delegated_administrators", [])}:
        raise ApiError("AccountNotManagementOrDelegatedAdministratorException",
                       "The account is not the management account or delegated administrator.",
                       400)
    return {"OrganizationId": org["id"], "EnabledFeatures": org.get("root_access_features", [])}
