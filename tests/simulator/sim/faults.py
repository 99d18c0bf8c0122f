"""Injected faults, from the scenario's `faults` list or `POST /__sim/faults`.

A rule matches requests by service, action, account and region (glob patterns, all optional),
skips the first `after` matches, fires at most `count` times (absent: forever) with an
optional `probability`, and does one thing (`kind`):

  latency        sleep `ms` (+ uniform 0..`jitter_ms`) before answering
  throttle       the protocol's throttling error
  error          `status` 500 or 503 (the protocol's internal/unavailable error), or an
                 explicit `code`/`message`/`status`
  reset          close the connection without an answer
  truncate       announce the full Content-Length, send half the body, close
  malformed      a body cut short and followed by garbage (still the announced length)
  content_type   an HTML page with text/html (a proxy's answer), or with `keep_body` the real
                 body under a wrong Content-Type
  drip           the body in `chunk`-byte pieces every `interval_ms`
  expire_token   the caller's temporary credentials expire now: this and later calls with
                 them get the protocol's expired-token error
"""

import fnmatch
import random
import threading

KINDS = ("latency", "throttle", "error", "reset", "truncate", "malformed", "content_type",
         "drip", "expire_token")
MATCH_KEYS = ("service", "action", "account", "region")


class FaultError(ValueError):
    pass


class Rule:
    def __init__(self, spec):
        if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
            raise FaultError(f"fault needs a kind among {', '.join(KINDS)}: {spec!r}")
        match = spec.get("match", {})
        unknown = set(match) - set(MATCH_KEYS)
        if unknown:
            raise FaultError(f"unknown match keys {sorted(unknown)}")
        for key in ("ms", "jitter_ms", "chunk", "interval_ms", "count", "after", "probability",
                    "status"):
            value = spec.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise FaultError(f"fault {key}: a non-negative number, not {value!r}")
        self.spec = spec
        self.kind = spec["kind"]
        self.match = match
        self.count = spec.get("count")
        self.after = int(spec.get("after", 0))
        self.probability = float(spec.get("probability", 1.0))
        self.seen = 0
        self.fired = 0
        if self.kind == "error" and "code" not in spec and spec.get("status", 500) not in (500, 503):
            raise FaultError("error faults without a code need status 500 or 503")

    def applies(self, service, action, account, region):
        wanted = {"service": service, "action": action, "account": account, "region": region}
        return all(fnmatch.fnmatchcase(str(wanted[k] or ""), str(p)) for k, p in self.match.items())

    def describe(self):
        left = None if self.count is None else max(0, self.count - self.fired)
        return {**self.spec, "seen": self.seen, "fired": self.fired, "remaining": left}


class Plan:
    """What the faults decided for one request."""

    def __init__(self):
        self.delay = 0.0
        self.rule = None            # the first non-latency rule that fired, or None


class Faults:
    def __init__(self, specs=()):
        self._rules = []
        self._lock = threading.Lock()
        self.add(specs)

    def add(self, specs):
        rules = [Rule(s) for s in specs]
        with self._lock:
            self._rules.extend(rules)

    def clear(self):
        with self._lock:
            self._rules.clear()

    def describe(self):
        with self._lock:
            return [r.describe() for r in self._rules]

    def plan(self, service, action, account, region):
        plan = Plan()
        with self._lock:
            for rule in self._rules:
                if not rule.applies(service, action, account, region):
                    continue
                rule.seen += 1
                if rule.seen <= rule.after:
                    continue
                if rule.count is not None and rule.fired >= rule.count:
                    continue
                if rule.kind != "latency" and plan.rule is not None:
                    continue
                if rule.probability < 1.0 and random.random() >= rule.probability:
                    continue
                rule.fired += 1
                if rule.kind == "latency":
                    plan.delay += rule.spec.get("ms", 0) / 1000.0 + \
                        random.uniform(0, rule.spec.get("jitter_ms", 0)) / 1000.0
                else:
                    plan.rule = rule
        return plan
