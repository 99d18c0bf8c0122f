"""Wire formats: request parsing and response/error serialisation for every AWS protocol.

Driven by the botocore service models, so handlers deal in boto3-shaped dicts while the wire
gets the model's element names, list wrappers, namespaces and timestamp formats:
query (STS, IAM, RDS, ELB), ec2, json 1.1 (Organizations, CloudTrail, Config), rest-json
(Lambda) and rest-xml (S3). Error shapes follow aws-api.md §5.
"""

import base64
import datetime
import json
import re
import urllib.parse
from email.utils import format_datetime
from xml.sax.saxutils import escape

from sim.services import ApiError

UTC = datetime.timezone.utc
EC2_NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"
S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"

# kind -> protocol -> (code, HTTP status, default message). README.md has this table.
_INVALID_TOKEN_MSG = "The security token included in the request is invalid."
_SIG_MSG = ("The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.")
_EC2_AUTH_MSG = "AWS was not able to validate the provided access credentials"
_EXPIRED_MSG = "The security token included in the request is expired"
ERROR_KINDS = {
    "bad_key": {
        "query": ("InvalidClientTokenId", 403, _INVALID_TOKEN_MSG),
        "ec2": ("AuthFailure", 401, _EC2_AUTH_MSG),
        "json": ("UnrecognizedClientException", 400, _INVALID_TOKEN_MSG),
        "rest-json": ("UnrecognizedClientException", 403, _INVALID_TOKEN_MSG),
        "rest-xml": ("InvalidAccessKeyId", 403,
                     "The AWS Access Key Id you provided does not exist in our records."),
    },
    "signature": {
        "query": ("SignatureDoesNotMatch", 403, _SIG_MSG),
        "ec2": ("AuthFailure", 401, _EC2_AUTH_MSG),
        "json": ("InvalidSignatureException", 400, _SIG_MSG),
        "rest-json": ("InvalidSignatureException", 403, _SIG_MSG),
        "rest-xml": ("SignatureDoesNotMatch", 403, _SIG_MSG),
    },
    "skew": {
        "query": ("SignatureDoesNotMatch", 403, None),
        "ec2": ("RequestExpired", 400, "Request has expired."),
        "json": ("InvalidSignatureException", 400, None),
        "rest-json": ("InvalidSignatureException", 403, None),
        "rest-xml": ("RequestTimeTooSkewed", 403,
                     "The difference between the request time and the current time is too large."),
    },
    "expired_token": {
        "query": ("ExpiredToken", 403, _EXPIRED_MSG),
        "ec2": ("RequestExpired", 400, "Request has expired."),
        "json": ("ExpiredTokenException", 400, _EXPIRED_MSG),
        "rest-json": ("ExpiredTokenException", 403, _EXPIRED_MSG),
        "rest-xml": ("ExpiredToken", 400, "The provided token has expired."),
    },
    "incomplete": {
        "query": ("IncompleteSignature", 400, None),
        "ec2": ("AuthFailure", 401, _EC2_AUTH_MSG),
        "json": ("IncompleteSignatureException", 400, None),
        "rest-json": ("IncompleteSignatureException", 403, None),
        "rest-xml": ("AuthorizationHeaderMalformed", 400, None),
    },
    "missing_auth": {
        "query": ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
        "ec2": ("AuthFailure", 401, _EC2_AUTH_MSG),
        "json": ("MissingAuthenticationTokenException", 400, "Missing Authentication Token"),
        "rest-json": ("MissingAuthenticationTokenException", 403, "Missing Authentication Token"),
        "rest-xml": ("AccessDenied", 403, "Access Denied"),
    },
    "access_denied": {
        "query": ("AccessDenied", 403, None),
        "ec2": ("UnauthorizedOperation", 403, None),
        "json": ("AccessDeniedException", 400, None),
        "rest-json": ("AccessDeniedException", 403, None),
        "rest-xml": ("AccessDenied", 403, "Access Denied"),
    },
    "region_disabled": {
        "query": ("InvalidClientTokenId", 403, _INVALID_TOKEN_MSG),
        "ec2": ("AuthFailure", 401, _EC2_AUTH_MSG),
        "json": ("UnrecognizedClientException", 400, _INVALID_TOKEN_MSG),
        "rest-json": ("UnrecognizedClientException", 403, _INVALID_TOKEN_MSG),
        "rest-xml": ("InvalidAccessKeyId", 403,
                     "The AWS Access Key Id you provided does not exist in our records."),
    },
    "throttle": {
        "query": ("Throttling", 400, "Rate exceeded"),
        "ec2": ("RequestLimitExceeded", 503, "Request limit exceeded."),
        "json": ("ThrottlingException", 400, "Rate exceeded"),
        "rest-json": ("TooManyRequestsException", 429, "Rate exceeded"),
        "rest-xml": ("SlowDown", 503, "Please reduce your request rate."),
    },
    "validation": {
        "query": ("ValidationError", 400, None),
        "ec2": ("InvalidParameterValue", 400, None),
        "json": ("ValidationException", 400, None),
        "rest-json": ("InvalidParameterValueException", 400, None),
        "rest-xml": ("InvalidArgument", 400, None),
    },
    "invalid_token": {
        "query": ("ValidationError", 400, "Invalid pagination token"),
        "ec2": ("InvalidNextToken", 400, "The specified token is invalid"),
        "json": ("InvalidNextTokenException", 400, "Invalid pagination token"),
        "rest-json": ("InvalidParameterValueException", 400, "Invalid pagination token"),
        "rest-xml": ("InvalidArgument", 400, "Invalid continuation token"),
    },
    "unknown_operation": {
        "query": ("InvalidAction", 400, None),
        "ec2": ("InvalidAction", 400, None),
        "json": ("UnknownOperationException", 400, None),
        "rest-json": ("UnknownOperationException", 404, None),
        "rest-xml": ("MethodNotAllowed", 405, None),
    },
    "serialization": {
        "query": ("MalformedQueryString", 404, None),
        "ec2": ("InvalidParameterValue", 400, None),
        "json": ("SerializationException", 400, None),
        "rest-json": ("SerializationException", 400, None),
        "rest-xml": ("MalformedXML", 400, None),
    },
    "internal": {
        "query": ("InternalFailure", 500, "An internal error occurred."),
        "ec2": ("InternalError", 500, "An internal error has occurred"),
        "json": ("InternalFailure", 500, "An internal error occurred."),
        "rest-json": ("ServiceException", 500, "An internal error occurred."),
        "rest-xml": ("InternalError", 500, "We encountered an internal error. Please try again."),
    },
    "unavailable": {
        "query": ("ServiceUnavailable", 503, "Service is unavailable."),
        "ec2": ("Unavailable", 503, "The service is unavailable. Please try again shortly."),
        "json": ("ServiceUnavailableException", 503, "Service is unavailable."),
        "rest-json": ("ServiceException", 503, "Service is unavailable."),
        "rest-xml": ("ServiceUnavailable", 503, "Please reduce your request rate."),
    },
}


_FRONT_END_JSON_ERRORS = frozenset({
    "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignatureException",
    "MissingAuthenticationTokenException", "ExpiredTokenException", "ThrottlingException",
    "SerializationException", "UnknownOperationException", "InternalFailure",
    "ServiceUnavailableException"})


def _kind_entry(service, kind, protocol=None):
    override = service.errors.get(kind) if service is not None else None
    base = ERROR_KINDS[kind][protocol or service.protocol]
    if override:
        return (override[0], override[1], override[2] if len(override) > 2 else base[2])
    return base


def error_kind(service, kind):
    """(code, status) of a standard error kind for `service`, honouring its overrides."""
    code, status, _ = _kind_entry(service, kind)
    return code, status


def make_error(service, kind, message=None, protocol=None, **extra):
    """An ApiError of a standard kind in the service's protocol (or `protocol` when no service)."""
    code, status, default = _kind_entry(service, kind, protocol)
    return ApiError(code, message if message is not None else default, status, **extra)


def namespace(service):
    if service.protocol == "ec2":
        return EC2_NAMESPACE
    if service.protocol == "rest-xml":
        return S3_NAMESPACE
    return service.model.metadata.get("xmlNamespace", "")


# ---------------------------------------------------------------------------------------
# Timestamps

def iso8601(value, millis=False):
    value = value.astimezone(UTC)
    if millis:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(value):
    seconds = value.timestamp()
    return int(seconds) if seconds == int(seconds) else round(seconds, 3)


def _timestamp_out(value, shape, default_format, millis=False):
    fmt = shape.serialization.get("timestampFormat", default_format) if shape else default_format
    if fmt == "unixTimestamp":
        return epoch(value)
    if fmt == "rfc822":
        return format_datetime(value.astimezone(UTC), usegmt=True)
    return iso8601(value, millis)


def parse_timestamp(text):
    if isinstance(text, (int, float)):
        return datetime.datetime.fromtimestamp(text, UTC)
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?([eE][+-]?\d+)?", text):
        return datetime.datetime.fromtimestamp(float(text), UTC)
    value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------
# Input parsing

def _scalar_in(shape, text, where):
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
        if kind == "boolean":
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        if kind == "timestamp":
            return parse_timestamp(text)
        if kind == "blob":
            return base64.b64decode(text)
    except (ValueError, TypeError, OverflowError):
        raise _Invalid(f"Value '{text}' at '{where}' failed to satisfy constraint: "
                       f"Member must be of type {kind}") from None
    return text


class _Invalid(Exception):
    pass


def _query_name(shape, default, ec2):
    ser = shape.serialization
    if ec2:
        if "queryName" in ser:
            return ser["queryName"]
        if "name" in ser:
            return ser["name"][0].upper() + ser["name"][1:]
        return default
    return ser.get("name", default)


def _query_value(shape, key, flat, ec2):
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for name, member in shape.members.items():
            sub = _query_name(member, name, ec2)
            value = _query_value(member, f"{key}.{sub}" if key else sub, flat, ec2)
            if value is not None:
                out[name] = value
        if key and not out and not any(k.startswith(key + ".") for k in flat):
            return None
        return out
    if kind == "list":
        if key in flat and flat[key] == "":
            return []
        if ec2:
            base = key
        elif shape.serialization.get("flattened"):
            base = key
            if shape.member.serialization.get("name"):
                base = ".".join(key.split(".")[:-1] + [shape.member.serialization["name"]])
        else:
            base = f"{key}.{shape.member.serialization.get('name', 'member')}"
        items = []
        for i in range(1, 10001):
            value = _query_value(shape.member, f"{base}.{i}", flat, ec2)
            if value is None:
                break
            items.append(value)
        return items or None
    if kind == "map":
        base = key if shape.serialization.get("flattened") else f"{key}.entry"
        kname = _query_name(shape.key, "key", ec2)
        vname = _query_name(shape.value, "value", ec2)
        out = {}
        for i in range(1, 10001):
            k = _query_value(shape.key, f"{base}.{i}.{kname}", flat, ec2)
            if k is None:
                break
            out[k] = _query_value(shape.value, f"{base}.{i}.{vname}", flat, ec2)
        return out or None
    if key not in flat:
        return None
    return _scalar_in(shape, flat[key], key)


def _json_in(shape, value, where):
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise _Invalid(f"Expected an object at '{where}'")
        out = {}
        for name, v in value.items():
            member = shape.members.get(name)
            out[name] = _json_in(member, v, f"{where}.{name}" if where else name)
        return out
    if kind == "list":
        if not isinstance(value, list):
            raise _Invalid(f"Expected a list at '{where}'")
        return [_json_in(shape.member, v, where) for v in value]
    if kind == "map":
        if not isinstance(value, dict):
            raise _Invalid(f"Expected an object at '{where}'")
        return {k: _json_in(shape.value, v, where) for k, v in value.items()}
    if kind == "timestamp":
        return _scalar_in(shape, value if isinstance(value, str) else str(value), where)
    if kind == "blob":
        return _scalar_in(shape, value, where)
    if kind in ("integer", "long") and not (isinstance(value, int) and not isinstance(value, bool)):
        raise _Invalid(f"Value at '{where}' must be an integer")
    if kind == "boolean" and not isinstance(value, bool):
        raise _Invalid(f"Value at '{where}' must be a boolean")
    if kind == "string" and not isinstance(value, str):
        raise _Invalid(f"Value at '{where}' must be a string")
    return value


def _lower_first(name):
    return name[:1].lower() + name[1:]


def _check_constraints(shape, value, where, problems):
    """Collects AWS-style validation messages: required members, lengths, ranges."""
    if shape is None or value is None:
        return
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        for name in shape.required_members:
            if value.get(name) is None:
                problems.append(f"Value null at '{_lower_first(name)}' failed to satisfy "
                                f"constraint: Member must not be null")
        for name, member in shape.members.items():
            if name in value:
                _check_constraints(member, value[name], _lower_first(name), problems)
        return
    if kind == "list" and isinstance(value, list):
        for v in value:
            _check_constraints(shape.member, v, where, problems)
        return
    meta = shape.metadata
    if kind == "string" and isinstance(value, str):
        if "min" in meta and len(value) < meta["min"]:
            problems.append(f"Value '{value}' at '{where}' failed to satisfy constraint: Member "
                            f"must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"Value at '{where}' failed to satisfy constraint: Member must have "
                            f"length less than or equal to {meta['max']}")
        if "enum" in shape.metadata and value not in shape.enum:
            problems.append(f"Value '{value}' at '{where}' failed to satisfy constraint: Member "
                            f"must satisfy enum value set: [{', '.join(shape.enum)}]")
    if kind in ("integer", "long") and isinstance(value, int):
        if "min" in meta and value < meta["min"]:
            problems.append(f"Value '{value}' at '{where}' failed to satisfy constraint: Member "
                            f"must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            problems.append(f"Value '{value}' at '{where}' failed to satisfy constraint: Member "
                            f"must have value less than or equal to {meta['max']}")


def query_params(req):
    """The flat key/value pairs of a query/ec2 request (form body, or the URL for GET)."""
    text = req.body.decode("utf-8", "replace") if req.method == "POST" else req.query_string
    return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))


def parse_input(service, op, req):
    """The operation's input as a dict keyed by model member names; ApiError if invalid."""
    shape = op.input_shape
    proto = service.protocol
    try:
        if proto in ("query", "ec2"):
            params = _query_value(shape, "", query_params(req), proto == "ec2") if shape else {}
        elif proto == "json":
            text = req.body.decode("utf-8", "replace").strip()
            if not text:
                raise make_error(service, "serialization", "Empty body: send {} at least")
            try:
                doc = json.loads(text)
            except ValueError:
                raise make_error(service, "serialization",
                                 "Start of structure or map found where not expected.") from None
            params = _json_in(shape, doc, "") if shape else {}
        else:
            params = _rest_input(service, op, req, shape)
    except _Invalid as exc:
        raise make_error(service, "validation", f"1 validation error detected: {exc}") from None
    params = params or {}
    problems = []
    _check_constraints(shape, params, "", problems)
    if problems:
        if proto == "ec2" and "must not be null" in problems[0]:
            missing = problems[0].split("'")[1]
            raise ApiError("MissingParameter", "The request must contain the parameter "
                           + missing[:1].upper() + missing[1:], 400)
        count = len(problems)
        raise make_error(service, "validation", f"{count} validation error"
                         f"{'s' if count > 1 else ''} detected: " + "; ".join(problems))
    return params


def rest_route(service, method, path, query_keys, headers):
    """(operation name, labels) for a rest request, or (None, None).

    Only operations the service handles compete. Several can share a method and URI template
    (S3 PutObject and CopyObject; GetBucketLifecycle and GetBucketLifecycleConfiguration): an
    operation whose required header members are absent is out, then the most specific
    template wins (required query keys, literal length, required headers present), then the
    one the model does not mark deprecated.
    """
    best = None
    for name in service.handlers:
        if name not in service.model.operation_names:
            continue
        op = service.model.operation_model(name)
        if op.http.get("method", "POST") != method:
            continue
        template = op.http.get("requestUri", "/")
        tpath, _, tquery = template.partition("?")
        needed = [q.split("=")[0] for q in tquery.split("&") if q]
        if any(k not in query_keys for k in needed):
            continue
        required_headers = _required_headers(op)
        if any(headers.get(h) is None for h in required_headers):
            continue
        pattern = ""
        for part in re.split(r"(\{[^}]+\})", tpath):
            if part.startswith("{"):
                label = part[1:-1]
                pattern += f"(?P<{label.rstrip('+')}>.+)" if label.endswith("+") else \
                    f"(?P<{label}>[^/]+)"
            else:
                pattern += re.escape(part)
        match = re.fullmatch(pattern.rstrip("/") + "/?", path)
        if not match:
            continue
        score = (len(needed), len(re.sub(r"\{[^}]+\}", "", tpath)), len(required_headers),
                 not op.deprecated)
        if best is None or score > best[0]:
            labels = {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
            best = (score, name, labels)
    return (best[1], best[2]) if best else (None, None)


def _required_headers(op):
    shape = op.input_shape
    if shape is None:
        return []
    return [shape.members[m].serialization.get("name", m) for m in shape.required_members
            if shape.members[m].serialization.get("location") == "header"]


def _rest_input(service, op, req, shape):
    if shape is None:
        return {}
    query = urllib.parse.parse_qs(req.query_string, keep_blank_values=True)
    out = {}
    payload = shape.serialization.get("payload")
    for name, member in shape.members.items():
        loc = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if loc == "uri":
            if wire in req.labels:
                out[name] = _scalar_in(member, req.labels[wire], wire)
        elif loc == "querystring":
            if member.type_name == "list" and wire in query:
                out[name] = [_scalar_in(member.member, v, wire) for v in query[wire]]
            elif wire in query:
                out[name] = _scalar_in(member, query[wire][0], wire)
        elif loc == "header":
            value = req.headers.get(wire)
            if value is not None:
                out[name] = _scalar_in(member, value, wire)
        elif loc == "headers":
            prefix = wire.lower()
            found = {k[len(prefix):]: v for k, v in req.headers.items()
                     if k.lower().startswith(prefix)}
            if found:
                out[name] = found
        elif name == payload:
            if member.type_name in ("blob", "string"):
                out[name] = req.body
            elif req.body and service.protocol == "rest-json":
                try:
                    out[name] = _json_in(member, json.loads(req.body), name)
                except ValueError:
                    raise make_error(service, "serialization", "Malformed JSON body") from None
    if payload is None and service.protocol == "rest-json" and req.body:
        try:
            doc = json.loads(req.body)
        except ValueError:
            raise make_error(service, "serialization", "Malformed JSON body") from None
        if isinstance(doc, dict):
            for name, value in doc.items():
                if name in shape.members and name not in out:
                    out[name] = _json_in(shape.members[name], value, name)
    return out


# ---------------------------------------------------------------------------------------
# Output serialisation

def _xml_scalar(shape, value, flavour):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return _timestamp_out(value, shape, "iso8601", millis=flavour == "ec2")
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return str(value)


def _xml(shape, value, name, flavour):
    """XML text for one value under element `name` (lists may flatten into siblings)."""
    if value is None:
        return ""
    kind = shape.type_name if shape is not None else None
    if kind == "structure" or (kind is None and isinstance(value, dict)):
        return f"<{name}>{_xml_members(shape, value, flavour)}</{name}>"
    if kind == "list" or (kind is None and isinstance(value, (list, tuple))):
        member = shape.member if shape is not None else None
        default_item = "item" if flavour == "ec2" else "member"
        if shape is not None and shape.serialization.get("flattened"):
            item = member.serialization.get("name", name)
            return "".join(_xml(member, v, item, flavour) for v in value)
        item = member.serialization.get("name", default_item) if member is not None \
            else default_item
        inner = "".join(_xml(member, v, item, flavour) for v in value)
        return f"<{name}>{inner}</{name}>" if inner else f"<{name}/>"
    if kind == "map":
        kname = shape.key.serialization.get("name", "key")
        vname = shape.value.serialization.get("name", "value")
        entries = "".join(
            f"<entry>{_xml(shape.key, k, kname, flavour)}{_xml(shape.value, v, vname, flavour)}"
            "</entry>" for k, v in value.items())
        return f"<{name}>{entries}</{name}>"
    return f"<{name}>{escape(_xml_scalar(shape, value, flavour))}</{name}>"


def _xml_members(shape, value, flavour, skip=()):
    parts = []
    members = shape.members if shape is not None else {}
    for key, v in value.items():
        if v is None or key in skip:
            continue
        member = members.get(key)
        if member is not None and member.serialization.get("location"):
            continue
        wire = member.serialization.get("name", key) if member is not None else key
        parts.append(_xml(member, v, wire, flavour))
    return "".join(parts)


def _json_out(shape, value):
    if value is None:
        return None
    kind = shape.type_name if shape is not None else None
    if isinstance(value, datetime.datetime):
        return _timestamp_out(value, shape, "unixTimestamp")
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if kind == "structure" or (kind is None and isinstance(value, dict) and shape is None):
        members = shape.members if shape is not None else {}
        out = {}
        for key, v in value.items():
            member = members.get(key)
            if v is None or (member is not None and member.serialization.get("location")):
                continue
            wire = member.serialization.get("name", key) if member is not None else key
            out[wire] = _json_out(member, v)
        return out
    if kind == "map":
        return {k: _json_out(shape.value, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        member = shape.member if kind == "list" else None
        return [_json_out(member, v) for v in value]
    return value


class Answer:
    """A response ready to send: status, headers (list of pairs) and body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body


def serialize_output(service, op, result, request_id):
    """Turns a handler's output dict into an Answer in the service's protocol."""
    proto = service.protocol
    shape = op.output_shape
    result = result or {}
    if proto == "query":
        wrapper = shape.serialization.get("resultWrapper") if shape is not None else None
        inner = _xml_members(shape, result, "query")
        if wrapper:
            inner = f"<{wrapper}>{inner}</{wrapper}>"
        body = (f'<{op.name}Response xmlns="{namespace(service)}">{inner}'
                f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
                f"</{op.name}Response>")
        return Answer(200, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)],
                      body.encode())
    if proto == "ec2":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<{op.name}Response '
                f'xmlns="{EC2_NAMESPACE}"><requestId>{request_id}</requestId>'
                f"{_xml_members(shape, result, 'ec2')}</{op.name}Response>")
        return Answer(200, [("Content-Type", "text/xml;charset=UTF-8")], body.encode())
    if proto == "json":
        body = json.dumps(_json_out(shape, result) or {}, separators=(",", ":"))
        return Answer(200, [("Content-Type", "application/x-amz-json-1.1"),
                            ("x-amzn-RequestId", request_id)], body.encode())
    return _rest_output(service, op, shape, result, request_id)


def _rest_output(service, op, shape, result, request_id):
    headers = []
    status = op.http.get("responseCode", 200)
    members = shape.members if shape is not None else {}
    for key, value in result.items():
        member = members.get(key)
        if member is None or value is None:
            continue
        loc = member.serialization.get("location")
        wire = member.serialization.get("name", key)
        if loc == "header":
            if isinstance(value, datetime.datetime):
                value = _timestamp_out(value, member, "rfc822")
            elif isinstance(value, bool):
                value = "true" if value else "false"
            headers.append((wire, str(value)))
        elif loc == "headers":
            headers.extend((wire + k, str(v)) for k, v in value.items())
        elif loc == "statusCode":
            status = int(value)
    if service.protocol == "rest-xml":
        headers += [("x-amz-request-id", request_id), ("x-amz-id-2", _host_id(request_id))]
    else:
        headers.append(("x-amzn-RequestId", request_id))
    payload = shape.serialization.get("payload") if shape is not None else None
    if payload:
        member = members[payload]
        value = result.get(payload)
        if member.type_name in ("blob", "string"):
            body = value if isinstance(value, bytes) else (value or "").encode()
            return Answer(status, headers, body)
        result = value or {}
        shape = member
        root = member.serialization.get("name", member.name)
    else:
        root = (shape.serialization.get("name") if shape is not None else None) or \
            op.name.replace("Get", "", 1) + "Result"
    if service.protocol == "rest-json":
        body = json.dumps(_json_out(shape, result) or {}, separators=(",", ":")).encode()
        headers.append(("Content-Type", "application/json"))
        return Answer(status, headers, body)
    inner = _xml_members(shape, result, "rest-xml")
    if not inner and not payload and not result:
        return Answer(status, headers, b"")
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{S3_NAMESPACE}">'
            f"{inner}</{root}>").encode()
    headers.append(("Content-Type", "application/xml"))
    return Answer(status, headers, body)


def _host_id(request_id):
    return base64.b64encode(request_id.encode() * 3).decode()


def serialize_error(service, err, request_id, protocol=None):
    """Renders an ApiError in the protocol's error shape (aws-api.md §5)."""
    proto = protocol or (service.protocol if service is not None else "query")
    headers = list(err.headers.items())
    message = err.message
    short = err.code.rsplit("#", 1)[-1]
    if proto == "query":
        ns = namespace(service) if service is not None else ""
        msg = f"<Message>{escape(message)}</Message>" if message is not None else ""
        extra = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in err.extra.items())
        body = (f'<ErrorResponse xmlns="{ns}"><Error><Type>{"Sender" if err.sender else "Receiver"}'
                f"</Type><Code>{escape(short)}</Code>{msg}{extra}</Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>")
        headers += [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    elif proto == "ec2":
        msg = f"<Message>{escape(message)}</Message>" if message is not None else ""
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                f"<Code>{escape(short)}</Code>{msg}</Error></Errors>"
                f"<RequestID>{request_id}</RequestID></Response>")
        headers += [("Content-Type", "text/xml;charset=UTF-8")]
    elif proto == "json":
        doc = {"__type": err.code}
        if message is not None:
            # Errors raised by the AWS front end (authentication, throttling) spell the key
            # "message"; those of the service itself "Message".
            doc["message" if short in _FRONT_END_JSON_ERRORS else "Message"] = message
        doc.update(err.extra)
        body = json.dumps(doc)
        headers += [("Content-Type", "application/x-amz-json-1.1"),
                    ("x-amzn-RequestId", request_id)]
    elif proto == "rest-json":
        doc = {"message": message} if message is not None else {}
        if short in ("TooManyRequestsException",):
            doc = {"Reason": "CallerRateLimitExceeded", "Type": "User", **doc}
        doc.update(err.extra)
        body = json.dumps(doc)
        headers += [("x-amzn-ErrorType",
                     f"{short}:http://internal.amazon.com/coral/com.amazon.coral.service/"),
                    ("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)]
    else:
        msg = f"<Message>{escape(message)}</Message>" if message is not None else ""
        extra = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in err.extra.items())
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{escape(short)}</Code>{msg}{extra}<RequestId>{request_id}"
                f"</RequestId><HostId>{_host_id(request_id)}</HostId></Error>")
        headers += [("Content-Type", "application/xml"), ("x-amz-request-id", request_id),
                    ("x-amz-id-2", _host_id(request_id))]
    return Answer(err.status, headers, body.encode())
