"""Which piece of a stepwise draft the engine's complaint is about, and what to tell it (no model inside).

A build error names the element at fault (`constraints['s3_1']`: sentence 3); an infeasible model is
traced to the constraints without which it becomes feasible (each solved once without one of them);
an unbounded model goes back to the objective (its sense), one whose optimum sets everything to 0 to the
objective and to the numbers no constraint uses (a requirement left out);
a number of the text used nowhere is asked for the constraint it states (draft.unused_numbers).
"""

from __future__ import annotations

import json
import re

from ratiocinator.agents.llmopt.draft import Draft, unused_numbers
from ratiocinator.agents.llmopt.result import Attempt
from ratiocinator.solvers.formulation import Formulation
from ratiocinator.solvers.optimization import solve

_LABEL = re.compile(r"constraints\[['\"]([sn]\d+)_\d+['\"]\]")
MAX_TRIALS = 24  # constraints tried one at a time when tracing an infeasibility


def faults(draft: Draft, attempt: Attempt, *, solver: str = "auto", timeout: float = 10.0) -> dict[str, str]:
    """{piece: feedback} for the pieces the attempt's failure is traced to (empty: nothing to send back)."""
    objective = " ".join(draft.objective())
    if attempt.status == "build_error":
        pieces = sorted(set(_LABEL.findall(attempt.feedback))) or ["objective"]
        return {p: attempt.feedback for p in pieces}
    if attempt.status == "infeasible":
        culprits = _conflicts(attempt.formulation, solver, timeout)
        return {p: f"With `{row}` no values satisfy all constraints together (infeasible): check its direction "
                   "(<= or >=), its numbers, and whether this sentence states it at all." for p, row in culprits.items()}
    if attempt.status == "unbounded":
        return {"objective": f"`{objective}` improves without limit (unbounded): check minimize or maximize, "
                             "and that it is the quantity the problem asks to optimize."}
    if attempt.status == "implausible" and "Every variable is 0" in attempt.feedback:
        return {"objective": f"At the optimum of `{objective}` every variable is 0: check minimize or maximize, "
                             "and that it is the quantity the problem asks to optimize.", **unused_numbers(draft)}
    if attempt.status in ("unfaithful", "implausible"):
        return unused_numbers(draft)
    return {}


def _conflicts(formulation_json: str, solver: str, timeout: float) -> dict[str, str]:
    """{sentence piece: its first relation} of each constraint whose removal makes the model feasible."""
    data = json.loads(formulation_json)
    rows = data["constraints"]
    found: dict[str, str] = {}
    for k, row in enumerate(rows[:MAX_TRIALS]):
        reduced = Formulation.model_validate({**data, "constraints": rows[:k] + rows[k + 1:]})
        if solve(reduced, solver=solver, timeout=timeout).status in ("optimal", "feasible", "unbounded"):
            found.setdefault(row["name"].rsplit("_", 1)[0], row["expression"])
    if not found:  # no single constraint is at fault: every sentence that states one is a suspect
        found = {row["name"].rsplit("_", 1)[0]: row["expression"] for row in rows}
    return found

