"""`evident collect` end to end against the local AWS simulator: the
compliant, broken and demo organizations, a faulted run, snapshot chains and
tampering, sharding, and secrets kept out of every output.

Each collection writes its own configuration and snapshot directory under
one temporary directory; the signing key is made once with `evident keygen`.

Run: /usr/bin/python3 tests/integration/test_collect.py EVIDENT_BINARY
"""

import base64
import collections
import glob
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
SIMULATOR = os.path.join(TESTS, "simulator", "simulator.py")
SCENARIOS = os.path.join(TESTS, "simulator", "scenarios")
sys.path.insert(0, os.path.join(TESTS, "simulator"))
from sim.scenario import ALL_REGIONS, DEFAULT_REGIONS  # noqa: E402

EVIDENT = None
WORK = None        # the temporary directory of the whole run
KEY = None         # the signing key's path

# Regional probes run once per examined region; the others once per account.
REGIONAL_PROBES = {"cloudtrail", "config-recorder", "config-rules", "vpc-only"}
HEX64 = re.compile(r"^[0-9a-f]{64}$")

DEMO = {"management": "111122223333", "production": "444455556666",
        "sandbox": "777788889999", "suspended": "222233334444",
        "external_id": "evident-demo-7d1f"}


# ---- the simulator and the agent ------------------------------------------

class Simulator:
    """One simulator process in its own state directory (as in
    test_request.py); `scenario` is a file name under scenarios/ or a
    path."""

    def __init__(self, scenario):
        self.dir = tempfile.mkdtemp(prefix="ev-sim-", dir=WORK)
        args = [sys.executable, SIMULATOR, "--scenario",
                os.path.join(SCENARIOS, scenario), "--state-dir", self.dir]
        # A file, not a pipe nobody reads: a chatty simulator never blocks.
        self.errors = tempfile.TemporaryFile(dir=WORK)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=self.errors)
        deadline = time.monotonic() + 20
        while not os.path.exists(os.path.join(self.dir, "ready")):
            if self.proc.poll() is not None:
                self.errors.seek(0)
                raise RuntimeError("simulator exited: " +
                                   self.errors.read().decode())
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("simulator did not become ready")
            time.sleep(0.05)
        self.env = {}
        with open(os.path.join(self.dir, "env")) as f:
            for line in f:
                line = line.strip()
                if line.startswith("export "):
                    line = line[len("export "):]
                if "=" in line:
                    k, v = line.split("=", 1)
                    self.env[k] = v.strip("'\"")
        with open(os.path.join(self.dir, "endpoint")) as f:
            self.endpoint = f.read().strip()

    def _open(self, path, body=None):
        ctx = ssl.create_default_context(cafile=self.env["AWS_CA_BUNDLE"])
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.endpoint + path, data=data,
                                     method="GET" if body is None else "POST")
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return json.loads(r.read() or b"{}")

    def faults(self, rules=None):
        """Adds fault rules; returns the active rules with their counts."""
        if rules is not None:
            self._open("/__sim/faults", {"faults": rules})
        return self._open("/__sim/faults")["faults"]

    def requests(self):
        with open(os.path.join(self.dir, "requests.jsonl")) as f:
            return [json.loads(l) for l in f.read().split("\n")[:-1]
                    if l.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.errors.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def evident(env, *args, timeout=150):
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    base.update(env)
    base["HOME"] = WORK  # no stray ~/.aws files
    r = subprocess.run([EVIDENT, *args], env=base, capture_output=True,
                       text=True, timeout=timeout)
    # Under -DEV_SANITIZE=ON a report fails the run whatever the exit code.
    if re.search(r"Sanitizer|runtime error:", r.stderr):
        raise AssertionError(f"evident {' '.join(args)}: sanitizer "
                             f"report:\n{r.stderr[-6000:]}")
    return r


def write_config(name, source="organization", external_id=None,
                 regions="all", concurrency=8):
    """A configuration and an empty snapshot directory under WORK/name;
    returns (config path, snapshot dir)."""
    d = os.path.join(WORK, name)
    os.makedirs(d)
    snaps = os.path.join(d, "snapshots")
    lines = ["[agent]", "log_level = warn", f"concurrency = {concurrency}",
             f"snapshot_dir = {snaps}", f"signing_key = {KEY}",
             "[aws]", "region = us-east-1",
             "[accounts]", f"source = {source}"]
    if source != "self":
        lines.append("role_name = evident-audit")
    if external_id:
        lines.append(f"external_id = {external_id}")
    lines.append(f"regions = {regions}")
    path = os.path.join(d, "evident.ini")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path, snaps


class Snapshot:
    """A committed snapshot: its manifest and account parts."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        with open(os.path.join(path, "manifest.json")) as f:
            self.manifest = json.load(f)
        self.accounts = {}
        for p in glob.glob(os.path.join(path, "accounts", "*.json")):
            with open(p) as f:
                part = json.load(f)
            self.accounts[part["account"]["id"]] = part

    def controls(self):
        return {c["id"]: c for c in self.manifest["controls"]["controls"]}

    def findings(self, account=None):
        for aid, part in sorted(self.accounts.items()):
            if account in (None, aid):
                for f in part["findings"]:
                    yield aid, f

    def observations(self, account):
        return {o["id"]: o for o in self.accounts[account]["observations"]}

    def by_job(self, accounts=None):
        """(probe, account, region) -> sorted [(status, resource)]."""
        jobs = collections.defaultdict(list)
        for aid, f in self.findings():
            if accounts is None or aid in accounts:
                jobs[(f["probe"], aid, f["region"])].append(
                    (f["status"], f["resource"]))
        return {k: sorted(v) for k, v in jobs.items()}


class Run:
    """One `evident collect` and what it left."""

    def __init__(self, sim, config, snaps, *args, verbose=0):
        flags = ["--verbose"] * verbose
        self.config = config
        self.snaps = snaps
        self.result = evident(sim.env, *flags, "--config", config, "collect",
                              *args)
        self.rc = self.result.returncode
        self.stdout = self.result.stdout
        self.stderr = self.result.stderr
        m = re.search(r"^snapshot: (.+)$", self.stdout, re.M)
        self.snapshot = Snapshot(m.group(1)) if m else None

    def describe(self):
        return f"exit {self.rc}\nstdout:\n{self.stdout[-3000:]}\n" \
               f"stderr:\n{self.stderr[-3000:]}"


def verify(config, *args):
    return evident({}, "--config", config, "verify", *args)


def scenario(name):
    with open(os.path.join(SCENARIOS, name)) as f:
        return json.load(f)


def enabled_regions(account):
    if account.get("enabled_regions") is not None:
        return set(account["enabled_regions"])
    return set(DEFAULT_REGIONS) | set(account.get("opted_in_regions", []))


def body_bytes(obs):
    body = obs["body"]
    if body["encoding"] == "text":
        return body["data"].encode()
    if body["encoding"] == "gzip+base64":
        return gzip.decompress(base64.b64decode(body["data"]))
    return None


class CollectCase(unittest.TestCase):
    """Assertions shared by the scenarios."""

    def assert_verifies(self, run):
        r = verify(run.config, run.snaps)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(run.snapshot.name, r.stdout)
        return r

    def assert_cites_evidence(self, snap, account, finding):
        """The finding rests on observations of its account's part, each
        with an AWS request ID and the SHA-256 of the body AWS sent (equal
        to the stored body when one is kept)."""
        obs = snap.observations(account)
        self.assertTrue(finding["observations"],
                        f"{account} {finding['reason']}: cites nothing")
        for oid in finding["observations"]:
            self.assertIn(oid, obs, f"{account}: {finding['reason']}: "
                                    f"observation {oid} is not in the part")
            o = obs[oid]
            self.assertTrue(o["request_id"], o)
            self.assertRegex(o["body"]["sha256"], HEX64)
            data = body_bytes(o)
            if data is not None:
                self.assertEqual(hashlib.sha256(data).hexdigest(),
                                 o["body"]["sha256"], o["action"])

    def assert_part_coverage(self, snap, account, regions):
        part = snap.accounts[account]
        self.assertEqual(part["collection"]["status"], "collected", part)
        self.assertEqual(sorted(part["coverage"]["regions"]), sorted(regions))
        skipped = {s["region"]: s["opt_in_status"]
                   for s in part["coverage"]["regions_skipped"]}
        self.assertEqual(set(skipped), set(ALL_REGIONS) - set(regions))
        self.assertEqual(set(skipped.values()) - {"not-opted-in"}, set(),
                         skipped)


def setUpModule():
    global WORK, KEY
    WORK = tempfile.mkdtemp(prefix="ev-collect-")
    KEY = os.path.join(WORK, "signing.key")
    r = evident({}, "keygen", "--out", KEY)
    if r.returncode != 0:
        raise RuntimeError("keygen failed: " + r.stderr)


def tearDownModule():
    if WORK and not os.environ.get("EV_KEEP"):
        shutil.rmtree(WORK, ignore_errors=True)


# ---- 1. compliant-org ------------------------------------------------------

class CompliantOrg(CollectCase):
    """Every control is met, or partial where the checklist also asks for
    documents that the configuration does not attach."""

    @classmethod
    def setUpClass(cls):
        cls.scenario = scenario("compliant-org.json")
        cls.sim = Simulator("compliant-org.json")
        try:
            cfg, snaps = write_config("compliant",
                                      external_id="evident-compliant-51c2")
            cls.collection = Run(cls.sim, cfg, snaps)
        finally:
            cls.sim.stop()

    def test_exit_0_and_controls_met_or_partial(self):
        self.assertEqual(self.collection.rc, 0, self.collection.describe())
        controls = self.collection.snapshot.controls()
        catalog = json.loads(evident({}, "controls", "--json").stdout)
        self.assertEqual(set(controls),
                         {c["id"] for c in catalog["controls"]})
        for cid, c in controls.items():
            with self.subTest(control=cid):
                wanted = "partial" if c["documents"]["required"] else "met"
                self.assertEqual(c["verdict"], wanted, c["reasons"])
                self.assertEqual(c["counts"]["fail"], 0)
                self.assertEqual(c["counts"]["error"], 0)
                self.assertGreater(c["counts"]["pass"], 0)
                self.assertRegex(self.collection.stdout,
                                 rf"(?m)^\S+\s+{re.escape(cid)}\s+{wanted}\s")

    def test_no_failing_or_error_finding(self):
        bad = [(a, f["probe"], f["region"], f["reason"])
               for a, f in self.collection.snapshot.findings()
               if f["status"] in ("fail", "error")]
        self.assertEqual(bad, [])

    def test_snapshot_verifies(self):
        self.assert_verifies(self.collection)

    def test_manifest_lists_every_account_and_region(self):
        snap = self.collection.snapshot
        ids = sorted(a["id"] for a in self.scenario["accounts"])
        scope = snap.manifest["scope"]
        self.assertEqual(sorted(scope["accounts_collected"]), ids)
        self.assertEqual(scope["accounts_skipped"], [])
        self.assertEqual(scope["source"], "organization")
        parts = {p["path"]: p for p in snap.manifest["parts"]}
        self.assertEqual(set(parts), {f"accounts/{i}.json" for i in ids})
        probes = set()
        for c in snap.controls().values():
            probes |= set(c["probes"])
        for a in self.scenario["accounts"]:
            with self.subTest(account=a["id"]):
                regions = enabled_regions(a)
                self.assertEqual(parts[f"accounts/{a['id']}.json"]
                                 ["collection"], "collected")
                self.assert_part_coverage(snap, a["id"], regions)
                jobs = snap.by_job([a["id"]])
                for p in probes:
                    if p in REGIONAL_PROBES:
                        got = {r for (pp, _, r) in jobs if pp == p}
                        self.assertEqual(got, regions, p)
                    else:
                        self.assertIn((p, a["id"], None), jobs)
        for c in snap.controls().values():
            self.assertEqual(sorted(c["coverage"]["accounts"]), ids)


# ---- 2. broken-org ---------------------------------------------------------

B = {n: f"21000000000{n}" for n in range(1, 9)}

# What fails each control, from the scenario's comments: account ->
# [(region, resource pattern, reason pattern)], every one of which must be a
# failing finding; no other account may fail the control.
ROOT_USAGE = {B[1]: [(None, r":root$", r"root has access keys")]}
ROOT_MFA = {B[2]: [(None, r":root$", r"root MFA off")]}
RETENTION = {
    B[4]: [(None, r"trail/account-trail$", r"expires logs after 30 days")],
    # The eu-west-1 trail of TrailGaps delivers to a bucket that is gone.
    B[6]: [(None, r"trail/euw1-trail$", r"does not exist")],
}
CONFIG = {B[5]: [
    ("us-east-1", r"", r"no AWS Config recorder"),
    ("eu-west-1", r"", r"not recording"),
    ("eu-central-1", r"", r"last status FAILURE"),
    ("ap-south-1", r"", r"no delivery channel"),
    ("ca-central-1", r"", r"no AWS Config rules"),
]}
TRAILS = {B[6]: [
    ("us-east-1", r"", r"log file validation off"),
    ("eu-west-1", r"", r"delivery error NoSuchBucket"),
    ("us-west-2", r"", r"not logging"),
] + [(r, r"", r"no trail covers") for r in sorted(
    DEFAULT_REGIONS - {"us-east-1", "eu-west-1", "us-west-2"})]}
ACCESS = {
    B[7]: [(None, r"user/legacy-ci$", r"400 days old"),
           (None, r"user/unused-key$", r"never used")],
    B[8]: [(None, r"user/console-no-mfa$", r"without MFA")],
}
PRIVILEGE = {B[8]: [(None, r"user/console-no-mfa$", r"without MFA"),
                    (None, r"user/direct-admin$",
                     r"administrator access directly")]}
BROKEN = {
    "MSP-8.1.2": PRIVILEGE, "DEVOPS-3.15": PRIVILEGE,
    "MSP-8.1.4": {B[3]: [
        ("us-east-1", r"supported-platforms$", r"EC2-Classic is still"),
        ("us-east-1", r"instance/i-", r"not in a VPC"),
        ("eu-west-1", r"loadbalancer/classic-lb$", r"not in a VPC"),
        ("eu-central-1", r"db:classic-db$", r"no DB subnet group"),
    ]},
    "MSP-8.1.5": ROOT_USAGE, "DEVOPS-3.14": ROOT_USAGE,
    "MSP-8.1.8": ROOT_MFA, "DEVOPS-3.16": ROOT_MFA,
    "MSP-8.2.1": RETENTION, "MSP-8.2.2": RETENTION,
    "MSP-8.2.3": CONFIG, "DEVOPS-3.3": CONFIG,
    "MSP-8.2.4": TRAILS,
    "MSP-8.3": ACCESS, "DEVOPS-3.13": ACCESS,
}


class BrokenOrg(CollectCase):
    """Every control is not met, each for its own reason, and each failing
    finding rests on recorded API calls."""

    @classmethod
    def setUpClass(cls):
        cls.sim = Simulator("broken-org.json")
        try:
            cfg, snaps = write_config("broken",
                                      external_id="evident-broken-9a3e")
            cls.collection = Run(cls.sim, cfg, snaps)
        finally:
            cls.sim.stop()

    def test_exit_1_every_control_not_met(self):
        self.assertEqual(self.collection.rc, 1, self.collection.describe())
        controls = self.collection.snapshot.controls()
        self.assertEqual(set(controls), set(BROKEN))
        for cid, c in controls.items():
            self.assertEqual(c["verdict"], "not-met", cid)
            self.assertEqual(c["counts"]["error"], 0, cid)
            self.assertRegex(self.collection.stdout,
                             rf"(?m)^\S+\s+{re.escape(cid)}\s+not-met\s")

    def test_each_control_fails_for_its_own_reason(self):
        snap = self.collection.snapshot
        controls = snap.controls()
        for cid, expected in BROKEN.items():
            probes = set(controls[cid]["probes"])
            failing = [(a, f) for a, f in snap.findings()
                       if f["status"] == "fail" and f["probe"] in probes]
            with self.subTest(control=cid):
                self.assertEqual({a for a, _ in failing}, set(expected),
                                 [(a, f["reason"]) for a, f in failing])
                for account, causes in expected.items():
                    for region, resource, reason in causes:
                        hits = [f for a, f in failing if a == account and
                                f["region"] == region and
                                re.search(resource, f["resource"]) and
                                re.search(reason, f["reason"])]
                        self.assertTrue(hits, f"{cid}: no failing finding "
                                              f"in {account}/{region} "
                                              f"matching {reason!r}")
                        for f in hits:
                            self.assert_cites_evidence(snap, account, f)
                # The verdict names the same failures.
                named = {(e["account"], e["region"], e["resource"])
                         for e in controls[cid]["failing"]}
                self.assertEqual(named, {(a, f["region"], f["resource"])
                                         for a, f in failing})

    def test_every_failing_finding_cites_observations(self):
        snap = self.collection.snapshot
        for account, f in snap.findings():
            if f["status"] == "fail":
                self.assert_cites_evidence(snap, account, f)

    def test_what_is_reported_but_not_failed(self):
        snap = self.collection.snapshot
        # Non-compliant Config rules are evidence that Config audits.
        rules = [f for a, f in snap.findings(B[5])
                 if f["probe"] == "config-rules" and
                 f["region"] == "us-west-2"]
        self.assertEqual([f["status"] for f in rules], ["pass"])
        self.assertEqual({r["name"] for r in rules[0]["details"]
                          ["non_compliant"]},
                         {"access-keys-rotated", "ec2-instance-no-public-ip"})
        warned = {(a, f["region"], f["resource"].rsplit(":", 1)[-1]
                   .rsplit("/", 1)[-1])
                  for a, f in snap.findings() if f["status"] == "warn"}
        self.assertEqual(warned, {
            (B[3], "us-west-2", "public-hook"),      # Lambda outside a VPC
            (B[3], "ap-northeast-1", "old-cron"),
            (B[7], None, "cert-user"),               # signing certificate
            (B[8], None, "break-glass"),             # admin through a role
        })

    def test_no_error_and_snapshot_verifies(self):
        errors = [(a, f["reason"])
                  for a, f in self.collection.snapshot.findings()
                  if f["status"] == "error"]
        self.assertEqual(errors, [])
        self.assert_verifies(self.collection)


# ---- 3. demo-org, and the clean run the faulted one is compared with -------

_demo = {}


def demo_run():
    """The README's demonstration: demo-org collected from the management
    account (run once, shared)."""
    if "run" not in _demo:
        sim = Simulator("demo-org.json")
        try:
            cfg, snaps = write_config("demo", external_id=DEMO["external_id"])
            _demo["run"] = Run(sim, cfg, snaps)
        finally:
            sim.stop()
    return _demo["run"]


class DemoOrg(CollectCase):

    @classmethod
    def setUpClass(cls):
        cls.collection = demo_run()
        cls.scenario = scenario("demo-org.json")

    def test_exit_1_and_table_on_stdout(self):
        self.assertEqual(self.collection.rc, 1, self.collection.describe())
        out = self.collection.stdout
        self.assertRegex(out, r"(?m)^PROGRAM\s+CONTROL\s+VERDICT\s+PASS\s+"
                              r"FAIL\s+WARN\s+ERROR\s+TITLE$")
        for cid, c in self.collection.snapshot.controls().items():
            self.assertRegex(out, rf"(?m)^{c['program']}\s+{re.escape(cid)}"
                                  rf"\s+{c['verdict']}\s+{c['counts']['pass']}"
                                  rf"\s+{c['counts']['fail']}\s")
        self.assertRegex(out, r"(?m)^\d+ controls: \d+ met, \d+ not met, "
                              r"\d+ partial, 0 error$")
        self.assertRegex(out, r"(?m)^accounts: 3 collected, 1 skipped; ")
        self.assertTrue(os.path.isdir(self.collection.snapshot.path))

    def test_suspended_account_is_skipped_with_its_reason(self):
        snap = self.collection.snapshot
        s = DEMO["suspended"]
        scope = snap.manifest["scope"]
        self.assertEqual(sorted(scope["accounts_collected"]),
                         sorted([DEMO["management"], DEMO["production"],
                                 DEMO["sandbox"]]))
        self.assertEqual([x["account"] for x in scope["accounts_skipped"]],
                         [s])
        self.assertIn("SUSPENDED", scope["accounts_skipped"][0]["reason"])
        part = snap.accounts[s]
        self.assertEqual(part["collection"]["status"], "skipped")
        self.assertIn("SUSPENDED", part["collection"]["reason"])
        self.assertEqual(part["findings"], [])
        self.assertEqual(part["observations"], [])
        skipped = snap.manifest["controls"]["coverage"]["accounts_skipped"]
        self.assertIn(s, [x["account"] for x in skipped])
        # Nothing was asked of it: no role session, no call.
        for aid, p in snap.accounts.items():
            for o in p["observations"]:
                self.assertNotEqual(o["account"], s, o)

    def test_regions_with_their_opt_in_status(self):
        snap = self.collection.snapshot
        for a in self.scenario["accounts"]:
            if a.get("status", "ACTIVE") == "ACTIVE":
                with self.subTest(account=a["id"]):
                    self.assert_part_coverage(snap, a["id"],
                                              enabled_regions(a))
        # The member opted in to af-south-1 has it examined.
        self.assertIn("af-south-1",
                      snap.accounts[DEMO["production"]]["coverage"]["regions"])

    def test_snapshot_verifies(self):
        self.assert_verifies(self.collection)


# ---- 4. a faulted run ------------------------------------------------------

# Every attempt at these calls fails; the affected jobs are known. The region
# that does not answer resets every connection: a real timeout would cost the
# transport's fixed 60 s per attempt.
RESET_REGION = (DEMO["production"], "ap-south-1")
TRUNCATED = ("rds", "DescribeDBInstances", DEMO["production"], "eu-west-2")
MALFORMED = ("lambda", "ListFunctions", DEMO["management"], "eu-north-1")
THROTTLED = ("config", "DescribeConfigurationRecorders", DEMO["management"],
             "ca-central-1")
# A storm on a hot action: this many throttles in a row, for everyone.
STORM = ("config", "DescribeConfigRules", 12)


class FaultedRun(CollectCase):
    """demo-org with the sandbox member's role gone and faults injected:
    the collection completes (exit 3), verifies, every affected job is an
    error finding naming its cause, and nothing else is lost."""

    @classmethod
    def setUpClass(cls):
        cls.clean = demo_run()
        data = scenario("demo-org.json")
        for a in data["accounts"]:
            if a["id"] == DEMO["sandbox"]:
                a["roles"] = [r for r in a["roles"]
                              if r["name"] != "evident-audit"]
        path = os.path.join(WORK, "demo-org-no-sandbox-role.json")
        with open(path, "w") as f:
            json.dump(data, f)
        cls.sim = Simulator(path)
        try:
            def match(service, action, account, region):
                return {"service": service, "action": action,
                        "account": account, "region": region}
            cls.sim.faults([
                {"kind": "throttle", "count": STORM[2],
                 "match": {"service": STORM[0], "action": STORM[1]}},
                {"kind": "reset", "match": {"account": RESET_REGION[0],
                                            "region": RESET_REGION[1]}},
                {"kind": "truncate", "match": match(*TRUNCATED)},
                {"kind": "malformed", "match": match(*MALFORMED)},
                {"kind": "throttle", "match": match(*THROTTLED)},
            ])
            cfg, snaps = write_config("faulted",
                                      external_id=DEMO["external_id"])
            cls.collection = Run(cls.sim, cfg, snaps)
            cls.fired = cls.sim.faults()
            cls.log = cls.sim.requests()
        finally:
            cls.sim.stop()

    def expected_cause(self, probe, account, region):
        """The pattern an error finding of this job must match, or None
        when the job is not affected by a fault that cannot be retried
        away. A job the throttling storm hit is checked separately."""
        if account == DEMO["sandbox"]:
            return r"AccessDenied"
        if (account, region) == RESET_REGION:
            return r"connection closed or reset"
        if probe == "cloudtrail-retention" and account == RESET_REGION[0]:
            # It lists the trails of every region, the reset one too.
            return rf"{RESET_REGION[1]}.*connection closed or reset"
        if (probe, account, region) == ("vpc-only",) + TRUNCATED[2:]:
            return r"truncated"
        if (probe, account, region) == ("vpc-only",) + MALFORMED[2:]:
            return r"malformed"
        if (probe, account, region) == ("config-recorder",) + THROTTLED[2:]:
            return r"Throttl"
        return None

    def test_completes_incomplete_and_verifies(self):
        self.assertEqual(self.collection.rc, 3, self.collection.describe())
        self.assertEqual(self.clean.rc, 1, self.clean.describe())
        self.assert_verifies(self.collection)
        for rule in self.fired:
            self.assertGreater(rule["fired"], 0, rule)
        # Each call the storm hit was retried until it was answered, or its
        # jobs say it was throttled.
        throttled, answered = {}, {}
        for i, r in enumerate(self.log):
            if r["service"] == STORM[0] and r["action"] == STORM[1]:
                where = (r["account"], r["region"])
                if r.get("fault") == "throttle":
                    throttled[where] = i
                elif not r.get("fault") and r["status"] == 200:
                    answered[where] = i
        hit = set(throttled)
        self.assertEqual(sum(1 for r in self.log if r["action"] == STORM[1]
                             and r.get("fault") == "throttle"), STORM[2])
        self.assertTrue(hit)
        for (account, region), last in throttled.items():
            if answered.get((account, region), -1) > last:
                continue
            said = [f"{f['error_code']} {f['reason']}" for _, f in
                    self.collection.snapshot.findings(account)
                    if f["region"] == region and f["status"] == "error"]
            self.assertTrue(any("Throttl" in x for x in said),
                            (account, region, said))
        self.assertGreaterEqual(
            self.collection.snapshot.manifest["api_calls"]["retries"],
            len(hit))

    def test_role_not_assumable_errors_every_probe(self):
        snap = self.collection.snapshot
        s = DEMO["sandbox"]
        part = snap.accounts[s]
        self.assertEqual(part["collection"]["status"], "skipped")
        self.assertIn("role not assumable", part["collection"]["reason"])
        err = part["collection"]["error"]
        self.assertEqual(err["aws_code"], "AccessDenied")
        self.assertTrue(err["request_id"])
        self.assertIn(f"arn:aws:iam::{s}:role/evident-audit", err["message"])
        # The refused AssumeRole is itself evidence.
        assume = [o for o in part["observations"]
                  if o["action"] == "AssumeRole"]
        self.assertEqual(len(assume), 1)
        self.assertEqual(assume[0]["error_code"], "AccessDenied")
        self.assertEqual(assume[0]["request_id"], err["request_id"])
        probes = set()
        for c in snap.controls().values():
            probes |= set(c["probes"])
        got = collections.defaultdict(list)
        for _, f in snap.findings(s):
            got[f["probe"]].append(f)
        self.assertEqual(set(got), probes)
        for probe, fs in got.items():
            self.assertEqual([f["status"] for f in fs], ["error"], probe)
            self.assertEqual(fs[0]["error_code"], "AccessDenied")
            self.assertEqual(fs[0]["request_id"], err["request_id"])
            self.assertIn(f"arn:aws:iam::{s}:role/evident-audit",
                          fs[0]["reason"])

    def test_every_affected_job_is_an_error_naming_its_cause(self):
        snap = self.collection.snapshot
        jobs = collections.defaultdict(list)
        for a, f in snap.findings():
            jobs[(f["probe"], a, f["region"])].append(f)
        for (probe, account, region), fs in jobs.items():
            cause = self.expected_cause(probe, account, region)
            errors = [f for f in fs if f["status"] == "error"]
            with self.subTest(job=(probe, account, region)):
                if cause:
                    self.assertTrue(errors, fs)
                for f in errors:
                    said = f"{f['error_code'] or ''} {f['reason']}"
                    if cause is None:
                        # Only the storm may have outlasted the retries.
                        self.assertIn(probe, ("config-recorder",
                                              "config-rules"), said)
                        self.assertRegex(said, r"Throttl")
                    else:
                        self.assertRegex(said, cause)
                    if account != DEMO["sandbox"]:
                        self.assert_cites_failed_call(snap, account, f)

    def assert_cites_failed_call(self, snap, account, finding):
        obs = snap.observations(account)
        self.assertTrue(finding["observations"], finding)
        failed = [obs[i] for i in finding["observations"]
                  if i in obs and (obs[i]["error_code"] or
                                   obs[i]["http_status"] != 200)]
        self.assertTrue(failed, finding)

    def test_no_finding_lost(self):
        """Every job of the clean run is there for the accounts that could
        be reached, with the same findings unless a fault hit it."""
        reached = {DEMO["management"], DEMO["production"]}
        clean = self.clean.snapshot.by_job(reached)
        faulted = self.collection.snapshot.by_job(reached)
        self.assertEqual(set(faulted), set(clean))
        for job, want in clean.items():
            got = faulted[job]
            with self.subTest(job=job):
                if any(s == "error" for s, _ in got):
                    continue  # checked by the test above
                self.assertEqual(got, want)
        affected = {j for j in clean if self.expected_cause(*j)}
        self.assertGreaterEqual(len(affected), 8, affected)

    def test_manifest_scope_agrees_with_the_parts(self):
        """An account whose role could not be assumed is not "collected":
        its part says skipped, and so must the manifest's scope. (Known
        bug: scope.accounts_collected lists it.)"""
        scope = self.collection.snapshot.manifest["scope"]
        parts = self.collection.snapshot.accounts
        collected = sorted(a for a, p in parts.items()
                           if p["collection"]["status"] == "collected")
        self.assertEqual(sorted(scope["accounts_collected"]), collected)


# ---- 5. a chain of snapshots, tampered with --------------------------------

class Chain(CollectCase):

    @classmethod
    def setUpClass(cls):
        cls.sim = Simulator("demo-org.json")
        try:
            cls.config, cls.snaps = write_config("chain", source="self")
            cls.runs = []
            for _ in range(3):
                if cls.runs and cls.runs[-1].snapshot:
                    # Snapshot names have a one-second resolution.
                    last = cls.runs[-1].snapshot.name
                    while time.strftime("%Y%m%dT%H%M%SZ",
                                        time.gmtime()) <= last:
                        time.sleep(0.1)
                cls.runs.append(Run(cls.sim, cls.config, cls.snaps))
        finally:
            cls.sim.stop()

    def test_chain(self):
        for run in self.runs:
            self.assertIn(run.rc, (0, 1), run.describe())
        names = [r.snapshot.name for r in self.runs]
        self.assertEqual(sorted(os.listdir(self.snaps)),
                         sorted(names + [".lock"]))
        self.assertIsNone(self.runs[0].snapshot.manifest["previous"])
        for before, after in zip(self.runs, self.runs[1:]):
            with open(os.path.join(before.snapshot.path,
                                   "manifest.json"), "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            self.assertEqual(after.snapshot.manifest["previous"],
                             {"snapshot": before.snapshot.name,
                              "manifest_sha256": digest})

        r = verify(self.config, self.snaps)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("3 snapshots verified", r.stdout)

        middle = self.runs[1].snapshot
        part = os.path.join(middle.path, "accounts",
                            DEMO["management"] + ".json")
        with open(part, "rb") as f:
            original = f.read()
        try:
            flipped = bytearray(original)
            flipped[len(flipped) // 2] ^= 0x01
            with open(part, "wb") as f:
                f.write(flipped)
            r = verify(self.config, self.snaps)
            self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
            self.assertRegex(r.stdout, rf"(?m)^FAIL\s+{middle.name}\s+"
                                       rf"part-changed: accounts/"
                                       rf"{DEMO['management']}\.json")
            self.assertEqual(len(re.findall(r"(?m)^FAIL", r.stdout)), 1,
                             r.stdout)
        finally:
            with open(part, "wb") as f:
                f.write(original)
        r = verify(self.config, self.snaps)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        aside = os.path.join(WORK, "chain-middle")
        os.rename(middle.path, aside)
        try:
            r = verify(self.config, self.snaps)
            self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
            last = self.runs[2].snapshot.name
            self.assertRegex(r.stdout, rf"(?m)^FAIL\s+{last}\s+"
                                       rf"chain-deleted: .*{middle.name}")
        finally:
            os.rename(aside, middle.path)
        r = verify(self.config, self.snaps)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


# ---- 6. shards -------------------------------------------------------------

def shard_of(account, n):
    """The documented shard function: the first four bytes of the id's
    SHA-256, big-endian, modulo N, plus one."""
    d = hashlib.sha256(account.encode()).digest()
    return int.from_bytes(d[:4], "big") % n + 1


class Shards(CollectCase):

    @classmethod
    def setUpClass(cls):
        cls.sim = Simulator("demo-org.json")
        try:
            cls.runs = {}
            for k in (1, 2):
                cfg, snaps = write_config(f"shard{k}",
                                          external_id=DEMO["external_id"])
                cls.runs[k] = Run(cls.sim, cfg, snaps, "--shard", f"{k}/2")
        finally:
            cls.sim.stop()

    def test_shards_cover_every_account_once(self):
        active = {DEMO["management"], DEMO["production"], DEMO["sandbox"]}
        collected = {}
        for k, run in self.runs.items():
            self.assertIn(run.rc, (0, 1), run.describe())
            scope = run.snapshot.manifest["scope"]
            self.assertEqual(scope["shard"], {"k": k, "n": 2})
            collected[k] = scope["accounts_collected"]
            self.assertEqual(len(collected[k]), len(set(collected[k])))
            self.assertEqual(set(collected[k]),
                             {a for a in active if shard_of(a, 2) == k})
            skipped = {s["account"]: s["reason"]
                       for s in scope["accounts_skipped"]}
            for a in active - set(collected[k]):
                self.assertIn("another shard", skipped[a])
            self.assert_verifies(run)
        self.assertTrue(collected[1] and collected[2], collected)
        self.assertEqual(set(collected[1]) & set(collected[2]), set())
        self.assertEqual(set(collected[1]) | set(collected[2]), active)

    def test_bad_shard_is_a_usage_error(self):
        for bad in ("0/2", "3/2", "1/0", "x", "1/2/3"):
            r = evident({}, "collect", "--shard", bad)
            self.assertEqual(r.returncode, 2, bad)


# ---- 7. secrets ------------------------------------------------------------

class Secrets(CollectCase):
    """With tracing on, neither the caller's secret key nor any session
    credential issued by the simulator reaches stdout, stderr or a file of
    the snapshot directory; nor does the signing key."""

    # Every session token the simulator issues starts like AWS's.
    TOKEN_PREFIX = b"IQoJb3JpZ2luX2Vj"
    LABELLED = re.compile(rb"(SecretAccessKey|SessionToken)[\"'>:= \t]*"
                          rb"(?!<redacted>)([A-Za-z0-9/+=]{16,})")

    @classmethod
    def setUpClass(cls):
        cls.sim = Simulator("demo-org.json")
        try:
            cls.secret = cls.sim.env["AWS_SECRET_ACCESS_KEY"]
            cfg, snaps = write_config("secrets",
                                      external_id=DEMO["external_id"])
            cls.collection = Run(cls.sim, cfg, snaps, verbose=2)
        finally:
            cls.sim.stop()
        with open(KEY, "rb") as f:
            pem = f.read()
        cls.private = b"".join(l for l in pem.splitlines()
                               if l and not l.startswith(b"-----"))

    def outputs(self):
        yield "stdout", self.collection.stdout.encode()
        yield "stderr", self.collection.stderr.encode()
        for root, _, files in os.walk(self.collection.snaps):
            for name in files:
                path = os.path.join(root, name)
                with open(path, "rb") as f:
                    yield path, f.read()

    def test_collection_ran_with_sessions_and_tracing(self):
        self.assertEqual(self.collection.rc, 1, self.collection.describe())
        self.assertIn("request-id=", self.collection.stderr)  # tracing was on
        assumed = [o for a, p in self.collection.snapshot.accounts.items()
                   for o in p["observations"] if o["action"] == "AssumeRole"]
        self.assertEqual(len(assumed), 2)
        for o in assumed:
            self.assertEqual(o["body"]["encoding"], "withheld")
            self.assertNotIn("data", o["body"])

    def test_no_secret_anywhere(self):
        secret = self.secret.encode()
        seen = 0
        for where, data in self.outputs():
            seen += len(data)
            with self.subTest(output=where):
                self.assertNotIn(secret, data)
                self.assertNotIn(secret[:16], data)
                self.assertNotIn(self.TOKEN_PREFIX, data)
                self.assertIsNone(self.LABELLED.search(data))
                self.assertNotIn(self.private, data)
        # The scan read the snapshot and the trace, not nothing.
        self.assertGreater(seen, 100000)
        blob = b"".join(d for _, d in self.outputs())
        rid = self.collection.snapshot.accounts[DEMO["production"]][
            "observations"][0]["request_id"].encode()
        self.assertIn(rid, blob)


# ---- configured regions ----------------------------------------------------

class ConfiguredRegions(CollectCase):

    @classmethod
    def setUpClass(cls):
        cls.sim = Simulator("demo-org.json")
        try:
            cfg, snaps = write_config("regions", source="self",
                                      regions="eu-west-1, us-east-1")
            cls.collection = Run(cls.sim, cfg, snaps)
        finally:
            cls.sim.stop()

    def test_configured_regions_are_examined(self):
        """`regions = eu-west-1, us-east-1` examines exactly those. (Known
        bug: both are recorded as skipped with opt-in status "configured"
        and no regional probe runs.)"""
        part = self.collection.snapshot.accounts[DEMO["management"]]
        self.assertEqual(sorted(part["coverage"]["regions"]),
                         ["eu-west-1", "us-east-1"])
        jobs = self.collection.snapshot.by_job()
        for probe in REGIONAL_PROBES:
            self.assertEqual({r for (p, _, r) in jobs if p == probe},
                             {"eu-west-1", "us-east-1"}, probe)
        self.assertIn(self.collection.rc, (0, 1), self.collection.describe())


if __name__ == "__main__":
    EVIDENT = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
