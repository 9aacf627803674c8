"""Conformal information pursuit: a LangGraph loop that asks questions until the model's prediction set is one label.

From "Conformal Information Pursuit for Interactively Guiding Large Language Models" (Chan et al.;
reference code ryanchankh/Conformal-IP). The model's posterior over a closed label set given a history
of (question, answer) pairs comes from `Backend.score()` of each label after the history prompt,
normalised over the labels. The graph:

    predict p(y | history) -> stop? (prediction set {y : p >= -q̂_k} is one label, budget spent,
    no query left) -> select the next query -> ask (an `Answerer`, or LangGraph `interrupt()` for a
    person; resume with `Command(resume=answer)`) -> append (query, answer) -> predict ...

Query selection (`method`): "cip" picks the unasked query with the least expected prediction-set-size
bound (pursuit_conformal.size_bound) over labels sampled from the prior with their simulated answers;
"ip" (information pursuit, the baseline) the least mean posterior entropy over the same draws;
"direct" asks nothing. Posteriors are memoised per (problem, history): simulated histories repeat
(yes/no answers), so each distinct one is scored once. The draws come from a generator seeded by the
run's seed and the history, so the policy is a function of the history alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.agents.pursuit_conformal import Thresholds, entropy, prediction_set, size_bound
from ratiocinator.agents.pursuit_types import (
    Answerer,
    DictAnswerer,
    FunctionAnswerer,
    History,
    Posterior,
    Problem,
    Sample,
)
from ratiocinator.errors import InvalidInput

__all__ = [
    "Answerer",
    "DictAnswerer",
    "FunctionAnswerer",
    "Posterior",
    "Problem",
    "PursuitConfig",
    "PursuitResult",
    "PursuitState",
    "Sample",
    "build_pursuit_graph",
    "calibrate",
    "drive",
    "pursue",
    "select_query",
]


class PursuitConfig(BaseModel):
    """Defaults of C-IP: α = 0.1 and 20 questions as in the paper, 64 sampled labels per query.

    64 is the reference code's default (ryanchankh/Conformal-IP); its 20Q scripts draw 4, with which
    the size bound ranks queries poorly (bench/pursuit_truthful.py: C-IP 0.60 vs IP 1.00 after six
    questions with 4 draws, 0.95 vs 1.00 with 64). Draws are cheap: posteriors are memoised per
    history, and the draws of one query lead to few distinct histories.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["cip", "ip", "direct"] = "cip"
    alpha: float = Field(0.1, gt=0, lt=1)
    budget: int = Field(20, ge=0)  # most questions asked
    #: labels drawn to simulate each candidate query's answer
    n_label_samples: int = Field(64, ge=1)
    #: "prior": uniformly from the samples (the reference's 20Q scripts); "posterior": in proportion
    #: to p(sample's label | history) under the sample's own problem (the expectation given the
    #: history that the paper's bound is about; one posterior per sample's problem and history)
    draw_labels_from: Literal["prior", "posterior"] = "prior"
    #: None: every unasked query of the bank
    n_candidate_queries: int | None = Field(None, ge=1)
    #: stop once the prediction set holds one label (needs thresholds)
    stop_on_singleton: bool = True
    seed: int = 0


def history_rng(seed: int, history: History) -> np.random.Generator:
    digest = hashlib.sha256(repr((seed, tuple(history))).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def select_query(
    posterior: Posterior,
    history: History,
    queries: Sequence[str],
    samples: Sequence[Sample],
    config: PursuitConfig,
    thresholds: Thresholds | None,
) -> tuple[str, dict[str, float]]:
    """The next query and the objective of every candidate (lower is better)."""
    if config.method == "direct":
        raise InvalidInput("select_query: method 'direct' asks no questions")
    if not samples:
        raise InvalidInput(
            "samples: query selection needs draws from the prior (at least one Sample)"
        )
    if config.method == "cip" and thresholds is None:
        raise InvalidInput(
            "thresholds: method 'cip' needs calibrated thresholds (see pursuit.calibrate)"
        )
    asked = {q for q, _ in history}
    unasked = [q for q in queries if q not in asked]
    if not unasked:
        raise InvalidInput("queries: every query of the bank has been asked")
    rng = history_rng(config.seed, history)
    if config.n_candidate_queries is not None and config.n_candidate_queries < len(unasked):
        picked = rng.choice(len(unasked), size=config.n_candidate_queries, replace=False)
        unasked = [unasked[i] for i in sorted(picked)]
    weights = None
    if config.draw_labels_from == "posterior":
        weights = np.array([posterior(s.problem, history)[s.label_index] for s in samples])
        weights = weights / weights.sum()
    picks = rng.choice(len(samples), size=config.n_label_samples, replace=True, p=weights)
    drawn = [samples[i] for i in picks]
    label_idx = [s.label_index for s in drawn]
    objective: dict[str, float] = {}
    for q in unasked:
        probs = np.stack(
            [posterior(s.problem, (*history, (q, s.answerer.answer(q)))) for s in drawn]
        )
        if config.method == "cip":
            assert thresholds is not None
            psets = prediction_set(probs, thresholds.at(len(history) + 1))
            objective[q] = size_bound(psets, label_idx, config.alpha)
        else:
            objective[q] = entropy(probs)
    best = min(unasked, key=lambda q: objective[q])  # ties: the earlier query of the bank
    return best, objective


def calibrate(
    backend: Any,
    samples: Sequence[Sample],
    queries: Sequence[str],
    *,
    alpha: float = 0.1,
    lengths: Sequence[int],
    n_per_length: int,
    seed: int = 0,
    posterior: Posterior | None = None,
) -> Thresholds:
    """q̂_k for each history length k from random calibration histories (reference: `sample_length_k_history`).

    Each calibration history draws a sample uniformly (with replacement) and k distinct queries of
    the bank uniformly; its score is -p(sample's label | history).
    """
    if not samples:
        raise InvalidInput("samples: calibration needs at least one calibration Sample")
    posterior = posterior or Posterior(backend)
    rng = np.random.default_rng(seed)
    scores: dict[int, list[float]] = {}
    for k in lengths:
        if not 0 <= k <= len(queries):
            raise InvalidInput(
                f"lengths: history length {k} is outside 0..{len(queries)} (the query bank's size)"
            )
        scores[k] = []
        for _ in range(n_per_length):
            s = samples[int(rng.integers(len(samples)))]
            bank = s.queries if s.queries is not None else queries
            if k > len(bank):
                raise InvalidInput(
                    f"lengths: history length {k} exceeds a calibration sample's {len(bank)} queries"
                )
            picked = rng.choice(len(bank), size=k, replace=False)
            history = tuple((bank[i], s.answerer.answer(bank[i])) for i in picked)
            scores[k].append(-float(posterior(s.problem, history)[s.label_index]))
    return Thresholds.from_scores(scores, alpha)


# ------------------------------------------------------------------------------ the graph


class PursuitState(TypedDict, total=False):
    """The graph's state: the history so far, the current posterior and set, the pending query, the trace."""

    history: list[tuple[str, str]]
    probs: list[float]
    prediction: str
    prediction_set: list[str]
    query: str | None
    trace: list[dict[str, Any]]  # one entry per prediction: questions asked, prediction, set size
    stop_reason: str | None


@dataclass(frozen=True, kw_only=True)
class PursuitResult:
    """The outcome of one pursuit: the final prediction and set, the questions asked, the per-step trace."""

    prediction: str
    prediction_set: tuple[str, ...]
    history: History
    probs: tuple[float, ...]
    stop_reason: str
    trace: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    def prediction_after(self, k: int) -> str:
        """The prediction after k questions (the final one when the pursuit stopped earlier)."""
        return self.trace[min(k, len(self.trace) - 1)]["prediction"]


def build_pursuit_graph(
    backend: Any,
    problem: Problem,
    queries: Sequence[str],
    *,
    samples: Sequence[Sample] = (),
    config: PursuitConfig | None = None,
    thresholds: Thresholds | None = None,
    answerer: Answerer | None = None,
    checkpointer: Any = None,
    posterior: Posterior | None = None,
) -> Any:
    """The compiled graph. Without an `answerer` the ask node calls `interrupt({"query": ...})`:
    compile with a checkpointer and resume with `Command(resume=answer)` on the same thread."""
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import interrupt

    config = config or PursuitConfig()
    if len(set(queries)) != len(queries):
        raise InvalidInput("queries: the query bank holds duplicates")
    if config.method == "cip" and thresholds is None:
        raise InvalidInput(
            "thresholds: method 'cip' needs calibrated thresholds (see pursuit.calibrate)"
        )
    if thresholds is not None and abs(thresholds.alpha - config.alpha) > 1e-12:
        raise InvalidInput(
            f"thresholds: calibrated at α = {thresholds.alpha}, the config asks for α = {config.alpha}"
        )
    post = posterior or Posterior(backend)

    def predict(state: PursuitState) -> dict[str, Any]:
        history = tuple(tuple(h) for h in state.get("history", []))
        probs = post(problem, history)  # type: ignore[arg-type]
        pset = (
            [
                y
                for y, keep in zip(
                    problem.labels, prediction_set(probs, thresholds.at(len(history))), strict=True
                )
                if keep
            ]
            if thresholds is not None
            else []
        )
        best = problem.labels[int(np.argmax(probs))]
        step = {
            "questions": len(history),
            "prediction": best,
            "set_size": len(pset) if thresholds else None,
        }
        return {
            "probs": probs.tolist(),
            "prediction": best,
            "prediction_set": pset,
            "trace": [*state.get("trace", []), step],
            "query": None,
        }

    def stop_reason(state: PursuitState) -> str | None:
        history = state.get("history", [])
        if config.method == "direct":
            return "direct prediction"
        if len(history) >= config.budget:
            return "budget spent"
        if (
            config.stop_on_singleton
            and thresholds is not None
            and len(state["prediction_set"]) == 1
        ):
            return "single-label prediction set"
        if len(history) >= len(queries):
            return "no query left"
        return None

    def route(state: PursuitState) -> str:
        return "select" if stop_reason(state) is None else "stop"

    def stop(state: PursuitState) -> dict[str, Any]:
        return {"stop_reason": stop_reason(state)}

    def select(state: PursuitState) -> dict[str, Any]:
        history = tuple(tuple(h) for h in state.get("history", []))
        query, _ = select_query(post, history, queries, samples, config, thresholds)  # type: ignore[arg-type]
        return {"query": query}

    def ask(state: PursuitState) -> dict[str, Any]:
        query = state["query"]
        assert query is not None
        if answerer is not None:
            answer = answerer.answer(query)
        else:
            answer = interrupt({"query": query, "questions_asked": len(state.get("history", []))})
        if not isinstance(answer, str) or not answer.strip():
            raise InvalidInput(f"answer to {query!r}: expected a non-empty string, got {answer!r}")
        return {"history": [*state.get("history", []), (query, answer.strip())]}

    graph = StateGraph(PursuitState)
    graph.add_node("predict", predict)
    graph.add_node("select", select)
    graph.add_node("ask", ask)
    graph.add_node("stop", stop)
    graph.add_edge(START, "predict")
    graph.add_conditional_edges("predict", route, {"select": "select", "stop": "stop"})
    graph.add_edge("select", "ask")
    graph.add_edge("ask", "predict")
    graph.add_edge("stop", END)
    return graph.compile(checkpointer=checkpointer)


def result_of(state: Mapping[str, Any]) -> PursuitResult:
    """A PursuitResult from a finished graph's state."""
    return PursuitResult(
        prediction=state["prediction"],
        prediction_set=tuple(state.get("prediction_set", [])),
        history=tuple(tuple(h) for h in state.get("history", [])),  # type: ignore[misc]
        probs=tuple(state["probs"]),
        stop_reason=state["stop_reason"],
        trace=tuple(state.get("trace", [])),
    )


def pursue(
    backend: Any,
    problem: Problem,
    queries: Sequence[str],
    answerer: Answerer,
    *,
    samples: Sequence[Sample] = (),
    config: PursuitConfig | None = None,
    thresholds: Thresholds | None = None,
    posterior: Posterior | None = None,
) -> PursuitResult:
    """Run one pursuit to its end with `answerer` answering every question."""
    config = config or PursuitConfig()
    graph = build_pursuit_graph(
        backend,
        problem,
        queries,
        samples=samples,
        config=config,
        thresholds=thresholds,
        answerer=answerer,
        posterior=posterior,
    )
    state = graph.invoke({"history": [], "trace": []}, {"recursion_limit": 4 * config.budget + 10})
    return result_of(state)


def drive(graph: Any, ask: Callable[[str], str], *, thread_id: str = "pursuit") -> PursuitResult:
    """Run a graph built without an answerer (and with a checkpointer) to its end, asking `ask` at each
    `interrupt()` and resuming with `Command(resume=answer)` — how a person answers in the CLI."""
    from langgraph.types import Command

    thread = {"configurable": {"thread_id": thread_id}, "recursion_limit": 1000}
    state = graph.invoke({"history": [], "trace": []}, thread)
    while state.get("__interrupt__"):
        (pending,) = state["__interrupt__"]
        state = graph.invoke(Command(resume=ask(pending.value["query"])), thread)
    return result_of(state)
