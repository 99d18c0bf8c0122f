"""`evident demo` against the local AWS simulator: the calls it shows are
the ones the simulator answered (their request IDs are in its request log),
findings and the verdict follow, a snapshot is written and verifies.

Run: /usr/bin/python3 tests/integration/test_demo.py EVIDENT_BINARY
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_request  # noqa: E402  (the Simulator helper)

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
EVIDENT = None
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class Demo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ev-demo-")
        cls.key = os.path.join(cls.tmp, "k")
        subprocess.run([EVIDENT, "keygen", "--out", cls.key], check=True,
                       capture_output=True)
        with open(os.path.join(TOP, "config", "demo.ini")) as f:
            text = f.read()
        text = re.sub(r"(?m)^signing_key = .*$", "signing_key = " + cls.key,
                      text)
        text = re.sub(r"(?m)^snapshot_dir = .*$",
                      "snapshot_dir = " + os.path.join(cls.tmp, "snaps"),
                      text)
        cls.config = os.path.join(cls.tmp, "demo.ini")
        with open(cls.config, "w") as f:
            f.write(text)
        cls.sim = test_request.Simulator("demo-org.json")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def demo(self, *args):
        return test_request.evident(self.sim.env, "--config", self.config,
                                    "demo", *args, timeout=180)

    def test_shown_calls_are_live(self):
        before = len(self.sim.requests())
        r = self.demo("--control", "8.2.4")
        self.assertIn(r.returncode, (0, 1), r.stderr)
        shown = set(re.findall(r"  call .* (" + UUID + r") ", r.stdout))
        self.assertGreater(len(shown), 10, r.stdout[:2000])
        log = self.sim.requests(before + len(shown))[before:]
        answered = {x["request_id"] for x in log}
        # Every request ID the auditor saw is one the service answered.
        self.assertEqual(shown - answered, set())
        self.assertRegex(r.stdout, r"(?m)^\S+\s+pass\s+\d{12}\s+\S+\s+cloudtrail ")
        self.assertRegex(r.stdout, r"MSP-8\.2\.4\s+(met|not-met)")
        self.assertIn("aws cloudtrail lookup-events", r.stdout)
        # Only the chosen control's probes ran.
        self.assertNotIn("iam:GenerateCredentialReport", r.stdout)
        snap = re.search(r"snapshot: (\S+)", r.stdout).group(1)
        v = subprocess.run([EVIDENT, "--config", self.config, "verify", snap],
                           capture_output=True, text=True)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)

    def test_findings_only_and_plain_output(self):
        r = self.demo("--control", "DEVOPS-3.14", "--findings-only")
        self.assertEqual(r.returncode, 1, r.stderr)  # demo-org's root use
        self.assertNotIn("  call  ", r.stdout)
        self.assertNotIn("\033[", r.stdout)  # not a terminal: no colour
        self.assertRegex(r.stdout, r"fail\s+\d{12}\s+-\s+root-usage")
        self.assertIn("DEVOPS-3.14", r.stdout)

    def test_unknown_control_is_a_usage_error(self):
        r = self.demo("--control", "9.9.9")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no probe evidences", r.stderr)


if __name__ == "__main__":
    EVIDENT = test_request.EVIDENT = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
