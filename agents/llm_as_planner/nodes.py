"""The LLM-as-planner baseline's nodes: example (the planner solves the example problem), write (the model writes the plan), validate.

Each node is a function of the graph's state and the LangGraph runtime, whose context carries the
backend and the LLMAsPlannerConfig (see kit/context.py). `validate` runs only when the caller gave
a problem PDDL to validate the plan against.
"""

from __future__ import annotations

from typing import Any, TypedDict

from langgraph.runtime import Runtime

from ratiocinator.agents.llm_as_planner.config import LLMAsPlannerConfig
from ratiocinator.agents.llm_as_planner.prompts import direct_prompt
from ratiocinator.agents.llmp.domain import PlanningDomain, vocabulary
from ratiocinator.agents.llmp.grammar import candidate_objects, plan_bound, plan_grammar
from ratiocinator.kit import MethodContext, Verdict, failed, unverified, verified
from ratiocinator.models.types import SamplingParams

Ctx = Runtime[MethodContext[LLMAsPlannerConfig]]


class LLMAsPlannerState(TypedDict, total=False):
    """The graph's state: the request, the example's plan, the model's plan, and its validation."""

    text: str
    domain: PlanningDomain
    problem: str | None  # a problem PDDL to validate the plan against (None: not validated)
    example_plan: str  # the example problem's plan in PDDL ('' when there is none)
    raw: str  # the plan as the model wrote it
    steps: tuple[str, ...]
    validation: str  # "valid", or why the validator rejected the plan
    verdict: Verdict


def example(state: LLMAsPlannerState, runtime: Ctx) -> dict[str, Any]:
    """The example's plan in PDDL (solved here: llm-pddl's English `p_example.sol` is not at hand), else ''."""
    from ratiocinator.solvers.pddl import solve
    from ratiocinator.solvers.pddl_reader import PDDLError

    config, domain = runtime.context.config, state["domain"]
    if not domain.example_pddl:
        return {"example_plan": ""}
    try:
        result = solve(
            domain.pddl, domain.example_pddl, planner=config.planner, timeout=config.timeout
        )
    except PDDLError:
        return {"example_plan": ""}
    return {"example_plan": "\n".join(result.plan) if result.plan else ""}


def write(state: LLMAsPlannerState, runtime: Ctx) -> dict[str, Any]:
    """The model writes the plan, greedily, under the domain's action grammar (bounded by the example's length)."""
    from ratiocinator.solvers.pddl import plan_steps

    config, text, dom = runtime.context.config, state["text"], state["domain"]
    objects = candidate_objects(text, dom) if config.objects_from_text else None
    example_plan = state["example_plan"]
    steps = plan_bound(text, dom, len(example_plan.splitlines()), config.length_factor)
    grammar = plan_grammar(vocabulary(dom), objects, steps) if config.grammar else None
    budget = min(config.max_tokens, 16 + 16 * steps) if steps else config.max_tokens
    params = SamplingParams(temperature=0.0, max_tokens=budget, grammar=grammar)
    (c,) = runtime.context.backend.generate([direct_prompt(text, dom, example_plan)], params)
    written = tuple(plan_steps(c.text))
    verdict = (
        unverified(
            "the model wrote the plan itself and nothing validated it (no problem PDDL was given "
            "to validate it against)"
        )
        if written
        else failed("the model wrote no plan step")
    )
    return {"raw": c.text, "steps": written, "verdict": verdict}


def route(state: LLMAsPlannerState) -> str:
    """Validate when a problem was given and the model wrote a plan, else end."""
    return "validate" if state.get("problem") and state["steps"] else "end"


def validate(state: LLMAsPlannerState, runtime: Ctx) -> dict[str, Any]:
    """Validate the model's plan against the given problem with unified-planning's validator."""
    from ratiocinator.solvers.pddl import validate as validate_plan

    domain = state["domain"]
    try:  # UP rejects an argument of the wrong type (a model's own plan) with an exception
        report = validate_plan(domain.validation_pddl or domain.pddl, state["problem"], state["steps"])
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}"
        return {"validation": why, "verdict": failed(f"the plan could not be validated: {why}")}
    if not report.valid:
        return {
            "validation": report.reason,
            "verdict": failed(f"unified-planning's validator rejected the plan: {report.reason}"),
        }
    return {
        "validation": "valid",
        "verdict": verified(
            "the plan was validated by unified-planning for the problem PDDL given with the text; "
            "that problem was not checked against your text"
        ),
    }
