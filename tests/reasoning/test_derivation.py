"""Tests of the checked-derivation graph and the symbolic item generator, on scripted backends."""

from __future__ import annotations

import pytest

from ratiocinator.errors import InvalidInput
from ratiocinator.kit import StaticRuntime, method_context
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.reasoning.derivation import (
    EQUATIONS_GRAMMAR,
    DerivationConfig,
    DerivationResult,
    build_graph,
    check_lines,
    nodes,
    run,
)
from ratiocinator.reasoning.symbolic_steps import generate_item, judge_step, plant_error

ITEM = generate_item(0)  # y = 4*x + 4; x = 5 - 5*t  ->  t = (y - 24)/(-20)


def test_generated_items_have_sympy_checked_known_derivations():
    for seed in (0, 1):
        item = generate_item(seed)
        assert item == generate_item(seed)  # reproducible
        assert item.steps[0] == item.premise and item.steps[-1] == item.goal
        assert len(item.operations) == len(item.steps) - 1 == 4
        assert check_lines(item, item.steps[1:]).fully_valid
    body, k = plant_error(ITEM, 5)
    assert judge_step(ITEM.steps[k], body[k], ITEM.definitions).verdict == "invalid"


def test_error_kinds_are_told_apart():
    good = check_lines(ITEM, ITEM.steps[1:])
    assert (
        good.fully_valid
        and good.wrong == good.irrelevant == good.skipped == 0
        and good.first_invalid == -1
    )
    lines = ["x = 5 - 5*t", "y = 24 - 20*t", "y - 24 = -21*t", "t = (y - 24)/(-20)"]
    mixed = check_lines(ITEM, lines)
    assert [j.verdict for j in mixed.judgements] == ["irrelevant", "valid", "invalid", "invalid"]
    assert (
        mixed.irrelevant == 1
        and mixed.wrong == 2
        and mixed.first_invalid == 2
        and not mixed.fully_valid
    )
    jump = check_lines(ITEM, ["t = (y - 24)/(-20)"])
    assert jump.fully_valid and jump.skipped == 3  # valid, but three operations in one line
    short = check_lines(ITEM, ["y = 24 - 20*t"])
    assert not short.reaches_goal and not short.fully_valid


def test_a_valid_derivation_needs_no_feedback():
    backend = ScriptedBackend(["\n".join(ITEM.steps[1:]) + "\n"])
    result = run(ITEM, backend=backend)
    assert result.fully_valid and len(result.attempts) == 1
    assert backend.calls[0].params.grammar == EQUATIONS_GRAMMAR
    assert "Premises: y = 4*x + 4; x = 5 - 5*t" in backend.calls[0].prompt[0].content


def test_the_first_invalid_line_is_fed_back_and_earlier_lines_are_kept():
    first = "y = 4*(5 - 5*t) + 4\ny = 24 - 21*t\nt = (y - 24)/(-20)\n"
    fixed = "y = 24 - 20*t\ny - 24 = -20*t\nt = (y - 24)/(-20)\n"
    backend = ScriptedBackend([first, fixed])
    result = run(ITEM, backend=backend)
    assert [a.fully_valid for a in result.attempts] == [False, True]
    assert result.attempts[0].first_invalid == 1
    assert result.attempts[1].lines[0] == "y = 4*(5 - 5*t) + 4"  # kept
    feedback = backend.calls[1].prompt[-1].content
    assert (
        'line 2 of your derivation, "y = 24 - 21*t"' in feedback and "does not follow" in feedback
    )
    assert [m.role for m in backend.calls[1].prompt] == ["user", "assistant", "user"]


def test_feedback_stops_at_its_limit_and_unreadable_output_counts_as_wrong():
    backend = ScriptedBackend(["y = 1 = 2\n", "nonsense\n", "y = ((\n"])
    result = run(ITEM, backend=backend, config=DerivationConfig(max_feedback=2))
    assert len(result.attempts) == 3 and not result.fully_valid
    assert result.attempts[0].judgements[0].verdict == "unparsed"
    assert result.attempts[1].lines == () and result.attempts[1].skipped == 4
    with pytest.raises(InvalidInput, match="DerivationItem"):
        run("y = x", backend=backend)
    with pytest.raises(InvalidInput, match="max_feedback"):
        DerivationConfig(max_feedback=-1)
    assert set(build_graph().get_graph().nodes) >= {"write", "feedback"}


@pytest.mark.slow
def test_real_model_writes_parseable_equations(smollm):
    result = run(ITEM, backend=smollm, config=DerivationConfig(max_tokens=24, max_feedback=0))
    (attempt,) = result.attempts
    assert attempt.lines and all("=" in line for line in attempt.lines)
    assert all(
        j.verdict != "unparsed" for j in attempt.judgements[:-1]
    )  # only a cut-off last line may fail


def test_a_valid_but_unfinished_derivation_is_sent_back_to_be_continued():
    backend = ScriptedBackend(["y = 24 - 20*t\n", "t = (y - 24)/(-20)\n"])
    result = run(ITEM, backend=backend)
    first, second = result.attempts
    assert first.first_invalid == -1 and not first.reaches_goal
    assert second.lines == ("y = 24 - 20*t", "t = (y - 24)/(-20)") and result.fully_valid
    assert "is not the goal t = (y - 24)/(-20)" in backend.calls[1].prompt[-1].content


def test_a_repeated_line_is_irrelevant_and_a_cut_off_line_is_not_judged():
    steps = list(ITEM.steps[1:])
    looped = check_lines(ITEM, [steps[0], steps[0], ITEM.premise, *steps[1:]])
    assert [j.verdict for j in looped.judgements][:3] == ["valid", "irrelevant", "irrelevant"]
    assert looped.judgements[1].detail == "repeats line 1" and looped.judgements[2].detail == "repeats the premise"
    assert looped.irrelevant == 2 and looped.wrong == 0 and not looped.fully_valid
    # A reply cut by max_tokens in the middle of its last line: that fragment is dropped, not called wrong.
    class Cut(ScriptedBackend):
        def _complete(self, prompt, params):
            c = super()._complete(prompt, params)
            return c.model_copy(update={"finish_reason": "length"}) if len(self.calls) == 1 else c

    backend = Cut(["\n".join(steps[:2]) + "\ny - 24 = -2", "\n".join(steps[2:]) + "\n"])
    result = run(ITEM, backend=backend)
    assert result.attempts[0].lines == tuple(steps[:2]) and result.attempts[0].wrong == 0
    assert result.fully_valid and len(result.attempts) == 2


def test_verdicts_say_what_sympy_checked():
    valid = run(ITEM, backend=ScriptedBackend(["\n".join(ITEM.steps[1:]) + "\n"]))
    assert isinstance(valid, DerivationResult) and valid.verdict.status == "verified"
    assert valid.verdict.reason.startswith("sympy showed that each of the 4 lines follows from the one before")
    assert f"the last states the goal {ITEM.goal}" in valid.verdict.reason
    assert valid.report().splitlines()[:4] == list(ITEM.steps[1:]) and "(verified:" in valid.report()
    wrong = run(ITEM, backend=ScriptedBackend(["y = 24 - 21*t\n"]), config=DerivationConfig(max_feedback=0))
    assert wrong.verdict.status == "gave_up"
    assert 'max_feedback=0): sympy: line 1 "y = 24 - 21*t" does not follow' in wrong.verdict.reason
    short = run(ITEM, backend=ScriptedBackend(["y = 24 - 20*t\n"]), config=DerivationConfig(max_feedback=0))
    assert short.verdict.status == "gave_up" and "the last one is not the goal" in short.verdict.reason
    empty = run(ITEM, backend=ScriptedBackend(["nothing\n"]), config=DerivationConfig(max_feedback=0))
    assert empty.verdict.status == "failed" and "(no equation)" in empty.report()


def test_usage_is_what_the_backend_counted_and_sampling_uses_the_seed():
    backend = ScriptedBackend(["y = 24 - 21*t\n", "\n".join(ITEM.steps[1:]) + "\n"])
    result = run(ITEM, backend=backend, config=DerivationConfig(temperature=0.5, seed=7))
    assert result.usage.calls == 2 and result.usage.completion_tokens == sum(
        c.completion_tokens for c in backend.completions
    )
    assert [c.params.seed for c in backend.calls] == [7, 7]
    greedy = ScriptedBackend(["\n".join(ITEM.steps[1:]) + "\n"])
    run(ITEM, backend=greedy)
    assert greedy.calls[0].params.seed is None and greedy.calls[0].params.max_tokens == 160


def test_nodes_run_alone():
    backend = ScriptedBackend(["y = 24 - 21*t\n"])
    runtime = StaticRuntime(method_context(backend, DerivationConfig()))
    state = {"item": ITEM, "attempts": []}
    state.update(nodes.write(state, runtime))
    (attempt,) = state["attempts"]
    assert attempt.first_invalid == 0 and runtime.context.usage.calls == 1
    assert "Example." in state["messages"][0].content and state["messages"][1].role == "assistant"
    assert nodes.route(state, runtime) == "feedback"
    assert nodes.route(state, StaticRuntime(method_context(backend, DerivationConfig(max_feedback=0)))) == "__end__"
    told = nodes.feedback(state, runtime)["messages"][-1].content
    assert told.startswith('The line 1 of your derivation, "y = 24 - 21*t", does not follow from "y = 4*x + 4"')
