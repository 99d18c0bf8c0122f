"""AWS-like throttling: one token bucket per (account, region, service, action).

AWS meters API rates per account and region (global services, IAM and
Organizations, have one region), so a client sweeping every region at once
meets one bucket per region, as it would in AWS.

Rates come from the scenario's `throttle.rates` ("iam:ListUsers": [per_second, burst],
"iam:*" for a whole service), then the service module's `rates`, then a default. A request
that finds its bucket empty gets the protocol's throttling error.
"""

import threading
import time

DEFAULT_RATE = (50.0, 100.0)


class Throttle:
    def __init__(self, config):
        self.enabled = config.get("enabled", True)
        self.rates = {k: tuple(v) for k, v in config.get("rates", {}).items()}
        default = config.get("default")
        self.default = tuple(default) if default else DEFAULT_RATE
        self._buckets = {}
        self._lock = threading.Lock()

    def _rate(self, service, action):
        prefix = service.iam_prefix
        for key in (f"{prefix}:{action}", f"{prefix}:*"):
            if key in self.rates:
                return self.rates[key]
        if action in service.rates:
            return tuple(service.rates[action])
        if "*" in service.rates:
            return tuple(service.rates["*"])
        return self.default

    def admit(self, account_id, region, service, action):
        """True when the call may proceed; False when it is throttled."""
        if not self.enabled:
            return True
        rate, burst = self._rate(service, action)
        key = (account_id, region if service.regional else "global",
               service.model_name, action)
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            return True
