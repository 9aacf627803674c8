"""The registry walk's case for `c-ip`: a four-animal guessing game, a truthful scorer and fixed thresholds."""

from __future__ import annotations

import re

from ratiocinator.agents.pursuit import DictAnswerer, Problem, PursuitTask, Sample, Thresholds
from ratiocinator.models.scripted import ScriptedBackend

LABELS = ("cat", "dog", "fish", "bird")
TRUTH = {
    "Does it swim?": {"cat": "No.", "dog": "No.", "fish": "Yes.", "bird": "No."},
    "Does it bark?": {"cat": "No.", "dog": "Yes.", "fish": "No.", "bird": "No."},
    "Does it fly?": {"cat": "No.", "dog": "No.", "fish": "No.", "bird": "Yes."},
}
PROBLEM = Problem(
    system="Guess the animal: cat, dog, fish or bird.", question="Which animal is it?", labels=LABELS
)
_LINE = re.compile(r"^\d+\. (.+\?) (Yes\.|No\.)$", re.M)


def answers(label: str) -> DictAnswerer:
    return DictAnswerer({q: a[label] for q, a in TRUTH.items()})


def make_input() -> PursuitTask:
    samples = tuple(Sample(problem=PROBLEM, label=y, answerer=answers(y)) for y in LABELS)
    return PursuitTask(problem=PROBLEM, queries=tuple(TRUTH), samples=samples, answerer=answers("bird"))


class TruthfulScorer(ScriptedBackend):
    """3 nats per answer of the history that a label's truth agrees with."""

    def score(self, prompt, continuations):  # type: ignore[override]
        history = _LINE.findall(prompt[-1]["content"])
        return [3.0 * sum(TRUTH[q][c] == a for q, a in history) for c in continuations]


def make_backend() -> ScriptedBackend:
    return TruthfulScorer(name="truthful-scorer")


def run_kwargs() -> dict:
    # q̂ = -0.5 at every length: a label is in the set when p >= 0.5 (C-IP needs calibrated thresholds)
    return {"thresholds": Thresholds(alpha=0.1, qhat=dict.fromkeys(range(4), -0.5))}


def check(result) -> None:
    assert result.prediction == "bird" and result.prediction_set == ("bird",)
    assert result.stop_reason == "single_label_set" and result.history[-1] == ("Does it fly?", "Yes.")
    assert result.verdict.status == "unverified" and "at 90% coverage" in result.verdict.reason
    assert result.usage.calls >= 2  # the posteriors were scored through the counting backend
