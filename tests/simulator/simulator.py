#!/usr/bin/python3
"""Local AWS simulator: HTTPS endpoint for every AWS call evident makes, driven by a scenario.

usage: /usr/bin/python3 simulator.py --scenario FILE --state-dir DIR [--clock-offset SECONDS]

Writes DIR/ca.pem, DIR/endpoint, DIR/metadata-endpoint, DIR/env, DIR/requests.jsonl, then
DIR/ready last. Stops cleanly on SIGTERM or SIGINT. See README.md beside this file.
"""

import argparse
import os
import shlex
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sim import scenario as scenario_mod  # noqa: E402
from sim import server, tls  # noqa: E402
from sim.faults import FaultError, Faults  # noqa: E402
from sim.metadata import MetadataServer  # noqa: E402
from sim.requestlog import RequestLog  # noqa: E402
from sim.router import Router  # noqa: E402
from sim.services import load_services  # noqa: E402
from sim.throttle import Throttle  # noqa: E402
from sim.world import World  # noqa: E402


def _write(path, text):
    """Writes a state file atomically, so a reader never sees half of it."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _env_file(state_dir, endpoint, scenario):
    lines = [f"export AWS_ENDPOINT_URL={shlex.quote(endpoint)}",
             f"export AWS_CA_BUNDLE={shlex.quote(os.path.join(state_dir, 'ca.pem'))}",
             f"export AWS_REGION={shlex.quote(scenario.default_region)}"]
    if scenario.default_caller:
        key = scenario.keys[scenario.default_caller]
        lines += [f"export AWS_ACCESS_KEY_ID={shlex.quote(key.id)}",
                  f"export AWS_SECRET_ACCESS_KEY={shlex.quote(key.secret)}"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--clock-offset", type=float, default=None,
                        help="seconds added to the simulator's clock (overrides the scenario's)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    started = time.monotonic()
    state_dir = os.path.abspath(args.state_dir)
    os.makedirs(state_dir, exist_ok=True)
    for stale in ("ready", "endpoint", "metadata-endpoint", "env"):
        try:
            os.remove(os.path.join(state_dir, stale))
        except FileNotFoundError:
            pass

    services = load_services()
    try:
        raw = scenario_mod.read(args.scenario)
        offset = args.clock_offset if args.clock_offset is not None else \
            scenario_mod.parse_offset(raw.get("clock_offset", 0))
        world = World(None, offset)
        scenario = scenario_mod.build(raw, world.now(), services)
        faults = Faults(scenario.faults)
    except (scenario_mod.ScenarioError, FaultError, ValueError, OSError) as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    world.scenario = scenario

    cert, key = tls.make_certificates(state_dir)
    log = RequestLog(os.path.join(state_dir, "requests.jsonl"))
    pipeline = server.Pipeline(world, Router(services, scenario.default_region), faults,
                               Throttle(scenario.throttle))
    https = server.Server(("127.0.0.1", args.port), world, pipeline, log, faults,
                          server.tls_context(cert, key), args.verbose)
    metadata = MetadataServer(("127.0.0.1", 0), world, args.verbose)
    endpoint = f"https://127.0.0.1:{https.server_address[1]}"

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = [server.serve_in_thread(https), server.serve_in_thread(metadata)]

    _write(os.path.join(state_dir, "endpoint"), endpoint + "\n")
    _write(os.path.join(state_dir, "metadata-endpoint"),
           f"http://127.0.0.1:{metadata.server_address[1]}\n")
    _write(os.path.join(state_dir, "env"), _env_file(state_dir, endpoint, scenario))
    _write(os.path.join(state_dir, "ready"), f"{os.getpid()}\n")
    print(f"simulator: {endpoint} ready in {time.monotonic() - started:.2f}s "
          f"(scenario {os.path.basename(args.scenario)}, {len(scenario.accounts)} accounts)",
          file=sys.stderr, flush=True)

    # Models load on first use; warming them now keeps the first call of each service fast.
    threading.Thread(target=lambda: [s.model for s in services], name="warm-models",
                     daemon=True).start()
    while not stop.wait(0.5):
        pass
    https.shutdown()
    metadata.shutdown()
    for thread in threads:
        thread.join(timeout=5)
    https.server_close()
    metadata.server_close()
    log.close()
    os.remove(os.path.join(state_dir, "ready"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
