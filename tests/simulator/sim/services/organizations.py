"""Organizations: ListAccounts, for the management account or a delegated administrator.

Scenario: top-level `organization` {id, management_account, delegated_administrators,
empty_first_page}; every scenario account is a member. Accounts carry both the retiring
`Status` and its replacement `State`.
"""

from sim.services import ApiError, Service

SERVICE = Service(
    model="organizations",
    regional=False,
    errors={
        "throttle": ("TooManyRequestsException", 400,
                     "You have sent too many requests in too short a period of time. Try again "
                     "later."),
        "access_denied": ("AccessDeniedException", 400,
                          "You don't have permissions to access this resource."),
        "invalid_token": ("InvalidInputException", 400,
                          "You specified an invalid value for nextToken."),
        "validation": ("InvalidInputException", 400),
    },
    rates={"*": (5.0, 10.0)},
)

# State -> the retiring Status enum (which has no PENDING_ACTIVATION or CLOSED).
_STATUS = {"ACTIVE": "ACTIVE", "SUSPENDED": "SUSPENDED", "PENDING_CLOSURE": "PENDING_CLOSURE",
           "CLOSED": "SUSPENDED"}


@SERVICE.action("ListAccounts")
def list_accounts(call):
    org = call.world.scenario.organization
    if org is None:
        raise ApiError("AWSOrganizationsNotInUseException",
                       "Your account is not a member of an organization.", 400)
    allowed = {org["management_account"], *org.get("delegated_administrators", [])}
    if call.account_id not in allowed:
        raise ApiError("AccessDeniedException",
                       "You don't have permissions to access this resource.", 400)
    accounts = [_account(org, a) for a in call.world.scenario.accounts]
    if org.get("empty_first_page") and not call.params.get("NextToken"):
        # Organizations documents empty pages that still carry a token: clients must loop on
        # the token, not on the item count.
        return {"Accounts": [], "NextToken": call.page_token(0)}
    page, token = call.paginate(accounts, token="NextToken", limit="MaxResults", default=20)
    return {"Accounts": page, "NextToken": token}


def _account(org, account):
    return {
        "Id": account.id,
        "Arn": f"arn:aws:organizations::{org['management_account']}:account/{org['id']}/{account.id}",
        "Email": account.email,
        "Name": account.name,
        "Status": _STATUS[account.status],
        "State": account.status,
        "JoinedMethod": account.joined_method,
        "JoinedTimestamp": account.joined,
    }
