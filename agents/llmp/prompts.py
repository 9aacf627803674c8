"""LLM+P's prompts (llm-pddl's wording): the translation prompt with the domain's one-shot example, and the error feedback."""

from __future__ import annotations

from ratiocinator.agents.llmp.config import LLMPConfig
from ratiocinator.agents.llmp.domain import PlanningDomain
from ratiocinator.models.types import Message


def translation_prompt(text: str, domain: PlanningDomain, config: LLMPConfig) -> list[Message]:
    """LLM+P's prompt: the one-shot example, its problem PDDL, then the new problem."""
    parts = ["I want you to solve planning problems. "]
    if config.show_domain:
        parts.append(f"The domain PDDL file is: \n {domain.pddl} \n")
    if domain.example_nl and domain.example_pddl:
        parts.append(
            f"An example planning problem is: \n {domain.example_nl} \n"
            f"The problem PDDL file to this problem is: \n {domain.example_pddl} \n"
        )
    parts.append(
        f"Now I have a new planning problem and its description is: \n {text.strip()} \n"
        "Provide me with the problem PDDL file that describes the new planning problem directly "
        "without further explanations?"
    )
    return [Message(role="user", content="".join(parts))]


def feedback(message: str) -> str:
    """The user turn that shows the model why its translation was wrong and asks for it again."""
    return (
        f"That problem PDDL is wrong: {message}. Write the corrected problem PDDL file, complete, "
        "without further explanations."
    )
