"""Integration fixtures: moto's server over real HTTP on loopback, and the demo IRMA server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest
import requests
from idbellen import runtime
from moto.server import ThreadedMotoServer

from devstack.irma_server import DemoIrmaServer
from devstack.provision import provision


@pytest.fixture(scope="module")
def aws() -> Iterator[dict[str, object]]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    requests.post(f"{url}/moto-api/reset", timeout=10)  # moto state is per process, not per server
    saved = {
        k: os.environ.get(k)
        for k in (
            "AWS_ENDPOINT_URL",
            "AWS_DEFAULT_REGION",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
        )
    }
    os.environ.update(
        AWS_ENDPOINT_URL=url,
        AWS_DEFAULT_REGION="eu-central-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
    )
    runtime.reset()
    session = boto3.session.Session()
    resources = provision(session, "requestor-token-for-tests")
    try:
        yield {"url": url, "session": session, "resources": resources}
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        runtime.reset()


@pytest.fixture
def clean_table(aws) -> Iterator[None]:
    yield
    ddb = aws["session"].client("dynamodb")
    table = aws["resources"].table
    for item in ddb.scan(TableName=table).get("Items", []):
        ddb.delete_item(TableName=table, Key={"pk": item["pk"]})


@pytest.fixture
def irma_server() -> Iterator[DemoIrmaServer]:
    server = DemoIrmaServer("requestor-token-for-tests").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def http() -> requests.Session:
    return requests.Session()
