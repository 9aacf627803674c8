"""Reading PDDL text into unified-planning problems, fast: domains parsed once, errors located precisely.

    problem, dom, prob = parse_texts(domain_text, problem_text)   # or raise PDDLError

Most of the cost of UP's `PDDLReader.parse_problem_string` on small problems is building the pyparsing
grammar and running it over the domain; both are cached here. The grammar lives in one reader per
thread; a domain's parse result (a read-only pyparsing tree) is kept in an LRU cache keyed by the
domain text exactly as UP parses it, so a domain read once is reused by every later problem. The
`Problem` is still built afresh from the two trees on every call, so callers may modify it.

`kind_computed_once(problem)` memoizes `problem.kind` (which UP recomputes from scratch some five
times per plan validation) for the duration of a block in which the problem is not modified.
"""

from __future__ import annotations

import copy
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ratiocinator.errors import InvalidInput
from ratiocinator.solvers.pddl_compat import normalize, promote_to_constant

if TYPE_CHECKING:
    from unified_planning.model import Problem

#: How many parsed domains to keep (a parsed domain is a few hundred kB at most).
DOMAIN_CACHE_SIZE = 32


class PDDLError(InvalidInput):
    """Malformed or inconsistent PDDL (or a planner that cannot take it); says where and what was expected."""

    def __init__(self, message: str, *, source: str, line: int | None = None, column: int | None = None) -> None:
        where = source + (f", line {line}" if line else "") + (f", column {column}" if column else "")
        super().__init__(f"{where}: {message}")
        self.source, self.line, self.column = source, line, column
        self.bare = message

    def __reduce__(self) -> tuple[Any, ...]:  # raised in a forked child, re-raised in its parent
        return (_pddl_error, (self.bare, self.source, self.line, self.column))


def _pddl_error(message: str, source: str, line: int | None, column: int | None) -> PDDLError:
    return PDDLError(message, source=source, line=line, column=column)


def environment() -> Any:
    """UP's global environment, quiet and PDDL-tolerant (a private one breaks action costs in UP 1.3)."""
    from unified_planning.shortcuts import get_environment

    env = get_environment()
    env.credits_stream = None
    env.error_used_name = False  # PDDL lets an action and a predicate share a name (floortile: `up`)
    return env


_local = threading.local()
_domains: OrderedDict[str, Any] = OrderedDict()
_domains_lock = threading.Lock()


def _reader() -> Any:
    """This thread's PDDLReader (its grammar is costly to build; a reader is not safe across threads)."""
    from unified_planning.io import PDDLReader

    env = environment()
    reader = getattr(_local, "reader", None)
    if reader is None or reader._env is not env:
        reader = _local.reader = PDDLReader(env)
    return reader


def _parse_domain(reader: Any, lowered: str) -> Any:
    from unified_planning.io.pddl_reader import parse_string

    with _domains_lock:
        found = _domains.get(lowered)
        if found is not None:
            _domains.move_to_end(lowered)
            return found
    result = parse_string(reader._pp_domain, lowered, parse_all=True)
    with _domains_lock:
        _domains[lowered] = result
        while len(_domains) > DOMAIN_CACHE_SIZE:
            _domains.popitem(last=False)
    return result


def clear_domain_cache() -> None:
    """Forget every parsed domain (the next parse of each reads it again)."""
    with _domains_lock:
        _domains.clear()


def read_problem(domain: str, problem: str | None) -> Problem:
    """What `PDDLReader().parse_problem_string(domain, problem)` returns, with the domain's parse cached."""
    from unified_planning.io.pddl_reader import parse_string

    reader = _reader()
    dom = domain.replace("\t", " ").lower()  # exactly what UP's reader does to its input
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        domain_res = _parse_domain(reader, dom)
        prob, problem_res = None, None
        if problem is not None:
            prob = problem.replace("\t", " ").lower()
            problem_res = parse_string(reader._pp_problem, prob, parse_all=True)
        return reader._parse_problem(domain_res, dom, problem_res, prob)


_UNKNOWN = re.compile(r"Found invalid expression: (\S+?)\.? From line")
_LOC = re.compile(r"line:? (\d+), col:? (\d+)")


def _context(text: str, line: int | None, column: int | None) -> str:
    lines = text.splitlines()
    if not line or line > len(lines):
        return ""
    caret = " " * (max(column or 1, 1) - 1 + 4) + "^"
    return f"\n    {lines[line - 1]}\n{caret}"


def _hint(message: str) -> str:
    if message.startswith("Expected"):
        return ("; check that every '(' is closed and that keywords are spelled as in PDDL "
                "(:requirements, :predicates, :action, :parameters, :precondition, :effect, :objects, :init, :goal)")
    if "invalid expression" in message or "Undefined name" in message:
        return "; every name must be a predicate, object, constant or action parameter declared before use"
    if "arity" in message:
        return "; give each predicate exactly as many arguments as its declaration"
    return ""


def _undeclared(exc: KeyError, domain: str, problem: str) -> PDDLError:
    """UP's bare KeyError('widget') for a name nobody declared: which kind of name, where, and how to fix it."""
    name = str(exc.args[0]) if exc.args else "?"
    for source, text in (("problem", problem), ("domain", domain)):
        typed = re.search(rf"-\s*({re.escape(name)})(?=[\s()])", text, re.I)
        if typed:
            line = text[: typed.start(1)].count("\n") + 1
            column = typed.start(1) - (text.rfind("\n", 0, typed.start(1)) + 1) + 1
            return PDDLError(f"undeclared type {name}; declare it in the domain's (:types ...), or use one of the "
                             f"types it declares" + _context(text, line, column), source=source, line=line,
                             column=column)
    return PDDLError(f"undeclared name {name}; every type, predicate, object and constant must be declared "
                     "before use", source="problem")


def _located(exc: Exception, domain: str, problem: str) -> PDDLError:
    """Turn a UP / pyparsing parse error into a PDDLError that says which file, where and what is expected."""
    if isinstance(exc, KeyError):
        return _undeclared(exc, domain, problem)
    message = str(getattr(exc, "msg", None) or exc).strip()
    if hasattr(exc, "lineno") and hasattr(exc, "col") and not isinstance(exc, SyntaxError):
        line, column = int(exc.lineno), int(exc.col)
    else:
        found = _LOC.search(message)
        line, column = (int(found.group(1)), int(found.group(2))) if found else (None, None)
        message = re.sub(r"\s*(Error in expression |Error )?[Ff]rom line:.*$", "", message, flags=re.S)
    message = message.replace("\n", " ")
    try:
        read_problem(normalize(domain)[0], None)
        source, text = "problem", problem
    except Exception:
        source, text = "domain", domain
    return PDDLError(message + _hint(message) + _context(text, line, column), source=source, line=line,
                     column=column)


def _check_names(domain: str, problem: str) -> None:
    dom = re.search(r"\(\s*domain\s+([^\s()]+)", domain, re.I)
    ref = re.search(r"\(\s*:domain\s+([^\s()]+)", problem, re.I)
    if dom and ref and dom.group(1).lower() != ref.group(1).lower():
        line = problem[: ref.start()].count("\n") + 1
        raise PDDLError(f"the problem is for domain {ref.group(1)!r} but the domain is {dom.group(1)!r}; "
                        "pass the matching domain file", source="problem", line=line)


def parse_texts(dom: str, prob: str) -> tuple[Problem, str, str]:
    """The parsed problem and the texts it was parsed from (after the sound rewrites of pddl_compat)."""
    original = dom, prob
    _check_names(dom, prob)
    dom, _ = normalize(dom)
    for _attempt in range(50):
        try:
            return read_problem(dom, prob), dom, prob
        except Exception as exc:  # pyparsing, SyntaxError and UP definition errors alike
            unknown = _UNKNOWN.match(str(exc))
            promoted = promote_to_constant(dom, prob, unknown.group(1)) if unknown else None
            if promoted is None:
                raise _located(exc, *original) from None
            dom, prob, _ = promoted
    raise PDDLError("too many names used by the domain but declared only in the problem", source="domain")


@contextmanager
def kind_computed_once(problem: Problem) -> Iterator[Problem]:
    """Within the block `problem.kind` is computed once and copied on each access; don't modify the problem."""
    from unified_planning.model import Problem as UPProblem
    from unified_planning.model.problem_kind import ProblemKind

    original = type(problem)
    if original is not UPProblem:  # a subclass (HTN, contingent) or already memoized: leave it alone
        yield problem
        return
    kind = problem.kind

    class _Memoized(UPProblem):
        @property
        def kind(self) -> ProblemKind:
            return copy.deepcopy(kind)

    problem.__class__ = _Memoized
    try:
        yield problem
    finally:
        problem.__class__ = original
