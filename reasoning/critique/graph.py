"""DeepCritic as a LangGraph graph: [solve] -> symbolic -> critique -> second_look -> verdict -> merge -> (refine -> symbolic | end); and `run`.

Paper: "DeepCritic: Deliberate Critique with Large Language Models" (Yang et al., 2025; reference
prompts RUCBM/DeepCritic `Critique_Generation/`). Each step of a step-wise solution gets an initial
critique ending in "#### The correctness of Step i is: \\boxed{1|-1}"; then a second, independent
look at that judgement (re-verify the step another way, or critique the critique) gives the final
judgement of the step; the two are merged into one deliberate critique. The first step judged -1 is
the first error (0-based, -1 if none: the labels of ProcessBench). Where a step is symbolic (an
equation that should follow from the previous one, or arithmetic claims like "18 - 6 = 12"),
sympy's finding (reasoning/critique/evidence.py) goes into both prompts as evidence. Refinement feeds
the first error and its critique back to the generator, which rewrites the solution from there, and
the new solution is critiqued again (up to `max_refinements` times).

The reference merges the two critiques with a third LLM call to make smooth training text; the
verdict is the second look's, so here the merge joins the texts and takes that verdict without a
model call. A judgement that does not parse (cut off before the box) is asked for once more under a
grammar that only allows 1 or -1. With `verdict="scored"` (issue 21, reasoning/critique/scoring.py)
the critique is a short check (or none), there is no second look, and `verdict` decides each step
by the model's log-odds of "incorrect" over "correct" against a calibrated threshold. With
`verdict="surprise"` (reasoning/critique/surprise.py) neither critique nor second look runs: each
step is judged by how strongly the model would have written other numbers there.

    result = run(problem, backend=backend, steps=steps)     # CritiqueResult(first_error=2, ...)
    result = run(problem, backend=backend, config=DeepCriticConfig(max_refinements=1))  # solve, critique, fix
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from langgraph.graph import END, START, StateGraph

import ratiocinator.reasoning.critique.nodes as nodes
from ratiocinator.errors import InvalidInput
from ratiocinator.kit import MethodContext, invoke, require_backend, require_text, resolve_config
from ratiocinator.reasoning.critique.config import DeepCriticConfig
from ratiocinator.reasoning.critique.findings import critique_verdict
from ratiocinator.reasoning.critique.result import CritiqueResult


@functools.cache
def build_graph() -> Any:
    """The compiled graph (once per process); invoke it with `context=MethodContext(backend, config, usage)`."""
    graph = StateGraph(nodes.CritiqueState, context_schema=MethodContext)
    for name in ("solve", "symbolic", "critique", "second_look", "verdict", "merge", "refine"):
        graph.add_node(name, getattr(nodes, name))
    graph.add_conditional_edges(START, nodes.start, {"solve": "solve", "symbolic": "symbolic"})
    graph.add_edge("solve", "symbolic")
    graph.add_edge("symbolic", "critique")
    graph.add_edge("critique", "second_look")
    graph.add_edge("second_look", "verdict")
    graph.add_edge("verdict", "merge")
    graph.add_conditional_edges("merge", nodes.after_merge, {"refine": "refine", END: END})
    graph.add_edge("refine", "symbolic")
    return graph.compile()


def run(
    problem: str,
    *,
    backend: Any,
    config: DeepCriticConfig | None = None,
    steps: Sequence[str] = (),
    given: Sequence[str] = (),
) -> CritiqueResult:
    """Critique a step-wise solution of `problem` (with no `steps`, the backend writes one first).

    `given`: for equation steps, the premise the first step follows from, then the definitions
    (`name = expression`) sympy substitutes. With `config.max_refinements > 0`, the first wrong step
    goes back to the model, which rewrites the solution, up to that many times.
    """
    require_text(problem, name="problem", expected="a non-empty string")
    require_backend(backend)
    if isinstance(steps, str) or any(not isinstance(s, str) or not s.strip() for s in steps):
        raise InvalidInput("steps: expected a list of non-empty strings (one per step)")
    cfg = resolve_config(config, DeepCriticConfig)
    state, usage = invoke(
        build_graph(),
        {"problem": problem, "steps": list(steps), "given": list(given), "rounds": []},
        backend=backend,
        config=cfg,
        recursion_limit=7 * (cfg.max_refinements + 1) + 4,
    )
    rounds = tuple(state["rounds"])
    return CritiqueResult(
        steps=rounds[-1].steps,
        first_error=rounds[-1].first_error,
        rounds=rounds,
        verdict=critique_verdict(rounds, max_refinements=cfg.max_refinements),
        usage=usage,
    )
