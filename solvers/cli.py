"""The `plan` and `optimize` commands of the `ratiocinator` CLI; engines are imported only when a command runs.

Results go to stdout (text, or JSON with --json); errors go to stderr with exit status 2 for bad input
and 1 when the engine ran but found no plan / no optimum.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


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
    from ratiocinator.errors import RatiocinatorError
    from ratiocinator.solvers.pddl import explain, solve

    try:
        result = solve(domain, problem, planner=planner, optimal=optimal, timeout=timeout)
    except RatiocinatorError as exc:
        raise _fail(str(exc)) from None
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


def optimize_command(
    formulation: Annotated[Path, typer.Argument(help="a five-element formulation (.json), or an .lp/.mps file")],
    solver: Annotated[str, typer.Option(help="auto, highs, scip, cbc, glpk")] = "auto",
    timeout: Annotated[float, typer.Option(help="seconds")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Solve an optimization model and verify the answer from its values; print the result (or JSON)."""
    from ratiocinator.errors import RatiocinatorError
    from ratiocinator.solvers.optimization import solve

    if not formulation.is_file():
        raise _fail(f"{formulation}: no such file")
    try:
        result = solve(formulation, solver=solver, timeout=timeout)
    except RatiocinatorError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        typer.echo(f"{result.status} ({result.problem_class}, {result.solver}, {result.seconds:.2f} s)")
        if result.objective is not None:
            typer.echo(f"objective: {result.objective:.10g}  (recomputed {result.recomputed_objective}, "
                       f"largest violation {result.max_violation:.2g}, "
                       f"{'verified' if result.verified else 'NOT verified'})")
            for name, value in result.values.items():
                typer.echo(f"  {name} = {value}")
        if result.message:
            typer.echo(result.message)
    if result.status not in ("optimal", "feasible"):
        raise typer.Exit(1)
