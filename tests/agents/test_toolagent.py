"""Every edge of the alpha-UMi graph and the ReAct baseline, driven by the scripted backend; its nodes alone; the verdict."""

from __future__ import annotations

import time

import pytest

from ratiocinator.agents.builtin_tools import ask_user
from ratiocinator.agents.tool_agent import TokenEvent, ToolAgent, ToolAgentConfig
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
    assert status == "invalid_call" and "did not parse (it was cut at the token limit)" in content
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
    assert status == "invalid_call" and content.startswith("error: the call did not parse")


def test_unknown_tool_is_reported_to_the_planner():
    agent, backend = _agent(["Multiply. Next: caller.", "multiply", *CONCLUDE])
    result = agent.invoke("3*4")
    ((_, status, content),) = _observations(result)
    assert status == "invalid_call" and "unknown tool 'multiply'" in content
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


class Clock:
    """A clock the test moves: `now` seconds, advanced by `step` on every reading."""

    def __init__(self, now: float = 1000.0, step: float = 0.0) -> None:
        self.now, self.step = now, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_overall_time_limit_gives_up_and_says_so():
    """Driven by an injected clock: each reading is 0.15 s later, so the second planner step is past 0.2 s."""
    backend = ScriptedBackend(CALL_ADD + CONCLUDE)
    cfg = ToolAgentConfig(stream_tokens=False, total_timeout=0.2)
    agent = ToolAgent(backend, TOOLS, config=cfg, clock=Clock(step=0.15))
    result = agent.invoke("What is 2 + 3?")
    assert result.status == "gave_up" and "time limit (0.2 s)" in result.reason
    assert result.answer.startswith("I could not answer this") and "time limit (0.2 s)" in result.answer
    assert result.verdict.status == "gave_up" and "time limit" in result.verdict.reason
    assert len(backend.calls) == 3  # the planner and the call; the second planner step never ran


def test_a_request_is_not_ended_by_a_slow_machine_but_by_its_limit():
    """The same script on a clock that never moves and on one that moves 1000 s per reading: only the limit decides."""
    calm = ToolAgent(ScriptedBackend(CALL_ADD + CONCLUDE), TOOLS,
                     config=ToolAgentConfig(stream_tokens=False), clock=Clock(step=0.0))
    assert calm.invoke("What is 2 + 3?").answer == "2 + 3 = 5."
    slow = ToolAgent(ScriptedBackend(CALL_ADD + CONCLUDE), TOOLS,
                     config=ToolAgentConfig(stream_tokens=False, total_timeout=1e9), clock=Clock(step=1000.0))
    assert slow.invoke("What is 2 + 3?").answer == "2 + 3 = 5."


def test_a_tool_cut_short_by_the_request_limit_says_so():
    """The request's limit, not the tool's own (5 s), ends the call: the observation says which limit.

    The clock is the real one plus 100 s from the caller's arguments on, so 0.3 s of the 100.3 s are
    left when the tool starts (however slow the machine was before); the tool takes 2 s.
    """
    offset = [0.0]
    script = iter(["Wait. Next: caller.", "snooze", '{"seconds": 2}'])

    def reply(prompt, params):
        if params.schema is not None:
            offset[0] = 100.0
        return next(script)

    @tool(timeout=5)
    def snooze(seconds: float) -> str:
        """Sleeps.

        Args:
            seconds: how long
        """
        time.sleep(seconds)
        return "woke up"

    cfg = ToolAgentConfig(stream_tokens=False, total_timeout=100.3)
    agent = ToolAgent(ScriptedBackend(reply), [snooze], config=cfg, clock=lambda: time.monotonic() + offset[0])
    result = agent.invoke("wait")
    ((name, status, content),) = _observations(result)
    assert (name, status) == ("snooze", "timeout")
    assert "(the request's time limit of 100.3 s left only" in content
    assert result.status == "gave_up" and "time limit (100.3 s)" in result.answer


def test_the_time_a_question_waits_for_the_user_does_not_count():
    clock = Clock()
    script = ["Ask. Next: caller.", "ask_user", '{"question": "Which number?"}', "Done. Next: conclusion.", "It is 7."]
    agent = ToolAgent(ScriptedBackend(script), TOOLS, config=ToolAgentConfig(stream_tokens=False, total_timeout=60),
                      clock=clock)
    assert agent.invoke("My number?").status == "interrupted"
    clock.now += 3600.0  # the user answers an hour later
    done = agent.resume("7")
    assert done.status == "answered" and done.answer == "It is 7."


def test_step_limit_gives_up():
    agent, _ = _agent(CALL_ADD * 2, max_steps=2, stop_on_repeat=False)
    result = agent.invoke("loop")
    assert (
        result.status == "gave_up"
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
    assert result.status == "gave_up" and "No tool can tell the weather" in result.reason


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
    assert result.status == "gave_up" and "step limit" in result.reason
    assert all(s == "invalid_call" for _, s, _ in _observations(result))


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
