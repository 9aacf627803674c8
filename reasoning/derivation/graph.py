"""Checked derivations as LangGraph graphs: write -> (feedback -> write | end), or one line per reply; and `run`.

Paper: "Generating Mathematical Derivations with Large Language Models" (Meadows, Valentino, Teney,
Freitas, 2023). Items come from a symbolic engine with a known derivation
(reasoning/symbolic_steps.py). The model writes one equation per line, under a grammar that only
admits lines of the form `expression = expression` in plain math characters, so every line parses.
Each line is checked against the line before it given the definitions (the first against the
premise; reasoning/derivation/check.py); the first line that does not follow is fed back with
sympy's reason, the lines before it are kept, and the model rewrites the rest (up to `max_feedback`
times); an irrelevant line is sent back the same way. A derivation whose lines all follow but stop
short of the goal is sent back to be continued; one without an equation, to be written. With
`mode="stepwise"` the model writes one line per reply instead, several draws per line, and sympy keeps
a valid new one (reasoning/derivation/stepwise.py).

    result = run(generate_item(0), backend=backend)   # DerivationResult(attempts=..., verdict=..., usage=...)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from langgraph.graph import END, START, StateGraph

import ratiocinator.reasoning.derivation.nodes as nodes
import ratiocinator.reasoning.derivation.stepwise as stepwise
from ratiocinator.errors import InvalidInput
from ratiocinator.kit import (
    MethodContext,
    Verdict,
    failed,
    gave_up,
    invoke,
    require_backend,
    resolve_config,
    verified,
)
from ratiocinator.reasoning.derivation.config import DerivationConfig
from ratiocinator.reasoning.derivation.result import WRONG, Attempt, DerivationResult
from ratiocinator.reasoning.symbolic_steps import DerivationItem


@functools.cache
def build_graph(mode: str = "whole") -> Any:
    """The compiled graph of a mode (once per process); invoke it with `context=MethodContext(backend, config,
    usage)`. 'whole': write -> (feedback -> write | end); 'stepwise': extend -> (extend | end)."""
    if mode == "stepwise":
        graph = StateGraph(stepwise.StepwiseState, context_schema=MethodContext)
        graph.add_node("extend", stepwise.extend)
        graph.add_edge(START, "extend")
        graph.add_conditional_edges("extend", stepwise.route, {"extend": "extend", END: END})
        return graph.compile()
    graph = StateGraph(nodes.DerivationState, context_schema=MethodContext)
    graph.add_node("write", nodes.write)
    graph.add_node("feedback", nodes.feedback)
    graph.add_edge(START, "write")
    graph.add_conditional_edges("write", nodes.route, {"feedback": "feedback", END: END})
    graph.add_edge("feedback", "write")
    return graph.compile()


def run(
    item: DerivationItem, *, backend: Any, config: DerivationConfig | None = None
) -> DerivationResult:
    """Have the backend derive `item.goal` from its premises, with sympy feedback on the first invalid line."""
    if not isinstance(item, DerivationItem):
        raise InvalidInput(
            f"item: expected a DerivationItem (see symbolic_steps.generate_item), got {type(item)}"
        )
    require_backend(backend)
    cfg = resolve_config(config, DerivationConfig)
    stepped = cfg.mode == "stepwise"
    state, usage = invoke(
        build_graph(cfg.mode),
        {"item": item, "lines": []} if stepped else {"item": item, "attempts": []},
        backend=backend,
        config=cfg,
        recursion_limit=cfg.max_steps + 4 if stepped else 2 * (cfg.max_feedback + 1) + 4,
    )
    attempts = tuple(state["attempts"])
    return DerivationResult(
        attempts=attempts, verdict=derivation_verdict(item, attempts, cfg), usage=usage
    )


def derivation_verdict(
    item: DerivationItem, attempts: Sequence[Attempt], cfg: DerivationConfig
) -> Verdict:
    """verified: sympy showed every line of the last attempt follows and the last is the goal; else why not."""
    last = attempts[-1]
    if last.fully_valid:
        return verified(
            f"sympy showed that each of the {len(last.lines)} lines follows from the one before (the "
            f"first from the premise {item.premise}, given {'; '.join(item.definitions) or 'no definitions'}) "
            f"and that the last states the goal {item.goal}"
        )
    if not last.lines:
        return failed(f"the model wrote no equation ({len(attempts)} attempt(s))")
    k = last.first_problem
    if k < 0:
        problem = f"every line follows, but the last one is not the goal {item.goal}"
    else:
        j = last.judgements[k]
        kind = "does not follow" if j.verdict in WRONG else "is irrelevant"
        problem = f'sympy: line {k + 1} "{last.lines[k]}" {kind} ({j.detail or j.verdict})'
    if cfg.mode == "stepwise":
        return gave_up(f"no fully valid derivation line by line ({len(last.lines)} line(s), candidates="
                       f"{cfg.candidates}, max_steps={cfg.max_steps}): {problem}")
    return gave_up(
        f"no fully valid derivation after {len(attempts)} attempt(s) (max_feedback="
        f"{cfg.max_feedback}): {problem}"
    )
