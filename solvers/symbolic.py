"""Symbolic math with sympy: parse text or LaTeX, check derivation steps, solve equations, each check explained.

    check_step(r"2x + 3x", r"5x")                        # StepCheck(valid=True, kind="equivalent", ...)
    check_step(r"x^2 = 4", r"x = 2")                     # invalid: x = -2 is lost
    check_step(r"x = 2", r"x^2 = 4")                     # valid: implied
    check_derivation([r"\\sqrt{x^2}", "x"], {"x": "positive"})
    solve_equations(["x + y = 3", "x - y = 1"])          # ({"x": "2", "y": "1"},)

LaTeX goes through sympy's `parse_latex` (needs antlr4-python3-runtime 4.11) with its gaps fixed:
`\\pi` is the constant, `e` is Euler's number, `\\pm` / `\\mp` give both alternatives, `\\%` divides by 100.
Plain text is screened (no names with `__`, no attribute access, only math characters) before sympy
reads it. When simplification cannot decide, a numeric test at random points decides, with the
tolerance stated in the result (`method="numeric"`).

Every call is bounded in time (`timeout`, default `DEFAULT_TIMEOUT` seconds; per step for a
derivation): sympy runs in a forked child that is killed at the deadline (solvers/deadline.py), so a
`simplify` that would run for hours cannot hang the caller. A step stopped at the deadline is
`kind="unknown", method="timeout"` ("inconclusive: timeout"); `solve_equations` raises
`DeadlineExceeded`. `timeout=None` runs in this process without a bound.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ratiocinator.errors import InvalidInput
from ratiocinator.solvers.deadline import DeadlineExceeded, call_with_deadline

#: Seconds a check (or each step of a derivation) or a solve may take before it is stopped.
DEFAULT_TIMEOUT = 5.0
NUMERIC_TOLERANCE = 1e-9
SAMPLES = 24
Assumption = Literal["positive", "nonnegative", "negative", "real", "integer", "nonzero"]
_PLAIN_OK = re.compile(r"^[A-Za-z0-9_\s+\-*/^().,=<>!±√π%]*$")
_LATEX_HINT = re.compile(r"\\|\^\{|_\{|\{")


class MathParseError(InvalidInput):
    """Text that is not a formula this module can read; says which and why."""


@dataclass(frozen=True, kw_only=True)
class StepCheck:
    """Whether `after` follows from `before`: equivalent, implied (one way), invalid, or unknown."""

    valid: bool
    kind: Literal["equivalent", "implied", "invalid", "unknown"]
    method: Literal["symbolic", "numeric", "timeout"]
    detail: str = ""
    tolerance: float | None = None

    @property
    def inconclusive(self) -> bool:
        """Neither shown valid nor shown invalid (undecidable here, or stopped at the time limit)."""
        return self.kind == "unknown"


@dataclass(frozen=True, kw_only=True)
class DerivationCheck:
    """`first_invalid` is the 1-based index of the first step not shown to follow from the one before.

    `checks[i]` compares step i + 2 with step i + 1; its `kind` says whether a step is wrong
    (`invalid`) or could not be decided (`unknown`); `timed_out` lists the steps stopped at the limit.
    """

    valid: bool
    first_invalid: int | None
    checks: tuple[StepCheck, ...]
    timed_out: tuple[int, ...] = ()


def _symbols(text: str, assumptions: Mapping[str, str]) -> dict[str, Any]:
    import sympy as sp

    table: dict[str, Any] = {}
    for name, kind in assumptions.items():
        if kind not in Assumption.__args__:  # type: ignore[attr-defined]
            raise MathParseError(f"assumption {name}: {kind!r}; expected one of {', '.join(Assumption.__args__)}")  # type: ignore[attr-defined]
        table[name] = sp.Symbol(name, **{kind: True})
    return table


def _fix_constants(expr: Any, table: Mapping[str, Any]) -> Any:
    import sympy as sp

    subs = {}
    for sym in expr.free_symbols:
        if sym.name == "pi" and "pi" not in table:
            subs[sym] = sp.pi
        elif sym.name == "e" and "e" not in table:
            subs[sym] = sp.E
        elif sym.name in table:
            subs[sym] = table[sym.name]
    expr = expr.xreplace(subs) if subs else expr
    # `x (a + b)` reads as a function x applied to a + b; when x is also a variable, it is a product
    names = {s.name: s for s in expr.free_symbols}
    calls = {f: names[f.func.__name__] * f.args[0] for f in expr.atoms(sp.core.function.AppliedUndef)
             if f.func.__name__ in names and len(f.args) == 1}
    expr = expr.xreplace(calls) if calls else expr
    return expr.doit()


def _alternatives(text: str) -> list[str]:
    """`a \\pm b` -> [`a + b`, `a - b`] (each ± or ∓ doubles the list; ∓ takes the opposite sign)."""
    variants = [text]
    for _ in range(4):
        nxt = []
        for v in variants:
            m = re.search(r"\\pm|\\mp|±|∓|\+-", v)
            if not m:
                nxt.append(v)
                continue
            minus_first = m.group() in (r"\mp", "∓")
            for sign in (("-", "+") if minus_first else ("+", "-")):
                nxt.append(v[: m.start()] + sign + v[m.end():])
        variants = nxt
    return variants


def _parse_one(text: str, table: Mapping[str, Any], latex: bool) -> Any:
    import sympy as sp

    if latex:
        from sympy.parsing.latex import parse_latex

        text = text.replace(r"\%", "/100").replace(r"\,", " ").replace(r"\!", "").replace(r"\;", " ")
        try:
            expr = parse_latex(text)
        except Exception as exc:
            raise MathParseError(f"LaTeX {text!r}: {str(exc).splitlines()[0]}") from None
        return _fix_constants(expr, table)
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    if not _PLAIN_OK.match(text) or "__" in text or re.search(r"\.[A-Za-z_]", text):
        raise MathParseError(f"{text!r}: only numbers, names, + - * / ^ ( ) and = < > may appear in plain text")
    text = text.replace("π", "pi").replace("√", "sqrt").replace("%", "/100")
    relation = re.search(r"<=|>=|==|!=|=|<|>", text)
    transformations = (*standard_transformations, implicit_multiplication_application, convert_xor)
    local = {"e": sp.E, **table}
    try:
        if relation:
            op = relation.group()
            lhs, rhs = text[: relation.start()], text[relation.end():]
            if re.search(r"<=|>=|==|!=|=|<|>", rhs):
                raise MathParseError(f"{text!r}: one relation per formula")
            sides = [parse_expr(s, local_dict=local, transformations=transformations) for s in (lhs, rhs)]
            cls = {"=": sp.Eq, "==": sp.Eq, "<=": sp.Le, ">=": sp.Ge, "<": sp.Lt, ">": sp.Gt, "!=": sp.Ne}[op]
            return cls(*sides, evaluate=False)
        return parse_expr(text, local_dict=local, transformations=transformations)
    except MathParseError:
        raise
    except Exception as exc:
        raise MathParseError(f"{text!r}: {type(exc).__name__}: {exc}") from None


def parse(text: str, assumptions: Mapping[str, str] | None = None, *, latex: bool | None = None) -> tuple[Any, ...]:
    """The formula's alternatives (one unless it has ±): sympy expressions or relations."""
    if not isinstance(text, str) or not text.strip():
        raise MathParseError("the formula is empty")
    text = text.strip().strip("$").strip()
    text = re.sub(r"^\\\[|\\\]$", "", text).strip()
    table = _symbols(text, assumptions or {})
    use_latex = bool(_LATEX_HINT.search(text)) if latex is None else latex
    return tuple(_parse_one(v, table, use_latex) for v in _alternatives(text))


def _is_relation(expr: Any) -> bool:
    import sympy as sp

    return isinstance(expr, sp.core.relational.Relational)


def _sample(symbols: Sequence[Any], rng: random.Random) -> dict[Any, float]:
    point = {}
    for s in symbols:
        magnitude = rng.uniform(0.2, 3.0)
        if s.is_integer:
            magnitude = float(rng.randint(1, 6))
        negative_ok = not (s.is_positive or s.is_nonnegative)
        point[s] = -magnitude if negative_ok and rng.random() < 0.5 else magnitude
        if s.is_negative:
            point[s] = -magnitude
    return point


def _numeric_equal(a: Any, b: Any) -> tuple[bool | None, str]:
    """Compare at random points: (True, ""), (False, counterexample) or (None, why) if nothing evaluates."""
    import sympy as sp

    symbols = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    rng = random.Random(0)
    used = 0
    for _ in range(SAMPLES * 3):
        point = _sample(symbols, rng)
        try:
            va, vb = complex(sp.N(a.subs(point), 30)), complex(sp.N(b.subs(point), 30))
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if any(v != v or abs(v) == float("inf") for v in (va, vb)):
            continue
        used += 1
        if abs(va - vb) > NUMERIC_TOLERANCE * (1 + max(abs(va), abs(vb))):
            where = ", ".join(f"{s}={v:.4g}" for s, v in point.items())
            return False, f"they differ at {where}: {va:.6g} vs {vb:.6g}"
        if used >= SAMPLES:
            return True, f"equal at {used} random points"
    return (True, f"equal at {used} random points") if used else (None, "no point where both evaluate")


def _expr_step(a: Any, b: Any) -> StepCheck:
    import sympy as sp

    try:
        difference = sp.simplify(a - b)
        if difference == 0:
            return StepCheck(valid=True, kind="equivalent", method="symbolic", detail="simplify(before - after) = 0")
        if difference.is_number and (a.has(sp.Float) or b.has(sp.Float)):
            gap = abs(complex(sp.N(difference, 30)))
            if gap <= NUMERIC_TOLERANCE * (1 + abs(complex(sp.N(a, 30)))):
                return StepCheck(valid=True, kind="equivalent", method="numeric", tolerance=NUMERIC_TOLERANCE,
                                 detail=f"equal up to {gap:.2g} (decimals in the step)")
        if difference.is_number and difference.is_finite and difference.is_zero is False:
            return StepCheck(valid=False, kind="invalid", method="symbolic",
                             detail=f"before - after simplifies to {difference}, not 0")
    except Exception:  # simplify may fail on exotic input; the numeric test still decides
        pass
    same, why = _numeric_equal(a, b)
    if same is None:
        return StepCheck(valid=False, kind="unknown", method="numeric", detail=why, tolerance=NUMERIC_TOLERANCE)
    return StepCheck(valid=same, kind="equivalent" if same else "invalid", method="numeric",
                     detail=why, tolerance=NUMERIC_TOLERANCE)


def _solutions(rels: Sequence[Any], unknown: Any) -> Any:
    import sympy as sp

    domain = sp.S.Integers if unknown.is_integer else (sp.S.Reals if unknown.is_real else sp.S.Complexes)
    result = sp.S.EmptySet
    for rel in rels:
        result = result.union(sp.solveset(rel, unknown, domain=domain))
    return result


def _relation_step(before: Sequence[Any], after: Sequence[Any]) -> StepCheck:
    """Relations (alternatives joined by `or`): compare solution sets in one unknown, or scale in several."""
    import sympy as sp

    free = set().union(*(r.free_symbols for r in (*before, *after)))
    if len(free) == 1:
        (x,) = free
        x_real = x if x.is_real else sp.Symbol(x.name, real=True)
        sub = {x: x_real}
        sb = _solutions([r.xreplace(sub) for r in before], x_real)
        sa = _solutions([r.xreplace(sub) for r in after], x_real)
        if sb == sa:
            return StepCheck(valid=True, kind="equivalent", method="symbolic", detail=f"both have solutions {sb}")
        if sb.is_subset(sa):
            return StepCheck(valid=True, kind="implied", method="symbolic",
                             detail=f"solutions {sb} of before are among {sa}")
        lost = sb - sa
        return StepCheck(valid=False, kind="invalid", method="symbolic",
                         detail=f"before has solutions {sb}, after {sa}: {lost} is lost" if lost != sb
                         else f"before has solutions {sb}, after {sa}")
    if len(before) == len(after) == 1 and type(before[0]) is type(after[0]):
        db, da = before[0].lhs - before[0].rhs, after[0].lhs - after[0].rhs
        if da == 0 or db == 0:
            return _expr_step(db, da)
        ratio = sp.simplify(db / da)
        if ratio.is_number and ratio != 0 and (isinstance(before[0], sp.Eq) or ratio.is_positive):
            return StepCheck(valid=True, kind="equivalent", method="symbolic",
                             detail=f"before is after multiplied by {ratio}")
        for x in sorted(free, key=lambda s: s.name):  # implication: solve before for x, substitute in after
            if not isinstance(before[0], sp.Eq):
                break
            try:
                sols = sp.solve(before[0], x, dict=True)
            except Exception:
                continue
            if sols and all(sp.simplify(da.subs(s)) == 0 for s in sols):
                return StepCheck(valid=True, kind="implied", method="symbolic",
                                 detail=f"after holds for every solution of before in {x}")
            if sols:
                return StepCheck(valid=False, kind="invalid", method="symbolic",
                                 detail=f"with {sols[0]} from before, after reads {sp.simplify(da.subs(sols[0]))} = 0")
    return StepCheck(valid=False, kind="unknown", method="symbolic", detail="could not compare these relations")


_warmed = False


def _bounded(job: Any, timeout: float | None, what: str) -> Any:
    """`job()` in a child killed after `timeout` seconds (DeadlineExceeded), or here when timeout is None."""
    global _warmed
    if timeout is None:
        return job()
    if not timeout > 0:
        raise InvalidInput(f"timeout must be positive seconds or None (no limit), got {timeout}")
    if not _warmed:  # import sympy and the LaTeX parser here once, not in every child
        parse("x + 1")
        try:
            parse(r"\frac{x}{2}")
        except MathParseError:  # antlr4 missing: LaTeX input will say so itself
            pass
        _warmed = True
    return call_with_deadline(job, timeout, what=what)


def check_step(before: str, after: str, assumptions: Mapping[str, str] | None = None, *,
               timeout: float | None = DEFAULT_TIMEOUT) -> StepCheck:
    """Does `after` follow from `before`? Expressions must be equal; relations must be implied.

    Within `timeout` seconds, else an inconclusive StepCheck (`method="timeout"`).
    """
    try:
        return _bounded(lambda: _check_step(before, after, assumptions), timeout, "checking the step")
    except DeadlineExceeded:
        return StepCheck(valid=False, kind="unknown", method="timeout",
                         detail=f"inconclusive: timeout (sympy did not decide within {timeout:g} s; "
                                "pass a larger timeout to try longer)")


def _check_step(before: str, after: str, assumptions: Mapping[str, str] | None) -> StepCheck:
    b, a = parse(before, assumptions), parse(after, assumptions)
    rel_b, rel_a = all(map(_is_relation, b)), all(map(_is_relation, a))
    if rel_b != rel_a:
        return StepCheck(valid=False, kind="invalid", method="symbolic",
                         detail="one side is an equation or inequality and the other an expression")
    if rel_b:
        return _relation_step(b, a)
    if len(b) != len(a):
        return StepCheck(valid=False, kind="invalid", method="symbolic", detail="a ± appears on one side only")
    checks = [_expr_step(x, y) for x, y in zip(b, a, strict=True)]
    bad = next((c for c in checks if not c.valid), None)
    return bad or checks[0]


def check_derivation(steps: Sequence[str], assumptions: Mapping[str, str] | None = None, *,
                     timeout: float | None = DEFAULT_TIMEOUT) -> DerivationCheck:
    """Check each step against the previous one (each within `timeout` s); name the first that does not follow."""
    if len(steps) < 2:
        raise InvalidInput(f"a derivation needs at least two steps, got {len(steps)}")
    checks = tuple(check_step(steps[i - 1], steps[i], assumptions, timeout=timeout) for i in range(1, len(steps)))
    first = next((i + 2 for i, c in enumerate(checks) if not c.valid), None)
    timed_out = tuple(i + 2 for i, c in enumerate(checks) if c.method == "timeout")
    return DerivationCheck(valid=first is None, first_invalid=first, checks=checks, timed_out=timed_out)


def solve_equations(equations: str | Sequence[str], unknowns: Sequence[str] | None = None,
                    assumptions: Mapping[str, str] | None = None, *,
                    timeout: float | None = DEFAULT_TIMEOUT) -> tuple[dict[str, str], ...]:
    """Solve one equation or a system; every solution returned has been substituted back and checked.

    Raises DeadlineExceeded ("inconclusive: timeout") when sympy has not finished within `timeout` s.
    """
    return _bounded(lambda: _solve(equations, unknowns, assumptions), timeout,
                    "solving the equations")


def _solve(equations: str | Sequence[str], unknowns: Sequence[str] | None,
           assumptions: Mapping[str, str] | None) -> tuple[dict[str, str], ...]:
    import sympy as sp

    texts = [equations] if isinstance(equations, str) else list(equations)
    rels = []
    for text in texts:
        parsed = parse(text, assumptions)
        if len(parsed) != 1:
            raise MathParseError(f"{text!r}: ± is not allowed in an equation to solve")
        rel = parsed[0]
        rels.append(rel if _is_relation(rel) else sp.Eq(rel, 0))
    free = sorted(set().union(*(r.free_symbols for r in rels)), key=lambda s: s.name)
    if unknowns:
        names = {s.name: s for s in free}
        missing = [u for u in unknowns if u not in names]
        if missing:
            raise InvalidInput(f"unknowns {missing} do not appear in the equations (they use {sorted(names)})")
        free = [names[u] for u in unknowns]
    solutions = sp.solve(rels, free, dict=True)
    checked = []
    for sol in solutions:
        residuals = [sp.simplify((r.lhs - r.rhs).subs(sol)) for r in rels if isinstance(r, sp.Eq)]
        if all(res == 0 or _numeric_equal(res, sp.Integer(0))[0] for res in residuals):
            checked.append({str(k): str(v) for k, v in sol.items()})
    return tuple(checked)
