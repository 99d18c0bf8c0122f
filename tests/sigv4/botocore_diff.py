#!/usr/bin/python3
"""Signs seeded random requests with `evident sign` and with botocore.

Each request gets a random method, path (reserved, unicode, space, dot and
empty segments), query string (repeated keys, empty values, reserved and
unicode characters), headers (odd whitespace, repeated names in mixed case,
folded lines), body, signing time, region, credentials with or without a
session token, and a service (s3 signed with UNSIGNED-PAYLOAD or a hashed
payload). The Authorization values must be identical.

botocore's SigV4Auth lacks three switches evident has; they are applied by
hand, as the test data's README says:
  --no-normalize-path      sign without normalisation, path encoded once more
  --content-sha256-header  add X-Amz-Content-SHA256 (body hash) before signing
  --unsigned-session-token sign without the token (it is added afterwards)

botocore never re-encodes a query taken from the URL, so it is given the
query encoded as its own serializer would; evident is sometimes given an
equivalent spelling instead (raw unicode, raw reserved characters,
lower-case hex), which its canonicalisation must bring to the same form.
"""

import argparse
import datetime
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import time
import types
from unittest import mock
from urllib.parse import quote

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICES = ["service", "iam", "sts", "ec2", "execute-api", "lambda",
            "s3", "s3", "s3"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1",
           "cn-north-1", "me-central-1"]
METHODS = ["GET", "GET", "POST", "POST", "PUT", "DELETE", "HEAD", "PATCH"]

UNRESERVED = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
              "0123456789-._~")
RESERVED = "!$&'()*+,;=:@"
ODD = " \"<>\\^`{|}[]"
UNICODE = ["é", "ü", "ß", "☃", "€", "日本", "𝄞"]
# Header names: RFC 7230 tokens. Values: printable ASCII and some UTF-8.
NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
NAME_ODD = "!#$%&'*+.^_`|~"
VALUE_CHARS = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "0123456789-._~!$&'()*+,;=:@/?#[]\"<>\\^`{|}%")
# Headers botocore adds, replaces or never signs: not generated.
RESERVED_HEADERS = {"authorization", "x-amz-date", "x-amz-security-token",
                    "x-amz-content-sha256", "date", "expect", "user-agent",
                    "x-amzn-trace-id", "host"}


def rand_text(rng, alphabet, lo, hi, extra=(), extra_p=0.0):
    out = []
    for _ in range(rng.randint(lo, hi)):
        if extra and rng.random() < extra_p:
            out.append(rng.choice(extra))
        else:
            out.append(rng.choice(alphabet))
    return "".join(out)


def rand_segment(rng):
    r = rng.random()
    if r < 0.08:
        return "."
    if r < 0.14:
        return ".."
    if r < 0.20:
        return ""
    pieces = []
    for _ in range(rng.randint(1, 6)):
        k = rng.random()
        if k < 0.55:
            pieces.append(rng.choice(UNRESERVED))
        elif k < 0.70:
            pieces.append(rng.choice(RESERVED))
        elif k < 0.78:
            pieces.append(rng.choice(ODD))
        elif k < 0.90:
            pieces.append(rng.choice(UNICODE))
        else:
            pieces.append(rng.choice(["%20", "%2F", "%41", "%", "%zz"]))
    return "".join(pieces)


def rand_path(rng, s3):
    if s3:
        # As botocore's serializer sends an S3 key: encoded once.
        segs = [rand_segment(rng) for _ in range(rng.randint(0, 4))]
        key = "/".join(segs)
        if rng.random() < 0.2:
            key += "/"
        return "/" + quote(key, safe="/~")
    segs = [rand_segment(rng) for _ in range(rng.randint(0, 5))]
    path = "/" + "/".join(segs)
    if rng.random() < 0.2:
        path += "/"
    return path


def rand_query_item(rng):
    k = rng.random()
    if k < 0.6:
        return rand_text(rng, UNRESERVED, 1, 8)
    return rand_text(rng, UNRESERVED, 0, 6,
                     extra=list(RESERVED) + [" ", "/", "?", "#", "%", "+"] +
                     UNICODE, extra_p=0.4) or "x"


def encode_q(s):
    return quote(s, safe="-_.~")


def respell(rng, s):
    """Another spelling of s that decodes to the same bytes."""
    out = []
    for ch in s:
        if ch in UNRESERVED:
            out.append(ch)
        elif ch in "&=%#" or rng.random() < 0.3:
            enc = quote(ch, safe="")
            out.append(enc.lower() if rng.random() < 0.5 else enc)
        else:
            out.append(ch)  # raw: space, reserved, unicode
    return "".join(out)


def rand_query(rng):
    """(query for botocore, query for evident) or (None, None)."""
    if rng.random() < 0.35:
        return None, None
    if rng.random() < 0.05:
        return "", ""
    params = []
    for _ in range(rng.randint(1, 6)):
        if params and rng.random() < 0.25:
            name = rng.choice(params)[0]  # a repeated key
        else:
            name = rand_query_item(rng)
        value = "" if rng.random() < 0.2 else rand_query_item(rng)
        params.append((name, value))
    variant = rng.random() < 0.4
    boto, ours = [], []
    for name, value in params:
        with_eq = value != "" or rng.random() < 0.5
        b = encode_q(name) + ("=" + encode_q(value) if with_eq else "")
        boto.append(b)
        if variant:
            ours.append(respell(rng, name) +
                        ("=" + respell(rng, value) if with_eq else ""))
        else:
            ours.append(b)
    return "&".join(boto), "&".join(ours)


def rand_header_value(rng):
    core = rand_text(rng, VALUE_CHARS, 0, 12, extra=[" ", "  ", "\t", " \t "]
                     + UNICODE, extra_p=0.25)
    lead = rng.choice(["", "", " ", "\t", "  "])
    trail = rng.choice(["", "", " ", "\t", "   "])
    return lead + core + trail


def rand_headers(rng):
    headers = []
    for _ in range(rng.randint(0, 6)):
        if headers and rng.random() < 0.25:
            name = rng.choice(headers)[0]
            name = "".join(c.upper() if rng.random() < 0.5 else c.lower()
                           for c in name)
        else:
            name = ("X-" if rng.random() < 0.5 else "") + rand_text(
                rng, NAME_CHARS, 1, 10, extra=NAME_ODD, extra_p=0.1)
            if name.lower() in RESERVED_HEADERS:
                continue
        headers.append((name, rand_header_value(rng)))
    return headers


def header_line(rng, name, value):
    """A raw header line, sometimes folded at inner whitespace."""
    sep = rng.choice(["", " ", "\t", "  "])
    stripped = value.strip(" \t")
    cut = [i for i, c in enumerate(stripped) if c in " \t"]
    if cut and rng.random() < 0.2:
        i = rng.choice(cut)
        return "%s:%s%s\r\n%s%s" % (name, sep, stripped[:i],
                                    rng.choice([" ", "\t", "   "]),
                                    stripped[i:].lstrip(" \t"))
    return "%s:%s%s" % (name, sep, value)


def rand_token(rng):
    alphabet = UNRESERVED.replace("-", "").replace(".", "").replace(
        "_", "").replace("~", "") + "+/"
    return rand_text(rng, alphabet, 20, 300) + rng.choice(["", "=", "=="])


def make_case(rng, index):
    service = rng.choice(SERVICES)
    s3 = service == "s3"
    method = rng.choice(METHODS)
    when = datetime.datetime(2010, 1, 1) + datetime.timedelta(
        seconds=rng.randint(0, 25 * 365 * 86400))
    body = b""
    if method in ("POST", "PUT", "PATCH") and rng.random() < 0.8:
        body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200)))
    case = {
        "index": index,
        "service": service,
        "region": rng.choice(REGIONS),
        "method": method,
        "host": rng.choice(["example.amazonaws.com",
                            "bucket.s3.eu-west-1.amazonaws.com",
                            "localhost:8443"]),
        "path": rand_path(rng, s3),
        "time": when,
        "headers": rand_headers(rng),
        "body": body,
        "akid": "AKIA" + rand_text(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
                                   16, 16),
        "secret": rand_text(rng, UNRESERVED + "+/", 40, 40),
        "token": rand_token(rng) if rng.random() < 0.4 else None,
        "unsigned_payload": False,
        "no_normalize": False,
        "sha256_header": False,
        "unsigned_token": False,
        "date_in_request": rng.random() < 0.1,
        "crlf": rng.random() < 0.7,
    }
    case["query_boto"], case["query_ours"] = rand_query(rng)
    if s3:
        case["unsigned_payload"] = rng.random() < 0.5
    else:
        case["unsigned_payload"] = rng.random() < 0.15
        case["no_normalize"] = rng.random() < 0.15
        case["sha256_header"] = (not case["unsigned_payload"] and
                                 rng.random() < 0.15)
    if case["token"]:
        case["unsigned_token"] = rng.random() < 0.2
    case["lines"] = [header_line(rng, n, v) for n, v in case["headers"]]
    return case


class NoNormalizeSigV4Auth(botocore.auth.SigV4Auth):
    """normalize: false with the path still encoded once more."""

    def _normalize_url_path(self, path):
        return quote(path, safe="/~")


def botocore_sign(case):
    s3 = case["service"] == "s3"
    token = None if case["unsigned_token"] else case["token"]
    creds = Credentials(case["akid"], case["secret"], token)
    if s3:
        cls = botocore.auth.S3SigV4Auth
    elif case["no_normalize"]:
        cls = NoNormalizeSigV4Auth
    else:
        cls = botocore.auth.SigV4Auth
    auth = cls(creds, case["service"], case["region"])
    url = "https://" + case["host"] + case["path"]
    if case["query_boto"] is not None:
        url += "?" + case["query_boto"]
    req = AWSRequest(method=case["method"], url=url, data=case["body"])
    req.headers["Host"] = case["host"]
    for name, value in case["headers"]:
        req.headers[name] = value
    if s3:
        req.context["client_config"] = types.SimpleNamespace(
            s3={"payload_signing_enabled": not case["unsigned_payload"]})
    elif case["unsigned_payload"]:
        req.context["payload_signing_enabled"] = False
    if case["sha256_header"]:
        req.headers["X-Amz-Content-SHA256"] = hashlib.sha256(
            case["body"]).hexdigest()
    seen = {}
    original = auth.canonical_request

    def recording(request):
        seen["canonical"] = original(request)
        return seen["canonical"]

    auth.canonical_request = recording
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = case["time"]
        auth.add_auth(req)
    return req.headers["Authorization"], seen.get("canonical", "")


def raw_request(case):
    eol = "\r\n" if case["crlf"] else "\n"
    target = case["path"]
    if case["query_ours"] is not None:
        target += "?" + case["query_ours"]
    lines = ["%s %s HTTP/1.1" % (case["method"], target),
             "Host:" + case["host"]]
    if case["date_in_request"]:
        lines.append("X-Amz-Date: " + stamp(case))
    lines += [l.replace("\r\n", eol) for l in case["lines"]]
    head = eol.join(lines) + eol + eol
    return head.encode("utf-8") + case["body"]


def stamp(case):
    return case["time"].strftime("%Y%m%dT%H%M%SZ")


def evident_sign(evident, env_base, case, show):
    env = dict(env_base)
    env["AWS_ACCESS_KEY_ID"] = case["akid"]
    env["AWS_SECRET_ACCESS_KEY"] = case["secret"]
    if case["token"]:
        env["AWS_SESSION_TOKEN"] = case["token"]
    argv = [evident, "sign", "--service", case["service"], "--region",
            case["region"], "--show", show]
    if not case["date_in_request"]:
        argv += ["--time", stamp(case)]
    if case["unsigned_payload"]:
        argv.append("--unsigned-payload")
        if case["service"] != "s3":
            argv.append("--content-sha256-header")
    if case["no_normalize"]:
        argv.append("--no-normalize-path")
    if case["sha256_header"]:
        argv.append("--content-sha256-header")
    if case["unsigned_token"]:
        argv.append("--unsigned-session-token")
    proc = subprocess.run(argv, input=raw_request(case), capture_output=True,
                          env=env, timeout=30)
    if proc.returncode != 0:
        return None, proc.stderr.decode("utf-8", "replace").strip()
    return proc.stdout.decode("utf-8", "replace"), None


def count(tally, case):
    s3 = case["service"] == "s3"
    names = [n.lower() for n, _ in case["headers"]]
    for key, hit in (
            ("s3", s3),
            ("s3 unsigned payload", s3 and case["unsigned_payload"]),
            ("unsigned payload", not s3 and case["unsigned_payload"]),
            ("no normalize", case["no_normalize"]),
            ("content-sha256 header", case["sha256_header"]),
            ("session token", bool(case["token"])),
            ("unsigned token", case["unsigned_token"]),
            ("respelled query", case["query_ours"] != case["query_boto"]),
            ("folded header", any("\r\n" in l for l in case["lines"])),
            ("repeated header", len(set(names)) < len(names)),
            ("date in request", case["date_in_request"]),
            ("body", bool(case["body"]))):
        tally[key] += bool(hit)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evident", required=True)
    ap.add_argument("--seed", type=int, default=20150830)
    ap.add_argument("--count", type=int, default=400)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    passed = failed = 0
    tally = dict.fromkeys(("s3", "s3 unsigned payload", "unsigned payload",
                           "no normalize", "content-sha256 header",
                           "session token", "unsigned token",
                           "respelled query", "folded header",
                           "repeated header", "date in request", "body"), 0)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        env = {"PATH": "/usr/bin:/bin", "HOME": scratch,
               "AWS_CONFIG_FILE": os.path.join(scratch, "none"),
               "AWS_SHARED_CREDENTIALS_FILE": os.path.join(scratch, "none"),
               "AWS_EC2_METADATA_DISABLED": "true"}
        for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if name in os.environ:
                env[name] = os.environ[name]
        for i in range(args.count):
            case = make_case(rng, i)
            count(tally, case)
            want, want_creq = botocore_sign(case)
            got, error = evident_sign(args.evident, env, case,
                                      "authorization")
            if got == want:
                passed += 1
                continue
            failed += 1
            ours_creq, _ = evident_sign(args.evident, env, case, "canonical")
            print("FAIL case %d (seed %d)" % (i, args.seed))
            print("  request: %r" % raw_request(case)[:600])
            print("  flags: service=%s unsigned_payload=%s no_normalize=%s "
                  "sha256_header=%s token=%s unsigned_token=%s" % (
                      case["service"], case["unsigned_payload"],
                      case["no_normalize"], case["sha256_header"],
                      bool(case["token"]), case["unsigned_token"]))
            if error:
                print("  evident failed: %s" % error)
            print("  evident:  %s" % got)
            print("  botocore: %s" % want)
            print("  evident canonical:\n%s" % ours_creq)
            print("  botocore canonical:\n%s" % want_creq)
    print("compared %d requests with botocore %s in %.1f s" % (
        args.count, botocore.__version__, time.monotonic() - started))
    print("covered: " + ", ".join("%s %d" % kv for kv in tally.items()))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
