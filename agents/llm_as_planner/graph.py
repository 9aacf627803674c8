"""The LLM-as-planner baseline of LLM+P (Liu et al. 2023) as a LangGraph graph: the model is asked for the plan directly; and `run`.

    result = run(text, backend=backend, domain="blocksworld")
    result.steps     # ("(unstack b2 b3)", ...)
    result.verdict   # unverified, unless run(..., problem=PDDL) validated the plan against that problem

The graph: example -> write -> (validate | END). The prompt is llm-pddl's "LLM-as-P with context"
(domain.nl, the example problem and its plan, solved here by the planner), asking for PDDL actions
so the plan can be checked; under `grammar` every step names an action of the domain with its
arity. The model is greedy, as in the paper. Validation against the gold problem is the eval's
(evals/benchmarks/planning.py); a caller may pass a problem PDDL to have it validated here.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from langgraph.graph import END, START, StateGraph

import ratiocinator.agents.llm_as_planner.nodes as nodes
from ratiocinator.agents.llm_as_planner.config import LLMAsPlannerConfig
from ratiocinator.agents.llm_as_planner.result import LLMAsPlannerResult
from ratiocinator.agents.llmp.domain import PlanningDomain, resolve_domain
from ratiocinator.kit import MethodContext, invoke, require_backend, require_text, resolve_config


@functools.cache
def build_graph() -> Any:
    """The compiled graph (once per process); invoke it with `context=MethodContext(backend, config, usage)`."""
    graph = StateGraph(nodes.LLMAsPlannerState, context_schema=MethodContext)
    graph.add_node("example", nodes.example)
    graph.add_node("write", nodes.write)
    graph.add_node("validate", nodes.validate)
    graph.add_edge(START, "example")
    graph.add_edge("example", "write")
    graph.add_conditional_edges("write", nodes.route, {"validate": "validate", "end": END})
    graph.add_edge("validate", END)
    return graph.compile()


def run(
    text: str,
    *,
    backend: Any,
    config: LLMAsPlannerConfig | None = None,
    domain: str | Path | PlanningDomain | None = None,
    problem: str | None = None,
) -> LLMAsPlannerResult:
    """The LLM-as-planner baseline: the model writes the plan for `text` (under the domain's action grammar).

    `domain`: as LLM+P's (a name, a folder, a domain.pddl path, PDDL text, or None to guess it).
    `problem`: a problem PDDL of the domain to validate the plan against (None: the plan is unverified).
    """
    require_text(text, name="text", expected="the planning problem in English")
    require_backend(backend)
    config = resolve_config(config, LLMAsPlannerConfig)
    dom = resolve_domain(text, domain)
    state, usage = invoke(
        build_graph(),
        {"text": text, "domain": dom, "problem": problem},
        backend=backend,
        config=config,
    )
    return LLMAsPlannerResult(
        domain=dom.name,
        steps=state["steps"],
        raw=state["raw"],
        validation=state.get("validation", ""),
        verdict=state["verdict"],
        usage=usage,
    )
