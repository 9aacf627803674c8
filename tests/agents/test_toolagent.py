"""Every edge of the alpha-UMi graph and the ReAct baseline, driven by the scripted backend."""

from __future__ import annotations

import time

import pytest

from ratiocinator.agents.agent import ToolAgent
from ratiocinator.agents.builtin_tools import ask_user
from ratiocinator.agents.toolagent import TokenEvent, ToolAgentConfig
from ratiocinator.agents.tools import make_tool, tool
from ratiocinator.models.scripted import ScriptedBackend


@tool(timeout=5)
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: the first summand
        b: the second summand
    """
    return a + b


@tool(timeout=5)
def explode(x: int) -> int:
    """Always fails.

    Args:
        x: anything
    """
    raise ValueError(f"cannot handle {x}")


@tool(timeout=0.3)
def slow(seconds: float) -> str:
    """Sleeps.

    Args:
        seconds: how long
    """
    time.sleep(seconds)
    return "woke up"


TOOLS = [add, explode, slow, make_tool(ask_user, timeout=None)]
CALL_ADD = ["I should add 2 and 3. Next: caller.", "add", '{"a": 2, "b": 3}']
CONCLUDE = ["The sum is known. Next: conclusion.", "2 + 3 = 5."]


def _agent(script, *, kind="alpha-umi", **config):
    backend = ScriptedBackend(script)
    cfg = ToolAgentConfig(stream_tokens=False, **config)
    return ToolAgent(backend, TOOLS, kind=kind, config=cfg), backend


def _observations(result):
    return [(t.tool, t.status, t.content) for t in result.turns if t.role == "observation"]


def test_call_then_conclusion():
    agent, backend = _agent(CALL_ADD + CONCLUDE)
    result = agent.invoke("What is 2 + 3?")
    assert result.status == "answered" and result.answer == "2 + 3 = 5."
    assert _observations(result) == [("add", "ok", "5")]
    assert [t.role for t in result.turns] == [
        "user",
        "assistant",
        "caller",
        "observation",
        "assistant",
        "conclusion",
    ]
    # the caller's name step is constrained by a grammar over the tool names, the arguments by add's schema
    assert backend.calls[1].params.grammar == 'root ::= "add" | "explode" | "slow" | "ask_user"'
    assert backend.calls[2].params.schema["required"] == ["a", "b"]
    assert "Action: add\nAction Input:" in backend.calls[2].prompt[0].content


def test_caller_arguments_cut_at_the_token_limit_become_an_observation():
    long_args = (
        '{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}'  # valid JSON, longer than 6 "tokens"
    )
    agent, _ = _agent(["Add. Next: caller.", "add", long_args, *CONCLUDE], caller_max_tokens=8)
    result = agent.invoke("add")
    ((_name, status, content),) = _observations(result)
    assert status == "invalid-call" and "did not parse (it was cut at the token limit)" in content
    assert result.status == "answered"


def test_unconstrained_caller_retries_with_the_parsers_feedback():
    script = [
        "Add. Next: caller.",
        "I am not sure.",
        'Action: add\nAction Input: {"a": 2, "b": 3}',
        *CONCLUDE,
    ]
    agent, backend = _agent(script, constrained=False)
    result = agent.invoke("add")
    assert _observations(result) == [("add", "ok", "5")]
    assert (
        "could not be used" in backend.calls[2].prompt[0].content
    )  # the retry carries the feedback


def test_unconstrained_caller_that_never_parses():
    agent, _ = _agent(
        ["Add. Next: caller.", "no idea", "still no idea", *CONCLUDE], constrained=False
    )
    ((_, status, content),) = _observations(agent.invoke("add"))
    assert status == "invalid-call" and content.startswith("error: the call did not parse")


def test_unknown_tool_is_reported_to_the_planner():
    agent, backend = _agent(["Multiply. Next: caller.", "multiply", *CONCLUDE])
    result = agent.invoke("3*4")
    ((_, status, content),) = _observations(result)
    assert status == "invalid-call" and "unknown tool 'multiply'" in content
    assert "unknown tool 'multiply'" in backend.calls[2].prompt[0].content  # the planner saw it


def test_tool_exception_becomes_an_observation():
    agent, _ = _agent(["Try. Next: caller.", "explode", '{"x": 7}', *CONCLUDE])
    ((name, status, content),) = _observations(agent.invoke("go"))
    assert (name, status) == ("explode", "error") and "ValueError: cannot handle 7" in content


def test_tool_timeout_becomes_an_observation():
    agent, _ = _agent(["Wait. Next: caller.", "slow", '{"seconds": 5}', *CONCLUDE])
    start = time.monotonic()
    ((name, status, content),) = _observations(agent.invoke("wait"))
    assert (name, status) == ("slow", "timeout") and "0.3 s" in content
    assert time.monotonic() - start < 3


def test_overall_time_limit_gives_up():
    agent, _ = _agent(["Wait. Next: caller.", "slow", '{"seconds": 5}'], total_timeout=0.2)
    result = agent.invoke("wait")
    assert result.status == "gave-up" and "time limit (0.2 s)" in result.reason
    assert result.answer.startswith("I could not answer this")


def test_step_limit_gives_up():
    agent, _ = _agent(CALL_ADD * 2, max_steps=2, stop_on_repeat=False)
    result = agent.invoke("loop")
    assert (
        result.status == "gave-up"
        and result.steps == 2
        and "step limit (2 planner steps)" in result.reason
    )
    assert len(_observations(result)) == 2


def test_a_repeated_successful_call_goes_to_the_summarizer():
    agent, _ = _agent([*CALL_ADD, *CALL_ADD, "It is 5."])
    result = agent.invoke("What is 2 + 3?")
    assert result.status == "answered" and result.answer == "It is 5." and result.steps == 2
    assert [s for _, s, _ in _observations(result)] == ["ok", "repeat"]


def test_required_tool_turns_an_unchecked_conclusion_into_a_call():
    agent, _ = _agent(
        ["I know it. Next: conclusion.", "add", '{"a": 2, "b": 3}', *CONCLUDE], require_tool=True
    )
    result = agent.invoke("What is 2 + 3?")
    assert _observations(result) == [("add", "ok", "5")] and result.answer == "2 + 3 = 5."
    assert result.turns[1].content == "I know it. Next: caller."


def test_planner_gives_up_with_its_reason():
    agent, _ = _agent(["No tool can tell the weather. Next: give up."])
    result = agent.invoke("Weather in Paris?")
    assert result.status == "gave-up" and "No tool can tell the weather" in result.reason


def test_interrupt_and_resume_across_a_restart(tmp_path):
    path = tmp_path / "chat.sqlite"
    script = [
        "Ask which colour. Next: caller.",
        "ask_user",
        '{"question": "Which colour?"}',
        "The user chose. Next: conclusion.",
        "You chose blue.",
    ]
    backend = ScriptedBackend(script)
    cfg = ToolAgentConfig(stream_tokens=False)
    first = ToolAgent(backend, TOOLS, config=cfg, checkpoint=path)
    paused = first.invoke("Paint it", thread_id="t1")
    assert paused.status == "interrupted" and paused.question == "Which colour?"
    first.close()
    second = ToolAgent(
        backend, TOOLS, config=cfg, checkpoint=path
    )  # a new process would do the same
    assert second.pending_question("t1") == "Which colour?"
    done = second.resume("blue", thread_id="t1")
    assert done.status == "answered" and done.answer == "You chose blue."
    assert ("ask_user", "ok", "blue") in _observations(done)
    second.close()


def test_conversation_survives_a_restart(tmp_path):
    path = tmp_path / "chat.sqlite"
    backend = ScriptedBackend(
        CALL_ADD + CONCLUDE + ["Already answered. Next: conclusion.", "Still 5."]
    )
    cfg = ToolAgentConfig(stream_tokens=False)
    ToolAgent(backend, TOOLS, config=cfg, checkpoint=path).invoke("What is 2 + 3?", thread_id="t")
    again = ToolAgent(backend, TOOLS, config=cfg, checkpoint=path)
    assert [t.role for t in again.history("t")][:2] == ["user", "assistant"]
    result = again.invoke("And again?", thread_id="t")
    assert result.answer == "Still 5." and result.turns[0].content == "And again?"
    planner_prompt = backend.calls[-2].prompt[0].content
    assert "What is 2 + 3?" in planner_prompt and "conclusion: 2 + 3 = 5." in planner_prompt
    assert "Action: add" not in planner_prompt  # earlier requests: question and conclusion only


def test_stream_yields_node_updates_and_tokens():
    backend = ScriptedBackend(CALL_ADD + CONCLUDE)
    agent = ToolAgent(backend, TOOLS, config=ToolAgentConfig())
    events = list(agent.stream("What is 2 + 3?"))
    nodes = [next(iter(data)) for kind, data in events if kind == "updates"]
    assert nodes == ["planner", "caller", "tool", "planner", "summarizer"]
    tokens = [data for kind, data in events if kind == "token"]
    assert all(isinstance(t, TokenEvent) for t in tokens)
    assert "".join(t.text for t in tokens if t.role == "summarizer") == "2 + 3 = 5."


def test_react_baseline_calls_and_concludes():
    script = ['I add them.\nAction: add\nAction Input: {"a": 2, "b": 3}', "conclusion: 5"]
    agent, _ = _agent(script, kind="react")
    result = agent.invoke("What is 2 + 3?")
    assert result.status == "answered" and result.answer == "5"
    assert _observations(result) == [("add", "ok", "5")]


def test_react_baseline_bad_call_then_step_limit():
    agent, _ = _agent(
        ["Action: nothing useful", "Action: still nothing"], kind="react", max_steps=2
    )
    result = agent.invoke("x")
    assert result.status == "gave-up" and "step limit" in result.reason
    assert all(s == "invalid-call" for _, s, _ in _observations(result))


def test_bad_kind_and_empty_request():
    from ratiocinator.errors import InvalidInput

    with pytest.raises(InvalidInput, match="kind"):
        ToolAgent(ScriptedBackend([]), TOOLS, kind="solo")  # type: ignore[arg-type]
    agent, _ = _agent([])
    with pytest.raises(InvalidInput, match="request"):
        agent.invoke("  ")


def test_public_api_tool_agent():
    import ratiocinator as rc

    agent = rc.tool_agent(
        model=ScriptedBackend(CALL_ADD + CONCLUDE),
        tools=[add],
        config=rc.ToolAgentConfig(stream_tokens=False),
    )
    assert set(agent.graph.get_graph().nodes) >= {
        "planner",
        "caller",
        "tool",
        "summarizer",
        "give_up",
    }
    assert agent.invoke("What is 2 + 3?").answer == "2 + 3 = 5."
