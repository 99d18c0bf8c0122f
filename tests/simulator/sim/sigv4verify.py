"""SigV4 verification: recompute every signature with botocore and compare.

The request is rebuilt as a botocore AWSRequest from exactly what arrived (method, raw path,
query, the headers the client listed as signed, body) and signed again with the secret the
scenario (or an issued session) holds for that access key, at the request's own X-Amz-Date.
Failures raise ApiError in the service's protocol shape.
"""

import datetime
import hashlib
import hmac
import re
import urllib.parse

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from sim import world as world_mod
from sim.protocols import make_error
from sim.services import ApiError

UTC = datetime.timezone.utc
_AUTH = re.compile(r"^AWS4-HMAC-SHA256\s+(.*)$", re.S)
_S3_PAYLOAD_TOKENS = ("UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                      "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")


class Credential:
    """The parsed Authorization header."""

    def __init__(self, access_key_id, date, region, service, signed_headers, signature):
        self.access_key_id = access_key_id
        self.date = date
        self.region = region
        self.service = service
        self.signed_headers = signed_headers
        self.signature = signature


class Identity:
    """The verified caller: principal, account acted in, and the secret/session behind it."""

    def __init__(self, principal, account, credential, session=None):
        self.principal = principal
        self.account = account
        self.credential = credential
        self.session = session


def parse_authorization(header):
    """Credential or None when the header is not SigV4 at all; ValueError when incomplete."""
    match = _AUTH.match(header.strip())
    if not match:
        return None
    fields = {}
    for part in match.group(1).split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields[name.strip()] = value.strip()
    missing = [n for n in ("Credential", "SignedHeaders", "Signature") if n not in fields]
    if missing:
        raise ValueError(" ".join(f"Authorization header requires '{n}' parameter." for n in missing)
                         + f" Authorization={header.split(' ')[0]}")
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise ValueError(f"Credential should be scoped to a valid region, and the "
                         f"terminal 'aws4_request'. Credential={fields['Credential']}")
    if not re.fullmatch(r"[0-9a-f]{64}", fields["Signature"]):
        raise ValueError("Signature must be 64 lower-case hex digits.")
    signed = fields["SignedHeaders"].split(";")
    return Credential(scope[0], scope[1], scope[2], scope[3], signed, fields["Signature"])


class _Verifier:
    """Mixin: sign only the headers the client declared, as botocore would."""

    def __init__(self, credentials, service, region, signed_headers, received):
        super().__init__(credentials, service, region)
        self._signed = signed_headers
        self._received = received

    def headers_to_sign(self, request):
        headers = HTTPHeaders()
        for name in self._signed:
            for value in self._received.get_all(name) or []:
                headers[name] = value
        return headers


class _SigV4(_Verifier, SigV4Auth):
    pass


class _S3SigV4(_Verifier, S3SigV4Auth):
    pass


def expected_signature(req, secret, cred, amz_date, s3):
    """The signature botocore computes for this request with `secret`."""
    pairs = [tuple(urllib.parse.unquote(x) for x in (p.partition("=")[0], p.partition("=")[2]))
             for p in req.query_string.split("&") if p]
    aws_req = AWSRequest(method=req.method, url=f"https://{req.host}{req.path}",
                         headers={}, data=req.body, params=pairs)
    # S3 always takes the payload hash from this header; other services only when signed.
    declared = req.headers.get("x-amz-content-sha256")
    if declared is not None and (s3 or "x-amz-content-sha256" in cred.signed_headers):
        aws_req.headers["X-Amz-Content-SHA256"] = declared
    aws_req.context["timestamp"] = amz_date
    signer_cls = _S3SigV4 if s3 else _SigV4
    signer = signer_cls(Credentials(cred.access_key_id, secret), cred.service, cred.region,
                        cred.signed_headers, req.headers)
    canonical = signer.canonical_request(aws_req)
    string_to_sign = signer.string_to_sign(aws_req, canonical)
    return signer.signature(string_to_sign, aws_req), canonical, string_to_sign


def _amz_date(req):
    value = req.headers.get("x-amz-date")
    if value:
        try:
            datetime.datetime.strptime(value, "%Y%m%dT%H%M%SZ")
            return value
        except ValueError:
            return None
    date = req.headers.get("date")
    if date:
        try:
            parsed = datetime.datetime.strptime(date, "%a, %d %b %Y %H:%M:%S GMT")
            return parsed.strftime("%Y%m%dT%H%M%SZ")
        except ValueError:
            return None
    return None


def verify(world, service, req, cred):
    """Checks `req` signed with `cred` for `service`; returns an Identity or raises ApiError."""
    s3 = service.protocol == "rest-xml"
    amz_date = _amz_date(req)
    if amz_date is None:
        raise make_error(service, "incomplete", "Authorization header requires existence of "
                         "either a 'X-Amz-Date' or a 'Date' header. Authorization="
                         f"AWS4-HMAC-SHA256 Credential={cred.access_key_id}/…")
    if "host" not in cred.signed_headers:
        raise make_error(service, "incomplete",
                         "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    if cred.date != amz_date[:8]:
        raise make_error(service, "signature", "Date in Credential scope does not match "
                         "YYYYMMDD from ISO-8601 version of date from HTTP: "
                         f"'{cred.date}' != '{amz_date[:8]}', from '{amz_date}'.")
    if not service.regional and cred.region != "us-east-1":
        raise make_error(service, "signature", "Credential should be scoped to a valid region. ")

    token = req.headers.get("x-amz-security-token")
    session = world.session(cred.access_key_id)
    if session is not None:
        if token != session.token:
            raise make_error(service, "bad_key")
        secret, account, principal = session.secret, session.account, session.principal
    else:
        key = world.scenario.keys.get(cred.access_key_id)
        if key is None or not key.secret or key.status != "Active" or token:
            raise make_error(service, "bad_key")
        secret, account = key.secret, key.account
        principal = world_mod.root_principal(account, key.id) if key.kind == "root" else \
            world_mod.user_principal(account, key.user, key.id)

    if s3:
        _check_s3_payload(service, req)
    signature, canonical, string_to_sign = expected_signature(req, secret, cred, amz_date, s3)
    if not hmac.compare_digest(signature, cred.signature):
        extra = {}
        if s3:
            extra = {"AWSAccessKeyId": cred.access_key_id, "StringToSign": string_to_sign,
                     "SignatureProvided": cred.signature, "CanonicalRequest": canonical}
        raise make_error(service, "signature", **extra)

    _check_skew(world, service, amz_date)
    if session is not None and session.expiration <= world.now():
        raise make_error(service, "expired_token")
    return Identity(principal, account, cred, session)


def _check_s3_payload(service, req):
    declared = req.headers.get("x-amz-content-sha256")
    if declared is None:
        raise ApiError("InvalidRequest",
                       "Missing required header for this request: x-amz-content-sha256", 400)
    if declared in _S3_PAYLOAD_TOKENS:
        return
    actual = hashlib.sha256(req.body).hexdigest()
    if declared != actual:
        raise ApiError("XAmzContentSHA256Mismatch",
                       "The provided 'x-amz-content-sha256' header does not match what was "
                       "computed.", 400, ClientComputedContentSHA256=declared,
                       S3ComputedContentSHA256=actual)


def _check_skew(world, service, amz_date):
    when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    now = world.now()
    limit = datetime.timedelta(seconds=world.scenario.max_skew)
    if abs(now - when) <= limit:
        return
    fmt = "%Y%m%dT%H%M%SZ"
    minutes = int(world.scenario.max_skew // 60)
    if service.protocol == "rest-xml":
        raise make_error(service, "skew", RequestTime=amz_date, ServerTime=now.strftime(
            "%Y-%m-%dT%H:%M:%SZ"), MaxAllowedSkewMilliseconds=int(world.scenario.max_skew * 1000))
    if when < now:
        message = (f"Signature expired: {amz_date} is now earlier than "
                   f"{(now - limit).strftime(fmt)} ({now.strftime(fmt)} - {minutes} min.)")
    else:
        message = (f"Signature not yet current: {amz_date} is still later than "
                   f"{(now + limit).strftime(fmt)} ({now.strftime(fmt)} + {minutes} min.)")
    kind_message = None if service.protocol == "ec2" else message
    raise make_error(service, "skew", kind_message)
