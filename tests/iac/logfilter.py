"""CloudWatch Logs JSON filter patterns, evaluated against a log line (what a metric or subscription filter
on a log group would count or forward), for the subset of the syntax the template uses.

The rules, from the CloudWatch Logs User Guide ("Using filter patterns to match terms in JSON log events"):
a JSON pattern is `{ <expression> }`; a selector is `$.` followed by a dotted path (`$.a.b`); a comparison is
`<selector> = <value>` or `!=`, or `<`, `<=`, `>`, `>=` with a number; a string value is quoted or bare and
may end in (or hold) `*` as a wildcard; comparisons combine with `&&` and `||` (`&&` binds tighter) and
parentheses; `<selector> IS NULL`, `IS TRUE`, `IS FALSE`, `EXISTS` and `NOT EXISTS` test the field itself.
A line that is not a JSON object never matches a JSON pattern; a string comparison only matches a string
field (or a number written the same way); `!=` on a missing field does not match.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lp>\() | (?P<rp>\)) | (?P<and>&&) | (?P<or>\|\|)
      | (?P<op>!=|>=|<=|=|>|<)
      | (?P<sel>\$\.[A-Za-z0-9_.\[\]-]+)
      | (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<kw>IS\s+NULL|IS\s+TRUE|IS\s+FALSE|NOT\s+EXISTS|EXISTS)
      | (?P<bare>[^\s()&|"=!<>]+)
    )""",
    re.VERBOSE,
)
_MISSING = object()


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    at = 0
    text = text.rstrip()
    while at < len(text):
        m = _TOKEN.match(text, at)
        if not m or m.end() == at:
            raise ValueError(f"cannot parse filter pattern at {text[at:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        at = m.end()
    return out


def _field(doc: Any, selector: str) -> Any:
    node = doc
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", selector[2:]):
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(node, list) or index >= len(node):
                return _MISSING
            node = node[index]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return _MISSING
    return node


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compare(value: Any, op: str, raw: str, quoted: bool) -> bool:
    if value is _MISSING:
        return False
    wanted = json.loads(raw) if quoted else raw
    if op in ("<", "<=", ">", ">="):
        number = _number(wanted)
        if number is None or isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return {"<": value < number, "<=": value <= number, ">": value > number, ">=": value >= number}[op]
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        equal = False
    elif isinstance(value, int | float):
        number = _number(wanted)
        equal = number is not None and float(value) == number
    else:
        equal = fnmatchcase(value, wanted) if "*" in wanted else value == wanted
    return equal if op == "=" else not equal


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], doc: Any) -> None:
        self.tokens = tokens
        self.at = 0
        self.doc = doc

    def _peek(self) -> str:
        return self.tokens[self.at][0] if self.at < len(self.tokens) else ""

    def _take(self, kind: str) -> str:
        if self._peek() != kind:
            raise ValueError(f"expected {kind} at token {self.at} of the filter pattern")
        value = self.tokens[self.at][1]
        self.at += 1
        return value

    def expression(self) -> bool:
        result = self.conjunction()
        while self._peek() == "or":
            self._take("or")
            right = self.conjunction()
            result = result or right
        return result

    def conjunction(self) -> bool:
        result = self.term()
        while self._peek() == "and":
            self._take("and")
            right = self.term()
            result = result and right
        return result

    def term(self) -> bool:
        if self._peek() == "lp":
            self._take("lp")
            result = self.expression()
            self._take("rp")
            return result
        value = _field(self.doc, self._take("sel"))
        if self._peek() == "kw":
            keyword = " ".join(self._take("kw").split())
            return {
                "IS NULL": value is None,
                "IS TRUE": value is True,
                "IS FALSE": value is False,
                "EXISTS": value is not _MISSING,
                "NOT EXISTS": value is _MISSING,
            }[keyword]
        op = self._take("op")
        kind = self._peek()
        if kind not in ("str", "bare"):
            raise ValueError("a comparison needs a value")
        return _compare(value, op, self._take(kind), quoted=kind == "str")


def matches(pattern: str, line: str) -> bool:
    """Whether CloudWatch Logs would match this JSON filter pattern on this log line."""
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise ValueError("only JSON filter patterns ({ ... }) are supported here")
    try:
        doc = json.loads(line)
    except ValueError:
        return False
    if not isinstance(doc, dict):
        return False
    parser = _Parser(_tokens(text[1:-1]), doc)
    result = parser.expression()
    if parser.at != len(parser.tokens):
        raise ValueError("trailing tokens in the filter pattern")
    return result
