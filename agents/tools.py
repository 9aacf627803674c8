"""Typed tools from plain Python functions: JSON schema from signature + docstring, timeouts, errors as observations.

    @tool(timeout=5)
    def add(a: int, b: int) -> int:
        '''Add two integers.

        Args:
            a: the first summand
            b: the second summand
        '''
        return a + b

    add.spec()                      # ToolSpec(name="add", description="Add two integers.", parameters={...})
    add.run({"a": 2, "b": 3})       # ToolResult(status="ok", content="5", value=5, ...)

The argument schema is a pydantic model built from the signature and the Google-style docstring
(langchain-core's `create_schema_from_function`); a parameter typed with a pydantic model nests its
schema. Tools may be sync or async. `run` never raises for what the tool does: invalid arguments, an
exception inside the tool and a timeout all become a `ToolResult` whose `content` the planner reads.
Only LangGraph's own control flow (`interrupt()` inside `ask_user`) passes through.

A sync tool with a timeout runs in a daemon thread; at the deadline the agent moves on and the thread
is abandoned (Python cannot kill a thread). So that the limit stops what it limits:

- a tool with a `timeout` parameter (plan, optimize, run_python) gets at most the call's limit less a
  margin, so that its engine (a killed planner, a killed solver child, the sandbox) stops itself
  first; the observation says when the limit asked for was lowered, and why;
- a call abandoned at its deadline is waited for before any other tool call starts (at most that
  call's limit): two calls never run at once on the same model, and an observation says so when the
  earlier call is still running.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from ratiocinator.errors import InvalidInput
from ratiocinator.models.types import ToolSpec

ToolStatus = Literal["ok", "error", "timeout", "invalid_arguments", "unknown_tool"]
DEFAULT_TIMEOUT = 30.0
MAX_OBSERVATION_CHARS = 2000
#: seconds of a call's limit kept back from a tool's own `timeout` argument, for it to stop and answer
MARGIN = 1.0

_abandoned: list[tuple[str, threading.Thread]] = []  # calls past their deadline, perhaps still running
_abandoned_lock = threading.Lock()


class _StillRunning(Exception):
    """An earlier call, abandoned at its deadline, has not ended: this one was not started."""


@dataclass(frozen=True, kw_only=True)
class ToolResult:
    """What one tool call produced: status, the observation text the planner sees, the typed value."""

    name: str
    arguments: Mapping[str, Any]
    status: ToolStatus
    content: str
    value: Any = None
    seconds: float = 0.0
    verified: str | None = None  # how the result was checked, when the tool checks it
    checked: bool = True  # False: the tool says how it tried, and that its result is NOT verified

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True, kw_only=True)
class Verified:
    """A tool's return value together with a sentence saying how it was checked (`checked=False`: the check failed)."""

    value: Any
    how: str
    checked: bool = True


def _control_flow(exc: BaseException) -> bool:
    """LangGraph's interrupt and other bubbling signals must reach the graph, not become observations."""
    try:
        from langgraph.errors import GraphBubbleUp
    except ImportError:  # pragma: no cover - langgraph is a dependency
        return False
    return isinstance(exc, GraphBubbleUp)


def _render(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, BaseModel):
        text = value.model_dump_json()
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    return (
        text
        if len(text) <= MAX_OBSERVATION_CHARS
        else text[:MAX_OBSERVATION_CHARS] + " …(truncated)"
    )


@dataclass(frozen=True, kw_only=True)
class Tool:
    """A callable the agent may use: name, description, argument model (JSON schema), time limit."""

    name: str
    description: str
    fn: Callable[..., Any]
    args_model: type[BaseModel]
    timeout: float | None = DEFAULT_TIMEOUT  # None: run inline, unbounded (needed by ask_user)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def parameters(self) -> dict[str, Any]:
        schema = self.args_model.model_json_schema()
        schema.pop("title", None)
        schema.pop("description", None)
        schema.setdefault("properties", {})
        return schema

    def spec(self) -> ToolSpec:
        return ToolSpec(name=self.name, description=self.description, parameters=self.parameters)

    def signature(self) -> str:
        """One line for prompts: `name(arg: type, …): description`."""
        props = self.parameters.get("properties", {})
        args = ", ".join(f"{k}: {_type_name(v)}" for k, v in props.items())
        return f"{self.name}({args}): {self.description}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def _invoke(self, arguments: Mapping[str, Any]) -> Any:
        parsed = self.args_model.model_validate(dict(arguments))
        kwargs = {name: getattr(parsed, name) for name in type(parsed).model_fields}
        result = self.fn(**kwargs)
        if inspect.isawaitable(result):
            result = asyncio.run(_awaited(result))
        return result

    def _own_limit(self, arguments: Mapping[str, Any], limit: float) -> tuple[Mapping[str, Any], str]:
        """A `timeout` argument above the call's limit is lowered to fit inside it, and the observation says so."""
        field = self.args_model.model_fields.get("timeout")
        if field is None:
            return arguments, ""
        asked = arguments.get("timeout", field.default)
        fits = max(limit - min(MARGIN, limit / 10), limit / 2)
        if not isinstance(asked, int | float) or isinstance(asked, bool) or asked <= fits:
            return arguments, ""
        note = (f" (its timeout of {asked:g} s was lowered to {fits:g} s: one tool call may take at most "
                f"{limit:g} s here)")
        return {**arguments, "timeout": fits}, note

    def run(self, arguments: Mapping[str, Any], *, timeout: float | None = None) -> ToolResult:
        """Validate the arguments and call the tool within `timeout` (default: the tool's own)."""
        start = time.monotonic()
        limit = self.timeout if timeout is None else min(timeout, self.timeout or timeout)
        try:
            self.args_model.model_validate(dict(arguments))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            return ToolResult(
                name=self.name,
                arguments=dict(arguments),
                status="invalid_arguments",
                content=f"invalid arguments for {self.name}: {problems}",
                seconds=time.monotonic() - start,
            )
        note = ""
        if limit is None:
            outcome = _attempt(self._invoke, arguments)
        else:
            arguments, note = self._own_limit(arguments, limit)
            outcome = _with_deadline(self._invoke, arguments, limit, self.name)
        seconds = time.monotonic() - start
        if outcome is None or isinstance(outcome[1], _StillRunning):
            why = f"; {outcome[1]}" if outcome is not None else \
                "; the call was abandoned, and no other tool call starts until it has ended"
            return ToolResult(
                name=self.name,
                arguments=dict(arguments),
                status="timeout",
                seconds=seconds,
                content=f"{self.name} did not finish within {limit:g} s (timed out{why}){note}",
            )
        ok, value = outcome
        if not ok:
            return ToolResult(
                name=self.name,
                arguments=dict(arguments),
                status="error",
                seconds=seconds,
                content=f"{self.name} raised {type(value).__name__}: {value}",
            )
        how, checked = None, True
        if isinstance(value, Verified):
            value, how, checked = value.value, value.how, value.checked
        return ToolResult(
            name=self.name,
            arguments=dict(arguments),
            status="ok",
            content=_render(value) + note,
            value=value,
            seconds=seconds,
            verified=how,
            checked=checked,
        )


def _type_name(schema: dict[str, Any]) -> str:
    """`integer`, `array`, `string | null` … for a property's schema (anyOf spelled out)."""
    if "anyOf" in schema:
        return " | ".join(_type_name(s) for s in schema["anyOf"])
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    return str(schema.get("type", "object"))


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _attempt(fn: Callable[[Any], Any], arg: Any) -> tuple[bool, Any]:
    try:
        return True, fn(arg)
    except Exception as exc:
        if _control_flow(exc):
            raise
        return False, exc


def _wait_for_abandoned(deadline: float) -> str:
    """Wait (until `deadline`) for calls abandoned earlier; the names of those still running, or ""."""
    with _abandoned_lock:
        pending = list(_abandoned)
    for _, thread in pending:
        thread.join(max(deadline - time.monotonic(), 0.0))
    with _abandoned_lock:
        _abandoned[:] = [(n, t) for n, t in _abandoned if t.is_alive()]
        return ", ".join(sorted({n for n, _ in _abandoned}))


def _with_deadline(fn: Callable[[Any], Any], arg: Any, timeout: float, name: str = "tool") -> tuple[bool, Any] | None:
    """Run in a daemon thread (with the caller's context vars); None when it is still running at the deadline
    (it is then remembered, and the next call waits for it to end first)."""
    deadline = time.monotonic() + timeout
    running = _wait_for_abandoned(deadline)
    if running:
        return False, _StillRunning(f"an earlier call of {running}, abandoned at its time limit, is still "
                                    "running; this call was not started")
    box: list[tuple[bool, Any]] = []
    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            box.append(ctx.run(_attempt, fn, arg))
        except BaseException as exc:  # a control-flow signal: hand it back to the caller's thread
            box.append((False, exc))

    thread = threading.Thread(target=target, name="ratiocinator-tool", daemon=True)
    thread.start()
    thread.join(max(deadline - time.monotonic(), 0.0))
    if thread.is_alive():
        with _abandoned_lock:
            _abandoned.append((name, thread))
        return None
    ok, value = box[0]
    if not ok and _control_flow(value):
        raise value
    return ok, value


def tool(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Any:
    """Make a `Tool` from a typed function (as a decorator, with or without arguments)."""

    def wrap(f: Callable[..., Any]) -> Tool:
        return make_tool(f, name=name, description=description, timeout=timeout)

    return wrap(fn) if fn is not None else wrap


def make_tool(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Tool:
    """A `Tool` from a function: every parameter needs a type annotation; the docstring describes them."""
    from langchain_core.tools.base import create_schema_from_function

    if isinstance(fn, Tool):
        return fn
    if not callable(fn):
        raise InvalidInput(f"tool: expected a function, got {type(fn).__name__}")
    tool_name = name or getattr(fn, "__name__", "")
    if not tool_name.isidentifier():
        raise InvalidInput(
            f"tool name {tool_name!r}: expected a Python identifier (letters, digits, _)"
        )
    params = inspect.signature(fn).parameters
    for p in params.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise InvalidInput(
                f"tool {tool_name}: *args/**kwargs cannot be described by a schema; name them"
            )
        if p.annotation is inspect.Parameter.empty:
            raise InvalidInput(f"tool {tool_name}: parameter {p.name!r} needs a type annotation")
    model = create_schema_from_function(
        tool_name, fn, parse_docstring=True, error_on_invalid_docstring=False
    )
    doc = inspect.getdoc(fn) or ""
    summary = description or doc.split("\n\n", 1)[0].replace("\n", " ").strip()
    if not summary:
        raise InvalidInput(
            f"tool {tool_name}: give it a docstring or a description (the planner reads it)"
        )
    if timeout is not None and timeout <= 0:
        raise InvalidInput(
            f"tool {tool_name}: timeout must be positive seconds or None, got {timeout}"
        )
    return Tool(name=tool_name, description=summary, fn=fn, args_model=model, timeout=timeout)


def as_tools(tools: Any) -> dict[str, Tool]:
    """Tools (or plain functions) by name; duplicate names are an error."""
    out: dict[str, Tool] = {}
    for t in tools:
        made = t if isinstance(t, Tool) else make_tool(t)
        if made.name in out:
            raise InvalidInput(f"two tools are named {made.name!r}; tool names must be unique")
        out[made.name] = made
    return out
