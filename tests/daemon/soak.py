"""A soak of `evident daemon`: many short cycles (1-second interval, one
account, one region, every snapshot uploaded) against the simulator, with
the daemon's resident memory and open descriptors read from /proc after a
warm-up and then every cycle. Memory must stay flat (RSS growth under 20 %
after warm-up) and descriptors stable; every snapshot must verify.

Snapshots are named by their start second, so cycles come at most one a
second: the default run is 100 cycles (about 2 minutes).

Run: /usr/bin/python3 tests/daemon/soak.py --evident BIN --workdir DIR
         [--cycles N] [--sanitized]
"""

import argparse
import os
import sys
import time

from daemon_harness import LOCK_BUCKET, CALLER_SECRET, Simulator, Workdir, wait_for

WARMUP = 10


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--evident", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--cycles", type=int, default=100)
    p.add_argument("--sanitized", action="store_true",
                   help="a sanitizer build: RSS is not judged")
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)

    sim = Simulator("single-account.json")
    w = Workdir(os.path.abspath(args.evident), os.path.abspath(args.workdir), "soak", sim)
    failures = []
    try:
        w.write_config(log_level="warn", interval="1s", bucket=LOCK_BUCKET,
                       prefix="evident/soak")
        proc = w.start()
        pid = proc.pid

        def runs():
            st = w.state()
            return st["runs"] if st else 0

        def idle_after(n):
            st = w.state()
            return st and st["runs"] >= n and st["phase"] == "idle"

        budget = 3 * args.cycles + 60  # generous: no timing is judged
        wait_for(lambda: idle_after(WARMUP), budget, f"{WARMUP} cycles")
        base_rss, base_fds = rss_kib(pid), fds(pid)
        peak_rss, peak_fds = base_rss, base_fds
        seen = runs()
        while seen < args.cycles:
            wait_for(lambda: idle_after(seen + 1) or proc.poll() is not None,
                     budget, "the next cycle")
            if proc.poll() is not None:
                failures.append(f"the daemon exited ({proc.returncode})")
                break
            seen = runs()
            peak_rss = max(peak_rss, rss_kib(pid))
            peak_fds = max(peak_fds, fds(pid))
        end_rss, end_fds = rss_kib(pid), fds(pid)
        rc, _ = w.stop()
        print(f"soak: {seen} cycles; RSS {base_rss} KiB after {WARMUP}, peak {peak_rss}, "
              f"end {end_rss}; descriptors {base_fds} after {WARMUP}, peak {peak_fds}, "
              f"end {end_fds}")
        if rc != 0:
            failures.append(f"exit status {rc} after SIGTERM")
        if not args.sanitized and peak_rss > base_rss * 1.2 + 1024:
            failures.append(f"RSS grew from {base_rss} to {peak_rss} KiB")
        # Idle connections in the HTTP pool may come and go; a leak grows
        # with the cycles.
        if peak_fds > base_fds + 4 or end_fds > base_fds + 2:
            failures.append(f"descriptors grew from {base_fds} to {peak_fds} (end {end_fds})")
        st = w.state()
        if st["failures"]:
            failures.append(f"{st['failures']} failed runs: {st['last_error']}")
        names = w.snapshots()
        if len(names) < args.cycles:
            failures.append(f"{len(names)} snapshots for {args.cycles} cycles")
        r = w.verify()
        if r.returncode != 0:
            failures.append("verify: " + r.stdout[-2000:])
        if CALLER_SECRET in w.logs():
            failures.append("the secret key appears in the log")
        if "ERROR" in w.logs() or "AddressSanitizer" in w.logs():
            failures.append("sanitizer report:\n" + w.logs()[-4000:])
    finally:
        w.kill()
        sim.stop()
    for f in failures:
        print("FAIL: " + f)
    print(f"soak: {'failed' if failures else 'passed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
