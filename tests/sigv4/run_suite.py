#!/usr/bin/python3
"""Runs the published SigV4 test vectors through `evident sign`.

The vectors are read in place from the shared test data (see its README):
  aws-c-auth/v4/<case>/  context.json, request.txt, header-*.txt
  classic/**/<case>.*    .req, .creq, .sts, .authz (.sreq is not trusted)
Every header-mode case is signed three times (--show canonical,
string-to-sign, authorization) and compared byte for byte with the expected
files; aws-c-auth cases are also signed in request mode and their header set
compared with header-signed-request.txt. SigV4a cases are listed as skipped,
and query-mode (presigned URL) files are not checked: evident signs with the
Authorization header only.

Exit status 0 only when every case passes and the suite is complete.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile

EXPECTED_V4 = 38
EXPECTED_CLASSIC = 34
EXPECTED_V4A = 40

CLASSIC_CREDENTIALS = {
    "access_key_id": "AKIDEXAMPLE",
    "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
}
CLASSIC_REGION = "us-east-1"
CLASSIC_SERVICE = "service"

# Variables a sanitizer build needs; everything else is left out so that
# no profile, config file or instance metadata can leak into a run.
PASSED_ENV = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "LD_LIBRARY_PATH")


class Signer:
    def __init__(self, evident, scratch):
        self.evident = evident
        self.base_env = {"PATH": "/usr/bin:/bin", "HOME": scratch,
                         "AWS_CONFIG_FILE": os.path.join(scratch, "none"),
                         "AWS_SHARED_CREDENTIALS_FILE":
                             os.path.join(scratch, "none"),
                         "AWS_EC2_METADATA_DISABLED": "true"}
        for name in PASSED_ENV:
            if name in os.environ:
                self.base_env[name] = os.environ[name]

    def sign(self, request, show, flags, creds, service, region):
        env = dict(self.base_env)
        env["AWS_ACCESS_KEY_ID"] = creds["access_key_id"]
        env["AWS_SECRET_ACCESS_KEY"] = creds["secret_access_key"]
        if creds.get("token"):
            env["AWS_SESSION_TOKEN"] = creds["token"]
        argv = [self.evident, "sign", "--service", service, "--region",
                region, "--show", show] + flags
        proc = subprocess.run(argv, input=request, capture_output=True,
                              env=env, timeout=30)
        if proc.returncode != 0:
            raise RuntimeError("evident sign --show %s exited %d: %s" % (
                show, proc.returncode,
                proc.stderr.decode("utf-8", "replace").strip()))
        return proc.stdout


def read(path):
    with open(path, "rb") as f:
        return f.read()


def first_difference(got, want):
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            return i
    return min(len(got), len(want))


def describe(label, got, want):
    i = first_difference(got, want)
    return "%s differs at byte %d:\n    got:  %r\n    want: %r" % (
        label, i, got[max(0, i - 30):i + 40], want[max(0, i - 30):i + 40])


def parse_head(text):
    """Request line, [(lower name, value)] with continuations joined, body."""
    m = re.search(rb"\r?\n\r?\n", text)
    head, body = (text[:m.start()], text[m.end():]) if m else (text, b"")
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    headers = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + b" " + line.strip())
        elif line:
            name, _, value = line.partition(b":")
            headers.append((name.strip().lower(), value.strip()))
    headers = [(n, b" ".join(v.split())) for n, v in headers]
    return lines[0], sorted(headers), body


def compare(results, expected):
    problems = []
    for label in ("canonical", "string-to-sign", "authorization"):
        if results[label] != expected[label]:
            problems.append(describe(label, results[label], expected[label]))
    return problems


def run_case(signer, request, flags, creds, service, region):
    results = {}
    for show in ("canonical", "string-to-sign", "authorization"):
        results[show] = signer.sign(request, show, flags, creds, service,
                                    region)
    return results


def v4_case(signer, folder):
    ctx = json.loads(read(os.path.join(folder, "context.json")))
    creds = dict(ctx["credentials"])
    stamp = datetime.datetime.strptime(ctx["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    flags = ["--time", stamp.strftime("%Y%m%dT%H%M%SZ")]
    if not ctx.get("normalize", True):
        flags.append("--no-normalize-path")
    if ctx.get("sign_body", False):
        flags.append("--content-sha256-header")
    if ctx.get("omit_session_token", False):
        flags.append("--unsigned-session-token")
    request = read(os.path.join(folder, "request.txt"))
    signed = read(os.path.join(folder, "header-signed-request.txt"))
    authz = [v for n, v in parse_head(signed)[1] if n == b"authorization"]
    expected = {
        "canonical": read(os.path.join(folder,
                                       "header-canonical-request.txt")),
        "string-to-sign": read(os.path.join(folder,
                                            "header-string-to-sign.txt")),
        "authorization": authz[0] if len(authz) == 1 else b"<missing>",
    }
    results = run_case(signer, request, flags, creds, ctx["service"],
                       ctx["region"])
    problems = compare(results, expected)
    signature = read(os.path.join(folder, "header-signature.txt")).strip()
    if not results["authorization"].endswith(b"Signature=" + signature):
        problems.append("signature differs from header-signature.txt")
    ours = signer.sign(request, "request", flags, creds, ctx["service"],
                       ctx["region"])
    if parse_head(ours) != parse_head(signed):
        problems.append("signed request differs:\n    got:  %r\n    want: %r"
                        % (parse_head(ours), parse_head(signed)))
    return problems


def header_value(text, name):
    pattern = rb"^" + re.escape(name) + rb":[ \t]*(.*?)[ \t]*\r?$"
    m = re.search(pattern, text, re.MULTILINE | re.IGNORECASE)
    return m.group(1).decode() if m else None


def classic_case(signer, folder, name):
    base = os.path.join(folder, name)
    request = read(base + ".req")
    expected = {"canonical": read(base + ".creq"),
                "string-to-sign": read(base + ".sts"),
                "authorization": read(base + ".authz")}
    creds = dict(CLASSIC_CREDENTIALS)
    flags = []
    # The suite's convention: the token is the one the expected output
    # shows; one found only in the signed request was added unsigned.
    signed_token = header_value(expected["canonical"], b"x-amz-security-token")
    sreq_token = None
    if os.path.exists(base + ".sreq"):
        sreq_token = header_value(read(base + ".sreq"),
                                  b"X-Amz-Security-Token")
    if signed_token:
        creds["token"] = signed_token
    elif sreq_token:
        creds["token"] = sreq_token
        flags.append("--unsigned-session-token")
    # No --time: every classic request carries X-Amz-Date.
    results = run_case(signer, request, flags, creds, CLASSIC_SERVICE,
                       CLASSIC_REGION)
    return compare(results, expected)


def classic_cases(root):
    found = []
    for folder, _, files in os.walk(root):
        for f in files:
            if f.endswith(".req"):
                found.append((folder, f[:-4]))
    return sorted(found, key=lambda c: os.path.relpath(
        os.path.join(c[0], c[1]), root))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evident", required=True)
    ap.add_argument("--data", required=True,
                    help="the testdata/sigv4 folder")
    args = ap.parse_args()

    passed = failed = skipped = 0
    counts = {"v4": 0, "classic": 0, "v4a": 0}
    query_files = 0
    with tempfile.TemporaryDirectory() as scratch:
        signer = Signer(args.evident, scratch)

        def report(label, problems):
            nonlocal passed, failed
            if problems:
                failed += 1
                print("FAIL %s" % label)
                for p in problems:
                    print("    " + p)
            else:
                passed += 1
                print("PASS %s" % label)

        def attempt(label, fn, *fargs):
            try:
                problems = fn(*fargs)
            except (RuntimeError, OSError, ValueError, KeyError,
                    subprocess.TimeoutExpired) as e:
                problems = [str(e)]
            report(label, problems)

        v4_root = os.path.join(args.data, "aws-c-auth", "v4")
        for case in sorted(os.listdir(v4_root)):
            folder = os.path.join(v4_root, case)
            if not os.path.isdir(folder):
                continue
            counts["v4"] += 1
            query_files += len([f for f in os.listdir(folder)
                                if f.startswith("query-")])
            attempt("aws-c-auth/v4/" + case, v4_case, signer, folder)

        classic_root = os.path.join(args.data, "classic")
        for folder, name in classic_cases(classic_root):
            counts["classic"] += 1
            rel = os.path.relpath(os.path.join(folder, name), classic_root)
            rel = os.path.dirname(rel)
            attempt("classic/" + rel, classic_case, signer, folder, name)

        v4a_root = os.path.join(args.data, "aws-c-auth", "v4a")
        for case in sorted(os.listdir(v4a_root)):
            if os.path.isdir(os.path.join(v4a_root, case)):
                counts["v4a"] += 1
                skipped += 1
                print("SKIP aws-c-auth/v4a/%s (SigV4a: not implemented)"
                      % case)

    print("not checked: %d query-mode (presigned URL) files of the v4 cases"
          % query_files)
    complete = (counts["v4"] == EXPECTED_V4 and
                counts["classic"] == EXPECTED_CLASSIC and
                counts["v4a"] == EXPECTED_V4A)
    if not complete:
        print("suite incomplete: found %d v4, %d classic, %d v4a cases "
              "(expected %d, %d, %d)" % (
                  counts["v4"], counts["classic"], counts["v4a"],
                  EXPECTED_V4, EXPECTED_CLASSIC, EXPECTED_V4A))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 0 if failed == 0 and complete else 1


if __name__ == "__main__":
    sys.exit(main())
