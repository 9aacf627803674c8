"""The `plan` and `optimize` commands of the `ratiocinator` CLI; engines are imported only when a command runs.

Results go to stdout (text, or JSON with --json); errors go to stderr, one line, with exit status 2
for bad input and 1 when the engine ran but found no plan / no optimum. With --json, stdout holds
exactly one JSON document in every case: the result, or `{"status": "invalid_input" | "error",
"message": ...}`; whatever an engine prints while it runs (HiGHS's banner, a C library's notes) is
sent to stderr.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

T = TypeVar("T")
#: seconds past --timeout at which a command still running is stopped
GRACE = 0.5


def _fail(message: str, as_json: bool = False, *, status: str = "invalid_input", code: int = 2) -> typer.Exit:
    message = one_line(message)
    typer.echo(f"error: {message}", err=True)
    if as_json:
        typer.echo(json.dumps({"status": status, "message": message}, indent=2))
    return typer.Exit(code)


def one_line(message: str) -> str:
    """A message of several lines (a PDDL error quotes the line at fault, with a caret under it) in one line."""
    return "; ".join(" ".join(line.split()) for line in message.splitlines() if line.strip() not in ("", "^"))


@contextlib.contextmanager
def _stdout_to_stderr(active: bool) -> Iterator[None]:
    """While an engine runs, file descriptor 1 is stderr: nothing but our JSON reaches stdout."""
    if not active:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _run(job: Callable[[], T], as_json: bool) -> T:
    """`job()`, its errors turned into one line (and a JSON document with --json); never a traceback."""
    from ratiocinator.errors import RatiocinatorError

    try:
        with _stdout_to_stderr(as_json):
            return job()
    except RatiocinatorError as exc:
        raise _fail(str(exc), as_json) from None
    except MemoryError:
        raise _fail("out of memory; give a smaller problem", as_json, status="error", code=1) from None
    except Exception as exc:  # a bug of ours or an engine's, on input nobody foresaw: still one line
        raise _fail(f"unexpected {type(exc).__name__}: {exc} (please report it)", as_json, status="error",
                    code=1) from None


def plan_command(
    domain: Annotated[Path, typer.Option("--domain", "-d", help="the PDDL domain file")],
    problem: Annotated[Path, typer.Option("--problem", "-p", help="the PDDL problem file")],
    planner: Annotated[str, typer.Option(help="auto, fast-downward, fast-downward-opt, symk-opt, lpg, "
                                              "pyperplan, enhsp, …")] = "auto",
    optimal: Annotated[bool, typer.Option("--optimal", help="ask for an optimal plan")] = False,
    timeout: Annotated[float, typer.Option(help="seconds, everything included")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Find a plan with a classical planner and validate it; print the numbered steps (or JSON)."""
    from ratiocinator.solvers.pddl import explain

    for flag, path in (("--domain", domain), ("--problem", problem)):
        if not path.is_file():
            raise _fail(f"{flag} {path}: no such file", as_json)
    if not timeout > 0:
        raise _fail(f"--timeout must be positive seconds, got {timeout:g}", as_json)
    result = _run(lambda: _bounded_plan(domain, problem, planner, optimal, timeout), as_json)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        head = f"{result.status} by {result.planner} in {result.seconds:.2f} s"
        if result.solved:
            head += f", cost {result.cost:g}, {'validated' if result.validated else 'NOT validated'}"
            typer.echo(head)
            typer.echo(explain(result))
        else:
            typer.echo(head + (f": {result.message}" if result.message else ""))
    if not result.solved:
        raise typer.Exit(1)


def _bounded_plan(domain: Path, problem: Path, planner: str, optimal: bool, timeout: float) -> Any:
    """`pddl.solve` in a forked child killed GRACE s after the limit: reading the PDDL (and importing the
    planning library, 2-3 s on a cold start) counts against it like the search does."""
    import time

    from ratiocinator.solvers.deadline import DeadlineExceeded, call_with_deadline
    from ratiocinator.solvers.pddl import PlanResult, solve

    start = time.monotonic()
    try:
        return call_with_deadline(lambda: solve(domain, problem, planner=planner, optimal=optimal, timeout=timeout),
                                  timeout + GRACE, what="planning")
    except DeadlineExceeded:
        return PlanResult(status="timeout", plan=None, cost=None, planner=planner, validated=False,
                          seconds=time.monotonic() - start,
                          message=f"no plan within the {timeout:g} s limit (stopped while reading the PDDL "
                                  "and starting the planner)")


def optimize_command(
    formulation: Annotated[Path, typer.Argument(help="a five-element formulation (.json), or an .lp/.mps file")],
    solver: Annotated[str, typer.Option(help="auto, highs, scip, cbc, glpk")] = "auto",
    timeout: Annotated[float, typer.Option(help="seconds, everything included")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Solve an optimization model and verify the answer from its values; print the result (or JSON)."""
    from ratiocinator.solvers.optimization import solve

    if not formulation.is_file():
        raise _fail(f"{formulation}: no such file", as_json)
    result = _run(lambda: solve(formulation, solver=solver, timeout=timeout), as_json)
    if as_json:
        typer.echo(json.dumps(_finite(result.to_dict()), indent=2, allow_nan=False))
    else:
        typer.echo(f"{result.status} ({result.problem_class}, {result.solver}, {result.seconds:.2f} s)")
        if result.objective is not None:
            worst = "not computed" if result.max_violation is None else f"{result.max_violation:.2g}"
            typer.echo(f"objective: {result.objective:.10g}  (recomputed {result.recomputed_objective}, "
                       f"largest violation {worst}, {'verified' if result.verified else 'NOT verified'})")
            for name, value in result.values.items():
                typer.echo(f"  {name} = {value}")
        if result.message:
            typer.echo(result.message)
    if result.status not in ("optimal", "feasible"):
        raise typer.Exit(1)


def _finite(value: Any) -> Any:
    """NaN and infinities (a variable the solver left unset) as null: JSON has no spelling for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
