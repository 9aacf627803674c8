"""toolbench-static on a two-step dialogue with the scripted backend: items, both systems, the reference's metrics."""

from __future__ import annotations

import json

import pytest

from ratiocinator.agents.tool_agent.config import (
    TOOLBENCH_ASKED_WEIGHTS,
    TOOLBENCH_CALLED_PENALTY,
    TOOLBENCH_GIVE_UP_THRESHOLD,
    TOOLBENCH_ROLE_BIAS,
)
from ratiocinator.evals.benchmark import Context, get
from ratiocinator.evals.benchmarks.toolbench_static import argument_f1, rouge_l
from ratiocinator.models.scripted import ScriptedBackend

DIALOGUE = {
    "tools": [
        {
            "Name": "search_for_youtube",
            "function": "Search videos",
            "input": {"q": "string, the query"},
        },
        {"Name": "trending_for_youtube", "function": "Trending videos", "input": {}},
    ],
    "instruction": "Find cat videos",
    "conversations": [
        {"from": "user", "value": "Find cat videos"},
        {"from": "assistant", "value": "I will search for cats. Next: caller."},
        {"from": "caller", "value": 'Action: search_for_youtube\nAction Input: {"q": "cats"}'},
        {"from": "observation", "value": '{"videos": ["Cat 1"]}'},
        {"from": "assistant", "value": "I found them. Next: conclusion."},
        {"from": "conclusion", "value": "Here is a cat video: Cat 1."},
    ],
}


@pytest.fixture
def data_dir(tmp_path):
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "toolbench_ood.json").write_text(json.dumps([DIALOGUE]))
    return tmp_path


#: the free-text system (the planner's written marker, the name under a grammar, ungrounded optional arguments)
TEXT = {"decision": "text", "tool_choice": "grammar", "grounding": "false", "require_arguments": "false"}


def _bench(data_dir, **options):
    cls = get("toolbench-static")
    return cls(cls.parse_options(options), data_dir=data_dir)


def test_items_are_the_planner_steps(data_dir):
    assert [i.id for i in _bench(data_dir).items()] == ["0/1", "0/4"]


def test_alpha_umi_scores_a_call_step_and_a_conclusion_step(data_dir):
    bench = _bench(data_dir, **TEXT)
    call_step, end_step = bench.items()
    backend = ScriptedBackend(
        [
            "Search cats. Next: caller.",
            "search_for_youtube",
            '{"q": "dogs"}',
            "Done. Next: conclusion.",
            "Here is a cat video: Cat 1.",
        ]
    )
    out = bench.run(call_step, Context(backend=backend))
    assert out.metrics == {
        "plan_acc": 1.0,
        "hallu": 0.0,
        "act_em": 1.0,
        "arg_f1": 0.5,
    }  # right key, wrong value
    # the caller saw the gold history plus the predicted thought, and was constrained to the two APIs
    assert (
        backend.calls[1].params.grammar == 'root ::= "search_for_youtube" | "trending_for_youtube"'
    )
    assert "Search cats. Next: caller." in backend.calls[1].prompt[0].content
    end = bench.run(end_step, Context(backend=backend))
    assert end.metrics["plan_acc"] == 1.0 and end.metrics["rouge_l"] == pytest.approx(1.0)
    assert "Cat 1" in backend.calls[3].prompt[0].content  # the observation is in the gold history


def test_react_baseline_hallucinated_action(data_dir):
    bench = _bench(data_dir, system="react")
    backend = ScriptedBackend(
        ['Let me look.\nAction: find_cats\nAction Input: {"q": "cats"}', "conclusion: give up"]
    )
    call_step, end_step = bench.items()
    out = bench.run(call_step, Context(backend=backend))
    assert out.metrics == {"plan_acc": 1.0, "hallu": 1.0, "act_em": 0.0, "arg_f1": 0.0}
    end = bench.run(end_step, Context(backend=backend))
    assert end.metrics == {
        "plan_acc": 0.0,
        "hallu": 0.0,
        "rouge_l": 0.0,
    }  # gave up where the gold concludes


def test_reference_argument_f1():
    assert argument_f1('{"a": 1, "b": 2}', '{"a": 1, "b": 2}') == pytest.approx(1.0)
    assert argument_f1('{"a": 1}', '{"a": 1, "b": 2}') == pytest.approx(2 / 3)
    assert argument_f1("{}", "{}") == 1.0 and argument_f1('{"a": 1}', "{}") == 0.0
    assert argument_f1("not json", '{"a": 1}') == 0.0
    assert argument_f1("{}", "not json") is None  # the reference skips such steps
    assert rouge_l("", "some answer") == 0.0


def test_the_benchmark_holds_the_tool_agents_config(data_dir):
    from ratiocinator.agents.tool_agent import ToolAgentConfig

    bench = _bench(data_dir)
    assert bench.method == "tool-agent" and isinstance(bench.options.config, ToolAgentConfig)
    cfg = bench.options.config
    assert (cfg.planner_max_tokens, cfg.caller_max_tokens, cfg.summarizer_max_tokens, cfg.history_chars) == (
        128, 96, 160, 5000
    )
    assert not cfg.stream_tokens and cfg.constrained
    assert _bench(data_dir, constrained="false").options.config.constrained is False  # --set reaches it
    # the budgets reach the roles: the planner gets 128 tokens; react one output of 128 + 96
    backend = ScriptedBackend(["Search cats. Next: caller.", "search_for_youtube", '{"q": "cats"}'])
    out = _bench(data_dir, **TEXT).run(bench.items()[0], Context(backend=backend))
    assert backend.calls[0].params.max_tokens == 128 and backend.calls[2].params.max_tokens == 96
    assert out.prompt_tokens > 0 and out.completion_tokens > 0  # what went through the backend
    react = ScriptedBackend(["conclusion: done"])
    _bench(data_dir, system="react", planner_max_tokens=64).run(bench.items()[0], Context(backend=react))
    assert react.calls[0].params.max_tokens == 64 + 96


class ScoringBackend(ScriptedBackend):
    """Scripted text, and scores: a role marker or tool line from `table` (by suffix), else -10."""

    def __init__(self, script, table):
        super().__init__(script)
        self.table = table
        self.scored: list[list[str]] = []

    def score(self, prompt, continuations):  # type: ignore[override]
        self.scored.append(list(continuations))
        return [next((v for k, v in self.table.items() if c.endswith(k)), -10.0) for c in continuations]


def test_the_scored_system_decides_by_scores_and_records_the_written_marker(data_dir):
    # the markers' scored system (scored role, scored tool, required, grounded arguments), no bias
    bench = _bench(data_dir, decision="scored", decision_bias="0,0,0")
    # the raw scores when scored: the held-in bias measured worse (BENCHMARKS-history.md, tool agent); an option
    assert _bench(data_dir).options.config.decision_bias == (0.0, 0.0, 0.0)
    assert _bench(data_dir, decision_bias="0,3.359,4.988").options.config.decision_bias == TOOLBENCH_ROLE_BIAS
    call_step, _ = bench.items()
    table = {"Next: caller": -1.0, "Next: conclusion": -3.0, "Action: search_for_youtube\n": -1.0,
             '"cat"': -2.0, '"Find"': -2.5}
    # the model writes "Next: conclusion" but scores the caller higher; the name is scored, not decoded
    backend = ScoringBackend(["Search cats. Next: conclusion.", '{"q": "kitten"}'], table)
    out = bench.run(call_step, Context(backend=backend))
    assert out.output["decision"] == "caller" and out.output["written"] == "conclusion"
    assert out.output["scores"] == {"caller": -1.0, "conclusion": -3.0, "give up": -10.0}
    assert out.metrics["plan_acc"] == 1.0 and out.metrics["plan_acc_written"] == 0.0
    assert out.metrics["act_em"] == 1.0
    assert backend.scored[1] == ["Action: search_for_youtube\n", "Action: trending_for_youtube\n"]
    # every parameter is asked for; "kitten" does not occur in the dialogue and scores -10, so it
    # yields to "Find" (-2.5), the one value found there ("cat" is only part of a word run)
    assert backend.calls[1].params.schema["required"] == ["q"]
    assert out.output["action_input"] == '{"q": "Find"}'
    # a planner-only step (calibration): the decision alone, no caller
    planner_only = _bench(data_dir, planner_only="true", start="1", decision="scored")
    (only,) = planner_only.items()
    assert only.id == "0/4"
    backend = ScoringBackend(["Done. Next: caller."], {"Next: conclusion": -0.1, "Next: caller": -2.0})
    out = planner_only.run(only, Context(backend=backend))
    assert out.output["decision"] == "conclusion" and out.output["planner_only"]
    assert out.metrics == {"plan_acc": 1.0, "hallu": 0.0, "plan_acc_written": 0.0}
    assert len(backend.calls) == 1


def test_the_default_planner_asks_the_model_whether_the_dialogue_answers_the_request(data_dir):
    bench = _bench(data_dir, summarize="false")
    cfg = bench.options.config
    assert (cfg.decision, cfg.asked_weights, cfg.give_up_threshold, cfg.called_penalty, cfg.tool_prior) == (
        "asked", TOOLBENCH_ASKED_WEIGHTS, TOOLBENCH_GIVE_UP_THRESHOLD, TOOLBENCH_CALLED_PENALTY, "content-free")
    _, end_step = bench.items()  # after one call and its observation: the gold decision is conclusion
    # the model writes "Next: caller" but replies yes by 4 nats; with one call made the stop's
    # log-odds are -3.16 + 0.848 * 4 + 0.998 > 0; the conclusion's statement outscores the give-up's
    table = {"yes": -0.1, "no": -4.1, "to the user now.": -2.0, "give up and restart.": -6.0}
    backend = ScoringBackend(["Done. Next: caller."], table)
    out = bench.run(end_step, Context(backend=backend))
    assert out.output["decision"] == "conclusion" and out.output["written"] == "caller"
    assert out.output["margins"] == pytest.approx({"answered": 4.0, "give_up": -4.0, "calls": 1.0})
    assert out.metrics["plan_acc"] == 1.0 and out.metrics["plan_acc_written"] == 0.0
    # a reply of no keeps the caller
    unsure = ScoringBackend(["Done. Next: caller.", "{}"], {**table, "yes": -3.0, "no": -0.1})
    assert bench.run(end_step, Context(backend=unsure)).output["decision"] == "caller"


def test_summarize_false_skips_the_answer_and_its_rouge(data_dir):
    bench = _bench(data_dir, summarize="false", decision="scored")
    _, end_step = bench.items()
    backend = ScoringBackend(["Done. Next: caller."], {"Next: conclusion": -0.1, "Next: caller": -2.0})
    out = bench.run(end_step, Context(backend=backend))
    assert out.output["decision"] == "conclusion" and out.output["answer"] is None
    assert out.metrics == {"plan_acc": 1.0, "hallu": 0.0, "plan_acc_written": 0.0}
    assert len(backend.calls) == 1  # the planner's text only


def test_always_call_records_the_call_a_caller_decision_would_make(data_dir):
    bench = _bench(data_dir, summarize="false", always_call="true", decision="scored")
    _, end_step = bench.items()
    table = {"Next: conclusion": -0.1, "Next: caller": -2.0, "Action: trending_for_youtube\n": -0.5}
    backend = ScoringBackend(["Done. Next: caller.", "{}"], table)
    out = bench.run(end_step, Context(backend=backend))
    assert out.output["decision"] == "conclusion" and out.output["action"] is None
    assert out.output["would_call"] == "Action: trending_for_youtube\nAction Input: {}"
    assert out.metrics == {"plan_acc": 1.0, "hallu": 0.0, "plan_acc_written": 0.0}  # not counted
    assert "Done. Next: caller." in backend.calls[1].prompt[0].content  # as if the caller were chosen
