"""`evident request` against the local AWS simulator, over HTTPS with its
private CA: every service answers, secrets never reach the output, TLS is
verified, clock skew and throttling are absorbed.

Run: /usr/bin/python3 tests/integration/test_request.py EVIDENT_BINARY
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import ssl

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
SIMULATOR = os.path.join(TESTS, "simulator", "simulator.py")
SCENARIOS = os.path.join(TESTS, "simulator", "scenarios")
EVIDENT = None


class Simulator:
    """One simulator process in its own state directory."""

    def __init__(self, scenario, clock_offset=0):
        self.dir = tempfile.mkdtemp(prefix="ev-sim-")
        args = [sys.executable, SIMULATOR, "--scenario",
                os.path.join(SCENARIOS, scenario), "--state-dir", self.dir]
        if clock_offset:
            args += ["--clock-offset", str(clock_offset)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while not os.path.exists(os.path.join(self.dir, "ready")):
            if self.proc.poll() is not None:
                raise RuntimeError("simulator exited: " +
                                   self.proc.stderr.read().decode())
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("simulator did not become ready")
            time.sleep(0.05)
        self.env = self._read_env()
        with open(os.path.join(self.dir, "endpoint")) as f:
            self.endpoint = f.read().strip()

    def _read_env(self):
        env = {}
        with open(os.path.join(self.dir, "env")) as f:
            for line in f:
                line = line.strip()
                if line.startswith("export "):
                    line = line[len("export "):]
                if "=" not in line:
                    continue
                k, v = line.split("=", 1)
                env[k] = v.strip("'\"")
        return env

    def control(self, path, body):
        ctx = ssl.create_default_context(cafile=self.env["AWS_CA_BUNDLE"])
        req = urllib.request.Request(self.endpoint + path,
                                     data=json.dumps(body).encode(),
                                     method="POST")
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return json.loads(r.read() or b"{}")

    def requests(self, at_least=0):
        """The request log; the simulator writes a line after it answers,
        so wait (bounded) until at least `at_least` complete lines are
        there."""
        deadline = time.monotonic() + 5
        while True:
            with open(os.path.join(self.dir, "requests.jsonl")) as f:
                lines = [l for l in f.read().split("\n")[:-1] if l.strip()]
            if len(lines) >= at_least or time.monotonic() > deadline:
                return [json.loads(l) for l in lines]
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def evident(env, *args, timeout=60):
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("AWS_")}
    base.update(env)
    base["HOME"] = tempfile.gettempdir()  # no stray ~/.aws files
    return subprocess.run([EVIDENT, *args], env=base, capture_output=True,
                          text=True, timeout=timeout)


class RequestAgainstSimulator(unittest.TestCase):
    sim = None

    @classmethod
    def setUpClass(cls):
        cls.sim = Simulator("demo-org.json")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def call(self, *args, env=None):
        e = dict(self.sim.env)
        e.update(env or {})
        r = evident(e, "request", *args)
        return r

    def ok(self, *args, env=None):
        r = self.call(*args, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(out["http_status"], 200)
        self.assertTrue(out["request_id"], "no request id in " + r.stdout)
        return out

    def test_sts_get_caller_identity(self):
        out = self.ok("sts", "GetCallerIdentity")
        account = out["response"]["Account"]
        self.assertRegex(account, r"^\d{12}$")
        self.assertIn(account, out["response"]["Arn"])

    def test_request_id_is_the_simulators(self):
        out = self.ok("iam", "GetAccountSummary")
        ids = [r.get("request_id") for r in self.sim.requests(1)]
        self.assertIn(out["request_id"], ids)

    def test_iam_list_users_and_summary(self):
        out = self.ok("iam", "ListUsers", "MaxItems=1000")
        self.assertIn("Users", out["response"])
        summary = self.ok("iam", "GetAccountSummary")["response"]
        self.assertIn("SummaryMap", summary)

    def test_organizations_list_accounts(self):
        out = self.ok("organizations", "ListAccounts")
        self.assertGreaterEqual(len(out["response"]["Accounts"]), 1)

    def test_each_regional_service_answers(self):
        calls = [
            ("cloudtrail", "DescribeTrails", "includeShadowTrails=true"),
            ("config", "DescribeConfigurationRecorders"),
            ("ec2", "DescribeRegions", "AllRegions=true"),
            ("ec2", "DescribeVpcs", "MaxResults=5"),
            ("rds", "DescribeDBInstances"),
            ("lambda", "ListFunctions"),
            ("elbv2", "DescribeLoadBalancers"),
            ("elb", "DescribeLoadBalancers"),
        ]
        for c in calls:
            with self.subTest(call=c):
                self.ok(*c, "--region", "us-east-1")

    def test_s3_reads(self):
        bucket = "evident-demo-org-trail-111122223333"
        lock = self.ok("s3", "GetObjectLockConfiguration",
                       "Bucket=" + bucket)["response"]
        self.assertEqual(lock["ObjectLockEnabled"], "Enabled")
        life = self.ok("s3", "GetBucketLifecycleConfiguration",
                       "Bucket=" + bucket)["response"]
        self.assertIn("Rule", life)
        listing = self.ok("s3", "ListObjectsV2", "Bucket=" + bucket,
                          "max-keys=2")["response"]
        self.assertIn("Contents", listing)
        missing = self.call("s3", "GetObjectLockConfiguration",
                            "Bucket=no-such-bucket-evident")
        self.assertEqual(missing.returncode, 3)
        self.assertIn("NoSuchBucket", missing.stderr)

    def test_unknown_service_is_a_usage_error(self):
        r = self.call("nosuch", "Foo")
        self.assertEqual(r.returncode, 2)

    def test_access_error_is_typed_and_exit_3(self):
        e = {"AWS_SECRET_ACCESS_KEY": "wrong" + self.sim.env["AWS_SECRET_ACCESS_KEY"]}
        r = self.call("sts", "GetCallerIdentity", env=e)
        self.assertEqual(r.returncode, 3)
        self.assertIn("SignatureDoesNotMatch", r.stderr)
        self.assertNotIn(e["AWS_SECRET_ACCESS_KEY"], r.stderr + r.stdout)

    def test_tls_is_verified(self):
        e = {"AWS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt"}
        r = self.call("sts", "GetCallerIdentity", env=e)
        self.assertEqual(r.returncode, 3)
        self.assertRegex(r.stderr.lower(), "certificate")

    def test_debug_trace_never_shows_secrets(self):
        # Temporary credentials (with a session token) from AssumeRole by
        # boto3, then a traced signed call with them.
        import boto3
        sts = boto3.client("sts", endpoint_url=self.sim.endpoint,
                           verify=self.sim.env["AWS_CA_BUNDLE"],
                           region_name="us-east-1",
                           aws_access_key_id=self.sim.env["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=self.sim.env["AWS_SECRET_ACCESS_KEY"])
        accounts = self.ok("organizations", "ListAccounts")["response"]["Accounts"]
        me = self.ok("sts", "GetCallerIdentity")["response"]["Account"]
        member = next(a["Id"] for a in accounts
                      if a["Id"] != me and a.get("Status") == "ACTIVE")
        scenario = json.load(open(os.path.join(SCENARIOS, "demo-org.json")))
        ext = None
        for a in scenario["accounts"]:
            if a["id"] == member:
                for role in a.get("roles", []):
                    if role.get("name") == "evident-audit":
                        ext = role.get("trust", {}).get("external_id")
        kwargs = {"ExternalId": ext} if ext else {}
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{member}:role/evident-audit",
            RoleSessionName="trace-test", **kwargs)["Credentials"]
        e = {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
             "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
             "AWS_SESSION_TOKEN": creds["SessionToken"]}
        r = evident({**self.sim.env, **e}, "--verbose", "--verbose",
                     "request", "sts", "GetCallerIdentity")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(member, r.stdout)
        self.assertIn("request-id=", r.stderr)  # tracing was on
        for secret in (creds["SecretAccessKey"], creds["SessionToken"]):
            self.assertNotIn(secret, r.stdout)
            self.assertNotIn(secret, r.stderr)
            # Nor a recognisable piece of it.
            self.assertNotIn(secret[:16], r.stderr)

    def test_assume_role_output_is_redacted(self):
        accounts = self.ok("organizations", "ListAccounts")["response"]["Accounts"]
        me = self.ok("sts", "GetCallerIdentity")["response"]["Account"]
        scenario = json.load(open(os.path.join(SCENARIOS, "demo-org.json")))
        for a in scenario["accounts"]:
            if a["id"] == me:
                continue
            for role in a.get("roles", []):
                if role.get("name") != "evident-audit":
                    continue
                args = ["sts", "AssumeRole",
                        f"RoleArn=arn:aws:iam::{a['id']}:role/evident-audit",
                        "RoleSessionName=redaction-test"]
                if role.get("trust", {}).get("external_id"):
                    args.append("ExternalId=" + role["trust"]["external_id"])
                out = self.ok(*args)
                c = out["response"]["Credentials"]
                self.assertEqual(c["SecretAccessKey"], "<redacted>")
                self.assertEqual(c["SessionToken"], "<redacted>")
                self.assertTrue(c["AccessKeyId"].startswith("ASIA"))
                return
        self.skipTest("scenario has no assumable evident-audit role")

    def test_throttling_is_retried(self):
        self.sim.control("/__sim/faults", {"faults": [
            {"kind": "throttle", "service": "iam",
             "action": "GetAccountSummary", "count": 2}]})
        before = len(self.sim.requests())
        out = self.ok("iam", "GetAccountSummary")
        self.assertIn("SummaryMap", out["response"])
        calls = [r for r in self.sim.requests(before + 3)[before:]
                 if r.get("action") == "GetAccountSummary"]
        self.assertEqual(len(calls), 3, calls)


class ClockSkew(unittest.TestCase):
    def test_skewed_server_clock_is_corrected(self):
        sim = Simulator("demo-org.json", clock_offset=1800)
        try:
            r = evident(sim.env, "request", "sts", "GetCallerIdentity")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("clock", r.stderr)
            statuses = [x["status"] for x in sim.requests(2)
                        if x.get("action") == "GetCallerIdentity"]
            self.assertEqual(statuses[-2:], [403, 200])
        finally:
            sim.stop()


if __name__ == "__main__":
    EVIDENT = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
