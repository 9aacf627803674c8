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


# ---------------------------------------------------------------- the stepwise translation's prompts


def objects_prompt(text: str, example_nl: str, example_lines: str, domain: str) -> list[Message]:
    """The objects step: the example's English and its objects by type, then the new English."""
    system = (
        f"You list the objects of a planning problem of the {domain} domain, one line per type, "
        "with every object the problem has and no other."
    )
    return [
        Message(role="system", content=system),
        Message(role="user", content=example_nl.strip()),
        Message(role="assistant", content=example_lines),
        Message(role="user", content=text.strip()),
    ]


def _turn(objects: str, sentence: str) -> str:
    return f"Objects: {objects}\nSentence: {sentence}"


def sentence_prompt(
    sentence: str,
    objects: str,
    shots: list[tuple[str, str, str]],
    domain: str,
) -> list[Message]:
    """One sentence's step: the example sentences chosen for it, each with its objects and facts
    (`shots`: (objects, sentence, facts)), then the sentence with this problem's objects. The system
    turn is the same for every sentence of every problem of the domain (a shared prefix)."""
    system = (
        f"You translate one sentence of a planning problem into PDDL facts of the {domain} domain, "
        "one fact per line, using only the objects listed; write none when the sentence states no fact."
    )
    messages = [Message(role="system", content=system)]
    for shot_objects, shot, facts in shots:
        messages += [
            Message(role="user", content=_turn(shot_objects, shot)),
            Message(role="assistant", content=facts or "none"),
        ]
    messages.append(Message(role="user", content=_turn(objects, sentence)))
    return messages


def piece_feedback(message: str, what: str = "the same sentence") -> str:
    """The user turn that shows one step's answer was wrong and asks for that step again."""
    return f"That is wrong: {message}. Answer again for {what}."


def program_prompt(lists: str, sentence: str, shots: list[tuple[str, str, str]], domain: str) -> list[Message]:
    """One sentence's step as a program: the example sentences chosen for it, each with the example's
    object lists and its program (`shots`: (lists, sentence, program)), then the sentence with this
    problem's lists. The helpers are defined before the program runs (programs.PRELUDE)."""
    system = (
        f"You write a short Python program that prints the PDDL facts of the {domain} domain that one "
        "sentence of a planning problem states, calling fact(predicate, *objects) over the object "
        "lists given; the helpers same(a, b), next_to(a, b) and offset(a, b) compare the numbers in "
        "two names. Write only the program."
    )
    messages = [Message(role="system", content=system)]
    for shot_lists, shot, program in shots:
        messages += [
            Message(role="user", content=f"{shot_lists}\nSentence: {shot}"),
            Message(role="assistant", content=program),
        ]
    messages.append(Message(role="user", content=f"{lists}\nSentence: {sentence}"))
    return messages
