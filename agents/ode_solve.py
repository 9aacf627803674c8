"""Mamo ODEs, solved: parse the model's sympy-parsable equations safely, sympy dsolve, else scipy solve_ivp.

    solve_ode(ODESpec(functions=["y"], variable="t", equations=["y' = 2 - 3*y/(100 + 2*t)"],
                      initial_conditions=["y(0) = 0"], quantity="y/(100 + 2*t)", at=20))  # (0.2275..., "numeric")

The text is screened before sympy reads it (only math characters, no builtins or dunder names);
derivatives may be written y', y'', dy/dt or Derivative(y(t), t). dsolve runs in a forked child
killed at its deadline (solvers/deadline.py); the numeric fallback rewrites the system in first-order
form and integrates it with tight tolerances (rtol 1e-10).
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.errors import InvalidInput
from ratiocinator.solvers.deadline import call_with_deadline

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TEXT_OK = re.compile(r"^[A-Za-z0-9_\s+\-*/^().,='\[\]]*$")
_MATH = {
    "exp",
    "log",
    "ln",
    "sqrt",
    "sin",
    "cos",
    "tan",
    "sinh",
    "cosh",
    "tanh",
    "atan",
    "asin",
    "acos",
    "pi",
    "E",
    "Abs",
    "Derivative",
}


class ODEConfig(BaseModel):
    """Defaults of the Mamo ODE agent (Huang et al., 2024: model the problem, a solver computes the answer)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    correction_rounds: int = Field(2, ge=0, le=8)
    max_tokens: int = Field(320, ge=32)
    correction_temperature: float = Field(
        0.7, ge=0.0, description="a greedy fix would often repeat the error"
    )
    dsolve_timeout: float = Field(
        10.0, gt=0, description="seconds for sympy dsolve before the numeric fallback"
    )
    numeric_timeout: float = Field(10.0, gt=0, description="seconds for scipy solve_ivp")


class ODESpec(BaseModel):
    """What the model writes: the ODE system, its initial conditions, and the quantity asked at a point."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    functions: list[str] = Field(min_length=1, max_length=4)
    variable: str = Field(max_length=8)
    equations: list[str] = Field(min_length=1, max_length=4)
    initial_conditions: list[str] = Field(max_length=8)
    quantity: str = Field(max_length=200)
    at: float


class ODEError(InvalidInput):
    """An ODE the model wrote that does not parse or cannot be solved; the message says where."""


def _screen(text: str, allowed: set[str], where: str) -> str:
    if not _TEXT_OK.match(text) or "__" in text or re.search(r"\.[A-Za-z_]", text):
        raise ODEError(f"{where} {text!r}: only numbers, names, + - * / ^ ( ) ' and = may appear")
    for name in _NAME.findall(text):
        if name not in allowed and (keyword.iskeyword(name) or hasattr(builtins, name)):
            raise ODEError(f"{where} {text!r}: the name {name!r} is not allowed")
    return text.replace("^", "**").replace("[", "(").replace("]", ")")


def _derivatives(text: str, functions: list[str], var: str) -> str:
    """y'' -> Derivative(y(t), (t, 2)); dy/dt -> Derivative(y(t), t); bare y -> y(t)."""
    for f in functions:
        text = re.sub(
            rf"\bd\^?2\s*{f}\s*/\s*d{var}\^?2", f"Derivative({f}({var}), ({var}, 2))", text
        )
        text = re.sub(rf"\bd{f}\s*/\s*d{var}\b", f"Derivative({f}({var}), {var})", text)
        text = re.sub(
            rf"\b{f}('+)(\(\s*{var}\s*\))?",
            lambda m, f=f: f"Derivative({f}({var}), ({var}, {len(m.group(1))}))",
            text,
        )
        text = re.sub(rf"\b{f}\b(?!\s*\()", f"{f}({var})", text)
    return text


def _parse(spec: ODESpec) -> tuple[Any, list[Any], list[Any], dict[Any, Any], Any]:
    """(t, functions, equations, initial conditions for dsolve, quantity) as sympy objects."""
    import sympy as sp
    from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

    var = spec.variable.strip()
    names = [f.strip() for f in spec.functions]
    for n in [var, *names]:
        if not _NAME.fullmatch(n) or n in _MATH or keyword.iskeyword(n) or hasattr(builtins, n):
            raise ODEError(f"name {n!r}: functions and the variable must be plain identifiers")
    t = sp.Symbol(var, real=True)
    funcs = {n: sp.Function(n) for n in names}
    local = {var: t, **funcs, "ln": sp.log, "E": sp.E, "pi": sp.pi, "Derivative": sp.Derivative}
    allowed = {var, *names, *_MATH}

    def expr(text: str, where: str) -> Any:
        try:
            return parse_expr(
                text, local_dict=local, transformations=(*standard_transformations, convert_xor)
            )
        except Exception as exc:
            raise ODEError(f"{where} {text!r}: {type(exc).__name__}: {exc}") from None

    def relation(text: str, where: str) -> tuple[str, str]:
        sides = text.replace("==", "=").split("=")
        if len(sides) != 2:
            raise ODEError(f"{where} {text!r}: expected one '=' (left = right)")
        return sides[0], sides[1]

    if len(spec.equations) != len(names):
        raise ODEError(
            f"{len(names)} unknown functions {names} need {len(names)} equations, got {len(spec.equations)}"
        )
    equations = []
    for i, raw in enumerate(spec.equations):
        where = f"equations[{i}]"
        lhs, rhs = relation(_screen(raw, allowed, where), where)
        equations.append(
            sp.Eq(
                expr(_derivatives(lhs, names, var), where),
                expr(_derivatives(rhs, names, var), where),
            )
        )
    ics: dict[Any, Any] = {}
    for i, raw in enumerate(spec.initial_conditions):
        where = f"initial_conditions[{i}]"
        lhs, rhs = relation(_screen(raw, allowed, where), where)
        m = re.fullmatch(rf"\s*({'|'.join(map(re.escape, names))})('*)\s*\((.+)\)\s*", lhs)
        if m is None:
            raise ODEError(
                f"{where} {raw!r}: expected f(t0) = value or f'(t0) = value for a function in {names}"
            )
        at = expr(m.group(3), where)
        order = len(m.group(2))
        key = (
            funcs[m.group(1)](at)
            if order == 0
            else sp.Derivative(funcs[m.group(1)](t), (t, order)).subs(t, at)
        )
        ics[key] = expr(rhs, where)
    quantity = expr(
        _derivatives(_screen(spec.quantity, allowed, "quantity"), names, var), "quantity"
    )
    return t, [funcs[n](t) for n in names], equations, ics, quantity


def _real(value: Any, where: str) -> float:
    import sympy as sp

    number = complex(sp.N(value))
    if abs(number.imag) > 1e-9 * max(1.0, abs(number.real)) or not math.isfinite(number.real):
        raise ODEError(f"{where}: the value {number} is not a finite real number")
    return number.real


def _dsolve(spec: ODESpec) -> float:
    import sympy as sp

    t, funcs, equations, ics, quantity = _parse(spec)
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


def _numeric(spec: ODESpec) -> float:
    import numpy as np
    import sympy as sp
    from scipy.integrate import solve_ivp

    t, funcs, equations, ics, quantity = _parse(spec)
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
    given: dict[tuple[Any, int], Any] = {}
    points = set()
    for key, value in ics.items():
        if isinstance(key, sp.Subs):  # f'(a): Subs(Derivative(f(t), (t, k)), t, a)
            f, k, a = key.args[0].expr, key.args[0].derivative_count, key.args[2][0]
        else:
            f, k, a = key.func(t), 0, key.args[0]
        given[(f, k)] = value
        points.add(float(sp.N(a)))
    missing = [str(sp.Derivative(f, (t, k)) if k else f) for f, k in states if (f, k) not in given]
    if len(points) != 1 or missing:
        raise ODEError(
            f"the numeric solver needs initial conditions at one point for {len(states)} states"
            + (f"; missing {missing}" if missing else "")
        )
    t0 = points.pop()
    y0 = [_real(given[s], "initial condition") for s in states]
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


def solve_ode(
    spec: ODESpec, config: ODEConfig | None = None
) -> tuple[float, Literal["dsolve", "numeric"]]:
    """The quantity at the point: sympy dsolve in a bounded child process, else scipy solve_ivp."""
    config = config or ODEConfig()
    try:
        _parse(spec)  # parse errors are reported as they are, not hidden behind the fallback
    except ODEError:
        raise
    except Exception as exc:  # sympy raises many kinds of errors on text it cannot make sense of
        raise ODEError(f"the ODE cannot be read: {type(exc).__name__}: {exc}") from None
    try:
        return call_with_deadline(
            lambda: _dsolve(spec), config.dsolve_timeout, what="dsolve"
        ), "dsolve"
    # any failure of dsolve (a form it cannot solve, its deadline, a sympy error): integrate numerically
    except Exception as first:
        try:
            return call_with_deadline(
                lambda: _numeric(spec), config.numeric_timeout, what="solve_ivp"
            ), "numeric"
        except Exception as exc:
            raise ODEError(f"dsolve: {_say(first)}; numeric fallback: {_say(exc)}") from None
