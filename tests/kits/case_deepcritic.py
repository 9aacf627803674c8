"""The registry walk's case for `deepcritic`: a two-step solution whose arithmetic sympy shows wrong, and a critic that agrees."""

from __future__ import annotations

from ratiocinator.models.scripted import ScriptedBackend


def make_input() -> str:
    return "Sue has 18 flamingos and gets 6 more. How many now?"


def run_kwargs() -> dict:
    return {"steps": ["Sue gets 6 more: 18 + 6 = 25.", "Final answer: 25"]}


def make_backend() -> ScriptedBackend:
    def reply(prompt, params):
        wrong = "Step 1" in prompt[-1].content.split("Now,")[-1]
        return f"#### The correctness of Step 1 is: \\boxed{{{-1 if wrong else 1}}}"

    return ScriptedBackend(reply)


def check(result) -> None:
    assert result.first_error == 0 and not result.refined
    assert result.verdict.status == "verified" and "18 + 6 = 25 is WRONG" in result.verdict.reason
