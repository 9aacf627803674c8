"""sympy's check of a written derivation: each line against the previous relevant one (the first against the premise).

Error kinds (counted per line, as the paper names them):
- wrong equation: the line is not shown to follow from the one before (sympy: invalid, unreadable or
  undecided);
- irrelevant equation: an identity once the definitions are substituted (it restates a definition),
  or a repeat of the premise or of an earlier line (it follows, trivially, and moves nowhere);
- skipped step: the model wrote fewer lines than the known derivation has operations, so some line
  applied several at once (counted once per missing step).
A derivation is fully valid when every line follows and the last one states the goal (its two sides
equal the goal's up to algebra).
"""

from __future__ import annotations

from collections.abc import Sequence

from ratiocinator.reasoning.derivation.result import Attempt
from ratiocinator.reasoning.symbolic_steps import (
    DerivationItem,
    StepJudgement,
    judge_step,
    same_equation,
)


def parse_lines(text: str) -> list[str]:
    """The equations of a reply: its non-empty lines with an "=" in them."""
    return [line.strip() for line in text.splitlines() if line.strip() and "=" in line]


def canonical(line: str) -> str:
    """A line without its spaces: two lines that differ only in spacing are one line (a repeat)."""
    return "".join(line.split())


def check_lines(item: DerivationItem, lines: Sequence[str]) -> Attempt:
    """sympy's verdict on each line (against the previous relevant line, the first against the premise)."""
    judgements = []
    before = item.premise
    seen = {canonical(item.premise): "the premise"}
    for i, line in enumerate(lines):
        earlier = seen.get(canonical(line))
        if earlier is not None:  # a repeat follows from itself, trivially: not a step
            judgements.append(StepJudgement(verdict="irrelevant", detail=f"repeats {earlier}"))
            continue
        seen[canonical(line)] = f"line {i + 1}"
        judgements.append(judge_step(before, line, item.definitions))
        # the chain goes on from the last line that says something
        if judgements[-1].verdict != "irrelevant":
            before = line
    reaches = bool(lines) and same_equation(lines[-1], item.goal)
    skipped = max(0, len(item.operations) - len(lines)) if lines else len(item.operations)
    return Attempt(
        lines=tuple(lines), judgements=tuple(judgements), reaches_goal=reaches, skipped=skipped
    )
