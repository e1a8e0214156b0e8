"""The DTMF redemption, rule by rule (the fast tests of `make mutate`'s redemption group).

`tests/e2e/test_id_call.py` and the race suites prove redemption on the dev stack; these pin, against a
recording store and in milliseconds, when a code can be redeemed by a call (`_check`, `_pending`,
`_burnt`), how the calling number is compared, the exact link transaction (first redemption and a
retry's), the contact pointer, the replacement of another session on the same contact, the closed-hours
lookup, and the answers of `redeem` for the main outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from idbellen import codes, limits, redemption
from idbellen.redaction import Redactor
from idbellen.redemption import Call
from idbellen.store import ConditionFailed, delete_op, put_op, update_op

KEY = b"k" * 32
TENANT = "gemeente-a"
NOW = 10_000
CALL = Call("12345678", "contact-2", "contact-1", "+31612345678", 50.0)
DTMF_PK = "DTMF#" + codes.keyed_ref(KEY, "dtmf", TENANT, "12345678")
SECRET = "S" * 43
SECRET_PK = "SECRET#" + codes.sha256_ref(SECRET)
PHONE_HASH = codes.keyed_ref(KEY, "phone", TENANT, "+31612345678")


def code(**extra: Any) -> dict[str, Any]:
    return {
        "pk": DTMF_PK,
        "state": "disclosed",
        "session_pk": "SESSION#s1",
        "purpose": "demo",
        "disclosed_at": NOW - 60,
        "expires_at": NOW + 3000,
        **extra,
    }


class Store:
    def __init__(self, items: dict[str, dict[str, Any]] | None = None, failures: list[Exception] | None = None):
        self.items = dict(items or {})
        self.failures = list(failures or [])
        self.transactions: list[list[dict[str, Any]]] = []
        self.gets: list[tuple[str, dict[str, Any]]] = []
        self.updates: list[tuple[Any, ...]] = []
        self.later: dict[str, dict[str, Any]] | None = None  # what `get` reads, when it differs from `get_many`

    def get_many(self, pks: list[str]) -> dict[str, dict[str, Any]]:
        return {pk: self.items[pk] for pk in pks if pk in self.items}

    def get(self, pk: str, **kwargs: Any) -> dict[str, Any] | None:
        self.gets.append((pk, kwargs))
        return (self.items if self.later is None else self.later).get(pk)

    def transact(self, ops: list[dict[str, Any]]) -> None:
        self.transactions.append(ops)
        if self.failures:
            raise self.failures.pop(0)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.updates.append((args, kwargs))
        if self.failures:
            raise self.failures.pop(0)


@dataclass
class Settings:
    tenant: str = TENANT
    dtmf_length: int = 8
    rate_limit_failures: int = 10
    call_window_seconds: int = 600


@dataclass
class Svc:
    store: Store
    settings: Settings = field(default_factory=Settings)
    puller: Any = None

    def hash_key(self) -> bytes:
        return KEY


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    seen: dict[str, list[Any]] = {"count": [], "count_by": [], "audit": []}
    monkeypatch.setattr(redemption, "count", lambda *a, **k: seen["count"].append(a))
    monkeypatch.setattr(redemption, "count_by", lambda *a, **k: seen["count_by"].append((a, k)))
    monkeypatch.setattr(redemption.audit, "record", lambda *a, **k: seen["audit"].append((a, k)))
    monkeypatch.setattr(redemption.clock, "now", lambda: NOW)
    monkeypatch.setattr(redemption.codes, "new_secret", lambda: SECRET)
    # a fresh redactor: mutmut forks each mutant's run from a process that already ran every test
    monkeypatch.setattr(redemption, "redactor", Redactor())
    return seen


# --- when a code can be redeemed ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "answer"),
    [
        (None, "NOT_FOUND"),
        (code(), None),
        (code(redeemed_by="contact-1"), None),  # a retry of the same call
        (code(redeemed_by="contact-9"), "NOT_FOUND"),
        (code(pending_contacts={"a", "b"}), "NOT_FOUND"),
        (code(pending_contacts={"a"}), None),
        (code(state="pending"), "NOT_VERIFIED"),
        (code(disclosed_at=NOW - 600), None),
        (code(disclosed_at=NOW - 601), "NOT_VERIFIED"),
        ({k: v for k, v in code().items() if k != "disclosed_at"}, "NOT_VERIFIED"),
    ],
)
def test_check_says_why_a_call_cannot_redeem_a_code(item: Any, answer: str | None) -> None:
    assert redemption._check(item, CALL, 600, NOW) == answer


def test_a_code_without_a_disclosure_time_counts_from_the_epoch() -> None:
    item = {k: v for k, v in code().items() if k != "disclosed_at"}
    assert redemption._check(item, CALL, NOW, NOW) is None
    assert redemption._check(item, CALL, NOW - 1, NOW) == "NOT_VERIFIED"


@pytest.mark.parametrize(
    ("item", "pending"),
    [
        (None, False),
        (code(state="pending"), True),
        (code(), False),
        (code(state="pending", redeemed_by="contact-1"), False),
        (code(state="pending", pending_contacts={"a"}), True),
        (code(state="pending", pending_contacts={"a", "b"}), False),
        (code(state="pending", pending_contacts=None), True),
    ],
)
def test_pending_means_not_disclosed_not_redeemed_not_burnt(item: Any, pending: bool) -> None:
    assert redemption._pending(item) is pending


@pytest.mark.parametrize(
    ("caller", "hash_", "answer"),
    [
        ("+31612345678", PHONE_HASH, "true"),
        ("06 12345678", PHONE_HASH, "true"),
        ("+31612345679", PHONE_HASH, "false"),
        (None, PHONE_HASH, "false"),
        ("anonymous", PHONE_HASH, "false"),
        ("+31612345678", None, None),
        ("+31612345678", "", None),
    ],
)
def test_the_caller_matches_only_the_disclosed_mobile_numbers_keyed_hash(caller: Any, hash_: Any, answer: Any) -> None:
    item = code(mobile_hash=hash_) if hash_ is not None else code()
    assert redemption._caller_match(KEY, TENANT, item, caller) == answer


# --- the link transaction ----------------------------------------------------------------------------


def contact_op(condition: str, **extra: Any) -> dict[str, Any]:
    return update_op(
        "CONTACT#contact-1",
        "SET session_pk = :session, dtmf_pk = :dtmf, secret_pk = :secret, kind = :kind, tenant = :tenant,"
        " expires_at = :exp",
        condition,
        None,
        {
            ":session": "SESSION#s1",
            ":dtmf": DTMF_PK,
            ":secret": SECRET_PK,
            ":kind": "contact",
            ":tenant": TENANT,
            ":exp": NOW + 3000,
            **extra,
        },
    )


def link_ops(old: str | None = None, match: str = "unknown") -> list[dict[str, Any]]:
    values: dict[str, Any] = {
        ":ic": "contact-1",
        ":spk": SECRET_PK,
        ":at": 50.0,
        ":now": NOW,
        ":disclosed": "disclosed",
    }
    claim = "attribute_not_exists(redeemed_by)"
    if old:
        claim = "redeemed_by = :ic AND secret_pk = :old AND attempt_at < :at"
        values[":old"] = old
    ops = [
        update_op(
            DTMF_PK,
            "SET redeemed_by = :ic, secret_pk = :spk, attempt_at = :at, redeemed_at = :now",
            f"attribute_exists(pk) AND #state = :disclosed AND expires_at > :now AND {claim}",
            {"#state": "state"},
            values,
        ),
        put_op(
            {
                "pk": SECRET_PK,
                "kind": "secret",
                "tenant": TENANT,
                "session_pk": "SESSION#s1",
                "contact_id": "contact-2",
                "initial_contact_id": "contact-1",
                "expires_at": NOW + 3000,
            }
        ),
        contact_op("attribute_not_exists(pk) OR session_pk = :session"),
        update_op(
            "SESSION#s1",
            "SET #status = :called, secret_pk = :spk, contact_pk = :cpk, called_at = :now, caller_match = :match"
            " ADD #segments :segment",
            "attribute_exists(pk) AND expires_at > :now",
            {"#status": "status", "#segments": "segments"},
            {
                ":called": "CALLED",
                ":spk": SECRET_PK,
                ":cpk": "CONTACT#contact-1",
                ":now": NOW,
                ":match": match,
                ":segment": {"contact-2"},
            },
        ),
    ]
    if old:
        ops.append(delete_op(old))
    return ops


def test_the_first_link_claims_an_unclaimed_code(seen: Any) -> None:
    store = Store()
    redemption._link(store, TENANT, code(), CALL, SECRET, NOW, None, [{"extra": 1}])
    assert store.transactions == [[*link_ops(), {"extra": 1}]]


def test_a_retry_replaces_its_own_older_secret(seen: Any) -> None:
    store = Store()
    item = code(redeemed_by="contact-1", secret_pk="SECRET#old")
    redemption._link(store, TENANT, item, CALL, SECRET, NOW, "true")
    assert store.transactions == [link_ops(old="SECRET#old", match="true")]


def test_a_code_redeemed_by_another_call_keeps_no_old_secret(seen: Any) -> None:
    store = Store()
    redemption._link(store, TENANT, code(redeemed_by="contact-9", secret_pk="SECRET#old"), CALL, SECRET, NOW, None)
    assert store.transactions == [link_ops()]


@pytest.mark.parametrize("deadline", [None, 99.0, 100.0, 100.5])
def test_an_attempt_links_up_to_and_at_its_deadline(monkeypatch: pytest.MonkeyPatch, seen: Any, deadline: Any) -> None:
    monkeypatch.setattr(redemption.clock, "now_precise", lambda: 99.0 if deadline is None else deadline)
    store = Store()
    redemption._link(
        store, TENANT, code(), Call("12345678", "contact-2", "contact-1", None, 50.0, deadline), SECRET, NOW, None
    )
    assert len(store.transactions) == 1 and seen["count"] == []


def test_an_attempt_past_its_deadline_writes_nothing(monkeypatch: pytest.MonkeyPatch, seen: Any) -> None:
    monkeypatch.setattr(redemption.clock, "now_precise", lambda: 100.001)
    store = Store()
    with pytest.raises(redemption.TooLate):
        redemption._link(store, TENANT, code(), Call("1", "c2", "c1", None, 50.0, 100.0), SECRET, NOW, None)
    assert store.transactions == []
    assert seen["count"] == [("DtmfTooLate",)]
    with pytest.raises(redemption.TooLate, match=r"^the flow may no longer be waiting$"):
        redemption._link(store, TENANT, code(), Call("1", "c2", "c1", None, 50.0, 100.0), SECRET, NOW, None)


@pytest.mark.parametrize(
    "reasons",
    [
        ["ConditionalCheckFailed", "None", "None", "None"],
        ["None", "None", "ConditionalCheckFailed", "ConditionalCheckFailed"],
        ["None", "ConditionalCheckFailed", "ConditionalCheckFailed", "None"],
        ["None", "None", "None", "None", "ConditionalCheckFailed"],
    ],
)
def test_a_failed_link_is_raised_unless_only_the_contact_pointer_failed(reasons: list[str], seen: Any) -> None:
    store = Store(failures=[ConditionFailed(reasons)])
    with pytest.raises(ConditionFailed):
        redemption._link(store, TENANT, code(), CALL, SECRET, NOW, None)
    assert len(store.transactions) == 1 and store.gets == []


def test_a_contact_linked_to_another_session_moves_to_this_one_and_the_first_is_deleted(seen: Any) -> None:
    first = {"session_pk": "SESSION#s0", "secret_pk": "SECRET#s0", "dtmf_pk": "DTMF#s0"}
    store = Store(
        {"CONTACT#contact-1": first},
        failures=[ConditionFailed(["None", "None", "ConditionalCheckFailed", "None", "None"])],
    )
    redemption._link(store, TENANT, code(), CALL, SECRET, NOW, None, [{"guard": 1}])
    assert store.gets == [
        ("CONTACT#contact-1", {"include_expired": True, "fields": ("session_pk", "secret_pk", "dtmf_pk")})
    ]
    ops = link_ops()
    moved = contact_op("session_pk = :previous", **{":previous": "SESSION#s0"})
    assert store.transactions[1] == [
        *ops[:2],
        moved,
        *ops[3:],
        delete_op("SECRET#s0"),
        delete_op("DTMF#s0"),
        delete_op("SESSION#s0"),
        {"guard": 1},
    ]
    assert seen["audit"] == [(("deleted", TENANT, "SESSION#s0"), {"reason": "replaced", "items_deleted": 3})]
    assert seen["count"] == [("SessionsReplaced",)]
    assert seen["count_by"] == [(("SessionsDeleted",), {"reason": "replaced"})]


def test_a_first_session_with_only_its_session_item_left(seen: Any) -> None:
    store = Store(
        {"CONTACT#contact-1": {"session_pk": "SESSION#s0"}},
        failures=[ConditionFailed(["None", "None", "ConditionalCheckFailed", "None"])],
    )
    redemption._link(store, TENANT, code(), CALL, SECRET, NOW, None)
    assert store.transactions[1][4:] == [delete_op("SESSION#s0")]
    assert seen["audit"][0][1]["items_deleted"] == 1


@pytest.mark.parametrize("first", [None, {"session_pk": "SESSION#s1"}])
def test_a_contact_pointer_that_changed_meanwhile_is_a_failed_link(first: Any, seen: Any) -> None:
    items = {"CONTACT#contact-1": first} if first else {}
    store = Store(items, failures=[ConditionFailed(["None", "None", "ConditionalCheckFailed", "None"])])
    with pytest.raises(ConditionFailed) as raised:
        redemption._link(store, TENANT, code(), CALL, SECRET, NOW, None)
    assert raised.value.reasons == ["None", "None", "ConditionalCheckFailed", "None"]
    assert len(store.transactions) == 1 and seen["audit"] == []


# --- redeem ------------------------------------------------------------------------------------------


def caps() -> limits.Limits:
    return limits.for_call(KEY, TENANT, CALL.caller, NOW, 10)


def test_redeem_links_a_disclosed_code_and_answers_the_secret(seen: Any) -> None:
    store = Store({DTMF_PK: code(mobile_hash=PHONE_HASH)})
    assert redemption.redeem(Svc(store), CALL) == {
        "result": "OK",
        "session_secret": SECRET,
        "purpose": "demo",
        "caller_match": "true",
    }
    assert store.transactions == [[*link_ops(match="true"), *caps().guard_ops()]]
    assert seen["audit"] == [
        (
            ("call_linked", TENANT, "SESSION#s1"),
            {"purpose": "demo", "contact_id": "contact-2", "initial_contact_id": "contact-1", "relink": False},
        )
    ]
    assert seen["count"] == [("CallsVerified",), ("TimeFromDisclosureToCall", 60, "Seconds")]
    assert seen["count_by"] == [
        (("CallsVerified",), {"purpose": "demo"}),
        (("TimeFromDisclosureToCall", 60, "Seconds"), {"purpose": "demo"}),
        (("CallerMatchChecked",), {"result": "match"}),
    ]
    assert list(redemption.redactor._values) == ["12345678", SECRET]


def test_redeem_without_a_mobile_number_names_no_match(seen: Any) -> None:
    store = Store({DTMF_PK: code(disclosed_at=0, redeemed_by="contact-1", secret_pk="SECRET#old")})
    answer = redemption.redeem(Svc(store, Settings(call_window_seconds=NOW)), CALL)
    assert answer == {"result": "OK", "session_secret": SECRET, "purpose": "demo"}
    assert seen["audit"][0][1]["relink"] is True
    assert seen["count"] == [("CallsVerified",)]


def test_a_mismatching_caller_is_counted_as_a_mismatch(seen: Any) -> None:
    store = Store({DTMF_PK: code(mobile_hash="0" * 64)})
    assert redemption.redeem(Svc(store), CALL)["caller_match"] == "false"
    assert seen["count_by"][-1] == (("CallerMatchChecked",), {"result": "mismatch"})


@pytest.mark.parametrize("digits", ["1234567", "123456789", 12345678, "1234567a", "١٢٣٤٥٦٧٨"])
def test_invalid_input_is_answered_without_a_lookup(digits: Any, seen: Any) -> None:
    store = Store()
    assert redemption.redeem(Svc(store), Call(digits, "c2", "c1", None, 1.0)) == {"result": "INVALID_INPUT"}
    assert store.transactions == []
    assert seen["count"] == [("CallsUnverified",), ("DtmfInvalidInput",)]
    assert seen["count_by"] == [(("CallsUnverified",), {"reason": "invalid_input"})]


def test_an_unknown_code_is_counted_then_not_found(seen: Any) -> None:
    store = Store()
    assert redemption.redeem(Svc(store), CALL) == {"result": "NOT_FOUND"}
    assert store.transactions == [caps().count_ops()]
    assert seen["count"] == [("CallsUnverified",), ("DtmfNotFound",)]


def test_a_full_bucket_refuses_without_writing(seen: Any) -> None:
    bucket = caps().pks[0]
    store = Store({DTMF_PK: code(), bucket: {"failures": 10}})
    assert redemption.redeem(Svc(store), CALL) == {"result": "RATE_LIMITED"}
    assert store.transactions == []


def test_a_bucket_that_fills_while_counting_is_rate_limited(seen: Any) -> None:
    store = Store(failures=[ConditionFailed(["ConditionalCheckFailed", "None"])])
    assert redemption.redeem(Svc(store), CALL) == {"result": "RATE_LIMITED"}


def test_a_link_refused_by_a_bucket_is_rate_limited(seen: Any) -> None:
    store = Store({DTMF_PK: code()}, failures=[ConditionFailed(["None"] * 4 + ["ConditionalCheckFailed", "None"])])
    assert redemption.redeem(Svc(store), CALL) == {"result": "RATE_LIMITED"}
    assert len(store.transactions) == 1


def test_a_link_lost_to_a_newer_attempt_is_an_error_for_this_one(seen: Any) -> None:
    newer = code(redeemed_by="contact-1", secret_pk="SECRET#new", attempt_at=50.0)
    store = Store(
        {DTMF_PK: code()},
        failures=[ConditionFailed(["ConditionalCheckFailed", "None", "None", "None", "None", "None"])],
    )
    store.later = {DTMF_PK: newer}
    assert redemption.redeem(Svc(store), CALL) == {"result": "ERROR"}
    assert len(store.transactions) == 1


def test_a_link_lost_to_an_older_attempt_is_tried_again(seen: Any) -> None:
    older = code(redeemed_by="contact-1", secret_pk="SECRET#old", attempt_at=49.9)
    store = Store(
        {DTMF_PK: code()},
        failures=[ConditionFailed(["ConditionalCheckFailed", "None", "None", "None", "None", "None"])],
    )
    store.later = {DTMF_PK: older}
    assert redemption.redeem(Svc(store), CALL)["result"] == "OK"
    assert store.transactions[1][0] == link_ops(old="SECRET#old")[0]


def test_a_link_that_keeps_failing_gives_up_after_five_attempts(seen: Any) -> None:
    older = code(redeemed_by="contact-1", secret_pk="SECRET#old", attempt_at=1.0)
    failure = ["ConditionalCheckFailed", "None", "None", "None", "None", "None"]
    store = Store({DTMF_PK: code()}, failures=[ConditionFailed(failure) for _ in range(9)])
    store.later = {DTMF_PK: older}
    assert redemption.redeem(Svc(store), CALL) == {"result": "ERROR"}
    assert len(store.transactions) == 5


def test_a_link_that_fails_because_the_code_was_taken_is_counted_and_not_found(seen: Any) -> None:
    taken = code(redeemed_by="contact-9")
    store = Store(
        {DTMF_PK: code()},
        failures=[ConditionFailed(["ConditionalCheckFailed", "None", "None", "None", "None", "None"])],
    )
    store.later = {DTMF_PK: taken}
    assert redemption.redeem(Svc(store), CALL) == {"result": "NOT_FOUND"}
    assert store.transactions[1] == caps().count_ops()


# --- out of hours ------------------------------------------------------------------------------------


def test_closed_hours_mark_a_disclosed_session_closed_after_counting_the_lookup(seen: Any) -> None:
    store = Store({DTMF_PK: code()})
    assert redemption.mark_closed(Svc(store), CALL) == {"result": "OK"}
    assert list(redemption.redactor._values) == ["12345678"]
    assert store.transactions == [caps().count_ops()]
    assert store.updates == [
        (
            ("SESSION#s1", "SET #status = :closed", "attribute_exists(pk) AND #status = :disclosed"),
            {
                "names": {"#status": "status"},
                "values": {":closed": "CLOSED", ":disclosed": "DISCLOSED"},
                "returns": "NONE",
            },
        )
    ]
    assert seen["count"] == [("CallsOutsideHours",)]


@pytest.mark.parametrize(
    ("items", "failures", "answer"),
    [
        ({}, [], "NOT_FOUND"),
        ({DTMF_PK: code(pending_contacts={"a", "b"})}, [], "NOT_FOUND"),
        ({DTMF_PK: code()}, [None, ConditionFailed(["ConditionalCheckFailed"])], "NOT_FOUND"),
        ({DTMF_PK: code()}, [ConditionFailed(["ConditionalCheckFailed", "None"])], "RATE_LIMITED"),
    ],
)
def test_closed_hours_answers(items: Any, failures: list[Any], answer: str, seen: Any) -> None:
    store = Store(items)
    queue = list(failures)

    def transact(ops: list[dict[str, Any]]) -> None:
        store.transactions.append(ops)
        failure = queue.pop(0) if queue else None
        if failure is not None:
            raise failure

    def update(*args: Any, **kwargs: Any) -> None:
        store.updates.append((args, kwargs))
        failure = queue.pop(0) if queue else None
        if failure is not None:
            raise failure

    store.transact = transact  # type: ignore[method-assign]
    store.update = update  # type: ignore[method-assign]
    assert redemption.mark_closed(Svc(store), CALL) == {"result": answer}
    assert seen["count"] == []


def test_closed_hours_with_a_full_bucket_or_invalid_digits_write_nothing(seen: Any) -> None:
    store = Store({DTMF_PK: code(), caps().pks[1]: {"failures": 10_000}})
    assert redemption.mark_closed(Svc(store), CALL) == {"result": "RATE_LIMITED"}
    assert redemption.mark_closed(Svc(store), Call("1234", "c2", "c1", None, 1.0)) == {"result": "INVALID_INPUT"}
    assert store.transactions == [] and store.updates == []


def test_a_link_lost_to_an_attempt_without_a_time_is_tried_again(seen: Any) -> None:
    older = code(redeemed_by="contact-1", secret_pk="SECRET#old")
    store = Store({DTMF_PK: code()}, failures=[ConditionFailed(["ConditionalCheckFailed"] + ["None"] * 5)])
    store.later = {DTMF_PK: older}
    assert redemption.redeem(Svc(store), Call("12345678", "contact-2", "contact-1", None, 1.0))["result"] == "OK"
    assert len(store.transactions) == 2


# --- a code whose disclosure is not stored yet -------------------------------------------------------


class Puller:
    def __init__(self, answer: str = "PENDING") -> None:
        self.answer = answer
        self.pulled: list[str] = []

    def pull(self, session_pk: str) -> str:
        self.pulled.append(session_pk)
        return self.answer


def pending(**extra: Any) -> dict[str, Any]:
    return code(state="pending", **extra)


def pending_op(pull: bool, seen_before: int = 0) -> dict[str, Any]:
    values: dict[str, Any] = {":one": 1, ":contact": {"contact-1"}, ":pending": "pending", ":now": NOW}
    if seen_before:
        values[":seen"] = seen_before
    version = "pending_lookups = :seen" if seen_before else "attribute_not_exists(pending_lookups)"
    return update_op(
        DTMF_PK,
        "ADD pending_lookups :one, pending_contacts :contact" + (" SET pulled_at = :now" if pull else ""),
        f"#state = :pending AND attribute_not_exists(redeemed_by) AND expires_at > :now AND {version}",
        {"#state": "state"},
        values,
    )


def test_a_first_pending_lookup_is_counted_recorded_and_pulls(seen: Any) -> None:
    store, puller = Store({DTMF_PK: pending()}), Puller()
    assert redemption.redeem(Svc(store, puller=puller), CALL) == {"result": "NOT_VERIFIED"}
    assert store.transactions == [[*caps().count_ops(), pending_op(pull=True)]]
    assert puller.pulled == ["SESSION#s1"]
    assert seen["count"] == [("DtmfPendingLookups",), ("CallsUnverified",), ("DtmfNotVerified",)]


@pytest.mark.parametrize(("pulled_at", "pull"), [(NOW - 9, False), (NOW - 10, True), (None, True)])
def test_a_pending_code_is_pulled_at_most_every_ten_seconds(pulled_at: Any, pull: bool, seen: Any) -> None:
    item = pending(pending_lookups=2, pending_contacts={"contact-1"})
    if pulled_at is not None:
        item["pulled_at"] = pulled_at
    store, puller = Store({DTMF_PK: item}), Puller()
    assert redemption.redeem(Svc(store, puller=puller), CALL) == {"result": "NOT_VERIFIED"}
    assert store.transactions == [[*caps().count_ops(), pending_op(pull=pull, seen_before=2)]]
    assert puller.pulled == (["SESSION#s1"] if pull else [])


def test_without_a_puller_a_pending_lookup_pulls_nothing(seen: Any) -> None:
    store = Store({DTMF_PK: pending()})
    assert redemption.redeem(Svc(store), CALL) == {"result": "NOT_VERIFIED"}
    assert store.transactions == [[*caps().count_ops(), pending_op(pull=False)]]


def test_a_second_contact_looking_up_a_pending_code_burns_it(seen: Any) -> None:
    store, puller = Store({DTMF_PK: pending(pending_contacts={"contact-0"})}), Puller("DISCLOSED")
    assert redemption.redeem(Svc(store, puller=puller), CALL) == {"result": "NOT_FOUND"}
    assert puller.pulled == []
    op = pending_op(pull=False)
    assert store.transactions == [[*caps().count_ops(), op]]
    assert seen["count"] == [("DtmfPendingLookups",), ("DtmfCodesBurnt",), ("CallsUnverified",), ("DtmfNotFound",)]


def test_a_pending_lookup_over_the_limit_is_rate_limited(seen: Any) -> None:
    store = Store({DTMF_PK: pending()}, failures=[ConditionFailed(["ConditionalCheckFailed", "None", "None"])])
    assert redemption.redeem(Svc(store, puller=Puller()), CALL) == {"result": "RATE_LIMITED"}
    assert seen["count"] == [("CallsUnverified",), ("DtmfRateLimited",)]


def test_a_pending_code_that_keeps_changing_is_refused_after_four_reads(seen: Any) -> None:
    failure = ["None", "None", "ConditionalCheckFailed"]
    store = Store({DTMF_PK: pending()}, failures=[ConditionFailed(failure) for _ in range(9)])
    assert redemption.redeem(Svc(store, puller=Puller()), CALL) == {"result": "RATE_LIMITED"}
    assert len(store.transactions) == 4


def test_a_pending_code_that_changed_once_is_read_again(seen: Any) -> None:
    store = Store({DTMF_PK: pending()}, failures=[ConditionFailed(["None", "None", "ConditionalCheckFailed"])])
    assert redemption.redeem(Svc(store, puller=Puller()), CALL) == {"result": "NOT_VERIFIED"}
    assert len(store.transactions) == 2


def test_a_pull_that_finds_the_disclosure_redeems_and_refunds_the_lookup(seen: Any) -> None:
    store, puller = Store({DTMF_PK: pending()}), Puller("DISCLOSED")
    store.later = {DTMF_PK: code()}
    answer = redemption.redeem(Svc(store, puller=puller), CALL)
    assert answer == {"result": "OK", "session_secret": SECRET, "purpose": "demo"}
    assert store.gets[0] == (DTMF_PK, {})
    assert store.transactions == [
        [*caps().count_ops(), pending_op(pull=True)],
        [*link_ops(), *caps().refund_ops()],
    ]


@pytest.mark.parametrize("after", [code(redeemed_by="contact-9"), code(state="pending")])
def test_a_pull_that_does_not_make_the_code_redeemable_is_not_counted_twice(after: Any, seen: Any) -> None:
    store = Store({DTMF_PK: pending()})
    store.later = {DTMF_PK: after}
    answer = redemption.redeem(Svc(store, puller=Puller("DISCLOSED")), CALL)
    assert answer == {"result": "NOT_FOUND" if after.get("redeemed_by") else "NOT_VERIFIED"}
    assert len(store.transactions) == 1


def test_a_pulled_link_lost_to_another_call_is_not_counted_twice(seen: Any) -> None:
    store = Store({DTMF_PK: pending()})
    later = {DTMF_PK: code()}
    store.later = later
    answers: list[Exception | None] = [None, ConditionFailed(["ConditionalCheckFailed"] + ["None"] * 5)]

    def transact(ops: list[dict[str, Any]]) -> None:
        store.transactions.append(ops)
        failure = answers.pop(0)
        if failure is not None:
            later[DTMF_PK] = code(redeemed_by="contact-9")  # another call linked it meanwhile
            raise failure

    store.transact = transact  # type: ignore[method-assign]
    assert redemption.redeem(Svc(store, puller=Puller("DISCLOSED")), CALL) == {"result": "NOT_FOUND"}
    assert len(store.transactions) == 2
