"""DeepCritic's result: the last solution, its first wrong step, every critique round, and the shared Verdict and Usage."""

from __future__ import annotations

from dataclasses import dataclass, field

from ratiocinator.kit import MethodResult
from ratiocinator.reasoning.critique.evidence import SymbolicCheck
from ratiocinator.reasoning.critique.steps import format_solution


@dataclass(frozen=True, kw_only=True)
class StepCritique:
    """One step's critiques and judgements (1 correct, -1 wrong, 0 unparsed), sympy's evidence, the scored log-odds."""

    step: str
    critique: str
    initial: int
    second_look: str | None
    second: int | None
    final: int
    symbolic: str | None = None  # sympy's finding, in words, as the critic was told
    symbolic_valid: bool | None = None  # sympy's verdict, when it reached one
    symbolic_check: SymbolicCheck | None = None  # what sympy checked, when it reached a verdict
    critic: int | None = None  # the critic's own judgement, before sympy overrides it (symbolic_decides)
    log_odds: float | None = None  # scored: log P(incorrect) - log P(correct); surprise: its nats (None: text verdict)

    @property
    def merged(self) -> str:
        """The deliberate critique: the first look, then the second (the reference merges these with a model)."""
        if self.second_look is None:
            return self.critique
        return f"{self.critique}\n\nLet me verify this step once more.\n{self.second_look}"


@dataclass(frozen=True, kw_only=True)
class CritiqueRound:
    """One critique of one solution: the steps, each step's critique, the first wrong step (0-based, -1 none)."""

    steps: tuple[str, ...]
    critiques: tuple[StepCritique, ...]
    first_error: int


@dataclass(frozen=True, kw_only=True)
class CritiqueResult(MethodResult):
    """The last solution, its first wrong step (0-based, -1 none), and every round (the first critiques the given solution).

    The verdict is `verified` only where sympy proved what the critique says (the first wrong step is
    one sympy shows wrong, or every step is an equation sympy shows to follow); the reason names the
    steps sympy checked and those the critic judged alone. Otherwise it is `unverified` with the
    critic's finding in words, or `gave_up` when refinement ran out of rounds with a step still wrong.
    """

    steps: tuple[str, ...]
    first_error: int
    rounds: tuple[CritiqueRound, ...] = field(default_factory=tuple)

    @property
    def refined(self) -> bool:
        return len(self.rounds) > 1

    def report(self) -> str:
        finding = (
            f"First wrong step: Step {self.first_error + 1}."
            if self.first_error >= 0
            else "No step was judged wrong."
        )
        return f"{format_solution(self.steps)}\n{finding}\n({self.verdict})"
