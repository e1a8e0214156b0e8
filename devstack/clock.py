"""A clock that runs with real time but can be moved forward, shared by the handlers and the demo
IRMA server so expiry can be tested to the second without sleeping."""

from __future__ import annotations

import threading
import time


class MovableClock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def set(self, epoch_seconds: float) -> None:
        with self._lock:
            self._offset = epoch_seconds - time.time()
