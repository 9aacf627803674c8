"""Whether a formulation is the user's problem: its answer checked against the text it was written from (no model inside).

    check = check_text(text, formulation, result.values)      # result: what solvers.optimization.solve returned
    check.scope     # all | partial | doubtful | broken | unchecked
    check.reason    # what was checked and what was not, in words a user reads correctly
    check.feedback  # the same for a model that rewrites its formulation

A solver's "verified" says that its values satisfy the formulation it was given; this module says
whether that formulation is the problem of the text. What it checks, knowing nothing of any domain:

- each constraint the text states in symbols (`2y <= 12`, `x + y >= 3`, `x, y >= 0`; read by
  solvers.statements) is in the formulation (a constraint row or a variable's bound that is a
  positive multiple of it) and holds at the answer;
- an objective the text states in symbols (`Maximize 3x + 5y`) is the formulation's, with its sense;
- each number of the text outside those formulas is used by the formulation: a parameter, a literal,
  a bound, a set's size or the number of variables, a percentage as its fraction, or the product or
  quotient of two numbers of the text (0 and 1 are not counted);
- when the text states its whole problem in symbols (an objective, and every number in a formula),
  that problem is solved on its own and must have the answer's optimal value: the formulation then adds
  nothing that changes the answer.

The text's names are matched to the formulation's (`x` is `x`, `X`, or `x[1]` for `x1`; when they do
not match, the one way of pairing them that makes the most statements match, if there is exactly one).

Scopes: `all` — every constraint of the text checked (a verified answer says "checked against every
constraint of your text"); `partial` — what could be checked matched, the rest of the text is in words
("the formulation itself was not checked against your text" beyond that); `doubtful` — something does
not match (a stated constraint missing, another objective, a number used nowhere): never verified;
`broken` — the answer breaks a constraint the text states: never verified, the constraint named;
`unchecked` — no text was given.
"""

from __future__ import annotations

import ast
import itertools
import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ratiocinator.errors import InvalidInput
from ratiocinator.solvers.expressions import NUMERIC_FUNCTIONS
from ratiocinator.solvers.formulation import Checked, Formulation, bounds, check
from ratiocinator.solvers.statements import Stated, TextStatements, read_text

Scope = Literal["all", "partial", "doubtful", "broken", "unchecked"]
ALL_CHECKED = "checked against every constraint of your text"
NOT_CHECKED = "the formulation itself was not checked against your text"
PLAN_TRANSLATED = "valid for the problem as translated; the translation was not checked against your text"
PLAN_YOURS = "valid for your problem: the PDDL problem is the one your request states"
MAX_ROWS = 5000
_POINTS = 4
_TRIVIAL = (0.0, 1.0)
Key = tuple[str, tuple[Any, ...]]


@dataclass(frozen=True, kw_only=True)
class StatementCheck:
    """One constraint the text states: found in the formulation (`present`) and true at the answer (`holds`)."""

    statement: str
    present: bool | None  # None: it could not be compared
    holds: bool | None  # None: it could not be evaluated
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class TextCheck:
    """What the comparison of a formulation and its answer with the text found; see the module docstring."""

    scope: Scope
    statements: tuple[StatementCheck, ...] = ()
    problems: tuple[str, ...] = ()  # each mismatch, in words
    checked: tuple[str, ...] = ()  # what was checked and held, in words
    unchecked: tuple[str, ...] = ()  # what could not be checked, in words

    @property
    def verified(self) -> bool:
        """Nothing found wrong: `all`, `partial` or `unchecked` (each says how far it went)."""
        return self.scope in ("all", "partial", "unchecked")

    @property
    def reason(self) -> str:
        """The comparison in one sentence (to follow "the optimum of the formulation below, re-checked against it; ")."""
        if self.scope == "unchecked":
            return f"{NOT_CHECKED} (no text was given)"
        if self.scope == "broken":
            broken = [f"{s.statement} ({s.detail})" for s in self.statements if s.holds is False]
            return "the answer breaks what your text states: " + "; ".join(broken)
        if self.scope == "doubtful":
            return "the formulation does not match your text: " + "; ".join(self.problems)
        done = ", and ".join(self.checked)
        if self.scope == "all":
            return f"{ALL_CHECKED}: {done}"
        rest = f" ({'; '.join(self.unchecked)})" if self.unchecked else ""
        return f"{done}; {NOT_CHECKED} beyond that{rest}" if done else f"{NOT_CHECKED}{rest}"

    @property
    def feedback(self) -> str:
        """For a model rewriting the formulation: what does not match the problem text."""
        if self.verified:
            return ""
        return ("Your formulation does not match the problem text: " + "; ".join(self.problems or [self.reason])
                + ". Write the complete formulation again, with every constraint and number of the problem.")


def check_text(text: str | None, formulation: Formulation | Mapping[str, Any] | str, values: Mapping[str, Any], *,
               timeout: float = 10.0) -> TextCheck:
    """Compare a formulation and the solver's `values` for it ({name: number | {"i,j": number}}) with `text`."""
    if text is None or not text.strip():
        return TextCheck(scope="unchecked")
    if not isinstance(formulation, Formulation):
        formulation = Formulation.load(dict(formulation) if isinstance(formulation, Mapping) else formulation)
    view = _View(check(formulation), values)
    stated = read_text(text)
    stated = stated.as_constraints({str(d.lhs) for d in stated.definitions if view.alias(str(d.lhs))})
    problems = [f"{u} of your text could not be read, so it was not checked" for u in stated.unread]
    checked: list[str] = []
    unchecked: list[str] = []
    mapping, why = view.match(stated)
    constraints = [c for c in stated.constraints if c.symbols]
    statements = tuple(_statement(view, c, mapping) for c in constraints) if mapping is not None else ()
    if mapping is None:
        problems.append(why)
    else:
        problems += [_problem(s) for s in statements if s.holds is not False and not (s.present and s.holds)]
        renamed = {str(t): view.label(k) for t, k in mapping.items() if str(t) not in (k[0], k[0].lower())}
        if renamed:
            checked.append(f"your {', '.join(renamed)} {'is' if len(renamed) == 1 else 'are'} its "
                           f"{', '.join(renamed.values())}")
        if statements and all(s.present and s.holds for s in statements):
            checked.append(f"the constraints your text states in symbols ({', '.join(s.statement for s in statements)})"
                           " are in it and hold at the answer")
        if stated.objective is not None:
            same, words = view.same_objective(stated.objective, mapping)
            (checked if same else problems).append(words)
    unused = _unused_numbers(stated, view.numbers())
    if unused:
        problems.append(f"{_listing(unused)} of your text {'is' if len(unused) == 1 else 'are'} used nowhere in it "
                        "(a constraint or a coefficient may be missing)")
    elif any(n.value not in _TRIVIAL for n in stated.outside):
        checked.insert(0, "every number of your text is used in it")
    if any(s.holds is False for s in statements):
        return TextCheck(scope="broken", statements=statements, problems=tuple(problems), checked=tuple(checked))
    if problems:
        return TextCheck(scope="doubtful", statements=statements, problems=tuple(problems), checked=tuple(checked))
    if not stated.complete:
        unchecked.append("it is stated in words" if stated.objective is None and not statements
                         else "the rest of your text is in words")
        return TextCheck(scope="partial", statements=statements, checked=tuple(checked), unchecked=tuple(unchecked))
    same, words = _solve_text(stated, view, mapping or {}, timeout)
    if same is None:
        return TextCheck(scope="partial", statements=statements, checked=tuple(checked),
                         unchecked=(*unchecked, words))
    if not same:
        return TextCheck(scope="doubtful", statements=statements, problems=(words,), checked=tuple(checked))
    return TextCheck(scope="all", statements=statements, checked=(*checked, words))


def compare_with_text(text: str | None, formulation: Formulation | Mapping[str, Any] | str,
                      values: Mapping[str, Any], *, timeout: float = 10.0) -> TextCheck:
    """`check_text` that never raises: a comparison that cannot be made is `doubtful`, and says why."""
    try:
        return check_text(text, formulation, values, timeout=timeout)
    except Exception as exc:  # whatever stops the comparison, the answer is not verified by it
        why = str(exc) if isinstance(exc, InvalidInput) else f"{type(exc).__name__}: {exc}"
        return TextCheck(scope="doubtful", problems=(f"it could not be compared with your text ({why})",))


def _problem(s: StatementCheck) -> str:
    if s.holds is None:
        return f"{s.statement} of your text could not be evaluated at the answer ({s.detail})"
    return f"{s.statement} of your text is not in it (it holds at the answer)"


def _listing(numbers: list[str]) -> str:
    return ", ".join(numbers[:-1]) + (" and " if len(numbers) > 1 else "") + numbers[-1]


def _close(a: float, b: float, rel: float = 1e-9) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def _proportional(mine: list[float] | tuple[float, ...], theirs: tuple[float, ...], any_sign: bool = True) -> bool:
    """mine = r * theirs at every point, for one r != 0 (r > 0 unless `any_sign`)."""
    ratios = [m / v if v else (None if m else 0.0) for m, v in zip(mine, theirs, strict=True)]
    if any(r is None for r in ratios) or not ratios[0]:
        return False
    return all(_close(r, ratios[0]) for r in ratios) and (any_sign or ratios[0] > 0)  # type: ignore[arg-type,operator]


class _View:
    """The formulation seen from the text: its variables by the names a text may use, its rows at random points."""

    def __init__(self, checked: Checked, values: Mapping[str, Any]) -> None:
        self.checked = checked
        self.keys: list[Key] = [(n, idx) for n, spec in checked.variables.items()
                                for idx in (checked.index_set(spec.index) if spec.index else [()])]
        self.aliases: dict[str, Key] = {}
        for name, idx in self.keys:
            parts = [str(i) for i in idx]
            for alias in ([name] if not idx else [name + "".join(parts), name + "_" + "_".join(parts)]):
                self.aliases.setdefault(alias, (name, idx))
                self.aliases.setdefault(alias.lower(), (name, idx))
        self.answer: dict[Key, float] = {}
        for name, idx in self.keys:
            raw = values.get(name)
            value = raw.get(",".join(map(str, idx))) if isinstance(raw, Mapping) else raw
            self.answer[(name, idx)] = float(value) if isinstance(value, int | float) else math.nan
        rng = random.Random(0)
        self.points = [{k: rng.uniform(1.1, 3.9) for k in self.keys} for _ in range(_POINTS)]
        self._rows: list[tuple[str, str, tuple[float, ...], frozenset[Key]]] | None = None

    def _evaluate(self, node: ast.expr, scope: Mapping[str, Any], point: Mapping[Key, float], where: str,
                  seen: set[Key] | None = None) -> float:
        def var(name: str, index: tuple[Any, ...]) -> float:
            if seen is not None:
                seen.add((name, index))
            return point[(name, index)]

        return float(self.checked.evaluator(var, NUMERIC_FUNCTIONS, where)(node, scope))

    def rows(self) -> list[tuple[str, str, tuple[float, ...], frozenset[Key]]]:
        """(label, op, e at each point, its variables) for each constraint row (`e <= 0` / `e == 0`) and bound."""
        if self._rows is not None:
            return self._rows
        rows = []
        for spec, rel in self.checked.constraints:
            for scope in self.checked.rows(spec):
                for op, a, b in zip(rel.ops, rel.parts, rel.parts[1:], strict=False):
                    hi, lo = (b, a) if op == ">=" else (a, b)
                    seen: set[Key] = set()
                    try:
                        vals = tuple(self._evaluate(hi, scope, p, spec.name, seen) - self._evaluate(lo, scope, p, spec.name, seen)
                                     for p in self.points)
                    except (ArithmeticError, ValueError, InvalidInput):
                        continue
                    rows.append((spec.name, "==" if op == "==" else "<=", vals, frozenset(seen)))
                if len(rows) > MAX_ROWS:
                    break
        for key in self.keys:
            lo, hi, _ = bounds(self.checked.variables[key[0]])
            if lo is not None:
                rows.append((f"{key[0]}'s bound", "<=", tuple(lo - p[key] for p in self.points), frozenset([key])))
            if hi is not None:
                rows.append((f"{key[0]}'s bound", "<=", tuple(p[key] - hi for p in self.points), frozenset([key])))
        self._rows = rows
        return rows

    def alias(self, name: str) -> Key | None:
        """The formulation's variable a text's name stands for (`x`, `X`; `x1` and `x_1` for x[1])."""
        return self.aliases.get(name, self.aliases.get(name.lower()))

    def label(self, key: Key) -> str:
        return key[0] + (f"[{', '.join(map(str, key[1]))}]" if key[1] else "")

    def extra_rows(self, stated: list[Stated], mapping: Mapping[Any, Key]) -> list[str]:
        """The formulation's constraints (not bounds) of which some row is none of the text's constraints."""
        mine = []
        for c in stated:
            try:
                expr, op = c.normal()
                mine.append((self.text_values(expr, mapping, self.points), frozenset(mapping[s] for s in c.symbols),
                             op == "=="))
            except (ArithmeticError, ValueError, TypeError):
                continue
        extra: list[str] = []
        for name, op, vals, used in self.rows():
            if name.endswith("'s bound") or name in extra:
                continue
            if not any(keys == used and _proportional(values, vals, eq or op == "==") for values, keys, eq in mine):
                extra.append(name)
        expressions = {c.name: c.expression for c in self.checked.formulation.constraints}
        return [f"constraint {n} ({expressions[n]})" for n in extra]

    def text_values(self, expr: Any, mapping: Mapping[Any, Key], points: list[Mapping[Key, float]]) -> list[float]:
        import sympy as sp

        symbols = sorted(expr.free_symbols, key=str)
        fn = sp.lambdify(symbols, expr, modules="math")
        return [float(fn(*(p[mapping[s]] for s in symbols))) for p in points]

    def present(self, stated: Stated, mapping: Mapping[Any, Key]) -> bool:
        expr, op = stated.normal()
        keys = frozenset(mapping[s] for s in expr.free_symbols)
        try:
            mine = self.text_values(expr, mapping, self.points)
        except (ArithmeticError, ValueError, TypeError):
            return False
        return any(used == keys and (op != "==" or row_op == "==") and _proportional(mine, vals, row_op == "==")
                   for _, row_op, vals, used in self.rows())

    def match(self, stated: TextStatements) -> tuple[dict[Any, Key] | None, str]:
        """The text's names -> the formulation's variables, or None and why not."""
        names = set().union(*(s.symbols for s in stated.constraints), set(),
                            stated.objective.symbols if stated.objective else set())
        direct = {s: self.alias(str(s)) for s in names}
        if all(direct.values()):
            return direct, ""  # type: ignore[return-value]
        missing = sorted((s for s, k in direct.items() if k is None), key=str)
        free = [k for k in self.keys if k not in direct.values()]
        theirs = ", ".join(sorted({k[0] for k in self.keys}))
        why = (f"the names your text uses ({', '.join(map(str, sorted(names, key=str)))}) are not the formulation's "
               f"({theirs}), so the constraints your text states in symbols could not be checked")
        if len(missing) > 4 or len(free) > 6 or len(free) < len(missing):
            return None, why
        scored = []
        for chosen in itertools.permutations(free, len(missing)):
            mapping = {**{s: k for s, k in direct.items() if k}, **dict(zip(missing, chosen, strict=True))}
            score = sum(self.present(c, mapping) for c in stated.constraints)
            score += 2 * bool(stated.objective and self.same_objective(stated.objective, mapping)[0])
            scored.append((score, mapping))
        scored.sort(key=lambda t: -t[0])
        if not scored or scored[0][0] == 0 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
            return None, why
        return scored[0][1], ""

    def same_objective(self, objective: Stated, mapping: Mapping[Any, Key]) -> tuple[bool, str]:
        mine = self.checked.formulation.objective
        try:
            text = self.text_values(objective.expression, mapping, self.points)
            theirs = [self._evaluate(self.checked.objective, {}, p, "objective") for p in self.points]
        except (ArithmeticError, ValueError, TypeError, InvalidInput):
            return False, f"its objective could not be compared with your {objective.text}"
        if mine.sense != objective.sense or not all(_close(a, b) for a, b in zip(text, theirs, strict=True)):
            return False, f"it {mine.sense}s {mine.expression}, your text {objective.sense}s {objective.text}"
        return True, f"its objective is your {objective.sense[:-1]}ing {objective.text}"

    def numbers(self) -> set[float]:
        """Every number the formulation uses: parameters, literals, bounds, set sizes and elements (and the numbers
        in their names), counts."""
        c = self.checked
        found = {v for table in c.params.values() for v in table.values()}
        trees = [c.objective, *(p for _, rel in c.constraints for p in rel.parts)]
        found |= {float(n.value) for t in trees for n in ast.walk(t)
                  if isinstance(n, ast.Constant) and isinstance(n.value, int | float) and not isinstance(n.value, bool)}
        for spec in c.variables.values():
            found |= {b for b in (spec.lower, spec.upper) if b is not None}
        found |= {float(len(e)) for e in c.sets.values()}
        found |= {float(x) for e in c.sets.values() for x in e if isinstance(x, int | float)}
        # a set's element named with the text's label ("City 2") uses the text's 2
        found |= {float(d) for e in c.sets.values() for x in e if isinstance(x, str) for d in re.findall(r"\d+", x)}
        found |= {float(len(c.variables)), float(len(self.keys))}
        return {abs(x) for x in found}


def _statement(view: _View, stated: Stated, mapping: Mapping[Any, Key]) -> StatementCheck:
    present = view.present(stated, mapping)
    detail = ""
    values = {s: view.answer[mapping[s]] for s in stated.symbols}
    if any(math.isnan(v) for v in values.values()):
        unset = ", ".join(str(s) for s, v in values.items() if math.isnan(v))
        return StatementCheck(statement=stated.text, present=present, holds=None, detail=f"{unset} has no value")
    try:
        lhs, rhs = float(stated.lhs.subs(values)), float(stated.rhs.subs(values))
    except (TypeError, ValueError, ArithmeticError):  # complex, or not a number at these values
        return StatementCheck(statement=stated.text, present=present, holds=None,
                              detail="it has no real value at the answer")
    gap = {"<=": lhs - rhs, ">=": rhs - lhs, "==": abs(lhs - rhs)}[stated.op]
    holds = gap <= 1e-6 * max(1.0, abs(lhs), abs(rhs))
    if not holds:
        shown = ", ".join(f"{s} = {v:.6g}" for s, v in sorted(values.items(), key=lambda t: str(t[0])))
        detail = f"at the answer ({shown}) it reads {lhs:.6g} {stated.op} {rhs:.6g}, which is false"
    return StatementCheck(statement=stated.text, present=present, holds=holds, detail=detail)


def _unused_numbers(stated: TextStatements, used: set[float]) -> list[str]:
    """The numbers of the text (outside its formulas) that the formulation does not use, as written."""
    todo = [n for n in stated.outside if n.value not in _TRIVIAL]

    def direct(x: float) -> bool:
        return any(_close(x, u) or _close(x / 100, u) for u in used)

    left = [n for n in todo if not direct(n.value)]
    values = sorted({n.value for n in todo})[:60]
    derived = [u for u in used if not any(_close(u, v) for v in values)]
    products = {v for a, b in itertools.combinations(values, 2) for d in derived
                if _close(a * b, d) or _close(a / b, d) or _close(b / a, d) for v in (a, b)}
    return list(dict.fromkeys(n.written.strip() for n in left if n.value not in products))


def _solve_text(stated: TextStatements, view: _View, mapping: Mapping[Any, Key], timeout: float) -> tuple[bool | None, str]:
    """Solve the problem the text states on its own; (whether its optimum is the answer's, in words)."""
    import sympy as sp

    from ratiocinator.solvers.optimization import solve

    assert stated.objective is not None
    symbols = sorted(set().union(stated.objective.symbols, *(c.symbols for c in stated.constraints)), key=str)
    names = {s: sp.Symbol(f"v{i}") for i, s in enumerate(symbols)}
    integral = stated.says_integer
    domain = ("nonnegative_integer" if integral else "nonnegative") if stated.says_nonnegative \
        else ("integer" if integral else "real")
    own = {
        "variables": [{"name": str(v), "domain": domain} for v in names.values()],
        "objective": {"sense": stated.objective.sense, "expression": sp.sstr(stated.objective.expression.xreplace(names))},
        "constraints": [{"name": f"c{i}", "expression": f"{sp.sstr(c.lhs.xreplace(names))} {c.op} "
                                                        f"{sp.sstr(c.rhs.xreplace(names))}"}
                        for i, c in enumerate(stated.constraints) if c.symbols],
    }
    try:
        result = solve(own, timeout=timeout)
    except InvalidInput as exc:
        return None, f"your problem could not be solved on its own ({exc})"
    try:
        at_answer = view.text_values(stated.objective.expression, mapping, [view.answer])[0]
    except (TypeError, ValueError, ArithmeticError):
        return None, "your objective has no real value at the answer"
    if result.status != "optimal" or result.objective is None:
        return False, f"the problem your text states, solved on its own, is {result.status}: the formulation adds to it"
    if not _close(result.objective, at_answer, 1e-4):  # a MIP's optimum is proved within a relative gap
        added = [k[0] for k in mapping.values() if bounds(view.checked.variables[k[0]])[2]] if not integral else []
        extra = view.extra_rows(list(stated.constraints), mapping)
        hints = ([f"its {_listing(extra)} {'is' if len(extra) == 1 else 'are'} not in your text"] if extra else []) \
            + ([f"it makes {', '.join(sorted(set(added)))} integers, which your text does not say"] if added else [])
        hint = f" ({'; '.join(hints)})" if hints else ""
        return False, (f"your problem solved on its own reaches {result.objective:.6g}, the answer {at_answer:.6g}: "
                       f"the formulation adds or changes something{hint}")
    return True, f"your problem solved on its own has the same optimum ({result.objective:.6g})"


def pddl_stated(problem_pddl: str, text: str | None) -> bool:
    """Whether the PDDL problem is the one the text states (it appears in it, up to spacing and case)."""
    if not text:
        return False

    def squeeze(s: str) -> str:
        return "".join(s.split()).lower()

    return bool(problem_pddl.strip()) and squeeze(problem_pddl) in squeeze(text)
