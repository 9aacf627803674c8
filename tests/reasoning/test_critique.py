"""Tests of the DeepCritic graph: judgements, second look, merge, sympy evidence, refinement, on scripted backends."""

from __future__ import annotations

import re

import pytest

from ratiocinator.errors import InvalidInput
from ratiocinator.kit import StaticRuntime, method_context
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.reasoning.critique import (
    JUDGEMENT_GRAMMAR,
    CritiqueResult,
    DeepCriticConfig,
    build_graph,
    nodes,
    parse_judgement,
    parse_steps,
    run,
    strip_step,
    symbolic_evidence,
)
from ratiocinator.reasoning.symbolic_steps import generate_item

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
    result = run(PROBLEM, backend=critic({2: -1, 3: -1}), steps=STEPS)
    assert result.first_error == 1 and not result.refined
    (rnd,) = result.rounds
    assert [c.final for c in rnd.critiques] == [1, -1, -1]
    assert all(
        c.second_look is not None and "verify this step once more" in c.merged
        for c in rnd.critiques
    )


def test_the_second_look_decides():
    result = run(PROBLEM, backend=critic({1: -1}, second={1: 1, 3: -1}), steps=STEPS)
    (rnd,) = result.rounds
    assert [c.initial for c in rnd.critiques] == [-1, 1, 1]
    assert [c.final for c in rnd.critiques] == [1, 1, -1] and result.first_error == 2


def test_all_correct_gives_minus_one_and_no_second_look_when_off():
    backend = critic({})
    result = run(PROBLEM, backend=backend, steps=STEPS, config=DeepCriticConfig(second_look=False))
    assert result.first_error == -1
    assert len(backend.calls) == 3 and not any(
        "original critique" in c.prompt[-1].content for c in backend.calls
    )


def test_an_unparseable_judgement_is_asked_again_under_a_grammar():
    backend = critic({2: 0}, second={2: 0}, grammar="-1")
    result = run(PROBLEM, backend=backend, steps=STEPS)
    assert result.rounds[0].critiques[1].initial == -1 and result.first_error == 1
    asked = [c for c in backend.calls if c.params.grammar is not None]
    assert len(asked) == 2 and all(c.params.grammar == JUDGEMENT_GRAMMAR for c in asked)
    assert asked[0].prompt[1].role == "assistant"  # the cut-off critique is kept as context


def test_sympy_evidence_reaches_the_critic_and_can_decide():
    backend = critic({})
    result = run(PROBLEM, backend=backend, steps=STEPS)
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
    decided = run(
        PROBLEM, backend=critic({}), steps=STEPS, config=DeepCriticConfig(symbolic_decides=True)
    )
    assert decided.first_error == 1


def test_equation_steps_are_checked_against_the_premises():
    steps = ["y = 2*(t + 1) + 3", "y = 2*t + 6"]
    result = run("derive", backend=critic({}), steps=steps, given=["y = 2*x + 3", "x = t + 1"])
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
    result = run(PROBLEM, backend=backend, steps=STEPS, config=DeepCriticConfig(max_refinements=2))
    assert result.refined and len(result.rounds) == 2 and result.first_error == -1
    assert result.steps[-1] == "Final answer: 24"
    refine_prompt = next(
        c.prompt[-1].content for c in backend.calls if "A careful check" in c.prompt[-1].content
    )
    assert "Step 2 is wrong" in refine_prompt and "Steps 1 to 1 are correct" in refine_prompt


def test_refinement_stops_at_its_limit():
    backend = critic({1: -1}, refine="Step 1: still wrong")
    result = run(PROBLEM, backend=backend, steps=STEPS, config=DeepCriticConfig(max_refinements=2))
    assert len(result.rounds) == 3 and result.first_error == 0


def test_without_steps_the_generator_writes_them_first():
    result = run(PROBLEM, backend=critic({}))
    assert result.steps == ("18 + 6 = 24", "Final answer: 24") and result.first_error == -1
    assert set(build_graph().get_graph().nodes) >= {
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
        run(" ", backend=critic({}), steps=STEPS)
    with pytest.raises(InvalidInput, match="steps"):
        run(PROBLEM, backend=critic({}), steps=["ok", " "])
    with pytest.raises(InvalidInput, match="max_refinements"):
        DeepCriticConfig(max_refinements=-1)


@pytest.mark.slow
def test_real_model_gives_a_judgement_for_every_step(smollm):
    cfg = DeepCriticConfig(critique_max_tokens=16, second_look_max_tokens=16)
    result = run("What is 2 + 3?", backend=smollm, steps=["2 + 3 = 6"], config=cfg)
    ((step,),) = [r.critiques for r in result.rounds]
    assert step.initial in (1, -1) and step.second in (
        1,
        -1,
    )  # parsed, or asked again under the grammar
    assert step.symbolic_valid is False and result.first_error in (-1, 0)


def test_an_identity_step_is_shown_to_the_critic_as_such_not_as_following():
    """Regression: sympy's "irrelevant" (an identity once the definitions are substituted) was told as "follows"."""
    item = generate_item(0)  # y = 4*x + 4; x = 5 - 5*t
    steps = ["x = 5 - 5*t", *item.steps[1:]]
    evidence = symbolic_evidence(steps, 0, item.premises)
    assert evidence.check == "identity" and evidence.valid is True
    assert "is an identity" in evidence.note and "Step 1 follows" not in evidence.note
    assert "did not check that it follows" in evidence.note
    backend = critic({})
    result = run(item.problem(), backend=backend, steps=steps, given=list(item.premises))
    first = result.rounds[0].critiques[0]
    assert first.symbolic == evidence.note and first.symbolic_check == "identity"
    told = [c.prompt[-1].content for c in backend.calls if "Step 1" in c.prompt[-1].content.split("Now,")[-1]]
    assert told and all(evidence.note in t and "Step 1 follows" not in t for t in told)
    # a step that does follow is still told so
    assert symbolic_evidence(item.steps[1:], 1, item.premises).note.startswith("sympy: Step 2 follows")


def test_verdict_is_verified_when_sympy_proves_the_wrong_step():
    result = run(PROBLEM, backend=critic({2: -1}), steps=STEPS)
    assert isinstance(result, CritiqueResult) and result.first_error == 1
    assert result.verdict.status == "verified"
    reason = result.verdict.reason
    assert "18 + 6 = 25 is WRONG" in reason and "Step 1 before it was judged by the critic" in reason
    assert "an earlier error is not ruled out" in reason
    assert "First wrong step: Step 2." in result.report() and "verified:" in result.report()


def test_verdict_is_unverified_for_the_critics_word_and_names_a_disagreement():
    alone = run(PROBLEM, backend=critic({1: -1}), steps=STEPS)
    assert alone.first_error == 0 and alone.verdict.status == "unverified"
    assert "the critic judged Step 1 wrong: looks at it." in alone.verdict.reason
    assert "no engine checked" in alone.verdict.reason
    missed = run(PROBLEM, backend=critic({}), steps=STEPS)
    assert missed.first_error == -1 and missed.verdict.status == "unverified"
    assert "the critic judged no step wrong" in missed.verdict.reason
    assert "sympy disagrees on Step 2: sympy checked the arithmetic of Step 2: 18 + 6 = 25 is WRONG." in (
        missed.verdict.reason
    )
    assert "Steps 1 and 3 were judged by the critic alone" in missed.verdict.reason
    assert "No step was judged wrong." in missed.report()


def test_verdict_is_verified_when_every_equation_step_follows():
    item = generate_item(0)
    result = run(item.problem(), backend=critic({}), steps=list(item.steps[1:]), given=list(item.premises))
    assert result.first_error == -1 and result.verdict.status == "verified"
    assert "sympy showed that every step follows from the one before (Steps 1, 2, 3 and 4)" in result.verdict.reason
    # only arithmetic confirmed: not verified
    arith = run(PROBLEM, backend=critic({}), steps=["18 + 6 = 24", "Final answer: 24"])
    assert arith.verdict.status == "unverified"
    assert "sympy confirmed only the arithmetic of Step 1" in arith.verdict.reason


def test_refinement_that_runs_out_of_rounds_gives_up():
    result = run(PROBLEM, backend=critic({1: -1}, refine="Step 1: still wrong"),
                 steps=STEPS, config=DeepCriticConfig(max_refinements=2))
    assert result.verdict.status == "gave_up"
    assert result.verdict.reason.startswith("after 2 refinement(s) (max_refinements=2) Step 1 is still judged wrong")


def test_usage_is_what_the_backend_counted():
    backend = critic({2: 0}, second={2: 0}, grammar="-1")
    result = run(PROBLEM, backend=backend, steps=STEPS)
    assert result.usage.calls == 4  # critiques, one re-ask, second looks, one re-ask
    assert result.usage.completion_tokens == sum(c.completion_tokens for c in backend.completions)
    assert result.usage.prompt_tokens == sum(c.prompt_tokens for c in backend.completions) > 0


def _runtime(backend=None, **config):
    return StaticRuntime(method_context(backend or critic({}), DeepCriticConfig(**config)))


def test_nodes_run_alone():
    state = {"problem": PROBLEM, "steps": STEPS, "given": []}
    evidence = nodes.symbolic(state, _runtime())["evidence"]
    assert evidence[0].note is None and evidence[1].valid is False and evidence[1].check == "arithmetic"
    assert all(e.note is None for e in nodes.symbolic(state, _runtime(symbolic=False))["evidence"])
    state["evidence"] = evidence
    backend = critic({2: -1, 3: 0})
    runtime = _runtime(backend)
    state["critiques"] = nodes.critique(state, runtime)["critiques"]
    assert [m for _, m in state["critiques"]] == [1, -1, -1]  # step 3 asked again under the grammar
    assert len(backend.calls) == 4 and runtime.context.usage.calls == 2  # three prompts in one call, then one
    state["second"] = nodes.second_look(state, _runtime(critic({}, second={2: 1})))["second"]
    (rnd,) = nodes.merge(state, _runtime())["rounds"]
    assert [c.final for c in rnd.critiques] == [1, 1, 1] and rnd.first_error == -1
    (decided,) = nodes.merge(state, _runtime(symbolic_decides=True))["rounds"]
    assert decided.first_error == 1 and decided.critiques[1].symbolic_check == "arithmetic"
    state["rounds"] = [decided]
    assert nodes.after_merge(state, _runtime()) == "__end__"
    assert nodes.after_merge(state, _runtime(max_refinements=1)) == "refine"
    assert nodes.start({"steps": []}) == "solve" and nodes.start(state) == "symbolic"
    fixed = nodes.refine(state, _runtime(critic({}, refine="Step 1: a\nStep 2: b")))
    assert fixed == {"steps": ["a", "b"]}
