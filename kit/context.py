"""The runtime context every method graph gets (backend, config, usage counter), and `invoke` to run a graph with it.

Nodes are module-level functions `(state, runtime: Runtime[MethodContext[C]]) -> update`; they take
the backend and the config from `runtime.context`, never from a closure, so each node can be called
alone in a test as `node(state, StaticRuntime(method_context(backend, config)))`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ratiocinator.kit.usage import CountingBackend, Usage, UsageCounter

C = TypeVar("C")


@dataclass(frozen=True, kw_only=True)
class MethodContext(Generic[C]):
    """A graph's runtime context: the backend (counting), the method's config, and the counter it counts into."""

    backend: Any
    config: C
    usage: UsageCounter


def method_context(backend: Any, config: C, counter: UsageCounter | None = None) -> MethodContext[C]:
    """A context whose backend counts into `counter` (a new one by default)."""
    counter = counter if counter is not None else UsageCounter()
    return MethodContext(backend=CountingBackend(backend, counter), config=config, usage=counter)


def invoke(
    graph: Any,
    state: Mapping[str, Any],
    *,
    backend: Any,
    config: Any,
    recursion_limit: int | None = None,
    graph_config: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], Usage]:
    """Run a compiled graph once with a fresh context; return its final state and the run's Usage."""
    context = method_context(backend, config)
    run_config: dict[str, Any] = dict(graph_config or {})
    if recursion_limit is not None:
        run_config["recursion_limit"] = recursion_limit
    start = time.perf_counter()
    out = graph.invoke(dict(state), context=context, config=run_config or None)
    return out, context.usage.usage(time.perf_counter() - start)


@dataclass(frozen=True)
class StaticRuntime(Generic[C]):
    """A stand-in for LangGraph's Runtime in unit tests of one node: `node(state, StaticRuntime(ctx))`."""

    context: MethodContext[C]
