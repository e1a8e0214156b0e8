"""How the dev stack changes moto's classes to behave like the real AWS service: one patch per (class,
methods), installed by its first user and removed by its last, under one lock. Several dev stacks and
fixtures may nest or overlap in one process; they share the patch instead of stacking copies of it.

    with patched(DynamoHandler, ("call_action",), lambda original: {"call_action": wrap(original["call_action"])}):
        ...
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

_lock = threading.Lock()
_active: dict[tuple[type, tuple[str, ...]], tuple[int, dict[str, Any]]] = {}  # -> (users, the originals)


@contextlib.contextmanager
def patched(owner: type, names: tuple[str, ...], build: Callable[[dict[str, Any]], dict[str, Any]]) -> Iterator[None]:
    """`build(originals)` returns the replacements for `names` (it is given the methods it replaces)."""
    key = (owner, names)
    with _lock:
        users, originals = _active.get(key, (0, {}))
        if users == 0:
            originals = {name: getattr(owner, name) for name in names}
            for name, replacement in build(dict(originals)).items():
                setattr(owner, name, replacement)
        _active[key] = (users + 1, originals)
    try:
        yield
    finally:
        with _lock:
            users, originals = _active.pop(key)
            if users > 1:
                _active[key] = (users - 1, originals)
            else:
                for name, original in originals.items():
                    setattr(owner, name, original)
