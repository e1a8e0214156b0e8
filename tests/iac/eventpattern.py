"""A small matcher for the EventBridge event-pattern subset the template uses.

Supported: nested objects, lists of exact string/number values, `$or` (a list of sub-patterns),
`{"prefix": ...}` and `{"exists": bool}`. Anything else raises, so a pattern that grows beyond this
subset fails its test instead of being matched wrongly.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


def _value_matches(rule: Any, value: Any) -> bool:
    if isinstance(rule, dict):
        if set(rule) == {"prefix"}:
            return isinstance(value, str) and value.startswith(rule["prefix"])
        if set(rule) == {"exists"}:
            return (value is not _MISSING) is bool(rule["exists"])
        raise NotImplementedError(f"pattern operator not supported here: {sorted(rule)}")
    if value is _MISSING:
        return False
    values = value if isinstance(value, list) else [value]
    return any(v == rule for v in values)


def matches(pattern: dict[str, Any], event: Any) -> bool:
    if not isinstance(pattern, dict):
        raise ValueError("a pattern is an object")
    for key, rule in pattern.items():
        if key == "$or":
            if not isinstance(rule, list) or not rule:
                raise ValueError("$or takes a non-empty list")
            if not any(matches(alternative, event) for alternative in rule):
                return False
            continue
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(rule, dict):
            if value is _MISSING or not isinstance(value, dict):
                return False
            if not matches(rule, value):
                return False
        elif isinstance(rule, list):
            if not rule:
                raise ValueError(f"empty match list for {key}")
            if not any(_value_matches(r, value) for r in rule):
                return False
        else:
            raise ValueError(f"pattern values are lists or objects, not {type(rule).__name__} ({key})")
    return True
