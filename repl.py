"""The chat REPL: multi-turn conversation with streamed replies and slash commands.

Interactive on a terminal (prompt_toolkit: line editing, persistent input history); when stdin is
not a TTY every input line is one user turn and replies go to stdout, so the REPL can be scripted.
Commands: /model NAME (switch model, keep history), /reset (forget the conversation),
/history (show it), /help, /quit.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from ratiocinator.errors import RatiocinatorError
from ratiocinator.models import Backend, Message, SamplingParams, load_backend

HELP = "commands: /model NAME, /reset, /history, /help, /quit"


@dataclass
class ChatSession:
    """A conversation with one backend; the backend is loaded lazily and can be swapped."""

    model: str
    system: str | None = None
    temperature: float = 0.0
    max_tokens: int = 512
    dtype: str = "auto"
    threads: int | None = None
    loader: Callable[..., Backend] = load_backend
    history: list[Message] = field(default_factory=list)
    _backend: Backend | None = None

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = self.loader(self.model, dtype=self.dtype, threads=self.threads)
        return self._backend

    def switch(self, model: str) -> None:
        new = self.loader(model, dtype=self.dtype, threads=self.threads)  # fails before we drop the old one
        if self._backend is not None:
            self._backend.close()
        self._backend, self.model = new, model

    def reset(self) -> None:
        self.history.clear()

    def reply(self, text: str) -> Iterator[str]:
        """Stream the assistant's reply to `text`; the turn joins the history once it is complete."""
        turn = Message(role="user", content=text)
        conversation = ([Message(role="system", content=self.system)] if self.system else []) + [*self.history, turn]
        params = SamplingParams(temperature=self.temperature, max_tokens=self.max_tokens)
        pieces: list[str] = []
        for delta in self.backend.stream(conversation, params):
            pieces.append(delta)
            yield delta
        self.history += [turn, Message(role="assistant", content="".join(pieces))]


def handle_command(session: ChatSession, line: str, out: TextIO) -> bool:
    """Run a slash command; returns False when the REPL should end."""
    cmd, _, arg = line[1:].strip().partition(" ")
    if cmd in ("quit", "exit", "q"):
        return False
    if cmd == "reset":
        session.reset()
        print("(conversation reset)", file=sys.stderr)
    elif cmd == "history":
        for m in session.history:
            print(f"{m.role}: {m.content}", file=out)
    elif cmd == "model":
        if not arg:
            print(f"model: {session.model}", file=sys.stderr)
        else:
            try:
                session.switch(arg.strip())
                print(f"(model: {session.model})", file=sys.stderr)
            except RatiocinatorError as exc:
                print(f"error: {exc}", file=sys.stderr)
    elif cmd == "help":
        print(HELP, file=sys.stderr)
    else:
        print(f"unknown command /{cmd}; {HELP}", file=sys.stderr)
    return True


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


def run_repl(session: ChatSession, *, interactive: bool | None = None, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    interactive = sys.stdin.isatty() if interactive is None else interactive
    if interactive:
        print(f"ratiocinator chat · {session.model} · {HELP}", file=sys.stderr)
    for line in _lines(interactive):
        if not line.strip():
            continue
        if line.startswith("/"):
            if not handle_command(session, line, out):
                break
            continue
        try:
            for delta in session.reply(line):
                out.write(delta)
                out.flush()
        except KeyboardInterrupt:
            print("\n(interrupted)", file=sys.stderr)
            continue
        out.write("\n")
        out.flush()
