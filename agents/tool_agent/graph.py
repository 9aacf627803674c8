"""The alpha-UMi tool agent as a LangGraph graph: planner -> (caller -> tool -> planner)* -> summarizer | give_up; and `run`.

    result = run("What is 17*23?", backend=backend)          # ToolAgentResult(answer=..., verdict=..., usage=...)
    result = run("...", backend=backend, tools=[my_tool], config=ToolAgentConfig(max_steps=4))

`build_graph(checkpointer)` compiles the graph once per checkpointer (None: no checkpoints, what
`run` uses); the tools, the backend and the config come in the runtime context at each invocation,
so one compiled graph serves every agent. The stateful, multi-turn API over the same graph is
`ToolAgent` (agents/tool_agent/agent.py).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from typing import Any

from langgraph.graph import END, START, StateGraph

import ratiocinator.agents.tool_agent.nodes as nodes
from ratiocinator.agents.tool_agent.config import ToolAgentConfig
from ratiocinator.agents.tool_agent.context import ToolAgentContext, tool_context
from ratiocinator.agents.tool_agent.result import ToolAgentResult
from ratiocinator.agents.tools import Tool, as_tools
from ratiocinator.kit import require_backend, require_text, resolve_config


@functools.lru_cache(maxsize=32)
def build_graph(checkpointer: Any = None) -> Any:
    """The compiled graph (once per checkpointer); invoke it with `context=tool_context(backend, config, tools)`."""
    graph = StateGraph(nodes.AgentState, context_schema=ToolAgentContext)
    graph.add_node("planner", nodes.planner)
    graph.add_node("caller", nodes.caller)
    graph.add_node("tool", nodes.tool)
    graph.add_node("summarizer", nodes.summarizer)
    graph.add_node("give_up", nodes.give_up)
    graph.add_edge(START, "planner")
    graph.add_conditional_edges("planner", nodes.after_planner, ["caller", "summarizer", "give_up"])
    graph.add_conditional_edges("caller", nodes.after_caller, ["tool", "planner", "summarizer"])
    graph.add_edge("tool", "planner")
    graph.add_edge("summarizer", END)
    graph.add_edge("give_up", END)
    return graph.compile(checkpointer=checkpointer)


def default_tools(tools: Sequence[Tool | Any] | None, *, ask_user: bool) -> dict[str, Tool]:
    """The given tools (or plain functions) by name; by default the built-in checking tools."""
    if tools is None:
        from ratiocinator.agents.builtin_tools import builtin_tools

        tools = [t for t in builtin_tools() if ask_user or t.name != "ask_user"]
    return as_tools(tools)


def recursion_limit(config: Any) -> int:
    """Each planner step takes at most three graph steps (planner, caller, tool); the end one more."""
    return 4 * config.max_steps + 10


def invoke_once(
    graph: Any, request: str, *, backend: Any, config: Any, tools: dict[str, Tool]
) -> tuple[dict[str, Any], str | None, Any]:
    """Run one request on a graph without checkpoints: (final state, pending question or None, Usage)."""
    context = tool_context(backend, config, tools)
    start = time.perf_counter()
    state = nodes.start_state(request, config, context.clock)
    out = graph.invoke(state, context=context, config={"recursion_limit": recursion_limit(config)})
    question = None
    for intr in out.get("__interrupt__", ()):
        value = intr.value
        question = str(value.get("question", value)) if isinstance(value, dict) else str(value)
    return out, question, context.usage.usage(time.perf_counter() - start)


def run(
    request: str,
    *,
    backend: Any,
    config: ToolAgentConfig | None = None,
    tools: Sequence[Tool | Any] | None = None,
) -> ToolAgentResult:
    """Answer one request with the alpha-UMi agent on `backend` and `tools` (default: the built-in checking tools).

    One request, no conversation: a tool that asks the user (ask_user) ends the run `interrupted`
    with its question; `ToolAgent` keeps conversations and resumes them.
    """
    require_text(request, name="request", expected="a non-empty string")
    require_backend(backend)
    cfg = resolve_config(config, ToolAgentConfig)
    out, question, usage = invoke_once(
        build_graph(), request, backend=backend, config=cfg, tools=default_tools(tools, ask_user=False)
    )
    return ToolAgentResult.from_state(out, question=question, usage=usage)
