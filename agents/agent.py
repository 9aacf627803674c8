"""The tool agent's Python API: `tool_agent(model=..., tools=[...])` -> `.invoke()`, `.stream()`, `.resume()`, `.graph`.

    agent = tool_agent(model="embedded:qwen2.5-coder-0.5b-instruct", checkpoint="chat.sqlite")
    result = agent.invoke("What is 17*23?")          # AgentResult(status="answered", answer=..., verified=[...])
    for kind, data in agent.stream("Plan ..."):      # ("updates", {node: update}) and ("token", TokenEvent)
        ...
    agent.resume("the blue one", thread_id=...)      # answers an `ask_user` question (status="interrupted")

One backend serves every role. With `checkpoint=PATH` the conversation of each `thread_id` is kept in a
SQLite file (LangGraph's SQLite saver) and survives a restart of the process; without it, in memory.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ratiocinator.agents.react import build_react
from ratiocinator.agents.toolagent import (
    AgentState,
    TokenEvent,
    ToolAgentConfig,
    Turn,
    build_alpha_umi,
    request_turns,
    verification,
)
from ratiocinator.agents.tools import Tool, as_tools
from ratiocinator.errors import InvalidInput

Kind = Literal["alpha-umi", "react"]


@dataclass(frozen=True, kw_only=True)
class AgentResult:
    """The outcome of one request: answered, gave up (with the reason) or interrupted (with the question)."""

    status: Literal["answered", "gave-up", "interrupted"]
    answer: str
    reason: str = ""
    question: str | None = None
    verified: tuple[str, ...] = ()
    steps: int = 0
    turns: tuple[Turn, ...] = field(default_factory=tuple)
    seconds: float = 0.0


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


class ToolAgent:
    """A compiled tool-agent graph with a checkpointer; see the module docstring."""

    def __init__(
        self,
        backend: Any,
        tools: Sequence[Tool | Any] | None = None,
        *,
        kind: Kind = "alpha-umi",
        config: ToolAgentConfig | None = None,
        checkpoint: str | Path | Any = None,
    ) -> None:
        if kind not in ("alpha-umi", "react"):
            raise InvalidInput(f"kind: expected 'alpha-umi' or 'react', got {kind!r}")
        if tools is None:
            from ratiocinator.agents.builtin_tools import builtin_tools

            tools = builtin_tools()
        self.backend, self.kind = backend, kind
        self.tools = as_tools(tools)
        self.config = config or ToolAgentConfig()
        self._conn: sqlite3.Connection | None = None
        if checkpoint is None or isinstance(checkpoint, str | Path):
            self.checkpointer, self._conn = make_checkpointer(checkpoint)
        else:  # a saver shared with other agents (the chat's agents share one conversation)
            self.checkpointer = checkpoint
        build = build_alpha_umi if kind == "alpha-umi" else build_react
        self.graph = build(backend, self.tools, self.config, self.checkpointer)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _config(self, thread_id: str) -> dict[str, Any]:
        return {
            "configurable": {"thread_id": thread_id},
            "recursion_limit": 4 * self.config.max_steps + 10,
        }

    def _start(self, request: str) -> AgentState:
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
            "deadline": time.time() + self.config.total_timeout,
        }

    def invoke(self, request: str, *, thread_id: str = "default") -> AgentResult:
        """Run one request to its end (or to an `ask_user` question)."""
        start = time.monotonic()
        self.graph.invoke(self._start(request), self._config(thread_id))
        return self.result(thread_id, seconds=time.monotonic() - start)

    def resume(self, answer: str, *, thread_id: str = "default") -> AgentResult:
        """Give the user's answer to a pending `ask_user` question and run on."""
        from langgraph.types import Command

        if not self.pending_question(thread_id):
            raise InvalidInput(
                f"thread {thread_id!r} has no pending question to answer; use invoke()"
            )
        start = time.monotonic()
        self.graph.invoke(Command(resume=answer), self._config(thread_id))
        return self.result(thread_id, seconds=time.monotonic() - start)

    def stream(
        self, request: str | None, *, thread_id: str = "default", resume: str | None = None
    ) -> Iterator[tuple[str, Any]]:
        """Yield ("updates", {node: update}) after each node and ("token", TokenEvent) while roles write."""
        from langgraph.types import Command

        payload: Any = Command(resume=resume) if resume is not None else self._start(request or "")
        for mode, data in self.graph.stream(
            payload, self._config(thread_id), stream_mode=["updates", "custom"]
        ):
            if mode == "custom" and isinstance(data, TokenEvent):
                yield "token", data
            elif mode == "updates":
                yield "updates", data

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

    def result(self, thread_id: str = "default", *, seconds: float = 0.0) -> AgentResult:
        """The latest request's outcome on this thread (from the checkpoint)."""
        values = self.graph.get_state(self._config(thread_id)).values
        turns = tuple(values.get("turns", []))
        question = self.pending_question(thread_id)
        if question is not None:
            status: Any = "interrupted"
        else:
            status = values.get("status", "answered")
            status = status if status in ("answered", "gave-up") else "gave-up"
        return AgentResult(
            status=status,
            answer=values.get("answer", ""),
            reason=values.get("reason", ""),
            question=question,
            verified=tuple(verification(turns)),
            steps=values.get("steps", 0),
            turns=tuple(request_turns(turns)),
            seconds=seconds,
        )

    def reset(self, thread_id: str = "default") -> None:
        """Forget a thread's conversation."""
        self.checkpointer.delete_thread(thread_id)


def tool_agent(
    model: str | Any = None,
    tools: Sequence[Tool | Any] | None = None,
    *,
    kind: Kind = "alpha-umi",
    config: ToolAgentConfig | None = None,
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
