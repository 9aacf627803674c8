"""The registry walk's case for `tool-agent`: one checking tool, a call and a conclusion from a scripted backend."""

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
    # planner, caller (tool name, then arguments), planner, summarizer; one-space texts, so that the
    # streamed pieces are the words the backend counts
    return ScriptedBackend(
        ["I add them. Next: caller.", "add", '{"a": 2, "b": 3}', "Done. Next: conclusion.", "2 + 3 = 5."]
    )


def run_kwargs() -> dict:
    return {"tools": [add]}


def check(result) -> None:
    assert result.status == "answered" and result.answer == "2 + 3 = 5."
    assert result.verdict.status == "verified" and result.checks == ("add: added exactly by Python integers",)
    assert result.usage.calls == 5
    assert "result (add): 5" in result.report()
