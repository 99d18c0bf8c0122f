"""S3: buckets with lifecycle and Object Lock, and an in-memory object store per run.

Actions: GetBucketLocation, GetBucketLifecycleConfiguration, GetObjectLockConfiguration,
ListObjectsV2, GetObject, PutObject, DeleteObject. Bucket names are global: any scenario
account's bucket can be addressed; a caller from another account needs the bucket's
`allow_accounts`. A request signed for another region than the bucket's is refused the way
S3 does it, with `x-amz-bucket-region` so SDKs can redirect: 301 PermanentRedirect when it was
signed for us-east-1 (the global endpoint), 400 AuthorizationHeaderMalformed otherwise.

PutObject enforces what Object Lock buckets enforce: lock mode and retain-until together and
in the future, the bucket must have Object Lock, and an integrity header (Content-MD5 or
x-amz-checksum-*) is required, verified (BadDigest) and well-formed (InvalidDigest,
InvalidRequest). Versioned buckets keep every version; a version under COMPLIANCE retention
(or GOVERNANCE without the bypass) cannot be deleted before its retain-until date.
Scenario schema: `scenarios/README.md`, section S3.
"""

import base64
import binascii
import datetime
import hashlib
import re
import urllib.parse
import zlib

from sim.services import ApiError, Response, Service

SERVICE = Service(
    model="s3",
    regional=True,
    # S3's published per-prefix request rates.
    rates={"PutObject": (3500.0, 3500.0), "DeleteObject": (3500.0, 3500.0),
           "*": (5500.0, 5500.0)},
)

_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
_CHECKSUMS = {"CRC32": 4, "CRC32C": 4, "SHA1": 20, "SHA256": 32}
_BUCKET_KEYS = {"name", "region", "created", "versioning", "object_lock", "lifecycle",
                "encryption", "kms_key_id", "allow_accounts", "objects", "generated_objects",
                "_comment"}
_RULE_KEYS = {"id", "status", "prefix", "expiration_days", "noncurrent_days", "transitions",
              "noncurrent_transitions", "abort_multipart_days", "_comment"}
_OBJECT_KEYS = {"key", "body", "size", "content_type", "modified_date", "lock_mode",
                "retain_until_date", "legal_hold", "_comment"}


def _crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _crc32c_table()


def checksum(algorithm, data):
    """The base64 x-amz-checksum-<algorithm> value S3 computes for `data`."""
    if algorithm == "CRC32":
        raw = (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")
    elif algorithm == "CRC32C":
        raw = _crc32c(data).to_bytes(4, "big")
    elif algorithm == "SHA1":
        raw = hashlib.sha1(data).digest()
    else:
        raw = hashlib.sha256(data).digest()
    return base64.b64encode(raw).decode()


# ---------------------------------------------------------------------------------------
# Buckets and the object store

class _Bucket:
    def __init__(self, owner, data):
        self.owner = owner
        self.data = data
        self.name = data["name"]
        self.region = data.get("region", "us-east-1")
        self.lock = data.get("object_lock")
        self.versioned = bool(self.lock) or data.get("versioning") in ("Enabled", True)


def _index(call):
    """bucket name -> _Bucket over every account (bucket names are global)."""
    index = call.world.state(("s3", "bucket-index"))
    with call.lock:
        if not index:
            for account in call.world.scenario.accounts:
                for data in account.services.get("s3", {}).get("buckets", []):
                    index[data["name"]] = _Bucket(account, data)
    return index


def _bucket(call, check_region=True):
    name = call.params["Bucket"]
    bucket = _index(call).get(name)
    if bucket is None:
        raise ApiError("NoSuchBucket", "The specified bucket does not exist", 404,
                       BucketName=name)
    allowed = bucket.data.get("allow_accounts", [])
    if bucket.owner.id != call.account_id and "*" not in allowed and \
            call.account_id not in allowed:
        raise ApiError("AccessDenied", "Access Denied", 403)
    if check_region and bucket.region != call.region:
        headers = {"x-amz-bucket-region": bucket.region}
        if call.region == "us-east-1":
            raise ApiError("PermanentRedirect", "The bucket you are attempting to access must "
                           "be addressed using the specified endpoint. Please send all future "
                           "requests to this endpoint.", 301, headers=headers,
                           Bucket=name, Endpoint=f"{name}.s3.{bucket.region}.amazonaws.com")
        raise ApiError("AuthorizationHeaderMalformed", "The authorization header is malformed; "
                       f"the region '{call.region}' is wrong; expecting '{bucket.region}'",
                       400, headers=headers, Region=bucket.region)
    return bucket


def _require(call, permission):
    """S3 checks some IAM actions whose names differ from the operation's."""
    if not call.principal.permitted(call.account, permission):
        raise ApiError("AccessDenied", "Access Denied", 403)


def _store(call, bucket):
    """key -> list of versions (oldest first) for `bucket`, seeded from the scenario once."""
    store = call.world.state(("s3", bucket.owner.id))
    with call.lock:
        keys = store.get(bucket.name)
        if keys is None:
            keys = store[bucket.name] = {}
            for n, obj in enumerate(_seed_objects(bucket)):
                body = obj.get("body")
                body = body.encode() if isinstance(body, str) else \
                    _filler(bucket.name, obj["key"], obj.get("size", 0))
                version = _version(bucket, f"seed/{n}", body, obj.get("content_type",
                                                            "application/octet-stream"),
                                   obj.get("modified_date") or bucket.data.get("created") or
                                   call.now)
                version.update(lock_mode=obj.get("lock_mode"),
                               retain_until=obj.get("retain_until_date"),
                               legal_hold=obj.get("legal_hold"))
                keys.setdefault(obj["key"], []).append(version)
    return keys


def _seed_objects(bucket):
    objects = list(bucket.data.get("objects", []))
    generated = bucket.data.get("generated_objects")
    if generated:
        prefix = generated.get("prefix", "")
        for i in range(generated.get("count", 0)):
            objects.append({"key": f"{prefix}{i:05d}.json.gz", "size": generated.get("size", 64),
                            "content_type": "application/x-gzip"})
    return objects


def _filler(*parts):
    seed = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    size = parts[-1]
    return (seed * (size // len(seed) + 1))[:size]


def _next_serial(call):
    counter = call.world.state(("s3", "serial"))
    with call.lock:
        counter["n"] = counter.get("n", 0) + 1
        return counter["n"]


def _version(bucket, serial, body, content_type, when):
    version_id = "null"
    if bucket.versioned:
        raw = hashlib.sha256(f"{bucket.name}/{serial}".encode()).digest()
        version_id = base64.urlsafe_b64encode(raw[:24]).decode().replace("-", ".")
    return {"version_id": version_id, "body": body, "etag": f'"{hashlib.md5(body).hexdigest()}"',
            "content_type": content_type, "last_modified": when.replace(microsecond=0),
            "lock_mode": None, "retain_until": None, "legal_hold": None, "checksums": {},
            "metadata": {}, "delete_marker": False}


def _sse(bucket):
    kind = bucket.data.get("encryption", "AES256")
    out = {"ServerSideEncryption": kind}
    if kind == "aws:kms":
        out["SSEKMSKeyId"] = bucket.data.get("kms_key_id") or \
            f"arn:aws:kms:{bucket.region}:{bucket.owner.id}:key/" \
            f"{hashlib.sha256(bucket.name.encode()).hexdigest()[:8]}-0000-4000-8000-000000000000"
    return out


# ---------------------------------------------------------------------------------------
# Bucket configuration

@SERVICE.action("GetBucketLocation")
def get_bucket_location(call):
    bucket = _bucket(call, check_region=False)
    # The answer's root element is the value itself (<LocationConstraint>eu-west-1<…>), which
    # no output shape describes: botocore reads it with a special-case parser.
    value = "" if bucket.region == "us-east-1" else bucket.region
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<LocationConstraint xmlns="{_NAMESPACE}">{value}</LocationConstraint>')
    return Response(200, body, {"Content-Type": "application/xml",
                                "x-amz-request-id": call.request_id,
                                "x-amz-id-2": base64.b64encode(
                                    hashlib.sha256(call.request_id.encode()).digest()).decode()})


@SERVICE.action("GetBucketLifecycleConfiguration")
def get_bucket_lifecycle_configuration(call):
    bucket = _bucket(call)
    _require(call, "s3:GetLifecycleConfiguration")
    rules = bucket.data.get("lifecycle")
    if not rules:
        raise ApiError("NoSuchLifecycleConfiguration", "The lifecycle configuration does not "
                       "exist", 404, BucketName=bucket.name)
    return {"Rules": [_lifecycle_rule(r) for r in rules]}


def _lifecycle_rule(rule):
    out = {"ID": rule.get("id"), "Filter": {"Prefix": rule.get("prefix", "")},
           "Status": rule.get("status", "Enabled")}
    if rule.get("expiration_days") is not None:
        out["Expiration"] = {"Days": rule["expiration_days"]}
    if rule.get("transitions"):
        out["Transitions"] = [{"Days": t["days"], "StorageClass": t["storage_class"]}
                              for t in rule["transitions"]]
    if rule.get("noncurrent_transitions"):
        out["NoncurrentVersionTransitions"] = [
            {"NoncurrentDays": t["days"], "StorageClass": t["storage_class"]}
            for t in rule["noncurrent_transitions"]]
    if rule.get("noncurrent_days") is not None:
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": rule["noncurrent_days"]}
    if rule.get("abort_multipart_days") is not None:
        out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation":
                                                 rule["abort_multipart_days"]}
    return out


@SERVICE.action("GetObjectLockConfiguration")
def get_object_lock_configuration(call):
    bucket = _bucket(call)
    _require(call, "s3:GetBucketObjectLockConfiguration")
    if not bucket.lock:
        raise ApiError("ObjectLockConfigurationNotFoundError", "Object Lock configuration does "
                       "not exist for this bucket", 404, BucketName=bucket.name)
    config = {"ObjectLockEnabled": "Enabled"}
    retention = _default_retention(bucket)
    if retention:
        config["Rule"] = {"DefaultRetention": retention}
    return {"ObjectLockConfiguration": config}


def _default_retention(bucket):
    lock = bucket.lock if isinstance(bucket.lock, dict) else {}
    if not lock.get("mode"):
        return None
    out = {"Mode": lock["mode"]}
    if lock.get("years"):
        out["Years"] = lock["years"]
    else:
        out["Days"] = lock.get("days", 1)
    return out


# ---------------------------------------------------------------------------------------
# Objects

def _url(text, encode):
    return urllib.parse.quote(text, safe="/") if encode and text is not None else text


@SERVICE.action("ListObjectsV2")
def list_objects_v2(call):
    bucket = _bucket(call)
    _require(call, "s3:ListBucket")
    store = _store(call, bucket)
    prefix = call.params.get("Prefix", "")
    delimiter = call.params.get("Delimiter")
    start_after = call.params.get("StartAfter")
    max_keys = call.params.get("MaxKeys", 1000)
    if max_keys < 0:
        raise ApiError("InvalidArgument", "Provided max-keys not an integer or within integer "
                       "range", 400, ArgumentName="max-keys", ArgumentValue=str(max_keys))
    encode = call.params.get("EncodingType") == "url"
    entries = []
    seen_prefixes = set()
    with call.lock:
        current = sorted((k, v[-1]) for k, v in store.items() if v and not v[-1]["delete_marker"])
    for key, version in current:
        if not key.startswith(prefix) or (start_after and key <= start_after):
            continue
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                common = key[:cut + len(delimiter)]
                if common not in seen_prefixes:
                    seen_prefixes.add(common)
                    entries.append(("prefix", common, None))
                continue
        entries.append(("key", key, version))
    call.params["MaxKeys"] = min(max_keys, 1000)
    page, token = call.paginate(entries, token="ContinuationToken", limit="MaxKeys",
                                default=1000) if max_keys else ([], None)
    contents, prefixes = [], []
    for kind, name, version in page:
        if kind == "prefix":
            prefixes.append({"Prefix": _url(name, encode)})
            continue
        item = {"Key": _url(name, encode), "LastModified": version["last_modified"],
                "ETag": version["etag"], "Size": len(version["body"]),
                "StorageClass": "STANDARD"}
        if version["checksums"]:
            item["ChecksumAlgorithm"] = sorted(version["checksums"])
        if call.params.get("FetchOwner"):
            item["Owner"] = {"ID": hashlib.sha256(bucket.owner.id.encode()).hexdigest()}
        contents.append(item)
    return {
        "IsTruncated": token is not None,
        "Contents": contents or None,
        "Name": bucket.name,
        "Prefix": _url(prefix, encode),
        "Delimiter": _url(delimiter, encode),
        "MaxKeys": max_keys,
        "CommonPrefixes": prefixes or None,
        "EncodingType": "url" if encode else None,
        "KeyCount": len(page),
        "ContinuationToken": call.params.get("ContinuationToken"),
        "NextContinuationToken": token,
        "StartAfter": _url(start_after, encode),
    }


def _find_version(call, bucket, key, version_id):
    store = _store(call, bucket)
    with call.lock:
        versions = list(store.get(key, []))
    if version_id is not None:
        for version in versions:
            if version["version_id"] == version_id:
                return version
        raise ApiError("NoSuchVersion", "The specified version does not exist.", 404,
                       Key=key, VersionId=version_id)
    if not versions or versions[-1]["delete_marker"]:
        raise ApiError("NoSuchKey", "The specified key does not exist.", 404, Key=key)
    return versions[-1]


@SERVICE.action("GetObject")
def get_object(call):
    bucket = _bucket(call)
    version = _find_version(call, bucket, call.params["Key"], call.params.get("VersionId"))
    if version["delete_marker"]:
        raise ApiError("MethodNotAllowed", "The specified method is not allowed against this "
                       "resource.", 405, headers={"x-amz-delete-marker": "true"})
    out = {
        "Body": version["body"],
        "AcceptRanges": "bytes",
        "LastModified": version["last_modified"],
        "ETag": version["etag"],
        "ContentType": version["content_type"],
        "VersionId": version["version_id"] if bucket.versioned else None,
        "Metadata": version["metadata"] or None,
        "ObjectLockMode": version["lock_mode"],
        "ObjectLockRetainUntilDate": version["retain_until"],
        "ObjectLockLegalHoldStatus": version["legal_hold"],
        **_sse(bucket),
    }
    if call.params.get("ChecksumMode") == "ENABLED":
        for algorithm, value in version["checksums"].items():
            out["Checksum" + algorithm] = value
    return out


def _check_integrity(call, body, trailers):
    """Validates Content-MD5 and x-amz-checksum-* (as headers or aws-chunked trailers);
    returns (has_integrity, {algorithm: value})."""
    md5 = call.headers.get("content-md5")
    if md5 is not None:
        try:
            raw = base64.b64decode(md5, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 16:
            raise ApiError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400,
                           **{"Content-MD5": md5})
        if raw != hashlib.md5(body).digest():
            raise ApiError("BadDigest", "The Content-MD5 you specified did not match what we "
                           "received.", 400, ExpectedDigest=md5,
                           CalculatedDigest=base64.b64encode(hashlib.md5(body).digest()).decode())
    given = {alg: trailers.get(f"x-amz-checksum-{alg.lower()}") or
             call.headers.get(f"x-amz-checksum-{alg.lower()}") for alg in _CHECKSUMS}
    given = {alg: value for alg, value in given.items() if value is not None}
    declared = call.headers.get("x-amz-sdk-checksum-algorithm")
    if declared is not None:
        if declared.upper() not in _CHECKSUMS:
            raise ApiError("InvalidRequest", "Checksum algorithm provided is unsupported. Please "
                           "try again with any of the valid types: [CRC32, CRC32C, SHA1, "
                           "SHA256]", 400)
        if declared.upper() not in given:
            raise ApiError("InvalidRequest", "x-amz-sdk-checksum-algorithm specified, but no "
                           "corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
                           400)
    if len(given) > 1:
        raise ApiError("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple "
                       "checksum Types are not allowed.", 400)
    for algorithm, value in given.items():
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != _CHECKSUMS[algorithm]:
            raise ApiError("InvalidRequest", f"Value for x-amz-checksum-{algorithm.lower()} "
                           "header is invalid.", 400)
        if value != checksum(algorithm, body):
            raise ApiError("BadDigest", f"The {algorithm} you specified did not match the "
                           "calculated checksum.", 400)
    return md5 is not None or bool(given), given


def _decode_aws_chunked(call, raw):
    """(body, trailers) of an aws-chunked body: hex-size chunks, then trailer lines. This is
    how current SDKs send a flexible checksum (x-amz-trailer) with an unsigned payload."""
    incomplete = ApiError("IncompleteBody", "The request body terminated unexpectedly", 400)
    chunks, pos = [], 0
    while True:
        eol = raw.find(b"\r\n", pos)
        if eol < 0:
            raise incomplete
        try:
            size = int(raw[pos:eol].split(b";")[0], 16)
        except ValueError:
            raise ApiError("InvalidChunkSizeError", "Only the last chunk is allowed to have a "
                           "size less than 8192 bytes", 400) from None
        pos = eol + 2
        if size == 0:
            break
        if raw[pos + size:pos + size + 2] != b"\r\n":
            raise incomplete
        chunks.append(raw[pos:pos + size])
        pos += size + 2
    trailers = {}
    for line in raw[pos:].split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if sep:
            trailers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    body = b"".join(chunks)
    declared = call.headers.get("x-amz-decoded-content-length")
    if declared is None or not declared.isdigit() or int(declared) != len(body):
        raise ApiError("IncompleteBody", "You did not provide the number of bytes specified by "
                       "the x-amz-decoded-content-length HTTP header", 400)
    for name in (call.headers.get("x-amz-trailer") or "").split(","):
        if name.strip() and name.strip().lower() not in trailers:
            raise ApiError("MalformedTrailerError", "The request contained trailing data that "
                           "was not well-formed or did not conform to our published schema.", 400)
    return body, trailers


def _lock_request(call, bucket):
    """(mode, retain_until, legal_hold) the PUT asks for, validated; Nones when none."""
    mode = call.params.get("ObjectLockMode")
    until = call.params.get("ObjectLockRetainUntilDate")
    hold = call.params.get("ObjectLockLegalHoldStatus")
    if (mode is None) != (until is None):
        raise ApiError("InvalidArgument", "x-amz-object-lock-retain-until-date and "
                       "x-amz-object-lock-mode must both be supplied", 400)
    if mode is not None and mode not in _LOCK_MODES:
        raise ApiError("InvalidArgument", "Unknown wormMode directive.", 400,
                       ArgumentName="x-amz-object-lock-mode", ArgumentValue=mode)
    if until is not None and until <= call.now:
        raise ApiError("InvalidArgument", "The retain until date must be in the future!", 400,
                       ArgumentName="x-amz-object-lock-retain-until-date")
    if hold is not None and hold not in ("ON", "OFF"):
        raise ApiError("InvalidArgument", "Legal Hold must be either of 'ON' or 'OFF'", 400)
    if (mode or hold) and not bucket.lock:
        raise ApiError("InvalidRequest", "Bucket is missing ObjectLockConfiguration", 400)
    if mode:
        _require(call, "s3:PutObjectRetention")
    if hold:
        _require(call, "s3:PutObjectLegalHold")
    return mode, until, hold


@SERVICE.action("PutObject")
def put_object(call):
    bucket = _bucket(call)
    body = call.params.get("Body") or b""
    if call.headers.get("content-length") is None and \
            call.headers.get("x-amz-decoded-content-length") is None:
        # Plain chunked transfer is refused; aws-chunked bodies declare their decoded length.
        raise ApiError("MissingContentLength", "You must provide the Content-Length HTTP "
                       "header.", 411)
    payload = call.headers.get("x-amz-content-sha256", "")
    trailers = {}
    if payload == "STREAMING-UNSIGNED-PAYLOAD-TRAILER":
        body, trailers = _decode_aws_chunked(call, body)
    elif payload.startswith("STREAMING-"):
        # Signed chunks would need every chunk signature checked: not simulated.
        raise ApiError("NotImplemented", "A header you provided implies functionality that is "
                       "not implemented", 501, Header="x-amz-content-sha256")
    has_integrity, checksums = _check_integrity(call, body, trailers)
    mode, until, hold = _lock_request(call, bucket)
    default = _default_retention(bucket)
    if (mode or hold or default) and not has_integrity:
        raise ApiError("InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is "
                       "required for Put Object requests with Object Lock parameters", 400)
    if mode is None and default:
        mode = default["Mode"]
        until = call.now + datetime.timedelta(days=default.get("Days", 0) +
                                              365 * default.get("Years", 0))
    key = call.params["Key"]
    store = _store(call, bucket)
    with call.lock:
        versions = store.setdefault(key, [])
        version = _version(bucket, _next_serial(call), body,
                           call.params.get("ContentType", "binary/octet-stream"), call.now)
        version.update(lock_mode=mode, retain_until=until, legal_hold=hold,
                       checksums=checksums, metadata=call.params.get("Metadata") or {})
        if bucket.versioned:
            versions.append(version)
        else:
            versions[:] = [version]
    out = {"ETag": version["etag"],
           "VersionId": version["version_id"] if bucket.versioned else None,
           **_sse(bucket)}
    for algorithm, value in checksums.items():
        out["Checksum" + algorithm] = value
    return out


def _protected(call, version):
    """Why this version cannot be deleted now, or None."""
    if version["legal_hold"] == "ON":
        return "legal hold"
    until = version["retain_until"]
    if until is None or until <= call.now:
        return None
    if version["lock_mode"] == "COMPLIANCE":
        return "compliance retention"
    bypass = call.headers.get("x-amz-bypass-governance-retention", "").lower() == "true"
    if version["lock_mode"] == "GOVERNANCE" and not (
            bypass and call.principal.permitted(call.account, "s3:BypassGovernanceRetention")):
        return "governance retention"
    return None


@SERVICE.action("DeleteObject")
def delete_object(call):
    bucket = _bucket(call)
    key = call.params["Key"]
    version_id = call.params.get("VersionId")
    store = _store(call, bucket)
    with call.lock:
        versions = store.setdefault(key, [])
        if version_id is not None:
            version = next((v for v in versions if v["version_id"] == version_id), None)
            if version is None:
                return {}
            if _protected(call, version):
                raise ApiError("AccessDenied", "Access Denied because object protected by "
                               "object lock.", 403)
            versions.remove(version)
            return {"VersionId": version_id,
                    "DeleteMarker": True if version["delete_marker"] else None}
        if not bucket.versioned:
            store.pop(key, None)
            return {}
        marker = _version(bucket, _next_serial(call), b"", "", call.now)
        marker["delete_marker"] = True
        versions.append(marker)
    return {"DeleteMarker": True, "VersionId": marker["version_id"]}


# ---------------------------------------------------------------------------------------

@SERVICE.validator
def validate(section, path):
    from sim.scenario import ALL_REGIONS
    if not isinstance(section, dict):
        return [f"{path}: an object"]
    problems = []
    for key in set(section) - {"buckets", "_comment"}:
        problems.append(f"{path}.{key}: unknown key")
    for i, bucket in enumerate(section.get("buckets", [])):
        where = f"{path}.buckets[{i}]"
        for key in set(bucket) - _BUCKET_KEYS:
            problems.append(f"{where}.{key}: unknown key")
        if not _BUCKET.match(str(bucket.get("name"))):
            problems.append(f"{where}.name: 3-63 lower-case letters, digits, '.' or '-'")
        if bucket.get("region", "us-east-1") not in ALL_REGIONS:
            problems.append(f"{where}.region: unknown region {bucket.get('region')}")
        lock = bucket.get("object_lock")
        if lock not in (None, False, True):
            if not isinstance(lock, dict):
                problems.append(f"{where}.object_lock: true or {{mode, days|years}}")
            elif lock.get("mode") is not None and lock["mode"] not in _LOCK_MODES:
                problems.append(f"{where}.object_lock.mode: GOVERNANCE or COMPLIANCE")
            elif lock.get("days") and lock.get("years"):
                problems.append(f"{where}.object_lock: days or years, not both")
        if lock and bucket.get("versioning") not in (None, True, "Enabled"):
            problems.append(f"{where}.versioning: Object Lock needs versioning Enabled")
        for j, rule in enumerate(bucket.get("lifecycle") or []):
            for key in set(rule) - _RULE_KEYS:
                problems.append(f"{where}.lifecycle[{j}].{key}: unknown key")
            if rule.get("status", "Enabled") not in ("Enabled", "Disabled"):
                problems.append(f"{where}.lifecycle[{j}].status: Enabled or Disabled")
        for j, obj in enumerate(bucket.get("objects", [])):
            for key in set(obj) - _OBJECT_KEYS:
                problems.append(f"{where}.objects[{j}].{key}: unknown key")
            if not isinstance(obj.get("key"), str) or not obj["key"]:
                problems.append(f"{where}.objects[{j}].key: required")
    return problems

