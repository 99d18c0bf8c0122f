"""`evident keygen` and `evident verify` as an operator and an auditor run
them: file modes, refusals, exit codes (0 verified, 4 a problem, 2 usage).

Run: /usr/bin/python3 tests/evidence/test_cli.py --evident BIN
         --writer SNAPWRITER --workdir DIR
"""

import argparse
import os
import shutil
import stat
import subprocess
import sys
import unittest

EVIDENT = None
WRITER = None
WORKDIR = None
T0 = 1735689600  # 2025-01-01T00:00:00Z


def run(*args, config=None, umask=None):
    cmd = [EVIDENT]
    if config:
        cmd += ["--config", config]
    cmd += list(args)

    def pre():
        if umask is not None:
            os.umask(umask)
    env = dict(os.environ)
    env.pop("EVIDENT_LOG_LEVEL", None)
    return subprocess.run(cmd, capture_output=True, text=True, env=env,
                          preexec_fn=pre, timeout=120)


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def fresh(name):
    path = os.path.join(WORKDIR, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write_config(path, **agent):
    with open(path, "w") as f:
        f.write("[agent]\n")
        for k, v in agent.items():
            f.write(f"{k} = {v}\n")
    return path


def snapshot(snaps, key, start, accounts=3):
    r = subprocess.run([WRITER, "--dir", snaps, "--key", key, "--start",
                        str(start), "--accounts", str(accounts),
                        "--body-kb", "4"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError("snapwriter failed: " + r.stderr)
    return r.stdout.strip()


class Keygen(unittest.TestCase):
    def test_modes_and_refusal(self):
        d = fresh("keygen")
        key = os.path.join(d, "signing.key")
        # A permissive umask must not widen the private key; a strict one
        # must not hide the public key.
        for umask in (0o000, 0o077):
            for p in (key, key + ".pub"):
                if os.path.exists(p):
                    os.unlink(p)
            r = run("keygen", "--out", key, umask=umask)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(mode(key), 0o600)
            self.assertEqual(mode(key + ".pub"), 0o644)
            self.assertIn("fingerprint: sha256:", r.stdout)
        with open(key, "rb") as f:
            before = f.read()
        self.assertIn(b"BEGIN PRIVATE KEY", before)
        with open(key + ".pub", "rb") as f:
            self.assertIn(b"BEGIN PUBLIC KEY", f.read())

        # Never overwritten without --force, and the refusal is a usage
        # error that changes nothing.
        r = run("keygen", "--out", key)
        self.assertEqual(r.returncode, 2)
        self.assertIn("exists", r.stderr)
        with open(key, "rb") as f:
            self.assertEqual(f.read(), before)
        # Only the .pub present also refuses, before writing anything.
        os.rename(key, key + ".bak")
        r = run("keygen", "--out", key)
        self.assertEqual(r.returncode, 2)
        self.assertFalse(os.path.exists(key))
        os.rename(key + ".bak", key)

        r = run("keygen", "--out", key, "--force")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(key, "rb") as f:
            self.assertNotEqual(f.read(), before)
        self.assertEqual(mode(key), 0o600)
        self.assertEqual(mode(key + ".pub"), 0o644)
        # The private key text never reaches the output.
        self.assertNotIn("PRIVATE", r.stdout + r.stderr)

    def test_symlink_is_not_followed(self):
        d = fresh("keygen-link")
        target = os.path.join(d, "elsewhere")
        with open(target, "w") as f:
            f.write("precious\n")
        key = os.path.join(d, "signing.key")
        os.symlink(target, key)
        r = run("keygen", "--out", key)
        self.assertEqual(r.returncode, 2)
        r = run("keygen", "--out", key, "--force")
        self.assertEqual(r.returncode, 0, r.stderr)
        # --force replaced the link itself, never wrote through it.
        self.assertFalse(os.path.islink(key))
        with open(target) as f:
            self.assertEqual(f.read(), "precious\n")

    def test_path_from_config(self):
        d = fresh("keygen-config")
        key = os.path.join(d, "from-config.key")
        cfg = write_config(os.path.join(d, "evident.ini"), signing_key=key)
        r = run("keygen", config=cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(key))
        self.assertTrue(os.path.exists(key + ".pub"))
        cfg2 = write_config(os.path.join(d, "empty.ini"))
        r = run("keygen", config=cfg2)
        self.assertEqual(r.returncode, 2)
        self.assertIn("agent.signing_key", r.stderr)

    def test_usage_and_io_errors(self):
        self.assertEqual(run("keygen", "--bogus").returncode, 2)
        self.assertEqual(run("keygen", "--out", "a", "extra").returncode, 2)
        r = run("keygen", "--out", os.path.join(WORKDIR, "no/such/dir/k"))
        self.assertEqual(r.returncode, 3)
        self.assertEqual(run("keygen", "--help").returncode, 0)


class Verify(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = fresh("verify")
        cls.key = os.path.join(cls.dir, "signing.key")
        r = run("keygen", "--out", cls.key)
        assert r.returncode == 0, r.stderr

    def chain(self, name, n=2):
        snaps = fresh(os.path.join("verify", name))
        paths = [snapshot(snaps, self.key, T0 + 60 * i) for i in range(n)]
        return snaps, paths

    def test_ok(self):
        snaps, paths = self.chain("ok", 3)
        r = run("verify", snaps, "--key", self.key + ".pub")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.count("\nok    "), 3, r.stdout)
        self.assertIn("3 snapshots verified", r.stdout)
        # Options may come before DIR too; one snapshot verifies alone.
        r = run("verify", "--key", self.key + ".pub", paths[1])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # --quiet keeps only the verdict.
        r = subprocess.run([EVIDENT, "--quiet", "verify", snaps, "--key",
                            self.key + ".pub"], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0)
        self.assertNotIn("ok    ", r.stdout)

    def test_defaults_from_config(self):
        snaps, _ = self.chain("config")
        cfg = write_config(os.path.join(self.dir, "verify.ini"),
                           snapshot_dir=snaps, signing_key=self.key)
        r = run("verify", config=cfg)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(snaps, r.stdout)

    def test_tampered_is_4(self):
        snaps, paths = self.chain("tamper")
        part = os.path.join(paths[0], "accounts", "000200000001.json")
        with open(part, "r+b") as f:
            f.seek(100)
            b = f.read(1)
            f.seek(100)
            f.write(bytes([b[0] ^ 1]))
        r = run("verify", snaps, "--key", self.key + ".pub")
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        self.assertIn("FAIL", r.stdout)
        self.assertIn("part-changed: accounts/000200000001.json changed",
                      r.stdout)
        self.assertIn("verification FAILED", r.stdout)

    def test_deleted_is_4(self):
        snaps, paths = self.chain("deleted", 3)
        shutil.rmtree(paths[1])
        r = run("verify", snaps, "--key", self.key + ".pub")
        self.assertEqual(r.returncode, 4)
        self.assertIn("chain-deleted", r.stdout)
        r = run("verify", snaps, "--key", self.key + ".pub",
                "--allow-pruned")
        self.assertEqual(r.returncode, 4)  # a middle one is not pruning

    def test_keys(self):
        snaps, _ = self.chain("keys")
        other = os.path.join(self.dir, "other.key")
        if not os.path.exists(other):
            self.assertEqual(run("keygen", "--out", other).returncode, 0)
        r = run("verify", snaps, "--key", other + ".pub")
        self.assertEqual(r.returncode, 4)
        self.assertIn("not a trusted key", r.stdout)
        # Either of two keys (a rotation) is accepted.
        r = run("verify", snaps, "--key", other + ".pub", "--key",
                self.key + ".pub")
        self.assertEqual(r.returncode, 0, r.stdout)
        r = run("verify", snaps, "--trust-embedded-key")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("WARNING", r.stdout)

    def test_usage_is_2(self):
        snaps, _ = self.chain("usage")
        garbage = os.path.join(self.dir, "garbage.pub")
        with open(garbage, "w") as f:
            f.write("not a key\n")
        cases = [
            ["verify", "--bogus"],
            ["verify", snaps, snaps, "--key", self.key + ".pub"],
            ["verify", snaps, "--key", os.path.join(self.dir, "absent")],
            ["verify", snaps, "--key", garbage],
        ]
        for args in cases:
            r = run(*args)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
        # No key anywhere: a usage error, never a silent pass.
        cfg = write_config(os.path.join(self.dir, "nokey.ini"),
                           snapshot_dir=snaps)
        r = run("verify", config=cfg)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--key", r.stderr)
        r = run("verify", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("proves nothing", r.stdout)

    def test_nothing_to_verify_is_4(self):
        empty = fresh(os.path.join("verify", "empty"))
        r = run("verify", empty, "--key", self.key + ".pub")
        self.assertEqual(r.returncode, 4)
        self.assertIn("no snapshot", r.stdout)
        r = run("verify", os.path.join(empty, "absent"), "--key",
                self.key + ".pub")
        self.assertEqual(r.returncode, 4)


def main():
    global EVIDENT, WRITER, WORKDIR
    ap = argparse.ArgumentParser()
    ap.add_argument("--evident", required=True)
    ap.add_argument("--writer", required=True)
    ap.add_argument("--workdir", required=True)
    args, rest = ap.parse_known_args()
    EVIDENT, WRITER = args.evident, args.writer
    WORKDIR = args.workdir
    shutil.rmtree(WORKDIR, ignore_errors=True)
    os.makedirs(WORKDIR)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
