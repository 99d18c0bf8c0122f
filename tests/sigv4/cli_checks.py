#!/usr/bin/python3
"""Checks the behaviour of `evident sign` around the signature itself:
usage errors and exit codes, where the secret and the token may appear,
request mode (line ends, body bytes, added headers) and X-Amz-Date taken
from the request. The signatures themselves are checked by run_suite.py
and botocore_diff.py."""

import argparse
import os
import subprocess
import sys
import tempfile

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FQoGZXIvYXdzEXAMPLETOKENxyz/+=="
BASE = ["--service", "service", "--region", "us-east-1"]
TIME = ["--time", "20150830T123600Z"]
VANILLA = b"GET / HTTP/1.1\nHost:example.amazonaws.com\n"
REQUEST_LIMIT = 1024 * 1024  # EV_LIMIT_REQUEST_TEXT


class Checks:
    def __init__(self, evident, scratch):
        self.evident = evident
        self.env = {"PATH": "/usr/bin:/bin", "HOME": scratch,
                    "AWS_CONFIG_FILE": os.path.join(scratch, "none"),
                    "AWS_SHARED_CREDENTIALS_FILE":
                        os.path.join(scratch, "none"),
                    "AWS_EC2_METADATA_DISABLED": "true"}
        for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if name in os.environ:
                self.env[name] = os.environ[name]
        self.passed = self.failed = 0

    def run(self, args, stdin=b"", creds=True, token=None):
        env = dict(self.env)
        if creds:
            env["AWS_ACCESS_KEY_ID"] = AKID
            env["AWS_SECRET_ACCESS_KEY"] = SECRET
        if token:
            env["AWS_SESSION_TOKEN"] = token
        return subprocess.run([self.evident, "sign"] + args, input=stdin,
                              capture_output=True, env=env, timeout=30)

    def check(self, label, ok, detail=""):
        if ok:
            self.passed += 1
            print("PASS " + label)
        else:
            self.failed += 1
            print("FAIL %s %s" % (label, detail))

    def exit_code(self, label, proc, want, stderr_has=None):
        ok = proc.returncode == want
        if stderr_has is not None:
            ok = ok and stderr_has.encode() in proc.stderr
        self.check(label, ok, "exit %d, stderr %r" % (proc.returncode,
                                                      proc.stderr[:300]))


def usage_and_exit_codes(c):
    p = c.run(["--help"])
    c.exit_code("--help exits 0", p, 0)
    c.check("--help documents the missing final newline",
            b"no newline added" in p.stdout)
    c.exit_code("--region missing", c.run(["--service", "s"] + TIME,
                                         VANILLA), 2, "--region")
    c.exit_code("--show unknown", c.run(BASE + TIME + ["--show", "x"],
                                        VANILLA), 2, "--show")
    c.exit_code("--time malformed", c.run(BASE + ["--time", "2015-08-30"],
                                          VANILLA), 2, "YYYYMMDDTHHMMSSZ")
    c.exit_code("--time needed without X-Amz-Date", c.run(BASE, VANILLA), 2,
                "--time is required")
    c.exit_code("unknown option", c.run(BASE + TIME + ["--bogus"], VANILLA),
                2, "--bogus")
    c.exit_code("malformed request", c.run(BASE + TIME, b"GET /\n"), 2,
                "malformed")
    c.exit_code("request too long",
                c.run(BASE + TIME, VANILLA + b"\n" + b"x" * REQUEST_LIMIT),
                2, "limit")
    c.exit_code("already signed request refused",
                c.run(BASE + TIME, VANILLA + b"Authorization: x\n"), 2,
                "Authorization")
    c.exit_code("no credentials", c.run(BASE + TIME, VANILLA, creds=False),
                2, "no-credentials")
    c.exit_code("--option=value form", c.run(
        ["--service=service", "--region=us-east-1",
         "--time=20150830T123600Z", "--show=authorization"], VANILLA), 0)


def secrets(c):
    for unsigned in (False, True):
        flags = ["--unsigned-session-token"] if unsigned else []
        out = {}
        for show in ("canonical", "string-to-sign", "authorization",
                     "request"):
            p = c.run(BASE + TIME + flags + ["--show", show], VANILLA,
                      token=TOKEN)
            out[show] = p.stdout
            c.check("secret absent (%s%s)" % (show, ", token unsigned"
                                                 if unsigned else ""),
                    p.returncode == 0 and SECRET.encode() not in p.stdout
                    and SECRET.encode() not in p.stderr)
        label = "unsigned" if unsigned else "signed"
        c.check("token in the request (%s)" % label,
                b"X-Amz-Security-Token: " + TOKEN.encode() in out["request"])
        c.check("token in the canonical request only when signed (%s)"
                % label,
                (TOKEN.encode() in out["canonical"]) == (not unsigned))
        c.check("token absent from the string to sign and Authorization "
                "(%s)" % label,
                TOKEN.encode() not in out["string-to-sign"] and
                TOKEN.encode() not in out["authorization"])
    p = c.run(BASE + TIME + ["--show", "canonical"], VANILLA,
              token="bad\x01token")
    c.exit_code("malformed token refused", p, 2)
    c.check("malformed token not echoed", b"bad" not in p.stderr)


def request_mode(c):
    body = b"\x00\x01binary\r\n\r\nbody\xff"
    req = (b"PUT /a%20b/c?x=1 HTTP/1.1\r\nHost: bucket.s3.amazonaws.com\r\n"
           b"Content-Type:  text/plain \r\nX-Folded: a\r\n  b\r\n\r\n" + body)
    args = ["--service", "s3", "--region", "eu-west-1"] + TIME
    p = c.run(args, req)
    out = p.stdout
    head, sep, got_body = out.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    c.check("request mode keeps CRLF and the request line",
            p.returncode == 0 and sep and
            lines[0] == b"PUT /a%20b/c?x=1 HTTP/1.1")
    c.check("request mode keeps the headers as written",
            lines[1:5] == [b"Host: bucket.s3.amazonaws.com",
                           b"Content-Type:  text/plain ",
                           b"X-Folded: a", b"  b"])
    c.check("request mode keeps the body byte for byte", got_body == body)
    names = [l.split(b":")[0] for l in lines[5:]]
    c.check("request mode adds date, content hash, Authorization",
            names == [b"X-Amz-Date", b"x-amz-content-sha256",
                      b"Authorization"], repr(names))
    authz = c.run(args + ["--show", "authorization"], req).stdout
    c.check("request mode carries the Authorization value",
            b"Authorization: " + authz in lines, repr(authz))
    c.check("artefacts end without a newline",
            not authz.endswith(b"\n") and b"SignedHeaders=content-type;"
            b"host;x-amz-content-sha256;x-amz-date;x-folded" in authz)
    canon = c.run(args + ["--show", "canonical"], req).stdout
    c.check("s3 path encoded once, folded header joined",
            canon.startswith(b"PUT\n/a%20b/c\nx=1\n") and
            b"\nx-folded:a b\n" in canon, repr(canon[:120]))

    lf = c.run(BASE + TIME, VANILLA).stdout
    c.check("request mode keeps LF line ends",
            b"\r" not in lf and lf.endswith(b"\n\n"))


def date_from_request(c):
    req = (b"GET / HTTP/1.1\nHost:example.amazonaws.com\n"
           b"X-Amz-Date:20200229T235959Z\n")
    p = c.run(BASE + ["--show", "string-to-sign"], req)
    c.check("X-Amz-Date of the request sets the date and scope",
            p.returncode == 0 and p.stdout.startswith(
                b"AWS4-HMAC-SHA256\n20200229T235959Z\n"
                b"20200229/us-east-1/service/aws4_request\n"), repr(p.stdout))
    p = c.run(BASE + TIME, req)
    c.check("X-Amz-Date of the request wins over --time and is not added",
            p.stdout.count(b"X-Amz-Date") == 1 and
            b"Credential=AKIDEXAMPLE/20200229/" in p.stdout)
    p = c.run(BASE, req.replace(b"20200229T235959Z", b"20201330T000000Z"))
    c.exit_code("impossible X-Amz-Date refused", p, 2, "X-Amz-Date")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evident", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        c = Checks(args.evident, scratch)
        usage_and_exit_codes(c)
        secrets(c)
        request_mode(c)
        date_from_request(c)
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
