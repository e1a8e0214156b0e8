"""Abuse limits on DTMF code lookups: per calling number and per tenant, reserved atomically.

Every lookup of a code — wrong, unknown, pending, failed, already used, out of hours — counts
against two buckets, unless it redeems the code:

- **per calling number**: `IDBELLEN_RATE_LIMIT_FAILURES` (default 10, at least 5) per 10-minute window,
  keyed by a keyed hash of the normalised number. A withheld or unusable number (no `CustomerEndpoint`,
  `anonymous`, not a phone number) has **no** per-number bucket: such callers never share one, so one
  of them cannot lock out the others; they count against the tenant's bucket only.
- **per tenant**: 120 a minute, whatever the numbers (spoofed caller IDs included). The tenant is the
  call's own tenant, so one municipality's flood never touches another's bucket.

Atomic, so concurrency cannot overshoot: an answer that depends on the code is given only after a
conditional counter write committed (`failures < limit`, checked by DynamoDB in the same request
that adds one). A failed lookup is counted by one transaction over its buckets, which either adds one
to every bucket or — when any of them is full — to none (so a number refused by its own bucket never
uses up the tenant's, and a caller refused by the tenant's bucket keeps their own). A redeeming lookup
does not count; it is checked instead: the same link transaction that claims the code carries a
`ConditionCheck` on each bucket, so a blocked number cannot redeem even the right code. The lookup's
read (one BatchGetItem: the code and the buckets) happens first but reveals nothing on its own: the
caller hears only verified / not verified, and every non-`RATE_LIMITED` answer waits for that write.

No phone number is stored: a bucket key holds the keyed hash only, and every bucket item expires with
its window (`expires_at` at most 11 minutes ahead, within the hour of promise 3).
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from idbellen import codes
from idbellen.store import RATE, ConditionFailed, Store, update_op

CALLER_WINDOW_SECONDS = 600
TENANT_WINDOW_SECONDS = 60
TENANT_LOOKUPS_PER_MINUTE = 120
# A bucket item outlives its window by this much, so a late writer never finds it gone mid-window.
_GRACE_SECONDS = 60
# A reservation that keeps meeting concurrent transactions on the same bucket (TransactionConflict)
# is tried this often before the lookup is refused.
RESERVE_ATTEMPTS = 4


class LimitReached(Exception):
    """A bucket is full: the lookup is refused (`RATE_LIMITED`)."""


@dataclass(frozen=True)
class Bucket:
    pk: str
    limit: int
    expires_at: int


@dataclass(frozen=True)
class Limits:
    """The buckets one lookup counts against, in a fixed order (the per-number one first, if any)."""

    tenant: str
    buckets: tuple[Bucket, ...]

    @property
    def pks(self) -> list[str]:
        return [b.pk for b in self.buckets]

    def exhausted(self, items: Mapping[str, Mapping[str, Any]]) -> bool:
        """Whether a bucket was already full when read (refuse without writing anything)."""
        return any(int(items.get(b.pk, {}).get("failures", 0)) >= b.limit for b in self.buckets)

    def count_ops(self) -> list[dict[str, Any]]:
        """One conditional increment per bucket: applies only while the bucket is below its limit."""
        return [
            update_op(
                b.pk,
                "ADD failures :one SET expires_at = if_not_exists(expires_at, :exp), kind = :kind, tenant = :tenant",
                "attribute_not_exists(failures) OR failures < :limit",
                values={":one": 1, ":limit": b.limit, ":exp": b.expires_at, ":kind": "rate", ":tenant": self.tenant},
            )
            for b in self.buckets
        ]

    def guard_ops(self) -> list[dict[str, Any]]:
        """A check per bucket, for a transaction that redeems: it fails if a bucket is full."""
        return [
            {
                "ConditionCheck": {
                    "Key": {"pk": {"S": b.pk}},
                    "ConditionExpression": "attribute_not_exists(failures) OR failures < :limit",
                    "ExpressionAttributeValues": {":limit": {"N": str(b.limit)}},
                }
            }
            for b in self.buckets
        ]

    def refund_ops(self) -> list[dict[str, Any]]:
        """Take back one counted lookup (a pending code that the lookup's own pull made redeemable)."""
        return [
            update_op(b.pk, "ADD failures :minus", "attribute_exists(failures)", values={":minus": -1})
            for b in self.buckets
        ]

    def refused(self, reasons: Sequence[str]) -> bool:
        """Given the cancellation reasons of the bucket ops (in bucket order): was one of them full?"""
        return any(r == "ConditionalCheckFailed" for r in reasons)


def for_call(key: bytes, tenant: str, caller: str | None, now: int, per_number: int) -> Limits:
    """The buckets of a lookup from `caller` (Connect's `CustomerEndpoint.Address`, may be None)."""
    tenant_window = now // TENANT_WINDOW_SECONDS
    buckets = []
    number = codes.normalise_phone(caller or "")
    if number is not None:
        window = now // CALLER_WINDOW_SECONDS
        ref = codes.keyed_ref(key, "caller", tenant, number)
        buckets.append(
            Bucket(f"{RATE}{ref}#{window}", per_number, (window + 1) * CALLER_WINDOW_SECONDS + _GRACE_SECONDS)
        )
    buckets.append(
        Bucket(
            f"{RATE}global#{tenant}#{tenant_window}",
            TENANT_LOOKUPS_PER_MINUTE,
            (tenant_window + 1) * TENANT_WINDOW_SECONDS + _GRACE_SECONDS,
        )
    )
    return Limits(tenant, tuple(buckets))


def reserve(store: Store, limits: Limits, ops: Sequence[dict[str, Any]] = ()) -> None:
    """Count one lookup in every bucket, together with `ops` (one transaction: all or nothing).

    Raises `LimitReached` when a bucket is full (nothing was written), and re-raises `ConditionFailed`
    when one of `ops` did not apply. A transaction that only met concurrent ones (TransactionConflict)
    is tried again; if it never gets through, the lookup is refused rather than answered uncounted."""
    n = len(limits.buckets)
    for attempt in range(RESERVE_ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0.005, 0.02) * attempt)  # noqa: S311 (jitter, not a secret)
        try:
            store.transact([*limits.count_ops(), *ops])
            return
        except ConditionFailed as exc:
            reasons = exc.reasons or []
            if limits.refused(reasons[:n]):
                raise LimitReached from None
            if any(r == "ConditionalCheckFailed" for r in reasons[n:]):
                raise
            if not reasons:  # a single-request failure without reasons: treat as full, never as free
                raise LimitReached from None
    raise LimitReached
