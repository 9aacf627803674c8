"""Parse the tool calls that models write — hermes tags, fenced or bare JSON, Python dicts, half JSON, `name(arg=…)` — into schema-valid ToolCalls.

Small models rarely follow the hermes `<tool_call>{"name": …, "arguments": {…}}</tool_call>` format
exactly: they fence the JSON, write a Python dict repr, stop in the middle of an object, call the
tool like a Python function, or wrap it in prose. `parse_tool_call` reads all of these, matches the
tool name case- and underscore-insensitively, coerces arguments the schema types (`"3"` -> 3 for an
integer) and validates them with jsonschema. Anything it cannot turn into exactly one valid call
raises `ToolCallParseError`, whose `.feedback` says what was wrong in words a model can act on (see
models/toolcalling.py for the retry that feeds it back). `extract_tool_calls` is its many-calls
variant that never raises; `parse_tool_calls` is the strict hermes reading the backends use to
fill `Completion.tool_calls`.

Hand-written parts, and why: the scanning for candidate spans and the mapping of the many object
shapes onto (name, arguments) are specific to tool calls; JSON repair is json_repair's, Python
literals are `ast.literal_eval`'s (never eval), validation is jsonschema's.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ratiocinator.errors import InvalidInput, ModelOutputError
from ratiocinator.models.toolargs import Unreadable, check_arguments, feedback_for, load_value
from ratiocinator.models.types import ToolCall, ToolSpec

# Tool calls are short: longer outputs are read up to MAX_SCAN_CHARS, which bounds the work.
MAX_SCAN_CHARS = 16_000
_MAX_SPANS = 64  # candidate spans looked at per region

_HERMES = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_FENCE = re.compile(r"```[\w+-]*[ \t]*\n?(.*?)(?:```|$)", re.DOTALL)
_REACT = re.compile(
    r"Action\s*:\s*`?([\w.\-]+)`?\s*\n+\s*Action\s*Input\s*:\s*(.+)", re.DOTALL | re.I
)
_CALL = re.compile(r"([A-Za-z_][\w.\-]*)\s*\(")
_NAME_KEYS = "name tool tool_name function function_name action api_name recipient_name".split()
_ARG_KEYS = "arguments parameters args tool_input action_input input params kwargs".split()
_WRAPPERS = ("function", "function_call", "tool_call", "call")
_LISTS = ("tool_calls", "calls", "function_calls", "actions")
_OPENERS = re.compile(r"(<tool_call>|```[\w+-]*)\s*$")
_WORDS = {"true": True, "false": False, "null": None, "none": None}


class ToolCallParseError(ModelOutputError):
    """A model's output holds no usable tool call; `.feedback` tells the model how to fix it."""

    def __init__(self, message: str, *, text: str, feedback: str) -> None:
        super().__init__(message, text=text)
        self.feedback = feedback


def _call_id() -> str:
    return "call_" + uuid.uuid4().hex[:12]


# --- the strict hermes parser (what the backends fill Completion.tool_calls with) ---------------


def parse_tool_calls(text: str, tools: Sequence[ToolSpec]) -> tuple[str, tuple[ToolCall, ...]]:
    """Split `text` into (content before the first call, calls). Unknown tools and bad JSON are dropped.

    Qwen-style templates ask for `<tool_call>{"name": …, "arguments": {…}}</tool_call>`; a reply that
    is a bare JSON object with `name` and `arguments` is accepted too. Arguments are not validated
    here; `parse_tool_call` is the tolerant, validating parser.
    """
    known = {t.name for t in tools}
    blocks = _HERMES.findall(text)
    content = text.split("<tool_call>", 1)[0].strip() if blocks else text
    if not blocks:
        stripped = text.strip()
        if stripped.startswith("{") and stripped.endswith("}"):
            blocks, content = [stripped], ""
    calls: list[ToolCall] = []
    for block in blocks:
        try:
            obj = json.loads(block)
        except (ValueError, RecursionError):
            continue
        if not isinstance(obj, dict):
            continue
        name = obj.get("name")
        args = obj.get("arguments", obj.get("parameters", {}))
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except (ValueError, RecursionError):
                continue
        if isinstance(name, str) and name in known and isinstance(args, dict):
            calls.append(ToolCall(id=_call_id(), name=name, arguments=args))
    if not calls:
        return text, ()
    return content, tuple(calls)


# --- candidate extraction ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    """A (name, arguments) pair read from the text; name None: arguments only, tool inferred."""

    name: str | None
    arguments: Any
    start: int
    alt: _Candidate | None = None  # the reading to try when `name` names no tool


def _span_end(text: str, start: int, open_: str, close: str) -> int:
    """Index after the bracket matching text[start] (quotes respected), or len(text) if unclosed."""
    depth, quote, i = 0, "", start
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def _from_object(obj: dict[Any, Any], start: int, depth: int = 0) -> list[_Candidate]:
    """The calls one JSON object describes, whatever shape the model gave it."""
    if depth > 3:
        return []
    for key in _LISTS:
        if isinstance(obj.get(key), list):
            return [
                c
                for item in obj[key]
                if isinstance(item, dict)
                for c in _from_object(item, start, depth + 1)
            ]
    for key in _WRAPPERS:
        inner = obj.get(key)
        if isinstance(inner, dict) and any(k in inner for k in _NAME_KEYS):
            return _from_object(inner, start, depth + 1)
    whole = _Candidate(None, obj, start)
    name_key = next((k for k in _NAME_KEYS if isinstance(obj.get(k), str)), None)
    if name_key is not None:
        arg_key = next((k for k in _ARG_KEYS if k in obj), None)
        if arg_key is not None:
            args = obj[arg_key]
        else:
            args = {k: v for k, v in obj.items() if k not in (name_key, "type", "id")}
        return [_Candidate(obj[name_key], args, start, alt=whole)]
    if len(obj) == 1:
        ((key, value),) = obj.items()
        if isinstance(key, str) and isinstance(value, dict):
            return [_Candidate(key, value, start, alt=whole)]
    return [whole]


def _literal(node: ast.expr, source: str) -> Any:
    try:
        return ast.literal_eval(node)
    except Exception:  # a bare word, an expression: keep it as the text the model wrote
        if isinstance(node, ast.Name):
            return _WORDS.get(node.id.lower(), node.id)
        return ast.get_source_segment(source, node) or ""


def _call_arguments(name: str, inner: str, closed: bool) -> Any:
    """The arguments of `name(inner)` as a dict (positional ones keyed `*0`, `*1`, …)."""
    attempts = [inner]
    if not closed:  # truncated: close an open string, drop a dangling comma
        fixed = inner.rstrip()
        for q in "\"'":
            if fixed.count(q) % 2:
                fixed += q
        attempts.append(fixed.rstrip(","))
    for body in attempts:
        source = f"f({body})"
        try:
            with warnings.catch_warnings():  # "invalid escape sequence" in model text
                warnings.simplefilter("ignore")
                tree = ast.parse(source, mode="eval")
        except Exception:  # SyntaxError, ValueError (NUL bytes), RecursionError
            continue
        call = tree.body
        if not isinstance(call, ast.Call):
            continue
        if len(call.args) == 1 and not call.keywords:
            only = _literal(call.args[0], source)
            if isinstance(only, dict):
                return only
        args: dict[str, Any] = {f"*{i}": _literal(a, source) for i, a in enumerate(call.args)}
        args.update({k.arg: _literal(k.value, source) for k in call.keywords if k.arg is not None})
        return args
    return Unreadable(f"{name}({inner}")


def _scan(region: str, offset: int, tools: Sequence[ToolSpec]) -> list[_Candidate]:
    """Every candidate call in one region: ReAct Action/Action Input, objects, `name(…)` calls."""
    found: list[_Candidate] = []
    react = _REACT.search(region)
    if react:
        found.append(_Candidate(react.group(1), load_value(react.group(2)), offset + react.start()))
    i, spans = region.find("{"), 0
    taken: list[tuple[int, int]] = []
    while i >= 0 and spans < _MAX_SPANS:
        end = _span_end(region, i, "{", "}")
        spans += 1
        value = load_value(region[i:end])
        if isinstance(value, dict):
            found.extend(_from_object(value, offset + i))
            taken.append((i, end))
        i = region.find("{", end if isinstance(value, dict) else i + 1)
    names = [_norm(t.name) for t in tools]
    for m in list(_CALL.finditer(region))[:_MAX_SPANS]:
        if any(a <= m.start() < b for a, b in taken):
            continue
        name = m.group(1)
        short = _norm(name.rsplit(".", 1)[-1])
        if short not in names and not difflib.get_close_matches(short, names, n=1, cutoff=0.75):
            continue
        end = _span_end(region, m.end() - 1, "(", ")")
        closed = end < len(region) or region.endswith(")")
        inner = region[m.end() : end - 1 if closed else end]
        found.append(_Candidate(name, _call_arguments(name, inner, closed), offset + m.start()))
    return sorted(found, key=lambda c: c.start)


def _regions(text: str) -> list[list[tuple[str, int]]]:
    """Where to look, most explicit first: hermes blocks, then code fences, then the whole text."""
    layers = []
    for pattern in (_HERMES, _FENCE):
        found = [(m.group(1), m.start(1)) for m in pattern.finditer(text)]
        if found:
            layers.append(found)
    layers.append([(text, 0)])
    return layers


# --- resolution: names, argument coercion and validation ---------------------------------------


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _find_tool(raw: str, tools: Sequence[ToolSpec]) -> ToolSpec | None:
    raw = raw.strip().strip("`'\" ")
    exact = [t for t in tools if t.name == raw]
    if exact:
        return exact[0]
    for form in (raw, raw.rsplit(".", 1)[-1]):  # `functions.get_weather`
        hits = [t for t in tools if _norm(t.name) == _norm(form)]
        if len(hits) == 1:
            return hits[0]
    return None


def _suggest(raw: str, tools: Sequence[ToolSpec]) -> str:
    by_norm = {_norm(t.name): t.name for t in tools}
    close = difflib.get_close_matches(_norm(raw), list(by_norm), n=2, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(by_norm[c]) for c in close)}?" if close else ""


def _resolve(cand: _Candidate, tools: Sequence[ToolSpec]) -> tuple[ToolCall | None, str]:
    if cand.name is not None:
        tool = _find_tool(cand.name, tools)
        if tool is None:
            if cand.alt is not None:
                call, problem = _resolve(cand.alt, tools)
                if call is not None:
                    return call, ""
            return None, f"there is no tool named {cand.name!r}{_suggest(cand.name, tools)}"
        args, problem = check_arguments(cand.arguments, tool)
        return (
            (ToolCall(id=_call_id(), name=tool.name, arguments=args), "")
            if args is not None
            else (None, problem)
        )
    if not isinstance(cand.arguments, dict):
        return None, "the output names no tool"
    fits = []
    for tool in tools:  # arguments alone: the call is the one tool whose schema they fit
        props = tool.parameters.get("properties") or {}
        if set(cand.arguments) <= set(props) or len(tools) == 1:
            args, _ = check_arguments(cand.arguments, tool)
            if args is not None:
                fits.append(ToolCall(id=_call_id(), name=tool.name, arguments=args))
    if len(fits) == 1:
        return fits[0], ""
    return None, 'the JSON object names no tool (give it as "name")'


def _valid_calls(
    text: str, tools: Sequence[ToolSpec]
) -> tuple[list[ToolCall], list[str], int | None]:
    """The distinct valid calls of the most explicit layer that has any, the problems met, where."""
    problems: list[str] = []
    for layer in _regions(text[:MAX_SCAN_CHARS]):
        calls: list[ToolCall] = []
        seen: set[str] = set()
        first: int | None = None
        for region, offset in layer:
            for cand in _scan(region, offset, tools):
                call, problem = _resolve(cand, tools)
                if call is None:
                    problems.append(problem)
                    continue
                key = json.dumps([call.name, call.arguments], sort_keys=True, default=str)
                if key not in seen:
                    seen.add(key)
                    calls.append(call)
                    first = cand.start if first is None else min(first, cand.start)
        if calls:
            return calls, problems, first
    return [], problems, None


def parse_tool_call(text: str, tools: Sequence[ToolSpec]) -> ToolCall:
    """The one tool call in `text`, validated against its tool's schema; else ToolCallParseError.

    Reads hermes blocks, fenced or bare JSON (also half-written), Python dict reprs, `name(arg=…)`
    calls and ReAct `Action:`/`Action Input:` pairs, with prose around them.
    """
    if not tools:
        raise InvalidInput("tools: expected at least one ToolSpec to parse a call of")
    if not isinstance(text, str):
        raise InvalidInput(
            f"text: expected the model's output as a string, got {type(text).__name__}"
        )
    calls, problems, _ = _valid_calls(text, tools)
    if len(calls) == 1:
        return calls[0]
    if calls:
        problem = (
            "it holds several different calls ("
            + ", ".join(c.name for c in calls)
            + "); make one at a time"
        )
    elif problems:
        problem = next((p for p in problems if "no tool named" not in p), problems[0])
    else:
        problem = "it holds no tool call"
    raise ToolCallParseError(
        f"no usable tool call: {problem}", text=text, feedback=feedback_for(problem, tools)
    )


def extract_tool_calls(text: str, tools: Sequence[ToolSpec]) -> tuple[str, tuple[ToolCall, ...]]:
    """Like parse_tool_calls, but tolerant and validating: (content before the calls, valid calls)."""
    if not tools or not isinstance(text, str):
        return text, ()
    calls, _, first = _valid_calls(text, tools)
    if not calls:
        return text, ()
    return _OPENERS.sub("", text[: first or 0]).strip(), tuple(calls)
