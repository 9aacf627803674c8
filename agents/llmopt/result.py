"""LLMOPT's result: the chosen optimum, the formulation it solves, every attempt behind it, and the shared Verdict and Usage.

`Attempt` is one formulation the model wrote and what the engine made of it; the nodes make attempts,
answer.py picks among them, and the result holds them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.agents.llmopt.prompts import compact
from ratiocinator.kit import MethodResult
from ratiocinator.solvers.faithfulness import TextCheck
from ratiocinator.solvers.formulation import Formulation

#: what the engine made of one formulation (ok: built, solved to optimality, re-checked, and nothing in
#: the problem text contradicts it; unfaithful: all that, but it does not match the text)
AttemptStatus = Literal[
    "ok", "truncated", "build_error", "infeasible", "unbounded", "timeout", "implausible", "unfaithful", "error"
]


class Attempt(BaseModel):
    """One formulation written by the model and what the engine made of it."""

    model_config = ConfigDict(frozen=True)

    sample: int
    round: int
    formulation: str
    status: AttemptStatus
    objective: float | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    verified: bool = False
    feedback: str = ""
    #: the formulation and its answer compared with the problem text (solvers.faithfulness), once solved
    text_check: TextCheck | None = None

    @property
    def executed(self) -> bool:
        """A model was built and solved to a value (LLMOPT's execution rate counts these)."""
        return self.objective is not None


@dataclass(frozen=True, kw_only=True)
class LLMOPTResult(MethodResult):
    """The chosen optimum, the formulation it solves, and every attempt behind it.

    The verdict is `verified` when the chosen optimum was re-checked against its formulation (the
    objective and every constraint recomputed from the values) and nothing in the text contradicts
    the formulation; its reason says how far the formulation was compared with the text: "checked
    against every constraint of your text" when the text states its whole problem in symbols and
    every part matched, else "the formulation itself was not checked against your text" (beyond its
    numbers and the formulas it states). `unverified` when the optimum was not confirmed or the
    formulation does not match the text (a stated constraint missing, another objective, a number
    used nowhere); `failed` when none built and solved, or when the answer breaks a constraint the
    text states (named in the reason).
    """

    problem: str
    objective: float | None
    sense: Literal["minimize", "maximize"] | None = None
    values: dict[str, Any] = field(default_factory=dict)
    formulation: Formulation | None = None
    answer: str
    agreement: int = 0
    samples: int
    rounds: int = 0
    executed: bool = False
    initial_objective: float | None = None
    initial_executed: bool = False
    attempts: tuple[tuple[Attempt, ...], ...] = ()

    def report(self) -> str:
        """The answer, the verdict, then the formulation the verdict speaks of."""
        text = f"{self.answer}\n({self.verdict})"
        if self.formulation is not None:
            text += "\nFormulation: " + compact(
                self.formulation.model_dump(mode="json", exclude_defaults=True)
            )
        return text
