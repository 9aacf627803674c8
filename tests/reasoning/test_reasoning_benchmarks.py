"""Tests of the reasoning benchmarks (cqot, critique, derivation) on scripted backends and the shared data."""

from __future__ import annotations

import json

import pytest

from ratiocinator.errors import InvalidInput
from ratiocinator.evals.benchmark import Context, get
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.reasoning.cqot.prompts import PLAN_SYSTEM
from tests.shared_data import needs, root

#: the critique sets do not ship (3 MB): $RATIOCINATOR_DATA or ../shared/data
DATA = root("critique")
needs_data = needs("critique", "critique/ (ProcessBench, Mr-GSM8K, CQoT)")


@needs_data
def test_cqot_items_hold_exact_references():
    bench = get("cqot")(data_dir=DATA)
    items = bench.items()
    groups = {i.group for i in items}
    assert groups == {"gsm8k", "mtbench-reasoning", "mtbench-math"}
    gsm = [i for i in items if i.group == "gsm8k"]
    assert len({i.inputs["question"] for i in gsm}) == len(gsm)  # one item per problem
    assert all(float(i.inputs["reference"]) == float(i.inputs["reference"]) for i in gsm)
    with pytest.raises(InvalidInput, match="unknown set"):
        get("cqot")(get("cqot").parse_options({"sets": "nope"}), data_dir=DATA).items()


def test_cqot_scoring_reads_the_final_answer():
    correct = get("cqot").correct
    assert correct("3 + 15 = 18\nFinal answer: 18", {"reference": "18"})
    assert not correct("Final answer: 17 (not 18)", {"reference": "18"})
    assert correct("so it is 18", {"reference": "18"})
    assert correct("Final answer: You are in second place.", {"pattern": r"\bsecond\b"})
    assert not correct("Final answer: first place", {"pattern": r"\bsecond\b"})


@needs_data
def test_cqot_benchmark_scores_each_method_on_a_scripted_backend():
    def reply(prompt, params):
        if params.schema is not None:
            return json.dumps({f"q{i}": "Yes" for i in range(1, 9)})
        if prompt[0].content == PLAN_SYSTEM:
            return "1. count the girls 2. double them 3. add"
        if "step by step" in prompt[-1].content:
            return "6 girls, 12 boys.\nFinal answer: 18"
        if prompt[0].role == "user":
            return "Final answer: 12"
        return "Following the plan: 6 + 12.\nFinal answer: 18"

    bench = get("cqot")(get("cqot").parse_options({"sets": "gsm8k"}), data_dir=DATA)
    item = bench.items()[0]
    assert item.inputs["reference"] == "18"
    outcome = bench.run(item, Context(backend=ScriptedBackend(reply)))
    assert outcome.metrics["standard"] == 0.0 and outcome.metrics["cot"] == 1.0
    assert outcome.metrics["cqot"] == 1.0 and outcome.score == 1.0
    assert outcome.output["cqot_status"] == "strict" and outcome.metrics["cqot_redrafts"] == 0.0


def _always_correct(prompt, params):
    return "fine \\boxed{1}"


@needs_data
def test_critique_on_planted_derivations_reports_the_sympy_baseline():
    cls = get("critique")
    bench = cls(cls.parse_options({"dataset": "planted", "planted_items": 3}), data_dir=DATA)
    items = bench.items()
    assert items[0].inputs["label"] == -1 and all(i.inputs["label"] >= 0 for i in items[1:])
    clean = bench.run(items[0], Context(backend=ScriptedBackend(_always_correct)))
    planted = bench.run(items[1], Context(backend=ScriptedBackend(_always_correct)))
    assert clean.score == 1.0 and clean.metrics["on_correct"] == 1.0
    assert planted.score == 0.0 and planted.metrics["on_erroneous"] == 0.0
    assert planted.metrics["symbolic_only"] == 1.0 and planted.output["predicted"] == -1
    # tokens are the backend's count (prompt and completion), and the verdict is recorded
    assert planted.prompt_tokens > 0 and planted.completion_tokens > 0
    assert clean.output["verdict"]["status"] == "verified"  # every step an equation sympy showed to follow
    assert planted.output["verdict"]["status"] == "unverified"  # the critic missed what sympy found


def test_critique_benchmark_holds_the_deepcritic_config():
    from ratiocinator.reasoning.critique import DeepCriticConfig

    cls = get("critique")
    assert cls.method == "deepcritic"
    default = cls.parse_options({}).config
    assert default == DeepCriticConfig(
        critique_max_tokens=256, second_look_max_tokens=256, solve_max_tokens=256, max_refinements=1
    )
    opts = cls.parse_options({"critique_max_tokens": 96, "second_look": "false", "dataset": "planted"})
    assert opts.config.critique_max_tokens == 96 and opts.config.second_look is False
    assert opts.config.second_look_max_tokens == 256 and opts.dataset == "planted"


@needs_data
def test_critique_step_sets_alternate_wrong_and_correct_solutions():
    cls = get("critique")
    items = cls(data_dir=DATA).items()
    labels = [i.inputs["label"] for i in items[:6]]
    assert [lab >= 0 for lab in labels] == [True, False] * 3


@needs_data
def test_critique_and_refine_scores_the_answer_before_and_after():
    def reply(prompt, params):
        text = prompt[-1].content
        if text.startswith("Solve the problem"):
            return "Step 1: 2 * 6 = 13 boys\nStep 2: Final answer: 19"
        if "A careful check found" in text:
            return "Step 1: 2 * 6 = 12 boys\nStep 2: 12 + 6 = 18\nStep 3: Final answer: 18"
        return (
            "wrong \\boxed{-1}"
            if "13 boys" in text.split("<Solution Path>")[1]
            else "ok \\boxed{1}"
        )

    cls = get("critique")
    bench = cls(cls.parse_options({"dataset": "refine"}), data_dir=DATA)
    outcome = bench.run(bench.items()[0], Context(backend=ScriptedBackend(reply)))
    assert (
        outcome.metrics["initial"] == 0.0
        and outcome.metrics["refined"] == 1.0
        and outcome.score == 1.0
    )
    assert outcome.metrics["flagged"] == 1.0 and outcome.metrics["rounds"] == 2.0
    assert outcome.completion_tokens > 0 and outcome.prompt_tokens > 0


def test_derivation_benchmark_counts_error_kinds_of_the_first_attempt():
    from ratiocinator.reasoning.symbolic_steps import generate_item

    cls = get("derivation")
    assert cls.method == "derivation"
    bench = cls(cls.parse_options({"items": 2, "max_feedback": 1}))
    assert bench.options.config.max_feedback == 1 and bench.options.config.max_tokens == 160
    items = bench.items()
    assert [i.group for i in items] == ["linear", "quadratic"]
    known = generate_item(0).steps
    # first attempt: a restated definition, then a jump straight to the goal; the fix writes it out
    replies = [f"x = 5 - 5*t\n{known[-1]}\n", "\n".join(known[1:]) + "\n"]
    outcome = bench.run(items[0], Context(backend=ScriptedBackend(replies)))
    assert outcome.metrics["irrelevant"] == 1.0 and outcome.metrics["skipped"] == 1.0
    assert outcome.metrics["first_valid"] == 0.0 and outcome.metrics["wrong"] == 0.0
    assert (
        outcome.score == 1.0 and outcome.metrics["attempts"] == 2.0 and outcome.metrics["sound"] == 1.0
    )  # the irrelevant line went back
    # a derivation that jumps to the goal is sound but not complete: it scores 0
    jump = bench.run(items[0], Context(backend=ScriptedBackend([f"{known[1]}\n{known[-1]}\n"])))
    assert jump.metrics["sound"] == 1.0 and jump.metrics["skipped"] == 1.0
    assert jump.score == 0.0 and jump.metrics["first_complete"] == 0.0 and jump.metrics["first_valid"] == 1.0
    assert outcome.output["verdict"]["status"] == "verified"
    assert outcome.completion_tokens > 0 and outcome.prompt_tokens > 0
