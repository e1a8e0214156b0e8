"""Per-process caches (settings, clients, parameters) and the one switch that empties them.

A Lambda execution environment keeps these for its lifetime; `reset()` is what a cold start does, so
the dev stack and tests can start a fresh environment inside one Python process.
"""

from __future__ import annotations

from collections.abc import Callable

_resets: list[Callable[[], None]] = []


def on_reset(fn: Callable[[], None]) -> Callable[[], None]:
    _resets.append(fn)
    return fn


def reset() -> None:
    from idbellen import config  # local: config registers nothing, but is cached

    config.settings.cache_clear()
    for fn in _resets:
        fn()
