"""The derivation loop's result: every attempt with sympy's verdict per line, and the shared Verdict and Usage."""

from __future__ import annotations

from dataclasses import dataclass, field

from ratiocinator.kit import MethodResult
from ratiocinator.reasoning.symbolic_steps import StepJudgement

#: sympy's verdicts that make a line a wrong equation (it is not shown to follow)
WRONG = ("invalid", "unparsed", "unknown")


@dataclass(frozen=True, kw_only=True)
class Attempt:
    """One written derivation, sympy's verdict per line, and the error counts."""

    lines: tuple[str, ...]
    judgements: tuple[StepJudgement, ...]
    reaches_goal: bool
    skipped: int

    @property
    def first_invalid(self) -> int:
        """0-based index of the first line that does not follow (wrong or unreadable), -1 if none."""
        return next((i for i, j in enumerate(self.judgements) if j.verdict in WRONG), -1)

    @property
    def first_problem(self) -> int:
        """0-based index of the first line that is not a valid step (wrong or irrelevant), -1 if none."""
        return next((i for i, j in enumerate(self.judgements) if j.verdict != "valid"), -1)

    @property
    def wrong(self) -> int:
        return sum(j.verdict in WRONG for j in self.judgements)

    @property
    def irrelevant(self) -> int:
        return sum(j.verdict == "irrelevant" for j in self.judgements)

    @property
    def fully_valid(self) -> bool:
        return (
            bool(self.lines)
            and all(j.verdict == "valid" for j in self.judgements)
            and self.reaches_goal
        )

    @property
    def complete(self) -> bool:
        """Fully valid and no step skipped: none of the three error kinds the paper names (wrong, irrelevant,
        skipped). A line that jumps to the goal follows (sympy), but applies several operations at once."""
        return self.fully_valid and self.skipped == 0


@dataclass(frozen=True, kw_only=True)
class DerivationResult(MethodResult):
    """Every attempt (the first before any feedback), and whether the last is fully valid.

    The verdict is `verified` when sympy showed every line of the last attempt to follow from the one
    before (the first from the premise, given the definitions) and the last line states the goal;
    `failed` when the model wrote no equation; else `gave_up` (the feedback rounds ran out), saying
    which line does not follow, or that the goal was not reached.
    """

    attempts: tuple[Attempt, ...] = field(default_factory=tuple)

    @property
    def fully_valid(self) -> bool:
        return self.attempts[-1].fully_valid

    @property
    def lines(self) -> tuple[str, ...]:
        """The last attempt's derivation, one equation per line."""
        return self.attempts[-1].lines

    def report(self) -> str:
        derivation = "\n".join(self.lines) or "(no equation)"
        return f"{derivation}\n({self.verdict})"
