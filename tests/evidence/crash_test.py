"""A snapshot writer killed with SIGKILL at random points never leaves a
snapshot that verifies half-written: after every kill, every snapshot
present verifies and the chain is intact, and the next write succeeds
(removing the leftover of the killed one).

Run: /usr/bin/python3 tests/evidence/crash_test.py --evident BIN
         --writer SNAPWRITER --workdir DIR [--rounds N] [--seed S]
"""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import time

T0 = 1735689600  # 2025-01-01T00:00:00Z
ACCOUNTS = "120"
BODY_KB = "96"


def writer_cmd(args, snaps, key, start):
    return [args.writer, "--dir", snaps, "--key", key, "--start", str(start),
            "--accounts", ACCOUNTS, "--body-kb", BODY_KB]


def snapshots(snaps):
    return sorted(n for n in os.listdir(snaps) if not n.startswith("."))


def leftovers(snaps):
    return sorted(n for n in os.listdir(snaps) if n.startswith(".tmp-"))


def verify(args, snaps, key):
    r = subprocess.run([args.evident, "verify", snaps, "--key", key + ".pub"],
                       capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout + r.stderr


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--evident", required=True)
    ap.add_argument("--writer", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    print(f"seed {seed} (--seed {seed} repeats this run)", flush=True)

    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    key = os.path.join(args.workdir, "signing.key")
    snaps = os.path.join(args.workdir, "snapshots")
    r = subprocess.run([args.evident, "keygen", "--out", key],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail("keygen: " + r.stderr)

    # One complete write first: it times the kill window.
    began = time.monotonic()
    r = subprocess.run(writer_cmd(args, snaps, key, T0), capture_output=True,
                       text=True, timeout=300)
    full = time.monotonic() - began
    if r.returncode != 0:
        fail("first write: " + r.stderr)
    print(f"a full write takes {full:.2f}s", flush=True)

    start = T0
    killed = completed = 0
    for round_ in range(args.rounds):
        start += 60
        before = snapshots(snaps)
        # Past the full time too, so that some writes complete and the chain
        # grows between kills.
        delay = rng.uniform(0, full * 1.5)
        p = subprocess.Popen(writer_cmd(args, snaps, key, start),
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        try:
            p.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
        p.wait()
        err = p.stderr.read().decode()
        p.stderr.close()
        if p.returncode == -signal.SIGKILL:
            killed += 1
            how = f"killed after {delay:.3f}s"
        elif p.returncode == 0:
            completed += 1
            how = "completed before the kill"
        else:
            fail(f"round {round_}: writer failed: {err}")
        after = snapshots(snaps)
        added = [n for n in after if n not in before]
        if any(n not in after for n in before):
            fail(f"round {round_}: a snapshot disappeared: {before} -> "
                 f"{after}")
        if len(added) > 1:
            fail(f"round {round_}: more than one snapshot appeared: {added}")
        rc, out = verify(args, snaps, key)
        print(f"round {round_}: {how}; {len(after)} snapshots, "
              f"{len(leftovers(snaps))} leftover(s); verify exit {rc}",
              flush=True)
        if rc != 0:
            fail(f"round {round_}: verify failed after the kill:\n{out}")

    # The next write succeeds, removes the leftovers, and the whole
    # chain verifies.
    start += 60
    r = subprocess.run(writer_cmd(args, snaps, key, start),
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        fail("the write after the kills failed: " + r.stderr)
    if leftovers(snaps):
        fail(f"leftovers remain after a complete write: {leftovers(snaps)}")
    rc, out = verify(args, snaps, key)
    if rc != 0:
        fail("final verify:\n" + out)
    n = len(snapshots(snaps))
    print(f"ok: {killed} killed, {completed} completed, {n} snapshots in "
          f"one verified chain", flush=True)
    if killed == 0:
        fail("no write was ever interrupted: the kill window is wrong")


if __name__ == "__main__":
    main()
