"""The alpha-UMi nodes: planner, caller, tool, summarizer and give_up, the routes between them, and the limits.

Shen et al. 2024 (alpha-UMi): the planner writes a rationale ending in `Next: caller | conclusion |
give up`; the caller turns the rationale into one API call; the summarizer writes the final answer
from the history. Here the three roles are prompts on one shared backend (agents/tool_agent/roles.py).
Every failure (bad call, unknown tool, tool error, tool timeout) becomes an observation the planner
reads. The step limit, the request's time limit and the planner's `give up` end in the give_up node,
whose answer says why.

Each node is a function of the state and the LangGraph runtime, whose context (ToolAgentContext)
carries the counting backend, the config, the tools and the clock. The tool node, give_up and the
limits serve the ReAct baseline (agents/react/) as well.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypedDict

from langgraph.runtime import Runtime

import ratiocinator.agents.tool_agent.roles as roles
from ratiocinator.agents.tool_agent.config import ToolAgentConfig
from ratiocinator.agents.tool_agent.context import LoopConfig, ToolAgentContext
from ratiocinator.agents.tool_agent.decide import plan
from ratiocinator.agents.tool_agent.prompts import Decision, caller_prompt
from ratiocinator.agents.tool_agent.turns import PendingCall, Turn, request_turns
from ratiocinator.agents.tools import ToolResult
from ratiocinator.errors import InvalidInput

Ctx = Runtime[ToolAgentContext[ToolAgentConfig]]
Status = Literal["running", "answered", "gave_up"]


class AgentState(TypedDict, total=False):
    """The graph's state: the history (appended to), the current decision/call, counters and the outcome."""

    turns: Annotated[list[Turn], operator.add]
    thought: str
    decision: Decision | None
    call: PendingCall | None
    steps: int
    deadline: float
    status: Status
    answer: str
    reason: str


def start_state(request: str, config: LoopConfig, clock: Callable[[], float]) -> AgentState:
    """The state a request starts from (its deadline measured on `clock`)."""
    if not isinstance(request, str) or not request.strip():
        raise InvalidInput("request: expected a non-empty question or instruction")
    return {
        "turns": [Turn(role="user", content=request.strip())],
        "steps": 0,
        "status": "running",
        "answer": "",
        "reason": "",
        "decision": None,
        "call": None,
        "thought": "",
        "deadline": clock() + config.total_timeout,
    }


def remaining(state: AgentState, ctx: ToolAgentContext[Any]) -> float:
    """Seconds left to the request's deadline, on the context's clock."""
    now = ctx.clock()
    return state.get("deadline", now + 1e9) - now


def limits(state: AgentState, ctx: ToolAgentContext[Any]) -> str | None:
    """Why the request must end now (the step or time limit), or None."""
    config = ctx.config
    if state.get("steps", 0) >= config.max_steps:
        return f"the step limit ({config.max_steps} planner steps) was reached before an answer"
    if remaining(state, ctx) <= 0:
        return f"the time limit ({config.total_timeout:g} s) was reached before an answer"
    return None


def _checked(turns: list[Turn]) -> bool:
    return any(t.role == "observation" and t.status == "ok" for t in request_turns(turns))


def _succeeded_before(state: AgentState, call_text: str) -> bool:
    turns = request_turns(state.get("turns", []))
    return any(
        a.role == "caller" and a.content == call_text and b.role == "observation" and b.status == "ok"
        for a, b in itertools.pairwise(turns)
    )


def _decide(decision: Decision | None, ctx: ToolAgentContext[ToolAgentConfig], turns: list[Turn]) -> Decision:
    if decision is None:  # as the reference pipeline: no marker means the caller's turn
        decision = "caller"
    if decision == "caller" and not ctx.tools:
        decision = "conclusion"
    if decision == "conclusion" and ctx.tools and ctx.config.require_tool and not _checked(turns):
        decision = "caller"  # an answer that a tool can check is checked before it is given
    return decision


def planner(state: AgentState, runtime: Ctx) -> dict[str, Any]:
    """Decide the next move (caller, conclusion, give up) with a one-line rationale."""
    ctx = runtime.context
    cfg = ctx.config
    stop = limits(state, ctx)
    if stop:
        return {"decision": "give up", "reason": stop}
    turns = state.get("turns", [])
    history = roles.history(turns, cfg.history_chars)
    prompt = cfg.planner_prompt.format(doc=ctx.docs, history=history)
    raw = roles.text(ctx, "planner", prompt, cfg.planner_max_tokens)
    thought, marker, _ = plan(ctx, prompt, raw, history=history)
    decision = _decide(marker, ctx, turns)
    update: dict[str, Any] = {
        "thought": thought,
        "decision": decision,
        "steps": state.get("steps", 0) + 1,
        "turns": [Turn(role="assistant", content=f"{thought} Next: {decision}.")],
    }
    if decision == "give up":
        update["reason"] = f"the planner gave up: {thought}" if thought else "the planner gave up"
    return update


def caller(state: AgentState, runtime: Ctx) -> dict[str, Any]:
    """Turn the planner's rationale into one call (or an observation saying why there is none)."""
    ctx = runtime.context
    history = roles.history(state.get("turns", []), ctx.config.history_chars)
    thought = state.get("thought", "")
    prompt = caller_prompt(ctx.docs, ctx.tools, history=history, thought=thought)
    request = next((t.content for t in reversed(state.get("turns", [])) if t.role == "user"), "")  # the latest
    call, text, problem = roles.call(ctx, prompt, dialogue=f"{history}\n{thought}", request=request)
    turns = [Turn(role="caller", content=text, tool=call.name if call else None)]
    if call is not None and ctx.config.stop_on_repeat and _succeeded_before(state, text):
        note = "this exact call already succeeded; its result is above, so it is time to conclude"
        turns.append(Turn(role="observation", content=note, tool=call.name, status="repeat"))
        return {"turns": turns, "call": None, "decision": "conclusion"}
    if call is None:
        turns.append(Turn(role="observation", content=f"error: {problem}", status="invalid_call"))
    return {"turns": turns, "call": call}


def tool(state: AgentState, runtime: Runtime[ToolAgentContext[Any]]) -> dict[str, Any]:
    """Run the pending call within the tool's limit and what is left of the request's; the result is an observation."""
    ctx = runtime.context
    call = state.get("call")
    assert call is not None, "the tool node runs only after a parsed call"
    chosen = ctx.tools[call.name]
    own = min(ctx.config.tool_timeout, getattr(chosen, "timeout", None) or float("inf"))
    left = remaining(state, ctx)
    result: ToolResult = chosen.run(call.arguments, timeout=max(0.1, min(ctx.config.tool_timeout, left)))
    content = result.content
    if result.status == "timeout" and left < own:  # the request's limit, not the tool's, cut it short
        content += (
            f" (the request's time limit of {ctx.config.total_timeout:g} s left only {max(left, 0.1):.1f} s)"
        )
    turn = Turn(
        role="observation",
        content=content,
        tool=result.name,
        status=result.status,
        verified=result.verified,
        checked=result.checked,
    )
    return {"turns": [turn], "call": None}


def summarizer(state: AgentState, runtime: Ctx) -> dict[str, Any]:
    """Write the answer from this request's history."""
    ctx = runtime.context
    cfg = ctx.config
    history = roles.history(request_turns(state.get("turns", [])), cfg.history_chars)
    prompt = cfg.summarizer_prompt.format(history=history)
    answer = roles.text(ctx, "summarizer", prompt, cfg.summarizer_max_tokens).strip()
    return {"status": "answered", "answer": answer, "turns": [Turn(role="conclusion", content=answer)]}


def give_up(state: AgentState) -> dict[str, Any]:
    """End the request with an answer that says why it was not answered (a limit, or the planner's give up)."""
    reason = state.get("reason") or "the planner gave up"
    answer = f"I could not answer this: {reason}"
    return {"status": "gave_up", "answer": answer, "turns": [Turn(role="conclusion", content=answer)]}


def after_planner(state: AgentState) -> str:
    """caller -> caller, conclusion -> summarizer, give up (or a limit) -> give_up."""
    return {"caller": "caller", "conclusion": "summarizer"}.get(state.get("decision") or "", "give_up")


def after_caller(state: AgentState) -> str:
    """A parsed call runs; a repeated successful call concludes; no call goes back to the planner."""
    if state.get("call"):
        return "tool"
    return "summarizer" if state.get("decision") == "conclusion" else "planner"
