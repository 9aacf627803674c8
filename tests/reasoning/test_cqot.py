"""Tests of the CQoT graph: every edge of the redraft loop on a scripted backend, one tiny real run."""

from __future__ import annotations

import json

import pytest

from ratiocinator.errors import InvalidInput
from ratiocinator.kit import StaticRuntime, method_context
from ratiocinator.models.scripted import ScriptedBackend
from ratiocinator.models.types import Completion
from ratiocinator.reasoning.cqot import CQoTConfig, build_graph, nodes, run
from ratiocinator.reasoning.cqot.prompts import ANSWER_SYSTEM, PLAN_SYSTEM


def _answers(yes: int) -> str:
    return json.dumps({f"q{i}": "Yes" if i <= yes else "No" for i in range(1, 9)})


def scripted(yes_counts: list[int]) -> ScriptedBackend:
    """Plans are numbered; the k-th assessment answers yes_counts[k] "Yes"; the answer echoes the plan."""
    state = {"plans": 0, "assessments": 0}

    def reply(prompt, params):
        system = prompt[0].content
        if params.schema is not None:
            k = state["assessments"]
            state["assessments"] += 1
            return _answers(yes_counts[k])
        if system == PLAN_SYSTEM:
            state["plans"] += 1
            return f"plan {state['plans']}"
        assert system == ANSWER_SYSTEM
        return f"answer following {prompt[1].content}"

    return ScriptedBackend(reply)


def test_a_plan_with_seven_yes_is_accepted_at_once():
    backend = scripted([7])
    result = run("What is 2 + 2?", backend=backend)
    assert result.acceptance == "strict" and result.redrafts == 0
    assert result.plan == "plan 1" and result.answer == "answer following plan 1"
    assert [d.yes for d in result.drafts] == [7]
    # the answer is written from the plan: the plan comes as the assistant turn before the question
    last = backend.calls[-1].prompt
    assert [m.role for m in last] == ["system", "assistant", "user"] and last[1].content == "plan 1"


def test_six_yes_are_not_enough_until_the_fifth_redraft():
    # drafts 0..4 (up to the 4th redraft) need 7; the 5th redraft is accepted with 6 > 4
    result = run("q", backend=scripted([6, 6, 6, 6, 6, 6]))
    assert result.acceptance == "relaxed" and result.redrafts == 5 and result.plan == "plan 6"


def test_relaxed_threshold_is_more_than_four():
    result = run("q", backend=scripted([3, 3, 3, 3, 3, 4, 4, 5]))
    assert result.acceptance == "relaxed" and result.redrafts == 7 and result.drafts[-1].yes == 5


def test_strict_acceptance_before_relaxing():
    result = run("q", backend=scripted([2, 6, 7]))
    assert result.acceptance == "strict" and result.redrafts == 2


def test_gives_up_after_ten_redrafts_and_answers_from_the_last_plan():
    backend = scripted([4] * 11)
    result = run("q", backend=backend)
    assert result.acceptance == "last_draft" and result.redrafts == 10 and len(result.drafts) == 11
    assert result.plan == "plan 11" and result.answer == "answer following plan 11"
    assert len(backend.calls) == 11 * 2 + 1


def test_redrafts_are_sampled_with_fresh_seeds():
    backend = scripted([0, 0, 8])
    run("q", backend=backend, config=CQoTConfig(seed=5))
    plan_seeds = [c.params.seed for c in backend.calls if c.prompt[0].content == PLAN_SYSTEM]
    assert plan_seeds == [5, 6, 7]
    assert all(
        c.params.temperature == 0.8 for c in backend.calls if c.prompt[0].content == PLAN_SYSTEM
    )


class _Garbled(ScriptedBackend):
    """Ignores the schema on the assessment (a cut-off reply): the JSON does not parse."""

    def generate(self, prompts, params=None, *, cache=None):
        if params is not None and params.schema is not None:
            return [
                Completion(
                    text='{"q1": "Yes", "q2',
                    finish_reason="length",
                    prompt_tokens=1,
                    completion_tokens=96,
                )
            ]
        return super().generate(prompts, params, cache=cache)


def test_an_unparseable_assessment_counts_as_eight_no():
    backend = _Garbled(lambda prompt, params: "text")
    result = run("q", backend=backend, config=CQoTConfig(max_redrafts=2))
    assert result.acceptance == "last_draft" and result.redrafts == 2
    assert all(not d.parsed and d.yes == 0 for d in result.drafts)


def test_the_compiled_graph_is_exposed_once_and_runs_with_a_context():
    graph = build_graph()
    assert graph is build_graph()  # compiled once per process
    assert set(graph.get_graph().nodes) >= {"plan", "assess", "answer"}
    state = graph.invoke(
        {"question": "q", "drafts": []}, context=method_context(scripted([8]), CQoTConfig())
    )
    assert state["acceptance"] == "strict" and state["answer"] == "answer following plan 1"


def test_a_node_runs_alone_with_a_static_runtime():
    backend = scripted([8])
    ctx = method_context(backend, CQoTConfig(seed=3))
    update = nodes.plan({"question": "q", "drafts": []}, StaticRuntime(ctx))
    assert update == {"plan": "plan 1"} and backend.calls[0].params.seed == 3
    assert ctx.usage.usage().calls == 1


def test_the_result_carries_a_verdict_and_the_usage_the_backend_counted():
    backend = scripted([7])
    result = run("q", backend=backend)
    assert result.verdict.status == "unverified" and "7 of 8" in result.verdict.reason
    assert result.usage.calls == len(backend.calls) == 3
    assert result.usage.completion_tokens == sum(c.completion_tokens for c in backend.completions)
    given_up = run("q", backend=scripted([4] * 11))
    assert given_up.verdict.status == "gave_up" and "11 drafts" in given_up.verdict.reason


def test_bad_input_and_bad_config_are_refused():
    with pytest.raises(InvalidInput, match="question"):
        run("  ", backend=scripted([8]))
    with pytest.raises(InvalidInput, match="relaxed_yes"):
        CQoTConfig(strict_yes=4, relaxed_yes=5)


@pytest.mark.slow
def test_real_model_answers_the_eight_questions_under_the_schema(smollm):
    cfg = CQoTConfig(plan_max_tokens=32, answer_max_tokens=16, max_redrafts=0)
    result = run(
        "Tom has 3 apples and buys 2 more. How many apples does he have?", backend=smollm, config=cfg
    )
    (draft,) = result.drafts
    assert draft.parsed and len(draft.answers) == 8 and draft.plan == result.plan
    assert result.acceptance in ("strict", "last_draft") and result.answer
