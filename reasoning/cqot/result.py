"""CQoT's result: the answer, the plan it follows, how that plan was accepted, every draft, and the shared Verdict and Usage."""

from __future__ import annotations

from dataclasses import dataclass, field

from ratiocinator.kit import MethodResult
from ratiocinator.reasoning.cqot.config import Acceptance


@dataclass(frozen=True, kw_only=True)
class Draft:
    """One drafted plan and its eight Yes/No answers."""

    plan: str
    answers: tuple[bool, ...]
    parsed: bool = True  # False: the reply did not parse and counts as eight "No" (the paper: "No" when in doubt)

    @property
    def yes(self) -> int:
        return sum(self.answers)


@dataclass(frozen=True, kw_only=True)
class CQoTResult(MethodResult):
    """The answer, the plan it follows, how that plan was accepted, and every draft on the way.

    The verdict is never `verified`: the critical questions are the model's own judgement of its plan,
    and nothing checks the answer. It is `unverified` when a draft passed them, `gave_up` when none
    did within `max_redrafts` (the answer then follows the last draft, as in the paper).
    """

    answer: str
    plan: str
    acceptance: Acceptance
    drafts: tuple[Draft, ...] = field(default_factory=tuple)

    @property
    def redrafts(self) -> int:
        return len(self.drafts) - 1

    def report(self) -> str:
        return f"{self.answer}\n({self.verdict})"
