"""Refinement from the first error (refine_from="error"): the kept steps, the redraws and the prompt, on scripted backends."""

from __future__ import annotations

import re

from ratiocinator.evals.benchmark import options_identity
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.reasoning.critique import DeepCriticConfig, run
from ratiocinator.reasoning.critique.refine import (
    refine_from_error,
    refine_prompt,
    rewrite_problem,
    rewritten_steps,
)

PROBLEM = "Sue has 18 flamingos and gets 6 more, then 4 more. How many now?"
STEPS = ["Sue starts with 18.", "She gets 6 more: 18 + 6 = 25.", "Then 4 more: 25 + 4 = 29.", "Final answer: 29"]
CFG = DeepCriticConfig(max_refinements=1, refine_from="error")


def test_the_prompt_shows_the_kept_steps_and_the_wrong_one() -> None:
    text = refine_prompt(PROBLEM, STEPS, 1, "18 + 6 is 24.")
    assert "Step 1: Sue starts with 18." in text and "Step 2: She gets 6 more: 18 + 6 = 25." in text
    assert "Step 3" not in text.split("The next step")[0]  # only the steps before the error are shown as kept
    assert "Write Step 2 again" in text and "18 + 6 is 24." in text
    assert "(none: the first step is the wrong one)" in refine_prompt(PROBLEM, STEPS, 0, "no")


def test_a_rewrite_is_redrawn_when_it_repeats_the_step_or_sympy_refutes_it() -> None:
    assert rewrite_problem(STEPS[1], ["She gets  6 more: 18 + 6 = 25."]) == "repeats the wrong step"
    assert rewrite_problem(STEPS[1], ["She gets 6 more: 18 + 6 = 23."]) == "sympy refutes 18 + 6 = 23"
    assert rewrite_problem(STEPS[1], []) == "no step"
    assert rewrite_problem(STEPS[1], ["She gets 6 more: 18 + 6 = 24.", "Final answer: 28"]) is None


def test_a_rewrite_loses_its_echoes_of_the_prompt_and_its_restarted_steps() -> None:
    echoed = ("Step 2: She gets 6 more: 18 + 6 = 25.\nA careful check found it wrong:\n**Critique of Step 2** ...\n"
              "Step 3: Final answer: 29")
    assert rewritten_steps(echoed, 1) == ["She gets 6 more: 18 + 6 = 25.", "Final answer: 29"]
    assert rewrite_problem(STEPS[1], rewritten_steps(echoed, 1)) == "repeats the wrong step"
    restarted = "Step 1: Sue starts with 18.\nStep 2: 18 + 6 = 24.\nStep 3: 24 + 4 = 28.\nStep 4: Final answer: 28"
    assert rewritten_steps(restarted, 1) == ["18 + 6 = 24.", "24 + 4 = 28.", "Final answer: 28"]
    assert rewritten_steps("18 + 6 = 24.\nFinal answer: 28", 1) == ["18 + 6 = 24.", "Final answer: 28"]  # unnumbered
    assert rewrite_problem(STEPS[1], ["She gets 6 more: 18 + 6 = 25. So she has 25."]) == "repeats the wrong step"


def test_the_first_passing_draw_is_taken_after_the_kept_steps() -> None:
    replies = ["Step 2: She gets 6 more: 18 + 6 = 25.\nStep 3: Final answer: 29",  # greedy: the same step
               "Step 2: She gets 6 more: 18 + 6 = 26.\nStep 3: Final answer: 30",  # refuted by sympy
               "Step 2: She gets 6 more: 18 + 6 = 24.\nStep 3: 24 + 4 = 28.\nStep 4: Final answer: 28"]
    backend = ScriptedBackend(replies)
    steps = refine_from_error(backend, CFG, PROBLEM, STEPS, 1, "18 + 6 is 24.", 256)
    assert steps == [STEPS[0], "She gets 6 more: 18 + 6 = 24.", "24 + 4 = 28.", "Final answer: 28"]
    temps = [c.params.temperature for c in backend.calls]
    assert temps == [0.0, CFG.refine_temperature, CFG.refine_temperature]
    assert [c.params.seed for c in backend.calls[1:]] == [CFG.seed + 1, CFG.seed + 2]


def test_when_no_draw_passes_the_first_is_kept() -> None:
    same = "Step 2: She gets 6 more: 18 + 6 = 25.\nStep 3: Final answer: 29"
    backend = ScriptedBackend([same] * 3)
    steps = refine_from_error(backend, CFG, PROBLEM, STEPS, 1, "no", 256)
    assert steps == [STEPS[0], "She gets 6 more: 18 + 6 = 25.", "Final answer: 29"] and len(backend.calls) == 3


def test_the_loop_refines_from_the_error_and_critiques_again() -> None:
    def reply(prompt, params):  # a critic that finds exactly the step with 18 + 6 = 25 wrong
        text = prompt[-1].content
        if "A careful check found it wrong" in text:
            return "Step 2: She gets 6 more: 18 + 6 = 24.\nStep 3: 24 + 4 = 28.\nStep 4: Final answer: 28"
        if params.grammar is not None:
            return "1"
        index = re.findall(r"Step (\d+)", text)[-1]
        path = text.split("<Solution Path>")[1].split("</Solution Path>")[0]
        step = next(line for line in path.splitlines() if line.startswith(f"Step {index}:"))
        return f"**Judgement**: #### The correctness of Step is: \\boxed{{{-1 if '= 25' in step else 1}}}"

    result = run(PROBLEM, backend=ScriptedBackend(reply), steps=STEPS, config=CFG)
    assert len(result.rounds) == 2 and result.steps[0] == STEPS[0]
    assert list(result.steps[1:]) == ["She gets 6 more: 18 + 6 = 24.", "24 + 4 = 28.", "Final answer: 28"]
    assert result.first_error == -1 and result.refined


def test_the_new_fields_leave_the_default_identity_alone() -> None:
    from ratiocinator.evals.benchmarks.critique import CritiqueBenchOptions

    default = options_identity(CritiqueBenchOptions())
    assert "refine_from" not in default["config"] and "refine_draws" not in default["config"]
    assert options_identity(CritiqueBenchOptions(config=CFG))["config"]["refine_from"] == "error"
