"""The chat REPL's agent: each request goes through the alpha-UMi tool agent with the tools its kind of request needs.

A request is sorted by keywords into a kind (agents/chat/routes.py); the kind picks the tools the
planner and caller see: the registered methods whose `chat_kind` is that kind (e.g. LLM+P for
planning, LLMOPT for optimization; agents/chat/method_tools.py), else the solver-level tools of
ROUTES, those that compare their result with the user's text (optimize, plan) bound to the request
(agents/chat/request_tools.py). Every answer ends with how it was verified: the sentence of the
checking tool whose check the answer rests on, or why it is not verified, or a plain statement that
the model answered alone; an answer cut short by a limit says which.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ratiocinator.agents.builtin_tools import builtin_tools
from ratiocinator.agents.chat.method_tools import method_tool, methods_for_chat, tool_name
from ratiocinator.agents.chat.prompts import CHAT_CONFIG
from ratiocinator.agents.chat.request_tools import bound_to_request
from ratiocinator.agents.chat.routes import ROUTES, Kind, classify
from ratiocinator.agents.tool_agent import (
    TokenEvent,
    ToolAgent,
    ToolAgentConfig,
    ToolAgentResult,
    Turn,
    make_checkpointer,
)
from ratiocinator.agents.tools import Tool


@dataclass(frozen=True, kw_only=True)
class ChatEvent:
    """What the REPL shows: a progress note (stderr), a piece of the answer, or the final result."""

    kind: Literal["status", "token", "result"]
    text: str = ""
    result: ToolAgentResult | None = None


class ChatAgent:
    """One conversation (a thread in the SQLite checkpoint) with a tool agent per kind of request."""

    def __init__(
        self,
        backend: Any,
        *,
        checkpoint: str | Path | None = None,
        thread_id: str | None = None,
        config: ToolAgentConfig = CHAT_CONFIG,
        ask_user: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` measures the requests' time limit (`config.total_timeout`); tests inject one."""
        self.backend, self.config, self.clock = backend, config, clock
        self.checkpointer, self._conn = make_checkpointer(checkpoint)
        self.thread_id = thread_id or f"chat-{uuid.uuid4().hex[:8]}"
        self.ask_user = ask_user
        self._request = ""
        self._tools = {t.name: bound_to_request(t, lambda: self._request) for t in builtin_tools()}
        self._methods: dict[str, list[str]] = {}  # kind -> the tools over registered methods
        for method in methods_for_chat():
            made = method_tool(method, lambda: self._request, lambda: self.backend)
            self._tools[made.name] = made
            self._methods.setdefault(method.chat_kind, []).append(tool_name(method))
        self._agents: dict[Kind, ToolAgent] = {}
        self._pending: Kind | None = None

    def tools_for(self, kind: Kind) -> list[Tool]:
        """The registered methods for this kind if any, else its solver tools (and ask_user when offered)."""
        names = list(self._methods.get(kind) or ROUTES[kind])
        if self.ask_user:
            names.append("ask_user")
        return [self._tools[n] for n in names]

    def agent(self, kind: Kind) -> ToolAgent:
        if kind not in self._agents:
            self._agents[kind] = ToolAgent(
                self.backend,
                self.tools_for(kind),
                config=self.config,
                checkpoint=self.checkpointer,
                clock=self.clock,
            )
        return self._agents[kind]

    @property
    def pending_question(self) -> str | None:
        return self.agent(self._pending).pending_question(self.thread_id) if self._pending else None

    def reply(self, text: str) -> Iterator[ChatEvent]:
        """Stream one request (or, when a question is pending, the user's answer to it) through the agent."""
        if self._pending is not None:
            kind, request, resume = self._pending, None, text
        else:
            kind, request, resume = classify(text), text, None
            self._request = text
            names = ", ".join(t.name for t in self.tools_for(kind))
            yield ChatEvent(kind="status", text=f"[{kind}] tools: {names}")
        agent = self.agent(kind)
        for mode, data in agent.stream(request, thread_id=self.thread_id, resume=resume):
            if mode == "token" and isinstance(data, TokenEvent):
                if data.role == "summarizer":
                    yield ChatEvent(kind="token", text=data.text)
                continue
            for node, update in data.items():
                note = describe(node, update)
                if note:
                    yield ChatEvent(kind="status", text=note)
        result = agent.result(self.thread_id)
        self._pending = kind if result.status == "interrupted" else None
        yield ChatEvent(kind="result", result=result)

    def history(self) -> list[Turn]:
        return self.agent("general").history(self.thread_id)

    def new_thread(self, turns: list[Turn] | None = None) -> None:
        """Start over (optionally seeded with earlier turns: /load, /compress)."""
        self.thread_id = f"chat-{uuid.uuid4().hex[:8]}"
        self._pending = None
        if turns:
            self.agent("general").set_history(turns, thread_id=self.thread_id)

    def switch_backend(self, backend: Any) -> None:
        """Use another model for every role and method; the conversation (checkpoint thread) stays."""
        self.backend = backend
        self._agents.clear()

    def compress(self) -> str:
        """Replace the conversation with a model-written summary of it (one user turn), to save context."""
        from ratiocinator.models.types import Message, SamplingParams

        turns = self.history()
        if not turns:
            return ""
        text = "\n".join(f"{t.role}: {t.content}" for t in turns if t.role in ("user", "conclusion"))
        prompt = f"Summarize this conversation in a few sentences, keeping every fact and result:\n{text}"
        (c,) = self.backend.generate([[Message(role="user", content=prompt)]], SamplingParams(max_tokens=160))
        summary = c.text.strip()
        self.new_thread([Turn(role="user", content=f"(summary of the earlier conversation) {summary}")])
        return summary

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def describe(node: str, update: Any) -> str:
    """A one-line progress note for a node's update (what the planner decided, which tool ran and how)."""
    if not isinstance(update, dict):
        return ""
    if node == "planner" and update.get("decision"):
        return f"planner -> {update['decision']}"
    if node == "caller":
        call = update.get("call")
        if call is not None:
            return f"call {call.name}({', '.join(f'{k}={v!r}' for k, v in call.arguments.items())})"
        obs = [t for t in update.get("turns", []) if t.role == "observation"]
        return f"caller: {obs[0].content}" if obs else ""
    if node == "tool":
        (turn,) = update["turns"]
        short = turn.content if len(turn.content) <= 300 else turn.content[:300] + " …"
        return f"{turn.tool} [{turn.status}]: {short}"
    if node == "give_up":
        return "gave up"
    return ""


def verification_line(result: ToolAgentResult) -> str:
    """How the answer was checked, in one line: verified by which tools, not verified, or not answered and why.

    The tools' own sentences, unshortened: they say what exactly was checked ("checked against every
    constraint of your text", "the formulation itself was not checked against your text", "valid for
    the problem as translated"); "verified:" leads only the checks that held, when the last one did.
    """
    if result.status == "gave_up":
        return f"(not answered: {result.reason})"
    if result.verdict.verified:
        failed = [c for c in result.checks if c not in result.held]
        earlier = f" (an earlier check did not hold: {'; '.join(failed)})" if failed else ""
        return "verified: " + "; ".join(result.held) + earlier
    if result.checks:
        return "(not verified: " + "; ".join(result.checks) + ")"
    return "(not verified: the model answered without a checking tool)"
