"""LLM+P's result: the plan, its English, the selected translation, every translation with what the checks made of it; the shared Verdict and Usage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ratiocinator.kit import MethodResult

#: what the checks made of one translation (the planner's statuses where it failed, snake_case as everywhere)
TranslationStatus = Literal[
    "solved",
    "truncated",
    "parse_error",
    "wrong_objects",
    "incomplete",
    "unsolvable",
    "not_found",
    "timeout",
    "planner_error",
    "contradiction",  # stepwise: two facts give a function-like predicate two values
    "goal_holds",  # stepwise: the goal already holds at the start
]


@dataclass(frozen=True, kw_only=True)
class Translation:
    """One model translation of the problem and what the checks made of it."""

    chain: int  # which of the k translations
    round: int  # 0 = first attempt, r = after r rounds of feedback
    pddl: str
    status: TranslationStatus
    message: str = ""  # the error shown to the model (empty when solved)
    plan: tuple[str, ...] | None = None
    cost: float | None = None
    planner: str = ""
    optimal: bool = False
    key: str | None = None  # the parsed init and goal facts, for agreement between translations
    repairs: tuple[str, ...] = ()  # sound rewrites made before parsing (agents/llmp/repair.py)
    #: stepwise: checks still failing when the feedback rounds ran out (the translation was planned anyway)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Piece:
    """One small decision of the stepwise translation: the objects, or the facts of one sentence."""

    index: int  # the sentence's index; -1 for the objects step
    text: str  # the sentence (or "objects")
    goal: bool
    round: int  # 0 = first ask, r = after r rounds of checks
    answer: str  # what the model wrote (the greedy answer when it voted)
    facts: tuple[str, ...]  # the facts kept (the majority when it voted); objects: `name - type`
    confidence: float  # the lowest log-probability of a token of the greedy answer (0.0 unknown)
    votes: int = 0  # samples drawn and voted over (0: the greedy answer stands)
    feedback: str = ""  # the error this answer was asked to correct
    #: objects: corrections by the text's names and counts (grounding.py); facts: completions by the
    #: example's symmetric, converse and irreflexive predicates (relations.py)
    repairs: tuple[str, ...] = ()
    program: str = ""  # the program the model wrote for a sentence of many facts (programs.py)
    program_error: str = ""  # why its facts were not kept ('' when they were, or no program)
    analogy: str = ""  # the example sentence whose facts were renamed for this one ('' : the model's answer)


@dataclass(frozen=True, kw_only=True)
class LLMPResult(MethodResult):
    """What `plan_from_text` returns: the plan, its English, and how it was checked.

    The verdict is `verified` when a plan passed unified-planning's validator for the selected
    translation: valid for the problem as translated, while the translation itself was not checked
    against the text. It is `failed` when no translation could be planned (`plan` is None).
    """

    domain: str
    plan: tuple[str, ...] | None
    explanation: str
    problem_pddl: str | None  # the selected translation
    cost: float | None
    optimal: bool
    planner: str
    agreement: float  # share of solved translations with the selected goal state
    translations: tuple[Translation, ...] = field(default_factory=tuple)
    pieces: tuple[Piece, ...] = field(default_factory=tuple)  # stepwise: every small decision
    message: str

    def report(self) -> str:
        """The plan, its English, the verdict, then the problem as translated (what the verdict speaks of)."""
        if self.plan is None:
            return f"no plan\n({self.verdict})"
        steps = "\n".join(self.plan)
        return f"{steps}\n\n{self.explanation}\n({self.verdict})\nProblem as translated:\n{self.problem_pddl}"
