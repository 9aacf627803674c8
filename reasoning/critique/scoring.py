"""The scored verdict (issue 21): a step is judged by the model's log-odds of "incorrect" over "correct", and the decision rules on them.

A 0.5B critic asked to write its judgement copies the prompt and calls almost every step correct. Here
the verdict is read from its scores instead: one shared prompt (the problem, the solution, sympy's
evidence for the step, optionally the model's own short check of the step, then the question) and
two short continuations after the cue "Step i is": " correct" and " incorrect" (`Backend.score`).
The log-odds log P(incorrect) - log P(correct) above a threshold make the step incorrect; the first
step judged incorrect is the first error (ProcessBench's label, -1 if none). The threshold is
calibrated on held-in items by `calibrate_threshold` (the harmonic mean of the accuracies on
erroneous and on correct solutions, as ProcessBench reports them). `combined_marks` takes sympy's
verdict where it has one and the model's elsewhere.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from ratiocinator.models.types import Message
from ratiocinator.reasoning.critique.prompts import (
    SCORED_CHECK,
    SCORED_CONTEXT,
    SCORED_QUESTION,
    SCORED_SYSTEM,
    VERDICT_CUE,
)

#: the two alternatives, scored after the cue (correct first)
VERDICTS = ("correct", "incorrect")


def check_conversation(problem: str, solution: str, index: int, evidence: str) -> list[Message]:
    """The prompt of a step's short check (1-based `index`): the shared context, then the request."""
    context = SCORED_CONTEXT.format(problem=problem, solution=solution, evidence=evidence)
    return [
        Message(role="system", content=SCORED_SYSTEM),
        Message(role="user", content=f"{context}\n{SCORED_CHECK.format(index=index)}"),
    ]


def verdict_conversation(
    problem: str, solution: str, index: int, evidence: str, check: str | None
) -> list[Message]:
    """The prompt the verdict is scored on: after the model's check of the step if there is one, else the question alone."""
    if check is None:
        context = SCORED_CONTEXT.format(problem=problem, solution=solution, evidence=evidence)
        question = SCORED_QUESTION.format(index=index)
        return [
            Message(role="system", content=SCORED_SYSTEM),
            Message(role="user", content=f"{context}\n{question}"),
        ]
    return [
        *check_conversation(problem, solution, index, evidence),
        Message(role="assistant", content=check),
        Message(role="user", content=SCORED_QUESTION.format(index=index)),
    ]


def continuations(index: int) -> list[str]:
    """The two scored continuations of step `index` (1-based): the cue, then each verdict."""
    cue = VERDICT_CUE.format(index=index)
    return [f"{cue} {v}" for v in VERDICTS]


def log_odds(backend: object, prompt: list[Message], index: int) -> float:
    """log P(incorrect) - log P(correct) of step `index` (1-based) after `prompt` (one shared prompt, two continuations)."""
    correct, incorrect = backend.score(prompt, continuations(index))  # type: ignore[attr-defined]
    return float(incorrect - correct)


def decide(odds: float, threshold: float) -> int:
    """The scored judgement: -1 (incorrect) when the log-odds exceed the threshold, else 1."""
    return -1 if odds > threshold else 1


def first_error(marks: Sequence[int | None]) -> int:
    """The first step judged -1 (0-based), or -1 when none is."""
    return next((i for i, m in enumerate(marks) if m == -1), -1)


def combined_marks(model: Sequence[int], symbolic: Sequence[bool | None]) -> list[int]:
    """sympy's verdict where it has one, the model's judgement elsewhere."""
    return [m if v is None else (1 if v else -1) for m, v in zip(model, symbolic, strict=True)]


def harmonic_mean(a: float, b: float) -> float:
    """ProcessBench's F1: the harmonic mean of the accuracies on erroneous and on correct solutions (0 if either is 0)."""
    return 0.0 if a <= 0 or b <= 0 else 2 * a * b / (a + b)


def processbench_f1(predicted: Sequence[int], labels: Sequence[int]) -> tuple[float, float, float]:
    """(accuracy on erroneous, accuracy on correct, their harmonic mean) of predicted first errors; nan where a kind is absent."""
    wrong = [p == lab for p, lab in zip(predicted, labels, strict=True) if lab >= 0]
    right = [p == lab for p, lab in zip(predicted, labels, strict=True) if lab < 0]
    acc_e = sum(wrong) / len(wrong) if wrong else math.nan
    acc_c = sum(right) / len(right) if right else math.nan
    both = math.nan if math.isnan(acc_e) or math.isnan(acc_c) else harmonic_mean(acc_e, acc_c)
    return acc_e, acc_c, both


def calibrate_threshold(
    odds: Sequence[Sequence[float]],
    labels: Sequence[int],
    symbolic: Sequence[Sequence[bool | None]] | None = None,
) -> tuple[float, float]:
    """The threshold with the best harmonic mean on held-in items, and that mean.

    `odds[k]` are item k's per-step log-odds, `labels[k]` its first wrong step (-1 none); with
    `symbolic`, the rule calibrated is the combined one (sympy's verdict where it has one). The
    candidates are the midpoints between neighbouring log-odds (and one beyond each end); among
    equally good ones the middle of the best run is taken, so that the margin is largest.
    """
    values = sorted({o for row in odds for o in row})
    if not values:
        return 0.0, math.nan
    cuts = [values[0] - 1.0] + [(a + b) / 2 for a, b in itertools.pairwise(values)] + [values[-1] + 1.0]
    scores = [_f1_at(t, odds, labels, symbolic) for t in cuts]
    best = max(scores)
    ties = [t for t, s in zip(cuts, scores, strict=True) if s == best]
    return ties[len(ties) // 2], best


def _f1_at(
    t: float,
    odds: Sequence[Sequence[float]],
    labels: Sequence[int],
    symbolic: Sequence[Sequence[bool | None]] | None,
) -> float:
    predicted = []
    for k, row in enumerate(odds):
        marks = [decide(o, t) for o in row]
        if symbolic is not None:
            marks = combined_marks(marks, symbolic[k])
        predicted.append(first_error(marks))
    f1 = processbench_f1(predicted, labels)[2]
    return -1.0 if math.isnan(f1) else f1
