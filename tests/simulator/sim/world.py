"""The simulated world: the loaded scenario plus what changes while it runs.

The scenario's runtime state lives here and only here: issued temporary credentials,
per-service per-account state (credential-report jobs, stored objects) and the clock
offset. (Fault rules and throttle buckets are the pipeline's, in faults.py and
throttle.py.) One World per simulator process, passed to everything.
"""

import base64
import datetime
import hashlib
import secrets
import threading

from sim import scenario as scenario_mod

UTC = datetime.timezone.utc


def stable_id(prefix, *parts):
    """A deterministic IAM-style unique id (AIDA…, AROA…) for a scenario entity."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:17]


class Principal:
    """Who signed a request: a root user, an IAM user or an assumed-role session."""

    def __init__(self, kind, account_id, arn, user_id, access_key_id, source,
                 user_name=None, role_name=None, session_name=None, chained=False):
        self.kind = kind
        self.account_id = account_id
        self.arn = arn
        self.user_id = user_id
        self.access_key_id = access_key_id
        self.source = source            # the scenario dict holding allow/deny lists
        self.user_name = user_name
        self.role_name = role_name
        self.session_name = session_name
        self.chained = chained          # a role session that assumed this role

    @property
    def trust_arn(self):
        """The ARN a trust policy names for this principal (the role, not the session)."""
        if self.kind == "assumed-role":
            return f"arn:aws:iam::{self.account_id}:role/{self.role_name}"
        return self.arn

    def permitted(self, account, action):
        """Applies the account's SCP-style deny list (not in the management account), then
        the principal's own deny and allow lists (an absent allow list allows everything)."""
        if not account.is_management and scenario_mod.matches(account.deny, action):
            return False
        source = self.source or {}
        if scenario_mod.matches(source.get("deny", []), action):
            return False
        allow = source.get("allow")
        if allow is not None and self.kind != "root" and \
                not scenario_mod.matches(allow, action):
            return False
        return True


def root_principal(account, key_id):
    return Principal("root", account.id, f"arn:aws:iam::{account.id}:root", account.id,
                     key_id, account.root)


def user_principal(account, user, key_id):
    path = user.get("path", "/")
    return Principal("user", account.id, f"arn:aws:iam::{account.id}:user{path}{user['name']}",
                     user.get("id") or stable_id("AIDA", account.id, user["name"]), key_id, user,
                     user_name=user["name"])


def role_id(account, role):
    return role.get("id") or stable_id("AROA", account.id, role["name"])


def role_arn(account, role):
    return f"arn:aws:iam::{account.id}:role{role.get('path', '/')}{role['name']}"


class Session:
    """Temporary credentials issued by STS or the metadata server."""

    def __init__(self, account, role, session_name, expiration, chained):
        self.access_key_id = "ASIA" + base64.b32encode(secrets.token_bytes(10)).decode()[:16]
        self.secret = base64.b64encode(secrets.token_bytes(30)).decode()
        # Real session tokens start with this prefix and run past 1 KB: clients must not
        # assume a fixed buffer.
        self.token = "IQoJb3JpZ2luX2Vj" + base64.b64encode(secrets.token_bytes(900)).decode()
        self.expiration = expiration
        self.account = account
        self.role = role
        self.principal = Principal(
            "assumed-role", account.id,
            f"arn:aws:sts::{account.id}:assumed-role/{role['name']}/{session_name}",
            f"{role_id(account, role)}:{session_name}", self.access_key_id, role,
            role_name=role["name"], session_name=session_name, chained=chained)


class World:
    def __init__(self, scenario, clock_offset=0.0):
        self.scenario = scenario
        self.clock_offset = clock_offset
        self.lock = threading.RLock()
        self.sessions = {}
        self._state = {}

    def now(self):
        """The simulator's clock: real time shifted by the configured offset."""
        return datetime.datetime.now(UTC) + datetime.timedelta(seconds=self.clock_offset)

    def account(self, account_id):
        return self.scenario.account(account_id)

    def state(self, key):
        with self.lock:
            return self._state.setdefault(key, {})

    def issue_session(self, account, role, session_name, seconds, chained=False):
        session = Session(account, role, session_name,
                          self.now() + datetime.timedelta(seconds=seconds), chained)
        with self.lock:
            self.sessions[session.access_key_id] = session
        return session

    def session(self, access_key_id):
        with self.lock:
            return self.sessions.get(access_key_id)

    def expire_sessions(self, account_id=None, access_key_id=None):
        """Makes issued credentials expire now (all, one account's, or one key's)."""
        past = self.now() - datetime.timedelta(seconds=1)
        with self.lock:
            for session in self.sessions.values():
                if (account_id is None or session.account.id == account_id) and \
                        (access_key_id is None or session.access_key_id == access_key_id):
                    session.expiration = min(session.expiration, past)
