"""The tool agent as a kit: each node alone on a StaticRuntime, `run` end to end, the verdict rules, the graph cache."""

from __future__ import annotations

import pytest

from ratiocinator.agents.tool_agent import (
    ToolAgent,
    ToolAgentConfig,
    ToolAgentResult,
    Turn,
    build_graph,
    nodes,
    run,
    tool_context,
)
from ratiocinator.agents.tool_agent.prompts import CALLER, PLANNER, SUMMARIZER
from ratiocinator.agents.tools import Verified, as_tools, tool
from ratiocinator.errors import InvalidInput
from ratiocinator.kit import StaticRuntime
from ratiocinator.models.scripted import ScriptedBackend


@tool(timeout=5)
def add(a: int, b: int) -> Verified:
    """Add two integers exactly.

    Args:
        a: the first summand
        b: the second summand
    """
    return Verified(value=a + b, how="added exactly")


@tool(timeout=5)
def guess(a: int) -> Verified:
    """A tool whose check fails.

    Args:
        a: anything
    """
    return Verified(value=a, how="guessed, NOT verified", checked=False)


@tool(timeout=5)
def echo(a: int) -> int:
    """Not a checking tool.

    Args:
        a: anything
    """
    return a


CFG = ToolAgentConfig(stream_tokens=False)


def _runtime(script, tools=(add,), config=CFG, clock=None):
    backend = ScriptedBackend(script)
    return StaticRuntime(tool_context(backend, config, as_tools(tools), clock=clock)), backend


def _state(*turns, **values):
    return {"turns": [Turn(role="user", content="What is 2 + 3?"), *turns], "steps": 0,
            "deadline": 1e12, **values}


def test_planner_node_alone_decides_and_counts_the_step():
    runtime, backend = _runtime(["Add them. Next: caller."])
    update = nodes.planner(_state(), runtime)
    assert update["decision"] == "caller" and update["steps"] == 1 and update["thought"] == "Add them."
    assert update["turns"][0].content == "Add them. Next: caller."
    (call,) = backend.calls
    assert call.prompt[0].content == PLANNER.format(doc=runtime.context.docs, history="user: What is 2 + 3?")
    assert call.params.max_tokens == CFG.planner_max_tokens and call.params.temperature == 0.0
    assert runtime.context.usage.usage().calls == 1  # counted by the context's backend


def test_planner_node_without_a_marker_calls_and_without_tools_concludes():
    runtime, _ = _runtime(["Hmm."])
    assert nodes.planner(_state(), runtime)["decision"] == "caller"  # as the reference pipeline
    runtime, _ = _runtime(["Hmm. Next: caller."], tools=())
    assert nodes.planner(_state(), runtime)["decision"] == "conclusion"


def test_planner_node_at_a_limit_gives_up_without_a_model_call():
    runtime, backend = _runtime([])
    update = nodes.planner(_state(steps=CFG.max_steps), runtime)
    assert update == {"decision": "give up", "reason": "the step limit (8 planner steps) was reached before an answer"}
    runtime, backend = _runtime([], clock=lambda: 2e12)
    assert "time limit (600 s)" in nodes.planner(_state(), runtime)["reason"] and not backend.calls


def test_caller_node_alone_makes_a_constrained_call():
    runtime, backend = _runtime(["add", '{"a": 2, "b": 3}'])
    update = nodes.caller(_state(thought="Add them."), runtime)
    assert update["call"].name == "add" and update["call"].arguments == {"a": 2, "b": 3}
    assert update["turns"][0].content == 'Action: add\nAction Input: {"a": 2, "b": 3}'
    prompt = CALLER.format(doc=runtime.context.docs, history="user: What is 2 + 3?", thought="Add them.",
                           tool_names="add")
    assert backend.calls[0].prompt[0].content == prompt + "\nAction:"
    assert backend.calls[0].params.grammar == 'root ::= "add"'


def test_tool_node_alone_turns_the_result_into_an_observation():
    from ratiocinator.agents.tool_agent import PendingCall

    runtime, _ = _runtime([])
    update = nodes.tool(_state(call=PendingCall(name="add", arguments={"a": 2, "b": 3})), runtime)
    (turn,) = update["turns"]
    assert (turn.role, turn.tool, turn.status, turn.content) == ("observation", "add", "ok", "5")
    assert turn.verified == "added exactly" and turn.checked and update["call"] is None


def test_summarizer_and_give_up_nodes_alone():
    runtime, backend = _runtime(["It is 5."])
    update = nodes.summarizer(_state(), runtime)
    assert update["status"] == "answered" and update["answer"] == "It is 5."
    assert backend.calls[0].prompt[0].content == SUMMARIZER.format(history="user: What is 2 + 3?")
    assert nodes.give_up({"reason": "the step limit (2 planner steps) was reached"}) == {
        "status": "gave_up",
        "answer": "I could not answer this: the step limit (2 planner steps) was reached",
        "turns": [Turn(role="conclusion", content="I could not answer this: the step limit (2 planner steps) was reached")],
    }


def test_routes():
    assert nodes.after_planner({"decision": "caller"}) == "caller"
    assert nodes.after_planner({"decision": "conclusion"}) == "summarizer"
    assert nodes.after_planner({"decision": "give up"}) == "give_up"
    assert nodes.after_caller({"call": object()}) == "tool"
    assert nodes.after_caller({"call": None, "decision": "conclusion"}) == "summarizer"
    assert nodes.after_caller({"call": None, "decision": "caller"}) == "planner"


def _script(name, args='{"a": 2, "b": 3}'):
    return ["Add. Next: caller.", name, args, "Done. Next: conclusion.", "It is 5."]


def test_run_verified_only_by_a_checking_tool_whose_check_holds():
    result = run("What is 2 + 3?", backend=ScriptedBackend(_script("add")), config=CFG, tools=[add])
    assert isinstance(result, ToolAgentResult) and result.status == "answered"
    assert result.verdict.status == "verified" and result.verdict.reason.startswith("add: added exactly")
    assert result.report() == f"It is 5.\nresult (add): 5\n({result.verdict})"
    assert result.usage.calls == 5 and result.usage.prompt_tokens > 0  # generate (not streamed) counts prompts

    failed_check = run("x", backend=ScriptedBackend(_script("guess", '{"a": 1}')), config=CFG, tools=[guess])
    assert failed_check.verdict.status == "unverified" and "guessed, NOT verified" in failed_check.verdict.reason
    assert failed_check.checks == ("guess: guessed, NOT verified",) and "result (" not in failed_check.report()

    plain = run("x", backend=ScriptedBackend(_script("echo", '{"a": 1}')), config=CFG, tools=[echo])
    assert plain.verdict.status == "unverified" and plain.verdict.reason == "the model answered without a checking tool"


def test_run_that_gives_up_and_run_that_asks_the_user():
    gave_up = run("Weather?", backend=ScriptedBackend(["No tool knows. Next: give up."]), config=CFG, tools=[add])
    assert gave_up.status == "gave_up" and gave_up.verdict.status == "gave_up"
    assert gave_up.verdict.reason == "the planner gave up: No tool knows."

    from ratiocinator.agents.builtin_tools import ask_user
    from ratiocinator.agents.tools import make_tool

    script = ["Ask. Next: caller.", "ask_user", '{"question": "Which?"}']
    asked = run("Paint it", backend=ScriptedBackend(script), config=CFG, tools=[make_tool(ask_user, timeout=None)])
    assert asked.status == "interrupted" and asked.question == "Which?"
    assert asked.verdict.status == "unverified" and not asked.verified


def test_run_by_default_offers_the_builtin_tools_but_not_ask_user():
    backend = ScriptedBackend(["Compute. Next: caller.", "calculator", '{"expression": "2+3"}',
                               "Done. Next: conclusion.", "5."])
    result = run("What is 2+3?", backend=backend, config=CFG)
    names = backend.calls[1].params.grammar
    assert '"calculator"' in names and '"ask_user"' not in names
    assert result.checks == ("calculator: computed exactly by sympy",) and result.verified


def test_run_refuses_an_empty_request():
    with pytest.raises(InvalidInput, match="request"):
        run("  ", backend=ScriptedBackend([]), tools=[add])


def test_the_graph_is_compiled_once_per_checkpointer():
    assert build_graph() is build_graph()
    a = ToolAgent(ScriptedBackend([]), [add], config=CFG)
    b = ToolAgent(ScriptedBackend([]), [echo], config=CFG, checkpoint=a.checkpointer)
    assert a.graph is b.graph is build_graph(a.checkpointer) and a.graph is not build_graph()


def test_usage_of_each_call_of_the_stateful_agent():
    agent = ToolAgent(ScriptedBackend([*_script("add"), "Still 5. Next: conclusion.", "Still 5."]), [add], config=CFG)
    first = agent.invoke("What is 2 + 3?")
    assert first.usage.calls == 5 and first.usage.seconds > 0
    second = agent.invoke("And again?")
    assert second.usage.calls == 2 and second.verdict.status == "unverified"  # no tool ran in this request


def test_config_is_a_method_config():
    with pytest.raises(InvalidInput, match="max_steps"):
        ToolAgentConfig(max_steps=0)
    assert ToolAgentConfig.paper.startswith("Shen et al. 2024")


def test_the_answer_rests_on_the_last_check_so_a_later_failed_check_is_not_verified():
    """Issue 22: a check that held earlier in the request does not verify an answer given after one that failed."""
    script = ["Add. Next: caller.", "add", '{"a": 2, "b": 3}', "Guess. Next: caller.", "guess", '{"a": 1}',
              "Done. Next: conclusion.", "It is 1."]
    result = run("x", backend=ScriptedBackend(script), config=CFG, tools=[add, guess])
    assert result.checks == ("add: added exactly", "guess: guessed, NOT verified")
    assert result.verdict.status == "unverified" and result.checked is None and "result (" not in result.report()
    again = run("x", backend=ScriptedBackend([*script[:6], "Add again. Next: caller.", "add", '{"a": 1, "b": 1}',
                                              "Done. Next: conclusion.", "It is 2."]),
                config=ToolAgentConfig(stream_tokens=False, max_steps=6), tools=[add, guess])
    assert again.verdict.status == "verified" and "an earlier check did not hold: guess" in again.verdict.reason
    assert again.checked is not None and again.checked.content == "2"
