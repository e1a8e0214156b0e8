"""The one source of "now", so tests can move time and every read path agrees on expiry."""

from __future__ import annotations

import time
from collections.abc import Callable

_now: Callable[[], float] = time.time


def now() -> int:
    """Current time in whole epoch seconds (the unit of `expires_at`)."""
    return int(_now())


def now_precise() -> float:
    return float(_now())


def use(source: Callable[[], float] | None) -> None:
    """Replace the time source (tests, dev stack); `None` restores the wall clock."""
    global _now
    _now = source if source is not None else time.time
