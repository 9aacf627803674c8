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

Arithmetic on numbers is float arithmetic, checked: `9**9**9` is not a 370-million-digit integer but
an overflow, reported like `log(0)`, `sqrt(-1)` or `10.0**400` as an ExpressionError naming the
part that is undefined. `fold_constants` finds these when the formulation is checked, before any
model is built.
"""

from __future__ import annotations

import ast
import contextlib
import math
import operator
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ratiocinator.errors import InvalidInput

MAX_LENGTH = 4000
#: the largest magnitude a number in an expression may reach (a float's range, with room for a sum)
MAX_MAGNITUDE = 1e300
#: the largest exponent of a variable: x ** 1e6 is no model a solver can use, x ** 10**10 hangs it
MAX_EXPONENT = 1000
#: the recursion limit while a tree is walked: a 4000-character `x+x+...+x` is 2000 levels deep
_DEEP = 12_000
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
    except (ValueError, RecursionError, MemoryError) as exc:  # a 5000-digit literal, nesting too deep
        raise _fail(where, f"not a valid expression ({_why(exc)}): {text[:80]!r}") from None


def _why(exc: BaseException) -> str:
    if isinstance(exc, RecursionError | MemoryError):
        return "nested too deeply"
    return str(exc).split(";")[0] or type(exc).__name__


@contextlib.contextmanager
def deep_trees(where: str) -> Iterator[None]:
    """Walk trees as deep as MAX_LENGTH allows; a deeper one (or a race with another thread that lowered
    the limit) is an ExpressionError naming `where`, not a RecursionError."""
    old = sys.getrecursionlimit()
    if old < _DEEP:
        sys.setrecursionlimit(_DEEP)
    try:
        yield
    except RecursionError:
        raise _fail(where, "the expression is nested too deeply") from None
    finally:
        if old < _DEEP:
            sys.setrecursionlimit(old)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def number(value: Any, what: ast.AST | None, where: str) -> float:
    """`value` as a float if it is finite and within MAX_MAGNITUDE, else an ExpressionError about `what`
    (the part of the expression that gave it; None: the number itself)."""
    try:
        result = float(value)
    except OverflowError:
        result = math.inf
    if not math.isfinite(result) or abs(result) > MAX_MAGNITUDE:
        text = repr(_text(what)) if what is not None else f"the number {str(value)[:20]}"
        raise _fail(where, f"{text} overflows: the result is beyond ±{MAX_MAGNITUDE:g}")
    return result


def arithmetic(op: type, left: Any, right: Any, node: ast.expr, where: str) -> Any:
    """`left op right`; on two numbers, checked float arithmetic (never a huge integer, never a complex)."""
    if not (_is_number(left) and _is_number(right)):
        if op is ast.Pow and _is_number(right) and abs(right) > MAX_EXPONENT:
            raise _fail(where, f"the exponent in {_text(node)!r} is larger than {MAX_EXPONENT:g}")
        try:
            return _BINOPS[op](left, right)
        except ZeroDivisionError:
            raise _fail(where, f"division by zero in {_text(node)!r}") from None
        except (OverflowError, ValueError, ArithmeticError) as exc:
            raise _fail(where, f"{_text(node)!r} is undefined ({exc})") from None
    a, b = float(left), float(right)
    try:
        if op is ast.Pow:
            if a == 0.0 and b < 0:
                raise ZeroDivisionError
            value = math.pow(a, b)
        else:
            value = _BINOPS[op](a, b)
    except ZeroDivisionError:
        raise _fail(where, f"division by zero in {_text(node)!r}") from None
    except OverflowError:
        value = math.inf
    except ValueError:  # math.pow of a negative number to a fraction
        raise _fail(where, f"{_text(node)!r} is undefined: a negative number to a fractional power") from None
    return number(value, node, where)


def call_function(name: str, function: Callable[[Any], Any], argument: Any, node: ast.expr, where: str) -> Any:
    """`function(argument)`; on a number, checked: log(0), log(-1), sqrt(-1), exp(1000) are errors naming it."""
    if not _is_number(argument):
        return function(argument)
    try:
        value = function(float(argument))
    except OverflowError:
        value = math.inf
    except ValueError:
        domain = {"log": "a positive number", "sqrt": "a number >= 0"}.get(name, "a finite number")
        raise _fail(where, f"{_text(node)!r} is undefined: {name} takes {domain}, "
                           f"here it is given {argument:g}") from None
    return number(value, node, where)


def _text(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # pragma: no cover - unparse of a parsed node does not fail in practice
        return type(node).__name__
    return text if len(text) <= 80 else text[:77] + "..."


class Checker:
    """Checks a tree against the declared sets and symbols; `bound` are the index names in scope."""

    def __init__(self, sets: Mapping[str, Sequence[Any]], symbols: Mapping[str, Symbol], where: str) -> None:
        self.sets, self.symbols, self.where = sets, symbols, where

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        return _fail(self.where, f"{message} (in {_text(node)!r})")

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
            value = node.value
            return value if isinstance(value, int) and abs(value) < 2**53 else number(value, None, self.where)
        if isinstance(node, ast.Name):
            return self.lookup(node.id, ())
        if isinstance(node, ast.BinOp):
            left, right = self(node.left, env), self(node.right, env)
            return arithmetic(type(node.op), left, right, node, self.where)
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
        name = node.func.id
        return call_function(name, self.functions[name], self(node.args[0], env), node, self.where)

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
        try:
            return all(_CMP[type(op)](a, b) for op, a, b in zip(node.ops, values, values[1:], strict=False))
        except TypeError:  # i < 'a' over integer elements
            raise _fail(self.where, f"{_text(node)!r} compares values of different kinds "
                                    f"({', '.join(sorted({type(v).__name__ for v in values}))})") from None

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


def fold_constants(node: ast.expr, where: str) -> float | None:
    """The value of a checked tree made of numbers alone (None if it names a symbol or sums over a set);
    raises ExpressionError where a constant part is undefined or overflows: `log(0)`, `9**9**9`."""
    if isinstance(node, ast.Constant):
        value = node.value
        return float(value) if isinstance(value, int) and abs(value) < 2**53 else number(value, None, where)
    if isinstance(node, ast.BinOp):
        left, right = fold_constants(node.left, where), fold_constants(node.right, where)
        if left is None or right is None:
            if isinstance(node.op, ast.Pow) and right is not None and abs(right) > MAX_EXPONENT:
                raise _fail(where, f"the exponent in {_text(node)!r} is larger than {MAX_EXPONENT:g}")
            return None
        return arithmetic(type(node.op), left, right, node, where)
    if isinstance(node, ast.UnaryOp):
        value = fold_constants(node.operand, where)
        return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in NUMERIC_FUNCTIONS:
        value = fold_constants(node.args[0], where)
        name = node.func.id
        return None if value is None else call_function(name, NUMERIC_FUNCTIONS[name], value, node, where)
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.GeneratorExp):
        fold_constants(node.args[0].elt, where)  # the terms of a sum: their constant parts
    return None
