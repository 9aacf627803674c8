"""What an optimization solve returns (`OptResult`) and the tolerances its check uses; shared by every solve path.

`solvers.optimization.solve` (formulations and pyomo models) and `solvers.lpfiles.solve_file` (LP and
MPS files) both return an `OptResult`; this module is the piece they share, so the dependency goes one
way: optimization -> lpfiles -> optresult.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

OptStatus = Literal["optimal", "feasible", "infeasible", "unbounded", "timeout", "error"]
ProblemClass = Literal["LP", "MILP", "NLP", "MINLP"]
TOLERANCE = 1e-6  # relative, between the solver's objective and the recomputed one
FEASIBILITY = 1e-5  # absolute, the largest constraint / bound / integrality violation accepted


@dataclass(frozen=True, kw_only=True)
class OptResult:
    """What the solver found and how it was checked. `values` maps a variable to a number or {index: number}."""

    status: OptStatus
    objective: float | None
    values: dict[str, Any] = field(default_factory=dict)
    solver: str = ""
    problem_class: ProblemClass | None = None
    seconds: float = 0.0
    recomputed_objective: float | None = None
    max_violation: float | None = None
    verified: bool = False
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}
