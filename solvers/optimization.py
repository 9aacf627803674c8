"""Optimization: a formulation, pyomo model or LP/MPS file -> HiGHS / SCIP -> a result verified from its values.

    result = solve(Formulation.load("f.json"), solver="auto", timeout=60)
    result.status       # optimal | feasible | infeasible | unbounded | timeout | error
    result.objective, result.values, result.max_violation, result.verified

`auto` sends LP/MILP to HiGHS (`appsi_highs`) and anything nonlinear to SCIP (`scip_direct`, log
silenced). CBC and GLPK are used when asked for and installed. Verification is independent of the
solver: the objective and every constraint's slack are recomputed from the returned values (for a
formulation, without pyomo: by the expression evaluator), and the largest violation is reported.
LP/MPS files go to `solvers.lpfiles`; the result type both return lives in `solvers.optresult`.

The time limit is the whole call's: a formulation or a file is read, built, solved and checked in a
forked child (solvers/deadline.py) that is killed `GRACE` s after `timeout`, whatever it is doing
(building a model of a million rows, a solver that overruns its own limit), and the answer is then
status `timeout`. The solver itself gets what is left of the limit. A pyomo model passed in is
solved in this process, so that its variables hold the solution afterwards.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ratiocinator.errors import InvalidInput
from ratiocinator.solvers.deadline import ChildDied, DeadlineExceeded, call_with_deadline
from ratiocinator.solvers.expressions import ExpressionError
from ratiocinator.solvers.formulation import Checked, Formulation, build, check
from ratiocinator.solvers.lpfiles import solve_file
from ratiocinator.solvers.optresult import (
    FEASIBILITY,
    TOLERANCE,
    OptResult,
    OptStatus,
    ProblemClass,
)

__all__ = [
    "FEASIBILITY",
    "SOLVERS",
    "TOLERANCE",
    "OptResult",
    "OptStatus",
    "ProblemClass",
    "problem_class",
    "solve",
]

SOLVERS = {"highs": "appsi_highs", "scip": "scip_direct", "cbc": "cbc", "glpk": "glpk"}
#: seconds past `timeout` at which a solve still running is killed (the check and the reply fit in it)
GRACE = 0.5


def problem_class(model: Any) -> ProblemClass:
    """LP, MILP, NLP or MINLP from the pyomo model's variable domains and polynomial degrees."""
    import pyomo.environ as pyo

    integral = any(v.is_integer() or v.is_binary() for v in model.component_data_objects(pyo.Var, active=True))
    exprs = [o.expr for o in model.component_data_objects(pyo.Objective, active=True)]
    exprs += [c.body for c in model.component_data_objects(pyo.Constraint, active=True)]
    linear = all(e.polynomial_degree() in (0, 1) if hasattr(e, "polynomial_degree") else True for e in exprs)
    return ("MILP" if integral else "LP") if linear else ("MINLP" if integral else "NLP")


def _solver_for(name: str, klass: ProblemClass) -> str:
    import pyomo.environ as pyo

    if name == "auto":
        return "highs" if klass in ("LP", "MILP") else "scip"
    if name not in SOLVERS:
        raise InvalidInput(f"unknown solver {name!r}; expected auto or one of {', '.join(SOLVERS)}")
    if not pyo.SolverFactory(SOLVERS[name]).available(exception_flag=False):
        here = [n for n, s in SOLVERS.items() if pyo.SolverFactory(s).available(exception_flag=False)]
        raise InvalidInput(f"solver {name!r} is not installed here; available: {', '.join(here)}")
    if name == "highs" and klass in ("NLP", "MINLP"):
        raise InvalidInput(f"HiGHS solves LP/MILP; this model is {klass}: choose the solver scip or auto "
                           "(--solver scip)")
    return name


def _run(model: Any, name: str, timeout: float) -> tuple[str, bool, str]:
    """Solve in place; (termination condition, whether a solution was loaded, solver message)."""
    import pyomo.environ as pyo

    opt = pyo.SolverFactory(SOLVERS[name])
    kwargs: dict[str, Any] = {"load_solutions": False, "tee": False}
    if name == "scip":
        kwargs["options"] = {"display/verblevel": 0, "limits/time": timeout}
    elif name == "highs":
        kwargs["timelimit"] = timeout
    else:
        kwargs["timelimit"] = max(1, int(timeout))
    results = opt.solve(model, **kwargs)
    term = str(results.solver.termination_condition)
    loaded = False
    if len(results.solution) > 0 and term not in ("infeasible", "unbounded", "infeasibleOrUnbounded"):
        model.solutions.load_from(results)
        loaded = True
    return term, loaded, str(getattr(results.solver, "message", "") or "")


def _status(term: str, loaded: bool) -> OptStatus:
    if term in ("optimal", "globallyOptimal", "locallyOptimal"):
        return "optimal" if loaded else "error"
    if term in ("infeasible", "unbounded"):
        return term  # type: ignore[return-value]
    if term in ("maxTimeLimit", "maxIterations", "maxEvaluations", "userInterrupt", "feasible"):
        return "feasible" if loaded else "timeout"
    return "error"


def _disambiguate(model: Any, name: str, timeout: float) -> OptStatus:
    """HiGHS may say 'infeasible or unbounded': solve for feasibility alone to tell which."""
    import pyomo.environ as pyo

    objectives = list(model.component_data_objects(pyo.Objective, active=True))
    for o in objectives:
        o.deactivate()
    first = next(model.component_data_objects(pyo.Var, active=True))
    model.ratiocinator_feasibility = pyo.Objective(expr=0 * first)  # a bare constant makes HiGHS say "unknown"
    try:
        term, _, _ = _run(model, name, timeout)
    finally:
        model.del_component("ratiocinator_feasibility")
        for o in objectives:
            o.activate()
    return "unbounded" if term in ("optimal", "feasible") else "infeasible"


def _pyomo_check(model: Any) -> tuple[float | None, float]:
    """(objective, largest violation) recomputed with pyomo's `value` from the loaded variable values."""
    import pyomo.environ as pyo

    worst = 0.0
    for c in model.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(c.body, exception=False)
        if body is None:
            return None, float("inf")
        if c.has_lb():
            worst = max(worst, pyo.value(c.lower) - body)
        if c.has_ub():
            worst = max(worst, body - pyo.value(c.upper))
    for v in model.component_data_objects(pyo.Var, active=True):
        if v.value is None:
            continue
        if v.lb is not None:
            worst = max(worst, v.lb - v.value)
        if v.ub is not None:
            worst = max(worst, v.value - v.ub)
        if v.is_integer() or v.is_binary():
            worst = max(worst, abs(v.value - round(v.value)))
    objectives = list(model.component_data_objects(pyo.Objective, active=True))
    return (pyo.value(objectives[0]) if objectives else None), worst


def _values(model: Any, checked: Checked | None) -> tuple[dict[str, Any], dict[str, dict[tuple[Any, ...], float]]]:
    """Reported values ({name: number | {index: number}}) and the raw table the verifier reads."""
    import pyomo.environ as pyo

    report: dict[str, Any] = {}
    raw: dict[str, dict[tuple[Any, ...], float]] = {}
    for var in model.component_objects(pyo.Var, active=True):
        name = var.local_name[2:] if checked is not None else var.local_name
        table = {}
        for idx, v in var.items():
            key = () if idx is None else (idx if isinstance(idx, tuple) else (idx,))
            table[key] = float(v.value) if v.value is not None else float("nan")
        raw[name] = table
        report[name] = table[()] if not var.is_indexed() else {",".join(map(str, k)): x for k, x in table.items()}
    return report, raw


def solve(problem: Formulation | dict[str, Any] | str | Path | Any, *, solver: str = "auto",
          timeout: float = 60.0, tolerance: float = TOLERANCE) -> OptResult:
    """Solve a formulation (object, dict, JSON text or .json path), a pyomo model, or an .lp/.mps file,
    within `timeout` seconds, everything included."""
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise InvalidInput(f"timeout must be positive seconds, got {timeout!r}")
    if hasattr(problem, "component_data_objects"):  # a pyomo model: solved in place
        return _solve(problem, solver, timeout, tolerance, time.monotonic())
    if not isinstance(problem, Formulation | dict | str | Path):
        raise InvalidInput(f"cannot solve a {type(problem).__name__}: pass a Formulation, a dict, a .json/.lp/.mps "
                           "path or a pyomo ConcreteModel")
    if not hasattr(os, "fork"):
        return _solve(problem, solver, timeout, tolerance, time.monotonic())
    start = time.monotonic()
    try:
        return call_with_deadline(lambda: _solve_in_child(problem, solver, timeout, tolerance), timeout + GRACE,
                                  what="the optimization")
    except DeadlineExceeded:
        return OptResult(status="timeout", objective=None, solver=solver, seconds=time.monotonic() - start,
                         message=f"stopped at the time limit of {timeout:g} s, before a solution was found and "
                                 "checked")
    except ChildDied as exc:
        return OptResult(status="error", objective=None, solver=solver, seconds=time.monotonic() - start,
                         message=str(exc))


def _solve_in_child(problem: Any, solver: str, timeout: float, tolerance: float) -> OptResult:
    """In the forked child: HiGHS's thread pool, if the parent started one, is gone; start a new one."""
    import highspy

    highspy.Highs.resetGlobalScheduler(False)
    return _solve(problem, solver, timeout, tolerance, time.monotonic())


def _solve(problem: Any, solver: str, timeout: float, tolerance: float, start: float) -> OptResult:
    if isinstance(problem, str | Path) and Path(str(problem)).suffix.lower() in (".lp", ".mps"):
        return solve_file(Path(problem), solver=solver, timeout=timeout, tolerance=tolerance)
    checked: Checked | None = None
    if isinstance(problem, Formulation | dict | str | Path):
        checked = check(problem if isinstance(problem, Formulation) else Formulation.load(problem))
        model = build(checked)
    else:
        model = problem
    klass = problem_class(model)
    name = _solver_for(solver, klass)
    left = max(timeout - (time.monotonic() - start), 0.01)
    try:
        term, loaded, message = _run(model, name, left)
    except Exception as exc:  # solver crashed or rejected the model
        return OptResult(status="error", objective=None, solver=name, problem_class=klass,
                         seconds=time.monotonic() - start, message=f"{type(exc).__name__}: {exc}")
    if term == "infeasibleOrUnbounded":
        status = _disambiguate(model, name, max(timeout - (time.monotonic() - start), 0.01))
    else:
        status = _status(term, loaded)
    if not loaded or status not in ("optimal", "feasible"):
        return OptResult(status=status, objective=None, solver=name, problem_class=klass,
                         seconds=time.monotonic() - start, message=message if status == "error" else "")
    return _verified(model, checked, status, name, klass, tolerance, start)


def _verified(model: Any, checked: Checked | None, status: OptStatus, name: str, klass: ProblemClass,
              tolerance: float, start: float) -> OptResult:
    """The solution read back and checked: objective and every constraint recomputed from the values."""
    import pyomo.environ as pyo

    objective = float(pyo.value(next(model.component_data_objects(pyo.Objective, active=True))))
    values, raw = _values(model, checked)
    worst_rows: list[str] = []
    unchecked = ""
    violation: float | None
    if checked is not None:
        try:
            recomputed, violation, worst_rows = checked.violations(raw)
        except ExpressionError as exc:  # log(x) at x = 0: the values are outside the expressions' domain
            recomputed, violation, unchecked = None, None, f"not verified: at the solver's values, {exc}"
    else:
        recomputed, violation = _pyomo_check(model)
    scale = 1.0 + abs(objective)
    verified = recomputed is not None and violation is not None \
        and abs(recomputed - objective) <= tolerance * scale and violation <= FEASIBILITY
    detail = unchecked or (f"largest violations: {'; '.join(worst_rows)}" if worst_rows and not verified else "")
    return OptResult(status=status, objective=objective, values=values, solver=name, problem_class=klass,
                     seconds=time.monotonic() - start, recomputed_objective=recomputed, max_violation=violation,
                     verified=verified, message=detail)
