"""The buckets a lookup counts against (`idbellen.limits.for_call`): keys, limits, expiry."""

from __future__ import annotations

import hashlib

import pytest
from idbellen import limits

KEY = b"k" * 32
NOW = 1_796_000_000 + 7  # 7 s into a minute, somewhere in a 10-minute window


def test_a_usable_number_has_its_own_bucket_and_the_tenants() -> None:
    caps = limits.for_call(KEY, "default", "+31612345678", NOW, 10)
    number, tenant = caps.buckets
    assert number.limit == 10 and tenant.limit == limits.TENANT_LOOKUPS_PER_MINUTE
    assert tenant.pk == f"RATE#global#default#{NOW // 60}"
    assert number.pk.endswith(f"#{NOW // 600}")
    # keyed hash only: neither the number nor a plain hash of it
    for form in ("+31612345678", "31612345678", "0612345678", "612345678"):
        assert form not in number.pk
        assert hashlib.sha256(form.encode()).hexdigest() not in number.pk


def test_every_spelling_of_a_number_is_the_same_bucket() -> None:
    pks = {
        limits.for_call(KEY, "default", n, NOW, 10).buckets[0].pk
        for n in ("+31612345678", "0612345678", "0031612345678", "06 12 34 56 78")
    }
    assert len(pks) == 1


@pytest.mark.parametrize("caller", [None, "", "anonymous", "Restricted", "+", "0000", "sip:x@y"])
def test_withheld_or_unusable_numbers_get_no_per_number_bucket(caller: str | None) -> None:
    caps = limits.for_call(KEY, "default", caller, NOW, 10)
    assert [b.pk for b in caps.buckets] == [f"RATE#global#default#{NOW // 60}"]


def test_tenants_never_share_a_bucket() -> None:
    a = limits.for_call(KEY, "default", "+31612345678", NOW, 10)
    b = limits.for_call(KEY, "othertown", "+31612345678", NOW, 10)
    assert not set(a.pks) & set(b.pks)


def test_buckets_expire_within_the_hour_after_their_window() -> None:
    number, tenant = limits.for_call(KEY, "default", "+31612345678", NOW, 10).buckets
    assert NOW < number.expires_at <= (NOW // 600 + 1) * 600 + 60 <= NOW + 3600
    assert NOW < tenant.expires_at <= (NOW // 60 + 1) * 60 + 60


def test_exhausted_reads_every_bucket() -> None:
    caps = limits.for_call(KEY, "default", "+31612345678", NOW, 10)
    number, tenant = caps.pks
    assert not caps.exhausted({})
    assert not caps.exhausted({number: {"failures": 9}, tenant: {"failures": 119}})
    assert caps.exhausted({number: {"failures": 10}})
    assert caps.exhausted({tenant: {"failures": 120}})


def test_refused_means_a_bucket_condition_failed_not_a_conflict() -> None:
    caps = limits.for_call(KEY, "default", "+31612345678", NOW, 10)
    assert caps.refused(["None", "ConditionalCheckFailed"])
    assert not caps.refused(["TransactionConflict", "None"])
