"""The dev stack's table, key and parameters, read out of ``iac/template.yaml``.

moto's CloudFormation cannot apply the SAM transform or create Connect resources, so the dev stack
provisions the stateful resources itself - from the template's own definitions, through this strict
extractor: a table or key property it does not know, a stream, an index, point-in-time recovery or
a second table makes it raise ``TemplateDrift`` instead of silently provisioning something else.
``tests/iac/test_template_resources.py`` pins the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "iac" / "template.yaml"

TABLE_PROPERTIES = frozenset(
    {
        "BillingMode",
        "AttributeDefinitions",
        "KeySchema",
        "TimeToLiveSpecification",
        "SSESpecification",
        "PointInTimeRecoverySpecification",
        "DeletionProtectionEnabled",
        "TableClass",
        "Tags",
    }
)
KEY_PROPERTIES = frozenset(
    {
        "Description",
        "EnableKeyRotation",
        "RotationPeriodInDays",
        "PendingWindowInDays",
        "KeySpec",
        "KeyUsage",
        "KeyPolicy",
        "Tags",
    }
)


class TemplateDrift(RuntimeError):
    """The template defines something the dev stack would not reproduce faithfully."""


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation short tags into their long form (`!Ref X` -> {"Ref": X})."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path | str = TEMPLATE) -> dict[str, Any]:
    """The template as plain data, short tags expanded."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateDrift(f"{path}: not a CloudFormation template")
    return data


@lru_cache(maxsize=4)
def _template(path: str) -> dict[str, Any]:
    return load_template(path)


def _only(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    found = [(k, v) for k, v in template["Resources"].items() if v.get("Type") == resource_type]
    if len(found) != 1:
        raise TemplateDrift(f"expected exactly one {resource_type}, found {len(found)}")
    return found[0]


def _literal(value: Any, where: str) -> Any:
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith(("Ref", "Fn::")):
        raise TemplateDrift(f"{where} is computed in the template; the extractor only copies literals")
    return value


def _strict(props: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = set(props) - allowed
    if unknown:
        raise TemplateDrift(f"{what} has properties the dev stack does not reproduce: {sorted(unknown)}")


def table_resource(path: Path | str = TEMPLATE) -> dict[str, Any]:
    return _only(_template(str(path)), "AWS::DynamoDB::Table")[1].get("Properties", {})


def table_kwargs(table_name: str, kms_key_id: str, path: Path | str = TEMPLATE) -> dict[str, Any]:
    """`dynamodb.create_table(**kwargs)` for the template's table."""
    props = table_resource(path)
    _strict(props, TABLE_PROPERTIES, "AWS::DynamoDB::Table")
    sse = props.get("SSESpecification") or {}
    if sse.get("SSEEnabled") is not True or sse.get("SSEType") != "KMS" or "KMSMasterKeyId" not in sse:
        raise TemplateDrift("the table must be encrypted with the customer-managed KMS key (SSE-KMS)")
    pitr = (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled", False)
    if pitr is not False:
        raise TemplateDrift("point-in-time recovery must stay off (DPIA: no backups, no copies)")
    billing = _literal(props.get("BillingMode"), "BillingMode")
    if billing != "PAY_PER_REQUEST":
        raise TemplateDrift("the table must be on-demand (PAY_PER_REQUEST)")
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": [dict(_literal(a, "AttributeDefinitions")) for a in props["AttributeDefinitions"]],
        "KeySchema": [dict(_literal(k, "KeySchema")) for k in props["KeySchema"]],
        "BillingMode": billing,
        "SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms_key_id},
        "DeletionProtectionEnabled": bool(
            _literal(props.get("DeletionProtectionEnabled", False), "DeletionProtection")
        ),
    }
    if "TableClass" in props:
        kwargs["TableClass"] = _literal(props["TableClass"], "TableClass")
    return kwargs


def ttl_kwargs(table_name: str, path: Path | str = TEMPLATE) -> dict[str, Any]:
    """`dynamodb.update_time_to_live(**kwargs)` for the template's table."""
    spec = table_resource(path).get("TimeToLiveSpecification") or {}
    if spec.get("Enabled") is not True or not isinstance(spec.get("AttributeName"), str):
        raise TemplateDrift("the table must have TTL enabled on a named attribute")
    return {
        "TableName": table_name,
        "TimeToLiveSpecification": {"Enabled": True, "AttributeName": spec["AttributeName"]},
    }


def key_resource(path: Path | str = TEMPLATE) -> dict[str, Any]:
    """The data key: the KMS key the table is encrypted with (the template has others, e.g. the
    processing log's, which the dev stack does not provision)."""
    template = _template(str(path))
    ref = (table_resource(path).get("SSESpecification") or {}).get("KMSMasterKeyId")
    if not (isinstance(ref, dict) and set(ref) == {"Fn::GetAtt"} and ref["Fn::GetAtt"][1:] == ["Arn"]):
        raise TemplateDrift("the table's KMSMasterKeyId must be !GetAtt <key>.Arn of a key in the template")
    key = template["Resources"].get(ref["Fn::GetAtt"][0]) or {}
    if key.get("Type") != "AWS::KMS::Key":
        raise TemplateDrift("the table's KMSMasterKeyId must name an AWS::KMS::Key of the template")
    return key.get("Properties", {})


def kms_key_kwargs(path: Path | str = TEMPLATE) -> dict[str, Any]:
    """`kms.create_key(**kwargs)` for the template's key (its policy names roles moto has not got)."""
    props = key_resource(path)
    _strict(props, KEY_PROPERTIES, "AWS::KMS::Key")
    return {
        "Description": f"{_literal(props.get('Description', 'idbellen'), 'Description')} (dev stack)",
        "KeySpec": _literal(props.get("KeySpec", "SYMMETRIC_DEFAULT"), "KeySpec"),
        "KeyUsage": _literal(props.get("KeyUsage", "ENCRYPT_DECRYPT"), "KeyUsage"),
    }


def key_rotation(path: Path | str = TEMPLATE) -> bool:
    """Whether the template's key rotates (then call `kms.enable_key_rotation`)."""
    return bool(_literal(key_resource(path).get("EnableKeyRotation", False), "EnableKeyRotation"))


@dataclass(frozen=True)
class SecureStringParameter:
    """An SSM SecureString ops create by hand; the template only knows its name."""

    env_var: str  # the function setting that holds its name (IDBELLEN_*_PARAM)
    template_parameter: str  # the template parameter ops set
    default_name: str  # that parameter's default


def secure_string_parameters(path: Path | str = TEMPLATE) -> list[SecureStringParameter]:
    """Every SSM parameter name a function reads, from the functions' environments: a variable
    `IDBELLEN_*_PARAM` set to `!Ref <template parameter>`. Sorted by env var."""
    template = _template(str(path))
    found: dict[str, SecureStringParameter] = {}
    envs = [((template.get("Globals") or {}).get("Function") or {}).get("Environment", {}).get("Variables", {})]
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            envs.append((resource.get("Properties") or {}).get("Environment", {}).get("Variables", {}))
    for variables in envs:
        for name, value in (variables or {}).items():
            if not (name.startswith("IDBELLEN_") and name.endswith("_PARAM")):
                continue
            if not (isinstance(value, dict) and set(value) == {"Ref"}):
                raise TemplateDrift(f"{name} must be set to !Ref of a template parameter")
            param = template.get("Parameters", {}).get(value["Ref"])
            if param is None or "Default" not in param:
                raise TemplateDrift(f"{name} refers to {value['Ref']}, which needs a Default name")
            found[name] = SecureStringParameter(name, value["Ref"], str(param["Default"]))
    return [found[k] for k in sorted(found)]


def function_environment_names(path: Path | str = TEMPLATE) -> dict[str, set[str]]:
    """Function logical id -> the IDBELLEN_* variables the template sets for it (globals included)."""
    template = _template(str(path))
    global_vars = set(
        ((template.get("Globals") or {}).get("Function") or {}).get("Environment", {}).get("Variables", {})
    )
    out: dict[str, set[str]] = {}
    for logical, resource in template["Resources"].items():
        props = resource.get("Properties") or {}
        if resource.get("Type") != "AWS::Serverless::Function" or "InlineCode" in props:
            continue
        names = global_vars | set(props.get("Environment", {}).get("Variables", {}))
        out[logical] = {n for n in names if n.startswith("IDBELLEN_")}
    return out
