"""Conformal information pursuit's nodes: predict (posterior, prediction set, stop?), select (the next query), ask (an answerer or interrupt()).

Each node is a function of the graph's state and the LangGraph runtime, whose context (a
`PursuitContext`) carries the backend, the PursuitConfig and the usage counter as every method's
does, and besides them the task, the calibrated thresholds and the memoised posterior of this run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
from langgraph.runtime import Runtime

from ratiocinator.agents.pursuit.config import PursuitConfig
from ratiocinator.agents.pursuit.conformal import Thresholds, prediction_set
from ratiocinator.agents.pursuit.policy import select_query
from ratiocinator.agents.pursuit.result import StopReason
from ratiocinator.agents.pursuit.types import History, Posterior, PursuitTask
from ratiocinator.errors import InvalidInput
from ratiocinator.kit import MethodContext


@dataclass(frozen=True, kw_only=True)
class PursuitContext(MethodContext[PursuitConfig]):
    """A pursuit's runtime context: backend, config and usage (as every method's), and the task, q̂ and posterior.

    `posterior` scores on the context's (counting) backend; `thresholds` is None for IP and direct
    prediction without calibration (no prediction set then).
    """

    task: PursuitTask
    posterior: Posterior
    thresholds: Thresholds | None = None


Ctx = Runtime[PursuitContext]


class PursuitState(TypedDict, total=False):
    """The graph's state: the history so far, the current posterior and set, the pending query, the trace."""

    history: list[tuple[str, str]]
    probs: list[float]
    prediction: str
    prediction_set: list[str]
    query: str | None
    trace: list[dict[str, Any]]  # one entry per prediction: questions asked, prediction, set size
    stop_reason: StopReason | None


def _history(state: PursuitState) -> History:
    return tuple(tuple(h) for h in state.get("history", []))  # type: ignore[misc]


def stop_reason(context: PursuitContext, questions: int, set_size: int) -> StopReason | None:
    """Why the pursuit stops after `questions` questions with a set of `set_size` labels, or None to go on."""
    cfg = context.config
    if cfg.method == "direct":
        return "direct_prediction"
    if questions >= cfg.budget:
        return "budget_spent"
    if cfg.stop_on_singleton and context.thresholds is not None and set_size == 1:
        return "single_label_set"
    if questions >= len(context.task.queries):
        return "no_query_left"
    return None


def predict(state: PursuitState, runtime: Ctx) -> dict[str, Any]:
    """p(label | history), the prediction set {y : p >= -q̂_k}, the prediction, and whether to stop."""
    ctx = runtime.context
    labels = ctx.task.problem.labels
    history = _history(state)
    probs = ctx.posterior(ctx.task.problem, history)
    pset: list[str] = []
    if ctx.thresholds is not None:
        keep = prediction_set(probs, ctx.thresholds.at(len(history)))
        pset = [y for y, k in zip(labels, keep, strict=True) if k]
    best = labels[int(np.argmax(probs))]
    step = {
        "questions": len(history),
        "prediction": best,
        "set_size": len(pset) if ctx.thresholds else None,
    }
    return {
        "probs": probs.tolist(),
        "prediction": best,
        "prediction_set": pset,
        "trace": [*state.get("trace", []), step],
        "query": None,
        "stop_reason": stop_reason(ctx, len(history), len(pset)),
    }


def select(state: PursuitState, runtime: Ctx) -> dict[str, Any]:
    """The next query by the config's policy (C-IP's size bound or IP's entropy)."""
    ctx = runtime.context
    query, _ = select_query(
        ctx.posterior, _history(state), ctx.task.queries, ctx.task.samples, ctx.config, ctx.thresholds
    )
    return {"query": query}


def ask(state: PursuitState, runtime: Ctx) -> dict[str, Any]:
    """The task's answerer answers the query; without one, `interrupt()` asks a person (resume with the answer)."""
    from langgraph.types import interrupt

    query = state["query"]
    assert query is not None
    answerer = runtime.context.task.answerer
    if answerer is not None:
        answer = answerer.answer(query)  # type: ignore[union-attr]
    else:
        answer = interrupt({"query": query, "questions_asked": len(state.get("history", []))})
    if not isinstance(answer, str) or not answer.strip():
        raise InvalidInput(f"answer to {query!r}: expected a non-empty string, got {answer!r}")
    return {"history": [*state.get("history", []), (query, answer.strip())]}


def after_predict(state: PursuitState) -> str:
    """Select the next query unless the pursuit stops."""
    return "select" if state.get("stop_reason") is None else "stop"
