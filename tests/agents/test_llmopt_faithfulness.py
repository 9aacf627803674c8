"""rc.optimize_from_text never labels verified an answer whose formulation drops or alters what the text states (issue 22).

Scripted formulations, as a small model writes them: the solver's own re-check holds for every one of
them (their values satisfy their own constraints); only the comparison with the text tells them apart.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import ratiocinator as rc
from ratiocinator.models.scripted import ScriptedBackend

ISSUE = "Maximize 3x + 5y subject to x <= 4, 2y <= 12, 3x + 2y <= 18, x, y >= 0."
BAKERY = (
    "A bakery makes bread and cakes. A loaf of bread needs 2 kg of flour and 1 hour of oven time and earns $3; "
    "a cake needs 1 kg of flour and 2 hours of oven time and earns $4. There are 100 kg of flour and 80 oven "
    "hours a week. How many of each should it make to maximize profit?"
)
COST = "Minimise the cost C = 4p + 6q such that p + q ≥ 10, p ≥ 2 and q ≥ 3."
CRATES = ("Choose a, b and c to maximise 5a + 4b + 3c, where 2a + 3b + c ≤ 5, 4a + b + 2c ≤ 11, "
          "3a + 4b + 2c ≤ 8 and a, b, c ≥ 0.")


def formulation(constraints: list[str], objective: str, names: tuple[str, ...], sense: str = "maximize",
                domain: str = "nonnegative_integer") -> str:
    return json.dumps({
        "sets": [],
        "parameters": [],
        "variables": [{"name": n, "domain": domain} for n in names],
        "objective": {"sense": sense, "expression": objective},
        "constraints": [{"name": f"c{i}", "expression": c} for i, c in enumerate(constraints)],
    })


def optimize(text: str, replies: list[str], **config: Any):
    """`rc.optimize_from_text` with a model that writes `replies` (one formulation per request)."""
    config = {"declare_first": False, **config}
    return rc.optimize_from_text(text, backend=ScriptedBackend(replies), config=rc.LLMOPTConfig(**{"translation": "whole", **config}))


XY = ("x", "y")
#: (text, a formulation that drops or alters a stated constraint, the constraint or number it misses)
UNFAITHFUL = [
    (ISSUE, formulation(["x <= 4", "3*x + 2*y <= 18"], "3*x + 5*y", XY), "2y <= 12"),  # the issue's 45 at (0, 9)
    (ISSUE, formulation(["x <= 4", "y <= 9", "3*x + 2*y <= 18"], "3*x + 5*y", XY), "2y <= 12"),
    (ISSUE, formulation(["x <= 4", "2*y <= 10", "3*x + 2*y <= 18"], "3*x + 5*y", XY), "2y <= 12"),
    (ISSUE, formulation(["x <= 4", "2*y <= 12", "3*x + 2*y <= 18"], "3*x + 4*y", XY), "3x + 5y"),
    (ISSUE, formulation(["x <= 4", "2*y <= 12", "3*x + 2*y <= 18", "x + y <= 7"], "3*x + 5*y", XY), "x + y <= 7"),
    (BAKERY, formulation(["bread + 2*cake <= 80"], "3*bread + 4*cake", ("bread", "cake")), "100"),
    (COST, formulation(["a + b >= 8", "a >= 2", "b >= 3"], "4*a + 6*b", ("a", "b"), "minimize"), "p + q >= 10"),
    (CRATES, formulation(["2*u + 3*v + w <= 5", "4*u + v + 2*w <= 11"], "5*u + 4*v + 3*w", ("u", "v", "w"),
                         domain="nonnegative"), "3a + 4b + 2c <= 8"),
]


@pytest.mark.parametrize(("text", "bad", "missed"), UNFAITHFUL)
def test_a_formulation_that_drops_or_alters_a_stated_constraint_is_never_verified(text: str, bad: str,
                                                                                  missed: str) -> None:
    result = optimize(text, [bad, bad, bad])  # the model does not fix it in its two corrections
    assert result.executed and result.verdict.status in ("unverified", "failed")
    assert missed in result.verdict.reason
    assert "checked against every constraint of your text" not in result.verdict.reason + result.answer
    assert "verified" not in result.answer.replace("NOT verified", "").replace("not verified", "")
    (track,) = result.attempts
    assert [a.status for a in track] == ["unfaithful"] * 3 and missed in track[0].feedback


def test_the_issue_answer_breaks_a_stated_constraint_so_it_fails_and_says_which() -> None:
    bad = formulation(["x <= 4", "3*x + 2*y <= 18"], "3*x + 5*y", XY)
    result = optimize(ISSUE, [bad], correction_rounds=0)
    assert result.objective == pytest.approx(45) and result.values == {"x": 0.0, "y": 9.0}
    assert result.verdict.status == "failed"
    assert result.verdict.reason.startswith("the answer breaks what your text states: 2y <= 12 (at the answer (y = 9) "
                                            "it reads 18 <= 12, which is false)")
    assert "NOT verified: it breaks 2y <= 12 of your text" in result.answer
    # the same with the comparison kept out of self-correction: still never verified
    kept = optimize(ISSUE, [bad], correction_rounds=0, check_text=False)
    assert kept.verdict.status == "failed" and "2y <= 12" in kept.verdict.reason


def test_the_broken_constraint_is_fed_back_and_a_faithful_rewrite_is_checked_against_every_constraint() -> None:
    bad = formulation(["x <= 4", "3*x + 2*y <= 18"], "3*x + 5*y", XY)
    good = formulation(["x <= 4", "2*y <= 12", "3*x + 2*y <= 18"], "3*x + 5*y", XY)
    backend = ScriptedBackend([bad, good])
    result = rc.optimize_from_text(ISSUE, backend=backend, config=rc.LLMOPTConfig(translation="whole", declare_first=False))
    assert [a.status for a in result.attempts[0]] == ["unfaithful", "ok"]
    assert "2y <= 12" in backend.calls[1].prompt[-1].content  # the model is told which constraint it broke
    assert result.objective == pytest.approx(36) and result.values == {"x": 2.0, "y": 6.0}
    assert result.verdict.status == "verified"
    assert result.verdict.reason.startswith(
        "the optimum of the formulation below, re-checked against it; checked against every constraint of your text"
    )
    assert "against every constraint of your text" in result.answer


@pytest.mark.parametrize(
    ("text", "good", "optimum"),
    [
        (COST, formulation(["p + q >= 10", "p >= 2", "q >= 3"], "4*p + 6*q", ("p", "q"), "minimize"), 46),
        (COST, formulation(["a + b >= 10", "a >= 2", "b >= 3"], "4*a + 6*b", ("a", "b"), "minimize"), 46),
        (CRATES, formulation(["2*u + 3*v + w <= 5", "4*u + v + 2*w <= 11", "3*u + 4*v + 2*w <= 8"],
                             "5*u + 4*v + 3*w", ("u", "v", "w"), domain="nonnegative"), 13),
    ],
)
def test_a_faithful_formulation_of_a_symbolic_text_is_checked_against_every_constraint(text: str, good: str,
                                                                                        optimum: float) -> None:
    result = optimize(text, [good])
    assert result.objective == pytest.approx(optimum) and result.verdict.status == "verified"
    assert "checked against every constraint of your text" in result.verdict.reason


def test_a_faithful_formulation_of_a_word_problem_is_verified_without_claiming_the_text_was_checked() -> None:
    good = formulation(["2*bread + cake <= 100", "bread + 2*cake <= 80"], "3*bread + 4*cake", ("bread", "cake"))
    result = optimize(BAKERY, [good])
    assert result.objective == pytest.approx(200) and result.verdict.status == "verified"
    assert "the formulation itself was not checked against your text" in result.verdict.reason
    assert "every number of your text is used in it" in result.verdict.reason
    assert "checked against every constraint" not in result.verdict.reason
    assert "which was not checked against your text" in result.answer


def test_the_whole_two_step_path_checks_the_text_too() -> None:
    declared = json.dumps({"sets": [], "parameters": [],
                           "variables": [{"name": v, "domain": "nonnegative_integer"} for v in XY]})
    related = json.dumps({"objective": {"sense": "maximize", "expression": "3*x + 5*y"},
                          "constraints": [{"name": "a", "expression": "x <= 4"},
                                          {"name": "b", "expression": "3*x + 2*y <= 18"}]},
                         separators=(", ", ": "))
    result = rc.optimize_from_text(ISSUE, backend=ScriptedBackend([declared, related] * 3),
                                   config=rc.LLMOPTConfig(translation="whole"))
    assert result.verdict.status == "failed" and "2y <= 12" in result.verdict.reason
