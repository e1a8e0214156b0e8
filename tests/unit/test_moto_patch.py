"""devstack.moto_patch: several dev stacks in one process share one patch of a moto class; the class is
moto's own again once the last of them has left (even when they leave out of order)."""

from __future__ import annotations

from typing import Any

from devstack.moto_patch import patched


class Backend:
    def answer(self) -> str:
        return "moto"


def like_aws(original: dict[str, Any]) -> dict[str, Any]:
    built.append(1)
    moto_answer = original["answer"]

    def answer(self: Any) -> str:
        return "aws, not " + moto_answer(self)

    return {"answer": answer}


built: list[int] = []


def test_nested_users_share_one_patch_and_the_last_one_restores_moto() -> None:
    built.clear()
    original = Backend.answer
    first = patched(Backend, ("answer",), like_aws)
    second = patched(Backend, ("answer",), like_aws)
    first.__enter__()
    second.__enter__()
    assert Backend().answer() == "aws, not moto"  # wrapped once, not twice
    assert built == [1]
    first.__exit__(None, None, None)  # the first user leaves before the second
    assert Backend().answer() == "aws, not moto"
    second.__exit__(None, None, None)
    assert Backend.answer is original and Backend().answer() == "moto"


def test_an_exception_inside_still_restores_moto() -> None:
    original = Backend.answer
    try:
        with patched(Backend, ("answer",), like_aws):
            raise RuntimeError("a test failed inside a dev stack")
    except RuntimeError:
        pass
    assert Backend.answer is original
