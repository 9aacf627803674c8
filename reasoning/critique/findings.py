"""The verdict of a critique: verified only for what sympy proved (naming the steps), else the critic's finding in words.

- A wrong step found: `verified` when sympy shows that step wrong (the reason says which steps before
  it sympy showed to follow, and which the critic judged alone, so that an earlier error is not ruled
  out); else `unverified`, with the critic's reason and what sympy said of the step, if anything.
- No wrong step found: `verified` only when every step is an equation sympy shows to follow from the
  one before (or an identity); else `unverified`, naming the steps sympy checked (and how: an
  equation, or only the arithmetic) and any step where sympy disagrees with the critic.
- Refinement that ran out of rounds with a step still judged wrong: `gave_up`, with the above.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ratiocinator.kit import Verdict, gave_up, unverified, verified
from ratiocinator.reasoning.critique.result import CritiqueRound, StepCritique

_GIST_CHARS = 200


def critique_verdict(rounds: Sequence[CritiqueRound], *, max_refinements: int) -> Verdict:
    """The verdict on the last round (the solution the user reads)."""
    last = rounds[-1]
    if last.first_error < 0:
        return _no_error_verdict(last)
    verdict = _error_verdict(last, last.first_error)
    if max_refinements == 0:
        return verdict
    return gave_up(
        f"after {len(rounds) - 1} refinement(s) (max_refinements={max_refinements}) Step "
        f"{last.first_error + 1} is still judged wrong ({verdict.status}): {verdict.reason}"
    )


def _error_verdict(rnd: CritiqueRound, k: int) -> Verdict:
    c = rnd.critiques[k]
    if c.symbolic_valid is False:
        return verified(f"{c.symbolic} {_before(rnd.critiques[:k], k)}")
    finding = f"the critic judged Step {k + 1} wrong: {gist(c)}"
    if c.symbolic_valid is True:
        return unverified(f"{finding}; sympy disagrees: {c.symbolic}")
    return unverified(f"{finding}; no engine checked that judgement")


def _before(critiques: Sequence[StepCritique], k: int) -> str:
    """What is known of the steps before the first wrong one (0-based k)."""
    if k == 0:
        return "It is the first step."
    shown = [i for i, c in enumerate(critiques) if _proved(c)]
    alone = [i for i in range(k) if i not in shown]
    if not alone:
        return f"sympy showed that {_steps(shown)} before it {_verb(shown, 'follows', 'follow')}."
    said = f"sympy showed that {_steps(shown)} before it {_verb(shown, 'follows', 'follow')}; " if shown else ""
    return (
        f"{said}{_steps(alone)} before it {_verb(alone, 'was', 'were')} judged by the critic (sympy "
        "checked at most the arithmetic), so an earlier error is not ruled out."
    )


def _no_error_verdict(rnd: CritiqueRound) -> Verdict:
    cs = rnd.critiques
    if all(_proved(c) for c in cs):
        return verified(
            f"sympy showed that every step follows from the one before ({_steps(range(len(cs)))}); "
            "no step was judged wrong"
        )
    parts = ["the critic judged no step wrong"]
    wrong = [i for i, c in enumerate(cs) if c.symbolic_valid is False]
    parts += [f"sympy disagrees on Step {i + 1}: {cs[i].symbolic}" for i in wrong]
    proved = [i for i, c in enumerate(cs) if _proved(c)]
    arithmetic = [i for i, c in enumerate(cs) if c.symbolic_check == "arithmetic" and c.symbolic_valid]
    if proved:
        parts.append(f"sympy showed that {_steps(proved)} {_verb(proved, 'follows', 'follow')}")
    if arithmetic:
        parts.append(f"sympy confirmed only the arithmetic of {_steps(arithmetic)}")
    alone = [i for i, c in enumerate(cs) if c.symbolic_valid is None]
    if alone:
        parts.append(f"{_steps(alone)} {_verb(alone, 'was', 'were')} judged by the critic alone")
    return unverified("; ".join(parts))


def _proved(c: StepCritique) -> bool:
    """Whether sympy showed the step follows (an equation from the one before, or an identity)."""
    return c.symbolic_valid is True and c.symbolic_check in ("equation", "identity")


def _steps(indices: Sequence[int] | range) -> str:
    """0-based indices in words: "Step 2", "Steps 1, 2 and 4"."""
    names = [str(i + 1) for i in indices]
    if len(names) == 1:
        return f"Step {names[0]}"
    return f"Steps {', '.join(names[:-1])} and {names[-1]}"


def _verb(indices: Sequence[int], one: str, many: str) -> str:
    return one if len(indices) == 1 else many


def gist(c: StepCritique) -> str:
    """The critic's reason on a step, in a few words: the critique that decided, without its judgement line."""
    text = c.second_look if c.second_look is not None and c.second not in (None, 0) else c.critique
    text = re.split(r"\*\*Judgement\*\*|####|\\boxed", text, maxsplit=1)[0]
    text = re.sub(r"\*\*Critique[^*]*\*\*:?", "", text)
    text = " ".join(text.split())
    if len(text) > _GIST_CHARS:
        text = text[: _GIST_CHARS - 1].rstrip() + "…"
    return text or "(no reason given)"
