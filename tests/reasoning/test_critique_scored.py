"""Tests of DeepCritic's scored verdict (issue 21): the decision rules, the graph on scripted scores, the benchmark's baselines, one real item."""

from __future__ import annotations

import importlib.util
import math
import re

import pytest

from ratiocinator.evals.benchmark import Context, get
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.reasoning.critique import DeepCriticConfig, run
from ratiocinator.reasoning.critique.config import SCORED_THRESHOLD
from ratiocinator.reasoning.critique.scoring import (
    calibrate_threshold,
    combined_marks,
    continuations,
    decide,
    first_error,
    harmonic_mean,
    processbench_f1,
)
from tests.shared_data import needs, root

DATA = root("critique")
needs_data = needs("critique", "critique/ (ProcessBench)")

PROBLEM = "Sue has 18 flamingos and gets 6 more. How many now?"
STEPS = [
    "Step 1: Sue starts with 18.",
    "Step 2: She gets 6 more: 18 + 6 = 25.",
    "Step 3: Final answer: 25",
]
SCORED = DeepCriticConfig(verdict="scored", critique=False)


class ScoringBackend(ScriptedBackend):
    """A scripted backend whose scores come from a function of (prompt, continuations); every score call is recorded."""

    def __init__(self, odds, script=(), **kw):
        super().__init__(script, **kw)
        self.odds = odds  # step (1-based) -> log-odds of "incorrect" over "correct"
        self.scored = []

    def score(self, prompt, conts):
        self.scored.append((prompt, list(conts)))
        step = int(re.findall(r"Step (\d+)", conts[0])[0])
        return [-1.0, -1.0 + self.odds.get(step, -2.0)]


# --- the decision rules ------------------------------------------------------------------------


def test_a_step_is_incorrect_only_when_its_log_odds_exceed_the_threshold():
    assert decide(0.5, 0.0) == -1 and decide(0.0, 0.0) == 1 and decide(-3.0, 0.0) == 1
    assert decide(-1.0, -2.0) == -1 and decide(-1.0, -0.5) == 1


def test_the_first_step_judged_incorrect_is_the_first_error():
    assert first_error([1, -1, -1]) == 1 and first_error([1, 1]) == -1 and first_error([-1]) == 0
    assert first_error([1, 0, None, -1]) == 3  # unjudged steps are not errors


def test_combined_takes_sympys_verdict_where_it_has_one_and_the_model_elsewhere():
    assert combined_marks([1, 1, -1, -1], [None, False, True, None]) == [1, -1, 1, -1]


def test_harmonic_mean_of_the_accuracies_on_erroneous_and_correct_solutions():
    assert harmonic_mean(0.5, 0.5) == 0.5 and harmonic_mean(0.0, 1.0) == 0.0
    acc_e, acc_c, f1 = processbench_f1([1, -1, -1, 0], [1, 2, -1, -1])
    assert (acc_e, acc_c) == (0.5, 0.5) and f1 == 0.5
    assert math.isnan(processbench_f1([-1], [-1])[2])  # no erroneous solution: undefined


def test_calibration_picks_the_threshold_with_the_best_harmonic_mean():
    # item 0 wrong at step 1 (log-odds 2.0 there), item 1 correct (its highest 0.5), item 2 wrong at 0
    odds = [[-1.0, 2.0, 3.0], [0.5, -0.2], [1.5, 0.0]]
    t, f1 = calibrate_threshold(odds, [1, -1, 0])
    assert 0.5 < t < 1.5 and f1 == 1.0
    # sympy's verdicts enter the combined rule: step 0 of item 1 proven right, so a lower threshold fits
    t_c, f1_c = calibrate_threshold(odds, [1, -1, 0], symbolic=[[None] * 3, [True, None], [None, None]])
    assert f1_c == 1.0 and 0.0 < t_c < 1.5
    assert calibrate_threshold([], []) == (0.0, pytest.approx(math.nan, nan_ok=True))


# --- the graph with the scored verdict ------------------------------------------------------------


def test_scored_verdict_without_a_check_scores_each_step_once_on_one_prompt():
    backend = ScoringBackend({2: 1.5})
    result = run(PROBLEM, backend=backend, steps=STEPS, config=SCORED)
    assert result.first_error == 1
    (rnd,) = result.rounds
    assert [c.log_odds for c in rnd.critiques] == [-2.0, 1.5, -2.0]
    assert [c.final for c in rnd.critiques] == [1, -1, 1]
    assert not backend.calls  # nothing generated: no critique, no second look, no judgement asked again
    assert [conts for _, conts in backend.scored] == [continuations(i) for i in (1, 2, 3)]
    assert continuations(2) == ["Step 2 is correct", "Step 2 is incorrect"]
    # sympy's evidence for the step is in front of the model, in the step's own prompt only
    step2 = backend.scored[1][0][-1].content
    assert "18 + 6 = 25 is WRONG" in step2 and "<Computer Algebra Check>" in step2
    assert "WRONG" not in backend.scored[0][0][-1].content
    assert step2.rstrip().endswith("Is Step 2 correct or incorrect?")


def test_the_threshold_moves_the_decision():
    backend = ScoringBackend({2: 1.5, 3: 0.8})
    cfg = SCORED.model_copy(update={"threshold": 1.0})
    assert run(PROBLEM, backend=backend, steps=STEPS, config=cfg).first_error == 1
    cfg = SCORED.model_copy(update={"threshold": 2.0})
    assert run(PROBLEM, backend=backend, steps=STEPS, config=cfg).first_error == -1
    cfg = SCORED.model_copy(update={"threshold": -2.5})  # everything above -2.5: the first step
    assert run(PROBLEM, backend=backend, steps=STEPS, config=cfg).first_error == 0


def test_scored_verdict_after_a_short_check_scores_after_the_models_own_words():
    backend = ScoringBackend({3: 0.7}, script=lambda prompt, params: "The sum is fine.")
    cfg = DeepCriticConfig(verdict="scored", critique=True, critique_max_tokens=24)
    result = run(PROBLEM, backend=backend, steps=STEPS, config=cfg)
    assert result.first_error == 2
    assert len(backend.calls) == 3 and all(c.params.max_tokens == 24 for c in backend.calls)
    assert all(c.params.grammar is None for c in backend.calls)  # no judgement asked again, no second look
    prompt, _ = backend.scored[2]
    assert [m.role for m in prompt] == ["system", "user", "assistant", "user"]
    assert prompt[2].content == "The sum is fine." and prompt[3].content == "Is Step 3 correct or incorrect?"
    assert prompt[1].content == backend.calls[2].prompt[-1].content  # the check's prompt is the shared prefix
    assert result.rounds[0].critiques[2].critique == "The sum is fine."


def test_sympy_can_override_the_scored_verdict_and_the_critics_own_mark_is_kept():
    backend = ScoringBackend({})  # the model calls every step correct
    cfg = SCORED.model_copy(update={"symbolic_decides": True})
    result = run(PROBLEM, backend=backend, steps=STEPS, config=cfg)
    step2 = result.rounds[0].critiques[1]
    assert result.first_error == 1 and step2.final == -1 and step2.critic == 1


def test_the_text_verdict_stays_the_default_and_scores_nothing():
    assert DeepCriticConfig().verdict == "text" and DeepCriticConfig().threshold == SCORED_THRESHOLD
    box = "ok\n#### The correctness of Step 1 is: \\boxed{1}"
    backend = ScoringBackend({2: 5.0}, script=lambda prompt, params: box)
    result = run(PROBLEM, backend=backend, steps=STEPS)
    assert not backend.scored and result.first_error == -1
    assert all(c.log_odds is None for c in result.rounds[0].critiques)


# --- the benchmark ---------------------------------------------------------------------------------


@needs_data
def test_benchmark_reports_the_scored_critic_beside_the_constant_sympy_and_combined():
    cls = get("critique")
    bench = cls(cls.parse_options({"verdict": "scored", "critique": "false"}), data_dir=DATA)
    items = bench.items()
    wrong = next(i for i in items if i.inputs["label"] >= 1)
    label = wrong.inputs["label"]
    out = bench.run(wrong, Context(backend=ScoringBackend({label + 1: 3.0})))
    assert out.output["predicted"] == label and out.metrics["on_erroneous"] == 1.0
    assert out.metrics["constant"] == 0.0 and "first_look" not in out.metrics
    (rnd,) = out.output["rounds"]
    assert len(rnd["log_odds"]) == len(wrong.inputs["steps"]) and rnd["log_odds"][label] == 3.0
    assert len(rnd["symbolic_valid"]) == len(rnd["log_odds"])
    right = next(i for i in items if i.inputs["label"] == -1)
    out = bench.run(right, Context(backend=ScoringBackend({})))
    assert out.metrics["on_correct"] == 1.0 and out.metrics["constant"] == 1.0
    assert out.metrics["combined_on_correct"] in (0.0, 1.0)


def test_benchmark_metrics_combined_and_sympy_alone():
    from ratiocinator.evals.benchmarks.critique import step_set_metrics
    from ratiocinator.reasoning.critique import CritiqueRound, StepCritique

    def step(final, valid):
        return StepCritique(step="s", critique="", initial=0, second_look=None, second=None, final=final,
                            critic=final, log_odds=0.0, symbolic_valid=valid)

    # the model misses step 1; sympy proves step 1 wrong; step 0 has no sympy verdict
    rnd = CritiqueRound(steps=("a", "b", "c"), critiques=(step(1, None), step(1, False), step(-1, None)),
                        first_error=2)
    m = step_set_metrics(rnd, 1, text=False)
    assert m["on_erroneous"] == 0.0 and m["combined_on_erroneous"] == 1.0
    assert m["symbolic_only"] == 1.0 and m["symbolic_on_erroneous"] == 1.0 and m["constant"] == 0.0
    # no sympy verdict anywhere: no sympy metric, and combined is the model
    rnd = CritiqueRound(steps=("a",), critiques=(step(1, None),), first_error=-1)
    m = step_set_metrics(rnd, -1, text=False)
    assert "symbolic_only" not in m and m["combined_on_correct"] == 1.0 == m["on_correct"]


@needs_data
def test_benchmark_start_skips_the_evaluated_items_for_calibration():
    cls = get("critique")
    every = cls(data_dir=DATA).items()
    held = cls(cls.parse_options({"start": 100}), data_dir=DATA).items()
    assert [i.id for i in held] == [i.id for i in every[100:]]
    assert not {i.id for i in held} & {i.id for i in every[:100]}


# --- one real item -----------------------------------------------------------------------------------


@pytest.mark.slow
@needs_data
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed")
def test_real_processbench_item_on_the_embedded_05b_gets_a_scored_verdict_for_every_step():
    from ratiocinator.models import load_backend

    cls = get("critique")
    bench = cls(cls.parse_options({"verdict": "scored", "critique": "false"}), data_dir=DATA)
    item = bench.items()[1]  # a correct solution (the items alternate, erroneous first)
    backend = load_backend("llamacpp:qwen2.5-coder-0.5b-instruct")
    try:
        out = bench.run(item, Context(backend=backend))
    finally:
        backend.close()
    (rnd,) = out.output["rounds"]
    assert len(rnd["log_odds"]) == len(item.inputs["steps"])
    assert all(math.isfinite(o) for o in rnd["log_odds"])
    assert -1 <= out.output["predicted"] < len(item.inputs["steps"])
    assert out.completion_tokens == 0  # scored only, nothing generated


def test_an_item_that_fails_is_a_miss_in_its_kind_so_errors_cannot_raise_the_f1():
    from ratiocinator.evals.benchmark import Item
    from ratiocinator.evals.summary import summarize
    from ratiocinator.evals.worker import execute_item

    bench_cls = get("critique")

    class Failing(bench_cls):  # the critic raises on every item
        def run(self, item, ctx):
            raise RuntimeError("model went away")

    bench = Failing()
    items = [Item(id=f"e{i}", inputs={"problem": "p", "steps": ["s"], "label": 0}) for i in range(3)]
    items.append(Item(id="c", inputs={"problem": "p", "steps": ["s"], "label": -1}))
    items.append(Item(id="r", inputs={"problem": "p", "reference": "1"}))  # refine: no kind
    recs = [execute_item(bench, it, Context(backend=None), config_hash="h", model=None) for it in items]
    assert all(r.error for r in recs)
    assert recs[0].metrics == {"on_erroneous": 0.0, "combined_on_erroneous": 0.0}
    assert recs[3].metrics == {"on_correct": 0.0, "combined_on_correct": 0.0} and recs[4].metrics == {}
    s = summarize(recs, benchmark="critique", model=None, config_hash="h", harmonic=bench_cls.harmonic_means)
    f1 = s.row("f1")
    assert f1 is not None and f1.n == 4 and f1.value == 0.0 and s.row("on_erroneous").n == 3
