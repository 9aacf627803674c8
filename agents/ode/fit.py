"""An ODE's unknown constants found from its conditions: sympy's general solution, then one equation per condition.

A word problem often states a rate only through an observation ("after 11 minutes the soup is at
31.079 °C"): the model cannot compute the constant k of T' = -k*(T - 7) in its head, but it can state
T(0) = 42 and T(11) = 31.079. Here dsolve gives the general solution (constants C1, C2, ...), each
condition (f(a) = b, f'(a) = b, at any point) becomes an equation in those constants and the unknown
parameters, and sympy solves them: exactly where it can (`solve`), else numerically (`nsolve` from a
few starting points). Every real solution is evaluated; solutions that disagree on the value asked
make the answer ambiguous, an error. `at = oo` asks for the limit as the variable grows. (No library
fits ODE constants to conditions symbolically; written here.)
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Any

from ratiocinator.agents.ode.parse import condition_key, parameters, parse
from ratiocinator.agents.ode.spec import ODEError, ODESpec

#: starting points of the numeric solve for each unknown (a rate constant is usually small and positive)
_GUESSES = (0.1, 1.0, 0.01, -0.1, 0.001, -0.01, 10.0)


def real_value(value: Any) -> float | None:
    """The value as a finite real float, or None (complex, infinite, or not a number)."""
    import sympy as sp

    try:
        number = complex(sp.N(value))
    except (TypeError, ValueError):
        return None
    if abs(number.imag) > 1e-9 * max(1.0, abs(number.real)) or not math.isfinite(number.real):
        return None
    return number.real


def _condition(key: Any, value: Any, t: Any, general: Any) -> Any:
    """The equation a condition f(a) = b or f^(k)(a) = b states about the general solution's constants."""
    import sympy as sp

    _, k, a = condition_key(key, t)
    return sp.Eq(sp.diff(general, t, k).subs(t, a), sp.nsimplify(value, rational=True))


#: how far a condition beyond those the constants need may miss (relative): observations are rounded
_CONDITION_TOL = 1e-3


def _numeric(equations: list[Any], unknowns: list[Any]) -> list[dict[Any, Any]]:
    """Roots of the equations in the unknowns found by Newton's method from a few starting points."""
    import sympy as sp

    found = []
    for guess in _GUESSES:
        try:
            values = sp.nsolve(equations[: len(unknowns)], unknowns, [guess] * len(unknowns))
        # no convergence from this start, or a step so far that exp overflows (mpmath's MemoryError)
        except (ValueError, ArithmeticError, TypeError, MemoryError):
            continue
        found.append(dict(zip(unknowns, list(values), strict=True)))
    return found


def _holds(residual: Any, solution: dict[Any, Any], scale: Any) -> bool:
    """Whether a condition (its residual, left - right) holds for the solution within the tolerance."""
    import sympy as sp

    try:
        miss = abs(complex(sp.N(residual.subs(solution))))
        size = abs(complex(sp.N(scale)))
    except (TypeError, ValueError):
        return False
    return miss <= _CONDITION_TOL * max(1.0, size)


def _solutions(conditions: list[Any], constants: list[Any], named: list[Any]) -> tuple[list[dict[Any, Any]], bool]:
    """Every solution for dsolve's constants and the named ones that meets every condition, and whether each
    was found exactly (no Newton step).

    Some of the conditions (tried in order) are solved exactly for dsolve's constants (they usually enter
    linearly); the rest then hold only the named constants, solved numerically (sympy's solve can run for
    minutes on a rate constant inside an exponential). Conditions beyond those needed must hold too,
    within a relative 1e-3 (the problem's observations are rounded).
    """
    import sympy as sp

    residuals = [c.lhs - c.rhs for c in conditions]
    scales = [c.rhs for c in conditions]
    for subset in combinations(range(len(residuals)), len(constants)):
        try:
            exact = sp.solve([residuals[i] for i in subset], constants, dict=True)
        except (NotImplementedError, ValueError, TypeError):
            continue
        found = []
        rest = [i for i in range(len(residuals)) if i not in subset]
        for partial in (s for s in exact if set(s) >= set(constants)):
            reduced = [sp.simplify(residuals[i].subs(partial)) for i in rest]
            for fitted in _numeric(reduced, named) if named else [{}]:
                if all(_holds(r, fitted, scales[i]) for r, i in zip(reduced, rest, strict=True)):
                    found.append({**{c: v.subs(fitted) for c, v in partial.items()}, **fitted})
        if exact:
            return found, not named
    unknowns = [*constants, *named]
    return [s for s in _numeric(residuals, unknowns)
            if all(_holds(r, s, scales[i]) for i, r in enumerate(residuals))], False


def _value_of(quantity: Any, f: Any, general: Any, t: Any, at: float, solution: dict[Any, Any]) -> float | None:
    import sympy as sp

    expr = quantity.subs(f, general.subs(solution)).doit()
    if math.isinf(at):
        expr = sp.limit(expr, t, sp.oo if at > 0 else -sp.oo)
    else:
        expr = expr.subs(t, sp.nsimplify(at, rational=True))
    return real_value(expr)


def _solves(equation: Any, f: Any, t: Any, solution: Any, constants: dict[Any, Any], points: list[float]) -> bool:
    """Whether the fitted solution (its named constants' values in `constants`) satisfies the ODE at the given
    points (dsolve's general solution may hold only for some signs of its constants: Torricelli's
    C1**2/4 - C1*k*t/2 + ...)."""
    import sympy as sp

    residual = (equation.lhs - equation.rhs).subs(constants).subs(f, solution).doit()
    for x in points:
        value = real_value(residual.subs(t, sp.nsimplify(x, rational=True)))
        scale = real_value(solution.subs(t, sp.nsimplify(x, rational=True)))
        if value is None or scale is None or abs(value) > 1e-6 * max(1.0, abs(scale)):
            return False
    return True


def _points(ics: dict[Any, Any], t: Any, at: float) -> list[float]:
    """The conditions' points and the point asked (where finite): where a fitted solution must solve the ODE."""
    import sympy as sp

    found = {float(sp.N(condition_key(k, t)[2])) for k in ics}
    return sorted(found | ({at} if math.isfinite(at) else set()))


def fitted_value(spec: ODESpec) -> tuple[float, bool]:
    """The quantity at the point, the unknown constants (dsolve's and `spec.parameters`) fitted to the
    conditions, and whether it was computed exactly (no Newton step)."""
    import sympy as sp

    t, funcs, equations, ics, quantity = parse(spec)
    if len(funcs) != 1:
        raise ODEError("constants are fitted to conditions for one unknown function only")
    f = funcs[0]
    named = [sp.Symbol(p, real=True) for p in parameters(spec)]
    equation = sp.nsimplify(equations[0], rational=True)
    for what, expr in (("the equation", equation), ("the quantity", quantity)):
        stray = expr.free_symbols - {t, *named}
        if stray:
            raise ODEError(f"{what} still depends on {sorted(map(str, stray))}: give every constant a number "
                           "or name it an unknown constant")
    general = sp.dsolve(equation, f)
    branches = general if isinstance(general, list) else [general]
    if any(b.lhs != f for b in branches):  # an implicit solution: not a value of f to fit
        raise ODEError(f"dsolve gave an implicit solution ({branches[0]}), not {f} itself")
    values: list[float] = []
    dropped: list[str] = []
    exact = True
    for branch in branches:
        constants = sorted(branch.rhs.free_symbols - {t, *named}, key=str)
        unknowns = constants + named
        if len(ics) < len(unknowns):
            raise ODEError(f"{len(unknowns)} unknown constants ({', '.join(map(str, unknowns))}) need as many "
                           f"conditions; the problem's numbers gave {len(ics)}")
        solutions, found_exactly = _solutions([_condition(k, v, t, branch.rhs) for k, v in ics.items()],
                                              constants, named)
        exact = exact and found_exactly
        for solution in solutions:
            fitted = branch.rhs.subs(solution)
            if not all(real_value(v) is not None for v in solution.values()):
                dropped.append("complex constants")
            elif not _solves(equation, f, t, fitted, solution, _points(ics, t, spec.at)):
                dropped.append("a fit that does not solve the equation")
            elif (value := _value_of(quantity, f, branch.rhs, t, spec.at, solution)) is None:
                dropped.append("no finite real value at the point asked")
            else:
                values.append(value)
    if not values:
        why = f" (found and dropped: {', '.join(sorted(set(dropped)))})" if dropped else ""
        raise ODEError(f"no real values of the unknown constants meet every condition{why}: do the conditions "
                       "contradict each other or the equation?")
    first = values[0]
    if any(abs(v - first) > 1e-6 * max(1.0, abs(first)) for v in values):
        raise ODEError(f"the conditions allow several answers: {sorted({round(v, 6) for v in values})}")
    return first, exact
