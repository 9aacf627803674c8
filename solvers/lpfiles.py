"""LP and MPS files: read and solved by HiGHS or SCIP directly, the result verified from the file's own matrix.

HiGHS (`auto`, `highs`) and SCIP (`scip`, through PySCIPOpt) each read the file themselves. The check
is always made on HiGHS's reading of the file: the objective and every row and bound recomputed
from the returned column values (for a SCIP answer, a second, independent reader of the file).
"""

from __future__ import annotations

import math
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ratiocinator.errors import InvalidInput
from ratiocinator.solvers.optresult import FEASIBILITY, OptResult
from ratiocinator.textfiles import read_text


@contextmanager
def _c_stdout_silenced() -> Iterator[None]:
    """HiGHS and SCIP print read errors on the C-level stdout; keep them off ours."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _highs() -> Any:
    """A silent HiGHS instance (its banner, printed when the first one is made, kept off our stdout)."""
    import highspy

    with _c_stdout_silenced():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    return h


def _quiet_read(h: Any, path: Path) -> Any:
    with _c_stdout_silenced():
        return h.readModel(str(path))


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?inf(inity)?", re.IGNORECASE)
#: MPS sections whose lines end in numbers: (row, value) pairs, or one value last
_PAIRED = {"COLUMNS", "RHS", "RANGES"}
_LAST = {"QUADOBJ", "QMATRIX", "QSECTION", "QCMATRIX", "CSECTION"}
_BOUND_WITH_VALUE = {"UP", "LO", "FX", "LI", "UI", "SC"}


def check_mps_numbers(text: str, path: Path) -> None:
    """Raise InvalidInput at the first number of an MPS file that is not a number.

    HiGHS reads a field like `abc`, `-5a` or `1x4` where a number belongs as 0, -5 or 1 and solves
    that other problem without a word; the answer would be "verified" against the wrong matrix.
    """
    section = ""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("*"):
            continue
        tokens = line.split()
        if not line[0].isspace():
            section = tokens[0].upper()
            continue
        if section in _PAIRED and "'MARKER'" not in line.upper():
            fields = [tokens[i] for i in range(len(tokens) - 1, 0, -2)][: 2]
        elif section in _LAST or (section == "BOUNDS" and tokens[0].upper() in _BOUND_WITH_VALUE):
            fields = tokens[-1:]
        else:
            continue
        for field in fields:
            if not _NUMBER.fullmatch(field):
                raise InvalidInput(f"{path}, line {number}: {field!r} in {section} is not a number "
                                   f"(line: {line.strip()!r}); HiGHS would read it as something else")


def _check(h: Any, x: list[float], objective: float) -> tuple[float | None, float]:
    """(objective, largest violation) recomputed from the column values and the stored LP."""
    lp = h.getLp()
    n, m = lp.num_col_, lp.num_row_
    rows = [0.0] * m
    a = lp.a_matrix_
    starts, index, value = list(a.start_), list(a.index_), list(a.value_)
    if a.format_.name == "kRowwise":
        for r in range(m):
            rows[r] = sum(value[k] * x[index[k]] for k in range(starts[r], starts[r + 1]))
    else:
        for c in range(n):
            for k in range(starts[c], starts[c + 1]):
                rows[index[k]] += value[k] * x[c]
    worst = 0.0
    for r in range(m):
        lo, hi = lp.row_lower_[r], lp.row_upper_[r]
        worst = max(worst, (lo - rows[r]) if math.isfinite(lo) else 0.0, (rows[r] - hi) if math.isfinite(hi) else 0.0)
    integrality = list(lp.integrality_) if len(lp.integrality_) else []
    for c in range(n):
        lo, hi = lp.col_lower_[c], lp.col_upper_[c]
        worst = max(worst, (lo - x[c]) if math.isfinite(lo) else 0.0, (x[c] - hi) if math.isfinite(hi) else 0.0)
        if integrality and integrality[c].name == "kInteger":
            worst = max(worst, abs(x[c] - round(x[c])))
    hessian = h.getModel().hessian_
    if hessian.dim_ > 0:  # a quadratic objective: the linear part alone would not be the objective
        return None, worst
    return lp.offset_ + sum(c * v for c, v in zip(lp.col_cost_, x, strict=True)), worst


def solve_file(path: Path, *, solver: str, timeout: float, tolerance: float) -> OptResult:
    """Solve an .lp/.mps file with HiGHS (or SCIP); returns an OptResult."""
    import highspy

    if solver not in ("auto", "highs", "scip"):
        raise InvalidInput(f"{path.name}: LP/MPS files are solved with HiGHS or SCIP; choose the solver auto, "
                           "highs or scip (--solver)")
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    text = read_text(path, path.suffix[1:].upper() + " file")
    if path.suffix.lower() == ".mps":
        check_mps_numbers(text, path)
    start = time.monotonic()
    if solver == "scip":
        return _solve_scip(path, timeout, tolerance, start)
    h = _highs()
    h.setOptionValue("time_limit", float(timeout))
    if _quiet_read(h, path) == highspy.HighsStatus.kError:
        raise InvalidInput(f"{path}: HiGHS cannot read it as {path.suffix[1:].upper()} (check the file's syntax)")
    lp = h.getLp()
    integral = len(lp.integrality_) > 0 and any(t.name == "kInteger" for t in lp.integrality_)
    klass = "MILP" if integral else "LP"
    h.run()
    S = highspy.HighsModelStatus
    status_map = {S.kOptimal: "optimal", S.kInfeasible: "infeasible", S.kUnbounded: "unbounded",
                  S.kTimeLimit: "timeout", S.kIterationLimit: "timeout", S.kModelEmpty: "optimal"}
    model_status = h.getModelStatus()
    if model_status == S.kUnboundedOrInfeasible:
        h.setOptionValue("presolve", "off")
        h.run()
        model_status = h.getModelStatus()
        if model_status == S.kUnboundedOrInfeasible:
            model_status = S.kInfeasible if h.getInfo().primal_solution_status == 0 else S.kUnbounded
    status = status_map.get(model_status, "error")
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if status == "timeout" and has_solution:
        status = "feasible"
    if status not in ("optimal", "feasible"):
        return OptResult(status=status, objective=None, solver="highs", problem_class=klass,
                         seconds=time.monotonic() - start,
                         message="" if status != "error" else h.modelStatusToString(model_status))
    x = list(h.getSolution().col_value)
    objective = float(info.objective_function_value)
    recomputed, violation = _check(h, x, objective)
    names = list(lp.col_names_) or [f"x{i}" for i in range(len(x))]
    verified = recomputed is not None and abs(recomputed - objective) <= tolerance * (1 + abs(objective)) \
        and violation <= FEASIBILITY
    return OptResult(status=status, objective=objective, values=dict(zip(names, x, strict=True)), solver="highs",
                     problem_class=klass, seconds=time.monotonic() - start, recomputed_objective=recomputed,
                     max_violation=violation, verified=verified)


_SCIP_STATUS = {"optimal": "optimal", "infeasible": "infeasible", "unbounded": "unbounded", "timelimit": "timeout",
                "gaplimit": "feasible", "sollimit": "feasible", "bestsollimit": "feasible", "nodelimit": "timeout",
                "totalnodelimit": "timeout", "stallnodelimit": "timeout", "memlimit": "error", "userinterrupt": "error"}


def _scip_model(path: Path, timeout: float) -> Any:
    from pyscipopt import Model

    m = Model()
    m.hideOutput()  # SCIP's log on a pipe nobody reads can block it
    m.setParam("limits/time", max(float(timeout), 0.01))
    try:
        with _c_stdout_silenced():
            m.readProblem(str(path))
    except Exception as exc:
        raise InvalidInput(f"{path}: SCIP cannot read it as {path.suffix[1:].upper()} ({exc}); check the file's "
                           "syntax") from None
    return m


def _scip_infeasible_or_unbounded(path: Path, timeout: float) -> str:
    """SCIP said infeasible-or-unbounded: a feasibility solve (zero objective) tells which."""
    m = _scip_model(path, timeout)
    for v in m.getVars():
        m.chgVarObj(v, 0.0)
    m.optimize()
    status = m.getStatus()
    return "infeasible" if status == "infeasible" else "unbounded" if m.getNSols() > 0 else "error"


def _solve_scip(path: Path, timeout: float, tolerance: float, start: float) -> OptResult:
    """Solve the file with SCIP (its own reader and time limit); check the answer on HiGHS's reading of the file."""
    import highspy

    m = _scip_model(path, timeout)
    variables = m.getVars()
    klass = "MILP" if any(v.vtype() in ("INTEGER", "BINARY", "IMPLINT") for v in variables) else "LP"
    m.optimize()
    status = _SCIP_STATUS.get(m.getStatus(), "error")
    if m.getStatus() == "inforunbd":
        status = _scip_infeasible_or_unbounded(path, timeout - (time.monotonic() - start))
    if status == "timeout" and m.getNSols() > 0:
        status = "feasible"
    if status not in ("optimal", "feasible"):
        return OptResult(status=status, objective=None, solver="scip", problem_class=klass,
                         seconds=time.monotonic() - start,
                         message=f"SCIP status {m.getStatus()}" if status == "error" else "")
    values = {v.name: float(m.getVal(v)) for v in variables}
    objective = float(m.getObjVal())
    h = _highs()
    recomputed, violation, message = None, float("nan"), ""
    if _quiet_read(h, path) == highspy.HighsStatus.kError:
        message = "not verified: HiGHS cannot read the file to recompute the answer"
    else:
        names = list(h.getLp().col_names_)
        missing = [n for n in names if n not in values]
        if missing or not names:
            message = f"not verified: columns {missing[:5]} of the file are not among SCIP's variables"
        else:
            recomputed, violation = _check(h, [values[n] for n in names], objective)
    verified = recomputed is not None and abs(recomputed - objective) <= tolerance * (1 + abs(objective)) \
        and violation <= FEASIBILITY
    return OptResult(status=status, objective=objective, values=values, solver="scip", problem_class=klass,
                     seconds=time.monotonic() - start, recomputed_objective=recomputed,
                     max_violation=None if recomputed is None else violation, verified=verified, message=message)
