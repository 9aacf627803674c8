"""The ReAct baseline as a kit: its node alone, `run` end to end, its config from an alpha-UMi config."""

from __future__ import annotations

from langgraph.graph import END

from ratiocinator.agents.react import (
    BACKBONE,
    ReActConfig,
    ReActResult,
    build_graph,
    nodes,
    parse_backbone,
    run,
)
from ratiocinator.agents.tool_agent import ToolAgent, ToolAgentConfig, Turn, tool_context
from ratiocinator.agents.tools import Verified, as_tools, tool
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


CFG = ReActConfig(stream_tokens=False)
CALL = 'I add them.\nAction: add\nAction Input: {"a": 2, "b": 3}'


def _state():
    return {"turns": [Turn(role="user", content="What is 2 + 3?")], "steps": 0, "deadline": 1e12}


def test_agent_node_alone_calls_with_one_output_of_the_whole_budget():
    backend = ScriptedBackend([CALL])
    runtime = StaticRuntime(tool_context(backend, CFG, as_tools([add])))
    update = nodes.agent(_state(), runtime)
    assert update["call"].name == "add" and update["call"].arguments == {"a": 2, "b": 3}
    assert update["decision"] == "caller" and update["steps"] == 1
    (call,) = backend.calls
    assert call.params.max_tokens == 416 == CFG.max_tokens
    assert call.prompt[0].content == BACKBONE.format(
        doc=runtime.context.docs, history="user: What is 2 + 3?", tool_names="add"
    )


def test_agent_node_alone_bad_call_conclusion_and_give_up():
    def node(text):
        runtime = StaticRuntime(tool_context(ScriptedBackend([text]), CFG, as_tools([add])))
        return nodes.agent(_state(), runtime)

    bad = node("Action: nothing useful")
    assert [t.status for t in bad["turns"]] == [None, "invalid_call"] and bad["call"] is None
    done = node("conclusion: 5")
    assert (done["status"], done["answer"], nodes.route(done)) == ("answered", "5", END)
    gave = node("conclusion: give up")
    assert gave["reason"].startswith("the model gave up") and nodes.route(gave) == "give_up"
    assert parse_backbone("thinking\nconclusion: 42") == ("conclusion", "42")


def test_run_end_to_end_is_verified_by_the_checking_tool():
    result = run("What is 2 + 3?", backend=ScriptedBackend([CALL, "conclusion: 5"]), config=CFG, tools=[add])
    assert isinstance(result, ReActResult) and result.answer == "5" and result.verified
    assert result.checks == ("add: added exactly",) and result.usage.calls == 2
    assert build_graph() is build_graph()


def test_config_from_an_alpha_umi_config_and_the_stateful_agent():
    cfg = ReActConfig.from_tool_agent(ToolAgentConfig(planner_max_tokens=128, caller_max_tokens=96, max_steps=3))
    assert cfg.max_tokens == 224 and cfg.max_steps == 3
    assert ReActConfig().max_tokens == ToolAgentConfig().planner_max_tokens + ToolAgentConfig().caller_max_tokens
    agent = ToolAgent(ScriptedBackend([CALL, "conclusion: 5"]), [add], kind="react", config=CFG)
    assert agent.graph is build_graph(agent.checkpointer)
    result = agent.invoke("What is 2 + 3?")
    assert isinstance(result, ReActResult) and result.answer == "5"


def test_a_config_of_the_other_system_is_refused():
    import pytest

    from ratiocinator.errors import InvalidInput

    with pytest.raises(InvalidInput, match="expected a ToolAgentConfig, got ReActConfig"):
        ToolAgent(ScriptedBackend([]), [add], config=CFG)
    with pytest.raises(InvalidInput, match="expected a ReActConfig or ToolAgentConfig"):
        ToolAgent(ScriptedBackend([]), [add], kind="react", config=object())
