"""Mamo ODEs, solved: sympy dsolve in a bounded child process, else scipy solve_ivp on the first-order system.

    solve_ode(ODESpec(functions=["y"], variable="t", equations=["y' = 2 - 3*y/(100 + 2*t)"],
                      initial_conditions=["y(0) = 0"], quantity="y/(100 + 2*t)", at=20))  # (0.2275..., "numeric")

The text is parsed safely first (parse.py). dsolve runs in a forked child killed at its deadline
(solvers/deadline.py); the numeric fallback rewrites the system in first-order form and integrates it
with tight tolerances (rtol 1e-10).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ratiocinator.agents.ode.config import ODEConfig
from ratiocinator.agents.ode.fit import fitted_value, real_value
from ratiocinator.agents.ode.parse import condition_key, parse
from ratiocinator.agents.ode.spec import FittedSpec, ODEError, ODEMethod, ODESpec
from ratiocinator.errors import InvalidInput
from ratiocinator.solvers.deadline import call_with_deadline


def _real(value: Any, where: str) -> float:
    import sympy as sp

    number = real_value(value)
    if number is None:
        raise ODEError(f"{where}: the value {complex(sp.N(value))} is not a finite real number")
    return number


def _dsolve(spec: ODESpec) -> float:
    import sympy as sp

    t, funcs, equations, ics, quantity = parse(spec)
    # exact rationals: dsolve with floats is slow and often fails to match a solvable form
    equations = [sp.nsimplify(e, rational=True) for e in equations]
    ics = {k: sp.nsimplify(v, rational=True) for k, v in ics.items()}
    solution = sp.dsolve(
        equations if len(equations) > 1 else equations[0],
        funcs if len(funcs) > 1 else funcs[0],
        ics=ics or None,
    )
    solutions = solution if isinstance(solution, list) else [solution]
    if len(solutions) != len(funcs):
        raise ODEError(
            f"dsolve found {len(solutions)} solutions for {len(funcs)} functions (ambiguous)"
        )
    value = quantity.subs({s.lhs: s.rhs for s in solutions}).doit().subs(t, spec.at)
    left = value.free_symbols
    if left:
        raise ODEError(
            f"the answer still depends on {sorted(map(str, left))}: give every constant a number and "
            "every function an initial condition"
        )
    return _real(value, "quantity")


def _first_order(t: Any, funcs: list[Any], equations: list[Any]) -> tuple[
        list[tuple[Any, int]], dict[tuple[Any, int], Any], list[Any], Callable[[Any], Any]]:
    """The system in first-order form: its states (f, k) for f^(k), their symbols, their rates, and the substitution."""
    import sympy as sp

    orders = {
        f: max(
            [d.derivative_count for e in equations for d in e.atoms(sp.Derivative) if d.expr == f],
            default=0,
        )
        for f in funcs
    }
    states = [(f, k) for f in funcs for k in range(orders[f])]
    syms = {(f, k): sp.Symbol(f"s{i}") for i, (f, k) in enumerate(states)}
    highest = [sp.Derivative(f, (t, orders[f])) for f in funcs if orders[f] > 0]
    solved = sp.solve(equations, highest, dict=True)
    if not solved:
        raise ODEError("the equations cannot be solved for the highest derivatives")

    def to_state(e: Any) -> Any:
        for (f, k), s in sorted(syms.items(), key=lambda kv: -kv[0][1]):
            e = e.subs(sp.Derivative(f, (t, k)) if k else f, s)
        return e

    rates = [
        syms[(f, k + 1)]
        if k + 1 < orders[f]
        else to_state(solved[0][sp.Derivative(f, (t, orders[f]))])
        for f, k in states
    ]
    return states, syms, rates, to_state


def _initial_state(t: Any, ics: dict[Any, Any], states: list[tuple[Any, int]]) -> tuple[float, list[float]]:
    """(t0, the states' values at t0) from the initial conditions, which must all be at one point."""
    import sympy as sp

    given: dict[tuple[Any, int], Any] = {}
    points = set()
    for key, value in ics.items():
        f, k, a = condition_key(key, t)
        given[(f, k)] = value
        points.add(float(sp.N(a)))
    missing = [str(sp.Derivative(f, (t, k)) if k else f) for f, k in states if (f, k) not in given]
    if len(points) != 1 or missing:
        raise ODEError(
            f"the numeric solver needs initial conditions at one point for {len(states)} states"
            + (f"; missing {missing}" if missing else "")
        )
    return points.pop(), [_real(given[s], "initial condition") for s in states]


def _numeric(spec: ODESpec) -> float:
    import numpy as np
    import sympy as sp
    from scipy.integrate import solve_ivp

    t, funcs, equations, ics, quantity = parse(spec)
    states, syms, rates, to_state = _first_order(t, funcs, equations)
    t0, y0 = _initial_state(t, ics, states)
    rhs = sp.lambdify([t, list(syms.values())], rates, "numpy")
    sol = solve_ivp(
        lambda x, y: np.asarray(rhs(x, y), dtype=float), (t0, spec.at), y0, rtol=1e-10, atol=1e-12
    )
    if not sol.success:
        raise ODEError(f"solve_ivp failed: {sol.message}")
    final = dict(zip(syms.values(), sol.y[:, -1], strict=True))
    value = to_state(quantity).subs(final).subs(t, spec.at)
    return _real(value, "quantity")


def _say(exc: BaseException) -> str:
    return (
        str(exc) if isinstance(exc, InvalidInput | TimeoutError) else f"{type(exc).__name__}: {exc}"
    )


def solve_ode(spec: ODESpec, config: ODEConfig | None = None) -> tuple[float, ODEMethod]:
    """The quantity at the point: sympy dsolve in a bounded child process (a FittedSpec's constants fitted
    to its conditions), else scipy solve_ivp."""
    config = config or ODEConfig()
    try:
        parse(spec)  # parse errors are reported as they are, not hidden behind the fallback
    except ODEError:
        raise
    except Exception as exc:  # sympy raises many kinds of errors on text it cannot make sense of
        raise ODEError(f"the ODE cannot be read: {type(exc).__name__}: {exc}") from None
    try:
        if isinstance(spec, FittedSpec):  # stepwise: constants fitted to conditions at any points (fit.py)
            value, exact = call_with_deadline(lambda: fitted_value(spec), config.dsolve_timeout, what="dsolve")
            return value, "dsolve" if exact else "fitted"
        return call_with_deadline(lambda: _dsolve(spec), config.dsolve_timeout, what="dsolve"), "dsolve"
    # any failure of dsolve (a form it cannot solve, its deadline, a sympy error): integrate numerically
    except Exception as first:
        try:
            return call_with_deadline(
                lambda: _numeric(spec), config.numeric_timeout, what="solve_ivp"
            ), "numeric"
        except Exception as exc:
            raise ODEError(f"dsolve: {_say(first)}; numeric fallback: {_say(exc)}") from None
