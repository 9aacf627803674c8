"""Parse the tool calls a model wrote into typed ToolCalls (hermes `<tool_call>` JSON blocks)."""

from __future__ import annotations

import json
import re
import uuid

from ratiocinator.models.types import ToolCall, ToolSpec

_BLOCK = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)


def _call_id() -> str:
    return "call_" + uuid.uuid4().hex[:12]


def parse_tool_calls(text: str, tools: tuple[ToolSpec, ...]) -> tuple[str, tuple[ToolCall, ...]]:
    """Split `text` into (content before the first call, calls). Unknown tools and bad JSON are dropped.

    Qwen-style templates ask for `<tool_call>{"name": …, "arguments": {…}}</tool_call>`; a reply that
    is a bare JSON object with `name` and `arguments` is accepted too.
    """
    known = {t.name for t in tools}
    blocks = _BLOCK.findall(text)
    content = text.split("<tool_call>", 1)[0].strip() if blocks else text
    if not blocks:
        stripped = text.strip()
        if stripped.startswith("{") and stripped.endswith("}"):
            blocks, content = [stripped], ""
    calls: list[ToolCall] = []
    for block in blocks:
        try:
            obj = json.loads(block)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        name = obj.get("name")
        args = obj.get("arguments", obj.get("parameters", {}))
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except ValueError:
                continue
        if name in known and isinstance(args, dict):
            calls.append(ToolCall(id=_call_id(), name=name, arguments=args))
    if not calls:
        return text, ()
    return content, tuple(calls)
