"""The service-module interface: Service, Call, ApiError, Response.

Each module in this package owns one AWS service: it creates `SERVICE = Service(...)` and
registers handlers with `@SERVICE.action("OpName")`. Handlers take a Call and return the
operation's output as a dict keyed by the botocore model's member names; protocols.py
turns that into the wire format. tests/simulator/README.md documents the contract.
"""

import base64
import hashlib
import importlib
import json
import threading

# Modules loaded by the router, in no particular order. Add a new service here.
MODULES = ("sts", "organizations", "iam", "cloudtrail", "configservice", "ec2", "rds", "elb", "awslambda", "s3")


class ApiError(Exception):
    """An AWS error answer. protocols.py renders it in the service's protocol shape.

    `extra` keyword arguments become additional fields of the error body (S3 `Region`,
    Organizations `Type`); `headers` are added to the response.
    """

    def __init__(self, code, message=None, status=400, headers=None, **extra):
        super().__init__(code)
        self.code = code
        self.message = message
        self.status = status
        self.headers = dict(headers or {})
        self.extra = extra
        self.sender = status < 500


class Response:
    """A hand-made answer for the rare call whose wire shape departs from its model."""

    def __init__(self, status, body=b"", headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode()
        self.headers = dict(headers or {})


class Service:
    """One AWS service: its botocore model name, scope and action handlers."""

    def __init__(self, model, regional=True, signing_name=None, iam_prefix=None,
                 errors=None, rates=None, unsigned_actions=(), no_permission_actions=(),
                 model_patch=None):
        self.model_name = model
        self.regional = regional
        self._signing_name = signing_name
        self._iam_prefix = iam_prefix
        self.errors = dict(errors or {})
        self.rates = dict(rates or {})
        # Actions that may arrive without a signature (STS AssumeRoleWithWebIdentity).
        self.unsigned_actions = frozenset(unsigned_actions)
        # Actions AWS answers even under an explicit Deny (STS GetCallerIdentity).
        self.no_permission_actions = frozenset(no_permission_actions)
        # Operations and shapes newer than the Debian botocore model, in its JSON form
        # ({"operations": {...}, "shapes": {...}}), merged in when the model loads.
        self.model_patch = model_patch or {}
        self.handlers = {}
        self.validate = None
        self._model = None
        self._model_lock = threading.Lock()

    def action(self, name):
        def register(func):
            self.handlers[name] = func
            return func
        return register

    def validator(self, func):
        """Registers `func(section, path) -> [error strings]` for the scenario loader."""
        self.validate = func
        return func

    @property
    def model(self):
        """The botocore ServiceModel, loaded on first use (loading is the slow part of startup)."""
        if self._model is None:
            with self._model_lock:
                if self._model is None:
                    self._model = self._load_model()
        return self._model

    def _load_model(self):
        import botocore.loaders
        import botocore.model
        raw = botocore.loaders.create_loader().load_service_model(self.model_name, "service-2")
        for section in ("operations", "shapes"):
            raw[section] = {**raw[section], **self.model_patch.get(section, {})}
        return botocore.model.ServiceModel(raw, service_name=self.model_name)

    @property
    def protocol(self):
        return self.model.protocol

    @property
    def signing_name(self):
        # Known without loading the model, so routing tables cost nothing at startup. Every
        # service here signs with its model name unless told otherwise (ELB: elasticloadbalancing).
        return self._signing_name or self.model_name

    @property
    def iam_prefix(self):
        return self._iam_prefix or self.signing_name

    @property
    def version(self):
        return self.model.api_version

    @property
    def target_prefix(self):
        return self.model.metadata.get("targetPrefix")


def load_services():
    """Imports every module in MODULES and returns their Service objects (a module serving
    several models, like ELB classic and v2, lists them in SERVICES)."""
    out = []
    for name in MODULES:
        mod = importlib.import_module(f"sim.services.{name}")
        out.extend(getattr(mod, "SERVICES", (mod.SERVICE,)))
    return out


class Call:
    """One authenticated request as a handler sees it (attributes in the README)."""

    def __init__(self, world, service, action, params, body, headers, principal, account,
                 region, request_id, now):
        self.world = world
        self.service = service
        self.action = action
        self.params = params
        self.body = body
        self.headers = headers
        self.principal = principal
        self.account = account
        self.region = region
        self.request_id = request_id
        self.now = now

    @property
    def account_id(self):
        return self.account.id

    def account_data(self, service_name):
        return self.account.services.get(service_name, {})

    def state(self, name=None):
        """A mutable dict private to (this service or `name`, this account)."""
        return self.world.state((name or self.service.model_name, self.account.id))

    @property
    def lock(self):
        return self.world.lock

    def page_size(self, default):
        return self.world.scenario.page_sizes.get(
            f"{self.service.model_name}:{self.action}", self.world.scenario.page_size or default)

    def paginate(self, items, token="Marker", limit="MaxItems", default=100,
                 invalid=None):
        """Returns (page, next_token) for `items` from the request's token and size members.

        The page is the smaller of the request's limit and the scenario's page size. Tokens
        encode the position and a digest of the request's other parameters, so a token
        replayed with other filters or altered in transit is refused with `invalid`
        (code, status), by default the protocol's invalid-token error.
        """
        size = self.page_size(default)
        asked = self.params.get(limit)
        if isinstance(asked, int) and asked > 0:
            size = min(size, asked)
        digest = self._digest(token, limit)
        start = 0
        given = self.params.get(token)
        if given:
            start = _decode_token(given, digest)
            if start is None or start > len(items):
                from sim import protocols
                code, status = invalid or protocols.error_kind(self.service, "invalid_token")
                raise ApiError(code, "Invalid pagination token", status)
        end = start + size
        next_token = _encode_token(end, digest) if end < len(items) else None
        return items[start:end], next_token

    def page_token(self, offset, token="NextToken", limit="MaxResults"):
        """The token paginate() would accept for `offset` (to hand out an empty page)."""
        return _encode_token(offset, self._digest(token, limit))

    def _digest(self, token, limit):
        others = {k: v for k, v in self.params.items() if k not in (token, limit)}
        return hashlib.sha256(
            json.dumps([self.action, others], sort_keys=True, default=str).encode()
        ).hexdigest()[:16]


def _encode_token(offset, digest):
    raw = json.dumps({"o": offset, "h": digest}, separators=(",", ":")).encode()
    # Real tokens are long opaque base64 with '/', '+', '=': keep those so clients must
    # percent-encode them on the way back.
    return "AAEA" + base64.b64encode(b"\xfb\xff" + raw).decode()


def _decode_token(token, digest):
    try:
        if not token.startswith("AAEA"):
            return None
        raw = base64.b64decode(token[4:], validate=True)
        if raw[:2] != b"\xfb\xff":
            return None
        data = json.loads(raw[2:])
        if data.get("h") != digest or not isinstance(data.get("o"), int) or data["o"] < 0:
            return None
        return data["o"]
    except (ValueError, TypeError):
        return None
