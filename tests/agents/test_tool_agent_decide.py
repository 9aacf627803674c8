"""The tool agent's scored decisions: the planner's role and the caller's tool by the model's scores, and the role bias fit."""

from __future__ import annotations

import pytest

from ratiocinator.agents.tool_agent import ToolAgentConfig, nodes, run, tool_context
from ratiocinator.agents.tool_agent.config import ROLE_STATEMENTS
from ratiocinator.agents.tool_agent.decide import (
    called,
    choose_asked,
    choose_role,
    choose_tool,
    fit_asked_rule,
    fit_called_penalty,
    fit_role_bias,
    fit_tool_rule,
    marker,
    plan,
    request_overlap,
)
from ratiocinator.agents.tool_agent.prompts import DECISIONS
from ratiocinator.agents.tools import Verified, as_tools, tool
from ratiocinator.kit import StaticRuntime
from ratiocinator.models.scripted import ScriptedBackend


class ScoringBackend(ScriptedBackend):
    """Scripted text; scores from a table of continuation suffixes (the first that ends the continuation), else -20."""

    def __init__(self, script=(), table=None):
        super().__init__(script)
        self.table = dict(table or {})
        self.scored: list[tuple[str, list[str]]] = []

    def score(self, prompt, continuations):  # type: ignore[override]
        self.scored.append((prompt[-1].content, list(continuations)))
        out = []
        for c in continuations:
            out.append(next((v for k, v in self.table.items() if c.endswith(k)), -20.0))
        return out


@tool(timeout=5)
def add(a: int, b: int) -> Verified:
    """Add two integers exactly.

    Args:
        a: the first summand
        b: the second summand
    """
    return Verified(value=a + b, how="added exactly")


@tool(timeout=5)
def add_many(a: int, b: int) -> Verified:
    """Add two integers exactly (a longer name, which a greedy prefix would not reach).

    Args:
        a: the first summand
        b: the second summand
    """
    return Verified(value=a + b, how="added exactly")


SCORED = ToolAgentConfig(stream_tokens=False, decision="scored")


def _ctx(backend, config=SCORED, tools=(add,)):
    return tool_context(backend, config, as_tools(tools))


def test_the_scored_rule_overrules_the_written_marker():
    # the model writes "Next: caller" (as the 0.5B does on every step) but scores the conclusion higher
    backend = ScoringBackend(table={"Next: caller": -2.0, "Next: conclusion": -0.5, "Next: give up": -6.0})
    thought, decision, record = plan(_ctx(backend), "PLANNER PROMPT", "It is done. Next: caller.")
    assert (thought, decision) == ("It is done.", "conclusion")
    assert record == {"scores": {"caller": -2.0, "conclusion": -0.5, "give up": -6.0}, "written": "caller"}
    # one prompt (the planner's), the rationale followed by each role's marker, in DECISIONS order
    ((prompt, conts),) = backend.scored
    assert prompt == "PLANNER PROMPT"
    assert conts == ["It is done. Next: caller", "It is done. Next: conclusion", "It is done. Next: give up"]


def test_the_text_rule_reads_the_written_marker_and_scores_nothing():
    backend = ScoringBackend(table={"Next: conclusion": 0.0})
    cfg = ToolAgentConfig(stream_tokens=False, decision="text")
    assert plan(_ctx(backend, cfg), "P", "Search. Next: caller.") == ("Search.", "caller", {})
    assert plan(_ctx(backend, cfg), "P", "no marker at all") == ("no marker at all", None, {})
    assert backend.scored == []


def test_an_empty_rationale_is_scored_on_the_markers_alone_and_the_bias_shifts_the_choice():
    assert marker("", "give up") == "Next: give up" and marker("Hm.", "caller") == "Hm. Next: caller"
    scores = {"caller": -1.0, "conclusion": -1.5, "give up": -9.0}
    assert choose_role(scores, (0.0, 0.0, 0.0)) == "caller"
    assert choose_role(scores, (0.0, 0.6, 0.0)) == "conclusion"  # a calibrated bias moves the boundary
    assert choose_role(scores, (0.0, 0.0, 8.5)) == "give up"
    assert choose_role({d: 0.0 for d in DECISIONS}, (0.0, 0.0, 0.0)) == "caller"  # a tie: the first


def test_fit_role_bias_undoes_a_skew_towards_the_caller():
    # the model's scores carry the answer but add 3 nats to the caller on every step
    golds = ["caller", "conclusion", "give up", "conclusion", "caller", "conclusion"] * 5
    true = {"caller": (0.0, -2.0, -4.0), "conclusion": (-2.0, 0.0, -4.0), "give up": (-4.0, -2.0, 0.0)}
    scores = [{d: v + (3.0 if d == "caller" else 0.0) for d, v in zip(DECISIONS, true[g], strict=True)}
              for g in golds]
    raw = sum(choose_role(s, (0.0, 0.0, 0.0)) == g for s, g in zip(scores, golds, strict=True))
    bias = fit_role_bias(scores, golds)
    fitted = sum(choose_role(s, bias) == g for s, g in zip(scores, golds, strict=True))
    assert bias[0] == 0.0 and bias[1] > 1.0 and bias[2] > 1.0
    assert raw == 15 and fitted == len(golds)  # raw: every conclusion read as the caller
    with pytest.raises(ValueError):
        fit_role_bias([], [])


def test_the_asked_rule_puts_the_dialogue_as_a_question_and_weighs_the_statements():
    # the model writes "Next: caller" but replies yes (by 2 nats) that the dialogue answers the request
    table = {"yes": -0.5, "no": -2.5, ROLE_STATEMENTS[0]: -3.0, ROLE_STATEMENTS[1]: -6.0}
    backend = ScoringBackend(table=table)
    cfg = ToolAgentConfig(stream_tokens=False, decision="asked", asked_weights=(-1.0, 1.0, 0.0))
    history = "user: hi\ncaller: Action: add\nobservation: 5"
    thought, decision, record = plan(_ctx(backend, cfg), "PLANNER PROMPT", "Hm. Next: caller.", history=history)
    assert (thought, decision) == ("Hm.", "conclusion")
    assert record == {"margins": {"answered": 2.0, "give_up": -3.0, "calls": 1.0}, "written": "caller"}
    (ask, yes_no), (planner, statements) = backend.scored
    assert ask.endswith("observation: 5\nDo the observations above already contain the information the "
                        "user asked for? Answer yes or no.") and yes_no == ["yes", "no"]
    assert planner == "PLANNER PROMPT" and statements == list(ROLE_STATEMENTS)
    # a higher bar keeps calling; the calls so far can lower it; a low give-up threshold gives up
    m = record["margins"]
    assert choose_asked(m, (-2.5, 1.0, 0.0), 0.0) == "caller"
    assert choose_asked(m, (-2.5, 1.0, 1.0), 0.0) == "conclusion"
    assert choose_asked(m, (-1.0, 1.0, 0.0), -4.0) == "give up"
    assert choose_asked({**m, "calls": 9.0}, (-7.5, 0.0, 1.0), 0.0) == "caller"  # calls capped at 5


def test_fit_asked_rule_learns_the_stop_and_the_give_up_cut():
    # callers say no; conclusions yes with the conclusion's statement ahead; give-ups yes and the other way
    margins = [{"answered": -2.0 + i * 0.1, "give_up": 0.0, "calls": 0.0} for i in range(6)]
    margins += [{"answered": 1.0 + i, "give_up": -2.0, "calls": 2.0} for i in range(3)]
    margins += [{"answered": 1.5, "give_up": 3.0, "calls": 2.0}, {"answered": 0.5, "give_up": 1.0, "calls": 3.0}]
    golds = ["caller"] * 6 + ["conclusion"] * 3 + ["give up"] * 2
    for calls in (True, False):
        weights, give_up = fit_asked_rule(margins, golds, calls=calls)
        assert sum(choose_asked(m, weights, give_up) == g for m, g in zip(margins, golds, strict=True)) == len(golds)
        assert weights[1] > 0 and (weights[2] > 0 if calls else weights[2] == 0.0)
        assert -2.0 < give_up < 1.0
    with pytest.raises(ValueError):
        fit_asked_rule([], [])


def test_a_tool_the_dialogue_already_called_loses_the_penalty():
    dialogue = "user: add 2 and 3\ncaller: Action: add_many\nAction Input: {}\nobservation: ok"
    assert called(["add", "add_many"], dialogue) == {"add_many"}  # the line's end: not a prefix match
    assert called(["add", "add_many"], "caller: Action: add\nAction Input: {}") == {"add"}
    table = {"Action: add\n": -3.0, "Action: add_many\n": -1.0}
    raw = _ctx(ScoringBackend(table=table), tools=(add, add_many))
    assert choose_tool(raw, "P", dialogue) == "add_many"  # no penalty by default
    cfg = ToolAgentConfig(stream_tokens=False, tool_choice="scored", called_penalty=2.5)
    assert choose_tool(_ctx(ScoringBackend(table=table), cfg, tools=(add, add_many)), "P", dialogue) == "add"
    assert choose_tool(_ctx(ScoringBackend(table=table), cfg, tools=(add, add_many)), "P") == "add_many"


def test_the_content_free_prior_takes_away_what_a_name_scores_whatever_the_step():
    """The model scores add_many 2 nats above add on every prompt, and add 1 nat higher when the dialogue
    asks for it: raw scores pick add_many; less the content-free prompt's scores, add."""

    class Prior(ScoringBackend):
        def score(self, prompt, continuations):  # type: ignore[override]
            self.scored.append((prompt[-1].content, list(continuations)))
            asked = "add 2 and 3" in prompt[-1].content
            return [(-1.0 if c.endswith("add_many\n") else -3.0) + (1.0 if asked and c.endswith("add\n") else 0.0)
                    for c in continuations]

    prompt = "You have access to ...\nuser: add 2 and 3"
    raw = _ctx(Prior(), ToolAgentConfig(stream_tokens=False, tool_choice="scored"), tools=(add, add_many))
    assert choose_tool(raw, prompt) == "add_many" and len(raw.backend.scored) == 1
    cfg = ToolAgentConfig(stream_tokens=False, tool_choice="scored", tool_prior="content-free")
    ctx = _ctx(Prior(), cfg, tools=(add, add_many))
    assert choose_tool(ctx, prompt) == "add"
    (_, first), (free, second) = ctx.backend.scored
    assert first == second == ["Action: add\n", "Action: add_many\n"]
    assert "The conversation history is:\n\nThe thought of this step is:\n\n" in free
    assert "should be exactly in [add, add_many]" in free and "add 2 and 3" not in free
    assert choose_tool(ctx, prompt + " again") == "add" and len(ctx.backend.scored) == 3  # the prior: once a run


def test_fit_called_penalty_undoes_the_pull_of_the_name_just_read():
    # the model adds 2 nats to the name it has seen called; the gold is the other one
    scores = [{"a": 0.0 + 2.0, "b": -1.0}, {"a": -1.0, "b": 0.0 + 2.0}, {"a": 0.0, "b": -1.0}]
    called_names = [{"a"}, {"b"}, set()]
    golds = ["b", "a", "a"]
    penalty = fit_called_penalty(scores, called_names, golds)
    assert 3.0 < penalty <= 3.25  # the smallest grid value that gets all three right
    assert fit_called_penalty([{"a": 0.0, "b": -1.0}], [{"b"}], ["a"]) == 0.0
    with pytest.raises(ValueError):
        fit_called_penalty([], [], [])


@tool(timeout=5)
def weather(city: str) -> str:
    """Return the current weather forecast of a city.

    Args:
        city: the city's name
    """
    return f"sunny in {city}"


def test_the_tool_the_request_names_gains_its_overlap():
    request = "What is the weather forecast in Paris today?"
    assert request_overlap(request, "weather", "Return the current weather forecast of a city") > 0.5
    assert request_overlap(request, "add", "Add two integers exactly.") == 0.0
    assert request_overlap("the of and", "the", "") == 0.0  # function words name nothing
    table = {"Action: add\n": -1.0, "Action: weather\n": -2.0}  # the model prefers add by 1 nat
    off = _ctx(ScoringBackend(table=table), ToolAgentConfig(stream_tokens=False, tool_choice="scored"),
               tools=(add, weather))
    assert choose_tool(off, "P", request=request) == "add"
    cfg = ToolAgentConfig(stream_tokens=False, tool_choice="scored", request_overlap=3.0)
    on = _ctx(ScoringBackend(table=table), cfg, tools=(add, weather))
    assert choose_tool(on, "P", request=request) == "weather"
    assert choose_tool(on, "P") == "add"  # no request: nothing to ground in
    assert ToolAgentConfig().request_overlap == 0.0  # off unless fitted for a setting (toolbench-static)


def test_fit_tool_rule_weighs_the_overlap_and_the_penalty_together():
    # step 1: the model favours a, which the dialogue called; the gold is b. step 2: the model is right (a)
    # and the request names b a little. The penalty alone gets both right: no weight is needed (ties: the
    # smaller weight, then the smaller penalty, on grids of halves)
    scores = [{"a": 1.0, "b": 0.0}, {"a": 1.0, "b": 0.0}]
    overlaps = [{"a": 0.0, "b": 0.2}, {"a": 0.0, "b": 0.5}]
    assert fit_tool_rule(scores, [{"a"}, set()], overlaps, ["b", "a"]) == (1.5, 0.0)
    # nothing was called and the model prefers b by 1 nat: only a weight above 1.25 makes the named a win
    assert fit_tool_rule([{"a": 0.0, "b": 1.0}], [set()], [{"a": 0.8, "b": 0.0}], ["a"]) == (0.0, 1.5)
    with pytest.raises(ValueError):
        fit_tool_rule([], [], [], [])


def test_the_planner_node_routes_by_the_scores():
    backend = ScoringBackend(["I know it. Next: caller."], table={"Next: conclusion": 0.0, "Next: caller": -4.0})
    ctx = _ctx(backend)
    state = nodes.start_state("What is 2+3?", SCORED, ctx.clock)
    update = nodes.planner(state, StaticRuntime(ctx))
    assert update["decision"] == "conclusion" and update["thought"] == "I know it."
    assert update["turns"][0].content == "I know it. Next: conclusion."


def test_run_end_to_end_with_scored_role_and_tool():
    # step 1: caller (scored), tool add_many (scored), its arguments; step 2: conclusion (scored)
    script = ["I add them. Next: conclusion.", '{"a": 2, "b": 3}', "Now I answer. Next: caller.", "5"]

    def table_for(prompt, conts):
        if conts[0].startswith("Action:"):
            return [-1.0 if c == "Action: add_many\n" else -5.0 for c in conts]
        done = "observation:" in prompt
        return [-1.0 if c.endswith("conclusion" if done else "caller") else -5.0 for c in conts]

    class Backend(ScriptedBackend):
        def score(self, prompt, continuations):  # type: ignore[override]
            return table_for(prompt[-1].content, continuations)

    cfg = ToolAgentConfig(stream_tokens=False, decision="scored", tool_choice="scored")
    result = run("What is 2+3?", backend=Backend(script), config=cfg, tools=[add, add_many])
    assert result.status == "answered" and result.answer == "5"
    calls = [t for t in result.turns if t.role == "caller"]
    assert [t.tool for t in calls] == ["add_many"]
    assert result.verdict.status == "verified"
