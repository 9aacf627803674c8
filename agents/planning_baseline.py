"""The LLM-as-planner baseline of LLM+P (Liu et al. 2023): the model is asked for the plan directly.

    answer = direct_plan(text, backend=backend, domain="blocksworld")
    answer.steps   # ("(unstack b2 b3)", ...), to be validated against a problem by the caller

The prompt is llm-pddl's "LLM-as-P with context" (domain.nl, the example problem and its plan), asking
for PDDL actions so the plan can be checked; under `grammar` every step names an action of the domain
with its arity. Validation is the caller's: the eval validates against the gold problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ratiocinator.agents.planning import LLMPConfig, resolve_domain
from ratiocinator.agents.planning_grammar import (
    PlanningDomain,
    candidate_objects,
    plan_bound,
    plan_grammar,
    vocabulary,
)
from ratiocinator.models.types import Message, SamplingParams


@dataclass(frozen=True, kw_only=True)
class DirectPlan:
    """The baseline's answer: the plan as the model wrote it (validated by the caller against a problem)."""

    text: str
    steps: tuple[str, ...]
    prompt_tokens: int
    completion_tokens: int


def _example_plan(domain: PlanningDomain, config: LLMPConfig) -> str:
    """The example's plan in PDDL (solved here), else llm-pddl's English `p_example.sol` is not at hand: ''."""
    from ratiocinator.solvers.pddl import solve
    from ratiocinator.solvers.pddl_reader import PDDLError

    if not domain.example_pddl:
        return ""
    try:
        result = solve(
            domain.pddl, domain.example_pddl, planner=config.planner, timeout=config.timeout
        )
    except PDDLError:
        return ""
    return "\n".join(result.plan) if result.plan else ""


def direct_prompt(text: str, domain: PlanningDomain, example_plan: str) -> list[Message]:
    """llm-pddl's LLM-as-planner prompt with context, asking for PDDL actions so the plan can be validated."""
    parts = [f"{domain.nl} \n" if domain.nl else ""]
    if domain.example_nl and example_plan:
        parts.append(
            f"An example planning problem is: \n {domain.example_nl} \n"
            f"A plan for the example problem is: \n {example_plan} \n"
        )
    parts.append(
        f"Now I have a new planning problem and its description is: \n {text.strip()} \n"
        "Can you provide an optimal plan, in the way of a sequence of behaviors, to solve the problem? "
        "Write one action per line as (action argument ...), without further explanations."
    )
    return [Message(role="user", content="".join(parts))]


def direct_plan(
    text: str,
    *,
    backend: Any,
    domain: str | Path | PlanningDomain | None = None,
    config: LLMPConfig | None = None,
) -> DirectPlan:
    """The LLM-as-planner baseline: the model writes the plan (under the domain's action grammar)."""
    from ratiocinator.solvers.pddl import plan_steps

    config = config or LLMPConfig()
    dom = resolve_domain(text, domain)
    objects = candidate_objects(text, dom) if config.objects_from_text else None
    example = _example_plan(dom, config)
    steps = plan_bound(text, dom, len(example.splitlines()), config.length_factor)
    grammar = plan_grammar(vocabulary(dom), objects, steps) if config.grammar else None
    budget = min(config.max_tokens, 16 + 16 * steps) if steps else config.max_tokens
    params = SamplingParams(temperature=0.0, max_tokens=budget, grammar=grammar)
    (c,) = backend.generate([direct_prompt(text, dom, example)], params)
    return DirectPlan(
        text=c.text,
        steps=tuple(plan_steps(c.text)),
        prompt_tokens=c.prompt_tokens,
        completion_tokens=c.completion_tokens,
    )


__all__ = ["DirectPlan", "direct_plan", "direct_prompt"]
