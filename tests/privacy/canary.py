"""Canary values and the scanners that look for them anywhere: text, JSON, table items.

The canaries look like real data (a valid-format BSN, a Dutch mobile number, a distinctive name with a
non-ASCII letter so JSON escaping changes it), so any structural leak — a log line, a metric, an error
body, an exception text, a table attribute — that would carry real data carries a canary instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

BSN = "999990019"  # passes the elfproef, reserved test range
FULLNAME = "Canarius Vögelaar"
MOBILE = "+31687654321"
CALLER_OTHER = "+31698765432"  # a calling number that is not the disclosed one

BSN_ATTR = "pbdf.gemeente.personalData.bsn"
NAME_ATTR = "pbdf.gemeente.personalData.fullname"
MOBILE_ATTR = "pbdf.sidn-pbdf.mobilenumber.mobilenumber"

DEMO_CREDENTIALS = {BSN_ATTR: BSN, NAME_ATTR: FULLNAME}
FULL_CREDENTIALS = {**DEMO_CREDENTIALS, MOBILE_ATTR: MOBILE}


def _phone_forms(number: str) -> list[str]:
    national = "0" + number[3:]
    return [number, number[1:], national, number[3:], quote(number), "0031" + number[3:]]


def personal_forms() -> list[str]:
    """Every spelling of the personal canaries a leak could take (raw, national, JSON- or URL-escaped)."""
    forms = [BSN, FULLNAME, "Canarius", "Vögelaar", "Vogelaar", *_phone_forms(MOBILE), *_phone_forms(CALLER_OTHER)]
    forms += [json.dumps(f)[1:-1] for f in list(forms)]
    forms += [quote(f) for f in (FULLNAME,)]
    return sorted(set(forms))


@dataclass
class Canaries:
    """Personal canaries plus the per-run values (codes, secrets, tokens) collected while flows run."""

    values: set[str] = field(default_factory=lambda: set(personal_forms()))

    def add(self, *values: object) -> None:
        for value in values:
            if isinstance(value, str) and len(value) >= 6:
                self.values.add(value)
                escaped = json.dumps(value)[1:-1]
                self.values.add(escaped)

    def find(self, text: str) -> list[str]:
        """The canaries that occur in `text`; digit canaries only as whole digit runs, also when the
        digits are grouped with spaces, dots, dashes or slashes ("1234-5678", "06 87 65 43 21")."""
        hits = find_in(text, self.values)
        grouped = _GROUPING.sub("", text)
        if grouped != text:
            hits = sorted(set(hits) | set(find_in(grouped, [v for v in self.values if _is_number(v)])))
        return hits


_GROUPING = re.compile(r"(?<=[0-9])[ .\-/](?=[0-9])")


def _is_number(value: str) -> bool:
    return value.isdigit() or (value.startswith("+") and value[1:].isdigit())


def find_in(text: str, values: Iterable[str]) -> list[str]:
    """Plain substring search per canary (fast C search, case-insensitive); digit canaries count only
    as whole digit runs, so a code never "matches" inside a longer number such as a timestamp."""
    lowered = text.lower()
    hits = []
    for value in set(values):
        needle = value.lower()
        at = lowered.find(needle)
        if at < 0:
            continue
        if not _is_number(value):
            hits.append(value)
            continue
        while at >= 0:
            before = lowered[at - 1] if at > 0 else ""
            after = lowered[at + len(needle)] if at + len(needle) < len(lowered) else ""
            if not before.isdigit() and not after.isdigit():
                hits.append(value)
                break
            at = lowered.find(needle, at + 1)
    return sorted(hits)


def flatten(value: Any) -> list[str]:
    """Every scalar inside a table item (strings, numbers, set members, nested maps/lists) as text."""
    if isinstance(value, dict):
        out: list[str] = []
        for k, v in value.items():
            out += [str(k), *flatten(v)]
        return out
    if isinstance(value, list | tuple | set | frozenset):
        return [s for v in value for s in flatten(v)]
    if isinstance(value, bytes):
        return [value.decode("latin-1")]
    return [str(value)]


def scan_items(items: list[dict[str, Any]], canaries: Canaries) -> list[tuple[str, str, list[str]]]:
    """(pk, attribute, canaries found) for every attribute of every item that holds a canary."""
    found = []
    for item in items:
        for name, value in item.items():
            for text in flatten(value):
                hits = canaries.find(text)
                if hits:
                    found.append((str(item.get("pk")), name, hits))
    return found


def unkeyed_hashes(values: Iterable[str]) -> list[str]:
    """Plain digests of guessable values: finding one in the table is as bad as the value itself."""
    import hashlib

    out = []
    for value in values:
        for algorithm in ("sha256", "sha1", "md5"):
            out.append(hashlib.new(algorithm, value.encode()).hexdigest())
    return out


class Collector:
    """Hooks the demo IRMA server so every IRMA session token and DTMF code of a run is known."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.codes_by_session: dict[str, str] = {}
        self.codes_by_client: dict[str, str] = {}  # the IRMA client token (in sessionPtr.u) -> its code
        self.tokens: list[str] = []
        self.secrets: list[str] = []
        self.session_ids: list[str] = []
        irma = stack.irma
        original = irma.start_session

        def start_session(body: dict[str, Any]) -> Any:
            session = original(body)
            self.tokens.append(session.token)
            digits = str(session.request.get("clientReturnUrl", "")).split(",", 1)[-1]
            self.codes_by_client[session.client_token] = digits
            self.codes_by_session[session.client_token] = digits
            return session

        irma.start_session = start_session

    def link(self, session_id: str, session_ptr: dict[str, Any]) -> None:
        """Remember the code of a session by its session_id (the callback URL no longer names it)."""
        client_token = str(session_ptr["u"]).rstrip("/").rsplit("/", 1)[-1]
        self.codes_by_session[session_id] = self.codes_by_client[client_token]

    def canaries(self) -> Canaries:
        result = Canaries()
        codes = list(self.codes_by_session.values())
        result.add(*codes, *self.tokens, *self.secrets, *self.session_ids, self.stack.requestor_token)
        phones = [f for f in personal_forms() if f.lstrip("+").isdigit()]
        result.values.update(unkeyed_hashes([*codes, *phones, BSN, FULLNAME]))
        return result
