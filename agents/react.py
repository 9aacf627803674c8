"""The single-model ReAct baseline of alpha-UMi (its "backbone"): one output thinks, then calls a tool or concludes.

Shen et al. 2024 compare the planner/caller/summarizer split with one LLM doing all three under the
`toolbench_backbone` prompt (agents/umi.py BACKBONE). Same state, tool node, limits, streaming and
checkpointing as the alpha-UMi graph (agents/toolagent.py); calls are read by the tolerant
`models.toolcalls.parse_tool_call` (it reads `Action:` / `Action Input:` pairs), and its feedback
becomes the observation when the output holds no usable call.
"""

from __future__ import annotations

from typing import Any

from ratiocinator.agents import umi
from ratiocinator.agents.toolagent import (
    AgentState,
    PendingCall,
    Roles,
    ToolAgentConfig,
    Turn,
    give_up_node,
    limits,
    tool_node,
)
from ratiocinator.agents.tools import Tool
from ratiocinator.errors import ModelOutputError


def parse_backbone(text: str) -> tuple[umi.Decision, str]:
    """The single-LLM output's decision and its payload (the answer, or the call text), by the reference rules."""
    if "conclusion: give up" in text or "Next: give up" in text:
        return "give up", text
    if "conclusion:" in text:
        return "conclusion", text[text.rindex("conclusion:") + len("conclusion:") :].strip()
    return "caller", text


def build_react(
    backend: Any, tools: dict[str, Tool], config: ToolAgentConfig, checkpointer: Any = None
) -> Any:
    """The compiled single-model baseline: one role thinks, calls (or concludes) in one output."""
    from langgraph.graph import END, START, StateGraph

    from ratiocinator.models.toolcalls import ToolCallParseError, parse_tool_call

    roles = Roles(backend, tools, config)
    specs = [t.spec() for t in tools.values()]

    def agent(state: AgentState) -> dict[str, Any]:
        stop = limits(state, config)
        if stop:
            return {"decision": "give up", "reason": stop}
        prompt = umi.BACKBONE.format(
            doc=roles.docs,
            history=roles.history(state.get("turns", [])),
            tool_names=", ".join(tools),
        )
        text = roles.text(
            "agent", prompt, config.planner_max_tokens + config.caller_max_tokens
        ).strip()
        decision, payload = parse_backbone(text)
        update: dict[str, Any] = {
            "steps": state.get("steps", 0) + 1,
            "decision": decision,
            "call": None,
        }
        if decision == "give up":
            return {
                **update,
                "reason": f"the model gave up: {text}",
                "turns": [Turn(role="assistant", content=text)],
            }
        if decision == "conclusion" or not specs:
            return {
                **update,
                "decision": "conclusion",
                "status": "answered",
                "answer": payload,
                "turns": [Turn(role="conclusion", content=payload)],
            }
        try:
            call = parse_tool_call(text, specs)
        except (ToolCallParseError, ModelOutputError) as exc:
            feedback = getattr(exc, "feedback", str(exc))
            return {
                **update,
                "turns": [
                    Turn(role="caller", content=text),
                    Turn(role="observation", content=f"error: {feedback}", status="invalid-call"),
                ],
            }
        pending = PendingCall(name=call.name, arguments=dict(call.arguments))
        return {
            **update,
            "call": pending,
            "turns": [Turn(role="caller", content=text, tool=call.name)],
        }

    def route(state: AgentState) -> str:
        if state.get("decision") == "give up":
            return "give_up"
        if state.get("status") == "answered":
            return END
        return "tool" if state.get("call") else "agent"

    graph = StateGraph(AgentState)
    graph.add_node("agent", agent)
    graph.add_node("tool", tool_node(tools, config))
    graph.add_node("give_up", give_up_node)
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", route, ["tool", "agent", "give_up", END])
    graph.add_edge("tool", "agent")
    graph.add_edge("give_up", END)
    return graph.compile(checkpointer=checkpointer)
