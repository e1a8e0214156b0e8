"""Which IRMA results are accepted, outcome by outcome and exactly (part of `make mutate`'s irma group). The
unit suite (`tests/unit/test_irma_results.py`) proves the acceptance rule on irmago's shapes; these tests
pin the whole `Outcome` of each case, so a rejected result can never carry `accepted=None`, a truncated or
invented proof status, or the wrong reason, and a disjunction's second alternative is still tried after
the first fails."""

from __future__ import annotations

import json
from typing import Any

import pytest
from idbellen import irma
from idbellen.config import parse_purposes
from idbellen.irma import Outcome, evaluate

BSN, NAME, MOBILE = (
    "pbdf.gemeente.personalData.bsn",
    "pbdf.gemeente.personalData.fullname",
    "pbdf.sidn-pbdf.mobilenumber.mobilenumber",
)
PURPOSE = parse_purposes(
    json.dumps({"demo": {"disclose": [[[BSN]], [[NAME]]], "label": {"nl": "Demo", "en": "Demo"}}})
)["demo"]
EITHER = parse_purposes(json.dumps({"either": {"disclose": [[[BSN], [MOBILE]]], "label": {"nl": "Een", "en": "One"}}}))[
    "either"
]


def attr(attr_id: str, value: str | None, status: str = "PRESENT") -> dict[str, Any]:
    return {"id": attr_id, "rawvalue": value, "value": {"": value}, "status": status}


def result(status: Any = "DONE", proof: Any = "VALID", disclosed: Any = None) -> dict[str, Any]:
    return {
        "status": status,
        "proofStatus": proof,
        "disclosed": disclosed if disclosed is not None else [[attr(BSN, "999990019")], [attr(NAME, "Demo Burger")]],
    }


def test_accepted_is_exactly_final_accepted_with_the_values_and_the_proof() -> None:
    assert evaluate(result(), PURPOSE) == Outcome(
        True, True, "accepted", [(BSN, "999990019"), (NAME, "Demo Burger")], "VALID"
    )


@pytest.mark.parametrize("status", ["INITIALIZED", "PAIRING", "CONNECTED", None, "done"])
def test_a_session_still_running_is_exactly_pending(status: Any) -> None:
    assert evaluate(result(status=status), PURPOSE) == Outcome(False, False, "pending", [], "")


@pytest.mark.parametrize(("status", "reason"), [("CANCELLED", "cancelled"), ("TIMEOUT", "timeout")])
def test_a_session_that_ended_without_a_proof_is_exactly_rejected(status: str, reason: str) -> None:
    assert evaluate(result(status=status), PURPOSE) == Outcome(True, False, reason, [], "")


@pytest.mark.parametrize(
    ("proof", "kept"),
    [("INVALID", "INVALID"), (None, ""), ("", ""), ("X" * 40, "X" * 32), (7, "7")],
)
def test_a_bad_proof_is_exactly_rejected_with_at_most_32_characters_of_its_status(proof: Any, kept: str) -> None:
    assert evaluate(result(proof=proof), PURPOSE) == Outcome(True, False, "invalid_proof", [], kept)


def test_a_missing_proof_status_is_an_invalid_proof_with_an_empty_status() -> None:
    raw = result()
    del raw["proofStatus"]
    assert evaluate(raw, PURPOSE) == Outcome(True, False, "invalid_proof", [], "")


@pytest.mark.parametrize(
    "disclosed",
    [
        "not a list",
        [[attr(BSN, "1")]],  # one disjunction short
        [[attr(BSN, "1")], None],  # an unsatisfied disjunction
        [[attr(BSN, "1")], [attr(BSN, "1")]],  # the wrong attribute for the second
    ],
)
def test_an_incomplete_disclosure_is_exactly_missing_attributes(disclosed: Any) -> None:
    assert evaluate(result(disclosed=disclosed), PURPOSE) == Outcome(True, False, "missing_attributes", [], "VALID")


def test_the_second_alternative_of_a_disjunction_is_tried_when_the_first_does_not_fit() -> None:
    # both alternatives have one attribute: the answer names the second one
    assert evaluate(result(disclosed=[[attr(MOBILE, "+31612345678")]]), EITHER) == Outcome(
        True, True, "accepted", [(MOBILE, "+31612345678")], "VALID"
    )
    # the first alternative's attribute present but not PRESENT: the second is tried, and fails too
    assert evaluate(result(disclosed=[[attr(BSN, None, "NULL")]]), EITHER).reason == "missing_attributes"


def test_number_means_a_json_number_not_a_boolean_or_text() -> None:
    assert irma._number(5) and irma._number(1.5)
    assert not irma._number(True)
    assert not irma._number("5")
    assert not irma._number(None)


# -- the result JWT: times against idbellen's clock, exact boundaries, exact refusals ------------------------
@pytest.fixture(scope="module")
def signer() -> tuple[Any, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, pem.decode()


def _jwt(private: Any, **claims: Any) -> str:
    import jwt

    return jwt.encode({k: v for k, v in claims.items() if v is not None}, private, algorithm="RS256")


@pytest.fixture
def at() -> Any:
    from idbellen import clock

    def stand(epoch: int) -> None:
        clock.use(lambda: epoch)

    yield stand
    clock.use(None)


@pytest.mark.parametrize("now", [1_000_000_000, 2_000_000_000])  # 2001 and 2033: far from the wall clock
def test_jwt_times_are_judged_by_idbellens_clock_not_the_wall_clock(signer: Any, at: Any, now: int) -> None:
    private, pem = signer
    at(now)
    token = _jwt(private, iss="irmaserver", sub="disclosing_result", iat=now, exp=now + 120, token="t")
    assert irma.verify_result_jwt(token, pem)["token"] == "t"


def test_jwt_time_boundaries_are_exact(signer: Any, at: Any) -> None:
    private, pem = signer
    now, leeway = 1_900_000_000, irma.JWT_LEEWAY
    at(now)

    def verify(iat: Any, exp: Any) -> None:
        irma.verify_result_jwt(_jwt(private, iss="irmaserver", sub="disclosing_result", iat=iat, exp=exp), pem)

    verify(now - 200, now - leeway)  # expired exactly the leeway ago: still accepted
    verify(now + leeway, now + 300)  # issued exactly the leeway ahead: still accepted
    verify(now - 10, now)  # expiring this second: accepted
    for iat, exp in ((now - 200, now - leeway - 1), (now + leeway + 1, now + 300), ("x", now + 60), (now, "y")):
        with pytest.raises(irma.IntegrityError, match=r"^result JWT expired or not yet valid$"):
            verify(iat, exp)


def test_jwt_refusals_say_which_check_failed(signer: Any, at: Any) -> None:
    private, pem = signer
    at(1_900_000_000)
    with pytest.raises(irma.IntegrityError, match=r"^result JWT failed verification$"):
        irma.verify_result_jwt("not.a.jwt", pem)
    wrong = _jwt(private, iss="irmaserver", sub="something_else", iat=1_900_000_000, exp=1_900_000_100)
    with pytest.raises(irma.IntegrityError, match=r"^result JWT has the wrong subject$"):
        irma.verify_result_jwt(wrong, pem)
    for missing in ("exp", "iat", "iss"):
        claims = {"iss": "irmaserver", "sub": "disclosing_result", "iat": 1_900_000_000, "exp": 1_900_000_100}
        claims[missing] = None
        with pytest.raises(irma.IntegrityError):
            irma.verify_result_jwt(_jwt(private, **claims), pem)


@pytest.mark.parametrize("missing", ["exp", "iat", "iss", "sub"])
def test_a_jwt_without_a_required_claim_fails_verification_itself(signer: Any, at: Any, missing: str) -> None:
    """PyJWT's `require` refuses it, before our own subject and time checks would (with other words)."""
    private, pem = signer
    at(1_900_000_000)
    claims: dict[str, Any] = {"iss": "irmaserver", "sub": "disclosing_result", "iat": 1_900_000_000}
    claims["exp"] = 1_900_000_100
    claims[missing] = None
    with pytest.raises(irma.IntegrityError, match=r"^result JWT failed verification$"):
        irma.verify_result_jwt(_jwt(private, **claims), pem)
