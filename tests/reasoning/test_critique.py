"""Tests of the DeepCritic graph: judgements, second look, merge, sympy evidence, refinement, on scripted backends."""

from __future__ import annotations

import re

import pytest

from ratiocinator.errors import InvalidInput
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.reasoning.critique import (
    JUDGEMENT_GRAMMAR,
    DeepCriticConfig,
    build_critique_graph,
    parse_judgement,
    parse_steps,
    run_critique,
    strip_step,
)

PROBLEM = "Sue has 18 flamingos and gets 6 more. How many now?"
STEPS = [
    "Step 1: Sue starts with 18.",
    "Step 2: She gets 6 more: 18 + 6 = 25.",
    "Step 3: Final answer: 25",
]


def box(mark: int) -> str:
    return f"**Critique**: looks at it.\n**Judgement**: #### The correctness of Step is: \\boxed{{{mark}}}"


def critic(
    initial: dict[int, int],
    second: dict[int, int] | None = None,
    refine: str = "",
    grammar: str = "-1",
):
    """Scripted critic: step i (1-based) is judged initial[i] (default 1) and then second[i] (default: same)."""
    second = second or {}

    def reply(prompt, params):
        text = prompt[-1].content
        if params.grammar is not None:
            return grammar
        if text.startswith("Solve the problem"):
            return "Step 1: 18 + 6 = 24\nStep 2: Final answer: 24"
        if "A careful check found" in text:
            return refine
        i = int(re.findall(r"Step (\d+)", text)[-1])
        if "critique the original critique" in text:
            return box(second.get(i, initial.get(i, 1)))
        mark = initial.get(i, 1)
        return box(mark) if mark else "I am not sure about this step."

    return ScriptedBackend(reply)


def test_first_wrong_step_is_reported_0_based():
    result = run_critique(critic({2: -1, 3: -1}), PROBLEM, STEPS)
    assert result.first_error == 1 and not result.refined
    (rnd,) = result.rounds
    assert [c.final for c in rnd.critiques] == [1, -1, -1]
    assert all(
        c.second_look is not None and "verify this step once more" in c.merged
        for c in rnd.critiques
    )


def test_the_second_look_decides():
    result = run_critique(critic({1: -1}, second={1: 1, 3: -1}), PROBLEM, STEPS)
    (rnd,) = result.rounds
    assert [c.initial for c in rnd.critiques] == [-1, 1, 1]
    assert [c.final for c in rnd.critiques] == [1, 1, -1] and result.first_error == 2


def test_all_correct_gives_minus_one_and_no_second_look_when_off():
    backend = critic({})
    result = run_critique(backend, PROBLEM, STEPS, config=DeepCriticConfig(second_look=False))
    assert result.first_error == -1
    assert len(backend.calls) == 3 and not any(
        "original critique" in c.prompt[-1].content for c in backend.calls
    )


def test_an_unparseable_judgement_is_asked_again_under_a_grammar():
    backend = critic({2: 0}, second={2: 0}, grammar="-1")
    result = run_critique(backend, PROBLEM, STEPS)
    assert result.rounds[0].critiques[1].initial == -1 and result.first_error == 1
    asked = [c for c in backend.calls if c.params.grammar is not None]
    assert len(asked) == 2 and all(c.params.grammar == JUDGEMENT_GRAMMAR for c in asked)
    assert asked[0].prompt[1].role == "assistant"  # the cut-off critique is kept as context


def test_sympy_evidence_reaches_the_critic_and_can_decide():
    backend = critic({})
    result = run_critique(backend, PROBLEM, STEPS)
    step2 = result.rounds[0].critiques[1]
    assert step2.symbolic_valid is False and "18 + 6 = 25 is WRONG" in step2.symbolic
    told = [
        c.prompt[-1].content
        for c in backend.calls
        if "18 + 6 = 25 is WRONG" in c.prompt[-1].content
    ]
    assert len(told) == 2 and all(
        "<Computer Algebra Check>" in t for t in told
    )  # first and second look
    assert result.rounds[0].critiques[0].symbolic is None  # no arithmetic in step 1
    assert result.first_error == -1  # the critic said 1 throughout
    decided = run_critique(
        critic({}), PROBLEM, STEPS, config=DeepCriticConfig(symbolic_decides=True)
    )
    assert decided.first_error == 1


def test_equation_steps_are_checked_against_the_premises():
    steps = ["y = 2*(t + 1) + 3", "y = 2*t + 6"]
    result = run_critique(critic({}), "derive", steps, given=["y = 2*x + 3", "x = t + 1"])
    first, second = result.rounds[0].critiques
    assert first.symbolic_valid is True and second.symbolic_valid is False


def test_refinement_feeds_the_first_error_back_and_critiques_again():
    fixed = "Step 1: Sue starts with 18.\nStep 2: 18 + 6 = 24\nStep 3: Final answer: 24"
    scripted = critic({2: -1}, refine=fixed)

    def reply(prompt, params):  # the refined solution is judged correct
        if "18 + 6 = 24" in prompt[-1].content and "A careful check" not in prompt[-1].content:
            return box(1)
        return scripted._script(prompt, params)

    backend = ScriptedBackend(reply)
    result = run_critique(backend, PROBLEM, STEPS, config=DeepCriticConfig(max_refinements=2))
    assert result.refined and len(result.rounds) == 2 and result.first_error == -1
    assert result.steps[-1] == "Final answer: 24"
    refine_prompt = next(
        c.prompt[-1].content for c in backend.calls if "A careful check" in c.prompt[-1].content
    )
    assert "Step 2 is wrong" in refine_prompt and "Steps 1 to 1 are correct" in refine_prompt


def test_refinement_stops_at_its_limit():
    backend = critic({1: -1}, refine="Step 1: still wrong")
    result = run_critique(backend, PROBLEM, STEPS, config=DeepCriticConfig(max_refinements=2))
    assert len(result.rounds) == 3 and result.first_error == 0


def test_without_steps_the_generator_writes_them_first():
    result = run_critique(critic({}), PROBLEM)
    assert result.steps == ("18 + 6 = 24", "Final answer: 24") and result.first_error == -1
    assert set(build_critique_graph(critic({})).get_graph().nodes) >= {
        "solve",
        "critique",
        "second_look",
        "merge",
        "refine",
    }


def test_parsing_helpers_and_bad_input():
    assert parse_judgement("x \\boxed{1} then \\boxed{ -1 }") == -1 and parse_judgement("none") == 0
    assert parse_judgement("**Judgement**: The correctness of Step 4 is: -1\nmore") == -1
    assert parse_judgement("The correctness of Step 2 is: 1.5") == 0
    assert strip_step("**Step 3:** add") == "add"
    assert parse_steps("Step 1: a\nmore\nStep 2: b") == ["a\nmore", "b"] and parse_steps(
        "a\n\nb"
    ) == ["a", "b"]
    with pytest.raises(InvalidInput, match="problem"):
        run_critique(critic({}), " ", STEPS)
    with pytest.raises(InvalidInput, match="steps"):
        run_critique(critic({}), PROBLEM, ["ok", " "])
    with pytest.raises(InvalidInput, match="max_refinements"):
        DeepCriticConfig(max_refinements=-1)


@pytest.mark.slow
def test_real_model_gives_a_judgement_for_every_step(smollm):
    cfg = DeepCriticConfig(critique_max_tokens=16, second_look_max_tokens=16)
    result = run_critique(smollm, "What is 2 + 3?", ["2 + 3 = 6"], config=cfg)
    ((step,),) = [r.critiques for r in result.rounds]
    assert step.initial in (1, -1) and step.second in (
        1,
        -1,
    )  # parsed, or asked again under the grammar
    assert step.symbolic_valid is False and result.first_error in (-1, 0)
