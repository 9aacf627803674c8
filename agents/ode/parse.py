"""The model's ODE text made into sympy objects, safely: screened before sympy reads it, derivatives in any common notation.

The text is screened before sympy reads it (only math characters, no builtins or dunder names);
derivatives may be written y', y'', dy/dt or Derivative(y(t), t).
"""

from __future__ import annotations

import builtins
import keyword
import re
from typing import Any

from ratiocinator.agents.ode.spec import ODEError, ODESpec

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

#: (t, functions applied to t, equations, initial conditions for dsolve, quantity) as sympy objects
Parsed = tuple[Any, list[Any], list[Any], dict[Any, Any], Any]


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


def _expr(text: str, where: str, local: dict[str, Any]) -> Any:
    from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

    try:
        return parse_expr(
            text, local_dict=local, transformations=(*standard_transformations, convert_xor)
        )
    except Exception as exc:
        raise ODEError(f"{where} {text!r}: {type(exc).__name__}: {exc}") from None


def _relation(text: str, where: str) -> tuple[str, str]:
    sides = text.replace("==", "=").split("=")
    if len(sides) != 2:
        raise ODEError(f"{where} {text!r}: expected one '=' (left = right)")
    return sides[0], sides[1]


def _names(spec: ODESpec) -> tuple[str, list[str]]:
    """The independent variable and the unknown functions, each a plain identifier (unknown constants too)."""
    var = spec.variable.strip()
    names = [f.strip() for f in spec.functions]
    for n in [var, *names, *parameters(spec)]:
        if not _NAME.fullmatch(n) or n in _MATH or keyword.iskeyword(n) or hasattr(builtins, n):
            what = "unknown constants" if n in parameters(spec) else "functions and the variable"
            raise ODEError(f"name {n!r}: {what} must be plain identifiers")
    clash = set(parameters(spec)) & {var, *names}
    if clash:
        raise ODEError(f"unknown constant {sorted(clash)[0]!r} is also the variable or a function")
    return var, names


def _equations(spec: ODESpec, names: list[str], var: str, allowed: set[str],
               local: dict[str, Any]) -> list[Any]:
    import sympy as sp

    if len(spec.equations) != len(names):
        raise ODEError(
            f"{len(names)} unknown functions {names} need {len(names)} equations, got {len(spec.equations)}"
        )
    equations = []
    for i, raw in enumerate(spec.equations):
        where = f"equations[{i}]"
        lhs, rhs = _relation(_screen(raw, allowed, where), where)
        equations.append(
            sp.Eq(
                _expr(_derivatives(lhs, names, var), where, local),
                _expr(_derivatives(rhs, names, var), where, local),
            )
        )
    return equations


def _initial_conditions(spec: ODESpec, names: list[str], t: Any, funcs: dict[str, Any],
                        allowed: set[str], local: dict[str, Any]) -> dict[Any, Any]:
    """{f(t0) or Derivative(f(t), (t, k)) at t0: value} as dsolve takes them."""
    import sympy as sp

    ics: dict[Any, Any] = {}
    for i, raw in enumerate(spec.initial_conditions):
        where = f"initial_conditions[{i}]"
        lhs, rhs = _relation(_screen(raw, allowed, where), where)
        m = re.fullmatch(rf"\s*({'|'.join(map(re.escape, names))})('*)\s*\((.+)\)\s*", lhs)
        if m is None:
            raise ODEError(
                f"{where} {raw!r}: expected f(t0) = value or f'(t0) = value for a function in {names}"
            )
        at = _expr(m.group(3), where, local)
        order = len(m.group(2))
        key = (
            funcs[m.group(1)](at)
            if order == 0
            else sp.Derivative(funcs[m.group(1)](t), (t, order)).subs(t, at)
        )
        ics[key] = _expr(rhs, where, local)
    return ics


def condition_key(key: Any, t: Any) -> tuple[Any, int, Any]:
    """(the function f(t), the derivative's order k, the point a) of an initial condition's key: f(a) or
    f^(k)(a), which sympy writes Subs(Derivative(f(t), (t, k)), t, a)."""
    import sympy as sp

    if isinstance(key, sp.Subs):
        return key.args[0].expr, key.args[0].derivative_count, key.args[2][0]
    return key.func(t), 0, key.args[0]


def parameters(spec: ODESpec) -> list[str]:
    """The unknown constants a stepwise ODE names (FittedSpec), none for one the model wrote whole."""
    return [p.strip() for p in getattr(spec, "parameters", [])]


def parse(spec: ODESpec) -> Parsed:
    """(t, functions, equations, initial conditions for dsolve, quantity) as sympy objects."""
    import sympy as sp

    var, names = _names(spec)
    t = sp.Symbol(var, real=True)
    funcs = {n: sp.Function(n) for n in names}
    consts = {p: sp.Symbol(p, real=True) for p in parameters(spec)}
    local = {var: t, **funcs, **consts, "ln": sp.log, "E": sp.E, "pi": sp.pi, "Derivative": sp.Derivative}
    allowed = {var, *names, *consts, *_MATH}
    equations = _equations(spec, names, var, allowed, local)
    ics = _initial_conditions(spec, names, t, funcs, allowed, local)
    quantity = _expr(
        _derivatives(_screen(spec.quantity, allowed, "quantity"), names, var), "quantity", local
    )
    return t, [funcs[n](t) for n in names], equations, ics, quantity
