"""A small, safe expression language for optimization models: parsed by `ast`, checked, never `eval`ed.

Syntax is a subset of Python's:

    3*x + 2*y                          numbers, declared symbols, + - * / ** and unary minus
    cost[i] * x[i, j]                  indexed symbols; an index is a bound index, a literal or i+1, t-1
    sum(c[i]*x[i] for i in I)          sums over declared sets, several `for`s, an optional `if i != j`
    exp(x), log(x), sqrt(x), sin, cos  the only functions (nonlinear models go to SCIP)
    x + y <= 10,  0 <= x - y <= 5      a relation: one or two of <=, >=, ==

Anything else (attributes, calls of other names, `__import__`, lambdas, strings outside an index,
comprehensions other than `sum`) is rejected when the formulation is checked, with the element named.
The same checked tree evaluates two ways: to a pyomo expression (to build the model) and to a float
from the solver's values (to verify the result independently of pyomo).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ratiocinator.errors import InvalidInput

MAX_LENGTH = 4000
FUNCTIONS = ("exp", "log", "sqrt", "sin", "cos")
_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_CMP: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_RELATIONS = {ast.LtE: "<=", ast.GtE: ">=", ast.Eq: "=="}


class ExpressionError(InvalidInput):
    """An expression that does not parse, uses something not allowed, or names an undeclared symbol."""


@dataclass(frozen=True)
class Symbol:
    """A declared name: a parameter or a variable, indexed by zero or more sets."""

    kind: str  # "parameter" | "variable"
    index: tuple[str, ...] = ()


@dataclass(frozen=True)
class Relation:
    """A checked constraint: `lhs op rhs` or `lo <= mid <= hi` (`parts` and `ops` as in the text)."""

    parts: tuple[ast.expr, ...]
    ops: tuple[str, ...]


def _fail(where: str, message: str) -> ExpressionError:
    return ExpressionError(f"{where}: {message}")


def parse_expression(text: str, where: str) -> ast.expr:
    """Parse text into an (unchecked) expression tree, or raise ExpressionError naming `where`."""
    if not isinstance(text, str) or not text.strip():
        raise _fail(where, "the expression is empty")
    if len(text) > MAX_LENGTH:
        raise _fail(where, f"the expression is longer than {MAX_LENGTH} characters")
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise _fail(where, f"not a valid expression ({exc.msg} at column {exc.offset}): {text!r}") from None


class Checker:
    """Checks a tree against the declared sets and symbols; `bound` are the index names in scope."""

    def __init__(self, sets: Mapping[str, Sequence[Any]], symbols: Mapping[str, Symbol], where: str) -> None:
        self.sets, self.symbols, self.where = sets, symbols, where

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        try:
            text = ast.unparse(node)
        except Exception:  # pragma: no cover - unparse of a parsed node does not fail in practice
            text = type(node).__name__
        return _fail(self.where, f"{message} (in {text!r})")

    def relation(self, node: ast.expr, bound: frozenset[str]) -> Relation:
        if not isinstance(node, ast.Compare) or len(node.ops) > 2:
            raise self.fail(node, "a constraint must be a relation: a <= b, a >= b, a == b or lo <= a <= hi")
        ops = []
        for op in node.ops:
            if type(op) not in _RELATIONS:
                raise self.fail(node, "relations are <=, >= and == only (no <, >, !=)")
            ops.append(_RELATIONS[type(op)])
        if len(ops) == 2 and (ops[0] != ops[1] or ops[0] == "=="):
            raise self.fail(node, "a double relation must be lo <= a <= hi or hi >= a >= lo")
        parts = (node.left, *node.comparators)
        for part in parts:
            self.expr(part, bound)
        return Relation(parts=tuple(parts), ops=tuple(ops))

    def expr(self, node: ast.expr, bound: frozenset[str]) -> None:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise self.fail(node, "only numbers may appear as constants")
        elif isinstance(node, ast.Name):
            sym = self.symbols.get(node.id)
            if sym is None:
                raise self.fail(node, self._unknown(node.id, bound))
            if sym.index:
                raise self.fail(node, f"{node.id} is indexed by {', '.join(sym.index)}: write {node.id}[...]")
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            self.expr(node.left, bound)
            self.expr(node.right, bound)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            self.expr(node.operand, bound)
        elif isinstance(node, ast.Subscript):
            self._subscript(node, bound)
        elif isinstance(node, ast.Call):
            self._call(node, bound)
        else:
            raise self.fail(node, f"{type(node).__name__} is not allowed; use numbers, declared symbols, "
                                  f"+ - * / **, sum(... for i in SET) and {', '.join(FUNCTIONS)}")

    def _unknown(self, name: str, bound: frozenset[str]) -> str:
        declared = sorted(self.symbols) + sorted(bound)
        return f"unknown symbol {name!r}; declared: {', '.join(declared) or 'none'}"

    def _subscript(self, node: ast.Subscript, bound: frozenset[str]) -> None:
        if not isinstance(node.value, ast.Name) or node.value.id not in self.symbols:
            name = node.value.id if isinstance(node.value, ast.Name) else ast.unparse(node.value)
            raise self.fail(node, self._unknown(name, bound))
        sym = self.symbols[node.value.id]
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if len(items) != len(sym.index):
            want = f"{len(sym.index)} ({', '.join(sym.index)})" if sym.index else "none (it is a scalar)"
            raise self.fail(node, f"{node.value.id} takes {want} indices, got {len(items)}")
        for item in items:
            self.index(item, bound)

    def index(self, node: ast.expr, bound: frozenset[str]) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | str) and not isinstance(node.value, bool):
            return
        if isinstance(node, ast.Name):
            if node.id not in bound:
                raise self.fail(node, f"index {node.id!r} is not bound; bind it with `for {node.id} in SET` "
                                      f"(in a sum or the constraint's forall)")
            return
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            self.index(node.left, bound)
            self.index(node.right, bound)
            return
        raise self.fail(node, "an index must be a bound index name, a literal, or index +/- integer")

    def _call(self, node: ast.Call, bound: frozenset[str]) -> None:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if node.keywords or name not in (*FUNCTIONS, "sum"):
            raise self.fail(node, f"only {', '.join(FUNCTIONS)} and sum(...) may be called")
        if name == "sum":
            if len(node.args) != 1 or not isinstance(node.args[0], ast.GeneratorExp):
                raise self.fail(node, "write sums as sum(EXPR for i in SET)")
            gen = node.args[0]
            inner = set(bound)
            for comp in gen.generators:
                if comp.is_async or not isinstance(comp.target, ast.Name):
                    raise self.fail(node, "a sum binds one name per `for`: for i in SET")
                if not isinstance(comp.iter, ast.Name) or comp.iter.id not in self.sets:
                    raise self.fail(node, f"sums run over declared sets ({', '.join(self.sets) or 'none'})")
                if comp.target.id in self.symbols:
                    raise self.fail(node, f"index {comp.target.id!r} shadows a declared symbol")
                inner.add(comp.target.id)
                for cond in comp.ifs:
                    self.condition(cond, frozenset(inner))
            self.expr(gen.elt, frozenset(inner))
            return
        if len(node.args) != 1:
            raise self.fail(node, f"{name} takes one argument")
        self.expr(node.args[0], bound)

    def condition(self, node: ast.expr, bound: frozenset[str]) -> None:
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self.condition(value, bound)
        elif isinstance(node, ast.Compare) and all(type(op) in _CMP for op in node.ops):
            for part in (node.left, *node.comparators):
                self.index(part, bound)
        else:
            raise self.fail(node, "a sum's `if` compares indices: if i != j, if i < j and k == 2")


class Evaluator:
    """Evaluates checked trees; `lookup(name, index_tuple)` returns a parameter value, pyomo var or float."""

    def __init__(self, sets: Mapping[str, Sequence[Any]], lookup: Callable[[str, tuple[Any, ...]], Any],
                 functions: Mapping[str, Callable[[Any], Any]], where: str) -> None:
        self.sets, self.lookup, self.functions, self.where = sets, lookup, functions, where

    def __call__(self, node: ast.expr, env: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.lookup(node.id, ())
        if isinstance(node, ast.BinOp):
            left, right = self(node.left, env), self(node.right, env)
            try:
                return _BINOPS[type(node.op)](left, right)
            except ZeroDivisionError:
                raise _fail(self.where, f"division by zero in {ast.unparse(node)!r}") from None
        if isinstance(node, ast.UnaryOp):
            value = self(node.operand, env)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Subscript):
            assert isinstance(node.value, ast.Name)
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            return self.lookup(node.value.id, tuple(self.index(i, env) for i in items))
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        if node.func.id == "sum":
            gen = node.args[0]
            assert isinstance(gen, ast.GeneratorExp)
            return sum((self(gen.elt, scope) for scope in self.scopes(gen.generators, env)), 0)
        return self.functions[node.func.id](self(node.args[0], env))

    def index(self, node: ast.expr, env: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return env[node.id]
        assert isinstance(node, ast.BinOp)
        left, right = self.index(node.left, env), self.index(node.right, env)
        if not isinstance(left, int) or not isinstance(right, int):
            raise _fail(self.where, f"index arithmetic needs integer set elements: {ast.unparse(node)!r}")
        return left + right if isinstance(node.op, ast.Add) else left - right

    def test(self, node: ast.expr, env: Mapping[str, Any]) -> bool:
        if isinstance(node, ast.BoolOp):
            results = (self.test(v, env) for v in node.values)
            return all(results) if isinstance(node.op, ast.And) else any(results)
        assert isinstance(node, ast.Compare)
        values = [self.index(p, env) for p in (node.left, *node.comparators)]
        return all(_CMP[type(op)](a, b) for op, a, b in zip(node.ops, values, values[1:], strict=False))

    def scopes(self, generators: Sequence[ast.comprehension], env: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        if not generators:
            yield dict(env)
            return
        first, rest = generators[0], generators[1:]
        assert isinstance(first.target, ast.Name) and isinstance(first.iter, ast.Name)
        for element in self.sets[first.iter.id]:
            scope = {**env, first.target.id: element}
            if all(self.test(cond, scope) for cond in first.ifs):
                yield from self.scopes(rest, scope)


NUMERIC_FUNCTIONS: dict[str, Callable[[Any], Any]] = {name: getattr(math, name) for name in FUNCTIONS}
