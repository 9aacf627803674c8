"""LLMOPT as a LangGraph graph: formulate -> (correct)* -> end; and `run`, its entry point (English -> optimum).

"LLMOPT: Learning to Define and Solve General Optimization Problems from Scratch" (Jiang et al., ICLR
2025). The paper fine-tunes a 14B model to write the five-element formulation (sets, parameters,
variables, objective, constraints) and solver code, and lets the model correct itself on errors. Here a
small model writes only the formulation, under the JSON schema of `solvers.formulation` (constrained
decoding: the output always parses unless cut at `max_tokens`); the solvers layer builds and solves it
and checks the result independently. Self-correction is driven by the engine: on a build error,
infeasibility, unboundedness, a solver timeout or an implausible result the model sees its formulation
and the solver's message and rewrites it (at most `correction_rounds` times). `samples` independent
formulations are made and the optimal value most of them agree on is chosen (sample-and-select).

`translation="stepwise"` (steps.py) never asks for a whole formulation: the text's numbers are found
in code (each tied to its words, the parameters), then the model declares the variables, writes the
objective, and each sentence's constraints, one short grammar-constrained generation each (the grammars
admit only the text's numbers and the declared names); each piece is checked at once (a variable in
it, a number's stated direction and unit, every number used) and the engine's complaints go back to
the piece at fault. The result is the same five-element formulation and LLMOPTResult.

    result = run("A bakery ...", backend=load_backend())
    result.objective, result.values, result.verdict, result.answer
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

from langgraph.graph import END, START, StateGraph

import ratiocinator.agents.llmopt.nodes as nodes
import ratiocinator.agents.llmopt.steps as steps
from ratiocinator.agents.llmopt.answer import english, select
from ratiocinator.agents.llmopt.config import LLMOPTConfig
from ratiocinator.agents.llmopt.result import Attempt, LLMOPTResult
from ratiocinator.kit import (
    MethodContext,
    Usage,
    Verdict,
    failed,
    invoke,
    require_backend,
    require_text,
    resolve_config,
    unverified,
    verified,
)
from ratiocinator.solvers.faithfulness import TextCheck
from ratiocinator.solvers.formulation import Formulation

#: why a chosen optimum that built and solved is not confirmed, by its attempt's status
_NOT_CONFIRMED = {
    "timeout": "the solver stopped at its time limit before proving it optimal",
    "implausible": "it failed the independent re-check or a plausibility check (all zero, "
    "implausibly large, or numbers your text does not state)",
}


@functools.cache
def build_graph(translation: str = "stepwise") -> Any:
    """The compiled graph of a translation (once per process); invoke it with `context=MethodContext(...)`."""
    if translation == "stepwise":
        return _stepwise_graph()
    graph = StateGraph(nodes.LLMOPTState, context_schema=MethodContext)
    graph.add_node("formulate", nodes.formulate)
    graph.add_node("correct", nodes.correct)
    graph.add_edge(START, "formulate")
    graph.add_conditional_edges("formulate", nodes.needs_correction, ["correct", END])
    graph.add_conditional_edges("correct", nodes.needs_correction, ["correct", END])
    return graph.compile()


def _stepwise_graph() -> Any:
    """read -> network? -> variables -> objective -> constraints -> solve -> (repair -> solve)*."""
    graph = StateGraph(steps.StepState, context_schema=MethodContext)
    order = [("variables", steps.declare), ("objective", steps.objective), ("constraints", steps.constrain),
             ("solve", steps.solve)]
    for name, node in [("read", steps.read), ("network", steps.network), *order]:
        graph.add_node(name, node)
    graph.add_node("repair", steps.repair)
    graph.add_edge(START, "read")
    graph.add_edge("read", "network")
    graph.add_conditional_edges("network", steps.after_network, ["variables", END])
    for (a, _), (b, _) in itertools.pairwise(order):
        graph.add_edge(a, b)
    graph.add_conditional_edges("solve", steps.needs_repair, ["repair", END])
    graph.add_edge("repair", "solve")
    return graph.compile()


def run(text: str, *, backend: Any, config: LLMOPTConfig | None = None) -> LLMOPTResult:
    """Define and solve the optimization problem described in `text` (LLMOPT with engine-driven correction)."""
    require_text(text, name="text", expected="the optimization problem in English")
    require_backend(backend)
    cfg = resolve_config(config, LLMOPTConfig)
    state, usage = invoke(build_graph(cfg.translation), {"problem": text}, backend=backend, config=cfg)
    return _result(text, state, cfg, usage)


def _doubtful(attempt: Attempt) -> bool:
    """Solved and re-checked, but not matching the text in a way that does not make it wrong."""
    return attempt.status == "unfaithful" and (attempt.text_check is None or attempt.text_check.scope != "broken")


def final(track: list[Attempt]) -> Attempt:
    """What a sample ends with: its last verified attempt, else its last one that matches the text
    doubtfully (not one that breaks it), else its last one that built and solved (a correction that
    no longer builds does not undo an earlier optimum: seen on Mamo complex), else its last attempt."""
    for ok in (lambda a: a.status == "ok", _doubtful, lambda a: a.executed):
        kept = [a for a in track if ok(a)]
        if kept:
            return kept[-1]
    return track[-1]


def _verdict(chosen: Attempt | None, tracks: list[list[Attempt]]) -> Verdict:
    if chosen is None:
        last = ", ".join(t[-1].status for t in tracks)
        return failed(
            f"no formulation was built and solved in {sum(map(len, tracks))} attempts (the last: "
            f"{last}); nothing was checked"
        )
    check = chosen.text_check or TextCheck(scope="unchecked")
    if check.scope == "broken":
        return failed(f"{check.reason}; the formulation below, whose optimum this is, does not match your text")
    if chosen.status in ("ok", "unfaithful"):
        if check.verified:
            return verified(f"the optimum of the formulation below, re-checked against it; {check.reason}")
        return unverified(f"the optimum of the formulation below, re-checked against it, but {check.reason}")
    why = _NOT_CONFIRMED.get(chosen.status, chosen.status.replace("_", " "))
    return unverified(
        f"the formulation below was built and solved, but its optimum is not confirmed: {why}; "
        + (check.reason if check.verified else f"and {check.reason}")
    )


def _result(problem: str, state: dict[str, Any], config: LLMOPTConfig, usage: Usage) -> LLMOPTResult:
    tracks = state["tracks"]
    chosen, votes = select([final(t) for t in tracks], config.agreement)
    first, _ = select([t[0] for t in tracks], config.agreement)
    formulation = (
        Formulation.model_validate_json(chosen.formulation) if chosen is not None else None
    )
    sense = formulation.objective.sense if formulation is not None else None
    return LLMOPTResult(
        problem=problem,
        objective=chosen.objective if chosen else None,
        sense=sense,
        values=chosen.values if chosen else {},
        formulation=formulation,
        answer=english(chosen, sense, votes, config.samples),
        agreement=votes,
        samples=config.samples,
        rounds=state["round"],
        executed=chosen is not None,
        initial_objective=first.objective if first else None,
        initial_executed=first is not None,
        attempts=tuple(tuple(t) for t in tracks),
        verdict=_verdict(chosen, tracks),
        usage=usage,
    )
