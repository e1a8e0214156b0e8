"""Which IRMA results we accept: only DONE + VALID with every requested attribute present."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from idbellen.config import parse_purposes
from idbellen.errors import IntegrityError
from idbellen.irma import disclosure_request, evaluate, mobile_numbers, verify_result_jwt

BSN, NAME = "pbdf.gemeente.personalData.bsn", "pbdf.gemeente.personalData.fullname"
PURPOSE = parse_purposes(
    json.dumps({"demo": {"disclose": [[[BSN]], [[NAME]]], "label": {"nl": "Demo", "en": "Demo"}}})
)["demo"]


def attr(attr_id, value, status="PRESENT"):
    return {"id": attr_id, "rawvalue": value, "value": {"": value}, "status": status}


def result(status="DONE", proof="VALID", disclosed=None):
    return {
        "status": status,
        "proofStatus": proof,
        "disclosed": disclosed if disclosed is not None else [[attr(BSN, "999990019")], [attr(NAME, "Demo Burger")]],
    }


def test_done_and_valid_is_accepted_with_raw_values():
    outcome = evaluate(result(), PURPOSE)
    assert outcome.accepted and outcome.final
    assert outcome.attributes == [(BSN, "999990019"), (NAME, "Demo Burger")]


@pytest.mark.parametrize(
    "proof", ["INVALID", "INVALID_TIMESTAMP", "UNMATCHED_REQUEST", "MISSING_ATTRIBUTES", "EXPIRED", None]
)
def test_a_bad_proof_is_final_and_rejected_even_though_status_is_done(proof):
    outcome = evaluate(result(proof=proof), PURPOSE)
    assert outcome.final and not outcome.accepted and outcome.reason == "invalid_proof"


@pytest.mark.parametrize(("status", "reason"), [("CANCELLED", "cancelled"), ("TIMEOUT", "timeout")])
def test_cancelled_and_timed_out_sessions_fail(status, reason):
    outcome = evaluate(result(status=status), PURPOSE)
    assert outcome.final and not outcome.accepted and outcome.reason == reason


@pytest.mark.parametrize("status", ["INITIALIZED", "PAIRING", "CONNECTED", None, "garbage"])
def test_unfinished_sessions_keep_waiting(status):
    assert not evaluate(result(status=status), PURPOSE).final


@pytest.mark.parametrize(
    "disclosed",
    [
        [[attr(BSN, "999990019")]],  # a whole disjunction missing
        [[attr(BSN, "999990019")], [attr(NAME, None, "NULL")]],
        [[attr(BSN, "999990019")], []],
        [[attr(BSN, "999990019")], ["not a dict"]],
        "not a list",
    ],
)
def test_incomplete_disclosures_are_rejected(disclosed):
    outcome = evaluate(result(disclosed=disclosed), PURPOSE)
    assert outcome.final and not outcome.accepted and outcome.reason == "missing_attributes"


def test_attributes_the_purpose_did_not_ask_for_are_dropped():
    extra = [
        [attr(BSN, "999990019"), attr("pbdf.gemeente.personalData.dateofbirth", "01-01-1970")],
        [attr(NAME, "Demo Burger")],
    ]
    outcome = evaluate(result(disclosed=extra), PURPOSE)
    assert outcome.accepted
    assert [a for a, _ in outcome.attributes] == [BSN, NAME]


def test_request_has_the_tel_return_url_a_callback_and_no_augmented_return_url():
    request = disclosure_request(PURPOSE, "+31141234567", "12345678", "https://api.example/irma/callback/x", 300)
    assert request["request"]["clientReturnUrl"] == "tel:+31141234567,12345678"
    assert request["callbackUrl"] == "https://api.example/irma/callback/x"
    assert request["timeout"] == 300
    assert "augmentReturnUrl" not in request and "augmentReturnUrl" not in request["request"]
    assert request["request"]["disclose"] == PURPOSE.disclose


def test_mobile_numbers_are_found_by_attribute_type():
    assert mobile_numbers([("pbdf.sidn-pbdf.mobilenumber.mobilenumber", "0612345678"), (BSN, "1")]) == ["0612345678"]


@pytest.fixture(scope="module")
def keys():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return private, pem.decode(), other


def claims(**overrides):
    now = int(time.time())
    return {"iss": "irmaserver", "sub": "disclosing_result", "iat": now, "exp": now + 60, "token": "t", **overrides}


def test_a_signed_result_jwt_verifies(keys):
    private, pem, _ = keys
    assert verify_result_jwt(jwt.encode(claims(), private, algorithm="RS256"), pem)["token"] == "t"


@pytest.mark.parametrize(
    "bad",
    [
        {"iss": "someone"},
        {"sub": "signature_result"},
        {"exp": int(time.time()) - 3600},
    ],
)
def test_result_jwts_with_wrong_claims_fail(keys, bad):
    private, pem, _ = keys
    with pytest.raises(IntegrityError):
        verify_result_jwt(jwt.encode(claims(**bad), private, algorithm="RS256"), pem)


def test_result_jwts_signed_by_another_key_or_unsigned_fail(keys):
    _, pem, other = keys
    with pytest.raises(IntegrityError):
        verify_result_jwt(jwt.encode(claims(), other, algorithm="RS256"), pem)
    with pytest.raises(IntegrityError):
        verify_result_jwt(jwt.encode(claims(), key=None, algorithm="none"), pem)
    with pytest.raises(IntegrityError):
        verify_result_jwt(jwt.encode(claims(), "shared-secret-key-material-32bytes!", algorithm="HS256"), pem)
