"""Loopback stand-in for the Lambda Invoke API, so production code's real `lambda.invoke` runs
unchanged (`AWS_ENDPOINT_URL_LAMBDA` points here). It runs the real handler in this process."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from devstack.lambda_context import LambdaContext
from devstack.loopback import LoopbackServer, QuietHandler

Handler = Callable[[Any, Any], Any]


class LambdaStandIn:
    def __init__(self) -> None:
        self.functions: dict[str, Handler] = {}
        self.invocations: dict[str, int] = {}
        self._server = LoopbackServer(_Handler, self)

    def register(self, name: str, handler: Handler) -> None:
        self.functions[name] = handler

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> LambdaStandIn:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def resolve(self, name_or_arn: str) -> tuple[str, Handler | None]:
        name = unquote(name_or_arn)
        if name.startswith("arn:"):
            name = name.split(":")[6]
        name = name.split(":")[0]
        return name, self.functions.get(name)


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        standin: LambdaStandIn = self.server.app  # type: ignore[attr-defined]
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if len(parts) != 4 or parts[1] != "functions" or parts[3] != "invocations":
            self.send(404, {"Message": "not found"})
            return
        name, handler = standin.resolve(parts[2])
        payload = self.read_body()
        if handler is None:
            self.send(
                404,
                {"Type": "User", "Message": "Function not found"},
                headers={"x-amzn-ErrorType": "ResourceNotFoundException"},
            )
            return
        standin.invocations[name] = standin.invocations.get(name, 0) + 1
        try:
            result = handler(json.loads(payload or b"{}"), LambdaContext(function_name=name))
        except Exception as exc:
            self.send(
                200,
                {"errorType": exc.__class__.__name__, "errorMessage": "handler failed"},
                headers={"X-Amz-Function-Error": "Unhandled", "X-Amz-Executed-Version": "1"},
            )
            return
        self.send(200, json.dumps(result), headers={"X-Amz-Executed-Version": "1"})
