"""The surprise verdict (issue 21): a step is judged by how strongly the model, writing the solution itself, would have put other numbers in it.

The solution is read as the model's own answer to the problem (one `Backend.score_tokens` pass, each
step's label and text pieces of it). At every token of a step that holds a digit, the model's top
choice is compared with what the solution wrote: the step's surprise is the largest gap, log P(top) - log P(written), in nats
(0 when the model would have written the same numbers). A slip of arithmetic or a misread quantity is
a number the model, having read the steps before, confidently expected to be different; phrasing
that differs from the model's own is not counted. The step is judged incorrect when its surprise
exceeds a threshold calibrated on held-in items (`scoring.calibrate_threshold`, the same rule as for
the scored log-odds). Cost: one prompt of problem + solution per solution, no generation.

Why by hand: token-level surprise as an error signal is what process-reward work measures with
trained verifiers; no library computes it over an arbitrary backend, and the rule is a few lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from ratiocinator.models.types import Message, TokenLogprob
from ratiocinator.reasoning.critique.prompts import SURPRISE_REQUEST, SURPRISE_SYSTEM
from ratiocinator.reasoning.critique.steps import strip_step


def solution_pieces(steps: Sequence[str]) -> list[str]:
    """The steps as the model's answer writes them, two pieces per step: its label ("Step i:", a newline
    before each but the first) and its text (" ..."); only the text is judged."""
    out = []
    for i, s in enumerate(steps):
        out += [("\n" if i else "") + f"Step {i + 1}:", f" {strip_step(s)}"]
    return out


def surprise_conversation(problem: str) -> list[Message]:
    """The prompt the solution is read after: the problem, asked to be solved step by step."""
    return [
        Message(role="system", content=SURPRISE_SYSTEM),
        Message(role="user", content=SURPRISE_REQUEST.format(problem=problem)),
    ]


def _gap(t: TokenLogprob) -> float:
    return t.top[0][1] - t.logprob if t.top and any(c.isdigit() for c in t.token) else 0.0


def step_surprise(tokens: Sequence[TokenLogprob]) -> float:
    """The largest gap log P(top choice) - log P(written token) over the step's tokens that hold a digit (0 if none)."""
    return max((max(0.0, _gap(t)) for t in tokens), default=0.0)


def surprise_note(tokens: Sequence[TokenLogprob], index: int) -> str:
    """In words, the step's most surprising token and what the model would have written there ("" when none)."""
    worst = max(tokens, key=_gap, default=None)
    if worst is None or _gap(worst) <= 0.0:
        return ""
    return (
        f"reading the solution as its own answer, the model would have written {worst.top[0][0].strip()!r} "
        f"where Step {index} has {worst.token.strip()!r} ({_gap(worst):.1f} nats less likely)"
    )


def surprises(backend: object, problem: str, steps: Sequence[str]) -> list[tuple[float, str]]:
    """Every step's surprise and its note (`surprise_note`, 1-based steps), from one pass over the problem and the whole solution."""
    pieces = backend.score_tokens(surprise_conversation(problem), solution_pieces(steps))  # type: ignore[attr-defined]
    texts = pieces[1::2]  # the steps' labels ("Step i:") are not judged
    return [(step_surprise(p), surprise_note(p, i)) for i, p in enumerate(texts, 1)]
