"""The LLM-as-planner baseline's prompt: llm-pddl's "LLM-as-P with context", asking for PDDL actions so the plan can be validated."""

from __future__ import annotations

from ratiocinator.agents.llmp.domain import PlanningDomain
from ratiocinator.models.types import Message


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
