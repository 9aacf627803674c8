"""The registry walk's case for `deepcritic-refine`: the model solves, the critic finds the wrong step, the fix passes."""

from __future__ import annotations

from ratiocinator.models.scripted import ScriptedBackend


def make_input() -> str:
    return "Sue has 18 flamingos and gets 6 more. How many now?"


def make_backend() -> ScriptedBackend:
    def reply(prompt, params):
        text = prompt[-1].content
        if text.startswith("Solve the problem"):
            return "Step 1: 18 + 6 = 25\nStep 2: Final answer: 25"
        if "A careful check found" in text:
            return "Step 1: 18 + 6 = 24\nStep 2: Final answer: 24"
        wrong = "18 + 6 = 25" in text.split("</Solution Path>")[0] and "Step 1" in text.split("Now,")[-1]
        return f"#### The correctness of the step is: \\boxed{{{-1 if wrong else 1}}}"

    return ScriptedBackend(reply)


def check(result) -> None:
    assert result.refined and len(result.rounds) == 2 and result.first_error == -1
    assert result.steps == ("18 + 6 = 24", "Final answer: 24")
    assert result.verdict.status == "unverified"  # sympy confirmed only the arithmetic
