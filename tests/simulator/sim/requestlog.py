"""The request log: one JSON line per AWS request, for tests and benchmarks to count calls."""

import json
import threading


class RequestLog:
    def __init__(self, path):
        self._file = open(path, "a", encoding="utf-8", buffering=1)
        self._lock = threading.Lock()

    def write(self, **fields):
        """Fields: time account region service action status latency_ms request_id (+extras)."""
        line = json.dumps(fields, separators=(",", ":"), default=str)
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")

    def close(self):
        with self._lock:
            self._file.close()
