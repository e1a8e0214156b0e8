"""The parts of a Lambda context object the handlers (and Powertools) read."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/devstack"
    log_stream_name: str = "devstack"
    # milliseconds left before Lambda ends this invocation (the flow simulator's function timeouts)
    remaining_ms: Callable[[], int] | None = None

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-central-1:123456789012:function:{self.function_name}:live"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms() if self.remaining_ms is not None else 8000
