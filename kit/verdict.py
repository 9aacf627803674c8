"""The one verdict of every method's result: verified | unverified | failed | gave_up, with a reason in words.

- verified: an exact engine checked what the user reads (a plan validated, an optimum re-checked, a
  derivation step proved); the reason says what exactly was checked and what was not.
- unverified: the method produced an answer that nothing checked (the model's word, or a check that
  could not decide).
- failed: the method produced no usable answer (every attempt was wrong, the engine errored).
- gave_up: the method stopped by its own rule before an answer it could stand behind (a limit of
  rounds, steps or time, or a "give up" decision), and says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from ratiocinator.errors import InvalidInput

VerdictStatus = Literal["verified", "unverified", "failed", "gave_up"]
STATUSES: tuple[str, ...] = get_args(VerdictStatus)


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """How far the result can be trusted (`status`) and why, in a sentence a user reads correctly (`reason`)."""

    status: VerdictStatus
    reason: str

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise InvalidInput(f"Verdict.status: expected one of {', '.join(STATUSES)}, got {self.status!r}")
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise InvalidInput(f"Verdict.reason: expected a sentence saying why, got {self.reason!r}")

    @property
    def verified(self) -> bool:
        return self.status == "verified"

    def __str__(self) -> str:
        return f"{self.status.replace('_', ' ')}: {self.reason}"

    def to_json(self) -> dict[str, str]:
        return {"status": self.status, "reason": self.reason}


def verified(reason: str) -> Verdict:
    return Verdict(status="verified", reason=reason)


def unverified(reason: str) -> Verdict:
    return Verdict(status="unverified", reason=reason)


def failed(reason: str) -> Verdict:
    return Verdict(status="failed", reason=reason)


def gave_up(reason: str) -> Verdict:
    return Verdict(status="gave_up", reason=reason)
