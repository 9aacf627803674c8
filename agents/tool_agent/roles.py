"""The model calls of the roles over a runtime context: history text, free text (streamed), the constrained caller.

Shared by the alpha-UMi nodes, the ReAct baseline (agents/react/) and the static ToolBench evaluation.
The caller is constrained: first the tool name (a grammar over the tool names), then the arguments
(the tool's JSON schema), so a call always parses on a constraining backend. With
`constrained=False` the output goes through the tolerant `models.toolcalls.parse_tool_call` and its
feedback is given back for `caller_retries` retries.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ratiocinator.agents.tool_agent.context import ToolAgentContext
from ratiocinator.agents.tool_agent.prompts import HistoryTurn, format_call, render_history
from ratiocinator.agents.tool_agent.turns import PendingCall, TokenEvent, Turn, request_turns
from ratiocinator.models.types import Message, SamplingParams


def history(turns: Sequence[Turn], history_chars: int) -> str:
    """The history for a prompt: earlier requests as question and conclusion only, this one in full."""
    current = len(turns) - len(request_turns(turns))
    kept = [t for i, t in enumerate(turns) if i >= current or t.role in ("user", "conclusion")]
    return render_history(
        [HistoryTurn(role=t.role, content=t.content) for t in kept], max_chars=history_chars
    )


def text(
    ctx: ToolAgentContext[Any], role: str, prompt: str, max_tokens: int, *, stream: bool | None = None
) -> str:
    """The role's free text; streamed as TokenEvents on the graph's custom stream when so configured."""
    cfg = ctx.config
    params = SamplingParams(temperature=cfg.temperature, max_tokens=max_tokens)
    conversation = [Message(role="user", content=prompt)]
    if not (cfg.stream_tokens if stream is None else stream):
        return ctx.backend.generate([conversation], params)[0].text
    from langgraph.config import get_stream_writer

    writer = get_stream_writer()
    pieces = []
    for delta in ctx.backend.stream(conversation, params):
        pieces.append(delta)
        writer(TokenEvent(role=role, text=delta))
    return "".join(pieces)


def constrained(
    ctx: ToolAgentContext[Any], prompt: str, *, schema: Any = None, grammar: str | None = None
) -> tuple[str, bool]:
    """(the caller's constrained output, whether it ended before the token limit)."""
    params = SamplingParams(
        temperature=ctx.config.temperature,
        max_tokens=ctx.config.caller_max_tokens,
        schema=schema,
        grammar=grammar,
    )
    (c,) = ctx.backend.generate([[Message(role="user", content=prompt)]], params)
    return c.text.strip(), c.finish_reason != "length"


def pick_tool(ctx: ToolAgentContext[Any], prompt: str, dialogue: str = "", request: str = "") -> tuple[str, str]:
    """(the caller's tool name, the problem when it is not a tool): scored, or decoded under the names' grammar."""
    from ratiocinator.agents.tool_agent.decide import choose_tool

    tools = ctx.tools
    if ctx.config.tool_choice == "scored":
        return choose_tool(ctx, prompt, dialogue, request), ""
    names = " | ".join(json.dumps(n) for n in tools)
    name, _ = constrained(ctx, prompt + "\nAction:", grammar=f"root ::= {names}")
    name = name.strip().strip('"')
    if name not in tools:
        return name, f"unknown tool {name!r}; the tools are {', '.join(tools)}"
    return name, ""


def call(ctx: ToolAgentContext[Any], prompt: str, dialogue: str = "", request: str = ""
         ) -> tuple[PendingCall | None, str, str]:
    """(call or None, the caller's turn text, the problem when there is no call).

    `dialogue`: the text the arguments are grounded in (config `grounding`); empty: not grounded.
    `request`: the user's request, which a scored tool choice may be grounded in (config `request_overlap`).
    """
    tools = ctx.tools
    if not ctx.config.constrained:
        return _free_call(ctx, prompt)
    name, problem = pick_tool(ctx, prompt, dialogue, request)
    if problem:
        return None, f"Action: {name}", problem
    schema = tools[name].parameters
    args_prompt = f"{prompt}\nAction: {name}\nAction Input:"
    raw, complete = constrained(ctx, args_prompt, schema=schema)
    try:
        args = json.loads(raw)
    except ValueError:
        why = "it was cut at the token limit" if not complete else "it is not JSON"
        return None, format_call(name, raw), f"the arguments for {name} did not parse ({why})"
    if not isinstance(args, dict):
        return None, format_call(name, raw), f"the arguments for {name} must be a JSON object, got {raw[:80]}"
    if ctx.config.grounding and dialogue and isinstance(schema, dict):
        from ratiocinator.agents.tool_agent.ground import ground_arguments

        grounded = ground_arguments(ctx, args_prompt, args, schema, dialogue)
        if grounded != args:
            args, raw = grounded, json.dumps(grounded, ensure_ascii=False)
    return PendingCall(name=name, arguments=args), format_call(name, raw), ""


def _free_call(ctx: ToolAgentContext[Any], prompt: str) -> tuple[PendingCall | None, str, str]:
    from ratiocinator.models.toolcalls import ToolCallParseError, parse_tool_call

    specs = [t.spec() for t in ctx.tools.values()]
    out, problem = "", ""
    for _ in range(ctx.config.caller_retries + 1):
        out = text(ctx, "caller", prompt, ctx.config.caller_max_tokens, stream=False).strip()
        try:
            parsed = parse_tool_call(out, specs)
        except ToolCallParseError as exc:
            problem = exc.feedback
            prompt = f"{prompt}\nYour previous answer was:\n{out}\nIt could not be used: {exc.feedback}"
            continue
        return PendingCall(name=parsed.name, arguments=dict(parsed.arguments)), out, ""
    return None, out, f"the call did not parse: {problem}"
