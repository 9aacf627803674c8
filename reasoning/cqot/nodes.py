"""CQoT's nodes: plan (sample a reasoning plan), assess (eight critical questions under a schema), answer (follow the plan).

Each node is a function of the graph's state and the LangGraph runtime, whose context carries the
backend and the CQoTConfig (see kit/context.py).
"""

from __future__ import annotations

from typing import Any, TypedDict

from langgraph.runtime import Runtime

from ratiocinator.errors import ModelOutputError
from ratiocinator.kit import MethodContext
from ratiocinator.models.types import Message, SamplingParams
from ratiocinator.reasoning.cqot.config import Acceptance, CQoTConfig
from ratiocinator.reasoning.cqot.prompts import (
    ANSWER_SYSTEM,
    ASSESS_REMINDER,
    ASSESS_SYSTEM,
    CRITICAL_QUESTIONS,
    PLAN_REMINDER,
    PLAN_SYSTEM,
    CriticalAnswers,
)
from ratiocinator.reasoning.cqot.result import Draft

Ctx = Runtime[MethodContext[CQoTConfig]]


class CQoTState(TypedDict, total=False):
    """The graph's state: the question, the current plan, the drafts so far, the acceptance and the answer."""

    question: str
    plan: str
    drafts: list[Draft]
    acceptance: Acceptance | None
    answer: str


def _ask(runtime: Ctx, messages: list[Message], params: SamplingParams) -> Any:
    (completion,) = runtime.context.backend.generate([messages], params)
    return completion


def plan(state: CQoTState, runtime: Ctx) -> dict[str, Any]:
    """Sample a step-wise reasoning plan without the final answer (draft k with seed + k)."""
    cfg = runtime.context.config
    params = SamplingParams(
        temperature=cfg.plan_temperature,
        top_p=cfg.top_p,
        max_tokens=cfg.plan_max_tokens,
        seed=cfg.seed + len(state.get("drafts", [])),
    )
    messages = [
        Message(role="system", content=PLAN_SYSTEM),
        Message(role="user", content=state["question"] + PLAN_REMINDER),
    ]
    return {"plan": _ask(runtime, messages, params).text.strip()}


def assess(state: CQoTState, runtime: Ctx) -> dict[str, Any]:
    """Answer the eight critical questions about the plan (JSON schema), record the draft, decide."""
    cfg = runtime.context.config
    drafts = list(state.get("drafts", []))
    params = SamplingParams(
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        max_tokens=cfg.assess_max_tokens,
        seed=cfg.seed + len(drafts),
        schema=CriticalAnswers,
    )
    messages = [
        Message(role="system", content=ASSESS_SYSTEM),
        Message(role="assistant", content=state["plan"]),
        Message(role="user", content=state["question"] + ASSESS_REMINDER),
    ]
    completion = _ask(runtime, messages, params)
    try:
        answers, parsed = completion.parsed(CriticalAnswers).as_tuple(), True
    except ModelOutputError:  # cut off at max_tokens, or a backend that ignores the schema
        answers, parsed = (False,) * len(CRITICAL_QUESTIONS), False
    drafts.append(Draft(plan=state["plan"], answers=answers, parsed=parsed))
    return {"drafts": drafts, "acceptance": cfg.accepts(sum(answers), len(drafts) - 1)}


def answer(state: CQoTState, runtime: Ctx) -> dict[str, Any]:
    """Answer the question by strictly following the accepted plan."""
    cfg = runtime.context.config
    params = SamplingParams(
        temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.answer_max_tokens, seed=cfg.seed
    )
    messages = [
        Message(role="system", content=ANSWER_SYSTEM),
        Message(role="assistant", content=state["plan"]),
        Message(role="user", content=state["question"]),
    ]
    return {"answer": _ask(runtime, messages, params).text.strip()}


def after_assess(state: CQoTState) -> str:
    """Redraft until a plan is accepted (or the last one is taken), then answer."""
    return "plan" if state.get("acceptance") is None else "answer"
