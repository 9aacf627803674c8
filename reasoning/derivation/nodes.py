"""The derivation loop's nodes: write (the model writes equations, sympy checks them), feedback, and the router.

Each node is a function of the graph's state and the LangGraph runtime, whose context carries the
backend and the DerivationConfig (see kit/context.py).
"""

from __future__ import annotations

from typing import Any, TypedDict

from langgraph.graph import END
from langgraph.runtime import Runtime

from ratiocinator.kit import MethodContext
from ratiocinator.models.types import Message, SamplingParams
from ratiocinator.reasoning.derivation.check import check_lines, parse_lines
from ratiocinator.reasoning.derivation.config import DerivationConfig
from ratiocinator.reasoning.derivation.prompts import (
    EMPTY_PROMPT,
    EQUATIONS_GRAMMAR,
    FEEDBACK_PROMPT,
    UNFINISHED_PROMPT,
    WRITE_PROMPT,
)
from ratiocinator.reasoning.derivation.result import Attempt
from ratiocinator.reasoning.symbolic_steps import DerivationItem, generate_item

Ctx = Runtime[MethodContext[DerivationConfig]]


class DerivationState(TypedDict, total=False):
    """The graph's state: the item, the conversation with the model, the attempts so far."""

    item: DerivationItem
    messages: list[Message]
    attempts: list[Attempt]


def write_prompt(item: DerivationItem, example: DerivationItem) -> str:
    """The first prompt: a worked example (another generated item), then the item's premises and goal."""
    return WRITE_PROMPT.format(
        example_premises="; ".join(example.premises),
        example_goal=example.goal,
        example_steps="\n".join(example.steps[1:]),
        premises="; ".join(item.premises),
        goal=item.goal,
    )


def _params(cfg: DerivationConfig) -> SamplingParams:
    return SamplingParams(
        temperature=cfg.temperature,
        max_tokens=cfg.max_tokens,
        grammar=EQUATIONS_GRAMMAR,
        seed=cfg.seed if cfg.temperature > 0 else None,
    )


def write(state: DerivationState, runtime: Ctx) -> dict[str, Any]:
    """The model writes (or rewrites from the first problem on) the derivation; sympy checks every line."""
    cfg = runtime.context.config
    messages = state.get("messages") or [
        Message(role="user", content=write_prompt(state["item"], generate_item(cfg.example_seed)))
    ]
    (c,) = runtime.context.backend.generate([messages], _params(cfg))
    attempts = state.get("attempts", [])
    lines = parse_lines(c.text)
    if c.finish_reason == "length" and lines and not c.text.endswith("\n"):
        lines = lines[:-1]  # cut off by the token limit mid-line: unfinished, not a wrong step
    if attempts:  # after feedback: keep the lines before the first problem (all, if there is none)
        last = attempts[-1]
        keep = last.first_problem if last.first_problem >= 0 else len(last.lines)
        lines = [*last.lines[:keep], *lines]
    return {
        "messages": [*messages, Message(role="assistant", content=c.text)],
        "attempts": [*attempts, check_lines(state["item"], lines)],
    }


def _problem(item: DerivationItem, last: Attempt, k: int) -> str:
    """What is wrong with line k (0-based) of the last attempt, in the words the feedback uses."""
    judgement = last.judgements[k]
    if judgement.verdict == "irrelevant" and judgement.detail.startswith("repeats"):
        return f"{judgement.detail}: it does not move towards the goal."
    if judgement.verdict == "irrelevant":
        return "is an identity once the definitions are substituted: it does not move towards the goal."
    before = next(
        (last.lines[i] for i in range(k - 1, -1, -1) if last.judgements[i].verdict != "irrelevant"),
        item.premise,
    )
    return f'does not follow from "{before}": {judgement.detail or judgement.verdict}'


def feedback(state: DerivationState, runtime: Ctx) -> dict[str, Any]:
    """Send back the first line that is not a valid step, or ask to continue to the goal, or to write at all."""
    last = state["attempts"][-1]
    k = last.first_problem
    if not last.lines:
        text = EMPTY_PROMPT
    elif k < 0:
        text = UNFINISHED_PROMPT.format(goal=state["item"].goal)
    else:
        problem = _problem(state["item"], last, k)
        text = FEEDBACK_PROMPT.format(index=k + 1, line=last.lines[k], problem=problem)
    return {"messages": [*state["messages"], Message(role="user", content=text)]}


def route(state: DerivationState, runtime: Ctx) -> str:
    """Feed back while the derivation is not fully valid and rounds are left; else end."""
    attempts = state["attempts"]
    more = not attempts[-1].fully_valid and len(attempts) <= runtime.context.config.max_feedback
    return "feedback" if more else END
