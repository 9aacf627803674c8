"""Conformal information pursuit's result: the prediction, its prediction set, the questions asked, the per-step trace, Verdict and Usage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ratiocinator.agents.pursuit.types import History
from ratiocinator.kit import MethodResult, Verdict, gave_up, unverified

#: why a pursuit stopped: its config asks nothing, the question budget is spent, the prediction set
#: is one label, or every query of the bank has been asked
StopReason = Literal["direct_prediction", "budget_spent", "single_label_set", "no_query_left"]

_NOT_CHECKED = (
    "a coverage statement over cases drawn like the calibration ones; this case's label was not "
    "checked"
)


@dataclass(frozen=True, kw_only=True)
class PursuitResult(MethodResult):
    """The outcome of one pursuit: the final prediction and set, the questions asked, the per-step trace.

    The verdict is never `verified`: a conformal guarantee is a statement about coverage over cases
    drawn like the calibration ones, not a check of this case. It is `unverified` with the set's size
    and coverage in words, `gave_up` when the questions ran out before the set was a single label.
    `coverage` is 1-α when the run had calibrated thresholds, else None (and `prediction_set` empty).
    """

    prediction: str
    prediction_set: tuple[str, ...]
    history: History
    probs: tuple[float, ...]
    stop_reason: StopReason
    coverage: float | None = None
    trace: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    @property
    def questions(self) -> int:
        """How many questions were asked."""
        return len(self.history)

    def prediction_after(self, k: int) -> str:
        """The prediction after k questions (the final one when the pursuit stopped earlier)."""
        return self.trace[min(k, len(self.trace) - 1)]["prediction"]

    def report(self) -> str:
        asked = "".join(f"\n  {q} {a}" for q, a in self.history)
        labels = ", ".join(self.prediction_set) or "empty"
        shown = f"; prediction set: {labels}" if self.coverage is not None else ""
        return (
            f"{self.prediction}{shown}; {self.questions} question(s){':' if asked else ''}{asked}\n"
            f"({self.verdict})"
        )


def _percent(coverage: float) -> str:
    return f"{round(coverage * 100, 4):g}%"


def _after(questions: int) -> str:
    return f"after {questions} question{'' if questions == 1 else 's'}"


def _set_words(size: int) -> str:
    if size == 0:
        return "an empty prediction set"
    return f"prediction set of {size} label{'' if size == 1 else 's'}"


def pursuit_verdict(
    *, stop_reason: StopReason, set_size: int, questions: int, coverage: float | None, p_top: float
) -> Verdict:
    """The verdict in words: the set's size and coverage after so many questions, or why the pursuit gave up."""
    if coverage is None:
        return unverified(
            f"the most probable label (p = {p_top:.2f}) {_after(questions)}; without calibrated "
            "thresholds there is no prediction set and no coverage statement; the label was not checked"
        )
    said = f"{_set_words(set_size)} at {_percent(coverage)} coverage {_after(questions)}"
    if set_size == 1 or stop_reason in ("direct_prediction", "single_label_set"):
        return unverified(f"{said} ({_NOT_CHECKED})")
    why = (
        "the question budget ran out"
        if stop_reason == "budget_spent"
        else "every query of the bank was asked"
    )
    return gave_up(
        f"{why} before the prediction set was a single label: {said}; the prediction is the most "
        f"probable label ({_NOT_CHECKED})"
    )
