"""The registry walk's case for `llm-as-planner`: blocksworld from the shared data, a scripted model that writes a
plan; with no problem to validate it against, the plan is unverified."""

from __future__ import annotations

from ratiocinator.models.scripted import ScriptedBackend

TEXT = (
    "You have 3 blocks. \nb1 is on the table. \nb2 is on the table. \nb3 is on top of b1. \nb2 is clear. \n"
    "b3 is clear. \nYour arm is empty. \nYour goal is to move the blocks. \nb1 should be on top of b2. \n"
)


def make_input() -> str:
    return TEXT


def make_backend() -> ScriptedBackend:
    return ScriptedBackend(["(unstack b3 b1)\n(putdown b3)\n(pickup b1)\n(stack b1 b2)\n"])


def run_kwargs() -> dict:
    return {"domain": "blocksworld"}


def check(result) -> None:
    assert result.steps == ("(unstack b3 b1)", "(putdown b3)", "(pickup b1)", "(stack b1 b2)")
    assert result.verdict.status == "unverified" and result.usage.calls == 1
