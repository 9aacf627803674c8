"""The surprise verdict (issue 21): a step is judged by how strongly the model, writing the solution itself, would have put other numbers in it.

The solution is read as the model's own answer to the problem (one `Backend.score_tokens` pass, each
step a piece). At every token of a step that holds a digit, the model's top choice is compared with
what the solution wrote: the step's surprise is the largest gap, log P(top) - log P(written), in nats
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
    """The steps as the model's answer writes them, one piece per step ("Step i: ...", a newline before each but the first)."""
    return [("\n" if i else "") + f"Step {i + 1}: {strip_step(s)}" for i, s in enumerate(steps)]


def surprise_conversation(problem: str) -> list[Message]:
    """The prompt the solution is read after: the problem, asked to be solved step by step."""
    return [
        Message(role="system", content=SURPRISE_SYSTEM),
        Message(role="user", content=SURPRISE_REQUEST.format(problem=problem)),
    ]


def step_surprise(tokens: Sequence[TokenLogprob]) -> float:
    """The largest gap log P(top choice) - log P(written token) over the step's tokens that hold a digit (0 if none)."""
    gaps = [t.top[0][1] - t.logprob for t in tokens if t.top and any(c.isdigit() for c in t.token)]
    return max(0.0, *gaps) if gaps else 0.0


def surprises(backend: object, problem: str, steps: Sequence[str]) -> list[float]:
    """Every step's surprise, from one pass over the problem and the whole solution."""
    pieces = backend.score_tokens(surprise_conversation(problem), solution_pieces(steps))  # type: ignore[attr-defined]
    return [step_surprise(p) for p in pieces]
