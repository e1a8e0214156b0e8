"""Ops tool: add, change, disable and roll back tenants in the registry — validated before it takes effect.

    python -m idbellen.tenant_admin [--path /idbellen/prod/tenants] COMMAND ...

    validate FILE          check a tenant document (schema and references), change nothing
    put FILE               validate, then write it (a new parameter version; functions pick it up
                           within IDBELLEN_TENANTS_MAX_AGE seconds)
    list                   the tenants: id, enabled, version, display name
    show ID                one tenant's document and version
    disable ID / enable ID switch a tenant off or on (disabling checks no references: it must always work)
    rollback ID [--version N]
                           re-put an earlier version from the parameter's history (default: the one
                           before the current), validated like `put`

References checked before a write: the KMS key exists and is enabled, the processing-log group exists,
the Connect instance exists (when Connect can be asked; `--no-connect-check` skips it), and no phone
number is claimed by another tenant. `--path` defaults to IDBELLEN_TENANTS_PARAMETER_PATH; AWS access is
boto3's usual (profile, region, AWS_ENDPOINT_URL). Exit status: 0 done, 1 refused (reasons on stderr),
2 usage. Messages name fields and tenants, never document values.

Not imported by any function: it lives in the package so ops run the validation the functions run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

from idbellen import tenants
from idbellen.errors import ConfigError

STANDARD_TIER_LIMIT = 4096


@dataclass
class Checked:
    tenant: tenants.Tenant | None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class Admin:
    def __init__(self, path: str, session: Any = None, connect_check: bool = True) -> None:
        import boto3

        self.path = path.rstrip("/")
        self.session = session or boto3.session.Session()
        self.ssm = self.session.client("ssm")
        self.connect_check = connect_check

    def name(self, tenant_id: str) -> str:
        return f"{self.path}/{tenant_id}"

    def documents(self) -> dict[str, str]:
        return tenants.read_documents(self.path, self.ssm)

    # -- validation -----------------------------------------------------------------------------
    def check(self, raw: str, references: bool = True) -> Checked:
        try:
            tenant = tenants.parse(raw)
        except ConfigError as exc:
            return Checked(None, [str(exc)])
        checked = Checked(tenant)
        others = [
            parsed
            for name, doc in self.documents().items()
            if name.rsplit("/", 1)[-1] != tenant.id and (parsed := _parse_quietly(doc)) is not None
        ]
        checked.problems += tenants.conflicts([*others, tenant])
        if references:
            self._references(tenant, checked)
        return checked

    def _references(self, tenant: tenants.Tenant, checked: Checked) -> None:
        kms = self.session.client("kms")
        try:
            state = kms.describe_key(KeyId=tenant.kms_key_id)["KeyMetadata"].get("KeyState")
            if state != "Enabled":
                checked.problems.append(f"tenant {tenant.id}: kms_key_id names a key that is not enabled")
        except Exception as exc:
            checked.problems.append(f"tenant {tenant.id}: kms_key_id names no key this account can use ({_code(exc)})")
        logs = self.session.client("logs")
        try:
            groups = logs.describe_log_groups(logGroupNamePrefix=tenant.processing_log_group).get("logGroups", [])
            if not any(g.get("logGroupName") == tenant.processing_log_group for g in groups):
                checked.problems.append(f"tenant {tenant.id}: processing_log_group does not exist")
        except Exception as exc:
            checked.problems.append(f"tenant {tenant.id}: processing_log_group could not be checked ({_code(exc)})")
        if self.connect_check:
            try:
                self.session.client("connect").describe_instance(InstanceId=tenant.connect_instance_arn)
            except Exception as exc:
                if _code(exc) == "ResourceNotFoundException":
                    checked.problems.append(f"tenant {tenant.id}: connect_instance_arn names no instance")
                else:
                    checked.warnings.append(
                        f"tenant {tenant.id}: the Connect instance could not be checked ({_code(exc) or 'unreachable'})"
                    )

    # -- writes ---------------------------------------------------------------------------------
    def put(self, raw: str) -> int:
        tenant = tenants.parse(raw)
        # SSM cannot move a parameter back from Advanced to Standard
        advanced = len(raw.encode()) > STANDARD_TIER_LIMIT or self._tier(tenant.id) == "Advanced"
        tier: Literal["Advanced", "Standard"] = "Advanced" if advanced else "Standard"
        out = self.ssm.put_parameter(Name=self.name(tenant.id), Value=raw, Type="String", Overwrite=True, Tier=tier)
        return int(out.get("Version", 0))

    def _tier(self, tenant_id: str) -> str | None:
        try:
            found = self.ssm.describe_parameters(
                ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [self.name(tenant_id)]}]
            ).get("Parameters", [])
        except Exception:
            return None
        return str(found[0].get("Tier")) if found else None

    def current(self, tenant_id: str) -> tuple[str, int]:
        parameter = self.ssm.get_parameter(Name=self.name(tenant_id))["Parameter"]
        return str(parameter["Value"]), int(parameter.get("Version", 0))

    def history(self, tenant_id: str) -> list[tuple[int, str]]:
        versions: list[tuple[int, str]] = []
        kwargs: dict[str, Any] = {"Name": self.name(tenant_id), "MaxResults": 50}
        while True:
            out = self.ssm.get_parameter_history(**kwargs)
            versions += [(int(p["Version"]), str(p["Value"])) for p in out.get("Parameters", [])]
            if not out.get("NextToken"):
                return sorted(versions)
            kwargs["NextToken"] = out["NextToken"]


def _parse_quietly(raw: str) -> tenants.Tenant | None:
    try:
        return tenants.parse(raw)
    except ConfigError:
        return None


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    with open(source, encoding="utf-8") as handle:
        return handle.read()


def _report(checked: Checked, err: TextIO) -> bool:
    for warning in checked.warnings:
        err.write(f"warning: {warning}\n")
    for problem in checked.problems:
        err.write(f"refused: {problem}\n")
    return not checked.problems


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m idbellen.tenant_admin", description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", default=os.environ.get(tenants.PATH_ENV, ""), help="the registry's parameter path")
    parser.add_argument("--no-connect-check", action="store_true", help="do not ask Connect about the instance")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("validate", "put"):
        commands.add_parser(name).add_argument("file", help="the tenant document (JSON), - for stdin")
    commands.add_parser("list")
    for name in ("show", "disable", "enable"):
        commands.add_parser(name).add_argument("tenant")
    rollback = commands.add_parser("rollback")
    rollback.add_argument("tenant")
    rollback.add_argument("--version", type=int, default=None, help="the version to restore (default: the previous)")
    return parser


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    if not args.path or not tenants.PATH.match(args.path.rstrip("/")):
        err.write(f"usage: --path (or {tenants.PATH_ENV}) must be an SSM parameter path like /idbellen/prod/tenants\n")
        return 2
    admin = Admin(args.path, connect_check=not args.no_connect_check)
    command = args.command
    if command in ("validate", "put"):
        raw = _read(args.file)
        if not _report(admin.check(raw), err):
            return 1
        if command == "validate":
            out.write("valid\n")
            return 0
        out.write(f"put {tenants.parse(raw).id} version {admin.put(raw)}\n")
        return 0
    if command == "list":
        for name, raw in sorted(admin.documents().items()):
            tenant = _parse_quietly(raw)
            if tenant is None:
                out.write(f"{name.rsplit('/', 1)[-1]}\tINVALID\n")
                continue
            state = "enabled" if tenant.enabled else "disabled"
            out.write(f"{tenant.id}\t{state}\t{tenant.display_name}\n")
        return 0
    try:
        raw, version = admin.current(args.tenant)
    except Exception as exc:
        err.write(f"refused: no tenant {args.tenant!r} under {admin.path} ({_code(exc)})\n")
        return 1
    if command == "show":
        out.write(f"# version {version}\n{json.dumps(json.loads(raw), indent=2, ensure_ascii=False)}\n")
        return 0
    if command in ("disable", "enable"):
        document = json.loads(raw)
        document["enabled"] = command == "enable"
        changed = json.dumps(document, ensure_ascii=False)
        # disabling must work even when a reference is gone (a deleted key is a reason to disable)
        if not _report(admin.check(changed, references=command == "enable"), err):
            return 1
        out.write(f"{command}d {args.tenant} version {admin.put(changed)}\n")
        return 0
    # rollback
    history = admin.history(args.tenant)
    earlier = [v for v in history if v[0] < version]
    wanted = args.version if args.version is not None else (earlier[-1][0] if earlier else None)
    match = [value for number, value in history if number == wanted]
    if wanted is None or not match or wanted == version:
        err.write(f"refused: no earlier version {wanted if wanted is not None else ''} of {args.tenant} to restore\n")
        return 1
    restored = match[0]
    checked = admin.check(restored)
    if checked.tenant is not None and checked.tenant.id != args.tenant:
        checked.problems.append("the restored version names another tenant id")
    if not _report(checked, err):
        return 1
    out.write(f"rolled back {args.tenant} to version {wanted}: now version {admin.put(restored)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
