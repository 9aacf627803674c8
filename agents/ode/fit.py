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

from ratiocinator.agents.ode.parse import parameters, parse
from ratiocinator.agents.ode.spec import ODEError, ODESpec

#: starting points of the numeric solve for each unknown (a rate constant is usually small and positive)
_GUESSES = (0.1, 1.0, 0.01, -0.1, 0.001, -0.01, 10.0)


def _real(value: Any) -> float | None:
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

    if isinstance(key, sp.Subs):  # f'(a): Subs(Derivative(f(t), (t, k)), t, a)
        k, a = key.args[0].derivative_count, key.args[2][0]
        return sp.Eq(sp.diff(general, t, k).subs(t, a), sp.nsimplify(value, rational=True))
    return sp.Eq(general.subs(t, key.args[0]), sp.nsimplify(value, rational=True))


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


def _solutions(conditions: list[Any], constants: list[Any], named: list[Any]) -> list[dict[Any, Any]]:
    """Every solution for dsolve's constants and the named ones that meets every condition.

    dsolve's constants enter linearly, so some of the conditions (tried in order) are solved for them
    exactly; the rest then hold only the named constants, solved numerically (sympy's solve can run for
    minutes on a rate constant inside an exponential). Conditions beyond those needed must hold too.
    """
    import sympy as sp

    residuals = [c.lhs - c.rhs for c in conditions]
    for subset in combinations(range(len(residuals)), len(constants)):
        try:
            exact = sp.solve([residuals[i] for i in subset], constants, dict=True)
        except (NotImplementedError, ValueError, TypeError):
            continue
        found = []
        for partial in (s for s in exact if set(s) >= set(constants)):
            rest = [sp.simplify(r.subs(partial)) for i, r in enumerate(residuals) if i not in subset]
            for fitted in _numeric(rest, named) if named else [{}]:
                if all(abs(complex(sp.N(r.subs(fitted)))) <= 1e-6 for r in rest):
                    found.append({**{c: v.subs(fitted) for c, v in partial.items()}, **fitted})
        if exact:
            return found
    return _numeric(residuals, [*constants, *named])


def _value_of(quantity: Any, f: Any, general: Any, t: Any, at: float, solution: dict[Any, Any]) -> float | None:
    import sympy as sp

    expr = quantity.subs(f, general.subs(solution)).doit()
    if math.isinf(at):
        expr = sp.limit(expr, t, sp.oo if at > 0 else -sp.oo)
    else:
        expr = expr.subs(t, sp.nsimplify(at, rational=True))
    return _real(expr)


def fitted_value(spec: ODESpec) -> float:
    """The quantity at the point, the unknown constants (dsolve's and `spec.parameters`) fitted to the conditions."""
    import sympy as sp

    t, funcs, equations, ics, quantity = parse(spec)
    if len(funcs) != 1:
        raise ODEError("constants are fitted to conditions for one unknown function only")
    f = funcs[0]
    named = [sp.Symbol(p, real=True) for p in parameters(spec)]
    general = sp.dsolve(sp.nsimplify(equations[0], rational=True), f)
    branches = general if isinstance(general, list) else [general]
    values: list[float] = []
    for branch in branches:
        constants = sorted(branch.rhs.free_symbols - {t, *named}, key=str)
        unknowns = constants + named
        if len(ics) < len(unknowns):
            raise ODEError(f"{len(unknowns)} unknown constants ({', '.join(map(str, unknowns))}) need as many "
                           f"conditions; the problem's numbers gave {len(ics)}")
        conditions = [_condition(k, v, t, branch.rhs) for k, v in ics.items()]
        for solution in _solutions(conditions, constants, named):
            if all(_real(v) is not None for v in solution.values()):
                value = _value_of(quantity, f, branch.rhs, t, spec.at, solution)
                if value is not None:
                    values.append(value)
    if not values:
        raise ODEError("no real values of the unknown constants meet every condition (do the conditions "
                       "contradict each other or the equation?)")
    first = values[0]
    if any(abs(v - first) > 1e-6 * max(1.0, abs(first)) for v in values):
        raise ODEError(f"the conditions allow several answers: {sorted({round(v, 6) for v in values})}")
    return first
