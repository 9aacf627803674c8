"""Tests of DeepCritic's surprise verdict (issue 21): a step's surprise from the model's token scores, the graph on scripted tokens, the benchmark, one real item."""

from __future__ import annotations

import importlib.util

import pytest

from ratiocinator.evals.benchmark import Context, get
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.models.types import TokenLogprob
from ratiocinator.reasoning.critique import DeepCriticConfig, run
from ratiocinator.reasoning.critique.config import SURPRISE_THRESHOLD
from ratiocinator.reasoning.critique.surprise import (
    solution_pieces,
    step_surprise,
    surprise_conversation,
)
from tests.shared_data import needs, root

DATA = root("critique")
needs_data = needs("critique", "critique/ (ProcessBench)")

PROBLEM = "Sue has 18 flamingos and gets 6 more. How many now?"
STEPS = ["Step 1: Sue starts with 18.", "Step 2: She gets 6 more: 18 + 6 = 25.", "Step 3: Final answer: 25"]
SURPRISE = DeepCriticConfig(verdict="surprise", surprise_threshold=2.0)


def tok(text: str, logprob: float, top: float | None = None) -> TokenLogprob:
    """A token the model scored `logprob`, whose top choice there scored `top` (itself when None)."""
    return TokenLogprob(token=text, token_id=0, logprob=logprob, top=(("x", logprob if top is None else top),))


class TokenBackend(ScriptedBackend):
    """A scripted backend whose token scores give step k's digit tokens the gap `gaps[k]` (1-based), and
    every "Step i:" label a large one that must be ignored; calls recorded."""

    def __init__(self, gaps):
        super().__init__(())
        self.gaps = gaps
        self.asked = []

    def score_tokens(self, prompt, pieces):
        self.asked.append((prompt, list(pieces)))
        out = []
        for k, piece in enumerate(pieces):  # pieces 2j and 2j+1: step j+1's label and text
            gap = self.gaps.get(k // 2 + 1, 0.0) + (7.0 if k % 2 == 0 else 0.0)  # labels: never judged
            out.append([tok(w, -0.5 - gap if any(c.isdigit() for c in w) else -3.0, -0.5) for w in piece.split(" ")])
        return out


def test_a_steps_surprise_is_the_largest_gap_at_its_digits():
    tokens = [tok("Sue", -9.0, -0.1), tok(" 18", -0.2), tok(" +", -4.0, -0.5), tok(" 25", -3.5, -0.5),
              tok("6", -1.0, -0.4)]
    # phrasing the model would not have chosen (" Sue", " +") does not count; " 25" does: 3.0 nats
    assert step_surprise(tokens) == pytest.approx(3.0)
    assert step_surprise([tok("Sue", -9.0, -0.1)]) == 0.0  # no number: nothing to be surprised by
    assert step_surprise([]) == 0.0
    assert step_surprise([tok("7", -0.3)]) == 0.0  # the model's own top choice


def test_the_solution_is_read_as_the_models_own_answer_one_piece_per_step():
    assert solution_pieces(STEPS) == [
        "Step 1:", " Sue starts with 18.",
        "\nStep 2:", " She gets 6 more: 18 + 6 = 25.",
        "\nStep 3:", " Final answer: 25",
    ]
    assert solution_pieces(["no prefix here"]) == ["Step 1:", " no prefix here"]
    conv = surprise_conversation(PROBLEM)
    assert [m.role for m in conv] == ["system", "user"] and conv[1].content.endswith(PROBLEM)


def test_the_surprise_verdict_reads_the_solution_once_and_generates_nothing():
    backend = TokenBackend({2: 3.0, 3: 1.0})
    result = run(PROBLEM, backend=backend, steps=STEPS, config=SURPRISE)
    assert result.first_error == 1
    (rnd,) = result.rounds
    assert [c.log_odds for c in rnd.critiques] == pytest.approx([0.0, 3.0, 1.0])
    assert [c.final for c in rnd.critiques] == [1, -1, 1]
    assert not backend.calls  # no critique, no second look, no judgement
    # the note stands in for the critique: what the model would have written, and where
    assert rnd.critiques[0].critique == ""
    assert "Step 2 has '6'" in rnd.critiques[1].critique and "3.0 nats" in rnd.critiques[1].critique
    # where sympy has nothing to say, the note is the verdict's reason
    third = run(PROBLEM, backend=TokenBackend({3: 3.0}), steps=STEPS, config=SURPRISE)
    assert third.first_error == 2 and "Step 3 has '25'" in third.verdict.reason
    ((prompt, pieces),) = backend.asked
    assert pieces == solution_pieces(STEPS) and prompt[-1].content.endswith(PROBLEM)


def test_the_surprise_threshold_moves_the_decision_and_sympy_can_override():
    backend = TokenBackend({2: 3.0, 3: 1.0})
    at = lambda t: DeepCriticConfig(verdict="surprise", surprise_threshold=t)  # noqa: E731
    assert run(PROBLEM, backend=backend, steps=STEPS, config=at(3.5)).first_error == -1
    assert run(PROBLEM, backend=backend, steps=STEPS, config=at(0.5)).first_error == 1
    assert run(PROBLEM, backend=TokenBackend({3: 3.0}), steps=STEPS, config=at(2.0)).first_error == 2
    # the model misses step 2; sympy proves "18 + 6 = 25" wrong
    cfg = at(2.0).model_copy(update={"symbolic_decides": True})
    result = run(PROBLEM, backend=TokenBackend({}), steps=STEPS, config=cfg)
    assert result.first_error == 1 and result.rounds[0].critiques[1].critic == 1
    assert DeepCriticConfig().surprise_threshold == SURPRISE_THRESHOLD


def test_a_backend_without_token_scores_says_so():
    from ratiocinator.errors import UnsupportedFeature
    from ratiocinator.models.backend import BaseBackend

    class NoTokens(ScriptedBackend):
        score_tokens = BaseBackend.score_tokens

    with pytest.raises(UnsupportedFeature, match="score tokens"):
        run(PROBLEM, backend=NoTokens(()), steps=STEPS, config=SURPRISE)


@needs_data
def test_benchmark_runs_the_surprise_verdict_and_keeps_every_steps_score():
    cls = get("critique")
    bench = cls(cls.parse_options({"verdict": "surprise", "surprise_threshold": "2.0"}), data_dir=DATA)
    wrong = next(i for i in bench.items() if i.inputs["label"] >= 1)
    label = wrong.inputs["label"]
    out = bench.run(wrong, Context(backend=TokenBackend({label + 1: 4.0})))
    assert out.output["predicted"] == label and out.metrics["on_erroneous"] == 1.0
    (rnd,) = out.output["rounds"]
    assert len(rnd["log_odds"]) == len(wrong.inputs["steps"]) and "first_look" not in out.metrics


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed")
def test_the_embedded_model_is_surprised_by_a_wrong_sum():
    from ratiocinator.models.loading import load_backend

    backend = load_backend("llamacpp:qwen2.5-coder-0.5b-instruct", threads=1, cache=False)
    try:
        right = ["Step 1: Sue starts with 18.", "Step 2: She gets 6 more: 18 + 6 = 24.", "Step 3: Final answer: 24"]
        result = run(PROBLEM, backend=backend, steps=STEPS, config=DeepCriticConfig(verdict="surprise"))
        ok = run(PROBLEM, backend=backend, steps=right, config=DeepCriticConfig(verdict="surprise"))
        # measured: 12.4 nats at "25" after "18 + 6 =", none anywhere in the right solution
        assert result.rounds[0].critiques[1].log_odds > ok.rounds[0].critiques[1].log_odds + 5.0
        assert result.first_error == 1 and ok.first_error == -1
    finally:
        backend.close()
