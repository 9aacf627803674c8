"""The five-element formulation (LLMOPT: sets, parameters, variables, objective, constraints) and its pyomo model.

A `Formulation` is what a model writes (as JSON); `check` turns it into a `Checked` one or raises
`FormulationError` naming the element at fault (`parameters['cost']`, `constraints['capacity']`);
`build` makes the pyomo `ConcreteModel`; `Checked.violations` re-evaluates everything from plain
numbers, without pyomo, to verify what a solver returned.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ratiocinator.errors import InvalidInput
from ratiocinator.solvers.expressions import (
    FUNCTIONS,
    NUMERIC_FUNCTIONS,
    Checker,
    Evaluator,
    ExpressionError,
    Relation,
    Symbol,
    deep_trees,
    fold_constants,
    parse_expression,
)
from ratiocinator.textfiles import read_text

Domain = Literal["real", "nonnegative", "nonpositive", "integer", "nonnegative_integer", "binary"]
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: the most elements a set, and the most index tuples a variable, parameter or constraint, may have
MAX_ELEMENTS = 1_000_000
_RESERVED = {*FUNCTIONS, "sum", "for", "in", "if", "and", "or", "not", "lambda", "None", "True", "False"}


class FormulationError(InvalidInput):
    """A formulation that is malformed: the message starts with the element that is wrong."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SetSpec(_Spec):
    """A finite index set; an integer n is shorthand for 1..n."""

    name: str
    elements: list[int | str]

    @field_validator("elements", mode="before")
    @classmethod
    def _range(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            if value > MAX_ELEMENTS:
                raise ValueError(f"{value} elements; a set has at most {MAX_ELEMENTS:,}")
            return list(range(1, value + 1))
        return value


class ParameterSpec(_Spec):
    """A number, or numbers indexed by sets: a list in set order, or a (nested) dict keyed by element."""

    name: str
    index: list[str] = Field(default_factory=list)
    value: Any


class VariableSpec(_Spec):
    name: str
    index: list[str] = Field(default_factory=list)
    domain: Domain = "nonnegative"
    lower: float | None = None
    upper: float | None = None


class ObjectiveSpec(_Spec):
    sense: Literal["minimize", "maximize"]
    expression: str


class ConstraintSpec(_Spec):
    """`expression` is a relation; `forall` binds index names to sets ({"i": "I"}): one row per element."""

    name: str
    expression: str
    forall: dict[str, str] = Field(default_factory=dict)


class Formulation(_Spec):
    """LLMOPT's five elements. Expressions use the language of `solvers/expressions.py`."""

    name: str = "model"
    sets: list[SetSpec] = Field(default_factory=list)
    parameters: list[ParameterSpec] = Field(default_factory=list)
    variables: list[VariableSpec] = Field(min_length=1)
    objective: ObjectiveSpec
    constraints: list[ConstraintSpec] = Field(default_factory=list)

    @classmethod
    def load(cls, source: str | Path | dict[str, Any]) -> Formulation:
        """From a dict, JSON text or a .json path (also `{"formulation": {...}, ...}` with metadata around it);
        pydantic errors become a FormulationError."""
        try:
            if not isinstance(source, dict):
                text = read_text(source, "formulation") if isinstance(source, Path) \
                    or not source.lstrip().startswith("{") else source
                source = json.loads(text)
            if isinstance(source, dict) and "formulation" in source and "variables" not in source:
                source = source["formulation"]
            return cls.model_validate(source)
        except InvalidInput as exc:
            raise FormulationError(str(exc)) from None
        except ValueError as exc:
            if isinstance(exc, ValidationError):
                raise _pydantic(exc) from None
            raise FormulationError(f"formulation: not valid JSON ({exc})") from None


def _pydantic(exc: ValidationError) -> FormulationError:
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:8])
    return FormulationError(f"formulation: {problems}")


def _key(element: Any) -> str:
    return str(element)


@dataclass
class Checked:
    """A formulation with numeric parameters, parsed expressions and the pyomo-free evaluator."""

    formulation: Formulation
    sets: dict[str, list[Any]]
    params: dict[str, dict[tuple[Any, ...], float]]
    variables: dict[str, VariableSpec]
    objective: ast.expr
    constraints: list[tuple[ConstraintSpec, Relation]] = field(default_factory=list)

    def index_set(self, names: list[str]) -> list[tuple[Any, ...]]:
        return list(itertools.product(*(self.sets[n] for n in names)))

    def rows(self, spec: ConstraintSpec) -> list[dict[str, Any]]:
        names = list(spec.forall)
        return [dict(zip(names, combo, strict=True)) for combo in self.index_set(list(spec.forall.values()))]

    def evaluator(self, var_lookup: Any, functions: Any, where: str) -> Evaluator:
        def lookup(name: str, index: tuple[Any, ...]) -> Any:
            if name in self.params:
                table = self.params[name]
            else:
                return var_lookup(name, index)
            if index not in table:
                raise FormulationError(f"{where}: {name}{list(index)} is outside its index sets")
            return table[index]

        return Evaluator(self.sets, lookup, functions, where)

    def violations(self, values: dict[str, dict[tuple[Any, ...], float]]) -> tuple[float, float, list[str]]:
        """(objective, largest violation, descriptions of the worst rows) recomputed from plain numbers."""

        def var(name: str, index: tuple[Any, ...]) -> float:
            return values[name][index]

        with deep_trees("objective"):
            obj = float(self.evaluator(var, NUMERIC_FUNCTIONS, "objective")(self.objective, {}))
        worst: list[tuple[float, str]] = []
        for spec, rel in self.constraints:
            ev = self.evaluator(var, NUMERIC_FUNCTIONS, f"constraints[{spec.name!r}]")
            for scope in self.rows(spec):
                with deep_trees(f"constraints[{spec.name!r}]"):
                    sides = [float(ev(part, scope)) for part in rel.parts]
                for op, a, b in zip(rel.ops, sides, sides[1:], strict=False):
                    v = {"<=": a - b, ">=": b - a, "==": abs(a - b)}[op]
                    worst.append((max(v, 0.0), f"{spec.name}{scope or ''}: {a:.6g} {op} {b:.6g}"))
        for name, spec in self.variables.items():
            for index, x in values[name].items():
                if math.isnan(x):  # unset by the solver: in no expression, so nothing to violate
                    continue
                lo, hi, integral = bounds(spec)
                v = max((lo - x) if lo is not None else 0.0, (x - hi) if hi is not None else 0.0,
                        abs(x - round(x)) if integral else 0.0)
                worst.append((max(v, 0.0), f"{name}{list(index) if index else ''} = {x:.6g} ({spec.domain})"))
        worst.sort(key=lambda t: -t[0])
        return obj, (worst[0][0] if worst else 0.0), [w for v, w in worst[:3] if v > 0]


def bounds(spec: VariableSpec) -> tuple[float | None, float | None, bool]:
    """(lower, upper, integral) of a variable, its domain and explicit bounds combined."""
    lo, hi = {"nonnegative": (0.0, None), "nonpositive": (None, 0.0), "nonnegative_integer": (0.0, None),
              "binary": (0.0, 1.0)}.get(spec.domain, (None, None))
    lo = spec.lower if lo is None else (lo if spec.lower is None else max(lo, spec.lower))
    hi = spec.upper if hi is None else (hi if spec.upper is None else min(hi, spec.upper))
    return lo, hi, spec.domain in ("integer", "nonnegative_integer", "binary")


def _numbers(name: str, value: Any, dims: list[list[Any]], where: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], float]:
    label = f"parameters[{name!r}]" + (f" at {list(where)}" if where else "")
    if not dims:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise FormulationError(f"{label}: {value!r} is not a finite number")
        return {where: float(value)}
    elements, out = dims[0], {}
    if isinstance(value, list):
        if len(value) != len(elements):
            raise FormulationError(f"{label}: a list of {len(value)} values for a set of {len(elements)} elements")
        pairs = list(zip(elements, value, strict=True))
    elif isinstance(value, dict):
        keys = {_key(e): e for e in elements}
        extra = [k for k in value if str(k) not in keys]
        missing = [k for k in keys if k not in {str(v) for v in value}]
        if extra or missing:
            raise FormulationError(f"{label}: keys must be the set's elements; "
                                   f"missing {missing or 'none'}, unexpected {extra or 'none'}")
        pairs = [(keys[str(k)], v) for k, v in value.items()]
    else:
        raise FormulationError(f"{label}: expected a list or dict over {len(elements)} elements, got {value!r}")
    for element, sub in pairs:
        out.update(_numbers(name, sub, dims[1:], (*where, element)))
    return out


def _bounded(where: str, dims: list[list[Any]]) -> None:
    if math.prod(len(d) for d in dims) > MAX_ELEMENTS:
        raise FormulationError(f"{where}: {' x '.join(str(len(d)) for d in dims)} index combinations; "
                               f"at most {MAX_ELEMENTS:,} are allowed")


def check(formulation: Formulation | dict[str, Any]) -> Checked:
    """Validate names, sets, parameter values and every expression; raise FormulationError if wrong."""
    f = formulation if isinstance(formulation, Formulation) else Formulation.load(formulation)
    seen: dict[str, str] = {}
    for kind, items in (("sets", f.sets), ("parameters", f.parameters), ("variables", f.variables)):
        for item in items:
            if not _NAME.match(item.name) or item.name in _RESERVED or item.name.startswith("__"):
                raise FormulationError(f"{kind}[{item.name!r}]: a name must be an identifier and not reserved")
            if item.name in seen:
                raise FormulationError(f"{kind}[{item.name!r}]: the name is already used by {seen[item.name]}")
            seen[item.name] = kind
    sets = {s.name: list(s.elements) for s in f.sets}
    for s in f.sets:
        if len({_key(e) for e in s.elements}) != len(s.elements) or not s.elements:
            raise FormulationError(f"sets[{s.name!r}]: elements must be distinct and at least one")
    for kind, items in (("parameters", f.parameters), ("variables", f.variables)):
        for item in items:
            unknown = [n for n in item.index if n not in sets]
            if unknown:
                raise FormulationError(f"{kind}[{item.name!r}]: unknown index set(s) {unknown}; sets: {list(sets)}")
            _bounded(f"{kind}[{item.name!r}]", [sets[n] for n in item.index])
    for c in f.constraints:
        _bounded(f"constraints[{c.name!r}]", [sets.get(n, []) for n in c.forall.values()])
    params = {p.name: _numbers(p.name, p.value, [sets[n] for n in p.index]) for p in f.parameters}
    for v in f.variables:
        lo, hi, _ = bounds(v)
        if lo is not None and hi is not None and lo > hi:
            raise FormulationError(f"variables[{v.name!r}]: lower bound {lo} > upper bound {hi}")
    symbols = {p.name: Symbol("parameter", tuple(p.index)) for p in f.parameters}
    symbols.update({v.name: Symbol("variable", tuple(v.index)) for v in f.variables})
    try:
        objective, constraints = _expressions(f, sets, symbols)
    except ExpressionError as exc:
        raise FormulationError(str(exc)) from None
    if len({c.name for c in f.constraints}) != len(f.constraints):
        raise FormulationError("constraints: names must be distinct")
    return Checked(f, sets, params, {v.name: v for v in f.variables}, objective, constraints)


def _expressions(f: Formulation, sets: dict[str, list[Any]], symbols: dict[str, Symbol]
                 ) -> tuple[ast.expr, list[tuple[ConstraintSpec, Relation]]]:
    """The objective and constraints parsed and checked, their constant parts folded (and so bounded)."""
    with deep_trees("objective"):
        objective = parse_expression(f.objective.expression, "objective")
        Checker(sets, symbols, "objective").expr(objective, frozenset())
        fold_constants(objective, "objective")
    constraints = []
    for c in f.constraints:
        where = f"constraints[{c.name!r}]"
        bad = {i: s for i, s in c.forall.items() if s not in sets or not _NAME.match(i) or i in symbols}
        if bad:
            raise FormulationError(f"{where}: forall {bad} must bind new index names to declared sets "
                                   f"({list(sets)})")
        with deep_trees(where):
            rel = Checker(sets, symbols, where).relation(parse_expression(c.expression, where), frozenset(c.forall))
            for part in rel.parts:
                fold_constants(part, where)
        constraints.append((c, rel))
    return objective, constraints


def build(checked: Checked) -> Any:
    """The pyomo ConcreteModel: components v_<var>, obj, c_<constraint> (a ConstraintList each)."""
    import pyomo.environ as pyo

    domains = {"real": pyo.Reals, "nonnegative": pyo.Reals, "nonpositive": pyo.Reals, "integer": pyo.Integers,
               "nonnegative_integer": pyo.Integers, "binary": pyo.Integers}
    m = pyo.ConcreteModel(name=checked.formulation.name)
    for name, spec in checked.variables.items():
        lo, hi, _ = bounds(spec)
        if spec.index:
            idx = [t[0] if len(t) == 1 else t for t in checked.index_set(spec.index)]
            m.add_component(f"v_{name}", pyo.Var(idx, domain=domains[spec.domain], bounds=(lo, hi)))
        else:
            m.add_component(f"v_{name}", pyo.Var(domain=domains[spec.domain], bounds=(lo, hi)))

    def var(name: str, index: tuple[Any, ...]) -> Any:
        comp = getattr(m, f"v_{name}")
        key = index[0] if len(index) == 1 else index
        if not index:
            return comp
        if key not in comp:
            raise FormulationError(f"{name}{list(index)} is outside its index sets")
        return comp[key]

    functions = {n: getattr(pyo, n) for n in FUNCTIONS}
    with deep_trees("objective"):
        expr = checked.evaluator(var, functions, "objective")(checked.objective, {})
    sense = pyo.minimize if checked.formulation.objective.sense == "minimize" else pyo.maximize
    m.obj = pyo.Objective(expr=expr, sense=sense)
    for spec, rel in checked.constraints:
        where = f"constraints[{spec.name!r}]"
        ev = checked.evaluator(var, functions, where)
        rows = pyo.ConstraintList()
        m.add_component(f"c_{spec.name}", rows)
        for scope in checked.rows(spec):
            with deep_trees(where):
                sides = [ev(part, scope) for part in rel.parts]
            for op, a, b in zip(rel.ops, sides, sides[1:], strict=False):
                relation = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}[op](a, b)
                if isinstance(relation, bool):  # no variable on either side
                    if not relation:
                        raise FormulationError(f"{where}{scope or ''}: constant and false ({a} {op} {b})")
                    continue
                rows.add(relation)
    return m

