"""Which IRMA results we accept: only DONE + VALID satisfying every disjunction of the purpose, in the
shapes irmago really sends (irma/verify.go DisclosedAttributes, irma/requests.go Satisfy)."""

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
        [[attr(BSN, "999990019")], None],  # irmago's unsatisfied disjunction
        [[attr(BSN, "999990019")], [attr(NAME, None, "NULL")]],  # NULL for an attribute the purpose requires
        [[attr(BSN, "999990019")], []],  # empty, but the purpose has no empty alternative here
        [[attr(BSN, "999990019")], ["not a dict"]],
        [[attr(BSN, "999990019")], [attr(NAME, "Demo Burger", "EXTRA")]],  # EXTRA in place of a requested one
        [[attr(NAME, "Demo Burger")], [attr(BSN, "999990019")]],  # answers in the wrong disjunction
        [[attr(BSN, "999990019")], [attr(NAME, "Demo Burger")], [attr(BSN, "1", "PRESENT")]],  # 3rd list not EXTRA
        [[attr(BSN, "999990019")], [attr(NAME, "Demo Burger")], []],
        [[attr(BSN, 999990019)], [attr(NAME, "Demo Burger")]],  # a number is no raw value
        "not a list",
    ],
)
def test_incomplete_disclosures_are_rejected(disclosed):
    outcome = evaluate(result(disclosed=disclosed), PURPOSE)
    assert outcome.final and not outcome.accepted and outcome.reason == "missing_attributes"


def test_extra_attributes_come_as_one_more_list_and_are_never_stored():
    extra = [
        [attr(BSN, "999990019")],
        [attr(NAME, "Demo Burger")],
        [attr("pbdf.gemeente.personalData.dateofbirth", "01-01-1970", "EXTRA"), attr(MOBILE, "0612345678", "EXTRA")],
    ]
    outcome = evaluate(result(disclosed=extra), PURPOSE)
    assert outcome.accepted
    assert outcome.attributes == [(BSN, "999990019"), (NAME, "Demo Burger")]


def test_attributes_inside_a_requested_list_that_the_alternative_does_not_name_are_refused():
    # irmago never puts an unrequested attribute inside a requested list: such a result is not trusted
    inside = [[attr(BSN, "999990019"), attr("pbdf.gemeente.personalData.dateofbirth", "x")], [attr(NAME, "D")]]
    assert not evaluate(result(disclosed=inside), PURPOSE).accepted


FIRST, PREFIX, SURNAME = (f"pbdf.gemeente.personalData.{a}" for a in ("firstnames", "prefix", "surname"))
MOBILE = "pbdf.sidn-pbdf.mobilenumber.mobilenumber"
RICH = parse_purposes(
    json.dumps(
        {
            "rich": {
                "disclose": [
                    [[BSN]],
                    [[NAME], [FIRST, {"id": PREFIX, "optional": True}, SURNAME]],
                    [[], [MOBILE]],
                ]
            }
        }
    )
)["rich"]


def test_the_second_alternative_with_a_null_optional_attribute_and_a_skipped_optional_disjunction():
    disclosed = [
        [attr(BSN, "999990019")],
        [attr(FIRST, "Jan"), attr(PREFIX, None, "NULL"), attr(SURNAME, "Jansen")],
        [],
    ]
    outcome = evaluate(result(disclosed=disclosed), RICH)
    assert outcome.accepted
    assert outcome.attributes == [(BSN, "999990019"), (FIRST, "Jan"), (SURNAME, "Jansen")]  # no value, nothing stored


def test_an_optional_disjunction_that_was_answered_is_stored():
    disclosed = [[attr(BSN, "999990019")], [attr(NAME, "Jan Jansen")], [attr(MOBILE, "0612345678")]]
    outcome = evaluate(result(disclosed=disclosed), RICH)
    assert outcome.accepted and (MOBILE, "0612345678") in outcome.attributes


@pytest.mark.parametrize(
    "disclosed",
    [
        [[attr(BSN, "999990019")], [attr(FIRST, "Jan"), attr(PREFIX, None, "NULL")], []],  # alternative cut short
        [[attr(BSN, "999990019")], [attr(FIRST, None, "NULL"), attr(PREFIX, "van"), attr(SURNAME, "J")], []],
        [[attr(BSN, "999990019")], [attr(FIRST, "Jan"), attr(PREFIX, "null", "NULL"), attr(SURNAME, "J")], []],
        [[attr(BSN, "999990019")], [attr(NAME, "Jan Jansen")], None],  # optional, yet unsatisfied: not VALID
        [[attr(BSN, "999990019")], [attr(NAME, "Jan Jansen")]],  # the optional disjunction's answer missing
    ],
)
def test_never_fewer_than_the_purpose_requires(disclosed):
    assert not evaluate(result(disclosed=disclosed), RICH).accepted


def test_the_request_asks_required_attributes_with_not_null_and_optional_ones_plainly():
    request = disclosure_request(RICH, "+31141234567", "12345678", None, 300)
    assert request["request"]["disclose"] == [
        [[{"type": BSN, "notNull": True}]],
        [
            [{"type": NAME, "notNull": True}],
            [{"type": FIRST, "notNull": True}, PREFIX, {"type": SURNAME, "notNull": True}],
        ],
        [[], [{"type": MOBILE, "notNull": True}]],
    ]
    assert "callbackUrl" not in request  # no callback: irmago without a JWT key refuses one (501)


def test_request_has_the_tel_return_url_a_callback_and_no_augmented_return_url():
    request = disclosure_request(PURPOSE, "+31141234567", "12345678", "https://api.example/irma/callback/x", 300)
    assert request["request"]["clientReturnUrl"] == "tel:+31141234567,12345678"
    assert request["callbackUrl"] == "https://api.example/irma/callback/x"
    assert request["timeout"] == 300
    assert "augmentReturnUrl" not in request and "augmentReturnUrl" not in request["request"]
    assert request["request"]["disclose"] == [[[{"type": BSN, "notNull": True}]], [[{"type": NAME, "notNull": True}]]]


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


def test_any_of_several_keys_verifies_for_a_rotation(keys):
    private, pem, other = keys
    other_pem = (
        other.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    for signer in (private, other):
        token = jwt.encode(claims(), signer, algorithm="RS256")
        assert verify_result_jwt(token, [pem, other_pem])["token"] == "t"
        assert verify_result_jwt(token, [other_pem, pem])["token"] == "t"


def test_the_issuer_is_irmagos_configured_jwt_issuer(keys):
    private, pem, _ = keys
    token = jwt.encode(claims(iss="yivi.gemeente.example"), private, algorithm="RS256")
    assert verify_result_jwt(token, [pem], "yivi.gemeente.example")["iss"] == "yivi.gemeente.example"
    with pytest.raises(IntegrityError):
        verify_result_jwt(token, [pem])  # the default, irmaserver
    no_issuer = jwt.encode({k: v for k, v in claims().items() if k != "iss"}, private, algorithm="RS256")
    with pytest.raises(IntegrityError):
        verify_result_jwt(no_issuer, [pem])


def test_result_jwts_signed_by_another_key_or_unsigned_fail(keys):
    _, pem, other = keys
    with pytest.raises(IntegrityError):
        verify_result_jwt(jwt.encode(claims(), other, algorithm="RS256"), pem)
    with pytest.raises(IntegrityError):
        verify_result_jwt(jwt.encode(claims(), key=None, algorithm="none"), pem)
    with pytest.raises(IntegrityError):
        verify_result_jwt(jwt.encode(claims(), "shared-secret-key-material-32bytes!", algorithm="HS256"), pem)
