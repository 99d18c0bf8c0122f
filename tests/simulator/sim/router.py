"""Which service and operation a request is for.

The SigV4 credential scope names the service (several models may share a signing name:
ELB classic and v2 are both `elasticloadbalancing`, told apart by `Version`); json services
then take the operation from `X-Amz-Target`, query/ec2 ones from `Action`, rest ones from the
method and path matched against the model's request URI templates.
"""

import collections

from sim import protocols
from sim.protocols import make_error
from sim.services import ApiError
from sim.sigv4verify import parse_authorization


class Route:
    def __init__(self, service, action, cred, region, labels=None):
        self.service = service
        self.action = action
        self.cred = cred              # sigv4verify.Credential, None for unsigned calls
        self.region = region
        self.labels = labels or {}


class RouteError(Exception):
    """An ApiError plus the service whose protocol should render it (None: query shape)."""

    def __init__(self, error, service=None):
        super().__init__(error.code)
        self.error = error
        self.service = service


class Router:
    def __init__(self, services, default_region):
        self.services = list(services)
        self.default_region = default_region
        self.by_signing_name = collections.defaultdict(list)
        for service in self.services:
            self.by_signing_name[service.signing_name].append(service)

    def route(self, req):
        header = req.headers.get("authorization")
        if header is None:
            return self._route_unsigned(req)
        try:
            cred = parse_authorization(header)
        except ValueError as exc:
            service = self._guess(req)
            raise RouteError(make_error(service, "incomplete", str(exc), protocol=_proto(service)),
                             service) from None
        if cred is None:
            service = self._guess(req)
            raise RouteError(make_error(service, "incomplete", "Unsupported Authorization Type",
                                        protocol=_proto(service)), service)
        candidates = self.by_signing_name.get(cred.service, [])
        if not candidates:
            raise RouteError(ApiError("UnrecognizedClientException",
                                      f"Unknown service in credential scope: {cred.service}", 400))
        service = self._pick(candidates, req)
        action, labels = self._action(service, req)
        return Route(service, action, cred, cred.region, labels)

    def _route_unsigned(self, req):
        if "X-Amz-Algorithm=" in req.query_string:
            service = self._guess(req)
            raise RouteError(make_error(service, "incomplete", "Presigned URLs are not supported "
                                        "by the simulator", protocol=_proto(service)), service)
        service = self._guess(req)
        if service is not None and service.protocol in ("query", "ec2"):
            action = protocols.query_params(req).get("Action")
            if action in service.unsigned_actions:
                return Route(service, action, None, self.default_region)
        raise RouteError(make_error(service, "missing_auth", protocol=_proto(service)), service)

    def _pick(self, candidates, req):
        if len(candidates) == 1:
            return candidates[0]
        version = protocols.query_params(req).get("Version")
        for service in candidates:
            if service.version == version:
                return service
        raise RouteError(make_error(candidates[0], "unknown_operation",
                                    f"Unknown API version {version}"), candidates[0])

    def _action(self, service, req):
        proto = service.protocol
        if proto == "json":
            target = req.headers.get("x-amz-target", "")
            prefix, _, action = target.rpartition(".")
            if prefix != service.target_prefix:
                raise RouteError(make_error(service, "unknown_operation",
                                            f"Unknown target {target}"), service)
        elif proto in ("query", "ec2"):
            params = protocols.query_params(req)
            action = params.get("Action")
            if params.get("Version") != service.version:
                raise RouteError(make_error(service, "unknown_operation",
                                            f"Could not find operation {action} for version "
                                            f"{params.get('Version')}"), service)
        else:
            keys = {p.partition("=")[0] for p in req.query_string.split("&") if p}
            action, labels = protocols.rest_route(service, req.method, req.path, keys,
                                                  req.headers)
            if action is None:
                raise RouteError(make_error(service, "unknown_operation",
                                            f"{req.method} {req.path} is not simulated"), service)
            return action, labels
        if action not in service.handlers or action not in service.model.operation_names:
            raise RouteError(make_error(service, "unknown_operation",
                                        f"The action {action} is not valid for this endpoint."),
                             service)
        return action, {}

    def _guess(self, req):
        """The service a malformed or unsigned request most likely meant (for its error shape)."""
        header = req.headers.get("authorization", "")
        for service in self.services:
            if f"/{service.signing_name}/aws4_request" in header:
                return service
        target = req.headers.get("x-amz-target", "")
        for service in self.services:
            if service.target_prefix and target.startswith(service.target_prefix + "."):
                return service
        if req.method == "POST" and "x-amz-target" not in req.headers:
            params = protocols.query_params(req)
            for service in self.services:
                if service.protocol in ("query", "ec2") and \
                        params.get("Version") == service.version:
                    return service
        return None


def _proto(service):
    return None if service is not None else "query"
