"""The chat REPL: each request goes through the tool agent (agents/chat/), streamed, with slash commands.

Interactive on a terminal (prompt_toolkit: line editing, persistent input history); when stdin is
not a TTY every input line is one request and replies go to stdout, so the REPL can be scripted.
Answers go to stdout, followed by how they were verified; progress notes (the route, the planner's
decisions, tool calls and their results) go to stderr. `plain=True` chats with the model directly.
Commands: /tools, /history, /save FILE, /load FILE, /model NAME, /compress, /reset, /help, /quit.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ratiocinator.errors import InvalidInput, RatiocinatorError
from ratiocinator.models import Backend, Message, SamplingParams, load_backend

HELP = "commands: /tools, /history, /save FILE, /load FILE, /model NAME, /compress, /reset, /help, /quit"


@dataclass
class ChatSession:
    """A conversation with one backend (loaded lazily, swappable); through the tool agent unless `plain`."""

    model: str
    system: str | None = None
    temperature: float = 0.0
    max_tokens: int = 512
    dtype: str = "auto"
    threads: int | None = None
    compress: str | None = None  # a compression spec for the model, e.g. "int4+eora64" (read by load_backend for the engine)
    loader: Callable[..., Backend] = load_backend
    history: list[Message] = field(default_factory=list)
    plain: bool = True
    checkpoint: str | Path | None = None
    thread_id: str | None = None
    ask_user: bool = False
    time_limit: float | None = None  # seconds per request (None: the chat's default, CHAT_CONFIG)
    mcp: tuple[str, ...] = ()  # MCP servers (commands or URLs) whose tools the agent is offered
    _backend: Backend | None = None
    _chat: Any = None

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = self._load(self.model)
        return self._backend

    def _load(self, model: str) -> Backend:
        if self.compress is None:
            return self.loader(model, dtype=self.dtype, threads=self.threads)
        # the loader reads the spec for the model's engine (a GGUF type on llama.cpp, int4+eora64 on transformers)
        return self.loader(model, dtype=self.dtype, threads=self.threads, compress=self.compress)

    @property
    def chat(self) -> Any:
        """The tool agent of this conversation (agents.chat.ChatAgent), built on first use."""
        if self._chat is None:
            from ratiocinator.agents.chat import CHAT_CONFIG, ChatAgent

            update: dict[str, Any] = {
                "temperature": self.temperature,
                "summarizer_max_tokens": self.max_tokens,
                "planner_max_tokens": min(CHAT_CONFIG.planner_max_tokens, self.max_tokens),
            }
            if self.time_limit is not None:
                if not self.time_limit > 0:
                    raise InvalidInput(f"time limit: expected positive seconds, got {self.time_limit}")
                update["total_timeout"] = self.time_limit
            config = CHAT_CONFIG.model_copy(update=update)
            tools = self._mcp_tools()  # before the model loads: a server that does not start is said at once
            self._chat = ChatAgent(
                self.backend,
                checkpoint=self.checkpoint,
                thread_id=self.thread_id,
                config=config,
                ask_user=self.ask_user,
                tools=tools,
            )
        return self._chat

    def _mcp_tools(self) -> list[Any]:
        """The tools of every MCP server of the session (interop/mcp_client.py), each server connected once."""
        if not self.mcp:
            return []
        from ratiocinator.interop.mcp_client import mcp_tools

        return [t for server in self.mcp for t in mcp_tools(server)]

    def switch(self, model: str) -> None:
        new = self._load(model)  # fails before we drop the old one
        if self._backend is not None:
            self._backend.close()
        self._backend, self.model = new, model
        if self._chat is not None:
            self._chat.switch_backend(new)

    def reset(self) -> None:
        self.history.clear()
        if self._chat is not None:
            self._chat.new_thread()

    def reply(self, text: str) -> Iterator[str]:
        """Plain mode: stream the model's reply to `text`; the turn joins the history once complete."""
        turn = Message(role="user", content=text)
        conversation = ([Message(role="system", content=self.system)] if self.system else []) + [
            *self.history,
            turn,
        ]
        params = SamplingParams(temperature=self.temperature, max_tokens=self.max_tokens)
        pieces: list[str] = []
        for delta in self.backend.stream(conversation, params):
            pieces.append(delta)
            yield delta
        self.history += [turn, Message(role="assistant", content="".join(pieces))]

    def turns(self) -> list[tuple[str, str]]:
        """(role, content) of the conversation so far."""
        if self.plain:
            return [(m.role, m.content) for m in self.history]
        return [(t.role, t.content) for t in self.chat.history()]

    def save(self, path: Path) -> int:
        rows = [{"role": r, "content": c} for r, c in self.turns()]
        path.write_text(json.dumps(rows, indent=1, ensure_ascii=False))
        return len(rows)

    def load(self, path: Path) -> int:
        from ratiocinator.textfiles import read_text

        try:
            rows = json.loads(read_text(path, "/load"))
        except InvalidInput:
            raise
        except ValueError as exc:
            raise InvalidInput(f"/load {path}: cannot read a saved conversation ({exc})") from None
        if not isinstance(rows, list) or not all(
            isinstance(r, dict) and {"role", "content"} <= set(r) for r in rows
        ):
            raise InvalidInput(
                f"/load {path}: expected a JSON list of {{role, content}} objects (what /save writes)"
            )
        if self.plain:
            roles = {"conclusion": "assistant", "caller": "assistant", "observation": "tool"}
            self.history = [
                Message(role=roles.get(r["role"], r["role"]), content=r["content"])
                for r in rows
                if roles.get(r["role"], r["role"]) in ("user", "assistant", "system", "tool")
            ]
        else:
            from ratiocinator.agents.tool_agent import Turn

            self.chat.new_thread([Turn(role=r["role"], content=r["content"]) for r in rows])
        return len(rows)


def handle_command(session: ChatSession, line: str, out: TextIO) -> bool:
    """Run a slash command; returns False when the REPL should end."""
    cmd, _, arg = line[1:].strip().partition(" ")
    arg = arg.strip()
    if cmd in ("quit", "exit", "q"):
        return False
    try:
        _command(session, cmd, arg, out)
    except RatiocinatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
    return True


def _command(session: ChatSession, cmd: str, arg: str, out: TextIO) -> None:
    if cmd == "reset":
        session.reset()
        print("(conversation reset)", file=sys.stderr)
    elif cmd == "history":
        for role, content in session.turns():
            print(f"{role}: {content}", file=out)
    elif cmd == "model":
        if not arg:
            print(f"model: {session.model}", file=sys.stderr)
        else:
            session.switch(arg)
            print(f"(model: {session.model})", file=sys.stderr)
    elif cmd == "tools":
        if session.plain:
            print("(plain chat: no tools; start without --plain to use them)", file=sys.stderr)
            return
        from ratiocinator.agents.chat import ROUTES

        for kind in ROUTES:
            for t in session.chat.tools_for(kind):
                print(f"[{kind}] {t.signature()}", file=out)
    elif cmd in ("save", "load"):
        if not arg:
            raise InvalidInput(f"/{cmd} needs a file name, e.g. /{cmd} chat.json")
        n = session.save(Path(arg)) if cmd == "save" else session.load(Path(arg))
        print(
            f"({'saved' if cmd == 'save' else 'loaded'} {n} turns {'to' if cmd == 'save' else 'from'} {arg})",
            file=sys.stderr,
        )
    elif cmd == "compress":
        if session.plain:
            raise InvalidInput("/compress works on the agent's conversation; start without --plain")
        summary = session.chat.compress()
        print(
            f"(conversation compressed to: {summary})" if summary else "(nothing to compress)",
            file=sys.stderr,
        )
    elif cmd == "help":
        print(HELP, file=sys.stderr)
    else:
        print(f"unknown command /{cmd}; {HELP}", file=sys.stderr)


def _lines(interactive: bool) -> Iterator[str]:
    if not interactive:
        for line in sys.stdin:
            yield line.rstrip("\n")
        return
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    from ratiocinator.models import catalog

    path = catalog.home() / "chat_history"
    path.parent.mkdir(parents=True, exist_ok=True)
    prompt = PromptSession(history=FileHistory(str(path)))
    while True:
        try:
            yield prompt.prompt("you> ")
        except EOFError:
            return
        except KeyboardInterrupt:
            continue


def agent_turn(session: ChatSession, line: str, out: TextIO) -> str:
    """One request through the agent: progress on stderr, the answer streamed to stdout, then how it was checked.

    Returns the agent's status (answered, gave_up, interrupted).
    """
    from ratiocinator.agents.chat import verification_line

    streamed = False
    status = "answered"
    for event in session.chat.reply(line):
        if event.kind == "status":
            print(f"  · {event.text}", file=sys.stderr, flush=True)
        elif event.kind == "token":
            out.write(event.text)
            out.flush()
            streamed = True
        elif event.result is not None:
            result = event.result
            status = result.status
            if result.status == "interrupted":
                out.write(f"question: {result.question}\n")
            else:
                if not streamed:
                    out.write(result.answer)
                checked = [t for t in result.turns if t.role == "observation" and t.verified]
                if checked:  # the checked result itself, not only the model's words about it
                    out.write(f"\nresult ({checked[-1].tool}): {checked[-1].content}")
                out.write("\n" + verification_line(result) + "\n")
            out.flush()
    return status


def run_repl(
    session: ChatSession, *, interactive: bool | None = None, out: TextIO | None = None
) -> None:
    out = out or sys.stdout
    interactive = sys.stdin.isatty() if interactive is None else interactive
    if interactive:
        mode = "plain" if session.plain else f"agent, thread {session.chat.thread_id}"
        print(f"ratiocinator chat · {session.model} · {mode} · {HELP}", file=sys.stderr)
    for line in _lines(interactive):
        if not line.strip():
            continue
        if line.startswith("/"):
            if not handle_command(session, line, out):
                break
            continue
        try:
            if session.plain:
                for delta in session.reply(line):
                    out.write(delta)
                    out.flush()
                out.write("\n")
                out.flush()
            else:
                agent_turn(session, line, out)
        except KeyboardInterrupt:
            print("\n(interrupted)", file=sys.stderr)
            continue
