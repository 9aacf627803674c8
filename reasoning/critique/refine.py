"""Refinement from the first error (refine_from="error"): the correct steps kept in code, the rest rewritten and checked.

In the paper's refinement the model rewrites the whole solution after the critique of its first wrong step.
On the core suite's Mr-GSM8K items the 0.5B's rewrites repeated the solution word for word in 5 of the 8
items it refined, and no rewrite changed an answer (BENCHMARKS-suite.md, "mr-gsm8k-refine"). Here the steps
before the first error stay as they are, in code; the model sees them, the wrong step and its critique, and
writes that step again and the steps after it (REFINE_FROM_ERROR_PROMPT); what it writes past an echo of the
prompt is cut off, and steps it numbers before the wrong one (starting again from Step 1) are dropped. A
rewrite is drawn again (seeded, at `refine_temperature`, up to `refine_draws` draws in all) when its first
step begins with the wrong one or sympy refutes an arithmetic claim in it (reasoning/symbolic_steps.check_arithmetic); when no draw passes,
the first is kept. The critique that follows judges the new steps as it judged the first ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ratiocinator.models.types import Message, SamplingParams
from ratiocinator.reasoning.critique.config import DeepCriticConfig
from ratiocinator.reasoning.critique.prompts import REFINE_FROM_ERROR_PROMPT
from ratiocinator.reasoning.critique.steps import (
    format_solution,
    numbered_steps,
    parse_steps,
    strip_step,
)
from ratiocinator.reasoning.symbolic_steps import check_arithmetic


def refine_prompt(problem: str, steps: Sequence[str], k: int, critique: str) -> str:
    """The request to rewrite from step k (0-based) on, the steps before it shown as correct."""
    kept = format_solution(steps[:k]) if k else "(none: the first step is the wrong one)"
    return REFINE_FROM_ERROR_PROMPT.format(problem=problem, kept=kept, index=k + 1, wrong=strip_step(steps[k]),
                                           critique=critique)


#: where a small model's rewrite starts echoing the prompt back (the rest of that step is cut off there)
ECHOES = ("The next step was written as", "A careful check found", "**Critique", "Critique of Step",
          "The solution so far")


def rewritten_steps(text: str, k: int) -> list[str]:
    """The steps of a rewrite from step k (0-based) on: echoes of the prompt cut off, and steps numbered before
    k + 1 (the model starting again from Step 1) dropped, since the kept steps stay as they were."""
    numbered = numbered_steps(text)
    pieces = [(n, s) for n, s in numbered if n > k] or numbered or [(0, s) for s in parse_steps(text)]
    steps = []
    for _, s in pieces:
        cut = min((i for i in (s.find(e) for e in ECHOES) if i >= 0), default=len(s))
        if s[:cut].strip():
            steps.append(s[:cut].strip())
    return steps


def _plain(text: str) -> str:
    return " ".join(strip_step(text).split())


def rewrite_problem(wrong: str, rewrite: list[str]) -> str | None:
    """Why a rewrite (its steps from the wrong one on) is drawn again, or None when it is taken."""
    if not rewrite:
        return "no step"
    first = strip_step(rewrite[0])
    if _plain(first).startswith(_plain(wrong)):
        return "repeats the wrong step"
    refuted = [claim for claim, ok in check_arithmetic(first) if not ok]
    return f"sympy refutes {refuted[0]}" if refuted else None


def refine_from_error(backend: Any, cfg: DeepCriticConfig, problem: str, steps: Sequence[str], k: int,
                      critique: str, max_tokens: int) -> list[str]:
    """The solution with steps[:k] kept and the model's checked rewrite from step k on."""
    messages = [Message(role="user", content=refine_prompt(problem, steps, k, critique))]
    first: list[str] | None = None
    for draw in range(cfg.refine_draws):
        params = SamplingParams(temperature=0.0, max_tokens=max_tokens) if draw == 0 else SamplingParams(
            temperature=cfg.refine_temperature, max_tokens=max_tokens, seed=cfg.seed + draw)
        (c,) = backend.generate([messages], params)
        rewrite = rewritten_steps(c.text, k)
        first = rewrite if first is None else first
        if rewrite_problem(steps[k], rewrite) is None:
            return [*steps[:k], *rewrite]
    return [*steps[:k], *(first or steps[k:])]
