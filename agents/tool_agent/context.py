"""The tool agent's runtime context: the kit's (counting backend, config, usage) plus the tools, their documents and a clock.

The tools live here, not in the graph: one compiled graph serves every set of tools, and a node
called alone in a test gets them from `StaticRuntime(tool_context(backend, config, tools))`. The
clock (default `time.time`) is what the request's time limit is measured with; tests inject one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ratiocinator.agents.tool_agent.prompts import tool_doc
from ratiocinator.kit import MethodContext, UsageCounter, method_context

C = TypeVar("C")


class LoopConfig(Protocol):
    """What the shared pieces (tool node, limits, history, text generation) read from a config."""

    @property
    def max_steps(self) -> int: ...
    @property
    def tool_timeout(self) -> float: ...
    @property
    def total_timeout(self) -> float: ...
    @property
    def temperature(self) -> float: ...
    @property
    def history_chars(self) -> int: ...
    @property
    def stream_tokens(self) -> bool: ...


@dataclass(frozen=True, kw_only=True)
class ToolAgentContext(MethodContext[C]):
    """A MethodContext with the tools by name, the tool documents the prompts show, and the clock."""

    #: name -> Tool (the caller needs `parameters` and `spec()`, the tool node `run`)
    tools: Mapping[str, Any] = field(default_factory=dict)
    docs: str = ""
    clock: Callable[[], float] = time.time
    #: what a run computes once and reuses across its steps (the content-free tool scores)
    memo: dict[str, Any] = field(default_factory=dict, compare=False)


def tool_docs(tools: Iterable[Any]) -> str:
    """The tool documents of the prompts: one JSON object (name, description, parameters) per line."""
    return tool_doc(
        [{"name": t.name, "description": t.description, "parameters": t.parameters} for t in tools]
    )


def tool_context(
    backend: Any,
    config: C,
    tools: Mapping[str, Any],
    *,
    docs: str | None = None,
    clock: Callable[[], float] | None = None,
    counter: UsageCounter | None = None,
) -> ToolAgentContext[C]:
    """A context whose backend counts into `counter`; `docs` replaces the documents made from the tools."""
    base = method_context(backend, config, counter)
    return ToolAgentContext(
        backend=base.backend,
        config=config,
        usage=base.usage,
        tools=dict(tools),
        docs=tool_docs(tools.values()) if docs is None else docs,
        clock=clock or time.time,
    )
