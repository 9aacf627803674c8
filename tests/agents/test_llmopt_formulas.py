"""Stepwise LLMOPT reads what a text states in symbols in code (formulas.py): decisions, objective, relations."""

from __future__ import annotations

import pytest

from ratiocinator.agents.llmopt import LLMOPTConfig, formulas
from ratiocinator.agents.llmopt import run as optimize_from_text
from ratiocinator.agents.llmopt.declarations import declared
from ratiocinator.agents.llmopt.draft import Draft
from ratiocinator.agents.llmopt.table import numbers, sentences
from ratiocinator.models.scripted import ScriptedBackend

ISSUE = "Maximize 3x + 5y subject to x <= 4, 2y <= 12, 3x + 2y <= 18, x, y >= 0."
COST = "Minimise the cost C = 4p + 6q such that p + q ≥ 10, p ≥ 2 and q ≥ 3."
CRATES = ("Choose a, b and c to maximise 5a + 4b + 3c, where 2a + 3b + c ≤ 5, 4a + b + 2c ≤ 11, "
          "3a + 4b + 2c ≤ 8 and a, b, c ≥ 0.")
MIXED = "Maximize 3x + 5y. The limits are x <= 4 and 3x + 2y <= 18. At most 5 units of y can be sold."
DATA = "Tools cost $a each and repairs $c, where c > b and a > c. Choose how many tools to buy."


def draft(text: str, names: tuple[str, ...] = ()) -> Draft:
    d = Draft(problem=text, table=tuple(numbers(text)), sentences=tuple(sentences(text)))
    return declared(d, [(n, "continuous") for n in names]) if names else d


class _Silent(ScriptedBackend):
    """A model that must not be asked: every question fails the test."""

    def __init__(self) -> None:
        super().__init__(lambda prompt, params: pytest.fail(f"the model was asked: {prompt[-1].content[:80]}"))

    def score(self, prompt, continuations):
        pytest.fail(f"the model was asked to score: {prompt[-1].content[:80]}")


def test_the_decisions_are_the_symbols_of_the_objective_and_of_relations_with_a_number() -> None:
    assert formulas.names(draft(ISSUE)) == ["x", "y"]
    assert formulas.names(draft(CRATES)) == ["a", "b", "c"]
    assert formulas.names(draft("Let x1 and x2 be made. x2 <= 40 and x1 + x2 <= 60.")) == ["x1", "x2"]  # first written
    assert formulas.names(draft("Let x1 and x2 be made. x2 <= 40 and x1 <= 2*x2.")) == ["x2"]  # no number: no decision
    assert formulas.names(draft(DATA)) == []  # `c > b` relates the text's data, no decision
    assert formulas.names(draft("A shop makes tables and chairs; at most 4 items.")) == []


def test_objective_and_relations_are_the_texts_over_the_declared_names_only() -> None:
    assert formulas.objective(draft(ISSUE, ("x", "y"))) == "maximize 3*x + 5*y"
    assert formulas.objective(draft(COST, ("p", "q"))) == "minimize 4*p + 6*q"
    assert formulas.objective(draft(ISSUE, ("x",))) is None  # y not declared
    d = draft(MIXED, ("x", "y"))
    assert formulas.rows(d, 0) == [] and formulas.rows(d, 1) == ["x <= 4", "3*x + 2*y <= 18"]
    assert formulas.covered(d, 1) and not formulas.covered(d, 2)  # "5 units of y" is in words
    assert formulas.rows(draft(ISSUE, ("x", "y")), 0)[-2:] == ["x >= 0", "y >= 0"]  # "x, y >= 0" is two


@pytest.mark.parametrize(("text", "optimum", "values"), [
    (ISSUE, 36.0, {"x": 2.0, "y": 6.0}),
    (COST, 46.0, {"p": 7.0, "q": 3.0}),
    (CRATES, 13.0, {"a": 2.0, "b": 0.0, "c": 1.0}),
])
def test_a_problem_stated_in_symbols_is_translated_without_the_model_and_checked_whole(text, optimum, values):
    result = optimize_from_text(text, backend=_Silent(), config=LLMOPTConfig())
    assert result.verdict.status == "verified" and "every constraint of your text" in result.verdict.reason
    assert result.objective == pytest.approx(optimum)
    assert {k: pytest.approx(v, abs=1e-6) for k, v in values.items()} == result.values


def test_words_beside_symbols_are_still_read_or_asked() -> None:
    result = optimize_from_text(MIXED, backend=_Silent(), config=LLMOPTConfig())
    assert result.objective == pytest.approx(33.0)  # the words' "at most 5 units of y" read too (readings.py)
    assert "not checked against your text" in result.verdict.reason


def test_a_sentence_with_symbols_and_words_keeps_its_symbols_beside_the_models_rows() -> None:
    text = "Maximize 3x + 5y. The limits are x <= 4 and, as the board decided, a cap of 7 on what y may reach."

    def reply(prompt, params) -> str:
        return "y <= 7" if prompt[-1].content.startswith("Sentence:") else "none"

    result = optimize_from_text(text, backend=ScriptedBackend(reply), config=LLMOPTConfig())
    assert sorted(c.expression for c in result.formulation.constraints) == ["x <= 4", "y <= 7"]
    assert result.objective == pytest.approx(47.0)


def test_a_single_letter_after_a_number_is_a_symbol_not_its_unit() -> None:
    table = numbers(ISSUE)
    assert [n.unit for n in table if n.value == 18.0] == [""]  # "18, x, y >= 0": x is no unit of 18
    assert [n.unit for n in numbers("It needs 18 hours.")] == ["hour"]
