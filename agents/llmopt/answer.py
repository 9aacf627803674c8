"""How LLMOPT picks among its formulations (agreement of optimal values) and says the answer in English."""

from __future__ import annotations

import math

from ratiocinator.agents.llmopt.result import Attempt

__all__ = ["agree", "english", "select"]


def agree(a: float, b: float, tolerance: float) -> bool:
    """Two optimal values agree within a relative tolerance (absolute near zero)."""
    return abs(a - b) <= tolerance * max(1.0, abs(a), abs(b))


def select(attempts: list[Attempt], tolerance: float) -> tuple[Attempt | None, int]:
    """The attempt whose optimal value most others share (verified ones first; ties: the earliest sample)."""
    for pool in ([a for a in attempts if a.status == "ok"], [a for a in attempts if a.executed]):
        if not pool:
            continue
        groups: list[list[Attempt]] = []
        for a in pool:
            group = next((g for g in groups if agree(g[0].objective, a.objective, tolerance)), None)  # type: ignore[arg-type]
            if group is None:
                groups.append([a])
            else:
                group.append(a)
        best = max(groups, key=len)  # max keeps the first of equal-sized groups
        return best[0], len(best)
    return None, 0


def _number(x: float) -> str:
    if not math.isfinite(x):  # NaN: a variable in no constraint or objective, left unset
        return "unset" if math.isnan(x) else str(x)
    return str(round(x)) if abs(x - round(x)) < 1e-9 else f"{x:.6g}"


def _checked(chosen: Attempt) -> str:
    """How the answer was checked, in a few words (the verdict says it in full)."""
    compared = chosen.text_check
    if compared is not None and compared.scope == "broken":
        broken = [s.statement for s in compared.statements if s.holds is False]
        return f"NOT verified: it breaks {', '.join(broken)} of your text"
    if compared is not None and not compared.verified:
        return "not verified: the formulation below does not match your text"
    if chosen.status not in ("ok", "unfaithful"):
        return f"not confirmed ({chosen.status})"
    if compared is not None and compared.scope == "all":
        return "re-checked against the formulation below and against every constraint of your text"
    return "re-checked against the formulation below, which was not checked against your text"


def english(chosen: Attempt | None, sense: str | None, agreement: int, samples: int) -> str:
    """The answer in a sentence or two: optimal value, variable values, how it was checked."""
    if chosen is None or chosen.objective is None:
        return "No optimal solution was found: every formulation failed to build or solve."
    parts = []
    for name, value in chosen.values.items():
        if isinstance(value, dict):
            parts += [f"{name}[{k}] = {_number(v)}" for k, v in value.items()]
        else:
            parts.append(f"{name} = {_number(value)}")
    shown = ", ".join(parts[:24]) + (f" and {len(parts) - 24} more" if len(parts) > 24 else "")
    check_ = _checked(chosen)
    votes = f"; {agreement} of {samples} formulations agree" if samples > 1 else ""
    mismatch = chosen.text_check is not None and not chosen.text_check.verified
    whose = " of the formulation below" if mismatch else ""  # not the optimum of the problem the text states
    return f"The optimal value{whose} ({sense or 'objective'}) is {_number(chosen.objective)}, at {shown} ({check_}{votes})."
