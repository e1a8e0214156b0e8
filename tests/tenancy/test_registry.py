"""The tenant registry, unit by unit: the document schema, duplicates, resolution, the per-process cache
(pick-up after the max age, the last good registry on a failed reload), per-tenant settings, and the
tenant-scoped store. No AWS: a fake SSM client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from idbellen import config, runtime, tenants, wiring
from idbellen.errors import ConfigError, Unavailable, UnknownTenant
from idbellen.store import Store

ARN_A = "arn:aws:connect:eu-central-1:123456789012:instance/00000000-0000-4000-8000-00000000000a"
ARN_B = "arn:aws:connect:eu-central-1:123456789012:instance/00000000-0000-4000-8000-00000000000b"
PURPOSES = {"demo": {"label": {"nl": "Demo", "en": "Demo"}, "disclose": [[["pbdf.gemeente.personalData.bsn"]]]}}
PATH = "/idbellen/unit/tenants"


def doc(tenant: str = "alpha", **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": tenant,
        "display_name": f"Gemeente {tenant.title()}",
        "oin": "00000001001234567000",
        "enabled": True,
        "phone_numbers": ["+31141234567"],
        "connect_instance_arn": ARN_A,
        "kms_key_id": "alias/idbellen-" + tenant,
        "processing_log_group": f"/idbellen/unit/{tenant}/processing",
        "purposes": PURPOSES,
        "agents": {"idp": f"{tenant}-idp", "group": f"{tenant}-agents"},
    }
    base.update(changes)
    return base


def text(document: dict[str, Any]) -> str:
    return json.dumps(document)


# -- schema -----------------------------------------------------------------------------------------
def test_a_valid_document_parses_with_defaults() -> None:
    tenant = tenants.parse(text(doc()), "alpha")
    assert tenant.id == "alpha" and tenant.enabled and tenant.processing_log_retention == "P1Y"
    assert tenant.rate_limit_failures is None and list(tenant.purposes) == ["demo"]
    assert tenant.public() == {
        "id": "alpha",
        "display_name": "Gemeente Alpha",
        "purposes": [{"id": "demo", "label": {"nl": "Demo", "en": "Demo"}}],
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "Alpha!"}, "id must match"),
        ({"display_name": ""}, "display_name"),
        ({"oin": "0000"}, "oin"),
        ({"enabled": "yes"}, "enabled"),
        ({"phone_numbers": []}, "phone_numbers"),
        ({"phone_numbers": ["0141234567"]}, "phone_numbers"),
        ({"phone_numbers": ["+31141234567", "+31141234567"]}, "phone_numbers"),
        ({"connect_instance_arn": "arn:aws:connect:eu-central-1:1:instance/x"}, "connect_instance_arn"),
        ({"kms_key_id": "my key"}, "kms_key_id"),
        ({"processing_log_group": "has space"}, "processing_log_group"),
        ({"processing_log_retention": "1 year"}, "processing_log_retention"),
        ({"purposes": {}}, "purposes"),
        ({"purposes": {"demo": {"disclose": [[["not-an-attribute"]]]}}}, "purposes[demo].disclose"),
        ({"agents": {}}, "agents must name a group or a scope"),
        ({"agents": {"group": "g", "idp": "has space"}}, "agents.idp"),
        ({"agents": {"group": "g", "role": "x"}}, "agents must be an object"),
        ({"rate_limit_failures": 4}, "rate_limit_failures"),
        ({"rate_limit_failures": True}, "rate_limit_failures"),
        ({"color": "blue"}, "unknown fields"),
    ],
)
def test_invalid_documents_are_refused_naming_the_field_not_the_value(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        tenants.parse(text(doc(**changes)), "alpha")
    assert message in str(raised.value)
    for value in changes.values():
        if isinstance(value, str) and len(value) > 3:
            assert value not in str(raised.value)


def test_the_id_must_be_the_parameter_name_and_json_must_be_an_object() -> None:
    with pytest.raises(ConfigError, match="last segment"):
        tenants.parse(text(doc()), "beta")
    for raw in ("not json", "[]", "null"):
        with pytest.raises(ConfigError):
            tenants.parse(raw, "alpha")


# -- the registry -----------------------------------------------------------------------------------
def registry(*documents: dict[str, Any], default: str = "") -> tenants.Registry:
    return tenants.build({f"{PATH}/{d['id']}": text(d) for d in documents}, default)


def test_invalid_and_double_claimed_documents_are_skipped_alone() -> None:
    built = tenants.build(
        {
            f"{PATH}/alpha": text(doc("alpha")),
            f"{PATH}/beta": text(doc("beta", phone_numbers=["+31141234567"])),  # alpha's number
            f"{PATH}/gamma": text(doc("gamma", oin="x")),
            f"{PATH}/delta": text(doc("delta", phone_numbers=["+31143456789"])),
        }
    )
    assert list(built.tenants) == ["alpha", "delta"]
    assert sorted(built.invalid) == sorted(["beta", f"{PATH}/gamma"])
    assert tenants.conflicts([tenants.parse(text(doc("alpha"))), tenants.parse(text(doc("beta")))]) == [
        "a phone number of tenant beta is already claimed by tenant alpha"
    ]


def test_resolution_by_instance_and_dialled_number() -> None:
    built = registry(
        doc("alpha"),
        doc("beta", phone_numbers=["+31142345678"]),  # shares alpha's instance
        doc("gamma", phone_numbers=["+31143456789"], connect_instance_arn=ARN_B),
        doc("delta", phone_numbers=["+31144567890"], connect_instance_arn=ARN_B, enabled=False),
    )
    assert built.for_call(ARN_A, "+31141234567").id == "alpha"  # type: ignore[union-attr]
    assert built.for_call(ARN_A, "+31142345678").id == "beta"  # type: ignore[union-attr]
    assert built.for_call(ARN_A, "+31143456789") is None  # gamma's number, but not gamma's instance
    assert built.for_call(ARN_A, None) is None
    assert built.for_call(ARN_B, "+31149999999").id == "gamma"  # type: ignore[union-attr]  # its only enabled one
    assert built.for_call(ARN_B, "+31144567890", include_disabled=True).id == "delta"  # type: ignore[union-attr]
    assert built.for_call("arn:aws:connect:eu-central-1:123456789012:instance/other", "+31141234567") is None
    assert [t.id for t in built.for_instance(ARN_B)] == ["delta", "gamma"]
    assert [t.id for t in built.enabled()] == ["alpha", "beta", "gamma"]


def test_the_default_tenant_is_the_environment_one_else_the_first() -> None:
    assert registry(doc("alpha"), doc("beta", phone_numbers=["+31142345678"]), default="beta").default_id == "beta"
    assert registry(doc("alpha"), doc("beta", phone_numbers=["+31142345678"]), default="zeta").default_id == "alpha"


# -- the per-process cache --------------------------------------------------------------------------
class FakeSsm:
    def __init__(self) -> None:
        self.documents: dict[str, str] = {}
        self.calls = 0
        self.fail = False

    def get_parameters_by_path(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        if self.fail:
            raise RuntimeError("throttled")
        assert kwargs["Path"] == PATH and kwargs["Recursive"] is False
        names = sorted(self.documents)
        start = int(kwargs.get("NextToken", 0))
        page = names[start : start + kwargs["MaxResults"]]
        out: dict[str, Any] = {"Parameters": [{"Name": n, "Value": self.documents[n]} for n in page]}
        if start + len(page) < len(names):
            out["NextToken"] = str(start + len(page))
        return out


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSsm]:
    from idbellen import aws

    fake = FakeSsm()
    now = [100.0]
    monkeypatch.setattr(tenants, "clock", lambda: now[0])
    monkeypatch.setattr(aws, "client", lambda service: fake)
    monkeypatch.setenv(tenants.PATH_ENV, PATH)
    monkeypatch.setenv(tenants.MAX_AGE_ENV, "60")
    monkeypatch.setenv("IDBELLEN_TENANT", "alpha")
    monkeypatch.setenv("IDBELLEN_TABLE", "table")
    monkeypatch.setenv("IDBELLEN_HASH_KEY_PARAM", "/hash")
    monkeypatch.setenv("IDBELLEN_RATE_LIMIT_FAILURES", "10")
    monkeypatch.delenv("IDBELLEN_VERIFY_AGENT", raising=False)
    fake.now = now  # type: ignore[attr-defined]
    runtime.reset()
    yield fake
    runtime.reset()


def put(fake: FakeSsm, document: dict[str, Any]) -> None:
    fake.documents[f"{PATH}/{document['id']}"] = text(document)


def test_no_path_means_single_tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(tenants.PATH_ENV, raising=False)
    assert tenants.registry() is None
    monkeypatch.setenv(tenants.PATH_ENV, "not a path")
    with pytest.raises(ConfigError):
        tenants.registry()


def test_loaded_once_per_max_age_and_changes_picked_up_after_it(ssm: FakeSsm) -> None:
    put(ssm, doc("alpha"))
    assert list(tenants.registry().tenants) == ["alpha"]  # type: ignore[union-attr]
    put(ssm, doc("beta", phone_numbers=["+31142345678"]))
    ssm.now[0] += 59  # type: ignore[attr-defined]
    assert list(tenants.registry().tenants) == ["alpha"]  # type: ignore[union-attr]
    assert ssm.calls == 1  # warm: no SSM call
    ssm.now[0] += 2  # type: ignore[attr-defined]
    assert list(tenants.registry().tenants) == ["alpha", "beta"]  # type: ignore[union-attr]
    assert ssm.calls == 2


def test_many_tenants_are_read_page_by_page(ssm: FakeSsm) -> None:
    for n in range(23):
        put(ssm, doc(f"t{n:02d}", phone_numbers=[f"+311410000{n:02d}"]))
    assert len(tenants.registry().tenants) == 23  # type: ignore[union-attr]
    assert ssm.calls == 3


def test_a_failed_reload_keeps_the_last_good_registry_and_none_at_all_fails_closed(ssm: FakeSsm) -> None:
    ssm.fail = True
    with pytest.raises(Unavailable):
        tenants.registry()
    ssm.fail = False
    put(ssm, doc("alpha"))
    assert list(tenants.registry().tenants) == ["alpha"]  # type: ignore[union-attr]
    ssm.fail = True
    ssm.now[0] += 61  # type: ignore[attr-defined]
    assert list(tenants.registry().tenants) == ["alpha"]  # type: ignore[union-attr]


# -- per-tenant services ----------------------------------------------------------------------------
def test_services_per_tenant_with_the_tenant_overrides(ssm: FakeSsm) -> None:
    put(ssm, doc("alpha", rate_limit_failures=7))
    put(ssm, doc("beta", phone_numbers=["+31142345678", "+31142345679"], enabled=False, oin="00000001009999999000"))
    alpha, beta = wiring.services("alpha"), wiring.services("beta")
    assert wiring.services() is alpha  # the default tenant
    assert wiring.services("alpha") is alpha  # cached per process
    assert alpha.settings.tenant == "alpha" and alpha.settings.rate_limit_failures == 7
    assert alpha.settings.kms_key_id == "alias/idbellen-alpha" and alpha.settings.verify_agent
    assert alpha.settings.agent_idp == "alpha-idp" and alpha.settings.agent_group == "alpha-agents"
    assert alpha.settings.table == "table"  # shared settings stay
    assert beta.settings.phone_number == "+31142345678" and beta.settings.controller_oin == "00000001009999999000"
    assert beta.settings.rate_limit_failures == 10  # the shared default
    assert alpha.store.tenant == "alpha" and beta.store.tenant == "beta"
    with pytest.raises(UnknownTenant):
        wiring.services("beta", include_disabled=False)
    with pytest.raises(UnknownTenant):
        wiring.services("gamma")
    # a changed document makes new services once picked up
    put(ssm, doc("alpha", rate_limit_failures=9))
    ssm.now[0] += 61  # type: ignore[attr-defined]
    assert wiring.services("alpha").settings.rate_limit_failures == 9


def test_items_of_a_tenant_no_longer_registered_are_still_handled(ssm: FakeSsm) -> None:
    put(ssm, doc("alpha"))
    orphan = wiring.for_stored("gone")
    assert orphan.settings.tenant == "gone" and orphan.store.tenant == "gone"
    assert wiring.settings_for("gone") == (config.settings(), False)
    settings, registered = wiring.settings_for("alpha")
    assert registered and settings.processing_log_group == "/idbellen/unit/alpha/processing"


def test_single_tenant_services_are_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(tenants.PATH_ENV, raising=False)
    monkeypatch.setenv("IDBELLEN_TENANT", "solo")
    monkeypatch.setenv("IDBELLEN_TABLE", "table")
    monkeypatch.setenv("IDBELLEN_HASH_KEY_PARAM", "/hash")
    runtime.reset()
    try:
        assert wiring.services().settings == config.settings()
        assert wiring.services("solo") is wiring.services()
        with pytest.raises(UnknownTenant):
            wiring.services("other")
    finally:
        runtime.reset()


# -- the tenant-scoped store ------------------------------------------------------------------------
def test_another_tenant_item_is_absent_in_a_scoped_store() -> None:
    store = Store("table", "alpha")
    assert store.mine({"pk": "x", "tenant": "alpha"}) == {"pk": "x", "tenant": "alpha"}
    assert store.mine({"pk": "x", "tenant": "beta"}) is None
    assert store.mine({"pk": "x"}) == {"pk": "x"}  # items without a tenant (none we write)
    assert Store("table", "alpha", scoped=False).mine({"pk": "x", "tenant": "beta"}) == {"pk": "x", "tenant": "beta"}
