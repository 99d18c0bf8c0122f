"""`evident daemon` and `evident status` against the local AWS simulator:
cycles at a 1-second interval that chain and verify, SIGHUP with a changed
and with a broken configuration, SIGTERM (idle, mid-collection, and with a
collection stuck in a call), uploads to an Object Lock bucket checked with
boto3, a failed upload retried, pruning that keeps the chain verifiable,
two agents on one directory, JSON and journal log lines, no secret in any
output.

Run: /usr/bin/python3 tests/daemon/test_daemon.py --evident BIN
         --snapwriter BIN --workdir DIR
"""

import argparse
import datetime
import json
import fcntl
import os
import signal
import subprocess
import sys
import time
import unittest
import warnings

from daemon_harness import (CALLER_SECRET, LOCK_BUCKET, PLAIN_BUCKET, Simulator, Workdir,
                            wait_for)

ARGS = None
SIM = None


def setUpModule():
    global SIM
    SIM = Simulator("single-account.json")


def tearDownModule():
    SIM.stop()


def json_lines(text):
    """Every stderr line as a JSON object (fails on any other line)."""
    out = []
    for line in text.splitlines():
        obj = json.loads(line)
        assert set(obj) == {"time", "level", "msg"}, line
        out.append(obj)
    return out


class Daemon(unittest.TestCase):
    def setUp(self):
        SIM.faults()  # none
        self.w = Workdir(ARGS.evident, ARGS.workdir, self.id().split(".")[-1], SIM)

    def tearDown(self):
        self.w.kill()
        SIM.faults()

    def assert_no_secret(self):
        self.assertNotIn(CALLER_SECRET, self.w.logs())
        with open(os.path.join(self.w.snaps, ".state.json")) as f:
            self.assertNotIn(CALLER_SECRET, f.read())

    def assert_verifies(self, count=None):
        r = self.w.verify()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        if count is not None:
            self.assertIn(f"{count} snapshot{'' if count == 1 else 's'} verified", r.stdout)
        return r.stdout

    def test_cycles_reload_status_stop_and_upload(self):
        w = self.w
        prefix = "evident/cycles"
        w.write_config(log_level="warn", bucket=LOCK_BUCKET, prefix=prefix)
        w.start("--log-format", "json")
        wait_for(lambda: len(w.snapshots()) >= 3, 60, "three snapshots")

        # A changed configuration: info lines from then on.
        w.write_config(log_level="info", bucket=LOCK_BUCKET, prefix=prefix)
        w.signal(signal.SIGHUP)
        wait_for(lambda: any("configuration reloaded" in l["msg"]
                             for l in json_lines(w.logs())), 30, "the reload")
        reloaded = [l for l in json_lines(w.logs()) if "configuration reloaded" in l["msg"]]
        self.assertEqual(reloaded[0]["level"], "info")
        self.assertIn("log level info", reloaded[0]["msg"])

        # A broken one: refused with file:line, the running one kept.
        w.write_config(log_level="info", bucket=LOCK_BUCKET, prefix=prefix,
                       extra="[daemon]\nbogus = 1\n")
        with open(w.config) as f:
            bad_line = f.read().splitlines().index("bogus = 1") + 1
        w.signal(signal.SIGHUP)
        refused = wait_for(lambda: [l for l in json_lines(w.logs())
                                    if "configuration refused" in l["msg"]],
                           30, "the refusal")
        self.assertEqual(refused[0]["level"], "error")
        self.assertIn(f"{w.config}:{bad_line}:", refused[0]["msg"])
        self.assertIn("the running one is kept", refused[0]["msg"])
        before = len(w.snapshots())
        wait_for(lambda: len(w.snapshots()) >= before + 2, 60,
                 "two more snapshots after the refused reload")
        self.assertIsNone(w.proc.poll())
        # Still at info: the running configuration stayed.
        after = json_lines(w.logs())
        after = after[after.index(refused[0]):]
        self.assertTrue(any(l["level"] == "info" and l["msg"].startswith("collecting as ")
                            for l in after))
        self.assertTrue(any(l["msg"].startswith("snapshot ") for l in after))

        # status while it runs (status reads the file too: a good one).
        w.write_config(log_level="info", bucket=LOCK_BUCKET, prefix=prefix)
        r = w.run("status", "--json")
        self.assertIn(r.returncode, (0, 1, 3), r.stderr)
        st = json.loads(r.stdout)
        self.assertTrue(st["running"])
        self.assertEqual(st["pid"], w.proc.pid)
        self.assertIn(st["phase"], ("idle", "running"))
        self.assertIn(st["last_run"]["result"], ("met", "not-met", "incomplete"))
        self.assertEqual(r.returncode, st["last_run"]["exit_code"])
        self.assertEqual(st["upload"]["target"], f"s3://{LOCK_BUCKET}/{prefix}/")
        self.assertIsInstance(st["upload"]["pending"], int)
        self.assertIn("configuration refused", st["last_error"]["message"])
        r = w.run("status")
        self.assertIn(f"running (pid {w.proc.pid})", r.stdout)
        self.assertIn("next run:", r.stdout)

        rc, seconds = w.stop()
        self.assertEqual(rc, 0, w.logs()[-2000:])
        self.assertLess(seconds, 10)
        self.assertEqual(w.leftovers(), [])
        names = w.snapshots()
        out = self.assert_verifies(len(names))
        self.assertIn("first of the chain", out)

        st = w.state()
        self.assertEqual(st["phase"], "stopped")
        self.assertEqual(st["failures"], 0)
        self.assertGreaterEqual(st["runs"], len(names))
        r = w.run("status", "--json")
        self.assertFalse(json.loads(r.stdout)["running"])
        r = w.run("status")
        self.assertIn("stopped", r.stdout)
        self.assert_no_secret()

        # SIGTERM may have stopped the last upload half way: what is not
        # marked uploaded is pending, and the next run sends it.
        marked = [n for n in names
                  if os.path.exists(os.path.join(w.snaps, ".uploaded", n + ".json"))]
        self.assertEqual(st["upload"]["pending"], len(names) - len(marked))
        self.assertGreaterEqual(len(marked), len(names) - 1)
        r = w.run("daemon", "--once")
        self.assertIn(r.returncode, (0, 1, 3), r.stderr)
        names = w.snapshots()
        self.assertEqual(w.state()["upload"]["pending"], 0)

        # The bucket holds every snapshot, each object locked for 7 days
        # and checksummed; the local marker of each names the bucket.
        s3 = SIM.s3()
        keys = set()
        for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=LOCK_BUCKET, Prefix=prefix + "/"):
            keys.update(o["Key"] for o in page.get("Contents", []))
        week = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7)
        for name in names:
            for rel in ("manifest.json", "manifest.sig", "accounts/111122223333.json"):
                key = f"{prefix}/{name}/{rel}"
                self.assertIn(key, keys)
            obj = s3.get_object(Bucket=LOCK_BUCKET, Key=f"{prefix}/{name}/manifest.json",
                                ChecksumMode="ENABLED")
            self.assertEqual(obj["ObjectLockMode"], "COMPLIANCE")
            until = obj["ObjectLockRetainUntilDate"]
            self.assertLess(abs((until - week).total_seconds()), 600)
            with open(os.path.join(w.snaps, name, "manifest.json"), "rb") as f:
                self.assertEqual(obj["Body"].read(), f.read())
            self.assertTrue(obj.get("ChecksumSHA256"))
            self.assertTrue(obj.get("VersionId"))
            with open(os.path.join(w.snaps, ".uploaded", name + ".json")) as f:
                marker = json.load(f)
            self.assertEqual(marker["bucket"], LOCK_BUCKET)
            self.assertEqual(marker["manifest_version_id"], obj["VersionId"])
        # The Debian awscli reads the same lock.
        cli = subprocess.run(
            ["/usr/bin/aws", "--endpoint-url", SIM.endpoint, "--ca-bundle",
             SIM.env["AWS_CA_BUNDLE"], "--region", "eu-west-1", "s3api", "get-object",
             "--bucket", LOCK_BUCKET, "--key", f"{prefix}/{names[-1]}/manifest.sig",
             os.path.join(w.dir, "sig.out")],
            env=w.env(), capture_output=True, text=True, timeout=60)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        head = json.loads(cli.stdout)
        self.assertEqual(head["ObjectLockMode"], "COMPLIANCE")
        self.assertTrue(head["ObjectLockRetainUntilDate"].startswith(
            week.strftime("%Y-%m-%d")) or abs(
            (datetime.datetime.fromisoformat(head["ObjectLockRetainUntilDate"]) -
             week).total_seconds()) < 600)
        with open(os.path.join(w.dir, "sig.out"), "rb") as f, \
                open(os.path.join(w.snaps, names[-1], "manifest.sig"), "rb") as g:
            self.assertEqual(f.read(), g.read())
        # COMPLIANCE: even the owner cannot delete a version.
        first = s3.get_object(Bucket=LOCK_BUCKET, Key=f"{prefix}/{names[0]}/manifest.json")
        with self.assertRaises(Exception) as cm:
            s3.delete_object(Bucket=LOCK_BUCKET, Key=f"{prefix}/{names[0]}/manifest.json",
                             VersionId=first["VersionId"])
        self.assertIn("AccessDenied", str(cm.exception))

    def test_sigterm_mid_collection_discards_the_snapshot(self):
        w = self.w
        w.write_config(log_level="info", interval="1h")
        r = w.run("daemon", "--once")
        self.assertIn(r.returncode, (0, 1, 3), r.stderr)
        first = w.snapshots()
        self.assertEqual(len(first), 1)
        # One probe's call hangs for 4 s: the others are done, the
        # snapshot is being written when SIGTERM arrives.
        SIM.faults({"kind": "latency", "ms": 4000, "count": 1,
                    "match": {"service": "iam", "action": "GetAccountSummary"}})
        w.write_config(log_level="info", interval="1s")
        w.start()
        wait_for(w.leftovers, 30, "a snapshot being written")
        rc, seconds = w.stop()
        self.assertEqual(rc, 0, w.logs())
        self.assertLess(seconds, 10)
        self.assertIn("stopping: cancelling the running collection", w.logs())
        self.assertIn("collection cancelled: no snapshot written", w.logs())
        self.assertEqual(w.snapshots(), first)
        self.assertEqual(w.leftovers(), [])
        self.assert_verifies(1)
        st = w.state()
        self.assertEqual(st["phase"], "stopped")
        self.assertEqual(st["last_run"]["result"], "cancelled")
        self.assertEqual(w.run("status").returncode, 3)

    def test_sigterm_abandons_a_stuck_collection(self):
        w = self.w
        w.write_config(log_level="info", interval="1s")
        # A call that does not answer for a minute: the daemon leaves it
        # within the grace period; the .tmp-* directory is no snapshot.
        SIM.faults({"kind": "latency", "ms": 40000, "count": 1,
                    "match": {"service": "iam", "action": "GetAccountSummary"}})
        w.start()
        wait_for(w.leftovers, 30, "a snapshot being written")
        time.sleep(0.5)
        rc, seconds = w.stop()
        self.assertEqual(rc, 0, w.logs())
        self.assertLess(seconds, 10)
        self.assertIn("did not stop within", w.logs())
        self.assertEqual(w.snapshots(), [])
        self.assertTrue(w.leftovers())
        st = w.state()
        self.assertEqual(st["phase"], "stopped")
        self.assertIn("collection abandoned", st["last_error"]["message"])
        r = w.verify()  # nothing but the leftover: nothing verifies
        self.assertEqual(r.returncode, 4)
        self.assertIn("ignored 1 unfinished write", r.stdout)
        # The next run clears the leftover and writes a whole snapshot.
        r = w.run("daemon", "--once")
        self.assertIn(r.returncode, (0, 1, 3), r.stderr)
        self.assertEqual(w.leftovers(), [])
        self.assert_verifies(1)

    def test_upload_failure_is_retried_and_pruning_waits_for_it(self):
        w = self.w
        now = int(time.time())
        # Three snapshots from ten days ago, signed with this key.
        for days in (10, 9, 8):
            r = subprocess.run([ARGS.snapwriter, "--dir", w.snaps, "--key", w.key,
                                "--start", str(now - days * 86400), "--accounts", "2",
                                "--body-kb", "1"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
        old = w.snapshots()
        self.assertEqual(len(old), 3)

        # A bucket without Object Lock refuses the locked PUTs: nothing
        # is uploaded, so nothing is pruned.
        prefix = "evident/prune"
        w.write_config(log_level="info", bucket=PLAIN_BUCKET, prefix=prefix,
                       retention_days=5)
        r = w.run("daemon", "--once")
        self.assertEqual(r.returncode, 3, r.stderr)  # upload failed
        self.assertIn("InvalidRequest", r.stderr)
        self.assertIn("tried again at the next run", r.stderr)
        self.assertIn("past the retention but not uploaded yet", r.stderr)
        self.assertEqual(len(w.snapshots()), 4)
        st = w.state()
        self.assertEqual(st["upload"]["pending"], 4)
        self.assertIn("upload failed", st["last_error"]["message"])
        self.assertFalse(os.path.exists(os.path.join(w.snaps, "pruned.json")))

        # The right bucket: the next run uploads all five, then prunes the
        # three old ones; the chain verifies without --allow-pruned.
        w.write_config(log_level="info", bucket=LOCK_BUCKET, prefix=prefix,
                       retention_days=5)
        r = w.run("daemon", "--once")
        self.assertIn(r.returncode, (0, 1, 3), r.stderr)
        left = w.snapshots()
        self.assertEqual(len(left), 2)
        self.assertTrue(all(n not in left for n in old))
        st = w.state()
        self.assertEqual(st["upload"]["pending"], 0)
        self.assertEqual(st["pruned"], 3)
        out = self.assert_verifies(2)
        self.assertIn(f"chain starts after {old[-1]} (pruned, recorded in pruned.json)", out)
        with open(os.path.join(w.snaps, "pruned.json")) as f:
            record = json.load(f)
        self.assertEqual([e["snapshot"] for e in record["pruned"]], old)
        # Markers of pruned snapshots are gone with them at the next pass;
        # the WORM copies stay.
        s3 = SIM.s3()
        for name in old:
            obj = s3.get_object(Bucket=LOCK_BUCKET, Key=f"{prefix}/{name}/manifest.sig")
            self.assertEqual(len(obj["Body"].read()), 64)
        r = w.run("status")
        self.assertIn("0 snapshots pending", r.stdout)
        self.assertIn("3 snapshots pruned", r.stdout)

    def test_second_agent_on_the_directory_and_journal_lines(self):
        w = self.w
        w.write_config(log_level="info")
        os.makedirs(w.snaps, exist_ok=True)
        with open(os.path.join(w.snaps, ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            r = w.run("daemon", "--once", pre=("--log-format", "journal"))
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("another snapshot is being written", r.stderr)
        for line in r.stderr.splitlines():
            self.assertRegex(line, r"^<[3467]>")
        self.assertRegex(r.stderr, r"(?m)^<3>collection failed: .*another snapshot")
        self.assertEqual(w.snapshots(), [])
        st = w.state()
        self.assertEqual(st["last_run"]["result"], "failed")
        self.assertEqual(st["failures"], 1)
        self.assertEqual(w.run("status").returncode, 3)

    def test_bad_configuration_at_start(self):
        w = self.w
        w.write_config(extra="[s3]\nobject_lock_mode = forever\n")
        r = w.run("daemon")
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{w.config}:", r.stderr)
        self.assertIn("one of: compliance, governance, off", r.stderr)
        # No signing key: refused at start, not at the first run.
        with open(w.config, "w") as f:
            f.write(f"[agent]\nsnapshot_dir = {w.snaps}\n")
        r = w.run("daemon")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no signing key", r.stderr)
        r = w.run("daemon", pre=("--log-format", "xml"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("--log-format is text, journal or json", r.stderr)
        r = w.run("status")
        self.assertEqual(r.returncode, 3)
        self.assertIn("has not run", r.stderr)


class Status(unittest.TestCase):
    """`evident status` reads the state file as untrusted input."""

    def setUp(self):
        self.w = Workdir(ARGS.evident, ARGS.workdir, self.id().split(".")[-1], SIM)
        self.w.write_config()
        os.makedirs(self.w.snaps, exist_ok=True)
        self.path = os.path.join(self.w.snaps, ".state.json")

    def status(self, text):
        with open(self.path, "w") as f:
            f.write(text)
        return self.w.run("status")

    def test_malformed_states_are_refused_by_field(self):
        cases = [
            ("not json", "not JSON"),
            ("[]", "not a JSON object"),
            ('{"format": 2}', "format 2"),
            ('{"format": 1, "format": 1}', "not JSON"),
            ('{"format": 1, "pid": "12"}', "pid is not a number"),
            ('{"format": 1, "last_run": []}', "last_run is not an object"),
            ('{"format": 1, "last_run": {"started_at": "yesterday"}}',
             "started_at is not a UTC time"),
            ('{"format": 1, "last_run": {"snapshot": "../etc"}}', "not a snapshot name"),
            ('{"format": 1, "runs": -1}', "runs is not a number"),
            ('{"format": 1, "upload": {"pending": "many"}}', "pending is not a number"),
            ('{"format": 1, "phase": 7}', "phase is not a string"),
        ]
        for text, phrase in cases:
            r = self.status(text)
            self.assertEqual(r.returncode, 3, text)
            self.assertIn(phrase, r.stderr, text)
        r = self.status("{" + " " * (70 * 1024) + "}")
        self.assertEqual(r.returncode, 3)
        self.assertIn("larger than", r.stderr)

    def test_control_characters_are_not_printed(self):
        r = self.status(json.dumps({
            "format": 1, "pid": 1, "phase": "stopped",
            "last_run": {"result": "met", "exit_code": 0, "snapshot": "20250101T000000Z",
                         "started_at": "2025-01-01T00:00:00Z",
                         "finished_at": "2025-01-01T00:01:00Z"},
            "last_error": {"message": "bad\x1b[31mred\nline"}}))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("\x1b", r.stdout)
        self.assertIn("bad?[31mred?line", r.stdout)
        self.assertIn("result:      met (exit 0", r.stdout)
        self.assertIn("daemon:      stopped", r.stdout)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--evident", required=True)
    p.add_argument("--snapwriter", required=True)
    p.add_argument("--workdir", required=True)
    ARGS, rest = p.parse_known_args()
    ARGS.evident = os.path.abspath(ARGS.evident)
    ARGS.workdir = os.path.abspath(ARGS.workdir)
    os.makedirs(ARGS.workdir, exist_ok=True)
    # boto3 leaves pooled connections to the simulator open at exit.
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
