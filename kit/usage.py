"""What a method run cost (tokens, model calls, seconds), counted by a backend wrapper so that no method counts by hand.

`CountingBackend(inner, counter)` is a Backend: `generate`, `score` and `stream` pass through to
`inner` and add to `counter` (thread-safe); every other attribute is the inner backend's. Prompt and
completion tokens are summed over the completions a call returns (n samples of one prompt count
its prompt n times, as the backends report it); `score` and `stream` count as calls, and a stream's
chunks as completion tokens. A method that calls another method with the same backend wraps the
wrapper, so the outer run's usage includes the inner run's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Usage:
    """Model use of one run: prompt and completion tokens, model calls, and wall-clock seconds."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    seconds: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            calls=self.calls + other.calls,
            seconds=self.seconds + other.seconds,
        )

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_json(self) -> dict[str, float]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "calls": self.calls,
            "seconds": round(self.seconds, 3),
        }


class UsageCounter:
    """A running, thread-safe tally of tokens and calls; `usage(seconds)` freezes it into a Usage."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.calls = 0

    def add(self, *, prompt_tokens: int = 0, completion_tokens: int = 0, calls: int = 0) -> None:
        with self._lock:
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens
            self.calls += calls

    def usage(self, seconds: float = 0.0) -> Usage:
        with self._lock:
            return Usage(
                prompt_tokens=self.prompt_tokens,
                completion_tokens=self.completion_tokens,
                calls=self.calls,
                seconds=seconds,
            )


class CountingBackend:
    """A Backend that counts every model call through it into a UsageCounter (see the module docstring)."""

    def __init__(self, inner: Any, counter: UsageCounter | None = None) -> None:
        self.inner = inner
        self.counter = counter if counter is not None else UsageCounter()

    def generate(self, prompts: Any, params: Any = None, **kwargs: Any) -> list[Any]:
        completions = self.inner.generate(prompts, params, **kwargs)
        self.counter.add(
            prompt_tokens=sum(c.prompt_tokens for c in completions),
            completion_tokens=sum(c.completion_tokens for c in completions),
            calls=1,
        )
        return completions

    def score(self, prompt: Any, continuations: Sequence[str], **kwargs: Any) -> list[float]:
        scores = self.inner.score(prompt, continuations, **kwargs)
        self.counter.add(calls=1)
        return scores

    def score_tokens(self, prompt: Any, pieces: Sequence[str], **kwargs: Any) -> list[Any]:
        scored = self.inner.score_tokens(prompt, pieces, **kwargs)
        self.counter.add(calls=1)
        return scored

    def stream(self, prompt: Any, params: Any = None, **kwargs: Any) -> Iterator[str]:
        self.counter.add(calls=1)
        for chunk in self.inner.stream(prompt, params, **kwargs):
            self.counter.add(completion_tokens=1)
            yield chunk

    @property
    def info(self) -> Any:
        return self.inner.info

    def close(self) -> None:
        """The wrapper does not own the backend: closing it is the caller's business."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
