"""Conformal information pursuit as a LangGraph loop that asks questions until the prediction set is one label; `run` and `drive`.

From "Conformal Information Pursuit for Interactively Guiding Large Language Models" (Chan et al.,
2025; reference code ryanchankh/Conformal-IP). The model's posterior over a closed label set given a
history of (question, answer) pairs is the config's `posterior`: "answers" (answers.py) multiplies
the prior with the model's p(answer | label, question) per history entry; "direct" (the
reference's) is `Backend.score()` of each label after the history prompt, normalised. The graph:

    predict p(y | history) -> stop? (prediction set {y : p >= -q̂_k} is one label, budget spent,
    no query left) -> select the next query -> ask (the task's answerer, or LangGraph `interrupt()`
    for a person; resume with `Command(resume=answer)`) -> append (query, answer) -> predict ...

The config's `method` picks the policy (policy.py): "cip" the least expected prediction-set-size
bound, "ip" (information pursuit, the baseline) the least posterior entropy, "direct" asks nothing.
Posteriors are memoised per (problem, history), and the answers posterior's model calls per
(problem, question[, answer]): the query choice weighs every candidate with the same posterior.

    task = PursuitTask(problem=problem, queries=bank, samples=prior, answerer=DictAnswerer(answers))
    result = run(task, backend=backend, thresholds=calibrate(backend, cal, bank, lengths=range(21), n_per_length=20))
"""

from __future__ import annotations

import dataclasses
import functools
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from langgraph.graph import END, START, StateGraph

import ratiocinator.agents.pursuit.nodes as nodes
from ratiocinator.agents.pursuit.answers import make_posterior
from ratiocinator.agents.pursuit.config import PursuitConfig
from ratiocinator.agents.pursuit.conformal import Thresholds
from ratiocinator.agents.pursuit.nodes import PursuitContext
from ratiocinator.agents.pursuit.result import PursuitResult, pursuit_verdict
from ratiocinator.agents.pursuit.types import Posterior, PursuitTask
from ratiocinator.errors import InvalidInput
from ratiocinator.kit import Usage, method_context, resolve_config


@functools.cache
def build_graph(checkpointer: Any = None) -> Any:
    """The compiled graph, once per process (and per checkpointer); invoke it with `context=PursuitContext(...)`.

    A task without an answerer asks through `interrupt()`: compile with a checkpointer and resume
    with `Command(resume=answer)` on the same thread (see `drive`).
    """
    graph = StateGraph(nodes.PursuitState, context_schema=PursuitContext)
    graph.add_node("predict", nodes.predict)
    graph.add_node("select", nodes.select)
    graph.add_node("ask", nodes.ask)
    graph.add_edge(START, "predict")
    graph.add_conditional_edges("predict", nodes.after_predict, {"select": "select", "stop": END})
    graph.add_edge("select", "ask")
    graph.add_edge("ask", "predict")
    return graph.compile(checkpointer=checkpointer)


def check_inputs(task: PursuitTask, config: PursuitConfig, thresholds: Thresholds | None) -> None:
    """The errors a pursuit would meet later, raised before its first model call."""
    if not isinstance(task, PursuitTask):
        raise InvalidInput(f"task: expected a PursuitTask, got {type(task).__name__}")
    if config.method == "cip" and thresholds is None:
        raise InvalidInput(
            "thresholds: method 'cip' needs calibrated thresholds (see pursuit.calibrate)"
        )
    if thresholds is not None and abs(thresholds.alpha - config.alpha) > 1e-12:
        raise InvalidInput(
            f"thresholds: calibrated at α = {thresholds.alpha}, the config asks for α = {config.alpha}"
        )
    if thresholds is not None and thresholds.posterior not in (None, config.posterior):
        raise InvalidInput(
            f"thresholds: calibrated on the {thresholds.posterior!r} posterior, the config asks for "
            f"posterior {config.posterior!r} (calibrate with answers.make_posterior(backend, config))"
        )


def pursuit_context(
    task: PursuitTask,
    *,
    backend: Any,
    config: PursuitConfig | None = None,
    thresholds: Thresholds | None = None,
    posterior: Posterior | None = None,
) -> PursuitContext:
    """A checked context for one pursuit: its backend counts every call; `posterior` (a memo to share) scores on it."""
    cfg = resolve_config(config, PursuitConfig)
    check_inputs(task, cfg, thresholds)
    base = method_context(backend, cfg)
    if posterior is not None and posterior.kind != cfg.posterior:
        raise InvalidInput(
            f"posterior: got a {posterior.kind!r} posterior, the config asks for {cfg.posterior!r}"
        )
    memo = (posterior or make_posterior(backend, cfg)).using(base.backend)
    return PursuitContext(
        backend=base.backend,
        config=cfg,
        usage=base.usage,
        task=task,
        posterior=memo,
        thresholds=thresholds,
    )


def result_of(state: Mapping[str, Any], context: PursuitContext, usage: Usage) -> PursuitResult:
    """A PursuitResult from a finished graph's state, with its verdict in words."""
    calibrated = context.thresholds is not None
    coverage = 1 - context.config.alpha if calibrated else None
    history = tuple(tuple(h) for h in state.get("history", []))
    prediction_set = tuple(state.get("prediction_set", []))
    verdict = pursuit_verdict(
        stop_reason=state["stop_reason"],
        set_size=len(prediction_set),
        questions=len(history),
        coverage=coverage,
        p_top=max(state["probs"]),
    )
    return PursuitResult(
        prediction=state["prediction"],
        prediction_set=prediction_set,
        history=history,  # type: ignore[arg-type]
        probs=tuple(state["probs"]),
        stop_reason=state["stop_reason"],
        coverage=coverage,
        trace=tuple(state.get("trace", [])),
        verdict=verdict,
        usage=usage,
    )


def run(
    task: PursuitTask,
    *,
    backend: Any,
    config: PursuitConfig | None = None,
    thresholds: Thresholds | None = None,
    posterior: Posterior | None = None,
) -> PursuitResult:
    """Run one pursuit to its end with the task's answerer answering every question.

    `thresholds` are the calibrated q̂_k (`calibrate`; C-IP needs them, IP and direct prediction use
    them for the prediction set and the stop when given); `posterior` shares its memo of scored
    histories with this run (the calls this run makes are counted in its usage).
    """
    if isinstance(task, PursuitTask) and task.answerer is None:
        raise InvalidInput(
            "task.answerer: run needs an answerer for the questions; a person answers through drive()"
        )
    context = pursuit_context(
        task, backend=backend, config=config, thresholds=thresholds, posterior=posterior
    )
    limit = {"recursion_limit": 4 * context.config.budget + 10}
    start = time.perf_counter()
    state = build_graph().invoke({"history": [], "trace": []}, limit, context=context)
    return result_of(state, context, context.usage.usage(time.perf_counter() - start))


@functools.cache
def _saver() -> Any:
    """The process's checkpointer for `drive` calls that bring none (each drive uses a fresh thread)."""
    from langgraph.checkpoint.memory import InMemorySaver

    return InMemorySaver()


def drive(
    task: PursuitTask,
    ask: Callable[[str], str],
    *,
    backend: Any,
    config: PursuitConfig | None = None,
    thresholds: Thresholds | None = None,
    posterior: Posterior | None = None,
    checkpointer: Any = None,
    thread_id: str | None = None,
) -> PursuitResult:
    """Run a pursuit whose questions a person answers: at each `interrupt()` ask `ask`, resume with
    `Command(resume=answer)` — how the CLI plays. The task's own answerer is not used."""
    from langgraph.types import Command

    context = pursuit_context(
        dataclasses.replace(task, answerer=None),
        backend=backend,
        config=config,
        thresholds=thresholds,
        posterior=posterior,
    )
    saver = checkpointer if checkpointer is not None else _saver()
    graph = build_graph(saver)
    thread = thread_id or f"pursuit-{uuid.uuid4().hex}"
    run_config = {"configurable": {"thread_id": thread}, "recursion_limit": 1000}
    start = time.perf_counter()
    try:
        state = graph.invoke({"history": [], "trace": []}, run_config, context=context)
        while state.get("__interrupt__"):
            (pending,) = state["__interrupt__"]
            answer = ask(pending.value["query"])
            state = graph.invoke(Command(resume=answer), run_config, context=context)
    finally:
        if thread_id is None:
            saver.delete_thread(thread)
    return result_of(state, context, context.usage.usage(time.perf_counter() - start))
