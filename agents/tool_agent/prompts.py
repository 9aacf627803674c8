"""The alpha-UMi protocol (Shen et al. 2024, "Small LLMs Are Weak Tool Learners: A Multi-LLM Agent"): role prompts, history, parsing.

The planner writes a rationale ending in `Next: caller.`, `Next: conclusion.` or `Next: give up.`;
the caller answers `Action: NAME` / `Action Input: {JSON}`; the summarizer writes the conclusion. The
single-LLM baseline ("backbone") does all three in one output (its prompt: agents/react/prompts.py).
Prompts follow the reference implementation (X-PLUG/Multi-LLM-Agent, GLPFT/utils/prompt_lib.py);
turns there are joined with the Llama `</s>`, here with newlines (the chat template of the model adds
its own turn markers).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Decision = Literal["caller", "conclusion", "give up"]
DECISIONS: tuple[Decision, ...] = ("caller", "conclusion", "give up")

PLANNER = """You have access to the following apis:
{doc}
The conversation history is:
{history}
You are the assistant to plan what to do next and whether is caller's or conclusion's turn to answer.
Answer with a following format:
The thought of the next step, followed by Next: caller or conclusion or give up."""

CALLER = """You have access to the following apis:
{doc}
The conversation history is:
{history}
The thought of this step is:
{thought}
Base on the thought make an api call in the following format:
Action: the name of api that should be called in this step, should be exactly in [{tool_names}],
Action Input: the api call request."""

def caller_prompt(docs: str, tools: Iterable[str], *, history: str, thought: str) -> str:
    """The caller's prompt (CALLER) for these tool documents and names, the rendered history and the step's thought."""
    return CALLER.format(doc=docs, history=history, thought=thought, tool_names=", ".join(tools))


SUMMARIZER = """Make a conclusion based on the conversation history:
{history}"""

_NEXT = re.compile(r"Next:\s*(caller|conclusion|give\s*up)", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class HistoryTurn:
    """One turn of the shared history, in the reference's role vocabulary."""

    role: Literal["user", "assistant", "caller", "observation", "conclusion"]
    content: str


def render_history(turns: Sequence[HistoryTurn], *, max_chars: int | None = None) -> str:
    """`role: content` lines; with `max_chars`, the oldest turns after the first (the request) are dropped."""
    lines = [f"{t.role}: {t.content.strip()}" for t in turns]
    if max_chars is not None and sum(len(x) + 1 for x in lines) > max_chars and len(lines) > 1:
        head, tail = lines[0][: max_chars // 2], lines[1:]
        budget = max_chars - len(head)
        kept: list[str] = []
        for line in reversed(tail):
            if budget - len(line) - 1 < 0:
                break
            kept.append(line)
            budget -= len(line) + 1
        lines = [head, "(… earlier turns omitted …)", *reversed(kept)]
    return "\n".join(lines)


def tool_doc(tools: Sequence[dict[str, Any]]) -> str:
    """One JSON object per line, as the reference writes the API documents."""
    return "\n".join(json.dumps(t, ensure_ascii=False) for t in tools)


def parse_decision(text: str) -> tuple[str, Decision | None]:
    """(thought up to and including the first `Next: …`, decision), or (text, None) when no marker is present."""
    m = _NEXT.search(text)
    if m is None:
        return text.strip(), None
    word = m.group(1).lower()
    decision: Decision = "give up" if word.startswith("give") else word  # type: ignore[assignment]
    return text[: m.start()].strip(), decision


def format_call(name: str, arguments: Any) -> str:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return f"Action: {name}\nAction Input: {args}"


def split_action(text: str) -> tuple[str, str]:
    """(action, action input text) by the reference's rules: the last `Action:` and `Action Input:`."""
    action_input = "{}"
    if "Action Input:" in text:
        action_input = text[text.rindex("Action Input:") + len("Action Input:") :].strip()
    action = "none"
    if "Action:" in text:
        action = text[text.rindex("Action:") + len("Action:") :].strip()
        if "Action Input:" in action:
            action = action[: action.index("Action Input:")].strip()
    return action, action_input


_HINT_TYPES = {
    "string": "string",
    "str": "string",
    "number": "number",
    "integer": "integer",
    "int": "integer",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "object": "object",
}


def toolbench_arguments_schema(inputs: Any, *, required: bool = False) -> dict[str, Any]:
    """A JSON schema for a ToolBench API's `input` ({"q": "string, the query"}), typed by the hint.

    The data do not say which parameters are required: all are optional, or all required (`required`).
    """
    props: dict[str, Any] = {}
    if isinstance(inputs, dict):
        for key, hint in inputs.items():
            word = str(hint).split(",", 1)[0].strip().lower()
            kind = _HINT_TYPES.get(word)
            props[str(key)] = {"type": kind} if kind else {"type": ["string", "number", "boolean"]}
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required and props:
        schema["required"] = list(props)
    return schema
