"""sympy's evidence on one step of a solution, in the words the critic is told (reasoning/symbolic_steps.py decides).

An equation step is judged against the step before it (the first against the premise in `given[0]`),
with the definitions `given[1:]` substituted; a prose step by its arithmetic claims ("18 - 6 = 12").
What sympy found is said as it is: a step that follows, one that does not, and one that is an
identity once the definitions are substituted (always true, so not an error, but sympy did not check
that it follows from anything: it is not reported as following).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ratiocinator.errors import InvalidInput
from ratiocinator.reasoning.critique.steps import strip_step
from ratiocinator.reasoning.symbolic_steps import check_arithmetic, judge_step

#: what sympy checked on a step: the equation against the one before, that it is an identity, its arithmetic
SymbolicCheck = Literal["equation", "identity", "arithmetic"]


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """sympy's finding on one step: in words as the critic is told (`note`), its verdict, and what it checked."""

    note: str | None = None
    valid: bool | None = None  # None: no verdict (not symbolic, unreadable, or undecided)
    check: SymbolicCheck | None = None


NO_EVIDENCE = Evidence()


def symbolic_evidence(steps: Sequence[str], index: int, given: Sequence[str] = ()) -> Evidence:
    """sympy's finding on step `index` (0-based): its equation against the one before, else its arithmetic."""
    step = strip_step(steps[index])
    before = strip_step(steps[index - 1]) if index > 0 else (given[0] if given else None)
    if before is not None and "=" in step and "=" in before:
        found = _equation_evidence(before, step, index, given[1:])
        if found is not None:
            return found
    claims = check_arithmetic(step)
    if not claims:
        return NO_EVIDENCE
    words = "; ".join(f"{c} is {'correct' if ok else 'WRONG'}" for c, ok in claims)
    return Evidence(
        note=f"sympy checked the arithmetic of Step {index + 1}: {words}.",
        valid=all(ok for _, ok in claims),
        check="arithmetic",
    )


def _equation_evidence(
    before: str, step: str, index: int, definitions: Sequence[str]
) -> Evidence | None:
    """sympy's verdict on an equation step, or None when it reached none (then the arithmetic is checked)."""
    try:
        judgement = judge_step(before, step, definitions)
    except InvalidInput:  # a definition that is not `name = expression`
        return None
    n = index + 1
    if judgement.verdict == "valid":
        note = f"sympy: Step {n} follows from the previous equation ({judgement.detail})."
        return Evidence(note=note, valid=True, check="equation")
    if judgement.verdict == "invalid":
        note = f"sympy: Step {n} does NOT follow from the previous equation ({judgement.detail})."
        return Evidence(note=note, valid=False, check="equation")
    if judgement.verdict == "irrelevant":
        note = (
            f"sympy: Step {n} is an identity once the definitions are substituted (always true, so it "
            "carries nothing towards the goal); sympy did not check that it follows from the previous "
            "equation."
        )
        return Evidence(note=note, valid=True, check="identity")
    return None


def evidence_block(note: str | None) -> str:
    """The evidence as it goes into a prompt (nothing when sympy had no finding)."""
    return f"\n<Computer Algebra Check>\n{note}\n</Computer Algebra Check>\n" if note else ""
