"""One real NL4Opt item (tests/solvers/formulations) through stepwise LLMOPT (the default) on the embedded Qwen2.5-Coder-0.5B."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from ratiocinator.agents.llmopt import LLMOPTConfig, LLMOPTResult
from ratiocinator.agents.llmopt import run as optimize_from_text
from ratiocinator.agents.llmopt.table import literals
from ratiocinator.solvers.formulation import Formulation
from ratiocinator.solvers.optimization import solve

pytestmark = pytest.mark.slow
ITEM = Path(__file__).parents[1] / "solvers" / "formulations" / "nl4opt_002.json"


def test_a_real_item_is_translated_step_by_step_and_every_constant_is_grounded(qwen) -> None:
    # The 0.5B's model need not be right; checked is the method: every piece parsed under its grammar,
    # every constant of the assembled formulation is a number of the text, the answer is the engine's.
    question = json.loads(ITEM.read_text())["question"]
    result = optimize_from_text(question, backend=qwen, config=LLMOPTConfig())
    assert isinstance(result, LLMOPTResult) and result.usage.calls >= 3
    first = Formulation.model_validate_json(result.attempts[0][0].formulation)
    assert first.variables and first.objective.expression
    grounded = set(literals(question))
    assert {p.value for p in first.parameters} <= grounded
    written = " ".join([first.objective.expression, *(c.expression for c in first.constraints)])
    assert {float(x) for x in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", written)} <= grounded  # by the grammars
    if result.objective is not None:
        again = solve(result.formulation)
        assert math.isclose(again.objective, result.objective, rel_tol=1e-6, abs_tol=1e-6)
    else:
        assert result.verdict.status == "failed"


def test_a_network_text_is_one_scored_decision_of_the_real_model(qwen) -> None:
    # the places and the pairs' numbers are read in code; the embedded model only says which question is asked
    from tests.agents.test_llmopt_network import FLOW, TOUR

    flow = optimize_from_text(FLOW, backend=qwen, config=LLMOPTConfig())
    assert flow.formulation is not None and flow.formulation.name == "flow" and flow.objective == 11
    tour = optimize_from_text(TOUR, backend=qwen, config=LLMOPTConfig())
    assert tour.formulation is not None and tour.formulation.name == "tour" and tour.objective == 34
    assert flow.verdict.status == tour.verdict.status == "verified"
