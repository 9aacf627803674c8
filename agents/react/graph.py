"""The ReAct baseline as a LangGraph graph: agent -> (tool -> agent)* -> end | give_up; and `run`.

    result = run("What is 17*23?", backend=backend)     # ReActResult(answer=..., verdict=..., usage=...)

Compiled once per checkpointer like the tool agent's graph, with the same state, tool node, give_up
and runtime context (agents/tool_agent/); `ToolAgent(kind="react")` is its stateful API.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from langgraph.graph import END, START, StateGraph

import ratiocinator.agents.react.nodes as nodes
import ratiocinator.agents.tool_agent.nodes as shared
from ratiocinator.agents.react.config import ReActConfig
from ratiocinator.agents.react.result import ReActResult
from ratiocinator.agents.tool_agent.context import ToolAgentContext
from ratiocinator.agents.tool_agent.graph import default_tools, invoke_once
from ratiocinator.agents.tools import Tool
from ratiocinator.kit import require_backend, require_text, resolve_config


@functools.lru_cache(maxsize=32)
def build_graph(checkpointer: Any = None) -> Any:
    """The compiled graph (once per checkpointer); invoke it with `context=tool_context(backend, config, tools)`."""
    graph = StateGraph(shared.AgentState, context_schema=ToolAgentContext)
    graph.add_node("agent", nodes.agent)
    graph.add_node("tool", shared.tool)
    graph.add_node("give_up", shared.give_up)
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", nodes.route, ["tool", "agent", "give_up", END])
    graph.add_edge("tool", "agent")
    graph.add_edge("give_up", END)
    return graph.compile(checkpointer=checkpointer)


def run(
    request: str,
    *,
    backend: Any,
    config: ReActConfig | None = None,
    tools: Sequence[Tool | Any] | None = None,
) -> ReActResult:
    """Answer one request with the single-model baseline on `backend` and `tools` (default: the built-in checking tools)."""
    require_text(request, name="request", expected="a non-empty string")
    require_backend(backend)
    cfg = resolve_config(config, ReActConfig)
    out, question, usage = invoke_once(
        build_graph(), request, backend=backend, config=cfg, tools=default_tools(tools, ask_user=False)
    )
    return ReActResult.from_state(out, question=question, usage=usage)
