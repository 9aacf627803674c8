"""The ReAct baseline's node: one output thinks, then calls a tool or concludes; and its route.

Shen et al. 2024 compare the planner/caller/summarizer split with one LLM doing all three under the
`toolbench_backbone` prompt (agents/react/prompts.py). The state, the tool node, give_up, the limits
and the runtime context are the tool agent's (agents/tool_agent/); calls are read by the tolerant
`models.toolcalls.parse_tool_call` (it reads `Action:` / `Action Input:` pairs), and its feedback
becomes the observation when the output holds no usable call.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END
from langgraph.runtime import Runtime

import ratiocinator.agents.tool_agent.roles as roles
from ratiocinator.agents.react.config import ReActConfig
from ratiocinator.agents.react.prompts import BACKBONE, parse_backbone
from ratiocinator.agents.tool_agent.context import ToolAgentContext
from ratiocinator.agents.tool_agent.nodes import AgentState, limits
from ratiocinator.agents.tool_agent.turns import PendingCall, Turn
from ratiocinator.errors import ModelOutputError

Ctx = Runtime[ToolAgentContext[ReActConfig]]


def _call_or_feedback(text: str, ctx: ToolAgentContext[ReActConfig]) -> dict[str, Any]:
    """The call in the output, or the parser's feedback as an observation."""
    from ratiocinator.models.toolcalls import ToolCallParseError, parse_tool_call

    specs = [t.spec() for t in ctx.tools.values()]
    try:
        call = parse_tool_call(text, specs)
    except (ToolCallParseError, ModelOutputError) as exc:
        feedback = getattr(exc, "feedback", str(exc))
        return {
            "turns": [
                Turn(role="caller", content=text),
                Turn(role="observation", content=f"error: {feedback}", status="invalid_call"),
            ]
        }
    pending = PendingCall(name=call.name, arguments=dict(call.arguments))
    return {"call": pending, "turns": [Turn(role="caller", content=text, tool=call.name)]}


def agent(state: AgentState, runtime: Ctx) -> dict[str, Any]:
    """One output of the single model: a thought and a call, a conclusion, or give up."""
    ctx = runtime.context
    cfg = ctx.config
    stop = limits(state, ctx)
    if stop:
        return {"decision": "give up", "reason": stop}
    prompt = BACKBONE.format(
        doc=ctx.docs,
        history=roles.history(state.get("turns", []), cfg.history_chars),
        tool_names=", ".join(ctx.tools),
    )
    text = roles.text(ctx, "agent", prompt, cfg.max_tokens).strip()
    decision, payload = parse_backbone(text)
    update: dict[str, Any] = {"steps": state.get("steps", 0) + 1, "decision": decision, "call": None}
    if decision == "give up":
        return {
            **update,
            "reason": f"the model gave up: {text}",
            "turns": [Turn(role="assistant", content=text)],
        }
    if decision == "conclusion" or not ctx.tools:
        return {
            **update,
            "decision": "conclusion",
            "status": "answered",
            "answer": payload,
            "turns": [Turn(role="conclusion", content=payload)],
        }
    return {**update, **_call_or_feedback(text, ctx)}


def route(state: AgentState) -> str:
    """give up -> give_up; an answer ends; a call runs; else the model tries again."""
    if state.get("decision") == "give up":
        return "give_up"
    if state.get("status") == "answered":
        return END
    return "tool" if state.get("call") else "agent"
