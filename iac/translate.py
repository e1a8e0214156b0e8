"""Apply the SAM transform offline and print the resulting CloudFormation template (JSON).

Runs in the aws-sam-cli venv (.venv-sam), which has aws-sam-translator; the main venv does not.
`make validate-iac` lints the output with cfn-lint and tests/iac checks its references: cfn-lint 1.x
validates SAM templates against SAM schemas without transforming them, so references to resources
SAM generates (``<Function>Aliaslive``) are only proven real here.

    .venv-sam/bin/python iac/translate.py iac/template.yaml > build/iac/template.transformed.json
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


class _NoManagedPolicies:
    """The template names no AWS managed policies by name, so no IAM lookup is needed (offline)."""

    def load(self) -> dict[str, str]:
        return {}


def main(argv: list[str]) -> int:
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    # only importable in .venv-sam (this script runs there)
    from samcli.yamlhelper import yaml_parse
    from samtranslator.translator.transform import transform

    path = argv[1] if len(argv) > 1 else "iac/template.yaml"
    with open(path, encoding="utf-8") as fh:
        template: dict[str, Any] = yaml_parse(fh.read())
    # What `sam package` does: local CodeUri -> the S3 object it uploads.
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = "s3://idbellen-artifacts/lambdas.zip"
    parameters = {
        "AWS::Region": os.environ["AWS_DEFAULT_REGION"],
        "AWS::AccountId": "123456789012",
        "AWS::Partition": "aws",
        "AWS::StackName": "idbellen-test",
        "AWS::URLSuffix": "amazonaws.com",
    }
    out = transform(template, parameters, _NoManagedPolicies())
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
