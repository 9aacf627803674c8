"""CQoT as a LangGraph graph: plan -> assess -> (plan again | answer) -> end; and `run`, its entry point.

The model first drafts a step-wise reasoning plan without the final answer; then it answers eight
Toulmin-style critical questions about that plan with Yes/No (decoded under a JSON schema). With
fewer than 7 "Yes" the plan is redrafted; from the 5th redraft on more than 4 "Yes" suffice; after
the 10th redraft the last plan is taken as it is. The final answer strictly follows the accepted plan.

    result = run("How many ...?", backend=backend)   # CQoTResult(answer=..., plan=..., verdict=..., usage=...)
"""

from __future__ import annotations

import functools
from typing import Any

from langgraph.graph import END, START, StateGraph

import ratiocinator.reasoning.cqot.nodes as nodes
from ratiocinator.kit import (
    MethodContext,
    invoke,
    require_backend,
    require_text,
    resolve_config,
    unverified,
)
from ratiocinator.kit import gave_up as gave_up_verdict
from ratiocinator.reasoning.cqot.config import CQoTConfig
from ratiocinator.reasoning.cqot.prompts import CRITICAL_QUESTIONS
from ratiocinator.reasoning.cqot.result import CQoTResult


@functools.cache
def build_graph() -> Any:
    """The compiled graph (once per process); invoke it with `context=MethodContext(backend, config, usage)`."""
    graph = StateGraph(nodes.CQoTState, context_schema=MethodContext)
    graph.add_node("plan", nodes.plan)
    graph.add_node("assess", nodes.assess)
    graph.add_node("answer", nodes.answer)
    graph.add_edge(START, "plan")
    graph.add_edge("plan", "assess")
    graph.add_conditional_edges("assess", nodes.after_assess, {"plan": "plan", "answer": "answer"})
    graph.add_edge("answer", END)
    return graph.compile()


def run(question: str, *, backend: Any, config: CQoTConfig | None = None) -> CQoTResult:
    """Answer `question` by CQoT on `backend`: redraft the plan until it passes the critical questions."""
    require_text(question, name="question", expected="a non-empty string")
    require_backend(backend)
    cfg = resolve_config(config, CQoTConfig)
    # each draft takes two graph steps (plan, assess); the answer one more
    state, usage = invoke(
        build_graph(),
        {"question": question, "drafts": []},
        backend=backend,
        config=cfg,
        recursion_limit=2 * (cfg.max_redrafts + 1) + 4,
    )
    drafts = tuple(state["drafts"])
    acceptance = state["acceptance"]
    yes = f"{drafts[-1].yes} of {len(CRITICAL_QUESTIONS)} critical questions"
    if acceptance == "last_draft":
        verdict = gave_up_verdict(
            f"no plan passed the critical questions in {len(drafts)} drafts (the last: {yes}); the "
            "answer follows the last draft and was not checked"
        )
    else:
        verdict = unverified(
            f"the plan passed {yes} ({acceptance}) by the model's own assessment; the answer "
            "itself was not checked"
        )
    return CQoTResult(
        answer=state["answer"],
        plan=state["plan"],
        acceptance=acceptance,
        drafts=drafts,
        verdict=verdict,
        usage=usage,
    )
