"""The registry walk's case for `react`: the single model calls a checking tool, then concludes."""

from __future__ import annotations

from ratiocinator.agents.tools import Verified, tool
from ratiocinator.models.scripted import ScriptedBackend


@tool(timeout=5)
def add(a: int, b: int) -> Verified:
    """Add two integers exactly.

    Args:
        a: the first summand
        b: the second summand
    """
    return Verified(value=a + b, how="added exactly by Python integers")


def make_input() -> str:
    return "What is 2 + 3?"


def make_backend() -> ScriptedBackend:
    return ScriptedBackend(['I add them. Action: add Action Input: {"a": 2, "b": 3}', "conclusion: 5"])


def run_kwargs() -> dict:
    return {"tools": [add]}


def check(result) -> None:
    assert result.status == "answered" and result.answer == "5" and result.steps == 2
    assert [t.status for t in result.turns if t.role == "observation"] == ["ok"]
    assert result.verdict.verified and result.usage.calls == 2
