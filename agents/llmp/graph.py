"""LLM+P (Liu et al. 2023, "LLM+P: Empowering Large Language Models with Optimal Planning Proficiency") as a LangGraph graph, and `run`, its entry point.

    result = run("You have 3 blocks. ...", backend=backend, domain="blocksworld")   # = plan_from_text
    result.verdict       # verified (the plan passed UP's validator for the translated problem) | failed
    result.plan          # ("(unstack b2 b3)", "(putdown b2)", ...)
    result.explanation   # "1. Unstack with ob = b2 and underob = b3. ..."

The graph: translate -> (translate again with the errors | select) -> END. `translate` asks the
model for the problem PDDL with the paper's prompt (the one-shot example `p_example.nl` /
`p_example.pddl` of the domain) under an EBNF grammar built from the domain (grammar.py), so
every output parses as PDDL, and checks each translation (check.py): it parses it with the solvers
layer, compares its objects with those the English names, plans and validates (after the sound
rewrites of repair.py: repeated facts and objects, undeclared objects the text names, a :goal cut
off at the token limit); a translation that fails is shown the precise error and retried (at most
`retries` rounds, sampled; a chain that repeats a translation already shown wrong stops). k
translations are sampled (temperature > 0 when k > 1) and `select` takes the majority over their
goal states (translations with the same init and goal facts plan alike); the paper used one greedy
translation, which is k=1 here.

The paper's LLM-as-planner baseline (the model writes the plan itself) is agents/llm_as_planner/.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from langgraph.graph import END, START, StateGraph

import ratiocinator.agents.llmp.nodes as nodes
from ratiocinator.agents.llmp.config import LLMPConfig
from ratiocinator.agents.llmp.domain import PlanningDomain, resolve_domain
from ratiocinator.agents.llmp.result import LLMPResult
from ratiocinator.kit import (
    MethodContext,
    Usage,
    failed,
    invoke,
    require_backend,
    require_text,
    resolve_config,
    verified,
)
from ratiocinator.solvers.faithfulness import PLAN_TRANSLATED


@functools.cache
def build_graph() -> Any:
    """The compiled LLM+P graph (once per process); invoke it with `context=MethodContext(backend, config, usage)`."""
    graph = StateGraph(nodes.LLMPState, context_schema=MethodContext)
    graph.add_node("translate", nodes.translate)
    graph.add_node("select", nodes.select_plan)
    graph.add_edge(START, "translate")
    graph.add_conditional_edges("translate", nodes.route, {"translate": "translate", "select": "select"})
    graph.add_edge("select", END)
    return graph.compile()


def _result(state: dict[str, Any], usage: Usage) -> LLMPResult:
    """The result of a finished run: the selected translation's plan and a verdict that says what was checked."""
    best = state["selected"]
    common = {
        "domain": state["domain"].name,
        "translations": tuple(state["translations"]),
        "message": state["message"],
        "usage": usage,
    }
    if best is None:
        return LLMPResult(
            verdict=failed(state["message"]), plan=None, explanation="", problem_pddl=None,
            cost=None, optimal=False, planner="", agreement=0.0, **common,
        )
    verdict = verified(
        f"the plan was validated by unified-planning for translation {best.chain + 1} (the problem PDDL "
        f"below): {PLAN_TRANSLATED} ({state['agreeing']} of {state['planned']} planned translations state "
        "the same facts)"
    )
    return LLMPResult(
        verdict=verdict, plan=best.plan, explanation=state["explanation"], problem_pddl=best.pddl,
        cost=best.cost, optimal=best.optimal, planner=best.planner, agreement=state["agreement"],
        **common,
    )


def run(
    text: str,
    *,
    backend: Any,
    config: LLMPConfig | None = None,
    domain: str | Path | PlanningDomain | None = None,
) -> LLMPResult:
    """LLM+P: translate `text` into the domain's problem PDDL, plan, validate, select, explain.

    `domain`: a name under the planning data folder (`blocksworld`), a folder, a domain.pddl path,
    PDDL text, or None to pick the planning domain whose descriptions best match the text.
    """
    require_text(text, name="text", expected="the planning problem in English")
    require_backend(backend)
    config = resolve_config(config, LLMPConfig)
    dom = resolve_domain(text, domain)
    state, usage = invoke(
        build_graph(),
        nodes.initial_state(text, dom, config),
        backend=backend,
        config=config,
        recursion_limit=4 * (config.retries + 2),
    )
    return _result(state, usage)


#: the name the API gives LLM+P's run (`ratiocinator.plan_from_text`)
plan_from_text = run
