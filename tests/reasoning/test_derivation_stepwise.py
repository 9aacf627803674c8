"""Tests of the derivation written one line per reply (mode="stepwise"), on scripted backends."""

from __future__ import annotations

from ratiocinator.evals.benchmark import options_identity
from ratiocinator.evals.benchmarks.derivation import DerivationBenchOptions
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.reasoning.derivation import DerivationConfig, run
from ratiocinator.reasoning.derivation.prompts import LINE_GRAMMAR, NEXT_LINE_PROMPT
from ratiocinator.reasoning.derivation.stepwise import choose_line
from ratiocinator.reasoning.symbolic_steps import generate_item

ITEM = generate_item(0)  # y = 4*x + 4; x = 5 - 5*t  ->  t = (y - 24)/(-20)
S1, S2, S3, GOAL = ITEM.steps[1:]
WRONG = "y = 25 - 20*t"  # does not follow from S2
CFG = DerivationConfig(mode="stepwise", candidates=3)


def replies(*steps: tuple[str, str, str]) -> list[str]:
    """Per line: the greedy draw, then the two sampled ones (each reply one line under LINE_GRAMMAR)."""
    return [f"{d}\n" for step in steps for d in step]


def test_each_line_is_drawn_alone_and_the_derivation_ends_at_the_goal() -> None:
    backend = ScriptedBackend(replies((S1, WRONG, S1), (S2, S2, WRONG), (S3, S3, S3), (GOAL, GOAL, WRONG)))
    result = run(ITEM, backend=backend, config=CFG)
    (attempt,) = result.attempts
    assert attempt.lines == (S1, S2, S3, GOAL) and result.fully_valid and attempt.complete
    assert result.verdict.status == "verified"
    greedy, sampled = backend.calls[0].params, backend.calls[1].params
    assert greedy.temperature == 0 and greedy.grammar == LINE_GRAMMAR and greedy.n == 1
    assert sampled.temperature == CFG.step_temperature and sampled.n == 2
    assert [c.params.seed for c in backend.calls[1::3]] == [0, 1, 2, 3]  # a new seed per line
    # the conversation: the whole mode's prompt, then each accepted line as the model's turn
    first, last = backend.calls[0].prompt, backend.calls[-1].prompt
    assert len(first) == 1 and f"Goal: {ITEM.goal}" in first[0].content
    assert [m.role for m in last] == ["user", "assistant", "user", "assistant", "user", "assistant", "user"]
    assert [m.content for m in last[1::2]] == [S1, S2, S3] and last[0] == first[0]
    assert last[-1].content == NEXT_LINE_PROMPT
    assert len(backend.calls) == 4 * 3 and result.usage.calls == 8  # 4 lines x (greedy + one sampled request)


def test_a_valid_line_drawn_often_beats_a_wrong_greedy_one() -> None:
    assert choose_line(ITEM, [S1], [WRONG, S2, S2]) == (S2, True)
    # among valid new lines the one drawn most often; the earliest among equals
    alt = "y = 20 + 4 - 20*t"  # also follows from S1 (its sums written out)
    assert choose_line(ITEM, [S1], [S2, alt, alt]) == (alt, True)
    assert choose_line(ITEM, [S1], [alt, S2]) == (alt, True)


def test_a_draw_stating_the_goal_has_no_preference() -> None:
    assert choose_line(ITEM, [S1, S2, S3], [WRONG, GOAL]) == (GOAL, True)  # the one valid draw
    jumped = "y - 24 = -20*t"  # S3 as written by another hand: follows from S1 too
    assert choose_line(ITEM, [S1], [GOAL, jumped, jumped]) == (jumped, True)  # more draws agree on it
    # a jump straight to the goal ends the derivation: sound, but the benchmark counts the skipped steps
    backend = ScriptedBackend(replies((S1, S1, S1), (GOAL, GOAL, S2)))
    result = run(ITEM, backend=backend, config=CFG)
    (attempt,) = result.attempts
    assert attempt.lines == (S1, GOAL) and attempt.fully_valid and attempt.skipped == 2
    assert not attempt.complete


def test_repeats_are_not_steps_and_no_valid_draw_ends_the_chain() -> None:
    assert choose_line(ITEM, [S1, S2], [S2, S1, ITEM.premise]) == (S2, False)  # all repeats: greedy kept
    backend = ScriptedBackend(replies((S1, S1, S1), (WRONG, WRONG, S1)))
    result = run(ITEM, backend=backend, config=CFG)
    (attempt,) = result.attempts
    assert attempt.lines == (S1, WRONG) and not result.fully_valid
    assert [j.verdict for j in attempt.judgements] == ["valid", "invalid"]
    assert result.verdict.status == "gave_up" and "line by line" in result.verdict.reason
    assert f'line 2 "{WRONG}" does not follow' in result.verdict.reason


def test_max_steps_bounds_the_lines() -> None:
    backend = ScriptedBackend(replies((S1, S1, S1), (S2, S2, S2)))
    result = run(ITEM, backend=backend, config=CFG.model_copy(update={"max_steps": 2}))
    assert result.attempts[0].lines == (S1, S2) and not result.fully_valid
    assert "is not the goal" in result.verdict.reason


def test_one_candidate_is_the_greedy_line_alone() -> None:
    backend = ScriptedBackend(replies((S1,), (S2,), (S3,), (GOAL,)))
    result = run(ITEM, backend=backend, config=DerivationConfig(mode="stepwise", candidates=1))
    assert result.fully_valid and len(backend.calls) == 4


def test_the_stepwise_fields_leave_the_default_runs_identity_alone() -> None:
    default = options_identity(DerivationBenchOptions())
    assert "mode" not in default["config"] and "candidates" not in default["config"]
    stepped = options_identity(DerivationBenchOptions(config=CFG))
    assert stepped["config"]["mode"] == "stepwise" and stepped["config"]["candidates"] == 3
