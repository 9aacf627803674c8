"""Symbolic derivation items and sympy step checks: generate premise-to-goal derivations, plant errors, judge steps.

Shared by two method kits: reasoning/derivation/ (the model writes the steps, sympy checks each) and
reasoning/critique/ (a critic gets sympy's verdict on each symbolic step); the benchmarks make their
items here. Following "Generating Mathematical Derivations with
Large Language Models" (Meadows et al., 2023), test items come from a symbolic engine: a premise
equation and a definition are transformed by known operations (substitute, expand, move a term,
divide, solve), so each item has a known derivation and goal that sympy has verified.

A step is judged against the step before it *and the premises*: every definition `v = expr` is
substituted into both, then solvers.symbolic.check_step decides (equivalent / implied / invalid).
A step that becomes an identity after substitution (a premise restated, `0 = 0`) carries nothing
towards the goal: it is `irrelevant`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ratiocinator.errors import InvalidInput
from ratiocinator.solvers.symbolic import MathParseError, check_step, parse

#: sympy's verdict on one step (not the Verdict of a method's result, kit/verdict.py)
StepVerdict = Literal["valid", "invalid", "irrelevant", "unknown", "unparsed"]


@dataclass(frozen=True, kw_only=True)
class DerivationItem:
    """A premise equation, the definitions it may use, a goal, and a known derivation (premise .. goal)."""

    id: str
    premise: str
    definitions: tuple[str, ...]
    goal: str
    steps: tuple[str, ...]  # steps[0] is the premise, steps[-1] the goal
    operations: tuple[str, ...]  # the operation that produced steps[i + 1]

    @property
    def premises(self) -> tuple[str, ...]:
        return (self.premise, *self.definitions)

    def problem(self) -> str:
        """The task in words: derive the goal from the premises."""
        given = "; ".join(self.premises)
        return f"Given {given}, derive the equation {self.goal}."


@dataclass(frozen=True, kw_only=True)
class StepJudgement:
    """sympy's verdict on one step, with the reason in words."""

    verdict: StepVerdict
    detail: str = ""


def _nonzero(rng: random.Random, low: int = -5, high: int = 5) -> int:
    return rng.choice([k for k in range(low, high + 1) if k not in (0, 1, -1)])


def _fmt(expr: object) -> str:
    return str(expr).replace("**", "^")


def generate_item(seed: int) -> DerivationItem:
    """One derivation with a known answer, reproducible from `seed` (two templates, random coefficients)."""
    import sympy as sp

    rng = random.Random(seed)
    x, t = sp.symbols("x t")
    a, b, c, d = _nonzero(rng), rng.randint(-9, 9), _nonzero(rng), rng.randint(1, 9)
    if seed % 2 == 0:  # linear: y = a x + b, x = c t + d  ->  t in terms of y
        rhs = a * x + b
        definition = sp.Eq(x, c * t + d, evaluate=False)
    else:  # quadratic: y = a x^2 + b, x = t + d  ->  y as a polynomial in t
        rhs = a * x**2 + b
        definition = sp.Eq(x, t + d, evaluate=False)
    steps = [f"y = {_fmt(rhs)}"]
    ops = ["substitute"]
    substituted = rhs.subs(x, definition.rhs)
    steps.append(
        "y = " + _fmt(rhs).replace("x", f"({_fmt(definition.rhs)})")
    )  # as written, not expanded
    expanded = sp.expand(substituted)
    ops.append("expand")
    steps.append(f"y = {_fmt(expanded)}")
    const = expanded.subs(t, 0)
    moved = sp.expand(expanded - const)
    ops.append("subtract")
    steps.append(
        f"y - {_fmt(const)} = {_fmt(moved)}"
        if const >= 0
        else f"y + {_fmt(-const)} = {_fmt(moved)}"
    )
    left = steps[-1].split(" = ")[0]
    if seed % 2 == 0:
        coeff = moved.coeff(t)
        ops.append("divide")
        steps.append(
            f"t = ({left})/{_fmt(coeff)}" if coeff > 0 else f"t = ({left})/({_fmt(coeff)})"
        )
    else:
        ops.append("factor")
        steps.append(f"{left} = {_fmt(sp.factor(moved))}")
    item_id = f"deriv-{seed}"
    return DerivationItem(
        id=item_id,
        premise=steps[0],
        definitions=(f"x = {_fmt(definition.rhs)}",),
        goal=steps[-1],
        steps=tuple(steps),
        operations=tuple(ops),
    )


def plant_error(item: DerivationItem, seed: int) -> tuple[tuple[str, ...], int]:
    """The derivation's steps after the premise, one changed so that it no longer follows; (steps, 0-based index).

    The change (a coefficient off by one, or a sign flipped) is checked by sympy to break the step.
    """
    rng = random.Random(seed)
    body = list(item.steps[1:])
    for _ in range(20):
        k = rng.randrange(len(body))
        numbers = list(re.finditer(r"(?<![\w^])\d+", body[k]))
        if not numbers:
            continue
        m = rng.choice(numbers)
        value = int(m.group())
        new = str(value + rng.choice([1, 2])) if rng.random() < 0.7 else str(value * 2)
        wrong = body[k][: m.start()] + new + body[k][m.end() :]
        before = item.steps[k]  # the step before body[k] (steps[0] is the premise)
        if judge_step(before, wrong, item.definitions).verdict == "invalid":
            body[k] = wrong
            return tuple(body), k
    raise InvalidInput(f"{item.id}: could not plant a checkable error (seed {seed})")


def _definitions(definitions: Sequence[str]) -> dict:
    import sympy as sp

    subs = {}
    for text in definitions:
        (rel,) = parse(text)
        if not isinstance(rel, sp.Eq) or not isinstance(rel.lhs, sp.Symbol):
            raise InvalidInput(f"definition {text!r}: expected `name = expression`")
        subs[rel.lhs] = rel.rhs
    return subs


def _substituted(text: str, subs: dict) -> object:
    import sympy as sp

    alternatives = parse(text)
    if len(alternatives) != 1 or not isinstance(alternatives[0], sp.Eq):
        raise MathParseError(f"{text!r}: expected one equation")
    rel = alternatives[0]
    return sp.Eq(rel.lhs.xreplace(subs), rel.rhs.xreplace(subs), evaluate=False)


def judge_step(before: str, after: str, definitions: Sequence[str] = ()) -> StepJudgement:
    """Whether equation `after` follows from equation `before` given the definitions (substituted in both)."""
    import sympy as sp

    subs = _definitions(definitions)
    try:
        b = _substituted(before, subs)
        a = _substituted(after, subs)
    except MathParseError as exc:
        return StepJudgement(verdict="unparsed", detail=str(exc))
    if sp.simplify(a.lhs - a.rhs) == 0:
        return StepJudgement(
            verdict="irrelevant", detail="an identity once the definitions are substituted"
        )
    check = check_step(_fmt(b.lhs) + " = " + _fmt(b.rhs), _fmt(a.lhs) + " = " + _fmt(a.rhs))
    if check.valid:
        return StepJudgement(verdict="valid", detail=f"{check.kind}: {check.detail}")
    return StepJudgement(
        verdict="invalid" if check.kind == "invalid" else "unknown", detail=check.detail
    )


def same_equation(a: str, b: str) -> bool:
    """Whether two equations have equal sides (left with left, right with right, or swapped), up to algebra.

    Stricter than equivalence: `y = 24 - 20*t` is equivalent to the goal `t = (y - 24)/(-20)` but does not
    state it.
    """
    sides_a, sides_b = a.split("="), b.split("=")
    if len(sides_a) != 2 or len(sides_b) != 2:
        return False

    def equal(x: str, y: str) -> bool:
        try:
            return check_step(x, y).kind == "equivalent"
        except MathParseError:
            return False

    (la, ra), (lb, rb) = sides_a, sides_b
    return (equal(la, lb) and equal(ra, rb)) or (equal(la, rb) and equal(ra, lb))


#: `numbers and operators = number`; the left side may start with a minus ("-5 + 37 = 32"), the right side is a
#: number that no operator or symbol continues ("= 92n - 91n", "= 10 - y", "= 3\\frac{1}{2}" are not claims
#: that the left side is 92, 10 or 3)
_ARITH = re.compile(
    r"(-?(?:\d+(?:\.\d+)?\s*[-+*/]\s*\(?)+\d+(?:\.\d+)?\)?)\s*=\s*(-?\d+(?:\.\d+)?)"
    r"(?![\d.]*\s*[-+*/^]\s*[\w(\\{])(?![\d.]*[A-Za-z_(^\\{])"
)
#: after a whole quotient, the remainder it leaves: "= 1 with a remainder of 77", "= 0 R 10", "= 4 rem 2"
_REMAINDER = re.compile(r"[^=\d]{0,30}?\b(?:remainder|rem|R)\b\s*(?:of\s*)?(\d+)", re.IGNORECASE)
#: "= 6 full rotations with 90 degrees remaining"
_REMAINING = re.compile(r"[^=\d]{0,40}?\bwith\s+(\d+)[^=\d]{0,30}?\bremaining\b", re.IGNORECASE)
#: "= 2 (quotient)": the whole part of the division, named so
_QUOTIENT_WORD = re.compile(r"[^=\d]{0,20}?\bquotient\b", re.IGNORECASE)
_WHOLE_DIVISION = re.compile(r"(\d+)\s*/\s*(\d+)")


def _continues_an_expression(norm: str, start: int) -> bool:
    """Whether the claim found at `start` is the tail of a longer expression ("-40 - B + 10 + 4 = -25": not
    "10 + 4 = -25"; "x^{2} + 3 = 7": not "2 + 3 = 7"): a symbol, digit, bracket, brace or power sign right
    before it, or an operator, before the spaces, that follows an operand (a bullet "- 18 + 6 = 25" does not)."""
    before = norm[:start]
    if before and (before[-1].isalnum() or before[-1] in "._){^\\"):
        return True
    before = before.rstrip()
    if not before or before[-1] not in "+-*/^":
        return False
    operand = before[:-1].rstrip()
    return bool(operand) and (operand[-1].isalnum() or operand[-1] in ")}")


def _division(lhs: str, rhs: str, after: str, at: int) -> tuple[str, bool] | None:
    """A whole-number division stated with its remainder or as the quotient, checked as such; else None."""
    m = _WHOLE_DIVISION.fullmatch(lhs)
    if m is None or "." in rhs or rhs.startswith("-"):
        return None
    a, b, q = int(m.group(1)), int(m.group(2)), int(rhs)
    named = _REMAINDER.match(after, at) or _REMAINING.match(after, at)
    if named is not None:
        r = int(named.group(1))
        return f"{lhs} = {rhs} remainder {r}", b != 0 and a == q * b + r and 0 <= r < b
    if _QUOTIENT_WORD.match(after, at):
        return f"{lhs} = {rhs} (the whole quotient)", b != 0 and a // b == q
    return None


def _normalized(text: str) -> str:
    """A prose step with its numbers and operators in plain form (thousands commas, LaTeX products, spacing)."""
    norm = re.sub(r"(?<=\d)(?:,|\{,\})(?=\d{3}(?!\d))", "", text).replace("\u2212", "-")  # 1,200 1{,}200
    norm = re.sub(r"\\times|×|\\cdot|·", "*", norm)
    norm = re.sub(r"(?<=\d)\s*x\s*(?=\d)", "*", norm).replace("÷", "/").replace("\\div", "/")
    norm = re.sub(r"\\text\{([^{}]*)\}", r" \1 ", norm)  # "\text{ remainder }": the words
    return re.sub(r"\\[()\[\],;:!]|\\q?quad|\$", " ", norm)


def _claims(text: str) -> list[tuple[str, str, tuple[str, bool] | None]]:
    """(left side, number, the whole-division reading when one applies) of each claim in a prose step."""
    norm = _normalized(text)
    return [(m.group(1).strip(), m.group(2), _division(m.group(1).strip(), m.group(2), norm, m.end()))
            for m in _ARITH.finditer(norm) if not _continues_an_expression(norm, m.start(1))]


def arithmetic_claims(text: str) -> list[tuple[str, str]]:
    """The `expression = number` claims in a prose step ("18 - 6 = 12", "<<2*6=12>>", "3 \\times 4 = 12")."""
    return [(lhs, rhs) for lhs, rhs, _ in _claims(text)]


def check_arithmetic(text: str) -> list[tuple[str, bool]]:
    """Each arithmetic claim of a step and whether sympy confirms it (exact, or equal to the shown decimals)."""
    import sympy as sp

    out = []
    for lhs, rhs, division in _claims(text):
        if division is not None:  # "410 / 333 = 1 with a remainder of 77": checked as whole-number division
            out.append(division)
            continue
        # digits and operators only, so the in-process check cannot run away (no timeout needed)
        try:
            value = sp.nsimplify(parse(lhs)[0])
            if not value.is_finite:
                continue
            ok = check_step(lhs, rhs, timeout=None).valid
        except (MathParseError, TypeError, ValueError):
            continue
        decimals = len(rhs.split(".")[1]) if "." in rhs else 0
        ok = ok or (
            decimals > 0 and abs(float(value) - float(sp.Rational(rhs))) <= 0.5 * 10**-decimals
        )
        out.append((f"{lhs} = {rhs}", bool(ok)))
    return out
