"""The tool agent's stateful API: `tool_agent(model=..., tools=[...])` -> `.invoke()`, `.stream()`, `.resume()`, `.graph`.

    agent = tool_agent(model="embedded:qwen2.5-coder-0.5b-instruct", checkpoint="chat.sqlite")
    result = agent.invoke("What is 17*23?")          # ToolAgentResult(status="answered", answer=..., verdict=...)
    for kind, data in agent.stream("Plan ..."):      # ("updates", {node: update}) and ("token", TokenEvent)
        ...
    agent.resume("the blue one", thread_id=...)      # answers an `ask_user` question (status="interrupted")

One backend serves every role. With `checkpoint=PATH` the conversation of each `thread_id` is kept in a
SQLite file (LangGraph's SQLite saver) and survives a restart of the process; without it, in memory.
The graph is the kit's (agents/tool_agent/graph.py, or agents/react/ with `kind="react"`), compiled
once per checkpointer; each call passes the backend, the config, the tools and the clock in the
runtime context, and the result's Usage is what that call cost.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from ratiocinator.agents.tool_agent.config import ToolAgentConfig
from ratiocinator.agents.tool_agent.context import ToolAgentContext, tool_context
from ratiocinator.agents.tool_agent.graph import build_graph, default_tools, recursion_limit
from ratiocinator.agents.tool_agent.nodes import start_state
from ratiocinator.agents.tool_agent.result import ToolAgentResult
from ratiocinator.agents.tool_agent.turns import TokenEvent, Turn
from ratiocinator.agents.tools import Tool
from ratiocinator.errors import InvalidInput
from ratiocinator.kit import Usage

Kind = Literal["alpha-umi", "react"]


def _serializer() -> Any:
    """LangGraph's serializer, allowed to restore the state's own types (and only those)."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    module = Turn.__module__
    return JsonPlusSerializer(allowed_msgpack_modules=[(module, "Turn"), (module, "PendingCall")])


def make_checkpointer(path: str | Path | None) -> tuple[Any, sqlite3.Connection | None]:
    """A SQLite saver on `path` (the conversation survives a restart), or an in-memory one for None."""
    if path is None:
        from langgraph.checkpoint.memory import InMemorySaver

        return InMemorySaver(serde=_serializer()), None
    from langgraph.checkpoint.sqlite import SqliteSaver

    file = Path(path).expanduser()
    file.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(file), check_same_thread=False)
    return SqliteSaver(conn, serde=_serializer()), conn


def _kit(kind: Kind, config: Any) -> tuple[Callable[[Any], Any], Any, type[ToolAgentResult]]:
    """(build_graph, the kit's config, the result class) of the chosen system."""
    if kind not in ("alpha-umi", "react"):
        raise InvalidInput(f"kind: expected 'alpha-umi' or 'react', got {kind!r}")
    if kind == "alpha-umi":
        if config is not None and not isinstance(config, ToolAgentConfig):
            raise InvalidInput(f"config: expected a ToolAgentConfig, got {type(config).__name__}")
        return build_graph, config or ToolAgentConfig(), ToolAgentResult
    # the baseline reuses this kit's pieces, so it is imported here, not at the top
    from ratiocinator.agents.react.config import ReActConfig
    from ratiocinator.agents.react.graph import build_graph as build_react
    from ratiocinator.agents.react.result import ReActResult

    if config is None or isinstance(config, ToolAgentConfig):
        config = ReActConfig.from_tool_agent(config or ToolAgentConfig())
    if not isinstance(config, ReActConfig):
        raise InvalidInput(f"config: expected a ReActConfig or ToolAgentConfig, got {type(config).__name__}")
    return build_react, config, ReActResult


class ToolAgent:
    """A compiled tool-agent graph with a checkpointer; see the module docstring."""

    def __init__(
        self,
        backend: Any,
        tools: Sequence[Tool | Any] | None = None,
        *,
        kind: Kind = "alpha-umi",
        config: Any = None,
        checkpoint: str | Path | Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`config`: a ToolAgentConfig (for `kind="react"` also a ReActConfig); `clock` measures the time limit."""
        build, self.config, self._result = _kit(kind, config)
        self.backend, self.kind, self.clock = backend, kind, clock
        self.tools = default_tools(tools, ask_user=True)
        self._conn: sqlite3.Connection | None = None
        if checkpoint is None or isinstance(checkpoint, str | Path):
            self.checkpointer, self._conn = make_checkpointer(checkpoint)
        else:  # a saver shared with other agents (the chat's agents share one conversation)
            self.checkpointer = checkpoint
        self.graph = build(self.checkpointer)
        self._usage: dict[str, Usage] = {}

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _config(self, thread_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread_id}, "recursion_limit": recursion_limit(self.config)}

    def _context(self) -> ToolAgentContext[Any]:
        return tool_context(self.backend, self.config, self.tools, clock=self.clock)

    def _payload(self, request: str | None, resume: str | None) -> Any:
        from langgraph.types import Command

        if resume is None:
            return start_state(request or "", self.config, self.clock)
        # the time the question waited for the user is not the agent's: the limit starts again
        return Command(resume=resume, update={"deadline": self.clock() + self.config.total_timeout})

    def invoke(self, request: str, *, thread_id: str = "default") -> ToolAgentResult:
        """Run one request to its end (or to an `ask_user` question)."""
        self._invoke(self._payload(request, None), thread_id)
        return self.result(thread_id)

    def resume(self, answer: str, *, thread_id: str = "default") -> ToolAgentResult:
        """Give the user's answer to a pending `ask_user` question and run on."""
        if not self.pending_question(thread_id):
            raise InvalidInput(f"thread {thread_id!r} has no pending question to answer; use invoke()")
        self._invoke(self._payload(None, answer), thread_id)
        return self.result(thread_id)

    def _invoke(self, payload: Any, thread_id: str) -> None:
        context = self._context()
        start = time.perf_counter()
        self.graph.invoke(payload, self._config(thread_id), context=context)
        self._usage[thread_id] = context.usage.usage(time.perf_counter() - start)

    def stream(
        self,
        request: str | None,
        *,
        thread_id: str = "default",
        resume: str | None = None,
    ) -> Iterator[tuple[str, Any]]:
        """Yield ("updates", {node: update}) after each node and ("token", TokenEvent) while roles write."""
        payload = self._payload(request, resume)
        context = self._context()
        start = time.perf_counter()
        for mode, data in self.graph.stream(
            payload, self._config(thread_id), context=context, stream_mode=["updates", "custom"]
        ):
            if mode == "custom" and isinstance(data, TokenEvent):
                yield "token", data
            elif mode == "updates":
                yield "updates", data
        self._usage[thread_id] = context.usage.usage(time.perf_counter() - start)

    def pending_question(self, thread_id: str = "default") -> str | None:
        snapshot = self.graph.get_state(self._config(thread_id))
        for task in snapshot.tasks:
            for intr in task.interrupts:
                value = intr.value
                return str(value.get("question", value)) if isinstance(value, dict) else str(value)
        return None

    def history(self, thread_id: str = "default") -> list[Turn]:
        values = self.graph.get_state(self._config(thread_id)).values
        return list(values.get("turns", []))

    def set_history(self, turns: Sequence[Turn], *, thread_id: str = "default") -> None:
        """Seed a thread with turns (as if a request had ended): /load and /compress in the chat."""
        self.graph.update_state(self._config(thread_id), {"turns": list(turns)}, as_node="summarizer")

    def result(self, thread_id: str = "default") -> ToolAgentResult:
        """The latest request's outcome on this thread (from the checkpoint), with the Usage of the last call."""
        values = self.graph.get_state(self._config(thread_id)).values
        question = self.pending_question(thread_id)
        return self._result.from_state(values, question=question, usage=self._usage.get(thread_id))

    def reset(self, thread_id: str = "default") -> None:
        """Forget a thread's conversation."""
        self.checkpointer.delete_thread(thread_id)
        self._usage.pop(thread_id, None)


def tool_agent(
    model: str | Any = None,
    tools: Sequence[Tool | Any] | None = None,
    *,
    kind: Kind = "alpha-umi",
    config: Any = None,
    checkpoint: str | Path | None = None,
    **load_options: Any,
) -> ToolAgent:
    """A tool agent on `model` (a spec for load_backend, or a loaded Backend); built-in tools by default."""
    from ratiocinator.models import load_backend
    from ratiocinator.models.catalog import DEFAULT_MODEL

    backend = (
        model
        if model is not None and not isinstance(model, str)
        else load_backend(model or DEFAULT_MODEL, **load_options)
    )
    return ToolAgent(backend, tools, kind=kind, config=config, checkpoint=checkpoint)
