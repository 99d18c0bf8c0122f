"""What the daemon tests share: a simulator, a daemon process with its
config, key and logs in a work directory, bounded waits.

Standard library and Debian's boto3 only; run with /usr/bin/python3.
"""

import glob
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
SIMULATOR = os.path.join(TESTS, "simulator", "simulator.py")
SCENARIOS = os.path.join(TESTS, "simulator", "scenarios")

# single-account.json: the caller's secret, which must never be logged,
# and the buckets the uploads go to.
CALLER_SECRET = "sImUlAtOrSeCrEtKeYfOrSiNgLeAcCoUnT00001"
LOCK_BUCKET = "standalone-evidence-111122223333"
PLAIN_BUCKET = "standalone-plain-111122223333"
BUCKET_REGION = "eu-west-1"


def wait_for(cond, timeout, what):
    """Polls cond until it returns something true; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class Simulator:
    """One simulator process in its own state directory."""

    def __init__(self, scenario="single-account.json"):
        self.dir = tempfile.mkdtemp(prefix="ev-daemon-sim-")
        with open(os.path.join(self.dir, "log"), "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, SIMULATOR, "--scenario", os.path.join(SCENARIOS, scenario),
                 "--state-dir", self.dir],
                stdout=subprocess.DEVNULL, stderr=log)
        wait_for(lambda: os.path.exists(os.path.join(self.dir, "ready")) or
                 self.proc.poll() is not None, 20, "the simulator")
        if self.proc.poll() is not None:
            raise RuntimeError("simulator exited: " +
                               open(os.path.join(self.dir, "log")).read())
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

    def control(self, path, body):
        ctx = ssl.create_default_context(cafile=self.env["AWS_CA_BUNDLE"])
        req = urllib.request.Request(self.endpoint + path, data=json.dumps(body).encode(),
                                     method="POST")
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            body = r.read()
        return json.loads(body or b"{}")

    def faults(self, *rules):
        self.control("/__sim/faults", {"clear": True, "faults": list(rules)})

    def s3(self):
        import boto3
        from botocore.config import Config
        return boto3.client(
            "s3", endpoint_url=self.endpoint, verify=self.env["AWS_CA_BUNDLE"],
            region_name=BUCKET_REGION,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            config=Config(s3={"addressing_style": "path"}))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Workdir:
    """A config, a signing key and a snapshot directory for one test."""

    def __init__(self, evident, root, name, sim):
        self.evident = evident
        self.sim = sim
        self.dir = os.path.join(root, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.config = os.path.join(self.dir, "evident.ini")
        self.key = os.path.join(self.dir, "signing.key")
        self.snaps = os.path.join(self.dir, "snapshots")
        self.log = os.path.join(self.dir, "daemon.log")
        self.proc = None
        r = self.run("keygen", "--out", self.key)
        if r.returncode != 0:
            raise AssertionError("keygen: " + r.stderr)

    def env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AWS_") and not k.startswith("EVIDENT_")}
        env.update(self.sim.env)
        env["HOME"] = self.dir  # no stray ~/.aws files
        return env

    def write_config(self, log_level="warn", interval="1s", bucket=None, prefix=None,
                     lock="compliance", s3_days=7, retention_days=0, extra=""):
        lines = ["[agent]", f"log_level = {log_level}", f"snapshot_dir = {self.snaps}",
                 f"signing_key = {self.key}", "concurrency = 4",
                 "[accounts]", "regions = eu-west-1",
                 "[daemon]", f"interval = {interval}", f"retention_days = {retention_days}"]
        if bucket:
            lines += ["[s3]", f"bucket = {bucket}", f"region = {BUCKET_REGION}",
                      f"object_lock_mode = {lock}", f"retention_days = {s3_days}"]
            if prefix:
                lines.append(f"prefix = {prefix}")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n" + extra)

    def run(self, *args, timeout=120, pre=()):
        return subprocess.run([self.evident, *pre, "--config", self.config, *args]
                              if os.path.exists(getattr(self, "config", "")) else
                              [self.evident, *pre, *args],
                              env=self.env(), capture_output=True, text=True, timeout=timeout)

    def start(self, *pre):
        self.logf = open(self.log, "wb")
        self.proc = subprocess.Popen([self.evident, *pre, "--config", self.config, "daemon"],
                                     env=self.env(), stdout=subprocess.DEVNULL,
                                     stderr=self.logf)
        return self.proc

    def signal(self, signo):
        self.proc.send_signal(signo)

    def stop(self, timeout=10):
        """SIGTERM; the exit status and the seconds it took."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout + 5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the daemon did not exit after SIGTERM")
        self.logf.close()
        return rc, time.monotonic() - t0

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            self.logf.close()

    def logs(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def snapshots(self):
        if not os.path.isdir(self.snaps):
            return []
        return sorted(n for n in os.listdir(self.snaps)
                      if len(n) == 16 and n.endswith("Z") and n[8] == "T")

    def leftovers(self):
        return glob.glob(os.path.join(self.snaps, ".tmp-*"))

    def state(self):
        try:
            with open(os.path.join(self.snaps, ".state.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def verify(self):
        return self.run("verify", self.snaps, "--key", self.key + ".pub")
