"""Get one valid tool call out of any Backend: constrained decoding of the call, tolerant parsing, retry with feedback.

Three layers, each usable alone:
  1. `tool_call_schema(tools)`: the JSON schema anyOf over tools of {"name": const, "arguments":
     the tool's parameters}; under it a backend that decodes with a grammar (models/structured.py)
     can only write a call of a real tool with schema-shaped arguments (`call_tool_constrained`).
  2. the tolerant parser of models/toolcalls.py for free text.
  3. a bounded retry: the parse error's `.feedback` goes back to the model as the next user turn.
`call_tool` combines them under one typed config; `tool_choice="required"` means constrained.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ratiocinator.errors import InvalidInput
from ratiocinator.models.backend import Backend
from ratiocinator.models.toolcalls import ToolCallParseError, parse_tool_call
from ratiocinator.models.types import Completion, Message, SamplingParams, ToolCall, ToolSpec

Mode = Literal["free", "constrained"]
ANSWER_KEY = "answer"


@dataclass(frozen=True, kw_only=True)
class ToolCallingConfig:
    """How `call_tool` asks: free text or constrained decoding, and how many retries with feedback."""

    mode: Mode = "constrained"
    retries: int = 2  # extra attempts after the first, each shown the previous attempt's error
    max_tokens: int = 160

    def __post_init__(self) -> None:
        if self.mode not in ("free", "constrained"):
            raise InvalidInput(
                f"ToolCallingConfig.mode: expected 'free' or 'constrained', got {self.mode!r}"
            )
        if self.retries < 0:
            raise InvalidInput(f"ToolCallingConfig.retries: expected >= 0, got {self.retries}")


@dataclass(frozen=True, kw_only=True)
class ToolCallResult:
    """The call that parsed, and every completion it took to get there (first attempt first)."""

    call: ToolCall
    completions: tuple[Completion, ...] = field(default_factory=tuple)

    @property
    def attempts(self) -> int:
        return len(self.completions)


def _rename_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        out = {k: _rename_refs(v, prefix) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str):
            for key in ("$defs", "definitions"):
                if ref.startswith(f"#/{key}/"):
                    out["$ref"] = f"#/$defs/{prefix}{ref[len(key) + 3 :]}"
        return out
    if isinstance(node, list):
        return [_rename_refs(v, prefix) for v in node]
    return node


def tool_call_schema(tools: Sequence[ToolSpec], *, answer: bool = False) -> dict[str, Any]:
    """JSON schema of one call of any of `tools`: anyOf {"name": const, "arguments": parameters}.

    Each tool's `$defs` move to the root under `<tool name>__` so that `$ref`s still resolve.
    `answer=True` adds the branch {"answer": string}: the model may reply instead of calling (what an
    agent loop needs to ever finish under constrained decoding).
    """
    if not tools:
        raise InvalidInput("tools: expected at least one ToolSpec")
    branches, defs = [], {}
    for tool in tools:
        params = dict(tool.parameters)
        prefix = f"{tool.name}__"
        for key in ("$defs", "definitions"):
            for name, sub in (params.pop(key, None) or {}).items():
                defs[prefix + name] = _rename_refs(sub, prefix)
        params = _rename_refs(params, prefix)
        params.pop("$schema", None)
        params.pop("title", None)
        branches.append(
            {
                "type": "object",
                "properties": {"name": {"const": tool.name}, "arguments": params},
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
        )
    if answer:
        branches.append(
            {
                "type": "object",
                "properties": {ANSWER_KEY: {"type": "string"}},
                "required": [ANSWER_KEY],
                "additionalProperties": False,
            }
        )
    schema: dict[str, Any] = {"anyOf": branches} if len(branches) > 1 else branches[0]
    if defs:
        schema["$defs"] = defs
    return schema


def raw_text(completion: Completion) -> str:
    """What the model wrote: the content plus, re-serialized, any calls the backend split off it."""
    blocks = [
        f"<tool_call>\n{json.dumps({'name': c.name, 'arguments': c.arguments})}\n</tool_call>"
        for c in completion.tool_calls
    ]
    return "\n".join([t for t in (completion.text,) if t] + blocks) if blocks else completion.text


def tool_params(
    params: SamplingParams | None,
    tools: Sequence[ToolSpec],
    config: ToolCallingConfig,
    constrained: bool,
) -> SamplingParams:
    """The sampling parameters of a tool-call request: `params` with the tools (and the call schema)."""
    base = params or SamplingParams(max_tokens=config.max_tokens)
    if base.n != 1:
        raise InvalidInput(
            f"params.n: a tool call is asked for one completion at a time, got n={base.n}"
        )
    if base.grammar is not None or base.schema is not None:
        raise InvalidInput(
            "params: schema/grammar are set by the tool calling itself; leave them empty"
        )
    update: dict[str, Any] = {"tools": tuple(tools)}
    if constrained:
        update["schema_"] = tool_call_schema(tools)
    return base.model_copy(update=update)


def _messages(messages: Sequence[Message | dict[str, Any]] | str) -> list[Message]:
    if isinstance(messages, str):
        return [Message(role="user", content=messages)]
    return [m if isinstance(m, Message) else Message.model_validate(m) for m in messages]


def call_tool(
    backend: Backend,
    messages: Sequence[Message | dict[str, Any]] | str,
    tools: Sequence[ToolSpec],
    params: SamplingParams | None = None,
    *,
    config: ToolCallingConfig | None = None,
) -> ToolCallResult:
    """One valid call of one of `tools`, asked for under `config`; ToolCallParseError when retries run out.

    Each failed attempt is appended to the conversation as the assistant's turn, followed by a user
    turn holding the parse error's feedback, and the model is asked again.
    """
    config = config or ToolCallingConfig()
    if not tools:
        raise InvalidInput("tools: expected at least one ToolSpec to call")
    conversation = _messages(messages)
    sampling = tool_params(params, tools, config, constrained=config.mode == "constrained")
    completions: list[Completion] = []
    for attempt in range(config.retries + 1):
        (completion,) = backend.generate(conversation, sampling)
        completions.append(completion)
        text = raw_text(completion)
        try:
            return ToolCallResult(call=parse_tool_call(text, tools), completions=tuple(completions))
        except ToolCallParseError as exc:
            if attempt == config.retries:
                raise
            conversation += [
                Message(role="assistant", content=text),
                Message(role="user", content=exc.feedback),
            ]
    raise AssertionError("unreachable: the loop returns or raises")


def call_tool_constrained(
    backend: Backend,
    messages: Sequence[Message | dict[str, Any]] | str,
    tools: Sequence[ToolSpec],
    params: SamplingParams | None = None,
    *,
    retries: int = 1,
) -> ToolCall:
    """One call decoded under `tool_call_schema(tools)` (UnsupportedFeature where a backend cannot).

    A retry is still possible: a call cut off by max_tokens, or arguments that break a constraint
    the grammar does not encode (e.g. `minimum`), get the feedback like free text does.
    """
    config = ToolCallingConfig(mode="constrained", retries=retries)
    return call_tool(backend, messages, tools, params, config=config).call
